//! Arbitrary webhook requests → `webhook::WebhookLayer` in front of a recording handler.
//!
//! Input: 3 control bytes, then "extra" bytes up to the first `\n` (a header value, another
//! body, a suffix: see the modes), then the body.
//!
//! | byte | bits | meaning |
//! |---|---|---|
//! | 0 | 0-3 | `Authorization`: 0-3 a token for the body; 4 a token for another body (the extra bytes); 5 a token without `sha256`; 6 signed with another secret; 7 an unknown key; 8 expired; 9 the extra bytes themselves (garbage, or a fixture's real token); 10 none; 11 two headers with a valid token each; 12 a token for the body with the extra bytes appended; 13 `Bearer ` and the extra bytes; 14 not yet valid; 15 the body's hash in hex instead of base64 |
//! | 0 | 4-6 | `Content-Length`: absent, right, one short, one over, `u64::MAX`, `12a`, limit + 1, 2^64 |
//! | 0 | 7 | a `Bearer ` prefix on the tokens the target mints (LiveKit sends none; it is tolerated) |
//! | 1 | | body limit: 0-127 the default 1 MiB, else 4 × (b - 128) bytes |
//! | 2 | | the body stream: bits 0-5 the chunk size (0: one frame), bit 6 fails after the data, bit 7 an exact size hint |
//!
//! Invariants (every input): no panic; statuses only 200 (the handler), 401, 413 and 400, each
//! refusal carrying its `WebhookError` with that status; the response is the one the target's
//! model predicts, in the layer's documented order (the token, the declared length, the read
//! within the limit, the hash, JSON). In particular the handler is reached only when the
//! target's own check of the token verifies, the body's SHA-256 (computed here with `sha2`) is
//! its `sha256` claim, the body is within the limit and is JSON, and then it gets exactly the
//! body, its event and the claims; the body is never polled when the token is refused or the
//! declared length is over the limit; no error text holds the secret or the token.
#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use tower_layer::Layer;
use tower_livekit_auth::body::FullBody;
use tower_livekit_auth::webhook::{WebhookError, WebhookErrorKind, WebhookEvent, WebhookLayer};
use tower_livekit_auth::{AccessToken, Claims, KeyRing, Verifier};
use tower_service::Service;

// The keys and the time of tests/fixtures/webhooks.json, so that the fixtures' real tokens
// (signed by the LiveKit server SDK) verify when a seed puts them in the header.
const KEY: &str = "APIfixture0001";
const SECRET: &str = "fixtureSecret0123456789abcdefghijklmnopqrst";
const KEY_2: &str = "APIfixture0002";
const SECRET_2: &str = "fixtureSecretTwo0123456789ABCDEFGHIJKLMNOPQ";
const WRONG_SECRET: &str = "notthefixturesecretbutlongenough0123456";
const NOW_SECONDS: u64 = 1_795_456_437;
const MAX_POLLS: usize = 64;

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("still pending after {MAX_POLLS} polls, with nothing to wait for");
}

/// A request body in memory that records being polled, sent in chunks, failing at the end if
/// asked to.
struct RecordingBody {
    data: Bytes,
    chunk: usize,
    fail: bool,
    exact_hint: bool,
    polled: Arc<AtomicBool>,
}

impl Body for RecordingBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.polled.store(true, Ordering::SeqCst);
        if !self.data.is_empty() {
            let n = match self.chunk {
                0 => self.data.len(),
                n => n.min(self.data.len()),
            };
            let frame = self.data.split_to(n);
            return Poll::Ready(Some(Ok(Frame::data(frame))));
        }
        if std::mem::take(&mut self.fail) {
            return Poll::Ready(Some(Err(io::Error::other("connection reset"))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty() && !self.fail
    }

    fn size_hint(&self) -> SizeHint {
        if self.exact_hint {
            SizeHint::with_exact(self.data.len() as u64)
        } else {
            SizeHint::default()
        }
    }
}

/// What the handler was given.
struct Reached {
    body: Bytes,
    event: Option<WebhookEvent>,
    claims: Option<Claims>,
}

#[derive(Clone)]
struct Handler(Arc<Mutex<Option<Reached>>>);

impl Service<Request<FullBody>> for Handler {
    type Response = Response<FullBody>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<FullBody>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<FullBody>) -> Self::Future {
        let (parts, body) = request.into_parts();
        *self.0.lock().expect("not poisoned") = Some(Reached {
            body: body.into_bytes(),
            event: parts.extensions.get::<WebhookEvent>().cloned(),
            claims: parts.extensions.get::<Claims>().cloned(),
        });
        std::future::ready(Ok(Response::new(FullBody::from("ok"))))
    }
}

