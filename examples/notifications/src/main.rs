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
//! (default `127.0.0.1`) the address to listen on (see `example_support::server`).
//!
//! When `web/dist` is missing or stale, the server builds the frontend first (`npm ci` and
//! `node build.mjs` in `web/`), if npm is installed; otherwise it serves the API and a page
//! saying how to build it.

use std::path::PathBuf;
use std::time::Duration;

use example_support::{frontend, server};
use notifications::NotificationEvent;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    server::init_tracing();
    // Before the backend connects: what is recorded before a recorder exists is lost.
    example_support::metrics::install()?;
    let port = server::port_from(std::env::args().skip(1), "notifications [--port N]")?;
    let realtime = server::realtime_from_env::<NotificationEvent>("notifications").await?;
    let web = PathBuf::from(
        std::env::var("NOTIFICATIONS_WEB_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/web").to_owned()),
    );
    let dist = frontend::ensure_built("notifications", &web).await;
    let app = notifications::app(realtime, dist);
    let period = std::env::var("ALERT_EVERY_SECS")
        .ok()
        .and_then(|secs| secs.parse::<u64>().ok())
        .filter(|secs| *secs > 0)
        .unwrap_or(5);
    let alerts = notifications::spawn_alerts(app.state.clone(), Duration::from_secs(period));
    let listener = server::bind("notifications", port).await?;
    server::serve_until_signal(listener, app.router, app.sse).await?;
    alerts.abort();
    Ok(())
}
