//! (feature `redis`) The participant state shared by every replica through Redis.
//!
//! One hash per participant holds its state exactly as an entry does in memory (see
//! [`codec`]): one field per field of the state, each `[time, value]`, plus the cutoff, the
//! time of the last write and a version. A write reads the hash, applies the write with the
//! same code as the in-memory store, and hands the changed fields to one script
//! ([`script::write`]) that writes them only if the version is still the one read (else the
//! writer reads again), checks the bounds on entries (in all, per room: two sorted sets of
//! participants by expiry), and announces the write, numbered from the deployment's counter,
//! on the deployment's channel. The script checks the user's permissions before it writes, so
//! that a write is made whole or not at all. A write is reported done only once Redis has it.
//!
//! Every replica keeps its local snapshot current: it installs the participant an
//! announcement names, rescans Redis after every (re)connect, and checks the counter every
//! `resync_interval` (pub/sub delivers at most once: a replica that finds an announcement
//! missing rescans, see [`announcements`]; one that missed nothing pays one `GET`). It drops
//! expired entries from its snapshot at each check. The hot path reads the snapshot only: no
//! request waits on Redis.

mod announcements;
mod codec;
mod connection;
mod keys;
mod script;
mod sync;
mod topology;
mod write;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::watch;

pub use self::connection::RedisConnection;
use self::keys::Keys;
use self::sync::Sync;
use self::topology::{Connection, Connector, Timeouts};
pub use self::topology::{RedisTls, RedisTopology};
use super::{StateError, StateErrorKind};

/// How the Redis backend behaves. See [`ParticipantState::redis`](super::ParticipantState::redis).
#[derive(Clone, Debug)]
pub struct RedisOptions {
    pub(crate) prefix: String,
    pub(crate) resync_interval: Duration,
    pub(crate) fail_closed_after: Option<Duration>,
    pub(crate) write_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) replica_acks: Option<usize>,
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
            replica_acks: None,
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
    /// deployments on one Redis must not. It becomes the keys' hash tag (`{prefix}:...`), so
    /// it must hold no `{` or `}`.
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

    /// How long each step of a write may wait for Redis (default 2 s): reading the
    /// participant's hash (retried within it while a failover is under way), the script's
    /// answer, and, where writes wait for replicas, `WAIT` (up to one and a half times it). So
    /// a write takes at most about 3.5 times this, more when other writers to the same
    /// participant make it read again. A write whose script was sent but not answered in time
    /// fails with [`StateErrorKind::OutcomeUnknown`](super::StateErrorKind::OutcomeUnknown).
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

    /// How many Redis replicas must have a write before it is reported done (`WAIT`), within
    /// the write timeout. Default: 1 on Sentinel and Cluster, so that a failover loses no
    /// acknowledged write (see SECURITY.md for what it does and does not promise); 0 on one
    /// Redis, which has no replica of its own. A write the replicas did not confirm in time
    /// fails with [`StateErrorKind::OutcomeUnknown`](super::StateErrorKind::OutcomeUnknown):
    /// the master has it, a failover may lose it, retrying is safe.
    #[must_use]
    pub fn with_replica_acks(mut self, replicas: usize) -> Self {
        self.replica_acks = Some(replicas);
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

    fn synced_at(&self, now_ms: i64) {
        self.last_sync_ms.store(now_ms, Ordering::Relaxed);
    }
}

