//! What `serve` and the gate share about the participant state: its options.

use tower_livekit_auth::state::StateOptions;
use tower_livekit_auth::Verifier;

/// The participant state's options for `verifier`: its leeway and its clock, so that the state
/// and the verifier agree on the time.
pub(crate) fn state_options(verifier: &Verifier) -> StateOptions {
    let clock = verifier.clone();
    StateOptions::new()
        .with_leeway(verifier.leeway())
        .with_clock(move || clock.now())
}
