//! A participant's entry as a Redis hash, and back: one hash field per field of the state.
//!
//! | field | value |
//! |---|---|
//! | `v` | the version: how many writes the participant has had |
//! | `w` | the time of the last write (ms) |
//! | `c` | the revocation cutoff (Unix seconds) |
//! | `n`, `m`, `p` | name, metadata, permission: `[time_ms, value]` in JSON |
//! | `a:<key>` | one attribute: `[time_ms, "value"]`, or `[time_ms, null]` once deleted |
//!
//! A field that cannot be read (written by another version of the crate, or by hand) is read
//! the safe way: a cutoff refuses every token, a permission grants nothing to any token;
//! a name, metadata or attribute is skipped.

use serde::de::DeserializeOwned;

use super::super::entry::{Entry, Stamped, Write};
use super::super::update::ParticipantPermission;

const VERSION: &str = "v";
const LAST_WRITE: &str = "w";
const CUTOFF: &str = "c";
const NAME: &str = "n";
const METADATA: &str = "m";
const PERMISSION: &str = "p";
const ATTRIBUTE: &str = "a:";

/// The entry a participant's hash holds; `None` for an empty hash (no entry).
pub(crate) fn entry_of(room: &str, identity: &str, hash: &[(String, String)]) -> Option<Entry> {
    if hash.is_empty() {
        return None;
    }
    let mut entry = Entry::new(room, identity);
    for (field, value) in hash {
        match field.as_str() {
            VERSION => entry.version = value.parse().unwrap_or(0),
            LAST_WRITE => entry.last_write_ms = value.parse().unwrap_or(i64::MAX),
            CUTOFF => entry.cutoff = Some(value.parse().unwrap_or(i64::MAX)),
            NAME => entry.fields.name = stamped(value),
            METADATA => entry.fields.metadata = stamped(value),
            PERMISSION => {
                entry.fields.permission = Some(stamped(value).unwrap_or(Stamped {
                    at_ms: i64::MAX,
                    value: ParticipantPermission::new(),
                }));
            }
            other => {
                if let (Some(key), Some(value)) = (other.strip_prefix(ATTRIBUTE), stamped(value)) {
                    entry.fields.attributes.insert(key.to_owned(), value);
                }
            }
        }
    }
    Some(entry)
}

fn stamped<T: DeserializeOwned>(text: &str) -> Option<Stamped<T>> {
    let (at_ms, value) = serde_json::from_str::<(i64, T)>(text).ok()?;
    Some(Stamped { at_ms, value })
}

fn json<T: serde::Serialize>(stamped: &Stamped<T>) -> String {
    // A tuple of an integer and a string, an option or a plain struct cannot fail to encode.
    serde_json::to_string(&(stamped.at_ms, &stamped.value)).unwrap_or_default()
}

/// What a write changes in the participant's hash, once `entry` (the entry after the write)
/// holds it: whether to clear the hash first, and the fields to set (the version aside).
pub(crate) fn changes(write: &Write, entry: &Entry) -> (bool, Vec<(String, String)>) {
    let mut set = vec![(LAST_WRITE.to_owned(), entry.last_write_ms.to_string())];
    if let Some(cutoff) = entry.cutoff {
        set.push((CUTOFF.to_owned(), cutoff.to_string()));
    }
    let fields = &entry.fields;
    match write {
        Write::Update { update, .. } => {
            if let (Some(_), Some(name)) = (update.name(), &fields.name) {
                set.push((NAME.to_owned(), json(name)));
            }
            if let (Some(_), Some(metadata)) = (update.metadata(), &fields.metadata) {
                set.push((METADATA.to_owned(), json(metadata)));
            }
            if let (Some(_), Some(permission)) = (update.permission(), &fields.permission) {
                set.push((PERMISSION.to_owned(), json(permission)));
            }
            for (key, _) in update.attributes() {
                if let Some(value) = fields.attributes.get(key) {
                    set.push((format!("{ATTRIBUTE}{key}"), json(value)));
                }
            }
            (false, set)
        }
        Write::Revoke { .. } => (false, set),
        Write::Remove { .. } => (true, set),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::state::ParticipantUpdate;
    use crate::Claims;
    use crate::TrackSource;

    /// The hash after `writes`, as the script would leave it.
    fn hash_of(writes: &[Write]) -> (Entry, Vec<(String, String)>) {
        let mut entry = Entry::new("r", "a");
        let mut hash: std::collections::BTreeMap<String, String> = Default::default();
        for (version, write) in writes.iter().enumerate() {
            entry.record(write, &Limits::new()).expect("within limits");
            let (clear, set) = changes(write, &entry);
            if clear {
                hash.clear();
            }
            hash.extend(set);
            hash.insert(VERSION.to_owned(), (version + 1).to_string());
        }
        (entry, hash.into_iter().collect())
    }

    #[test]
    fn the_hash_reads_back_as_the_entry_written() {
        let writes = [
            Write::Update {
                at_ms: 1_000,
                update: ParticipantUpdate::new()
                    .with_name("n")
                    .with_metadata("m")
                    .with_attribute("k", "v")
                    .with_attribute("gone", "")
                    .with_permission(
                        ParticipantPermission::new()
                            .with_can_publish(true)
                            .with_can_publish_sources([TrackSource::Camera]),
                    ),
            },
            Write::Revoke {
                at_ms: 2_000,
                cutoff: 7,
            },
            Write::Update {
                at_ms: 3_000,
                update: ParticipantUpdate::new().with_attribute("k", "w"),
            },
        ];
        let (entry, hash) = hash_of(&writes);
        let read = entry_of("r", "a", &hash).expect("an entry");
        assert_eq!(read.fields, entry.fields);
        assert_eq!(
            (read.cutoff, read.last_write_ms, read.version),
            (Some(7), 3_000, 3)
        );
        // A removal clears every field but the cutoff.
        let mut with_remove = writes.to_vec();
        with_remove.push(Write::Remove {
            at_ms: 4_000,
            cutoff: 9,
        });
        let (_, hash) = hash_of(&with_remove);
        let read = entry_of("r", "a", &hash).expect("an entry");
        assert!(read.fields.is_empty());
        assert_eq!(read.cutoff, Some(9));
        assert!(entry_of("r", "a", &[]).is_none());
    }

    #[test]
    fn unreadable_fields_are_read_the_safe_way() {
        let hash = [
            (VERSION.to_owned(), "1".to_owned()),
            (PERMISSION.to_owned(), "{not json".to_owned()),
            (NAME.to_owned(), "garbage".to_owned()),
        ];
        let entry = entry_of("r", "a", &hash).expect("an entry");
        let claims: Claims = serde_json::from_str(
            r#"{"sub":"a","nbf":1700000000,"name":"own","video":{"room":"r","canPublish":true}}"#,
        )
        .expect("claims");
        let super::super::super::entry::Outcome::Updated(data) = entry.apply(&claims) else {
            panic!("the permission applies")
        };
        let claims = Claims::from_data(*data);
        assert!(!claims.can_publish() && !claims.can_subscribe());
        assert_eq!(claims.name(), "own", "an unreadable name is skipped");
        let cutoff = [(CUTOFF.to_owned(), "x".to_owned())];
        let entry = entry_of("r", "a", &cutoff).expect("an entry");
        assert!(matches!(
            entry.apply(&claims),
            super::super::super::entry::Outcome::Revoked
        ));
    }
}
