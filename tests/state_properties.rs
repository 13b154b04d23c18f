//! A property of the participant state: no sequence of updates and revocations makes a
//! participant more powerful than its last permission says.
//!
//! For a token issued at `nbf` and a random sequence of writes (permission updates, other
//! updates, revocations, removals) at increasing times, the verifier's answer is predicted
//! from the rules alone (spec §7.1, §7.2), written here without the crate's code:
//! - refused as revoked when any revocation or removal has a cutoff after `nbf`;
//! - otherwise, the permission fields are those of the last permission update made after
//!   `nbf` and not cleared by a later removal, or the token's own when there is none.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantState, ParticipantUpdate, StateOptions,
};
use tower_livekit_auth::{
    AccessToken, KeyRing, TrackSource, Verifier, VerifyErrorKind, VideoGrant,
};

const KEY: &str = "APIproperty1";
const SECRET: &str = "propertySecret0123456789abcdefghijklmnopqr";
const T0: u64 = 1_700_000_000;

#[derive(Clone, Debug)]
enum Op {
    Permission(ParticipantPermission),
    Name(String),
    Revoke(u64),
    Remove(u64),
}

fn permission() -> impl Strategy<Value = ParticipantPermission> {
    (
        proptest::collection::vec(any::<bool>(), 8),
        proptest::sample::subsequence(TrackSource::ALL.to_vec(), 0..=TrackSource::ALL.len()),
    )
        .prop_map(|(b, sources)| {
            ParticipantPermission::new()
                .with_can_subscribe(b[0])
                .with_can_publish(b[1])
                .with_can_publish_data(b[2])
                .with_hidden(b[3])
                .with_recorder(b[4])
                .with_can_update_metadata(b[5])
                .with_agent(b[6])
                .with_can_subscribe_metrics(b[7])
                .with_can_publish_sources(sources)
        })
}

/// A write, and how many seconds after the previous one it is made.
fn op() -> impl Strategy<Value = (u64, Op)> {
    (
        0..30u64,
        prop_oneof![
            4 => permission().prop_map(Op::Permission),
            2 => "[a-z]{1,5}".prop_map(Op::Name),
            1 => (0..400u64).prop_map(Op::Revoke),
            1 => (0..400u64).prop_map(Op::Remove),
        ],
    )
}

/// The permission a verified token ends up with, as the crate's `ParticipantPermission`.
fn effective(claims: &tower_livekit_auth::Claims) -> ParticipantPermission {
    ParticipantPermission::from_claims(claims)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_sequence_makes_a_participant_more_powerful_than_its_last_permission(
        ops in proptest::collection::vec(op(), 0..12),
        issued in 0..300u64,
        own_publish in any::<bool>(),
    ) {
        let clock = Arc::new(AtomicU64::new(T0));
        let (a, b) = (clock.clone(), clock.clone());
        let state = ParticipantState::in_memory(
            StateOptions::new().with_clock(move || UNIX_EPOCH + Duration::from_secs(a.load(Ordering::SeqCst))),
        );
        let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
            .with_clock(move || UNIX_EPOCH + Duration::from_secs(b.load(Ordering::SeqCst)))
            .with_participant_state(state.clone());
        let nbf = T0 + issued;
        let token = AccessToken::new(KEY, SECRET)
            .with_identity("p")
            .with_video_grant(VideoGrant::join("r").with_can_publish(own_publish))
            .with_ttl(Duration::from_secs(24 * 3600))
            .to_jwt_at(UNIX_EPOCH + Duration::from_secs(nbf))
            .expect("mints");
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");

        // The model: writes at whole seconds, applied to tokens whose nbf second is earlier
        // (an update in the token's own second applies too, the conservative side).
        let mut now = T0;
        let mut last_permission: Option<ParticipantPermission> = None;
        let mut revoked = false;
        for (delay, op) in &ops {
            now += delay;
            clock.store(now, Ordering::SeqCst);
            match op {
                Op::Permission(p) => {
                    runtime.block_on(state.update("r", "p", ParticipantUpdate::new().with_permission(p.clone()))).expect("update");
                    if now >= nbf {
                        last_permission = Some(p.clone());
                    }
                }
                Op::Name(n) => {
                    runtime.block_on(state.update("r", "p", ParticipantUpdate::new().with_name(n.clone()))).expect("update");
                }
                Op::Revoke(after) => {
                    let cutoff = T0 + after;
                    runtime.block_on(state.revoke("r", "p", Some(cutoff))).expect("revoke");
                    revoked |= nbf < cutoff;
                }
                Op::Remove(after) => {
                    let cutoff = T0 + after;
                    runtime.block_on(state.remove("r", "p", Some(cutoff))).expect("remove");
                    revoked |= nbf < cutoff;
                    last_permission = None;
                }
            }
        }
        clock.store(now.max(nbf), Ordering::SeqCst);
        match verifier.verify(&token) {
            Err(err) => {
                prop_assert_eq!(err.kind(), VerifyErrorKind::Revoked);
                prop_assert!(revoked, "refused without a revocation after nbf");
            }
            Ok(claims) => {
                prop_assert!(!revoked, "a revoked token was accepted");
                let own = ParticipantPermission::new()
                    .with_can_subscribe(true)
                    .with_can_publish(own_publish)
                    .with_can_publish_data(own_publish);
                let expected = last_permission.unwrap_or(own);
                prop_assert_eq!(effective(&claims), expected.clone());
                for &source in TrackSource::ALL {
                    let allowed = expected.can_publish
                        && (expected.can_publish_sources.is_empty() || expected.can_publish_sources.contains(&source));
                    prop_assert_eq!(claims.can_publish_source(source), allowed, "{:?}", source);
                }
                prop_assert!(claims.can_join() && claims.room() == "r", "join and room never change");
            }
        }
    }
}
