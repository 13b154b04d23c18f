//! What every refusal's text must be to travel in a response: a valid quoted-string.

use super::support::*;

#[test]
fn every_rejection_message_is_a_valid_quoted_string() {
    let realm = crate::middleware::realm::Realm::default();
    let mut rejections = vec![
        AuthRejection::missing(&realm),
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
