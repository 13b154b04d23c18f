//! [`Verifier::refresh`]: a refreshed token for verified claims, signed with the key of their
//! `iss` from this verifier's key ring.

use std::time::SystemTime;

use super::Verifier;
use crate::claims::Claims;
use crate::mint::{AccessToken, MintError, MintErrorKind, RefreshChain};
use crate::time::unix_seconds;

impl Verifier {
    /// Mints a refresh of verified `claims`, as the LiveKit server refreshes the token of a
    /// connected participant (`refreshToken` in `livekit-server`'s `pkg/service/roommanager.go`),
    /// signed with the secret of the API key that signed them (their `iss`, from this
    /// verifier's current key ring: never another key).
    ///
    /// What the refreshed token carries:
    /// - kept: the identity (as `sub`), `name`, `kind`, `metadata`, `attributes`, the `video`
    ///   grant, `roomConfig` and `roomPreset`, as the server's refreshed tokens do, and
    ///   `kindDetails`; `aud` too when this verifier requires an audience, so that the refresh
    ///   verifies where the original did;
    /// - dropped: the `sip`, `agent`, `inference` and `observability` grants, `sha256` and
    ///   `jti` (the server's refresh does not carry them either);
    /// - `nbf` is now, `exp` is max(10 minutes, the time left on the original), and `iat` is
    ///   the issue time of the chain's first token (its `iat`, else its `nbf`, else now).
    ///
    /// A chain of refreshes never outlives [`with_refresh_limit`](Self::with_refresh_limit)
    /// (24 hours by default) from that first issue time: past it, this fails with
    /// [`MintErrorKind::RefreshLimit`] and the client must get a new token from the
    /// application, so that a stolen token cannot be kept alive for ever.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use tower_livekit_auth::{AccessToken, KeyRing, MintErrorKind, Verifier, VideoGrant};
    ///
    /// let secret = "somesecretencodedinbase62extendto32bytes";
    /// let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?)
    ///     .with_refresh_limit(Duration::from_secs(3600));
    /// let at = |s: u64| UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s);
    /// let token = AccessToken::new("APIabcdefg", secret)
    ///     .with_identity("alice")
    ///     .with_video_grant(VideoGrant::join("myroom"))
    ///     .with_ttl(Duration::from_secs(900))
    ///     .to_jwt_at(at(0))?;
    ///
    /// let claims = verifier.verify_at(&token, at(800))?;
    /// let refreshed = verifier.refresh_at(&claims, at(800))?;
    /// let fresh = verifier.verify_at(&refreshed, at(800))?;
    /// assert_eq!(fresh.identity(), "alice");
    /// assert_eq!(fresh.expires_at(), Some(1_700_000_000 + 800 + 600)); // 10 minutes
    /// assert_eq!(fresh.issued_at(), Some(1_700_000_000)); // the chain's start
    ///
    /// // Near the hour's end a refresh is cut to it, and after it there is none.
    /// let late = verifier.verify_at(&verifier.refresh_at(&fresh, at(1300))?, at(1300))?;
    /// let last = verifier.verify_at(&verifier.refresh_at(&late, at(3300))?, at(3300))?;
    /// assert_eq!(last.expires_at(), Some(1_700_000_000 + 3600));
    /// let err = verifier.refresh_at(&last, at(3600)).unwrap_err();
    /// assert_eq!(err.kind(), MintErrorKind::RefreshLimit);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn refresh(&self, claims: &Claims) -> Result<String, MintError> {
        self.refresh_at(claims, self.now())
    }

    /// [`refresh`](Self::refresh) as if the time were `now`.
    pub fn refresh_at(&self, claims: &Claims, now: SystemTime) -> Result<String, MintError> {
        let keys = self.key_ring();
        let secret = keys
            .secret(claims.api_key())
            .ok_or(MintError::new(MintErrorKind::UnknownKey))?;
        let chain = RefreshChain {
            origin: claims
                .issued_at()
                .or(claims.not_before())
                .unwrap_or(unix_seconds(now) as i64),
            limit: i64::try_from(self.refresh_limit().as_secs()).unwrap_or(i64::MAX),
            audience: self.requires_audience(),
        };
        AccessToken::refresh(claims, secret.bytes(), chain).to_jwt_at(now)
    }
}
