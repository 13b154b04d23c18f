//! `lkauth serve` (`lkauth/src/serve/`) on 127.0.0.1, driven over real HTTP: one test binary,
//! so that the demo app compiles once, and one harness (`harness.rs`) that starts it for every
//! module.
//!
//! - `server`: every route with the SDK fixtures' tokens, the token endpoint, webhooks, timeouts;
//! - `participants`: a participant promoted, changed and removed after its token was issued;
//! - `replicas` (feature `redis`): three replicas on one `redis-server`;
//! - `sandbox`: LiveKit's development token server route;
//! - `token_source`: LiveKit's own `TokenSource` clients and the SDKs' recorded requests.

#[path = "../../../tests/support/mod.rs"]
mod support;

mod harness;
mod participants;
mod replicas;
mod sandbox;
mod server;
mod token_source;
