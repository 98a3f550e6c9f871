#![deny(warnings)]
#![forbid(unsafe_code)]

use realtime_core::Events;
use serde_json::json;

mod billing {
    use realtime_core::Events;

    #[derive(Events, Clone, Debug, PartialEq)]
    #[events(namespace = "billing")]
    pub(crate) enum BillingEvent {
        Paid { amount: u64 },
        Refunded(u64),
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct ChatMessage {
    text: String,
}

#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "chat", rename_all = "camelCase")]
enum AppEvent {
    /// An alert.
    #[event("notification.alert")]
    Alert(String),
    #[event("chat.message")]
    Message(ChatMessage),
    #[event("user.joined")]
    Joined {
        id: String,
        #[serde(rename = "displayName")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avatar: Option<String>,
        #[schemars(length(max = 280))]
        bio: String,
    },
    #[event("system.reset")]
    Reset,
    RunFinish,
    #[event(flatten)]
    Billing(billing::BillingEvent),
}

#[test]
fn smoke() {
    assert_eq!(
        AppEvent::NAMES,
        &["notification.alert", "chat.message", "user.joined", "system.reset", "chat.runFinish", "billing.paid", "billing.refunded"]
    );
    let e = AppEvent::Joined { id: "1".into(), name: "n".into(), avatar: None, bio: "b".into() };
    let data = e.to_data().unwrap();
    assert_eq!(data, json!({"id": "1", "displayName": "n", "bio": "b"}));
    assert_eq!(AppEvent::from_data(e.name(), data).unwrap(), e);
    assert_eq!(AppEventKind::ALL.len(), 7);
    for (i, k) in AppEventKind::ALL.iter().enumerate() {
        assert_eq!(k.index(), i);
    }
    println!("{}", AppEvent::schema().to_pretty_json());
}
