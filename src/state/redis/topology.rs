//! [`RedisTopology`]: where the shared state lives (one Redis, a Sentinel deployment or a
//! Cluster, as LiveKit's `redis:` block chooses them), and the connector that reaches the
//! node holding it now.
//!
//! - **One Redis**: every connection goes to its address.
//! - **Sentinel**: every connection asks the sentinels which node is the master (redis-rs's
//!   `SentinelClient`, which also checks that the node answers `ROLE` as a master); after a
//!   failover, a write that fails is retried on the new master, and the sync task, which
//!   asks the sentinels at each check, moves its subscription there and rescans.
//! - **Cluster**: commands go through redis-rs's cluster client, which routes each by its key's
//!   slot and follows `MOVED` and failovers. Every key of a deployment carries the prefix as
//!   a hash tag, so they share one slot: each write's script runs on one node, as a script
//!   must, and the state (small, written rarely) lives on one shard. Announcements use plain
//!   `PUBLISH`, which a Cluster forwards to every node, so a replica subscribes on any node
//!   and, when that node goes, on another, without tracking which shard owns the slot (as
//!   `SSUBSCRIBE` would need); the cost, a message to every node per write, is nothing at the
//!   rate participants are updated.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection, PubSub};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Client, Cmd, ConnectionAddr, ConnectionInfo, IntoConnectionInfo,
    Pipeline, RedisFuture, RedisResult, TlsCertificates, TlsMode, Value,
};

use super::super::{StateError, StateErrorKind};

/// Where the shared participant state lives, and how to reach it: one Redis, a Redis Sentinel
/// deployment, or a Redis Cluster, with the credentials and TLS of LiveKit's `redis:` block
/// (`LiveKitConfig` reads that block into one of these).
///
/// ```
/// use tower_livekit_auth::state::{RedisTls, RedisTopology};
///
/// let one = RedisTopology::url("redis://:s3cret@127.0.0.1:6379/0")?;
/// let sentinel = RedisTopology::sentinel("mymaster", ["10.0.0.1:26379", "10.0.0.2:26379"])?
///     .with_password("s3cret");
/// let cluster = RedisTopology::cluster(["10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"])?
///     .with_tls(RedisTls::new());
/// assert!(!format!("{sentinel:?}").contains("s3cret"));
/// # Ok::<(), tower_livekit_auth::state::StateError>(())
/// ```
#[derive(Clone)]
pub struct RedisTopology {
    mode: Mode,
    username: Option<String>,
    password: Option<String>,
    db: i64,
    tls: Option<RedisTls>,
}

#[derive(Clone)]
enum Mode {
    /// One Redis, as redis-rs reads a URL or an address.
    Standalone(ConnectionInfo),
    Sentinel {
        master_name: String,
        sentinels: Vec<(String, u16)>,
        username: Option<String>,
        password: Option<String>,
    },
    Cluster {
        nodes: Vec<(String, u16)>,
        max_redirects: u32,
    },
}

/// TLS to Redis (`tls:` in LiveKit's `redis:` block): the roots to trust (default: the
/// system's, or the file `SSL_CERT_FILE` names), a client certificate, or no verification at
/// all.
#[derive(Clone, Default)]
pub struct RedisTls {
    insecure: bool,
    ca_pem: Option<Vec<u8>>,
    client_pem: Option<(Vec<u8>, Vec<u8>)>,
}

impl RedisTls {
    /// TLS, verified against the system's roots.
    #[must_use]
    pub fn new() -> Self {
        RedisTls::default()
    }

    /// Trust these roots (PEM) instead of the system's.
    #[must_use]
    pub fn with_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Present this certificate and key (PEM) to Redis (mutual TLS).
    #[must_use]
    pub fn with_client_pem(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.client_pem = Some((cert.into(), key.into()));
        self
    }

    /// Accept any certificate, as LiveKit's `tls.insecure: true`: for tests only, since anyone
    /// between the replicas and Redis can then read and change the state.
    #[must_use]
    pub fn insecure(mut self) -> Self {
        self.insecure = true;
        self
    }

    fn mode(&self) -> TlsMode {
        if self.insecure {
            TlsMode::Insecure
        } else {
            TlsMode::Secure
        }
    }

    fn certificates(&self) -> TlsCertificates {
        TlsCertificates {
            client_tls: self
                .client_pem
                .as_ref()
                .map(|(cert, key)| redis::ClientTlsConfig {
                    client_cert: cert.clone(),
                    client_key: key.clone(),
                }),
            root_cert: self.ca_pem.clone(),
        }
    }
}

