//! `GET /whoami`: the verified token with every permission resolved. The SDK fixture tests use
//! [`describe`] too, so what they check is exactly what this route returns.

use axum::{Extension, Json};
use serde_json::{json, Value};
use tower_livekit_auth::Claims;

pub(crate) async fn whoami(Extension(claims): Extension<Claims>) -> Json<Value> {
    Json(describe(&claims))
}

/// The claims as `/whoami` shows them: identity, profile, API key, expiry, room, every
/// permission after the server's defaults, SIP grants and `roomConfig`.
pub(crate) fn describe(claims: &Claims) -> Value {
    json!({
        "identity": claims.identity(),
        "name": claims.name(),
        "kind": claims.kind().as_str(),
        "metadata": claims.metadata(),
        "attributes": claims.attributes(),
        "apiKey": claims.api_key(),
        "expiresAt": claims.expires_at(),
        "room": claims.room(),
        "permissions": claims.permissions(),
        "sip": {"admin": claims.is_sip_admin(), "call": claims.can_make_sip_calls()},
        "roomConfig": claims.room_config(),
    })
}
