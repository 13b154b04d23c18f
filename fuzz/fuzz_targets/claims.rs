//! Arbitrary bytes → `serde_json::from_slice::<Claims>`; when that succeeds, serializing and
//! parsing again gives equal claims, and serializing is idempotent. The same bytes as a
//! token's payload read by the verifier's own parser (`decode_unverified`, which unescapes
//! `name` and `metadata` itself) give the same answer and the same claims.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use tower_livekit_auth::verify::dangerous::decode_unverified;
use tower_livekit_auth::Claims;

fuzz_target!(|data: &[u8]| {
    let generic = serde_json::from_slice::<Claims>(data);
    if data.len() <= 8 * 1024 {
        let token = format!("e30.{}.x", URL_SAFE_NO_PAD.encode(data));
        match (&generic, decode_unverified(&token)) {
            (Ok(generic), Ok(verifier)) => assert_eq!(generic, &verifier, "the two parsers differ"),
            (Err(_), Err(_)) => {}
            (generic, verifier) => panic!(
                "serde_json says {:?}, the verifier {:?}",
                generic.as_ref().map(|_| ()),
                verifier.map(|_| ())
            ),
        }
    }
    let Ok(claims) = generic else {
        return;
    };
    let text = serde_json::to_string(&claims).expect("claims serialize");
    let again: Claims = serde_json::from_str(&text).expect("claims parse their own output");
    assert_eq!(again, claims, "round trip changed the claims: {text}");
    let text_again = serde_json::to_string(&again).expect("claims serialize");
    assert_eq!(text_again, text, "serialization is not idempotent");
    // The permission methods never panic either.
    let _ = (
        claims.identity(),
        claims.can_join(),
        claims.can_publish_data(),
    );
    for source in tower_livekit_auth::TrackSource::ALL {
        let _ = claims.can_publish_source(*source);
    }
});
