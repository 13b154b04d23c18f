//! [`Requirement`]: the rule a [`RequireLayer`](super::RequireLayer) enforces, and the
//! ready-made ones: [`RequiredGrant`], [`RoomAdmin`], [`Custom`].

use super::head::RequestHead;
use super::room::RoomFrom;
use crate::claims::{Claims, TrackSource};

/// A rule over verified claims and the request.
pub trait Requirement {
    /// Whether `claims` may make this request.
    fn allows(&self, claims: &Claims, request: &RequestHead<'_>) -> bool;

    /// The grant's name, for the rejection (`"roomCreate"`, `"roomAdmin"`, ...).
    fn grant(&self) -> &'static str;
}

/// The ready-made requirements of [`RequireLayer`](super::RequireLayer)'s constructors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequiredGrant {
    /// [`Claims::can_join`].
    Join,
    /// [`Claims::can_create_rooms`].
    CreateRooms,
    /// [`Claims::can_list_rooms`].
    ListRooms,
    /// [`Claims::can_record`].
    Record,
    /// [`Claims::is_ingress_admin`].
    IngressAdmin,
    /// [`Claims::is_sip_admin`].
    SipAdmin,
    /// [`Claims::can_make_sip_calls`].
    SipCall,
    /// [`Claims::can_publish_source`].
    Publish(TrackSource),
}

impl Requirement for RequiredGrant {
    fn allows(&self, claims: &Claims, _: &RequestHead<'_>) -> bool {
        match *self {
            RequiredGrant::Join => claims.can_join(),
            RequiredGrant::CreateRooms => claims.can_create_rooms(),
            RequiredGrant::ListRooms => claims.can_list_rooms(),
            RequiredGrant::Record => claims.can_record(),
            RequiredGrant::IngressAdmin => claims.is_ingress_admin(),
            RequiredGrant::SipAdmin => claims.is_sip_admin(),
            RequiredGrant::SipCall => claims.can_make_sip_calls(),
            RequiredGrant::Publish(source) => claims.can_publish_source(source),
        }
    }

    fn grant(&self) -> &'static str {
        match self {
            RequiredGrant::Join => "roomJoin",
            RequiredGrant::CreateRooms => "roomCreate",
            RequiredGrant::ListRooms => "roomList",
            RequiredGrant::Record => "roomRecord",
            RequiredGrant::IngressAdmin => "ingressAdmin",
            RequiredGrant::SipAdmin => "sip.admin",
            RequiredGrant::SipCall => "sip.call",
            RequiredGrant::Publish(_) => "canPublishSources",
        }
    }
}

/// Room admin of the room the request names, found by a [`RoomFrom`]. See
/// [`RequireLayer::room_admin`](super::RequireLayer::room_admin).
#[derive(Clone, Debug)]
pub struct RoomAdmin(pub(super) RoomFrom);

impl Requirement for RoomAdmin {
    fn allows(&self, claims: &Claims, request: &RequestHead<'_>) -> bool {
        self.0
            .room(request)
            .is_some_and(|room| claims.is_room_admin(&room))
    }

    fn grant(&self) -> &'static str {
        "roomAdmin"
    }
}

/// A requirement given as a function. See
/// [`RequireLayer::custom`](super::RequireLayer::custom).
#[derive(Clone, Copy, Debug)]
pub struct Custom<F> {
    pub(super) predicate: F,
    pub(super) grant: &'static str,
}

impl<F> Requirement for Custom<F>
where
    F: Fn(&Claims, &RequestHead<'_>) -> bool,
{
    fn allows(&self, claims: &Claims, request: &RequestHead<'_>) -> bool {
        (self.predicate)(claims, request)
    }

    fn grant(&self) -> &'static str {
        self.grant
    }
}
