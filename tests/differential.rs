//! Differential test: the crate's `Verifier` against `jsonwebtoken` as the oracle.
//!
//! About 8 000 tokens from a seeded generator: valid ones (minted with `jsonwebtoken::encode`
//! and with `AccessToken`, with varied claims and headers) and corrupted ones (bit flips, byte
//! substitutions, truncations, segment swaps, other secrets, other algorithms, dates at the
//! leeway edges, unknown or missing `iss`, missing `exp`, mutated JSON re-signed with the right
//! secret). Both sides must agree on accept/reject wherever both apply; the intended
//! divergences are listed, with their reasons, on `support::oracle::Divergence`, and on those
//! classes the verdicts must go in the documented direction (the crate stricter, except for the
//! three classes where it follows the LiveKit server in being more lenient).
//!
//! `jsonwebtoken` reads the system clock, so each case is built and judged at the current whole
//! second (`at_stable_second`); the token texts change from run to run, their structure (the
//! seed, the offsets from `now`) does not.

mod support;

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Map, Value};
use support::oracle::{
    assemble, assemble_with, at_stable_second, judge, key_ring, secret_for, sign_for_iss,
    system_time, verifier, Divergence, Hmac2, Outcome, Tally, KEY_A, KEY_B, LEEWAY, OTHER_SECRET,
    SECRET_A, SECRET_B, UNKNOWN_KEY, VIDEO_BOOLS,
};
use tower_livekit_auth::{
    AccessToken, AgentGrant, ParticipantKind, RoomAgentDispatch, RoomConfiguration, SipGrant,
    TrackSource, Verifier, VideoGrant,
};

/// SplitMix64: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn one<T>(&mut self, mut items: Vec<T>) -> T {
        let at = self.below(items.len());
        items.swap_remove(at)
    }
    fn text(&mut self) -> String {
        const PIECES: &[&str] = &[
            "alice",
            "Bob",
            "agent-7",
            "Åsa Ström",
            "李雷",
            "🎥",
            "r",
            "my room",
            "\"quoted\"",
            "back\\slash",
            "tab\t",
            "{\"a\":1}",
            "",
            "x",
            "ü",
            "\u{0}",
            "room_42",
        ];
        (0..self.below(4)).map(|_| *self.pick(PIECES)).collect()
    }
}

/// `grant` with `with(grant, value)` applied when `value` is set: an unset claim stays unset.
fn with_opt<T>(grant: T, value: Option<bool>, with: fn(T, bool) -> T) -> T {
    match value {
        Some(value) => with(grant, value),
        None => grant,
    }
}

fn opt_bool(rng: &mut Rng) -> Option<bool> {
    match rng.below(3) {
        0 => None,
        1 => Some(false),
        _ => Some(true),
    }
}

