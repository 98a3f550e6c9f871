//! The contract between an app's event enum and the framework.
//!
//! `#[derive(Events)]` implements [`Events`] for the enum and generates its kind enum, which
//! implements [`EventKind`]. Hand-written implementations are possible but unusual.

use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::str::FromStr;

use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{DecodeError, UnknownEvent};
use crate::member::PresenceChange;
use crate::schema::{EventDefinition, EventSchema};

/// An app's set of realtime events: one enum variant per event name.
///
/// Derive it with `#[derive(Events)]`; see the crate documentation for the attributes.
///
/// The data of an event is the JSON that travels on the wire and is stored in history:
/// `null` for a unit variant, the inner value for a newtype variant and an object of the
/// fields for a struct-like variant.
pub trait Events: Sized + Clone + Send + Sync + 'static {
    /// The fieldless kind enum of these events (`AppEventKind` for `AppEvent`).
    type Kind: EventKind;

    /// The info of a channel's presence members: the `Info` of the enum's
    /// `#[event(presence)] Presence(PresenceChange<Info>)` variant, or
    /// [`NoPresence`](crate::NoPresence) when it has none.
    type Presence: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;

    /// Whether the enum has an `#[event(presence)]` variant: the events `presence.joined`
    /// and `presence.left`, written by [`Presence`](crate::Presence).
    const DECLARES_PRESENCE: bool = false;

    /// The Rust name of the enum, used as the title of its schema.
    const TYPE_NAME: &'static str;

    /// Every event name, in declaration order, flattened enums included.
    const NAMES: &'static [&'static str];

    /// The kind of this event.
    fn kind(&self) -> Self::Kind;

    /// The event name, e.g. `"chat.message"`.
    fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The presence change this event is, when it is `presence.joined` or
    /// `presence.left` of the enum's `#[event(presence)]` variant.
    fn presence_change(&self) -> Option<&PresenceChange<Self::Presence>> {
        None
    }

    /// Serializes the event's data with `serializer`: what the derive generates, and what
    /// [`to_data_json`](Events::to_data_json) and [`to_data`](Events::to_data) call.
    ///
    /// # Errors
    /// When a `Serialize` implementation of the data fails (e.g. a map with non-string keys).
    fn serialize_data<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;

    /// The event's data as compact JSON text, written straight from the Rust value: fields
    /// in declaration order, numbers as serde_json formats them (an `f32` 0.1 is `0.1`).
    /// This is the text an emit stores and every subscriber receives.
    ///
    /// # Errors
    /// When a `Serialize` implementation of the data fails (e.g. a map with non-string keys).
    fn to_data_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&DataOf(self))
    }

    /// The event's data as a JSON value. Object keys of a `Value` are sorted and an `f32`
    /// is widened to `f64` (0.1 becomes 0.10000000149011612): for the text on the wire,
    /// use [`to_data_json`](Events::to_data_json).
    ///
    /// # Errors
    /// When a `Serialize` implementation of the data fails (e.g. a map with non-string keys).
    fn to_data(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(DataOf(self))
    }

    /// Decodes an event from its name and JSON data.
    ///
    /// # Errors
    /// [`DecodeError::UnknownEvent`] when `event` is not one of [`Events::NAMES`];
    /// [`DecodeError::InvalidData`] with the JSON path when the data does not deserialize.
    fn from_data(event: &str, data: Value) -> Result<Self, DecodeError>;

    /// Decodes an event from its name and its data as JSON text: what history and live
    /// delivery read. The derive reads the text straight into the Rust types, because a
    /// [`Value`] holds no integer beyond 64 bits (a `u128` above `u64::MAX` would become an
    /// `f64` and fail to decode); this default goes through [`from_data`](Events::from_data).
    ///
    /// # Errors
    /// As [`from_data`](Events::from_data); [`DecodeError::InvalidData`] when `data` is not
    /// JSON.
    fn from_data_json(event: &str, data: &str) -> Result<Self, DecodeError> {
        let Some(kind) = Self::Kind::from_name(event) else {
            return Err(DecodeError::UnknownEvent(
                crate::private::names::unknown_event(event, Self::NAMES),
            ));
        };
        let value = crate::private::codec::parse_data(kind.name(), data)?;
        Self::from_data(event, value)
    }

    /// Appends the definition of every event (flattened enums included) to `out`, using one
    /// generator so that shared types land once in its definitions (`$defs`).
    fn describe(generator: &mut schemars::SchemaGenerator, out: &mut Vec<EventDefinition>);

    /// The schema of every event's data, with shared `$defs`.
    fn schema() -> EventSchema {
        EventSchema::of::<Self>()
    }
}

