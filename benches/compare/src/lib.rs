//! Side-by-side LiveKit token verification benchmarks (not published).
//!
//! - [`tokens`]: the shared token set (fixed times, one API key) and the rejection tokens.
//! - [`floor`]: the HMAC-SHA256 alone over each token's signing input: the bound every
//!   verifier is reported against.
//! - [`peers`]: the verifiers compared, each set up once outside the measured loop exactly as a
//!   server would hold it: this crate's `Verifier`, `jsonwebtoken::decode`, `livekit-api`'s
//!   `TokenVerifier`, and the bare [`reference`] loop.
//! - [`state`]: the crate with a participant state of 100,000 other participants, in memory
//!   and through Redis.
//! - [`interleaved`]: the candidates timed in alternating bursts (robust ratios).
//! - [`middleware`]: `AuthLayer` around a do-nothing service, called without a network.
//! - [`threads`]: the custom 1-vs-2-thread throughput measurement.
//! - [`processes`]: `redis-server` and `lkauth serve` replicas, for the Redis measurements
//!   (`src/bin/propagation.rs`, `src/bin/outage.rs`).

pub mod floor;
pub mod interleaved;
pub mod middleware;
pub mod peers;
pub mod processes;
pub mod reference;
pub mod state;
pub mod threads;
pub mod tokens;

use std::hint::black_box;

use interleaved::Candidate;

/// One verification with `verifier` (the crate with or without a state), as
/// [`Peers::verify_crate`](peers::Peers::verify_crate) makes it.
#[inline(never)]
pub fn verify_with(
    verifier: &tower_livekit_auth::Verifier,
    token: &str,
) -> Option<tower_livekit_auth::Claims> {
    verifier.verify(token).ok()
}

/// The candidates of the interleaved comparison over `set`: the floor, the four verifiers, and
/// with `states` the crate with each full store.
pub fn candidates<'a>(
    peers: &'a peers::Peers,
    set: &'a [String],
    states: Option<&'a state::States>,
) -> Vec<Candidate<'a>> {
    let mut candidates = vec![
        Candidate::new("floor", move || peers.floor.run(set)),
        Candidate::new("crate", count(set, |t| peers.verify_crate(t).is_some())),
        Candidate::new(
            "jsonwebtoken",
            count(set, |t| peers.verify_jsonwebtoken(t).is_some()),
        ),
        Candidate::new(
            "livekit_api",
            count(set, |t| peers.verify_livekit(t).is_some()),
        ),
        Candidate::new(
            "reference",
            count(set, |t| peers.verify_reference(t).is_some()),
        ),
    ];
    if let Some(states) = states {
        candidates.push(Candidate::new(
            "crate_memory_100k",
            count(set, |t| verify_with(&states.memory, t).is_some()),
        ));
        candidates.push(Candidate::new(
            "crate_redis_100k",
            count(set, |t| verify_with(&states.redis, t).is_some()),
        ));
    }
    candidates
}

/// One pass of `verify` over `set`: how many it accepted.
fn count<'a>(set: &'a [String], verify: impl Fn(&str) -> bool + 'a) -> impl Fn() -> usize + 'a {
    move || set.iter().filter(|t| verify(black_box(t))).count()
}

/// Quick mode (`BENCH_QUICK=1`): shorter measurements, for `run.sh --quick` and CI smoke runs.
pub fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Asserts that the comparison compares like with like: every verifier accepts every token of
/// `set`, and the crate refuses the rejection tokens for the reason each stands for, as do the
/// others. The bench runs it before measuring; `cargo test` here runs it too (in `.ci/run`).
pub fn check_agreement(peers: &peers::Peers, set: &[String]) {
    use tower_livekit_auth::VerifyErrorKind;

    assert_eq!(
        peers.floor.run(set),
        set.len(),
        "the floor's precomputed signatures are the set's"
    );
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
            // The floor checks the MAC only: an expired token has a good one.
            let expected = name == "floor" && bad == tokens::expired();
            assert_eq!(peers.accepts(name, &bad), expected, "{name} on a bad token");
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

/// Asserts that the state candidates measure what they claim: with the store full of other
/// participants, every token of `set` verifies to exactly the claims it has without a store,
/// the bad tokens are refused for the same reasons, and the store is really consulted (an
/// entry's participant is updated or revoked).
pub fn check_state_agreement(peers: &peers::Peers, states: &state::States, set: &[String]) {
    use tower_livekit_auth::VerifyErrorKind;

    let plain = &peers.crate_verifier;
    let now = tokens::now();
    for (name, verifier) in [("memory", &states.memory), ("redis", &states.redis)] {
        for token in set {
            assert_eq!(
                verifier.verify_at(token, now).ok(),
                plain.verify_at(token, now).ok(),
                "{name}: a token of the set verifies as without a store"
            );
        }
        for bad in [
            tokens::bad_signature(),
            tokens::unknown_key(),
            tokens::expired(),
        ] {
            assert_eq!(
                verifier.verify_at(&bad, now).map_err(|e| e.kind()).err(),
                plain.verify_at(&bad, now).map_err(|e| e.kind()).err(),
                "{name}: a bad token is refused as without a store"
            );
        }
        // other(0) was updated, other(9) removed: their (older) tokens show it.
        let updated = tokens::participant_token(state::other(0));
        let claims = verifier
            .verify_at(&updated, now)
            .expect("updated, not revoked");
        assert!(claims.was_updated() && claims.name() == "Other 0", "{name}");
        let removed = tokens::participant_token(state::other(9));
        assert_eq!(
            verifier
                .verify_at(&removed, now)
                .map_err(|e| e.kind())
                .err(),
            Some(VerifyErrorKind::Revoked),
            "{name}"
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_verifier_accepts_the_set_and_refuses_the_bad_tokens() {
        let set = super::tokens::accepted();
        assert_eq!(set.len(), 16);
        super::check_agreement(&super::peers::Peers::new(), &set);
    }

    #[test]
    fn the_state_candidates_verify_the_set_as_the_crate_does() {
        let set = super::tokens::accepted();
        let peers = super::peers::Peers::new();
        // Fewer entries than the bench's 100,000: the same code, a quicker test.
        let states = super::state::States::with_entries(&peers.crate_verifier, 2_000);
        super::check_state_agreement(&peers, &states, &set);
    }
}
