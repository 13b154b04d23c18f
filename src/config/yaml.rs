//! The parts of LiveKit's config file that this crate reads, decoded as livekit-server decodes
//! them (gopkg.in/yaml.v3 into `pkg/config/config.go`'s `Config`), with every other key skipped.
//!
//! The decoding rules are yaml.v3's for the Go types of those fields (`decode.go`, `resolve.go`):
//! a string field takes any scalar as written (`password: 0123` is the text `0123`), an
//! integer field a YAML integer (`0x`, `0o`, a leading `0` and `_` as yaml.v3 reads them) or a
//! whole float, a `bool` field `true`/`false` or YAML 1.1's `yes`/`no`/`on`/`off`, a
//! `time.Duration` field a Go duration text (`4s`). `null` leaves a field as it was. Anything
//! else is an error naming the key path and what was expected; no error quotes a value that
//! could be a secret.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use zeroize::Zeroizing;

use super::go;
use crate::limits::{
    DEFAULT_MAX_ATTRIBUTES_SIZE, DEFAULT_MAX_METADATA_SIZE, DEFAULT_MAX_NAME_LENGTH,
};

/// The largest value of a Go `uint32` field, and of the fields this crate keeps as `u32`.
const U32: i64 = u32::MAX as i64;

/// The config's top level: what livekit-server's `Config` holds that this crate reads.
#[derive(Default)]
pub(super) struct RawConfig {
    /// `keys:`, in file order.
    pub(super) keys: Vec<(String, Zeroizing<String>)>,
    pub(super) key_file: String,
    pub(super) development: bool,
    pub(super) redis: RawRedis,
    pub(super) limit: RawLimit,
    pub(super) room: RawRoom,
}

/// `redis:`, livekit/protocol's `redis.RedisConfig`, field by field.
#[derive(Default)]
pub(super) struct RawRedis {
    pub(super) address: String,
    pub(super) username: String,
    pub(super) password: Zeroizing<String>,
    pub(super) db: u32,
    pub(super) use_tls: bool,
    pub(super) tls: Option<RawTls>,
    pub(super) sentinel_master_name: String,
    pub(super) sentinel_username: String,
    pub(super) sentinel_password: Zeroizing<String>,
    pub(super) sentinel_addresses: Vec<String>,
    pub(super) cluster_addresses: Vec<String>,
    /// Milliseconds.
    pub(super) dial_timeout: u64,
    pub(super) read_timeout: u64,
    pub(super) write_timeout: u64,
    /// A Go `*int`: absent is not 0.
    pub(super) max_redirects: Option<i64>,
    /// Nanoseconds (a Go `time.Duration`).
    pub(super) pool_timeout: u64,
    pub(super) pool_size: u32,
}

/// `redis.tls:`, livekit/protocol's `xtls.Config`.
#[derive(Default)]
pub(super) struct RawTls {
    pub(super) enabled: bool,
    pub(super) insecure: bool,
    pub(super) server_name: String,
    pub(super) ca_cert_file: String,
    pub(super) client_cert_file: String,
    pub(super) client_key_file: String,
}

/// `limit:`, the sizes of `LimitConfig`, starting from livekit-server's defaults.
pub(super) struct RawLimit {
    pub(super) max_metadata_size: u64,
    pub(super) max_attributes_size: u64,
    pub(super) max_room_name_length: u64,
    pub(super) max_participant_identity_length: u64,
    pub(super) max_participant_name_length: u64,
}

impl Default for RawLimit {
    fn default() -> Self {
        RawLimit {
            max_metadata_size: DEFAULT_MAX_METADATA_SIZE as u64,
            max_attributes_size: DEFAULT_MAX_ATTRIBUTES_SIZE as u64,
            max_room_name_length: DEFAULT_MAX_NAME_LENGTH as u64,
            max_participant_identity_length: DEFAULT_MAX_NAME_LENGTH as u64,
            max_participant_name_length: DEFAULT_MAX_NAME_LENGTH as u64,
        }
    }
}

