//! `cargo bench --manifest-path benches/compare/Cargo.toml` (BENCH_QUICK=1 for a short run).
//!
//! Groups (every time is for the whole token set; divide by the element count, or read the
//! element throughput criterion prints):
//! - `verify/{crate,jsonwebtoken,livekit_api,reference}`: the same 16 accepted tokens.
//! - `reject/{accept,bad_signature,expired,unknown_key}`: the crate on one join token, accepted
//!   and rejected three ways.
//! - `middleware/{no_layer,auth,auth_refused,auth_cached}`: one request through `AuthLayer`
//!   around a do-nothing service (no network), and through that service alone.
//! - `cache/{hit,no_cache}`: `Verifier::verify_at` on a token the cache holds, and without one.
//! - `parts/...`: the reference loop's steps alone, for the profile in BENCHMARKS.md.
//! - `interleaved/...`: not criterion; the four verifiers timed in alternating bursts, median
//!   per implementation, written to `target/criterion/interleaved/summary.json`.
//! - `threads/{1,2}`: not criterion; a custom throughput run printed at the end and written to
//!   `target/criterion/threads/summary.json`.

use std::hint::black_box;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{Criterion, Throughput};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower_livekit_auth_bench::peers::Peers;
use tower_livekit_auth_bench::reference::RefClaims;
use tower_livekit_auth_bench::{interleaved, middleware, quick, threads, tokens};

fn bench_verify(c: &mut Criterion, peers: &Peers, set: &[String]) {
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(set.len() as u64));
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

fn bench_interleaved(peers: &Peers, set: &[String]) {
    let (rounds, burst) = if quick() {
        (40, Duration::from_millis(5))
    } else {
        (200, Duration::from_millis(10))
    };
    let results = interleaved::measure(peers, set, rounds, burst);
    let crate_ns = results[0].1;
    println!();
    for (name, median, _) in &results {
        println!(
            "interleaved/{name}: median {median:.0} ns/verify over {rounds} rounds (crate has {:.2}x its throughput)",
            median / crate_ns
        );
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion/interleaved");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let json = serde_json::json!({
        "rounds": rounds,
        "burst_seconds": burst.as_secs_f64(),
        "results": results.iter().map(|(n, m, s)| serde_json::json!({
            "name": n, "median_ns": m, "samples_ns": s
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
    let results = threads::measure(&peers.crate_verifier, set, &[1, 2], runs, duration);
    let one = results[0].1;
    println!();
    for (t, median, samples) in &results {
        println!(
            "threads/{t}: median {:.0} verifications/s ({:.2}x one thread); runs: {:?}",
            median,
            median / one,
            samples.iter().map(|s| *s as u64).collect::<Vec<_>>()
        );
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion/threads");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let json = serde_json::json!({
        "runs": runs,
        "run_seconds": duration.as_secs_f64(),
        "results": results.iter().map(|(t, m, s)| serde_json::json!({
            "threads": t, "median_per_s": m, "samples_per_s": s
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
    if wanted("interleaved") {
        bench_interleaved(&peers, &set);
    }
    if wanted("threads") {
        bench_threads(&peers, &set);
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
    bench_reject(&mut c, &peers);
    bench_middleware(&mut c, &peers);
    bench_parts(&mut c);
    c.final_summary();
}
