//! The notifications example server.
//!
//! ```sh
//! cargo run -p notifications                      # embedded backend, http://127.0.0.1:3000
//! cargo run -p notifications -- --port 3001       # or PORT=3001
//! REDIS_URL=redis://127.0.0.1:6379 cargo run -p notifications -- --port 3001   # shared by many processes
//! ```
//!
//! `ALERT_EVERY_SECS` (default 5) is how often each signed-in user gets an alert.
//! `REDIS_PREFIX` (default `realtime:`) is the key prefix of the channels in Redis; `HOST`
//! (default `127.0.0.1`) the address to listen on.
//!
//! When `web/dist` is missing, the server builds the frontend first (`npm ci` and
//! `node build.mjs` in `web/`), if npm is installed; otherwise it serves the API and a page
//! saying how to build it.

use std::path::{Path, PathBuf};

use notifications::NotificationEvent;
use realtime_core::Realtime;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = port()?;
    let realtime = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => redis(&url).await?,
        _ => Realtime::<NotificationEvent>::memory(),
    };
    let web = PathBuf::from(
        std::env::var("NOTIFICATIONS_WEB_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/web").to_owned()),
    );
    let dist = ensure_frontend(&web).await;
    let app = notifications::app(realtime, dist);
    // `HOST=0.0.0.0` to accept connections from other machines (e.g. in a container).
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let period = std::env::var("ALERT_EVERY_SECS")
        .ok()
        .and_then(|secs| secs.parse::<u64>().ok())
        .filter(|secs| *secs > 0)
        .unwrap_or(5);
    let alerts =
        notifications::spawn_alerts(app.state.clone(), std::time::Duration::from_secs(period));
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("notifications: http://{}/", listener.local_addr()?);
    let sse = app.sse.clone();
    realtime_axum::serve(listener, app.router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            sse.shutdown();
        })
        .await?;
    alerts.abort();
    Ok(())
}

/// The Redis backend; `REDIS_PREFIX` (default `realtime:`) keeps several apps, or test
/// runs, apart in one database.
#[cfg(feature = "redis")]
async fn redis(url: &str) -> Result<Realtime<NotificationEvent>, Box<dyn std::error::Error>> {
    use realtime_core::backend::redis::{RedisBackend, RedisOptions};
    let mut options = RedisOptions::default();
    if let Ok(prefix) = std::env::var("REDIS_PREFIX") {
        options = options.key_prefix(prefix);
    }
    let backend = RedisBackend::connect_with(url, options).await?;
    println!("notifications: events in Redis at {url}");
    Ok(Realtime::with_backend(backend))
}

#[cfg(not(feature = "redis"))]
async fn redis(_url: &str) -> Result<Realtime<NotificationEvent>, Box<dyn std::error::Error>> {
    Err("REDIS_URL is set but notifications was built without its `redis` feature".into())
}

/// `--port N`, `--port=N`, or `PORT`; 3000 by default.
fn port() -> Result<u16, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PORT").ok();
    while let Some(arg) = args.next() {
        if arg == "--port" {
            port = Some(args.next().ok_or("--port needs a number")?);
        } else if let Some(value) = arg.strip_prefix("--port=") {
            port = Some(value.to_owned());
        } else {
            return Err(
                format!("unknown argument `{arg}`; usage: notifications [--port N]").into(),
            );
        }
    }
    match port {
        None => Ok(3000),
        Some(port) => Ok(port
            .parse()
            .map_err(|_| format!("`{port}` is not a port number"))?),
    }
}

/// `web/dist`, building it with npm first when it is missing.
async fn ensure_frontend(web: &Path) -> Option<PathBuf> {
    let dist = web.join("dist");
    if dist.join("index.html").is_file() {
        return Some(dist);
    }
    if !web.join("build.mjs").is_file() {
        eprintln!("notifications: no frontend sources in {}", web.display());
        return None;
    }
    println!(
        "notifications: building the frontend in {} (npm ci, node build.mjs)",
        web.display()
    );
    let mut steps: Vec<(&str, &[&str])> = Vec::new();
    if !web.join("node_modules").is_dir() {
        steps.push(("npm", &["ci", "--no-audit", "--no-fund"]));
    }
    steps.push(("node", &["build.mjs"]));
    for (program, args) in steps {
        let status = tokio::process::Command::new(program)
            .args(args)
            .current_dir(web)
            .status()
            .await;
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!(
                    "notifications: `{program} {}` failed ({status}); serving the API only",
                    args.join(" ")
                );
                return None;
            }
            Err(error) => {
                eprintln!(
                    "notifications: cannot run `{program}` ({error}); install Node.js and npm to build the frontend; serving the API only"
                );
                return None;
            }
        }
    }
    Some(dist)
}

async fn shutdown_signal() {
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
