//! Redis Cluster for the tests: the shared local cluster of `scripts/cluster`
//! ([`shared_cluster_url`]), and [`PrivateCluster`], a cluster of a test's own that it may
//! break freely (kill or freeze a node, fail a master over, move a slot).
//!
//! Everything here talks to the nodes with plain commands (`CLUSTER NODES`, `CLUSTER
//! SETSLOT`, `MIGRATE`, ...) over [`MultiplexedConnection`]s; nothing depends on a cluster
//! client.
//!
//! Bounds: a command of the harness gets its reply within [`COMMAND_TIMEOUT`] (10 s; a poll
//! of a node's state within 1 s, a frozen node is not polled), a connection within 2 s.
//! Starting waits at most 5 s per node (3 attempts on fresh ports), 30 s for `redis-cli
//! --cluster create` and 20 s for the cluster to become ready; a failover is awaited at
//! most 20 s, the end of a slot migration 10 s. Polls are 50 ms apart. Hitting a bound
//! fails the test with what the nodes said.

mod migration;
mod node;
mod topology;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

pub use migration::Migration;
use node::Node;
pub use topology::{ClusterNode, cluster_nodes_of, info_field, parse_cluster_nodes};
use topology::{POLL_COMMAND_TIMEOUT, cluster_cmd, connect, master_serving, query, replicas_in};

/// The shared cluster's URL: `REDIS_CLUSTER_URL`, by default the one `scripts/cluster`
/// starts (`redis+cluster://` and the masters' addresses, comma-separated).
pub fn shared_cluster_url() -> String {
    std::env::var("REDIS_CLUSTER_URL").unwrap_or_else(|_| {
        "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103".to_owned()
    })
}

/// The `host:port` seeds of a `redis+cluster://host:port,host:port` URL.
pub fn cluster_seeds(url: &str) -> Vec<String> {
    let rest = url
        .strip_prefix("redis+cluster://")
        .unwrap_or_else(|| panic!("{url:?} is not a redis+cluster:// URL"));
    rest.split(',')
        .map(|seed| seed.trim().trim_end_matches('/').to_owned())
        .filter(|seed| !seed.is_empty())
        .collect()
}

/// How long a command of the harness may wait for its reply (`MIGRATE` itself is given
/// 5 s; a test's `WAIT` must ask for less).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// `--cluster-node-timeout` of private clusters, in ms: a dead master is failed over
/// in about 2 to 3 of these.
pub const NODE_TIMEOUT_MS: u64 = 1_000;
/// Between two polls of the cluster's state.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// `redis-cli --cluster create` must finish within this (it waits for the nodes to agree).
const CREATE_TIMEOUT: Duration = Duration::from_secs(30);
/// After creation, every node must report `cluster_state:ok` and every replica a link up
/// to its master within this.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// A replica must have taken over a killed master's slot within this.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(20);

/// A Redis Cluster of a test's own: redis-server children on 127.0.0.1, each with its own
/// folder (its `nodes.conf` and `redis.log`) under the system's temp dir, which the test may
/// kill, freeze, fail over and reshard. Every child is killed and the folders removed on
/// drop (a test process that is itself killed leaves them behind).
///
/// Nodes run with `--cluster-node-timeout 1000` (a dead master is failed over in about
/// 2 to 3 s), `--cluster-replica-validity-factor 0` (a replica may always take over),
/// `--cluster-require-full-coverage no` (a failing shard stops only its own slots),
/// `--repl-diskless-sync-delay 0` (replicas sync at once) and `--enable-debug-command
/// local` (`DEBUG SLEEP`). A node's port P is in 10000..22000 and checked free together
/// with its bus port P + 10000.
#[derive(Debug)]
pub struct PrivateCluster {
    root: PathBuf,
    nodes: Vec<Node>,
    /// The masters right after creation, in port order.
    seeds: Vec<u16>,
}

impl PrivateCluster {
    /// Starts 3 masters with one replica each and waits until the cluster is ready (about
    /// 2 s).
    pub async fn start() -> Self {
        Self::start_with(3, 1).await
    }

