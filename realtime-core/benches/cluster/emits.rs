//! Timed runs of concurrent emitters over many channels, and their per-run figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use realtime_core::backend::redis::RedisBackend;
use realtime_core::{Channel, Realtime};
use tokio::sync::Barrier;

use crate::Plan;
use crate::common::{self, BenchEvent, BoxError, TICK_TEXT, millis, percentile, thousands};
use crate::servers::{Placement, Role, Servers, Usage};

/// Who emits in a comparison: one backend's channels.
pub(crate) struct Target {
    pub(crate) label: String,
    pub(crate) channels: Arc<Vec<Channel<BenchEvent>>>,
    pub(crate) placement: Arc<Placement>,
    /// The servers whose CPU counts as replication (the cluster's replicas).
    pub(crate) replicas: Vec<usize>,
}

impl Target {
    pub(crate) fn new(
        label: impl Into<String>,
        backend: RedisBackend,
        names: &[String],
        placement: &Arc<Placement>,
        replicas: Vec<usize>,
    ) -> Self {
        let realtime = Realtime::<BenchEvent>::with_backend(backend);
        Target {
            label: label.into(),
            channels: Arc::new(names.iter().map(|name| realtime.channel(name)).collect()),
            placement: Arc::clone(placement),
            replicas,
        }
    }

    /// The same channels under another label.
    pub(crate) fn relabel(&self, label: &str) -> Self {
        Target {
            label: label.to_owned(),
            channels: Arc::clone(&self.channels),
            placement: Arc::clone(&self.placement),
            replicas: self.replicas.clone(),
        }
    }
}

/// One timed run of concurrent emitters.
pub(crate) struct EmitRun {
    pub(crate) emits: u64,
    pub(crate) errors: u64,
    /// Emits per owner (index into the placement's owners).
    pub(crate) per_owner: Vec<u64>,
    /// Each successful emit's duration, sorted.
    pub(crate) latencies_ns: Vec<u64>,
    pub(crate) elapsed: Duration,
    pub(crate) usage: Usage,
}

impl EmitRun {
    pub(crate) fn per_second(&self) -> f64 {
        self.emits as f64 / self.elapsed.as_secs_f64()
    }

    fn micros_per(&self, cpu: Option<Duration>, emits: u64) -> Option<f64> {
        Some(cpu?.as_secs_f64() * 1e6 / emits.max(1) as f64)
    }

    /// CPU µs of this process per emit.
    pub(crate) fn process_us(&self) -> Option<f64> {
        self.micros_per(self.usage.process, self.emits)
    }

    /// CPU µs of `servers` together per emit.
    pub(crate) fn servers_us(&self, servers: &[usize]) -> Option<f64> {
        if servers.is_empty() {
            return None;
        }
        self.micros_per(self.usage.of(servers), self.emits)
    }

    /// CPU µs of the `owner`th owner per emit it served.
    pub(crate) fn owner_us(&self, placement: &Placement, owner: usize) -> Option<f64> {
        let server = *placement.owners.get(owner)?;
        self.micros_per(self.usage.of(&[server]), *self.per_owner.get(owner)?)
    }

    /// CPU µs of the replica at `server` per emit its master served.
    pub(crate) fn replica_us(
        &self,
        placement: &Placement,
        servers: &Servers,
        server: usize,
    ) -> Option<f64> {
        let Role::Replica(master) = servers.all.get(server)?.role else {
            return None;
        };
        let owner = placement.owners.iter().position(|&owner| owner == master)?;
        self.micros_per(self.usage.of(&[server]), *self.per_owner.get(owner)?)
    }
}

/// What one emitter task counted.
struct TaskCount {
    emits: u64,
    errors: u64,
    per_owner: Vec<u64>,
    latencies_ns: Vec<u64>,
    first_error: Option<String>,
}

/// Runs `emitters` tasks that emit back to back for `duration`, each to the target's
/// channels in turn; every emit started before the deadline is awaited and counted.
pub(crate) async fn emit_run(
    target: &Target,
    emitters: usize,
    duration: Duration,
    servers: &Servers,
) -> Result<EmitRun, BoxError> {
    let stop = Arc::new(AtomicBool::new(false));
    let start_line = Arc::new(Barrier::new(emitters + 1));
    let owners = target.placement.owners.len();
    let mut tasks = Vec::with_capacity(emitters);
    for task in 0..emitters {
        let (channels, placement, stop, start_line) = (
            Arc::clone(&target.channels),
            Arc::clone(&target.placement),
            Arc::clone(&stop),
            Arc::clone(&start_line),
        );
        tasks.push(tokio::spawn(async move {
            let mut count = TaskCount {
                emits: 0,
                errors: 0,
                per_owner: vec![0; owners],
                latencies_ns: Vec::new(),
                first_error: None,
            };
            let mut next = task * channels.len() / emitters;
            let mut n = 0_u64;
            start_line.wait().await;
            while !stop.load(Ordering::Relaxed) {
                let event = BenchEvent::Tick {
                    text: TICK_TEXT.to_owned(),
                    n: (task as u64) << 32 | n,
                };
                let started = Instant::now();
                match channels[next].emit(&event).await {
                    Ok(_) => {
                        count
                            .latencies_ns
                            .push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
                        count.emits += 1;
                        count.per_owner[placement.owner_of[next]] += 1;
                    }
                    Err(error) => {
                        count.errors += 1;
                        count.first_error.get_or_insert(error.to_string());
                    }
                }
                n += 1;
                next = (next + 1) % channels.len();
            }
            count
        }));
    }
    let before = servers.snapshot().await;
    start_line.wait().await;
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = TaskCount {
        emits: 0,
        errors: 0,
        per_owner: vec![0; owners],
        latencies_ns: Vec::new(),
        first_error: None,
    };
    for task in tasks {
        let mut count = task.await?;
        total.emits += count.emits;
        total.errors += count.errors;
        for (sum, own) in total.per_owner.iter_mut().zip(&count.per_owner) {
            *sum += own;
        }
        total.latencies_ns.append(&mut count.latencies_ns);
        if let Some(error) = count.first_error {
            eprintln!("  {} emit failed: {error}", target.label);
        }
    }
    let elapsed = started.elapsed();
    let usage = Usage::between(&before, &servers.snapshot().await);
    total.latencies_ns.sort_unstable();
    Ok(EmitRun {
        emits: total.emits,
        errors: total.errors,
        per_owner: total.per_owner,
        latencies_ns: total.latencies_ns,
        elapsed,
        usage,
    })
}

