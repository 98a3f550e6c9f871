//! The compatibility diff: each case is a pair of schemas (in the shape schemars writes)
//! with its expected classification for old clients (consumers) and for readers of history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use realtime_schema::Document;
use realtime_schema::diff::{Change, ChangeKind, Impact, Mode, diff};
use serde_json::{Value, json};

use Impact::{Breaking, Safe};

/// A document with these events (name, data schema) and `$defs`.
fn document(events: &[(&str, Value)], defs: Value) -> Document {
    let one_of: Vec<Value> = events
        .iter()
        .map(|(name, data)| {
            json!({
                "type": "object",
                "properties": { "event": { "type": "string", "const": name }, "data": data },
                "required": ["event", "data"]
            })
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(name, _)| *name).collect();
    Document::from_value(&json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "AppEvent",
        "oneOf": one_of,
        "$defs": defs,
        "x-realtime": { "version": 1, "events": names, "namespaces": {} }
    }))
    .unwrap()
}

/// The changes between two versions of the data of one event `e.x`.
fn changes(old: Value, new: Value) -> Vec<Change> {
    diff(
        &document(&[("e.x", old)], json!({})),
        &document(&[("e.x", new)], json!({})),
    )
    .changes
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

/// Asserts exactly one change, with this kind, path and classification.
#[track_caller]
fn assert_one(
    changes: &[Change],
    kind: ChangeKind,
    path: &str,
    consumers: Impact,
    history: Impact,
) {
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let change = &changes[0];
    assert_eq!(change.kind, kind, "{change:#?}");
    assert_eq!(change.path, path, "{change:#?}");
    assert_eq!(
        (change.consumers, change.history),
        (consumers, history),
        "{change:#?}"
    );
}

fn text() -> Value {
    json!({ "type": "string" })
}

#[test]
fn identical_documents_have_no_changes() {
    let data = object(json!({ "a": text() }), &["a"]);
    assert!(changes(data.clone(), data).is_empty());
}

#[test]
fn an_added_event_is_safe_for_everyone() {
    let old = document(&[("a.b", text())], json!({}));
    let new = document(&[("a.b", text()), ("a.c", text())], json!({}));
    let report = diff(&old, &new);
    assert_one(&report.changes, ChangeKind::EventAdded, "", Safe, Safe);
    assert_eq!(report.changes[0].event, "a.c");
    assert!(!report.is_breaking(Mode::Full));
}

#[test]
fn a_removed_event_breaks_readers_of_history() {
    let old = document(&[("a.b", text()), ("a.c", text())], json!({}));
    let new = document(&[("a.b", text())], json!({}));
    let report = diff(&old, &new);
    assert_one(
        &report.changes,
        ChangeKind::EventRemoved,
        "",
        Safe,
        Breaking,
    );
    assert!(report.is_breaking(Mode::Backward));
    assert!(!report.is_breaking(Mode::Forward));
}

#[test]
fn an_added_optional_field_is_safe() {
    let changes = changes(
        object(json!({ "a": text() }), &["a"]),
        object(
            json!({ "a": text(), "b": { "type": ["string", "null"] } }),
            &["a"],
        ),
    );
    assert_one(
        &changes,
        ChangeKind::FieldAdded { required: false },
        ".b",
        Safe,
        Safe,
    );
}

#[test]
fn an_added_required_field_breaks_history() {
    let changes = changes(
        object(json!({ "a": text() }), &["a"]),
        object(json!({ "a": text(), "b": text() }), &["a", "b"]),
    );
    assert_one(
        &changes,
        ChangeKind::FieldAdded { required: true },
        ".b",
        Safe,
        Breaking,
    );
}

#[test]
fn an_added_field_breaks_old_clients_that_deny_unknown_fields() {
    let mut old = object(json!({ "a": text() }), &["a"]);
    old["additionalProperties"] = json!(false);
    let mut new = object(json!({ "a": text(), "b": text() }), &["a"]);
    new["additionalProperties"] = json!(false);
    assert_one(
        &changes(old, new),
        ChangeKind::FieldAdded { required: false },
        ".b",
        Breaking,
        Safe,
    );
}

#[test]
fn a_removed_required_field_breaks_old_clients() {
    let changes = changes(
        object(json!({ "a": text(), "b": text() }), &["a", "b"]),
        object(json!({ "a": text() }), &["a"]),
    );
    assert_one(
        &changes,
        ChangeKind::FieldRemoved { required: true },
        ".b",
        Breaking,
        Safe,
    );
    assert_eq!(changes[0].pointer, "/oneOf/0/properties/data/properties/b");
}

#[test]
fn a_removed_optional_field_is_safe() {
    let changes = changes(
        object(json!({ "a": text(), "b": text() }), &["a"]),
        object(json!({ "a": text() }), &["a"]),
    );
    assert_one(
        &changes,
        ChangeKind::FieldRemoved { required: false },
        ".b",
        Safe,
        Safe,
    );
}

#[test]
fn an_optional_field_becoming_required_breaks_history() {
    let changes = changes(
        object(json!({ "a": text() }), &[]),
        object(json!({ "a": text() }), &["a"]),
    );
    assert_one(
        &changes,
        ChangeKind::FieldBecameRequired,
        ".a",
        Safe,
        Breaking,
    );
}

#[test]
fn a_changed_type_breaks_both() {
    let changes = changes(
        object(json!({ "n": text() }), &["n"]),
        object(
            json!({ "n": { "type": "integer", "format": "int64" } }),
            &["n"],
        ),
    );
    assert_one(
        &changes,
        ChangeKind::TypeChanged {
            from: "string".into(),
            to: "integer".into(),
        },
        ".n",
        Breaking,
        Breaking,
    );
}

#[test]
fn integer_to_number_widens_for_history_only() {
    let changes = changes(
        json!({ "type": "integer", "format": "int64" }),
        json!({ "type": "number", "format": "double" }),
    );
    assert_one(
        &changes,
        ChangeKind::TypeChanged {
            from: "integer".into(),
            to: "number".into(),
        },
        "",
        Breaking,
        Safe,
    );
}

#[test]
fn an_added_enum_value_breaks_old_clients() {
    let changes = changes(
        json!({ "type": "string", "enum": ["low", "high"] }),
        json!({ "type": "string", "enum": ["low", "high", "urgent"] }),
    );
    assert_one(
        &changes,
        ChangeKind::EnumValueAdded(json!("urgent")),
        "",
        Breaking,
        Safe,
    );
}

#[test]
fn a_removed_enum_value_breaks_history() {
    let changes = changes(
        json!({ "type": "string", "enum": ["low", "high", "urgent"] }),
        json!({ "type": "string", "enum": ["low", "high"] }),
    );
    assert_one(
        &changes,
        ChangeKind::EnumValueRemoved(json!("urgent")),
        "",
        Safe,
        Breaking,
    );
}

#[test]
fn a_tightened_max_length_breaks_history() {
    let changes = changes(
        json!({ "type": "string", "maxLength": 280 }),
        json!({ "type": "string", "maxLength": 140 }),
    );
    assert_one(
        &changes,
        ChangeKind::ConstraintTightened {
            constraint: "maxLength".into(),
            from: "280".into(),
            to: "140".into(),
        },
        "",
        Safe,
        Breaking,
    );
}

#[test]
fn a_loosened_minimum_breaks_old_clients() {
    let changes = changes(
        json!({ "type": "integer", "format": "uint8", "minimum": 1, "maximum": 10 }),
        json!({ "type": "integer", "format": "uint8", "minimum": 0, "maximum": 10 }),
    );
    assert_one(
        &changes,
        ChangeKind::ConstraintLoosened {
            constraint: "minimum".into(),
            from: "1".into(),
            to: "0".into(),
        },
        "",
        Breaking,
        Safe,
    );
}

#[test]
fn widening_u32_to_u64_loosens_the_implied_maximum() {
    let changes = changes(
        json!({ "type": "integer", "format": "uint32", "minimum": 0 }),
        json!({ "type": "integer", "format": "uint64", "minimum": 0 }),
    );
    assert_one(
        &changes,
        ChangeKind::ConstraintLoosened {
            constraint: "maximum".into(),
            from: "4294967295".into(),
            to: "none".into(),
        },
        "",
        Breaking,
        Safe,
    );
}

#[test]
fn an_added_pattern_tightens_and_a_changed_pattern_breaks_both() {
    let added = changes(text(), json!({ "type": "string", "pattern": "^[a-z]+$" }));
    assert_eq!((added[0].consumers, added[0].history), (Safe, Breaking));
    let changed = changes(
        json!({ "type": "string", "pattern": "^[a-z]+$" }),
        json!({ "type": "string", "pattern": "^[0-9]+$" }),
    );
    assert_one(
        &changed,
        ChangeKind::ConstraintChanged {
            constraint: "pattern".into(),
            from: "`^[a-z]+$`".into(),
            to: "`^[0-9]+$`".into(),
        },
        "",
        Breaking,
        Breaking,
    );
}

#[test]
fn becoming_nullable_breaks_old_clients() {
    let changes = changes(
        object(json!({ "a": text() }), &["a"]),
        object(json!({ "a": { "type": ["string", "null"] } }), &["a"]),
    );
    assert_one(&changes, ChangeKind::BecameNullable, ".a", Breaking, Safe);
}

#[test]
fn no_longer_nullable_breaks_history() {
    let changes = changes(
        json!({ "type": ["integer", "null"], "format": "int32" }),
        json!({ "type": "integer", "format": "int32" }),
    );
    assert_one(&changes, ChangeKind::NoLongerNullable, "", Safe, Breaking);
}

#[test]
fn an_added_variant_of_a_tagged_enum_breaks_old_clients() {
    let variant = |tag: &str| {
        object(
            json!({ "type": { "type": "string", "const": tag } }),
            &["type"],
        )
    };
    let changes = changes(
        json!({ "oneOf": [variant("start")] }),
        json!({ "oneOf": [variant("start"), variant("stop")] }),
    );
    assert_one(
        &changes,
        ChangeKind::VariantAdded("type=\"stop\"".into()),
        "<type=\"stop\">",
        Breaking,
        Safe,
    );
}

#[test]
fn a_removed_variant_of_an_externally_tagged_enum_breaks_history() {
    let variant = |key: &str| {
        let mut variant = object(json!({ key: { "type": "number" } }), &[key]);
        variant["additionalProperties"] = json!(false);
        variant
    };
    let changes = changes(
        json!({ "oneOf": [{ "type": "string", "enum": ["empty"] }, variant("circle"), variant("square")] }),
        json!({ "oneOf": [{ "type": "string", "enum": ["empty"] }, variant("circle")] }),
    );
    assert_one(
        &changes,
        ChangeKind::VariantRemoved("{square}".into()),
        "<{square}>",
        Safe,
        Breaking,
    );
}

#[test]
fn changes_inside_shared_definitions_are_reported_per_event_with_their_pointer() {
    let money = |currency: Value| {
        object(
            json!({ "cents": { "type": "integer", "format": "uint64", "minimum": 0 }, "currency": currency }),
            &["cents", "currency"],
        )
    };
    let events = [
        ("shop.paid", json!({ "$ref": "#/$defs/Money" })),
        ("shop.refunded", json!({ "$ref": "#/$defs/Money" })),
    ];
    let old = document(&events, json!({ "Money": money(text()) }));
    let new = document(
        &events,
        json!({ "Money": money(json!({ "type": "string", "enum": ["EUR", "USD"] })) }),
    );
    let report = diff(&old, &new);
    assert_eq!(report.changes.len(), 2, "{report:#?}");
    for (change, event) in report.changes.iter().zip(["shop.paid", "shop.refunded"]) {
        assert_eq!(change.event, event);
        assert_eq!(change.path, ".currency");
        assert_eq!(change.pointer, "/$defs/Money/properties/currency");
        assert_eq!((change.consumers, change.history), (Safe, Breaking));
    }
}

#[test]
fn recursive_definitions_are_compared_once() {
    let tree = |label: Value| {
        object(
            json!({ "label": label, "children": { "type": "array", "items": { "$ref": "#/$defs/Tree" } } }),
            &["label", "children"],
        )
    };
    let events = [("tree.updated", json!({ "$ref": "#/$defs/Tree" }))];
    let old = document(&events, json!({ "Tree": tree(text()) }));
    let new = document(
        &events,
        json!({ "Tree": tree(json!({ "type": "string", "maxLength": 10 })) }),
    );
    let report = diff(&old, &new);
    assert_eq!(report.changes.len(), 1, "{report:#?}");
    assert_eq!(report.changes[0].path, ".label");
}

#[test]
fn the_mode_decides_what_is_breaking() {
    let report = diff(
        &document(
            &[("a.b", json!({ "type": "string", "enum": ["x"] }))],
            json!({}),
        ),
        &document(
            &[("a.b", json!({ "type": "string", "enum": ["x", "y"] }))],
            json!({}),
        ),
    );
    assert!(report.is_breaking(Mode::Full));
    assert!(report.is_breaking(Mode::Forward));
    assert!(!report.is_breaking(Mode::Backward));
}

#[test]
fn the_markdown_report_has_a_verdict_and_a_table_per_event() {
    let old = document(
        &[(
            "chat.message",
            object(json!({ "text": text(), "room": text() }), &["text", "room"]),
        )],
        json!({}),
    );
    let new = document(
        &[
            (
                "chat.message",
                object(
                    json!({ "text": { "type": "string", "maxLength": 280 } }),
                    &["text"],
                ),
            ),
            ("chat.typing", json!({ "type": "null" })),
        ],
        json!({}),
    );
    let markdown = diff(&old, &new).to_markdown(Mode::Full);
    let expected = "## Event schema diff: `AppEvent`

**❌ Breaking under `full`: 2 of 3 changes in 2 events break compatibility.**

*Old clients*: clients built from the old schema reading new events (stale browser tabs). *History*: new code reading events written by old code.

### `chat.message`

| | change | where | old clients | history |
|---|---|---|---|---|
| ❌ | `maxLength` tightened: none → 280 | `data.text` <br> `/oneOf/0/properties/data/properties/text` | safe | **breaking** |
| ❌ | field `room` removed (was required) | `data.room` <br> `/oneOf/0/properties/data/properties/room` | **breaking** | safe |

### `chat.typing`

| | change | where | old clients | history |
|---|---|---|---|---|
| ✅ | event added | `data` <br> `/oneOf/1` | safe | safe |
";
    assert_eq!(markdown, expected);
}

#[test]
fn documenting_the_variants_of_a_string_enum_is_no_change_and_values_still_count() {
    let plain = json!({ "type": "string", "enum": ["low", "high"] });
    let documented = json!({ "oneOf": [
        { "type": "string", "const": "low", "description": "Can wait." },
        { "type": "string", "const": "high", "description": "Now." }
    ] });
    assert!(changes(plain.clone(), documented.clone()).is_empty());
    assert!(changes(documented.clone(), plain).is_empty());
    let mut more = documented.clone();
    more["oneOf"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "type": "string", "const": "urgent", "description": "Wake someone." }));
    assert_one(
        &changes(documented, more),
        ChangeKind::EnumValueAdded(json!("urgent")),
        "",
        Breaking,
        Safe,
    );
}

