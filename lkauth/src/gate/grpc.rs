//! Envoy's gRPC `ext_authz`: `envoy.service.auth.v3.Authorization/Check` (the `envoy-types`
//! crate's generated service, served by tonic), deciding as the HTTP checks do.
//!
//! - The original request: `attributes.request.http`'s `method` and `path` (path and query, as
//!   in the request line); the token from its `authorization` header (`headers`, or
//!   `header_map` when Envoy's `encode_raw_headers` is on) or, where the route allows it,
//!   the query.
//! - Allowed: `status` OK (0) and `ok_response.headers` with the identity headers, each
//!   `OVERWRITE_IF_EXISTS_OR_ADD` (a client's own `x-livekit-identity` never reaches the
//!   upstream); a `public` route passed without a token removes them instead
//!   (`headers_to_remove`).
//! - Refused: `status` UNAUTHENTICATED (16) for a 401, PERMISSION_DENIED (7) for a 403,
//!   INVALID_ARGUMENT (3) for a 400, UNAVAILABLE (14) for a 503, with the reason as its
//!   message; `denied_response` with the very status, headers (`WWW-Authenticate`,
//!   `Content-Type`, `Retry-After`) and body the HTTP check answers.
//! - The `Check` call itself always succeeds: a gRPC error would be a failure of the
//!   authorization service, which an Envoy with `failure_mode_allow` lets through.

use std::future::Future;

use envoy_types::ext_authz::v3::pb::{
    Authorization, AuthorizationServer, CheckRequest, CheckResponse, DeniedHttpResponse,
    HeaderAppendAction, HeaderValue as EnvoyHeader, HeaderValueOption, HttpResponse, HttpStatus,
    OkHttpResponse,
};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest;
use envoy_types::pb::google::rpc::Status as RpcStatus;
use http::header::AUTHORIZATION;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use tokio::net::TcpListener;

use super::answer::{self, identity_headers, IDENTITY_HEADERS};
use super::check::Verdict;
use super::original::{BadOriginal, Original};
use super::Gate;

/// gRPC's status codes, as `google.rpc.Status.code`.
const OK: i32 = 0;
const INVALID_ARGUMENT: i32 = 3;
const PERMISSION_DENIED: i32 = 7;
const UNAVAILABLE: i32 = 14;
const UNAUTHENTICATED: i32 = 16;

/// The `Authorization` service.
#[derive(Clone, Debug)]
struct ExtAuthz {
    gate: Gate,
}

#[tonic::async_trait]
impl Authorization for ExtAuthz {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        Ok(tonic::Response::new(
            check(&self.gate, request.get_ref()).await,
        ))
    }
}

/// Serves `Authorization/Check` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    gate: Gate,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(AuthorizationServer::new(ExtAuthz { gate }))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            shutdown,
        )
        .await
}

/// The answer to one `CheckRequest`.
pub(crate) async fn check(gate: &Gate, request: &CheckRequest) -> CheckResponse {
    let http = request
        .attributes
        .as_ref()
        .and_then(|attributes| attributes.request.as_ref())
        .and_then(|request| request.http.as_ref());
    let Some(http) = http else {
        return bad_original(
            gate,
            &BadOriginal("the CheckRequest has no attributes.request.http".into()),
        );
    };
    let original = match Original::from_parts(&http.method, &http.path) {
        Ok(original) => original,
        Err(err) => return bad_original(gate, &err),
    };
    let authorization = authorization(http);
    let (verdict, decided) = gate.checker().check(&original, authorization.iter()).await;
    let host = (!http.host.is_empty()).then_some(http.host.as_str());
    gate.log()
        .decided("grpc", &original, host, &verdict, decided);
    match verdict {
        Verdict::Allow(claims) => {
            let mut ok = OkHttpResponse::default();
            match claims {
                Some(claims) => {
                    ok.headers = identity_headers(&claims)
                        .iter()
                        .map(|(name, value)| header_option(name, value.as_bytes()))
                        .collect();
                }
                None => {
                    ok.headers_to_remove = IDENTITY_HEADERS
                        .iter()
                        .map(|name| name.to_string())
                        .collect();
                }
            }
            CheckResponse {
                status: Some(RpcStatus {
                    code: OK,
                    ..RpcStatus::default()
                }),
                http_response: Some(HttpResponse::OkResponse(ok)),
                ..CheckResponse::default()
            }
        }
        Verdict::Refuse(response) => denied(&response),
    }
}

/// The request's `Authorization` values: from `headers` (Envoy joins repeated ones with
/// `,`, which the library refuses as malformed), or from `header_map`'s raw values. A value
/// no HTTP header can hold becomes one that is no bearer credential: the layers refuse it
/// as malformed (400), never as missing.
fn authorization(http: &HttpRequest) -> Vec<HeaderValue> {
    let representable = |bytes: &[u8]| {
        HeaderValue::from_bytes(bytes)
            .unwrap_or(HeaderValue::from_static("unrepresentable credentials"))
    };
    if let Some(value) = http.headers.get(AUTHORIZATION.as_str()) {
        return vec![representable(value.as_bytes())];
    }
    http.header_map
        .iter()
        .flat_map(|map| &map.headers)
        .filter(|header| header.key.eq_ignore_ascii_case(AUTHORIZATION.as_str()))
        .map(|header| {
            let raw = if header.raw_value.is_empty() {
                header.value.as_bytes()
            } else {
                &header.raw_value
            };
            representable(raw)
        })
        .collect()
}

fn denied(response: &Response<String>) -> CheckResponse {
    let status = response.status();
    let code = match status {
        StatusCode::UNAUTHORIZED => UNAUTHENTICATED,
        StatusCode::BAD_REQUEST => INVALID_ARGUMENT,
        StatusCode::SERVICE_UNAVAILABLE => UNAVAILABLE,
        _ => PERMISSION_DENIED,
    };
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| header_option(name, value.as_bytes()))
        .collect();
    CheckResponse {
        status: Some(RpcStatus {
            code,
            message: response.body().trim_end().to_owned(),
            details: Vec::new(),
        }),
        http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
            status: Some(HttpStatus {
                code: i32::from(status.as_u16()),
            }),
            headers,
            body: response.body().clone(),
        })),
        ..CheckResponse::default()
    }
}

fn bad_original(gate: &Gate, err: &BadOriginal) -> CheckResponse {
    gate.log().bad_original("grpc", err);
    denied(&answer::bad_original(err))
}

/// A header to set, replacing any of the same name.
fn header_option(name: &HeaderName, value: &[u8]) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(EnvoyHeader {
            key: name.to_string(),
            // The gate's headers are ASCII: `value` carries them exactly.
            value: String::from_utf8_lossy(value).into_owned(),
            raw_value: Vec::new(),
        }),
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd.into(),
        ..HeaderValueOption::default()
    }
}
