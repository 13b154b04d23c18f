//! `lkauth serve`: its arguments, and the start: keys, the participant state (in memory, or
//! in Redis as one replica of many), the routes, the `curl` lines.
//!
//! Keys come from `LIVEKIT_KEYS` (YAML `key: secret` lines, as the LiveKit server reads them)
//! or `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`; with none of them, the dev key with a warning
//! (and with only one of the pair, an error: never the dev key in place of a broken
//! configuration). A client gets 10 s to send a request head and 30 s for its body.

use std::net::SocketAddr;
use std::process::ExitCode;

use tower_livekit_auth::Verifier;

use super::{AppState, DEV_KEY};
use crate::{keys, listen};

/// `lkauth serve`: the token endpoint, the development token server, a twirp RoomService, a
/// webhook receiver and the participant routes, on LiveKit's dev key unless keys are set.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:7880")]
    bind: SocketAddr,
    /// The LiveKit URL that `POST /token` hands out (default ws://BIND).
    #[arg(long)]
    public_url: Option<String>,
    /// Run as one replica of many: participants and rooms in Redis
    /// (redis://[:password@]host:port).
    #[arg(long, env = "REDIS_URL")]
    redis: Option<String>,
}

/// Runs the server until Ctrl-C.
pub async fn run(args: Args) -> ExitCode {
    let (keys, dev) = match keys::load_keys(|name| std::env::var(name).ok(), false) {
        Ok(keys) => keys,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if dev {
        eprintln!(
            "warning: no LIVEKIT_KEYS or LIVEKIT_API_KEY/LIVEKIT_API_SECRET set; using LiveKit's \
             development key `{}` with its public secret. Never use it in production.",
            DEV_KEY
        );
    }
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: cannot listen on {}: {err}", args.bind);
            return ExitCode::from(1);
        }
    };
    let addr = listener.local_addr().unwrap_or(args.bind);
    let public_url = args.public_url.unwrap_or_else(|| format!("ws://{addr}"));
    let state = match state(Verifier::new(keys), public_url, args.redis.as_deref()).await {
        Ok(state) => state,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    println!("listening on http://{addr}");
    match super::curl_examples(&state, addr) {
        Ok(lines) => println!("{lines}"),
        Err(err) => eprintln!("warning: cannot mint the example tokens: {err}"),
    }
    let router = match super::router(state.clone()) {
        Ok(router) => router,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    listen::serve(listener, router, listen::Timeouts::default(), shutdown).await;
    ExitCode::SUCCESS
}

/// The app's state: in this process, or in Redis as one replica of many.
async fn state(
    verifier: Verifier,
    public_url: String,
    redis: Option<&str>,
) -> Result<AppState, String> {
    let Some(url) = redis else {
        return Ok(AppState::new(verifier, public_url));
    };
    let state = AppState::replica(verifier, public_url, url, "livekit-demo").await?;
    println!("participants and rooms in Redis (prefix livekit-demo)");
    Ok(state)
}
