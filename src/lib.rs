//! Accept LiveKit access tokens in any tower, hyper or axum server.
//!
//! A [`Verifier`] checks a token exactly as the LiveKit server does (HS256 signature against a
//! [`KeyRing`] of API key → secret pairs, `exp`, `nbf`, with 60 s of leeway) and hands back typed
//! [`Claims`] whose permission methods apply the server's rules:
//! `claims.can_publish_source(TrackSource::Camera)`, `claims.is_room_admin("myroom")`.
//! [`AccessToken`] mints and refreshes tokens.
//!
//! ```
//! use tower_livekit_auth::{AccessToken, KeyRing, TrackSource, Verifier, VideoGrant};
//!
//! let secret = "somesecretencodedinbase62extendto32bytes";
//! let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?);
//!
//! let token = AccessToken::new("APIabcdefg", secret)
//!     .with_identity("alice")
//!     .with_video_grant(VideoGrant::join("myroom"))
//!     .to_jwt()?;
//!
//! let claims = verifier.verify(&token)?;
//! assert_eq!(claims.identity(), "alice");
//! assert!(claims.can_join());
//! assert!(claims.can_publish_source(TrackSource::Camera));
//! assert!(!claims.is_room_admin("myroom"));
//!
//! let forged = format!("{}x", &token[..token.len() - 1]);
//! assert!(verifier.verify(&forged).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Map of the crate
//!
//! - [`claims`]: the typed token and every permission rule.
//! - [`keys`]: [`KeyRing`], read from LiveKit's YAML, a key file or the environment.
//! - [`limits`]: LiveKit's size limits on names, metadata and attributes.
//! - [`verify`]: [`Verifier`] and [`VerifyError`].
//! - [`mint`]: [`AccessToken`], minting and refresh.
//! - [`endpoint`]: the standardized token endpoint that LiveKit frontends call.
//! - [`webhook`]: verifying LiveKit's webhook requests.
//! - [`middleware`]: [`AuthLayer`] (verify, put `Claims` in the request) and [`RequireLayer`]
//!   (enforce a grant on a route).
//! - [`state`]: [`ParticipantState`](state::ParticipantState), participant updates and
//!   revocations after a token is issued.
//! - `axum` (feature `axum`): `Claims` and `Option<Claims>` as extractors.
//!
//! # Features
//!
//! - `axum`: the extractors.
//! - `tracing`: one `tracing` event per refused request, at `debug` level (a flood of bad
//!   tokens must not flood the logs at `info`), with the reason and the API key when known,
//!   never the token; webhook refusals likewise. Misconfiguration the operator must fix (the
//!   token endpoint's key gone from the ring) is an `error`.
//! - `redis`: `ParticipantState::redis` in [`state`], the participant
//!   state shared by every replica through Redis.
//! - `metrics`: counters on the [`metrics`](https://docs.rs/metrics) facade (below).
//!
//! # Metrics
//!
//! With the `metrics` feature the crate emits, and the application installs the recorder
//! (Prometheus, StatsD, ...); without a recorder each call costs one atomic load.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `livekit_auth_verifications_total` | counter | `outcome`: `accepted` or `refused`; `reason`: `none` or a [`VerifyErrorKind::as_str`]; `source`: `header`, `query`, `webhook` or `direct` (a call to [`Verifier::verify`]) |
//! | `livekit_auth_rejections_total` | counter | `kind`: a [`RejectionKind::as_str`](middleware::RejectionKind::as_str), for every refusal of the layers (a missing or malformed credential too) |
//! | `livekit_auth_token_cache_total` | counter | `result`: `hit` or `miss` |
//!
//! Every label value is one of a fixed few: never an identity, a room, a key or a path.
//! There is no histogram of verification time: two clock readings per verification (about
//! 40 ns on the project's machine) would be several percent of a verification, and a
//! server's own request latency covers it.

// The lints are in Cargo.toml's `[lints]`. docs.rs (`[package.metadata.docs.rs]`) builds with
// every feature and `--cfg docsrs`: each feature-gated item then shows the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// `get_ref`, `get_mut` and `into_inner` for a middleware whose wrapped service is its field
/// `inner` of type `S` (in the style of tower-http's services). Defined before the modules, so
/// that each of them can use it.
macro_rules! define_inner_service_accessors {
    () => {
        /// The wrapped service.
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The wrapped service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// The wrapped service, unwrapped.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod body;
pub mod claims;
mod credentials;
pub mod endpoint;
mod jws;
pub mod keys;
pub mod limits;
#[cfg(feature = "metrics")]
mod metrics;
pub mod middleware;
pub mod mint;
pub mod state;
mod time;
pub mod verify;
pub mod webhook;

pub use claims::{
    AgentGrant, Attributes, Claims, InferenceGrant, JobRestartPolicy, KindDetail,
    ObservabilityGrant, ParticipantKind, Permissions, RoomAgentDispatch, RoomConfiguration,
    SipGrant, TrackSource, VideoGrant,
};
pub use keys::{KeyError, KeyErrorKind, KeyRing};
pub use middleware::{AuthLayer, RequireLayer};
pub use mint::{AccessToken, MintError, MintErrorKind};
pub use verify::{Verifier, VerifyError, VerifyErrorKind};

/// The README's example, compiled as a doc test so that it stays true (it is an axum app).
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
