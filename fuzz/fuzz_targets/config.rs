//! Arbitrary text as LiveKit's config YAML (`LiveKitConfig::from_yaml`), or through
//! `LiveKitConfig::load_with(None, lookup)` with environment variables the input gives
//! (`LIVEKIT_CONFIG`, `LIVEKIT_KEYS`, `REDIS_HOST`, `REDIS_PASSWORD`, every `LIVEKIT_REDIS_*`,
//! `LIVEKIT_LIMIT_*` and `LIVEKIT_ROOM_*` variable the crate reads, `HOME`).
//!
//! Input: a control byte, then the YAML text up to the first `\0`, then (environment mode)
//! variables, each a byte choosing the variable (`VARS[b % VARS.len()]`) and its value up to
//! the next `\0` (a variable given twice: the last value). Text and values are lossy UTF-8.
//!
//! | byte 0 bit | meaning |
//! |---|---|
//! | 0 | 0: `from_yaml(text)`; 1: `load_with(None, env)` |
//! | 1 | (environment mode) 1: the text is `LIVEKIT_CONFIG`; 0: `LIVEKIT_CONFIG` is set and empty (the defaults) |
//!
//! The secrets: the values of `keys:` (and of `LIVEKIT_KEYS`'s `key: secret` lines),
//! `redis.password`, `redis.sentinel_password`, `REDIS_PASSWORD`, `LIVEKIT_REDIS_PASSWORD` and
//! `LIVEKIT_REDIS_SENTINEL_PASSWORD`, found by the target's own parse of the text (serde_norway
//! into a `Value`), each trimmed. The seeds plant secrets holding the marker `PLANTED`, and the
//! checks look for those (a short secret such as `a` is in every sentence); a secret that also
//! stands as a non-secret value or key (an address, an API key, a `key_file` that expands a
//! secret variable) may be shown as that, and is not looked for.
//!
//! Properties: nothing panics; an error's `Display` and `Debug` (and those of its sources)
//! contain no secret, and a syntax error no `PLANTED` at all (it quotes nothing of the text);
//! when the config reads, `Debug` of the config and of its Redis block shows no secret, and
//! `limits()`, `redis()` and its accessors, `api_keys()`, and (with no `key_file`, which would be
//! read from disk) `key_ring()` and `key_ring_allowing_weak_secrets()` never panic, their errors
//! and the rings' `Debug` showing no secret either.
#![no_main]

use std::error::Error;

use libfuzzer_sys::fuzz_target;
use serde_norway::Value;
use tower_livekit_auth::config::{ConfigErrorKind, LiveKitConfig, RedisMode};
use tower_livekit_auth::limits::Limit;

const MARKER: &str = "PLANTED";

/// The variables the input may set, `LIVEKIT_CONFIG` aside.
const VARS: &[&str] = &[
    "LIVEKIT_KEYS",
    "REDIS_HOST",
    "REDIS_PASSWORD",
    "LIVEKIT_KEY_FILE",
    "LIVEKIT_DEVELOPMENT",
    "LIVEKIT_REDIS_ADDRESS",
    "LIVEKIT_REDIS_USERNAME",
    "LIVEKIT_REDIS_PASSWORD",
    "LIVEKIT_REDIS_DB",
    "LIVEKIT_REDIS_USE_TLS",
    "LIVEKIT_REDIS_SENTINEL_MASTER_NAME",
    "LIVEKIT_REDIS_SENTINEL_USERNAME",
    "LIVEKIT_REDIS_SENTINEL_PASSWORD",
    "LIVEKIT_REDIS_DIAL_TIMEOUT",
    "LIVEKIT_REDIS_READ_TIMEOUT",
    "LIVEKIT_REDIS_WRITE_TIMEOUT",
    "LIVEKIT_REDIS_MAX_REDIRECTS",
    "LIVEKIT_REDIS_POOL_TIMEOUT",
    "LIVEKIT_REDIS_POOL_SIZE",
    "LIVEKIT_LIMIT_MAX_METADATA_SIZE",
    "LIVEKIT_LIMIT_MAX_ATTRIBUTES_SIZE",
    "LIVEKIT_LIMIT_MAX_ROOM_NAME_LENGTH",
    "LIVEKIT_LIMIT_MAX_PARTICIPANT_IDENTITY_LENGTH",
    "LIVEKIT_LIMIT_MAX_PARTICIPANT_NAME_LENGTH",
    "LIVEKIT_ROOM_MAX_METADATA_SIZE",
    "LIVEKIT_ROOM_MAX_ROOM_NAME_LENGTH",
    "LIVEKIT_ROOM_MAX_PARTICIPANT_IDENTITY_LENGTH",
    "HOME",
];

