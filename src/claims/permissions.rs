//! [`Permissions`]: every permission of a token, resolved with the server's defaults.

use serde::Serialize;

use super::{Claims, TrackSource};

/// Every room permission of a token, resolved the way the LiveKit server resolves it, as plain
/// booleans: for logs, debugging endpoints and tests. Serializes in LiveKit's camelCase.
///
/// ```
/// use tower_livekit_auth::Claims;
///
/// let claims: Claims = serde_json::from_str(
///     r#"{"sub":"a","video":{"roomJoin":true,"room":"r","canPublish":false}}"#,
/// ).unwrap();
/// let p = claims.permissions();
/// assert!(p.room_join && p.can_join && p.can_subscribe);
/// assert!(!p.can_publish && !p.can_publish_data && !p.sources.camera);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Permissions {
    /// `video.roomJoin` after the server's default (false when unset): the token's join grant
    /// as written, whatever its room and identity.
    pub room_join: bool,
    /// [`Claims::can_join`]: the join grant, a room and an identity, all three.
    pub can_join: bool,
    /// [`Claims::is_room_admin`] of the token's own room.
    pub room_admin: bool,
    /// [`Claims::can_create_rooms`].
    pub room_create: bool,
    /// [`Claims::can_list_rooms`].
    pub room_list: bool,
    /// [`Claims::can_record`].
    pub room_record: bool,
    /// [`Claims::is_ingress_admin`].
    pub ingress_admin: bool,
    /// [`Claims::is_hidden`].
    pub hidden: bool,
    /// [`Claims::is_recorder`].
    pub recorder: bool,
    /// [`Claims::is_agent`].
    pub agent: bool,
    /// [`Claims::can_publish`].
    pub can_publish: bool,
    /// [`Claims::can_subscribe`].
    pub can_subscribe: bool,
    /// [`Claims::can_publish_data`].
    pub can_publish_data: bool,
    /// [`Claims::can_update_own_metadata`].
    pub can_update_own_metadata: bool,
    /// [`Claims::can_subscribe_metrics`].
    pub can_subscribe_metrics: bool,
    /// [`Claims::can_publish_source`] for each source.
    pub sources: SourcePermissions,
}

/// Whether each [`TrackSource`] may be published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SourcePermissions {
    /// `camera`.
    pub camera: bool,
    /// `microphone`.
    pub microphone: bool,
    /// `screen_share`.
    pub screen_share: bool,
    /// `screen_share_audio`.
    pub screen_share_audio: bool,
    /// `unknown`.
    pub unknown: bool,
}

impl Claims {
    /// Every room permission, resolved with the server's defaults.
    #[must_use]
    pub fn permissions(&self) -> Permissions {
        Permissions {
            room_join: self
                .video()
                .is_some_and(|video| video.room_join == Some(true)),
            can_join: self.can_join(),
            room_admin: self.is_room_admin(self.room()),
            room_create: self.can_create_rooms(),
            room_list: self.can_list_rooms(),
            room_record: self.can_record(),
            ingress_admin: self.is_ingress_admin(),
            hidden: self.is_hidden(),
            recorder: self.is_recorder(),
            agent: self.is_agent(),
            can_publish: self.can_publish(),
            can_subscribe: self.can_subscribe(),
            can_publish_data: self.can_publish_data(),
            can_update_own_metadata: self.can_update_own_metadata(),
            can_subscribe_metrics: self.can_subscribe_metrics(),
            sources: SourcePermissions {
                camera: self.can_publish_source(TrackSource::Camera),
                microphone: self.can_publish_source(TrackSource::Microphone),
                screen_share: self.can_publish_source(TrackSource::ScreenShare),
                screen_share_audio: self.can_publish_source(TrackSource::ScreenShareAudio),
                unknown: self.can_publish_source(TrackSource::Unknown),
            },
        }
    }
}
