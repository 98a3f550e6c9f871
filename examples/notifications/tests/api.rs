//! The notifications routes over a real socket: the login cookie, the own channel streaming
//! an alert sent through the notify route, another user's channel (403), no cookie (401),
//! an invalid notification (422).

use example_support::testing::{EventStream, TestClient};
use notifications::NotificationEvent;
use realtime_core::Realtime;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn start() -> TestClient {
    TestClient::start(notifications::app(Realtime::<NotificationEvent>::memory(), None).router)
        .await
}

/// Logs in as `id` and returns the cookie the server set.
async fn login(server: &TestClient, id: &str) -> String {
    let cookie = server.sign_in("/api/login", json!({ "id": id })).await;
    assert_eq!(cookie, format!("user={id}"));
    cookie
}

async fn stream(server: &TestClient, cookie: Option<&str>, channel: &str) -> EventStream {
    server.stream(cookie, &format!("channel={channel}")).await
}

async fn notify(server: &TestClient, user: &str, body: Value) -> (StatusCode, Value) {
    server
        .post(None, &format!("/api/notify/{user}"), body)
        .await
}

#[tokio::test]
async fn own_channel_streams_a_notification_sent_through_the_route() {
    let server = start().await;
    let cookie = login(&server, "alice").await;
    let mut alerts = stream(&server, Some(&cookie), "user-alice").await;
    assert_eq!(alerts.status(), StatusCode::OK);
    alerts.wait_for("connected", 1).await;
    let (status, reply) = notify(
        &server,
        "alice",
        json!({ "title": "Deploy", "body": "done", "level": "warning" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    alerts.wait_for("Deploy", 1).await;
    let seen = alerts.seen();
    assert!(seen.contains("notification.alert"), "{seen}");
    assert!(seen.contains("\"level\":\"warning\""), "{seen}");
}

#[tokio::test]
async fn another_users_channel_is_forbidden() {
    let server = start().await;
    let cookie = login(&server, "alice").await;
    let response = stream(&server, Some(&cookie), "user-bob").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = response.error_body().await;
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("user-bob"), "{body}");
}

#[tokio::test]
async fn no_cookie_is_unauthorized() {
    let server = start().await;
    let response = stream(&server, None, "user-alice").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = response.error_body().await;
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
        let (status, reply) = notify(&server, "alice", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {reply}"
        );
        assert!(reply["error"].is_string(), "{reply}");
    }
}
