//! Emits: one script call appends, expires and publishes, so an emit is one round trip,
//! atomic, and its live message carries its id.
//!
//! Concurrent emits are batched: while [`MAX_IN_FLIGHT`] script calls are on their way,
//! new emits queue, and the next call carries every queued emit (up to [`MAX_BATCH`]).
//! A lone emit is a batch of one, sent at once; under load the cost of running the script
//! is shared by many emits. Each entry of a batch succeeds or fails on its own.

use std::sync::Arc;

use redis::aio::ConnectionManager;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::layout::{KeyLayout, published_prefix};
use super::{BACKEND, RedisOptions, Trim};
use crate::backend::BackendError;
use crate::cursor::Cursor;

/// The most emits in one script call.
const MAX_BATCH: usize = 64;
/// The most script calls on their way at once.
const MAX_IN_FLIGHT: usize = 2;
/// Arguments per entry, in `ARGV` order.
const ARGS_PER_ENTRY: usize = 8;

/// For each entry `i` (`KEYS[i]`: its stream; `ARGV[8(i-1)+1..8i]`: data, event, channel,
/// pub/sub channel, live message up to its id, `MAXLEN` (0: none), trim operator, `EXPIRE`
/// seconds (0: none)): `XADD`, `EXPIRE`, `PUBLISH`. Returns each entry's id, or
/// `ERR <message>` when its `XADD` failed (then nothing of it was written).
const EMIT_SCRIPT: &str = r#"
local out = {}
for i = 1, #KEYS do
  local b = (i - 1) * 8
  local id
  if ARGV[b + 6] ~= '0' then
    id = redis.pcall('XADD', KEYS[i], 'MAXLEN', ARGV[b + 7], ARGV[b + 6], '*', 'data', ARGV[b + 1], 'event', ARGV[b + 2], 'channel', ARGV[b + 3])
  else
    id = redis.pcall('XADD', KEYS[i], '*', 'data', ARGV[b + 1], 'event', ARGV[b + 2], 'channel', ARGV[b + 3])
  end
  if type(id) == 'table' then
    out[i] = 'ERR ' .. tostring(id.err)
  else
    if ARGV[b + 8] ~= '0' then
      redis.call('EXPIRE', KEYS[i], ARGV[b + 8])
    end
    redis.call('PUBLISH', ARGV[b + 4], ARGV[b + 5] .. id .. '"}')
    out[i] = id
  end
end
return out
"#;

/// One emit waiting for its batch.
struct Pending {
    key: String,
    args: [String; ARGS_PER_ENTRY],
    channel: String,
    reply: oneshot::Sender<Result<Cursor, BackendError>>,
}

/// The queue of emits of one backend; the writer task stops when it is dropped.
#[derive(Debug)]
pub(super) struct EmitQueue {
    pending: mpsc::UnboundedSender<Pending>,
}

impl EmitQueue {
    pub(super) fn start(connection: ConnectionManager) -> Self {
        let (pending, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(queue, connection));
        Self { pending }
    }

    /// Appends, expires and publishes one entry; returns its id.
    pub(super) async fn emit(
        &self,
        options: &RedisOptions,
        channel: &str,
        event: &str,
        data: &str,
    ) -> Result<Cursor, BackendError> {
        let layout: &KeyLayout = &options.key_layout;
        let max_len = options.max_len.map_or(0, |n| n.max(1));
        let trim = match options.trim {
            Trim::Exact => "=",
            Trim::Approximate => "~",
        };
        let expire = options
            .expire_after
            .map_or(0, |after| after.as_secs().max(1));
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            key: layout.stream_key(channel),
            args: [
                data.to_owned(),
                event.to_owned(),
                channel.to_owned(),
                layout.pubsub_channel(channel),
                published_prefix(channel, event, data),
                max_len.to_string(),
                trim.to_owned(),
                expire.to_string(),
            ],
            channel: channel.to_owned(),
            reply,
        };
        let stopped = || BackendError::new(BACKEND, "the emit writer has stopped");
        self.pending.send(pending).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write_batches(mut queue: mpsc::UnboundedReceiver<Pending>, connection: ConnectionManager) {
    let script = Arc::new(redis::Script::new(EMIT_SCRIPT));
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
            return;
        };
        let mut batch = Vec::new();
        if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let mut connection = connection.clone();
        let script = Arc::clone(&script);
        tokio::spawn(async move {
            run_batch(batch, &mut connection, &script).await;
            drop(permit);
        });
    }
}

async fn run_batch(
    batch: Vec<Pending>,
    connection: &mut ConnectionManager,
    script: &redis::Script,
) {
    let mut invocation = script.prepare_invoke();
    for pending in &batch {
        invocation.key(&pending.key);
        for arg in &pending.args {
            invocation.arg(arg);
        }
    }
    match invocation.invoke_async::<Vec<String>>(connection).await {
        Ok(results) if results.len() == batch.len() => {
            for (pending, result) in batch.into_iter().zip(results) {
                let outcome = match result.strip_prefix("ERR ") {
                    Some(error) => Err(BackendError::new(
                        BACKEND,
                        format!("emit to channel `{}` failed: {error}", pending.channel),
                    )),
                    None => result.parse().map_err(|_| {
                        BackendError::new(
                            BACKEND,
                            format!("XADD returned a malformed id `{result}`"),
                        )
                    }),
                };
                let _caller_gone_is_fine = pending.reply.send(outcome);
            }
        }
        Ok(results) => {
            let message = format!(
                "the emit script answered {} results for {} entries",
                results.len(),
                batch.len()
            );
            for pending in batch {
                let _caller_gone_is_fine = pending
                    .reply
                    .send(Err(BackendError::new(BACKEND, message.clone())));
            }
        }
        Err(source) => {
            let message = source.to_string();
            for pending in batch {
                let error = BackendError::new(
                    BACKEND,
                    format!("emit to channel `{}` failed: {message}", pending.channel),
                );
                let _caller_gone_is_fine = pending.reply.send(Err(error));
            }
        }
    }
}
