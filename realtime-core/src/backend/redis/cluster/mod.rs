//! Commands on a Redis Cluster: each goes to the master that owns its key's slot.
//!
//! The slot map comes from `CLUSTER SLOTS` and is kept current by the cluster's own
//! answers: a `MOVED` reply points one slot at its new owner (and the map is read again in
//! the background), an `ASK` reply sends that one command to the importing master
//! (preceded by `ASKING`), and `TRYAGAIN`, `CLUSTERDOWN` and `MASTERDOWN` (nothing was run)
//! are retried after a short wait. A connection that fails makes the map be read again,
//! so that after a failover the next command finds the promoted replica.
//!
//! Each master gets one multiplexed connection, like the single-node command connection;
//! a command is never sent twice by this layer unless Redis said it did not run it, so the
//! backend's rules for repeating a command (see `Outcome`) hold on a cluster too.

pub(crate) mod slot;
mod topology;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionAddr, ConnectionInfo, RedisError, RedisResult, Value};
use tokio::time::{Instant, sleep, timeout};

use crate::util::lock;
pub(crate) use slot::key_slot;
use topology::SlotMap;

/// Redirects (`MOVED`, `ASK`), refusals that ran nothing (`TRYAGAIN`, `CLUSTERDOWN`,
/// `MASTERDOWN`) and refused connections followed for one command before its last answer
/// (or error) is returned as it is.
const MAX_REDIRECTS: u32 = 5;
/// The wait before repeating a command refused with `TRYAGAIN` / `CLUSTERDOWN` or whose
/// master refused the connection, times the attempt: 100, 200, ... 500 ms (1.5 s in all,
/// about a failover's duration).
const REFUSED_WAIT: Duration = Duration::from_millis(100);
/// The slot map is read at most this often; callers in between use the map as it is.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_millis(250);
/// The limit on one node's answer to `CLUSTER SLOTS` during a refresh.
const TOPOLOGY_TIMEOUT: Duration = Duration::from_secs(1);

/// A node's address, `host:port`, as the cluster reports it.
pub(crate) type NodeAddr = Arc<str>;

/// Routes commands to the masters of a Redis Cluster. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ClusterCommands {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ClusterCommands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterCommands")
            .field("seeds", &self.inner.seeds)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// Credentials and settings every node's connection uses (the first seed's).
    template: ConnectionInfo,
    seeds: Vec<NodeAddr>,
    config: ConnectionManagerConfig,
    slots: Mutex<SlotMap>,
    connections: Mutex<HashMap<NodeAddr, ConnectionManager>>,
    /// One refresh at a time; when the last one finished.
    refreshed_at: tokio::sync::Mutex<Option<Instant>>,
}

/// The `host:port` of a parsed connection address (TCP only).
fn tcp_addr(info: &ConnectionInfo) -> Result<NodeAddr, String> {
    match info.addr() {
        ConnectionAddr::Tcp(host, port) => Ok(Arc::from(format!("{host}:{port}"))),
        other => Err(format!(
            "cluster nodes are reached over plain TCP; `{other}` is not supported"
        )),
    }
}

/// An error for a command that was not sent: it counts as a refused connection, so the
/// backend may send it once more and reports it as "unavailable".
fn not_sent(message: String) -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        message,
    ))
}

/// What the first reply of a pipeline says about where it must go.
enum Redirect {
    Moved(NodeAddr),
    Ask(NodeAddr),
    Refused,
}

fn redirect_of(reply: &RedisResult<Value>) -> Option<Redirect> {
    let Err(error) = reply else { return None };
    match error.code()? {
        "MOVED" => Some(Redirect::Moved(Arc::from(error.redirect_node()?.0))),
        "ASK" => Some(Redirect::Ask(Arc::from(error.redirect_node()?.0))),
        "TRYAGAIN" | "CLUSTERDOWN" | "MASTERDOWN" => Some(Redirect::Refused),
        _ => None,
    }
}

