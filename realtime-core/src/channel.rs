//! Channels: named, ordered event logs (`default`, `user-123`, `room-42`).

use std::sync::Arc;

use serde_json::Value;

use crate::cursor::Cursor;
use crate::envelope::Envelope;
use crate::error::Result;
use crate::events::{Events, KindFilter};
use crate::history::History;
use crate::hub::decode_or_report;
use crate::idempotency::check_idempotency_key;
use crate::realtime::Core;
use crate::subscription::SubscribeBuilder;

/// The channel that [`Realtime::emit`](crate::Realtime::emit) and
/// [`Realtime::subscribe`](crate::Realtime::subscribe) use.
pub const DEFAULT_CHANNEL: &str = "default";

/// The longest channel name accepted, in bytes.
pub const MAX_CHANNEL_NAME_LEN: usize = 128;

/// A channel name that breaks the naming rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid channel name `{name}`: {reason}")]
pub struct InvalidChannelName {
    /// The name (cut to 64 characters).
    pub name: String,
    /// What rule it breaks and what is expected.
    pub reason: &'static str,
}

/// Checks a channel name: 1 to [`MAX_CHANNEL_NAME_LEN`] bytes of ASCII letters, digits and
/// `- _ . : @ /`. Names reach storage keys and URLs, so nothing else is accepted.
///
/// ```
/// use realtime_core::channel::check_channel_name;
///
/// assert!(check_channel_name("user-123").is_ok());
/// assert!(check_channel_name("team:42/general").is_ok());
/// assert!(check_channel_name("room 1").is_err());
/// assert!(check_channel_name("").is_err());
/// ```
///
/// # Errors
/// [`InvalidChannelName`] saying which rule the name breaks.
pub fn check_channel_name(name: &str) -> Result<(), InvalidChannelName> {
    let reason = if name.is_empty() {
        Some("it is empty; expected 1 to 128 characters")
    } else if name.len() > MAX_CHANNEL_NAME_LEN {
        Some("it is longer than 128 bytes")
    } else if !name.bytes().all(is_channel_byte) {
        Some("expected only ASCII letters, digits and `-_.:@/`")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(InvalidChannelName {
            name: name.chars().take(64).collect(),
            reason,
        }),
    }
}

fn is_channel_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':' | b'@' | b'/')
}

/// A handle on one channel of a [`Realtime`](crate::Realtime): emit, read history,
/// subscribe. Cheap to clone.
///
/// The name is checked by every operation, which fails with
/// [`Error::InvalidChannel`](crate::Error::InvalidChannel) for a bad one.
pub struct Channel<E: Events> {
    pub(crate) core: Arc<Core<E>>,
    pub(crate) name: Arc<str>,
}

impl<E: Events> Clone for Channel<E> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
            name: Arc::clone(&self.name),
        }
    }
}

impl<E: Events> std::fmt::Debug for Channel<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("name", &self.name).finish()
    }
}

impl<E: Events> Channel<E> {
    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn core(&self) -> &Core<E> {
        &self.core
    }

    pub(crate) fn check_name(&self) -> Result<()> {
        Ok(check_channel_name(&self.name)?)
    }

    /// Validates `event` against its schema, stores it and publishes it; returns its id.
    ///
    /// # Errors
    /// [`Error::Invalid`](crate::Error::Invalid) naming the event, the JSON path and the
    /// rule when the data breaks the schema (nothing is stored); a bad channel name; a
    /// backend failure.
    pub async fn emit(&self, event: &E) -> Result<Cursor> {
        self.check_name()?;
        let prepared = self.core.prepare(event)?;
        self.core.append(&self.name, &prepared, None).await
    }

    /// Like [`emit`](Self::emit), but at most once per `key` on this channel within the
    /// idempotency window ([`RealtimeBuilder::idempotency_window`], 5 minutes by
    /// default): a retry with the same key returns the original id and stores nothing.
    /// Retry with the same key whenever an emit fails with
    /// [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown) or any other error.
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
    /// As [`emit`](Self::emit), and [`Error::InvalidIdempotencyKey`](crate::Error::InvalidIdempotencyKey)
    /// for a key that is not 1 to 255 visible ASCII characters.
    ///
    /// [`RealtimeBuilder::idempotency_window`]: crate::RealtimeBuilder::idempotency_window
    pub async fn emit_with_key(&self, event: &E, key: &str) -> Result<Cursor> {
        self.check_name()?;
        check_idempotency_key(key)?;
        let prepared = self.core.prepare(event)?;
        self.core.append(&self.name, &prepared, Some(key)).await
    }

    /// Emits untyped input: `event` must name one of the events and `data` must pass its
    /// schema and decode into it.
    ///
    /// # Errors
    /// [`Error::UnknownEvent`](crate::Error::UnknownEvent) listing the known names, or the
    /// errors of [`emit`](Self::emit).
    pub async fn emit_json(&self, event: &str, data: Value) -> Result<Cursor> {
        self.check_name()?;
        let event = self.core.decode_input(event, data)?;
        self.emit(&event).await
    }

    /// [`emit_json`](Self::emit_json) at most once per `key`: see
    /// [`emit_with_key`](Self::emit_with_key).
    ///
    /// # Errors
    /// As [`emit_json`](Self::emit_json) and [`emit_with_key`](Self::emit_with_key).
    pub async fn emit_json_with_key(&self, event: &str, data: Value, key: &str) -> Result<Cursor> {
        self.check_name()?;
        check_idempotency_key(key)?;
        let event = self.core.decode_input(event, data)?;
        self.emit_with_key(&event, key).await
    }

    /// Reads stored events (see [`History`]); entries that do not match the schema are
    /// counted and logged, not returned.
    ///
    /// # Errors
    /// A bad channel name or limit; a backend failure.
    pub async fn history(&self, query: History) -> Result<Vec<Envelope<E>>> {
        self.check_name()?;
        let range = query.to_range()?;
        let entries = self.core.backend.read(&self.name, range).await?;
        Ok(entries
            .iter()
            .filter_map(|entry| {
                decode_or_report::<E>(&self.core.catalog, &self.core.counters, &self.name, entry)
            })
            .map(|delivery| delivery.envelope().clone())
            .collect())
    }

    /// Subscribes to the given kinds of events; await the builder, optionally after
    /// choosing where to start ([`with_history`](SubscribeBuilder::with_history),
    /// [`after`](SubscribeBuilder::after), [`since`](SubscribeBuilder::since)).
    pub fn subscribe(&self, kinds: impl IntoIterator<Item = E::Kind>) -> SubscribeBuilder<E> {
        SubscribeBuilder::new(self.clone(), KindFilter::of(kinds))
    }

    /// Subscribes to every event of the channel.
    pub fn subscribe_all(&self) -> SubscribeBuilder<E> {
        SubscribeBuilder::new(self.clone(), KindFilter::all::<E::Kind>())
    }
}
