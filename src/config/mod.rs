//! [`LiveKitConfig`]: the settings of `livekit-server`'s own config file that this crate uses,
//! read as `livekit-server` reads them.
//!
//! A team that runs LiveKit already has this file. From it come the API keys (`keys:`, or
//! `key_file:`), the Redis deployment LiveKit shares its state through (`redis:`: one server,
//! Sentinel or Cluster) and the size limits on names, metadata and attributes (`limit:`). Every
//! other key is ignored: the file carries far more than this crate reads.
//!
//! ```
//! use std::time::Duration;
//! use tower_livekit_auth::config::{LiveKitConfig, RedisMode};
//! use tower_livekit_auth::limits::Limit;
//!
//! let yaml = r#"
//! port: 7880
//! keys:
//!   APIabcdefg: somesecretencodedinbase62extendto32bytes
//! redis:
//!   sentinel_master_name: livekit
//!   sentinel_addresses:
//!     - 10.0.0.1:26379
//!     - 10.0.0.2:26379
//!   password: redis-password
//! limit:
//!   max_metadata_size: 4096
//! "#;
//! let config = LiveKitConfig::from_yaml(yaml)?;
//!
//! let keys = config.key_ring()?;
//! assert!(keys.contains("APIabcdefg"));
//! assert_eq!(config.limits().max(Limit::MetadataSize), 4096);
//!
//! let redis = config.redis().expect("a redis: block");
//! let RedisMode::Sentinel { master_name, addresses, .. } = redis.mode() else {
//!     panic!("sentinel_addresses makes it Sentinel");
//! };
//! assert_eq!((master_name.as_str(), addresses.len()), ("livekit", 2));
//! assert_eq!(redis.password(), Some("redis-password"));
//! assert_eq!(redis.dial_timeout(), Some(Duration::from_secs(2))); // LiveKit's default
//! assert!(!format!("{config:?}").contains("redis-password"));
//!
//! // In a container: the whole file in LIVEKIT_CONFIG, and REDIS_HOST, as livekit-server
//! // reads them. Pass `|name| std::env::var(name).ok()`, or use `from_env()`.
//! let env = |name: &str| match name {
//!     "LIVEKIT_CONFIG" => Some(yaml.to_owned()),
//!     "REDIS_HOST" => Some("redis.internal:6379".to_owned()),
//!     _ => None,
//! };
//! let config = LiveKitConfig::load_with(None, env)?;
//! // REDIS_HOST sets `redis.address`, but the sentinels still come first, as in LiveKit.
//! assert!(matches!(config.redis().unwrap().mode(), RedisMode::Sentinel { .. }));
//!
//! // A wrong type names the key and what it takes.
//! let err = LiveKitConfig::from_yaml("redis:\n  db: first\n").unwrap_err();
//! assert!(err.to_string().contains("redis.db: expected an integer"), "{err}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is read, and LiveKit's precedence
//!
//! As `livekit-server` (`cmd/server/main.go`, `pkg/config/config.go`):
//!
//! 1. The YAML: `LIVEKIT_CONFIG` when it is set and non-empty, otherwise the file given to
//!    `--config` ([`load`](LiveKitConfig::load)), otherwise nothing (the defaults).
//! 2. The environment over it: one `LIVEKIT_<PATH>` variable per scalar setting
//!    (`LIVEKIT_REDIS_DB`, `LIVEKIT_LIMIT_MAX_METADATA_SIZE`, `LIVEKIT_KEY_FILE`, ...), then
//!    `LIVEKIT_KEYS` (which replaces `keys:`), `REDIS_HOST` (`redis.address`) and
//!    `REDIS_PASSWORD` (`redis.password`). A variable that is set counts even when empty, as in
//!    `livekit-server`: `REDIS_HOST=` clears the address.
//! 3. `$VAR`, `${VAR}` and a leading `~` in `key_file` are expanded (`os.ExpandEnv`, then
//!    go-homedir; `HOME` gives the home directory).
//! 4. `room.max_metadata_size`, `room.max_room_name_length` and
//!    `room.max_participant_identity_length` (deprecated) win over `limit:`'s when non-zero.
//! 5. `development: true` (or `LIVEKIT_DEVELOPMENT`) with no keys means `devkey: secret`.
//! 6. [`key_ring`](LiveKitConfig::key_ring): `key_file` wins over `keys`; the file must grant no
//!    permission to others.
//! 7. [`redis`](LiveKitConfig::redis): `sentinel_addresses` → Sentinel, else
//!    `cluster_addresses` → Cluster, else `address`, else no Redis.
//!
//! The environment is read only by [`from_env`](LiveKitConfig::from_env),
//! [`load`](LiveKitConfig::load) and [`load_with`](LiveKitConfig::load_with) (which takes it
//! as a function, for tests and for applications that keep their own);
//! [`from_yaml`](LiveKitConfig::from_yaml) and [`from_file`](LiveKitConfig::from_file) read the
//! text alone, `key_file` as written.
//!
//! Values are decoded as yaml.v3 decodes them into LiveKit's Go types: a secret or a password
//! is the scalar's text as written (`password: 0123` is `0123`, not 123), integers take
//! `0x`, `0o` and `_`, booleans take YAML 1.1's `yes`/`no`/`on`/`off`, `pool_timeout` is a Go
//! duration (`4s`). A value of the wrong type is an error naming its key path and what it takes;
//! no error and no `Debug` output shows a secret or a password.
//!
//! # Where this differs from `livekit-server`
//!
//! - Unknown keys are ignored (`livekit-server` refuses them unless started with
//!   `--disable-strict-config`): this crate reads a few settings of a file made for another
//!   program.
//! - Secrets shorter than 32 bytes: `livekit-server` logs an error and accepts them;
//!   [`key_ring`](LiveKitConfig::key_ring) refuses them, and
//!   [`key_ring_allowing_weak_secrets`](LiveKitConfig::key_ring_allowing_weak_secrets) is the
//!   explicit opt-in (LiveKit's development key `devkey: secret` needs it). Keys and secrets are
//!   trimmed, as [`KeyRing::from_yaml`] trims them.
//! - Values `livekit-server` would accept but could not use are refused: a negative `db`,
//!   `pool_size`, timeout or limit (a negative limit refuses every name in LiveKit), a `db` or
//!   `pool_size` past 2³²−1, a fractional number in an integer setting (Go truncates it), an
//!   environment variable's number past its setting's Go type (Go wraps it), Sentinel addresses
//!   without `sentinel_master_name` (go-redis would take the sentinels for Redis servers), a
//!   client certificate without its key, an empty entry in an address list.
//! - In `LIVEKIT_KEYS`, a secret that YAML reads as a number (`key: 12345`) is kept as written,
//!   as in `keys:`; `livekit-server` drops it there.
//! - YAML merge keys (`<<`) in the sections read here are refused: serde_norway does not apply
//!   them, and dropping them would lose settings silently.
//! - `~` in `key_file` needs `HOME` (go-homedir also asks the password database).
//! - Command-line flags (`--keys`, `--key-file`, `--redis-host`, ...) are the application's to
//!   handle; the environment variables that stand for them are read. The SDKs'
//!   `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` are not (`livekit-server` does not read them;
//!   [`KeyRing::from_env`] does).
//! - A quoted number (`db: "1"`) is read as the number: serde_norway does not say whether a
//!   scalar was quoted. yaml.v3 refuses it.

