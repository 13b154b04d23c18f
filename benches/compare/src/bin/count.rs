//! Driver for instruction counts under callgrind: `count <case> [rounds]`.
//!
//! Cases: `crate`, `jsonwebtoken`, `livekit_api`, `reference` (the accepted token set), and
//! `reject_accept`, `reject_bad_signature`, `reject_expired`, `reject_unknown_key` (the crate on
//! one join token), and `layer_none`, `layer_accept`, `layer_refuse` (one request with that join
//! token, or a forged one, through `AuthLayer` around a do-nothing service, or through the
//! service alone). Set-up and one warm-up round run outside `measured`; run.sh counts only
//! inside it (`--toggle-collect=*measured*`) and divides by the number of verifications printed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use std::convert::Infallible;

use http::{HeaderValue, Request, Response, StatusCode};
use tower_livekit_auth_bench::peers::Peers;
use tower_livekit_auth_bench::{middleware, tokens};
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

#[inline(never)]
fn measured(peers: &Peers, case: &str, set: &[String], rounds: usize) -> usize {
    let mut accepted = 0;
    for _ in 0..rounds {
        for t in set {
            accepted += usize::from(match case {
                "crate" => black_box(peers.verify_crate(t)).is_some(),
                "jsonwebtoken" => black_box(peers.verify_jsonwebtoken(t)).is_some(),
                "livekit_api" => black_box(peers.verify_livekit(t)).is_some(),
                "reference" => black_box(peers.verify_reference(t)).is_some(),
                _ => black_box(peers.crate_verifier.verify_at(t, tokens::now())).is_ok(),
            });
        }
    }
    accepted
}

/// Requests through `service`, `rounds` times over `bearers`; the number answered 200.
#[inline(never)]
fn measured_requests<S>(service: &mut S, bearers: &[HeaderValue], rounds: usize) -> usize
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    let mut ok = 0;
    for _ in 0..rounds {
        for bearer in bearers {
            let status = middleware::status(service, middleware::request(black_box(bearer)));
            ok += usize::from(status == StatusCode::OK);
        }
    }
    ok
}

/// The `layer_*` cases: 16 requests a round, like the others.
fn count_requests(peers: &Peers, case: &str, rounds: usize) {
    let token = match case {
        "layer_refuse" => tokens::bad_signature(),
        _ => tokens::sign(
            tokens::HEADER_GO,
            &tokens::join_payload(0, tokens::EXP),
            tokens::API_SECRET,
        ),
    };
    let bearers = vec![middleware::bearer(&token); 16];
    match case {
        "layer_none" => count_through(&mut middleware::Handler, case, &bearers, rounds),
        _ => count_through(
            &mut middleware::layered(peers.crate_verifier.clone()),
            case,
            &bearers,
            rounds,
        ),
    }
}

fn count_through<S>(service: &mut S, case: &str, bearers: &[HeaderValue], rounds: usize)
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    let warm = black_box(warm_up_requests(service, bearers));
    let before = ALLOCATIONS.load(Relaxed);
    let ok = measured_requests(service, bearers, rounds);
    let allocations = ALLOCATIONS.load(Relaxed) - before;
    let n = rounds * bearers.len();
    println!(
        "case={case} verifications={n} accepted={ok} warm={warm} allocs_per_verify={:.2}",
        allocations as f64 / n as f64
    );
}

#[inline(never)]
fn warm_up_requests<S>(service: &mut S, bearers: &[HeaderValue]) -> usize
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    bearers
        .iter()
        .filter(|b| middleware::status(service, middleware::request(b)) == StatusCode::OK)
        .count()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "crate".into());
    let rounds: usize = args.next().map_or(10, |r| r.parse().expect("rounds"));
    let peers = Peers::new();
    if case.starts_with("layer_") {
        return count_requests(&peers, &case, rounds);
    }
    // The reject cases repeat one token 16 times so every case does 16 verifications a round.
    let set = match case.as_str() {
        "reject_accept" => vec![
            tokens::sign(
                tokens::HEADER_GO,
                &tokens::join_payload(0, tokens::EXP),
                tokens::API_SECRET,
            );
            16
        ],
        "reject_bad_signature" => vec![tokens::bad_signature(); 16],
        "reject_expired" => vec![tokens::expired(); 16],
        "reject_unknown_key" => vec![tokens::unknown_key(); 16],
        "crate" | "jsonwebtoken" | "livekit_api" | "reference" => tokens::accepted(),
        other => panic!("unknown case {other}"),
    };
    // Warm-up: one-time initialisation (livekit-api's provider `Once`, lazy statics) is not
    // part of a verification.
    let warm = black_box(warm_up_round(&peers, &case, &set));
    let before = ALLOCATIONS.load(Relaxed);
    let accepted = measured(&peers, &case, &set, rounds);
    let allocations = ALLOCATIONS.load(Relaxed) - before;
    let n = rounds * set.len();
    println!(
        "case={case} verifications={n} accepted={accepted} warm={warm} allocs_per_verify={:.2}",
        allocations as f64 / n as f64
    );
}

#[inline(never)]
fn warm_up_round(peers: &Peers, case: &str, set: &[String]) -> usize {
    // Same work as `measured`, under a name the toggle does not match.
    let mut n = 0;
    for t in set {
        n += usize::from(match case {
            "crate" => peers.verify_crate(t).is_some(),
            "jsonwebtoken" => peers.verify_jsonwebtoken(t).is_some(),
            "livekit_api" => peers.verify_livekit(t).is_some(),
            "reference" => peers.verify_reference(t).is_some(),
            _ => peers.crate_verifier.verify_at(t, tokens::now()).is_ok(),
        });
    }
    n
}
