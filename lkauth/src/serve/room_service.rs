//! A twirp subset of LiveKit's `RoomService`, with the grants LiveKit checks for each method
//! (`roomCreate`, `roomList`, `roomAdmin` of the room: `livekit-server`'s
//! `pkg/service/roomservice.go`): rooms, and the participants who joined them, with their
//! state after their tokens were issued (`UpdateParticipant`, `RemoveParticipant`), so that
//! the official SDK clients can drive it (see [`crate::twirp`] for the encodings).

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Router};
use livekit_protocol as proto;
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantUpdate, StateError, StateErrorKind,
};
use tower_livekit_auth::{Claims, Verifier};

use super::rooms::{Joined, Unavailable};
use super::AppState;
use crate::twirp::{Codec, TwirpError};

pub(super) fn router(verifier: Verifier) -> Router<AppState> {
    crate::twirp::room_service(verifier, handle)
}

async fn handle(
    State(state): State<AppState>,
    Path(method): Path<String>,
    Extension(claims): Extension<Claims>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let call = async {
        let codec = Codec::of(&headers)?;
        call(&state, &method, &claims, codec, &body).await
    };
    call.await.unwrap_or_else(IntoResponse::into_response)
}

async fn call(
    app: &AppState,
    method: &str,
    claims: &Claims,
    codec: Codec,
    body: &Bytes,
) -> Result<Response<Body>, TwirpError> {
    match method {
        "CreateRoom" => {
            let request: proto::CreateRoomRequest = codec.decode(body)?;
            require(claims.can_create_rooms(), "roomCreate")?;
            if request.name.is_empty() {
                return Err(invalid("the room needs a name"));
            }
            Ok(codec.encode(&app.rooms.create(&request).await.map_err(rooms_error)?))
        }
        "ListRooms" => {
            let request: proto::ListRoomsRequest = codec.decode(body)?;
            require(claims.can_list_rooms(), "roomList")?;
            let rooms = app.rooms.list(&request.names).await.map_err(rooms_error)?;
            Ok(codec.encode(&proto::ListRoomsResponse { rooms }))
        }
        "DeleteRoom" => {
            let request: proto::DeleteRoomRequest = codec.decode(body)?;
            require(claims.can_create_rooms(), "roomCreate")?;
            if !app.rooms.delete(&request.room).await.map_err(rooms_error)? {
                return Err(no_room(&request.room));
            }
            Ok(codec.encode(&proto::DeleteRoomResponse {}))
        }
        "UpdateRoomMetadata" => {
            let request: proto::UpdateRoomMetadataRequest = codec.decode(body)?;
            require(claims.is_room_admin(&request.room), "roomAdmin")?;
            let room = app
                .rooms
                .set_metadata(&request.room, &request.metadata)
                .await
                .map_err(rooms_error)?
                .ok_or_else(|| no_room(&request.room))?;
            Ok(codec.encode(&room))
        }
        "ListParticipants" => {
            let request: proto::ListParticipantsRequest = codec.decode(body)?;
            require(claims.is_room_admin(&request.room), "roomAdmin")?;
            if !app.rooms.exists(&request.room).await.map_err(rooms_error)? {
                return Err(no_room(&request.room));
            }
            let participants = app
                .rooms
                .participants(&request.room)
                .await
                .map_err(rooms_error)?
                .iter()
                .filter_map(|joined| info(app, joined))
                .collect();
            Ok(codec.encode(&proto::ListParticipantsResponse { participants }))
        }
        "GetParticipant" => {
            let request: proto::RoomParticipantIdentity = codec.decode(body)?;
            require(claims.is_room_admin(&request.room), "roomAdmin")?;
            let joined = joined(app, &request.room, &request.identity).await?;
            info(app, &joined)
                .map(|info| codec.encode(&info))
                .ok_or_else(|| not_in_room(&request.identity))
        }
        "UpdateParticipant" => {
            let request: proto::UpdateParticipantRequest = codec.decode(body)?;
            require(claims.is_room_admin(&request.room), "roomAdmin")?;
            let joined = joined(app, &request.room, &request.identity).await?;
            app.participants
                .update(&request.room, &request.identity, update_of(&request))
                .await
                .map_err(state_error)?;
            info(app, &joined)
                .map(|info| codec.encode(&info))
                .ok_or_else(|| not_in_room(&request.identity))
        }
        "RemoveParticipant" => {
            let request: proto::RoomParticipantIdentity = codec.decode(body)?;
            require(claims.is_room_admin(&request.room), "roomAdmin")?;
            joined(app, &request.room, &request.identity).await?;
            // `revoke_token_ts` when given, else now + leeway (LiveKit Cloud's rule). The
            // revocation is written first: if it fails, the participant stays in the room.
            app.participants
                .remove(&request.room, &request.identity, cutoff_of(&request))
                .await
                .map_err(state_error)?;
            app.rooms
                .leave(&request.room, &request.identity)
                .await
                .map_err(rooms_error)?;
            Ok(codec.encode(&proto::RemoveParticipantResponse {}))
        }
        _ => Err(TwirpError::new(
            StatusCode::NOT_FOUND,
            "bad_route",
            "no such RoomService method",
        )),
    }
}

