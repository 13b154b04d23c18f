//! The gate's own RoomService: a participant removed or demoted through it is refused (or
//! answered with its new grants) at the door at once, whichever way the proxy asks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use livekit_protocol as proto;
use prost::Message;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tower_livekit_auth::VideoGrant;

use crate::harness::{admin, joiner, send, token, Answer, GateServer, STYLES};

/// A twirp call in protobuf-JSON to the gate.
async fn twirp(gate: &GateServer, method: &str, token: &str, body: Value) -> Answer {
    send(
        gate.http
            .post(format!("{}/twirp/livekit.RoomService/{method}", gate.base))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

#[tokio::test]
async fn a_participant_removed_through_the_gate_is_refused_at_once_every_way() {
    let gate = GateServer::livekit().await;
    let bob = joiner("bob", "stage");
    let carol = joiner("carol", "stage");
    for style in STYLES {
        let answer = gate.check(style, "GET", "/rtc", Some(&bob)).await;
        assert_eq!(answer.status, StatusCode::OK, "{style:?}");
    }
    let removed = twirp(
        &gate,
        "RemoveParticipant",
        &admin("stage"),
        json!({"room": "stage", "identity": "bob"}),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(removed.body, "{}");
    assert_eq!(removed.header("content-type"), Some("application/json"));
    for style in STYLES {
        let answer = gate.check(style, "GET", "/rtc", Some(&bob)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{style:?}");
        assert!(answer.body.contains("revoked"), "{}", answer.body);
        let query = gate
            .check(style, "GET", &format!("/rtc/v1?access_token={bob}"), None)
            .await;
        assert_eq!(query.status, StatusCode::UNAUTHORIZED, "{style:?}");
        // Another participant of the room is not touched.
        let answer = gate.check(style, "GET", "/rtc", Some(&carol)).await;
        assert_eq!(answer.status, StatusCode::OK, "{style:?}");
    }
}

#[tokio::test]
async fn revoke_token_ts_is_the_cutoff_and_protobuf_works_too() {
    let gate = GateServer::livekit().await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let old = token("dave")
        .with_video_grant(VideoGrant::join("stage"))
        .to_jwt_at(UNIX_EPOCH + Duration::from_secs(now - 600))
        .expect("mints");
    let recent = token("dave")
        .with_video_grant(VideoGrant::join("stage"))
        .to_jwt_at(UNIX_EPOCH + Duration::from_secs(now - 60))
        .expect("mints");
    let request = proto::RoomParticipantIdentity {
        room: "stage".into(),
        identity: "dave".into(),
        revoke_token_ts: i64::try_from(now - 300).expect("fits"),
    };
    let answer = send(
        gate.http
            .post(format!(
                "{}/twirp/livekit.RoomService/RemoveParticipant",
                gate.base
            ))
            .bearer_auth(admin("stage"))
            .header("content-type", "application/protobuf")
            .body(request.encode_to_vec()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/protobuf"));
    let old_answer = gate.check(STYLES[1], "GET", "/rtc", Some(&old)).await;
    assert_eq!(old_answer.status, StatusCode::UNAUTHORIZED);
    let recent_answer = gate.check(STYLES[1], "GET", "/rtc", Some(&recent)).await;
    assert_eq!(
        recent_answer.status,
        StatusCode::OK,
        "minted after the cutoff"
    );
}

#[tokio::test]
async fn an_update_through_the_gate_changes_what_old_tokens_may_do() {
    let policy = "routes:\n\
                  - path: /rooms/{room}/camera\n  require: {publish: camera}\n";
    let gate = GateServer::with_policy(policy).await;
    let erin = token("erin")
        .with_video_grant(VideoGrant::join("stage").with_can_publish(false))
        .to_jwt()
        .expect("mints");
    let uri = "/rooms/stage/camera";
    assert_eq!(
        gate.check(STYLES[2], "POST", uri, Some(&erin)).await.status,
        StatusCode::FORBIDDEN
    );
    let updated = twirp(
        &gate,
        "UpdateParticipant",
        &admin("stage"),
        json!({
            "room": "stage",
            "identity": "erin",
            "name": "Erin",
            "attributes": {"role": "speaker"},
            "permission": {"canPublish": true, "canSubscribe": true, "canPublishSources": ["CAMERA"]}
        }),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let info: Value = serde_json::from_str(&updated.body).expect("ParticipantInfo");
    assert_eq!(info["identity"], "erin");
    assert_eq!(info["name"], "Erin");
    let answer = gate.check(STYLES[2], "POST", uri, Some(&erin)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let claims = answer.header("x-livekit-claims").expect("claims");
    let claims = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&claims).expect("JSON");
    assert_eq!(
        claims["name"], "Erin",
        "the effective claims, after the update"
    );
    assert_eq!(claims["attributes"]["role"], "speaker");
    assert_eq!(claims["video"]["canPublishSources"], json!(["camera"]));
}

#[tokio::test]
async fn the_gates_room_service_answers_as_livekit_does() {
    let gate = GateServer::livekit().await;
    let body = json!({"room": "stage", "identity": "bob"});
    // No token, a revoked-style bad token, another room's admin, a joiner.
    let none = send(
        gate.http
            .post(format!(
                "{}/twirp/livekit.RoomService/RemoveParticipant",
                gate.base
            ))
            .json(&body),
    )
    .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    let error: Value = serde_json::from_str(&none.body).expect("twirp error");
    assert_eq!(error["code"], "unauthenticated");
    assert_eq!(none.header("content-type"), Some("application/json"));
    for token in [admin("other"), joiner("bob", "stage")] {
        let answer = twirp(&gate, "RemoveParticipant", &token, body.clone()).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        let error: Value = serde_json::from_str(&answer.body).expect("twirp error");
        assert_eq!(error["code"], "permission_denied");
    }
    let other = twirp(&gate, "ListRooms", &admin("stage"), json!({})).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let error: Value = serde_json::from_str(&other.body).expect("twirp error");
    assert_eq!(error["code"], "bad_route");
    let empty = twirp(
        &gate,
        "RemoveParticipant",
        &admin("stage"),
        json!({"room": "stage"}),
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.body);
    let code = |answer: &Answer| {
        serde_json::from_str::<Value>(&answer.body).expect("twirp error")["code"].clone()
    };
    assert_eq!(code(&empty), "invalid_argument", "{}", empty.body);
    let malformed = send(
        gate.http
            .post(format!(
                "{}/twirp/livekit.RoomService/RemoveParticipant",
                gate.base
            ))
            .bearer_auth(admin("stage"))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&malformed), "malformed", "{}", malformed.body);
    let text = send(
        gate.http
            .post(format!(
                "{}/twirp/livekit.RoomService/RemoveParticipant",
                gate.base
            ))
            .bearer_auth(admin("stage"))
            .header("content-type", "text/plain")
            // A request the gate would act on, were it JSON: only the type refuses it.
            .body(r#"{"room":"stage","identity":"bob"}"#),
    )
    .await;
    assert_eq!(text.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&text), "malformed", "{}", text.body);
    assert!(text.body.contains("application/json"), "{}", text.body);
    // None of those removed bob.
    let bob = joiner("bob", "stage");
    assert_eq!(
        gate.check(STYLES[0], "GET", "/rtc", Some(&bob))
            .await
            .status,
        StatusCode::OK
    );
}
