//! No public type's `Debug` or `Display`, nor any error path, shows a secret or a token.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Request, Response};
use tower::{service_fn, Layer, ServiceExt};
use tower_livekit_auth::endpoint::{TokenApproval, TokenEndpoint, TokenRequest};
use tower_livekit_auth::middleware::AuthRejection;
use tower_livekit_auth::webhook::{body_sha256, WebhookVerifier};
use tower_livekit_auth::{AccessToken, AuthLayer, KeyRing, Verifier, VideoGrant};

const KEY: &str = "APIsecretscheck";
const SECRET: &str = "NeverShowThisSecret0123456789abcdefghijklm";

/// Fails if `text` contains the secret or any long piece of `token`.
fn assert_clean(what: &str, text: &str, token: &str) {
    support::assert_no_leak(what, text, token, &[SECRET, "NeverShow"]);
}

fn keys() -> KeyRing {
    KeyRing::new().with_key(KEY, SECRET).expect("key")
}

fn tokens() -> Vec<String> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let good = AccessToken::new(KEY, SECRET)
        .with_identity("a")
        .with_video_grant(VideoGrant::join("r"));
    let valid = good.to_jwt_at(now).expect("mints");
    vec![
        valid.clone(),
        format!("{}x", &valid[..valid.len() - 1]),
        good.clone()
            .with_ttl(Duration::from_secs(1))
            .to_jwt_at(now - Duration::from_secs(3600))
            .expect("mints"),
        AccessToken::new("APIunknownkey", SECRET)
            .to_jwt_at(now)
            .expect("mints"),
        AccessToken::new(KEY, "a-different-secret-of-enough-length-123456")
            .to_jwt_at(now)
            .expect("mints"),
        valid.replace('.', ".."),
        valid.chars().rev().collect(),
        "x".repeat(20_000),
    ]
}

#[test]
fn key_ring_verifier_and_builder_debug_hide_the_secret() {
    let token = AccessToken::new(KEY, SECRET).with_identity("a");
    for (what, text) in [
        ("KeyRing", format!("{:?}", keys())),
        (
            "Verifier",
            format!("{:?}", Verifier::new(keys()).with_cache(10, 1 << 20)),
        ),
        ("AccessToken", format!("{token:?}")),
        (
            "AuthLayer",
            format!("{:?}", AuthLayer::new(Verifier::new(keys()))),
        ),
    ] {
        assert_clean(what, &text, "");
    }
}

#[test]
fn key_errors_never_show_the_secret() {
    let weak = KeyRing::from_yaml("APIk: NeverShowShort").expect_err("weak");
    let dup = KeyRing::from_yaml(&format!("APIk: {SECRET}\nAPIk: {SECRET}\n")).expect_err("dup");
    let yaml = KeyRing::from_yaml(&format!("- {SECRET}")).expect_err("yaml");
    let empty_key = KeyRing::new().with_key("", SECRET).expect_err("empty key");
    for err in [weak, dup, yaml, empty_key] {
        assert_clean("KeyError", &format!("{err} {err:?}"), "");
    }
}

#[test]
fn verify_errors_and_claims_never_show_the_token_or_secret() {
    let verifier = Verifier::new(keys());
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_100);
    for token in tokens() {
        match verifier.verify_at(&token, now) {
            Ok(claims) => assert_clean("Claims", &format!("{claims:?}"), &token),
            Err(err) => assert_clean("VerifyError", &format!("{err} {err:?}"), &token),
        }
    }
}

#[tokio::test]
async fn rejections_responses_never_show_the_token_or_secret() {
    let layer = AuthLayer::new(
        Verifier::new(keys()).with_clock(|| UNIX_EPOCH + Duration::from_secs(1_700_000_100)),
    );
    for token in tokens() {
        for value in [
            format!("Bearer {token}"),
            token.clone(),
            format!("Basic {token}"),
        ] {
            let Ok(value) = HeaderValue::from_str(&value) else {
                continue;
            };
            let request = Request::builder()
                .header("authorization", value)
                .body(String::new())
                .expect("request");
            let service = layer.layer(service_fn(|_: Request<String>| async {
                Ok::<_, std::convert::Infallible>(Response::new(String::new()))
            }));
            let response = service.oneshot(request).await.expect("infallible");
            let mut text = format!("{:?} {}", response.headers(), response.body());
            if let Some(rejection) = response.extensions().get::<AuthRejection>() {
                text.push_str(&format!(" {rejection} {rejection:?}"));
            }
            assert_clean("rejection", &text, &token);
        }
    }
}

#[test]
fn webhook_errors_never_show_the_token_or_body() {
    let webhooks = WebhookVerifier::new(Verifier::new(keys()));
    let body = br#"{"event":"room_started","secretish":"NeverShowBody"}"#;
    for token in tokens() {
        let signed = AccessToken::new(KEY, SECRET)
            .with_sha256(body_sha256(b"other"))
            .to_jwt()
            .expect("mints");
        for value in [token.clone(), signed.clone()] {
            let mut headers = HeaderMap::new();
            let Ok(value) = HeaderValue::from_str(&value) else {
                continue;
            };
            headers.insert("authorization", value);
            // None of them is a valid webhook (`signed` hashes another body), so every one
            // must be refused; an acceptance would skip the checks below.
            let err = webhooks
                .verify(&headers, body)
                .expect_err("every case is refused");
            let text = format!("{err} {err:?}");
            assert_clean("WebhookError", &text, &token);
            assert_clean("WebhookError", &text, &signed);
            assert!(!text.contains("NeverShowBody"));
        }
    }
}

#[test]
fn token_endpoint_debug_hides_the_secret() {
    let policy = |_: http::request::Parts, r: TokenRequest| async move {
        Ok(TokenApproval::from_request(&r, "x"))
    };
    let endpoint = TokenEndpoint::new(&Verifier::new(keys()), KEY, "ws://127.0.0.1", policy)
        .expect("endpoint");
    assert_clean("TokenEndpoint", &format!("{endpoint:?}"), "");
    let err = TokenEndpoint::new(&Verifier::new(keys()), "APInope", "ws://x", policy)
        .expect_err("unknown key");
    assert_clean("MintError", &format!("{err} {err:?}"), "");
}
