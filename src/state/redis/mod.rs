//! (feature `redis`) The participant state shared by every replica through Redis.
//!
//! Writes go to Redis first, in one transaction per write (`MULTI`): the participant's update
//! records (`<prefix>:u:<id>`, a list), its revocation records (`<prefix>:r:<id>`, a list
//! never trimmed) and a version counter (`<prefix>:v:<id>`), all expiring with the state's
//! retention, and an announcement of the participant on `<prefix>:events`, numbered from the
//! deployment's counter `<prefix>:g`. A write is reported done only once Redis has it. The
//! writer installs the result in its own snapshot at once; every replica installs it when the
//! announcement arrives, rescans Redis after every (re)connect, and checks the counter every
//! `resync_interval`: pub/sub delivers at most once, so a replica that finds an announcement
//! missing rescans (see [`announcements`](super::announcements); a replica that missed nothing
//! pays one `GET` per interval, not a scan of every entry). The hot path reads the local
//! snapshot only: no request waits on Redis.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncCommands, Client};
use tokio::sync::watch;

use super::announcements::{self, Applied, Check};
use super::entry::{Entry, Write};
use super::{Inner, StateError, StateErrorKind};

/// Numbers the write's announcement from the deployment's counter (`KEYS[1]`) and publishes
/// it on `ARGV[1]` for participant `ARGV[2]`, in the write's transaction. A counter Redis lost
/// (flushed, or expired after a retention without writes) starts again from the writer's clock
/// (`ARGV[3]`), above any number the old one reached, so that no number is reused; it expires
/// with the retention (`ARGV[4]`). Lua's numbers are doubles: exact up to 2^53, far above a
/// clock in microseconds.
const ANNOUNCE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[3]) end
local number = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[1], string.format('%d %s', number, ARGV[2]))
return number
";

/// How the Redis backend behaves. See [`ParticipantState::redis`](super::ParticipantState::redis).
#[derive(Clone, Debug)]
pub struct RedisOptions {
    pub(crate) prefix: String,
    pub(crate) resync_interval: Duration,
    pub(crate) fail_closed_after: Option<Duration>,
    pub(crate) write_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_update_records: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            prefix: "tower-livekit-auth".into(),
            resync_interval: Duration::from_secs(5),
            fail_closed_after: None,
            write_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            max_backoff: Duration::from_secs(2),
            max_update_records: 1024,
        }
    }
}

impl RedisOptions {
    /// The defaults: prefix `tower-livekit-auth`, a check every 5 s, fail open, writes given
    /// up after 2 s, 5 s to reach Redis at start, reconnect backoff up to 2 s.
    #[must_use]
    pub fn new() -> Self {
        RedisOptions::default()
    }

    /// The prefix of every key and of the channel: replicas of one deployment share it, two
    /// deployments on one Redis must not.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How often a replica checks that it missed no announcement (default 5 s): one `GET` of
    /// the deployment's write counter, and a rescan of every entry only when an announcement
    /// is missing. An announcement may still be in flight at one check, so a missed one is
    /// noticed within two intervals; a dropped connection is noticed at once and rescanned on
    /// reconnect. A successful check counts as a sync for
    /// [`with_fail_closed_after`](Self::with_fail_closed_after).
    #[must_use]
    pub fn with_resync_interval(mut self, interval: Duration) -> Self {
        self.resync_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Fail closed: when no resync has succeeded for `staleness`, refuse the tokens of
    /// participants ([`VerifyErrorKind::StateUnavailable`](crate::VerifyErrorKind), a 503)
    /// instead of answering with state that may be old. Off by default (fail open: tokens keep
    /// verifying against the last known state while Redis is away). Take at least twice the
    /// resync interval.
    #[must_use]
    pub fn with_fail_closed_after(mut self, staleness: Duration) -> Self {
        self.fail_closed_after = Some(staleness);
        self
    }

    /// How long a write may wait for Redis before it fails (default 2 s).
    #[must_use]
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How long [`ParticipantState::redis`](super::ParticipantState::redis) waits for the first
    /// resync before it fails (default 5 s).
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest wait between two reconnection attempts (default 2 s; the backoff starts at
    /// 50 ms and doubles).
    #[must_use]
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }
}

/// The keys of one deployment.
#[derive(Clone, Debug)]
struct Keys {
    prefix: String,
}

impl Keys {
    /// A participant's id in the keys: the room's length, the room, the identity
    /// (`6:myroom:alice`), unambiguous whatever the names hold.
    fn id(room: &str, identity: &str) -> String {
        format!("{}:{room}:{identity}", room.len())
    }

