//! The HTTP contract, asked each way a proxy asks (nginx, Caddy/Traefik, Envoy's prefix):
//! allowed with the identity headers, refused with the very 401/403 the library's layers give.

use std::convert::Infallible;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{Request, Response};
use reqwest::StatusCode;
use serde_json::Value;
use tower::{service_fn, Layer, ServiceExt};
use tower_livekit_auth::middleware::TokenLocation;
use tower_livekit_auth::{AuthLayer, KeyRing, RequireLayer, Verifier, VideoGrant};

use crate::harness::{
    admin, expired, forged, grantless, joiner, send, token, GateServer, Style, KEY, SECRET, STYLES,
};

#[tokio::test]
async fn every_style_allows_a_good_token_with_the_identity_headers() {
    let gate = GateServer::livekit().await;
    let alice = token("José")
        .with_name("Alice")
        .with_metadata("{\"seat\":12}")
        .with_video_grant(VideoGrant::join("salle 1"))
        .to_jwt()
        .expect("mints");
    for style in STYLES {
        let answer = gate
            .check(style, "GET", "/rtc/validate", Some(&alice))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{style:?}: {}", answer.body);
        assert_eq!(
            answer.header("x-livekit-identity"),
            Some("Jos%C3%A9"),
            "{style:?}"
        );
        assert_eq!(
            answer.header("x-livekit-room"),
            Some("salle%201"),
            "{style:?}"
        );
        let claims = answer.header("x-livekit-claims").expect("claims header");
        let json: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64url"))
                .expect("JSON");
        assert_eq!(json["sub"], "José");
        assert_eq!(json["name"], "Alice");
        assert_eq!(json["metadata"], "{\"seat\":12}");
        assert_eq!(json["video"]["room"], "salle 1");
        assert!(answer.body.is_empty());
    }
}

