//! What the example servers (`chat`, `notifications`, `progress`) share, so each example's
//! own code is only its app:
//!
//! - [`frontend`]: build the React page with npm when `web/dist` is missing, and serve it;
//! - [`server`]: `--port`/`PORT`/`HOST`, logging, the backend (`REDIS_URL` switches from the
//!   embedded one to Redis), serving with graceful shutdown of the event streams;
//! - [`metrics`]: the framework's metrics in the Prometheus text format at `GET /metrics`;
//! - [`browser_test`]: the harness of their headless-Chromium tests;
//! - `testing` (feature `testing`): what their API tests share: a client on the served app
//!   with cookie sign-in, an event-stream reader, the schema-freshness tests;
//! - `web/build-page.mjs`: the bundler each example's `web/build.mjs` calls, and
//!   `web/api.ts`: the pages' `fetch` for JSON routes.

pub mod browser_test;
pub mod frontend;
pub mod metrics;
pub mod server;
#[cfg(feature = "testing")]
pub mod testing;
