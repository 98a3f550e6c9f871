//! The inspector at `/_realtime` in headless Chromium, on two chat servers over one Redis
//! (`web/inspector-e2e.mjs`): the admin token required by every api/ route, each view with
//! real data (events, the channels served, a channel's history and live tail, presence
//! with a join and a leave seen live, emit, health), an event
//! emitted through the other server seen in the live tail, an entry written straight into
//! Redis shown flagged with its path and rule, an invalid emit refused with its path and a
//! valid one stored. A screenshot of each view goes to `target/inspector/`.
//!
//! Needs what `tests/browser.rs` needs: node and npm, Chromium, Redis at `REDIS_URL`
//! (default `redis://127.0.0.1:6379`) and `redis-cli`. Without them it fails; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::path::Path;

use example_support::browser_test::{ExampleServer, build_page, run_script};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
const SCREENSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/inspector");
const TOKEN: &str = "inspector-test-admin-token";

#[test]
fn the_inspector_shows_every_view_with_real_data_to_the_admin_only() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let web = Path::new(WEB);
    build_page(web);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    let prefix = format!("inspector-test-{}-{millis}:", std::process::id());
    let start = || {
        ExampleServer::start(
            env!("CARGO_BIN_EXE_chat"),
            "chat",
            &[
                ("REDIS_URL", redis.as_str()),
                ("REDIS_PREFIX", prefix.as_str()),
                ("CHAT_WEB_DIR", WEB),
                ("CHAT_ADMIN_TOKEN", TOKEN),
            ],
        )
    };
    let (a, b) = (start(), start());
    let output = run_script(
        web,
        "inspector-e2e.mjs",
        &[&a.url, &b.url, &redis, &prefix, TOKEN, SCREENSHOTS],
    );
    assert!(output.contains("every view checked"), "{output}");
}
