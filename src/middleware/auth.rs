//! [`AuthLayer`] and [`Auth`]: verify the bearer token, put the [`Claims`] in the request.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use http::header::HeaderName;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::extract::{find_token, has_query_token, TokenLocation};
use super::future::ResponseFuture;
use super::realm::Realm;
use super::refresh::RefreshHeader;
use super::rejection::AuthRejection;
use super::response::{respond, DefaultRejection, OnRejection};
use crate::claims::Claims;
use crate::verify::Verifier;

/// A [`Layer`] that verifies LiveKit access tokens and puts the [`Claims`] into the request
/// extensions.
///
/// - The token comes from `Authorization: Bearer <token>` (scheme in any case), or, after
///   [`with_token_location`](Self::with_token_location), from `?access_token=` when there is no
///   `Authorization` header.
/// - Required by default: no token → 401 `WWW-Authenticate: Bearer realm="livekit"`; a token
///   that does not verify → 401 `error="invalid_token"`; an `Authorization` header that is not a
///   bearer credential → 400 `error="invalid_request"`. [`with_token_required(false)`](Self::with_token_required) lets
///   requests without a token through (with no `Claims`); a bad token is still refused.
/// - The [`AuthRejection`] rides in the rejection's response extensions;
///   [`with_rejection_handler`](Self::with_rejection_handler) replaces the response (JSON,
///   twirp, ...).
/// - The verifier's keys can be rotated at any time with [`Verifier::rotate`] on any clone.
///
/// ```
/// use http::{Request, Response, StatusCode};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
/// use tower_livekit_auth::{AccessToken, AuthLayer, Claims, KeyRing, Verifier, VideoGrant};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let secret = "somesecretencodedinbase62extendto32bytes";
/// let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?);
///
/// let service = ServiceBuilder::new()
///     .layer(AuthLayer::new(verifier))
///     .service(service_fn(|request: Request<String>| async move {
///         let claims = request.extensions().get::<Claims>().expect("the layer put them there");
///         Ok::<_, std::convert::Infallible>(Response::new(claims.identity().to_owned()))
///     }));
///
/// let token = AccessToken::new("APIabcdefg", secret)
///     .with_identity("alice")
///     .with_video_grant(VideoGrant::join("myroom"))
///     .to_jwt()?;
/// let request = Request::builder()
///     .header("authorization", format!("Bearer {token}"))
///     .body(String::new())?;
/// let response = service.clone().oneshot(request).await?;
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.body(), "alice");
///
/// let response = service.oneshot(Request::new(String::new())).await?;
/// assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="livekit""#);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AuthLayer<H = DefaultRejection> {
    config: Arc<Config>,
    on_rejection: H,
}

#[derive(Clone, Debug)]
struct Config {
    verifier: Verifier,
    location: TokenLocation,
    required: bool,
    realm: Realm,
    refresh: Option<RefreshHeader>,
}

impl AuthLayer {
    /// Verifies tokens with `verifier`; requests without a valid token are refused.
    #[must_use]
    pub fn new(verifier: Verifier) -> Self {
        AuthLayer {
            config: Arc::new(Config {
                verifier,
                location: TokenLocation::Header,
                required: true,
                realm: Realm::default(),
                refresh: None,
            }),
            on_rejection: DefaultRejection,
        }
    }
}

impl<H> AuthLayer<H> {
    fn config_mut(&mut self) -> &mut Config {
        // Configuration happens before the layer is shared; if it already is, this copies it.
        Arc::make_mut(&mut self.config)
    }

    /// Where the token may come from (default [`TokenLocation::Header`]).
    /// [`TokenLocation::HeaderOrQuery`] also takes the `access_token` query parameter when the
    /// request has no `Authorization` header (LiveKit's WebSocket signalling needs it). Tokens
    /// in URLs end up in access logs: allow it only on the routes that need it, and keep it out
    /// of your own logs with [`RedactedUri`](super::RedactedUri).
    #[must_use]
    pub fn with_token_location(mut self, location: TokenLocation) -> Self {
        self.config_mut().location = location;
        self
    }

