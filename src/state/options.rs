//! [`StateOptions`]: how long entries live, how many there may be (in all and per room), the
//! size limits, the leeway and the clock.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::limits::Limits;
use crate::time::{duration_ms, Clock, DEFAULT_LEEWAY, MAX_LEEWAY};

/// How long an entry lives after its last write (or its cutoff, if later) unless
/// [`StateOptions::with_retention`] says otherwise: 24 hours.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// The longest retention accepted; longer values are capped to it: 366 days.
pub const MAX_RETENTION: Duration = Duration::from_secs(366 * 24 * 3600);
/// How many participants the store holds unless [`StateOptions::with_max_entries`] says
/// otherwise.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;
/// How many participants of one room the store holds unless
/// [`StateOptions::with_max_entries_per_room`] says otherwise.
pub const DEFAULT_MAX_ENTRIES_PER_ROOM: usize = 10_000;

/// The options of a [`ParticipantState`](super::ParticipantState).
///
/// - **Retention** (default 24 hours, at most [`MAX_RETENTION`]): an entry is dropped this long
///   after its last write, or after its revocation cutoff when that is later (a cutoff may lie
///   in the future, and holds until then). It must cover the longest token lifetime the
///   deployment accepts, plus twice the leeway: a revocation made now refuses tokens issued
///   before now + leeway, and the last of those expires a lifetime (and a leeway) later; drop
///   the entry earlier and such a token works again. Every SDK mints 6-hour tokens by
///   default; a deployment that mints longer ones sets the retention to its longest TTL + 2
///   minutes.
/// - **Max entries** (default 100,000) and **max entries per room** (default 10,000): when
///   that many participants (of the room) have live entries, an update or revocation of one
///   more is refused with [`StateErrorKind::Full`](super::StateErrorKind::Full) or
///   [`StateErrorKind::RoomFull`](super::StateErrorKind::RoomFull); entries are never evicted
///   to make room, so no revocation is silently lost, and one room's administrator cannot
///   fill the store for every other room.
/// - **Limits** (default LiveKit's: metadata 512 KiB, attributes 64 KiB, names, identities
///   and room names 256 bytes): an update past them is refused with
///   [`StateErrorKind::TooLarge`](super::StateErrorKind::TooLarge), as LiveKit refuses such an
///   `UpdateParticipant`. They bound what one entry holds.
/// - **Leeway** (default 60 s, at most [`MAX_LEEWAY`]): a revocation without an explicit
///   cutoff refuses the tokens issued up to now + leeway, as LiveKit's `revoke_token_ts`
///   does, so that a token minted by a host whose clock is ahead is refused too. Set it to the
///   verifier's leeway.
/// - **Clock** (default the system clock): for tests and replays.
///
/// Every setting is capped where it is set, so that no value can overflow a time.
#[derive(Clone)]
pub struct StateOptions {
    pub(crate) retention: Duration,
    pub(crate) max_entries: usize,
    pub(crate) max_entries_per_room: usize,
    pub(crate) limits: Limits,
    pub(crate) leeway: Duration,
    pub(crate) clock: Clock,
}

impl Default for StateOptions {
    fn default() -> Self {
        StateOptions {
            retention: DEFAULT_RETENTION,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_entries_per_room: DEFAULT_MAX_ENTRIES_PER_ROOM,
            limits: Limits::default(),
            leeway: DEFAULT_LEEWAY,
            clock: Clock::default(),
        }
    }
}

impl StateOptions {
    /// The defaults: 24 hours of retention, 100,000 entries (10,000 per room), LiveKit's
    /// size limits, 60 s of leeway, the system clock.
    #[must_use]
    pub fn new() -> Self {
        StateOptions::default()
    }

    /// How long an entry lives after its last write or its cutoff, whichever is later (capped
    /// at [`MAX_RETENTION`]).
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention.min(MAX_RETENTION);
        self
    }

    /// How many participants may have entries at once.
    #[must_use]
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// How many participants of one room may have entries at once.
    #[must_use]
    pub fn with_max_entries_per_room(mut self, max_entries: usize) -> Self {
        self.max_entries_per_room = max_entries;
        self
    }

    /// LiveKit's size limits for updates, identities and room names (`limit:` in LiveKit's
    /// config file; see [`Limits`]).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The leeway added to "now" for a revocation's default cutoff (capped at
    /// [`MAX_LEEWAY`]).
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(MAX_LEEWAY);
        self
    }

    /// Read the time from `clock` instead of the system clock.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Clock::injected(clock);
        self
    }

    /// The size limits.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    pub(crate) fn retention_ms(&self) -> i64 {
        duration_ms(self.retention)
    }
}

impl fmt::Debug for StateOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateOptions")
            .field("retention", &self.retention)
            .field("max_entries", &self.max_entries)
            .field("max_entries_per_room", &self.max_entries_per_room)
            .field("limits", &self.limits)
            .field("leeway", &self.leeway)
            .field("clock", &self.clock)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_capped_where_they_are_set() {
        let options = StateOptions::new()
            .with_leeway(Duration::MAX)
            .with_retention(Duration::MAX);
        assert_eq!(options.leeway, MAX_LEEWAY);
        assert_eq!(options.retention, MAX_RETENTION);
        assert!(options.retention_ms() < i64::MAX / 1000);
    }
}