fn sha256_base64(bytes: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(bytes))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The target's own reading of the webhook token (LiveKit sends the bare token in
/// `Authorization`; a `Bearer ` prefix is tolerated), verified with the layer's verifier, with a `sha256` claim.
fn accepted_token(headers: &HeaderMap, verifier: &Verifier) -> Option<Claims> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next()?.as_bytes();
    if values.next().is_some() {
        return None;
    }
    let token = match value.iter().position(|&b| b == b' ') {
        Some(space) if value[..space].eq_ignore_ascii_case(b"bearer") => {
            let rest = &value[space + 1..];
            &rest[rest.iter().take_while(|&&b| b == b' ').count()..]
        }
        _ => value,
    };
    let claims = verifier.verify(std::str::from_utf8(token).ok()?).ok()?;
    claims.sha256().is_some().then_some(claims)
}

fn is_token_material(segment: &str) -> bool {
    segment.len() > 20
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fuzz_target!(|data: &[u8]| {
    let Some((&[auth, limit, stream], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let extra = &rest[..end];
    let body = rest.get(end + 1..).unwrap_or_default();
    let mode = auth & 15;
    let bearer = auth & 128 != 0;
    let body_limit = (limit >= 128).then(|| 4 * usize::from(limit - 128));
    let limit = body_limit.unwrap_or(tower_livekit_auth::webhook::DEFAULT_WEBHOOK_BODY_LIMIT);

    let now = UNIX_EPOCH + Duration::from_secs(NOW_SECONDS);
    let ring = KeyRing::new()
        .with_key(KEY, SECRET)
        .and_then(|ring| ring.with_key(KEY_2, SECRET_2))
        .expect("strong secrets");
    let verifier = Verifier::new(ring).with_clock(move || now);

    let sign = |token: AccessToken, at: u64| -> Vec<u8> {
        let at = UNIX_EPOCH + Duration::from_secs(at);
        let jwt = token.to_jwt_at(at).expect("mintable");
        let prefix: &[u8] = if bearer { b"Bearer " } else { b"" };
        [prefix, jwt.as_bytes()].concat()
    };
    let for_body = |hash: String| AccessToken::new(KEY, SECRET).with_sha256(hash);
    let valid = || sign(for_body(sha256_base64(body)), NOW_SECONDS);
    let other_body = if extra == body {
        [extra, b"x"].concat()
    } else {
        extra.to_vec()
    };
    let values: Vec<Vec<u8>> = match mode {
        0..=3 => vec![valid()],
        4 => vec![sign(for_body(sha256_base64(&other_body)), NOW_SECONDS)],
        5 => vec![sign(AccessToken::new(KEY, SECRET), NOW_SECONDS)],
        6 => vec![sign(
            AccessToken::new(KEY, WRONG_SECRET).with_sha256(sha256_base64(body)),
            NOW_SECONDS,
        )],
        7 => vec![sign(
            AccessToken::new("APIunknown", SECRET).with_sha256(sha256_base64(body)),
            NOW_SECONDS,
        )],
        8 => vec![sign(
            for_body(sha256_base64(body)).with_ttl(Duration::from_secs(3600)),
            NOW_SECONDS - 2 * 86_400,
        )],
        9 => vec![extra.to_vec()],
        10 => vec![],
        11 => vec![valid(), valid()],
        12 => vec![[valid().as_slice(), extra].concat()],
        13 => vec![[b"Bearer ".as_slice(), extra].concat()],
        14 => vec![sign(for_body(sha256_base64(body)), NOW_SECONDS + 86_400)],
        _ => vec![sign(for_body(sha256_hex(body)), NOW_SECONDS)],
    };
    let mut request = Request::post("/webhook").header("content-type", "application/webhook+json");
    for value in &values {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            request = request.header(AUTHORIZATION, value);
        }
    }
    let len = body.len() as u64;
    let declared = match (auth >> 4) & 7 {
        0 => None,
        1 => Some(len.to_string()),
        2 => Some(len.saturating_sub(1).to_string()),
        3 => Some((len + 1).to_string()),
        4 => Some(u64::MAX.to_string()),
        5 => Some("12a".into()),
        6 => Some((limit as u64 + 1).to_string()),
        _ => Some("18446744073709551616".into()),
    };
    if let Some(value) = &declared {
        request = request.header(CONTENT_LENGTH, value.as_str());
    }
    let polled = Arc::new(AtomicBool::new(false));
    let fail = stream & 64 != 0;
    let request = request
        .body(RecordingBody {
            data: Bytes::copy_from_slice(body),
            chunk: usize::from(stream & 63),
            fail,
            exact_hint: stream & 128 != 0,
            polled: polled.clone(),
        })
        .expect("a valid request");
    let headers = request.headers().clone();

    let reached: Arc<Mutex<Option<Reached>>> = Arc::default();
    let mut layer = WebhookLayer::new(verifier.clone());
    if let Some(limit) = body_limit {
        layer = layer.with_body_limit(limit);
    }
    let mut service = layer.layer(Handler(reached.clone()));
    let response = block_on(async {
        std::future::poll_fn(|cx| Service::<Request<RecordingBody>>::poll_ready(&mut service, cx))
            .await
            .expect("infallible");
        service.call(request).await.expect("infallible")
    });
    let status = response.status();
    let error = response.extensions().get::<WebhookError>().copied();
    let reached = reached.lock().expect("not poisoned").take();
    let polled = polled.load(Ordering::SeqCst);

    // The target's model, in the layer's documented order.
    let token = accepted_token(&headers, &verifier);
    let declared_over = declared
        .as_deref()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .is_some_and(|declared| declared > limit as u64);
    let hash_matches = token
        .as_ref()
        .is_some_and(|claims| claims.sha256() == Some(sha256_base64(body).as_str()));
    let is_json = serde_json::from_slice::<serde_json::Value>(body).is_ok();
    let expected = match &token {
        None => Err(StatusCode::UNAUTHORIZED),
        Some(_) if declared_over => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Some(_) if body.len() > limit => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Some(_) if fail => Err(StatusCode::BAD_REQUEST),
        Some(_) if !hash_matches => Err(StatusCode::UNAUTHORIZED),
        Some(_) if !is_json => Err(StatusCode::BAD_REQUEST),
        Some(_) => Ok(()),
    };
    // The model itself: what each mode must be.
    match mode {
        0..=3 => assert!(
            token.is_some() && hash_matches,
            "a valid token refused by the model"
        ),
        4 | 15 => assert!(
            token.is_some() && !hash_matches,
            "another body's hash matched"
        ),
        5..=8 | 10 | 11 | 14 => assert!(token.is_none(), "mode {mode} accepted by the model"),
        _ => {}
    }

    match expected {
        Ok(()) => {
            assert_eq!(status, StatusCode::OK, "refused: {error:?}");
            assert!(error.is_none());
            let reached = reached.expect("the handler was reached");
            assert_eq!(&reached.body[..], body, "the handler got another body");
            let event: serde_json::Value = serde_json::from_slice(body).expect("JSON");
            assert_eq!(reached.event, Some(WebhookEvent(event)));
            let claims = reached.claims.expect("the claims are in the extensions");
            assert_eq!(claims.sha256(), token.as_ref().and_then(Claims::sha256));
            assert_eq!(claims.api_key(), token.as_ref().map_or("", Claims::api_key));
        }
        Err(want) => {
            assert_eq!(status, want, "{error:?}");
            assert!(reached.is_none(), "the handler was reached on a refusal");
            let error = error.expect("a refusal carries its WebhookError");
            assert_eq!(error.status(), status);
            let kind = error.kind();
            if token.is_none() {
                assert!(!polled, "the body was polled though the token was refused");
                assert!(matches!(
                    kind,
                    WebhookErrorKind::MissingToken
                        | WebhookErrorKind::InvalidToken
                        | WebhookErrorKind::MissingBodyHash
                ));
            } else if declared_over {
                assert!(
                    !polled,
                    "the body was polled though its declared length is over"
                );
                assert_eq!(kind, WebhookErrorKind::BodyTooLarge);
            } else if status == StatusCode::UNAUTHORIZED {
                assert_eq!(kind, WebhookErrorKind::BodyHashMismatch);
            }
            let text = format!("{error} {error:?}");
            for secret in [SECRET, SECRET_2, WRONG_SECRET] {
                assert!(!text.contains(secret), "a secret in {text}");
            }
            for value in &values {
                let value = String::from_utf8_lossy(value);
                for segment in value.split(['.', ' ']).filter(|s| is_token_material(s)) {
                    assert!(!text.contains(segment), "the token in {text}");
                }
            }
        }
    }
    assert!(
        matches!(status.as_u16(), 200 | 400 | 401 | 413),
        "status {status}"
    );
});
