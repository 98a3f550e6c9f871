//! The page: one HTML document with its script and styles inline (built from
//! `client/packages/inspector` by `node client/scripts/build-inspector.mjs`, committed, and
//! embedded here), so it loads from wherever the router is mounted, with no CDN.

use axum::response::{Html, IntoResponse, Response};
use http::header;

/// The built page.
const PAGE: &str = include_str!("assets/inspector.html");

pub(super) async fn index() -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(PAGE),
    )
        .into_response()
}
