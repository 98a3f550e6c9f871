//! Throughput and fan-out benchmark of `realtime-core`.
//!
//! ```sh
//! cargo bench -p realtime-core --features redis --bench throughput            # full, ~1.5 min
//! cargo bench -p realtime-core --features redis --bench throughput -- --quick # ~15 s
//! BENCH_QUICK=1 cargo bench -p realtime-core --features redis --bench throughput
//! ```
//!
//! Needs Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`). Every key lives under a
//! fresh `bench:<pid>:<nanos>:` prefix, streams expire (`expire_after`) and are `UNLINK`ed
//! after each run; the benchmark never flushes a database.
//!
//! What it measures, on a multi-thread tokio runtime:
//!
//! 1. **Emit throughput** on Redis with 1, 16 and 256 concurrent emitters (tokio tasks
//!    sharing one `Realtime` and emitting a small struct-like event to one channel, each
//!    awaiting its emit before the next). Baseline, in the same process and with the same
//!    concurrency: hand-written `XADD <key> * data <json> event <name> channel <c>` +
//!    `PUBLISH <chan> <json>` as one `redis::pipe()` per event over one shared
//!    `ConnectionManager` (configured as the backend's); it publishes the same JSON
//!    message as ours minus the id, which a pipeline cannot know. Runs alternate
//!    baseline, ours, baseline, ours, ... because the machine is shared and noisy; the
//!    table reports the median run of each, the ratio ours / baseline, and the CPU time
//!    each emit cost this process and the Redis server (`/proc/self/stat` and
//!    `INFO cpu`), which is steadier than throughput on a busy machine and shows where the
//!    time goes. Each run also prints how many cores other processes kept busy meanwhile
//!    (`/proc/stat`), so a run disturbed by a neighbour can be told apart.
//! 2. **In-process fan-out**: 1,000 subscribers (`subscribe_all`) on one channel of one
//!    `Realtime`, on the memory backend and on Redis, with one emitter paced at 1,000
//!    events/s by `tokio::time::interval` (`MissedTickBehavior::Burst`: a late tick is
//!    made up at once, so the average rate holds). Each event carries its sequence number
//!    and its send time; every subscriber checks for missing and duplicate sequence numbers
//!    and records the emit-to-receive latency.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use realtime_core::Realtime;
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use redis::aio::ConnectionManager;
use serde::Serialize;
use tokio::sync::Barrier;
use tokio::time::MissedTickBehavior;

use common::{
    BenchEvent, BoxError, COMMAND_TIMEOUT, KEY_LIFETIME, TICK_TEXT, connection_config, machine_cpu,
    millis, nanos_since, percentile, process_cpu, server_cpu, spent, thousands, unique_prefix,
};

/// The baseline's data: the same JSON as `BenchEvent::Tick`'s.
#[derive(Serialize)]
struct TickData {
    text: String,
    n: u64,
}

const EMIT_CHANNEL: &str = "emit";
const FANOUT_CHANNEL: &str = "fanout";
const EMITTER_LEVELS: [usize; 3] = [1, 16, 256];
const SUBSCRIBERS: usize = 1_000;
const FANOUT_RATE: u64 = 1_000;

/// How long and how often each measurement runs.
#[derive(Clone, Copy, Debug)]
struct Plan {
    quick: bool,
    emit_run: Duration,
    emit_warmup: Duration,
    /// Runs of each side per concurrency level, alternating.
    emit_rounds: usize,
    fanout_run: Duration,
}

impl Plan {
    fn from_env() -> Self {
        let quick = common::quick_run();
        if quick {
            Plan {
                quick,
                emit_run: Duration::from_secs(1),
                emit_warmup: Duration::from_millis(200),
                emit_rounds: 1,
                fanout_run: Duration::from_secs(1),
            }
        } else {
            Plan {
                quick,
                emit_run: Duration::from_secs(2),
                emit_warmup: Duration::from_millis(500),
                emit_rounds: 5,
                fanout_run: Duration::from_secs(5),
            }
        }
    }
}

