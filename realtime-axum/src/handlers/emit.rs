//! `POST`: the optional typed emit route: `POST` `{ "channel"?: "...", "event": "...", "data": ... }`
//! with `Content-Type: application/json`, and optionally an `Idempotency-Key` header (1 to
//! 255 visible ASCII characters): a retry with the same key, event and data within the
//! window (5 minutes by default) answers the original id and stores nothing; the same key
//! with another event or data is refused with 422 (as the IETF draft on the header asks),
//! naming the original id, and stores nothing.
//!
//! `data` must pass the event's schema and decode into its Rust type; it is then stored and
//! delivered as the client wrote it (on one line, keys in the client's order), unless
//! decoding changed its meaning (a default filled in, an unknown field dropped, a number
//! rounded to an `f32`): then as the decoded event writes it
//! (`realtime_core::channel::Channel::emit_raw_json`).
//!
//! | outcome | status | body |
//! |---|---|---|
//! | stored (or the key was already used: the original id) | 200 | `{ "id": "<ms>-<seq>" }` |
//! | not JSON, or not the shape above, a bad channel name or idempotency key | 400 | `{ "error" }` |
//! | from an origin the endpoint's [`AllowOrigin`](crate::AllowOrigin) does not allow | 403 | `{ "error" }` |
//! | storage refuses for good (the channel's key holds other data) | 409 | `{ "error" }` |
//! | body larger than the limit | 413 | `{ "error" }` |
//! | not `Content-Type: application/json` | 415 | `{ "error" }` |
//! | unknown event, or data that breaks the schema | 422 | `{ "error", "event", "path" }` (+ `"rule"`) |
//! | an `Idempotency-Key` used within the window for another event or data | 422 | `{ "error" }` |
//! | storage unreachable: nothing stored | 503 + `Retry-After` | `{ "error" }` |
//! | sent to storage, no answer: it may have been stored | 504 | `{ "error" }` |
//!
//! Browsers must send a preflight (`OPTIONS`) before such a request from another origin,
//! which the route answers following `AllowOrigin`; a page on a site that is not allowed
//! cannot make a visitor's browser emit.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::{HeaderMap, StatusCode, header};
use realtime_core::Events;
use realtime_core::channel::ChannelName;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::endpoint::{RealtimeSse, origin_refused};
use crate::error::RequestError;
use crate::metrics::{self, Route};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitInput<'a> {
    channel: Option<String>,
    event: String,
    /// Kept as the client wrote it: stored in its key order once validated (see
    /// `Channel::emit_raw_json`). Missing and `null` are both `null`.
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
}

pub(crate) async fn emit_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    let cors = sse.cors_headers(request.headers());
    let mut response = match emit(&sse, request).await {
        Ok(response) => response,
        Err(response) => {
            metrics::refused(Route::Emit, response.status());
            response
        }
    };
    response.headers_mut().extend(cors);
    response
}

async fn emit<E: Events>(sse: &RealtimeSse<E>, request: Request) -> Result<Response, Response> {
    let shared = sse.shared();
    let Some(config) = &shared.emit else {
        return Err(StatusCode::METHOD_NOT_ALLOWED.into_response());
    };
    let (parts, body) = request.into_parts();
    if !sse.origin_allowed(&parts.headers) {
        tracing::warn!(origin = ?parts.headers.get(header::ORIGIN), "emit refused: origin not allowed");
        return Err(origin_refused().into_response());
    }
    if !is_json(&parts.headers) {
        return Err(RequestError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected `Content-Type: application/json`",
        )
        .into_response());
    }
    let key = idempotency_key(&parts.headers).map_err(IntoResponse::into_response)?;
    let bytes = read_limited(body, config.body_limit).await?;
    let input: EmitInput<'_> = serde_json::from_slice(&bytes).map_err(|error| {
        RequestError::bad_request(format!(
            "malformed body: {error}; expected JSON {{ \"channel\"?: string, \"event\": string, \"data\": any }}"
        ))
        .into_response()
    })?;
    let channel = match input.channel {
        Some(name) => ChannelName::new(name)
            .map_err(|error| RequestError::bad_request(error.to_string()).into_response())?,
        None => ChannelName::default_channel(),
    };
    // The emit route only allows or refuses: its hook names no presence.
    let _allowed = sse
        .authorize(config.authorize.as_deref(), parts, vec![channel.clone()])
        .await?;
    let channel = shared.realtime.channel(channel);
    let data = input.data.unwrap_or(RawValue::NULL);
    let emitted = match &key {
        Some(key) => {
            channel
                .emit_raw_json_with_key(&input.event, data, key)
                .await
        }
        None => channel.emit_raw_json(&input.event, data).await,
    };
    match emitted {
        Ok(id) => Ok(axum::Json(serde_json::json!({ "id": id.to_string() })).into_response()),
        Err(error) => Err(RequestError::from(&error).into_response()),
    }
}

/// Whether the body is declared as JSON (`application/json`, with parameters or not, or
/// another `+json` type). Requiring it makes a cross-origin request need a preflight.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim)
        .is_some_and(|media_type| {
            media_type.eq_ignore_ascii_case("application/json")
                || media_type.to_ascii_lowercase().ends_with("+json")
        })
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The `Idempotency-Key` header, if any (its rules are checked by the core).
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, RequestError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| {
        RequestError::bad_request(
            "invalid idempotency key: expected only visible ASCII characters (`!` to `~`)",
        )
    })?;
    Ok(Some(key.to_owned()))
}

/// Reads the body, refusing it with 413 once it passes `limit` bytes.
async fn read_limited(body: axum::body::Body, limit: usize) -> Result<Vec<u8>, Response> {
    let too_large = || {
        RequestError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body larger than {limit} bytes"),
        )
        .into_response()
    };
    let mut bytes = Vec::new();
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|error| {
            RequestError::bad_request(format!("unreadable body: {error}")).into_response()
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
