//! Throughput of `Verifier::verify` (and of the reference loop, the machine's control) on 1
//! and 2 threads.
//!
//! Criterion measures latency on one thread; scaling needs its own loop. Each run spawns the
//! threads with `std::thread::scope`, lets them all start together (a barrier), and each thread
//! verifies the token set round after round until a fixed deadline, the crate's threads each
//! with a clone of one `Verifier` (clones share the key ring, as the middleware's clones do).
//! The result of a run is the total verifications per second; the reported figure is the
//! median of several runs, every candidate's runs for 1 and 2 threads interleaved so that a
//! noisy neighbour hits them all alike. The reference loop shares nothing at all, so its own
//! ratio is what the machine allows at that moment.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// A verifier for one thread: true if the token verified.
pub type Verify = Box<dyn Fn(&str) -> bool>;

/// Makes a thread's verifier (a clone of a shared one, say).
pub type MakeVerify<'a> = &'a (dyn Fn() -> Verify + Sync);

/// One candidate's result for one thread count.
#[derive(Clone, Debug)]
pub struct Throughput {
    /// The candidate.
    pub name: &'static str,
    /// Threads.
    pub threads: usize,
    /// Median verifications per second over the runs.
    pub median_per_s: f64,
    /// Every run's figure, sorted.
    pub samples_per_s: Vec<f64>,
}

/// One run: `threads` threads for `duration`, each verifying with a verifier `make` built for
/// it; verifications per second over all threads.
pub fn run_once(
    make: MakeVerify<'_>,
    tokens: &[String],
    threads: usize,
    duration: Duration,
) -> f64 {
    let barrier = Barrier::new(threads + 1);
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    let verify = make();
                    barrier.wait();
                    let start = Instant::now();
                    let mut n = 0u64;
                    loop {
                        for token in tokens {
                            assert!(verify(black_box(token)));
                        }
                        n += tokens.len() as u64;
                        if start.elapsed() >= duration {
                            // Each thread reports its own rate; they all ran for ~duration.
                            return (n as f64 / start.elapsed().as_secs_f64()) as u64;
                        }
                    }
                })
            })
            .collect();
        barrier.wait();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    counts.iter().sum::<u64>() as f64
}

/// Median verifications per second of every candidate for each thread count in
/// `thread_counts`, the runs of all of them interleaved.
pub fn measure(
    candidates: &[(&'static str, MakeVerify<'_>)],
    tokens: &[String],
    thread_counts: &[usize],
    runs: usize,
    duration: Duration,
) -> Vec<Throughput> {
    let cases: Vec<(&'static str, MakeVerify<'_>, usize)> = candidates
        .iter()
        .flat_map(|&(name, make)| thread_counts.iter().map(move |&t| (name, make, t)))
        .collect();
    // Warm up every case once.
    for &(_, make, t) in &cases {
        run_once(make, tokens, t, duration / 4);
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for _ in 0..runs {
        for (i, &(_, make, t)) in cases.iter().enumerate() {
            samples[i].push(run_once(make, tokens, t, duration));
        }
    }
    cases
        .iter()
        .zip(samples)
        .map(|(&(name, _, threads), mut s)| {
            s.sort_by(|a, b| a.total_cmp(b));
            Throughput {
                name,
                threads,
                median_per_s: s[s.len() / 2],
                samples_per_s: s,
            }
        })
        .collect()
}
