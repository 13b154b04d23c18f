//! The differential oracle: `jsonwebtoken` configured to LiveKit's verification rules, and the
//! classifier of the known, intended divergences between it and this crate's `Verifier`.
//!
//! Shared by `tests/differential.rs`, `tests/hostile_tokens.rs` and the `differential` fuzz
//! target (`fuzz/fuzz_targets/differential.rs` includes this file with `#[path]`), so the
//! list of divergences lives in one place.
//!
//! `jsonwebtoken` reads the system clock itself (it has no clock to inject), so a check runs
//! at the current whole second and is repeated when the second changed while it ran
//! ([`at_stable_second`]); this crate's side gets the same second through `verify_at`.
//!
//! # The divergences, wherever both apply
//!
//! Each case is classified from the token text alone (never from either verifier's verdict).
//! A case in no class must get the same verdict from both. A case only in "stricter" classes
//! may be rejected by the crate and accepted by `jsonwebtoken`, never the other way round; a
//! case only in "more lenient" classes may be accepted by the crate and rejected by
//! `jsonwebtoken`, never the other way round. A case in both kinds is counted, not checked.
//! The reasons are on the variants of [`Divergence`].

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Sha256, Sha384, Sha512};
use tower_livekit_auth::{KeyRing, RoomConfiguration, Verifier};

/// The first API key of the oracle's key ring.
pub const KEY_A: &str = "APIdiffA0000001";
/// The secret of [`KEY_A`].
pub const SECRET_A: &str = "diffSecretA0123456789abcdefghijklmnopqrstuv";
/// The second API key of the oracle's key ring.
pub const KEY_B: &str = "APIdiffB0000002";
/// The secret of [`KEY_B`].
pub const SECRET_B: &str = "diffSecretB0123456789ABCDEFGHIJKLMNOPQRSTUV";
/// A key that is in no key ring.
pub const UNKNOWN_KEY: &str = "APIunknown00003";
/// A secret that belongs to no key.
pub const OTHER_SECRET: &str = "otherSecret0123456789abcdefghijklmnopqrstu";
/// The leeway both sides use, in seconds (LiveKit's).
pub const LEEWAY: u64 = 60;
/// This crate's default maximum token length.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// This crate's maximum header segment length.
pub const MAX_HEADER_LEN: usize = 1024;
/// 2^53: the largest date magnitude the crate reads.
const MAX_DATE: f64 = 9_007_199_254_740_992.0;

/// The secret the oracle's key ring holds for `iss`.
pub fn secret_for(iss: &str) -> Option<&'static str> {
    match iss {
        KEY_A => Some(SECRET_A),
        KEY_B => Some(SECRET_B),
        _ => None,
    }
}

/// The key ring of both sides: [`KEY_A`] and [`KEY_B`].
pub fn key_ring() -> KeyRing {
    KeyRing::new()
        .with_key(KEY_A, SECRET_A)
        .and_then(|ring| ring.with_key(KEY_B, SECRET_B))
        .expect("the oracle's secrets are strong")
}

/// The crate's verifier, with the leeway spelled out.
pub fn verifier() -> Verifier {
    Verifier::new(key_ring()).with_leeway(Duration::from_secs(LEEWAY))
}

/// `jsonwebtoken`'s validation with LiveKit's semantics: HS256 only, leeway 60 s, `exp`
/// required, `nbf` checked, `aud` not checked.
pub fn validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    validation
}

/// The current Unix second, from the clock `jsonwebtoken` reads.
pub fn now_unix() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// `now` as the crate's `verify_at` takes it.
pub fn system_time(now: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(now)
}

/// Runs `check(now)` at a whole second that did not change while it ran, so that
/// `jsonwebtoken` (system clock) and the crate (`verify_at(now)`) saw the same time.
pub fn at_stable_second<T>(mut check: impl FnMut(u64) -> T) -> T {
    loop {
        let now = now_unix();
        let result = check(now);
        if now_unix() == now {
            return result;
        }
    }
}

/// The HMAC algorithms tokens can be signed with here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hmac2 {
    /// HMAC-SHA256.
    Hs256,
    /// HMAC-SHA384.
    Hs384,
    /// HMAC-SHA512.
    Hs512,
}

