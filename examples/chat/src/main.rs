//! The chat demo server.
//!
//! ```sh
//! cargo run -p chat                      # embedded backend, http://127.0.0.1:3000
//! cargo run -p chat -- --port 3001       # or PORT=3001
//! REDIS_URL=redis://127.0.0.1:6379 cargo run -p chat -- --port 3001   # shared by many processes
//! ```
//!
//! `REDIS_PREFIX` (default `realtime:`) is the key prefix of the channels in Redis; `HOST`
//! (default `127.0.0.1`) the address to listen on (see `example_support::server`);
//! `PRESENCE_TTL_SECS` (default 30) how long the members of a server that died stay
//! listed. `CHAT_ADMIN_TOKEN` (16 characters or more) opens the inspector at
//! `/_realtime`; without it a token is made up and logged at start.
//!
//! When `web/dist` is missing or stale, the server builds the frontend first (`npm ci` and
//! `node build.mjs` in `web/`), if npm is installed; otherwise it serves the API and a page
//! saying how to build it.

use std::path::PathBuf;

use chat::ChatEvent;
use example_support::{frontend, server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    server::init_tracing();
    // Before the backend connects: what is recorded before a recorder exists is lost.
    example_support::metrics::install()?;
    let port = server::port_from(std::env::args().skip(1), "chat [--port N]")?;
    let realtime = server::realtime_from_env::<ChatEvent>("chat").await?;
    let web = PathBuf::from(
        std::env::var("CHAT_WEB_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/web").to_owned()),
    );
    let mut config = chat::ChatConfig::from_env()?;
    let token = config
        .admin_token
        .get_or_insert_with(chat::admin::random_token)
        .clone();
    config.web_dist = frontend::ensure_built("chat", &web).await;
    let app = chat::app_with(realtime, config);
    let listener = server::bind("chat", port).await?;
    tracing::info!(
        "inspector: http://{}/_realtime (admin token {token}; CHAT_ADMIN_TOKEN sets it)",
        listener.local_addr()?
    );
    server::serve_until_signal(listener, app.router, app.sse).await?;
    Ok(())
}
