//! The corpus: real `#[derive(Events)]` enums whose schemas exercise every construct the
//! generators support, with sample events (valid, produced by Rust) and invalid payloads.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::{NonZeroI32, NonZeroU32};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use realtime_core::{Events, Realtime};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

/// A chat message, shared by two events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Who wrote it.
    pub user_id: String,
    #[schemars(length(min = 1, max = 280))]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// Externally tagged (serde's default): unit, newtype, struct and tuple variants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Empty,
    Circle(f64),
    Rect { width: f64, height: f64 },
    Segment(i32, i32),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Target {
    pub id: String,
}

/// Internally tagged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    Start,
    MoveTo { x: i32, y: i32 },
    Select(Target),
}

/// Adjacently tagged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", content = "value", rename_all = "lowercase")]
pub enum Change {
    Set(String),
    Clear,
    Range { from: u32, to: u32 },
}

/// Untagged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    Flag(bool),
    Count(i64),
    Text(String),
}

/// A string enum.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
}

/// A string enum whose variants are documented: schemars writes a `oneOf` of `const`s.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mood {
    /// All is well.
    Calm,
    /// Something needs attention.
    Busy,
}

/// Untagged, with a struct inside: the struct's Rust name is not on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Locator {
    Target(Target),
    Path { path: String },
}

/// String formats, one optional field each; each of `format_probes` sets one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FormatProbe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(email)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url)]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uuid"))]
    pub uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date"))]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "time"))]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naive_time: Option<NaiveTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naive_date_time: Option<NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    // Patterns where Rust's regex dialect and ECMA-262's differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"\bend$"))]
    pub word_end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(\w)\1$"))]
    pub twin_word: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(\d)\1$"))]
    pub twin_digit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\p{L}[\p{L}\p{M}' -]*$"))]
    pub letters: Option<String>,
    /// schemars escapes the text with Rust's escaping (`a\-b\#`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(contains(pattern = "a-b#"))]
    pub marked: Option<String>,
}

/// A single value: a `const`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum Version {
    #[serde(rename = "v1")]
    V1,
}

/// A recursive type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TreeNode {
    pub label: String,
    pub children: Vec<TreeNode>,
}

/// Mutually recursive types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comment {
    pub text: String,
    pub replies: Vec<Reply>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reply {
    pub author: String,
    pub comment: Option<Box<Comment>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Audit {
    #[schemars(extend("format" = "date-time"))]
    pub at: String,
    pub by: String,
}

/// Flattened struct and flattened enum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Document {
    pub title: String,
    #[serde(flatten)]
    pub audit: Audit,
    #[serde(flatten)]
    pub change: Change,
}

/// Keys that `Object.prototype` also has: JavaScript finds an absent one there, and
/// `__proto__` in an object literal sets the prototype instead of a property.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InheritedKeys {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constructor: Option<String>,
    #[serde(default, rename = "toString", skip_serializing_if = "Option::is_none")]
    pub to_string: Option<String>,
    #[serde(default, rename = "valueOf", skip_serializing_if = "Option::is_none")]
    pub value_of: Option<u32>,
    #[serde(rename = "hasOwnProperty")]
    pub has_own_property: bool,
    #[serde(rename = "__proto__")]
    pub proto: String,
}

/// An externally tagged enum with an untagged fallback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum Reading {
    Celsius(f64),
    Kelvin(f64),
    #[serde(untagged)]
    Other(Value),
}

/// An internally tagged enum with an untagged fallback that keeps what it does not know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Command {
    Start {
        at: u32,
    },
    #[serde(untagged)]
    Other(serde_json::Map<String, Value>),
}

/// A struct with serde's `tag`: serde writes `"type": "Circle"`, which schemars leaves
/// out of the schema unless `StructTag` names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
#[schemars(transform = realtime_core::schema::StructTag::new("type", "Circle"))]
pub struct Circle {
    pub radius: f64,
}

/// PATCH-style double options: `None` leaves a field unchanged (absent), `Some(None)`
/// clears it (`null`), `Some(Some(value))` sets it.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// Sub-events included with `#[event(flatten)]`.
#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "billing")]
pub enum BillingEvent {
    /// An invoice was paid.
    InvoicePaid { invoice: String, cents: u32 },
}

