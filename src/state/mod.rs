//! Participant state after a token is issued: permission updates and revocations.
//!
//! A LiveKit token is not the last word. `UpdateParticipant` changes a connected participant's
//! name, metadata, attributes and permissions, and `RemoveParticipant` (with LiveKit Cloud's
//! `revoke_token_ts`) cuts off its tokens. A [`ParticipantState`] holds those changes by room
//! and identity, and a [`Verifier`](crate::Verifier) given one
//! ([`with_participant_state`](crate::Verifier::with_participant_state)) answers every
//! verification that names a participant with its current state: the [`Claims`] a handler
//! gets say what the participant may do now, and a revoked token is refused
//! ([`VerifyErrorKind::Revoked`](crate::VerifyErrorKind::Revoked), a 401 `invalid_token`).
//!
//! Whose tokens a change applies to, by the token's `nbf` (its issue time; none counts as 0):
//! - an **update** applies to the participant's tokens issued before it (an `nbf` in the same
//!   second counts as before, the conservative side); a token issued after it speaks for
//!   itself, as a new LiveKit session starts from its token;
//! - a **revocation** refuses the participant's tokens whose `nbf` is before its cutoff
//!   (default now + the leeway, as `revoke_token_ts`); a token minted after the cutoff works;
//! - **removing** a participant revokes and clears its updates.
//!
//! What the state holds is exact and bounded. `UpdateParticipant` replaces the name, the
//! metadata and the permission as wholes and sets or deletes attributes key by key, so a
//! participant's state is one `(time, value)` per field and per attribute key, plus the
//! revocation cutoff: nothing is ever trimmed or merged, a demotion is never forgotten and a
//! promotion never reaches a token minted after it. Each entry is bounded by LiveKit's size
//! limits ([`Limits`](crate::limits::Limits), checked on every write), the store by a number
//! of entries in all and per room ([`StateOptions`]), and an entry lives a retention after
//! the later of its last write and its cutoff.
//!
//! Clock skew: update times and default cutoffs are the writing host's clock, `nbf` the
//! minting host's. A token minted by a host whose clock is behind looks older than it is, and
//! gets updates (or a revocation) meant for earlier tokens; one whose clock is ahead looks
//! newer, and escapes an update made in the seconds before its `nbf`. The default cutoff's
//! leeway covers a minting host up to that far ahead. Keep the clocks in sync (NTP) to well
//! under the leeway. Between writers: a write that carries an earlier time than the field's
//! last write (its writer's clock is behind) keeps the later time, and for a permission what
//! both writes allow, so the state never grants more than the writes would in the order they
//! were made; for a name, metadata or attribute, the later write's value.
//!
//! The hot path reads a local snapshot: no lock, no allocation and no I/O for a participant
//! without an entry; a participant with updates costs one copy of its claims.
//!
//! ```
//! use tower_livekit_auth::state::{ParticipantPermission, ParticipantState, ParticipantUpdate, StateOptions};
//! use tower_livekit_auth::{AccessToken, KeyRing, TrackSource, Verifier, VerifyErrorKind, VideoGrant};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = "somesecretencodedinbase62extendto32bytes";
//! let state = ParticipantState::in_memory(StateOptions::new());
//! let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?)
//!     .with_participant_state(state.clone());
//! let mint = |identity: &str| {
//!     AccessToken::new("APIabcdefg", secret)
//!         .with_identity(identity)
//!         .with_video_grant(VideoGrant::join("myroom").with_can_publish(false))
//!         .to_jwt()
//! };
//! let (alice, bob) = (mint("alice")?, mint("bob")?);
//! assert!(!verifier.verify(&alice)?.can_publish_source(TrackSource::Camera));
//!
//! // Promote alice: her token, issued before, now publishes the camera.
//! let camera = ParticipantPermission::new()
//!     .with_can_subscribe(true)
//!     .with_can_publish(true)
//!     .with_can_publish_sources([TrackSource::Camera]);
//! state.update("myroom", "alice", ParticipantUpdate::new().with_permission(camera)).await?;
//! let claims = verifier.verify(&alice)?;
//! assert!(claims.can_publish_source(TrackSource::Camera));
//! assert!(!claims.can_publish_source(TrackSource::Microphone));
//!
//! // Remove bob: his token is refused from now on.
//! state.remove("myroom", "bob", None).await?;
//! assert_eq!(verifier.verify(&bob).unwrap_err().kind(), VerifyErrorKind::Revoked);
//! # Ok(())
//! # }
//! ```

mod entry;
mod error;
mod options;
mod record;
#[cfg(feature = "redis")]
mod redis;
mod refusal;
mod snapshot;
mod update;

