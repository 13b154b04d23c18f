//! `lkauth gate`: forward authorization for reverse proxies. nginx (`auth_request`), Caddy
//! (`forward_auth`), Traefik (`ForwardAuth`) and Envoy (`ext_authz`, HTTP and gRPC) ask the
//! gate whether a request may pass; it answers with the verdicts of `tower-livekit-auth`'s own
//! layers (`AuthLayer`, `RequireLayer`), on the same live participant state: a participant
//! removed through the gate's RoomService is refused at the door at once, on every path the
//! proxy guards, in front of a self-hosted LiveKit or any backend.
//!
//! It is built on the library's public API only (design decision 14). The request body never
//! reaches a check.
//!
//! ```
//! use axum::body::Body;
//! use http::{Request, StatusCode};
//! use lkauth::gate::{router, Gate, Policy};
//! use tower::ServiceExt;
//! use tower_livekit_auth::{AccessToken, KeyRing, Verifier, VideoGrant};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = "somesecretencodedinbase62extendto32bytes";
//! let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?);
//! let app = router(Gate::builder(verifier, Policy::preset("livekit")?).build()?);
//!
//! // nginx asks about LiveKit's signalling WebSocket, whose token is in the query.
//! let check = |uri: &str| {
//!     Request::get("/auth")
//!         .header("x-original-uri", uri)
//!         .header("x-original-method", "GET")
//!         .body(Body::empty())
//! };
//! let token = AccessToken::new("APIabcdefg", secret)
//!     .with_identity("alice")
//!     .with_video_grant(VideoGrant::join("myroom"))
//!     .to_jwt()?;
//! let allowed = app.clone().oneshot(check(&format!("/rtc?access_token={token}"))?).await?;
//! assert_eq!(allowed.status(), StatusCode::OK);
//! assert_eq!(allowed.headers()["x-livekit-identity"], "alice");
//! assert_eq!(allowed.headers()["x-livekit-room"], "myroom");
//!
//! let refused = app.oneshot(check("/rtc")?).await?;
//! assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(refused.headers()["www-authenticate"], r#"Bearer realm="livekit""#);
//! # Ok(())
//! # }
//! ```
//!
//! # The HTTP contract
//!
//! One listener (`--bind`, default `127.0.0.1:7888`) serves:
//!
//! | path | method | for |
//! |---|---|---|
//! | `/auth` | any | nginx `auth_request`, Caddy `forward_auth`, Traefik `ForwardAuth` |
//! | `/ext_authz`, `/ext_authz/{original path}` | the original's | Envoy HTTP `ext_authz` with `path_prefix: /ext_authz` |
//! | `/twirp/livekit.RoomService/UpdateParticipant`, `.../RemoveParticipant` | POST | the participant state's writes (below) |
//! | `/healthz` | GET | `200 ok` |
//!
//! Anything else is 404. HTTP/1.1 (keep-alive) and HTTP/2 without TLS (h2c); a client has
//! 10 s to send a request head. At start the gate prints `listening on http://ADDR` (and
//! `grpc listening on ADDR` with `--grpc-bind`) on stdout, for scripts to wait on.
//!
//! ## The original request
//!
//! - `/auth`: the URI from `X-Original-URI` (nginx: `proxy_set_header X-Original-URI
//!   $request_uri;`) or `X-Forwarded-Uri` (Caddy and Traefik send it), the method from
//!   `X-Original-Method` (`proxy_set_header X-Original-Method $request_method;`) or
//!   `X-Forwarded-Method`. `X-Forwarded-Host` goes to the access log, nothing more.
//! - `/ext_authz/...`: the path after the prefix (`/ext_authz/rtc/v1?access_token=...` is
//!   `/rtc/v1?access_token=...`, `/ext_authz` alone is `/`), the method of the check itself.
//! - A missing URI or method, one sent twice, the two conventions disagreeing (a client may add
//!   its own `X-Original-URI` behind Caddy: the proxy sets one, the client the other), a value
//!   that is no request target: **400**, `text/plain`, saying what to configure; never an
//!   allow. nginx turns an `auth_request` 400 into a 500 for the client. A warning goes to
//!   stderr at most every 10 s.
//! - The path is brought to a normal form before it is matched: escapes of unreserved
//!   characters decoded (`/%72tc` is `/rtc`), other escapes upper-cased. A path servers read
//!   in different ways is a 400 too: a dot segment (`/a/../b`, `%2e%2e`), an empty segment
//!   other than a final slash (`//twirp/...`), a backslash. `%2F` stays within its segment;
//!   bytes a path may not hold as they are (raw UTF-8, `{`) are percent-encoded.
//!
//! ## The token
//!
//! From `Authorization: Bearer <token>` (every `Authorization` header the proxy passed on; two
//! of them are a 400), or, only on a route with `query_token: true` and only when there is
//! no `Authorization` header, from the original URI's `access_token` query parameter
//! (LiveKit's signalling WebSocket, `/rtc?access_token=...`: a browser cannot set headers
//! there). A present header wins, even an invalid one. Proxies send the client's headers with
//! the check by default (nginx: `proxy_pass_request_headers on`, Caddy, Traefik and Envoy
//! always send `Authorization`).
//!
//! ## The answer
//!
//! - **Allowed**: `200`, empty body, and for the upstream:
//!   - `x-livekit-identity`: the participant identity (`sub`, or `jti`), percent-encoded
//!     UTF-8: controls, spaces, `%` and every byte past ASCII are `%XX`, other characters stay
//!     (`alice@example.com` is itself, `José` is `Jos%C3%A9`, `a b` is `a%20b`); any
//!     percent-decoder gives the identity back exactly;
//!   - `x-livekit-room`: the token's room (`video.room`), encoded the same way;
//!   - `x-livekit-claims`: the effective claims, that is the token's claims with the
//!     participant's updates applied (name, metadata, attributes, permissions), as JSON in
//!     LiveKit's camelCase keys, base64url without padding. Its size follows the token's
//!     metadata and attributes: allow for it in the proxy's buffer for the check's headers
//!     (nginx `proxy_buffer_size`, 4 KiB or 8 KiB by default).
//!
//!   The three are on every `200`: identity and room empty when the token names none, all
//!   three empty on a `public` route passed without a token. The proxy must set them on the
//!   upstream request, replacing whatever the client sent under these names (an empty value
//!   replaces too): nginx `auth_request_set` + `proxy_set_header`, Caddy `copy_headers`,
//!   Traefik `authResponseHeaders`, Envoy `allowed_upstream_headers`.
//! - **Refused**: exactly what `AuthLayer` and `RequireLayer` answer, status, headers and
//!   body (the reason, `text/plain`):
//!   - `401`, `WWW-Authenticate: Bearer realm="livekit"`: no token (with a hint when the token
//!     is in the query of a route that does not read it there);
//!   - `401`, `WWW-Authenticate: Bearer realm="livekit", error="invalid_token",
//!     error_description="..."`: forged, expired, not yet valid, unknown key, revoked;
//!   - `400`, `error="invalid_request"`: a malformed `Authorization` or `access_token`;
//!   - `403`, `error="insufficient_scope"`: a valid token without the route's grant;
//!   - `503` with `Retry-After: 1`: the participant state is unavailable (a Redis state
//!     configured to fail closed);
//!   - `403` without `WWW-Authenticate`, body `no route of the gate's policy matches this
//!     request`: no route matched and the default is `deny`.
//!
//!   nginx passes a 401 or a 403 on to the client (`WWW-Authenticate` too, with
//!   `auth_request_set` + `add_header`) and turns any other status into a 500; Caddy, Traefik
//!   and Envoy send the gate's answer as it is. Never set Envoy's `failure_mode_allow`: a
//!   5xx of the gate would then let the request through.
//!
//! The gate never logs a token: with `--access-log`, one line per check on stdout, the URI
//! written through the library's `RedactedUri` (`?access_token=[redacted]`).
//!
//! # The gRPC contract
//!
//! With `--grpc-bind ADDR`, `envoy.service.auth.v3.Authorization/Check` (Envoy's gRPC
//! `ext_authz`) decides the same way on `attributes.request.http` (`method`, `path` with the
//! query, the `authorization` header): see [`grpc`] for the exact `CheckResponse`.
//!
//! # The policy
//!
//! A YAML route table (`--policy FILE`) or the built-in preset (`--preset livekit`, the
//! default); see [`policy`] for the format and `livekit.yaml` (printed by `lkauth gate
//! --print-preset livekit`) for the preset. The first route whose path and methods match
//! decides; a path no route matches gets the default (`deny`, or `allow_authenticated`).
//!
//! What the gate cannot check without the body: a twirp call that names its room in the body
//! (`req.room` of `RemoveParticipant`, `ListParticipants`, agent dispatch, ...) is checked at
//! the door for room admin of the token's own room (`token_room_admin`); LiveKit checks that
//! the body names that very room. The gate adds what LiveKit does not do (it refuses revoked
//! tokens and answers updated ones with their new grants), and refuses at the door what
//! LiveKit would refuse later.
//!
//! # The state, and LiveKit's RoomService
//!
//! The gate reads the participant state of `tower-livekit-auth` (in memory; or in Redis with
//! `--redis URL` or the `redis:` block of `--config`, shared by every gate replica and any
//! service of the library with the same prefix, `--redis-prefix`). It writes it through its
//! own `UpdateParticipant` and `RemoveParticipant` ([`room_service`]): point a server SDK's
//! RoomService at the gate (or route these two paths of the proxy to it), with `--livekit-url`
//! set to the LiveKit server. Each call is recorded first, then forwarded to LiveKit with the
//! caller's own token, and LiveKit's answer is returned: one call removes the participant from
//! the room and closes the door on its tokens. When the forward fails, the client gets a
//! twirp `unavailable` (503) saying that the gate recorded the change, that the LiveKit call
//! failed, and that retrying is safe ([`forward`]).

