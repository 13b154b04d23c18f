//! Verifying LiveKit webhooks (spec §8).
//!
//! LiveKit signs each webhook `POST` with a token in `Authorization` (the raw token, without
//! `Bearer `) whose `sha256` claim is the base64 SHA-256 of the body. [`WebhookVerifier`]
//! checks both, comparing the hash in constant time; [`WebhookLayer`] does it in front of a
//! handler: the token first, then the body (1 MiB at most by default), handing the handler the
//! verified event as a [`WebhookEvent`] extension.
//!
//! ```
//! use http::HeaderMap;
//! use tower_livekit_auth::webhook::{body_sha256, WebhookVerifier, WebhookErrorKind};
//! use tower_livekit_auth::{AccessToken, KeyRing, Verifier};
//!
//! let secret = "somesecretencodedinbase62extendto32bytes";
//! let keys = KeyRing::new().with_key("APIabcdefg", secret)?;
//! let webhooks = WebhookVerifier::new(Verifier::new(keys));
//!
//! // What the LiveKit server sends:
//! let body = br#"{"event":"room_started"}"#;
//! assert_eq!(body_sha256(body), "w9NV0uLHjSON8P7eonnkKXDHY4ICORefbHDCviKIgX8=");
//! let token = AccessToken::new("APIabcdefg", secret).with_sha256(body_sha256(body)).to_jwt()?;
//! let mut headers = HeaderMap::new();
//! headers.insert("authorization", token.parse()?);
//!
//! assert!(webhooks.verify(&headers, body).is_ok());
//! let tampered = br#"{"event":"room_finished"}"#;
//! let err = webhooks.verify(&headers, tampered).unwrap_err();
//! assert_eq!(err.kind(), WebhookErrorKind::BodyHashMismatch);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Body;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::{check_declared_length, read_limited, BodyError, FullBody};
use crate::claims::Claims;
use crate::credentials::{authorization, bearer};
use crate::verify::Source;
use crate::verify::{Verifier, VerifyError};

/// The default limit on a webhook body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// base64 (standard, padded) of the SHA-256 of `body`: the `sha256` claim of a webhook token.
#[must_use]
pub fn body_sha256(body: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(Sha256::digest(body))
}

/// Verifies webhook requests: the token in `Authorization` and the body's hash.
#[derive(Clone, Debug)]
pub struct WebhookVerifier {
    verifier: Verifier,
    body_limit: usize,
}

