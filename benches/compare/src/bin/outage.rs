//! Redis killed for 10 s under load (issue 12): three `lkauth serve` replicas (`--redis`) on one
//! `redis-server`, a bounded loopback load on all of them, Redis killed (SIGKILL) and
//! restarted, and what every request got, phase by phase.
//!
//! ```sh
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin outage -- \
//!     --server target/release/lkauth [--persistence aof|none] \
//!     [--before 5] [--outage 10] [--after 10] [--clients 2] [--rps 3000] [--participants 30]
//! ```
//! (`benches/compare/scripts/redis_outage.sh` builds both and runs the two scenarios.)
//!
//! Before the load: participants join (`GET /rtc/validate`) on the replicas in turn; a third of
//! them are promoted (`UpdateParticipant`: camera) and a third removed (`RemoveParticipant`)
//! through other replicas, and the tool waits until every replica shows it. The load
//! (`--clients` per replica, `--rps` in all) sends in turn: a valid token on `GET /whoami`
//! (must be 200), a removed participant's token on `GET /whoami` (must be 401), a promoted
//! participant's original token on `POST /rooms/{room}/publish` camera (204 while the
//! promotion holds). Each answer is counted exactly, by the phase in which it was sent:
//!
//! 1. **before**: Redis up;
//! 2. **outage**: Redis killed; every second a write (`UpdateParticipant`, then
//!    `RemoveParticipant`, through each replica in turn) must be refused with twirp
//!    `unavailable` (503) and a message; and the same write through a fourth replica, a
//!    `ParticipantState::redis` in this process on the demo's prefix, must fail with
//!    `StateErrorKind::Unavailable` (the demo refuses its twirp calls earlier, when it looks the
//!    participant up in the rooms it keeps in Redis, so only this one reaches the state's own
//!    write);
//! 3. **restarted**: Redis started again on the same port (`--persistence aof`: same data
//!    directory, append-only file; `none`: empty), until convergence: a write made through
//!    each replica after the restart (a new participant joins, then is updated) is visible on
//!    every replica;
//! 4. **converged**: after that.
//!
//! Beside them, a fifth replica in this process is set to fail closed
//! (`RedisOptions::with_fail_closed_after(3 s)`, resync every 1 s): checked every 10 ms, it
//! shows when it starts refusing participants' tokens (`StateUnavailable`, a 503 in the layer)
//! and when it accepts them again, and that it never accepts a removed one (with `aof`; with
//! `none` it follows the empty Redis like the others: failing closed guards against a stale
//! snapshot, not against lost data).
//!
//! Then, without load, every replica is checked once more: valid tokens accepted, removed ones
//! refused, promotions holding, and the participants the refused outage writes named unchanged.
//! With `aof`, any 5xx, any removed token accepted, any promotion lost, any outage write not
//! refused or any failed check is a FAIL. With `none` the revocations and promotions are
//! gone from Redis after the restart, and the replicas must follow it (documented in
//! `ParticipantState::redis`): the tool reports when the removed tokens started to be accepted
//! again and fails if any replica pretends otherwise.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantState, ParticipantUpdate, RedisOptions, StateError,
    StateErrorKind, StateOptions,
};
use tower_livekit_auth::{
    AccessToken, KeyRing, TrackSource, Verifier, VerifyErrorKind, VideoGrant,
};
use tower_livekit_auth_bench::processes::{ms, DemoReplica, Persistence, RedisServer};

/// The prefix `lkauth serve --redis` writes under.
const DEMO_PREFIX: &str = lkauth::serve::REDIS_PREFIX;
const KEY: &str = "APIoutage0001";
const SECRET: &str = "outageSecret0123456789abcdefghijklmnopqrstu";
const ROOM: &str = "outage";
const NAMES: [&str; 3] = ["A", "B", "C"];
const PHASES: [&str; 4] = ["before", "outage", "restarted", "converged"];
/// How long a propagation or a convergence may take before it counts as failed.
const WITHIN: Duration = Duration::from_secs(30);

