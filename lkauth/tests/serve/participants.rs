//! The demo server's participants over real HTTP on 127.0.0.1: a participant joins with
//! `canPublish: false`, is promoted and changed through twirp `UpdateParticipant` (JSON and
//! protobuf), and removed through `RemoveParticipant`, which revokes its tokens. Its original
//! token answers with the current state on every route.

use std::ops::Deref;

use livekit_protocol as proto;
use prost::Message;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tower_livekit_auth::{AccessToken, KeyRing, Verifier, VideoGrant};

use crate::harness::{at, Demo};

const KEY: &str = "APIparticipants";
const SECRET: &str = "participantsSecret0123456789abcdefghijklm";
const T0: u64 = 1_763_900_000;

/// The demo on an injected clock starting at `T0`, with the room `stage`'s moderator and
/// viewers.
struct Stage {
    demo: Demo,
}

impl Deref for Stage {
    type Target = Demo;

    fn deref(&self) -> &Demo {
        &self.demo
    }
}

impl Stage {
    async fn start() -> Stage {
        let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
        Stage {
            demo: Demo::with_keys(keys).clock_at(T0).start().await,
        }
    }

    fn admin(&self) -> String {
        self.mint(
            AccessToken::new(KEY, SECRET)
                .with_identity("moderator")
                .with_video_grant(VideoGrant::admin("stage").with_room_create(true)),
        )
    }

    /// A viewer's token for `identity`, which has joined (`/rtc/validate` answered 200).
    async fn joined(&self, identity: &str) -> String {
        let viewer = self.viewer(identity);
        assert_eq!(
            self.get("/rtc/validate", Some(&viewer)).await.0,
            StatusCode::OK,
            "{identity} joins"
        );
        viewer
    }