/// `room:`'s deprecated limits, which livekit-server copies over `limit:` when non-zero.
#[derive(Default)]
pub(super) struct RawRoom {
    pub(super) max_metadata_size: u64,
    pub(super) max_room_name_length: u64,
    pub(super) max_participant_identity_length: u64,
}

/// Why a text is not a config this crate can read.
#[derive(Debug)]
pub(super) struct YamlError {
    /// Not YAML at all (as opposed to YAML with a value of the wrong type).
    pub(super) syntax: bool,
    /// serde_norway's message: the key path, what was expected, the line and column.
    pub(super) message: String,
}

/// Reads a config text. An empty text (or one of comments only) is the defaults.
pub(super) fn parse(text: &str) -> Result<RawConfig, YamlError> {
    serde_norway::from_str::<Option<Shaped<RawConfig>>>(text)
        .map(|raw| raw.map(|raw| raw.0).unwrap_or_default())
        .map_err(|err| classify(text, err))
}

/// A syntax error when the text is not YAML even with nothing read from it (its own message
/// then: serde_norway may stop at a value of the wrong type before it reaches the bad syntax),
/// else a value of the wrong type.
fn classify(text: &str, err: serde_norway::Error) -> YamlError {
    match serde_norway::from_str::<IgnoredAny>(text) {
        Err(syntax) => YamlError {
            syntax: true,
            message: syntax.to_string(),
        },
        Ok(_) => YamlError {
            syntax: false,
            message: err.to_string(),
        },
    }
}

/// Reads `key: secret` lines (`LIVEKIT_KEYS`), as the `keys:` section is read.
pub(super) fn parse_keys(text: &str) -> Result<Vec<(String, Zeroizing<String>)>, YamlError> {
    serde_norway::from_str::<Option<Shaped<Keys>>>(text)
        .map(|keys| keys.map(|keys| keys.0 .0).unwrap_or_default())
        .map_err(|err| classify(text, err))
}

/// A scalar as serde_norway hands it over.
enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a str),
}

/// What a value found in place of the expected one was, in words; never the value of a string.
fn found(scalar: &Scalar<'_>) -> Cow<'static, str> {
    match scalar {
        Scalar::Null => "null".into(),
        Scalar::Bool(_) => "a boolean".into(),
        Scalar::Int(value) => format!("the integer {value}").into(),
        Scalar::Float(value) => format!("the number {value}").into(),
        Scalar::Str(_) => "a string".into(),
    }
}

/// A kind of value a config field holds, with its own rules for what it accepts.
trait Shape: Sized {
    /// What the field expects, for errors: "a boolean".
    fn expected() -> Cow<'static, str>;

    fn from_scalar(scalar: Scalar<'_>) -> Result<Self, String> {
        Err(wrong(&Self::expected(), &found(&scalar)))
    }

    fn from_map<'de, A: MapAccess<'de>>(_map: A) -> Result<Self, A::Error> {
        Err(de::Error::custom(wrong(&Self::expected(), "a mapping")))
    }

    fn from_seq<'de, A: SeqAccess<'de>>(_seq: A) -> Result<Self, A::Error> {
        Err(de::Error::custom(wrong(&Self::expected(), "a list")))
    }
}

fn wrong(expected: &str, found: &str) -> String {
    format!("expected {expected}, found {found}")
}

/// A [`Shape`] read from YAML. serde_norway adds the key path and the line to every error
/// raised while the value is read, so every check happens in here.
struct Shaped<T>(T);

impl<'de, T: Shape> Deserialize<'de> for Shaped<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ShapeVisitor(PhantomData))
            .map(Shaped)
    }
}

struct ShapeVisitor<T>(PhantomData<T>);

impl<T: Shape> ShapeVisitor<T> {
    fn scalar<E: de::Error>(scalar: Scalar<'_>) -> Result<T, E> {
        T::from_scalar(scalar).map_err(E::custom)
    }
}

