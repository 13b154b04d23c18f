//! [`Verifier`]: token text → [`Claims`], or a [`VerifyError`] saying why not.

mod cache;
pub mod dangerous;
mod error;
mod header;
mod metrics;
mod refresh;
mod token;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

pub use error::{VerifyError, VerifyErrorKind};

use self::cache::TokenCache;
pub(crate) use self::metrics::Source;
use crate::claims::Claims;
use crate::keys::KeyRing;
use crate::state::ParticipantState;
use crate::time::{unix_ms, unix_seconds, Clock};
pub use crate::time::{DEFAULT_LEEWAY, MAX_LEEWAY};

/// The default maximum token length: 16 KiB.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;
/// The default limit on a chain of refreshed tokens: 24 hours from the first token's issue
/// time (see [`Verifier::refresh`]). Longer than any meeting, short enough that a stolen token
/// does not live on.
pub const DEFAULT_REFRESH_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// Verifies LiveKit access tokens against a [`KeyRing`].
///
/// It checks a token as the LiveKit server does (`livekit/protocol`'s `auth/verifier.go`):
/// HS256 only, the secret of the API key the token's `iss` names, `exp` required, `nbf`
/// checked when present, with a leeway of 60 s by default, every date truncated to whole
/// seconds. It also refuses an `iat` in the future (as the server did with go-jose, before
/// golang-jwt), and what no SDK writes and an attacker might: a `crit` header, a repeated key,
/// a token over 16 KiB.
///
/// Cloning is cheap and clones share the key ring: [`rotate`](Self::rotate) on any clone changes
/// the keys of all of them at once (reads are lock-free; a request in flight finishes with the
/// keys it started with).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tower_livekit_auth::{AccessToken, KeyRing, Verifier, VerifyErrorKind, VideoGrant};
///
/// let secret = "somesecretencodedinbase62extendto32bytes";
/// let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?);
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let token = AccessToken::new("APIabcdefg", secret)
///     .with_identity("alice")
///     .with_video_grant(VideoGrant::join("myroom"))
///     .to_jwt_at(now)?;
///
/// let claims = verifier.verify_at(&token, now)?;
/// assert_eq!(claims.identity(), "alice");
/// assert!(claims.can_join());
///
/// // Six hours later (the default TTL) plus the leeway, the token has expired.
/// let later = now + Duration::from_secs(6 * 3600 + 60);
/// assert_eq!(verifier.verify_at(&token, later).unwrap_err().kind(), VerifyErrorKind::Expired);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    keys: Arc<ArcSwap<KeyRing>>,
    options: Options,
    clock: Clock,
    cache: Option<Arc<TokenCache>>,
    state: Option<ParticipantState>,
}

#[derive(Clone, Debug)]
pub(crate) struct Options {
    leeway: f64,
    audience: Option<Arc<str>>,
    max_token_len: usize,
    refresh_limit: Duration,
}

impl Verifier {
    /// A verifier for the keys of `keys`, with the default options.
    #[must_use]
    pub fn new(keys: KeyRing) -> Self {
        Verifier {
            keys: Arc::new(ArcSwap::from_pointee(keys)),
            options: Options {
                leeway: DEFAULT_LEEWAY.as_secs_f64(),
                audience: None,
                max_token_len: DEFAULT_MAX_TOKEN_LEN,
                refresh_limit: DEFAULT_REFRESH_LIMIT,
            },
            clock: Clock::default(),
            cache: None,
            state: None,
        }
    }

