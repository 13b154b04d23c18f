//! The decision: the policy compiled into the library's own layers, one stack per route
//! (`AuthLayer` with the route's token location, then one `RequireLayer` per requirement),
//! run on a request synthesized from the original method, URI and `Authorization` header.
//! The verdicts and the refusals are the layers' own, byte for byte: the gate re-implements
//! no rule.
//!
//! Only `Authorization` is copied into the synthesized request: a client's `content-type:
//! application/grpc` must not turn a refusal into the layers' gRPC form (an HTTP 200 that a
//! proxy would read as "allow").

use std::convert::Infallible;

use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response, StatusCode};
use tower::util::BoxCloneSyncService;
use tower::{service_fn, Layer, ServiceExt};
use tower_livekit_auth::middleware::{AuthRejection, RequestHead, RoomFrom, TokenLocation};
use tower_livekit_auth::{AuthLayer, Claims, RequireLayer, Verifier, VideoGrant};

use super::answer::text_plain;
use super::original::Original;
use super::policy::{DefaultRule, Policy, Requirement, Route};

type Stack = BoxCloneSyncService<Request<()>, Response<String>, Infallible>;

/// What the gate answers about one request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Let it through; the claims (after the participant state) when there was a token.
    Allow(Option<Claims>),
    /// Refuse it with this response: the layers' RFC 6750 401/403 (or 400, 503), with the
    /// [`AuthRejection`] in its extensions, or the default rule's 403.
    Refuse(Response<String>),
}

/// Which rule decided, for the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decided {
    /// The route at this index of the policy.
    Route(usize),
    /// No route matched: the default rule.
    Default,
}

/// The policy, compiled.
#[derive(Clone)]
pub(crate) struct Checker {
    routes: Vec<(Route, Stack)>,
    default: Option<Stack>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("routes", &self.routes.len())
            .field("default_allows_authenticated", &self.default.is_some())
            .finish()
    }
}

/// The body of the default rule's refusal.
pub(crate) const NO_ROUTE: &str = "no route of the gate's policy matches this request\n";

impl Checker {
    /// Compiles `policy`, verifying with `verifier` (its keys, clock and participant state).
    pub(crate) fn new(policy: &Policy, verifier: &Verifier) -> Checker {
        let routes = policy
            .routes
            .iter()
            .map(|route| (route.clone(), stack(route, verifier)))
            .collect();
        let default = match policy.default {
            DefaultRule::Deny => None,
            DefaultRule::AllowAuthenticated => Some(stack_of(
                verifier,
                TokenLocation::Header,
                true,
                &[Requirement::Authenticated],
                None,
            )),
        };
        Checker { routes, default }
    }

    /// The verdict on `original`, whose token is in `authorization` (every `Authorization`
    /// value the proxy passed on) or, where the route allows it, in the query.
    pub(crate) async fn check<'a>(
        &self,
        original: &Original,
        authorization: impl Iterator<Item = &'a HeaderValue>,
    ) -> (Verdict, Decided) {
        let path = original.uri.path();
        let found = self
            .routes
            .iter()
            .enumerate()
            .find(|(_, (route, _))| route.matches(&original.method, path));
        let (stack, decided) = match (found, &self.default) {
            (Some((index, (_, stack))), _) => (stack, Decided::Route(index)),
            (None, Some(stack)) => (stack, Decided::Default),
            (None, None) => return (Verdict::Refuse(no_route()), Decided::Default),
        };
        let mut request = Request::new(());
        *request.method_mut() = original.method.clone();
        *request.uri_mut() = original.uri.clone();
        for value in authorization {
            request.headers_mut().append(AUTHORIZATION, value.clone());
        }
        let response = match stack.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let verdict = if response.extensions().get::<AuthRejection>().is_some() {
            Verdict::Refuse(response)
        } else {
            Verdict::Allow(response.extensions().get::<Claims>().cloned())
        };
        (verdict, decided)
    }
}

fn no_route() -> Response<String> {
    text_plain(StatusCode::FORBIDDEN, NO_ROUTE)
}

fn stack(route: &Route, verifier: &Verifier) -> Stack {
    let location = if route.query_token {
        TokenLocation::HeaderOrQuery
    } else {
        TokenLocation::Header
    };
    let public = route.require == [Requirement::Public];
    stack_of(
        verifier,
        location,
        !public,
        &route.require,
        route.template.room_from(),
    )
}

/// `AuthLayer` → one `RequireLayer` per requirement, in order → the allow.
fn stack_of(
    verifier: &Verifier,
    location: TokenLocation,
    required: bool,
    requirements: &[Requirement],
    room: Option<RoomFrom>,
) -> Stack {
    let mut stack = Stack::new(service_fn(allow));
    for requirement in requirements.iter().rev() {
        stack = match *requirement {
            Requirement::Public | Requirement::Authenticated => stack,
            Requirement::Grant(grant) => Stack::new(RequireLayer::new(grant).layer(stack)),
            Requirement::RoomAdmin => match &room {
                Some(room) => Stack::new(RequireLayer::room_admin(room.clone()).layer(stack)),
                // The policy refuses `room_admin` on a path without `{room}`; were it ever
                // here, nothing would pass.
                None => Stack::new(RequireLayer::custom("roomAdmin", nothing).layer(stack)),
            },
            Requirement::TokenRoomAdmin => {
                Stack::new(RequireLayer::custom("roomAdmin", token_room_admin).layer(stack))
            }
            Requirement::Agent => {
                Stack::new(RequireLayer::custom("video.agent", agent).layer(stack))
            }
        };
    }
    let auth = AuthLayer::new(verifier.clone())
        .with_token_location(location)
        .with_token_required(required);
    Stack::new(auth.layer(stack))
}

/// Room admin of the token's own room (`Claims::is_room_admin`).
fn token_room_admin(claims: &Claims, _: &RequestHead<'_>) -> bool {
    claims.is_room_admin(claims.room())
}

/// The `video.agent` grant alone, as LiveKit's `/agent` checks it (`Claims::is_agent` also
/// counts the participant kind, which `/agent` does not).
fn agent(claims: &Claims, _: &RequestHead<'_>) -> bool {
    claims.video().is_some_and(VideoGrant::is_agent)
}

fn nothing(_: &Claims, _: &RequestHead<'_>) -> bool {
    false
}

/// The end of every stack: the request passed; hand its claims back.
async fn allow(request: Request<()>) -> Result<Response<String>, Infallible> {
    let mut response = Response::new(String::new());
    if let Some(claims) = request.extensions().get::<Claims>() {
        response.extensions_mut().insert(claims.clone());
    }
    Ok(response)
}