/// The variables whose values are secrets.
const SECRET_VARS: &[&str] = &[
    "REDIS_PASSWORD",
    "LIVEKIT_REDIS_PASSWORD",
    "LIVEKIT_REDIS_SENTINEL_PASSWORD",
];

/// What was given as a secret, and every other string given (values and keys).
#[derive(Default)]
struct Given {
    secrets: Vec<String>,
    public: Vec<String>,
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Tagged(tagged) => scalar_text(&tagged.value),
        Value::Null | Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

fn untagged(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => untagged(&tagged.value),
        other => other,
    }
}

impl Given {
    /// Every string in `value`, as not secret.
    fn public(&mut self, value: &Value) {
        match untagged(value) {
            Value::Sequence(items) => items.iter().for_each(|item| self.public(item)),
            Value::Mapping(map) => {
                for (key, value) in map {
                    self.public(key);
                    self.public(value);
                }
            }
            other => self.public.extend(scalar_text(other)),
        }
    }

    /// A value given as a secret: a scalar is the secret; anything else is not one.
    fn secret(&mut self, value: &Value) {
        match untagged(value) {
            Value::String(s) => self.secrets.push(s.clone()),
            other => self.public(other),
        }
    }

    /// A `keys:` mapping: keys public, values secret.
    fn keys(&mut self, value: &Value) {
        match untagged(value) {
            Value::Mapping(map) => {
                for (key, value) in map {
                    self.public(key);
                    self.secret(value);
                }
            }
            other => self.public(other),
        }
    }

    /// A config document.
    fn config(&mut self, value: &Value) {
        let Value::Mapping(map) = untagged(value) else {
            return self.public(value);
        };
        for (key, value) in map {
            self.public(key);
            match (untagged(key).as_str(), untagged(value)) {
                (Some("keys"), _) => self.keys(value),
                (Some("redis"), Value::Mapping(redis)) => {
                    for (key, value) in redis {
                        self.public(key);
                        match untagged(key).as_str() {
                            Some("password" | "sentinel_password") => self.secret(value),
                            _ => self.public(value),
                        }
                    }
                }
                _ => self.public(value),
            }
        }
    }

    /// The secrets to look for: those holding the marker, trimmed (as the crate trims keys),
    /// and not also given as something else.
    fn watched(&self) -> Vec<&str> {
        self.secrets
            .iter()
            .map(|s| s.trim())
            .filter(|s| s.contains(MARKER))
            .filter(|s| !self.public.iter().any(|p| p.contains(*s)))
            .collect()
    }
}

