//! The participant state against the rules it implements, written here as a plain list of
//! every write (unbounded, nothing trimmed or merged), without the crate's code:
//!
//! - `UpdateParticipant` sets a name or metadata when non-empty, sets or deletes (`""`)
//!   attributes key by key, and replaces the permission as a whole;
//! - a write applies to the participant's tokens issued (`nbf`) before it (the same second
//!   counts as before), in the order the writes were made;
//! - a revocation refuses the tokens whose `nbf` is before its cutoff (the latest cutoff wins);
//!   a removal also forgets every update made before it.
//!
//! With writers' clocks that agree (each write's time at or after the previous one), the
//! state's answer for any token is exactly the list's: same refusal, name, metadata,
//! attributes and permission. With clocks that disagree (a later write carrying an earlier
//! time), it still refuses exactly what the list refuses and never grants a permission the
//! list would not.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantState, ParticipantUpdate, StateOptions,
};
use tower_livekit_auth::{AccessToken, Claims, KeyRing, TrackSource, Verifier, VideoGrant};

const KEY: &str = "APIproperty1";
const SECRET: &str = "propertySecret0123456789abcdefghijklmnopqr";
const T0: i64 = 1_700_000_000;

/// The permission fields `UpdateParticipant` replaces, as the model keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Permission {
    subscribe: bool,
    publish: bool,
    data: bool,
    hidden: bool,
    recorder: bool,
    update_metadata: bool,
    agent: bool,
    metrics: bool,
    /// Empty: every source.
    sources: Vec<TrackSource>,
}

impl Permission {
    fn allows(&self, source: TrackSource) -> bool {
        self.publish && (self.sources.is_empty() || self.sources.contains(&source))
    }

    fn flags(&self) -> [bool; 8] {
        [
            self.subscribe,
            self.publish,
            self.data,
            self.hidden,
            self.recorder,
            self.update_metadata,
            self.agent,
            self.metrics,
        ]
    }

    fn of(p: &ParticipantPermission) -> Permission {
        Permission {
            subscribe: p.can_subscribe,
            publish: p.can_publish,
            data: p.can_publish_data,
            hidden: p.hidden,
            recorder: p.recorder,
            update_metadata: p.can_update_metadata,
            agent: p.agent,
            metrics: p.can_subscribe_metrics,
            sources: p
                .can_publish_sources()
                .map(|name| name.parse().expect("a known source"))
                .collect(),
        }
    }

    fn to_crate(&self) -> ParticipantPermission {
        ParticipantPermission::new()
            .with_can_subscribe(self.subscribe)
            .with_can_publish(self.publish)
            .with_can_publish_data(self.data)
            .with_hidden(self.hidden)
            .with_recorder(self.recorder)
            .with_can_update_metadata(self.update_metadata)
            .with_agent(self.agent)
            .with_can_subscribe_metrics(self.metrics)
            .with_can_publish_sources(self.sources.iter().copied())
    }
}

#[derive(Clone, Debug)]
struct Update {
    name: String,
    metadata: String,
    attributes: BTreeMap<String, String>,
    permission: Option<Permission>,
}

#[derive(Clone, Debug)]
enum Op {
    Update(Update),
    Revoke(i64),
    Remove(i64),
}

/// What a token's claims say, as the model and the verifier both give it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    name: String,
    metadata: String,
    attributes: BTreeMap<String, String>,
    permission: Permission,
}

fn permission() -> impl Strategy<Value = Permission> {
    (
        proptest::array::uniform8(any::<bool>()),
        proptest::sample::subsequence(TrackSource::ALL.to_vec(), 0..=TrackSource::ALL.len()),
    )
        .prop_map(|(b, sources)| Permission {
            subscribe: b[0],
            publish: b[1],
            data: b[2],
            hidden: b[3],
            recorder: b[4],
            update_metadata: b[5],
            agent: b[6],
            metrics: b[7],
            sources,
        })
}