impl fmt::Debug for RedisTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTls")
            .field("insecure", &self.insecure)
            .field("ca", &self.ca_pem.is_some())
            .field("client_certificate", &self.client_pem.is_some())
            .finish()
    }
}

fn invalid(detail: impl Into<String>) -> StateError {
    StateError::with_detail(StateErrorKind::InvalidConfig, detail)
}

/// `host:port` (`[::1]:6379` for IPv6) as a host and a port.
fn address(text: &str) -> Result<(String, u16), StateError> {
    let bad = || {
        invalid(format!(
            "`{text}` is not a Redis address: host:port, as 127.0.0.1:6379"
        ))
    };
    let (host, port) = text.trim().rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = port.parse::<u16>().map_err(|_| bad())?;
    if port == 0 || (host.contains(':') && !text.trim().starts_with('[')) {
        return Err(bad());
    }
    // An empty host is this machine, as Go's `net.Dial` (and so LiveKit) reads `:6379`.
    let host = if host.is_empty() { "localhost" } else { host };
    Ok((host.to_owned(), port))
}

fn addresses<I>(texts: I) -> Result<Vec<(String, u16)>, StateError>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let list = texts
        .into_iter()
        .map(|text| address(text.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    if list.is_empty() {
        return Err(invalid("no Redis address given"));
    }
    Ok(list)
}

impl RedisTopology {
    /// One Redis at `url`, as redis-rs reads it (`redis://[user:password@]host[:port][/db]`,
    /// `rediss://` for TLS against the system's roots).
    pub fn url(url: &str) -> Result<Self, StateError> {
        // The error is not shown: redis-rs may quote the URL, and the URL may hold a password.
        let info = url.into_connection_info().map_err(|_| {
            invalid("not a Redis URL: redis://[:password@]host[:port][/db] or rediss://...")
        })?;
        let settings = info.redis_settings();
        Ok(RedisTopology {
            username: settings.username().map(str::to_owned),
            password: settings.password().map(str::to_owned),
            db: settings.db(),
            tls: matches!(info.addr(), ConnectionAddr::TcpTls { .. }).then(RedisTls::new),
            mode: Mode::Standalone(info),
        })
    }

    /// One Redis at `address` (`host:port`), as LiveKit's `redis.address`.
    pub fn standalone(address: &str) -> Result<Self, StateError> {
        let (host, port) = self::address(address)?;
        Ok(RedisTopology {
            mode: Mode::Standalone(
                ConnectionAddr::Tcp(host, port)
                    .into_connection_info()
                    .map_err(|_| invalid("not a Redis address"))?,
            ),
            username: None,
            password: None,
            db: 0,
            tls: None,
        })
    }

    /// A Sentinel deployment: the master the sentinels at `sentinels` (`host:port` each) know
    /// as `master_name`, as LiveKit's `redis.sentinel_master_name` and
    /// `redis.sentinel_addresses`.
    pub fn sentinel<I>(master_name: &str, sentinels: I) -> Result<Self, StateError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        if master_name.is_empty() {
            return Err(invalid("the Sentinel master name is empty"));
        }
        Ok(RedisTopology {
            mode: Mode::Sentinel {
                master_name: master_name.to_owned(),
                sentinels: addresses(sentinels)?,
                username: None,
                password: None,
            },
            username: None,
            password: None,
            db: 0,
            tls: None,
        })
    }

    /// A Redis Cluster, found through `nodes` (`host:port` each; any of its nodes will do), as
    /// LiveKit's `redis.cluster_addresses`.
    pub fn cluster<I>(nodes: I) -> Result<Self, StateError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Ok(RedisTopology {
            mode: Mode::Cluster {
                nodes: addresses(nodes)?,
                max_redirects: 2,
            },
            username: None,
            password: None,
            db: 0,
            tls: None,
        })
    }

    /// The user to authenticate as on the Redis nodes (`redis.username`).
    #[must_use]
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into()).filter(|u| !u.is_empty());
        self
    }

    /// The password on the Redis nodes (`redis.password`).
    #[must_use]
    pub fn with_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into()).filter(|p| !p.is_empty());
        self
    }

    /// The database number (`redis.db`; a Cluster has only database 0 and ignores it, as
    /// LiveKit does).
    #[must_use]
    pub fn with_db(mut self, db: i64) -> Self {
        self.db = db;
        self
    }

    /// TLS to every node (and to the sentinels).
    #[must_use]
    pub fn with_tls(mut self, tls: RedisTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The credentials on the sentinels themselves (`redis.sentinel_username`,
    /// `redis.sentinel_password`); without them, the nodes' own are not sent to the sentinels.
    #[must_use]
    pub fn with_sentinel_credentials(
        mut self,
        username: Option<String>,
        password: Option<String>,
    ) -> Self {
        if let Mode::Sentinel {
            username: u,
            password: p,
            ..
        } = &mut self.mode
        {
            *u = username.filter(|u| !u.is_empty());
            *p = password.filter(|p| !p.is_empty());
        }
        self
    }

    /// How many `MOVED`/`ASK` redirections a Cluster command follows (`redis.max_redirects`,
    /// default 2, as LiveKit's).
    #[must_use]
    pub fn with_max_redirects(mut self, redirects: u32) -> Self {
        if let Mode::Cluster { max_redirects, .. } = &mut self.mode {
            *max_redirects = redirects;
        }
        self
    }

    /// Every setting, secrets and certificates included, for the tests of what builds it.
    #[cfg(test)]
    pub(crate) fn settings(&self) -> String {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let mode = match &self.mode {
            Mode::Standalone(info) => format!("standalone {}", info.addr()),
            Mode::Sentinel {
                master_name,
                sentinels,
                username,
                password,
            } => format!("sentinel {master_name} {sentinels:?} as {username:?}/{password:?}"),
            Mode::Cluster {
                nodes,
                max_redirects,
            } => format!("cluster {nodes:?} redirects {max_redirects}"),
        };
        let tls = self.tls.as_ref().map(|tls| {
            let ca = tls.ca_pem.as_deref().map(text);
            let cert = tls.client_pem.as_ref().map(|(cert, _)| text(cert));
            let key = tls.client_pem.as_ref().map(|(_, key)| text(key));
            format!(
                "insecure {} ca {ca:?} cert {cert:?} key {key:?}",
                tls.insecure
            )
        });
        format!(
            "{mode}; user {:?} password {:?} db {}; tls {tls:?}",
            self.username, self.password, self.db
        )
    }

    /// Which of the three it is: `"standalone"`, `"sentinel"` or `"cluster"`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self.mode {
            Mode::Standalone(_) => "standalone",
            Mode::Sentinel { .. } => "sentinel",
            Mode::Cluster { .. } => "cluster",
        }
    }

    /// Whether this topology has replicas by design (Sentinel, Cluster): a write then waits by
    /// default for one of them to acknowledge it.
    pub(crate) fn replicated(&self) -> bool {
        !matches!(self.mode, Mode::Standalone(_))
    }

    fn node_settings(&self) -> redis::RedisConnectionInfo {
        let mut settings = redis::RedisConnectionInfo::default().set_db(self.db);
        if let Some(username) = &self.username {
            settings = settings.set_username(username);
        }
        if let Some(password) = &self.password {
            settings = settings.set_password(password);
        }
        settings
    }

    fn node_addr(&self, host: &str, port: u16) -> ConnectionAddr {
        match &self.tls {
            Some(tls) => ConnectionAddr::TcpTls {
                host: host.to_owned(),
                port,
                insecure: tls.insecure,
                tls_params: None,
            },
            None => ConnectionAddr::Tcp(host.to_owned(), port),
        }
    }

    fn client(&self, info: ConnectionInfo) -> RedisResult<Client> {
        match &self.tls {
            Some(tls) => Client::build_with_tls(info, tls.certificates()),
            None => Client::open(info),
        }
    }

    /// The connector for this topology.
    pub(crate) fn connector(&self, timeouts: Timeouts) -> Result<Connector, StateError> {
        let failed = |err: redis::RedisError| {
            invalid(format!(
                "cannot set up the Redis client: {}",
                err.category()
            ))
        };
        let kind = match &self.mode {
            Mode::Standalone(info) => {
                let mut info = info.clone().set_redis_settings(self.node_settings());
                if let (Some(_), ConnectionAddr::Tcp(host, port)) = (&self.tls, info.addr()) {
                    let addr = self.node_addr(host, *port);
                    info = info.set_addr(addr);
                }
                Kind::Node(self.client(info).map_err(failed)?)
            }
            Mode::Sentinel {
                master_name,
                sentinels,
                username,
                password,
            } => {
                let addrs = sentinels
                    .iter()
                    .map(|(host, port)| self.node_addr(host, *port));
                let mut builder =
                    SentinelClientBuilder::new(addrs, master_name, SentinelServerType::Master)
                        .map_err(failed)?
                        .set_client_to_redis_db(self.db);
                if let Some(username) = &self.username {
                    builder = builder.set_client_to_redis_username(username);
                }
                if let Some(password) = &self.password {
                    builder = builder.set_client_to_redis_password(password);
                }
                if let Some(username) = username {
                    builder = builder.set_client_to_sentinel_username(username);
                }
                if let Some(password) = password {
                    builder = builder.set_client_to_sentinel_password(password);
                }
                if let Some(tls) = &self.tls {
                    builder = builder
                        .set_client_to_redis_tls_mode(tls.mode())
                        .set_client_to_redis_certificates(tls.certificates())
                        .set_client_to_sentinel_tls_mode(tls.mode())
                        .set_client_to_sentinel_certificates(tls.certificates());
                }
                Kind::Sentinel(tokio::sync::Mutex::new(builder.build().map_err(failed)?))
            }
            Mode::Cluster {
                nodes,
                max_redirects,
            } => {
                let infos: Vec<ConnectionInfo> = nodes
                    .iter()
                    .map(|(host, port)| {
                        self.node_addr(host, *port)
                            .into_connection_info()
                            .map(|info| info.set_redis_settings(self.node_settings().set_db(0)))
                    })
                    .collect::<RedisResult<_>>()
                    .map_err(failed)?;
                let mut builder = ClusterClient::builder(infos.clone())
                    .retries(*max_redirects)
                    .connection_timeout(timeouts.connect)
                    .response_timeout(timeouts.response);
                if let Some(username) = &self.username {
                    builder = builder.username(username);
                }
                if let Some(password) = &self.password {
                    builder = builder.password(password);
                }
                if let Some(tls) = &self.tls {
                    builder = builder.tls(tls.mode()).certs(tls.certificates());
                }
                let nodes = infos
                    .into_iter()
                    .map(|info| self.client(info))
                    .collect::<RedisResult<Vec<_>>>()
                    .map_err(failed)?;
                Kind::Cluster {
                    client: builder.build().map_err(failed)?,
                    nodes,
                    next: AtomicUsize::new(0),
                }
            }
        };
        Ok(Connector { kind, timeouts })
    }
}

