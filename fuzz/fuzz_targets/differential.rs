//! Differential: a valid token mutated by the fuzzer input; the crate and `jsonwebtoken` must
//! agree on accept/reject outside the documented divergence classes. The oracle and the classes
//! are the tests' own (`tests/support/oracle.rs`), included rather than copied.
//!
//! Input layout: see `oracle::token_from_fuzz_input`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/oracle.rs"]
mod oracle;

use oracle::{at_stable_second, judge, token_from_fuzz_input, verifier};

fuzz_target!(|data: &[u8]| {
    let verifier = verifier();
    let Some((token, now, outcome)) = at_stable_second(|now| {
        let token = token_from_fuzz_input(data, now)?;
        let outcome = judge(&verifier, &token, now);
        Some((token, now, outcome))
    }) else {
        return;
    };
    assert!(
        !outcome.is_failure(),
        "{outcome:?} at now={now} for token {token}"
    );
});
