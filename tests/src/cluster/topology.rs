//! Reading a cluster's state with plain commands: connections with bounded replies,
//! `CLUSTER NODES` parsed into [`ClusterNode`]s, `INFO`-style fields.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue, RedisResult};

/// How long a connection attempt of the harness may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one poll of a node's state may take (a frozen node is skipped, not awaited).
pub(super) const POLL_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// Opens a plain connection to the node on `port` (replies time out after `timeout`).
pub(super) async fn connect(port: u16, timeout: Duration) -> RedisResult<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(timeout));
    redis::Client::open(format!("redis://127.0.0.1:{port}"))?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// Sends one command to the node on `port` over a fresh connection.
pub(super) async fn query<T: FromRedisValue>(
    port: u16,
    command: &redis::Cmd,
    timeout: Duration,
) -> RedisResult<T> {
    let mut connection = connect(port, timeout).await?;
    command.query_async(&mut connection).await
}

/// `CLUSTER <subcommand>`.
pub(super) fn cluster_cmd(subcommand: &str) -> redis::Cmd {
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

    /// Flagged `fail` or `fail?`, or not known well enough to be trusted (`handshake`,
    /// `noaddr`).
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
            // <id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                unreadable(line);
            }
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

/// `CLUSTER NODES` of the node on `port`, parsed (the reply is awaited at most 1 s).
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

/// The healthy master serving `slot` in `view`.
pub(super) fn master_serving(view: &[ClusterNode], slot: u16) -> Option<&ClusterNode> {
    view.iter()
        .find(|node| node.is_master() && !node.is_failing() && node.serves(slot))
}

/// The healthy replicas of the master on `master_port` in `view`, by port.
pub(super) fn replicas_in(view: &[ClusterNode], master_port: u16) -> Vec<u16> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_nodes_lines_are_read_with_their_slots_and_marks() {
        let text = "\
07c3 127.0.0.1:30004@31004,host-4 slave e7d1 0 1426238317239 4 connected
67ed 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922 [10923->-292f]
292f 127.0.0.1:30003@31003 master,fail - 0 1426238318243 3 disconnected
e7d1 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 16383 [5461-<-67ed]
";
        let nodes = parse_cluster_nodes(text);
        assert_eq!(nodes.len(), 4);
        assert_eq!(nodes[0].port, 30004);
        assert!(nodes[0].is_replica() && !nodes[0].is_master());
        assert_eq!(nodes[0].master_id.as_deref(), Some("e7d1"));
        assert_eq!(nodes[1].slots, vec![(5461, 10922)]);
        assert!(nodes[2].is_failing() && nodes[2].slots.is_empty());
        assert_eq!(nodes[3].slots, vec![(0, 5460), (16383, 16383)]);
        assert_eq!(nodes[3].slot_count(), 5462);
        assert_eq!(
            master_serving(&nodes, 16383).map(|node| node.port),
            Some(30001)
        );
        assert_eq!(master_serving(&nodes, 12000), None);
        assert_eq!(replicas_in(&nodes, 30001), vec![30004]);
        assert_eq!(
            info_field("# Cluster\r\ncluster_state:ok\r\n", "cluster_state"),
            Some("ok")
        );
    }
}
