//! The names of one deployment's keys and channel in Redis.
//!
//! Every key carries the prefix as a hash tag (`{prefix}:...`), so that all of a deployment's
//! keys live in one hash slot: a Redis Cluster then runs each write's script on one node,
//! as a script must. The state is small and written rarely, so one slot is plenty.

use super::super::StateError;
use crate::state::StateErrorKind;

/// The keys of one deployment.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    /// `{prefix}`.
    tag: String,
    prefix: String,
}

impl Keys {
    /// The keys under `prefix`, which must not hold braces (they would change the hash tag).
    pub(crate) fn new(prefix: &str) -> Result<Self, StateError> {
        if prefix.is_empty() || prefix.contains(['{', '}']) {
            return Err(StateError::with_detail(
                StateErrorKind::InvalidConfig,
                "the Redis prefix must be non-empty and hold no `{` or `}`",
            ));
        }
        Ok(Keys {
            tag: format!("{{{prefix}}}"),
            prefix: prefix.to_owned(),
        })
    }

    /// `{prefix}`, the hash tag every key starts with.
    pub(crate) fn tag(&self) -> &str {
        &self.tag
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A participant's id: the room's length, the room, the identity (`6:myroom:alice`),
    /// unambiguous whatever the names hold.
    pub(crate) fn id(room: &str, identity: &str) -> String {
        format!("{}:{room}:{identity}", room.len())
    }

    pub(crate) fn parse(id: &str) -> Option<(&str, &str)> {
        let (len, rest) = id.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let room = rest.get(..len)?;
        let identity = rest.get(len..)?.strip_prefix(':')?;
        Some((room, identity))
    }

    /// The hash of one participant's state.
    pub(crate) fn participant(&self, id: &str) -> String {
        format!("{}:p:{id}", self.tag)
    }

    /// Every participant's id, scored by when its entry expires: the bound on entries.
    pub(crate) fn all(&self) -> String {
        format!("{}:all", self.tag)
    }

    /// A room's identities, scored by when their entries expire: the bound per room.
    pub(crate) fn room(&self, room: &str) -> String {
        format!("{}:room:{room}", self.tag)
    }

    /// Where writes are announced.
    pub(crate) fn channel(&self) -> String {
        format!("{}:events", self.tag)
    }

    /// The deployment's counter of writes, which numbers the announcements.
    pub(crate) fn counter(&self) -> String {
        format!("{}:g", self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_ids_are_unambiguous_whatever_the_names_hold() {
        for (room, identity) in [
            ("r", "a"),
            ("my:room", "a:b"),
            ("", "x"),
            ("ü", ":"),
            ("1:2", "3"),
        ] {
            let id = Keys::id(room, identity);
            assert_eq!(Keys::parse(&id), Some((room, identity)), "{id}");
        }
        assert_eq!(Keys::parse("9:short"), None);
        assert_eq!(Keys::parse("x:y:z"), None);
    }

    #[test]
    fn every_key_shares_one_hash_tag_and_the_prefix_cannot_change_it() {
        let keys = Keys::new("app").expect("a prefix");
        let id = Keys::id("r", "a");
        for key in [
            keys.participant(&id),
            keys.all(),
            keys.room("r"),
            keys.counter(),
            keys.channel(),
        ] {
            assert!(key.starts_with("{app}:"), "{key}");
        }
        for bad in ["", "a{b", "}"] {
            assert!(Keys::new(bad).is_err(), "{bad:?}");
        }
    }
}
