//! Twirp as LiveKit's server SDKs speak it: the Node SDK sends protobuf-JSON
//! (`application/json`), the Python SDK protobuf (`application/protobuf`), and each is answered
//! in the encoding it asked in; errors are JSON `{"code","msg"}` whatever the encoding. The
//! messages are the official `livekit-protocol` crate's.

use axum::body::{Body, Bytes};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use tower_livekit_auth::middleware::{AuthRejection, RejectionKind};
use tower_livekit_auth::{AuthLayer, Verifier};

/// `POST /twirp/livekit.RoomService/{method}` to `handler`, behind an `AuthLayer` of
/// `verifier` whose refusals are twirp errors. A route layer: other twirp services and paths
/// are 404, not 401. Shared by `serve` and the gate.
pub(crate) fn room_service<H, T, S>(verifier: Verifier, handler: H) -> Router<S>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/twirp/livekit.RoomService/{method}", post(handler))
        .route_layer(AuthLayer::new(verifier).with_rejection_handler(twirp_rejection))
}

/// How a request's message is encoded, and so its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// Protobuf-JSON.
    Json,
    /// Binary protobuf.
    Protobuf,
}

impl Codec {
    /// The codec of `headers`' `Content-Type`, as twirp names them.
    pub(crate) fn of(headers: &HeaderMap) -> Result<Codec, TwirpError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case("application/json") {
            Ok(Codec::Json)
        } else if essence.eq_ignore_ascii_case("application/protobuf") {
            Ok(Codec::Protobuf)
        } else {
            Err(TwirpError::new(
                StatusCode::BAD_REQUEST,
                "malformed",
                "send application/json or application/protobuf",
            ))
        }
    }

    /// Reads the request message.
    pub(crate) fn decode<T>(self, body: &Bytes) -> Result<T, TwirpError>
    where
        T: prost::Message + Default + DeserializeOwned,
    {
        let malformed = || {
            TwirpError::new(
                StatusCode::BAD_REQUEST,
                "malformed",
                "the request body is not the method's message",
            )
        };
        match self {
            Codec::Json => serde_json::from_slice(body).map_err(|_| malformed()),
            Codec::Protobuf => T::decode(body.as_ref()).map_err(|_| malformed()),
        }
    }

    /// Writes the answer message.
    pub(crate) fn encode<T: prost::Message + Serialize>(self, message: &T) -> Response<Body> {
        let (bytes, content_type) = match self {
            Codec::Json => (
                serde_json::to_vec(message).unwrap_or_default(),
                "application/json",
            ),
            Codec::Protobuf => (message.encode_to_vec(), "application/protobuf"),
        };
        let mut response = Response::new(Body::from(bytes));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(content_type),
        );
        response
    }
}

/// A twirp error: JSON `{"code","msg"}` whatever the request's encoding (twirp's rule), with
/// `Content-Type` exactly `application/json` (the Node SDK reads `code` only then).
#[derive(Debug)]
pub(crate) struct TwirpError {
    status: StatusCode,
    code: &'static str,
    msg: String,
}

impl TwirpError {
    pub(crate) fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        TwirpError {
            status,
            code,
            msg: msg.into(),
        }
    }
}

impl IntoResponse for TwirpError {
    fn into_response(self) -> Response<Body> {
        let body = json!({ "code": self.code, "msg": self.msg }).to_string();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// The AuthLayer's rejections as twirp errors.
pub(crate) fn twirp_rejection(rejection: &AuthRejection) -> Response<Body> {
    let code = match rejection.kind() {
        RejectionKind::MalformedRequest => "malformed",
        RejectionKind::InsufficientScope => "permission_denied",
        _ => "unauthenticated",
    };
    let mut response =
        TwirpError::new(rejection.status(), code, rejection.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, rejection.www_authenticate());
    response
}
