//! The committed schema and the generated TypeScript are what the code says today: a stale
//! file fails here. After an intended change: `REALTIME_BLESS=1 cargo test -p notifications --test schema`
//! and review the diff (or `realtime-schema ts schema/notification-events.json -o web/src/events.ts --hook`).

example_support::schema_freshness_tests!(
    notifications::NotificationEvent,
    "schema/notification-events.json",
    "web/src/events.ts"
);
