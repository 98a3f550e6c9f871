//! The diff on documents produced by real `#[derive(Events)]` enums, through the CLI:
//! version 2 of an event set, its Markdown report and the exit code under each mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;

use std::process::Command;

use realtime_core::Events;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod v1 {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub(crate) enum Priority {
        Low,
        High,
    }

    #[derive(Events, Clone, Debug, PartialEq)]
    pub(crate) enum AppEvent {
        #[event("chat.message")]
        Message {
            author: String,
            text: String,
            room: String,
        },
        #[event("task.created")]
        Task { title: String, priority: Priority },
        #[event("user.left")]
        Left(String),
    }
}

mod v2 {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub(crate) enum Priority {
        Low,
        High,
        Urgent,
    }

    #[derive(Events, Clone, Debug, PartialEq)]
    pub(crate) enum AppEvent {
        #[event("chat.message")]
        Message {
            author: String,
            #[schemars(length(max = 280))]
            text: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            thread: Option<String>,
        },
        #[event("task.created")]
        Task { title: String, priority: Priority },
        #[event("user.typing")]
        Typing(String),
    }
}

fn run(mode: &str) -> (Option<i32>, String) {
    let directory = std::env::temp_dir().join(format!(
        "realtime-schema-diff-{}-{mode}",
        std::process::id()
    ));
    std::fs::create_dir_all(&directory).unwrap();
    let old = directory.join("old.json");
    let new = directory.join("new.json");
    v1::AppEvent::schema().write_to(&old).unwrap();
    v2::AppEvent::schema().write_to(&new).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_realtime-schema"))
        .arg("diff")
        .arg(&old)
        .arg(&new)
        .args(["--mode", mode])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&directory);
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn a_second_version_of_a_derived_event_set_is_classified_change_by_change() {
    let (code, report) = run("full");
    assert_eq!(code, Some(1), "{report}");
    for line in [
        "**❌ Breaking under `full`: 4 of 6 changes in 4 events break compatibility.**",
        "| ❌ | `maxLength` tightened: none → 280 | `data.text` <br> `/$defs/AppEventMessage/properties/text` | safe | **breaking** |",
        "| ✅ | field `thread` added (optional) | `data.thread` <br> `/$defs/AppEventMessage/properties/thread` | safe | safe |",
        "| ❌ | field `room` removed (was required) | `data.room` <br> `/$defs/AppEventMessage/properties/room` | **breaking** | safe |",
        "| ❌ | enum value \"urgent\" added | `data.priority` <br> `/$defs/Priority` | **breaking** | safe |",
        "### `user.typing`",
        "| ❌ | event removed | `data` <br> `/oneOf/2 (old)` | safe | **breaking** |",
    ] {
        assert!(report.contains(line), "missing `{line}` in:\n{report}");
    }
}

#[test]
fn the_exit_code_follows_the_mode() {
    assert_eq!(run("forward").0, Some(1));
    assert_eq!(run("backward").0, Some(1));
}

/// Version 2 changes only what the wire does not carry: doc comments on the variants of
/// a string enum and on fields, and the Rust name of a struct inside an untagged enum.
mod wire_identical {
    use super::*;

    pub(crate) mod v1 {
        use super::*;

        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "lowercase")]
        pub(crate) enum Level {
            Low,
            High,
        }

        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        pub(crate) struct ById {
            pub(crate) id: String,
        }

        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(untagged)]
        pub(crate) enum Target {
            Id(ById),
            Path { path: String },
        }

        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        pub(crate) enum Shape {
            Empty,
            Dot,
            Circle { radius: f64 },
        }

        #[derive(Events, Clone, Debug, PartialEq)]
        pub(crate) enum AppEvent {
            #[event("alert.raised")]
            Raised {
                level: Level,
                target: Target,
                shape: Shape,
            },
        }
    }

    pub(crate) mod v2 {
        use super::*;

        /// How urgent an alert is.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "lowercase")]
        pub(crate) enum Level {
            /// Can wait.
            Low,
            /// Now.
            High,
        }

        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        pub(crate) struct TargetId {
            /// The target's id.
            pub(crate) id: String,
        }

        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(untagged)]
        pub(crate) enum Target {
            Id(TargetId),
            Path { path: String },
        }

        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        pub(crate) enum Shape {
            /// Nothing drawn.
            Empty,
            Dot,
            Circle {
                radius: f64,
            },
        }

        #[derive(Events, Clone, Debug, PartialEq)]
        pub(crate) enum AppEvent {
            /// An alert was raised.
            #[event("alert.raised")]
            Raised {
                /// How urgent.
                level: Level,
                target: Target,
                shape: Shape,
            },
        }
    }
}

#[test]
fn doc_comments_and_rust_names_that_leave_the_wire_unchanged_are_no_change() {
    let old =
        realtime_schema::Document::from_value(&wire_identical::v1::AppEvent::schema().document())
            .unwrap();
    let new =
        realtime_schema::Document::from_value(&wire_identical::v2::AppEvent::schema().document())
            .unwrap();
    let report = realtime_schema::diff::diff(&old, &new);
    assert!(report.changes.is_empty(), "{:#?}", report.changes);
}

