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
//! # A server
//!
//! The README's axum server (the `axum` feature makes [`Claims`] an extractor; besides the
//! crate it needs `axum` 0.8 and `tokio` with `macros`, `rt-multi-thread` and `net`). It reads
//! the keys as LiveKit does, from `LIVEKIT_KEYS` or `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`,
//! and a `main` that fails prints what to set. On LiveKit's development key (`devkey: secret`)
//! build the ring with [`KeyRing::allowing_weak_secrets`]`().`[`with_env`](KeyRing::with_env)`()`
//! instead, for development only.
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! use axum::{routing::get, Router};
//! # #[cfg(feature = "axum")]
//! use tower_livekit_auth::{AuthLayer, Claims, KeyRing, RequireLayer, TrackSource, Verifier};
//!
//! # #[cfg(feature = "axum")]
//! async fn whoami(claims: Claims) -> String {
//!     let camera = claims.can_publish_source(TrackSource::Camera);
//!     format!("{} in {} (camera: {camera})", claims.identity(), claims.room())
//! }
//!
//! # #[cfg(feature = "axum")]
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // LIVEKIT_KEYS (`key: secret` lines) or LIVEKIT_API_KEY + LIVEKIT_API_SECRET.
//!     let verifier = Verifier::new(KeyRing::from_env()?);
//!     let app = Router::new()
//!         .route("/admin/rooms", get(|| async { "rooms" }).route_layer(RequireLayer::create_rooms()))
//!         .route("/whoami", get(whoami))
//!         .route_layer(AuthLayer::new(verifier)); // 401/400/403 per RFC 6750, Claims for handlers
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! # #[cfg(not(feature = "axum"))]
//! # fn main() {}
//! ```
//!
//! # Map of the crate
//!
//! Each module builds only on those listed before it, and nothing points back up: a request
//! flows from [`middleware`] through [`verify`] (keys, then the participant state) to the
//! [`Claims`] a handler asks.
//!
//! - [`claims`]: the typed token and every permission rule; [`limits`]: LiveKit's size limits
//!   on names, metadata and attributes (with the crate's internal leaves: time, the JWS
//!   encodings that minting and verification share, the counters of feature `metrics`).
//! - [`keys`]: [`KeyRing`], read from LiveKit's YAML, a key file or the environment.
//! - [`mint`]: [`AccessToken`], minting, and the minting half of refresh.
//! - [`state`]: [`ParticipantState`](state::ParticipantState), participant updates and
//!   revocations after a token is issued, in memory or shared through Redis.
//! - [`config`]: LiveKit's own config file (`keys`, `key_file`, `redis`, `limit`) and its
//!   environment overrides, read as `livekit-server` reads them; the key ring and the
//!   participant state from it in one call each.
//! - [`verify`]: [`Verifier`] and [`VerifyError`] (and [`Verifier::refresh`]).
//! - [`middleware`]: [`AuthLayer`] (verify, put `Claims` in the request) and [`RequireLayer`]
//!   (enforce a grant on a route); [`webhook`]: verifying LiveKit's webhook requests;
//!   [`endpoint`]: the standardized token endpoint that LiveKit frontends call; [`body`]: the
//!   in-memory body they answer with.
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
pub mod config;
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

#[cfg(test)]
mod tests {
    /// The lines of the first `rust,no_run` block of the README.
    fn readme_server() -> Vec<&'static str> {
        let readme = include_str!("../README.md");
        let start = readme
            .find("```rust,no_run\n")
            .expect("the README's server")
            + 15;
        let end = start + readme[start..].find("```").expect("its end");
        readme[start..end].lines().collect()
    }

    /// The lines of the first example of these crate docs, without rustdoc's hidden lines.
    fn front_page_server() -> Vec<&'static str> {
        include_str!("lib.rs")
            .lines()
            .filter_map(|line| {
                line.strip_prefix("//!")
                    .map(|l| l.strip_prefix(' ').unwrap_or(l))
            })
            .skip_while(|line| *line != "```no_run")
            .skip(1)
            .take_while(|line| *line != "```")
            .filter(|line| !line.starts_with("# ") && *line != "#")
            .collect()
    }

    #[test]
    fn the_front_page_shows_the_readmes_server() {
        assert_eq!(front_page_server(), readme_server());
    }

    /// `examples/axum_server.rs` is the README's server too, as rustfmt lays it out: the same
    /// code once whitespace and rustfmt's trailing commas are set aside (its header comment
    /// apart).
    #[test]
    fn the_axum_example_is_the_readmes_server() {
        let code = |lines: &mut dyn Iterator<Item = &str>| -> String {
            let text: String = lines
                .filter(|line| !line.starts_with("//!"))
                .flat_map(str::chars)
                .filter(|c| !c.is_whitespace())
                .collect();
            text.replace(",)", ")")
        };
        let example = include_str!("../examples/axum_server.rs");
        assert_eq!(
            code(&mut example.lines()),
            code(&mut readme_server().into_iter())
        );
    }
}
