//! Redis Sentinel and Redis Cluster on 127.0.0.1, as our own processes: a [`SentinelSet`] (one
//! master, two replicas, three sentinels) and a [`Cluster`] (three masters with a replica each).
//!
//! `std` only, so that any target can include it: from `tests/*.rs`
//! `#[path = "support/topology.rs"] mod topology;`, from `benches/compare`
//! `#[path = "../../tests/support/topology.rs"] mod topology;` (a path relative to the including
//! file's directory).
//!
//! - Every process is a child of this one (never a system service), on a free 127.0.0.1 port,
//!   with its own directory (its config, `nodes.conf`, `redis.log`) under one temporary directory
//!   per topology. Dropping the topology kills every process (SIGKILL, by PID) and removes the
//!   directory; while a panic unwinds, the directory is kept (its path is printed) so that the
//!   logs can be read.
//! - No persistence (`--save ''`, `--appendonly no`): a killed node never comes back here, so a
//!   write survives a failover through replication only, which is what the tests check.
//! - Ports: below the kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`, 32768
//!   and up by default), so that no outgoing connection can take a port between the check and
//!   the server's `bind`; a cluster node's port `p` also needs `p + 10000` (its cluster bus).
//!   A port taken anyway (another process) is detected (the node exits, or another process
//!   answers INFO with a different `process_id`) and the node is started again on another one.
//! - Every wait polls with a deadline and panics past it with what it saw and the tail of every
//!   log.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How to get the tools, in every panic about a missing one.
const INSTALL: &str = "apt-get update && apt-get install -y redis-server redis-sentinel";

/// Between two polls.
const POLL: Duration = Duration::from_millis(50);

/// Connect and read timeout of the harness's own polling requests.
const POLL_TIMEOUT: Duration = Duration::from_secs(2);

/// Connect and read timeout of `command` and `pipeline` (longer than a `WAIT ... 1000`).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// One master, two replicas, three sentinels watching it as `master_name` (quorum 2).
///
/// Sentinels: `down-after-milliseconds 1000`, `failover-timeout 5000`, `parallel-syncs 1`,
/// `resolve-hostnames no`, announced as 127.0.0.1. A killed master is replaced in about 2 to 5 s
/// (1 s to subjective down, a random delay of up to 1 s before the election, the promotion); a
/// split vote retries only after twice the failover timeout (10 s).
#[derive(Debug)]
pub struct SentinelSet {
    master_name: String,
    /// Dropped (killed) first: no failover starts while the nodes go.
    sentinels: Vec<Process>,
    /// The redis-servers: the first master, then the two replicas.
    nodes: Vec<Process>,
    root: TempRoot,
}

