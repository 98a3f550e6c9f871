//! A TCP proxy for fault tests: forwards every connection to a target and can make one of
//! them go silent (a black hole: bytes are read and dropped both ways, the sockets stay
//! open), as a half-open connection or a hung middlebox does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

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
    black_hole: watch::Sender<bool>,
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
        let connections = self.lock();
        let connection = connections
            .get(index)
            .unwrap_or_else(|| panic!("no proxied connection #{index}"));
        connection.black_hole.send_replace(true);
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
        let (black_hole, silent) = watch::channel(false);
        connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ProxiedConnection {
                accepted_at,
                upstream_local,
                black_hole,
            });
        let (client_read, client_write) = client.into_split();
        let (upstream_read, upstream_write) = upstream.into_split();
        tokio::spawn(forward(client_read, upstream_write, silent.clone()));
        tokio::spawn(forward(upstream_read, client_write, silent));
    }
}

/// Copies `from` to `to` until either closes; once `silent` turns true, drops what it reads.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    silent: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if *silent.borrow() {
            continue;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
