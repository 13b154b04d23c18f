//! Verifying LiveKit webhooks, as LiveKit's own receiver does (`Receive` in
//! `livekit/protocol`'s `webhook/verifier.go`).
//!
//! LiveKit signs each webhook `POST` with a token in `Authorization` (the raw token, without
//! `Bearer `) whose `sha256` claim is the base64 SHA-256 of the body. [`WebhookVerifier`]
//! checks both, comparing the hash in constant time; [`WebhookLayer`] does it in front of a
//! handler: the token first, then the body (1 MiB at most by default), handing the handler the
//! verified event as a [`WebhookEvent`] extension.
//!
//! ```
//! use http::HeaderMap;
//! use tower_livekit_auth::webhook::{body_sha256, WebhookVerifier, WebhookErrorKind};
//! use tower_livekit_auth::{AccessToken, KeyRing, Verifier};
//!
//! let secret = "somesecretencodedinbase62extendto32bytes";
//! let keys = KeyRing::new().with_key("APIabcdefg", secret)?;
//! let webhooks = WebhookVerifier::new(Verifier::new(keys));
//!
//! // What the LiveKit server sends:
//! let body = br#"{"event":"room_started"}"#;
//! assert_eq!(body_sha256(body), "w9NV0uLHjSON8P7eonnkKXDHY4ICORefbHDCviKIgX8=");
//! let token = AccessToken::new("APIabcdefg", secret).with_sha256(body_sha256(body)).to_jwt()?;
//! let mut headers = HeaderMap::new();
//! headers.insert("authorization", token.parse()?);
//!
//! assert!(webhooks.verify(&headers, body).is_ok());
//! let tampered = br#"{"event":"room_finished"}"#;
//! let err = webhooks.verify(&headers, tampered).unwrap_err();
//! assert_eq!(err.kind(), WebhookErrorKind::BodyHashMismatch);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod layer;
mod verifier;

pub use self::error::{WebhookError, WebhookErrorKind};
pub use self::layer::{Webhook, WebhookEvent, WebhookLayer};
pub use self::verifier::{body_sha256, WebhookVerifier, DEFAULT_WEBHOOK_BODY_LIMIT};

#[cfg(test)]
mod tests;
