pub mod fixtures;
pub mod oracle;

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