impl fmt::Debug for RedisTopology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("RedisTopology");
        s.field("kind", &self.kind());
        match &self.mode {
            Mode::Standalone(info) => s.field("address", &info.addr().to_string()),
            Mode::Sentinel {
                master_name,
                sentinels,
                ..
            } => s
                .field("master_name", master_name)
                .field("sentinels", sentinels),
            Mode::Cluster { nodes, .. } => s.field("nodes", nodes),
        };
        s.field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("db", &self.db)
            .field("tls", &self.tls)
            .finish()
    }
}

/// How long to wait to connect and for an answer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) response: Duration,
}

/// What reaches the node that holds the state now.
pub(crate) struct Connector {
    kind: Kind,
    timeouts: Timeouts,
}

enum Kind {
    Node(Client),
    /// redis-rs's `SentinelClient` asks with `&mut self`.
    Sentinel(tokio::sync::Mutex<SentinelClient>),
    Cluster {
        client: ClusterClient,
        /// Every node given, for the subscription (a Cluster forwards `PUBLISH` everywhere).
        nodes: Vec<Client>,
        /// The node to subscribe on next.
        next: AtomicUsize,
    },
}

/// A connection to the state's node (a routing one on a Cluster).
#[derive(Clone)]
pub(crate) enum Connection {
    Node(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Node(c) => c.req_packed_command(cmd),
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
            Connection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Node(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

impl Connector {
    fn config(&self) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeouts.connect))
            .set_response_timeout(Some(self.timeouts.response))
    }

