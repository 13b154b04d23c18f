//! The rooms in Redis (`--redis URL`, or the `redis:` block of LiveKit's config): any replica
//! answers for any room, as LiveKit's nodes share theirs (the `rooms` and
//! `room_participants:<room>` hashes of `livekit-server`'s `pkg/service/redisstore.go`).
//!
//! On the same Redis as the participant state, in each of LiveKit's three modes, reached with
//! redis-rs from the config's `redis:` block (its mode, username, password, db and TLS):
//!
//! - **one server** (`address`, or a URL): a connection manager that reconnects by itself;
//! - **Sentinel**: the master the sentinels name, asked again after any failed command (the
//!   old master may be gone, or be a replica now and refuse writes);
//! - **Cluster**: redis-rs's cluster client, which follows `MOVED` and failovers. Every key
//!   carries the prefix as a hash tag (`{prefix}:rooms`), as the participant state's do, so a
//!   room's transaction (`MULTI` … `EXEC` over the rooms hash and a room's participants) runs
//!   on one node, as a Cluster requires.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livekit_protocol as proto;
use redis::aio::{ConnectionLike, ConnectionManager, MultiplexedConnection};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncCommands, AsyncConnectionConfig, Client, Cmd, ConnectionAddr, ConnectionInfo,
    IntoConnectionInfo, Pipeline, RedisFuture, TlsCertificates, TlsMode, Value,
};
use tower_livekit_auth::config::{RedisConfig, RedisMode, TlsConfig};
use tower_livekit_auth::Claims;

use super::{joined, new_room, Joined, Unavailable};

/// How long to wait for a connection, and for an answer.
const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub(crate) struct RedisRooms {
    connector: Connector,
    /// `{prefix}`: the hash tag every key starts with.
    tag: String,
}

/// What reaches the node that holds the rooms now.
#[derive(Clone)]
enum Connector {
    Node(ConnectionManager),
    Sentinel(Arc<Sentinel>),
    Cluster(Arc<Cluster>),
}

/// The master the sentinels name, and a connection to it kept until a command fails.
struct Sentinel {
    client: tokio::sync::Mutex<SentinelClient>,
    cached: Mutex<Option<MultiplexedConnection>>,
}

/// A cluster client, connected at the first command (so that the server starts while the
/// cluster is down, as with the other modes).
struct Cluster {
    client: ClusterClient,
    connection: tokio::sync::OnceCell<ClusterConnection>,
}