    /// What `/whoami` shows of `token`: its name, metadata and attributes after the state.
    async fn whoami(&self, token: &str) -> (Value, Value, Value) {
        let (status, body) = self.get("/whoami", Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let whoami: Value = serde_json::from_str(&body).expect("JSON");
        (
            whoami["name"].clone(),
            whoami["metadata"].clone(),
            whoami["attributes"].clone(),
        )
    }

    fn viewer(&self, identity: &str) -> String {
        self.mint(
            AccessToken::new(KEY, SECRET)
                .with_identity(identity)
                .with_name("Viewer")
                .with_metadata("m0")
                .with_attributes([("seat", "12")])
                .with_video_grant(VideoGrant::join("stage").with_can_publish(false)),
        )
    }

    async fn publish(&self, token: &str, source: &str) -> StatusCode {
        let request = self
            .http
            .post(self.url("/rooms/stage/publish"))
            .bearer_auth(token)
            .json(&json!({ "source": source }));
        self.send(request).await.0
    }

    /// A twirp call in protobuf-JSON: the status and the answer.
    async fn twirp(&self, method: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let request = self
            .http
            .post(self.url(&format!("/twirp/livekit.RoomService/{method}")))
            .bearer_auth(token)
            .json(&body);
        let (status, _, body) = self.send(request).await;
        (status, serde_json::from_slice(&body).expect("JSON answer"))
    }

    /// A twirp call in protobuf, as the Python SDK makes it.
    async fn twirp_protobuf<T: Message + Default>(
        &self,
        method: &str,
        token: &str,
        body: impl Message,
    ) -> (StatusCode, Result<T, Value>) {
        let request = self
            .http
            .post(self.url(&format!("/twirp/livekit.RoomService/{method}")))
            .bearer_auth(token)
            .header("content-type", "application/protobuf")
            .body(body.encode_to_vec());
        let (status, headers, body) = self.send(request).await;
        let answer = if headers["content-type"] == "application/protobuf" {
            Ok(T::decode(body.as_slice()).expect("protobuf answer"))
        } else {
            Err(serde_json::from_slice(&body).expect("a twirp error is JSON"))
        };
        (status, answer)
    }
}

#[tokio::test]
async fn a_participant_is_promoted_changed_and_removed_after_its_token_was_issued() {
    let demo = Stage::start().await;
    let admin = demo.admin();
    let viewer = demo.joined("vic").await;
    assert_eq!(demo.publish(&viewer, "camera").await, StatusCode::FORBIDDEN);

    demo.at(T0 + 10);
    let (status, info) = demo
        .twirp(
            "UpdateParticipant",
            &admin,
            json!({
                "room": "stage", "identity": "vic", "metadata": "on stage",
                "attributes": {"role": "speaker", "seat": ""},
                "permission": {"canSubscribe": true, "canPublish": true, "canPublishData": true,
                               "canPublishSources": ["CAMERA"]}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["identity"], "vic");
    assert_eq!(info["metadata"], "on stage");
    assert_eq!(info["name"], "Viewer", "an empty name changes nothing");
    assert_eq!(info["attributes"], json!({"role": "speaker"}));
    assert_eq!(info["permission"]["canPublish"], true);
    assert_eq!(info["permission"]["canPublishSources"], json!(["CAMERA"]));
    assert_eq!(info["state"], "ACTIVE");
    assert!(
        info["joinedAt"].as_str().is_some(),
        "int64 as a string: {info}"
    );

    // The same original token, now: camera yes, microphone no, the new metadata on /whoami.
    assert_eq!(
        demo.publish(&viewer, "camera").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        demo.publish(&viewer, "microphone").await,
        StatusCode::FORBIDDEN
    );
    let (status, whoami) = demo.get("/whoami", Some(&viewer)).await;
    assert_eq!(status, StatusCode::OK);
    let whoami: Value = serde_json::from_str(&whoami).expect("JSON");
    assert_eq!(whoami["metadata"], "on stage");
    assert_eq!(whoami["attributes"], json!({"role": "speaker"}));

    let (status, got) = demo
        .twirp(
            "GetParticipant",
            &admin,
            json!({"room": "stage", "identity": "vic"}),
        )
        .await;
    assert_eq!(
        (status, &got["metadata"]),
        (StatusCode::OK, &json!("on stage"))
    );
    let (_, list) = demo
        .twirp("ListParticipants", &admin, json!({"room": "stage"}))
        .await;
    assert_eq!(list["participants"].as_array().map(Vec::len), Some(1));

    // Removed: the original token is refused on every route.
    let (status, _) = demo
        .twirp(
            "RemoveParticipant",
            &admin,
            json!({"room": "stage", "identity": "vic"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        demo.get("/rtc/validate", Some(&viewer)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        demo.get("/whoami", Some(&viewer)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        demo.publish(&viewer, "camera").await,
        StatusCode::UNAUTHORIZED
    );
    let (_, list) = demo
        .twirp("ListParticipants", &admin, json!({"room": "stage"}))
        .await;
    // protobuf-JSON leaves an empty list out.
    assert_eq!(
        list["participants"].as_array().map_or(0, Vec::len),
        0,
        "{list}"
    );
    let (status, missing) = demo
        .twirp(
            "GetParticipant",
            &admin,
            json!({"room": "stage", "identity": "vic"}),
        )
        .await;
    assert_eq!(
        (status, &missing["code"]),
        (StatusCode::NOT_FOUND, &json!("not_found"))
    );

    // The cutoff is now + 60 s: a token minted after it works again, with its own grants.
    demo.at(T0 + 10 + 60);
    let fresh = demo.viewer("vic");
    assert_eq!(
        demo.get("/rtc/validate", Some(&fresh)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        demo.publish(&fresh, "camera").await,
        StatusCode::FORBIDDEN,
        "its own grants"
    );
}

#[tokio::test]
async fn remove_participant_honours_revoke_token_ts() {
    let demo = Stage::start().await;
    let admin = demo.admin();
    let early = demo.viewer("eve");
    demo.at(T0 + 100);
    let late = demo.viewer("eve");
    assert_eq!(
        demo.get("/rtc/validate", Some(&late)).await.0,
        StatusCode::OK
    );
    let (status, _) = demo
        .twirp(
            "RemoveParticipant",
            &admin,
            json!({"room": "stage", "identity": "eve", "revokeTokenTs": (T0 + 50).to_string()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        demo.get("/whoami", Some(&early)).await.0,
        StatusCode::UNAUTHORIZED,
        "issued before the cutoff"
    );
    assert_eq!(
        demo.get("/whoami", Some(&late)).await.0,
        StatusCode::OK,
        "issued after it"
    );
}

#[tokio::test]
async fn protobuf_requests_get_protobuf_answers_and_json_errors() {
    let demo = Stage::start().await;
    let admin = demo.admin();
    let viewer = demo.joined("pat").await;
    demo.at(T0 + 5);
    let request = proto::UpdateParticipantRequest {
        room: "stage".into(),
        identity: "pat".into(),
        name: "Pat".into(),
        permission: Some(proto::ParticipantPermission {
            can_subscribe: true,
            can_publish: true,
            can_publish_sources: vec![proto::TrackSource::Microphone as i32],
            ..Default::default()
        }),
        ..Default::default()
    };
    let (status, answer) = demo
        .twirp_protobuf::<proto::ParticipantInfo>("UpdateParticipant", &admin, request)
        .await;
    assert_eq!(status, StatusCode::OK);
    let info = answer.expect("a ParticipantInfo");
    assert_eq!((info.identity.as_str(), info.name.as_str()), ("pat", "Pat"));
    let permission = info.permission.expect("permission");
    assert!(permission.can_publish && !permission.can_publish_data);
    assert_eq!(
        permission.can_publish_sources,
        [proto::TrackSource::Microphone as i32]
    );
    assert_eq!(
        demo.publish(&viewer, "microphone").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(demo.publish(&viewer, "camera").await, StatusCode::FORBIDDEN);

    let unknown = proto::RoomParticipantIdentity {
        room: "stage".into(),
        identity: "nobody".into(),
        revoke_token_ts: 0,
    };
    let (status, answer) = demo
        .twirp_protobuf::<proto::ParticipantInfo>("GetParticipant", &admin, unknown)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer.expect_err("an error")["code"], "not_found");
}

#[tokio::test]
async fn participant_methods_need_room_admin_of_that_room() {
    let demo = Stage::start().await;
    let other_admin =
        demo.mint(AccessToken::new(KEY, SECRET).with_video_grant(VideoGrant::admin("other")));
    let viewer = demo.joined("ann").await;
    for method in [
        "UpdateParticipant",
        "RemoveParticipant",
        "GetParticipant",
        "ListParticipants",
    ] {
        for token in [&other_admin, &viewer] {
            let (status, error) = demo
                .twirp(
                    method,
                    token,
                    json!({"room": "stage", "identity": "ann", "metadata": "x"}),
                )
                .await;
            assert_eq!(
                (status, &error["code"]),
                (StatusCode::FORBIDDEN, &json!("permission_denied")),
                "{method}"
            );
        }
    }
    assert_eq!(
        demo.whoami(&viewer).await,
        (json!("Viewer"), json!("m0"), json!({"seat": "12"})),
        "nothing was changed"
    );
}

#[tokio::test]
async fn the_refresh_header_after_an_update_carries_the_new_grants() {
    let demo = Stage::start().await;
    let admin = demo.admin();
    let viewer = demo.joined("rae").await;
    demo.at(T0 + 30);
    let (status, _) = demo
        .twirp("UpdateParticipant", &admin, json!({"room": "stage", "identity": "rae",
            "permission": {"canSubscribe": true, "canPublish": true, "canPublishSources": ["SCREEN_SHARE"]}}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, _) = demo
        .send(
            demo.http
                .get(format!("{}/whoami", demo.base))
                .bearer_auth(&viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let refreshed = headers[lkauth::serve::REFRESH_HEADER]
        .to_str()
        .expect("a token");
    assert_eq!(headers["cache-control"], "no-store");
    let claims = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
        .verify_at(refreshed, at(T0 + 30))
        .expect("the refresh verifies");
    assert!(claims.can_publish_source(tower_livekit_auth::TrackSource::ScreenShare));
    assert!(!claims.can_publish_source(tower_livekit_auth::TrackSource::Camera));
    assert_eq!(claims.identity(), "rae");
}

#[tokio::test]
async fn an_unknown_source_number_allows_nothing_and_never_every_source() {
    // A protobuf `can_publish_sources = [99]` was once dropped, and the empty list that was
    // left means every source. LiveKit keeps the number, which matches no source.
    let demo = Stage::start().await;
    let admin = demo.admin();
    let viewer = demo.joined("quinn").await;
    demo.at(T0 + 5);
    let request = proto::UpdateParticipantRequest {
        room: "stage".into(),
        identity: "quinn".into(),
        permission: Some(proto::ParticipantPermission {
            can_subscribe: true,
            can_publish: true,
            can_publish_sources: vec![99],
            ..Default::default()
        }),
        ..Default::default()
    };
    let (status, answer) = demo
        .twirp_protobuf::<proto::ParticipantInfo>("UpdateParticipant", &admin, request)
        .await;
    assert_eq!(status, StatusCode::OK);
    let permission = answer
        .expect("a ParticipantInfo")
        .permission
        .expect("permission");
    assert_eq!(
        permission.can_publish_sources,
        [99],
        "kept, as LiveKit keeps it"
    );
    for source in ["camera", "microphone", "screen_share", "screen_share_audio"] {
        assert_eq!(
            demo.publish(&viewer, source).await,
            StatusCode::FORBIDDEN,
            "{source}"
        );
    }
}

#[tokio::test]
async fn updates_past_livekits_size_limits_are_invalid_arguments() {
    let demo = Stage::start().await;
    let admin = demo.admin();
    let viewer = demo.joined("rae").await;
    for (body, limit) in [
        (
            json!({"room": "stage", "identity": "rae", "metadata": "m".repeat(512 * 1024 + 1)}),
            "max_metadata_size",
        ),
        (
            json!({"room": "stage", "identity": "rae", "name": "n".repeat(257)}),
            "max_participant_name_length",
        ),
        (
            json!({"room": "stage", "identity": "rae", "attributes": {"k": "v".repeat(64 * 1024)}}),
            "max_attributes_size",
        ),
    ] {
        let (status, answer) = demo.twirp("UpdateParticipant", &admin, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{limit}");
        assert_eq!(answer["code"], "invalid_argument", "{limit}");
        let msg = answer["msg"].as_str().expect("a message");
        assert!(
            msg.contains(limit) && msg.contains("nothing was written"),
            "{msg}"
        );
    }
    // Nothing of them reached the participant.
    assert_eq!(
        demo.whoami(&viewer).await,
        (json!("Viewer"), json!("m0"), json!({"seat": "12"})),
    );
}
