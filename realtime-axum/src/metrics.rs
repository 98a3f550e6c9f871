//! What the endpoint records through the `metrics` facade (names and labels:
//! [`realtime_core::metrics`]): open streams, why they closed, frames sent, refusals.
//!
//! Keys are built once (statics), so a recording neither hashes nor allocates, and is a
//! no-op without an installed recorder.

use ::metrics::{Key, Label, Level, Metadata};
use http::StatusCode;
use realtime_core::metrics as names;

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

static STREAMS_OPENED: Key = Key::from_static_name(names::SSE_STREAMS_OPENED);
static EVENTS_SENT: Key = Key::from_static_name(names::SSE_EVENTS_SENT);

/// Why an event stream closed: the [`names::REASON`] label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    ClientGone,
    Shutdown,
    MaxDuration,
    FeedEnded,
}

impl CloseReason {
    pub(crate) fn label(self) -> &'static str {
        match self {
            CloseReason::ClientGone => names::CLOSED_CLIENT_GONE,
            CloseReason::Shutdown => names::CLOSED_SHUTDOWN,
            CloseReason::MaxDuration => names::CLOSED_MAX_DURATION,
            CloseReason::FeedEnded => names::CLOSED_FEED_ENDED,
        }
    }

    fn key(self) -> &'static Key {
        const fn closed(labels: &'static [Label]) -> Key {
            Key::from_static_parts(names::SSE_STREAMS_CLOSED, labels)
        }
        static CLIENT_GONE: [Label; 1] = [reason(names::CLOSED_CLIENT_GONE)];
        static SHUTDOWN: [Label; 1] = [reason(names::CLOSED_SHUTDOWN)];
        static MAX_DURATION: [Label; 1] = [reason(names::CLOSED_MAX_DURATION)];
        static FEED_ENDED: [Label; 1] = [reason(names::CLOSED_FEED_ENDED)];
        static KEYS: [Key; 4] = [
            closed(&CLIENT_GONE),
            closed(&SHUTDOWN),
            closed(&MAX_DURATION),
            closed(&FEED_ENDED),
        ];
        &KEYS[self as usize]
    }
}

const fn reason(value: &'static str) -> Label {
    Label::from_static_parts(names::REASON, value)
}

/// Which route refused a request: the [`names::ROUTE`] label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Stream,
    Emit,
}

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Stream => "stream",
            Route::Emit => "emit",
        }
    }
}

fn increment(key: &Key) {
    ::metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(1));
}

/// An event stream started.
pub(crate) fn stream_opened() {
    increment(&STREAMS_OPENED);
    names::SSE_OPEN_STREAMS_GAUGE.add(1);
}

/// An event stream ended.
pub(crate) fn stream_closed(reason: CloseReason) {
    increment(reason.key());
    names::SSE_OPEN_STREAMS_GAUGE.add(-1);
}

/// An event frame was handed to a connection.
pub(crate) fn event_sent() {
    increment(&EVENTS_SENT);
}

/// A request was refused with `status`. Only refusals build their key (statuses are few,
/// but not known in advance).
pub(crate) fn refused(route: Route, status: StatusCode) {
    let labels = vec![
        Label::from_static_parts(names::ROUTE, route.label()),
        Label::new(names::STATUS, status.as_str().to_owned()),
    ];
    increment(&Key::from_parts(names::HTTP_REFUSED, labels));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_close_reason_has_its_own_labelled_key() {
        for reason in [
            CloseReason::ClientGone,
            CloseReason::Shutdown,
            CloseReason::MaxDuration,
            CloseReason::FeedEnded,
        ] {
            let key = reason.key();
            assert_eq!(key.name(), names::SSE_STREAMS_CLOSED);
            let labels: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
            assert_eq!(labels, [(names::REASON, reason.label())]);
        }
    }
}