mod answer;
mod check;
pub mod forward;
pub mod grpc;
mod http_check;
mod log;
mod original;
pub mod policy;
mod preset;
pub mod room_service;
mod run;
mod template;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::{any, get};
use axum::Router;
use tower_livekit_auth::state::ParticipantState;
use tower_livekit_auth::Verifier;

use crate::state::state_options;

pub use self::answer::{CLAIMS_HEADER, IDENTITY_HEADER, IDENTITY_HEADERS, ROOM_HEADER};
pub use self::http_check::EXT_AUTHZ_PREFIX;
pub use self::original::{
    X_FORWARDED_HOST, X_FORWARDED_METHOD, X_FORWARDED_URI, X_ORIGINAL_METHOD, X_ORIGINAL_URI,
};
pub use self::policy::{Policy, PolicyError};
pub use self::preset::{preset_text, PRESETS};
pub use self::run::{run, Args};

use self::check::Checker;
use self::forward::LiveKit;
use self::log::Log;

/// A gate: the compiled policy, the verifier with its participant state, where to forward
/// RoomService calls. Cheap to clone.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    checker: Checker,
    verifier: Verifier,
    state: ParticipantState,
    livekit: Option<LiveKit>,
    log: Log,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("checker", &self.inner.checker)
            .field("livekit", &self.inner.livekit.as_ref().map(LiveKit::url))
            .finish_non_exhaustive()
    }
}

