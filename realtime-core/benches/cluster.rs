//! Redis Cluster benchmark of `realtime-core`: one Redis against a cluster, in the same run.
//!
//! ```sh
//! cargo bench -p realtime-core --features redis --bench cluster             # full, ~75 s
//! cargo bench -p realtime-core --features redis --bench cluster -- --quick  # ~15 s
//! BENCH_QUICK=1 cargo bench -p realtime-core --features redis --bench cluster
//! ```
//!
//! Needs one Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`) and a Redis Cluster at
//! `REDIS_CLUSTER_URL` (default `redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103`,
//! as `scripts/cluster start` makes). Every key lives under a fresh `bench:<pid>:<nanos>:`
//! prefix; streams expire (`expire_after`, 10 min) and are `UNLINK`ed after each run, each
//! on the master that owns its slot; nothing is flushed.
//!
//! What it measures, on a multi-thread tokio runtime:
//!
//! 1. **Emit throughput over 1,000 channels**: 256 tasks sharing one `Realtime`, each
//!    emitting `Tick` to the channels in turn (task `t` starts at channel
//!    `t * 1000 / 256`), each awaiting its emit before the next. Single Redis and cluster
//!    alternate; per run: emits/s, emit latency, and the CPU time per emit of this process
//!    (`/proc/self/stat`), of each Redis server (`INFO cpu`; on the cluster per master, per
//!    emit that master served, and the replicas apart), and the cores other processes kept
//!    busy (`/proc/stat`).
//! 2. **The cost of `Durability::Replicated { replicas: 1, timeout: 1 s }`** (a `WAIT`
//!    after each emit) against `Durability::Master`, on the cluster (and on the single Redis
//!    when it has a replica), at 1 and 256 emitters: emits/s and per-emit latency.
//! 3. **Fan-out through Redis**: 10 channels per master, 10 subscribers (`subscribe_all`)
//!    on each, one emitter per channel, paced so that the channels together get 1,000
//!    events/s; emit-to-receive latency, and missing or duplicated deliveries (the binary
//!    exits non-zero on any), single Redis and cluster.

mod common;
#[path = "cluster/emits.rs"]
mod emits;
#[path = "cluster/fan_out.rs"]
mod fan_out;
#[path = "cluster/servers.rs"]
mod servers;

use std::sync::Arc;
use std::time::Duration;

use realtime_core::Realtime;
use realtime_core::backend::redis::{Durability, KeyLayout, RedisBackend, RedisOptions};
use redis::aio::ConnectionManager;

use common::{
    BoxError, COMMAND_TIMEOUT, KEY_LIFETIME, millis, percentile, thousands, unique_prefix,
};
use emits::{
    EmitRun, Target, alternate, best_rate, errors, median_of, median_rate, other_load_range,
    pooled_latencies, short, us_cell,
};
use fan_out::{fan_out, print_fanout_table};
use servers::{Placement, Servers, discover};

const DEFAULT_CLUSTER_URL: &str = "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103";
/// Channels of the emit benchmarks.
const CHANNELS: usize = 1_000;
/// Concurrent emitters of the throughput comparison.
const EMITTERS: usize = 256;
const DURABILITY_LEVELS: [usize; 2] = [1, 256];
const REPLICATED: Durability = Durability::Replicated {
    replicas: 1,
    timeout: Duration::from_secs(1),
};
pub(crate) const FANOUT_CHANNELS_PER_MASTER: usize = 10;
pub(crate) const SUBSCRIBERS_PER_CHANNEL: usize = 10;
/// Events per second over all the fan-out channels.
pub(crate) const FANOUT_RATE: u64 = 1_000;

/// How long and how often each measurement runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub(crate) quick: bool,
    pub(crate) emit_run: Duration,
    pub(crate) emit_warmup: Duration,
    /// Runs of each side per comparison, alternating.
    pub(crate) rounds: usize,
    pub(crate) fanout_run: Duration,
}

impl Plan {
    fn from_env() -> Self {
        let quick = common::quick_run();
        Plan {
            quick,
            emit_run: Duration::from_secs(if quick { 1 } else { 2 }),
            emit_warmup: Duration::from_millis(if quick { 200 } else { 500 }),
            rounds: if quick { 1 } else { 5 },
            fanout_run: Duration::from_secs(if quick { 2 } else { 5 }),
        }
    }
}

