//! `--livekit-url`: the gate records a RoomService call, forwards it to LiveKit (here an
//! in-process `lkauth serve`, LiveKit's stand-in) with the caller's own token, and answers
//! with LiveKit's answer; when LiveKit cannot be reached, the change is recorded all the same
//! and the client hears that the LiveKit call failed and that retrying is safe.

use lkauth::gate::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tower_livekit_auth::{KeyRing, Verifier};

use crate::harness::{admin, client, joiner, send, GateServer, KEY, SECRET, STYLES};

/// `lkauth serve` on 127.0.0.1: its base URL.
async fn livekit_stand_in() -> String {
    let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let state = lkauth::serve::AppState::new(Verifier::new(keys), base.replace("http", "ws"));
    let router = lkauth::serve::router(state).expect("router");
    tokio::spawn(lkauth::listen::serve(
        listener,
        router,
        lkauth::listen::Timeouts::default(),
        std::future::pending(),
    ));
    base
}

async fn call(base: &str, method: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let answer = send(
        client()
            .post(format!("{base}/twirp/livekit.RoomService/{method}"))
            .bearer_auth(token)
            .json(&body),
    )
    .await;
    let json = serde_json::from_str(&answer.body).expect("a JSON answer");
    (answer.status, json)
}

#[tokio::test]
async fn one_call_to_the_gate_removes_the_participant_in_livekit_and_at_the_door() {
    let livekit = livekit_stand_in().await;
    let gate = GateServer::start(Policy::preset("livekit").expect("preset"), Some(&livekit)).await;
    let bob = joiner("bob", "stage");
    let joined = send(
        client()
            .get(format!("{livekit}/rtc/validate"))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(
        joined.status,
        StatusCode::OK,
        "bob joins LiveKit's stand-in"
    );
    let moderator = admin("stage");
    let (_, listed) = call(
        &livekit,
        "ListParticipants",
        &moderator,
        json!({"room": "stage"}),
    )
    .await;
    assert_eq!(listed["participants"][0]["identity"], "bob");

    let (status, answer) = call(
        &gate.base,
        "RemoveParticipant",
        &moderator,
        json!({"room": "stage", "identity": "bob"}),
    )
    .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({})));
    let (_, listed) = call(
        &livekit,
        "ListParticipants",
        &moderator,
        json!({"room": "stage"}),
    )
    .await;
    let left = listed["participants"].as_array().map_or(0, Vec::len);
    assert_eq!(left, 0, "removed in LiveKit: {listed}");
    for style in STYLES {
        let answer = gate.check(style, "GET", "/rtc", Some(&bob)).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{style:?}: closed at the door"
        );
    }

    // LiveKit's own refusal comes back as it is (the participant is gone there), and the gate
    // recorded the call anyway: that one is idempotent.
    let (status, answer) = call(
        &gate.base,
        "RemoveParticipant",
        &moderator,
        json!({"room": "stage", "identity": "bob"}),
    )
    .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn an_update_is_forwarded_with_the_callers_token_and_livekits_answer_returned() {
    let livekit = livekit_stand_in().await;
    let gate = GateServer::start(Policy::preset("livekit").expect("preset"), Some(&livekit)).await;
    let carol = joiner("carol", "stage");
    send(
        client()
            .get(format!("{livekit}/rtc/validate"))
            .bearer_auth(&carol),
    )
    .await;
    let (status, info) = call(
        &gate.base,
        "UpdateParticipant",
        &admin("stage"),
        json!({"room": "stage", "identity": "carol", "metadata": "promoted"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    // LiveKit's ParticipantInfo (with its sid), not the gate's own.
    assert!(
        info["sid"].as_str().is_some_and(|sid| !sid.is_empty()),
        "{info}"
    );
    assert_eq!(info["metadata"], "promoted");
    let answer = gate.check(STYLES[0], "GET", "/rtc", Some(&carol)).await;
    let claims = answer.header("x-livekit-claims").expect("claims");
    let claims = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&claims).expect("JSON");
    assert_eq!(claims["metadata"], "promoted");
}

#[tokio::test]
async fn when_livekit_cannot_be_reached_the_door_is_closed_and_the_client_told_to_retry() {
    // A port nothing listens on: bind one, note it, close it.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let gate = GateServer::start(Policy::preset("livekit").expect("preset"), Some(&dead)).await;
    let bob = joiner("bob", "stage");
    let (status, error) = call(
        &gate.base,
        "RemoveParticipant",
        &admin("stage"),
        json!({"room": "stage", "identity": "bob"}),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error["code"], "unavailable");
    let msg = error["msg"].as_str().expect("a message");
    for says in [
        "recorded the removal of `bob`",
        "the call to LiveKit failed",
        "Retrying the call is safe",
    ] {
        assert!(msg.contains(says), "{msg}");
    }
    assert!(
        !msg.contains("127.0.0.1"),
        "LiveKit's address stays in the gate's log: {msg}"
    );
    for style in STYLES {
        let answer = gate.check(style, "GET", "/rtc", Some(&bob)).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{style:?}: the door is closed anyway"
        );
    }
}

#[tokio::test]
async fn a_livekit_url_that_leads_back_to_the_gate_is_said_at_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
    let gate = lkauth::gate::Gate::builder(
        Verifier::new(keys),
        Policy::preset("livekit").expect("preset"),
    )
    .livekit_url(&base, std::time::Duration::from_secs(5))
    .build()
    .expect("gate");
    tokio::spawn(lkauth::listen::serve(
        listener,
        lkauth::gate::router(gate),
        lkauth::listen::Timeouts::default(),
        std::future::pending(),
    ));
    let started = std::time::Instant::now();
    let (status, error) = call(
        &base,
        "RemoveParticipant",
        &admin("stage"),
        json!({"room": "stage", "identity": "bob"}),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{error}");
    assert_eq!(error["code"], "failed_precondition");
    assert!(
        error["msg"]
            .as_str()
            .is_some_and(|msg| msg.contains("--livekit-url")),
        "{error}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "answered at once"
    );
}
