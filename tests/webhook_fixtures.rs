//! Webhook requests signed by the official Node `livekit-server-sdk` (and altered copies), from
//! `tests/fixtures/webhooks.json` (made by `interop/gen_fixtures.sh`).

mod support;

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use support::fixtures::{key_ring, webhooks};
use tower_livekit_auth::webhook::{WebhookErrorKind, WebhookVerifier};
use tower_livekit_auth::Verifier;

#[test]
fn node_signed_webhooks_get_their_recorded_verdicts() {
    let fixtures = webhooks();
    let webhooks = WebhookVerifier::new(Verifier::new(key_ring(&fixtures.keys)));
    assert!(
        fixtures
            .cases
            .iter()
            .filter(|c| c.expect == "accept")
            .count()
            >= 2
    );
    for case in &fixtures.cases {
        let mut headers = HeaderMap::new();
        if !case.authorization.is_empty() {
            headers.insert(
                "authorization",
                HeaderValue::from_str(&case.authorization).expect("ascii"),
            );
        }
        let now = UNIX_EPOCH + Duration::from_secs(case.now);
        match webhooks.verify_at(&headers, case.body.as_bytes(), now) {
            Ok(claims) => {
                assert_eq!(case.expect, "accept", "{}: accepted", case.name);
                assert!(claims.sha256().is_some());
            }
            Err(err) => {
                assert_eq!(case.expect, "reject", "{}: refused ({err})", case.name);
                let name = match err.kind() {
                    WebhookErrorKind::InvalidToken => err.verify_error().map(|e| e.kind().as_str()),
                    kind => Some(kind.as_str()),
                };
                assert_eq!(name, case.error.as_deref(), "{}", case.name);
                assert!(
                    case.authorization.is_empty() || !err.to_string().contains(&case.authorization)
                );
            }
        }
    }
}
