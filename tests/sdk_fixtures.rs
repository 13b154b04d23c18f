//! Tokens minted by the official LiveKit SDKs (Node `livekit-server-sdk`, Python `livekit-api`)
//! and hand-built Go-shaped and quirk tokens: each verdict, error kind and resolved permission
//! must be the one recorded next to it.

mod support;

use support::fixtures::{key_ring, resolved, tokens};
use tower_livekit_auth::Verifier;

#[test]
fn every_fixture_gets_its_recorded_verdict_and_permissions() {
    let fixtures = tokens();
    let verifier = Verifier::new(key_ring(&fixtures.keys));
    let mut failures = Vec::new();
    for case in &fixtures.cases {
        match (verifier.verify_at(&case.token, case.now()), case.accepted()) {
            (Ok(claims), true) => {
                let got = resolved(&claims);
                if Some(&got) != case.claims.as_ref() {
                    failures.push(format!(
                        "{}: claims differ\n  got      {got}\n  expected {}",
                        case.name,
                        case.claims
                            .as_ref()
                            .map_or("null".into(), |c| c.to_string())
                    ));
                }
            }
            (Err(err), false) => {
                if case.error.as_deref() != Some(err.kind().as_str()) {
                    failures.push(format!(
                        "{}: rejected as {} but expected {:?}",
                        case.name,
                        err.kind(),
                        case.error
                    ));
                }
            }
            (Ok(_), false) => failures.push(format!(
                "{}: accepted, expected {:?}",
                case.name, case.error
            )),
            (Err(err), true) => failures.push(format!("{}: rejected ({err})", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        fixtures.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn fixtures_cover_both_sdks_and_the_hand_built_shapes() {
    let fixtures = tokens();
    for origin in ["node", "python", "go-shaped", "quirk"] {
        let accepted = fixtures
            .cases
            .iter()
            .filter(|c| c.origin == origin && c.accepted())
            .count();
        assert!(accepted >= 3, "{origin}: only {accepted} accepted fixtures");
    }
    assert!(fixtures.cases.iter().filter(|c| !c.accepted()).count() >= 20);
}
