//! The Redis backend's [`BackendHealth`]: on one Redis its role and replicas (`INFO
//! replication`, its address from `CLIENT INFO`), on a cluster every node with its role,
//! master and link (`CLUSTER NODES`), and the pub/sub connections either way.

use redis::Value;

use super::commands::Commands;
use crate::backend::{BackendHealth, NodeHealth};
use crate::metrics;

/// Any key: the commands below are about the node, not a key; on a cluster the key only
/// chooses which master answers.
const ANY_KEY: &str = "realtime:health";

pub(super) async fn nodes(commands: &Commands, cluster: bool) -> Result<Vec<NodeHealth>, String> {
    let mut pipeline = redis::pipe();
    if cluster {
        pipeline.cmd("CLUSTER").arg("NODES");
    } else {
        pipeline.cmd("INFO").arg("replication");
        pipeline.cmd("CLIENT").arg("INFO");
    }
    let replies = commands
        .send(ANY_KEY, &pipeline)
        .await
        .map_err(|error| format!("Redis did not answer: {error}"))?;
    let mut texts = replies.into_iter().map(|reply| match reply {
        Ok(value) => text(value).ok_or_else(|| "an unexpected reply".to_owned()),
        Err(error) => Err(error.to_string()),
    });
    let first = texts.next().unwrap_or_else(|| Err("no reply".to_owned()))?;
    if cluster {
        return Ok(parse_cluster_nodes(&first));
    }
    // The address is only for display: an older Redis without `CLIENT INFO` still lists.
    let address = texts
        .next()
        .and_then(Result::ok)
        .and_then(|info| field(&info, ' ', "laddr").map(str::to_owned))
        .unwrap_or_else(|| "(this Redis)".to_owned());
    Ok(vec![parse_replication(&first, address)])
}

pub(super) fn assemble(kind: &str, nodes: Result<Vec<NodeHealth>, String>) -> BackendHealth {
    let (nodes, error) = match nodes {
        Ok(nodes) => (nodes, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    BackendHealth {
        kind: kind.to_owned(),
        nodes,
        pubsub: None,
        replica_shortages: metrics::REPLICA_SHORTAGES_GAUGE.level(),
        error,
    }
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Value::VerbatimString { text, .. } | Value::SimpleString(text) => Some(text),
        _ => None,
    }
}

/// The value of `name=value` among `separator`-separated pairs.
fn field<'a>(text: &'a str, separator: char, name: &str) -> Option<&'a str> {
    text.trim()
        .split(separator)
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// One Redis's node from its `INFO replication` section.
fn parse_replication(info: &str, address: String) -> NodeHealth {
    let value = |name: &str| {
        info.lines()
            .find_map(|line| line.trim().strip_prefix(name)?.strip_prefix(':'))
    };
    let role = match value("role") {
        Some("slave") => "replica",
        Some(role) => role,
        None => "unknown",
    };
    let mut node = NodeHealth::new(address, role, "ok");
    if role == "replica" {
        if let (Some(host), Some(port)) = (value("master_host"), value("master_port")) {
            node.master = Some(format!("{host}:{port}"));
        }
        if let Some(link) = value("master_link_status").filter(|link| *link != "up") {
            node.state = format!("master link {link}");
        }
    }
    node.replicas = info
        .lines()
        .filter(|line| line.starts_with("slave") && line.contains("ip="))
        .filter_map(|line| {
            let pairs = line.split_once(':')?.1;
            let (ip, port) = (field(pairs, ',', "ip")?, field(pairs, ',', "port")?);
            let state = field(pairs, ',', "state").unwrap_or("unknown");
            Some(if state == "online" {
                format!("{ip}:{port}")
            } else {
                format!("{ip}:{port} ({state})")
            })
        })
        .collect();
    node
}

/// Every node of a cluster from `CLUSTER NODES`: `<id> <ip:port@cport[,host]> <flags>
/// <master id or -> <ping> <pong> <epoch> <link> <slots>...`.
fn parse_cluster_nodes(text: &str) -> Vec<NodeHealth> {
    struct Line<'a> {
        id: &'a str,
        address: String,
        flags: Vec<&'a str>,
        master: &'a str,
        link: &'a str,
    }
    let lines: Vec<Line<'_>> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let id = parts.next()?;
            let address = parts.next()?.split(['@', ',']).next()?.to_owned();
            let flags = parts.next()?.split(',').collect();
            let master = parts.next()?;
            let link = parts.nth(3)?;
            Some(Line {
                id,
                address,
                flags,
                master,
                link,
            })
        })
        .collect();
    let address_of = |id: &str| {
        lines
            .iter()
            .find(|line| line.id == id)
            .map(|line| line.address.clone())
    };
    let mut nodes: Vec<NodeHealth> = lines
        .iter()
        .map(|line| {
            let has = |flag: &str| line.flags.contains(&flag);
            let role = if has("master") { "master" } else { "replica" };
            let state = if has("fail") {
                "fail".to_owned()
            } else if has("fail?") {
                "suspected failing".to_owned()
            } else if line.link != "connected" {
                line.link.to_owned()
            } else {
                "ok".to_owned()
            };
            let mut node = NodeHealth::new(line.address.clone(), role, state);
            if role == "replica" {
                node.master = address_of(line.master);
            } else {
                node.replicas = lines
                    .iter()
                    .filter(|other| other.master == line.id)
                    .map(|other| other.address.clone())
                    .collect();
                node.replicas.sort();
            }
            node
        })
        .collect();
    nodes.sort_by(|a, b| a.address.cmp(&b.address));
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_lists_its_online_and_other_replicas() {
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
            slave0:ip=10.0.0.2,port=6380,state=online,offset=1,lag=0\r\n\
            slave1:ip=10.0.0.3,port=6381,state=wait_bgsave,offset=0,lag=0\r\n";
        let node = parse_replication(info, "10.0.0.1:6379".into());
        assert_eq!(node.role, "master");
        assert_eq!(
            node.replicas,
            ["10.0.0.2:6380", "10.0.0.3:6381 (wait_bgsave)"]
        );
    }

    #[test]
    fn a_replica_names_its_master_and_a_broken_link() {
        let info =
            "role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:down\r\n";
        let node = parse_replication(info, "10.0.0.2:6380".into());
        assert_eq!(
            (node.role.as_str(), node.master.as_deref()),
            ("replica", Some("10.0.0.1:6379"))
        );
        assert_eq!(node.state, "master link down");
    }

    #[test]
    fn cluster_nodes_give_roles_masters_replicas_and_failures() {
        let text = "\
a 127.0.0.1:7101@17101 myself,master - 0 0 1 connected 0-5460
b 127.0.0.1:7104@17104 slave a 0 0 1 connected
c 127.0.0.1:7102@17102,host2 master - 0 0 2 connected 5461-10922
d 127.0.0.1:7105@17105 master,fail - 0 0 3 disconnected
";
        let nodes = parse_cluster_nodes(text);
        let roles: Vec<(&str, &str, &str)> = nodes
            .iter()
            .map(|n| (n.address.as_str(), n.role.as_str(), n.state.as_str()))
            .collect();
        assert_eq!(
            roles,
            [
                ("127.0.0.1:7101", "master", "ok"),
                ("127.0.0.1:7102", "master", "ok"),
                ("127.0.0.1:7104", "replica", "ok"),
                ("127.0.0.1:7105", "master", "fail"),
            ]
        );
        assert_eq!(nodes[0].replicas, ["127.0.0.1:7104"]);
        assert_eq!(nodes[2].master.as_deref(), Some("127.0.0.1:7101"));
    }
}
