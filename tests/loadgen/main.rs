//! Load generator for the SSE endpoint: holds N connections, emits paced events carrying
//! their send time, and reports server memory per connection, delivery rate, latency,
//! losses and duplicates.
//!
//! ```sh
//! cargo run --release -p realtime-tests --bin sse-loadgen            # the three scenarios
//! cargo run --release -p realtime-tests --bin sse-loadgen -- --quick # a short smoke run
//! cargo run --release -p realtime-tests --bin sse-loadgen -- --redis redis://127.0.0.1:6379
//! ```
//!
//! The server runs in a child process (this binary with `serve`), so its RSS is its own;
//! the load generator runs on the same machine and competes with it for the CPU.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool reports on stdout

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::response::IntoResponse;
use futures::StreamExt;
use realtime_axum::{EmitConfig, RealtimeSse};
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_core::{Events, Realtime};

/// The event the load generator emits: a sequence number and the send time.
#[derive(Events, Clone, Debug, PartialEq)]
enum BenchEvent {
    #[event("bench.tick")]
    Tick { seq: u64, sent_ns: u64 },
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
        })
}

#[derive(Clone, Debug)]
struct Options {
    quick: bool,
    redis: Option<String>,
    port: u16,
    /// Serve the baseline instead of the framework: a bare broadcast of pre-built frames
    /// over the same transport (see `floor_router`).
    floor: bool,
    /// Serve with plain `axum::serve` (hyper for every connection) instead of
    /// `realtime_axum::serve`.
    hyper: bool,
    /// Which scenarios to run: `idle`, `small` (2,000 connections), `large` (10,000).
    scenarios: Vec<String>,
}

fn parse_options(args: &[String]) -> Result<Options, Failure> {
    let mut options = Options {
        quick: false,
        redis: None,
        port: 0,
        floor: false,
        hyper: false,
        scenarios: vec!["idle".into(), "small".into(), "large".into()],
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--redis" => options.redis = Some(args.next().ok_or("--redis needs a URL")?.clone()),
            "--port" => options.port = args.next().ok_or("--port needs a number")?.parse()?,
            "--floor" => options.floor = true,
            "--hyper" => options.hyper = true,
            "--only" => {
                let list = args
                    .next()
                    .ok_or("--only needs a list, e.g. idle,small,large")?;
                options.scenarios = list.split(',').map(str::to_owned).collect();
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; expected --quick, --floor, --hyper, --only idle,small,large, --redis URL, --port N"
                )
                .into());
            }
        }
    }
    Ok(options)
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("serve") => runtime.block_on(serve(parse_options(&args[1..])?)),
        _ => runtime.block_on(run(parse_options(&args)?)),
    }
}

// ---- the server (child process) ----

