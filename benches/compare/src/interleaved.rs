//! Interleaved timing: the four verifiers in alternating short bursts.
//!
//! Criterion measures one benchmark after another, so on a shared machine a noisy minute can
//! land on one implementation only and skew a ratio. Here each round times every
//! implementation once on the whole token set (a burst of a few milliseconds each, in a
//! rotating order), and the result per implementation is the median over all rounds. A
//! disturbance then hits all four alike, and the ratios of the medians are what the targets
//! are checked against.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::peers::{Peers, NAMES};

/// Median nanoseconds per verification for each of [`NAMES`], and every round's samples.
pub fn measure(
    peers: &Peers,
    tokens: &[String],
    rounds: usize,
    burst: Duration,
) -> Vec<(&'static str, f64, Vec<f64>)> {
    // Calibrate: how many passes over the set fill `burst` for the slowest implementation.
    let start = Instant::now();
    let mut passes_probe = 0u32;
    while start.elapsed() < burst {
        run(peers, "livekit_api", tokens, 1);
        passes_probe += 1;
    }
    let passes = passes_probe.max(1);
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); NAMES.len()];
    for round in 0..rounds {
        for k in 0..NAMES.len() {
            let i = (round + k) % NAMES.len();
            let start = Instant::now();
            run(peers, NAMES[i], tokens, passes);
            let ns = start.elapsed().as_nanos() as f64 / (passes as usize * tokens.len()) as f64;
            samples[i].push(ns);
        }
    }
    NAMES
        .iter()
        .zip(samples)
        .map(|(name, mut s)| {
            let mut sorted = s.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            let median = sorted[sorted.len() / 2];
            s.shrink_to_fit();
            (*name, median, s)
        })
        .collect()
}

fn run(peers: &Peers, name: &str, tokens: &[String], passes: u32) {
    for _ in 0..passes {
        for t in tokens {
            match name {
                "crate" => drop(black_box(peers.verify_crate(black_box(t)))),
                "jsonwebtoken" => drop(black_box(peers.verify_jsonwebtoken(black_box(t)))),
                "livekit_api" => drop(black_box(peers.verify_livekit(black_box(t)))),
                _ => drop(black_box(peers.verify_reference(black_box(t)))),
            }
        }
    }
}
