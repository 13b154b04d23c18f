//! `GET /rtc/validate`: LiveKit's connection check, in the server's order
//! (`ValidateConnectRequest` in `livekit-server`'s `pkg/service/utils.go`): a join grant, then a
//! non-empty identity, then a room.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use tower_livekit_auth::Claims;

use super::AppState;

/// Passing the check is the demo's stand-in for connecting: the participant joins its room.
pub(crate) async fn validate(
    State(app): State<AppState>,
    Extension(claims): Extension<Claims>,
) -> (StatusCode, &'static str) {
    let Some(video) = claims.video() else {
        return (
            StatusCode::UNAUTHORIZED,
            "permissions denied: no video grant",
        );
    };
    if !video.has_join_grant() {
        return (
            StatusCode::UNAUTHORIZED,
            "permissions denied: no join grant",
        );
    }
    if claims.identity().is_empty() {
        return (StatusCode::BAD_REQUEST, "identity cannot be empty");
    }
    if claims.room().is_empty() {
        return (StatusCode::BAD_REQUEST, "no room name");
    }
    match app.rooms.join(&claims).await {
        Ok(()) => (StatusCode::OK, "success"),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the rooms are unavailable; try again",
        ),
    }
}
