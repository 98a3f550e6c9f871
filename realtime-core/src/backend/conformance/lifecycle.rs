//! Channel feeds and backend listeners opened and closed with their subscriptions.

use std::future::{Future, IntoFuture};

use super::support::{handle, tick, ticks, wait_until_no_listener};
use super::{BackendFactory, take};

pub async fn dropping_the_last_subscription_closes_the_channel_feed(factory: &dyn BackendFactory) {
    let rt = handle(factory).await;
    let first = rt.channel("a").subscribe_all().await.unwrap();
    let second = rt.channel("a").subscribe_all().await.unwrap();
    let other = rt.channel("b").subscribe_all().await.unwrap();
    assert_eq!(rt.stats().live_channels, 2);
    drop(first);
    assert_eq!(rt.stats().live_channels, 2, "`a` still has a subscriber");
    drop(second);
    assert_eq!(rt.stats().live_channels, 1);
    drop(other);
    assert_eq!(rt.stats().live_channels, 0);
    wait_until_no_listener(&rt).await;
    // Subscribing again reopens the feed and works.
    let mut again = rt.channel("a").subscribe_all().await.unwrap();
    rt.channel("a").emit(&tick(7)).await.unwrap();
    assert_eq!(ticks(&take(&mut again, 1).await), [7]);
}

pub async fn a_subscription_dropped_while_it_opens_leaves_no_listener(
    factory: &dyn BackendFactory,
) {
    let rt = handle(factory).await;
    // Give up on subscriptions at every point of their setup, on many channels.
    for round in 0..200u32 {
        let channel = rt.channel(format!("user-{round}"));
        let opening = channel.subscribe_all().into_future();
        let polls = round % 7;
        let mut opening = Box::pin(opening);
        for _ in 0..polls {
            let waker = futures::task::noop_waker();
            let mut context = std::task::Context::from_waker(&waker);
            if opening.as_mut().poll(&mut context).is_ready() {
                break;
            }
            tokio::task::yield_now().await;
        }
        drop(opening);
    }
    assert_eq!(rt.stats().live_channels, 0);
    wait_until_no_listener(&rt).await;
}
