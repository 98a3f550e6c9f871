//! The generated code names every path absolutely: it compiles with the usual crate and
//! prelude names shadowed, and is warning-free and documented for a public enum.
#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    unused_qualifications
)]
#![forbid(unsafe_code)]

/// Events of an app whose crate shadows every name the generated code could rely on.
pub mod app {
    #![allow(dead_code, non_camel_case_types)]

    use ::realtime_core::Events;

    mod core {}
    mod std {}
    mod serde {}
    mod serde_json {}
    mod schemars {}
    mod realtime_core {}
    struct Option;
    struct Result;
    struct Vec;
    struct Box;
    struct Default;
    struct Value;

    /// Skips empty texts.
    fn is_empty(text: &::std::string::String) -> bool {
        text.is_empty()
    }

    /// Writes a number as text.
    fn as_text<S: ::realtime_core::__private::serde::Serializer>(
        level: &u8,
        serializer: S,
    ) -> ::core::result::Result<S::Ok, S::Error> {
        serializer.collect_str(level)
    }

    /// The events.
    #[derive(Events, Clone, Debug, PartialEq)]
    #[events(namespace = "app")]
    pub enum AppEvent {
        /// Started.
        Started,
        /// A message.
        Message(::std::string::String),
        /// A user joined.
        Joined {
            /// The user id.
            id: ::std::string::String,
            /// The nickname.
            #[serde(default, skip_serializing_if = "is_empty")]
            nick: ::std::string::String,
            /// Serialized by a function: schemars then names `serde::Serialize` itself.
            #[serde(default, serialize_with = "as_text")]
            level: u8,
        },
        /// Scores: the derive describes the maps' keys inside the wrappers.
        Scores {
            /// By level, by team.
            by_level: ::std::option::Option<
                ::std::vec::Vec<
                    ::std::collections::BTreeMap<u8, ::std::vec::Vec<::std::collections::BTreeMap<u8, u32>>>,
                >,
            >,
            /// By pair.
            pairs: [::std::collections::BTreeMap<u8, u32>; 2],
        },
        /// Levels as data.
        Levels(::std::option::Option<::std::collections::BTreeMap<u8, ::std::boxed::Box<u32>>>),
        /// Billing.
        #[event(flatten)]
        Billing(super::billing::BillingEvent),
    }
}

/// Billing events.
pub mod billing {
    use realtime_core::Events;

    /// The billing events.
    #[derive(Events, Clone, Debug, PartialEq)]
    #[events(namespace = "billing", rename_all = "snake_case")]
    pub enum BillingEvent {
        /// Paid.
        InvoicePaid {
            /// In cents.
            amount: u64,
        },
    }
}

fn main() {
    use realtime_core::{EventKind, Events};

    let event = app::AppEvent::Joined {
        id: "u1".to_owned(),
        nick: String::new(),
        level: 0,
    };
    let data = event.to_data().unwrap();
    assert_eq!(data, serde_json::json!({ "id": "u1", "level": "0" }));
    let back = app::AppEvent::from_data("app.joined", serde_json::json!({ "id": "u1" }));
    assert_eq!(back.unwrap(), event);
    assert_eq!(
        app::AppEventKind::ALL.last().map(|kind| kind.name()),
        Some("billing.invoice_paid")
    );
    assert_eq!(<app::AppEventKind as EventKind>::ALL.len(), 6);
    let schema = app::AppEvent::schema().to_pretty_json();
    assert_eq!(schema.matches("\"propertyNames\"").count(), 4, "{schema}");
}
