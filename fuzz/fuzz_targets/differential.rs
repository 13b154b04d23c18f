//! Differential: a valid token mutated by the fuzzer input; the crate and `jsonwebtoken` must
//! agree on accept/reject outside the documented divergence classes. The oracle and the classes
//! are the tests' own (`tests/support/oracle.rs`), included rather than copied.
//!
//! Input layout: the first byte picks the mode, the rest is the material.
//! - 0: the rest is the whole token text;
//! - 1: the rest is the payload JSON, signed as HS256 with the secret of its `iss`;
//! - 2: the rest is the header JSON, over a valid payload, signed likewise;
//! - 3: byte edits of a valid token: pairs (position, byte) from the rest.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/oracle.rs"]
mod oracle;

use oracle::{at_stable_second, judge, sign_for_iss, verifier, KEY_A};

fn valid_payload(now: u64) -> String {
    format!(
        r#"{{"iss":"{KEY_A}","sub":"alice","exp":{},"nbf":{},"video":{{"roomJoin":true,"room":"r"}}}}"#,
        now + 3600,
        now - 10
    )
}

const HEADER: &[u8] = br#"{"alg":"HS256","typ":"JWT"}"#;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let verifier = verifier();
    let (token, now, outcome) = at_stable_second(|now| {
        let token = match mode % 4 {
            0 => String::from_utf8_lossy(rest).into_owned(),
            1 => sign_for_iss(HEADER, rest),
            2 => sign_for_iss(rest, valid_payload(now).as_bytes()),
            _ => {
                let mut bytes = sign_for_iss(HEADER, valid_payload(now).as_bytes()).into_bytes();
                for pair in rest.chunks_exact(2) {
                    let at = usize::from(pair[0]) * bytes.len() / 256;
                    bytes[at] = pair[1];
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let outcome = judge(&verifier, &token, now);
        (token, now, outcome)
    });
    assert!(
        !outcome.is_failure(),
        "{outcome:?} at now={now} for token {token}"
    );
});
