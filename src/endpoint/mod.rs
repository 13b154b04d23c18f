//! The standardized token endpoint that LiveKit frontends call (the "Endpoint" `TokenSource`),
//! as a tower [`Service`].
//!
//! The frontend `POST`s JSON with optional `room_name`, `participant_identity`,
//! `participant_name`, `participant_metadata`, `participant_attributes` and `room_config`
//! (snake_case inner keys, as the JS client sends them; camelCase works too). The application's
//! [`TokenPolicy`] sees the request head (for its own authentication headers) and the parsed
//! request, and answers with a [`TokenApproval`] or a [`TokenRefusal`]. The endpoint mints the
//! token with the current secret of its API key (it follows [`Verifier::rotate`]), at the
//! verifier's time (an injected clock included), and answers
//! `201 {"server_url": ..., "participant_token": ...}` with `Cache-Control: no-store`;
//! `room_config` goes into the token as `roomConfig`, so agent dispatch works end to end.
//!
//! The checks, in order, each with a JSON error body `{"error": "...", "message": "..."}` and
//! never a 500 for anything a client sends:
//! 1. another method: 405;
//! 2. a `Content-Type` that is not `application/json` (or `...+json`), or none: 415. A
//!    cross-site `no-cors` form or `fetch` can send `text/plain` or no type without a CORS
//!    preflight; JSON cannot be sent that way;
//! 3. the [head check](TokenEndpoint::with_head_check), if any: its refusal, before the body is
//!    read;
//! 4. a declared `Content-Length` over the limit (64 KiB by default): 413, before the body is
//!    read; a body that turns out longer: 413;
//! 5. malformed JSON or wrong types: 400;
//! 6. the policy's refusal;
//! 7. a field the client set that the token would not carry as asked: 403
//!    `field_not_allowed`, with the fields named (see below); so is `room_config.egress`
//!    without [`TokenApproval::allow_egress`], whoever set it (it would let a client order
//!    recordings at the operator's cost);
//! 8. the endpoint's API key gone from the verifier's key ring: 503;
//! 9. a token longer than the verifier accepts (large metadata or attributes): 400
//!    `token_too_long`, so the endpoint never hands out a token its own verifier refuses.
//!
//! # Fields the policy does not accept
//!
//! LiveKit's endpoint standard (docs.livekit.io, "Endpoint token generation"): "For fields
//! clients aren't allowed to set, return a 4xx status code." So every field the client sets
//! (`room_name`, `participant_identity`, `participant_name`, `participant_metadata`,
//! `participant_attributes`, and each part of `room_config`) is either in the token exactly
//! as asked, or the request is refused; it is never dropped or replaced in silence. A field is
//! set when it is not empty, as proto3 reads the request: `""`, `0`, `{}` and `[]` set nothing
//! (the Swift, Android and Flutter SDKs always send `room_config: {}`).
//!
//! The refusal is `403 Forbidden`, not `400`: the request is well-formed (400 would tell the
//! client its syntax is wrong) and the answer depends on who asks (the same field may be fine
//! from a trusted caller, as egress is with [`TokenApproval::allow_egress`]), which is what 403
//! says (RFC 9110 §15.5.4: understood, and refused). The body keeps the shape of every other
//! refusal, so that a client showing `message` (livekit-client's error quotes the whole body)
//! shows the field, and adds the list for programs:
//!
//! ```json
//! {"error": "field_not_allowed",
//!  "message": "room_config.max_participants: not allowed from this caller; send the request without it",
//!  "fields": ["room_config.max_participants"]}
//! ```
//!
//! ```
//! use http::{Request, StatusCode};
//! use http_body_util::BodyExt;
//! use tower::ServiceExt;
//! use tower_livekit_auth::body::FullBody;
//! use tower_livekit_auth::endpoint::{TokenEndpoint, TokenApproval, TokenRefusal, TokenRequest};
//! use tower_livekit_auth::{KeyRing, Verifier, VideoGrant};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = KeyRing::new().with_key("APIabcdefg", "somesecretencodedinbase62extendto32bytes")?;
//! let verifier = Verifier::new(keys);
//! let policy = |_head: http::request::Parts, request: TokenRequest| async move {
//!     let room = request.room_name.clone().unwrap_or_else(|| "lobby".into());
//!     Ok(TokenApproval::from_request(&request, "user-42")
//!         .with_video_grant(VideoGrant::join(room))
//!         .accept_agent_dispatch())
//! };
//! let endpoint = TokenEndpoint::new(&verifier, "APIabcdefg", "wss://my.livekit.cloud", policy)?
//!     .with_head_check(|head| match head.headers.get("x-app-session") {
//!         Some(_) => Ok(()),
//!         None => Err(TokenRefusal::unauthorized("log in first")),
//!     });
//!
//! let body = r#"{"room_name":"support","room_config":{"agents":[{"agent_name":"helper"}]}}"#;
//! let request = Request::post("/token")
//!     .header("content-type", "application/json")
//!     .header("x-app-session", "s3cr3t")
//!     .body(FullBody::from(body))?;
//! let response = endpoint.clone().oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::CREATED);
//! let json: serde_json::Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
//! let claims = verifier.verify(json["participant_token"].as_str().unwrap())?;
//! assert_eq!(claims.room(), "support");
//! assert_eq!(claims.room_config().unwrap().agents[0].agent_name.as_deref(), Some("helper"));
//!
//! let anonymous = Request::post("/token")
//!     .header("content-type", "application/json")
//!     .body(FullBody::from("{}"))?;
//! assert_eq!(endpoint.oneshot(anonymous).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```

