//! A twirp JSON subset of LiveKit's `RoomService`, in memory, with LiveKit's grants (spec §3)
//! and twirp errors, so that the official SDK clients can drive it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_livekit_auth::middleware::{AuthRejection, RejectionKind};
use tower_livekit_auth::{AuthLayer, Claims, Verifier};

use super::AppState;

/// The rooms, by name.
#[derive(Clone, Default)]
pub(crate) struct Rooms(Arc<Mutex<BTreeMap<String, Room>>>);

/// `livekit.Room` in protobuf-JSON (64-bit integers as strings).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Room {
    sid: String,
    name: String,
    empty_timeout: u32,
    departure_timeout: u32,
    max_participants: u32,
    creation_time: String,
    metadata: String,
    num_participants: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRoomRequest {
    #[serde(default)]
    name: String,
    #[serde(default)]
    empty_timeout: u32,
    #[serde(default)]
    departure_timeout: u32,
    #[serde(default)]
    max_participants: u32,
    #[serde(default)]
    metadata: String,
}

#[derive(Deserialize)]
struct ListRoomsRequest {
    #[serde(default)]
    names: Vec<String>,
}

#[derive(Deserialize)]
struct RoomRequest {
    #[serde(default)]
    room: String,
    #[serde(default)]
    metadata: String,
}

/// A twirp error: JSON `{"code","msg"}`, `Content-Type` exactly `application/json` (the Node
/// SDK reads `code` only then).
pub(crate) struct TwirpError {
    status: StatusCode,
    code: &'static str,
    msg: String,
}

impl TwirpError {
    fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        TwirpError {
            status,
            code,
            msg: msg.into(),
        }
    }
}

impl IntoResponse for TwirpError {
    fn into_response(self) -> Response<Body> {
        let body = json!({ "code": self.code, "msg": self.msg }).to_string();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// The AuthLayer's rejections as twirp errors.
fn twirp_rejection(rejection: &AuthRejection) -> Response<Body> {
    let code = match rejection.kind() {
        RejectionKind::MalformedRequest => "malformed",
        RejectionKind::InsufficientScope => "permission_denied",
        _ => "unauthenticated",
    };
    let mut response =
        TwirpError::new(rejection.status(), code, rejection.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, rejection.www_authenticate());
    response
}

pub(crate) fn router(verifier: Verifier) -> Router<AppState> {
    Router::new()
        .route("/twirp/livekit.RoomService/{method}", post(room_service))
        // A route layer: other twirp services and paths are 404, not 401.
        .route_layer(AuthLayer::new(verifier).with_rejection_handler(twirp_rejection))
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, TwirpError> {
    serde_json::from_slice(body).map_err(|_| {
        TwirpError::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "the request body is not the method's JSON message",
        )
    })
}

fn denied(grant: &str) -> TwirpError {
    TwirpError::new(
        StatusCode::FORBIDDEN,
        "permission_denied",
        format!("the token lacks the {grant} grant"),
    )
}

fn ok(value: impl Serialize) -> Response<Body> {
    let mut response = Response::new(Body::from(serde_json::to_vec(&value).unwrap_or_default()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

async fn room_service(
    State(state): State<AppState>,
    Path(method): Path<String>,
    claims: Claims,
    body: Bytes,
) -> Response<Body> {
    handle(&state.rooms, &method, &claims, &body).unwrap_or_else(IntoResponse::into_response)
}

fn handle(
    rooms: &Rooms,
    method: &str,
    claims: &Claims,
    body: &Bytes,
) -> Result<Response<Body>, TwirpError> {
    let mut rooms = rooms.0.lock().unwrap_or_else(PoisonError::into_inner);
    match method {
        "CreateRoom" => {
            let request: CreateRoomRequest = parse(body)?;
            if !claims.can_create_rooms() {
                return Err(denied("roomCreate"));
            }
            if request.name.is_empty() {
                return Err(TwirpError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_argument",
                    "the room needs a name",
                ));
            }
            let created = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let room = rooms.entry(request.name.clone()).or_insert_with(|| Room {
                sid: format!("RM_{:012x}", created ^ request.name.len() as u64),
                name: request.name,
                empty_timeout: request.empty_timeout,
                departure_timeout: request.departure_timeout,
                max_participants: request.max_participants,
                creation_time: created.to_string(),
                metadata: request.metadata,
                num_participants: 0,
            });
            Ok(ok(&*room))
        }
        "ListRooms" => {
            let request: ListRoomsRequest = parse(body)?;
            if !claims.can_list_rooms() {
                return Err(denied("roomList"));
            }
            let listed: Vec<&Room> = rooms
                .values()
                .filter(|room| request.names.is_empty() || request.names.contains(&room.name))
                .collect();
            Ok(ok(json!({ "rooms": listed })))
        }
        "DeleteRoom" => {
            let request: RoomRequest = parse(body)?;
            if !claims.can_create_rooms() {
                return Err(denied("roomCreate"));
            }
            rooms
                .remove(&request.room)
                .ok_or_else(|| not_found(&request.room))?;
            Ok(ok(json!({})))
        }
        "ListParticipants" => {
            let request: RoomRequest = parse(body)?;
            if !claims.is_room_admin(&request.room) {
                return Err(denied("roomAdmin"));
            }
            rooms
                .get(&request.room)
                .ok_or_else(|| not_found(&request.room))?;
            Ok(ok(json!({ "participants": [] })))
        }
        "UpdateRoomMetadata" => {
            let request: RoomRequest = parse(body)?;
            if !claims.is_room_admin(&request.room) {
                return Err(denied("roomAdmin"));
            }
            let room = rooms
                .get_mut(&request.room)
                .ok_or_else(|| not_found(&request.room))?;
            room.metadata = request.metadata;
            Ok(ok(&*room))
        }
        _ => Err(TwirpError::new(
            StatusCode::NOT_FOUND,
            "bad_route",
            "no such RoomService method",
        )),
    }
}

fn not_found(room: &str) -> TwirpError {
    TwirpError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("room `{room}` does not exist"),
    )
}
