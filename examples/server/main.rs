//! The demo server: every use of `tower-livekit-auth` in one axum app.
//!
//! ```sh
//! cargo run --example server                    # LiveKit's dev key devkey/secret, 127.0.0.1:7880
//! LIVEKIT_KEYS="APIxxx: <secret>" cargo run --example server -- --bind 127.0.0.1:9000
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --features redis --example server   # one replica of many
//! ```
//!
//! Keys come from `LIVEKIT_KEYS` (YAML `key: secret` lines, as the LiveKit server reads them) or
//! `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`; with none of them, the dev key with a warning (and
//! with only one of the pair, an error: never the dev key in place of a broken configuration).
//! At start it prints the address and a ready-to-paste `curl` line per route. A client gets
//! 10 s to send a request head and 30 s for its body.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod app;

use std::net::SocketAddr;
use std::process::ExitCode;

use tower_livekit_auth::Verifier;

struct Args {
    bind: SocketAddr,
    public_url: Option<String>,
    redis: Option<String>,
}

const USAGE: &str = "usage: server [--bind ADDR] [--public-url URL] [--redis URL]
  --bind ADDR        address to listen on (default 127.0.0.1:7880)
  --public-url URL   the LiveKit URL handed out by POST /token (default ws://ADDR)
  --redis URL        run as one replica of many: participants and rooms in Redis
                     (redis://[:password@]host:port; also REDIS_URL; feature `redis`)";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        bind: SocketAddr::from(([127, 0, 0, 1], 7880)),
        public_url: None,
        redis: std::env::var("REDIS_URL")
            .ok()
            .filter(|url| !url.is_empty()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--bind" => {
                let text = value("--bind")?;
                args.bind = text.parse().map_err(|_| {
                    format!("--bind: `{text}` is not an address like 127.0.0.1:7880")
                })?;
            }
            "--public-url" => args.public_url = Some(value("--public-url")?),
            "--redis" => args.redis = Some(value("--redis")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (keys, dev) = match app::config::load_keys(|name| std::env::var(name).ok()) {
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
            app::DEV_KEY
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
    match app::curl_examples(&state, addr) {
        Ok(lines) => println!("{lines}"),
        Err(err) => eprintln!("warning: cannot mint the example tokens: {err}"),
    }
    let router = match app::router(state.clone()) {
        Ok(router) => router,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    app::serve::serve(listener, router, app::serve::Timeouts::default(), shutdown).await;
    ExitCode::SUCCESS
}

/// The app's state: in this process, or in Redis as one replica of many.
async fn state(
    verifier: Verifier,
    public_url: String,
    redis: Option<&str>,
) -> Result<app::AppState, String> {
    let Some(url) = redis else {
        return Ok(app::AppState::new(verifier, public_url));
    };
    #[cfg(feature = "redis")]
    {
        let state = app::AppState::replica(verifier, public_url, url, "livekit-demo").await?;
        println!("participants and rooms in Redis (prefix livekit-demo)");
        Ok(state)
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = (verifier, public_url, url);
        Err("this build has no Redis support: cargo run --features redis --example server".into())
    }
}
