//! The participant state outlives a Redis node: three library replicas take writes and
//! verifications while the master is killed (SIGKILL, by PID), on Redis Sentinel (one master,
//! two replicas, three sentinels) and on a Redis Cluster (three masters, three replicas), all
//! real processes on 127.0.0.1 (`tests/support/topology.rs`). Afterwards every acknowledged
//! update and revocation is in force on every replica, nothing is half applied, and every
//! write during the switch was refused with a retryable error. Feature `redis`.

#![cfg(feature = "redis")]
#![recursion_limit = "256"]

#[path = "support/failover.rs"]
mod failover;
#[path = "support/topology.rs"]
mod topology;

use failover::Report;

/// The checks every mode must pass.
fn holds(mode: &str, report: &Report) {
    eprintln!("{mode}: {report:#?}");
    assert!(
        report.lost.is_empty(),
        "{mode}: acknowledged writes lost: {:?}",
        report.lost
    );
    assert!(
        report.half.is_empty(),
        "{mode}: half applied or refused wrongly: {:?}",
        report.half
    );
    assert!(
        report.converged_after_kill.is_some(),
        "{mode}: the replicas never agreed"
    );
    assert!(
        report.first_ack_after_kill.is_some(),
        "{mode}: no write was acknowledged after the failover"
    );
    // Every refusal says what happened and that a retry is safe.
    for message in &report.refusal_messages {
        assert!(
            message.contains("try again") || message.contains("retry"),
            "{mode}: not clearly retryable: {message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sentinel_a_killed_master_loses_no_acknowledged_write() {
    holds("sentinel", &failover::on_sentinel(0).await.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_killed_master_loses_no_acknowledged_write() {
    holds("cluster", &failover::on_cluster(0).await.0);
}
