//! The real-browser end-to-end test: the unmodified `@upstash/realtime` 1.1.0 browser
//! client (React `RealtimeProvider` + `useRealtime`) in headless Chromium against the
//! `e2e-server` binary (the SSE endpoint over Redis). The scenario lives in
//! `tests/e2e/run.mjs`: typed events in order per channel, joining a channel, a crash
//! (SIGKILL) and a graceful stop (SIGTERM) with events emitted while the server is down,
//! and never an event twice. It runs once per server (`realtime_axum::serve` and plain
//! `axum::serve`), in parallel, and writes `target/e2e-screenshot*.png`.
//!
//! Needs node, `tests/e2e/node_modules` and `/usr/bin/chromium`; `scripts/test` installs
//! them. Without them this test fails (it never skips).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use realtime_tests::{redis_url, unique_prefix};

/// The whole run takes about 15 s; past this something hangs.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);
const CHROMIUM: &str = "/usr/bin/chromium";
const SETUP_HINT: &str = "run `scripts/test` from the workspace root once: it installs \
    Chromium, the npm packages of tests/e2e and starts Redis, then runs the suite";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// With `realtime_axum::serve`, the server the crate recommends (event streams take its
/// lean path). Writes `target/e2e-screenshot.png`.
#[test]
fn the_upstash_browser_client_works_against_the_rust_endpoint() {
    run_scenario(false, "e2e-screenshot.png");
}

/// The same with plain `axum::serve` (hyper for every request), which apps may use
/// instead. Writes `target/e2e-screenshot-axum-serve.png`.
#[test]
fn the_upstash_browser_client_works_with_plain_axum_serve() {
    run_scenario(true, "e2e-screenshot-axum-serve.png");
}

fn run_scenario(plain_axum: bool, screenshot: &str) {
    let root = workspace();
    let e2e = root.join("tests").join("e2e");
    check_prerequisites(&e2e);
    // Both tests run at once; one builds.
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| build_page_if_stale(&e2e));

    let port = free_port();
    let screenshot = root.join("target").join(screenshot);
    let mut command = Command::new("node");
    command
        .arg(e2e.join("run.mjs"))
        .arg("--server")
        .arg(env!("CARGO_BIN_EXE_e2e-server"))
        .args(["--redis", &redis_url(), "--prefix", &unique_prefix()])
        .args(["--port", &port.to_string()])
        .arg("--dist")
        .arg(e2e.join("dist"))
        .arg("--screenshot")
        .arg(&screenshot)
        .arg("--chromium")
        .arg(CHROMIUM)
        .current_dir(&root);
    if plain_axum {
        command.arg("--plain-axum");
    }
    let started = Instant::now();
    let status = run_streaming(command, RUN_TIMEOUT);
    let outcome = match status {
        Ok(status) if status.success() => return,
        Ok(status) => status.to_string(),
        Err(error) => error,
    };
    panic!(
        "the browser end-to-end run failed after {:.1} s ({outcome}); its output is above, \
         the page at failure is in {}",
        started.elapsed().as_secs_f64(),
        screenshot.with_extension("").display().to_string() + "-failure.png",
    );
}

/// A free port from 20000 up to the kernel's ephemeral range. The server restarts on it
/// while the browser and the Redis clients open outgoing connections, whose local ports
/// come from that range and could take it in between; and Chromium refuses some lower
/// ports (the highest is 10080).
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 20_000u16;
    if ephemeral_start > low + 1_000 {
        let span = u64::from(ephemeral_start - low);
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64)
            ^ (u64::from(std::process::id()) << 20)
            ^ CALLS.fetch_add(1, Ordering::Relaxed).wrapping_mul(7_919);
        for attempt in 0..200u64 {
            let offset = seed.wrapping_add(attempt.wrapping_mul(104_729)) % span;
            let port = low + u16::try_from(offset).unwrap_or(0);
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Fails (never skips) when something the run needs is missing.
fn check_prerequisites(e2e: &Path) {
    match Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!("`node --version` failed: {:?}; {SETUP_HINT}", output.status),
        Err(error) => panic!("node is needed for the browser test ({error}); {SETUP_HINT}"),
    }
    for package in ["@upstash/realtime", "playwright-core", "esbuild", "react"] {
        let path = e2e.join("node_modules").join(package).join("package.json");
        assert!(
            path.is_file(),
            "{} is missing; {SETUP_HINT}",
            path.display()
        );
    }
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing (Debian's `chromium` package); {SETUP_HINT}"
    );
}

/// Runs `node tests/e2e/build.mjs` unless `dist/` is newer than the page's sources.
fn build_page_if_stale(e2e: &Path) {
    let sources = [
        e2e.join("page").join("app.jsx"),
        e2e.join("build.mjs"),
        e2e.join("package-lock.json"),
    ];
    let outputs = [
        e2e.join("dist").join("bundle.js"),
        e2e.join("dist").join("index.html"),
    ];
    let newest_source = sources.iter().filter_map(|path| modified(path)).max();
    let oldest_output = outputs.iter().map(|path| modified(path)).min().flatten();
    let fresh =
        matches!((newest_source, oldest_output), (Some(source), Some(output)) if output >= source);
    if fresh {
        return;
    }
    let output = Command::new("node")
        .arg(e2e.join("build.mjs"))
        .output()
        .unwrap_or_else(|error| panic!("cannot run node tests/e2e/build.mjs: {error}"));
    assert!(
        output.status.success(),
        "node tests/e2e/build.mjs failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|meta| meta.modified()).ok()
}

/// Kills the child if the test ends early (a panic), so no browser or server outlives it
/// (the server exits when its parent's pipe closes).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `command`, printing its output line by line as it comes (the test harness shows
/// it with `--nocapture`, or when the test fails), and kills it after `timeout`.
fn run_streaming(
    mut command: Command,
    timeout: Duration,
) -> Result<std::process::ExitStatus, String> {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start node: {error}; {SETUP_HINT}"))?;
    let mut child = KillOnDrop(child);
    let forwarders = [
        forward(
            child
                .0
                .stdout
                .take()
                .map(|out| Box::new(out) as Box<dyn Read + Send>),
        ),
        forward(
            child
                .0
                .stderr
                .take()
                .map(|err| Box::new(err) as Box<dyn Read + Send>),
        ),
    ];
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.0.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                break Err(format!("killed after {timeout:?} without finishing"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(error) => break Err(format!("cannot wait for node: {error}")),
        }
    };
    drop(child);
    for forwarder in forwarders.into_iter().flatten() {
        let _ = forwarder.join();
    }
    status
}

fn forward(stream: Option<Box<dyn Read + Send>>) -> Option<std::thread::JoinHandle<()>> {
    let stream = stream?;
    Some(std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            println!("{line}");
        }
    }))
}
