//! Finding the token in a request: `Authorization: Bearer`, or the `access_token` query
//! parameter where the application allows it.

use std::borrow::Cow;

use http::HeaderMap;

use crate::credentials::{authorization, bearer, MalformedCredentials};
use crate::verify::Source;

/// Where a token may come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenLocation {
    /// Only `Authorization: Bearer <token>` (the default).
    #[default]
    Header,
    /// The header, or when there is no `Authorization` header at all, the `access_token` query
    /// parameter. Browsers cannot set headers on a WebSocket, so LiveKit's signal connection
    /// (`/rtc?access_token=...`) needs it; tokens in URLs end up in logs, so it is opt-in.
    HeaderOrQuery,
}

/// Finds the bearer token of a request.
///
/// - One `Authorization` header, `Bearer <token>` with the scheme in any case (RFC 9110 §11.1),
///   one or more spaces, and a token of RFC 6750 `b64token` characters.
/// - With [`TokenLocation::HeaderOrQuery`] and no `Authorization` header, the single
///   `access_token` query parameter. A present header always wins, even when it is invalid.
///
/// Returns `Ok(None)` when there is no token at all, and an error when there is something that is
/// not a well-formed token (several headers, another scheme, stray characters).
///
/// ```
/// use http::HeaderMap;
/// use tower_livekit_auth::middleware::{extract_token, TokenLocation};
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(extract_token(&headers, Some("access_token=abc.def.ghi"), TokenLocation::Header), Ok(None));
/// assert_eq!(
///     extract_token(&headers, Some("access_token=abc.def.ghi"), TokenLocation::HeaderOrQuery)
///         .unwrap().as_deref(),
///     Some("abc.def.ghi")
/// );
/// headers.insert("authorization", "bearer abc.def.ghi".parse().unwrap());
/// assert_eq!(extract_token(&headers, None, TokenLocation::Header).unwrap().as_deref(), Some("abc.def.ghi"));
/// headers.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
/// assert!(extract_token(&headers, None, TokenLocation::Header).is_err());
/// ```
pub fn extract_token<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
    location: TokenLocation,
) -> Result<Option<Cow<'a, str>>, MalformedCredentials> {
    match find_token(headers, query, location)? {
        None => Ok(None),
        Some(FoundToken::Header(token)) => token_text(token).map(|t| Some(Cow::Borrowed(t))),
        Some(FoundToken::Query(token)) => Ok(Some(token)),
    }
}

/// A token as the request carries it.
pub(crate) enum FoundToken<'a> {
    /// From `Authorization: Bearer`, its characters **not checked yet**: the middleware verifies
    /// the bytes first (a token that verifies is base64url and dots, all `b64token` characters)
    /// and checks them with [`FoundToken::check`] only when verification fails, to tell a malformed
    /// request (400) from an invalid token (401). That check was a byte loop over the whole
    /// token on every request.
    Header(&'a [u8]),
    /// From the `access_token` query parameter, percent-decoded and checked.
    Query(Cow<'a, str>),
}

impl FoundToken<'_> {
    /// The token's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            FoundToken::Header(token) => token,
            FoundToken::Query(token) => token.as_bytes(),
        }
    }

    /// Where it came from, for metrics.
    pub(crate) fn source(&self) -> Source {
        match self {
            FoundToken::Header(_) => Source::Header,
            FoundToken::Query(_) => Source::Query,
        }
    }

    /// Whether the token is made of `b64token` characters; an error if it is not.
    pub(crate) fn check(&self) -> Result<(), MalformedCredentials> {
        match self {
            FoundToken::Header(token) => check_header_token(token),
            FoundToken::Query(_) => Ok(()),
        }
    }
}

/// [`extract_token`] without the character check of a header token (see [`FoundToken`]).
pub(crate) fn find_token<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
    location: TokenLocation,
) -> Result<Option<FoundToken<'a>>, MalformedCredentials> {
    if let Some(value) = authorization(headers)? {
        return bearer(value).map(|token| Some(FoundToken::Header(token)));
    }
    match (location, query) {
        (TokenLocation::HeaderOrQuery, Some(query)) => {
            query_token(query).map(|token| token.map(FoundToken::Query))
        }
        _ => Ok(None),
    }
}

const NOT_A_HEADER_TOKEN: MalformedCredentials =
    MalformedCredentials("the Bearer credential has characters a token cannot have");

/// Whether a header credential is a `b64token`; an error if it is not.
fn check_header_token(token: &[u8]) -> Result<(), MalformedCredentials> {
    if is_b64token(token) {
        Ok(())
    } else {
        Err(NOT_A_HEADER_TOKEN)
    }
}

/// The credential as text, if it is a `b64token` (whose characters are all ASCII).
fn token_text(token: &[u8]) -> Result<&str, MalformedCredentials> {
    check_header_token(token)?;
    std::str::from_utf8(token).map_err(|_| NOT_A_HEADER_TOKEN)
}

