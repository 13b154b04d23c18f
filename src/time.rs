//! The one home of time: the clock a [`Verifier`](crate::Verifier) or a
//! [`ParticipantState`](crate::state::ParticipantState) reads (the system's, or one injected
//! for tests and replays), the leeway on token times, and conversions to Unix time that never
//! panic, whatever the clock says.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The default leeway on `exp`, `nbf` and `iat`: 60 seconds, as the LiveKit server.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The largest leeway accepted anywhere; larger values are capped to it.
pub const MAX_LEEWAY: Duration = Duration::from_secs(600);

/// Where "now" comes from: the system clock, or a function injected for tests and replays.
#[derive(Clone, Default)]
pub(crate) struct Clock(Option<Arc<dyn Fn() -> SystemTime + Send + Sync>>);

impl Clock {
    /// A clock reading `now` instead of the system clock.
    pub(crate) fn injected(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Clock(Some(Arc::new(now)))
    }

    /// The time now.
    #[inline]
    pub(crate) fn now(&self) -> SystemTime {
        self.0.as_ref().map_or_else(SystemTime::now, |now| now())
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Some(_) => "injected",
            None => "system",
        })
    }
}

/// Whole seconds since the Unix epoch (negative before it), as token times compare.
pub(crate) fn unix_seconds(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as f64,
        Err(before) => -(before.duration().as_secs_f64().ceil()),
    }
}

/// Milliseconds since the Unix epoch (negative before it), saturating at the ends of `i64`.
pub(crate) fn unix_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The time `ms` milliseconds after the Unix epoch (before it when negative).
pub(crate) fn from_unix_ms(ms: i64) -> SystemTime {
    let magnitude = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
    .unwrap_or(UNIX_EPOCH)
}

/// Milliseconds in `duration`, saturating at `i64::MAX`.
pub(crate) fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_never_panic_at_the_ends_of_the_clock() {
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert_eq!(unix_ms(far), i64::MAX);
        assert!(unix_seconds(far) > 0.0);
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(unix_ms(before), -1500);
        assert_eq!(unix_seconds(before), -2.0);
        assert_eq!(from_unix_ms(-1500), before);
        assert_eq!(from_unix_ms(1500), UNIX_EPOCH + Duration::from_millis(1500));
        assert_eq!(duration_ms(Duration::MAX), i64::MAX);
    }

    #[test]
    fn an_injected_clock_is_read_and_shown_as_such() {
        let at = UNIX_EPOCH + Duration::from_secs(42);
        let clock = Clock::injected(move || at);
        assert_eq!(clock.now(), at);
        assert_eq!(format!("{clock:?}"), "injected");
        assert_eq!(format!("{:?}", Clock::default()), "system");
    }
}
