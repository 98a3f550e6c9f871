//! `GET`: the event stream of one browser connection: the query is parsed, the
//! authorization hook runs, every channel is subscribed (replay as asked or as
//! [`FirstReplay`] decides), the connection joins the presence the hook's [`Access`]
//! names, and the body streams `connected` frames, events and pings.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use http::header::{self, HeaderValue};
use realtime_core::channel::ChannelName;
use realtime_core::{Events, Position, Realtime};
use tracing::Instrument;

use crate::auth::Access;
use crate::config::{FirstReplay, FirstReplayHook};
use crate::endpoint::RealtimeSse;
use crate::error::RequestError;
use crate::frame::SseFrame;
use crate::metrics::{self, Route};
use crate::presence::{self, StreamPresence};
use crate::query::{ChannelRequest, parse_query};
use crate::stream::{ConnectionStream, Kept, OpenStream};

/// `GET`: the event stream.
pub(crate) async fn stream_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    let cors = sse.cors_headers(request.headers());
    let mut response = match open_stream(&sse, request).await {
        Ok(response) => response,
        Err(response) => {
            metrics::refused(Route::Stream, response.status());
            response
        }
    };
    response.headers_mut().extend(cors);
    response
}

async fn open_stream<E: Events>(
    sse: &RealtimeSse<E>,
    request: Request,
) -> Result<Response, Response> {
    let shared = sse.shared();
    let config = &shared.config;
    let query = request.uri().query().unwrap_or_default().to_owned();
    if config.refuse_stale_reconnects && request.headers().contains_key(LAST_EVENT_ID) {
        tracing::debug!(
            "automatic reconnect with stale cursors: 204, the client reconnects with fresh ones"
        );
        return Err(StatusCode::NO_CONTENT.into_response());
    }
    let channels = parse_query(&query, config.max_channels).map_err(IntoResponse::into_response)?;
    if shared.shutdown.is_cancelled() {
        return Err(
            RequestError::unavailable("the server is shutting down; retry shortly").into_response(),
        );
    }
    if let Some(admission) = &shared.admission
        && !admission.try_admit()
    {
        tracing::debug!("stream refused: too many new streams this second");
        return Err(RequestError::unavailable(format!(
            "too many new streams (at most {} a second); retry later",
            config.max_stream_opens_per_second.unwrap_or_default()
        ))
        .into_response());
    }
    let open = OpenStream::try_open(&shared.open, config.max_streams).ok_or_else(|| {
        tracing::warn!(
            max = config.max_streams,
            "stream refused: too many open streams"
        );
        RequestError::unavailable(format!(
            "too many open streams (at most {}); retry later",
            config.max_streams
        ))
        .into_response()
    })?;
    let (parts, _body) = request.into_parts();
    let names = channels
        .iter()
        .map(|channel| channel.name.clone())
        .collect();
    let span = tracing::info_span!("sse_stream", channels = %ChannelList(&channels));
    let access = sse
        .authorize(shared.authorize.as_deref(), parts, names)
        .instrument(span.clone())
        .await?;

    let subscriptions = channels
        .iter()
        .map(|channel| subscribe(&shared.realtime, channel, shared.first_replay.as_ref()));
    let deliveries = futures::future::try_join_all(subscriptions)
        .instrument(span.clone())
        .await
        .map_err(|error| {
            span.in_scope(|| tracing::warn!(%error, "stream refused: storage failed"));
            RequestError::from(&error).into_response()
        })?;
    // Subscribed first: the stream carries its own `presence.joined`.
    let presence = join_presence(sse, &channels, access)
        .instrument(span.clone())
        .await
        .map_err(IntoResponse::into_response)?;
    let mut prelude = VecDeque::with_capacity(channels.len() + 1);
    if config.refuse_stale_reconnects {
        prelude.push_back(Bytes::from(format!("id: {}\n\n", crate::frame::now_ms())));
    }
    prelude.extend(
        channels
            .iter()
            .zip(&deliveries)
            .map(|(channel, deliveries)| {
                SseFrame::Connected {
                    channel: &channel.name,
                    cursor: deliveries.start(),
                }
                .to_bytes()
            }),
    );
    let deadline = config.max_duration.map(|max| {
        max.saturating_sub(Duration::from_secs(2))
            .max(Duration::from_secs(1))
    });
    let body = ConnectionStream::new(
        prelude,
        deliveries,
        config.keepalive,
        deadline,
        shared.shutdown.clone().cancelled_owned(),
        Kept { open, presence },
        span,
    );
    Ok((sse_headers(), Body::from_stream(body)).into_response())
}

/// The channels of a stream, comma-separated, written only when a span records them.
struct ChannelList<'a>(&'a [ChannelRequest]);

impl std::fmt::Display for ChannelList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, channel) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            f.write_str(&channel.name)?;
        }
        Ok(())
    }
}

/// Joins the presence of the requested channels that `access` lists, if it names a member.
async fn join_presence<E: Events>(
    sse: &RealtimeSse<E>,
    channels: &[ChannelRequest],
    access: Access<E::Presence>,
) -> Result<StreamPresence, RequestError> {
    let Some((member, info, listed)) = access.into_presence() else {
        return Ok(StreamPresence::none());
    };
    let joined: Vec<ChannelName> = channels
        .iter()
        .filter(|channel| listed.iter().any(|name| channel.name == *name))
        .map(|channel| channel.name.clone())
        .collect();
    if joined.is_empty() {
        return Ok(StreamPresence::none());
    }
    let shared = sse.shared();
    let config = &shared.config;
    let guards =
        presence::join_all(&shared.realtime, member, info, joined, config.presence_ttl).await?;
    Ok(StreamPresence::new(
        guards,
        config.presence_linger,
        Arc::clone(&shared.lingering),
        config.max_streams,
        shared.shutdown.clone(),
    ))
}

async fn subscribe<E: Events>(
    realtime: &Realtime<E>,
    request: &ChannelRequest,
    first_replay: Option<&FirstReplayHook<E>>,
) -> realtime_core::Result<realtime_core::Deliveries<E>> {
    let subscription = realtime.channel(request.name.clone()).subscribe_all();
    // A client without an event id for the channel has seen nothing on it yet.
    let seen_nothing = !matches!(request.last_ack, Some(Position::Cursor(_)));
    let subscription = match first_replay {
        Some(hook) if seen_nothing => hook(request, subscription),
        _ => FirstReplay::AsAsked.apply(request, subscription),
    };
    subscription.deliveries().await
}

const LAST_EVENT_ID: &str = "last-event-id";

fn sse_headers() -> [(header::HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::CONNECTION, HeaderValue::from_static("keep-alive")),
        // nginx and similar proxies must not buffer the stream.
        (
            header::HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        ),
    ]
}
