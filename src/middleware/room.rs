//! [`RoomFrom`]: where a requirement finds the room the handler acts on.
//!
//! A room-admin check is only as good as its agreement with the handler: if the requirement
//! reads the room from one place and the handler acts on another, the check authorizes the wrong
//! room (with "the segment after `rooms`", `/orgs/rooms/rooms/victim` was checked as room
//! `rooms` while the handler acted on `victim`). So the room is read from the route itself: the
//! same template the router matched, and the same parameter the handler extracts.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::head::RequestHead;

/// Where a [`RoomAdmin`](super::RoomAdmin) requirement finds the room of a request.
///
/// ```
/// use http::Request;
/// use tower_livekit_auth::middleware::{RequestHead, RoomFrom};
///
/// let rooms = RoomFrom::template("/rooms/{room}/participants/{identity}");
/// let request = Request::get("/rooms/my%20room/participants/bob").body(()).unwrap();
/// assert_eq!(rooms.room(&RequestHead::from_request(&request)).as_deref(), Some("my room"));
///
/// // A path the template does not match names no room, and the requirement refuses it.
/// let other = Request::get("/orgs/rooms/rooms/victim").body(()).unwrap();
/// assert_eq!(rooms.room(&RequestHead::from_request(&other)), None);
/// ```
#[derive(Clone)]
pub struct RoomFrom(Source);

type RoomFn = dyn Fn(&RequestHead<'_>) -> Option<String> + Send + Sync;

#[derive(Clone)]
enum Source {
    Template(Arc<str>),
    #[cfg(feature = "axum")]
    PathParam(Arc<str>),
    Function(Arc<RoomFn>),
}

impl RoomFrom {
    /// The `{room}` parameter of a route template in axum's syntax: literal segments,
    /// `{name}` for one segment, and a final `{*rest}` for the rest of the path. Write the very
    /// template the route is registered with. The segment is percent-decoded; a path that does
    /// not match the template, or whose room segment is empty or not UTF-8, names no room.
    ///
    /// # Panics
    ///
    /// If `template` has no `{room}` segment, or has it twice: a programming error, caught when
    /// the layer is built rather than on a request.
    #[must_use]
    pub fn template(template: &str) -> Self {
        RoomFrom::parameter_of(template, "room")
    }

    /// The parameter `name` of a route template (see [`template`](Self::template)), for routes
    /// whose room parameter has another name.
    ///
    /// # Panics
    ///
    /// If `template` does not have exactly one `{name}` segment.
    #[must_use]
    pub fn parameter_of(template: &str, name: &str) -> Self {
        let count = segments(template)
            .filter(|segment| parameter(segment) == Some(name))
            .count();
        assert!(
            count == 1,
            "RoomFrom: the template `{template}` must have exactly one `{{{name}}}` segment"
        );
        RoomFrom(Source::Template(format!("{name}\u{0}{template}").into()))
    }

    /// The parameter `name` of the route axum matched, read from axum's own captures the way
    /// its `Path` extractor reads them (percent-decoded, nested routers included): the handler
    /// and the requirement cannot disagree. A request that no axum route matched names no room.
    /// Feature `axum`.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    #[must_use]
    pub fn path_param(name: &str) -> Self {
        RoomFrom(Source::PathParam(name.into()))
    }

    /// Whatever `room` reads from the request (a header, a query parameter). The handler must
    /// act on the same room.
    pub fn function<F>(room: F) -> Self
    where
        F: Fn(&RequestHead<'_>) -> Option<String> + Send + Sync + 'static,
    {
        RoomFrom(Source::Function(Arc::new(room)))
    }

    /// The room of `request`, if it names one.
    pub fn room<'a>(&self, request: &RequestHead<'a>) -> Option<Cow<'a, str>> {
        match &self.0 {
            Source::Template(spec) => {
                let (name, template) = spec.split_once('\u{0}')?;
                capture(template, request.uri().path(), name)
            }
            #[cfg(feature = "axum")]
            Source::PathParam(name) => axum_path_param(request, name).map(Cow::Owned),
            Source::Function(room) => room(request).map(Cow::Owned),
        }
    }
}

impl fmt::Debug for RoomFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::Template(spec) => {
                let (name, template) = spec.split_once('\u{0}').unwrap_or(("", spec));
                write!(f, "RoomFrom::parameter_of({template:?}, {name:?})")
            }
            #[cfg(feature = "axum")]
            Source::PathParam(name) => write!(f, "RoomFrom::path_param({name:?})"),
            Source::Function(_) => f.write_str("RoomFrom::function(..)"),
        }
    }
}

/// The parameter `name` of the route axum matched, exactly as axum's `Path` extractor gets it
/// (percent-decoded, from the router's own captures, so nesting and wildcards agree with the
/// handler by construction). axum keeps the captures in a private extension that only its
/// extractors read, so this runs `RawPathParams` on a copy of the extensions; the extractor
/// is ready at once (it awaits nothing).
#[cfg(feature = "axum")]
fn axum_path_param(request: &RequestHead<'_>, name: &str) -> Option<String> {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    use ::axum::extract::RawPathParams;
    use axum_core::extract::FromRequestParts;

    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.extensions = request.extensions().clone();
    let mut extract = std::pin::pin!(RawPathParams::from_request_parts(&mut parts, &()));
    let Poll::Ready(Ok(params)) = extract
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        return None;
    };
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|room| !room.is_empty())
}