impl<'de, T: Shape> Visitor<'de> for ShapeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&T::expected())
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Self::scalar(Scalar::Null)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<T, E> {
        Self::scalar(Scalar::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        Self::scalar(Scalar::Int(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        Self::scalar(Scalar::Int(value.into()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<T, E> {
        Self::scalar(Scalar::Int(value))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<T, E> {
        Self::scalar(Scalar::Int(i128::try_from(value).unwrap_or(i128::MAX)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<T, E> {
        Self::scalar(Scalar::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        Self::scalar(Scalar::Str(value))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }
}

/// A string field: any scalar, as written (yaml.v3 sets a Go string to the scalar's text).
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
                Ok(Text(value.to_owned()))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Text, E> {
                Ok(Text(value))
            }
        }
        // `deserialize_str` hands over any scalar's text as written, where `deserialize_any`
        // would turn `0123` into the number 123.
        deserializer.deserialize_str(TextVisitor)
    }
}

/// An integer field of a Go type, within `MIN..=MAX` (the range this crate can use; a value
/// outside it is an error rather than the wrapped or always-refusing value Go would make of it).
struct Int<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Shape for Int<MIN, MAX> {
    fn expected() -> Cow<'static, str> {
        match (MIN, MAX) {
            (0, i64::MAX) => "a non-negative integer".into(),
            (min, i64::MAX) => format!("an integer, {min} or more").into(),
            (min, max) => format!("an integer from {min} to {max}").into(),
        }
    }

    fn from_scalar(scalar: Scalar<'_>) -> Result<Self, String> {
        let value = match scalar {
            Scalar::Int(value) => Some(value),
            // yaml.v3 takes a float into an integer field; a whole one is the same number.
            Scalar::Float(value) if value.is_finite() && value.fract() == 0.0 => {
                Some(value as i128)
            }
            // What serde_norway leaves as a string and yaml.v3 reads as an integer: `1_000`,
            // the YAML 1.1 octal `010`.
            Scalar::Str(text) => go::parse_yaml_int(text),
            _ => None,
        };
        match value {
            Some(value) if (i128::from(MIN)..=i128::from(MAX)).contains(&value) => {
                Ok(Int(value as i64))
            }
            _ => Err(wrong(&Self::expected(), &found(&scalar))),
        }
    }
}

/// A Go `bool` field.
struct Bool(bool);

impl Shape for Bool {
    fn expected() -> Cow<'static, str> {
        "a boolean (true or false)".into()
    }

    fn from_scalar(scalar: Scalar<'_>) -> Result<Self, String> {
        match scalar {
            Scalar::Bool(value) => Ok(Bool(value)),
            Scalar::Str(text) => match go::parse_yaml_bool_word(text) {
                Some(value) => Ok(Bool(value)),
                None => Err(wrong(&Self::expected(), "a string")),
            },
            other => Err(wrong(&Self::expected(), &found(&other))),
        }
    }
}

/// A Go `time.Duration` field: yaml.v3 takes only a duration text (`4s`), not a number.
struct Duration(u64);

impl Shape for Duration {
    fn expected() -> Cow<'static, str> {
        "a duration with its unit, such as `4s` or `500ms`".into()
    }

    fn from_scalar(scalar: Scalar<'_>) -> Result<Self, String> {
        match scalar {
            Scalar::Str(text) => match go::parse_duration(text) {
                Some(nanos) => u64::try_from(nanos)
                    .map(Duration)
                    .map_err(|_| wrong(&Self::expected(), "a negative duration")),
                None => Err(wrong(&Self::expected(), "a string that is not one")),
            },
            other => Err(wrong(&Self::expected(), &found(&other))),
        }
    }
}

/// A list of `host:port` addresses (a Go `[]string`).
struct Addresses(Vec<String>);

impl Shape for Addresses {
    fn expected() -> Cow<'static, str> {
        "a list of host:port addresses".into()
    }

    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut addresses = Vec::new();
        while let Some(address) = seq.next_element::<Option<Text>>()? {
            match address {
                Some(Text(address)) if !address.is_empty() => addresses.push(address),
                _ => {
                    return Err(de::Error::custom(format!(
                        "entry {} is empty; expected a host:port address",
                        addresses.len()
                    )))
                }
            }
        }
        Ok(Addresses(addresses))
    }
}

/// `key: secret` pairs (a Go `map[string]string`).
struct Keys(Vec<(String, Zeroizing<String>)>);

impl Shape for Keys {
    fn expected() -> Cow<'static, str> {
        "a mapping of API key to secret".into()
    }

    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut keys: Vec<(String, Zeroizing<String>)> = Vec::new();
        while let Some(Text(key)) = map.next_key::<Text>()? {
            refuse_merge_key(&key)?;
            let secret = map.next_value::<Option<Text>>()?.map(|text| text.0);
            if keys.iter().any(|(known, _)| *known == key) {
                return Err(de::Error::custom(format!(
                    "API key `{key}` is given twice; keep one secret per key"
                )));
            }
            keys.push((key, Zeroizing::new(secret.unwrap_or_default())));
        }
        Ok(Keys(keys))
    }
}