mod env;
mod error;
mod go;
mod redis;
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use self::error::Origin;
pub use self::error::{ConfigError, ConfigErrorKind};
pub use self::redis::{
    Password, RedisConfig, RedisMode, TlsConfig, DEFAULT_MAX_REDIRECTS,
    DEFAULT_SENTINEL_DIAL_TIMEOUT, DEFAULT_SENTINEL_READ_WRITE_TIMEOUT,
};
use self::yaml::{RawConfig, RawLimit, RawRoom};
use crate::keys::KeyRing;
use crate::limits::Limits;
use crate::state::{ParticipantState, StateOptions};

/// An environment: the value of a variable, `None` when it is unset.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// LiveKit's development key, used when `development: true` and no key is configured.
const DEV_KEY: (&str, &str) = ("devkey", "secret");

/// What this crate uses of `livekit-server`'s config: the API keys, the Redis deployment and
/// the size limits. See the [module documentation](self) for what is read, and in which order.
///
/// `Debug` lists the API keys, never a secret or a password.
#[derive(Clone)]
pub struct LiveKitConfig {
    /// `keys:` (or `LIVEKIT_KEYS`, or the development key), in file order.
    keys: Vec<(String, Zeroizing<String>)>,
    key_file: Option<PathBuf>,
    development: bool,
    redis: Option<RedisConfig>,
    limits: Limits,
}

