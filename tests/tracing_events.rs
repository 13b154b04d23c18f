//! Feature `tracing`: one `debug` event per refused request, with the reason and the API key when
//! the token was valid, never the token; nothing at `info`, so that a flood of bad tokens is no
//! flood of log lines.

#![cfg(feature = "tracing")]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use http::{Request, Response};
use tower::{service_fn, Layer, ServiceBuilder, ServiceExt};
use tower_livekit_auth::{AccessToken, AuthLayer, KeyRing, RequireLayer, Verifier, VideoGrant};

const KEY: &str = "APItracing01";
const SECRET: &str = "tracingSecret0123456789abcdefghijklmnopqrs";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends the four refused requests (missing, forged, malformed, lacking a grant) and returns
/// what a subscriber at `level` printed, with the two tokens it used.
async fn refusals_logged_at(level: tracing::Level) -> (String, [String; 2]) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(level)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"));
    let ok = |_: Request<String>| async {
        Ok::<_, std::convert::Infallible>(Response::new(String::new()))
    };
    // The right API key, another secret: a complete token with a bad signature.
    let forged = AccessToken::new(KEY, "anotherSecretOfTheSameLength0123456789abcd")
        .with_identity("mallory")
        .to_jwt()
        .expect("mints");
    let viewer = AccessToken::new(KEY, SECRET)
        .with_identity("v")
        .with_video_grant(VideoGrant::join("r"))
        .to_jwt()
        .expect("mints");

    let auth_only = AuthLayer::new(verifier.clone()).layer(service_fn(ok));
    for value in [
        None,
        Some(format!("Bearer {forged}")),
        Some("Basic abc".to_owned()),
    ] {
        let mut request = Request::builder();
        if let Some(value) = value {
            request = request.header("authorization", value);
        }
        auth_only
            .clone()
            .oneshot(request.body(String::new()).expect("request"))
            .await
            .expect("infallible");
    }
    let guarded = ServiceBuilder::new()
        .layer(AuthLayer::new(verifier))
        .layer(RequireLayer::create_rooms())
        .service(service_fn(ok));
    let request = Request::builder()
        .header("authorization", format!("Bearer {viewer}"))
        .body(String::new())
        .expect("request");
    guarded.oneshot(request).await.expect("infallible");
    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    (text, [forged, viewer])
}

#[tokio::test]
async fn refusals_are_not_logged_at_info() {
    let (text, _) = refusals_logged_at(tracing::Level::INFO).await;
    assert!(!text.contains("LiveKit token refused"), "{text}");
}

#[tokio::test]
async fn each_rejection_emits_one_debug_event_without_the_token() {
    let (text, tokens) = refusals_logged_at(tracing::Level::DEBUG).await;
    let events: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("LiveKit token refused"))
        .collect();
    assert_eq!(events.len(), 4, "{text}");
    assert!(events[0].contains("MissingToken"), "{}", events[0]);
    assert!(
        events[1].contains("reason=\"invalid_signature\""),
        "{}",
        events[1]
    );
    // The API key is logged only once the token verified: never from an unverified `iss`.
    for event in &events[..3] {
        assert!(!event.contains(KEY), "{event}");
    }
    assert!(events[2].contains("MalformedRequest"), "{}", events[2]);
    assert!(
        events[3].contains("InsufficientScope")
            && events[3].contains(KEY)
            && events[3].contains("roomCreate"),
        "{}",
        events[3]
    );
    assert!(events.iter().all(|e| e.contains("DEBUG")), "{text}");
    for token in &tokens {
        support::assert_no_leak("the log", &text, token, &[SECRET]);
    }
}

#[tokio::test]
async fn a_trace_layer_with_redacted_uris_logs_no_query_token() {
    use tower_http::trace::TraceLayer;
    use tower_livekit_auth::middleware::{RedactedUri, TokenLocation};

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"));
    let token = AccessToken::new(KEY, SECRET)
        .with_identity("w")
        .with_video_grant(VideoGrant::join("r"))
        .to_jwt()
        .expect("mints");
    let service = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<String>| {
                let uri = RedactedUri::new(request.uri());
                tracing::info_span!("request", %uri)
            }),
        )
        .layer(AuthLayer::new(verifier).with_token_location(TokenLocation::HeaderOrQuery))
        .service(service_fn(|_: Request<String>| async {
            tracing::info!("handled");
            Ok::<_, std::convert::Infallible>(Response::new(String::new()))
        }));
    let request = Request::get(format!("/rtc?room=r&access_token={token}"))
        .body(String::new())
        .expect("request");
    let response = service.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), http::StatusCode::OK);
    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    assert!(
        text.contains("handled") && text.contains("access_token=[redacted]"),
        "{text}"
    );
    support::assert_no_leak("the trace", &text, &token, &[SECRET]);
}
