//! [`AuthRejection`]: why a request was refused, and the response that says so, in plain HTTP
//! (RFC 6750) or in gRPC.

use std::fmt::{self, Write as _};

use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use super::realm::Realm;
use crate::credentials::MalformedCredentials;
use crate::verify::{VerifyError, VerifyErrorKind};

/// Why the [`AuthLayer`](super::AuthLayer) or a [`RequireLayer`](super::RequireLayer) refused a
/// request.
///
/// It rides in the extensions of the rejection response, so outer layers and tests can read it,
/// and an [`OnRejection`](super::OnRejection) handler gets it to build its own response (JSON, twirp, ...). Its
/// `Display` never contains the token or a secret.
///
/// It also knows whether the refused request was a gRPC call ([`is_grpc`](Self::is_grpc)), so
/// that [`to_response`](Self::to_response) answers the way the client understands. Its `Debug`
/// carries its message, so that a `main` that returns it says what went wrong.
#[derive(Clone)]
pub struct AuthRejection {
    reason: Reason,
    realm: Realm,
    // Read once from the request's `content-type`, when the request is refused.
    grpc: bool,
}

#[derive(Clone, Debug)]
enum Reason {
    Missing,
    /// No token where this route reads one, but one in `?access_token=`, which it does not.
    MissingQueryTokenIgnored,
    Malformed(MalformedCredentials),
    Invalid(VerifyError),
    Insufficient(&'static str),
}

impl RejectionKind {
    /// A stable snake_case name, for logs and metrics.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectionKind::MissingToken => "missing_token",
            RejectionKind::MalformedRequest => "malformed_request",
            RejectionKind::InvalidToken => "invalid_token",
            RejectionKind::Unavailable => "unavailable",
            RejectionKind::InsufficientScope => "insufficient_scope",
        }
    }
}

/// What kind of [`AuthRejection`] this is, with its HTTP status (RFC 6750 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No token at all: 401 with `WWW-Authenticate: Bearer realm="..."`.
    MissingToken,
    /// The `Authorization` header or the query parameter is not a well-formed bearer credential:
    /// 400, `error="invalid_request"`.
    MalformedRequest,
    /// The token did not verify: 401, `error="invalid_token"`.
    InvalidToken,
    /// The token cannot be judged now: the participant state it depends on is unavailable
    /// (a fail-closed Redis backend too stale, see
    /// `RedisOptions::with_fail_closed_after` in [`crate::state`]): 503 with `Retry-After`, gRPC `UNAVAILABLE` (14).
    Unavailable,
    /// The token is valid but lacks a grant the route requires: 403,
    /// `error="insufficient_scope"`.
    InsufficientScope,
}

impl AuthRejection {
    pub(crate) fn missing(realm: &Realm) -> Self {
        AuthRejection {
            reason: Reason::Missing,
            realm: realm.clone(),
            grpc: false,
        }
    }

    /// [`missing`](Self::missing), for a request whose token is in `?access_token=` where the
    /// layer reads the header only: the refusal says so.
    pub(crate) fn missing_query_token_ignored(realm: &Realm) -> Self {
        AuthRejection {
            reason: Reason::MissingQueryTokenIgnored,
            realm: realm.clone(),
            grpc: false,
        }
    }

    pub(crate) fn malformed(err: MalformedCredentials, realm: &Realm) -> Self {
        AuthRejection {
            reason: Reason::Malformed(err),
            realm: realm.clone(),
            grpc: false,
        }
    }

    pub(crate) fn invalid(err: VerifyError, realm: &Realm) -> Self {
        AuthRejection {
            reason: Reason::Invalid(err),
            realm: realm.clone(),
            grpc: false,
        }
    }

    pub(crate) fn insufficient(requirement: &'static str, realm: &Realm) -> Self {
        AuthRejection {
            reason: Reason::Insufficient(requirement),
            realm: realm.clone(),
            grpc: false,
        }
    }

