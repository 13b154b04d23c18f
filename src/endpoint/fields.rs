//! Which of the request's fields the token would not carry as the client asked for them.
//!
//! LiveKit's endpoint standard: "For fields clients aren't allowed to set, return a 4xx status
//! code" (docs.livekit.io, Frontends › Authentication › Endpoint token generation). So a field
//! the client set is either in the token exactly as it asked, or the request is refused with
//! the field's name; it is never dropped or replaced in silence, which would hand the client a
//! token for something other than it asked (another identity, a room without its agent, ...).
//!
//! A field is set when it is not empty, as proto3 reads `TokenSourceRequest`: `""`, `0`, `false`,
//! `{}` and `[]` set nothing. The Swift, Android and Flutter SDKs always send `room_config: {}`
//! and livekit-client always fills `participant_attributes` (`{}` when not given): neither
//! sets a field.

use std::collections::BTreeMap;

use super::TokenRequest;
use crate::claims::{ClaimsData, RoomConfiguration};

/// The fields of `request` (by their wire names; `room_config.max_participants` for a part of
/// `room_config`) that are set and that `token` does not carry as asked, in the request's order,
/// then `room_config.egress` when the token orders egress and the policy did not allow it.
pub(super) fn not_allowed(
    request: &TokenRequest,
    token: &ClaimsData,
    allow_egress: bool,
) -> Vec<&'static str> {
    let mut refused = Vec::new();
    let mut check = |field: &'static str, set: bool, carried: bool| {
        if set && !carried {
            refused.push(field);
        }
    };
    if let Some(asked) = non_empty(&request.room_name) {
        let room = token.video.as_ref().map_or("", |video| video.room());
        check("room_name", true, room == asked);
    }
    if let Some(asked) = non_empty(&request.participant_identity) {
        check("participant_identity", true, text(&token.sub) == asked);
    }
    if let Some(asked) = non_empty(&request.participant_name) {
        check("participant_name", true, text(&token.name) == asked);
    }
    if let Some(asked) = non_empty(&request.participant_metadata) {
        check("participant_metadata", true, text(&token.metadata) == asked);
    }
    if let Some(asked) = request.participant_attributes.as_ref() {
        let carried = asked.iter().all(|(key, value)| {
            let got = token.attributes.as_ref().and_then(|a| a.get(key));
            got == Some(value.as_str())
        });
        check("participant_attributes", !asked.is_empty(), carried);
    }
    if let Some(asked) = request.room_config.as_ref() {
        let got = token.room_config.as_deref();
        room_config(asked, got, &mut check);
    }
    let egress = token
        .room_config
        .as_deref()
        .and_then(|config| config.egress.as_ref())
        .is_some_and(json_set);
    if egress && !allow_egress && !refused.contains(&"room_config.egress") {
        refused.push("room_config.egress");
    }
    refused
}

/// Each part of the requested room configuration against the token's. The destructuring is
/// exhaustive on purpose: a new field of `RoomConfiguration` does not compile until it is
/// checked here.
fn room_config(
    asked: &RoomConfiguration,
    got: Option<&RoomConfiguration>,
    check: &mut impl FnMut(&'static str, bool, bool),
) {
    let empty = RoomConfiguration::default();
    let got = got.unwrap_or(&empty);
    let RoomConfiguration {
        name,
        empty_timeout,
        departure_timeout,
        max_participants,
        metadata,
        egress,
        min_playout_delay,
        max_playout_delay,
        sync_streams,
        agents,
        tags,
    } = asked;
    let number = |n: &Option<u32>| n.is_some_and(|n| n != 0);
    let string = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    check("room_config.name", string(name), *name == got.name);
    check(
        "room_config.empty_timeout",
        number(empty_timeout),
        *empty_timeout == got.empty_timeout,
    );
    check(
        "room_config.departure_timeout",
        number(departure_timeout),
        *departure_timeout == got.departure_timeout,
    );
    check(
        "room_config.max_participants",
        number(max_participants),
        *max_participants == got.max_participants,
    );
    check(
        "room_config.metadata",
        string(metadata),
        *metadata == got.metadata,
    );
    check(
        "room_config.egress",
        egress.as_ref().is_some_and(json_set),
        *egress == got.egress,
    );
    check(
        "room_config.min_playout_delay",
        number(min_playout_delay),
        *min_playout_delay == got.min_playout_delay,
    );
    check(
        "room_config.max_playout_delay",
        number(max_playout_delay),
        *max_playout_delay == got.max_playout_delay,
    );
    check(
        "room_config.sync_streams",
        *sync_streams == Some(true),
        *sync_streams == got.sync_streams,
    );
    check(
        "room_config.agents",
        !agents.is_empty(),
        *agents == got.agents,
    );
    check(
        "room_config.tags",
        tags.as_ref()
            .is_some_and(|t: &BTreeMap<_, _>| !t.is_empty()),
        *tags == got.tags,
    );
}

/// A text claim of the token, `""` when absent.
fn text(claim: &Option<compact_str::CompactString>) -> &str {
    claim.as_deref().unwrap_or("")
}

fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|value| !value.is_empty())
}

/// An opaque protobuf message in JSON (`egress`): set unless `null` or `{}`.
fn json_set(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::Object(fields) => !fields.is_empty(),
        _ => true,
    }
}
