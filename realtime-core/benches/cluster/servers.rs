//! The servers of a run (the single Redis, the cluster's masters and replicas), their CPU
//! time, and which of them holds each channel.

use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::common::{BoxError, connection_config, machine_cpu, process_cpu, server_cpu, spent};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Role {
    Single,
    /// A cluster master and the slot ranges it owns.
    Master(Vec<(u16, u16)>),
    /// A cluster replica of the server at this index.
    Replica(usize),
}

/// A Redis server whose CPU time is read, with an admin connection.
pub(crate) struct Server {
    pub(crate) addr: String,
    pub(crate) role: Role,
    pub(crate) connection: ConnectionManager,
}

/// Every server of the run: the single Redis first, then the masters, then the replicas.
pub(crate) struct Servers {
    pub(crate) all: Vec<Server>,
}

impl Servers {
    pub(crate) fn masters(&self) -> Vec<usize> {
        self.indexes(|role| matches!(role, Role::Master(_)))
    }

    pub(crate) fn replicas(&self) -> Vec<usize> {
        self.indexes(|role| matches!(role, Role::Replica(_)))
    }

    fn indexes(&self, keep: impl Fn(&Role) -> bool) -> Vec<usize> {
        (0..self.all.len())
            .filter(|&index| keep(&self.all[index].role))
            .collect()
    }

    /// The master that owns `slot`.
    pub(crate) fn owner_of_slot(&self, slot: u16) -> Option<usize> {
        self.all.iter().position(|server| match &server.role {
            Role::Master(ranges) => ranges
                .iter()
                .any(|&(first, last)| (first..=last).contains(&slot)),
            _ => false,
        })
    }

    /// The CPU time used so far by this process, the machine and every server.
    pub(crate) async fn snapshot(&self) -> Snapshot {
        let process = process_cpu();
        let machine = machine_cpu();
        let mut servers = Vec::with_capacity(self.all.len());
        for server in &self.all {
            servers.push(server_cpu(&mut server.connection.clone()).await);
        }
        Snapshot {
            process,
            machine,
            servers,
        }
    }
}

async fn connect_admin(url: &str) -> Result<ConnectionManager, BoxError> {
    let client = redis::Client::open(url)?;
    client
        .get_connection_manager_with_config(connection_config())
        .await
        .map_err(|error| format!("Redis at {url} is needed for this benchmark: {error}").into())
}

/// `redis+cluster://[credentials@]host:port,...` as (`credentials@` or "", the nodes).
fn cluster_seeds(url: &str) -> Result<(String, Vec<String>), BoxError> {
    let rest = url
        .strip_prefix("redis+cluster://")
        .ok_or_else(|| format!("REDIS_CLUSTER_URL `{url}` is not a redis+cluster:// URL"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (credentials, hosts) = match rest.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), rest),
    };
    let hosts: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .map(str::to_owned)
        .collect();
    if hosts.is_empty() {
        return Err(format!("REDIS_CLUSTER_URL `{url}` names no node").into());
    }
    Ok((credentials, hosts))
}

/// One line of `CLUSTER NODES`.
struct NodeLine {
    id: String,
    addr: String,
    master_id: Option<String>,
    slots: Vec<(u16, u16)>,
}

/// The healthy masters and replicas of a `CLUSTER NODES` reply from a node at `seed_host`.
fn parse_nodes(text: &str, seed_host: &str) -> Vec<NodeLine> {
    let mut nodes = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(id), Some(addr), Some(flags), Some(master)) =
            (fields.first(), fields.get(1), fields.get(2), fields.get(3))
        else {
            continue;
        };
        let flags: Vec<&str> = flags.split(',').collect();
        if flags
            .iter()
            .any(|flag| matches!(*flag, "fail" | "noaddr" | "handshake"))
        {
            continue;
        }
        // `host:port@cport[,hostname]`
        let addr = addr.split(['@', ',']).next().unwrap_or_default();
        // A node that has never met another one reports no host: the seed's.
        let addr = if addr.starts_with(':') {
            format!("{seed_host}{addr}")
        } else {
            addr.to_owned()
        };
        let slots = fields
            .iter()
            .skip(8)
            .filter(|range| !range.starts_with('['))
            .filter_map(|range| {
                let (first, last) = range.split_once('-').unwrap_or((range, range));
                Some((first.parse().ok()?, last.parse().ok()?))
            })
            .collect();
        if flags.contains(&"master") {
            nodes.push(NodeLine {
                id: (*id).to_owned(),
                addr,
                master_id: None,
                slots,
            });
        } else if flags.contains(&"slave") {
            nodes.push(NodeLine {
                id: (*id).to_owned(),
                addr,
                master_id: Some((*master).to_owned()),
                slots,
            });
        }
    }
    nodes
}

