//! Redis Cluster for the tests: the shared local cluster of `scripts/cluster`
//! ([`shared_cluster_url`]), and [`PrivateCluster`], a cluster of a test's own that it may
//! break freely (kill or freeze a node, fail a master over, move a slot).
//!
//! Everything here talks to the nodes with plain commands (`CLUSTER NODES`, `CLUSTER
//! SETSLOT`, `MIGRATE`, ...) over [`redis::aio::MultiplexedConnection`]s; nothing depends
//! on a cluster client.
//!
//! Bounds: each command of the harness times out after [`COMMAND_TIMEOUT`] (10 s; a poll
//! of a node's state after 1 s), a connection attempt after 2 s. Starting waits at most
//! 5 s per node, 30 s for `redis-cli --cluster create` and 20 s for the cluster to become
//! ready; a failover is awaited at most 20 s, the end of a slot migration 10 s. Hitting any
//! of them fails the test with what the nodes said.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue, RedisResult};

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
/// 5 s, `WAIT` whatever the test asks, both below this).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection attempt of the harness may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one poll of a node's state may take (a frozen node is skipped, not awaited).
const POLL_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// Between two polls of the cluster's state.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// A started node must answer PING within this.
const NODE_START_TIMEOUT: Duration = Duration::from_secs(5);
/// `redis-cli --cluster create` must finish within this (it waits for the nodes to agree).
const CREATE_TIMEOUT: Duration = Duration::from_secs(30);
/// After creation, every node must report `cluster_state:ok` and every replica a link up
/// to its master within this.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// A replica must have taken over a killed master's slots within this.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(20);
/// After `CLUSTER SETSLOT .. NODE`, every running node must map the slot to its new master
/// within this.
const SLOT_AGREEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// `--cluster-node-timeout` of private clusters, in ms: a dead master is failed over
/// within about two to three of these.
pub const NODE_TIMEOUT_MS: u64 = 1_000;
/// Keys per `CLUSTER GETKEYSINSLOT` + `MIGRATE` round of a slot migration.
const MIGRATE_BATCH: usize = 100;
/// The timeout `MIGRATE` is given, in ms.
const MIGRATE_TIMEOUT_MS: u64 = 5_000;
/// Attempts at starting one node on a fresh pair of ports (another process may take a
/// port between the check and the bind).
const NODE_START_ATTEMPTS: usize = 3;

/// Opens a plain connection to the node on `port` (commands time out after `timeout`).
async fn connect_with_timeout(port: u16, timeout: Duration) -> RedisResult<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(timeout));
    redis::Client::open(format!("redis://127.0.0.1:{port}"))?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// Sends one command to the node on `port` over a fresh connection.
async fn query<T: FromRedisValue>(
    port: u16,
    command: &redis::Cmd,
    timeout: Duration,
) -> RedisResult<T> {
    let mut connection = connect_with_timeout(port, timeout).await?;
    command.query_async(&mut connection).await
}

fn cluster_cmd(subcommand: &str) -> redis::Cmd {
    let mut command = redis::cmd("CLUSTER");
    command.arg(subcommand);
    command
}

/// A line of `CLUSTER NODES`: one node as another node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterNode {
    /// The node id (40 hex characters).
    pub id: String,
    /// The client port.
    pub port: u16,
    /// `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`, ...
    pub flags: Vec<String>,
    /// The id of the master a replica follows.
    pub master_id: Option<String>,
    /// The slot ranges the node serves, inclusive (migrating and importing marks left out).
    pub slots: Vec<(u16, u16)>,
}

impl ClusterNode {
    /// Flagged `master`.
    pub fn is_master(&self) -> bool {
        self.has_flag("master")
    }

    /// Flagged `slave`.
    pub fn is_replica(&self) -> bool {
        self.has_flag("slave")
    }

    /// Flagged `fail` or `fail?` (or not known well enough to be trusted).
    pub fn is_failing(&self) -> bool {
        self.flags
            .iter()
            .any(|flag| matches!(flag.as_str(), "fail" | "fail?" | "handshake" | "noaddr"))
    }

    /// Serves `slot`.
    pub fn serves(&self, slot: u16) -> bool {
        self.slots
            .iter()
            .any(|&(first, last)| (first..=last).contains(&slot))
    }

    /// How many slots the node serves.
    pub fn slot_count(&self) -> usize {
        self.slots
            .iter()
            .map(|&(first, last)| usize::from(last - first) + 1)
            .sum()
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|own| own == flag)
    }
}

