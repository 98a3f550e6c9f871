//! The committed schema and the generated TypeScript are what the code says today: a stale
//! file fails here. After an intended change: `REALTIME_BLESS=1 cargo test -p chat --test schema`
//! and review the diff (or `realtime-schema ts schema/chat-events.json -o web/src/events.ts --hook`).

use chat::ChatEvent;
use realtime_core::Events;
use realtime_schema::check::{Generator, assert_generated_file};
use realtime_schema::ts;

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/chat-events.json");
const TS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web/src/events.ts");

#[test]
fn the_committed_schema_is_fresh() {
    ChatEvent::schema().assert_matches_file(SCHEMA);
}

#[test]
fn the_generated_typescript_is_fresh() {
    let hook = Generator::Ts(ts::Options {
        hook: true,
        ..ts::Options::default()
    });
    assert_generated_file(
        "schema/chat-events.json",
        &ChatEvent::schema().document(),
        TS,
        &hook,
    );
}