mod fields;
mod policy;
mod request;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use serde::Serialize;
use tower_service::Service;

pub use self::policy::{TokenApproval, TokenPolicy, TokenRefusal};
pub use self::request::TokenRequest;

use crate::body::{check_declared_length, read_limited, BodyError, FullBody};
use crate::claims::Object;
use crate::mint::{MintError, MintErrorKind};
use crate::verify::Verifier;

/// The default limit on the request body: 64 KiB.
pub const DEFAULT_TOKEN_REQUEST_BODY_LIMIT: usize = 64 * 1024;

type HeadCheck = dyn Fn(&http::request::Parts) -> Result<(), TokenRefusal> + Send + Sync;

/// The token endpoint service. See the [module docs](self).
pub struct TokenEndpoint<P> {
    shared: Arc<Shared<P>>,
    // Outside the `Arc`, so that setting them on one clone never depends on the others.
    limits: Limits,
}

#[derive(Clone)]
struct Limits {
    body_limit: usize,
    head_check: Option<Arc<HeadCheck>>,
}

struct Shared<P> {
    /// Shares the key ring of the application's verifier: a rotation reaches the endpoint.
    verifier: Verifier,
    api_key: String,
    server_url: String,
    policy: P,
}

impl<P> Clone for TokenEndpoint<P> {
    fn clone(&self) -> Self {
        TokenEndpoint {
            shared: self.shared.clone(),
            limits: self.limits.clone(),
        }
    }
}

impl<P> fmt::Debug for TokenEndpoint<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("api_key", &self.shared.api_key)
            .field("server_url", &self.shared.server_url)
            .field("head_check", &self.limits.head_check.is_some())
            .field("body_limit", &self.limits.body_limit)
            .finish_non_exhaustive()
    }
}

impl<P: TokenPolicy> TokenEndpoint<P> {
    /// An endpoint that mints with the secret of `api_key` in `verifier`'s key ring, as it is
    /// at each request (a [`Verifier::rotate`] that keeps the key with a new secret is followed;
    /// one that removes it makes the endpoint answer 503 until the key is back), and tells
    /// clients to connect to `server_url`. Fails if the ring has no `api_key` now.
    pub fn new(
        verifier: &Verifier,
        api_key: &str,
        server_url: impl Into<String>,
        policy: P,
    ) -> Result<Self, MintError> {
        if !verifier.key_ring().contains(api_key) {
            return Err(MintError::new(MintErrorKind::UnknownKey));
        }
        Ok(TokenEndpoint {
            shared: Arc::new(Shared {
                verifier: verifier.clone(),
                api_key: api_key.to_owned(),
                server_url: server_url.into(),
                policy,
            }),
            limits: Limits {
                body_limit: DEFAULT_TOKEN_REQUEST_BODY_LIMIT,
                head_check: None,
            },
        })
    }

    /// Refuse request bodies over `limit` bytes with 413 (default 64 KiB).
    #[must_use]
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.limits.body_limit = limit;
        self
    }

    /// Decide from the request head alone, before a byte of the body is read: the place for the
    /// application's own authentication (a session cookie, an API key header), so that an
    /// anonymous caller cannot make the server read and parse a body. Its refusal is the
    /// answer.
    #[must_use]
    pub fn with_head_check<F>(mut self, check: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Result<(), TokenRefusal> + Send + Sync + 'static,
    {
        self.limits.head_check = Some(Arc::new(check));
        self
    }
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    server_url: &'a str,
    participant_token: &'a str,
}

fn json_response(status: StatusCode, body: String) -> Response<FullBody> {
    let mut response = Response::new(FullBody::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<FullBody> {
    error_with_fields(status, code, message, &[])
}

fn error_with_fields(
    status: StatusCode,
    code: &str,
    message: &str,
    fields: &[&str],
) -> Response<FullBody> {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        error: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        fields: &'a [&'a str],
    }
    let body = serde_json::to_string(&ErrorBody {
        error: code,
        message,
        fields,
    })
    .unwrap_or_default();
    json_response(status, body)
}

/// 403 `field_not_allowed`, naming `fields` (wire names, never the values sent).
fn fields_not_allowed(fields: &[&str]) -> Response<FullBody> {
    let pronoun = if fields.len() == 1 { "it" } else { "them" };
    let message = format!(
        "{}: not allowed from this caller; send the request without {pronoun}",
        fields.join(", ")
    );
    error_with_fields(StatusCode::FORBIDDEN, "field_not_allowed", &message, fields)
}

