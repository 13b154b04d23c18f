//! Webhook verification, against the fixtures signed by the official Node SDK and by hand.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use tower_layer::Layer;

use super::*;
use crate::body::FullBody;
use crate::{AccessToken, KeyRing, Verifier};

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";
const BODY: &[u8] = br#"{"event":"room_started"}"#;

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(Verifier::new(
        KeyRing::new().with_key(KEY, SECRET).expect("key"),
    ))
}

fn signed(body: &[u8]) -> HeaderMap {
    let token = AccessToken::new(KEY, SECRET)
        .with_sha256(body_sha256(body))
        .to_jwt()
        .expect("mints");
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&token).expect("ascii"));
    headers
}

#[test]
fn body_sha256_is_the_base64_of_the_bodys_sha256() {
    assert_eq!(
        body_sha256(BODY),
        "w9NV0uLHjSON8P7eonnkKXDHY4ICORefbHDCviKIgX8="
    );
}

#[test]
fn signed_body_is_accepted_raw_or_with_bearer() {
    let headers = signed(BODY);
    assert!(verifier().verify(&headers, BODY).is_ok());
    let mut bearer = HeaderMap::new();
    let raw = headers[AUTHORIZATION].to_str().expect("ascii");
    bearer.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {raw}")).expect("ascii"),
    );
    assert!(verifier().verify(&bearer, BODY).is_ok());
}

#[test]
fn changed_body_missing_header_and_missing_hash_are_refused() {
    let headers = signed(BODY);
    let mut changed = BODY.to_vec();
    changed[3] ^= 1;
    assert_eq!(
        verifier()
            .verify(&headers, &changed)
            .map_err(|e| e.kind())
            .err(),
        Some(WebhookErrorKind::BodyHashMismatch)
    );
    assert_eq!(
        verifier()
            .verify(&HeaderMap::new(), BODY)
            .map_err(|e| e.kind())
            .err(),
        Some(WebhookErrorKind::MissingToken)
    );
    let plain = AccessToken::new(KEY, SECRET).to_jwt().expect("mints");
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&plain).expect("ascii"));
    assert_eq!(
        verifier()
            .verify(&headers, BODY)
            .map_err(|e| e.kind())
            .err(),
        Some(WebhookErrorKind::MissingBodyHash)
    );
    let big = vec![b' '; 100];
    assert_eq!(
        verifier()
            .with_body_limit(99)
            .verify(&signed(&big), &big)
            .map_err(|e| e.kind())
            .err(),
        Some(WebhookErrorKind::BodyTooLarge)
    );
}

#[test]
fn expired_webhook_token_is_refused_with_the_reason() {
    let token = AccessToken::new(KEY, SECRET)
        .with_sha256(body_sha256(BODY))
        .with_ttl(Duration::from_secs(60))
        .to_jwt_at(UNIX_EPOCH + Duration::from_secs(1_000_000))
        .expect("mints");
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&token).expect("ascii"));
    let err = verifier().verify(&headers, BODY).expect_err("expired");
    assert_eq!(err.kind(), WebhookErrorKind::InvalidToken);
    assert_eq!(
        err.verify_error().map(|e| e.kind()),
        Some(crate::VerifyErrorKind::Expired)
    );
    assert!(!err.to_string().contains(&token));
}

#[test]
fn authorization_headers_that_hold_no_token_are_missing_and_others_invalid() {
    let kind = |values: &[&[u8]]| {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                AUTHORIZATION,
                HeaderValue::from_bytes(value).expect("header value"),
            );
        }
        verifier()
            .verify(&headers, BODY)
            .map_err(|e| e.kind())
            .err()
    };
    let signed = signed(BODY);
    let token = signed[AUTHORIZATION].as_bytes();
    assert_eq!(kind(&[token, token]), Some(WebhookErrorKind::MissingToken));
    assert_eq!(kind(&[b"Bearer "]), Some(WebhookErrorKind::MissingToken));
    assert_eq!(kind(&[b"bearer"]), Some(WebhookErrorKind::MissingToken));
    assert_eq!(kind(&[b"Basic abc"]), Some(WebhookErrorKind::InvalidToken));
    assert_eq!(kind(&[b"\xc3\xa9"]), Some(WebhookErrorKind::InvalidToken));
    let prefixed = [b"BEARER  ".as_slice(), token].concat();
    assert_eq!(kind(&[&prefixed]), None);
}

