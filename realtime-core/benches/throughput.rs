//! Throughput and fan-out benchmark of `realtime-core`.
//!
//! ```sh
//! cargo bench -p realtime-core --features redis --bench throughput            # full, ~5 min
//! cargo bench -p realtime-core --features redis --bench throughput -- --quick # ~40 s
//! BENCH_QUICK=1 cargo bench -p realtime-core --features redis --bench throughput
//! # only some emit levels, no fan-out: BENCH_EMITTERS=1,16 BENCH_CHANNELS=1 BENCH_ROUNDS=3
//! # with the floors as two more sides, the bare and the batched script: BENCH_BARE_SCRIPT=1
//! # (the batched script's batches in flight: BENCH_FLOOR_IN_FLIGHT, default 4)
//! # only the sides whose names start so (per-run lines, no table; e.g. under callgrind):
//! #   BENCH_SIDES=group,bare
//! ```
//!
//! Needs Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`). Every key lives under a
//! fresh `bench:<pid>:<nanos>:` prefix, streams expire (`expire_after`) and are `UNLINK`ed
//! after each run; the benchmark never flushes a database.
//!
//! What it measures, on a multi-thread tokio runtime:
//!
//! 1. **Emit throughput** on Redis with 1, 16, 256 and 1,024 concurrent emitters (tokio
//!    tasks sharing one backend and emitting a small struct-like event, each awaiting its
//!    emit before the next), to one channel and spread round-robin over 1,000 channels.
//!    Three sides, in the same process and at the same concurrency:
//!    - **naive pipeline**: hand-written `XADD <key> * data <json> event <name> channel <c>`
//!      and `PUBLISH <chan> <json>` as one `redis::pipe()` per event over one shared
//!      `ConnectionManager` (configured as the backend's); it publishes the same JSON
//!      message as ours minus the id, which a pipeline cannot know;
//!    - **per-emit script**: this crate with `RedisOptions::group_commit(false)`, one
//!      script call per emit;
//!    - **group commit**: this crate as configured by default, concurrent emits sharing
//!      script calls;
//!    - with `BENCH_BARE_SCRIPT=1`, a fourth, **bare script**: hand-written `EVALSHA` of
//!      the emit script a lone emit goes to (`emit_one_event.lua`, with the settings the
//!      backends write in) per event,
//!      one entry each, over a `ConnectionManager` like the naive pipeline's: what one
//!      round trip through the script costs with nothing of this crate around it (no
//!      validation, no lane, no reply parsing), the floor of an emit that pays a script
//!      call of its own (a lone emitter's);
//!    - with it, a fifth, **batched script**: the same script's calls shared by concurrent
//!      emits through the least group commit that keeps an emit's guarantees (see
//!      `batched_script/mod.rs`): what group commit's calls cost with nothing of this
//!      crate around them, the floor where batches form.
//!
//!    Runs alternate between the sides because the machine is shared and noisy; the table
//!    reports the median run of each, the ratios to the naive pipeline, the CPU time each
//!    emit cost this process and the Redis server (`/proc/self/stat` and `INFO cpu`),
//!    which is steadier than throughput on a busy machine, and with one emitter the
//!    latency of each emit (p50, p99). Each run also prints how many cores other processes
//!    kept busy meanwhile (`/proc/stat`), so a run disturbed by a neighbour can be told
//!    apart.
//! 2. **In-process fan-out**: 1,000 subscribers (`subscribe_all`) on one channel of one
//!    `Realtime`, on the memory backend and on Redis, with one emitter paced at 1,000
//!    events/s by `tokio::time::interval` (`MissedTickBehavior::Burst`: a late tick is
//!    made up at once, so the average rate holds). Each event carries its sequence number
//!    and its send time; every subscriber checks for missing and duplicate sequence numbers
//!    and records the emit-to-receive latency.

mod batched_script;
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use realtime_core::Realtime;
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use redis::aio::ConnectionManager;
use serde::Serialize;
use tokio::sync::Barrier;

use batched_script::BatchedScript;
use common::{
    BenchEvent, BoxError, COMMAND_TIMEOUT, KEY_LIFETIME, TICK_TEXT, connection_config, machine_cpu,
    millis, percentile, process_cpu, server_cpu, spent, thousands, unique_prefix,
};

/// The baseline's data: the same JSON as `BenchEvent::Tick`'s.
#[derive(Serialize)]
struct TickData {
    text: String,
    n: u64,
}

