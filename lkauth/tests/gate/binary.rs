//! The real `lkauth gate`: its preset and policy files, its errors for bad ones, its keys, its
//! log (which never holds a token), and two gates sharing one state through Redis.

use std::time::Duration;

use lkauth::gate::{preset_text, Policy};
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{admin, client, eventually, joiner, send, KEY, SECRET};
use crate::process::{run, scratch, Lkauth};
use crate::support::assert_no_leak;
use crate::support::redis::RedisServer;

fn keys() -> String {
    format!("{KEY}: {SECRET}")
}

/// Asks the gate at `base` nginx's way.
async fn check(base: &str, uri: &str, token: Option<&str>) -> StatusCode {
    let mut request = client()
        .get(format!("{base}/auth"))
        .header("x-original-uri", uri)
        .header("x-original-method", "GET");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    send(request).await.status
}

#[test]
fn print_preset_prints_a_policy_that_reads_back() {
    let (status, out, _) = run(&["gate", "--print-preset", "livekit"], &[]);
    assert!(status.success());
    assert_eq!(Some(out.as_str()), preset_text("livekit"));
    assert!(Policy::from_yaml(&out, "the printed preset").is_ok());
    let (status, _, err) = run(&["gate", "--print-preset", "nginx"], &[]);
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("the presets are livekit"), "{err}");
}

#[test]
fn bad_policy_files_stop_the_gate_with_the_file_the_route_and_the_line() {
    let dir = scratch("policies");
    let cases = [
        (
            "typo.yaml",
            "routes:\n  - path: /rtc\n    requires: join\n",
            "unknown field `requires`",
        ),
        (
            "requirement.yaml",
            "routes:\n  - path: /rtc\n    require: joni\n",
            "line 3",
        ),
        (
            "room.yaml",
            "routes:\n  - path: /kick\n    require: room_admin\n",
            "routes[0] (path `/kick`)",
        ),
        ("yaml.yaml", "routes: [\n", "the policy file"),
        ("empty.yaml", "", "routes"),
    ];
    let env = [("LIVEKIT_KEYS", keys())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (name, text, says) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write the policy");
        let path = path.to_str().expect("UTF-8 path").to_owned();
        let (status, out, err) = run(&["gate", "--bind", "127.0.0.1:0", "--policy", &path], &env);
        assert_eq!(status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(err.contains(&path), "{name} names the file: {err}");
        assert!(!out.contains("listening on"), "{name}: {out}");
    }
    let missing = dir.join("missing.yaml");
    let missing = missing.to_str().expect("UTF-8 path");
    let (status, _, err) = run(&["gate", "--policy", missing], &env);
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("cannot read the policy file"), "{err}");
    let (status, _, err) = run(&["gate", "--policy", missing, "--preset", "livekit"], &env);
    assert_eq!(status.code(), Some(2), "clap refuses both: {err}");
}

#[test]
fn keys_fail_closed_and_the_dev_key_only_when_nothing_is_set() {
    // Half a pair: an error, never the dev key.
    let (status, _, err) = run(&["gate"], &[("LIVEKIT_API_KEY", KEY)]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("LIVEKIT_API_SECRET"), "{err}");
    // A config without keys: an error too.
    let dir = scratch("config");
    let config = dir.join("livekit.yaml");
    std::fs::write(&config, "port: 7880\n").expect("write the config");
    let config = config.to_str().expect("UTF-8 path");
    let (status, _, err) = run(&["gate", "--config", config], &[]);
    assert_eq!(status.code(), Some(2), "{err}");
    // A short secret in LIVEKIT_KEYS is refused (the library's rule).
    let (status, _, err) = run(&["gate"], &[("LIVEKIT_KEYS", "APIshort: secret")]);
    assert_eq!(status.code(), Some(2), "{err}");
}

