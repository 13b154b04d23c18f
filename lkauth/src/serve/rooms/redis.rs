//! The rooms in Redis (`--redis URL`, or the `redis:` block of LiveKit's config): any replica
//! answers for any room, as LiveKit's nodes share theirs (the `rooms` and
//! `room_participants:<room>` hashes of `livekit-server`'s `pkg/service/redisstore.go`).
//!
//! On the same Redis as the participant state, through the library's own connection to it
//! (`RedisTopology::connect`): one server, the master the Sentinels name, or a Cluster, with
//! the config's username, password, db and TLS. The connection is kept until a command fails,
//! then made again (on Sentinel that asks for the master anew: the old one may be gone, or a
//! replica now). Every key carries the prefix as a hash tag (`{prefix}:rooms`), as the
//! participant state's do, so a room's transaction (`MULTI` … `EXEC` over the rooms hash and a
//! room's participants) runs on one node, as a Cluster requires.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use livekit_protocol as proto;
use redis::AsyncCommands;
use tower_livekit_auth::state::{RedisConnection, RedisTopology, StateError};
use tower_livekit_auth::Claims;

use super::{joined, new_room, Joined, Unavailable};

/// How long to wait for a connection, and for an answer.
const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub(crate) struct RedisRooms {
    topology: Arc<RedisTopology>,
    /// The connection, until a command on it fails.
    cached: Arc<Mutex<Option<RedisConnection>>>,
    /// `{prefix}`: the hash tag every key starts with.
    tag: String,
}

