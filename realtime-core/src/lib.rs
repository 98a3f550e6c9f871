//! Typed realtime events for web apps.

pub mod backend;
pub mod channel;
pub mod cursor;
pub mod error;
pub mod events;
pub mod schema;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use cursor::{Cursor, CursorParseError, Position};
pub use error::{DecodeError, Error, Result, SchemaViolation, UnknownEvent};
pub use events::{EventKind, Events, KindFilter};
#[cfg(feature = "derive")]
pub use realtime_macros::Events;
pub use schema::{EventDefinition, EventSchema};
