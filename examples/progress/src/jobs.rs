//! Jobs: what a job is asked to do, running it as a tokio task that emits its progress on
//! `job-<id>`, the jobs this server runs, and following a job from Rust.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use realtime_core::{Channel, Error, History, Position, Realtime, Subscription};
use serde::{Deserialize, Serialize};

use crate::events::{Done, JobEvent, JobEventKind, Outcome, Progress, Started};

/// The most jobs one server runs at once.
pub const MAX_RUNNING_JOBS: usize = 64;
/// How long a job's channel keeps its events after the last one (the server's setting).
pub const JOB_HISTORY: Duration = Duration::from_secs(60 * 60);
/// How many finished jobs `GET /api/jobs` still lists.
const RECENT_JOBS: usize = 20;

/// The channel of job `id`.
pub fn channel_of(id: &str) -> String {
    format!("job-{id}")
}

/// Job ids: 1 to 40 ASCII lowercase letters, digits or `-`.
pub fn valid_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// What a job is asked to do (`POST /api/jobs`): `steps` steps of `stepMillis` each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobSpec {
    /// 1 to 100 steps; default 10.
    #[serde(default = "JobSpec::default_steps")]
    pub steps: u32,
    /// 10 ms to 10 s per step; default 400 ms.
    #[serde(default = "JobSpec::default_step_millis")]
    pub step_millis: u64,
    /// A name for people: 1 to 60 characters; default `Job`.
    #[serde(default = "JobSpec::default_title")]
    pub title: String,
}

impl Default for JobSpec {
    fn default() -> Self {
        Self {
            steps: Self::default_steps(),
            step_millis: Self::default_step_millis(),
            title: Self::default_title(),
        }
    }
}

impl JobSpec {
    fn default_steps() -> u32 {
        10
    }

    fn default_step_millis() -> u64 {
        400
    }

    fn default_title() -> String {
        "Job".to_owned()
    }

    /// Checks the bounds; the message says which field is wrong and what it must be.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.steps) {
            return Err(format!("`steps` is {}; it must be 1 to 100", self.steps));
        }
        if !(10..=10_000).contains(&self.step_millis) {
            return Err(format!(
                "`stepMillis` is {}; it must be 10 to 10000",
                self.step_millis
            ));
        }
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 60 {
            return Err("`title` must be 1 to 60 characters".to_owned());
        }
        Ok(())
    }
}

/// A job this server started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// The job's id; its channel is `job-<id>`.
    pub id: String,
    /// Its channel.
    pub channel: String,
    /// What it was asked to do.
    #[serde(flatten)]
    pub spec: JobSpec,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_ms: u64,
}

/// Where a job is, as its channel tells (so any server over the same Redis can answer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum JobState {
    /// Started, no step finished yet.
    Started(Started),
    /// Running: the last step that finished.
    Running(Progress),
    /// Somebody asked to cancel it; it ends before its next step.
    Cancelling,
    /// Not ended, but silent for longer than three of its steps and a second: the server
    /// running it stopped (a job is not resumed elsewhere).
    #[serde(rename_all = "camelCase")]
    Stalled {
        /// How long its channel has been silent, in milliseconds.
        quiet_ms: u64,
    },
    /// Ended.
    Ended(Done),
}

/// Why a job could not start.
#[derive(Debug)]
pub enum StartError {
    /// The spec is out of bounds.
    Invalid(String),
    /// [`MAX_RUNNING_JOBS`] are running.
    TooMany,
    /// Storage refused to listen for the job's cancel requests.
    Storage(Error),
}

/// Why a job could not be cancelled.
#[derive(Debug)]
pub enum CancelError {
    /// No such job (unknown, or its history expired).
    Unknown,
    /// It has ended already.
    Ended,
    /// Its server stopped running it.
    Stalled,
    /// Storage is unavailable.
    Storage(Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(why) => write!(f, "invalid job: {why}"),
            Self::TooMany => write!(f, "{MAX_RUNNING_JOBS} jobs are running, the most at once"),
            Self::Storage(error) => write!(f, "cannot start the job: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

impl std::fmt::Display for CancelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown => f.write_str("no such job"),
            Self::Ended => f.write_str("the job has ended already"),
            Self::Stalled => f.write_str("the job has stalled: the server running it stopped"),
            Self::Storage(error) => write!(f, "cannot cancel the job: {error}"),
        }
    }
}

impl std::error::Error for CancelError {}

/// Why following a job stopped before `job.done`.
#[derive(Debug)]
pub enum FollowError {
    /// Storage refused the subscription.
    Storage(Error),
    /// The subscription ended (the app is shutting down).
    Ended,
}

