//! `lkauth gate`: its arguments, and the start: keys, the participant state, the policy, the
//! listeners.
//!
//! Keys and LiveKit's config exactly as `lkauth serve` reads them (`crate::keys`): `--config
//! FILE` (or the whole file in `LIVEKIT_CONFIG`) gives `keys:`/`key_file:`, `redis:` and
//! `limit:`, read as `livekit-server` reads them; otherwise `LIVEKIT_KEYS`, or
//! `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`; with none of them, LiveKit's dev key with a
//! warning. Anything configured but wrong is an error, never the dev key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tower_livekit_auth::config::LiveKitConfig;
use tower_livekit_auth::state::{ParticipantState, RedisOptions};
use tower_livekit_auth::Verifier;

use super::policy::Policy;
use super::preset::{preset_text, PRESETS};
use super::Gate;
use crate::state::state_options;
use crate::{keys, listen};

/// `lkauth gate`: forward authorization for nginx, Caddy, Traefik and Envoy, with the LiveKit
/// server's routes as the default policy.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Keys: --config (or LIVEKIT_CONFIG; development: true with no keys is the dev \
    key), else LIVEKIT_KEYS, else LIVEKIT_API_KEY + LIVEKIT_API_SECRET; with none set, \
    LiveKit's public dev key (devkey: secret), with a warning.\nThe HTTP contract (/auth, /ext_authz, the identity headers) and \
    the policy format: lkauth/src/gate/mod.rs, or `cargo doc -p lkauth --open`."
)]
pub struct Args {
    /// The HTTP address: /auth (nginx, Caddy, Traefik), /ext_authz/... (Envoy HTTP), the
    /// RoomService's UpdateParticipant and RemoveParticipant.
    #[arg(long, default_value = "127.0.0.1:7888")]
    bind: SocketAddr,
    /// Also serve Envoy's gRPC ext_authz (envoy.service.auth.v3.Authorization/Check) here.
    #[arg(long, value_name = "ADDR")]
    grpc_bind: Option<SocketAddr>,
    /// The route table, a YAML file (instead of the preset).
    #[arg(long, value_name = "FILE", conflicts_with = "preset")]
    policy: Option<PathBuf>,
    /// A built-in route table: `livekit`, the LiveKit server's own routes.
    #[arg(long, value_name = "NAME", default_value = "livekit")]
    preset: String,
    /// Print a built-in route table (a start for your own --policy) and exit.
    #[arg(long, value_name = "NAME")]
    print_preset: Option<String>,
    /// LiveKit's config file (keys, key_file, redis, limit), as livekit-server --config.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Keep the participant state in this Redis (redis[s]://[user:password@]host:port[/db]),
    /// shared by every replica (wins over the config's redis: block).
    #[arg(long, value_name = "URL", env = "REDIS_URL", hide_env_values = true)]
    redis: Option<String>,
    /// The prefix of the state's Redis keys: the gates and the services sharing one state use
    /// the same one (`lkauth serve` uses this default too).
    #[arg(long, value_name = "PREFIX", default_value = crate::serve::REDIS_PREFIX)]
    redis_prefix: String,
    /// Accept secrets shorter than 32 bytes (development keys only).
    #[arg(long)]
    allow_weak_secret: bool,
    /// Forward each recorded UpdateParticipant/RemoveParticipant to this LiveKit server
    /// (http(s):// or ws(s)://) with the caller's own token, and answer with its answer.
    #[arg(long, value_name = "URL")]
    livekit_url: Option<String>,
    /// Seconds LiveKit has to answer a forwarded call.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    livekit_timeout: u64,
    /// Remember up to this many verified tokens (0: off); every hit still checks the times and
    /// the participant state.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    token_cache: usize,
    /// One line per check on stdout (the URI without its access_token).
    #[arg(long)]
    access_log: bool,
}

