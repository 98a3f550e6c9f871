//! `OPTIONS`: CORS preflights.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{self, HeaderValue};
use realtime_core::Events;

use crate::endpoint::{RealtimeSse, origin_refused};

/// `OPTIONS`: a browser's preflight before a cross-origin request (a `POST` with a JSON
/// body, or headers beyond the simple ones). Allowed origins get the methods and headers
/// the endpoint takes; others get 403 without CORS headers, so the browser stops there.
pub(crate) async fn preflight_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    if !sse.origin_allowed(request.headers()) {
        return origin_refused().into_response();
    }
    let mut headers = sse.cors_headers(request.headers());
    let methods = if sse.shared().emit.is_some() {
        "GET, POST, OPTIONS"
    } else {
        "GET, OPTIONS"
    };
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Cache-Control, Content-Type, Idempotency-Key, Authorization"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    (StatusCode::NO_CONTENT, headers).into_response()
}
