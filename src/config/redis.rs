//! [`RedisConfig`]: the `redis:` block of LiveKit's config, with the connection mode chosen as
//! LiveKit chooses it.
//!
//! livekit/protocol `redis/redis.go` (`RedisConfig`, `GetRedisClient`) connects one go-redis
//! `UniversalClient`: `sentinel_addresses` non-empty → Sentinel; else `cluster_addresses`
//! non-empty → Cluster; else `address` → one server; none of the three → Redis is not
//! configured (`IsConfigured`). TLS comes from the `tls:` block when `tls.enabled`, else from
//! the deprecated `use_tls` (TLS with the system's roots); `xtls.Config.ClientTLSConfig` in
//! livekit/protocol `xtls/tls.go` reads the files.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use super::yaml::{RawRedis, RawTls};

/// LiveKit's default `max_redirects` for Cluster (`RedisConfig.GetMaxRedirects`).
pub const DEFAULT_MAX_REDIRECTS: u32 = 2;
/// LiveKit's default `dial_timeout` for Sentinel: 2 s.
pub const DEFAULT_SENTINEL_DIAL_TIMEOUT: Duration = Duration::from_millis(2000);
/// LiveKit's default `read_timeout` and `write_timeout` for Sentinel: 200 ms.
pub const DEFAULT_SENTINEL_READ_WRITE_TIMEOUT: Duration = Duration::from_millis(200);

/// How LiveKit reaches Redis: the `redis:` block of its config, with the mode resolved.
///
/// `Debug` shows every setting but the passwords.
#[derive(Clone)]
pub struct RedisConfig {
    mode: RedisMode,
    username: Option<String>,
    password: Option<Password>,
    db: u32,
    tls: Option<TlsConfig>,
    dial_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    pool_size: Option<u32>,
    pool_timeout: Option<Duration>,
}

/// Which Redis deployment LiveKit connects to, chosen in LiveKit's order: Sentinel when
/// `sentinel_addresses` is set, else Cluster when `cluster_addresses` is, else one server.
///
/// Addresses are `host:port` (`[::1]:6379` for IPv6), as written.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RedisMode {
    /// One Redis server (`address`).
    #[non_exhaustive]
    Standalone {
        /// `address`.
        address: String,
    },
    /// A master found through Redis Sentinel. The sentinels are asked with their own
    /// credentials and database 0; the master is reached with [`RedisConfig::username`],
    /// [`RedisConfig::password`] and [`RedisConfig::db`].
    #[non_exhaustive]
    Sentinel {
        /// `sentinel_master_name`: the master the sentinels watch (never empty).
        master_name: String,
        /// `sentinel_addresses`: the sentinels.
        addresses: Vec<String>,
        /// `sentinel_username`, for the sentinels.
        username: Option<String>,
        /// `sentinel_password`, for the sentinels.
        password: Option<Password>,
    },
    /// A Redis Cluster, discovered from its seed nodes.
    #[non_exhaustive]
    Cluster {
        /// `cluster_addresses`: the seed nodes.
        addresses: Vec<String>,
        /// How many times LiveKit's client retries a command after a `MOVED`/`ASK` redirect or
        /// a network error: `max_redirects`, 2 when absent (LiveKit's default). As go-redis
        /// reads it, an explicit 0 is its own default, 3, and -1 is 0; this field holds the
        /// count that results.
        max_redirects: u32,
    },
}

/// A Redis password. `Debug` hides it; the memory is zeroed when it is dropped.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// The password, to hand to the Redis client.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// TLS to Redis, as livekit/protocol's `xtls.Config` sets it up: TLS 1.2 or later, the system's
/// root certificates unless [`ca_cert_file`](Self::ca_cert_file) replaces them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    insecure: bool,
    server_name: Option<String>,
    ca_cert_file: Option<PathBuf>,
    client_cert: Option<(PathBuf, PathBuf)>,
}

impl TlsConfig {
    /// `tls.insecure`: the server's certificate and name are not verified.
    #[must_use]
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// `tls.server_name`: the name to send (SNI) and to verify, instead of the host dialled.
    #[must_use]
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// `tls.ca_cert_file`: PEM root certificates that replace the system's.
    #[must_use]
    pub fn ca_cert_file(&self) -> Option<&Path> {
        self.ca_cert_file.as_deref()
    }

