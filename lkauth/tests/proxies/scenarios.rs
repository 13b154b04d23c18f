//! What nginx and Caddy must show in front of the upstream with the gate beside them: each
//! scenario runs once per proxy (`<scenario>::nginx`, `<scenario>::caddy`).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite;
use tower_livekit_auth::VideoGrant;

use crate::gate::Gate;
use crate::harness::{
    admin, client, eventually, expired, forged, grantless, joiner, send, token, Answer, SECRET,
};
use crate::proxy::{Kind, Proxy};
use crate::support::assert_no_leak;
use crate::upstream::{Seen, Upstream};

/// Each scenario, as one test per proxy.
macro_rules! on_both_proxies {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn nginx() {
                super::$scenario(crate::proxy::Kind::Nginx).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn caddy() {
                super::$scenario(crate::proxy::Kind::Caddy).await;
            }
        }
    )*};
}

on_both_proxies!(
    a_good_token_reaches_the_upstream_with_the_gates_identity_headers_only,
    missing_forged_expired_and_grantless_tokens_never_reach_the_upstream,
    a_participant_removed_through_the_gate_is_refused_at_the_proxy_at_once,
    the_access_logs_keep_the_path_and_the_status_but_never_a_token,
    with_the_gate_down_nothing_passes_and_no_log_holds_a_token,
    the_largest_token_the_gate_takes_passes_in_the_header_and_the_query,
);

/// The upstream, the gate forwarding RoomService calls to it, and the proxy in front.
struct Stack {
    upstream: Upstream,
    gate: Gate,
    proxy: Proxy,
    http: reqwest::Client,
}

impl Stack {
    async fn start(kind: Kind) -> Stack {
        let upstream = Upstream::start().await;
        let livekit = upstream.addr.clone();
        let gate = tokio::task::spawn_blocking(move || Gate::start(&livekit))
            .await
            .expect("the gate starts");
        let (gate_addr, upstream_addr) = (gate.addr.clone(), upstream.addr.clone());
        let proxy =
            tokio::task::spawn_blocking(move || Proxy::start(kind, &gate_addr, &upstream_addr))
                .await
                .expect("the proxy starts");
        Stack {
            upstream,
            gate,
            proxy,
            http: client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.proxy.base)
    }

    /// `GET path` through the proxy, with `token` as a bearer token.
    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        send(request).await
    }

    /// Opens a WebSocket at `path` through the proxy: the upstream's greeting, or the status
    /// of the refusal.
    async fn websocket(&self, path: &str) -> Result<String, u16> {
        let stream = tokio::net::TcpStream::connect(&self.proxy.addr)
            .await
            .expect("connect to the proxy");
        let url = format!("ws://{}{path}", self.proxy.addr);
        let opened = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::client_async(url, stream),
        )
        .await
        .expect("the proxy answers the upgrade within 10 s");
        match opened {
            Ok((mut ws, response)) => {
                assert_eq!(response.status().as_u16(), 101);
                let greeting = tokio::time::timeout(Duration::from_secs(10), ws.next())
                    .await
                    .expect("a greeting within 10 s")
                    .expect("a message")
                    .expect("a readable message");
                ws.send(tungstenite::Message::text("ping"))
                    .await
                    .expect("send through the proxy");
                let echo = tokio::time::timeout(Duration::from_secs(10), ws.next())
                    .await
                    .expect("an echo within 10 s")
                    .expect("a message")
                    .expect("a readable message");
                assert_eq!(echo.into_text().expect("text").as_str(), "ping");
                let _ = ws.close(None).await;
                Ok(greeting.into_text().expect("text").as_str().to_owned())
            }
            Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(err) => panic!(
                "{:?}: the WebSocket at {path} failed: {err}",
                self.proxy.kind
            ),
        }
    }

    /// Fails if any log of the proxy or of the gate shows any 8 bytes in a row of `tokens`
    /// (or the key's secret).
    fn assert_no_token_in_logs(&self, tokens: &[&str]) {
        let mut logs = self.proxy.logs();
        logs.push((String::from("the gate's stdout"), self.gate.stdout()));
        logs.push((String::from("the gate's stderr"), self.gate.stderr()));
        for (name, text) in &logs {
            let what = format!("{:?}: {name}", self.proxy.kind);
            for token in tokens {
                assert_no_leak(&what, text, token, &[SECRET]);
            }
        }
    }
}

