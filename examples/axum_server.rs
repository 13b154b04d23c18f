//! The README's first server: an axum app whose routes take LiveKit access tokens.
//!
//! ```sh
//! LIVEKIT_API_KEY=APIdevelopment LIVEKIT_API_SECRET=$(head -c 32 /dev/urandom | base64) \
//!   cargo run --example axum_server --features axum
//! TOKEN=$(cargo run -q -p lkauth -- token create --identity alice --room myroom --join)
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/whoami
//! ```
//!
//! Needs, besides `tower-livekit-auth` with its `axum` feature (which makes `Claims` an
//! extractor): `axum = "0.8"`, `tokio = { version = "1", features = ["macros",
//! "rt-multi-thread", "net"] }`.
//!
//! Keys come from the environment as LiveKit reads them (`LIVEKIT_KEYS`, or the pair
//! `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`); with none, or half a pair, or a secret under 32
//! bytes, `main` stops and prints what to set. On LiveKit's dev key (`devkey`/`secret`), build the ring with
//! `KeyRing::allowing_weak_secrets().with_env()?` instead, for development only.

use axum::{routing::get, Router};
use tower_livekit_auth::{AuthLayer, Claims, KeyRing, RequireLayer, TrackSource, Verifier};

async fn whoami(claims: Claims) -> String {
    let camera = claims.can_publish_source(TrackSource::Camera);
    format!(
        "{} in {} (camera: {camera})",
        claims.identity(),
        claims.room()
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // LIVEKIT_KEYS (`key: secret` lines) or LIVEKIT_API_KEY + LIVEKIT_API_SECRET.
    let verifier = Verifier::new(KeyRing::from_env()?);
    let app = Router::new()
        .route(
            "/admin/rooms",
            get(|| async { "rooms" }).route_layer(RequireLayer::create_rooms()),
        )
        .route("/whoami", get(whoami))
        .route_layer(AuthLayer::new(verifier)); // 401/400/403 per RFC 6750, Claims for handlers
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
