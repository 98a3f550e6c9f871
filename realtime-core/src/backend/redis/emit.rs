//! Emits: one script call appends and publishes a batch of entries (`emit.lua`), and
//! concurrent emits share that call (group commit).
//!
//! Each lane (the whole Redis, or on a cluster one hash slot, since one script call may
//! only touch one slot there) has at most [`MAX_IN_FLIGHT`] batches in flight. An emit
//! that finds its lane idle is sent at once, alone: a lone emitter waits one round trip,
//! as without batching. Emits that arrive while a batch is in flight wait and go together
//! in the next call: when they make their share of the lane's emits (see
//! [`Lane::batch_target`]) and a batch may still be sent, or when one of the batches in
//! flight ends (at most [`MAX_BATCH`] entries; the rest in the call after). The emit that
//! completes a batch sends it from its own task; a batch formed when another ends goes
//! from a sender task. Each entry
//! succeeds or fails on its own, with its own error. A batch goes to the script stream by
//! stream (what the entries of one stream share is sent once); each channel's entries are
//! stored and published in the order they arrived, so publish order is stream order.
//! Most batches (one event, no idempotency key, no TTL refresh, plain names, all on one
//! channel or each on its own) go to `emit_one_event.lua`, which takes only the stream
//! keys, the event once and the data: every argument costs Redis about a fifth of an
//! `XADD`.
//!
//! With [`Durability::Replicated`] the batch's `WAIT` covers every entry of it: one wait
//! for the replicas per batch, not per emit; on a cluster one `WAIT` per master covers
//! the batches of all its slots that were answered meanwhile (see `replica_wait.rs`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use redis::Value;
use tokio::sync::oneshot;

use super::cluster::NodeAddr;
use super::commands::{Outcome, answered_kind, error_text_kind, failure_kind};
use super::{BACKEND, Durability, KeyLayout, RedisBackend, Trim};
use crate::backend::{Appended, BackendError, FailureKind};
use crate::cursor::Cursor;
use crate::util::lock;

/// The most entries in one script call; more waiting emits go in the next call.
pub(super) const MAX_BATCH: usize = 256;
/// Batches of one lane in flight at once: while Redis runs one, the next ones are queued
/// behind it, so that Redis does not wait while this process turns a batch's replies into
/// the next batch. They go out on one connection in the order they were formed, and Redis
/// runs them in that order. Four, not two (docs/benchmarks.md, round eight): on an idle
/// box two left Redis waiting between batches (emits/s at 256 emitters over 1,000
/// channels +54%, at 16 +14%; on one channel within the runs' spread at 16, +20% at 256).
const MAX_IN_FLIGHT: usize = 4;
/// A channel's TTL is refreshed by a process at most this often (the TTL set is the
/// `expire_after` plus this, so a stream still lives at least `expire_after` after its
/// last emit).
pub(super) const TTL_REFRESH_EVERY: Duration = Duration::from_secs(1);
/// Channels whose TTL refresh a process remembers before it forgets the stale ones.
const TTL_MEMORY: usize = 10_000;

/// One emit: what to append, and its idempotency key with its window.
#[derive(Clone, Debug)]
pub(super) struct Entry<'a> {
    pub(super) channel: Cow<'a, str>,
    pub(super) event: Cow<'a, str>,
    pub(super) data: Cow<'a, str>,
    pub(super) once: Option<(Cow<'a, str>, Duration)>,
}

/// An [`Entry`] kept while its emit waits for a batch: its texts in one allocation (the
/// channel, the event, the data, then the idempotency key if any), so that a waiting
/// emit copies its texts once.
#[derive(Debug)]
struct OwnedEntry {
    text: String,
    /// Where the channel, the event and the data end in `text`.
    ends: [usize; 3],
    window: Option<Duration>,
}

impl OwnedEntry {
    fn new(entry: &Entry<'_>) -> Self {
        let key = entry.once.as_ref().map(|(key, _)| key.as_ref());
        let mut text = String::with_capacity(
            entry.channel.len() + entry.event.len() + entry.data.len() + key.map_or(0, str::len),
        );
        let mut ends = [0; 3];
        for (end, part) in ends
            .iter_mut()
            .zip([&entry.channel, &entry.event, &entry.data])
        {
            text.push_str(part);
            *end = text.len();
        }
        text.push_str(key.unwrap_or_default());
        Self {
            text,
            ends,
            window: entry.once.as_ref().map(|(_, window)| *window),
        }
    }

    fn entry(&self) -> Entry<'_> {
        let [channel, event, data] = self.ends;
        Entry {
            channel: Cow::Borrowed(&self.text[..channel]),
            event: Cow::Borrowed(&self.text[channel..event]),
            data: Cow::Borrowed(&self.text[event..data]),
            once: self
                .window
                .map(|window| (Cow::Borrowed(&self.text[data..]), window)),
        }
    }
}

type Reply = Result<Appended, BackendError>;

/// A batch's request: the script call alone, or in a pipeline.
enum Request {
    Alone(redis::Cmd),
    Pipeline(redis::Pipeline),
}

/// An emit waiting for one of the lane's batches in flight to end.
struct Waiting {
    entry: OwnedEntry,
    reply: oneshot::Sender<Reply>,
}

#[derive(Default)]
struct Lane {
    /// Batches in flight (at most [`MAX_IN_FLIGHT`]); when all are, new emits wait in
    /// `waiting`.
    in_flight: usize,
    /// Entries in the batches in flight.
    sent: usize,
    waiting: Vec<Waiting>,
    /// How many emits the lane carries at once: the most seen when a batch ended (its
    /// entries, those in flight and those waiting), decaying at each batch end.
    emits: usize,
}

