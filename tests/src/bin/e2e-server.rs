//! The server of the browser end-to-end test (`tests/browser.rs`, driven by
//! `tests/e2e/run.mjs`): the SSE endpoint with its emit route over Redis, plus the test
//! page's static files.
//!
//! ```text
//! e2e-server serve --port P --redis URL --prefix PFX --static DIR [--plain-axum] [--exit-with-parent]
//! e2e-server emit  --redis URL --prefix PFX --channel C --event E --data JSON
//! ```
//!
//! `serve` also answers `GET /stats` with the handle's counters as JSON (`live_channels`,
//! `listened_channels`, `open_streams`), for tests that watch the server from outside.
//!
//! `serve` prints `listening on http://127.0.0.1:P` once it accepts connections and shuts
//! down gracefully on SIGTERM or SIGINT (open streams get a `reconnect` frame). It serves
//! with `realtime_axum::serve` (the lean stream path), or with `axum::serve` given
//! `--plain-axum`; `--exit-with-parent` makes it exit at once when its stdin closes (the
//! driver died), so no server outlives a test. Logs go to stderr (`RUST_LOG`).
//!
//! `emit` stores one event through the Rust API (no HTTP, so it works while no server
//! runs) and prints its id. Bad arguments or failures: a message on stderr and a non-zero
//! exit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use realtime_axum::{EmitConfig, RealtimeSse};
use realtime_core::Realtime;
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_tests::TestEvent;

const USAGE: &str = "usage:
  e2e-server serve --port P --redis URL --prefix PFX --static DIR [--plain-axum] [--exit-with-parent]
  e2e-server emit  --redis URL --prefix PFX --channel C --event E --data JSON";

/// How long test streams live in Redis after their last emit.
const STREAM_LIFETIME: Duration = Duration::from_secs(600);
/// Ping interval of the streams: short, so that a test sees pings.
const KEEPALIVE: Duration = Duration::from_secs(2);
/// Graceful shutdown gives up after this long and exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => Args::parse(
            &args[1..],
            &["port", "redis", "prefix", "static"],
            &["plain-axum", "exit-with-parent"],
        )
        .and_then(|args| run(serve(args))),
        Some("emit") => Args::parse(
            &args[1..],
            &["redis", "prefix", "channel", "event", "data"],
            &[],
        )
        .and_then(|args| run(emit(args))),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("e2e-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(task: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    let result = runtime.block_on(task);
    // Without this, dropping the runtime waits for the thread blocked reading stdin.
    runtime.shutdown_background();
    result
}

/// `--name value` options, each required once, and `--flag`s.
#[derive(Debug)]
struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

impl Args {
    fn parse(args: &[String], required: &[&str], flags: &[&str]) -> Result<Self, String> {
        let mut values = HashMap::new();
        let mut set_flags = Vec::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument `{arg}`\n{USAGE}"));
            };
            if flags.contains(&name) {
                set_flags.push(name.to_owned());
                continue;
            }
            if !required.contains(&name) {
                return Err(format!("unknown option `{arg}`\n{USAGE}"));
            }
            let Some(value) = rest.next() else {
                return Err(format!("option `{arg}` needs a value"));
            };
            if values.insert(name.to_owned(), value.clone()).is_some() {
                return Err(format!("option `{arg}` given twice"));
            }
        }
        if let Some(missing) = required.iter().find(|name| !values.contains_key(**name)) {
            return Err(format!("missing option `--{missing}`\n{USAGE}"));
        }
        Ok(Self {
            values,
            flags: set_flags,
        })
    }

    fn get(&self, name: &str) -> &str {
        // `parse` made sure every required option is there.
        self.values.get(name).map_or("", String::as_str)
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|flag| flag == name)
    }
}

async fn realtime(args: &Args) -> Result<Realtime<TestEvent>, String> {
    let options = RedisOptions::default()
        .key_prefix(args.get("prefix"))
        .expire_after(STREAM_LIFETIME);
    let backend = RedisBackend::connect_with(args.get("redis"), options)
        .await
        .map_err(|error| error.to_string())?;
    Ok(Realtime::with_backend(backend))
}

async fn emit(args: Args) -> Result<(), String> {
    let data: serde_json::Value = serde_json::from_str(args.get("data"))
        .map_err(|error| format!("--data is not JSON: {error}"))?;
    let rt = realtime(&args).await?;
    let id = rt
        .channel(args.get("channel"))
        .emit_json(args.get("event"), data)
        .await
        .map_err(|error| format!("emit refused: {error}"))?;
    println!("{id}");
    Ok(())
}

async fn serve(args: Args) -> Result<(), String> {
    let port: u16 = args
        .get("port")
        .parse()
        .map_err(|_| format!("--port `{}` is not a port number", args.get("port")))?;
    let root = PathBuf::from(args.get("static"));
    if !root.join("index.html").is_file() {
        return Err(format!("--static {}: no index.html there", root.display()));
    }
    init_logs();
    let rt = realtime(&args).await?;
    let sse = RealtimeSse::builder(rt.clone())
        .keepalive(KEEPALIVE)
        .emit_route(EmitConfig::new())
        .build();
    let stats = {
        let sse = sse.clone();
        let rt = rt.clone();
        move || async move {
            let stats = rt.stats();
            axum::Json(serde_json::json!({
                "live_channels": stats.live_channels,
                "listened_channels": stats.listened_channels,
                "open_streams": sse.open_streams(),
            }))
        }
    };
    let app: Router = sse
        .router("/api/realtime")
        .route("/stats", axum::routing::get(stats))
        .fallback(static_file)
        .with_state(root);
    let address = format!("127.0.0.1:{port}");
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    let stop = {
        let sse = sse.clone();
        let exit_with_parent = args.flag("exit-with-parent");
        async move {
            shutdown_signal(exit_with_parent).await;
            eprintln!("e2e-server: shutting down");
            sse.shutdown();
            // Graceful shutdown waits for every connection; never for long.
            tokio::spawn(async {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
                eprintln!("e2e-server: connections still open after {SHUTDOWN_GRACE:?}; exiting");
                std::process::exit(0);
            });
        }
    };
    println!("listening on http://{address}");
    let served = if args.flag("plain-axum") {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    } else {
        realtime_axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    };
    served.map_err(|error| format!("server failed: {error}"))?;
    eprintln!("e2e-server: stopped");
    Ok(())
}

/// Completes on SIGTERM or SIGINT; with `exit_with_parent`, exits the process when stdin
/// closes.
async fn shutdown_signal(exit_with_parent: bool) {
    use tokio::signal::unix::{SignalKind, signal};
    if exit_with_parent {
        tokio::spawn(async {
            use tokio::io::AsyncReadExt;
            let mut stdin = tokio::io::stdin();
            let mut buffer = [0u8; 64];
            while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
            eprintln!("e2e-server: stdin closed (the parent is gone); exiting");
            std::process::exit(1);
        });
    }
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            eprintln!("e2e-server: cannot listen for signals; stop me with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings).
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// Serves the files directly in the static folder (`/` is `index.html`); nothing else.
async fn static_file(State(root): State<PathBuf>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let name = match request.uri().path().trim_start_matches('/') {
        "" => "index.html",
        name => name,
    };
    let plain = !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !plain {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(root.join(name)).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type(Path::new(name))),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type(path: &Path) -> HeaderValue {
    let value = match path.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    HeaderValue::from_static(value)
}
