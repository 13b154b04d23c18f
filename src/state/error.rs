//! [`StateError`]: why a write to the participant state was not made, or may not have been.

use std::error::Error;
use std::fmt;

use crate::limits::LimitExceeded;

/// Why a write to the participant state was not made. For every kind but
/// [`StateErrorKind::OutcomeUnknown`] the write did not happen, on any replica. Writes are
/// idempotent (each sets values: a field to a value, a cutoff to at least a time), so retrying
/// one is always safe.
pub struct StateError {
    kind: StateErrorKind,
    detail: Option<String>,
    source: Option<Box<dyn Error + Send + Sync>>,
}

/// What kind of [`StateError`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StateErrorKind {
    /// The room or the identity is empty: no token names that participant.
    InvalidParticipant,
    /// A name, metadata, attributes, identity or room name over LiveKit's size limits
    /// ([`Limits`](crate::limits::Limits)); the [`source`](Error::source) is the
    /// [`LimitExceeded`] that says which.
    TooLarge,
    /// The store holds its maximum of participants; nothing is evicted to make room.
    Full,
    /// The room holds its maximum of participants; nothing is evicted to make room.
    RoomFull,
    /// The backend (Redis) could not be reached or refused the write: nothing was written.
    Unavailable,
    /// The write was sent but no answer came (Redis did not answer within the write timeout,
    /// or the connection dropped): it may or may not have been made, and may still be made.
    /// Retry it (writes are idempotent) or read the participant back.
    OutcomeUnknown,
    /// The backend's configuration is wrong (a Redis URL redis-rs does not read, a Redis
    /// user without a command the backend needs, no tokio runtime).
    InvalidConfig,
}

impl StateErrorKind {
    /// A stable name for logs and metrics.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            StateErrorKind::InvalidParticipant => "invalid_participant",
            StateErrorKind::TooLarge => "too_large",
            StateErrorKind::Full => "full",
            StateErrorKind::RoomFull => "room_full",
            StateErrorKind::Unavailable => "unavailable",
            StateErrorKind::OutcomeUnknown => "outcome_unknown",
            StateErrorKind::InvalidConfig => "invalid_config",
        }
    }
}

impl StateError {
    pub(crate) fn new(kind: StateErrorKind) -> Self {
        StateError {
            kind,
            detail: None,
            source: None,
        }
    }

    /// An error with a detail for the operator (never a secret or a token).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn with_detail(kind: StateErrorKind, detail: impl Into<String>) -> Self {
        StateError {
            detail: Some(detail.into()),
            ..StateError::new(kind)
        }
    }

    /// The same error, keeping `source` as its cause.
    pub(crate) fn caused_by(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> StateErrorKind {
        self.kind
    }

    /// Whether the write was certainly not made (every kind but
    /// [`OutcomeUnknown`](StateErrorKind::OutcomeUnknown)).
    #[must_use]
    pub fn nothing_written(&self) -> bool {
        self.kind != StateErrorKind::OutcomeUnknown
    }
}

impl From<LimitExceeded> for StateError {
    fn from(exceeded: LimitExceeded) -> Self {
        StateError::new(StateErrorKind::TooLarge).caused_by(exceeded)
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            StateErrorKind::InvalidParticipant => {
                "participant state: the room and the identity must both be non-empty; nothing \
                 was written"
            }
            StateErrorKind::TooLarge => "participant state: over LiveKit's size limits",
            StateErrorKind::Full => {
                "participant state is full: raise StateOptions::with_max_entries or shorten the \
                 retention; nothing was written"
            }
            StateErrorKind::RoomFull => {
                "participant state: this room holds its maximum of participants; raise \
                 StateOptions::with_max_entries_per_room or shorten the retention; nothing was \
                 written"
            }
            StateErrorKind::Unavailable => {
                "participant state is unavailable: its backend could not be reached or refused \
                 the write; nothing was written, try again"
            }
            StateErrorKind::OutcomeUnknown => {
                "participant state: the write was sent but not answered, so it may or may not \
                 have been made; retry it (writes are idempotent) or read the participant back"
            }
            StateErrorKind::InvalidConfig => {
                "participant state: the backend's configuration is wrong"
            }
        })?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        if self.kind == StateErrorKind::TooLarge {
            if let Some(source) = &self.source {
                write!(f, ": {source}; nothing was written")?;
            }
        }
        Ok(())
    }
}

/// The message, as [`Display`](fmt::Display) writes it: a `main` that returns this error
/// prints what to do next.
impl fmt::Debug for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateError({:?}): {self}", self.kind)
    }
}

impl Error for StateError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    #[test]
    fn only_an_unanswered_write_leaves_its_outcome_open() {
        assert!(!StateError::new(StateErrorKind::OutcomeUnknown).nothing_written());
        for kind in [
            StateErrorKind::InvalidParticipant,
            StateErrorKind::TooLarge,
            StateErrorKind::Full,
            StateErrorKind::RoomFull,
            StateErrorKind::Unavailable,
            StateErrorKind::InvalidConfig,
        ] {
            let err = StateError::new(kind);
            assert!(err.nothing_written(), "{kind:?}");
            assert!(!err.to_string().contains("may or may not"), "{kind:?}");
        }
        assert!(StateError::new(StateErrorKind::OutcomeUnknown)
            .to_string()
            .contains("may or may not have been made"));
    }

    #[test]
    fn a_size_error_says_which_limit_and_keeps_it_as_its_source() {
        let exceeded = Limits::new()
            .with_max_metadata_size(4)
            .check_metadata("12345")
            .expect_err("over the limit");
        let err = StateError::from(exceeded);
        assert_eq!(err.kind(), StateErrorKind::TooLarge);
        assert!(
            err.to_string().contains("limit.max_metadata_size (4)"),
            "{err}"
        );
        let source = err.source().expect("a source");
        assert_eq!(source.to_string(), exceeded.to_string());
        assert!(format!("{err:?}").contains("limit.max_metadata_size"));
    }
}
