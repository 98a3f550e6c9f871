//! Channels: named, ordered event logs (`default`, `user-123`, `room-42`).

use std::sync::Arc;

pub use crate::channel_name::{
    ChannelName, DEFAULT_CHANNEL, IntoChannelName, InvalidChannelName, MAX_CHANNEL_NAME_LEN,
    check_channel_name,
};

use serde_json::Value;
use serde_json::value::RawValue;

use crate::cursor::Cursor;
use crate::envelope::{Delivery, Envelope};
use crate::error::Result;
use crate::events::{EventKind, Events, KindFilter};
use crate::history::History;
use crate::hub::decode_or_report;
use crate::idempotency::check_idempotency_key;
use crate::presence::Presence;
use crate::shared::Core;
use crate::subscription::SubscribeBuilder;

/// The data of an untyped emit: a JSON value, or JSON text kept as written.
enum Untyped<'a> {
    Value(Value),
    Text(&'a RawValue),
}

/// A handle on one channel of a [`Realtime`](crate::Realtime): emit, read history,
/// subscribe. Cheap to clone.
///
/// Its name was checked once, when [`Realtime::channel`](crate::Realtime::channel) made
/// it; with a bad one every operation fails with
/// [`Error::InvalidChannel`](crate::Error::InvalidChannel).
pub struct Channel<E: Events> {
    core: Arc<Core<E>>,
    name: Result<ChannelName, InvalidChannelName>,
}

impl<E: Events> Clone for Channel<E> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
            name: self.name.clone(),
        }
    }
}

impl<E: Events> std::fmt::Debug for Channel<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("name", &self.name())
            .finish()
    }
}

impl<E: Events> Channel<E> {
    pub(crate) fn new(core: Arc<Core<E>>, name: impl IntoChannelName) -> Self {
        Self {
            core,
            name: name.into_channel_name(),
        }
    }

    /// The channel's name (cut to 64 characters when it is invalid).
    pub fn name(&self) -> &str {
        match &self.name {
            Ok(name) => name,
            Err(invalid) => &invalid.name,
        }
    }

    /// The checked name, or why it is invalid.
    fn checked(&self) -> Result<&ChannelName> {
        self.name.as_ref().map_err(|invalid| invalid.clone().into())
    }

    /// Validates `event` against its schema, stores it and publishes it; returns its id.
    ///
    /// # Errors
    /// [`Error::Invalid`](crate::Error::Invalid) naming the event, the JSON path and the
    /// rule when the data breaks the schema (nothing is stored); a bad channel name; a
    /// backend failure.
    pub async fn emit(&self, event: &E) -> Result<Cursor> {
        self.emit_typed(event, None).await
    }

    /// Emits a typed event, recorded (see [`Core::recorded`]).
    async fn emit_typed(&self, event: &E, key: Option<&str>) -> Result<Cursor> {
        let emit = async {
            let name = self.checked()?;
            if let Some(key) = key {
                check_idempotency_key(key)?;
            }
            let prepared = self.core.prepare(event)?;
            self.core.append(name, &prepared, key).await
        };
        self.core
            .recorded(self.name(), Some(event.kind()), emit)
            .await
    }

    /// Emits untyped input, recorded (see [`Core::recorded`]).
    async fn emit_untyped(
        &self,
        event: &str,
        data: Untyped<'_>,
        key: Option<&str>,
    ) -> Result<Cursor> {
        let emit = async {
            let name = self.checked()?;
            if let Some(key) = key {
                check_idempotency_key(key)?;
            }
            let prepared = match data {
                Untyped::Value(data) => {
                    let event = self.core.decode_input(event, data)?;
                    self.core.prepare(&event)?
                }
                Untyped::Text(data) => self.core.prepare_raw(event, data)?,
            };
            self.core.append(name, &prepared, key).await
        };
        self.core
            .recorded(self.name(), E::Kind::from_name(event), emit)
            .await
    }

