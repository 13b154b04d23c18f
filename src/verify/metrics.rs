//! The verifier's counters (feature `metrics`, see the crate docs' "Metrics"):
//! `livekit_auth_verifications_total` by outcome, reason and source, and
//! `livekit_auth_token_cache_total` by result.

use super::error::VerifyErrorKind;

/// Where a token came from: the `source` label of a verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Header,
    Query,
    Webhook,
    /// A call to [`Verifier::verify`](super::Verifier::verify).
    Direct,
}

impl Source {
    /// The label value.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    const fn as_str(self) -> &'static str {
        match self {
            Source::Header => "header",
            Source::Query => "query",
            Source::Webhook => "webhook",
            Source::Direct => "direct",
        }
    }
}

/// One verification, accepted (`None`) or refused for `refused`.
#[inline]
pub(crate) fn verification(refused: Option<VerifyErrorKind>, source: Source) {
    #[cfg(feature = "metrics")]
    crate::metrics::count(keys::verification(refused, source));
    #[cfg(not(feature = "metrics"))]
    let _ = (refused, source);
}

/// One look-up in the token cache.
#[inline]
pub(crate) fn cache(hit: bool) {
    #[cfg(feature = "metrics")]
    crate::metrics::count(keys::cache(hit));
    #[cfg(not(feature = "metrics"))]
    let _ = hit;
}

#[cfg(feature = "metrics")]
mod keys {
    use metrics::Key;

    use super::{Source, VerifyErrorKind};
    use crate::metrics::key;

    /// The key of one verification. One arm per outcome: a new [`VerifyErrorKind`] does not
    /// compile until it has its arm here, and its `reason` label is its own `as_str()`.
    pub(super) fn verification(refused: Option<VerifyErrorKind>, source: Source) -> &'static Key {
        macro_rules! by_source {
            (@key $outcome:literal, $reason:expr, $source:expr) => {
                key!(
                    "livekit_auth_verifications_total",
                    "outcome" = $outcome,
                    "reason" = $reason,
                    "source" = $source.as_str()
                )
            };
            ($outcome:literal, $reason:expr) => {
                match source {
                    Source::Header => by_source!(@key $outcome, $reason, Source::Header),
                    Source::Query => by_source!(@key $outcome, $reason, Source::Query),
                    Source::Webhook => by_source!(@key $outcome, $reason, Source::Webhook),
                    Source::Direct => by_source!(@key $outcome, $reason, Source::Direct),
                }
            };
        }
        macro_rules! refused {
            ($kind:ident) => {
                by_source!("refused", VerifyErrorKind::$kind.as_str())
            };
        }
        match refused {
            None => by_source!("accepted", "none"),
            Some(VerifyErrorKind::Malformed) => refused!(Malformed),
            Some(VerifyErrorKind::UnsupportedAlgorithm) => refused!(UnsupportedAlgorithm),
            Some(VerifyErrorKind::MissingIssuer) => refused!(MissingIssuer),
            Some(VerifyErrorKind::UnknownKey) => refused!(UnknownKey),
            Some(VerifyErrorKind::InvalidSignature) => refused!(InvalidSignature),
            Some(VerifyErrorKind::MissingExpiry) => refused!(MissingExpiry),
            Some(VerifyErrorKind::Expired) => refused!(Expired),
            Some(VerifyErrorKind::NotYetValid) => refused!(NotYetValid),
            Some(VerifyErrorKind::IssuedInFuture) => refused!(IssuedInFuture),
            Some(VerifyErrorKind::InvalidAudience) => refused!(InvalidAudience),
            Some(VerifyErrorKind::InvalidClaim) => refused!(InvalidClaim),
            Some(VerifyErrorKind::TokenTooLong) => refused!(TokenTooLong),
            Some(VerifyErrorKind::Revoked) => refused!(Revoked),
            Some(VerifyErrorKind::StateUnavailable) => refused!(StateUnavailable),
        }
    }

    /// The key of one look-up in the token cache.
    pub(super) fn cache(hit: bool) -> &'static Key {
        if hit {
            key!("livekit_auth_token_cache_total", "result" = "hit")
        } else {
            key!("livekit_auth_token_cache_total", "result" = "miss")
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::metrics::label;

        #[test]
        fn every_key_carries_the_names_the_docs_give() {
            let sources = [
                Source::Header,
                Source::Query,
                Source::Webhook,
                Source::Direct,
            ];
            for (source, name) in sources
                .into_iter()
                .zip(["header", "query", "webhook", "direct"])
            {
                let accepted = verification(None, source);
                assert_eq!(
                    (label(accepted, "outcome"), label(accepted, "reason")),
                    ("accepted".into(), "none".into())
                );
                assert_eq!(label(accepted, "source"), name);
                for &kind in VerifyErrorKind::ALL {
                    let key = verification(Some(kind), source);
                    assert_eq!(key.name(), "livekit_auth_verifications_total");
                    assert_eq!(label(key, "outcome"), "refused");
                    assert_eq!(label(key, "reason"), kind.as_str());
                    assert_eq!(label(key, "source"), name);
                }
            }
            assert_eq!(label(cache(true), "result"), "hit");
            assert_eq!(label(cache(false), "result"), "miss");
        }
    }
}
