//! The original request a proxy asks about: its method and URI, read from the headers nginx,
//! Caddy and Traefik send, from the path after Envoy's `path_prefix`, or from Envoy's gRPC
//! `CheckRequest`; its path brought to one normal form before any route sees it.
//!
//! A header missing, sent twice, or two conventions that disagree (a client can add an
//! `X-Original-URI` of its own behind Caddy, or an `X-Forwarded-Uri` behind nginx) is a
//! [`BadOriginal`], answered 400 and never allowed: the gate does not guess which one the proxy
//! meant.
//!
//! The normal form (RFC 3986 §6.2.2): percent-encoded unreserved characters decoded (`%72` is
//! `r`), other escapes in upper case (`%2f` is `%2F`). A path that servers read in different
//! ways is refused rather than matched: a dot segment (`/a/../b`, `/a/%2e%2e/b`), an empty
//! segment other than a final slash (`//twirp/...`, which LiveKit itself reads as
//! `/twirp/...`), a backslash (`\`, `%5C`). An encoded slash (`%2F`) stays inside its segment,
//! as routers that split before decoding (axum, Go's pattern `ServeMux`) read it.

use std::borrow::Cow;
use std::fmt;

use http::header::HeaderName;
use http::{HeaderMap, HeaderValue, Method, Uri};

/// nginx `auth_request`'s conventional headers.
pub const X_ORIGINAL_URI: HeaderName = HeaderName::from_static("x-original-uri");
/// nginx `auth_request`'s conventional headers.
pub const X_ORIGINAL_METHOD: HeaderName = HeaderName::from_static("x-original-method");
/// Caddy `forward_auth` and Traefik `ForwardAuth`.
pub const X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");
/// Caddy `forward_auth` and Traefik `ForwardAuth`.
pub const X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");
/// Caddy and Traefik: the original `Host`, for the logs only.
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The request a proxy asks about.
#[derive(Clone, Debug)]
pub(crate) struct Original {
    pub(crate) method: Method,
    /// Origin form, its path normalized, its query as sent.
    pub(crate) uri: Uri,
}

/// Why the original request could not be read: the proxy's configuration (or a client's
/// header) is wrong. Its text says what to send instead; it never quotes a header's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadOriginal(pub(crate) Cow<'static, str>);

impl fmt::Display for BadOriginal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Original {
    /// From `X-Original-URI` + `X-Original-Method` (nginx) or `X-Forwarded-Uri` +
    /// `X-Forwarded-Method` (Caddy, Traefik).
    pub(crate) fn from_forward_headers(headers: &HeaderMap) -> Result<Original, BadOriginal> {
        let uri = either(headers, &X_ORIGINAL_URI, &X_FORWARDED_URI)?.ok_or(BadOriginal(
            Cow::Borrowed(
                "no original URI: the proxy must send X-Original-URI (nginx: proxy_set_header \
                 X-Original-URI $request_uri) or X-Forwarded-Uri (Caddy forward_auth and \
                 Traefik ForwardAuth send it)",
            ),
        ))?;
        let method = either(headers, &X_ORIGINAL_METHOD, &X_FORWARDED_METHOD)?.ok_or(
            BadOriginal(Cow::Borrowed(
                "no original method: the proxy must send X-Original-Method (nginx: \
                 proxy_set_header X-Original-Method $request_method) or X-Forwarded-Method \
                 (Caddy and Traefik send it)",
            )),
        )?;
        Ok(Original {
            method: method_of(method.as_bytes())?,
            uri: uri_of(uri.as_bytes())?,
        })
    }

    /// Envoy's HTTP `ext_authz`: the original path is what follows `prefix` in `uri`'s path
    /// (`/` when nothing does), with `uri`'s query; the method is the check's own.
    pub(crate) fn from_prefixed(
        method: &Method,
        uri: &Uri,
        prefix: &str,
    ) -> Result<Original, BadOriginal> {
        let rest = uri
            .path()
            .strip_prefix(prefix)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .ok_or(BadOriginal(Cow::Borrowed(
                "the path does not start with the ext_authz prefix",
            )))?;
        let path = if rest.is_empty() { "/" } else { rest };
        let target = match uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
        Ok(Original {
            method: method.clone(),
            uri: uri_of(target.as_bytes())?,
        })
    }