/// Parses the reply of `CLUSTER NODES`; a line it cannot read fails the test.
pub fn parse_cluster_nodes(text: &str) -> Vec<ClusterNode> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                unreadable(line);
            }
            // 127.0.0.1:7101@17101[,hostname]
            let port = fields[1]
                .split('@')
                .next()
                .and_then(|address| address.rsplit(':').next())
                .and_then(|port| port.parse().ok())
                .unwrap_or_else(|| unreadable(line));
            let slots = fields[8..]
                .iter()
                .filter(|range| !range.starts_with('['))
                .map(|range| {
                    let (first, last) = range.split_once('-').unwrap_or((range, range));
                    match (first.parse(), last.parse()) {
                        (Ok(first), Ok(last)) => (first, last),
                        _ => unreadable(line),
                    }
                })
                .collect();
            ClusterNode {
                id: fields[0].to_owned(),
                port,
                flags: fields[2].split(',').map(str::to_owned).collect(),
                master_id: (fields[3] != "-").then(|| fields[3].to_owned()),
                slots,
            }
        })
        .collect()
}

fn unreadable(line: &str) -> ! {
    panic!("unreadable CLUSTER NODES line: {line:?}")
}

/// `CLUSTER NODES` of the node on `port`, parsed.
pub async fn cluster_nodes_of(port: u16) -> RedisResult<Vec<ClusterNode>> {
    let text: String = query(port, &cluster_cmd("NODES"), POLL_COMMAND_TIMEOUT).await?;
    Ok(parse_cluster_nodes(&text))
}

/// The value of `field` in an `INFO`-style reply (`field:value` lines).
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        line.trim_end()
            .strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
    })
}

/// One redis-server of a private cluster.
#[derive(Debug)]
struct Node {
    port: u16,
    /// `None` once killed.
    child: Option<Child>,
    /// Frozen with SIGSTOP: not asked anything while so.
    paused: AtomicBool,
}

impl Node {
    fn running(&self) -> bool {
        self.child.is_some() && !self.paused.load(Ordering::SeqCst)
    }
}

/// A Redis Cluster of a test's own: redis-server children on free ports of 127.0.0.1, each
/// with its own folder (its `nodes.conf` and `redis.log`), which the test may kill, freeze,
/// fail over and reshard. Every child is killed and the folders removed on drop.
///
/// Nodes run with `--cluster-node-timeout 1000` (a dead master is failed over in about
/// 2 to 3 s), `--cluster-replica-validity-factor 0` (a replica may always take over),
/// `--cluster-require-full-coverage no` (a failing shard stops only its own slots),
/// `--repl-diskless-sync-delay 0` (replicas sync at once) and `--enable-debug-command
/// local` (`DEBUG SLEEP`). Ports are taken from 10000..22000, so that the node and its bus
/// port (+10000) are both below the kernel's ephemeral range (32768 and up), and both are
/// checked free before use.
#[derive(Debug)]
pub struct PrivateCluster {
    root: PathBuf,
    nodes: Vec<Node>,
    /// The masters right after creation, in port order.
    seeds: Vec<u16>,
}

