//! The participant state with an injected clock: revocation edges, the bounded store, the
//! verifier's view, and updates racing verifications.

use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::limits::{Limit, Limits};
use crate::{AccessToken, KeyRing, TrackSource, Verifier, VerifyErrorKind, VideoGrant};

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";
const T0: u64 = 1_700_000_000;

/// A clock the test moves, shared by the state and the verifier.
struct Setup {
    clock: Arc<AtomicU64>,
    state: ParticipantState,
    verifier: Verifier,
}

fn setup(options: StateOptions) -> Setup {
    let clock = Arc::new(AtomicU64::new(T0));
    let (for_state, for_verifier) = (clock.clone(), clock.clone());
    let state =
        ParticipantState::in_memory(options.with_clock(move || {
            UNIX_EPOCH + Duration::from_secs(for_state.load(Ordering::SeqCst))
        }));
    let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
        .with_clock(move || UNIX_EPOCH + Duration::from_secs(for_verifier.load(Ordering::SeqCst)))
        .with_participant_state(state.clone());
    Setup {
        clock,
        state,
        verifier,
    }
}

impl Setup {
    fn at(&self, seconds: u64) {
        self.clock.store(seconds, Ordering::SeqCst);
    }

    /// A join token for `identity` in room `r`, issued (nbf) at `issued`.
    fn token(&self, identity: &str, issued: u64) -> String {
        AccessToken::new(KEY, SECRET)
            .with_identity(identity)
            .with_name("own name")
            .with_video_grant(VideoGrant::join("r").with_can_publish(false))
            .to_jwt_at(UNIX_EPOCH + Duration::from_secs(issued))
            .expect("mints")
    }

    fn verify(&self, token: &str) -> Result<Claims, VerifyErrorKind> {
        self.verifier.verify(token).map_err(|e| e.kind())
    }
}

fn camera() -> ParticipantPermission {
    ParticipantPermission::new()
        .with_can_subscribe(true)
        .with_can_publish(true)
        .with_can_publish_sources([TrackSource::Camera])
}

#[tokio::test]
async fn a_default_revocation_refuses_tokens_issued_up_to_now_plus_the_leeway() {
    let s = setup(StateOptions::new());
    let old = s.token("bob", T0 - 100);
    s.at(T0);
    let cutoff = s.state.revoke("r", "bob", None).await.expect("revoked");
    assert_eq!(cutoff, T0 + 60, "now + the 60 s leeway");
    assert_eq!(s.verify(&old).err(), Some(VerifyErrorKind::Revoked));
    // A token a minting host with a clock 59 s ahead made now: refused too.
    assert_eq!(
        s.verify(&s.token("bob", T0 + 59)).err(),
        Some(VerifyErrorKind::Revoked)
    );
    // Minted at the cutoff or after: accepted.
    s.at(T0 + 60);
    assert!(s.verify(&s.token("bob", T0 + 60)).is_ok());
    // Another participant, the same identity in another room: untouched.
    assert!(s.verify(&s.token("alice", T0 - 100)).is_ok());
    let other_room = AccessToken::new(KEY, SECRET)
        .with_identity("bob")
        .with_video_grant(VideoGrant::join("other"))
        .to_jwt_at(UNIX_EPOCH + Duration::from_secs(T0 - 100))
        .expect("mints");
    assert!(s.verify(&other_room).is_ok());
}

#[tokio::test]
async fn an_explicit_cutoff_is_honoured_to_the_second() {
    let s = setup(StateOptions::new());
    s.state
        .revoke("r", "bob", Some(T0 - 10))
        .await
        .expect("revoked");
    assert_eq!(
        s.verify(&s.token("bob", T0 - 11)).err(),
        Some(VerifyErrorKind::Revoked)
    );
    assert!(s.verify(&s.token("bob", T0 - 10)).is_ok());
    // A later revocation moves the cutoff on; an earlier one does not bring it back.
    s.state.revoke("r", "bob", Some(T0)).await.expect("revoked");
    s.state
        .revoke("r", "bob", Some(T0 - 1000))
        .await
        .expect("revoked");
    assert_eq!(
        s.verify(&s.token("bob", T0 - 10)).err(),
        Some(VerifyErrorKind::Revoked)
    );
    assert_eq!(
        s.state.get("r", "bob").and_then(|r| r.revoked_before()),
        Some(T0)
    );
}

