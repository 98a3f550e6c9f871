//! The job events: one enum, exported as `schema/progress-events.json` and generated into
//! `web/src/events.ts` for the browser. A job's channel is `job-<id>`.

use realtime_core::Events;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Somebody cancelled it (`DELETE /api/jobs/<id>`).
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
    /// A step of the job finished.
    #[event("job.progress")]
    Progress(Progress),
    /// The job ended; nothing follows on its channel.
    #[event("job.done")]
    Done(Done),
}
