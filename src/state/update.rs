//! [`ParticipantUpdate`] and [`ParticipantPermission`]: what `UpdateParticipant` changes, and the
//! LiveKit server's rules for applying it to a token's claims (`livekit-server`'s
//! `pkg/service/roomservice.go` and `livekit/protocol`'s `auth/grants.go`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::claims::{Claims, ClaimsData, PublishSources, TrackSource, VideoGrant};
use crate::limits::{LimitExceeded, Limits};

/// A change to a participant, as LiveKit's `UpdateParticipant` makes it:
///
/// - a name or metadata replaces the token's only when it is non-empty (an empty string, as
///   protobuf sends an unset field, changes nothing);
/// - attributes merge into the token's, and a value `""` deletes that key;
/// - a [`ParticipantPermission`] replaces, as a whole, every grant field that LiveKit's
///   `VideoGrant.UpdateFromPermission` copies. A field left out of the permission is `false`
///   (or, for the sources, every source), not "unchanged": to add publishing, resend the rest.
///   Room, join and admin grants never change this way.
///
/// ```
/// use tower_livekit_auth::state::{ParticipantPermission, ParticipantUpdate};
/// use tower_livekit_auth::TrackSource;
///
/// let promote = ParticipantUpdate::new()
///     .with_permission(
///         ParticipantPermission::new()
///             .with_can_subscribe(true)
///             .with_can_publish(true)
///             .with_can_publish_sources([TrackSource::Camera]),
///     )
///     .with_attribute("role", "speaker")
///     .with_attribute("hand", ""); // deletes `hand`
/// assert!(!promote.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ParticipantUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) metadata: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) permission: Option<ParticipantPermission>,
}

impl ParticipantUpdate {
    /// An update that changes nothing yet.
    #[must_use]
    pub fn new() -> Self {
        ParticipantUpdate::default()
    }

    /// The display name; an empty name changes nothing.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into()).filter(|name| !name.is_empty());
        self
    }

    /// The metadata; empty metadata changes nothing.
    #[must_use]
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.metadata = Some(metadata.into()).filter(|metadata| !metadata.is_empty());
        self
    }

    /// Sets attribute `key` to `value`, or deletes it when `value` is `""`.
    #[must_use]
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// [`with_attribute`](Self::with_attribute) for each pair.
    #[must_use]
    pub fn with_attributes<K, V>(mut self, attributes: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.attributes.extend(
            attributes
                .into_iter()
                .map(|(key, value)| (key.into(), value.into())),
        );
        self
    }

    /// The permission, replacing the grant fields it covers as a whole.
    #[must_use]
    pub fn with_permission(mut self, permission: ParticipantPermission) -> Self {
        self.permission = Some(permission);
        self
    }

    /// Whether this update changes nothing at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.metadata.is_none()
            && self.attributes.is_empty()
            && self.permission.is_none()
    }

    /// The display name it sets, if any.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The metadata it sets, if any.
    #[must_use]
    pub fn metadata(&self) -> Option<&str> {
        self.metadata.as_deref()
    }

    /// The attributes it sets, `""` meaning deleted.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The permission it sets, if any.
    #[must_use]
    pub fn permission(&self) -> Option<&ParticipantPermission> {
        self.permission.as_ref()
    }

    /// Whether the update is within LiveKit's `limits`, as `UpdateParticipant` checks it: the
    /// name, the metadata, and the attributes it sets (keys and values together).
    pub(crate) fn check(&self, limits: &Limits) -> Result<(), LimitExceeded> {
        if let Some(name) = &self.name {
            limits.check_participant_name(name)?;
        }
        if let Some(metadata) = &self.metadata {
            limits.check_metadata(metadata)?;
        }
        limits.check_attributes(self.attributes())
    }

    /// Applies the update to a token's claims, with the server's rules.
    #[cfg(test)]
    pub(crate) fn apply(&self, data: &mut ClaimsData) {
        Changes {
            name: self.name.as_deref(),
            metadata: self.metadata.as_deref(),
            attributes: self.attributes(),
            permission: self.permission.as_ref(),
        }
        .apply(data);
    }
}

