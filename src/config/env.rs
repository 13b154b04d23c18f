//! livekit-server's environment variables for the settings this crate reads, applied in its
//! order (`cmd/server/main.go`, `pkg/config/config.go` `updateFromCLI`):
//!
//! 1. One variable per scalar setting, `LIVEKIT_` and the key path in capitals with `_` for `.`
//!    (`GenerateCLIFlags`): `LIVEKIT_REDIS_DB`, `LIVEKIT_LIMIT_MAX_METADATA_SIZE`, ... Lists,
//!    maps and the `redis.tls` block have none.
//! 2. Then the named flags' variables: `LIVEKIT_KEYS` replaces `keys:`, `REDIS_HOST` sets
//!    `redis.address` and `REDIS_PASSWORD` `redis.password`, so these two win over
//!    `LIVEKIT_REDIS_ADDRESS` and `LIVEKIT_REDIS_PASSWORD`.
//!
//! As urfave/cli v3 reads them, a variable that is set counts even when empty: an empty text
//! setting becomes empty, an empty number 0, an empty boolean false. Numbers are read with Go's
//! `strconv` (`0x1F`, `1_000`), booleans with `strconv.ParseBool`; `LIVEKIT_REDIS_POOL_TIMEOUT`
//! is a count of nanoseconds, as Go converts an integer into a `time.Duration`.

use zeroize::Zeroizing;

use super::error::ConfigError;
use super::go;
use super::yaml::{self, RawConfig};

