//! The JSON the page reads, and the emit it sends. Every handler runs the authorization
//! hook first (with the channel the request is about), then answers; failures are
//! [`RequestError`]s (`{ "error": "...", "path": ..., "rule": ... }`).

use std::ops::Bound;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use realtime_core::backend::ReadRange;
use realtime_core::channel::{ChannelName, IntoChannelName};
use realtime_core::inspect::{CheckedEntry, Inspect};
use realtime_core::{Cursor, Events, Realtime};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::InspectorLimits;
use super::catalog::EventInfo;
use super::health::HealthCache;
use super::tail;
use crate::auth::{AuthRequest, Authorize};
use crate::error::RequestError;

/// The shared state of one inspector router.
pub(super) struct State<E: Events> {
    pub(super) realtime: Realtime<E>,
    pub(super) inspect: Inspect<E>,
    pub(super) events: Vec<EventInfo>,
    pub(super) authorize: Option<Arc<dyn Authorize>>,
    pub(super) read_only: bool,
    pub(super) limits: InspectorLimits,
    pub(super) tails: Arc<Semaphore>,
    pub(super) health: HealthCache,
}

type Shared<E> = AxumState<Arc<State<E>>>;

/// Runs the hook, if any, for a request about `channels`.
async fn allowed<E: Events>(
    state: &State<E>,
    parts: Parts,
    channels: Vec<ChannelName>,
) -> Result<(), Response> {
    let Some(hook) = &state.authorize else {
        return Ok(());
    };
    hook.authorize(AuthRequest { parts, channels })
        .await
        .map(|_| ())
}

/// The channel a request is about, checked, once the hook allowed the request.
async fn allowed_channel<E: Events>(
    state: &State<E>,
    raw: &str,
    parts: Parts,
) -> Result<ChannelName, Response> {
    let channel = raw
        .into_channel_name()
        .map_err(|error| RequestError::bad_request(format!("{error}")).into_response())?;
    allowed(state, parts, vec![channel.clone()]).await?;
    Ok(channel)
}

fn failure(error: &realtime_core::Error) -> Response {
    RequestError::from(error).into_response()
}

pub(super) async fn info<E: Events>(AxumState(state): Shared<E>, parts: Parts) -> Response {
    if let Err(refused) = allowed(&state, parts, Vec::new()).await {
        return refused;
    }
    let limits = state.limits;
    Json(json!({
        "title": E::TYPE_NAME,
        "backend": state.inspect.backend_name(),
        "readOnly": state.read_only,
        "events": state.events,
        "limits": {
            "pageSize": limits.page_size,
            "maxTails": limits.max_tails,
            "tailEntriesPerSecond": limits.tail_entries_per_second,
        },
    }))
    .into_response()
}

pub(super) async fn health<E: Events>(AxumState(state): Shared<E>, parts: Parts) -> Response {
    if let Err(refused) = allowed(&state, parts, Vec::new()).await {
        return refused;
    }
    let (backend, failovers) = state.health.read(state.inspect.health()).await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    Json(json!({
        "atMs": u64::try_from(now_ms).unwrap_or(u64::MAX),
        "backend": backend,
        "failovers": failovers,
        "totals": realtime_core::metrics::totals(),
        "lagBucketsMs": realtime_core::metrics::LAG_BUCKETS_MS,
        "liveChannels": state.inspect.live_channels().len(),
    }))
    .into_response()
}

pub(super) async fn channels<E: Events>(AxumState(state): Shared<E>, parts: Parts) -> Response {
    if let Err(refused) = allowed(&state, parts, Vec::new()).await {
        return refused;
    }
    Json(json!({ "channels": state.inspect.live_channels() })).into_response()
}

#[derive(Deserialize)]
pub(super) struct HistoryQuery {
    /// Entries strictly before this id (the `older` of the previous page).
    before: Option<String>,
    limit: Option<usize>,
    /// Event names, comma-separated: only these.
    event: Option<String>,
}

