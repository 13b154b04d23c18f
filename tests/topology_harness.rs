//! The Sentinel and Cluster harness (`tests/support/topology.rs`) against real processes: each
//! topology starts, fails over when its master is killed, and keeps a write that a replica
//! acknowledged before the kill. Needs `redis-server`, `redis-sentinel` and `redis-cli` on the
//! PATH (a missing one fails with the command that installs it).

#[path = "support/topology.rs"]
mod topology;

use std::time::{Duration, Instant};

use topology::{Cluster, SentinelSet};

/// The answers to `SET key value` then `WAIT 1 1000` sent on one connection (`WAIT` counts the
/// replicas that acknowledged that connection's writes): panics unless the write is stored and
/// acknowledged by at least one replica.
fn acknowledged_write(answers: &[String]) {
    assert_eq!(answers[0], "+OK\r\n", "SET: {answers:?}");
    let replicas: i64 = answers[1]
        .strip_prefix(':')
        .and_then(|n| n.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("WAIT: {answers:?}"));
    assert!(
        replicas >= 1,
        "no replica acknowledged the write: {answers:?}"
    );
}

#[test]
fn a_sentinel_set_fails_over_when_its_master_is_killed() {
    let began = Instant::now();
    let mut set = SentinelSet::start("tlka-harness");
    let started = began.elapsed();
    assert_eq!(set.master_name(), "tlka-harness");
    assert_eq!(set.sentinel_addresses().len(), 3);
    for sentinel in set.sentinel_addresses() {
        assert!(topology::command(&sentinel, &["ROLE"]).contains("sentinel"));
    }
    let old = set.master();
    assert!(topology::command(&old, &["ROLE"]).starts_with("*3\r\n$6\r\nmaster\r\n"));
    acknowledged_write(&topology::pipeline(
        &old,
        &[
            &["SET", "harness:kept", "before-the-kill"],
            &["WAIT", "1", "1000"],
        ],
    ));

    let kill = Instant::now();
    assert_eq!(set.kill_master(), old);
    assert!(
        topology::try_command(&old, &["PING"]).is_err(),
        "{old} is dead"
    );
    let new = set.wait_for_new_master(&old, Duration::from_secs(20));
    let failover = kill.elapsed();
    assert_ne!(new, old);
    assert!(topology::command(&new, &["ROLE"]).starts_with("*3\r\n$6\r\nmaster\r\n"));
    assert_eq!(
        topology::command(&new, &["GET", "harness:kept"]),
        "$15\r\nbefore-the-kill\r\n"
    );
    for sentinel in set.sentinel_addresses() {
        let port = new.rsplit_once(':').expect("IP:PORT").1;
        assert!(topology::command(
            &sentinel,
            &["SENTINEL", "get-master-addr-by-name", set.master_name()]
        )
        .ends_with(&format!("${}\r\n{port}\r\n", port.len())));
    }
    let resync = Instant::now();
    assert!(
        set.replicas_in_sync(Duration::from_secs(15)),
        "the remaining replica follows {new}"
    );
    let resynced = resync.elapsed();

    set.kill_all_replicas();
    assert_eq!(set.master(), new, "killing the replicas is no failover");
    eprintln!(
        "sentinel: started in {started:?}, new master {failover:?} after the kill, \
         replica in sync {resynced:?} later, {:?} in all",
        began.elapsed()
    );
}

#[test]
fn a_cluster_fails_over_when_a_master_is_killed() {
    let began = Instant::now();
    let mut cluster = Cluster::start();
    let started = began.elapsed();
    assert_eq!(cluster.addresses().len(), 6);
    let key = "harness:kept";
    let old = cluster.master_of(key);
    assert!(cluster.addresses().contains(&old));
    assert!(topology::command(&old, &["ROLE"]).starts_with("*3\r\n$6\r\nmaster\r\n"));
    acknowledged_write(&topology::pipeline(
        &old,
        &[&["SET", key, "before-the-kill"], &["WAIT", "1", "1000"]],
    ));

    let kill = Instant::now();
    cluster.kill(&old);
    assert!(
        topology::try_command(&old, &["PING"]).is_err(),
        "{old} is dead"
    );
    let new = cluster.wait_for_new_master_of(key, &old, Duration::from_secs(20));
    let failover = kill.elapsed();
    assert_ne!(new, old);
    assert_eq!(cluster.master_of(key), new);
    assert!(topology::command(&new, &["ROLE"]).starts_with("*3\r\n$6\r\nmaster\r\n"));
    assert_eq!(
        topology::command(&new, &["GET", key]),
        "$15\r\nbefore-the-kill\r\n"
    );
    eprintln!(
        "cluster: started in {started:?}, new master {failover:?} after the kill, {:?} in all",
        began.elapsed()
    );
}
