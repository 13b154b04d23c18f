//! `lkauth serve` (`lkauth/src/serve/`) on 127.0.0.1, driven over real HTTP with reqwest and
//! with tokens from the SDK interop fixtures.

use std::ops::Deref;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tower_livekit_auth::{AccessToken, TrackSource, Verifier, VideoGrant};

use crate::harness::{at, Demo};
use crate::support;
use crate::support::fixtures::{key_ring, resolved_from_whoami, tokens};
use crate::support::is_b64token;

const KEY: &str = "APIfixture0001";

/// The demo with the fixtures' keys, its verifier on an injected clock.
struct Server {
    demo: Demo,
    secret: String,
}

impl Deref for Server {
    type Target = Demo;

    fn deref(&self) -> &Demo {
        &self.demo
    }
}

impl Server {
    async fn start() -> Server {
        Server::start_with(lkauth::listen::Timeouts::default()).await
    }

    async fn start_with(timeouts: lkauth::listen::Timeouts) -> Server {
        let fixtures = tokens();
        let demo = Demo::with_keys(key_ring(&fixtures.keys))
            .clock_at(1_763_900_100)
            .timeouts(timeouts)
            .start()
            .await;
        Server {
            demo,
            secret: fixtures.keys[KEY].clone(),
        }
    }

    fn token(&self) -> AccessToken {
        AccessToken::new(KEY, &self.secret)
    }

    /// Signs any payload (for shapes `AccessToken` refuses to mint).
    fn sign(&self, payload: Value) -> String {
        support::oracle::assemble(
            br#"{"alg":"HS256","typ":"JWT"}"#,
            payload.to_string().as_bytes(),
            self.secret.as_bytes(),
        )
    }
}

#[tokio::test]
async fn root_answers_ok_without_a_token() {
    let server = Server::start().await;
    assert_eq!(server.get("/", None).await, (StatusCode::OK, "OK".into()));
}