fn update() -> impl Strategy<Value = Update> {
    (
        prop_oneof!["", "[a-c]{1,2}"],
        prop_oneof!["", "[x-z]{1,2}"],
        proptest::collection::btree_map("[a-c]", prop_oneof!["", "[0-2]"], 0..3),
        proptest::option::weighted(0.5, permission()),
    )
        .prop_map(|(name, metadata, attributes, permission)| Update {
            name,
            metadata,
            attributes,
            permission,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => update().prop_map(Op::Update),
        1 => (-100..400i64).prop_map(|s| Op::Revoke(T0 + s)),
        1 => (-100..400i64).prop_map(|s| Op::Remove(T0 + s)),
    ]
}

/// A token's own claims: issued at `T0 + issued` seconds.
fn token() -> impl Strategy<Value = (i64, Seen)> {
    (
        -100..400i64,
        "[a-c]{1,2}",
        "[x-z]{0,2}",
        proptest::collection::btree_map("[a-c]", "[0-2]", 0..3),
        any::<bool>(),
    )
        .prop_map(|(issued, name, metadata, attributes, publish)| {
            let permission = Permission {
                subscribe: true,
                publish,
                data: publish,
                hidden: false,
                recorder: false,
                update_metadata: false,
                agent: false,
                metrics: false,
                sources: Vec::new(),
            };
            (
                T0 + issued,
                Seen {
                    name,
                    metadata,
                    attributes,
                    permission,
                },
            )
        })
}

/// The list semantics: the answer for a token issued at `nbf` with its own claims `own`,
/// after `writes` (each with its writer's time in ms) in the order they were made. `None`:
/// refused as revoked.
fn model(writes: &[(i64, Op)], nbf: i64, own: &Seen) -> Option<Seen> {
    let mut cutoff: Option<i64> = None;
    let mut list: Vec<(i64, &Update)> = Vec::new();
    for (at_ms, op) in writes {
        match op {
            Op::Update(update) => list.push((*at_ms, update)),
            Op::Revoke(c) => cutoff = cutoff.max(Some(*c)),
            Op::Remove(c) => {
                cutoff = cutoff.max(Some(*c));
                list.clear();
            }
        }
    }
    if cutoff.is_some_and(|c| nbf < c) {
        return None;
    }
    let mut seen = own.clone();
    for (at_ms, update) in list {
        if at_ms < nbf * 1000 {
            continue;
        }
        if !update.name.is_empty() {
            seen.name.clone_from(&update.name);
        }
        if !update.metadata.is_empty() {
            seen.metadata.clone_from(&update.metadata);
        }
        for (key, value) in &update.attributes {
            if value.is_empty() {
                seen.attributes.remove(key);
            } else {
                seen.attributes.insert(key.clone(), value.clone());
            }
        }
        if let Some(permission) = &update.permission {
            seen.permission = permission.clone();
        }
    }
    Some(seen)
}

fn seen(claims: &Claims) -> Seen {
    Seen {
        name: claims.name().to_owned(),
        metadata: claims.metadata().to_owned(),
        attributes: claims
            .attributes()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        permission: Permission::of(&ParticipantPermission::from_claims(claims)),
    }
}

/// The state's answer for each token after `writes`, made through the public API with the
/// state's clock set to each write's time.
fn state_answers(writes: &[(i64, Op)], tokens: &[(i64, Seen)]) -> Vec<Option<Seen>> {
    let clock = Arc::new(AtomicI64::new(T0 * 1000));
    let (a, b) = (clock.clone(), clock.clone());
    let at = |ms: i64| UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).expect("after 1970"));
    let state = ParticipantState::in_memory(
        StateOptions::new().with_clock(move || at(a.load(Ordering::SeqCst))),
    );
    let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
        .with_clock(move || at(b.load(Ordering::SeqCst)))
        .with_participant_state(state.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for (at_ms, op) in writes {
            clock.store(*at_ms, Ordering::SeqCst);
            match op {
                Op::Update(u) => {
                    let mut update = ParticipantUpdate::new()
                        .with_name(u.name.clone())
                        .with_metadata(u.metadata.clone())
                        .with_attributes(u.attributes.clone());
                    if let Some(p) = &u.permission {
                        update = update.with_permission(p.to_crate());
                    }
                    state.update("r", "p", update).await.expect("update");
                }
                Op::Revoke(c) => {
                    state
                        .revoke("r", "p", Some(u64::try_from(*c).expect("positive")))
                        .await
                        .expect("revoke");
                }
                Op::Remove(c) => {
                    state
                        .remove("r", "p", Some(u64::try_from(*c).expect("positive")))
                        .await
                        .expect("remove");
                }
            }
        }
    });
    // Verified after every write, while every token is valid (they last a day).
    clock.store((T0 + 1_000) * 1000, Ordering::SeqCst);
    tokens
        .iter()
        .map(|(nbf, own)| {
            let grant = VideoGrant::join("r").with_can_publish(own.permission.publish);
            let token = AccessToken::new(KEY, SECRET)
                .with_identity("p")
                .with_name(own.name.clone())
                .with_metadata(own.metadata.clone())
                .with_attributes(own.attributes.clone())
                .with_video_grant(grant)
                .with_ttl(Duration::from_secs(24 * 3600))
                .to_jwt_at(UNIX_EPOCH + Duration::from_secs(u64::try_from(*nbf).expect("positive")))
                .expect("mints");
            verifier.verify(&token).ok().map(|claims| seen(&claims))
        })
        .collect()
}

