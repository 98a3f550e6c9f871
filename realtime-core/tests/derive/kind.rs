//! The kind enum: `ALL`, `index`, `name`, `Display`, `FromStr`, serde and `KindFilter`.

use realtime_core::{EventKind, Events, KindFilter};
use serde_json::json;

use crate::fixtures::{
    AppEvent, AppEventKind, Letters, Nested, NestedKind, Outer, OuterKind, billing, money, samples,
};

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
