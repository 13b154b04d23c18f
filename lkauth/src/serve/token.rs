//! `POST /token`: the standardized token endpoint with a development policy: anyone may join
//! the requested room (or a generated one), with a generated identity when none is given.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tower_livekit_auth::endpoint::{TokenApproval, TokenEndpoint, TokenPolicy, TokenRequest};
use tower_livekit_auth::{MintError, VideoGrant};

use super::AppState;

/// A short name nobody else is likely to have: the time and a counter.
fn generated(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{:x}{n:x}", nanos & 0xffff)
}

/// Development policy, the seed's flow: anyone may join the requested room (or a generated
/// one) as the requested identity, with the agent dispatch the frontend asks for; the client's
/// metadata, attributes and room configuration are taken as sent, which only a development
/// server should do. `room_config.egress` alone is refused (403 `field_not_allowed`, naming
/// it): it would make LiveKit record at the operator's cost. No authentication of the caller:
/// a real application checks its own session or API key (`with_head_check`) before granting
/// anything, and accepts only the fields it trusts (the endpoint refuses the others by name).
async fn dev_policy(
    _head: http::request::Parts,
    request: TokenRequest,
) -> Result<TokenApproval, tower_livekit_auth::endpoint::TokenRefusal> {
    let identity = request
        .participant_identity
        .clone()
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| generated("user"));
    let room = request
        .room_name
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| generated("room"));
    Ok(TokenApproval::from_request(&request, identity)
        .with_video_grant(VideoGrant::join(room))
        .accept_metadata()
        .accept_attributes()
        .accept_room_config())
}

pub(crate) fn endpoint(
    state: &AppState,
) -> Result<TokenEndpoint<impl TokenPolicy + Clone>, MintError> {
    let api_key = super::signing_key(state).unwrap_or_default();
    TokenEndpoint::new(
        &state.verifier,
        &api_key,
        state.public_url.to_string(),
        dev_policy,
    )
}
