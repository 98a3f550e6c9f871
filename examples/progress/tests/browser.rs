//! The progress page in headless Chromium: a refused job shows the server's error; a job of
//! 20 steps is followed, the page is reloaded mid-job and lists every step exactly once, in
//! order (the job's channel replayed, then the live steps), up to `completed` at 100%; a
//! second job starts from an empty list and is cancelled from the page. The scenario is
//! `web/e2e.mjs`; the finished job is saved as `target/progress-screenshot.png`. The page
//! is type-checked (against the generated `web/src/events.ts`) and built first.
//!
//! Needs node and npm (runs `npm ci` in `web/` when `node_modules` is missing) and Chromium
//! at `/usr/bin/chromium` (or `CHROMIUM`). Without them it fails; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
const SCREENSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/progress-screenshot.png"
);

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: &str, args: &[&str], dir: &Path) {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|error| panic!("cannot run `{program}` (is Node.js installed?): {error}"));
    assert!(
        status.success(),
        "`{program} {}` failed in {}",
        args.join(" "),
        dir.display()
    );
}

fn start() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_progress"))
        .args(["--port", "0"])
        .env_remove("REDIS_URL")
        .env("PROGRESS_WEB_DIR", WEB)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the progress server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    // Other `progress: ...` lines may come first (building the frontend); the URL is the one
    // `server::bind` prints.
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line
                    .strip_prefix("progress: ")
                    .filter(|rest| rest.starts_with("http://"))
                {
                    break url.to_owned();
                }
            }
            _ => {
                let status = child.wait();
                panic!("the server exited before printing its URL ({status:?})");
            }
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

#[test]
fn the_page_follows_a_job_across_a_reload_and_cancels_one() {
    let web = PathBuf::from(WEB);
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is needed at {chromium} (apt-get install chromium, or set CHROMIUM)"
    );
    if !web.join("node_modules").is_dir() {
        run("npm", &["ci", "--no-audit", "--no-fund"], &web);
    }
    run(
        "node",
        &["node_modules/typescript/bin/tsc", "-p", "."],
        &web,
    );
    run("node", &["build.mjs"], &web);
    let server = start();
    let output = Command::new("node")
        .arg("e2e.mjs")
        .arg(&server.url)
        .arg(SCREENSHOT)
        .env("CHROMIUM", &chromium)
        .current_dir(&web)
        .output()
        .expect("run node e2e.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    print!("{stdout}");
    assert!(
        output.status.success() && stdout.contains("e2e: ok"),
        "the browser scenario failed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
}
