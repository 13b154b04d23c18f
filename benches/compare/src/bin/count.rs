//! Driver for instruction counts under callgrind: `count <case> [rounds]`.
//!
//! Cases: `floor`, `crate`, `jsonwebtoken`, `livekit_api`, `reference` (the accepted token
//! set), `state_memory_100k` and `state_redis_100k` (the crate with a participant state of
//! 100,000 other participants, in memory or through a `redis-server` started here, whose
//! background resync is set to an hour so that it cannot run inside the count), and
//! `reject_accept`, `reject_bad_signature`, `reject_expired`, `reject_unknown_key` (the crate on
//! one join token), and `layer_none`, `layer_accept`, `layer_refuse` (one request with that join
//! token, or a forged one, through `AuthLayer` around a do-nothing service, or through the
//! service alone). Set-up and one warm-up round run outside `measured`; run.sh counts only
//! inside it (`--toggle-collect=*measured*`) and divides by the number of verifications printed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use std::convert::Infallible;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode};
use tower_livekit_auth::state::RedisOptions;
use tower_livekit_auth_bench::peers::Peers;
use tower_livekit_auth_bench::{middleware, state, tokens, verify_with};
use tower_service::Service;

/// Counts heap allocations, so the driver can also report allocations per verification.
struct Counting;
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `work` (one round: 16 verifications or requests) once to warm up, then `rounds` times
/// inside [`measured`], and prints the counts `run.sh` reads.
fn count(case: &str, rounds: usize, mut work: impl FnMut() -> usize) {
    // Warm-up: one-time initialisation (livekit-api's provider `Once`, lazy statics) is not
    // part of a verification.
    let warm = black_box(work());
    let before = ALLOCATIONS.load(Relaxed);
    let accepted = measured(&mut work, rounds);
    let allocations = ALLOCATIONS.load(Relaxed) - before;
    let n = rounds * ROUND;
    println!(
        "case={case} verifications={n} accepted={accepted} warm={warm} allocs_per_verify={:.2}",
        allocations as f64 / n as f64
    );
}

/// Verifications or requests per round.
const ROUND: usize = 16;

/// The only function run.sh counts in (`--toggle-collect=*measured*`).
#[inline(never)]
fn measured(work: &mut impl FnMut() -> usize, rounds: usize) -> usize {
    (0..rounds).map(|_| work()).sum()
}

/// One request through `service`: 1 if it answered 200.
fn request<S>(service: &mut S, bearer: &HeaderValue) -> usize
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    let status = middleware::status(service, middleware::request(black_box(bearer)));
    usize::from(status == StatusCode::OK)
}

/// A join token like those of the set.
fn join_token() -> String {
    tokens::sign(
        tokens::HEADER_GO,
        &tokens::join_payload(0, tokens::EXP),
        tokens::API_SECRET,
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "crate".into());
    let rounds: usize = args.next().map_or(10, |r| r.parse().expect("rounds"));
    let peers = Peers::new();
    // The layer cases: one request with a join token (or a forged one) through `AuthLayer`
    // around a do-nothing service, or through that service alone.
    if let Some(layer) = case.strip_prefix("layer_") {
        let bearer = middleware::bearer(&match layer {
            "refuse" => tokens::bad_signature(),
            "accept" | "none" => join_token(),
            other => panic!("unknown case layer_{other}"),
        });
        if layer == "none" {
            let mut handler = middleware::Handler;
            return count(&case, rounds, || {
                (0..ROUND).map(|_| request(&mut handler, &bearer)).sum()
            });
        }
        let mut layered = middleware::layered(peers.crate_verifier.clone());
        return count(&case, rounds, || {
            (0..ROUND).map(|_| request(&mut layered, &bearer)).sum()
        });
    }
    if let Some(store) = case.strip_prefix("state_") {
        let set = tokens::accepted();
        let runtime = state::runtime();
        let (verifier, _server) = match store {
            "memory_100k" => (state::memory_state(&runtime, state::ENTRIES), None),
            "redis_100k" => {
                let server = state::start_redis();
                let options = RedisOptions::new().with_resync_interval(Duration::from_secs(3600));
                let store = state::redis_state(&runtime, &server.url(), state::ENTRIES, options);
                (store, Some(server))
            }
            other => panic!("unknown case state_{other}"),
        };
        let verifier = peers
            .crate_verifier
            .clone()
            .with_participant_state(verifier);
        return count(&case, rounds, || {
            set.iter()
                .filter(|t| black_box(verify_with(&verifier, t)).is_some())
                .count()
        });
    }
    // The parts of a verification alone, on the set's decoded payloads: serde_json validating
    // without building (`IgnoredAny`), and parsing into the crate's `Claims`.
    if let Some(part) = case.strip_prefix("part_") {
        let payloads: Vec<String> = tokens::accepted()
            .iter()
            .map(|t| tokens::payload_json(t))
            .collect();
        return match part {
            "json_ignored_any" => count(&case, rounds, || {
                payloads
                    .iter()
                    .filter(|p| serde_json::from_str::<serde::de::IgnoredAny>(black_box(p)).is_ok())
                    .count()
            }),
            "json_claims" => count(&case, rounds, || {
                payloads
                    .iter()
                    .filter(|p| {
                        black_box(serde_json::from_str::<tower_livekit_auth::Claims>(
                            black_box(p),
                        ))
                        .is_ok()
                    })
                    .count()
            }),
            other => panic!("unknown case part_{other}"),
        };
    }
    // The reject cases repeat one token so every case does 16 verifications a round.
    let set = match case.as_str() {
        "reject_accept" => vec![join_token(); ROUND],
        "reject_bad_signature" => vec![tokens::bad_signature(); ROUND],
        "reject_expired" => vec![tokens::expired(); ROUND],
        "reject_unknown_key" => vec![tokens::unknown_key(); ROUND],
        "floor" | "crate" | "jsonwebtoken" | "livekit_api" | "reference" => tokens::accepted(),
        other => panic!("unknown case {other}"),
    };
    assert_eq!(set.len(), ROUND);
    if case == "floor" {
        return count(&case, rounds, || peers.floor.run(&set));
    }
    let verify = |t: &String| match case.as_str() {
        "crate" => black_box(peers.verify_crate(t)).is_some(),
        "jsonwebtoken" => black_box(peers.verify_jsonwebtoken(t)).is_some(),
        "livekit_api" => black_box(peers.verify_livekit(t)).is_some(),
        "reference" => black_box(peers.verify_reference(t)).is_some(),
        _ => black_box(peers.crate_verifier.verify_at(t, tokens::now())).is_ok(),
    };
    count(&case, rounds, || set.iter().filter(|t| verify(t)).count());
}
