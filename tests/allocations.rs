//! Verification allocates nothing beyond the claims it returns: the same number of allocations
//! as parsing the payload into `Claims` alone (which makes the same `Arc`), and for a
//! `metadata` with escapes not even serde_json's scratch buffer.
//! Counted with a global allocator, on one thread.

// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
// The crate denies unsafe code (Cargo.toml's `[lints]`); this test file is the one exception.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tower_livekit_auth::{AccessToken, Claims, KeyRing, TrackSource, Verifier, VideoGrant};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = f();
    (ALLOCATIONS.with(Cell::get) - before, value)
}

/// A join token as the SDKs write one, with `metadata` as given.
fn join_token(secret: &str, now: std::time::SystemTime, metadata: &str) -> String {
    AccessToken::new("APIalloc", secret)
        .with_identity("participant-0001")
        .with_name("Participant 1")
        .with_metadata(metadata)
        .with_attributes([("team", "blue"), ("locale", "en-US")])
        .with_video_grant(
            VideoGrant::join("room-1")
                .with_can_publish_sources([TrackSource::Camera, TrackSource::Microphone]),
        )
        .to_jwt_at(now)
        .expect("mints")
}

#[test]
fn verify_allocates_only_the_claims() {
    let secret = "allocationSecret0123456789abcdefghijklmnop";
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let verifier = Verifier::new(KeyRing::new().with_key("APIalloc", secret).expect("key"));
    let payload_of = |token: &str| {
        URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).expect("payload"))
            .expect("base64")
    };
    // The same claims but for the metadata's escapes: JSON text (escaped quotes, as the SDKs
    // write it) and plain text of the same length (both short enough to stay inline).
    let json = join_token(secret, now, r#"{"seat":1}"#);
    let plain = join_token(secret, now, "seat-one-1");
    verifier.verify_at(&json, now).expect("warm-up");

    // Without escapes, `serde_json::from_slice::<Claims>` makes exactly the claims' own
    // allocations and the same Arc: verification must make the same number.
    let plain_payload = payload_of(&plain);
    let (parse_only, parsed) =
        allocations(|| serde_json::from_slice::<Claims>(&plain_payload).expect("parses"));
    let (verify, verified) = allocations(|| verifier.verify_at(&plain, now).expect("verifies"));
    assert_eq!(parsed, verified);
    assert_eq!(
        verify, parse_only,
        "verify made {verify} allocations, parsing alone {parse_only}"
    );
    // With escapes, serde_json alone also allocates its scratch buffer (and grows it);
    // verification unescapes into the claim itself, so it costs what the plain token costs.
    let json_payload = payload_of(&json);
    let (json_parse, _) =
        allocations(|| serde_json::from_slice::<Claims>(&json_payload).expect("parses"));
    let (json_verify, claims) = allocations(|| verifier.verify_at(&json, now).expect("verifies"));
    assert_eq!(claims.metadata(), r#"{"seat":1}"#);
    assert_eq!(
        json_verify, verify,
        "an escaped metadata cost {json_verify} allocations, a plain one {verify}"
    );
    assert!(
        json_parse > json_verify,
        "serde_json's scratch buffer: {json_parse} against {json_verify}"
    );

    // A rejection allocates nothing at all when it fails before the claims (bad signature is
    // found after parsing, so it allocates and frees the claims; malformed input does not).
    let (malformed, _) = allocations(|| verifier.verify_at("a.b.c", now).is_err());
    assert_eq!(malformed, 0);
}

#[test]
fn a_participant_without_an_entry_costs_no_allocation_in_a_full_store() {
    use tower_livekit_auth::state::{ParticipantState, ParticipantUpdate, StateOptions};

    let secret = "allocationSecret0123456789abcdefghijklmnop";
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let token = AccessToken::new("APIalloc", secret)
        .with_identity("participant-0001")
        .with_metadata(r#"{"seat":1}"#)
        .with_video_grant(VideoGrant::join("room-1"))
        .to_jwt_at(now)
        .expect("mints");
    let keys = KeyRing::new().with_key("APIalloc", secret).expect("key");
    let state = ParticipantState::in_memory(StateOptions::new().with_clock(move || now));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // 100,000 others, 5,000 in each of 20 rooms (the participant's own among them).
    for i in 0..100_000 {
        let update = ParticipantUpdate::new().with_name("someone else");
        let room = format!("room-{}", i % 20);
        runtime
            .block_on(state.update(&room, &format!("other-{i}"), update))
            .expect("room");
    }
    let plain = Verifier::new(keys.clone());
    let with_state = Verifier::new(keys).with_participant_state(state);
    plain.verify_at(&token, now).expect("warm-up");
    with_state.verify_at(&token, now).expect("warm-up");
    let (without, a) = allocations(|| plain.verify_at(&token, now).expect("verifies"));
    let (with, b) = allocations(|| with_state.verify_at(&token, now).expect("verifies"));
    assert_eq!(a, b);
    assert_eq!(
        with, without,
        "with 100,000 other participants in the store: {with} allocations, without a store {without}"
    );
}
