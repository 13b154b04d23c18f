//! One participant's entry: the writes made to it, and what they do to a token.

use std::sync::Arc;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::{ParticipantRecord, ParticipantUpdate};
use crate::claims::{Claims, ClaimsData};

/// The most updates an entry keeps apart. Past it the two oldest are merged, at the later's
/// time: a token minted between them then also gets the older update's changes (the later
/// update's permission, if it has one, wins over both as always).
const MAX_UPDATES: usize = 64;

/// A write to a participant, as the backends record and replay it. Times are the writer's
/// clock: milliseconds for when a write happened, seconds for a revocation cutoff (as
/// LiveKit's `revoke_token_ts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Write {
    /// `UpdateParticipant`: applies to the participant's tokens issued before `at_ms`.
    Update {
        at_ms: i64,
        update: ParticipantUpdate,
    },
    /// Refuses the participant's tokens whose `nbf` is before `cutoff` (Unix seconds).
    Revoke { at_ms: i64, cutoff: i64 },
    /// `RemoveParticipant`: a revocation that also clears the participant's updates.
    Remove { at_ms: i64, cutoff: i64 },
}

impl Write {
    pub(crate) fn at_ms(&self) -> i64 {
        match self {
            Write::Update { at_ms, .. }
            | Write::Revoke { at_ms, .. }
            | Write::Remove { at_ms, .. } => *at_ms,
        }
    }
}

/// What an entry does to a token.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Nothing applies: the token speaks for itself.
    Unchanged,
    /// Updates made after the token was issued apply. (Boxed: `ClaimsData` is large, and
    /// this is the rare outcome.)
    Updated(Box<ClaimsData>),
    /// The token was issued before the participant's revocation cutoff.
    Revoked,
}

/// A participant's state: its updates in time order and its revocation cutoff. Immutable once
/// published in a snapshot: a write makes a new entry.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) room: CompactString,
    pub(crate) identity: CompactString,
    /// `(at_ms, update)`, oldest first.
    updates: Vec<(i64, ParticipantUpdate)>,
    /// Unix seconds; tokens with an earlier `nbf` are refused.
    revoked_before: Option<i64>,
    /// When the last write was made (ms): the entry is dropped `retention` after it.
    last_write_ms: i64,
    /// The shared backend's count of writes to this participant (0 in memory): a replica
    /// installs an entry it fetched only if it is newer than the one it has.
    pub(crate) version: u64,
    /// The snapshot's install count when this entry was installed from the shared backend.
    pub(crate) installed: u64,
}

impl Entry {
    pub(crate) fn new(room: &str, identity: &str) -> Self {
        Entry {
            room: room.into(),
            identity: identity.into(),
            updates: Vec::new(),
            revoked_before: None,
            last_write_ms: i64::MIN,
            version: 0,
            installed: 0,
        }
    }

    /// The entry the shared backend holds for a participant: its updates (those since its
    /// last removal, which deleted the earlier ones) in the order they were written, then its
    /// revocations, which only move the cutoff. (Replaying a removal's "clear the updates" by
    /// time would wrongly clear an update a host with a slower clock wrote after it.)
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn rebuilt(
        room: &str,
        identity: &str,
        version: u64,
        updates: &[Write],
        revocations: &[Write],
    ) -> Self {
        let mut entry = Entry::replayed(room, identity, updates);
        for write in revocations {
            entry.last_write_ms = entry.last_write_ms.max(write.at_ms());
            if let Write::Revoke { cutoff, .. } | Write::Remove { cutoff, .. } = write {
                entry.revoke(*cutoff);
            }
        }
        entry.version = version;
        entry
    }

