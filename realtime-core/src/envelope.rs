//! What subscribers and history readers receive.

use std::any::TypeId;
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
    /// The frame of the first format asked for, tagged with that format.
    frame: OnceLock<(TypeId, Bytes)>,
}

/// A transport's wire encoding of a delivery, e.g. the SSE frame of `@upstash/realtime`.
/// [`Delivery::frame`] caches it per delivery, so a message is encoded once per process;
/// the cache is keyed by the format's type, so no transport can receive another's bytes.
///
/// ```
/// use bytes::Bytes;
/// use futures::StreamExt;
/// use realtime_core::{Delivery, Events, FrameFormat, Realtime};
///
/// #[derive(Events, Clone, Debug, PartialEq)]
/// enum AppEvent {
///     #[event("notification.alert")]
///     Alert(String),
/// }
///
/// /// The data alone.
/// struct Plain;
/// impl FrameFormat for Plain {
///     fn encode<E: Events>(delivery: &Delivery<E>) -> Bytes {
///         Bytes::from(delivery.data_json().to_owned())
///     }
/// }
///
/// /// The event name, then the data.
/// struct Named;
/// impl FrameFormat for Named {
///     fn encode<E: Events>(delivery: &Delivery<E>) -> Bytes {
///         Bytes::from(format!("{} {}", delivery.event_name(), delivery.data_json()))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> realtime_core::Result<()> {
/// let rt = Realtime::<AppEvent>::memory();
/// let mut deliveries = rt.subscribe_all().deliveries().await?;
/// rt.emit(&AppEvent::Alert("hi".into())).await?;
/// let delivery = deliveries.next().await.expect("the alert");
/// assert_eq!(delivery.frame::<Plain>(), r#""hi""#);
/// assert_eq!(delivery.frame::<Named>(), r#"notification.alert "hi""#);
/// assert_eq!(delivery.frame::<Plain>(), r#""hi""#); // each format its own bytes
/// # Ok(()) }
/// ```
pub trait FrameFormat: 'static {
    /// Encodes `delivery`.
    fn encode<E: Events>(delivery: &Delivery<E>) -> Bytes;
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

    /// This message in the wire format `F`: encoded on first use and shared afterwards,
    /// so a message is encoded once per process, not once per connection. The first
    /// format asked for is cached; another format is encoded on each call (a process
    /// normally serves one).
    pub fn frame<F: FrameFormat>(&self) -> Bytes {
        let format = TypeId::of::<F>();
        let (cached_format, bytes) = self.frame.get_or_init(|| (format, F::encode(self)));
        if *cached_format == format {
            bytes.clone()
        } else {
            F::encode(self)
        }
    }
}
