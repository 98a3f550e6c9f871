//! What the code `#[derive(Events)]` generates calls for the schema of a type it sees in
//! the event enum: schemars' own, made more precise where the derive knows more (a map's
//! key type, `url::Url`, a decimal that reads numbers), also inside the wrappers it can see
//! (`Option<HashMap<Uuid, Vec<Url>>>`).
//!
//! The derive reads types by their names, so each step is checked against the type
//! itself: [`SchemaProbe<T>`] has inherent methods only for the real types (`url::Url`,
//! `std`'s maps and wrappers), which win over the fallbacks [`AnySchema`] and
//! [`AnyWrapping`] where they apply; a type of the app's own that is only called `Url` or
//! `Vec` gets schemars' schema of it.
//!
//! For a wrapper the derive passes a type `I` of its own whose schema is the probed one of
//! the wrapper's inner type: the wrapper's schema is schemars' for the wrapper of `I`
//! (`Vec<I>`, `Option<I>`, `TypedKeys<HashMap<K, I>>`), so its shape is schemars' own.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Value, json};

use crate::typed_schema::{ACCEPTS_KEYWORD, TypedKeys, WhatwgUrl};

/// The schema of `T` for the derive's generated code: see the module's docs.
#[doc(hidden)]
#[derive(Debug)]
pub struct SchemaProbe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> SchemaProbe<T> {
    #[doc(hidden)]
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for SchemaProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: JsonSchema, V: JsonSchema, S> SchemaProbe<HashMap<K, V, S>> {
    #[doc(hidden)]
    pub fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<TypedKeys<HashMap<K, V, S>>>()
    }
}

// The inner type of a wrapper is not bound: the derive describes it as `I` (a `url::Url`
// has no schemars schema of its own).
impl<K: JsonSchema, V, S> SchemaProbe<HashMap<K, V, S>> {
    /// The map with values of the schema `I`.
    #[doc(hidden)]
    pub fn wrapping<I: JsonSchema>(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<TypedKeys<HashMap<K, I, S>>>()
    }
}

impl<K: JsonSchema, V: JsonSchema> SchemaProbe<BTreeMap<K, V>> {
    #[doc(hidden)]
    pub fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<TypedKeys<BTreeMap<K, V>>>()
    }
}

impl<K: JsonSchema, V> SchemaProbe<BTreeMap<K, V>> {
    /// The map with values of the schema `I`.
    #[doc(hidden)]
    pub fn wrapping<I: JsonSchema>(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<TypedKeys<BTreeMap<K, I>>>()
    }
}

impl SchemaProbe<url::Url> {
    #[doc(hidden)]
    pub fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<WhatwgUrl>()
    }
}

impl<T> SchemaProbe<Option<T>> {
    /// `Option<I>`, with what `I` reads (`x-accepts`) made to admit `null` too.
    #[doc(hidden)]
    pub fn wrapping<I: JsonSchema>(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<Option<OptionInner<I>>>()
    }
}

/// The wrappers whose schema is schemars' of the same wrapper of `I`.
macro_rules! wrapping {
    ($([$($generics:tt)*] $wrapper:ty => $wrapped:ty;)*) => {$(
        impl<$($generics)*> SchemaProbe<$wrapper> {
            /// The same wrapper of the schema `I`.
            #[doc(hidden)]
            pub fn wrapping<I: JsonSchema>(&self, generator: &mut SchemaGenerator) -> Schema {
                generator.subschema_for::<$wrapped>()
            }
        }
    )*};
}

wrapping! {
    [T] Vec<T> => Vec<I>;
    [T] VecDeque<T> => VecDeque<I>;
    [T] BTreeSet<T> => BTreeSet<I>;
    [T, S] HashSet<T, S> => HashSet<I, S>;
    [T: ?Sized] Box<T> => Box<I>;
    [T: ?Sized] Rc<T> => Rc<I>;
    [T: ?Sized] Arc<T> => Arc<I>;
}

