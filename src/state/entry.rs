//! One participant's entry: for each field an update replaces (name, metadata, permission)
//! and each attribute key, the latest write with its time; and the revocation cutoff.
//!
//! Why this is exact. `UpdateParticipant` replaces the name, the metadata and the permission as
//! wholes and sets or deletes attributes key by key, so "every update made after a token's
//! `nbf`, applied in order" ends, for each field and each key, with the latest of those
//! writes. One `(time, value)` per field and per key therefore answers every token as the
//! whole history would: no list of updates, nothing to trim or merge, and the size of an
//! entry is bounded by LiveKit's size limits (`tests/state_properties.rs` holds this against
//! the unbounded list).
//!
//! Clocks that disagree. A write's time is its writer's clock. When a write carries an earlier
//! time than the field already has (two writers whose clocks differ, or a clock stepped
//! back), the entry keeps the later time, and for the value:
//! - the permission becomes what both writes allow ([`ParticipantPermission::meet`]): a token
//!   between the two times gets no more than the earlier-timed write would give it, nor than
//!   the later-timed one;
//! - a name, metadata or attribute value takes the new write's value: the administrator's
//!   later word.
//!
//! So the state never grants more than the writes would, taken in the order they were made,
//! each applying to the tokens issued before its own time.

use compact_str::CompactString;
use std::collections::BTreeMap;

use super::update::{Changes, ParticipantPermission, ParticipantUpdate};
use crate::claims::{Claims, ClaimsData};
use crate::limits::{LimitExceeded, Limits};

/// A write to a participant. Times are the writer's clock: milliseconds for when a write was
/// made, seconds for a revocation cutoff (as LiveKit's `revoke_token_ts`).
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// A value and the time (ms, the writer's clock) of the write that set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stamped<T> {
    pub(crate) at_ms: i64,
    pub(crate) value: T,
}

impl<T> Stamped<T> {
    /// Whether this write applies to a token issued (`nbf`) at `issued_ms`: a write in the
    /// token's own second counts as after it, the conservative side (the update is the
    /// administrator's later word).
    fn applies_to(&self, issued_ms: i64) -> bool {
        self.at_ms >= issued_ms
    }
}

/// Records `value`, written at `at_ms`, in `slot`. A write with an earlier time than the
/// slot's keeps the slot's time and takes `inverted(old value, new value)` (see the module
/// docs); equal times: the later write wins.
fn stamp<T>(
    slot: &mut Option<Stamped<T>>,
    at_ms: i64,
    value: T,
    inverted: impl FnOnce(&T, T) -> T,
) {
    match slot {
        Some(old) => restamp(old, at_ms, value, inverted),
        None => *slot = Some(Stamped { at_ms, value }),
    }
}

/// [`stamp`] on a field that has a value.
fn restamp<T>(old: &mut Stamped<T>, at_ms: i64, value: T, inverted: impl FnOnce(&T, T) -> T) {
    if at_ms < old.at_ms {
        old.value = inverted(&old.value, value);
    } else {
        *old = Stamped { at_ms, value };
    }
}

/// The fields of a participant that updates set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fields {
    pub(crate) name: Option<Stamped<String>>,
    pub(crate) metadata: Option<Stamped<String>>,
    pub(crate) permission: Option<Stamped<ParticipantPermission>>,
    /// By key, in key order; `None`: the key was deleted.
    pub(crate) attributes: BTreeMap<String, Stamped<Option<String>>>,
}

impl Fields {
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.metadata.is_none()
            && self.permission.is_none()
            && self.attributes.is_empty()
    }

    /// The attributes as `(key, value)` pairs, a deleted key with an empty value (as
    /// `UpdateParticipant` deletes one): what `limit.max_attributes_size` bounds, the entry
    /// remembering its deletions.
    pub(crate) fn attribute_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attributes
            .iter()
            .map(|(key, value)| (key.as_str(), value.value.as_deref().unwrap_or("")))
    }

    /// The latest time of any field.
    pub(crate) fn updated_at_ms(&self) -> Option<i64> {
        let times = [
            self.name.as_ref().map(|s| s.at_ms),
            self.metadata.as_ref().map(|s| s.at_ms),
            self.permission.as_ref().map(|s| s.at_ms),
        ];
        times
            .into_iter()
            .flatten()
            .chain(self.attributes.values().map(|s| s.at_ms))
            .max()
    }
}

