//! Envoy's gRPC `ext_authz` through `envoy-types`' generated tonic client: the same decisions as
//! the HTTP checks, OK with the identity headers (set, replacing the client's), denied with the
//! same status, `WWW-Authenticate` and body; the `Check` call itself never fails.

use std::collections::HashMap;

use envoy_types::ext_authz::v3::pb::{
    CheckRequest, CheckResponse, HeaderAppendAction, HttpResponse,
};
use envoy_types::pb::envoy::config::core::v3::{HeaderMap, HeaderValue};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use serde_json::json;

use crate::harness::{admin, expired, forged, grantless, joiner, send, GateServer, Style};

fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> CheckRequest {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(Request {
                http: Some(HttpRequest {
                    method: method.into(),
                    path: path.into(),
                    host: "livekit.example.com".into(),
                    headers,
                    ..HttpRequest::default()
                }),
                ..Request::default()
            }),
            ..AttributeContext::default()
        }),
    }
}

async fn check(gate: &GateServer, request: CheckRequest) -> CheckResponse {
    let mut client = AuthorizationClient::connect(gate.grpc.clone())
        .await
        .expect("connects");
    client
        .check(request)
        .await
        .expect("Check never fails")
        .into_inner()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_good_token_is_ok_with_the_identity_headers_set_over_the_clients() {
    let gate = GateServer::livekit().await;
    let alice = joiner("alice", "r1");
    let answer = check(
        &gate,
        request(
            "GET",
            "/rtc/validate",
            &[("authorization", &bearer(&alice))],
        ),
    )
    .await;
    assert_eq!(answer.status.as_ref().map(|s| s.code), Some(0));
    let Some(HttpResponse::OkResponse(ok)) = answer.http_response else {
        panic!("an ok_response: {answer:?}");
    };
    let headers: HashMap<_, _> = ok
        .headers
        .iter()
        .map(|option| {
            assert_eq!(
                option.append_action,
                HeaderAppendAction::OverwriteIfExistsOrAdd as i32
            );
            let header = option.header.as_ref().expect("header");
            (header.key.as_str(), header.value.as_str())
        })
        .collect();
    assert_eq!(headers["x-livekit-identity"], "alice");
    assert_eq!(headers["x-livekit-room"], "r1");
    // The same headers the HTTP check gives.
    let http = gate
        .check(Style::Envoy, "GET", "/rtc/validate", Some(&alice))
        .await;
    assert_eq!(
        Some(headers["x-livekit-claims"]),
        http.header("x-livekit-claims")
    );
    // The query token, where the route reads it; Envoy's raw header map too.
    let answer = check(
        &gate,
        request("GET", &format!("/rtc?access_token={alice}"), &[]),
    )
    .await;
    assert_eq!(answer.status.map(|s| s.code), Some(0));
    let mut raw = request("POST", "/twirp/livekit.RoomService/ListParticipants", &[]);
    if let Some(http) = raw
        .attributes
        .as_mut()
        .and_then(|a| a.request.as_mut())
        .and_then(|r| r.http.as_mut())
    {
        http.header_map = Some(HeaderMap {
            headers: vec![HeaderValue {
                key: "Authorization".into(),
                value: String::new(),
                raw_value: bearer(&admin("r1")).into_bytes(),
            }],
        });
    }
    assert_eq!(check(&gate, raw).await.status.map(|s| s.code), Some(0));
    // A public route passed without a token removes the identity headers instead.
    let answer = check(&gate, request("GET", "/", &[])).await;
    let Some(HttpResponse::OkResponse(ok)) = answer.http_response else {
        panic!("an ok_response: {answer:?}");
    };
    assert!(ok.headers.is_empty());
    assert_eq!(
        ok.headers_to_remove,
        ["x-livekit-identity", "x-livekit-room", "x-livekit-claims"]
    );
}

#[tokio::test]
async fn refusals_carry_the_http_checks_status_challenge_and_body() {
    let gate = GateServer::livekit().await;
    let good = joiner("alice", "r1");
    let cases = [
        (None, 16, 401),
        (Some(forged(&good)), 16, 401),
        (Some(expired("alice", "r1")), 16, 401),
        (Some(grantless("alice")), 7, 403),
        (Some(String::from("not a token")), 3, 400),
    ];
    for (token, code, status) in cases {
        let headers: Vec<(&str, String)> = token
            .iter()
            .map(|token| ("authorization", bearer(token)))
            .collect();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = check(&gate, request("GET", "/rtc", &headers)).await;
        let rpc = answer.status.expect("a status");
        assert_eq!(rpc.code, code, "{token:?}: {}", rpc.message);
        let Some(HttpResponse::DeniedResponse(denied)) = answer.http_response else {
            panic!("a denied_response");
        };
        assert_eq!(denied.status.map(|s| s.code), Some(status));
        let http = gate
            .check(Style::Envoy, "GET", "/rtc", token.as_deref())
            .await;
        assert_eq!(denied.body, http.body, "{token:?}");
        assert_eq!(rpc.message, http.body.trim_end());
        let challenge = denied
            .headers
            .iter()
            .filter_map(|option| option.header.as_ref())
            .find(|header| header.key == "www-authenticate")
            .map(|header| header.value.as_str());
        assert_eq!(challenge, http.header("www-authenticate"), "{token:?}");
    }
}

#[tokio::test]
async fn a_removed_participant_is_denied_over_grpc_at_once() {
    let gate = GateServer::livekit().await;
    let bob = joiner("bob", "stage");
    let ask = || request("GET", "/rtc/v1", &[]);
    let mut with_token = ask();
    if let Some(http) = with_token
        .attributes
        .as_mut()
        .and_then(|a| a.request.as_mut())
        .and_then(|r| r.http.as_mut())
    {
        http.headers.insert("authorization".into(), bearer(&bob));
    }
    assert_eq!(
        check(&gate, with_token.clone())
            .await
            .status
            .map(|s| s.code),
        Some(0)
    );
    let removed = send(
        gate.http
            .post(format!(
                "{}/twirp/livekit.RoomService/RemoveParticipant",
                gate.base
            ))
            .bearer_auth(admin("stage"))
            .json(&json!({"room": "stage", "identity": "bob"})),
    )
    .await;
    assert_eq!(removed.status.as_u16(), 200);
    let answer = check(&gate, with_token).await;
    let rpc = answer.status.expect("a status");
    assert_eq!(rpc.code, 16, "{}", rpc.message);
    assert!(rpc.message.contains("revoked"), "{}", rpc.message);
}

#[tokio::test]
async fn a_check_without_the_http_attributes_is_denied_not_failed() {
    let gate = GateServer::livekit().await;
    for request in [
        CheckRequest::default(),
        request("", "/rtc", &[]),
        request("GET", "", &[]),
        request("GET", "rtc", &[]),
        request("G ET", "/rtc", &[]),
        request("GET", "/a/../rtc", &[]),
    ] {
        let answer = check(&gate, request).await;
        let rpc = answer.status.expect("a status");
        assert_eq!(rpc.code, 3, "{}", rpc.message);
        let Some(HttpResponse::DeniedResponse(denied)) = answer.http_response else {
            panic!("a denied_response");
        };
        assert_eq!(denied.status.map(|s| s.code), Some(400));
    }
}