    /// The client of the node that holds the state now (the master, on Sentinel).
    async fn node(&self) -> RedisResult<Client> {
        match &self.kind {
            Kind::Node(client) => Ok(client.clone()),
            Kind::Sentinel(sentinel) => sentinel.lock().await.async_get_client().await,
            Kind::Cluster { .. } => unreachable_cluster(),
        }
    }

    /// A connection for reads and writes.
    pub(crate) async fn connect(&self) -> RedisResult<Connection> {
        let connect = async {
            match &self.kind {
                Kind::Cluster { client, .. } => {
                    client.get_async_connection().await.map(Connection::Cluster)
                }
                _ => self
                    .node()
                    .await?
                    .get_multiplexed_async_connection_with_config(&self.config())
                    .await
                    .map(Connection::Node),
            }
        };
        // A sentinel lookup walks several nodes: one bound for all of it.
        tokio::time::timeout(self.timeouts.connect * 2, connect)
            .await
            .unwrap_or_else(|_| Err(timed_out()))
    }

    /// A subscription to `channel`, and the address of the node it is on.
    pub(crate) async fn subscribe(&self, channel: &str) -> RedisResult<(PubSub, String)> {
        let clients: Vec<Client> = match &self.kind {
            Kind::Cluster { nodes, next, .. } => {
                let start = next.fetch_add(1, Ordering::Relaxed);
                (0..nodes.len())
                    .map(|i| nodes[(start + i) % nodes.len()].clone())
                    .collect()
            }
            _ => vec![self.node().await?],
        };
        let mut last = timed_out();
        for client in clients {
            let subscribed = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            match tokio::time::timeout(self.timeouts.connect, subscribed).await {
                Ok(Ok(pubsub)) => {
                    return Ok((pubsub, client.get_connection_info().addr().to_string()))
                }
                Ok(Err(err)) => last = err,
                Err(_) => last = timed_out(),
            }
        }
        Err(last)
    }

