//! `cargo bench --manifest-path benches/compare/Cargo.toml` (BENCH_QUICK=1 for a short run).
//!
//! Groups (every time is for the whole token set; divide by the element count, or read the
//! element throughput criterion prints):
//! - `verify/{floor,crate,jsonwebtoken,livekit_api,reference}`: the same 16 accepted tokens
//!   (`floor`: the HMAC alone, the bound every verifier is reported against).
//! - `state/{none,memory_100k,redis_100k}`: the crate on the same tokens without a participant
//!   state, and with one of 100,000 other participants in memory and through Redis (a
//!   `redis-server` the bench starts on 127.0.0.1; it fails if there is none).
//! - `reject/{accept,bad_signature,expired,unknown_key}`: the crate on one join token, accepted
//!   and rejected three ways.
//! - `middleware/{no_layer,auth,auth_refused,auth_cached}`: one request through `AuthLayer`
//!   around a do-nothing service (no network), and through that service alone.
//! - `cache/{hit,no_cache}`: `Verifier::verify_at` on a token the cache holds, and without one.
//! - `parts/...`: the reference loop's steps alone, for the profile in BENCHMARKS.md.
//! - `interleaved/...`: not criterion; the floor, the four verifiers and the two state
//!   candidates timed in alternating bursts, median per candidate, written to
//!   `target/criterion/interleaved/summary.json`.
//! - `threads/{crate,crate_per_thread,reference}/{1,2}`: not criterion; a custom throughput run
//!   printed at the start and written to `target/criterion/threads/summary.json` (`crate`:
//!   clones of one verifier; `crate_per_thread`: one verifier per thread, nothing shared).

use std::hint::black_box;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{Criterion, Throughput};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower_livekit_auth_bench::peers::Peers;
use tower_livekit_auth_bench::reference::RefClaims;
use tower_livekit_auth_bench::state::States;
use tower_livekit_auth_bench::{interleaved, middleware, quick, threads, tokens, verify_with};

fn bench_verify(c: &mut Criterion, peers: &Peers, set: &[String]) {
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(set.len() as u64));
    g.bench_function("floor", |b| b.iter(|| black_box(peers.floor.run(set))));
    g.bench_function("crate", |b| {
        b.iter(|| {
            for t in set {
                black_box(peers.verify_crate(black_box(t)));
            }
        })
    });
    g.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            for t in set {
                black_box(peers.verify_jsonwebtoken(black_box(t)));
            }
        })
    });
    g.bench_function("livekit_api", |b| {
        b.iter(|| {
            for t in set {
                black_box(peers.verify_livekit(black_box(t)));
            }
        })
    });
    g.bench_function("reference", |b| {
        b.iter(|| {
            for t in set {
                black_box(peers.verify_reference(black_box(t)));
            }
        })
    });
    // The crate with an injected time instead of the system clock: how much the clock costs.
    g.bench_function("crate_verify_at", |b| {
        let now = tokens::now();
        b.iter(|| {
            for t in set {
                black_box(peers.crate_verifier.verify_at(black_box(t), now).ok());
            }
        })
    });
    g.finish();
}

/// The crate without a participant state and with each full store, on the same tokens.
fn bench_state(c: &mut Criterion, peers: &Peers, states: &States, set: &[String]) {
    let mut g = c.benchmark_group("state");
    g.throughput(Throughput::Elements(set.len() as u64));
    for (name, verifier) in [
        ("none", &peers.crate_verifier),
        ("memory_100k", &states.memory),
        ("redis_100k", &states.redis),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                for t in set {
                    black_box(verify_with(verifier, black_box(t)));
                }
            })
        });
    }
    g.finish();
}