struct Args {
    server: PathBuf,
    persistence: Persistence,
    before: Duration,
    outage: Duration,
    after: Duration,
    clients: usize,
    rps: u64,
    participants: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut server = None;
    let mut args = Args {
        server: PathBuf::new(),
        persistence: Persistence::AppendOnly,
        before: Duration::from_secs(5),
        outage: Duration::from_secs(10),
        after: Duration::from_secs(10),
        clients: 2,
        rps: 3000,
        participants: 30,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{arg}: `{value}` is not a number"))
        };
        match arg.as_str() {
            "--server" => server = Some(PathBuf::from(&value)),
            "--persistence" => {
                args.persistence = match value.as_str() {
                    "aof" => Persistence::AppendOnly,
                    "none" => Persistence::None,
                    _ => return Err("--persistence is aof or none".into()),
                }
            }
            "--before" => args.before = Duration::from_secs(number()?),
            "--outage" => args.outage = Duration::from_secs(number()?),
            "--after" => args.after = Duration::from_secs(number()?),
            "--clients" => args.clients = number()?.max(1) as usize,
            "--rps" => args.rps = number()?,
            "--participants" => args.participants = number()?.max(1) as usize,
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    args.server = server
        .ok_or("--server PATH is required (the lkauth binary: cargo build --release -p lkauth)")?;
    Ok(args)
}

fn token(identity: &str) -> String {
    AccessToken::new(KEY, SECRET)
        .with_identity(identity)
        .with_video_grant(VideoGrant::join(ROOM).with_can_publish(false))
        .to_jwt_at(SystemTime::now() - Duration::from_secs(60))
        .expect("mints")
}

/// What one request got.
#[derive(Clone, Copy)]
enum Outcome {
    ValidOk,
    ValidRefused,
    RevokedRefused,
    RevokedAccepted,
    PromotedHeld,
    PromotedLost,
    ServerError,
    OtherStatus,
    TransportError,
}
const OUTCOMES: usize = 9;

/// Counts by phase and outcome, requests by replica.
struct Counts {
    by_phase: [[AtomicU64; OUTCOMES]; 4],
    by_replica: [AtomicU64; 3],
    /// Milliseconds after the start of the first removed token accepted (u64::MAX: none).
    first_revoked_accepted_ms: AtomicU64,
}

impl Counts {
    fn new() -> Self {
        Counts {
            by_phase: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            by_replica: std::array::from_fn(|_| AtomicU64::new(0)),
            first_revoked_accepted_ms: AtomicU64::new(u64::MAX),
        }
    }

    fn get(&self, phase: usize, outcome: Outcome) -> u64 {
        self.by_phase[phase][outcome as usize].load(Ordering::Relaxed)
    }

    fn total(&self, outcome: Outcome) -> u64 {
        (0..4).map(|phase| self.get(phase, outcome)).sum()
    }
}

/// The three replicas over HTTP.
#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    urls: Arc<Vec<String>>,
    admin: Arc<String>,
}

/// A twirp answer: the status, and the error's code and message when there is one.
struct Answer {
    status: u16,
    code: String,
    msg: String,
}

impl Http {
    async fn get(
        &self,
        replica: usize,
        path: &str,
        token: &str,
    ) -> Result<(u16, Option<Value>), reqwest::Error> {
        let response = self
            .client
            .get(format!("{}{path}", self.urls[replica]))
            .bearer_auth(token)
            .send()
            .await?;
        let status = response.status().as_u16();
        let body = if status == 200 {
            response.json().await.ok()
        } else {
            None
        };
        Ok((status, body))
    }

    async fn publish_camera(&self, replica: usize, token: &str) -> Result<u16, reqwest::Error> {
        let response = self
            .client
            .post(format!("{}/rooms/{ROOM}/publish", self.urls[replica]))
            .bearer_auth(token)
            .json(&json!({"source": "camera"}))
            .send()
            .await?;
        Ok(response.status().as_u16())
    }

