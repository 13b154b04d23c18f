//! [`VerifyError`]: why a token was refused.

use std::fmt;

use crate::state::Refusal;

/// Why a token was refused.
///
/// An opaque error in the style of `http` and `hyper`: ask [`kind`](Self::kind) what happened
/// and [`claim`](Self::claim) which claim was at fault. Neither its `Display` nor its `Debug`
/// ever contains the token, a claim's value or a secret, so it is safe to log and to send back;
/// its `Debug` carries the message, so that a `main` that returns it says what went wrong.
///
/// ```
/// use tower_livekit_auth::{KeyRing, Verifier, VerifyErrorKind};
///
/// let verifier = Verifier::new(KeyRing::new());
/// let err = verifier.verify("not-a-token").unwrap_err();
/// assert_eq!(err.kind(), VerifyErrorKind::Malformed);
/// assert!(!err.to_string().contains("not-a-token"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyError {
    kind: VerifyErrorKind,
    claim: Option<&'static str>,
    detail: &'static str,
}

/// What kind of [`VerifyError`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyErrorKind {
    /// Not a compact JWS: wrong number of segments, bad base64url, a header or payload that is
    /// not a JSON object, a repeated key, or a `crit` header.
    Malformed,
    /// The header's `alg` is not `HS256` (LiveKit signs with HS256 only).
    UnsupportedAlgorithm,
    /// The token has no `iss` (API key).
    MissingIssuer,
    /// The token's `iss` names an API key the key ring does not have.
    UnknownKey,
    /// The signature does not match the token with the API key's secret.
    InvalidSignature,
    /// The token has no `exp`.
    MissingExpiry,
    /// `exp` is past, beyond the leeway.
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    NotYetValid,
    /// `iat` is in the future, beyond the leeway.
    IssuedInFuture,
    /// An audience is configured and `aud` does not contain it.
    InvalidAudience,
    /// A claim has the wrong type or an impossible value; [`VerifyError::claim`] names it.
    InvalidClaim,
    /// The token is longer than the configured maximum.
    TokenTooLong,
    /// The participant was removed (or its tokens revoked) after this token was issued: see
    /// [`crate::state`].
    Revoked,
    /// The participant state is too stale to answer for this participant (its Redis backend
    /// has not synchronised for longer than the fail-closed limit): a 503, try again.
    StateUnavailable,
}

impl VerifyErrorKind {
    /// Every kind (a slice: kinds are added as the crate learns new ways to refuse).
    pub const ALL: &'static [VerifyErrorKind] = &[
        VerifyErrorKind::Malformed,
        VerifyErrorKind::UnsupportedAlgorithm,
        VerifyErrorKind::MissingIssuer,
        VerifyErrorKind::UnknownKey,
        VerifyErrorKind::InvalidSignature,
        VerifyErrorKind::MissingExpiry,
        VerifyErrorKind::Expired,
        VerifyErrorKind::NotYetValid,
        VerifyErrorKind::IssuedInFuture,
        VerifyErrorKind::InvalidAudience,
        VerifyErrorKind::InvalidClaim,
        VerifyErrorKind::TokenTooLong,
        VerifyErrorKind::Revoked,
        VerifyErrorKind::StateUnavailable,
    ];

    /// A stable snake_case name, for logs, metrics and JSON error bodies.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            VerifyErrorKind::Malformed => "malformed",
            VerifyErrorKind::UnsupportedAlgorithm => "unsupported_algorithm",
            VerifyErrorKind::MissingIssuer => "missing_issuer",
            VerifyErrorKind::UnknownKey => "unknown_key",
            VerifyErrorKind::InvalidSignature => "invalid_signature",
            VerifyErrorKind::MissingExpiry => "missing_expiry",
            VerifyErrorKind::Expired => "expired",
            VerifyErrorKind::NotYetValid => "not_yet_valid",
            VerifyErrorKind::IssuedInFuture => "issued_in_future",
            VerifyErrorKind::InvalidAudience => "invalid_audience",
            VerifyErrorKind::InvalidClaim => "invalid_claim",
            VerifyErrorKind::TokenTooLong => "token_too_long",
            VerifyErrorKind::Revoked => "revoked",
            VerifyErrorKind::StateUnavailable => "state_unavailable",
        }
    }
}

impl fmt::Display for VerifyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl VerifyError {
    pub(crate) const fn new(kind: VerifyErrorKind) -> Self {
        VerifyError {
            kind,
            claim: None,
            detail: "",
        }
    }

    pub(crate) const fn malformed(detail: &'static str) -> Self {
        VerifyError {
            kind: VerifyErrorKind::Malformed,
            claim: None,
            detail,
        }
    }

