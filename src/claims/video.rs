//! The video grant (`video` claim): room permissions.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::sources::PublishSources;
use super::TrackSource;

/// The `video` claim: what the participant may do in rooms (LiveKit's `VideoGrant`, in
/// `livekit/protocol`'s `auth/grants.go`).
///
/// Every field is optional and kept exactly as the token had it: unset is "absent" and is not
/// serialized, an explicit `false` stays one. The fields are read only through methods that
/// apply the LiveKit server's rules (publish and subscribe allowed when unset, data following
/// publish, `roomAdmin` meaning admin of the grant's own `room` only, ...), because the raw
/// values invite the wrong reading: `roomAdmin: true` is not "an admin". Build one with
/// [`join`](Self::join), [`admin`](Self::admin) or [`new`](Self::new) and the `with_*` methods,
/// each of which writes its claim explicitly.
///
/// Grant keys are camelCase only; a snake_case key such as `room_join` is ignored, as the LiveKit
/// server ignores it.
///
/// ```
/// use tower_livekit_auth::{TrackSource, VideoGrant};
///
/// let grant = VideoGrant::join("myroom").with_can_publish_sources([TrackSource::Camera]);
/// assert!(grant.can_publish_source(TrackSource::Camera));
/// assert!(!grant.can_publish_source(TrackSource::ScreenShare));
/// assert!(grant.can_subscribe()); // unset means allowed
///
/// let moderator = VideoGrant::admin("myroom").with_can_publish(false);
/// assert!(moderator.is_room_admin("myroom"));
/// assert!(!moderator.is_room_admin("other")); // admin of its own room only
/// assert!(!moderator.can_publish_data()); // data follows an explicit canPublish: false
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VideoGrant {
    /// `roomCreate`: create and delete rooms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) room_create: Option<bool>,
    /// `roomList`: list rooms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) room_list: Option<bool>,
    /// `roomRecord`: use the egress APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) room_record: Option<bool>,
    /// `roomAdmin`: moderate the room named in `room`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) room_admin: Option<bool>,
    /// `roomJoin`: connect to the room named in `room`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) room_join: Option<bool>,
    /// `room`: the room the join and admin grants apply to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) room: Option<CompactString>,
    /// `destinationRoom`: the target room of forward and move participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) destination_room: Option<CompactString>,
    /// `canPublish`: publish tracks (unset means allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_publish: Option<bool>,
    /// `canSubscribe`: subscribe to tracks (unset means allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_subscribe: Option<bool>,
    /// `canPublishData`: publish data packets (unset means the resolved `canPublish`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_publish_data: Option<bool>,
    /// `canPublishSources`: when non-empty, only these sources may be published. Kept as the
    /// token's names because the server compares them exactly (`"CAMERA"` is not `camera`),
    /// compactly: an SDK's list costs no allocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_publish_sources: Option<PublishSources>,
    /// `canUpdateOwnMetadata`: update the participant's own name, metadata and attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_update_own_metadata: Option<bool>,
    /// `canSubscribeMetrics`: subscribe to metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_subscribe_metrics: Option<bool>,
    /// `canManageAgentSession`: manage agent sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_manage_agent_session: Option<bool>,
    /// `ingressAdmin`: use the ingress APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ingress_admin: Option<bool>,
    /// `hidden`: hidden from the other participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hidden: Option<bool>,
    /// `recorder`: the participant is a recorder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) recorder: Option<bool>,
    /// `agent`: the participant is an agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) agent: Option<bool>,
}

impl VideoGrant {
    /// A grant with no claim set: no room permission beyond the server's defaults for an empty
    /// grant (publish and subscribe allowed, joining and administering nothing).
    #[must_use]
    pub fn new() -> Self {
        VideoGrant::default()
    }

    /// A grant to join `room` (`roomJoin: true`), every other permission at its default.
    #[must_use]
    pub fn join(room: impl Into<String>) -> Self {
        VideoGrant::new().with_room_join(true).with_room(room)
    }

    /// A grant to administer `room` (`roomAdmin: true`).
    #[must_use]
    pub fn admin(room: impl Into<String>) -> Self {
        VideoGrant::new().with_room_admin(true).with_room(room)
    }

    /// `room`: the room the join and admin grants apply to.
    #[must_use]
    pub fn with_room(mut self, room: impl Into<String>) -> Self {
        self.room = Some(CompactString::from(room.into()));
        self
    }