    async fn twirp(&self, replica: usize, method: &str, body: Value) -> Answer {
        let sent = self
            .client
            .post(format!(
                "{}/twirp/livekit.RoomService/{method}",
                self.urls[replica]
            ))
            .bearer_auth(self.admin.as_str())
            .json(&body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => {
                return Answer {
                    status: 0,
                    code: "transport".into(),
                    msg: err.to_string(),
                }
            }
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Answer {
            status,
            code: text("code"),
            msg: text("msg"),
        }
    }

    async fn metadata(&self, replica: usize, token: &str) -> Option<String> {
        match self.get(replica, "/whoami", token).await {
            Ok((200, Some(body))) => body
                .get("metadata")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        }
    }

    async fn status(&self, replica: usize, token: &str) -> u16 {
        self.get(replica, "/whoami", token)
            .await
            .map_or(0, |(status, _)| status)
    }
}

fn promote(identity: &str, metadata: &str) -> Value {
    json!({"room": ROOM, "identity": identity, "metadata": metadata,
        "permission": {"canSubscribe": true, "canPublish": true, "canPublishSources": ["CAMERA"]}})
}

/// The participants of the run, and their original tokens.
struct People {
    valid: Vec<String>,
    promoted: Vec<String>,
    revoked: Vec<String>,
    /// The participants the outage writes name (joined, never changed).
    targets: Vec<String>,
}

/// Polls `holds` until it is true or `WITHIN` passes; how long it took.
async fn eventually<F, Fut>(mut holds: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if holds().await {
            return Some(started.elapsed());
        }
        if started.elapsed() > WITHIN {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every replica's view, without load: (valid accepted, revoked refused, promotions holding,
/// outage-write targets unchanged), each out of participants × 3.
async fn census(http: &Http, people: &People) -> [usize; 4] {
    let mut found = [0; 4];
    for replica in 0..3 {
        for token in &people.valid {
            found[0] += usize::from(http.status(replica, token).await == 200);
        }
        for token in &people.revoked {
            found[1] += usize::from(http.status(replica, token).await == 401);
        }
        for token in &people.promoted {
            found[2] += usize::from(
                http.publish_camera(replica, token)
                    .await
                    .is_ok_and(|s| s == 204),
            );
        }
        for token in &people.targets {
            let unchanged = http
                .metadata(replica, token)
                .await
                .is_some_and(|m| m.is_empty())
                && http
                    .publish_camera(replica, token)
                    .await
                    .is_ok_and(|s| s == 403);
            found[3] += usize::from(unchanged);
        }
    }
    found
}

async fn setup(http: &Http, people: &People) -> Result<(), String> {
    let all = people
        .valid
        .iter()
        .chain(&people.promoted)
        .chain(&people.revoked)
        .chain(&people.targets);
    for (i, token) in all.enumerate() {
        let (status, _) = http
            .get(i % 3, "/rtc/validate", token)
            .await
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!(
                "a participant could not join: GET /rtc/validate answered {status}"
            ));
        }
    }
    for i in 0..people.promoted.len() {
        let answer = http
            .twirp(
                (i + 1) % 3,
                "UpdateParticipant",
                promote(&format!("p{i}"), "promoted"),
            )
            .await;
        if answer.status != 200 {
            return Err(format!(
                "UpdateParticipant p{i}: {} {} {}",
                answer.status, answer.code, answer.msg
            ));
        }
    }
    for i in 0..people.revoked.len() {
        let body = json!({"room": ROOM, "identity": format!("r{i}")});
        let answer = http.twirp((i + 2) % 3, "RemoveParticipant", body).await;
        if answer.status != 200 {
            return Err(format!(
                "RemoveParticipant r{i}: {} {} {}",
                answer.status, answer.code, answer.msg
            ));
        }
    }
    let n = people.valid.len() * 3;
    let want = [
        n,
        people.revoked.len() * 3,
        people.promoted.len() * 3,
        people.targets.len() * 3,
    ];
    match eventually(|| async { census(http, people).await == want }).await {
        Some(took) => {
            println!(
                "setup: every replica shows the joins, promotions and removals ({} ms)",
                took.as_millis()
            );
            Ok(())
        }
        None => Err(format!(
            "setup did not converge within {WITHIN:?}: {:?} of {want:?}",
            census(http, people).await
        )),
    }
}

/// One load client on `replica`, until `stop`.
#[allow(clippy::too_many_arguments)]
async fn client(
    http: Http,
    people: Arc<People>,
    replica: usize,
    seed: usize,
    interval: Option<Duration>,
    phase: Arc<AtomicUsize>,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
    start: Instant,
) {
    let mut ticks = interval.map(|every| {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    let mut n = seed;
    while !stop.load(Ordering::Relaxed) {
        if let Some(ticks) = ticks.as_mut() {
            ticks.tick().await;
        }
        n += 1;
        let at = phase.load(Ordering::SeqCst);
        let pick = |tokens: &[String]| tokens[(n / 3) % tokens.len()].clone();
        let outcome = match n % 3 {
            0 => match http.get(replica, "/whoami", &pick(&people.valid)).await {
                Ok((200, _)) => Outcome::ValidOk,
                Ok((401, _)) => Outcome::ValidRefused,
                Ok((s, _)) if s >= 500 => Outcome::ServerError,
                Ok(_) => Outcome::OtherStatus,
                Err(_) => Outcome::TransportError,
            },
            1 => match http.get(replica, "/whoami", &pick(&people.revoked)).await {
                Ok((401, _)) => Outcome::RevokedRefused,
                Ok((200, _)) => {
                    let t = start.elapsed().as_millis() as u64;
                    counts
                        .first_revoked_accepted_ms
                        .fetch_min(t, Ordering::Relaxed);
                    Outcome::RevokedAccepted
                }
                Ok((s, _)) if s >= 500 => Outcome::ServerError,
                Ok(_) => Outcome::OtherStatus,
                Err(_) => Outcome::TransportError,
            },
            _ => match http.publish_camera(replica, &pick(&people.promoted)).await {
                Ok(204) => Outcome::PromotedHeld,
                Ok(403) => Outcome::PromotedLost,
                Ok(s) if s >= 500 => Outcome::ServerError,
                Ok(_) => Outcome::OtherStatus,
                Err(_) => Outcome::TransportError,
            },
        };
        counts.by_phase[at][outcome as usize].fetch_add(1, Ordering::Relaxed);
        counts.by_replica[replica].fetch_add(1, Ordering::Relaxed);
    }
}

/// A write tried while Redis is down.
struct OutageWrite {
    at: Duration,
    replica: usize,
    method: &'static str,
    answer: Answer,
    took: Duration,
    /// The same write through the in-process replica, and how long it took to fail.
    library: Result<(), StateError>,
    library_took: Duration,
}

fn camera(metadata: &str) -> ParticipantUpdate {
    ParticipantUpdate::new()
        .with_metadata(metadata)
        .with_permission(
            ParticipantPermission::new()
                .with_can_subscribe(true)
                .with_can_publish(true)
                .with_can_publish_sources([TrackSource::Camera]),
        )
}

/// What the fail-closed replica did.
#[derive(Default)]
struct Strict {
    /// (ms after the start, whether it refuses from then on), at each change.
    changes: Vec<(u64, bool)>,
    checks: u64,
    revoked_accepted: u64,
    /// Milliseconds after the start of the first removed token accepted.
    first_revoked_accepted_ms: Option<u64>,
    other: u64,
}

/// Checks the fail-closed replica every 10 ms until `stop`: a valid token (accepted, or
/// refused as `StateUnavailable`) and a removed one (never accepted).
async fn watch_strict(
    verifier: Verifier,
    people: Arc<People>,
    stop: Arc<AtomicBool>,
    start: Instant,
) -> Strict {
    let mut seen = Strict::default();
    let mut refusing = false;
    while !stop.load(Ordering::Relaxed) {
        seen.checks += 1;
        let now = start.elapsed().as_millis() as u64;
        match verifier.verify(&people.valid[0]).map_err(|e| e.kind()) {
            Ok(_) if refusing => {
                refusing = false;
                seen.changes.push((now, false));
            }
            Err(VerifyErrorKind::StateUnavailable) if !refusing => {
                refusing = true;
                seen.changes.push((now, true));
            }
            Ok(_) | Err(VerifyErrorKind::StateUnavailable) => {}
            Err(_) => seen.other += 1,
        }
        match verifier.verify(&people.revoked[0]).map_err(|e| e.kind()) {
            Ok(_) => {
                seen.revoked_accepted += 1;
                seen.first_revoked_accepted_ms.get_or_insert(now);
            }
            Err(VerifyErrorKind::Revoked | VerifyErrorKind::StateUnavailable) => {}
            Err(_) => seen.other += 1,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen
}

async fn run(args: &Args) -> Result<bool, String> {
    let mut redis = RedisServer::start(args.persistence).map_err(|e| e.to_string())?;
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(
            DemoReplica::start(&args.server, KEY, SECRET, &redis.url())
                .map_err(|e| e.to_string())?,
        );
    }
    println!(
        "redis-server {} (pid {}), persistence {}; replicas {}",
        redis.url(),
        redis.pid().unwrap_or(0),
        match args.persistence {
            Persistence::AppendOnly =>
                "appendonly yes, appendfsync everysec, data dir kept across the restart",
            Persistence::None => "none (save \"\", appendonly no)",
        },
        replicas
            .iter()
            .zip(NAMES)
            .map(|(r, name)| format!("{name} {} (pid {})", r.url, r.pid()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let http = Http {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?,
        urls: Arc::new(replicas.iter().map(|r| r.url.clone()).collect()),
        admin: Arc::new(
            AccessToken::new(KEY, SECRET)
                .with_video_grant(VideoGrant::admin(ROOM))
                .to_jwt()
                .map_err(|e| e.to_string())?,
        ),
    };
    let n = args.participants;
    let people = Arc::new(People {
        valid: (0..n).map(|i| token(&format!("v{i}"))).collect(),
        promoted: (0..n).map(|i| token(&format!("p{i}"))).collect(),
        revoked: (0..n).map(|i| token(&format!("r{i}"))).collect(),
        targets: (0..n).map(|i| token(&format!("o{i}"))).collect(),
    });
    setup(&http, &people).await?;
    // A fourth replica, in this process, on the demo's prefix: its writes go to the state
    // directly (the defaults: write timeout 2 s, fail open).
    let library = ParticipantState::redis(
        &redis.url(),
        StateOptions::new(),
        RedisOptions::new().with_prefix(DEMO_PREFIX),
    )
    .await
    .map_err(|e| format!("the in-process replica: {e}"))?;
    let strict_state = ParticipantState::redis(
        &redis.url(),
        StateOptions::new(),
        RedisOptions::new()
            .with_prefix(DEMO_PREFIX)
            .with_resync_interval(Duration::from_secs(1))
            .with_fail_closed_after(Duration::from_secs(3)),
    )
    .await
    .map_err(|e| format!("the fail-closed replica: {e}"))?;
    let strict = Verifier::new(
        KeyRing::new()
            .with_key(KEY, SECRET)
            .map_err(|e| e.to_string())?,
    )
    .with_participant_state(strict_state);

    let phase = Arc::new(AtomicUsize::new(0));
    let counts = Arc::new(Counts::new());
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let clients = args.clients * 3;
    let interval =
        (args.rps > 0).then(|| Duration::from_secs_f64(clients as f64 / args.rps as f64));
    let mut tasks = Vec::new();
    for c in 0..clients {
        tasks.push(tokio::spawn(client(
            http.clone(),
            people.clone(),
            c % 3,
            c * 7,
            interval,
            phase.clone(),
            counts.clone(),
            stop.clone(),
            start,
        )));
    }
    let watcher = tokio::spawn(watch_strict(strict, people.clone(), stop.clone(), start));
    println!(
        "load: {clients} clients ({} per replica), {}; phases: before {:?}, outage {:?}, then {:?} after the restart (longer if convergence takes longer)",
        args.clients,
        if args.rps > 0 { format!("{} requests/s in all", args.rps) } else { "unthrottled".into() },
        args.before,
        args.outage,
        args.after
    );

    tokio::time::sleep(args.before).await;
    redis.kill();
    let killed = Instant::now();
    phase.store(1, Ordering::SeqCst);
    println!(
        "t={} ms: redis-server killed (SIGKILL)",
        start.elapsed().as_millis()
    );

    // Writes while Redis is down: one a second, while one can finish before the restart.
    let mut writes = Vec::new();
    let mut k = 0;
    while killed.elapsed() + Duration::from_millis(2500) < args.outage {
        let round = Instant::now();
        let replica = k % 3;
        let target = format!("o{}", k % n);
        let (method, body) = if k % 2 == 0 {
            (
                "UpdateParticipant",
                promote(&target, "written during the outage"),
            )
        } else {
            (
                "RemoveParticipant",
                json!({"room": ROOM, "identity": target}),
            )
        };
        let at = killed.elapsed();
        let answer = http.twirp(replica, method, body).await;
        let took = round.elapsed();
        let direct = Instant::now();
        let library_result = if k % 2 == 0 {
            library
                .update(ROOM, &target, camera("written during the outage"))
                .await
        } else {
            library.remove(ROOM, &target, None).await.map(|_| ())
        };
        writes.push(OutageWrite {
            at,
            replica,
            method,
            answer,
            took,
            library: library_result,
            library_took: direct.elapsed(),
        });
        k += 1;
        let next = round + Duration::from_secs(1);
        tokio::time::sleep_until(next.into()).await;
    }
    // A join writes the rooms to Redis too.
    let joined_during = http
        .get(0, "/rtc/validate", &token("joins-during-the-outage"))
        .await
        .map_or(0, |(status, _)| status);
    tokio::time::sleep_until((killed + args.outage).into()).await;

    let restarting = Instant::now();
    redis.restart().map_err(|e| e.to_string())?;
    let up = Instant::now();
    phase.store(2, Ordering::SeqCst);
    println!(
        "t={} ms: redis-server restarted (pid {}), answering PING {} ms after it was started",
        start.elapsed().as_millis(),
        redis.pid().unwrap_or(0),
        (up - restarting).as_millis()
    );

    // Convergence: a participant per replica joins and is updated through it after the
    // restart; converged once every replica shows all three.
    let mut first_write = Vec::new();
    for (replica, name) in NAMES.iter().enumerate() {
        let (http, probe) = (http.clone(), token(&format!("probe-{replica}")));
        first_write.push(tokio::spawn(async move {
            let joined = eventually(|| async {
                http.get(replica, "/rtc/validate", &probe)
                    .await
                    .is_ok_and(|(s, _)| s == 200)
            })
            .await?;
            let updated = eventually(|| async {
                let body = promote(
                    &format!("probe-{replica}"),
                    &format!("after the restart, via {name}"),
                );
                http.twirp(replica, "UpdateParticipant", body).await.status == 200
            })
            .await?;
            Some((joined, joined + updated, up.elapsed()))
        }));
    }
    let mut written = Vec::new();
    for task in first_write {
        written.push(task.await.ok().flatten());
    }
    let probes: Vec<String> = (0..3).map(|r| token(&format!("probe-{r}"))).collect();
    let everywhere = eventually(|| async {
        for (via, probe) in probes.iter().enumerate() {
            let want = format!("after the restart, via {}", NAMES[via]);
            for replica in 0..3 {
                if http.metadata(replica, probe).await.as_deref() != Some(want.as_str()) {
                    return false;
                }
            }
            let record = library.get(ROOM, &format!("probe-{via}"));
            if record.as_ref().and_then(|r| r.changes().metadata()) != Some(want.as_str()) {
                return false;
            }
        }
        true
    })
    .await;
    let converged = up.elapsed();
    phase.store(3, Ordering::SeqCst);
    let converged_at = Instant::now();
    tokio::time::sleep_until(
        (up + args.after)
            .max(converged_at + Duration::from_secs(2))
            .into(),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let strict = watcher.await.unwrap_or_default();
    let phase_seconds = [
        (killed - start).as_secs_f64(),
        (up - killed).as_secs_f64(),
        (converged_at - up).as_secs_f64(),
        converged_at.elapsed().as_secs_f64(),
    ];
    let census = census(&http, &people).await;

    // The report.
    println!("\n| phase | s | requests | valid: 200 / refused | removed: 401 / accepted | promoted: 204 / 403 | 5xx | other status | transport errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (p, name) in PHASES.iter().enumerate() {
        let get = |o| counts.get(p, o);
        let total: u64 = (0..OUTCOMES)
            .map(|o| counts.by_phase[p][o].load(Ordering::Relaxed))
            .sum();
        println!(
            "| {name} | {:.1} | {total} | {} / {} | {} / {} | {} / {} | {} | {} | {} |",
            phase_seconds[p],
            get(Outcome::ValidOk),
            get(Outcome::ValidRefused),
            get(Outcome::RevokedRefused),
            get(Outcome::RevokedAccepted),
            get(Outcome::PromotedHeld),
            get(Outcome::PromotedLost),
            get(Outcome::ServerError),
            get(Outcome::OtherStatus),
            get(Outcome::TransportError),
        );
    }
    println!(
        "requests by replica: {}",
        (0..3)
            .map(|r| format!(
                "{} {}",
                NAMES[r],
                counts.by_replica[r].load(Ordering::Relaxed)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("\nwrites during the outage ({}):", writes.len());
    let mut writes_refused = !writes.is_empty();
    for write in &writes {
        let refused = write.answer.status == 503
            && write.answer.code == "unavailable"
            && !write.answer.msg.is_empty();
        let library_refused = write
            .library
            .as_ref()
            .is_err_and(|e| e.kind() == StateErrorKind::Unavailable);
        writes_refused &= refused && library_refused;
        println!(
            "  t+{:.1} s {} via {}: {} {} \"{}\" in {} ms{}",
            write.at.as_secs_f64(),
            write.method,
            NAMES[write.replica],
            write.answer.status,
            write.answer.code,
            write.answer.msg,
            ms(write.took),
            if refused {
                ""
            } else {
                "  <- NOT REFUSED AS unavailable"
            }
        );
        println!(
            "           the same through ParticipantState::redis: {} in {} ms{}",
            match &write.library {
                Ok(()) => "Ok(()): reported done".to_owned(),
                Err(err) => format!("{:?}: \"{err}\"", err.kind()),
            },
            ms(write.library_took),
            if library_refused {
                ""
            } else {
                "  <- NOT Unavailable"
            }
        );
    }
    println!("  a join (GET /rtc/validate, it writes the room to Redis) during the outage: {joined_during}");
    println!("\nconvergence after the restart (redis-server answering PING = 0):");
    for (replica, w) in written.iter().enumerate() {
        match w {
            Some((joined, updated, _)) => println!(
                "  via {}: the join went through after {} ms, the update after {} ms",
                NAMES[replica],
                joined.as_millis(),
                updated.as_millis()
            ),
            None => println!(
                "  via {}: no write went through within {WITHIN:?}",
                NAMES[replica]
            ),
        }
    }
    match everywhere {
        Some(_) => println!(
            "  every replica (and the in-process one) shows all three writes: {} ms after the restart",
            converged.as_millis()
        ),
        None => println!("  NOT converged within {WITHIN:?} after the writes"),
    }
    let first_accepted = counts.first_revoked_accepted_ms.load(Ordering::Relaxed);
    if first_accepted != u64::MAX {
        let restart_ms = (up - start).as_millis() as i128;
        println!(
            "  the first removed token accepted: {} ms after the restart",
            i128::from(first_accepted) - restart_ms
        );
    }
    let at = |ms: u64| ms as i128 - (killed - start).as_millis() as i128;
    let after_up = |ms: u64| ms as i128 - (up - start).as_millis() as i128;
    println!(
        "\nthe fail-closed replica (in process; resync 1 s, fail closed after 3 s), checked every 10 ms:"
    );
    for (ms, refused) in &strict.changes {
        if *refused {
            println!(
                "  refuses participants' tokens (StateUnavailable) from {} ms after the kill",
                at(*ms)
            );
        } else {
            println!(
                "  accepts them again {} ms after the restart",
                after_up(*ms)
            );
        }
    }
    println!(
        "  checks: {}, a removed token accepted: {}{}, another error: {}",
        strict.checks,
        strict.revoked_accepted,
        strict
            .first_revoked_accepted_ms
            .map(|ms| format!(" (the first {} ms after the restart)", after_up(ms)))
            .unwrap_or_default(),
        strict.other
    );
    // Fail closed guards against a stale snapshot, not against a Redis that lost its data:
    // without persistence it follows Redis too.
    let strict_followed = match args.persistence {
        Persistence::AppendOnly => strict.revoked_accepted == 0,
        Persistence::None => strict
            .first_revoked_accepted_ms
            .is_some_and(|ms| after_up(ms) >= 0),
    };
    let strict_ok = strict_followed
        && strict.other == 0
        && strict.changes.len() == 2
        && strict.changes[0].1
        && !strict.changes[1].1;
    let m = n * 3;
    let untouched_here = (0..n)
        .filter(|i| library.get(ROOM, &format!("o{i}")).is_none())
        .count();
    println!(
        "the in-process replica holds nothing for the outage-write targets: {untouched_here}/{n}"
    );
    println!(
        "\nafter the run, without load, on every replica: valid accepted {}/{m}, removed refused {}/{m}, promotions holding {}/{m}, outage-write targets unchanged {}/{m}",
        census[0], census[1], census[2], census[3]
    );

    let five_xx = counts.total(Outcome::ServerError);
    let transport = counts.total(Outcome::TransportError);
    let other = counts.total(Outcome::OtherStatus);
    let valid_refused = counts.total(Outcome::ValidRefused);
    let common = five_xx == 0
        && transport == 0
        && other == 0
        && valid_refused == 0
        && writes_refused
        && everywhere.is_some()
        && written.iter().all(Option::is_some)
        && census[0] == m
        && census[3] == m
        && untouched_here == n
        && strict_ok;
    let verdict = match args.persistence {
        Persistence::AppendOnly => {
            let ok = common
                && counts.total(Outcome::RevokedAccepted) == 0
                && counts.total(Outcome::PromotedLost) == 0
                && census[1] == m
                && census[2] == m;
            println!(
                "\n{}: {five_xx} 5xx, {} removed tokens accepted, {} promotions lost, {valid_refused} valid refused, outage writes refused as unavailable: {writes_refused}, converged {} ms after the restart",
                if ok { "PASS" } else { "FAIL" },
                counts.total(Outcome::RevokedAccepted),
                counts.total(Outcome::PromotedLost),
                converged.as_millis()
            );
            ok
        }
        Persistence::None => {
            // Redis came back empty: the replicas must follow it, not pretend.
            let before_restart =
                counts.get(0, Outcome::RevokedAccepted) + counts.get(1, Outcome::RevokedAccepted);
            let ok = common && before_restart == 0 && census[1] == 0 && census[2] == 0;
            println!(
                "\n{} (as documented: without persistence Redis restarts empty and every replica follows it): {five_xx} 5xx; removed tokens accepted before the restart {before_restart}, after it {}; promotions lost after it {}; after the run removed refused {}/{m}, promotions holding {}/{m}",
                if ok { "PASS" } else { "FAIL" },
                counts.get(2, Outcome::RevokedAccepted) + counts.get(3, Outcome::RevokedAccepted),
                counts.get(2, Outcome::PromotedLost) + counts.get(3, Outcome::PromotedLost),
                census[1],
                census[2]
            );
            ok
        }
    };
    drop(replicas);
    Ok(verdict)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!("usage: outage --server PATH [--persistence aof|none] [--before 5] [--outage 10] [--after 10] [--clients 2] [--rps 3000] [--participants 30]");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(&args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}
