//! A failover under load, for the Sentinel and Cluster tests (`tests/redis_failover.rs`) and
//! the measurement tool (`benches/compare/src/bin/failover.rs`): three replicas of the state
//! take writes, one every few milliseconds through each in turn, while the Redis master is
//! killed; then every replica is checked against what each write's answer promised.
//!
//! Every participant is written once, by an update that sets its name, metadata, an
//! attribute and its permission to the same mark, or by a removal. So what each replica must
//! show follows from the answer alone:
//! - acknowledged: the update whole, or the token refused as revoked;
//! - refused (`Unavailable` and the like: nothing written): the token's own claims;
//! - `OutcomeUnknown`: either of the two, but never a mix of the update's fields and the
//!   token's own ("half applied").

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantState, ParticipantUpdate, RedisOptions, RedisTopology,
    StateErrorKind, StateOptions,
};
use tower_livekit_auth::{AccessToken, Claims, KeyRing, Verifier, VerifyErrorKind, VideoGrant};

pub const KEY: &str = "APIfailover01";
pub const SECRET: &str = "failoverSecret0123456789abcdefghijklmnopq";
pub const ROOM: &str = "stage";
/// The prefix of the runs' state: every key of it is in the slot of `{failover}`.
pub const PREFIX: &str = "failover";

/// One replica: its state and a verifier that applies it.
pub struct Replica {
    pub state: ParticipantState,
    pub verifier: Verifier,
}

/// The Redis options of the runs: checks every 300 ms, writes given up after a second.
pub fn options() -> RedisOptions {
    RedisOptions::new()
        .with_prefix(PREFIX)
        .with_resync_interval(Duration::from_millis(300))
        .with_write_timeout(Duration::from_secs(1))
        .with_connect_timeout(Duration::from_secs(5))
        .with_max_backoff(Duration::from_millis(200))
}

/// `n` replicas on `topology`.
pub async fn replicas(topology: &RedisTopology, n: usize, redis: RedisOptions) -> Vec<Replica> {
    let mut replicas = Vec::new();
    for _ in 0..n {
        let state = ParticipantState::redis_on(topology, StateOptions::new(), redis.clone())
            .await
            .expect("the replica reaches Redis");
        let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
            .with_participant_state(state.clone());
        replicas.push(Replica { state, verifier });
    }
    replicas
}

/// A join token of `identity`, issued a minute ago, with marks of its own.
pub fn token(identity: &str) -> String {
    AccessToken::new(KEY, SECRET)
        .with_identity(identity)
        .with_name("own")
        .with_metadata("own")
        .with_attributes([("mark", "own")])
        .with_video_grant(VideoGrant::join(ROOM).with_can_publish(false))
        .to_jwt_at(SystemTime::now() - Duration::from_secs(60))
        .expect("mints")
}

/// The update of write `index`: every field it sets carries the same mark.
pub fn update(index: usize) -> ParticipantUpdate {
    let mark = format!("w{index}");
    ParticipantUpdate::new()
        .with_name(mark.clone())
        .with_metadata(mark.clone())
        .with_attribute("mark", mark)
        .with_permission(
            ParticipantPermission::new()
                .with_can_subscribe(true)
                .with_can_publish(true),
        )
}

/// What a write's answer was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Acknowledged,
    /// Not written (the kind and its message).
    Refused(StateErrorKind, String),
    /// Sent, not answered: written or not.
    Unknown(String),
}

/// One write and its answer.
#[derive(Clone, Debug)]
pub struct Write {
    pub index: usize,
    pub identity: String,
    pub removal: bool,
    pub answer: Answer,
    /// When it was sent.
    pub started: Instant,
    /// When it was answered.
    pub at: Instant,
    pub token: String,
}

/// Makes write `index` through `replica`.
pub async fn write(replica: &Replica, index: usize) -> Write {
    let identity = format!("p{index}");
    let token = token(&identity);
    let removal = index.is_multiple_of(3);
    let started = Instant::now();
    let result = if removal {
        replica
            .state
            .remove(ROOM, &identity, None)
            .await
            .map(|_| ())
    } else {
        replica.state.update(ROOM, &identity, update(index)).await
    };
    let answer = match result {
        Ok(()) => Answer::Acknowledged,
        Err(err) if err.kind() == StateErrorKind::OutcomeUnknown => {
            Answer::Unknown(err.to_string())
        }
        Err(err) => Answer::Refused(err.kind(), err.to_string()),
    };
    Write {
        index,
        identity,
        removal,
        answer,
        started,
        at: Instant::now(),
        token,
    }
}

/// What a replica shows for a write's participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The token's own claims.
    Own,
    /// The update, whole.
    Updated,
    /// Refused as revoked.
    Revoked,
    /// Anything else: a mix of fields, another refusal.
    Half(String),
}