    /// The entry that `writes` make, in order.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn replayed<'a>(
        room: &str,
        identity: &str,
        writes: impl IntoIterator<Item = &'a Write>,
    ) -> Self {
        let mut entry = Entry::new(room, identity);
        for write in writes {
            entry.record(write);
        }
        entry
    }

    /// Records `write`, with the server's rules.
    pub(crate) fn record(&mut self, write: &Write) {
        self.last_write_ms = self.last_write_ms.max(write.at_ms());
        match write {
            Write::Update { at_ms, update } => {
                // Writes arrive in order from one store; replicas may deliver them late, so
                // keep the list sorted by time rather than by arrival.
                let at = self.updates.partition_point(|(t, _)| *t <= *at_ms);
                self.updates.insert(at, (*at_ms, update.clone()));
                if self.updates.len() > MAX_UPDATES {
                    let (_, oldest) = self.updates.remove(0);
                    let mut merged = oldest;
                    merged.then(&self.updates[0].1);
                    self.updates[0].1 = merged;
                }
            }
            Write::Revoke { cutoff, .. } => self.revoke(*cutoff),
            Write::Remove { cutoff, .. } => {
                self.updates.clear();
                self.revoke(*cutoff);
            }
        }
    }

    /// A later cutoff wins; an earlier one never shortens a revocation.
    fn revoke(&mut self, cutoff: i64) {
        self.revoked_before = Some(self.revoked_before.map_or(cutoff, |c| c.max(cutoff)));
    }

    /// Whether the entry outlived its retention at `now_ms`.
    pub(crate) fn expired(&self, now_ms: i64, retention_ms: i64) -> bool {
        now_ms >= self.last_write_ms.saturating_add(retention_ms)
    }

    /// What this entry does to a token with these claims: refused if issued before the cutoff
    /// (no `nbf` counts as issued at 0), otherwise every update made after it was issued, in
    /// order.
    pub(crate) fn apply(&self, claims: &Claims) -> Outcome {
        let issued = claims.not_before().unwrap_or(0);
        if self.revoked_before.is_some_and(|cutoff| issued < cutoff) {
            return Outcome::Revoked;
        }
        // `nbf` is whole seconds: an update anywhere in the second of the token's `nbf`
        // applies, the conservative side (the update is the administrator's later word).
        let issued_ms = issued.saturating_mul(1000);
        let first = self.updates.partition_point(|(at, _)| *at < issued_ms);
        let later = &self.updates[first..];
        if later.is_empty() {
            return Outcome::Unchanged;
        }
        let mut data = Box::new(claims.data().clone());
        for (_, update) in later {
            update.apply(&mut data);
        }
        Outcome::Updated(data)
    }

    /// The entry as a reader sees it.
    pub(crate) fn record_view(self: &Arc<Self>) -> ParticipantRecord {
        let mut merged = ParticipantUpdate::new();
        for (_, update) in &self.updates {
            merged.then(update);
        }
        ParticipantRecord {
            update: merged,
            updated_at_ms: self.updates.last().map(|(at, _)| *at),
            revoked_before: self.revoked_before,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ParticipantPermission;
    use crate::TrackSource;

    fn token(nbf: Option<i64>) -> Claims {
        let nbf = nbf.map(|n| format!(r#","nbf":{n}"#)).unwrap_or_default();
        serde_json::from_str(&format!(
            r#"{{"sub":"a","name":"own"{nbf},"video":{{"roomJoin":true,"room":"r","canPublish":false}}}}"#
        ))
        .expect("claims")
    }

    fn update(at_ms: i64, update: ParticipantUpdate) -> Write {
        Write::Update { at_ms, update }
    }

    fn named(claims: &Outcome) -> Option<String> {
        match claims {
            Outcome::Updated(data) => data.name.as_deref().map(str::to_owned),
            _ => None,
        }
    }

    #[test]
    fn an_update_applies_to_tokens_issued_before_it_and_not_after() {
        let entry = Entry::replayed(
            "r",
            "a",
            &[update(1_000_500, ParticipantUpdate::new().with_name("new"))],
        );
        assert_eq!(
            named(&entry.apply(&token(Some(999)))).as_deref(),
            Some("new")
        );
        // The same second as the update: applied (nbf is whole seconds).
        assert_eq!(
            named(&entry.apply(&token(Some(1000)))).as_deref(),
            Some("new")
        );
        assert!(matches!(
            entry.apply(&token(Some(1001))),
            Outcome::Unchanged
        ));
        // No nbf: issued at 0.
        assert_eq!(named(&entry.apply(&token(None))).as_deref(), Some("new"));
    }

    #[test]
    fn a_token_gets_only_the_updates_made_after_it_in_order() {
        let entry = Entry::replayed(
            "r",
            "a",
            &[
                update(
                    10_000,
                    ParticipantUpdate::new()
                        .with_name("first")
                        .with_metadata("m1"),
                ),
                update(20_000, ParticipantUpdate::new().with_name("second")),
            ],
        );
        let Outcome::Updated(before_both) = entry.apply(&token(Some(5))) else {
            panic!("updated")
        };
        assert_eq!(
            (before_both.name.as_deref(), before_both.metadata.as_deref()),
            (Some("second"), Some("m1"))
        );
        let Outcome::Updated(between) = entry.apply(&token(Some(15))) else {
            panic!("updated")
        };
        assert_eq!(
            (between.name.as_deref(), between.metadata.as_deref()),
            (Some("second"), None)
        );
    }

    #[test]
    fn the_revocation_cutoff_refuses_tokens_issued_before_it_only() {
        let entry = Entry::replayed(
            "r",
            "a",
            &[Write::Revoke {
                at_ms: 0,
                cutoff: 1_000,
            }],
        );
        assert!(matches!(entry.apply(&token(Some(999))), Outcome::Revoked));
        assert!(matches!(entry.apply(&token(None)), Outcome::Revoked));
        assert!(matches!(
            entry.apply(&token(Some(1_000))),
            Outcome::Unchanged
        ));
        // An earlier cutoff never shortens a revocation.
        let entry = Entry::replayed(
            "r",
            "a",
            &[
                Write::Revoke {
                    at_ms: 0,
                    cutoff: 1_000,
                },
                Write::Revoke {
                    at_ms: 1,
                    cutoff: 10,
                },
            ],
        );
        assert!(matches!(entry.apply(&token(Some(500))), Outcome::Revoked));
    }

    #[test]
    fn removing_clears_the_updates_as_well_as_revoking() {
        let entry = Entry::replayed(
            "r",
            "a",
            &[
                update(5_000, ParticipantUpdate::new().with_name("x")),
                Write::Remove {
                    at_ms: 6_000,
                    cutoff: 7,
                },
            ],
        );
        assert!(matches!(entry.apply(&token(Some(6))), Outcome::Revoked));
        assert!(matches!(entry.apply(&token(Some(2))), Outcome::Revoked));
        assert!(matches!(entry.apply(&token(Some(7))), Outcome::Unchanged));
        assert!(entry.clone().updates.is_empty());
    }

    #[test]
    fn writes_delivered_late_are_kept_in_time_order() {
        let promote = ParticipantUpdate::new()
            .with_permission(ParticipantPermission::new().with_can_publish(true));
        let demote = ParticipantUpdate::new().with_permission(ParticipantPermission::new());
        let in_order = Entry::replayed(
            "r",
            "a",
            &[
                update(1_000, promote.clone()),
                update(2_000, demote.clone()),
            ],
        );
        let late = Entry::replayed("r", "a", &[update(2_000, demote), update(1_000, promote)]);
        for entry in [in_order, late] {
            let Outcome::Updated(data) = entry.apply(&token(Some(0))) else {
                panic!("updated")
            };
            assert!(!Claims::from_data(*data).can_publish_source(TrackSource::Camera));
        }
    }

    #[test]
    fn a_long_history_is_compacted_without_losing_the_latest_word() {
        let writes: Vec<_> = (0..200)
            .map(|i| {
                update(
                    i * 1_000,
                    ParticipantUpdate::new().with_name(format!("n{i}")),
                )
            })
            .collect();
        let entry = Entry::replayed("r", "a", &writes);
        assert_eq!(entry.updates.len(), MAX_UPDATES);
        assert_eq!(
            named(&entry.apply(&token(Some(0)))).as_deref(),
            Some("n199")
        );
    }

    #[test]
    fn an_entry_expires_retention_after_its_last_write() {
        let entry = Entry::replayed(
            "r",
            "a",
            &[Write::Revoke {
                at_ms: 10_000,
                cutoff: 5,
            }],
        );
        assert!(!entry.expired(10_999, 1_000));
        assert!(entry.expired(11_000, 1_000));
    }

    #[test]
    fn writes_round_trip_through_json() {
        for write in [
            update(
                1,
                ParticipantUpdate::new()
                    .with_name("n")
                    .with_attribute("k", "")
                    .with_permission(
                        ParticipantPermission::new()
                            .with_can_publish_sources([TrackSource::ScreenShare]),
                    ),
            ),
            Write::Revoke {
                at_ms: 2,
                cutoff: 3,
            },
            Write::Remove {
                at_ms: 4,
                cutoff: 5,
            },
        ] {
            let text = serde_json::to_string(&write).expect("serializes");
            assert_eq!(serde_json::from_str::<Write>(&text).expect("parses"), write);
        }
    }
}
