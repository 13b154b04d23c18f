//! `lkauth serve`: LiveKit's token endpoint, its development token server, a twirp
//! `RoomService` (rooms, and participants updated and removed after their tokens were issued),
//! a webhook receiver and the participant routes, every use of `tower-livekit-auth` in one
//! axum app.
//!
//! Handlers take the claims as `Extension<Claims>`, axum's own extractor.

mod publish;
pub(crate) mod room_service;
mod rooms;
mod rtc;
mod run;
mod sandbox;
mod token;
mod webhook;
mod whoami;

pub use run::{run, Args, REDIS_PREFIX};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderName;
use axum::routing::{get, post};
use axum::Router;
use tower_livekit_auth::config::LiveKitConfig;
use tower_livekit_auth::limits::Limits;
use tower_livekit_auth::middleware::{AuthRejection, TokenLocation};
use tower_livekit_auth::state::{ParticipantState, RedisOptions, RedisTopology};
use tower_livekit_auth::webhook::WebhookLayer;
use tower_livekit_auth::{AuthLayer, MintError, Verifier};

use crate::state::state_options;

pub use crate::keys::{DEV_KEY, DEV_SECRET};

/// What the handlers share.
#[derive(Clone)]
#[allow(missing_debug_implementations)] // a verifier, a state and rooms: nothing to show
pub struct AppState {
    /// Verifies with `participants` applied: every route answers with the current state.
    pub(crate) verifier: Verifier,
    /// The LiveKit URL that `POST /token` hands out.
    pub(crate) public_url: Arc<str>,
    pub(crate) rooms: rooms::Rooms,
    /// Participant updates and removals after their tokens were issued.
    pub(crate) participants: ParticipantState,
}

impl AppState {
    /// The app's state around `verifier`, with the verifier's participant state or, if it has
    /// none, a new in-memory one on the verifier's clock, given to it.
    #[must_use]
    pub fn new(verifier: Verifier, public_url: String) -> Self {
        let participants = verifier
            .participant_state()
            .cloned()
            .unwrap_or_else(|| ParticipantState::in_memory(state_options(&verifier)));
        Self::with(verifier, public_url, participants, rooms::Rooms::default())
    }

    /// The state of one replica of many: the participant state (bounded by `limits`) and the
    /// rooms in the one Redis at `url`, under `prefix`, so that any replica answers any twirp
    /// call and any route.
    pub async fn replica(
        verifier: Verifier,
        public_url: String,
        url: &str,
        prefix: &str,
        limits: Limits,
    ) -> Result<Self, String> {
        let topology = RedisTopology::url(url).map_err(|err| err.to_string())?;
        Self::on_redis(verifier, public_url, topology, prefix, limits).await
    }

    /// The state as LiveKit's config describes it: the participant state with `limit:`'s
    /// sizes (`LiveKitConfig::participant_state_with`), and when the config has a `redis:`
    /// block, the participant state and the rooms on that Redis (one server, Sentinel or
    /// Cluster, with its credentials and TLS), under `prefix`.
    pub async fn from_config(
        verifier: Verifier,
        public_url: String,
        config: &LiveKitConfig,
        prefix: &str,
    ) -> Result<Self, String> {
        let Some(redis) = config.redis() else {
            let participants =
                ParticipantState::in_memory(state_options(&verifier).with_limits(config.limits()));
            return Ok(Self::with(
                verifier,
                public_url,
                participants,
                rooms::Rooms::default(),
            ));
        };
        let topology = redis.topology().map_err(|err| err.to_string())?;
        Self::on_redis(verifier, public_url, topology, prefix, config.limits()).await
    }

    /// The participant state (bounded by `limits`) and the rooms on the Redis of `topology`,
    /// under `prefix`.
    async fn on_redis(
        verifier: Verifier,
        public_url: String,
        topology: RedisTopology,
        prefix: &str,
        limits: Limits,
    ) -> Result<Self, String> {
        let options = state_options(&verifier).with_limits(limits);
        let participants =
            ParticipantState::redis_on(&topology, options, RedisOptions::new().with_prefix(prefix))
                .await
                .map_err(|err| err.to_string())?;
        let rooms = rooms::Rooms::redis(topology, prefix).map_err(|err| err.0)?;
        Ok(Self::with(verifier, public_url, participants, rooms))
    }

