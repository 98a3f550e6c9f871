//! `realtime_axum::serve` against clients that misbehave, over real sockets: silent ones,
//! slow heads and bodies, idle keep-alive connections, clients that stop reading, more
//! connections than descriptors, and a shutdown that such clients must not hold up.
//!
//! Timeouts are configured short; each bound is checked as "closed within twice the
//! configured time" (and not much before it), never as a performance figure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test panics

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use realtime_axum::{RealtimeSse, ServeConfig};
use realtime_core::{Cursor, Realtime};
use realtime_tests::TestEvent;
use realtime_tests::sse::{SseClient, TestServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Turns a hang into a failure.
const PATIENCE: Duration = Duration::from_secs(15);
/// A large event: the client's socket and the server's fill after a few dozen.
const BIG: usize = 64 * 1024;

fn config() -> ServeConfig {
    ServeConfig::default()
}

/// Asserts that `elapsed` is the effect of a `timeout`: not before it (less a little
/// scheduling slack), and within twice it.
fn assert_cut_at(elapsed: Duration, timeout: Duration, what: &str) {
    assert!(
        elapsed + Duration::from_millis(50) >= timeout && elapsed <= timeout * 2,
        "{what}: closed after {elapsed:?}, expected about {timeout:?}"
    );
}

/// Reads until the server closes the connection (end of stream or reset); everything read.
async fn read_until_closed(socket: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(PATIENCE, socket.read(&mut buffer))
            .await
            .unwrap_or_else(|_| panic!("the server kept the connection open for {PATIENCE:?}"))
        {
            Ok(0) | Err(_) => return received,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Connects with a small receive buffer, so that a client that does not read stalls the
/// server's writes after a few megabytes (the server's send buffer) instead of dozens.
async fn connect_small_window(addr: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(addr).await.expect("connects")
}

fn stream_head(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\n\r\n")
}

fn app() -> Router {
    Router::new()
        .route("/plain", get(|| async { "ok" }))
        .route("/echo", post(|body: String| async move { body }))
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_header_read_timeout() {
    let timeout = Duration::from_millis(500);
    let mut config = config();
    config.header_read_timeout = timeout;
    let server = TestServer::start_with_config(app(), config).await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let start = Instant::now();
    assert!(read_until_closed(&mut silent).await.is_empty());
    assert_cut_at(start.elapsed(), timeout, "a silent connection");
}

#[tokio::test]
async fn a_head_sent_one_byte_every_200_ms_is_cut_at_the_header_read_timeout() {
    let timeout = Duration::from_secs(1);
    let mut config = config();
    config.header_read_timeout = timeout;
    let server = TestServer::start_with_config(app(), config).await;
    // A would-be event stream (lean path) and a plain request (hyper): both cut.
    for head in [
        stream_head("/api/realtime"),
        "GET /plain HTTP/1.1\r\nhost: test\r\n\r\n".to_owned(),
    ] {
        let socket = TcpStream::connect(server.addr).await.unwrap();
        let start = Instant::now();
        let (mut reader, mut writer) = socket.into_split();
        let trickle = tokio::spawn(async move {
            for byte in head.bytes() {
                if writer.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("the whole head went through: {head:?}");
        });
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(PATIENCE, reader.read_to_end(&mut answer))
            .await
            .expect("closed");
        assert_cut_at(start.elapsed(), timeout, "a slow head");
        assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
        trickle.abort();
    }
}

#[tokio::test]
async fn a_post_whose_body_trickles_gets_408_at_the_body_read_timeout() {
    let timeout = Duration::from_secs(1);
    let mut config = config();
    config.body_read_timeout = timeout;
    let server = TestServer::start_with_config(app(), config).await;
    // A body that arrives in time is echoed.
    let echoed = reqwest::Client::new()
        .post(server.url("/echo"))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.text().await.unwrap(), "hello");

    let socket = TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = socket.into_split();
    writer
        .write_all(b"POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\n\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    let trickle = tokio::spawn(async move {
        for _ in 0..1000 {
            if writer.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, reader.read_to_end(&mut answer))
        .await
        .expect("closed");
    assert_cut_at(start.elapsed(), timeout, "a slow body");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    trickle.abort();
}

#[tokio::test]
async fn a_keep_alive_connection_without_a_request_is_closed_at_the_idle_timeout() {
    let (header_timeout, idle_timeout) = (Duration::from_millis(300), Duration::from_millis(1500));
    let mut config = config();
    config.header_read_timeout = header_timeout;
    config.idle_timeout = idle_timeout;
    let server = TestServer::start_with_config(app(), config).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let request = b"GET /plain HTTP/1.1\r\nhost: test\r\n\r\n";
    for pause in [Duration::ZERO, header_timeout * 2] {
        // Waiting longer than the header timeout between requests is fine: the idle
        // timeout applies there.
        tokio::time::sleep(pause).await;
        socket.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"\r\n\r\nok") {
            let mut buffer = [0u8; 1024];
            let n = tokio::time::timeout(PATIENCE, socket.read(&mut buffer))
                .await
                .expect("an answer")
                .unwrap();
            assert!(n > 0, "closed after {pause:?} idle");
            answer.extend_from_slice(&buffer[..n]);
        }
    }
    let start = Instant::now();
    assert!(read_until_closed(&mut socket).await.is_empty());
    assert_cut_at(
        start.elapsed(),
        idle_timeout,
        "an idle keep-alive connection",
    );
}

/// The event frames' JSON in a raw lean response: head, then a chunked body cut anywhere.
fn frames_of_raw_response(raw: &[u8]) -> Vec<Value> {
    let head_end = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a response head");
    assert!(raw.starts_with(b"HTTP/1.1 200"));
    let mut rest = &raw[head_end + 4..];
    let mut body = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|window| window == b"\r\n") {
        let size = std::str::from_utf8(&rest[..line_end])
            .ok()
            .and_then(|size| usize::from_str_radix(size, 16).ok())
            .expect("a chunk size");
        let data = &rest[line_end + 2..];
        let taken = size.min(data.len());
        body.extend_from_slice(&data[..taken]);
        if taken < size || data.len() < size + 2 {
            break; // the connection was cut inside this chunk
        }
        rest = &data[size + 2..];
    }
    let text = String::from_utf8_lossy(&body);
    let mut frames: Vec<&str> = text.split("\n\n").collect();
    frames.pop(); // after the last "\n\n": empty, or a frame cut short
    frames
        .into_iter()
        .filter(|frame| !frame.starts_with("id: ")) // the browser's own reconnect marker
        .map(|frame| {
            serde_json::from_str(frame.strip_prefix("data: ").expect("a data frame")).expect("JSON")
        })
        .collect()
}

fn event_ids(frames: &[Value]) -> Vec<Cursor> {
    frames
        .iter()
        .filter(|frame| frame.get("id").is_some())
        .map(|frame| frame["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_whose_client_stops_reading_is_closed_at_the_write_stall_timeout_and_resumes_without_loss()
 {
    let stall = Duration::from_secs(1);
    let rt = Realtime::<TestEvent>::memory();
    let sse = RealtimeSse::new(rt.clone());
    let mut config = config();
    config.write_stall_timeout = stall;
    let server = TestServer::start_with_config(sse.router("/api/realtime"), config).await;

    let mut stuck = connect_small_window(server.addr).await;
    stuck
        .write_all(stream_head("/api/realtime?channel=big").as_bytes())
        .await
        .unwrap();
    while sse.open_streams() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut emitted = Vec::new();
    for n in 0..160 {
        let text = format!("{n:04}{}", "x".repeat(BIG));
        emitted.push(
            rt.channel("big")
                .emit(&TestEvent::Typing(text))
                .await
                .unwrap(),
        );
    }
    let start = Instant::now();
    while sse.open_streams() > 0 {
        assert!(
            start.elapsed() < PATIENCE,
            "a stream whose client reads nothing is still open after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        start.elapsed() <= stall * 2,
        "closed {:?} after the last emit",
        start.elapsed()
    );

    // What the client had been sent before the cut, and where it resumes from.
    let received = event_ids(&frames_of_raw_response(
        &read_until_closed(&mut stuck).await,
    ));
    assert!(
        received.len() < emitted.len(),
        "the client got everything: the stream never stalled"
    );
    assert_eq!(received, emitted[..received.len()], "in order, once");
    let mut url = "/api/realtime?channel=big".to_owned();
    if let Some(last) = received.last() {
        url.push_str(&format!("&last_ack_big={last}"));
    }
    let mut resumed = SseClient::connect(&server.url(&url)).await;
    let mut after = Vec::new();
    while after.len() < emitted.len() - received.len() {
        let frame = resumed.next_json().await;
        if let Some(id) = frame.get("id") {
            after.push(id.as_str().unwrap().parse::<Cursor>().unwrap());
        }
    }
    assert_eq!(
        after,
        emitted[received.len()..],
        "every later event, exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_served_by_hyper_whose_client_stops_reading_is_closed_at_the_write_stall_timeout()
 {
    /// Tells when the endless body is dropped (hyper gave up on the connection).
    struct Dropped(Arc<AtomicBool>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let stall = Duration::from_secs(1);
    let dropped = Arc::new(AtomicBool::new(false));
    let app = {
        let dropped = Arc::clone(&dropped);
        Router::new().route(
            "/endless",
            get(move || {
                let guard = Dropped(Arc::clone(&dropped));
                async move {
                    let chunks = futures::stream::repeat_with(move || {
                        let _ = &guard;
                        Ok::<_, std::convert::Infallible>(bytes::Bytes::from(vec![b'x'; BIG]))
                    });
                    axum::body::Body::from_stream(chunks)
                }
            }),
        )
    };
    let mut config = config();
    config.write_stall_timeout = stall;
    let server = TestServer::start_with_config(app, config).await;
    let mut stuck = connect_small_window(server.addr).await;
    stuck
        .write_all(b"GET /endless HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    while !dropped.load(Ordering::Acquire) {
        assert!(
            start.elapsed() < PATIENCE,
            "a response whose client reads nothing is still being written after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(start.elapsed() >= stall, "cut before the stall timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_within_the_grace_period_whatever_the_clients_do() {
    let grace = Duration::from_secs(1);
    let rt = Realtime::<TestEvent>::memory();
    let sse = RealtimeSse::new(rt.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut config = config();
    // Only the grace period can end the connections below.
    config.header_read_timeout = Duration::from_secs(60);
    config.write_stall_timeout = Duration::from_secs(60);
    config.shutdown_grace = grace;
    let server = tokio::spawn({
        let sse = sse.clone();
        realtime_axum::serve(listener, sse.router("/api/realtime"))
            .config(config)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                sse.shutdown();
            })
            .into_future()
    });
    let url = format!("http://{addr}/api/realtime?channel=room");

    // Clients that read everything until `reconnect`, then see the stream end.
    let delivered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut client = SseClient::connect(&url).await;
        assert_eq!(client.next_json().await["type"], "connected");
        let delivered = Arc::clone(&delivered);
        readers.push(tokio::spawn(async move {
            let mut events = 0;
            loop {
                let frame = client.next_json().await;
                match frame["type"].as_str() {
                    Some("reconnect") => break,
                    _ => {
                        events += 1;
                        delivered.fetch_add(1, Ordering::AcqRel);
                    }
                }
            }
            assert_eq!(
                client.next_raw().await,
                None,
                "the stream ends after `reconnect`"
            );
            events
        }));
    }
    // A client that stops reading, with more pending than its socket holds.
    let mut stuck = connect_small_window(addr).await;
    stuck
        .write_all(stream_head("/api/realtime?channel=room").as_bytes())
        .await
        .unwrap();
    let _silent = TcpStream::connect(addr).await.unwrap();
    let _half_head = {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(b"POST /api/realtime HTTP/1.1\r\nhost")
            .await
            .unwrap();
        socket
    };
    while sse.open_streams() < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for n in 0..100 {
        let text = format!("{n:04}{}", "x".repeat(BIG));
        rt.channel("room")
            .emit(&TestEvent::Typing(text))
            .await
            .unwrap();
    }
    let waiting = Instant::now();
    while delivered.load(Ordering::Acquire) < 300 {
        assert!(
            waiting.elapsed() < PATIENCE,
            "the readers did not get their events"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let start = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(grace * 2 + Duration::from_secs(1), server)
        .await
        .unwrap_or_else(|_| panic!("the server still runs {:?} after the signal", grace * 2))
        .unwrap()
        .unwrap();
    let took = start.elapsed();
    for reader in readers {
        assert_eq!(reader.await.unwrap(), 100, "every event, then `reconnect`");
    }
    assert!(took <= grace * 2, "shutdown took {took:?}");
    assert!(
        read_until_closed(&mut stuck).await.len() > BIG,
        "the stuck client got what its socket held"
    );
}

/// The descriptor-pressure test's server, in a child process with a low descriptor limit.
struct ChildServer {
    child: tokio::process::Child,
    url: String,
}

impl ChildServer {
    async fn start(descriptors: u32, args: &[&str]) -> Self {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {descriptors} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_hostile-server"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("sh runs hostile-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        let line = tokio::time::timeout(PATIENCE, lines.next_line())
            .await
            .expect("hostile-server starts")
            .unwrap()
            .expect("a line");
        let url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected output: {line}"))
            .to_owned();
        Self { child, url }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// User plus system CPU time so far.
    fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after the command name (in parentheses): utime and stime are the 12th
        // and 13th, in clock ticks (100 per second on Linux).
        let fields: Vec<u64> = stat[stat.rfind(')').unwrap() + 2..]
            .split(' ')
            .skip(11)
            .take(2)
            .map(|field| field.parse().unwrap())
            .collect();
        Duration::from_millis((fields[0] + fields[1]) * 10)
    }

    /// Stops the server (its stdin closes) and returns its log.
    async fn stop(mut self) -> String {
        drop(self.child.stdin.take());
        let mut log = String::new();
        let mut stderr = self.child.stderr.take().expect("stderr");
        let _ = tokio::time::timeout(PATIENCE, stderr.read_to_string(&mut log)).await;
        let _ = self.child.kill().await;
        log
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_more_silent_connections_than_descriptors_real_clients_are_still_served() {
    const DESCRIPTORS: u32 = 256;
    // The header timeout never fires during the test: only shedding makes room.
    let server = ChildServer::start(DESCRIPTORS, &["--header-read-timeout-ms", "60000"]).await;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    assert!(
        limits
            .lines()
            .any(|line| line.starts_with("Max open files") && line.contains(" 256 ")),
        "{limits}"
    );
    let start = Instant::now();
    let cpu_before = server.cpu_time();
    let addr: std::net::SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let mut silent = Vec::new();
    for _ in 0..DESCRIPTORS + 50 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }

    let mut stream =
        SseClient::connect(&format!("{}/api/realtime?channel=pressure", server.url)).await;
    assert_eq!(stream.status, reqwest::StatusCode::OK);
    assert_eq!(stream.next_json().await["type"], "connected");
    let emitted = reqwest::Client::new()
        .post(format!("{}/api/realtime", server.url))
        .json(&json!({"channel": "pressure", "event": "counter.tick", "data": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(emitted.status(), reqwest::StatusCode::OK);
    let event = stream.next_json().await;
    assert_eq!(
        (event["event"].as_str(), event["data"].as_u64()),
        (Some("counter.tick"), Some(7))
    );

    // A second after the pressure, the server is at rest: it did not spin on accept.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let wall = start.elapsed();
    let cpu = server.cpu_time().saturating_sub(cpu_before);
    let shed = silent
        .iter()
        .filter(|socket| {
            let mut byte = [0u8; 1];
            match socket.try_read(&mut byte) {
                Ok(_) => true,
                Err(error) => error.kind() != std::io::ErrorKind::WouldBlock,
            }
        })
        .count();
    let log = server.stop().await;
    let warnings = log.matches("accept failed").count();
    println!(
        "descriptor pressure: {} silent connections, {shed} shed, {warnings} accept warnings, \
         {cpu:?} CPU over {wall:?}",
        silent.len()
    );
    assert!(shed > 0, "no silent connection was closed to make room");
    assert!(
        cpu < wall / 4,
        "the server used {cpu:?} of CPU in {wall:?}: it spins"
    );
    assert!(
        warnings as u64 <= wall.as_secs() + 2,
        "{warnings} accept warnings in {wall:?}:\n{log}"
    );
}

#[tokio::test]
async fn at_max_connections_the_oldest_idle_connection_makes_room() {
    let mut config = config();
    config.header_read_timeout = Duration::from_secs(60);
    config.max_connections = Some(3);
    let server = TestServer::start_with_config(app(), config).await;
    let mut oldest = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _others = [
        TcpStream::connect(server.addr).await.unwrap(),
        TcpStream::connect(server.addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(50)).await;
    let answer = tokio::time::timeout(PATIENCE, reqwest::get(server.url("/plain")))
        .await
        .expect("served while the limit is held by idle connections")
        .unwrap();
    assert_eq!(answer.text().await.unwrap(), "ok");
    assert!(read_until_closed(&mut oldest).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_streams_hold_every_descriptor_accept_backs_off_without_spinning_or_flooding_the_log()
{
    const DESCRIPTORS: u32 = 128;
    let server = ChildServer::start(DESCRIPTORS, &[]).await;
    let addr: std::net::SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    // Open streams are busy, never shed: once they hold every descriptor, accept fails
    // until one closes.
    let mut streams = Vec::new();
    for n in 0..DESCRIPTORS {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(stream_head(&format!("/api/realtime?channel=s{n}")).as_bytes())
            .await
            .unwrap();
        streams.push(socket);
    }
    let cpu_before = server.cpu_time();
    let start = Instant::now();
    let waiting = tokio::spawn(SseClient::connect(
        format!("{}/api/realtime?channel=late", server.url).leak(),
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cpu = server.cpu_time().saturating_sub(cpu_before);
    assert!(
        !waiting.is_finished(),
        "served with every descriptor taken?"
    );
    // Streams leave: the waiting client is accepted.
    streams.drain(..20);
    let mut late = waiting.await.unwrap();
    assert_eq!(late.next_json().await["type"], "connected");
    let wall = start.elapsed();
    let log = server.stop().await;
    let warnings = log.matches("accept failed").count();
    println!("descriptors held by streams: {warnings} accept warnings, {cpu:?} CPU over 3 s");
    assert!(
        cpu < Duration::from_millis(750),
        "the server used {cpu:?} of CPU in 3 s: it spins"
    );
    assert!(
        (1..=wall.as_secs() as usize + 2).contains(&warnings),
        "{warnings} accept warnings in {wall:?}:\n{log}"
    );
}

/// The kernel's accounting of the server's sockets (`ss -tm`), `(sndbuf, queued)` in
/// bytes per socket: `tb` (the send buffer's size) and `w` (what is queued to send).
fn server_socket_memory(port: u16) -> Vec<(u64, u64)> {
    let output = std::process::Command::new("ss")
        .args([
            "-tmnH",
            "state",
            "established",
            "sport",
            "=",
            &format!(":{port}"),
        ])
        .output()
        .expect("ss (iproute2) runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.split("skmem:(")
        .skip(1)
        .map(|fields| {
            let fields = fields.split(')').next().unwrap_or_default();
            let field = |name: &str| {
                fields
                    .split(',')
                    .find_map(|field| field.strip_prefix(name)?.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            (field("tb"), field("w"))
        })
        .collect()
}

/// The kernel's TCP memory in all (`/proc/net/sockstat`, pages), in KiB.
fn tcp_memory_kib() -> u64 {
    let sockstat = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    sockstat
        .lines()
        .find(|line| line.starts_with("TCP:"))
        .and_then(|line| {
            line.split_whitespace()
                .skip_while(|word| *word != "mem")
                .nth(1)
        })
        .and_then(|pages| pages.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

/// Event-stream clients that read nothing: each holds at most the configured send buffer
/// of kernel memory on the server (Linux doubles `SO_SNDBUF`), where the kernel's own
/// buffer would grow to `tcp_wmem`'s maximum (4 MiB) before the write-stall timer even
/// starts. `NON_READERS` clients (default 50; the figures in docs/reliability.md are for
/// 1,000), each sent 2 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_reading_stream_clients_hold_a_bounded_send_buffer_each() {
    let clients: usize = std::env::var("NON_READERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let rt = Realtime::<TestEvent>::memory();
    let sse = RealtimeSse::new(rt.clone());
    let mut config = config();
    config.write_stall_timeout = Duration::from_secs(120);
    let server = TestServer::start_with_config(sse.router("/api/realtime"), config).await;
    let baseline = tcp_memory_kib();
    let mut stuck = Vec::new();
    for _ in 0..clients {
        let mut socket = connect_small_window(server.addr).await;
        socket
            .write_all(stream_head("/api/realtime?channel=big").as_bytes())
            .await
            .unwrap();
        stuck.push(socket);
    }
    let start = Instant::now();
    while sse.open_streams() < clients {
        assert!(
            start.elapsed() < PATIENCE,
            "{} streams open",
            sse.open_streams()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for n in 0..32 {
        let text = format!("{n:04}{}", "x".repeat(BIG));
        rt.channel("big")
            .emit(&TestEvent::Typing(text))
            .await
            .unwrap();
    }
    // Until the queues stop growing.
    let mut queued = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now: u64 = server_socket_memory(server.addr.port())
            .iter()
            .map(|(_, w)| w)
            .sum();
        if now == queued && now > 0 {
            break;
        }
        queued = now;
    }
    let sockets = server_socket_memory(server.addr.port());
    let largest_buffer = sockets.iter().map(|(tb, _)| *tb).max().unwrap_or(0);
    let total_queued: u64 = sockets.iter().map(|(_, w)| w).sum();
    println!(
        "{clients} non-reading clients: server send buffers at most {largest_buffer} B, \
         {} KiB queued on the server in all ({} KiB per client); kernel TCP memory {} KiB \
         above the start",
        total_queued / 1024,
        total_queued / 1024 / clients as u64,
        tcp_memory_kib().saturating_sub(baseline)
    );
    assert_eq!(sockets.len(), clients, "one server socket per client");
    let bound = 2 * realtime_axum::DEFAULT_EVENT_STREAM_SEND_BUFFER as u64;
    assert!(
        largest_buffer <= bound + 4096,
        "a send buffer of {largest_buffer} B, expected at most {bound} B"
    );
    assert!(total_queued <= clients as u64 * (bound + 4096));
    drop(stuck);
}
