//! The inspector: one page that shows an app's realtime side to the people debugging it
//! (feature `inspector`). It lists the event set (docs, JSON Schema, an example, the
//! TypeScript the codegen writes), the channels this process serves, any channel's history
//! and live tail (entries that break the schema shown flagged, never hidden), a channel's
//! presence, an emit form, and the backend's health with live figures.
//!
//! [`inspector`] returns a builder; [`InspectorBuilder::build`] a router the app mounts
//! where it likes. It refuses to build without an authorization hook unless the app says
//! [`allow_unauthenticated`](InspectorBuilder::allow_unauthenticated) (for local
//! development):
//!
//! ```
//! use axum::response::IntoResponse;
//! use http::StatusCode;
//! use realtime_axum::AuthRequest;
//! use realtime_axum::inspector::inspector;
//! use realtime_core::{Events, Realtime};
//!
//! #[derive(Events, Clone, Debug, PartialEq)]
//! enum AppEvent {
//!     /// An alert for the user.
//!     #[event("notification.alert")]
//!     Alert(String),
//! }
//!
//! let realtime = Realtime::<AppEvent>::memory();
//! let admin_token = "let-me-in".to_owned();
//! let pages = inspector(realtime)
//!     .authorize(move |request: AuthRequest| {
//!         let allowed = request.headers().get("authorization").and_then(|v| v.to_str().ok())
//!             == Some(&*format!("Bearer {admin_token}"));
//!         async move { if allowed { Ok(()) } else { Err(StatusCode::UNAUTHORIZED.into_response()) } }
//!     })
//!     .build()
//!     .expect("an authorization hook is set");
//! let app: axum::Router = axum::Router::new().nest("/_realtime", pages);
//! # let _ = app;
//!
//! // Without a hook, only an explicit choice builds it.
//! assert!(inspector(Realtime::<AppEvent>::memory()).build().is_err());
//! assert!(inspector(Realtime::<AppEvent>::memory()).allow_unauthenticated().build().is_ok());
//! ```
//!
//! The page itself is static and public; every `api/` route runs the hook (with the
//! channel a request is about in [`AuthRequest::channels`](crate::AuthRequest::channels)). Bounds: see
//! [`InspectorLimits`].

mod api;
mod catalog;
mod health;
mod page;
mod tail;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use realtime_core::{Events, Realtime};

use crate::auth::Authorize;

pub use catalog::EventInfo;

/// The inspector's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InspectorLimits {
    /// The most entries a history page holds (a request asking more gets this many).
    pub page_size: usize,
    /// With an event filter, a history page reads at most this many pages of the
    /// channel to fill itself, and says where to go on.
    pub filter_scan_pages: usize,
    /// Live tails (one per open tail in a page) open at once in this process; past it a
    /// new tail gets 503.
    pub max_tails: usize,
    /// The most entries one tail sends a second; past it the rest of that second is
    /// counted and sent as one `skipped` item (they are in the history).
    pub tail_entries_per_second: u32,
    /// The longest emit body, in bytes.
    pub max_emit_body: usize,
}

impl Default for InspectorLimits {
    fn default() -> Self {
        Self {
            page_size: 200,
            filter_scan_pages: 10,
            max_tails: 16,
            tail_entries_per_second: 50,
            max_emit_body: 64 * 1024,
        }
    }
}

/// Why an inspector did not build.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InspectorError {
    /// No authorization hook and no explicit
    /// [`allow_unauthenticated`](InspectorBuilder::allow_unauthenticated).
    #[error(
        "the inspector shows every channel and can emit: give it an authorization hook \
         (`.authorize(...)`), or call `.allow_unauthenticated()` for local development"
    )]
    NoAuthorization,
}

/// Starts an inspector of `realtime`'s event set and channels.
pub fn inspector<E: Events>(realtime: Realtime<E>) -> InspectorBuilder<E> {
    InspectorBuilder {
        realtime,
        authorize: None,
        unauthenticated: false,
        read_only: false,
        limits: InspectorLimits::default(),
    }
}

/// Configures an inspector; made by [`inspector`].
pub struct InspectorBuilder<E: Events> {
    realtime: Realtime<E>,
    authorize: Option<Arc<dyn Authorize>>,
    unauthenticated: bool,
    read_only: bool,
    limits: InspectorLimits,
}

impl<E: Events> std::fmt::Debug for InspectorBuilder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InspectorBuilder")
            .field("authorize", &self.authorize.is_some())
            .field("unauthenticated", &self.unauthenticated)
            .field("read_only", &self.read_only)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<E: Events> InspectorBuilder<E> {
    /// Runs `hook` before every `api/` request (e.g. the app's admin check); its
    /// `Err(response)` is the answer.
    pub fn authorize(mut self, hook: impl Authorize) -> Self {
        self.authorize = Some(Arc::new(hook));
        self
    }

    /// Serves without an authorization hook: anyone who reaches the router sees every
    /// channel and can emit. For local development only.
    pub fn allow_unauthenticated(mut self) -> Self {
        self.unauthenticated = true;
        self
    }

    /// Hides the emit form and refuses emits (403).
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Sets the bounds.
    pub fn limits(mut self, limits: InspectorLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The router: `GET /` the page, `api/...` the JSON it reads. Mount it with
    /// `Router::nest("/_realtime", ...)` (any path).
    ///
    /// # Errors
    /// [`InspectorError::NoAuthorization`] without a hook or `allow_unauthenticated`.
    pub fn build(self) -> Result<Router, InspectorError> {
        if self.authorize.is_none() && !self.unauthenticated {
            return Err(InspectorError::NoAuthorization);
        }
        let state = Arc::new(api::State {
            events: catalog::describe(&self.realtime),
            inspect: self.realtime.inspect(),
            realtime: self.realtime,
            authorize: self.authorize,
            read_only: self.read_only,
            limits: self.limits,
            tails: Arc::new(tokio::sync::Semaphore::new(self.limits.max_tails)),
            health: health::HealthCache::default(),
        });
        Ok(Router::new()
            .route("/", get(page::index))
            .route("/api/info", get(api::info::<E>))
            .route("/api/health", get(api::health::<E>))
            .route("/api/channels", get(api::channels::<E>))
            .route("/api/channels/{channel}/history", get(api::history::<E>))
            .route("/api/channels/{channel}/presence", get(api::presence::<E>))
            .route("/api/channels/{channel}/tail", get(api::tail::<E>))
            .route("/api/channels/{channel}/emit", post(api::emit::<E>))
            .with_state(state))
    }
}