const EMIT_CHANNEL: &str = "emit";
const FANOUT_CHANNEL: &str = "fanout";
const EMITTER_LEVELS: [usize; 4] = [1, 16, 256, 1_024];
/// Emits go to one channel, or round-robin over 1,000.
const CHANNEL_SPREADS: [usize; 2] = [1, 1_000];
const SUBSCRIBERS: usize = 1_000;
/// The emit script of a lone emit, for the bare-script side, with the settings line the
/// backends write their settings into (see `EmitScript` in `src/backend/redis/emit.rs`).
const EMIT_LUA: &str = include_str!("../src/backend/redis/emit_one_event.lua");
const EMIT_LUA_SETTINGS: &str = "local publish, max_len, trim, expire_secs, grouped, name_from, name_to = 'PUBLISH', '0', '=', '0', '1', 1, -1 -- settings";
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
        let rounds = std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|rounds| rounds.parse().ok());
        let plan = if quick {
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
        };
        Plan {
            emit_rounds: rounds.unwrap_or(plan.emit_rounds).max(1),
            ..plan
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
    if std::env::var("BENCH_SIDES").is_err() {
        print_emit_table(plan, &emit_rows);
    }
    if env_list("BENCH_EMITTERS").is_some() || env_list("BENCH_CHANNELS").is_some() {
        // A partial run, to compare emit configurations: no fan-out.
        return Ok(());
    }

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

/// Whether `target` runs: all sides run unless `BENCH_SIDES` lists the starts of the
/// names of those to run (`naive`, `per-emit`, `group`, `bare`).
fn chosen(target: &Emitter) -> bool {
    std::env::var("BENCH_SIDES").map_or(true, |sides| {
        sides
            .split(',')
            .any(|side| target.label().starts_with(side.trim()))
    })
}

/// Whether the floors run as two more sides, the bare and the batched script call
/// (`BENCH_BARE_SCRIPT=1`).
fn bare_script() -> bool {
    std::env::var("BENCH_BARE_SCRIPT").is_ok_and(|value| value == "1")
}

/// A comma-separated list of numbers from the environment (a partial run), if set.
fn env_list(name: &str) -> Option<Vec<usize>> {
    let text = std::env::var(name).ok()?;
    let list: Vec<usize> = text
        .split(',')
        .filter_map(|item| item.trim().parse().ok())
        .collect();
    (!list.is_empty()).then_some(list)
}

async fn redis_backend(url: &str, prefix: &str) -> Result<RedisBackend, BoxError> {
    redis_backend_with(url, prefix, true).await
}

async fn redis_backend_with(
    url: &str,
    prefix: &str,
    group_commit: bool,
) -> Result<RedisBackend, BoxError> {
    let options = RedisOptions::default()
        .key_prefix(prefix)
        .expire_after(KEY_LIFETIME)
        .command_timeout(COMMAND_TIMEOUT)
        .group_commit(group_commit);
    Ok(RedisBackend::connect_with(url, options).await?)
}

async fn unlink(connection: &mut ConnectionManager, key: &str) -> Result<(), BoxError> {
    unlink_all(connection, std::slice::from_ref(&key.to_owned())).await
}

async fn unlink_all(connection: &mut ConnectionManager, keys: &[String]) -> Result<(), BoxError> {
    for chunk in keys.chunks(500) {
        redis::cmd("UNLINK")
            .arg(chunk)
            .query_async::<()>(connection)
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 1. Emit throughput
// ---------------------------------------------------------------------------------------

/// Who emits: this crate (one script call per emit, or group commit), or hand-written
/// commands.
enum Emitter {
    Ours {
        label: &'static str,
        channels: Vec<realtime_core::Channel<BenchEvent>>,
    },
    Baseline {
        connection: ConnectionManager,
        /// (stream key, channel name) per channel.
        keys: Vec<(String, String)>,
    },
    /// The emit script called by hand, one entry per call.
    BareScript {
        connection: ConnectionManager,
        /// The script's SHA, loaded.
        sha: String,
        /// (stream key, channel name) per channel.
        keys: Vec<(String, String)>,
    },
    /// The same script's calls shared by concurrent emits, by the least group commit.
    BatchedScript(Arc<BatchedScript>),
}

impl Emitter {
    fn label(&self) -> &'static str {
        match self {
            Emitter::Ours { label, .. } => label,
            Emitter::Baseline { .. } => "naive pipeline",
            Emitter::BareScript { .. } => "bare script",
            Emitter::BatchedScript(_) => "batched script",
        }
    }

    /// Gets ready for a run of `emitters` tasks.
    fn prepare(&self, emitters: usize) {
        if let Emitter::BatchedScript(batcher) = self {
            batcher.set_emitters(emitters);
        }
    }

    /// Emit `n` of task `task`: to channel `(task + n) % channels`.
    async fn emit(&self, task: usize, n: u64) -> Result<(), BoxError> {
        match self {
            Emitter::Ours { channels, .. } => {
                let channel = &channels[(task + n as usize) % channels.len()];
                let event = BenchEvent::Tick {
                    text: TICK_TEXT.to_owned(),
                    n,
                };
                channel.emit(&event).await?;
            }
            Emitter::Baseline { connection, keys } => {
                let (key, name) = &keys[(task + n as usize) % keys.len()];
                let data = serde_json::to_string(&TickData {
                    text: TICK_TEXT.to_owned(),
                    n,
                })?;
                let message =
                    format!(r#"{{"data":{data},"event":"bench.tick","channel":"{name}"}}"#);
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
                    .arg(name)
                    .ignore()
                    .cmd("PUBLISH")
                    .arg(key)
                    .arg(&message)
                    .ignore()
                    .query_async::<()>(&mut connection)
                    .await?;
            }
            Emitter::BareScript {
                connection,
                sha,
                keys,
            } => {
                let (key, _) = &keys[(task + n as usize) % keys.len()];
                let data = serde_json::to_string(&TickData {
                    text: TICK_TEXT.to_owned(),
                    n,
                })?;
                // One stream (see `emit_one_event.lua`): its key, the event, the data (the
                // script finds the name in the key).
                let mut connection = connection.clone();
                redis::cmd("EVALSHA")
                    .arg(sha)
                    .arg(1)
                    .arg(key)
                    .arg("bench.tick")
                    .arg(&data)
                    .query_async::<String>(&mut connection)
                    .await?;
            }
            Emitter::BatchedScript(batcher) => {
                let channel = (task + n as usize) % batcher.channels();
                let data = serde_json::to_string(&TickData {
                    text: TICK_TEXT.to_owned(),
                    n,
                })?;
                batcher.emit(channel, data).await?;
            }
        }
        Ok(())
    }
}

/// One timed run of `emitters` concurrent tasks.
#[derive(Clone, Debug)]
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
    /// With one emitter: each emit's latency, sorted.
    latencies: Vec<Duration>,
    /// Script calls (`EVALSHA` and `EVAL`) Redis ran during the run, when readable.
    script_calls: Option<u64>,
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
    target.prepare(emitters);
    let stop = Arc::new(AtomicBool::new(false));
    let start_line = Arc::new(Barrier::new(emitters + 1));
    let timed = emitters == 1;
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
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = timed.then(Instant::now);
                match target.emit(task, (task as u64) << 32 | emits).await {
                    Ok(()) => emits += 1,
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert(error.to_string());
                    }
                }
                if let Some(started) = started {
                    latencies.push(started.elapsed());
                }
            }
            (emits, errors, first_error, latencies)
        }));
    }
    let calls_before = script_calls(admin).await;
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
        latencies: Vec::new(),
        script_calls: None,
    };
    for task in tasks {
        let (emits, errors, first_error, latencies) = task.await?;
        run.emits += emits;
        run.errors += errors;
        run.latencies.extend(latencies);
        if let Some(error) = first_error {
            eprintln!("  {} emit failed: {error}", target.label());
        }
    }
    run.elapsed = started.elapsed();
    run.machine_cpu = spent(machine_before, machine_cpu());
    run.client_cpu = spent(client_before, process_cpu());
    run.server_cpu = spent(server_before, server_cpu(admin).await);
    // (less the one `INFO` call of each reading, which is no script)
    run.script_calls = calls_before
        .zip(script_calls(admin).await)
        .map(|(before, after)| after.saturating_sub(before));
    run.latencies.sort();
    Ok(run)
}

