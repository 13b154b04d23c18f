//! The token endpoint's answers to good and bad requests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::*;
use crate::{KeyRing, VideoGrant};

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";

fn verifier() -> Verifier {
    Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
}

/// Joins the requested room (or `lobby`) as the requested identity (or `guest`), accepting
/// nothing else the client asked for.
async fn strict_policy(
    _: http::request::Parts,
    request: TokenRequest,
) -> Result<TokenApproval, TokenRefusal> {
    if request.room_name.as_deref() == Some("vip") {
        return Err(TokenRefusal::forbidden("not on the list"));
    }
    let identity = request
        .participant_identity
        .clone()
        .unwrap_or_else(|| "guest".into());
    let room = request.room_name.clone().unwrap_or_else(|| "lobby".into());
    Ok(TokenApproval::from_request(&request, identity).with_video_grant(VideoGrant::join(room)))
}

fn endpoint() -> TokenEndpoint<impl TokenPolicy> {
    TokenEndpoint::new(&verifier(), KEY, "ws://127.0.0.1:7880", strict_policy).expect("endpoint")
}

fn json_request(body: &str) -> Request<FullBody> {
    Request::post("/token")
        .header(CONTENT_TYPE, "application/json")
        .body(FullBody::from(body.to_owned()))
        .expect("request")
}

async fn send<B>(
    endpoint: TokenEndpoint<impl TokenPolicy>,
    request: Request<B>,
) -> (StatusCode, Value)
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
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

async fn post(endpoint: TokenEndpoint<impl TokenPolicy>, body: &str) -> (StatusCode, Value) {
    send(endpoint, json_request(body)).await
}

fn claims_of(json: &Value) -> crate::Claims {
    verifier()
        .verify(json["participant_token"].as_str().expect("a token"))
        .expect("the token verifies")
}

const FULL_REQUEST: &str = r#"{"room_name":"support","participant_identity":"u1","participant_name":"U One","participant_metadata":"{\"a\":1}","participant_attributes":{"role":"admin"},"room_config":{"max_participants":2,"agents":[{"agent_name":"helper","metadata":"m"}]}}"#;

