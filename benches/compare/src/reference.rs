//! The bare reference loop: the floor the crate is measured against.
//!
//! It does the minimum a correct HS256 LiveKit verifier must do, with nothing a library adds:
//!
//! 1. split the token at its two dots (one pass, no allocation);
//! 2. accept the header only if it is byte-for-byte one of the SDKs' HS256 encodings (no header
//!    JSON is ever parsed);
//! 3. base64url-decode the 43-character signature and the payload into stack buffers;
//! 4. MAC `header.payload` with a *clone of an HMAC-SHA256 state keyed once* per secret (the
//!    ipad/opad blocks are already absorbed, so each token costs only its own SHA-256 blocks),
//!    and compare in constant time (`verify_slice`);
//! 5. parse every claim with `serde_json` into a *borrowed* struct: strings are `Cow<str>` that
//!    point into the decoded payload unless they contain escapes; the attribute map is a `Vec`
//!    of borrowed pairs (one allocation);
//! 6. look the key up by `iss` in a slice, and check `exp`/`nbf` against the system clock with
//!    60 s of leeway, as every other verifier in the comparison does.
//!
//! `src/bin/bench_server.rs` serves the same loop over HTTP (its `/reference` route).
//!
//! Unlike the crate it does not refuse repeated keys, does not keep unknown grants, has no error
//! detail, and produces nothing a handler could keep past the token's buffer.

use std::borrow::Cow;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use sha2::Sha256;

/// A string borrowed from the payload, or owned when it had escapes (serde's own `Cow<str>`
/// impl always allocates inside an `Option` or a `Vec`, so it is not used directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(V(std::marker::PhantomData))
    }
}

/// The claims of a LiveKit token, borrowed from the decoded payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefClaims<'a> {
    #[serde(borrow)]
    pub iss: Str<'a>,
    #[serde(borrow, default)]
    pub sub: Option<Str<'a>>,
    pub exp: f64,
    #[serde(default)]
    pub nbf: Option<f64>,
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub metadata: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub attributes: Option<RefAttributes<'a>>,
    #[serde(borrow, default)]
    pub video: Option<RefVideo<'a>>,
}

/// The video grant, borrowed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefVideo<'a> {
    pub room_create: Option<bool>,
    pub room_list: Option<bool>,
    pub room_record: Option<bool>,
    pub room_admin: Option<bool>,
    pub room_join: Option<bool>,
    #[serde(borrow)]
    pub room: Option<Str<'a>>,
    pub can_publish: Option<bool>,
    pub can_subscribe: Option<bool>,
    pub can_publish_data: Option<bool>,
    #[serde(borrow)]
    pub can_publish_sources: Option<Vec<Str<'a>>>,
    pub can_update_own_metadata: Option<bool>,
    pub hidden: Option<bool>,
    pub recorder: Option<bool>,
    pub agent: Option<bool>,
}

/// `attributes` as borrowed pairs, in token order.
#[derive(Debug, Default)]
pub struct RefAttributes<'a>(pub Vec<(Str<'a>, Str<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for RefAttributes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RefAttributes<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some((k, v)) = map.next_entry::<Str<'de>, Str<'de>>()? {
                    pairs.push((k, v));
                }
                Ok(RefAttributes(pairs))
            }
        }
        deserializer.deserialize_map(V(std::marker::PhantomData))
    }
}

/// API keys with their precomputed HMAC states.
pub struct RefKeys {
    keys: Vec<(String, Hmac<Sha256>)>,
}

impl RefKeys {
    /// Keys the HMAC state of every secret once.
    pub fn new(pairs: &[(&str, &str)]) -> Self {
        RefKeys {
            keys: pairs
                .iter()
                .map(|(k, s)| {
                    let mac = Hmac::<Sha256>::new_from_slice(s.as_bytes()).expect("any length");
                    (k.to_string(), mac)
                })
                .collect(),
        }
    }
}

/// What the reference loop returns: only what the benchmark needs to keep it honest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefOutcome {
    /// `exp` in seconds.
    pub exp: i64,
    /// Length of the identity, so the parse result is used.
    pub sub_len: usize,
}

const LEEWAY: f64 = 60.0;

/// The HS256 headers accepted, byte for byte: `{"alg":"HS256","typ":"JWT"}` (Go, Python),
/// `{"alg":"HS256"}` (Node), `{"typ":"JWT","alg":"HS256"}` (Rust `jsonwebtoken`, which the crate
/// mints with; the HTTP benchmark's tokens have it).
pub const KNOWN_HEADERS: [&str; 3] = [
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    "eyJhbGciOiJIUzI1NiJ9",
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
];

/// Verifies `token`. The borrowed claims cannot outlive the stack buffer they point into, so it
/// returns only a small summary of them (enough that the parse cannot be optimised away).
#[inline]
pub fn verify(keys: &RefKeys, token: &str) -> Result<RefOutcome, &'static str> {
    let token = token.as_bytes();
    // 1. Split.
    let first = memchr(token, 0).ok_or("parts")?;
    let second = memchr(token, first + 1).ok_or("parts")?;
    let (header, payload, sig) = (
        &token[..first],
        &token[first + 1..second],
        &token[second + 1..],
    );
    // 2. Header: byte compare only.
    if !KNOWN_HEADERS.iter().any(|known| header == known.as_bytes()) {
        return Err("header");
    }
    // 3. Base64 into stack buffers (1 KiB covers every token of the set; zeroing it is cheap).
    let mut signature = [0u8; 32];
    if sig.len() != 43 || URL_SAFE_NO_PAD.decode_slice(sig, &mut signature) != Ok(32) {
        return Err("signature encoding");
    }
    let mut buf = [0u8; 1024];
    let n = URL_SAFE_NO_PAD
        .decode_slice(payload, &mut buf)
        .map_err(|_| "payload encoding")?;
    // 5. Parse into the borrowed struct.
    let claims: RefClaims<'_> = serde_json::from_slice(&buf[..n]).map_err(|_| "json")?;
    // 6a. Key by iss, 4. MAC with the precomputed state.
    let mac = keys
        .keys
        .iter()
        .find(|(k, _)| k.as_str() == &*claims.iss)
        .map(|(_, mac)| mac)
        .ok_or("unknown key")?;
    let mut mac = mac.clone();
    mac.update(&token[..second]);
    mac.verify_slice(&signature).map_err(|_| "bad signature")?;
    // 6b. Times.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs() as f64);
    if now >= claims.exp + LEEWAY {
        return Err("expired");
    }
    if claims.nbf.is_some_and(|nbf| now < nbf - LEEWAY) {
        return Err("not yet valid");
    }
    Ok(RefOutcome {
        exp: claims.exp as i64,
        sub_len: claims.sub.as_deref().map_or(0, |s| s.len())
            + claims
                .video
                .as_ref()
                .and_then(|v| v.room.as_deref())
                .map_or(0, |s| s.len()),
    })
}

/// The next `.` at or after `from`.
fn memchr(haystack: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'.', &haystack[from..]).map(|i| from + i)
}