impl std::fmt::Display for FollowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Storage(error) => write!(f, "cannot follow the job: {error}"),
            Self::Ended => f.write_str("the subscription ended before `job.done`"),
        }
    }
}

impl std::error::Error for FollowError {}

/// The jobs of this server: the running ones (to bound them) and the recent ones (to list
/// them). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Jobs {
    realtime: Realtime<JobEvent>,
    running: Arc<Mutex<HashSet<String>>>,
    recent: Arc<Mutex<VecDeque<JobInfo>>>,
    sequence: Arc<AtomicU64>,
}

impl Jobs {
    /// No jobs yet, events on `realtime`.
    pub fn new(realtime: Realtime<JobEvent>) -> Self {
        Self {
            realtime,
            running: Arc::default(),
            recent: Arc::default(),
            sequence: Arc::default(),
        }
    }

    /// The realtime handle the jobs emit on.
    pub fn realtime(&self) -> &Realtime<JobEvent> {
        &self.realtime
    }

    /// Checks `spec` and starts the job: `job.started` on `job-<id>` before this returns,
    /// then a tokio task emits `job.progress` after each step and `job.done` at the end
    /// (or when cancelled). The job listens for `job.cancelRequested` on its channel before
    /// this returns, so a cancel sent by any server right after is never missed.
    pub async fn start(&self, mut spec: JobSpec) -> Result<JobInfo, StartError> {
        spec.check().map_err(StartError::Invalid)?;
        spec.title = spec.title.trim().to_owned();
        let started_ms = now_ms();
        // Unique across processes over one Redis: time, process, sequence.
        let id = format!(
            "{started_ms:x}-{:x}-{}",
            std::process::id(),
            self.sequence.fetch_add(1, Ordering::Relaxed)
        );
        {
            let mut running = self.running();
            if running.len() >= MAX_RUNNING_JOBS {
                return Err(StartError::TooMany);
            }
            running.insert(id.clone());
        }
        let channel = self.realtime.channel(channel_of(&id));
        let cancel_requests = match channel.subscribe([JobEventKind::CancelRequested]).await {
            Ok(requests) => requests,
            Err(error) => {
                self.finished(&id);
                return Err(StartError::Storage(error));
            }
        };
        let started = JobEvent::Started(Started {
            title: spec.title.clone(),
            steps: spec.steps,
            step_millis: spec.step_millis,
        });
        if let Err(error) = channel.emit(&started).await {
            self.finished(&id);
            return Err(StartError::Storage(error));
        }
        let info = JobInfo {
            channel: channel_of(&id),
            id,
            spec,
            started_ms,
        };
        {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            if recent.len() == RECENT_JOBS {
                recent.pop_back();
            }
            recent.push_front(info.clone());
        }
        let jobs = self.clone();
        let (id, spec) = (info.id.clone(), info.spec.clone());
        tokio::spawn(async move {
            run(&channel, &spec, cancel_requests).await;
            jobs.finished(&id);
        });
        Ok(info)
    }

    fn running(&self) -> MutexGuard<'_, HashSet<String>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finished(&self, id: &str) {
        self.running().remove(id);
    }

    /// Asks job `id` to stop, whichever server over the same storage runs it: it ends with
    /// `job.done` `cancelled` before its next step.
    pub async fn cancel(&self, id: &str) -> Result<(), CancelError> {
        match self.state(id).await.map_err(CancelError::Storage)? {
            None => Err(CancelError::Unknown),
            Some(JobState::Ended(_)) => Err(CancelError::Ended),
            Some(JobState::Stalled { .. }) => Err(CancelError::Stalled),
            // Asked already: one request is enough.
            Some(JobState::Cancelling) => Ok(()),
            Some(JobState::Started(_) | JobState::Running(_)) => self
                .realtime
                .channel(channel_of(id))
                .emit(&JobEvent::CancelRequested)
                .await
                .map(drop)
                .map_err(CancelError::Storage),
        }
    }

    /// The jobs this server started recently, newest first.
    pub fn recent(&self) -> Vec<JobInfo> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.iter().cloned().collect()
    }

    /// Where job `id` is, from the events on its channel (so any server over the same
    /// storage can tell); `None` when the channel has none (an unknown job, or one whose
    /// history expired).
    pub async fn state(&self, id: &str) -> Result<Option<JobState>, Error> {
        // A job writes at most 103 events: started, 100 steps, one cancel request, done.
        let events = self
            .realtime
            .channel(channel_of(id))
            .history(History::last(1_000))
            .await?;
        let Some(newest) = events.last() else {
            return Ok(None);
        };
        let state = match &newest.event {
            JobEvent::Started(started) => JobState::Started(started.clone()),
            JobEvent::Progress(progress) => JobState::Running(progress.clone()),
            JobEvent::CancelRequested => JobState::Cancelling,
            JobEvent::Done(done) => return Ok(Some(JobState::Ended(done.clone()))),
        };
        let step_millis = events.iter().find_map(|envelope| match &envelope.event {
            JobEvent::Started(started) => Some(started.step_millis),
            _ => None,
        });
        let quiet_ms = now_ms().saturating_sub(newest.id.ms());
        Ok(Some(match step_millis {
            Some(step) if quiet_ms > stall_after_ms(step) => JobState::Stalled { quiet_ms },
            _ => state,
        }))
    }
}