impl LiveKitConfig {
    /// Reads a config's YAML text, without the environment (`key_file` as written). An empty
    /// text is LiveKit's defaults.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        Self::read(text, &Origin::Text, None)
    }

    /// Reads a config file (`livekit-server --config FILE`), without the environment.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = read_file(path)?;
        Self::read(&text, &Origin::File(path.to_owned()), None)
    }

    /// Reads the config as `livekit-server` does without `--config`: the YAML in
    /// `LIVEKIT_CONFIG` (or none), then the process environment's overrides.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load_with(None, |name| std::env::var(name).ok())
    }

    /// Reads the config as `livekit-server --config FILE` does: the YAML in `LIVEKIT_CONFIG`
    /// when that is set and non-empty (the file is then not read), otherwise the file; then the
    /// process environment's overrides.
    pub fn load(config_file: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::load_with(Some(config_file.as_ref()), |name| std::env::var(name).ok())
    }

    /// [`load`](Self::load) (or, without a file, [`from_env`](Self::from_env)) with the
    /// environment read through `env`: pass `|name| std::env::var(name).ok()`, or a map.
    pub fn load_with(
        config_file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env: Lookup<'_> = &env;
        let (text, origin) = match env("LIVEKIT_CONFIG").filter(|body| !body.is_empty()) {
            Some(body) => (Zeroizing::new(body), Origin::Env),
            None => match config_file {
                Some(path) => (read_file(path)?, Origin::File(path.to_owned())),
                None => (Zeroizing::new(String::new()), Origin::Text),
            },
        };
        Self::read(&text, &origin, Some(env))
    }

    fn read(text: &str, origin: &Origin, env: Option<Lookup<'_>>) -> Result<Self, ConfigError> {
        let mut raw = yaml::parse(text).map_err(|err| {
            if err.syntax {
                ConfigError::syntax(origin, &err.message)
            } else {
                ConfigError::wrong_type(origin, &err.message)
            }
        })?;
        if let Some(env) = env {
            env::apply(&mut raw, env)?;
        }
        Self::resolve(raw, env)
    }

    /// Applies what livekit-server does after reading: `key_file` expansion, the deprecated
    /// limits, the development key, the Redis mode.
    fn resolve(raw: RawConfig, env: Option<Lookup<'_>>) -> Result<Self, ConfigError> {
        let RawConfig {
            mut keys,
            key_file,
            development,
            redis,
            limit,
            room,
        } = raw;
        let key_file = match env {
            Some(env) => go::expand_home(go::expand_env(&key_file, env), env)
                .map_err(|why| ConfigError::invalid(format!("key_file: {why}")))?,
            None => key_file,
        };
        if development && keys.is_empty() {
            keys.push((DEV_KEY.0.to_owned(), Zeroizing::new(DEV_KEY.1.to_owned())));
        }
        Ok(LiveKitConfig {
            keys,
            key_file: (!key_file.is_empty()).then(|| PathBuf::from(key_file)),
            development,
            redis: redis::resolve(redis).map_err(ConfigError::invalid)?,
            limits: limits(limit, room),
        })
    }

    /// The API keys of `keys:` (or `LIVEKIT_KEYS`, or the development key), in order. When a
    /// [`key_file`](Self::key_file) is set, its keys are used instead.
    pub fn api_keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(key, _)| key.as_str())
    }

    /// `key_file`: the YAML `key: secret` file that wins over `keys:`.
    #[must_use]
    pub fn key_file(&self) -> Option<&Path> {
        self.key_file.as_deref()
    }

    /// `development`: LiveKit's development mode.
    #[must_use]
    pub fn is_development(&self) -> bool {
        self.development
    }

    /// The Redis deployment, `None` when the config has none (LiveKit then keeps its state in
    /// memory, on one node).
    #[must_use]
    pub fn redis(&self) -> Option<&RedisConfig> {
        self.redis.as_ref()
    }

    /// `limit:`'s sizes, LiveKit's defaults for those not given.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The API keys as a [`KeyRing`]: from `key_file` when it is set (the file must grant no
    /// permission to others), else from `keys:`. Secrets shorter than
    /// [`MIN_SECRET_LEN`](crate::keys::MIN_SECRET_LEN) bytes are refused; see
    /// [`key_ring_allowing_weak_secrets`](Self::key_ring_allowing_weak_secrets).
    pub fn key_ring(&self) -> Result<KeyRing, ConfigError> {
        self.fill(KeyRing::new())
    }

    /// [`key_ring`](Self::key_ring), accepting short secrets, as `livekit-server` does (it
    /// logs an error for each). For development keys such as `devkey: secret` only: a short
    /// secret can be brute-forced from one token.
    pub fn key_ring_allowing_weak_secrets(&self) -> Result<KeyRing, ConfigError> {
        self.fill(KeyRing::allowing_weak_secrets())
    }

    /// The participant state this config describes, in one call: shared through the Redis
    /// of the `redis:` block (one server, Sentinel or Cluster, with its credentials and TLS;
    /// feature `redis`), or in this process when there is no such block; either way with
    /// `limit:`'s sizes. `options` gives the rest (retention, bounds, leeway, clock).
    ///
    /// ```
    /// use tower_livekit_auth::config::LiveKitConfig;
    /// use tower_livekit_auth::limits::Limit;
    /// use tower_livekit_auth::state::StateOptions;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = LiveKitConfig::from_yaml("keys: {}\nlimit:\n  max_metadata_size: 1024\n")?;
    /// let state = config.participant_state(StateOptions::new()).await?;
    /// assert_eq!(state.options().limits().max(Limit::MetadataSize), 1024);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn participant_state(
        &self,
        options: StateOptions,
    ) -> Result<ParticipantState, ConfigError> {
        // Not a call of `participant_state_with`: one async layer more takes the future past
        // rustc's default query depth in the caller's crate (this doc test showed it).
        let options = options.with_limits(self.limits);
        match &self.redis {
            None => Ok(ParticipantState::in_memory(options)),
            #[cfg(feature = "redis")]
            Some(redis) => {
                let topology = redis.topology()?;
                ParticipantState::redis_on(&topology, options, crate::state::RedisOptions::new())
                    .await
                    .map_err(ConfigError::state)
            }
            #[cfg(not(feature = "redis"))]
            Some(_) => Err(ConfigError::invalid(
                "the config has a `redis:` block, and this build has no Redis support: enable \
                 tower-livekit-auth's `redis` feature",
            )),
        }
    }

    /// [`participant_state`](Self::participant_state) with the Redis backend's own options
    /// (prefix, timeouts, fail-closed staleness, replica acknowledgements).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub async fn participant_state_with(
        &self,
        options: StateOptions,
        redis: crate::state::RedisOptions,
    ) -> Result<ParticipantState, ConfigError> {
        let options = options.with_limits(self.limits);
        match &self.redis {
            None => Ok(ParticipantState::in_memory(options)),
            Some(config) => ParticipantState::redis_on(&config.topology()?, options, redis)
                .await
                .map_err(ConfigError::state),
        }
    }

    fn fill(&self, ring: KeyRing) -> Result<KeyRing, ConfigError> {
        if let Some(path) = &self.key_file {
            return ring.with_file(path).map_err(ConfigError::keys);
        }
        if self.keys.is_empty() {
            return Err(ConfigError::no_keys());
        }
        let mut ring = ring;
        for (key, secret) in &self.keys {
            ring.insert(key.trim(), secret.trim())
                .map_err(ConfigError::keys)?;
        }
        Ok(ring)
    }
}

