//! `POST /api/v2/sandbox/connection-details`: LiveKit Cloud's development token server, served
//! locally, so that a frontend's development `TokenSource` works against this demo without
//! LiveKit Cloud. In livekit-client:
//!
//! ```js
//! TokenSource.developmentTokenServer('my-sandbox', { baseUrl: 'http://127.0.0.1:7880' })
//! ```
//!
//! The clients send what they send to a token endpoint (the same JSON body, `Content-Type:
//! application/json`) plus the `X-Sandbox-ID` header, so this route is `POST /token` (the same
//! endpoint, the same development policy) behind a check of that header. Its answer adds
//! `room_name` and `participant_name` to `server_url` and `participant_token`, in snake_case:
//! the Swift SDK decodes only those keys and reads the two optional ones, the others accept them.
//!
//! Any well-formed sandbox ID is accepted: this is a development server for every sandbox, and
//! the ID grants nothing here (as in LiveKit Cloud, anyone who has it gets tokens).

use std::convert::Infallible;

use axum::extract::Request;
use http::request::Parts;
use http::Response;
use serde::{Deserialize, Serialize};
use tower::{Service, ServiceExt};
use tower_livekit_auth::body::FullBody;
use tower_livekit_auth::endpoint::TokenRefusal;
use tower_livekit_auth::{MintError, Verifier};

use super::AppState;

/// Where LiveKit Cloud serves it; the clients append this to their `baseUrl`.
pub(crate) const PATH: &str = "/api/v2/sandbox/connection-details";

/// The header the clients put the sandbox (token server) ID in.
const SANDBOX_ID: &str = "x-sandbox-id";

/// Longer than any ID LiveKit Cloud hands out (`name-word-abc123`), short enough to be an ID.
const MAX_SANDBOX_ID_LEN: usize = 128;

/// The development token server: the demo's token endpoint, refusing a request without a
/// sandbox ID before its body is read, answering with the connection details.
pub(crate) fn service(
    state: &AppState,
) -> Result<
    impl Service<Request, Response = Response<FullBody>, Error = Infallible, Future: Send>
        + Clone
        + Send
        + Sync
        + 'static,
    MintError,
> {
    let endpoint = super::token::endpoint(state)?.with_head_check(check_sandbox_id);
    let verifier = state.verifier.clone();
    Ok(ServiceExt::<Request>::map_response(
        endpoint,
        move |response| connection_details(&verifier, response),
    ))
}

/// Exactly one `X-Sandbox-ID` of letters, digits, `-` and `_`; the clients trim anything else
/// from the ends of the ID they are given. The refusal never repeats the value.
fn check_sandbox_id(head: &Parts) -> Result<(), TokenRefusal> {
    let mut values = head.headers.get_all(SANDBOX_ID).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(TokenRefusal::bad_request(
            "send exactly one X-Sandbox-ID header with the development token server's ID \
             (any ID works on this local server)",
        ));
    };
    let id = value.as_bytes();
    if id.is_empty()
        || id.len() > MAX_SANDBOX_ID_LEN
        || !id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    {
        return Err(TokenRefusal::bad_request(format!(
            "X-Sandbox-ID must be 1 to {MAX_SANDBOX_ID_LEN} letters, digits, '-' or '_'"
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Minted {
    server_url: String,
    participant_token: String,
}

#[derive(Serialize)]
struct ConnectionDetails<'a> {
    server_url: &'a str,
    participant_token: &'a str,
    room_name: &'a str,
    participant_name: &'a str,
}

/// The endpoint's `201 {server_url, participant_token}` with the room and the participant's
/// name from the token itself (the policy may have generated both). Refusals pass unchanged.
fn connection_details(verifier: &Verifier, response: Response<FullBody>) -> Response<FullBody> {
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let details = serde_json::from_slice::<Minted>(body.as_bytes())
        .ok()
        .and_then(|minted| {
            // The token was minted a moment ago with this verifier's keys: it fails only if the
            // keys rotated in between, and then the client still gets the two fields it needs.
            let claims = verifier.verify(&minted.participant_token).ok()?;
            // The display name, or the identity when the token has none: never an empty name.
            let name = match claims.name() {
                "" => claims.identity(),
                name => name,
            };
            serde_json::to_string(&ConnectionDetails {
                server_url: &minted.server_url,
                participant_token: &minted.participant_token,
                room_name: claims.room(),
                participant_name: name,
            })
            .ok()
        });
    match details {
        Some(json) => Response::from_parts(parts, FullBody::from(json)),
        None => Response::from_parts(parts, body),
    }
}
