//! The batched script side of the emit benchmark: the least group commit that keeps an
//! emit's guarantees, written for the benchmark, as the floor of group commit at a load
//! where batches form.
//!
//! Emits share calls of the script a lane's batches go to (`emit_one_event.lua`): one
//! atomic `XADD` and publish per entry, the id in the live message. What this side leaves
//! out is everything of this crate around the call: no validation, no encoding of an
//! event value, no idempotency keys, no TTL refresh, no retry, no metrics. And it knows
//! what no real lane can: how many tasks emit. Up to `in_flight` batches go at once (4,
//! as the lanes; `BENCH_FLOOR_IN_FLIGHT`), a batch when `emitters / in_flight` emits wait
//! or none is in flight; the emit that completes a batch sends it from its own task and
//! hands the others their replies (no task spawned, one wake-up fewer per batch than the
//! lanes' sender task).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;
use tokio::sync::oneshot;

use crate::common::BoxError;

/// The most entries in one call, as the lanes.
const MAX_BATCH: usize = 256;

type Reply = Result<(), String>;

/// One emit waiting for its batch.
struct Waiting {
    /// The channel's index in `keys`.
    channel: usize,
    data: String,
    reply: oneshot::Sender<Reply>,
}

#[derive(Default)]
struct State {
    in_flight: usize,
    waiting: Vec<Waiting>,
}

/// The least group commit (see the module's docs).
pub(crate) struct BatchedScript {
    connection: ConnectionManager,
    /// `emit_one_event.lua`'s SHA, loaded.
    sha: String,
    /// Stream key per channel.
    keys: Vec<String>,
    in_flight: usize,
    /// Waiting emits that make a batch: the run's emitters shared among the batches.
    target: AtomicUsize,
    state: Mutex<State>,
}

impl BatchedScript {
    pub(crate) fn new(connection: ConnectionManager, sha: String, keys: Vec<String>) -> Self {
        let in_flight = std::env::var("BENCH_FLOOR_IN_FLIGHT")
            .ok()
            .and_then(|count| count.parse().ok())
            .unwrap_or(4_usize)
            .max(1);
        Self {
            connection,
            sha,
            keys,
            in_flight,
            target: AtomicUsize::new(1),
            state: Mutex::new(State::default()),
        }
    }

    /// How many tasks emit in the next run.
    pub(crate) fn set_emitters(&self, emitters: usize) {
        let target = (emitters / self.in_flight).clamp(1, MAX_BATCH);
        self.target.store(target, Ordering::Relaxed);
    }

    pub(crate) fn channels(&self) -> usize {
        self.keys.len()
    }

    /// Emits `data` to channel `channel` (an index of `keys`).
    pub(crate) async fn emit(
        self: &Arc<Self>,
        channel: usize,
        data: String,
    ) -> Result<(), BoxError> {
        let (reply, answer) = oneshot::channel();
        let batch = {
            let mut state = self.state.lock().map_err(|_| "batcher poisoned")?;
            state.waiting.push(Waiting {
                channel,
                data,
                reply,
            });
            let target = self.target.load(Ordering::Relaxed);
            let full = state.in_flight == 0
                || (state.in_flight < self.in_flight && state.waiting.len() >= target);
            full.then(|| {
                state.in_flight += 1;
                take_batch(&mut state.waiting)
            })
        };
        if let Some(batch) = batch {
            self.send(batch).await;
            self.batch_ended();
        }
        answer.await.map_err(|_| "batch dropped")??;
        Ok(())
    }

    /// A batch ended: the waiting emits go in its place (from a task of their own) if
    /// they make a batch or no other batch is in flight, else when they make one.
    fn batch_ended(self: &Arc<Self>) {
        let next = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let target = self.target.load(Ordering::Relaxed);
            let waiting = state.waiting.len();
            if waiting > 0 && (state.in_flight == 1 || waiting >= target) {
                Some(take_batch(&mut state.waiting))
            } else {
                state.in_flight -= 1;
                None
            }
        };
        if let Some(batch) = next {
            let batcher = Arc::clone(self);
            tokio::spawn(async move {
                batcher.send(batch).await;
                batcher.batch_ended();
            });
        }
    }

    /// Sends one batch and hands each emit its reply.
    async fn send(&self, batch: Vec<Waiting>) {
        for part in parts(batch) {
            let mut command = redis::cmd("EVALSHA");
            command.arg(&self.sha);
            let first = part[0].channel;
            if part.iter().all(|waiting| waiting.channel == first) {
                command.arg(1).arg(&self.keys[first]);
            } else {
                command.arg(part.len());
                for waiting in &part {
                    command.arg(&self.keys[waiting.channel]);
                }
            }
            command.arg("bench.tick");
            for waiting in &part {
                command.arg(&waiting.data);
            }
            let answer: Result<String, _> = command.query_async(&mut self.connection.clone()).await;
            let error = match answer {
                Ok(lines) if lines.split('\n').count() == part.len() => None,
                Ok(lines) => Some(format!("the script answered {lines:?}")),
                Err(error) => Some(error.to_string()),
            };
            for waiting in part {
                let _caller_gone_is_fine = waiting.reply.send(error.clone().map_or(Ok(()), Err));
            }
        }
    }
}

/// Takes up to [`MAX_BATCH`] waiting emits.
fn take_batch(waiting: &mut Vec<Waiting>) -> Vec<Waiting> {
    let rest = waiting.split_off(waiting.len().min(MAX_BATCH));
    std::mem::replace(waiting, rest)
}

/// The batch's calls, in order: the entries as `emit_one_event.lua` takes them, all on
/// one channel or each on its own. A channel that comes back in the batch starts the
/// next call (the `n`th entry of each channel in the `n`th call), so each channel's
/// entries are stored in the order they came.
fn parts(batch: Vec<Waiting>) -> Vec<Vec<Waiting>> {
    let first = batch.first().map(|waiting| waiting.channel);
    if batch.iter().all(|waiting| Some(waiting.channel) == first) {
        return vec![batch];
    }
    let mut calls: Vec<Vec<Waiting>> = Vec::new();
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for waiting in batch {
        let call = seen.entry(waiting.channel).or_insert(0);
        if *call == calls.len() {
            calls.push(Vec::new());
        }
        calls[*call].push(waiting);
        *call += 1;
    }
    calls
}
