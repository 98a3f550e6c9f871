//! The conformance suite every [`Backend`] must pass: ordering and ids, history ranges and
//! limits, replay-then-live without gaps or duplicates, fan-out, catch-up after falling
//! behind, validation, foreign entries, idempotent emits, listener clean-up, the data
//! text as it was written (typed: serde's; untyped: the sender's), and presence (members,
//! joins and leaves once per member, expiry when heartbeats stop).
//!
//! It is the same suite whichever store is behind the trait (the embedded memory backend,
//! Redis, a cluster backend, a third party's): each case is a public `async fn` taking a
//! [`BackendFactory`], and [`backend_conformance!`](crate::backend_conformance) turns the
//! whole list into one `#[tokio::test]` per case, so a failure names its case.
//!
//! Enable it in the crate that tests a backend (the suite itself needs no Redis or other
//! service: only what the factory opens):
//!
//! ```toml
//! [dev-dependencies]
//! realtime-core = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! ```
//! use std::sync::Arc;
//!
//! use realtime_core::backend::conformance::StorageOptions;
//! use realtime_core::backend::{Backend, MemoryBackend, MemoryOptions};
//!
//! /// A fresh, isolated store for each case, with the storage settings the case asks for.
//! async fn open(options: StorageOptions) -> Arc<dyn Backend> {
//!     let defaults = MemoryOptions::default();
//!     Arc::new(MemoryBackend::with_options(MemoryOptions {
//!         max_len: options.max_len.or(defaults.max_len),
//!         expire_after: options.expire_after,
//!         feed_capacity: options.feed_capacity.unwrap_or(defaults.feed_capacity),
//!     }))
//! }
//!
//! # #[cfg(any())]
//! realtime_core::backend_conformance!(open);
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! #     realtime_core::backend::conformance::events_arrive_in_emit_order_with_their_ids(&open).await;
//! # }
//! ```
//!
//! Each case opens its own store through the factory, so the factory must hand out stores
//! that share nothing with earlier ones (for Redis: a fresh key prefix each time).

// The suite fails its test by panicking, as tests do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod delivery;
mod history;
mod lifecycle;
mod presence;
mod refusals;
mod support;
mod wire;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{Backend, BoxFuture};

pub use delivery::{
    a_filter_lets_only_its_kinds_through, a_subscriber_that_falls_behind_catches_up_from_history,
    concurrent_emitters_are_all_delivered_once_in_id_order,
    emit_to_writes_every_channel_and_checks_names_first,
    events_arrive_in_emit_order_with_their_ids, many_subscribers_each_receive_every_event,
    separate_handles_on_one_store_see_each_others_events, the_default_channel_is_called_default,
};
pub use history::{
    after_a_trimmed_or_unknown_cursor_is_unavailable,
    after_replays_strictly_after_the_cursor_then_goes_live,
    history_honours_inclusive_bounds_and_limits, history_limits_out_of_range_are_refused,
    since_a_bare_millisecond_replays_what_came_later,
    with_history_and_since_together_start_at_the_earlier_of_the_two,
    with_history_of_counts_only_the_given_kinds_and_keeps_what_came_between,
    with_history_then_live_has_no_gap_and_no_duplicate_under_load,
};
pub use lifecycle::{
    a_subscription_dropped_while_it_opens_leaves_no_listener,
    dropping_the_last_subscription_closes_the_channel_feed,
};
pub use presence::{
    RoomEvent, RoomEventKind, Visitor, presence_a_swept_lease_is_never_taken_back,
    presence_announces_a_member_once_however_many_connections_it_has,
    presence_changes_are_ordinary_entries_of_the_channel,
    presence_heartbeats_keep_members_past_their_ttl,
    presence_is_refused_for_an_event_set_without_it,
    presence_of_a_process_that_stops_heartbeating_expires_and_is_announced_once,
    presence_refuses_bad_members_bad_info_and_emitted_presence_events,
    presence_watchers_announce_expired_members_without_being_asked,
};
pub use refusals::{
    bad_channel_names_are_refused, emit_json_checks_the_name_and_the_schema,
    foreign_entries_are_counted_and_skipped_without_breaking_anything,
    idempotency_keys_reused_for_another_event_or_data_are_refused,
    idempotent_emits_store_once_per_key_within_the_window,
    invalid_events_are_refused_and_leave_nothing_stored,
};
pub use support::{PATIENCE, TestEvent, TestEventKind, assert_quiet, take};
pub use wire::{
    raw_json_is_stored_in_the_senders_order_when_it_means_the_same,
    typed_data_is_stored_and_delivered_as_serde_writes_it,
};