    /// Where the master is now, on Sentinel (the sync task moves when it changes).
    pub(crate) async fn master(&self) -> Option<RedisResult<String>> {
        match &self.kind {
            Kind::Sentinel(_) => Some(
                tokio::time::timeout(self.timeouts.connect * 2, self.node())
                    .await
                    .unwrap_or_else(|_| Err(timed_out()))
                    .map(|client| client.get_connection_info().addr().to_string()),
            ),
            _ => None,
        }
    }

    /// `WAIT replicas timeout` on the node that took the last write of `connection`: how many
    /// replicas have acknowledged it.
    pub(crate) async fn wait(
        &self,
        connection: &mut Connection,
        tag: &str,
        replicas: usize,
        timeout: Duration,
    ) -> RedisResult<usize> {
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas)
            .arg(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        match (connection, &self.kind) {
            (Connection::Cluster(cluster), Kind::Cluster { .. }) => {
                // The master of the tag's slot, computed here as the cluster does.
                let route =
                    SingleNodeRoutingInfo::SpecificNode(Route::with_key(tag, SlotAddr::Master));
                let answer = cluster
                    .route_command(wait, RoutingInfo::SingleNode(route))
                    .await?;
                Ok(redis::from_redis_value(answer)?)
            }
            (connection, _) => wait.query_async(connection).await,
        }
    }
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "Redis did not answer in time",
    ))
}

fn unreachable_cluster() -> RedisResult<Client> {
    Err(redis::RedisError::from((
        redis::ErrorKind::Client,
        "a Cluster has no single node",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_host_and_port_and_nothing_else() {
        assert_eq!(
            address("127.0.0.1:6379").ok(),
            Some(("127.0.0.1".into(), 6379))
        );
        assert_eq!(address("[::1]:7000").ok(), Some(("::1".into(), 7000)));
        assert_eq!(
            address(" redis.internal:26379 ").ok(),
            Some(("redis.internal".into(), 26379))
        );
        assert_eq!(address(":6379").ok(), Some(("localhost".into(), 6379)));
        for bad in [
            "",
            "6379",
            "host:",
            "::1:6379",
            "host:0",
            "host:99999",
            "host:port",
        ] {
            let err = address(bad).expect_err("not an address");
            assert_eq!(err.kind(), StateErrorKind::InvalidConfig, "{bad:?}");
        }
        assert!(RedisTopology::cluster(Vec::<String>::new()).is_err());
        assert!(RedisTopology::sentinel("", ["127.0.0.1:26379"]).is_err());
    }

    #[test]
    fn no_password_is_ever_shown() {
        let topologies = [
            RedisTopology::url("redis://user:pa55word@127.0.0.1:6379").expect("a URL"),
            RedisTopology::sentinel("m", ["127.0.0.1:26379"])
                .expect("sentinel")
                .with_password("pa55word")
                .with_sentinel_credentials(None, Some("pa55word".into())),
            RedisTopology::cluster(["127.0.0.1:7000"])
                .expect("cluster")
                .with_password("pa55word"),
        ];
        for topology in topologies {
            let shown = format!("{topology:?}");
            assert!(!shown.contains("pa55word"), "{shown}");
        }
        let err = RedisTopology::url("postgres://:pa55word@x").expect_err("not Redis");
        assert!(!err.to_string().contains("pa55word"));
    }

    #[test]
    fn only_sentinel_and_cluster_wait_for_a_replica_by_default() {
        assert!(!RedisTopology::url("redis://127.0.0.1")
            .expect("url")
            .replicated());
        assert!(RedisTopology::sentinel("m", ["127.0.0.1:1"])
            .expect("s")
            .replicated());
        assert!(RedisTopology::cluster(["127.0.0.1:1"])
            .expect("c")
            .replicated());
    }
}
