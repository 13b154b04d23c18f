//! `lkauth serve`: its arguments, and the start: keys, the participant state (in memory, or
//! in Redis as one replica of many), the routes, the lines to try it with.
//!
//! Two ways to configure it:
//!
//! - **LiveKit's own config file** (`--config livekit.yaml`, or the whole YAML in
//!   `LIVEKIT_CONFIG`), read as `livekit-server` reads it (`LiveKitConfig::load_with`): the
//!   keys (`keys:`, `key_file:`, `LIVEKIT_KEYS`; `development: true` with none is the dev key),
//!   the `limit:` sizes, and the `redis:` block in any of its modes (one server, Sentinel,
//!   Cluster), which holds the participant state and the rooms.
//! - **The environment alone**: keys from `LIVEKIT_KEYS` (YAML `key: secret` lines) or
//!   `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`; with none of them, the dev key with a warning (and
//!   with only one of the pair, an error: never the dev key in place of a broken
//!   configuration); `--redis URL` (or `REDIS_URL`) for one replica of many.
//!
//! A secret shorter than 32 bytes is refused unless `--allow-weak-secret`. A client gets 10 s
//! to send a request head and 30 s for its body.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use tower_livekit_auth::config::LiveKitConfig;
use tower_livekit_auth::limits::Limits;
use tower_livekit_auth::Verifier;

use super::AppState;
use crate::keys;
use crate::listen;

/// Where `serve` and `gate` keep the participant state (and `serve` its rooms) in Redis by
/// default: one prefix, so that a gate and a server on one Redis share the state.
pub const REDIS_PREFIX: &str = "lkauth";

/// `lkauth serve`: the token endpoint, the development token server, a twirp RoomService, a
/// webhook receiver and the participant routes, on LiveKit's dev key unless keys are set.
#[derive(Debug, clap::Args)]
#[command(after_help = SERVE_HELP)]
pub struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:7880")]
    bind: SocketAddr,
    /// The LiveKit URL that `POST /token` hands out (default ws://BIND).
    #[arg(long)]
    public_url: Option<String>,
    /// LiveKit's config file (livekit.yaml): keys, limit:, and redis: (one server, Sentinel or
    /// Cluster). LIVEKIT_CONFIG, when set, holds the whole YAML instead, as for livekit-server.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run as one replica of many: participants and rooms in the Redis at this URL
    /// (redis://[:password@]host:port[/db]). With a config file, use its redis: block instead.
    #[arg(long, env = "REDIS_URL", value_name = "URL")]
    redis: Option<String>,
    /// Accept secrets shorter than 32 bytes (development keys such as LiveKit's sample
    /// config's key1: secret1).
    #[arg(long)]
    allow_weak_secret: bool,
}

const SERVE_HELP: &str = "\
Keys, the first that is set:
  --config FILE or LIVEKIT_CONFIG     LiveKit's config: keys:, key_file:, LIVEKIT_KEYS over
                                      them; development: true with no keys is devkey/secret
  LIVEKIT_KEYS                        `key: secret` lines (YAML), as livekit-server reads them
  LIVEKIT_API_KEY, LIVEKIT_API_SECRET both, or neither
  (none of the above)                 LiveKit's development key devkey/secret, with a warning
Half a pair is an error, never a reason to fall back to the development key.";

/// Runs the server until Ctrl-C.
pub async fn run(args: Args) -> ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    let config = match keys::load_config(args.config.as_deref(), env) {
        Ok(config) => config,
        Err(message) => return fail(&message, 2),
    };
    let keys = match keys::server_keys(config.as_ref(), env, args.allow_weak_secret) {
        Ok(keys) => keys,
        Err(message) => return fail(&message, 2),
    };
    if let (Some(config), Some(_)) = (&config, &args.redis) {
        if config.redis().is_some() {
            return fail(
                "both --redis (or REDIS_URL) and the config's redis: block name a Redis: keep one",
                2,
            );
        }
    }
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(listener) => listener,
        Err(err) => return fail(&format!("cannot listen on {}: {err}", args.bind), 1),
    };
    let addr = listener.local_addr().unwrap_or(args.bind);
    let public_url = args.public_url.unwrap_or_else(|| format!("ws://{addr}"));
    let verifier = Verifier::new(keys);
    let state = match (&config, args.redis.as_deref()) {
        (Some(config), None) => {
            AppState::from_config(verifier, public_url, config, REDIS_PREFIX).await
        }
        (config, Some(url)) => {
            let limits = config
                .as_ref()
                .map_or_else(Limits::new, LiveKitConfig::limits);
            AppState::replica(verifier, public_url, url, REDIS_PREFIX, limits).await
        }
        (None, None) => Ok(AppState::new(verifier, public_url)),
    };
    let state = match state {
        Ok(state) => state,
        Err(message) => return fail(&message, 1),
    };
    let shared = args.redis.is_some() || config.as_ref().is_some_and(|c| c.redis().is_some());
    println!("listening on http://{addr}");
    if shared {
        println!("participants and rooms in Redis (prefix {REDIS_PREFIX})");
    }
    let exe = std::env::args().next().unwrap_or_else(|| "lkauth".into());
    println!("{}", super::try_it(addr, &exe));
    let router = match super::router(state.clone()) {
        Ok(router) => router,
        Err(err) => return fail(&err.to_string(), 2),
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    listen::serve(listener, router, listen::Timeouts::default(), shutdown).await;
    ExitCode::SUCCESS
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