    pub(crate) const fn invalid_claim(claim: &'static str) -> Self {
        VerifyError {
            kind: VerifyErrorKind::InvalidClaim,
            claim: Some(claim),
            detail: "",
        }
    }

    pub(crate) const fn duplicate_claim(claim: &'static str) -> Self {
        VerifyError {
            kind: VerifyErrorKind::Malformed,
            claim: Some(claim),
            detail: "the payload repeats a claim",
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> VerifyErrorKind {
        self.kind
    }

    /// The claim at fault (`"exp"`, `"video"`, ...), for an invalid or repeated claim.
    #[must_use]
    pub fn claim(&self) -> Option<&'static str> {
        self.claim
    }
}

/// The participant state's refusal of a token, as a verification answers it.
impl From<Refusal> for VerifyError {
    fn from(refusal: Refusal) -> Self {
        VerifyError::new(match refusal {
            Refusal::Revoked => VerifyErrorKind::Revoked,
            // `Refusal` is non-exhaustive: anything it may add is a refusal to answer.
            _ => VerifyErrorKind::StateUnavailable,
        })
    }
}

impl fmt::Debug for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyError")
            .field("kind", &self.kind)
            .field("claim", &self.claim)
            .field("message", &self.to_string())
            .finish()
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            VerifyErrorKind::Malformed => match self.claim {
                Some(claim) => write!(f, "malformed token: the payload repeats `{claim}`"),
                None => write!(f, "malformed token: {}", self.detail),
            },
            VerifyErrorKind::UnsupportedAlgorithm => {
                f.write_str("unsupported token algorithm: LiveKit tokens are signed with HS256")
            }
            VerifyErrorKind::MissingIssuer => {
                f.write_str("token has no `iss`: it must name the API key that signed it")
            }
            VerifyErrorKind::UnknownKey => {
                f.write_str("invalid API key: the token's `iss` is not in this server's key ring")
            }
            VerifyErrorKind::InvalidSignature => {
                f.write_str("invalid token signature: it was not signed with this API key's secret")
            }
            VerifyErrorKind::MissingExpiry => f.write_str("token has no `exp`; mint it with a TTL"),
            VerifyErrorKind::Expired => f.write_str("token has expired; fetch a new one"),
            VerifyErrorKind::NotYetValid => {
                f.write_str("token is not valid yet (`nbf`); check the clocks of both machines")
            }
            VerifyErrorKind::IssuedInFuture => f.write_str(
                "token was issued in the future (`iat`); check the clocks of both machines",
            ),
            VerifyErrorKind::InvalidAudience => {
                f.write_str("token's `aud` does not name this service")
            }
            VerifyErrorKind::InvalidClaim => write!(
                f,
                "token claim `{}` has the wrong type or an impossible value",
                self.claim.unwrap_or("?")
            ),
            VerifyErrorKind::TokenTooLong => {
                f.write_str("token is longer than this server accepts")
            }
            VerifyErrorKind::Revoked => f.write_str(
                "token was revoked: the participant was removed after it was issued; get a new one",
            ),
            VerifyErrorKind::StateUnavailable => {
                f.write_str("the participant state is unavailable right now; try again shortly")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The position of `kind` in [`VerifyErrorKind::ALL`]: an exhaustive match, so a new kind
    /// does not compile until it is placed here, and the test below fails until it is in `ALL`.
    fn position(kind: VerifyErrorKind) -> usize {
        match kind {
            VerifyErrorKind::Malformed => 0,
            VerifyErrorKind::UnsupportedAlgorithm => 1,
            VerifyErrorKind::MissingIssuer => 2,
            VerifyErrorKind::UnknownKey => 3,
            VerifyErrorKind::InvalidSignature => 4,
            VerifyErrorKind::MissingExpiry => 5,
            VerifyErrorKind::Expired => 6,
            VerifyErrorKind::NotYetValid => 7,
            VerifyErrorKind::IssuedInFuture => 8,
            VerifyErrorKind::InvalidAudience => 9,
            VerifyErrorKind::InvalidClaim => 10,
            VerifyErrorKind::TokenTooLong => 11,
            VerifyErrorKind::Revoked => 12,
            VerifyErrorKind::StateUnavailable => 13,
        }
    }

    #[test]
    fn all_lists_every_kind_once_with_a_distinct_name() {
        assert_eq!(
            VerifyErrorKind::ALL.len(),
            position(VerifyErrorKind::StateUnavailable) + 1
        );
        for (i, &kind) in VerifyErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(kind), i, "{kind:?}");
        }
        let mut names: Vec<_> = VerifyErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VerifyErrorKind::ALL.len());
    }
}
