//! The gate served in-process on 127.0.0.1 (its own router and server loop, its gRPC service
//! on a second port), a client that asks it the way each proxy does, and the tokens the tests
//! present.

use std::time::Duration;

use lkauth::gate::{Gate, Policy};
use reqwest::Method;
use tower_livekit_auth::{KeyRing, Verifier};

pub(crate) use crate::http_client::{client, eventually, send, Answer};
pub(crate) use crate::tokens::{admin, expired, forged, grantless, joiner, token, KEY, SECRET};

/// How a proxy asks: which headers carry the original request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// nginx `auth_request`: `X-Original-URI`, `X-Original-Method` to `/auth`.
    Nginx,
    /// Caddy `forward_auth` and Traefik `ForwardAuth`: a GET to `/auth` with
    /// `X-Forwarded-Method`, `X-Forwarded-Uri`, `X-Forwarded-Host`.
    Caddy,
    /// Envoy HTTP `ext_authz`: the original method and path after `/ext_authz`.
    Envoy,
}

pub(crate) const STYLES: [Style; 3] = [Style::Nginx, Style::Caddy, Style::Envoy];

/// A gate running on 127.0.0.1.
pub(crate) struct GateServer {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// `http://127.0.0.1:<port>` of the gRPC `ext_authz` service.
    pub(crate) grpc: String,
    pub(crate) http: reqwest::Client,
}

impl GateServer {
    /// A gate with the built-in `livekit` preset.
    pub(crate) async fn livekit() -> GateServer {
        GateServer::start(Policy::preset("livekit").expect("preset"), None).await
    }

    /// A gate deciding by the policy `yaml`.
    pub(crate) async fn with_policy(yaml: &str) -> GateServer {
        let policy = Policy::from_yaml(yaml, "the test policy").expect("a valid policy");
        GateServer::start(policy, None).await
    }

    /// A gate by `policy`, forwarding RoomService calls to `livekit` if given.
    pub(crate) async fn start(policy: Policy, livekit: Option<&str>) -> GateServer {
        let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
        let mut builder = Gate::builder(Verifier::new(keys), policy);
        if let Some(url) = livekit {
            builder = builder.livekit_url(url, Duration::from_secs(5));
        }
        let gate = builder.build().expect("gate");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(lkauth::listen::serve(
            listener,
            lkauth::gate::router(gate.clone()),
            lkauth::listen::Timeouts::default(),
            std::future::pending(),
        ));
        let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let grpc = format!("http://{}", grpc_listener.local_addr().expect("address"));
        tokio::spawn(lkauth::gate::grpc::serve(
            grpc_listener,
            gate,
            std::future::pending(),
        ));
        GateServer {
            base,
            grpc,
            http: client(),
        }
    }

    /// Asks the gate about `method uri` the way `style` does, with `token` as a bearer token.
    pub(crate) async fn check(
        &self,
        style: Style,
        method: &str,
        uri: &str,
        token: Option<&str>,
    ) -> Answer {
        let mut request = match style {
            Style::Nginx => self
                .http
                .get(format!("{}/auth", self.base))
                .header("x-original-uri", uri)
                .header("x-original-method", method),
            Style::Caddy => self
                .http
                .get(format!("{}/auth", self.base))
                .header("x-forwarded-uri", uri)
                .header("x-forwarded-method", method)
                .header("x-forwarded-host", "livekit.example.com")
                .header("x-forwarded-proto", "https"),
            Style::Envoy => {
                let method = Method::from_bytes(method.as_bytes()).expect("method");
                self.http
                    .request(method, format!("{}/ext_authz{uri}", self.base))
            }
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        send(request).await
    }
}
