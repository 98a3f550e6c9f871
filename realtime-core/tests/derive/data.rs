//! Event data: every variant form round trips, with the serde attributes of its fields.

use realtime_core::{DecodeError, Events};
use serde_json::{Value, json};

use crate::fixtures::{AppEvent, billing, joined, money, samples};

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

#[test]
fn the_data_text_is_written_from_the_rust_value_in_declaration_order() {
    let texts: Vec<String> = samples()
        .iter()
        .map(|event| event.to_data_json().unwrap())
        .collect();
    // Declaration order (a `Value` would sort the keys), for every form; flattened maps
    // in their own order; unit variants `null`.
    assert_eq!(
        texts,
        [
            r#""Maintenance at noon""#,
            r#"{"userId":"u1","text":"hi"}"#,
            r#"{"userId":"u2","text":"hello","replyTo":"m1"}"#,
            r#"{"id":"u1","displayName":"Ada","bio":"Engines."}"#,
            r#"{"id":"u1","displayName":"Ada","avatar":"https://example.invalid/ada.png","bio":"Engines."}"#,
            "null",
            "null",
            r#"{"items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}"#,
            r#"{"order":"o1","total":{"cents":1250,"currency":"EUR"},"reference":"18446744073709551615"}"#,
            r#"{"orderId":"o1","tags":"gift,rush"}"#,
            r#"{"orderId":"o2","tags":"","priority":3}"#,
            r#"{"email":"ada@example.invalid","handle":"ada","theme":"dark"}"#,
            "{}",
            r#"{"type":"admin"}"#,
            r#"{"invoice":"i1","amount":{"cents":990,"currency":"EUR"}}"#,
            r#"{"cents":5,"currency":"EUR"}"#,
        ]
    );
    // The text and the value agree.
    for (event, text) in samples().iter().zip(&texts) {
        let parsed: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parsed, event.to_data().unwrap(), "{event:?}");
    }
}

#[test]
fn floats_are_written_as_serde_json_formats_them() {
    #[derive(Events, Clone, Debug, PartialEq)]
    enum Measured {
        #[event("m.single")]
        Single { value: f32 },
        #[event("m.double")]
        Double(f64),
    }
    let single = Measured::Single { value: 0.1 };
    assert_eq!(single.to_data_json().unwrap(), r#"{"value":0.1}"#);
    // A `Value` widens the f32 first: that is why the wire text does not come from it.
    assert_eq!(
        single.to_data().unwrap().to_string(),
        r#"{"value":0.10000000149011612}"#
    );
    assert_eq!(Measured::Double(0.1).to_data_json().unwrap(), "0.1");
    let back = Measured::from_data(
        "m.single",
        serde_json::from_str(&single.to_data_json().unwrap()).unwrap(),
    );
    assert_eq!(back.unwrap(), single);
}
