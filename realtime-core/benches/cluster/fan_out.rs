//! Fan-out through Redis: subscribers on channels of every master, paced emitters, and
//! what each subscriber received.

use std::time::{Duration, Instant};

use realtime_core::{Channel, Realtime};

use crate::common::{self, BenchEvent, BoxError, millis, percentile, thousands};
use crate::{FANOUT_CHANNELS_PER_MASTER, FANOUT_RATE, Plan, SUBSCRIBERS_PER_CHANNEL};

/// The pause between the last subscription and the first emit.
const SETTLE: Duration = Duration::from_millis(500);

/// One fan-out run.
pub(crate) struct FanOutRow {
    pub(crate) backend: &'static str,
    pub(crate) subscribers: usize,
    pub(crate) emitted: u64,
    pub(crate) emit_rate: f64,
    pub(crate) deliveries: u64,
    pub(crate) missing: u64,
    pub(crate) duplicates: u64,
    pub(crate) stalled: usize,
    /// Catch-ups from history before the first emit (the new backend's pub/sub
    /// connection coming up after the first subscription), and during the run.
    pub(crate) catch_ups: (u64, u64),
    p50: Duration,
    p99: Duration,
    pub(crate) max: Duration,
}

pub(crate) async fn fan_out(
    backend: &'static str,
    realtime: Realtime<BenchEvent>,
    names: &[String],
    plan: Plan,
) -> Result<FanOutRow, BoxError> {
    let channels: Vec<Channel<BenchEvent>> =
        names.iter().map(|name| realtime.channel(name)).collect();
    // Each channel gets its share of the rate: one event every `period`.
    let period = Duration::from_secs(1) * names.len() as u32 / FANOUT_RATE as u32;
    let per_channel = FANOUT_RATE * plan.fanout_run.as_millis() as u64 / 1_000 / names.len() as u64;
    let base = Instant::now();

    let mut subscribers = Vec::with_capacity(names.len() * SUBSCRIBERS_PER_CHANNEL);
    for channel in &channels {
        for _ in 0..SUBSCRIBERS_PER_CHANNEL {
            let subscription = channel.subscribe_all().await?;
            subscribers.push(tokio::spawn(common::receive(
                subscription,
                per_channel,
                base,
            )));
        }
    }

    // The channels' ticks are staggered over one period, so the emits are spread evenly.
    // Let the subscriptions settle: a feed opened before the backend's pub/sub connection
    // was up catches up once when it is.
    tokio::time::sleep(SETTLE).await;
    let setup_catch_ups = realtime.stats().catch_ups;
    let start = tokio::time::Instant::now() + Duration::from_millis(10);
    let mut emitters = Vec::with_capacity(channels.len());
    for (index, channel) in channels.iter().enumerate() {
        let channel = channel.clone();
        let first_tick = start + period * index as u32 / channels.len() as u32;
        emitters.push(tokio::spawn(common::emit_stamps(
            channel,
            tokio::time::interval_at(first_tick, period),
            per_channel,
            base,
        )));
    }
    let (mut first_ns, mut end_ns) = (u64::MAX, 0);
    for emitter in emitters {
        let (first, end) = emitter.await??;
        first_ns = first_ns.min(first);
        end_ns = end_ns.max(end);
    }

    let mut latencies = Vec::new();
    let (mut missing, mut duplicates, mut stalled) = (0, 0, 0);
    for subscriber in subscribers {
        let mut received = subscriber.await?;
        latencies.append(&mut received.latencies_ns);
        missing += received.missing;
        duplicates += received.duplicates;
        stalled += usize::from(received.stalled);
    }
    latencies.sort_unstable();
    let emitted = per_channel * names.len() as u64;
    let row = FanOutRow {
        backend,
        subscribers: names.len() * SUBSCRIBERS_PER_CHANNEL,
        emitted,
        emit_rate: emitted as f64
            / Duration::from_nanos(end_ns.saturating_sub(first_ns).max(1)).as_secs_f64(),
        deliveries: latencies.len() as u64,
        missing,
        duplicates,
        stalled,
        catch_ups: (
            setup_catch_ups,
            realtime.stats().catch_ups - setup_catch_ups,
        ),
        p50: percentile(&latencies, 50),
        p99: percentile(&latencies, 99),
        max: Duration::from_nanos(latencies.last().copied().unwrap_or(0)),
    };
    println!(
        "  {backend}: {} events to {} subscribers, {} deliveries, {} missing, {} duplicated",
        row.emitted, row.subscribers, row.deliveries, row.missing, row.duplicates
    );
    Ok(row)
}

pub(crate) fn print_fanout_table(plan: Plan, rows: &[FanOutRow], channels: usize) {
    println!(
        "\nFan-out: {channels} channels ({FANOUT_CHANNELS_PER_MASTER} per master), \
         {SUBSCRIBERS_PER_CHANNEL} subscribers each, one emitter per channel, {FANOUT_RATE} \
         events/s in all for {} s (interval, MissedTickBehavior::Burst)",
        plan.fanout_run.as_secs_f64()
    );
    println!(
        "| backend | subscribers | emitted | emit rate /s | deliveries | missing | duplicates | stalled | catch-ups (setup + run) | p50 | p99 | max |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} + {} | {} | {} | {} |",
            row.backend,
            row.subscribers,
            thousands(row.emitted as f64),
            row.emit_rate,
            thousands(row.deliveries as f64),
            row.missing,
            row.duplicates,
            row.stalled,
            row.catch_ups.0,
            row.catch_ups.1,
            millis(row.p50),
            millis(row.p99),
            millis(row.max),
        );
    }
}