#[tokio::test]
async fn a_token_without_nbf_counts_as_issued_at_zero() {
    let s = setup(StateOptions::new());
    let payload = format!(
        r#"{{"iss":"{KEY}","sub":"bob","exp":{},"video":{{"roomJoin":true,"room":"r"}}}}"#,
        T0 + 3600
    );
    let no_nbf = crate::mint::tests_support::sign(&payload, SECRET);
    assert!(s.verify(&no_nbf).is_ok());
    s.state.revoke("r", "bob", Some(1)).await.expect("revoked");
    assert_eq!(s.verify(&no_nbf).err(), Some(VerifyErrorKind::Revoked));
}

#[tokio::test]
async fn an_update_changes_the_participants_earlier_tokens_only() {
    let s = setup(StateOptions::new());
    let before = s.token("alice", T0 - 5);
    s.at(T0);
    s.state
        .update(
            "r",
            "alice",
            ParticipantUpdate::new()
                .with_permission(camera())
                .with_name("Alice")
                .with_metadata("m"),
        )
        .await
        .expect("updated");
    let claims = s.verify(&before).expect("verifies");
    assert!(claims.was_updated());
    assert!(
        claims.can_publish_source(TrackSource::Camera)
            && !claims.can_publish_source(TrackSource::Microphone)
    );
    assert_eq!((claims.name(), claims.metadata()), ("Alice", "m"));
    // Issued after the update: speaks for itself.
    let after = s.token("alice", T0 + 1);
    s.at(T0 + 1);
    let claims = s.verify(&after).expect("verifies");
    assert!(!claims.was_updated() && !claims.can_publish());
    assert_eq!(claims.name(), "own name");
}

#[tokio::test]
async fn removing_clears_the_updates_and_revokes() {
    let s = setup(StateOptions::new());
    s.state
        .update("r", "alice", ParticipantUpdate::new().with_name("x"))
        .await
        .expect("updated");
    s.state
        .remove("r", "alice", Some(T0 + 10))
        .await
        .expect("removed");
    let record = s.state.get("r", "alice").expect("kept as a revocation");
    assert!(record.changes().is_empty() && record.updated_at().is_none());
    assert_eq!(record.revoked_before(), Some(T0 + 10));
    s.at(T0 + 10);
    let fresh = s
        .verify(&s.token("alice", T0 + 10))
        .expect("a token after the cutoff");
    assert_eq!(fresh.name(), "own name", "the update was cleared");
}

#[tokio::test]
async fn a_full_store_refuses_new_participants_with_a_clear_error_and_keeps_revocations() {
    let s = setup(
        StateOptions::new()
            .with_max_entries(2)
            .with_retention(Duration::from_secs(3600)),
    );
    let bob = s.token("bob", T0 - 10);
    s.state.revoke("r", "bob", None).await.expect("revoked");
    s.state
        .update("r", "alice", ParticipantUpdate::new().with_name("A"))
        .await
        .expect("updated");
    let err = s
        .state
        .update("r", "carol", ParticipantUpdate::new().with_name("C"))
        .await
        .expect_err("full");
    assert_eq!(err.kind(), StateErrorKind::Full);
    assert!(err.to_string().contains("with_max_entries"), "{err}");
    assert_eq!(
        s.state
            .revoke("r", "dave", None)
            .await
            .map_err(|e| e.kind()),
        Err(StateErrorKind::Full),
        "refused, not evicting bob's revocation"
    );
    // Nothing was evicted: bob stays refused, and writes to existing entries go on.
    assert_eq!(s.verify(&bob).err(), Some(VerifyErrorKind::Revoked));
    s.state
        .update("r", "alice", ParticipantUpdate::new().with_name("A2"))
        .await
        .expect("existing");
    // Entries expire only after their retention (counted from bob's cutoff, now + 60 s, the
    // later of his write and his cutoff), then make room.
    s.at(T0 + 3599);
    assert_eq!(s.verify(&bob).err(), Some(VerifyErrorKind::Revoked));
    s.at(T0 + 3600);
    s.state
        .update("r", "carol", ParticipantUpdate::new().with_name("C"))
        .await
        .expect("room after alice's entry expired");
    assert!(s.state.get("r", "alice").is_none());
    assert_eq!(s.verify(&bob).err(), Some(VerifyErrorKind::Revoked));
    s.at(T0 + 3660);
    assert!(s.state.get("r", "bob").is_none());
}