/// The segments of a path: what lies between its slashes, the leading one skipped.
fn segments(path: &str) -> std::str::Split<'_, char> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// The name of a `{name}` segment (not of a `{*rest}` one).
fn parameter(segment: &str) -> Option<&str> {
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    (!name.starts_with('*')).then_some(name)
}

/// The percent-decoded segment of `path` that the `{name}` segment of `template` matches, if
/// `path` matches `template` at all. Walks both at once: no allocation unless the segment has
/// a percent escape.
fn capture<'p>(template: &str, path: &'p str, name: &str) -> Option<Cow<'p, str>> {
    let mut found = None;
    let mut path_segments = segments(path);
    for pattern in segments(template) {
        if pattern.starts_with("{*") && pattern.ends_with('}') {
            // The rest of the path, which must not be empty (as for axum's router); a room is
            // never there.
            let rest = path_segments.next().is_some_and(|first| !first.is_empty())
                || path_segments.next().is_some();
            return found.filter(|_| rest).and_then(decode);
        }
        let segment = path_segments.next()?;
        match parameter(pattern) {
            Some(parameter) => {
                if segment.is_empty() {
                    return None;
                }
                if parameter == name {
                    found = Some(segment);
                }
            }
            None if pattern == segment => {}
            None => return None,
        }
    }
    if path_segments.next().is_some() {
        return None;
    }
    found.and_then(decode)
}

fn decode(segment: &str) -> Option<Cow<'_, str>> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .filter(|room| !room.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_is_the_templates_segment_and_nothing_else() {
        let t = "/rooms/{room}/publish";
        assert_eq!(capture(t, "/rooms/a/publish", "room").as_deref(), Some("a"));
        assert_eq!(
            capture(t, "/rooms/a%2Fb/publish", "room").as_deref(),
            Some("a/b")
        );
        for path in [
            "/orgs/rooms/rooms/victim",
            "/rooms/a/publish/extra",
            "/rooms/a",
            "/rooms//publish",
            "/rooms/a/PUBLISH",
            "rooms/a/publish/x",
            "/rooms/%ff/publish",
            "",
        ] {
            assert_eq!(capture(t, path, "room"), None, "{path}");
        }
    }

    #[test]
    fn other_parameters_and_a_final_wildcard_match_anything_there() {
        let t = "/orgs/{org}/rooms/{room}/{*rest}";
        assert_eq!(
            capture(t, "/orgs/o/rooms/r/a/b/c", "room").as_deref(),
            Some("r")
        );
        assert_eq!(
            capture(t, "/orgs/o/rooms/r/x", "room").as_deref(),
            Some("r")
        );
        assert_eq!(capture(t, "/orgs/o/rooms/r/", "room"), None);
        assert_eq!(capture(t, "/orgs//rooms/r/x", "room"), None);
        assert_eq!(capture(t, "/orgs/o/rooms/r", "room"), None);
        assert_eq!(
            capture("/{room}", "/rooms", "room").as_deref(),
            Some("rooms")
        );
    }

    #[test]
    #[should_panic(expected = "exactly one `{room}`")]
    fn a_template_without_the_room_is_refused_when_built() {
        let _ = RoomFrom::template("/rooms/{name}/publish");
    }

    #[test]
    #[should_panic(expected = "exactly one `{room}`")]
    fn a_template_with_the_room_twice_is_refused_when_built() {
        let _ = RoomFrom::template("/rooms/{room}/to/{room}");
    }
}

#[cfg(all(test, feature = "axum"))]
mod axum_tests {
    use axum::body::Body;
    use axum::extract::Path;
    use axum::routing::get;
    use axum::Router;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::RoomFrom;
    use crate::{AccessToken, AuthLayer, KeyRing, RequireLayer, Verifier, VideoGrant};

    const KEY: &str = "APIabcdefg";
    const SECRET: &str = "somesecretencodedinbase62extendto32bytes";

    async fn acts_on(Path((_org, room)): Path<(String, String)>) -> String {
        room
    }

    /// The route, nested under `/api`, with the layers on the route (`route_layer`) or on the
    /// whole router (`layer`): axum's matched path is there either way.
    fn app(on_router: bool) -> Router {
        let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"));
        let routes = Router::new().route("/orgs/{org}/rooms/{room}", get(acts_on));
        let auth = AuthLayer::new(verifier);
        let require = RequireLayer::room_admin(RoomFrom::path_param("room"));
        let routes = if on_router {
            routes.layer(require).layer(auth)
        } else {
            routes.route_layer(require).route_layer(auth)
        };
        Router::new().nest("/api", routes)
    }

    async fn status(app: Router, admin_of: &str, path: &str) -> (StatusCode, String) {
        let token = AccessToken::new(KEY, SECRET)
            .with_video_grant(VideoGrant::admin(admin_of))
            .to_jwt()
            .expect("mints");
        let request = Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_requirement_checks_the_room_axums_path_extractor_hands_the_handler() {
        for on_router in [false, true] {
            let path = "/api/orgs/rooms/rooms/vic%20tim";
            assert_eq!(
                status(app(on_router), "vic tim", path).await,
                (StatusCode::OK, "vic tim".into()),
                "on_router: {on_router}"
            );
            assert_eq!(
                status(app(on_router), "rooms", path).await.0,
                StatusCode::FORBIDDEN,
                "on_router: {on_router}"
            );
        }
    }
}
