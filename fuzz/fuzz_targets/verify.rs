//! Arbitrary bytes → `Verifier::verify_at`: must never panic, the error text never repeats
//! the token's segments, and a token that verifies has only base64url characters and dots (the
//! middleware relies on it to check a header token's characters only when it fails).
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use tower_livekit_auth::{KeyRing, Verifier};

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";

fn is_token_material(segment: &str) -> bool {
    segment.len() > 20
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fuzz_target!(|data: &[u8]| {
    let ring = KeyRing::new().with_key(KEY, SECRET).expect("strong secret");
    // The test vectors' time, and no length limit so the parser sees every input.
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_100);
    let token = String::from_utf8_lossy(data);
    for verifier in [
        Verifier::new(ring.clone()),
        Verifier::new(ring.clone()).with_max_token_len(usize::MAX),
    ] {
        let result = verifier.verify_at(&token, now);
        if result.is_ok() {
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
                "a verified token has a character outside base64url and the dots"
            );
        }
        if let Err(err) = result {
            let text = format!("{err} {err:?}");
            assert!(!text.contains(SECRET));
            // Token material: a base64url segment longer than any word of the error texts
            // (the longest is `UnsupportedAlgorithm`, 20). A segment of prose is not checked:
            // the fuzzer learns to copy the messages themselves into the token.
            for segment in token.split('.').filter(|s| is_token_material(s)) {
                assert!(!text.contains(segment), "error text repeats the token");
            }
        }
    }
});
