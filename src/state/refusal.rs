//! [`Refusal`]: why the participant state refuses a token.

use std::fmt;

/// Why the participant state refuses a token (a verifier answers these as
/// [`VerifyErrorKind::Revoked`](crate::VerifyErrorKind::Revoked) and
/// [`VerifyErrorKind::StateUnavailable`](crate::VerifyErrorKind::StateUnavailable)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// The token was issued before the participant's revocation cutoff.
    Revoked,
    /// The state is older than its fail-closed limit allows (Redis unreachable too long).
    Unavailable,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Revoked => "the participant's tokens issued before its removal are revoked",
            Refusal::Unavailable => {
                "the participant state is too stale to answer (its backend is unreachable)"
            }
        })
    }
}

impl std::error::Error for Refusal {}