/// RFC 6750 §2.1: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
///
/// It runs on every refused request, over the whole token, so it is written to compile to
/// vector compares: 32 bytes at a time, without a branch per byte (a table lookup per byte
/// cost ~3k instructions per 470-byte token, more than the rest of a refusal).
fn is_b64token(token: &[u8]) -> bool {
    let padding = token.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &token[..token.len() - padding];
    !body.is_empty()
        && body.chunks(32).all(|chunk| {
            chunk
                .iter()
                .fold(true, |all, &b| all & is_b64token_body_byte(b))
        })
}

/// ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", with `&`/`|` rather than `&&`/`||` so
/// that a chunk of them vectorizes.
#[inline(always)]
fn is_b64token_body_byte(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26; // `| 0x20` folds only A-Z onto a-z
    let digit = b.wrapping_sub(b'0') < 10;
    letter
        | digit
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

/// Whether `query` has an `access_token` parameter at all (where the layer does not read it).
pub(crate) fn has_query_token(query: Option<&str>) -> bool {
    query.is_some_and(|query| {
        form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token")
    })
}

fn query_token(query: &str) -> Result<Option<Cow<'_, str>>, MalformedCredentials> {
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "access_token" {
            continue;
        }
        if found.is_some() {
            return Err(MalformedCredentials(
                "more than one access_token query parameter",
            ));
        }
        found = Some(value);
    }
    match found {
        None => Ok(None),
        Some(token) if token.is_empty() => Err(MalformedCredentials(
            "the access_token query parameter is empty",
        )),
        Some(token) if !is_b64token(token.as_bytes()) => Err(MalformedCredentials(
            "the access_token query parameter has characters a token cannot have",
        )),
        Some(token) => Ok(Some(token)),
    }
}

#[cfg(test)]
mod tests {
    use http::header::AUTHORIZATION;

    use super::*;

    fn header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().expect("header value"));
        headers
    }

    fn from_header(value: &str) -> Result<Option<String>, MalformedCredentials> {
        extract_token(&header(value), None, TokenLocation::Header).map(|t| t.map(Cow::into_owned))
    }

    #[test]
    fn b64token_bytes_are_exactly_rfc_6750s() {
        for b in 0..=u8::MAX {
            let rfc = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(is_b64token_body_byte(b), rfc, "byte {b:#04x}");
            // Anywhere in a long token, not only in the tail the vector loop leaves.
            for at in [0, 31, 32, 63, 70] {
                let mut token = vec![b'a'; 71];
                token[at] = b;
                let expected = rfc || (b == b'=' && at == 70);
                assert_eq!(is_b64token(&token), expected, "byte {b:#04x} at {at}");
            }
        }
        assert!(is_b64token(b"a=="));
        assert!(!is_b64token(b"=="));
        assert!(!is_b64token(b"a=b"));
        assert!(!is_b64token(b""));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for value in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER a.b.c",
            "BeArEr   a.b.c",
        ] {
            assert_eq!(from_header(value), Ok(Some("a.b.c".into())), "{value}");
        }
    }

    #[test]
    fn malformed_authorization_headers_are_refused() {
        for value in [
            "Bearer",
            "Bearer ",
            "Bearera.b.c",
            "Basic a.b.c",
            "Bearer a.b c",
            "Bearer a.b.c ",
            "Bearer a\"b",
            "Token a.b.c",
        ] {
            assert!(from_header(value).is_err(), "{value}");
        }
        let mut headers = header("Bearer a.b.c");
        headers.append(AUTHORIZATION, "Bearer d.e.f".parse().expect("value"));
        assert!(extract_token(&headers, None, TokenLocation::Header).is_err());
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            http::HeaderValue::from_bytes(b"Bearer \xc3\xa9").expect("obs-text"),
        );
        assert!(extract_token(&headers, None, TokenLocation::Header).is_err());
    }

    #[test]
    fn query_token_only_where_allowed_and_header_wins() {
        let none = HeaderMap::new();
        let q = Some("room=x&access_token=q.r.s");
        assert_eq!(extract_token(&none, q, TokenLocation::Header), Ok(None));
        assert_eq!(
            extract_token(&none, q, TokenLocation::HeaderOrQuery).map(|t| t.map(Cow::into_owned)),
            Ok(Some("q.r.s".into()))
        );
        let headers = header("Bearer h.i.j");
        assert_eq!(
            extract_token(&headers, q, TokenLocation::HeaderOrQuery)
                .map(|t| t.map(Cow::into_owned)),
            Ok(Some("h.i.j".into()))
        );
        let bad = header("Basic x");
        assert!(extract_token(&bad, q, TokenLocation::HeaderOrQuery).is_err());
    }

    #[test]
    fn query_tokens_are_percent_decoded_and_must_be_single() {
        let none = HeaderMap::new();
        let get = |q| {
            extract_token(&none, Some(q), TokenLocation::HeaderOrQuery)
                .map(|t| t.map(Cow::into_owned))
        };
        assert_eq!(get("access_token=a%2Eb.c"), Ok(Some("a.b.c".into())));
        assert!(get("access_token=a&access_token=b").is_err());
        assert!(get("access_token=").is_err());
        assert!(get("access_token=a%20b").is_err());
        assert_eq!(get("other=1"), Ok(None));
    }
}
