//! `lkauth serve` (`lkauth/src/serve/`) on 127.0.0.1, driven over real HTTP: one test binary,
//! so that the demo app compiles once, and one harness (`harness.rs`) that starts it for every
//! module.
//!
//! - `config`: the real `lkauth serve` process from LiveKit's sample config, on one Redis, on
//!   Sentinel and on a Cluster (`tests/support/topology.rs`), two replicas sharing the state;
//! - `server`: every route with the SDK fixtures' tokens, the token endpoint, webhooks, timeouts;
//! - `participants`: a participant promoted, changed and removed after its token was issued;
//! - `replicas` (feature `redis`): three replicas on one `redis-server`;
//! - `sandbox`: LiveKit's development token server route;
//! - `token_source`: LiveKit's own `TokenSource` clients and the SDKs' recorded requests.

#[path = "../../../tests/support/mod.rs"]
mod support;
#[path = "../../../tests/support/topology.rs"]
mod topology;

mod config;
mod harness;
mod participants;
mod replicas;
mod sandbox;
mod server;
mod token_source;
