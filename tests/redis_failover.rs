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

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use failover::{Replica, Report};
use tower_livekit_auth::state::RedisTopology;

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
    let set = topology::SentinelSet::start("tlka-failover");
    let redis = RedisTopology::sentinel(set.master_name(), set.sentinel_addresses())
        .expect("sentinel addresses");
    let replicas: Arc<Vec<Replica>> =
        Arc::new(failover::replicas(&redis, 3, failover::options()).await);
    let set = Arc::new(Mutex::new(set));
    let killer = set.clone();
    let report = failover::run(
        replicas,
        12,
        12,
        Duration::from_millis(20),
        Duration::from_secs(40),
        move || {
            let mut set = killer.lock().expect("the set");
            let killed = Instant::now();
            let old = set.kill_master();
            set.wait_for_new_master(&old, Duration::from_secs(30));
            killed
        },
    )
    .await;
    holds("sentinel", &report);
    drop(set);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_killed_master_loses_no_acknowledged_write() {
    let cluster = topology::Cluster::start();
    let redis = RedisTopology::cluster(cluster.addresses()).expect("node addresses");
    let replicas: Arc<Vec<Replica>> =
        Arc::new(failover::replicas(&redis, 3, failover::options()).await);
    let cluster = Arc::new(Mutex::new(cluster));
    let killer = cluster.clone();
    let report = failover::run(
        replicas,
        12,
        12,
        Duration::from_millis(20),
        Duration::from_secs(40),
        move || {
            let mut cluster = killer.lock().expect("the cluster");
            // The node that holds the state's one slot.
            let key = "{failover}:g";
            let old = cluster.master_of(key);
            let killed = Instant::now();
            cluster.kill(&old);
            cluster.wait_for_new_master_of(key, &old, Duration::from_secs(30));
            // The promoted replica has none of its own: writes wait for one (WAIT 1) until the
            // operator brings the dead node back, as a replica of the new master.
            cluster.restart(&old, Duration::from_secs(30));
            killed
        },
    )
    .await;
    holds("cluster", &report);
    drop(cluster);
}
