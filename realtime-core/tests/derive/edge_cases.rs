//! Edge cases: only flattened variants, deprecated and `cfg`-removed variants, and the
//! `validate` and `garde` field attributes.

use realtime_core::Events;
use serde_json::json;

use crate::fixtures::{Letters, LettersKind, billing};

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
