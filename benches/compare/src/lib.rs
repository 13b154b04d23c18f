//! Side-by-side LiveKit token verification benchmarks (not published).
//!
//! - [`tokens`]: the shared token set (fixed times, one API key) and the rejection tokens.
//! - [`peers`]: the verifiers compared, each set up once outside the measured loop exactly as a
//!   server would hold it: this crate's `Verifier`, `jsonwebtoken::decode`, `livekit-api`'s
//!   `TokenVerifier`, and the bare [`reference`] loop.
//! - [`interleaved`]: the four verifiers timed in alternating bursts (robust ratios).
//! - [`middleware`]: `AuthLayer` around a do-nothing service, called without a network.
//! - [`threads`]: the custom 1-vs-2-thread throughput measurement.
//! - [`processes`]: `redis-server` and demo server replicas, for the Redis measurements
//!   (`src/bin/propagation.rs`, `src/bin/outage.rs`).

pub mod interleaved;
pub mod middleware;
pub mod peers;
pub mod processes;
pub mod reference;
pub mod threads;
pub mod tokens;

/// Quick mode (`BENCH_QUICK=1`): shorter measurements, for `run.sh --quick` and CI smoke runs.
pub fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Asserts that the comparison compares like with like: every verifier accepts every token of
/// `set`, and the crate refuses the rejection tokens for the reason each stands for, as do the
/// others. The bench runs it before measuring; `cargo test` here runs it too (in `.ci/run`).
pub fn check_agreement(peers: &peers::Peers, set: &[String]) {
    use tower_livekit_auth::VerifyErrorKind;

    for name in peers::NAMES {
        for token in set {
            assert!(
                peers.accepts(name, token),
                "{name} refused a token of the set"
            );
        }
    }
    let v = &peers.crate_verifier;
    let kind = |t: &str| {
        v.verify_at(t, tokens::now())
            .map(|_| ())
            .map_err(|e| e.kind())
    };
    assert_eq!(
        kind(&tokens::bad_signature()),
        Err(VerifyErrorKind::InvalidSignature)
    );
    assert_eq!(
        kind(&tokens::unknown_key()),
        Err(VerifyErrorKind::UnknownKey)
    );
    assert_eq!(kind(&tokens::expired()), Err(VerifyErrorKind::Expired));
    for name in peers::NAMES {
        for bad in [
            tokens::bad_signature(),
            tokens::unknown_key(),
            tokens::expired(),
        ] {
            assert!(!peers.accepts(name, &bad), "{name} accepted a bad token");
        }
    }
    // The middleware and cache benches measure what they claim to: the layer accepts and
    // refuses, and a cached verifier answers as the plain one does.
    use http::StatusCode;
    let cached = peers.crate_verifier.clone().with_cache(1024, 1 << 20);
    for verifier in [peers.crate_verifier.clone(), cached] {
        let mut layered = middleware::layered(verifier);
        for token in set {
            let request = middleware::request(&middleware::bearer(token));
            assert_eq!(middleware::status(&mut layered, request), StatusCode::OK);
        }
        let forged = middleware::request(&middleware::bearer(&tokens::bad_signature()));
        assert_eq!(
            middleware::status(&mut layered, forged),
            StatusCode::UNAUTHORIZED
        );
    }
    let plain = middleware::request(&middleware::bearer(&set[0]));
    assert_eq!(
        middleware::status(&mut middleware::Handler, plain),
        StatusCode::NO_CONTENT
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_verifier_accepts_the_set_and_refuses_the_bad_tokens() {
        let set = super::tokens::accepted();
        assert_eq!(set.len(), 16);
        super::check_agreement(&super::peers::Peers::new(), &set);
    }
}