#[test]
fn a_renamed_struct_in_an_untagged_enum_is_no_change_unless_its_shape_changed() {
    let data = |name: &str| json!({ "anyOf": [{ "$ref": format!("#/$defs/{name}") }, { "type": "string" }] });
    let id = json!({ "type": "object", "properties": { "id": text() }, "required": ["id"] });
    let renamed = diff(
        &document(&[("e.x", data("ById"))], json!({ "ById": id.clone() })),
        &document(&[("e.x", data("TargetId"))], json!({ "TargetId": id })),
    );
    assert!(renamed.changes.is_empty(), "{:#?}", renamed.changes);
    let reshaped = diff(
        &document(
            &[("e.x", data("ById"))],
            json!({ "ById": { "type": "object", "properties": { "id": text() }, "required": ["id"] } }),
        ),
        &document(
            &[("e.x", data("TargetId"))],
            json!({ "TargetId": { "type": "object", "properties": { "key": text() }, "required": ["key"] } }),
        ),
    );
    let kinds: Vec<&ChangeKind> = reshaped.changes.iter().map(|change| &change.kind).collect();
    assert_eq!(
        kinds,
        [
            &ChangeKind::VariantAdded("TargetId".into()),
            &ChangeKind::VariantRemoved("ById".into())
        ]
    );
}

