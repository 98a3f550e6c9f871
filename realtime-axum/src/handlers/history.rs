//! `GET <path>/history?channel=<c>`: a channel's stored events with their ids, for
//! clients that page back through a channel or show what happened before they connected.
//! Authorized by the stream's hook (for the one channel), so a client that may not read a
//! channel may not read its history either.
//!
//! Query (every parameter but `channel` optional):
//!
//! | parameter | meaning |
//! |---|---|
//! | `channel` | the channel, exactly one |
//! | `limit` | at most this many events, 1 to 1,000; default 100 |
//! | `after` | only events after this id (exclusive) |
//! | `before` | only events before this id (exclusive) |
//! | `event` | only events of this name; repeat it for several |
//!
//! With `after` and no `before`, the oldest `limit` events after it (paging forward);
//! otherwise the newest `limit` events of the range (paging back). Events are always in
//! id order, each as the stream sends it: `{"id","channel","event","data"}`. With an
//! `event` filter, the route reads on until it has `limit` matching events, the range ends,
//! or it has read [`MAX_SCANNED`] entries (then it returns what it found). Entries that do
//! not match the schema are counted and left out, as everywhere.
//!
//! | outcome | status | body |
//! |---|---|---|
//! | the events | 200 | `[{ "id", "channel", "event", "data" }]` |
//! | no `channel` or several, a bad name, id, limit or event name | 400 | `{ "error" }` |
//! | refused by the authorization hook | its response (e.g. 401, 403) | |
//! | storage unreachable | 503 + `Retry-After` | `{ "error" }` |

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use realtime_core::channel::ChannelName;
use realtime_core::history::MAX_HISTORY_LIMIT;
use realtime_core::{Cursor, Delivery, EventKind, Events, History};

use crate::endpoint::RealtimeSse;
use crate::error::RequestError;

/// The default number of events a history request returns.
const DEFAULT_LIMIT: usize = 100;

/// The most entries one filtered history request reads before it answers with what it
/// found: ten full pages.
pub(crate) const MAX_SCANNED: usize = 10 * MAX_HISTORY_LIMIT;

pub(crate) async fn history_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    let cors = sse.cors_headers(request.headers());
    let mut response = match history(&sse, request).await {
        Ok(response) | Err(response) => response,
    };
    response.headers_mut().extend(cors);
    response
}

async fn history<E: Events>(sse: &RealtimeSse<E>, request: Request) -> Result<Response, Response> {
    let shared = sse.shared();
    let query = HistoryQuery::parse::<E>(request.uri().query().unwrap_or_default())
        .map_err(IntoResponse::into_response)?;
    let (parts, _body) = request.into_parts();
    let _allowed = sse
        .authorize(
            shared.authorize.as_deref(),
            parts,
            vec![query.channel.clone()],
        )
        .await?;
    let channel = shared.realtime.channel(query.channel.clone());
    let mut found: Vec<Delivery<E>> = Vec::new();
    let mut window = query.window;
    let mut scanned = 0;
    loop {
        let read = channel
            .history_deliveries(window.query(query.limit))
            .await
            .map_err(|error| {
                tracing::warn!(%error, "history refused: storage failed");
                RequestError::from(&error).into_response()
            })?;
        scanned += query.limit;
        let full_page = read.len() == query.limit;
        let next = window.past(&read);
        let matching = read.into_iter().filter(|delivery| query.wants(delivery));
        if window.forward {
            found.extend(matching);
            found.truncate(query.limit);
        } else {
            let mut page: Vec<_> = matching.collect();
            let room = query.limit - found.len();
            page.drain(..page.len().saturating_sub(room));
            page.append(&mut found);
            found = page;
        }
        match next {
            Some(next) if full_page && found.len() < query.limit && scanned < MAX_SCANNED => {
                window = next;
            }
            _ => break,
        }
    }
    Ok(json_array(&found, query.channel.as_str()))
}

/// The events as the stream writes them, built from each event's stored JSON text.
fn json_array<E: Events>(events: &[Delivery<E>], channel: &str) -> Response {
    let channel = serde_json::Value::from(channel).to_string();
    let mut body = String::from("[");
    for (index, delivery) in events.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            r#"{{"id":"{}","data":{},"event":"{}","channel":{channel}}}"#,
            delivery.id(),
            delivery.data_json(),
            delivery.event_name(),
        ));
    }
    body.push(']');
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A parsed history request.
#[derive(Debug)]
struct HistoryQuery {
    channel: ChannelName,
    limit: usize,
    window: Window,
    /// Event indexes to keep; empty keeps every event.
    events: Vec<usize>,
}

/// The range still to read, inclusive, and which end to read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    start: Option<Cursor>,
    end: Option<Cursor>,
    /// Oldest first (paging forward) or newest first (paging back).
    forward: bool,
}

impl Window {
    fn query(self, limit: usize) -> History {
        let mut history = if self.forward {
            History::new().limit(limit)
        } else {
            History::last(limit)
        };
        if let Some(start) = self.start {
            history = history.start(start);
        }
        if let Some(end) = self.end {
            history = history.end(end);
        }
        history
    }

