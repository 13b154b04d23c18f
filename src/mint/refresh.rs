//! Refresh, the minting half: a token for verified claims that keeps the participant, lasts at
//! least [`MIN_REFRESH_TTL`] and never outlives its chain. [`Verifier::refresh`] is the entry
//! point (it finds the secret and the chain's limits); the
//! [`AuthLayer`](crate::AuthLayer)'s refresh header hands the result to the client.
//!
//! [`Verifier::refresh`]: crate::Verifier::refresh

use std::time::Duration;

use super::{AccessToken, MintError, MintErrorKind};
use crate::claims::{Claims, ClaimsData, NumericDate};

/// The shortest life of a refreshed token: 10 minutes, as the LiveKit server.
pub const MIN_REFRESH_TTL: Duration = Duration::from_secs(600);

/// What a refreshed token remembers of the one it refreshes.
#[derive(Clone, Copy, Debug)]
pub(super) struct RefreshOf {
    /// The original `exp`, so the TTL is max(10 minutes, the time left).
    exp: i64,
    /// The end of the chain (Unix seconds), which no refresh outlives.
    end: i64,
}

impl RefreshOf {
    /// The `exp` of the refresh minted at `now` (Unix seconds), or an error past the chain's end.
    pub(super) fn exp_at(self, now: i64) -> Result<i64, MintError> {
        if self.end <= now {
            return Err(MintError::new(MintErrorKind::RefreshLimit));
        }
        let min_ttl = MIN_REFRESH_TTL.as_secs() as i64;
        Ok(now
            .saturating_add(self.exp.saturating_sub(now).max(min_ttl))
            .min(self.end))
    }
}

/// Where a chain of refreshed tokens began and how long it may last.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RefreshChain {
    /// Unix seconds: the first token's issue time.
    pub(crate) origin: i64,
    /// Seconds from `origin`.
    pub(crate) limit: i64,
    /// Whether the refresh keeps `aud` (the verifier requires an audience).
    pub(crate) audience: bool,
}

impl AccessToken {
    /// A refresh of verified `claims`, signed with `secret` (the secret of `claims.api_key()`);
    /// see [`Verifier::refresh`](crate::Verifier::refresh) for what it keeps and how long it
    /// lasts. `chain` is when the chain of refreshes began and when it must end.
    pub(crate) fn refresh(claims: &Claims, secret: &[u8], chain: RefreshChain) -> Self {
        let original = claims.data();
        let mut token = AccessToken::new(claims.api_key(), secret);
        token.claims = ClaimsData {
            sub: Some(claims.identity())
                .filter(|identity| !identity.is_empty())
                .map(Into::into),
            name: original.name.clone(),
            kind: original.kind.clone(),
            kind_details: original.kind_details.clone(),
            metadata: original.metadata.clone(),
            attributes: original.attributes.clone(),
            video: original.video.clone(),
            room_config: original.room_config.clone(),
            room_preset: original.room_preset.clone(),
            aud: chain.audience.then(|| original.aud.clone()).flatten(),
            iat: Some(NumericDate::from_seconds(chain.origin)),
            ..ClaimsData::default()
        };
        token.refresh_of = Some(RefreshOf {
            exp: claims.expires_at().unwrap_or(i64::MIN),
            end: chain.origin.saturating_add(chain.limit),
        });
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_lasts_the_longer_of_ten_minutes_and_the_time_left_within_its_chain() {
        let of = |exp, end| RefreshOf { exp, end };
        assert_eq!(of(1_060, 10_000).exp_at(1_000), Ok(1_600));
        assert_eq!(of(5_000, 10_000).exp_at(1_000), Ok(5_000));
        assert_eq!(of(5_000, 1_300).exp_at(1_000), Ok(1_300));
        assert_eq!(
            of(5_000, 1_000).exp_at(1_000).map_err(|e| e.kind()),
            Err(MintErrorKind::RefreshLimit)
        );
        // Claims without `exp` (decoded unverified, say): ten minutes, at any time.
        assert_eq!(of(i64::MIN, i64::MAX).exp_at(0), Ok(600));
        assert_eq!(of(i64::MIN, i64::MAX).exp_at(1_000), Ok(1_600));
        assert_eq!(of(i64::MAX, i64::MAX).exp_at(-5), Ok(i64::MAX - 5));
    }
}
