//! A policy file's routes at work: templates naming the room, prefixes, methods, lists of
//! requirements, public routes, the query token, and both defaults.

use reqwest::StatusCode;
use tower_livekit_auth::{SipGrant, TrackSource, VideoGrant};

use crate::harness::{admin, forged, grantless, joiner, token, GateServer, STYLES};

const POLICY: &str = "\
# A backend's own routes.
default: deny
routes:
  - path: /rooms/{room}/kick
    methods: [POST]
    require: room_admin
  - path: /media/{room}
    match: prefix
    require: [join, {publish: camera}]
  - path: /status
    require: public
  - path: /ws
    require: join
    query_token: true
  - path: /admin/
    match: prefix
    require: token_room_admin
  - path: /calls
    methods: [post]
    require: sip_call
  - path: /agent
    require: agent
";

#[tokio::test]
async fn a_policy_files_routes_decide() {
    let gate = GateServer::with_policy(POLICY).await;
    let admin_r1 = admin("r1");
    let joiner = joiner("alice", "r1");
    let microphone_only = token("mia")
        .with_video_grant(
            VideoGrant::join("r1").with_can_publish_sources([TrackSource::Microphone]),
        )
        .to_jwt()
        .expect("mints");
    let caller = token("sip")
        .with_sip_grant(SipGrant::new().with_call(true))
        .to_jwt()
        .expect("mints");
    let agent = token("agent")
        .with_video_grant(VideoGrant::new().with_agent(true))
        .to_jwt()
        .expect("mints");
    let cases: &[(&str, &str, Option<&str>, u16)] = &[
        // room_admin of the path's {room}, POST only (GET gets the default).
        ("POST", "/rooms/r1/kick", Some(&admin_r1), 200),
        ("POST", "/rooms/r2/kick", Some(&admin_r1), 403),
        ("POST", "/rooms/r%31/kick", Some(&admin_r1), 200),
        ("GET", "/rooms/r1/kick", Some(&admin_r1), 403),
        ("POST", "/rooms/r1/kick", None, 401),
        // A prefix, and every requirement of a list.
        ("GET", "/media/r1", Some(&joiner), 200),
        ("GET", "/media/r1/720p/seg-1.ts", Some(&joiner), 200),
        (
            "GET",
            "/media/r1/720p/seg-1.ts",
            Some(&microphone_only),
            403,
        ),
        ("GET", "/media/r1/x", Some(&admin_r1), 403),
        ("GET", "/mediax", Some(&joiner), 403),
        // Public: no token needed, a bad one still refused.
        ("GET", "/status", None, 200),
        ("GET", "/status", Some(&joiner), 200),
        ("GET", "/status", Some(&forged(&joiner)), 401),
        // The query token where allowed, and only there.
        ("GET", &format!("/ws?access_token={joiner}"), None, 200),
        (
            "GET",
            &format!("/media/r1?access_token={joiner}"),
            None,
            401,
        ),
        // Room admin of the token's own room, SIP calls, the agent grant.
        ("DELETE", "/admin/rooms/r1", Some(&admin_r1), 200),
        ("DELETE", "/admin", Some(&joiner), 403),
        ("POST", "/calls", Some(&caller), 200),
        ("POST", "/calls", Some(&joiner), 403),
        ("GET", "/agent", Some(&agent), 200),
        ("GET", "/agent", Some(&grantless("x")), 403),
        // Nothing matches: the default.
        ("GET", "/other", Some(&admin_r1), 403),
    ];
    for style in STYLES {
        for (method, uri, token, status) in cases {
            let answer = gate.check(style, method, uri, *token).await;
            assert_eq!(
                answer.status.as_u16(),
                *status,
                "{style:?} {method} {uri}: {}",
                answer.body
            );
        }
    }
    // The public route sends the identity of a token, and empty headers without one.
    let answer = gate.check(STYLES[0], "GET", "/status", Some(&joiner)).await;
    assert_eq!(answer.header("x-livekit-identity"), Some("alice"));
    let answer = gate.check(STYLES[0], "GET", "/status", None).await;
    assert_eq!(answer.header("x-livekit-identity"), Some(""));
    assert_eq!(answer.header("x-livekit-claims"), Some(""));
}

#[tokio::test]
async fn allow_authenticated_lets_any_valid_token_through_where_no_route_matches() {
    let gate = GateServer::with_policy(
        "default: allow_authenticated\nroutes:\n  - path: /admin\n    require: create_rooms\n",
    )
    .await;
    let joiner = joiner("alice", "r1");
    for style in STYLES {
        let answer = gate
            .check(style, "PUT", "/anything/at/all", Some(&joiner))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{style:?}");
        assert_eq!(answer.header("x-livekit-identity"), Some("alice"));
        let answer = gate.check(style, "PUT", "/anything", None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{style:?}");
        let query = format!("/anything?access_token={joiner}");
        let answer = gate.check(style, "GET", &query, None).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "header only: {style:?}"
        );
        let answer = gate.check(style, "GET", "/admin", Some(&joiner)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{style:?}");
    }
}
