//! The sync task of a replica: one subscription to the deployment's announcements, a rescan
//! of every participant after each (re)connect, a check of the counter every
//! `resync_interval`, expired entries swept at each check, and reconnection with backoff, for
//! as long as the state lives.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::watch;

use super::super::entry::Entry;
use super::super::Inner;
use super::announcements::{self, Applied, Check};
use super::codec;
use super::keys::Keys;
use super::topology::{Connection, Connector};
use super::{Health, RedisOptions};
use crate::time::unix_ms;

/// The background task: one subscription, resyncs, reconnection with backoff, for as long as
/// the state lives.
pub(crate) struct Sync {
    inner: Weak<Inner>,
    connector: Arc<Connector>,
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
    pub(crate) fn new(
        connector: Arc<Connector>,
        keys: Keys,
        options: RedisOptions,
        health: Arc<Health>,
        synced: watch::Sender<u64>,
        task: Arc<OnceLock<tokio::task::AbortHandle>>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Sync {
            inner: Weak::new(),
            connector,
            keys,
            options,
            health,
            synced,
            task,
            runtime,
        }
    }

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
                prefix = self.keys.prefix(),
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
            let (pubsub, node) = self.connector.subscribe(&self.keys.channel()).await?;
            let fetches = self.connector.connect().await?;
            Ok::<_, redis::RedisError>((pubsub, node, fetches))
        };
        let Ok(Ok((pubsub, node, mut fetches))) =
            tokio::time::timeout(timeout * 3, connected).await
        else {
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
                _ = ticks.tick() => {
                    // On Sentinel: a failover moved the master (the old one may live on as a
                    // replica): subscribe and read there, and rescan.
                    if let Some(master) = self.connector.master().await {
                        if master.ok().as_deref() != Some(node.as_str()) {
                            return Ended::Lost { synced: true };
                        }
                    }
                    match self.check(&mut fetches, &mut applied).await {
                        Ok(true) => {}
                        Ok(false) => return Ended::Dropped,
                        Err(_) => return Ended::Lost { synced: true },
                    }
                }
            }
        }
    }

    /// Reads one participant's hash and installs it. `Ok(false)`: the state is gone.
    async fn refetch(&self, connection: &mut Connection, id: &str) -> redis::RedisResult<bool> {
        let Some((room, identity)) = Keys::parse(id) else {
            return Ok(true);
        };
        let hash: Vec<(String, String)> = connection.hgetall(self.keys.participant(id)).await?;
        let Some(inner) = self.inner.upgrade() else {
            return Ok(false);
        };
        inner
            .snapshot
            .put(room, identity, codec::entry_of(room, identity, &hash));
        Ok(true)
    }

    /// The periodic check: one `GET` of the counter, and a rescan only when an announcement
    /// was lost or Redis lost the counter. `Ok(false)`: the state is gone.
    async fn check(
        &self,
        connection: &mut Connection,
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
        connection: &mut Connection,
        applied: &mut Applied,
    ) -> redis::RedisResult<bool> {
        let Some(started) = self.inner.upgrade().map(|inner| inner.snapshot.installs()) else {
            return Ok(false);
        };
        // Read before the scan: every write it numbers is in Redis when the scan starts.
        let counter: Option<u64> = connection.get(self.keys.counter()).await?;
        // Every participant with a live entry is in the sorted set of the bounds, so the rescan
        // reads keys it knows (one slot on a Cluster) instead of scanning.
        let now_ms = self
            .inner
            .upgrade()
            .map_or(0, |inner| unix_ms(inner.options.now()));
        let ids: Vec<String> = connection
            .zrangebyscore(self.keys.all(), now_ms, "+inf")
            .await?;
        let mut entries: Vec<Entry> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(256) {
            let mut pipe = redis::pipe();
            for id in chunk {
                pipe.hgetall(self.keys.participant(id));
            }
            let hashes: Vec<Vec<(String, String)>> = pipe.query_async(connection).await?;
            for (id, hash) in chunk.iter().zip(hashes) {
                if let Some((room, identity)) = Keys::parse(id) {
                    entries.extend(codec::entry_of(room, identity, &hash));
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
    /// Entries past their retention leave it now (Redis has dropped them too).
    fn synced_now(&self, inner: &Inner) {
        let now_ms = unix_ms(inner.options.now());
        inner.snapshot.sweep(now_ms);
        self.health.synced_at(now_ms);
        self.synced.send_modify(|n| *n += 1);
    }
}
