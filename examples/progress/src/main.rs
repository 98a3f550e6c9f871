//! The progress example server, and a terminal follower.
//!
//! ```sh
//! cargo run -p progress                       # embedded backend, http://127.0.0.1:3000
//! cargo run -p progress -- --port 3001        # or PORT=3001
//! REDIS_URL=redis://127.0.0.1:6379 cargo run -p progress
//! REDIS_URL=redis://127.0.0.1:6379 cargo run -p progress -- follow <job id>
//! ```
//!
//! `follow <id>` follows a job from another process over Redis: it prints each step (those
//! already done first) and exits when the job ends. Settings (`HOST`, `REDIS_PREFIX`, ...):
//! see `example_support::server`. When `web/dist` is missing or stale, the server builds the
//! frontend first (`npm ci`, `node build.mjs` in `web/`) if npm is installed.

use std::path::PathBuf;

use example_support::{frontend, server};
use progress::JobEvent;

const USAGE: &str = "progress [--port N] | progress follow <job id>";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    server::init_tracing();
    // Before the backend connects: what is recorded before a recorder exists is lost.
    example_support::metrics::install()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("follow") {
        return follow_from_terminal(&args[1..]).await;
    }
    let port = server::port_from(args, USAGE)?;
    let realtime =
        server::realtime_from_env_expiring::<JobEvent>("progress", progress::JOB_HISTORY).await?;
    let web = PathBuf::from(
        std::env::var("PROGRESS_WEB_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/web").to_owned()),
    );
    let dist = frontend::ensure_built("progress", &web).await;
    let app = progress::app(realtime, dist);
    let listener = server::bind("progress", port).await?;
    server::serve_until_signal(listener, app.router, app.sse).await?;
    Ok(())
}

/// `progress follow <id>`: the job's steps on stdout, then its outcome.
async fn follow_from_terminal(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [id] = args else {
        return Err(format!("usage: {USAGE}").into());
    };
    if !progress::valid_id(id) {
        return Err(format!("`{id}` is not a job id (lowercase letters, digits, `-`)").into());
    }
    if std::env::var("REDIS_URL").map_or(true, |url| url.is_empty()) {
        return Err(
            "`follow` needs REDIS_URL: the embedded backend lives inside the server process".into(),
        );
    }
    let realtime = server::realtime_from_env::<JobEvent>("progress").await?;
    let done = progress::follow(&realtime, id, |step| {
        println!("{:>3}% {}", step.percent, step.label);
    })
    .await?;
    println!("{:?}: {}", done.outcome, done.summary);
    Ok(())
}
