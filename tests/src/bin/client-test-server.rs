//! The server of the TypeScript client's tests (`client/`, driven by `tests/client.rs`):
//! the SSE endpoint with its emit, history and presence routes, on the embedded backend or
//! on Redis, for an event set with presence.
//!
//! ```text
//! client-test-server serve --port P [--redis URL --prefix PFX] [--keepalive-ms N]
//!                          [--token T] [--max-streams N] [--max-opens-per-second N]
//!                          [--command-timeout-ms N] [--static DIR] [--exit-with-parent]
//! client-test-server schema
//! ```
//!
//! - `--token T`: every route wants `Authorization: Bearer T` (401 with a message without
//!   it); the stream is then a presence member of its `room-*` channels under the name in
//!   its `X-Member` header, if any.
//! - `GET /stats`: `{ "open_streams" }`, for tests that watch the server from outside.
//! - `schema` prints the event set's schema document (what `realtime-schema` reads).
//!
//! `serve` prints `listening on http://127.0.0.1:P` once it accepts connections and shuts
//! down gracefully on SIGTERM or SIGINT (open streams get a `reconnect` frame).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use realtime_axum::{Access, AuthRequest, EmitConfig, RealtimeSse, RequestError};
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_core::{Events, Realtime};
use realtime_tests::client_events::{ClientTestEvent, Visitor};
use realtime_tests::server::{Args, Options, init_logs, listen, run, static_file, stop_signal};

const USAGE: &str = "usage:
  client-test-server serve --port P [--redis URL --prefix PFX] [--keepalive-ms N] [--token T] [--max-streams N] [--max-opens-per-second N] [--command-timeout-ms N] [--static DIR] [--exit-with-parent]
  client-test-server schema";

/// How long test streams live in Redis after their last emit.
const STREAM_LIFETIME: Duration = Duration::from_secs(600);
/// Graceful shutdown gives up after this long and exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => Args::parse(
            &args[1..],
            Options {
                required: &["port"],
                optional: &[
                    "redis",
                    "prefix",
                    "keepalive-ms",
                    "token",
                    "max-streams",
                    "max-opens-per-second",
                    "command-timeout-ms",
                    "static",
                ],
                flags: &["exit-with-parent"],
                usage: USAGE,
            },
        )
        .and_then(|args| run(serve(args))),
        Some("schema") => {
            println!("{}", ClientTestEvent::schema().to_pretty_json());
            Ok(())
        }
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
            eprintln!("client-test-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn number<T: std::str::FromStr>(args: &Args, name: &str) -> Result<Option<T>, String> {
    args.optional(name)
        .map(|value| {
            value
                .parse()
                .map_err(|_| format!("--{name} `{value}` is not a number"))
        })
        .transpose()
}

async fn realtime(args: &Args) -> Result<Realtime<ClientTestEvent>, String> {
    let Some(url) = args.optional("redis") else {
        return Ok(Realtime::memory());
    };
    let mut options = RedisOptions::default()
        .key_prefix(args.optional("prefix").unwrap_or("client-test:"))
        .expire_after(STREAM_LIFETIME);
    if let Some(ms) = number::<u64>(args, "command-timeout-ms")? {
        options = options.command_timeout(Duration::from_millis(ms));
    }
    let backend = RedisBackend::connect_with(url, options)
        .await
        .map_err(|error| error.to_string())?;
    Ok(Realtime::with_backend(backend))
}

/// The test's authorization: the bearer token, and presence under `X-Member`.
fn authorize(token: Option<&str>, request: &AuthRequest) -> Result<Access<Visitor>, RequestError> {
    if let Some(token) = token {
        let sent = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if sent != Some(token) {
            return Err(RequestError::new(
                StatusCode::UNAUTHORIZED,
                "expected `Authorization: Bearer <token>` with the current token",
            ));
        }
    }
    let member = request
        .headers()
        .get("x-member")
        .and_then(|value| value.to_str().ok());
    Ok(match member {
        Some(name) => {
            let rooms: Vec<String> = request
                .channels
                .iter()
                .filter(|channel| channel.starts_with("room-"))
                .map(|channel| channel.to_string())
                .collect();
            Access::presence(
                name,
                Visitor {
                    name: name.to_owned(),
                },
                rooms,
            )
        }
        None => Access::allow(),
    })
}

async fn serve(args: Args) -> Result<(), String> {
    let port: u16 = args
        .get("port")
        .parse()
        .map_err(|_| format!("--port `{}` is not a port number", args.get("port")))?;
    init_logs();
    let rt = realtime(&args).await?;
    let token: Option<String> = args.optional("token").map(str::to_owned);
    let stream_token = token.clone();
    let mut builder = RealtimeSse::builder(rt)
        .authorize(move |request: AuthRequest| {
            let token = stream_token.clone();
            async move {
                authorize(token.as_deref(), &request).map_err(IntoResponse::into_response)
            }
        })
        .emit_route(
            EmitConfig::new().authorize(move |request: AuthRequest| {
                let token = token.clone();
                async move {
                    authorize(token.as_deref(), &request)
                        .map(|_| Access::allow())
                        .map_err(IntoResponse::into_response)
                }
            }),
        )
        .history_route();
    if let Some(ms) = number::<u64>(&args, "keepalive-ms")? {
        builder = builder.keepalive(Duration::from_millis(ms));
    }
    if let Some(max) = number::<usize>(&args, "max-streams")? {
        builder = builder.max_streams(max);
    }
    if let Some(rate) = number::<u32>(&args, "max-opens-per-second")? {
        builder = builder.max_stream_opens_per_second(rate);
    }
    let sse = builder.build();
    let stats = {
        let sse = sse.clone();
        move || async move { axum::Json(serde_json::json!({ "open_streams": sse.open_streams() })) }
    };
    let mut app: Router = sse
        .router("/api/realtime")
        .route("/stats", axum::routing::get(stats));
    if let Some(root) = args.optional("static") {
        app = app.fallback_service(axum::routing::get(static_file).with_state(PathBuf::from(root)));
    } else {
        app = app.fallback(|| async { not_found() });
    }
    let (listener, address) = listen(port).await?;
    let stop = {
        let sse = sse.clone();
        stop_signal(
            "client-test-server",
            args.flag("exit-with-parent"),
            move || sse.shutdown(),
            SHUTDOWN_GRACE,
        )
    };
    println!("listening on http://{address}");
    realtime_axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .map_err(|error| format!("server failed: {error}"))?;
    Ok(())
}

fn not_found() -> Response {
    RequestError::new(StatusCode::NOT_FOUND, "no such route").into_response()
}
