//! Throughput of `Verifier::verify` on 1 and 2 threads.
//!
//! Criterion measures latency on one thread; scaling needs its own loop. Each run spawns the
//! threads with `std::thread::scope`, lets them all start together (a barrier), and each thread
//! verifies the token set round after round against a clone of one `Verifier` (clones share the
//! key ring, as the middleware's clones do) until a fixed deadline. The result of a run is the
//! total verifications per second; the reported figure is the median of several runs, the
//! runs for 1 and 2 threads interleaved so that a noisy neighbour hits both alike.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use tower_livekit_auth::Verifier;

/// One run: `threads` threads for `duration`; verifications per second over all threads.
pub fn run_once(verifier: &Verifier, tokens: &[String], threads: usize, duration: Duration) -> f64 {
    let barrier = Barrier::new(threads + 1);
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let verifier = verifier.clone();
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let mut n = 0u64;
                    loop {
                        for token in tokens {
                            let claims = verifier.verify(black_box(token));
                            assert!(claims.is_ok());
                            black_box(claims.ok());
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

/// Median verifications per second for each thread count in `thread_counts`.
pub fn measure(
    verifier: &Verifier,
    tokens: &[String],
    thread_counts: &[usize],
    runs: usize,
    duration: Duration,
) -> Vec<(usize, f64, Vec<f64>)> {
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); thread_counts.len()];
    // Warm up every thread count once.
    for &t in thread_counts {
        run_once(verifier, tokens, t, duration / 4);
    }
    for _ in 0..runs {
        for (i, &t) in thread_counts.iter().enumerate() {
            samples[i].push(run_once(verifier, tokens, t, duration));
        }
    }
    thread_counts
        .iter()
        .zip(samples)
        .map(|(&t, mut s)| {
            s.sort_by(|a, b| a.total_cmp(b));
            (t, s[s.len() / 2], s)
        })
        .collect()
}
