//! The wire form of a token's payload, and the one-pass parser that reads it.
//!
//! The parser is hand-written over serde's `MapAccess` (rather than derived) for three reasons:
//! it refuses a payload that repeats any key it reads (two `exp`: refused rather than one picked,
//! so that no two readers of the same token can see different values; the server's Go
//! `encoding/json` keeps the last); it names the claim whose value is wrong, without
//! allocating; and it reads `null` as absent for every key, as Go's `encoding/json` leaves a
//! field unset for `null`.

use std::cell::Cell;
use std::fmt;

use compact_str::CompactString;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::attributes::AttributesSeed;
use super::date::NumericDate;
use super::object::Object;
use super::{
    AgentGrant, Attributes, InferenceGrant, ObservabilityGrant, RoomConfiguration, SipGrant,
    VideoGrant,
};

/// Every claim this crate reads, exactly as the token had it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClaimsData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iss: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sub: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) jti: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) aud: Option<Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exp: Option<NumericDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nbf: Option<NumericDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iat: Option<NumericDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind_details: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metadata: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attributes: Option<Attributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) video: Option<VideoGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sip: Option<SipGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) agent: Option<AgentGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) inference: Option<InferenceGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) observability: Option<ObservabilityGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) room_preset: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Boxed: rare in a token, and the largest claim, so that the claims stay small to build.
    pub(crate) room_config: Option<Box<RoomConfiguration>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sha256: Option<CompactString>,
}

/// `aud`: one string or a list of them (RFC 7519 §4.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub(crate) fn contains(&self, wanted: &str) -> bool {
        match self {
            Audience::One(aud) => aud == wanted,
            Audience::Many(list) => list.iter().any(|aud| aud == wanted),
        }
    }
}

/// Why the payload was refused, when it was the claims' fault rather than the JSON syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClaimFault {
    /// The payload repeats this key.
    Duplicate(&'static str),
    /// The value of this key has the wrong type or is out of range.
    Invalid(&'static str),
}

/// Parses a payload into `target` (in place, so that the verifier can parse straight into the
/// `Arc` it returns), leaving in `fault` which claim was to blame if it fails.
pub(crate) struct ClaimsSeed<'a> {
    pub(crate) fault: &'a Cell<Option<ClaimFault>>,
    pub(crate) target: &'a mut ClaimsData,
    /// Read `name` and `metadata` as raw text ([`read_text`]): only for serde_json, whose raw
    /// values let the parser skip its scratch buffer. (`Claims`' own `Deserialize` serves any
    /// format, so it says false.)
    pub(crate) raw_text: bool,
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(ClaimsVisitor {
            fault: self.fault,
            data: self.target,
            raw_text: self.raw_text,
        })
    }
}

impl<'de> Deserialize<'de> for ClaimsData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut data = ClaimsData::default();
        ClaimsSeed {
            fault: &Cell::new(None),
            target: &mut data,
            raw_text: false,
        }
        .deserialize(deserializer)?;
        Ok(data)
    }
}

/// The keys the parser reads. The order of the variants gives the bit in the `seen` mask.
#[derive(Clone, Copy, Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Key {
    Iss,
    Sub,
    Jti,
    Aud,
    Exp,
    Nbf,
    Iat,
    Name,
    Kind,
    KindDetails,
    Metadata,
    Attributes,
    Video,
    Sip,
    Agent,
    Inference,
    Observability,
    RoomPreset,
    RoomConfig,
    Sha256,
    #[serde(other)]
    Other,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Iss => "iss",
            Key::Sub => "sub",
            Key::Jti => "jti",
            Key::Aud => "aud",
            Key::Exp => "exp",
            Key::Nbf => "nbf",
            Key::Iat => "iat",
            Key::Name => "name",
            Key::Kind => "kind",
            Key::KindDetails => "kindDetails",
            Key::Metadata => "metadata",
            Key::Attributes => "attributes",
            Key::Video => "video",
            Key::Sip => "sip",
            Key::Agent => "agent",
            Key::Inference => "inference",
            Key::Observability => "observability",
            Key::RoomPreset => "roomPreset",
            Key::RoomConfig => "roomConfig",
            Key::Sha256 => "sha256",
            Key::Other => "",
        }
    }
}

struct ClaimsVisitor<'a> {
    fault: &'a Cell<Option<ClaimFault>>,
    data: &'a mut ClaimsData,
    raw_text: bool,
}

/// Reads the value of `key` into `slot`, `null` meaning absent; on error, blames `key`.
fn read<'de, A, T>(
    fault: &Cell<Option<ClaimFault>>,
    map: &mut A,
    key: Key,
    slot: &mut Option<T>,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    match map.next_value::<Option<T>>() {
        Ok(value) => {
            *slot = value;
            Ok(())
        }
        Err(err) => {
            fault.set(Some(ClaimFault::Invalid(key.name())));
            Err(err)
        }
    }
}

/// [`read`] for a string claim that often holds escapes (`name`, `metadata`). From serde_json
/// (`raw_text` true), it is read as raw JSON text and unescaped into one allocation (see
/// [`json_text`](super::json_text)); from any other deserializer, as [`read`] does.
fn read_text<'de, A>(
    fault: &Cell<Option<ClaimFault>>,
    map: &mut A,
    key: Key,
    slot: &mut Option<CompactString>,
    raw_text: bool,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
{
    if !raw_text {
        return read(fault, map, key, slot);
    }
    let text = match map.next_value::<Option<&'de RawValue>>() {
        Ok(None) => None,
        Ok(Some(raw)) => match super::json_text::unescape(raw.get()) {
            Some(text) => Some(text),
            None => {
                fault.set(Some(ClaimFault::Invalid(key.name())));
                return Err(de::Error::custom("expected a JSON string"));
            }
        },
        Err(err) => {
            fault.set(Some(ClaimFault::Invalid(key.name())));
            return Err(err);
        }
    };
    *slot = text;
    Ok(())
}

