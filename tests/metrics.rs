//! Feature `metrics`: the counters the crate emits, read back with metrics-util's debugging
//! recorder, with low-cardinality labels only.

#![cfg(feature = "metrics")]

use std::collections::BTreeMap;

use http::{Request, Response};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};
use tower::{service_fn, Layer, ServiceBuilder, ServiceExt};
use tower_livekit_auth::middleware::TokenLocation;
use tower_livekit_auth::{AccessToken, AuthLayer, KeyRing, RequireLayer, Verifier, VideoGrant};

const KEY: &str = "APImetrics001";
const SECRET: &str = "metricsSecret0123456789abcdefghijklmnopqr";

/// Every counter as `name{label=value,...}` → value.
fn counters(recorder: &DebuggingRecorder) -> BTreeMap<String, u64> {
    let mut found = BTreeMap::new();
    for (key, _, _, value) in recorder.snapshotter().snapshot().into_vec() {
        let key: CompositeKey = key;
        assert_eq!(key.kind(), MetricKind::Counter, "{key:?}");
        let mut labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        let DebugValue::Counter(n) = value else {
            panic!("{value:?}")
        };
        found.insert(format!("{}{{{}}}", key.key().name(), labels.join(",")), n);
    }
    found
}

/// Sends `request` through `service` on `runtime`.
fn send<S>(runtime: &tokio::runtime::Runtime, service: S, request: Request<String>)
where
    S: tower::Service<Request<String>, Response = Response<String>>,
    S::Error: std::fmt::Debug,
{
    runtime
        .block_on(service.oneshot(request))
        .expect("infallible");
}

fn ok(
    _: Request<String>,
) -> std::future::Ready<Result<Response<String>, std::convert::Infallible>> {
    std::future::ready(Ok(Response::new(String::new())))
}

#[test]
fn verifications_rejections_and_the_cache_are_counted_with_fixed_labels() {
    let recorder = DebuggingRecorder::new();
    let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"));
    let token = AccessToken::new(KEY, SECRET)
        .with_identity("secret-identity")
        .with_video_grant(VideoGrant::join("secret-room"))
        .to_jwt()
        .expect("mints");
    let forged = format!(
        "{}{}",
        &token[..token.len() - 1],
        if token.ends_with('A') { 'E' } else { 'A' }
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    metrics::with_local_recorder(&recorder, || {
        // Direct calls.
        assert!(verifier.verify(&token).is_ok());
        assert!(verifier.verify(&forged).is_err());
        assert!(verifier.verify("not-a-token").is_err());
        // Through the layer: header, query, nothing, a malformed header, a missing grant.
        let layer =
            AuthLayer::new(verifier.clone()).with_token_location(TokenLocation::HeaderOrQuery);
        let guarded = ServiceBuilder::new()
            .layer(layer.clone())
            .layer(RequireLayer::create_rooms())
            .service(service_fn(ok));
        let send = |service, request| send(&runtime, service, request);
        let with_header = |t: &str| {
            Request::get("/")
                .header("authorization", format!("Bearer {t}"))
                .body(String::new())
                .expect("request")
        };
        send(layer.layer(service_fn(ok)), with_header(&token));
        send(
            layer.layer(service_fn(ok)),
            Request::get(format!("/?access_token={token}"))
                .body(String::new())
                .expect("request"),
        );
        send(
            layer.layer(service_fn(ok)),
            Request::get("/").body(String::new()).expect("request"),
        );
        send(
            layer.layer(service_fn(ok)),
            Request::get("/")
                .header("authorization", "Basic x")
                .body(String::new())
                .expect("request"),
        );
        self::send(&runtime, guarded, with_header(&token));
        // The cache.
        let cached = verifier.clone().with_cache(10, 1 << 20);
        assert!(cached.verify(&token).is_ok());
        assert!(cached.verify(&token).is_ok());
    });
    let counted = counters(&recorder);
    let expect =
        |key: &str, n: u64| assert_eq!(counted.get(key), Some(&n), "{key} in {counted:#?}");
    expect(
        "livekit_auth_verifications_total{outcome=accepted,reason=none,source=direct}",
        3,
    );
    expect(
        "livekit_auth_verifications_total{outcome=refused,reason=invalid_signature,source=direct}",
        1,
    );
    expect(
        "livekit_auth_verifications_total{outcome=refused,reason=malformed,source=direct}",
        1,
    );
    expect(
        "livekit_auth_verifications_total{outcome=accepted,reason=none,source=header}",
        2,
    );
    expect(
        "livekit_auth_verifications_total{outcome=accepted,reason=none,source=query}",
        1,
    );
    expect("livekit_auth_rejections_total{kind=missing_token}", 1);
    expect("livekit_auth_rejections_total{kind=malformed_request}", 1);
    expect("livekit_auth_rejections_total{kind=insufficient_scope}", 1);
    expect("livekit_auth_token_cache_total{result=miss}", 1);
    expect("livekit_auth_token_cache_total{result=hit}", 1);
    for key in counted.keys() {
        for secret in ["secret-identity", "secret-room", KEY, "/"] {
            let labels = key.split_once('{').map_or("", |(_, l)| l);
            assert!(!labels.contains(secret), "{key} carries {secret}");
        }
    }
}
