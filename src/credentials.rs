//! Reading the `Authorization` header, for the middleware (`Bearer <token>`) and the webhook
//! layer (LiveKit's bare token) alike.

use std::fmt;

use http::header::AUTHORIZATION;
use http::HeaderMap;

/// Why the request's credentials could not even be read (an HTTP 400, RFC 6750
/// `invalid_request`). Says what is wrong without repeating the header's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedCredentials(pub(crate) &'static str);

impl MalformedCredentials {
    /// What is wrong, in a few words.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for MalformedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for MalformedCredentials {}

/// The value of the request's one `Authorization` header; an error if it has several.
pub(crate) fn authorization(headers: &HeaderMap) -> Result<Option<&[u8]>, MalformedCredentials> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(MalformedCredentials("more than one Authorization header"));
    }
    Ok(Some(value.as_bytes()))
}

/// The credential of a `Bearer` header value: the scheme in any case, one or more spaces, and
/// something non-empty (whether its characters make a token is the caller's concern).
pub(crate) fn bearer(value: &[u8]) -> Result<&[u8], MalformedCredentials> {
    let space = memchr::memchr(b' ', value).ok_or(MalformedCredentials(
        "expected `Authorization: Bearer <token>`",
    ))?;
    if !value[..space].eq_ignore_ascii_case(b"bearer") {
        return Err(MalformedCredentials(
            "the Authorization scheme is not Bearer",
        ));
    }
    let rest = &value[space + 1..];
    let token = &rest[rest.iter().take_while(|&&b| b == b' ').count()..];
    if token.is_empty() {
        return Err(MalformedCredentials("the Bearer credential is empty"));
    }
    Ok(token)
}
