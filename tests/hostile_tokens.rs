//! Hostile tokens at the verifier and through the layer: each gets its exact verdict and HTTP
//! status, and no error message (Display or Debug) ever repeats the token, a segment of it, or
//! the secret.
//!
//! Also replays every fuzz reproducer in `tests/regressions/` through the verifier.

mod support;

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use support::is_b64token;
use support::oracle::{assemble, assemble_with, system_time, Hmac2};
use tower_livekit_auth::{KeyRing, TrackSource, Verifier, VerifyErrorKind};

const KEY: &str = "APIhostile0001";
const SECRET: &str = "hostileSecret0123456789abcdefghijklmnopqrs";
const KEY_2: &str = "APIhostile0002";
const SECRET_2: &str = "hostileSecretTwo0123456789ABCDEFGHIJKLMNOP";
const NOW: u64 = 1_700_000_000;
const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn ring() -> KeyRing {
    KeyRing::new()
        .with_key(KEY, SECRET)
        .and_then(|ring| ring.with_key(KEY_2, SECRET_2))
        .expect("strong secrets")
}

fn verifier() -> Verifier {
    Verifier::new(ring())
}

/// A verifier without the 16 KiB limit, to reach the parser with huge tokens.
fn unlimited() -> Verifier {
    Verifier::new(ring()).with_max_token_len(usize::MAX)
}

/// A valid payload with `extra` spliced in after the times.
fn payload(extra: &str) -> String {
    format!(
        r#"{{"iss":"{KEY}","sub":"mallory","exp":{},"nbf":{}{extra}}}"#,
        NOW + 600,
        NOW - 10
    )
}

fn signed(header: &str, payload: &str) -> String {
    assemble(header.as_bytes(), payload.as_bytes(), SECRET.as_bytes())
}

fn valid() -> String {
    signed(HS256, &payload(""))
}

/// `token` with segment `index` replaced by `f(segment)`.
fn edit_segment(token: &str, index: usize, f: impl Fn(&str) -> String) -> String {
    token
        .split('.')
        .enumerate()
        .map(|(i, s)| if i == index { f(s) } else { s.to_owned() })
        .collect::<Vec<_>>()
        .join(".")
}

type Expect = Result<(), VerifyErrorKind>;

struct Case {
    name: &'static str,
    token: String,
    verifier: Verifier,
    expect: Expect,
}

fn case(name: &'static str, token: String, expect: Expect) -> Case {
    Case {
        name,
        token,
        verifier: verifier(),
        expect,
    }
}

fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn cases() -> Vec<Case> {
    use VerifyErrorKind::*;
    let p = payload("");
    let mut cases = vec![
        case("the valid baseline", valid(), Ok(())),
        // ---- Algorithms: HS256 only, refused before the MAC. ----
        case(
            "alg none, empty signature",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(&p)
            ),
            Err(UnsupportedAlgorithm),
        ),
        case(
            "alg none, HMAC signature",
            signed(r#"{"alg":"none"}"#, &p),
            Err(UnsupportedAlgorithm),
        ),
        case(
            "alg None",
            signed(r#"{"alg":"None"}"#, &p),
            Err(UnsupportedAlgorithm),
        ),
        case(
            "alg HS384 with an HS384 MAC",
            assemble_with(
                Hmac2::Hs384,
                br#"{"alg":"HS384"}"#,
                p.as_bytes(),
                SECRET.as_bytes(),
            ),
            Err(UnsupportedAlgorithm),
        ),
        case(
            "alg HS512 with an HS512 MAC",
            assemble_with(
                Hmac2::Hs512,
                br#"{"alg":"HS512"}"#,
                p.as_bytes(),
                SECRET.as_bytes(),
            ),
            Err(UnsupportedAlgorithm),
        ),
        case(
            "alg RS256 with an HMAC",
            signed(r#"{"alg":"RS256"}"#, &p),
            Err(UnsupportedAlgorithm),
        ),
        case(
            "alg ES256 with an HMAC",
            signed(r#"{"alg":"ES256"}"#, &p),
            Err(UnsupportedAlgorithm),
        ),
        case(
            "alg hs256 (case)",
            signed(r#"{"alg":"hs256"}"#, &p),
            Err(UnsupportedAlgorithm),
        ),
        case(
            "alg missing",
            signed(r#"{"typ":"JWT"}"#, &p),
            Err(Malformed),
        ),
        // ---- Header parameters the crate ignores: kid, jku. ----
        case(
            "kid header is ignored",
            signed(r#"{"alg":"HS256","kid":"other-key"}"#, &p),
            Ok(()),
        ),
        case(
            "jku header is ignored (no key is fetched)",
            signed(
                r#"{"alg":"HS256","jku":"https://attacker.example/jwks.json"}"#,
                &p,
            ),
            Ok(()),
        ),
        case(
            "crit header",
            signed(r#"{"alg":"HS256","crit":["exp"]}"#, &p),
            Err(Malformed),
        ),
        case(
            "empty crit header",
            signed(r#"{"alg":"HS256","crit":[]}"#, &p),
            Err(Malformed),
        ),
        // ---- Repeated keys: refuse rather than pick one. ----
        case(
            "two exp",
            signed(HS256, &payload(&format!(r#","exp":{}"#, NOW + 99_999))),
            Err(Malformed),
        ),
        case(
            "two iss",
            signed(HS256, &payload(&format!(r#","iss":"{KEY_2}""#))),
            Err(Malformed),
        ),
        case(
            "two iss, one escaped",
            signed(HS256, &payload(&format!(r#","\u0069ss":"{KEY}""#))),
            Err(Malformed),
        ),
        case(
            "two alg in the header",
            signed(r#"{"alg":"HS256","alg":"HS256"}"#, &p),
            Err(Malformed),
        ),
        case(
            "alg none then HS256",
            signed(r#"{"alg":"none","alg":"HS256"}"#, &p),
            Err(Malformed),
        ),
        case(
            "two video grants",
            signed(
                HS256,
                &payload(r#","video":{"roomJoin":true},"video":{"roomAdmin":true}"#),
            ),
            Err(Malformed),
        ),
        // ---- Segments. ----
        case("one segment", URL_SAFE_NO_PAD.encode(&p), Err(Malformed)),
        case(
            "two segments",
            edit_segment(&valid(), 2, |_| String::new())
                .trim_end_matches('.')
                .to_owned(),
            Err(Malformed),
        ),
        case("four segments", format!("{}.AAAA", valid()), Err(Malformed)),
        case("empty token", String::new(), Err(Malformed)),
        case("only dots", "..".to_owned(), Err(Malformed)),
        case(
            "empty signature",
            edit_segment(&valid(), 2, |_| String::new()),
            Err(InvalidSignature),
        ),
        // ---- Base64 variants. ----
        case(
            "padded header",
            edit_segment(&valid(), 0, |_| {
                URL_SAFE.encode(r#"{"alg":"HS256","typ":"JWT"} "#)
            }),
            Err(Malformed),
        ),
        case(
            "padded payload",
            {
                // Trailing spaces (valid JSON) until the length is not a multiple of 3.
                let mut text = format!("{p} ");
                while text.len() % 3 == 0 {
                    text.push(' ');
                }
                let padded = URL_SAFE.encode(&text);
                assert!(padded.ends_with('='), "the payload needs padding");
                let token = signed(HS256, &text);
                edit_segment(&token, 1, |_| padded.clone())
            },
            Err(Malformed),
        ),
        case(
            "padded signature",
            format!("{}=", valid()),
            Err(InvalidSignature),
        ),
        case(
            "standard-alphabet payload (+ and /)",
            {
                let text = payload(r#","metadata":"???>>>~~~""#);
                let std = STANDARD.encode(&text).trim_end_matches('=').to_owned();
                assert!(std.contains('+') || std.contains('/'), "{std}");
                edit_segment(&signed(HS256, &text), 1, |_| std.clone())
            },
            Err(Malformed),
        ),
        case(
            "standard-alphabet signature",
            {
                let token = std_alphabet_signature_token();
                assert!(token
                    .rsplit('.')
                    .next()
                    .is_some_and(|s| s.contains(['+', '/'])));
                token
            },
            Err(Malformed),
        ),
        // ---- Whitespace and non-ASCII. ----
        case("leading space", format!(" {}", valid()), Err(Malformed)),
        case(
            "trailing newline",
            format!("{}\n", valid()),
            Err(InvalidSignature),
        ),
        case(
            "space inside the payload",
            edit_segment(&valid(), 1, |s| format!("{} {}", &s[..10], &s[10..])),
            Err(Malformed),
        ),
        case(
            "tab inside the header",
            edit_segment(&valid(), 0, |s| format!("{}\t{}", &s[..4], &s[4..])),
            Err(Malformed),
        ),
        case(
            "non-ASCII inside the payload",
            edit_segment(&valid(), 1, |s| format!("{}é{}", &s[..10], &s[11..])),
            Err(Malformed),
        ),
        case(
            "non-ASCII inside the signature",
            edit_segment(&valid(), 2, |s| format!("{}é", &s[..41])),
            Err(Malformed),
        ),
        // ---- Size. ----
        case(
            "a token of 1 MiB",
            {
                let filler = "a".repeat(1 << 20);
                signed(HS256, &payload(&format!(r#","x":"{filler}""#)))
            },
            Err(TokenTooLong),
        ),
        case(
            "a 1 MiB string of dots",
            ".".repeat(1 << 20),
            Err(TokenTooLong),
        ),
        // ---- Deep nesting (serde_json skims ignored values without recursing). ----
        case(
            "100k nested arrays in an unknown claim, default limit",
            signed(
                HS256,
                &payload(&format!(r#","x":{}"#, nested_arrays(100_000))),
            ),
            Err(TokenTooLong),
        ),
        Case {
            name: "100k nested arrays in an unknown claim, no length limit",
            token: signed(
                HS256,
                &payload(&format!(r#","x":{}"#, nested_arrays(100_000))),
            ),
            verifier: unlimited(),
            expect: Ok(()),
        },
        Case {
            name: "100k nested arrays in an unknown key next to metadata",
            token: signed(
                HS256,
                &payload(&format!(
                    r#","metadata":"{{}}","metadata_extra":{}"#,
                    nested_arrays(100_000)
                )),
            ),
            verifier: unlimited(),
            expect: Ok(()),
        },
        Case {
            name: "100k nested arrays in an unknown key inside video",
            token: signed(
                HS256,
                &payload(&format!(r#","video":{{"x":{}}}"#, nested_arrays(100_000))),
            ),
            verifier: unlimited(),
            expect: Ok(()),
        },
        Case {
            name: "100k nested arrays as metadata (wrong type)",
            token: signed(
                HS256,
                &payload(&format!(r#","metadata":{}"#, nested_arrays(100_000))),
            ),
            verifier: unlimited(),
            expect: Err(InvalidClaim),
        },
        Case {
            name: "100k nested arrays in roomConfig.egress (kept as a Value: recursion limit)",
            token: signed(
                HS256,
                &payload(&format!(
                    r#","roomConfig":{{"egress":{}}}"#,
                    nested_arrays(100_000)
                )),
            ),
            verifier: unlimited(),
            expect: Err(InvalidClaim),
        },
        Case {
            name: "100k nested arrays in the header",
            token: signed(
                &format!(r#"{{"alg":"HS256","x":{}}}"#, nested_arrays(100_000)),
                &p,
            ),
            verifier: unlimited(),
            expect: Err(Malformed),
        },
        case(
            "126 nested arrays in roomConfig.egress (128 levels with the payload and roomConfig)",
            signed(
                HS256,
                &payload(&format!(
                    r#","roomConfig":{{"egress":{}}}"#,
                    nested_arrays(126)
                )),
            ),
            Err(InvalidClaim),
        ),
        case(
            "125 nested arrays in roomConfig.egress (127 levels): within serde_json's limit",
            signed(
                HS256,
                &payload(&format!(
                    r#","roomConfig":{{"egress":{}}}"#,
                    nested_arrays(125)
                )),
            ),
            Ok(()),
        ),
        // ---- A huge canPublishSources list. ----
        case(
            "100k canPublishSources, default limit",
            signed(HS256, &payload(&huge_sources(100_000))),
            Err(TokenTooLong),
        ),
        Case {
            name: "100k canPublishSources, no length limit: verifies",
            token: signed(HS256, &payload(&huge_sources(100_000))),
            verifier: unlimited(),
            expect: Ok(()),
        },
        // ---- Dates. ----
        case(
            "exp far beyond 2^53",
            signed(HS256, &format!(r#"{{"iss":"{KEY}","exp":1e300}}"#)),
            Err(InvalidClaim),
        ),
        case(
            "exp = 2^53 + 1",
            signed(
                HS256,
                &format!(r#"{{"iss":"{KEY}","exp":9007199254740993}}"#),
            ),
            Err(InvalidClaim),
        ),
        case(
            "exp = u64::MAX",
            signed(
                HS256,
                &format!(r#"{{"iss":"{KEY}","exp":18446744073709551615}}"#),
            ),
            Err(InvalidClaim),
        ),
        case(
            "exp = 1e400 (beyond f64)",
            signed(HS256, &format!(r#"{{"iss":"{KEY}","exp":1e400}}"#)),
            Err(InvalidClaim),
        ),
        case(
            "negative exp",
            signed(HS256, &format!(r#"{{"iss":"{KEY}","exp":-1}}"#)),
            Err(Expired),
        ),
        case(
            "exp as a string",
            signed(
                HS256,
                &format!(r#"{{"iss":"{KEY}","exp":"{}"}}"#, NOW + 600),
            ),
            Err(InvalidClaim),
        ),
        case(
            "exp missing",
            signed(HS256, &format!(r#"{{"iss":"{KEY}"}}"#)),
            Err(MissingExpiry),
        ),
        case(
            "exp null",
            signed(HS256, &format!(r#"{{"iss":"{KEY}","exp":null}}"#)),
            Err(MissingExpiry),
        ),
        case(
            "nbf far in the future",
            signed(
                HS256,
                &payload(&format!(r#","iat":{NOW}"#)).replace(
                    &format!(r#""nbf":{}"#, NOW - 10),
                    &format!(r#""nbf":{}"#, NOW + 61),
                ),
            ),
            Err(NotYetValid),
        ),
        case(
            "iat in the future",
            signed(HS256, &payload(&format!(r#","iat":{}"#, NOW + 61))),
            Err(IssuedInFuture),
        ),
        // ---- Keys. ----
        case(
            "iss missing",
            signed(HS256, &format!(r#"{{"exp":{}}}"#, NOW + 600)),
            Err(MissingIssuer),
        ),
        case(
            "iss empty",
            signed(HS256, &format!(r#"{{"iss":"","exp":{}}}"#, NOW + 600)),
            Err(MissingIssuer),
        ),
        case(
            "iss unknown",
            signed(HS256, &p.replace(KEY, "APInobody")),
            Err(UnknownKey),
        ),
        case(
            "iss names the other key, signed with this one's secret",
            signed(HS256, &p.replace(KEY, KEY_2)),
            Err(InvalidSignature),
        ),
        case(
            "iss as a number",
            signed(HS256, &format!(r#"{{"iss":7,"exp":{}}}"#, NOW + 600)),
            Err(InvalidClaim),
        ),
    ];
    // An `iss` naming a key that was rotated out.
    let rotated = verifier();
    let token = valid();
    assert!(
        rotated.verify_at(&token, system_time(NOW)).is_ok(),
        "valid before the rotation"
    );
    rotated.rotate(
        KeyRing::new()
            .with_key(KEY_2, SECRET_2)
            .expect("strong secret"),
    );
    cases.push(Case {
        name: "iss names a key removed by rotation",
        token,
        verifier: rotated,
        expect: Err(VerifyErrorKind::UnknownKey),
    });
    cases
}

fn huge_sources(n: usize) -> String {
    let list = vec![r#""microphone""#; n].join(",");
    format!(r#","video":{{"roomJoin":true,"room":"r","canPublishSources":[{list},"camera"]}}"#)
}

/// A valid token whose signature, in the standard alphabet, has a `+` or `/`.
fn std_alphabet_signature_token() -> String {
    for i in 0.. {
        let token = signed(HS256, &payload(&format!(r#","n":{i}"#)));
        let signature = token.rsplit('.').next().expect("three parts");
        if signature.contains(['-', '_']) {
            return edit_segment(&token, 2, |s| s.replace('-', "+").replace('_', "/"));
        }
    }
    unreachable!("some signature has a - or _")
}

/// No error text repeats the token, any 8-byte window of it, or a secret.
fn assert_error_text_is_clean(name: &str, token: &str, text: &str) {
    support::assert_no_leak(name, text, token, &[SECRET, SECRET_2]);
}

#[test]
fn hostile_tokens_get_their_exact_verdict_and_clean_errors() {
    let mut failures = Vec::new();
    for case in cases() {
        let result = case.verifier.verify_at(&case.token, system_time(NOW));
        let got = result.as_ref().map(|_| ()).map_err(|err| err.kind());
        if got != case.expect {
            failures.push(format!(
                "{}: got {got:?}, expected {:?}",
                case.name, case.expect
            ));
        }
        if let Err(err) = &result {
            assert_error_text_is_clean(case.name, &case.token, &err.to_string());
            assert_error_text_is_clean(case.name, &case.token, &format!("{err:?}"));
            assert_error_text_is_clean(case.name, &case.token, &format!("{err:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_claim_at_fault_is_named_for_invalid_and_repeated_claims() {
    let v = verifier();
    let at = system_time(NOW);
    for (token, claim) in [
        (
            signed(HS256, &format!(r#"{{"iss":"{KEY}","exp":1e400}}"#)),
            "exp",
        ),
        (
            signed(
                HS256,
                &format!(r#"{{"iss":"{KEY}","exp":9007199254740993}}"#),
            ),
            "exp",
        ),
        (
            signed(HS256, &payload(&format!(r#","exp":{}"#, NOW + 1))),
            "exp",
        ),
        (signed(HS256, &payload(r#","metadata":[[[]]]"#)), "metadata"),
        (
            signed(
                HS256,
                &payload(r#","roomConfig":{"egress":[[[[]]]],"egress":1}"#),
            ),
            "roomConfig",
        ),
    ] {
        let err = v.verify_at(&token, at).expect_err("refused");
        assert_eq!(err.claim(), Some(claim), "{err:?}");
    }
}

#[test]
fn a_huge_source_list_still_grants_exactly_what_it_lists() {
    let claims = unlimited()
        .verify_at(
            &signed(HS256, &payload(&huge_sources(100_000))),
            system_time(NOW),
        )
        .expect("verifies without a length limit");
    assert!(claims.can_publish_source(TrackSource::Camera));
    assert!(claims.can_publish_source(TrackSource::Microphone));
    assert!(!claims.can_publish_source(TrackSource::ScreenShare));
}

#[test]
fn the_leeway_edges_are_exact() {
    let v = verifier().with_leeway(Duration::from_secs(60));
    let exp = NOW + 600;
    let token = signed(
        HS256,
        &format!(r#"{{"iss":"{KEY}","exp":{exp},"nbf":{NOW}}}"#),
    );
    let at = |t: u64| {
        v.verify_at(&token, system_time(t))
            .map(|_| ())
            .map_err(|e| e.kind())
    };
    assert_eq!(at(exp + 59), Ok(()));
    assert_eq!(at(exp + 60), Err(VerifyErrorKind::Expired));
    assert_eq!(at(NOW - 60), Ok(()));
    assert_eq!(at(NOW - 61), Err(VerifyErrorKind::NotYetValid));
}

/// Every token reproducer in `tests/regressions/` (raw bytes) goes through the verifier without
/// a panic, with the same verdict twice, and with a clean error text. Files ending in `.md` are
/// notes; `differential-*` files are fuzz inputs that stand for a token, judged against the
/// oracle in `tests/differential.rs`.
#[test]
fn every_regression_reproducer_replays_without_panic() {
    let mut replayed = 0;
    for reproducer in support::reproducers() {
        if reproducer.is_differential_input() {
            continue;
        }
        let path = &reproducer.path;
        let token = String::from_utf8_lossy(&reproducer.bytes);
        for v in [verifier(), unlimited()] {
            let first = v.verify_at(&token, system_time(NOW));
            let second = v.verify_at(&token, system_time(NOW));
            assert_eq!(first, second, "{}: not deterministic", path.display());
            if let Err(err) = first {
                // A reproducer may spell out error messages itself (the fuzzer copies them), so
                // only base64url segments longer than any word of the messages are token
                // material here.
                let text = format!("{err} {err:?}");
                assert!(
                    !text.contains(SECRET),
                    "{}: secret in {text}",
                    path.display()
                );
                for segment in token.split('.').filter(|s| {
                    s.len() > 20
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }) {
                    assert!(
                        !text.contains(segment),
                        "{}: token in {text}",
                        path.display()
                    );
                }
            }
        }
        replayed += 1;
    }
    assert!(replayed >= 1, "no token reproducer in tests/regressions");
}

#[tokio::test]
async fn hostile_tokens_get_their_exact_http_status_through_the_layer() {
    use http::{HeaderValue, Request, Response, StatusCode};
    use tower::{service_fn, Layer, ServiceExt};
    use tower_livekit_auth::middleware::AuthRejection;
    use tower_livekit_auth::AuthLayer;

    let mut failures = Vec::new();
    for case in cases() {
        if case.token.starts_with(' ') {
            continue; // in a header, leading spaces are part of the `Bearer 1*SP` separator
        }
        let Ok(value) = HeaderValue::from_str(&format!("Bearer {}", case.token)) else {
            continue; // not sendable as a header at all (control characters)
        };
        // 200 for a token that verifies; 400 invalid_request for a credential that is not even a
        // b64token; 401 invalid_token for every other refusal. Never 500.
        let expected = match (&case.expect, is_b64token(&case.token)) {
            (_, false) => StatusCode::BAD_REQUEST,
            (Ok(()), true) => StatusCode::OK,
            (Err(_), true) => StatusCode::UNAUTHORIZED,
        };
        let verifier = case.verifier.clone().with_clock(|| system_time(NOW));
        let service = AuthLayer::new(verifier).layer(service_fn(|_: Request<String>| async {
            Ok::<_, std::convert::Infallible>(Response::new(String::from("ok")))
        }));
        let mut request = Request::new(String::new());
        request.headers_mut().insert("authorization", value);
        let response = service.oneshot(request).await.expect("infallible");
        if response.status() != expected {
            failures.push(format!(
                "{}: {} instead of {expected}",
                case.name,
                response.status()
            ));
        }
        let mut text = format!("{:?}", response.headers());
        if let Some(rejection) = response.extensions().get::<AuthRejection>() {
            text.push_str(&format!(" {rejection} {rejection:?}"));
        }
        assert_error_text_is_clean(case.name, &case.token, &text);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn oversized_and_repeated_headers_over_real_http_are_4xx() {
    use axum::routing::get;
    use axum::Router;
    use tower_livekit_auth::AuthLayer;

    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(AuthLayer::new(verifier().with_clock(|| system_time(NOW))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");

    let valid = valid();
    let ok = client
        .get(&url)
        .bearer_auth(&valid)
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 200);

    // A correctly signed token over the verifier's 16 KiB limit but well under hyper's header
    // limit reaches the layer: 401 invalid_token, never verified.
    let long = signed(
        HS256,
        &payload(&format!(r#","x":"{}""#, "a".repeat(20 * 1024))),
    );
    assert!(long.len() > tower_livekit_auth::verify::DEFAULT_MAX_TOKEN_LEN);
    assert_eq!(
        unlimited().verify_at(&long, system_time(NOW)).map(drop),
        Ok(())
    );
    let response = client
        .get(&url)
        .bearer_auth(&long)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ASCII");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );

    // 1 MiB of header: refused before the layer (hyper's header limit) or by the length limit,
    // never a 500, and the body never repeats it.
    let huge = "A".repeat(1 << 20);
    match client.get(&url).bearer_auth(&huge).send().await {
        Ok(response) => {
            let status = response.status();
            assert!(status.is_client_error(), "1 MiB header: {status}");
            let body = response.text().await.unwrap_or_default();
            assert!(!body.contains(&huge[..64]));
        }
        // hyper may close the connection on an oversized head; that is a refusal too.
        Err(err) => assert!(!err.is_timeout(), "1 MiB header: {err}"),
    }

    // Two Authorization headers: 400 invalid_request, even when both are valid.
    let twice = client
        .get(&url)
        .header("authorization", format!("Bearer {valid}"))
        .header("authorization", format!("Bearer {valid}"))
        .send()
        .await
        .expect("request");
    assert_eq!(twice.status(), 400);

    // Whitespace inside the credential: 400; a lower-case scheme: accepted.
    let spaced = format!("Bearer {} {}", &valid[..20], &valid[20..]);
    let response = client
        .get(&url)
        .header("authorization", spaced)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    let lower = client
        .get(&url)
        .header("authorization", format!("bearer {valid}"))
        .send()
        .await
        .expect("request");
    assert_eq!(lower.status(), 200);
}