    fn parse(id: &str) -> Option<(&str, &str)> {
        let (len, rest) = id.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let room = rest.get(..len)?;
        let identity = rest.get(len..)?.strip_prefix(':')?;
        Some((room, identity))
    }

    fn updates(&self, id: &str) -> String {
        format!("{}:u:{id}", self.prefix)
    }

    fn revocations(&self, id: &str) -> String {
        format!("{}:r:{id}", self.prefix)
    }

    fn version(&self, id: &str) -> String {
        format!("{}:v:{id}", self.prefix)
    }

    fn channel(&self) -> String {
        format!("{}:events", self.prefix)
    }

    /// The deployment's counter of writes, which numbers the announcements.
    fn counter(&self) -> String {
        format!("{}:g", self.prefix)
    }
}

/// When the snapshot was last resynchronised, for the fail-closed option.
#[derive(Debug)]
pub(crate) struct Health {
    last_sync_ms: AtomicI64,
    limit_ms: Option<i64>,
}

impl Health {
    /// Whether, at `now_ms`, the snapshot is older than the fail-closed limit allows.
    #[inline]
    pub(crate) fn too_stale(&self, now_ms: i64) -> bool {
        self.limit_ms.is_some_and(|limit| {
            now_ms.saturating_sub(self.last_sync_ms.load(Ordering::Relaxed)) > limit
        })
    }
}

/// The backend a [`ParticipantState`](super::ParticipantState) writes through.
pub(crate) struct RedisBackend {
    writes: ConnectionManager,
    keys: Keys,
    options: RedisOptions,
    pub(crate) health: Arc<Health>,
    ticks: watch::Receiver<u64>,
    task: Arc<OnceLock<tokio::task::AbortHandle>>,
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("prefix", &self.keys.prefix)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn unavailable(err: &redis::RedisError) -> StateError {
    // redis-rs errors name the command and the server's answer, never the URL's password.
    StateError::with_detail(StateErrorKind::Unavailable, format!("Redis: {err}"))
}

/// The client for `url`, as redis-rs reads it (`redis://`, `rediss://`, a password, a
/// database number).
pub(crate) fn client(url: &str) -> Result<Client, StateError> {
    install_crypto_provider();
    // The error is not shown: redis-rs may quote the URL, and the URL may hold a password.
    Client::open(url).map_err(|_| {
        StateError::with_detail(
            StateErrorKind::InvalidConfig,
            "not a Redis URL: redis://[:password@]host[:port][/db] or rediss://...",
        )
    })
}

/// rustls needs a process-wide crypto provider for `rediss://`; the crate brings `ring`
/// and installs it only if the application has installed none (never replacing one).
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl RedisBackend {
    /// The backend (writes connect lazily) and its sync task, to be started with
    /// [`Sync::start`] once the state it belongs to exists.
    pub(crate) fn new(client: Client, options: RedisOptions) -> Result<(Self, Sync), StateError> {
        // redis-rs and the sync task need a tokio runtime: an error here, not their panic.
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StateError::with_detail(
                StateErrorKind::InvalidConfig,
                "the Redis backend runs on a tokio runtime: call it from within one",
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.write_timeout))
            .set_response_timeout(Some(options.write_timeout))
            .set_number_of_retries(1)
            .set_max_delay(options.max_backoff);
        let writes = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|err| unavailable(&err))?;
        let keys = Keys {
            prefix: options.prefix.clone(),
        };
        let health = Arc::new(Health {
            last_sync_ms: AtomicI64::new(i64::MIN / 2),
            limit_ms: options
                .fail_closed_after
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        });
        let (synced, ticks) = watch::channel(0);
        let task = Arc::new(OnceLock::new());
        let sync = Sync {
            inner: Weak::new(),
            client,
            keys: keys.clone(),
            options: options.clone(),
            health: health.clone(),
            synced,
            task: task.clone(),
            runtime,
        };
        let backend = RedisBackend {
            writes,
            keys,
            options,
            health,
            ticks,
            task,
        };
        Ok((backend, sync))
    }