#[test]
fn diff_reads_every_shape_the_derive_writes() {
    // The corpus holds every shape the generators cover (integer-keyed maps, `not`,
    // chrono and `std::net` formats, ...): the CI gate must never refuse it.
    let directory = std::env::temp_dir().join(format!(
        "realtime-schema-diff-corpus-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&directory).unwrap();
    let schema = directory.join("corpus.json");
    corpus::Corpus::schema().write_to(&schema).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_realtime-schema"))
        .arg("diff")
        .arg(&schema)
        .arg(&schema)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&directory);
    let report = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("No changes to the events of `Corpus`"),
        "{report}"
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Map keys and URLs as the derive writes them: schemars alone writes the same schema for
/// `HashMap<String, u32>` and `HashMap<Uuid, u32>`, and for `#[schemars(url)] String` and
/// `url::Url`, so the diff saw no change where the new reader refuses stored data.
mod typed_keys {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    pub(crate) mod v1 {
        use super::*;

        #[derive(Events, Clone, Debug, PartialEq)]
        pub(crate) enum AppEvent {
            #[event("scores.set")]
            Scores {
                by_player: HashMap<String, u32>,
                by_level: BTreeMap<u8, u32>,
            },
            #[event("link.shared")]
            Link {
                #[schemars(url)]
                url: String,
            },
            #[event("scores.all")]
            All(HashMap<String, u32>),
        }
    }

    pub(crate) mod v2 {
        use super::*;

        #[derive(Events, Clone, Debug, PartialEq)]
        pub(crate) enum AppEvent {
            #[event("scores.set")]
            Scores {
                by_player: HashMap<uuid::Uuid, u32>,
                by_level: BTreeMap<u16, u32>,
            },
            #[event("link.shared")]
            Link { url: url::Url },
            #[event("scores.all")]
            All(HashMap<char, u32>),
        }
    }

    pub(crate) fn report() -> realtime_schema::diff::Report {
        let old =
            realtime_schema::Document::from_value(&v1::AppEvent::schema().document()).unwrap();
        let new =
            realtime_schema::Document::from_value(&v2::AppEvent::schema().document()).unwrap();
        realtime_schema::diff::diff(&old, &new)
    }
}

#[test]
fn string_map_keys_becoming_uuids_break_history_and_u8_keys_becoming_u16_widen() {
    use realtime_schema::diff::{ChangeKind, Impact};

    let report = typed_keys::report();
    let found = |path: &str, constraint: &str| {
        report
            .changes
            .iter()
            .find(|change| {
                change.path == path
                    && matches!(
                        &change.kind,
                        ChangeKind::ConstraintTightened { constraint: c, .. }
                            | ChangeKind::ConstraintLoosened { constraint: c, .. }
                            if c == constraint
                    )
            })
            .unwrap_or_else(|| panic!("no change of {constraint} at {path}: {report:#?}"))
    };
    // The keys history holds (`"ada"`) are refused by the new reader.
    let uuid_keys = found(".by_player", "propertyNames");
    assert_eq!(
        (uuid_keys.consumers, uuid_keys.history),
        (Impact::Safe, Impact::Breaking)
    );
    assert!(
        matches!(&uuid_keys.kind, ChangeKind::ConstraintTightened { from, to, .. } if from == "any string" && to == "format `uuid`"),
        "{uuid_keys:#?}"
    );
    // `"300"` is a `u16` key an old client (reading `u8` keys) refuses; stored keys read.
    let wider = found(".by_level", "propertyNames");
    assert_eq!(
        (wider.consumers, wider.history),
        (Impact::Breaking, Impact::Safe)
    );
    // The data of a newtype variant gets its key type too.
    let letters = found("", "propertyNames");
    assert_eq!(letters.event, "scores.all");
    assert_eq!(
        (letters.consumers, letters.history),
        (Impact::Safe, Impact::Breaking)
    );
    // A `url::Url` refuses stored URIs that are no URLs (`http://`).
    let url = found(".url", "x-whatwg-url");
    assert_eq!(
        (url.consumers, url.history),
        (Impact::Safe, Impact::Breaking)
    );
}

/// `u32` to `rust_decimal::Decimal`: written as a string (old clients expecting a number
/// break), read from the numbers history holds.
mod decimal {
    use super::*;

    pub(crate) mod v1 {
        use super::*;

        #[derive(Events, Clone, Debug, PartialEq)]
        pub(crate) enum AppEvent {
            #[event("price.set")]
            Price { amount: u32 },
        }
    }

    pub(crate) mod v2 {
        use super::*;

        #[derive(Events, Clone, Debug, PartialEq)]
        pub(crate) enum AppEvent {
            #[event("price.set")]
            Price { amount: rust_decimal::Decimal },
        }
    }

    pub(crate) fn documents() -> (realtime_schema::Document, realtime_schema::Document) {
        (
            realtime_schema::Document::from_value(&v1::AppEvent::schema().document()).unwrap(),
            realtime_schema::Document::from_value(&v2::AppEvent::schema().document()).unwrap(),
        )
    }
}

#[test]
fn a_u32_becoming_a_decimal_breaks_old_clients_but_not_history() {
    use realtime_schema::diff::{Impact, diff};

    let (v1, v2) = decimal::documents();
    // The server reads a stored number into the new type.
    let realtime = realtime_core::Realtime::<decimal::v2::AppEvent>::memory();
    let stored = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(realtime.emit_json("price.set", serde_json::json!({ "amount": 7 })));
    assert!(stored.is_ok(), "{stored:?}");

    let forward = diff(&v1, &v2);
    assert!(
        forward
            .changes
            .iter()
            .all(|change| change.history == Impact::Safe),
        "{forward:#?}"
    );
    assert!(
        forward
            .changes
            .iter()
            .any(|change| change.path == ".amount" && change.consumers == Impact::Breaking),
        "{forward:#?}"
    );
    // Back to `u32`: stored strings no longer read.
    let back = diff(&v2, &v1);
    assert!(
        back.changes
            .iter()
            .any(|change| change.path == ".amount" && change.history == Impact::Breaking),
        "{back:#?}"
    );
}

/// The same changes inside wrappers: the derive carries the key type and what a decimal
/// reads through `Option`, `Vec` and map values.
mod nested {
    use std::collections::HashMap;

    use super::*;

    pub(crate) mod v1 {
        use super::*;

        #[derive(Events, Clone, Debug, PartialEq)]
        pub(crate) enum AppEvent {
            #[event("scores.set")]
            Scores {
                by_player: Option<HashMap<String, u32>>,
                by_team: Vec<HashMap<String, u32>>,
            },
            #[event("price.set")]
            Price { amount: Option<u32> },
            #[event("prices.all")]
            All(Vec<Option<u32>>),
        }
    }

    pub(crate) mod v2 {
        use super::*;

        #[derive(Events, Clone, Debug, PartialEq)]
        pub(crate) enum AppEvent {
            #[event("scores.set")]
            Scores {
                by_player: Option<HashMap<uuid::Uuid, u32>>,
                by_team: Vec<HashMap<uuid::Uuid, u32>>,
            },
            #[event("price.set")]
            Price {
                amount: Option<rust_decimal::Decimal>,
            },
            #[event("prices.all")]
            All(Vec<Option<rust_decimal::Decimal>>),
        }
    }

    pub(crate) fn report() -> realtime_schema::diff::Report {
        let old =
            realtime_schema::Document::from_value(&v1::AppEvent::schema().document()).unwrap();
        let new =
            realtime_schema::Document::from_value(&v2::AppEvent::schema().document()).unwrap();
        realtime_schema::diff::diff(&old, &new)
    }
}

#[test]
fn optional_string_map_keys_becoming_uuids_break_history() {
    use realtime_schema::diff::{ChangeKind, Impact};

    let report = nested::report();
    for path in [".by_player", ".by_team[]"] {
        let change = report
            .changes
            .iter()
            .find(|change| {
                change.path == path
                    && matches!(
                        &change.kind,
                        ChangeKind::ConstraintTightened { constraint, .. } if constraint == "propertyNames"
                    )
            })
            .unwrap_or_else(|| panic!("no change of the key type at {path}: {report:#?}"));
        assert_eq!(
            (change.consumers, change.history),
            (Impact::Safe, Impact::Breaking),
            "{path}"
        );
    }
}

#[test]
fn an_optional_u32_becoming_an_optional_decimal_breaks_old_clients_but_not_history() {
    use realtime_schema::diff::Impact;

    // The server reads stored numbers and `null` into the new type.
    let realtime = realtime_core::Realtime::<nested::v2::AppEvent>::memory();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for amount in [serde_json::json!(7), serde_json::Value::Null] {
        let data = serde_json::json!({ "amount": amount });
        let stored = runtime.block_on(realtime.emit_json("price.set", data));
        assert!(stored.is_ok(), "{stored:?}");
    }
    let stored = runtime.block_on(realtime.emit_json("prices.all", serde_json::json!([7, null])));
    assert!(stored.is_ok(), "{stored:?}");

    let report = nested::report();
    let decimals: Vec<_> = report
        .changes
        .iter()
        .filter(|change| change.event != "scores.set")
        .collect();
    assert!(
        decimals.iter().all(|change| change.history == Impact::Safe),
        "{report:#?}"
    );
    for (event, path) in [("price.set", ".amount"), ("prices.all", "[]")] {
        assert!(
            decimals.iter().any(|change| change.event == event
                && change.path == path
                && change.consumers == Impact::Breaking),
            "{event} {path}: {report:#?}"
        );
    }
}