/// Why the rooms cannot be reached. Never the error's own text: redis-rs may quote a URL,
/// and a URL may hold a password.
fn unavailable(err: &redis::RedisError) -> Unavailable {
    Unavailable(format!(
        "the rooms in Redis are unavailable ({}); try again",
        err.category()
    ))
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Unavailable> {
    serde_json::from_str(text).map_err(|_| Unavailable("unreadable room data in Redis".into()))
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `{prefix}`, refusing braces (they would change the hash tag).
fn tag(prefix: &str) -> Result<String, Unavailable> {
    if prefix.is_empty() || prefix.contains(['{', '}']) {
        return Err(Unavailable(
            "the Redis prefix must be non-empty and hold no `{` or `}`".into(),
        ));
    }
    Ok(format!("{{{prefix}}}"))
}

/// The hash of every room.
fn rooms_key(tag: &str) -> String {
    format!("{tag}:rooms")
}

/// The hash of one room's participants.
fn participants_key(tag: &str, room: &str) -> String {
    format!("{tag}:room_participants:{room}")
}

/// Why the rooms cannot be reached, when connecting failed: as [`unavailable`], from redis-rs's
/// error that the library keeps as the cause.
fn cannot_connect(err: &StateError) -> Unavailable {
    let category = std::error::Error::source(err)
        .and_then(|source| source.downcast_ref::<redis::RedisError>())
        .map_or("cannot connect", redis::RedisError::category);
    Unavailable(format!(
        "the rooms in Redis are unavailable ({category}); try again"
    ))
}

impl RedisRooms {
    /// Rooms in the Redis of `topology`, under `prefix`.
    pub(crate) fn on(topology: RedisTopology, prefix: &str) -> Result<Self, Unavailable> {
        Ok(RedisRooms {
            topology: Arc::new(topology),
            cached: Arc::new(Mutex::new(None)),
            tag: tag(prefix)?,
        })
    }

    fn rooms(&self) -> String {
        rooms_key(&self.tag)
    }

    fn participants_of(&self, room: &str) -> String {
        participants_key(&self.tag, room)
    }

    /// A connection to the node that holds the rooms now.
    async fn conn(&self) -> Result<RedisConnection, Unavailable> {
        if let Some(connection) = self.cached.lock().ok().and_then(|c| c.clone()) {
            return Ok(connection);
        }
        let connection = self
            .topology
            .connect(TIMEOUT)
            .await
            .map_err(|err| cannot_connect(&err))?;
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some(connection.clone());
        }
        Ok(connection)
    }

    /// `err` as the caller's answer; the next command connects again (the connection may be
    /// broken, or on a node that is no longer the master).
    fn failed(&self, err: &redis::RedisError) -> Unavailable {
        if let Ok(mut cached) = self.cached.lock() {
            *cached = None;
        }
        unavailable(err)
    }

    pub(crate) async fn create(
        &self,
        request: &proto::CreateRoomRequest,
    ) -> Result<proto::Room, Unavailable> {
        let fresh = encode(&new_room(&request.name, request));
        let (room,): (String,) = redis::pipe()
            .atomic()
            .hset_nx(self.rooms(), &request.name, fresh)
            .ignore()
            .hget(self.rooms(), &request.name)
            .query_async(&mut self.conn().await?)
            .await
            .map_err(|e| self.failed(&e))?;
        decode(&room)
    }

    pub(crate) async fn list(&self, names: &[String]) -> Result<Vec<proto::Room>, Unavailable> {
        let mut conn = self.conn().await?;
        let all: Vec<(String, String)> = conn
            .hgetall(self.rooms())
            .await
            .map_err(|e| self.failed(&e))?;
        let mut rooms = Vec::new();
        for (name, room) in all {
            if names.is_empty() || names.contains(&name) {
                let mut room: proto::Room = decode(&room)?;
                let count: u32 = conn
                    .hlen(self.participants_of(&name))
                    .await
                    .map_err(|e| self.failed(&e))?;
                room.num_participants = count;
                rooms.push(room);
            }
        }
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rooms)
    }

    pub(crate) async fn delete(&self, name: &str) -> Result<bool, Unavailable> {
        let (removed,): (u32,) = redis::pipe()
            .atomic()
            .hdel(self.rooms(), name)
            .del(self.participants_of(name))
            .ignore()
            .query_async(&mut self.conn().await?)
            .await
            .map_err(|e| self.failed(&e))?;
        Ok(removed > 0)
    }

    pub(crate) async fn set_metadata(
        &self,
        name: &str,
        metadata: &str,
    ) -> Result<Option<proto::Room>, Unavailable> {
        let mut conn = self.conn().await?;
        let Some(room): Option<String> = conn
            .hget(self.rooms(), name)
            .await
            .map_err(|e| self.failed(&e))?
        else {
            return Ok(None);
        };
        let mut room: proto::Room = decode(&room)?;
        room.metadata = metadata.to_owned();
        let _: () = conn
            .hset(self.rooms(), name, encode(&room))
            .await
            .map_err(|e| self.failed(&e))?;
        let count: u32 = conn
            .hlen(self.participants_of(name))
            .await
            .map_err(|e| self.failed(&e))?;
        room.num_participants = count;
        Ok(Some(room))
    }

    pub(crate) async fn exists(&self, name: &str) -> Result<bool, Unavailable> {
        self.conn()
            .await?
            .hexists(self.rooms(), name)
            .await
            .map_err(|e| self.failed(&e))
    }

    pub(crate) async fn join(&self, claims: &Claims) -> Result<(), Unavailable> {
        let (room, identity) = (claims.room(), claims.identity());
        let fresh = encode(&new_room(room, &proto::CreateRoomRequest::default()));
        let mut conn = self.conn().await?;
        let _: () = conn
            .hset_nx(self.rooms(), room, fresh)
            .await
            .map_err(|e| self.failed(&e))?;
        let previous = self.participant(room, identity).await?;
        let entry = encode(&joined(claims, previous.as_ref()));
        let _: () = conn
            .hset(self.participants_of(room), identity, entry)
            .await
            .map_err(|e| self.failed(&e))?;
        Ok(())
    }

    pub(crate) async fn participant(
        &self,
        room: &str,
        identity: &str,
    ) -> Result<Option<Joined>, Unavailable> {
        let found: Option<String> = self
            .conn()
            .await?
            .hget(self.participants_of(room), identity)
            .await
            .map_err(|e| self.failed(&e))?;
        found.map(|text| decode(&text)).transpose()
    }

    pub(crate) async fn participants(&self, room: &str) -> Result<Vec<Joined>, Unavailable> {
        let all: Vec<(String, String)> = self
            .conn()
            .await?
            .hgetall(self.participants_of(room))
            .await
            .map_err(|e| self.failed(&e))?;
        let mut joined = all
            .iter()
            .map(|(_, text)| decode::<Joined>(text))
            .collect::<Result<Vec<_>, _>>()?;
        joined.sort_by(|a, b| a.claims.identity().cmp(b.claims.identity()));
        Ok(joined)
    }

    pub(crate) async fn leave(&self, room: &str, identity: &str) -> Result<bool, Unavailable> {
        let removed: u32 = self
            .conn()
            .await?
            .hdel(self.participants_of(room), identity)
            .await
            .map_err(|e| self.failed(&e))?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_carries_the_prefix_as_one_hash_tag() {
        let app = tag("app").expect("a prefix");
        for key in [rooms_key(&app), participants_key(&app, "my{room}")] {
            assert!(key.starts_with("{app}:"), "{key}");
        }
        for bad in ["", "a{b", "}"] {
            assert!(tag(bad).is_err(), "{bad:?}");
        }
    }
}