/// Runs the gate until Ctrl-C.
pub async fn run(args: Args) -> ExitCode {
    if let Some(name) = &args.print_preset {
        return match preset_text(name) {
            Some(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!(
                    "error: no preset `{name}`: the presets are {}",
                    PRESETS.join(", ")
                );
                ExitCode::from(2)
            }
        };
    }
    let policy = match &args.policy {
        Some(path) => Policy::from_file(path),
        None => Policy::preset(&args.preset),
    };
    let policy = match policy {
        Ok(policy) => policy,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let env = |name: &str| std::env::var(name).ok();
    let config = match keys::load_config(args.config.as_deref(), env) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let keys = match keys::server_keys(config.as_ref(), env, args.allow_weak_secret) {
        Ok(keys) => keys,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut verifier = Verifier::new(keys);
    if args.token_cache > 0 {
        verifier = verifier.with_cache(args.token_cache, 64 * 1024 * 1024);
    }
    let (state, where_) = match state(
        &verifier,
        config.as_ref(),
        args.redis.as_deref(),
        &args.redis_prefix,
    )
    .await
    {
        Ok(state) => state,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    let mut builder = Gate::builder(verifier.with_participant_state(state), policy.clone())
        .access_log(args.access_log);
    if let Some(url) = &args.livekit_url {
        builder = builder.livekit_url(url, Duration::from_secs(args.livekit_timeout.max(1)));
    }
    let gate = match builder.build() {
        Ok(gate) => gate,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let http = match bind(args.bind).await {
        Ok(listener) => listener,
        Err(code) => return code,
    };
    let grpc = match args.grpc_bind {
        Some(addr) => match bind(addr).await {
            Ok(listener) => Some(listener),
            Err(code) => return code,
        },
        None => None,
    };
    let source = match &args.policy {
        Some(path) => format!("the policy file {}", path.display()),
        None => format!("the preset `{}`", args.preset),
    };
    println!("policy: {source}, {}", policy.summary());
    println!("participant state: {where_}");
    match gate.livekit() {
        Some(livekit) => println!(
            "RoomService UpdateParticipant/RemoveParticipant: recorded, then forwarded to {}",
            livekit.url()
        ),
        None => println!("RoomService UpdateParticipant/RemoveParticipant: recorded here only"),
    }
    if let Some(listener) = &grpc {
        if let Ok(addr) = listener.local_addr() {
            println!("grpc listening on {addr}");
        }
    }
    let addr = http.local_addr().unwrap_or(args.bind);
    println!("listening on http://{addr}");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let grpc_task = grpc.map(|listener| {
        tokio::spawn(super::grpc::serve(
            listener,
            gate.clone(),
            until_stopped(stopped.clone()),
        ))
    });
    let serve_http = listen::serve(
        http,
        super::router(gate),
        listen::Timeouts::default(),
        until_stopped(stopped),
    );
    match grpc_task {
        None => serve_http.await,
        Some(grpc) => {
            tokio::select! {
                () = serve_http => {}
                ended = grpc => {
                    let why = match ended {
                        Ok(Ok(())) => return ExitCode::SUCCESS,
                        Ok(Err(err)) => err.to_string(),
                        Err(err) => err.to_string(),
                    };
                    eprintln!("error: the gRPC server stopped: {why}");
                    return ExitCode::from(1);
                }
            }
        }
    }
    ExitCode::SUCCESS
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ExitCode> {
    TcpListener::bind(addr).await.map_err(|err| {
        eprintln!("error: cannot listen on {addr}: {err}");
        ExitCode::from(1)
    })
}

/// The participant state, and where it is for the start-up message.
async fn state(
    verifier: &Verifier,
    config: Option<&LiveKitConfig>,
    redis: Option<&str>,
    prefix: &str,
) -> Result<(ParticipantState, String), String> {
    let mut options = state_options(verifier);
    if let Some(config) = config {
        options = options.with_limits(config.limits());
    }
    let redis_options = RedisOptions::new().with_prefix(prefix);
    if let Some(url) = redis {
        let state = ParticipantState::redis(url, options, redis_options)
            .await
            .map_err(|err| format!("--redis: {err}"))?;
        return Ok((state, format!("Redis (--redis, prefix {prefix})")));
    }
    let Some(config) = config else {
        return Ok((ParticipantState::in_memory(options), in_process()));
    };
    // On the config's Redis, or in memory when it has no `redis:` block.
    let state = config
        .participant_state_with(options, redis_options)
        .await
        .map_err(|err| err.to_string())?;
    let place = match config.redis() {
        Some(_) => format!("Redis (the config's redis:, prefix {prefix})"),
        None => in_process(),
    };
    Ok((state, place))
}

/// Where a gate without Redis keeps the state.
fn in_process() -> String {
    String::from("in this process (one gate; use --redis for several)")
}