#[tokio::test]
async fn the_gate_runs_on_a_livekit_config_and_a_policy_file() {
    let dir = scratch("run");
    let config = dir.join("livekit.yaml");
    std::fs::write(&config, format!("keys:\n  {KEY}: {SECRET}\n")).expect("config");
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "routes:\n  - path: /rooms/{room}/kick\n    require: room_admin\n",
    )
    .expect("policy");
    let gate = Lkauth::start(
        &[
            "gate",
            "--bind",
            "127.0.0.1:0",
            "--config",
            config.to_str().expect("UTF-8"),
            "--policy",
            policy.to_str().expect("UTF-8"),
        ],
        &[],
    );
    assert!(
        gate.stdout().contains("1 routes, default deny"),
        "{}",
        gate.stdout()
    );
    assert!(
        !gate.stderr().contains("development key"),
        "{}",
        gate.stderr()
    );
    assert_eq!(
        check(&gate.base, "/rooms/r1/kick", Some(&admin("r1"))).await,
        StatusCode::OK
    );
    assert_eq!(
        check(&gate.base, "/rooms/r2/kick", Some(&admin("r1"))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        check(&gate.base, "/rtc", Some(&joiner("a", "r1"))).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn livekit_config_in_the_environment_gives_the_keys_and_development_the_dev_key() {
    let config = format!("keys:\n  {KEY}: {SECRET}\n");
    let gate = Lkauth::start(
        &["gate", "--bind", "127.0.0.1:0"],
        &[("LIVEKIT_CONFIG", &config)],
    );
    assert!(
        !gate.stderr().contains("development key"),
        "{}",
        gate.stderr()
    );
    assert_eq!(
        check(&gate.base, "/rtc", Some(&joiner("a", "r1"))).await,
        StatusCode::OK
    );
    let dev = Lkauth::start(
        &["gate", "--bind", "127.0.0.1:0"],
        &[("LIVEKIT_CONFIG", "development: true\n")],
    );
    assert!(
        dev.stderr().contains("development key `devkey`"),
        "{}",
        dev.stderr()
    );
    let devkey = tower_livekit_auth::AccessToken::new("devkey", "secret")
        .with_identity("a")
        .with_video_grant(tower_livekit_auth::VideoGrant::join("r1"))
        .to_jwt()
        .expect("mints");
    assert_eq!(
        check(&dev.base, "/rtc", Some(&devkey)).await,
        StatusCode::OK
    );
    assert_eq!(
        check(&dev.base, "/rtc", Some(&joiner("a", "r1"))).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_access_log_never_holds_a_token() {
    let gate = Lkauth::start(
        &["gate", "--bind", "127.0.0.1:0", "--access-log"],
        &[("LIVEKIT_KEYS", &keys())],
    );
    let alice = joiner("alice", "r1");
    let uri = format!("/rtc?room=r1&access_token={alice}");
    assert_eq!(check(&gate.base, &uri, None).await, StatusCode::OK);
    assert_eq!(
        check(&gate.base, "/rtc", Some(&alice)).await,
        StatusCode::OK
    );
    let bad = format!("{}x", &alice[..alice.len() - 1]);
    assert_eq!(
        check(&gate.base, &format!("/rtc?access_token={bad}"), None).await,
        StatusCode::UNAUTHORIZED
    );
    let unreadable = send(
        client()
            .get(format!("{}/auth", gate.base))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(unreadable.status, StatusCode::BAD_REQUEST);
    let ready = eventually(Duration::from_secs(5), || {
        let out = gate.stdout();
        async move {
            out.lines()
                .filter(|line| line.starts_with("gate auth"))
                .count()
                >= 4
        }
    })
    .await;
    let (out, err) = (gate.stdout(), gate.stderr());
    assert!(ready, "{out}");
    assert!(
        out.contains("/rtc?room=r1&access_token=[redacted]"),
        "{out}"
    );
    assert!(out.contains(r#"identity="alice" room="r1""#), "{out}");
    assert!(err.contains("a check was answered 400"), "{err}");
    for token in [&alice, &bad] {
        assert_no_leak("the gate's stdout", &out, token, &[SECRET]);
        assert_no_leak("the gate's stderr", &err, token, &[SECRET]);
    }
}

#[tokio::test]
async fn two_gates_on_one_redis_share_a_removal() {
    let redis = RedisServer::start();
    let url = redis.url();
    let env = [("LIVEKIT_KEYS", keys())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = [
        "gate",
        "--bind",
        "127.0.0.1:0",
        "--redis",
        &url,
        "--redis-prefix",
        "gate-test",
    ];
    let first = Lkauth::start(&args, &env);
    let second = Lkauth::start(&[&args[..], &["--grpc-bind", "127.0.0.1:0"]].concat(), &env);
    assert!(
        first.stdout().contains("Redis (--redis, prefix gate-test)"),
        "{}",
        first.stdout()
    );
    assert!(second.grpc.is_some());
    let bob = joiner("bob", "stage");
    assert_eq!(
        check(&second.base, "/rtc", Some(&bob)).await,
        StatusCode::OK
    );
    let removed = send(
        client()
            .post(format!(
                "{}/twirp/livekit.RoomService/RemoveParticipant",
                first.base
            ))
            .bearer_auth(admin("stage"))
            .json(&json!({"room": "stage", "identity": "bob"})),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let refused = eventually(Duration::from_secs(10), || {
        let (base, bob) = (second.base.clone(), bob.clone());
        async move { check(&base, "/rtc", Some(&bob)).await == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert!(refused, "the second gate refuses bob within 10 s");
    assert_eq!(
        check(&first.base, "/rtc", Some(&bob)).await,
        StatusCode::UNAUTHORIZED
    );
    drop((first, second));
}
