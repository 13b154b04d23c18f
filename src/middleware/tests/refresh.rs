//! The refresh header: only near expiry or after a change of state, only on a success, never
//! cached, never past the chain's limit, with the audience the verifier requires.

use super::support::*;

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
