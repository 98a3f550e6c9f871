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

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use realtime_axum::{EmitConfig, RealtimeSse};
use realtime_core::Realtime;
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_tests::TestEvent;
use realtime_tests::server::{Args, Options, init_logs, listen, run, static_file, stop_signal};

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
            Options {
                required: &["port", "redis", "prefix", "static"],
                optional: &[],
                flags: &["plain-axum", "exit-with-parent"],
                usage: USAGE,
            },
        )
        .and_then(|args| run(serve(args))),
        Some("emit") => Args::parse(
            &args[1..],
            Options {
                required: &["redis", "prefix", "channel", "event", "data"],
                optional: &[],
                flags: &[],
                usage: USAGE,
            },
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
    let (listener, address) = listen(port).await?;
    let stop = {
        let sse = sse.clone();
        stop_signal(
            "e2e-server",
            args.flag("exit-with-parent"),
            move || sse.shutdown(),
            SHUTDOWN_GRACE,
        )
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