#[tokio::test]
async fn every_style_refuses_missing_forged_and_expired_tokens_with_401_and_grantless_with_403() {
    let gate = GateServer::livekit().await;
    let good = joiner("alice", "r1");
    let unknown_key = tower_livekit_auth::AccessToken::new("APIother", SECRET)
        .with_identity("alice")
        .with_video_grant(VideoGrant::join("r1"))
        .to_jwt()
        .expect("mints");
    let cases = [
        (None, StatusCode::UNAUTHORIZED, r#"Bearer realm="livekit""#),
        (
            Some(forged(&good)),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (
            Some(expired("alice", "r1")),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (Some(unknown_key), StatusCode::UNAUTHORIZED, "invalid_token"),
        (
            Some(grantless("alice")),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
        ),
    ];
    for style in STYLES {
        for (token, status, challenge) in &cases {
            let answer = gate.check(style, "GET", "/rtc", token.as_deref()).await;
            assert_eq!(
                answer.status, *status,
                "{style:?} {token:?}: {}",
                answer.body
            );
            let www = answer.header("www-authenticate").expect("a challenge");
            assert!(www.contains(challenge), "{style:?}: {www}");
            for name in ["x-livekit-identity", "x-livekit-room", "x-livekit-claims"] {
                assert!(
                    answer.headers.get(name).is_none(),
                    "{style:?}: {name} on a refusal"
                );
            }
            assert!(!answer.body.is_empty(), "the reason rides in the body");
        }
    }
}

/// The gate's refusals are the layers' own: the same status, challenge and body as an
/// `AuthLayer` + `RequireLayer` service gives for the same token.
#[tokio::test]
async fn refusals_are_byte_for_byte_the_layers_refusals() {
    let gate = GateServer::livekit().await;
    let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
    let layers = AuthLayer::new(Verifier::new(keys))
        .with_token_location(TokenLocation::HeaderOrQuery)
        .layer(
            RequireLayer::join().layer(service_fn(|_: Request<()>| async {
                Ok::<_, Infallible>(Response::new(String::new()))
            })),
        );
    let good = joiner("alice", "r1");
    for token in [
        None,
        Some(forged(&good)),
        Some(expired("alice", "r1")),
        Some(grantless("alice")),
        Some(String::from("not a token")),
    ] {
        let mut request = Request::get("/rtc");
        if let Some(token) = &token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let expected = layers
            .clone()
            .oneshot(request.body(()).expect("request"))
            .await
            .expect("infallible");
        for style in STYLES {
            let answer = gate.check(style, "GET", "/rtc", token.as_deref()).await;
            assert_eq!(
                answer.status.as_u16(),
                expected.status().as_u16(),
                "{style:?}"
            );
            assert_eq!(
                answer.header("www-authenticate"),
                expected.headers()["www-authenticate"].to_str().ok(),
                "{style:?}"
            );
            assert_eq!(answer.body, *expected.body(), "{style:?}");
        }
    }
}

#[tokio::test]
async fn the_query_token_counts_only_where_the_route_allows_it_and_a_header_wins() {
    let gate = GateServer::livekit().await;
    let alice = joiner("alice", "r1");
    let admin = admin("r1");
    for style in STYLES {
        // /rtc reads ?access_token= (a browser's WebSocket cannot send headers).
        let rtc = format!("/rtc?room=r1&access_token={alice}");
        let answer = gate.check(style, "GET", &rtc, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{style:?}: {}", answer.body);
        assert_eq!(answer.header("x-livekit-identity"), Some("alice"));
        // A present header wins, even when it is the wrong one.
        let answer = gate
            .check(style, "GET", &rtc, Some(&grantless("bob")))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{style:?}");
        let answer = gate.check(style, "GET", &rtc, Some(&forged(&alice))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{style:?}");
        // A twirp call does not read the query: the refusal says where the token must go.
        let twirp = format!("/twirp/livekit.RoomService/ListParticipants?access_token={admin}");
        let answer = gate.check(style, "POST", &twirp, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{style:?}");
        assert!(
            answer.body.contains("does not read ?access_token="),
            "{}",
            answer.body
        );
        let answer = gate
            .check(
                style,
                "POST",
                "/twirp/livekit.RoomService/ListParticipants",
                Some(&admin),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{style:?}: {}", answer.body);
    }
}

#[tokio::test]
async fn the_preset_asks_each_twirp_method_for_its_grant_and_denies_the_rest() {
    let gate = GateServer::livekit().await;
    let creator = token("ops")
        .with_video_grant(VideoGrant::new().with_room_create(true))
        .to_jwt()
        .expect("mints");
    let admin = admin("r1");
    let room = "/twirp/livekit.RoomService";
    for style in STYLES {
        for (method, token, status) in [
            ("CreateRoom", &creator, StatusCode::OK),
            ("CreateRoom", &admin, StatusCode::FORBIDDEN),
            ("RemoveParticipant", &admin, StatusCode::OK),
            ("RemoveParticipant", &creator, StatusCode::FORBIDDEN),
        ] {
            let path = format!("{room}/{method}");
            let answer = gate.check(style, "POST", &path, Some(token)).await;
            assert_eq!(answer.status, status, "{style:?} {method}: {}", answer.body);
        }
        // Twirp is POST; an unknown path or method gets the default, 403 whatever the token.
        for (method, path) in [
            ("GET", format!("{room}/CreateRoom")),
            ("POST", format!("{room}/NoSuchMethod")),
            ("GET", String::from("/debug/rooms")),
        ] {
            let answer = gate.check(style, method, &path, Some(&creator)).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{style:?} {method} {path}"
            );
            assert!(answer.headers.get("www-authenticate").is_none());
            assert!(answer.body.contains("no route"), "{}", answer.body);
        }
        // The health check needs no token.
        let health = gate.check(style, "GET", "/", None).await;
        assert_eq!(health.status, StatusCode::OK, "{style:?}");
        // Present and empty: a client's own x-livekit-* is replaced by nothing.
        for name in ["x-livekit-identity", "x-livekit-room", "x-livekit-claims"] {
            assert_eq!(health.header(name), Some(""), "{style:?} {name}");
        }
    }
}

#[tokio::test]
async fn a_request_that_names_no_original_uri_is_a_400_and_never_an_allow() {
    let gate = GateServer::livekit().await;
    let alice = joiner("alice", "r1");
    let auth = format!("{}/auth", gate.base);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "no original URI"),
        (vec![("x-original-uri", "/rtc")], "no original method"),
        (vec![("x-forwarded-method", "GET")], "no original URI"),
        // A client's own X-Original-URI behind Caddy: the two disagree.
        (
            vec![
                ("x-forwarded-uri", "/twirp/livekit.RoomService/DeleteRoom"),
                ("x-forwarded-method", "POST"),
                ("x-original-uri", "/rtc"),
            ],
            "disagree",
        ),
        (
            vec![
                ("x-original-uri", "/a/../rtc"),
                ("x-original-method", "GET"),
            ],
            "dot segment",
        ),
        (
            vec![("x-original-uri", "//rtc"), ("x-original-method", "GET")],
            "empty segment",
        ),
    ];
    for (headers, says) in cases {
        let mut request = gate.http.get(&auth).bearer_auth(&alice);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let answer = send(request).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{headers:?}");
        assert!(answer.body.contains(says), "{headers:?}: {}", answer.body);
        assert!(answer.headers.get("x-livekit-identity").is_none());
    }
}

#[tokio::test]
async fn odd_inputs_get_an_answer_never_a_panic() {
    let gate = GateServer::livekit().await;
    let alice = joiner("alice", "r1");
    let auth = format!("{}/auth", gate.base);
    let huge = format!("/rtc?x={}", "a".repeat(60_000));
    let raw =
        |bytes: &'static [u8]| reqwest::header::HeaderValue::from_bytes(bytes).expect("obs-text");
    let requests = vec![
        // Not UTF-8 anywhere it could be.
        gate.http
            .get(&auth)
            .header("x-original-uri", raw(b"/rtc?room=\xff\xfe"))
            .header("x-original-method", "GET")
            .header("authorization", raw(b"Bearer \xc3\xa9\xff")),
        gate.http
            .get(&auth)
            .header("x-original-uri", raw(b"/\xff/validate"))
            .header("x-original-method", raw(b"G\xffT")),
        // A huge URI, an extension method, a method with a lower-case name.
        gate.http
            .get(&auth)
            .header("x-original-uri", huge.as_str())
            .header("x-original-method", "GET")
            .bearer_auth(&alice),
        gate.http
            .get(&auth)
            .header("x-original-uri", "/rtc")
            .header("x-original-method", "PROPFIND")
            .bearer_auth(&alice),
        gate.http
            .get(&auth)
            .header("x-original-uri", "/rtc")
            .header("x-original-method", "get")
            .bearer_auth(&alice),
        // Two Authorization headers, an empty one, a query token that is not one.
        gate.http
            .get(&auth)
            .header("x-original-uri", "/rtc")
            .header("x-original-method", "GET")
            .header("authorization", format!("Bearer {alice}"))
            .header("authorization", format!("Bearer {alice}")),
        gate.http
            .get(&auth)
            .header("x-original-uri", "/rtc?access_token=%00%ff")
            .header("x-original-method", "GET")
            .header("authorization", ""),
        gate.http
            .get(&auth)
            .header("x-original-uri", "/rtc?access_token=%00%ff&access_token=")
            .header("x-original-method", "GET"),
        gate.http.request(
            reqwest::Method::from_bytes(b"BREW").expect("method"),
            format!("{}/ext_authz/rtc/%ff%zz", gate.base),
        ),
    ];
    for request in requests {
        let answer = send(request).await;
        assert!(
            [200, 400, 401, 403].contains(&answer.status.as_u16()),
            "{}: {}",
            answer.status,
            answer.body
        );
    }
    // A huge URI within nginx's limits is read whole: the token in its query counts.
    let long = format!("/rtc?pad={}&access_token={alice}", "p".repeat(30_000));
    let answer = gate.check(Style::Nginx, "GET", &long, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // The gate still answers after all that.
    let answer = gate.check(Style::Envoy, "GET", "/rtc", Some(&alice)).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn the_gate_reads_no_body_and_serves_nothing_else() {
    let gate = GateServer::livekit().await;
    let alice = joiner("alice", "r1");
    // A check with a body is decided on its head; the body is not read.
    let answer = send(
        gate.http
            .post(format!("{}/ext_authz/rtc", gate.base))
            .bearer_auth(&alice)
            .body(vec![b'x'; 64 * 1024]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = send(gate.http.get(format!("{}/healthz", gate.base))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "ok\n")
    );
    let answer = send(
        gate.http
            .get(format!("{}/rtc", gate.base))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = send(gate.http.get(format!("{}/ext_authzx/rtc", gate.base))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}
