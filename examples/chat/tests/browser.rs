//! The chat in headless Chromium: two server processes (`chat` binaries on two ports) over
//! one Redis, two people in two browser contexts chatting in `general` (typing indicator,
//! messages both ways), refused messages shown and not stored, a private room refusing an
//! uninvited name, and a reload showing the history once. The scenario is `web/e2e.mjs`;
//! the chat seen by the second person is saved as `target/chat-screenshot.png`. The UI is
//! type-checked first (`tsc --strict` against the generated `web/src/events.ts`).
//!
//! Needs node and npm (runs `npm ci` in `web/` when `node_modules` is missing), Chromium at
//! `/usr/bin/chromium` (or `CHROMIUM`) and Redis at `REDIS_URL` (default
//! `redis://127.0.0.1:6379`). Without them it fails; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");

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

fn start(redis: &str, prefix: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["--port", "0"])
        .env("REDIS_URL", redis)
        .env("REDIS_PREFIX", prefix)
        .env("CHAT_WEB_DIR", WEB)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the chat server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line
                    .strip_prefix("chat: ")
                    .filter(|rest| rest.starts_with("http://"))
                {
                    break url.to_owned();
                }
            }
            _ => {
                let status = child.wait();
                panic!(
                    "the chat server exited before printing its URL ({status:?}); is Redis up at {redis}?"
                );
            }
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

#[test]
fn two_people_on_two_servers_over_one_redis_chat_in_a_browser() {
    let web = PathBuf::from(WEB);
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is needed at {chromium} (apt-get install chromium, or set CHROMIUM)"
    );
    if !web.join("node_modules").is_dir() {
        run("npm", &["ci", "--no-audit", "--no-fund"], &web);
    }
    // The UI type-checks against the generated events.ts (tsc --strict), then builds.
    run(
        "node",
        &["node_modules/typescript/bin/tsc", "-p", "."],
        &web,
    );
    run("node", &["build.mjs"], &web);

    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    // A fresh key prefix: this run's rooms and messages only, whatever earlier runs left.
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    let prefix = format!("chat-test-{}-{millis}:", std::process::id());
    let a = start(&redis, &prefix);
    let b = start(&redis, &prefix);
    let screenshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/chat-screenshot.png");
    let output = Command::new("node")
        .arg("e2e.mjs")
        .arg(&a.url)
        .arg(&b.url)
        .arg(&screenshot)
        .env("CHROMIUM", &chromium)
        .current_dir(&web)
        .output()
        .expect("run node e2e.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("e2e: ok"),
        "the browser scenario failed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
}
