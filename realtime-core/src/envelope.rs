//! What subscribers and history readers receive.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::cursor::Cursor;
use crate::events::{EventKind, Events};

/// A typed event as stored in a channel: its id, its channel and the event.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope<E> {
    /// The entry's id in the channel's history; pass it to `after` to resume.
    pub id: Cursor,
    /// The channel it was emitted to.
    pub channel: Arc<str>,
    /// The event.
    pub event: E,
}

/// One decoded message as the in-process fan-out shares it between every subscriber of a
/// channel: the typed envelope, its data as compact JSON text, and a slot for a wire frame
/// that a transport (the SSE endpoint) builds once and shares.
#[derive(Debug)]
pub struct Delivery<E> {
    envelope: Envelope<E>,
    data_json: Box<str>,
    frame: OnceLock<Bytes>,
}

impl<E: Events> Delivery<E> {
    pub(crate) fn new(envelope: Envelope<E>, data_json: String) -> Self {
        Self {
            envelope,
            data_json: data_json.into_boxed_str(),
            frame: OnceLock::new(),
        }
    }

    /// The typed envelope.
    pub fn envelope(&self) -> &Envelope<E> {
        &self.envelope
    }

    /// The entry's id.
    pub fn id(&self) -> Cursor {
        self.envelope.id
    }

    /// The event name.
    pub fn event_name(&self) -> &'static str {
        self.envelope.event.kind().name()
    }

    /// The event's data as compact, single-line JSON.
    pub fn data_json(&self) -> &str {
        &self.data_json
    }

    /// The transport frame of this message, built by `build` on first use and shared
    /// afterwards, so a message is encoded once per process, not once per connection.
    pub fn frame(&self, build: impl FnOnce(&Self) -> Bytes) -> Bytes {
        self.frame.get_or_init(|| build(self)).clone()
    }
}
