//! `AuthLayer` and `RequireLayer` as layers of a real tonic server on 127.0.0.1, called by a real
//! tonic client: `tonic-health`'s generated `grpc.health.v1.Health` service (no `protoc`), with
//! the token in the `authorization` metadata. Refusals reach the client as gRPC statuses.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tonic::metadata::MetadataValue;
use tonic::service::LayerExt as _;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tower_livekit_auth::{AccessToken, AuthLayer, KeyRing, RequireLayer, Verifier, VideoGrant};

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";
const NOW: u64 = 1_700_000_000;
/// The bound on connecting, on each call, and on the server's shutdown.
const LIMIT: Duration = Duration::from_secs(10);

/// Where the `RequireLayer` sits.
#[derive(Clone, Copy, Debug)]
enum Require {
    /// `Server::builder().layer(...)`, in front of every service, like the `AuthLayer`.
    OnTheServer,
    /// Around the health service alone, with tonic's `LayerExt::named_layer` (which keeps the
    /// service's name for `add_service`).
    OnTheService,
}

/// A tonic server with the health service behind `AuthLayer` and `RequireLayer::create_rooms`,
/// and a client connected to it.
struct Grpc {
    client: HealthClient<Channel>,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Grpc {
    async fn start(require: Require) -> Grpc {
        let verifier = Verifier::new(KeyRing::new().with_key(KEY, SECRET).expect("key"))
            .with_clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
        let (_reporter, health) = tonic_health::server::health_reporter();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let incoming = TcpIncoming::from(listener);
        let (shutdown, stopped) = oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
        };
        let server = match require {
            Require::OnTheServer => tokio::spawn(
                Server::builder()
                    .layer(AuthLayer::new(verifier))
                    .layer(RequireLayer::create_rooms())
                    .add_service(health)
                    .serve_with_incoming_shutdown(incoming, stopped),
            ),
            Require::OnTheService => tokio::spawn(
                Server::builder()
                    .layer(AuthLayer::new(verifier))
                    .add_service(RequireLayer::create_rooms().named_layer(health))
                    .serve_with_incoming_shutdown(incoming, stopped),
            ),
        };
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect_timeout(LIMIT)
            .timeout(LIMIT);
        let channel = timeout(LIMIT, endpoint.connect())
            .await
            .expect("connects in time")
            .expect("connects");
        Grpc {
            client: HealthClient::new(channel),
            shutdown,
            server,
        }
    }

    /// `Health/Check` of the whole server, with `authorization` metadata if given.
    async fn check(&self, authorization: Option<&str>) -> Result<ServingStatus, tonic::Status> {
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        if let Some(value) = authorization {
            let value = MetadataValue::try_from(value).expect("ASCII metadata");
            request.metadata_mut().insert("authorization", value);
        }
        let mut client = self.client.clone();
        let response = timeout(LIMIT, client.check(request))
            .await
            .expect("answers in time")?;
        Ok(response.into_inner().status())
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        timeout(LIMIT, self.server)
            .await
            .expect("stops in time")
            .expect("server task")
            .expect("server ran without error");
    }
}

fn token(grant: VideoGrant, secret: &str) -> String {
    AccessToken::new(KEY, secret)
        .with_identity("alice")
        .with_video_grant(grant)
        .to_jwt_at(UNIX_EPOCH + Duration::from_secs(NOW))
        .expect("mints")
}

fn creator() -> VideoGrant {
    VideoGrant::new().with_room_create(true)
}

/// Asserts `result` is the status `code` with the message `expected`, free of `token`, and sent
/// as a gRPC status: tonic also maps a plain HTTP 401 or 403 to these codes, but then with a
/// message of its own and the `WWW-Authenticate` challenge in the metadata.
fn assert_refused(
    result: Result<ServingStatus, tonic::Status>,
    code: Code,
    expected: &str,
    token: &str,
) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.metadata().get("www-authenticate").is_none(),
        "a plain HTTP answer: {status:?}"
    );
    assert_eq!(status.message(), expected, "{status:?}");
    support::assert_no_leak("grpc-message", status.message(), token, &[SECRET]);
}

#[tokio::test]
async fn a_good_token_in_the_metadata_reaches_the_service() {
    for require in [Require::OnTheServer, Require::OnTheService] {
        let grpc = Grpc::start(require).await;
        let good = token(creator(), SECRET);
        let status = grpc.check(Some(&format!("Bearer {good}"))).await;
        assert_eq!(
            status.expect("served"),
            ServingStatus::Serving,
            "{require:?}"
        );
        grpc.stop().await;
    }
}

#[tokio::test]
async fn a_missing_or_bad_token_is_unauthenticated() {
    let grpc = Grpc::start(Require::OnTheServer).await;
    let missing = grpc.check(None).await;
    assert_refused(missing, Code::Unauthenticated, "missing bearer token", "");

    let forged = token(creator(), "anothersecretencodedinbase62extendto32b");
    let result = grpc.check(Some(&format!("Bearer {forged}"))).await;
    assert_refused(
        result,
        Code::Unauthenticated,
        "invalid token signature: it was not signed with this API key's secret",
        &forged,
    );

    let expired = AccessToken::new(KEY, SECRET)
        .with_identity("alice")
        .with_video_grant(creator())
        .with_ttl(Duration::from_secs(60))
        .to_jwt_at(UNIX_EPOCH + Duration::from_secs(NOW - 3_600))
        .expect("mints");
    let result = grpc.check(Some(&format!("Bearer {expired}"))).await;
    assert_refused(
        result,
        Code::Unauthenticated,
        "token has expired; fetch a new one",
        &expired,
    );

    // Not a bearer credential at all: malformed, still UNAUTHENTICATED for gRPC.
    let credentials = "YWxpY2U6c2VjcmV0";
    let result = grpc.check(Some(&format!("Basic {credentials}"))).await;
    assert_refused(
        result,
        Code::Unauthenticated,
        "malformed credentials: the Authorization scheme is not Bearer",
        credentials,
    );
    grpc.stop().await;
}

#[tokio::test]
async fn a_valid_token_without_the_grant_is_permission_denied() {
    for require in [Require::OnTheServer, Require::OnTheService] {
        let grpc = Grpc::start(require).await;
        let joiner = token(VideoGrant::join("myroom"), SECRET);
        let result = grpc.check(Some(&format!("Bearer {joiner}"))).await;
        assert_refused(
            result,
            Code::PermissionDenied,
            "the token does not grant what this route requires (roomCreate)",
            &joiner,
        );
        grpc.stop().await;
    }
}
