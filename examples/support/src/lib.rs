//! What the example servers (`chat`, `notifications`, `progress`) share, so each example's
//! own code is only its app:
//!
//! - [`frontend`]: build the React page with npm when `web/dist` is missing, and serve it;
//! - [`server`]: `--port`/`PORT`/`HOST`, logging, the backend (`REDIS_URL` switches from the
//!   embedded one to Redis), serving with graceful shutdown of the event streams.

pub mod frontend;
pub mod server;
