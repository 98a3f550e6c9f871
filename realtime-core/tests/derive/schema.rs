//! The schema: definitions, descriptions, constraints, shared `$defs` and snapshots.

use std::path::PathBuf;

use realtime_core::Events;
use serde_json::json;

use crate::fixtures::{AppEvent, Outer, billing};

fn snapshot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"))
}

#[test]
fn describe_lists_one_definition_per_name_in_order() {
    let schema = AppEvent::schema();
    let names: Vec<&str> = schema.events.iter().map(|event| event.name).collect();
    assert_eq!(names, AppEvent::NAMES);
    assert_eq!(schema.title, "AppEvent");
}

#[test]
fn doc_comments_become_descriptions() {
    let schema = AppEvent::schema();
    let description = |name: &str| {
        schema
            .event(name)
            .and_then(|event| event.description.clone())
    };
    assert_eq!(
        description("notification.alert").as_deref(),
        Some("A notification shown to every user.\n\nIt disappears after a while.")
    );
    assert_eq!(description("shop.order"), None);
    assert_eq!(
        description("billing.refunded").as_deref(),
        Some("Money went back to the customer.")
    );
    // Field docs describe the properties of the data.
    let joined = &schema.definitions["AppEventJoined"];
    assert_eq!(joined["description"], "A user joined a room.");
    assert_eq!(
        joined["properties"]["displayName"]["description"],
        "The name shown to others."
    );
}

#[test]
fn struct_like_data_is_a_ref_to_a_named_definition() {
    let schema = AppEvent::schema();
    let data = |name: &str| {
        schema
            .event(name)
            .map(|event| event.data.as_value().clone())
    };
    assert_eq!(
        data("user.joined"),
        Some(json!({ "$ref": "#/$defs/AppEventJoined" }))
    );
    assert_eq!(
        data("shop.paid"),
        Some(json!({ "$ref": "#/$defs/AppEventPaid" }))
    );
    assert_eq!(
        data("app.ping"),
        Some(json!({ "$ref": "#/$defs/AppEventPing" }))
    );
    // A variant-level #[schemars(rename)] names the definition.
    assert_eq!(
        data("user.profile"),
        Some(json!({ "$ref": "#/$defs/UserProfile" }))
    );
    assert_eq!(
        data("billing.invoicePaid"),
        Some(json!({ "$ref": "#/$defs/BillingEventInvoicePaid" }))
    );
    assert_eq!(data("system.reset"), Some(json!({ "type": "null" })));
    for name in [
        "AppEventJoined",
        "AppEventPaid",
        "AppEventTagged",
        "AppEventPing",
        "AppEventKeyword",
        "UserProfile",
        "BillingEventInvoicePaid",
    ] {
        assert!(schema.definitions.contains_key(name), "{name} missing");
    }
}

#[test]
fn schema_carries_the_field_constraints() {
    let schema = AppEvent::schema();
    let defs = &schema.definitions;
    assert_eq!(
        defs["AppEventJoined"]["properties"]["bio"]["maxLength"],
        280
    );
    assert_eq!(
        defs["AppEventTagged"]["properties"]["priority"]["maximum"],
        5
    );
    assert_eq!(
        defs["AppEventTagged"]["properties"]["tags"]["type"],
        "string"
    );
    assert_eq!(defs["AppEventTagged"]["additionalProperties"], false);
    assert_eq!(
        defs["UserProfile"]["properties"]["email"]["format"],
        "email"
    );
    assert_eq!(
        defs["UserProfile"]["properties"]["handle"]["pattern"],
        "^[a-z0-9_]+$"
    );
    assert_eq!(
        defs["AppEventPaid"]["properties"]["reference"]["type"],
        "string"
    );
    let required = &defs["AppEventJoined"]["required"];
    assert_eq!(required, &json!(["id", "displayName", "bio"]));
}

#[test]
fn a_type_shared_by_two_events_is_defined_once() {
    let document = AppEvent::schema().document();
    let text = document.to_string();
    assert_eq!(text.matches("\"#/$defs/Money\"").count(), 3, "{text}");
    let defs = document["$defs"].as_object().unwrap();
    assert_eq!(
        defs.keys().filter(|key| key.starts_with("Money")).count(),
        1
    );
}

#[test]
fn app_event_schema_matches_snapshot() {
    AppEvent::schema().assert_matches_file(snapshot("app_event"));
}

#[test]
fn flattened_enum_schema_matches_snapshot() {
    Outer::schema().assert_matches_file(snapshot("outer_flattened"));
}

#[test]
fn billing_event_schema_matches_snapshot() {
    billing::BillingEvent::schema().assert_matches_file(snapshot("billing_event"));
}

/// The schema of a map says what its keys may be, and a `url::Url` that it must parse as a
/// URL: schemars alone writes what it writes for `String` keys and `#[schemars(url)]`.
mod typed {
    use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

