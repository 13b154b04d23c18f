//! A token tool in the spirit of LiveKit's `lk token`:
//!
//! ```sh
//! cargo run --example token -- create --identity alice --room myroom --join --valid-for 1h
//! cargo run --example token -- verify <TOKEN>        # the claims as JSON, or why it is refused
//! cargo run --example token -- decode <TOKEN>        # the claims, NOT verified
//! cargo run --release --example token -- bench --threads 2 --seconds 3
//! ```
//!
//! Keys: `--api-key`/`--api-secret`, else `LIVEKIT_API_KEY`/`LIVEKIT_API_SECRET` (or
//! `LIVEKIT_KEYS` for `verify`), else LiveKit's dev key `devkey`/`secret`.

use crate::typical_token;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use tower_livekit_auth::verify::dangerous::decode_unverified;
use tower_livekit_auth::{
    AccessToken, Claims, KeyErrorKind, KeyRing, RoomAgentDispatch, RoomConfiguration, Verifier,
    VideoGrant,
};

const USAGE: &str = "usage:
  token create [--api-key K --api-secret S] [--identity ID] [--name NAME] [--room ROOM]
               [--join] [--admin] [--create] [--list] [--record] [--allow-source SOURCE]...
               [--metadata TEXT] [--attribute K=V]... [--agent NAME]... [--valid-for 6h]
  token verify TOKEN   [--api-key K --api-secret S]
  token decode TOKEN
  token bench          [--threads N] [--seconds S] [--tokens FILE]";

/// Command-line flags: `--name value` pairs and bare switches.
struct Flags {
    values: Vec<(String, String)>,
    switches: Vec<String>,
    positional: Vec<String>,
}

const SWITCHES: [&str; 5] = ["--join", "--admin", "--create", "--list", "--record"];

impl Flags {
    fn parse(args: impl Iterator<Item = String>) -> Result<Flags, String> {
        let mut flags = Flags {
            values: Vec::new(),
            switches: Vec::new(),
            positional: Vec::new(),
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            if SWITCHES.contains(&arg.as_str()) {
                flags.switches.push(arg);
            } else if arg.starts_with("--") {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                flags.values.push((arg, value));
            } else {
                flags.positional.push(arg);
            }
        }
        Ok(flags)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.values
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, switch: &str) -> bool {
        self.switches.iter().any(|s| s == switch)
    }

    fn check_known(&self, known: &[&str]) -> Result<(), String> {
        match self
            .values
            .iter()
            .find(|(n, _)| !known.contains(&n.as_str()))
        {
            Some((name, _)) => Err(format!("unknown flag {name}")),
            None => Ok(()),
        }
    }
}

/// `90s`, `30m`, `1h`, `2h30m`, `1d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("--valid-for: `{text}` is not a duration like 30m, 1h or 2h30m");
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

/// The one key to mint with.
fn key_pair(flags: &Flags) -> (String, String) {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (flags.get("--api-key"), flags.get("--api-secret")) {
        (Some(k), Some(s)) => (k.into(), s.into()),
        _ => match (env("LIVEKIT_API_KEY"), env("LIVEKIT_API_SECRET")) {
            (Some(k), Some(s)) => (k, s),
            _ => {
                eprintln!("note: no --api-key/--api-secret or LIVEKIT_API_KEY/SECRET; using the dev key devkey/secret");
                ("devkey".into(), "secret".into())
            }
        },
    }
}

/// The keys to verify with: flags, then the environment as the LiveKit server reads it, then
/// the dev key. Weak secrets are allowed: this is a debugging tool.
fn key_ring(flags: &Flags) -> Result<KeyRing, String> {
    let ring = KeyRing::allowing_weak_secrets();
    if let (Some(k), Some(s)) = (flags.get("--api-key"), flags.get("--api-secret")) {
        return ring.with_key(k, s).map_err(|e| e.to_string());
    }
    match ring.clone().with_env_from(|name| std::env::var(name).ok()) {
        Ok(ring) => Ok(ring),
        Err(err) if err.kind() == KeyErrorKind::MissingEnv => {
            eprintln!("note: no keys given; verifying with the dev key devkey/secret");
            ring.with_key("devkey", "secret").map_err(|e| e.to_string())
        }
        Err(err) => Err(err.to_string()),
    }
}