    /// Marks the rejection as one of a gRPC call when `headers` say so (see
    /// [`is_grpc`](Self::is_grpc)).
    pub(crate) fn for_request(mut self, headers: &HeaderMap) -> Self {
        self.grpc = is_grpc_request(headers);
        self
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> RejectionKind {
        match self.reason {
            Reason::Missing | Reason::MissingQueryTokenIgnored => RejectionKind::MissingToken,
            Reason::Malformed(_) => RejectionKind::MalformedRequest,
            Reason::Invalid(err) if err.kind() == VerifyErrorKind::StateUnavailable => {
                RejectionKind::Unavailable
            }
            Reason::Invalid(_) => RejectionKind::InvalidToken,
            Reason::Insufficient(_) => RejectionKind::InsufficientScope,
        }
    }

    /// Why the token did not verify, for [`RejectionKind::InvalidToken`].
    #[must_use]
    pub fn verify_error(&self) -> Option<&VerifyError> {
        match &self.reason {
            Reason::Invalid(err) => Some(err),
            _ => None,
        }
    }

    /// The grant the route required, for [`RejectionKind::InsufficientScope`].
    #[must_use]
    pub fn required_grant(&self) -> Option<&'static str> {
        match self.reason {
            Reason::Insufficient(grant) => Some(grant),
            _ => None,
        }
    }

    /// Whether the refused request was a gRPC call: its `content-type` is `application/grpc`,
    /// alone, with a subtype (`application/grpc+proto`, `+json`, or any other: the gRPC spec
    /// lets clients name their own) or with parameters, in any case.
    ///
    /// gRPC-Web (`application/grpc-web`, `application/grpc-web-text`, ...) is not: its answers
    /// have their own content types and framing, the business of a gRPC-Web translator such
    /// as `tonic-web`'s `GrpcWebLayer`. Put that layer outside the
    /// [`AuthLayer`](super::AuthLayer): the request the layers see is then gRPC, and the
    /// translator hands the refusal on as a gRPC-Web response. Without a translator in front,
    /// a gRPC-Web request is refused as plain HTTP (401, 400 or 403), which gRPC-Web clients
    /// read as `UNAUTHENTICATED`, `INTERNAL` or `PERMISSION_DENIED`.
    #[must_use]
    pub fn is_grpc(&self) -> bool {
        self.grpc
    }

    /// The gRPC status code of this rejection: 16 (`UNAUTHENTICATED`) for a missing, malformed
    /// or invalid token, 7 (`PERMISSION_DENIED`) for a valid token lacking the grant, 14
    /// (`UNAVAILABLE`) when the participant state is unavailable. The
    /// gRPC response (see [`to_response`](Self::to_response)) carries it in `grpc-status`.
    #[must_use]
    pub fn grpc_status(&self) -> u16 {
        match self.kind() {
            RejectionKind::MissingToken
            | RejectionKind::MalformedRequest
            | RejectionKind::InvalidToken => GRPC_UNAUTHENTICATED,
            RejectionKind::InsufficientScope => GRPC_PERMISSION_DENIED,
            RejectionKind::Unavailable => GRPC_UNAVAILABLE,
        }
    }

    /// The `grpc-message` of the gRPC response: this rejection's `Display` text, percent-encoded
    /// as the gRPC over HTTP/2 spec requires (every byte outside printable ASCII, and `%`).
    #[must_use]
    pub fn grpc_message(&self) -> HeaderValue {
        let mut message = String::with_capacity(96);
        // Writing to a `String` cannot fail.
        let _ = write!(message, "{self}");
        // Percent-encoded text is visible ASCII and spaces, which a header value can hold.
        HeaderValue::try_from(percent_encode_grpc_message(message))
            .unwrap_or(HeaderValue::from_static("LiveKit token refused"))
    }