/// How long a running job may stay silent before it counts as stalled: three steps and a
/// second.
fn stall_after_ms(step_millis: u64) -> u64 {
    step_millis.saturating_mul(3).saturating_add(1_000)
}

const STEP_NAMES: [&str; 6] = [
    "Fetching the input",
    "Resizing images",
    "Compressing",
    "Uploading",
    "Indexing",
    "Verifying",
];

/// Runs the job's steps, emitting its events, until done or a cancel request; ends with
/// `job.done`.
async fn run(
    channel: &Channel<JobEvent>,
    spec: &JobSpec,
    mut cancel_requests: Subscription<JobEvent>,
) {
    let started = Instant::now();
    // Resolves on the first cancel request; never if the subscription ends (shutdown).
    let cancelled = async move {
        if cancel_requests.next().await.is_none() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(cancelled);
    let mut ticker = tokio::time::interval(Duration::from_millis(spec.step_millis));
    ticker.tick().await;
    let mut steps_done = 0;
    let mut outcome = Outcome::Completed;
    for step in 1..=spec.steps {
        tokio::select! {
            () = &mut cancelled => {
                outcome = Outcome::Cancelled;
                break;
            }
            _ = ticker.tick() => {}
        }
        let name = STEP_NAMES[(step as usize - 1) % STEP_NAMES.len()];
        let progress = Progress {
            percent: u8::try_from(u64::from(step) * 100 / u64::from(spec.steps)).unwrap_or(100),
            step,
            steps: spec.steps,
            label: format!("{name} ({step}/{})", spec.steps),
        };
        steps_done = step;
        // A storage hiccup does not stop the job; followers catch up from history.
        if let Err(error) = channel.emit(&JobEvent::Progress(progress)).await {
            tracing::warn!(%error, channel = %channel.name(), "could not emit job.progress");
        }
    }
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let done = Done {
        outcome,
        steps_done,
        elapsed_ms,
        summary: match outcome {
            Outcome::Completed => {
                format!("{}: {} steps in {elapsed_ms} ms", spec.title, spec.steps)
            }
            Outcome::Cancelled => format!(
                "{}: cancelled after {steps_done} of {} steps",
                spec.title, spec.steps
            ),
        },
    };
    if let Err(error) = channel.emit(&JobEvent::Done(done)).await {
        tracing::warn!(%error, channel = %channel.name(), "could not emit job.done");
    }
}

/// Follows job `id` from its first event to its `job.done`, calling `on_progress` for each
/// step, those before the call included (it replays the job's channel), and returns the
/// `job.done`. Works from any process over the same Redis.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use progress::{JobSpec, Jobs, Outcome, follow};
/// use realtime_core::Realtime;
///
/// let jobs = Jobs::new(Realtime::memory());
/// let job = jobs.start(JobSpec { steps: 3, step_millis: 10, ..JobSpec::default() }).await?;
/// let mut percents = Vec::new();
/// let done = follow(jobs.realtime(), &job.id, |progress| percents.push(progress.percent)).await?;
/// assert_eq!(percents, [33, 66, 100]);
/// assert_eq!(done.outcome, Outcome::Completed);
/// # Ok(()) }
/// ```
pub async fn follow(
    realtime: &Realtime<JobEvent>,
    id: &str,
    mut on_progress: impl FnMut(&Progress),
) -> Result<Done, FollowError> {
    let mut events = realtime
        .channel(channel_of(id))
        .subscribe_all()
        .since(Position::Millis(0))
        .await
        .map_err(FollowError::Storage)?;
    while let Some(envelope) = events.next().await {
        match envelope.event {
            JobEvent::Progress(progress) => on_progress(&progress),
            JobEvent::Started(_) | JobEvent::CancelRequested => {}
            JobEvent::Done(done) => return Ok(done),
        }
    }
    Err(FollowError::Ended)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