/// The corpus event set.
// A test set of every shape, some of them wide (`[Url; 2]`), not a type to move around.
#[allow(clippy::large_enum_variant)]
#[derive(Events, Clone, Debug, PartialEq)]
pub enum Corpus {
    /// A notification shown to every user.
    #[event("notification.alert")]
    Alert(String),
    /// A chat message.
    #[event("chat.message")]
    Message(ChatMessage),
    /// A user joined: string formats, lengths and patterns.
    #[event("user.joined")]
    Joined {
        #[schemars(extend("format" = "uuid"))]
        id: String,
        #[schemars(email)]
        email: String,
        #[schemars(url)]
        homepage: String,
        #[schemars(extend("format" = "date-time"))]
        joined_at: String,
        #[schemars(regex(pattern = r"^[a-z0-9_]+$"))]
        handle: String,
        /// A short bio.
        #[schemars(length(max = 40))]
        bio: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avatar: Option<String>,
    },
    /// Everything was reset.
    #[event("system.reset")]
    Reset,
    /// Numbers: bounds, floats and 64-bit integers.
    #[event("metrics.sample")]
    Sample {
        count: u32,
        #[schemars(range(min = 0.0, max = 1.0))]
        ratio: f64,
        small: i8,
        #[schemars(range(min = 1, max = 10))]
        level: u8,
        delta: i64,
        total: u64,
    },
    /// Booleans and nullable values.
    #[event("metrics.flags")]
    Flags {
        enabled: bool,
        note: Option<String>,
        parent: Option<Target>,
        priority: Option<Priority>,
    },
    /// Arrays, sets, tuples, maps and arbitrary JSON.
    #[event("data.lists")]
    Lists {
        #[schemars(length(min = 1, max = 3))]
        tags: Vec<String>,
        unique: BTreeSet<u8>,
        point: (f64, f64),
        scores: BTreeMap<String, u32>,
        extra: Value,
    },
    #[event("shape.drawn")]
    Drawn(Shape),
    #[event("action.taken")]
    Taken(Action),
    #[event("change.applied")]
    Applied(Change),
    #[event("scalar.seen")]
    Seen(Scalar),
    #[event("task.prioritized")]
    Prioritized {
        priority: Priority,
        version: Version,
    },
    #[event("tree.updated")]
    Tree(TreeNode),
    #[event("comment.posted")]
    Commented(Comment),
    #[event("doc.saved")]
    Saved(Document),
    /// Unknown fields are refused.
    #[event("strict.ping")]
    #[serde(deny_unknown_fields)]
    Strict { seq: u32 },
    /// Unknown fields are kept.
    #[event("open.profile")]
    Profile {
        handle: String,
        #[serde(flatten)]
        extra: BTreeMap<String, Value>,
    },
    #[event("app.ping")]
    Ping {},
    #[event(flatten)]
    Billing(BillingEvent),
    /// Integer-keyed maps: schemars writes `patternProperties`.
    #[event("data.keyed")]
    Keyed {
        by_id: BTreeMap<u32, Target>,
        by_offset: HashMap<i64, bool>,
    },
    /// Non-zero integers: `not: {const: 0}` and `minimum: 1`.
    #[event("metrics.nonzero")]
    NonZero { step: NonZeroI32, count: NonZeroU32 },
    /// chrono's types: formats `partial-time`, `partial-date-time`, `date-time`, `date`.
    #[event("time.recorded")]
    Times {
        at: NaiveTime,
        local: NaiveDateTime,
        zoned: DateTime<FixedOffset>,
        utc: DateTime<Utc>,
        day: NaiveDate,
        until: Option<DateTime<FixedOffset>>,
    },
    /// `std::net` addresses: formats `ip`, `ipv4` and `ipv6`.
    #[event("net.seen")]
    Network {
        ip: IpAddr,
        v4: Ipv4Addr,
        v6: Ipv6Addr,
    },
    /// `uuid::Uuid`, any version.
    #[event("id.assigned")]
    Assigned { id: Uuid },
    /// Pointer-sized integers (formats `uint` and `int`), beyond 32 bits.
    #[event("metrics.sizes")]
    Sizes { len: usize, offset: isize },
    /// A `char`: a string of one character.
    #[event("text.letter")]
    Letter(char),
    #[event("mood.set")]
    MoodSet { mood: Mood },
    #[event("locate.requested")]
    Locate(Locator),
    #[event("format.probe")]
    Probe(FormatProbe),
    /// Events inside an event (the recursive case: `Nested<Self>`): `{event, data}` items,
    /// a `oneOf` per event with a `$ref` back to the event set.
    #[event("batch.replayed")]
    Replayed {
        events: Vec<realtime_core::Nested<Corpus>>,
    },
    #[event("object.inherited")]
    Inherited(InheritedKeys),
    /// `url::Url`: `format: uri`, written as the WHATWG URL Standard writes URLs.
    #[event("link.shared")]
    Link { url: Url },
    /// Untagged fallbacks, and a `Result` of a unit.
    #[event("device.read")]
    Read {
        reading: Reading,
        command: Command,
        done: Result<(), String>,
    },
    /// Integers beyond 64 bits.
    #[event("wide.id")]
    Wide { id: u128, offset: i128 },
    /// `oneOf` without a tag (`Result`), sets of maps, an `f32`.
    #[event("data.checked")]
    Checked {
        outcome: Result<u32, String>,
        groups: BTreeSet<BTreeMap<String, u32>>,
        single: f32,
    },
    /// Maps with typed keys: `propertyNames` from the key type (a UUID, an integer's exact
    /// range, one character).
    #[event("data.typed_keys")]
    TypedKeys {
        by_id: HashMap<Uuid, u32>,
        by_level: BTreeMap<u8, String>,
        by_offset: BTreeMap<i16, bool>,
        by_letter: HashMap<char, u32>,
    },
    /// A struct with serde's `tag` (`#[serde(tag = "type")]`).
    #[event("shape.tagged")]
    Tagged(Circle),
    /// A decimal: written as a string, read from a string or a number (`x-accepts`).
    #[event("price.set")]
    Priced { amount: rust_decimal::Decimal },
    /// Typed keys, URLs and a decimal inside wrappers: the derive carries `propertyNames`,
    /// `x-whatwg-url` and `x-accepts` through `Option`, `Vec`, `Box`, sets, arrays, tuples
    /// and map values.
    #[event("data.nested_typed")]
    NestedTyped {
        maybe_ids: Option<HashMap<Uuid, u32>>,
        links: Vec<Url>,
        maybe_link: Option<Url>,
        maybe_levels: Option<BTreeMap<u8, String>>,
        deep: Option<HashMap<Uuid, Vec<Url>>>,
        pair: [Url; 2],
        tagged: (u32, Url),
        boxed: Box<Url>,
        set: BTreeSet<Url>,
        maybe_price: Option<rust_decimal::Decimal>,
    },
    /// The data of a newtype variant: a map with UUID keys and lists of URLs, optional.
    #[event("data.nested_keys")]
    NestedKeys(Option<HashMap<Uuid, Vec<Url>>>),
    /// The data of a newtype variant: a map with `u8` keys (typify panics on it: the Rust
    /// codegen types it `serde_json::Value` and says so).
    #[event("data.small_keys")]
    SmallKeys(BTreeMap<u8, String>),
    /// A double option: `null` clears the nickname, an absent one leaves it.
    #[event("profile.patched")]
    Patched {
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "double_option"
        )]
        #[schemars(with = "Option<String>")]
        nickname: Option<Option<String>>,
        age: u8,
    },
}

