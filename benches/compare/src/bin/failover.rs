//! What a Redis failover costs the participant state (issue 19), on Redis Sentinel (1 master,
//! 2 replicas, 3 sentinels) and on a Redis Cluster (3 masters, 3 replicas), all started as
//! processes on 127.0.0.1 and stopped by PID (`tests/support/topology.rs`).
//!
//! ```sh
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin failover -- \
//!     [--rounds 5] [--propagation 500] [--mode sentinel|cluster|both]
//! ```
//!
//! Per mode and round: three library replicas (`ParticipantState::redis_on`, a write
//! acknowledged once a Redis replica has it: `WAIT 1`) take a write every 20 ms, each through
//! the next replica, while the master is SIGKILLed (on the Cluster the dead node is restarted
//! once its replica took over, as an operator would: the new master has no replica, and writes
//! wait for one). Reported, as medians over the rounds and as totals: the writes refused
//! during the failover (between the kill and the first acknowledged write after it), the time
//! from the kill to that first acknowledged write, the time until every replica shows what
//! every answer allows, and the acknowledged writes lost (must be 0). Before the first round,
//! `--propagation` writes outside any failover give the time each takes to show on the two
//! other replicas (p50, p99). Exits 1 if any acknowledged write was lost or half applied.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../../../tests/support/failover.rs"]
mod failover;
#[path = "../../../../tests/support/topology.rs"]
mod topology;

use std::process::ExitCode;
use std::time::Duration;

use tower_livekit_auth_bench::processes::{ms, quantile};

struct Args {
    rounds: usize,
    propagation: usize,
    modes: Vec<&'static str>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        rounds: 5,
        propagation: 500,
        modes: vec!["sentinel", "cluster"],
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => args.rounds = value()?.parse().map_err(|_| "--rounds: a number")?,
            "--propagation" => {
                args.propagation = value()?.parse().map_err(|_| "--propagation: a number")?;
            }
            "--mode" => {
                args.modes = match value()?.as_str() {
                    "sentinel" => vec!["sentinel"],
                    "cluster" => vec!["cluster"],
                    "both" => vec!["sentinel", "cluster"],
                    other => return Err(format!("--mode: sentinel, cluster or both, not {other}")),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// One round of one mode: its report, and the propagation times when asked for.
async fn round(mode: &str, propagation: usize) -> (failover::Report, Vec<Duration>) {
    match mode {
        "sentinel" => failover::on_sentinel(propagation).await,
        _ => failover::on_cluster(propagation).await,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    println!(
        "| mode | rounds | writes refused during failover (median) | kill → first acknowledged write (median) | kill → every replica agrees (median) | acknowledged writes lost (total) | half applied (total) | propagation p50 | p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for mode in &args.modes {
        let mut reports = Vec::new();
        let mut times = Vec::new();
        for i in 0..args.rounds {
            let (report, mut propagated) =
                round(mode, if i == 0 { args.propagation } else { 0 }).await;
            eprintln!(
                "{mode} round {i}: {} writes, {} acknowledged, {} refused, {} unknown; first ack {:?}, converged {:?}",
                report.writes,
                report.acknowledged,
                report.refused,
                report.unknown,
                report.first_ack_after_kill,
                report.converged_after_kill
            );
            times.append(&mut propagated);
            reports.push(report);
        }
        let secs = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64());
        let lost: usize = reports.iter().map(|r| r.lost.len()).sum();
        let half: usize = reports.iter().map(|r| r.half.len()).sum();
        failed |= lost > 0 || half > 0;
        times.sort();
        println!(
            "| {mode} | {} | {:.0} | {:.2} s | {:.2} s | {lost} | {half} | {} ms | {} ms |",
            args.rounds,
            median(
                reports
                    .iter()
                    .map(|r| r.refused_during_failover as f64)
                    .collect()
            ),
            median(
                reports
                    .iter()
                    .map(|r| secs(r.first_ack_after_kill))
                    .collect()
            ),
            median(
                reports
                    .iter()
                    .map(|r| secs(r.converged_after_kill))
                    .collect()
            ),
            ms(quantile(&times, 0.5)),
            ms(quantile(&times, 0.99)),
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
