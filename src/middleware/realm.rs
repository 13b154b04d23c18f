//! [`Realm`]: the realm of the `WWW-Authenticate` challenge, set once on the
//! [`AuthLayer`](super::AuthLayer) and carried to everything behind it.

use std::sync::{Arc, OnceLock};

use http::Extensions;

/// The realm of the `WWW-Authenticate` challenge unless
/// [`AuthLayer::with_realm`](super::AuthLayer::with_realm) sets another.
pub const DEFAULT_REALM: &str = "livekit";

/// A realm, sanitized for a quoted-string. An [`AuthLayer`](super::AuthLayer) with a realm of
/// its own puts it into the request's extensions, so that the
/// [`RequireLayer`](super::RequireLayer)s and extractors behind it challenge with the same one;
/// with the default realm it puts nothing there (no allocation per request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Realm(Arc<str>);

impl Realm {
    /// `realm` without what a quoted-string cannot hold: quotes, backslashes, non-ASCII,
    /// controls.
    pub(crate) fn new(realm: &str) -> Self {
        Realm(
            realm
                .chars()
                .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\')
                .collect::<String>()
                .into(),
        )
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_default(&self) -> bool {
        &*self.0 == DEFAULT_REALM
    }

    /// The realm the [`AuthLayer`](super::AuthLayer) in front of this request set, or the
    /// default.
    pub(crate) fn of(extensions: &Extensions) -> Self {
        extensions.get::<Realm>().cloned().unwrap_or_default()
    }
}

impl Default for Realm {
    fn default() -> Self {
        static DEFAULT: OnceLock<Arc<str>> = OnceLock::new();
        Realm(DEFAULT.get_or_init(|| DEFAULT_REALM.into()).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_realm_loses_what_a_quoted_string_cannot_hold() {
        assert_eq!(Realm::new("my \"app\" \\ é\n").as_str(), "my app  ");
        assert!(Realm::default().is_default());
        assert!(!Realm::new("other").is_default());
    }

    #[test]
    fn the_realm_of_a_request_is_the_one_put_there_or_the_default() {
        let mut extensions = Extensions::new();
        assert_eq!(Realm::of(&extensions), Realm::default());
        extensions.insert(Realm::new("app"));
        assert_eq!(Realm::of(&extensions).as_str(), "app");
    }
}
