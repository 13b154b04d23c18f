//! `roomConfig`: the protobuf `livekit.RoomConfiguration` a token carries.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::object::object_list;

/// The `roomConfig` claim: how to create the room when this participant's join creates it,
/// including which agents to dispatch.
///
/// It is protobuf-JSON: the SDKs write camelCase names, the snake_case proto names are equally
/// valid (the JS client sends `agent_name`), both are read. 32-bit integers may be numbers or
/// numeric strings, enums names or numbers. It is written back in camelCase with enums as names,
/// the form every SDK writes. `egress` is kept as opaque JSON.
///
/// ```
/// use tower_livekit_auth::RoomConfiguration;
///
/// let config: RoomConfiguration =
///     serde_json::from_str(r#"{"agents":[{"agent_name":"support","metadata":"{}"}]}"#).unwrap();
/// assert_eq!(config.agents[0].agent_name.as_deref(), Some("support"));
/// assert_eq!(
///     serde_json::to_string(&config).unwrap(),
///     r#"{"agents":[{"agentName":"support","metadata":"{}"}]}"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomConfiguration {
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `emptyTimeout`, seconds.
    #[serde(
        default,
        alias = "empty_timeout",
        deserialize_with = "proto_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub empty_timeout: Option<u32>,
    /// `departureTimeout`, seconds.
    #[serde(
        default,
        alias = "departure_timeout",
        deserialize_with = "proto_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub departure_timeout: Option<u32>,
    /// `maxParticipants`.
    #[serde(
        default,
        alias = "max_participants",
        deserialize_with = "proto_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_participants: Option<u32>,
    /// `metadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// `egress`: a `RoomEgress`, kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<serde_json::Value>,
    /// `minPlayoutDelay`, milliseconds.
    #[serde(
        default,
        alias = "min_playout_delay",
        deserialize_with = "proto_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_playout_delay: Option<u32>,
    /// `maxPlayoutDelay`, milliseconds.
    #[serde(
        default,
        alias = "max_playout_delay",
        deserialize_with = "proto_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_playout_delay: Option<u32>,
    /// `syncStreams`.
    #[serde(
        default,
        alias = "sync_streams",
        skip_serializing_if = "Option::is_none"
    )]
    pub sync_streams: Option<bool>,
    /// `agents`: the agents to dispatch when the room is created.
    #[serde(
        default,
        deserialize_with = "object_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub agents: Vec<RoomAgentDispatch>,
    /// `tags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// One entry of `roomConfig.agents` (`livekit.RoomAgentDispatch`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomAgentDispatch {
    /// `agentName`: which agent to dispatch.
    #[serde(default, alias = "agent_name", skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// `metadata` handed to the agent job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// `restartPolicy`.
    #[serde(
        default,
        alias = "restart_policy",
        skip_serializing_if = "Option::is_none"
    )]
    pub restart_policy: Option<JobRestartPolicy>,
    /// `deployment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// `attributes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
}

impl RoomConfiguration {
    /// A room configuration with nothing set.
    #[must_use]
    pub fn new() -> Self {
        RoomConfiguration::default()
    }

    /// Adds `agent` to the agents dispatched when the room is created.
    #[must_use]
    pub fn with_agent(mut self, agent: RoomAgentDispatch) -> Self {
        self.agents.push(agent);
        self
    }

    /// `name`.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// `metadata` of the room.
    #[must_use]
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.metadata = Some(metadata.into());
        self
    }

    /// `emptyTimeout`, seconds.
    #[must_use]
    pub fn with_empty_timeout(mut self, seconds: u32) -> Self {
        self.empty_timeout = Some(seconds);
        self
    }

    /// `departureTimeout`, seconds.
    #[must_use]
    pub fn with_departure_timeout(mut self, seconds: u32) -> Self {
        self.departure_timeout = Some(seconds);
        self
    }

    /// `maxParticipants`.
    #[must_use]
    pub fn with_max_participants(mut self, max: u32) -> Self {
        self.max_participants = Some(max);
        self
    }
}

impl RoomAgentDispatch {
    /// Dispatch the agent named `agent_name`.
    #[must_use]
    pub fn new(agent_name: impl Into<String>) -> Self {
        RoomAgentDispatch {
            agent_name: Some(agent_name.into()),
            ..RoomAgentDispatch::default()
        }
    }