/// Changes to a token's claims, borrowed from wherever they are kept: what an update, or the
/// fields of a participant's state that apply to a token, do to its claims. The one place
/// where LiveKit's rules for applying an `UpdateParticipant` to a grant are written.
pub(crate) struct Changes<'a, A> {
    pub(crate) name: Option<&'a str>,
    pub(crate) metadata: Option<&'a str>,
    /// In key order; `""` deletes the key.
    pub(crate) attributes: A,
    pub(crate) permission: Option<&'a ParticipantPermission>,
}

impl<'a, A: Iterator<Item = (&'a str, &'a str)>> Changes<'a, A> {
    pub(crate) fn apply(self, data: &mut ClaimsData) {
        if let Some(name) = self.name {
            data.name = Some(name.into());
        }
        if let Some(metadata) = self.metadata {
            data.metadata = Some(metadata.into());
        }
        let mut attributes = self.attributes.peekable();
        if attributes.peek().is_some() {
            let merged = data
                .attributes
                .take()
                .unwrap_or_default()
                .merged(attributes);
            data.attributes = (!merged.is_empty()).then_some(merged);
        }
        if let Some(permission) = self.permission {
            permission.apply(data.video.get_or_insert_with(VideoGrant::default));
        }
    }
}

/// `livekit.ParticipantPermission`: the grants `UpdateParticipant` may change.
///
/// Every field defaults to `false` (and the sources to none listed, meaning every source), as
/// in protobuf. [`from_claims`](Self::from_claims) reads the permission a token grants now.
///
/// The sources are kept as the names LiveKit writes into the grant's `canPublishSources`. A
/// protobuf number the crate does not know (`can_publish_sources: [99]`) becomes the name
/// LiveKit's `UpdateFromPermission` gives it, its number (`"99"`), which matches no source:
/// the participant may publish none of the listed sources, never every source.
///
/// ```
/// use tower_livekit_auth::state::ParticipantPermission;
/// use tower_livekit_auth::{Claims, TrackSource};
///
/// let claims: Claims = serde_json::from_str(
///     r#"{"sub":"a","video":{"roomJoin":true,"room":"r","canPublish":false}}"#,
/// ).unwrap();
/// let permission = ParticipantPermission::from_claims(&claims);
/// assert!(permission.can_subscribe && !permission.can_publish && !permission.can_publish_data);
///
/// // From protobuf: an unknown source number is kept, and allows nothing.
/// let odd = ParticipantPermission::new()
///     .with_can_publish(true)
///     .with_can_publish_source_numbers([99]);
/// assert_eq!(odd.can_publish_sources().collect::<Vec<_>>(), ["99"]);
/// assert!(TrackSource::ALL.iter().all(|&source| !odd.can_publish_source(source)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ParticipantPermission {
    /// `can_subscribe` → `canSubscribe`.
    #[serde(default)]
    pub can_subscribe: bool,
    /// `can_publish` → `canPublish`.
    #[serde(default)]
    pub can_publish: bool,
    /// `can_publish_data` → `canPublishData`.
    #[serde(default)]
    pub can_publish_data: bool,
    /// `can_publish_sources` → `canPublishSources`, as names; empty means every source.
    #[serde(default)]
    can_publish_sources: PublishSources,
    /// `hidden`.
    #[serde(default)]
    pub hidden: bool,
    /// `recorder`.
    #[serde(default)]
    pub recorder: bool,
    /// `can_update_metadata` → `canUpdateOwnMetadata`.
    #[serde(default)]
    pub can_update_metadata: bool,
    /// `agent`.
    #[serde(default)]
    pub agent: bool,
    /// `can_subscribe_metrics` → `canSubscribeMetrics`.
    #[serde(default)]
    pub can_subscribe_metrics: bool,
}

impl ParticipantPermission {
    /// A permission granting nothing: every field `false`, no source listed.
    #[must_use]
    pub fn new() -> Self {
        ParticipantPermission::default()
    }