    /// Waits until the snapshot has been resynchronised from Redis at least once, up to the
    /// connect timeout.
    pub(crate) async fn first_sync(&self) -> Result<(), StateError> {
        let mut ticks = self.ticks.clone();
        let synced = tokio::time::timeout(self.options.connect_timeout, ticks.wait_for(|n| *n > 0))
            .await
            .is_ok_and(|waited| waited.is_ok());
        match synced {
            true => Ok(()),
            false => Err(StateError::with_detail(
                StateErrorKind::Unavailable,
                format!(
                    "could not read the state from Redis within {:?}; a replica that started \
                     without it would accept revoked tokens",
                    self.options.connect_timeout
                ),
            )),
        }
    }

    /// Writes `write` for the participant to Redis (and, once Redis has it, to `inner`'s
    /// snapshot). Fails, having written nothing, when Redis does not answer within the write
    /// timeout.
    pub(crate) async fn write(
        &self,
        inner: &Inner,
        room: &str,
        identity: &str,
        write: &Write,
    ) -> Result<(), StateError> {
        let id = Keys::id(room, identity);
        let (updates, revocations, version) = (
            self.keys.updates(&id),
            self.keys.revocations(&id),
            self.keys.version(&id),
        );
        let record = serde_json::to_string(write).map_err(|_| {
            StateError::with_detail(StateErrorKind::Unavailable, "cannot encode the write")
        })?;
        let retention = inner.options.retention_ms().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic();
        match write {
            Write::Update { .. } => {
                pipe.rpush(&updates, &record).ignore();
                let keep = isize::try_from(self.options.max_update_records).unwrap_or(isize::MAX);
                pipe.ltrim(&updates, -keep, -1).ignore();
            }
            Write::Revoke { .. } => {
                pipe.rpush(&revocations, &record).ignore();
            }
            Write::Remove { .. } => {
                pipe.del(&updates).ignore();
                pipe.rpush(&revocations, &record).ignore();
            }
        }
        pipe.incr(&version, 1);
        for key in [&updates, &revocations, &version] {
            pipe.pexpire(key, retention).ignore();
        }
        pipe.lrange(&updates, 0, -1).lrange(&revocations, 0, -1);
        let restart_at = crate::time::unix_ms(inner.options.now()).clamp(0, 1 << 42) * 1000;
        pipe.cmd("EVAL")
            .arg(ANNOUNCE)
            .arg(1)
            .arg(self.keys.counter())
            .arg(self.keys.channel())
            .arg(&id)
            .arg(restart_at)
            .arg(retention)
            .ignore();
        let mut connection = self.writes.clone();
        let query = pipe.query_async::<(u64, Vec<String>, Vec<String>)>(&mut connection);
        let (version, updates, revocations) =
            match tokio::time::timeout(self.options.write_timeout, query).await {
                Ok(Ok(result)) => result,
                Ok(Err(err)) => return Err(unavailable(&err)),
                Err(_) => {
                    return Err(StateError::with_detail(
                        StateErrorKind::Unavailable,
                        "Redis did not answer within the write timeout",
                    ))
                }
            };
        let entry = rebuild(room, identity, version, &updates, &revocations);
        inner.snapshot.put(room, identity, Some(entry));
        Ok(())
    }
}

/// The entry Redis holds, from its records. An update record that cannot be read (written by
/// another version of the crate, say) is skipped; a revocation record that cannot be read
/// refuses every token of the participant, the safe reading.
fn rebuild(
    room: &str,
    identity: &str,
    version: u64,
    updates: &[String],
    revocations: &[String],
) -> Entry {
    let updates: Vec<Write> = updates
        .iter()
        .filter_map(|record| serde_json::from_str(record).ok())
        .collect();
    let revocations: Vec<Write> = revocations
        .iter()
        .map(|record| {
            serde_json::from_str(record).unwrap_or(Write::Revoke {
                at_ms: 0,
                cutoff: i64::MAX,
            })
        })
        .collect();
    Entry::rebuilt(room, identity, version, &updates, &revocations)
}

