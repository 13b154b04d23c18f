//! `lkauth token`: LiveKit access tokens from the command line, in the spirit of LiveKit's
//! `lk token`.
//!
//! ```sh
//! lkauth token create --identity alice --room myroom --join --valid-for 1h
//! lkauth token verify TOKEN        # the claims as JSON, or why it is refused
//! lkauth token decode TOKEN        # the claims, NOT verified
//! lkauth token bench --threads 2   # verifications per second (build with --release)
//! ```
//!
//! Keys, as [`KEYS_HELP`] says: `--api-key` with `--api-secret`, else the environment as
//! `lkauth serve` reads it (`LIVEKIT_KEYS`, else `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`),
//! else LiveKit's dev key, with a note. Half a pair is an error, never a fallback; a secret
//! shorter than the library's minimum is refused unless `--allow-weak-secret`. Only `create`
//! prints a token, on stdout; no error shows a token or a secret.

use crate::{keys, typical_token};

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use clap::{Args as ClapArgs, Subcommand};
use serde_json::json;
use tower_livekit_auth::verify::dangerous::decode_unverified;
use tower_livekit_auth::{
    AccessToken, Claims, KeyRing, RoomAgentDispatch, RoomConfiguration, TrackSource, Verifier,
    VideoGrant,
};

/// Where the keys come from: shown by `--help` of every command that takes keys.
pub const KEYS_HELP: &str = "\
Keys, the first that is set:
  --api-key KEY --api-secret SECRET    both, or neither
  LIVEKIT_KEYS                         `key: secret` lines (YAML), as livekit-server reads them
  LIVEKIT_API_KEY, LIVEKIT_API_SECRET  both, or neither
  (none of the above)                  LiveKit's development key devkey/secret
                                       (livekit-server --dev); a note on stderr says so
Half a pair is an error, never a reason to fall back to the development key. A secret shorter
than 32 bytes is refused unless --allow-weak-secret is given (development keys only).";

/// `lkauth token`: mint, verify, decode tokens; measure verification.
#[derive(Debug, ClapArgs)]
#[command(after_help = KEYS_HELP)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Mint a token and print it on stdout (nothing else goes there).
    #[command(after_help = KEYS_HELP)]
    Create(Create),
    /// Verify a token as the LiveKit server does: its claims as JSON, or why it is refused.
    #[command(after_help = KEYS_HELP)]
    Verify(Verify),
    /// Print a token's claims WITHOUT verifying its signature, expiry or key.
    Decode(Decode),
    /// Verifications per second on 1..=N threads (meaningful in a release build only).
    #[command(after_help = KEYS_HELP)]
    Bench(Bench),
}

/// The key flags of the commands that sign or verify.
#[derive(Debug, ClapArgs)]
struct KeyArgs {
    /// The API key to use (with --api-secret).
    #[arg(long, value_name = "KEY", requires = "api_secret")]
    api_key: Option<String>,
    /// Its secret (with --api-key). Prefer the environment: a command line is visible to
    /// other users of the machine.
    #[arg(long, value_name = "SECRET", requires = "api_key")]
    api_secret: Option<String>,
    /// Accept a secret shorter than 32 bytes (development keys such as devkey/secret).
    #[arg(long)]
    allow_weak_secret: bool,
}

impl KeyArgs {
    /// The key ring these flags (or the environment, or the dev key) give.
    fn ring(&self) -> Result<KeyRing, String> {
        if let (Some(key), Some(secret)) = (&self.api_key, &self.api_secret) {
            return keys::explicit_key(key, secret, self.allow_weak_secret);
        }
        let (ring, dev) = keys::load_keys(|name| std::env::var(name).ok(), self.allow_weak_secret)?;
        if dev {
            eprintln!(
                "note: no --api-key/--api-secret, LIVEKIT_KEYS or LIVEKIT_API_KEY/LIVEKIT_API_SECRET \
                 set: using LiveKit's development key `{}` (livekit-server --dev; its secret is \
                 public), for local use only",
                keys::DEV_KEY
            );
        }
        Ok(ring)
    }
}