    /// The range left after `read` (in id order), or `None` when nothing is left.
    fn past<E: Events>(self, read: &[Delivery<E>]) -> Option<Window> {
        if self.forward {
            let last = read.last()?.id();
            let start = Cursor::next(Some(last), 0);
            (start > last).then_some(Window {
                start: Some(start),
                ..self
            })
        } else {
            let end = read.first()?.id().predecessor()?;
            Some(Window {
                end: Some(end),
                ..self
            })
        }
    }
}

impl HistoryQuery {
    fn parse<E: Events>(query: &str) -> Result<Self, RequestError> {
        let mut channel = None;
        let mut limit = DEFAULT_LIMIT;
        let mut after = None;
        let mut before = None;
        let mut events = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "channel" if channel.is_some() => {
                    return Err(RequestError::bad_request(
                        "expected one `channel` per history request",
                    ));
                }
                "channel" => {
                    channel = Some(
                        ChannelName::new(value.as_ref())
                            .map_err(|error| RequestError::bad_request(error.to_string()))?,
                    );
                }
                "limit" => {
                    limit = value
                        .parse()
                        .ok()
                        .filter(|limit| (1..=MAX_HISTORY_LIMIT).contains(limit))
                        .ok_or_else(|| {
                            RequestError::bad_request(format!(
                                "invalid limit `{value}`: expected a whole number from 1 to {MAX_HISTORY_LIMIT}"
                            ))
                        })?;
                }
                "after" => after = Some(cursor(&key, &value)?),
                "before" => before = Some(cursor(&key, &value)?),
                "event" => {
                    let kind = E::Kind::from_name(&value).ok_or_else(|| {
                        let shown: String = value.chars().take(64).collect();
                        RequestError::bad_request(format!(
                            "unknown event `{shown}` in `event`: expected one of the event set's names"
                        ))
                    })?;
                    events.push(kind.index());
                }
                _ => {}
            }
        }
        let channel = channel
            .ok_or_else(|| RequestError::bad_request("expected `?channel=<name>` (one channel)"))?;
        // Exclusive bounds as the inclusive ones the storage reads.
        let start = after.map(|after| Cursor::next(Some(after), 0));
        let end = match before {
            Some(before) => Some(before.predecessor().ok_or_else(|| {
                RequestError::bad_request("`before=0-0`: no event comes before it")
            })?),
            None => None,
        };
        if after.is_some_and(|after| start <= Some(after)) {
            return Err(RequestError::bad_request(
                "`after` is the largest id: no event comes after it",
            ));
        }
        Ok(Self {
            channel,
            limit,
            window: Window {
                start,
                end,
                forward: after.is_some() && before.is_none(),
            },
            events,
        })
    }

    fn wants<E: Events>(&self, delivery: &Delivery<E>) -> bool {
        self.events.is_empty()
            || self
                .events
                .contains(&delivery.envelope().event.kind().index())
    }
}

fn cursor(key: &str, value: &str) -> Result<Cursor, RequestError> {
    value.parse().map_err(|_| {
        let shown: String = value.chars().take(64).collect();
        RequestError::bad_request(format!(
            "invalid `{key}` `{shown}`: expected an event id `<ms>-<seq>`"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(realtime_core::Events, Clone, Debug, PartialEq)]
    enum TestEvent {
        #[event("chat.message")]
        Message(String),
        #[event("counter.tick")]
        Tick(u32),
    }

    fn parse(query: &str) -> Result<HistoryQuery, String> {
        HistoryQuery::parse::<TestEvent>(query).map_err(|error| error.message().to_owned())
    }

    #[test]
    fn a_query_reads_newest_first_unless_it_pages_forward() {
        let newest = parse("channel=a").unwrap();
        assert_eq!(newest.limit, DEFAULT_LIMIT);
        assert!(!newest.window.forward);
        let forward = parse("channel=a&after=5-1&limit=3").unwrap();
        assert!(forward.window.forward);
        assert_eq!(forward.window.start, Some(Cursor::new(5, 2)));
        let back = parse("channel=a&before=5-0&after=1-0").unwrap();
        assert!(!back.window.forward);
        assert_eq!(back.window.end, Some(Cursor::new(4, u64::MAX)));
        assert_eq!(back.window.start, Some(Cursor::new(1, 1)));
    }

    #[test]
    fn bad_queries_say_what_was_expected() {
        for (query, expected) in [
            ("", "expected `?channel=<name>` (one channel)"),
            (
                "channel=a&channel=b",
                "expected one `channel` per history request",
            ),
            (
                "channel=a&limit=0",
                "invalid limit `0`: expected a whole number from 1 to 1000",
            ),
            (
                "channel=a&limit=1001",
                "invalid limit `1001`: expected a whole number from 1 to 1000",
            ),
            (
                "channel=a&after=x",
                "invalid `after` `x`: expected an event id `<ms>-<seq>`",
            ),
            (
                "channel=a&before=0-0",
                "`before=0-0`: no event comes before it",
            ),
            (
                "channel=a&event=nope",
                "unknown event `nope` in `event`: expected one of the event set's names",
            ),
        ] {
            assert_eq!(parse(query).unwrap_err(), expected, "{query}");
        }
        assert_eq!(
            parse("channel=a&event=counter.tick&event=chat.message")
                .unwrap()
                .events
                .len(),
            2
        );
    }
}
