//! [`StateOptions`]: how long entries live, how many there may be, and the clock.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::time::{Clock, DEFAULT_LEEWAY};

/// How long an entry lives after its last write unless [`StateOptions::with_retention`] says
/// otherwise: 24 hours.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// How many participants the store holds unless [`StateOptions::with_max_entries`] says
/// otherwise.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// The options of a [`ParticipantState`](super::ParticipantState).
///
/// - **Retention** (default 24 hours): an entry is dropped this long after its last write.
///   It must cover the longest token lifetime the deployment accepts, plus twice the leeway:
///   a revocation made now refuses tokens issued before now + leeway, and the last of those
///   expires a lifetime (and a leeway) later; drop the entry earlier and such a token works
///   again. Every SDK mints 6-hour tokens by default; a deployment that mints longer ones,
///   or lets clients refresh (refreshed tokens are issued anew, so a revoked participant's
///   chain ends at its next refresh), sets the retention to its longest TTL + 2 minutes.
/// - **Max entries** (default 100,000): when that many participants have live entries, an
///   update or revocation of one more is refused with
///   [`StateErrorKind::Full`](super::StateErrorKind::Full); entries are never evicted to make
///   room, so no revocation is silently lost. Memory is about 300 bytes an entry plus its
///   updates.
/// - **Leeway** (default 60 s, as the verifier's): a revocation without an explicit cutoff
///   refuses the tokens issued up to now + leeway, as LiveKit's `revoke_token_ts` does, so
///   that a token minted by a host whose clock is ahead is refused too. Set it to the
///   verifier's leeway.
/// - **Clock** (default the system clock): for tests and replays.
#[derive(Clone)]
pub struct StateOptions {
    pub(crate) retention: Duration,
    pub(crate) max_entries: usize,
    pub(crate) leeway: Duration,
    pub(crate) clock: Clock,
}

impl Default for StateOptions {
    fn default() -> Self {
        StateOptions {
            retention: DEFAULT_RETENTION,
            max_entries: DEFAULT_MAX_ENTRIES,
            leeway: DEFAULT_LEEWAY,
            clock: Clock::default(),
        }
    }
}

impl StateOptions {
    /// The defaults: 24 hours of retention, 100,000 entries, 60 s of leeway, the system clock.
    #[must_use]
    pub fn new() -> Self {
        StateOptions::default()
    }

    /// How long an entry lives after its last write.
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How many participants may have entries at once.
    #[must_use]
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// The leeway added to "now" for a revocation's default cutoff.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Read the time from `clock` instead of the system clock.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Clock::injected(clock);
        self
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    pub(crate) fn retention_ms(&self) -> i64 {
        crate::time::duration_ms(self.retention)
    }
}

impl fmt::Debug for StateOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateOptions")
            .field("retention", &self.retention)
            .field("max_entries", &self.max_entries)
            .field("leeway", &self.leeway)
            .field("clock", &self.clock)
            .finish()
    }
}
