//! `GET /whoami`: the verified token with every permission resolved. The SDK fixture tests use
//! [`describe`] too, so what they check is exactly what this route returns.

use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use tower_livekit_auth::{Attributes, Claims, Permissions, RoomConfiguration};

pub(crate) async fn whoami(Extension(claims): Extension<Claims>) -> Response {
    // Serialized here, while the description still borrows the claims.
    Json(describe(&claims)).into_response()
}

/// The claims as `/whoami` shows them: identity, profile, API key, expiry, room, every
/// permission after the server's defaults, SIP grants and `roomConfig`. Written straight to
/// JSON from the claims (no `serde_json::Value` in between).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Description<'a> {
    identity: &'a str,
    name: &'a str,
    kind: &'static str,
    metadata: &'a str,
    attributes: &'a Attributes,
    api_key: &'a str,
    expires_at: Option<i64>,
    room: &'a str,
    permissions: Permissions,
    sip: Sip,
    room_config: Option<&'a RoomConfiguration>,
}

/// The SIP grants, resolved.
#[derive(Debug, Serialize)]
struct Sip {
    admin: bool,
    call: bool,
}

/// The description of `claims`.
pub(crate) fn describe(claims: &Claims) -> Description<'_> {
    Description {
        identity: claims.identity(),
        name: claims.name(),
        kind: claims.kind().as_str(),
        metadata: claims.metadata(),
        attributes: claims.attributes(),
        api_key: claims.api_key(),
        expires_at: claims.expires_at(),
        room: claims.room(),
        permissions: claims.permissions(),
        sip: Sip {
            admin: claims.is_sip_admin(),
            call: claims.can_make_sip_calls(),
        },
        room_config: claims.room_config(),
    }
}
