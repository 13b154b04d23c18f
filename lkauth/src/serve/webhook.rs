//! `POST /webhook`: LiveKit's webhooks, verified by `WebhookLayer` before this handler runs.

use axum::Extension;
use tower_livekit_auth::webhook::WebhookEvent;

#[allow(clippy::print_stdout)]
pub(crate) async fn receive(Extension(event): Extension<WebhookEvent>) -> &'static str {
    println!("webhook: {} {}", event.name(), event.0);
    "ok"
}