/// The MAC of `input` under `secret`.
pub fn mac(alg: Hmac2, secret: &[u8], input: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(secret: &[u8], input: &[u8]) -> Vec<u8> {
        let mut mac = <M as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(input);
        mac.finalize().into_bytes().to_vec()
    }
    match alg {
        Hmac2::Hs256 => run::<Hmac<Sha256>>(secret, input),
        Hmac2::Hs384 => run::<Hmac<Sha384>>(secret, input),
        Hmac2::Hs512 => run::<Hmac<Sha512>>(secret, input),
    }
}

/// `b64(header).b64(payload).b64(HS256 MAC)`: any bytes, signed as they are.
pub fn assemble(header: &[u8], payload: &[u8], secret: &[u8]) -> String {
    assemble_with(Hmac2::Hs256, header, payload, secret)
}

/// [`assemble`] with another HMAC.
pub fn assemble_with(alg: Hmac2, header: &[u8], payload: &[u8], secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = URL_SAFE_NO_PAD.encode(mac(alg, secret, input.as_bytes()));
    format!("{input}.{signature}")
}

/// Signs `header` and `payload` with the secret of the payload's `iss` when the key ring has
/// it (else [`OTHER_SECRET`]): a mutation of the JSON then tests the JSON, not the MAC.
pub fn sign_for_iss(header: &[u8], payload: &[u8]) -> String {
    let secret = unverified_iss(payload)
        .and_then(|iss| secret_for(&iss))
        .unwrap_or(OTHER_SECRET);
    assemble(header, payload, secret.as_bytes())
}

/// The token a `differential` fuzz input stands for at `now` (the target and the replay of its
/// reproducers in `tests/differential.rs` share it). The first byte picks the mode, the rest is
/// the material:
/// - 0: the rest is the whole token text;
/// - 1: the rest is the payload JSON, signed as HS256 with the secret of its `iss`;
/// - 2: the rest is the header JSON, over a valid payload, signed likewise;
/// - 3: byte edits of a valid token: pairs (position, byte) from the rest.
pub fn token_from_fuzz_input(data: &[u8], now: u64) -> Option<String> {
    const HEADER: &[u8] = br#"{"alg":"HS256","typ":"JWT"}"#;
    let valid_payload = format!(
        r#"{{"iss":"{KEY_A}","sub":"alice","exp":{},"nbf":{},"video":{{"roomJoin":true,"room":"r"}}}}"#,
        now + 3600,
        now - 10
    );
    let (&mode, rest) = data.split_first()?;
    Some(match mode % 4 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        1 => sign_for_iss(HEADER, rest),
        2 => sign_for_iss(rest, valid_payload.as_bytes()),
        _ => {
            let mut bytes = sign_for_iss(HEADER, valid_payload.as_bytes()).into_bytes();
            for pair in rest.chunks_exact(2) {
                let at = usize::from(pair[0]) * bytes.len() / 256;
                bytes[at] = pair[1];
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    })
}

/// The payload's `iss`, read as the crate reads it: other keys are skimmed, not parsed.
fn unverified_iss(payload_json: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Issuer {
        iss: Option<String>,
    }
    let json = serde_json::from_slice::<Value>(payload_json);
    if let Ok(value) = &json {
        if !value.is_object() {
            return None;
        }
    }
    serde_json::from_slice::<Issuer>(payload_json).ok()?.iss
}

/// The oracle's verdict at the current second: the secret chosen by the token's unverified
/// `iss` (as the crate does), then `jsonwebtoken::decode::<Value>` with [`validation`].
pub fn oracle_accepts(token: &str) -> bool {
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    let Some(secret) = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| unverified_iss(&json))
        .and_then(|iss| secret_for(&iss))
    else {
        return false;
    };
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation(),
    )
    .is_ok()
}

