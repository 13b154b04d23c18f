//! What a new user's `main() -> Result<(), Box<dyn Error>>` prints when the crate refuses
//! something: std prints `Error: ` and the error's `Debug`, so every public error's `Debug`
//! carries its message, which says what to do next. Each case runs as a child process of this
//! test binary that returns the error from a real `Termination::report`, and the test reads
//! what the child printed.

use std::error::Error;
use std::process::{Command, Termination};
use std::time::{Duration, UNIX_EPOCH};

use http::HeaderMap;
use tower_livekit_auth::webhook::WebhookVerifier;
use tower_livekit_auth::{AccessToken, KeyRing, Verifier, VideoGrant};

const CASE: &str = "TOWER_LIVEKIT_AUTH_MAIN_CASE";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";

/// The environment of a case: these variables and no others.
fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }
}

/// The body of the child's `main`.
fn main_of(case: &str) -> Result<(), Box<dyn Error>> {
    match case {
        "no_keys" => drop(KeyRing::new().with_env_from(env(&[]))?),
        "half_a_pair" => drop(KeyRing::new().with_env_from(env(&[("LIVEKIT_API_KEY", "APIk")]))?),
        "dev_key" => drop(KeyRing::new().with_env_from(env(&[
            ("LIVEKIT_API_KEY", "devkey"),
            ("LIVEKIT_API_SECRET", "secret"),
        ]))?),
        "bad_yaml" => drop(KeyRing::from_yaml("- APIk\n- secret\n")?),
        "no_key_file" => drop(KeyRing::from_file("/nonexistent/livekit-keys.yaml")?),
        "expired" => {
            let keys = KeyRing::new().with_key("APIk", SECRET)?;
            let token = AccessToken::new("APIk", SECRET)
                .with_ttl(Duration::from_secs(60))
                .to_jwt_at(UNIX_EPOCH + Duration::from_secs(1_700_000_000))?;
            drop(Verifier::new(keys).verify(&token)?);
        }
        "mint" => drop(
            AccessToken::new("APIk", SECRET)
                .with_video_grant(VideoGrant::join("room"))
                .to_jwt()?,
        ),
        "webhook" => {
            let verifier = Verifier::new(KeyRing::new().with_key("APIk", SECRET)?);
            drop(WebhookVerifier::new(verifier).verify(&HeaderMap::new(), b"{}")?);
        }
        other => panic!("no case {other}"),
    }
    Ok(())
}

/// What the child printed on stderr for `case`, run as `main` would be.
fn printed_by_main(case: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let output = Command::new(exe)
        .args(["--exact", "main_prints_what_to_do_next", "--nocapture"])
        .env(CASE, case)
        .output()
        .expect("the child runs");
    assert!(!output.status.success(), "{case}: the child's main failed");
    String::from_utf8(output.stderr).expect("UTF-8")
}

#[test]
fn main_prints_what_to_do_next() {
    if let Ok(case) = std::env::var(CASE) {
        // The child: report as std's `main` does (`Error: {err:?}` on stderr), then exit 1.
        let _ = main_of(&case).report();
        std::process::exit(1);
    }
    for (case, expected) in [
        (
            "no_keys",
            &[
                "Error: KeyError { kind: MissingEnv",
                "set LIVEKIT_KEYS to `key: secret` lines, or LIVEKIT_API_KEY and LIVEKIT_API_SECRET",
            ][..],
        ),
        (
            "half_a_pair",
            &[
                "Error: KeyError { kind: IncompleteEnv",
                "only one of LIVEKIT_API_KEY and LIVEKIT_API_SECRET is set",
            ],
        ),
        (
            "dev_key",
            &[
                "Error: KeyError { kind: WeakSecret, api_key: \"devkey\"",
                "KeyRing::allowing_weak_secrets() for a development key such as devkey/secret",
            ],
        ),
        (
            "bad_yaml",
            &[
                "Error: KeyError { kind: InvalidYaml",
                "`key: secret`, one pair per line",
            ],
        ),
        (
            "no_key_file",
            &[
                "Error: KeyError { kind: Io",
                "cannot read key file /nonexistent/livekit-keys.yaml",
                "source: Os {",
                "NotFound",
            ],
        ),
        (
            "expired",
            &[
                "Error: VerifyError { kind: Expired",
                "token has expired; fetch a new one",
            ],
        ),
        (
            "mint",
            &[
                "Error: MintError { kind: MissingIdentity",
                "call with_identity()",
            ],
        ),
        (
            "webhook",
            &[
                "Error: WebhookError { kind: MissingToken",
                "no Authorization header with LiveKit's token",
            ],
        ),
    ] {
        let printed = printed_by_main(case);
        for words in expected {
            assert!(printed.contains(words), "{case}: {words:?} not in {printed}");
        }
        assert!(!printed.contains("detail: None"), "{case}: {printed}");
        assert!(!printed.contains(SECRET), "{case}: {printed}");
    }
}
