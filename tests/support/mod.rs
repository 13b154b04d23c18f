pub mod fixtures;
pub mod oracle;
pub mod redis;

/// RFC 6750 §2.1 `b64token`: what a bearer credential may contain. Written here from the RFC,
/// apart from the crate's own check, to predict 400 (not a token at all) versus 401.
#[allow(dead_code)]
pub(crate) fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Fails if `text` (an error message, a `Debug` output, a log) shows any of `secrets` or any 8
/// bytes in a row of `token`: every dot-separated segment, and a sample of 8-byte windows (all of
/// them for a token of up to 32 KiB).
#[allow(dead_code)]
pub(crate) fn assert_no_leak(what: &str, text: &str, token: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
    for segment in token.split('.').filter(|s| s.len() >= 8) {
        assert!(
            !text.contains(segment),
            "{what} shows a token segment: {text}"
        );
    }
    let bytes = token.as_bytes();
    if bytes.len() >= 8 {
        let step = (bytes.len() / 4096).max(1);
        for start in (0..=bytes.len() - 8).step_by(step) {
            if let Ok(window) = std::str::from_utf8(&bytes[start..start + 8]) {
                assert!(!text.contains(window), "{what} shows {window:?}: {text}");
            }
        }
    }
}

/// A fuzz reproducer from `tests/regressions/`: any file there but the `*.md` notes.
#[allow(dead_code)]
pub(crate) struct Reproducer {
    pub(crate) path: std::path::PathBuf,
    pub(crate) bytes: Vec<u8>,
}

#[allow(dead_code)]
impl Reproducer {
    /// An input of the `differential` fuzz target (a mode byte, then material, see
    /// `oracle::token_from_fuzz_input`) rather than a token's bytes.
    pub(crate) fn is_differential_input(&self) -> bool {
        self.path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("differential-"))
    }
}

/// Every reproducer in `tests/regressions/`.
#[allow(dead_code)]
pub(crate) fn reproducers() -> Vec<Reproducer> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/regressions exists") {
        let path = entry.expect("readable entry").path();
        if path.is_file() && path.extension().is_none_or(|e| e != "md") {
            let bytes = std::fs::read(&path).expect("readable reproducer");
            found.push(Reproducer { path, bytes });
        }
    }
    found
}
