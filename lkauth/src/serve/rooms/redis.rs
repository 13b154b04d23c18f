//! The rooms in Redis (`--redis`): any replica of the demo answers for any room, as LiveKit's
//! nodes share theirs (the `rooms` and `room_participants:<room>` hashes of `livekit-server`'s
//! `pkg/service/redisstore.go`).

use livekit_protocol as proto;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use tower_livekit_auth::Claims;

use super::{joined, new_room, Joined, Unavailable};

#[derive(Clone)]
pub(crate) struct RedisRooms {
    connection: ConnectionManager,
    prefix: String,
}

fn unavailable(err: redis::RedisError) -> Unavailable {
    Unavailable(format!("the rooms in Redis are unavailable: {err}"))
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Unavailable> {
    serde_json::from_str(text).map_err(|_| Unavailable("unreadable room data in Redis".into()))
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl RedisRooms {
    pub(crate) async fn connect(url: &str, prefix: &str) -> Result<Self, Unavailable> {
        let client = redis::Client::open(url).map_err(|_| Unavailable("not a Redis URL".into()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
            .set_response_timeout(Some(std::time::Duration::from_secs(2)))
            .set_number_of_retries(1);
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(RedisRooms {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    fn rooms(&self) -> String {
        format!("{}:rooms", self.prefix)
    }

    fn participants_of(&self, room: &str) -> String {
        format!("{}:room_participants:{room}", self.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.connection.clone()
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
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        decode(&room)
    }

    pub(crate) async fn list(&self, names: &[String]) -> Result<Vec<proto::Room>, Unavailable> {
        let all: Vec<(String, String)> = self
            .conn()
            .hgetall(self.rooms())
            .await
            .map_err(unavailable)?;
        let mut rooms = Vec::new();
        for (name, room) in all {
            if names.is_empty() || names.contains(&name) {
                let mut room: proto::Room = decode(&room)?;
                let count: u32 = self
                    .conn()
                    .hlen(self.participants_of(&name))
                    .await
                    .map_err(unavailable)?;
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
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(removed > 0)
    }

    pub(crate) async fn set_metadata(
        &self,
        name: &str,
        metadata: &str,
    ) -> Result<Option<proto::Room>, Unavailable> {
        let Some(room): Option<String> = self
            .conn()
            .hget(self.rooms(), name)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let mut room: proto::Room = decode(&room)?;
        room.metadata = metadata.to_owned();
        let _: () = self
            .conn()
            .hset(self.rooms(), name, encode(&room))
            .await
            .map_err(unavailable)?;
        let count: u32 = self
            .conn()
            .hlen(self.participants_of(name))
            .await
            .map_err(unavailable)?;
        room.num_participants = count;
        Ok(Some(room))
    }

    pub(crate) async fn exists(&self, name: &str) -> Result<bool, Unavailable> {
        self.conn()
            .hexists(self.rooms(), name)
            .await
            .map_err(unavailable)
    }

    pub(crate) async fn join(&self, claims: &Claims) -> Result<(), Unavailable> {
        let (room, identity) = (claims.room(), claims.identity());
        let fresh = encode(&new_room(room, &proto::CreateRoomRequest::default()));
        let _: () = self
            .conn()
            .hset_nx(self.rooms(), room, fresh)
            .await
            .map_err(unavailable)?;
        let previous = self.participant(room, identity).await?;
        let entry = encode(&joined(claims, previous.as_ref()));
        let _: () = self
            .conn()
            .hset(self.participants_of(room), identity, entry)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(crate) async fn participant(
        &self,
        room: &str,
        identity: &str,
    ) -> Result<Option<Joined>, Unavailable> {
        let found: Option<String> = self
            .conn()
            .hget(self.participants_of(room), identity)
            .await
            .map_err(unavailable)?;
        found.map(|text| decode(&text)).transpose()
    }

    pub(crate) async fn participants(&self, room: &str) -> Result<Vec<Joined>, Unavailable> {
        let all: Vec<(String, String)> = self
            .conn()
            .hgetall(self.participants_of(room))
            .await
            .map_err(unavailable)?;
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
            .hdel(self.participants_of(room), identity)
            .await
            .map_err(unavailable)?;
        Ok(removed > 0)
    }
}
