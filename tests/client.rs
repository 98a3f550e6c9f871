//! The TypeScript client (`client/`): `@realtime-rs/client` and `@realtime-rs/react`,
//! type-checked (strict), within their size budget, and tested with `node --test`: the
//! unit tests, the tests against `client-test-server` (this crate's binary) on the
//! embedded backend and on Redis, and the browser tests in headless Chromium (the React
//! hooks, tabs sharing one stream, emits made offline, and the same scenarios with the
//! unmodified `@upstash/realtime` client side by side). The client's generated module must
//! be what `realtime-schema` makes today.
//!
//! Needs node, `client/node_modules`, `tests/e2e/node_modules` and `/usr/bin/chromium`;
//! `scripts/test` installs them. Without them these tests fail (they never skip).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, Once};
use std::time::Instant;

use realtime_schema::ts::{ClientTarget, Options};
use realtime_tests::client_events::ClientTestEvent;
use realtime_tests::redis_url;

const SETUP_HINT: &str = "run `scripts/test` from the workspace root once: it installs \
    node's packages (client/, tests/e2e), Chromium and starts Redis, then runs the suite";

example_support::schema_freshness_tests!(
    ClientTestEvent,
    "../client/test/types/client-test-events.json",
    "../client/test/types/events.ts",
    Options {
        client: Some(ClientTarget::RealtimeRsReact),
        ..Options::default()
    },
);

fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .join("client")
}

/// The node suites take turns: their timing checks (a silent connection noticed within
/// twice the keepalive) must not share two cores with a browser.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Compiles both packages once (`tsc -b`, strict).
fn built() -> PathBuf {
    static BUILD: Once = Once::new();
    let dir = client_dir();
    BUILD.call_once(|| {
        assert!(
            dir.join("node_modules/typescript/package.json").is_file(),
            "client/node_modules is missing; {SETUP_HINT}"
        );
        run(
            &dir,
            "tsc -b packages/client packages/react",
            node(
                &dir,
                &[
                    "node_modules/typescript/bin/tsc",
                    "-b",
                    "packages/client",
                    "packages/react",
                ],
            ),
        );
    });
    dir
}

fn node(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("node");
    command
        .args(args)
        .current_dir(dir)
        .env(
            "CLIENT_TEST_SERVER",
            env!("CARGO_BIN_EXE_client-test-server"),
        )
        .env("REDIS_URL", redis_url())
        .env("CHROMIUM", "/usr/bin/chromium");
    command
}

/// Runs `command` with its output streamed; fails the test when it fails.
fn run(dir: &Path, what: &str, mut command: Command) {
    let started = Instant::now();
    let status = command
        .status()
        .unwrap_or_else(|error| panic!("cannot run node for `{what}` ({error}); {SETUP_HINT}"));
    assert!(
        status.success(),
        "`{what}` in {} failed ({status}) after {:.1} s; its output is above",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn typescript_is_strict_and_the_generated_module_types_the_client() {
    let dir = built();
    let tsc = "node_modules/typescript/bin/tsc";
    // Each `@ts-expect-error` line (a wrong event name, wrong data, a filter naming a
    // missing event) must be an error, or tsc fails.
    run(
        &dir,
        "tsc -p test/types",
        node(&dir, &[tsc, "-p", "test/types"]),
    );
    run(
        &dir,
        "tsc -p packages/react/test",
        node(&dir, &[tsc, "-p", "packages/react/test"]),
    );
}

/// The inspector page (`client/inspector`, embedded by realtime-axum): strict types, its
/// check of an emit's data (unit tests in Node), and the committed build (`realtime-axum/src/inspector/assets/inspector.html`) is what its
/// sources build to, within its size budget.
#[test]
fn the_inspector_page_type_checks_and_its_committed_build_is_fresh() {
    let dir = client_dir();
    let _one = one_at_a_time();
    run(
        &dir,
        "tsc -p inspector",
        node(
            &dir,
            &["node_modules/typescript/bin/tsc", "-p", "inspector"],
        ),
    );
    run(
        &dir,
        "node --test inspector/test/",
        node(&dir, &["--test", "inspector/test/"]),
    );
    run(
        &dir,
        "node scripts/build-inspector.mjs --check",
        node(&dir, &["scripts/build-inspector.mjs", "--check"]),
    );
}

/// The budgets (`client/scripts/size.mjs`): core 4.22 kB, its opt-in validation glue 0.5 kB,
/// React 1.5 kB.
#[test]
fn what_ships_to_browsers_keeps_its_size_budget() {
    let dir = built();
    run(
        &dir,
        "node scripts/size.mjs",
        node(&dir, &["scripts/size.mjs"]),
    );
}

#[test]
fn the_unit_tests_pass() {
    let dir = built();
    run(
        &dir,
        "node --test packages/client/test/",
        node(&dir, &["--test", "packages/client/test/"]),
    );
}

#[test]
fn the_client_keeps_its_guarantees_against_the_real_server() {
    let dir = built();
    let _turn = one_at_a_time();
    let files: Vec<String> = std::fs::read_dir(dir.join("test"))
        .expect("client/test")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.ends_with(".test.mjs").then(|| format!("test/{name}"))
        })
        .collect();
    assert!(!files.is_empty(), "no test files in client/test");
    let mut args = vec!["--test"];
    args.extend(files.iter().map(String::as_str));
    run(&dir, "node --test test/*.test.mjs", node(&dir, &args));
}

#[test]
fn in_chromium_the_hooks_shared_tabs_and_offline_emits_keep_every_guarantee() {
    let dir = built();
    let _turn = one_at_a_time();
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing; {SETUP_HINT}"
    );
    run(
        &dir,
        "node --test test/browser/",
        node(&dir, &["--test", "test/browser/"]),
    );
}