/// How many script calls Redis has run (`INFO commandstats`: `evalsha` and `eval`), when
/// readable: emits per call is the mean batch of group commit.
async fn script_calls(connection: &mut ConnectionManager) -> Option<u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(connection)
        .await
        .ok()?;
    let calls = info
        .lines()
        .filter(|line| line.starts_with("cmdstat_evalsha:") || line.starts_with("cmdstat_eval:"))
        .filter_map(|line| {
            let rest = line.split_once("calls=")?.1;
            rest.split(',').next()?.parse::<u64>().ok()
        })
        .sum();
    Some(calls)
}

/// The runs of the sides at one concurrency level and channel spread.
#[derive(Debug)]
struct EmitRow {
    channels: usize,
    emitters: usize,
    /// Naive pipeline, per-emit script, group commit, and the bare script when asked.
    sides: Vec<Vec<EmitRun>>,
}

fn median(runs: &[EmitRun]) -> f64 {
    common::median(runs.iter().map(EmitRun::per_second).collect())
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
        |(client, server)| format!("{client:.1} + {server:.1}"),
    )
}

/// The latency of single emits over `runs` (one emitter), as "p50 / p99".
fn latency_cell(runs: &[EmitRun]) -> String {
    let mut all: Vec<u64> = runs
        .iter()
        .flat_map(|run| run.latencies.iter())
        .map(|latency| u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX))
        .collect();
    if all.is_empty() {
        return "-".to_owned();
    }
    all.sort_unstable();
    format!(
        "{} / {}",
        millis(percentile(&all, 50)),
        millis(percentile(&all, 99))
    )
}

