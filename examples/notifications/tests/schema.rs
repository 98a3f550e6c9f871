//! The committed schema and the generated TypeScript are what the code says today: a stale
//! file fails here. After an intended change:
//! `REALTIME_BLESS=1 cargo test -p notifications --test schema` and review the diff (or
//! `realtime-schema ts schema/notification-events.json -o web/src/events.ts --hook`).

use std::path::Path;

use notifications::NotificationEvent;
use realtime_core::Events;
use realtime_schema::check::{Generator, check_file, generator_of};
use realtime_schema::ts;

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schema/notification-events.json"
);
const TS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web/src/events.ts");

fn bless() -> bool {
    std::env::var_os("REALTIME_BLESS").is_some_and(|value| value == "1")
}

#[test]
fn the_committed_schema_is_fresh() {
    NotificationEvent::schema().assert_matches_file(SCHEMA);
}

#[test]
fn the_generated_typescript_is_fresh() {
    let schema: serde_json::Value =
        serde_json::from_str(&NotificationEvent::schema().to_pretty_json())
            .unwrap_or_else(|error| panic!("the schema is not JSON: {error}"));
    let generator = Generator::Ts(ts::Options {
        hook: true,
        ..ts::Options::default()
    });
    if bless() {
        let code = generator
            .generate(&schema)
            .unwrap_or_else(|error| panic!("generation failed: {error}"));
        std::fs::write(TS, code).unwrap_or_else(|error| panic!("cannot write {TS}: {error}"));
        return;
    }
    let contents = std::fs::read_to_string(TS)
        .unwrap_or_else(|error| panic!("cannot read {TS}: {error}; run with REALTIME_BLESS=1"));
    assert_eq!(
        generator_of(Path::new(TS), &contents).ok(),
        Some(generator),
        "{TS} must be generated with `realtime-schema ts --hook`"
    );
    let stale = check_file(
        Path::new("schema/notification-events.json"),
        &schema,
        Path::new(TS),
    )
    .unwrap_or_else(|error| panic!("cannot check {TS}: {error}"));
    assert!(
        stale.is_none(),
        "{TS} is stale; regenerate it (from examples/notifications): {}\nor run the test with REALTIME_BLESS=1",
        stale.unwrap_or_default()
    );
}
