//! What the cases share: the event set they emit, handles on a fresh store, and waits that
//! turn a hang into a failure.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::{BackendFactory, StorageOptions};
use crate::backend::Backend;
use crate::{Cursor, Events, Realtime, Subscription};

/// The event set the suite emits.
#[derive(crate::Events, Clone, Debug, PartialEq)]
pub enum TestEvent {
    /// A chat message; its text must be 1 to 280 characters.
    #[event("chat.message")]
    Message {
        /// Who wrote it.
        author: String,
        /// What they wrote.
        #[schemars(length(min = 1, max = 280))]
        text: String,
    },
    /// Someone is typing.
    #[event("chat.typing")]
    Typing(String),
    /// A numbered tick, to check order.
    #[event("counter.tick")]
    Tick(u32),
    /// A measurement: fields out of alphabetical order and an `f32`, to check that the
    /// data is stored as serde writes it.
    #[event("sensor.reading")]
    Reading {
        /// Where it was measured.
        station: String,
        /// The temperature.
        celsius: f32,
    },
}

/// How long a case waits for an event before failing instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Takes `count` envelopes as `(id, event)`, failing the test when they do not come.
pub async fn take<E: Events>(subscription: &mut Subscription<E>, count: usize) -> Vec<(Cursor, E)> {
    let mut received = Vec::with_capacity(count);
    while received.len() < count {
        match tokio::time::timeout(PATIENCE, subscription.next()).await {
            Ok(Some(envelope)) => received.push((envelope.id, envelope.event)),
            Ok(None) => panic!(
                "subscription ended after {} of {count} events",
                received.len()
            ),
            Err(_) => panic!(
                "only {} of {count} events arrived within {PATIENCE:?}",
                received.len()
            ),
        }
    }
    received
}

/// Asserts that nothing more arrives for a short while.
pub async fn assert_quiet<E: Events + std::fmt::Debug>(subscription: &mut Subscription<E>) {
    if let Ok(Some(extra)) =
        tokio::time::timeout(Duration::from_millis(300), subscription.next()).await
    {
        panic!("unexpected extra event {extra:?}");
    }
}

pub(super) async fn realtime(
    factory: &dyn BackendFactory,
    options: StorageOptions,
) -> (Realtime<TestEvent>, Arc<dyn Backend>) {
    let backend = factory.open(options).await;
    (Realtime::with_backend(Arc::clone(&backend)), backend)
}

pub(super) async fn handle(factory: &dyn BackendFactory) -> Realtime<TestEvent> {
    realtime(factory, StorageOptions::default()).await.0
}

pub(super) fn tick(n: u32) -> TestEvent {
    TestEvent::Tick(n)
}

pub(super) fn message(text: &str) -> TestEvent {
    TestEvent::Message {
        author: "ada".into(),
        text: text.into(),
    }
}

pub(super) fn ticks(received: &[(Cursor, TestEvent)]) -> Vec<u32> {
    received
        .iter()
        .map(|(_, event)| match event {
            TestEvent::Tick(n) => *n,
            other => panic!("expected a tick, got {other:?}"),
        })
        .collect()
}

/// Waits until the backend holds no subscription (a Redis UNSUBSCRIBE is asynchronous).
pub(super) async fn wait_until_no_listener(rt: &Realtime<TestEvent>) {
    for _ in 0..200 {
        if rt.stats().listened_channels == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still listening: {:?}", rt.stats());
}
