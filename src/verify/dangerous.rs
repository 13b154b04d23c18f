//! Reading a token **without verifying it**. The path says it, as `jsonwebtoken::dangerous`
//! does: what comes out of here has not been checked by anyone, and must never decide anything.

use super::error::VerifyError;
use super::token;
use crate::claims::Claims;

/// Reads a token's claims **without verifying anything**: no signature, no time, no key. For
/// debugging tools (`token decode`) and logs only; never for a decision. Refuses what the
/// verifier's parser refuses (a malformed token, a token over
/// [`DEFAULT_MAX_TOKEN_LEN`](super::DEFAULT_MAX_TOKEN_LEN)).
///
/// ```
/// use tower_livekit_auth::verify::dangerous::decode_unverified;
///
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWRvZXMtbm90LW1hdHRlci1oZXJlLXh4";
/// assert_eq!(decode_unverified(token)?.identity(), "alice");
/// # Ok::<(), tower_livekit_auth::VerifyError>(())
/// ```
pub fn decode_unverified(token: &str) -> Result<Claims, VerifyError> {
    token::decode_unverified(token.as_bytes()).map(Claims::from_arc)
}
