//! The middleware per request, without a network: `AuthLayer` around a do-nothing service,
//! called through `tower_service::Service` with a request that carries the token, next to the
//! same service without the layer. The difference is what the layer adds to a request; the
//! socket-level figures come from `benches/compare/scripts/bench_http.sh`.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_livekit_auth::{AuthLayer, Claims, Verifier};
use tower_service::Service;

/// The inner service: 200 if the request carries `Claims`, 204 if it does not (so that a bench
/// can tell the layer ran), nothing else.
#[derive(Clone, Copy, Debug, Default)]
pub struct Handler;

impl Service<Request<()>> for Handler {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<()>) -> Self::Future {
        let mut response = Response::new(());
        if request.extensions().get::<Claims>().is_none() {
            *response.status_mut() = StatusCode::NO_CONTENT;
        }
        ready(Ok(response))
    }
}

/// A GET request with `Authorization: Bearer <token>`, built the way hyper hands one over.
pub fn request(bearer: &HeaderValue) -> Request<()> {
    let mut request = Request::new(());
    request.headers_mut().insert(AUTHORIZATION, bearer.clone());
    request
}

/// The header value for `token`.
pub fn bearer(token: &str) -> HeaderValue {
    HeaderValue::try_from(format!("Bearer {token}")).expect("a token is a valid header value")
}

/// `AuthLayer` over [`Handler`].
pub fn layered(
    verifier: Verifier,
) -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> {
    AuthLayer::new(verifier).layer(Handler)
}

/// One request through `service`, to its response status. Every service here answers at once,
/// so one poll with a no-op waker completes it.
pub fn status<S>(service: &mut S, request: Request<()>) -> StatusCode
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready(), "ready at once");
    let future = pin!(service.call(request));
    match future.poll(&mut cx) {
        Poll::Ready(Ok(response)) => response.status(),
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => panic!("the services here answer at once"),
    }
}