    use realtime_core::Events;
    use serde_json::json;

    /// An app's own type that is only called `Vec`: its own schema.
    mod own {
        #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug)]
        pub(crate) struct Vec<T>(pub(crate) std::vec::Vec<T>);
    }

    /// An app's own type that is only called `Url`: its own schema, no URL rules.
    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug)]
    pub(crate) struct Url {
        pub(crate) path: String,
    }

    // One variant holds many URLs, to test them all.
    #[allow(clippy::large_enum_variant)]
    #[derive(Events, Clone, Debug)]
    pub(crate) enum TypedEvent {
        #[event("keys.typed")]
        Keys {
            by_level: BTreeMap<u8, String>,
            by_letter: HashMap<char, u32>,
            by_name: HashMap<String, u32>,
            #[serde(flatten)]
            rest: BTreeMap<String, u32>,
        },
        #[event("link.shared")]
        Link { url: url::Url, own: Url },
        #[event("keys.data")]
        Data(BTreeMap<i8, bool>),
        #[event("nested.typed")]
        Nested {
            maybe_levels: Option<BTreeMap<u8, String>>,
            links: Vec<url::Url>,
            maybe_link: Option<url::Url>,
            deep: Option<HashMap<char, Vec<url::Url>>>,
            pair: [url::Url; 2],
            tagged: (u32, url::Url),
            boxed: Box<url::Url>,
            own: Option<Vec<Url>>,
            names: Option<HashMap<String, u32>>,
            queue: VecDeque<url::Url>,
            unique: HashSet<url::Url>,
            sliced: Box<[url::Url]>,
            own_list: own::Vec<Url>,
        },
        #[event("nested.data")]
        NestedData(Option<BTreeMap<i8, Vec<url::Url>>>),
        #[event("profile.patched")]
        Patched {
            #[serde(default, skip_serializing_if = "Option::is_none", with = "twice")]
            #[schemars(with = "Option<String>")]
            nickname: Option<Option<String>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            plain: Option<Option<String>>,
        },
    }

    /// A double option: `null` is `Some(None)`, absent is `None`.
    mod twice {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub(crate) fn serialize<S: Serializer>(
            value: &Option<Option<String>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            value
                .as_ref()
                .and_then(Option::as_ref)
                .serialize(serializer)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Option<String>>, D::Error> {
            Option::<String>::deserialize(deserializer).map(Some)
        }
    }

    #[test]
    fn a_double_option_read_its_own_way_is_marked() {
        let schema = TypedEvent::schema();
        let reference = schema.event("profile.patched").unwrap().data.as_value()["$ref"]
            .as_str()
            .unwrap()
            .trim_start_matches("#/$defs/")
            .to_owned();
        let properties = &schema.definitions[&reference]["properties"];
        assert_eq!(properties["nickname"]["x-double-option"], json!(true));
        // serde reads `null` as `None` here: nothing to mark.
        assert!(properties["plain"].get("x-double-option").is_none());
        let cleared =
            TypedEvent::from_data("profile.patched", json!({ "nickname": null })).unwrap();
        assert!(matches!(
            cleared,
            TypedEvent::Patched {
                nickname: Some(None),
                ..
            }
        ));
    }

    #[test]
    fn map_keys_and_urls_carry_what_serde_reads() {
        let schema = TypedEvent::schema();
        let data = |name: &str| {
            let event = schema.event(name).unwrap();
            let value = event.data.as_value().clone();
            match value.get("$ref").and_then(|reference| reference.as_str()) {
                Some(reference) => {
                    schema.definitions[reference.trim_start_matches("#/$defs/")].clone()
                }
                None => value,
            }
        };
        let keys = data("keys.typed");
        let properties = &keys["properties"];
        assert_eq!(
            properties["by_level"]["propertyNames"],
            json!({ "type": "string", "pattern": r"^(?:\d|[1-9]\d|1\d{2}|2[0-4]\d|25[0-5])$" })
        );
        assert_eq!(
            properties["by_letter"]["propertyNames"],
            json!({ "type": "string", "minLength": 1, "maxLength": 1 })
        );
        // Any string is a `String` key: nothing to add.
        assert!(properties["by_name"].get("propertyNames").is_none());
        // A flattened map's keys are the object's: no `propertyNames` binds the fields.
        assert!(keys.get("propertyNames").is_none());
        let link = data("link.shared");
        assert_eq!(link["properties"]["url"]["x-whatwg-url"], json!(true));
        assert_eq!(link["properties"]["url"]["format"], json!("uri"));
        assert_eq!(
            link["properties"]["own"],
            json!({ "$ref": "#/$defs/Url" }),
            "{link}"
        );
        assert_eq!(
            data("keys.data")["propertyNames"]["pattern"],
            json!(r"^(?:\d|[1-9]\d|1[0-1]\d|12[0-7]|-(?:[1-9]\d?|1[0-1]\d|12[0-8]))$")
        );
    }

    /// The data schema of `event`, its definition where it is a `$ref`.
    fn data_of(schema: &realtime_core::EventSchema, event: &str) -> serde_json::Value {
        let Some(definition) = schema.event(event) else {
            panic!("no event {event}");
        };
        let value = definition.data.as_value().clone();
        match value.get("$ref").and_then(|reference| reference.as_str()) {
            Some(reference) => schema.definitions[reference.trim_start_matches("#/$defs/")].clone(),
            None => value,
        }
    }

    #[test]
    fn map_keys_and_urls_inside_wrappers_carry_what_serde_reads() {
        let schema = TypedEvent::schema();
        let nested = data_of(&schema, "nested.typed");
        let properties = &nested["properties"];
        let u8_keys =
            json!({ "type": "string", "pattern": r"^(?:\d|[1-9]\d|1\d{2}|2[0-4]\d|25[0-5])$" });
        let url = json!({ "type": "string", "format": "uri", "x-whatwg-url": true });
        // An `Option` keeps schemars' nullable shape, with the facts beside it.
        assert_eq!(
            properties["maybe_levels"]["type"],
            json!(["object", "null"])
        );
        assert_eq!(properties["maybe_levels"]["propertyNames"], u8_keys);
        assert_eq!(
            properties["maybe_link"],
            json!({ "type": ["string", "null"], "format": "uri", "x-whatwg-url": true })
        );
        assert_eq!(
            properties["links"],
            json!({ "type": "array", "items": url })
        );
        // Each level of `Option<HashMap<char, Vec<Url>>>`.
        let deep = &properties["deep"];
        assert_eq!(deep["type"], json!(["object", "null"]));
        assert_eq!(
            deep["propertyNames"],
            json!({ "type": "string", "minLength": 1, "maxLength": 1 })
        );
        assert_eq!(deep["additionalProperties"]["items"], url);
        assert_eq!(
            properties["pair"],
            json!({ "type": "array", "items": url, "minItems": 2, "maxItems": 2 })
        );
        assert_eq!(properties["tagged"]["prefixItems"][1], url);
        assert_eq!(properties["boxed"], url);
        // The app's own `Url`: its own schema, inside wrappers too.
        assert_eq!(properties["own"]["items"], json!({ "$ref": "#/$defs/Url" }));
        for name in ["queue", "sliced"] {
            assert_eq!(
                properties[name],
                json!({ "type": "array", "items": url }),
                "{name}"
            );
        }
        assert_eq!(properties["unique"]["items"], url);
        assert_eq!(properties["unique"]["uniqueItems"], json!(true));
        // The app's own `Vec`: its own schema.
        assert!(properties["own_list"].get("$ref").is_some(), "{nested}");
        // `String` keys: nothing to add.
        assert!(
            properties["names"].get("propertyNames").is_none(),
            "{nested}"
        );
        let data = data_of(&schema, "nested.data");
        assert_eq!(data["type"], json!(["object", "null"]));
        assert_eq!(
            data["propertyNames"]["pattern"],
            json!(r"^(?:\d|[1-9]\d|1[0-1]\d|12[0-7]|-(?:[1-9]\d?|1[0-1]\d|12[0-8]))$")
        );
        assert_eq!(
            data["patternProperties"][r"^-?\d+$"]["items"], url,
            "{data}"
        );
    }

    #[test]
    fn option_fields_with_wrapped_facts_stay_optional_where_serde_reads_them_so() {
        let required = |schema: &realtime_core::EventSchema| {
            let mut names: Vec<String> = data_of(schema, "nested.typed")["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|name| name.as_str().unwrap().to_owned())
                .collect();
            names.sort_unstable();
            names
        };
        // serde writes every field (`null` for `None`)...
        assert_eq!(
            required(&TypedEvent::schema()),
            [
                "boxed",
                "deep",
                "links",
                "maybe_levels",
                "maybe_link",
                "names",
                "own",
                "own_list",
                "pair",
                "queue",
                "sliced",
                "tagged",
                "unique"
            ]
        );
        // ...and reads a missing `Option` as `None`.
        assert_eq!(
            required(&realtime_core::EventSchema::accepted_by::<TypedEvent>()),
            [
                "boxed", "links", "own_list", "pair", "queue", "sliced", "tagged", "unique"
            ]
        );
    }

    #[tokio::test]
    async fn the_server_refuses_keys_beyond_the_key_type() {
        let realtime = realtime_core::Realtime::<TypedEvent>::memory();
        let refused = realtime
            .emit_json("keys.data", json!({ "128": true }))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("128"), "{refused}");
        realtime
            .emit_json("keys.data", json!({ "-128": true, "127": false }))
            .await
            .unwrap();
    }
}