fn tree() -> TreeNode {
    TreeNode {
        label: "root".into(),
        children: vec![TreeNode {
            label: "leaf".into(),
            children: vec![],
        }],
    }
}

/// Sample events of every form: their `to_data()` must be accepted by every generated
/// validator and must round-trip through generated types.
pub fn samples() -> Vec<Corpus> {
    vec![
        Corpus::Alert("Maintenance at noon".into()),
        Corpus::Replayed {
            events: vec![
                realtime_core::Nested(Corpus::Alert("again".into())),
                realtime_core::Nested(Corpus::Letter('x')),
                realtime_core::Nested(Corpus::Replayed { events: vec![] }),
            ],
        },
        Corpus::Message(ChatMessage {
            user_id: "u1".into(),
            text: "hi".into(),
            reply_to: None,
        }),
        Corpus::Message(ChatMessage {
            user_id: "u2".into(),
            text: "hello".into(),
            reply_to: Some("m1".into()),
        }),
        // 280 characters, 560 UTF-16 units: lengths count characters.
        Corpus::Message(ChatMessage {
            user_id: "u3".into(),
            text: "😀".repeat(280),
            reply_to: None,
        }),
        Corpus::Joined {
            id: "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f".into(),
            email: "ada@example.com".into(),
            homepage: "https://example.com/ada".into(),
            joined_at: "2024-05-01T12:30:00Z".into(),
            handle: "ada_l".into(),
            bio: "Engines.".into(),
            avatar: None,
        },
        Corpus::Reset,
        Corpus::Sample {
            count: 7,
            ratio: 0.25,
            small: -3,
            level: 10,
            delta: -9_000_000_000,
            total: 42,
        },
        Corpus::Flags {
            enabled: true,
            note: None,
            parent: Some(Target { id: "t1".into() }),
            priority: Some(Priority::High),
        },
        Corpus::Flags {
            enabled: false,
            note: Some("n".into()),
            parent: None,
            priority: None,
        },
        Corpus::Lists {
            tags: vec!["a".into(), "b".into()],
            unique: BTreeSet::from([1, 2, 3]),
            point: (1.5, -2.0),
            scores: BTreeMap::from([("ada".into(), 3), ("bob".into(), 0)]),
            extra: json!({ "nested": [1, "two", null] }),
        },
        Corpus::Drawn(Shape::Empty),
        Corpus::Drawn(Shape::Circle(2.5)),
        Corpus::Drawn(Shape::Rect {
            width: 1.0,
            height: 2.0,
        }),
        Corpus::Drawn(Shape::Segment(-1, 4)),
        Corpus::Taken(Action::Start),
        Corpus::Taken(Action::MoveTo { x: 1, y: -2 }),
        Corpus::Taken(Action::Select(Target { id: "t9".into() })),
        Corpus::Applied(Change::Set("x".into())),
        Corpus::Applied(Change::Clear),
        Corpus::Applied(Change::Range { from: 1, to: 5 }),
        Corpus::Seen(Scalar::Flag(true)),
        Corpus::Seen(Scalar::Count(-5)),
        Corpus::Seen(Scalar::Text("t".into())),
        Corpus::Prioritized {
            priority: Priority::Low,
            version: Version::V1,
        },
        Corpus::Tree(tree()),
        Corpus::Commented(Comment {
            text: "top".into(),
            replies: vec![Reply {
                author: "bob".into(),
                comment: Some(Box::new(Comment {
                    text: "inner".into(),
                    replies: vec![],
                })),
            }],
        }),
        Corpus::Saved(Document {
            title: "Plan".into(),
            audit: Audit {
                at: "2024-05-01T10:30:00Z".into(),
                by: "ada".into(),
            },
            change: Change::Range { from: 2, to: 3 },
        }),
        Corpus::Strict { seq: 1 },
        Corpus::Profile {
            handle: "ada".into(),
            extra: BTreeMap::from([("theme".into(), json!("dark"))]),
        },
        Corpus::Ping {},
        Corpus::Billing(BillingEvent::InvoicePaid {
            invoice: "i1".into(),
            cents: 990,
        }),
        // A local email address and a URN, as the server's validator accepts them.
        Corpus::Joined {
            id: "00000000-0000-0000-0000-000000000001".into(),
            email: "ops@localhost".into(),
            homepage: "urn:isbn:0451450523".into(),
            joined_at: "2024-05-01T12:30:00+02:00".into(),
            handle: "ops".into(),
            bio: String::new(),
            avatar: Some("a".into()),
        },
        Corpus::Keyed {
            by_id: BTreeMap::from([
                (1, Target { id: "t1".into() }),
                (4_000_000_000, Target { id: "t2".into() }),
            ]),
            by_offset: HashMap::from([(-5, true), (7, false)]),
        },
        Corpus::NonZero {
            step: NonZeroI32::new(-3).unwrap(),
            count: NonZeroU32::new(2).unwrap(),
        },
        Corpus::Times {
            at: NaiveTime::from_hms_milli_opt(12, 30, 5, 250).unwrap(),
            local: NaiveDate::from_ymd_opt(2024, 5, 1)
                .unwrap()
                .and_hms_opt(12, 30, 0)
                .unwrap(),
            zoned: FixedOffset::east_opt(2 * 3600)
                .unwrap()
                .with_ymd_and_hms(2024, 5, 1, 12, 30, 0)
                .unwrap(),
            utc: Utc.with_ymd_and_hms(2024, 5, 1, 10, 30, 0).unwrap(),
            day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            until: None,
        },
        Corpus::Times {
            at: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            local: NaiveDate::from_ymd_opt(1999, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 123_456_789)
                .unwrap(),
            zoned: FixedOffset::west_opt(5 * 3600 + 1800)
                .unwrap()
                .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                .unwrap(),
            utc: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            day: NaiveDate::from_ymd_opt(2023, 12, 31).unwrap(),
            until: Some(
                FixedOffset::east_opt(9 * 3600)
                    .unwrap()
                    .with_ymd_and_hms(2025, 6, 30, 18, 0, 0)
                    .unwrap(),
            ),
        },
        Corpus::Network {
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            v4: Ipv4Addr::LOCALHOST,
            v6: Ipv6Addr::LOCALHOST,
        },
        Corpus::Network {
            ip: "2001:db8::1".parse().unwrap(),
            v4: Ipv4Addr::new(192, 0, 2, 1),
            v6: "::ffff:192.0.2.1".parse().unwrap(),
        },
        // Version nibbles 0 (nil-like), 8 and 4, and the max UUID.
        Corpus::Assigned {
            id: Uuid::from_u128(1),
        },
        Corpus::Assigned { id: Uuid::nil() },
        Corpus::Assigned {
            id: "6f1c2f4e-8a1b-8c3d-9e2f-0a1b2c3d4e5f".parse().unwrap(),
        },
        Corpus::Assigned {
            id: "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f".parse().unwrap(),
        },
        Corpus::Assigned { id: Uuid::max() },
        Corpus::Sizes {
            len: 5_000_000_000,
            offset: -5_000_000_000,
        },
        Corpus::Letter('a'),
        Corpus::Letter('😀'),
        Corpus::MoodSet { mood: Mood::Busy },
        Corpus::Locate(Locator::Target(Target { id: "t3".into() })),
        Corpus::Locate(Locator::Path { path: "/a".into() }),
        Corpus::Probe(FormatProbe::default()),
        Corpus::Probe(FormatProbe {
            letters: Some("Zo\u{eb} d'Arc".into()),
            word_end: Some("the end".into()),
            ..FormatProbe::default()
        }),
        Corpus::Read {
            reading: Reading::Celsius(21.5),
            command: Command::Start { at: 3 },
            done: Ok(()),
        },
        Corpus::Read {
            reading: Reading::Other(json!("n/a")),
            command: Command::Other(serde_json::Map::from_iter([("op".into(), json!("stop"))])),
            done: Err("jammed".into()),
        },
        Corpus::Read {
            reading: Reading::Other(Value::Null),
            command: Command::Other(serde_json::Map::new()),
            done: Ok(()),
        },
        // Within 64 bits: a sample goes through `serde_json::Value` (see rust_roundtrip.rs).
        Corpus::Wide {
            id: u128::from(u64::MAX),
            offset: i128::from(i64::MIN),
        },
        Corpus::Checked {
            outcome: Ok(1),
            groups: BTreeSet::from([
                BTreeMap::from([("a".into(), 1), ("b".into(), 2)]),
                BTreeMap::from([("a".into(), 2)]),
            ]),
            single: 0.5,
        },
        Corpus::Checked {
            outcome: Err("e".into()),
            groups: BTreeSet::new(),
            single: f32::MAX,
        },
        // What the url crate writes, which RFC 3986 alone refuses.
        Corpus::Link {
            url: Url::parse("https://shop.example.com/list?ids[]=1&ids[]=2").unwrap(),
        },
        Corpus::Link {
            url: Url::parse("https://example.com/?q={x}&filter=a|b").unwrap(),
        },
        Corpus::Link {
            url: Url::parse("https://example.com/items[1]/x%5Ey").unwrap(),
        },
        Corpus::Link {
            url: Url::parse("data:text/plain,hello world").unwrap(),
        },
        Corpus::TypedKeys {
            by_id: HashMap::from([(Uuid::nil(), 1), (Uuid::max(), 2)]),
            by_level: BTreeMap::from([(0, "zero".into()), (9, "nine".into()), (255, "top".into())]),
            by_offset: BTreeMap::from([
                (i16::MIN, true),
                (-1, false),
                (0, true),
                (i16::MAX, false),
            ]),
            by_letter: HashMap::from([('a', 1), ('\u{e9}', 2), ('\u{1f600}', 3)]),
        },
        Corpus::TypedKeys {
            by_id: HashMap::new(),
            by_level: BTreeMap::new(),
            by_offset: BTreeMap::new(),
            by_letter: HashMap::new(),
        },
        Corpus::Tagged(Circle { radius: 2.5 }),
        Corpus::Priced {
            amount: rust_decimal::Decimal::new(12_345, 2),
        },
        Corpus::Patched {
            nickname: Some(None),
            age: 3,
        },
        Corpus::Patched {
            nickname: None,
            age: 3,
        },
        Corpus::Patched {
            nickname: Some(Some("ada".into())),
            age: 3,
        },
        Corpus::Priced {
            amount: rust_decimal::Decimal::new(-15, 1),
        },
        Corpus::NestedTyped {
            maybe_ids: Some(HashMap::from([(Uuid::nil(), 1), (Uuid::max(), 2)])),
            links: vec![
                Url::parse("https://example.com/?q={x}&filter=a|b").unwrap(),
                Url::parse("data:text/plain,hello world").unwrap(),
            ],
            maybe_link: Some(Url::parse("https://shop.example.com/list?ids[]=1").unwrap()),
            maybe_levels: Some(BTreeMap::from([(0, "zero".into()), (255, "top".into())])),
            deep: Some(HashMap::from([(
                Uuid::nil(),
                vec![Url::parse("https://example.com/items[1]/x%5Ey").unwrap()],
            )])),
            pair: [
                Url::parse("https://example.com/a").unwrap(),
                Url::parse("mailto:ops@localhost").unwrap(),
            ],
            tagged: (7, Url::parse("https://example.com/b").unwrap()),
            boxed: Box::new(Url::parse("https://example.com/c").unwrap()),
            set: BTreeSet::from([Url::parse("https://example.com/d").unwrap()]),
            maybe_price: Some(rust_decimal::Decimal::new(-15, 1)),
        },
        Corpus::NestedTyped {
            maybe_ids: None,
            links: vec![],
            maybe_link: None,
            maybe_levels: None,
            deep: None,
            pair: [
                Url::parse("https://example.com/a").unwrap(),
                Url::parse("https://example.com/a").unwrap(),
            ],
            tagged: (0, Url::parse("https://example.com/").unwrap()),
            boxed: Box::new(Url::parse("https://example.com/").unwrap()),
            set: BTreeSet::new(),
            maybe_price: None,
        },
        Corpus::NestedKeys(Some(HashMap::from([
            (
                Uuid::nil(),
                vec![Url::parse("https://example.com/?a=[1]").unwrap()],
            ),
            (Uuid::max(), vec![]),
        ]))),
        Corpus::NestedKeys(None),
        Corpus::SmallKeys(BTreeMap::from([(0, "zero".into()), (255, "max".into())])),
        Corpus::Inherited(InheritedKeys {
            constructor: None,
            to_string: None,
            value_of: None,
            has_own_property: false,
            proto: "p".into(),
        }),
        Corpus::Inherited(InheritedKeys {
            constructor: Some("c".into()),
            to_string: Some("t".into()),
            value_of: Some(3),
            has_own_property: true,
            proto: String::new(),
        }),
    ]
}