    /// `tls.client_cert_file`: the PEM client certificate to present.
    #[must_use]
    pub fn client_cert_file(&self) -> Option<&Path> {
        self.client_cert.as_ref().map(|(cert, _)| cert.as_path())
    }

    /// `tls.client_key_file`: the PEM private key of [`client_cert_file`](Self::client_cert_file).
    /// Set only with it: like LiveKit, a key without a certificate is not used.
    #[must_use]
    pub fn client_key_file(&self) -> Option<&Path> {
        self.client_cert.as_ref().map(|(_, key)| key.as_path())
    }
}

impl RedisConfig {
    /// The deployment and its addresses.
    #[must_use]
    pub fn mode(&self) -> &RedisMode {
        &self.mode
    }

    /// `username`, for the Redis servers (not the sentinels).
    #[must_use]
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// `password`, for the Redis servers (not the sentinels).
    #[must_use]
    pub fn password(&self) -> Option<&str> {
        self.password.as_ref().map(Password::as_str)
    }

    /// `db`; always 0 for a Cluster, which has only database 0 (LiveKit's client drops `db`
    /// there).
    #[must_use]
    pub fn db(&self) -> u32 {
        self.db
    }

    /// TLS, when `tls.enabled` or the deprecated `use_tls` is set (`use_tls` alone: TLS with the
    /// defaults, the rest of the `tls:` block unused, as in LiveKit).
    #[must_use]
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    /// The timeout for opening a connection. LiveKit passes `dial_timeout` (milliseconds) in
    /// Sentinel mode only, 2 s when 0 or absent; in the other modes it passes none and its client's
    /// default applies (go-redis: 5 s), so this is `None` there.
    #[must_use]
    pub fn dial_timeout(&self) -> Option<Duration> {
        self.dial_timeout
    }

    /// The timeout for reading a reply: `read_timeout` (milliseconds), Sentinel mode only,
    /// 200 ms when 0 or absent; `None` in the other modes (go-redis' default: 3 s).
    #[must_use]
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout
    }

    /// The timeout for writing a command: `write_timeout` (milliseconds), Sentinel mode only,
    /// 200 ms when 0 or absent; `None` in the other modes (go-redis: the read timeout).
    #[must_use]
    pub fn write_timeout(&self) -> Option<Duration> {
        self.write_timeout
    }

    /// `pool_size`, the most connections per node; `None` when 0 or absent (the client's default).
    #[must_use]
    pub fn pool_size(&self) -> Option<u32> {
        self.pool_size
    }

    /// `pool_timeout` (a Go duration such as `4s`), how long to wait for a free connection;
    /// `None` when 0 or absent (the client's default).
    #[must_use]
    pub fn pool_timeout(&self) -> Option<Duration> {
        self.pool_timeout
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("mode", &self.mode)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("db", &self.db)
            .field("tls", &self.tls)
            .field("dial_timeout", &self.dial_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("pool_size", &self.pool_size)
            .field("pool_timeout", &self.pool_timeout)
            .finish()
    }
}

/// The block as the participant state's [`RedisTopology`](crate::state::RedisTopology)
/// (feature `redis`).
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
impl RedisConfig {
    /// Where the participant state lives, as this block says: the
    /// [`RedisTopology`](crate::state::RedisTopology) of its mode, with its credentials, its
    /// database and its TLS (the certificate files read now). LiveKit's timeouts and pool
    /// settings are go-redis's and are not carried over: the state's own are
    /// [`RedisOptions`](crate::state::RedisOptions).
    ///
    /// ```
    /// use tower_livekit_auth::config::LiveKitConfig;
    ///
    /// let config = LiveKitConfig::from_yaml(
    ///     "redis:\n  cluster_addresses: [10.0.0.1:7000, 10.0.0.2:7000]\n  password: pw\n",
    /// )?;
    /// let topology = config.redis().unwrap().topology()?;
    /// assert_eq!(topology.kind(), "cluster");
    /// assert!(!format!("{topology:?}").contains("pw\""));
    /// # Ok::<(), tower_livekit_auth::config::ConfigError>(())
    /// ```
    pub fn topology(&self) -> Result<crate::state::RedisTopology, super::ConfigError> {
        use crate::state::RedisTopology;
        let refused = |err: crate::state::StateError| super::ConfigError::invalid(err);
        let topology = match &self.mode {
            RedisMode::Standalone { address } => RedisTopology::standalone(address),
            RedisMode::Sentinel {
                master_name,
                addresses,
                username,
                password,
            } => RedisTopology::sentinel(master_name, addresses).map(|topology| {
                topology.with_sentinel_credentials(
                    username.clone(),
                    password.as_ref().map(|p| p.as_str().to_owned()),
                )
            }),
            RedisMode::Cluster {
                addresses,
                max_redirects,
            } => RedisTopology::cluster(addresses)
                .map(|topology| topology.with_max_redirects(*max_redirects)),
        }
        .map_err(refused)?;
        let mut topology = topology.with_db(i64::from(self.db));
        if let Some(username) = &self.username {
            topology = topology.with_username(username.clone());
        }
        if let Some(password) = &self.password {
            topology = topology.with_password(password.as_str());
        }
        if let Some(tls) = &self.tls {
            topology = topology.with_tls(tls.redis_tls()?);
        }
        Ok(topology)
    }
}