#[tokio::test]
async fn writes_need_a_room_and_an_identity() {
    let s = setup(StateOptions::new());
    for (room, identity) in [("", "a"), ("r", ""), ("", "")] {
        let update = s
            .state
            .update(room, identity, ParticipantUpdate::new().with_name("n"))
            .await;
        assert_eq!(
            update.map_err(|e| e.kind()),
            Err(StateErrorKind::InvalidParticipant)
        );
        let revoke = s.state.revoke(room, identity, None).await;
        assert_eq!(
            revoke.map_err(|e| e.kind()),
            Err(StateErrorKind::InvalidParticipant)
        );
    }
    assert!(s.state.is_empty());
}

#[tokio::test]
async fn a_participant_without_an_entry_gets_the_very_claims_the_token_has() {
    let s = setup(StateOptions::new());
    for i in 0..1000 {
        s.state
            .revoke("r", &format!("p{i}"), None)
            .await
            .expect("revoked");
    }
    let token = s.token("alice", T0);
    let verified = s.verifier.verify(&token).expect("verifies");
    let plain = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
        .verify_at(&token, UNIX_EPOCH + Duration::from_secs(T0))
        .expect("verifies");
    assert_eq!(verified, plain);
    assert!(!verified.was_updated());
}

#[tokio::test]
async fn the_cache_and_the_state_agree() {
    let clock = Arc::new(AtomicU64::new(T0));
    let shared = clock.clone();
    let state = ParticipantState::in_memory(StateOptions::new());
    let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
        .with_clock(move || UNIX_EPOCH + Duration::from_secs(shared.load(Ordering::SeqCst)))
        .with_cache(100, 1 << 20)
        .with_participant_state(state.clone());
    let token = AccessToken::new(KEY, SECRET)
        .with_identity("alice")
        .with_video_grant(VideoGrant::join("r"))
        .to_jwt_at(UNIX_EPOCH + Duration::from_secs(T0 - 10))
        .expect("mints");
    assert!(verifier.verify(&token).is_ok());
    assert_eq!(verifier.cached_tokens(), 1);
    state.remove("r", "alice", None).await.expect("removed");
    assert_eq!(
        verifier.verify(&token).map_err(|e| e.kind()).err(),
        Some(VerifyErrorKind::Revoked),
        "a cache hit is refused too"
    );
}

#[tokio::test]
async fn a_refresh_after_an_update_carries_the_current_state() {
    let s = setup(StateOptions::new());
    let token = s.token("alice", T0 - 60);
    s.state
        .update(
            "r",
            "alice",
            ParticipantUpdate::new()
                .with_permission(camera())
                .with_attribute("role", "speaker"),
        )
        .await
        .expect("updated");
    let claims = s.verify(&token).expect("verifies");
    s.at(T0 + 1);
    let refreshed = s.verifier.refresh(&claims).expect("refreshes");
    let fresh = s.verify(&refreshed).expect("the refresh verifies");
    assert!(
        !fresh.was_updated(),
        "issued after the update: carries it, nothing to apply"
    );
    assert!(fresh.can_publish_source(TrackSource::Camera));
    assert_eq!(fresh.attributes().get("role"), Some("speaker"));
}

#[test]
fn updates_racing_verifications_are_never_seen_half_applied() {
    // Two complete states, written over and over; every verification must see one of them
    // whole: the name, the metadata, the attribute and the permission always agree.
    let s = setup(StateOptions::new());
    let token = s.token("alice", T0 - 60);
    let state_of = |n: &str, publish: bool| {
        let permission = ParticipantPermission::new()
            .with_can_subscribe(true)
            .with_can_publish(publish);
        ParticipantUpdate::new()
            .with_name(n)
            .with_metadata(n)
            .with_attribute("state", n)
            .with_permission(permission)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime
        .block_on(s.state.update("r", "alice", state_of("A", true)))
        .expect("first");
    let writes = 2_000;
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for i in 0..writes {
                let (n, publish) = if i % 2 == 0 {
                    ("B", false)
                } else {
                    ("A", true)
                };
                runtime
                    .block_on(s.state.update("r", "alice", state_of(n, publish)))
                    .expect("update");
            }
            done.store(true, Ordering::SeqCst);
        });
        let readers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut seen = [0u32; 2];
                    while !done.load(Ordering::SeqCst) || seen.iter().sum::<u32>() < 100 {
                        let claims = s.verify(&token).expect("verifies");
                        let n = claims.name();
                        assert_eq!(claims.metadata(), n);
                        assert_eq!(claims.attributes().get("state"), Some(n));
                        assert_eq!(claims.can_publish(), n == "A");
                        seen[usize::from(n == "B")] += 1;
                    }
                    seen
                })
            })
            .collect();
        writer.join().expect("writer");
        for reader in readers {
            let seen = reader.join().expect("reader");
            assert!(seen.iter().sum::<u32>() >= 100);
        }
    });
}

