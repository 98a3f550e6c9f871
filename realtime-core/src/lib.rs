//! Typed realtime events for web apps.
//!
//! Declare the app's events once, as an enum; `#[derive(Events)]` turns it into a typed,
//! validated event set. Emit to channels, read their history, and subscribe to them as
//! `Stream`s, on the embedded in-memory backend or on Redis (feature `redis`), with a wire
//! format that the `@upstash/realtime` browser client understands.
//!
//! ```
//! use futures::StreamExt;
//! use realtime_core::{Events, History, Realtime};
//!
//! /// Events of a chat app.
//! #[derive(Events, Clone, Debug, PartialEq)]
//! enum AppEvent {
//!     /// A short notice for everyone.
//!     #[event("notification.alert")]
//!     Alert(String),
//!     /// A message in a room.
//!     #[event("chat.message")]
//!     Message {
//!         author: String,
//!         #[schemars(length(min = 1, max = 280))]
//!         text: String,
//!     },
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> realtime_core::Result<()> {
//! let rt = Realtime::<AppEvent>::memory();
//! let room = rt.channel("room-1");
//!
//! let mut messages = room.subscribe([AppEventKind::Message]).await?;
//! let hello = AppEvent::Message { author: "ada".into(), text: "hello".into() };
//! let id = room.emit(&hello).await?;
//! assert_eq!(messages.next().await.map(|envelope| envelope.id), Some(id));
//!
//! // Validation is real: this breaks `length(min = 1)`, and nothing is stored.
//! let empty = AppEvent::Message { author: "ada".into(), text: String::new() };
//! assert!(room.emit(&empty).await.is_err());
//! assert_eq!(room.history(History::last(10)).await?.len(), 1);
//! # Ok(()) }
//! ```
//!
//! The pieces: [`Events`] (the derive), [`Realtime`] and [`Channel`] (emit, history,
//! subscribe), [`Cursor`] (ids), [`History`] (queries), [`Subscription`] (a `Stream` of
//! [`Envelope`]s), [`backend`] (storage: [`MemoryBackend`](backend::MemoryBackend)),
//! [`EventSchema`] (the JSON Schema of the event set), and [`presence`] (who is in a
//! channel: [`Channel::presence`], declared with an `#[event(presence)]` variant).

// The derive names `::realtime_core`; the conformance suite derives its event set here.
#[cfg(feature = "testing")]
extern crate self as realtime_core;

pub mod backend;
mod catalog;
pub mod channel;
mod channel_name;
pub mod cursor;
pub mod envelope;
pub mod error;
pub mod events;
pub mod history;
mod hub;
pub mod idempotency;
#[cfg(feature = "inspect")]
pub mod inspect;
mod json_text;
mod member;
pub mod metrics;
mod nested;
mod pattern;
pub mod presence;
mod realtime;
pub mod schema;
mod schema_probe;
mod shared;
pub mod subscription;
mod totals;
mod typed_schema;
mod uri;
mod util;

mod private;

#[doc(hidden)]
pub use private::exports as __private;

pub use channel::{Channel, ChannelName, DEFAULT_CHANNEL};
pub use cursor::{Cursor, CursorParseError, Position};
pub use envelope::{Delivery, Envelope, FrameFormat};
pub use error::{DecodeError, Error, Result, SchemaViolation, UnknownEvent};
pub use events::{EventKind, Events, KindFilter};
pub use history::History;
pub use nested::Nested;
pub use presence::{
    DEFAULT_PRESENCE_TTL, Member, NoPresence, Presence, PresenceChange, PresenceChanges,
    PresenceGuard, PresenceInfo, PresenceKind,
};
pub use realtime::{DEFAULT_FANOUT_CAPACITY, Realtime, RealtimeBuilder, Stats};
#[cfg(feature = "derive")]
pub use realtime_macros::Events;
pub use schema::{EventDefinition, EventSchema};
pub use subscription::{Deliveries, SubscribeBuilder, Subscription};
