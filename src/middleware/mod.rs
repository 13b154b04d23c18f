//! The tower middleware: [`AuthLayer`] verifies the bearer token and puts the
//! [`Claims`](crate::Claims) into the request extensions; [`RequireLayer`] enforces a grant on
//! a route.
//!
//! Status codes follow RFC 6750 (gRPC calls get gRPC statuses, see [below](#grpc)): no token → 401 with `WWW-Authenticate: Bearer realm=...`; a bad
//! token → 401 `error="invalid_token"`; a malformed `Authorization` header → 400
//! `error="invalid_request"`; a valid token lacking a grant → 403 `error="insufficient_scope"`.
//! Every rejection carries its [`AuthRejection`] in the response extensions and, by default,
//! its reason as a short text body (see [`AuthRejection::to_response`]); neither the response
//! nor the log ever contains the token or a secret.
//!
//! # gRPC
//!
//! Both layers work in a tonic server, `Server::builder().layer(AuthLayer::new(verifier))`,
//! though this crate does not depend on tonic: they are generic over the bodies and only need
//! the response body to be `Default`, as tonic's is. A call whose `content-type` is
//! `application/grpc` (`+proto`, `+json` or any other subtype) is refused the way gRPC clients
//! expect: HTTP 200 with `content-type: application/grpc`, `grpc-status` 16
//! (`UNAUTHENTICATED`: no token, a malformed or an invalid one) or 7 (`PERMISSION_DENIED`: a
//! valid token without the grant), and the reason, percent-encoded, in `grpc-message`. A tonic
//! handler finds the [`Claims`](crate::Claims) in `request.extensions()`. To guard one service
//! rather than all, wrap it with tonic's `LayerExt::named_layer`, which keeps the name
//! `add_service` needs. gRPC-Web requests are plain HTTP to the layers unless a translator
//! runs in front of them (see [`AuthRejection::is_grpc`]). `tests/grpc.rs` shows it with a real
//! tonic server and client.
//!
//! ```
//! use http::{Request, Response, StatusCode};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_livekit_auth::middleware::{AuthRejection, RejectionKind};
//! use tower_livekit_auth::{AccessToken, AuthLayer, KeyRing, RequireLayer, Verifier, VideoGrant};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = "somesecretencodedinbase62extendto32bytes";
//! let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?);
//! let rooms_api = ServiceBuilder::new()
//!     .layer(AuthLayer::new(verifier))
//!     .layer(RequireLayer::create_rooms())
//!     .service(service_fn(|_: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(String::from("created")))
//!     }));
//!
//! let mint = |grant: VideoGrant| AccessToken::new("APIabcdefg", secret).with_video_grant(grant).to_jwt();
//! let request = |token: String| Request::post("/rooms").header("authorization", format!("Bearer {token}")).body(String::new());
//!
//! // A token with roomCreate is let through.
//! let creator = mint(VideoGrant::new().with_room_create(true))?;
//! let response = rooms_api.clone().oneshot(request(creator)?).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! // A valid token without it is refused with 403, and the reason rides along.
//! let viewer = mint(VideoGrant::admin("myroom"))?;
//! let response = rooms_api.oneshot(request(viewer)?).await?;
//! assert_eq!(response.status(), StatusCode::FORBIDDEN);
//! let rejection = response.extensions().get::<AuthRejection>().unwrap();
//! assert_eq!(rejection.kind(), RejectionKind::InsufficientScope);
//! assert_eq!(rejection.required_grant(), Some("roomCreate"));
//! # Ok(())
//! # }
//! ```

mod auth;
mod extract;
mod future;
mod head;
mod metrics;
pub(crate) mod realm;
mod redact;
mod refresh;
mod rejection;
mod require;
mod requirement;
mod response;
mod room;

pub use self::auth::{Auth, AuthLayer};
pub use self::extract::{extract_token, TokenLocation};
pub use self::future::ResponseFuture;
pub use self::head::RequestHead;
pub use self::realm::DEFAULT_REALM;
pub use self::redact::RedactedUri;
pub use self::rejection::{AuthRejection, RejectionKind};
pub use self::require::{Require, RequireLayer};
pub use self::requirement::{Custom, RequiredGrant, Requirement, RoomAdmin};
pub use self::response::{DefaultRejection, OnRejection};
pub use self::room::RoomFrom;
pub use crate::credentials::MalformedCredentials;

#[cfg(test)]
mod tests;
