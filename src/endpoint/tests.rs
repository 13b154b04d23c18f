//! The token endpoint's answers to good and bad requests.

use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::*;
use crate::Verifier;

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";

fn keys() -> KeyRing {
    KeyRing::new().with_key(KEY, SECRET).expect("key")
}

fn endpoint() -> TokenEndpoint<impl TokenPolicy> {
    let policy = |_: http::request::Parts, request: TokenRequest| async move {
        if request.room_name.as_deref() == Some("vip") {
            return Err(TokenRefusal::forbidden("not on the list"));
        }
        let identity = request
            .participant_identity
            .clone()
            .unwrap_or_else(|| "guest".into());
        let room = request.room_name.clone().unwrap_or_else(|| "lobby".into());
        Ok(TokenGrant::from_request(&request, identity).with_video_grant(VideoGrant::join(room)))
    };
    TokenEndpoint::new(&keys(), KEY, "ws://127.0.0.1:7880", policy).expect("endpoint")
}

async fn post(endpoint: TokenEndpoint<impl TokenPolicy>, body: &str) -> (StatusCode, Value) {
    let request = Request::post("/token")
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request");
    let response = endpoint.oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&bytes).expect("JSON body"))
}

#[tokio::test]
async fn js_client_request_mints_a_token_with_camel_case_room_config() {
    let body = r#"{"room_name":"support","participant_identity":"u1","participant_name":"U One","participant_metadata":"{\"a\":1}","participant_attributes":{"k":"v"},"room_config":{"agents":[{"agent_name":"helper","metadata":"m"}]}}"#;
    let (status, json) = post(endpoint(), body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(json["server_url"], "ws://127.0.0.1:7880");
    let token = json["participant_token"].as_str().expect("token");
    let claims = Verifier::new(keys()).verify(token).expect("verifies");
    assert_eq!(
        (claims.identity(), claims.name(), claims.room()),
        ("u1", "U One", "support")
    );
    assert_eq!(claims.attributes().get("k"), Some("v"));
    let agents = &claims.room_config().expect("roomConfig").agents;
    assert_eq!(agents[0].agent_name.as_deref(), Some("helper"));
    let payload = token.split('.').nth(1).expect("payload");
    let payload =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .expect("b64");
    let text = String::from_utf8(payload).expect("utf8");
    assert!(
        text.contains(r#""roomConfig":{"agents":[{"agentName":"helper""#),
        "{text}"
    );
}

#[tokio::test]
async fn empty_request_uses_the_policys_defaults() {
    let (status, json) = post(endpoint(), "{}").await;
    assert_eq!(status, StatusCode::CREATED);
    let claims = Verifier::new(keys())
        .verify(json["participant_token"].as_str().expect("token"))
        .expect("ok");
    assert_eq!((claims.identity(), claims.room()), ("guest", "lobby"));
}

#[tokio::test]
async fn bad_input_gets_a_precise_4xx() {
    for (body, status) in [
        ("{", StatusCode::BAD_REQUEST),
        ("[]", StatusCode::BAD_REQUEST),
        (r#"{"room_name":5}"#, StatusCode::BAD_REQUEST),
        (
            r#"{"participant_attributes":{"k":1}}"#,
            StatusCode::BAD_REQUEST,
        ),
        // An array would otherwise be read positionally (`["r"]` as `name: "r"`).
        (r#"{"room_config":["r"]}"#, StatusCode::BAD_REQUEST),
        (r#"{"room_name":"vip"}"#, StatusCode::FORBIDDEN),
        (
            r#"{"room_config":{"egress":{"room":{"file_outputs":[]}}}}"#,
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (got, json) = post(endpoint(), body).await;
        assert_eq!(got, status, "{body}: {json}");
        assert!(json["error"].is_string() && json["message"].is_string());
    }
    let big = format!(r#"{{"participant_metadata":"{}"}}"#, "x".repeat(2000));
    // The limit holds even when set after the endpoint was cloned (clones share the policy).
    let shared = endpoint();
    let _clone = shared.clone();
    for limited in [
        endpoint().with_body_limit(1000),
        shared.with_body_limit(1000),
    ] {
        let (status, json) = post(limited, &big).await;
        assert_eq!(
            (status, json["error"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
        );
    }
}

#[tokio::test]
async fn wrong_method_and_content_type_are_refused() {
    let get = Request::get("/token")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = endpoint().oneshot(get).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[ALLOW], "POST");
    let form = Request::post("/token")
        .header(CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from_static(b"{}")))
        .expect("request");
    assert_eq!(
        endpoint().oneshot(form).await.expect("infallible").status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let charset = Request::post("/token")
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Full::new(Bytes::from_static(b"{}")))
        .expect("request");
    assert_eq!(
        endpoint()
            .oneshot(charset)
            .await
            .expect("infallible")
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn egress_passes_when_the_policy_allows_it() {
    let policy = |_: http::request::Parts, request: TokenRequest| async move {
        Ok(TokenGrant::from_request(&request, "recorder").allow_egress())
    };
    let trusted = TokenEndpoint::new(&keys(), KEY, "ws://x", policy).expect("endpoint");
    let (status, _) = post(trusted, r#"{"room_config":{"egress":{"room":{}}}}"#).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[test]
fn unknown_api_key_is_refused_at_construction() {
    let policy = |_: http::request::Parts, r: TokenRequest| async move {
        Ok(TokenGrant::from_request(&r, "x"))
    };
    let err = TokenEndpoint::new(&keys(), "nope", "ws://x", policy).expect_err("unknown key");
    assert_eq!(err.kind(), MintErrorKind::UnknownKey);
}
