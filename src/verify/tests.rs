//! Test vectors (tokens signed by hand with the key below, one or more per rule) and the
//! verifier's rules, at injected times.

use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;

use super::*;
use crate::jws::HmacSha256;
use crate::TrackSource;

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";

const V1: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJBUElhYmNkZWZnIiwic3ViIjoiYWxpY2UiLCJleHAiOjE3MDAwMjE2MDAsIm5iZiI6MTcwMDAwMDAwMCwiaWF0IjoxNzAwMDAwMDAwLCJpZGVudGl0eSI6ImFsaWNlIiwibmFtZSI6IkFsaWNlIiwidmlkZW8iOnsicm9vbUpvaW4iOnRydWUsInJvb20iOiJteXJvb20iLCJjYW5QdWJsaXNoU291cmNlcyI6WyJjYW1lcmEiLCJtaWNyb3Bob25lIl19LCJtZXRhZGF0YSI6IntcImFcIjoxfSIsImF0dHJpYnV0ZXMiOnsiazEiOiJ2MSJ9fQ.K4ueco6i4r-0jeQu80-CgFWe9870oiQorwRFWVkQ7to";
const V2: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJBUElhYmNkZWZnIiwiZXhwIjoxNzAwMDIxNjAwLCJuYmYiOjE3MDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMCwidmlkZW8iOnsicm9vbUFkbWluIjp0cnVlLCJyb29tIjoibXlyb29tIiwicm9vbUNyZWF0ZSI6dHJ1ZSwicm9vbUxpc3QiOnRydWV9fQ.abSp_54bNzAsGFa5dZLN0-92ICvtkmKlBE0C9Gkd9bg";
const V3: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJBUElhYmNkZWZnIiwic3ViIjoiYm9iIiwibmJmIjoxNzAwMDAwMDAwLCJ2aWRlbyI6eyJyb29tQ3JlYXRlIjp0cnVlfX0.cM1jc9BHeORzUfPeLuDaxwcpChX1C__nOG42jC8TcF8";
const V4: &str = "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJBUElhYmNkZWZnIiwiZXhwIjoxNzAwMDIxNjAwLCJuYmYiOjE3MDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMCwidmlkZW8iOnsicm9vbUFkbWluIjp0cnVlLCJyb29tIjoibXlyb29tIiwicm9vbUNyZWF0ZSI6dHJ1ZSwicm9vbUxpc3QiOnRydWV9fQ.hdCm4MkYzja-JJaYGts9w5ie3h5RotNM4H5ZhFu100ll7xwieRBKQ0q3lMAN-2AU";
const V5: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJBUElhYmNkZWZnIiwiZXhwIjoxNzAwMDIxNjAwLCJuYmYiOjE3MDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMCwidmlkZW8iOnsicm9vbUFkbWluIjp0cnVlLCJyb29tIjoibXlyb29tIiwicm9vbUNyZWF0ZSI6dHJ1ZSwicm9vbUxpc3QiOnRydWV9fQ.GgVJEPo9A0f8IecQLudBlSabvQQkkrneU0-9hjxkF_U";
const V7: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJBUElhYmNkZWZnIiwianRpIjoiZnJvbS1qdGkiLCJleHAiOjE3MDAwMjE2MDAsIm5iZiI6MTcwMDAwMDAwMCwidmlkZW8iOnsicm9vbUpvaW4iOnRydWUsInJvb20iOiJyIn19.sYcYyTMsy3D8eI0PkWezumgRD88xEh0AU7YivKoKup4";
const V8: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJkZXZrZXkiLCJzdWIiOiJkZXYtdXNlciIsImV4cCI6MTcwMDAyMTYwMCwibmJmIjoxNzAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsInZpZGVvIjp7InJvb21Kb2luIjp0cnVlLCJyb29tIjoiZGV2cm9vbSIsImNhblB1Ymxpc2giOmZhbHNlLCJjYW5QdWJsaXNoRGF0YSI6dHJ1ZX19.Hrm5b84zlim2E7dhHYGO4E0hvSXjHdHxg8_dlFEoDGY";

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn verifier() -> Verifier {
    Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("the test key"))
}