fn viewer() -> ParticipantPermission {
    ParticipantPermission::new().with_can_subscribe(true)
}

#[tokio::test]
async fn a_promotion_never_reaches_a_token_minted_after_it_however_many_updates_follow() {
    // The store once merged its oldest updates past 64, at the later one's time: a viewer
    // token minted between a promotion and the next 64 name updates then got the camera.
    let s = setup(StateOptions::new());
    let speaker = s.token("alice", T0 - 10);
    s.at(T0);
    s.state
        .update(
            "r",
            "alice",
            ParticipantUpdate::new().with_permission(camera()),
        )
        .await
        .expect("promoted");
    let minted_after = s.token("alice", T0 + 2);
    for i in 0..200 {
        s.at(T0 + 10 + i);
        s.state
            .update(
                "r",
                "alice",
                ParticipantUpdate::new().with_name(format!("n{i}")),
            )
            .await
            .expect("renamed");
    }
    let claims = s.verify(&minted_after).expect("verifies");
    assert!(
        !claims.can_publish_source(TrackSource::Camera),
        "never promoted by a merge"
    );
    assert_eq!(claims.name(), "n199");
    assert!(s
        .verify(&speaker)
        .expect("verifies")
        .can_publish_source(TrackSource::Camera));
}

#[tokio::test]
async fn a_demotion_is_never_forgotten_however_many_updates_follow() {
    let s = setup(StateOptions::new());
    let token = s.token("alice", T0 - 10);
    s.state
        .update(
            "r",
            "alice",
            ParticipantUpdate::new().with_permission(camera()),
        )
        .await
        .expect("promoted");
    s.at(T0 + 1);
    s.state
        .update(
            "r",
            "alice",
            ParticipantUpdate::new()
                .with_permission(viewer())
                .with_attribute("gone", ""),
        )
        .await
        .expect("demoted");
    for i in 0..2_000 {
        s.at(T0 + 2 + i);
        let speaking = if i % 2 == 0 { "yes" } else { "no" };
        s.state
            .update(
                "r",
                "alice",
                ParticipantUpdate::new().with_attribute("speaking", speaking),
            )
            .await
            .expect("attribute");
    }
    let claims = s.verify(&token).expect("verifies");
    assert!(!claims.can_publish(), "the demotion holds");
    assert_eq!(claims.attributes().get("gone"), None);
}

#[tokio::test]
async fn one_room_cannot_fill_the_store_for_every_other_room() {
    let s = setup(
        StateOptions::new()
            .with_max_entries(1_000)
            .with_max_entries_per_room(50),
    );
    for i in 0..50 {
        s.state
            .remove("attacker-room", &format!("made-up-{i}"), None)
            .await
            .expect("within the room's bound");
    }
    let err = s
        .state
        .remove("attacker-room", "one-more", None)
        .await
        .expect_err("the room is full");
    assert_eq!(err.kind(), StateErrorKind::RoomFull);
    assert!(
        err.to_string().contains("with_max_entries_per_room"),
        "{err}"
    );
    // Every other room still takes updates and removals of new participants.
    s.state
        .update(
            "other-room",
            "alice",
            ParticipantUpdate::new().with_permission(camera()),
        )
        .await
        .expect("another room is not affected");
    s.state
        .remove("other-room", "bob", None)
        .await
        .expect("nor its removals");
    assert_eq!(s.state.room_len("attacker-room"), 50);
    assert_eq!(s.state.room_len("other-room"), 2);
}