/// [`read`] for a grant or message, which must be a JSON object.
fn read_object<'de, A, T>(
    fault: &Cell<Option<ClaimFault>>,
    map: &mut A,
    key: Key,
    slot: &mut Option<T>,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    let mut object: Option<Object<T>> = None;
    read(fault, map, key, &mut object)?;
    *slot = object.map(|Object(value)| value);
    Ok(())
}

impl<'de> Visitor<'de> for ClaimsVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of LiveKit claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ClaimsVisitor {
            fault,
            data,
            raw_text,
        } = self;
        let mut seen: u32 = 0;
        while let Some(key) = map.next_key::<Key>()? {
            if let Key::Other = key {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let bit = 1u32 << (key as u32);
            if seen & bit != 0 {
                fault.set(Some(ClaimFault::Duplicate(key.name())));
                return Err(de::Error::custom("duplicate key"));
            }
            seen |= bit;
            match key {
                Key::Iss => read(fault, &mut map, key, &mut data.iss)?,
                Key::Sub => read(fault, &mut map, key, &mut data.sub)?,
                Key::Jti => read(fault, &mut map, key, &mut data.jti)?,
                Key::Aud => read(fault, &mut map, key, &mut data.aud)?,
                Key::Exp => read(fault, &mut map, key, &mut data.exp)?,
                Key::Nbf => read(fault, &mut map, key, &mut data.nbf)?,
                Key::Iat => read(fault, &mut map, key, &mut data.iat)?,
                Key::Name => read_text(fault, &mut map, key, &mut data.name, raw_text)?,
                Key::Kind => read(fault, &mut map, key, &mut data.kind)?,
                Key::KindDetails => read(fault, &mut map, key, &mut data.kind_details)?,
                Key::Metadata => {
                    read_text(fault, &mut map, key, &mut data.metadata, raw_text)?;
                }
                Key::Attributes => {
                    if let Err(err) = map.next_value_seed(AttributesSeed(&mut data.attributes)) {
                        fault.set(Some(ClaimFault::Invalid(key.name())));
                        return Err(err);
                    }
                }
                Key::Video => read_object(fault, &mut map, key, &mut data.video)?,
                Key::Sip => read_object(fault, &mut map, key, &mut data.sip)?,
                Key::Agent => read_object(fault, &mut map, key, &mut data.agent)?,
                Key::Inference => read_object(fault, &mut map, key, &mut data.inference)?,
                Key::Observability => read_object(fault, &mut map, key, &mut data.observability)?,
                Key::RoomPreset => read(fault, &mut map, key, &mut data.room_preset)?,
                Key::RoomConfig => read_object(fault, &mut map, key, &mut data.room_config)?,
                Key::Sha256 => read(fault, &mut map, key, &mut data.sha256)?,
                Key::Other => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> (Result<ClaimsData, serde_json::Error>, Option<ClaimFault>) {
        let fault = Cell::new(None);
        let mut data = ClaimsData::default();
        let mut de = serde_json::Deserializer::from_str(json);
        let result = ClaimsSeed {
            fault: &fault,
            target: &mut data,
            raw_text: true,
        }
        .deserialize(&mut de);
        (result.map(|()| data), fault.get())
    }

    #[test]
    fn repeated_read_keys_are_refused_even_when_escaped() {
        let (result, fault) = parse(r#"{"exp":1,"exp":2}"#);
        assert!(result.is_err());
        assert_eq!(fault, Some(ClaimFault::Duplicate("exp")));
        let (result, fault) = parse(r#"{"iss":"a","\u0069ss":"b"}"#);
        assert!(result.is_err());
        assert_eq!(fault, Some(ClaimFault::Duplicate("iss")));
    }

    #[test]
    fn repeated_unknown_keys_are_ignored() {
        let (result, _) = parse(r#"{"identity":"a","identity":"b","exp":1}"#);
        assert!(result.is_ok());
    }

    #[test]
    fn wrong_types_name_the_claim() {
        for (json, claim) in [
            (r#"{"exp":"1700000000"}"#, "exp"),
            (r#"{"attributes":{"k":1}}"#, "attributes"),
            (r#"{"attributes":{"k":"a","k":"b"}}"#, "attributes"),
            (r#"{"video":"admin"}"#, "video"),
            (r#"{"video":[]}"#, "video"),
            (r#"{"video":{"roomJoin":"yes"}}"#, "video"),
            (r#"{"sub":7}"#, "sub"),
            (r#"{"sip":[true]}"#, "sip"),
            (r#"{"roomConfig":[]}"#, "roomConfig"),
            (r#"{"roomConfig":{"agents":[["a"]]}}"#, "roomConfig"),
        ] {
            let (result, fault) = parse(json);
            assert!(result.is_err(), "{json}");
            assert_eq!(fault, Some(ClaimFault::Invalid(claim)), "{json}");
        }
    }

    #[test]
    fn null_is_absent_and_unknown_keys_are_ignored() {
        let (result, _) = parse(r#"{"roomConfig":null,"video":null,"x":{"y":[1,2]},"name":null}"#);
        assert_eq!(result.expect("parses"), ClaimsData::default());
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_refused_without_blaming_a_claim() {
        let (result, fault) = parse("[1,2]");
        assert!(result.is_err());
        assert_eq!(fault, None);
    }
}
