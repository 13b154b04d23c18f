//! `POST /rooms/{room}/publish` with `{"source":"camera"}`: 204 when the token may join that
//! room and publish that source.

use axum::extract::rejection::JsonRejection;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use tower_livekit_auth::{Claims, TrackSource};

#[derive(Deserialize)]
pub(crate) struct PublishRequest {
    source: String,
}

pub(crate) async fn publish(
    Extension(claims): Extension<Claims>,
    Path(room): Path<String>,
    body: Result<Json<PublishRequest>, JsonRejection>,
) -> (StatusCode, String) {
    let Json(body) = match body {
        Ok(body) => body,
        Err(err) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("bad request body: {}", err.body_text()),
            )
        }
    };
    let source = match body.source.parse::<TrackSource>() {
        Ok(source) => source,
        Err(unknown) => return (StatusCode::BAD_REQUEST, unknown.to_string()),
    };
    if !claims.can_join() || claims.room() != room {
        return (
            StatusCode::FORBIDDEN,
            format!("the token may not join room `{room}`"),
        );
    }
    if !claims.can_publish_source(source) {
        return (
            StatusCode::FORBIDDEN,
            format!("the token may not publish {source}"),
        );
    }
    (StatusCode::NO_CONTENT, String::new())
}
