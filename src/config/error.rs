//! [`ConfigError`]: why LiveKit's config could not be read or used.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::keys::{KeyError, KeyErrorKind};

/// Why LiveKit's config could not be read, or its keys not used. Never contains a secret: values
/// are described ("found a string"), not quoted.
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// What kind of [`ConfigError`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The config file, or a file it names, could not be read.
    Io,
    /// The config text is not YAML.
    Syntax,
    /// A value, in the YAML or in an environment variable, is not of the type the setting
    /// takes, or out of its range. The message names the key path (`redis.db`) or the variable.
    WrongType,
    /// Settings that cannot work as given: Sentinel addresses without the master's name, a
    /// client certificate without its key, a `key_file` whose `~` cannot be expanded, a Redis
    /// address that is not `host:port`.
    Invalid,
    /// Neither `keys:`, `key_file:` nor `LIVEKIT_KEYS` gives an API key.
    NoKeys,
    /// The participant state could not be set up from the config (Redis unreachable, a Redis
    /// user without a command the state needs, ...): [`source`](std::error::Error::source)
    /// is the [`StateError`](crate::state::StateError).
    State,
    /// The API keys were refused: the key file cannot be read or is readable by others, a
    /// secret is too short or empty. [`source`](std::error::Error::source) is the
    /// [`KeyError`].
    Keys,
}

/// Where the config text came from, for messages.
#[derive(Clone, Debug)]
pub(super) enum Origin {
    Text,
    File(PathBuf),
    /// `LIVEKIT_CONFIG`.
    Env,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Text => f.write_str("the LiveKit config"),
            Origin::File(path) => write!(f, "the LiveKit config file {}", path.display()),
            Origin::Env => f.write_str("the LiveKit config in LIVEKIT_CONFIG"),
        }
    }
}

impl ConfigError {
    fn new(kind: ConfigErrorKind, message: String) -> Self {
        ConfigError {
            kind,
            message,
            source: None,
        }
    }

    pub(super) fn io(path: &Path, err: std::io::Error) -> Self {
        ConfigError {
            kind: ConfigErrorKind::Io,
            message: format!(
                "cannot read the LiveKit config file {}: {err}; check the path (livekit-server's \
                 --config), or put the config's text in LIVEKIT_CONFIG",
                path.display()
            ),
            source: Some(Box::new(err)),
        }
    }

    /// A file the config names (a TLS certificate or key) could not be read.
    #[cfg(feature = "redis")]
    pub(super) fn file(setting: &str, path: &Path, err: std::io::Error) -> Self {
        ConfigError {
            kind: ConfigErrorKind::Io,
            message: format!(
                "cannot read {setting} ({}): {err}; check the path in the LiveKit config",
                path.display()
            ),
            source: Some(Box::new(err)),
        }
    }

    /// `yaml` is serde_norway's message: what is wrong, and the line and column.
    pub(super) fn syntax(origin: &Origin, yaml: &str) -> Self {
        ConfigError::new(
            ConfigErrorKind::Syntax,
            format!("{origin} is not valid YAML ({yaml}); livekit-server would refuse it too"),
        )
    }

    /// `detail` names the key path and what was expected (serde_norway's message carries the
    /// path, the line and the column).
    pub(super) fn wrong_type(origin: &Origin, detail: &str) -> Self {
        ConfigError::new(
            ConfigErrorKind::WrongType,
            format!("{origin}: {detail}; correct that value"),
        )
    }

    /// An environment variable whose value livekit-server would not read either. The value is
    /// not shown: the variable may hold a secret.
    pub(super) fn env(var: &str, expected: &str) -> Self {
        ConfigError::new(
            ConfigErrorKind::WrongType,
            format!(
                "environment variable {var}: expected {expected}, as livekit-server reads it; \
                 correct or unset it"
            ),
        )
    }

    pub(super) fn invalid(detail: impl fmt::Display) -> Self {
        ConfigError::new(
            ConfigErrorKind::Invalid,
            format!("the LiveKit config: {detail}"),
        )
    }

    pub(super) fn no_keys() -> Self {
        ConfigError::new(
            ConfigErrorKind::NoKeys,
            "the LiveKit config has no API keys: set `keys:` (`key: secret` pairs) or \
             `key_file:` in it, or LIVEKIT_KEYS in the environment (livekit-server does not \
             start without keys either)"
                .to_owned(),
        )
    }

    pub(super) fn keys(err: KeyError) -> Self {
        let hint = if err.kind() == KeyErrorKind::WeakSecret {
            "; for a development key such as devkey/secret, build the ring with \
             LiveKitConfig::key_ring_allowing_weak_secrets()"
        } else {
            ""
        };
        ConfigError {
            kind: ConfigErrorKind::Keys,
            message: format!("the LiveKit config's API keys are refused: {err}{hint}"),
            source: Some(Box::new(err)),
        }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(super) fn state(err: crate::state::StateError) -> Self {
        ConfigError {
            kind: ConfigErrorKind::State,
            message: format!("the participant state of the LiveKit config: {err}"),
            source: Some(Box::new(err)),
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The kind, the message and the cause: `fn main() -> Result<(), Box<dyn Error>>` prints this.
impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ConfigError");
        debug
            .field("kind", &self.kind)
            .field("message", &self.message);
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::KeyRing;

    #[test]
    fn debug_shows_the_kind_and_the_message() {
        let err = ConfigError::wrong_type(
            &Origin::File("livekit.yaml".into()),
            "redis.db: expected a non-negative integer, found a string",
        );
        let debug = format!("{err:?}");
        assert!(debug.contains("WrongType"), "{debug}");
        assert!(
            debug.contains("the LiveKit config file livekit.yaml: redis.db: expected"),
            "{debug}"
        );
    }

    #[test]
    fn io_and_key_errors_are_kept_as_the_source() {
        let io = ConfigError::io(
            Path::new("/nowhere/livekit.yaml"),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(io.kind(), ConfigErrorKind::Io);
        assert!(io.source().expect("io source").is::<std::io::Error>());
        assert!(io.to_string().contains("/nowhere/livekit.yaml"), "{io}");

        let weak = KeyRing::from_yaml("devkey: secret").expect_err("weak");
        let err = ConfigError::keys(weak);
        assert_eq!(err.kind(), ConfigErrorKind::Keys);
        let key_error = err
            .source()
            .and_then(|source| source.downcast_ref::<KeyError>())
            .expect("key error source");
        assert_eq!(key_error.kind(), KeyErrorKind::WeakSecret);
        assert!(
            err.to_string()
                .contains("LiveKitConfig::key_ring_allowing_weak_secrets()"),
            "{err}"
        );
    }
}
