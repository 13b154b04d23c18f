//! The hot path: token text → checked [`ClaimsData`].
//!
//! Split once, compare the header with the SDKs' encodings, decode the signature and the payload
//! into stack buffers, parse the claims once, look the key up by `iss`, verify the MAC with the
//! key's precomputed HMAC state (constant-time compare, from the `hmac` crate), check the times.

use std::cell::Cell;
use std::sync::Arc;

use hmac::Mac;
use serde::de::DeserializeSeed;

use super::error::{VerifyError, VerifyErrorKind};
use super::{header, Options, DEFAULT_MAX_TOKEN_LEN};
use crate::claims::{ClaimFault, ClaimsData, ClaimsSeed, NumericDate};
use crate::jws::{self, SIGNATURE_B64_LEN};
use crate::keys::KeyRing;

/// Payloads up to this many decoded bytes stay on the stack; a typical LiveKit payload is
/// 300-600 bytes.
const STACK_PAYLOAD: usize = 768;

/// The three segments of a compact JWS, and the signing input `header.payload`.
struct Segments<'a> {
    signing_input: &'a [u8],
    header: &'a [u8],
    payload: &'a [u8],
    signature: &'a [u8],
}

fn split(token: &[u8]) -> Result<Segments<'_>, VerifyError> {
    const THREE_PARTS: VerifyError =
        VerifyError::malformed("a token has three dot-separated parts");
    // memchr scans a word at a time; a byte loop here was the largest item of the profile.
    let first = memchr::memchr(b'.', token).ok_or(THREE_PARTS)?;
    let second = memchr::memchr(b'.', &token[first + 1..])
        .map(|i| first + 1 + i)
        .ok_or(THREE_PARTS)?;
    let signature = &token[second + 1..];
    if memchr::memchr(b'.', signature).is_some() {
        return Err(THREE_PARTS);
    }
    Ok(Segments {
        signing_input: &token[..second],
        header: &token[..first],
        payload: &token[first + 1..second],
        signature,
    })
}

/// Verifies `token` at `now` (Unix seconds) and returns its claims.
pub(super) fn verify(
    token: &[u8],
    keys: &KeyRing,
    options: &Options,
    now: f64,
) -> Result<Arc<ClaimsData>, VerifyError> {
    let data = authenticate(token, keys, options)?;
    check_claims(&data, options, now)?;
    Ok(data)
}

/// Everything that does not depend on the time: format, algorithm, key, signature.
fn authenticate(
    token: &[u8],
    keys: &KeyRing,
    options: &Options,
) -> Result<Arc<ClaimsData>, VerifyError> {
    if token.len() > options.max_token_len {
        return Err(VerifyError::new(VerifyErrorKind::TokenTooLong));
    }
    let segments = split(token)?;
    header::check(segments.header)?;

    let mut signature = [0u8; 32];
    if segments.signature.len() != SIGNATURE_B64_LEN {
        return Err(VerifyError::new(VerifyErrorKind::InvalidSignature));
    }
    // 43 characters always decode to 32 bytes, if they decode.
    if jws::decode(segments.signature, &mut signature).is_none() {
        return Err(VerifyError::malformed(
            "the signature is not base64url without padding",
        ));
    }
    let mut payload = PayloadBuffer::new();
    let json = payload.decode(segments.payload)?;

    check_signed_claims(json, segments.signing_input, &signature, keys)
}

/// The claims of a decoded token, if its `iss` names a key and that key signed it.
fn check_signed_claims(
    json: &[u8],
    signing_input: &[u8],
    signature: &[u8; 32],
    keys: &KeyRing,
) -> Result<Arc<ClaimsData>, VerifyError> {
    let data = parse_claims(json)?;
    let api_key = data
        .iss
        .as_deref()
        .filter(|iss| !iss.is_empty())
        .ok_or(VerifyError::new(VerifyErrorKind::MissingIssuer))?;
    let secret = keys
        .secret(api_key)
        .ok_or(VerifyError::new(VerifyErrorKind::UnknownKey))?;
    let mut mac = secret.mac();
    mac.update(signing_input);
    mac.verify_slice(signature)
        .map_err(|_| VerifyError::new(VerifyErrorKind::InvalidSignature))?;
    Ok(data)
}

/// What depends on the time or the configuration: `exp`, `nbf`, `iat`, `aud`. Run again on
/// every cache hit.
pub(super) fn check_claims(
    data: &ClaimsData,
    options: &Options,
    now: f64,
) -> Result<(), VerifyError> {
    let audience_ok = options
        .audience
        .as_deref()
        .is_none_or(|audience| data.aud.as_ref().is_some_and(|aud| aud.contains(audience)));
    check_times(data, options.leeway, now)?;
    if audience_ok {
        Ok(())
    } else {
        Err(VerifyError::new(VerifyErrorKind::InvalidAudience))
    }
}

pub(super) fn decode_unverified(token: &[u8]) -> Result<Arc<ClaimsData>, VerifyError> {
    if token.len() > DEFAULT_MAX_TOKEN_LEN {
        return Err(VerifyError::new(VerifyErrorKind::TokenTooLong));
    }
    parse_payload(split(token)?.payload)
}

fn parse_payload(segment: &[u8]) -> Result<Arc<ClaimsData>, VerifyError> {
    parse_claims(PayloadBuffer::new().decode(segment)?)
}

