//! Where `lkauth`'s keys come from, failing closed: the dev key only when no key at all is
//! configured, never as a fallback for a configuration that is wrong.

use tower_livekit_auth::{KeyErrorKind, KeyRing};

/// The keys from the environment (read through `lookup`), or LiveKit's dev key when none are
/// set (the `bool` says so). Any other problem, such as `LIVEKIT_API_KEY` without
/// `LIVEKIT_API_SECRET`, is an error: falling back to a public key there would run the server
/// open while its operator believes it configured.
pub fn load_keys(lookup: impl Fn(&str) -> Option<String>) -> Result<(KeyRing, bool), String> {
    match KeyRing::new().with_env_from(lookup) {
        Ok(keys) => Ok((keys, false)),
        Err(err) if err.kind() == KeyErrorKind::MissingEnv => {
            let dev = KeyRing::allowing_weak_secrets()
                .with_key(crate::serve::DEV_KEY, crate::serve::DEV_SECRET)
                .map_err(|e| e.to_string())?;
            Ok((dev, true))
        }
        Err(err) => Err(err.to_string()),
    }
}
