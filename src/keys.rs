//! [`KeyRing`]: the API key → secret pairs that tokens are verified against.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::jws::{self, HmacSha256};

/// The shortest secret accepted outside [`KeyRing::allowing_weak_secrets`]. LiveKit's generated
/// secrets are 43 characters; the LiveKit server logs an error below 32.
pub const MIN_SECRET_LEN: usize = 32;

/// One API key's secret, and the HMAC state keyed with it, computed once so that verifying a
/// token never re-derives the key.
#[derive(Clone)]
pub(crate) struct Secret {
    bytes: Zeroizing<Vec<u8>>,
    mac: HmacSha256,
}

impl Secret {
    fn new(secret: &str) -> Self {
        Secret {
            bytes: Zeroizing::new(secret.as_bytes().to_vec()),
            mac: jws::keyed(secret.as_bytes()),
        }
    }

    /// The raw secret, for minting.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A fresh HMAC-SHA256 state keyed with this secret (a copy of the precomputed one).
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }
}

/// API keys and their secrets, the way the LiveKit server holds them.
///
/// Build one by hand with [`insert`](Self::insert), or read LiveKit's own formats:
/// [`from_yaml`](Self::from_yaml) (`key: secret` per line, the `keys:` section and the
/// `LIVEKIT_KEYS` variable), [`from_file`](Self::from_file) (the server's `key_file`) and
/// [`from_env`](Self::from_env).
///
/// Secrets shorter than [`MIN_SECRET_LEN`] bytes are refused, except in a ring made with
/// [`allowing_weak_secrets`](Self::allowing_weak_secrets): LiveKit's development key
/// `devkey: secret` needs it. `Debug` lists the API keys and never a secret; secrets are zeroed
/// when the key ring is dropped.
///
/// ```
/// use tower_livekit_auth::KeyRing;
///
/// let keys = KeyRing::from_yaml("APIabcdefg: somesecretencodedinbase62extendto32bytes\n")?;
/// assert!(keys.contains("APIabcdefg"));
/// assert!(!format!("{keys:?}").contains("somesecret"));
///
/// // The development key is too short to be accepted by accident.
/// assert!(KeyRing::from_yaml("devkey: secret").is_err());
/// let dev = KeyRing::allowing_weak_secrets().with_yaml("devkey: secret")?;
/// assert_eq!(dev.len(), 1);
/// # Ok::<(), tower_livekit_auth::KeyError>(())
/// ```
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, Secret>,
    allow_weak: bool,
}

impl KeyRing {
    /// An empty key ring.
    #[must_use]
    pub fn new() -> Self {
        KeyRing::default()
    }

    /// An empty key ring that accepts secrets shorter than [`MIN_SECRET_LEN`] bytes, for
    /// development keys only (LiveKit's `devkey: secret`): a short secret can be brute-forced
    /// from a single token. A constructor rather than a switch, so that what a ring accepts
    /// never depends on the order of calls: every key added to it, by any method, is held to
    /// the same rule.
    #[must_use]
    pub fn allowing_weak_secrets() -> Self {
        KeyRing {
            allow_weak: true,
            ..KeyRing::default()
        }
    }

    /// Adds `api_key` with `secret`. The key and secret must be non-empty, the key new, and the
    /// secret at least [`MIN_SECRET_LEN`] bytes unless weak secrets are allowed.
    pub fn insert(&mut self, api_key: &str, secret: &str) -> Result<&mut Self, KeyError> {
        if api_key.is_empty() {
            return Err(KeyError::new(KeyErrorKind::EmptyKey, None));
        }
        if secret.is_empty() {
            return Err(KeyError::new(KeyErrorKind::EmptySecret, Some(api_key)));
        }
        if self.keys.contains_key(api_key) {
            return Err(KeyError::new(KeyErrorKind::DuplicateKey, Some(api_key)));
        }
        if secret.len() < MIN_SECRET_LEN && !self.allow_weak {
            return Err(KeyError::new(KeyErrorKind::WeakSecret, Some(api_key)));
        }
        self.keys.insert(api_key.to_owned(), Secret::new(secret));
        Ok(self)
    }