impl fmt::Debug for LiveKitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api_keys: Vec<&str> = self.api_keys().collect();
        f.debug_struct("LiveKitConfig")
            .field("api_keys", &api_keys)
            .field("key_file", &self.key_file)
            .field("development", &self.development)
            .field("redis", &self.redis)
            .field("limits", &self.limits)
            .finish()
    }
}

fn read_file(path: &Path) -> Result<Zeroizing<String>, ConfigError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|err| ConfigError::io(path, err))
}

/// `limit:`, with the deprecated `room:` limits copied over it when non-zero
/// (`config.NewConfig`).
fn limits(mut limit: RawLimit, room: RawRoom) -> Limits {
    if room.max_metadata_size != 0 {
        limit.max_metadata_size = room.max_metadata_size;
    }
    if room.max_room_name_length != 0 {
        limit.max_room_name_length = room.max_room_name_length;
    }
    if room.max_participant_identity_length != 0 {
        limit.max_participant_identity_length = room.max_participant_identity_length;
    }
    // A limit past the address space is no limit in practice.
    let size = |bytes: u64| usize::try_from(bytes).unwrap_or(usize::MAX);
    Limits::new()
        .with_max_metadata_size(size(limit.max_metadata_size))
        .with_max_attributes_size(size(limit.max_attributes_size))
        .with_max_room_name_length(size(limit.max_room_name_length))
        .with_max_participant_identity_length(size(limit.max_participant_identity_length))
        .with_max_participant_name_length(size(limit.max_participant_name_length))
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::keys::{KeyError, KeyErrorKind};
    use crate::limits::Limit;

    /// LiveKit's own sample config (livekit/livekit `config-sample.yaml`), unchanged.
    const SAMPLE: &str = include_str!("../../tests/fixtures/livekit/config-sample.yaml");
    const STRONG: &str = "somesecretencodedinbase62extendto32bytes";

    use crate::keys::env_of as env;

    /// A directory of this test's own, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("tlka-config-{}-{test}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }

        /// Writes `name` with `mode` (Unix permissions).
        fn file(&self, name: &str, text: &str, mode: u32) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, text).expect("write");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                    .expect("chmod");
            }
            #[cfg(not(unix))]
            let _ = mode;
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The sample with some of its commented lines switched on, as its comments describe:
    /// each entry is a commented line's text after `  # `.
    fn uncomment(text: &str, lines: &[&str]) -> String {
        let mut text = text.to_owned();
        for line in lines {
            let commented = format!("\n  # {line}\n");
            assert!(
                text.contains(&commented),
                "the sample has no line {commented:?}"
            );
            text = text.replacen(&commented, &format!("\n  {line}\n"), 1);
        }
        text
    }

    fn without_address(text: &str) -> String {
        let line = "\n  address: redis.host:6379\n";
        assert!(text.contains(line));
        text.replacen(line, "\n", 1)
    }

    fn api_keys(ring: &KeyRing) -> Vec<&str> {
        ring.api_keys().collect()
    }

    #[test]
    fn livekits_sample_config_is_read_unchanged() {
        let config = LiveKitConfig::from_yaml(SAMPLE).expect("the sample parses");
        assert_eq!(config.api_keys().collect::<Vec<_>>(), ["key1", "key2"]);
        assert_eq!(config.key_file(), None);
        assert!(!config.is_development());
        let redis = config.redis().expect("the sample has redis:");
        let RedisMode::Standalone { address } = redis.mode() else {
            panic!("{redis:?}");
        };
        assert_eq!(address, "redis.host:6379");
        assert_eq!((redis.db(), redis.password(), redis.tls()), (0, None, None));
        assert_eq!(config.limits(), Limits::new(), "limit: is commented out");

        // Its secrets (secret1, secret2) are development ones.
        let err = config.key_ring().expect_err("weak secrets");
        assert_eq!(err.kind(), ConfigErrorKind::Keys);
        let ring = config.key_ring_allowing_weak_secrets().expect("opt-in");
        assert_eq!(api_keys(&ring), ["key1", "key2"]);
    }

    #[test]
    fn the_sample_works_in_each_redis_mode_as_its_comments_describe() {
        let credentials = ["db: 0", "username: myuser", "password: mypassword"];
        let sentinel = uncomment(
            &without_address(SAMPLE),
            &[
                "sentinel_master_name: livekit",
                "sentinel_addresses:",
                "- livekit-redis-node-0.livekit-redis-headless:26379",
                "- livekit-redis-node-1.livekit-redis-headless:26379",
                "sentinel_username: user",
                "sentinel_password: pass",
            ],
        );
        let sentinel = uncomment(&sentinel, &credentials);
        let config = LiveKitConfig::from_yaml(&sentinel).expect("sentinel sample");
        let redis = config.redis().expect("redis");
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
        assert_eq!(addresses.len(), 2);
        assert_eq!(username.as_deref(), Some("user"));
        assert_eq!(password.as_ref().map(Password::as_str), Some("pass"));
        assert_eq!(
            (redis.username(), redis.password()),
            (Some("myuser"), Some("mypassword"))
        );

        let cluster = uncomment(
            &without_address(SAMPLE),
            &[
                "cluster_addresses:",
                "- livekit-redis-node-0.livekit-redis-headless:6379",
                "- livekit-redis-node-1.livekit-redis-headless:6380",
            ],
        );
        let cluster = uncomment(&cluster, &credentials);
        let config = LiveKitConfig::from_yaml(&cluster).expect("cluster sample");
        let redis = config.redis().expect("redis");
        assert!(
            matches!(redis.mode(), RedisMode::Cluster { addresses, max_redirects: 2 } if addresses.len() == 2),
            "{redis:?}"
        );
        assert_eq!(
            redis.password(),
            Some("mypassword"),
            "the cluster's password"
        );

        let tls = uncomment(
            SAMPLE,
            &[
                "tls:",
                "  enabled: true",
                "  insecure: false",
                "  server_name: myserver.com",
                "  ca_cert_file: /path/to/ca.crt",
                "  client_cert_file: /path/to/client.crt",
                "  client_key_file: /path/to/client.key",
            ],
        );
        let config = LiveKitConfig::from_yaml(&tls).expect("TLS sample");
        let redis = config.redis().expect("redis");
        assert!(matches!(redis.mode(), RedisMode::Standalone { .. }));
        let tls = redis.tls().expect("tls");
        assert_eq!(tls.server_name(), Some("myserver.com"));
        assert_eq!(
            tls.client_key_file(),
            Some(Path::new("/path/to/client.key"))
        );
    }

    #[test]
    fn livekit_config_holds_the_whole_file_and_wins_over_the_file() {
        let body = format!("keys:\n  APIbody: {STRONG}\n");
        let vars = [("LIVEKIT_CONFIG", body.as_str())];
        let missing = Path::new("/nonexistent/livekit.yaml");
        let config = LiveKitConfig::load_with(Some(missing), env(&vars)).expect("body, not file");
        assert_eq!(config.api_keys().collect::<Vec<_>>(), ["APIbody"]);

        let dir = TempDir::new("livekit-config");
        let file = dir.file(
            "livekit.yaml",
            &format!("keys:\n  APIfile: {STRONG}\n"),
            0o600,
        );
        let config = LiveKitConfig::load_with(Some(&file), env(&vars)).expect("body");
        assert_eq!(config.api_keys().collect::<Vec<_>>(), ["APIbody"]);
        let empty = [("LIVEKIT_CONFIG", "")];
        let config = LiveKitConfig::load_with(Some(&file), env(&empty)).expect("file");
        assert_eq!(
            config.api_keys().collect::<Vec<_>>(),
            ["APIfile"],
            "empty: the file"
        );
        let config = LiveKitConfig::load_with(None, env(&[])).expect("defaults");
        assert!(config.redis().is_none() && config.api_keys().next().is_none());
    }

    #[test]
    fn environment_overrides_apply_over_livekit_config_and_over_a_file() {
        let file = format!("keys:\n  APIfile: {STRONG}\nredis:\n  address: file:6379\n");
        let vars = [
            ("LIVEKIT_CONFIG", file.as_str()),
            ("REDIS_HOST", "env:6379"),
            ("REDIS_PASSWORD", "env-password"),
        ];
        let config = LiveKitConfig::load_with(None, env(&vars)).expect("config");
        let redis = config.redis().expect("redis");
        assert!(matches!(redis.mode(), RedisMode::Standalone { address } if address == "env:6379"));
        assert_eq!(redis.password(), Some("env-password"));

        let dir = TempDir::new("overrides");
        let path = dir.file("livekit.yaml", &file, 0o600);
        let config = LiveKitConfig::load_with(Some(&path), env(&vars[1..])).expect("file");
        assert!(
            matches!(config.redis().expect("redis").mode(), RedisMode::Standalone { address } if address == "env:6379")
        );
        let plain = LiveKitConfig::from_file(&path).expect("no environment");
        assert!(
            matches!(plain.redis().expect("redis").mode(), RedisMode::Standalone { address } if address == "file:6379")
        );

        // The environment alone makes a config, as for livekit-server without --config.
        let only_env = [
            ("LIVEKIT_KEYS", "APIenv: 0123456789abcdef0123456789abcdef"),
            ("REDIS_HOST", "r:6379"),
        ];
        let config = LiveKitConfig::load_with(None, env(&only_env)).expect("env");
        assert_eq!(api_keys(&config.key_ring().expect("ring")), ["APIenv"]);
        assert!(config.redis().is_some());
    }

    #[test]
    fn key_file_wins_over_keys_and_livekit_keys() {
        let dir = TempDir::new("key-file-wins");
        let keys = dir.file("keys.yaml", &format!("APIfromfile: {STRONG}\n"), 0o600);
        let yaml = format!(
            "key_file: {}\nkeys:\n  APIinline: {STRONG}\n",
            keys.display()
        );
        let config = LiveKitConfig::from_yaml(&yaml).expect("config");
        assert_eq!(api_keys(&config.key_ring().expect("ring")), ["APIfromfile"]);
        let vars = [
            ("LIVEKIT_CONFIG", yaml.as_str()),
            ("LIVEKIT_KEYS", "APIenv: x"),
        ];
        let config = LiveKitConfig::load_with(None, env(&vars)).expect("config");
        assert_eq!(
            config.api_keys().collect::<Vec<_>>(),
            ["APIenv"],
            "replaced keys:"
        );
        assert_eq!(api_keys(&config.key_ring().expect("ring")), ["APIfromfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        let dir = TempDir::new("key-file-mode");
        let keys = dir.file("keys.yaml", &format!("APIk: {STRONG}\n"), 0o644);
        let config =
            LiveKitConfig::from_yaml(&format!("key_file: {}\n", keys.display())).expect("config");
        let err = config.key_ring().expect_err("mode 644");
        assert_eq!(err.kind(), ConfigErrorKind::Keys);
        let source = err
            .source()
            .and_then(|source| source.downcast_ref::<KeyError>())
            .expect("a KeyError");
        assert_eq!(source.kind(), KeyErrorKind::InsecureFile);
        assert!(err.to_string().contains("chmod 600"), "{err}");
        let mut group_only = keys.clone();
        group_only.set_file_name("group.yaml");
        let group = dir.file("group.yaml", &format!("APIk: {STRONG}\n"), 0o640);
        assert_eq!(group, group_only);
        let config =
            LiveKitConfig::from_yaml(&format!("key_file: {}\n", group.display())).expect("config");
        assert!(config.key_ring().is_ok(), "0640 grants nothing to others");
    }

    #[test]
    fn key_file_dollar_and_tilde_are_expanded_from_the_environment() {
        let dir = TempDir::new("key-file-expand");
        dir.file("keys.yaml", &format!("APIk: {STRONG}\n"), 0o600);
        let home = dir.0.display().to_string();
        let vars = [
            ("LIVEKIT_CONFIG", "key_file: ~/keys.yaml\n"),
            ("HOME", home.as_str()),
        ];
        let config = LiveKitConfig::load_with(None, env(&vars)).expect("config");
        assert_eq!(config.key_file(), Some(dir.0.join("keys.yaml").as_path()));
        assert_eq!(api_keys(&config.key_ring().expect("ring")), ["APIk"]);

        let vars = [
            ("LIVEKIT_CONFIG", "key_file: ${KEYS_DIR}/$KEYS_NAME.yaml\n"),
            ("KEYS_DIR", home.as_str()),
            ("KEYS_NAME", "keys"),
        ];
        let config = LiveKitConfig::load_with(None, env(&vars)).expect("config");
        assert_eq!(config.key_file(), Some(dir.0.join("keys.yaml").as_path()));

        let literal = LiveKitConfig::from_yaml("key_file: ~/keys.yaml\n").expect("config");
        assert_eq!(
            literal.key_file(),
            Some(Path::new("~/keys.yaml")),
            "no environment"
        );
        let no_home = [("LIVEKIT_CONFIG", "key_file: ~/keys.yaml\n")];
        let err = LiveKitConfig::load_with(None, env(&no_home)).expect_err("HOME unset");
        assert_eq!(err.kind(), ConfigErrorKind::Invalid);
        assert!(err.to_string().contains("HOME"), "{err}");
    }

    #[test]
    fn limits_are_livekits_defaults_then_limit_then_the_deprecated_room_ones() {
        let config = LiveKitConfig::from_yaml("port: 7880\n").expect("config");
        assert_eq!(config.limits(), Limits::new());
        let config = LiveKitConfig::from_yaml(
            "limit:\n  max_metadata_size: 100\n  max_attributes_size: 0\n  \
             max_room_name_length: 10\n  max_participant_identity_length: 11\n  \
             max_participant_name_length: 12\n",
        )
        .expect("config");
        let limits = config.limits();
        assert_eq!(limits.max(Limit::MetadataSize), 100);
        assert_eq!(
            limits.max(Limit::AttributesSize),
            0,
            "0: no limit, as in LiveKit"
        );
        assert_eq!(limits.max(Limit::RoomNameLength), 10);
        assert_eq!(limits.max(Limit::ParticipantIdentityLength), 11);
        assert_eq!(limits.max(Limit::ParticipantNameLength), 12);

        let legacy = "limit:\n  max_metadata_size: 100\n  max_room_name_length: 10\nroom:\n  \
                      max_metadata_size: 200\n  max_room_name_length: 0\n  \
                      max_participant_identity_length: 30\n";
        let limits = LiveKitConfig::from_yaml(legacy).expect("config").limits();
        assert_eq!(
            limits.max(Limit::MetadataSize),
            200,
            "room: wins when non-zero"
        );
        assert_eq!(
            limits.max(Limit::RoomNameLength),
            10,
            "room: 0 leaves limit:"
        );
        assert_eq!(limits.max(Limit::ParticipantIdentityLength), 30);
        let vars = [
            ("LIVEKIT_CONFIG", legacy),
            ("LIVEKIT_LIMIT_MAX_METADATA_SIZE", "300"),
        ];
        let limits = LiveKitConfig::load_with(None, env(&vars))
            .expect("config")
            .limits();
        assert_eq!(
            limits.max(Limit::MetadataSize),
            200,
            "room: is copied over limit: after the environment"
        );
    }

    #[test]
    fn development_without_keys_is_the_dev_key_behind_the_weak_opt_in() {
        let config = LiveKitConfig::from_yaml("development: true\n").expect("config");
        assert!(config.is_development());
        assert_eq!(config.api_keys().collect::<Vec<_>>(), ["devkey"]);
        let err = config.key_ring().expect_err("devkey/secret is weak");
        assert!(
            err.to_string().contains("key_ring_allowing_weak_secrets"),
            "{err}"
        );
        let ring = config.key_ring_allowing_weak_secrets().expect("opt-in");
        assert_eq!(api_keys(&ring), ["devkey"]);

        let vars = [("LIVEKIT_DEVELOPMENT", "true")];
        let config = LiveKitConfig::load_with(None, env(&vars)).expect("config");
        assert_eq!(config.api_keys().collect::<Vec<_>>(), ["devkey"]);
        let with_keys = format!("development: true\nkeys:\n  APIk: {STRONG}\n");
        let config = LiveKitConfig::from_yaml(&with_keys).expect("config");
        assert_eq!(
            config.api_keys().collect::<Vec<_>>(),
            ["APIk"],
            "keys given: no devkey"
        );
    }

    #[test]
    fn no_keys_at_all_is_an_error_that_says_where_to_put_them() {
        let err = LiveKitConfig::from_yaml("port: 7880\n")
            .expect("config")
            .key_ring()
            .expect_err("no keys");
        assert_eq!(err.kind(), ConfigErrorKind::NoKeys);
        let message = err.to_string();
        assert!(
            message.contains("keys:") && message.contains("key_file:"),
            "{message}"
        );
        assert!(message.contains("LIVEKIT_KEYS"), "{message}");
    }

    #[test]
    fn keys_are_trimmed_and_strong_ones_make_the_ring() {
        let config = LiveKitConfig::from_yaml(&format!(
            "keys:\n  APIone: \"{STRONG} \"\n  APItwo: {STRONG}x\n"
        ))
        .expect("config");
        let ring = config.key_ring().expect("strong keys");
        assert_eq!(api_keys(&ring), ["APIone", "APItwo"]);
        let empty = LiveKitConfig::from_yaml("keys:\n  APIk:\n").expect("config");
        let err = empty.key_ring_allowing_weak_secrets().expect_err("empty");
        assert_eq!(err.kind(), ConfigErrorKind::Keys);
    }

    #[test]
    fn where_the_config_came_from_is_in_its_errors() {
        let err = LiveKitConfig::from_file("/nonexistent/livekit.yaml").expect_err("missing");
        assert_eq!(err.kind(), ConfigErrorKind::Io);
        assert!(err
            .source()
            .is_some_and(|source| source.is::<std::io::Error>()));

        let dir = TempDir::new("origins");
        let path = dir.file("livekit.yaml", "redis:\n  db: first\n", 0o600);
        let err = LiveKitConfig::from_file(&path).expect_err("wrong type");
        assert_eq!(err.kind(), ConfigErrorKind::WrongType);
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(
            message.contains("redis.db: expected an integer"),
            "{message}"
        );
        assert!(message.contains("line 2"), "{message}");

        let vars = [("LIVEKIT_CONFIG", "redis: {address: [}\n")];
        let err = LiveKitConfig::load_with(None, env(&vars)).expect_err("not YAML");
        assert_eq!(err.kind(), ConfigErrorKind::Syntax);
        assert!(err.to_string().contains("LIVEKIT_CONFIG"), "{err}");
    }

    #[test]
    fn no_secret_or_password_is_ever_shown() {
        const SECRETS: [&str; 4] = [
            "inline-secret-inline-secret-0001",
            "redis-password-0002",
            "sentinel-password-0003",
            "env-password-0004",
        ];
        let yaml = format!(
            "keys:\n  APIk: {}\n  APIweak: short-secret-0005\nredis:\n  sentinel_master_name: m\n  \
             sentinel_addresses: [s:26379]\n  password: {}\n  sentinel_password: {}\n",
            SECRETS[0], SECRETS[1], SECRETS[2]
        );
        let vars = [
            ("LIVEKIT_CONFIG", yaml.as_str()),
            ("LIVEKIT_REDIS_PASSWORD", SECRETS[3]),
        ];
        let config = LiveKitConfig::load_with(None, env(&vars)).expect("config");
        let weak = config.key_ring().expect_err("APIweak is weak");
        let mut shown = vec![format!("{config:?}"), weak.to_string(), format!("{weak:?}")];
        // Secrets in places of the wrong type.
        for bad in [
            format!("keys:\n  APIk: [{}]\n", SECRETS[0]),
            format!("redis:\n  password: {{p: {}}}\n", SECRETS[1]),
            format!("redis:\n  db: {}\n", SECRETS[1]),
            format!("redis:\n  sentinel_password: [{}\n", SECRETS[2]),
        ] {
            let err = LiveKitConfig::from_yaml(&bad).expect_err("refused");
            shown.push(err.to_string());
            shown.push(format!("{err:?}"));
        }
        for text in shown {
            for secret in SECRETS.iter().chain(&["short-secret-0005"]) {
                assert!(!text.contains(secret), "{secret} shown in: {text}");
            }
        }
    }
}