    /// `metadata` handed to the agent job.
    #[must_use]
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.metadata = Some(metadata.into());
        self
    }

    /// `deployment`: which deployment of the agent.
    #[must_use]
    pub fn with_deployment(mut self, deployment: impl Into<String>) -> Self {
        self.deployment = Some(deployment.into());
        self
    }

    /// `restartPolicy`.
    #[must_use]
    pub fn with_restart_policy(mut self, policy: JobRestartPolicy) -> Self {
        self.restart_policy = Some(policy);
        self
    }

    /// `attributes` of the agent's participant.
    #[must_use]
    pub fn with_attributes<K, V>(mut self, attributes: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.attributes = Some(
            attributes
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }
}

/// `livekit.JobRestartPolicy`: what the server does when an agent job ends, read from its name
/// or number.
///
/// The protocol names two values, `JRP_ON_FAILURE` (0) and `JRP_NEVER` (1). Any other number is
/// kept as [`Other`](JobRestartPolicy::Other) and written back as that number (protobuf enums
/// are open: a newer server may know it); a name other than the two is refused, as the server
/// refuses it.
///
/// ```
/// use tower_livekit_auth::{JobRestartPolicy, RoomAgentDispatch};
///
/// let agent: RoomAgentDispatch = serde_json::from_str(r#"{"restartPolicy":1}"#).unwrap();
/// assert_eq!(agent.restart_policy, Some(JobRestartPolicy::Never));
/// assert_eq!(serde_json::to_string(&agent).unwrap(), r#"{"restartPolicy":"JRP_NEVER"}"#);
///
/// let agent: RoomAgentDispatch = serde_json::from_str(r#"{"restartPolicy":7}"#).unwrap();
/// assert_eq!(serde_json::to_string(&agent).unwrap(), r#"{"restartPolicy":7}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobRestartPolicy {
    /// `JRP_ON_FAILURE` (0): restart the job when it fails; the protocol's default.
    OnFailure,
    /// `JRP_NEVER` (1): never restart the job.
    Never,
    /// A number the protocol does not name, kept as is (reading never gives 0 or 1 here).
    Other(i32),
}

impl JobRestartPolicy {
    fn from_number(n: i64) -> Option<Self> {
        Some(match n {
            0 => JobRestartPolicy::OnFailure,
            1 => JobRestartPolicy::Never,
            n => JobRestartPolicy::Other(i32::try_from(n).ok()?),
        })
    }
}

impl Serialize for JobRestartPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JobRestartPolicy::OnFailure => serializer.serialize_str("JRP_ON_FAILURE"),
            JobRestartPolicy::Never => serializer.serialize_str("JRP_NEVER"),
            JobRestartPolicy::Other(n) => serializer.serialize_i32(*n),
        }
    }
}

impl<'de> Deserialize<'de> for JobRestartPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PolicyVisitor;
        impl Visitor<'_> for PolicyVisitor {
            type Value = JobRestartPolicy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JobRestartPolicy name or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "JRP_ON_FAILURE" => Ok(JobRestartPolicy::OnFailure),
                    "JRP_NEVER" => Ok(JobRestartPolicy::Never),
                    _ => Err(E::custom(
                        "unknown JobRestartPolicy name: expected JRP_ON_FAILURE or JRP_NEVER \
                         (or the enum's number)",
                    )),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                JobRestartPolicy::from_number(v)
                    .ok_or_else(|| E::custom("enum number out of range"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(JobRestartPolicy::from_number)
                    .ok_or_else(|| E::custom("enum number out of range"))
            }
        }
        deserializer.deserialize_any(PolicyVisitor)
    }
}