fn main() -> Result<(), BoxError> {
    let plan = Plan::from_env();
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let workers = runtime.metrics().num_workers();
    println!(
        "realtime-core throughput benchmark ({} run; {workers} tokio workers, {} CPUs; Redis at {url})",
        if plan.quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    runtime.block_on(run(plan, &url))
}

async fn run(plan: Plan, url: &str) -> Result<(), BoxError> {
    let prefix = unique_prefix();
    let client = redis::Client::open(url)?;
    let mut admin = client
        .get_connection_manager_with_config(connection_config())
        .await
        .map_err(|error| format!("Redis at {url} is needed for this benchmark: {error}"))?;

    let emit_rows = emit_benchmark(plan, url, &prefix, &client, &mut admin).await?;
    print_emit_table(plan, &emit_rows);

    let mut fanout_rows = Vec::new();
    fanout_rows.push(fan_out("memory", Realtime::memory(), plan).await?);
    let backend = redis_backend(url, &prefix).await?;
    let stream = backend.stream_key(FANOUT_CHANNEL);
    fanout_rows.push(fan_out("redis", Realtime::with_backend(backend), plan).await?);
    unlink(&mut admin, &stream).await?;
    print_fanout_table(plan, &fanout_rows);

    let failed = fanout_rows
        .iter()
        .any(|row| row.missing > 0 || row.duplicates > 0 || row.stalled > 0);
    if failed {
        return Err("fan-out lost, duplicated or stalled deliveries (see the table)".into());
    }
    Ok(())
}

async fn redis_backend(url: &str, prefix: &str) -> Result<RedisBackend, BoxError> {
    let options = RedisOptions::default()
        .key_prefix(prefix)
        .expire_after(KEY_LIFETIME)
        .command_timeout(COMMAND_TIMEOUT);
    Ok(RedisBackend::connect_with(url, options).await?)
}

async fn unlink(connection: &mut ConnectionManager, key: &str) -> Result<(), BoxError> {
    redis::cmd("UNLINK")
        .arg(key)
        .query_async::<()>(connection)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 1. Emit throughput
// ---------------------------------------------------------------------------------------

/// Who emits: this crate, or hand-written commands.
enum Emitter {
    Ours(realtime_core::Channel<BenchEvent>),
    Baseline {
        connection: ConnectionManager,
        key: String,
    },
}

impl Emitter {
    fn label(&self) -> &'static str {
        match self {
            Emitter::Ours(_) => "ours",
            Emitter::Baseline { .. } => "baseline",
        }
    }

    async fn emit(&self, n: u64) -> Result<(), BoxError> {
        match self {
            Emitter::Ours(channel) => {
                let event = BenchEvent::Tick {
                    text: TICK_TEXT.to_owned(),
                    n,
                };
                channel.emit(&event).await?;
            }
            Emitter::Baseline { connection, key } => {
                let data = serde_json::to_string(&TickData {
                    text: TICK_TEXT.to_owned(),
                    n,
                })?;
                let message =
                    format!(r#"{{"data":{data},"event":"bench.tick","channel":"{EMIT_CHANNEL}"}}"#);
                let mut connection = connection.clone();
                redis::pipe()
                    .cmd("XADD")
                    .arg(key)
                    .arg("*")
                    .arg("data")
                    .arg(&data)
                    .arg("event")
                    .arg("bench.tick")
                    .arg("channel")
                    .arg(EMIT_CHANNEL)
                    .ignore()
                    .cmd("PUBLISH")
                    .arg(key)
                    .arg(&message)
                    .ignore()
                    .query_async::<()>(&mut connection)
                    .await?;
            }
        }
        Ok(())
    }
}

/// One timed run of `emitters` concurrent tasks.
#[derive(Clone, Copy, Debug)]
struct EmitRun {
    emits: u64,
    errors: u64,
    elapsed: Duration,
    /// CPU time of this process (every thread) during the run, when readable.
    client_cpu: Option<Duration>,
    /// CPU time of the Redis server during the run (`INFO cpu`; includes other clients').
    server_cpu: Option<Duration>,
    /// CPU time the whole machine was busy during the run, when readable.
    machine_cpu: Option<Duration>,
}

impl EmitRun {
    fn per_second(&self) -> f64 {
        self.emits as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU microseconds per emit: (this process, Redis).
    fn cpu_per_emit(&self) -> Option<(f64, f64)> {
        let per_emit = |cpu: Duration| cpu.as_secs_f64() * 1e6 / self.emits.max(1) as f64;
        Some((per_emit(self.client_cpu?), per_emit(self.server_cpu?)))
    }

    /// The cores other processes kept busy during the run: the noise on a shared machine.
    fn other_load(&self) -> Option<f64> {
        let ours = self.client_cpu? + self.server_cpu?;
        let others = self.machine_cpu?.saturating_sub(ours);
        Some(others.as_secs_f64() / self.elapsed.as_secs_f64())
    }
}

/// Runs `emitters` tasks that emit back to back for `duration`; every emit started before
/// the deadline is awaited and counted.
async fn emit_run(
    target: &Arc<Emitter>,
    emitters: usize,
    duration: Duration,
    admin: &mut ConnectionManager,
) -> Result<EmitRun, BoxError> {
    let stop = Arc::new(AtomicBool::new(false));
    let start_line = Arc::new(Barrier::new(emitters + 1));
    let mut tasks = Vec::with_capacity(emitters);
    for task in 0..emitters {
        let (target, stop, start_line) = (
            Arc::clone(target),
            Arc::clone(&stop),
            Arc::clone(&start_line),
        );
        tasks.push(tokio::spawn(async move {
            start_line.wait().await;
            let (mut emits, mut errors) = (0_u64, 0_u64);
            let mut first_error = None;
            while !stop.load(Ordering::Relaxed) {
                match target.emit((task as u64) << 32 | emits).await {
                    Ok(()) => emits += 1,
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert(error.to_string());
                    }
                }
            }
            (emits, errors, first_error)
        }));
    }
    let (client_before, server_before) = (process_cpu(), server_cpu(admin).await);
    let machine_before = machine_cpu();
    start_line.wait().await;
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut run = EmitRun {
        emits: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        client_cpu: None,
        server_cpu: None,
        machine_cpu: None,
    };
    for task in tasks {
        let (emits, errors, first_error) = task.await?;
        run.emits += emits;
        run.errors += errors;
        if let Some(error) = first_error {
            eprintln!("  {} emit failed: {error}", target.label());
        }
    }
    run.elapsed = started.elapsed();
    run.machine_cpu = spent(machine_before, machine_cpu());
    run.client_cpu = spent(client_before, process_cpu());
    run.server_cpu = spent(server_before, server_cpu(admin).await);
    Ok(run)
}

/// The runs of both sides at one concurrency level.
#[derive(Debug)]
struct EmitRow {
    emitters: usize,
    baseline: Vec<EmitRun>,
    ours: Vec<EmitRun>,
}

fn median(runs: &[EmitRun]) -> f64 {
    common::median(runs.iter().map(EmitRun::per_second).collect())
}

fn best(runs: &[EmitRun]) -> f64 {
    runs.iter().map(EmitRun::per_second).fold(0.0, f64::max)
}

/// The median CPU cost per emit over `runs`: (this process, Redis), in microseconds.
fn median_cpu(runs: &[EmitRun]) -> Option<(f64, f64)> {
    let costs: Option<Vec<(f64, f64)>> = runs.iter().map(EmitRun::cpu_per_emit).collect();
    let (mut client, mut server): (Vec<f64>, Vec<f64>) = costs?.into_iter().unzip();
    client.sort_by(f64::total_cmp);
    server.sort_by(f64::total_cmp);
    Some((
        *client.get(client.len() / 2)?,
        *server.get(server.len() / 2)?,
    ))
}

fn cpu_cell(cost: Option<(f64, f64)>) -> String {
    cost.map_or_else(
        || "n/a".to_owned(),
        |(client, server)| format!("{client:.1} + {server:.1} µs CPU"),
    )
}

async fn emit_benchmark(
    plan: Plan,
    url: &str,
    prefix: &str,
    client: &redis::Client,
    admin: &mut ConnectionManager,
) -> Result<Vec<EmitRow>, BoxError> {
    let backend = redis_backend(url, prefix).await?;
    let ours_key = backend.stream_key(EMIT_CHANNEL);
    let realtime = Realtime::<BenchEvent>::with_backend(backend);
    let ours = Arc::new(Emitter::Ours(realtime.channel(EMIT_CHANNEL)));
    let baseline_key = format!("{prefix}baseline:{EMIT_CHANNEL}");
    let baseline = Arc::new(Emitter::Baseline {
        connection: client
            .get_connection_manager_with_config(connection_config())
            .await?,
        key: baseline_key.clone(),
    });

    println!(
        "\nemit: {} s per run, {} run(s) of each side per level, alternating baseline/ours",
        plan.emit_run.as_secs_f64(),
        plan.emit_rounds
    );
    let mut rows = Vec::new();
    for emitters in EMITTER_LEVELS {
        // Warm up both sides (connections, the script cache, the allocator).
        for target in [&baseline, &ours] {
            emit_run(target, emitters, plan.emit_warmup, admin).await?;
        }
        let mut row = EmitRow {
            emitters,
            baseline: Vec::new(),
            ours: Vec::new(),
        };
        for _ in 0..plan.emit_rounds {
            for target in [&baseline, &ours] {
                let run = emit_run(target, emitters, plan.emit_run, admin).await?;
                println!(
                    "  {emitters:>3} emitters  {:<8} {:>9.0} emits/s  ({} emits in {:.2} s; {}; \
                     other processes: {} cores{})",
                    target.label(),
                    run.per_second(),
                    run.emits,
                    run.elapsed.as_secs_f64(),
                    cpu_cell(run.cpu_per_emit()),
                    run.other_load()
                        .map_or_else(|| "n/a".to_owned(), |cores| format!("{cores:.2}")),
                    if run.errors > 0 {
                        format!(", {} ERRORS", run.errors)
                    } else {
                        String::new()
                    },
                );
                match &**target {
                    Emitter::Ours(_) => row.ours.push(run),
                    Emitter::Baseline { .. } => row.baseline.push(run),
                }
                // Keep Redis' memory flat between runs.
                unlink(admin, &ours_key).await?;
                unlink(admin, &baseline_key).await?;
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn print_emit_table(plan: Plan, rows: &[EmitRow]) {
    println!(
        "\nEmit throughput, Redis, one channel ({} s runs; median of {} alternating runs each)",
        plan.emit_run.as_secs_f64(),
        plan.emit_rounds
    );
    println!(
        "| emitters | baseline emits/s | ours emits/s | ours / baseline (median) | ours / baseline (best) \
         | CPU per emit, baseline (bench process + Redis) | CPU per emit, ours (bench process + Redis) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let (baseline, ours) = (median(&row.baseline), median(&row.ours));
        let errors: u64 = row
            .baseline
            .iter()
            .chain(&row.ours)
            .map(|run| run.errors)
            .sum();
        println!(
            "| {} | {} | {} | {:.0}% | {:.0}% | {} | {} |{}",
            row.emitters,
            thousands(baseline),
            thousands(ours),
            100.0 * ours / baseline,
            100.0 * best(&row.ours) / best(&row.baseline),
            cpu_cell(median_cpu(&row.baseline)),
            cpu_cell(median_cpu(&row.ours)),
            if errors > 0 {
                format!(" {errors} errors")
            } else {
                String::new()
            },
        );
    }
    let others: Vec<f64> = rows
        .iter()
        .flat_map(|row| row.baseline.iter().chain(&row.ours))
        .filter_map(EmitRun::other_load)
        .collect();
    if !others.is_empty() {
        println!(
            "Other processes kept {:.2} to {:.2} of the cores busy during these runs.",
            others.iter().copied().fold(f64::INFINITY, f64::min),
            others.iter().copied().fold(0.0, f64::max),
        );
    }
}

// ---------------------------------------------------------------------------------------
// 2. In-process fan-out
// ---------------------------------------------------------------------------------------

/// One fan-out run.
#[derive(Debug)]
struct FanOutRow {
    backend: &'static str,
    subscribers: usize,
    emitted: u64,
    emit_rate: f64,
    deliveries: u64,
    deliveries_per_second: f64,
    missing: u64,
    duplicates: u64,
    stalled: usize,
    catch_ups: u64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

async fn fan_out(
    backend: &'static str,
    realtime: Realtime<BenchEvent>,
    plan: Plan,
) -> Result<FanOutRow, BoxError> {
    let channel = realtime.channel(FANOUT_CHANNEL);
    let total = FANOUT_RATE * plan.fanout_run.as_millis() as u64 / 1_000;
    let base = Instant::now();
    let mut subscribers = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let subscription = channel.subscribe_all().await?;
        subscribers.push(tokio::spawn(common::receive(subscription, total, base)));
    }

    let emitter = tokio::spawn({
        let channel = channel.clone();
        async move {
            let mut ticks =
                tokio::time::interval(Duration::from_nanos(1_000_000_000 / FANOUT_RATE));
            ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
            let mut first_ns = None;
            for seq in 0..total {
                ticks.tick().await;
                let sent_ns = nanos_since(base);
                first_ns.get_or_insert(sent_ns);
                channel.emit(&BenchEvent::Stamp { seq, sent_ns }).await?;
            }
            let emit_end_ns = nanos_since(base);
            channel.emit(&BenchEvent::Done { total }).await?;
            Ok::<_, BoxError>((first_ns.unwrap_or(emit_end_ns), emit_end_ns))
        }
    });
    let (first_ns, emit_end_ns) = emitter.await??;

    let mut latencies = Vec::with_capacity(SUBSCRIBERS * total as usize);
    let (mut missing, mut duplicates, mut stalled, mut last_ns) = (0, 0, 0, first_ns);
    for subscriber in subscribers {
        let mut received = subscriber.await?;
        latencies.append(&mut received.latencies_ns);
        missing += received.missing;
        duplicates += received.duplicates;
        stalled += usize::from(received.stalled);
        last_ns = last_ns.max(received.last_receive_ns);
    }
    latencies.sort_unstable();
    let deliveries = latencies.len() as u64;
    let row = FanOutRow {
        backend,
        subscribers: SUBSCRIBERS,
        emitted: total,
        emit_rate: total as f64 / Duration::from_nanos(emit_end_ns - first_ns).as_secs_f64(),
        deliveries,
        deliveries_per_second: deliveries as f64
            / Duration::from_nanos(last_ns - first_ns).as_secs_f64(),
        missing,
        duplicates,
        stalled,
        catch_ups: realtime.stats().catch_ups,
        p50: percentile(&latencies, 50),
        p99: percentile(&latencies, 99),
        max: Duration::from_nanos(latencies.last().copied().unwrap_or(0)),
    };
    println!(
        "\nfan-out on {backend}: {} events to {} subscribers, {} deliveries",
        row.emitted, row.subscribers, row.deliveries
    );
    Ok(row)
}

fn print_fanout_table(plan: Plan, rows: &[FanOutRow]) {
    println!(
        "\nIn-process fan-out: {SUBSCRIBERS} subscribers on one channel, one emitter paced at \
         {FANOUT_RATE}/s for {} s (interval, MissedTickBehavior::Burst)",
        plan.fanout_run.as_secs_f64()
    );
    println!(
        "| backend | emitted | emit rate /s | deliveries | deliveries/s | missing | duplicates | stalled | catch-ups | p50 | p99 | max |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.backend,
            row.emitted,
            row.emit_rate,
            thousands(row.deliveries as f64),
            thousands(row.deliveries_per_second),
            row.missing,
            row.duplicates,
            row.stalled,
            row.catch_ups,
            millis(row.p50),
            millis(row.p99),
            millis(row.max),
        );
    }
}