/// Storage settings a case asks for; every factory maps them to its backend's own options
/// (`None`: the backend's default).
#[derive(Clone, Debug, Default)]
pub struct StorageOptions {
    /// Entries kept per channel.
    pub max_len: Option<usize>,
    /// History dropped this long after the last emit.
    pub expire_after: Option<Duration>,
    /// Entries a backend feed may buffer before it must resync.
    pub feed_capacity: Option<usize>,
}

/// Opens a fresh, isolated store for one case.
///
/// Implemented for every `Fn(StorageOptions) -> impl Future<Output = Arc<dyn Backend>>`,
/// so an `async fn open(options: StorageOptions) -> Arc<dyn Backend>` is a factory.
pub trait BackendFactory: Send + Sync {
    /// A store that shares nothing with the ones opened before.
    fn open(&self, options: StorageOptions) -> BoxFuture<'_, Arc<dyn Backend>>;
}

impl<F, Opening> BackendFactory for F
where
    F: Fn(StorageOptions) -> Opening + Send + Sync,
    Opening: Future<Output = Arc<dyn Backend>> + Send + 'static,
{
    fn open(&self, options: StorageOptions) -> BoxFuture<'_, Arc<dyn Backend>> {
        Box::pin(self(options))
    }
}

/// Runs the whole [conformance suite](crate::backend::conformance) against the backends
/// that `$factory` (a [`BackendFactory`](crate::backend::conformance::BackendFactory)
/// expression) opens: one `#[tokio::test]` per case, named after it. Put it in a module of
/// its own per backend (`mod memory { realtime_core::backend_conformance!(open_memory); }`).
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! backend_conformance {
    ($factory:expr) => {
        $crate::backend_conformance!(@cases $factory;
            events_arrive_in_emit_order_with_their_ids,
            the_default_channel_is_called_default,
            history_honours_inclusive_bounds_and_limits,
            history_limits_out_of_range_are_refused,
            after_replays_strictly_after_the_cursor_then_goes_live,
            after_a_trimmed_or_unknown_cursor_is_unavailable,
            since_a_bare_millisecond_replays_what_came_later,
            with_history_and_since_together_start_at_the_earlier_of_the_two,
            with_history_then_live_has_no_gap_and_no_duplicate_under_load,
            with_history_of_counts_only_the_given_kinds_and_keeps_what_came_between,
            concurrent_emitters_are_all_delivered_once_in_id_order,
            many_subscribers_each_receive_every_event,
            dropping_the_last_subscription_closes_the_channel_feed,
            invalid_events_are_refused_and_leave_nothing_stored,
            emit_json_checks_the_name_and_the_schema,
            a_filter_lets_only_its_kinds_through,
            a_subscriber_that_falls_behind_catches_up_from_history,
            emit_to_writes_every_channel_and_checks_names_first,
            foreign_entries_are_counted_and_skipped_without_breaking_anything,
            bad_channel_names_are_refused,
            separate_handles_on_one_store_see_each_others_events,
            idempotent_emits_store_once_per_key_within_the_window,
            idempotency_keys_reused_for_another_event_or_data_are_refused,
            a_subscription_dropped_while_it_opens_leaves_no_listener,
            typed_data_is_stored_and_delivered_as_serde_writes_it,
            raw_json_is_stored_in_the_senders_order_when_it_means_the_same,
            presence_announces_a_member_once_however_many_connections_it_has,
            presence_changes_are_ordinary_entries_of_the_channel,
            presence_refuses_bad_members_bad_info_and_emitted_presence_events,
            presence_is_refused_for_an_event_set_without_it,
            presence_heartbeats_keep_members_past_their_ttl,
            presence_of_a_process_that_stops_heartbeating_expires_and_is_announced_once,
            presence_watchers_announce_expired_members_without_being_asked,
            presence_a_swept_lease_is_never_taken_back,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let factory = $factory;
                $crate::backend::conformance::$case(&factory).await;
            }
        )*
    };
}