fn main() -> Result<(), BoxError> {
    let plan = Plan::from_env();
    let single_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let cluster_url =
        std::env::var("REDIS_CLUSTER_URL").unwrap_or_else(|_| DEFAULT_CLUSTER_URL.to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let workers = runtime.metrics().num_workers();
    println!(
        "realtime-core cluster benchmark ({} run; {workers} tokio workers, {} CPUs)\n\
         single Redis: {single_url}\ncluster: {cluster_url}",
        if plan.quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    runtime.block_on(run(plan, &single_url, &cluster_url))
}

fn options(prefix: &str, durability: Durability) -> RedisOptions {
    RedisOptions::default()
        .key_prefix(prefix)
        .expire_after(KEY_LIFETIME)
        .command_timeout(COMMAND_TIMEOUT)
        .durability(durability)
}

async fn run(plan: Plan, single_url: &str, cluster_url: &str) -> Result<(), BoxError> {
    let prefix = unique_prefix();
    let servers = discover(single_url, cluster_url).await?;
    let masters = servers.masters();
    let replicas = servers.replicas();
    println!(
        "cluster: {} masters ({}), {} replicas ({})",
        masters.len(),
        addrs(&servers, &masters),
        replicas.len(),
        addrs(&servers, &replicas),
    );
    println!(
        "Note: this process and all {} Redis servers share the machine's {} CPUs, so the \
         cluster cannot show its speed-up here; CPU per emit per node is the figure that scales.",
        servers.all.len(),
        std::thread::available_parallelism().map_or(0, usize::from),
    );

    let names: Vec<String> = (0..CHANNELS).map(|i| format!("ch-{i}")).collect();
    let single = RedisBackend::connect_with(single_url, options(&prefix, Durability::Master))
        .await
        .map_err(|error| format!("Redis at {single_url}: {error}"))?;
    let cluster = RedisBackend::connect_url(cluster_url, options(&prefix, Durability::Master))
        .await
        .map_err(|error| format!("the cluster at {cluster_url}: {error}"))?;
    let single_placement = Arc::new(Placement::single(
        names.iter().map(|name| single.stream_key(name)).collect(),
    ));
    let cluster_placement = Arc::new(
        Placement::cluster(
            &servers,
            names.iter().map(|name| cluster.stream_key(name)).collect(),
        )
        .await?,
    );
    print_spread(&servers, &cluster_placement).await?;

    let single_target = Target::new("single Redis", single, &names, &single_placement, vec![]);
    let cluster_target = Target::new(
        match masters.len() {
            1 => "cluster, 1 master".to_owned(),
            count => format!("cluster, {count} masters"),
        },
        cluster,
        &names,
        &cluster_placement,
        replicas.clone(),
    );

    // 1. Throughput.
    println!(
        "\n1. emit throughput: {CHANNELS} channels, {EMITTERS} emitters; {} s runs, {} of each \
         side, alternating",
        plan.emit_run.as_secs_f64(),
        plan.rounds
    );
    let runs = alternate(&[&single_target, &cluster_target], EMITTERS, plan, &servers).await?;

    // 2. Durability.
    println!("\n2. durability: Master against Replicated {{ replicas: 1, timeout: 1 s }}");
    let mut durability = Vec::new();
    if replicas.is_empty() {
        println!("  the cluster has no replica: skipped");
    } else {
        let replicated = RedisBackend::connect_url(cluster_url, options(&prefix, REPLICATED))
            .await
            .map_err(|error| format!("the cluster at {cluster_url}: {error}"))?;
        let pair = [
            cluster_target.relabel("cluster, Master"),
            Target::new(
                "cluster, Replicated",
                replicated,
                &names,
                &cluster_placement,
                replicas.clone(),
            ),
        ];
        durability.extend(compare_durability(&pair, plan, &servers).await?);
    }
    if connected_replicas(&servers.all[0].connection).await == 0 {
        println!(
            "  the single Redis has no replica (INFO replication: connected_slaves:0): not measured"
        );
    } else {
        let replicated = RedisBackend::connect_with(single_url, options(&prefix, REPLICATED))
            .await
            .map_err(|error| format!("Redis at {single_url}: {error}"))?;
        let pair = [
            single_target.relabel("single Redis, Master"),
            Target::new(
                "single Redis, Replicated",
                replicated,
                &names,
                &single_placement,
                vec![],
            ),
        ];
        durability.extend(compare_durability(&pair, plan, &servers).await?);
    }

    // 3. Fan-out.
    let fanout_names = fanout_channels(&servers, &prefix).await?;
    println!(
        "\n3. fan-out: {} channels ({FANOUT_CHANNELS_PER_MASTER} per master), \
         {SUBSCRIBERS_PER_CHANNEL} subscribers each, {FANOUT_RATE} events/s in all for {} s",
        fanout_names.len(),
        plan.fanout_run.as_secs_f64()
    );
    let mut fanout_rows = Vec::new();
    for cluster_side in [false, true] {
        let (label, backend) = if cluster_side {
            (
                "cluster",
                RedisBackend::connect_url(cluster_url, options(&prefix, Durability::Master))
                    .await?,
            )
        } else {
            (
                "single Redis",
                RedisBackend::connect_with(single_url, options(&prefix, Durability::Master))
                    .await?,
            )
        };
        let keys = fanout_names
            .iter()
            .map(|name| backend.stream_key(name))
            .collect();
        let placement = if cluster_side {
            Placement::cluster(&servers, keys).await?
        } else {
            Placement::single(keys)
        };
        let row = fan_out(label, Realtime::with_backend(backend), &fanout_names, plan).await;
        placement.unlink(&servers).await?;
        fanout_rows.push(row?);
    }

    print_throughput_table(plan, &servers, &single_target, &cluster_target, &runs);
    print_durability_table(plan, &durability);
    print_fanout_table(plan, &fanout_rows, fanout_names.len());
    let all_runs: Vec<&EmitRun> = runs
        .iter()
        .flatten()
        .chain(durability.iter().flat_map(|row| &row.runs))
        .collect();
    if let Some((least, most)) = other_load_range(&all_runs) {
        println!(
            "\nOther processes kept {least:.2} to {most:.2} of the cores busy during the emit runs."
        );
    }

    if fanout_rows
        .iter()
        .any(|row| row.missing > 0 || row.duplicates > 0 || row.stalled > 0)
    {
        return Err("fan-out lost, duplicated or stalled deliveries (see the table)".into());
    }
    Ok(())
}

/// What the durability comparison measured at one level: (target label, its servers,
/// its replicas, emitters, its runs).
struct DurabilityRow {
    label: String,
    owners: Vec<usize>,
    replicas: Vec<usize>,
    emitters: usize,
    runs: Vec<EmitRun>,
}

/// Alternates a `Master` and a `Replicated` target at each of [`DURABILITY_LEVELS`].
async fn compare_durability(
    pair: &[Target; 2],
    plan: Plan,
    servers: &Servers,
) -> Result<Vec<DurabilityRow>, BoxError> {
    let mut rows = Vec::new();
    for emitters in DURABILITY_LEVELS {
        let runs = alternate(&[&pair[0], &pair[1]], emitters, plan, servers).await?;
        for (target, runs) in pair.iter().zip(runs) {
            rows.push(DurabilityRow {
                label: target.label.clone(),
                owners: target.placement.owners.clone(),
                replicas: target.replicas.clone(),
                emitters,
                runs,
            });
        }
    }
    Ok(rows)
}

fn addrs(servers: &Servers, indexes: &[usize]) -> String {
    indexes
        .iter()
        .map(|&index| servers.all[index].addr.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn connected_replicas(connection: &ConnectionManager) -> u64 {
    let info: String = match redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut connection.clone())
        .await
    {
        Ok(info) => info,
        Err(_) => return 0,
    };
    info.lines()
        .find_map(|line| line.strip_prefix("connected_slaves:"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0)
}

/// Prints how the channels spread over the slots and the masters.
async fn print_spread(servers: &Servers, placement: &Placement) -> Result<(), BoxError> {
    let mut pipeline = redis::pipe();
    for key in &placement.keys {
        pipeline.cmd("CLUSTER").arg("KEYSLOT").arg(key);
    }
    let mut connection = servers.all[placement.owners[0]].connection.clone();
    let mut slots: Vec<u16> = pipeline.query_async(&mut connection).await?;
    slots.sort_unstable();
    slots.dedup();
    let counts = placement.count_per_owner();
    let per_master: Vec<String> = placement
        .owners
        .iter()
        .zip(&counts)
        .map(|(&server, count)| format!("{} {count}", servers.all[server].addr))
        .collect();
    println!(
        "{CHANNELS} channels on {} distinct slots; channels per master: {}",
        slots.len(),
        per_master.join(", ")
    );
    if counts.contains(&0) {
        return Err("a master owns none of the channels: the spread cannot be measured".into());
    }
    Ok(())
}

/// `FANOUT_CHANNELS_PER_MASTER` channel names for each master, whose keys (under `prefix`)
/// the cluster places on that master.
async fn fanout_channels(servers: &Servers, prefix: &str) -> Result<Vec<String>, BoxError> {
    let layout = KeyLayout::Prefixed(prefix.to_owned());
    let candidates: Vec<String> = (0..50 * FANOUT_CHANNELS_PER_MASTER * servers.masters().len())
        .map(|i| format!("fan-{i}"))
        .collect();
    let placement = Placement::cluster(
        servers,
        candidates
            .iter()
            .map(|name| layout.cluster_stream_key(name))
            .collect(),
    )
    .await?;
    let mut picked = vec![0; placement.owners.len()];
    let mut names = Vec::new();
    for (name, &owner) in candidates.iter().zip(&placement.owner_of) {
        if picked[owner] < FANOUT_CHANNELS_PER_MASTER {
            picked[owner] += 1;
            names.push(name.clone());
        }
    }
    if picked
        .iter()
        .any(|&count| count < FANOUT_CHANNELS_PER_MASTER)
    {
        return Err("could not find fan-out channels on every master".into());
    }
    Ok(names)
}

fn print_throughput_table(
    plan: Plan,
    servers: &Servers,
    single: &Target,
    cluster: &Target,
    runs: &[Vec<EmitRun>],
) {
    println!(
        "\nEmit throughput: {CHANNELS} channels, {EMITTERS} emitters ({} s runs; median of {} \
         alternating runs each; CPU per emit: medians)",
        plan.emit_run.as_secs_f64(),
        plan.rounds
    );
    println!(
        "| target | emits/s | best | emit p50 | emit p99 | bench process CPU per emit | Redis CPU \
         per emit (masters) | per master, per emit it served | replicas' CPU per emit | per \
         replica, per emit its master served |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|---:|---|");
    for (target, runs) in [single, cluster].into_iter().zip(runs) {
        let placement = &target.placement;
        let per_master: Vec<String> = (0..placement.owners.len())
            .map(|owner| {
                format!(
                    "{}: {}",
                    short(&servers.all[placement.owners[owner]].addr),
                    us_cell(median_of(runs, |run| run.owner_us(placement, owner)))
                )
            })
            .collect();
        let per_replica: Vec<String> = target
            .replicas
            .iter()
            .map(|&replica| {
                format!(
                    "{}: {}",
                    short(&servers.all[replica].addr),
                    us_cell(median_of(runs, |run| {
                        run.replica_us(placement, servers, replica)
                    }))
                )
            })
            .collect();
        let latencies = pooled_latencies(runs);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |{}",
            target.label,
            thousands(median_rate(runs)),
            thousands(best_rate(runs)),
            millis(percentile(&latencies, 50)),
            millis(percentile(&latencies, 99)),
            us_cell(median_of(runs, EmitRun::process_us)),
            us_cell(median_of(runs, |run| run.servers_us(&placement.owners))),
            per_master.join(", "),
            if target.replicas.is_empty() {
                "–".to_owned()
            } else {
                us_cell(median_of(runs, |run| run.servers_us(&target.replicas)))
            },
            if per_replica.is_empty() {
                "–".to_owned()
            } else {
                per_replica.join(", ")
            },
            match errors(runs) {
                0 => String::new(),
                count => format!(" {count} errors"),
            },
        );
    }
    if let [single_runs, cluster_runs] = runs {
        println!(
            "cluster / single: {:.0}% (medians), {:.0}% (best runs)",
            100.0 * median_rate(cluster_runs) / median_rate(single_runs),
            100.0 * best_rate(cluster_runs) / best_rate(single_runs),
        );
    }
}

fn print_durability_table(plan: Plan, rows: &[DurabilityRow]) {
    if rows.is_empty() {
        return;
    }
    println!(
        "\nDurability: Master against Replicated {{ replicas: 1, timeout: 1 s }} over {CHANNELS} \
         channels ({} s runs; median of {} alternating runs each; latency over every emit)",
        plan.emit_run.as_secs_f64(),
        plan.rounds
    );
    println!(
        "| target | emitters | emits/s | emit p50 | emit p99 | failed emits | bench process \
         CPU per emit | Redis CPU per emit (masters) | replicas' CPU per emit |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let latencies = pooled_latencies(&row.runs);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.emitters,
            thousands(median_rate(&row.runs)),
            millis(percentile(&latencies, 50)),
            millis(percentile(&latencies, 99)),
            errors(&row.runs),
            us_cell(median_of(&row.runs, EmitRun::process_us)),
            us_cell(median_of(&row.runs, |run| run.servers_us(&row.owners))),
            if row.replicas.is_empty() {
                "–".to_owned()
            } else {
                us_cell(median_of(&row.runs, |run| run.servers_us(&row.replicas)))
            },
        );
    }
    for pair in rows.chunks(2) {
        if let [master, replicated] = pair {
            println!(
                "{} at {} emitter(s): {:.0}% of {}'s emits/s",
                replicated.label,
                replicated.emitters,
                100.0 * median_rate(&replicated.runs) / median_rate(&master.runs),
                master.label,
            );
        }
    }
}
