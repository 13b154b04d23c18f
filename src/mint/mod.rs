//! Minting: [`AccessToken`] builds and signs LiveKit access tokens, and mints the refresh of a
//! verified one for [`Verifier::refresh`](crate::Verifier::refresh).
//!
//! HS256 by hand, over the same `hmac`, `sha2` and base64url as the verifier (the crate's
//! `jws` module holds what both must agree on): no JOSE library at run time.

mod refresh;

use std::fmt;
use std::time::{Duration, SystemTime};

use zeroize::Zeroizing;

pub(crate) use self::refresh::RefreshChain;
use self::refresh::RefreshOf;
pub use self::refresh::MIN_REFRESH_TTL;
use crate::claims::{
    AgentGrant, Audience, ClaimsData, InferenceGrant, NumericDate, ObservabilityGrant,
    ParticipantKind, RoomConfiguration, SipGrant, VideoGrant,
};
use crate::jws;
use crate::keys::KeyRing;
use crate::time::unix_seconds;

/// The TTL of a new token when none is given: 6 hours, as in every LiveKit SDK.
pub const DEFAULT_TTL: Duration = Duration::from_secs(6 * 3600);

/// Builds and signs a LiveKit access token (HS256, the API key in `iss`).
///
/// The token carries `nbf` = now and `exp` = now + TTL (6 hours unless
/// [`with_ttl`](Self::with_ttl) says otherwise). As in the SDKs, a join grant needs an identity
/// and a room.
///
/// ```
/// use tower_livekit_auth::{AccessToken, KeyRing, RoomAgentDispatch, RoomConfiguration,
///     TrackSource, Verifier, VideoGrant};
///
/// let secret = "somesecretencodedinbase62extendto32bytes";
/// let token = AccessToken::new("APIabcdefg", secret)
///     .with_identity("alice")
///     .with_name("Alice")
///     .with_video_grant(
///         VideoGrant::join("myroom")
///             .with_can_publish_sources([TrackSource::Camera, TrackSource::Microphone]),
///     )
///     .with_room_config(RoomConfiguration::new().with_agent(RoomAgentDispatch::new("support-agent")))
///     .to_jwt()?;
///
/// let claims = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?).verify(&token)?;
/// assert!(claims.can_publish_source(TrackSource::Microphone));
/// assert_eq!(claims.room_config().unwrap().agents[0].agent_name.as_deref(), Some("support-agent"));
///
/// // A join grant without an identity is refused, as the SDKs refuse it.
/// assert!(AccessToken::new("APIabcdefg", secret)
///     .with_video_grant(VideoGrant::join("myroom"))
///     .to_jwt()
///     .is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AccessToken {
    api_key: String,
    secret: Zeroizing<Vec<u8>>,
    claims: ClaimsData,
    ttl: Duration,
    /// Set by a refresh: its `exp` is computed from the original's (see `refresh.rs`).
    refresh_of: Option<RefreshOf>,
}

impl AccessToken {
    /// A token signed by `api_key` with `secret`, with no grant yet.
    pub fn new(api_key: impl Into<String>, secret: impl AsRef<[u8]>) -> Self {
        AccessToken {
            api_key: api_key.into(),
            secret: Zeroizing::new(secret.as_ref().to_vec()),
            claims: ClaimsData::default(),
            ttl: DEFAULT_TTL,
            refresh_of: None,
        }
    }

    /// A token with no key yet, for [`endpoint::TokenApproval`](crate::endpoint::TokenApproval):
    /// minting it fails until [`signed_like`](Self::signed_like) gives it one.
    pub(crate) fn unsigned() -> Self {
        AccessToken::new("", "")
    }

    /// This token, signed with `signer`'s API key and secret.
    pub(crate) fn signed_like(mut self, signer: &AccessToken) -> Self {
        self.api_key.clone_from(&signer.api_key);
        self.secret.clone_from(&signer.secret);
        self
    }

    /// The room configuration set so far.
    pub(crate) fn room_config(&self) -> Option<&RoomConfiguration> {
        self.claims.room_config.as_deref()
    }

    /// The claims set so far (the token endpoint compares them with the request).
    pub(crate) fn claims(&self) -> &ClaimsData {
        &self.claims
    }