impl ClusterCommands {
    /// Reads the slot map from the first seed that answers.
    pub(crate) async fn connect(
        seeds: &[ConnectionInfo],
        config: ConnectionManagerConfig,
    ) -> Result<Self, String> {
        let template = seeds
            .first()
            .cloned()
            .ok_or("a cluster needs at least one seed address")?;
        let seed_addrs = seeds.iter().map(tcp_addr).collect::<Result<Vec<_>, _>>()?;
        let commands = Self {
            inner: Arc::new(Inner {
                template,
                seeds: seed_addrs,
                config,
                slots: Mutex::new(SlotMap::default()),
                connections: Mutex::default(),
                refreshed_at: tokio::sync::Mutex::new(None),
            }),
        };
        commands.refresh().await?;
        Ok(commands)
    }

    /// The connection settings of the node at `addr`.
    pub(crate) fn node_info(&self, addr: &str) -> Result<ConnectionInfo, String> {
        let (host, port) = addr
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("malformed node address `{addr}`"))?;
        Ok(self
            .inner
            .template
            .clone()
            .set_addr(ConnectionAddr::Tcp(host.to_owned(), port)))
    }

    /// The master that owns `slot`, as last read.
    pub(crate) fn master_of(&self, slot: u16) -> Option<NodeAddr> {
        lock(&self.inner.slots).master_of(slot)
    }

    /// The masters that own at least one slot, as last read.
    pub(crate) fn masters(&self) -> Vec<NodeAddr> {
        lock(&self.inner.slots).masters()
    }

    /// The connection to the node at `addr`, opened on first use.
    async fn connection(&self, addr: &NodeAddr) -> RedisResult<ConnectionManager> {
        if let Some(connection) = lock(&self.inner.connections).get(addr) {
            return Ok(connection.clone());
        }
        let info = self.node_info(addr).map_err(not_sent)?;
        let client = redis::Client::open(info)?;
        let connection =
            ConnectionManager::new_with_config(client, self.inner.config.clone()).await?;
        let mut connections = lock(&self.inner.connections);
        Ok(connections
            .entry(Arc::clone(addr))
            .or_insert(connection)
            .clone())
    }

    /// Reads the slot map again, from whichever known node answers first; does nothing if
    /// it was read less than [`MIN_REFRESH_INTERVAL`] ago.
    pub(crate) async fn refresh(&self) -> Result<(), String> {
        let mut refreshed_at = self.inner.refreshed_at.lock().await;
        if refreshed_at.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return Ok(());
        }
        let mut candidates = self.masters();
        for seed in &self.inner.seeds {
            if !candidates.contains(seed) {
                candidates.push(Arc::clone(seed));
            }
        }
        let asks = candidates.iter().map(|addr| {
            Box::pin(async move {
                let read = async {
                    let mut connection = self.connection(addr).await?;
                    redis::cmd("CLUSTER")
                        .arg("SLOTS")
                        .query_async::<Value>(&mut connection)
                        .await
                };
                match timeout(TOPOLOGY_TIMEOUT, read).await {
                    Ok(Ok(reply)) => SlotMap::parse(&reply, addr),
                    Ok(Err(error)) => Err(format!("{addr}: {error}")),
                    Err(_) => Err(format!("{addr}: no answer within {TOPOLOGY_TIMEOUT:?}")),
                }
            })
        });
        let result = futures::future::select_ok(asks).await;
        *refreshed_at = Some(Instant::now());
        match result {
            Ok((map, _)) => {
                *lock(&self.inner.slots) = map;
                Ok(())
            }
            Err(last) => Err(format!(
                "no node of the cluster answered CLUSTER SLOTS (tried {}; last: {last})",
                candidates.len()
            )),
        }
    }

    /// Refreshes the slot map in the background.
    fn refresh_soon(&self) {
        let commands = self.clone();
        tokio::spawn(async move {
            if let Err(error) = commands.refresh().await {
                tracing::debug!(%error, "redis cluster: reading the slot map failed");
            }
        });
    }

    /// Sends `pipeline` (whose commands all touch `key`'s slot) to the master of that
    /// slot, following redirects. Replies come one per command, errors Redis answered
    /// included, with the node that answered; `Err` means the connection failed (see
    /// `Outcome`).
    pub(crate) async fn send(
        &self,
        key: &str,
        pipeline: &redis::Pipeline,
    ) -> RedisResult<(NodeAddr, Vec<RedisResult<Value>>)> {
        let slot = key_slot(key.as_bytes());
        let mut ask: Option<NodeAddr> = None;
        let mut attempt = 0;
        loop {
            let (addr, asking) = match ask.take() {
                Some(addr) => (addr, true),
                None => match self.master_of(slot) {
                    Some(addr) => (addr, false),
                    None => {
                        self.refresh().await.map_err(not_sent)?;
                        let addr = self.master_of(slot).ok_or_else(|| {
                            not_sent(format!("no master of the cluster serves slot {slot}"))
                        })?;
                        (addr, false)
                    }
                },
            };
            attempt += 1;
            let replies = match self.send_to(&addr, pipeline, asking).await {
                Ok(replies) => replies,
                // Nothing was sent: the master may be gone (failover). Read the map again
                // and send it where the map then says, while the redirects allow.
                Err(error) if error.is_connection_refusal() && attempt <= MAX_REDIRECTS => {
                    tracing::debug!(slot, %addr, %error, "redis cluster: master unreachable");
                    if let Err(why) = self.refresh().await {
                        tracing::debug!(%why, "redis cluster: reading the slot map failed");
                    }
                    sleep(REFUSED_WAIT * attempt).await;
                    continue;
                }
                Err(error) => {
                    // The node may be gone (failover): the next command uses a fresh map.
                    self.refresh_soon();
                    return Err(error);
                }
            };
            let redirect = replies.first().and_then(redirect_of);
            match redirect {
                Some(_) if attempt > MAX_REDIRECTS => return Ok((addr, replies)),
                None => return Ok((addr, replies)),
                Some(Redirect::Moved(to)) => {
                    tracing::debug!(slot, %to, "redis cluster: MOVED");
                    lock(&self.inner.slots).assign(slot, to);
                    self.refresh_soon();
                }
                Some(Redirect::Ask(to)) => ask = Some(to),
                Some(Redirect::Refused) => sleep(REFUSED_WAIT * attempt).await,
            }
        }
    }

    /// Sends `pipeline` to the node at `addr` over its connection (the one [`send`] uses),
    /// as is: no redirect is followed.
    ///
    /// [`send`]: ClusterCommands::send
    pub(crate) async fn send_to(
        &self,
        addr: &NodeAddr,
        pipeline: &redis::Pipeline,
        asking: bool,
    ) -> RedisResult<Vec<RedisResult<Value>>> {
        let mut connection = self.connection(addr).await?;
        if !asking {
            return pipeline.query_async(&mut connection).await;
        }
        // ASKING applies to the next command only, so it goes first on the same
        // connection, in the same write.
        let mut with_asking = redis::pipe();
        with_asking.ignore_errors().cmd("ASKING");
        for command in pipeline.cmd_iter() {
            with_asking.add_command(command.clone());
        }
        let mut replies: Vec<RedisResult<Value>> = with_asking.query_async(&mut connection).await?;
        if !replies.is_empty() {
            let _asking_ok = replies.remove(0);
        }
        Ok(replies)
    }
}

