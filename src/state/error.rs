//! [`StateError`]: why a write to the participant state was not made.

use std::fmt;

/// Why a write to the participant state was not made. A write that returns this error did not
/// happen, on any replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError {
    kind: StateErrorKind,
    detail: Option<String>,
}

/// What kind of [`StateError`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StateErrorKind {
    /// The room or the identity is empty: no token names that participant.
    InvalidParticipant,
    /// The store holds its maximum of participants; nothing is evicted to make room.
    Full,
    /// The backend (Redis) could not be reached or refused the write.
    Unavailable,
    /// The backend's configuration is wrong (a Redis URL redis-rs does not read).
    InvalidConfig,
}

impl StateError {
    pub(crate) fn new(kind: StateErrorKind) -> Self {
        StateError { kind, detail: None }
    }

    /// An error with a detail for the operator (never a secret or a token).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn with_detail(kind: StateErrorKind, detail: impl Into<String>) -> Self {
        StateError {
            kind,
            detail: Some(detail.into()),
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> StateErrorKind {
        self.kind
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            StateErrorKind::InvalidParticipant => {
                "participant state: the room and the identity must both be non-empty"
            }
            StateErrorKind::Full => {
                "participant state is full: raise StateOptions::with_max_entries or shorten the \
                 retention; nothing was written"
            }
            StateErrorKind::Unavailable => {
                "participant state is unavailable: its backend could not be reached; nothing was \
                 written, try again"
            }
            StateErrorKind::InvalidConfig => {
                "participant state: the backend's configuration is wrong"
            }
        })?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for StateError {}
