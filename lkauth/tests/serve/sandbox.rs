//! The local development token server of `lkauth serve` (`POST
//! /api/v2/sandbox/connection-details`, `lkauth/src/serve/sandbox.rs`) on 127.0.0.1, over real
//! HTTP: what LiveKit Cloud's token
//! server answers the clients' `TokenSource.developmentTokenServer`, from the demo's own
//! endpoint and policy.

use std::ops::Deref;

use reqwest::StatusCode;
use serde_json::Value;
use tower_livekit_auth::KeyRing;

use crate::harness::Demo;

const KEY: &str = "APIsandboxtest01";
const SECRET: &str = "sandboxRouteTestSecret0123456789abcdefghij";
const PATH: &str = "/api/v2/sandbox/connection-details";

/// The demo on the system clock, and the URL of its development token server.
struct Sandbox {
    demo: Demo,
    route: String,
}

impl Deref for Sandbox {
    type Target = Demo;

    fn deref(&self) -> &Demo {
        &self.demo
    }
}

impl Sandbox {
    async fn start() -> Sandbox {
        let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
        let demo = Demo::with_keys(keys).start().await;
        let route = demo.url(PATH);
        Sandbox { demo, route }
    }

    /// POSTs `body` as JSON to the route with these extra headers; the status, headers and
    /// JSON answer.
    async fn connection_details(
        &self,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .http
            .post(&self.route)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        let (status, headers) = (response.status(), response.headers().clone());
        (
            status,
            headers,
            response.json().await.expect("a JSON answer"),
        )
    }
}

/// livekit-client 2.23.0's `developmentTokenServer(...).fetch({...})` body, every option set.
const JS_BODY: &str = r#"{"room_name":"dev-room","participant_name":"Dev Zoë","participant_identity":"dev-1","participant_metadata":"{\"m\":1}","participant_attributes":{"team":"blue"},"room_config":{"agents":[{"agent_name":"dev-agent","metadata":"{\"lang\":\"fr\"}","deployment":"staging"}]}}"#;

#[tokio::test]
async fn connection_details_carry_a_token_with_what_the_policy_granted() {
    let demo = Sandbox::start().await;
    let (status, headers, json) = demo
        .connection_details(&[("X-Sandbox-ID", "my-sandbox-1")], JS_BODY)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    assert_eq!(headers["cache-control"], "no-store");
    let mut fields: Vec<&str> = json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "participant_name",
            "participant_token",
            "room_name",
            "server_url"
        ]
    );
    assert_eq!(json["server_url"], demo.server_url.as_str());
    let claims = demo
        .verifier
        .verify(json["participant_token"].as_str().expect("token"))
        .expect("verifies");
    assert_eq!(
        (claims.identity(), claims.name(), claims.room()),
        ("dev-1", "Dev Zoë", "dev-room")
    );
    assert!(claims.can_join());
    assert_eq!(claims.metadata(), r#"{"m":1}"#);
    assert_eq!(claims.attributes().get("team"), Some("blue"));
    let agent = &claims.room_config().expect("roomConfig").agents[0];
    assert_eq!(
        (
            agent.agent_name.as_deref(),
            agent.metadata.as_deref(),
            agent.deployment.as_deref()
        ),
        (Some("dev-agent"), Some(r#"{"lang":"fr"}"#), Some("staging"))
    );
    assert_eq!(
        (&json["room_name"], &json["participant_name"]),
        (&Value::from("dev-room"), &Value::from("Dev Zoë"))
    );
}

#[tokio::test]
async fn generated_room_and_identity_are_reported_back() {
    // The Swift, Android and Flutter clients' request with no options.
    let demo = Sandbox::start().await;
    let (status, _, json) = demo
        .connection_details(&[("X-Sandbox-ID", "my-sandbox-1")], r#"{"room_config":{}}"#)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    let claims = demo
        .verifier
        .verify(json["participant_token"].as_str().expect("token"))
        .expect("verifies");
    assert!(!claims.room().is_empty() && !claims.identity().is_empty());
    assert_eq!(json["room_name"], claims.room());
    assert_eq!(claims.name(), "");
    assert_eq!(
        json["participant_name"],
        claims.identity(),
        "no display name: the identity"
    );
    assert!(
        claims.room_config().is_none(),
        "an empty room_config asks for nothing"
    );
}

#[tokio::test]
async fn a_missing_or_malformed_sandbox_id_is_a_400_that_names_the_header() {
    let demo = Sandbox::start().await;
    let too_long = "a".repeat(129);
    for (what, headers) in [
        ("missing", vec![]),
        ("empty", vec![("X-Sandbox-ID", "")]),
        (
            "twice",
            vec![("X-Sandbox-ID", "one"), ("X-Sandbox-ID", "two")],
        ),
        ("a space", vec![("X-Sandbox-ID", "my sandbox")]),
        ("a quote", vec![("X-Sandbox-ID", "evil\"id")]),
        ("too long", vec![("X-Sandbox-ID", too_long.as_str())]),
    ] {
        let (status, _, json) = demo.connection_details(&headers, JS_BODY).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {json}");
        let message = json["message"].as_str().expect("a message");
        assert!(message.contains("X-Sandbox-ID"), "{what}: {message}");
        for (_, value) in &headers {
            if value.len() > 3 {
                assert!(!message.contains(value), "{what}: echoes the ID: {message}");
            }
        }
        assert!(json.get("participant_token").is_none(), "{what}");
    }
    let longest = "a".repeat(128);
    for fine in ["my-sandbox_1", "X", longest.as_str()] {
        let (status, _, json) = demo
            .connection_details(&[("X-Sandbox-ID", fine)], "{}")
            .await;
        assert_eq!(status, StatusCode::CREATED, "{fine}: {json}");
    }
}

#[tokio::test]
async fn the_route_keeps_the_token_endpoints_checks() {
    let demo = Sandbox::start().await;
    let response = demo
        .http
        .get(&demo.route)
        .header("X-Sandbox-ID", "my-sandbox-1")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    // A cross-site form or no-cors fetch cannot send JSON: refused before the sandbox ID.
    let response = demo
        .http
        .post(&demo.route)
        .header("X-Sandbox-ID", "my-sandbox-1")
        .header("content-type", "text/plain")
        .body(JS_BODY)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, json) = demo
        .connection_details(&[("X-Sandbox-ID", "my-sandbox-1")], r#"{"room_name":5}"#)
        .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let egress = r#"{"room_config":{"egress":{"room":{"file_outputs":[]}}}}"#;
    let (status, _, json) = demo
        .connection_details(&[("X-Sandbox-ID", "my-sandbox-1")], egress)
        .await;
    // Refused by name, not dropped: egress would record at the operator's cost.
    assert_eq!(
        (status, json["error"].as_str(), &json["fields"]),
        (
            StatusCode::FORBIDDEN,
            Some("field_not_allowed"),
            &serde_json::json!(["room_config.egress"])
        ),
        "{json}"
    );
}
