//! The examples' headless-Chromium tests: build the page, start the example's own server
//! binary, run the page's scenario (`web/e2e.mjs`, playwright-core driving Debian's
//! `chromium`). Every step fails the test with what is missing and how to get it; nothing
//! is skipped.
//!
//! ```no_run
//! use example_support::browser_test::{ExampleServer, build_page, run_scenario};
//! use std::path::Path;
//!
//! let web = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/web"));
//! build_page(web);
//! let server = ExampleServer::start("target/debug/chat", "chat", &[("CHAT_WEB_DIR", "web")]);
//! run_scenario(web, &[&server.url]);
//! ```

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running example server, killed when dropped.
#[derive(Debug)]
pub struct ExampleServer {
    child: Child,
    /// Its base URL, as it printed it (`http://127.0.0.1:<port>/`).
    pub url: String,
}

impl ExampleServer {
    /// Starts `binary --port 0` (the example `app`) with `envs` (no `REDIS_URL` unless
    /// given; `RUST_LOG=warn`) and waits for the `<app>: http://...` line it prints once it
    /// listens.
    ///
    /// # Panics
    /// When it cannot start or exits first.
    pub fn start(binary: &str, app: &str, envs: &[(&str, &str)]) -> Self {
        let mut child = Command::new(binary)
            .args(["--port", "0"])
            .env_remove("REDIS_URL")
            .env("RUST_LOG", "warn")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {binary}: {error}"));
        let Some(stdout) = child.stdout.take() else {
            panic!("no stdout from {binary}");
        };
        let mut lines = BufReader::new(stdout).lines();
        let prefix = format!("{app}: ");
        // Other `<app>: ...` lines may come first (the Redis URL, building the frontend).
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line
                        .strip_prefix(&prefix)
                        .filter(|rest| rest.starts_with("http://"))
                    {
                        break url.to_owned();
                    }
                }
                _ => {
                    let status = child.wait();
                    panic!(
                        "{binary} exited before printing its URL ({status:?}); if it uses Redis, is Redis up?"
                    );
                }
            }
        };
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, url }
    }
}

impl ExampleServer {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL, as a crash would: it cleans up nothing.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ExampleServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Chromium's path: `CHROMIUM`, or Debian's `/usr/bin/chromium`.
///
/// # Panics
/// When it is not there.
pub fn chromium() -> String {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is needed at {chromium} (apt-get install chromium, or set CHROMIUM)"
    );
    chromium
}

/// Installs the page's npm packages when missing (`npm ci`), builds it (`node build.mjs`,
/// which first compiles the repository's client packages when the page imports them) and
/// type-checks it (`tsc -p .`, strict, against the generated `events.ts` and the client's
/// declarations).
///
/// # Panics
/// When a step fails.
pub fn build_page(web: &Path) {
    if !web.join("node_modules").is_dir() {
        run("npm", &["ci", "--no-audit", "--no-fund"], web);
    }
    run("node", &["build.mjs"], web);
    run("node", &["node_modules/typescript/bin/tsc", "-p", "."], web);
}

/// Runs `node e2e.mjs <args>` in `web` with [`chromium`]; its standard output, which
/// must end the run with `e2e: ok`.
///
/// # Panics
/// When the scenario fails, with everything it printed.
pub fn run_scenario(web: &Path, args: &[&str]) -> String {
    run_script(web, "e2e.mjs", args)
}

/// Runs `node <script> <args>` in `web` with [`chromium`], as [`run_scenario`] does.
///
/// # Panics
/// When the scenario fails, with everything it printed.
pub fn run_script(web: &Path, script: &str, args: &[&str]) -> String {
    let output = Command::new("node")
        .arg(script)
        .args(args)
        .env("CHROMIUM", chromium())
        .current_dir(web)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run node {script} (is Node.js installed?): {error}")
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("e2e: ok"),
        "the browser scenario failed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
    stdout
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
