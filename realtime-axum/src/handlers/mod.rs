//! The handlers of the endpoint's route, one module per method: `GET` streams events
//! ([`subscribe`]), `POST` emits them ([`emit`]), `OPTIONS` answers CORS preflights
//! ([`preflight`]). Each reads the shared state of [`RealtimeSse`](crate::RealtimeSse).

mod emit;
mod preflight;
mod subscribe;

use axum::Router;
use axum::routing::get;
use realtime_core::Events;

use crate::endpoint::RealtimeSse;

impl<E: Events> RealtimeSse<E> {
    /// A router serving the stream at `path` (`GET`), the emit route (`POST`) when
    /// enabled, and CORS preflights (`OPTIONS`).
    pub fn router<S: Clone + Send + Sync + 'static>(&self, path: &str) -> Router<S> {
        let mut route =
            get(subscribe::stream_handler::<E>).options(preflight::preflight_handler::<E>);
        if self.shared().emit.is_some() {
            route = route.post(emit::emit_handler::<E>);
        }
        Router::new().route(path, route).with_state(self.clone())
    }
}
