//! The committed schema and the generated TypeScript are what the code says today: a stale
//! file fails here. After an intended change: `REALTIME_BLESS=1 cargo test -p progress --test schema`
//! and review the diff (or `realtime-schema ts schema/progress-events.json -o web/src/events.ts --client realtime-rs-react`).

example_support::schema_freshness_tests!(
    progress::JobEvent,
    "schema/progress-events.json",
    "web/src/events.ts",
    realtime_schema::ts::Options {
        client: Some(realtime_schema::ts::ClientTarget::RealtimeRsReact),
        ..Default::default()
    }
);