#[cfg(feature = "redis")]
impl TlsConfig {
    /// The TLS of the participant state's connections, the certificate files read now.
    fn redis_tls(&self) -> Result<crate::state::RedisTls, super::ConfigError> {
        if self.server_name.is_some() {
            return Err(super::ConfigError::invalid(
                "redis.tls.server_name is not supported here (redis-rs checks the certificate \
                 against the address's host): put that name in the address instead",
            ));
        }
        let read = |setting: &str, path: &Path| {
            std::fs::read(path).map_err(|err| super::ConfigError::file(setting, path, err))
        };
        let mut tls = crate::state::RedisTls::new();
        if self.insecure {
            tls = tls.insecure();
        }
        if let Some(path) = &self.ca_cert_file {
            tls = tls.with_ca_pem(read("redis.tls.ca_cert_file", path)?);
        }
        if let Some((cert, key)) = &self.client_cert {
            tls = tls.with_client_pem(
                read("redis.tls.client_cert_file", cert)?,
                read("redis.tls.client_key_file", key)?,
            );
        }
        Ok(tls)
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

fn password(secret: Zeroizing<String>) -> Option<Password> {
    (!secret.is_empty()).then(|| Password(secret))
}

/// The `redis:` block as LiveKit uses it: `None` when Redis is not configured. The error says
/// which settings cannot work together.
pub(super) fn resolve(raw: RawRedis) -> Result<Option<RedisConfig>, String> {
    let RawRedis {
        address,
        username,
        password: redis_password,
        db,
        use_tls,
        tls,
        sentinel_master_name,
        sentinel_username,
        sentinel_password,
        sentinel_addresses,
        cluster_addresses,
        dial_timeout,
        read_timeout,
        write_timeout,
        max_redirects,
        pool_timeout,
        pool_size,
    } = raw;
    let millis = |ms: u64, default: Duration| match ms {
        0 => default,
        ms => Duration::from_millis(ms),
    };
    let (mode, db, timeouts) = if !sentinel_addresses.is_empty() {
        if sentinel_master_name.is_empty() {
            // go-redis would then treat the sentinels as Redis servers (one, or a cluster).
            return Err(
                "redis.sentinel_addresses is set but redis.sentinel_master_name is \
                        not: name the master the sentinels watch"
                    .to_owned(),
            );
        }
        let mode = RedisMode::Sentinel {
            master_name: sentinel_master_name,
            addresses: sentinel_addresses,
            username: non_empty(sentinel_username),
            password: password(sentinel_password),
        };
        let timeouts = (
            Some(millis(dial_timeout, DEFAULT_SENTINEL_DIAL_TIMEOUT)),
            Some(millis(read_timeout, DEFAULT_SENTINEL_READ_WRITE_TIMEOUT)),
            Some(millis(write_timeout, DEFAULT_SENTINEL_READ_WRITE_TIMEOUT)),
        );
        (mode, db, timeouts)
    } else if !cluster_addresses.is_empty() {
        let max_redirects = match max_redirects {
            None => DEFAULT_MAX_REDIRECTS,
            Some(0) => 3,
            Some(-1) => 0,
            Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
        };
        let mode = RedisMode::Cluster {
            addresses: cluster_addresses,
            max_redirects,
        };
        (mode, 0, (None, None, None))
    } else if !address.is_empty() {
        (RedisMode::Standalone { address }, db, (None, None, None))
    } else {
        return Ok(None);
    };
    let tls = match tls {
        Some(tls) if tls.enabled => Some(tls_config(tls)?),
        _ if use_tls => Some(TlsConfig::default()),
        _ => None,
    };
    let (dial_timeout, read_timeout, write_timeout) = timeouts;
    Ok(Some(RedisConfig {
        mode,
        username: non_empty(username),
        password: password(redis_password),
        db,
        tls,
        dial_timeout,
        read_timeout,
        write_timeout,
        pool_size: (pool_size != 0).then_some(pool_size),
        pool_timeout: (pool_timeout != 0).then(|| Duration::from_nanos(pool_timeout)),
    }))
}

fn tls_config(raw: RawTls) -> Result<TlsConfig, String> {
    let path = |text: String| non_empty(text).map(PathBuf::from);
    let client_cert = match (path(raw.client_cert_file), path(raw.client_key_file)) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (Some(_), None) => {
            return Err(
                "redis.tls.client_cert_file is set without redis.tls.client_key_file: \
                        give the certificate's private key too"
                    .to_owned(),
            )
        }
        // LiveKit loads a client key only with its certificate.
        (None, _) => None,
    };
    Ok(TlsConfig {
        insecure: raw.insecure,
        server_name: non_empty(raw.server_name),
        ca_cert_file: path(raw.ca_cert_file),
        client_cert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigErrorKind, LiveKitConfig};

    fn redis(yaml: &str) -> RedisConfig {
        LiveKitConfig::from_yaml(yaml)
            .unwrap_or_else(|err| panic!("{yaml}: {err}"))
            .redis()
            .cloned()
            .expect("a Redis deployment")
    }

    #[test]
    fn standalone_block_with_tls_carries_everything_to_connect() {
        let redis = redis(
            "redis:\n  address: redis.host:6379\n  username: lk\n  password: pw\n  db: 3\n  \
             pool_size: 20\n  pool_timeout: 4s\n  dial_timeout: 900\n  tls:\n    enabled: true\n    \
             insecure: false\n    server_name: myserver.com\n    ca_cert_file: /path/to/ca.crt\n    \
             client_cert_file: /path/to/client.crt\n    client_key_file: /path/to/client.key\n",
        );
        let RedisMode::Standalone { address } = redis.mode() else {
            panic!("{redis:?}");
        };
        assert_eq!(address, "redis.host:6379");
        assert_eq!(redis.username(), Some("lk"));
        assert_eq!(redis.password(), Some("pw"));
        assert_eq!(redis.db(), 3);
        assert_eq!(redis.pool_size(), Some(20));
        assert_eq!(redis.pool_timeout(), Some(Duration::from_secs(4)));
        assert_eq!(
            redis.dial_timeout(),
            None,
            "LiveKit passes timeouts to Sentinel only"
        );
        let tls = redis.tls().expect("tls.enabled");
        assert!(!tls.insecure());
        assert_eq!(tls.server_name(), Some("myserver.com"));
        assert_eq!(tls.ca_cert_file(), Some(Path::new("/path/to/ca.crt")));
        assert_eq!(
            tls.client_cert_file(),
            Some(Path::new("/path/to/client.crt"))
        );
        assert_eq!(
            tls.client_key_file(),
            Some(Path::new("/path/to/client.key"))
        );
    }

    #[test]
    fn sentinel_block_has_its_own_credentials_and_livekits_timeouts() {
        let redis = redis(
            "redis:\n  sentinel_master_name: livekit\n  sentinel_addresses:\n  - s0:26379\n  \
             - s1:26379\n  sentinel_username: su\n  sentinel_password: sp\n  username: mu\n  \
             password: mp\n  db: 2\n  read_timeout: 500\n",
        );
        let RedisMode::Sentinel {
            master_name,
            addresses,
            username,
            password,
        } = redis.mode()
        else {
            panic!("{redis:?}");
        };
        assert_eq!(master_name, "livekit");
        assert_eq!(addresses, &["s0:26379", "s1:26379"]);
        assert_eq!(username.as_deref(), Some("su"));
        assert_eq!(password.as_ref().map(Password::as_str), Some("sp"));
        assert_eq!(
            (redis.username(), redis.password()),
            (Some("mu"), Some("mp"))
        );
        assert_eq!(redis.db(), 2);
        assert_eq!(redis.dial_timeout(), Some(DEFAULT_SENTINEL_DIAL_TIMEOUT));
        assert_eq!(redis.read_timeout(), Some(Duration::from_millis(500)));
        assert_eq!(redis.write_timeout(), Some(Duration::from_millis(200)));
        assert!(redis.tls().is_none());
    }

    #[test]
    fn cluster_block_drops_db_and_reads_max_redirects_as_go_redis_does() {
        let block = "redis:\n  cluster_addresses: [c0:6379, c1:6380]\n  db: 5\n  password: pw\n";
        for (extra, expected) in [
            ("", 2),
            ("  max_redirects: 5\n", 5),
            ("  max_redirects: 0\n", 3),
            ("  max_redirects: -1\n", 0),
        ] {
            let redis = redis(&format!("{block}{extra}"));
            let RedisMode::Cluster {
                addresses,
                max_redirects,
            } = redis.mode()
            else {
                panic!("{redis:?}");
            };
            assert_eq!(addresses, &["c0:6379", "c1:6380"]);
            assert_eq!(*max_redirects, expected, "{extra:?}");
            assert_eq!(redis.db(), 0, "a Cluster has database 0 only");
            assert_eq!(redis.password(), Some("pw"));
            assert_eq!(redis.dial_timeout(), None);
        }
    }

    #[test]
    fn sentinel_wins_over_cluster_which_wins_over_address() {
        let all = "redis:\n  address: a:6379\n  cluster_addresses: [c:6379]\n  \
                   sentinel_master_name: m\n  sentinel_addresses: [s:26379]\n";
        assert!(matches!(redis(all).mode(), RedisMode::Sentinel { .. }));
        let two = "redis:\n  address: a:6379\n  cluster_addresses: [c:6379]\n";
        assert!(matches!(redis(two).mode(), RedisMode::Cluster { .. }));
        let empty_lists = "redis:\n  address: a:6379\n  cluster_addresses: []\n  \
                           sentinel_addresses: []\n";
        assert!(matches!(
            redis(empty_lists).mode(),
            RedisMode::Standalone { .. }
        ));
    }

    #[test]
    fn no_address_of_any_kind_is_no_redis() {
        for yaml in [
            "",
            "redis:\n  password: pw\n  db: 1\n",
            "redis:\n  address: ''\n",
        ] {
            let config = LiveKitConfig::from_yaml(yaml).expect("reads");
            assert!(config.redis().is_none(), "{yaml:?}");
        }
    }

    #[test]
    fn use_tls_alone_is_tls_with_the_defaults() {
        let redis_tls = |block: &str| {
            redis(&format!("redis:\n  address: a:6379\n{block}"))
                .tls()
                .cloned()
        };
        assert_eq!(redis_tls("  use_tls: true\n"), Some(TlsConfig::default()));
        assert_eq!(
            redis_tls("  use_tls: true\n  tls: {enabled: false, insecure: true}\n"),
            Some(TlsConfig::default()),
            "a disabled tls: block is not read"
        );
        assert_eq!(redis_tls("  tls: {insecure: true}\n"), None, "not enabled");
        let both = redis_tls("  use_tls: true\n  tls: {enabled: true, insecure: true}\n");
        assert!(
            both.expect("tls").insecure(),
            "tls.enabled wins over use_tls"
        );
    }

    #[test]
    fn a_client_key_without_its_certificate_is_unused_and_the_reverse_is_an_error() {
        let key_only = "redis:\n  address: a:6379\n  tls: {enabled: true, client_key_file: /k}\n";
        let tls = redis(key_only).tls().cloned().expect("tls");
        assert_eq!(
            (tls.client_cert_file(), tls.client_key_file()),
            (None, None)
        );
        let cert_only = "redis:\n  address: a:6379\n  tls: {enabled: true, client_cert_file: /c}\n";
        let err = LiveKitConfig::from_yaml(cert_only).expect_err("no key");
        assert_eq!(err.kind(), ConfigErrorKind::Invalid);
        assert!(err.to_string().contains("client_key_file"), "{err}");
    }

    #[test]
    fn sentinel_addresses_without_a_master_name_are_an_error() {
        let err = LiveKitConfig::from_yaml("redis:\n  sentinel_addresses: [s:26379]\n")
            .expect_err("no master");
        assert_eq!(err.kind(), ConfigErrorKind::Invalid);
        assert!(err.to_string().contains("sentinel_master_name"), "{err}");
    }

    #[test]
    fn debug_shows_the_settings_but_no_password() {
        let redis = redis(
            "redis:\n  sentinel_master_name: m\n  sentinel_addresses: [s:26379]\n  \
             sentinel_password: sentinel-secret\n  password: master-secret\n",
        );
        let debug = format!("{redis:?}");
        assert!(
            debug.contains("s:26379") && debug.contains("<redacted>"),
            "{debug}"
        );
        assert!(!debug.contains("sentinel-secret"), "{debug}");
        assert!(!debug.contains("master-secret"), "{debug}");
    }

    #[cfg(feature = "redis")]
    #[test]
    fn each_mode_becomes_its_topology_without_showing_a_password() {
        for (yaml, kind) in [
            ("redis:\n  address: ':6379'\n  password: mp\n", "standalone"),
            (
                "redis:\n  sentinel_master_name: m\n  sentinel_addresses: ['[::1]:26379']\n  \
                 sentinel_username: su\n  sentinel_password: sp\n  username: mu\n  password: mp\n  \
                 db: 4\n  tls: {enabled: true, insecure: true}\n",
                "sentinel",
            ),
            (
                "redis:\n  cluster_addresses: [c1:7000, c2:7000]\n  password: mp\n",
                "cluster",
            ),
        ] {
            let topology = redis(yaml).topology().expect(kind);
            assert_eq!(topology.kind(), kind);
            let settings = topology.settings();
            let expected = match kind {
                "standalone" => {
                    "standalone localhost:6379; user None password Some(\"mp\") db 0; tls None"
                }
                "sentinel" => {
                    "sentinel m [(\"::1\", 26379)] as Some(\"su\")/Some(\"sp\"); user Some(\"mu\") \
                     password Some(\"mp\") db 4; tls Some(\"insecure true ca None cert None key None\")"
                }
                _ => {
                    "cluster [(\"c1\", 7000), (\"c2\", 7000)] redirects 2; user None password \
                     Some(\"mp\") db 0; tls None"
                }
            };
            assert_eq!(settings, expected);
            let debug = format!("{topology:?}");
            assert!(
                !debug.contains("mp\"") && !debug.contains("sp\""),
                "{debug}"
            );
        }
        let named = "redis:\n  address: a:6379\n  tls: {enabled: true, server_name: other}\n";
        let err = redis(named).topology().expect_err("server_name");
        assert_eq!(err.kind(), ConfigErrorKind::Invalid);
        assert!(err.to_string().contains("server_name"), "{err}");
    }

    #[cfg(feature = "redis")]
    #[test]
    fn tls_certificates_are_read_from_the_files_the_config_names() {
        let dir = std::env::temp_dir().join(format!("tlka-config-{}-tls", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        for (name, body) in [
            ("ca.pem", "CA"),
            ("client.pem", "CERT"),
            ("client.key", "KEY"),
        ] {
            std::fs::write(dir.join(name), body).expect("write");
        }
        let yaml = format!(
            "redis:\n  address: a:6379\n  tls:\n    enabled: true\n    ca_cert_file: {0}/ca.pem\n    \
             client_cert_file: {0}/client.pem\n    client_key_file: {0}/client.key\n",
            dir.display()
        );
        let config = redis(&yaml);
        let settings = config.topology().expect("the files are read").settings();
        assert!(
            settings.ends_with(
                "tls Some(\"insecure false ca Some(\\\"CA\\\") cert Some(\\\"CERT\\\") \
                 key Some(\\\"KEY\\\")\")"
            ),
            "{settings}"
        );
        std::fs::remove_file(dir.join("client.key")).expect("remove");
        let err = config.topology().expect_err("key gone");
        assert_eq!(err.kind(), ConfigErrorKind::Io);
        assert!(
            err.to_string().contains("redis.tls.client_key_file"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
