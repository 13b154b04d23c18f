//! Side-by-side LiveKit token verification benchmarks (not published).
//!
//! - [`tokens`]: the shared token set (fixed times, one API key) and the rejection tokens.
//! - [`peers`]: the verifiers compared, each set up once outside the measured loop exactly as a
//!   server would hold it: this crate's `Verifier`, `jsonwebtoken::decode`, `livekit-api`'s
//!   `TokenVerifier`, and the bare [`reference`] loop.
//! - [`interleaved`]: the four verifiers timed in alternating bursts (robust ratios).
//! - [`threads`]: the custom 1-vs-2-thread throughput measurement.

pub mod interleaved;
pub mod peers;
pub mod reference;
pub mod threads;
pub mod tokens;

/// Quick mode (`BENCH_QUICK=1`): shorter measurements, for `run.sh --quick` and CI smoke runs.
pub fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}
