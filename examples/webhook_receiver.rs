//! A receiver of LiveKit's webhooks: `WebhookLayer` checks the token LiveKit signs each
//! request with and the SHA-256 of the body it names, before the handler sees the event
//! (401 for a forged or altered request, 413 past the body limit, 400 for a body that is not
//! JSON).
//!
//! ```sh
//! LIVEKIT_KEYS="APIdevelopment: $(head -c 32 /dev/urandom | base64)" \
//!   cargo run --example webhook_receiver
//! # then in livekit.yaml: webhook: { api_key: APIdevelopment, urls: [http://127.0.0.1:3001/webhook] }
//! ```
//!
//! Needs, besides `tower-livekit-auth` (no feature: the layer works in front of any tower
//! service): `axum = "0.8"`, `tokio = { version = "1", features = ["macros",
//! "rt-multi-thread", "net"] }`.

use axum::{routing::post, Extension, Router};
use tower_livekit_auth::webhook::{WebhookEvent, WebhookLayer};
use tower_livekit_auth::{Claims, KeyRing, Verifier};

async fn on_webhook(
    Extension(event): Extension<WebhookEvent>,
    Extension(claims): Extension<Claims>,
) -> &'static str {
    // The event is verified: signed by one of our keys, the body exactly the one signed.
    let room = event.0["room"]["name"].as_str().unwrap_or("-");
    eprintln!(
        "{} (room {room}), signed with {}",
        event.name(),
        claims.api_key()
    );
    "ok"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // LiveKit signs webhooks with the key named in its `webhook.api_key`: the same ring.
    let verifier = Verifier::new(KeyRing::from_env()?);
    let app = Router::new().route(
        "/webhook",
        post(on_webhook).layer(WebhookLayer::new(verifier)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
