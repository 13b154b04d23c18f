//! Tokens, ports, scratch directories, an HTTP client that follows nothing, and polling with
//! deadlines.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

pub(crate) use crate::tokens::{admin, expired, forged, grantless, joiner, token, KEY, SECRET};

/// A scratch directory under the target directory (`cargo clean` removes it), kept after the
/// test so that a failure's logs can be read.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("proxies-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A loopback port nobody listens on now (the caller retries if another process takes it
/// before its server binds it).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// The text of `path`, or nothing when it does not exist (yet).
pub(crate) fn read(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// A client that never follows a redirect, with a bounded timeout.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// An answer: status, headers, body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    /// The one value of `name`, if any.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("a visible ASCII header"))
    }
}

/// Sends `request`: its status, headers and body.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("an answer");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.expect("a body");
    Reply {
        status,
        headers,
        body,
    }
}

/// Polls `condition` every 20 ms until it holds or `within` passes: whether it held.
pub(crate) async fn eventually<F, Fut>(within: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
