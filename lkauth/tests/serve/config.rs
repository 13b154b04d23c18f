//! `lkauth serve --config FILE` (and `LIVEKIT_CONFIG`) as a process, started from LiveKit's
//! own sample config (`tests/fixtures/livekit/config-sample.yaml`, as `livekit-server` ships
//! it) with only its Redis addresses pointed at processes of this test: one `redis-server`, a
//! Sentinel deployment (one master, two replicas, three sentinels) and a Redis Cluster (three
//! masters, three replicas), all on 127.0.0.1 and stopped by PID. In each mode two `serve`
//! processes share the participant state and the rooms: a participant joins on one, is seen
//! and removed through the other, and its token is then refused on the first.
//!
//! The sample's keys (`key1: secret1`, `key2: secret2`) are development ones, so every run
//! passes `--allow-weak-secret`; without it the start is refused, saying so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tower_livekit_auth::{AccessToken, VideoGrant};

use crate::support::redis::RedisServer;
use crate::topology;

/// LiveKit's sample config, as livekit-server ships it.
const SAMPLE: &str = include_str!("../../../tests/fixtures/livekit/config-sample.yaml");
/// The sample's first key.
const KEY: (&str, &str) = ("key1", "secret1");

/// One `lkauth serve` process, killed (by PID) when dropped.
struct Serve {
    child: Child,
    base: String,
    /// What it wrote on stdout, line by line, read by a thread.
    stdout: mpsc::Receiver<String>,
    /// The same for stderr.
    stderr: mpsc::Receiver<String>,
    /// The stdout lines up to its `listening on` line.
    banner: Vec<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment every process gets: nothing of the test's own (`env_clear`), plus `env`.
fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lkauth"));
    command
        .arg("serve")
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The lines of `stream`, sent on a channel by a thread that keeps draining it, so that the
/// process never blocks on a full pipe.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

impl Serve {
    /// Starts `lkauth serve ARGS` and waits (at most 30 s) for its `listening on` line.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut child = command(args, env).spawn().expect("lkauth starts");
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut banner = Vec::new();
        let base = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stdout.recv_timeout(left) {
                Ok(line) => {
                    let base = line.strip_prefix("listening on ").map(str::to_owned);
                    banner.push(line);
                    if let Some(base) = base {
                        break base;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let said: Vec<String> = stderr.try_iter().collect();
                    panic!("lkauth serve did not start: {}", said.join("\n"));
                }
            }
        };
        Serve {
            child,
            base,
            stdout,
            stderr,
            banner,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// Its stdout so far: the banner, then what came after.
    fn stdout(&self) -> String {
        let mut all = self.banner.clone();
        all.extend(self.stdout.try_iter());
        all.join("\n")
    }
}

/// A directory of this test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lkauth-config-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `text` with `old` (which must be there) replaced once by `new`.
fn edit(text: &str, old: &str, new: &str) -> String {
    assert!(text.contains(old), "the sample has no {old:?}");
    text.replacen(old, new, 1)
}

/// The sample with its `address:` on our `redis-server`.
fn standalone(address: &str) -> String {
    edit(
        SAMPLE,
        "\n  address: redis.host:6379\n",
        &format!("\n  address: {address}\n"),
    )
}

/// The sample with its Sentinel lines uncommented (master name `livekit`, as written) and its
/// sentinel addresses ours.
fn sentinel(addresses: &[String]) -> String {
    let text = edit(SAMPLE, "\n  address: redis.host:6379\n", "\n");
    let text = edit(
        &text,
        "\n  # sentinel_master_name: livekit\n",
        "\n  sentinel_master_name: livekit\n",
    );
    let list: String = addresses.iter().map(|a| format!("  - {a}\n")).collect();
    edit(
        &text,
        "  # sentinel_addresses:\n  # - livekit-redis-node-0.livekit-redis-headless:26379\n  # - livekit-redis-node-1.livekit-redis-headless:26379\n",
        &format!("  sentinel_addresses:\n{list}"),
    )
}

/// The sample with its Cluster lines uncommented and its node addresses ours.
fn cluster(addresses: &[String]) -> String {
    let text = edit(SAMPLE, "\n  address: redis.host:6379\n", "\n");
    let list: String = addresses.iter().map(|a| format!("  - {a}\n")).collect();
    edit(
        &text,
        "  # cluster_addresses:\n  # - livekit-redis-node-0.livekit-redis-headless:6379\n  # - livekit-redis-node-1.livekit-redis-headless:6380\n",
        &format!("  cluster_addresses:\n{list}"),
    )
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn join_token(identity: &str, room: &str) -> String {
    AccessToken::new(KEY.0, KEY.1)
        .with_identity(identity)
        .with_video_grant(VideoGrant::join(room))
        .to_jwt()
        .expect("mints")
}

fn admin_token(room: &str) -> String {
    AccessToken::new(KEY.0, KEY.1)
        .with_video_grant(
            VideoGrant::admin(room)
                .with_room_create(true)
                .with_room_list(true),
        )
        .to_jwt()
        .expect("mints")
}

async fn validate(http: &reqwest::Client, base: &str, token: &str) -> StatusCode {
    http.get(format!("{base}/rtc/validate"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
}

async fn twirp(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = http
        .post(format!("{base}/twirp/livekit.RoomService/{method}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls `check` until it is `want` or 20 s pass.
async fn becomes<F, Fut>(want: StatusCode, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if check().await == want {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two `serve` processes from `config`: the rooms and the participant state are shared.
async fn two_replicas_share_rooms_and_state(config: &Path, mode: &str) {
    let path = config.to_str().expect("a UTF-8 path");
    let args = ["--config", path, "--allow-weak-secret"];
    let (a, b) = (Serve::start(&args, &[]), Serve::start(&args, &[]));
    let http = http();
    let room = format!("hall-{mode}");
    let (ivy, admin) = (join_token("ivy", &room), admin_token(&room));

    // Redis may still be settling (a Cluster's slots, a Sentinel's view): the first join is
    // retried until it lands.
    assert!(
        becomes(StatusCode::OK, || validate(&http, &a.base, &ivy)).await,
        "{mode}: ivy never joined on a: {}",
        a.stderr()
    );
    let (status, listed) = twirp(
        &http,
        &b.base,
        &admin,
        "ListParticipants",
        json!({"room": room}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mode}: {listed}: {}", b.stderr());
    let identities: Vec<&str> = listed["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .filter_map(|p| p["identity"].as_str())
        .collect();
    assert_eq!(identities, ["ivy"], "{mode}: b sees who joined on a");
    let (status, rooms) = twirp(&http, &a.base, &admin, "ListRooms", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{mode}: {rooms}");
    assert!(rooms.to_string().contains(&room), "{mode}: {rooms}");

    let (status, removed) = twirp(
        &http,
        &b.base,
        &admin,
        "RemoveParticipant",
        json!({"room": room, "identity": "ivy"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mode}: {removed}");
    assert!(
        becomes(StatusCode::UNAUTHORIZED, || validate(&http, &a.base, &ivy)).await,
        "{mode}: a still lets ivy in after b removed her"
    );
    assert_eq!(
        validate(&http, &b.base, &ivy).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn livekits_sample_config_on_one_redis_server_works_unchanged() {
    let redis = RedisServer::start();
    let dir = TempDir::new("standalone");
    let config = dir.file(
        "livekit.yaml",
        &standalone(&format!("127.0.0.1:{}", redis.port())),
    );
    two_replicas_share_rooms_and_state(&config, "standalone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn livekits_sample_config_on_sentinel_works_unchanged() {
    let set = topology::SentinelSet::start("livekit");
    let dir = TempDir::new("sentinel");
    let config = dir.file("livekit.yaml", &sentinel(&set.sentinel_addresses()));
    two_replicas_share_rooms_and_state(&config, "sentinel").await;
    drop(set);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn livekits_sample_config_on_a_cluster_works_unchanged() {
    let nodes = topology::Cluster::start();
    let dir = TempDir::new("cluster");
    let config = dir.file("livekit.yaml", &cluster(&nodes.addresses()));
    two_replicas_share_rooms_and_state(&config, "cluster").await;
    drop(nodes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_in_livekit_config_gives_keys_and_limits_without_redis() {
    let yaml = "keys:\n  APIconfig01: configSecret0123456789abcdefghijklmnop\nlimit:\n  max_metadata_size: 16\n";
    let serve = Serve::start(&[], &[("LIVEKIT_CONFIG", yaml)]);
    let http = http();
    let token = |grant: VideoGrant, identity: &str| {
        AccessToken::new("APIconfig01", "configSecret0123456789abcdefghijklmnop")
            .with_identity(identity)
            .with_video_grant(grant)
            .to_jwt()
            .expect("mints")
    };
    let joined = token(VideoGrant::join("r"), "u");
    assert_eq!(validate(&http, &serve.base, &joined).await, StatusCode::OK);
    let dev = AccessToken::new("devkey", "secret")
        .with_identity("u")
        .with_video_grant(VideoGrant::join("r"))
        .to_jwt()
        .expect("mints");
    assert_eq!(
        validate(&http, &serve.base, &dev).await,
        StatusCode::UNAUTHORIZED,
        "the config's keys only"
    );
    let admin = token(VideoGrant::admin("r"), "admin");
    let update = |metadata: &str| json!({"room": "r", "identity": "u", "metadata": metadata});
    let (status, _) = twirp(
        &http,
        &serve.base,
        &admin,
        "UpdateParticipant",
        update("short"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = twirp(
        &http,
        &serve.base,
        &admin,
        "UpdateParticipant",
        update("seventeen bytes!!"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_argument")),
        "limit.max_metadata_size: {body}"
    );
}

#[tokio::test]
async fn development_true_is_livekits_dev_key_with_a_warning() {
    let serve = Serve::start(&[], &[("LIVEKIT_CONFIG", "development: true\n")]);
    let dev = AccessToken::new("devkey", "secret")
        .with_identity("u")
        .with_video_grant(VideoGrant::join("r"))
        .to_jwt()
        .expect("mints");
    assert_eq!(validate(&http(), &serve.base, &dev).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let said = serve.stderr();
    assert!(said.contains("development key `devkey`"), "{said}");
}

#[test]
fn weak_keys_half_pairs_and_two_redis_are_refused_at_start_saying_why() {
    let dir = TempDir::new("refused");
    let sample = dir.file("livekit.yaml", SAMPLE);
    let sample = sample.to_str().expect("UTF-8");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let output = command(args, env).output().expect("runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    // The sample's development secrets, without --allow-weak-secret.
    let (code, err, out) = run(&["--config", sample], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("shorter than 32 bytes"), "{err}");
    assert!(err.contains("--allow-weak-secret"), "{err}");
    assert!(
        !err.contains("secret1") && !out.contains("listening"),
        "{err}"
    );
    // Half a pair in the environment: never the dev key.
    let (code, err, _) = run(&[], &[("LIVEKIT_API_KEY", "APIhalf")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("LIVEKIT_API_SECRET") && !err.contains("devkey"),
        "{err}"
    );
    // A config whose redis: block and --redis both name a Redis.
    let (code, err, _) = run(
        &[
            "--config",
            sample,
            "--allow-weak-secret",
            "--redis",
            "redis://127.0.0.1:1",
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("keep one"), "{err}");
    // A config that is not YAML names where it came from.
    let (code, err, _) = run(&[], &[("LIVEKIT_CONFIG", "redis: {address: [}\n")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("LIVEKIT_CONFIG"), "{err}");
    let missing = dir.0.join("nope.yaml");
    let (code, err, _) = run(&["--config", missing.to_str().expect("UTF-8")], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("nope.yaml"), "{err}");
}

#[test]
fn start_prints_how_to_try_it_without_any_token() {
    let serve = Serve::start(&[], &[]);
    std::thread::sleep(Duration::from_millis(300));
    let out = serve.stdout();
    assert!(out.contains("token create --identity demo-user"), "{out}");
    assert!(
        out.contains("/twirp/livekit.RoomService/ListRooms"),
        "{out}"
    );
    assert!(!out.contains("eyJ"), "no token is printed: {out}");
    let err = serve.stderr();
    assert!(err.contains("development key `devkey`"), "{err}");
    assert!(!err.contains("eyJ"), "{err}");
}