/// What an entry does to a token.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Nothing applies: the token speaks for itself.
    Unchanged,
    /// Writes made after the token was issued apply. (Boxed: `ClaimsData` is large, and this
    /// is the rare outcome.)
    Updated(Box<ClaimsData>),
    /// The token was issued before the participant's revocation cutoff.
    Revoked,
}

/// A participant's state. Immutable once published in a snapshot: a write makes a new entry.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) room: CompactString,
    pub(crate) identity: CompactString,
    pub(crate) fields: Fields,
    /// Unix seconds; tokens with an earlier `nbf` are refused.
    pub(crate) cutoff: Option<i64>,
    /// When the last write was made (ms).
    pub(crate) last_write_ms: i64,
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
            fields: Fields::default(),
            cutoff: None,
            last_write_ms: i64::MIN,
            version: 0,
            installed: 0,
        }
    }

    /// The entry that `writes` make, in order (limits unchecked: for tests and replays).
    #[cfg(test)]
    pub(crate) fn replayed<'a>(
        room: &str,
        identity: &str,
        writes: impl IntoIterator<Item = &'a Write>,
    ) -> Self {
        let mut entry = Entry::new(room, identity);
        let unlimited = Limits::new().with_max_attributes_size(0);
        for write in writes {
            entry.record(write, &unlimited).expect("unlimited");
        }
        entry
    }

    /// Records `write`, with the server's rules. Refused, leaving the entry as it was, when the
    /// participant's attributes would outgrow `limits` (the caller checked the write's own
    /// sizes; deleted keys count here, since the entry must remember them).
    pub(crate) fn record(&mut self, write: &Write, limits: &Limits) -> Result<(), LimitExceeded> {
        match write {
            Write::Update { at_ms, update } => {
                // An attribute write always leaves its own value (only the time is the later
                // of the two), so the size after it is known before anything changes: checked
                // first, the entry is then changed in place, whole.
                let untouched = self
                    .fields
                    .attribute_pairs()
                    .filter(|(key, _)| !update.attributes.contains_key(*key));
                limits.check_attributes(untouched.chain(update.attributes()))?;
                let fields = &mut self.fields;
                let at_ms = *at_ms;
                if let Some(name) = update.name() {
                    stamp(&mut fields.name, at_ms, name.to_owned(), |_, new| new);
                }
                if let Some(metadata) = update.metadata() {
                    stamp(
                        &mut fields.metadata,
                        at_ms,
                        metadata.to_owned(),
                        |_, new| new,
                    );
                }
                if let Some(permission) = update.permission() {
                    stamp(
                        &mut fields.permission,
                        at_ms,
                        permission.clone(),
                        |old, new| old.meet(&new),
                    );
                }
                for (key, value) in update.attributes() {
                    let value = (!value.is_empty()).then(|| value.to_owned());
                    match fields.attributes.get_mut(key) {
                        Some(old) => restamp(old, at_ms, value, |_, new| new),
                        None => {
                            fields
                                .attributes
                                .insert(key.to_owned(), Stamped { at_ms, value });
                        }
                    }
                }
            }
            Write::Revoke { cutoff, .. } => self.revoke(*cutoff),
            Write::Remove { cutoff, .. } => {
                self.fields = Fields::default();
                self.revoke(*cutoff);
            }
        }
        self.last_write_ms = self.last_write_ms.max(write.at_ms());
        Ok(())
    }

    /// A later cutoff wins; an earlier one never shortens a revocation.
    fn revoke(&mut self, cutoff: i64) {
        self.cutoff = Some(self.cutoff.map_or(cutoff, |c| c.max(cutoff)));
    }

    /// When the entry may be dropped (ms): `retention_ms` after the later of its last write
    /// and its cutoff, since a cutoff in the future holds until then and the tokens it refuses
    /// live on after it.
    pub(crate) fn expires_ms(&self, retention_ms: i64) -> i64 {
        let cutoff_ms = self.cutoff.map_or(i64::MIN, |c| c.saturating_mul(1000));
        self.last_write_ms
            .max(cutoff_ms)
            .saturating_add(retention_ms)
    }

    /// Whether the entry outlived its retention at `now_ms`.
    pub(crate) fn expired(&self, now_ms: i64, retention_ms: i64) -> bool {
        now_ms >= self.expires_ms(retention_ms)
    }

    /// What this entry does to a token with these claims: refused if issued before the cutoff
    /// (no `nbf` counts as issued at 0), otherwise each field's latest write if it was made
    /// after the token was issued.
    pub(crate) fn apply(&self, claims: &Claims) -> Outcome {
        let issued = claims.not_before().unwrap_or(0);
        if self.cutoff.is_some_and(|cutoff| issued < cutoff) {
            return Outcome::Revoked;
        }
        let issued_ms = issued.saturating_mul(1000);
        let f = &self.fields;
        fn later(slot: &Option<Stamped<String>>, issued_ms: i64) -> Option<&str> {
            slot.as_ref()
                .filter(|s| s.applies_to(issued_ms))
                .map(|s| s.value.as_str())
        }
        let name = later(&f.name, issued_ms);
        let metadata = later(&f.metadata, issued_ms);
        let permission = f
            .permission
            .as_ref()
            .filter(|s| s.applies_to(issued_ms))
            .map(|s| &s.value);
        let mut attributes = f
            .attributes
            .iter()
            .filter(|(_, s)| s.applies_to(issued_ms))
            .map(|(key, s)| (key.as_str(), s.value.as_deref().unwrap_or("")))
            .peekable();
        if name.is_none()
            && metadata.is_none()
            && permission.is_none()
            && attributes.peek().is_none()
        {
            return Outcome::Unchanged;
        }
        let mut data = Box::new(claims.data().clone());
        Changes {
            name,
            metadata,
            attributes,
            permission,
        }
        .apply(&mut data);
        Outcome::Updated(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrackSource;

    fn token(nbf: Option<i64>) -> Claims {
        let nbf = nbf.map(|n| format!(r#","nbf":{n}"#)).unwrap_or_default();
        serde_json::from_str(&format!(
            r#"{{"sub":"a","name":"own"{nbf},"attributes":{{"k":"own"}},"video":{{"roomJoin":true,"room":"r","canPublish":false}}}}"#
        ))
        .expect("claims")
    }

    fn update(at_ms: i64, update: ParticipantUpdate) -> Write {
        Write::Update { at_ms, update }
    }

    fn named(outcome: &Outcome) -> Option<String> {
        match outcome {
            Outcome::Updated(data) => data.name.as_deref().map(str::to_owned),
            _ => None,
        }
    }

    fn claims(outcome: Outcome) -> Claims {
        match outcome {
            Outcome::Updated(data) => Claims::from_data(*data),
            other => panic!("updated, not {other:?}"),
        }
    }

    fn publish(at_ms: i64, sources: &[TrackSource]) -> Write {
        update(
            at_ms,
            ParticipantUpdate::new().with_permission(
                ParticipantPermission::new()
                    .with_can_publish(true)
                    .with_can_publish_sources(sources.iter().copied()),
            ),
        )
    }

    fn demote(at_ms: i64) -> Write {
        update(
            at_ms,
            ParticipantUpdate::new()
                .with_permission(ParticipantPermission::new().with_can_subscribe(true)),
        )
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
    fn a_token_gets_each_fields_latest_write_made_after_it() {
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
    fn a_demotion_survives_any_number_of_later_updates_of_other_fields() {
        let mut writes = vec![publish(1_000, &[]), demote(2_000)];
        writes.extend((0..5_000).map(|i| {
            update(
                3_000 + i,
                ParticipantUpdate::new()
                    .with_attribute("speaking", if i % 2 == 0 { "yes" } else { "no" })
                    .with_name(format!("n{i}")),
            )
        }));
        let entry = Entry::replayed("r", "a", &writes);
        let claims = claims(entry.apply(&token(Some(0))));
        assert!(!claims.can_publish(), "the demotion holds");
        assert_eq!(entry.fields.attributes.len(), 1, "one slot per key");
    }

    #[test]
    fn a_promotion_never_reaches_a_token_minted_after_it() {
        // Promoted at 1 s; a viewer token minted at 2 s; then many name updates.
        let mut writes = vec![publish(1_000, &[TrackSource::Camera])];
        writes.extend((0..200).map(|i| {
            update(
                3_000 + i,
                ParticipantUpdate::new().with_name(format!("n{i}")),
            )
        }));
        let entry = Entry::replayed("r", "a", &writes);
        let viewer = claims(entry.apply(&token(Some(2))));
        assert!(!viewer.can_publish_source(TrackSource::Camera));
        assert_eq!(viewer.name(), "n199");
        let earlier = claims(entry.apply(&token(Some(0))));
        assert!(earlier.can_publish_source(TrackSource::Camera));
    }

    #[test]
    fn a_deleted_attribute_and_an_old_name_never_come_back() {
        let mut writes = vec![update(
            1_000,
            ParticipantUpdate::new()
                .with_name("old")
                .with_attribute("k", ""),
        )];
        writes.push(update(2_000, ParticipantUpdate::new().with_name("new")));
        writes.extend((0..2_000).map(|i| {
            update(
                3_000 + i,
                ParticipantUpdate::new().with_metadata(format!("{i}")),
            )
        }));
        let entry = Entry::replayed("r", "a", &writes);
        let claims = claims(entry.apply(&token(Some(0))));
        assert_eq!(claims.name(), "new");
        assert_eq!(
            claims.attributes().get("k"),
            None,
            "deleted, as the token's own"
        );
    }

    #[test]
    fn a_write_with_an_earlier_time_keeps_what_both_permissions_allow() {
        // A promotion from a writer whose clock is behind arrives after a demotion.
        let entry = Entry::replayed(
            "r",
            "a",
            &[demote(5_000), publish(3_000, &[TrackSource::Camera])],
        );
        for nbf in [0, 4] {
            let claims = claims(entry.apply(&token(Some(nbf))));
            assert!(
                !claims.can_publish(),
                "nbf {nbf}: never more than the demotion"
            );
        }
        assert!(matches!(entry.apply(&token(Some(6))), Outcome::Unchanged));
        // Two grants that overlap: exactly what both allow, neither one nor nothing.
        let both = |at_ms, sources: &[TrackSource]| {
            update(
                at_ms,
                ParticipantUpdate::new().with_permission(
                    ParticipantPermission::new()
                        .with_can_subscribe(true)
                        .with_can_publish(true)
                        .with_can_publish_sources(sources.iter().copied()),
                ),
            )
        };
        let overlap = Entry::replayed(
            "r",
            "a",
            &[
                both(5_000, &[TrackSource::Camera, TrackSource::Microphone]),
                both(3_000, &[TrackSource::Camera, TrackSource::ScreenShare]),
            ],
        );
        let met = claims(overlap.apply(&token(Some(4))));
        assert!(met.can_subscribe());
        assert!(met.can_publish_source(TrackSource::Camera));
        assert!(!met.can_publish_source(TrackSource::Microphone));
        assert!(!met.can_publish_source(TrackSource::ScreenShare));
        // Names: the later word wins, at the later time.
        let named = Entry::replayed(
            "r",
            "a",
            &[
                update(5_000, ParticipantUpdate::new().with_name("first")),
                update(3_000, ParticipantUpdate::new().with_name("second")),
            ],
        );
        assert_eq!(claims(named.apply(&token(Some(4)))).name(), "second");
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
        assert!(entry.fields.is_empty());
    }

    #[test]
    fn stored_attributes_are_held_to_the_limit_and_a_refused_write_changes_nothing() {
        let limits = Limits::new().with_max_attributes_size(10);
        let mut entry = Entry::new("r", "a");
        let set = |at_ms, key: &str, value: &str| {
            update(at_ms, ParticipantUpdate::new().with_attribute(key, value))
        };
        entry
            .record(&set(1, "k1", "vvvv"), &limits)
            .expect("6 bytes");
        // A deletion is remembered, its key counted: 6 + 2 = 8.
        entry.record(&set(2, "k2", ""), &limits).expect("8 bytes");
        let before = entry.fields.clone();
        let err = entry
            .record(&set(3, "k3", "v"), &limits)
            .expect_err("over the limit");
        assert_eq!(err.size(), 11);
        assert_eq!(entry.fields, before, "nothing of the refused write");
        // Replacing a value within the limit is fine.
        entry
            .record(&set(4, "k1", "wwww"), &limits)
            .expect("same size");
    }

    #[test]
    fn an_entry_lives_retention_after_the_later_of_its_last_write_and_its_cutoff() {
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
        // A cutoff a week ahead keeps the entry until a retention after it.
        let week = 7 * 24 * 3600;
        let future = Entry::replayed(
            "r",
            "a",
            &[Write::Remove {
                at_ms: 10_000,
                cutoff: week,
            }],
        );
        assert!(!future.expired(week * 1000 + 999, 1_000));
        assert!(future.expired(week * 1000 + 1_000, 1_000));
        // Nothing overflows at the ends of time.
        let forever = Entry::replayed(
            "r",
            "a",
            &[Write::Remove {
                at_ms: i64::MAX,
                cutoff: i64::MAX,
            }],
        );
        assert!(!forever.expired(i64::MAX - 1, i64::MAX));
    }
}
