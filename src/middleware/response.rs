//! [`OnRejection`]: how a refusal becomes a response, the default [`DefaultRejection`], and the
//! one place where every refusal of the layers goes out (counted, logged, its
//! [`AuthRejection`] in the response extensions).

use http::{HeaderMap, Response};

use super::rejection::AuthRejection;

/// Builds the response for a refused request. The default, [`DefaultRejection`], answers with
/// [`AuthRejection::to_response`]; any `Fn(&AuthRejection) -> Response<B>` works too, for a JSON
/// or twirp error body (ask [`AuthRejection::is_grpc`] first if gRPC calls pass through: they
/// need `to_response`'s gRPC form). Whatever it returns, the middleware adds the rejection to the
/// response's extensions.
pub trait OnRejection<B> {
    /// The response for `rejection`.
    fn on_rejection(&self, rejection: &AuthRejection) -> Response<B>;
}

/// The default [`OnRejection`]: [`AuthRejection::to_response`], so status, `WWW-Authenticate`
/// and the reason as a short text body, or the gRPC status for a gRPC call.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRejection;

impl<B: Default + 'static> OnRejection<B> for DefaultRejection {
    fn on_rejection(&self, rejection: &AuthRejection) -> Response<B> {
        rejection.to_response()
    }
}

impl<B, F> OnRejection<B> for F
where
    F: Fn(&AuthRejection) -> Response<B>,
{
    fn on_rejection(&self, rejection: &AuthRejection) -> Response<B> {
        self(rejection)
    }
}

/// Runs `handler`, makes sure the rejection is in the response's extensions, and emits the
/// `tracing` event (feature `tracing`).
/// `headers` are the refused request's (they tell whether it is a gRPC call); `api_key` is the
/// verified API key, when the token was valid (insufficient scope).
pub(crate) fn respond<B, H: OnRejection<B>>(
    handler: &H,
    rejection: AuthRejection,
    headers: &HeaderMap,
    api_key: Option<&str>,
) -> Response<B> {
    let rejection = rejection.for_request(headers);
    super::metrics::rejection(rejection.kind());
    // `debug`, not `info`: a flood of bad tokens must not become a flood of log lines. What a
    // refusal says is in the response and its `AuthRejection`; count them with metrics.
    #[cfg(feature = "tracing")]
    tracing::debug!(
        kind = ?rejection.kind(),
        reason = rejection.verify_error().map(|e| e.kind().as_str()),
        grant = rejection.required_grant(),
        api_key,
        "LiveKit token refused: {rejection}"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = api_key;
    let mut response = handler.on_rejection(&rejection);
    // The default handler has put it there already; a custom one may not have.
    if response.extensions().get::<AuthRejection>().is_none() {
        response.extensions_mut().insert(rejection);
    }
    response
}
