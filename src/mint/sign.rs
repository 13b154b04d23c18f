//! HS256 compact JWS signing: the few lines minting needs, over the same `hmac`, `sha2` and
//! `base64` crates the verifier uses (no JOSE library at run time, see the design's decision 13).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;

use crate::claims::ClaimsData;
use crate::keys::HmacSha256;

/// `{"typ":"JWT","alg":"HS256"}` in base64url: the header the crate has always written (the Rust
/// SDK's order), so that a token minted for the same claims is byte for byte what it was.
const HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";

/// `header.payload.signature` for `claims`, signed with `secret`.
pub(super) fn sign(claims: &ClaimsData, secret: &[u8]) -> Result<String, serde_json::Error> {
    let payload = serde_json::to_vec(claims)?;
    // The exact length: header, dot, payload, dot, 43 signature characters.
    let mut token = String::with_capacity(HEADER.len() + 2 + payload.len().div_ceil(3) * 4 + 43);
    token.push_str(HEADER);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    // An HMAC key may have any length, so keying cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(token.as_bytes());
    let signature = mac.finalize().into_bytes();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_base64url_of_the_rust_sdks_header() {
        let decoded = URL_SAFE_NO_PAD.decode(HEADER).expect("base64url");
        assert_eq!(decoded, br#"{"typ":"JWT","alg":"HS256"}"#);
    }
}
