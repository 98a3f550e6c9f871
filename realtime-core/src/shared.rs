//! What every handle and channel of one [`Realtime`](crate::Realtime) share: the backend,
//! the compiled validators, the counters and the fan-out, and the two steps of an emit
//! (prepare: validate and encode once; append: store and publish).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::backend::{Backend, FailureKind};
use crate::catalog::Catalog;
use crate::channel_name::ChannelName;
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::events::{EventKind, Events};
use crate::hub::{Counters, Hub};

/// What every handle and channel of one `Realtime` share.
pub(crate) struct Core<E: Events> {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) hub: Hub<E>,
    pub(crate) idempotency_window: Duration,
}

/// An event checked against its schema and encoded, ready to append.
pub(crate) struct Prepared {
    name: &'static str,
    data: String,
}

impl<E: Events> Core<E> {
    /// Serializes and validates an event; nothing is written when this fails.
    pub(crate) fn prepare(&self, event: &E) -> Result<Prepared> {
        let kind = event.kind();
        let name = kind.name();
        let data = event.to_data().map_err(|source| Error::Encode {
            event: name,
            source,
        })?;
        self.catalog.validate(kind.index(), &data)?;
        let data = serde_json::to_string(&data).map_err(|source| Error::Encode {
            event: name,
            source,
        })?;
        Ok(Prepared { name, data })
    }

    /// Turns untyped input into a typed event: known name, valid data, decodable.
    pub(crate) fn decode_input(&self, event: &str, data: Value) -> Result<E> {
        let kind = E::Kind::from_name(event)
            .ok_or_else(|| crate::private::names::unknown_event(event, E::NAMES))?;
        self.catalog.validate(kind.index(), &data)?;
        Ok(E::from_data(kind.name(), data)?)
    }

    /// Stores and publishes a prepared event, once per idempotency key when one is given.
    pub(crate) async fn append(
        &self,
        channel: &ChannelName,
        prepared: &Prepared,
        key: Option<&str>,
    ) -> Result<Cursor> {
        let channel = channel.as_str();
        let (name, data) = (prepared.name, prepared.data.as_str());
        let appended = match key {
            None => self.backend.append(channel, name, data).await,
            Some(key) => {
                let window = self.idempotency_window;
                self.backend
                    .append_once(channel, name, data, key, window)
                    .await
                    .map(|appended| {
                        if appended.replayed {
                            tracing::debug!(channel, event = name, id = %appended.id, key, "repeated idempotency key: the original id");
                        }
                        appended.id
                    })
            }
        };
        let id = appended.map_err(|error| match error.failure_kind() {
            FailureKind::OutcomeUnknown => Error::OutcomeUnknown {
                channel: channel.to_owned(),
                source: error,
            },
            _ => Error::Backend(error),
        })?;
        tracing::debug!(channel, event = name, %id, "emitted");
        Ok(id)
    }
}
