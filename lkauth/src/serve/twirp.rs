//! A twirp subset of LiveKit's `RoomService`, with the grants LiveKit checks for each method
//! (`roomCreate`, `roomList`, `roomAdmin` of the room: `livekit-server`'s
//! `pkg/service/roomservice.go`), and participant updates and removals after the token, so
//! that the official SDK clients can drive it (see [`crate::twirp`] for the encodings).

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Extension, Router};
use tower_livekit_auth::{AuthLayer, Claims, Verifier};

use super::{room_service, AppState};
use crate::twirp::{twirp_rejection, Codec};

pub(crate) fn router(verifier: Verifier) -> Router<AppState> {
    Router::new()
        .route("/twirp/livekit.RoomService/{method}", post(room_service))
        // A route layer: other twirp services and paths are 404, not 401.
        .route_layer(AuthLayer::new(verifier).with_rejection_handler(twirp_rejection))
}

async fn room_service(
    State(state): State<AppState>,
    Path(method): Path<String>,
    Extension(claims): Extension<Claims>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let call = async {
        let codec = Codec::of(&headers)?;
        room_service::call(&state, &method, &claims, codec, &body).await
    };
    call.await.unwrap_or_else(IntoResponse::into_response)
}