async fn serve(options: Options) -> Result<(), Failure> {
    let rt = match &options.redis {
        Some(url) => {
            let prefix = format!("loadgen:{}:", std::process::id());
            let redis_options = RedisOptions::default()
                .key_prefix(prefix)
                .max_len(10_000)
                .expire_after(Duration::from_secs(300));
            Realtime::<BenchEvent>::with_backend(
                RedisBackend::connect_with(url, redis_options).await?,
            )
        }
        None => Realtime::<BenchEvent>::memory(),
    };
    let sse = RealtimeSse::builder(rt)
        .max_streams(50_000)
        .emit_route(EmitConfig::new())
        .build();
    let router = if options.floor {
        floor_router()
    } else {
        sse.router("/api/realtime")
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
    println!("listening on {}", listener.local_addr()?);
    if options.hyper {
        axum::serve(listener, router).await?;
    } else {
        realtime_axum::serve(listener, router).await?;
    }
    Ok(())
}

/// The baseline: the same transport (`realtime_axum::serve`, one frame per event written
/// to every connection) with none of the framework: no validation, no history, no hub,
/// no cursors. A `POST` broadcasts its `data` in a frame built once; a `GET` streams the
/// broadcast.
fn floor_router() -> axum::Router {
    let (frames, _) = tokio::sync::broadcast::channel::<bytes::Bytes>(4_096);
    let publish = frames.clone();
    let stream = move || {
        let receiver = frames.subscribe();
        async move {
            let connected = bytes::Bytes::from_static(
                b"data: {\"type\":\"connected\",\"channel\":\"fanout\"}\n\n",
            );
            let live = futures::stream::unfold(receiver, |mut receiver| async move {
                loop {
                    match receiver.recv().await {
                        Ok(frame) => return Some((frame, receiver)),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                }
            });
            let body = futures::stream::once(async move { connected })
                .chain(live)
                .map(Ok::<_, std::convert::Infallible>);
            (
                [(http::header::CONTENT_TYPE, "text/event-stream")],
                axum::body::Body::from_stream(body),
            )
                .into_response()
        }
    };
    let emit = move |axum::Json(input): axum::Json<serde_json::Value>| {
        let publish = publish.clone();
        async move {
            let frame = format!(
                "data: {{\"id\":\"0-0\",\"data\":{},\"event\":\"bench.tick\",\"channel\":\"fanout\"}}\n\n",
                input["data"]
            );
            let _ = publish.send(bytes::Bytes::from(frame));
            "ok"
        }
    };
    axum::Router::new().route("/api/realtime", axum::routing::get(stream).post(emit))
}

struct Server {
    child: Child,
    addr: std::net::SocketAddr,
    url: String,
}

impl Server {
    fn start(options: &Options) -> Result<Self, Failure> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["serve", "--port", &port.to_string()]);
        if let Some(redis) = &options.redis {
            command.args(["--redis", redis]);
        }
        if options.hyper {
            command.arg("--hyper");
        }
        if options.floor {
            command.arg("--floor");
        }
        let child = command.stdout(Stdio::null()).spawn()?;
        Ok(Self {
            child,
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            url: format!("http://127.0.0.1:{port}/api/realtime"),
        })
    }

    async fn wait_ready(&self, client: &reqwest::Client) -> Result<(), Failure> {
        for _ in 0..200 {
            if client.post(&self.url).body("{}").send().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err("the server did not start".into())
    }

    /// CPU seconds (user + system) the server has used, from /proc.
    fn cpu_seconds(&self) -> Result<f64, Failure> {
        cpu_seconds_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// The server's resident memory, from /proc.
    fn rss_bytes(&self) -> Result<u64, Failure> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kb = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .ok_or("no VmRSS in /proc status")?;
        Ok(kb * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) of the process whose `stat` file is at `path`.
fn cpu_seconds_of(path: &str) -> Result<f64, Failure> {
    let stat = std::fs::read_to_string(path)?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("malformed stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11).ok_or("no utime")?.parse::<f64>()?
        + fields.get(12).ok_or("no stime")?.parse::<f64>()?;
    Ok(ticks / 100.0)
}

// ---- the clients ----

/// What one connection saw.
#[derive(Default)]
struct Received {
    latencies_us: Vec<u32>,
    seen: Vec<bool>,
    duplicates: u64,
}

/// Reads `"<key>":<digits>` out of a frame without a JSON parser (the hot path of the
/// load generator, which shares the CPU with the server).
fn number_after(frame: &[u8], key: &[u8]) -> Option<u64> {
    let at = frame.windows(key.len()).position(|window| window == key)? + key.len();
    let digits = frame[at..].iter().take_while(|b| b.is_ascii_digit());
    let mut value = 0u64;
    let mut any = false;
    for digit in digits {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

/// Decodes an HTTP/1.1 body (chunked or not) and splits it into SSE frames.
struct FrameReader {
    chunked: bool,
    /// Bytes left in the current chunk; `None` while reading a chunk-size line.
    chunk_left: Option<usize>,
    /// The partial chunk-size line, or the CRLF after a chunk's data.
    line: Vec<u8>,
    skip_crlf: usize,
    payload: Vec<u8>,
}

impl FrameReader {
    fn new(chunked: bool) -> Self {
        Self {
            chunked,
            chunk_left: None,
            line: Vec::new(),
            skip_crlf: 0,
            payload: Vec::with_capacity(512),
        }
    }

    /// Feeds body bytes; calls `on_frame` with each complete frame.
    fn feed(&mut self, mut bytes: &[u8], on_frame: &mut impl FnMut(&[u8])) -> Result<(), Failure> {
        if !self.chunked {
            self.payload.extend_from_slice(bytes);
            self.drain_frames(on_frame);
            return Ok(());
        }
        while !bytes.is_empty() {
            if self.skip_crlf > 0 {
                let skip = self.skip_crlf.min(bytes.len());
                self.skip_crlf -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            match self.chunk_left {
                Some(0) => {
                    self.chunk_left = None;
                    self.skip_crlf = 2;
                }
                Some(left) => {
                    let take = left.min(bytes.len());
                    self.payload.extend_from_slice(&bytes[..take]);
                    self.chunk_left = Some(left - take);
                    bytes = &bytes[take..];
                }
                None => match bytes.iter().position(|b| *b == b'\n') {
                    Some(end) => {
                        self.line.extend_from_slice(&bytes[..end]);
                        bytes = &bytes[end + 1..];
                        let text = std::str::from_utf8(&self.line)?.trim();
                        let size = usize::from_str_radix(text.split(';').next().unwrap_or(""), 16)?;
                        self.line.clear();
                        if size == 0 {
                            return Ok(()); // the last chunk: the body ended
                        }
                        self.chunk_left = Some(size);
                    }
                    None => {
                        self.line.extend_from_slice(bytes);
                        bytes = &[];
                    }
                },
            }
        }
        self.drain_frames(on_frame);
        Ok(())
    }

    fn drain_frames(&mut self, on_frame: &mut impl FnMut(&[u8])) {
        let mut start = 0;
        while let Some(end) = self.payload[start..]
            .windows(2)
            .position(|pair| pair == b"\n\n")
        {
            on_frame(&self.payload[start..start + end + 2]);
            start += end + 2;
        }
        self.payload.drain(..start);
    }
}

/// Holds one SSE connection until `stop`, recording every tick. A raw HTTP/1.1 client, so
/// that the load generator spends as little CPU per frame as it can (it shares the machine
/// with the server).
async fn hold_connection(
    addr: std::net::SocketAddr,
    path: String,
    expected: usize,
    connected: Arc<AtomicUsize>,
    stop: tokio_util::sync::CancellationToken,
) -> Result<Received, Failure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await?;
    socket.set_nodelay(true)?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    socket.write_all(request.as_bytes()).await?;
    let mut buffer = vec![0u8; 8 * 1024];
    let mut head = Vec::new();
    let body_start = loop {
        let read = socket.read(&mut buffer).await?;
        if read == 0 {
            return Err("closed before the response head".into());
        }
        head.extend_from_slice(&buffer[..read]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head_text = String::from_utf8_lossy(&head[..body_start]).to_ascii_lowercase();
    if !head_text.starts_with("http/1.1 200") {
        return Err(format!("connect: {}", head_text.lines().next().unwrap_or_default()).into());
    }
    let mut reader = FrameReader::new(head_text.contains("transfer-encoding: chunked"));
    let mut received = Received {
        seen: vec![false; expected],
        ..Received::default()
    };
    let mut announced = false;
    let mut on_frame = |frame: &[u8], arrived_ns: u64| {
        if !announced && frame.windows(11).any(|w| w == b"\"connected\"") {
            announced = true;
            connected.fetch_add(1, Ordering::Relaxed);
        }
        if let (Some(seq), Some(sent)) = (
            number_after(frame, b"\"seq\":"),
            number_after(frame, b"\"sent_ns\":"),
        ) {
            let latency_us = arrived_ns.saturating_sub(sent) / 1_000;
            received
                .latencies_us
                .push(u32::try_from(latency_us).unwrap_or(u32::MAX));
            match usize::try_from(seq)
                .ok()
                .and_then(|seq| received.seen.get_mut(seq))
            {
                Some(seen) if *seen => received.duplicates += 1,
                Some(seen) => *seen = true,
                None => received.duplicates += 1,
            }
        }
    };
    let now = now_ns();
    reader.feed(&head[body_start..], &mut |frame| on_frame(frame, now))?;
    loop {
        let read = tokio::select! {
            () = stop.cancelled() => break,
            read = socket.read(&mut buffer) => read?,
        };
        if read == 0 {
            break;
        }
        let arrived_ns = now_ns();
        reader.feed(&buffer[..read], &mut |frame| on_frame(frame, arrived_ns))?;
    }
    Ok(received)
}

/// Opens `count` connections to `channel`, a batch at a time (the accept backlog is
/// finite), and waits until every one got its `connected` frame.
async fn open_connections(
    server: &Server,
    channel: &str,
    count: usize,
    expected: usize,
    stop: &tokio_util::sync::CancellationToken,
) -> Result<Vec<tokio::task::JoinHandle<Result<Received, Failure>>>, Failure> {
    let connected = Arc::new(AtomicUsize::new(0));
    let path = format!("/api/realtime?channel={channel}");
    let mut handles = Vec::with_capacity(count);
    let started = Instant::now();
    for batch_start in (0..count).step_by(500) {
        for _ in batch_start..(batch_start + 500).min(count) {
            handles.push(tokio::spawn(hold_connection(
                server.addr,
                path.clone(),
                expected,
                Arc::clone(&connected),
                stop.clone(),
            )));
        }
        while connected.load(Ordering::Relaxed) < handles.len() {
            if started.elapsed() > Duration::from_secs(120) {
                return Err(format!(
                    "only {} of {count} connections came up",
                    connected.load(Ordering::Relaxed)
                )
                .into());
            }
            if let Some(failed) = handles
                .iter()
                .position(tokio::task::JoinHandle::is_finished)
            {
                let handle = handles.swap_remove(failed);
                return Err(format!("a connection failed: {:?}", handle.await?.err()).into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Ok(handles)
}

// ---- scenarios ----

struct Figures {
    name: String,
    connections: usize,
    rate: u32,
    seconds: u64,
    emitted: usize,
    emit_rate: f64,
    delivered_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    lost: u64,
    duplicated: u64,
    rss_per_connection: Option<u64>,
    /// CPU seconds per second of the server and of the load generator while emitting.
    cpu: Option<(f64, f64)>,
}

async fn idle_memory(options: &Options, connections: usize) -> Result<Figures, Failure> {
    let server = Server::start(options)?;
    let http = reqwest::Client::new();
    server.wait_ready(&http).await?;
    let stop = tokio_util::sync::CancellationToken::new();
    // Warm up once so lazily built state (validators, buffers) is not counted.
    let warm = open_connections(&server, "idle", 10, 0, &stop).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_bytes()?;
    let handles = open_connections(&server, "idle", connections, 0, &stop).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss_bytes()?;
    stop.cancel();
    for handle in warm.into_iter().chain(handles) {
        let _ = handle.await?;
    }
    Ok(Figures {
        name: "idle connections".into(),
        connections,
        rate: 0,
        seconds: 0,
        emitted: 0,
        emit_rate: 0.0,
        delivered_per_s: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        max_ms: 0.0,
        lost: 0,
        duplicated: 0,
        rss_per_connection: Some(after.saturating_sub(before) / connections as u64),
        cpu: None,
    })
}

async fn fan_out(
    options: &Options,
    name: &str,
    connections: usize,
    rate: u32,
    seconds: u64,
) -> Result<Figures, Failure> {
    let server = Server::start(options)?;
    let http = reqwest::Client::new();
    server.wait_ready(&http).await?;
    let total = (u64::from(rate) * seconds) as usize;
    let stop = tokio_util::sync::CancellationToken::new();
    let before = server.rss_bytes()?;
    let handles = open_connections(&server, "fanout", connections, total, &stop).await?;
    let rss_connected = server.rss_bytes()?;

    let mut ticker = tokio::time::interval(Duration::from_secs(1) / rate);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let server_cpu_before = server.cpu_seconds()?;
    let own_cpu_before = cpu_seconds_of("/proc/self/stat")?;
    for seq in 0..total {
        ticker.tick().await;
        let body = serde_json::json!({
            "channel": "fanout",
            "event": "bench.tick",
            "data": { "seq": seq, "sent_ns": now_ns() },
        });
        let response = http.post(&server.url).json(&body).send().await?;
        if !response.status().is_success() {
            return Err(format!("emit {seq}: {}", response.status()).into());
        }
    }
    let emit_elapsed = started.elapsed();
    let cpu = (
        (server.cpu_seconds()? - server_cpu_before) / emit_elapsed.as_secs_f64(),
        (cpu_seconds_of("/proc/self/stat")? - own_cpu_before) / emit_elapsed.as_secs_f64(),
    );
    // Let the last events arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    let mut latencies: Vec<u32> = Vec::with_capacity(total * connections);
    let (mut delivered, mut lost, mut duplicated) = (0u64, 0u64, 0u64);
    for handle in handles {
        let received = handle.await??;
        delivered += received.latencies_us.len() as u64;
        duplicated += received.duplicates;
        lost += received.seen.iter().filter(|seen| !**seen).count() as u64;
        latencies.extend(received.latencies_us);
    }
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(latencies[index]) / 1_000.0
    };
    Ok(Figures {
        name: name.into(),
        connections,
        rate,
        seconds,
        emitted: total,
        emit_rate: total as f64 / emit_elapsed.as_secs_f64(),
        delivered_per_s: delivered as f64 / emit_elapsed.as_secs_f64(),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        max_ms: percentile(1.0),
        lost,
        duplicated,
        rss_per_connection: Some(rss_connected.saturating_sub(before) / connections as u64),
        cpu: Some(cpu),
    })
}

async fn run(options: Options) -> Result<(), Failure> {
    let backend = options
        .redis
        .as_deref()
        .map_or("memory".to_owned(), |url| format!("redis ({url})"));
    let backend = if options.floor {
        "none (baseline: bare broadcast of pre-built frames)".to_owned()
    } else {
        backend
    };
    println!(
        "SSE load: server and load generator on this machine ({} cores), backend {backend}",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let (idle, small, large, seconds) = if options.quick {
        (1_000, 200, 1_000, 3)
    } else {
        (10_000, 2_000, 10_000, 20)
    };
    let mut figures = Vec::new();
    let wants = |name: &str| options.scenarios.iter().any(|scenario| scenario == name);
    if wants("idle") {
        figures.push(idle_memory(&options, idle).await?);
        println!("{}", row(&figures[figures.len() - 1]));
    }
    if wants("small") {
        figures.push(fan_out(&options, "one channel", small, 100, seconds).await?);
        println!("{}", row(&figures[figures.len() - 1]));
    }
    if wants("large") {
        figures.push(fan_out(&options, "one channel", large, 20, seconds).await?);
        println!("{}", row(&figures[figures.len() - 1]));
    }
    println!();
    println!("{}", header());
    for figure in &figures {
        println!("{}", row(figure));
    }
    Ok(())
}

fn header() -> String {
    format!(
        "| {:<16} | {:>6} | {:>5} | {:>4} | {:>7} | {:>8} | {:>12} | {:>8} | {:>8} | {:>8} | {:>4} | {:>4} | {:>9} | {:>18} |\n|{}|",
        "scenario",
        "conns",
        "ev/s",
        "s",
        "emitted",
        "emit/s",
        "delivered/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "lost",
        "dup",
        "RSS/conn",
        "CPU server/loadgen",
        ["---"; 14].join("|")
    )
}

fn row(f: &Figures) -> String {
    format!(
        "| {:<16} | {:>6} | {:>5} | {:>4} | {:>7} | {:>8.1} | {:>12.0} | {:>8.2} | {:>8.2} | {:>8.2} | {:>4} | {:>4} | {:>9} | {:>18} |",
        f.name,
        f.connections,
        f.rate,
        f.seconds,
        f.emitted,
        f.emit_rate,
        f.delivered_per_s,
        f.p50_ms,
        f.p99_ms,
        f.max_ms,
        f.lost,
        f.duplicated,
        f.rss_per_connection.map_or("-".to_owned(), |bytes| format!(
            "{:.1} KB",
            bytes as f64 / 1024.0
        )),
        f.cpu.map_or("-".to_owned(), |(server, own)| format!(
            "{server:.2} / {own:.2}"
        )),
    )
}
