//! The tokens lkauth's gate and proxy tests send: one test key, and the kinds of token every
//! scenario needs (a joiner, a room admin, one without any grant, a forged one, an expired one).

use std::time::{Duration, SystemTime};

use tower_livekit_auth::{AccessToken, VideoGrant};

pub(crate) const KEY: &str = "APIlkauthtests";
pub(crate) const SECRET: &str = "lkauthTestsSecret0123456789abcdefghijklmn";

/// A token of the test key for `identity`.
pub(crate) fn token(identity: &str) -> AccessToken {
    AccessToken::new(KEY, SECRET).with_identity(identity)
}

/// A token that may join `room`.
pub(crate) fn joiner(identity: &str, room: &str) -> String {
    token(identity)
        .with_video_grant(VideoGrant::join(room))
        .to_jwt()
        .expect("mints")
}

/// A token that is room admin of `room`.
pub(crate) fn admin(room: &str) -> String {
    token("moderator")
        .with_video_grant(VideoGrant::admin(room))
        .to_jwt()
        .expect("mints")
}

/// A valid token without any grant.
pub(crate) fn grantless(identity: &str) -> String {
    token(identity).to_jwt().expect("mints")
}

/// `token` with the last character of its signature changed.
pub(crate) fn forged(token: &str) -> String {
    let last = if token.ends_with('A') { 'B' } else { 'A' };
    format!("{}{last}", &token[..token.len() - 1])
}

/// A join token that expired an hour ago (issued 7 h ago; the default TTL is 6 h).
pub(crate) fn expired(identity: &str, room: &str) -> String {
    token(identity)
        .with_video_grant(VideoGrant::join(room))
        .to_jwt_at(SystemTime::now() - Duration::from_secs(7 * 3600))
        .expect("mints")
}