/// Where the payload's JSON is decoded to: the stack when it fits, as it does for any token
/// an SDK writes, the heap otherwise.
struct PayloadBuffer {
    stack: [u8; STACK_PAYLOAD],
    heap: Vec<u8>,
}

impl PayloadBuffer {
    fn new() -> Self {
        PayloadBuffer {
            stack: [0; STACK_PAYLOAD],
            heap: Vec::new(),
        }
    }

    fn decode(&mut self, segment: &[u8]) -> Result<&[u8], VerifyError> {
        const NOT_BASE64: VerifyError =
            VerifyError::malformed("the payload is not base64url without padding");
        let len = jws::decoded_len(segment).ok_or(NOT_BASE64)?;
        let buffer: &mut [u8] = if len <= STACK_PAYLOAD {
            &mut self.stack[..len]
        } else {
            self.heap.resize(len, 0);
            &mut self.heap
        };
        jws::decode(segment, buffer)
            .map(|json| &*json)
            .ok_or(NOT_BASE64)
    }
}

/// Parses straight into the `Arc` that [`Claims`](crate::Claims) will share: the claims are
/// built in place, not moved there afterwards.
fn parse_claims(json: &[u8]) -> Result<Arc<ClaimsData>, VerifyError> {
    let fault = Cell::new(None);
    let mut data = Arc::new(ClaimsData::default());
    let target = Arc::make_mut(&mut data); // a fresh Arc is unique: no copy is made
    let seed = ClaimsSeed {
        fault: &fault,
        target,
        raw_text: true,
    };
    // One UTF-8 check of the whole payload lets serde_json skip the check of every string.
    // A payload that fails it goes through the byte reader, which still accepts invalid
    // UTF-8 in the claims it skips, as the LiveKit server does.
    let result = match std::str::from_utf8(json) {
        Ok(text) => parse_with(serde_json::de::StrRead::new(text), seed),
        Err(_) => parse_with(serde_json::de::SliceRead::new(json), seed),
    };
    result.map(|()| data).map_err(|_| match fault.get() {
        Some(ClaimFault::Duplicate(claim)) => VerifyError::duplicate_claim(claim),
        Some(ClaimFault::Invalid(claim)) => VerifyError::invalid_claim(claim),
        None => VerifyError::malformed("the payload is not a JSON object"),
    })
}

/// Runs `seed` over the whole of `read`: one JSON value and nothing after it.
fn parse_with<'de, R: serde_json::de::Read<'de>>(
    read: R,
    seed: ClaimsSeed<'_>,
) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::new(read);
    seed.deserialize(&mut de)?;
    de.end()
}

/// `exp` required and `now < exp + leeway`; `now >= nbf - leeway`; `iat <= now + leeway`, each
/// date truncated to whole seconds first, as the LiveKit server compares them (golang-jwt's
/// validator at one-second precision, in `livekit/protocol`'s `auth/verifier.go`).
fn check_times(data: &ClaimsData, leeway: f64, now: f64) -> Result<(), VerifyError> {
    let seconds = |date: NumericDate| date.seconds() as f64;
    let exp = data
        .exp
        .ok_or(VerifyError::new(VerifyErrorKind::MissingExpiry))?;
    if now >= seconds(exp) + leeway {
        return Err(VerifyError::new(VerifyErrorKind::Expired));
    }
    if let Some(nbf) = data.nbf {
        if now < seconds(nbf) - leeway {
            return Err(VerifyError::new(VerifyErrorKind::NotYetValid));
        }
    }
    if let Some(iat) = data.iat {
        if seconds(iat) > now + leeway {
            return Err(VerifyError::new(VerifyErrorKind::IssuedInFuture));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    #[test]
    fn split_needs_exactly_three_segments() {
        for token in ["", "a", "a.b", "a.b.c.d", "....", "a..b.c"] {
            assert!(split(token.as_bytes()).is_err(), "{token}");
        }
        let s = split(b"h.p.s").expect("three parts");
        assert_eq!(
            (s.header, s.payload, s.signature, s.signing_input),
            (&b"h"[..], &b"p"[..], &b"s"[..], &b"h.p"[..])
        );
        assert!(
            split(b"..").is_ok(),
            "empty segments are split; later checks refuse them"
        );
    }

    #[test]
    fn large_payloads_fall_back_to_the_heap() {
        let big = format!(r#"{{"metadata":"{}"}}"#, "x".repeat(5000));
        let data = parse_payload(URL_SAFE_NO_PAD.encode(&big).as_bytes()).expect("parses");
        assert_eq!(data.metadata.as_deref().map(str::len), Some(5000));
    }

    #[test]
    fn padded_or_standard_base64_payloads_are_malformed() {
        let json = r#"{"exp":12}"#; // 10 bytes: base64 needs padding
        let padded = base64::engine::general_purpose::URL_SAFE.encode(json);
        assert!(padded.ends_with('='));
        let err = parse_payload(padded.as_bytes()).expect_err("padding");
        assert_eq!(err.kind(), VerifyErrorKind::Malformed);
        let err = parse_payload(b"ab+/").expect_err("standard alphabet");
        assert_eq!(err.kind(), VerifyErrorKind::Malformed);
    }
}