    /// [`insert`](Self::insert), by value, for building a key ring in one expression.
    pub fn with_key(mut self, api_key: &str, secret: &str) -> Result<Self, KeyError> {
        self.insert(api_key, secret)?;
        Ok(self)
    }

    /// Removes `api_key`; returns whether it was there.
    pub fn remove(&mut self, api_key: &str) -> bool {
        self.keys.remove(api_key).is_some()
    }

    /// Whether `api_key` is in the ring.
    #[must_use]
    pub fn contains(&self, api_key: &str) -> bool {
        self.keys.contains_key(api_key)
    }

    /// The number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring has no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The API keys, in byte order.
    pub fn api_keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// A `BTreeMap` rather than a `HashMap`: a ring holds a few keys, and comparing `iss` with
    /// them costs less than SipHashing it on every verification.
    pub(crate) fn secret(&self, api_key: &str) -> Option<&Secret> {
        self.keys.get(api_key)
    }

    /// Reads LiveKit's key format: a YAML map of `key: secret`, one per line. Values are trimmed
    /// and quoted YAML is honoured; a key given twice is an error.
    pub fn from_yaml(text: &str) -> Result<Self, KeyError> {
        KeyRing::new().with_yaml(text)
    }

    /// Adds the keys of a YAML text (see [`from_yaml`](Self::from_yaml)) to this ring.
    pub fn with_yaml(mut self, text: &str) -> Result<Self, KeyError> {
        if text.trim().is_empty() {
            return Err(KeyError::new(KeyErrorKind::NoKeys, None));
        }
        let pairs: YamlPairs = serde_norway::from_str(text)
            .map_err(|_| KeyError::new(KeyErrorKind::InvalidYaml, None))?;
        if pairs.0.is_empty() {
            return Err(KeyError::new(KeyErrorKind::NoKeys, None));
        }
        for (key, secret) in pairs.0.iter() {
            self.insert(key.trim(), secret.trim())?;
        }
        Ok(self)
    }

    /// Reads a LiveKit key file (`key_file:` in the server's config): YAML `key: secret` lines.
    /// Like the LiveKit server, it refuses a file that grants any permission to "others" (on
    /// Unix, `mode & 0o007 != 0`); the error says which `chmod` fixes it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        KeyRing::new().with_file(path)
    }

    /// Adds the keys of a key file (see [`from_file`](Self::from_file)) to this ring.
    pub fn with_file(self, path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let io_error = |err: std::io::Error| KeyError {
            kind: KeyErrorKind::Io,
            api_key: None,
            // The OS's reason in the text too: many print only the message (as `ConfigError`).
            detail: Some(format!("cannot read key file {}: {err}", path.display())),
            source: Some(err),
        };
        let metadata = std::fs::metadata(path).map_err(io_error)?;
        check_file_mode(path, &metadata)?;
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io_error)?);
        self.with_yaml(&text)
    }

    /// Reads the keys from the environment as LiveKit does: `LIVEKIT_KEYS` (YAML text, as the
    /// server reads it), otherwise the SDKs' `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET`.
    pub fn from_env() -> Result<Self, KeyError> {
        KeyRing::new().with_env()
    }

    /// Adds the keys found by [`from_env`](Self::from_env) to this ring: with
    /// [`allowing_weak_secrets`](Self::allowing_weak_secrets), the way to run on LiveKit's
    /// development key (`livekit-server --dev`, `devkey: secret`).
    ///
    /// ```no_run
    /// use tower_livekit_auth::KeyRing;
    ///
    /// // LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret: development only.
    /// let keys = KeyRing::allowing_weak_secrets().with_env()?;
    /// # Ok::<(), tower_livekit_auth::KeyError>(())
    /// ```
    pub fn with_env(self) -> Result<Self, KeyError> {
        self.with_env_from(|name| std::env::var(name).ok())
    }

    /// Adds the keys found by [`from_env`](Self::from_env) to this ring, reading variables
    /// through `lookup` (pass `|name| std::env::var(name).ok()`, or a map in tests).
    pub fn with_env_from(self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, KeyError> {
        if let Some(text) = lookup("LIVEKIT_KEYS").filter(|text| !text.trim().is_empty()) {
            return self.with_yaml(&Zeroizing::new(text));
        }
        match (
            lookup("LIVEKIT_API_KEY"),
            lookup("LIVEKIT_API_SECRET").map(Zeroizing::new),
        ) {
            (Some(key), Some(secret)) => self.with_key(key.trim(), secret.trim()),
            (None, None) => Err(KeyError::new(KeyErrorKind::MissingEnv, None)),
            // One without the other is a mistake to report, never a reason to fall back.
            (Some(_), None) | (None, Some(_)) => {
                Err(KeyError::new(KeyErrorKind::IncompleteEnv, None))
            }
        }
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.api_keys().collect();
        f.debug_struct("KeyRing")
            .field("api_keys", &keys)
            .field("allow_weak_secrets", &self.allow_weak)
            .finish()
    }
}