#[derive(Debug, ClapArgs)]
struct Create {
    #[command(flatten)]
    keys: KeyArgs,
    /// The participant identity (`sub`).
    #[arg(long)]
    identity: Option<String>,
    /// The display name.
    #[arg(long)]
    name: Option<String>,
    /// The room the video grant names.
    #[arg(long)]
    room: Option<String>,
    /// Grant roomJoin (needs --identity and --room).
    #[arg(long)]
    join: bool,
    /// Grant roomAdmin.
    #[arg(long)]
    admin: bool,
    /// Grant roomCreate.
    #[arg(long)]
    create: bool,
    /// Grant roomList.
    #[arg(long)]
    list: bool,
    /// Grant roomRecord.
    #[arg(long)]
    record: bool,
    /// Allow publishing only this source (camera, microphone, screen_share,
    /// screen_share_audio); repeat for several.
    #[arg(long, value_name = "SOURCE", value_parser = parse_source)]
    allow_source: Vec<TrackSource>,
    /// The participant metadata.
    #[arg(long)]
    metadata: Option<String>,
    /// A participant attribute; repeat for several.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_attribute)]
    attribute: Vec<(String, String)>,
    /// Dispatch this agent when the room is created (roomConfig.agents); repeat for several.
    #[arg(long, value_name = "NAME")]
    agent: Vec<String>,
    /// How long the token is valid: 90s, 30m, 1h, 2h30m, 1d (default 6h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    valid_for: Option<Duration>,
}

#[derive(Debug, ClapArgs)]
struct Verify {
    #[command(flatten)]
    keys: KeyArgs,
    /// The token; `-` or none: read it from stdin (keeps it out of the shell's history).
    token: Option<String>,
}

#[derive(Debug, ClapArgs)]
struct Decode {
    /// The token; `-` or none: read it from stdin.
    token: Option<String>,
}

#[derive(Debug, ClapArgs)]
struct Bench {
    #[command(flatten)]
    keys: KeyArgs,
    /// Measure on 1, 2, ... up to this many threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: u16,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 2.0, value_parser = parse_seconds)]
    seconds: f64,
    /// A file of tokens, one per line, verified with the keys (default: 64 typical join
    /// tokens under a generated key).
    #[arg(long, value_name = "FILE")]
    tokens: Option<std::path::PathBuf>,
}

fn parse_source(text: &str) -> Result<TrackSource, String> {
    text.parse::<TrackSource>().map_err(|err| err.to_string())
}

fn parse_attribute(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| "expected KEY=VALUE".to_owned())
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0 => Ok(seconds),
        _ => Err("a number of seconds, more than 0 and at most 3600".to_owned()),
    }
}

/// `90s`, `30m`, `1h`, `2h30m`, `1d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || "a duration like 90s, 30m, 1h or 2h30m".to_owned();
    let (mut total, mut number) = (0u64, String::new());
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// The token argument, or one line of stdin for `-` or none.
fn token_text(arg: Option<&str>) -> Result<String, String> {
    match arg {
        Some(token) if token != "-" => Ok(token.trim().to_owned()),
        _ => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|err| format!("cannot read the token from stdin: {err}"))?;
            let token = line.trim();
            if token.is_empty() {
                return Err("no token: give it as an argument or on stdin".into());
            }
            Ok(token.to_owned())
        }
    }
}

fn create(args: &Create) -> Result<(), String> {
    let ring = args.keys.ring()?;
    let key = keys::signing_key(&ring)
        .map(str::to_owned)
        .ok_or("no key to sign with")?;
    if ring.len() > 1 {
        eprintln!(
            "note: signing with API key `{key}`, the first of {} in sort order",
            ring.len()
        );
    }
    let mut token: AccessToken = ring.access_token(&key).ok_or("no key to sign with")?;
    if let Some(identity) = &args.identity {
        token = token.with_identity(identity);
    }
    if let Some(name) = &args.name {
        token = token.with_name(name);
    }
    if let Some(metadata) = &args.metadata {
        token = token.with_metadata(metadata);
    }
    if !args.attribute.is_empty() {
        let attributes: BTreeMap<&str, &str> = args
            .attribute
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        token = token.with_attributes(attributes);
    }
    // Each flag writes its claim; a token given none of them has no video grant at all.
    let mut grant = VideoGrant::new();
    for (set, with) in [
        (
            args.join,
            VideoGrant::with_room_join as fn(VideoGrant, bool) -> VideoGrant,
        ),
        (args.admin, VideoGrant::with_room_admin),
        (args.create, VideoGrant::with_room_create),
        (args.list, VideoGrant::with_room_list),
        (args.record, VideoGrant::with_room_record),
    ] {
        if set {
            grant = with(grant, true);
        }
    }
    if let Some(room) = args.room.as_deref().filter(|room| !room.is_empty()) {
        grant = grant.with_room(room);
    }
    if !args.allow_source.is_empty() {
        grant = grant.with_can_publish_sources(args.allow_source.iter().copied());
    }
    if grant != VideoGrant::new() {
        token = token.with_video_grant(grant);
    }
    if !args.agent.is_empty() {
        let config = args
            .agent
            .iter()
            .map(RoomAgentDispatch::new)
            .fold(RoomConfiguration::new(), RoomConfiguration::with_agent);
        token = token.with_room_config(config);
    }
    if let Some(ttl) = args.valid_for {
        token = token.with_ttl(ttl);
    }
    println!("{}", token.to_jwt().map_err(|e| e.to_string())?);
    Ok(())
}

