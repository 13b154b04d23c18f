//! How fast an update or a revocation made through one replica holds on the others, with the
//! participant state in Redis (issue 12), and whether any is lost. It starts its own
//! `redis-server` on a free 127.0.0.1 port (no persistence) and stops it by PID.
//!
//! ```sh
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin propagation -- \
//!     [--updates 1000] [--revocations 1000] [--poll-us 0] \
//!     [--http --server target/release/lkauth]
//! ```
//!
//! - **library** (always): three `ParticipantState::redis` replicas in this process, default
//!   `RedisOptions` (resync every 5 s, reconnect backoff up to 2 s), each with its `Verifier`.
//!   Change `i` is written through replica `i % 3`; the clock starts when the write returns,
//!   and the two other replicas are polled from a thread outside the runtime
//!   (`Verifier::verify` of the participant's ORIGINAL token, which reads the local snapshot
//!   and nothing else) until the change shows: the update's metadata and camera grant, or
//!   `Revoked`. `--poll-us 0` spins (yielding the CPU between checks); `--poll-us N` sleeps
//!   N µs between rounds.
//! - **http** (`--http --server PATH`): the same through three `lkauth serve` processes
//!   (`--redis`): the write is the twirp `UpdateParticipant` / `RemoveParticipant` call on one
//!   replica, the clock starts when its response arrives, and the two others are polled with
//!   `GET /whoami` and the original token, one request after the other; a change counts as
//!   visible when the response that shows it arrives (an upper bound: one loopback round
//!   trip).
//!
//! Then, for both: every change is checked on every replica (the writer too) until all hold or
//! the staleness bound plus a margin passes (resync 5 s + backoff 2 s + 3 s); what still does
//! not hold is counted as lost. Exits 1 if any change was lost or not seen at all.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantState, ParticipantUpdate, RedisOptions, StateOptions,
};
use tower_livekit_auth::{
    AccessToken, KeyRing, TrackSource, Verifier, VerifyErrorKind, VideoGrant,
};
use tower_livekit_auth_bench::processes::{ms, quantile, DemoReplica, Persistence, RedisServer};

const KEY: &str = "APIpropagation";
const SECRET: &str = "propagationSecret0123456789abcdefghijklmnop";
const ROOM: &str = "propagation";
/// How long one change may take to show on one replica before it counts as not seen.
const SEEN_WITHIN: Duration = Duration::from_secs(10);
/// After the run: the staleness bound (resync 5 s + backoff 2 s) and a margin.
const CONVERGED_WITHIN: Duration = Duration::from_secs(10);