    fn with(
        verifier: Verifier,
        public_url: String,
        participants: ParticipantState,
        rooms: rooms::Rooms,
    ) -> Self {
        AppState {
            verifier: verifier.with_participant_state(participants.clone()),
            public_url: public_url.into(),
            rooms,
            participants,
        }
    }
}

/// The response header that carries a refreshed token: within 10 minutes of expiry, and at
/// once after the participant's state changed (the LiveKit server's refresh rules).
pub const REFRESH_HEADER: &str = "x-livekit-refresh-token";

/// Every route of the demo server. Fails only if the key ring is empty.
pub fn router(state: AppState) -> Result<Router, MintError> {
    let verifier = state.verifier.clone();
    let token_endpoint = token::endpoint(&state)?;
    let participant_layer = || {
        AuthLayer::new(verifier.clone())
            .with_refresh_header(
                HeaderName::from_static(REFRESH_HEADER),
                Duration::from_secs(600),
            )
            .with_rejection_handler(text_rejection)
    };
    // `route_layer`, not `layer`: a path no route matches stays a 404 instead of becoming a 401
    // of the layer in front of the router's fallback.
    let authenticated = Router::new()
        .route("/whoami", get(whoami::whoami))
        .route("/rooms/{room}/publish", post(publish::publish))
        .route_layer(participant_layer());
    // The signal connection's check: browsers cannot set headers on a WebSocket, so this route
    // also takes `?access_token=`.
    let rtc = Router::new()
        .route("/rtc/validate", get(rtc::validate))
        .route_layer(participant_layer().with_token_location(TokenLocation::HeaderOrQuery));
    Ok(Router::new()
        .route("/", get(|| async { "OK" }))
        .route_service("/token", token_endpoint)
        .route_service(sandbox::PATH, sandbox::service(&state)?)
        .route(
            "/webhook",
            post(webhook::receive).layer(WebhookLayer::new(verifier.clone())),
        )
        .merge(authenticated)
        .merge(rtc)
        .merge(room_service::router(verifier))
        .with_state(state))
}

/// The default refusal, its reason in a text body (so that `curl` shows why). With the crate's
/// `axum` feature the default handler writes it into axum's `Body` itself; the demo builds
/// without the feature, so it lets the default write a `String` and converts that.
fn text_rejection(rejection: &AuthRejection) -> axum::response::Response {
    rejection
        .to_response::<String>()
        .map(axum::body::Body::from)
}

/// The API key the demo mints with: the first in sort order, so that it is the same every run.
pub fn signing_key(state: &AppState) -> Option<String> {
    crate::keys::signing_key(&state.verifier.key_ring()).map(str::to_owned)
}

/// Ready-to-paste lines for the main routes. They hold no token (a token printed at start
/// would end up in the logs of whatever runs the server): the first two lines mint them with
/// `lkauth token create` (`exe`), which signs with the same keys when it runs in the same
/// environment (with no keys set, both use LiveKit's dev key).
#[must_use]
pub fn try_it(addr: SocketAddr, exe: &str) -> String {
    let url = format!("http://{addr}");
    let json = "-H 'Content-Type: application/json'";
    [
        format!("TOKEN=$({exe} token create --identity demo-user --name 'Demo User' --room demo-room --join --allow-source camera --allow-source microphone)"),
        format!("ADMIN=$({exe} token create --identity demo-admin --room demo-room --admin --create --list)"),
        format!("curl {url}/"),
        format!("curl -H \"Authorization: Bearer $TOKEN\" {url}/rtc/validate"),
        format!("curl -H \"Authorization: Bearer $TOKEN\" {url}/whoami"),
        format!("curl -i -X POST -H \"Authorization: Bearer $TOKEN\" {json} -d '{{\"source\":\"camera\"}}' {url}/rooms/demo-room/publish"),
        format!("curl -X POST -H \"Authorization: Bearer $ADMIN\" {json} -d '{{\"name\":\"demo-room\"}}' {url}/twirp/livekit.RoomService/CreateRoom"),
        format!("curl -X POST -H \"Authorization: Bearer $ADMIN\" {json} -d '{{}}' {url}/twirp/livekit.RoomService/ListRooms"),
        format!("curl -X POST {json} -d '{{\"room_name\":\"demo-room\",\"room_config\":{{\"agents\":[{{\"agent_name\":\"my-agent\"}}]}}}}' {url}/token"),
    ]
    .join("\n")
}
