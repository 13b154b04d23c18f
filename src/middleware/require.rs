//! [`RequireLayer`]: refuse requests whose [`Claims`] lack a grant the route needs.

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::future::ResponseFuture;
use super::head::RequestHead;
use super::realm::Realm;
use super::rejection::AuthRejection;
use super::requirement::{Custom, RequiredGrant, Requirement, RoomAdmin};
use super::response::{respond, DefaultRejection, OnRejection};
use super::room::RoomFrom;
use crate::claims::{Claims, TrackSource};

/// A [`Layer`] that lets a request through only if its [`Claims`] (put there by an
/// [`AuthLayer`](super::AuthLayer) in front of it) satisfy a [`Requirement`]. A request without
/// `Claims` gets 401; one whose claims lack the grant gets 403 with
/// `WWW-Authenticate: Bearer error="insufficient_scope"`, in the realm of that `AuthLayer`.
///
/// ```
/// use http::{Request, Response, StatusCode};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
/// use tower_livekit_auth::middleware::RoomFrom;
/// use tower_livekit_auth::{AccessToken, AuthLayer, KeyRing, RequireLayer, Verifier, VideoGrant};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let secret = "somesecretencodedinbase62extendto32bytes";
/// let verifier = Verifier::new(KeyRing::new().with_key("APIabcdefg", secret)?);
/// let service = ServiceBuilder::new()
///     .layer(AuthLayer::new(verifier))
///     .layer(RequireLayer::room_admin(RoomFrom::template("/rooms/{room}/kick")))
///     .service(service_fn(|_: Request<String>| async {
///         Ok::<_, std::convert::Infallible>(Response::new(String::from("done")))
///     }));
///
/// let admin = AccessToken::new("APIabcdefg", secret)
///     .with_video_grant(VideoGrant::admin("myroom"))
///     .to_jwt()?;
/// let call = |path: &str| {
///     Request::post(path).header("authorization", format!("Bearer {admin}")).body(String::new())
/// };
/// let ok = service.clone().oneshot(call("/rooms/myroom/kick")?).await?;
/// assert_eq!(ok.status(), StatusCode::OK);
/// let forbidden = service.oneshot(call("/rooms/other/kick")?).await?;
/// assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
/// assert!(forbidden.headers()["www-authenticate"].to_str()?.contains("insufficient_scope"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RequireLayer<R, H = DefaultRejection> {
    requirement: R,
    on_rejection: H,
}

impl<R: Requirement> RequireLayer<R> {
    /// Requires `requirement`.
    pub fn new(requirement: R) -> Self {
        RequireLayer {
            requirement,
            on_rejection: DefaultRejection,
        }
    }
}

impl RequireLayer<RequiredGrant> {
    /// Requires the join grant ([`Claims::can_join`]).
    #[must_use]
    pub fn join() -> Self {
        RequireLayer::new(RequiredGrant::Join)
    }

    /// Requires `roomCreate`.
    #[must_use]
    pub fn create_rooms() -> Self {
        RequireLayer::new(RequiredGrant::CreateRooms)
    }

    /// Requires `roomList`.
    #[must_use]
    pub fn list_rooms() -> Self {
        RequireLayer::new(RequiredGrant::ListRooms)
    }

    /// Requires `roomRecord` (egress).
    #[must_use]
    pub fn record() -> Self {
        RequireLayer::new(RequiredGrant::Record)
    }

    /// Requires `ingressAdmin`.
    #[must_use]
    pub fn ingress_admin() -> Self {
        RequireLayer::new(RequiredGrant::IngressAdmin)
    }

    /// Requires `sip.admin`.
    #[must_use]
    pub fn sip_admin() -> Self {
        RequireLayer::new(RequiredGrant::SipAdmin)
    }

    /// Requires `sip.call`.
    #[must_use]
    pub fn sip_call() -> Self {
        RequireLayer::new(RequiredGrant::SipCall)
    }

    /// Requires permission to publish `source`.
    #[must_use]
    pub fn publish(source: TrackSource) -> Self {
        RequireLayer::new(RequiredGrant::Publish(source))
    }
}

impl RequireLayer<RoomAdmin> {
    /// Requires room admin of the room the request names, as `room` finds it: the route's own
    /// template ([`RoomFrom::template`]), axum's matched route (`RoomFrom::path_param`,
    /// feature `axum`), or a function. A request that names no room is refused.
    ///
    /// The handler must act on the room this checks: read it from the same route parameter
    /// (axum's `Path`), never from somewhere else (the body, another segment).
    #[must_use]
    pub fn room_admin(room: RoomFrom) -> Self {
        RequireLayer::new(RoomAdmin(room))
    }
}

impl<F> RequireLayer<Custom<F>>
where
    F: Fn(&Claims, &RequestHead<'_>) -> bool,
{
    /// Requires `predicate`; `grant` names it in rejections.
    pub fn custom(grant: &'static str, predicate: F) -> Self {
        RequireLayer::new(Custom { predicate, grant })
    }
}

impl<R, H> RequireLayer<R, H> {
    /// Build rejection responses with `handler` instead of [`DefaultRejection`].
    #[must_use]
    pub fn with_rejection_handler<H2>(self, handler: H2) -> RequireLayer<R, H2> {
        RequireLayer {
            requirement: self.requirement,
            on_rejection: handler,
        }
    }
}

impl<S, R: Clone, H: Clone> Layer<S> for RequireLayer<R, H> {
    type Service = Require<S, R, H>;

    fn layer(&self, inner: S) -> Self::Service {
        Require {
            inner,
            requirement: self.requirement.clone(),
            on_rejection: self.on_rejection.clone(),
        }
    }
}

/// The middleware built by [`RequireLayer`].
#[derive(Clone, Debug)]
pub struct Require<S, R, H = DefaultRejection> {
    inner: S,
    requirement: R,
    on_rejection: H,
}

impl<S, R, H> Require<S, R, H> {
    define_inner_service_accessors!();
}

impl<S, R, H, ReqBody, ResBody> Service<Request<ReqBody>> for Require<S, R, H>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: Requirement,
    H: OnRejection<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The realm the AuthLayer in front set: refusals here challenge with the same one.
        let realm = || Realm::of(request.extensions());
        let verdict = match request.extensions().get::<Claims>() {
            None => Err((AuthRejection::missing(&realm()), None)),
            Some(claims)
                if self
                    .requirement
                    .allows(claims, &RequestHead::from_request(&request)) =>
            {
                Ok(())
            }
            Some(claims) => Err((
                AuthRejection::insufficient(self.requirement.grant(), &realm()),
                Some(claims.api_key()),
            )),
        };
        match verdict {
            Ok(()) => ResponseFuture::inner(self.inner.call(request), None),
            Err((rejection, api_key)) => ResponseFuture::rejected(respond(
                &self.on_rejection,
                rejection,
                request.headers(),
                api_key,
            )),
        }
    }
}
