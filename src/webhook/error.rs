//! [`WebhookError`]: why a webhook request was refused.

use std::fmt;

use http::StatusCode;

use crate::verify::VerifyError;

/// Why a webhook request was refused. Never contains the token or the body. Its `Debug`
/// carries the message, so that a `main` that returns it says what went wrong.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WebhookError {
    kind: WebhookErrorKind,
    verify: Option<VerifyError>,
}

impl WebhookError {
    /// [`WebhookErrorKind::InvalidToken`], for `why`.
    pub(super) const fn invalid_token(why: VerifyError) -> Self {
        WebhookError {
            kind: WebhookErrorKind::InvalidToken,
            verify: Some(why),
        }
    }
}

/// What kind of [`WebhookError`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookErrorKind {
    /// No `Authorization` header, more than one, or an empty `Bearer` credential (a value
    /// that is not a token, such as obs-text bytes, is `InvalidToken`).
    MissingToken,
    /// The token did not verify; [`WebhookError::verify_error`] says why.
    InvalidToken,
    /// The token has no `sha256` claim.
    MissingBodyHash,
    /// The body's SHA-256 is not the token's `sha256`: the body was changed.
    BodyHashMismatch,
    /// The body is larger than the limit.
    BodyTooLarge,
    /// The body could not be read or is not JSON (only from [`WebhookLayer`](super::WebhookLayer)).
    InvalidEvent,
}

impl WebhookErrorKind {
    /// A stable snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            WebhookErrorKind::MissingToken => "missing_token",
            WebhookErrorKind::InvalidToken => "invalid_token",
            WebhookErrorKind::MissingBodyHash => "missing_body_hash",
            WebhookErrorKind::BodyHashMismatch => "body_hash_mismatch",
            WebhookErrorKind::BodyTooLarge => "body_too_large",
            WebhookErrorKind::InvalidEvent => "invalid_event",
        }
    }
}

impl WebhookError {
    pub(super) const fn new(kind: WebhookErrorKind) -> Self {
        WebhookError { kind, verify: None }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> WebhookErrorKind {
        self.kind
    }

    /// Why the token did not verify, for [`WebhookErrorKind::InvalidToken`].
    #[must_use]
    pub fn verify_error(&self) -> Option<&VerifyError> {
        self.verify.as_ref()
    }

    /// The HTTP status to answer with: 401, 413 or 400.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self.kind {
            WebhookErrorKind::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookErrorKind::InvalidEvent => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

impl fmt::Debug for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookError")
            .field("kind", &self.kind)
            .field("message", &self.to_string())
            .finish()
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, &self.verify) {
            (WebhookErrorKind::InvalidToken, Some(err)) => {
                write!(f, "webhook token refused: {err}")
            }
            (WebhookErrorKind::MissingToken, _) => {
                f.write_str("webhook request has no Authorization header with LiveKit's token")
            }
            (WebhookErrorKind::MissingBodyHash, _) => {
                f.write_str("webhook token has no sha256 claim; it is not a webhook token")
            }
            (WebhookErrorKind::BodyHashMismatch, _) => {
                f.write_str("webhook body does not match the token's sha256: it was altered")
            }
            (WebhookErrorKind::BodyTooLarge, _) => f.write_str("webhook body is too large"),
            (WebhookErrorKind::InvalidEvent, _) => f.write_str("webhook body is not JSON"),
            (WebhookErrorKind::InvalidToken, None) => f.write_str("webhook token refused"),
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.verify.as_ref().map(|err| err as _)
    }
}
