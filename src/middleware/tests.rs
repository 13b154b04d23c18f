//! The middleware's rejection paths, modes and requirements, each with its exact status and
//! `WWW-Authenticate` value.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderName, Request, Response, StatusCode};
use tower::{service_fn, BoxError, Layer, Service, ServiceBuilder, ServiceExt};

use super::*;
use crate::{
    AccessToken, Claims, KeyRing, SipGrant, TrackSource, Verifier, VerifyErrorKind, VideoGrant,
};

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";
const NOW: u64 = 1_700_000_000;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn verifier() -> Verifier {
    Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key")).with_clock(|| at(NOW))
}

fn token(grant: VideoGrant) -> String {
    AccessToken::new(KEY, SECRET)
        .with_identity("alice")
        .with_video_grant(grant)
        .to_jwt_at(at(NOW))
        .expect("mints")
}

/// Answers 200 with the identity of the claims it was given, or `anonymous`.
async fn echo(request: Request<String>) -> Result<Response<String>, Infallible> {
    let body = request
        .extensions()
        .get::<Claims>()
        .map_or("anonymous".into(), |c| c.identity().to_owned());
    Ok(Response::new(body))
}

async fn call<S>(service: S, request: Request<String>) -> Response<String>
where
    S: Service<Request<String>, Response = Response<String>>,
    S::Error: std::fmt::Debug,
{
    service
        .oneshot(request)
        .await
        .expect("the service does not fail")
}

fn get(uri: &str, authorization: Option<&str>) -> Request<String> {
    let mut builder = Request::get(uri);
    if let Some(value) = authorization {
        builder = builder.header(AUTHORIZATION, value);
    }
    builder.body(String::new()).expect("request")
}

fn challenge(response: &Response<String>) -> &str {
    response.headers()[WWW_AUTHENTICATE]
        .to_str()
        .expect("ascii challenge")
}

fn rejection(response: &Response<String>) -> &AuthRejection {
    response
        .extensions()
        .get::<AuthRejection>()
        .expect("rejection in extensions")
}

#[tokio::test]
async fn valid_token_reaches_the_handler_with_claims() {
    let service = AuthLayer::new(verifier()).layer(service_fn(echo));
    let t = token(VideoGrant::join("r"));
    let response = call(service, get("/", Some(&format!("Bearer {t}")))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "alice");
}

#[tokio::test]
async fn missing_token_is_401_with_a_bare_challenge() {
    let response = call(
        AuthLayer::new(verifier()).layer(service_fn(echo)),
        get("/", None),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), r#"Bearer realm="livekit""#);
    assert_eq!(rejection(&response).kind(), RejectionKind::MissingToken);
    assert_eq!(response.body(), "");
}

