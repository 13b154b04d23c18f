//! The token set every verifier is measured on.
//!
//! Tokens are minted here, byte for byte, rather than with any verifier's own minting code, so
//! that no implementation is measured on its own output format. Times are fixed: `nbf` is
//! 2023-11-14 and `exp` is 2100-01-01, so the verifiers that can only read the system clock
//! (`jsonwebtoken`, `livekit-api`) accept them today, and the crate's `verify_at` can still be
//! handed any instant.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The API key every token of the accepted set is signed with.
pub const API_KEY: &str = "APIxT5bQ9kLmN3p";
/// Its secret: 43 characters, like the secrets LiveKit generates.
pub const API_SECRET: &str = "mZk3vQ8rT2wYb6nJ4pL9sD1fG7hK5xC0aE2uR8iO3tV";
/// A second key in the ring, so the key lookup is not a one-entry map.
pub const OTHER_KEY: &str = "APIotherKey0001";
/// Its secret.
pub const OTHER_SECRET: &str = "Q1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKkLlZzXxC";
/// `nbf` of every token.
pub const NBF: u64 = 1_700_000_000;
/// `exp` of the accepted tokens (2100-01-01).
pub const EXP: u64 = 4_102_444_800;
/// `exp` of the expired token: one hour after `nbf`.
pub const EXP_EXPIRED: u64 = NBF + 3600;

/// `{"alg":"HS256","typ":"JWT"}`: the Go, Python and `jsonwebtoken` header.
pub const HEADER_GO: &str = crate::reference::KNOWN_HEADERS[0];
/// `{"alg":"HS256"}`: the Node SDK (`jose`) header.
pub const HEADER_NODE: &str = crate::reference::KNOWN_HEADERS[1];

/// An instant at which every accepted token is valid (for `verify_at`).
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NBF + 86_400)
}

/// Signs `header.payload` with `secret`.
pub fn sign(header_b64: &str, payload: &serde_json::Value, secret: &str) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).expect("json"));
    let signing_input = format!("{header_b64}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

const FIRST: [&str; 8] = [
    "Alice", "Bogdan", "Chiamaka", "Diego", "Eun-ji", "Farah", "Gustav", "Hiroshi",
];
const LAST: [&str; 4] = ["Okafor", "Lindqvist", "Ramírez", "Nakamura"];
/// The rooms of the join tokens.
pub const ROOMS: [&str; 4] = [
    "standup-1103",
    "support-eu-west",
    "town-hall-q4",
    "pair-programming-7f3a",
];
const ROLES: [&str; 3] = ["speaker", "listener", "moderator"];

/// A join token payload as LiveKit SDKs write it: identity, name, metadata (JSON text, so it
/// has escaped quotes), attributes and a video grant with `canPublishSources`.
pub fn join_payload(i: usize, exp: u64) -> serde_json::Value {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / 2) % LAST.len()];
    let metadata = json!({
        "lang": if i.is_multiple_of(3) { "de" } else { "en" },
        "plan": "pro",
    })
    .to_string();
    json!({
        "sub": format!("user-{:06}", 4242 + 101 * i),
        "iss": API_KEY,
        "nbf": NBF,
        "exp": exp,
        "name": format!("{first} {last}"),
        "metadata": metadata,
        "attributes": {
            "role": ROLES[i % ROLES.len()],
            "team": format!("team-{}", i % 5),
        },
        "video": {
            "room": ROOMS[i % ROOMS.len()],
            "roomJoin": true,
            "canPublishSources": ["camera", "microphone"],
        },
    })
}

/// An admin token (server-side API use): no identity, room admin grants only.
pub fn admin_payload(i: usize) -> serde_json::Value {
    json!({
        "iss": API_KEY,
        "nbf": NBF,
        "exp": EXP,
        "video": {
            "roomCreate": true,
            "roomList": true,
            "roomRecord": true,
            "roomAdmin": true,
            "room": ROOMS[i % ROOMS.len()],
        },
    })
}

/// The accepted token set: 12 Go-style join tokens, 2 Node-style (`{"alg":"HS256"}` header)
/// join tokens and 2 admin tokens, all signed by [`API_KEY`].
pub fn accepted() -> Vec<String> {
    let mut tokens: Vec<String> = (0..12)
        .map(|i| sign(HEADER_GO, &join_payload(i, EXP), API_SECRET))
        .collect();
    tokens.extend((12..14).map(|i| sign(HEADER_NODE, &join_payload(i, EXP), API_SECRET)));
    tokens.extend((0..2).map(|i| sign(HEADER_GO, &admin_payload(i), API_SECRET)));
    tokens
}

/// The median length of the join tokens of [`accepted`] (the "typical token").
pub fn typical_len(tokens: &[String]) -> usize {
    let mut lens: Vec<usize> = tokens.iter().map(String::len).collect();
    lens.sort_unstable();
    lens[lens.len() / 2]
}

/// A join token like those of the set for `room` and `identity` (a participant of the state
/// benches' stores), issued at [`NBF`].
pub fn participant_token((room, identity): (&str, String)) -> String {
    let mut payload = join_payload(0, EXP);
    payload["sub"] = json!(identity);
    payload["video"]["room"] = json!(room);
    sign(HEADER_GO, &payload, API_SECRET)
}

/// The decoded payload of `token`, as JSON text.
pub fn payload_json(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("three segments");
    String::from_utf8(URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("UTF-8")
}

/// One join token of the set with its last signature character changed.
pub fn bad_signature() -> String {
    let mut token = sign(HEADER_GO, &join_payload(0, EXP), API_SECRET);
    let last = token.pop().expect("non-empty");
    // Change the last character to another that still decodes to 32 bytes (its low bits are 0).
    token.push(if last == 'A' { 'E' } else { 'A' });
    token
}

/// A join token, correctly signed, whose `exp` is [`EXP_EXPIRED`].
pub fn expired() -> String {
    sign(HEADER_GO, &join_payload(0, EXP_EXPIRED), API_SECRET)
}

/// A join token signed by a key the verifier does not know.
pub fn unknown_key() -> String {
    let mut payload = join_payload(0, EXP);
    payload["iss"] = json!("APIunknownKey99");
    sign(
        HEADER_GO,
        &payload,
        "some-secret-the-verifier-never-saw-0123456",
    )
}
