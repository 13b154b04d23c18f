//! Tokens, ports, scratch directories, an HTTP client that follows nothing, and polling with
//! deadlines.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub(crate) use crate::http_client::{client, eventually, send, Answer};
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
