//! The typed token: [`Claims`] and its grants. Every permission rule of the LiveKit server
//! lives here, so that a handler asks a question instead of reading raw fields: the grants'
//! getters of `livekit/protocol`'s `auth/grants.go` (publish and subscribe allowed when unset,
//! `canPublishSources` matched exactly) and the checks of `livekit-server`'s
//! `pkg/service/auth.go` (`EnsureJoinPermission`, `EnsureAdminPermission` of the grant's own
//! room, ...).

mod attributes;
mod data;
mod date;
mod grants;
mod json_text;
mod kind;
mod object;
mod permissions;
mod room_config;
mod source;
mod sources;
mod video;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use attributes::{Attributes, AttributesIter};
pub(crate) use data::{Audience, ClaimFault, ClaimsData, ClaimsSeed};
pub(crate) use date::NumericDate;
pub use grants::{AgentGrant, InferenceGrant, ObservabilityGrant, SipGrant};
pub use kind::{KindDetail, ParticipantKind};
pub(crate) use object::Object;
pub use permissions::{Permissions, SourcePermissions};
pub use room_config::{JobRestartPolicy, RoomAgentDispatch, RoomConfiguration};
pub use source::{TrackSource, UnknownTrackSource};
pub(crate) use sources::PublishSources;
pub use video::VideoGrant;

static NO_ATTRIBUTES: Attributes = Attributes::new();

/// The verified claims of a LiveKit access token.
///
/// A [`Verifier`](crate::Verifier) produces them; the [`AuthLayer`](crate::AuthLayer) puts them
/// in the request extensions. The permission methods apply the LiveKit server's rules exactly
/// (see the [module docs](self)) and never grant more than the server would: without a
/// `video` claim every room permission is `false`.
///
/// `Claims` keep every claim as the token had it, and serialize back to the same JSON (an
/// explicit `false` stays, an unset grant stays unset; `roomConfig` is written in camelCase).
/// Cloning is cheap: the claims sit behind an [`Arc`].
///
/// **Deserializing `Claims` verifies nothing.** Any JSON becomes `Claims` that way (as in the
/// example below, for tests and tools); only the ones a [`Verifier`](crate::Verifier) hands out
/// were signed by a key of its ring. Never decide on claims read any other way.
///
/// ```
/// use tower_livekit_auth::{Claims, TrackSource};
///
/// let claims: Claims = serde_json::from_str(r#"{
///     "iss": "APIabcdefg", "sub": "alice", "exp": 1700021600,
///     "video": {"roomJoin": true, "room": "myroom", "canPublishSources": ["camera"]}
/// }"#).unwrap();
/// assert_eq!(claims.identity(), "alice");
/// assert!(claims.can_join());
/// assert_eq!(claims.room(), "myroom");
/// assert!(claims.can_publish_source(TrackSource::Camera));
/// assert!(!claims.can_publish_source(TrackSource::ScreenShare));
/// assert!(!claims.is_room_admin("myroom"));
/// ```
#[derive(Clone, PartialEq)]
pub struct Claims {
    data: Arc<ClaimsData>,
    /// The participant state changed these claims after the token was issued.
    updated: bool,
}

impl Claims {
    pub(crate) fn from_data(data: ClaimsData) -> Self {
        Claims::from_arc(Arc::new(data))
    }

    pub(crate) fn from_arc(data: Arc<ClaimsData>) -> Self {
        Claims {
            data,
            updated: false,
        }
    }

    /// Claims the participant state changed (see [`was_updated`](Self::was_updated)).
    pub(crate) fn updated(data: ClaimsData) -> Self {
        Claims {
            data: Arc::new(data),
            updated: true,
        }
    }

    /// Whether the participant's state ([`crate::state`]) changed these claims after the token
    /// was issued: they answer with the participant's current name, metadata, attributes and
    /// permissions rather than the token's. An [`AuthLayer`](crate::AuthLayer) with a refresh
    /// header then hands the client a refreshed token that carries them.
    #[must_use]
    pub fn was_updated(&self) -> bool {
        self.updated
    }