/// A class of tokens on which the crate and `jsonwebtoken` may disagree by design.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Divergence {
    // ---- The crate is stricter: it may reject what jsonwebtoken accepts. ----
    /// `exp + leeway` within a second of `now`: LiveKit's rule is `now < exp + leeway`,
    /// jsonwebtoken accepts `now == exp + leeway` (and rounds a fractional `exp`).
    ExpEdge,
    /// `exp`, `nbf` or `iat` beyond ±2^53: the crate refuses a date it cannot hold exactly;
    /// jsonwebtoken reads any u64.
    DateOutOfRange,
    /// `iat` later than `now + leeway`: the crate refuses it (as go-jose did for the LiveKit
    /// server, and PyJWT does);
    /// jsonwebtoken does not read `iat`.
    IatInFuture,
    /// A claim the crate reads has a type its model refuses (`sub: 7`, `video: []`, a grant
    /// field that is not a bool, a non-string attribute, an invalid `roomConfig`, `iat: "1"`):
    /// jsonwebtoken decodes the payload into a `Value` and types only `exp` and `nbf`.
    TypedClaim,
    /// A JSON object repeats a key: the crate refuses rather than picks one (the server's Go
    /// `encoding/json` keeps the last);
    /// jsonwebtoken takes the last one, except for the claims it types itself.
    RepeatedKey,
    /// A `crit` header: the crate understands no extension (RFC 7515 §4.1.11); jsonwebtoken
    /// ignores it.
    Crit,
    /// A token over 16 KiB or a header segment over 1 KiB: refused before decoding.
    Oversize,
    // ---- The crate is more lenient: it may accept what jsonwebtoken rejects. ----
    /// `nbf` is `null` or negative: the crate reads `null` as absent (as Go's `encoding/json`
    /// leaves the server's field unset) and a date
    /// before 1970 as a date in the past; jsonwebtoken's u64 NumericDate cannot hold either
    /// and `validate_nbf` then rejects the token.
    NullOrNegativeNbf,
    /// A fractional `nbf`: the crate truncates it toward zero before comparing, as the LiveKit
    /// server does (golang-jwt at one-second precision); jsonwebtoken rounds it to the nearest
    /// second, so the
    /// crate accepts such a token up to a second earlier. (A fractional `exp` differs only
    /// within a second of its edge, which `ExpEdge` covers.)
    FractionalNbf,
    /// A registered header parameter other than `alg` and `crit` (`typ`, `kid`, `jwk`,
    /// `x5c`, ...) has a value jsonwebtoken's typed `Header` refuses, or appears twice (its
    /// derived `Header` refuses a duplicate field): the crate reads only `alg` and `crit`
    /// (the server checks only `alg`, HS256, and ignores `kid`), as the LiveKit server's
    /// golang-jwt reads the header into a map where the last value wins.
    HeaderParamType,
    /// The header or payload is JSON that serde_json's skimming parser (`IgnoredAny`, which
    /// the crate uses for keys it ignores) accepts and its `Value` parser refuses: invalid
    /// UTF-8 or a lone surrogate in a string, a number beyond f64, nesting deeper than 128.
    /// jsonwebtoken builds a `Value` of everything. The LiveKit server (Go `encoding/json`)
    /// also accepts such tokens.
    SkimmedJson,
}

impl Divergence {
    /// Every class, in order.
    pub const ALL: [Divergence; 11] = [
        Divergence::ExpEdge,
        Divergence::DateOutOfRange,
        Divergence::IatInFuture,
        Divergence::TypedClaim,
        Divergence::RepeatedKey,
        Divergence::Crit,
        Divergence::Oversize,
        Divergence::NullOrNegativeNbf,
        Divergence::FractionalNbf,
        Divergence::HeaderParamType,
        Divergence::SkimmedJson,
    ];

    /// Whether the crate is the stricter side on this class.
    pub fn crate_is_stricter(self) -> bool {
        !matches!(
            self,
            Divergence::NullOrNegativeNbf
                | Divergence::FractionalNbf
                | Divergence::HeaderParamType
                | Divergence::SkimmedJson
        )
    }
}

/// The divergence classes `token` falls in at `now`, from its text alone.
pub fn classify(token: &str, now: u64) -> BTreeSet<Divergence> {
    let mut classes = BTreeSet::new();
    if token.len() > MAX_TOKEN_LEN {
        classes.insert(Divergence::Oversize);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, _] = parts[..] else {
        return classes;
    };
    if header.len() > MAX_HEADER_LEN {
        classes.insert(Divergence::Oversize);
    }
    let (Ok(header), Ok(payload)) = (
        URL_SAFE_NO_PAD.decode(header),
        URL_SAFE_NO_PAD.decode(payload),
    ) else {
        return classes;
    };
    for json in [&header, &payload] {
        let skimmed = serde_json::from_slice::<IgnoredAny>(json).is_ok();
        if skimmed && serde_json::from_slice::<Value>(json).is_err() {
            classes.insert(Divergence::SkimmedJson);
        }
    }
    if repeats_a_key(&payload) {
        classes.insert(Divergence::RepeatedKey);
    }
    // In the header the crate refuses a repeated `alg` (and any `crit`) and ignores the rest.
    for key in repeated_top_level_keys(&header) {
        match key.as_str() {
            "alg" | "crit" => classes.insert(Divergence::RepeatedKey),
            key if REGISTERED_HEADER_PARAMS.contains(&key) => {
                classes.insert(Divergence::HeaderParamType)
            }
            _ => false,
        };
    }
    if let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(&header) {
        if header.contains_key("crit") {
            classes.insert(Divergence::Crit);
        }
        if header_params_refused(&header) {
            classes.insert(Divergence::HeaderParamType);
        }
    }
    if let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&payload) {
        classify_claims(&claims, now, &mut classes);
    }
    classes
}

