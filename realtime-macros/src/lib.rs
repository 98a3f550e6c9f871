//! `#[derive(Events)]`: see `realtime-core` for the documentation.
//!
//! The pipeline is visible from the file names: `ast` parses the input into a small typed
//! model (with `attr` for the attributes, `errors` collecting what is wrong), `valid` checks
//! every rule, and `expand` writes the generated code (or, when the input is refused,
//! `expand::fallback` writes the errors next to a stub of that code).

mod ast;
mod attr;
mod errors;
mod expand;
mod pattern;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `realtime_core::Events` for an enum of events, and generates its kind enum
/// (`AppEventKind` for `AppEvent`).
///
/// The enum must have at least one variant, no generic or lifetime parameters and no
/// explicit discriminants. Each variant is one event; its data is:
///
/// - a unit variant (`Reset`): `null`;
/// - a newtype variant (`Alert(String)`): the inner value, which must implement
///   `Serialize`, `DeserializeOwned` and `JsonSchema`; attributes on the inner field are
///   refused (put them on the type, or use named fields);
/// - a struct-like variant (`Joined { id: String }`): an object of its fields; its schema is
///   a named definition, `#/$defs/<Enum><Variant>` (e.g. `AppEventJoined`);
/// - `#[event(flatten)]` on a newtype variant whose type also derives `Events`: the events
///   of that enum, with their own names, in place.
///
/// Tuple variants with several fields are refused: use named fields.
///
/// # Enum attributes
///
/// - `#[events(namespace = "chat")]`: the namespace of the names derived from the variant
///   idents (`RunFinished` becomes `chat.runFinished`). Without it every variant needs
///   `#[event("...")]` (or `#[event(flatten)]`).
/// - `#[events(rename_all = "...")]`: how a variant ident becomes the last segment of a
///   derived name: `"camelCase"` (the default), `"snake_case"`, `"kebab-case"`,
///   `"PascalCase"`, `"SCREAMING_SNAKE_CASE"`, `"SCREAMING-KEBAB-CASE"`, `"lowercase"` or
///   `"UPPERCASE"`.
///
/// # Variant attributes
///
/// - `#[event("notification.alert")]`: the event name; it wins over a derived name.
/// - `#[event(flatten)]`: include the events of the inner enum (newtype variants only; it
///   takes no name).
/// - `#[event(presence)]` on `Presence(realtime_core::PresenceChange<Info>)`: declares
///   presence, the framework's events `presence.joined` and `presence.left` with the
///   member record (`{"member": id, "info": Info}`) as data, and `Info` as the
///   `Events::Presence` type. At most one per enum; no own name `presence` or `presence.*`
///   beside it; not in an enum included with `#[event(flatten)]`. Without it,
///   `Events::Presence` is `realtime_core::NoPresence`.
/// - doc comments: the event's description in the schema (lines trimmed, joined with
///   `\n`); on a struct-like variant also the description of its data definition.
/// - on struct-like variants only: `#[serde(rename_all = "...")]` and
///   `#[serde(deny_unknown_fields)]` apply to the data object, and `#[schemars(...)]`
///   (e.g. `#[schemars(rename = "UserProfile")]` to name its definition), `#[validate(...)]`
///   and `#[garde(...)]` to its schema. `#[serde(rename)]`, `alias`, `skip` and the other
///   serde variant attributes are refused: the name comes from `#[event("...")]`.
///
/// # Field attributes (struct-like variants)
///
/// Fields keep their `#[serde(...)]` attributes (`rename`, `default`,
/// `skip_serializing_if`, `with`, `serialize_with`, `deserialize_with`, `flatten`, ...),
/// their `#[schemars(...)]`, `#[validate(...)]` and `#[garde(...)]` constraints (e.g.
/// `#[schemars(length(max = 280))]`, `range(...)`, `regex(pattern = ...)`, `email`) and
/// their doc comments (property descriptions), exactly as on a struct deriving `Serialize`,
/// `Deserialize` and `JsonSchema`. The data cannot hold the enum itself (`Self` or its name):
/// write `realtime_core::Nested<Enum>` (boxed outside a collection) to carry its events.
///
/// # Names
///
/// An event name (explicit or derived) and a namespace are one or more segments of ASCII
/// letters, digits, `_` or `-`, joined by `.`. Names must be distinct, and a name cannot
/// also be the namespace of another (`a.b` and `a.b.c`); both are checked at compile time,
/// across flattened enums too.
///
/// # Generated items
///
/// - `enum <Enum>Kind` (same visibility): one fieldless variant per event, and
///   `Variant(<Inner as Events>::Kind)` per flattened variant; `Copy`, `Eq`, `Ord`, `Hash`,
///   `Debug`; `Display`, `FromStr` and serde as the event name; inherent `ALL`, `name()` and
///   `index()`, and `realtime_core::EventKind`.
/// - `impl realtime_core::Events for <Enum>` (with `type Presence`, and with a presence
///   variant `DECLARES_PRESENCE` and `presence_change`).
///
/// The generated code needs no `serde` or `schemars` dependency in the user's crate.
///
/// # Errors
///
/// Every rule the input breaks is reported at once, each error spanned at the offending
/// token and saying what to write instead. The kind enum and the impl are then still
/// generated as stubs, so that code using them adds no errors of its own.
#[proc_macro_derive(Events, attributes(event, events, serde, schemars, validate, garde))]
pub fn derive_events(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
