//! LiveKit's standardized token endpoint, the one a frontend's endpoint `TokenSource` calls
//! (`TokenSource.endpoint(url, { headers })` in livekit-client), with the application's own
//! authentication and policy.
//!
//! ```sh
//! LIVEKIT_API_KEY=APIdevelopment LIVEKIT_API_SECRET=$(head -c 32 /dev/urandom | base64) \
//!   cargo run --example token_endpoint
//! curl -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer session-alice' \
//!   -d '{"room_name":"support","room_config":{"agents":[{"agent_name":"helper"}]}}' \
//!   http://127.0.0.1:3002/token                   # 201 {"server_url":...,"participant_token":...}
//! curl -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer session-alice' \
//!   -d '{"participant_metadata":"admin"}' http://127.0.0.1:3002/token   # 403 field_not_allowed
//! ```
//!
//! Needs, besides `tower-livekit-auth` (no feature): `axum = "0.8"`, `http = "1"`,
//! `tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }`.
//!
//! The session check here is a stand-in: replace `user_of` with the application's own (a
//! cookie, an API key). The policy grants a join of the requested room as the session's user,
//! with the agents the frontend asks for; any other field the client sets (metadata,
//! attributes, the rest of `room_config`, another identity) is refused with 403 naming it,
//! as LiveKit's endpoint standard asks.

use tower_livekit_auth::endpoint::{TokenApproval, TokenEndpoint, TokenRefusal, TokenRequest};
use tower_livekit_auth::{KeyRing, Verifier, VideoGrant};

/// The signed-in user of a request, from the application's own session (a stand-in).
fn user_of(head: &http::request::Parts) -> Option<String> {
    let value = head
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value.strip_prefix("Bearer session-").map(str::to_owned)
}

async fn policy(
    head: http::request::Parts,
    request: TokenRequest,
) -> Result<TokenApproval, TokenRefusal> {
    let user = user_of(&head).ok_or_else(|| TokenRefusal::unauthorized("log in first"))?;
    let room = request.room_name.clone().unwrap_or_else(|| "lobby".into());
    Ok(TokenApproval::from_request(&request, user)
        .with_video_grant(VideoGrant::join(room))
        .accept_agent_dispatch())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = KeyRing::from_env()?;
    let api_key = keys.api_keys().min().ok_or("no key")?.to_owned();
    let verifier = Verifier::new(keys);
    let endpoint = TokenEndpoint::new(&verifier, &api_key, "ws://127.0.0.1:7880", policy)?
        // Refuse an anonymous caller before its body is read.
        .with_head_check(|head| match user_of(head) {
            Some(_) => Ok(()),
            None => Err(TokenRefusal::unauthorized("log in first")),
        });
    let app = axum::Router::new().route_service("/token", endpoint);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3002").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
