//! The definition of each event in the schema: its name, description and data schema.

use crate::schema::EventDefinition;

/// The definition of an event whose data is `T`.
pub fn definition_of<T: schemars::JsonSchema + ?Sized>(
    generator: &mut schemars::SchemaGenerator,
    name: &'static str,
    description: Option<&'static str>,
) -> EventDefinition {
    EventDefinition {
        name,
        description: description.map(str::to_owned),
        data: generator.subschema_for::<T>(),
    }
}

/// The definition of an event whose data has the schema `data` (the derive's, through
/// [`SchemaProbe`](crate::__private::SchemaProbe), for a type it describes itself).
pub fn definition_with(
    name: &'static str,
    description: Option<&'static str>,
    data: schemars::Schema,
) -> EventDefinition {
    EventDefinition {
        name,
        description: description.map(str::to_owned),
        data,
    }
}

/// The definition of an event without data (`null`).
pub fn unit_definition(name: &'static str, description: Option<&'static str>) -> EventDefinition {
    EventDefinition {
        name,
        description: description.map(str::to_owned),
        data: schemars::json_schema!({ "type": "null" }),
    }
}
