//! `lkauth token` as a user runs it: the real binary, with an environment controlled case by
//! case (`env_clear()`, then only what the case sets), its exit status, stdout and stderr.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use tower_livekit_auth::{KeyRing, Verifier};

const KEY: &str = "APIclitest01";
const SECRET: &str = "cliTestSecret0123456789abcdefghijklmnopqr";

/// `lkauth ARGS` with exactly `env` in its environment, `stdin` on its standard input.
fn lkauth_with(args: &[&str], env: Env<'_>, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lkauth"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lkauth starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("lkauth ends")
}

/// An environment: variable and value pairs.
type Env<'a> = &'a [(&'a str, &'a str)];

fn lkauth(args: &[&str], env: Env<'_>) -> Output {
    lkauth_with(args, env, "")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn status(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// The token `create` printed, verified with `keys`: its claims.
fn created(output: &Output, keys: KeyRing) -> tower_livekit_auth::Claims {
    assert_eq!(status(output), 0, "stderr: {}", stderr(output));
    let text = stdout(output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "only the token on stdout: {text}");
    Verifier::new(keys)
        .verify(lines[0])
        .expect("the token verifies")
}

fn keys() -> KeyRing {
    KeyRing::new().with_key(KEY, SECRET).expect("strong")
}

#[test]
fn help_exits_0_and_names_the_environment_and_the_dev_key_fallback() {
    for args in [
        &["token", "--help"][..],
        &["token", "create", "--help"],
        &["token", "verify", "--help"],
        &["token", "bench", "--help"],
        &["token", "help", "create"],
    ] {
        let output = lkauth(args, &[]);
        assert_eq!(status(&output), 0, "{args:?}: {}", stderr(&output));
        let help = stdout(&output);
        for name in [
            "LIVEKIT_KEYS",
            "LIVEKIT_API_KEY",
            "LIVEKIT_API_SECRET",
            "devkey",
            "--allow-weak-secret",
        ] {
            assert!(help.contains(name), "{args:?} does not name {name}: {help}");
        }
        assert!(!help.contains("needs a value"), "{help}");
    }
    let output = lkauth(&["token", "create", "--help"], &[]);
    for flag in ["--identity", "--room", "--join", "--valid-for", "--api-key"] {
        assert!(stdout(&output).contains(flag), "{flag}");
    }
}

#[test]
fn a_mistyped_switch_gets_clap_s_error_and_its_suggestion() {
    let output = lkauth(&["token", "create", "--jion", "--room", "r"], &[]);
    assert_eq!(status(&output), 2);
    let err = stderr(&output);
    assert!(err.contains("unexpected argument '--jion'"), "{err}");
    assert!(err.contains("--join"), "the suggestion: {err}");
    assert!(!err.contains("needs a value"), "{err}");
    assert!(stdout(&output).is_empty(), "no token");
    let output = lkauth(&["token", "create", "--room"], &[]);
    assert_eq!(status(&output), 2);
    assert!(stderr(&output).contains("a value is required for '--room"));
    let output = lkauth(&["token", "mint"], &[]);
    assert_eq!(status(&output), 2);
    assert!(stderr(&output).contains("unrecognized subcommand 'mint'"));
}

#[test]
fn half_a_key_pair_in_the_environment_is_refused_like_the_server_does() {
    for half in [[("LIVEKIT_API_KEY", KEY)], [("LIVEKIT_API_SECRET", SECRET)]] {
        for command in [
            &["token", "create", "--identity", "a"][..],
            &["token", "verify", "x.y.z"],
        ] {
            let output = lkauth(command, &half);
            assert_eq!(status(&output), 1, "{half:?} {command:?}");
            let err = stderr(&output);
            assert!(
                err.contains("only one of LIVEKIT_API_KEY and LIVEKIT_API_SECRET is set"),
                "{err}"
            );
            assert!(!err.contains("devkey"), "no dev-key fallback: {err}");
            assert!(!err.contains(SECRET), "{err}");
            assert!(stdout(&output).is_empty(), "no token");
        }
    }
}

#[test]
fn half_a_key_pair_on_the_command_line_is_an_error() {
    for args in [
        &["token", "create", "--api-key", KEY][..],
        &["token", "create", "--api-secret", SECRET],
        &["token", "verify", "--api-key", KEY, "x.y.z"],
    ] {
        let output = lkauth(
            args,
            &[("LIVEKIT_API_KEY", KEY), ("LIVEKIT_API_SECRET", SECRET)],
        );
        assert_eq!(status(&output), 2, "{args:?}");
        let err = stderr(&output);
        assert!(
            err.contains("the following required arguments were not provided"),
            "{err}"
        );
        assert!(
            err.contains("--api-secret") && err.contains("--api-key"),
            "{err}"
        );
        assert!(stdout(&output).is_empty());
    }
}

#[test]
fn a_weak_secret_is_refused_with_the_library_s_message_unless_allowed() {
    let weak = "s3cr3";
    let cases: [(&[&str], Env<'_>); 3] = [
        (&["--api-key", "APIweak", "--api-secret", weak], &[]),
        (
            &[],
            &[("LIVEKIT_API_KEY", "APIweak"), ("LIVEKIT_API_SECRET", weak)],
        ),
        (&[], &[("LIVEKIT_KEYS", "APIweak: s3cr3")]),
    ];
    for (flags, env) in cases {
        let mut args = vec!["token", "create", "--identity", "a"];
        args.extend_from_slice(flags);
        let output = lkauth(&args, env);
        assert_eq!(status(&output), 1, "{flags:?} {env:?}");
        let err = stderr(&output);
        // The library's own words (tower_livekit_auth::KeyError), then how to accept it here.
        let library = tower_livekit_auth::KeyRing::new()
            .with_key("APIweak", weak)
            .expect_err("weak")
            .to_string();
        assert!(err.contains(&library), "{err}");
        assert!(err.contains("--allow-weak-secret"), "{err}");
        assert!(!err.contains(weak), "the secret is not shown: {err}");
        assert!(stdout(&output).is_empty(), "no token");

        args.push("--allow-weak-secret");
        let output = lkauth(&args, env);
        let allowed = KeyRing::allowing_weak_secrets()
            .with_key("APIweak", weak)
            .expect("allowed");
        assert_eq!(created(&output, allowed).identity(), "a");
    }
}

#[test]
fn with_no_keys_at_all_it_mints_with_the_dev_key_and_says_so() {
    let output = lkauth(
        &[
            "token",
            "create",
            "--identity",
            "a",
            "--room",
            "r",
            "--join",
        ],
        &[],
    );
    let dev = KeyRing::allowing_weak_secrets()
        .with_key("devkey", "secret")
        .expect("dev key");
    let claims = created(&output, dev);
    assert_eq!(claims.api_key(), "devkey");
    let err = stderr(&output);
    assert!(
        err.contains("development key") && err.contains("devkey"),
        "{err}"
    );
}

#[test]
fn create_mints_what_the_flags_say_with_the_configured_key() {
    let env = [("LIVEKIT_API_KEY", KEY), ("LIVEKIT_API_SECRET", SECRET)];
    let output = lkauth(
        &[
            "token",
            "create",
            "--identity",
            "carol",
            "--name",
            "Carol",
            "--room",
            "ops",
            "--join",
            "--allow-source",
            "camera",
            "--metadata",
            r#"{"role":"host"}"#,
            "--attribute",
            "team=blue",
            "--agent",
            "support-agent",
            "--valid-for",
            "10m",
        ],
        &env,
    );
    let claims = created(&output, keys());
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    assert_eq!(
        (
            claims.api_key(),
            claims.identity(),
            claims.name(),
            claims.room()
        ),
        (KEY, "carol", "Carol", "ops")
    );
    assert!(claims.can_publish_source(tower_livekit_auth::TrackSource::Camera));
    assert!(!claims.can_publish_source(tower_livekit_auth::TrackSource::Microphone));
    assert_eq!(claims.attributes().get("team"), Some("blue"));
    let agents = &claims.room_config().expect("roomConfig").agents;
    assert_eq!(agents[0].agent_name.as_deref(), Some("support-agent"));
    let ttl = claims.expires_at().expect("exp") - claims.not_before().expect("nbf");
    assert_eq!(ttl, 600, "--valid-for 10m");

    // LIVEKIT_KEYS as the server reads it, and the flags over the environment.
    let output = lkauth(
        &["token", "create", "--identity", "d"],
        &[("LIVEKIT_KEYS", &format!("{KEY}: {SECRET}"))],
    );
    assert_eq!(created(&output, keys()).identity(), "d");
    let other = "otherTestSecret0123456789abcdefghijklmnop";
    let output = lkauth(
        &[
            "token",
            "create",
            "--identity",
            "e",
            "--api-key",
            "APIother",
            "--api-secret",
            other,
        ],
        &env,
    );
    let ring = KeyRing::new().with_key("APIother", other).expect("strong");
    assert_eq!(created(&output, ring).api_key(), "APIother");
}

#[test]
fn verify_shows_the_claims_or_why_it_refuses_never_the_token() {
    let env = [("LIVEKIT_API_KEY", KEY), ("LIVEKIT_API_SECRET", SECRET)];
    let token = stdout(&lkauth(
        &[
            "token",
            "create",
            "--identity",
            "v",
            "--room",
            "r",
            "--join",
        ],
        &env,
    ))
    .trim()
    .to_owned();
    let output = lkauth(&["token", "verify", &token], &env);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(json["identity"], "v");
    // From stdin, keeping it out of the shell's history.
    let output = lkauth_with(&["token", "verify"], &env, &format!("{token}\n"));
    assert_eq!(status(&output), 0, "{}", stderr(&output));

    let forged = format!("{}AAAA", &token[..token.len() - 4]);
    let other = [
        ("LIVEKIT_API_KEY", KEY),
        (
            "LIVEKIT_API_SECRET",
            "anotherSecret0123456789abcdefghijklmnopq",
        ),
    ];
    for (token, env) in [(forged.as_str(), &env), (token.as_str(), &other)] {
        let output = lkauth(&["token", "verify", token], env);
        assert_eq!(status(&output), 1);
        let err = stderr(&output);
        assert!(err.contains("refused"), "{err}");
        for segment in token.split('.') {
            assert!(!err.contains(segment), "the token in: {err}");
        }
        assert!(!err.contains(SECRET) && stdout(&output).is_empty(), "{err}");
    }
}

#[test]
fn decode_says_it_did_not_verify() {
    let env = [("LIVEKIT_API_KEY", KEY), ("LIVEKIT_API_SECRET", SECRET)];
    let token = stdout(&lkauth(&["token", "create", "--identity", "x"], &env))
        .trim()
        .to_owned();
    let output = lkauth(&["token", "decode", &token], &[]);
    assert_eq!(status(&output), 0);
    assert!(stderr(&output).contains("NOT VERIFIED"));
    assert!(stdout(&output).contains("\"identity\": \"x\""));
    let output = lkauth(&["token", "decode", "not-a-token"], &[]);
    assert_eq!(status(&output), 1);
}

#[test]
fn bench_in_a_debug_build_says_so_loudly() {
    let output = lkauth(
        &["token", "bench", "--threads", "1", "--seconds", "0.1"],
        &[],
    );
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    if cfg!(debug_assertions) {
        assert!(
            stderr(&output).contains("DEBUG build"),
            "{}",
            stderr(&output)
        );
        assert!(stdout(&output)
            .lines()
            .filter(|line| line.contains("verifications/s"))
            .all(|line| line.contains("DEBUG build")));
    } else {
        assert!(!stderr(&output).contains("DEBUG"));
    }
    let output = lkauth(&["token", "bench", "--seconds", "0"], &[]);
    assert_eq!(status(&output), 2, "a bounded number of seconds");
}
