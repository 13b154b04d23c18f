//! `lkauth gate` behind real proxies on 127.0.0.1: Debian's nginx (`auth_request`) and Caddy
//! (`forward_auth`), each run from the configuration files users copy
//! (`lkauth/proxies/nginx/livekit.conf`, `lkauth/proxies/caddy/Caddyfile`, only addresses and
//! log paths changed), in front of an in-process upstream that records what reaches it, with
//! the real `lkauth gate` binary beside them.
//!
//! - `harness`: ports and scratch directories, with the tokens and the HTTP client that the
//!   gate tests share (`../support/`);
//! - `gate`: the `lkauth gate` process (its stdout and stderr in files, stopped by its PID);
//! - `upstream`: LiveKit's stand-in: records each request, echoes its headers, accepts the
//!   `/rtc` WebSocket, answers the RoomService calls the gate forwards;
//! - `proxy`: nginx and Caddy as our own processes, started from the templates, stopped by PID;
//! - `scenarios`: what both proxies must show, one test per scenario and proxy;
//! - `readme`: the README shows the very files the tests run.
//!
//! nginx and Caddy must be installed (`bash scripts/install_tools.sh nginx caddy`, which
//! `scripts/test` runs); a missing one fails its tests with that command.

#[path = "../support/http_client.rs"]
mod http_client;
#[path = "../../../tests/support/mod.rs"]
mod support;
#[path = "../support/tokens.rs"]
mod tokens;

mod gate;
mod harness;
mod proxy;
mod readme;
mod scenarios;
mod upstream;