use std::fmt;
use std::sync::Arc;

pub use error::{StateError, StateErrorKind};
pub use options::{
    StateOptions, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_ENTRIES_PER_ROOM, DEFAULT_RETENTION,
    MAX_RETENTION,
};
pub use record::ParticipantRecord;
pub use refusal::Refusal;
pub use update::{ParticipantPermission, ParticipantUpdate};

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::{RedisConnection, RedisOptions, RedisTls, RedisTopology};

use self::entry::{Outcome, Write};
use self::snapshot::{Refused, Snapshot};
use crate::claims::Claims;
use crate::time::{duration_ms, unix_ms};

/// The participant state: updates and revocations by room and identity. See the
/// [module docs](self).
///
/// Cloning is cheap, and clones share the state: give one to the
/// [`Verifier`](crate::Verifier) and keep one to write with. Writes are `async` for every
/// backend, so that moving to a shared one changes a constructor, not the call sites; reads on
/// the hot path never are.
#[derive(Clone)]
pub struct ParticipantState {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) snapshot: Snapshot,
    pub(crate) options: StateOptions,
    backend: Backend,
}

/// Where writes go.
enum Backend {
    /// This process only.
    Memory,
    /// Redis, shared by every replica (feature `redis`).
    #[cfg(feature = "redis")]
    Redis(Box<self::redis::RedisBackend>),
}

impl ParticipantState {
    /// A state held in this process only: for a single server. Every replica of a deployment
    /// must share one state (`ParticipantState::redis`, feature `redis`), or a removed
    /// participant just retries elsewhere.
    #[must_use]
    pub fn in_memory(options: StateOptions) -> Self {
        ParticipantState {
            inner: Arc::new(Inner {
                snapshot: Snapshot::new(options.retention_ms()),
                options,
                backend: Backend::Memory,
            }),
        }
    }

    /// A state shared through Redis by every replica of a deployment (feature `redis`), at
    /// `url` as redis-rs reads it (`redis://[:password@]host[:port][/db]`, `rediss://` for
    /// TLS). Needs a tokio runtime: it keeps a background task that follows Redis for as long
    /// as the state lives.
    ///
    /// It returns once it has read the whole state from Redis, and fails if it cannot within
    /// [`RedisOptions::with_connect_timeout`]: a replica that started without the state would
    /// accept revoked tokens. After that:
    ///
    /// - **Writes** go to Redis first, each in one script that writes all of it or nothing,
    ///   and are reported done only once Redis has them. While Redis is unreachable they fail
    ///   with [`StateErrorKind::Unavailable`] and nothing is written anywhere; a write sent
    ///   but not answered within the write timeout fails with
    ///   [`StateErrorKind::OutcomeUnknown`]: it may still be made, and retrying it is safe.
    /// - **Bounds** (in all, per room) are checked by Redis in the write's script, against
    ///   every replica's entries; the size limits by the writer.
    /// - **Reads** (every verification) use the local snapshot and never wait on Redis. It is
    ///   kept current by Redis pub/sub, rescanned from Redis after every reconnect, and
    ///   checked every [`RedisOptions::with_resync_interval`] (5 s) against the deployment's
    ///   write counter: a replica that missed an announcement rescans within two intervals.
    ///   A replica that missed nothing pays one `GET` per interval, whatever the number of
    ///   entries.
    /// - **Redis unreachable**: tokens keep verifying against the last known state (fail
    ///   open), or, with [`RedisOptions::with_fail_closed_after`], participants' tokens are
    ///   refused with 503 once the snapshot is that stale. The task reconnects with backoff
    ///   and resynchronises; every replica converges once Redis is back.
    /// - **Redis restarted with its data lost** (no persistence): after the resync every
    ///   replica holds what Redis holds, nothing: updates and revocations made before are
    ///   gone, and a removed participant's old token works again until it expires. The crate
    ///   does not pretend otherwise. Run Redis with persistence (`appendonly yes`,
    ///   `appendfsync everysec` or `always`) and replication if revocations must survive.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use tower_livekit_auth::state::{ParticipantState, RedisOptions, StateOptions};
    ///
    /// # async fn run() -> Result<(), tower_livekit_auth::state::StateError> {
    /// let state = ParticipantState::redis(
    ///     "redis://:s3cret@127.0.0.1:6379/0",
    ///     StateOptions::new(),
    ///     RedisOptions::new().with_prefix("my-app").with_fail_closed_after(Duration::from_secs(30)),
    /// )
    /// .await?;
    /// state.remove("myroom", "bob", None).await?; // on every replica
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub async fn redis(
        url: &str,
        options: StateOptions,
        redis: RedisOptions,
    ) -> Result<Self, StateError> {
        Self::redis_on(&RedisTopology::url(url)?, options, redis).await
    }

