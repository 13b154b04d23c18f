//! [`WebhookVerifier`]: the token in `Authorization`, then the body's size and hash.

use std::time::SystemTime;

use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{WebhookError, WebhookErrorKind};
use crate::claims::Claims;
use crate::credentials::{authorization, bearer};
use crate::verify::{Source, Verifier};

/// The default limit on a webhook body: 1 MiB.
pub const DEFAULT_WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

/// base64 (standard, padded) of the SHA-256 of `body`: the `sha256` claim of a webhook token.
#[must_use]
pub fn body_sha256(body: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(Sha256::digest(body))
}

/// Verifies webhook requests: the token in `Authorization` and the body's hash.
#[derive(Clone, Debug)]
pub struct WebhookVerifier {
    pub(super) verifier: Verifier,
    pub(super) body_limit: usize,
}

impl WebhookVerifier {
    /// Verifies webhook tokens with `verifier` (the keys LiveKit signs webhooks with).
    #[must_use]
    pub fn new(verifier: Verifier) -> Self {
        WebhookVerifier {
            verifier,
            body_limit: DEFAULT_WEBHOOK_BODY_LIMIT,
        }
    }

    /// Refuse bodies over `limit` bytes (default 1 MiB).
    #[must_use]
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Checks a webhook request now: returns the token's claims if the token verifies and its
    /// `sha256` is the hash of `body`.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Claims, WebhookError> {
        self.verify_at(headers, body, self.verifier.now())
    }

    /// [`verify`](Self::verify) as if the time were `now`: the token first, then the body's
    /// size and hash (see [`verify_token_at`](Self::verify_token_at) and
    /// [`check_body`](Self::check_body), the two halves).
    pub fn verify_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Claims, WebhookError> {
        let claims = self.verify_token_at(headers, now)?;
        self.check_body(&claims, body)?;
        Ok(claims)
    }

    /// The first half, before any of the body is read: the token in `Authorization` (LiveKit
    /// sends it bare; a `Bearer ` prefix from a proxy or a tool is tolerated) verifies at `now`
    /// and carries a `sha256` claim.
    pub fn verify_token_at(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<Claims, WebhookError> {
        let missing = || WebhookError::new(WebhookErrorKind::MissingToken);
        let value = authorization(headers).ok().flatten().ok_or_else(missing)?;
        let token = match bearer(value) {
            Ok(token) => token,
            Err(_) if value.trim_ascii().eq_ignore_ascii_case(b"bearer") => return Err(missing()),
            Err(_) => value,
        };
        if token.is_empty() {
            return Err(missing());
        }
        let claims = self
            .verifier
            .verify_bytes_at(token, now, Source::Webhook)
            .map_err(WebhookError::invalid_token)?;
        if claims.sha256().is_none() {
            return Err(WebhookError::new(WebhookErrorKind::MissingBodyHash));
        }
        Ok(claims)
    }

    /// The second half: `body` is within the limit and its SHA-256 is the `sha256` claim of
    /// `claims` (compared in constant time).
    pub fn check_body(&self, claims: &Claims, body: &[u8]) -> Result<(), WebhookError> {
        if body.len() > self.body_limit {
            return Err(WebhookError::new(WebhookErrorKind::BodyTooLarge));
        }
        let claimed = claims
            .sha256()
            .ok_or(WebhookError::new(WebhookErrorKind::MissingBodyHash))?;
        let actual = body_sha256(body);
        if !bool::from(claimed.as_bytes().ct_eq(actual.as_bytes())) {
            return Err(WebhookError::new(WebhookErrorKind::BodyHashMismatch));
        }
        Ok(())
    }
}