/// Where a variable's value goes, and how it is read.
enum Target<'a> {
    Text(&'a mut String),
    Secret(&'a mut Zeroizing<String>),
    Bool(&'a mut bool),
    /// A Go `int` that must not be negative.
    Count(&'a mut u64),
    /// A Go `int` this crate keeps as a `u32`.
    IntU32(&'a mut u32),
    /// A Go `uint32` (urfave/cli's `UintFlag`: no sign).
    Uint32(&'a mut u64),
    /// `redis.max_redirects`, a Go `*int`: -1 or more.
    Redirects(&'a mut Option<i64>),
    /// A Go `time.Duration` set from an integer: nanoseconds.
    Nanos(&'a mut u64),
}

type Field = for<'a> fn(&'a mut RawConfig) -> Target<'a>;

/// The `LIVEKIT_<PATH>` variables of the settings this crate reads, as livekit-server generates
/// them from its `Config`.
const GENERATED: &[(&str, Field)] = &[
    ("LIVEKIT_KEY_FILE", |c| Target::Text(&mut c.key_file)),
    ("LIVEKIT_DEVELOPMENT", |c| Target::Bool(&mut c.development)),
    ("LIVEKIT_REDIS_ADDRESS", |c| {
        Target::Text(&mut c.redis.address)
    }),
    ("LIVEKIT_REDIS_USERNAME", |c| {
        Target::Text(&mut c.redis.username)
    }),
    ("LIVEKIT_REDIS_PASSWORD", |c| {
        Target::Secret(&mut c.redis.password)
    }),
    ("LIVEKIT_REDIS_DB", |c| Target::IntU32(&mut c.redis.db)),
    ("LIVEKIT_REDIS_USE_TLS", |c| {
        Target::Bool(&mut c.redis.use_tls)
    }),
    ("LIVEKIT_REDIS_SENTINEL_MASTER_NAME", |c| {
        Target::Text(&mut c.redis.sentinel_master_name)
    }),
    ("LIVEKIT_REDIS_SENTINEL_USERNAME", |c| {
        Target::Text(&mut c.redis.sentinel_username)
    }),
    ("LIVEKIT_REDIS_SENTINEL_PASSWORD", |c| {
        Target::Secret(&mut c.redis.sentinel_password)
    }),
    ("LIVEKIT_REDIS_DIAL_TIMEOUT", |c| {
        Target::Count(&mut c.redis.dial_timeout)
    }),
    ("LIVEKIT_REDIS_READ_TIMEOUT", |c| {
        Target::Count(&mut c.redis.read_timeout)
    }),
    ("LIVEKIT_REDIS_WRITE_TIMEOUT", |c| {
        Target::Count(&mut c.redis.write_timeout)
    }),
    ("LIVEKIT_REDIS_MAX_REDIRECTS", |c| {
        Target::Redirects(&mut c.redis.max_redirects)
    }),
    ("LIVEKIT_REDIS_POOL_TIMEOUT", |c| {
        Target::Nanos(&mut c.redis.pool_timeout)
    }),
    ("LIVEKIT_REDIS_POOL_SIZE", |c| {
        Target::IntU32(&mut c.redis.pool_size)
    }),
    ("LIVEKIT_LIMIT_MAX_METADATA_SIZE", |c| {
        Target::Uint32(&mut c.limit.max_metadata_size)
    }),
    ("LIVEKIT_LIMIT_MAX_ATTRIBUTES_SIZE", |c| {
        Target::Uint32(&mut c.limit.max_attributes_size)
    }),
    ("LIVEKIT_LIMIT_MAX_ROOM_NAME_LENGTH", |c| {
        Target::Count(&mut c.limit.max_room_name_length)
    }),
    ("LIVEKIT_LIMIT_MAX_PARTICIPANT_IDENTITY_LENGTH", |c| {
        Target::Count(&mut c.limit.max_participant_identity_length)
    }),
    ("LIVEKIT_LIMIT_MAX_PARTICIPANT_NAME_LENGTH", |c| {
        Target::Count(&mut c.limit.max_participant_name_length)
    }),
    ("LIVEKIT_ROOM_MAX_METADATA_SIZE", |c| {
        Target::Uint32(&mut c.room.max_metadata_size)
    }),
    ("LIVEKIT_ROOM_MAX_ROOM_NAME_LENGTH", |c| {
        Target::Count(&mut c.room.max_room_name_length)
    }),
    ("LIVEKIT_ROOM_MAX_PARTICIPANT_IDENTITY_LENGTH", |c| {
        Target::Count(&mut c.room.max_participant_identity_length)
    }),
];

/// Every variable [`apply`] reads, for documentation and tests.
#[cfg(test)]
pub(super) fn variables() -> impl Iterator<Item = &'static str> {
    GENERATED
        .iter()
        .map(|(var, _)| *var)
        .chain(["LIVEKIT_KEYS", "REDIS_HOST", "REDIS_PASSWORD"])
}

/// Applies the environment's overrides to `config`, in livekit-server's order.
pub(super) fn apply(
    config: &mut RawConfig,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for (var, field) in GENERATED {
        if let Some(value) = lookup(var) {
            set(field(config), var, Zeroizing::new(value))?;
        }
    }
    if let Some(text) = lookup("LIVEKIT_KEYS").map(Zeroizing::new) {
        config.keys = yaml::parse_keys(&text).map_err(|err| {
            ConfigError::env(
                "LIVEKIT_KEYS",
                &format!(
                    "YAML `key: secret` lines, with a space after each colon ({})",
                    err.message
                ),
            )
        })?;
    }
    if let Some(host) = lookup("REDIS_HOST") {
        config.redis.address = host;
    }
    if let Some(password) = lookup("REDIS_PASSWORD") {
        config.redis.password = Zeroizing::new(password);
    }
    Ok(())
}

/// Reads `value` into `target` as urfave/cli reads a variable into a flag of that type.
fn set(target: Target<'_>, var: &str, value: Zeroizing<String>) -> Result<(), ConfigError> {
    const NON_NEGATIVE: &str = "a non-negative integer (Go syntax: 42, 0x2A, 1_000)";
    const U32: &str = "an integer from 0 to 4294967295 (Go syntax: 42, 0x2A, 1_000)";
    // An empty variable is the flag's zero value; a number is read as Go reads it.
    let int = |signed: bool, min: i128, max: i128, expected: &str| {
        if value.is_empty() {
            return Ok(0);
        }
        go::parse_int(&value, signed)
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| ConfigError::env(var, expected))
    };
    match target {
        Target::Text(field) => *field = value.to_string(),
        Target::Secret(field) => *field = value,
        Target::Bool(field) => {
            *field = if value.is_empty() {
                false
            } else {
                go::parse_bool(&value).ok_or_else(|| {
                    ConfigError::env(
                        var,
                        "true or false (Go's strconv.ParseBool: 1, t, T, TRUE, true, True, \
                         0, f, F, FALSE, false, False)",
                    )
                })?
            }
        }
        Target::Count(field) => *field = int(true, 0, i64::MAX.into(), NON_NEGATIVE)? as u64,
        Target::IntU32(field) => *field = int(true, 0, u32::MAX.into(), U32)? as u32,
        Target::Uint32(field) => {
            *field = int(
                false,
                0,
                u32::MAX.into(),
                "an integer from 0 to 4294967295, unsigned",
            )? as u64
        }
        Target::Redirects(field) => {
            *field = Some(int(true, -1, u32::MAX.into(), "an integer, -1 or more")? as i64)
        }
        Target::Nanos(field) => {
            *field = int(
                true,
                0,
                i64::MAX.into(),
                "a non-negative count of nanoseconds (livekit-server reads this variable as an \
                 integer, not as `4s`)",
            )? as u64
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigErrorKind;

    use crate::keys::env_of as lookup;

    fn applied(text: &str, vars: &[(&str, &str)]) -> RawConfig {
        let mut raw = yaml::parse(text).expect("test YAML");
        apply(&mut raw, &lookup(vars)).expect("overrides apply");
        raw
    }

    #[test]
    fn every_variable_sets_its_setting() {
        type Check = fn(&RawConfig) -> bool;
        #[rustfmt::skip]
        let cases: &[(&str, &str, Check)] = &[
            ("LIVEKIT_KEY_FILE", "/etc/lk/keys.yaml", |c| c.key_file == "/etc/lk/keys.yaml"),
            ("LIVEKIT_DEVELOPMENT", "true", |c| c.development),
            ("LIVEKIT_REDIS_ADDRESS", "r:6379", |c| c.redis.address == "r:6379"),
            ("LIVEKIT_REDIS_USERNAME", "lk", |c| c.redis.username == "lk"),
            ("LIVEKIT_REDIS_PASSWORD", "pw", |c| c.redis.password.as_str() == "pw"),
            ("LIVEKIT_REDIS_DB", "3", |c| c.redis.db == 3),
            ("LIVEKIT_REDIS_USE_TLS", "1", |c| c.redis.use_tls),
            ("LIVEKIT_REDIS_SENTINEL_MASTER_NAME", "m", |c| c.redis.sentinel_master_name == "m"),
            ("LIVEKIT_REDIS_SENTINEL_USERNAME", "su", |c| c.redis.sentinel_username == "su"),
            ("LIVEKIT_REDIS_SENTINEL_PASSWORD", "sp", |c| c.redis.sentinel_password.as_str() == "sp"),
            ("LIVEKIT_REDIS_DIAL_TIMEOUT", "1500", |c| c.redis.dial_timeout == 1500),
            ("LIVEKIT_REDIS_READ_TIMEOUT", "300", |c| c.redis.read_timeout == 300),
            ("LIVEKIT_REDIS_WRITE_TIMEOUT", "400", |c| c.redis.write_timeout == 400),
            ("LIVEKIT_REDIS_MAX_REDIRECTS", "-1", |c| c.redis.max_redirects == Some(-1)),
            ("LIVEKIT_REDIS_POOL_TIMEOUT", "4000000000", |c| c.redis.pool_timeout == 4_000_000_000),
            ("LIVEKIT_REDIS_POOL_SIZE", "20", |c| c.redis.pool_size == 20),
            ("LIVEKIT_LIMIT_MAX_METADATA_SIZE", "100", |c| c.limit.max_metadata_size == 100),
            ("LIVEKIT_LIMIT_MAX_ATTRIBUTES_SIZE", "101", |c| c.limit.max_attributes_size == 101),
            ("LIVEKIT_LIMIT_MAX_ROOM_NAME_LENGTH", "102", |c| c.limit.max_room_name_length == 102),
            ("LIVEKIT_LIMIT_MAX_PARTICIPANT_IDENTITY_LENGTH", "103", |c| c.limit.max_participant_identity_length == 103),
            ("LIVEKIT_LIMIT_MAX_PARTICIPANT_NAME_LENGTH", "104", |c| c.limit.max_participant_name_length == 104),
            ("LIVEKIT_ROOM_MAX_METADATA_SIZE", "105", |c| c.room.max_metadata_size == 105),
            ("LIVEKIT_ROOM_MAX_ROOM_NAME_LENGTH", "106", |c| c.room.max_room_name_length == 106),
            ("LIVEKIT_ROOM_MAX_PARTICIPANT_IDENTITY_LENGTH", "107", |c| c.room.max_participant_identity_length == 107),
            ("LIVEKIT_KEYS", "APIk: s3cr3t", |c| c.keys.len() == 1 && c.keys[0].0 == "APIk"),
            ("REDIS_HOST", "h:6379", |c| c.redis.address == "h:6379"),
            ("REDIS_PASSWORD", "hp", |c| c.redis.password.as_str() == "hp"),
        ];
        let mut covered: Vec<&str> = cases.iter().map(|(var, _, _)| *var).collect();
        covered.sort_unstable();
        let mut all: Vec<&str> = variables().collect();
        all.sort_unstable();
        assert_eq!(covered, all, "one case per variable");
        for (var, value, check) in cases {
            let raw = applied("", &[(*var, *value)]);
            assert!(check(&raw), "{var}={value} did not set its setting");
            assert!(
                !check(&applied("", &[])),
                "{var}: the check passes without it"
            );
        }
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let file =
            "keys: {a: b}\nredis: {address: 'file:6379', db: 1}\nlimit: {max_metadata_size: 9}\n";
        let raw = applied(
            file,
            &[
                ("LIVEKIT_REDIS_DB", "2"),
                ("LIVEKIT_LIMIT_MAX_METADATA_SIZE", "10"),
                ("LIVEKIT_KEYS", "c: d"),
            ],
        );
        assert_eq!(raw.redis.db, 2);
        assert_eq!(raw.limit.max_metadata_size, 10);
        let keys: Vec<&str> = raw.keys.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(
            keys,
            ["c"],
            "LIVEKIT_KEYS replaces keys:, it does not add to them"
        );
        assert_eq!(
            raw.redis.address, "file:6379",
            "what no variable sets stays"
        );
    }

    #[test]
    fn redis_host_and_redis_password_win_over_the_generated_variables() {
        let raw = applied(
            "",
            &[
                ("LIVEKIT_REDIS_ADDRESS", "generated:6379"),
                ("REDIS_HOST", "named:6379"),
                ("LIVEKIT_REDIS_PASSWORD", "generated"),
                ("REDIS_PASSWORD", "named"),
            ],
        );
        assert_eq!(raw.redis.address, "named:6379");
        assert_eq!(raw.redis.password.as_str(), "named");
    }

    #[test]
    fn a_variable_set_to_nothing_is_the_zero_value() {
        let file =
            "keys: {a: b}\nredis: {address: 'file:6379', db: 4, use_tls: true, max_redirects: 5}\n";
        let raw = applied(
            file,
            &[
                ("REDIS_HOST", ""),
                ("LIVEKIT_REDIS_DB", ""),
                ("LIVEKIT_REDIS_USE_TLS", ""),
                ("LIVEKIT_REDIS_MAX_REDIRECTS", ""),
                ("LIVEKIT_LIMIT_MAX_METADATA_SIZE", ""),
                ("LIVEKIT_KEYS", ""),
            ],
        );
        assert_eq!(raw.redis.address, "");
        assert_eq!(raw.redis.db, 0);
        assert!(!raw.redis.use_tls);
        assert_eq!(raw.redis.max_redirects, Some(0), "set, to 0");
        assert_eq!(
            raw.limit.max_metadata_size, 0,
            "no limit, as in livekit-server"
        );
        assert!(raw.keys.is_empty());
    }

    #[test]
    fn numbers_and_booleans_are_read_with_go_strconv() {
        let raw = applied(
            "",
            &[
                ("LIVEKIT_REDIS_DB", "0x0A"),
                ("LIVEKIT_REDIS_POOL_SIZE", "1_000"),
                ("LIVEKIT_REDIS_DIAL_TIMEOUT", "010"),
                ("LIVEKIT_REDIS_USE_TLS", "T"),
            ],
        );
        assert_eq!(raw.redis.db, 10);
        assert_eq!(raw.redis.pool_size, 1000);
        assert_eq!(raw.redis.dial_timeout, 8);
        assert!(raw.redis.use_tls);
    }

    #[test]
    fn a_value_livekit_would_not_read_is_an_error_naming_the_variable_not_the_value() {
        for (var, value) in [
            ("LIVEKIT_REDIS_DB", "two"),
            ("LIVEKIT_REDIS_DB", "-1"),
            ("LIVEKIT_REDIS_DB", "4294967296"),
            ("LIVEKIT_REDIS_DB", " 1"),
            ("LIVEKIT_REDIS_USE_TLS", "yes"),
            ("LIVEKIT_DEVELOPMENT", "on"),
            ("LIVEKIT_REDIS_DIAL_TIMEOUT", "2s"),
            ("LIVEKIT_REDIS_MAX_REDIRECTS", "-2"),
            ("LIVEKIT_REDIS_POOL_TIMEOUT", "4s"),
            ("LIVEKIT_REDIS_POOL_TIMEOUT", "-1"),
            ("LIVEKIT_LIMIT_MAX_METADATA_SIZE", "+1"),
            ("LIVEKIT_LIMIT_MAX_METADATA_SIZE", "4294967296"),
            ("LIVEKIT_LIMIT_MAX_ROOM_NAME_LENGTH", "-1"),
            ("LIVEKIT_KEYS", "- hunter2hunter2"),
            ("LIVEKIT_KEYS", "k: {s: hunter2hunter2}"),
            ("LIVEKIT_KEYS", "k: [hunter2hunter2"),
        ] {
            let mut raw = RawConfig::default();
            let err = apply(&mut raw, &lookup(&[(var, value)])).expect_err(value);
            assert_eq!(err.kind(), ConfigErrorKind::WrongType, "{var}={value}");
            let message = err.to_string();
            assert!(message.contains(var), "{var}={value}: {message}");
            assert!(message.contains("expected"), "{var}={value}: {message}");
            // (Short values such as `on` are in any sentence; the secrets are not short.)
            if value.len() >= 4 {
                assert!(!message.contains(value), "{var}={value}: {message}");
            }
            assert!(!message.contains("hunter2"), "{var}={value}: {message}");
        }
    }
}