    /// [`redis`](Self::redis) on any [`RedisTopology`]: one Redis, a Sentinel deployment or a
    /// Redis Cluster (as LiveKit's `redis:` block configures them; `LiveKitConfig` builds the
    /// topology from that block).
    ///
    /// On Sentinel and Cluster a write is reported done only once a Redis replica has it too
    /// ([`RedisOptions::with_replica_acks`], default 1), so that a failover loses no
    /// acknowledged update or revocation; writes during a failover fail with a retryable
    /// error ([`StateErrorKind::Unavailable`], or [`StateErrorKind::OutcomeUnknown`] for one
    /// caught halfway), and the replicas follow the new master and rescan.
    ///
    /// ```no_run
    /// use tower_livekit_auth::state::{ParticipantState, RedisOptions, RedisTopology, StateOptions};
    ///
    /// # async fn run() -> Result<(), tower_livekit_auth::state::StateError> {
    /// let sentinels = RedisTopology::sentinel("mymaster", ["10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"])?
    ///     .with_password("s3cret");
    /// let state = ParticipantState::redis_on(&sentinels, StateOptions::new(), RedisOptions::new()).await?;
    /// state.remove("myroom", "bob", None).await?; // on every replica, and on a Redis replica
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub async fn redis_on(
        topology: &RedisTopology,
        options: StateOptions,
        redis: RedisOptions,
    ) -> Result<Self, StateError> {
        let (backend, sync) = self::redis::RedisBackend::new(topology, redis)?;
        backend.check_permissions().await?;
        let inner = Arc::new(Inner {
            snapshot: Snapshot::new(options.retention_ms()),
            options,
            backend: Backend::Redis(Box::new(backend)),
        });
        sync.start(&inner);
        if let Backend::Redis(backend) = &inner.backend {
            backend.first_sync().await?;
        }
        Ok(ParticipantState { inner })
    }

    /// Applies `update` to the participant's tokens issued before now (see the
    /// [module docs](self)). An update that changes nothing writes nothing. Refused with
    /// [`StateErrorKind::TooLarge`] past the size limits, as LiveKit refuses such an
    /// `UpdateParticipant`: the name, the metadata, the attributes it sets, and the
    /// participant's attributes once it is applied (a deleted key counts its key, since the
    /// state remembers it).
    pub async fn update(
        &self,
        room: &str,
        identity: &str,
        update: ParticipantUpdate,
    ) -> Result<(), StateError> {
        self.check_participant(room, identity)?;
        update.check(&self.inner.options.limits)?;
        if update.is_empty() {
            return Ok(());
        }
        let write = Write::Update {
            at_ms: self.now_ms(),
            update,
        };
        self.write(room, identity, write).await
    }

    /// Refuses the participant's tokens issued before `cutoff` (Unix seconds; default now + the
    /// leeway, as LiveKit's `revoke_token_ts`), and returns the cutoff. A later revocation
    /// moves the cutoff forward; an earlier one changes nothing. A cutoff in the future holds
    /// until then: the entry is kept a retention after it. The participant's updates stay
    /// (see [`remove`](Self::remove)).
    pub async fn revoke(
        &self,
        room: &str,
        identity: &str,
        cutoff: Option<u64>,
    ) -> Result<u64, StateError> {
        self.revocation(room, identity, cutoff, |at_ms, cutoff| Write::Revoke {
            at_ms,
            cutoff,
        })
        .await
    }

    /// `RemoveParticipant`: revokes the participant's tokens issued before `cutoff` (as
    /// [`revoke`](Self::revoke)) and clears its updates. Returns the cutoff.
    pub async fn remove(
        &self,
        room: &str,
        identity: &str,
        cutoff: Option<u64>,
    ) -> Result<u64, StateError> {
        self.revocation(room, identity, cutoff, |at_ms, cutoff| Write::Remove {
            at_ms,
            cutoff,
        })
        .await
    }

    /// Writes the revocation `write` makes of the write time and the cutoff (`cutoff`, or now
    /// + the leeway), and returns the cutoff.
    async fn revocation(
        &self,
        room: &str,
        identity: &str,
        cutoff: Option<u64>,
        write: fn(i64, i64) -> Write,
    ) -> Result<u64, StateError> {
        self.check_participant(room, identity)?;
        let at_ms = self.now_ms();
        let cutoff = cutoff.unwrap_or_else(|| {
            let leeway_ms = duration_ms(self.inner.options.leeway);
            u64::try_from(at_ms.saturating_add(leeway_ms).max(0) / 1000).unwrap_or(0)
        });
        let write = write(at_ms, i64::try_from(cutoff).unwrap_or(i64::MAX));
        self.write(room, identity, write).await.map(|()| cutoff)
    }

