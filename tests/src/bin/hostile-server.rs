//! The server of the descriptor-pressure test (`tests/hostile.rs`): the SSE endpoint with
//! its emit route over the memory backend, served by `realtime_axum::serve`, run in a
//! child process so the test can give it a low descriptor limit.
//!
//! ```text
//! hostile-server [--header-read-timeout-ms N]
//! ```
//!
//! Prints `listening on http://127.0.0.1:P` (a free port) once it accepts connections;
//! exits when its stdin closes, so it never outlives the test. Logs go to stderr
//! (`RUST_LOG`, default warnings).

use std::process::ExitCode;
use std::time::Duration;

use realtime_axum::{EmitConfig, RealtimeSse, ServeConfig};
use realtime_core::Realtime;
use realtime_tests::TestEvent;
use tokio::io::AsyncReadExt;

fn main() -> ExitCode {
    match parse_config(std::env::args().skip(1)) {
        Ok(config) => match serve(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("hostile-server: {message}");
                ExitCode::FAILURE
            }
        },
        Err(message) => {
            eprintln!(
                "hostile-server: {message}\nusage: hostile-server [--header-read-timeout-ms N]"
            );
            ExitCode::FAILURE
        }
    }
}

fn parse_config(mut args: impl Iterator<Item = String>) -> Result<ServeConfig, String> {
    let mut config = ServeConfig::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--header-read-timeout-ms" => {
                let value = args
                    .next()
                    .ok_or("--header-read-timeout-ms needs a value")?;
                let ms: u64 = value
                    .parse()
                    .map_err(|_| format!("`{value}` is not a number of milliseconds"))?;
                config.header_read_timeout = Duration::from_millis(ms);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(config)
}

fn serve(config: ServeConfig) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    let result = runtime.block_on(async move {
        let sse = RealtimeSse::builder(Realtime::<TestEvent>::memory())
            .emit_route(EmitConfig::new())
            .build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| format!("cannot listen: {error}"))?;
        let address = listener
            .local_addr()
            .map_err(|error| format!("no local address: {error}"))?;
        println!("listening on http://{address}");
        let parent_gone = async {
            let mut stdin = tokio::io::stdin();
            let mut buffer = [0u8; 64];
            while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
        };
        realtime_axum::serve(listener, sse.router("/api/realtime"))
            .config(config)
            .shutdown_grace(Duration::from_millis(100))
            .with_graceful_shutdown(parent_gone)
            .await
            .map_err(|error| format!("server failed: {error}"))
    });
    // Without this, dropping the runtime waits for the thread blocked reading stdin.
    runtime.shutdown_background();
    result
}