/// Runs the targets in turn `rounds` times after a warm-up of each, unlinking their keys
/// after every run; prints a line per run.
pub(crate) async fn alternate(
    targets: &[&Target],
    emitters: usize,
    plan: Plan,
    servers: &Servers,
) -> Result<Vec<Vec<EmitRun>>, BoxError> {
    for target in targets {
        emit_run(target, emitters, plan.emit_warmup, servers).await?;
        target.placement.unlink(servers).await?;
    }
    let mut runs: Vec<Vec<EmitRun>> = targets.iter().map(|_| Vec::new()).collect();
    for _ in 0..plan.rounds {
        for (target, runs) in targets.iter().zip(&mut runs) {
            let run = emit_run(target, emitters, plan.emit_run, servers).await?;
            print_run(target, emitters, &run, servers);
            target.placement.unlink(servers).await?;
            runs.push(run);
        }
    }
    Ok(runs)
}

pub(crate) fn us_cell(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |value| format!("{value:.1} µs"))
}

/// The port of `host:port`, or the whole address.
pub(crate) fn short(addr: &str) -> &str {
    addr.rsplit_once(':').map_or(addr, |(_, port)| port)
}

pub(crate) fn print_run(target: &Target, emitters: usize, run: &EmitRun, servers: &Servers) {
    let placement = &target.placement;
    let owners: Vec<String> = (0..placement.owners.len())
        .map(|owner| {
            format!(
                "{} {}",
                short(&servers.all[placement.owners[owner]].addr),
                us_cell(run.owner_us(placement, owner))
            )
        })
        .collect();
    let replicas: Vec<String> = target
        .replicas
        .iter()
        .map(|&replica| {
            format!(
                "{} {}",
                short(&servers.all[replica].addr),
                us_cell(run.replica_us(placement, servers, replica))
            )
        })
        .collect();
    println!(
        "  {:<24} {emitters:>3} emitters {:>9} emits/s  p50 {} p99 {}; CPU per emit: bench {}, \
         Redis {} (per emit each master served: {}){}; other processes {} cores{}",
        target.label,
        thousands(run.per_second()),
        millis(percentile(&run.latencies_ns, 50)),
        millis(percentile(&run.latencies_ns, 99)),
        us_cell(run.process_us()),
        us_cell(run.servers_us(&placement.owners)),
        owners.join(", "),
        if replicas.is_empty() {
            String::new()
        } else {
            format!(
                ", replicas per emit their master served: {}",
                replicas.join(", ")
            )
        },
        run.usage
            .other_load(run.elapsed)
            .map_or_else(|| "n/a".to_owned(), |cores| format!("{cores:.2}")),
        if run.errors > 0 {
            format!(", {} ERRORS", run.errors)
        } else {
            String::new()
        },
    );
}

/// The median over `runs` of a per-run figure, when every run has it.
pub(crate) fn median_of(runs: &[EmitRun], figure: impl Fn(&EmitRun) -> Option<f64>) -> Option<f64> {
    let values: Option<Vec<f64>> = runs.iter().map(figure).collect();
    values
        .filter(|values| !values.is_empty())
        .map(common::median)
}

pub(crate) fn median_rate(runs: &[EmitRun]) -> f64 {
    common::median(runs.iter().map(EmitRun::per_second).collect())
}

pub(crate) fn best_rate(runs: &[EmitRun]) -> f64 {
    runs.iter().map(EmitRun::per_second).fold(0.0, f64::max)
}

/// Every successful emit's duration over `runs`, sorted.
pub(crate) fn pooled_latencies(runs: &[EmitRun]) -> Vec<u64> {
    let mut all: Vec<u64> = runs
        .iter()
        .flat_map(|run| run.latencies_ns.iter().copied())
        .collect();
    all.sort_unstable();
    all
}

pub(crate) fn errors(runs: &[EmitRun]) -> u64 {
    runs.iter().map(|run| run.errors).sum()
}

pub(crate) fn other_load_range(runs: &[&EmitRun]) -> Option<(f64, f64)> {
    let loads: Vec<f64> = runs
        .iter()
        .filter_map(|run| run.usage.other_load(run.elapsed))
        .collect();
    (!loads.is_empty()).then(|| {
        (
            loads.iter().copied().fold(f64::INFINITY, f64::min),
            loads.iter().copied().fold(0.0, f64::max),
        )
    })
}