    /// What the state holds for the participant now, if anything.
    #[must_use]
    pub fn get(&self, room: &str, identity: &str) -> Option<ParticipantRecord> {
        let now_ms = self.now_ms();
        self.inner
            .snapshot
            .get(room, identity)
            .filter(|entry| !entry.expired(now_ms, self.inner.options.retention_ms()))
            .map(|entry| ParticipantRecord::of(&entry.fields, entry.cutoff))
    }

    /// `claims` as the participant's state says they are now: what a verification answers.
    /// For claims verified earlier and kept, such as a server's list of who joined.
    pub fn apply(&self, claims: &Claims) -> Result<Claims, Refusal> {
        self.apply_at(claims.clone(), self.now_ms())
    }

    /// How many participants have entries, those expired since the last sweep included: a
    /// write sweeps expired entries at most once a second (and always before it counts the
    /// entries for a new participant), a Redis replica at each of its checks.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.snapshot.len()
    }

    /// How many participants of `room` have entries (counted as [`len`](Self::len) counts).
    #[must_use]
    pub fn room_len(&self, room: &str) -> usize {
        self.inner.snapshot.room_len(room)
    }

    /// Whether no participant has an entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The options it was made with.
    #[must_use]
    pub fn options(&self) -> &StateOptions {
        &self.inner.options
    }

    /// The verifier's step, on every verification that names a participant: the claims of a
    /// token that verified at `now_ms`, changed by the participant's updates, or refused by
    /// its revocation.
    #[inline]
    pub(crate) fn apply_at(&self, claims: Claims, now_ms: i64) -> Result<Claims, Refusal> {
        #[cfg(feature = "redis")]
        if let Backend::Redis(backend) = &self.inner.backend {
            let names_participant = !claims.room().is_empty() && !claims.identity().is_empty();
            if names_participant && backend.health.too_stale(now_ms) {
                return Err(Refusal::Unavailable);
            }
        }
        let Some(entry) = self.inner.snapshot.get(claims.room(), claims.identity()) else {
            return Ok(claims);
        };
        if entry.expired(now_ms, self.inner.options.retention_ms()) {
            return Ok(claims);
        }
        match entry.apply(&claims) {
            Outcome::Unchanged => Ok(claims),
            // A token refreshed with the state already in it comes out the same: not a change.
            Outcome::Updated(data) if *data == *claims.data() => Ok(claims),
            Outcome::Updated(data) => Ok(Claims::updated(*data)),
            Outcome::Revoked => Err(Refusal::Revoked),
        }
    }

    async fn write(&self, room: &str, identity: &str, write: Write) -> Result<(), StateError> {
        let inner = &*self.inner;
        match &inner.backend {
            Backend::Memory => inner
                .snapshot
                .write(room, identity, &write, self.now_ms(), &inner.options)
                .map_err(refused),
            #[cfg(feature = "redis")]
            Backend::Redis(backend) => backend.write(inner, room, identity, &write).await,
        }
    }

    fn now_ms(&self) -> i64 {
        unix_ms(self.inner.options.now())
    }

    /// A participant no token can name (an empty room or identity) or one past the size
    /// limits of room names and identities.
    fn check_participant(&self, room: &str, identity: &str) -> Result<(), StateError> {
        if room.is_empty() || identity.is_empty() {
            return Err(StateError::new(StateErrorKind::InvalidParticipant));
        }
        let limits = &self.inner.options.limits;
        limits.check_room_name(room)?;
        limits.check_identity(identity)?;
        Ok(())
    }
}

/// The error of a write the snapshot refused.
pub(crate) fn refused(refused: Refused) -> StateError {
    match refused {
        Refused::Full => StateError::new(StateErrorKind::Full),
        Refused::RoomFull => StateError::new(StateErrorKind::RoomFull),
        Refused::TooLarge(exceeded) => exceeded.into(),
    }
}

impl fmt::Debug for ParticipantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match &self.inner.backend {
            Backend::Memory => "memory",
            #[cfg(feature = "redis")]
            Backend::Redis(_) => "redis",
        };
        f.debug_struct("ParticipantState")
            .field("backend", &backend)
            .field("entries", &self.len())
            .field("options", &self.inner.options)
            .finish()
    }
}

#[cfg(test)]
mod tests;