/// How to build a [`Gate`].
#[derive(Debug)]
pub struct GateBuilder {
    verifier: Verifier,
    policy: Policy,
    livekit: Option<(String, Duration)>,
    access_log: bool,
}

impl Gate {
    /// A gate deciding by `policy` with `verifier`, on the verifier's participant state (or, if
    /// it has none, a new in-memory one on its clock and leeway).
    #[must_use]
    pub fn builder(verifier: Verifier, policy: Policy) -> GateBuilder {
        GateBuilder {
            verifier,
            policy,
            livekit: None,
            access_log: false,
        }
    }

    pub(crate) fn checker(&self) -> &Checker {
        &self.inner.checker
    }

    /// The verifier, its participant state applied.
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// The participant state the checks read and the RoomService writes.
    #[must_use]
    pub fn state(&self) -> &ParticipantState {
        &self.inner.state
    }

    pub(crate) fn livekit(&self) -> Option<&LiveKit> {
        self.inner.livekit.as_ref()
    }

    pub(crate) fn log(&self) -> &Log {
        &self.inner.log
    }
}

impl GateBuilder {
    /// Forward each recorded `UpdateParticipant`/`RemoveParticipant` to the LiveKit server at
    /// `url`, giving it `timeout` to answer.
    #[must_use]
    pub fn livekit_url(mut self, url: &str, timeout: Duration) -> Self {
        self.livekit = Some((url.to_owned(), timeout));
        self
    }

    /// One line per check on stdout.
    #[must_use]
    pub fn access_log(mut self, on: bool) -> Self {
        self.access_log = on;
        self
    }

    /// The gate; an error when the LiveKit URL is not one.
    pub fn build(self) -> Result<Gate, String> {
        let verifier = self.verifier;
        let state = verifier
            .participant_state()
            .cloned()
            .unwrap_or_else(|| ParticipantState::in_memory(state_options(&verifier)));
        let verifier = verifier.with_participant_state(state.clone());
        let livekit = self
            .livekit
            .map(|(url, timeout)| LiveKit::new(&url, timeout))
            .transpose()?;
        Ok(Gate {
            inner: Arc::new(Inner {
                checker: Checker::new(&self.policy, &verifier),
                verifier,
                state,
                livekit,
                log: Log::new(self.access_log),
            }),
        })
    }
}

/// Every HTTP route of the gate (the contract above).
pub fn router(gate: Gate) -> Router {
    Router::new()
        .route("/auth", any(http_check::auth))
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(room_service::router(&gate))
        .fallback(http_check::fallback)
        .with_state(gate)
}
