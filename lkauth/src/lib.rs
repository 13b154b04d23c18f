//! The library half of `lkauth` (the binary is `src/main.rs`): its commands as modules, so
//! that its own integration tests can serve them on 127.0.0.1. Not a published API: build on
//! `tower-livekit-auth` instead.

// A command-line program prints; the library it is built on never does.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod gate;
pub mod keys;
pub mod listen;
pub mod serve;
pub(crate) mod state;
pub mod token;
pub(crate) mod twirp;
pub(crate) mod typical_token;
