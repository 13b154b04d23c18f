//! `lkauth`: LiveKit access tokens at the door, for any backend and for a self-hosted LiveKit
//! server, built on `tower-livekit-auth`.
//!
//! - `lkauth serve`: LiveKit's token endpoint, a twirp `RoomService` whose updates and
//!   removals apply to tokens already issued, a webhook receiver.
//! - `lkauth gate`: forward authorization for nginx, Caddy, Traefik and Envoy.
//! - `lkauth token create|verify|decode|bench`: tokens from the command line.

// A command-line program prints; the library it is built on never does.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lkauth::{gate, serve, token};

/// LiveKit access tokens at the door: verified as the LiveKit server verifies them, with the
/// participants' updates and removals applied.
#[derive(Debug, Parser)]
#[command(name = "lkauth", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The token endpoint, a twirp RoomService, a webhook receiver (LiveKit's dev key unless
    /// keys are set).
    Serve(serve::Args),
    /// Forward authorization for nginx, Caddy, Traefik and Envoy (HTTP and gRPC ext_authz):
    /// LiveKit tokens checked at the door, with participant updates and removals.
    Gate(gate::Args),
    /// Mint, verify, decode tokens; measure verification.
    Token(token::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => runtime().block_on(serve::run(args)),
        Command::Gate(args) => runtime().block_on(gate::run(args)),
        Command::Token(args) => token::run(args),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| {
            eprintln!("error: cannot start the async runtime: {err}");
            std::process::exit(1)
        })
}
