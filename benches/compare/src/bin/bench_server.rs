//! The HTTP benchmark's server: the same trivial route with and without the middleware, for
//! `benches/compare/scripts/bench_http.sh` (wrk on 127.0.0.1).
//!
//! ```sh
//! cargo run --release --manifest-path benches/compare/Cargo.toml --bin bench_server -- 127.0.0.1:7881 tokens.txt
//! ```
//!
//! - `GET /plain`  no layer at all
//! - `GET /auth`   `AuthLayer`, every request verified
//! - `GET /cached` `AuthLayer` over a verifier with the token cache
//! - `GET /noop`   a layer that does nothing, and the same handler as `/auth` fed with claims
//!   verified once at start: what the framework and the handler cost without any verification
//! - `GET /reference` the benchmark's bare reference loop (`benches/compare/src/reference.rs`:
//!   borrowed claims, no error detail) in a request-mapping layer that then hands the handler
//!   the claims verified at start: the floor a verifying layer can reach in this server
//!
//! At start it writes `tokens.txt`: one valid token per line, then an `expired` and a `forged`
//! token on lines starting with those words, for the load scripts. It runs on one thread (a
//! current-thread runtime) so that `taskset` pins the whole server to one core.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use axum::routing::get;
use axum::{Extension, Router};
use tower_livekit_auth::{AuthLayer, Claims, Verifier};

// The token CLI's generator (`token bench`), so both tools measure the same tokens.
#[path = "../../../../lkauth/src/typical_token.rs"]
mod typical_token;

use tower_livekit_auth_bench::reference;

use typical_token::typical_join_token as token;

fn write_tokens(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let now = SystemTime::now();
    let mut lines: Vec<String> = (0..64).map(|i| token(i, now)).collect::<Result<_, _>>()?;
    let expired = token(0, now - Duration::from_secs(7 * 3600))?;
    let valid = token(1, now)?;
    let forged = format!(
        "{}{}",
        &valid[..valid.len() - 2],
        if valid.ends_with("AA") { "BB" } else { "AA" }
    );
    lines.push(format!("expired {expired}"));
    lines.push(format!("forged {forged}"));
    std::fs::write(path, lines.join("\n") + "\n")?;
    Ok(())
}

async fn identity(Extension(claims): Extension<Claims>) -> String {
    claims.identity().to_owned()
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7881".into());
    let tokens = args.next().unwrap_or_else(|| "tokens.txt".into());
    if let Err(err) = write_tokens(&tokens) {
        eprintln!("error: cannot write {tokens}: {err}");
        return ExitCode::from(1);
    }
    let keys = match typical_token::key_ring() {
        Ok(keys) => keys,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(1);
        }
    };
    let verifier = Verifier::new(keys.clone());
    let preverified = match std::fs::read_to_string(&tokens)
        .ok()
        .and_then(|text| text.lines().next().map(str::to_owned))
        .and_then(|token| verifier.verify(&token).ok())
    {
        Some(claims) => claims,
        None => {
            eprintln!("error: the first generated token does not verify");
            return ExitCode::from(1);
        }
    };
    let claims = preverified.clone();
    let noop = tower::util::MapRequestLayer::new(move |mut request: axum::extract::Request| {
        request.extensions_mut().insert(claims.clone());
        request
    });
    let reference_keys = std::sync::Arc::new(reference::RefKeys::new(&[(
        typical_token::KEY,
        typical_token::SECRET,
    )]));
    // Claims only when the reference accepts the token: otherwise the handler's extractor
    // answers 500, which the script counts.
    let reference =
        tower::util::MapRequestLayer::new(move |mut request: axum::extract::Request| {
            let accepted = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .is_some_and(|token| reference::verify(&reference_keys, token).is_ok());
            if accepted {
                request.extensions_mut().insert(preverified.clone());
            }
            request
        });
    let cached = Verifier::new(keys).with_cache(100_000, 64 * 1024 * 1024);
    let app = Router::new()
        .route("/plain", get(|| async { "participant-0000" }))
        .merge(
            Router::new()
                .route("/auth", get(identity))
                .layer(AuthLayer::new(verifier)),
        )
        .merge(
            Router::new()
                .route("/cached", get(identity))
                .layer(AuthLayer::new(cached)),
        )
        .merge(Router::new().route("/noop", get(identity)).layer(noop))
        .merge(
            Router::new()
                .route("/reference", get(identity))
                .layer(reference),
        );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&addr).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("error: cannot listen on {addr}: {err}");
                return ExitCode::from(1);
            }
        };
        println!(
            "listening on http://{}",
            listener.local_addr().map_or(addr, |a| a.to_string())
        );
        match axum::serve(listener, app).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::from(1)
            }
        }
    })
}