/// The backend a [`ParticipantState`](super::ParticipantState) writes through.
pub(crate) struct RedisBackend {
    connector: Arc<Connector>,
    /// The connection writes use, made on the first write and again after one failed (on
    /// Sentinel, to whichever node is the master then).
    writes: tokio::sync::Mutex<Option<Connection>>,
    /// How many replicas must acknowledge a write.
    replica_acks: usize,
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
            .field("prefix", &self.keys.prefix())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Redis refused or could not be asked: nothing was written. (redis-rs errors name the
/// command and the server's answer, never the URL's password.)
fn unavailable(err: redis::RedisError) -> StateError {
    StateError::with_detail(StateErrorKind::Unavailable, format!("Redis: {err}")).caused_by(err)
}

/// The current tokio runtime: redis-rs and the sync task need one, and without it this is an
/// error, not their panic.
pub(crate) fn tokio_runtime() -> Result<tokio::runtime::Handle, StateError> {
    tokio::runtime::Handle::try_current().map_err(|_| {
        StateError::with_detail(
            StateErrorKind::InvalidConfig,
            "the Redis backend runs on a tokio runtime: call it from within one",
        )
    })
}

/// rustls needs a process-wide crypto provider for `rediss://`; the crate brings `ring`
/// and installs it only if the application has installed none (never replacing one).
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl RedisBackend {
    /// The backend (writes connect lazily) and its sync task, to be started with
    /// [`Sync::start`] once the state it belongs to exists.
    pub(crate) fn new(
        topology: &RedisTopology,
        options: RedisOptions,
    ) -> Result<(Self, Sync), StateError> {
        install_crypto_provider();
        let runtime = tokio_runtime()?;
        let keys = Keys::new(&options.prefix)?;
        let connector = Arc::new(topology.connector(Timeouts {
            connect: options.connect_timeout.min(options.write_timeout),
            response: options.write_timeout,
        })?);
        let health = Arc::new(Health {
            last_sync_ms: AtomicI64::new(i64::MIN / 2),
            limit_ms: options.fail_closed_after.map(crate::time::duration_ms),
        });
        let (synced, ticks) = watch::channel(0);
        let task = Arc::new(OnceLock::new());
        let sync = Sync::new(
            connector.clone(),
            keys.clone(),
            options.clone(),
            health.clone(),
            synced,
            task.clone(),
            runtime,
        );
        let replica_acks = options
            .replica_acks
            .unwrap_or(usize::from(topology.replicated()));
        let backend = RedisBackend {
            connector,
            writes: tokio::sync::Mutex::new(None),
            replica_acks,
            keys,
            options,
            health,
            ticks,
            task,
        };
        Ok((backend, sync))
    }

    /// The writes' connection: the one made before, or a new one.
    async fn connection(&self) -> redis::RedisResult<Connection> {
        let mut current = self.writes.lock().await;
        if let Some(connection) = &*current {
            return Ok(connection.clone());
        }
        let connection = self.connector.connect().await?;
        *current = Some(connection.clone());
        Ok(connection)
    }

    /// Forgets the writes' connection after `err`, when it may be broken or on a node that is
    /// no longer the master: the next write connects again.
    async fn forget_connection(&self, err: &redis::RedisError) {
        use redis::{ErrorKind, ServerErrorKind};
        let stale = !matches!(err.kind(), ErrorKind::Server(_) | ErrorKind::Extension)
            || matches!(
                err.kind(),
                ErrorKind::Server(
                    ServerErrorKind::ReadOnly
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::TryAgain
                )
            );
        if stale {
            *self.writes.lock().await = None;
        }
    }

    /// Asks Redis, at start, whether this user may run every command the backend needs, and
    /// fails naming the first it may not: better than every write refused later.
    pub(crate) async fn check_permissions(&self) -> Result<(), StateError> {
        let probe_id = Keys::id("probe", "probe");
        let mut probe = redis::cmd("EVAL");
        probe
            .arg(script::probe())
            .arg(4)
            .arg(self.keys.participant(&probe_id))
            .arg(self.keys.counter())
            .arg(self.keys.all())
            .arg(self.keys.room("probe"))
            .arg(self.keys.channel())
            .arg(if self.replica_acks > 0 { "1" } else { "0" });
        let asked = async {
            let mut connection = self.connection().await?;
            probe.query_async::<String>(&mut connection).await
        };
        // Connecting may ask several sentinels: twice the connect timeout for all of it.
        let within = self.options.connect_timeout * 2;
        let answer = tokio::time::timeout(within, asked).await.map_err(|_| {
            StateError::with_detail(
                StateErrorKind::Unavailable,
                format!("Redis did not answer within {within:?}"),
            )
        })?;
        match answer {
            Ok(answer) if answer == "ok" => Ok(()),
            Ok(denied) => Err(StateError::with_detail(
                StateErrorKind::InvalidConfig,
                format!(
                    "the Redis user may not run `{denied}`, which the participant state needs: \
                     grant it (see SECURITY.md, Redis)"
                ),
            )),
            Err(err) if err.kind() == redis::ErrorKind::AuthenticationFailed => {
                Err(StateError::with_detail(
                    StateErrorKind::InvalidConfig,
                    "Redis refused the username or password",
                ))
            }
            Err(err)
                if err.code() == Some("NOPERM")
                    && err.detail().is_some_and(|d| d.contains("keys")) =>
            {
                Err(StateError::with_detail(
                    StateErrorKind::InvalidConfig,
                    format!(
                        "the Redis user may not access the participant state's keys: grant it \
                         `~{}:*` (see SECURITY.md, Redis)",
                        self.keys.tag()
                    ),
                )
                .caused_by(err))
            }
            Err(err) if err.code() == Some("NOPERM") => Err(StateError::with_detail(
                StateErrorKind::InvalidConfig,
                format!(
                    "the Redis user may not run a command the participant state needs \
                     ({err}): grant it (see SECURITY.md, Redis)"
                ),
            )
            .caused_by(err)),
            Err(err) if err.is_io_error() => Err(unavailable(err)),
            Err(err) => Err(StateError::with_detail(
                StateErrorKind::InvalidConfig,
                format!(
                    "Redis refused the participant state's probe ({err}); it needs Redis 7 or \
                     later (scripts with `#!lua` and `redis.acl_check_cmd`)"
                ),
            )
            .caused_by(err)),
        }
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
}
