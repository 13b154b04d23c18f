//! The participant state through a real `redis-server` on 127.0.0.1: replicas share one
//! state, and each fault (Redis unreachable, a dropped subscription, a stale snapshot with
//! fail-closed, Redis restarted empty) behaves as documented. Feature `redis`.

#![cfg(feature = "redis")]
// Clippy's layout queries over this many awaits of the state's futures (redis-rs's cluster
// and sentinel clients inside) go past rustc's default depth of 128; each test alone does not.
#![recursion_limit = "256"]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use support::redis::{eventually, RedisServer};
use tower_livekit_auth::limits::Limits;
use tower_livekit_auth::state::{
    ParticipantPermission, ParticipantState, ParticipantUpdate, RedisOptions, RedisTopology,
    StateErrorKind, StateOptions,
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
    // A write whose announcement is lost, on connections that stay up: y gets x's hash and
    // the deployment's counter moves, as in a write, but nothing is published.
    let (from, to) = (participant_key("r", "x"), participant_key("r", "y"));
    assert!(redis.command(&["COPY", &from, &to]).starts_with(":1"));
    let far = (u64::MAX >> 12).to_string();
    assert!(redis
        .command(&["ZADD", &state_key("all"), &far, "1:r:y"])
        .starts_with(":1"));
    assert!(redis.command(&["INCR", &state_key("g")]).starts_with(':'));
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
    let wrong = format!("rediss://:n0t-the-pa55@127.0.0.1:{}", redis.port());
    let refused = ParticipantState::redis(
        &wrong,
        StateOptions::new(),
        options().with_connect_timeout(Duration::from_millis(500)),
    )
    .await
    .expect_err("wrong password");
    assert_eq!(refused.kind(), StateErrorKind::InvalidConfig, "{refused}");
    assert!(refused.to_string().contains("password"), "{refused}");
    assert!(!refused.to_string().contains("n0t-the-pa55"), "{refused}");
    assert!(
        !format!("{refused:?}").contains("n0t-the-pa55"),
        "{refused:?}"
    );
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

/// A key of the state's deployment (the default prefix): `all` (the zset of every
/// participant), `g` (the announcements' counter).
fn state_key(name: &str) -> String {
    format!("{{tower-livekit-auth}}:{name}")
}

fn participant_key(room: &str, identity: &str) -> String {
    state_key(&format!("p:{}:{room}:{identity}", room.len()))
}

fn viewer() -> ParticipantUpdate {
    ParticipantUpdate::new().with_permission(ParticipantPermission::new().with_can_subscribe(true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demotion_holds_on_every_replica_after_a_thousand_later_updates() {
    // Records trimmed to the last 1,024 once brought the camera back.
    let redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let b = Replica::join(&redis.url(), options()).await;
    let alice = token("alice");
    a.state
        .update(
            "r",
            "alice",
            camera().with_name("old").with_attribute("gone", "x"),
        )
        .await
        .expect("promoted");
    a.state
        .update(
            "r",
            "alice",
            viewer().with_name("new").with_attribute("gone", ""),
        )
        .await
        .expect("demoted");
    for i in 0..1_100 {
        let (writer, speaking) = if i % 2 == 0 { (&a, "yes") } else { (&b, "no") };
        writer
            .state
            .update(
                "r",
                "alice",
                ParticipantUpdate::new().with_attribute("speaking", speaking),
            )
            .await
            .expect("attribute");
    }
    let c = Replica::join(&redis.url(), options()).await;
    for replica in [&a, &b, &c] {
        assert!(
            eventually(WITHIN, || replica
                .verify(&alice)
                .is_ok_and(
                    |claims| claims.attributes().get("speaking") == Some("no")
                ))
            .await
        );
        let claims = replica.verify(&alice).expect("verifies");
        assert!(!claims.can_publish(), "the demotion holds");
        assert_eq!(claims.name(), "new");
        assert_eq!(claims.attributes().get("gone"), None, "the deletion holds");
    }
    let fields = redis.command(&["HLEN", &participant_key("r", "alice")]);
    // v, w, n, p, a:speaking, a:gone: one field each, not a list of updates.
    assert_eq!(fields, ":6\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_sent_but_not_answered_says_its_outcome_is_unknown() {
    let redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let b = Replica::join(&redis.url(), options()).await;
    // Writes (the script) wait while reads go on: the write is sent, and not answered in time.
    assert!(redis
        .command(&["CLIENT", "PAUSE", "1500", "WRITE"])
        .starts_with("+OK"));
    let err = a
        .state
        .remove("r", "hank", None)
        .await
        .expect_err("not answered within the write timeout");
    assert_eq!(err.kind(), StateErrorKind::OutcomeUnknown);
    assert!(!err.nothing_written());
    assert!(err.to_string().contains("may or may not"), "{err}");
    // Whichever it was, every replica ends up where Redis is. (A write sent on a connection
    // the writer then dropped is run or discarded by Redis: both are "unknown".) This SET
    // waits for the pause to end.
    assert!(redis.command(&["SET", "probe", "1"]).starts_with("+OK"));
    let made = redis
        .command(&["EXISTS", &participant_key("r", "hank")])
        .starts_with(":1");
    if made {
        revoked_within(&b, &token("hank")).await;
        revoked_within(&a, &token("hank")).await;
    } else {
        a.state.remove("r", "marker", None).await.expect("written");
        revoked_within(&b, &token("marker")).await;
        assert!(b.verify(&token("hank")).is_ok() && a.verify(&token("hank")).is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reported_as_not_made_is_never_made() {
    // Once: "nothing was written, try again", and after SIGCONT every replica applied it.
    let redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let b = Replica::join(&redis.url(), options()).await;
    redis.pause();
    let update = a.state.update("r", "ivy", camera()).await;
    let remove = a.state.remove("r", "jack", None).await;
    redis.resume();
    // A stopped Redis answers not even the read: nothing was sent, so both say so.
    let mut failed = Vec::new();
    for (identity, result) in [("ivy", update), ("jack", remove.map(|_| ()))] {
        let err = result.expect_err("Redis was stopped");
        assert_eq!(err.kind(), StateErrorKind::Unavailable, "{identity}: {err}");
        assert!(err.nothing_written(), "{identity}: {err}");
        failed.push(identity);
    }
    // The reads sent while Redis was stopped are answered before this write on the same
    // connection, and a write reported as not made sent nothing else.
    a.state
        .remove("r", "marker", None)
        .await
        .expect("Redis is back");
    revoked_within(&b, &token("marker")).await;
    for identity in failed {
        let exists = redis.command(&["EXISTS", &participant_key("r", identity)]);
        assert!(exists.starts_with(":0"), "{identity} was written after all");
        assert!(b.state.get("r", identity).is_none());
        assert!(a.state.get("r", identity).is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_user_lacking_a_needed_command_is_refused_at_start_naming_it() {
    let redis = RedisServer::start();
    for (user, rules, named) in [
        (
            "nopublish",
            vec!["~*", "&*", "+@all", "-publish"],
            "publish",
        ),
        ("noeval", vec!["~*", "&*", "+@all", "-eval"], "eval"),
        (
            "otherkeys",
            vec!["~other:*", "&*", "+@all"],
            "{tower-livekit-auth}:*",
        ),
    ] {
        let mut args = vec!["ACL", "SETUSER", user, "on", ">pw"];
        args.extend(rules);
        assert!(redis.command(&args).starts_with("+OK"));
        let url = format!("redis://{user}:pw@127.0.0.1:{}", redis.port());
        let err = ParticipantState::redis(&url, StateOptions::new(), options())
            .await
            .expect_err("refused at start");
        assert_eq!(err.kind(), StateErrorKind::InvalidConfig, "{user}: {err}");
        assert!(err.to_string().contains(named), "{user}: {err}");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
    // WAIT is needed only where writes wait for a replica (Sentinel and Cluster by default).
    assert!(redis
        .command(&["ACL", "SETUSER", "nowait", "on", ">pw", "~*", "&*", "+@all", "-wait"])
        .starts_with("+OK"));
    let url = format!("redis://nowait:pw@127.0.0.1:{}", redis.port());
    ParticipantState::redis(&url, StateOptions::new(), options())
        .await
        .expect("no replica to wait for: WAIT is not needed");
    let err = ParticipantState::redis(&url, StateOptions::new(), options().with_replica_acks(1))
        .await
        .expect_err("refused at start");
    assert_eq!(err.kind(), StateErrorKind::InvalidConfig, "{err}");
    assert!(err.to_string().contains("wait"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_acl_refuses_halfway_is_made_whole_or_not_at_all() {
    // A user allowed EVAL but not PUBLISH once had every write fail, and the other replicas
    // applied it at their next rescan.
    let redis = RedisServer::start();
    assert!(redis
        .command(&["ACL", "SETUSER", "app", "on", ">pw", "~*", "&*", "+@all"])
        .starts_with("+OK"));
    let url = format!("redis://app:pw@127.0.0.1:{}", redis.port());
    let a = Replica::join(&url, options()).await;
    let b = Replica::join(&redis.url(), options()).await;
    // The operator takes PUBLISH away while the replicas run.
    assert!(redis
        .command(&["ACL", "SETUSER", "app", "-publish"])
        .starts_with("+OK"));
    let err = a
        .state
        .remove("r", "kate", None)
        .await
        .expect_err("PUBLISH refused");
    assert_eq!(err.kind(), StateErrorKind::Unavailable);
    assert!(err.nothing_written());
    assert!(err.to_string().contains("publish"), "{err}");
    let exists = redis.command(&["EXISTS", &participant_key("r", "kate")]);
    assert!(exists.starts_with(":0"), "nothing written: {exists}");
    // A rescan of every replica finds nothing either.
    assert!(redis
        .command(&["CLIENT", "KILL", "TYPE", "pubsub"])
        .starts_with(':'));
    b.state.remove("r", "marker", None).await.expect("written");
    revoked_within(&a, &token("marker")).await;
    assert!(a.verify(&token("kate")).is_ok() && b.verify(&token("kate")).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bounds_hold_across_replicas_and_one_room_cannot_fill_the_store() {
    let redis = RedisServer::start();
    let bounds = || {
        StateOptions::new()
            .with_max_entries(8)
            .with_max_entries_per_room(3)
    };
    let a = Replica::join_with(&redis.url(), options(), bounds()).await;
    let b = Replica::join_with(&redis.url(), options(), bounds()).await;
    for (i, replica) in [&a, &b, &a].into_iter().enumerate() {
        replica
            .state
            .remove("mine", &format!("made-up-{i}"), None)
            .await
            .expect("within the room's bound");
    }
    // b's own writes are two of the three, but Redis counts the room's entries, not b.
    let err = b
        .state
        .remove("mine", "one-more", None)
        .await
        .expect_err("the room is full");
    assert_eq!(err.kind(), StateErrorKind::RoomFull);
    assert!(err.nothing_written());
    for room in ["yours", "theirs"] {
        for identity in ["p1", "p2"] {
            a.state
                .remove(room, identity, None)
                .await
                .expect("other rooms are fine");
        }
    }
    // 3 + 4 = 7 entries: one more fits, then the store is full for everyone.
    b.state
        .remove("fourth", "p", None)
        .await
        .expect("the eighth");
    let err = a.state.remove("fifth", "p", None).await.expect_err("full");
    assert_eq!(err.kind(), StateErrorKind::Full);
    // A write to a participant already there always goes through.
    a.state
        .update("mine", "made-up-0", camera())
        .await
        .expect("existing");
    // Past the size limits: refused by the writer, nothing in Redis.
    let tight = Replica::join_with(
        &redis.url(),
        options(),
        bounds().with_limits(Limits::new().with_max_metadata_size(4)),
    )
    .await;
    let err = tight
        .state
        .update(
            "mine",
            "made-up-1",
            ParticipantUpdate::new().with_metadata("12345"),
        )
        .await
        .expect_err("too large");
    assert_eq!(err.kind(), StateErrorKind::TooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_entries_leave_every_replicas_snapshot_and_count() {
    // A replica once kept every entry it had seen: past max_entries it refused every new
    // participant, and its memory kept growing.
    let redis = RedisServer::start();
    let offset = Arc::new(AtomicU64::new(0));
    let url = redis.url();
    let replica = |offset: Arc<AtomicU64>| {
        let now = move || SystemTime::now() + Duration::from_secs(offset.load(Ordering::SeqCst));
        Replica::join_with(
            &url,
            options(),
            StateOptions::new()
                .with_clock(now)
                .with_retention(Duration::from_secs(60))
                .with_max_entries(3),
        )
    };
    let a = replica(offset.clone()).await;
    let b = replica(offset.clone()).await;
    for i in 0..3 {
        a.state
            .remove("r", &format!("p{i}"), None)
            .await
            .expect("room");
    }
    assert!(eventually(WITHIN, || b.state.len() == 3).await);
    assert_eq!(
        b.state.remove("r", "p3", None).await.map_err(|e| e.kind()),
        Err(StateErrorKind::Full)
    );
    // Two minutes later (retention 60 s after the cutoffs, now + 60 s): gone everywhere.
    offset.store(121, Ordering::SeqCst);
    for replica in [&a, &b] {
        assert!(eventually(WITHIN, || replica.state.is_empty()).await);
        assert_eq!(replica.state.room_len("r"), 0);
    }
    b.state.remove("r", "p3", None).await.expect("room again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cutoff_in_the_future_keeps_its_entry_in_redis_until_after_it() {
    let redis = RedisServer::start();
    let a = Replica::join(&redis.url(), options()).await;
    let week = 7 * 24 * 3600;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    a.state
        .remove("r", "lee", Some(now + week))
        .await
        .expect("removed");
    let ttl = redis.command(&["PTTL", &participant_key("r", "lee")]);
    let ttl_ms: u64 = ttl
        .trim()
        .trim_start_matches(':')
        .parse()
        .expect("a number");
    // A week to the cutoff, then the 24 h retention (and not "forever").
    assert!(ttl_ms > (week + 23 * 3600) * 1000, "{ttl_ms}");
    assert!(ttl_ms <= (week + 24 * 3600) * 1000 + 5_000, "{ttl_ms}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applications_own_connection_reaches_the_redis_of_the_topology() {
    let redis = RedisServer::start();
    let topology = RedisTopology::url(&redis.url()).expect("a URL");
    let mut connection = topology
        .connect(Duration::from_secs(2))
        .await
        .expect("connects");
    let () = ::redis::cmd("SET")
        .arg("{app}:greeting")
        .arg("hello")
        .query_async(&mut connection)
        .await
        .expect("SET");
    // The server itself has it, as a RESP bulk string.
    assert_eq!(redis.command(&["GET", "{app}:greeting"]), "$5\r\nhello\r\n");

    // Nobody listening: unavailable, with redis-rs's error as the cause, never a panic.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let nobody = RedisTopology::url(&format!("redis://127.0.0.1:{dead}")).expect("a URL");
    let err = nobody
        .connect(Duration::from_secs(1))
        .await
        .expect_err("nothing listens there");
    assert_eq!(err.kind(), StateErrorKind::Unavailable);
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

#[test]
fn an_applications_own_connection_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let redis = RedisServer::start();
    let topology = RedisTopology::url(&redis.url()).expect("a URL");
    let err = futures_lite_block_on(topology.connect(Duration::from_secs(1)))
        .expect_err("no tokio runtime");
    assert_eq!(err.kind(), StateErrorKind::InvalidConfig);
    assert!(err.to_string().contains("tokio"), "{err}");
}
