//! Moving a slot with its keys from one master to another, in the steps of
//! `redis-cli --cluster reshard`.

use std::time::{Duration, Instant};

use super::topology::{ClusterNode, cluster_cmd, cluster_nodes_of, connect, master_serving, query};
use super::{COMMAND_TIMEOUT, POLL_INTERVAL};

/// Keys per `CLUSTER GETKEYSINSLOT` + `MIGRATE` round.
const BATCH: usize = 100;
/// The timeout `MIGRATE` is given, in ms.
const MIGRATE_TIMEOUT_MS: u64 = 5_000;
/// After `CLUSTER SETSLOT .. NODE`, every node running when the migration began must map
/// the slot to its new master within this.
const AGREEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A slot on its way from one master to another, begun by
/// [`PrivateCluster::begin_migration`](super::PrivateCluster::begin_migration); a test may
/// act between the steps.
#[derive(Debug)]
pub struct Migration {
    slot: u16,
    source: u16,
    target: u16,
    source_id: String,
    target_id: String,
    /// Healthy masters when the migration began: each is told the slot's new owner.
    masters: Vec<u16>,
    /// Nodes running when the migration began: [`finish`](Self::finish) waits for them.
    running: Vec<u16>,
}

impl Migration {
    /// Marks `slot` as importing on the master on `to` (`CLUSTER SETSLOT .. IMPORTING`)
    /// and as migrating on its current master in `view` (`.. MIGRATING`).
    pub(super) async fn begin(view: &[ClusterNode], running: Vec<u16>, slot: u16, to: u16) -> Self {
        let source = master_serving(view, slot)
            .unwrap_or_else(|| panic!("no master serves slot {slot}: {view:#?}"));
        let target = view
            .iter()
            .find(|node| node.port == to && node.is_master() && !node.is_failing())
            .unwrap_or_else(|| panic!("{to} is not a healthy master: {view:#?}"));
        assert_ne!(source.port, to, "slot {slot} is already served by {to}");
        let masters = view
            .iter()
            .filter(|node| node.is_master() && !node.is_failing())
            .map(|node| node.port)
            .collect();
        let migration = Self {
            slot,
            source: source.port,
            target: to,
            source_id: source.id.clone(),
            target_id: target.id.clone(),
            masters,
            running,
        };
        migration
            .setslot(to, &["IMPORTING", &migration.source_id])
            .await;
        migration
            .setslot(migration.source, &["MIGRATING", &migration.target_id])
            .await;
        migration
    }

    /// The slot being moved.
    pub fn slot(&self) -> u16 {
        self.slot
    }

    /// The port of the master the slot leaves.
    pub fn source(&self) -> u16 {
        self.source
    }

    /// The port of the master the slot goes to.
    pub fn target(&self) -> u16 {
        self.target
    }

    /// Moves every key of the slot from the source to the target, 100 at a time
    /// (`CLUSTER GETKEYSINSLOT` + `MIGRATE .. KEYS`); returns how many were moved.
    pub async fn move_keys(&self) -> usize {
        let mut source = connect(self.source, COMMAND_TIMEOUT)
            .await
            .unwrap_or_else(|error| panic!("cluster node {}: {error}", self.source));
        let mut moved = 0;
        loop {
            let keys: Vec<Vec<u8>> = cluster_cmd("GETKEYSINSLOT")
                .arg(self.slot)
                .arg(BATCH)
                .query_async(&mut source)
                .await
                .unwrap_or_else(|error| {
                    panic!("CLUSTER GETKEYSINSLOT on {}: {error}", self.source)
                });
            if keys.is_empty() {
                return moved;
            }
            let reply: String = redis::cmd("MIGRATE")
                .arg("127.0.0.1")
                .arg(self.target)
                .arg("")
                .arg(0)
                .arg(MIGRATE_TIMEOUT_MS)
                .arg("KEYS")
                .arg(&keys)
                .query_async(&mut source)
                .await
                .unwrap_or_else(|error| {
                    panic!(
                        "MIGRATE of slot {} from {} to {}: {error}",
                        self.slot, self.source, self.target
                    )
                });
            assert!(
                matches!(reply.as_str(), "OK" | "NOKEY"),
                "MIGRATE answered {reply:?}"
            );
            moved += keys.len();
        }
    }

    /// Assigns the slot to the target on the target, the source and every other master
    /// (`CLUSTER SETSLOT .. NODE`), then waits until every node running when the migration
    /// began maps the slot to the target (at most 10 s).
    pub async fn finish(self) {
        let others = self.masters.iter().copied();
        let others = others.filter(|&port| port != self.target && port != self.source);
        for port in [self.target, self.source].into_iter().chain(others) {
            self.setslot(port, &["NODE", &self.target_id]).await;
        }
        let deadline = Instant::now() + AGREEMENT_TIMEOUT;
        for &port in &self.running {
            loop {
                let owner = cluster_nodes_of(port)
                    .await
                    .ok()
                    .and_then(|view| master_serving(&view, self.slot).map(|node| node.port));
                if owner == Some(self.target) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {port} maps slot {} to {owner:?}, not {}, {AGREEMENT_TIMEOUT:?} after \
                     CLUSTER SETSLOT .. NODE",
                    self.slot,
                    self.target
                );
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        }
    }

    async fn setslot(&self, port: u16, args: &[&str]) {
        let mut command = cluster_cmd("SETSLOT");
        command.arg(self.slot).arg(args);
        let reply: String = query(port, &command, COMMAND_TIMEOUT)
            .await
            .unwrap_or_else(|error| {
                panic!("CLUSTER SETSLOT {} {args:?} on {port}: {error}", self.slot)
            });
        assert_eq!(
            reply, "OK",
            "CLUSTER SETSLOT {} {args:?} on {port}",
            self.slot
        );
    }
}
