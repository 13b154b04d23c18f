//! The participant state through a real `redis-server` on 127.0.0.1: replicas share one
//! state, and each fault (Redis unreachable, a dropped subscription, a stale snapshot with
//! fail-closed, Redis restarted empty) behaves as documented. Feature `redis`.

#![cfg(feature = "redis")]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use support::redis::{eventually, RedisServer};
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantState, ParticipantUpdate, RedisOptions, StateErrorKind,
    StateOptions,
};
use tower_livekit_auth::{
    AccessToken, KeyRing, TrackSource, Verifier, VerifyErrorKind, VideoGrant,
};

const KEY: &str = "APIredistest1";
const SECRET: &str = "redisTestSecret0123456789abcdefghijklmnop";
const WITHIN: Duration = Duration::from_secs(10);

fn options() -> RedisOptions {
    RedisOptions::new()
        .with_resync_interval(Duration::from_millis(300))
        .with_write_timeout(Duration::from_millis(500))
        .with_connect_timeout(Duration::from_secs(5))
        .with_max_backoff(Duration::from_millis(200))
}

/// A replica: its state and a verifier that applies it.
struct Replica {
    state: ParticipantState,
    verifier: Verifier,
}

impl Replica {
    async fn join(url: &str, redis: RedisOptions) -> Replica {
        Replica::join_with(url, redis, StateOptions::new()).await
    }

    async fn join_with(url: &str, redis: RedisOptions, options: StateOptions) -> Replica {
        let state = ParticipantState::redis(url, options, redis)
            .await
            .expect("reaches Redis");
        let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
            .with_participant_state(state.clone());
        Replica { state, verifier }
    }

    fn verify(&self, token: &str) -> Result<tower_livekit_auth::Claims, VerifyErrorKind> {
        self.verifier.verify(token).map_err(|e| e.kind())
    }
}

/// A join token for `identity` in room `r`, issued a minute ago.
fn token(identity: &str) -> String {
    AccessToken::new(KEY, SECRET)
        .with_identity(identity)
        .with_video_grant(VideoGrant::join("r").with_can_publish(false))
        .to_jwt_at(SystemTime::now() - Duration::from_secs(60))
        .expect("mints")
}

fn camera() -> ParticipantUpdate {
    ParticipantUpdate::new().with_permission(
        ParticipantPermission::new()
            .with_can_subscribe(true)
            .with_can_publish(true)
            .with_can_publish_sources([TrackSource::Camera]),
    )
}

