//! The demo's rooms and who joined them. A participant joins when it passes
//! `GET /rtc/validate` with a join token (the demo's stand-in for connecting); the room is
//! created by that join if it does not exist, as LiveKit creates it. Kept in this process.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use livekit_protocol as proto;
use tower_livekit_auth::Claims;

/// A participant in a room: who, since when, and the claims of the token it joined with.
#[derive(Clone, Debug)]
pub(crate) struct Joined {
    pub(crate) sid: String,
    pub(crate) claims: Claims,
    pub(crate) joined_at_ms: i64,
}

/// The rooms and their participants, by name and identity.
#[derive(Clone, Default)]
pub(crate) struct Rooms(Arc<Mutex<Registry>>);

#[derive(Default)]
struct Registry {
    rooms: BTreeMap<String, proto::Room>,
    participants: BTreeMap<String, BTreeMap<String, Joined>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A short unique id with LiveKit's prefix (`RM_`, `PA_`).
fn sid(prefix: &str, name: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    let hash = RandomState::new().hash_one((name, now_ms()));
    format!("{prefix}{:012x}", hash & 0xffff_ffff_ffff)
}

impl Rooms {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The room called `request.name`, created if it does not exist (`CreateRoom` is
    /// idempotent in LiveKit).
    pub(crate) fn create(&self, request: &proto::CreateRoomRequest) -> proto::Room {
        let mut registry = self.registry();
        registry
            .rooms
            .entry(request.name.clone())
            .or_insert_with(|| new_room(&request.name, request))
            .clone()
    }

    /// The rooms named in `names`, or all of them.
    pub(crate) fn list(&self, names: &[String]) -> Vec<proto::Room> {
        let registry = self.registry();
        registry
            .rooms
            .values()
            .filter(|room| names.is_empty() || names.contains(&room.name))
            .map(|room| with_count(room, &registry))
            .collect()
    }

    /// Deletes the room and lets its participants go; `false` if there was no such room.
    pub(crate) fn delete(&self, name: &str) -> bool {
        let mut registry = self.registry();
        registry.participants.remove(name);
        registry.rooms.remove(name).is_some()
    }

    /// Sets the room's metadata; the room, or `None` if there is no such room.
    pub(crate) fn set_metadata(&self, name: &str, metadata: &str) -> Option<proto::Room> {
        let mut registry = self.registry();
        let room = registry.rooms.get_mut(name)?;
        room.metadata = metadata.to_owned();
        let room = room.clone();
        Some(with_count(&room, &registry))
    }

    /// Whether the room exists.
    pub(crate) fn exists(&self, name: &str) -> bool {
        self.registry().rooms.contains_key(name)
    }

    /// Records that the holder of `claims` (a join token that verified) joined its room. A
    /// participant that joins again keeps its sid and takes the new token's claims.
    pub(crate) fn join(&self, claims: &Claims) {
        let (room, identity) = (claims.room().to_owned(), claims.identity().to_owned());
        let mut registry = self.registry();
        if !registry.rooms.contains_key(&room) {
            let created = new_room(&room, &proto::CreateRoomRequest::default());
            registry.rooms.insert(room.clone(), created);
        }
        let participants = registry.participants.entry(room).or_default();
        let (sid, joined_at_ms) = participants.get(&identity).map_or_else(
            || (sid("PA_", &identity), now_ms()),
            |j| (j.sid.clone(), j.joined_at_ms),
        );
        participants.insert(
            identity,
            Joined {
                sid,
                claims: claims.clone(),
                joined_at_ms,
            },
        );
    }

    /// The participant `identity` of `room`, if it joined.
    pub(crate) fn participant(&self, room: &str, identity: &str) -> Option<Joined> {
        self.registry()
            .participants
            .get(room)
            .and_then(|participants| participants.get(identity))
            .cloned()
    }

    /// Every participant of `room`, in identity order.
    pub(crate) fn participants(&self, room: &str) -> Vec<Joined> {
        self.registry()
            .participants
            .get(room)
            .map(|participants| participants.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Takes `identity` out of `room`; `false` if it was not there.
    pub(crate) fn leave(&self, room: &str, identity: &str) -> bool {
        self.registry()
            .participants
            .get_mut(room)
            .is_some_and(|participants| participants.remove(identity).is_some())
    }
}

fn new_room(name: &str, request: &proto::CreateRoomRequest) -> proto::Room {
    let created = now_ms();
    proto::Room {
        sid: sid("RM_", name),
        name: name.to_owned(),
        empty_timeout: request.empty_timeout,
        departure_timeout: request.departure_timeout,
        max_participants: request.max_participants,
        creation_time: created / 1000,
        creation_time_ms: created,
        metadata: request.metadata.clone(),
        ..proto::Room::default()
    }
}

fn with_count(room: &proto::Room, registry: &Registry) -> proto::Room {
    let count = registry
        .participants
        .get(&room.name)
        .map_or(0, BTreeMap::len);
    proto::Room {
        num_participants: u32::try_from(count).unwrap_or(u32::MAX),
        ..room.clone()
    }
}