#[test]
fn a_struct_variant_added_to_a_string_enum_is_one_added_variant() {
    let old = json!({ "type": "string", "enum": ["empty"] });
    let mut circle = object(json!({ "circle": { "type": "number" } }), &["circle"]);
    circle["additionalProperties"] = json!(false);
    let new = json!({ "oneOf": [{ "type": "string", "enum": ["empty"] }, circle] });
    assert_one(
        &changes(old, new),
        ChangeKind::VariantAdded("{circle}".into()),
        "<{circle}>",
        Breaking,
        Safe,
    );
}

#[test]
fn a_number_becoming_non_zero_tightens_and_an_integer_map_key_pattern_is_compared() {
    let nonzero = changes(
        json!({ "type": "integer", "format": "int32" }),
        json!({ "type": "integer", "format": "int32", "not": { "const": 0 } }),
    );
    assert_one(
        &nonzero,
        ChangeKind::ConstraintTightened {
            constraint: "not".into(),
            from: "none".into(),
            to: "0".into(),
        },
        "",
        Safe,
        Breaking,
    );
    let map = |value: Value| json!({ "type": "object", "additionalProperties": false, "patternProperties": { "^\\d+$": value } });
    let changed = changes(map(text()), map(json!({ "type": "integer" })));
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0].path, "./^\\d+$/");
    assert!(matches!(changed[0].kind, ChangeKind::TypeChanged { .. }));
    let signed = changes(
        map(text()),
        json!({ "type": "object", "additionalProperties": false, "patternProperties": { "^-?\\d+$": text() } }),
    );
    let constraints: Vec<(Impact, Impact)> = signed
        .iter()
        .map(|change| (change.consumers, change.history))
        .collect();
    // The signed keys include the unsigned ones: more keys (breaking for old clients),
    // and every stored key still passes.
    assert_eq!(constraints, [(Breaking, Safe)]);
}