impl PrivateCluster {
    /// Starts 3 masters with one replica each and waits until the cluster is ready.
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
        let total = masters * (1 + replicas_per_master);
        for _ in 0..total {
            cluster.spawn_node().await;
        }
        cluster.create(replicas_per_master).await;
        cluster.wait_until_ready(masters, replicas_per_master).await;
        cluster.seeds = cluster.masters().await;
        cluster
    }

    /// Starts one node on fresh ports and waits until it answers PING.
    async fn spawn_node(&mut self) {
        let mut failures = Vec::new();
        for _ in 0..NODE_START_ATTEMPTS {
            let port = free_port_pair();
            let dir = self.root.join(port.to_string());
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
            let log = dir.join("redis.log");
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args([
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                ])
                .args(["--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()])
                .args(["--cluster-replica-validity-factor", "0"])
                // A shard without a master stops only its own slots, not every shard.
                .args(["--cluster-require-full-coverage", "no"])
                .args(["--repl-diskless-sync-delay", "0"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--enable-debug-command", "local"])
                .arg("--dir")
                .arg(&dir)
                .arg("--logfile")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server must be installed for this test");
            let deadline = Instant::now() + NODE_START_TIMEOUT;
            let outcome = loop {
                if let Ok(Some(status)) = child.try_wait() {
                    break Err(format!("port {port}: redis-server exited ({status})"));
                }
                let pong = query::<String>(port, &redis::cmd("PING"), POLL_COMMAND_TIMEOUT).await;
                if pong.is_ok() {
                    break Ok(());
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!(
                        "port {port}: no answer within {NODE_START_TIMEOUT:?}"
                    ));
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            };
            match outcome {
                Ok(()) => {
                    self.nodes.push(Node {
                        port,
                        child: Some(child),
                        paused: AtomicBool::new(false),
                    });
                    return;
                }
                Err(failure) => {
                    let tail = std::fs::read_to_string(&log).unwrap_or_default();
                    let tail: Vec<&str> = tail.lines().rev().take(5).collect();
                    failures.push(format!("{failure}; log (newest first): {tail:?}"));
                }
            }
        }
        panic!("could not start a cluster node: {}", failures.join("\n"));
    }

    /// `redis-cli --cluster create` over every node.
    async fn create(&self, replicas_per_master: usize) {
        let mut command = tokio::process::Command::new("redis-cli");
        command.arg("--cluster").arg("create");
        for node in &self.nodes {
            command.arg(format!("127.0.0.1:{}", node.port));
        }
        command
            .args([
                "--cluster-replicas",
                &replicas_per_master.to_string(),
                "--cluster-yes",
            ])
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
        loop {
            let problem = self.readiness_problem(masters, replicas_per_master).await;
            let Some(problem) = problem else { return };
            if Instant::now() > deadline {
                panic!(
                    "the private cluster is not ready after {READY_TIMEOUT:?}: {problem}\n\
                     CLUSTER NODES:\n{}",
                    self.cluster_nodes().await
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// What keeps the cluster from being ready, if anything.
    async fn readiness_problem(
        &self,
        masters: usize,
        replicas_per_master: usize,
    ) -> Option<String> {
        let total = self.nodes.len();
        for node in &self.nodes {
            let info = match query::<String>(node.port, &cluster_cmd("INFO"), POLL_COMMAND_TIMEOUT)
                .await
            {
                Ok(info) => info,
                Err(error) => return Some(format!("node {}: CLUSTER INFO: {error}", node.port)),
            };
            if info_field(&info, "cluster_state") != Some("ok") {
                return Some(format!("node {}: cluster_state is not ok", node.port));
            }
            if info_field(&info, "cluster_known_nodes") != Some(total.to_string().as_str()) {
                return Some(format!(
                    "node {}: does not know all {total} nodes yet",
                    node.port
                ));
            }
        }
        let view = match cluster_nodes_of(self.nodes[0].port).await {
            Ok(view) => view,
            Err(error) => return Some(format!("CLUSTER NODES: {error}")),
        };
        let serving: Vec<&ClusterNode> = view
            .iter()
            .filter(|node| node.is_master() && node.slot_count() > 0)
            .collect();
        if serving.len() != masters {
            return Some(format!(
                "{} masters serve slots, not {masters}",
                serving.len()
            ));
        }
        for master in serving {
            let replicas = view
                .iter()
                .filter(|node| node.master_id.as_deref() == Some(master.id.as_str()))
                .count();
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
                .any(|node| node.port == port && node.child.is_some())
        })
    }

    /// Every node's port, in start order (killed nodes included).
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|node| node.port).collect()
    }

    /// A plain connection to the node on `port`, for raw commands (each times out after
    /// [`COMMAND_TIMEOUT`]).
    pub async fn connection(&self, port: u16) -> MultiplexedConnection {
        connect_with_timeout(port, COMMAND_TIMEOUT)
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
        view.iter()
            .find(|node| node.is_master() && !node.is_failing() && node.serves(slot))
            .map(|node| node.port)
            .unwrap_or_else(|| panic!("no master serves slot {slot}; CLUSTER NODES: {view:#?}"))
    }

    /// The port of a healthy replica of the master on `master_port`.
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
        let node = self.node_mut(port);
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        node.paused.store(false, Ordering::SeqCst);
    }

    /// Kills the master serving `slot` and waits until one of its replicas serves the slot
    /// as every surviving running node sees it, and each of them reports `cluster_state:ok`
    /// (at most 20 s). Returns the old and the new master's port.
    pub async fn kill_master_and_wait_for_failover(&mut self, slot: u16) -> (u16, u16) {
        let old = self.master_of_slot(slot).await;
        let view = self.nodes_view().await;
        let candidates = replicas_in(&view, old);
        assert!(
            !candidates.is_empty(),
            "master {old} has no healthy replica to fail over to: {view:#?}"
        );
        self.kill(old);
        let deadline = Instant::now() + FAILOVER_TIMEOUT;
        loop {
            if let Some(new) = self.agreed_master(slot).await {
                if candidates.contains(&new) {
                    return (old, new);
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "no replica of {old} ({candidates:?}) took over slot {slot} within \
                     {FAILOVER_TIMEOUT:?}; CLUSTER NODES:\n{}",
                    self.cluster_nodes().await
                );
            }
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
            let owner = view
                .iter()
                .find(|seen| seen.is_master() && !seen.is_failing() && seen.serves(slot))?
                .port;
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
        let node = self.node(port);
        signal(node, "-STOP");
        node.paused.store(true, Ordering::SeqCst);
    }

    /// Thaws a frozen node (SIGCONT); it answers what queued up meanwhile.
    pub fn resume(&self, port: u16) {
        let node = self.node(port);
        signal(node, "-CONT");
        node.paused.store(false, Ordering::SeqCst);
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
    /// master; from here, the source answers `ASK` for keys of the slot it does not hold.
    pub async fn begin_migration(&self, slot: u16, to: u16) -> Migration {
        let view = self.nodes_view().await;
        let source = view
            .iter()
            .find(|node| node.is_master() && !node.is_failing() && node.serves(slot))
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
        let running = self
            .nodes
            .iter()
            .filter(|node| node.running())
            .map(|node| node.port)
            .collect();
        let migration = Migration {
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
            if let Some(mut child) = node.child.take() {
                // SIGKILL ends a frozen process too.
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The healthy replicas of the master on `master_port` in `view`, by port.
fn replicas_in(view: &[ClusterNode], master_port: u16) -> Vec<u16> {
    let Some(master) = view.iter().find(|node| node.port == master_port) else {
        return Vec::new();
    };
    let mut ports: Vec<u16> = view
        .iter()
        .filter(|node| node.is_replica() && !node.is_failing())
        .filter(|node| node.master_id.as_deref() == Some(master.id.as_str()))
        .map(|node| node.port)
        .collect();
    ports.sort_unstable();
    ports
}

fn signal(node: &Node, signal: &str) {
    let child = node
        .child
        .as_ref()
        .unwrap_or_else(|| panic!("node {} was killed", node.port));
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill {signal} {} failed", child.id());
}

/// A slot on its way from one master to another, begun by
/// [`PrivateCluster::begin_migration`]; a test may act between the steps.
#[derive(Debug)]
pub struct Migration {
    slot: u16,
    source: u16,
    target: u16,
    source_id: String,
    target_id: String,
    /// Healthy masters when the migration began: each is told the slot's new owner.
    masters: Vec<u16>,
    /// Running nodes when the migration began: [`finish`](Self::finish) waits for them.
    running: Vec<u16>,
}

impl Migration {
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
    /// (`CLUSTER GETKEYSINSLOT` + `MIGRATE ... KEYS`); returns how many were moved.
    pub async fn move_keys(&self) -> usize {
        let mut source = connect_with_timeout(self.source, COMMAND_TIMEOUT)
            .await
            .unwrap_or_else(|error| panic!("cluster node {}: {error}", self.source));
        let mut moved = 0;
        loop {
            let keys: Vec<Vec<u8>> = cluster_cmd("GETKEYSINSLOT")
                .arg(self.slot)
                .arg(MIGRATE_BATCH)
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
        let deadline = Instant::now() + SLOT_AGREEMENT_TIMEOUT;
        'poll: loop {
            for &port in &self.running {
                let owner = cluster_nodes_of(port).await.ok().and_then(|view| {
                    view.into_iter()
                        .find(|node| node.is_master() && node.serves(self.slot))
                        .map(|node| node.port)
                });
                if owner != Some(self.target) {
                    assert!(
                        Instant::now() < deadline,
                        "node {port} still maps slot {} to {owner:?}, not {}, after {SLOT_AGREEMENT_TIMEOUT:?}",
                        self.slot,
                        self.target
                    );
                    tokio::time::sleep(POLL_INTERVAL).await;
                    continue 'poll;
                }
            }
            return;
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

/// A port P in 10000..22000 such that P and P + 10000 (its cluster bus port) are both free
/// now. Ports are handed out once per process (from a start that depends on the process
/// id, so that concurrent test processes tend to differ).
fn free_port_pair() -> u16 {
    const LOW: u32 = 10_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7_919) % SPAN;
    for _ in 0..SPAN {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = LOW + (start + offset) % SPAN;
        let (Ok(port), Ok(bus)) = (u16::try_from(port), u16::try_from(port + 10_000)) else {
            continue;
        };
        if bindable(port) && bindable(bus) {
            return port;
        }
    }
    panic!(
        "no free pair of ports P, P + 10000 in {LOW}..{}",
        LOW + SPAN
    );
}

fn bindable(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}
