//! The event enums the tests share: `AppEvent` with every variant form and field attribute
//! the derive supports, the billing enum it flattens, and a nest of flattened enums.

use std::collections::BTreeMap;

use realtime_core::Events;
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

pub(crate) mod billing {
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
pub(crate) enum AppEvent {
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

pub(crate) fn joined(avatar: Option<&str>) -> AppEvent {
    AppEvent::Joined {
        id: "u1".into(),
        name: "Ada".into(),
        avatar: avatar.map(str::to_owned),
        bio: "Engines.".into(),
    }
}

pub(crate) fn money(cents: u64) -> Money {
    Money {
        cents,
        currency: "EUR".into(),
    }
}

/// One event of every variant form, with and without optional fields.
pub(crate) fn samples() -> Vec<AppEvent> {
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

// Nested and leading flattens: offsets are sums of the inner name counts.

#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "a")]
pub(crate) enum Letters {
    X,
    Y(u8),
}

#[derive(Events, Clone, Debug, PartialEq)]
pub(crate) enum Nested {
    #[event(flatten)]
    Letters(Letters),
    #[event("n.middle")]
    Middle,
    #[event(flatten)]
    Billing(billing::BillingEvent),
}

#[derive(Events, Clone, Debug, PartialEq)]
pub(crate) enum Outer {
    #[event(flatten)]
    Nested(Nested),
    #[event("o.last")]
    Last { at: u64 },
}
