//! Handing a client a refreshed token in a response header, as the LiveKit server refreshes the
//! token of a connected participant.

use std::time::{Duration, SystemTime};

use http::header::{HeaderName, CACHE_CONTROL};
use http::{HeaderValue, Response};

use crate::claims::Claims;
use crate::time::unix_seconds;
use crate::verify::Verifier;

/// The layer's setting: which header, and how close to expiry a token must be.
#[derive(Clone, Debug)]
pub(crate) struct RefreshHeader {
    pub(crate) header: HeaderName,
    pub(crate) window: Duration,
}

impl RefreshHeader {
    /// What a response to a request with `claims`, verified at `now`, should be handed, if
    /// anything: the token is due when it expires within the window, or at once when the
    /// participant state changed its claims (the client gets a token with its current state,
    /// as the LiveKit server refreshes a participant's token on every change).
    pub(crate) fn due(
        &self,
        verifier: &Verifier,
        claims: &Claims,
        now: SystemTime,
    ) -> Option<PendingRefresh> {
        let time_left = claims.expires_at()? as f64 - unix_seconds(now);
        let due = claims.was_updated() || time_left <= self.window.as_secs_f64();
        due.then(|| PendingRefresh {
            header: self.header.clone(),
            verifier: verifier.clone(),
            claims: claims.clone(),
            now,
        })
    }
}

/// A refresh decided when the request came in, minted only once the response turns out to be
/// a success: a failed request gets no new token.
#[derive(Debug)]
pub(crate) struct PendingRefresh {
    header: HeaderName,
    verifier: Verifier,
    claims: Claims,
    now: SystemTime,
}

impl PendingRefresh {
    /// Adds the refreshed token to `response` if it is a 2xx, with `Cache-Control: no-store`
    /// so that no cache keeps the token. A refresh that cannot be minted (the key was rotated
    /// out, the chain reached its limit) leaves the response as it is: the client keeps its
    /// token until it expires.
    pub(crate) fn finish<B>(self, response: &mut Response<B>) {
        if !response.status().is_success() {
            return;
        }
        let Ok(token) = self.verifier.refresh_at(&self.claims, self.now) else {
            return;
        };
        let Ok(value) = HeaderValue::try_from(token) else {
            return;
        };
        let headers = response.headers_mut();
        headers.insert(self.header, value);
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
