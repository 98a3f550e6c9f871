//! The health view's data: the backend's report, read at most once a second however many
//! pages ask, and the role changes (failovers) seen between two reports.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use realtime_core::backend::{BackendHealth, NodeHealth};
use tokio::sync::Mutex;

/// A report this recent is served again instead of asking the backend.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Role changes kept, newest last.
const FAILOVERS_KEPT: usize = 20;

/// A node's role changed between two reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(super) struct RoleChange {
    /// When it was seen, in milliseconds since the Unix epoch.
    pub(super) at_ms: u64,
    pub(super) node: String,
    pub(super) from: String,
    pub(super) to: String,
}

#[derive(Default)]
pub(super) struct HealthCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    last: Option<(Instant, BackendHealth)>,
    roles: BTreeMap<String, String>,
    failovers: VecDeque<RoleChange>,
}

impl HealthCache {
    /// The backend's report (fresh, or at most [`FRESH_FOR`] old) and the role changes
    /// seen so far. One caller asks the backend at a time; the others wait for its answer.
    pub(super) async fn read<F>(&self, ask: F) -> (BackendHealth, Vec<RoleChange>)
    where
        F: Future<Output = BackendHealth>,
    {
        let mut inner = self.inner.lock().await;
        if let Some((at, report)) = &inner.last
            && at.elapsed() < FRESH_FOR
        {
            return (report.clone(), inner.failovers.iter().cloned().collect());
        }
        let report = ask.await;
        inner.note_roles(&report.nodes);
        inner.last = Some((Instant::now(), report.clone()));
        (report, inner.failovers.iter().cloned().collect())
    }
}

impl Inner {
    fn note_roles(&mut self, nodes: &[NodeHealth]) {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        for node in nodes {
            let previous = self.roles.insert(node.address.clone(), node.role.clone());
            if let Some(previous) = previous.filter(|previous| *previous != node.role) {
                if self.failovers.len() == FAILOVERS_KEPT {
                    self.failovers.pop_front();
                }
                self.failovers.push_back(RoleChange {
                    at_ms,
                    node: node.address.clone(),
                    from: previous,
                    to: node.role.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_that_changes_between_reports_is_a_failover() {
        let mut inner = Inner::default();
        inner.note_roles(&[
            NodeHealth::new("a:1", "master", "ok"),
            NodeHealth::new("b:2", "replica", "ok"),
        ]);
        assert!(inner.failovers.is_empty());
        inner.note_roles(&[
            NodeHealth::new("a:1", "replica", "ok"),
            NodeHealth::new("b:2", "master", "ok"),
        ]);
        let changes: Vec<(&str, &str, &str)> = inner
            .failovers
            .iter()
            .map(|change| {
                (
                    change.node.as_str(),
                    change.from.as_str(),
                    change.to.as_str(),
                )
            })
            .collect();
        assert_eq!(
            changes,
            [("a:1", "master", "replica"), ("b:2", "replica", "master")]
        );
    }
}
