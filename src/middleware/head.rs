//! [`RequestHead`]: what a [`Requirement`](super::Requirement) or a [`RoomFrom`](super::RoomFrom)
//! may read of a request.

use http::{Extensions, HeaderMap, Method, Request, Uri};

/// The parts of a request a [`Requirement`](super::Requirement) may look at: everything but
/// the body.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct RequestHead<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    extensions: &'a Extensions,
}

impl<'a> RequestHead<'a> {
    /// The head of `request`.
    pub fn from_request<B>(request: &'a Request<B>) -> Self {
        RequestHead {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            extensions: request.extensions(),
        }
    }

    /// The head of a request already split into `parts`.
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        RequestHead {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
            extensions: &parts.extensions,
        }
    }

    /// The method.
    #[must_use]
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The URI (path and query).
    #[must_use]
    pub fn uri(&self) -> &'a Uri {
        self.uri
    }

    /// The headers.
    #[must_use]
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The extensions (axum's `MatchedPath` is there, for instance).
    #[must_use]
    pub fn extensions(&self) -> &'a Extensions {
        self.extensions
    }
}
