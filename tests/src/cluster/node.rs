//! One redis-server of a private cluster: started on free ports in a folder of its own,
//! killed, frozen and thawed.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::topology::{POLL_COMMAND_TIMEOUT, query};
use super::{NODE_TIMEOUT_MS, POLL_INTERVAL};

/// A started node must answer PING within this.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts at starting one node, each on a fresh pair of ports (another process may take
/// a port between the check and redis-server's bind).
const START_ATTEMPTS: usize = 3;

/// A redis-server child in cluster mode.
#[derive(Debug)]
pub(super) struct Node {
    pub(super) port: u16,
    /// `None` once killed.
    child: Option<Child>,
    /// Frozen with SIGSTOP: the harness asks it nothing meanwhile.
    paused: AtomicBool,
}

impl Node {
    /// Starts a node on a fresh pair of ports, in `root/<port>` (its `nodes.conf` and
    /// `redis.log`), and waits until it answers PING.
    pub(super) async fn start(root: &Path) -> Self {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port_pair();
            let dir = root.join(port.to_string());
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
            let log = dir.join("redis.log");
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", "nodes.conf"])
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
            let mut node = Self {
                port,
                child: Some(child),
                paused: AtomicBool::new(false),
            };
            match node.wait_until_it_answers().await {
                Ok(()) => return node,
                Err(failure) => {
                    node.kill();
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(5).collect();
                    failures.push(format!("{failure}; its log, newest first: {tail:?}"));
                }
            }
        }
        panic!("could not start a cluster node:\n{}", failures.join("\n"));
    }

    async fn wait_until_it_answers(&mut self) -> Result<(), String> {
        let port = self.port;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!("redis-server on {port} exited ({status})"));
            }
            if query::<String>(port, &redis::cmd("PING"), POLL_COMMAND_TIMEOUT)
                .await
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server on {port}: no answer within {START_TIMEOUT:?}"
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Not killed.
    pub(super) fn alive(&self) -> bool {
        self.child.is_some()
    }

    /// Not killed and not frozen: the harness may ask it.
    pub(super) fn running(&self) -> bool {
        self.alive() && !self.paused.load(Ordering::SeqCst)
    }

    /// SIGKILL, and reaps the process (a frozen one too).
    pub(super) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused.store(false, Ordering::SeqCst);
    }

    /// SIGSTOP.
    pub(super) fn pause(&self) {
        self.signal("-STOP");
        self.paused.store(true, Ordering::SeqCst);
    }

    /// SIGCONT.
    pub(super) fn resume(&self) {
        self.signal("-CONT");
        self.paused.store(false, Ordering::SeqCst);
    }

    fn signal(&self, signal: &str) {
        let child = self
            .child
            .as_ref()
            .unwrap_or_else(|| panic!("node {} was killed", self.port));
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill {signal} {} failed", child.id());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port P in 10000..22000 such that P and P + 10000 (its cluster bus port) are both free
/// now; both are below the kernel's ephemeral range (32768 and up), so no outgoing
/// connection takes them meanwhile. Each port is handed out once per process, from a start
/// that depends on the process id, so that concurrent test processes tend to differ.
fn free_port_pair() -> u16 {
    const LOW: u32 = 10_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7_919) % SPAN;
    for _ in 0..SPAN {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = LOW + start.wrapping_add(offset) % SPAN;
        let (Ok(port), Ok(bus)) = (u16::try_from(port), u16::try_from(port + 10_000)) else {
            continue;
        };
        if bindable(port) && bindable(bus) {
            return port;
        }
    }
    panic!(
        "no free pair of ports P, P + 10000 with P in {LOW}..{}",
        LOW + SPAN
    );
}

fn bindable(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}