/// The headers the upstream got under the gate's names, spelt any way (case, `_` for `-`:
/// CGI-style servers read `x_livekit_identity` as `x-livekit-identity`).
fn livekit_headers(seen: &Seen) -> Vec<(String, String)> {
    seen.headers
        .iter()
        .filter(|(name, _)| name.replace('_', "-").starts_with("x-livekit-"))
        .cloned()
        .collect()
}

/// What the client slips in under the gate's header names.
const SPOOFED: [(&str, &str); 5] = [
    ("x-livekit-identity", "admin"),
    ("X-LiveKit-Identity", "root"),
    ("x-livekit-room", "other"),
    ("x-livekit-claims", "forged-claims"),
    ("x_livekit_identity", "admin"),
];

fn spoofing(mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    for (name, value) in SPOOFED {
        request = request.header(name, value);
    }
    request
}

fn decoded_claims(seen: &Seen) -> Value {
    let claims = seen.header("x-livekit-claims").expect("the claims header");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64url")).expect("JSON")
}

async fn a_good_token_reaches_the_upstream_with_the_gates_identity_headers_only(kind: Kind) {
    let stack = Stack::start(kind).await;
    let jose = token("José")
        .with_name("Alice")
        .with_video_grant(VideoGrant::join("salle 1"))
        .to_jwt()
        .expect("mints");

    // The token in the header, every identity header spoofed: the gate's values replace them.
    let reply = send(spoofing(
        stack
            .http
            .get(stack.url("/rtc/validate"))
            .bearer_auth(&jose),
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{kind:?}: {}", reply.body);
    let seen = stack.upstream.seen();
    assert_eq!(seen.len(), 1, "{kind:?}: {seen:?}");
    let got = &seen[0];
    assert_identity(kind, got, "Jos%C3%A9", "salle%201");
    let claims = decoded_claims(got);
    assert_eq!(claims["sub"], "José");
    assert_eq!(claims["name"], "Alice");
    assert_eq!(claims["video"]["room"], "salle 1");

    // The token in the query (LiveKit's WebSocket): the same, and LiveKit still gets its URI.
    let path = format!("/rtc?room=salle%201&access_token={jose}");
    let reply = send(spoofing(stack.http.get(stack.url(&path)))).await;
    assert_eq!(reply.status, StatusCode::OK, "{kind:?}: {}", reply.body);
    let got = stack.upstream.seen().pop().expect("the request");
    assert_eq!(got.uri, path);
    assert_identity(kind, &got, "Jos%C3%A9", "salle%201");

    // A public route without a token: no identity, and nothing the client sent passes. The
    // headers are absent or empty (nginx drops an empty one; the gate answers them empty), or,
    // through Caddy 2.6 (Debian's) from a gate that answers none, Caddy's unfilled placeholder.
    let reply = send(spoofing(stack.http.get(stack.url("/")))).await;
    assert_eq!(reply.status, StatusCode::OK, "{kind:?}: {}", reply.body);
    let got = stack.upstream.seen().pop().expect("the request");
    for (name, value) in livekit_headers(&got) {
        let placeholder = format!("{{http.reverse_proxy.header.{name}}}");
        assert!(
            value.is_empty() || (kind == Kind::Caddy && value.eq_ignore_ascii_case(&placeholder)),
            "{kind:?}: {name}: {value} reached the upstream"
        );
    }

    // A twirp call with its body: the check never reads it, the upstream gets all of it.
    let moderator = admin("salle 1");
    let body = json!({"room": "salle 1"}).to_string();
    let reply = send(
        stack
            .http
            .post(stack.url("/twirp/livekit.RoomService/ListParticipants"))
            .bearer_auth(&moderator)
            .header("content-type", "application/json")
            .body(body.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{kind:?}: {}", reply.body);
    let got = stack.upstream.seen().pop().expect("the request");
    assert_eq!(got.method, "POST");
    assert_eq!(got.body, body.as_bytes());
    assert_identity(kind, &got, "moderator", "salle%201");

    stack.assert_no_token_in_logs(&[&jose, &moderator]);
}

/// The upstream got exactly the gate's identity, room and claims, and nothing else under
/// their names.
fn assert_identity(kind: Kind, seen: &Seen, identity: &str, room: &str) {
    let headers = livekit_headers(seen);
    let mut names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["x-livekit-claims", "x-livekit-identity", "x-livekit-room"],
        "{kind:?}: the gate's three, once each, nothing else: {headers:?}"
    );
    assert_eq!(
        seen.header("x-livekit-identity"),
        Some(identity),
        "{kind:?}"
    );
    assert_eq!(seen.header("x-livekit-room"), Some(room), "{kind:?}");
    let claims = decoded_claims(seen);
    assert_eq!(
        claims["sub"].as_str().map(|sub| sub.to_owned()),
        percent_decode(identity),
        "{kind:?}"
    );
}

fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

async fn missing_forged_expired_and_grantless_tokens_never_reach_the_upstream(kind: Kind) {
    let stack = Stack::start(kind).await;
    let good = joiner("alice", "r1");
    let forged = forged(&good);
    let expired = expired("alice", "r1");
    let grantless = grantless("alice");
    let cases: Vec<(&str, String, Option<&str>, u16, &str)> = vec![
        (
            "GET",
            String::from("/rtc"),
            None,
            401,
            r#"Bearer realm="livekit""#,
        ),
        (
            "GET",
            String::from("/rtc"),
            Some(&forged),
            401,
            "invalid_token",
        ),
        (
            "GET",
            String::from("/rtc/validate"),
            Some(&expired),
            401,
            "invalid_token",
        ),
        (
            "GET",
            format!("/rtc?access_token={forged}"),
            None,
            401,
            "invalid_token",
        ),
        (
            "GET",
            format!("/rtc/validate?access_token={expired}"),
            None,
            401,
            "invalid_token",
        ),
        (
            "GET",
            String::from("/rtc"),
            Some(&grantless),
            403,
            "insufficient_scope",
        ),
        (
            "POST",
            String::from("/twirp/livekit.RoomService/ListRooms"),
            Some(&good),
            403,
            "insufficient_scope",
        ),
    ];
    for (method, path, token, status, challenge) in &cases {
        let mut request = stack
            .http
            .request(method.parse().expect("a method"), stack.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let reply = send(request).await;
        assert_eq!(
            reply.status.as_u16(),
            *status,
            "{kind:?} {method} {path}: {}",
            reply.body
        );
        let www = reply
            .header("www-authenticate")
            .unwrap_or_else(|| panic!("{kind:?} {method} {path}: no challenge"));
        assert!(
            www.starts_with("Bearer realm=\"livekit\""),
            "{kind:?}: {www}"
        );
        assert!(www.contains(challenge), "{kind:?} {method} {path}: {www}");
        if kind == Kind::Caddy {
            // Caddy hands the gate's answer on as it is, the reason in the body.
            assert_eq!(
                reply.header("content-type"),
                Some("text/plain; charset=utf-8")
            );
            assert!(!reply.body.is_empty());
        }
    }

    // A client naming another original request (a public one) changes nothing: each proxy
    // names the original itself.
    let reply = send(
        stack
            .http
            .get(stack.url("/rtc"))
            .header("x-original-uri", "/")
            .header("x-original-method", "GET")
            .header("x-forwarded-uri", "/")
            .header("x-forwarded-method", "GET"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{kind:?}: {}",
        reply.body
    );

    // A path no route of the preset matches: the default, deny.
    let reply = stack.get("/admin/anything", Some(&good)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{kind:?}");
    assert_eq!(reply.header("www-authenticate"), None, "{kind:?}");

    let seen = stack.upstream.seen();
    assert!(seen.is_empty(), "{kind:?}: the upstream saw {seen:?}");
    stack.assert_no_token_in_logs(&[&good, &forged, &expired, &grantless]);
}

async fn a_participant_removed_through_the_gate_is_refused_at_the_proxy_at_once(kind: Kind) {
    let stack = Stack::start(kind).await;
    let bob = joiner("bob", "stage");
    let carol = joiner("carol", "stage");
    let moderator = admin("stage");
    let validate = |token: &str| format!("/rtc/validate?access_token={token}");
    let rtc = |token: &str| format!("/rtc?access_token={token}&auto_subscribe=1");

    for (who, token) in [("bob", &bob), ("carol", &carol)] {
        let reply = stack.get(&validate(token), None).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{kind:?} {who}: {}",
            reply.body
        );
        assert_eq!(
            stack.websocket(&rtc(token)).await,
            Ok(format!("welcome {who}")),
            "{kind:?}: {who}'s WebSocket reaches the upstream"
        );
    }
    let before = stack.upstream.seen().len();

    // A server SDK's RemoveParticipant, sent to the proxy, which routes it to the gate: the
    // gate records it and forwards it to LiveKit (the upstream), whose answer comes back.
    let removed = send(
        stack
            .http
            .post(stack.url("/twirp/livekit.RoomService/RemoveParticipant"))
            .bearer_auth(&moderator)
            .json(&json!({"room": "stage", "identity": "bob"})),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{kind:?}: {}", removed.body);
    assert_eq!(removed.body, "{}");
    let seen = stack.upstream.seen();
    let forwarded = &seen[before..];
    assert_eq!(forwarded.len(), 1, "{kind:?}: {forwarded:?}");
    assert_eq!(
        forwarded[0].uri,
        "/twirp/livekit.RoomService/RemoveParticipant"
    );
    assert_eq!(
        forwarded[0].header("authorization"),
        Some(format!("Bearer {moderator}").as_str()),
        "LiveKit checks the caller's own token"
    );
    let before = seen.len();

    // At once, every way bob can come: refused at the door.
    let reply = stack.get(&validate(&bob), None).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{kind:?}: {}",
        reply.body
    );
    let www = reply.header("www-authenticate").expect("a challenge");
    assert!(
        www.contains("invalid_token") && www.contains("revoked"),
        "{kind:?}: {www}"
    );
    let reply = stack.get("/rtc", Some(&bob)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{kind:?}");
    assert_eq!(
        stack.websocket(&rtc(&bob)).await,
        Err(401),
        "{kind:?}: bob's WebSocket upgrade"
    );
    // Carol is not touched.
    let reply = stack.get(&validate(&carol), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{kind:?}");
    assert_eq!(
        stack.websocket(&rtc(&carol)).await,
        Ok(String::from("welcome carol"))
    );

    let after = &stack.upstream.seen()[before..];
    assert_eq!(after.len(), 2, "{kind:?}: only carol's two: {after:?}");
    for seen in after {
        assert_eq!(seen.header("x-livekit-identity"), Some("carol"), "{kind:?}");
        assert!(!seen.uri.contains(&bob), "{kind:?}");
    }
    stack.assert_no_token_in_logs(&[&bob, &carol, &moderator]);
}

async fn the_access_logs_keep_the_path_and_the_status_but_never_a_token(kind: Kind) {
    let stack = Stack::start(kind).await;
    let alice = joiner("alice", "r1");
    let forged = forged(&alice);
    let ok = stack
        .get(&format!("/rtc/validate?room=r1&access_token={alice}"), None)
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let refused = stack
        .get(
            &format!("/rtc/validate?room=r1&access_token={forged}"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let header = stack.get("/rtc/validate", Some(&alice)).await;
    assert_eq!(header.status, StatusCode::OK);

    // Both lines are there, with their path and status: the log is redacted, not empty.
    let logged = eventually(Duration::from_secs(5), || {
        let log = stack.proxy.access_log();
        async move { log.lines().count() >= 3 }
    })
    .await;
    let log = stack.proxy.access_log();
    assert!(logged, "{kind:?}: {log}");
    match kind {
        Kind::Nginx => {
            assert!(log.contains(r#""GET /rtc/validate HTTP/1.1" 200"#), "{log}");
            assert!(log.contains(r#""GET /rtc/validate HTTP/1.1" 401"#), "{log}");
        }
        Kind::Caddy => {
            let lines: Vec<Value> = log
                .lines()
                .map(|line| serde_json::from_str(line).expect("a JSON line"))
                .collect();
            let statuses: Vec<(String, u64)> = lines
                .iter()
                .map(|line| {
                    (
                        line["request"]["uri"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        line["status"].as_u64().unwrap_or_default(),
                    )
                })
                .collect();
            assert!(
                statuses.contains(&(String::from("/rtc/validate?room=r1"), 200)),
                "{log}"
            );
            assert!(
                statuses.contains(&(String::from("/rtc/validate?room=r1"), 401)),
                "{log}"
            );
        }
    }
    // The gate's own access log: the URI with `access_token=[redacted]`.
    let out = stack.gate.stdout();
    assert!(
        out.contains("/rtc/validate?room=r1&access_token=[redacted]"),
        "{out}"
    );
    stack.assert_no_token_in_logs(&[&alice, &forged]);
}

async fn with_the_gate_down_nothing_passes_and_no_log_holds_a_token(kind: Kind) {
    let mut stack = Stack::start(kind).await;
    let alice = joiner("alice", "r1");
    let path = format!("/rtc/validate?access_token={alice}");
    assert_eq!(stack.get(&path, None).await.status, StatusCode::OK);
    stack.gate.stop();

    // nginx turns a failed check into a 500, Caddy into a 502: never an allow.
    let expected = match kind {
        Kind::Nginx => StatusCode::INTERNAL_SERVER_ERROR,
        Kind::Caddy => StatusCode::BAD_GATEWAY,
    };
    for _ in 0..2 {
        assert_eq!(stack.get(&path, None).await.status, expected, "{kind:?}");
        assert_eq!(
            stack.get("/rtc", Some(&alice)).await.status,
            expected,
            "{kind:?}"
        );
    }
    assert_eq!(
        stack.websocket(&path).await,
        Err(expected.as_u16()),
        "{kind:?}"
    );
    assert_eq!(stack.upstream.seen().len(), 1, "{kind:?}: only the first");

    if kind == Kind::Caddy {
        // Caddy logged the errors, their URI filtered.
        let logged = eventually(Duration::from_secs(5), || {
            let logs = stack.proxy.logs();
            async move {
                logs.iter().any(|(name, text)| {
                    name == "stderr" && text.contains(r#""uri":"/rtc/validate""#)
                })
            }
        })
        .await;
        assert!(logged, "{:?}", stack.proxy.logs());
    }
    stack.assert_no_token_in_logs(&[&alice]);
}

async fn the_largest_token_the_gate_takes_passes_in_the_header_and_the_query(kind: Kind) {
    let stack = Stack::start(kind).await;
    // Metadata enough for a token just under the verifier's 16 KiB.
    let metadata: String = (0..1600)
        .map(|i| format!("{:07},", i * 7919 % 10_000_000))
        .collect();
    let big = token("bigger")
        .with_metadata(&metadata[..12_000])
        .with_video_grant(VideoGrant::join("r1"))
        .to_jwt()
        .expect("mints");
    assert!((15_500..16_384).contains(&big.len()), "{}", big.len());
    let reply = stack.get("/rtc/validate", Some(&big)).await;
    assert_eq!(reply.status, StatusCode::OK, "{kind:?}: {}", reply.body);
    let reply = stack
        .get(&format!("/rtc/validate?access_token={big}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{kind:?}: {}", reply.body);
    let seen = stack.upstream.seen();
    assert_eq!(seen.len(), 2);
    for got in &seen {
        assert_identity(kind, got, "bigger", "r1");
        assert_eq!(decoded_claims(got)["metadata"], metadata[..12_000]);
    }
    stack.assert_no_token_in_logs(&[&big]);
}
