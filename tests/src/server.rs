//! What the test servers (`e2e-server`, `client-test-server`) share: their command-line
//! options, their runtime, their shutdown on a signal (or when the driver that started
//! them dies), their logs, and the static files of a test page.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

/// Runs `task` on a two-thread runtime.
///
/// # Errors
/// The task's error, or the runtime's if it cannot start.
pub fn run(task: impl Future<Output = Result<(), String>>) -> Result<(), String> {
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

/// `--name value` options (some required once, others optional) and `--flag`s.
#[derive(Debug)]
pub struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

/// What [`Args::parse`] accepts.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// Options that must be given once.
    pub required: &'a [&'a str],
    /// Options that may be given once.
    pub optional: &'a [&'a str],
    /// Flags without a value.
    pub flags: &'a [&'a str],
    /// The usage text shown with an error.
    pub usage: &'a str,
}

impl Args {
    /// Parses `args` as `options` allows.
    ///
    /// # Errors
    /// What was wrong, with the usage.
    pub fn parse(args: &[String], options: Options<'_>) -> Result<Self, String> {
        let usage = options.usage;
        let mut values = HashMap::new();
        let mut set_flags = Vec::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument `{arg}`\n{usage}"));
            };
            if options.flags.contains(&name) {
                set_flags.push(name.to_owned());
                continue;
            }
            if !options.required.contains(&name) && !options.optional.contains(&name) {
                return Err(format!("unknown option `{arg}`\n{usage}"));
            }
            let Some(value) = rest.next() else {
                return Err(format!("option `{arg}` needs a value"));
            };
            if values.insert(name.to_owned(), value.clone()).is_some() {
                return Err(format!("option `{arg}` given twice"));
            }
        }
        if let Some(missing) = options
            .required
            .iter()
            .find(|name| !values.contains_key(**name))
        {
            return Err(format!("missing option `--{missing}`\n{usage}"));
        }
        Ok(Self {
            values,
            flags: set_flags,
        })
    }

    /// A required option's value (`""` for an optional one not given).
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// An optional option's value.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|flag| flag == name)
    }
}

/// Completes on SIGTERM or SIGINT; with `exit_with_parent`, exits the process when stdin
/// closes (the driver that started the server died).
pub async fn shutdown_signal(name: &'static str, exit_with_parent: bool) {
    use tokio::signal::unix::{SignalKind, signal};
    if exit_with_parent {
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut stdin = tokio::io::stdin();
            let mut buffer = [0u8; 64];
            while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
            eprintln!("{name}: stdin closed (the parent is gone); exiting");
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
            eprintln!("{name}: cannot listen for signals; stop me with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
}

/// Completes when the server `name` must stop (SIGTERM, SIGINT, or with `exit_with_parent`
/// its driver gone), after calling `on_stop` (e.g. `RealtimeSse::shutdown`: open streams get
/// `reconnect`); graceful shutdown waits for every connection, so the process exits `grace`
/// later if some still hold it.
pub async fn stop_signal(
    name: &'static str,
    exit_with_parent: bool,
    on_stop: impl FnOnce(),
    grace: std::time::Duration,
) {
    shutdown_signal(name, exit_with_parent).await;
    eprintln!("{name}: shutting down");
    on_stop();
    tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        eprintln!("{name}: connections still open after {grace:?}; exiting");
        std::process::exit(0);
    });
}

/// Listens on 127.0.0.1:`port`.
///
/// # Errors
/// What went wrong, with the address.
pub async fn listen(port: u16) -> Result<(tokio::net::TcpListener, String), String> {
    let address = format!("127.0.0.1:{port}");
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    Ok((listener, address))
}

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings).
pub fn init_logs() {
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
pub async fn static_file(State(root): State<PathBuf>, request: Request) -> Response {
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
