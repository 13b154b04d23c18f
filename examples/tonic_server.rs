//! A tonic gRPC server behind the layers: a call without a valid token is refused with
//! `UNAUTHENTICATED`, one without the grant with `PERMISSION_DENIED` (the reason in
//! `grpc-message`, never the token); handlers find the `Claims` in `request.extensions()`.
//!
//! ```sh
//! LIVEKIT_API_KEY=APIdevelopment LIVEKIT_API_SECRET=$(head -c 32 /dev/urandom | base64) \
//!   cargo run --example tonic_server
//! ```
//!
//! Needs, besides `tower-livekit-auth` (no feature; the crate does not depend on tonic):
//! `tonic = "0.14"`, `tonic-health = "0.14"` (the service served here: any tonic service will
//! do), `tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }`.
//! `tests/grpc.rs` runs the same with a real tonic client.

use tower_livekit_auth::{AuthLayer, KeyRing, RequireLayer, Verifier};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let verifier = Verifier::new(KeyRing::from_env()?);
    let (_, health) = tonic_health::server::health_reporter();
    tonic::transport::Server::builder()
        .layer(AuthLayer::new(verifier)) // every call needs a valid token...
        .layer(RequireLayer::list_rooms()) // ...with roomList
        .add_service(health)
        .serve("127.0.0.1:50051".parse()?)
        .await?;
    Ok(())
}