impl SentinelSet {
    /// Starts the master, its two replicas (waits until both are in sync), then the three
    /// sentinels, and waits until every sentinel sees the master up, both replicas up with their
    /// link to the master ok, and the other two sentinels connected. Takes about 2 to 4 s (the
    /// sentinels find each other through hello messages published every 2 s).
    pub fn start(master_name: &str) -> SentinelSet {
        assert!(
            !master_name.is_empty()
                && master_name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)),
            "a sentinel master name of letters, digits and -_.: please, not {master_name:?}"
        );
        let mut set = SentinelSet {
            master_name: master_name.to_owned(),
            sentinels: Vec::new(),
            nodes: Vec::new(),
            root: TempRoot::new("sentinel"),
        };
        let master = launch(&set.root.path, "master", "redis-server", false, server_args);
        let master_port = master.port;
        set.nodes.push(master);
        for i in 1..=2 {
            let replica = launch(
                &set.root.path,
                &format!("replica{i}"),
                "redis-server",
                false,
                |port, dir| {
                    let mut args = server_args(port, dir);
                    args.extend(strings(&[
                        "--replicaof",
                        "127.0.0.1",
                        &master_port.to_string(),
                    ]));
                    args.extend(strings(&["--replica-announce-ip", "127.0.0.1"]));
                    args
                },
            );
            set.nodes.push(replica);
        }
        // Replicas first: a sentinel learns them from the master's INFO, sent as soon as it
        // connects and then every 10 s only.
        let addr = format!("127.0.0.1:{master_port}");
        if !set.replicas_of_in_sync(&addr, 2, Duration::from_secs(20)) {
            set.fail("the two replicas did not sync with the master within 20 s");
        }
        for i in 1..=3 {
            let name = set.master_name.clone();
            let sentinel = launch(
                &set.root.path,
                &format!("sentinel{i}"),
                "redis-sentinel",
                false,
                |port, dir| {
                    // Its own file, in its own directory: sentinel rewrites it (myid, epochs, the
                    // replicas and sentinels it learns) and refuses to start on a read-only one.
                    let conf = dir.join("sentinel.conf");
                    std::fs::write(&conf, sentinel_config(port, dir, &name, master_port))
                        .expect("the sentinel's config file is writable");
                    vec![conf.display().to_string()]
                },
            );
            set.sentinels.push(sentinel);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let missing: Vec<String> = set
                .sentinels
                .iter()
                .filter_map(|s| set.sentinel_view(&s.addr()).err())
                .collect();
            if missing.is_empty() {
                return set;
            }
            if Instant::now() >= deadline {
                set.fail(&format!(
                    "the sentinels did not all see the master, both replicas and each other \
                     within 20 s: {}",
                    missing.join("; ")
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// The name the sentinels monitor the master as.
    pub fn master_name(&self) -> &str {
        &self.master_name
    }

    /// `127.0.0.1:PORT` of each of the three sentinels.
    pub fn sentinel_addresses(&self) -> Vec<String> {
        self.sentinels.iter().map(Process::addr).collect()
    }

    /// `127.0.0.1:PORT` of every redis-server of the set (master and replicas, killed ones
    /// included), in start order: the first master, then the replicas.
    pub fn node_addresses(&self) -> Vec<String> {
        self.nodes.iter().map(Process::addr).collect()
    }

    /// The master's `127.0.0.1:PORT` as the first sentinel that answers reports it now
    /// (`SENTINEL get-master-addr-by-name`).
    pub fn master(&self) -> String {
        self.reported_master().unwrap_or_else(|| {
            self.fail(&format!(
                "no sentinel reports a master for {:?}",
                self.master_name
            ))
        })
    }

    /// Kills (SIGKILL, by PID) the node that the sentinels report as the master now; its
    /// address.
    pub fn kill_master(&mut self) -> String {
        let master = self.master();
        match self
            .nodes
            .iter_mut()
            .find(|n| n.is_live() && n.addr() == master)
        {
            Some(node) => node.kill(),
            None => self.fail(&format!(
                "the sentinels report {master} as the master, not a live node of this set"
            )),
        }
        master
    }

    /// Polls until every live sentinel reports the same master, other than `old`, and that node
    /// answers `ROLE` as a master; its address. Panics past `within` (with the sentinels' logs).
    pub fn wait_for_new_master(&self, old: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let reports: Vec<Option<String>> = self
                .sentinels
                .iter()
                .filter(|s| s.is_live())
                .map(|s| self.master_reported_by(&s.addr()))
                .collect();
            if let Some(Some(first)) = reports.first() {
                if first != old
                    && reports.iter().all(|r| r.as_deref() == Some(first))
                    && role(first).as_deref() == Some("master")
                {
                    return first.clone();
                }
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "no new master (other than {old}) within {within:?}: the sentinels report \
                     {reports:?}"
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Whether, within `within`, every live replica (every live node but the current master)
    /// reports `role:slave` of the current master with `master_link_status:up`. True at once
    /// when no replica is alive.
    pub fn replicas_in_sync(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let master = self.reported_master();
            if let Some(master) = master {
                let in_sync = self
                    .nodes
                    .iter()
                    .filter(|n| n.is_live() && n.addr() != master)
                    .all(|n| replica_linked_to(&n.addr(), &master));
                if in_sync {
                    return true;
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Kills (SIGKILL, by PID) every node but the current master.
    pub fn kill_all_replicas(&mut self) {
        let master = self.master();
        for node in self.nodes.iter_mut().filter(|n| n.addr() != master) {
            node.kill();
        }
    }

    /// The master as the first live sentinel that answers reports it, if any does.
    fn reported_master(&self) -> Option<String> {
        self.sentinels
            .iter()
            .filter(|s| s.is_live())
            .find_map(|s| self.master_reported_by(&s.addr()))
    }

    /// The master that `sentinel` reports.
    fn master_reported_by(&self, sentinel: &str) -> Option<String> {
        let reply = ask(
            sentinel,
            &["SENTINEL", "get-master-addr-by-name", &self.master_name],
        )?;
        match reply.items()? {
            [ip, port] => Some(format!("{}:{}", ip.text()?, port.text()?)),
            _ => None,
        }
    }

    /// Whether `sentinel` sees the master up with both replicas and both other sentinels; what
    /// it lacks otherwise.
    fn sentinel_view(&self, sentinel: &str) -> Result<(), String> {
        let name = self.master_name.as_str();
        let master = ask(sentinel, &["SENTINEL", "MASTER", name])
            .ok_or_else(|| format!("{sentinel} does not answer"))?;
        let fields = master
            .items()
            .ok_or_else(|| format!("{sentinel}: SENTINEL MASTER {master:?}"))?;
        for (field, want) in [
            ("flags", "master"),
            ("num-slaves", "2"),
            ("num-other-sentinels", "2"),
        ] {
            let got = pairs_field(fields, field);
            if got != Some(want) {
                return Err(format!("{sentinel}: {field} is {got:?}, not {want}"));
            }
        }
        let replicas = ask(sentinel, &["SENTINEL", "REPLICAS", name])
            .and_then(|r| r.items().map(<[Reply]>::to_vec))
            .ok_or_else(|| format!("{sentinel}: no SENTINEL REPLICAS"))?;
        let ready = replicas
            .iter()
            .filter_map(Reply::items)
            .filter(|r| {
                pairs_field(r, "flags") == Some("slave")
                    && pairs_field(r, "master-link-status") == Some("ok")
            })
            .count();
        if ready != 2 {
            return Err(format!("{sentinel}: {ready} replicas up and linked, not 2"));
        }
        let sentinels = ask(sentinel, &["SENTINEL", "SENTINELS", name])
            .and_then(|r| r.items().map(<[Reply]>::to_vec))
            .ok_or_else(|| format!("{sentinel}: no SENTINEL SENTINELS"))?;
        let connected = sentinels
            .iter()
            .filter_map(Reply::items)
            .filter(|s| pairs_field(s, "flags") == Some("sentinel"))
            .count();
        if connected != 2 {
            return Err(format!(
                "{sentinel}: {connected} other sentinels connected, not 2"
            ));
        }
        Ok(())
    }

    /// Whether, within `within`, `master` has `count` replicas online and every live node but
    /// `master` is linked to it.
    fn replicas_of_in_sync(&self, master: &str, count: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let online = ask(master, &["INFO", "replication"])
                .and_then(|r| r.text().map(str::to_owned))
                .map(|info| {
                    info.lines()
                        .filter(|l| l.starts_with("slave") && l.contains("state=online"))
                        .count()
                });
            if online == Some(count)
                && self
                    .nodes
                    .iter()
                    .filter(|n| n.is_live() && n.addr() != master)
                    .all(|n| replica_linked_to(&n.addr(), master))
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!("{what}\n{}", logs(self.nodes.iter().chain(&self.sentinels)))
    }
}

/// Six nodes, three masters with a replica each, made with
/// `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`.
///
/// Nodes: `--cluster-node-timeout 1000`, `--cluster-replica-validity-factor 0` (a replica can
/// always be promoted, however long it was cut off). A killed master is replaced in about 2 to
/// 4 s (1 s to PFAIL, FAIL by the other masters' gossip, then the replica's election after
/// 0.5 to 1 s).
#[derive(Debug)]
pub struct Cluster {
    nodes: Vec<Process>,
    root: TempRoot,
}

impl Cluster {
    /// Starts six nodes, joins them with `redis-cli --cluster create`, and waits until every node
    /// reports `cluster_state:ok` with all 16384 slots assigned and ok and the six nodes known,
    /// and each of the three masters has its replica in sync (`master_link_status:up`).
    pub fn start() -> Cluster {
        let mut cluster = Cluster {
            nodes: Vec::new(),
            root: TempRoot::new("cluster"),
        };
        for i in 1..=6 {
            let node = launch(
                &cluster.root.path,
                &format!("node{i}"),
                "redis-server",
                true,
                |port, dir| {
                    let mut args = server_args(port, dir);
                    args.extend(strings(&[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                    ]));
                    args.push(dir.join("nodes.conf").display().to_string());
                    args.extend(strings(&[
                        "--cluster-node-timeout",
                        "1000",
                        "--cluster-replica-validity-factor",
                        "0",
                        "--cluster-announce-ip",
                        "127.0.0.1",
                    ]));
                    args
                },
            );
            cluster.nodes.push(node);
        }
        cluster.create(Duration::from_secs(30));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let why = match cluster.readiness() {
                Ok(()) => return cluster,
                Err(why) => why,
            };
            if Instant::now() >= deadline {
                cluster.fail(&format!("the cluster was not ready within 20 s: {why}"));
            }
            std::thread::sleep(POLL);
        }
    }

    /// `127.0.0.1:PORT` of every node (killed ones included), in start order.
    pub fn addresses(&self) -> Vec<String> {
        self.nodes.iter().map(Process::addr).collect()
    }

    /// The master serving `key`'s slot now, as the first live node that answers sees it
    /// (`CLUSTER KEYSLOT`, then `CLUSTER SLOTS`).
    pub fn master_of(&self, key: &str) -> String {
        self.nodes
            .iter()
            .filter(|n| n.is_live())
            .find_map(|n| {
                let slot = key_slot(&n.addr(), key)?;
                slot_owner(&n.addr(), slot)
            })
            .unwrap_or_else(|| self.fail(&format!("no live node names a master for {key:?}")))
    }

    /// Kills (SIGKILL, by PID) the node at `addr`, one of [`addresses`](Self::addresses).
    pub fn kill(&mut self, addr: &str) {
        match self.nodes.iter_mut().find(|n| n.addr() == addr) {
            Some(node) => node.kill(),
            None => self.fail(&format!("{addr} is not a node of this cluster")),
        }
    }

    /// Starts the killed node at `addr` again on its port, from its own directory: with its
    /// `nodes.conf` it rejoins the cluster, as a replica of the node that took its slots (an
    /// operator's recovery). Waits (up to `within`) until it is in sync with a master.
    pub fn restart(&mut self, addr: &str, within: Duration) {
        let Some(index) = self.nodes.iter().position(|n| n.addr() == addr) else {
            self.fail(&format!("{addr} is not a node of this cluster"))
        };
        if self.nodes[index].is_live() {
            self.fail(&format!("{addr} is running"));
        }
        self.nodes[index].spawn();
        if let Err(Startup::PortTaken | Startup::Exited(_)) =
            self.nodes[index].wait_listening(Duration::from_secs(10))
        {
            self.fail(&format!("{addr} did not start again"));
        }
        let deadline = Instant::now() + within;
        while !replica_linked(addr) {
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "{addr} did not rejoin as a replica within {within:?}"
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Polls until every live node reports `cluster_state:ok` and the same master for `key`'s
    /// slot, other than `old`, and that node is live and answers `ROLE` as a master; its
    /// address. Panics past `within` (with the nodes' logs).
    pub fn wait_for_new_master_of(&self, key: &str, old: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let why = match self.agreed_owner(key) {
                Ok(owner) if owner == old => format!("the live nodes still name {old}"),
                Ok(owner) if !self.nodes.iter().any(|n| n.is_live() && n.addr() == owner) => {
                    format!("the live nodes name {owner}, not a live node")
                }
                Ok(owner) => match role(&owner) {
                    Some(role) if role == "master" => return owner,
                    role => format!("the live nodes name {owner}, whose ROLE is {role:?}"),
                },
                Err(why) => why,
            };
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "{key:?} found no master other than {old} within {within:?}: {why}"
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// `redis-cli --cluster create`, bounded by `within`.
    fn create(&self, within: Duration) {
        let output = self.root.path.join("cluster-create.log");
        let log = File::create(&output).expect("a log file for redis-cli");
        let mut args = strings(&["--cluster", "create"]);
        args.extend(self.addresses());
        args.extend(strings(&["--cluster-replicas", "1", "--cluster-yes"]));
        let mut child = Command::new("redis-cli")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a second handle on the log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| missing("redis-cli", &err));
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = child.try_wait().expect("redis-cli's status") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                self.fail(&format!(
                    "`redis-cli {}` did not finish within {within:?}:\n{}",
                    args.join(" "),
                    tail(&output, 40)
                ));
            }
            std::thread::sleep(POLL);
        };
        if !status.success() {
            self.fail(&format!(
                "`redis-cli {}` failed ({status}):\n{}",
                args.join(" "),
                tail(&output, 40)
            ));
        }
    }

    /// Whether every node is up, agrees the cluster is whole, and has its role with the link up;
    /// what is missing otherwise.
    fn readiness(&self) -> Result<(), String> {
        let (mut masters, mut replicas) = (0, 0);
        for node in &self.nodes {
            let addr = node.addr();
            let info = ask(&addr, &["CLUSTER", "INFO"])
                .and_then(|r| r.text().map(str::to_owned))
                .ok_or_else(|| format!("{addr}: no CLUSTER INFO"))?;
            for (field, want) in [
                ("cluster_state", "ok"),
                ("cluster_slots_assigned", "16384"),
                ("cluster_slots_ok", "16384"),
                ("cluster_known_nodes", "6"),
                ("cluster_size", "3"),
            ] {
                let got = info_field(&info, field);
                if got != Some(want) {
                    return Err(format!("{addr}: {field} is {got:?}, not {want}"));
                }
            }
            match role(&addr).as_deref() {
                Some("master") => masters += 1,
                Some("slave") if replica_linked(&addr) => replicas += 1,
                role => return Err(format!("{addr}: ROLE {role:?}, or its link is not up")),
            }
        }
        if (masters, replicas) == (3, 3) {
            Ok(())
        } else {
            Err(format!(
                "{masters} masters and {replicas} replicas, not 3 and 3"
            ))
        }
    }

    /// The owner of `key`'s slot if every live node reports `cluster_state:ok` and names the
    /// same one; what differs otherwise.
    fn agreed_owner(&self, key: &str) -> Result<String, String> {
        let live: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.is_live())
            .map(Process::addr)
            .collect();
        let slot = live
            .iter()
            .find_map(|addr| key_slot(addr, key))
            .ok_or("no live node answers CLUSTER KEYSLOT")?;
        let mut owners = BTreeSet::new();
        for addr in &live {
            let info = ask(addr, &["CLUSTER", "INFO"])
                .and_then(|r| r.text().map(str::to_owned))
                .ok_or_else(|| format!("{addr}: no CLUSTER INFO"))?;
            let state = info_field(&info, "cluster_state");
            if state != Some("ok") {
                return Err(format!("{addr}: cluster_state is {state:?}"));
            }
            let owner =
                slot_owner(addr, slot).ok_or_else(|| format!("{addr}: no owner of slot {slot}"))?;
            owners.insert(owner);
        }
        match owners.len() {
            1 => Ok(owners.pop_first().expect("one owner")),
            _ => Err(format!("the live nodes name {owners:?} for slot {slot}")),
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!("{what}\n{}", logs(self.nodes.iter()))
    }
}

/// A redis-server or redis-sentinel that we started; killed (SIGKILL, by PID) when dropped.
#[derive(Debug)]
struct Process {
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
    /// The program and the arguments it was started with, to start it again.
    command: Vec<String>,
}

impl Process {
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn is_live(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the program with its arguments, its stderr appended to its log.
    fn spawn(&mut self) {
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(self.dir.join("stderr.log"))
            .expect("a stderr file");
        let child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|err| missing(&self.command[0], &err));
        self.child = Some(child);
    }

    /// SIGKILL (`Child::kill`, by PID) and reaps it.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until this process (its PID in `INFO server`) answers on its port.
    fn wait_listening(&mut self, within: Duration) -> Result<(), Startup> {
        let deadline = Instant::now() + within;
        let addr = self.addr();
        loop {
            let child = self.child.as_mut().expect("a started process");
            let pid = child.id().to_string();
            if let Some(status) = child.try_wait().expect("the process's status") {
                self.child = None;
                let log = self.log_tail(20);
                return Err(if log.contains("in use") {
                    Startup::PortTaken
                } else {
                    Startup::Exited(format!("exited ({status}):\n{log}"))
                });
            }
            if let Some(info) = ask(&addr, &["INFO", "server"]) {
                return match info.text().and_then(|i| info_field(i, "process_id")) {
                    Some(id) if id == pid => Ok(()),
                    // Another process holds the port; ours exits when dropped.
                    _ => Err(Startup::PortTaken),
                };
            }
            if Instant::now() >= deadline {
                return Err(Startup::Exited(format!(
                    "did not answer on {addr} within {within:?}:\n{}",
                    self.log_tail(20)
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last `lines` of its log and of its stderr.
    fn log_tail(&self, lines: usize) -> String {
        let mut text = tail(&self.dir.join("redis.log"), lines);
        let stderr = tail(&self.dir.join("stderr.log"), lines);
        if !stderr.trim().is_empty() {
            text.push_str("\n(stderr)\n");
            text.push_str(&stderr);
        }
        text
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Why a process did not come up.
#[derive(Debug)]
enum Startup {
    /// Its port was taken meanwhile: start it again on another.
    PortTaken,
    Exited(String),
}

/// Starts `program` with `args(port, dir)` on a free port, in its own directory under `root`
/// (its log: `dir/redis.log`), and waits until it answers there.
fn launch(
    root: &Path,
    name: &str,
    program: &str,
    with_bus: bool,
    mut args: impl FnMut(u16, &Path) -> Vec<String>,
) -> Process {
    const ATTEMPTS: usize = 5;
    for _ in 0..ATTEMPTS {
        let port = reserve_port(with_bus);
        let dir = root.join(format!("{name}-{port}"));
        std::fs::create_dir_all(&dir).expect("a directory for the process");
        let mut command = vec![program.to_owned()];
        command.extend(args(port, &dir));
        let mut process = Process {
            port,
            child: None,
            dir,
            command,
        };
        process.spawn();
        match process.wait_listening(Duration::from_secs(10)) {
            Ok(()) => return process,
            Err(Startup::PortTaken) => continue,
            Err(Startup::Exited(why)) => panic!("{program} ({name}) on port {port} {why}"),
        }
    }
    panic!("{program} ({name}): {ATTEMPTS} ports in a row were taken by other processes")
}

fn missing(program: &str, err: &io::Error) -> ! {
    panic!(
        "cannot start {program} ({err}): is it installed? `{INSTALL}` (Debian packages; \
         redis-cli comes with redis-server). The Sentinel and Cluster tests start their own \
         processes on 127.0.0.1, never a system service."
    )
}

/// A redis-server's arguments: loopback only, no persistence, log in `dir`, diskless
/// replication without delay (a replica syncs in milliseconds).
fn server_args(port: u16, dir: &Path) -> Vec<String> {
    let mut args = strings(&["--port", &port.to_string(), "--bind", "127.0.0.1"]);
    args.extend(strings(&["--daemonize", "no", "--dir"]));
    args.push(dir.display().to_string());
    args.push("--logfile".to_owned());
    args.push(dir.join("redis.log").display().to_string());
    args.extend(strings(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]));
    args
}

fn sentinel_config(port: u16, dir: &Path, name: &str, master_port: u16) -> String {
    let dir = dir.display();
    format!(
        "port {port}\n\
         bind 127.0.0.1\n\
         daemonize no\n\
         dir \"{dir}\"\n\
         logfile \"{dir}/redis.log\"\n\
         sentinel resolve-hostnames no\n\
         sentinel announce-hostnames no\n\
         sentinel announce-ip 127.0.0.1\n\
         sentinel monitor {name} 127.0.0.1 {master_port} 2\n\
         sentinel down-after-milliseconds {name} 1000\n\
         sentinel failover-timeout {name} 5000\n\
         sentinel parallel-syncs {name} 1\n"
    )
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|&a| a.to_owned()).collect()
}

/// The ports handed out by this process (never handed out twice, a node's bus port included).
static RESERVED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A free 127.0.0.1 port below the ephemeral range; with `with_bus`, `port + 10000` is free too.
fn reserve_port(with_bus: bool) -> u16 {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let bus = if with_bus { 10_000 } else { 0 };
    // Node ports in [low, high): 10000..22768 with a bus, 10000..32768 without, by default.
    let (low, high) = if ephemeral >= 11_000 + bus {
        (10_000, ephemeral - bus)
    } else {
        (20_000, 65_536 - bus)
    };
    let span = high - low;
    let start = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    let start = u32::try_from(start % u64::from(span)).expect("below span");
    let mut reserved = RESERVED.lock().expect("the port set");
    for i in 0..span {
        let port = low + (start + i) % span;
        let ports: Vec<u16> = [port, port + bus][..if with_bus { 2 } else { 1 }]
            .iter()
            .map(|&p| u16::try_from(p).expect("a port below 65536"))
            .collect();
        if ports
            .iter()
            .all(|&p| !reserved.contains(&p) && TcpListener::bind(("127.0.0.1", p)).is_ok())
        {
            reserved.extend(&ports);
            return ports[0];
        }
    }
    panic!("no free 127.0.0.1 port in {low}..{high} (with bus: {with_bus})")
}

/// The temporary directory of one topology: removed when dropped, kept while a panic unwinds.
#[derive(Debug)]
struct TempRoot {
    path: PathBuf,
}

impl TempRoot {
    fn new(kind: &str) -> TempRoot {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "tlka-{kind}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempRoot { path }
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("topology: keeping {} (its logs)", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The last `lines` lines of the file at `path` (empty when there is none).
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The last lines of every process's log, for a panic message.
fn logs<'a>(processes: impl Iterator<Item = &'a Process>) -> String {
    let mut text = String::new();
    for p in processes {
        let state = if p.is_live() { "live" } else { "killed" };
        text.push_str(&format!(
            "--- {} ({state}, {}) ---\n{}\n",
            p.addr(),
            p.dir.display(),
            p.log_tail(15)
        ));
    }
    text
}

/// `ROLE`'s first element: `master`, `slave` or `sentinel`.
fn role(addr: &str) -> Option<String> {
    let reply = ask(addr, &["ROLE"])?;
    reply.items()?.first()?.text().map(str::to_owned)
}

/// Whether the node at `addr` is a replica with its link to its master up.
fn replica_linked(addr: &str) -> bool {
    replica_of(addr).is_some()
}

/// Whether the node at `addr` is a replica of `master` with its link up.
fn replica_linked_to(addr: &str, master: &str) -> bool {
    replica_of(addr).is_some_and(|linked| linked == master)
}

/// The `host:port` of the master the node at `addr` replicates with its link up, if it is
/// such a replica.
fn replica_of(addr: &str) -> Option<String> {
    let info = ask(addr, &["INFO", "replication"])?.text()?.to_owned();
    let linked = info_field(&info, "role") == Some("slave")
        && info_field(&info, "master_link_status") == Some("up");
    linked.then(|| {
        format!(
            "{}:{}",
            info_field(&info, "master_host").unwrap_or(""),
            info_field(&info, "master_port").unwrap_or("")
        )
    })
}

fn key_slot(addr: &str, key: &str) -> Option<i64> {
    ask(addr, &["CLUSTER", "KEYSLOT", key])?.int()
}

/// The master of `slot` in `CLUSTER SLOTS` as the node at `addr` answers it.
fn slot_owner(addr: &str, slot: i64) -> Option<String> {
    let slots = ask(addr, &["CLUSTER", "SLOTS"])?;
    slots
        .items()?
        .iter()
        .find_map(|range| match range.items()? {
            [start, end, master, ..] if start.int()? <= slot && slot <= end.int()? => {
                match master.items()? {
                    [ip, port, ..] => Some(format!("{}:{}", ip.text()?, port.int()?)),
                    _ => None,
                }
            }
            _ => None,
        })
}

/// `name:value` in an `INFO` or `CLUSTER INFO` text.
fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// `value` after `name` in a flat `[name, value, name, value, ...]` answer (`SENTINEL MASTER`).
fn pairs_field<'a>(items: &'a [Reply], name: &str) -> Option<&'a str> {
    items
        .chunks(2)
        .find(|pair| pair.first().and_then(Reply::text) == Some(name))
        .and_then(|pair| pair.get(1)?.text())
}

/// A RESP2 answer.
#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<String>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    fn text(&self) -> Option<&str> {
        match self {
            Reply::Status(s) | Reply::Bulk(Some(s)) => Some(s),
            _ => None,
        }
    }

    fn int(&self) -> Option<i64> {
        match self {
            Reply::Int(i) => Some(*i),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(Some(items)) => Some(items),
            _ => None,
        }
    }
}

/// One command for the harness's polling: its answer, or `None` when the node does not answer
/// (or answers an error).
fn ask(addr: &str, args: &[&str]) -> Option<Reply> {
    let mut replies = exchange(addr, &[args], POLL_TIMEOUT).ok()?;
    match replies.pop()? {
        (Reply::Error(_), _) => None,
        (reply, _) => Some(reply),
    }
}

/// One command to any node or sentinel (`127.0.0.1:PORT`), on a new connection; its raw RESP
/// answer (an error reply is an answer too; `-MOVED ...` is not followed). Panics when the
/// connection fails.
pub fn command(addr: &str, args: &[&str]) -> String {
    try_command(addr, args).unwrap_or_else(|err| panic!("{args:?} to {addr}: {err}"))
}

/// [`command`], with the I/O error instead of a panic (a killed node refuses the connection).
pub fn try_command(addr: &str, args: &[&str]) -> io::Result<String> {
    let mut replies = exchange(addr, &[args], COMMAND_TIMEOUT)?;
    Ok(replies.pop().map(|(_, raw)| raw).unwrap_or_default())
}

/// Several commands on one connection (`SET` then `WAIT` must share one), their raw answers.
pub fn pipeline(addr: &str, commands: &[&[&str]]) -> Vec<String> {
    exchange(addr, commands, COMMAND_TIMEOUT)
        .unwrap_or_else(|err| panic!("{commands:?} to {addr}: {err}"))
        .into_iter()
        .map(|(_, raw)| raw)
        .collect()
}

/// Sends `commands` on one new connection to `addr` (`IP:PORT`) and reads one whole answer to
/// each: parsed, and raw.
fn exchange(
    addr: &str,
    commands: &[&[&str]],
    timeout: Duration,
) -> io::Result<Vec<(Reply, String)>> {
    let socket: SocketAddr = addr
        .parse()
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: {err}")))?;
    let stream = TcpStream::connect_timeout(&socket, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    let mut request = Vec::new();
    for args in commands {
        request.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for arg in *args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
    }
    (&stream).write_all(&request)?;
    let mut reader = BufReader::new(&stream);
    commands
        .iter()
        .map(|_| {
            let mut raw = Vec::new();
            let reply = read_reply(&mut reader, &mut raw)?;
            Ok((reply, String::from_utf8_lossy(&raw).into_owned()))
        })
        .collect()
}

/// Reads one RESP2 value, appending its bytes to `raw`.
fn read_reply(reader: &mut impl BufRead, raw: &mut Vec<u8>) -> io::Result<Reply> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let start = raw.len();
    if reader.read_until(b'\n', raw)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let line = String::from_utf8_lossy(&raw[start..]).trim_end().to_owned();
    let (kind, rest) = line
        .split_at_checked(1)
        .ok_or_else(|| invalid(line.clone()))?;
    let number = || {
        rest.parse::<i64>()
            .map_err(|_| invalid(format!("not a number: {line:?}")))
    };
    match kind {
        "+" => Ok(Reply::Status(rest.to_owned())),
        "-" => Ok(Reply::Error(rest.to_owned())),
        ":" => Ok(Reply::Int(number()?)),
        "$" => match usize::try_from(number()?) {
            Err(_) => Ok(Reply::Bulk(None)),
            Ok(len) => {
                let mut body = vec![0; len + 2];
                reader.read_exact(&mut body)?;
                raw.extend_from_slice(&body);
                body.truncate(len);
                Ok(Reply::Bulk(Some(
                    String::from_utf8_lossy(&body).into_owned(),
                )))
            }
        },
        "*" => match usize::try_from(number()?) {
            Err(_) => Ok(Reply::Array(None)),
            Ok(len) => (0..len)
                .map(|_| read_reply(reader, raw))
                .collect::<io::Result<Vec<_>>>()
                .map(|items| Reply::Array(Some(items))),
        },
        _ => Err(invalid(format!("not RESP2: {line:?}"))),
    }
}