#[tokio::test]
async fn invalid_token_is_401_invalid_token_and_never_echoed() {
    let t = token(VideoGrant::join("r"));
    let forged = format!("{}A", &t[..t.len() - 1]);
    let expired = AccessToken::new(KEY, SECRET)
        .with_ttl(Duration::from_secs(10))
        .to_jwt_at(at(NOW - 1000))
        .expect("mints");
    for (bad, kind) in [
        (forged, VerifyErrorKind::InvalidSignature),
        (expired, VerifyErrorKind::Expired),
        ("a.b.c".to_owned(), VerifyErrorKind::Malformed),
    ] {
        let service = AuthLayer::new(verifier()).layer(service_fn(echo));
        let response = call(service, get("/", Some(&format!("Bearer {bad}")))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let value = challenge(&response);
        assert_eq!(
            value,
            format!(
                r#"Bearer realm="livekit", error="invalid_token", error_description="{}""#,
                rejection(&response)
            )
        );
        assert_eq!(
            rejection(&response).verify_error().map(|e| e.kind()),
            Some(kind)
        );
        for segment in bad.split('.').filter(|s| s.len() > 4) {
            assert!(!value.contains(segment));
        }
        assert!(!value.contains(SECRET));
    }
}

#[tokio::test]
async fn malformed_authorization_is_400_invalid_request() {
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"] {
        let response = call(
            AuthLayer::new(verifier()).layer(service_fn(echo)),
            get("/", Some(value)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{value}");
        assert!(
            challenge(&response).starts_with(r#"Bearer realm="livekit", error="invalid_request""#)
        );
    }
    let t = token(VideoGrant::join("r"));
    let mut request = get("/", Some(&format!("Bearer {t}")));
    request
        .headers_mut()
        .append(AUTHORIZATION, format!("Bearer {t}").parse().expect("value"));
    let response = call(AuthLayer::new(verifier()).layer(service_fn(echo)), request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn optional_mode_lets_anonymous_requests_through_but_not_bad_tokens() {
    let layer = AuthLayer::new(verifier()).with_token_required(false);
    let response = call(layer.layer(service_fn(echo)), get("/", None)).await;
    assert_eq!(
        (response.status(), response.body().as_str()),
        (StatusCode::OK, "anonymous")
    );
    let response = call(
        layer.layer(service_fn(echo)),
        get("/", Some("Bearer x.y.z")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let t = token(VideoGrant::join("r"));
    let response = call(
        layer.layer(service_fn(echo)),
        get("/", Some(&format!("Bearer {t}"))),
    )
    .await;
    assert_eq!(response.body(), "alice");
}

#[tokio::test]
async fn query_token_only_when_allowed_and_the_header_wins() {
    let t = token(VideoGrant::join("r"));
    let uri = format!("/rtc?access_token={t}");
    let strict = AuthLayer::new(verifier());
    assert_eq!(
        call(strict.layer(service_fn(echo)), get(&uri, None))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let lax = AuthLayer::new(verifier()).with_token_location(TokenLocation::HeaderOrQuery);
    let response = call(lax.layer(service_fn(echo)), get(&uri, None)).await;
    assert_eq!(
        (response.status(), response.body().as_str()),
        (StatusCode::OK, "alice")
    );
    // An invalid header is not rescued by a valid query token.
    let response = call(lax.layer(service_fn(echo)), get(&uri, Some("Bearer x.y.z"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = call(lax.layer(service_fn(echo)), get(&uri, Some("Basic abc"))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_realm_set_on_the_auth_layer_is_the_realm_of_the_requirements_behind_it() {
    let service = ServiceBuilder::new()
        .layer(
            AuthLayer::new(verifier())
                .with_realm("my-app")
                .with_token_required(false),
        )
        .layer(RequireLayer::create_rooms())
        .service(service_fn(echo));
    // A valid token without the grant: the requirement's 403.
    let viewer = token(VideoGrant::join("r"));
    let response = call(service.clone(), get("/", Some(&format!("Bearer {viewer}")))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        challenge(&response).starts_with(r#"Bearer realm="my-app", error="insufficient_scope""#)
    );
    // No token through the optional layer: the requirement's 401.
    let response = call(service, get("/", None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), r#"Bearer realm="my-app""#);
}

#[tokio::test]
async fn the_default_realm_puts_nothing_into_the_request() {
    let inspect = |request: Request<String>| async move {
        let realm = request
            .extensions()
            .get::<crate::middleware::realm::Realm>()
            .cloned();
        Ok::<_, Infallible>(Response::new(format!("{realm:?}")))
    };
    let t = format!("Bearer {}", token(VideoGrant::join("r")));
    let plain = AuthLayer::new(verifier()).layer(service_fn(inspect));
    assert_eq!(call(plain, get("/", Some(&t))).await.body(), "None");
    let custom = AuthLayer::new(verifier())
        .with_realm("app")
        .layer(service_fn(inspect));
    assert!(call(custom, get("/", Some(&t)))
        .await
        .body()
        .contains("app"));
}

#[tokio::test]
async fn realm_is_configurable_and_sanitized() {
    let layer = AuthLayer::new(verifier()).with_realm("my \"app\"\\");
    let response = call(layer.layer(service_fn(echo)), get("/", None)).await;
    assert_eq!(challenge(&response), r#"Bearer realm="my app""#);
}

#[tokio::test]
async fn custom_rejection_handler_builds_the_response_and_gets_the_rejection() {
    let layer = AuthLayer::new(verifier()).with_rejection_handler(|rejection: &AuthRejection| {
        let mut response = Response::new(format!(
            r#"{{"code":"unauthenticated","msg":"{rejection}"}}"#
        ));
        *response.status_mut() = rejection.status();
        response
    });
    let response = call(layer.layer(service_fn(echo)), get("/", None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.body(),
        r#"{"code":"unauthenticated","msg":"missing bearer token"}"#
    );
    assert_eq!(rejection(&response).kind(), RejectionKind::MissingToken);
}

/// Each ready-made requirement, and a token holding that grant and no other: a requirement that
/// checked the wrong grant would refuse its own token or let another through.
#[tokio::test]
async fn every_ready_made_requirement_allows_its_grant_and_refuses_every_other() {
    let mint = |video: Option<VideoGrant>, sip: Option<SipGrant>| {
        let mut token = AccessToken::new(KEY, SECRET).with_identity("alice");
        if let Some(video) = video {
            token = token.with_video_grant(video);
        }
        if let Some(sip) = sip {
            token = token.with_sip_grant(sip);
        }
        token.to_jwt_at(at(NOW)).expect("mints")
    };
    // Publishing is allowed unless refused, so every grant but the publish one refuses it.
    let video = |grant: VideoGrant| Some(grant.with_can_publish(false));
    let cases = [
        (
            RequireLayer::join(),
            "roomJoin",
            mint(video(VideoGrant::join("r")), None),
        ),
        (
            RequireLayer::create_rooms(),
            "roomCreate",
            mint(video(VideoGrant::new().with_room_create(true)), None),
        ),
        (
            RequireLayer::list_rooms(),
            "roomList",
            mint(video(VideoGrant::new().with_room_list(true)), None),
        ),
        (
            RequireLayer::record(),
            "roomRecord",
            mint(video(VideoGrant::new().with_room_record(true)), None),
        ),
        (
            RequireLayer::ingress_admin(),
            "ingressAdmin",
            mint(video(VideoGrant::new().with_ingress_admin(true)), None),
        ),
        (
            RequireLayer::sip_admin(),
            "sip.admin",
            mint(None, Some(SipGrant::new().with_admin(true))),
        ),
        (
            RequireLayer::sip_call(),
            "sip.call",
            mint(None, Some(SipGrant::new().with_call(true))),
        ),
        (
            RequireLayer::publish(TrackSource::Camera),
            "canPublishSources",
            mint(
                Some(VideoGrant::new().with_can_publish_sources([TrackSource::Camera])),
                None,
            ),
        ),
    ];
    for (require, grant, _) in &cases {
        for (_, holder, token) in &cases {
            let service = ServiceBuilder::new()
                .layer(AuthLayer::new(verifier()))
                .layer(require.clone())
                .service(service_fn(echo));
            let response = call(service, get("/", Some(&format!("Bearer {token}")))).await;
            if grant == holder {
                assert_eq!(
                    response.status(),
                    StatusCode::OK,
                    "{grant} for its own token"
                );
            } else {
                assert_eq!(
                    response.status(),
                    StatusCode::FORBIDDEN,
                    "{grant} for {holder}"
                );
                assert!(challenge(&response)
                    .starts_with(r#"Bearer realm="livekit", error="insufficient_scope""#));
                assert_eq!(rejection(&response).required_grant(), Some(*grant));
            }
        }
    }
    let publisher = &cases[cases.len() - 1].2;
    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(verifier()))
        .layer(RequireLayer::publish(TrackSource::ScreenShare))
        .service(service_fn(echo));
    let response = call(service, get("/", Some(&format!("Bearer {publisher}")))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn requirement_without_claims_is_401() {
    let response = call(RequireLayer::join().layer(service_fn(echo)), get("/", None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), r#"Bearer realm="livekit""#);
}

#[tokio::test]
async fn room_admin_reads_the_room_from_the_request() {
    let admin = token(VideoGrant::admin("my room"));
    let service = || {
        ServiceBuilder::new()
            .layer(AuthLayer::new(verifier()))
            .layer(RequireLayer::room_admin(RoomFrom::template(
                "/rooms/{room}/kick",
            )))
            .service(service_fn(echo))
    };
    let auth = format!("Bearer {admin}");
    assert_eq!(
        call(service(), get("/rooms/my%20room/kick", Some(&auth)))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        call(service(), get("/rooms/My%20Room/kick", Some(&auth)))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(service(), get("/rooms/", Some(&auth))).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn room_admin_checks_the_room_the_route_acts_on_not_a_lookalike_segment() {
    // The handler of `/orgs/{org}/rooms/{room}` acts on `victim`; an admin of a room called
    // `rooms` must not pass (the old "segment after `rooms`" rule checked `rooms`).
    let admin_of_rooms = token(VideoGrant::admin("rooms"));
    let admin_of_victim = token(VideoGrant::admin("victim"));
    let service = || {
        ServiceBuilder::new()
            .layer(AuthLayer::new(verifier()))
            .layer(RequireLayer::room_admin(RoomFrom::template(
                "/orgs/{org}/rooms/{room}",
            )))
            .service(service_fn(echo))
    };
    let path = "/orgs/rooms/rooms/victim";
    let status = |t: &str| {
        let request = get(path, Some(&format!("Bearer {t}")));
        async move { call(service(), request).await.status() }
    };
    assert_eq!(status(&admin_of_rooms).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&admin_of_victim).await, StatusCode::OK);
}

#[tokio::test]
async fn custom_requirement_sees_claims_and_request() {
    let layer = RequireLayer::custom("metadata", |claims: &Claims, head: &RequestHead<'_>| {
        head.method() == http::Method::GET && claims.can_update_own_metadata()
    });
    let allowed = token(VideoGrant::join("r").with_can_update_own_metadata(true));
    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(verifier()))
        .layer(layer)
        .service(service_fn(echo));
    assert_eq!(
        call(
            service.clone(),
            get("/", Some(&format!("Bearer {allowed}")))
        )
        .await
        .status(),
        StatusCode::OK
    );
    let denied = token(VideoGrant::join("r"));
    let refused = call(service, get("/", Some(&format!("Bearer {denied}")))).await;
    assert_eq!(rejection(&refused).required_grant(), Some("metadata"));
}

#[tokio::test]
async fn refresh_header_is_added_only_near_expiry() {
    let header = HeaderName::from_static("x-livekit-refresh");
    let layer =
        AuthLayer::new(verifier()).with_refresh_header(header.clone(), Duration::from_secs(300));
    // The refresh header the layer answers a token valid for `ttl` seconds from now with.
    let refreshed_for = |ttl: u64| {
        let token = AccessToken::new(KEY, SECRET)
            .with_identity("alice")
            .with_video_grant(VideoGrant::join("r"))
            .with_ttl(Duration::from_secs(ttl))
            .to_jwt_at(at(NOW))
            .expect("mints");
        let service = layer.layer(service_fn(echo));
        let header = header.clone();
        async move {
            let response = call(service, get("/", Some(&format!("Bearer {token}")))).await;
            let value = response.headers().get(&header)?;
            Some(value.to_str().expect("a token").to_owned())
        }
    };
    let refreshed = refreshed_for(120).await.expect("refreshed near expiry");
    let claims = verifier()
        .verify(&refreshed)
        .expect("refreshed token verifies");
    assert_eq!(claims.identity(), "alice");
    assert_eq!(claims.expires_at(), Some(NOW as i64 + 600));
    assert_eq!(refreshed_for(6 * 3600).await, None, "far from expiry");
    // The edge: exactly the window left is refreshed, one second more is not.
    assert!(refreshed_for(300).await.is_some());
    assert_eq!(refreshed_for(301).await, None);
}

#[tokio::test]
async fn a_refresh_goes_only_with_a_successful_response_and_is_never_cached() {
    let header = HeaderName::from_static("x-livekit-refresh");
    let layer = AuthLayer::new(verifier()).with_refresh_header(header.clone(), Duration::MAX);
    let t = token(VideoGrant::join("r"));
    for status in [
        StatusCode::OK,
        StatusCode::NO_CONTENT,
        StatusCode::NOT_FOUND,
        StatusCode::INTERNAL_SERVER_ERROR,
    ] {
        let handler = service_fn(move |_: Request<String>| async move {
            let mut response = Response::new(String::new());
            *response.status_mut() = status;
            Ok::<_, Infallible>(response)
        });
        let response = call(layer.layer(handler), get("/", Some(&format!("Bearer {t}")))).await;
        assert_eq!(response.status(), status);
        let success = status.is_success();
        assert_eq!(
            response.headers().contains_key(&header),
            success,
            "{status}"
        );
        assert_eq!(
            response
                .headers()
                .get(http::header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            success.then_some(&b"no-store"[..]),
            "{status}"
        );
    }
}

#[tokio::test]
async fn refreshing_every_ten_minutes_cannot_keep_a_token_alive_past_the_chain_limit() {
    // A thief replays the newest token every 9 minutes: the chain ends 2 hours after the
    // first token was issued, whatever it does.
    let clock = Arc::new(AtomicU64::new(NOW));
    let shared = clock.clone();
    let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
        .with_clock(move || at(shared.load(Ordering::SeqCst)))
        .with_refresh_limit(Duration::from_secs(2 * 3600));
    let header = HeaderName::from_static("x-livekit-refresh");
    let layer = AuthLayer::new(verifier.clone()).with_refresh_header(header.clone(), Duration::MAX);
    let mut current = AccessToken::new(KEY, SECRET)
        .with_identity("alice")
        .with_video_grant(VideoGrant::join("r"))
        .with_ttl(Duration::from_secs(600))
        .to_jwt_at(at(NOW))
        .expect("mints");
    let mut refreshes = 0;
    for step in 1..100 {
        clock.store(NOW + step * 540, Ordering::SeqCst);
        let response = call(
            layer.layer(service_fn(echo)),
            get("/", Some(&format!("Bearer {current}"))),
        )
        .await;
        if response.status() != StatusCode::OK {
            break;
        }
        match response.headers().get(&header) {
            Some(value) => {
                current = value.to_str().expect("a token").to_owned();
                refreshes += 1;
            }
            None => continue,
        }
        let claims = verifier.verify(&current).expect("a refresh verifies");
        assert_eq!(
            claims.issued_at(),
            Some(NOW as i64),
            "iat is the chain's start"
        );
        assert!(claims.expires_at().expect("exp") <= (NOW + 2 * 3600) as i64);
    }
    assert!(refreshes >= 10, "only {refreshes} refreshes");
    let last = clock.load(Ordering::SeqCst);
    assert!(
        last <= NOW + 2 * 3600 + 60 + 540,
        "the chain lived until {last}"
    );
    assert_eq!(
        verifier.verify(&current).map_err(|e| e.kind()).err(),
        Some(VerifyErrorKind::Expired)
    );
}

#[tokio::test]
async fn a_refresh_keeps_the_audience_the_verifier_requires() {
    let header = HeaderName::from_static("x-livekit-refresh");
    let strict = verifier().with_audience("media");
    let layer = AuthLayer::new(strict.clone()).with_refresh_header(header.clone(), Duration::MAX);
    let t = AccessToken::new(KEY, SECRET)
        .with_identity("alice")
        .with_audience("media")
        .with_video_grant(VideoGrant::join("r"))
        .to_jwt_at(at(NOW))
        .expect("mints");
    let response = call(
        layer.layer(service_fn(echo)),
        get("/", Some(&format!("Bearer {t}"))),
    )
    .await;
    let refreshed = response.headers()[&header].to_str().expect("a token");
    let fresh = strict
        .verify(refreshed)
        .expect("the refresh passes the same audience check");
    assert_eq!(fresh.identity(), "alice");
    // Without an audience requirement the refresh drops `aud`, as the server's does.
    let lenient = AuthLayer::new(verifier()).with_refresh_header(header.clone(), Duration::MAX);
    let response = call(
        lenient.layer(service_fn(echo)),
        get("/", Some(&format!("Bearer {t}"))),
    )
    .await;
    let refreshed = response.headers()[&header].to_str().expect("a token");
    assert!(strict.verify(refreshed).is_err());
}

#[tokio::test]
async fn the_first_request_after_an_update_gets_a_token_with_the_current_state() {
    use crate::state::{ParticipantPermission, ParticipantState, ParticipantUpdate, StateOptions};

    let state = ParticipantState::in_memory(StateOptions::new().with_clock(|| at(NOW + 5)));
    let verifier = verifier().with_participant_state(state.clone());
    let header = HeaderName::from_static("x-livekit-refresh");
    // A 5-minute window: this 6-hour token is nowhere near it.
    let layer = AuthLayer::new(verifier.clone())
        .with_refresh_header(header.clone(), Duration::from_secs(300));
    let t = format!(
        "Bearer {}",
        token(VideoGrant::join("r").with_can_publish(false))
    );
    let refreshed = |response: Response<String>| {
        response
            .headers()
            .get(&header)
            .map(|v| v.to_str().expect("a token").to_owned())
    };
    let before = call(layer.layer(service_fn(echo)), get("/", Some(&t))).await;
    assert_eq!(refreshed(before), None, "no change, far from expiry");
    let permission = ParticipantPermission::new()
        .with_can_subscribe(true)
        .with_can_publish(true)
        .with_can_publish_sources([TrackSource::Camera]);
    state
        .update(
            "r",
            "alice",
            ParticipantUpdate::new()
                .with_permission(permission)
                .with_metadata("on stage"),
        )
        .await
        .expect("updated");
    let after = call(layer.layer(service_fn(echo)), get("/", Some(&t))).await;
    let token = refreshed(after).expect("refreshed at once after the update");
    let claims = verifier.verify(&token).expect("the refresh verifies");
    assert!(claims.can_publish_source(TrackSource::Camera));
    assert!(!claims.can_publish_source(TrackSource::Microphone));
    assert_eq!(claims.metadata(), "on stage");
    assert_eq!(
        claims.api_key(),
        KEY,
        "signed with the original token's key"
    );
}

#[tokio::test]
async fn a_huge_refresh_window_refreshes_every_token_without_overflow() {
    let header = HeaderName::from_static("x-livekit-refresh");
    let layer = AuthLayer::new(verifier()).with_refresh_header(header.clone(), Duration::MAX);
    let t = token(VideoGrant::join("r"));
    let response = call(
        layer.layer(service_fn(echo)),
        get("/", Some(&format!("Bearer {t}"))),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key(&header));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_under_concurrent_requests_fails_no_valid_request() -> Result<(), BoxError> {
    // Keys k0, k1, ... : at step i the ring holds k{i} and k{i+1}. Each client mints with a key
    // that is in the ring both before and after the swap it may race with.
    let secret = |i: u64| format!("{SECRET}-{i}");
    let ring = |i: u64| {
        KeyRing::new()
            .with_key(&format!("k{i}"), &secret(i))
            .and_then(|r| r.with_key(&format!("k{}", i + 1), &secret(i + 1)))
    };
    let verifier = Verifier::new(ring(0)?).with_clock(|| at(NOW));
    let step = Arc::new(AtomicU64::new(0));
    let service = AuthLayer::new(verifier.clone()).layer(service_fn(echo));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (service, step) = (service.clone(), step.clone());
        clients.push(tokio::spawn(async move {
            let (mut checked, mut failures) = (0, 0);
            for _ in 0..300 {
                let before = step.load(Ordering::SeqCst);
                let i = before + 1;
                let t = AccessToken::new(format!("k{i}"), secret(i))
                    .to_jwt_at(at(NOW))
                    .expect("mints");
                let response = service
                    .clone()
                    .oneshot(get("/", Some(&format!("Bearer {t}"))))
                    .await
                    .expect("infallible");
                // k{i} is in ring(before) and ring(before + 1); if at most one swap happened
                // while the request was in flight, the key was valid throughout.
                if step.load(Ordering::SeqCst) <= before + 1 {
                    checked += 1;
                    if response.status() != StatusCode::OK {
                        failures += 1;
                    }
                }
                tokio::task::yield_now().await;
            }
            (checked, failures)
        }));
    }
    for i in 1..=50 {
        // Publish the new ring (k{i}, k{i+1}) before clients may pick k{i+1}.
        verifier.rotate(ring(i)?);
        step.store(i, Ordering::SeqCst);
        tokio::task::yield_now().await;
    }
    let (mut checked, mut failed) = (0, 0);
    for client in clients {
        let (c, f) = client.await?;
        checked += c;
        failed += f;
    }
    assert_eq!(failed, 0);
    assert!(
        checked >= 600,
        "only {checked} requests raced with at most one swap"
    );
    // And a retired key is refused after the swap.
    let retired = AccessToken::new("k0", secret(0)).to_jwt_at(at(NOW))?;
    let response = call(service, get("/", Some(&format!("Bearer {retired}")))).await;
    assert_eq!(
        rejection(&response).verify_error().map(|e| e.kind()),
        Some(VerifyErrorKind::UnknownKey)
    );
    Ok(())
}

#[test]
fn every_rejection_message_is_a_valid_quoted_string() {
    let realm = crate::middleware::realm::Realm::default();
    let mut rejections = vec![
        AuthRejection::missing(&realm),
        AuthRejection::insufficient("roomAdmin", &realm),
    ];
    for token in ["", "a", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        let err = verifier().verify(token).expect_err("not a valid token");
        rejections.push(AuthRejection::invalid(err, &realm));
    }
    // Every kind of verification error.
    use crate::verify::VerifyError;
    for &kind in VerifyErrorKind::ALL {
        rejections.push(AuthRejection::invalid(VerifyError::new(kind), &realm));
    }
    for value in ["Basic x", "Bearer", "Bearer ", "Bearer \"x\"", "bearer a b"] {
        let mut headers = http::HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().expect("value"));
        let err = extract_token(&headers, None, TokenLocation::Header).expect_err("malformed");
        rejections.push(AuthRejection::malformed(err, &realm));
    }
    for rejection in rejections {
        let message = rejection.to_string();
        assert!(
            message.is_ascii() && !message.contains('"') && !message.contains('\\'),
            "{message}"
        );
        assert_ne!(rejection.www_authenticate(), "Bearer");
    }
}

/// The layer checks a header token's characters only when the token does not verify. The
/// statuses must be exactly those of checking first: 400 for whatever `extract_token` refuses,
/// then 200 or 401 as the verifier decides.
#[test]
fn checking_characters_after_verifying_gives_the_statuses_of_checking_first() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let valid = format!("Bearer {}", token(VideoGrant::join("r")));
    // Token characters, characters no token has, and bytes a header may carry (obs-text).
    let bytes = prop::sample::select(b"Az09-_.~+/= \t\",;%\x80\xff".to_vec());
    let edit = (0..valid.len(), bytes, 0..3u8);
    let mut runner = TestRunner::new(Config::with_cases(512));
    runner
        .run(&prop::collection::vec(edit, 0..3), |edits| {
            let mut value = valid.clone().into_bytes();
            for (at, byte, how) in edits {
                let at = at.min(value.len());
                match how {
                    0 => value.insert(at, byte),
                    1 if at < value.len() => value[at] = byte,
                    _ => drop(value.remove(at.min(value.len() - 1))),
                }
            }
            let Ok(header) = http::HeaderValue::from_bytes(&value) else {
                return Ok(());
            };
            let mut headers = http::HeaderMap::new();
            headers.insert(AUTHORIZATION, header.clone());
            let expected = match extract_token(&headers, None, TokenLocation::Header) {
                Err(_) => StatusCode::BAD_REQUEST,
                Ok(None) => StatusCode::UNAUTHORIZED,
                Ok(Some(token)) if verifier().verify(&token).is_ok() => StatusCode::OK,
                Ok(Some(_)) => StatusCode::UNAUTHORIZED,
            };
            let mut request = Request::new(String::new());
            request.headers_mut().insert(AUTHORIZATION, header);
            let service = AuthLayer::new(verifier()).layer(service_fn(echo));
            let status = runtime.block_on(call(service, request)).status();
            prop_assert_eq!(status, expected, "{:?}", String::from_utf8_lossy(&value));
            Ok(())
        })
        .expect("same statuses");
}
