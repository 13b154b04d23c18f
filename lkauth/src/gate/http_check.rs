//! The HTTP checks: `/auth` (nginx `auth_request`, Caddy `forward_auth`, Traefik
//! `ForwardAuth`) and `/ext_authz/...` (Envoy's HTTP `ext_authz`). Neither reads the request
//! body: a check is decided on the head alone.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Response, StatusCode};
use http::header::{AUTHORIZATION, HOST};
use http::HeaderValue;

use super::answer::{self, empty_identity_headers, identity_headers, text_plain};
use super::check::Verdict;
use super::original::{BadOriginal, Original, X_FORWARDED_HOST};
use super::Gate;

/// Envoy's `path_prefix`: the original path follows it.
pub const EXT_AUTHZ_PREFIX: &str = "/ext_authz";

/// `/auth`, any method: the original request from the forward-auth headers. (The request is
/// taken whole so that its headers are read in place, not copied; its body is not read.)
pub(crate) async fn auth(State(gate): State<Gate>, request: Request) -> Response<Body> {
    let headers = request.headers();
    let original = match Original::from_forward_headers(headers) {
        Ok(original) => original,
        Err(err) => return bad_original(&gate, "auth", &err),
    };
    let host = text(headers.get(X_FORWARDED_HOST));
    answer(&gate, "auth", &original, headers, host).await
}

/// Every path the router has no route for: `/ext_authz` and below it are Envoy's checks, the
/// rest is 404.
pub(crate) async fn fallback(State(gate): State<Gate>, request: Request) -> Response<Body> {
    let (method, uri, headers) = (request.method(), request.uri(), request.headers());
    let path = uri.path();
    let below = path
        .strip_prefix(EXT_AUTHZ_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if !below {
        return text_plain(
            StatusCode::NOT_FOUND,
            "not a route of lkauth gate: checks go to /auth (nginx, Caddy, Traefik) or \
             /ext_authz/... (Envoy)\n",
        )
        .map(Body::from);
    }
    let original = match Original::from_prefixed(method, uri, EXT_AUTHZ_PREFIX) {
        Ok(original) => original,
        Err(err) => return bad_original(&gate, "ext_authz", &err),
    };
    let host = text(headers.get(HOST));
    answer(&gate, "ext_authz", &original, headers, host).await
}

async fn answer(
    gate: &Gate,
    via: &str,
    original: &Original,
    headers: &HeaderMap,
    host: Option<&str>,
) -> Response<Body> {
    let (verdict, decided) = gate
        .checker()
        .check(original, headers.get_all(AUTHORIZATION).iter())
        .await;
    gate.log().decided(via, original, host, &verdict, decided);
    match verdict {
        Verdict::Allow(claims) => {
            let mut response = Response::new(Body::empty());
            let headers = match claims {
                Some(claims) => identity_headers(&claims),
                None => empty_identity_headers(),
            };
            response.headers_mut().extend(headers);
            response
        }
        Verdict::Refuse(response) => response.map(Body::from),
    }
}

fn bad_original(gate: &Gate, via: &str, err: &BadOriginal) -> Response<Body> {
    gate.log().bad_original(via, err);
    answer::bad_original(err).map(Body::from)
}

/// A header's value as text, for the log (`None` when absent or not visible ASCII).
fn text(value: Option<&HeaderValue>) -> Option<&str> {
    value.and_then(|value| value.to_str().ok())
}