    /// `destinationRoom`: the target room of forward and move participant.
    #[must_use]
    pub fn with_destination_room(mut self, room: impl Into<String>) -> Self {
        self.destination_room = Some(CompactString::from(room.into()));
        self
    }

    /// `canPublishSources`: only these sources may be published (an empty list: all of them).
    #[must_use]
    pub fn with_can_publish_sources(
        mut self,
        sources: impl IntoIterator<Item = TrackSource>,
    ) -> Self {
        self.set_can_publish_sources(sources);
        self
    }

    /// `canPublishSources`, written as the sources' names.
    pub(crate) fn set_can_publish_sources(
        &mut self,
        sources: impl IntoIterator<Item = TrackSource>,
    ) {
        self.can_publish_sources = Some(PublishSources::from_sources(sources));
    }

    /// `canPublishSources` set to `names`, as `UpdateParticipant` writes them.
    pub(crate) fn set_publish_sources(&mut self, names: PublishSources) {
        self.can_publish_sources = Some(names);
    }

    /// `roomCreate`: create and delete rooms.
    #[must_use]
    pub fn with_room_create(mut self, value: bool) -> Self {
        self.room_create = Some(value);
        self
    }

    /// `roomList`: list rooms.
    #[must_use]
    pub fn with_room_list(mut self, value: bool) -> Self {
        self.room_list = Some(value);
        self
    }

    /// `roomRecord`: use the egress APIs.
    #[must_use]
    pub fn with_room_record(mut self, value: bool) -> Self {
        self.room_record = Some(value);
        self
    }

    /// `roomAdmin`: moderate the room named by [`with_room`](Self::with_room).
    #[must_use]
    pub fn with_room_admin(mut self, value: bool) -> Self {
        self.room_admin = Some(value);
        self
    }

    /// `roomJoin`: connect to the room named by [`with_room`](Self::with_room).
    #[must_use]
    pub fn with_room_join(mut self, value: bool) -> Self {
        self.room_join = Some(value);
        self
    }

    /// `canPublish`: publish tracks.
    #[must_use]
    pub fn with_can_publish(mut self, value: bool) -> Self {
        self.can_publish = Some(value);
        self
    }

    /// `canSubscribe`: subscribe to tracks.
    #[must_use]
    pub fn with_can_subscribe(mut self, value: bool) -> Self {
        self.can_subscribe = Some(value);
        self
    }

    /// `canPublishData`: publish data packets.
    #[must_use]
    pub fn with_can_publish_data(mut self, value: bool) -> Self {
        self.can_publish_data = Some(value);
        self
    }

    /// `canUpdateOwnMetadata`: update the participant's own name, metadata and attributes.
    #[must_use]
    pub fn with_can_update_own_metadata(mut self, value: bool) -> Self {
        self.can_update_own_metadata = Some(value);
        self
    }

    /// `canSubscribeMetrics`: subscribe to metrics.
    #[must_use]
    pub fn with_can_subscribe_metrics(mut self, value: bool) -> Self {
        self.can_subscribe_metrics = Some(value);
        self
    }

    /// `canManageAgentSession`: manage agent sessions.
    #[must_use]
    pub fn with_can_manage_agent_session(mut self, value: bool) -> Self {
        self.can_manage_agent_session = Some(value);
        self
    }

    /// `ingressAdmin`: use the ingress APIs.
    #[must_use]
    pub fn with_ingress_admin(mut self, value: bool) -> Self {
        self.ingress_admin = Some(value);
        self
    }

    /// `hidden`: hidden from the other participants.
    #[must_use]
    pub fn with_hidden(mut self, value: bool) -> Self {
        self.hidden = Some(value);
        self
    }

    /// `recorder`: the participant is a recorder.
    #[must_use]
    pub fn with_recorder(mut self, value: bool) -> Self {
        self.recorder = Some(value);
        self
    }

    /// `agent`: the participant is an agent.
    #[must_use]
    pub fn with_agent(mut self, value: bool) -> Self {
        self.agent = Some(value);
        self
    }

    /// The room the grant names, `""` when absent.
    #[must_use]
    pub fn room(&self) -> &str {
        self.room.as_deref().unwrap_or("")
    }

    /// `destinationRoom`, `""` when absent.
    #[must_use]
    pub fn destination_room(&self) -> &str {
        self.destination_room.as_deref().unwrap_or("")
    }