fn describe(claims: &Claims) -> serde_json::Value {
    json!({ "claims": claims, "identity": claims.identity(), "permissions": claims.permissions() })
}

fn verify(args: &Verify) -> Result<(), String> {
    let verifier = Verifier::new(args.keys.ring()?);
    let token = token_text(args.token.as_deref())?;
    match verifier.verify(&token) {
        Ok(claims) => {
            println!("{:#}", describe(&claims));
            Ok(())
        }
        Err(err) => Err(format!("refused ({}): {err}", err.kind())),
    }
}

fn decode(args: &Decode) -> Result<(), String> {
    let token = token_text(args.token.as_deref())?;
    let claims = decode_unverified(&token).map_err(|e| e.to_string())?;
    eprintln!("warning: NOT VERIFIED: signature, expiry and key were not checked");
    println!("{:#}", describe(&claims));
    Ok(())
}

/// Verifications per second on 1..=N threads, each verifying the token set in a loop.
fn bench(args: &Bench) -> Result<(), String> {
    let debug = cfg!(debug_assertions);
    if debug {
        eprintln!(
            "WARNING: this lkauth is a DEBUG build: verification runs 10 to 50 times slower than \
             in a release build, so these numbers mean nothing. Measure with a release build: \
             `cargo run --release -p lkauth -- token bench`, or `cargo install --path lkauth`."
        );
    }
    let (verifier, tokens) = match &args.tokens {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let tokens: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            (Verifier::new(args.keys.ring()?), tokens)
        }
        None => generated_tokens()?,
    };
    if tokens.is_empty() {
        return Err("no tokens to verify".into());
    }
    let build = if debug {
        "DEBUG build, not meaningful"
    } else {
        "release build"
    };
    let valid = tokens.iter().filter(|t| verifier.verify(t).is_ok()).count();
    println!(
        "{} tokens ({valid} verify now), {} s per run, {build}",
        tokens.len(),
        args.seconds
    );
    let mut single = 0.0;
    for threads in 1..=usize::from(args.threads) {
        let rate = measure(
            &verifier,
            &tokens,
            threads,
            Duration::from_secs_f64(args.seconds),
        );
        if threads == 1 {
            single = rate;
        }
        println!(
            "{threads} thread(s): {:>10.0} verifications/s  ({:.0} ns each per thread, {:.2}x one thread){}",
            rate,
            threads as f64 * 1e9 / rate,
            rate / single,
            if debug { "  [DEBUG build]" } else { "" }
        );
    }
    Ok(())
}

fn measure(verifier: &Verifier, tokens: &[String], threads: usize, duration: Duration) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (stop, done) = (&stop, &done);
            scope.spawn(move || {
                let mut count = 0u64;
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..256 {
                        std::hint::black_box(verifier.verify(&tokens[i % tokens.len()]).is_ok());
                        i += 1;
                    }
                    count += 256;
                }
                done.fetch_add(count, Ordering::Relaxed);
            });
        }
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// 64 typical join tokens (about 470 bytes each) under one generated key.
fn generated_tokens() -> Result<(Verifier, Vec<String>), String> {
    let keys = typical_token::key_ring().map_err(|e| e.to_string())?;
    let now = SystemTime::now();
    let tokens = (0..64)
        .map(|i| typical_token::typical_join_token(i, now).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((Verifier::new(keys), tokens))
}

/// Runs `lkauth token`: 0 on success, 1 with the reason on stderr otherwise (clap's own
/// usage errors exit 2 before this).
#[must_use]
pub fn run(args: Args) -> ExitCode {
    let result = match &args.command {
        Command::Create(create_args) => create(create_args),
        Command::Verify(verify_args) => verify(verify_args),
        Command::Decode(decode_args) => decode(decode_args),
        Command::Bench(bench_args) => bench(bench_args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_lk_writes_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h30m"), Ok(Duration::from_secs(9000)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86400)));
        for bad in ["", "0s", "1", "1x", "h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bench_seconds_are_bounded() {
        assert!(parse_seconds("0.5").is_ok());
        for bad in ["0", "-1", "NaN", "inf", "1e9", "x"] {
            assert!(parse_seconds(bad).is_err(), "{bad:?}");
        }
    }
}