/// Valid data of `data.nested_typed` with `field` set to `value`.
fn nested_typed(field: &str, value: Value) -> Value {
    let mut data = json!({
        "maybe_ids": null,
        "links": [],
        "maybe_link": null,
        "maybe_levels": null,
        "deep": null,
        "pair": ["https://example.com/", "https://example.com/"],
        "tagged": [1, "https://example.com/"],
        "boxed": "https://example.com/",
        "set": [],
        "maybe_price": null,
    });
    data[field] = value;
    data
}

/// `(event, data)` pairs that every generated validator must refuse, each with the reason.
pub fn invalid_samples() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "data.nested_typed",
            nested_typed("maybe_ids", json!({ "not-a-uuid": 1 })),
            "a key that is not a UUID in an `Option<HashMap<Uuid, u32>>`",
        ),
        (
            "data.nested_typed",
            nested_typed("links", json!(["https://example.com/", "http://"])),
            "a URI that is no URL in a `Vec<Url>`",
        ),
        (
            "data.nested_typed",
            nested_typed("maybe_link", json!("http://")),
            "a URI that is no URL in an `Option<Url>`",
        ),
        (
            "data.nested_typed",
            nested_typed("maybe_levels", json!({ "256": "x" })),
            "a key beyond the range of a u8 in an `Option<BTreeMap<u8, String>>`",
        ),
        (
            "data.nested_typed",
            nested_typed(
                "deep",
                json!({ "00000000-0000-0000-0000-000000000000": ["http://"] }),
            ),
            "a URI that is no URL in the values of an `Option<HashMap<Uuid, Vec<Url>>>`",
        ),
        (
            "data.nested_typed",
            nested_typed("deep", json!({ "not-a-uuid": [] })),
            "a key that is not a UUID in an `Option<HashMap<Uuid, Vec<Url>>>`",
        ),
        (
            "data.nested_typed",
            nested_typed("pair", json!(["https://example.com/", "http://a:99999"])),
            "a URI that is no URL in a `[Url; 2]`",
        ),
        (
            "data.nested_typed",
            nested_typed("tagged", json!([1, "http://"])),
            "a URI that is no URL in a `(u32, Url)`",
        ),
        (
            "data.nested_typed",
            nested_typed("boxed", json!("http://")),
            "a URI that is no URL in a `Box<Url>`",
        ),
        (
            "data.nested_typed",
            nested_typed("set", json!(["http://"])),
            "a URI that is no URL in a `BTreeSet<Url>`",
        ),
        (
            "data.nested_typed",
            nested_typed("maybe_price", json!("1.5.0")),
            "not a decimal in an `Option<Decimal>`",
        ),
        (
            "data.nested_keys",
            json!({ "not-a-uuid": [] }),
            "a key that is not a UUID in newtype data `Option<HashMap<Uuid, Vec<Url>>>`",
        ),
        (
            "data.nested_keys",
            json!({ "00000000-0000-0000-0000-000000000000": ["http://"] }),
            "a URI that is no URL in newtype data `Option<HashMap<Uuid, Vec<Url>>>`",
        ),
        (
            "data.small_keys",
            json!({ "256": "too big" }),
            "a key beyond a `u8` in newtype data `BTreeMap<u8, String>`",
        ),
        (
            "batch.replayed",
            json!({ "events": [{ "event": "notification.alert", "data": 3 }] }),
            "a nested event's data of the wrong type",
        ),
        (
            "batch.replayed",
            json!({ "events": [{ "event": "no.such", "data": "x" }] }),
            "a nested event that is not in the set",
        ),
        ("notification.alert", json!(3), "a number for a string"),
        ("chat.message", json!({ "userId": "u1" }), "missing text"),
        (
            "chat.message",
            json!({ "userId": "u1", "text": "" }),
            "text shorter than minLength",
        ),
        (
            "chat.message",
            json!({ "userId": "u1", "text": "😀".repeat(281) }),
            "text longer than maxLength in characters",
        ),
        (
            "user.joined",
            json!({ "id": "not-a-uuid", "email": "ada@example.com", "homepage": "https://e.com", "joined_at": "2024-05-01T12:30:00Z", "handle": "ada", "bio": "" }),
            "uuid format",
        ),
        (
            "user.joined",
            json!({ "id": "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f", "email": "nope", "homepage": "https://e.com", "joined_at": "2024-05-01T12:30:00Z", "handle": "ada", "bio": "" }),
            "email format",
        ),
        (
            "user.joined",
            json!({ "id": "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f", "email": "ada@example.com", "homepage": "https://e.com", "joined_at": "2024-05-01T12:30:00Z", "handle": "Ada!", "bio": "" }),
            "pattern",
        ),
        (
            "user.joined",
            json!({ "id": "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f", "email": "ada@example.com", "homepage": "https://e.com", "joined_at": "yesterday", "handle": "ada", "bio": "" }),
            "date-time format",
        ),
        ("system.reset", json!({}), "an object for null"),
        (
            "metrics.sample",
            json!({ "count": 1, "ratio": 1.5, "small": 0, "level": 1, "delta": 0, "total": 0 }),
            "ratio above maximum",
        ),
        (
            "metrics.sample",
            json!({ "count": 1.5, "ratio": 0, "small": 0, "level": 1, "delta": 0, "total": 0 }),
            "a fraction for an integer",
        ),
        (
            "metrics.sample",
            json!({ "count": 1, "ratio": 0, "small": 0, "level": 11, "delta": 0, "total": 0 }),
            "level above maximum",
        ),
        (
            "metrics.sample",
            json!({ "count": 1, "ratio": 0, "small": 200, "level": 1, "delta": 0, "total": 0 }),
            "i8 out of range",
        ),
        (
            "metrics.sample",
            json!({ "count": 1, "ratio": 0, "small": 0, "level": 1, "delta": 0, "total": -1 }),
            "negative u64",
        ),
        (
            "metrics.flags",
            json!({ "enabled": "yes" }),
            "a string for a boolean",
        ),
        (
            "data.lists",
            json!({ "tags": [], "unique": [], "point": [1, 2], "scores": {}, "extra": null }),
            "too few items",
        ),
        (
            "data.lists",
            json!({ "tags": ["a"], "unique": [1, 1], "point": [1, 2], "scores": {}, "extra": null }),
            "duplicate items in a set",
        ),
        (
            "data.lists",
            json!({ "tags": ["a"], "unique": [], "point": [1, 2, 3], "scores": {}, "extra": null }),
            "tuple too long",
        ),
        (
            "data.lists",
            json!({ "tags": ["a"], "unique": [], "point": [1, 2], "scores": { "a": "x" }, "extra": null }),
            "map value of the wrong type",
        ),
        ("shape.drawn", json!("triangle"), "unknown unit variant"),
        (
            "shape.drawn",
            json!({ "rect": { "width": 1 } }),
            "struct variant missing a field",
        ),
        (
            "action.taken",
            json!({ "type": "jump" }),
            "unknown internal tag",
        ),
        (
            "change.applied",
            json!({ "op": "set", "value": 3 }),
            "adjacent content of the wrong type",
        ),
        ("scalar.seen", json!([1]), "no untagged variant matches"),
        (
            "task.prioritized",
            json!({ "priority": "urgent", "version": "v1" }),
            "not an enum value",
        ),
        (
            "task.prioritized",
            json!({ "priority": "low", "version": "v2" }),
            "not the const",
        ),
        (
            "tree.updated",
            json!({ "label": "r", "children": [{ "label": 3, "children": [] }] }),
            "wrong type deep in a recursive value",
        ),
        (
            "doc.saved",
            json!({ "title": "t", "at": "2024-05-01T12:30:00Z", "by": "a" }),
            "flattened enum missing",
        ),
        (
            "strict.ping",
            json!({ "seq": 1, "other": true }),
            "unknown field with deny_unknown_fields",
        ),
        (
            "billing.invoicePaid",
            json!({ "invoice": "i", "cents": -1 }),
            "negative u32",
        ),
        (
            "user.joined",
            json!({ "id": "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f", "email": "ada@example.com", "homepage": "https://e.com", "joined_at": "2024-05-01T12:30Z", "handle": "ada", "bio": "" }),
            "date-time without seconds",
        ),
        (
            "user.joined",
            json!({ "id": "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f", "email": "ada@example.com", "homepage": "https://example.com/a b", "joined_at": "2024-05-01T12:30:00Z", "handle": "ada", "bio": "" }),
            "uri with a space",
        ),
        (
            "data.lists",
            json!({ "tags": ["a"], "unique": [], "point": [1, 2], "scores": {} }),
            "the serde_json::Value field missing",
        ),
        (
            "change.applied",
            json!({ "op": "clear", "value": 3 }),
            "content on an adjacently tagged unit variant",
        ),
        (
            "metrics.sample",
            json!({ "count": 1, "ratio": 0, "small": 0, "level": 1, "delta": "123", "total": 0 }),
            "a digit string for an i64",
        ),
        (
            "metrics.sample",
            json!({ "count": 1, "ratio": 0, "small": 0, "level": 1, "delta": 0, "total": "5" }),
            "a digit string for a u64",
        ),
        (
            "data.keyed",
            json!({ "by_id": { "x": { "id": "t" } }, "by_offset": {} }),
            "a map key that is not an integer",
        ),
        (
            "data.keyed",
            json!({ "by_id": {}, "by_offset": { "1.5": true } }),
            "a map key that is a fraction",
        ),
        (
            "metrics.nonzero",
            json!({ "step": 0, "count": 1 }),
            "zero for a NonZeroI32",
        ),
        (
            "metrics.nonzero",
            json!({ "step": 1, "count": 0 }),
            "zero for a NonZeroU32",
        ),
        (
            "time.recorded",
            json!({ "at": "12:30:00", "local": "2024-05-01T12:30:00Z", "zoned": "2024-05-01T12:30:00+02:00", "utc": "2024-05-01T10:30:00Z", "day": "2024-05-01", "until": null }),
            "an offset on a NaiveDateTime",
        ),
        (
            "time.recorded",
            json!({ "at": "12:30:00", "local": "2024-05-01T12:30", "zoned": "2024-05-01T12:30:00+02:00", "utc": "2024-05-01T10:30:00Z", "day": "2024-05-01", "until": null }),
            "a NaiveDateTime without seconds",
        ),
        (
            "time.recorded",
            json!({ "at": "25:00", "local": "2024-05-01T12:30:00", "zoned": "2024-05-01T12:30:00+02:00", "utc": "2024-05-01T10:30:00Z", "day": "2024-05-01", "until": null }),
            "an hour out of range in a NaiveTime",
        ),
        (
            "time.recorded",
            json!({ "at": "12:30:00", "local": "2024-05-01T12:30:00", "zoned": "2024-05-01T12:30+02:00", "utc": "2024-05-01T10:30:00Z", "day": "2024-05-01", "until": null }),
            "a DateTime<FixedOffset> without seconds",
        ),
        (
            "time.recorded",
            json!({ "at": "12:30:00", "local": "2024-05-01T12:30:00", "zoned": "2024-05-01T12:30:00+02:00", "utc": "2024-05-01T10:30:00Z", "day": "2023-02-29", "until": null }),
            "a day that does not exist",
        ),
        (
            "net.seen",
            json!({ "ip": "300.1.1.1", "v4": "127.0.0.1", "v6": "::1" }),
            "an IPv4 octet out of range",
        ),
        (
            "net.seen",
            json!({ "ip": "::1", "v4": "::1", "v6": "::1" }),
            "an IPv6 address for an Ipv4Addr",
        ),
        (
            "id.assigned",
            json!({ "id": "00000000000000000000000000000001" }),
            "a UUID without hyphens",
        ),
        (
            "metrics.sizes",
            json!({ "len": -1, "offset": 0 }),
            "a negative usize",
        ),
        ("text.letter", json!("ab"), "two characters for a char"),
        ("text.letter", json!(""), "no character for a char"),
        (
            "mood.set",
            json!({ "mood": "angry" }),
            "not a documented enum value",
        ),
        (
            "locate.requested",
            json!({ "name": "x" }),
            "no untagged variant matches",
        ),
        (
            "data.checked",
            json!({ "outcome": { "Ok": 1, "Err": "e" }, "groups": [], "single": 0 }),
            "both variants of a Result",
        ),
        (
            "data.checked",
            json!({ "outcome": { "Ok": 1 }, "groups": [{ "a": 1, "b": 2 }, { "b": 2, "a": 1 }], "single": 0 }),
            "equal maps in a set, keys in another order",
        ),
        (
            "data.checked",
            json!({ "outcome": { "Ok": 1 }, "groups": [], "single": 1e39 }),
            "beyond the range of an f32",
        ),
        (
            "data.typed_keys",
            json!({ "by_id": { "not-a-uuid": 1 }, "by_level": {}, "by_offset": {}, "by_letter": {} }),
            "a map key that is not a UUID",
        ),
        (
            "data.typed_keys",
            json!({ "by_id": {}, "by_level": { "256": "x" }, "by_offset": {}, "by_letter": {} }),
            "a map key beyond the range of a u8",
        ),
        (
            "data.typed_keys",
            json!({ "by_id": {}, "by_level": { "01": "x" }, "by_offset": {}, "by_letter": {} }),
            "an integer map key with a leading zero",
        ),
        (
            "data.typed_keys",
            json!({ "by_id": {}, "by_level": {}, "by_offset": { "40000": true }, "by_letter": {} }),
            "a map key beyond the range of an i16",
        ),
        (
            "data.typed_keys",
            json!({ "by_id": {}, "by_level": {}, "by_offset": { "-0": true }, "by_letter": {} }),
            "a negative zero as an integer map key",
        ),
        (
            "data.typed_keys",
            json!({ "by_id": {}, "by_level": {}, "by_offset": {}, "by_letter": { "ab": 1 } }),
            "two characters as a char map key",
        ),
        (
            "data.keyed",
            json!({ "by_id": { "4294967296": { "id": "t" } }, "by_offset": {} }),
            "a map key beyond the range of a u32",
        ),
        (
            "link.shared",
            json!({ "url": "http://" }),
            "a URI that is no URL (no host)",
        ),
        (
            "shape.tagged",
            json!({ "type": "Square", "radius": 1 }),
            "another tag on a tagged struct",
        ),
        (
            "shape.tagged",
            json!({ "radius": 1 }),
            "the tag of a tagged struct missing",
        ),
        ("price.set", json!({ "amount": "1.5.0" }), "not a decimal"),
        (
            "profile.patched",
            json!({ "nickname": 5, "age": 3 }),
            "a number for a double option of a string",
        ),
        (
            "link.shared",
            json!({ "url": "http://a:99999" }),
            "a URI that is no URL (a port beyond 65535)",
        ),
        (
            "object.inherited",
            json!({ "hasOwnProperty": false, "__proto__": 5 }),
            "a number for the string `__proto__`",
        ),
        (
            "object.inherited",
            json!({ "hasOwnProperty": false }),
            "`__proto__` missing",
        ),
        (
            "object.inherited",
            json!({ "hasOwnProperty": false, "__proto__": "p", "toString": 1 }),
            "a number for the string `toString`",
        ),
    ]
}