struct Args {
    updates: usize,
    revocations: usize,
    poll: Duration,
    http: bool,
    server: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        updates: 1000,
        revocations: 1000,
        poll: Duration::ZERO,
        http: false,
        server: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--updates" => args.updates = number("--updates")? as usize,
            "--revocations" => args.revocations = number("--revocations")? as usize,
            "--poll-us" => args.poll = Duration::from_micros(number("--poll-us")?),
            "--http" => args.http = true,
            "--server" => {
                args.server = Some(it.next().ok_or("--server needs a path")?.into());
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.http && args.server.is_none() {
        return Err(
            "--http needs --server PATH (the lkauth binary: cargo build --release -p lkauth)"
                .into(),
        );
    }
    Ok(args)
}

/// A join token for `identity`, issued a minute ago: every change made now applies to it.
fn token(identity: &str) -> String {
    AccessToken::new(KEY, SECRET)
        .with_identity(identity)
        .with_video_grant(VideoGrant::join(ROOM).with_can_publish(false))
        .to_jwt_at(SystemTime::now() - Duration::from_secs(60))
        .expect("mints")
}

fn metadata(i: usize) -> String {
    format!("m{i}")
}

/// What one measurement collected.
#[derive(Default)]
struct Series {
    /// How long each write took to return.
    writes: Vec<Duration>,
    /// Write returned → shown, per (change, other replica).
    each: Vec<Duration>,
    /// Write returned → shown on both other replicas, per change.
    all: Vec<Duration>,
    /// Write started → shown on both other replicas, per change.
    all_from_start: Vec<Duration>,
    /// (change, replica) pairs not shown within `SEEN_WITHIN`.
    unseen: usize,
    /// (change, replica) pairs shown by the first check after the write returned.
    first_check: usize,
}

impl Series {
    fn row(&self, change: &str, unit: &str) {
        let row = |what: &str, values: &[Duration]| {
            let mut sorted = values.to_vec();
            sorted.sort();
            println!(
                "| {change}: {what} | {} | {} | {} | {} | {} |",
                sorted.len(),
                ms(quantile(&sorted, 0.5)),
                ms(quantile(&sorted, 0.9)),
                ms(quantile(&sorted, 0.99)),
                ms(sorted.last().copied().unwrap_or_default()),
            );
        };
        row(&format!("the write returns ({unit})"), &self.writes);
        row("shown on one other replica", &self.each);
        row("shown on both other replicas", &self.all);
        row(
            "shown on both, from the write's start",
            &self.all_from_start,
        );
    }
}

fn header() {
    println!("| what | n | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
}

/// Polls `shown(replica)` for `others` until each holds or `SEEN_WITHIN` passes: the time from
/// `since` to each, in order of `others` (`None`: not shown), and how many showed it at the
/// first check.
fn wait_shown(
    others: &[usize],
    since: Instant,
    poll: Duration,
    mut shown: impl FnMut(usize) -> bool,
) -> (Vec<Option<Duration>>, usize) {
    let mut seen: Vec<Option<Duration>> = vec![None; others.len()];
    let mut first = true;
    let mut at_first = 0;
    loop {
        for (slot, &replica) in seen.iter_mut().zip(others) {
            if slot.is_none() && shown(replica) {
                *slot = Some(since.elapsed());
                at_first += usize::from(first);
            }
        }
        first = false;
        if seen.iter().all(Option::is_some) || since.elapsed() > SEEN_WITHIN {
            return (seen, at_first);
        }
        if poll.is_zero() {
            std::thread::yield_now();
        } else {
            std::thread::sleep(poll);
        }
    }
}

/// Adds one change: how long its write took, and when each other replica showed it (from the
/// write's return).
fn record(series: &mut Series, write: Duration, (seen, at_first): (Vec<Option<Duration>>, usize)) {
    series.writes.push(write);
    series.first_check += at_first;
    series.each.extend(seen.iter().flatten());
    series.unseen += seen.iter().filter(|s| s.is_none()).count();
    if let Some(all) = seen.iter().copied().collect::<Option<Vec<_>>>() {
        let last = all.into_iter().max().unwrap_or_default();
        series.all.push(last);
        series.all_from_start.push(write + last);
    }
}

fn others(writer: usize) -> [usize; 2] {
    [(writer + 1) % 3, (writer + 2) % 3]
}

/// The final check: `holds(replica, change)` for every replica and change, retried until all
/// hold or `CONVERGED_WITHIN` passes; the number that never held.
fn lost_after_convergence(changes: usize, mut holds: impl FnMut(usize, usize) -> bool) -> usize {
    let mut pending: Vec<(usize, usize)> = (0..3)
        .flat_map(|replica| (0..changes).map(move |change| (replica, change)))
        .collect();
    let deadline = Instant::now() + CONVERGED_WITHIN;
    loop {
        pending.retain(|&(replica, change)| !holds(replica, change));
        if pending.is_empty() || Instant::now() > deadline {
            return pending.len();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One replica in this process.
struct Replica {
    state: ParticipantState,
    verifier: Verifier,
}

fn camera(i: usize) -> ParticipantUpdate {
    ParticipantUpdate::new()
        .with_metadata(metadata(i))
        .with_permission(
            ParticipantPermission::new()
                .with_can_subscribe(true)
                .with_can_publish(true)
                .with_can_publish_sources([TrackSource::Camera]),
        )
}

fn library(rt: &tokio::runtime::Runtime, args: &Args) -> Result<bool, String> {
    let redis = RedisServer::start(Persistence::None).map_err(|e| e.to_string())?;
    let replicas: Vec<Replica> = rt.block_on(async {
        let mut replicas = Vec::new();
        for _ in 0..3 {
            let state = ParticipantState::redis(
                &redis.url(),
                StateOptions::new(),
                RedisOptions::new().with_prefix("propagation"),
            )
            .await
            .map_err(|e| e.to_string())?;
            let keys = KeyRing::new()
                .with_key(KEY, SECRET)
                .map_err(|e| e.to_string())?;
            let verifier = Verifier::new(keys).with_participant_state(state.clone());
            replicas.push(Replica { state, verifier });
        }
        Ok::<_, String>(replicas)
    })?;
    let updated: Vec<String> = (0..args.updates).map(|i| token(&format!("u{i}"))).collect();
    let revoked: Vec<String> = (0..args.revocations)
        .map(|i| token(&format!("r{i}")))
        .collect();
    let control = token("control");
    let shows_update = |replica: &Replica, i: usize| {
        replica.verifier.verify(&updated[i]).is_ok_and(|claims| {
            claims.metadata() == metadata(i) && claims.can_publish_source(TrackSource::Camera)
        })
    };
    let refuses = |replica: &Replica, i: usize| {
        replica.verifier.verify(&revoked[i]).err().map(|e| e.kind())
            == Some(VerifyErrorKind::Revoked)
    };

    let mut updates = Series::default();
    let mut own_view_missing = 0;
    for i in 0..args.updates {
        let writer = i % 3;
        let started = Instant::now();
        rt.block_on(
            replicas[writer]
                .state
                .update(ROOM, &format!("u{i}"), camera(i)),
        )
        .map_err(|e| format!("update {i}: {e}"))?;
        let returned = Instant::now();
        own_view_missing += usize::from(!shows_update(&replicas[writer], i));
        let seen = wait_shown(&others(writer), returned, args.poll, |r| {
            shows_update(&replicas[r], i)
        });
        record(&mut updates, returned - started, seen);
    }
    let mut revocations = Series::default();
    for i in 0..args.revocations {
        let writer = i % 3;
        let started = Instant::now();
        rt.block_on(replicas[writer].state.remove(ROOM, &format!("r{i}"), None))
            .map_err(|e| format!("revocation {i}: {e}"))?;
        let returned = Instant::now();
        own_view_missing += usize::from(!refuses(&replicas[writer], i));
        let seen = wait_shown(&others(writer), returned, args.poll, |r| {
            refuses(&replicas[r], i)
        });
        record(&mut revocations, returned - started, seen);
    }
    let lost_updates = lost_after_convergence(args.updates, |r, i| shows_update(&replicas[r], i));
    let lost_revocations =
        lost_after_convergence(args.revocations, |r, i| refuses(&replicas[r], i));
    let control_ok = replicas.iter().all(|replica| {
        replica.verifier.verify(&control).is_ok_and(|claims| {
            claims.metadata().is_empty() && !claims.can_publish_source(TrackSource::Camera)
        })
    });

    println!(
        "\n## library: 3 x ParticipantState::redis in one process, one redis-server ({}), default RedisOptions",
        redis.url()
    );
    println!(
        "change i written through replica i % 3; shown = Verifier::verify(original token) on the other replica's snapshot, polled {}\n",
        poll_text(args.poll)
    );
    header();
    updates.row("update", "state.update");
    revocations.row("revocation", "state.remove");
    let unseen = updates.unseen + revocations.unseen;
    let late = updates
        .each
        .iter()
        .chain(&revocations.each)
        .filter(|d| **d > Duration::from_millis(100))
        .count();
    println!();
    println!(
        "not shown within {SEEN_WITHIN:?}: {unseen}; shown after more than 100 ms (a resync rather than pub/sub): {late}"
    );
    println!(
        "shown at the first check after the write returned: {} of {}",
        updates.first_check + revocations.first_check,
        updates.each.len() + revocations.each.len()
    );
    println!("not in the writer's own snapshot when its write returned: {own_view_missing}");
    println!(
        "lost after convergence (checked on all 3 replicas, retried for up to {CONVERGED_WITHIN:?}): updates {lost_updates} of {}, revocations {lost_revocations} of {}",
        3 * args.updates,
        3 * args.revocations
    );
    println!("an untouched participant's token unchanged on every replica: {control_ok}");
    Ok(unseen == 0
        && own_view_missing == 0
        && lost_updates == 0
        && lost_revocations == 0
        && control_ok)
}

fn poll_text(poll: Duration) -> String {
    if poll.is_zero() {
        "by spinning (yielding the CPU between checks)".into()
    } else {
        format!("every {} µs", poll.as_micros())
    }
}

/// The demo replicas over HTTP.
struct Http {
    client: reqwest::Client,
    urls: Vec<String>,
    admin: String,
}

impl Http {
    async fn validate(&self, replica: usize, token: &str) -> Result<u16, String> {
        let response = self
            .client
            .get(format!("{}/rtc/validate", self.urls[replica]))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }

    /// `GET /whoami`: the status, and the metadata when it is 200.
    async fn whoami(&self, replica: usize, token: &str) -> Result<(u16, Option<String>), String> {
        let response = self
            .client
            .get(format!("{}/whoami", self.urls[replica]))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body: Option<Value> = if status == 200 {
            response.json().await.ok()
        } else {
            None
        };
        let metadata =
            body.and_then(|b| b.get("metadata").and_then(Value::as_str).map(str::to_owned));
        Ok((status, metadata))
    }

    async fn twirp(&self, replica: usize, method: &str, body: Value) -> Result<(), String> {
        let response = self
            .client
            .post(format!(
                "{}/twirp/livekit.RoomService/{method}",
                self.urls[replica]
            ))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "{method}: {status} {}",
                response.text().await.unwrap_or_default()
            ))
        }
    }

    async fn shows_update(&self, replica: usize, token: &str, i: usize) -> bool {
        matches!(self.whoami(replica, token).await, Ok((200, Some(m))) if m == metadata(i))
    }

    async fn refuses(&self, replica: usize, token: &str) -> bool {
        matches!(self.whoami(replica, token).await, Ok((401, _)))
    }
}

/// As [`wait_shown`], one request at a time.
async fn wait_shown_http<F, Fut>(
    others: &[usize],
    since: Instant,
    mut shown: F,
) -> (Vec<Option<Duration>>, usize)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut seen: Vec<Option<Duration>> = vec![None; others.len()];
    let mut first = true;
    let mut at_first = 0;
    loop {
        for (slot, &replica) in seen.iter_mut().zip(others) {
            if slot.is_none() && shown(replica).await {
                *slot = Some(since.elapsed());
                at_first += usize::from(first);
            }
        }
        first = false;
        if seen.iter().all(Option::is_some) || since.elapsed() > SEEN_WITHIN {
            return (seen, at_first);
        }
    }
}

async fn http(args: &Args) -> Result<bool, String> {
    let server = args.server.as_deref().ok_or("--server")?;
    let redis = RedisServer::start(Persistence::None).map_err(|e| e.to_string())?;
    let mut processes = Vec::new();
    for _ in 0..3 {
        processes.push(
            DemoReplica::start(server, KEY, SECRET, &redis.url()).map_err(|e| e.to_string())?,
        );
    }
    let admin = AccessToken::new(KEY, SECRET)
        .with_video_grant(VideoGrant::admin(ROOM))
        .to_jwt()
        .map_err(|e| e.to_string())?;
    let http = Http {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?,
        urls: processes.iter().map(|p| p.url.clone()).collect(),
        admin,
    };
    let updated: Vec<String> = (0..args.updates).map(|i| token(&format!("u{i}"))).collect();
    let revoked: Vec<String> = (0..args.revocations)
        .map(|i| token(&format!("r{i}")))
        .collect();
    // Everyone joins (on replica i % 3) first: the RoomService acts on participants in a room.
    for (i, token) in updated.iter().chain(&revoked).enumerate() {
        let status = http.validate(i % 3, token).await?;
        if status != 200 {
            return Err(format!("join {i}: GET /rtc/validate answered {status}"));
        }
    }

    let mut updates = Series::default();
    for (i, token) in updated.iter().enumerate() {
        let writer = i % 3;
        let body = json!({"room": ROOM, "identity": format!("u{i}"), "metadata": metadata(i),
            "permission": {"canSubscribe": true, "canPublish": true, "canPublishSources": ["CAMERA"]}});
        let started = Instant::now();
        http.twirp(writer, "UpdateParticipant", body).await?;
        let returned = Instant::now();
        let seen = wait_shown_http(&others(writer), returned, |r| {
            http.shows_update(r, token, i)
        })
        .await;
        record(&mut updates, returned - started, seen);
    }
    let mut revocations = Series::default();
    for (i, token) in revoked.iter().enumerate() {
        let writer = i % 3;
        let body = json!({"room": ROOM, "identity": format!("r{i}")});
        let started = Instant::now();
        http.twirp(writer, "RemoveParticipant", body).await?;
        let returned = Instant::now();
        let seen = wait_shown_http(&others(writer), returned, |r| http.refuses(r, token)).await;
        record(&mut revocations, returned - started, seen);
    }
    let mut pending: Vec<(bool, usize, usize)> = (0..3)
        .flat_map(|r| {
            let u = (0..args.updates).map(move |i| (true, r, i));
            let v = (0..args.revocations).map(move |i| (false, r, i));
            u.chain(v)
        })
        .collect();
    let deadline = Instant::now() + CONVERGED_WITHIN;
    loop {
        let mut still = Vec::new();
        for (update, r, i) in pending {
            let holds = if update {
                http.shows_update(r, &updated[i], i).await
            } else {
                http.refuses(r, &revoked[i]).await
            };
            if !holds {
                still.push((update, r, i));
            }
        }
        pending = still;
        if pending.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let lost_updates = pending.iter().filter(|p| p.0).count();
    let lost_revocations = pending.len() - lost_updates;

    println!(
        "\n## http: 3 lkauth serve processes ({}) with --redis {}",
        server.display(),
        redis.url()
    );
    println!(
        "change i made with a twirp call to replica i % 3; shown = GET /whoami with the original token on the other replica (200 with the metadata, or 401), one request after another\n"
    );
    header();
    updates.row("update", "twirp UpdateParticipant");
    revocations.row("revocation", "twirp RemoveParticipant");
    let unseen = updates.unseen + revocations.unseen;
    println!();
    println!("not shown within {SEEN_WITHIN:?}: {unseen}");
    println!(
        "shown by the first request after the write returned: {} of {}",
        updates.first_check + revocations.first_check,
        updates.each.len() + revocations.each.len()
    );
    println!(
        "lost after convergence (all 3 replicas, retried for up to {CONVERGED_WITHIN:?}): updates {lost_updates} of {}, revocations {lost_revocations} of {}",
        3 * args.updates,
        3 * args.revocations
    );
    drop(processes);
    Ok(unseen == 0 && lost_updates == 0 && lost_revocations == 0)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: propagation [--updates 1000] [--revocations 1000] [--poll-us 0] [--http --server PATH]"
            );
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(1);
        }
    };
    println!(
        "# propagation: {} updates and {} revocations across 3 replicas (nproc {})",
        args.updates,
        args.revocations,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut ok = match library(&rt, &args) {
        Ok(ok) => ok,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    if args.http {
        match rt.block_on(http(&args)) {
            Ok(passed) => ok &= passed,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(1);
            }
        }
    }
    println!("\n{}", if ok { "PASS: nothing lost" } else { "FAIL" });
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
