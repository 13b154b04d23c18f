//! The RequireLayer: each ready-made requirement, room admin of the route's room, a custom
//! predicate, and a request that reaches it without claims.

use super::support::*;

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
