//! What every middleware test shares: the key, a fixed clock, tokens, an echo service, and
//! readers of the response.

pub(super) use std::convert::Infallible;
pub(super) use std::sync::atomic::{AtomicU64, Ordering};
pub(super) use std::sync::Arc;
pub(super) use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
pub(super) use http::{HeaderName, Request, Response, StatusCode};
pub(super) use tower::{service_fn, BoxError, Layer, Service, ServiceBuilder, ServiceExt};

pub(super) use crate::middleware::*;
pub(super) use crate::{
    AccessToken, Claims, KeyRing, SipGrant, TrackSource, Verifier, VerifyErrorKind, VideoGrant,
};

pub(super) const KEY: &str = "APIabcdefg";
pub(super) const SECRET: &str = "somesecretencodedinbase62extendto32bytes";
pub(super) const NOW: u64 = 1_700_000_000;

pub(super) fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

pub(super) fn verifier() -> Verifier {
    Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key")).with_clock(|| at(NOW))
}

pub(super) fn token(grant: VideoGrant) -> String {
    AccessToken::new(KEY, SECRET)
        .with_identity("alice")
        .with_video_grant(grant)
        .to_jwt_at(at(NOW))
        .expect("mints")
}

/// Answers 200 with the identity of the claims it was given, or `anonymous`.
pub(super) async fn echo(request: Request<String>) -> Result<Response<String>, Infallible> {
    let body = request
        .extensions()
        .get::<Claims>()
        .map_or("anonymous".into(), |c| c.identity().to_owned());
    Ok(Response::new(body))
}

pub(super) async fn call<S>(service: S, request: Request<String>) -> Response<String>
where
    S: Service<Request<String>, Response = Response<String>>,
    S::Error: std::fmt::Debug,
{
    service
        .oneshot(request)
        .await
        .expect("the service does not fail")
}

pub(super) fn get(uri: &str, authorization: Option<&str>) -> Request<String> {
    let mut builder = Request::get(uri);
    if let Some(value) = authorization {
        builder = builder.header(AUTHORIZATION, value);
    }
    builder.body(String::new()).expect("request")
}

pub(super) fn challenge(response: &Response<String>) -> &str {
    response.headers()[WWW_AUTHENTICATE]
        .to_str()
        .expect("ascii challenge")
}

pub(super) fn rejection(response: &Response<String>) -> &AuthRejection {
    response
        .extensions()
        .get::<AuthRejection>()
        .expect("rejection in extensions")
}
