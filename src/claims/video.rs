//! The video grant (`video` claim): room permissions.

use serde::{Deserialize, Serialize};

use super::TrackSource;

/// The `video` claim: what the participant may do in rooms (spec §3).
///
/// Every field is optional and kept exactly as the token had it: `None` is "absent" and is not
/// serialized, `Some(false)` is an explicit `false` and stays one. The LiveKit server's defaults
/// (publish and subscribe allowed when unset, data following publish, ...) are applied by the
/// permission methods on [`Claims`](crate::Claims) and here, never by changing the fields.
///
/// Grant keys are camelCase only; a snake_case key such as `room_join` is ignored, as the LiveKit
/// server ignores it.
///
/// ```
/// use tower_livekit_auth::{TrackSource, VideoGrant};
///
/// let grant = VideoGrant {
///     can_publish_sources: Some(vec!["camera".into()]),
///     ..VideoGrant::join("myroom")
/// };
/// assert!(grant.can_publish_source(TrackSource::Camera));
/// assert!(!grant.can_publish_source(TrackSource::ScreenShare));
/// assert!(grant.can_subscribe()); // unset means allowed
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoGrant {
    /// `roomCreate`: create and delete rooms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_create: Option<bool>,
    /// `roomList`: list rooms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_list: Option<bool>,
    /// `roomRecord`: use the egress APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_record: Option<bool>,
    /// `roomAdmin`: moderate the room named in `room`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_admin: Option<bool>,
    /// `roomJoin`: connect to the room named in `room`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_join: Option<bool>,
    /// `room`: the room the join and admin grants apply to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// `destinationRoom`: the target room of forward and move participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_room: Option<String>,
    /// `canPublish`: publish tracks (unset means allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_publish: Option<bool>,
    /// `canSubscribe`: subscribe to tracks (unset means allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_subscribe: Option<bool>,
    /// `canPublishData`: publish data packets (unset means the resolved `canPublish`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_publish_data: Option<bool>,
    /// `canPublishSources`: when non-empty, only these sources may be published. Kept as the
    /// token's strings because the server compares them exactly (`"CAMERA"` is not `camera`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_publish_sources: Option<Vec<String>>,
    /// `canUpdateOwnMetadata`: update the participant's own name, metadata and attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_update_own_metadata: Option<bool>,
    /// `canSubscribeMetrics`: subscribe to metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_subscribe_metrics: Option<bool>,
    /// `canManageAgentSession`: manage agent sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_manage_agent_session: Option<bool>,
    /// `ingressAdmin`: use the ingress APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_admin: Option<bool>,
    /// `hidden`: hidden from the other participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// `recorder`: the participant is a recorder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorder: Option<bool>,
    /// `agent`: the participant is an agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<bool>,
}

impl VideoGrant {
    /// A grant to join `room` (`roomJoin: true`), every other permission at its default.
    pub fn join(room: impl Into<String>) -> Self {
        VideoGrant {
            room_join: Some(true),
            room: Some(room.into()),
            ..VideoGrant::default()
        }
    }

    /// A grant to administer `room` (`roomAdmin: true`).
    pub fn admin(room: impl Into<String>) -> Self {
        VideoGrant {
            room_admin: Some(true),
            room: Some(room.into()),
            ..VideoGrant::default()
        }
    }

    /// The room the grant names, `""` when absent.
    pub fn room(&self) -> &str {
        self.room.as_deref().unwrap_or("")
    }

    /// `canPublish`, or `true` when unset.
    pub fn can_publish(&self) -> bool {
        self.can_publish.unwrap_or(true)
    }

    /// `canSubscribe`, or `true` when unset.
    pub fn can_subscribe(&self) -> bool {
        self.can_subscribe.unwrap_or(true)
    }

    /// `canPublishData`, or the resolved [`can_publish`](Self::can_publish) when unset.
    pub fn can_publish_data(&self) -> bool {
        self.can_publish_data.unwrap_or_else(|| self.can_publish())
    }

