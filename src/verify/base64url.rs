//! Base64url without padding, decoded into a caller's buffer: the three token segments.
//!
//! The payload decode was the crate's largest cost after JSON (about 200 ns of a 470-byte join
//! token with the `base64` crate's scalar engine), so the segments go through `base64-simd`,
//! which picks AVX2, SSE4.1 or NEON at run time and falls back to scalar code elsewhere. It
//! accepts exactly what the `base64` crate's `URL_SAFE_NO_PAD` accepts (the URL-safe alphabet,
//! no padding, zero trailing bits), which the test below checks against that crate.

use base64_simd::{Out, URL_SAFE_NO_PAD};

/// The number of bytes `segment` decodes to, or `None` for a length no unpadded base64url text
/// has (one character past a multiple of four).
pub(super) fn decoded_len(segment: &[u8]) -> Option<usize> {
    URL_SAFE_NO_PAD.decoded_length(segment).ok()
}

/// Decodes `segment` into the front of `buffer` and returns the decoded bytes, or `None` if
/// `segment` is not canonical unpadded base64url or does not fit in `buffer`.
pub(super) fn decode<'b>(segment: &[u8], buffer: &'b mut [u8]) -> Option<&'b mut [u8]> {
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
