//! The rooms of `lkauth serve` and who joined them. A participant joins when it passes
//! `GET /rtc/validate` with a join token (the stand-in for connecting); the room is created by
//! that join if it does not exist, as LiveKit creates it. Held in this process, or in Redis
//! (`--redis URL`, or the `redis:` block of LiveKit's config in any of its three modes), where
//! every replica sees the same rooms.

mod memory;
mod redis;

use std::time::{SystemTime, UNIX_EPOCH};

use livekit_protocol as proto;
use serde::{Deserialize, Serialize};
use tower_livekit_auth::Claims;

/// A participant in a room: who, since when, and the claims of the token it joined with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Joined {
    pub(crate) sid: String,
    pub(crate) claims: Claims,
    pub(crate) joined_at_ms: i64,
}

/// The rooms could not be read or written (Redis is unreachable).
#[derive(Debug)]
pub(crate) struct Unavailable(pub(crate) String);

/// Where the rooms are kept.
#[derive(Clone)]
pub(crate) enum Rooms {
    Memory(memory::Memory),
    Redis(redis::RedisRooms),
}

impl Default for Rooms {
    fn default() -> Self {
        Rooms::Memory(memory::Memory::default())
    }
}

impl Rooms {
    /// Rooms in the Redis of `topology` (one server, Sentinel or Cluster), under `prefix`.
    pub(crate) fn redis(
        topology: tower_livekit_auth::state::RedisTopology,
        prefix: &str,
    ) -> Result<Self, Unavailable> {
        redis::RedisRooms::on(topology, prefix).map(Rooms::Redis)
    }

    /// The room called `request.name`, created if it does not exist (`CreateRoom` is
    /// idempotent in LiveKit).
    pub(crate) async fn create(
        &self,
        request: &proto::CreateRoomRequest,
    ) -> Result<proto::Room, Unavailable> {
        match self {
            Rooms::Memory(rooms) => Ok(rooms.create(request)),
            Rooms::Redis(rooms) => rooms.create(request).await,
        }
    }

    /// The rooms named in `names`, or all of them.
    pub(crate) async fn list(&self, names: &[String]) -> Result<Vec<proto::Room>, Unavailable> {
        match self {
            Rooms::Memory(rooms) => Ok(rooms.list(names)),
            Rooms::Redis(rooms) => rooms.list(names).await,
        }
    }

    /// Deletes the room and lets its participants go; `false` if there was no such room.
    pub(crate) async fn delete(&self, name: &str) -> Result<bool, Unavailable> {
        match self {
            Rooms::Memory(rooms) => Ok(rooms.delete(name)),
            Rooms::Redis(rooms) => rooms.delete(name).await,
        }
    }

    /// Sets the room's metadata; the room, or `None` if there is no such room.
    pub(crate) async fn set_metadata(
        &self,
        name: &str,
        metadata: &str,
    ) -> Result<Option<proto::Room>, Unavailable> {
        match self {
            Rooms::Memory(rooms) => Ok(rooms.set_metadata(name, metadata)),
            Rooms::Redis(rooms) => rooms.set_metadata(name, metadata).await,
        }
    }

    /// Whether the room exists.
    pub(crate) async fn exists(&self, name: &str) -> Result<bool, Unavailable> {
        match self {
            Rooms::Memory(rooms) => Ok(rooms.exists(name)),
            Rooms::Redis(rooms) => rooms.exists(name).await,
        }
    }

    /// Records that the holder of `claims` (a join token that verified) joined its room. A
    /// participant that joins again keeps its sid and takes the new token's claims.
    pub(crate) async fn join(&self, claims: &Claims) -> Result<(), Unavailable> {
        match self {
            Rooms::Memory(rooms) => {
                rooms.join(claims);
                Ok(())
            }
            Rooms::Redis(rooms) => rooms.join(claims).await,
        }
    }

    /// The participant `identity` of `room`, if it joined.
    pub(crate) async fn participant(
        &self,
        room: &str,
        identity: &str,
    ) -> Result<Option<Joined>, Unavailable> {
        match self {
            Rooms::Memory(rooms) => Ok(rooms.participant(room, identity)),
            Rooms::Redis(rooms) => rooms.participant(room, identity).await,
        }
    }

    /// Every participant of `room`, in identity order.
    pub(crate) async fn participants(&self, room: &str) -> Result<Vec<Joined>, Unavailable> {
        match self {
            Rooms::Memory(rooms) => Ok(rooms.participants(room)),
            Rooms::Redis(rooms) => rooms.participants(room).await,
        }
    }

    /// Takes `identity` out of `room`; `false` if it was not there.
    pub(crate) async fn leave(&self, room: &str, identity: &str) -> Result<bool, Unavailable> {
        match self {
            Rooms::Memory(rooms) => Ok(rooms.leave(room, identity)),
            Rooms::Redis(rooms) => rooms.leave(room, identity).await,
        }
    }
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

/// `joined` for `claims`, keeping the sid and join time of `previous` if it joined before.
fn joined(claims: &Claims, previous: Option<&Joined>) -> Joined {
    let (sid, joined_at_ms) = previous.map_or_else(
        || (sid("PA_", claims.identity()), now_ms()),
        |j| (j.sid.clone(), j.joined_at_ms),
    );
    Joined {
        sid,
        claims: claims.clone(),
        joined_at_ms,
    }
}