    /// The participant identity (`sub`).
    #[must_use]
    pub fn with_identity(mut self, identity: impl Into<String>) -> Self {
        self.claims.sub = Some(identity.into().into());
        self
    }

    /// The display name (`name`).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.claims.name = Some(name.into().into());
        self
    }

    /// The participant kind (`kind`).
    #[must_use]
    pub fn with_kind(mut self, kind: ParticipantKind) -> Self {
        self.claims.kind = Some(kind.as_str().into());
        self
    }

    /// Participant metadata (`metadata`), often JSON text.
    #[must_use]
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.claims.metadata = Some(metadata.into().into());
        self
    }

    /// Participant attributes (`attributes`), replacing any set before.
    #[must_use]
    pub fn with_attributes<K, V>(mut self, attributes: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.claims.attributes = Some(attributes.into_iter().collect());
        self
    }

    /// The audience (`aud`), for a service whose verifier requires one
    /// ([`Verifier::with_audience`](crate::Verifier::with_audience)). The LiveKit server ignores `aud`, and the Rust and Python
    /// SDKs' verifiers refuse any: leave it unset for tokens meant for LiveKit itself.
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.claims.aud = Some(Audience::One(audience.into()));
        self
    }

    /// How long the token is valid (default 6 hours).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self.refresh_of = None;
        self
    }

    /// The video grant (`video`).
    #[must_use]
    pub fn with_video_grant(mut self, grant: VideoGrant) -> Self {
        self.claims.video = Some(grant);
        self
    }

    /// The SIP grant (`sip`).
    #[must_use]
    pub fn with_sip_grant(mut self, grant: SipGrant) -> Self {
        self.claims.sip = Some(grant);
        self
    }

    /// The agent grant (`agent`).
    #[must_use]
    pub fn with_agent_grant(mut self, grant: AgentGrant) -> Self {
        self.claims.agent = Some(grant);
        self
    }

    /// The inference grant (`inference`).
    #[must_use]
    pub fn with_inference_grant(mut self, grant: InferenceGrant) -> Self {
        self.claims.inference = Some(grant);
        self
    }

    /// The observability grant (`observability`).
    #[must_use]
    pub fn with_observability_grant(mut self, grant: ObservabilityGrant) -> Self {
        self.claims.observability = Some(grant);
        self
    }

    /// The room configuration (`roomConfig`), e.g. agents to dispatch when the room is created.
    #[must_use]
    pub fn with_room_config(mut self, config: RoomConfiguration) -> Self {
        self.claims.room_config = Some(Box::new(config));
        self
    }

    /// The room preset (`roomPreset`).
    #[must_use]
    pub fn with_room_preset(mut self, preset: impl Into<String>) -> Self {
        self.claims.room_preset = Some(preset.into().into());
        self
    }

    /// The `sha256` claim: base64 SHA-256 of a webhook body.
    #[must_use]
    pub fn with_sha256(mut self, sha256: impl Into<String>) -> Self {
        self.claims.sha256 = Some(sha256.into().into());
        self
    }

    /// Signs the token, valid from now.
    pub fn to_jwt(&self) -> Result<String, MintError> {
        self.to_jwt_at(SystemTime::now())
    }

    /// Signs the token as if the time were `now`.
    pub fn to_jwt_at(&self, now: SystemTime) -> Result<String, MintError> {
        if self.api_key.is_empty() {
            return Err(MintError(MintErrorKind::EmptyKey));
        }
        if self.secret.is_empty() {
            return Err(MintError(MintErrorKind::EmptySecret));
        }
        if let Some(video) = &self.claims.video {
            if video.room_join == Some(true) {
                if self.claims.sub.as_deref().unwrap_or("").is_empty() {
                    return Err(MintError(MintErrorKind::MissingIdentity));
                }
                if video.room().is_empty() {
                    return Err(MintError(MintErrorKind::MissingRoom));
                }
            }
        }
        let now = unix_seconds(now) as i64;
        let exp = match self.refresh_of {
            Some(refresh) => refresh.exp_at(now)?,
            None => now.saturating_add(i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX)),
        };
        let mut claims = self.claims.clone();
        claims.iss = Some(self.api_key.as_str().into());
        claims.nbf = Some(NumericDate::from_seconds(now));
        // Dates beyond 2^53 s cannot be read back exactly by any JSON parser, ours included.
        if exp > 1 << 53 {
            return Err(MintError(MintErrorKind::TtlTooLong));
        }
        claims.exp = Some(NumericDate::from_seconds(exp));
        let payload =
            serde_json::to_vec(&claims).map_err(|_| MintError(MintErrorKind::Encoding))?;
        Ok(jws::sign(&payload, &self.secret))
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("api_key", &self.api_key)
            .field("secret", &"[redacted]")
            .field("claims", &self.claims)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Why a token could not be minted. Its `Debug` carries the message, so that a `main` that
