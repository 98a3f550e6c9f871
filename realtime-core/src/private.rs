//! Support for the code `#[derive(Events)]` generates, by role: `codec` (event data to
//! and from JSON), `schema` (event definitions) and `names` (name lists and the
//! unknown-name error). The generated code names these items through `exports`, which
//! the crate root re-exports as `realtime_core::__private`; the crate's own code uses the
//! role modules.

pub(crate) mod codec;
pub(crate) mod names;
pub(crate) mod schema;

/// The paths the generated code names (`::realtime_core::__private::...`). Not a public
/// API: it may change in any release, which is why realtime-core depends on the exact
/// version of realtime-macros.
pub mod exports {
    pub use schemars;
    pub use serde;
    pub use serde_json;

    pub use super::codec::{
        decode_data, decode_data_json, decode_unit, decode_unit_json, deserialize_kind,
    };
    pub use super::names::{assert_distinct_names, concat_names, unknown_event};
    pub use super::schema::{definition_of, definition_with, unit_definition};
    pub use crate::presence::{NoPresence, PresenceChange, PresenceKind, PresenceVariant};
    pub use crate::schema_probe::{AnySchema, AnyWrapping, OptionField, OptionInner, SchemaProbe};
}