    pub(crate) fn data(&self) -> &ClaimsData {
        &self.data
    }

    /// The participant identity: `sub`, or `jti` when `sub` is empty or absent (as the server
    /// does); `""` when both are missing.
    #[must_use]
    pub fn identity(&self) -> &str {
        match self.data.sub.as_deref() {
            Some(sub) if !sub.is_empty() => sub,
            _ => self.data.jti.as_deref().unwrap_or(""),
        }
    }

    /// The display name (`name`), `""` when absent.
    #[must_use]
    pub fn name(&self) -> &str {
        self.data.name.as_deref().unwrap_or("")
    }

    /// The participant kind, read as the server reads it (case-insensitive, unknown is
    /// `Standard`).
    #[must_use]
    pub fn kind(&self) -> ParticipantKind {
        ParticipantKind::from_claim(self.data.kind.as_deref().unwrap_or(""))
    }

    /// The kind details this crate knows; unknown entries are skipped.
    pub fn kind_details(&self) -> impl Iterator<Item = KindDetail> + '_ {
        self.data
            .kind_details
            .iter()
            .flatten()
            .filter_map(|detail| KindDetail::from_claim(detail))
    }

    /// Participant metadata (`metadata`), `""` when absent.
    #[must_use]
    pub fn metadata(&self) -> &str {
        self.data.metadata.as_deref().unwrap_or("")
    }

    /// Participant attributes (`attributes`), empty when absent.
    #[must_use]
    pub fn attributes(&self) -> &Attributes {
        self.data.attributes.as_ref().unwrap_or(&NO_ATTRIBUTES)
    }

    /// The API key that signed the token (`iss`).
    #[must_use]
    pub fn api_key(&self) -> &str {
        self.data.iss.as_deref().unwrap_or("")
    }

    /// `exp` in whole Unix seconds. Claims from a [`Verifier`](crate::Verifier) always have it.
    #[must_use]
    pub fn expires_at(&self) -> Option<i64> {
        self.data.exp.map(NumericDate::seconds)
    }

    /// `nbf` in whole Unix seconds, when the token has one.
    #[must_use]
    pub fn not_before(&self) -> Option<i64> {
        self.data.nbf.map(NumericDate::seconds)
    }

    /// `iat` in whole Unix seconds, when the token has one.
    #[must_use]
    pub fn issued_at(&self) -> Option<i64> {
        self.data.iat.map(NumericDate::seconds)
    }

    /// The video grant, if the token has one.
    #[must_use]
    pub fn video(&self) -> Option<&VideoGrant> {
        self.data.video.as_ref()
    }

    /// The SIP grant, if the token has one.
    #[must_use]
    pub fn sip(&self) -> Option<&SipGrant> {
        self.data.sip.as_ref()
    }

    /// The agent grant, if the token has one.
    #[must_use]
    pub fn agent(&self) -> Option<&AgentGrant> {
        self.data.agent.as_ref()
    }

    /// The inference grant, if the token has one.
    #[must_use]
    pub fn inference(&self) -> Option<&InferenceGrant> {
        self.data.inference.as_ref()
    }

    /// The observability grant, if the token has one.
    #[must_use]
    pub fn observability(&self) -> Option<&ObservabilityGrant> {
        self.data.observability.as_ref()
    }

    /// The room configuration (`roomConfig`), if the token has one.
    #[must_use]
    pub fn room_config(&self) -> Option<&RoomConfiguration> {
        self.data.room_config.as_deref()
    }

    /// The room preset name (`roomPreset`), if the token has one.
    #[must_use]
    pub fn room_preset(&self) -> Option<&str> {
        self.data.room_preset.as_deref()
    }

    /// The `sha256` claim of a webhook token: base64 SHA-256 of the request body.
    #[must_use]
    pub fn sha256(&self) -> Option<&str> {
        self.data.sha256.as_deref()
    }

    /// The room the video grant names, `""` when none.
    #[must_use]
    pub fn room(&self) -> &str {
        self.video().map_or("", VideoGrant::room)
    }

    fn video_allows(&self, rule: impl FnOnce(&VideoGrant) -> bool) -> bool {
        self.video().is_some_and(rule)
    }

    /// May publish tracks: `canPublish`, true when unset; false without a video grant.
    #[must_use]
    pub fn can_publish(&self) -> bool {
        self.video_allows(VideoGrant::can_publish)
    }

    /// May subscribe: `canSubscribe`, true when unset; false without a video grant.
    #[must_use]
    pub fn can_subscribe(&self) -> bool {
        self.video_allows(VideoGrant::can_subscribe)
    }

    /// May publish data: `canPublishData`, or [`can_publish`](Self::can_publish) when unset.
    #[must_use]
    pub fn can_publish_data(&self) -> bool {
        self.video_allows(VideoGrant::can_publish_data)
    }

    /// May publish `source`: see [`VideoGrant::can_publish_source`].
    #[must_use]
    pub fn can_publish_source(&self, source: TrackSource) -> bool {
        self.video_allows(|video| video.can_publish_source(source))
    }

    /// `canUpdateOwnMetadata`, false when unset.
    #[must_use]
    pub fn can_update_own_metadata(&self) -> bool {
        self.video_allows(VideoGrant::can_update_own_metadata)
    }

    /// `canSubscribeMetrics`, false when unset.
    #[must_use]
    pub fn can_subscribe_metrics(&self) -> bool {
        self.video_allows(VideoGrant::can_subscribe_metrics)
    }

    /// `canManageAgentSession`, false when unset.
    #[must_use]
    pub fn can_manage_agent_session(&self) -> bool {
        self.video_allows(VideoGrant::can_manage_agent_session)
    }

    /// May join [`room`](Self::room): `roomJoin`, a non-empty room and a non-empty identity.
    #[must_use]
    pub fn can_join(&self) -> bool {
        self.video_allows(VideoGrant::can_join_room) && !self.identity().is_empty()
    }

    /// Room admin of `room`: `roomAdmin` and the grant's room equal to `room` (exact).
    #[must_use]
    pub fn is_room_admin(&self, room: &str) -> bool {
        self.video_allows(|video| video.is_room_admin(room))
    }

    /// May forward or move a participant from `from` to `to`: room admin of `from` and
    /// `destinationRoom` equal to `to`.
    #[must_use]
    pub fn can_forward_participant(&self, from: &str, to: &str) -> bool {
        self.is_room_admin(from)
            && !to.is_empty()
            && self.video_allows(|video| video.destination_room() == to)
    }

    /// May create and delete rooms (`roomCreate`).
    #[must_use]
    pub fn can_create_rooms(&self) -> bool {
        self.video_allows(VideoGrant::can_create_rooms)
    }

    /// May list rooms (`roomList`).
    #[must_use]
    pub fn can_list_rooms(&self) -> bool {
        self.video_allows(VideoGrant::can_list_rooms)
    }

    /// May use the egress APIs (`roomRecord`).
    #[must_use]
    pub fn can_record(&self) -> bool {
        self.video_allows(VideoGrant::can_record)
    }

    /// May use the ingress APIs (`ingressAdmin`).
    #[must_use]
    pub fn is_ingress_admin(&self) -> bool {
        self.video_allows(VideoGrant::is_ingress_admin)
    }

    /// May manage SIP trunks and dispatch rules (`sip.admin`).
    #[must_use]
    pub fn is_sip_admin(&self) -> bool {
        self.sip().is_some_and(SipGrant::is_admin)
    }

    /// May place outbound SIP calls (`sip.call`).
    #[must_use]
    pub fn can_make_sip_calls(&self) -> bool {
        self.sip().is_some_and(SipGrant::can_call)
    }

    /// Hidden from the other participants (`video.hidden`).
    #[must_use]
    pub fn is_hidden(&self) -> bool {
        self.video_allows(VideoGrant::is_hidden)
    }

    /// A recorder: kind `egress`, or `video.recorder`.
    #[must_use]
    pub fn is_recorder(&self) -> bool {
        self.kind() == ParticipantKind::Egress || self.video_allows(VideoGrant::is_recorder)
    }

    /// An agent: kind `agent`, or `video.agent`.
    #[must_use]
    pub fn is_agent(&self) -> bool {
        self.kind() == ParticipantKind::Agent || self.video_allows(VideoGrant::is_agent)
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claims hold no secret: the signature is not kept. Show them whole.
        fmt::Debug::fmt(&*self.data, f)
    }
}

