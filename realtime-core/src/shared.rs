//! What every handle and channel of one [`Realtime`](crate::Realtime) share: the backend,
//! the compiled validators, the counters and the fan-out, and the two steps of an emit
//! (prepare: validate and encode once; append: store and publish), which
//! [`Core::recorded`] wraps in a span and metrics.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::backend::{Backend, FailureKind};
use crate::catalog::Catalog;
use crate::channel_name::ChannelName;
use crate::cursor::Cursor;
use crate::error::{DecodeError, Error, Result};
use crate::events::{EventKind, Events};
use crate::hub::{Counters, Hub};
use crate::json_text;
use crate::metrics::{self, Outcome};
use crate::presence::leases::Leases;
use crate::presence::records::CheckedRecords;

/// What every handle and channel of one `Realtime` share.
pub(crate) struct Core<E: Events> {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) hub: Hub<E>,
    pub(crate) idempotency_window: Duration,
    /// The largest presence info accepted, in bytes of JSON.
    pub(crate) max_presence_info: usize,
    /// The presence connections this handle keeps alive, and their heartbeat task.
    pub(crate) presence: Arc<Leases>,
    /// The member records this handle has checked against their schema.
    pub(crate) presence_records: CheckedRecords,
}

/// An event checked against its schema and encoded, ready to append.
pub(crate) struct Prepared {
    name: &'static str,
    data: String,
}

impl<E: Events> Core<E> {
    /// Runs one emit of `event` (`None`: a name the event set does not have) to `channel`
    /// in an `emit` span, and records it: counted by event and outcome, and its duration
    /// when it reached storage.
    pub(crate) async fn recorded(
        &self,
        channel: &str,
        event: Option<E::Kind>,
        emit: impl Future<Output = Result<Cursor>>,
    ) -> Result<Cursor> {
        let name = event.map_or(metrics::UNKNOWN_EVENT, EventKind::name);
        let span = tracing::debug_span!("emit", channel, event = name);
        let started = Instant::now();
        let result = emit.instrument(span).await;
        self.record(event, Outcome::of(&result), Some(started));
        result
    }

    /// Counts an emit of `event` by outcome; records its duration since `started` when it
    /// reached storage.
    pub(crate) fn record(
        &self,
        event: Option<E::Kind>,
        outcome: Outcome,
        started: Option<Instant>,
    ) {
        self.catalog
            .keys()
            .emit(event.map(EventKind::index), outcome);
        crate::totals::emitted(outcome == Outcome::Ok);
        if let Some(started) = started.filter(|_| outcome.reached_storage()) {
            metrics::record(&metrics::EMIT_DURATION_KEY, started.elapsed().as_secs_f64());
        }
    }

    /// Serializes and validates an event; nothing is written when this fails.
    ///
    /// The data is written straight from the Rust value (declaration order, serde's own
    /// number formatting), and that text is what is validated (parsed back into a `Value`)
    /// and stored.
    pub(crate) fn prepare(&self, event: &E) -> Result<Prepared> {
        self.encode_checked(event).map(|(prepared, _)| prepared)
    }

    /// [`prepare`](Self::prepare), also returning the data as the validator saw it.
    fn encode_checked(&self, event: &E) -> Result<(Prepared, Value)> {
        let kind = event.kind();
        let name = kind.name();
        if event.presence_change().is_some() {
            return Err(Error::ReservedEvent { event: name });
        }
        let encode_error = |source| Error::Encode {
            event: name,
            source,
        };
        let data = event.to_data_json().map_err(encode_error)?;
        let written: Value = serde_json::from_str(&data).map_err(encode_error)?;
        self.catalog.validate(kind.index(), &written)?;
        if self.catalog.check_read_back(kind.index()) || json_text::may_hold_wide_integer(&written)
        {
            // Readers decode the stored text, which keeps a `u128` exact; but serde cannot
            // buffer one for an untagged or flattened enum, and `Nested` reads through a
            // `Value`, so such an event would be stored and then lost to every reader.
            // Refuse it here instead.
            E::from_data_json(name, &data).map_err(|error| Error::Decode(unreadable(error)))?;
        }
        Ok((Prepared { name, data }, written))
    }

    /// Turns untyped input into a typed event: known name, valid data, decodable.
    pub(crate) fn decode_input(&self, event: &str, data: Value) -> Result<E> {
        let kind = E::Kind::from_name(event)
            .ok_or_else(|| crate::private::names::unknown_event(event, E::NAMES))?;
        self.catalog.validate(kind.index(), &data)?;
        Ok(E::from_data(kind.name(), data)?)
    }

    /// Prepares untyped JSON text as [`decode_input`](Self::decode_input) checks it, keeping
    /// the text as it came (on one line) when it means exactly what the decoded event
    /// writes: same members and values, whatever their order and number spelling.
    /// Otherwise (serde filled in a default, dropped an unknown field, rounded a number to
    /// an `f32`, or the text repeats a key) the decoded event's own text is stored, so what
    /// is stored always decodes and re-encodes to the same event.
    pub(crate) fn prepare_raw(&self, event: &str, data: &RawValue) -> Result<Prepared> {
        let kind = E::Kind::from_name(event)
            .ok_or_else(|| crate::private::names::unknown_event(event, E::NAMES))?;
        let name = kind.name();
        let received: Value =
            serde_json::from_str(data.get()).map_err(|error| DecodeError::InvalidData {
                event: name,
                path: ".".to_owned(),
                message: format!("data is not JSON: {error}"),
            })?;
        self.catalog.validate(kind.index(), &received)?;
        let typed = E::from_data_json(name, data.get())?;
        let (prepared, written) = self.encode_checked(&typed)?;
        let compacted = json_text::compact(data.get());
        let same_meaning =
            written == received && compacted.members == json_text::members(&received);
        Ok(if same_meaning {
            Prepared {
                name,
                data: compacted.text.into_owned(),
            }
        } else {
            prepared
        })
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
            FailureKind::KeyReused => Error::IdempotencyKeyReused {
                channel: channel.to_owned(),
                key: key.unwrap_or_default().to_owned(),
                source: error,
            },
            _ => Error::Backend(error),
        })?;
        tracing::debug!(channel, event = name, %id, "emitted");
        Ok(id)
    }
}

/// The error for an event whose written text does not decode back into it.
fn unreadable(error: DecodeError) -> DecodeError {
    match error {
        DecodeError::InvalidData {
            event,
            path,
            message,
        } => DecodeError::InvalidData {
            event,
            path,
            message: format!(
                "{message}; the event serializes to JSON that does not decode back into it \
                 (serde reads no `u128`/`i128` inside an untagged or internally tagged enum or a \
                 flattened field, nor beyond 64 bits inside a nested event), so it is \
                 not stored"
            ),
        },
        other => other,
    }
}
