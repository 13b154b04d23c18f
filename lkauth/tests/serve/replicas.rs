//! Three replicas of the demo server sharing one `redis-server` on 127.0.0.1: a participant
//! joins on replica A, is promoted through replica B, and its original token shows the new
//! grants on replica C; removed through C, it is refused on A and B. Features `axum`, `redis`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tower_livekit_auth::{AccessToken, KeyRing, VideoGrant};

use crate::harness::Demo;
use crate::support::redis::RedisServer;

const KEY: &str = "APIreplicas01";
const SECRET: &str = "replicasSecret0123456789abcdefghijklmnopq";

/// One more replica on `redis`: its base URL.
async fn replica(redis: &RedisServer) -> String {
    let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
    let demo = Demo::with_keys(keys)
        .replica_of(&redis.url(), "replicas-test")
        .start()
        .await;
    demo.base
}

/// Polls `status` (a request's answer) until it is `want` or 10 s pass.
async fn becomes<F, Fut>(want: StatusCode, mut status: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if status().await == want {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_replica_answers_for_a_participant_that_joined_another() {
    let redis = RedisServer::start();
    let (a, b, c) = (
        replica(&redis).await,
        replica(&redis).await,
        replica(&redis).await,
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let viewer = AccessToken::new(KEY, SECRET)
        .with_identity("ivy")
        .with_video_grant(VideoGrant::join("hall").with_can_publish(false))
        .to_jwt()
        .expect("mints");
    let admin = AccessToken::new(KEY, SECRET)
        .with_video_grant(VideoGrant::admin("hall"))
        .to_jwt()
        .expect("mints");
    let validate = |base: String| {
        let (http, viewer) = (http.clone(), viewer.clone());
        async move {
            let request = http
                .get(format!("{base}/rtc/validate"))
                .bearer_auth(&viewer);
            request.send().await.expect("request").status()
        }
    };
    let publish = |base: String| {
        let (http, viewer) = (http.clone(), viewer.clone());
        async move {
            let request = http
                .post(format!("{base}/rooms/hall/publish"))
                .bearer_auth(&viewer)
                .json(&json!({"source": "camera"}));
            request.send().await.expect("request").status()
        }
    };
    let twirp = |base: &str, method: &str, body: serde_json::Value| {
        let request = http
            .post(format!("{base}/twirp/livekit.RoomService/{method}"))
            .bearer_auth(&admin)
            .json(&body);
        async move { request.send().await.expect("request").status() }
    };
    assert_eq!(validate(a.clone()).await, StatusCode::OK, "ivy joins on a");
    assert_eq!(publish(c.clone()).await, StatusCode::FORBIDDEN);
    let promote = json!({"room": "hall", "identity": "ivy",
        "permission": {"canSubscribe": true, "canPublish": true, "canPublishSources": ["CAMERA"]}});
    assert_eq!(
        twirp(&b, "UpdateParticipant", promote).await,
        StatusCode::OK,
        "b knows ivy joined on a"
    );
    assert!(
        becomes(StatusCode::NO_CONTENT, || publish(c.clone())).await,
        "c shows the new grants"
    );
    let remove = json!({"room": "hall", "identity": "ivy"});
    assert_eq!(twirp(&c, "RemoveParticipant", remove).await, StatusCode::OK);
    for base in [&a, &b] {
        assert!(
            becomes(StatusCode::UNAUTHORIZED, || validate(base.clone())).await,
            "{base}"
        );
        assert_eq!(publish(base.clone()).await, StatusCode::UNAUTHORIZED);
    }
    let gone = json!({"room": "hall", "identity": "ivy"});
    assert_eq!(
        twirp(&a, "GetParticipant", gone).await,
        StatusCode::NOT_FOUND
    );
}
