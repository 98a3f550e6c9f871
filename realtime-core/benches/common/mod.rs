//! What the benchmarks share: the event type, run length, key naming, CPU accounting and
//! the fan-out subscriber's bookkeeping.

use std::error::Error;
use std::time::{Duration, Instant};

use futures::StreamExt;
use realtime_core::{Channel, Subscription};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::{Interval, MissedTickBehavior};

pub(crate) type BoxError = Box<dyn Error + Send + Sync>;

/// The events of the benchmarks.
#[derive(realtime_core::Events, Clone, Debug, PartialEq)]
pub(crate) enum BenchEvent {
    /// The payload of the emit benchmarks: a short string and a number.
    #[event("bench.tick")]
    Tick { text: String, n: u64 },
    /// A fan-out probe: its sequence number and when it was sent (ns after the run's base).
    #[event("bench.stamp")]
    Stamp { seq: u64, sent_ns: u64 },
    /// The end of a fan-out run on a channel: `total` probes were sent to it.
    #[event("bench.done")]
    Done { total: u64 },
}

pub(crate) const TICK_TEXT: &str = "hello world";
/// The streams expire this long after their last emit, should the cleanup not run.
pub(crate) const KEY_LIFETIME: Duration = Duration::from_secs(600);
/// As the Redis backend configures its command connection.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// A fan-out subscriber that receives nothing for this long has stalled: longer than any
/// pause of a healthy run.
pub(crate) const IDLE_LIMIT: Duration = Duration::from_secs(10);

/// Whether this is a short run: `--quick` or `BENCH_QUICK=1`.
pub(crate) fn quick_run() -> bool {
    std::env::args().any(|arg| arg == "--quick")
        || std::env::var("BENCH_QUICK").is_ok_and(|value| !matches!(&*value, "" | "0"))
}

/// A fresh key prefix, `bench:<pid>:<nanos>:`.
pub(crate) fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("bench:{}:{nanos}:", std::process::id())
}

/// The admin (and baseline) connections' settings: the backend's timeouts.
pub(crate) fn connection_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(COMMAND_TIMEOUT))
        .set_response_timeout(Some(COMMAND_TIMEOUT))
}

/// `after - before`, when both were readable.
pub(crate) fn spent(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    Some(after?.saturating_sub(before?))
}

/// The CPU time the machine has been busy, all cores, from `/proc/stat` (Linux).
pub(crate) fn machine_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal: everything but idle and iowait.
    let busy = ticks.iter().take(8).sum::<u64>() - ticks.get(3)? - ticks.get(4)?;
    Some(Duration::from_millis(busy * 10))
}

/// The CPU time this process has used, from `/proc/self/stat` (Linux; 100 ticks a second).
pub(crate) fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the `(comm)`: state is the first, utime and stime the 12th and 13th.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The CPU time a Redis server has used (`used_cpu_sys` + `used_cpu_user`, every thread;
/// other clients' work included).
pub(crate) async fn server_cpu(connection: &mut ConnectionManager) -> Option<Duration> {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(connection)
        .await
        .ok()?;
    let seconds = info
        .lines()
        .filter_map(|line| {
            let value = line
                .strip_prefix("used_cpu_sys:")
                .or_else(|| line.strip_prefix("used_cpu_user:"))?;
            value.trim().parse::<f64>().ok()
        })
        .sum::<f64>();
    Some(Duration::from_secs_f64(seconds))
}

/// The median of `values` (0 when empty).
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        len if len % 2 == 1 => values[len / 2],
        len => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

/// The `p`th percentile of `sorted` nanoseconds (0 when empty).
pub(crate) fn percentile(sorted: &[u64], p: usize) -> Duration {
    let index = (sorted.len() * p / 100).min(sorted.len().saturating_sub(1));
    Duration::from_nanos(sorted.get(index).copied().unwrap_or(0))
}

pub(crate) fn nanos_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// What one fan-out subscriber saw.
#[derive(Debug, Default)]
pub(crate) struct Received {
    pub(crate) latencies_ns: Vec<u64>,
    pub(crate) missing: u64,
    pub(crate) duplicates: u64,
    /// The subscriber saw nothing for [`IDLE_LIMIT`] and gave up before `Done`.
    pub(crate) stalled: bool,
    pub(crate) last_receive_ns: u64,
}

/// Reads `subscription` until `Done`, checking the probes' sequence numbers (each channel
/// counts from 0) and recording their latency; `expected` probes are announced.
pub(crate) async fn receive(
    mut subscription: Subscription<BenchEvent>,
    expected: u64,
    base: Instant,
) -> Received {
    let mut received = Received {
        latencies_ns: Vec::with_capacity(usize::try_from(expected).unwrap_or(0)),
        ..Received::default()
    };
    let mut next_seq = 0_u64;
    loop {
        match tokio::time::timeout(IDLE_LIMIT, subscription.next()).await {
            Ok(Some(envelope)) => match envelope.event {
                BenchEvent::Stamp { seq, sent_ns } => {
                    let now = nanos_since(base);
                    received.latencies_ns.push(now.saturating_sub(sent_ns));
                    received.last_receive_ns = now;
                    if seq < next_seq {
                        received.duplicates += 1;
                    } else {
                        received.missing += seq - next_seq;
                        next_seq = seq + 1;
                    }
                }
                BenchEvent::Done { total } => {
                    received.missing += total.saturating_sub(next_seq);
                    break;
                }
                BenchEvent::Tick { .. } => {}
            },
            Ok(None) | Err(_) => {
                received.stalled = true;
                received.missing += expected.saturating_sub(next_seq);
                break;
            }
        }
    }
    received
}

pub(crate) fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1_000.0)
}

/// `1234567.8` as `1,234,568`.
pub(crate) fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Emits `total` probes to `channel`, one per tick of `ticks` (a late tick is made up at
/// once, so the average rate holds), then `Done`; returns when the first probe and the
/// last were sent, in nanoseconds after `base`.
pub(crate) async fn emit_stamps(
    channel: Channel<BenchEvent>,
    mut ticks: Interval,
    total: u64,
    base: Instant,
) -> Result<(u64, u64), BoxError> {
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut first_ns = None;
    for seq in 0..total {
        ticks.tick().await;
        let sent_ns = nanos_since(base);
        first_ns.get_or_insert(sent_ns);
        channel.emit(&BenchEvent::Stamp { seq, sent_ns }).await?;
    }
    let end_ns = nanos_since(base);
    channel.emit(&BenchEvent::Done { total }).await?;
    Ok((first_ns.unwrap_or(end_ns), end_ns))
}