pub fn seen(replica: &Replica, write: &Write) -> Seen {
    let mark = format!("w{}", write.index);
    match replica.verifier.verify(&write.token) {
        Err(err) if err.kind() == VerifyErrorKind::Revoked => Seen::Revoked,
        Err(err) => Seen::Half(format!("refused: {err}")),
        Ok(claims) => classify(&claims, &mark),
    }
}

fn classify(claims: &Claims, mark: &str) -> Seen {
    let fields = [
        claims.name(),
        claims.metadata(),
        claims.attributes().get("mark").unwrap_or(""),
    ];
    let publish = claims.can_publish();
    if fields.iter().all(|f| *f == "own") && !publish {
        Seen::Own
    } else if fields.iter().all(|f| *f == mark) && publish {
        Seen::Updated
    } else {
        Seen::Half(format!("{fields:?}, publish {publish}"))
    }
}

/// Whether `seen` is what `write`'s answer allows; `None` when it is, else why not.
pub fn allowed(write: &Write, seen: &Seen) -> Option<String> {
    let done = if write.removal {
        Seen::Revoked
    } else {
        Seen::Updated
    };
    let ok = match &write.answer {
        Answer::Acknowledged => *seen == done,
        Answer::Refused(..) => *seen == Seen::Own,
        Answer::Unknown(_) => *seen == done || *seen == Seen::Own,
    };
    (!ok).then(|| format!("write {} ({:?}) shows {seen:?}", write.index, write.answer))
}

/// A run's findings.
#[derive(Debug, Default)]
pub struct Report {
    pub writes: usize,
    pub acknowledged: usize,
    pub refused: usize,
    pub unknown: usize,
    /// Writes sent after the kill and answered before the first acknowledged write sent
    /// after it.
    pub refused_during_failover: usize,
    /// From the kill to the answer of the first acknowledged write sent after it.
    pub first_ack_after_kill: Option<Duration>,
    /// From the kill until every replica shows what every answer allows.
    pub converged_after_kill: Option<Duration>,
    /// Acknowledged writes some replica does not show once converged (must be 0).
    pub lost: Vec<String>,
    /// Participants shown half written (must be 0).
    pub half: Vec<String>,
    /// The messages of the refusals, one of each kind.
    pub refusal_messages: Vec<String>,
}

