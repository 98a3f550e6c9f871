//! What the examples' API tests share (feature `testing`): a [`TestClient`] on the app
//! served over a real socket, with cookie sign-in and JSON calls; an [`EventStream`]
//! reader of the SSE endpoint; a [`Scrape`] of `GET /metrics`; and the freshness checks of the committed schema and the
//! generated TypeScript ([`schema_freshness_tests!`](crate::schema_freshness_tests)).

// Test helpers fail the test loudly.
#![allow(clippy::expect_used, clippy::panic)]

mod schema;
mod scrape;
mod stream;

use std::time::Duration;

use axum::Router;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub use schema::{assert_schema_fresh, assert_typescript_fresh, assert_typescript_fresh_with};
pub use scrape::Scrape;
pub use stream::EventStream;

/// How long a test waits for a frame or a state before failing instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// An HTTP client on an app served on a free port of 127.0.0.1.
#[derive(Clone, Debug)]
pub struct TestClient {
    base: String,
    http: reqwest::Client,
}

impl TestClient {
    /// Serves `router` in the background (as [`serve_in_background`](crate::server::serve_in_background))
    /// and returns a client on it.
    pub async fn start(router: Router) -> Self {
        Self {
            base: crate::server::serve_in_background(router).await,
            http: reqwest::Client::new(),
        }
    }

    /// A client on a server already running at `base` (`http://host:port`, with or
    /// without a trailing `/`), e.g. an [`ExampleServer`](crate::browser_test::ExampleServer).
    pub fn connect(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The underlying client, for requests the helpers do not cover.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Signs in by POSTing `body` to `path`: asserts a 200 with a `Set-Cookie` for the
    /// whole site (`Path=/`) and returns the cookie as a `cookie` header value
    /// (`name=value`).
    pub async fn sign_in(&self, path: &str, body: Value) -> String {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"));
        assert_eq!(response.status(), StatusCode::OK, "POST {path} {body}");
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("POST {path} set no cookie"))
            .to_owned();
        assert!(set_cookie.contains("Path=/"), "{set_cookie}");
        set_cookie.split(';').next().unwrap_or_default().to_owned()
    }

    /// Sends `method path` with the cookie and a JSON body, if given: the status and the
    /// JSON reply (`null` when the reply is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method.clone(), self.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `GET path`, as [`call`](Self::call).
    pub async fn get(&self, cookie: Option<&str>, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, cookie, None).await
    }

    /// `POST path` with a JSON body, as [`call`](Self::call).
    pub async fn post(&self, cookie: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, cookie, Some(body)).await
    }

    /// Reads `GET /metrics` ([`crate::metrics`]).
    pub async fn metrics(&self) -> Scrape {
        let response = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET /metrics: {error}"));
        assert_eq!(response.status(), StatusCode::OK, "GET /metrics");
        let text = response
            .text()
            .await
            .unwrap_or_else(|error| panic!("GET /metrics body: {error}"));
        Scrape::parse(&text)
    }

    /// Opens the event stream `/api/realtime?{query}` with the cookie, if given.
    pub async fn stream(&self, cookie: Option<&str>, query: &str) -> EventStream {
        let mut request = self
            .http
            .get(self.url(&format!("/api/realtime?{query}")))
            .header("accept", "text/event-stream");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET /api/realtime?{query}: {error}"));
        EventStream::new(response)
    }
}