/// A random claims object, as an SDK could mint it, at `now`.
fn random_claims(rng: &mut Rng, now: i64) -> Map<String, Value> {
    let mut claims = Map::new();
    let iss = if rng.chance(50) { KEY_A } else { KEY_B };
    claims.insert("iss".into(), json!(iss));
    claims.insert("exp".into(), json!(now + rng.range(-3 * 3600, 6 * 3600)));
    if rng.chance(70) {
        claims.insert("nbf".into(), json!(now + rng.range(-3600, 3600)));
    }
    if rng.chance(30) {
        claims.insert("iat".into(), json!(now + rng.range(-3600, 300)));
    }
    if rng.chance(80) {
        claims.insert("sub".into(), json!(rng.text()));
    }
    if rng.chance(10) {
        claims.insert("jti".into(), json!(rng.text()));
    }
    if rng.chance(50) {
        claims.insert("name".into(), json!(rng.text()));
    }
    if rng.chance(30) {
        let kind = *rng.pick(&["standard", "agent", "EGRESS", "sip", "martian", ""]);
        claims.insert("kind".into(), json!(kind));
    }
    if rng.chance(20) {
        claims.insert("kindDetails".into(), json!(["forwarded", "unknown_detail"]));
    }
    if rng.chance(40) {
        claims.insert(
            "metadata".into(),
            json!(format!("{{\"t\":\"{}\"}}", rng.below(99))),
        );
    }
    if rng.chance(30) {
        let mut attributes = Map::new();
        for _ in 0..rng.below(4) {
            attributes.insert(rng.text(), json!(rng.text()));
        }
        claims.insert("attributes".into(), Value::Object(attributes));
    }
    if rng.chance(85) {
        let mut video = Map::new();
        for field in VIDEO_BOOLS {
            if let Some(value) = opt_bool(rng) {
                video.insert(field.into(), json!(value));
            }
        }
        if rng.chance(80) {
            video.insert("room".into(), json!(rng.text()));
        }
        if rng.chance(20) {
            video.insert("destinationRoom".into(), json!(rng.text()));
        }
        if rng.chance(40) {
            let sources: Vec<&str> = (0..rng.below(4))
                .map(|_| *rng.pick(&["camera", "microphone", "screen_share", "CAMERA"]))
                .collect();
            video.insert("canPublishSources".into(), json!(sources));
        }
        if rng.chance(10) {
            video.insert("room_join".into(), json!(true));
        }
        claims.insert("video".into(), Value::Object(video));
    }
    if rng.chance(20) {
        claims.insert("sip".into(), json!({"call": true}));
    }
    if rng.chance(10) {
        claims.insert(
            "agent".into(),
            json!({"admin": false, "dispatchAdmin": true}),
        );
    }
    if rng.chance(15) {
        let config = match rng.below(3) {
            0 => json!({"agents": [{"agentName": "a1", "metadata": "m"}]}),
            1 => json!({"name": "r", "emptyTimeout": 30, "agents": [{"agent_name": "x",
                        "restartPolicy": "JRP_NEVER"}], "max_participants": "7"}),
            _ => Value::Null,
        };
        claims.insert("roomConfig".into(), config);
    }
    if rng.chance(10) {
        claims.insert("aud".into(), json!("some-service"));
    }
    if rng.chance(20) {
        claims.insert("identity".into(), json!("ignored"));
        claims.insert("x-custom".into(), json!({"nested": [1, {"deep": null}]}));
    }
    claims
}

/// The header texts the SDKs write, plus two the crate must also take.
const HEADERS: &[&str] = &[
    r#"{"alg":"HS256","typ":"JWT"}"#,
    r#"{"typ":"JWT","alg":"HS256"}"#,
    r#"{"alg":"HS256"}"#,
    r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#,
    r#"{ "alg" : "HS256" }"#,
];

