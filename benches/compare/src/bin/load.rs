//! Load and rotation soak of the app of `lkauth serve` (the `lkauth` crate's library half), in
//! one process over real HTTP on 127.0.0.1.
//!
//! ```sh
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin load -- --seconds 60 --clients 16
//! ```
//!
//! Phase 1: a mix of valid, expired and forged tokens on `GET /whoami` for `--seconds`: every
//! valid request must get 200, every bad one 401, nothing else. Phase 2: the same while the key
//! ring is rotated every 100 ms (key k(i) retired, k(i+2) added), plus tokens of retired keys:
//! no valid request refused, no retired-key token accepted after its key was removed. The
//! resident memory of the process (server and clients) is sampled every second.
//!
//! Keys: ring(i) = {k(i), k(i+1)}. A client that reads step s sends k(s+1), which is in ring(s)
//! and ring(s+1): it must pass unless two rotations happened while the request was in flight
//! (counted apart, as "raced"). k(s-1) left the ring before step s was published: it must fail.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tower_livekit_auth::{AccessToken, KeyRing, Verifier, VideoGrant};

fn secret(i: u64) -> String {
    format!("loadSecret{i:033}")
}

fn ring(i: u64) -> Result<KeyRing, tower_livekit_auth::KeyError> {
    KeyRing::new()
        .with_key(&format!("k{i}"), &secret(i))?
        .with_key(&format!("k{}", i + 1), &secret(i + 1))
}

fn mint(key: u64, at: SystemTime) -> String {
    AccessToken::new(format!("k{key}"), secret(key))
        .with_identity("load-user")
        .with_video_grant(VideoGrant::join("load-room"))
        .with_metadata(r#"{"load":true}"#)
        .to_jwt_at(at)
        .unwrap_or_default()
}

#[derive(Default)]
struct Counts {
    valid_ok: AtomicU64,
    valid_refused: AtomicU64,
    valid_raced: AtomicU64,
    bad_refused: AtomicU64,
    bad_accepted: AtomicU64,
    retired_refused: AtomicU64,
    retired_accepted: AtomicU64,
    other_status: AtomicU64,
    errors: AtomicU64,
}

impl Counts {
    fn report(&self, name: &str, seconds: f64) -> bool {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let total = get(&self.valid_ok)
            + get(&self.valid_refused)
            + get(&self.valid_raced)
            + get(&self.bad_refused)
            + get(&self.bad_accepted)
            + get(&self.retired_refused)
            + get(&self.retired_accepted)
            + get(&self.other_status);
        println!(
            "{name}: {total} requests in {seconds:.0} s ({:.0}/s)",
            total as f64 / seconds
        );
        println!(
            "  valid:   {} 200, {} refused, {} raced two rotations",
            get(&self.valid_ok),
            get(&self.valid_refused),
            get(&self.valid_raced)
        );
        println!(
            "  bad:     {} 401, {} accepted",
            get(&self.bad_refused),
            get(&self.bad_accepted)
        );
        println!(
            "  retired: {} 401, {} accepted",
            get(&self.retired_refused),
            get(&self.retired_accepted)
        );
        println!(
            "  other statuses: {}, transport errors: {}",
            get(&self.other_status),
            get(&self.errors)
        );
        get(&self.valid_refused) == 0
            && get(&self.bad_accepted) == 0
            && get(&self.retired_accepted) == 0
            && get(&self.other_status) == 0
            && get(&self.errors) == 0
            && get(&self.valid_ok) > 0
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn phase(
    base: &str,
    verifier: &Verifier,
    clients: usize,
    seconds: u64,
    rotate: bool,
) -> bool {
    let step = Arc::new(AtomicU64::new(0));
    verifier.rotate(ring(0).unwrap_or_default());
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (step, counts, stop, base) =
            (step.clone(), counts.clone(), stop.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = c as u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let s = step.load(Ordering::SeqCst);
                let now = SystemTime::now();
                // 70 % valid, 10 % expired, 10 % forged, 10 % retired key (phase 2 only).
                let (token, class) = match n % 10 {
                    0 => (mint(s + 1, now - Duration::from_secs(7 * 3600)), 'x'),
                    1 => {
                        let t = mint(s + 1, now);
                        (
                            format!(
                                "{}{}",
                                &t[..t.len() - 1],
                                if t.ends_with('A') { 'B' } else { 'A' }
                            ),
                            'x',
                        )
                    }
                    2 if rotate && s >= 1 => (mint(s - 1, now), 'r'),
                    _ => (mint(s + 1, now), 'v'),
                };
                let status = match http
                    .get(format!("{base}/whoami"))
                    .bearer_auth(&token)
                    .send()
                    .await
                {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
                let after = step.load(Ordering::SeqCst);
                let counter = match (class, status) {
                    ('v', 200) => &counts.valid_ok,
                    ('v', 401) if after > s + 1 => &counts.valid_raced,
                    ('v', 401) => &counts.valid_refused,
                    ('x', 401) => &counts.bad_refused,
                    ('x', 200) => &counts.bad_accepted,
                    ('r', 401) => &counts.retired_refused,
                    ('r', 200) => &counts.retired_accepted,
                    _ => &counts.other_status,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut rss = Vec::new();
    let mut next_sample = Instant::now();
    while start.elapsed() < Duration::from_secs(seconds) {
        if rotate {
            let s = step.load(Ordering::SeqCst) + 1;
            verifier.rotate(ring(s).unwrap_or_default());
            step.store(s, Ordering::SeqCst);
        }
        if Instant::now() >= next_sample {
            rss.push(rss_kib());
            next_sample += Duration::from_secs(1);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let name = if rotate {
        "phase 2 (rotation every 100 ms)"
    } else {
        "phase 1 (mixed tokens)"
    };
    let ok = counts.report(name, start.elapsed().as_secs_f64());
    if rotate {
        println!("  rotations: {}", step.load(Ordering::SeqCst));
    }
    let (first, peak) = (
        rss.first().copied().unwrap_or(0),
        rss.iter().copied().max().unwrap_or(0),
    );
    let tail = &rss[rss.len() / 2..];
    println!(
        "  RSS KiB: first {first}, peak {peak}, last {}, second half min {} max {}",
        rss.last().copied().unwrap_or(0),
        tail.iter().min().copied().unwrap_or(0),
        tail.iter().max().copied().unwrap_or(0)
    );
    ok
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let mut seconds = 60;
    let mut clients = 16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (arg.as_str(), value) {
            ("--seconds", Some(v)) => seconds = v,
            ("--clients", Some(v)) => clients = v as usize,
            _ => {
                eprintln!("usage: load [--seconds 60] [--clients 16]");
                return ExitCode::from(2);
            }
        }
    }
    let verifier = Verifier::new(ring(0).unwrap_or_default());
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(1);
        }
    };
    let base = format!(
        "http://{}",
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    );
    let state = lkauth::serve::AppState::new(verifier.clone(), base.replace("http", "ws"));
    let Ok(router) = lkauth::serve::router(state) else {
        eprintln!("error: empty key ring");
        return ExitCode::from(1);
    };
    tokio::spawn(async move { axum::serve(listener, router).await });
    let ok1 = phase(&base, &verifier, clients, seconds, false).await;
    let ok2 = phase(&base, &verifier, clients, seconds, true).await;
    if ok1 && ok2 {
        println!("PASS: every valid request 200, every bad one 401, nothing else");
        ExitCode::SUCCESS
    } else {
        println!("FAIL");
        ExitCode::from(1)
    }
}