    /// Envoy's gRPC `CheckRequest`: `attributes.request.http`'s `method` and `path` (with the
    /// query).
    pub(crate) fn from_parts(method: &str, path: &str) -> Result<Original, BadOriginal> {
        if path.is_empty() {
            return Err(BadOriginal(Cow::Borrowed(
                "the CheckRequest has no attributes.request.http.path",
            )));
        }
        if method.is_empty() {
            return Err(BadOriginal(Cow::Borrowed(
                "the CheckRequest has no attributes.request.http.method",
            )));
        }
        Ok(Original {
            method: method_of(method.as_bytes())?,
            uri: uri_of(path.as_bytes())?,
        })
    }
}

/// The value of `first` or of `second`, whichever is present; both present must agree, and
/// neither may be sent twice.
fn either<'h>(
    headers: &'h HeaderMap,
    first: &HeaderName,
    second: &HeaderName,
) -> Result<Option<&'h HeaderValue>, BadOriginal> {
    match (single(headers, first)?, single(headers, second)?) {
        (Some(a), Some(b)) if a != b => Err(BadOriginal(Cow::Owned(format!(
            "{first} and {second} disagree: send one of them (the other may come from the \
             client; the proxy must set or clear it)"
        )))),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

fn single<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'h HeaderValue>, BadOriginal> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(BadOriginal(Cow::Owned(format!(
            "{name} was sent more than once: the proxy must set it, not add to the client's"
        ))));
    }
    Ok(first)
}

fn method_of(value: &[u8]) -> Result<Method, BadOriginal> {
    Method::from_bytes(value).map_err(|_| {
        BadOriginal(Cow::Borrowed(
            "the original method is not an HTTP method token",
        ))
    })
}

/// The origin-form URI of a request target (`/path?query`, or the path and query of an
/// absolute-form target), its path normalized.
fn uri_of(target: &[u8]) -> Result<Uri, BadOriginal> {
    let uri = Uri::try_from(target).map_err(|_| {
        BadOriginal(Cow::Borrowed(
            "the original URI is not a request target (`/path?query`): send the request's URI \
             as the client sent it (nginx: $request_uri)",
        ))
    })?;
    let path = uri.path();
    if !path.starts_with('/') {
        return Err(BadOriginal(Cow::Borrowed(
            "the original URI has no path starting with `/`",
        )));
    }
    let path = normalize_path(path).map_err(|why| BadOriginal(Cow::Owned(why)))?;
    let unchanged = matches!(path, Cow::Borrowed(_)) && uri.scheme().is_none();
    if unchanged {
        // The common case: an origin-form target already in normal form.
        return Ok(uri);
    }
    let target: String = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.into_owned(),
    };
    Uri::try_from(target)
        .map_err(|_| BadOriginal(Cow::Borrowed("the original URI is not a request target")))
}

/// `path` in the normal form of the module docs, or why it cannot be.
pub(crate) fn normalize_path(path: &str) -> Result<Cow<'_, str>, String> {
    let normalized = if path
        .bytes()
        .all(|b| b != b'%' && (b == b'/' || is_pchar(b)))
    {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(normalize_bytes(path)?)
    };
    let body = normalized.strip_prefix('/').unwrap_or(&normalized);
    let count = body.split('/').count();
    for (i, segment) in body.split('/').enumerate() {
        if segment == "." || segment == ".." {
            return Err(format!(
                "a dot segment (`{segment}`): send the path with dot segments removed"
            ));
        }
        if segment.is_empty() && i + 1 < count {
            return Err(String::from(
                "an empty segment (`//`): send the path without it",
            ));
        }
        if segment.contains("%5C") {
            return Err(String::from("a backslash, which servers read differently"));
        }
    }
    Ok(normalized)
}

