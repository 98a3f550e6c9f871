//! [`Durability::Replicated`] when a master has fewer replicas than asked: after a
//! failover the promoted replica has none of its own, so every emit to its slots would be
//! stored, delivered, and answered "outcome unknown" (504) until a replica attaches, and
//! a caller retrying with its idempotency key would retry forever.
//!
//! Instead, as Redis's own `min-replicas-to-write` does: once a master's `WAIT` counts
//! fewer replicas than asked, the master is **short**, and emits to it are refused before
//! anything is stored ([`FailureKind::Unavailable`], 503 over HTTP), one `INFO
//! replication` probe at most every [`PROBE_EVERY`] telling when enough replicas are
//! attached again. Each shortage is logged once when it starts and once when it ends, and
//! counted in the [`REPLICA_SHORTAGES`](crate::metrics::REPLICA_SHORTAGES) gauge.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use redis::Value;
use tokio::time::Instant;

use super::cluster::{NodeAddr, key_slot};
use super::commands::Commands;
use super::{BACKEND, Durability, RedisBackend};
use crate::backend::{BackendError, FailureKind};
use crate::metrics;
use crate::util::lock;

/// How often a short master is asked again how many replicas it has.
pub(super) const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The masters known to be short of replicas (`None`: the one Redis of a non-cluster
/// backend), with when each was last probed.
#[derive(Debug, Default)]
pub(super) struct ReplicaShortages {
    short: Mutex<HashMap<Option<NodeAddr>, Instant>>,
}

impl RedisBackend {
    /// The master that `key`'s emits go to, as the shortages name it.
    fn shortage_key(&self, key: &str) -> Option<NodeAddr> {
        match &self.shared.commands {
            Commands::Cluster(cluster) => cluster.master_of(key_slot(key.as_bytes())),
            Commands::Single(_) => None,
        }
    }

    /// Before a batch of emits to `key`'s master with [`Durability::Replicated`]: an
    /// error when that master is short of replicas (probing it again when due).
    pub(super) async fn check_replicas(&self, key: &str) -> Result<(), BackendError> {
        let Durability::Replicated { replicas, .. } = self.shared.options.durability else {
            return Ok(());
        };
        let master = self.shortage_key(key);
        let probe_due = {
            let short = lock(&self.shared.replica_shortages.short);
            match short.get(&master) {
                None => return Ok(()),
                Some(probed) => probed.elapsed() >= PROBE_EVERY,
            }
        };
        let attached = if probe_due {
            let attached = self.attached_replicas(key).await;
            if attached.is_some_and(|attached| attached >= i64::from(replicas)) {
                self.shortage_ended(master, attached.unwrap_or_default());
                return Ok(());
            }
            if let Some(probed) = lock(&self.shared.replica_shortages.short).get_mut(&master) {
                *probed = Instant::now();
            }
            attached
        } else {
            None
        };
        let attached = attached.map_or_else(String::new, |n| format!(" ({n} attached)"));
        Err(BackendError::new(
            BACKEND,
            format!(
                "the master of this channel has fewer replicas{attached} than the \
                 {replicas} Durability::Replicated asks for (after a failover, until a \
                 replica attaches); nothing was stored, retry later"
            ),
        )
        .kind(FailureKind::Unavailable))
    }

    /// After a batch's `WAIT` on `master` counted `acknowledged` replicas (negative:
    /// unknown): a master that counted fewer than asked is short from now on.
    pub(super) fn record_replicas(&self, master: Option<&NodeAddr>, acknowledged: i64) {
        let Durability::Replicated { replicas, .. } = self.shared.options.durability else {
            return;
        };
        if acknowledged < 0 || acknowledged >= i64::from(replicas) {
            return;
        }
        let mut short = lock(&self.shared.replica_shortages.short);
        if short.contains_key(&master.cloned()) {
            return;
        }
        // Probed at the next emit: a replica that is attached but slow clears it at once.
        let long_ago = Instant::now()
            .checked_sub(PROBE_EVERY)
            .unwrap_or_else(Instant::now);
        short.insert(master.cloned(), long_ago);
        metrics::REPLICA_SHORTAGES_GAUGE.add(1);
        tracing::warn!(
            master = master.map(|node| node.to_string()),
            acknowledged,
            replicas,
            "master short of replicas: replicated emits to it are refused (503, nothing stored) until enough replicas attach"
        );
    }

    fn shortage_ended(&self, master: Option<NodeAddr>, attached: i64) {
        if lock(&self.shared.replica_shortages.short)
            .remove(&master)
            .is_some()
        {
            metrics::REPLICA_SHORTAGES_GAUGE.add(-1);
            tracing::info!(
                master = master.map(|node| node.to_string()),
                attached,
                "master has its replicas again: replicated emits to it are accepted"
            );
        }
    }

    /// The replicas attached to `key`'s master (`INFO replication`), `None` when it
    /// cannot tell.
    async fn attached_replicas(&self, key: &str) -> Option<i64> {
        let mut pipeline = redis::pipe();
        pipeline.cmd("INFO").arg("replication");
        let replies = self.shared.commands.send(key, &pipeline).await.ok()?;
        let info = match replies.into_iter().next()? {
            Ok(Value::BulkString(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(Value::VerbatimString { text, .. }) => text,
            Ok(Value::SimpleString(text)) => text,
            _ => return None,
        };
        info.lines()
            .find_map(|line| line.strip_prefix("connected_slaves:"))
            .and_then(|count| count.trim().parse().ok())
    }
}