/// The fallback of [`SchemaProbe::schema`]: the schema schemars gives `T`; in the schema
/// of what is written, with `x-accepts` beside it when `T` reads more than it writes (a
/// `rust_decimal::Decimal` is written as a string and read from a string or a number).
#[doc(hidden)]
pub trait AnySchema {
    #[doc(hidden)]
    fn schema(&self, generator: &mut SchemaGenerator) -> Schema;
}

impl<T: JsonSchema + ?Sized> AnySchema for SchemaProbe<T> {
    fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<T>();
        if *generator.contract() == Contract::Serialize {
            if let Some(reader) = reader_schema::<T>().filter(|reader| *reader != schema) {
                schema.insert(ACCEPTS_KEYWORD.to_owned(), reader.to_value());
            }
        }
        schema
    }
}

/// The fallback of the `wrapping` methods, for a type that is only named like a wrapper:
/// its own schema, as [`AnySchema`] gives it.
#[doc(hidden)]
pub trait AnyWrapping {
    #[doc(hidden)]
    fn wrapping<I: JsonSchema>(&self, generator: &mut SchemaGenerator) -> Schema;
}

impl<T: JsonSchema + ?Sized> AnyWrapping for SchemaProbe<T> {
    fn wrapping<I: JsonSchema>(&self, generator: &mut SchemaGenerator) -> Schema {
        AnySchema::schema(self, generator)
    }
}

/// The type of the schema of a field of type `Option<T>` whose `T` the derive describes
/// as `I`: `Option<..>` itself, so that schemars reads the field as optional where serde
/// does (a missing field is `None`).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "#[derive(Events)] reads a field type named `Option` as `core::option::Option`, and this `Option` is another type",
    label = "not `core::option::Option`: a type of the app's own",
    note = "rename the type, or name the field's schema with #[schemars(with = \"...\")]"
)]
pub trait OptionField<I> {
    #[doc(hidden)]
    type Schema: JsonSchema;
}

impl<T, I: JsonSchema> OptionField<I> for Option<T> {
    type Schema = Option<OptionInner<I>>;
}

/// The schema `I` of the `T` inside an `Option<T>`, where what it reads (`x-accepts`)
/// also admits `null`: schemars merges the two into one schema
/// (`{"type": ["string", "null"]}`), so what `I` reads alone would refuse the `null`s
/// history holds.
#[doc(hidden)]
#[derive(Debug)]
pub struct OptionInner<I: ?Sized>(PhantomData<I>);

impl<I: JsonSchema> JsonSchema for OptionInner<I> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        I::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Owned(format!("realtime_core::OptionInner<{}>", I::schema_id()))
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<I>();
        if let Some(reader) = schema.remove(ACCEPTS_KEYWORD) {
            schema.insert(ACCEPTS_KEYWORD.to_owned(), admit_null(reader));
        }
        schema
    }
}

/// The schema `reader` that also admits `null`.
fn admit_null(mut reader: Value) -> Value {
    if let Some(object) = reader.as_object_mut() {
        match object.get_mut("type") {
            Some(Value::Array(types)) => {
                if !types.iter().any(|name| name == "null") {
                    types.push("null".into());
                }
                return reader;
            }
            Some(Value::String(name)) if name != "null" => {
                let name = std::mem::take(name);
                object.insert("type".to_owned(), json!([name, "null"]));
                return reader;
            }
            Some(_) => return reader,
            None => {}
        }
    }
    json!({ "anyOf": [reader, { "type": "null" }] })
}

/// The schema of what `T` reads (schemars' deserialize contract), when it stands alone:
/// `None` for a type whose schema is, or refers to, a shared definition.
fn reader_schema<T: JsonSchema + ?Sized>() -> Option<Schema> {
    if !T::inline_schema() {
        return None;
    }
    let mut generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .with_transform(crate::pattern::EcmaEscapes)
        .into_generator();
    let schema = generator.subschema_for::<T>();
    let refers = serde_json::to_string(&schema).map_or(true, |text| text.contains("\"$ref\""));
    (generator.definitions().is_empty() && !refers).then_some(schema)
}
