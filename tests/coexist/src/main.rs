//! An application that uses `jsonwebtoken` 11 with the `aws_lc_rs` backend and adds
//! `tower-livekit-auth` next to it (issue 13, item 1).
//!
//! jsonwebtoken 11 picks one process-wide crypto backend from its cargo features. When this
//! crate turned on `rust_crypto` while the application had `aws_lc_rs`, both were on, and every
//! jsonwebtoken sign and verify in the process panicked ("Could not automatically determine the
//! process-level CryptoProvider"), the crate's minting included. Each check below runs on its
//! own, a panic is caught and counted as a failure, and the process exits 0 only when all pass.
//!
//! Run: `cargo run --locked --manifest-path tests/coexist/Cargo.toml`
//! (or `scripts/check_dependencies.sh`, which also checks the crate's dependency tree).

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tower_livekit_auth::{AccessToken, KeyRing, Verifier, VideoGrant};

const API_KEY: &str = "APIcoexist0001";
const LIVEKIT_SECRET: &str = "coexistsecretencodedinbase62extendto32bytes";
/// The application's own HS256 secret, for its own tokens.
const APP_SECRET: &[u8] = b"the application's own signing secret, 32+ bytes";

/// The application's own claims, signed and verified with jsonwebtoken.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct AppClaims {
    sub: String,
    exp: u64,
}

/// The part of a LiveKit token the application reads with jsonwebtoken.
#[derive(Debug, Deserialize)]
struct LiveKitClaims {
    iss: String,
    sub: String,
    video: LiveKitVideo,
}

#[derive(Debug, Deserialize)]
struct LiveKitVideo {
    room: String,
    #[serde(rename = "roomJoin")]
    room_join: bool,
}

type Check = fn() -> Result<(), String>;

fn main() -> ExitCode {
    let checks: [(&str, Check); 4] = [
        (
            "the crate mints a token and its Verifier accepts it",
            crate_mints_and_verifies,
        ),
        (
            "jsonwebtoken (aws_lc_rs) signs and verifies the application's own token",
            jsonwebtoken_signs_and_verifies,
        ),
        (
            "jsonwebtoken (aws_lc_rs) verifies the token the crate minted",
            jsonwebtoken_verifies_crate_token,
        ),
        (
            "the crate's Verifier accepts a LiveKit token signed by jsonwebtoken (aws_lc_rs)",
            crate_verifies_jsonwebtoken_token,
        ),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, check) in checks {
        // The default panic hook still prints the panic message to stderr.
        match panic::catch_unwind(AssertUnwindSafe(check)) {
            Ok(Ok(())) => {
                passed += 1;
                eprintln!("ok: {name}");
            }
            Ok(Err(why)) => {
                failed += 1;
                eprintln!("FAILED: {name}: {why}");
            }
            Err(_) => {
                failed += 1;
                eprintln!("PANICKED: {name} (see the panic message above)");
            }
        }
    }
    eprintln!("coexist: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn verifier() -> Result<Verifier, String> {
    let keys = KeyRing::new()
        .with_key(API_KEY, LIVEKIT_SECRET)
        .map_err(|e| format!("key ring: {e}"))?;
    Ok(Verifier::new(keys))
}

fn crate_token() -> Result<String, String> {
    AccessToken::new(API_KEY, LIVEKIT_SECRET)
        .with_identity("alice")
        .with_video_grant(VideoGrant::join("coexist-room"))
        .to_jwt()
        .map_err(|e| format!("minting: {e}"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn crate_mints_and_verifies() -> Result<(), String> {
    let token = crate_token()?;
    let claims = verifier()?
        .verify(&token)
        .map_err(|e| format!("verifying: {e}"))?;
    if claims.identity() != "alice" || claims.room() != "coexist-room" || !claims.can_join() {
        return Err(format!("wrong claims back: {claims:?}"));
    }
    Ok(())
}

fn jsonwebtoken_signs_and_verifies() -> Result<(), String> {
    let mine = AppClaims {
        sub: "app-user".into(),
        exp: unix_now() + 600,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &mine,
        &EncodingKey::from_secret(APP_SECRET),
    )
    .map_err(|e| format!("encode: {e}"))?;
    let back = jsonwebtoken::decode::<AppClaims>(
        &token,
        &DecodingKey::from_secret(APP_SECRET),
        &Validation::new(Algorithm::HS256),
    )
    .map_err(|e| format!("decode: {e}"))?;
    if back.claims != mine {
        return Err(format!("decoded {:?}, signed {mine:?}", back.claims));
    }
    // A token signed with another secret is refused: the backend really checks the MAC.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &mine,
        &EncodingKey::from_secret(b"another secret of at least 32 bytes!!"),
    )
    .map_err(|e| format!("encode: {e}"))?;
    let refused = jsonwebtoken::decode::<AppClaims>(
        &forged,
        &DecodingKey::from_secret(APP_SECRET),
        &Validation::new(Algorithm::HS256),
    );
    if refused.is_ok() {
        return Err("a token with a wrong signature was accepted".into());
    }
    Ok(())
}

fn jsonwebtoken_verifies_crate_token() -> Result<(), String> {
    let token = crate_token()?;
    // LiveKit tokens have no `aud`; jsonwebtoken checks `exp` (and `nbf` when asked).
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_nbf = true;
    let back = jsonwebtoken::decode::<LiveKitClaims>(
        &token,
        &DecodingKey::from_secret(LIVEKIT_SECRET.as_bytes()),
        &validation,
    )
    .map_err(|e| format!("decode: {e}"))?;
    let c = back.claims;
    if c.iss != API_KEY || c.sub != "alice" || c.video.room != "coexist-room" || !c.video.room_join
    {
        return Err(format!("wrong claims back: {c:?}"));
    }
    Ok(())
}

fn crate_verifies_jsonwebtoken_token() -> Result<(), String> {
    let now = unix_now();
    let claims = serde_json::json!({
        "iss": API_KEY,
        "sub": "bob",
        "nbf": now,
        "exp": now + 600,
        "video": { "roomJoin": true, "room": "coexist-room" },
    });
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(LIVEKIT_SECRET.as_bytes()),
    )
    .map_err(|e| format!("encode: {e}"))?;
    let back = verifier()?
        .verify(&token)
        .map_err(|e| format!("verifying: {e}"))?;
    if back.identity() != "bob" || back.room() != "coexist-room" || !back.can_join() {
        return Err(format!("wrong claims back: {back:?}"));
    }
    Ok(())
}
