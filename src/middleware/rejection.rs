//! [`AuthRejection`]: why a request was refused, and the response that says so.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use http::header::WWW_AUTHENTICATE;
use http::{HeaderValue, Response, StatusCode};

use super::MalformedCredentials;
use crate::verify::VerifyError;

/// Why the [`AuthLayer`](super::AuthLayer) or a [`RequireLayer`](super::RequireLayer) refused a
/// request.
///
/// It rides in the extensions of the rejection response, so outer layers and tests can read it,
/// and an [`OnRejection`] handler gets it to build its own response (JSON, twirp, ...). Its
/// `Display` never contains the token or a secret.
#[derive(Clone, Debug)]
pub struct AuthRejection {
    reason: Reason,
    realm: Arc<str>,
}

#[derive(Clone, Debug)]
enum Reason {
    Missing,
    Malformed(MalformedCredentials),
    Invalid(VerifyError),
    Insufficient(&'static str),
}

/// What kind of [`AuthRejection`] this is, with its HTTP status (RFC 6750 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No token at all: 401 with `WWW-Authenticate: Bearer realm="..."`.
    MissingToken,
    /// The `Authorization` header or the query parameter is not a well-formed bearer credential:
    /// 400, `error="invalid_request"`.
    MalformedRequest,
    /// The token did not verify: 401, `error="invalid_token"`.
    InvalidToken,
    /// The token is valid but lacks a grant the route requires: 403,
    /// `error="insufficient_scope"`.
    InsufficientScope,
}

impl AuthRejection {
    pub(crate) fn missing(realm: &Arc<str>) -> Self {
        AuthRejection {
            reason: Reason::Missing,
            realm: realm.clone(),
        }
    }

    pub(crate) fn malformed(err: MalformedCredentials, realm: &Arc<str>) -> Self {
        AuthRejection {
            reason: Reason::Malformed(err),
            realm: realm.clone(),
        }
    }

    pub(crate) fn invalid(err: VerifyError, realm: &Arc<str>) -> Self {
        AuthRejection {
            reason: Reason::Invalid(err),
            realm: realm.clone(),
        }
    }

    pub(crate) fn insufficient(requirement: &'static str, realm: &Arc<str>) -> Self {
        AuthRejection {
            reason: Reason::Insufficient(requirement),
            realm: realm.clone(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> RejectionKind {
        match self.reason {
            Reason::Missing => RejectionKind::MissingToken,
            Reason::Malformed(_) => RejectionKind::MalformedRequest,
            Reason::Invalid(_) => RejectionKind::InvalidToken,
            Reason::Insufficient(_) => RejectionKind::InsufficientScope,
        }
    }

    /// Why the token did not verify, for [`RejectionKind::InvalidToken`].
    pub fn verify_error(&self) -> Option<&VerifyError> {
        match &self.reason {
            Reason::Invalid(err) => Some(err),
            _ => None,
        }
    }

    /// The grant the route required, for [`RejectionKind::InsufficientScope`].
    pub fn required_grant(&self) -> Option<&'static str> {
        match self.reason {
            Reason::Insufficient(grant) => Some(grant),
            _ => None,
        }
    }

    /// The HTTP status: 401, 400 or 403.
    pub fn status(&self) -> StatusCode {
        match self.kind() {
            RejectionKind::MissingToken | RejectionKind::InvalidToken => StatusCode::UNAUTHORIZED,
            RejectionKind::MalformedRequest => StatusCode::BAD_REQUEST,
            RejectionKind::InsufficientScope => StatusCode::FORBIDDEN,
        }
    }

    /// The `WWW-Authenticate` challenge of RFC 6750 §3.
    pub fn www_authenticate(&self) -> HeaderValue {
        // Built by appending (not `format!`): it is on every refused request.
        let error = match self.kind() {
            RejectionKind::MissingToken => None,
            RejectionKind::MalformedRequest => Some("invalid_request"),
            RejectionKind::InvalidToken => Some("invalid_token"),
            RejectionKind::InsufficientScope => Some("insufficient_scope"),
        };
        let mut value = String::with_capacity(160);
        value.push_str("Bearer realm=\"");
        value.push_str(&self.realm);
        value.push('"');
        if let Some(error) = error {
            value.push_str(", error=\"");
            value.push_str(error);
            value.push_str("\", error_description=\"");
            // Writing to a `String` cannot fail.
            let _ = write!(value, "{self}");
            value.push('"');
        }
        // Every message is ASCII without quotes (checked in tests); fall back to the bare
        // challenge rather than fail if that ever changes.
        HeaderValue::try_from(value).unwrap_or(HeaderValue::from_static("Bearer"))
    }

    /// The default response: the status, the `WWW-Authenticate` challenge, an empty body, and
    /// this rejection in the extensions.
    pub fn to_response<B: Default>(&self) -> Response<B> {
        let mut response = Response::new(B::default());
        *response.status_mut() = self.status();
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, self.www_authenticate());
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Missing => f.write_str("missing bearer token"),
            Reason::Malformed(err) => write!(f, "malformed credentials: {err}"),
            Reason::Invalid(err) => write!(f, "{err}"),
            Reason::Insufficient(grant) => {
                write!(
                    f,
                    "the token does not grant what this route requires ({grant})"
                )
            }
        }
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.reason {
            Reason::Invalid(err) => Some(err),
            Reason::Malformed(err) => Some(err),
            _ => None,
        }
    }
}

/// Builds the response for a refused request. The default, [`DefaultRejection`], answers with
/// [`AuthRejection::to_response`]; any `Fn(&AuthRejection) -> Response<B>` works too, for a JSON
/// or twirp error body. Whatever it returns, the middleware adds the rejection to the response's
/// extensions.
pub trait OnRejection<B> {
    /// The response for `rejection`.
    fn on_rejection(&self, rejection: &AuthRejection) -> Response<B>;
}

/// The default [`OnRejection`]: status, `WWW-Authenticate`, empty body.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRejection;

impl<B: Default> OnRejection<B> for DefaultRejection {
    fn on_rejection(&self, rejection: &AuthRejection) -> Response<B> {
        rejection.to_response()
    }
}

impl<B, F> OnRejection<B> for F
where
    F: Fn(&AuthRejection) -> Response<B>,
{
    fn on_rejection(&self, rejection: &AuthRejection) -> Response<B> {
        self(rejection)
    }
}

/// Runs `handler`, makes sure the rejection is in the response's extensions, and emits the
/// `tracing` event (feature `tracing`).
/// `api_key` is the verified API key, when the token was valid (insufficient scope).
pub(crate) fn respond<B, H: OnRejection<B>>(
    handler: &H,
    rejection: AuthRejection,
    api_key: Option<&str>,
) -> Response<B> {
    #[cfg(feature = "tracing")]
    tracing::info!(
        kind = ?rejection.kind(),
        reason = rejection.verify_error().map(|e| e.kind().as_str()),
        grant = rejection.required_grant(),
        api_key,
        "LiveKit token refused: {rejection}"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = api_key;
    let mut response = handler.on_rejection(&rejection);
    // The default handler has put it there already; a custom one may not have.
    if response.extensions().get::<AuthRejection>().is_none() {
        response.extensions_mut().insert(rejection);
    }
    response
}
