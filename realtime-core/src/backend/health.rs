//! What a backend can tell about its own state, for people looking at it (the inspector
//! page of `realtime-axum`): the kind of storage, its nodes and their roles, the state of
//! the live-message connections.

/// A backend's state now ([`Backend::health`](super::Backend::health)).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct BackendHealth {
    /// The backend's kind: `"memory"`, `"redis"`, `"redis-cluster"`, or a custom
    /// backend's [`name`](super::Backend::name).
    pub kind: String,
    /// The storage nodes this process sees, in a stable order (empty for the embedded
    /// backend).
    pub nodes: Vec<NodeHealth>,
    /// The live-message (pub/sub) connections, where the backend has any.
    pub pubsub: Option<PubSubHealth>,
    /// Masters short of replicas for replicated emits (see the `realtime_replica_shortages`
    /// metric).
    pub replica_shortages: i64,
    /// Why the nodes could not be listed, when they could not (the rest is still filled).
    pub error: Option<String>,
}

/// One storage node.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct NodeHealth {
    /// `host:port`.
    pub address: String,
    /// `"master"` or `"replica"`.
    pub role: String,
    /// For a replica, its master's address, when known.
    pub master: Option<String>,
    /// For a master, its replicas' addresses, when known.
    pub replicas: Vec<String>,
    /// `"ok"`, or what is wrong (`"fail"`, `"disconnected"`, ...).
    pub state: String,
}

impl NodeHealth {
    /// A node with its address, role and state.
    pub fn new(
        address: impl Into<String>,
        role: impl Into<String>,
        state: impl Into<String>,
    ) -> Self {
        Self {
            address: address.into(),
            role: role.into(),
            state: state.into(),
            ..Self::default()
        }
    }
}

/// The pub/sub connections of a backend.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PubSubHealth {
    /// `"single"` (`SUBSCRIBE` on one Redis) or `"sharded"` (`SSUBSCRIBE` on a cluster).
    pub mode: String,
    /// Connections open now.
    pub connections: i64,
    /// Connections lost (and replaced) since the process started.
    pub reconnects: u64,
    /// Channels subscribed now.
    pub channels: usize,
}
