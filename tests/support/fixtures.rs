//! The interop fixtures in `tests/fixtures/`, made by `interop/gen_fixtures.sh` with the
//! official Node and Python SDKs and by hand (Go-shaped and quirk tokens).

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::Value;
use tower_livekit_auth::{Claims, KeyRing};

#[derive(Debug, Deserialize)]
pub struct TokenFixtures {
    pub keys: BTreeMap<String, String>,
    pub cases: Vec<TokenCase>,
}

#[derive(Debug, Deserialize)]
pub struct TokenCase {
    pub name: String,
    pub origin: String,
    pub token: String,
    pub now: u64,
    pub expect: String,
    pub error: Option<String>,
    pub claims: Option<Value>,
}

impl TokenCase {
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.now)
    }

    pub fn accepted(&self) -> bool {
        self.expect == "accept"
    }
}

/// `tests/fixtures/webhooks.json`: webhook requests signed by the Node SDK, and altered copies.
#[derive(Debug, Deserialize)]
pub struct WebhookFixtures {
    pub keys: BTreeMap<String, String>,
    pub cases: Vec<WebhookCase>,
}

#[derive(Debug, Deserialize)]
pub struct WebhookCase {
    pub name: String,
    pub body: String,
    pub authorization: String,
    pub now: u64,
    pub expect: String,
    pub error: Option<String>,
}

pub fn webhooks() -> WebhookFixtures {
    serde_json::from_str(include_str!("../fixtures/webhooks.json")).expect("webhooks.json parses")
}

pub fn tokens() -> TokenFixtures {
    let text = include_str!("../fixtures/tokens.json");
    serde_json::from_str(text).expect("tests/fixtures/tokens.json parses")
}

pub fn key_ring(keys: &BTreeMap<String, String>) -> KeyRing {
    keys.iter().fold(KeyRing::new(), |ring, (key, secret)| {
        ring.with_key(key, secret).expect("fixture keys are strong")
    })
}

/// The claims in the fixtures' expectation format, from the crate's accessors: identity,
/// profile, API key, expiry, room, every permission after the server's defaults, SIP grants
/// and `roomConfig`'s agents. (`lkauth serve`'s `/whoami` answers the same fields; its tests
/// hold its answer to the same fixtures through [`resolved_from_whoami`].)
pub fn resolved(claims: &Claims) -> Value {
    let whoami = serde_json::json!({
        "identity": claims.identity(),
        "name": claims.name(),
        "kind": claims.kind().as_str(),
        "metadata": claims.metadata(),
        "attributes": claims.attributes(),
        "apiKey": claims.api_key(),
        "expiresAt": claims.expires_at(),
        "room": claims.room(),
        "permissions": claims.permissions(),
        "sip": {"admin": claims.is_sip_admin(), "call": claims.can_make_sip_calls()},
        "roomConfig": claims.room_config(),
    });
    resolved_from_whoami(&whoami)
}

/// The demo server's `/whoami` JSON in the fixtures' expectation format (`roomConfig` reduced
/// to its agents' names).
pub fn resolved_from_whoami(whoami: &Value) -> Value {
    let mut value = whoami.clone();
    let agents: Vec<Value> = whoami["roomConfig"]["agents"]
        .as_array()
        .map(|agents| agents.iter().map(|a| a["agentName"].clone()).collect())
        .unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("roomConfig");
        object.insert("roomConfigAgents".into(), Value::Array(agents));
    }
    value
}
