//! Token extraction from arbitrary `Authorization` headers and query strings
//! (`tower_livekit_auth::middleware::extract_token`).
//!
//! Input: the bytes before the first `\n` are header values (split on `\r`, so several
//! `Authorization` headers are possible); the rest is the query string.
//!
//! - It never panics.
//! - With any `Authorization` header present, the query is never used (the header wins).
//! - A token from the header is a substring of the single header value, and the scheme before it
//!   is `Bearer` in some case; a token is never empty and has only b64token characters.
#![no_main]

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use tower_livekit_auth::middleware::{extract_token, TokenLocation};

fn b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (header_part, rest) = data.split_at(split);
    let query = String::from_utf8_lossy(rest.get(1..).unwrap_or_default()).into_owned();
    let mut headers = HeaderMap::new();
    if !header_part.is_empty() {
        for value in header_part.split(|&b| b == b'\r') {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.append(AUTHORIZATION, value);
            }
        }
    }
    let count = headers.get_all(AUTHORIZATION).iter().count();
    for location in [TokenLocation::Header, TokenLocation::HeaderOrQuery] {
        let result = extract_token(&headers, Some(&query), location);
        let Ok(Some(token)) = result else { continue };
        assert!(b64token(&token), "token with bad characters: {token:?}");
        if count > 0 {
            assert_eq!(count, 1, "a token from several Authorization headers");
            let value = headers[AUTHORIZATION]
                .to_str()
                .expect("a returned token means ASCII");
            assert!(value.ends_with(&*token), "token not from the header");
            let scheme = value.split(' ').next().unwrap_or("");
            assert!(
                scheme.eq_ignore_ascii_case("bearer"),
                "scheme {scheme:?} accepted"
            );
        } else {
            assert_eq!(
                location,
                TokenLocation::HeaderOrQuery,
                "query token without opt-in"
            );
        }
    }
});
