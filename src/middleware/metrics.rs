//! The layers' counter (feature `metrics`, see the crate docs' "Metrics"):
//! `livekit_auth_rejections_total` by kind.

use super::rejection::RejectionKind;

/// One refusal by a layer.
#[inline]
pub(crate) fn rejection(kind: RejectionKind) {
    #[cfg(feature = "metrics")]
    crate::metrics::count(key(kind));
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// The key of one refusal. One arm per kind: a new [`RejectionKind`] does not compile until it
/// has its arm here, and its `kind` label is its own `as_str()`.
#[cfg(feature = "metrics")]
fn key(kind: RejectionKind) -> &'static metrics::Key {
    macro_rules! rejected {
        ($kind:ident) => {
            crate::metrics::key!(
                "livekit_auth_rejections_total",
                "kind" = RejectionKind::$kind.as_str()
            )
        };
    }
    match kind {
        RejectionKind::MissingToken => rejected!(MissingToken),
        RejectionKind::MalformedRequest => rejected!(MalformedRequest),
        RejectionKind::InvalidToken => rejected!(InvalidToken),
        RejectionKind::Unavailable => rejected!(Unavailable),
        RejectionKind::InsufficientScope => rejected!(InsufficientScope),
    }
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;
    use crate::metrics::label;

    #[test]
    fn every_key_carries_the_names_the_docs_give() {
        for kind in [
            RejectionKind::MissingToken,
            RejectionKind::MalformedRequest,
            RejectionKind::InvalidToken,
            RejectionKind::Unavailable,
            RejectionKind::InsufficientScope,
        ] {
            assert_eq!(key(kind).name(), "livekit_auth_rejections_total");
            assert_eq!(label(key(kind), "kind"), kind.as_str());
        }
    }
}
