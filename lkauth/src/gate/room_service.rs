//! The gate's own twirp `RoomService`: `UpdateParticipant` and `RemoveParticipant`, the two
//! calls that change what a participant's tokens may do after they were issued. Each is
//! recorded in the participant state the checks read (in memory, or Redis for every gate
//! replica), then, with `--livekit-url`, forwarded to LiveKit ([`super::forward`]).
//!
//! As LiveKit: protobuf-JSON or protobuf (`Content-Type`), the caller's token must be room
//! admin of the request's `room`, twirp errors (`unauthenticated` 401, `permission_denied`
//! 403, `malformed` and `invalid_argument` 400, `unavailable` 503, `bad_route` 404 for the
//! other methods, which the gate does not serve: send them to LiveKit). `RemoveParticipant`
//! honours `revoke_token_ts` (Unix seconds): the participant's tokens whose `nbf` is before
//! it are refused; without it, before now + the leeway. The request → update conversion is
//! `lkauth serve`'s, so both record the same state.
//!
//! Without `--livekit-url` the answers are the gate's: `RemoveParticipantResponse {}`, and for
//! an update a `ParticipantInfo` holding the identity and what the update set (the gate knows
//! no connection: no `sid`, no state).

use std::io::Write as _;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Router};
use livekit_protocol as proto;
use tower_livekit_auth::Claims;

use super::forward::ForwardFailed;
use super::Gate;
use crate::serve::room_service::{cutoff_of, require, state_error, update_of};
use crate::twirp::{Codec, TwirpError};

/// The routes, behind the `AuthLayer` of the gate's verifier (a revoked admin token is refused
/// too).
pub(crate) fn router(gate: &Gate) -> Router<Gate> {
    crate::twirp::room_service(gate.verifier().clone(), call)
}

async fn call(
    State(gate): State<Gate>,
    Path(method): Path<String>,
    Extension(claims): Extension<Claims>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let answer = async {
        if gate
            .livekit()
            .is_some_and(|livekit| livekit.came_back(&headers))
        {
            return Err(TwirpError::new(
                StatusCode::PRECONDITION_FAILED,
                "failed_precondition",
                "this call came back to the gate that forwarded it: --livekit-url must name the \
                 LiveKit server itself, not this gate or a proxy that routes RoomService calls \
                 to it",
            ));
        }
        let codec = Codec::of(&headers)?;
        let (room, identity, answer) =
            match method.as_str() {
                "UpdateParticipant" => {
                    let request: proto::UpdateParticipantRequest = codec.decode(&body)?;
                    require(claims.is_room_admin(&request.room), "roomAdmin")?;
                    gate.state()
                        .update(&request.room, &request.identity, update_of(&request))
                        .await
                        .map_err(state_error)?;
                    let answer = codec.encode(&recorded_info(&request));
                    (request.room, request.identity, answer)
                }
                "RemoveParticipant" => {
                    let request: proto::RoomParticipantIdentity = codec.decode(&body)?;
                    require(claims.is_room_admin(&request.room), "roomAdmin")?;
                    gate.state()
                        .remove(&request.room, &request.identity, cutoff_of(&request))
                        .await
                        .map_err(state_error)?;
                    let answer = codec.encode(&proto::RemoveParticipantResponse {});
                    (request.room, request.identity, answer)
                }
                _ => return Err(TwirpError::new(
                    StatusCode::NOT_FOUND,
                    "bad_route",
                    "lkauth gate serves UpdateParticipant and RemoveParticipant only: send the \
                     other RoomService calls to LiveKit",
                )),
            };
        let Some(livekit) = gate.livekit() else {
            return Ok(answer);
        };
        livekit
            .forward(&method, &headers, body.clone())
            .await
            .map_err(|failed| forward_failed(&method, &room, &identity, &failed))
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

/// The twirp error of a recorded call whose forward got no answer; the full error, with
/// LiveKit's address, goes to the gate's log only.
fn forward_failed(method: &str, room: &str, identity: &str, failed: &ForwardFailed) -> TwirpError {
    // To the operator; a closed stderr loses the line, never the answer.
    let _ = writeln!(
        std::io::stderr(),
        "warning: gate: {method} of {identity:?} in room {room:?} was recorded, but forwarding \
         it to LiveKit failed: {}",
        failed.detail
    );
    let recorded = match method {
        "RemoveParticipant" => format!(
            "the gate recorded the removal of `{identity}` from room `{room}` (its tokens are \
             refused from now on), but the call to LiveKit failed ({}): the participant may \
             still be connected",
            failed.reason
        ),
        _ => format!(
            "the gate recorded the update of `{identity}` in room `{room}` (its tokens answer \
             with it from now on), but the call to LiveKit failed ({}): LiveKit may not have \
             applied it",
            failed.reason
        ),
    };
    TwirpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        format!("{recorded}. Retrying the call is safe."),
    )
}

/// What an update set, as the `ParticipantInfo` LiveKit would answer with (less what only
/// LiveKit knows: the connection).
fn recorded_info(request: &proto::UpdateParticipantRequest) -> proto::ParticipantInfo {
    proto::ParticipantInfo {
        identity: request.identity.clone(),
        name: request.name.clone(),
        metadata: request.metadata.clone(),
        permission: request.permission.clone(),
        attributes: request
            .attributes
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        ..proto::ParticipantInfo::default()
    }
}