/// The background task: one subscription, resyncs, reconnection with backoff, for as long as
/// the state lives.
pub(crate) struct Sync {
    inner: Weak<Inner>,
    client: Client,
    keys: Keys,
    options: RedisOptions,
    health: Arc<Health>,
    synced: watch::Sender<u64>,
    task: Arc<OnceLock<tokio::task::AbortHandle>>,
    runtime: tokio::runtime::Handle,
}

/// Why a session with Redis ended.
enum Ended {
    /// The state was dropped: stop.
    Dropped,
    /// The connection or the subscription was lost, after resyncing at least once or not.
    Lost { synced: bool },
}

impl Sync {
    /// Runs the task for `inner` on the runtime [`RedisBackend::new`] found.
    pub(crate) fn start(mut self, inner: &Arc<Inner>) {
        self.inner = Arc::downgrade(inner);
        let task = self.task.clone();
        let runtime = self.runtime.clone();
        let _ = task.set(runtime.spawn(self.run()).abort_handle());
    }

    async fn run(self) {
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.session().await {
                Ended::Dropped => return,
                Ended::Lost { synced } => {
                    if synced {
                        backoff = Duration::from_millis(50);
                    }
                }
            }
            #[cfg(feature = "tracing")]
            tracing::warn!(
                prefix = self.keys.prefix,
                "participant state: lost Redis, reconnecting in {backoff:?}"
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(self.options.max_backoff.max(Duration::from_millis(50)));
            if self.inner.strong_count() == 0 {
                return;
            }
        }
    }