/// The texts an error shows: `Display` and `Debug`, its own and its sources'.
fn error_texts(err: &(dyn Error + 'static)) -> Vec<String> {
    let mut texts = Vec::new();
    let mut next = Some(err);
    while let Some(err) = next {
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
        next = err.source();
    }
    texts
}

fn assert_hidden(what: &str, texts: &[String], secrets: &[&str]) {
    for text in texts {
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{what} shows the secret {secret:?}: {text}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (text, env_part) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let text = String::from_utf8_lossy(text).into_owned();
    let env_mode = control & 1 != 0;

    let mut env: Vec<(&str, String)> = Vec::new();
    if env_mode {
        let mut part = env_part;
        while let Some((&var, tail)) = part.split_first() {
            let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
            let value = String::from_utf8_lossy(&tail[..end]).into_owned();
            env.push((VARS[usize::from(var) % VARS.len()], value));
            part = tail.get(end + 1..).unwrap_or(&[]);
        }
        let config = if control & 2 != 0 {
            text.clone()
        } else {
            String::new()
        };
        env.push(("LIVEKIT_CONFIG", config));
    }
    let lookup = |name: &str| {
        env.iter()
            .rev()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| value.clone())
    };

    // What was given as a secret, by the target's own reading of the text and variables.
    let mut given = Given::default();
    let text_read = !env_mode || control & 2 != 0;
    let parsed = if text_read {
        serde_norway::from_str::<Value>(&text).ok()
    } else {
        Some(Value::Null)
    };
    if let Some(document) = &parsed {
        given.config(document);
    }
    let mut keys_parsed = true;
    for (var, value) in &env {
        match *var {
            "LIVEKIT_CONFIG" => {}
            "LIVEKIT_KEYS" => match serde_norway::from_str::<Value>(value) {
                Ok(keys) => given.keys(&keys),
                Err(_) => keys_parsed = false,
            },
            var if SECRET_VARS.contains(&var) => given.secrets.push(value.clone()),
            _ => given.public.push(value.clone()),
        }
    }
    // A `key_file` naming a secret variable (`$REDIS_PASSWORD`) expands into a path that is
    // shown as such.
    let key_files: Vec<String> = given
        .public
        .iter()
        .filter(|p| p.contains('$'))
        .cloned()
        .collect();
    for var in SECRET_VARS {
        if key_files.iter().any(|k| k.contains(var)) {
            if let Some(value) = lookup(var) {
                given.public.push(value);
            }
        }
    }
    let secrets = given.watched();
    let known = parsed.is_some() && keys_parsed;

    let result = if env_mode {
        LiveKitConfig::load_with(None, lookup)
    } else {
        LiveKitConfig::from_yaml(&text)
    };
    let config = match result {
        Ok(config) => config,
        Err(err) => {
            let texts = error_texts(&err);
            assert_hidden("the error", &texts, &secrets);
            if err.kind() == ConfigErrorKind::Syntax {
                assert_hidden("a syntax error", &texts, &[MARKER]);
            }
            return;
        }
    };

    // The config read: nothing it shows holds a secret.
    if known {
        assert_hidden("the config's Debug", &[format!("{config:?}")], &secrets);
    }
    let limits = config.limits();
    for limit in [
        Limit::MetadataSize,
        Limit::AttributesSize,
        Limit::ParticipantNameLength,
        Limit::ParticipantIdentityLength,
        Limit::RoomNameLength,
    ] {
        let _ = limits.max(limit);
        let _ = limits.check(limit, usize::MAX);
    }
    let _ = config.api_keys().count();
    let _ = config.is_development();
    if let Some(redis) = config.redis() {
        let shown = [format!("{redis:?}"), format!("{:?}", redis.mode())];
        if known {
            assert_hidden("the Redis block's Debug", &shown, &secrets);
        }
        match redis.mode() {
            RedisMode::Sentinel {
                master_name,
                addresses,
                ..
            } => assert!(!master_name.is_empty() && !addresses.is_empty()),
            RedisMode::Cluster { addresses, .. } => assert!(!addresses.is_empty()),
            RedisMode::Standalone { address, .. } => assert!(!address.is_empty()),
            _ => {}
        }
        let _ = (
            redis.username(),
            redis.password(),
            redis.db(),
            redis.dial_timeout(),
            redis.read_timeout(),
            redis.write_timeout(),
            redis.pool_size(),
            redis.pool_timeout(),
        );
        if let Some(tls) = redis.tls() {
            let _ = (
                tls.insecure(),
                tls.server_name(),
                tls.ca_cert_file(),
                tls.client_cert_file(),
                tls.client_key_file(),
            );
        }
    }
    // A key file would be read from disk: only the `keys:` ring.
    if config.key_file().is_none() {
        for ring in [config.key_ring(), config.key_ring_allowing_weak_secrets()] {
            match ring {
                Ok(ring) if known => {
                    assert_hidden("the key ring's Debug", &[format!("{ring:?}")], &secrets)
                }
                Ok(_) => {}
                Err(err) if known => assert_hidden("a key error", &error_texts(&err), &secrets),
                Err(_) => {}
            }
        }
    }
});