/// serde_norway does not apply YAML merge keys (`<<: *anchor`) when it decodes into types; a
/// merge in a section this crate reads would silently lose its settings, so it is refused.
fn refuse_merge_key<E: de::Error>(key: &str) -> Result<(), E> {
    if key == "<<" {
        return Err(E::custom(
            "YAML merge keys (`<<`) are not read in this section; write the settings out",
        ));
    }
    Ok(())
}

/// A mapping of settings, of which [`read`](Section::read) takes the known ones.
trait Section: Default {
    /// Reads the value of `key` from `map` if the key is one of this section's; `false` for
    /// any other key (whose value the caller skips).
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
}

/// Every section is a [`Shape`] that takes a mapping.
macro_rules! section_shape {
    ($($section:ty),*) => {$(
        impl Shape for $section {
            fn expected() -> Cow<'static, str> {
                "a mapping of settings".into()
            }

            fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                let mut section = <$section>::default();
                let mut seen: Vec<String> = Vec::new();
                while let Some(Text(key)) = map.next_key::<Text>()? {
                    refuse_merge_key(&key)?;
                    if !section.read(&key, &mut map)? {
                        map.next_value::<IgnoredAny>()?;
                    } else if seen.contains(&key) {
                        return Err(de::Error::custom(format!("`{key}` is given twice")));
                    } else {
                        seen.push(key);
                    }
                }
                Ok(section)
            }
        }
    )*};
}

section_shape!(RawConfig, RawRedis, RawTls, RawLimit, RawRoom);

/// The value of a field read as `T`; `None` for `null`.
fn value<'de, T: Shape, A: MapAccess<'de>>(map: &mut A) -> Result<Option<T>, A::Error> {
    Ok(map
        .next_value::<Option<Shaped<T>>>()?
        .map(|shaped| shaped.0))
}

fn set_text<'de, A: MapAccess<'de>>(field: &mut String, map: &mut A) -> Result<(), A::Error> {
    if let Some(Text(text)) = map.next_value::<Option<Text>>()? {
        *field = text;
    }
    Ok(())
}

fn set_secret<'de, A: MapAccess<'de>>(
    field: &mut Zeroizing<String>,
    map: &mut A,
) -> Result<(), A::Error> {
    if let Some(Text(text)) = map.next_value::<Option<Text>>()? {
        *field = Zeroizing::new(text);
    }
    Ok(())
}

fn set_bool<'de, A: MapAccess<'de>>(field: &mut bool, map: &mut A) -> Result<(), A::Error> {
    if let Some(Bool(value)) = value(map)? {
        *field = value;
    }
    Ok(())
}

