//! The AuthLayer: where the token comes from, what each refusal answers (status and exact
//! `WWW-Authenticate`), the optional mode, the realm, a custom response, key rotation.

use super::support::*;

#[tokio::test]
async fn valid_token_reaches_the_handler_with_claims() {
    let service = AuthLayer::new(verifier()).layer(service_fn(echo));
    let t = token(VideoGrant::join("r"));
    let response = call(service, get("/", Some(&format!("Bearer {t}")))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "alice");
}

#[tokio::test]
async fn missing_token_is_401_with_a_bare_challenge() {
    let response = call(
        AuthLayer::new(verifier()).layer(service_fn(echo)),
        get("/", None),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), r#"Bearer realm="livekit""#);
    assert_eq!(rejection(&response).kind(), RejectionKind::MissingToken);
    assert_eq!(response.body(), "missing bearer token\n");
}

#[tokio::test]
async fn invalid_token_is_401_invalid_token_and_never_echoed() {
    let t = token(VideoGrant::join("r"));
    let forged = format!("{}A", &t[..t.len() - 1]);
    let expired = AccessToken::new(KEY, SECRET)
        .with_ttl(Duration::from_secs(10))
        .to_jwt_at(at(NOW - 1000))
        .expect("mints");
    for (bad, kind) in [
        (forged, VerifyErrorKind::InvalidSignature),
        (expired, VerifyErrorKind::Expired),
        ("a.b.c".to_owned(), VerifyErrorKind::Malformed),
    ] {
        let service = AuthLayer::new(verifier()).layer(service_fn(echo));
        let response = call(service, get("/", Some(&format!("Bearer {bad}")))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let value = challenge(&response);
        assert_eq!(
            value,
            format!(
                r#"Bearer realm="livekit", error="invalid_token", error_description="{}""#,
                rejection(&response)
            )
        );
        assert_eq!(
            rejection(&response).verify_error().map(|e| e.kind()),
            Some(kind)
        );
        for segment in bad.split('.').filter(|s| s.len() > 4) {
            assert!(!value.contains(segment));
        }
        assert!(!value.contains(SECRET));
    }
}

#[tokio::test]
async fn malformed_authorization_is_400_invalid_request() {
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"] {
        let response = call(
            AuthLayer::new(verifier()).layer(service_fn(echo)),
            get("/", Some(value)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{value}");
        assert!(
            challenge(&response).starts_with(r#"Bearer realm="livekit", error="invalid_request""#)
        );
    }
    let t = token(VideoGrant::join("r"));
    let mut request = get("/", Some(&format!("Bearer {t}")));
    request
        .headers_mut()
        .append(AUTHORIZATION, format!("Bearer {t}").parse().expect("value"));
    let response = call(AuthLayer::new(verifier()).layer(service_fn(echo)), request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn optional_mode_lets_anonymous_requests_through_but_not_bad_tokens() {
    let layer = AuthLayer::new(verifier()).with_token_required(false);
    let response = call(layer.layer(service_fn(echo)), get("/", None)).await;
    assert_eq!(
        (response.status(), response.body().as_str()),
        (StatusCode::OK, "anonymous")
    );
    let response = call(
        layer.layer(service_fn(echo)),
        get("/", Some("Bearer x.y.z")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let t = token(VideoGrant::join("r"));
    let response = call(
        layer.layer(service_fn(echo)),
        get("/", Some(&format!("Bearer {t}"))),
    )
    .await;
    assert_eq!(response.body(), "alice");
}

#[tokio::test]
async fn query_token_only_when_allowed_and_the_header_wins() {
    let t = token(VideoGrant::join("r"));
    let uri = format!("/rtc?access_token={t}");
    let strict = AuthLayer::new(verifier());
    assert_eq!(
        call(strict.layer(service_fn(echo)), get(&uri, None))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let lax = AuthLayer::new(verifier()).with_token_location(TokenLocation::HeaderOrQuery);
    let response = call(lax.layer(service_fn(echo)), get(&uri, None)).await;
    assert_eq!(
        (response.status(), response.body().as_str()),
        (StatusCode::OK, "alice")
    );
    // An invalid header is not rescued by a valid query token.
    let response = call(lax.layer(service_fn(echo)), get(&uri, Some("Bearer x.y.z"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = call(lax.layer(service_fn(echo)), get(&uri, Some("Basic abc"))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_realm_set_on_the_auth_layer_is_the_realm_of_the_requirements_behind_it() {
    let service = ServiceBuilder::new()
        .layer(
            AuthLayer::new(verifier())
                .with_realm("my-app")
                .with_token_required(false),
        )
        .layer(RequireLayer::create_rooms())
        .service(service_fn(echo));
    // A valid token without the grant: the requirement's 403.
    let viewer = token(VideoGrant::join("r"));
    let response = call(service.clone(), get("/", Some(&format!("Bearer {viewer}")))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        challenge(&response).starts_with(r#"Bearer realm="my-app", error="insufficient_scope""#)
    );
    // No token through the optional layer: the requirement's 401.
    let response = call(service, get("/", None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), r#"Bearer realm="my-app""#);
}

#[tokio::test]
async fn the_default_realm_puts_nothing_into_the_request() {
    let inspect = |request: Request<String>| async move {
        let realm = request
            .extensions()
            .get::<crate::middleware::realm::Realm>()
            .cloned();
        Ok::<_, Infallible>(Response::new(format!("{realm:?}")))
    };
    let t = format!("Bearer {}", token(VideoGrant::join("r")));
    let plain = AuthLayer::new(verifier()).layer(service_fn(inspect));
    assert_eq!(call(plain, get("/", Some(&t))).await.body(), "None");
    let custom = AuthLayer::new(verifier())
        .with_realm("app")
        .layer(service_fn(inspect));
    assert!(call(custom, get("/", Some(&t)))
        .await
        .body()
        .contains("app"));
}

#[tokio::test]
async fn realm_is_configurable_and_sanitized() {
    let layer = AuthLayer::new(verifier()).with_realm("my \"app\"\\");
    let response = call(layer.layer(service_fn(echo)), get("/", None)).await;
    assert_eq!(challenge(&response), r#"Bearer realm="my app""#);
}

#[tokio::test]
async fn custom_rejection_handler_builds_the_response_and_gets_the_rejection() {
    let layer = AuthLayer::new(verifier()).with_rejection_handler(|rejection: &AuthRejection| {
        let mut response = Response::new(format!(
            r#"{{"code":"unauthenticated","msg":"{rejection}"}}"#
        ));
        *response.status_mut() = rejection.status();
        response
    });
    let response = call(layer.layer(service_fn(echo)), get("/", None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.body(),
        r#"{"code":"unauthenticated","msg":"missing bearer token"}"#
    );
    assert_eq!(rejection(&response).kind(), RejectionKind::MissingToken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_under_concurrent_requests_fails_no_valid_request() -> Result<(), BoxError> {
    // Keys k0, k1, ... : at step i the ring holds k{i} and k{i+1}. Each client mints with a key
    // that is in the ring both before and after the swap it may race with.
    let secret = |i: u64| format!("{SECRET}-{i}");
    let ring = |i: u64| {
        KeyRing::new()
            .with_key(&format!("k{i}"), &secret(i))
            .and_then(|r| r.with_key(&format!("k{}", i + 1), &secret(i + 1)))
    };
    let verifier = Verifier::new(ring(0)?).with_clock(|| at(NOW));
    let step = Arc::new(AtomicU64::new(0));
    let service = AuthLayer::new(verifier.clone()).layer(service_fn(echo));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (service, step) = (service.clone(), step.clone());
        clients.push(tokio::spawn(async move {
            let (mut checked, mut failures) = (0, 0);
            for _ in 0..300 {
                let before = step.load(Ordering::SeqCst);
                let i = before + 1;
                let t = AccessToken::new(format!("k{i}"), secret(i))
                    .to_jwt_at(at(NOW))
                    .expect("mints");
                let response = service
                    .clone()
                    .oneshot(get("/", Some(&format!("Bearer {t}"))))
                    .await
                    .expect("infallible");
                // k{i} is in ring(before) and ring(before + 1); if at most one swap happened
                // while the request was in flight, the key was valid throughout.
                if step.load(Ordering::SeqCst) <= before + 1 {
                    checked += 1;
                    if response.status() != StatusCode::OK {
                        failures += 1;
                    }
                }
                tokio::task::yield_now().await;
            }
            (checked, failures)
        }));
    }
    for i in 1..=50 {
        // Publish the new ring (k{i}, k{i+1}) before clients may pick k{i+1}.
        verifier.rotate(ring(i)?);
        step.store(i, Ordering::SeqCst);
        tokio::task::yield_now().await;
    }
    let (mut checked, mut failed) = (0, 0);
    for client in clients {
        let (c, f) = client.await?;
        checked += c;
        failed += f;
    }
    assert_eq!(failed, 0);
    assert!(
        checked >= 600,
        "only {checked} requests raced with at most one swap"
    );
    // And a retired key is refused after the swap.
    let retired = AccessToken::new("k0", secret(0)).to_jwt_at(at(NOW))?;
    let response = call(service, get("/", Some(&format!("Bearer {retired}")))).await;
    assert_eq!(
        rejection(&response).verify_error().map(|e| e.kind()),
        Some(VerifyErrorKind::UnknownKey)
    );
    Ok(())
}

/// The layer checks a header token's characters only when the token does not verify. The
/// statuses must be exactly those of checking first: 400 for whatever `extract_token` refuses,
/// then 200 or 401 as the verifier decides.
#[test]
fn checking_characters_after_verifying_gives_the_statuses_of_checking_first() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let valid = format!("Bearer {}", token(VideoGrant::join("r")));
    // Token characters, characters no token has, and bytes a header may carry (obs-text).
    let bytes = prop::sample::select(b"Az09-_.~+/= \t\",;%\x80\xff".to_vec());
    let edit = (0..valid.len(), bytes, 0..3u8);
    let mut runner = TestRunner::new(Config::with_cases(512));
    runner
        .run(&prop::collection::vec(edit, 0..3), |edits| {
            let mut value = valid.clone().into_bytes();
            for (at, byte, how) in edits {
                let at = at.min(value.len());
                match how {
                    0 => value.insert(at, byte),
                    1 if at < value.len() => value[at] = byte,
                    _ => drop(value.remove(at.min(value.len() - 1))),
                }
            }
            let Ok(header) = http::HeaderValue::from_bytes(&value) else {
                return Ok(());
            };
            let mut headers = http::HeaderMap::new();
            headers.insert(AUTHORIZATION, header.clone());
            let expected = match extract_token(&headers, None, TokenLocation::Header) {
                Err(_) => StatusCode::BAD_REQUEST,
                Ok(None) => StatusCode::UNAUTHORIZED,
                Ok(Some(token)) if verifier().verify(&token).is_ok() => StatusCode::OK,
                Ok(Some(_)) => StatusCode::UNAUTHORIZED,
            };
            let mut request = Request::new(String::new());
            request.headers_mut().insert(AUTHORIZATION, header);
            let service = AuthLayer::new(verifier()).layer(service_fn(echo));
            let status = runtime.block_on(call(service, request)).status();
            prop_assert_eq!(status, expected, "{:?}", String::from_utf8_lossy(&value));
            Ok(())
        })
        .expect("same statuses");
}
