//! What a refusal says: its text must be a valid quoted-string (it travels in
//! `WWW-Authenticate`), and the default response carries it as a short text body.

use super::support::*;

/// The `error_description` of a challenge, if any.
fn error_description(response: &Response<String>) -> Option<&str> {
    let challenge = response.headers()[WWW_AUTHENTICATE].to_str().ok()?;
    let start = challenge.find("error_description=\"")? + "error_description=\"".len();
    challenge[start..].strip_suffix('"')
}

#[tokio::test]
async fn every_plain_refusal_says_why_in_a_text_body_with_the_words_of_its_challenge() {
    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(verifier()))
        .layer(RequireLayer::create_rooms())
        .service(service_fn(echo));
    let joiner = token(VideoGrant::join("r"));
    let expired = AccessToken::new(KEY, SECRET)
        .with_ttl(Duration::from_secs(10))
        .to_jwt_at(at(NOW - 1000))
        .expect("mints");
    for (authorization, status) in [
        (Some(format!("Bearer {expired}")), StatusCode::UNAUTHORIZED),
        (Some("Bearer a.b.c".to_owned()), StatusCode::UNAUTHORIZED),
        (
            Some("Basic dXNlcjpwYXNz".to_owned()),
            StatusCode::BAD_REQUEST,
        ),
        (Some(format!("Bearer {joiner}")), StatusCode::FORBIDDEN),
    ] {
        let response = call(service.clone(), get("/", authorization.as_deref())).await;
        assert_eq!(response.status(), status, "{authorization:?}");
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let description = error_description(&response).expect("an error_description");
        assert_eq!(response.body(), &format!("{description}\n"));
        assert_eq!(response.body(), &format!("{}\n", rejection(&response)));
    }
    let expired_body = call(service, get("/", Some(&format!("Bearer {expired}")))).await;
    assert_eq!(expired_body.body(), "token has expired; fetch a new one\n");
}

#[tokio::test]
async fn a_query_token_where_query_tokens_are_off_is_refused_with_a_hint() {
    let t = token(VideoGrant::join("r"));
    let response = call(
        AuthLayer::new(verifier()).layer(service_fn(echo)),
        get(&format!("/rtc?access_token={t}"), None),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), r#"Bearer realm="livekit""#);
    assert_eq!(rejection(&response).kind(), RejectionKind::MissingToken);
    let body = response.body();
    assert!(body.starts_with("missing bearer token: "), "{body}");
    assert!(
        body.contains("Authorization: Bearer") && body.contains("?access_token="),
        "{body}"
    );
    assert!(!body.contains(&t), "the token is never echoed");
    // Where query tokens are on, the same request passes; without any token, no hint.
    let layer = AuthLayer::new(verifier()).with_token_location(TokenLocation::HeaderOrQuery);
    let response = call(
        layer.layer(service_fn(echo)),
        get(&format!("/rtc?access_token={t}"), None),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = call(
        AuthLayer::new(verifier()).layer(service_fn(echo)),
        get("/rtc?room=r", None),
    )
    .await;
    assert_eq!(response.body(), "missing bearer token\n");
}

#[tokio::test]
async fn a_replaced_response_keeps_its_own_body_and_a_grpc_call_gets_none() {
    let layer = AuthLayer::new(verifier()).with_rejection_handler(|rejection: &AuthRejection| {
        let mut response = Response::new(String::from(r#"{"error":"nope"}"#));
        *response.status_mut() = rejection.status();
        response
    });
    let response = call(layer.layer(service_fn(echo)), get("/", None)).await;
    assert_eq!(response.body(), r#"{"error":"nope"}"#);
    let grpc = Request::post("/livekit.RoomService/ListRooms")
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .body(String::new())
        .expect("request");
    let response = call(AuthLayer::new(verifier()).layer(service_fn(echo)), grpc).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["grpc-status"], "16");
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        "application/grpc"
    );
    assert!(response.body().is_empty());
}

#[test]
fn every_rejection_message_is_a_valid_quoted_string() {
    let realm = crate::middleware::realm::Realm::default();
    let mut rejections = vec![
        AuthRejection::missing(&realm),
        AuthRejection::missing_query_token_ignored(&realm),
        AuthRejection::insufficient("roomAdmin", &realm),
    ];
    for token in ["", "a", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        let err = verifier().verify(token).expect_err("not a valid token");
        rejections.push(AuthRejection::invalid(err, &realm));
    }
    // Every kind of verification error.
    use crate::verify::VerifyError;
    for &kind in VerifyErrorKind::ALL {
        rejections.push(AuthRejection::invalid(VerifyError::new(kind), &realm));
    }
    for value in ["Basic x", "Bearer", "Bearer ", "Bearer \"x\"", "bearer a b"] {
        let mut headers = http::HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().expect("value"));
        let err = extract_token(&headers, None, TokenLocation::Header).expect_err("malformed");
        rejections.push(AuthRejection::malformed(err, &realm));
    }
    for rejection in rejections {
        let message = rejection.to_string();
        assert!(
            message.is_ascii() && !message.contains('"') && !message.contains('\\'),
            "{message}"
        );
        assert_ne!(rejection.www_authenticate(), "Bearer");
    }
}
