//! Tokens and a plain client for the `lkauth gate` benchmarks (`benches/compare/scripts/gate_*.sh`).
//!
//! ```sh
//! gate_tokens write FILE [N] [R]        # N valid tokens, R to revoke, 64 expired, 64 forged
//! gate_tokens remove GATE_URL FILE      # removes the `revoked` lines' participants at the gate
//! gate_tokens check GATE_URL FILE COUNT [MIX]  # COUNT checks in a row on one connection
//! gate_tokens check GATE_URL FILE COUNT healthz  # COUNT GET /healthz instead: the floor
//! ```
//!
//! The tokens are `lkauth token bench`'s typical join token (`lkauth/src/typical_token.rs`:
//! about 470 bytes, participant `i` in `room-{i % 8}`), on its key `APIbenchhttp01`. `FILE` has
//! one valid token per line, then lines `revoked <token>`, `expired <token>` and
//! `forged <token>` (`scripts/gate_tokens.lua` and `scripts/tokens.lua` read it). `remove`
//! sends each revoked participant's `RemoveParticipant` to the gate with a room-admin token,
//! then checks that the gate refuses a revoked token and allows a valid one. `check` asks the
//! gate's `/auth` nginx's way (`X-Original-URI: /rtc/validate`) COUNT times in a row, the
//! tokens of `MIX` (`valid`, `bad` or `all`, as the Lua script) in turn, and prints the answers
//! by status: what `gate_callgrind.sh` runs against the gate under callgrind.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use tower_livekit_auth::{AccessToken, Verifier, VideoGrant};

// The token CLI's generator (`lkauth token bench`), so every tool measures the same tokens.
#[path = "../../../../lkauth/src/typical_token.rs"]
#[allow(dead_code, unreachable_pub)]
mod typical_token;

use typical_token::typical_join_token as token;

type Error = Box<dyn std::error::Error>;

fn write(path: &str, valid: usize, revoked: usize) -> Result<(), Error> {
    let now = SystemTime::now();
    let mut lines: Vec<String> = (0..valid)
        .map(|i| token(i, now))
        .collect::<Result<_, _>>()?;
    for i in valid..valid + revoked {
        lines.push(format!("revoked {}", token(i, now)?));
    }
    for i in 0..64 {
        lines.push(format!(
            "expired {}",
            token(i, now - Duration::from_secs(7 * 3600))?
        ));
        let good = token(i, now)?;
        let end = if good.ends_with("AA") { "BB" } else { "AA" };
        lines.push(format!("forged {}{end}", &good[..good.len() - 2]));
    }
    std::fs::write(path, lines.join("\n") + "\n")?;
    eprintln!("{path}: {valid} valid, {revoked} to revoke, 64 expired, 64 forged");
    Ok(())
}

/// The tokens of `kind` (`None`: the valid ones) in `path`.
fn tokens(path: &str, kind: Option<&str>) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|line| match line.split_once(' ') {
            None => kind.is_none().then(|| line.to_owned()),
            Some((k, token)) => (Some(k) == kind).then(|| token.to_owned()),
        })
        .collect())
}

/// Asks the gate nginx's way about `GET /rtc/validate` with `token`: the status.
async fn check(client: &reqwest::Client, gate: &str, token: &str) -> Result<u16, Error> {
    Ok(client
        .get(format!("{gate}/auth"))
        .header("x-original-uri", "/rtc/validate")
        .header("x-original-method", "GET")
        .bearer_auth(token)
        .send()
        .await?
        .status()
        .as_u16())
}

async fn remove(gate: &str, path: &str) -> Result<(), Error> {
    let keys = typical_token::key_ring()?;
    let verifier = Verifier::new(keys);
    let client = reqwest::Client::new();
    let revoked = tokens(path, Some("revoked"))?;
    for token in &revoked {
        let claims = verifier.verify(token)?;
        let (room, identity) = (claims.room(), claims.identity());
        let admin = AccessToken::new(typical_token::KEY, typical_token::SECRET)
            .with_identity("bench-moderator")
            .with_video_grant(VideoGrant::admin(room))
            .to_jwt()?;
        let answer = client
            .post(format!(
                "{gate}/twirp/livekit.RoomService/RemoveParticipant"
            ))
            .bearer_auth(admin)
            .json(&serde_json::json!({"room": room, "identity": identity}))
            .send()
            .await?;
        if !answer.status().is_success() {
            return Err(format!("RemoveParticipant {room}/{identity}: {}", answer.status()).into());
        }
    }
    let valid = tokens(path, None)?;
    if let (Some(good), Some(gone)) = (valid.first(), revoked.first()) {
        let (good, gone) = (
            check(&client, gate, good).await?,
            check(&client, gate, gone).await?,
        );
        if (good, gone) != (200, 401) {
            return Err(format!("after the removals: valid {good}, revoked {gone}").into());
        }
    }
    eprintln!("removed {} participants at {gate}", revoked.len());
    Ok(())
}

async fn check_many(gate: &str, path: &str, count: usize, mix: &str) -> Result<(), Error> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;
    let mut statuses = BTreeMap::new();
    if mix == "healthz" {
        // The floor: the same connection and server, no check.
        for _ in 0..count {
            let status = client.get(format!("{gate}/healthz")).send().await?.status();
            *statuses.entry(status.as_u16()).or_insert(0usize) += 1;
        }
        for (status, n) in statuses {
            println!("status {status}: {n}");
        }
        return Ok(());
    }
    let mut list = Vec::new();
    if mix != "bad" {
        list.extend(tokens(path, None)?);
    }
    if mix != "valid" {
        for kind in ["revoked", "expired", "forged"] {
            list.extend(tokens(path, Some(kind))?);
        }
    }
    if list.is_empty() {
        return Err(format!("no tokens of mix `{mix}` in {path}").into());
    }
    for i in 0..count {
        let status = check(&client, gate, &list[i % list.len()]).await?;
        *statuses.entry(status).or_insert(0usize) += 1;
    }
    for (status, n) in statuses {
        println!("status {status}: {n}");
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let number = |text: Option<&&str>, default: usize| -> Result<usize, Error> {
        text.map_or(Ok(default), |text| Ok(text.parse()?))
    };
    let done = match args.as_slice() {
        ["write", path, rest @ ..] => number(rest.first(), 1000)
            .and_then(|valid| Ok((valid, number(rest.get(1), 200)?)))
            .and_then(|(valid, revoked)| write(path, valid, revoked)),
        ["remove", gate, path] => remove(gate, path).await,
        ["check", gate, path, count, rest @ ..] => match count.parse() {
            Ok(count) => check_many(gate, path, count, rest.first().copied().unwrap_or("all")).await,
            Err(err) => Err(err.into()),
        },
        _ => Err("usage: gate_tokens write FILE [N] [R] | remove GATE_URL FILE | check GATE_URL FILE COUNT [MIX]".into()),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
    }
}
