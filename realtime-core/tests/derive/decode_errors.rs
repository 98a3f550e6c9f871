//! Decode errors: unknown names list the expected ones, invalid data has its JSON path.

use realtime_core::{DecodeError, Events, UnknownEvent};
use serde_json::json;

use crate::fixtures::AppEvent;

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
