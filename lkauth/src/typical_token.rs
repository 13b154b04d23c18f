//! The typical LiveKit join token the measuring tools generate (`bench_server`, `token bench`):
//! about 470 bytes with an identity, a name, JSON metadata, two attributes and a join grant
//! limited to camera and microphone. A module of lkauth (`token bench`), and included with
//! `#[path]` by `benches/compare`'s `bench_server`.

use std::time::SystemTime;

use tower_livekit_auth::{AccessToken, KeyError, KeyRing, MintError, TrackSource, VideoGrant};

/// The API key the generated tokens are signed with (`benches/compare/scripts/load_wrk.sh` starts
/// `lkauth serve` with it).
pub(crate) const KEY: &str = "APIbenchhttp01";
/// Its secret: public, for benchmarks only.
pub(crate) const SECRET: &str = "benchHttpSecret0123456789abcdefghijklmnopqr";

/// A key ring holding [`KEY`].
pub(crate) fn key_ring() -> Result<KeyRing, KeyError> {
    KeyRing::new().with_key(KEY, SECRET)
}

/// Participant `i`'s token, valid from `now` for the default 6 hours.
pub(crate) fn typical_join_token(i: usize, now: SystemTime) -> Result<String, MintError> {
    AccessToken::new(KEY, SECRET)
        .with_identity(format!("participant-{i:04}"))
        .with_name(format!("Participant {i}"))
        .with_metadata(format!(r#"{{"seat":{i},"role":"speaker"}}"#))
        .with_attributes([("team", "blue"), ("locale", "en-US")])
        .with_video_grant(
            VideoGrant::join(format!("room-{}", i % 8))
                .with_can_publish_sources([TrackSource::Camera, TrackSource::Microphone]),
        )
        .to_jwt_at(now)
}