/// Times for `n` writes, each at or after the previous one (ms), spread over a few minutes
/// around `T0`, with repeats, often on a whole second (where a token's `nbf` falls).
fn in_order(n: usize) -> impl Strategy<Value = Vec<i64>> {
    let step = prop_oneof![Just(0i64), (0..50i64).prop_map(|s| s * 1000), 0..50_000i64];
    proptest::collection::vec(step, n).prop_map(|steps| {
        let mut at = (T0 - 100) * 1000;
        steps
            .into_iter()
            .map(|step| {
                at += step;
                at
            })
            .collect()
    })
}

/// Times for `n` writes in any order: writers whose clocks disagree.
fn any_order(n: usize) -> impl Strategy<Value = Vec<i64>> {
    // Often on a whole second, where a token's `nbf` falls.
    let time = prop_oneof![
        (T0 - 100..T0 + 400).prop_map(|s| s * 1000),
        (T0 - 100) * 1000..(T0 + 400) * 1000,
    ];
    proptest::collection::vec(time, n)
}

/// Writes, each with its writer's time (ms), and tokens, each with its `nbf` and own claims.
type Case = (Vec<(i64, Op)>, Vec<(i64, Seen)>);

fn writes_and_tokens(times: fn(usize) -> BoxedStrategy<Vec<i64>>) -> impl Strategy<Value = Case> {
    proptest::collection::vec(op(), 0..16).prop_flat_map(move |ops| {
        let n = ops.len();
        (
            times(n).prop_map(move |times| times.into_iter().zip(ops.clone()).collect()),
            proptest::collection::vec(token(), 1..6),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn with_agreeing_clocks_the_state_answers_every_token_as_the_whole_list_would(
        (writes, tokens) in writes_and_tokens(|n| in_order(n).boxed()),
    ) {
        let answers = state_answers(&writes, &tokens);
        for ((nbf, own), answer) in tokens.iter().zip(answers) {
            prop_assert_eq!(answer, model(&writes, *nbf, own), "token issued at {}", nbf);
        }
    }

    #[test]
    fn with_disagreeing_clocks_the_state_never_grants_more_than_the_list_would(
        (writes, tokens) in writes_and_tokens(|n| any_order(n).boxed()),
    ) {
        let answers = state_answers(&writes, &tokens);
        for ((nbf, own), answer) in tokens.iter().zip(answers) {
            let expected = model(&writes, *nbf, own);
            prop_assert_eq!(answer.is_none(), expected.is_none(), "refused alike, token at {}", nbf);
            let (Some(got), Some(expected)) = (answer, expected) else { continue };
            for (flag, (got, allowed)) in got
                .permission
                .flags()
                .into_iter()
                .zip(expected.permission.flags())
                .enumerate()
            {
                prop_assert!(!got || allowed, "flag {} granted beyond the list, token at {}", flag, nbf);
            }
            for &source in TrackSource::ALL {
                prop_assert!(
                    !got.permission.allows(source) || expected.permission.allows(source),
                    "{:?} granted beyond the list, token at {}", source, nbf
                );
            }
        }
    }
}
