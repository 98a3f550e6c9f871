//! The built frontend (`web/dist`): `index.html` and `assets/*`.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use http::{StatusCode, header};

use crate::Notifications;

pub(crate) async fn index(State(state): State<Notifications>) -> Response {
    let Some(dist) = &state.web_dist else {
        return Html(NOT_BUILT).into_response();
    };
    match tokio::fs::read(dist.join("index.html")).await {
        Ok(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(_) => Html(NOT_BUILT).into_response(),
    }
}

pub(crate) async fn asset(
    State(state): State<Notifications>,
    Path(file): Path<String>,
) -> Response {
    let safe = !file.is_empty()
        && file
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_.".contains(&byte))
        && !file.starts_with('.');
    let (Some(dist), true) = (&state.web_dist, safe) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = match file.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("map") | Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(dist.join("assets").join(&file)).await {
        Ok(body) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

const NOT_BUILT: &str = "<!doctype html><title>notifications</title><p>The frontend is not built. \
Run <code>npm ci &amp;&amp; node build.mjs</code> in <code>examples/notifications/web</code>, \
or start the server with <code>cargo run -p notifications</code>, which does it when npm is installed.</p>";