    async fn session(&self) -> Ended {
        let timeout = self.options.connect_timeout;
        let connected = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(self.keys.channel()).await?;
            let fetches = self.client.get_multiplexed_async_connection().await?;
            Ok::<_, redis::RedisError>((pubsub, fetches))
        };
        let Ok(Ok((pubsub, mut fetches))) = tokio::time::timeout(timeout, connected).await else {
            return Ended::Lost { synced: false };
        };
        // Subscribed first, then rescanned: nothing written in between is missed.
        let mut applied = Applied::default();
        match self.rescan(&mut fetches, &mut applied).await {
            Ok(true) => {}
            Ok(false) => return Ended::Dropped,
            Err(_) => return Ended::Lost { synced: false },
        }
        let mut messages = pubsub.into_on_message();
        let mut ticks = tokio::time::interval(self.options.resync_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else {
                        return Ended::Lost { synced: true };
                    };
                    let Ok(payload) = message.get_payload::<String>() else { continue };
                    // Another format (another version of the crate): its rescan will tell.
                    let Some((number, id)) = announcements::parse(&payload) else { continue };
                    if applied.covers(number) {
                        // A rescan read this write already (a burst's backlog after it).
                        continue;
                    }
                    match self.refetch(&mut fetches, id).await {
                        Ok(true) => applied.applied(number),
                        Ok(false) => return Ended::Dropped,
                        Err(_) => return Ended::Lost { synced: true },
                    }
                }
                _ = ticks.tick() => match self.check(&mut fetches, &mut applied).await {
                    Ok(true) => {}
                    Ok(false) => return Ended::Dropped,
                    Err(_) => return Ended::Lost { synced: true },
                },
            }
        }
    }

    /// Fetches one participant's records and installs them. `Ok(false)`: the state is gone.
    async fn refetch(
        &self,
        connection: &mut MultiplexedConnection,
        id: &str,
    ) -> redis::RedisResult<bool> {
        let Some((room, identity)) = Keys::parse(id) else {
            return Ok(true);
        };
        let (version, updates, revocations): (Option<u64>, Vec<String>, Vec<String>) =
            redis::pipe()
                .atomic()
                .get(self.keys.version(id))
                .lrange(self.keys.updates(id), 0, -1)
                .lrange(self.keys.revocations(id), 0, -1)
                .query_async(connection)
                .await?;
        let Some(inner) = self.inner.upgrade() else {
            return Ok(false);
        };
        let entry = version.map(|version| rebuild(room, identity, version, &updates, &revocations));
        inner.snapshot.put(room, identity, entry);
        Ok(true)
    }

    /// The periodic check: one `GET` of the counter, and a rescan only when an announcement
    /// was lost or Redis lost the counter. `Ok(false)`: the state is gone.
    async fn check(
        &self,
        connection: &mut MultiplexedConnection,
        applied: &mut Applied,
    ) -> redis::RedisResult<bool> {
        let counter: Option<u64> = connection.get(self.keys.counter()).await?;
        match applied.check(counter.unwrap_or(0)) {
            Check::Current => {
                let Some(inner) = self.inner.upgrade() else {
                    return Ok(false);
                };
                self.synced_now(&inner);
                Ok(true)
            }
            Check::Rescan => self.rescan(connection, applied).await,
        }
    }

    /// Replaces the snapshot with what Redis holds (keeping what was installed while the
    /// scan ran). `Ok(false)`: the state is gone.
    async fn rescan(
        &self,
        connection: &mut MultiplexedConnection,
        applied: &mut Applied,
    ) -> redis::RedisResult<bool> {
        let Some(started) = self.inner.upgrade().map(|inner| inner.snapshot.installs()) else {
            return Ok(false);
        };
        // Read before the scan: every write it numbers is in Redis when the scan starts.
        let counter: Option<u64> = connection.get(self.keys.counter()).await?;
        let pattern = format!("{}:v:*", self.keys.prefix);
        let mut ids = Vec::new();
        {
            let mut scan = connection.scan_match::<_, String>(&pattern).await?;
            let skip = self.keys.prefix.len() + 3;
            while let Some(key) = scan.next_item().await {
                let key = key?;
                if let Some(id) = key.get(skip..) {
                    ids.push(id.to_owned());
                }
            }
        }
        let mut entries = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(256) {
            let mut pipe = redis::pipe();
            for id in chunk {
                pipe.get(self.keys.version(id))
                    .lrange(self.keys.updates(id), 0, -1)
                    .lrange(self.keys.revocations(id), 0, -1);
            }
            let values: Vec<(Option<u64>, Vec<String>, Vec<String>)> = {
                let flat: Vec<redis::Value> = pipe.query_async(connection).await?;
                flat.chunks(3)
                    .map(|three| redis::from_redis_value(redis::Value::Array(three.to_vec())))
                    .collect::<Result<_, _>>()?
            };
            for (id, (version, updates, revocations)) in chunk.iter().zip(values) {
                if let (Some((room, identity)), Some(version)) = (Keys::parse(id), version) {
                    entries.push(rebuild(room, identity, version, &updates, &revocations));
                }
            }
        }
        let Some(inner) = self.inner.upgrade() else {
            return Ok(false);
        };
        inner.snapshot.resync(entries, started);
        applied.rescanned(counter.unwrap_or(0));
        self.synced_now(&inner);
        Ok(true)
    }

    /// The snapshot is current as of now: for the fail-closed option and the first sync.
    fn synced_now(&self, inner: &Inner) {
        self.health
            .last_sync_ms
            .store(crate::time::unix_ms(inner.options.now()), Ordering::Relaxed);
        self.synced.send_modify(|n| *n += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_ids_are_unambiguous_whatever_the_names_hold() {
        for (room, identity) in [
            ("r", "a"),
            ("my:room", "a:b"),
            ("", "x"),
            ("ü", ":"),
            ("1:2", "3"),
        ] {
            let id = Keys::id(room, identity);
            assert_eq!(Keys::parse(&id), Some((room, identity)), "{id}");
        }
        assert_eq!(Keys::parse("9:short"), None);
        assert_eq!(Keys::parse("x:y:z"), None);
    }

    #[test]
    fn an_unreadable_revocation_refuses_everything_and_an_unreadable_update_is_skipped() {
        let entry = rebuild("r", "a", 1, &["{not json".into()], &["garbage".into()]);
        let claims: crate::Claims =
            serde_json::from_str(r#"{"sub":"a","nbf":1700000000,"video":{"room":"r"}}"#)
                .expect("claims");
        assert!(matches!(
            entry.apply(&claims),
            super::super::entry::Outcome::Revoked
        ));
    }
}