    /// Allow this much clock skew on `exp`, `nbf` and `iat` (default 60 s). Values above
    /// [`MAX_LEEWAY`] (10 minutes) are capped: a longer leeway would keep expired tokens alive.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.options.leeway = leeway.min(MAX_LEEWAY).as_secs_f64();
        self
    }

    /// Require `aud` to name `audience`. Off by default: the LiveKit server ignores `aud`.
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.options.audience = Some(audience.into().into());
        self
    }

    /// Refuse tokens longer than `max` bytes before decoding anything (default 16 KiB).
    #[must_use]
    pub fn with_max_token_len(mut self, max: usize) -> Self {
        self.options.max_token_len = max;
        self
    }

    /// How long a chain of refreshed tokens may live, counted from its first token's issue time
    /// (default [`DEFAULT_REFRESH_LIMIT`], 24 hours); see [`refresh`](Self::refresh).
    #[must_use]
    pub fn with_refresh_limit(mut self, limit: Duration) -> Self {
        self.options.refresh_limit = limit;
        self
    }

    /// Read the time from `clock` instead of the system clock: for tests and replay tools.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Clock::injected(clock);
        self
    }

    /// Remember up to `max_entries` tokens that verified (and about `max_bytes` of memory at
    /// most), so that a client presenting the same token again skips the signature and the JSON.
    /// Every hit still checks `exp`, `nbf`, `iat` and `aud` against the clock; rotating the keys
    /// empties the cache. Off by default. Clones made after this call share the cache.
    ///
    /// ```
    /// use tower_livekit_auth::{AccessToken, KeyRing, Verifier};
    ///
    /// let secret = "somesecretencodedinbase62extendto32bytes";
    /// let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?)
    ///     .with_cache(10_000, 16 * 1024 * 1024);
    /// let token = AccessToken::new("APIabcdefg", secret).with_identity("a").to_jwt()?;
    /// let first = verifier.verify(&token)?; // verified and remembered
    /// let again = verifier.verify(&token)?; // a hit: times checked, no MAC, no JSON
    /// assert_eq!(first, again);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_cache(mut self, max_entries: usize, max_bytes: usize) -> Self {
        self.cache = Some(Arc::new(TokenCache::new(max_entries, max_bytes)));
        self
    }

    /// Answer every verification that names a participant (a token with an identity and a
    /// room) with its current state: updates made after the token was issued apply, and a
    /// revoked token is refused with [`VerifyErrorKind::Revoked`]. See [`crate::state`].
    ///
    /// Applied in one place, after the signature and the times (and after a cache hit), so
    /// that [`verify`](Self::verify), the [`AuthLayer`](crate::AuthLayer), the token cache and
    /// [`refresh`](Self::refresh) all agree. A participant without an entry costs one atomic
    /// load and one hash probe.
    #[must_use]
    pub fn with_participant_state(mut self, state: ParticipantState) -> Self {
        self.state = Some(state);
        self
    }

    /// The participant state this verifier applies, if any.
    #[must_use]
    pub fn participant_state(&self) -> Option<&ParticipantState> {
        self.state.as_ref()
    }

    /// How many tokens the cache holds now (0 without a cache).
    #[must_use]
    pub fn cached_tokens(&self) -> usize {
        self.cache.as_ref().map_or(0, |cache| cache.len())
    }

    /// The current time, from the injected clock or the system's.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Verifies `token` now and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        self.verify_at(token, self.now())
    }

    /// Verifies `token` as if the time were `now`.
    pub fn verify_at(&self, token: &str, now: SystemTime) -> Result<Claims, VerifyError> {
        self.verify_bytes_at(token.as_bytes(), now, Source::Direct)
    }

    /// [`verify_at`](Self::verify_at) for a token still in bytes, as a header value holds it:
    /// a token that verifies is base64url and dots, so no separate character check is needed
    /// before (the middleware classifies the characters only when verification fails).
    pub(crate) fn verify_bytes_at(
        &self,
        token: &[u8],
        now: SystemTime,
        source: Source,
    ) -> Result<Claims, VerifyError> {
        let verified = self
            .verify_token(token, unix_seconds(now))
            .and_then(|claims| match &self.state {
                None => Ok(claims),
                Some(state) => state
                    .apply_at(claims, unix_ms(now))
                    .map_err(VerifyError::from),
            });
        metrics::verification(verified.as_ref().err().map(VerifyError::kind), source);
        verified
    }

    /// The token's own claims, from the cache or verified (signature, times, audience).
    fn verify_token(&self, token: &[u8], now: f64) -> Result<Claims, VerifyError> {
        let Some(cache) = &self.cache else {
            let keys = self.keys.load();
            return token::verify(token, &keys, &self.options, now).map(Claims::from_arc);
        };
        let hit = cache.get(token);
        metrics::cache(hit.is_some());
        if let Some(claims) = hit {
            token::check_claims(claims.data(), &self.options, now)?;
            return Ok(claims);
        }
        // Read before the keys: a rotation after this point makes the insert a no-op.
        let generation = cache.generation();
        let keys = self.keys.load();
        let claims = Claims::from_arc(token::verify(token, &keys, &self.options, now)?);
        cache.insert(token, &claims, generation);
        Ok(claims)
    }

    /// Replaces the key ring of this verifier and of every clone of it. Requests already being
    /// verified finish with the old keys; every later one sees the new keys.
    pub fn rotate(&self, keys: KeyRing) {
        self.keys.store(Arc::new(keys));
        if let Some(cache) = &self.cache {
            cache.invalidate();
        }
    }

    /// The key ring in use now.
    #[must_use]
    pub fn key_ring(&self) -> Arc<KeyRing> {
        self.keys.load_full()
    }

    /// The configured leeway.
    #[must_use]
    pub fn leeway(&self) -> Duration {
        Duration::from_secs_f64(self.options.leeway)
    }

    /// The configured limit on a chain of refreshed tokens.
    #[must_use]
    pub fn refresh_limit(&self) -> Duration {
        self.options.refresh_limit
    }

    /// The maximum token length this verifier accepts.
    #[must_use]
    pub fn max_token_len(&self) -> usize {
        self.options.max_token_len
    }

    /// Whether an audience is required (so that refreshes keep `aud`).
    pub(crate) fn requires_audience(&self) -> bool {
        self.options.audience.is_some()
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &**self.keys.load())
            .field("leeway", &self.leeway())
            .field("audience", &self.options.audience)
            .field("max_token_len", &self.options.max_token_len)
            .field("refresh_limit", &self.options.refresh_limit)
            .field("clock", &self.clock)
            .field(
                "cached_tokens",
                &self.cache.as_ref().map(|c| (c.len(), c.bytes())),
            )
            .field("participant_state", &self.state)
            .finish()
    }
}

#[cfg(test)]
mod tests;