impl Lane {
    /// How many waiting emits make a batch worth sending while another is in flight:
    /// the lane's emits shared among the batches in flight. Smaller batches would each
    /// pay the script's fixed cost for less (at moderate load a call carried ~5 emits
    /// where 8 waited in all); larger ones are sent when a batch ends anyway.
    fn batch_target(&self) -> usize {
        (self.emits / MAX_IN_FLIGHT).clamp(1, MAX_BATCH)
    }

    /// Takes up to [`MAX_BATCH`] waiting emits as the next batch, counted in flight.
    fn take_batch(&mut self) -> Vec<Waiting> {
        let rest = self.waiting.split_off(self.waiting.len().min(MAX_BATCH));
        let batch = std::mem::replace(&mut self.waiting, rest);
        self.sent += batch.len();
        batch
    }
}

/// A lane's turn taken by an emit sent alone, given back when the emit ends (the lane's
/// next batch sent, or one batch fewer counted in flight): also when its caller abandons
/// it mid-flight (a `timeout` around the emit, a request whose client went away), or
/// the lane would stay counted busy and its waiting emits would never be sent.
struct LaneTurn<'b> {
    backend: &'b RedisBackend,
    lane: u16,
}

impl Drop for LaneTurn<'_> {
    fn drop(&mut self) {
        self.backend.next_batch(self.lane, 1);
    }
}

/// A future that runs to its end even if whoever awaits it goes away: dropped before it
/// ends, it is spawned onto the runtime to finish there (a batch sent from the task of the
/// emit that completed it must still answer the other emits in it, and end its turn).
struct RunToEnd(Option<Pin<Box<dyn Future<Output = ()> + Send + 'static>>>);

impl RunToEnd {
    fn new(work: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(Some(Box::pin(work)))
    }
}

impl Future for RunToEnd {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let Some(work) = self.0.as_mut() else {
            return Poll::Ready(());
        };
        if work.as_mut().poll(context).is_pending() {
            return Poll::Pending;
        }
        self.0 = None;
        Poll::Ready(())
    }
}

impl Drop for RunToEnd {
    fn drop(&mut self) {
        if let Some(work) = self.0.take() {
            // (no runtime: it is shutting down, and the waiting emits fail with it)
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(work);
            }
        }
    }
}

/// Hashes a lane's hash slot with one multiplication (Fibonacci hashing: the slot's bits
/// spread to the high ones, which the table also reads): every emit looks its lane up,
/// and SipHash cost ~100 instructions of it. Whatever channels clients choose, the table
/// holds at most 16,384 slots, each hashed apart from the others (an odd multiplier maps
/// distinct slots to distinct hashes).
#[derive(Default)]
struct SlotHasher(u64);

impl Hasher for SlotHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u16(&mut self, slot: u16) {
        self.0 = u64::from(slot);
    }
}

/// The group-commit state of a backend: its lanes, and when it last refreshed each
/// channel's TTL.
#[derive(Default)]
pub(super) struct GroupCommit {
    lanes: Mutex<HashMap<u16, Lane, BuildHasherDefault<SlotHasher>>>,
    ttl_refreshed: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

fn stopped() -> BackendError {
    BackendError::new(
        BACKEND,
        "the emit's batch was abandoned (the backend is shutting down)",
    )
    .kind(FailureKind::OutcomeUnknown)
}

impl RedisBackend {
    /// Appends one entry: alone if its lane is idle, else in one of the lane's next
    /// batches.
    pub(super) async fn append_entry(&self, entry: Entry<'_>) -> Reply {
        if !self.shared.options.group_commit {
            // (boxed: see the lone emit's below)
            return Box::pin(self.send_batch(&[&entry])).await.remove(0);
        }
        let lane = self.lane_of(&entry.channel);
        // `Ok(entry)`: sent alone, from this task; `Err(answer)`: the entry waits, and may
        // complete a batch, which this emit sends (see `RunToEnd`: the batch does not
        // depend on this caller staying).
        let turn = {
            let mut lanes = lock(&self.shared.group.lanes);
            let state = lanes.entry(lane).or_default();
            let alone = state.in_flight == 0
                || (state.in_flight < MAX_IN_FLIGHT
                    && state.waiting.is_empty()
                    && state.batch_target() <= 1);
            if alone {
                state.in_flight += 1;
                state.sent += 1;
                Ok(entry)
            } else {
                let (reply, answer) = oneshot::channel();
                state.waiting.push(Waiting {
                    entry: OwnedEntry::new(&entry),
                    reply,
                });
                let full =
                    state.in_flight < MAX_IN_FLIGHT && state.waiting.len() >= state.batch_target();
                let batch = full.then(|| {
                    state.in_flight += 1;
                    state.take_batch()
                });
                Err((answer, batch))
            }
        };
        let entry = match turn {
            Ok(entry) => entry,
            Err((answer, batch)) => {
                if let Some(batch) = batch {
                    // This emit completed the batch: it sends it from its own task (no
                    // task spawned and woken for it), to the end even if its caller goes
                    // away meanwhile (the batch carries other callers' emits).
                    let backend = self.clone();
                    RunToEnd::new(async move {
                        let ended = batch.len();
                        backend.send_waiting(batch).await;
                        backend.next_batch(lane, ended);
                    })
                    .await;
                }
                return answer.await.unwrap_or_else(|_| Err(stopped()));
            }
        };
        let turn = LaneTurn {
            backend: self,
            lane,
        };
        // (boxed: in place, its ~800 bytes would be in every emit's future, waiting ones
        // too, and make that future too large for the allocator's fast path)
        let reply = Box::pin(self.send_batch(&[&entry])).await.remove(0);
        drop(turn);
        reply
    }

    /// The lane of a channel: the whole Redis, or on a cluster its hash slot.
    fn lane_of(&self, channel: &str) -> u16 {
        if self.shared.cluster {
            super::cluster::key_slot(self.stream_key(channel).as_bytes())
        } else {
            0
        }
    }