/// The single Redis and every node of the cluster, read from the first seed that answers.
pub(crate) async fn discover(single_url: &str, cluster_url: &str) -> Result<Servers, BoxError> {
    let mut all = vec![Server {
        addr: single_url.to_owned(),
        role: Role::Single,
        connection: connect_admin(single_url).await?,
    }];
    let (credentials, seeds) = cluster_seeds(cluster_url)?;
    let mut nodes = None;
    for seed in &seeds {
        let Ok(mut connection) = connect_admin(&format!("redis://{credentials}{seed}")).await
        else {
            continue;
        };
        if let Ok(text) = redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async::<String>(&mut connection)
            .await
        {
            let host = seed.rsplit_once(':').map_or("", |(host, _)| host);
            nodes = Some(parse_nodes(&text, host));
            break;
        }
    }
    let mut nodes = nodes.ok_or_else(|| {
        format!("no node of the cluster at {cluster_url} answered CLUSTER NODES (start one with scripts/cluster start)")
    })?;
    nodes.sort_by(|a, b| a.addr.cmp(&b.addr));
    let mut ids = Vec::new();
    for node in nodes.iter().filter(|node| node.master_id.is_none()) {
        if node.slots.is_empty() {
            continue;
        }
        all.push(Server {
            addr: node.addr.clone(),
            role: Role::Master(node.slots.clone()),
            connection: connect_admin(&format!("redis://{credentials}{}", node.addr)).await?,
        });
        ids.push((node.id.clone(), all.len() - 1));
    }
    for node in &nodes {
        let Some(master_id) = &node.master_id else {
            continue;
        };
        let Some(&(_, master)) = ids.iter().find(|(id, _)| id == master_id) else {
            continue;
        };
        all.push(Server {
            addr: node.addr.clone(),
            role: Role::Replica(master),
            connection: connect_admin(&format!("redis://{credentials}{}", node.addr)).await?,
        });
    }
    let servers = Servers { all };
    if servers.masters().is_empty() {
        return Err(format!("the cluster at {cluster_url} has no master with slots").into());
    }
    Ok(servers)
}

/// CPU times at one moment.
pub(crate) struct Snapshot {
    process: Option<Duration>,
    machine: Option<Duration>,
    servers: Vec<Option<Duration>>,
}

/// The CPU time spent between two snapshots.
#[derive(Clone, Debug)]
pub(crate) struct Usage {
    pub(crate) process: Option<Duration>,
    machine: Option<Duration>,
    servers: Vec<Option<Duration>>,
}

impl Usage {
    pub(crate) fn between(before: &Snapshot, after: &Snapshot) -> Self {
        Usage {
            process: spent(before.process, after.process),
            machine: spent(before.machine, after.machine),
            servers: before
                .servers
                .iter()
                .zip(&after.servers)
                .map(|(before, after)| spent(*before, *after))
                .collect(),
        }
    }

    /// The cores processes other than this one and the measured servers kept busy.
    pub(crate) fn other_load(&self, elapsed: Duration) -> Option<f64> {
        let mut ours = self.process?;
        for server in &self.servers {
            ours += (*server)?;
        }
        Some(self.machine?.saturating_sub(ours).as_secs_f64() / elapsed.as_secs_f64())
    }

    /// The CPU time of `servers` together.
    pub(crate) fn of(&self, servers: &[usize]) -> Option<Duration> {
        servers
            .iter()
            .map(|&index| self.servers.get(index).copied().flatten())
            .sum()
    }
}

/// A set of channels of one backend, and the server each one's keys live on.
pub(crate) struct Placement {
    /// The servers holding the channels (the single Redis, or the masters).
    pub(crate) owners: Vec<usize>,
    /// For each channel, its owner as an index into `owners`.
    pub(crate) owner_of: Vec<usize>,
    /// For each channel, its stream key.
    pub(crate) keys: Vec<String>,
}

impl Placement {
    pub(crate) fn single(keys: Vec<String>) -> Self {
        Placement {
            owners: vec![0],
            owner_of: vec![0; keys.len()],
            keys,
        }
    }

    /// Places each key on the master of its slot, asking the cluster (`CLUSTER KEYSLOT`).
    pub(crate) async fn cluster(servers: &Servers, keys: Vec<String>) -> Result<Self, BoxError> {
        let owners = servers.masters();
        let mut pipeline = redis::pipe();
        for key in &keys {
            pipeline.cmd("CLUSTER").arg("KEYSLOT").arg(key);
        }
        let mut connection = servers.all[owners[0]].connection.clone();
        let slots: Vec<u16> = pipeline.query_async(&mut connection).await?;
        let mut owner_of = Vec::with_capacity(keys.len());
        for (key, slot) in keys.iter().zip(&slots) {
            let server = servers
                .owner_of_slot(*slot)
                .ok_or_else(|| format!("no master owns slot {slot} (of `{key}`)"))?;
            owner_of.push(
                owners
                    .iter()
                    .position(|&owner| owner == server)
                    .unwrap_or(0),
            );
        }
        Ok(Placement {
            owners,
            owner_of,
            keys,
        })
    }

    pub(crate) fn count_per_owner(&self) -> Vec<usize> {
        let mut counts = vec![0; self.owners.len()];
        for &owner in &self.owner_of {
            counts[owner] += 1;
        }
        counts
    }

    /// `UNLINK`s every key on its own server (one key per command: a cluster refuses a
    /// command whose keys are in different slots).
    pub(crate) async fn unlink(&self, servers: &Servers) -> Result<(), BoxError> {
        for (owner, &server) in self.owners.iter().enumerate() {
            let mut pipeline = redis::pipe();
            for (key, _) in self
                .keys
                .iter()
                .zip(&self.owner_of)
                .filter(|(_, of)| **of == owner)
            {
                pipeline.cmd("UNLINK").arg(key).ignore();
            }
            let mut connection = servers.all[server].connection.clone();
            pipeline.query_async::<()>(&mut connection).await?;
        }
        Ok(())
    }
}
