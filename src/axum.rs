//! axum extractors for [`Claims`] (feature `axum`).
//!
//! With an [`AuthLayer`](crate::AuthLayer) in front of the routes, a handler takes `Claims`
//! (the request is refused with 401 if there are none, rather than axum's 500 for a missing
//! extension) or `Option<Claims>` (for routes behind an
//! [`with_token_required(false)`](crate::AuthLayer::with_token_required)
//! layer).
//!
//! ```
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use axum::{routing::get, Router};
//! use tower::ServiceExt;
//! use tower_livekit_auth::{AccessToken, AuthLayer, Claims, KeyRing, Verifier};
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
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (key, secret) = ("APIabcdefg", "somesecretencodedinbase62extendto32bytes");
//! let verifier = Verifier::new(KeyRing::new().with_key(key, secret)?);
//! // Each group of routes gets its own layer: a layer over the whole router would also run in
//! // front of the optional routes and refuse their anonymous requests.
//! let app: Router = Router::new()
//!     .route("/whoami", get(whoami))
//!     .route_layer(AuthLayer::new(verifier.clone()))
//!     .merge(
//!         Router::new()
//!             .route("/greet", get(greet))
//!             .route_layer(AuthLayer::new(verifier).with_token_required(false)),
//!     );
//!
//! let anonymous = |uri| Request::get(uri).body(Body::empty());
//! let response = app.clone().oneshot(anonymous("/greet")?).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let response = app.clone().oneshot(anonymous("/whoami")?).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//!
//! let token = AccessToken::new(key, secret).with_identity("alice").to_jwt()?;
//! let request = Request::get("/whoami")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(Body::empty())?;
//! let body = axum::body::to_bytes(app.oneshot(request).await?.into_body(), 1024).await?;
//! assert_eq!(&body[..], b"alice");
//! # Ok(())
//! # }
//! ```

use std::convert::Infallible;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::claims::Claims;
use crate::middleware::realm::Realm;
use crate::middleware::AuthRejection;

/// The rejection of the `Claims` extractor when no [`AuthLayer`](crate::AuthLayer) verified a
/// token for this request: 401 with `WWW-Authenticate: Bearer realm="livekit"`, as the layer
/// itself answers a request without a token.
///
/// ```
/// use http::StatusCode;
/// use tower_livekit_auth::axum::MissingClaims;
/// use tower_livekit_auth::middleware::RejectionKind;
///
/// fn describe(rejection: &MissingClaims) -> (StatusCode, RejectionKind) {
///     (rejection.status(), rejection.rejection().kind())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct MissingClaims(AuthRejection);

impl MissingClaims {
    /// The HTTP status of the response: 401.
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        self.0.status()
    }

    /// The refusal the response carries (and puts in its extensions), as the
    /// [`AuthLayer`](crate::AuthLayer) would have made it.
    #[must_use]
    pub fn rejection(&self) -> &AuthRejection {
        &self.0
    }
}

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

impl std::error::Error for MissingClaims {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = MissingClaims;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Claims>()
            .cloned()
            .ok_or_else(|| MissingClaims(AuthRejection::missing(&Realm::of(&parts.extensions))))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Claims>().cloned())
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    use crate::{AccessToken, AuthLayer, Claims, KeyRing, Verifier};

    async fn required(claims: Claims) -> String {
        claims.identity().to_owned()
    }

    async fn optional(claims: Option<Claims>) -> String {
        claims.map_or("nobody".into(), |c| c.identity().to_owned())
    }

    fn app(layer: Option<AuthLayer>) -> Router {
        let router = Router::new()
            .route("/required", get(required))
            .route("/optional", get(optional));
        match layer {
            Some(layer) => router.layer(layer),
            None => router,
        }
    }

    async fn call(app: Router, path: &str, token: Option<&str>) -> (StatusCode, String) {
        let mut request = Request::get(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = app
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn missing_claims_says_its_status_and_carries_the_layers_rejection() {
        let mut parts = Request::new(()).into_parts().0;
        let rejection = <Claims as axum_core::extract::FromRequestParts<()>>::from_request_parts(
            &mut parts,
            &(),
        )
        .await
        .expect_err("no AuthLayer ran");
        assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            rejection.rejection().kind(),
            crate::middleware::RejectionKind::MissingToken
        );
        let response = axum_core::response::IntoResponse::into_response(rejection.clone());
        assert_eq!(response.status(), rejection.status());
        assert_eq!(
            response.headers()["www-authenticate"],
            rejection.rejection().www_authenticate()
        );
    }

    #[tokio::test]
    async fn missing_claims_is_401_not_500() {
        let (status, _) = call(app(None), "/required", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            call(app(None), "/optional", None).await,
            (StatusCode::OK, "nobody".into())
        );
    }

    #[tokio::test]
    async fn claims_from_the_layer_reach_the_handler() {
        let secret = "somesecretencodedinbase62extendto32bytes";
        let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret).expect("key"));
        let token = AccessToken::new("APIabcdefg", secret)
            .with_identity("alice")
            .to_jwt()
            .expect("mints");
        let layer = || Some(AuthLayer::new(verifier.clone()).with_token_required(false));
        assert_eq!(
            call(app(layer()), "/required", Some(&token)).await,
            (StatusCode::OK, "alice".into())
        );
        assert_eq!(
            call(app(layer()), "/optional", Some(&token)).await,
            (StatusCode::OK, "alice".into())
        );
        assert_eq!(
            call(app(layer()), "/optional", None).await,
            (StatusCode::OK, "nobody".into())
        );
        assert_eq!(
            call(app(layer()), "/required", None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
}