    /// One of the lane's batches (of `ended` entries) ended: sends what waited meanwhile
    /// (from a task of its own, so that the caller returns at once), or counts one batch
    /// fewer in flight.
    fn next_batch(&self, lane: u16, ended: usize) {
        if let Some(batch) = self.take_waiting(lane, ended) {
            self.send_batches(lane, batch);
        }
    }

    /// Sends `batch`, counted in flight on `lane`, then the lane's next batches while it
    /// has any, from a task of its own.
    fn send_batches(&self, lane: u16, batch: Vec<Waiting>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to send them from (it is shutting down): the waiting emits fail
            // (their answers are dropped) and the lane ends idle.
            let mut ended = batch.len();
            drop(batch);
            while let Some(next) = self.take_waiting(lane, ended) {
                ended = next.len();
                drop(next);
            }
            return;
        };
        let backend = self.clone();
        runtime.spawn(async move {
            let mut batch = batch;
            loop {
                let ended = batch.len();
                backend.send_waiting(batch).await;
                match backend.take_waiting(lane, ended) {
                    Some(next) => batch = next,
                    None => return,
                }
            }
        });
    }

    /// Sends a batch of waiting emits and hands each its reply.
    async fn send_waiting(&self, batch: Vec<Waiting>) {
        let (owned, waiters): (Vec<OwnedEntry>, Vec<oneshot::Sender<Reply>>) = batch
            .into_iter()
            .map(|waiting| (waiting.entry, waiting.reply))
            .unzip();
        let entries: Vec<Entry<'_>> = owned.iter().map(OwnedEntry::entry).collect();
        let refs: Vec<&Entry<'_>> = entries.iter().collect();
        let replies = self.send_batch(&refs).await;
        for (waiter, reply) in waiters.into_iter().zip(replies) {
            let _caller_gone_is_fine = waiter.send(reply);
        }
    }

    /// One of the lane's batches, of `ended` entries, ended: takes up to [`MAX_BATCH`]
    /// waiting emits of the lane to send in its place when they make a batch (see
    /// [`Lane::batch_target`]) or no other batch is in flight; else counts one batch
    /// fewer in flight (the waiting emits go when they make a batch or the last batch in
    /// flight ends: emits never wait while the lane is idle).
    fn take_waiting(&self, lane: u16, ended: usize) -> Option<Vec<Waiting>> {
        let mut lanes = lock(&self.shared.group.lanes);
        let state = lanes.get_mut(&lane)?;
        state.sent = state.sent.saturating_sub(ended);
        let seen = ended + state.sent + state.waiting.len();
        state.emits = seen.max(state.emits.saturating_sub(state.emits / 8 + 1));
        let last = state.in_flight <= 1;
        if state.waiting.is_empty() || (!last && state.waiting.len() < state.batch_target()) {
            state.in_flight = state.in_flight.saturating_sub(1);
            // (on one Redis, its one lane stays)
            if state.in_flight == 0 && state.emits <= 1 && self.shared.cluster {
                lanes.remove(&lane);
            }
            return None;
        }
        Some(state.take_batch())
    }