/// A protobuf-JSON `uint32`: a number, or a string holding one; `null` is absent.
fn proto_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    struct U32Visitor;
    impl Visitor<'_> for U32Visitor {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a uint32 as a number or a string")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("uint32 out of range"))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("uint32 out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // protojson accepts a float with no fractional part, such as 5.0.
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                Ok(Some(v as u32))
            } else {
                Err(E::custom("uint32 out of range"))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.parse::<u32>()
                .map(Some)
                .map_err(|_| E::custom("uint32 string is not a number"))
        }
    }
    deserializer.deserialize_any(U32Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<RoomConfiguration, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn node_full_defaults_are_read() {
        let c = parse(
            r#"{"name":"","emptyTimeout":0,"departureTimeout":0,"maxParticipants":0,
            "metadata":"","minPlayoutDelay":0,"maxPlayoutDelay":0,"syncStreams":false,
            "agents":[{"agentName":"a","metadata":"","restartPolicy":"JRP_ON_FAILURE",
            "deployment":"","attributes":{}}],"tags":{}}"#,
        )
        .expect("node roomConfig parses");
        assert_eq!(c.empty_timeout, Some(0));
        assert_eq!(
            c.agents[0].restart_policy,
            Some(JobRestartPolicy::OnFailure)
        );
    }

    #[test]
    fn snake_case_names_strings_and_enum_numbers_are_accepted() {
        let c = parse(
            r#"{"max_participants":"7","agents":[{"agent_name":"x","restart_policy":1}],
            "sync_streams":true}"#,
        )
        .expect("snake_case roomConfig parses");
        assert_eq!(c.max_participants, Some(7));
        assert_eq!(c.sync_streams, Some(true));
        assert_eq!(c.agents[0].agent_name.as_deref(), Some("x"));
        assert_eq!(c.agents[0].restart_policy, Some(JobRestartPolicy::Never));
    }

    fn policy_round_trip(json: &str) -> (Option<JobRestartPolicy>, String) {
        let agent: RoomAgentDispatch = serde_json::from_str(json).expect("dispatch parses");
        let back = serde_json::to_string(&agent).expect("serializes");
        (agent.restart_policy, back)
    }

    #[test]
    fn restart_policy_numbers_are_the_protocol_ones() {
        // livekit.JobRestartPolicy: JRP_ON_FAILURE = 0, JRP_NEVER = 1, nothing else.
        assert_eq!(
            policy_round_trip(r#"{"restartPolicy":0}"#),
            (
                Some(JobRestartPolicy::OnFailure),
                r#"{"restartPolicy":"JRP_ON_FAILURE"}"#.into()
            )
        );
        assert_eq!(
            policy_round_trip(r#"{"restartPolicy":1}"#),
            (
                Some(JobRestartPolicy::Never),
                r#"{"restartPolicy":"JRP_NEVER"}"#.into()
            )
        );
        assert_eq!(
            policy_round_trip(r#"{"restartPolicy":"JRP_NEVER"}"#),
            (
                Some(JobRestartPolicy::Never),
                r#"{"restartPolicy":"JRP_NEVER"}"#.into()
            )
        );
    }

    #[test]
    fn unnamed_restart_policy_numbers_stay_numbers() {
        for n in [2_i64, 3, -1, i64::from(i32::MAX), i64::from(i32::MIN)] {
            let json = format!(r#"{{"restartPolicy":{n}}}"#);
            let expected = JobRestartPolicy::Other(i32::try_from(n).expect("in range"));
            assert_eq!(policy_round_trip(&json), (Some(expected), json.clone()));
        }
        for n in [i64::from(i32::MAX) + 1, i64::from(i32::MIN) - 1] {
            let json = format!(r#"{{"restartPolicy":{n}}}"#);
            assert!(
                serde_json::from_str::<RoomAgentDispatch>(&json).is_err(),
                "{n}"
            );
        }
    }

    #[test]
    fn restart_policy_names_outside_the_protocol_are_refused() {
        for name in ["JRP_ALWAYS", "jrp_never", "NEVER", "", "1"] {
            let json = format!(r#"{{"restartPolicy":"{name}"}}"#);
            let err = serde_json::from_str::<RoomAgentDispatch>(&json).expect_err(name);
            assert!(
                err.to_string()
                    .contains("expected JRP_ON_FAILURE or JRP_NEVER"),
                "{err}"
            );
        }
    }

    #[test]
    fn both_spellings_of_one_field_are_a_duplicate() {
        assert!(parse(r#"{"agents":[{"agentName":"a","agent_name":"b"}]}"#).is_err());
    }

    #[test]
    fn out_of_range_and_wrong_types_are_rejected() {
        assert!(parse(r#"{"maxParticipants":-1}"#).is_err());
        assert!(parse(r#"{"maxParticipants":4294967296}"#).is_err());
        assert!(parse(r#"{"maxParticipants":"many"}"#).is_err());
        assert!(parse(r#"{"agents":{}}"#).is_err());
        assert!(parse(r#"{"agents":[{"restartPolicy":"SOMETIMES"}]}"#).is_err());
    }

    #[test]
    fn egress_is_kept_opaque_and_null_agents_are_empty() {
        let c = parse(r#"{"egress":{"room":{"filepath":"x"}},"agents":null}"#).expect("parses");
        assert!(c.agents.is_empty());
        assert_eq!(
            serde_json::to_string(&c).expect("serializes"),
            r#"{"egress":{"room":{"filepath":"x"}}}"#
        );
    }
}
