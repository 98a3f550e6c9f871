//! The notifications page in headless Chromium: sign in, the connected badge, a periodic
//! alert from the server's task and one sent from the page. The scenario is `web/e2e.mjs`.
//! The page is type-checked and built first.
//!
//! Needs node and npm (runs `npm ci` in `web/` when `node_modules` is missing) and Chromium
//! at `/usr/bin/chromium` (or `CHROMIUM`). Without them it fails; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::path::Path;

use example_support::browser_test::{ExampleServer, build_page, run_scenario};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");

#[test]
fn the_page_shows_notifications_and_the_connection_status() {
    let web = Path::new(WEB);
    build_page(web);
    let server = ExampleServer::start(
        env!("CARGO_BIN_EXE_notifications"),
        "notifications",
        &[("NOTIFICATIONS_WEB_DIR", WEB), ("ALERT_EVERY_SECS", "1")],
    );
    run_scenario(web, &[&server.url]);
}