/// A valid token for `claims`: through `jsonwebtoken::encode` or assembled from a header text.
fn mint(rng: &mut Rng, claims: &Map<String, Value>) -> (String, String) {
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or(KEY_A);
    let secret = secret_for(iss).unwrap_or(OTHER_SECRET);
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    if rng.chance(50) {
        let token = jsonwebtoken::encode(
            &Header::default(),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("jsonwebtoken mints HS256");
        (token, String::from_utf8(payload).expect("JSON is UTF-8"))
    } else {
        let header = *rng.pick(HEADERS);
        (
            assemble(header.as_bytes(), &payload, secret.as_bytes()),
            String::from_utf8(payload).expect("JSON is UTF-8"),
        )
    }
}

/// A valid token minted by the crate's `AccessToken`, issued at `now - age`.
fn mint_access_token(rng: &mut Rng, now: i64) -> String {
    let (key, secret) = if rng.chance(50) {
        (KEY_A, SECRET_A)
    } else {
        (KEY_B, SECRET_B)
    };
    let age = rng.range(0, 7200);
    let mut token = AccessToken::new(key, secret)
        .with_identity(format!("user-{}", rng.below(1000)))
        .with_ttl(Duration::from_secs(rng.range(1, 7200) as u64));
    if rng.chance(50) {
        token = token.with_name(rng.text());
    }
    if rng.chance(30) {
        token = token.with_metadata(r#"{"role":"host"}"#);
    }
    if rng.chance(30) {
        token = token.with_attributes([("k", rng.text()), ("ü", "v".to_owned())]);
    }
    if rng.chance(20) {
        token = token.with_kind(ParticipantKind::Agent);
    }
    let mut grant = if rng.chance(50) {
        VideoGrant::join(format!("room-{}", rng.below(10)))
    } else {
        VideoGrant::admin("admin-room")
    };
    grant = with_opt(grant, opt_bool(rng), VideoGrant::with_can_publish);
    grant = with_opt(grant, opt_bool(rng), VideoGrant::with_can_publish_data);
    grant = with_opt(grant, opt_bool(rng), VideoGrant::with_can_subscribe);
    if rng.chance(30) {
        grant = grant.with_can_publish_sources([TrackSource::Camera, TrackSource::Microphone]);
    }
    token = token.with_video_grant(grant);
    if rng.chance(20) {
        let sip = with_opt(SipGrant::new(), opt_bool(rng), SipGrant::with_admin);
        token = token.with_sip_grant(with_opt(sip, opt_bool(rng), SipGrant::with_call));
    }
    if rng.chance(10) {
        token = token.with_agent_grant(AgentGrant::new().with_dispatch_admin(true));
    }
    if rng.chance(15) {
        token = token.with_room_config(
            RoomConfiguration::new().with_agent(RoomAgentDispatch::new("helper")),
        );
    }
    token
        .to_jwt_at(system_time((now - age) as u64))
        .expect("AccessToken mints")
}

/// Bytes the string-level corruptions write into a token.
const NOISE: &[&str] = &[
    "A", "a", "0", "_", "-", "=", "+", "/", ".", " ", "\n", "é", "%", "\u{0}", "eyJ",
];

/// A string-level corruption of a token.
fn corrupt_text(rng: &mut Rng, token: &str) -> (String, &'static str) {
    let bytes = token.as_bytes();
    let at = rng.below(bytes.len().max(1));
    let parts: Vec<&str> = token.split('.').collect();
    match rng.below(8) {
        0 => {
            let mut out = bytes.to_vec();
            out[at] ^= 1 << rng.below(7);
            (String::from_utf8_lossy(&out).into_owned(), "bit flip")
        }
        1 => {
            let mut out = String::from_utf8_lossy(&bytes[..at]).into_owned();
            let noise: &&str = rng.pick(NOISE);
            out.push_str(noise);
            out.push_str(&String::from_utf8_lossy(&bytes[at + 1..]));
            (out, "byte substitution")
        }
        2 => (token[..at].to_owned(), "truncation"),
        3 => {
            let mut out = token[..at].to_owned();
            let noise: &&str = rng.pick(NOISE);
            out.push_str(noise);
            out.push_str(&token[at..]);
            (out, "insertion")
        }
        4 => {
            let swapped = match rng.below(4) {
                0 => format!("{}.{}.{}", parts[1], parts[0], parts[2]),
                1 => format!("{}.{}.{}", parts[0], parts[2], parts[1]),
                2 => format!("{}.{}.{}.{}", parts[0], parts[1], parts[1], parts[2]),
                _ => format!("{}.{}", parts[0], parts[1]),
            };
            (swapped, "segment swap")
        }
        5 => (
            format!("{token}{}", rng.pick(&["=", "==", ".", " ", "A"])),
            "suffix",
        ),
        6 => {
            let std = token.replace('-', "+").replace('_', "/");
            (std, "standard base64 alphabet")
        }
        _ => (
            format!("{}{token}", rng.pick(&[" ", "Bearer ", "."])),
            "prefix",
        ),
    }
}

/// Header texts for algorithm changes, each with the HMAC it is signed with.
const OTHER_ALGS: &[(&str, Hmac2)] = &[
    (r#"{"alg":"HS384","typ":"JWT"}"#, Hmac2::Hs384),
    (r#"{"alg":"HS512","typ":"JWT"}"#, Hmac2::Hs512),
    (r#"{"alg":"HS384","typ":"JWT"}"#, Hmac2::Hs256),
    (r#"{"alg":"none","typ":"JWT"}"#, Hmac2::Hs256),
    (r#"{"alg":"None"}"#, Hmac2::Hs256),
    (r#"{"alg":"RS256","typ":"JWT"}"#, Hmac2::Hs256),
    (r#"{"alg":"ES256"}"#, Hmac2::Hs256),
    (r#"{"alg":"hs256"}"#, Hmac2::Hs256),
    (r#"{"alg":null}"#, Hmac2::Hs256),
    (r#"{"typ":"JWT"}"#, Hmac2::Hs256),
];

/// Header texts that are HS256 in some hostile or unusual way, signed correctly.
const ODD_HEADERS: &[&str] = &[
    r#"{"alg":"HS256","crit":["exp"]}"#,
    r#"{"alg":"HS256","alg":"HS256"}"#,
    r#"{"alg":"HS256","typ":5}"#,
    r#"{"alg":"HS256","kid":7}"#,
    r#"{"alg":"HS256","jku":"https://attacker.example/keys"}"#,
    r#"{"alg":"HS256","x5c":"notalist"}"#,
    r#"{"alg":"HS256","typ":null}"#,
    r#"{"alg":"HS256","x":"\ud800"}"#,
    r#"{"alg":"HS\u0032\u0035\u0036"}"#,
    r#"{"alg":"HS256"} "#,
    r#"{"alg":"HS256"}x"#,
    r#"["HS256"]"#,
    r#"{"alg":"HS256","extra":{"a":{"a":{"a":[1,2,3]}}}}"#,
];

/// A JSON-level mutation of the claims, or of the payload text; the result is re-signed with
/// the right secret, so it tests the claims rather than the MAC.
fn mutate_claims(rng: &mut Rng, claims: &mut Map<String, Value>, now: i64) -> Option<String> {
    let leeway = LEEWAY as i64;
    let edge = rng.range(-3, 3);
    match rng.below(27) {
        0 => {
            claims.insert("exp".into(), json!(now - leeway + edge));
        }
        1 => {
            claims.insert("nbf".into(), json!(now + leeway + edge));
        }
        2 => {
            claims.insert("iat".into(), json!(now + leeway + edge));
        }
        3 => {
            claims.remove("exp");
        }
        4 => {
            claims.remove("iss");
        }
        5 => {
            claims.insert(
                "iss".into(),
                json!(*rng.pick(&[UNKNOWN_KEY, "", "apidiffa0000001"])),
            );
        }
        6 => {
            let value = rng.one(vec![
                json!(null),
                json!("1900000000"),
                json!(-5),
                json!(now as f64 + 0.5),
                json!(now as f64 - 60.5),
                json!(1e300),
                json!(u64::MAX),
                json!(9_007_199_254_740_993_u64),
                json!(true),
            ]);
            let name = *rng.pick(&["exp", "nbf", "iat"]);
            claims.insert(name.into(), value);
        }
        7 => {
            let value = rng.one(vec![
                json!([]),
                json!("admin"),
                json!(true),
                json!([true, true]),
            ]);
            let name = *rng.pick(&["video", "sip", "agent", "roomConfig", "inference"]);
            claims.insert(name.into(), value);
        }
        8 => {
            let field = *rng.pick(&["roomJoin", "canPublish", "room", "canPublishSources"]);
            let value = rng.one(vec![
                json!("yes"),
                json!(1),
                json!(["camera", 1]),
                json!({}),
            ]);
            claims.insert("video".into(), json!({ field: value }));
        }
        9 => {
            claims.insert(
                "attributes".into(),
                json!({"k": rng.one(vec![json!(1), json!(null)])}),
            );
        }
        10 => {
            let name = *rng.pick(&["sub", "name", "metadata", "kind", "iss", "jti", "sha256"]);
            claims.insert(name.into(), json!(7));
        }
        11 => {
            claims.insert("aud".into(), rng.one(vec![json!(["a", "b"]), json!(5)]));
        }
        12 => {
            claims.insert(
                "roomConfig".into(),
                rng.one(vec![
                    json!({"maxParticipants": -1}),
                    json!({"agents": [{"restartPolicy": "SOMETIMES"}]}),
                    json!({"agents": {}}),
                    json!({"emptyTimeout": "many"}),
                    json!({"agents": [{"agentName": "a"}], "tags": {"t": "v"}}),
                ]),
            );
        }
        13 => {
            claims.insert("kindDetails".into(), json!(["forwarded", 3]));
        }
        // Text-level mutations of the payload JSON.
        14 => {
            let json = serde_json::to_string(claims).ok()?;
            let key = *rng.pick(&["exp", "iss", "video", "name", "identity", "sub"]);
            let value = claims.get(key).cloned().unwrap_or(json!("dup"));
            return Some(format!("{{\"{key}\":{value},{}", &json[1..]));
        }
        15 => {
            let json = serde_json::to_string(claims).ok()?;
            let depth = *rng.pick(&[10, 127, 129, 400]);
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let key = *rng.pick(&["x", "metadata", "video", "attributes"]);
            return Some(format!("{{\"{key}\":{nested},{}", &json[1..]));
        }
        16 => {
            let json = serde_json::to_string(claims).ok()?;
            let value = *rng.pick(&[r#""\ud800""#, r#""\udc00x""#, "1e400", r#""ok\u00e9""#]);
            return Some(format!("{{\"unknown\":{value},{}", &json[1..]));
        }
        17 => {
            let json = serde_json::to_string(claims).ok()?;
            let around = *rng.pick(&[" ", "\n", "x", "\u{feff}", ",", "}"]);
            return Some(if rng.chance(50) {
                format!("{json}{around}")
            } else {
                format!("{around}{json}")
            });
        }
        18 => {
            let json = serde_json::to_string(claims).ok()?;
            return Some(json.replacen("\"exp\"", "\"\\u0065xp\"", 1));
        }
        19 => {
            return Some(
                rng.pick(&["[]", "null", "1", "\"s\"", "{}", ""])
                    .to_string(),
            );
        }
        20 => {
            claims.insert("video".into(), json!({"room": "r", "room": "s"}));
            let json = serde_json::to_string(claims).ok()?;
            return Some(json.replacen(
                "\"video\":{\"room\":\"s\"}",
                "\"video\":{\"room\":\"r\",\"room\":\"s\"}",
                1,
            ));
        }
        21 => {
            claims.insert(
                "nbf".into(),
                rng.one(vec![json!(null), json!(-1), json!(-0.5)]),
            );
        }
        22 => {
            claims.insert("exp".into(), json!(now as f64 - leeway as f64 + 0.5));
        }
        26 => {
            // Straddles the 16 KiB limit once base64-encoded.
            let len = rng.range(11_800, 12_600) as usize;
            claims.insert("x-big".into(), json!("a".repeat(len)));
        }
        23 => {
            claims.insert("name".into(), Value::Null);
            claims.insert("video".into(), Value::Null);
        }
        24 => {
            let json = serde_json::to_string(claims).ok()?;
            return Some(json.replacen('{', "{\"attributes\":{\"a\":\"1\",\"a\":\"2\"},", 1));
        }
        _ => {
            let json = serde_json::to_vec(claims).ok()?;
            let mut bytes = json;
            let at = rng.below(bytes.len());
            bytes[at] = *rng.pick(b"\"{}[],:0-.e\\ a\xff");
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    None
}

/// One generated case at `now`: (label, token).
fn generate(seed: u64, now: u64) -> (&'static str, String) {
    let mut rng = Rng(seed);
    let now = now as i64;
    match rng.below(20) {
        0..=3 => {
            let claims = random_claims(&mut rng, now);
            ("valid claims", mint(&mut rng, &claims).0)
        }
        4..=5 => ("AccessToken", mint_access_token(&mut rng, now)),
        6..=9 => {
            let token = if rng.chance(70) {
                let claims = random_claims(&mut rng, now);
                mint(&mut rng, &claims).0
            } else {
                mint_access_token(&mut rng, now)
            };
            let (token, _) = corrupt_text(&mut rng, &token);
            ("corrupted text", token)
        }
        10 => {
            let claims = random_claims(&mut rng, now);
            let payload = serde_json::to_vec(&claims).expect("claims serialize");
            let secret = rng.pick(&[OTHER_SECRET, SECRET_A, SECRET_B, "short", ""]);
            (
                "re-signed with another secret",
                assemble(HEADERS[0].as_bytes(), &payload, secret.as_bytes()),
            )
        }
        11 => {
            let claims = random_claims(&mut rng, now);
            let payload = serde_json::to_vec(&claims).expect("claims serialize");
            let secret = claims
                .get("iss")
                .and_then(Value::as_str)
                .and_then(secret_for)
                .unwrap_or(OTHER_SECRET);
            let (header, alg) = *rng.pick(OTHER_ALGS);
            let mut token = assemble_with(alg, header.as_bytes(), &payload, secret.as_bytes());
            if rng.chance(30) {
                let cut = token.rfind('.').expect("three parts") + 1;
                token.truncate(cut);
            }
            ("other algorithm", token)
        }
        12 => {
            let claims = random_claims(&mut rng, now);
            let payload = serde_json::to_vec(&claims).expect("claims serialize");
            (
                "odd header",
                sign_for_iss(rng.pick(ODD_HEADERS).as_bytes(), &payload),
            )
        }
        _ => {
            let mut claims = random_claims(&mut rng, now);
            let text = match mutate_claims(&mut rng, &mut claims, now) {
                Some(text) => text,
                None => serde_json::to_string(&claims).expect("claims serialize"),
            };
            let header = *rng.pick(HEADERS);
            (
                "mutated claims, re-signed",
                sign_for_iss(header.as_bytes(), text.as_bytes()),
            )
        }
    }
}

const CASES: u64 = 8_000;
const SEED: u64 = 0x11FE_C0DE;

#[test]
fn the_verifier_agrees_with_jsonwebtoken_wherever_both_apply() {
    let verifier = verifier();
    let mut tally = Tally::default();
    for case in 0..CASES {
        let seed = SEED ^ case.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let (label, token, now, outcome) = at_stable_second(|now| {
            let (label, token) = generate(seed, now);
            let outcome = judge(&verifier, &token, now);
            (label, token, now, outcome)
        });
        tally.record(&format!("case {case} ({label})"), &token, now, &outcome);
    }
    eprintln!("differential: {}", tally.summary());
    assert!(
        tally.failures.is_empty(),
        "{}\nfirst failures:\n{}",
        tally.summary(),
        tally.failures.join("\n")
    );
    // The generator must keep exercising both verdicts and every class, or this test would
    // silently stop testing anything.
    assert!(tally.agree_accept >= 1_200, "{}", tally.summary());
    assert!(tally.agree_reject >= 3_500, "{}", tally.summary());
    for class in Divergence::ALL {
        assert!(
            tally.per_class.get(&class).copied().unwrap_or(0) >= 5,
            "class {class:?} is never generated: {}",
            tally.summary()
        );
    }
}

/// The judge is not a rubber stamp: a verifier that is too lenient (a leeway of 120 s) is
/// caught both outside the classes and inside a stricter class.
#[test]
fn the_judge_reports_disagreements_and_wrong_directions() {
    let lenient = Verifier::new(key_ring()).with_leeway(Duration::from_secs(120));
    let outcome = at_stable_second(|now| {
        let claims = json!({"iss": KEY_A, "sub": "a", "exp": now - 100});
        let token = sign_for_iss(HEADERS[0].as_bytes(), claims.to_string().as_bytes());
        judge(&lenient, &token, now)
    });
    assert!(
        matches!(
            outcome,
            Outcome::Disagree {
                crate_verdict: Ok(()),
                oracle_accepts: false
            }
        ),
        "{outcome:?}"
    );
    let outcome = at_stable_second(|now| {
        let claims = json!({"iss": KEY_A, "sub": "a", "exp": now - LEEWAY - 1});
        let token = sign_for_iss(HEADERS[0].as_bytes(), claims.to_string().as_bytes());
        judge(&lenient, &token, now)
    });
    assert!(
        matches!(&outcome, Outcome::WrongDirection { classes, .. } if classes.contains(&Divergence::ExpEdge)),
        "{outcome:?}"
    );
    assert!(outcome.is_failure());
}

/// On every stricter class the crate rejects at least one token that jsonwebtoken accepts,
/// and on every more lenient class the reverse: each documented divergence is real, so none of
/// them excludes more than it should.
#[test]
fn each_documented_divergence_is_real_and_goes_the_documented_way() {
    let verifier = verifier();
    type Build = fn(u64) -> String;
    let cases: &[(Divergence, Build)] = &[
        (Divergence::ExpEdge, |now| {
            sign(json!({"iss": KEY_A, "exp": now - LEEWAY}))
        }),
        (Divergence::FractionalNbf, |now| {
            // Truncated to `now + LEEWAY`: valid now; jsonwebtoken rounds it a second later.
            let nbf = now as f64 + LEEWAY as f64 + 0.6;
            sign(json!({"iss": KEY_A, "exp": now + 600, "nbf": nbf}))
        }),
        (Divergence::DateOutOfRange, |_| {
            sign(json!({"iss": KEY_A, "exp": 9_007_199_254_740_993_u64}))
        }),
        (Divergence::IatInFuture, |now| {
            sign(json!({"iss": KEY_A, "exp": now + 600, "iat": now + 3600}))
        }),
        (Divergence::TypedClaim, |now| {
            sign(json!({"iss": KEY_A, "exp": now + 600, "video": [true]}))
        }),
        (Divergence::RepeatedKey, |now| {
            let text = format!(
                r#"{{"iss":"{KEY_A}","exp":{},"name":"a","name":"b"}}"#,
                now + 600
            );
            sign_for_iss(HEADERS[0].as_bytes(), text.as_bytes())
        }),
        (Divergence::Crit, |now| {
            let payload = json!({"iss": KEY_A, "exp": now + 600}).to_string();
            sign_for_iss(br#"{"alg":"HS256","crit":["exp"]}"#, payload.as_bytes())
        }),
        (Divergence::Oversize, |now| {
            sign(json!({"iss": KEY_A, "exp": now + 600, "x": "a".repeat(16 * 1024)}))
        }),
        (Divergence::NullOrNegativeNbf, |now| {
            sign(json!({"iss": KEY_A, "exp": now + 600, "nbf": -1}))
        }),
        (Divergence::HeaderParamType, |now| {
            let payload = json!({"iss": KEY_A, "exp": now + 600}).to_string();
            sign_for_iss(br#"{"alg":"HS256","typ":5}"#, payload.as_bytes())
        }),
        // Found by the `differential` fuzz target: a registered parameter given twice.
        (Divergence::HeaderParamType, |now| {
            let payload = json!({"iss": KEY_A, "exp": now + 600}).to_string();
            let header = br#"{"alg":"HS256","kid":"key-1","typ":"JWT","kid":"key-2"}"#;
            sign_for_iss(header, payload.as_bytes())
        }),
        (Divergence::SkimmedJson, |now| {
            let text = format!(r#"{{"iss":"{KEY_A}","exp":{},"x":"\udc00"}}"#, now + 600);
            sign_for_iss(HEADERS[0].as_bytes(), text.as_bytes())
        }),
    ];
    fn sign(claims: Value) -> String {
        sign_for_iss(HEADERS[0].as_bytes(), claims.to_string().as_bytes())
    }
    for (class, build) in cases {
        let (classes, crate_ok, oracle_ok) = at_stable_second(|now| {
            let token = build(now);
            let crate_ok = verifier.verify_at(&token, system_time(now)).is_ok();
            (
                support::oracle::classify(&token, now),
                crate_ok,
                support::oracle::oracle_accepts(&token),
            )
        });
        assert_eq!(
            classes.into_iter().collect::<Vec<_>>(),
            [*class],
            "the example classifies as exactly its class"
        );
        if class.crate_is_stricter() {
            assert!(
                !crate_ok && oracle_ok,
                "{class:?}: crate {crate_ok}, oracle {oracle_ok}"
            );
        } else {
            assert!(
                crate_ok && !oracle_ok,
                "{class:?}: crate {crate_ok}, oracle {oracle_ok}"
            );
        }
    }
}

#[test]
fn the_classifier_puts_plain_tokens_in_no_class() {
    at_stable_second(|now| {
        for seed in 0..200 {
            let mut rng = Rng(seed);
            let mut claims = random_claims(&mut rng, now as i64);
            claims.remove("roomConfig");
            claims.remove("nbf");
            claims.remove("iat");
            claims.insert("exp".into(), json!(now + 3600));
            let (token, payload) = mint(&mut rng, &claims);
            let classes = support::oracle::classify(&token, now);
            assert!(classes.is_empty(), "{classes:?} for {payload}");
        }
    });
}

/// Every `differential` fuzz reproducer in `tests/regressions/` (raw fuzz inputs), judged again:
/// no disagreement, no wrong-direction divergence.
#[test]
fn every_differential_reproducer_is_judged_without_failure() {
    let verifier = verifier();
    let mut judged = 0;
    for reproducer in support::reproducers() {
        if !reproducer.is_differential_input() {
            continue;
        }
        let outcome = at_stable_second(|now| {
            support::oracle::token_from_fuzz_input(&reproducer.bytes, now)
                .map(|token| support::oracle::judge(&verifier, &token, now))
        })
        .expect("a reproducer has a mode byte");
        let path = reproducer.path.display();
        assert!(!outcome.is_failure(), "{path}: {outcome:?}");
        judged += 1;
    }
    assert!(
        judged >= 1,
        "no differential reproducer in tests/regressions"
    );
}