impl WebhookVerifier {
    /// Verifies webhook tokens with `verifier` (the keys LiveKit signs webhooks with).
    #[must_use]
    pub fn new(verifier: Verifier) -> Self {
        WebhookVerifier {
            verifier,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Refuse bodies over `limit` bytes (default 1 MiB).
    #[must_use]
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Checks a webhook request now: returns the token's claims if the token verifies and its
    /// `sha256` is the hash of `body`.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Claims, WebhookError> {
        self.verify_at(headers, body, self.verifier.now())
    }

    /// [`verify`](Self::verify) as if the time were `now`: the token first, then the body's
    /// size and hash (see [`verify_token_at`](Self::verify_token_at) and
    /// [`check_body`](Self::check_body), the two halves).
    pub fn verify_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Claims, WebhookError> {
        let claims = self.verify_token_at(headers, now)?;
        self.check_body(&claims, body)?;
        Ok(claims)
    }

    /// The first half, before any of the body is read: the token in `Authorization` (LiveKit
    /// sends it bare; a `Bearer ` prefix from a proxy or a tool is tolerated) verifies at `now`
    /// and carries a `sha256` claim.
    pub fn verify_token_at(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<Claims, WebhookError> {
        let missing = || WebhookError::new(WebhookErrorKind::MissingToken);
        let value = authorization(headers).ok().flatten().ok_or_else(missing)?;
        let token = match bearer(value) {
            Ok(token) => token,
            Err(_) if value.trim_ascii().eq_ignore_ascii_case(b"bearer") => return Err(missing()),
            Err(_) => value,
        };
        if token.is_empty() {
            return Err(missing());
        }
        let claims = self
            .verifier
            .verify_bytes_at(token, now, Source::Webhook)
            .map_err(|err| WebhookError {
                kind: WebhookErrorKind::InvalidToken,
                verify: Some(err),
            })?;
        if claims.sha256().is_none() {
            return Err(WebhookError::new(WebhookErrorKind::MissingBodyHash));
        }
        Ok(claims)
    }

    /// The second half: `body` is within the limit and its SHA-256 is the `sha256` claim of
    /// `claims` (compared in constant time).
    pub fn check_body(&self, claims: &Claims, body: &[u8]) -> Result<(), WebhookError> {
        if body.len() > self.body_limit {
            return Err(WebhookError::new(WebhookErrorKind::BodyTooLarge));
        }
        let claimed = claims
            .sha256()
            .ok_or(WebhookError::new(WebhookErrorKind::MissingBodyHash))?;
        let actual = body_sha256(body);
        if !bool::from(claimed.as_bytes().ct_eq(actual.as_bytes())) {
            return Err(WebhookError::new(WebhookErrorKind::BodyHashMismatch));
        }
        Ok(())
    }
}

/// Why a webhook request was refused. Never contains the token or the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookError {
    kind: WebhookErrorKind,
    verify: Option<VerifyError>,
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
    /// The body could not be read or is not JSON (only from [`WebhookLayer`]).
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
    const fn new(kind: WebhookErrorKind) -> Self {
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

/// The verified webhook event, in the request extensions behind a [`WebhookLayer`].
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookEvent(pub serde_json::Value);

impl WebhookEvent {
    /// The event name (`room_started`, `participant_joined`, ...), `""` if absent.
    #[must_use]
    pub fn name(&self) -> &str {
        self.0.get("event").and_then(|e| e.as_str()).unwrap_or("")
    }
}

/// A [`Layer`] that verifies webhook requests before the handler sees them.
///
/// In this order, so that nobody can make the server buffer a body without LiveKit's token:
/// 1. the token in `Authorization` must verify and carry a `sha256` claim, else 401;
/// 2. a `Content-Length` over the limit (1 MiB by default) is refused with 413 before a byte
///    is read;
/// 3. the body is read, within the limit (413 past it), and its hash compared (401 when it
///    differs);
/// 4. it must be JSON (400).
///
/// The handler then gets the request with the body as a [`FullBody`] (so the layer works in
/// front of any body type, hyper's own included) and the verified event as a [`WebhookEvent`]
/// and the [`Claims`] in the extensions. A refusal carries its [`WebhookError`] in the
/// response extensions.
///
/// ```
/// use axum::{routing::post, Extension, Router};
/// use tower_livekit_auth::webhook::{WebhookEvent, WebhookLayer};
/// use tower_livekit_auth::{KeyRing, Verifier};
///
/// async fn on_webhook(Extension(event): Extension<WebhookEvent>) -> &'static str {
///     println!("LiveKit says: {}", event.name());
///     "ok"
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = KeyRing::new().with_key("APIabcdefg", "somesecretencodedinbase62extendto32bytes")?;
/// let app: Router = Router::new()
///     .route("/webhook", post(on_webhook).layer(WebhookLayer::new(Verifier::new(keys))));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct WebhookLayer {
    // Shared with every service the layer builds: each request takes a reference count, not a
    // copy of the verifier.
    verifier: Arc<WebhookVerifier>,
}

impl WebhookLayer {
    /// Verifies webhooks with `verifier`'s keys.
    #[must_use]
    pub fn new(verifier: Verifier) -> Self {
        WebhookLayer {
            verifier: Arc::new(WebhookVerifier::new(verifier)),
        }
    }

    /// Refuse bodies over `limit` bytes (default 1 MiB).
    #[must_use]
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.verifier = Arc::new(WebhookVerifier::clone(&self.verifier).with_body_limit(limit));
        self
    }
}

impl<S> Layer<S> for WebhookLayer {
    type Service = Webhook<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Webhook {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The middleware built by [`WebhookLayer`].
#[derive(Clone, Debug)]
pub struct Webhook<S> {
    inner: S,
    verifier: Arc<WebhookVerifier>,
}

impl<S> Webhook<S> {
    define_inner_service_accessors!();
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Webhook<S>
where
    S: Service<Request<FullBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The token and the declared length are checked here, before the body is touched.
        let verifier = self.verifier.clone();
        let claims = match verifier.verify_token_at(request.headers(), verifier.verifier.now()) {
            Ok(claims) => claims,
            Err(err) => return ready(refuse(err)),
        };
        if check_declared_length(request.headers(), verifier.body_limit).is_err() {
            return ready(refuse(WebhookError::new(WebhookErrorKind::BodyTooLarge)));
        }
        // The ready service goes into the future; a clone stays for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let bytes = match read_limited(body, verifier.body_limit).await {
                Ok(bytes) => bytes,
                Err(BodyError::TooLarge) => {
                    return Ok(refuse(WebhookError::new(WebhookErrorKind::BodyTooLarge)));
                }
                Err(BodyError::Unreadable) => {
                    return Ok(refuse(WebhookError::new(WebhookErrorKind::InvalidEvent)))
                }
            };
            if let Err(err) = verifier.check_body(&claims, &bytes) {
                return Ok(refuse(err));
            }
            let Ok(event) = serde_json::from_slice(&bytes) else {
                return Ok(refuse(WebhookError::new(WebhookErrorKind::InvalidEvent)));
            };
            parts.extensions.insert(WebhookEvent(event));
            parts.extensions.insert(claims);
            inner
                .call(Request::from_parts(parts, FullBody::new(bytes)))
                .await
        })
    }
}

/// A refusal ready at once (an `async` block, so the inner service's error need not be `Send`).
fn ready<T: Send + 'static, E: 'static>(response: T) -> BoxFuture<Result<T, E>> {
    Box::pin(async move { Ok(response) })
}

fn refuse<B: Default>(err: WebhookError) -> Response<B> {
    #[cfg(feature = "tracing")]
    tracing::debug!(kind = err.kind().as_str(), "LiveKit webhook refused: {err}");
    let mut response = Response::new(B::default());
    *response.status_mut() = err.status();
    response.extensions_mut().insert(err);
    response
}

#[cfg(test)]
mod tests;