    /// The HTTP status of the plain-HTTP response: 401, 400, 403 or 503. A gRPC call is answered 200
    /// with the code in `grpc-status` instead (see [`grpc_status`](Self::grpc_status)).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self.kind() {
            RejectionKind::MissingToken | RejectionKind::InvalidToken => StatusCode::UNAUTHORIZED,
            RejectionKind::MalformedRequest => StatusCode::BAD_REQUEST,
            RejectionKind::InsufficientScope => StatusCode::FORBIDDEN,
            RejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `WWW-Authenticate` challenge of RFC 6750 §3.
    #[must_use]
    pub fn www_authenticate(&self) -> HeaderValue {
        // Built by appending (not `format!`): it is on every refused request.
        let error = match self.kind() {
            RejectionKind::MissingToken | RejectionKind::Unavailable => None,
            RejectionKind::MalformedRequest => Some("invalid_request"),
            RejectionKind::InvalidToken => Some("invalid_token"),
            RejectionKind::InsufficientScope => Some("insufficient_scope"),
        };
        let mut value = String::with_capacity(160);
        value.push_str("Bearer realm=\"");
        value.push_str(self.realm.as_str());
        value.push('"');
        if let Some(error) = error {
            value.push_str(", error=\"");
            value.push_str(error);
            value.push_str("\", error_description=\"");
            // Writing to a `String` cannot fail.
            let _ = write!(value, "{self}");
            value.push('"');
        }
        // Every message is ASCII without quotes (checked in tests); fall back to the bare
        // challenge rather than fail if that ever changes.
        HeaderValue::try_from(value).unwrap_or(HeaderValue::from_static("Bearer"))
    }

    /// The default response, with this rejection in the extensions:
    ///
    /// - plain HTTP: the [`status`](Self::status), the
    ///   [`WWW-Authenticate`](Self::www_authenticate) challenge (`Retry-After` for
    ///   [`RejectionKind::Unavailable`]), and the reason as a short `text/plain` body (the
    ///   words of the challenge's `error_description`, so that `curl` without `-i` shows why).
    ///   The body is written when `B` is one the crate can fill: `String`, `Vec<u8>`, `Bytes`,
    ///   `http_body_util::Full<Bytes>`, [`FullBody`](crate::body::FullBody), and axum's `Body`
    ///   with the `axum` feature; any other body type gets an empty body (an
    ///   [`OnRejection`](super::OnRejection) of its own can write one);
    /// - a gRPC call ([`is_grpc`](Self::is_grpc)): a trailers-only gRPC response, that is
    ///   status 200 with `content-type: application/grpc`, `grpc-status`
    ///   ([`grpc_status`](Self::grpc_status)) and `grpc-message`
    ///   ([`grpc_message`](Self::grpc_message)), which gRPC clients report as the call's status,
    ///   and an empty body.
    pub fn to_response<B: Default + 'static>(&self) -> Response<B> {
        let text = (!self.grpc)
            .then(|| crate::body::text(format!("{self}\n")))
            .flatten();
        let has_text = text.is_some();
        let mut response = Response::new(text.unwrap_or_default());
        let headers = response.headers_mut();
        if has_text {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        if self.grpc {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
            let status = match self.grpc_status() {
                GRPC_PERMISSION_DENIED => HeaderValue::from_static("7"),
                GRPC_UNAVAILABLE => HeaderValue::from_static("14"),
                _ => HeaderValue::from_static("16"),
            };
            headers.insert(GRPC_STATUS, status);
            headers.insert(GRPC_MESSAGE, self.grpc_message());
        } else if self.kind() == RejectionKind::Unavailable {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
            *response.status_mut() = self.status();
        } else {
            headers.insert(WWW_AUTHENTICATE, self.www_authenticate());
            *response.status_mut() = self.status();
        }
        response.extensions_mut().insert(self.clone());
        response
    }
}

/// gRPC's `UNAUTHENTICATED`.
const GRPC_UNAUTHENTICATED: u16 = 16;
/// gRPC's `PERMISSION_DENIED`.
const GRPC_PERMISSION_DENIED: u16 = 7;
/// gRPC's `UNAVAILABLE`.
const GRPC_UNAVAILABLE: u16 = 14;
const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");

/// What `grpc-message` must percent-encode besides non-ASCII: the gRPC spec leaves space and
/// visible ASCII as they are, except `%` itself.
const GRPC_MESSAGE_ESCAPED: &AsciiSet = &CONTROLS.add(b'%');

/// `message` percent-encoded for `grpc-message`.
fn percent_encode_grpc_message(message: String) -> String {
    // Every rejection message is printable ASCII without `%` (checked in tests): encoding then
    // changes nothing, so the text is kept as it is, without a second buffer.
    if message
        .bytes()
        .all(|byte| (0x20..0x7f).contains(&byte) && byte != b'%')
    {
        message
    } else {
        utf8_percent_encode(&message, GRPC_MESSAGE_ESCAPED).to_string()
    }
}