/// A connection for one operation.
enum Connection {
    Node(ConnectionManager),
    Sentinel(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Node(c) => c.req_packed_command(cmd),
            Connection::Sentinel(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Node(c) => c.req_packed_commands(cmd, offset, count),
            Connection::Sentinel(c) => c.req_packed_commands(cmd, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Node(c) => c.get_db(),
            Connection::Sentinel(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// Why the rooms cannot be reached. Never the error's own text: redis-rs may quote a URL,
/// and a URL may hold a password.
fn unavailable(err: &redis::RedisError) -> Unavailable {
    Unavailable(format!(
        "the rooms in Redis are unavailable ({}); try again",
        err.category()
    ))
}

fn setup_failed(err: &redis::RedisError) -> Unavailable {
    Unavailable(format!(
        "cannot set up the Redis client for the rooms: {}",
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

/// `host:port` (`[::1]:6379` for IPv6) as LiveKit writes its addresses.
fn host_port(address: &str) -> Result<(String, u16), Unavailable> {
    let bad = || {
        Unavailable(format!(
            "`{address}` is not a Redis address: host:port, as 127.0.0.1:6379"
        ))
    };
    let (host, port) = address.trim().rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = port.parse::<u16>().map_err(|_| bad())?;
    // An empty host is this machine, as Go's net.Dial (and so LiveKit) reads `:6379`.
    let host = if host.is_empty() { "localhost" } else { host };
    Ok((host.to_owned(), port))
}

/// The TLS of the `tls:` block, its files read now.
struct Tls {
    insecure: bool,
    certificates: TlsCertificates,
}

impl Tls {
    fn from_config(tls: &TlsConfig) -> Result<Self, Unavailable> {
        if tls.server_name().is_some() {
            return Err(Unavailable(
                "redis.tls.server_name is not supported (redis-rs checks the certificate \
                 against the address's host): put that name in the address instead"
                    .into(),
            ));
        }
        let read = |setting: &str, path: &Path| {
            std::fs::read(path).map_err(|err| {
                Unavailable(format!("{setting}: cannot read {}: {err}", path.display()))
            })
        };
        let client_tls = match (tls.client_cert_file(), tls.client_key_file()) {
            (Some(cert), Some(key)) => Some(redis::ClientTlsConfig {
                client_cert: read("redis.tls.client_cert_file", cert)?,
                client_key: read("redis.tls.client_key_file", key)?,
            }),
            _ => None,
        };
        let root_cert = tls
            .ca_cert_file()
            .map(|path| read("redis.tls.ca_cert_file", path))
            .transpose()?;
        Ok(Tls {
            insecure: tls.insecure(),
            certificates: TlsCertificates {
                client_tls,
                root_cert,
            },
        })
    }

    fn mode(&self) -> TlsMode {
        if self.insecure {
            TlsMode::Insecure
        } else {
            TlsMode::Secure
        }
    }

    fn addr(&self, host: String, port: u16) -> ConnectionAddr {
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure: self.insecure,
            tls_params: None,
        }
    }
}

fn addr(tls: Option<&Tls>, host: String, port: u16) -> ConnectionAddr {
    match tls {
        Some(tls) => tls.addr(host, port),
        None => ConnectionAddr::Tcp(host, port),
    }
}

fn client(info: ConnectionInfo, tls: Option<&Tls>) -> Result<Client, Unavailable> {
    match tls {
        Some(tls) => Client::build_with_tls(info, tls.certificates.clone()),
        None => Client::open(info),
    }
    .map_err(|err| setup_failed(&err))
}

fn manager(client: Client) -> Result<ConnectionManager, Unavailable> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT))
        .set_number_of_retries(1);
    ConnectionManager::new_lazy_with_config(client, config).map_err(|err| unavailable(&err))
}

fn credentials(config: &RedisConfig, db: i64) -> redis::RedisConnectionInfo {
    let mut settings = redis::RedisConnectionInfo::default().set_db(db);
    if let Some(username) = config.username() {
        settings = settings.set_username(username);
    }
    if let Some(password) = config.password() {
        settings = settings.set_password(password);
    }
    settings
}

impl RedisRooms {
    /// Rooms in the one Redis at `url` (`redis://[:password@]host[:port][/db]`).
    pub(crate) fn connect(url: &str, prefix: &str) -> Result<Self, Unavailable> {
        let client = Client::open(url).map_err(|_| {
            Unavailable("not a Redis URL: redis://[:password@]host[:port][/db]".into())
        })?;
        Ok(RedisRooms {
            connector: Connector::Node(manager(client)?),
            tag: tag(prefix)?,
        })
    }

    /// Rooms in the Redis of LiveKit's `redis:` block, in its mode.
    pub(crate) fn from_config(config: &RedisConfig, prefix: &str) -> Result<Self, Unavailable> {
        let tls = config.tls().map(Tls::from_config).transpose()?;
        let tls = tls.as_ref();
        let db = i64::from(config.db());
        let connector = match config.mode() {
            RedisMode::Standalone { address, .. } => {
                let (host, port) = host_port(address)?;
                let info = addr(tls, host, port)
                    .into_connection_info()
                    .map_err(|err| setup_failed(&err))?
                    .set_redis_settings(credentials(config, db));
                Connector::Node(manager(client(info, tls)?)?)
            }
            RedisMode::Sentinel {
                master_name,
                addresses,
                username,
                password,
                ..
            } => {
                let sentinels = addresses
                    .iter()
                    .map(|address| host_port(address).map(|(h, p)| addr(tls, h, p)))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut builder =
                    SentinelClientBuilder::new(sentinels, master_name, SentinelServerType::Master)
                        .map_err(|err| setup_failed(&err))?
                        .set_client_to_redis_db(db);
                if let Some(username) = config.username() {
                    builder = builder.set_client_to_redis_username(username);
                }
                if let Some(password) = config.password() {
                    builder = builder.set_client_to_redis_password(password);
                }
                if let Some(username) = username {
                    builder = builder.set_client_to_sentinel_username(username);
                }
                if let Some(password) = password {
                    builder = builder.set_client_to_sentinel_password(password.as_str());
                }
                if let Some(tls) = tls {
                    builder = builder
                        .set_client_to_redis_tls_mode(tls.mode())
                        .set_client_to_redis_certificates(tls.certificates.clone())
                        .set_client_to_sentinel_tls_mode(tls.mode())
                        .set_client_to_sentinel_certificates(tls.certificates.clone());
                }
                Connector::Sentinel(Arc::new(Sentinel {
                    client: tokio::sync::Mutex::new(
                        builder.build().map_err(|err| setup_failed(&err))?,
                    ),
                    cached: Mutex::new(None),
                }))
            }
            RedisMode::Cluster {
                addresses,
                max_redirects,
                ..
            } => {
                let nodes = addresses
                    .iter()
                    .map(|address| {
                        let (host, port) = host_port(address)?;
                        addr(tls, host, port)
                            .into_connection_info()
                            .map_err(|err| setup_failed(&err))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                // A cluster has database 0 only; LiveKit drops `db` there.
                let mut builder = ClusterClient::builder(nodes)
                    .retries(*max_redirects)
                    .connection_timeout(TIMEOUT)
                    .response_timeout(TIMEOUT);
                if let Some(username) = config.username() {
                    builder = builder.username(username);
                }
                if let Some(password) = config.password() {
                    builder = builder.password(password);
                }
                if let Some(tls) = tls {
                    builder = builder.tls(tls.mode()).certs(tls.certificates.clone());
                }
                Connector::Cluster(Arc::new(Cluster {
                    client: builder.build().map_err(|err| setup_failed(&err))?,
                    connection: tokio::sync::OnceCell::new(),
                }))
            }
            _ => return Err(Unavailable("this Redis mode is not supported".into())),
        };
        Ok(RedisRooms {
            connector,
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
    async fn conn(&self) -> Result<Connection, Unavailable> {
        match &self.connector {
            Connector::Node(manager) => Ok(Connection::Node(manager.clone())),
            Connector::Sentinel(sentinel) => {
                let cached = sentinel.cached.lock().ok().and_then(|c| c.clone());
                if let Some(connection) = cached {
                    return Ok(Connection::Sentinel(connection));
                }
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(TIMEOUT))
                    .set_response_timeout(Some(TIMEOUT));
                // The sentinels are asked one by one: one bound for all of it.
                let connect = async {
                    let master = sentinel.client.lock().await.async_get_client().await?;
                    master
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                };
                let connection = tokio::time::timeout(TIMEOUT * 2, connect)
                    .await
                    .map_err(|_| {
                        Unavailable("the Redis master of the rooms did not answer in time".into())
                    })?
                    .map_err(|err| unavailable(&err))?;
                if let Ok(mut cached) = sentinel.cached.lock() {
                    *cached = Some(connection.clone());
                }
                Ok(Connection::Sentinel(connection))
            }
            Connector::Cluster(cluster) => cluster
                .connection
                .get_or_try_init(|| cluster.client.get_async_connection())
                .await
                .map(|connection| Connection::Cluster(connection.clone()))
                .map_err(|err| unavailable(&err)),
        }
    }

    /// `err` as the caller's answer. On Sentinel the master is asked again next time: the one
    /// this connection reached may be gone, or a replica now.
    fn failed(&self, err: &redis::RedisError) -> Unavailable {
        if let Connector::Sentinel(sentinel) = &self.connector {
            if let Ok(mut cached) = sentinel.cached.lock() {
                *cached = None;
            }
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

    #[test]
    fn addresses_are_read_as_livekit_writes_them() {
        assert_eq!(
            host_port("127.0.0.1:6379").ok(),
            Some(("127.0.0.1".into(), 6379))
        );
        assert_eq!(host_port("[::1]:7000").ok(), Some(("::1".into(), 7000)));
        assert_eq!(host_port(":6379").ok(), Some(("localhost".into(), 6379)));
        for bad in ["", "6379", "host:", "host:port"] {
            assert!(host_port(bad).is_err(), "{bad:?}");
        }
    }
}