    /// Whether a request needs a token (default `true`). With `false`, requests without any
    /// token go through without [`Claims`]; a token that is present but does not verify is
    /// still refused.
    #[must_use]
    pub fn with_token_required(mut self, required: bool) -> Self {
        self.config_mut().required = required;
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenge (default `livekit`); quotes and
    /// backslashes are removed. Set here once: the [`RequireLayer`](super::RequireLayer)s and
    /// extractors behind this layer answer with the same realm.
    #[must_use]
    pub fn with_realm(mut self, realm: &str) -> Self {
        self.config_mut().realm = Realm::new(realm);
        self
    }

    /// When a verified token expires within `window`, hand the client a refreshed one in the
    /// response header `header`, as the LiveKit server refreshes the tokens of connected
    /// participants.
    ///
    /// The refresh is minted by [`Verifier::refresh`] (which says what it keeps, how long it
    /// lasts, and the limit on a chain of refreshes) and added only to a successful (2xx)
    /// response, together with `Cache-Control: no-store`. When it cannot be minted (the key was
    /// rotated out, the chain reached its limit) the response goes out without it.
    #[must_use]
    pub fn with_refresh_header(mut self, header: HeaderName, window: Duration) -> Self {
        self.config_mut().refresh = Some(RefreshHeader { header, window });
        self
    }

    /// Build rejection responses with `handler` instead of [`DefaultRejection`].
    #[must_use]
    pub fn with_rejection_handler<H2>(self, handler: H2) -> AuthLayer<H2> {
        AuthLayer {
            config: self.config,
            on_rejection: handler,
        }
    }

    /// The verifier this layer uses (a clone shares its key ring).
    pub fn verifier(&self) -> &Verifier {
        &self.config.verifier
    }
}

impl<S, H: Clone> Layer<S> for AuthLayer<H> {
    type Service = Auth<S, H>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            config: self.config.clone(),
            on_rejection: self.on_rejection.clone(),
        }
    }
}

/// The middleware built by [`AuthLayer`].
#[derive(Clone, Debug)]
pub struct Auth<S, H = DefaultRejection> {
    inner: S,
    config: Arc<Config>,
    on_rejection: H,
}

impl<S, H> Auth<S, H> {
    define_inner_service_accessors!();
}

impl Config {
    /// Verifies the request's token, if any. `Ok(None)`: no token (not required).
    fn authenticate<B>(
        &self,
        request: &Request<B>,
        now: SystemTime,
    ) -> Result<Option<Claims>, AuthRejection> {
        let token = find_token(request.headers(), request.uri().query(), self.location)
            .map_err(|err| AuthRejection::malformed(err, &self.realm))?;
        let Some(token) = token else {
            return if !self.required {
                Ok(None)
            } else if self.location == TokenLocation::Header
                && has_query_token(request.uri().query())
            {
                // The token is where this route does not look: say so, rather than "missing".
                Err(AuthRejection::missing_query_token_ignored(&self.realm))
            } else {
                Err(AuthRejection::missing(&self.realm))
            };
        };
        match self
            .verifier
            .verify_bytes_at(token.as_bytes(), now, token.source())
        {
            Ok(claims) => Ok(Some(claims)),
            // Characters no token can have make the request malformed (400) rather than the
            // token invalid (401). Decided here, once, and only when verification failed: a
            // token that verifies is base64url and dots, so it never needs the check.
            Err(err) => Err(match token.check() {
                Ok(()) => AuthRejection::invalid(err, &self.realm),
                Err(malformed) => AuthRejection::malformed(malformed, &self.realm),
            }),
        }
    }
}

impl<S, H, ReqBody, ResBody> Service<Request<ReqBody>> for Auth<S, H>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    H: OnRejection<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // One reading of the clock for the verification and the refresh decision.
        let now = self.config.verifier.now();
        let found = self.config.authenticate(&request, now);
        if found.is_ok() && !self.config.realm.is_default() {
            // For the requirements and extractors behind this layer (see `with_realm`).
            request.extensions_mut().insert(self.config.realm.clone());
        }
        match found {
            Ok(Some(claims)) => {
                let refresh = self
                    .config
                    .refresh
                    .as_ref()
                    .and_then(|refresh| refresh.due(&self.config.verifier, &claims, now));
                request.extensions_mut().insert(claims);
                ResponseFuture::inner(self.inner.call(request), refresh)
            }
            Ok(None) => ResponseFuture::inner(self.inner.call(request), None),
            Err(rejection) => ResponseFuture::rejected(respond(
                &self.on_rejection,
                rejection,
                request.headers(),
                None,
            )),
        }
    }
}
