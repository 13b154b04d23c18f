//! `--livekit-url`: a RoomService call the gate recorded, forwarded to the LiveKit server as
//! the caller sent it (the same body, `Content-Type` and `Authorization`: LiveKit checks the
//! caller's own token), and LiveKit's answer handed back as it came.
//!
//! When LiveKit cannot be reached or does not answer in time, the client gets a twirp
//! `unavailable` (503) that says so: the gate has recorded the change already (the door is
//! closed on a removed participant's tokens), LiveKit may not have made it (the participant
//! may still be connected), and retrying the call is safe (the gate's writes are idempotent).
//! An answer LiveKit did give, an error included (`not_found` for a participant that is not
//! connected), is passed on unchanged.
//!
//! Each forwarded call carries `x-lkauth-via`: the gates it went through. A call that comes
//! back to a gate it already went through (a `--livekit-url` naming the gate itself, or a
//! proxy that routes these calls to the gate) is answered at once with a twirp
//! `failed_precondition` (412) saying so, instead of going round until the timeouts.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http::header::{HeaderName, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Response};

/// The gates a forwarded call went through, one value each.
pub const VIA_HEADER: HeaderName = HeaderName::from_static("x-lkauth-via");

/// Where the calls go.
#[derive(Clone, Debug)]
pub(crate) struct LiveKit {
    /// `http(s)://host[:port][/path]`, without a trailing slash.
    base: String,
    timeout: Duration,
    client: reqwest::Client,
    /// This gate's mark in [`VIA_HEADER`]: random, per process.
    id: HeaderValue,
}

/// Why a forward failed: no answer from LiveKit. For the client, it never names LiveKit's
/// address; [`detail`](Self::detail) does, for the gate's own log.
#[derive(Debug)]
pub(crate) struct ForwardFailed {
    pub(crate) reason: String,
    pub(crate) detail: String,
}

impl LiveKit {
    /// The LiveKit server at `url` (`http`, `https`, or the `ws`/`wss` URL clients are given,
    /// read as the server SDKs read it), each call given `timeout`.
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<LiveKit, String> {
        let url = url.trim().trim_end_matches('/');
        let base = if let Some(rest) = url.strip_prefix("ws://") {
            format!("http://{rest}")
        } else if let Some(rest) = url.strip_prefix("wss://") {
            format!("https://{rest}")
        } else if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            return Err(format!(
                "--livekit-url `{url}`: give the LiveKit server's URL, http(s):// or ws(s):// \
                 (as LIVEKIT_URL)"
            ));
        };
        reqwest::Url::parse(&base)
            .map_err(|err| format!("--livekit-url `{url}` is not a URL: {err}"))?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| format!("cannot set up the HTTP client for --livekit-url: {err}"))?;
        let id = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Ok(LiveKit {
            base,
            timeout,
            client,
            id: HeaderValue::try_from(format!("{id:016x}"))
                .unwrap_or(HeaderValue::from_static("gate")),
        })
    }

    /// Whether `headers` say the call already went through this gate.
    pub(crate) fn came_back(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(VIA_HEADER)
            .iter()
            .any(|via| *via == self.id)
    }

    /// LiveKit's URL, for the start-up message.
    pub(crate) fn url(&self) -> &str {
        &self.base
    }

    /// Sends `body` to LiveKit's `livekit.RoomService/{method}` with `headers`'
    /// `Content-Type` and `Authorization`; LiveKit's answer, or why there was none.
    pub(crate) async fn forward(
        &self,
        method: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response<Body>, ForwardFailed> {
        let url = format!("{}/twirp/livekit.RoomService/{method}", self.base);
        let mut request = self.client.post(&url).body(body);
        for name in [CONTENT_TYPE, AUTHORIZATION, VIA_HEADER] {
            for value in headers.get_all(&name) {
                request = request.header(&name, value);
            }
        }
        request = request.header(VIA_HEADER, &self.id);
        let failed = |err: reqwest::Error| {
            let reason = if err.is_timeout() {
                format!("no answer within {} s", self.timeout.as_secs_f32())
            } else if err.is_connect() {
                String::from("cannot connect to it")
            } else {
                String::from("the connection failed")
            };
            // reqwest's own text is "error sending request": its causes say what happened.
            let mut detail = format!("{url}: {err}");
            let mut cause = std::error::Error::source(&err);
            while let Some(source) = cause {
                detail.push_str(&format!(": {source}"));
                cause = source.source();
            }
            ForwardFailed { reason, detail }
        };
        let answer = request.send().await.map_err(failed)?;
        let status = answer.status();
        let content_type = answer.headers().get(CONTENT_TYPE).cloned();
        let bytes = answer.bytes().await.map_err(failed)?;
        let mut response = Response::new(Body::from(bytes));
        *response.status_mut() = status;
        if let Some(content_type) = content_type {
            response.headers_mut().insert(CONTENT_TYPE, content_type);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn livekit_urls_are_read_as_the_sdks_read_them() {
        let base = |url: &str| LiveKit::new(url, Duration::from_secs(1)).map(|l| l.base);
        assert_eq!(
            base("ws://127.0.0.1:7880/").as_deref(),
            Ok("http://127.0.0.1:7880")
        );
        assert_eq!(
            base("wss://lk.example.com").as_deref(),
            Ok("https://lk.example.com")
        );
        assert_eq!(
            base("http://lk:7880/prefix").as_deref(),
            Ok("http://lk:7880/prefix")
        );
        assert!(base("lk.example.com").is_err());
        assert!(base("http://").is_err());
    }
}