fn create(flags: &Flags) -> Result<(), String> {
    flags.check_known(&[
        "--api-key",
        "--api-secret",
        "--identity",
        "--name",
        "--room",
        "--allow-source",
        "--metadata",
        "--attribute",
        "--agent",
        "--valid-for",
    ])?;
    let (api_key, secret) = key_pair(flags);
    let room = flags.get("--room").unwrap_or("");
    let mut token = AccessToken::new(api_key, secret);
    if let Some(identity) = flags.get("--identity") {
        token = token.with_identity(identity);
    }
    if let Some(name) = flags.get("--name") {
        token = token.with_name(name);
    }
    if let Some(metadata) = flags.get("--metadata") {
        token = token.with_metadata(metadata);
    }
    let attributes = flags
        .all("--attribute")
        .map(|kv| {
            kv.split_once('=')
                .ok_or_else(|| format!("--attribute `{kv}`: expected KEY=VALUE"))
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    if !attributes.is_empty() {
        token = token.with_attributes(attributes);
    }
    let sources = flags
        .all("--allow-source")
        .map(|source| {
            source
                .parse::<tower_livekit_auth::TrackSource>()
                .map_err(|e| format!("--allow-source: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Each flag writes its claim; a token given none of them has no video grant at all.
    let mut grant = VideoGrant::new();
    for (flag, set) in [
        (
            "--join",
            VideoGrant::with_room_join as fn(VideoGrant, bool) -> VideoGrant,
        ),
        ("--admin", VideoGrant::with_room_admin),
        ("--create", VideoGrant::with_room_create),
        ("--list", VideoGrant::with_room_list),
        ("--record", VideoGrant::with_room_record),
    ] {
        if flags.has(flag) {
            grant = set(grant, true);
        }
    }
    if !room.is_empty() {
        grant = grant.with_room(room);
    }
    if !sources.is_empty() {
        grant = grant.with_can_publish_sources(sources);
    }
    if grant != VideoGrant::new() {
        token = token.with_video_grant(grant);
    }
    let agents = flags
        .all("--agent")
        .map(RoomAgentDispatch::new)
        .fold(RoomConfiguration::new(), RoomConfiguration::with_agent);
    if !agents.agents.is_empty() {
        token = token.with_room_config(agents);
    }
    if let Some(ttl) = flags.get("--valid-for") {
        token = token.with_ttl(parse_duration(ttl)?);
    }
    println!("{}", token.to_jwt().map_err(|e| e.to_string())?);
    Ok(())
}

fn describe(claims: &Claims) -> serde_json::Value {
    json!({ "claims": claims, "identity": claims.identity(), "permissions": claims.permissions() })
}

fn verify(flags: &Flags) -> Result<(), String> {
    flags.check_known(&["--api-key", "--api-secret"])?;
    let [token] = flags.positional.as_slice() else {
        return Err("verify needs one TOKEN".into());
    };
    let verifier = Verifier::new(key_ring(flags)?);
    match verifier.verify(token) {
        Ok(claims) => {
            println!("{:#}", describe(&claims));
            Ok(())
        }
        Err(err) => Err(format!("refused ({}): {err}", err.kind())),
    }
}

fn decode(flags: &Flags) -> Result<(), String> {
    let [token] = flags.positional.as_slice() else {
        return Err("decode needs one TOKEN".into());
    };
    let claims = decode_unverified(token).map_err(|e| e.to_string())?;
    eprintln!("warning: NOT VERIFIED: signature, expiry and key were not checked");
    println!("{:#}", describe(&claims));
    Ok(())
}

/// Verifications per second on 1..=N threads, each verifying the token set in a loop.
fn bench(flags: &Flags) -> Result<(), String> {
    flags.check_known(&["--threads", "--seconds", "--tokens"])?;
    let max_threads: usize = flags
        .get("--threads")
        .map_or(Ok(2), str::parse)
        .map_err(|_| "--threads: a number")?;
    let seconds: f64 = flags
        .get("--seconds")
        .map_or(Ok(2.0), str::parse)
        .map_err(|_| "--seconds: a number")?;
    let (verifier, tokens) = match flags.get("--tokens") {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let tokens: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            (Verifier::new(key_ring(flags)?), tokens)
        }
        None => generated_tokens()?,
    };
    if tokens.is_empty() {
        return Err("no tokens to verify".into());
    }
    let valid = tokens.iter().filter(|t| verifier.verify(t).is_ok()).count();
    println!(
        "{} tokens ({} verify now), {seconds} s per run",
        tokens.len(),
        valid
    );
    let mut single = 0.0;
    for threads in 1..=max_threads.max(1) {
        let rate = measure(
            &verifier,
            &tokens,
            threads,
            Duration::from_secs_f64(seconds),
        );
        if threads == 1 {
            single = rate;
        }
        println!(
            "{threads} thread(s): {:>10.0} verifications/s  ({:.0} ns each per thread, {:.2}x one thread)",
            rate,
            threads as f64 * 1e9 / rate,
            rate / single
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

/// `lkauth token ARGS...`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Runs `lkauth token`.
#[must_use]
pub fn run(args: Args) -> ExitCode {
    let mut args = args.args.into_iter();
    let command = args.next().unwrap_or_default();
    let result = Flags::parse(args).and_then(|flags| match command.as_str() {
        "create" => create(&flags),
        "verify" => verify(&flags),
        "decode" => decode(&flags),
        "bench" => bench(&flags),
        _ => Err(String::new()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            if message.is_empty() {
                eprintln!("{USAGE}");
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::from(1)
        }
    }
}