#[cfg(unix)]
fn check_file_mode(path: &Path, metadata: &std::fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o007 != 0 {
        return Err(KeyError {
            kind: KeyErrorKind::InsecureFile,
            api_key: None,
            source: None,
            detail: Some(format!(
                "key file {} has mode {mode:03o}, which lets other users read it; \
                 run `chmod 600 {}` (or 640) and start again",
                path.display(),
                path.display()
            )),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_file_mode(_: &Path, _: &std::fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}

/// `key: secret` pairs in file order, secrets zeroed when dropped.
struct YamlPairs(Vec<(String, Zeroizing<String>)>);

impl<'de> Deserialize<'de> for YamlPairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = YamlPairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of API key to secret")
            }
            fn visit_unit<E: de::Error>(self) -> Result<YamlPairs, E> {
                Ok(YamlPairs(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlPairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some((key, secret)) = map.next_entry::<String, String>()? {
                    pairs.push((key, Zeroizing::new(secret)));
                }
                Ok(YamlPairs(pairs))
            }
        }
        deserializer.deserialize_any(PairsVisitor)
    }
}

/// Why a key or a key ring was refused. Never contains a secret. A key file that cannot be read
/// keeps the operating system's error as its [`source`](std::error::Error::source).
///
/// Its `Debug` carries the message, which says what to do: a `main` that returns
/// `Result<(), Box<dyn Error>>` prints it (`Error: {err:?}`) as it exits.
///
/// ```
/// use tower_livekit_auth::KeyRing;
///
/// let err = KeyRing::from_yaml("devkey: secret").unwrap_err();
/// let printed = format!("Error: {err:?}");
/// assert!(printed.starts_with("Error: KeyError { kind: WeakSecret"));
/// assert!(printed.contains("KeyRing::allowing_weak_secrets()"));
/// ```
pub struct KeyError {
    kind: KeyErrorKind,
    api_key: Option<String>,
    detail: Option<String>,
    source: Option<std::io::Error>,
}

/// What kind of [`KeyError`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// An API key is empty.
    EmptyKey,
    /// A secret is empty.
    EmptySecret,
    /// An API key appears twice.
    DuplicateKey,
    /// A secret is shorter than [`MIN_SECRET_LEN`] bytes and weak secrets are not allowed.
    WeakSecret,
    /// The YAML text is not a map of `key: secret`.
    InvalidYaml,
    /// The YAML text, file or variable holds no key.
    NoKeys,
    /// The key file could not be read.
    Io,
    /// The key file can be read by other users.
    InsecureFile,
    /// Neither `LIVEKIT_KEYS` nor `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` are set.
    MissingEnv,
    /// Only one of `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` is set (and no `LIVEKIT_KEYS`).
    IncompleteEnv,
}

impl KeyError {
    fn new(kind: KeyErrorKind, api_key: Option<&str>) -> Self {
        KeyError {
            kind,
            api_key: api_key.map(str::to_owned),
            detail: None,
            source: None,
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> KeyErrorKind {
        self.kind
    }

    /// The API key the error is about, when there is one.
    #[must_use]
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }
}

impl fmt::Debug for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("KeyError");
        debug.field("kind", &self.kind);
        if let Some(api_key) = &self.api_key {
            debug.field("api_key", api_key);
        }
        debug.field("message", &self.to_string());
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(detail) = &self.detail {
            return f.write_str(detail);
        }
        let key = self.api_key.as_deref().unwrap_or("");
        match self.kind {
            KeyErrorKind::EmptyKey => f.write_str("an API key is empty; give every secret a key"),
            KeyErrorKind::EmptySecret => write!(f, "the secret of API key `{key}` is empty"),
            KeyErrorKind::DuplicateKey => {
                write!(f, "API key `{key}` is given twice; keep one secret per key")
            }
            KeyErrorKind::WeakSecret => write!(
                f,
                "the secret of API key `{key}` is shorter than {MIN_SECRET_LEN} bytes and could be \
                 guessed from one token; generate a longer one (LiveKit's are 43 characters), or \
                 use KeyRing::allowing_weak_secrets() for a development key such as devkey/secret"
            ),
            KeyErrorKind::InvalidYaml => {
                f.write_str("the key text is not YAML of the form `key: secret`, one pair per line")
            }
            KeyErrorKind::NoKeys => f.write_str("the key text holds no `key: secret` pair"),
            KeyErrorKind::Io => f.write_str("the key file cannot be read"),
            KeyErrorKind::InsecureFile => f.write_str("the key file can be read by other users"),
            KeyErrorKind::MissingEnv => f.write_str(
                "no LiveKit keys in the environment: set LIVEKIT_KEYS to `key: secret` lines, or \
                 LIVEKIT_API_KEY and LIVEKIT_API_SECRET",
            ),
            KeyErrorKind::IncompleteEnv => f.write_str(
                "only one of LIVEKIT_API_KEY and LIVEKIT_API_SECRET is set: set both (or \
                 LIVEKIT_KEYS), or neither",
            ),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|err| err as _)
    }
}