#[tokio::test]
async fn whoami_resolves_every_accepted_fixture_like_the_fixture_says() {
    let server = Server::start().await;
    let fixtures = tokens();
    let mut checked = 0;
    for case in fixtures.cases.iter().filter(|c| c.accepted()) {
        server.at(case.now);
        let (status, body) = server.get("/whoami", Some(&case.token)).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", case.name);
        let whoami: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(
            Some(&resolved_from_whoami(&whoami)),
            case.claims.as_ref(),
            "{}",
            case.name
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} fixtures checked");
}

#[tokio::test]
async fn whoami_refuses_every_rejected_fixture_with_401() {
    let server = Server::start().await;
    for case in tokens().cases.iter().filter(|c| !c.accepted()) {
        server.at(case.now);
        let (status, body) = server.get("/whoami", Some(&case.token)).await;
        // A credential with characters no token has is not even a bearer token (RFC 6750
        // b64token): 400 invalid_request rather than 401.
        let expected = if is_b64token(&case.token) {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, expected, "{}", case.name);
        assert!(!body.contains(&case.token));
    }
}

#[tokio::test]
async fn refusals_say_why_in_their_body() {
    let server = Server::start().await;
    let expired = server.mint(
        server
            .token()
            .with_identity("alice")
            .with_ttl(Duration::from_secs(1)),
    );
    server.at(server.now() + 3600);
    for (path, token, said) in [
        ("/whoami", None, "missing bearer token\n"),
        (
            "/whoami",
            Some(expired.as_str()),
            "token has expired; fetch a new one\n",
        ),
        (
            "/whoami",
            Some("a.b.c"),
            "malformed token: the header is not base64url without padding\n",
        ),
    ] {
        assert_eq!(
            server.get(path, token).await,
            (StatusCode::UNAUTHORIZED, said.to_owned()),
            "{path} {token:?}"
        );
    }
    // /whoami reads the header only: a query token is refused with a hint.
    let (status, body) = server.get("/whoami?access_token=a.b.c", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("query tokens are off"), "{body}");
}

#[tokio::test]
async fn rtc_validate_follows_the_servers_order() {
    let server = Server::start().await;
    let now = server.now();
    let join = server.mint(
        server
            .token()
            .with_identity("alice")
            .with_video_grant(VideoGrant::join("r")),
    );
    assert_eq!(
        server.get("/rtc/validate", Some(&join)).await,
        (StatusCode::OK, "success".into())
    );
    let query = format!("/rtc/validate?access_token={join}");
    assert_eq!(
        server.get(&query, None).await,
        (StatusCode::OK, "success".into())
    );
    // Missing and bad tokens.
    assert_eq!(
        server.get("/rtc/validate", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get("/rtc/validate?access_token=a.b.c", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A present header wins over a valid query token.
    let bad_header = server
        .http
        .get(format!("{}{query}", server.base))
        .bearer_auth("x.y.z")
        .send()
        .await
        .expect("request");
    assert_eq!(bad_header.status(), StatusCode::UNAUTHORIZED);
    // No video grant; roomJoin false.
    let no_video = server.mint(server.token().with_identity("alice"));
    assert_eq!(
        server.get("/rtc/validate", Some(&no_video)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let admin = server.mint(
        server
            .token()
            .with_identity("alice")
            .with_video_grant(VideoGrant::admin("r")),
    );
    assert_eq!(
        server.get("/rtc/validate", Some(&admin)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Empty identity, then empty room: 400 with the server's messages.
    let exp = now + 600;
    let anonymous =
        server.sign(json!({"iss": KEY, "exp": exp, "video": {"roomJoin": true, "room": "r"}}));
    assert_eq!(
        server.get("/rtc/validate", Some(&anonymous)).await,
        (StatusCode::BAD_REQUEST, "identity cannot be empty".into())
    );
    let roomless =
        server.sign(json!({"iss": KEY, "sub": "a", "exp": exp, "video": {"roomJoin": true}}));
    assert_eq!(
        server.get("/rtc/validate", Some(&roomless)).await,
        (StatusCode::BAD_REQUEST, "no room name".into())
    );
}

#[tokio::test]
async fn publish_checks_room_and_source() {
    let server = Server::start().await;
    let camera_only = server.mint(server.token().with_identity("alice").with_video_grant(
        VideoGrant::join("stage").with_can_publish_sources([TrackSource::Camera]),
    ));
    let t = Some(camera_only.as_str());
    for (path, token, body, expected) in [
        (
            "/rooms/stage/publish",
            t,
            r#"{"source":"camera"}"#,
            StatusCode::NO_CONTENT,
        ),
        (
            "/rooms/stage/publish",
            t,
            r#"{"source":"microphone"}"#,
            StatusCode::FORBIDDEN,
        ),
        (
            "/rooms/other/publish",
            t,
            r#"{"source":"camera"}"#,
            StatusCode::FORBIDDEN,
        ),
        (
            "/rooms/stage/publish",
            t,
            r#"{"source":"CAMERA"}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/rooms/stage/publish",
            t,
            r#"{"src":1}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/rooms/stage/publish",
            t,
            "not json",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/rooms/stage/publish",
            None,
            r#"{"source":"camera"}"#,
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        let (status, text) = server.post(path, token, body).await;
        assert_eq!(status, expected, "{path} {body}: {text}");
    }
}

#[tokio::test]
async fn twirp_room_service_enforces_grants_with_twirp_errors() {
    let server = Server::start().await;
    let admin = server.mint(
        server.token().with_video_grant(
            VideoGrant::admin("lobby")
                .with_room_create(true)
                .with_room_list(true),
        ),
    );
    let joiner = server.mint(
        server
            .token()
            .with_identity("bob")
            .with_video_grant(VideoGrant::join("lobby")),
    );
    let rpc = |method: &str| format!("/twirp/livekit.RoomService/{method}");
    let (status, body) = server
        .post(
            &rpc("CreateRoom"),
            Some(&admin),
            r#"{"name":"lobby","maxParticipants":3}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let room: Value = serde_json::from_str(&body).expect("room JSON");
    assert_eq!(
        (room["name"].as_str(), room["maxParticipants"].as_u64()),
        (Some("lobby"), Some(3))
    );
    let (status, body) = server.post(&rpc("ListRooms"), Some(&admin), "{}").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON")["rooms"][0]["name"],
        "lobby"
    );

    let expect_error =
        |(status, body): (StatusCode, String), want_status: StatusCode, code: &str| {
            assert_eq!(status, want_status, "{body}");
            assert_eq!(
                serde_json::from_str::<Value>(&body).expect("twirp error JSON")["code"],
                code
            );
        };
    expect_error(
        server
            .post(&rpc("CreateRoom"), Some(&joiner), r#"{"name":"x"}"#)
            .await,
        StatusCode::FORBIDDEN,
        "permission_denied",
    );
    expect_error(
        server.post(&rpc("ListRooms"), None, "{}").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    expect_error(
        server.post(&rpc("ListRooms"), Some("a.b.c"), "{}").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    expect_error(
        server
            .post(
                &rpc("ListParticipants"),
                Some(&admin),
                r#"{"room":"other"}"#,
            )
            .await,
        StatusCode::FORBIDDEN,
        "permission_denied",
    );
    expect_error(
        server
            .post(&rpc("DeleteRoom"), Some(&admin), r#"{"room":"ghost"}"#)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    expect_error(
        server.post(&rpc("CreateRoom"), Some(&admin), "{").await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    expect_error(
        server.post(&rpc("Teleport"), Some(&admin), "{}").await,
        StatusCode::NOT_FOUND,
        "bad_route",
    );

    let (status, body) = server
        .post(
            &rpc("UpdateRoomMetadata"),
            Some(&admin),
            r#"{"room":"lobby","metadata":"m"}"#,
        )
        .await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&body).expect("JSON")["metadata"].as_str()
        ),
        (StatusCode::OK, Some("m"))
    );
    assert_eq!(
        server
            .post(&rpc("DeleteRoom"), Some(&admin), r#"{"room":"lobby"}"#)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn token_endpoint_mints_from_the_js_clients_exact_request() {
    let server = Server::start().await;
    // What the LiveKit JS client's endpoint TokenSource sends.
    let body = r#"{"room_name":"support-room","participant_identity":"visitor-1","participant_name":"Visitor","participant_metadata":"{\"plan\":\"pro\"}","participant_attributes":{"locale":"fr"},"room_config":{"agents":[{"agent_name":"support-agent","metadata":"{\"tier\":1}"}]}}"#;
    let (status, text) = server.post("/token", None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["server_url"], server.base.replace("http://", "ws://"));
    let token = json["participant_token"].as_str().expect("token");
    // The endpoint mints at the verifier's (injected) time.
    let claims = Verifier::new(key_ring(&tokens().keys))
        .verify_at(token, at(server.now()))
        .expect("minted token verifies");
    assert_eq!(
        (claims.identity(), claims.name(), claims.room()),
        ("visitor-1", "Visitor", "support-room")
    );
    assert!(claims.can_join());
    let config = claims.room_config().expect("roomConfig");
    assert_eq!(
        config.agents[0].agent_name.as_deref(),
        Some("support-agent")
    );
    // The empty request gets generated names.
    let (status, text) = server.post("/token", None, "{}").await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
}

#[tokio::test]
async fn token_endpoint_answers_bad_input_with_json_4xx() {
    let server = Server::start().await;
    let huge = format!(r#"{{"participant_metadata":"{}"}}"#, "x".repeat(70 * 1024));
    for (body, status) in [
        ("{", StatusCode::BAD_REQUEST),
        ("null", StatusCode::BAD_REQUEST),
        (r#"{"room_name":["a"]}"#, StatusCode::BAD_REQUEST),
        (
            r#"{"room_config":{"agents":{"agent_name":"x"}}}"#,
            StatusCode::BAD_REQUEST,
        ),
        (huge.as_str(), StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let (got, text) = server.post("/token", None, body).await;
        assert_eq!(got, status, "{}: {text}", &body[..body.len().min(60)]);
        let json: Value = serde_json::from_str(&text).expect("JSON error body");
        assert!(json["error"].is_string(), "{text}");
    }
    let get = server
        .http
        .get(format!("{}/token", server.base))
        .send()
        .await
        .expect("request");
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let text = server
        .http
        .post(format!("{}/token", server.base))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The development policy takes the whole room_config but egress, which it refuses by
    // name (LiveKit's endpoint standard: a 4xx for a field the client may not set), never
    // dropping it in silence.
    let (status, text) = server
        .post(
            "/token",
            None,
            r#"{"room_name":"r","room_config":{"egress":{"room":{"room_name":"x"}},"agents":[{"agent_name":"a"}]}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["error"], "field_not_allowed");
    assert_eq!(json["fields"], serde_json::json!(["room_config.egress"]));
    assert!(
        !text.contains("\"x\""),
        "the value sent is not repeated: {text}"
    );
    let (status, text) = server
        .post(
            "/token",
            None,
            r#"{"room_name":"r","room_config":{"max_participants":3,"agents":[{"agent_name":"a"}]}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    let claims = Verifier::new(key_ring(&tokens().keys))
        .verify_at(
            json["participant_token"].as_str().expect("token"),
            at(server.now()),
        )
        .expect("verifies");
    let config = claims.room_config().expect("the room config");
    assert_eq!(config.max_participants, Some(3));
    assert_eq!(config.agents[0].agent_name.as_deref(), Some("a"));
}

#[tokio::test]
async fn webhook_route_accepts_node_signed_events_and_refuses_altered_ones() {
    let server = Server::start().await;
    for case in support::fixtures::webhooks().cases {
        server.at(case.now);
        let mut request = server
            .http
            .post(format!("{}/webhook", server.base))
            .header("content-type", "application/webhook+json")
            .body(case.body.clone());
        if !case.authorization.is_empty() {
            request = request.header("authorization", &case.authorization);
        }
        let status = request.send().await.expect("request").status();
        let expected = if case.expect == "accept" {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, expected, "{}", case.name);
    }
}

#[test]
fn half_a_key_pair_is_an_error_never_the_dev_key() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let secret = "demoSecret0123456789abcdefghijklmnopqrstu";
    for half in [
        &[("LIVEKIT_API_KEY", "APIdemo")][..],
        &[(
            "LIVEKIT_API_SECRET",
            "demoSecret0123456789abcdefghijklmnopqrstu",
        )][..],
    ] {
        let err = lkauth::keys::load_keys(env(half), false).expect_err("half a pair");
        assert!(
            err.contains("LIVEKIT_API_KEY") && err.contains("LIVEKIT_API_SECRET"),
            "{err}"
        );
        assert!(!err.contains(secret));
    }
    let (keys, dev) = lkauth::keys::load_keys(env(&[]), false).expect("nothing set: the dev key");
    assert!(dev && keys.contains(lkauth::serve::DEV_KEY));
    let (keys, dev) = lkauth::keys::load_keys(
        env(&[
            ("LIVEKIT_API_KEY", "APIdemo"),
            (
                "LIVEKIT_API_SECRET",
                "demoSecret0123456789abcdefghijklmnopqrstu",
            ),
        ]),
        false,
    )
    .expect("a pair");
    assert!(!dev && keys.contains("APIdemo") && !keys.contains(lkauth::serve::DEV_KEY));
}

#[tokio::test]
async fn paths_no_route_matches_are_404_not_401() {
    let server = Server::start().await;
    assert_eq!(server.get("/nope", None).await.0, StatusCode::NOT_FOUND);
    for path in [
        "/twirp/livekit.Egress/ListEgress",
        "/twirp/livekit.RoomService",
        "/rooms/r/unpublish",
    ] {
        assert_eq!(
            server.post(path, None, "{}").await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The routes themselves still want a token.
    assert_eq!(
        server
            .post("/twirp/livekit.RoomService/ListRooms", None, "{}")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_slow_client_cannot_hold_a_connection_open() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = Server::start_with(lkauth::listen::Timeouts {
        header_read: Duration::from_millis(300),
        body_read: Duration::from_millis(300),
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    // Waits (bounded) for the server to answer or close, and returns what it sent.
    async fn drain(stream: &mut tokio::net::TcpStream) -> String {
        let mut seen = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut seen));
        read.await
            .expect("the server ends the connection within 10 s")
            .ok();
        String::from_utf8_lossy(&seen).into_owned()
    }
    // Half a request head, then nothing.
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let answer = drain(&mut stream).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    // A whole head and half the body it announces.
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"room_",
        )
        .await
        .expect("write");
    let answer = drain(&mut stream).await;
    assert!(!answer.contains("201"), "{answer}");
}