fn kind_at(token: &str, now: u64) -> Result<Claims, VerifyErrorKind> {
    verifier().verify_at(token, at(now)).map_err(|e| e.kind())
}

/// Signs `header` and `payload` JSON with `secret`, for hand-built hostile tokens.
fn sign(header: &str, payload: &str, secret: &str) -> String {
    sign_bytes(header, payload.as_bytes(), secret)
}

/// [`sign`] for a payload that need not be UTF-8.
fn sign_bytes(header: &str, payload: &[u8], secret: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[test]
fn v1_join_token_is_accepted_with_its_sources() {
    let claims = kind_at(V1, 1_700_000_100).expect("V1 accepted");
    assert_eq!(claims.identity(), "alice");
    assert_eq!(claims.name(), "Alice");
    assert_eq!(claims.metadata(), r#"{"a":1}"#);
    assert_eq!(claims.attributes().get("k1"), Some("v1"));
    assert_eq!(claims.api_key(), KEY);
    assert_eq!(claims.expires_at(), Some(1_700_021_600));
    assert!(claims.can_join());
    assert_eq!(claims.room(), "myroom");
    assert!(claims.can_publish_source(TrackSource::Camera));
    assert!(claims.can_publish_source(TrackSource::Microphone));
    assert!(!claims.can_publish_source(TrackSource::ScreenShare));
    assert!(claims.can_subscribe() && claims.can_publish_data());
}

#[test]
fn v1_expiry_edge_is_exp_plus_leeway_exclusive() {
    assert!(kind_at(V1, 1_700_021_659).is_ok());
    assert_eq!(
        kind_at(V1, 1_700_021_660).err(),
        Some(VerifyErrorKind::Expired)
    );
}

#[test]
fn v1_not_before_edge_is_nbf_minus_leeway_inclusive() {
    assert!(kind_at(V1, 1_699_999_940).is_ok());
    assert_eq!(
        kind_at(V1, 1_699_999_939).err(),
        Some(VerifyErrorKind::NotYetValid)
    );
}

#[test]
fn v2_admin_token_is_admin_of_its_room_only_and_cannot_join() {
    let claims = kind_at(V2, 1_700_000_100).expect("V2 accepted");
    assert_eq!(claims.identity(), "");
    assert!(claims.is_room_admin("myroom"));
    assert!(!claims.is_room_admin("other"));
    assert!(!claims.can_join());
    assert!(claims.can_create_rooms() && claims.can_list_rooms());
}

#[test]
fn v3_token_without_exp_is_rejected() {
    assert_eq!(
        kind_at(V3, 1_700_000_100).err(),
        Some(VerifyErrorKind::MissingExpiry)
    );
}

#[test]
fn v4_hs384_is_rejected_before_the_mac() {
    assert_eq!(
        kind_at(V4, 1_700_000_100).err(),
        Some(VerifyErrorKind::UnsupportedAlgorithm)
    );
}

#[test]
fn v5_token_signed_with_another_secret_is_rejected() {
    assert_eq!(
        kind_at(V5, 1_700_000_100).err(),
        Some(VerifyErrorKind::InvalidSignature)
    );
}

#[test]
fn v6_alg_none_with_empty_signature_is_rejected() {
    let payload = V2.split('.').nth(1).expect("payload");
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let token = format!("{header}.{payload}.");
    assert_eq!(
        kind_at(&token, 1_700_000_100).err(),
        Some(VerifyErrorKind::UnsupportedAlgorithm)
    );
}

#[test]
fn v7_identity_falls_back_to_jti() {
    let claims = kind_at(V7, 1_700_000_100).expect("V7 accepted");
    assert_eq!(claims.identity(), "from-jti");
    assert!(claims.can_join());
}

#[test]
fn v8_dev_key_token_publishes_data_only_and_needs_its_key() {
    let dev = Verifier::new(
        KeyRing::allowing_weak_secrets()
            .with_key("devkey", "secret")
            .expect("dev key"),
    );
    let claims = dev.verify_at(V8, at(1_700_000_100)).expect("V8 accepted");
    assert!(TrackSource::ALL
        .iter()
        .all(|s| !claims.can_publish_source(*s)));
    assert!(claims.can_publish_data() && claims.can_subscribe() && !claims.can_publish());
    let err = verifier()
        .verify_at(V8, at(1_700_000_100))
        .expect_err("unknown key");
    assert_eq!(err.kind(), VerifyErrorKind::UnknownKey);
    assert!(err.to_string().contains("invalid API key"));
}

#[test]
fn missing_or_empty_issuer_is_rejected() {
    for payload in [
        r#"{"exp":1700021600}"#,
        r#"{"iss":"","exp":1700021600}"#,
        r#"{"iss":null,"exp":1700021600}"#,
    ] {
        let token = sign(HS256, payload, SECRET);
        assert_eq!(
            kind_at(&token, 1_700_000_100).err(),
            Some(VerifyErrorKind::MissingIssuer),
            "{payload}"
        );
    }
}

#[test]
fn iat_in_the_future_beyond_leeway_is_rejected() {
    let payload = |iat: u64| format!(r#"{{"iss":"{KEY}","exp":1700021600,"iat":{iat}}}"#);
    assert!(kind_at(&sign(HS256, &payload(1_700_000_160), SECRET), 1_700_000_100).is_ok());
    assert_eq!(
        kind_at(&sign(HS256, &payload(1_700_000_161), SECRET), 1_700_000_100).err(),
        Some(VerifyErrorKind::IssuedInFuture)
    );
}

#[test]
fn float_dates_are_accepted_and_string_dates_are_invalid_claims() {
    let float = sign(
        HS256,
        &format!(r#"{{"iss":"{KEY}","exp":1700021600.5,"nbf":1699999999.9}}"#),
        SECRET,
    );
    assert!(kind_at(&float, 1_700_000_100).is_ok());
    let string = sign(
        HS256,
        &format!(r#"{{"iss":"{KEY}","exp":"1700021600"}}"#),
        SECRET,
    );
    let err = verifier()
        .verify_at(&string, at(1_700_000_100))
        .expect_err("string exp");
    assert_eq!(
        (err.kind(), err.claim()),
        (VerifyErrorKind::InvalidClaim, Some("exp"))
    );
}

#[test]
fn fractional_dates_are_truncated_as_the_server_compares_them() {
    // The LiveKit server's go-jose reads a NumericDate into an int64 (truncated toward zero) before it
    // compares, so a fraction never buys a second.
    let token = |claims: &str| sign(HS256, &format!(r#"{{"iss":"{KEY}",{claims}}}"#), SECRET);
    let exp = token(r#""exp":1700021600.9"#);
    assert!(kind_at(&exp, 1_700_021_659).is_ok());
    assert_eq!(
        kind_at(&exp, 1_700_021_660).err(),
        Some(VerifyErrorKind::Expired),
        "exp X.9 expires exactly as exp X"
    );
    let nbf = token(r#""exp":1700021600,"nbf":1700000000.9"#);
    assert!(
        kind_at(&nbf, 1_699_999_940).is_ok(),
        "nbf X.9 is valid from X - leeway, as nbf X"
    );
    assert_eq!(
        kind_at(&nbf, 1_699_999_939).err(),
        Some(VerifyErrorKind::NotYetValid)
    );
    let iat = token(r#""exp":1700021600,"iat":1700000160.9"#);
    assert!(kind_at(&iat, 1_700_000_100).is_ok(), "iat X.9 counts as X");
    let claims = verifier()
        .verify_at(&exp, at(1_700_000_100))
        .expect("verifies");
    assert_eq!(claims.expires_at(), Some(1_700_021_600));
}

#[test]
fn repeated_claims_are_refused_rather_than_picked() {
    for payload in [
        format!(r#"{{"iss":"{KEY}","exp":1,"exp":1700021600}}"#),
        format!(r#"{{"iss":"{KEY}","iss":"other","exp":1700021600}}"#),
    ] {
        let err = verifier()
            .verify_at(&sign(HS256, &payload, SECRET), at(1_700_000_100))
            .expect_err(&payload);
        assert_eq!(err.kind(), VerifyErrorKind::Malformed, "{payload}");
        assert!(err.claim().is_some());
    }
}

#[test]
fn leeway_is_configurable_and_capped_at_ten_minutes() {
    let strict = verifier().with_leeway(Duration::ZERO);
    assert_eq!(
        strict
            .verify_at(V1, at(1_700_021_600))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::Expired)
    );
    assert!(strict.verify_at(V1, at(1_700_021_599)).is_ok());
    let lax = verifier().with_leeway(Duration::from_secs(3600));
    assert_eq!(lax.leeway(), MAX_LEEWAY);
    assert!(lax.verify_at(V1, at(1_700_021_600 + 599)).is_ok());
    assert!(lax.verify_at(V1, at(1_700_021_600 + 600)).is_err());
}

#[test]
fn audience_is_ignored_unless_configured() {
    let token = sign(
        HS256,
        &format!(r#"{{"iss":"{KEY}","exp":1700021600,"aud":["a","b"]}}"#),
        SECRET,
    );
    assert!(kind_at(&token, 1_700_000_100).is_ok());
    let wants_b = verifier().with_audience("b");
    assert!(wants_b.verify_at(&token, at(1_700_000_100)).is_ok());
    let wants_c = verifier().with_audience("c");
    assert_eq!(
        wants_c
            .verify_at(&token, at(1_700_000_100))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::InvalidAudience)
    );
    assert_eq!(
        wants_b
            .verify_at(V1, at(1_700_000_100))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::InvalidAudience)
    );
}

#[test]
fn tokens_over_the_limit_are_rejected_before_decoding() {
    let limited = verifier().with_max_token_len(V1.len() - 1);
    let err = limited
        .verify_at(V1, at(1_700_000_100))
        .expect_err("too long");
    assert_eq!(err.kind(), VerifyErrorKind::TokenTooLong);
    assert!(verifier()
        .with_max_token_len(V1.len())
        .verify_at(V1, at(1_700_000_100))
        .is_ok());
    let huge = "a".repeat(DEFAULT_MAX_TOKEN_LEN + 1);
    assert_eq!(kind_at(&huge, 0).err(), Some(VerifyErrorKind::TokenTooLong));
}

#[test]
fn every_single_byte_change_of_a_valid_token_is_rejected() {
    let v = verifier();
    let mut bytes = V1.as_bytes().to_vec();
    for i in 0..bytes.len() {
        let original = bytes[i];
        for replacement in [b'A', b'.', b'_', b'=', b' '] {
            if replacement == original {
                continue;
            }
            bytes[i] = replacement;
            let token = String::from_utf8(bytes.clone()).expect("ascii");
            assert!(
                v.verify_at(&token, at(1_700_000_100)).is_err(),
                "byte {i} -> {replacement}"
            );
        }
        bytes[i] = original;
    }
}

#[test]
fn rotation_swaps_keys_for_every_clone() {
    let v = verifier();
    let clone = v.clone();
    assert!(clone.verify_at(V1, at(1_700_000_100)).is_ok());
    v.rotate(
        KeyRing::allowing_weak_secrets()
            .with_key("devkey", "secret")
            .expect("dev"),
    );
    assert_eq!(
        clone
            .verify_at(V1, at(1_700_000_100))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::UnknownKey)
    );
    assert!(clone.verify_at(V8, at(1_700_000_100)).is_ok());
    assert!(clone.key_ring().contains("devkey"));
}

#[test]
fn injected_clock_drives_verify() {
    let v = verifier().with_clock(|| at(1_700_021_660));
    assert_eq!(
        v.verify(V1).map_err(|e| e.kind()).err(),
        Some(VerifyErrorKind::Expired)
    );
    let v = verifier().with_clock(|| at(1_700_000_100));
    assert!(v.verify(V1).is_ok());
}

#[test]
fn errors_and_debug_never_show_the_token_or_the_secret() {
    let v = verifier();
    let debug = format!("{v:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    for token in [V1, V3, V4, V5, V8, "garbage", "a.b.c"] {
        for now in [1_700_000_100, 1_800_000_000] {
            if let Err(err) = v.verify_at(token, at(now)) {
                for text in [err.to_string(), format!("{err:?}")] {
                    assert!(!text.contains(SECRET), "{text}");
                    for segment in token.split('.').filter(|s| s.len() > 8) {
                        assert!(!text.contains(segment), "{text}");
                    }
                }
            }
        }
    }
}

#[test]
fn non_object_and_non_json_payloads_are_malformed() {
    for payload in [
        "[1]",
        "null",
        "not json",
        r#"{"iss":"APIabcdefg","exp":1700021600} trailing"#,
    ] {
        let token = sign(HS256, payload, SECRET);
        assert_eq!(
            kind_at(&token, 1_700_000_100).err(),
            Some(VerifyErrorKind::Malformed),
            "{payload}"
        );
    }
}

#[test]
fn invalid_utf8_is_refused_in_a_claim_read_and_let_through_in_one_skipped() {
    // The parser takes a payload that is UTF-8 throughout as text and any other as bytes;
    // both must give the same answers. A skipped claim is not read, as the LiveKit server's
    // Go decoder does not refuse it.
    let payload = |name: &[u8], other: &[u8]| {
        [
            &br#"{"iss":"APIabcdefg","exp":1700021600,"name":""#[..],
            name,
            br#"","other":""#,
            other,
            br#""}"#,
        ]
        .concat()
    };
    let verify = |name: &[u8], other: &[u8]| {
        let token = sign_bytes(HS256, &payload(name, other), SECRET);
        kind_at(&token, 1_700_000_100).map(|claims| claims.name().to_owned())
    };
    assert_eq!(verify("é\\u00e9".as_bytes(), b"x"), Ok("éé".to_owned()));
    assert_eq!(verify(b"x", b"\\u00e9\xff"), Ok("x".to_owned()));
    assert_eq!(verify(b"\xff", b"x"), Err(VerifyErrorKind::InvalidClaim));
    assert_eq!(verify(b"\\ud800", b"x"), Err(VerifyErrorKind::InvalidClaim));
    assert_eq!(
        verify(b"\\ud800", b"\xff"),
        Err(VerifyErrorKind::InvalidClaim)
    );
}

#[test]
fn wrong_typed_grants_name_the_claim() {
    for (payload, claim) in [
        (r#""video":"admin""#, "video"),
        (r#""attributes":{"k":1}"#, "attributes"),
        (r#""sip":[true]"#, "sip"),
        (r#""kindDetails":"agent""#, "kindDetails"),
    ] {
        let token = sign(
            HS256,
            &format!(r#"{{"iss":"{KEY}","exp":1700021600,{payload}}}"#),
            SECRET,
        );
        let err = verifier()
            .verify_at(&token, at(1_700_000_100))
            .expect_err(payload);
        assert_eq!(
            (err.kind(), err.claim()),
            (VerifyErrorKind::InvalidClaim, Some(claim))
        );
        assert!(err.to_string().contains(claim));
    }
}

fn cached() -> Verifier {
    verifier().with_cache(100, 1 << 20)
}

#[test]
fn cache_hit_returns_the_same_claims_and_still_checks_the_clock() {
    let v = cached();
    let first = v.verify_at(V1, at(1_700_000_100)).expect("verifies");
    assert_eq!(v.cached_tokens(), 1);
    // The very same claims (one allocation), not an equal fresh verification.
    let hit = v.verify_at(V1, at(1_700_000_200)).expect("hit");
    assert!(std::ptr::eq(hit.data(), first.data()));
    assert_eq!(
        v.verify_at(V1, at(1_700_021_660))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::Expired)
    );
    assert_eq!(
        v.verify_at(V1, at(1_699_999_939))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::NotYetValid)
    );
    assert_eq!(
        v.verify_at(V1, at(1_700_021_659))
            .expect("hit within leeway"),
        first
    );
}

#[test]
fn cache_never_stores_rejections_nor_confuses_tokens() {
    let v = cached();
    assert!(v.verify_at(V5, at(1_700_000_100)).is_err());
    assert!(v.verify_at(V3, at(1_700_000_100)).is_err());
    assert_eq!(v.cached_tokens(), 0);
    v.verify_at(V2, at(1_700_000_100)).expect("verifies");
    // V5 has V2's header and payload with another signature: still refused after V2 is cached.
    assert_eq!(
        v.verify_at(V5, at(1_700_000_100))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::InvalidSignature)
    );
}

#[test]
fn rotation_empties_the_cache_and_refuses_tokens_of_removed_keys() {
    let v = cached();
    v.verify_at(V1, at(1_700_000_100)).expect("verifies");
    v.rotate(
        KeyRing::allowing_weak_secrets()
            .with_key("devkey", "secret")
            .expect("dev"),
    );
    assert_eq!(v.cached_tokens(), 0);
    assert_eq!(
        v.verify_at(V1, at(1_700_000_100))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::UnknownKey)
    );
}

#[test]
fn cache_is_bounded_in_entries_and_bytes() {
    let tokens: Vec<String> = (0..200)
        .map(|i| {
            sign(
                HS256,
                &format!(r#"{{"iss":"{KEY}","sub":"u{i}","exp":1700021600}}"#),
                SECRET,
            )
        })
        .collect();
    let by_entries = verifier().with_cache(32, 1 << 20);
    let by_bytes = verifier().with_cache(10_000, 16 * 1024);
    for token in &tokens {
        by_entries
            .verify_at(token, at(1_700_000_100))
            .expect("verifies");
        by_bytes
            .verify_at(token, at(1_700_000_100))
            .expect("verifies");
    }
    assert!(
        by_entries.cached_tokens() <= 32,
        "{}",
        by_entries.cached_tokens()
    );
    assert!(by_entries.cached_tokens() >= 16);
    let bytes = by_bytes
        .cache
        .as_ref()
        .map(|c| c.bytes())
        .unwrap_or_default();
    assert!(bytes <= 16 * 1024, "{bytes}");
    assert!(by_bytes.cached_tokens() > 0);
    // Every token still verifies, cached or not.
    for token in &tokens {
        assert!(by_entries.verify_at(token, at(1_700_000_100)).is_ok());
    }
}

#[test]
fn cached_audience_is_checked_on_every_hit() {
    let token = sign(
        HS256,
        &format!(r#"{{"iss":"{KEY}","exp":1700021600,"aud":"svc"}}"#),
        SECRET,
    );
    let v = verifier().with_audience("svc").with_cache(10, 1 << 20);
    assert!(v.verify_at(&token, at(1_700_000_100)).is_ok());
    assert_eq!(v.cached_tokens(), 1);
    // A clone sharing the cache but wanting another audience must refuse the cached token.
    let other = v.clone().with_audience("other");
    assert_eq!(
        other
            .verify_at(&token, at(1_700_000_100))
            .map_err(|e| e.kind())
            .err(),
        Some(VerifyErrorKind::InvalidAudience)
    );
    assert!(v.verify_at(&token, at(1_700_000_100)).is_ok());
}