/// A 403 `field_not_allowed`: the fields it names.
fn refused_fields(status: StatusCode, json: &Value) -> Vec<&str> {
    assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
    assert_eq!(json["error"], "field_not_allowed", "{json}");
    let fields: Vec<&str> = json["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|field| field.as_str().expect("a name"))
        .collect();
    let message = json["message"].as_str().expect("message");
    for field in &fields {
        assert!(message.contains(field), "{message}");
    }
    fields
}

#[tokio::test]
async fn fields_the_policy_does_not_accept_are_refused_by_name_never_dropped() {
    let (status, json) = post(endpoint(), FULL_REQUEST).await;
    assert_eq!(
        refused_fields(status, &json),
        [
            "participant_metadata",
            "participant_attributes",
            "room_config.max_participants",
            "room_config.agents"
        ]
    );
    // The values sent are not repeated: only the fields' names.
    let text = json.to_string();
    for sent in ["admin", "helper", "U One"] {
        assert!(!text.contains(sent), "{text}");
    }
    // What the policy takes as asked (room, identity, name) passes.
    let (status, json) = post(
        endpoint(),
        r#"{"room_name":"support","participant_identity":"u1","participant_name":"U One"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    let claims = claims_of(&json);
    assert_eq!(
        (claims.identity(), claims.name(), claims.room()),
        ("u1", "U One", "support")
    );
}

#[tokio::test]
async fn agent_dispatch_alone_refuses_every_other_part_of_room_config() {
    let agents_only = |_: http::request::Parts, request: TokenRequest| async move {
        Ok(TokenApproval::from_request(&request, "u1")
            .with_video_grant(VideoGrant::join("support"))
            .accept_agent_dispatch())
    };
    let endpoint =
        || TokenEndpoint::new(&verifier(), KEY, "ws://x", agents_only).expect("endpoint");
    for (part, value) in [
        ("max_participants", "2"),
        ("egress", r#"{"room":{"file_outputs":[]}}"#),
        ("empty_timeout", "30"),
        ("metadata", r#""m""#),
        ("name", r#""other""#),
        ("sync_streams", "true"),
        ("tags", r#"{"k":"v"}"#),
        ("departure_timeout", "30"),
        ("min_playout_delay", "100"),
        ("max_playout_delay", "100"),
    ] {
        let body = format!(
            r#"{{"room_config":{{"agents":[{{"agent_name":"helper"}}],"{part}":{value}}}}}"#
        );
        let (status, json) = post(endpoint(), &body).await;
        assert_eq!(
            refused_fields(status, &json),
            [format!("room_config.{part}").as_str()],
            "{body}"
        );
    }
    // Unset, as proto3 reads it: zero, empty, false, {} and [] set nothing.
    for unset in [
        r#"{"room_config":{}}"#,
        r#"{"room_config":null,"participant_attributes":{}}"#,
        r#"{"room_config":{"max_participants":0,"metadata":"","sync_streams":false,"egress":{},"agents":[],"tags":{}}}"#,
        r#"{"participant_metadata":"","participant_identity":"","room_name":""}"#,
    ] {
        let (status, json) = post(endpoint(), unset).await;
        assert_eq!(status, StatusCode::CREATED, "{unset}: {json}");
        assert!(claims_of(&json).room_config().is_none(), "{unset}");
    }
}

#[tokio::test]
async fn an_identity_or_room_other_than_asked_is_refused() {
    let own_choice = |_: http::request::Parts, request: TokenRequest| async move {
        Ok(TokenApproval::from_request(&request, "user-42")
            .with_video_grant(VideoGrant::join("lobby"))
            .with_name("Policy Name"))
    };
    let endpoint = || TokenEndpoint::new(&verifier(), KEY, "ws://x", own_choice).expect("ok");
    let (status, json) = post(
        endpoint(),
        r#"{"participant_identity":"alice","room_name":"vip","participant_name":"Al"}"#,
    )
    .await;
    assert_eq!(
        refused_fields(status, &json),
        ["room_name", "participant_identity", "participant_name"]
    );
    // Asking for what the policy gives anyway is no conflict.
    let (status, _) = post(
        endpoint(),
        r#"{"participant_identity":"user-42","room_name":"lobby"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post(endpoint(), "{}").await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn each_accept_puts_exactly_its_field_into_the_token() {
    let policy = |_: http::request::Parts, request: TokenRequest| async move {
        Ok(TokenApproval::from_request(&request, "u1")
            .with_video_grant(VideoGrant::join("support"))
            .accept_metadata()
            .accept_attributes()
            .accept_agent_dispatch())
    };
    let endpoint = TokenEndpoint::new(&verifier(), KEY, "ws://x", policy).expect("endpoint");
    let without_max = FULL_REQUEST.replace(r#""max_participants":2,"#, "");
    let (status, json) = post(endpoint, &without_max).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    let claims = claims_of(&json);
    assert_eq!(claims.metadata(), r#"{"a":1}"#);
    assert_eq!(claims.attributes().get("role"), Some("admin"));
    let config = claims.room_config().expect("roomConfig");
    assert_eq!(config.agents[0].agent_name.as_deref(), Some("helper"));
    assert_eq!(config.agents[0].metadata.as_deref(), Some("m"));
    assert_eq!(config.max_participants, None);
    // roomConfig is written in camelCase, as the server reads it.
    let payload = json["participant_token"]
        .as_str()
        .expect("token")
        .split('.')
        .nth(1)
        .expect("payload");
    let payload =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .expect("b64");
    let text = String::from_utf8(payload).expect("utf8");
    assert!(
        text.contains(r#""roomConfig":{"agents":[{"agentName":"helper""#),
        "{text}"
    );

    let whole = |_: http::request::Parts, request: TokenRequest| async move {
        Ok(TokenApproval::from_request(&request, "u1")
            .with_video_grant(VideoGrant::join("support"))
            .accept_metadata()
            .accept_attributes()
            .accept_room_config())
    };
    let endpoint = TokenEndpoint::new(&verifier(), KEY, "ws://x", whole).expect("endpoint");
    let (status, json) = post(endpoint, FULL_REQUEST).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    assert_eq!(
        claims_of(&json)
            .room_config()
            .expect("roomConfig")
            .max_participants,
        Some(2)
    );
}

#[tokio::test]
async fn empty_request_uses_the_policys_defaults_and_is_never_cached() {
    let response = endpoint()
        .oneshot(json_request("{}"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let claims = claims_of(&serde_json::from_slice(&bytes).expect("JSON"));
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
    ] {
        let (got, json) = post(endpoint(), body).await;
        assert_eq!(got, status, "{body}: {json}");
        assert!(json["error"].is_string() && json["message"].is_string());
    }
    // Found by the `endpoint` fuzz target (tests/regressions/endpoint-invalid-utf8-in-unknown-
    // field): invalid UTF-8 in a field the request does not read is still not JSON.
    for body in [
        &b"{\"x\":\"\xff\"}"[..],
        b"{\"room_config\":{\"x\":\"\xc3\"}}",
    ] {
        let request = Request::post("/token")
            .header(CONTENT_TYPE, "application/json")
            .body(FullBody::from(body.to_vec()))
            .expect("request");
        let (status, json) = send(endpoint(), request).await;
        assert_eq!(
            (status, json["message"].as_str()),
            (
                StatusCode::BAD_REQUEST,
                Some("the request is not a valid token request: not valid JSON")
            )
        );
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
async fn egress_is_refused_unless_the_policy_allows_it() {
    let body = r#"{"room_config":{"egress":{"room":{"file_outputs":[]}}}}"#;
    let accepting = |allow: bool| {
        move |_: http::request::Parts, request: TokenRequest| async move {
            let grant = TokenApproval::from_request(&request, "recorder").accept_room_config();
            Ok(if allow { grant.allow_egress() } else { grant })
        }
    };
    let untrusted =
        TokenEndpoint::new(&verifier(), KEY, "ws://x", accepting(false)).expect("endpoint");
    let (status, json) = post(untrusted, body).await;
    assert_eq!(refused_fields(status, &json), ["room_config.egress"]);
    let trusted =
        TokenEndpoint::new(&verifier(), KEY, "ws://x", accepting(true)).expect("endpoint");
    assert_eq!(post(trusted, body).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn only_json_is_accepted_so_no_cors_posts_are_refused() {
    let get = Request::get("/token")
        .body(FullBody::default())
        .expect("request");
    let response = endpoint().oneshot(get).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[ALLOW], "POST");
    let with_type = |content_type: Option<HeaderValue>| {
        let mut request = Request::post("/token")
            .body(FullBody::from("{}"))
            .expect("request");
        if let Some(value) = content_type {
            request.headers_mut().insert(CONTENT_TYPE, value);
        }
        request
    };
    for refused in [
        None,
        Some(HeaderValue::from_static("text/plain")),
        Some(HeaderValue::from_static(
            "application/x-www-form-urlencoded",
        )),
        Some(HeaderValue::from_static("multipart/form-data")),
        Some(HeaderValue::from_bytes(b"application/json\xe9").expect("obs-text")),
    ] {
        let (status, json) = send(endpoint(), with_type(refused.clone())).await;
        assert_eq!(
            (status, json["error"].as_str()),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Some("unsupported_media_type")
            ),
            "{refused:?}"
        );
    }
    for accepted in [
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.app+json",
    ] {
        let (status, _) = send(
            endpoint(),
            with_type(Some(HeaderValue::from_static(accepted))),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{accepted}");
    }
}

/// A body that records whether anyone polled it.
struct WatchedBody(std::sync::Arc<AtomicBool>, Option<Bytes>);

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        self.0.store(true, Ordering::SeqCst);
        Poll::Ready(self.1.take().map(|b| Ok(http_body::Frame::data(b))))
    }
}

#[tokio::test]
async fn the_head_check_and_a_declared_length_refuse_before_the_body_is_read() {
    let checked = || {
        endpoint().with_head_check(|head| match head.headers.get("x-session") {
            Some(_) => Ok(()),
            None => Err(TokenRefusal::unauthorized("log in first")),
        })
    };
    let request = |session: bool, length: &str| {
        let polled = std::sync::Arc::new(AtomicBool::new(false));
        let body = WatchedBody(polled.clone(), Some(Bytes::from_static(b"{}")));
        let mut builder = Request::post("/token")
            .header(CONTENT_TYPE, "application/json")
            .header(http::header::CONTENT_LENGTH, length);
        if session {
            builder = builder.header("x-session", "1");
        }
        (builder.body(body).expect("request"), polled)
    };
    let (anonymous, polled) = request(false, "2");
    let (status, json) = send(checked(), anonymous).await;
    assert_eq!(
        (status, json["message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("log in first"))
    );
    assert!(
        !polled.load(Ordering::SeqCst),
        "refused by the head check, body unread"
    );
    let (huge, polled) = request(true, "1000000000");
    let (status, _) = send(checked(), huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        !polled.load(Ordering::SeqCst),
        "refused by Content-Length, body unread"
    );
    let (fine, polled) = request(true, "2");
    assert_eq!(send(checked(), fine).await.0, StatusCode::CREATED);
    assert!(polled.load(Ordering::SeqCst));
}

#[tokio::test]
async fn the_endpoint_follows_key_rotation() {
    let verifier = verifier();
    let endpoint = TokenEndpoint::new(&verifier, KEY, "ws://x", strict_policy).expect("endpoint");
    let rotated = "anothersecretencodedinbase62extendto32bytes";
    verifier.rotate(KeyRing::new().with_key(KEY, rotated).expect("key"));
    let (status, json) = post(endpoint.clone(), "{}").await;
    assert_eq!(status, StatusCode::CREATED);
    let token = json["participant_token"].as_str().expect("token");
    assert!(verifier.verify(token).is_ok(), "signed with the new secret");
    // The key removed: the endpoint cannot sign, and says so without internals.
    verifier.rotate(KeyRing::new().with_key("APIother", rotated).expect("key"));
    let (status, json) = post(endpoint, "{}").await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
    assert!(!json.to_string().contains(KEY));
}

#[tokio::test]
async fn the_endpoint_never_mints_a_token_its_verifier_refuses() {
    let policy = |_: http::request::Parts, request: TokenRequest| async move {
        Ok(TokenApproval::from_request(&request, "u")
            .accept_metadata()
            .accept_attributes())
    };
    let small =
        Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key")).with_max_token_len(1024);
    let endpoint = TokenEndpoint::new(&small, KEY, "ws://x", policy).expect("endpoint");
    let (status, json) = post(
        endpoint.clone(),
        &format!(r#"{{"participant_metadata":"{}"}}"#, "x".repeat(700)),
    )
    .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("token_too_long"))
    );
    assert!(json["message"]
        .as_str()
        .expect("message")
        .contains("participant_metadata"));
    let (status, json) = post(endpoint, r#"{"participant_metadata":"short"}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(small
        .verify(json["participant_token"].as_str().expect("token"))
        .is_ok());
}

#[tokio::test]
async fn a_grant_that_cannot_be_minted_never_shows_the_mint_error() {
    let policy = |_: http::request::Parts, request: TokenRequest| async move {
        let room = request.room_name.clone().unwrap_or_default();
        let grant =
            TokenApproval::from_request(&request, "u").with_video_grant(VideoGrant::join(room));
        Ok(if request.participant_name.is_some() {
            grant.with_ttl(Duration::MAX)
        } else {
            grant
        })
    };
    let endpoint = TokenEndpoint::new(&verifier(), KEY, "ws://x", policy).expect("endpoint");
    // The request's empty room passed through: the client is told which field to send.
    let (status, json) = post(endpoint.clone(), "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json["message"]
        .as_str()
        .expect("message")
        .contains("room_name"));
    // The policy's own mistake: a 500 that says nothing of it.
    let (status, json) = post(endpoint, r#"{"room_name":"r","participant_name":"n"}"#).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("internal_error"))
    );
    let text = json.to_string();
    let internal = MintError::new(MintErrorKind::TtlTooLong).to_string();
    assert!(!text.contains(&internal) && !text.contains("TTL"), "{text}");
}

#[test]
fn unknown_api_key_is_refused_at_construction() {
    let err =
        TokenEndpoint::new(&verifier(), "nope", "ws://x", strict_policy).expect_err("unknown key");
    assert_eq!(err.kind(), MintErrorKind::UnknownKey);
}
