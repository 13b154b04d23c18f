//! [`ParticipantRecord`]: what the state holds for a participant, as a reader sees it.

use std::time::SystemTime;

use super::entry::Fields;
use super::update::ParticipantUpdate;
use crate::time::from_unix_ms;

/// What the state holds for one participant: the latest write to each field (what a token
/// issued before all of them gets), and its revocation cutoff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantRecord {
    update: ParticipantUpdate,
    updated_at_ms: Option<i64>,
    revoked_before: Option<i64>,
}

impl ParticipantRecord {
    pub(crate) fn of(fields: &Fields, cutoff: Option<i64>) -> Self {
        let mut update = ParticipantUpdate::new();
        if let Some(name) = &fields.name {
            update = update.with_name(name.value.clone());
        }
        if let Some(metadata) = &fields.metadata {
            update = update.with_metadata(metadata.value.clone());
        }
        if let Some(permission) = &fields.permission {
            update = update.with_permission(permission.value.clone());
        }
        update = update.with_attributes(fields.attribute_pairs());
        ParticipantRecord {
            update,
            updated_at_ms: fields.updated_at_ms(),
            revoked_before: cutoff,
        }
    }

    /// The latest value of each field written, as one update (a deleted attribute as `""`).
    #[must_use]
    pub fn changes(&self) -> &ParticipantUpdate {
        &self.update
    }

    /// When the last update was made, if any.
    #[must_use]
    pub fn updated_at(&self) -> Option<SystemTime> {
        self.updated_at_ms.map(from_unix_ms)
    }

    /// The revocation cutoff (Unix seconds): tokens issued before it are refused.
    #[must_use]
    pub fn revoked_before(&self) -> Option<u64> {
        self.revoked_before
            .map(|cutoff| u64::try_from(cutoff).unwrap_or(0))
    }
}
