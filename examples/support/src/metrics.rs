//! The example servers' metrics: the framework's counters, gauges and histograms
//! ([`realtime_core::metrics`]) exported in the Prometheus text format at `GET /metrics`.
//!
//! [`install`], called first thing in `main` (before the backend connects or anything
//! else records), installs the process's recorder ([`metrics_exporter_prometheus`]),
//! describes every metric, and starts the recorder's upkeep (a thread that drains
//! histogram samples every 5 s, so memory stays bounded between scrapes). A recording made
//! before a recorder exists is lost, so a recorder installed late (e.g. by the first
//! scrape) would miss every count before it. The `_seconds` histograms get Prometheus
//! buckets ([`LATENCY_BUCKETS`]), so they add up across processes.
//!
//! ```
//! # fn main() -> Result<(), String> {
//! example_support::metrics::install()?;
//! // ... connect the backend, build the app ...
//! let app: axum::Router = axum::Router::new().merge(example_support::metrics::routes());
//! # let _ = app;
//! # Ok(()) }
//! ```
//!
//! The route is open to anyone who can reach the server: in production serve it on an
//! internal port, or behind the same authentication as the rest of the operator's tools.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The buckets of the latency histograms, in seconds: 0.5 ms to 10 s.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder drains histogram samples between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the process's recorder, unless it is installed already. Call it at start-up,
/// before anything records.
///
/// # Errors
/// Another recorder is installed (a process has one global recorder).
pub fn install() -> Result<(), String> {
    recorder().map(|_| ()).map_err(Clone::clone)
}

/// The `GET /metrics` route (Prometheus text). It installs the recorder if [`install`] was
/// not called (then what was recorded before is missing).
pub fn routes() -> Router {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape() -> Response {
    match recorder() {
        Ok(handle) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            handle.render(),
        )
            .into_response(),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.clone()).into_response(),
    }
}

/// The process's Prometheus recorder, installed at the first call; an error when another
/// recorder was installed first (a process has one global recorder).
///
/// # Errors
/// Another recorder is installed.
pub fn recorder() -> Result<&'static PrometheusHandle, &'static String> {
    static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    RECORDER.get_or_init(install_recorder).as_ref()
}

fn install_recorder() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|error| format!("metrics are not available: {error}"))?;
    realtime_core::metrics::describe();
    let upkeep = handle.clone();
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
    if let Err(error) = started {
        // Rendering drains the samples too: scrapes keep memory bounded without it.
        tracing::warn!(%error, "no metrics upkeep thread; histograms are drained by scrapes");
    }
    Ok(handle)
}