    /// Whether `source` may be published, as the server decides it: never when publishing is
    /// off (an explicit `canPublish: false` beats a listed source); always when
    /// `canPublishSources` is empty; otherwise only when the lower-case name is listed exactly.
    pub fn can_publish_source(&self, source: TrackSource) -> bool {
        if !self.can_publish() {
            return false;
        }
        match self.can_publish_sources.as_deref() {
            None | Some([]) => true,
            Some(list) => list.iter().any(|name| name == source.as_str()),
        }
    }

    /// `canUpdateOwnMetadata`, or `false` when unset.
    pub fn can_update_own_metadata(&self) -> bool {
        self.can_update_own_metadata.unwrap_or(false)
    }

    /// `canSubscribeMetrics`, or `false` when unset.
    pub fn can_subscribe_metrics(&self) -> bool {
        self.can_subscribe_metrics.unwrap_or(false)
    }

    /// `canManageAgentSession`, or `false` when unset.
    pub fn can_manage_agent_session(&self) -> bool {
        self.can_manage_agent_session.unwrap_or(false)
    }

    /// The join grant: `roomJoin` and a non-empty `room`.
    pub fn can_join_room(&self) -> bool {
        self.room_join == Some(true) && !self.room().is_empty()
    }

    /// Room admin of `room`: `roomAdmin` and `room` equal to it (exact, case-sensitive).
    pub fn is_room_admin(&self, room: &str) -> bool {
        self.room_admin == Some(true) && !room.is_empty() && self.room() == room
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(json: &str) -> VideoGrant {
        serde_json::from_str(json).expect("test grant parses")
    }

    #[test]
    fn unset_publish_and_subscribe_are_allowed_and_data_follows_publish() {
        let g = grant("{}");
        assert!(g.can_publish() && g.can_subscribe() && g.can_publish_data());
        let g = grant(r#"{"canPublish":false}"#);
        assert!(!g.can_publish_data());
        let g = grant(r#"{"canPublish":false,"canPublishData":true}"#);
        assert!(g.can_publish_data());
        let g = grant(r#"{"canPublishData":false}"#);
        assert!(g.can_publish() && !g.can_publish_data());
    }

    #[test]
    fn explicit_can_publish_false_beats_a_listed_source() {
        let g = grant(r#"{"canPublish":false,"canPublishSources":["camera"]}"#);
        assert!(!g.can_publish_source(TrackSource::Camera));
    }

    #[test]
    fn publish_sources_match_exactly_and_imply_nothing_else() {
        let g = grant(r#"{"canPublishSources":["CAMERA","screen_share"]}"#);
        assert!(!g.can_publish_source(TrackSource::Camera));
        assert!(g.can_publish_source(TrackSource::ScreenShare));
        assert!(!g.can_publish_source(TrackSource::ScreenShareAudio));
        let g = grant(r#"{"canPublishSources":[]}"#);
        assert!(TrackSource::ALL.iter().all(|s| g.can_publish_source(*s)));
    }

    #[test]
    fn room_admin_needs_the_same_room_exactly() {
        let g = VideoGrant::admin("myroom");
        assert!(g.is_room_admin("myroom"));
        assert!(!g.is_room_admin("MyRoom"));
        assert!(!g.is_room_admin("other"));
        assert!(!VideoGrant::admin("").is_room_admin(""));
    }

    #[test]
    fn join_needs_a_room() {
        assert!(VideoGrant::join("r").can_join_room());
        assert!(!VideoGrant::join("").can_join_room());
        assert!(!grant(r#"{"room":"r","roomJoin":false}"#).can_join_room());
    }

    #[test]
    fn snake_case_grant_keys_are_ignored() {
        let g = grant(r#"{"room_join":true,"room":"r"}"#);
        assert_eq!(g.room_join, None);
        assert!(!g.can_join_room());
    }

    #[test]
    fn explicit_false_and_unset_survive_a_round_trip() {
        let text = r#"{"roomJoin":true,"room":"r","canPublish":false}"#;
        let g = grant(text);
        assert_eq!(serde_json::to_string(&g).expect("serializes"), text);
        assert_eq!(
            serde_json::to_string(&grant("{}")).expect("serializes"),
            "{}"
        );
    }

    #[test]
    fn null_fields_are_absent() {
        assert_eq!(
            grant(r#"{"canPublish":null,"room":null}"#),
            VideoGrant::default()
        );
    }
}
