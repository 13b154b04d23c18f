//! [`RedactedUri`]: a request URI for logs, without the token a query may carry.

use std::fmt;

use http::Uri;

/// A request's URI for logs and traces, with the value of its `access_token` query parameter
/// replaced by `[redacted]`.
///
/// A token in `?access_token=` (LiveKit's WebSocket signalling, see
/// [`TokenLocation::HeaderOrQuery`](super::TokenLocation::HeaderOrQuery)) is a bearer
/// credential: an access log that prints the URI hands it to whoever reads the log. The
/// parameter is recognized the way the [`AuthLayer`](super::AuthLayer) reads it (its name
/// percent-decoded, so `access%5Ftoken` is caught too); everything else is printed as it came.
///
/// With tower-http's `TraceLayer`:
///
/// ```
/// use http::Request;
/// use tower_http::trace::TraceLayer;
/// use tower_livekit_auth::middleware::RedactedUri;
///
/// let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<String>| {
///     let uri = RedactedUri::new(request.uri());
///     tracing::info_span!("request", method = %request.method(), %uri)
/// });
/// # let _ = trace;
///
/// let uri = "/rtc?room=r&access_token=eyJhbGciOi.eyJpc3Mi.c2ln".parse().unwrap();
/// assert_eq!(RedactedUri::new(&uri).to_string(), "/rtc?room=r&access_token=[redacted]");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RedactedUri<'a>(&'a Uri);

impl<'a> RedactedUri<'a> {
    /// `uri`, to be displayed without its token.
    #[must_use]
    pub fn new(uri: &'a Uri) -> Self {
        RedactedUri(uri)
    }
}

impl fmt::Display for RedactedUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(scheme) = self.0.scheme_str() {
            write!(f, "{scheme}://")?;
        }
        if let Some(authority) = self.0.authority() {
            // The authority may hold `user:password@`: never print it.
            f.write_str(authority.host())?;
            if let Some(port) = authority.port_u16() {
                write!(f, ":{port}")?;
            }
        }
        f.write_str(self.0.path())?;
        let Some(query) = self.0.query() else {
            return Ok(());
        };
        f.write_str("?")?;
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            let raw_name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let is_token = form_urlencoded::parse(raw_name.as_bytes())
                .next()
                .is_some_and(|(name, _)| name == "access_token");
            if is_token {
                write!(f, "{raw_name}=[redacted]")?;
            } else {
                f.write_str(pair)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(uri: &str) -> String {
        RedactedUri::new(&uri.parse().expect("a URI")).to_string()
    }

    #[test]
    fn only_the_token_is_redacted_however_its_name_is_encoded() {
        assert_eq!(redacted("/rtc/validate"), "/rtc/validate");
        assert_eq!(redacted("/a?b=1&c"), "/a?b=1&c");
        assert_eq!(
            redacted("/rtc?access_token=abc.def.ghi&room=r"),
            "/rtc?access_token=[redacted]&room=r"
        );
        assert_eq!(
            redacted("/rtc?access%5Ftoken=abc&access_token=def&x=access_token"),
            "/rtc?access%5Ftoken=[redacted]&access_token=[redacted]&x=access_token"
        );
        assert_eq!(
            redacted("/rtc?access_token"),
            "/rtc?access_token=[redacted]"
        );
    }

    #[test]
    fn credentials_in_the_authority_are_not_printed() {
        assert_eq!(
            redacted("https://user:pw@example.com:8443/rtc?access_token=t"),
            "https://example.com:8443/rtc?access_token=[redacted]"
        );
    }
}
