//! The webhook layer in front of a plain hyper server, whose request body is hyper's own
//! `Incoming`: the layer hands the handler a `FullBody` instead of rebuilding `Incoming`.

use std::convert::Infallible;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::{service_fn, Layer};
use tower_livekit_auth::body::FullBody;
use tower_livekit_auth::webhook::{body_sha256, WebhookEvent, WebhookLayer};
use tower_livekit_auth::{AccessToken, KeyRing, Verifier};

const KEY: &str = "APIabcdefg";
const SECRET: &str = "somesecretencodedinbase62extendto32bytes";

async fn handler(request: Request<FullBody>) -> Result<Response<String>, Infallible> {
    let name = request
        .extensions()
        .get::<WebhookEvent>()
        .map(|e| e.name().to_owned())
        .unwrap_or_default();
    Ok(Response::new(format!(
        "{name} {}",
        request.body().as_bytes().len()
    )))
}

#[tokio::test]
async fn the_webhook_layer_serves_hyper_incoming_bodies() {
    let keys = KeyRing::new().with_key(KEY, SECRET).expect("key");
    let layer = WebhookLayer::new(Verifier::new(keys));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        // Bounded: the test makes two requests on at most two connections.
        for _ in 0..2 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            // hyper calls it with `Request<hyper::body::Incoming>`.
            let service = TowerToHyperService::new(layer.layer(service_fn(handler)));
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let body = r#"{"event":"room_started"}"#;
    let token = AccessToken::new(KEY, SECRET)
        .with_sha256(body_sha256(body.as_bytes()))
        .to_jwt()
        .expect("mints");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let url = format!("http://{addr}/webhook");
    let response = client
        .post(&url)
        .header("authorization", &token)
        .header("content-type", "application/webhook+json")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.text().await.expect("body"),
        format!("room_started {}", body.len())
    );
    let refused = client.post(&url).body(body).send().await.expect("request");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}