/// The revocation cutoff of a `RemoveParticipant`: `revoke_token_ts` (Unix seconds) when
/// given, else none (the state's default, now + the leeway).
pub(crate) fn cutoff_of(request: &proto::RoomParticipantIdentity) -> Option<u64> {
    u64::try_from(request.revoke_token_ts)
        .ok()
        .filter(|&ts| ts > 0)
}

/// `permission_denied` (403) naming `grant` unless `allowed`, as LiveKit answers.
pub(crate) fn require(allowed: bool, grant: &str) -> Result<(), TwirpError> {
    if allowed {
        Ok(())
    } else {
        Err(TwirpError::new(
            StatusCode::FORBIDDEN,
            "permission_denied",
            format!("the token lacks the {grant} grant"),
        ))
    }
}

fn invalid(msg: &str) -> TwirpError {
    TwirpError::new(StatusCode::BAD_REQUEST, "invalid_argument", msg)
}

fn no_room(room: &str) -> TwirpError {
    TwirpError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("room `{room}` does not exist"),
    )
}

fn not_in_room(identity: &str) -> TwirpError {
    TwirpError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("participant `{identity}` is not in the room"),
    )
}

async fn joined(app: &AppState, room: &str, identity: &str) -> Result<Joined, TwirpError> {
    app.rooms
        .participant(room, identity)
        .await
        .map_err(rooms_error)?
        .ok_or_else(|| not_in_room(identity))
}

fn rooms_error(err: Unavailable) -> TwirpError {
    TwirpError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", err.0)
}

/// A write the state did not make, or may not have made: the client hears which, and why.
/// Sizes over LiveKit's limits are `invalid_argument`, as LiveKit answers them.
pub(crate) fn state_error(err: StateError) -> TwirpError {
    let (status, code) = match err.kind() {
        StateErrorKind::Full | StateErrorKind::RoomFull => {
            (StatusCode::TOO_MANY_REQUESTS, "resource_exhausted")
        }
        StateErrorKind::InvalidParticipant | StateErrorKind::TooLarge => {
            (StatusCode::BAD_REQUEST, "invalid_argument")
        }
        // Unavailable (nothing written) and OutcomeUnknown (the message says which): both
        // retryable, since writes are idempotent.
        _ => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    TwirpError::new(status, code, err.to_string())
}

/// `UpdateParticipantRequest` as the crate's update: the message's empty strings are
/// "unchanged", its permission (when present) replaces the grant fields as a whole.
pub(crate) fn update_of(request: &proto::UpdateParticipantRequest) -> ParticipantUpdate {
    let mut update = ParticipantUpdate::new()
        .with_name(request.name.clone())
        .with_metadata(request.metadata.clone())
        .with_attributes(request.attributes.clone());
    if let Some(permission) = &request.permission {
        // A number the crate does not know is kept as LiveKit keeps it, matching no source:
        // dropping it would leave an empty list, which means every source.
        let sources = permission.can_publish_sources.iter().copied();
        update = update.with_permission(
            ParticipantPermission::new()
                .with_can_subscribe(permission.can_subscribe)
                .with_can_publish(permission.can_publish)
                .with_can_publish_data(permission.can_publish_data)
                .with_can_publish_source_numbers(sources)
                .with_hidden(permission.hidden)
                .with_can_update_metadata(permission.can_update_metadata)
                .with_can_subscribe_metrics(permission.can_subscribe_metrics)
                .with_recorder(deprecated_recorder(permission))
                .with_agent(deprecated_agent(permission)),
        );
    }
    update
}

// `recorder` and `agent` are deprecated in the protocol but still copied by the server's
// `UpdateFromPermission`.
#[allow(deprecated)]
fn deprecated_recorder(permission: &proto::ParticipantPermission) -> bool {
    permission.recorder
}

#[allow(deprecated)]
fn deprecated_agent(permission: &proto::ParticipantPermission) -> bool {
    permission.agent
}

/// `ParticipantInfo` of a participant now: its join token's claims as the participant state
/// says they are. `None` if its tokens were revoked (it would have been disconnected).
fn info(app: &AppState, joined: &Joined) -> Option<proto::ParticipantInfo> {
    let claims = app.participants.apply(&joined.claims).ok()?;
    let permission = ParticipantPermission::from_claims(&claims);
    let kind = proto::participant_info::Kind::from_str_name(&claims.kind().as_str().to_uppercase())
        .unwrap_or(proto::participant_info::Kind::Standard);
    #[allow(deprecated)]
    let permission = proto::ParticipantPermission {
        can_subscribe: permission.can_subscribe,
        can_publish: permission.can_publish,
        can_publish_data: permission.can_publish_data,
        can_publish_sources: permission.can_publish_source_numbers().collect(),
        hidden: permission.hidden,
        recorder: permission.recorder,
        can_update_metadata: permission.can_update_metadata,
        agent: permission.agent,
        can_subscribe_metrics: permission.can_subscribe_metrics,
        can_manage_agent_session: claims.can_manage_agent_session(),
    };
    Some(proto::ParticipantInfo {
        sid: joined.sid.clone(),
        identity: claims.identity().to_owned(),
        state: proto::participant_info::State::Active as i32,
        metadata: claims.metadata().to_owned(),
        joined_at: joined.joined_at_ms / 1000,
        joined_at_ms: joined.joined_at_ms,
        name: claims.name().to_owned(),
        permission: Some(permission),
        kind: kind as i32,
        attributes: claims
            .attributes()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..proto::ParticipantInfo::default()
    })
}
