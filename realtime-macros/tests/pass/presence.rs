//! `#[event(presence)]`: the info type, the framework's events and their kinds, and the
//! change an event is.
#![deny(warnings)]

use realtime_core::{EventKind, Events, Member, PresenceChange, PresenceKind};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq)]
struct UserInfo {
    name: String,
}

#[derive(Events, Clone, Debug, PartialEq)]
enum AppEvent {
    #[event("chat.message")]
    Message(String),
    /// Who joined and left.
    #[event(presence)]
    Presence(PresenceChange<UserInfo>),
}

/// An enum of presence alone.
#[derive(Events, Clone, Debug, PartialEq)]
enum OnlyPresence {
    #[event(presence)]
    Presence(PresenceChange<UserInfo>),
}

fn main() {
    assert!(AppEvent::DECLARES_PRESENCE);
    assert_eq!(
        AppEvent::NAMES,
        ["chat.message", "presence.joined", "presence.left"]
    );
    assert_eq!(
        AppEventKind::from_name("presence.left"),
        Some(AppEventKind::Presence(PresenceKind::Left))
    );
    let ada = Member {
        id: "ada".to_owned(),
        info: UserInfo { name: "Ada".into() },
    };
    let joined = AppEvent::Presence(PresenceChange::Joined(ada.clone()));
    assert_eq!(joined.name(), "presence.joined");
    assert_eq!(
        joined.presence_change(),
        Some(&PresenceChange::Joined(ada.clone()))
    );
    assert_eq!(AppEvent::Message("hi".into()).presence_change(), None);
    let data = joined.to_data().unwrap();
    assert_eq!(data, serde_json::json!({"member": "ada", "info": {"name": "Ada"}}));
    assert_eq!(AppEvent::from_data("presence.joined", data).unwrap(), joined);
    let info: <AppEvent as Events>::Presence = ada.info;
    assert_eq!(info.name, "Ada");
    assert!(AppEvent::schema().event("presence.left").is_some());
    assert_eq!(OnlyPresence::NAMES.len(), 2);
}