fn bench_reject(c: &mut Criterion, peers: &Peers) {
    let v = &peers.crate_verifier;
    let now = tokens::now();
    let cases = [
        (
            "accept",
            tokens::sign(
                tokens::HEADER_GO,
                &tokens::join_payload(0, tokens::EXP),
                tokens::API_SECRET,
            ),
        ),
        ("bad_signature", tokens::bad_signature()),
        ("expired", tokens::expired()),
        ("unknown_key", tokens::unknown_key()),
    ];
    let mut g = c.benchmark_group("reject");
    g.throughput(Throughput::Elements(1));
    for (name, token) in &cases {
        g.bench_function(*name, |b| {
            b.iter(|| black_box(v.verify_at(black_box(token), now)))
        });
    }
    g.finish();
}

/// The middleware per request, and the cache hit path: one join token, over and over.
fn bench_middleware(c: &mut Criterion, peers: &Peers) {
    let token = tokens::sign(
        tokens::HEADER_GO,
        &tokens::join_payload(0, tokens::EXP),
        tokens::API_SECRET,
    );
    let valid = middleware::bearer(&token);
    let forged = middleware::bearer(&tokens::bad_signature());
    let now = tokens::now();
    let cached = peers.crate_verifier.clone().with_cache(1024, 1 << 20);

    let mut g = c.benchmark_group("middleware");
    g.throughput(Throughput::Elements(1));
    // The same request through the do-nothing service alone: the baseline to subtract.
    g.bench_function("no_layer", |b| {
        b.iter(|| {
            middleware::status(
                &mut middleware::Handler,
                middleware::request(black_box(&valid)),
            )
        })
    });
    let mut layered = middleware::layered(peers.crate_verifier.clone());
    g.bench_function("auth", |b| {
        b.iter(|| middleware::status(&mut layered, middleware::request(black_box(&valid))))
    });
    g.bench_function("auth_refused", |b| {
        b.iter(|| middleware::status(&mut layered, middleware::request(black_box(&forged))))
    });
    let mut layered_cached = middleware::layered(cached.clone());
    g.bench_function("auth_cached", |b| {
        b.iter(|| middleware::status(&mut layered_cached, middleware::request(black_box(&valid))))
    });
    g.finish();

    // The cache hit path alone: the verifier's own call, the token seen before.
    let mut g = c.benchmark_group("cache");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hit", |b| {
        b.iter(|| black_box(cached.verify_at(black_box(&token), now)))
    });
    g.bench_function("no_cache", |b| {
        b.iter(|| black_box(peers.crate_verifier.verify_at(black_box(&token), now)))
    });
    g.finish();
}

