//! The standardized token endpoint that LiveKit frontends call (the "Endpoint" `TokenSource`),
//! as a tower [`Service`].
//!
//! The frontend `POST`s JSON with optional `room_name`, `participant_identity`,
//! `participant_name`, `participant_metadata`, `participant_attributes` and `room_config`
//! (snake_case inner keys, as the JS client sends them; camelCase works too). The application's
//! [`TokenPolicy`] sees the request head (for its own authentication headers) and the parsed
//! request, and answers with a [`TokenGrant`] or a [`TokenRefusal`]. The endpoint mints the
//! token and answers `201 {"server_url": ..., "participant_token": ...}`; `room_config` goes into
//! the token as `roomConfig`, so agent dispatch works end to end.
//!
//! Bad input never becomes a 500: malformed JSON or wrong types are 400, a body over the limit
//! (64 KiB by default) 413, another method 405, a non-JSON content type 415, all with a JSON
//! error body `{"error": "...", "message": "..."}`. A `room_config.egress` is refused (403)
//! unless the grant allows it: it would let a client order recordings at the server's cost.
//!
//! ```
//! use http::{Request, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::ServiceExt;
//! use tower_livekit_auth::endpoint::{TokenEndpoint, TokenGrant, TokenRefusal, TokenRequest};
//! use tower_livekit_auth::{KeyRing, Verifier, VideoGrant};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = KeyRing::new().with_key("APIabcdefg", "somesecretencodedinbase62extendto32bytes")?;
//! let policy = |head: http::request::Parts, request: TokenRequest| async move {
//!     if head.headers.get("x-app-session").is_none() {
//!         return Err(TokenRefusal::unauthorized("log in first"));
//!     }
//!     let room = request.room_name.clone().unwrap_or_else(|| "lobby".into());
//!     Ok(TokenGrant::from_request(&request, "user-42").with_video_grant(VideoGrant::join(room)))
//! };
//! let endpoint = TokenEndpoint::new(&keys, "APIabcdefg", "wss://my.livekit.cloud", policy)?;
//!
//! let body = r#"{"room_name":"support","room_config":{"agents":[{"agent_name":"helper"}]}}"#;
//! let request = Request::post("/token")
//!     .header("content-type", "application/json")
//!     .header("x-app-session", "s3cr3t")
//!     .body(Full::new(bytes::Bytes::from(body)))?;
//! let response = endpoint.clone().oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::CREATED);
//! let json: serde_json::Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
//! let claims = Verifier::new(keys).verify(json["participant_token"].as_str().unwrap())?;
//! assert_eq!(claims.room(), "support");
//! assert_eq!(claims.room_config().unwrap().agents[0].agent_name.as_deref(), Some("helper"));
//!
//! let anonymous = Request::post("/token").body(Full::new(bytes::Bytes::from("{}")))?;
//! assert_eq!(endpoint.oneshot(anonymous).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use serde::{Deserialize, Deserializer, Serialize};
use tower_service::Service;

use crate::body::{read_limited, BodyError};
use crate::claims::{Object, ParticipantKind, RoomConfiguration, VideoGrant};
use crate::keys::KeyRing;
use crate::mint::{AccessToken, MintError, MintErrorKind};

/// The default limit on the request body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The JSON a frontend's endpoint `TokenSource` sends. Every field is optional; `{}` is valid.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct TokenRequest {
    /// `room_name`: the room to join.
    #[serde(default)]
    pub room_name: Option<String>,
    /// `participant_identity`.
    #[serde(default)]
    pub participant_identity: Option<String>,
    /// `participant_name`.
    #[serde(default)]
    pub participant_name: Option<String>,
    /// `participant_metadata`.
    #[serde(default)]
    pub participant_metadata: Option<String>,
    /// `participant_attributes`.
    #[serde(default)]
    pub participant_attributes: Option<BTreeMap<String, String>>,
    /// `room_config`: snake_case or camelCase keys, e.g. `{"agents":[{"agent_name":"x"}]}`.
    #[serde(default, deserialize_with = "object")]
    pub room_config: Option<RoomConfiguration>,
}