    /// The permission `claims` grant, with the server's defaults: what a `ParticipantInfo`
    /// reports. The sources are the grant's names as written.
    #[must_use]
    pub fn from_claims(claims: &Claims) -> Self {
        let video = claims.video();
        ParticipantPermission {
            can_subscribe: claims.can_subscribe(),
            can_publish: claims.can_publish(),
            can_publish_data: claims.can_publish_data(),
            can_publish_sources: video.map_or(PublishSources::EMPTY, |video| {
                PublishSources::from_names(video.publish_source_names())
            }),
            hidden: claims.is_hidden(),
            recorder: video.is_some_and(VideoGrant::is_recorder),
            can_update_metadata: claims.can_update_own_metadata(),
            agent: video.is_some_and(VideoGrant::is_agent),
            can_subscribe_metrics: claims.can_subscribe_metrics(),
        }
    }

    /// `can_subscribe`.
    #[must_use]
    pub fn with_can_subscribe(mut self, value: bool) -> Self {
        self.can_subscribe = value;
        self
    }

    /// `can_publish`.
    #[must_use]
    pub fn with_can_publish(mut self, value: bool) -> Self {
        self.can_publish = value;
        self
    }

    /// `can_publish_data`.
    #[must_use]
    pub fn with_can_publish_data(mut self, value: bool) -> Self {
        self.can_publish_data = value;
        self
    }

    /// `can_publish_sources` (empty: every source).
    #[must_use]
    pub fn with_can_publish_sources(
        mut self,
        sources: impl IntoIterator<Item = TrackSource>,
    ) -> Self {
        self.can_publish_sources = PublishSources::from_sources(sources);
        self
    }

    /// `can_publish_sources` as protobuf's `TrackSource` numbers (empty: every source). A
    /// number the crate does not know is kept as LiveKit keeps it, as its decimal name, which
    /// matches no source.
    #[must_use]
    pub fn with_can_publish_source_numbers(
        mut self,
        numbers: impl IntoIterator<Item = i32>,
    ) -> Self {
        let names: Vec<std::borrow::Cow<'static, str>> = numbers
            .into_iter()
            .map(|number| {
                match TrackSource::ALL
                    .iter()
                    .find(|source| i32::from(source.number()) == number)
                {
                    Some(source) => source.as_str().into(),
                    None => number.to_string().into(),
                }
            })
            .collect();
        self.can_publish_sources = PublishSources::from_names(names.iter().map(|name| &**name));
        self
    }

    /// The names of `can_publish_sources`, in order (none: every source).
    #[must_use]
    pub fn can_publish_sources(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.can_publish_sources.iter()
    }