    /// `canPublishSources` as the token wrote it, in order (the server compares these names
    /// exactly: `"CAMERA"` is not `camera`); empty when absent. Ask
    /// [`can_publish_source`](Self::can_publish_source) to decide.
    ///
    /// ```
    /// use tower_livekit_auth::{TrackSource, VideoGrant};
    ///
    /// let grant = VideoGrant::join("r").with_can_publish_sources([TrackSource::Camera]);
    /// assert_eq!(grant.publish_source_names().collect::<Vec<_>>(), ["camera"]);
    /// assert_eq!(VideoGrant::join("r").publish_source_names().len(), 0);
    /// ```
    #[must_use]
    pub fn publish_source_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.can_publish_sources
            .as_ref()
            .unwrap_or(&PublishSources::EMPTY)
            .iter()
    }

    /// `canPublish`, or `true` when unset.
    #[must_use]
    pub fn can_publish(&self) -> bool {
        self.can_publish.unwrap_or(true)
    }

    /// `canSubscribe`, or `true` when unset.
    #[must_use]
    pub fn can_subscribe(&self) -> bool {
        self.can_subscribe.unwrap_or(true)
    }

    /// `canPublishData`, or the resolved [`can_publish`](Self::can_publish) when unset.
    #[must_use]
    pub fn can_publish_data(&self) -> bool {
        self.can_publish_data.unwrap_or_else(|| self.can_publish())
    }

    /// Whether `source` may be published, as the server decides it: never when publishing is
    /// off (an explicit `canPublish: false` beats a listed source); always when
    /// `canPublishSources` is empty; otherwise only when the lower-case name is listed exactly.
    #[must_use]
    pub fn can_publish_source(&self, source: TrackSource) -> bool {
        if !self.can_publish() {
            return false;
        }
        match &self.can_publish_sources {
            None => true,
            Some(list) => list.is_empty() || list.contains(source),
        }
    }

    /// `canUpdateOwnMetadata`, or `false` when unset.
    #[must_use]
    pub fn can_update_own_metadata(&self) -> bool {
        self.can_update_own_metadata.unwrap_or(false)
    }

    /// `canSubscribeMetrics`, or `false` when unset.
    #[must_use]
    pub fn can_subscribe_metrics(&self) -> bool {
        self.can_subscribe_metrics.unwrap_or(false)
    }

    /// `canManageAgentSession`, or `false` when unset.
    #[must_use]
    pub fn can_manage_agent_session(&self) -> bool {
        self.can_manage_agent_session.unwrap_or(false)
    }

    /// `roomJoin` as written, whatever the room: the server's connection check looks at it
    /// before it looks at the room and the identity. To decide whether the participant may
    /// join, ask [`can_join_room`](Self::can_join_room) or
    /// [`Claims::can_join`](crate::Claims::can_join).
    #[must_use]
    pub fn has_join_grant(&self) -> bool {
        self.room_join == Some(true)
    }

    /// The join grant: `roomJoin` and a non-empty `room`.
    #[must_use]
    pub fn can_join_room(&self) -> bool {
        self.room_join == Some(true) && !self.room().is_empty()
    }

    /// Room admin of `room`: `roomAdmin` and `room` equal to it (exact, case-sensitive).
    #[must_use]
    pub fn is_room_admin(&self, room: &str) -> bool {
        self.room_admin == Some(true) && !room.is_empty() && self.room() == room
    }

    /// `roomCreate`: may create and delete rooms.
    #[must_use]
    pub fn can_create_rooms(&self) -> bool {
        self.room_create == Some(true)
    }

    /// `roomList`: may list rooms.
    #[must_use]
    pub fn can_list_rooms(&self) -> bool {
        self.room_list == Some(true)
    }

    /// `roomRecord`: may use the egress APIs.
    #[must_use]
    pub fn can_record(&self) -> bool {
        self.room_record == Some(true)
    }

    /// `ingressAdmin`: may use the ingress APIs.
    #[must_use]
    pub fn is_ingress_admin(&self) -> bool {
        self.ingress_admin == Some(true)
    }

    /// `hidden`: hidden from the other participants.
    #[must_use]
    pub fn is_hidden(&self) -> bool {
        self.hidden == Some(true)
    }

    /// `recorder` (the grant alone; [`Claims::is_recorder`](crate::Claims::is_recorder) also
    /// counts the participant kind).
    #[must_use]
    pub fn is_recorder(&self) -> bool {
        self.recorder == Some(true)
    }

    /// `agent` (the grant alone; [`Claims::is_agent`](crate::Claims::is_agent) also counts the
    /// participant kind).
    #[must_use]
    pub fn is_agent(&self) -> bool {
        self.agent == Some(true)
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