/// An environment of these variables and no others, for the tests of what reads one.
#[cfg(test)]
pub(crate) fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::env_of as env;

    const STRONG: &str = "somesecretencodedinbase62extendto32bytes";

    #[test]
    fn key_file_text_is_parsed_and_trimmed() {
        let ring = KeyRing::allowing_weak_secrets()
            .with_yaml("key1: secret1\nkey2: secret2 \r\n\nkey3: secret3")
            .expect("a key file's `key: secret` lines parse");
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.secret("key2").expect("key2").bytes(), b"secret2");
    }

    #[test]
    fn quoted_yaml_and_numbers_are_honoured() {
        let ring = KeyRing::allowing_weak_secrets()
            .with_yaml("\"k1\": ' spaced secret '\nk2: 12345\n")
            .expect("parses");
        assert_eq!(ring.secret("k1").expect("k1").bytes(), b"spaced secret");
        assert_eq!(ring.secret("k2").expect("k2").bytes(), b"12345");
    }

    #[test]
    fn weak_secrets_are_refused_with_a_way_out() {
        let err = KeyRing::from_yaml("devkey: secret").expect_err("weak");
        assert_eq!(err.kind(), KeyErrorKind::WeakSecret);
        assert_eq!(err.api_key(), Some("devkey"));
        let message = err.to_string();
        assert!(message.contains("allowing_weak_secrets"), "{message}");
        assert!(!message.contains(": secret"), "{message}");
    }

    #[test]
    fn empty_and_duplicate_keys_are_errors() {
        let mut ring = KeyRing::new();
        assert_eq!(
            ring.insert("", STRONG).err().map(|e| e.kind()),
            Some(KeyErrorKind::EmptyKey)
        );
        assert_eq!(
            ring.insert("k", "").err().map(|e| e.kind()),
            Some(KeyErrorKind::EmptySecret)
        );
        ring.insert("k", STRONG).expect("first insert");
        assert_eq!(
            ring.insert("k", STRONG).err().map(|e| e.kind()),
            Some(KeyErrorKind::DuplicateKey)
        );
        let dup = KeyRing::from_yaml(&format!("k: {STRONG}\nk: {STRONG}x\n")).expect_err("dup");
        assert!(matches!(
            dup.kind(),
            KeyErrorKind::DuplicateKey | KeyErrorKind::InvalidYaml
        ));
        assert!(!dup.to_string().contains(STRONG));
    }

    #[test]
    fn bad_yaml_and_empty_text_are_errors() {
        assert_eq!(
            KeyRing::from_yaml("- a\n- b").err().map(|e| e.kind()),
            Some(KeyErrorKind::InvalidYaml)
        );
        assert_eq!(
            KeyRing::from_yaml("").err().map(|e| e.kind()),
            Some(KeyErrorKind::NoKeys)
        );
        assert_eq!(
            KeyRing::from_yaml("k: {nested: map}")
                .err()
                .map(|e| e.kind()),
            Some(KeyErrorKind::InvalidYaml)
        );
    }

    /// Compiles only for types that wipe their memory when dropped (`zeroize::ZeroizeOnDrop`).
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}

    #[test]
    fn secrets_are_held_in_types_that_wipe_on_drop() {
        let ring = KeyRing::new().with_key("k", STRONG).expect("key");
        let secret = ring.secret("k").expect("secret");
        wiped_on_drop(&secret.bytes);
        assert_eq!(secret.bytes(), STRONG.as_bytes());
    }

    #[test]
    fn debug_lists_keys_but_never_secrets() {
        let ring = KeyRing::new().with_key("APIabc", STRONG).expect("insert");
        let debug = format!("{ring:?}");
        assert!(debug.contains("APIabc"));
        assert!(!debug.contains(STRONG));
    }

    #[test]
    fn environment_prefers_livekit_keys_then_the_sdk_pair() {
        let both = [
            (
                "LIVEKIT_KEYS",
                "a: somesecretencodedinbase62extendto32bytes",
            ),
            ("LIVEKIT_API_KEY", "b"),
            ("LIVEKIT_API_SECRET", STRONG),
        ];
        let ring = KeyRing::new().with_env_from(env(&both)).expect("keys");
        assert!(ring.contains("a") && !ring.contains("b"));
        let pair = [("LIVEKIT_API_KEY", "b"), ("LIVEKIT_API_SECRET", STRONG)];
        assert!(KeyRing::new()
            .with_env_from(env(&pair))
            .expect("pair")
            .contains("b"));
        let none = KeyRing::new()
            .with_env_from(env(&[]))
            .expect_err("nothing set");
        assert_eq!(none.kind(), KeyErrorKind::MissingEnv);
        for half in [[("LIVEKIT_API_KEY", "b")], [("LIVEKIT_API_SECRET", STRONG)]] {
            let err = KeyRing::new()
                .with_env_from(env(&half))
                .expect_err("half a pair");
            assert_eq!(err.kind(), KeyErrorKind::IncompleteEnv);
            assert!(!err.to_string().contains(STRONG));
        }
    }

    #[cfg(unix)]
    #[test]
    fn key_file_readable_by_others_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tlka-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("keys.yaml");
        std::fs::write(&path, format!("APIk: {STRONG}\n")).expect("write key file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = KeyRing::from_file(&path).expect_err("world-readable");
        assert_eq!(err.kind(), KeyErrorKind::InsecureFile);
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(KeyRing::from_file(&path)
            .expect("0600 file")
            .contains("APIk"));
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let missing = KeyRing::from_file(dir.join("nope")).expect_err("missing");
        assert_eq!(missing.kind(), KeyErrorKind::Io);
        assert!(missing.to_string().contains("nope"), "{missing}");
        // The reason is in the message, for whoever prints only that.
        assert!(
            missing.to_string().contains("No such file or directory"),
            "{missing}"
        );
        let cause = std::error::Error::source(&missing)
            .and_then(|cause| cause.downcast_ref::<std::io::Error>())
            .expect("the io::Error is the source");
        assert_eq!(cause.kind(), std::io::ErrorKind::NotFound);
    }
}