    /// Starts `masters` masters (at least 3, as `redis-cli --cluster create` requires) with
    /// `replicas_per_master` replicas each, and waits until every node reports
    /// `cluster_state:ok` and every replica is attached to its master with its link up.
    pub async fn start_with(masters: usize, replicas_per_master: usize) -> Self {
        assert!(
            masters >= 3,
            "a Redis Cluster needs at least 3 masters, not {masters}"
        );
        static CLUSTERS: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "realtime-rs-private-cluster-{}-{}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        let mut cluster = Self {
            root,
            nodes: Vec::new(),
            seeds: Vec::new(),
        };
        for _ in 0..masters * (1 + replicas_per_master) {
            let node = Node::start(&cluster.root).await;
            cluster.nodes.push(node);
        }
        cluster.create(replicas_per_master).await;
        cluster.wait_until_ready(masters, replicas_per_master).await;
        cluster.seeds = cluster.masters().await;
        cluster
    }

    /// `redis-cli --cluster create` over every node.
    async fn create(&self, replicas_per_master: usize) {
        let mut command = tokio::process::Command::new("redis-cli");
        command.args(["--cluster", "create"]);
        for node in &self.nodes {
            command.arg(format!("127.0.0.1:{}", node.port));
        }
        command
            .args(["--cluster-replicas", &replicas_per_master.to_string()])
            .arg("--cluster-yes")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(CREATE_TIMEOUT, command.output())
            .await
            .unwrap_or_else(|_| panic!("redis-cli --cluster create took over {CREATE_TIMEOUT:?}"))
            .expect("redis-cli must be installed for this test");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Waits until the cluster is ready, or fails the test with the nodes' states.
    async fn wait_until_ready(&self, masters: usize, replicas_per_master: usize) {
        let deadline = Instant::now() + READY_TIMEOUT;
        while let Some(problem) = self.readiness_problem(masters, replicas_per_master).await {
            assert!(
                Instant::now() < deadline,
                "the private cluster is not ready after {READY_TIMEOUT:?}: {problem}\n\
                 CLUSTER NODES:\n{}",
                self.cluster_nodes().await
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// What keeps the cluster from being ready, if anything.
    async fn readiness_problem(
        &self,
        masters: usize,
        replicas_per_master: usize,
    ) -> Option<String> {
        let total = self.nodes.len().to_string();
        for node in &self.nodes {
            let port = node.port;
            let info = match query::<String>(port, &cluster_cmd("INFO"), POLL_COMMAND_TIMEOUT).await
            {
                Ok(info) => info,
                Err(error) => return Some(format!("node {port}: CLUSTER INFO: {error}")),
            };
            if info_field(&info, "cluster_state") != Some("ok") {
                return Some(format!("node {port}: cluster_state is not ok"));
            }
            if info_field(&info, "cluster_known_nodes") != Some(total.as_str()) {
                return Some(format!("node {port}: does not know all {total} nodes yet"));
            }
        }
        let view = match cluster_nodes_of(self.nodes[0].port).await {
            Ok(view) => view,
            Err(error) => return Some(format!("CLUSTER NODES: {error}")),
        };
        let serving = view
            .iter()
            .filter(|node| node.is_master() && node.slot_count() > 0);
        if serving.clone().count() != masters {
            return Some(format!(
                "{} masters serve slots, not {masters}",
                serving.count()
            ));
        }
        for master in serving {
            let replicas = replicas_in(&view, master.port).len();
            if replicas != replicas_per_master {
                return Some(format!("master {} has {replicas} replicas", master.port));
            }
        }
        for replica in view.iter().filter(|node| node.is_replica()) {
            let mut command = redis::cmd("INFO");
            command.arg("replication");
            let info = match query::<String>(replica.port, &command, POLL_COMMAND_TIMEOUT).await {
                Ok(info) => info,
                Err(error) => return Some(format!("replica {}: INFO: {error}", replica.port)),
            };
            if info_field(&info, "master_link_status") != Some("up") {
                return Some(format!(
                    "replica {}: link to its master not up",
                    replica.port
                ));
            }
        }
        None
    }

    /// `redis://127.0.0.1:P` of every master at start that has not been killed.
    pub fn seed_urls(&self) -> Vec<String> {
        self.live_seeds()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect()
    }

    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...`: the masters at start that have not
    /// been killed, as seeds.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .live_seeds()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    fn live_seeds(&self) -> impl Iterator<Item = u16> + '_ {
        self.seeds.iter().copied().filter(|&port| {
            self.nodes
                .iter()
                .any(|node| node.port == port && node.alive())
        })
    }

    /// Every node's port, in start order (killed nodes included).
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|node| node.port).collect()
    }

    /// A plain connection to the node on `port`, for raw commands (each waits at most
    /// [`COMMAND_TIMEOUT`] for its reply).
    pub async fn connection(&self, port: u16) -> MultiplexedConnection {
        connect(port, COMMAND_TIMEOUT)
            .await
            .unwrap_or_else(|error| panic!("cluster node {port}: {error}"))
    }

    /// The slot of `key` (`CLUSTER KEYSLOT`).
    pub async fn key_slot(&self, key: &str) -> u16 {
        let mut command = cluster_cmd("KEYSLOT");
        command.arg(key);
        let port = self.any_running_port();
        query(port, &command, COMMAND_TIMEOUT)
            .await
            .unwrap_or_else(|error| panic!("CLUSTER KEYSLOT on {port}: {error}"))
    }

    /// The ports of the healthy masters serving slots, as the first running node sees them.
    pub async fn masters(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .nodes_view()
            .await
            .iter()
            .filter(|node| node.is_master() && !node.is_failing() && node.slot_count() > 0)
            .map(|node| node.port)
            .collect();
        ports.sort_unstable();
        ports
    }

    /// The port of the master serving `slot`, as the first running node sees it.
    pub async fn master_of_slot(&self, slot: u16) -> u16 {
        let view = self.nodes_view().await;
        master_serving(&view, slot)
            .map(|node| node.port)
            .unwrap_or_else(|| panic!("no master serves slot {slot}; CLUSTER NODES: {view:#?}"))
    }

    /// The port of a healthy replica of the master on `master_port` (the lowest, when it
    /// has several).
    pub async fn replica_of(&self, master_port: u16) -> u16 {
        let view = self.nodes_view().await;
        replicas_in(&view, master_port)
            .into_iter()
            .next()
            .unwrap_or_else(|| {
                panic!("master {master_port} has no healthy replica; CLUSTER NODES: {view:#?}")
            })
    }

    /// `CLUSTER NODES` as the first running node answers it (for failure messages).
    pub async fn cluster_nodes(&self) -> String {
        let Some(node) = self.nodes.iter().find(|node| node.running()) else {
            return "(no running node)".to_owned();
        };
        query::<String>(node.port, &cluster_cmd("NODES"), POLL_COMMAND_TIMEOUT)
            .await
            .unwrap_or_else(|error| format!("(node {}: {error})", node.port))
    }

    /// Kills the node on `port` at once (SIGKILL: no shutdown, nothing persisted).
    pub fn kill(&mut self, port: u16) {
        self.node_mut(port).kill();
    }

    /// Kills the master serving `slot` and waits until one of its replicas serves the slot
    /// as every running node sees it, and each of them reports `cluster_state:ok` (at most
    /// 20 s). Returns the old and the new master's port.
    pub async fn kill_master_and_wait_for_failover(&mut self, slot: u16) -> (u16, u16) {
        let old = self.master_of_slot(slot).await;
        let candidates = replicas_in(&self.nodes_view().await, old);
        assert!(
            !candidates.is_empty(),
            "master {old} has no healthy replica to fail over to"
        );
        self.kill(old);
        let deadline = Instant::now() + FAILOVER_TIMEOUT;
        loop {
            if let Some(new) = self.agreed_master(slot).await {
                if candidates.contains(&new) {
                    return (old, new);
                }
            }
            assert!(
                Instant::now() < deadline,
                "no replica of {old} ({candidates:?}) took over slot {slot} within \
                 {FAILOVER_TIMEOUT:?}; CLUSTER NODES:\n{}",
                self.cluster_nodes().await
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The master of `slot` when every running node names the same healthy one and
    /// reports `cluster_state:ok`.
    async fn agreed_master(&self, slot: u16) -> Option<u16> {
        let mut agreed = None;
        for node in self.nodes.iter().filter(|node| node.running()) {
            let info: String = query(node.port, &cluster_cmd("INFO"), POLL_COMMAND_TIMEOUT)
                .await
                .ok()?;
            if info_field(&info, "cluster_state") != Some("ok") {
                return None;
            }
            let view = cluster_nodes_of(node.port).await.ok()?;
            let owner = master_serving(&view, slot)?.port;
            if agreed.is_some_and(|port| port != owner) {
                return None;
            }
            agreed = Some(owner);
        }
        agreed
    }

    /// Freezes the node on `port` (SIGSTOP): its connections stay open, nothing is
    /// answered. The harness asks a frozen node nothing until [`resume`](Self::resume).
    pub fn pause(&self, port: u16) {
        self.node(port).pause();
    }

    /// Thaws a frozen node (SIGCONT); it answers what queued up meanwhile.
    pub fn resume(&self, port: u16) {
        self.node(port).resume();
    }

    /// Moves `slot` with its keys to the master on `to`, as `redis-cli --cluster reshard`
    /// does: [`begin_migration`](Self::begin_migration), [`Migration::move_keys`],
    /// [`Migration::finish`].
    pub async fn migrate_slot(&self, slot: u16, to: u16) {
        let migration = self.begin_migration(slot, to).await;
        migration.move_keys().await;
        migration.finish().await;
    }

    /// Marks `slot` as importing on the master on `to` and as migrating on its current
    /// master. From here until [`Migration::finish`], the source answers `ASK` for keys of
    /// the slot it does not hold.
    pub async fn begin_migration(&self, slot: u16, to: u16) -> Migration {
        let view = self.nodes_view().await;
        let running = self
            .nodes
            .iter()
            .filter(|node| node.running())
            .map(|node| node.port)
            .collect();
        Migration::begin(&view, running, slot, to).await
    }

    /// `CLUSTER NODES` of the first running node, parsed.
    async fn nodes_view(&self) -> Vec<ClusterNode> {
        let port = self.any_running_port();
        cluster_nodes_of(port)
            .await
            .unwrap_or_else(|error| panic!("CLUSTER NODES on {port}: {error}"))
    }

    fn any_running_port(&self) -> u16 {
        self.nodes
            .iter()
            .find(|node| node.running())
            .map(|node| node.port)
            .expect("a running node in the private cluster")
    }

    fn node(&self, port: u16) -> &Node {
        self.nodes
            .iter()
            .find(|node| node.port == port)
            .unwrap_or_else(|| panic!("no node of this cluster on port {port}"))
    }

    fn node_mut(&mut self, port: u16) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|node| node.port == port)
            .unwrap_or_else(|| panic!("no node of this cluster on port {port}"))
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