/// Whether the request's `content-type` is `application/grpc`, `application/grpc+<subtype>` or
/// `application/grpc;<parameters>` (media types compare without case). See
/// [`AuthRejection::is_grpc`].
pub(crate) fn is_grpc_request(headers: &HeaderMap) -> bool {
    const GRPC: &[u8] = b"application/grpc";
    let Some(value) = headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes) else {
        return false;
    };
    value
        .get(..GRPC.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(GRPC))
        && matches!(value.get(GRPC.len()), None | Some(b'+' | b';'))
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRejection")
            .field("kind", &self.kind())
            .field("message", &self.to_string())
            .field("realm", &self.realm.as_str())
            .field("grpc", &self.grpc)
            .finish()
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Missing => f.write_str("missing bearer token"),
            Reason::MissingQueryTokenIgnored => f.write_str(
                "missing bearer token: send it as `Authorization: Bearer <token>`; this route \
                 does not read ?access_token= (query tokens are off)",
            ),
            Reason::Malformed(err) => write!(f, "malformed credentials: {err}"),
            Reason::Invalid(err) => write!(f, "{err}"),
            Reason::Insufficient(grant) => {
                write!(
                    f,
                    "the token does not grant what this route requires ({grant})"
                )
            }
        }
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.reason {
            Reason::Invalid(err) => Some(err),
            Reason::Malformed(err) => Some(err),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::header::AUTHORIZATION;
    use http::Request;
    use tower::{service_fn, ServiceBuilder, ServiceExt};

    use super::*;
    use crate::middleware::{extract_token, AuthLayer, RequireLayer, TokenLocation};
    use crate::verify::{VerifyError, VerifyErrorKind};
    use crate::{AccessToken, KeyRing, Verifier, VideoGrant};

    fn headers(content_type: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_type {
            headers.insert(CONTENT_TYPE, value.parse().expect("header value"));
        }
        headers
    }

    /// One rejection of every kind, each with the gRPC code it must get.
    fn rejections() -> Vec<(AuthRejection, &'static str)> {
        let realm = crate::middleware::realm::Realm::default();
        let mut authorization = HeaderMap::new();
        authorization.insert(AUTHORIZATION, "Basic x".parse().expect("header value"));
        let malformed = extract_token(&authorization, None, TokenLocation::Header)
            .expect_err("not a bearer credential");
        vec![
            (AuthRejection::missing(&realm), "16"),
            (AuthRejection::malformed(malformed, &realm), "16"),
            (
                AuthRejection::invalid(VerifyError::new(VerifyErrorKind::Expired), &realm),
                "16",
            ),
            (AuthRejection::insufficient("roomCreate", &realm), "7"),
        ]
    }

    #[test]
    fn grpc_is_application_grpc_with_any_subtype_or_parameters_in_any_case() {
        for grpc in [
            "application/grpc",
            "application/grpc+proto",
            "application/grpc+json",
            "application/grpc+thrift",
            "application/grpc; charset=utf-8",
            "Application/GRPC+Proto",
        ] {
            assert!(is_grpc_request(&headers(Some(grpc))), "{grpc}");
        }
        for plain in [
            None,
            Some(""),
            Some("application/json"),
            Some("application/gr"),
            Some("application/grpcx"),
            Some("application/grpc-web"),
            Some("application/grpc-web+proto"),
            Some("application/grpc-web-text"),
            Some("text/plain; application/grpc"),
        ] {
            assert!(!is_grpc_request(&headers(plain)), "{plain:?}");
        }
    }

    #[test]
    fn a_grpc_rejection_is_a_trailers_only_200_with_its_code_and_message() {
        for (rejection, code) in rejections() {
            let rejection = rejection.for_request(&headers(Some("application/grpc+proto")));
            assert!(rejection.is_grpc());
            assert_eq!(rejection.grpc_status().to_string(), code);
            let response: Response<String> = rejection.to_response();
            assert_eq!(response.status(), StatusCode::OK, "{rejection}");
            let headers = response.headers();
            assert_eq!(headers[CONTENT_TYPE], "application/grpc");
            assert_eq!(headers["grpc-status"], code);
            // The messages need no escaping, so the header is the text itself.
            assert_eq!(headers["grpc-message"], rejection.to_string().as_str());
            assert!(headers.get(WWW_AUTHENTICATE).is_none());
            assert!(response.body().is_empty());
            let carried = response.extensions().get::<AuthRejection>();
            assert!(carried.is_some_and(AuthRejection::is_grpc));
        }
    }

    #[test]
    fn a_plain_http_rejection_keeps_rfc_6750_and_says_why_in_its_body() {
        for (rejection, _) in rejections() {
            // gRPC-Web is plain HTTP to the layers (see `is_grpc`).
            let rejection = rejection.for_request(&headers(Some("application/grpc-web+proto")));
            assert!(!rejection.is_grpc());
            let response: Response<String> = rejection.to_response();
            assert_eq!(response.status(), rejection.status());
            assert_ne!(response.status(), StatusCode::OK);
            let headers = response.headers();
            assert_eq!(headers[WWW_AUTHENTICATE], rejection.www_authenticate());
            assert!(headers.get("grpc-status").is_none());
            assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
            assert_eq!(response.body(), &format!("{rejection}\n"));
        }
    }

    #[test]
    fn a_body_type_the_crate_cannot_fill_gets_an_empty_body_and_no_content_type() {
        for (rejection, _) in rejections() {
            let response: Response<http_body_util::Empty<bytes::Bytes>> = rejection.to_response();
            assert_eq!(response.status(), rejection.status());
            assert!(response.headers().get(CONTENT_TYPE).is_none());
            assert_eq!(
                response.headers()[WWW_AUTHENTICATE],
                rejection.www_authenticate()
            );
        }
    }

    #[test]
    fn grpc_message_percent_encodes_exactly_what_the_spec_requires() {
        let encoded = percent_encode_grpc_message("100% sûr\n\t~ \"ok\" {}".into());
        assert_eq!(encoded, "100%25 s%C3%BBr%0A%09~ \"ok\" {}");
        let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8();
        assert_eq!(decoded.expect("utf-8"), "100% sûr\n\t~ \"ok\" {}");
        // Text with nothing to encode is handed back in its own buffer.
        let plain = String::from("the token has expired");
        let address = plain.as_ptr();
        let kept = percent_encode_grpc_message(plain);
        assert_eq!(
            (kept.as_str(), kept.as_ptr()),
            ("the token has expired", address)
        );
    }

    /// Both layers tell a gRPC call from its `content-type`, whichever of them refuses it.
    #[tokio::test]
    async fn both_layers_refuse_a_grpc_call_the_grpc_way() {
        const KEY: &str = "APIabcdefg";
        const SECRET: &str = "somesecretencodedinbase62extendto32bytes";
        let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"));
        let service = ServiceBuilder::new()
            .layer(AuthLayer::new(verifier))
            .layer(RequireLayer::create_rooms())
            .service(service_fn(|_: Request<String>| async {
                Ok::<_, Infallible>(Response::new(String::from("created")))
            }));
        let joiner = AccessToken::new(KEY, SECRET)
            .with_identity("alice")
            .with_video_grant(VideoGrant::join("myroom"))
            .to_jwt()
            .expect("mints");
        let cases = [
            (None, "application/grpc", StatusCode::OK, Some("16")),
            (None, "application/json", StatusCode::UNAUTHORIZED, None),
            (Some(&joiner), "application/grpc", StatusCode::OK, Some("7")),
            (
                Some(&joiner),
                "application/json",
                StatusCode::FORBIDDEN,
                None,
            ),
        ];
        for (token, content_type, status, grpc_status) in cases {
            let mut request =
                Request::post("/livekit.RoomService/CreateRoom").header(CONTENT_TYPE, content_type);
            if let Some(token) = token {
                request = request.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            let request = request.body(String::new()).expect("request");
            let response = service.clone().oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), status, "{content_type}");
            let code = response.headers().get("grpc-status");
            assert_eq!(code.map(|v| v.to_str().expect("ascii")), grpc_status);
        }
    }
}
