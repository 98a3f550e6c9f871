//! `#[derive(Events)]`: names, the kind enum, data round trips for every variant form and
//! attribute, decode errors and schema snapshots. `deny(warnings)` proves the generated
//! code is warning-free.
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use realtime_core::{DecodeError, EventKind, Events, KindFilter, UnknownEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Used by two events (here and in billing): its schema must appear once in `$defs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Money {
    /// Amount in the smallest unit of the currency.
    cents: u64,
    currency: String,
}

mod billing {
    use realtime_core::Events;

    use super::Money;

    /// Billing events, included in `AppEvent` with `#[event(flatten)]`.
    #[derive(Events, Clone, Debug, PartialEq)]
    #[events(namespace = "billing")]
    pub(crate) enum BillingEvent {
        /// An invoice was paid.
        InvoicePaid { invoice: String, amount: Money },
        /// Money went back to the customer.
        Refunded(Money),
    }
}

/// A newtype's data type with its own serde attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChatMessage {
    user_id: String,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Order {
    items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Item {
    sku: String,
    qty: u32,
}

/// `#[serde(with = "u64_as_string")]`: a number carried as a string.
mod u64_as_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(D::Error::custom)
    }
}

/// `serialize_with`/`deserialize_with`: a list carried as one comma-separated string.
mod comma {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn join<S: Serializer>(tags: &[String], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&tags.join(","))
    }

    pub(crate) fn split<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<String>, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(text
            .split(',')
            .filter(|tag| !tag.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

fn is_zero(value: &u8) -> bool {
    *value == 0
}

/// Every variant form and field attribute the derive supports.
#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "app")]
enum AppEvent {
    /// A notification shown to every user.
    ///
    /// It disappears after a while.
    #[event("notification.alert")]
    Alert(String),
    /// A chat message.
    #[event("chat.message")]
    Message(ChatMessage),
    /// A user joined a room.
    #[event("user.joined")]
    Joined {
        /// The user id.
        id: String,
        /// The name shown to others.
        #[serde(rename = "displayName")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avatar: Option<String>,
        /// A short bio.
        #[schemars(length(max = 280))]
        bio: String,
    },
    /// Everything was reset.
    #[event("system.reset")]
    Reset,
    /// A run finished; its name is derived: `app.runFinished`.
    RunFinished,
    #[event("shop.order")]
    Ordered(Order),
    /// A payment was captured.
    #[event("shop.paid")]
    Paid {
        order: String,
        total: Money,
        /// The payment provider's reference, a number sent as a string.
        #[serde(with = "u64_as_string")]
        #[schemars(with = "String")]
        reference: u64,
    },
    #[event("shop.tagged")]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    Tagged {
        order_id: String,
        #[serde(serialize_with = "comma::join", deserialize_with = "comma::split")]
        #[schemars(with = "String")]
        tags: Vec<String>,
        #[serde(default, skip_serializing_if = "is_zero")]
        #[schemars(range(max = 5))]
        priority: u8,
    },
    /// A profile was updated.
    #[event("user.profile")]
    #[schemars(rename = "UserProfile")]
    Profile {
        #[schemars(email)]
        email: String,
        #[schemars(regex(pattern = r"^[a-z0-9_]+$"))]
        handle: String,
        #[serde(flatten)]
        extra: BTreeMap<String, Value>,
    },
    #[event("app.ping")]
    Ping {},
    #[event("app.keyword")]
    Keyword { r#type: String },
    #[event(flatten)]
    Billing(billing::BillingEvent),
}

fn joined(avatar: Option<&str>) -> AppEvent {
    AppEvent::Joined {
        id: "u1".into(),
        name: "Ada".into(),
        avatar: avatar.map(str::to_owned),
        bio: "Engines.".into(),
    }
}

fn money(cents: u64) -> Money {
    Money {
        cents,
        currency: "EUR".into(),
    }
}

/// One event of every variant form, with and without optional fields.
fn samples() -> Vec<AppEvent> {
    vec![
        AppEvent::Alert("Maintenance at noon".into()),
        AppEvent::Message(ChatMessage {
            user_id: "u1".into(),
            text: "hi".into(),
            reply_to: None,
        }),
        AppEvent::Message(ChatMessage {
            user_id: "u2".into(),
            text: "hello".into(),
            reply_to: Some("m1".into()),
        }),
        joined(None),
        joined(Some("https://example.invalid/ada.png")),
        AppEvent::Reset,
        AppEvent::RunFinished,
        AppEvent::Ordered(Order {
            items: vec![
                Item {
                    sku: "a".into(),
                    qty: 1,
                },
                Item {
                    sku: "b".into(),
                    qty: 2,
                },
            ],
        }),
        AppEvent::Paid {
            order: "o1".into(),
            total: money(1250),
            reference: 18_446_744_073_709_551_615,
        },
        AppEvent::Tagged {
            order_id: "o1".into(),
            tags: vec!["gift".into(), "rush".into()],
            priority: 0,
        },
        AppEvent::Tagged {
            order_id: "o2".into(),
            tags: vec![],
            priority: 3,
        },
        AppEvent::Profile {
            email: "ada@example.invalid".into(),
            handle: "ada".into(),
            extra: BTreeMap::from([("theme".into(), json!("dark"))]),
        },
        AppEvent::Ping {},
        AppEvent::Keyword {
            r#type: "admin".into(),
        },
        AppEvent::Billing(billing::BillingEvent::InvoicePaid {
            invoice: "i1".into(),
            amount: money(990),
        }),
        AppEvent::Billing(billing::BillingEvent::Refunded(money(5))),
    ]
}

// ---------------------------------------------------------------------------------------
// Names

#[test]
fn names_are_in_declaration_order_with_flattened_names_in_place() {
    assert_eq!(
        AppEvent::NAMES,
        [
            "notification.alert",
            "chat.message",
            "user.joined",
            "system.reset",
            "app.runFinished",
            "shop.order",
            "shop.paid",
            "shop.tagged",
            "user.profile",
            "app.ping",
            "app.keyword",
            "billing.invoicePaid",
            "billing.refunded",
        ]
    );
    assert_eq!(AppEvent::TYPE_NAME, "AppEvent");
    assert_eq!(
        billing::BillingEvent::NAMES,
        ["billing.invoicePaid", "billing.refunded"]
    );
}

macro_rules! rule_enum {
    ($name:ident, $rule:literal) => {
        #[derive(Events, Clone, Debug, PartialEq)]
        #[events(namespace = "ns.sub", rename_all = $rule)]
        enum $name {
            RunFinished,
            HttpRequestSent(u32),
        }
    };
}

rule_enum!(Camel, "camelCase");
rule_enum!(Snake, "snake_case");
rule_enum!(Kebab, "kebab-case");
rule_enum!(Pascal, "PascalCase");
rule_enum!(ScreamingSnake, "SCREAMING_SNAKE_CASE");
rule_enum!(ScreamingKebab, "SCREAMING-KEBAB-CASE");
rule_enum!(Lower, "lowercase");
rule_enum!(Upper, "UPPERCASE");

#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "plain")]
enum DefaultRule {
    RunFinished,
    #[event("explicit.wins")]
    Explicit,
}

#[test]
fn derived_names_follow_each_rename_rule() {
    assert_eq!(
        Camel::NAMES,
        ["ns.sub.runFinished", "ns.sub.httpRequestSent"]
    );
    assert_eq!(
        Snake::NAMES,
        ["ns.sub.run_finished", "ns.sub.http_request_sent"]
    );
    assert_eq!(
        Kebab::NAMES,
        ["ns.sub.run-finished", "ns.sub.http-request-sent"]
    );
    assert_eq!(
        Pascal::NAMES,
        ["ns.sub.RunFinished", "ns.sub.HttpRequestSent"]
    );
    assert_eq!(
        ScreamingSnake::NAMES,
        ["ns.sub.RUN_FINISHED", "ns.sub.HTTP_REQUEST_SENT"]
    );
    assert_eq!(
        ScreamingKebab::NAMES,
        ["ns.sub.RUN-FINISHED", "ns.sub.HTTP-REQUEST-SENT"]
    );
    assert_eq!(
        Lower::NAMES,
        ["ns.sub.runfinished", "ns.sub.httprequestsent"]
    );
    assert_eq!(
        Upper::NAMES,
        ["ns.sub.RUNFINISHED", "ns.sub.HTTPREQUESTSENT"]
    );
    assert_eq!(DefaultRule::NAMES, ["plain.runFinished", "explicit.wins"]);
    // The derived name is the wire name too.
    assert_eq!(Snake::HttpRequestSent(7).name(), "ns.sub.http_request_sent");
    assert_eq!(
        Snake::from_data("ns.sub.http_request_sent", json!(7)).unwrap(),
        Snake::HttpRequestSent(7)
    );
}

// ---------------------------------------------------------------------------------------
// Data

#[test]
fn every_variant_form_round_trips_exactly() {
    for event in samples() {
        let data = event.to_data().unwrap();
        // Through text too, as it travels and is stored.
        let data: Value = serde_json::from_str(&data.to_string()).unwrap();
        let back = AppEvent::from_data(event.name(), data.clone())
            .unwrap_or_else(|error| panic!("{event:?} with data {data} failed: {error}"));
        assert_eq!(back, event);
    }
}

#[test]
fn unit_data_is_null() {
    assert_eq!(AppEvent::Reset.to_data().unwrap(), Value::Null);
    assert_eq!(AppEvent::RunFinished.to_data().unwrap(), Value::Null);
}

#[test]
fn newtype_data_is_the_inner_value_with_its_own_serde_attributes() {
    assert_eq!(AppEvent::Alert("hi".into()).to_data().unwrap(), json!("hi"));
    let message = &samples()[2];
    assert_eq!(
        message.to_data().unwrap(),
        json!({ "userId": "u2", "text": "hello", "replyTo": "m1" })
    );
}

#[test]
fn struct_data_is_an_object_of_the_fields_with_their_serde_attributes() {
    // rename, skip_serializing_if (None is left out).
    assert_eq!(
        joined(None).to_data().unwrap(),
        json!({ "id": "u1", "displayName": "Ada", "bio": "Engines." })
    );
    assert_eq!(
        joined(Some("a.png")).to_data().unwrap(),
        json!({ "id": "u1", "displayName": "Ada", "avatar": "a.png", "bio": "Engines." })
    );
    // with = "module".
    assert_eq!(
        samples()[8].to_data().unwrap(),
        json!({
            "order": "o1",
            "total": { "cents": 1250, "currency": "EUR" },
            "reference": "18446744073709551615",
        })
    );
    // Variant-level rename_all, serialize_with, a custom skip_serializing_if.
    assert_eq!(
        samples()[9].to_data().unwrap(),
        json!({ "orderId": "o1", "tags": "gift,rush" })
    );
    assert_eq!(
        samples()[10].to_data().unwrap(),
        json!({ "orderId": "o2", "tags": "", "priority": 3 })
    );
    // flatten.
    assert_eq!(
        samples()[11].to_data().unwrap(),
        json!({ "email": "ada@example.invalid", "handle": "ada", "theme": "dark" })
    );
    // No fields, raw identifiers.
    assert_eq!(AppEvent::Ping {}.to_data().unwrap(), json!({}));
    assert_eq!(
        AppEvent::Keyword {
            r#type: "admin".into()
        }
        .to_data()
        .unwrap(),
        json!({ "type": "admin" })
    );
}

#[test]
fn missing_fields_with_serde_default_take_their_default() {
    assert_eq!(
        AppEvent::from_data(
            "user.joined",
            json!({ "id": "u1", "displayName": "Ada", "bio": "Engines." })
        )
        .unwrap(),
        joined(None)
    );
    assert_eq!(
        AppEvent::from_data("shop.tagged", json!({ "orderId": "o1", "tags": "a,b" })).unwrap(),
        AppEvent::Tagged {
            order_id: "o1".into(),
            tags: vec!["a".into(), "b".into()],
            priority: 0,
        }
    );
}

#[test]
fn deserialize_with_and_with_decode_the_custom_forms() {
    assert_eq!(
        AppEvent::from_data(
            "shop.paid",
            json!({ "order": "o", "total": { "cents": 1, "currency": "EUR" }, "reference": "42" })
        )
        .unwrap(),
        AppEvent::Paid {
            order: "o".into(),
            total: money(1),
            reference: 42,
        }
    );
    let error = AppEvent::from_data(
        "shop.paid",
        json!({ "order": "o", "total": { "cents": 1, "currency": "EUR" }, "reference": 42 }),
    )
    .unwrap_err();
    assert!(
        matches!(&error, DecodeError::InvalidData { event: "shop.paid", path, .. } if path == "reference"),
        "{error}"
    );
}

#[test]
fn deny_unknown_fields_on_a_variant_refuses_extra_fields() {
    let error = AppEvent::from_data(
        "shop.tagged",
        json!({ "orderId": "o1", "tags": "", "color": "red" }),
    )
    .unwrap_err();
    let DecodeError::InvalidData { event, message, .. } = &error else {
        panic!("expected invalid data, got {error:?}");
    };
    assert_eq!(*event, "shop.tagged");
    assert!(message.contains("unknown field `color`"), "{message}");
}

#[test]
fn flattened_variants_delegate_to_the_inner_enum() {
    let paid = AppEvent::Billing(billing::BillingEvent::InvoicePaid {
        invoice: "i1".into(),
        amount: money(990),
    });
    assert_eq!(paid.name(), "billing.invoicePaid");
    assert_eq!(
        paid.to_data().unwrap(),
        json!({ "invoice": "i1", "amount": { "cents": 990, "currency": "EUR" } })
    );
    assert_eq!(
        AppEvent::from_data("billing.refunded", json!({ "cents": 5, "currency": "EUR" })).unwrap(),
        AppEvent::Billing(billing::BillingEvent::Refunded(money(5)))
    );
}

// ---------------------------------------------------------------------------------------
// Decode errors

#[test]
fn unknown_event_error_lists_the_expected_names() {
    let error = AppEvent::from_data("chat.mesage", json!("x")).unwrap_err();
    assert_eq!(
        error,
        DecodeError::UnknownEvent(UnknownEvent {
            name: "chat.mesage".into(),
            expected: AppEvent::NAMES,
        })
    );
    let message = error.to_string();
    assert!(
        message.starts_with(
            "unknown event `chat.mesage`; expected one of: notification.alert, chat.message, user.joined,"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("billing.invoicePaid, billing.refunded"),
        "{message}"
    );
}

#[test]
fn invalid_data_error_has_the_json_path_of_the_offending_value() {
    let error = AppEvent::from_data(
        "shop.order",
        json!({ "items": [{ "sku": "a", "qty": 1 }, { "sku": "b", "qty": "two" }] }),
    )
    .unwrap_err();
    assert_eq!(
        error,
        DecodeError::InvalidData {
            event: "shop.order",
            path: "items[1].qty".into(),
            message: "invalid type: string \"two\", expected u32".into(),
        }
    );
    // Inside a struct-like variant, with the renamed key.
    let error = AppEvent::from_data(
        "user.joined",
        json!({ "id": "u1", "displayName": 3, "bio": "" }),
    )
    .unwrap_err();
    assert!(
        matches!(&error, DecodeError::InvalidData { event: "user.joined", path, .. } if path == "displayName"),
        "{error}"
    );
    // A missing required field.
    let error = AppEvent::from_data("user.joined", json!({ "id": "u1" })).unwrap_err();
    assert!(
        error.to_string().contains("missing field `displayName`"),
        "{error}"
    );
    // Through a flattened enum: the inner event is named.
    let error = AppEvent::from_data(
        "billing.invoicePaid",
        json!({ "invoice": "i", "amount": { "cents": -1, "currency": "EUR" } }),
    )
    .unwrap_err();
    assert!(
        matches!(&error, DecodeError::InvalidData { event: "billing.invoicePaid", path, .. } if path == "amount.cents"),
        "{error}"
    );
}

#[test]
fn unit_event_refuses_data_other_than_null() {
    let error = AppEvent::from_data("system.reset", json!({})).unwrap_err();
    assert_eq!(
        error,
        DecodeError::InvalidData {
            event: "system.reset",
            path: ".".into(),
            message: "expected null, found an object".into(),
        }
    );
}

// ---------------------------------------------------------------------------------------
// The kind enum

#[test]
fn kind_all_lists_every_kind_in_declaration_order_with_flattened_kinds_in_place() {
    use billing::BillingEventKind;
    assert_eq!(
        AppEventKind::ALL,
        [
            AppEventKind::Alert,
            AppEventKind::Message,
            AppEventKind::Joined,
            AppEventKind::Reset,
            AppEventKind::RunFinished,
            AppEventKind::Ordered,
            AppEventKind::Paid,
            AppEventKind::Tagged,
            AppEventKind::Profile,
            AppEventKind::Ping,
            AppEventKind::Keyword,
            AppEventKind::Billing(BillingEventKind::InvoicePaid),
            AppEventKind::Billing(BillingEventKind::Refunded),
        ]
    );
    assert_eq!(<AppEventKind as EventKind>::ALL, AppEventKind::ALL);
}

#[test]
fn kind_index_name_and_all_agree_with_names() {
    assert_eq!(AppEventKind::ALL.len(), AppEvent::NAMES.len());
    for (index, kind) in AppEventKind::ALL.iter().enumerate() {
        assert_eq!(kind.index(), index, "{kind:?}");
        assert_eq!(EventKind::index(*kind), index);
        assert_eq!(kind.name(), AppEvent::NAMES[index]);
        assert_eq!(EventKind::name(*kind), AppEvent::NAMES[index]);
        assert_eq!(AppEventKind::from_name(kind.name()), Some(*kind));
    }
    assert_eq!(AppEventKind::from_name("chat"), None);
    assert_eq!(AppEventKind::from_name("billing"), None);
}

#[test]
fn kind_order_is_declaration_order() {
    let mut sorted = AppEventKind::ALL.to_vec();
    sorted.reverse();
    sorted.sort();
    assert_eq!(sorted, AppEventKind::ALL);
}

#[test]
fn kind_of_each_event_has_the_event_name() {
    for event in samples() {
        let kind = event.kind();
        assert_eq!(kind.name(), event.name());
        assert_eq!(AppEvent::NAMES[kind.index()], event.name());
    }
    assert_eq!(
        AppEvent::Billing(billing::BillingEvent::Refunded(money(1))).kind(),
        AppEventKind::Billing(billing::BillingEventKind::Refunded)
    );
}

#[test]
fn kind_display_and_from_str_use_the_event_name() {
    assert_eq!(AppEventKind::Message.to_string(), "chat.message");
    assert_eq!(format!("[{:>14}]", AppEventKind::Reset), "[  system.reset]");
    assert_eq!(
        AppEventKind::Billing(billing::BillingEventKind::Refunded).to_string(),
        "billing.refunded"
    );
    assert_eq!(
        "user.joined".parse::<AppEventKind>(),
        Ok(AppEventKind::Joined)
    );
    assert_eq!(
        "billing.invoicePaid".parse::<AppEventKind>(),
        Ok(AppEventKind::Billing(
            billing::BillingEventKind::InvoicePaid
        ))
    );
}

#[test]
fn kind_from_str_error_names_the_input_and_lists_expected_names() {
    let error = "user.left".parse::<AppEventKind>().unwrap_err();
    assert_eq!(error.name, "user.left");
    assert_eq!(error.expected, AppEvent::NAMES);
    assert!(
        error.to_string().starts_with(
            "unknown event `user.left`; expected one of: notification.alert, chat.message,"
        ),
        "{error}"
    );
    let error = "billing.paid"
        .parse::<billing::BillingEventKind>()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown event `billing.paid`; expected one of: billing.invoicePaid, billing.refunded"
    );
}

#[test]
fn kind_serializes_as_the_event_name() {
    assert_eq!(
        serde_json::to_value(AppEventKind::Joined).unwrap(),
        json!("user.joined")
    );
    assert_eq!(
        serde_json::to_value([
            AppEventKind::Reset,
            AppEventKind::Billing(billing::BillingEventKind::Refunded)
        ])
        .unwrap(),
        json!(["system.reset", "billing.refunded"])
    );
    for kind in AppEventKind::ALL {
        let text = serde_json::to_string(kind).unwrap();
        assert_eq!(serde_json::from_str::<AppEventKind>(&text).unwrap(), *kind);
    }
    // From a borrowed and from an owned string.
    assert_eq!(
        serde_json::from_value::<AppEventKind>(json!("shop.paid")).unwrap(),
        AppEventKind::Paid
    );
}

#[test]
fn kind_deserialize_refuses_unknown_names_and_non_strings() {
    let error = serde_json::from_str::<AppEventKind>("\"shop.refund\"").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unknown event `shop.refund`; expected one of: notification.alert,"),
        "{error}"
    );
    let error = serde_json::from_str::<AppEventKind>("3").unwrap_err();
    assert!(
        error.to_string().contains("expected an event name"),
        "{error}"
    );
}

#[test]
fn kind_filter_works_with_flattened_kinds() {
    let filter = KindFilter::of([
        AppEventKind::Message,
        AppEventKind::Billing(billing::BillingEventKind::Refunded),
    ]);
    assert!(filter.contains(AppEventKind::Message));
    assert!(filter.contains(AppEventKind::Billing(billing::BillingEventKind::Refunded)));
    assert!(!filter.contains(AppEventKind::Billing(
        billing::BillingEventKind::InvoicePaid
    )));
    assert!(!filter.contains(AppEventKind::Alert));
    assert!(KindFilter::all::<AppEventKind>().contains(AppEventKind::Keyword));
}

// ---------------------------------------------------------------------------------------
// Nested and leading flattens: offsets are sums of the inner name counts.

#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "a")]
enum Letters {
    X,
    Y(u8),
}

#[derive(Events, Clone, Debug, PartialEq)]
enum Nested {
    #[event(flatten)]
    Letters(Letters),
    #[event("n.middle")]
    Middle,
    #[event(flatten)]
    Billing(billing::BillingEvent),
}

#[derive(Events, Clone, Debug, PartialEq)]
enum Outer {
    #[event(flatten)]
    Nested(Nested),
    #[event("o.last")]
    Last { at: u64 },
}

#[test]
fn nested_flattens_concatenate_names_and_offset_indexes() {
    assert_eq!(
        Outer::NAMES,
        [
            "a.x",
            "a.y",
            "n.middle",
            "billing.invoicePaid",
            "billing.refunded",
            "o.last"
        ]
    );
    assert_eq!(OuterKind::ALL.len(), 6);
    for (index, kind) in OuterKind::ALL.iter().enumerate() {
        assert_eq!(kind.index(), index, "{kind:?}");
        assert_eq!(kind.name(), Outer::NAMES[index]);
        assert_eq!(kind.name().parse::<OuterKind>(), Ok(*kind));
    }
    assert_eq!(
        OuterKind::ALL[4],
        OuterKind::Nested(NestedKind::Billing(billing::BillingEventKind::Refunded))
    );
    let event = Outer::Nested(Nested::Letters(Letters::Y(9)));
    assert_eq!(event.name(), "a.y");
    assert_eq!(
        Outer::from_data("a.y", event.to_data().unwrap()).unwrap(),
        event
    );
    let last = Outer::Last { at: 7 };
    assert_eq!(
        Outer::from_data("o.last", last.to_data().unwrap()).unwrap(),
        last
    );
}

// ---------------------------------------------------------------------------------------
// Schema

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

// ---------------------------------------------------------------------------------------
// Edge cases

#[derive(Events, Clone, Debug, PartialEq)]
enum OnlyFlattened {
    #[event(flatten)]
    Billing(billing::BillingEvent),
    #[event(flatten)]
    Letters(Letters),
}

#[test]
fn an_enum_of_only_flattened_enums_lists_their_kinds() {
    assert_eq!(
        OnlyFlattened::NAMES,
        ["billing.invoicePaid", "billing.refunded", "a.x", "a.y"]
    );
    assert_eq!(
        OnlyFlattenedKind::ALL,
        [
            OnlyFlattenedKind::Billing(billing::BillingEventKind::InvoicePaid),
            OnlyFlattenedKind::Billing(billing::BillingEventKind::Refunded),
            OnlyFlattenedKind::Letters(LettersKind::X),
            OnlyFlattenedKind::Letters(LettersKind::Y),
        ]
    );
    assert_eq!(OnlyFlattenedKind::Letters(LettersKind::Y).index(), 3);
}

#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "legacy")]
enum WithDeprecated {
    Current,
    #[deprecated = "use Current"]
    Old {
        value: u8,
    },
    #[cfg(any())]
    Compiled,
    Partial {
        kept: u8,
        #[cfg(any())]
        removed: u8,
    },
}

#[test]
fn deprecated_and_cfg_removed_variants_compile_cleanly() {
    assert_eq!(
        WithDeprecated::NAMES,
        ["legacy.current", "legacy.old", "legacy.partial"]
    );
    let partial = WithDeprecated::Partial { kept: 1 };
    assert_eq!(partial.to_data().unwrap(), json!({ "kept": 1 }));
    assert_eq!(
        WithDeprecated::from_data("legacy.partial", json!({ "kept": 1 })).unwrap(),
        partial
    );
}

#[derive(Events, Clone, Debug, PartialEq)]
enum Validated {
    #[event("form.sent")]
    Sent {
        #[validate(length(min = 1, max = 40))]
        title: String,
        #[garde(range(min = 1, max = 10))]
        count: u8,
    },
}

#[test]
fn validate_and_garde_field_attributes_reach_the_schema() {
    let schema = Validated::schema();
    let sent = &schema.definitions["ValidatedSent"]["properties"];
    assert_eq!(sent["title"]["minLength"], 1);
    assert_eq!(sent["title"]["maxLength"], 40);
    assert_eq!(sent["count"]["minimum"], 1);
    assert_eq!(sent["count"]["maximum"], 10);
    let event = Validated::Sent {
        title: "t".into(),
        count: 2,
    };
    assert_eq!(
        Validated::from_data("form.sent", event.to_data().unwrap()).unwrap(),
        event
    );
}
