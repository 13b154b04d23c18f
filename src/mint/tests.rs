//! Minting round trips and refresh.

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::{KeyRing, RoomAgentDispatch, TrackSource, Verifier, VerifyErrorKind};

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn verifier() -> Verifier {
    Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
}

fn full_token() -> AccessToken {
    AccessToken::new(KEY, SECRET)
        .with_identity("alice")
        .with_name("Alice")
        .with_kind(ParticipantKind::Agent)
        .with_metadata(r#"{"role":"host"}"#)
        .with_attributes([("k1", "v1"), ("k2", "v2")])
        .with_video_grant(
            VideoGrant::join("myroom")
                .with_can_publish(false)
                .with_can_publish_data(true)
                .with_can_publish_sources([TrackSource::Camera])
                .with_can_update_own_metadata(true)
                .with_hidden(false)
                .with_destination_room("other"),
        )
        .with_sip_grant(SipGrant::new().with_admin(true))
        .with_agent_grant(AgentGrant::new().with_dispatch_admin(true))
        .with_inference_grant(InferenceGrant::new().with_perform(true))
        .with_observability_grant(ObservabilityGrant::new().with_write(false))
        .with_room_config(RoomConfiguration {
            max_participants: Some(3),
            agents: vec![RoomAgentDispatch::new("helper")],
            ..RoomConfiguration::default()
        })
        .with_room_preset("preset-a")
        .with_sha256("w9NV0uLHjSON8P7eonnkKXDHY4ICORefbHDCviKIgX8=")
}

#[test]
fn every_grant_round_trips_through_mint_and_verify() {
    let minted = full_token();
    let token = minted.to_jwt_at(at(1_700_000_000)).expect("mints");
    let claims = verifier()
        .verify_at(&token, at(1_700_000_000))
        .expect("verifies");
    let mut expected = minted.claims.clone();
    expected.iss = Some(KEY.into());
    expected.nbf = Some(NumericDate::from_seconds(1_700_000_000));
    expected.exp = Some(NumericDate::from_seconds(1_700_000_000 + 6 * 3600));
    assert_eq!(claims.data(), &expected);
    assert_eq!(claims.kind(), ParticipantKind::Agent);
    assert!(!claims.can_publish_source(TrackSource::Camera));
    assert!(claims.can_publish_data());
    assert!(claims.is_sip_admin() && !claims.can_make_sip_calls());
}

#[test]
fn default_ttl_is_six_hours_and_with_ttl_changes_it() {
    let plain = AccessToken::new(KEY, SECRET).with_identity("a");
    let claims = verifier()
        .verify_at(&plain.to_jwt_at(at(1_000)).expect("mints"), at(1_000))
        .expect("verifies");
    assert_eq!(claims.expires_at(), Some(1_000 + 6 * 3600));
    assert_eq!(claims.not_before(), Some(1_000));
    let short = plain.with_ttl(Duration::from_secs(90));
    let claims = verifier()
        .verify_at(&short.to_jwt_at(at(1_000)).expect("mints"), at(1_000))
        .expect("verifies");
    assert_eq!(claims.expires_at(), Some(1_090));
}

#[test]
fn join_grant_needs_identity_and_room() {
    let no_identity = AccessToken::new(KEY, SECRET).with_video_grant(VideoGrant::join("r"));
    assert_eq!(
        no_identity.to_jwt().map_err(|e| e.kind()),
        Err(MintErrorKind::MissingIdentity)
    );
    let no_room = AccessToken::new(KEY, SECRET)
        .with_identity("a")
        .with_video_grant(VideoGrant::new().with_room_join(true));
    assert_eq!(
        no_room.to_jwt().map_err(|e| e.kind()),
        Err(MintErrorKind::MissingRoom)
    );
    let admin_only = AccessToken::new(KEY, SECRET).with_video_grant(VideoGrant::admin("r"));
    assert!(admin_only.to_jwt().is_ok());
}

#[test]
fn empty_key_or_secret_cannot_mint() {
    assert_eq!(
        AccessToken::new("", SECRET).to_jwt().map_err(|e| e.kind()),
        Err(MintErrorKind::EmptyKey)
    );
    assert_eq!(
        AccessToken::new(KEY, "").to_jwt().map_err(|e| e.kind()),
        Err(MintErrorKind::EmptySecret)
    );
}

#[test]
fn refresh_keeps_the_participant_and_lasts_at_least_ten_minutes() {
    let original = full_token().with_ttl(Duration::from_secs(120));
    let token = original.to_jwt_at(at(10_000)).expect("mints");
    let v = verifier();
    let claims = v.verify_at(&token, at(10_060)).expect("verifies");

    let refreshed = v.refresh_at(&claims, at(10_060)).expect("refreshes");
    let fresh = v
        .verify_at(&refreshed, at(10_060))
        .expect("refreshed token verifies");
    assert_eq!(fresh.identity(), "alice");
    assert_eq!(fresh.name(), "Alice");
    assert_eq!(fresh.kind(), ParticipantKind::Agent);
    assert_eq!(fresh.metadata(), claims.metadata());
    assert_eq!(fresh.attributes(), claims.attributes());
    assert_eq!(fresh.video(), claims.video());
    assert_eq!(fresh.room_config(), claims.room_config());
    assert_eq!(fresh.room_preset(), Some("preset-a"));
    // 60 s left on the original: the refresh gets the 10-minute minimum.
    assert_eq!(fresh.expires_at(), Some(10_060 + 600));
}

#[test]
fn refresh_keeps_a_longer_remaining_life() {
    let token = full_token().to_jwt_at(at(10_000)).expect("mints");
    let v = verifier();
    let claims = v.verify_at(&token, at(10_000)).expect("verifies");
    let refreshed = v.refresh_at(&claims, at(11_000)).expect("refreshes");
    let fresh = v.verify_at(&refreshed, at(11_000)).expect("verifies");
    assert_eq!(fresh.expires_at(), claims.expires_at());
}

#[test]
fn refresh_after_the_key_was_rotated_out_fails() {
    let v = verifier();
    let claims = v
        .verify_at(
            &full_token().to_jwt_at(at(10_000)).expect("mints"),
            at(10_000),
        )
        .expect("verifies");
    v.rotate(KeyRing::new());
    assert_eq!(
        v.refresh_at(&claims, at(10_000)).map_err(|e| e.kind()),
        Err(MintErrorKind::UnknownKey)
    );
    assert_eq!(
        v.verify_at(
            &full_token().to_jwt_at(at(10_000)).expect("mints"),
            at(10_000)
        )
        .map_err(|e| e.kind())
        .err(),
        Some(VerifyErrorKind::UnknownKey)
    );
}

#[test]
fn debug_redacts_the_secret() {
    let debug = format!("{:?}", full_token());
    assert!(!debug.contains(SECRET));
    assert!(debug.contains("[redacted]"));
}

#[test]
fn an_absurd_ttl_is_refused_instead_of_minting_an_unreadable_exp() {
    let forever = AccessToken::new(KEY, SECRET).with_ttl(Duration::MAX);
    assert_eq!(
        forever.to_jwt().map_err(|e| e.kind()),
        Err(MintErrorKind::TtlTooLong)
    );
}

#[test]
fn minted_tokens_are_byte_identical_to_jsonwebtokens_for_the_same_claims() {
    // The crate minted with `jsonwebtoken::encode` until it signed by hand (decision 13): the
    // same claims must still give the very same token, header order included.
    let tokens = [
        full_token(),
        AccessToken::new(KEY, SECRET).with_identity("a"),
        AccessToken::new(KEY, SECRET).with_metadata("\"quotes\" and \\ and \u{e9}"),
    ];
    for minted in tokens {
        let token = minted.to_jwt_at(at(1_700_000_000)).expect("mints");
        let claims = verifier()
            .verify_at(&token, at(1_700_000_000))
            .expect("verifies");
        let oracle = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("jsonwebtoken encodes");
        assert_eq!(token, oracle);
    }
}
