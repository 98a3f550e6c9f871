//! The chat in headless Chromium: two server processes (`chat` binaries on two ports) over
//! one Redis (and again over a Redis Cluster), two people in two browser contexts chatting in `general` (typing indicator,
//! messages both ways), refused messages shown and not stored, a private room refusing an
//! uninvited name, and a reload showing the history once. The scenario is `web/e2e.mjs`;
//! the chat seen by the second person is saved as `target/chat-screenshot.png`. The UI is
//! type-checked first (`tsc --strict` against the generated `web/src/events.ts`).
//!
//! Needs node and npm (runs `npm ci` in `web/` when `node_modules` is missing), Chromium at
//! `/usr/bin/chromium` (or `CHROMIUM`), Redis at `REDIS_URL` (default
//! `redis://127.0.0.1:6379`) and a Redis Cluster at `REDIS_CLUSTER_URL` (default: the one
//! `scripts/cluster start` brings up). Without them it fails; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::path::Path;

use example_support::browser_test::{ExampleServer, build_page, run_scenario};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
const SCREENSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/chat-screenshot.png"
);
const CLUSTER_SCREENSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/chat-cluster-screenshot.png"
);

/// One browser at a time: the two cases would otherwise share the machine's two cores.
static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn two_people_on_two_servers_over_one_redis_chat_in_a_browser() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    chat_on_two_servers(&redis, SCREENSHOT);
}

#[test]
fn two_people_on_two_servers_over_a_redis_cluster_chat_in_a_browser() {
    let cluster = std::env::var("REDIS_CLUSTER_URL").unwrap_or_else(|_| {
        "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103".to_owned()
    });
    chat_on_two_servers(&cluster, CLUSTER_SCREENSHOT);
}

fn chat_on_two_servers(redis: &str, screenshot: &str) {
    let _one_browser = ONE_BROWSER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let web = Path::new(WEB);
    build_page(web);
    // A fresh key prefix: this run's rooms and messages only, whatever earlier runs left.
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    let prefix = format!("chat-test-{}-{millis}:", std::process::id());
    let start = || {
        ExampleServer::start(
            env!("CARGO_BIN_EXE_chat"),
            "chat",
            &[
                ("REDIS_URL", redis),
                ("REDIS_PREFIX", prefix.as_str()),
                ("CHAT_WEB_DIR", WEB),
            ],
        )
    };
    let (a, b) = (start(), start());
    run_scenario(web, &[&a.url, &b.url, screenshot]);
}