/// RFC 3986 `pchar` less `%`: unreserved, sub-delims, `:` and `@`.
fn is_pchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

/// Decodes the escapes of unreserved characters, upper-cases the others, and escapes every
/// byte a path may not hold as it is (UTF-8, `"`, `\`, `{`, ...), as RFC 3986 producers do.
fn normalize_bytes(path: &str) -> Result<String, String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len() + 8);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            if b == b'/' || is_pchar(b) {
                out.push(b as char);
            } else {
                push_escape(&mut out, b);
            }
            i += 1;
            continue;
        }
        let hex = |b: u8| (b as char).to_digit(16);
        let (Some(high), Some(low)) = (
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) else {
            return Err(String::from(
                "a `%` that is not a percent-encoded byte (`%` and two hex digits)",
            ));
        };
        let byte = (high * 16 + low) as u8;
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            push_escape(&mut out, byte);
        }
        i += 3;
    }
    Ok(out)
}

fn push_escape(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[usize::from(byte >> 4)] as char);
    out.push(HEX[usize::from(byte & 15)] as char);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&HeaderName, &[u8])]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            let value = HeaderValue::from_bytes(value).expect("header value");
            headers.append((*name).clone(), value);
        }
        headers
    }

    fn read(pairs: &[(&HeaderName, &[u8])]) -> Result<(String, String), BadOriginal> {
        Original::from_forward_headers(&headers(pairs))
            .map(|o| (o.method.to_string(), o.uri.to_string()))
    }

    #[test]
    fn nginx_and_forwarded_headers_name_the_original_request() {
        let nginx = read(&[
            (&X_ORIGINAL_URI, b"/rtc?access_token=a.b.c"),
            (&X_ORIGINAL_METHOD, b"GET"),
        ]);
        assert_eq!(nginx, Ok(("GET".into(), "/rtc?access_token=a.b.c".into())));
        let caddy = read(&[
            (&X_FORWARDED_URI, b"/twirp/livekit.RoomService/ListRooms"),
            (&X_FORWARDED_METHOD, b"POST"),
            (&X_FORWARDED_HOST, b"example.com"),
        ]);
        assert_eq!(
            caddy,
            Ok(("POST".into(), "/twirp/livekit.RoomService/ListRooms".into()))
        );
        // Both conventions, agreeing: fine.
        let both = read(&[
            (&X_ORIGINAL_URI, b"/a"),
            (&X_FORWARDED_URI, b"/a"),
            (&X_FORWARDED_METHOD, b"PATCH"),
        ]);
        assert_eq!(both, Ok(("PATCH".into(), "/a".into())));
        let absolute = read(&[
            (&X_ORIGINAL_URI, b"http://example.com/%72tc/validate?x=%41"),
            (&X_ORIGINAL_METHOD, b"GET"),
        ]);
        assert_eq!(absolute, Ok(("GET".into(), "/rtc/validate?x=%41".into())));
        // Bytes a path may not hold as they are, UTF-8 included, are escaped.
        let raw = read(&[
            (&X_ORIGINAL_URI, b"/rooms/caf\xc3\xa9/{x}"),
            (&X_ORIGINAL_METHOD, b"GET"),
        ]);
        assert_eq!(raw, Ok(("GET".into(), "/rooms/caf%C3%A9/%7Bx%7D".into())));
    }

    #[test]
    fn missing_repeated_disagreeing_or_odd_headers_are_refused_with_what_to_send() {
        type Headers<'a> = &'a [(&'a HeaderName, &'a [u8])];
        let cases: &[(Headers<'_>, &str)] = &[
            (&[(&X_ORIGINAL_METHOD, b"GET")], "X-Original-URI"),
            (&[(&X_ORIGINAL_URI, b"/a")], "X-Original-Method"),
            (
                &[
                    (&X_ORIGINAL_URI, b"/a"),
                    (&X_FORWARDED_URI, b"/b"),
                    (&X_ORIGINAL_METHOD, b"GET"),
                ],
                "disagree",
            ),
            (
                &[
                    (&X_ORIGINAL_URI, b"/a"),
                    (&X_ORIGINAL_URI, b"/a"),
                    (&X_ORIGINAL_METHOD, b"GET"),
                ],
                "more than once",
            ),
            (
                &[(&X_ORIGINAL_URI, b"/a"), (&X_ORIGINAL_METHOD, b"G E T")],
                "method token",
            ),
            (
                &[(&X_ORIGINAL_URI, b"/a b"), (&X_ORIGINAL_METHOD, b"GET")],
                "request target",
            ),
            (
                &[
                    (&X_ORIGINAL_URI, b"GET /a HTTP/1.1"),
                    (&X_ORIGINAL_METHOD, b"GET"),
                ],
                "request target",
            ),
            (
                &[(&X_ORIGINAL_URI, b"*"), (&X_ORIGINAL_METHOD, b"OPTIONS")],
                "path",
            ),
            (
                &[
                    (&X_ORIGINAL_URI, b"example.com:443"),
                    (&X_ORIGINAL_METHOD, b"CONNECT"),
                ],
                "path",
            ),
            (
                &[
                    (&X_ORIGINAL_URI, b"/a/%2e%2E/b"),
                    (&X_ORIGINAL_METHOD, b"GET"),
                ],
                "dot segment",
            ),
            (
                &[
                    (&X_ORIGINAL_URI, b"//twirp/x"),
                    (&X_ORIGINAL_METHOD, b"GET"),
                ],
                "empty segment",
            ),
            (
                &[(&X_ORIGINAL_URI, b"/a%5cb"), (&X_ORIGINAL_METHOD, b"GET")],
                "backslash",
            ),
            (
                &[(&X_ORIGINAL_URI, b"/a%zz"), (&X_ORIGINAL_METHOD, b"GET")],
                "percent-encoded",
            ),
        ];
        for (pairs, says) in cases {
            let err = read(pairs).expect_err(says);
            assert!(err.0.contains(says), "{says}: {err}");
        }
        let huge = format!("/{}", "a".repeat(70_000));
        let err = read(&[
            (&X_ORIGINAL_URI, huge.as_bytes()),
            (&X_ORIGINAL_METHOD, b"GET"),
        ]);
        assert!(err.is_err());
    }

    #[test]
    fn envoy_prefixed_paths_keep_their_query() {
        let uri: Uri = "/ext_authz/rtc/v1?access_token=a.b.c".parse().expect("uri");
        let original = Original::from_prefixed(&Method::GET, &uri, "/ext_authz").expect("ok");
        assert_eq!(original.uri, "/rtc/v1?access_token=a.b.c");
        let root: Uri = "/ext_authz?x=1".parse().expect("uri");
        let original = Original::from_prefixed(&Method::POST, &root, "/ext_authz").expect("ok");
        assert_eq!(
            (original.method, original.uri.to_string()),
            (Method::POST, "/?x=1".into())
        );
        let other: Uri = "/ext_authzx/rtc".parse().expect("uri");
        assert!(Original::from_prefixed(&Method::GET, &other, "/ext_authz").is_err());
    }

    #[test]
    fn normal_form_decodes_unreserved_escapes_only() {
        assert_eq!(
            normalize_path("/%72tc/%7evalidate").as_deref(),
            Ok("/rtc/~validate")
        );
        assert_eq!(
            normalize_path("/rooms/a%2fb%20c").as_deref(),
            Ok("/rooms/a%2Fb%20c")
        );
        assert_eq!(normalize_path("/rooms/").as_deref(), Ok("/rooms/"));
        assert_eq!(normalize_path("/").as_deref(), Ok("/"));
        assert!(matches!(
            normalize_path("/plain/path"),
            Ok(Cow::Borrowed(_))
        ));
        assert!(normalize_path("/a/.").is_err());
        assert!(normalize_path("/a/%2E/b").is_err());
        assert!(normalize_path("/a\\b").is_err());
        assert!(normalize_path("/a%5cb").is_err());
        assert!(normalize_path("/a%").is_err());
        assert!(normalize_path("/a%4").is_err());
    }
}