fn object<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RoomConfiguration>, D::Error> {
    Ok(Option::<Object<RoomConfiguration>>::deserialize(d)?.map(|Object(config)| config))
}

/// What the policy allows: the token to mint for this request. It is an [`AccessToken`]
/// without a key yet; the endpoint signs it with its own.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    token: AccessToken,
    allow_egress: bool,
}

impl TokenGrant {
    /// A token for `identity`, with no grant yet.
    pub fn new(identity: impl Into<String>) -> Self {
        TokenGrant {
            token: AccessToken::unsigned().with_identity(identity),
            allow_egress: false,
        }
    }

    /// A token for `identity` with what the request asked for that is not a permission: the
    /// name, metadata, attributes and room configuration. Add the video grant yourself.
    pub fn from_request(request: &TokenRequest, identity: impl Into<String>) -> Self {
        let mut grant = TokenGrant::new(identity);
        if let Some(name) = &request.participant_name {
            grant = grant.with_name(name.clone());
        }
        if let Some(metadata) = &request.participant_metadata {
            grant = grant.with_metadata(metadata.clone());
        }
        if let Some(attributes) = &request.participant_attributes {
            grant.token = grant.token.with_attributes(attributes.clone());
        }
        if let Some(config) = &request.room_config {
            grant = grant.with_room_config(config.clone());
        }
        grant
    }

    /// The video grant.
    pub fn with_video_grant(mut self, grant: VideoGrant) -> Self {
        self.token = self.token.with_video_grant(grant);
        self
    }

    /// The display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.token = self.token.with_name(name);
        self
    }

    /// The participant kind.
    pub fn with_kind(mut self, kind: ParticipantKind) -> Self {
        self.token = self.token.with_kind(kind);
        self
    }

    /// The metadata.
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.token = self.token.with_metadata(metadata);
        self
    }

    /// The room configuration.
    pub fn with_room_config(mut self, config: RoomConfiguration) -> Self {
        self.token = self.token.with_room_config(config);
        self
    }

    /// The token's lifetime (default 6 hours).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.token = self.token.with_ttl(ttl);
        self
    }

    /// Allow `roomConfig.egress` in the token. Off by default: egress makes the server record
    /// or stream at the operator's cost, so only a trusted caller may ask for it.
    pub fn allow_egress(mut self) -> Self {
        self.allow_egress = true;
        self
    }

    fn asks_for_egress(&self) -> bool {
        self.token
            .room_config()
            .is_some_and(|config| config.egress.is_some())
    }
}

/// The policy's refusal: a status and a message for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRefusal {
    status: StatusCode,
    message: String,
}

impl TokenRefusal {
    /// 401: the caller is not authenticated.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        TokenRefusal {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
        }
    }

    /// 403: the caller may not have this token.
    pub fn forbidden(message: impl Into<String>) -> Self {
        TokenRefusal {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// 400: the request makes no sense.
    pub fn bad_request(message: impl Into<String>) -> Self {
        TokenRefusal {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// Any 4xx status; other statuses become 403.
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::FORBIDDEN
        };
        TokenRefusal {
            status,
            message: message.into(),
        }
    }
}

/// Decides who gets which token. Any `Fn(Parts, TokenRequest) -> impl Future<Output =
/// Result<TokenGrant, TokenRefusal>>` is a policy; the request head is given so that the policy
/// can apply the application's own authentication (a session cookie, an API key header).
pub trait TokenPolicy: Send + Sync + 'static {
    /// The future of a decision.
    type Future: Future<Output = Result<TokenGrant, TokenRefusal>> + Send + 'static;

    /// Decides for one request.
    fn decide(&self, head: http::request::Parts, request: TokenRequest) -> Self::Future;
}

