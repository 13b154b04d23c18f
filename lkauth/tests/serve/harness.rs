//! The one harness of the serve tests: the app of `lkauth serve` (`lkauth/src/serve/`) served
//! in this process on a free 127.0.0.1 port, with its own server loop (`lkauth::listen`), and
//! an HTTP client for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use tower_livekit_auth::{AccessToken, KeyRing, Verifier};

/// A running demo server.
pub(crate) struct Demo {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// `ws://127.0.0.1:<port>`: the LiveKit URL the demo hands out with its tokens.
    pub(crate) server_url: String,
    /// The verifier the app was built from (its keys and clock; the app adds its participant
    /// state to its own copy).
    pub(crate) verifier: Verifier,
    pub(crate) http: reqwest::Client,
    /// Unix seconds, when the demo runs on an injected clock.
    clock: Option<Arc<AtomicU64>>,
}

/// How to start a [`Demo`]: [`Demo::with_keys`], then the options, then
/// [`start`](Self::start).
pub(crate) struct DemoOptions {
    keys: KeyRing,
    clock: Option<u64>,
    timeouts: lkauth::listen::Timeouts,
    replica_of: Option<(String, String)>,
    around: Option<Box<dyn FnOnce(axum::Router) -> axum::Router>>,
}

impl Demo {
    /// A demo verifying with `keys`, on the system clock, as one server with its state in
    /// memory.
    pub(crate) fn with_keys(keys: KeyRing) -> DemoOptions {
        DemoOptions {
            keys,
            clock: None,
            timeouts: lkauth::listen::Timeouts::default(),
            replica_of: None,
            around: None,
        }
    }

    /// The time of the demo's verifier, in Unix seconds.
    pub(crate) fn now(&self) -> u64 {
        let now = self.verifier.now().duration_since(UNIX_EPOCH);
        now.expect("after 1970").as_secs()
    }

    /// Sets the injected clock to `seconds`.
    pub(crate) fn at(&self, seconds: u64) {
        let clock = self.clock.as_ref().expect("a demo started with clock_at");
        clock.store(seconds, Ordering::SeqCst);
    }

    /// `token` signed as of the demo's time.
    pub(crate) fn mint(&self, token: AccessToken) -> String {
        token.to_jwt_at(self.verifier.now()).expect("mints")
    }

    /// The demo's URL of `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`, with `token` as a bearer token if any: the status and the body.
    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, String) {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (status, _, body) = self.send(request).await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// `POST path` with a JSON `body`, with `token` as a bearer token if any: the status and
    /// the body.
    pub(crate) async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, String) {
        let mut request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (status, _, body) = self.send(request).await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Sends `request`: the status, the headers and the body.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = request.send().await.expect("request");
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await.expect("body").to_vec();
        (status, headers, body)
    }
}

impl DemoOptions {
    /// Run the demo's verifier on an injected clock, starting at `seconds` (see [`Demo::at`]).
    pub(crate) fn clock_at(mut self, seconds: u64) -> Self {
        self.clock = Some(seconds);
        self
    }

    /// Serve with these read timeouts instead of the demo's defaults.
    pub(crate) fn timeouts(mut self, timeouts: lkauth::listen::Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Run as one replica of many: the participant state and the rooms in the Redis at `url`,
    /// under `prefix`.
    pub(crate) fn replica_of(mut self, url: &str, prefix: &str) -> Self {
        self.replica_of = Some((url.to_owned(), prefix.to_owned()));
        self
    }

    /// Wrap the demo's router with `layers` (a recording middleware, say).
    pub(crate) fn around(
        mut self,
        layers: impl FnOnce(axum::Router) -> axum::Router + 'static,
    ) -> Self {
        self.around = Some(Box::new(layers));
        self
    }

    /// Binds a free 127.0.0.1 port and serves the demo on it.
    pub(crate) async fn start(self) -> Demo {
        let mut verifier = Verifier::new(self.keys);
        let clock = self.clock.map(|seconds| Arc::new(AtomicU64::new(seconds)));
        if let Some(clock) = clock.clone() {
            verifier = verifier
                .with_clock(move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst)));
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        let server_url = format!("ws://{addr}");
        let state = match &self.replica_of {
            Some((url, prefix)) => lkauth::serve::AppState::replica(
                verifier.clone(),
                server_url.clone(),
                url,
                prefix,
                tower_livekit_auth::limits::Limits::new(),
            )
            .await
            .expect("reaches Redis"),
            None => lkauth::serve::AppState::new(verifier.clone(), server_url.clone()),
        };
        let mut router = lkauth::serve::router(state).expect("router");
        if let Some(around) = self.around {
            router = around(router);
        }
        tokio::spawn(lkauth::listen::serve(
            listener,
            router,
            self.timeouts,
            std::future::pending(),
        ));
        Demo {
            base: format!("http://{addr}"),
            server_url,
            verifier,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            clock,
        }
    }
}

/// The system time `seconds` after the Unix epoch.
pub(crate) fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}
