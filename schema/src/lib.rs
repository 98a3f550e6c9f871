//! Tooling for the schema document of a realtime event set (`EventSchema::document()`):
//! TypeScript/zod code generation, a compatibility diff and the `realtime-schema` CLI.
//!
//! ```no_run
//! use realtime_schema::{Document, ts};
//!
//! let document = Document::read("schema/app-event.json".as_ref())?;
//! let generated = ts::generate(&document, &ts::Options::default())?;
//! realtime_schema::write_atomic("web/src/events.ts".as_ref(), &generated.code)?;
//! # Ok::<(), realtime_schema::Error>(())
//! ```

pub mod asyncapi;
pub mod check;
pub mod diff;
pub mod error;
pub mod model;
mod output;
pub mod rust;
pub mod ts;
pub mod warning;

pub use error::{Error, Result};
pub use model::{Document, Event, Kind, Schema};
pub use output::write_atomic;
pub use warning::Warning;