fn classify_claims(claims: &Map<String, Value>, now: u64, classes: &mut BTreeSet<Divergence>) {
    let now = now as f64;
    let leeway = LEEWAY as f64;
    for name in ["exp", "nbf", "iat"] {
        if let Some(Value::Number(n)) = claims.get(name) {
            let out_of_range = match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => u > MAX_DATE as u64,
                (_, Some(i), _) => i.unsigned_abs() > MAX_DATE as u64,
                (_, _, Some(f)) => f.is_nan() || f.abs() > MAX_DATE,
                _ => true,
            };
            if out_of_range {
                classes.insert(Divergence::DateOutOfRange);
            }
            let f = n.as_f64().unwrap_or(f64::NAN);
            if name == "nbf" && f.fract() != 0.0 {
                classes.insert(Divergence::FractionalNbf);
            }
        }
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_f64) {
        if (exp + leeway - now).abs() <= 1.0 {
            classes.insert(Divergence::ExpEdge);
        }
    }
    match claims.get("nbf") {
        Some(Value::Null) => {
            classes.insert(Divergence::NullOrNegativeNbf);
        }
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f < 0.0) => {
            classes.insert(Divergence::NullOrNegativeNbf);
        }
        _ => {}
    }
    if let Some(iat) = claims.get("iat").and_then(Value::as_f64) {
        if iat > now + leeway {
            classes.insert(Divergence::IatInFuture);
        }
    }
    if claims.iter().any(|(key, value)| claim_refused(key, value)) {
        classes.insert(Divergence::TypedClaim);
    }
}

/// Every boolean key of the video grant.
pub const VIDEO_BOOLS: [&str; 15] = [
    "roomCreate",
    "roomList",
    "roomRecord",
    "roomAdmin",
    "roomJoin",
    "canPublish",
    "canSubscribe",
    "canPublishData",
    "canUpdateOwnMetadata",
    "canSubscribeMetrics",
    "canManageAgentSession",
    "ingressAdmin",
    "hidden",
    "recorder",
    "agent",
];

/// Whether the crate's claim model refuses `value` for the top-level claim `key`, written from
/// the claims' Go types (`ClaimGrants` and the grants in `livekit/protocol`'s
/// `auth/grants.go`), not from the crate's code. `exp` and `nbf` are left out: jsonwebtoken types
/// them too.
fn claim_refused(key: &str, value: &Value) -> bool {
    if value.is_null() {
        return false;
    }
    match key {
        "iss" | "sub" | "jti" | "name" | "kind" | "metadata" | "roomPreset" | "sha256" => {
            !value.is_string()
        }
        "aud" => !(value.is_string() || is_string_list(value)),
        "iat" => !value.is_number(),
        "kindDetails" => !is_string_list(value),
        "attributes" => !is_string_map(value),
        "video" => !is_grant(
            value,
            &VIDEO_BOOLS,
            &["room", "destinationRoom"],
            &["canPublishSources"],
        ),
        "sip" => !is_grant(value, &["admin", "call"], &[], &[]),
        "agent" => !is_grant(
            value,
            &["admin", "simulationAdmin", "databaseAdmin", "dispatchAdmin"],
            &[],
            &[],
        ),
        "inference" => !is_grant(value, &["perform"], &[], &[]),
        "observability" => !is_grant(value, &["write"], &[], &[]),
        // RoomConfiguration's protobuf-JSON rules (uint32 as number or string, enum names or
        // numbers, two spellings) are the crate's public type; it stands in for the schema.
        "roomConfig" => {
            !value.is_object()
                || serde_json::from_value::<RoomConfiguration>(value.clone()).is_err()
        }
        _ => false,
    }
}