#[test]
fn an_exclusive_minimum_beside_an_equal_minimum_tightens() {
    let changed = changes(
        json!({ "type": "number", "minimum": 0 }),
        json!({ "type": "number", "minimum": 0, "exclusiveMinimum": 0 }),
    );
    assert_one(
        &changed,
        ChangeKind::ConstraintTightened {
            constraint: "minimum".into(),
            from: "0".into(),
            to: "> 0".into(),
        },
        "",
        Safe,
        Breaking,
    );
    let back = changes(
        json!({ "type": "number", "exclusiveMaximum": 1 }),
        json!({ "type": "number", "maximum": 1 }),
    );
    assert_one(
        &back,
        ChangeKind::ConstraintLoosened {
            constraint: "maximum".into(),
            from: "< 1".into(),
            to: "1".into(),
        },
        "",
        Breaking,
        Safe,
    );
}

#[test]
fn integer_map_keys_becoming_any_string_widen_the_keys_for_old_clients_only() {
    // `BTreeMap<u32, String>` to `BTreeMap<String, String>`: `{"7": "x"}` still reads.
    let changed = changes(
        json!({ "type": "object", "additionalProperties": false, "patternProperties": { "^\\d+$": text() } }),
        json!({ "type": "object", "additionalProperties": text() }),
    );
    let impacts: Vec<(Impact, Impact)> = changed
        .iter()
        .map(|change| (change.consumers, change.history))
        .collect();
    assert_eq!(impacts, [(Breaking, Safe)], "{changed:#?}");
    // The other way, keys history holds (`"a"`) are refused.
    let back = changes(
        json!({ "type": "object", "additionalProperties": text() }),
        json!({ "type": "object", "additionalProperties": false, "patternProperties": { "^\\d+$": text() } }),
    );
    let impacts: Vec<(Impact, Impact)> = back
        .iter()
        .map(|change| (change.consumers, change.history))
        .collect();
    assert_eq!(impacts, [(Safe, Breaking)], "{back:#?}");
    // A value type changed under the keys is still seen.
    let values = changes(
        json!({ "type": "object", "additionalProperties": false, "patternProperties": { "^\\d+$": text() } }),
        json!({ "type": "object", "additionalProperties": { "type": "integer" } }),
    );
    assert!(
        values
            .iter()
            .any(|change| matches!(change.kind, ChangeKind::TypeChanged { .. })),
        "{values:#?}"
    );
}