    /// Like [`emit`](Self::emit), but at most once per `key` on this channel within the
    /// idempotency window ([`RealtimeBuilder::idempotency_window`], 5 minutes by
    /// default): a retry with the same key, event and data returns the original id and
    /// stores nothing. Retry with the same key whenever an emit fails with
    /// [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown) or any other error.
    ///
    /// A key names one event: the same key with another event or other data (compared as
    /// stored: the event's name and its JSON text) is refused with
    /// [`Error::IdempotencyKeyReused`](crate::Error::IdempotencyKeyReused), naming the
    /// original id, and nothing is stored. The backend keeps a digest of what it stored
    /// with the key for that.
    ///
    /// ```
    /// # use realtime_core::{Events, Realtime};
    /// # #[derive(Events, Clone, Debug, PartialEq)]
    /// # enum AppEvent { #[event("order.shipped")] Shipped(u64) }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> realtime_core::Result<()> {
    /// let orders = Realtime::<AppEvent>::memory().channel("orders");
    /// let first = orders.emit_with_key(&AppEvent::Shipped(42), "order-42:shipped").await?;
    /// let retry = orders.emit_with_key(&AppEvent::Shipped(42), "order-42:shipped").await?;
    /// assert_eq!(first, retry); // stored and delivered once
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`emit`](Self::emit), [`Error::InvalidIdempotencyKey`](crate::Error::InvalidIdempotencyKey)
    /// for a key that is not 1 to 255 visible ASCII characters, and
    /// [`Error::IdempotencyKeyReused`](crate::Error::IdempotencyKeyReused) for a key used
    /// within the window for another event or data.
    ///
    /// [`RealtimeBuilder::idempotency_window`]: crate::RealtimeBuilder::idempotency_window
    pub async fn emit_with_key(&self, event: &E, key: &str) -> Result<Cursor> {
        self.emit_typed(event, Some(key)).await
    }

    /// Emits untyped input: `event` must name one of the events and `data` must pass its
    /// schema and decode into it.
    ///
    /// # Errors
    /// [`Error::UnknownEvent`](crate::Error::UnknownEvent) listing the known names, or the
    /// errors of [`emit`](Self::emit).
    pub async fn emit_json(&self, event: &str, data: Value) -> Result<Cursor> {
        self.emit_untyped(event, Untyped::Value(data), None).await
    }

    /// [`emit_json`](Self::emit_json) at most once per `key`: see
    /// [`emit_with_key`](Self::emit_with_key).
    ///
    /// # Errors
    /// As [`emit_json`](Self::emit_json) and [`emit_with_key`](Self::emit_with_key).
    pub async fn emit_json_with_key(&self, event: &str, data: Value, key: &str) -> Result<Cursor> {
        self.emit_untyped(event, Untyped::Value(data), Some(key))
            .await
    }

    /// Emits untyped JSON text, as [`emit_json`](Self::emit_json) checks it, and stores the
    /// text as it came, on one line (keys in the sender's order, numbers as spelled), when
    /// it means exactly what the decoded event writes; otherwise (serde filled in a default,
    /// dropped an unknown field, rounded a number, or a key is repeated) the decoded
    /// event's own text, as [`emit`](Self::emit) writes it.
    ///
    /// ```
    /// # use realtime_core::{Events, History, Realtime};
    /// # #[derive(Events, Clone, Debug, PartialEq)]
    /// # enum AppEvent { #[event("chat.message")] Message { text: String, author: String } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let room = Realtime::<AppEvent>::memory().channel("room-1");
    /// let data = serde_json::value::RawValue::from_string(r#"{ "author": "ada", "text": "hi" }"#.into())?;
    /// room.emit_raw_json("chat.message", &data).await?;
    /// let mut deliveries = room.subscribe_all().with_history(1).deliveries().await?;
    /// # use futures::StreamExt;
    /// let delivery = deliveries.next().await.expect("the message");
    /// assert_eq!(delivery.data_json(), r#"{"author":"ada","text":"hi"}"#);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`emit_json`](Self::emit_json).
    pub async fn emit_raw_json(&self, event: &str, data: &RawValue) -> Result<Cursor> {
        self.emit_untyped(event, Untyped::Text(data), None).await
    }

    /// [`emit_raw_json`](Self::emit_raw_json) at most once per `key`: see
    /// [`emit_with_key`](Self::emit_with_key).
    ///
    /// # Errors
    /// As [`emit_json`](Self::emit_json) and [`emit_with_key`](Self::emit_with_key).
    pub async fn emit_raw_json_with_key(
        &self,
        event: &str,
        data: &RawValue,
        key: &str,
    ) -> Result<Cursor> {
        self.emit_untyped(event, Untyped::Text(data), Some(key))
            .await
    }

    /// Reads stored events (see [`History`]); entries that do not match the schema are
    /// counted and logged, not returned.
    ///
    /// # Errors
    /// A bad channel name or limit; a backend failure.
    pub async fn history(&self, query: History) -> Result<Vec<Envelope<E>>> {
        Ok(self
            .history_deliveries(query)
            .await?
            .iter()
            .map(|delivery| delivery.envelope().clone())
            .collect())
    }

    /// [`history`](Self::history) as [`Delivery`]s: each typed envelope with its data as
    /// the compact JSON text it was decoded from, for a transport that sends history on
    /// (the HTTP history route) without encoding each event again.
    ///
    /// # Errors
    /// As [`history`](Self::history).
    pub async fn history_deliveries(&self, query: History) -> Result<Vec<Delivery<E>>> {
        let name = self.checked()?;
        let range = query.to_range()?;
        let entries = self.core.backend.read(name, range).await?;
        Ok(entries
            .iter()
            .filter_map(|entry| {
                decode_or_report::<E>(
                    &self.core.catalog,
                    &self.core.counters,
                    name.shared(),
                    entry,
                )
            })
            .collect())
    }

    /// Subscribes to the given kinds of events; await the builder, optionally after
    /// choosing where to start ([`with_history`](SubscribeBuilder::with_history),
    /// [`after`](SubscribeBuilder::after), [`since`](SubscribeBuilder::since)).
    pub fn subscribe(&self, kinds: impl IntoIterator<Item = E::Kind>) -> SubscribeBuilder<E> {
        SubscribeBuilder::new(
            Arc::clone(&self.core),
            self.name.clone(),
            KindFilter::of(kinds),
        )
    }

    /// The channel's presence: who is here now ([`Presence::members`]), joining it
    /// ([`Presence::join`]) and its changes ([`Presence::changes`]). Needs an event set
    /// with an `#[event(presence)]` variant (see [`PresenceChange`](crate::PresenceChange));
    /// otherwise every operation fails with
    /// [`Error::PresenceNotDeclared`](crate::Error::PresenceNotDeclared).
    pub fn presence(&self) -> Presence<E> {
        Presence::new(Arc::clone(&self.core), self.name.clone())
    }

    /// Subscribes to every event of the channel.
    pub fn subscribe_all(&self) -> SubscribeBuilder<E> {
        SubscribeBuilder::new(
            Arc::clone(&self.core),
            self.name.clone(),
            KindFilter::all::<E::Kind>(),
        )
    }
}