impl Serialize for Claims {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.data.serialize(serializer)
    }
}

/// Reads claims from JSON with the verifier's rules (duplicates refused, `null` as absent), but
/// checks no signature or time: use a [`Verifier`](crate::Verifier) for tokens.
impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ClaimsData::deserialize(deserializer).map(Claims::from_data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Claims {
        serde_json::from_str(json).expect("test claims parse")
    }

    #[test]
    fn identity_falls_back_to_jti_when_sub_is_empty_or_absent() {
        assert_eq!(claims(r#"{"sub":"a","jti":"b"}"#).identity(), "a");
        assert_eq!(claims(r#"{"sub":"","jti":"b"}"#).identity(), "b");
        assert_eq!(claims(r#"{"jti":"b"}"#).identity(), "b");
        assert_eq!(claims("{}").identity(), "");
    }

    #[test]
    fn no_video_grant_means_no_room_permission_at_all() {
        let c = claims(r#"{"sub":"a"}"#);
        assert!(!c.can_publish() && !c.can_subscribe() && !c.can_publish_data());
        assert!(!c.can_join() && !c.is_room_admin(""));
        assert!(TrackSource::ALL.iter().all(|s| !c.can_publish_source(*s)));
    }

    #[test]
    fn join_needs_an_identity() {
        assert!(claims(r#"{"sub":"a","video":{"roomJoin":true,"room":"r"}}"#).can_join());
        assert!(!claims(r#"{"video":{"roomJoin":true,"room":"r"}}"#).can_join());
    }

    #[test]
    fn recorder_and_agent_come_from_kind_or_grant() {
        assert!(claims(r#"{"kind":"EGRESS"}"#).is_recorder());
        assert!(claims(r#"{"video":{"recorder":true}}"#).is_recorder());
        assert!(!claims(r#"{"kind":"agent"}"#).is_recorder());
        assert!(claims(r#"{"kind":"agent"}"#).is_agent());
        assert!(claims(r#"{"video":{"agent":true}}"#).is_agent());
    }

    #[test]
    fn forwarding_needs_admin_of_the_source_and_the_destination_named() {
        let c = claims(r#"{"video":{"roomAdmin":true,"room":"a","destinationRoom":"b"}}"#);
        assert!(c.can_forward_participant("a", "b"));
        assert!(!c.can_forward_participant("a", "c"));
        assert!(!c.can_forward_participant("b", "b"));
    }

    #[test]
    fn sip_grants_are_read_from_partial_objects() {
        let c = claims(r#"{"sip":{"call":true}}"#);
        assert!(c.can_make_sip_calls());
        assert!(!c.is_sip_admin());
    }

    #[test]
    fn claims_serialize_back_to_what_was_read() {
        let text = r#"{"iss":"k","sub":"a","exp":1700000000,"nbf":1.5,"kind":"Agent","metadata":"{\"a\":1}","attributes":{"x":"y"},"video":{"roomJoin":true,"room":"r","canPublish":false},"sip":{"call":false}}"#;
        let c = claims(text);
        let back = serde_json::to_string(&c).expect("serializes");
        assert_eq!(back, text);
        assert_eq!(claims(&back), c);
    }

    #[test]
    fn unknown_kind_details_are_skipped() {
        let c = claims(r#"{"kindDetails":["forwarded","martian","simulation"]}"#);
        let details: Vec<_> = c.kind_details().collect();
        assert_eq!(details, [KindDetail::Forwarded, KindDetail::Simulation]);
    }
}
