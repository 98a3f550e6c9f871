//! Running an example server: settings from the command line and the environment, the
//! backend, logging, serving with graceful shutdown.
//!
//! | setting | default | what |
//! |---|---|---|
//! | `--port N`, `--port=N`, `PORT` | 3000 | the port (0: any free one) |
//! | `HOST` | `127.0.0.1` | the address to listen on (`0.0.0.0` in a container) |
//! | `REDIS_URL` | unset | events in Redis instead of the embedded backend; `redis+cluster://host:port,host:port` for a Redis Cluster |
//! | `REDIS_PREFIX` | `realtime:` | the key prefix in Redis, to keep apps (or test runs) apart |
//! | `RUST_LOG` | `info` | the log filter |

use std::error::Error;
use std::time::Duration;

use axum::Router;
use realtime_axum::RealtimeSse;
use realtime_core::backend::memory::{MemoryBackend, MemoryOptions};
use realtime_core::{Events, Realtime};
use tokio::net::TcpListener;

/// The port from `args` (without the program name): `--port N`, `--port=N`, else `PORT`,
/// else 3000. Any other argument is an error showing `usage`.
///
/// ```
/// use example_support::server::port_from;
///
/// let args = ["--port".to_owned(), "3001".to_owned()];
/// assert_eq!(port_from(args, "demo [--port N]").unwrap(), 3001);
/// assert!(port_from(["--bogus".to_owned()], "demo [--port N]").is_err());
/// ```
pub fn port_from(
    args: impl IntoIterator<Item = String>,
    usage: &str,
) -> Result<u16, Box<dyn Error>> {
    let mut args = args.into_iter();
    let mut port = std::env::var("PORT").ok();
    while let Some(arg) = args.next() {
        if arg == "--port" {
            port = Some(args.next().ok_or("--port needs a number")?);
        } else if let Some(value) = arg.strip_prefix("--port=") {
            port = Some(value.to_owned());
        } else {
            return Err(format!("unknown argument `{arg}`; usage: {usage}").into());
        }
    }
    match port {
        None => Ok(3000),
        Some(port) => Ok(port
            .parse()
            .map_err(|_| format!("`{port}` is not a port number"))?),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}

/// The embedded backend, or Redis when `REDIS_URL` is set (keys prefixed by
/// `REDIS_PREFIX`, default `realtime:`), with each backend's default history settings.
pub async fn realtime_from_env<E: Events>(app: &str) -> Result<Realtime<E>, Box<dyn Error>> {
    backend_from_env(app, None).await
}

/// As [`realtime_from_env`], but a channel's history is dropped `expire_after` its last
/// emit, on either backend (for short-lived channels such as one per job).
pub async fn realtime_from_env_expiring<E: Events>(
    app: &str,
    expire_after: Duration,
) -> Result<Realtime<E>, Box<dyn Error>> {
    backend_from_env(app, Some(expire_after)).await
}

async fn backend_from_env<E: Events>(
    app: &str,
    expire_after: Option<Duration>,
) -> Result<Realtime<E>, Box<dyn Error>> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => redis(app, &url, expire_after).await,
        _ => Ok(Realtime::with_backend(MemoryBackend::with_options(
            MemoryOptions::default().expire_after(expire_after),
        ))),
    }
}

#[cfg(feature = "redis")]
async fn redis<E: Events>(
    app: &str,
    url: &str,
    expire_after: Option<Duration>,
) -> Result<Realtime<E>, Box<dyn Error>> {
    use realtime_core::backend::redis::{RedisBackend, RedisOptions};
    let mut options = RedisOptions::default().expire_after(expire_after);
    if let Ok(prefix) = std::env::var("REDIS_PREFIX") {
        options = options.key_prefix(prefix);
    }
    let backend = RedisBackend::connect_url(url, options).await?;
    println!("{app}: events in Redis at {url}");
    Ok(Realtime::with_backend(backend))
}

#[cfg(not(feature = "redis"))]
async fn redis<E: Events>(
    app: &str,
    _url: &str,
    _expire_after: Option<Duration>,
) -> Result<Realtime<E>, Box<dyn Error>> {
    Err(format!("REDIS_URL is set but {app} was built without its `redis` feature").into())
}

/// Listens on `HOST` (default `127.0.0.1`) and `port`, and prints `<app>: http://<address>/`
/// (tests read that line to find the server).
pub async fn bind(app: &str, port: u16) -> std::io::Result<TcpListener> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = TcpListener::bind((host.as_str(), port)).await?;
    println!("{app}: http://{}/", listener.local_addr()?);
    Ok(listener)
}

/// Serves `router` on a free port of 127.0.0.1 in a background task, for tests; its base
/// URL (`http://127.0.0.1:<port>`).
///
/// # Panics
/// When no port can be bound.
pub async fn serve_in_background(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|error| panic!("cannot bind a free port on 127.0.0.1: {error}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|error| panic!("the bound address: {error}"));
    tokio::spawn(async move {
        let _ = realtime_axum::serve(listener, router).await;
    });
    format!("http://{address}")
}

/// Serves `router` until Ctrl-C or SIGTERM; then every open event stream of `sse` gets a
/// `reconnect` frame and ends, so browsers come back to another instance without a gap.
pub async fn serve_until_signal<E: Events>(
    listener: TcpListener,
    router: Router,
    sse: RealtimeSse<E>,
) -> std::io::Result<()> {
    realtime_axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            sse.shutdown();
        })
        .await
}

/// Ctrl-C, or SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
