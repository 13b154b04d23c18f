//! What an allowed request carries to the upstream: the identity headers, built once from the
//! effective claims (after the participant state), for the HTTP answer and the gRPC one alike.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::header::{HeaderName, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use tower_livekit_auth::Claims;

use super::original::BadOriginal;

/// The participant identity (`sub`, or `jti`), percent-encoded UTF-8 (controls, spaces, `%`
/// and bytes past ASCII as `%XX`, other characters as they are); empty when the token names
/// none.
pub const IDENTITY_HEADER: HeaderName = HeaderName::from_static("x-livekit-identity");
/// The token's room (`video.room`), percent-encoded as the identity; empty when the token
/// names none.
pub const ROOM_HEADER: HeaderName = HeaderName::from_static("x-livekit-room");
/// The effective claims: the token's claims with the participant's updates applied, as JSON
/// (LiveKit's camelCase keys), base64url without padding.
pub const CLAIMS_HEADER: HeaderName = HeaderName::from_static("x-livekit-claims");

/// Every header the gate may set for the upstream: a proxy must drop the client's own.
pub const IDENTITY_HEADERS: [HeaderName; 3] = [IDENTITY_HEADER, ROOM_HEADER, CLAIMS_HEADER];

/// What a header value cannot carry as it is (controls, and bytes past ASCII), a space
/// (trimmed at either end by header parsers) and `%` itself: those bytes of the UTF-8 are
/// `%XX`, every other character stays (`alice@example.com` is itself).
const ENCODED: &AsciiSet = &CONTROLS.add(b' ').add(b'%');

/// The identity headers of `claims`, in [`IDENTITY_HEADERS`]' order. Identity and room are
/// percent-encoded UTF-8 (a percent-decoder gives them back exactly); visible ASCII other than
/// `%` stays as it is.
pub(crate) fn identity_headers(claims: &Claims) -> [(HeaderName, HeaderValue); 3] {
    let encoded = |text: &str| header_value(utf8_percent_encode(text, ENCODED).to_string());
    // Serializing claims cannot fail (strings, numbers, maps); an empty object if it ever did.
    let json = serde_json::to_vec(claims).unwrap_or_else(|_| b"{}".to_vec());
    [
        (IDENTITY_HEADER, encoded(claims.identity())),
        (ROOM_HEADER, encoded(claims.room())),
        (CLAIMS_HEADER, header_value(URL_SAFE_NO_PAD.encode(json))),
    ]
}

/// The identity headers of an allowed request without a token (a `public` route): present
/// and empty, so that whatever a client sent under these names is replaced on the way to the
/// upstream by every proxy, even one that copies only the headers the gate answers with.
pub(crate) fn empty_identity_headers() -> [(HeaderName, HeaderValue); 3] {
    IDENTITY_HEADERS.map(|name| (name, HeaderValue::from_static("")))
}

/// A plain-text answer of the gate's own (no route of the policy, an original request it
/// cannot read, a path it does not serve), for the HTTP routes and the gRPC check alike.
pub(crate) fn text_plain(status: StatusCode, text: impl Into<String>) -> Response<String> {
    let mut response = Response::new(text.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The 400 for an original request the gate cannot read.
pub(crate) fn bad_original(err: &BadOriginal) -> Response<String> {
    text_plain(
        StatusCode::BAD_REQUEST,
        format!("lkauth gate cannot read the original request: {err}\n"),
    )
}

/// Percent-encoded text and base64url are visible ASCII: always a valid header value.
fn header_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).unwrap_or(HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_room_are_percent_encoded_and_claims_are_base64url_json() {
        let claims: Claims = serde_json::from_str(
            r#"{"iss":"k","sub":"José\n<b>","exp":1,"video":{"roomJoin":true,"room":"salle 1"}}"#,
        )
        .expect("claims");
        let [identity, room, json] = identity_headers(&claims);
        assert_eq!(identity.1, "Jos%C3%A9%0A<b>");
        assert_eq!(room.1, "salle%201");
        let decoded = URL_SAFE_NO_PAD
            .decode(json.1.as_bytes())
            .expect("base64url");
        let back: serde_json::Value = serde_json::from_slice(&decoded).expect("JSON");
        assert_eq!(back["sub"], "José\n<b>");
        assert_eq!(back["video"]["room"], "salle 1");
        assert!(!json.1.to_str().expect("ascii").contains('='));
        let email: Claims =
            serde_json::from_str(r#"{"iss":"k","sub":" a+b@x.org 100%","exp":1}"#).expect("claims");
        assert_eq!(identity_headers(&email)[0].1, "%20a+b@x.org%20100%25");
        let none: Claims = serde_json::from_str(r#"{"iss":"k","exp":1}"#).expect("claims");
        let [identity, room, _] = identity_headers(&none);
        assert_eq!(
            (identity.1.as_bytes(), room.1.as_bytes()),
            (&b""[..], &b""[..])
        );
    }
}