    /// `can_publish_sources` as protobuf numbers, for a `ParticipantInfo`: the known names and
    /// the decimal ones; a name that is neither (`"CAMERA"`) has no number and is left out.
    pub fn can_publish_source_numbers(&self) -> impl Iterator<Item = i32> + '_ {
        self.can_publish_sources.iter().filter_map(|name| {
            name.parse::<TrackSource>()
                .map(|source| i32::from(source.number()))
                .ok()
                .or_else(|| name.parse::<i32>().ok())
        })
    }

    /// Whether this permission lets a participant publish `source`, with the server's rule:
    /// `can_publish`, and `source`'s name listed or no source listed.
    #[must_use]
    pub fn can_publish_source(&self, source: TrackSource) -> bool {
        self.can_publish
            && (self.can_publish_sources.is_empty() || self.can_publish_sources.contains(source))
    }

    /// `hidden`.
    #[must_use]
    pub fn with_hidden(mut self, value: bool) -> Self {
        self.hidden = value;
        self
    }

    /// `recorder`.
    #[must_use]
    pub fn with_recorder(mut self, value: bool) -> Self {
        self.recorder = value;
        self
    }

    /// `can_update_metadata`.
    #[must_use]
    pub fn with_can_update_metadata(mut self, value: bool) -> Self {
        self.can_update_metadata = value;
        self
    }

    /// `agent`.
    #[must_use]
    pub fn with_agent(mut self, value: bool) -> Self {
        self.agent = value;
        self
    }

    /// `can_subscribe_metrics`.
    #[must_use]
    pub fn with_can_subscribe_metrics(mut self, value: bool) -> Self {
        self.can_subscribe_metrics = value;
        self
    }

    /// What both permissions allow: each flag only where both set it, and the sources both
    /// allow. The state keeps this when two writers' clocks disagree (see
    /// [`crate::state`]), so that it never grants more than either of them said.
    pub(crate) fn meet(&self, other: &ParticipantPermission) -> ParticipantPermission {
        let (mine, theirs) = (&self.can_publish_sources, &other.can_publish_sources);
        let sources = match (mine.is_empty(), theirs.is_empty()) {
            (true, _) => theirs.clone(),
            (_, true) => mine.clone(),
            _ => PublishSources::from_names(
                mine.iter()
                    .filter(|name| theirs.iter().any(|other| other == *name)),
            ),
        };
        // Two lists with no name in common allow no source; an empty list would mean all.
        let disjoint = !mine.is_empty() && !theirs.is_empty() && sources.is_empty();
        ParticipantPermission {
            can_subscribe: self.can_subscribe && other.can_subscribe,
            can_publish: self.can_publish && other.can_publish && !disjoint,
            can_publish_data: self.can_publish_data && other.can_publish_data,
            can_publish_sources: sources,
            hidden: self.hidden && other.hidden,
            recorder: self.recorder && other.recorder,
            can_update_metadata: self.can_update_metadata && other.can_update_metadata,
            agent: self.agent && other.agent,
            can_subscribe_metrics: self.can_subscribe_metrics && other.can_subscribe_metrics,
        }
    }

    /// `VideoGrant.UpdateFromPermission` (livekit/protocol `auth/grants.go`): every field it
    /// copies is replaced, explicitly; `canManageAgentSession`, the room, join and admin
    /// grants are left as they are.
    pub(crate) fn apply(&self, video: &mut VideoGrant) {
        video.can_publish = Some(self.can_publish);
        video.can_publish_data = Some(self.can_publish_data);
        video.set_publish_sources(self.can_publish_sources.clone());
        video.can_subscribe = Some(self.can_subscribe);
        video.can_update_own_metadata = Some(self.can_update_metadata);
        video.hidden = Some(self.hidden);
        video.recorder = Some(self.recorder);
        video.agent = Some(self.agent);
        video.can_subscribe_metrics = Some(self.can_subscribe_metrics);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(json: &str) -> ClaimsData {
        serde_json::from_str(json).expect("claims")
    }

    fn applied(json: &str, update: &ParticipantUpdate) -> Claims {
        let mut data = data(json);
        update.apply(&mut data);
        Claims::from_data(data)
    }

    const JOINED: &str = r#"{"sub":"a","name":"Ann","metadata":"m0","attributes":{"k":"v","gone":"x"},
        "video":{"roomJoin":true,"room":"r","canPublish":false,"canManageAgentSession":true}}"#;

    #[test]
    fn name_and_metadata_change_only_when_non_empty() {
        let unchanged = applied(
            JOINED,
            &ParticipantUpdate::new().with_name("").with_metadata(""),
        );
        assert_eq!((unchanged.name(), unchanged.metadata()), ("Ann", "m0"));
        let changed = applied(
            JOINED,
            &ParticipantUpdate::new().with_name("Bo").with_metadata("m1"),
        );
        assert_eq!((changed.name(), changed.metadata()), ("Bo", "m1"));
    }

    #[test]
    fn attributes_merge_and_an_empty_value_deletes_the_key() {
        let update = ParticipantUpdate::new()
            .with_attribute("k", "w")
            .with_attribute("gone", "")
            .with_attribute("new", "n")
            .with_attribute("never-there", "");
        let claims = applied(JOINED, &update);
        let pairs: Vec<_> = claims.attributes().iter().collect();
        assert_eq!(pairs, [("k", "w"), ("new", "n")]);
        let emptied = applied(
            r#"{"attributes":{"k":"v"}}"#,
            &ParticipantUpdate::new().with_attribute("k", ""),
        );
        assert!(emptied.attributes().is_empty());
    }

    #[test]
    fn a_permission_replaces_every_field_update_from_permission_copies_and_nothing_else() {
        let permission = ParticipantPermission::new()
            .with_can_publish(true)
            .with_can_publish_sources([TrackSource::Camera]);
        let claims = applied(
            JOINED,
            &ParticipantUpdate::new().with_permission(permission),
        );
        assert!(claims.can_publish_source(TrackSource::Camera));
        assert!(!claims.can_publish_source(TrackSource::Microphone));
        // Left out of the message: false, not unchanged.
        assert!(!claims.can_subscribe() && !claims.can_publish_data());
        assert!(!claims.can_update_own_metadata() && !claims.is_hidden());
        // Not copied by UpdateFromPermission: kept.
        assert!(claims.can_manage_agent_session());
        assert!(claims.can_join() && claims.room() == "r");
        // An empty source list means every source.
        let all = applied(
            JOINED,
            &ParticipantUpdate::new()
                .with_permission(ParticipantPermission::new().with_can_publish(true)),
        );
        assert!(TrackSource::ALL.iter().all(|s| all.can_publish_source(*s)));
    }

    #[test]
    fn unknown_source_numbers_are_kept_and_match_nothing() {
        let permission = ParticipantPermission::new()
            .with_can_publish(true)
            .with_can_publish_source_numbers([1, 99, -3]);
        assert_eq!(
            permission.can_publish_sources().collect::<Vec<_>>(),
            ["camera", "99", "-3"]
        );
        assert_eq!(
            permission.can_publish_source_numbers().collect::<Vec<_>>(),
            [1, 99, -3]
        );
        let claims = applied(
            JOINED,
            &ParticipantUpdate::new().with_permission(permission),
        );
        assert!(claims.can_publish_source(TrackSource::Camera));
        for source in [
            TrackSource::Microphone,
            TrackSource::ScreenShare,
            TrackSource::ScreenShareAudio,
            TrackSource::Unknown,
        ] {
            assert!(!claims.can_publish_source(source), "{source:?}");
        }
        let only_unknown = ParticipantPermission::new()
            .with_can_publish(true)
            .with_can_publish_source_numbers([99]);
        let claims = applied(
            JOINED,
            &ParticipantUpdate::new().with_permission(only_unknown),
        );
        assert!(TrackSource::ALL
            .iter()
            .all(|&source| !claims.can_publish_source(source)));
    }

    #[test]
    fn the_meet_of_two_permissions_allows_only_what_both_allow() {
        let all = ParticipantPermission::new()
            .with_can_publish(true)
            .with_can_subscribe(true);
        let camera = all.clone().with_can_publish_sources([TrackSource::Camera]);
        let microphone = all
            .clone()
            .with_can_publish_sources([TrackSource::Microphone]);
        let meet = all.meet(&camera);
        assert!(meet.can_publish_source(TrackSource::Camera));
        assert!(!meet.can_publish_source(TrackSource::Microphone));
        assert_eq!(meet, camera.meet(&all));
        let none = camera.meet(&microphone);
        assert!(TrackSource::ALL
            .iter()
            .all(|&source| !none.can_publish_source(source)));
        assert!(none.can_subscribe);
        assert!(!all.meet(&ParticipantPermission::new()).can_subscribe);
    }

    #[test]
    fn the_permission_of_claims_is_what_the_server_resolves() {
        let claims = Claims::from_data(data(JOINED));
        let p = ParticipantPermission::from_claims(&claims);
        assert!(p.can_subscribe && !p.can_publish && !p.can_publish_data);
        assert_eq!(p.can_publish_sources().len(), 0);
    }
}