/// Runs the failover: `writes_before` acknowledged writes, then a writer over every replica
/// in turn, one write each `every`, while `kill` runs (on a blocking thread: it kills the
/// master, returns the instant of the kill once a new one serves), until `writes_after` writes are acknowledged
/// after the kill or `within` passes; then waits (up to `within`) for every replica to show
/// what the answers allow.
pub async fn run(
    replicas: Arc<Vec<Replica>>,
    writes_before: usize,
    writes_after: usize,
    every: Duration,
    within: Duration,
    kill: impl FnOnce() -> Instant + Send + 'static,
) -> Report {
    let log: Arc<Mutex<Vec<Write>>> = Arc::default();
    for index in 0..writes_before {
        let write = write(&replicas[index % replicas.len()], index).await;
        assert_eq!(write.answer, Answer::Acknowledged, "before the failover");
        log.lock().expect("log").push(write);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (replicas, log, stop) = (replicas.clone(), log.clone(), stop.clone());
        tokio::spawn(async move {
            let mut index = writes_before;
            while !stop.load(Ordering::SeqCst) {
                let write = write(&replicas[index % replicas.len()], index).await;
                log.lock().expect("log").push(write);
                index += 1;
                tokio::time::sleep(every).await;
            }
        })
    };
    let killed_at = tokio::task::spawn_blocking(kill).await.expect("the kill");
    let deadline = killed_at + within;
    loop {
        let after = log
            .lock()
            .expect("log")
            .iter()
            .filter(|w| w.started > killed_at && w.answer == Answer::Acknowledged)
            .count();
        if after >= writes_after || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.expect("the writer");
    let writes = log.lock().expect("log").clone();

    let mut report = Report {
        writes: writes.len(),
        ..Report::default()
    };
    // Writes sent after the kill: one in flight then may have been made before it.
    let first_ack = writes
        .iter()
        .filter(|w| w.started > killed_at && w.answer == Answer::Acknowledged)
        .map(|w| w.at)
        .min();
    report.first_ack_after_kill = first_ack.map(|at| at - killed_at);
    for write in &writes {
        match &write.answer {
            Answer::Acknowledged => report.acknowledged += 1,
            Answer::Refused(kind, message) => {
                report.refused += 1;
                if !report
                    .refusal_messages
                    .iter()
                    .any(|m| m.starts_with(&format!("{kind:?}")))
                {
                    report.refusal_messages.push(format!("{kind:?}: {message}"));
                }
            }
            Answer::Unknown(message) => {
                report.unknown += 1;
                if !report
                    .refusal_messages
                    .iter()
                    .any(|m| m.starts_with("OutcomeUnknown"))
                {
                    report
                        .refusal_messages
                        .push(format!("OutcomeUnknown: {message}"));
                }
            }
        }
        let during = write.started > killed_at && first_ack.is_none_or(|first| write.at < first);
        if during && write.answer != Answer::Acknowledged {
            report.refused_during_failover += 1;
        }
    }

    // Converged: every replica shows what every answer allows, or the deadline.
    let converge_deadline = Instant::now() + within;
    loop {
        let wrong: Vec<String> = replicas
            .iter()
            .flat_map(|replica| writes.iter().filter_map(|w| allowed(w, &seen(replica, w))))
            .collect();
        if wrong.is_empty() {
            report.converged_after_kill = Some(killed_at.elapsed());
            break;
        }
        if Instant::now() > converge_deadline {
            for write in &writes {
                for replica in replicas.iter() {
                    let shown = seen(replica, write);
                    if let Some(why) = allowed(write, &shown) {
                        match shown {
                            Seen::Half(_) => report.half.push(why),
                            _ if write.answer == Answer::Acknowledged => report.lost.push(why),
                            _ => report.half.push(why),
                        }
                    }
                }
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report
}

/// How long each of `n` writes (through each replica in turn, outside any failover) takes to
/// show on the two other replicas, from the moment its answer arrives; indexes start at
/// `first` (so that a run can go on with fresh participants).
pub async fn propagation(replicas: &[Replica], first: usize, n: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(n * 2);
    for index in first..first + n {
        let writer = index % replicas.len();
        let write = write(&replicas[writer], index).await;
        assert_eq!(write.answer, Answer::Acknowledged, "outside a failover");
        for (i, replica) in replicas.iter().enumerate() {
            if i == writer {
                continue;
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while allowed(&write, &seen(replica, &write)).is_some() {
                assert!(Instant::now() < deadline, "write {index} never showed");
                tokio::task::yield_now().await;
            }
            times.push(write.at.elapsed());
        }
    }
    times
}

/// A write every 20 ms through each of three replicas in turn, 12 before the kill and 12
/// after, each check of convergence given 40 s.
const WRITES: (usize, usize, Duration, Duration) =
    (12, 12, Duration::from_millis(20), Duration::from_secs(40));

/// One failover on Sentinel (one master, two replicas, three sentinels, started here): its
/// report, and before it the propagation times of `propagation` writes.
pub async fn on_sentinel(propagation: usize) -> (Report, Vec<Duration>) {
    let set = crate::topology::SentinelSet::start("tlka-failover");
    let redis = RedisTopology::sentinel(set.master_name(), set.sentinel_addresses())
        .expect("sentinel addresses");
    let replicas = Arc::new(replicas(&redis, 3, options()).await);
    let times = self::propagation(&replicas, 1_000_000, propagation).await;
    let set = Arc::new(Mutex::new(set));
    let killer = set.clone();
    let (before, after, every, within) = WRITES;
    let report = run(replicas, before, after, every, within, move || {
        let mut set = killer.lock().expect("the set");
        let killed = Instant::now();
        let old = set.kill_master();
        set.wait_for_new_master(&old, Duration::from_secs(30));
        killed
    })
    .await;
    drop(set);
    (report, times)
}

/// One failover on a Cluster (three masters, three replicas, started here) of the master that
/// holds the state's slot, the dead node restarted once its replica took over (as an operator
/// would: the promoted replica has none, and writes wait for one): its report, and before it
/// the propagation times of `propagation` writes.
pub async fn on_cluster(propagation: usize) -> (Report, Vec<Duration>) {
    let cluster = crate::topology::Cluster::start();
    let redis = RedisTopology::cluster(cluster.addresses()).expect("node addresses");
    let replicas = Arc::new(replicas(&redis, 3, options()).await);
    let times = self::propagation(&replicas, 1_000_000, propagation).await;
    let cluster = Arc::new(Mutex::new(cluster));
    let killer = cluster.clone();
    let (before, after, every, within) = WRITES;
    let report = run(replicas, before, after, every, within, move || {
        let mut cluster = killer.lock().expect("the cluster");
        let key = format!("{{{PREFIX}}}:g");
        let old = cluster.master_of(&key);
        let killed = Instant::now();
        cluster.kill(&old);
        cluster.wait_for_new_master_of(&key, &old, Duration::from_secs(30));
        cluster.restart(&old, Duration::from_secs(30));
        killed
    })
    .await;
    drop(cluster);
    (report, times)
}