/// `application/json` or a `+json` type, with any parameters. A missing type is not JSON (a
/// `no-cors` request may send none), nor is a value that is not visible ASCII.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5 && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
}

impl<P: TokenPolicy> Shared<P> {
    async fn handle<B>(&self, request: Request<B>, limits: Limits) -> Response<FullBody>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (head, body) = request.into_parts();
        if let Some(refusal) = refusal_from_head(&head, &limits) {
            return refusal;
        }
        let bytes = match read_limited(body, limits.body_limit).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => return too_large(),
            Err(BodyError::Unreadable) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the request body could not be read",
                );
            }
        };
        // JSON text is UTF-8 (RFC 8259 §8.1). Checked over the whole body first: serde_json's
        // byte reader skips the strings of fields it ignores without checking them.
        let parsed = std::str::from_utf8(&bytes)
            .map_err(|_| "not valid JSON")
            .and_then(|text| {
                serde_json::from_str::<Object<TokenRequest>>(text).map_err(|err| describe(&err))
            });
        let token_request = match parsed {
            Ok(Object(request)) => request,
            Err(why) => {
                let message = format!("the request is not a valid token request: {why}");
                return error(StatusCode::BAD_REQUEST, "invalid_request", &message);
            }
        };
        // The policy takes the request; the comparison with the token needs it after.
        let asked = token_request.clone();
        let approval = match self.policy.decide(head, token_request).await {
            Ok(approval) => approval,
            Err(refusal) => return refused(&refusal),
        };
        self.mint(&asked, approval)
    }

    /// Signs `approval` with the current secret of the endpoint's key, if it carries every
    /// field of `asked` as asked.
    fn mint(&self, asked: &TokenRequest, approval: TokenApproval) -> Response<FullBody> {
        let refused = fields::not_allowed(asked, approval.token.claims(), approval.allow_egress);
        if !refused.is_empty() {
            return fields_not_allowed(&refused);
        }
        let Some(signer) = self.verifier.key_ring().access_token(&self.api_key) else {
            #[cfg(feature = "tracing")]
            tracing::error!(
                api_key = self.api_key,
                "token endpoint: its API key is no longer in the verifier's key ring"
            );
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the token service cannot sign tokens right now; try again later",
            );
        };
        let token = match approval
            .token
            .signed_like(&signer)
            .to_jwt_at(self.verifier.now())
        {
            Ok(token) => token,
            Err(err) => return mint_failed(err),
        };
        let max = self.verifier.max_token_len();
        if token.len() > max {
            let message = format!(
                "the token would be {} bytes, more than the {max} this service accepts: send \
                 less participant_metadata or fewer participant_attributes",
                token.len()
            );
            return error(StatusCode::BAD_REQUEST, "token_too_long", &message);
        }
        let body = TokenResponse {
            server_url: &self.server_url,
            participant_token: &token,
        };
        let mut response = json_response(
            StatusCode::CREATED,
            serde_json::to_string(&body).unwrap_or_default(),
        );
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// The answer decided from the head alone, before the body is read, if it is a refusal.
fn refusal_from_head(head: &http::request::Parts, limits: &Limits) -> Option<Response<FullBody>> {
    if head.method != Method::POST {
        let mut response = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "use POST",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return Some(response);
    }
    if !is_json(head.headers.get(CONTENT_TYPE)) {
        return Some(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the request as Content-Type: application/json",
        ));
    }
    if let Some(Err(refusal)) = limits.head_check.as_ref().map(|check| check(head)) {
        return Some(refused(&refusal));
    }
    check_declared_length(&head.headers, limits.body_limit)
        .err()
        .map(|_| too_large())
}

fn refused(refusal: &TokenRefusal) -> Response<FullBody> {
    error(refusal.status, "refused", &refusal.message)
}

fn too_large() -> Response<FullBody> {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "the request body is larger than this endpoint accepts",
    )
}

/// An approval the policy built that cannot be minted. A join without an identity or a room is
/// what a policy passing the request's empty fields through produces: the client is told
/// which field to send. Anything else is the server's own fault, and the client hears only
/// that (the `MintError` goes to the log, never into the body).
fn mint_failed(err: MintError) -> Response<FullBody> {
    match err.kind() {
        MintErrorKind::MissingIdentity => error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a join token needs a participant_identity",
        ),
        MintErrorKind::MissingRoom => error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a join token needs a room_name",
        ),
        _ => {
            #[cfg(feature = "tracing")]
            tracing::error!(error = %err, "token endpoint: the policy's approval cannot be minted");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the token could not be issued",
            )
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
    type Response = Response<FullBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (shared, limits) = (self.shared.clone(), self.limits.clone());
        Box::pin(async move { Ok(shared.handle(request, limits).await) })
    }
}

#[cfg(test)]
mod tests;
