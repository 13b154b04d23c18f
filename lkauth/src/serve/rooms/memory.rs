//! The rooms in this process.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use livekit_protocol as proto;
use tower_livekit_auth::Claims;

use super::{joined, new_room, Joined};

#[derive(Clone, Default)]
pub(crate) struct Memory(Arc<Mutex<Registry>>);

#[derive(Default)]
struct Registry {
    rooms: BTreeMap<String, proto::Room>,
    participants: BTreeMap<String, BTreeMap<String, Joined>>,
}

impl Memory {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn create(&self, request: &proto::CreateRoomRequest) -> proto::Room {
        self.registry()
            .rooms
            .entry(request.name.clone())
            .or_insert_with(|| new_room(&request.name, request))
            .clone()
    }

    pub(crate) fn list(&self, names: &[String]) -> Vec<proto::Room> {
        let registry = self.registry();
        registry
            .rooms
            .values()
            .filter(|room| names.is_empty() || names.contains(&room.name))
            .map(|room| with_count(room, &registry))
            .collect()
    }

    pub(crate) fn delete(&self, name: &str) -> bool {
        let mut registry = self.registry();
        registry.participants.remove(name);
        registry.rooms.remove(name).is_some()
    }

    pub(crate) fn set_metadata(&self, name: &str, metadata: &str) -> Option<proto::Room> {
        let mut registry = self.registry();
        let room = registry.rooms.get_mut(name)?;
        room.metadata = metadata.to_owned();
        let room = room.clone();
        Some(with_count(&room, &registry))
    }

    pub(crate) fn exists(&self, name: &str) -> bool {
        self.registry().rooms.contains_key(name)
    }

    pub(crate) fn join(&self, claims: &Claims) {
        let room = claims.room().to_owned();
        let mut registry = self.registry();
        if !registry.rooms.contains_key(&room) {
            let created = new_room(&room, &proto::CreateRoomRequest::default());
            registry.rooms.insert(room.clone(), created);
        }
        let participants = registry.participants.entry(room).or_default();
        let entry = joined(claims, participants.get(claims.identity()));
        participants.insert(claims.identity().to_owned(), entry);
    }

    pub(crate) fn participant(&self, room: &str, identity: &str) -> Option<Joined> {
        self.registry()
            .participants
            .get(room)
            .and_then(|participants| participants.get(identity))
            .cloned()
    }

    pub(crate) fn participants(&self, room: &str) -> Vec<Joined> {
        self.registry()
            .participants
            .get(room)
            .map(|participants| participants.values().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn leave(&self, room: &str, identity: &str) -> bool {
        self.registry()
            .participants
            .get_mut(room)
            .is_some_and(|participants| participants.remove(identity).is_some())
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