fn publishes_camera(replica: &Replica, token: &str) -> bool {
    replica
        .verify(token)
        .is_ok_and(|claims| claims.can_publish_source(TrackSource::Camera))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_or_a_removal_through_one_replica_holds_on_every_replica() {
    let redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let b = Replica::join(&redis.url(), options()).await;
    let (alice, bob) = (token("alice"), token("bob"));
    a.state
        .update("r", "alice", camera())
        .await
        .expect("written");
    // Read your writes: at once on the writer.
    assert!(publishes_camera(&a, &alice));
    assert!(
        eventually(WITHIN, || publishes_camera(&b, &alice)).await,
        "the update reached b"
    );
    b.state.remove("r", "bob", None).await.expect("written");
    assert_eq!(b.verify(&bob).err(), Some(VerifyErrorKind::Revoked));
    revoked_within(&a, &bob).await;
    // A third replica that starts later reads everything at start.
    let c = Replica::join(&redis.url(), options()).await;
    assert!(publishes_camera(&c, &alice));
    assert_eq!(c.verify(&bob).err(), Some(VerifyErrorKind::Revoked));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_tokens_verify_against_the_last_state_and_writes_fail() {
    let mut redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let b = Replica::join(&redis.url(), options()).await;
    let (alice, bob) = (token("alice"), token("bob"));
    a.state
        .update("r", "alice", camera())
        .await
        .expect("written");
    a.state.remove("r", "bob", None).await.expect("written");
    assert!(
        eventually(WITHIN, || b.verify(&bob).is_err()
            && publishes_camera(&b, &alice))
        .await
    );

    redis.kill();
    for replica in [&a, &b] {
        // The last known state, answered without waiting.
        assert!(publishes_camera(replica, &alice));
        assert_eq!(replica.verify(&bob).err(), Some(VerifyErrorKind::Revoked));
        assert!(replica.verify(&token("carol")).is_ok());
    }
    let started = std::time::Instant::now();
    let err = a
        .state
        .remove("r", "carol", None)
        .await
        .expect_err("Redis is down");
    assert_eq!(err.kind(), StateErrorKind::Unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "gave up within the write timeout"
    );
    assert!(
        a.verify(&token("carol")).is_ok(),
        "a failed write is written nowhere"
    );

    // Back (empty: no persistence), the replicas reconnect: writes go through again.
    redis.restart();
    let deadline = tokio::time::Instant::now() + WITHIN;
    while a.state.remove("r", "carol", None).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "writes never worked again"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    revoked_within(&b, &token("carol")).await;
}

/// What a replica that missed an announcement may take to converge with [`options`]' 300 ms
/// interval: two checks or a reconnection and its rescan, with room for a loaded machine.
const CONVERGED: Duration = Duration::from_secs(3);

/// How long until `replica` refuses `token` as revoked; fails the test past [`WITHIN`].
async fn revoked_within(replica: &Replica, token: &str) -> Duration {
    let started = std::time::Instant::now();
    assert!(
        eventually(WITHIN, || replica.verify(token).err()
            == Some(VerifyErrorKind::Revoked))
        .await,
        "the replica never refused the revoked token"
    );
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_subscription_was_dropped_converges_by_its_own_resync() {
    let redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let b = Replica::join(&redis.url(), options()).await;
    let dave = token("dave");
    for round in 0..5 {
        // Drop every subscription, then write at once: b may miss the announcement.
        let killed = redis.command(&["CLIENT", "KILL", "TYPE", "pubsub"]);
        assert!(killed.starts_with(':'), "{killed}");
        let identity = format!("p{round}");
        a.state.remove("r", &identity, None).await.expect("written");
        // The bound: a reconnection and its rescan.
        let took = revoked_within(&b, &token(&identity)).await;
        assert!(took < CONVERGED, "round {round}: b converged in {took:?}");
    }
    assert!(b.verify(&dave).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_missed_an_announcement_rescans_within_two_checks() {
    let redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let b = Replica::join(&redis.url(), options()).await;
    a.state.remove("r", "x", None).await.expect("written");
    revoked_within(&b, &token("x")).await;
    // A write whose announcement is lost, on connections that stay up: y gets x's records and
    // the deployment's counter moves, as in a write, but nothing is published.
    for kind in ["r", "v"] {
        let (from, to) = (
            format!("tower-livekit-auth:{kind}:1:r:x"),
            format!("tower-livekit-auth:{kind}:1:r:y"),
        );
        assert!(redis.command(&["COPY", &from, &to]).starts_with(":1"));
    }
    assert!(redis
        .command(&["INCR", "tower-livekit-auth:g"])
        .starts_with(':'));
    let yan = token("y");
    assert!(b.verify(&yan).is_ok(), "not announced");
    // The bound: two checks (the first may see the announcement in flight).
    let took = revoked_within(&b, &yan).await;
    assert!(took < CONVERGED, "b noticed the gap in {took:?}");
    assert!(b.state.get("r", "y").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_closed_refuses_participants_once_the_state_is_too_stale() {
    let mut redis = RedisServer::start();
    let clock = Arc::new(AtomicU64::new(0));
    let shared = clock.clone();
    let now = move || SystemTime::now() + Duration::from_secs(shared.load(Ordering::SeqCst));
    let strict = Replica::join_with(
        &redis.url(),
        options().with_fail_closed_after(Duration::from_secs(2)),
        StateOptions::new().with_clock(now.clone()),
    )
    .await;
    let verifier = strict.verifier.clone().with_clock(now);
    let participant = token("erin");
    let roomless = AccessToken::new(KEY, SECRET)
        .with_video_grant(VideoGrant::new().with_room_list(true))
        .to_jwt()
        .expect("mints");
    assert!(verifier.verify(&participant).is_ok());

    redis.kill();
    // Two seconds of staleness are allowed; three are not.
    clock.store(3, Ordering::SeqCst);
    let err = verifier.verify(&participant).expect_err("too stale");
    assert_eq!(err.kind(), VerifyErrorKind::StateUnavailable);
    assert!(
        verifier.verify(&roomless).is_ok(),
        "a token naming no participant needs no state"
    );

    redis.restart();
    assert!(
        eventually(WITHIN, || verifier.verify(&participant).is_ok()).await,
        "fresh again after a resync"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_lost_its_data_is_followed_not_papered_over() {
    let mut redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let frank = token("frank");
    a.state.remove("r", "frank", None).await.expect("written");
    assert_eq!(a.verify(&frank).err(), Some(VerifyErrorKind::Revoked));
    // Restarted without persistence: the revocation is gone from Redis, and so from every
    // replica once it resyncs (documented: run Redis with persistence).
    redis.restart();
    assert!(eventually(WITHIN, || a.verify(&frank).is_ok()).await);
    assert!(a.state.get("r", "frank").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_cannot_start_without_the_state() {
    let redis = RedisServer::start();
    let port = redis.port();
    drop(redis);
    let started = std::time::Instant::now();
    let err = ParticipantState::redis(
        &format!("redis://127.0.0.1:{port}"),
        StateOptions::new(),
        options().with_connect_timeout(Duration::from_millis(500)),
    )
    .await
    .expect_err("no Redis");
    assert_eq!(err.kind(), StateErrorKind::Unavailable);
    assert!(started.elapsed() < Duration::from_secs(3));
    let bad = ParticipantState::redis("postgres://:hunter2@x", StateOptions::new(), options())
        .await
        .expect_err("not a Redis URL");
    assert_eq!(bad.kind(), StateErrorKind::InvalidConfig);
    assert!(!bad.to_string().contains("hunter2"), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_protected_tls_redis_works_as_redis_rs_reads_its_url() {
    let dir = std::env::temp_dir().join(format!("tlka-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // A CA of the test's own, and the server's certificate for 127.0.0.1 signed by it.
    let ca_key = rcgen::KeyPair::generate().expect("a key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA");
    let server_key = rcgen::KeyPair::generate().expect("a key");
    let server_cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("a certificate");
    let (ca_file, cert, key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_file, ca.pem()).expect("write CA");
    std::fs::write(&cert, server_cert.pem()).expect("write cert");
    std::fs::write(&key, server_key.serialize_pem()).expect("write key");
    // redis-rs verifies the server with the system's roots, which `SSL_CERT_FILE` replaces
    // (rustls-native-certs): the TLS test trusts its CA and nothing else is weakened. Only
    // this test of the binary reads it.
    std::env::set_var("SSL_CERT_FILE", &ca_file);
    let tls = vec![
        "--tls-cert-file".to_owned(),
        cert.display().to_string(),
        "--tls-key-file".to_owned(),
        key.display().to_string(),
        "--tls-auth-clients".to_owned(),
        "no".to_owned(),
    ];
    // With a certificate, the helper makes its port the TLS port.
    let redis = RedisServer::start_with(tls, Some("s3cret-pass"));
    let url = format!("rediss://:s3cret-pass@127.0.0.1:{}", redis.port());
    let a = Replica::join(&url, options()).await;
    let b = Replica::join(&url, options()).await;
    a.state
        .update("r", "gina", camera())
        .await
        .expect("written over TLS");
    let gina = token("gina");
    assert!(eventually(WITHIN, || publishes_camera(&b, &gina)).await);
    let wrong = format!("rediss://:wrong@127.0.0.1:{}", redis.port());
    let refused = ParticipantState::redis(
        &wrong,
        StateOptions::new(),
        options().with_connect_timeout(Duration::from_millis(500)),
    )
    .await
    .expect_err("wrong password");
    assert!(!refused.to_string().contains("wrong"), "{refused}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn outside_a_tokio_runtime_the_redis_backend_is_an_error_not_a_panic() {
    let redis = RedisServer::start();
    // A runtime-less executor: polls the future on this thread.
    let started = futures_lite_block_on(ParticipantState::redis(
        &redis.url(),
        StateOptions::new(),
        options(),
    ));
    let err = started.expect_err("no tokio runtime");
    assert_eq!(err.kind(), StateErrorKind::InvalidConfig);
    assert!(err.to_string().contains("tokio"), "{err}");
}

/// Polls `future` to completion on this thread, outside any tokio runtime.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
}