/// returns it says what went wrong.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MintError(MintErrorKind);

/// What kind of [`MintError`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MintErrorKind {
    /// The API key is empty.
    EmptyKey,
    /// The secret is empty.
    EmptySecret,
    /// A join grant without an identity.
    MissingIdentity,
    /// A join grant without a room.
    MissingRoom,
    /// A refresh for an API key the key ring no longer has.
    UnknownKey,
    /// A refresh past the end of its chain ([`Verifier::with_refresh_limit`](crate::Verifier::with_refresh_limit)).
    RefreshLimit,
    /// The TTL puts `exp` beyond 2^53 seconds, which no verifier reads exactly.
    TtlTooLong,
    /// The claims could not be encoded.
    Encoding,
}

impl MintError {
    pub(crate) const fn new(kind: MintErrorKind) -> Self {
        MintError(kind)
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> MintErrorKind {
        self.0
    }
}

impl fmt::Debug for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintError")
            .field("kind", &self.0)
            .field("message", &self.to_string())
            .finish()
    }
}

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            MintErrorKind::EmptyKey => "cannot mint a token: the API key is empty",
            MintErrorKind::EmptySecret => "cannot mint a token: the API secret is empty",
            MintErrorKind::MissingIdentity => {
                "cannot mint a join token without an identity: call with_identity()"
            }
            MintErrorKind::MissingRoom => {
                "cannot mint a join token without a room: set the video grant's room"
            }
            MintErrorKind::UnknownKey => {
                "cannot refresh: the token's API key is no longer in the key ring"
            }
            MintErrorKind::RefreshLimit => {
                "cannot refresh: the token's refresh chain has reached its limit; the client \
                 must get a new token"
            }
            MintErrorKind::TtlTooLong => {
                "cannot mint a token: the TTL is too long; use hours, not eons"
            }
            MintErrorKind::Encoding => "cannot mint a token: the claims could not be encoded",
        })
    }
}

impl std::error::Error for MintError {}

impl KeyRing {
    /// A token signed by `api_key` with its secret from this ring, for servers that verify and
    /// mint with the same keys; `None` if the ring has no such key. The secret never leaves
    /// the crate.
    ///
    /// ```
    /// use tower_livekit_auth::{KeyRing, Verifier};
    ///
    /// let keys = KeyRing::new().with_key("APIabcdefg", "somesecretencodedinbase62extendto32bytes")?;
    /// let token = keys.access_token("APIabcdefg").unwrap().with_identity("bob").to_jwt()?;
    /// assert_eq!(Verifier::new(keys).verify(&token)?.identity(), "bob");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn access_token(&self, api_key: &str) -> Option<AccessToken> {
        self.secret(api_key)
            .map(|secret| AccessToken::new(api_key, secret.bytes()))
    }
}

/// For the crate's tests: `payload` (claims JSON, any shape the parser reads) signed with
/// `secret`, for tokens `AccessToken` would not mint (no `nbf`, say).
#[cfg(test)]
pub(crate) mod tests_support {
    pub(crate) fn sign(payload: &str, secret: &str) -> String {
        let claims: crate::claims::ClaimsData = serde_json::from_str(payload).expect("claims");
        let payload = serde_json::to_vec(&claims).expect("encodes");
        crate::jws::sign(&payload, secret.as_bytes())
    }
}

#[cfg(test)]
mod tests;
