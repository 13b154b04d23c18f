//! axum extractors for [`Claims`] (feature `axum`).
//!
//! With an [`AuthLayer`](crate::AuthLayer) in front of the routes, a handler takes `Claims`
//! (the request is refused with 401 if there are none, rather than axum's 500 for a missing
//! extension) or `Option<Claims>` (for routes behind an [`optional`](crate::AuthLayer::optional)
//! layer).
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower_livekit_auth::{AuthLayer, Claims, KeyRing, Verifier};
//!
//! async fn whoami(claims: Claims) -> String {
//!     claims.identity().to_owned()
//! }
//!
//! async fn greet(claims: Option<Claims>) -> String {
//!     match claims {
//!         Some(claims) => format!("hello {}", claims.identity()),
//!         None => "hello stranger".into(),
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::new(KeyRing::from_env().unwrap_or_default());
//! let app: Router = Router::new()
//!     .route("/whoami", get(whoami))
//!     .route("/greet", get(greet).layer(AuthLayer::new(verifier.clone()).optional()))
//!     .layer(AuthLayer::new(verifier));
//! # Ok(())
//! # }
//! ```

use std::convert::Infallible;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::claims::Claims;
use crate::middleware::{AuthRejection, DEFAULT_REALM};

/// The rejection of the `Claims` extractor when no [`AuthLayer`](crate::AuthLayer) verified a
/// token for this request: 401 with `WWW-Authenticate: Bearer realm="livekit"`.
#[derive(Clone, Debug)]
pub struct MissingClaims(AuthRejection);

impl IntoResponse for MissingClaims {
    fn into_response(self) -> Response {
        self.0.to_response()
    }
}

impl std::fmt::Display for MissingClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for MissingClaims {}

impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = MissingClaims;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Claims>()
            .cloned()
            .ok_or_else(|| MissingClaims(AuthRejection::missing(&DEFAULT_REALM.into())))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Claims>().cloned())
    }
}
