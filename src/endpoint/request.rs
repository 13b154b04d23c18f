//! [`TokenRequest`]: the JSON a frontend's endpoint `TokenSource` sends.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::claims::{Object, RoomConfiguration};

/// The JSON a frontend's endpoint `TokenSource` sends: LiveKit's `TokenSourceRequest`
/// (`livekit/protocol`'s `protobufs/livekit_token_source.proto`; LiveKit's docs, "Endpoint token
/// generation"). Every field is optional; `{}` is valid. Every field is the client's own choice: a [`TokenPolicy`](super::TokenPolicy)
/// decides what of it goes into the token ([`TokenApproval`](super::TokenApproval)'s `accept_*`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct TokenRequest {
    /// `room_name`: the room to join.
    #[serde(default)]
    pub room_name: Option<String>,
    /// `participant_identity`.
    #[serde(default)]
    pub participant_identity: Option<String>,
    /// `participant_name`.
    #[serde(default)]
    pub participant_name: Option<String>,
    /// `participant_metadata`.
    #[serde(default)]
    pub participant_metadata: Option<String>,
    /// `participant_attributes`.
    #[serde(default)]
    pub participant_attributes: Option<BTreeMap<String, String>>,
    /// `room_config`: snake_case or camelCase keys, e.g. `{"agents":[{"agent_name":"x"}]}`.
    #[serde(default, deserialize_with = "object")]
    pub room_config: Option<RoomConfiguration>,
}

fn object<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RoomConfiguration>, D::Error> {
    Ok(Option::<Object<RoomConfiguration>>::deserialize(d)?.map(|Object(config)| config))
}
