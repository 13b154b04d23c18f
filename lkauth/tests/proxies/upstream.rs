//! The upstream behind the proxies, LiveKit's stand-in, served in-process on 127.0.0.1: it
//! records every request that reaches it (so that a test can say what never did), echoes the
//! headers, accepts the signalling WebSocket and answers the RoomService calls the gate
//! forwards to it (`--livekit-url`).

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use futures_util::{SinkExt as _, StreamExt as _};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A request the upstream got.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    /// Path and query, as the proxy sent them.
    pub(crate) uri: String,
    /// Every header line, names in lower case, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Seen {
    /// Every value of `name`.
    pub(crate) fn values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The one value of `name`; fails if there are several.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let values = self.values(name);
        assert!(
            values.len() <= 1,
            "{name} passed {} times: {self:?}",
            values.len()
        );
        values.first().copied()
    }
}

/// The upstream: its address and what it saw.
#[derive(Clone)]
pub(crate) struct Upstream {
    /// `127.0.0.1:<port>`.
    pub(crate) addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    /// Serves on a free loopback port until the test's runtime ends.
    pub(crate) async fn start() -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let upstream = Upstream {
            addr: listener.local_addr().expect("address").to_string(),
            seen: Arc::default(),
        };
        let router = Router::new().fallback(answer).with_state(upstream.clone());
        tokio::spawn(lkauth::listen::serve(
            listener,
            router,
            lkauth::listen::Timeouts::default(),
            std::future::pending(),
        ));
        upstream
    }

    /// Every request it got so far, in order.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

async fn answer(State(upstream): State<Upstream>, mut request: Request) -> Response {
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let upgrade = request
        .headers()
        .get("upgrade")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let key = request.headers().get("sec-websocket-key").cloned();
    let on_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .map(|bytes| bytes.to_vec())
        .unwrap_or_default();
    let seen = Seen {
        method,
        uri,
        headers,
        body,
    };
    upstream
        .seen
        .lock()
        .expect("not poisoned")
        .push(seen.clone());

    if let (Some(on_upgrade), Some(key)) = (on_upgrade, key) {
        // The WebSocket: a greeting naming the identity the proxy passed, then an echo.
        let identity = seen.header("x-livekit-identity").unwrap_or("").to_owned();
        tokio::spawn(async move {
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            let mut ws =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            if ws
                .send(Message::text(format!("welcome {identity}")))
                .await
                .is_err()
            {
                return;
            }
            while let Some(Ok(message)) = ws.next().await {
                if message.is_close() || ws.send(message).await.is_err() {
                    break;
                }
            }
        });
        return Response::builder()
            .status(101)
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
            .body(Body::empty())
            .expect("a 101");
    }
    if seen.method == "POST" && seen.uri.starts_with("/twirp/livekit.RoomService/") {
        // LiveKit's answer to a forwarded RemoveParticipant: an empty message.
        return Response::builder()
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .expect("a twirp answer");
    }
    let echo = json!({
        "method": seen.method,
        "uri": seen.uri,
        "headers": seen.headers,
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(echo.to_string()))
        .expect("an echo")
}