fn is_string_list(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|list| list.iter().all(Value::is_string))
}

fn is_string_map(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| map.values().all(Value::is_string))
}

fn is_grant(value: &Value, bools: &[&str], strings: &[&str], lists: &[&str]) -> bool {
    let Some(grant) = value.as_object() else {
        return false;
    };
    grant.iter().all(|(key, field)| {
        field.is_null()
            || if bools.contains(&key.as_str()) {
                field.is_boolean()
            } else if strings.contains(&key.as_str()) {
                field.is_string()
            } else if lists.contains(&key.as_str()) {
                is_string_list(field)
            } else {
                true
            }
    })
}

/// The header parameters jsonwebtoken's `Header` has fields for, besides `alg` and `crit`.
const REGISTERED_HEADER_PARAMS: [&str; 13] = [
    "typ", "cty", "jku", "kid", "x5u", "x5t", "x5t#S256", "url", "nonce", "enc", "zip", "x5c",
    "jwk",
];

/// The keys a JSON object repeats at its top level (none when it is not an object).
fn repeated_top_level_keys(json: &[u8]) -> Vec<String> {
    struct Repeats(Vec<String>);
    impl<'de> Deserialize<'de> for Repeats {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_map(RepeatsVisitor)
        }
    }
    struct RepeatsVisitor;
    impl<'de> Visitor<'de> for RepeatsVisitor {
        type Value = Repeats;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Repeats, A::Error> {
            let (mut seen, mut repeated) = (HashSet::new(), Vec::new());
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.insert(key.clone()) {
                    repeated.push(key);
                }
            }
            Ok(Repeats(repeated))
        }
    }
    serde_json::from_slice::<Repeats>(json).map_or_else(|_| Vec::new(), |r| r.0)
}

/// Whether jsonwebtoken's typed `Header` refuses a registered parameter other than `alg`.
fn header_params_refused(header: &Map<String, Value>) -> bool {
    header.iter().any(|(key, value)| {
        if value.is_null() {
            return false;
        }
        match key.as_str() {
            "x5c" | "crit" => !is_string_list(value),
            // A JWK has a structure of its own; any `jwk` is in the class.
            "jwk" => true,
            // The others are strings.
            key if REGISTERED_HEADER_PARAMS.contains(&key) => !value.is_string(),
            _ => false,
        }
    })
}

/// Whether any JSON object in `json` repeats a key (at any depth). `false` when serde_json
/// cannot walk it (that is [`Divergence::SkimmedJson`] or plain malformed JSON).
pub fn repeats_a_key(json: &[u8]) -> bool {
    struct Scan;
    impl<'de> Deserialize<'de> for Scan {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(ScanVisitor)
        }
    }
    struct ScanVisitor;
    impl<'de> Visitor<'de> for ScanVisitor {
        type Value = Scan;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("JSON without repeated keys")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Scan, E> {
            Ok(Scan)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Scan, E> {
            Ok(Scan)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Scan, E> {
            Ok(Scan)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Scan, E> {
            Ok(Scan)
        }
        fn visit_str<E>(self, _: &str) -> Result<Scan, E> {
            Ok(Scan)
        }
        fn visit_unit<E>(self) -> Result<Scan, E> {
            Ok(Scan)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scan, A::Error> {
            while seq.next_element::<Scan>()?.is_some() {}
            Ok(Scan)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scan, A::Error> {
            let mut keys = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !keys.insert(key) {
                    return Err(serde::de::Error::custom("repeated key"));
                }
                map.next_value::<Scan>()?;
            }
            Ok(Scan)
        }
    }
    // A walk that fails on a repeated key but not on the plain parse means a repeat.
    serde_json::from_slice::<Scan>(json).is_err() && serde_json::from_slice::<Value>(json).is_ok()
}

/// The result of one differential check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Both accepted, no divergence class applies.
    AgreeAccept,
    /// Both rejected, no divergence class applies.
    AgreeReject,
    /// In divergence classes, and the verdicts respect their direction; `true` when the two
    /// verdicts actually differed.
    Excluded(BTreeSet<Divergence>, bool),
    /// In classes of both directions: counted, not checked; `true` when the verdicts differed.
    Mixed(BTreeSet<Divergence>, bool),
    /// No class applies and the verdicts differ: a bug in one of them (or an undocumented
    /// divergence).
    Disagree {
        /// The crate's verdict (`Ok` or the error kind's name).
        crate_verdict: Result<(), &'static str>,
        /// jsonwebtoken's verdict.
        oracle_accepts: bool,
    },
    /// In divergence classes of one direction only, and the crate went the other way.
    WrongDirection {
        /// The classes.
        classes: BTreeSet<Divergence>,
        /// The crate's verdict.
        crate_verdict: Result<(), &'static str>,
        /// jsonwebtoken's verdict.
        oracle_accepts: bool,
    },
}

impl Outcome {
    /// Whether this outcome is a failure of the differential property.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Outcome::Disagree { .. } | Outcome::WrongDirection { .. }
        )
    }
}