async fn emit_benchmark(
    plan: Plan,
    url: &str,
    prefix: &str,
    client: &redis::Client,
    admin: &mut ConnectionManager,
) -> Result<Vec<EmitRow>, BoxError> {
    println!(
        "\nemit: {} s per run, {} run(s) of each side per level, alternating naive pipeline / \
         per-emit script / group commit",
        plan.emit_run.as_secs_f64(),
        plan.emit_rounds
    );
    let levels = env_list("BENCH_EMITTERS").unwrap_or(EMITTER_LEVELS.to_vec());
    let mut rows = Vec::new();
    for spread in env_list("BENCH_CHANNELS").unwrap_or(CHANNEL_SPREADS.to_vec()) {
        let names: Vec<String> = if spread == 1 {
            vec![EMIT_CHANNEL.to_owned()]
        } else {
            (0..spread)
                .map(|index| format!("{EMIT_CHANNEL}-{index}"))
                .collect()
        };
        let per_emit = redis_backend_with(url, &format!("{prefix}per-emit:"), false).await?;
        let grouped = redis_backend_with(url, &format!("{prefix}grouped:"), true).await?;
        let mut keys: Vec<String> = Vec::new();
        let mut sides = Vec::new();
        let baseline_keys: Vec<(String, String)> = names
            .iter()
            .map(|name| (format!("{prefix}baseline:{name}"), name.clone()))
            .collect();
        keys.extend(baseline_keys.iter().map(|(key, _)| key.clone()));
        sides.push(Arc::new(Emitter::Baseline {
            connection: client
                .get_connection_manager_with_config(connection_config())
                .await?,
            keys: baseline_keys,
        }));
        for (label, backend) in [("per-emit script", per_emit), ("group commit", grouped)] {
            keys.extend(names.iter().map(|name| backend.stream_key(name)));
            let realtime = Realtime::<BenchEvent>::with_backend(backend);
            sides.push(Arc::new(Emitter::Ours {
                label,
                channels: names
                    .iter()
                    .map(|name| realtime.channel(name.as_str()))
                    .collect(),
            }));
        }
        if bare_script() {
            let bare_keys: Vec<(String, String)> = names
                .iter()
                .map(|name| (format!("{prefix}bare:{name}"), name.clone()))
                .collect();
            keys.extend(bare_keys.iter().map(|(key, _)| key.clone()));
            // As a backend with `expire_after(KEY_LIFETIME)` writes its settings in.
            // (the name follows `<prefix>bare:` in the key)
            let text = EMIT_LUA.replacen(
                EMIT_LUA_SETTINGS,
                &format!(
                    "local publish, max_len, trim, expire_secs, grouped, name_from, name_to = \
                     'PUBLISH', '0', '=', '{}', '1', {}, -1 -- settings",
                    KEY_LIFETIME.as_secs() + 1,
                    prefix.len() + "bare:".len() + 1
                ),
                1,
            );
            let mut connection = client
                .get_connection_manager_with_config(connection_config())
                .await?;
            let sha: String = redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(&text)
                .query_async(&mut connection)
                .await?;
            let batched_keys: Vec<String> = names
                .iter()
                // (as long as `bare:`, so that the script finds the name at the same place)
                .map(|name| format!("{prefix}bulk:{name}"))
                .collect();
            keys.extend(batched_keys.iter().cloned());
            let batcher = BatchedScript::new(connection.clone(), sha.clone(), batched_keys);
            sides.push(Arc::new(Emitter::BareScript {
                connection,
                sha,
                keys: bare_keys,
            }));
            sides.push(Arc::new(Emitter::BatchedScript(Arc::new(batcher))));
        }
        for &emitters in &levels {
            // Warm up every side (connections, the script cache, the allocator).
            for target in &sides {
                if !chosen(target) {
                    continue;
                }
                emit_run(target, emitters, plan.emit_warmup, admin).await?;
            }
            let mut row = EmitRow {
                channels: spread,
                emitters,
                sides: sides.iter().map(|_| Vec::new()).collect(),
            };
            for _ in 0..plan.emit_rounds {
                for (side, target) in sides.iter().enumerate() {
                    if !chosen(target) {
                        continue;
                    }
                    let run = emit_run(target, emitters, plan.emit_run, admin).await?;
                    println!(
                        "  {spread:>4} channels {emitters:>5} emitters  {:<16} {:>9.0} emits/s  \
                         ({} emits in {:.2} s; CPU per emit {} µs; other processes: {} cores; \
                         emits per script call: {}{})",
                        target.label(),
                        run.per_second(),
                        run.emits,
                        run.elapsed.as_secs_f64(),
                        cpu_cell(run.cpu_per_emit()),
                        run.other_load()
                            .map_or_else(|| "n/a".to_owned(), |cores| format!("{cores:.2}")),
                        match run.script_calls {
                            Some(calls) if calls > 0 =>
                                format!("{:.1}", run.emits as f64 / calls as f64),
                            _ => "-".to_owned(),
                        },
                        if run.errors > 0 {
                            format!(", {} ERRORS", run.errors)
                        } else {
                            String::new()
                        },
                    );
                    row.sides[side].push(run);
                    // Keep Redis' memory flat between runs.
                    unlink_all(admin, &keys).await?;
                }
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

fn print_emit_table(plan: Plan, rows: &[EmitRow]) {
    println!(
        "\nEmit throughput, Redis ({} s runs; median of {} alternating runs each; CPU per emit \
         in µs: bench process + Redis)",
        plan.emit_run.as_secs_f64(),
        plan.emit_rounds
    );
    println!(
        "| channels | emitters | naive pipeline emits/s | per-emit script | group commit \
         | group / naive | CPU naive | CPU per-emit script | CPU group commit \
         | latency, one emitter (p50 / p99): naive, per-emit, group |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for row in rows {
        let [naive, per_emit, grouped, ..] = &row.sides[..] else {
            continue;
        };
        let errors: u64 = row.sides.iter().flatten().map(|run| run.errors).sum();
        println!(
            "| {} | {} | {} | {} ({:.0}%) | {} | {:.0}% | {} | {} | {} | {}{}",
            row.channels,
            thousands(row.emitters as f64),
            thousands(median(naive)),
            thousands(median(per_emit)),
            100.0 * median(per_emit) / median(naive),
            thousands(median(grouped)),
            100.0 * median(grouped) / median(naive),
            cpu_cell(median_cpu(naive)),
            cpu_cell(median_cpu(per_emit)),
            cpu_cell(median_cpu(grouped)),
            if row.emitters == 1 {
                format!(
                    "{}; {}; {} |",
                    latency_cell(naive),
                    latency_cell(per_emit),
                    latency_cell(grouped)
                )
            } else {
                "- |".to_owned()
            },
            if errors > 0 {
                format!(" {errors} errors")
            } else {
                String::new()
            },
        );
    }
    if rows.iter().any(|row| row.sides.len() > 3) {
        println!(
            "\nThe floors: the bare script call (one entry per `EVALSHA`, nothing of this crate \
             around it) and the batched script (the same script's calls shared by the least \
             group commit, see benches/batched_script)\n\
             | channels | emitters | bare script emits/s | bare / naive | group / bare \
             | batched script emits/s | batched / naive | group / batched \
             | CPU bare script | CPU batched script | latency, one emitter (p50 / p99): bare |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for row in rows {
            let [naive, _, grouped, bare, batched, ..] = &row.sides[..] else {
                continue;
            };
            println!(
                "| {} | {} | {} | {:.0}% | {:.0}% | {} | {:.0}% | {:.0}% | {} | {} | {} |",
                row.channels,
                thousands(row.emitters as f64),
                thousands(median(bare)),
                100.0 * median(bare) / median(naive),
                100.0 * median(grouped) / median(bare),
                thousands(median(batched)),
                100.0 * median(batched) / median(naive),
                100.0 * median(grouped) / median(batched),
                cpu_cell(median_cpu(bare)),
                cpu_cell(median_cpu(batched)),
                if row.emitters == 1 {
                    latency_cell(bare)
                } else {
                    "-".to_owned()
                },
            );
        }
    }
    let others: Vec<f64> = rows
        .iter()
        .flat_map(|row| row.sides.iter().flatten())
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

    let emitter = tokio::spawn(common::emit_stamps(
        channel.clone(),
        tokio::time::interval(Duration::from_nanos(1_000_000_000 / FANOUT_RATE)),
        total,
        base,
    ));
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
