//! [`WebhookLayer`]: webhook requests verified before the handler sees them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::error::{WebhookError, WebhookErrorKind};
use super::verifier::WebhookVerifier;
use crate::body::{check_declared_length, read_limited, BodyError, FullBody};
use crate::verify::Verifier;

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
/// and the [`Claims`](crate::Claims) in the extensions. A refusal carries its [`WebhookError`] in the
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