impl<F, Fut> TokenPolicy for F
where
    F: Fn(http::request::Parts, TokenRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<TokenGrant, TokenRefusal>> + Send + 'static,
{
    type Future = Fut;

    fn decide(&self, head: http::request::Parts, request: TokenRequest) -> Fut {
        self(head, request)
    }
}

/// The token endpoint service. See the [module docs](self).
pub struct TokenEndpoint<P> {
    shared: Arc<Shared<P>>,
    // Outside the `Arc`, so that setting it on one clone never depends on the others.
    body_limit: usize,
}

struct Shared<P> {
    template: AccessToken,
    server_url: String,
    policy: P,
}

impl<P> Clone for TokenEndpoint<P> {
    fn clone(&self) -> Self {
        TokenEndpoint {
            shared: self.shared.clone(),
            body_limit: self.body_limit,
        }
    }
}

impl<P> fmt::Debug for TokenEndpoint<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("template", &self.shared.template)
            .field("server_url", &self.shared.server_url)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl<P: TokenPolicy> TokenEndpoint<P> {
    /// An endpoint that mints with `api_key`'s secret from `keys` and tells clients to connect
    /// to `server_url`. Fails if `keys` has no `api_key`.
    pub fn new(
        keys: &KeyRing,
        api_key: &str,
        server_url: impl Into<String>,
        policy: P,
    ) -> Result<Self, MintError> {
        let template = keys
            .access_token(api_key)
            .ok_or(MintError::new(MintErrorKind::UnknownKey))?;
        Ok(TokenEndpoint {
            shared: Arc::new(Shared {
                template,
                server_url: server_url.into(),
                policy,
            }),
            body_limit: DEFAULT_BODY_LIMIT,
        })
    }

    /// Refuse request bodies over `limit` bytes with 413 (default 64 KiB).
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    server_url: &'a str,
    participant_token: &'a str,
}

fn json_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    json_response(status, body)
}

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return true; // absent: the JS client always sends it; curl users forget it
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5 && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
}

impl<P: TokenPolicy> Shared<P> {
    async fn handle<B>(&self, request: Request<B>, body_limit: usize) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if request.method() != Method::POST {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use POST",
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        if !is_json(request.headers().get(CONTENT_TYPE)) {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the request as application/json",
            );
        }
        let (head, body) = request.into_parts();
        let bytes = match read_limited(body, body_limit).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is larger than this endpoint accepts",
                );
            }
            Err(BodyError::Unreadable) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the request body could not be read",
                );
            }
        };
        let token_request = match serde_json::from_slice::<Object<TokenRequest>>(&bytes) {
            Ok(Object(request)) => request,
            Err(err) => {
                let message = format!(
                    "the request is not a valid token request: {}",
                    describe(&err)
                );
                return error(StatusCode::BAD_REQUEST, "invalid_request", &message);
            }
        };
        let grant = match self.policy.decide(head, token_request).await {
            Ok(grant) => grant,
            Err(refusal) => return error(refusal.status, "refused", &refusal.message),
        };
        if grant.asks_for_egress() && !grant.allow_egress {
            return error(
                StatusCode::FORBIDDEN,
                "egress_not_allowed",
                "room_config.egress is not allowed from this caller",
            );
        }
        match grant.token.signed_like(&self.template).to_jwt() {
            Ok(token) => {
                let body = TokenResponse {
                    server_url: &self.server_url,
                    participant_token: &token,
                };
                json_response(
                    StatusCode::CREATED,
                    serde_json::to_string(&body).unwrap_or_default(),
                )
            }
            Err(err) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "policy_error",
                &err.to_string(),
            ),
        }
    }
}

/// What is wrong with a request body, without quoting any of it.
fn describe(err: &serde_json::Error) -> &'static str {
    match err.classify() {
        serde_json::error::Category::Data => "a field has the wrong type",
        _ => "not valid JSON",
    }
}

impl<P, B> Service<Request<B>> for TokenEndpoint<P>
where
    P: TokenPolicy,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (shared, body_limit) = (self.shared.clone(), self.body_limit);
        Box::pin(async move { Ok(shared.handle(request, body_limit).await) })
    }
}

#[cfg(test)]
mod tests;