/// Verifies `token` with both sides at `now` (which must be the current second: see
/// [`at_stable_second`]) and judges the verdicts.
pub fn judge(verifier: &Verifier, token: &str, now: u64) -> Outcome {
    let crate_verdict = verifier
        .verify_at(token, system_time(now))
        .map(|_| ())
        .map_err(|err| err.kind().as_str());
    let oracle = oracle_accepts(token);
    let classes = classify(token, now);
    let stricter = classes.iter().any(|c| c.crate_is_stricter());
    let lenient = classes.iter().any(|c| !c.crate_is_stricter());
    let crate_ok = crate_verdict.is_ok();
    match (stricter, lenient) {
        (false, false) if crate_ok == oracle => {
            if oracle {
                Outcome::AgreeAccept
            } else {
                Outcome::AgreeReject
            }
        }
        (false, false) => Outcome::Disagree {
            crate_verdict,
            oracle_accepts: oracle,
        },
        (true, true) => Outcome::Mixed(classes, crate_ok != oracle),
        // Stricter: crate accepts ⇒ oracle accepts. More lenient: oracle accepts ⇒ crate accepts.
        (true, false) if !crate_ok || oracle => Outcome::Excluded(classes, crate_ok != oracle),
        (false, true) if crate_ok || !oracle => Outcome::Excluded(classes, crate_ok != oracle),
        _ => Outcome::WrongDirection {
            classes,
            crate_verdict,
            oracle_accepts: oracle,
        },
    }
}

/// Counts of a differential run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Cases checked.
    pub total: usize,
    /// Both accepted.
    pub agree_accept: usize,
    /// Both rejected.
    pub agree_reject: usize,
    /// Excluded, verdicts in the documented direction.
    pub excluded: usize,
    /// Excluded, where the two verdicts actually differed.
    pub excluded_differing: usize,
    /// In classes of both directions.
    pub mixed: usize,
    /// Cases per class.
    pub per_class: BTreeMap<Divergence, usize>,
    /// Failure descriptions.
    pub failures: Vec<String>,
}

impl Tally {
    /// Records one judged case.
    pub fn record(&mut self, label: &str, token: &str, now: u64, outcome: &Outcome) {
        self.total += 1;
        match outcome {
            Outcome::AgreeAccept => self.agree_accept += 1,
            Outcome::AgreeReject => self.agree_reject += 1,
            Outcome::Excluded(classes, differing) | Outcome::Mixed(classes, differing) => {
                if matches!(outcome, Outcome::Mixed(..)) {
                    self.mixed += 1;
                } else {
                    self.excluded += 1;
                }
                if *differing {
                    self.excluded_differing += 1;
                }
                for class in classes {
                    *self.per_class.entry(*class).or_default() += 1;
                }
            }
            Outcome::Disagree { .. } | Outcome::WrongDirection { .. } => {
                if self.failures.len() < 20 {
                    self.failures.push(format!(
                        "{label}: {outcome:?} at now={now}\n    token: {token}"
                    ));
                } else {
                    self.failures.push(String::new());
                }
            }
        }
    }

    /// A one-line summary.
    pub fn summary(&self) -> String {
        format!(
            "{} tokens: {} both accepted, {} both rejected, {} excluded ({} of them with \
             differing verdicts, all in the documented direction), {} in classes of both \
             directions, {} failures; per class {:?}",
            self.total,
            self.agree_accept,
            self.agree_reject,
            self.excluded,
            self.excluded_differing,
            self.mixed,
            self.failures.len(),
            self.per_class
        )
    }
}
