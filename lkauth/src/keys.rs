//! Where `lkauth`'s keys (and LiveKit's config) come from, failing closed: the dev key only when
//! no key at all is configured, never as a fallback for a configuration that is wrong. One home
//! for that rule: `serve`, `gate` and `token` load their keys here.

use std::error::Error as _;
use std::path::Path;

use tower_livekit_auth::config::{ConfigError, ConfigErrorKind, LiveKitConfig};
use tower_livekit_auth::{KeyError, KeyErrorKind, KeyRing};

/// LiveKit's development key (`livekit-server --dev`).
pub const DEV_KEY: &str = "devkey";
/// LiveKit's development secret: public knowledge, for local use only.
pub const DEV_SECRET: &str = "secret";

/// The command-line switch that accepts secrets shorter than the library's minimum.
pub const ALLOW_WEAK_SECRET: &str = "--allow-weak-secret";

/// The keys from the environment (read through `lookup`: `LIVEKIT_KEYS`, else
/// `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`), or LiveKit's dev key when none are set (the
/// `bool` says so). Any other problem, such as `LIVEKIT_API_KEY` without
/// `LIVEKIT_API_SECRET`, is an error: falling back to a public key there would run the server
/// open, or sign with the wrong key, while its operator believes it configured. A secret
/// shorter than [`MIN_SECRET_LEN`](tower_livekit_auth::keys::MIN_SECRET_LEN) bytes is refused
/// unless `allow_weak`.
pub fn load_keys(
    lookup: impl Fn(&str) -> Option<String>,
    allow_weak: bool,
) -> Result<(KeyRing, bool), String> {
    match ring(allow_weak).with_env_from(lookup) {
        Ok(keys) => Ok((keys, false)),
        Err(err) if err.kind() == KeyErrorKind::MissingEnv => Ok((dev_keys()?, true)),
        Err(err) => Err(describe(&err)),
    }
}

/// LiveKit's config, when `file` (`--config`) or `LIVEKIT_CONFIG` gives one, read as
/// `livekit-server` reads it (`LiveKitConfig::load_with`); `None`: the environment alone.
pub fn load_config(
    file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<LiveKitConfig>, String> {
    let in_env = env("LIVEKIT_CONFIG").is_some_and(|body| !body.is_empty());
    if file.is_none() && !in_env {
        return Ok(None);
    }
    LiveKitConfig::load_with(file, env)
        .map(Some)
        .map_err(|err| err.to_string())
}

/// The key ring of a server: LiveKit's config's when there is one (`keys:`, `key_file:`,
/// `LIVEKIT_KEYS` over them; `development: true` with no keys of its own is the dev key, as
/// `livekit-server` reads it; no key at all is an error there too), else the environment's
/// ([`load_keys`]). A dev key is announced on stderr, saying why.
pub fn server_keys(
    config: Option<&LiveKitConfig>,
    env: impl Fn(&str) -> Option<String>,
    allow_weak: bool,
) -> Result<KeyRing, String> {
    let Some(config) = config else {
        let (keys, dev) = load_keys(env, allow_weak)?;
        if dev {
            dev_warning("no LIVEKIT_KEYS or LIVEKIT_API_KEY/LIVEKIT_API_SECRET set");
        }
        return Ok(keys);
    };
    let dev_only =
        config.is_development() && config.key_file().is_none() && config.api_keys().eq([DEV_KEY]);
    let ring = if dev_only || allow_weak {
        config.key_ring_allowing_weak_secrets()
    } else {
        config.key_ring()
    };
    if dev_only {
        dev_warning("the config says development: true and has no keys");
    }
    ring.map_err(|err| describe_config(&err))
}

/// Says on stderr that the public dev key is in use, and `why`.
pub fn dev_warning(why: &str) {
    eprintln!(
        "warning: {why}; using LiveKit's development key `{DEV_KEY}` with its public secret. \
         Never use it in production."
    );
}

/// A config error's message, and for a weak secret how to accept it on the command line.
fn describe_config(err: &ConfigError) -> String {
    let weak = err.kind() == ConfigErrorKind::Keys
        && err
            .source()
            .and_then(|source| source.downcast_ref::<KeyError>())
            .is_some_and(|key| key.kind() == KeyErrorKind::WeakSecret);
    if weak {
        with_weak_hint(err)
    } else {
        err.to_string()
    }
}

/// LiveKit's development key alone.
pub fn dev_keys() -> Result<KeyRing, String> {
    KeyRing::allowing_weak_secrets()
        .with_key(DEV_KEY, DEV_SECRET)
        .map_err(|err| describe(&err))
}

/// The one key given on the command line (`--api-key`, `--api-secret`).
pub fn explicit_key(api_key: &str, secret: &str, allow_weak: bool) -> Result<KeyRing, String> {
    ring(allow_weak)
        .with_key(api_key.trim(), secret.trim())
        .map_err(|err| describe(&err))
}

fn ring(allow_weak: bool) -> KeyRing {
    if allow_weak {
        KeyRing::allowing_weak_secrets()
    } else {
        KeyRing::new()
    }
}

/// The library's message (it never holds a secret), and for a weak secret how to accept it
/// on the command line, since the library's advice names its Rust API.
#[must_use]
pub fn describe(err: &KeyError) -> String {
    if err.kind() == KeyErrorKind::WeakSecret {
        with_weak_hint(err)
    } else {
        err.to_string()
    }
}

/// A weak secret's refusal, and how to accept it on the command line (the library's advice
/// names its Rust API).
fn with_weak_hint(err: &dyn std::fmt::Display) -> String {
    format!("{err}\n  (lkauth: pass {ALLOW_WEAK_SECRET} to accept it anyway, for development only)")
}

/// The key `ring` signs with: the first in sort order, so that the same ring always signs
/// with the same key.
#[must_use]
pub fn signing_key(ring: &KeyRing) -> Option<&str> {
    ring.api_keys().min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRONG: &str = "somesecretencodedinbase62extendto32bytes";

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn no_keys_at_all_is_the_dev_key_and_says_so() {
        let (ring, dev) = load_keys(env(&[]), false).expect("the dev key");
        assert!(dev);
        assert!(ring.contains(DEV_KEY));
    }

    #[test]
    fn half_a_pair_fails_closed_either_way() {
        for half in [
            [("LIVEKIT_API_KEY", "APIk")],
            [("LIVEKIT_API_SECRET", STRONG)],
        ] {
            let err = load_keys(env(&half), true).expect_err("half a pair");
            assert!(err.contains("LIVEKIT_API_SECRET"), "{err}");
            assert!(!err.contains(STRONG), "{err}");
        }
    }

    #[test]
    fn a_weak_secret_needs_the_switch_and_the_message_says_so() {
        let vars = [("LIVEKIT_API_KEY", "APIk"), ("LIVEKIT_API_SECRET", "short")];
        let err = load_keys(env(&vars), false).expect_err("weak");
        assert!(err.contains("shorter than 32 bytes"), "{err}");
        assert!(err.contains(ALLOW_WEAK_SECRET), "{err}");
        assert!(
            !err.contains("short\n") && !err.contains("`short`"),
            "{err}"
        );
        let (ring, dev) = load_keys(env(&vars), true).expect("allowed");
        assert!(!dev && ring.contains("APIk"));
        assert!(explicit_key("APIk", "short", false).is_err());
        assert!(explicit_key("APIk", "short", true).is_ok());
        assert!(explicit_key("APIk", STRONG, false).is_ok());
    }
}