#[tokio::test]
async fn updates_and_participants_past_livekits_size_limits_are_refused_whole() {
    let s = setup(StateOptions::new());
    let cases: [(ParticipantUpdate, Limit); 3] = [
        (
            ParticipantUpdate::new().with_name("x".repeat(257)),
            Limit::ParticipantNameLength,
        ),
        (
            ParticipantUpdate::new()
                .with_name("fine")
                .with_metadata("m".repeat(512 * 1024 + 1)),
            Limit::MetadataSize,
        ),
        (
            ParticipantUpdate::new().with_attribute("k", "v".repeat(64 * 1024)),
            Limit::AttributesSize,
        ),
    ];
    for (update, limit) in cases {
        let err = s
            .state
            .update("r", "alice", update)
            .await
            .expect_err("too large");
        assert_eq!(err.kind(), StateErrorKind::TooLarge);
        assert!(err.to_string().contains(limit.config_key()), "{err}");
        let source = err
            .source()
            .and_then(|e| e.downcast_ref::<crate::limits::LimitExceeded>());
        assert_eq!(source.map(|e| e.limit()), Some(limit));
    }
    assert!(s.state.get("r", "alice").is_none(), "nothing was written");
    // At the limits: accepted.
    s.state
        .update(
            "r",
            "alice",
            ParticipantUpdate::new()
                .with_name("x".repeat(256))
                .with_metadata("m".repeat(512 * 1024)),
        )
        .await
        .expect("at the limits");
    // Identities and room names too, on every kind of write.
    let long = "i".repeat(257);
    for result in [
        s.state.revoke("r", &long, None).await.map(|_| ()),
        s.state.remove(&long, "a", None).await.map(|_| ()),
        s.state
            .update("r", &long, ParticipantUpdate::new().with_name("n"))
            .await,
    ] {
        assert_eq!(result.map_err(|e| e.kind()), Err(StateErrorKind::TooLarge));
    }
    // Many updates of different keys cannot grow a participant past the attributes limit.
    let tight = setup(StateOptions::new().with_limits(Limits::new().with_max_attributes_size(100)));
    let mut refused = None;
    for i in 0..100 {
        let key = format!("key-{i:03}");
        if let Err(err) = tight
            .state
            .update(
                "r",
                "alice",
                ParticipantUpdate::new().with_attribute(key, "value"),
            )
            .await
        {
            refused = Some((i, err.kind()));
            break;
        }
    }
    assert_eq!(
        refused,
        Some((8, StateErrorKind::TooLarge)),
        "8 x 12 bytes fit in 100"
    );
}

#[tokio::test]
async fn a_cutoff_in_the_future_holds_until_it_has_passed() {
    let s = setup(StateOptions::new());
    let week = 7 * 24 * 3600;
    s.state
        .remove("r", "bob", Some(T0 + week))
        .await
        .expect("removed");
    // Two days later (past the 24 h retention counted from the write), a token minted then is
    // still before the cutoff: refused.
    let later = T0 + 2 * 24 * 3600;
    s.at(later);
    assert_eq!(
        s.verify(&s.token("bob", later)).err(),
        Some(VerifyErrorKind::Revoked)
    );
    assert!(s.state.get("r", "bob").is_some());
    // After the cutoff, a new token works; the entry goes a retention after the cutoff.
    s.at(T0 + week);
    assert!(s.verify(&s.token("bob", T0 + week)).is_ok());
    s.at(T0 + week + 24 * 3600);
    assert!(s.state.get("r", "bob").is_none());
}

#[tokio::test]
async fn no_setting_or_clock_makes_a_write_panic() {
    let huge = setup(
        StateOptions::new()
            .with_leeway(Duration::MAX)
            .with_retention(Duration::MAX),
    );
    let cutoff = huge.state.remove("r", "bob", None).await.expect("removed");
    assert_eq!(cutoff, T0 + 600, "the leeway is capped at 10 minutes");
    for far in [u64::MAX / 2, (i64::MAX / 1000) as u64, u64::MAX] {
        let state = ParticipantState::in_memory(StateOptions::new().with_clock(move || {
            UNIX_EPOCH
                .checked_add(Duration::from_secs(far))
                .unwrap_or(UNIX_EPOCH)
        }));
        state.remove("r", "bob", None).await.expect("removed");
        state
            .revoke("r", "bob", Some(u64::MAX))
            .await
            .expect("revoked");
        state
            .update("r", "bob", ParticipantUpdate::new().with_name("n"))
            .await
            .expect("updated");
        let _ = state.get("r", "bob");
    }
    let before_epoch = ParticipantState::in_memory(
        StateOptions::new().with_clock(|| UNIX_EPOCH - Duration::from_secs(10)),
    );
    before_epoch
        .remove("r", "bob", None)
        .await
        .expect("removed");
}

#[tokio::test]
async fn expired_entries_leave_the_count_and_make_room() {
    let s = setup(
        StateOptions::new()
            .with_max_entries(10)
            .with_retention(Duration::from_secs(60)),
    );
    for i in 0..10 {
        s.state
            .remove("r", &format!("p{i}"), Some(T0))
            .await
            .expect("room");
    }
    assert_eq!(s.state.len(), 10);
    s.at(T0 + 61);
    s.state
        .remove("r", "new", None)
        .await
        .expect("the expired ones made room");
    assert_eq!((s.state.len(), s.state.room_len("r")), (1, 1));
}