/// `request` through `layer` in front of a handler that answers the event's name: the status,
/// the body, and the refusal's kind if any.
async fn send<B>(
    layer: &WebhookLayer,
    request: Request<B>,
) -> (StatusCode, String, Option<WebhookErrorKind>)
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use tower::ServiceExt;
    let handler = tower::service_fn(|request: Request<FullBody>| async move {
        let event = request.extensions().get::<WebhookEvent>();
        let name = event.map(|e| e.name().to_owned()).unwrap_or_default();
        Ok::<_, std::convert::Infallible>(Response::new(name))
    });
    let response = layer
        .layer(handler)
        .oneshot(request)
        .await
        .expect("infallible");
    let refusal = response
        .extensions()
        .get::<WebhookError>()
        .map(|e| e.kind());
    (response.status(), response.into_body(), refusal)
}

#[tokio::test]
async fn the_layer_hands_on_verified_events_and_holds_its_body_limit() {
    use http_body_util::Full;

    let layer = WebhookLayer::new(Verifier::new(
        KeyRing::new().with_key(KEY, SECRET).expect("key"),
    ));
    let request = |body: &[u8]| {
        let mut request = Request::new(Full::new(Bytes::copy_from_slice(body)));
        *request.headers_mut() = signed(body);
        request
    };
    let accepted = (StatusCode::OK, "room_started".to_owned(), None);
    assert_eq!(send(&layer, request(BODY)).await, accepted);

    // The limit set on the layer reaches the services it builds, and only those of that layer.
    let limited = layer.clone().with_body_limit(BODY.len() - 1);
    assert_eq!(
        send(&limited, request(BODY)).await,
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            String::new(),
            Some(WebhookErrorKind::BodyTooLarge)
        )
    );
    assert_eq!(send(&layer, request(BODY)).await, accepted);

    let mut forged = request(BODY);
    *forged.body_mut() = Full::new(Bytes::from_static(br#"{"event":"room_finished"}"#));
    assert_eq!(
        send(&layer, forged).await,
        (
            StatusCode::UNAUTHORIZED,
            String::new(),
            Some(WebhookErrorKind::BodyHashMismatch)
        )
    );
}

/// A body that records whether anyone polled it.
struct WatchedBody {
    polled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    data: Option<Bytes>,
}

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.polled.store(true, std::sync::atomic::Ordering::SeqCst);
        Poll::Ready(self.data.take().map(|b| Ok(http_body::Frame::data(b))))
    }
}

#[tokio::test]
async fn the_layer_reads_no_body_before_the_token_verifies_nor_past_a_declared_length() {
    let layer = WebhookLayer::new(Verifier::new(
        KeyRing::new().with_key(KEY, SECRET).expect("key"),
    ))
    .with_body_limit(1024);
    let watched = |headers: HeaderMap, content_length: Option<&str>| {
        let polled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let body = WatchedBody {
            polled: polled.clone(),
            data: Some(Bytes::from_static(BODY)),
        };
        let mut request = Request::new(body);
        *request.headers_mut() = headers;
        if let Some(len) = content_length {
            request.headers_mut().insert(
                http::header::CONTENT_LENGTH,
                HeaderValue::from_str(len).expect("len"),
            );
        }
        (request, polled)
    };
    // No token, a forged one, one without sha256: refused before a byte is read.
    let forged = {
        let mut headers = signed(BODY);
        let token = headers[AUTHORIZATION].to_str().expect("ascii").to_owned();
        // Another last signature character (both keep the unused low bits zero).
        let last = if token.ends_with('A') { 'E' } else { 'A' };
        let tampered = format!("{}{last}", &token[..token.len() - 1]);
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&tampered).expect("ascii"),
        );
        headers
    };
    let no_hash = {
        let token = AccessToken::new(KEY, SECRET).to_jwt().expect("mints");
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(&token).expect("ascii"));
        headers
    };
    for (headers, kind) in [
        (HeaderMap::new(), WebhookErrorKind::MissingToken),
        (forged, WebhookErrorKind::InvalidToken),
        (no_hash, WebhookErrorKind::MissingBodyHash),
    ] {
        let (request, polled) = watched(headers, Some("1000000000"));
        let (status, _, refusal) = send(&layer, request).await;
        assert_eq!((status, refusal), (StatusCode::UNAUTHORIZED, Some(kind)));
        assert!(
            !polled.load(std::sync::atomic::Ordering::SeqCst),
            "{kind:?}: body read"
        );
    }
    // A good token with a declared length over the limit: 413, still unread.
    let (request, polled) = watched(signed(BODY), Some("1025"));
    let (status, _, refusal) = send(&layer, request).await;
    assert_eq!(
        (status, refusal),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(WebhookErrorKind::BodyTooLarge)
        )
    );
    assert!(!polled.load(std::sync::atomic::Ordering::SeqCst));
    // Within the limit (declared or not), it is read and accepted.
    for declared in [Some("24"), None] {
        let (request, polled) = watched(signed(BODY), declared);
        let (status, name, _) = send(&layer, request).await;
        assert_eq!((status, name.as_str()), (StatusCode::OK, "room_started"));
        assert!(polled.load(std::sync::atomic::Ordering::SeqCst));
    }
}
