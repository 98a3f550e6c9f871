//! The schema-freshness tests of an example: its committed JSON Schema and the TypeScript
//! its page imports are what the event set says today.

use std::path::Path;

use realtime_core::Events;
use realtime_schema::check::{Generator, assert_generated_file};
use realtime_schema::ts;

/// Asserts that `schema` (relative to `manifest_dir`) is the committed JSON Schema of `E`
/// today; `REALTIME_BLESS=1` rewrites it instead.
///
/// # Panics
/// When the file is missing or stale.
pub fn assert_schema_fresh<E: Events>(manifest_dir: &str, schema: &str) {
    E::schema().assert_matches_file(Path::new(manifest_dir).join(schema));
}

/// Asserts that `typescript` (relative to `manifest_dir`) is what
/// `realtime-schema ts <schema> --hook` makes of `E`'s schema today; `REALTIME_BLESS=1`
/// rewrites it instead.
///
/// # Panics
/// When the file is missing, was generated otherwise, or is stale; the message has the
/// command that regenerates it.
pub fn assert_typescript_fresh<E: Events>(manifest_dir: &str, schema: &str, typescript: &str) {
    let hook = ts::Options {
        hook: true,
        ..ts::Options::default()
    };
    assert_typescript_fresh_with::<E>(manifest_dir, schema, typescript, hook);
}

/// [`assert_typescript_fresh`] for a module generated with other `options`, e.g.
/// `--client realtime-rs-react`.
///
/// # Panics
/// As [`assert_typescript_fresh`].
pub fn assert_typescript_fresh_with<E: Events>(
    manifest_dir: &str,
    schema: &str,
    typescript: &str,
    options: ts::Options,
) {
    assert_generated_file(
        schema,
        &E::schema().document(),
        Path::new(manifest_dir).join(typescript),
        &Generator::Ts(options),
    );
}

/// The two freshness tests of an example's events: `the_committed_schema_is_fresh` and
/// `the_generated_typescript_is_fresh`, for the event set `$events`, its committed schema
/// and its generated TypeScript (paths relative to the calling crate's manifest).
///
/// ```text
/// example_support::schema_freshness_tests!(chat::ChatEvent, "schema/chat-events.json", "web/src/events.ts");
/// // generated with other options (the default: `--hook`):
/// example_support::schema_freshness_tests!(chat::ChatEvent, "schema/chat-events.json", "web/src/events.ts",
///     realtime_schema::ts::Options { client: Some(realtime_schema::ts::ClientTarget::RealtimeRsReact), ..Default::default() });
/// ```
#[macro_export]
macro_rules! schema_freshness_tests {
    ($events:ty, $schema:literal, $typescript:literal, $options:expr $(,)?) => {
        #[test]
        fn the_committed_schema_is_fresh() {
            $crate::testing::assert_schema_fresh::<$events>(env!("CARGO_MANIFEST_DIR"), $schema);
        }

        #[test]
        fn the_generated_typescript_is_fresh() {
            $crate::testing::assert_typescript_fresh_with::<$events>(
                env!("CARGO_MANIFEST_DIR"),
                $schema,
                $typescript,
                $options,
            );
        }
    };
    ($events:ty, $schema:literal, $typescript:literal $(,)?) => {
        #[test]
        fn the_committed_schema_is_fresh() {
            $crate::testing::assert_schema_fresh::<$events>(env!("CARGO_MANIFEST_DIR"), $schema);
        }

        #[test]
        fn the_generated_typescript_is_fresh() {
            $crate::testing::assert_typescript_fresh::<$events>(
                env!("CARGO_MANIFEST_DIR"),
                $schema,
                $typescript,
            );
        }
    };
}
