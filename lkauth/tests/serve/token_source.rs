//! The official TokenSource clients against the demo's token endpoint (`POST /token`) and its
//! development token server (`POST /api/v2/sandbox/connection-details`), over 127.0.0.1:
//! LiveKit's Rust `livekit-token-source` crate itself, and the requests the Swift, Android and
//! Flutter SDKs send, replayed from `tests/fixtures/token_requests/`. Every token is checked with
//! the crate's `Verifier`; `interop/token_source.mjs` replays the same requests and checks their
//! tokens with the Node SDK's `TokenVerifier`.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use livekit_token_source::{
    endpoint, TokenSourceConfigurable, TokenSourceFetchOptions, TokenSourceResponse,
};
use serde::Deserialize;
use serde_json::Value;
use tower_livekit_auth::{Claims, KeyRing};

use crate::harness;

const KEY: &str = "APItokensource1";
const SECRET: &str = "tokenSourceInteropSecret0123456789abcdefgh";
const SANDBOX_PATH: &str = "/api/v2/sandbox/connection-details";

/// A request as it reached the demo, before any route saw it.
struct Arrived {
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<Arrived>>>);

impl Arrivals {
    fn take(&self) -> Vec<Arrived> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

/// Records every request, so that a test counts what really reached the server (a cached
/// fetch must send nothing) and sees the client's exact body and headers.
async fn record(State(arrivals): State<Arrivals>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .expect("a small body");
    arrivals.0.lock().expect("lock").push(Arrived {
        path: parts.uri.path().to_owned(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// The demo on 127.0.0.1 with the real clock (the clients judge a token's freshness by it),
/// every request recorded as it arrives.
struct Demo {
    demo: harness::Demo,
    arrivals: Arrivals,
}

impl Deref for Demo {
    type Target = harness::Demo;

    fn deref(&self) -> &harness::Demo {
        &self.demo
    }
}

impl Demo {
    async fn start() -> Demo {
        let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
        let arrivals = Arrivals::default();
        let recorder = arrivals.clone();
        let demo = harness::Demo::with_keys(keys)
            .around(move |router| {
                router.layer(axum::middleware::from_fn_with_state(recorder, record))
            })
            .start()
            .await;
        Demo { demo, arrivals }
    }

    fn claims(&self, response: &TokenSourceResponse) -> Claims {
        assert_eq!(response.server_url, self.server_url);
        self.verifier
            .verify(&response.participant_token)
            .expect("the token verifies with the crate's Verifier")
    }
}

/// What a token must carry, as the fixtures write it (`null`: the policy generates one).
#[derive(Debug, Deserialize)]
struct Expect {
    identity: Option<String>,
    name: String,
    metadata: String,
    attributes: BTreeMap<String, String>,
    room: Option<String>,
    agents: Vec<Value>,
}

fn assert_carries(what: &str, claims: &Claims, expect: &Expect) {
    match &expect.identity {
        Some(identity) => assert_eq!(claims.identity(), identity, "{what}: identity"),
        None => assert!(
            !claims.identity().is_empty(),
            "{what}: a generated identity"
        ),
    }
    match &expect.room {
        Some(room) => assert_eq!(claims.room(), room, "{what}: room"),
        None => assert!(!claims.room().is_empty(), "{what}: a generated room"),
    }
    assert!(claims.can_join(), "{what}: the policy grants a join");
    assert_eq!(claims.name(), expect.name, "{what}: name");
    assert_eq!(claims.metadata(), expect.metadata, "{what}: metadata");
    let attributes: BTreeMap<String, String> = claims
        .attributes()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(attributes, expect.attributes, "{what}: attributes");
    let agents = claims
        .room_config()
        .map(|config| serde_json::to_value(&config.agents).expect("agents as JSON"))
        .unwrap_or_else(|| Value::Array(Vec::new()));
    assert_eq!(
        agents,
        Value::Array(expect.agents.clone()),
        "{what}: agents"
    );
}

const METADATA: &str = r#"{"avatar":"https://example.com/a/zoe.png"}"#;
const AGENT_METADATA: &str = r#"{"lang":"fr"}"#;

/// The fixture's "every option" call, made with the crate's builder.
fn every_option() -> TokenSourceFetchOptions {
    TokenSourceFetchOptions::new()
        .with_room_name("support-room")
        .with_participant_name("Zoë Client")
        .with_participant_identity("rust-user-1")
        .with_participant_metadata(METADATA)
        .with_participant_attribute("team", "blue")
        .with_participant_attribute("tier", "gold")
        .with_agent_name("support-agent")
        .with_agent_metadata(AGENT_METADATA)
        .with_deployment("staging")
}

#[derive(Deserialize)]
struct Fixture {
    sdk: String,
    requests: Vec<RecordedRequest>,
}

#[derive(Deserialize)]
struct RecordedRequest {
    name: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
    expect: Expect,
}

fn fixture(file: &str) -> Fixture {
    let path = format!(
        "{}/../tests/fixtures/token_requests/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The crate's HTTP client has no timeout of its own: every fetch here is bounded.
async fn within<T>(fetch: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), fetch)
        .await
        .expect("the fetch finished within 10 s")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test]
async fn the_rust_endpoint_source_gets_every_option_the_policy_grants() {
    let demo = Demo::start().await;
    let source = endpoint(format!("{}/token", demo.base))
        .with_header("Authorization", "Bearer app-session-1");
    let response = within(source.fetch(&every_option())).await.expect("fetch");
    let recorded = &fixture("rust.json").requests[0];
    assert_carries(
        "livekit-token-source",
        &demo.claims(&response),
        &recorded.expect,
    );

    // What the crate sent is what rust.json records, so the Node script, which replays the
    // fixture, checks tokens for exactly this request.
    let arrived = demo.arrivals.take();
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0].path, "/token");
    for (name, value) in &recorded.headers {
        assert_eq!(arrived[0].headers[name.as_str()], value.as_str(), "{name}");
    }
    let sent: Value = serde_json::from_slice(&arrived[0].body).expect("JSON body");
    let written: Value = serde_json::from_str(&recorded.body).expect("fixture body");
    assert_eq!(sent, written);
}

#[tokio::test]
async fn the_cached_source_reuses_its_token_until_the_options_change() {
    let demo = Demo::start().await;
    let source = endpoint(format!("{}/token", demo.base))
        .with_header("Authorization", "Bearer app-session-1")
        .cached();
    let options = every_option();
    let first = within(source.fetch(&options)).await.expect("fetch");
    assert_eq!(demo.arrivals.take().len(), 1);

    let again = within(source.fetch(&options.clone())).await.expect("fetch");
    assert_eq!(again, first, "equal options: the cached response");
    assert!(
        demo.arrivals.take().is_empty(),
        "a cached fetch sends no request"
    );

    let other = options.with_room_name("another-room");
    let fresh = within(source.fetch(&other)).await.expect("fetch");
    assert_eq!(demo.arrivals.take().len(), 1, "new options: a new request");
    assert_ne!(fresh.participant_token, first.participant_token);
    let claims = demo.claims(&fresh);
    assert_eq!(
        (claims.room(), claims.identity()),
        ("another-room", "rust-user-1")
    );
}

#[tokio::test]
async fn the_rust_development_source_shape_gets_tokens_from_the_local_sandbox_route() {
    // `development_token_server(id)` is this source with LiveKit Cloud's URL, which 0.1.4 has no
    // option to change.
    let demo = Demo::start().await;
    let source = endpoint(format!("{}{SANDBOX_PATH}", demo.base))
        .with_header("X-Sandbox-ID", "rust-sandbox-1")
        .cached();
    let options = TokenSourceFetchOptions::new()
        .with_participant_name("Zoë Client")
        .with_agent_name("support-agent");
    let response = within(source.fetch(&options)).await.expect("fetch");
    let claims = demo.claims(&response);
    assert_eq!(claims.name(), "Zoë Client");
    assert!(!claims.identity().is_empty() && !claims.room().is_empty());
    assert_eq!(
        claims.room_config().expect("roomConfig").agents[0]
            .agent_name
            .as_deref(),
        Some("support-agent")
    );
    let arrived = demo.arrivals.take();
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0].headers["x-sandbox-id"], "rust-sandbox-1");
    assert_eq!(
        within(source.fetch(&options)).await.expect("fetch"),
        response,
        "cached"
    );
    assert!(demo.arrivals.take().is_empty());

    // Without the header, the route says which one is missing, and the crate reports it.
    let bare = endpoint(format!("{}{SANDBOX_PATH}", demo.base));
    let err = within(bare.fetch(&options))
        .await
        .expect_err("no X-Sandbox-ID");
    match err {
        livekit_token_source::TokenSourceError::Server { status, body } => {
            assert_eq!(status, 400);
            assert!(body.contains("X-Sandbox-ID"), "{body}");
        }
        other => panic!("expected a 400 from the server, got {other}"),
    }
}

#[tokio::test]
async fn recorded_requests_of_every_sdk_get_the_token_they_asked_for() {
    let demo = Demo::start().await;
    let client = http();
    let mut sent = Vec::new();
    for file in ["swift.json", "android.json", "flutter.json", "rust.json"] {
        let fixture = fixture(file);
        for recorded in &fixture.requests {
            let what = format!("{} / {}", fixture.sdk, recorded.name);
            let mut request = client
                .post(format!("{}{}", demo.base, recorded.path))
                .body(recorded.body.clone());
            for (name, value) in &recorded.headers {
                request = request.header(name, value);
            }
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), reqwest::StatusCode::CREATED, "{what}");
            let json: Value = response.json().await.expect("JSON answer");
            let token = json["participant_token"].as_str().expect("a token");
            assert_eq!(json["server_url"], demo.server_url.as_str(), "{what}");
            let claims = demo.verifier.verify(token).expect("verifies");
            assert_carries(&what, &claims, &recorded.expect);
            if recorded.path == SANDBOX_PATH {
                // The two optional fields the Swift, Android and Flutter clients read.
                assert_eq!(json["room_name"], claims.room(), "{what}");
                assert_eq!(json["participant_name"], claims.name(), "{what}");
            }
            sent.push(recorded.body.clone());
        }
    }
    assert_eq!(sent.len(), 16, "every recorded request was replayed");
    // What arrived is what was recorded, byte for byte (Swift's `\/` escapes included).
    let arrived: Vec<String> = demo
        .arrivals
        .take()
        .into_iter()
        .map(|a| String::from_utf8(a.body.to_vec()).expect("UTF-8"))
        .collect();
    assert_eq!(arrived, sent);
    assert!(arrived[0].contains(r"https:\/\/"), "Swift's escapes");
}