/// Reads a `redis+cluster://[user:password@]host:port[,host:port...][/]` URL into the
/// seed nodes' `redis://` URLs, or `None` when `url` is of another scheme.
///
/// # Errors
/// When the URL names no node or a malformed one.
pub(crate) fn seed_urls(url: &str) -> Option<Result<Vec<String>, String>> {
    let rest = url.strip_prefix("redis+cluster://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (credentials, hosts) = match rest.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), rest),
    };
    let seeds: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .map(|host| format!("redis://{credentials}{host}"))
        .collect();
    Some(if seeds.is_empty() || hosts.contains('/') {
        Err(format!(
            "`{url}` names no node; expected redis+cluster://host:port[,host:port...]"
        ))
    } else {
        Ok(seeds)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_urls_list_their_seeds() {
        assert_eq!(
            seed_urls("redis+cluster://127.0.0.1:7101,127.0.0.1:7102/"),
            Some(Ok(vec![
                "redis://127.0.0.1:7101".to_owned(),
                "redis://127.0.0.1:7102".to_owned()
            ]))
        );
        assert_eq!(
            seed_urls("redis+cluster://u:p@a:1,b:2"),
            Some(Ok(vec![
                "redis://u:p@a:1".to_owned(),
                "redis://u:p@b:2".to_owned()
            ]))
        );
        assert_eq!(seed_urls("redis://127.0.0.1:6379"), None);
        assert!(matches!(seed_urls("redis+cluster://"), Some(Err(_))));
        assert!(matches!(seed_urls("redis+cluster://a:1/0"), Some(Err(_))));
    }
}
