//! The corpus: real `#[derive(Events)]` enums whose schemas exercise every construct the
//! generators support, with sample events (valid, produced by Rust) and invalid payloads.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};

use realtime_core::Events;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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

/// Sub-events included with `#[event(flatten)]`.
#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "billing")]
pub enum BillingEvent {
    /// An invoice was paid.
    InvoicePaid { invoice: String, cents: u32 },
}

/// The corpus event set.
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
    ]
}

/// `(event, data)` pairs that every generated validator must refuse, each with the reason.
pub fn invalid_samples() -> Vec<(&'static str, Value, &'static str)> {
    vec![
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
    ]
}
