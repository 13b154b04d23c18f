//! `lkauth gate` (`lkauth/src/gate/`) on 127.0.0.1, over real sockets: the gate's router and
//! gRPC service served in-process (`harness.rs`), and the real binary (`process.rs`) for what
//! only it does. One test binary, so that the gate compiles once.
//!
//! - `forward_auth`: the HTTP contract, asked as nginx, Caddy/Traefik and Envoy ask;
//! - `policy`: a policy file's routes and both defaults;
//! - `room_service`: removals and updates through the gate, refused or applied at once;
//! - `livekit_forward`: `--livekit-url`, to an in-process `lkauth serve` and to nobody;
//! - `grpc`: Envoy's `Authorization/Check` through `envoy-types`' client;
//! - `binary`: the preset printed, bad policy files, keys, the access log, two gates on Redis.

#[path = "../support/http_client.rs"]
mod http_client;
#[path = "../../../tests/support/mod.rs"]
mod support;
#[path = "../support/tokens.rs"]
mod tokens;

mod binary;
mod forward_auth;
mod grpc;
mod harness;
mod livekit_forward;
mod policy;
mod process;
mod room_service;