pub(super) async fn history<E: Events>(
    AxumState(state): Shared<E>,
    Path(channel): Path<String>,
    Query(query): Query<HistoryQuery>,
    parts: Parts,
) -> Response {
    let channel = match allowed_channel(&state, &channel, parts).await {
        Ok(channel) => channel,
        Err(refused) => return refused,
    };
    let limit = query.limit.unwrap_or(50).clamp(1, state.limits.page_size);
    let mut before = match query
        .before
        .as_deref()
        .map(str::parse::<Cursor>)
        .transpose()
    {
        Ok(before) => before,
        Err(error) => {
            return RequestError::bad_request(format!("`before` is not an entry id: {error}"))
                .into_response();
        }
    };
    let kinds: Option<Vec<&str>> = query
        .event
        .as_deref()
        .filter(|names| !names.is_empty())
        .map(|names| names.split(',').collect());
    // Newest first; with a filter, read pages until this one is full or the scan bound
    // is reached, and say where the next page starts.
    let mut entries: Vec<CheckedEntry> = Vec::new();
    let mut older = None;
    for _ in 0..state.limits.filter_scan_pages.max(1) {
        let range = ReadRange {
            start: Bound::Unbounded,
            end: before.map_or(Bound::Unbounded, Bound::Excluded),
            limit,
            newest_first: true,
        };
        let page = match state.inspect.read(channel.as_str(), range).await {
            Ok(page) => page,
            Err(error) => return failure(&error),
        };
        let full = page.len() == limit;
        before = page.first().and_then(|entry| entry.id.parse().ok());
        older = if full {
            before.map(|id| id.to_string())
        } else {
            None
        };
        let wanted = |entry: &CheckedEntry| {
            kinds
                .as_ref()
                .is_none_or(|kinds| kinds.contains(&entry.event.as_str()))
        };
        entries.extend(page.into_iter().rev().filter(wanted));
        if entries.len() >= limit || !full {
            break;
        }
    }
    if entries.len() > limit {
        // The page ends at its `limit`-th entry; the next starts right after it.
        entries.truncate(limit);
        older = entries.last().map(|entry| entry.id.clone());
    }
    Json(json!({ "entries": entries, "older": older })).into_response()
}

pub(super) async fn presence<E: Events>(
    AxumState(state): Shared<E>,
    Path(channel): Path<String>,
    parts: Parts,
) -> Response {
    let channel = match allowed_channel(&state, &channel, parts).await {
        Ok(channel) => channel,
        Err(refused) => return refused,
    };
    match state
        .realtime
        .channel(channel.as_str())
        .presence()
        .members()
        .await
    {
        Ok(members) => match serde_json::to_value(&members) {
            Ok(members) => Json(json!({ "members": members })).into_response(),
            Err(error) => RequestError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
                .into_response(),
        },
        Err(error) => failure(&error),
    }
}

pub(super) async fn tail<E: Events>(
    AxumState(state): Shared<E>,
    Path(channel): Path<String>,
    parts: Parts,
) -> Response {
    let channel = match allowed_channel(&state, &channel, parts).await {
        Ok(channel) => channel,
        Err(refused) => return refused,
    };
    let Ok(permit) = Arc::clone(&state.tails).try_acquire_owned() else {
        let message = format!(
            "{} live tails are open in this process, the most it serves; close one",
            state.limits.max_tails
        );
        return RequestError::unavailable(message).into_response();
    };
    match state.inspect.tail(channel.as_str()).await {
        Ok(items) => {
            tail::respond(items, state.limits.tail_entries_per_second, permit).into_response()
        }
        Err(error) => failure(&error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitBody {
    event: String,
    data: Value,
    /// The idempotency key: a retry with it stores the event once.
    key: Option<String>,
}

pub(super) async fn emit<E: Events>(
    AxumState(state): Shared<E>,
    Path(channel): Path<String>,
    parts: Parts,
    body: Bytes,
) -> Response {
    let channel = match allowed_channel(&state, &channel, parts).await {
        Ok(channel) => channel,
        Err(refused) => return refused,
    };
    if state.read_only {
        return RequestError::new(StatusCode::FORBIDDEN, "this inspector is read-only")
            .into_response();
    }
    if body.len() > state.limits.max_emit_body {
        let message = format!(
            "the body is {} bytes; the most is {}",
            body.len(),
            state.limits.max_emit_body
        );
        return RequestError::new(StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
    }
    let body: EmitBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(error) => {
            let message =
                format!("expected {{\"event\": name, \"data\": JSON, \"key\"?: text}}: {error}");
            return RequestError::bad_request(message).into_response();
        }
    };
    let channel = state.realtime.channel(channel.as_str());
    let stored = match &body.key {
        Some(key) => {
            channel
                .emit_json_with_key(&body.event, body.data, key)
                .await
        }
        None => channel.emit_json(&body.event, body.data).await,
    };
    match stored {
        Ok(id) => Json(json!({ "id": id.to_string() })).into_response(),
        Err(error) => failure(&error),
    }
}