/// A Go `int` that must not be negative.
fn set_count<'de, A: MapAccess<'de>>(field: &mut u64, map: &mut A) -> Result<(), A::Error> {
    if let Some(Int(value)) = value::<Int<0, { i64::MAX }>, A>(map)? {
        *field = value as u64;
    }
    Ok(())
}

/// A Go `uint32`, or a Go `int` this crate keeps as a `u32`.
fn set_u32<'de, A: MapAccess<'de>>(field: &mut u32, map: &mut A) -> Result<(), A::Error> {
    if let Some(Int(value)) = value::<Int<0, U32>, A>(map)? {
        *field = value as u32;
    }
    Ok(())
}

fn set_u32_as_u64<'de, A: MapAccess<'de>>(field: &mut u64, map: &mut A) -> Result<(), A::Error> {
    if let Some(Int(value)) = value::<Int<0, U32>, A>(map)? {
        *field = value as u64;
    }
    Ok(())
}

impl Section for RawConfig {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "keys" => {
                if let Some(Keys(keys)) = value(map)? {
                    self.keys = keys;
                }
            }
            "key_file" => set_text(&mut self.key_file, map)?,
            "development" => set_bool(&mut self.development, map)?,
            "redis" => {
                if let Some(redis) = value(map)? {
                    self.redis = redis;
                }
            }
            "limit" => {
                if let Some(limit) = value(map)? {
                    self.limit = limit;
                }
            }
            "room" => {
                if let Some(room) = value(map)? {
                    self.room = room;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Section for RawRedis {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "address" => set_text(&mut self.address, map)?,
            "username" => set_text(&mut self.username, map)?,
            "password" => set_secret(&mut self.password, map)?,
            "db" => set_u32(&mut self.db, map)?,
            "use_tls" => set_bool(&mut self.use_tls, map)?,
            "tls" => self.tls = value(map)?,
            "sentinel_master_name" => set_text(&mut self.sentinel_master_name, map)?,
            "sentinel_username" => set_text(&mut self.sentinel_username, map)?,
            "sentinel_password" => set_secret(&mut self.sentinel_password, map)?,
            "sentinel_addresses" => {
                self.sentinel_addresses = value::<Addresses, A>(map)?.map_or(Vec::new(), |a| a.0)
            }
            "cluster_addresses" => {
                self.cluster_addresses = value::<Addresses, A>(map)?.map_or(Vec::new(), |a| a.0)
            }
            "dial_timeout" => set_count(&mut self.dial_timeout, map)?,
            "read_timeout" => set_count(&mut self.read_timeout, map)?,
            "write_timeout" => set_count(&mut self.write_timeout, map)?,
            "max_redirects" => {
                self.max_redirects = value::<Int<-1, U32>, A>(map)?.map(|Int(value)| value)
            }
            "pool_timeout" => {
                if let Some(Duration(nanos)) = value(map)? {
                    self.pool_timeout = nanos;
                }
            }
            "pool_size" => set_u32(&mut self.pool_size, map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Section for RawTls {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "enabled" => set_bool(&mut self.enabled, map)?,
            "insecure" => set_bool(&mut self.insecure, map)?,
            "server_name" => set_text(&mut self.server_name, map)?,
            "ca_cert_file" => set_text(&mut self.ca_cert_file, map)?,
            "client_cert_file" => set_text(&mut self.client_cert_file, map)?,
            "client_key_file" => set_text(&mut self.client_key_file, map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Section for RawLimit {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            // uint32 in LimitConfig
            "max_metadata_size" => set_u32_as_u64(&mut self.max_metadata_size, map)?,
            "max_attributes_size" => set_u32_as_u64(&mut self.max_attributes_size, map)?,
            // int in LimitConfig; a negative one would refuse every name
            "max_room_name_length" => set_count(&mut self.max_room_name_length, map)?,
            "max_participant_identity_length" => {
                set_count(&mut self.max_participant_identity_length, map)?
            }
            "max_participant_name_length" => set_count(&mut self.max_participant_name_length, map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Section for RawRoom {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "max_metadata_size" => set_u32_as_u64(&mut self.max_metadata_size, map)?,
            "max_room_name_length" => set_count(&mut self.max_room_name_length, map)?,
            "max_participant_identity_length" => {
                set_count(&mut self.max_participant_identity_length, map)?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> RawConfig {
        parse(text).unwrap_or_else(|err| panic!("{text:?}: {}", err.message))
    }

    fn refused(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("{text:?} was accepted"),
            Err(err) => {
                assert!(!err.syntax, "{text:?}: a type error, not a syntax one");
                err.message
            }
        }
    }

    /// Every field this crate reads, with values of each wrong kind: the error names the key
    /// path and what the field takes.
    #[test]
    fn every_wrong_type_of_every_field_is_an_error_naming_the_key() {
        const STRING: &str = "invalid type: map, expected a string";
        const STRING_SEQ: &str = "invalid type: sequence, expected a string";
        const MAPPING: &str = "expected a mapping of settings";
        const BOOL: &str = "expected a boolean (true or false)";
        const COUNT: &str = "expected a non-negative integer";
        const U32: &str = "expected an integer from 0 to 4294967295";
        const DURATION: &str = "expected a duration with its unit, such as `4s` or `500ms`";
        const ADDRESSES: &str = "expected a list of host:port addresses";
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str)] = &[
            ("keys: [a, b]", "keys", "expected a mapping of API key to secret, found a list"),
            ("keys: k1", "keys", "expected a mapping of API key to secret, found a string"),
            ("keys: {k: [s]}", "keys.k", STRING_SEQ),
            ("keys: {k: {s: t}}", "keys.k", STRING),
            ("key_file: {a: b}", "key_file", STRING),
            ("key_file: [a]", "key_file", STRING_SEQ),
            ("development: maybe", "development", "expected a boolean (true or false), found a string"),
            ("development: 1", "development", "expected a boolean (true or false), found the integer 1"),
            ("development: [true]", "development", "expected a boolean (true or false), found a list"),
            ("redis: 5", "redis", "expected a mapping of settings, found the integer 5"),
            ("redis: [a]", "redis", "expected a mapping of settings, found a list"),
            ("redis: {address: {a: b}}", "redis.address", STRING),
            ("redis: {address: [a]}", "redis.address", STRING_SEQ),
            ("redis: {username: [a]}", "redis.username", STRING_SEQ),
            ("redis: {password: {a: b}}", "redis.password", STRING),
            ("redis: {db: first}", "redis.db", "expected an integer from 0 to 4294967295, found a string"),
            ("redis: {db: -1}", "redis.db", "expected an integer from 0 to 4294967295, found the integer -1"),
            ("redis: {db: 4294967296}", "redis.db", U32),
            ("redis: {db: 1.5}", "redis.db", "found the number 1.5"),
            ("redis: {db: true}", "redis.db", "found a boolean"),
            ("redis: {db: [1]}", "redis.db", "found a list"),
            ("redis: {db: {a: 1}}", "redis.db", "found a mapping"),
            ("redis: {use_tls: 2}", "redis.use_tls", BOOL),
            ("redis: {use_tls: sure}", "redis.use_tls", BOOL),
            ("redis: {tls: yes}", "redis.tls", MAPPING),
            ("redis: {tls: [enabled]}", "redis.tls", MAPPING),
            ("redis: {tls: {enabled: sure}}", "redis.tls.enabled", BOOL),
            ("redis: {tls: {insecure: 3}}", "redis.tls.insecure", BOOL),
            ("redis: {tls: {server_name: [a]}}", "redis.tls.server_name", STRING_SEQ),
            ("redis: {tls: {ca_cert_file: {a: 1}}}", "redis.tls.ca_cert_file", STRING),
            ("redis: {tls: {client_cert_file: [a]}}", "redis.tls.client_cert_file", STRING_SEQ),
            ("redis: {tls: {client_key_file: {a: 1}}}", "redis.tls.client_key_file", STRING),
            ("redis: {sentinel_master_name: [a]}", "redis.sentinel_master_name", STRING_SEQ),
            ("redis: {sentinel_username: {a: b}}", "redis.sentinel_username", STRING),
            ("redis: {sentinel_password: [a]}", "redis.sentinel_password", STRING_SEQ),
            ("redis: {sentinel_addresses: 'h:26379'}", "redis.sentinel_addresses", ADDRESSES),
            ("redis: {sentinel_addresses: {a: b}}", "redis.sentinel_addresses", ADDRESSES),
            ("redis: {sentinel_addresses: [[a]]}", "redis.sentinel_addresses[0]", STRING_SEQ),
            ("redis: {sentinel_addresses: ['a:1', '']}", "redis.sentinel_addresses", "entry 1 is empty"),
            ("redis: {cluster_addresses: 5}", "redis.cluster_addresses", ADDRESSES),
            ("redis: {cluster_addresses: ['a:1', ~]}", "redis.cluster_addresses", "entry 1 is empty"),
            ("redis: {cluster_addresses: [{a: b}]}", "redis.cluster_addresses[0]", STRING),
            ("redis: {dial_timeout: 2s}", "redis.dial_timeout", COUNT),
            ("redis: {read_timeout: -1}", "redis.read_timeout", COUNT),
            ("redis: {write_timeout: [1]}", "redis.write_timeout", COUNT),
            ("redis: {max_redirects: -2}", "redis.max_redirects", "expected an integer from -1 to 4294967295, found the integer -2"),
            ("redis: {max_redirects: three}", "redis.max_redirects", "found a string"),
            ("redis: {pool_timeout: 5}", "redis.pool_timeout", "found the integer 5"),
            ("redis: {pool_timeout: soon}", "redis.pool_timeout", DURATION),
            ("redis: {pool_timeout: -1s}", "redis.pool_timeout", "found a negative duration"),
            ("redis: {pool_timeout: [4s]}", "redis.pool_timeout", DURATION),
            ("redis: {pool_size: ten}", "redis.pool_size", U32),
            ("redis: {pool_size: -4}", "redis.pool_size", U32),
            ("limit: [1]", "limit", MAPPING),
            ("limit: {max_metadata_size: -1}", "limit.max_metadata_size", U32),
            ("limit: {max_metadata_size: 4294967296}", "limit.max_metadata_size", U32),
            ("limit: {max_attributes_size: big}", "limit.max_attributes_size", U32),
            ("limit: {max_room_name_length: -1}", "limit.max_room_name_length", COUNT),
            ("limit: {max_participant_identity_length: 1.5}", "limit.max_participant_identity_length", COUNT),
            ("limit: {max_participant_name_length: {}}", "limit.max_participant_name_length", COUNT),
            ("room: x", "room", MAPPING),
            ("room: {max_metadata_size: x}", "room.max_metadata_size", U32),
            ("room: {max_room_name_length: x}", "room.max_room_name_length", COUNT),
            ("room: {max_participant_identity_length: x}", "room.max_participant_identity_length", COUNT),
        ];
        for (yaml, path, expected) in cases {
            let message = refused(yaml);
            assert!(
                message.starts_with(&format!("{path}: ")),
                "{yaml}: {message}"
            );
            assert!(message.contains(expected), "{yaml}: {message}");
            assert!(message.contains(" at line "), "{yaml}: {message}");
        }
    }

    #[test]
    fn values_are_decoded_as_yaml_v3_decodes_them_into_go_types() {
        let raw = read(
            "redis:\n  password: 0123\n  username: 1e3\n  address: true\n  db: 0x0A\n  \
             pool_size: 1_000\n  dial_timeout: 010\n  read_timeout: 2.0\n  use_tls: yes\n  \
             pool_timeout: 1.5s\n  max_redirects: ~\n",
        );
        assert_eq!(raw.redis.password.as_str(), "0123", "a secret is its text");
        assert_eq!(raw.redis.username, "1e3");
        assert_eq!(raw.redis.address, "true");
        assert_eq!(raw.redis.db, 10);
        assert_eq!(raw.redis.pool_size, 1000);
        assert_eq!(
            raw.redis.dial_timeout, 8,
            "YAML 1.1 octal, as yaml.v3 reads it"
        );
        assert_eq!(raw.redis.read_timeout, 2);
        assert!(raw.redis.use_tls);
        assert_eq!(raw.redis.pool_timeout, 1_500_000_000);
        assert_eq!(raw.redis.max_redirects, None, "null leaves a *int nil");
    }

    #[test]
    fn null_leaves_a_setting_at_its_default() {
        let raw = read(
            "keys:\nkey_file: ~\nredis:\n  db:\n  tls: null\nlimit:\n  max_metadata_size: ~\n",
        );
        assert!(raw.keys.is_empty());
        assert!(raw.key_file.is_empty());
        assert!(raw.redis.tls.is_none());
        assert_eq!(
            raw.limit.max_metadata_size,
            DEFAULT_MAX_METADATA_SIZE as u64
        );
    }

    #[test]
    fn unknown_keys_are_ignored_at_every_level() {
        let raw = read(
            "port: 7880\nrtc: {tcp_port: 7881, stun_servers: [a, b]}\n\
             redis: {address: 'r:6379', future_option: [1, {x: y}], tls: {enabled: true, alpn: h2}}\n\
             limit: {num_tracks: -1, bytes_per_sec: 1_000_000_000, max_metadata_size: 7}\n\
             room: {auto_create: false, enabled_codecs: [{mime: audio/opus}]}\n",
        );
        assert_eq!(raw.redis.address, "r:6379");
        assert!(raw.redis.tls.is_some_and(|tls| tls.enabled));
        assert_eq!(raw.limit.max_metadata_size, 7);
    }

    #[test]
    fn a_setting_given_twice_is_an_error() {
        assert!(refused("redis:\n  db: 1\n  db: 2\n").contains("`db` is given twice"));
        let keys = refused("keys:\n  k: a\n  k: b\n");
        assert!(keys.contains("API key `k` is given twice"), "{keys}");
        assert!(!keys.contains(": a") && !keys.contains(": b"), "{keys}");
    }

    #[test]
    fn merge_keys_in_a_section_read_here_are_refused() {
        let message = refused("base: &r {address: 'r:6379'}\nredis:\n  <<: *r\n");
        assert!(message.starts_with("redis: "), "{message}");
        assert!(message.contains("merge keys"), "{message}");
    }

    #[test]
    fn text_that_is_not_yaml_is_a_syntax_error() {
        let err = parse("redis: {address: [}\n").err().expect("refused");
        assert!(err.syntax, "{}", err.message);
        assert!(!err.message.contains("invalid type"), "{}", err.message);
        let err = parse("- a\n- b\n").err().expect("refused");
        assert!(!err.syntax, "a list is YAML, of the wrong type");
        assert!(
            err.message.contains("expected a mapping"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_empty_text_is_the_defaults() {
        for text in ["", "\n", "# only a comment\n", "~"] {
            let raw = read(text);
            assert!(
                raw.keys.is_empty() && raw.redis.address.is_empty(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn keys_keep_the_file_order_and_their_text() {
        let raw = read("keys:\n  zkey: 12345\n  akey: \"quoted: text\"\n");
        let pairs: Vec<(&str, &str)> = raw
            .keys
            .iter()
            .map(|(key, secret)| (key.as_str(), secret.as_str()))
            .collect();
        assert_eq!(pairs, [("zkey", "12345"), ("akey", "quoted: text")]);
    }
}
