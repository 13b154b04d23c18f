//! Arbitrary bytes → `serde_json::from_slice::<Claims>`; when that succeeds, serializing and
//! parsing again gives equal claims, and serializing is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_livekit_auth::Claims;

fuzz_target!(|data: &[u8]| {
    let Ok(claims) = serde_json::from_slice::<Claims>(data) else {
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
