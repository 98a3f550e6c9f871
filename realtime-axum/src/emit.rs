//! The optional typed emit route: `POST` `{ "channel"?: "...", "event": "...", "data": ... }`.
//!
//! | outcome | status | body |
//! |---|---|---|
//! | stored | 200 | `{ "id": "<ms>-<seq>" }` |
//! | not JSON, or not the shape above, or a bad channel name | 400 | `{ "error" }` |
//! | unknown event, or data that breaks the schema | 422 | `{ "error", "event", "path" }` (+ `"rule"`) |
//! | body larger than the limit | 413 | `{ "error" }` |
//! | storage unreachable | 503 | `{ "error" }` |

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::StatusCode;
use realtime_core::channel::check_channel_name;
use realtime_core::{DEFAULT_CHANNEL, DecodeError, Error, Events};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Authorize;
use crate::endpoint::RealtimeSse;
use crate::error::RequestError;

/// The default body limit of the emit route.
pub const DEFAULT_EMIT_BODY_LIMIT: usize = 64 * 1024;

/// Settings of the emit route; enable it with
/// [`RealtimeSseBuilder::emit_route`](crate::RealtimeSseBuilder::emit_route).
pub struct EmitConfig {
    body_limit: usize,
    authorize: Option<Box<dyn Authorize>>,
}

impl std::fmt::Debug for EmitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmitConfig")
            .field("body_limit", &self.body_limit)
            .field("authorize", &self.authorize.is_some())
            .finish()
    }
}

impl Default for EmitConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_EMIT_BODY_LIMIT,
            authorize: None,
        }
    }
}

impl EmitConfig {
    /// The route with a 64 KiB body limit and no authorization: anyone who can reach it
    /// can emit valid events, so give it a hook unless the network is trusted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses bodies larger than `bytes` with 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Checks each emit (the hook sees the one channel written to) before anything else.
    pub fn authorize(mut self, hook: impl Authorize) -> Self {
        self.authorize = Some(Box::new(hook));
        self
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitInput {
    channel: Option<String>,
    event: String,
    #[serde(default)]
    data: Value,
}

pub(crate) async fn emit_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    let cors = sse.cors_headers(request.headers());
    let mut response = match emit(&sse, request).await {
        Ok(response) | Err(response) => response,
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
    let bytes = read_limited(body, config.body_limit).await?;
    let input: EmitInput = serde_json::from_slice(&bytes).map_err(|error| {
        RequestError::bad_request(format!(
            "malformed body: {error}; expected JSON {{ \"channel\"?: string, \"event\": string, \"data\": any }}"
        ))
        .into_response()
    })?;
    let channel = input.channel.unwrap_or_else(|| DEFAULT_CHANNEL.to_owned());
    check_channel_name(&channel)
        .map_err(|error| RequestError::bad_request(error.to_string()).into_response())?;
    sse.authorize(config.authorize.as_deref(), parts, vec![channel.clone()])
        .await?;
    match shared
        .realtime
        .channel(channel)
        .emit_json(&input.event, input.data)
        .await
    {
        Ok(id) => Ok(axum::Json(serde_json::json!({ "id": id.to_string() })).into_response()),
        Err(error) => Err(refusal(&input.event, &error).into_response()),
    }
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

fn refusal(event: &str, error: &Error) -> RequestError {
    let unprocessable = |path: &str| {
        RequestError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
            .with("event", event)
            .with("path", path)
    };
    match error {
        Error::UnknownEvent(_) => unprocessable(""),
        Error::Invalid(violation) => {
            unprocessable(&violation.path).with("rule", violation.rule.clone())
        }
        Error::Decode(DecodeError::InvalidData { path, .. }) => unprocessable(path),
        Error::Decode(DecodeError::UnknownEvent(_)) => unprocessable(""),
        Error::InvalidChannel(_) => RequestError::bad_request(error.to_string()),
        Error::Backend(_) => RequestError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("storage unavailable: {error}"),
        ),
        _ => {
            tracing::error!(%error, event, "emit failed");
            RequestError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
        }
    }
}
