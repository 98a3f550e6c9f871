//! The notifications routes over a real socket: the login cookie, the own channel streaming
//! an alert sent through the notify route, another user's channel (403), no cookie (401),
//! an invalid notification (422).

use std::time::Duration;

use futures::StreamExt;
use notifications::NotificationEvent;
use realtime_core::Realtime;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct Server {
    base: String,
    client: Client,
}

async fn start() -> Server {
    let app = notifications::app(Realtime::<NotificationEvent>::memory(), None);
    Server {
        base: example_support::server::serve_in_background(app.router).await,
        client: Client::new(),
    }
}

impl Server {
    async fn login(&self, id: &str) -> String {
        let response = self
            .client
            .post(format!("{}/api/login", self.base))
            .json(&json!({ "id": id }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /api/login: {error}"));
        assert_eq!(response.status(), StatusCode::OK);
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("no Set-Cookie"))
            .to_owned();
        assert!(
            set_cookie.starts_with(&format!("user={id};")),
            "{set_cookie}"
        );
        set_cookie.split(';').next().unwrap_or_default().to_owned()
    }

    async fn stream(&self, cookie: Option<&str>, channel: &str) -> reqwest::Response {
        let mut request = self
            .client
            .get(format!("{}/api/realtime?channel={channel}", self.base));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET /api/realtime: {error}"))
    }

    async fn notify(&self, user: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/notify/{user}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /api/notify: {error}"));
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn text(chunk: Option<reqwest::Result<impl AsRef<[u8]>>>) -> String {
    match chunk {
        Some(Ok(bytes)) => String::from_utf8_lossy(bytes.as_ref()).into_owned(),
        Some(Err(error)) => panic!("the stream failed: {error}"),
        None => panic!("the stream ended"),
    }
}

#[tokio::test]
async fn own_channel_streams_a_notification_sent_through_the_route() {
    let server = start().await;
    let cookie = server.login("alice").await;
    let response = server.stream(Some(&cookie), "user-alice").await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("connected") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .unwrap_or_else(|_| panic!("no connected frame: {seen}"));
        seen.push_str(&text(chunk));
    }
    let (status, reply) = server
        .notify(
            "alice",
            json!({ "title": "Deploy", "body": "done", "level": "warning" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    while !seen.contains("Deploy") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .unwrap_or_else(|_| panic!("no notification: {seen}"));
        seen.push_str(&text(chunk));
    }
    assert!(seen.contains("notification.alert"), "{seen}");
    assert!(seen.contains("\"level\":\"warning\""), "{seen}");
}

#[tokio::test]
async fn another_users_channel_is_forbidden() {
    let server = start().await;
    let cookie = server.login("alice").await;
    let response = server.stream(Some(&cookie), "user-bob").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("user-bob"), "{body}");
}

#[tokio::test]
async fn no_cookie_is_unauthorized() {
    let server = start().await;
    let response = server.stream(None, "user-alice").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test]
async fn an_invalid_notification_is_refused() {
    let server = start().await;
    for body in [
        json!({ "title": "x", "body": "y", "level": "loud" }),
        json!({ "title": "", "body": "y", "level": "info" }),
        json!({ "body": "y", "level": "info" }),
    ] {
        let (status, reply) = server.notify("alice", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {reply}"
        );
        assert!(reply["error"].is_string(), "{reply}");
    }
}
