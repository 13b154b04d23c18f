//! The verifiers compared, each built once (outside any measured loop) the way a server holds
//! it, and the floor they are all measured against.

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::floor::Floor;
use crate::reference::{self, RefKeys};
use crate::tokens::{self, API_KEY, API_SECRET, OTHER_KEY, OTHER_SECRET};

/// The names of the implementations, as used in bench ids and the callgrind driver. `floor`
/// is not a verifier (it checks the MAC only) but the bound the others are reported against.
pub const NAMES: [&str; 5] = ["floor", "crate", "jsonwebtoken", "livekit_api", "reference"];

/// All four verifiers and the floor, ready.
pub struct Peers {
    /// The HMAC alone over the accepted set ([`tokens::accepted`]), signatures decoded.
    pub floor: Floor,
    /// (a) this crate.
    pub crate_verifier: tower_livekit_auth::Verifier,
    /// (b) `jsonwebtoken` 11: the key and the validation built once.
    pub jwt_key: DecodingKey,
    /// The `Validation` for (b): HS256, `exp` required, `exp` and `nbf` checked, 60 s leeway,
    /// `aud` ignored — the crate's defaults.
    pub jwt_validation: Validation,
    /// (c) `livekit-api`'s verifier (it builds its key and validation on every call itself).
    pub livekit: livekit_api::access_token::TokenVerifier,
    /// (d) the bare reference loop's keys.
    pub reference: RefKeys,
}

impl Peers {
    /// Builds all four with the same keys.
    pub fn new() -> Self {
        let keys = tower_livekit_auth::KeyRing::new()
            .with_key(API_KEY, API_SECRET)
            .and_then(|k| k.with_key(OTHER_KEY, OTHER_SECRET))
            .expect("keys");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 60;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::from(["exp".to_owned()]);
        Peers {
            floor: Floor::new(API_SECRET, &tokens::accepted()),
            crate_verifier: tower_livekit_auth::Verifier::new(keys),
            jwt_key: DecodingKey::from_secret(API_SECRET.as_bytes()),
            jwt_validation: validation,
            livekit: livekit_api::access_token::TokenVerifier::with_api_key(API_KEY, API_SECRET),
            reference: RefKeys::new(&[(API_KEY, API_SECRET), (OTHER_KEY, OTHER_SECRET)]),
        }
    }

    /// (a) `Verifier::verify`: full owned `Claims` (behind an `Arc`), system clock.
    #[inline(never)]
    pub fn verify_crate(&self, token: &str) -> Option<tower_livekit_auth::Claims> {
        self.crate_verifier.verify(token).ok()
    }

    /// (b) `jsonwebtoken::decode` into the crate's own owned `Claims` (the same output as (a);
    /// `Claims: Deserialize`), system clock.
    #[inline(never)]
    pub fn verify_jsonwebtoken(&self, token: &str) -> Option<tower_livekit_auth::Claims> {
        jsonwebtoken::decode::<tower_livekit_auth::Claims>(
            token,
            &self.jwt_key,
            &self.jwt_validation,
        )
        .ok()
        .map(|data| data.claims)
    }

    /// (c) `livekit-api`'s `TokenVerifier::verify` into its owned `Claims`.
    #[inline(never)]
    pub fn verify_livekit(&self, token: &str) -> Option<livekit_api::access_token::Claims> {
        self.livekit.verify(token).ok()
    }

    /// (d) the bare reference loop.
    #[inline(never)]
    pub fn verify_reference(&self, token: &str) -> Option<reference::RefOutcome> {
        reference::verify(&self.reference, token).ok()
    }

    /// Verifies `token` with implementation `name`; true if accepted. For `floor`: whether the
    /// MAC of `token` is right for the set's key (no time, no claims).
    pub fn accepts(&self, name: &str, token: &str) -> bool {
        match name {
            "floor" => self.floor.accepts(token),
            "crate" => self.verify_crate(token).is_some(),
            "jsonwebtoken" => self.verify_jsonwebtoken(token).is_some(),
            "livekit_api" => self.verify_livekit(token).is_some(),
            "reference" => self.verify_reference(token).is_some(),
            other => panic!("unknown implementation {other}"),
        }
    }
}

impl Default for Peers {
    fn default() -> Self {
        Peers::new()
    }
}
