//! Presence in the schema document and the generated TypeScript: an event set with
//! `#[event(presence)]` exports `presence.joined` and `presence.left` with the member
//! record (`PresenceMember`: the id and the app's info type), and the zod module has them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use realtime_core::{Events, PresenceChange};
use realtime_schema::{Document, ts};
use serde_json::json;

/// What a member tells about itself.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq)]
struct UserInfo {
    #[schemars(length(min = 1, max = 40))]
    name: String,
}

#[derive(Events, Clone, Debug, PartialEq)]
enum RoomEvent {
    #[event("room.message")]
    Message(String),
    /// Who joined and left.
    #[event(presence)]
    Presence(PresenceChange<UserInfo>),
}

#[test]
fn the_document_declares_the_presence_events_with_the_member_record() {
    let document = RoomEvent::schema().document();
    assert_eq!(
        document["x-realtime"]["events"],
        json!(["room.message", "presence.joined", "presence.left"])
    );
    let data: Vec<_> = document["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| variant["properties"]["data"].clone())
        .collect();
    assert_eq!(data[1], json!({"$ref": "#/$defs/PresenceMember"}));
    assert_eq!(data[2], json!({"$ref": "#/$defs/PresenceMember"}));
    let member = &document["$defs"]["PresenceMember"];
    assert_eq!(member["required"], json!(["member", "info"]));
    assert_eq!(
        member["properties"]["member"],
        json!({
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "description": "Who this is (e.g. a user id); two connections with the same id are one member."
        })
    );
    assert_eq!(
        member["properties"]["info"],
        json!({"$ref": "#/$defs/UserInfo"})
    );
    assert_eq!(
        document["$defs"]["UserInfo"]["properties"]["name"]["maxLength"],
        40
    );
}

#[test]
fn the_generated_typescript_has_the_presence_events() {
    let document = Document::from_value(&RoomEvent::schema().document()).unwrap();
    let generated = ts::generate(&document, &ts::Options::default()).unwrap();
    // The events are the namespace tree `schema.presence.joined` / `.left`, as the
    // @upstash/realtime client reads them.
    for expected in [
        "export const PresenceMember = z.object(",
        "  presence: {\n    /** A member joined the channel: its first connection opened. */\n    joined: PresenceMember,",
        "    /** A member left the channel: its last connection closed or expired. */\n    left: PresenceMember,\n  },",
    ] {
        assert!(
            generated.code.contains(expected),
            "{expected} missing from:\n{}",
            generated.code
        );
    }
    assert!(generated.warnings.is_empty(), "{:?}", generated.warnings);
}

#[test]
fn the_generated_rust_has_the_member_record() {
    let code = realtime_schema::rust::generate(&RoomEvent::schema().document()).unwrap();
    assert!(code.contains("pub struct PresenceMember"), "{code}");
    assert!(code.contains("\"presence.joined\""), "{code}");
}
