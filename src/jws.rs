//! What the JWS writer (minting) and the reader (verification) must agree on: the MAC
//! (HMAC-SHA256), the header encodings (the one the crate writes is one of those the reader
//! accepts unread), the signature's length, and base64url without padding. Kept in one place so
//! that the two cannot drift apart: a token the crate mints always takes the reader's fast path.
//!
//! Base64url goes through `base64-simd`, which picks AVX2, SSE4.1 or NEON at run time and falls
//! back to scalar code elsewhere: the payload decode was the crate's largest cost after JSON
//! (about 200 ns of a 470-byte join token with the `base64` crate's scalar engine). It accepts
//! exactly what the `base64` crate's `URL_SAFE_NO_PAD` accepts (the URL-safe alphabet, no
//! padding, zero trailing bits), which the tests below check against that crate.

use base64_simd::{Out, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The MAC of every LiveKit token (HS256).
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The base64url headers the SDKs write, compared byte for byte before anything is decoded:
/// Go and Python `{"alg":"HS256","typ":"JWT"}`, Rust `{"typ":"JWT","alg":"HS256"}`,
/// Node `{"alg":"HS256"}`.
pub(crate) const KNOWN_HS256_HEADERS: [&[u8]; 3] = [
    b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
    b"eyJhbGciOiJIUzI1NiJ9",
];

/// The header the crate writes: `{"typ":"JWT","alg":"HS256"}`, the Rust SDK's order, as the crate
/// has always written it (a token minted for the same claims is byte for byte what it was). One
/// of [`KNOWN_HS256_HEADERS`] by construction.
pub(crate) const WRITTEN_HEADER: &[u8] = KNOWN_HS256_HEADERS[1];

/// [`WRITTEN_HEADER`] as text (base64url is ASCII), checked when the crate compiles.
const WRITTEN_HEADER_TEXT: &str = match std::str::from_utf8(WRITTEN_HEADER) {
    Ok(text) => text,
    Err(_) => panic!("a base64url header is ASCII"),
};

/// The base64url length of a 32-byte HMAC-SHA256 signature.
pub(crate) const SIGNATURE_B64_LEN: usize = 43;

/// An HMAC-SHA256 state keyed with `secret`.
pub(crate) fn keyed(secret: &[u8]) -> HmacSha256 {
    // An HMAC key may have any length, so keying cannot fail.
    HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

/// `header.payload.signature` for the JSON `payload`, under [`WRITTEN_HEADER`], signed with
/// `secret`.
pub(crate) fn sign(payload: &[u8], secret: &[u8]) -> String {
    // The exact length: header, dot, payload, dot, the signature.
    let mut token = String::with_capacity(
        WRITTEN_HEADER.len()
            + 2
            + URL_SAFE_NO_PAD.encoded_length(payload.len())
            + SIGNATURE_B64_LEN,
    );
    token.push_str(WRITTEN_HEADER_TEXT);
    token.push('.');
    URL_SAFE_NO_PAD.encode_append(payload, &mut token);
    let mut mac = keyed(secret);
    mac.update(token.as_bytes());
    let signature = mac.finalize().into_bytes();
    token.push('.');
    URL_SAFE_NO_PAD.encode_append(signature, &mut token);
    token
}

/// The number of bytes `segment` decodes to, or `None` for a length no unpadded base64url text
/// has (one character past a multiple of four).
#[inline]
pub(crate) fn decoded_len(segment: &[u8]) -> Option<usize> {
    URL_SAFE_NO_PAD.decoded_length(segment).ok()
}

/// Decodes `segment` into the front of `buffer` and returns the decoded bytes, or `None` if
/// `segment` is not canonical unpadded base64url or does not fit in `buffer`.
#[inline]
pub(crate) fn decode<'b>(segment: &[u8], buffer: &'b mut [u8]) -> Option<&'b mut [u8]> {
    // `base64_simd` panics on a short buffer; this never hands it one.
    if buffer.len() < decoded_len(segment)? {
        return None;
    }
    URL_SAFE_NO_PAD
        .decode(segment, Out::from_slice(buffer))
        .ok()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as SCALAR;
    use base64::Engine;
    use proptest::prelude::*;

    use super::*;

    /// Characters weighted towards the alphabet, with the ones a token must not have.
    fn segment() -> impl Strategy<Value = Vec<u8>> {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let byte = prop_oneof![
            20 => proptest::sample::select(alphabet.to_vec()),
            1 => proptest::sample::select(b"+/=. \0\x80\xff".to_vec()),
        ];
        proptest::collection::vec(byte, 0..200)
    }

    proptest! {
        #[test]
        fn decodes_exactly_what_the_base64_crate_decodes(segment in segment()) {
            let mut buffer = vec![0u8; decoded_len(&segment).unwrap_or(0)];
            let ours = decode(&segment, &mut buffer).map(|bytes| bytes.to_vec());
            prop_assert_eq!(ours, SCALAR.decode(&segment).ok());
        }

        #[test]
        fn round_trips_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let text = SCALAR.encode(&bytes);
            let mut buffer = vec![0u8; text.len()];
            prop_assert_eq!(decode(text.as_bytes(), &mut buffer).map(|b| b.to_vec()), Some(bytes));
        }

        #[test]
        fn signs_as_the_base64_crate_and_hmac_would(
            payload in proptest::collection::vec(any::<u8>(), 0..600),
            secret in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let input = format!("{}.{}", SCALAR.encode(r#"{"typ":"JWT","alg":"HS256"}"#), SCALAR.encode(&payload));
            let mut mac = HmacSha256::new_from_slice(&secret).expect("any key length");
            mac.update(input.as_bytes());
            let expected = format!("{input}.{}", SCALAR.encode(mac.finalize().into_bytes()));
            let token = sign(&payload, &secret);
            prop_assert_eq!(token.capacity(), token.len(), "the length is computed exactly");
            prop_assert_eq!(token, expected);
        }
    }

    #[test]
    fn the_known_headers_are_the_sdk_headers_and_the_written_one_is_among_them() {
        let decoded: Vec<String> = KNOWN_HS256_HEADERS
            .iter()
            .map(|h| String::from_utf8(SCALAR.decode(h).expect("base64")).expect("utf8"))
            .collect();
        assert_eq!(
            decoded,
            [
                r#"{"alg":"HS256","typ":"JWT"}"#,
                r#"{"typ":"JWT","alg":"HS256"}"#,
                r#"{"alg":"HS256"}"#
            ]
        );
        let written = SCALAR.decode(WRITTEN_HEADER).expect("base64url");
        assert_eq!(written, br#"{"typ":"JWT","alg":"HS256"}"#);
        assert!(sign(b"{}", b"k").starts_with("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."));
    }

    #[test]
    fn a_signature_is_43_characters() {
        let token = sign(b"{}", b"secret");
        assert_eq!(
            token.rsplit('.').next().map(str::len),
            Some(SIGNATURE_B64_LEN)
        );
    }

    #[test]
    fn nonzero_trailing_bits_are_refused() {
        // "QQ" is 'A' (0x41); "QR" carries the same byte with a trailing bit set.
        let mut buffer = [0u8; 8];
        assert_eq!(decode(b"QQ", &mut buffer).as_deref(), Some(&b"A"[..]));
        assert_eq!(decode(b"QR", &mut buffer), None);
    }

    #[test]
    fn decoded_len_is_exact() {
        for n in 0..64usize {
            let text = SCALAR.encode(vec![0u8; n]);
            assert_eq!(decoded_len(text.as_bytes()), Some(n), "{text}");
        }
        assert_eq!(decoded_len(b"AAAAA"), None);
    }

    #[test]
    fn a_short_buffer_is_refused_not_a_panic() {
        let mut buffer = [0u8; 2];
        assert_eq!(decode(b"QUJD", &mut buffer), None);
        let mut empty = [];
        assert_eq!(decode(b"", &mut empty).as_deref(), Some(&b""[..]));
    }
}
