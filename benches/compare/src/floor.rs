//! The physical floor: what no HS256 verifier can skip.
//!
//! The HMAC-SHA256 over each token's signing input (`header.payload`), from a keyed state
//! computed once (the ipad and opad blocks already absorbed), against the token's signature
//! decoded in advance, with the constant-time compare of `verify_slice`. Nothing else: no split,
//! no base64, no JSON, no key lookup, no clock. Every verifier is reported against it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// One token's precomputed part: where its signing input ends, and its signature in bytes.
#[derive(Clone, Copy, Debug)]
pub struct FloorToken {
    signing_input_len: usize,
    signature: [u8; 32],
}

/// The keyed state and the set's precomputed tokens.
#[derive(Clone)]
pub struct Floor {
    mac: Hmac<Sha256>,
    tokens: Vec<FloorToken>,
}

impl Floor {
    /// The floor of `set`, every token signed with `secret`.
    pub fn new(secret: &str, set: &[String]) -> Self {
        let tokens = set
            .iter()
            .map(|token| {
                let dot = token.rfind('.').expect("a compact JWS");
                let mut signature = [0u8; 32];
                let n = URL_SAFE_NO_PAD
                    .decode_slice(&token[dot + 1..], &mut signature)
                    .expect("a base64url signature");
                assert_eq!(n, 32, "an HS256 signature");
                FloorToken {
                    signing_input_len: dot,
                    signature,
                }
            })
            .collect();
        Floor {
            mac: Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length"),
            tokens,
        }
    }

    /// The precomputed part of the `i`-th token of the set.
    pub fn token(&self, i: usize) -> &FloorToken {
        &self.tokens[i]
    }

    /// Whether the MAC of any `token` is right for this key, decoding its signature first
    /// (outside the measured loops: for the agreement check).
    pub fn accepts(&self, token: &str) -> bool {
        let Some(dot) = token.rfind('.') else {
            return false;
        };
        let mut signature = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(&token[dot + 1..], &mut signature) {
            Ok(32) => self.verify(
                token,
                &FloorToken {
                    signing_input_len: dot,
                    signature,
                },
            ),
            _ => false,
        }
    }

    /// The MAC of `token` (the `i`-th of the set) checked against its signature.
    #[inline(never)]
    pub fn verify(&self, token: &str, pre: &FloorToken) -> bool {
        let mut mac = self.mac.clone();
        mac.update(&token.as_bytes()[..pre.signing_input_len]);
        mac.verify_slice(&pre.signature).is_ok()
    }

    /// One pass over `set` (the set this floor was built for); how many verified.
    pub fn run(&self, set: &[String]) -> usize {
        set.iter()
            .zip(&self.tokens)
            .filter(|(token, pre)| self.verify(std::hint::black_box(token), pre))
            .count()
    }
}
