//! The chat in headless Chromium: two server processes (`chat` binaries on two ports) over
//! one Redis (and again over a Redis Cluster), two people in two browser contexts chatting in `general` (typing indicator,
//! messages both ways), refused messages shown and not stored, a private room refusing an
//! uninvited name, a reload showing the history once, who's online (both listed; bob
//! leaves and ada's page drops him), and bob opening the room again (what he saw and what
//! ada said meanwhile, each once, in order). A second case kills one of two servers with SIGKILL
//! and watches its member disappear from the other's page within the presence TTL. The scenario is `web/e2e.mjs`;
//! the chat seen by the second person is saved as `target/chat-screenshot.png`. The UI is
//! built first (with the repository's client, `client/`, which it compiles) and
//! type-checked (`tsc --strict` against the generated `web/src/events.ts`).
//!
//! Needs node and npm (runs `npm ci` in `web/` when `node_modules` is missing), Chromium at
//! `/usr/bin/chromium` (or `CHROMIUM`), Redis at `REDIS_URL` (default
//! `redis://127.0.0.1:6379`) and a Redis Cluster at `REDIS_CLUSTER_URL` (default: the one
//! `scripts/cluster start` brings up). Without them it fails; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::path::Path;

use example_support::browser_test::{ExampleServer, build_page, run_scenario, run_script};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
const SCREENSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/chat-screenshot.png"
);
const PRESENCE_SCREENSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/chat-presence-screenshot.png"
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

/// Who's online in `general` across two servers on one Redis with a 3 s presence TTL;
/// the first is killed with SIGKILL and the second's page drops its member
/// (`web/presence-e2e.mjs`; the page is saved as `target/chat-presence-screenshot.png`).
#[test]
fn who_is_online_drops_the_members_of_a_killed_server_in_a_browser() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let _one_browser = ONE_BROWSER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let web = Path::new(WEB);
    build_page(web);
    let prefix = unique_prefix();
    let start = || {
        ExampleServer::start(
            env!("CARGO_BIN_EXE_chat"),
            "chat",
            &[
                ("REDIS_URL", redis.as_str()),
                ("REDIS_PREFIX", prefix.as_str()),
                ("CHAT_WEB_DIR", WEB),
                ("PRESENCE_TTL_SECS", "3"),
            ],
        )
    };
    let (a, b) = (start(), start());
    let pid = a.pid().to_string();
    let output = run_script(
        web,
        "presence-e2e.mjs",
        &[&a.url, &b.url, &pid, PRESENCE_SCREENSHOT],
    );
    print!("{output}");
}

/// A fresh key prefix: this run's rooms and messages only, whatever earlier runs left.
fn unique_prefix() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    format!("chat-test-{}-{millis}:", std::process::id())
}

fn chat_on_two_servers(redis: &str, screenshot: &str) {
    let _one_browser = ONE_BROWSER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let web = Path::new(WEB);
    build_page(web);
    let prefix = unique_prefix();
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
