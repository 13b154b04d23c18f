//! What the crate tells the `metrics` facade (feature `metrics`): the library emits, the
//! application installs the recorder. The names and labels are listed in the crate docs
//! ("Metrics").
//!
//! Every key is a `static` built at compile time, so that emitting allocates nothing and,
//! without a recorder, costs one atomic load.

/// Where a token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Header = 0,
    Query = 1,
    Webhook = 2,
    Direct = 3,
}

#[cfg(feature = "metrics")]
mod keys {
    use metrics::{Key, Label, Level, Metadata};

    use crate::middleware::RejectionKind;
    use crate::verify::VerifyErrorKind;

    pub(super) static METADATA: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

    /// A key with static labels. (The labels are a `static` of their own: a `Label` has a
    /// destructor, so a temporary array of them would not live for `'static`.)
    macro_rules! key {
        ($name:literal $(, $label:literal = $value:literal)*) => {{
            static LABELS: &[Label] = &[$(Label::from_static_parts($label, $value)),*];
            Key::from_static_parts($name, LABELS)
        }};
    }

    macro_rules! verification {
        ($outcome:literal, $reason:literal, $source:literal) => {
            key!(
                "livekit_auth_verifications_total",
                "outcome" = $outcome,
                "reason" = $reason,
                "source" = $source
            )
        };
    }

    /// Accepted, then each refusal in [`reason`]'s order.
    macro_rules! by_reason {
        ($source:literal) => {
            [
                verification!("accepted", "none", $source),
                verification!("refused", "malformed", $source),
                verification!("refused", "unsupported_algorithm", $source),
                verification!("refused", "missing_issuer", $source),
                verification!("refused", "unknown_key", $source),
                verification!("refused", "invalid_signature", $source),
                verification!("refused", "missing_expiry", $source),
                verification!("refused", "expired", $source),
                verification!("refused", "not_yet_valid", $source),
                verification!("refused", "issued_in_future", $source),
                verification!("refused", "invalid_audience", $source),
                verification!("refused", "invalid_claim", $source),
                verification!("refused", "token_too_long", $source),
                verification!("refused", "revoked", $source),
                verification!("refused", "state_unavailable", $source),
            ]
        };
    }

    /// By [`Source`](super::Source), then by [`reason`].
    pub(super) static VERIFICATIONS: [[Key; 15]; 4] = [
        by_reason!("header"),
        by_reason!("query"),
        by_reason!("webhook"),
        by_reason!("direct"),
    ];

    /// The row of `refused` in [`VERIFICATIONS`]: 0 for accepted.
    pub(super) fn reason(refused: Option<VerifyErrorKind>) -> usize {
        match refused {
            None => 0,
            Some(VerifyErrorKind::Malformed) => 1,
            Some(VerifyErrorKind::UnsupportedAlgorithm) => 2,
            Some(VerifyErrorKind::MissingIssuer) => 3,
            Some(VerifyErrorKind::UnknownKey) => 4,
            Some(VerifyErrorKind::InvalidSignature) => 5,
            Some(VerifyErrorKind::MissingExpiry) => 6,
            Some(VerifyErrorKind::Expired) => 7,
            Some(VerifyErrorKind::NotYetValid) => 8,
            Some(VerifyErrorKind::IssuedInFuture) => 9,
            Some(VerifyErrorKind::InvalidAudience) => 10,
            Some(VerifyErrorKind::InvalidClaim) => 11,
            Some(VerifyErrorKind::TokenTooLong) => 12,
            Some(VerifyErrorKind::Revoked) => 13,
            Some(VerifyErrorKind::StateUnavailable) => 14,
        }
    }

    pub(super) static REJECTIONS: [Key; 5] = [
        key!("livekit_auth_rejections_total", "kind" = "missing_token"),
        key!(
            "livekit_auth_rejections_total",
            "kind" = "malformed_request"
        ),
        key!("livekit_auth_rejections_total", "kind" = "invalid_token"),
        key!("livekit_auth_rejections_total", "kind" = "unavailable"),
        key!(
            "livekit_auth_rejections_total",
            "kind" = "insufficient_scope"
        ),
    ];

    pub(super) fn rejection(kind: RejectionKind) -> usize {
        match kind {
            RejectionKind::MissingToken => 0,
            RejectionKind::MalformedRequest => 1,
            RejectionKind::InvalidToken => 2,
            RejectionKind::Unavailable => 3,
            RejectionKind::InsufficientScope => 4,
        }
    }

    pub(super) static CACHE: [Key; 2] = [
        key!("livekit_auth_token_cache_total", "result" = "miss"),
        key!("livekit_auth_token_cache_total", "result" = "hit"),
    ];

    #[cfg(test)]
    mod tests {
        use super::*;

        fn label(key: &Key, name: &str) -> String {
            key.labels()
                .find(|l| l.key() == name)
                .map(|l| l.value().to_owned())
                .unwrap_or_default()
        }

        #[test]
        fn every_key_carries_the_names_the_docs_give() {
            for (row, source) in ["header", "query", "webhook", "direct"].iter().enumerate() {
                let accepted = &VERIFICATIONS[row][reason(None)];
                assert_eq!(
                    (label(accepted, "outcome"), label(accepted, "reason")),
                    ("accepted".into(), "none".into())
                );
                for &kind in VerifyErrorKind::ALL {
                    let key = &VERIFICATIONS[row][reason(Some(kind))];
                    assert_eq!(label(key, "reason"), kind.as_str());
                    assert_eq!(label(key, "source"), *source);
                }
            }
            for kind in [
                RejectionKind::MissingToken,
                RejectionKind::MalformedRequest,
                RejectionKind::InvalidToken,
                RejectionKind::Unavailable,
                RejectionKind::InsufficientScope,
            ] {
                assert_eq!(label(&REJECTIONS[rejection(kind)], "kind"), kind.as_str());
            }
        }
    }
}

/// One verification, accepted (`None`) or refused for `refused`.
#[inline]
pub(crate) fn verification(refused: Option<crate::verify::VerifyErrorKind>, source: Source) {
    #[cfg(feature = "metrics")]
    count(&keys::VERIFICATIONS[source as usize][keys::reason(refused)]);
    #[cfg(not(feature = "metrics"))]
    let _ = (refused, source);
}

/// One refusal by a layer.
#[inline]
pub(crate) fn rejection(kind: crate::middleware::RejectionKind) {
    #[cfg(feature = "metrics")]
    count(&keys::REJECTIONS[keys::rejection(kind)]);
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// One look-up in the token cache.
#[inline]
pub(crate) fn cache(hit: bool) {
    #[cfg(feature = "metrics")]
    count(&keys::CACHE[usize::from(hit)]);
    #[cfg(not(feature = "metrics"))]
    let _ = hit;
}

#[cfg(feature = "metrics")]
#[inline]
fn count(key: &'static metrics::Key) {
    metrics::with_recorder(|recorder| recorder.register_counter(key, &keys::METADATA).increment(1));
}
