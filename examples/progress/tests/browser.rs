//! The progress page in headless Chromium: a refused job shows the server's error; a job of
//! 20 steps is followed, the page is reloaded mid-job and lists every step exactly once, in
//! order (the job's channel replayed, then the live steps), up to `completed` at 100%; a
//! second job starts from an empty list and is cancelled from the page; the first job,
//! followed again, still lists its 20 steps once each; the client dropped no duplicate and
//! refused no event. The scenario is `web/e2e.mjs`; the finished job is saved as
//! `target/progress-screenshot.png`. The page is built first (with the repository's client,
//! `client/`, which it compiles) and type-checked (against the generated `web/src/events.ts`).
//!
//! Needs node and npm (runs `npm ci` in `web/` when `node_modules` is missing, and in
//! `client/` when its packages are) and Chromium
//! at `/usr/bin/chromium` (or `CHROMIUM`). Without them it fails; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::path::Path;

use example_support::browser_test::{ExampleServer, build_page, run_scenario};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
const SCREENSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/progress-screenshot.png"
);

#[test]
fn the_page_follows_a_job_across_a_reload_and_cancels_one() {
    let web = Path::new(WEB);
    build_page(web);
    let server = ExampleServer::start(
        env!("CARGO_BIN_EXE_progress"),
        "progress",
        &[("PROGRESS_WEB_DIR", WEB)],
    );
    print!("{}", run_scenario(web, &[&server.url, SCREENSHOT]));
}