/// The data of an event as a `Serialize` value.
pub(crate) struct DataOf<'a, E>(pub(crate) &'a E);

impl<E: Events> Serialize for DataOf<'_, E> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_data(serializer)
    }
}

/// The fieldless, `Copy` enum naming the events of an [`Events`] type.
///
/// Its `Display`, `FromStr` and serde forms are the event name, so a subscription filter
/// written with it cannot contain a misspelled event.
pub trait EventKind:
    Copy
    + Eq
    + Ord
    + Hash
    + Debug
    + Display
    + FromStr<Err = UnknownEvent>
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Every kind, in declaration order; `ALL[k.index()] == k`.
    const ALL: &'static [Self];

    /// The event name, e.g. `"chat.message"`.
    fn name(self) -> &'static str;

    /// The position of this kind in [`EventKind::ALL`].
    fn index(self) -> usize;

    /// The kind with this event name, if any.
    fn from_name(name: &str) -> Option<Self>;
}

/// A set of event kinds, used to filter a subscription.
///
/// Matching is a bit test by [`EventKind::index`], so filtering costs the same whatever
/// the number of kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindFilter {
    words: Box<[u64]>,
}

impl KindFilter {
    /// A filter that lets every event of `K` through.
    pub fn all<K: EventKind>() -> Self {
        Self::of(K::ALL.iter().copied())
    }

    /// A filter that lets exactly these kinds through.
    pub fn of<K: EventKind>(kinds: impl IntoIterator<Item = K>) -> Self {
        let mut words = vec![0u64; K::ALL.len().div_ceil(64)].into_boxed_slice();
        for kind in kinds {
            let index = kind.index();
            if let Some(word) = words.get_mut(index / 64) {
                *word |= 1 << (index % 64);
            }
        }
        Self { words }
    }

    /// Whether the kind at `index` passes.
    pub fn contains_index(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Whether `kind` passes.
    pub fn contains<K: EventKind>(&self, kind: K) -> bool {
        self.contains_index(kind.index())
    }

    /// Whether no kind passes.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|word| *word == 0)
    }
}

/// The constructors of [`EventSchema`] live with the trait they read, so that the schema
/// model (`schema.rs`) stays a leaf that knows nothing of event sets.
impl EventSchema {
    /// The schema of what `E` writes: the JSON its events serialize to, as consumers
    /// (browsers, other services, generated types) receive it. An `Option` field that is
    /// always written is required and nullable; one with `skip_serializing_if` is optional.
    pub fn of<E: Events>() -> Self {
        Self::with_settings::<E>(SchemaSettings::draft2020_12().for_serialize())
    }

    /// The schema of what `E` accepts: the JSON its events deserialize from. Validation of
    /// input uses it, so that what serde would accept (a missing `Option` field, a field
    /// with `#[serde(default)]`) is not refused.
    pub fn accepted_by<E: Events>() -> Self {
        Self::with_settings::<E>(SchemaSettings::draft2020_12().for_deserialize())
    }

    /// Builds the schema with one generator, so shared types appear once.
    fn with_settings<E: Events>(settings: SchemaSettings) -> Self {
        let mut generator = settings
            .with_transform(crate::pattern::EcmaEscapes)
            .into_generator();
        let mut events = Vec::with_capacity(E::NAMES.len());
        E::describe(&mut generator, &mut events);
        for event in &mut events {
            // Definitions get the generator's transforms; an event's own data schema not.
            schemars::transform::Transform::transform(
                &mut crate::pattern::EcmaEscapes,
                &mut event.data,
            );
        }
        let definitions = generator.take_definitions(true);
        Self {
            title: E::TYPE_NAME,
            events,
            definitions,
        }
    }
}