/// `(field of FormatProbe, text, whether the server accepts it)`: each string format at
/// the edges where zod's own checks and the server's (the `jsonschema` crate's format
/// checks, then serde) can disagree. The tests check the server against this table, and
/// the generated zod schemas against the server.
pub fn format_probes() -> Vec<(&'static str, &'static str, bool)> {
    vec![
        ("email", "ada@example.com", true),
        ("email", "ops@localhost", true),
        ("email", "first.last+tag@sub.example.co", true),
        ("email", "\"quoted local\"@example.com", true),
        ("email", "ops@[127.0.0.1]", true),
        ("email", "ops@[IPv6:::1]", true),
        ("email", "Ada Lovelace <ada@example.com>", true),
        ("email", "nope", false),
        ("email", "a..b@example.com", false),
        ("email", ".a@example.com", false),
        ("email", "ops@-localhost", false),
        ("email", "ops@example..com", false),
        ("email", "ops@exa_mple.com", false),
        ("email", "ops@example.com.", false),
        ("email", "ops@[300.0.0.1]", false),
        ("email", "jos\u{e9}@example.com", false),
        ("email", "ops@ab--cd.example", false),
        ("uri", "https://example.com/a?b=c#d", true),
        ("uri", "urn:isbn:0451450523", true),
        ("uri", "mailto:ops@localhost", true),
        ("uri", "http:", true),
        ("uri", "http://[::1]:8080/", true),
        ("uri", "http://a:99999", true),
        ("uri", "https://example.com/%7Eada", true),
        ("uri", "https://example.com/a b", false),
        ("uri", " https://example.com", false),
        ("uri", "//example.com/a", false),
        ("uri", "/relative", false),
        // Not RFC 3986, but a URL as the WHATWG URL Standard (and url::Url) writes it.
        ("uri", "https://example.com/%zz", true),
        ("uri", "https://example.com/?a=[1]|{2}", true),
        ("uri", "https://example.com/a%20b c", false),
        ("uri", "https://ex\u{e4}mple.com", false),
        ("uri", "http://a@b@c", false),
        ("uri", "http://[::1", false),
        ("uri", "http://a:b", false),
        ("uuid", "00000000-0000-0000-0000-000000000001", true),
        ("uuid", "00000000-0000-0000-0000-000000000000", true),
        ("uuid", "6F1C2F4E-8A1B-8C3D-1E2F-0A1B2C3D4E5F", true),
        ("uuid", "6f1c2f4e8a1b4c3d9e2f0a1b2c3d4e5f", false),
        ("uuid", "{6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5f}", false),
        ("uuid", "6f1c2f4e-8a1b-4c3d-9e2f-0a1b2c3d4e5g", false),
        ("date_time", "2024-05-01T12:30:00Z", true),
        ("date_time", "2024-05-01T12:30:00.123456789+02:00", true),
        ("date_time", "2024-05-01t12:30:00z", true),
        ("date_time", "1998-12-31T23:59:60Z", true),
        ("date_time", "1998-12-31T15:59:60-08:00", true),
        ("date_time", "2024-05-01T12:30Z", false),
        ("date_time", "2024-05-01T12:30:00", false),
        ("date_time", "2024-05-01 12:30:00Z", false),
        ("date_time", "2024-02-30T12:30:00Z", false),
        ("date_time", "2024-05-01T12:30:60Z", false),
        ("date_time", "2024-05-01T24:00:00Z", false),
        ("date_time", "2024-05-01T12:30:00+24:00", false),
        ("date_time", "2024-05-01T12:30:00.Z", false),
        ("date", "2024-02-29", true),
        ("date", "2023-02-29", false),
        ("date", "2024-5-1", false),
        ("time", "12:30:00Z", true),
        ("time", "12:30:00.5+02:00", true),
        ("time", "12:30:00", false),
        ("time", "12:30Z", false),
        ("naive_time", "12:30:00", true),
        ("naive_time", "12:30", true),
        ("naive_time", "12:30:00.123456789", true),
        ("naive_time", "12:30:00Z", false),
        ("naive_time", "24:00:00", false),
        ("naive_date_time", "2024-05-01T12:30:00", true),
        ("naive_date_time", "2024-05-01T12:30:00.5", true),
        ("naive_date_time", "2024-05-01T12:30", false),
        ("naive_date_time", "2024-05-01T12:30:00Z", false),
        ("naive_date_time", "2024-05-01 12:30:00", false),
        ("ip", "10.0.0.1", true),
        ("ip", "2001:db8::1", true),
        ("ip", "::ffff:192.0.2.1", true),
        ("ip", "010.0.0.1", false),
        ("ip", "example.com", false),
        ("ipv4", "192.0.2.1", true),
        ("ipv4", "192.0.2", false),
        ("ipv6", "fe80::1", true),
        ("ipv6", "fe80::1%eth0", false),
        ("ipv6", "::1]/x[", false),
        ("id", "00000000-0000-0000-0000-000000000001", true),
        ("id", "6f1c2f4e8a1b4c3d9e2f0a1b2c3d4e5f", false),
        ("ipv6", "1:2:3:4:5:6:7::", true),
        ("ipv6", "::1.2.3.4", true),
        ("ipv6", "1.2.3.4::", false),
        ("ipv6", "1::2:3:4:5:6:7:8", false),
        ("uri", "http://u@[::1]/", true),
        ("uri", "http://[v1.x]/", true),
        ("email", "\"\"@example.com", true),
        // ECMA-262: `\b`, `\w` and `\d` are ASCII; `\p{..}` needs Unicode mode.
        ("word_end", "\u{e9}end", true),
        ("word_end", "bend", false),
        ("twin_word", "\u{e9}\u{e9}", false),
        ("twin_word", "aa", true),
        ("twin_digit", "\u{661}\u{661}", false),
        ("twin_digit", "11", true),
        ("letters", "Zo\u{eb}", true),
        ("letters", "Zo\u{eb}2", false),
        ("marked", "x a-b# y", true),
        ("marked", "a-b", false),
    ]
}

/// Whether the server accepts `data` for `event`: [`Realtime::emit_json`], the path of the
/// emit route (JSON Schema validation with format checks, then serde), on the memory
/// backend.
pub fn server_accepts(event: &str, data: &Value) -> Result<(), String> {
    thread_local! {
        static SERVER: (tokio::runtime::Runtime, Realtime<Corpus>) = {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let realtime = runtime.block_on(async { Realtime::<Corpus>::memory() });
            (runtime, realtime)
        };
    }
    SERVER.with(|(runtime, realtime)| {
        runtime
            .block_on(realtime.emit_json(event, data.clone()))
            .map(drop)
            .map_err(|error| error.to_string())
    })
}