    /// Per entry: whether this process should refresh its channel's TTL with it (at most
    /// once per [`TTL_REFRESH_EVERY`] per channel, with the channel's first entry in the
    /// batch); the script also sets the TTL when an emit creates the stream.
    fn refresh_ttl(&self, entries: &[&Entry<'_>]) -> Vec<bool> {
        if self.shared.options.expire_after.is_none() {
            return vec![false; entries.len()];
        }
        let now = Instant::now();
        let mut refreshed = lock(&self.shared.group.ttl_refreshed);
        let mut previous: Option<&str> = None;
        entries
            .iter()
            .map(|entry| {
                let channel = entry.channel.as_ref();
                // (a channel's next entries in a row: just seen, not due)
                if previous.replace(channel) == Some(channel) {
                    return false;
                }
                if let Some(at) = refreshed.get_mut(channel) {
                    if now.duration_since(*at) < TTL_REFRESH_EVERY {
                        return false;
                    }
                    *at = now;
                    return true;
                }
                if refreshed.len() >= TTL_MEMORY {
                    refreshed.retain(|_, at| now.duration_since(*at) < TTL_REFRESH_EVERY);
                }
                refreshed.insert(channel.to_owned(), now);
                true
            })
            .collect()
    }

    /// The backend's settings as the scripts that append read them (`presence.lua`: its
    /// first five arguments; `emit.lua`: written into its text, see [`EmitScript`]).
    pub(super) fn stream_settings(&self, command: &mut redis::Cmd) {
        for setting in settings(&self.shared.options, self.shared.cluster) {
            command.arg(setting);
        }
    }

    /// The script call for `entries` (`EVALSHA`, or `EVAL` with its text after
    /// `NOSCRIPT`); `first_key`: the stream key of the first entry's channel; `one_event`:
    /// the batch goes to `emit_one_event.lua` (see [`takes_one_event`]).
    fn batch_command(
        &self,
        eval: bool,
        entries: &[&Entry<'_>],
        refresh: &[bool],
        first_key: &str,
        one_event: bool,
    ) -> redis::Cmd {
        if one_event {
            return self.one_event_command(eval, entries, first_key);
        }
        let runs = stream_runs(entries);
        let keys: Vec<Cow<'_, str>> = runs
            .iter()
            .enumerate()
            .map(|(i, run)| match i {
                0 => Cow::Borrowed(first_key),
                _ => Cow::Owned(self.stream_key(&run[0].channel)),
            })
            .collect();
        let remembered = entries.iter().filter(|entry| entry.once.is_some()).count();
        // Sized once: growing the command's buffers as arguments come cost more than
        // building it (most of a lone emit's own work in this process).
        let script = self.shared.emit.script(false);
        let text: usize = entries
            .iter()
            .map(|entry| {
                entry.data.len()
                    + entry.event.len()
                    + entry.channel.len()
                    + entry.once.as_ref().map_or(0, |(key, _)| key.len() + 64)
                    + 24
            })
            .sum::<usize>()
            + keys.iter().map(|key| key.len()).sum::<usize>()
            + script.text.len()
            + 64;
        let mut command = redis::Cmd::with_capacity(4 * entries.len() + keys.len() + 8, text);
        script_call(&mut command, script, eval);
        command.arg(runs.len() + remembered);
        for key in &keys {
            command.arg(key.as_ref());
        }
        for entry in entries.iter() {
            if let Some((key, _)) = &entry.once {
                command.arg(self.idempotency_key(&entry.channel, key));
            }
        }
        let mut refresh = refresh.iter();
        let refreshed: Vec<bool> = runs
            .iter()
            .map(|run| refresh.by_ref().take(run.len()).any(|&r| r))
            .collect();
        // The lone streams first, three arguments each (see `script_order`).
        let lone = runs
            .iter()
            .zip(&refreshed)
            .take_while(|(run, refreshed)| is_lone(run, **refreshed))
            .count();
        command.arg(runs.len()).arg(lone);
        for run in &runs[..lone] {
            let entry = run[0];
            command
                .arg(entry.channel.as_ref())
                .arg(entry.data.as_ref())
                .arg(entry.event.as_ref());
        }
        for (run, &refreshed) in runs.iter().zip(&refreshed).skip(lone) {
            let channel = &run[0].channel;
            let with_options = run
                .iter()
                .any(|entry| entry.once.is_some() || !json_safe(&entry.event));
            let escaped = !json_safe(channel);
            // Entries of one event with nothing else to say: the event once, not per entry
            // (an argument costs Redis about as much as a fifth of an XADD).
            let one_event = !refreshed
                && !with_options
                && !escaped
                && run.iter().all(|entry| entry.event == run[0].event);
            if one_event {
                command
                    .arg(channel.as_ref())
                    .arg(format!("-{}", run.len()))
                    .arg(run[0].event.as_ref());
                for entry in run.iter() {
                    command.arg(entry.data.as_ref());
                }
                continue;
            }
            let mut spec = run.len().to_string();
            for (flag, on) in [('r', refreshed), ('o', with_options), ('j', escaped)] {
                if on {
                    spec.push(flag);
                }
            }
            command.arg(channel.as_ref()).arg(spec);
            if escaped {
                command.arg(json_string(channel));
            }
            for entry in run.iter() {
                command.arg(entry.data.as_ref()).arg(entry.event.as_ref());
                if !with_options {
                    continue;
                }
                let escaped = !json_safe(&entry.event);
                let mut options = String::from(if escaped { "e" } else { "" });
                match &entry.once {
                    Some((_, window)) => {
                        let window_ms =
                            u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
                        options.push_str(&window_ms.to_string());
                    }
                    None if !escaped => options.push('-'),
                    None => {}
                }
                command.arg(options);
                if escaped {
                    command.arg(json_string(&entry.event));
                }
            }
        }
        command
    }

    /// The call of `emit_one_event.lua` for `entries`: the stream keys (one, or one per
    /// entry), the event, then each entry's data.
    fn one_event_command(&self, eval: bool, entries: &[&Entry<'_>], first_key: &str) -> redis::Cmd {
        let script = self.shared.emit.script(true);
        let one_stream = entries
            .iter()
            .all(|entry| entry.channel == entries[0].channel);
        let keys = if one_stream { 1 } else { entries.len() };
        // Sized once (as in `batch_command`).
        let text = entries
            .iter()
            .map(|entry| entry.data.len() + 2 * entry.channel.len() + 16)
            .sum::<usize>()
            + entries[0].event.len()
            + script.text.len()
            + 64;
        let mut command = redis::Cmd::with_capacity(entries.len() + keys + 4, text);
        script_call(&mut command, script, eval);
        command.arg(keys).arg(first_key);
        if !one_stream {
            for entry in &entries[1..] {
                command.arg(self.stream_key(&entry.channel));
            }
        }
        command.arg(entries[0].event.as_ref());
        for entry in entries {
            command.arg(entry.data.as_ref());
        }
        command
    }

    /// `command` (the script call) alone on one Redis, or in a pipeline: on a cluster,
    /// and, when emits must reach replicas, followed by `WAIT` if `wait_inline`, else
    /// `CLIENT ID` (the master's next `WAIT` will count for the batch: `replica_wait.rs`).
    fn batch_request(&self, command: redis::Cmd, wait_inline: bool) -> Request {
        let durability = self.shared.options.durability;
        if !self.shared.cluster && matches!(durability, Durability::Master) {
            // (a pipeline would copy the command once more)
            return Request::Alone(command);
        }
        let mut pipeline = redis::pipe();
        pipeline.ignore_errors().add_command(command);
        if let Durability::Replicated { replicas, timeout } = durability {
            if !wait_inline {
                pipeline.cmd("CLIENT").arg("ID");
            } else {
                let timeout_ms = u64::try_from(timeout.as_millis())
                    .unwrap_or(u64::MAX)
                    .max(1);
                pipeline.cmd("WAIT").arg(replicas).arg(timeout_ms);
            }
        }
        Request::Pipeline(pipeline)
    }

    /// Sends one batch (all of one lane); one reply per entry, in order.
    async fn send_batch(&self, entries: &[&Entry<'_>]) -> Vec<Reply> {
        let refresh = self.refresh_ttl(entries);
        let key = self.stream_key(&entries[0].channel);
        // (boxed: awaited in place it would make every emit's future larger, and its
        // allocation slower, for what only `Durability::Replicated` does)
        let replicated = matches!(
            self.shared.options.durability,
            Durability::Replicated { .. }
        );
        let checked = if replicated {
            Box::pin(self.check_replicas(&key)).await
        } else {
            Ok(())
        };
        if let Err(short) = checked {
            return entries
                .iter()
                .map(|entry| {
                    Err(BackendError::new(
                        BACKEND,
                        format!(
                            "emit to channel `{}` refused: {}",
                            entry.channel,
                            short.message()
                        ),
                    )
                    .kind(short.failure_kind()))
                })
                .collect();
        }
        // See `Outcome::repeat`: at most one more attempt, only for what cannot duplicate.
        // (a batch for `emit_one_event.lua` goes in the order given, as does any part of it)
        let one_event = takes_one_event(entries, &refresh, &self.shared.options.key_layout);
        let mut pending = if entries.len() == 1 || one_event {
            (0..entries.len()).collect()
        } else {
            script_order(entries, &refresh)
        };
        // (filled only when a batch ends in parts: sent once more, or sent in another order)
        let mut replies: Vec<Option<Reply>> = Vec::new();
        let mut eval = false;
        let mut retried = false;
        while !pending.is_empty() {
            // (as sent, unless the script takes them in another order or some are done)
            let in_order =
                pending.len() == entries.len() && pending.iter().enumerate().all(|(n, &i)| n == i);
            let (batch, flags): (Cow<'_, [&Entry<'_>]>, Cow<'_, [bool]>) = if in_order {
                (Cow::Borrowed(entries), Cow::Borrowed(&refresh))
            } else {
                (
                    pending.iter().map(|&i| entries[i]).collect(),
                    pending.iter().map(|&i| refresh[i]).collect(),
                )
            };
            // On a cluster, the master's `WAIT` goes in this pipeline when none is in
            // flight (a lone emitter: one round trip); else the batch waits for the next.
            let leads = self.lead_wait(&key);
            let wait_inline = !self.shared.cluster || leads.is_some();
            let first_key = if batch[0].channel == entries[0].channel {
                Cow::Borrowed(key.as_str())
            } else {
                Cow::Owned(self.stream_key(&batch[0].channel))
            };
            let command = self.batch_command(eval, &batch, &flags, &first_key, one_event);
            let sent = match self.batch_request(command, wait_inline) {
                Request::Alone(command) => self
                    .shared
                    .commands
                    .send_command(&command)
                    .await
                    .map(|answer| (None, vec![answer])),
                // (boxed: see `check_replicas` above; pipelines are for a cluster or
                // `Durability::Replicated`)
                Request::Pipeline(pipeline) => {
                    Box::pin(self.shared.commands.send_noting_node(&key, &pipeline)).await
                }
            };
            drop(leads);
            match sent {
                // Not cached on this server (yet): nothing ran, send the script itself.
                Ok((_, answers))
                    if !eval
                        && matches!(answers.first(), Some(Err(error)) if error.code() == Some("NOSCRIPT")) =>
                {
                    eval = true;
                }
                Ok((node, answers)) => {
                    let deferred_to = if wait_inline { None } else { node.clone() };
                    let results = self
                        .read_batch_replies(&batch, answers, deferred_to, node.as_ref())
                        .await;
                    if in_order {
                        return results;
                    }
                    if replies.is_empty() {
                        replies = entries.iter().map(|_| None).collect();
                    }
                    for (&i, result) in pending.iter().zip(results) {
                        replies[i] = Some(result);
                    }
                    pending.clear();
                }
                Err(source) => {
                    let outcome = Outcome::of(&source);
                    let (again, fail): (Vec<usize>, Vec<usize>) = pending
                        .iter()
                        .partition(|&&i| !retried && outcome.repeat(entries[i].once.is_some()));
                    if replies.is_empty() {
                        replies = entries.iter().map(|_| None).collect();
                    }
                    for i in fail {
                        let channel = &entries[i].channel;
                        replies[i] = Some(Err(BackendError::new(
                            BACKEND,
                            format!("emit to channel `{channel}` failed: {source}"),
                        )
                        .kind(failure_kind(&source, true))));
                    }
                    if !again.is_empty() {
                        tracing::debug!(entries = again.len(), error = %source, "emits sent once more on a fresh connection");
                    }
                    retried = true;
                    pending = again;
                }
            }
        }
        replies
            .into_iter()
            .map(|reply| reply.unwrap_or_else(|| Err(stopped())))
            .collect()
    }

    /// Reads the replies of a batch's pipeline: the script's array (one item per entry),
    /// then `WAIT`'s count, or with `node` (the master that answered) the connection's
    /// id, with which the count comes from that master's next `WAIT`. `answered_by`: the
    /// master that answered (`None` on one Redis), told how many replicas it counted.
    async fn read_batch_replies(
        &self,
        entries: &[&Entry<'_>],
        answers: Vec<redis::RedisResult<Value>>,
        node: Option<NodeAddr>,
        answered_by: Option<&NodeAddr>,
    ) -> Vec<Reply> {
        let mut answers = answers.into_iter();
        let script = answers.next();
        let mut replicated = answers.next();
        let items: Vec<&[u8]> = match &script {
            // One line per entry.
            Some(Ok(Value::BulkString(text))) => text.split(|&byte| byte == b'\n').collect(),
            // The whole call was refused (e.g. out of memory, busy, the cluster down):
            // nothing of it ran.
            Some(Err(source)) => {
                return entries
                    .iter()
                    .map(|entry| {
                        Err(BackendError::new(
                            BACKEND,
                            format!("emit to channel `{}` failed: {source}", entry.channel),
                        )
                        .kind(answered_kind(source)))
                    })
                    .collect();
            }
            _ => Vec::new(),
        };
        if items.len() != entries.len() {
            let message = format!("the emit script answered {script:?}");
            return entries
                .iter()
                .map(|_| Err(BackendError::new(BACKEND, message.clone())))
                .collect();
        }
        if let (Some(node), Some(Ok(Value::Int(connection)))) = (&node, &replicated) {
            // (boxed: see `check_replicas` in `send_batch`)
            let acknowledged = Box::pin(self.wait_for_replicas(node, *connection)).await;
            replicated = acknowledged.map(|count| Ok(Value::Int(count)));
        }
        if let Some(Ok(Value::Int(count))) = &replicated {
            self.record_replicas(answered_by, *count);
        }
        entries
            .iter()
            .zip(items)
            .map(|(entry, item)| {
                let appended = read_entry_reply(&entry.channel, item)?;
                self.check_replicated(&entry.channel, appended, replicated.as_ref())
            })
            .collect()
    }

    /// With [`Durability::Replicated`]: the entry is acknowledged only when `WAIT` counted
    /// enough replicas.
    fn check_replicated(
        &self,
        channel: &str,
        appended: Appended,
        replicated: Option<&redis::RedisResult<Value>>,
    ) -> Reply {
        let Durability::Replicated { replicas, timeout } = self.shared.options.durability else {
            return Ok(appended);
        };
        let acknowledged = match replicated {
            Some(Ok(Value::Int(count))) => *count,
            _ => -1,
        };
        if acknowledged >= i64::from(replicas) {
            return Ok(appended);
        }
        let reached = if acknowledged < 0 {
            "an unknown number".to_owned()
        } else {
            acknowledged.to_string()
        };
        Err(BackendError::new(
            BACKEND,
            format!(
                "emit to channel `{channel}` is stored as {} on the master but reached {reached} \
                 of {replicas} replicas within {timeout:?}: a failover may lose it; retry with \
                 the same idempotency key to wait again",
                appended.id
            ),
        )
        .kind(FailureKind::OutcomeUnknown))
    }
}

/// The backend's settings as the scripts that append read them: the publish command,
/// `MAXLEN` (`0`: none), how it trims, the stream's TTL in seconds (`0`: none), and
/// whether live messages of one call go out as one JSON array per channel.
fn settings(options: &super::RedisOptions, cluster: bool) -> [String; 5] {
    let max_len = options.max_len.map_or(0, |n| n.max(1));
    let trim = match options.trim {
        Trim::Exact => "=",
        Trim::Approximate => "~",
    };
    // Refreshed at most once per second, so one second longer: the stream still lives
    // `expire_after` after its last emit.
    let expire = options.expire_after.map_or(0, |after| {
        after.as_secs().max(1) + TTL_REFRESH_EVERY.as_secs()
    });
    [
        if cluster { "SPUBLISH" } else { "PUBLISH" }.to_owned(),
        max_len.to_string(),
        trim.to_owned(),
        expire.to_string(),
        // Our servers read a batch of live messages; a reference server does not.
        if matches!(options.key_layout, KeyLayout::Reference) {
            "0"
        } else {
            "1"
        }
        .to_owned(),
    ]
}

/// The line of `emit.lua` that holds the backend's settings.
const SETTINGS_LINE: &str = "local publish, max_len, trim, expire_secs, grouped = 'PUBLISH', '0', '=', '0', '1' -- settings";
/// The line of `emit_one_event.lua` that holds the backend's settings.
const ONE_EVENT_SETTINGS_LINE: &str = "local publish, max_len, trim, expire_secs, grouped, name_from, name_to = 'PUBLISH', '0', '=', '0', '1', 1, -1 -- settings";

/// A script with the backend's settings written in, and its SHA-1.
#[derive(Debug)]
struct Script {
    text: String,
    hash: String,
}

impl Script {
    fn new(text: String) -> Self {
        let hash = redis::Script::new(&text).get_hash().to_owned();
        Self { text, hash }
    }
}

/// The emit scripts of a backend: `emit.lua` and `emit_one_event.lua` with the backend's
/// settings written in (each a plain word or number of ours, never user input).
#[derive(Debug)]
pub(super) struct EmitScript {
    general: Script,
    one_event: Script,
}

impl EmitScript {
    pub(super) fn new(options: &super::RedisOptions, cluster: bool) -> Self {
        let [publish, max_len, trim, expire, grouped] = settings(options, cluster);
        let line = format!(
            "local publish, max_len, trim, expire_secs, grouped = '{publish}', '{max_len}', \
             '{trim}', '{expire}', '{grouped}' -- settings"
        );
        let general = Script::new(super::EMIT_SCRIPT.replacen(SETTINGS_LINE, &line, 1));
        // Where a channel's name lies in its stream key (as `string.sub` counts): after
        // the prefix, and on a cluster inside the key's `{}`.
        let (name_from, name_to) = match (&options.key_layout, cluster) {
            (KeyLayout::Prefixed(prefix), false) => (prefix.len() + 1, 1),
            (KeyLayout::Prefixed(prefix), true) => (prefix.len() + 2, 2),
            (KeyLayout::Reference, _) => (1, 1),
        };
        let line = format!(
            "local publish, max_len, trim, expire_secs, grouped, name_from, name_to = \
             '{publish}', '{max_len}', '{trim}', '{expire}', '{grouped}', {name_from}, \
             -{name_to} -- settings"
        );
        let one_event =
            Script::new(super::EMIT_ONE_EVENT_SCRIPT.replacen(ONE_EVENT_SETTINGS_LINE, &line, 1));
        Self { general, one_event }
    }

    /// The script a batch goes to: `emit_one_event.lua` if `one_event`, else `emit.lua`.
    fn script(&self, one_event: bool) -> &Script {
        if one_event {
            &self.one_event
        } else {
            &self.general
        }
    }
}

/// Starts `command` as a call of `script`: `EVALSHA <hash>`, or `EVAL <text>` when Redis
/// did not have it cached.
fn script_call(command: &mut redis::Cmd, script: &Script, eval: bool) {
    if eval {
        command.arg("EVAL").arg(script.text.as_str());
    } else {
        command.arg("EVALSHA").arg(script.hash.as_str());
    }
}

/// The entries of a batch in runs of one stream each (the entries come grouped by
/// channel: see [`script_order`]).
fn stream_runs<'e, 'a>(entries: &'e [&'e Entry<'a>]) -> Vec<&'e [&'e Entry<'a>]> {
    entries
        .chunk_by(|one, other| one.channel == other.channel)
        .collect()
}

/// The positions of `entries` in the order the script takes them: each channel's entries
/// adjacent and in their own order (the script takes a batch stream by stream, and order
/// only matters within a stream), the lone streams first (see [`is_lone`]: the script
/// has a shorter path for them), then the others, each in the order the channels first
/// appear. `refresh[i]`: entry `i` asks for its channel's TTL to be refreshed.
fn script_order(entries: &[&Entry<'_>], refresh: &[bool]) -> Vec<usize> {
    // Per channel: where it first appears, how many entries it has, whether it asks for
    // a refresh.
    let mut channels: HashMap<&str, (usize, usize, bool)> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let seen = channels
            .entry(entry.channel.as_ref())
            .or_insert((i, 0, false));
        seen.1 += 1;
        seen.2 |= refresh.get(i).copied().unwrap_or(false);
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| {
        let entry = entries[i];
        let (first, count, refreshed) = channels[entry.channel.as_ref()];
        let lone = count == 1 && is_lone(&[entry], refreshed);
        (!lone, first)
    });
    order
}

/// Whether a batch goes to `emit_one_event.lua`: its entries carry one event that JSON
/// writes as it is, no idempotency key and no TTL refresh, on channels whose stream keys
/// hold their names as they are, and either all on one channel or each on its own.
fn takes_one_event(entries: &[&Entry<'_>], refresh: &[bool], layout: &KeyLayout) -> bool {
    let Some(first) = entries.first() else {
        return false;
    };
    let plain = |entry: &&Entry<'_>| {
        entry.once.is_none()
            && entry.event == first.event
            && json_safe(&entry.channel)
            && key_holds_name(layout, &entry.channel)
    };
    if refresh.iter().any(|&r| r) || !json_safe(&first.event) || !entries.iter().all(plain) {
        return false;
    }
    if entries.iter().all(|entry| entry.channel == first.channel) {
        return true;
    }
    let mut channels: Vec<&str> = entries.iter().map(|entry| entry.channel.as_ref()).collect();
    channels.sort_unstable();
    channels.windows(2).all(|pair| pair[0] != pair[1])
}

/// Whether `channel`'s stream key holds its name as it is, so that `emit_one_event.lua`
/// finds the name in the key (under a prefixed layout a `:` is written `%3A`).
fn key_holds_name(layout: &KeyLayout, channel: &str) -> bool {
    match layout {
        KeyLayout::Prefixed(_) => !channel.contains(':'),
        KeyLayout::Reference => true,
    }
}

/// Whether a stream's run goes to the script as a lone stream: one entry, without an
/// idempotency key, with names JSON writes as they are, and no TTL refresh asked.
fn is_lone(run: &[&Entry<'_>], refreshed: bool) -> bool {
    match run {
        [entry] => {
            !refreshed
                && entry.once.is_none()
                && json_safe(&entry.channel)
                && json_safe(&entry.event)
        }
        _ => false,
    }
}

/// `name` as JSON writes it between quotes.
fn json_string(name: &str) -> String {
    let quoted = serde_json::Value::from(name).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_owned()
}

/// Whether `name` can be written between JSON quotes as it is.
fn json_safe(name: &str) -> bool {
    name.bytes()
        .all(|byte| (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\')
}

/// One entry's line of the script's reply: `<id>` stored, `=<id>` replayed, `#<id>` its key
/// reused for another event or data, `!<error>`.
fn read_entry_reply(channel: &str, item: &[u8]) -> Reply {
    if let Some(id) = Cursor::from_ascii(item) {
        return Ok(Appended {
            id,
            replayed: false,
        });
    }
    let failed = || format!("emit to channel `{channel}` failed");
    let text = String::from_utf8_lossy(item);
    if let Some(error) = text.strip_prefix('!') {
        if error.starts_with("WRONGTYPE") {
            return Err(BackendError::new(
                BACKEND,
                format!(
                    "{}: the key of channel `{channel}` holds data that is not an event stream \
                     (written by something else); this will not succeed on retry",
                    failed()
                ),
            )
            .kind(FailureKind::Refused));
        }
        return Err(BackendError::new(BACKEND, format!("{}: {error}", failed()))
            .kind(error_text_kind(error)));
    }
    if let Some(original) = text.strip_prefix('#') {
        return Err(BackendError::new(
            BACKEND,
            format!(
                "its idempotency key stored entry {original} of channel `{channel}`, with \
                 another event or data"
            ),
        )
        .kind(FailureKind::KeyReused));
    }
    let (id, replayed) = match text.strip_prefix('=') {
        Some(id) => (id, true),
        None => (text.as_ref(), false),
    };
    let id: Cursor = id
        .parse()
        .map_err(|_| BackendError::new(BACKEND, format!("XADD returned a malformed id `{id}`")))?;
    Ok(Appended { id, replayed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        channel: &'static str,
        event: &'static str,
        key: Option<&'static str>,
    ) -> Entry<'static> {
        Entry {
            channel: Cow::Borrowed(channel),
            event: Cow::Borrowed(event),
            data: Cow::Borrowed("1"),
            once: key.map(|key| (Cow::Borrowed(key), Duration::from_secs(1))),
        }
    }

    #[tokio::test]
    async fn work_run_to_end_goes_on_when_its_awaiter_goes_away() {
        let (go, went) = oneshot::channel::<()>();
        let (done, finished) = oneshot::channel::<()>();
        let work = RunToEnd::new(async move {
            let _ = went.await;
            let _ = done.send(());
        });
        // Awaited until it waits, then abandoned (a `timeout` around an emit).
        let abandoned = tokio::time::timeout(Duration::from_millis(10), work).await;
        assert!(abandoned.is_err());
        go.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), finished)
            .await
            .expect("the abandoned work ran to its end")
            .unwrap();
    }

    #[test]
    fn a_waiting_entry_keeps_every_text_and_the_window() {
        for original in [
            entry("room-1", "chat.message", None),
            entry("room:2", "a.b", Some("key-1")),
            entry("", "a.b", Some("")),
        ] {
            let owned = OwnedEntry::new(&original);
            let kept = owned.entry();
            assert_eq!(kept.channel, original.channel);
            assert_eq!(kept.event, original.event);
            assert_eq!(kept.data, original.data);
            assert_eq!(kept.once, original.once);
        }
    }

    #[test]
    fn the_emit_scripts_carry_the_backends_settings() {
        assert!(super::super::EMIT_SCRIPT.contains(SETTINGS_LINE));
        assert!(super::super::EMIT_ONE_EVENT_SCRIPT.contains(ONE_EVENT_SETTINGS_LINE));
        let options = super::super::RedisOptions::default()
            .max_len(100)
            .expire_after(Duration::from_secs(60));
        let script = EmitScript::new(&options, true);
        assert!(!script.general.text.contains(SETTINGS_LINE));
        assert!(script.general.text.contains(
            "local publish, max_len, trim, expire_secs, grouped = 'SPUBLISH', '100', '=', '61', '1'"
        ));
        // `{realtime:<name>}`: the name from the 11th byte to the one before the last.
        assert!(script.one_event.text.contains(
            "local publish, max_len, trim, expire_secs, grouped, name_from, name_to = \
             'SPUBLISH', '100', '=', '61', '1', 11, -2 -- settings"
        ));
        let single = EmitScript::new(&super::super::RedisOptions::default(), false);
        assert!(
            single
                .one_event
                .text
                .contains("'PUBLISH', '0', '=', '0', '1', 10, -1 -- settings")
        );
        let reference = super::super::RedisOptions::default().key_layout(KeyLayout::Reference);
        assert!(
            EmitScript::new(&reference, false)
                .one_event
                .text
                .contains("'PUBLISH', '0', '=', '0', '0', 1, -1 -- settings")
        );
        assert_ne!(script.general.hash, single.general.hash);
        assert_ne!(script.one_event.hash, single.one_event.hash);
    }

    #[test]
    fn batches_of_one_plain_event_on_one_channel_or_one_each_take_the_one_event_script() {
        let layout = KeyLayout::default();
        let takes = |entries: &[Entry<'static>], refresh: &[bool]| {
            let entries: Vec<&Entry<'_>> = entries.iter().collect();
            takes_one_event(&entries, refresh, &layout)
        };
        let one = [entry("room", "a.b", None)];
        assert!(takes(&one, &[false]));
        let hot = [entry("room", "a.b", None), entry("room", "a.b", None)];
        assert!(takes(&hot, &[false, false]));
        let spread = [entry("room-1", "a.b", None), entry("room-2", "a.b", None)];
        assert!(takes(&spread, &[false, false]));
        // Not: a channel twice among others, two events, a key, a TTL refresh, a name
        // the key escapes or JSON escapes.
        let mixed = [
            entry("room-1", "a.b", None),
            entry("room-2", "a.b", None),
            entry("room-1", "a.b", None),
        ];
        assert!(!takes(&mixed, &[false, false, false]));
        let events = [entry("room", "a.b", None), entry("room", "a.c", None)];
        assert!(!takes(&events, &[false, false]));
        assert!(!takes(&[entry("room", "a.b", Some("k"))], &[false]));
        assert!(!takes(&one, &[true]));
        assert!(!takes(&[entry("team:42", "a.b", None)], &[false]));
        assert!(!takes(&[entry("room", "a\"b", None)], &[false]));
        // The reference layout keeps the name as the key.
        let entries = [entry("team:42", "a.b", None)];
        let entries: Vec<&Entry<'_>> = entries.iter().collect();
        assert!(takes_one_event(&entries, &[false], &KeyLayout::Reference));
    }

    #[test]
    fn the_script_takes_lone_streams_first_and_each_channel_in_its_order() {
        let entries = [
            entry("hot", "a.b", None),        // 0: hot has three entries
            entry("lone-1", "a.b", None),     // 1: lone
            entry("hot", "a.b", None),        // 2
            entry("keyed", "a.b", Some("k")), // 3: one entry, but an idempotency key
            entry("lone-2", "a.b", None),     // 4: lone
            entry("refreshed", "a.b", None),  // 5: one entry, but a TTL refresh
            entry("esc\"aped", "a.b", None),  // 6: one entry, a name JSON escapes
            entry("hot", "a.b", None),        // 7
            entry("odd-event", "a\"b", None), // 8: one entry, an event JSON escapes
        ];
        let entries: Vec<&Entry<'_>> = entries.iter().collect();
        let refresh = [false, false, false, false, false, true, false, false, false];
        assert_eq!(
            script_order(&entries, &refresh),
            [1, 4, 0, 2, 7, 3, 5, 6, 8]
        );
        let ordered: Vec<&Entry<'_>> = script_order(&entries, &refresh)
            .into_iter()
            .map(|i| entries[i])
            .collect();
        let runs = stream_runs(&ordered);
        let lone: Vec<bool> = runs
            .iter()
            .map(|run| is_lone(run, run[0].channel == "refreshed"))
            .collect();
        assert_eq!(lone, [true, true, false, false, false, false, false]);
    }
}
