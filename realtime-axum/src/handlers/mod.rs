//! The handlers of the endpoint's routes, one module per method: `GET` streams events
//! ([`subscribe`]), `POST` emits them ([`emit`]), `OPTIONS` answers CORS preflights
//! ([`preflight`]); `GET <path>/history` reads a channel's stored events ([`history`]);
//! `GET <path>/presence` lists a channel's members ([`members`]). Each
//! reads the shared state of [`RealtimeSse`](crate::RealtimeSse).

mod emit;
mod history;
mod members;
mod preflight;
mod subscribe;

use axum::Router;
use axum::routing::get;
use realtime_core::Events;

use crate::endpoint::RealtimeSse;

impl<E: Events> RealtimeSse<E> {
    /// A router serving the stream at `path` (`GET`), the emit route (`POST`) when
    /// enabled, CORS preflights (`OPTIONS`), a channel's stored events at
    /// `<path>/history?channel=<name>` (`GET`) when enabled; when the event set declares presence, also
    /// the members of a channel at `<path>/presence?channel=<name>` (`GET`).
    pub fn router<S: Clone + Send + Sync + 'static>(&self, path: &str) -> Router<S> {
        let mut route =
            get(subscribe::stream_handler::<E>).options(preflight::preflight_handler::<E>);
        if self.shared().emit.is_some() {
            route = route.post(emit::emit_handler::<E>);
        }
        let base = path.trim_end_matches('/');
        let mut router = Router::new().route(path, route);
        if self.shared().history {
            let history_path = format!("{base}/history");
            router = router.route(&history_path, get(history::history_handler::<E>));
        }
        if E::DECLARES_PRESENCE {
            let members = format!("{base}/presence");
            router = router.route(&members, get(members::members_handler::<E>));
        }
        router.with_state(self.clone())
    }
}
