//! The job events: one enum, exported as `schema/progress-events.json` and generated into
//! `web/src/events.ts` for the browser. A job's channel is `job-<id>`.

use realtime_core::Events;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A job started: the first event on its channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    /// Its name for people: 1 to 60 characters.
    #[schemars(length(min = 1, max = 60))]
    pub title: String,
    /// How many steps it runs: 1 to 100.
    #[schemars(range(min = 1, max = 100))]
    pub steps: u32,
    /// How long each step takes, in milliseconds.
    pub step_millis: u64,
}

/// A job finished one more step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    /// How much of the job is done, 0 to 100.
    #[schemars(range(max = 100))]
    pub percent: u8,
    /// The step just finished: 1 to the job's number of steps.
    #[schemars(range(min = 1))]
    pub step: u32,
    /// The job's number of steps.
    #[schemars(range(min = 1))]
    pub steps: u32,
    /// What the step did: 1 to 120 characters.
    #[schemars(length(min = 1, max = 120))]
    pub label: String,
}

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every step ran.
    Completed,
    /// Somebody cancelled it (`DELETE /api/jobs/<id>` on any server).
    Cancelled,
}

/// A job ended: the last event on its channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    /// How it ended.
    pub outcome: Outcome,
    /// The steps that ran.
    pub steps_done: u32,
    /// How long it ran, in milliseconds.
    pub elapsed_ms: u64,
    /// One line for people.
    #[schemars(length(min = 1, max = 200))]
    pub summary: String,
}

/// Every realtime event of the example.
#[derive(Events, Clone, Debug, PartialEq)]
pub enum JobEvent {
    /// The job started; what it will do.
    #[event("job.started")]
    Started(Started),
    /// A step of the job finished.
    #[event("job.progress")]
    Progress(Progress),
    /// Somebody asked to cancel the job (`DELETE /api/jobs/<id>` on any server over the
    /// same Redis); the server running it stops before the next step and ends the job with
    /// `job.done` `cancelled`.
    #[event("job.cancelRequested")]
    CancelRequested,
    /// The job ended; nothing follows on its channel.
    #[event("job.done")]
    Done(Done),
}
