//! Progress of background jobs: `POST /api/jobs` emits `job.started` on the channel
//! `job-<id>` and starts a tokio task that emits `job.progress` after each step and
//! `job.done` at the end; `job.cancelRequested` on the same channel, from any server, stops
//! it. The server follows every job from Rust ([`follow`], logging each step), the React
//! page follows one with the repository's own client (`@realtime-rs/react`), and a page
//! opened or reloaded in the middle of a job gets the whole job replayed first (the endpoint's
//! [`first_replay`](realtime_axum::RealtimeSseBuilder::first_replay) is
//! [`FirstReplay::All`] on `job-*` channels), so its bar and step list are complete.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/jobs` `{steps?, stepMillis?, title?}` | starts a job: 202 `{id, channel, ...}`; 422 when out of bounds, 429 past 64 running |
//! | `GET /api/jobs` | the jobs this server started recently |
//! | `GET /api/jobs/{id}` | where it is, from its channel: `{state: started\|running\|cancelling\|stalled\|ended, ...}`; 404 |
//! | `DELETE /api/jobs/{id}` | asks it to stop, on any server: `job.cancelRequested`, then it ends with `job.done` `cancelled`; 404 unknown, 409 ended or stalled |
//! | `GET /api/realtime?channel=job-<id>` | the event stream; other channels are refused (403) |
//! | `GET /metrics` | the framework's metrics, Prometheus text (`example_support::metrics`) |

pub mod events;
mod jobs;
mod routes;

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use realtime_axum::{ChannelRequest, FirstReplay, RealtimeSse};
use realtime_core::Realtime;

pub use events::{Done, JobEvent, JobEventKind, Outcome, Progress, Started};
pub use jobs::{
    CancelError, FollowError, JOB_HISTORY, JobInfo, JobSpec, JobState, Jobs, MAX_RUNNING_JOBS,
    StartError, channel_of, follow, valid_id,
};

/// The app: its router, the SSE endpoint (call [`RealtimeSse::shutdown`] on shutdown) and
/// the jobs.
#[derive(Debug)]
pub struct App {
    /// Every route, the SSE endpoint and the built frontend.
    pub router: Router,
    /// The SSE endpoint, for `shutdown()`.
    pub sse: RealtimeSse<JobEvent>,
    /// The jobs this server runs.
    pub jobs: Jobs,
}

/// Builds the app on `realtime`; `web_dist` is the built frontend (`web/dist`), if any.
pub fn app(realtime: Realtime<JobEvent>, web_dist: Option<PathBuf>) -> App {
    let jobs = Jobs::new(realtime.clone());
    let sse = RealtimeSse::builder(realtime)
        .authorize(routes::only_job_channels)
        .first_replay(|request: &ChannelRequest, subscription| {
            if request.name.starts_with("job-") {
                FirstReplay::All.apply(request, subscription)
            } else {
                FirstReplay::AsAsked.apply(request, subscription)
            }
        })
        .build();
    let api = Router::new()
        .route("/api/jobs", get(routes::list).post(routes::start))
        .route("/api/jobs/{id}", get(routes::state).delete(routes::cancel))
        .with_state(jobs.clone());
    let router = api
        .merge(sse.router("/api/realtime"))
        .merge(example_support::metrics::routes())
        .merge(example_support::frontend::routes("progress", web_dist));
    App { router, sse, jobs }
}
