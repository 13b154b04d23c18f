//! Interleaved timing: the candidates in alternating short bursts.
//!
//! Criterion measures one benchmark after another, so on a shared machine a noisy minute can
//! land on one implementation only and skew a ratio. Here each round times every candidate
//! once on the whole token set (a burst of a few milliseconds each, in a rotating order), and
//! the result per candidate is the median over all rounds. A disturbance then hits all of them
//! alike, and the ratios of the medians are what the targets are checked against.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One candidate: a name, and one pass over the token set (returning how many it accepted).
pub struct Candidate<'a> {
    /// The name in the tables (`floor`, `crate`, `crate_memory_100k`, ...).
    pub name: &'static str,
    /// One pass over the set.
    pub pass: Box<dyn Fn() -> usize + 'a>,
}

impl<'a> Candidate<'a> {
    /// A candidate called `name` whose pass is `pass`.
    pub fn new(name: &'static str, pass: impl Fn() -> usize + 'a) -> Self {
        Candidate {
            name,
            pass: Box::new(pass),
        }
    }
}

/// One candidate's result: the median and every round's sample, in ns per verification.
#[derive(Clone, Debug)]
pub struct Timing {
    /// The candidate's name.
    pub name: &'static str,
    /// Median over the rounds.
    pub median_ns: f64,
    /// Every round's figure, in round order.
    pub samples_ns: Vec<f64>,
}

impl Timing {
    /// The lowest and highest round.
    pub fn range(&self) -> (f64, f64) {
        let min = self
            .samples_ns
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let max = self.samples_ns.iter().copied().fold(0.0, f64::max);
        (min, max)
    }
}

/// Median nanoseconds per verification of each candidate, over `rounds` rounds of bursts of
/// about `burst` for the slowest one; `per_pass` verifications per pass.
pub fn measure(
    candidates: &[Candidate<'_>],
    per_pass: usize,
    rounds: usize,
    burst: Duration,
) -> Vec<Timing> {
    // Calibrate: how many passes fill `burst` for the slowest candidate (one warm pass each).
    let slowest = candidates
        .iter()
        .map(|c| {
            black_box((c.pass)());
            let start = Instant::now();
            black_box((c.pass)());
            start.elapsed()
        })
        .max()
        .unwrap_or(burst);
    let passes = (burst.as_secs_f64() / slowest.as_secs_f64().max(1e-9)).ceil() as usize;
    let passes = passes.max(1);
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); candidates.len()];
    for round in 0..rounds {
        for k in 0..candidates.len() {
            let i = (round + k) % candidates.len();
            let start = Instant::now();
            for _ in 0..passes {
                black_box((candidates[i].pass)());
            }
            let ns = start.elapsed().as_nanos() as f64 / (passes * per_pass) as f64;
            samples[i].push(ns);
        }
    }
    candidates
        .iter()
        .zip(samples)
        .map(|(candidate, samples_ns)| {
            let mut sorted = samples_ns.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            Timing {
                name: candidate.name,
                median_ns: sorted[sorted.len() / 2],
                samples_ns,
            }
        })
        .collect()
}

/// The median over the rounds of `a`'s time divided by `b`'s in the same round: the ratio
/// least sensitive to drift (both measured within milliseconds of each other).
pub fn paired_ratio(a: &Timing, b: &Timing) -> f64 {
    let ratios = paired_ratios(a, b);
    ratios[ratios.len() / 2]
}

/// Every round's ratio of `a`'s time to `b`'s, sorted (for the quartiles).
pub fn paired_ratios(a: &Timing, b: &Timing) -> Vec<f64> {
    let mut ratios: Vec<f64> = a
        .samples_ns
        .iter()
        .zip(&b.samples_ns)
        .map(|(x, y)| x / y)
        .collect();
    ratios.sort_by(|x, y| x.total_cmp(y));
    ratios
}
