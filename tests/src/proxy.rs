//! A TCP proxy for fault tests: forwards every connection to a target and can make one of
//! them slow (each chunk held for a while, both ways) or silent (a black hole: bytes are
//! read and dropped both ways, the sockets stay open), as a half-open connection or a hung
//! middlebox does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// One proxied connection, in the order they were accepted.
#[derive(Debug)]
pub struct ProxiedConnection {
    /// When the proxy accepted it.
    pub accepted_at: Instant,
    /// The proxy's own address on its connection to the target: what the target (e.g.
    /// Redis's `CLIENT LIST addr=`) sees as the client.
    pub upstream_local: SocketAddr,
    fault: watch::Sender<Fault>,
}

/// What the proxy does to a connection's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    Delay(Duration),
    BlackHole,
}

/// A proxy on a free loopback port; stops accepting when dropped.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    connections: Arc<Mutex<Vec<ProxiedConnection>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("a bound address");
        let connections: Arc<Mutex<Vec<ProxiedConnection>>> = Arc::default();
        let task = tokio::spawn(accept(listener, target, Arc::clone(&connections)));
        Self {
            addr,
            connections,
            task,
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connections accepted so far: when, and their upstream address.
    pub fn accepted(&self) -> Vec<(Instant, SocketAddr)> {
        self.lock()
            .iter()
            .map(|connection| (connection.accepted_at, connection.upstream_local))
            .collect()
    }

    /// Makes connection `index` (0: the first accepted) silent both ways from now on.
    pub fn black_hole(&self, index: usize) {
        self.set(index, Fault::BlackHole);
    }

    /// Holds every chunk of connection `index` for `delay` before passing it on, both ways.
    pub fn delay(&self, index: usize, delay: Duration) {
        self.set(index, Fault::Delay(delay));
    }

    fn set(&self, index: usize, fault: Fault) {
        let connections = self.lock();
        let connection = connections
            .get(index)
            .unwrap_or_else(|| panic!("no proxied connection #{index}"));
        connection.fault.send_replace(fault);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ProxiedConnection>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(
    listener: TcpListener,
    target: SocketAddr,
    connections: Arc<Mutex<Vec<ProxiedConnection>>>,
) {
    while let Ok((client, _)) = listener.accept().await {
        let accepted_at = Instant::now();
        let Ok(upstream) = TcpStream::connect(target).await else {
            continue;
        };
        let Ok(upstream_local) = upstream.local_addr() else {
            continue;
        };
        let (fault, faults) = watch::channel(Fault::None);
        connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ProxiedConnection {
                accepted_at,
                upstream_local,
                fault,
            });
        let (client_read, client_write) = client.into_split();
        let (upstream_read, upstream_write) = upstream.into_split();
        tokio::spawn(forward(client_read, upstream_write, faults.clone()));
        tokio::spawn(forward(upstream_read, client_write, faults));
    }
}

/// Copies `from` to `to` until either closes, applying the connection's current fault.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    fault: watch::Receiver<Fault>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let current = *fault.borrow();
        match current {
            Fault::None => {}
            Fault::Delay(delay) => tokio::time::sleep(delay).await,
            Fault::BlackHole => continue,
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