/// The reference loop's steps, one at a time, on the typical join token.
fn bench_parts(c: &mut Criterion) {
    let token = tokens::sign(
        tokens::HEADER_GO,
        &tokens::join_payload(0, tokens::EXP),
        tokens::API_SECRET,
    );
    let second = token.rfind('.').expect("dots");
    let first = token.find('.').expect("dots");
    let signing_input = &token.as_bytes()[..second];
    let payload_b64 = &token.as_bytes()[first + 1..second];
    let payload = URL_SAFE_NO_PAD.decode(payload_b64).expect("b64");
    let keyed = Hmac::<Sha256>::new_from_slice(tokens::API_SECRET.as_bytes()).expect("key");

    let mut g = c.benchmark_group("parts");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hmac_precomputed", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(signing_input));
            black_box(mac.finalize().into_bytes())
        })
    });
    g.bench_function("hmac_keyed_per_call", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(tokens::API_SECRET.as_bytes()))
                .expect("key");
            mac.update(black_box(signing_input));
            black_box(mac.finalize().into_bytes())
        })
    });
    // Finding the two dots: a byte-at-a-time scan (`iter().position`) against `memchr`.
    g.bench_function("split_bytewise", |b| {
        b.iter(|| {
            let t = black_box(token.as_bytes());
            let first = t.iter().position(|&c| c == b'.').expect("dot");
            let second = t[first + 1..].iter().position(|&c| c == b'.').expect("dot");
            black_box((first, second, t[first + second + 2..].contains(&b'.')))
        })
    });
    g.bench_function("split_memchr", |b| {
        b.iter(|| {
            let t = black_box(token.as_bytes());
            let first = memchr::memchr(b'.', t).expect("dot");
            let second = memchr::memchr(b'.', &t[first + 1..]).expect("dot");
            black_box((
                first,
                second,
                memchr::memchr(b'.', &t[first + second + 2..]).is_some(),
            ))
        })
    });
    g.bench_function("base64_payload", |b| {
        let mut buf = [0u8; 1024];
        b.iter(|| black_box(URL_SAFE_NO_PAD.decode_slice(black_box(payload_b64), &mut buf)))
    });
    // serde_json validating the payload without building anything: the least any parse costs.
    g.bench_function("json_ignored_any", |b| {
        b.iter(|| {
            black_box(serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&payload)).is_ok())
        })
    });
    g.bench_function("json_borrowed", |b| {
        b.iter(|| black_box(serde_json::from_slice::<RefClaims<'_>>(black_box(&payload)).is_ok()))
    });
    // The crate's owned `Claims` (parse, allocate, and drop: criterion's `iter` drops the output
    // inside the timed loop).
    g.bench_function("json_crate_claims", |b| {
        b.iter(|| {
            black_box(serde_json::from_slice::<tower_livekit_auth::Claims>(
                black_box(&payload),
            ))
        })
    });
    g.bench_function("system_clock", |b| {
        b.iter(|| black_box(std::time::SystemTime::now()))
    });
    g.finish();
}

fn bench_interleaved(peers: &Peers, states: Option<&States>, set: &[String]) {
    let (rounds, burst) = if quick() {
        (40, Duration::from_millis(5))
    } else {
        (200, Duration::from_millis(10))
    };
    let candidates = tower_livekit_auth_bench::candidates(peers, set, states);
    let results = interleaved::measure(&candidates, set.len(), rounds, burst);
    let by_name = |name: &str| results.iter().find(|r| r.name == name);
    let floor = by_name("floor").expect("the floor is a candidate");
    let krate = by_name("crate").expect("the crate is a candidate");
    println!();
    for r in &results {
        let (low, high) = r.range();
        println!(
            "interleaved/{}: median {:.0} ns/verify ({low:.0}-{high:.0}) over {rounds} rounds; \
             {:.2}x the floor's time, crate has {:.2}x its throughput (paired)",
            r.name,
            r.median_ns,
            interleaved::paired_ratio(r, floor),
            interleaved::paired_ratio(r, krate),
        );
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion/interleaved");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let quartiles = |v: &[f64]| [v[v.len() / 4], v[v.len() / 2], v[3 * v.len() / 4]];
    let json = serde_json::json!({
        "rounds": rounds,
        "burst_seconds": burst.as_secs_f64(),
        "results": results.iter().map(|r| serde_json::json!({
            "name": r.name,
            "median_ns": r.median_ns,
            "range_ns": r.range(),
            "samples_ns": r.samples_ns,
            "vs_floor": quartiles(&interleaved::paired_ratios(r, floor)),
            "vs_crate": quartiles(&interleaved::paired_ratios(r, krate)),
        })).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("summary.json"), json.to_string()).expect("write");
}

fn bench_threads(peers: &Peers, set: &[String]) {
    let (runs, duration) = if quick() {
        (3, Duration::from_millis(300))
    } else {
        (9, Duration::from_secs(1))
    };
    let make_crate = || -> threads::Verify {
        let verifier = peers.crate_verifier.clone();
        Box::new(move |t| verifier.verify(t).is_ok())
    };
    // A verifier of its own per thread, built in the thread from a copy of the keys: the
    // same code as `crate` with nothing shared (clones share the key ring).
    let make_own = || -> threads::Verify {
        let keys = peers.crate_verifier.key_ring().as_ref().clone();
        let verifier = tower_livekit_auth::Verifier::new(keys);
        Box::new(move |t| verifier.verify(t).is_ok())
    };
    let make_reference = || -> threads::Verify {
        let keys = tower_livekit_auth_bench::reference::RefKeys::new(&[
            (tokens::API_KEY, tokens::API_SECRET),
            (tokens::OTHER_KEY, tokens::OTHER_SECRET),
        ]);
        Box::new(move |t| tower_livekit_auth_bench::reference::verify(&keys, t).is_ok())
    };
    let results = threads::measure(
        &[
            ("crate", &make_crate),
            ("crate_per_thread", &make_own),
            ("reference", &make_reference),
        ],
        set,
        &[1, 2],
        runs,
        duration,
    );
    println!();
    for r in &results {
        let one = results
            .iter()
            .find(|o| o.name == r.name && o.threads == 1)
            .expect("one thread measured");
        println!(
            "threads/{}/{}: median {:.0} verifications/s ({:.2}x one thread); runs: {:?}",
            r.name,
            r.threads,
            r.median_per_s,
            r.median_per_s / one.median_per_s,
            r.samples_per_s
                .iter()
                .map(|s| *s as u64)
                .collect::<Vec<_>>()
        );
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion/threads");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let json = serde_json::json!({
        "runs": runs,
        "run_seconds": duration.as_secs_f64(),
        "results": results.iter().map(|r| serde_json::json!({
            "name": r.name, "threads": r.threads, "median_per_s": r.median_per_s,
            "samples_per_s": r.samples_per_s
        })).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("summary.json"), json.to_string()).expect("write");
}

fn main() {
    let peers = Peers::new();
    let set = tokens::accepted();
    tower_livekit_auth_bench::check_agreement(&peers, &set);
    println!(
        "token set: {} tokens, typical length {} bytes, lengths {:?}",
        set.len(),
        tokens::typical_len(&set),
        set.iter().map(String::len).collect::<Vec<_>>()
    );

    // The custom measurements run first, in a fresh process: after criterion's analysis the
    // same loops measured up to 40 % slower here (heap and cache state), for every
    // implementation alike. They run unless a filter names something else.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    // Threads first, with no participant state alive: the stores' background work (printed
    // below) shares the two cores.
    if wanted("threads") {
        bench_threads(&peers, &set);
    }
    // The full stores (100,000 entries each, one through a redis-server started here) take a
    // few seconds to fill: only when a measurement needs them, and dropped once those ran.
    let states = (wanted("interleaved") || wanted("state")).then(|| {
        let states = States::new(&peers.crate_verifier);
        tower_livekit_auth_bench::check_state_agreement(&peers, &states, &set);
        println!(
            "participant state: {} entries in memory, {} through Redis ({}); one full rescan \
             from Redis takes {:?} here",
            states.memory.participant_state().map_or(0, |s| s.len()),
            states.redis_state.len(),
            states.redis_url(),
            states.redis_resync(),
        );
        let (settled_in, settled) = states.settle(Duration::from_secs(40));
        println!(
            "participant state: the fill's backlog applied in {settled_in:?}{}; then, idle, \
             the stores' background work takes {:.1} % of a core (over 12 s, checks every 5 s)",
            if settled { "" } else { " (not finished)" },
            100.0 * states.idle_cpu(Duration::from_secs(12)),
        );
        states
    });
    if wanted("interleaved") {
        bench_interleaved(&peers, states.as_ref(), &set);
    }

    let mut c = if quick() {
        Criterion::default()
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .sample_size(20)
    } else {
        Criterion::default()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4))
            .sample_size(50)
    }
    .configure_from_args();

    bench_verify(&mut c, &peers, &set);
    if let Some(states) = &states {
        bench_state(&mut c, &peers, states, &set);
    }
    drop(states);
    bench_reject(&mut c, &peers);
    bench_middleware(&mut c, &peers);
    bench_parts(&mut c);
    c.final_summary();
}
