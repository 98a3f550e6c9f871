//! Emits under faults and from hostile pages: a private Redis that stalls (DEBUG SLEEP,
//! SIGSTOP), restarts, or holds another type at a channel's key; the emit route's answers
//! (504 outcome unknown, 409, idempotent retries) and its defences against cross-site
//! requests (415 for non-JSON bodies, 403 for origins not allowed, the CORS preflight).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test panics

use std::time::Duration;

use futures::StreamExt;
use http::StatusCode;
use realtime_axum::{AllowOrigin, EmitConfig, RealtimeSse};
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use realtime_core::backend::{Backend, FailureKind};
use realtime_core::{Cursor, Error, History, Realtime};
use realtime_tests::sse::{SseClient, TestServer};
use realtime_tests::{PrivateRedis, TestEvent, redis_backend, take};
use serde_json::{Value, json};

/// A handle on a private Redis whose commands time out after `timeout`.
async fn over(server: &PrivateRedis, timeout: Duration) -> Realtime<TestEvent> {
    let options = RedisOptions::default().command_timeout(timeout);
    let backend = RedisBackend::connect_with(&server.url(), options)
        .await
        .unwrap();
    Realtime::with_backend(backend)
}

/// Stalls the server for `seconds` with DEBUG SLEEP (sent on a connection of its own);
/// the task ends when the server answers again.
fn debug_sleep(server: &PrivateRedis, seconds: f64) -> tokio::task::JoinHandle<()> {
    let url = server.url();
    tokio::spawn(async move {
        let client = redis::Client::open(url).unwrap();
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        let mut connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .unwrap();
        let _: () = redis::cmd("DEBUG")
            .arg("SLEEP")
            .arg(seconds)
            .query_async(&mut connection)
            .await
            .unwrap();
    })
}

fn tick(n: u32) -> TestEvent {
    TestEvent::Tick(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emit_redis_does_not_answer_is_outcome_unknown_and_a_keyed_retry_stores_it_once() {
    let server = PrivateRedis::start().await;
    let rt = over(&server, Duration::from_millis(500)).await;
    let orders = rt.channel("orders");
    let mut live = orders.subscribe_all().await.unwrap();
    orders.emit(&tick(0)).await.unwrap();

    let sleeping = debug_sleep(&server, 2.0);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let keyed = orders.emit_with_key(&tick(1), "order-1").await;
    let unkeyed = orders.emit(&tick(2)).await;
    for outcome in [&keyed, &unkeyed] {
        assert!(
            matches!(outcome, Err(Error::OutcomeUnknown { .. })),
            "an emit sent but not answered is not a plain failure: {outcome:?}"
        );
    }
    let message = unkeyed.unwrap_err().to_string();
    assert!(message.contains("unknown"), "{message}");
    sleeping.await.unwrap();

    // Both were stored when Redis woke up: "unknown" was the honest answer.
    let retried = orders.emit_with_key(&tick(1), "order-1").await.unwrap();
    let stored = orders.history(History::new()).await.unwrap();
    let ticks: Vec<(Cursor, TestEvent)> = stored.into_iter().map(|e| (e.id, e.event)).collect();
    let keyed_entries: Vec<&(Cursor, TestEvent)> = ticks
        .iter()
        .filter(|(_, event)| *event == tick(1))
        .collect();
    assert_eq!(keyed_entries.len(), 1, "stored once: {ticks:?}");
    assert_eq!(
        keyed_entries[0].0, retried,
        "the retry answers the original id"
    );
    assert!(ticks.iter().any(|(_, event)| *event == tick(2)));
    let received = take(&mut live, 3).await;
    assert_eq!(
        received.len(),
        ticks.len(),
        "every stored event delivered once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_gives_504_and_the_same_idempotency_key_answers_the_same_id() {
    let server = PrivateRedis::start().await;
    let rt = over(&server, Duration::from_millis(500)).await;
    let sse = RealtimeSse::builder(rt.clone())
        .emit_route(EmitConfig::new())
        .build();
    let http = TestServer::serve(&sse).await;
    let client = reqwest::Client::new();
    let post = |key: &str| {
        client
            .post(http.url("/api/realtime"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(json!({"channel": "jobs", "event": "counter.tick", "data": 7}).to_string())
            .send()
    };
    rt.channel("jobs").emit(&tick(0)).await.unwrap();

    server.pause();
    let response = post("job-7").await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    server.resume();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("Idempotency-Key"),
        "{body}"
    );

    let mut ids = Vec::new();
    for _ in 0..3 {
        let response = post("job-7").await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry answers the one id: {ids:?}");
    let stored = rt.channel("jobs").history(History::new()).await.unwrap();
    assert_eq!(stored.len(), 2, "the first event and the keyed one, once");
    assert_eq!(stored[1].id.to_string(), ids[0]);

    let bad_key = client
        .post(http.url("/api/realtime"))
        .header("content-type", "application/json")
        .header("idempotency-key", "two words")
        .body(json!({"event": "counter.tick", "data": 1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_emit_and_read_after_a_redis_restart_succeed() {
    let mut server = PrivateRedis::start().await;
    let rt = over(&server, Duration::from_secs(2)).await;
    let room = rt.channel("room");
    room.emit(&tick(1)).await.unwrap();
    for pause in [0, 300, 1_500] {
        server.kill();
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.restart().await;
        let emitted = room.emit(&tick(2)).await;
        assert!(emitted.is_ok(), "after a {pause} ms outage: {emitted:?}");
        server.kill();
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.restart().await;
        let read = room.history(History::new()).await;
        assert!(read.is_ok(), "after a {pause} ms outage: {read:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_whose_key_holds_another_type_is_refused_for_good_without_redis_words() {
    let server = PrivateRedis::start().await;
    let rt = over(&server, Duration::from_secs(2)).await;
    let mut connection = server.connection().await;
    let _: () = redis::cmd("SET")
        .arg("realtime:taken")
        .arg("not a stream")
        .query_async(&mut connection)
        .await
        .unwrap();

    let error = rt.channel("taken").emit(&tick(1)).await.unwrap_err();
    let Error::Backend(backend) = &error else {
        panic!("expected a backend refusal, got {error:?}");
    };
    assert_eq!(backend.failure_kind(), FailureKind::Refused);

    let sse = RealtimeSse::builder(rt.clone())
        .emit_route(EmitConfig::new())
        .build();
    let http = TestServer::serve(&sse).await;
    let response = reqwest::Client::new()
        .post(http.url("/api/realtime"))
        .header("content-type", "application/json")
        .body(json!({"channel": "taken", "event": "counter.tick", "data": 1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.headers().get("retry-after").is_none());
    let body: Value = response.json().await.unwrap();
    let text = body["error"].as_str().unwrap();
    assert!(text.contains("will not succeed on retry"), "{text}");
    assert!(!text.contains("WRONGTYPE"), "no Redis internals: {text}");

    let stream = SseClient::connect(&http.url("/api/realtime?channel=taken")).await;
    assert_eq!(stream.status, StatusCode::CONFLICT);
}

/// Redis's deterministic refusals (here `NOPERM`, an ACL that denies the stream
/// commands) are lasting: retrying cannot help, so no 503 with `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_redis_denies_are_refused_for_good_not_unavailable() {
    let server = PrivateRedis::start().await;
    let mut admin = server.connection().await;
    let _: () = redis::cmd("ACL")
        .arg(&["SETUSER", "app", "on", ">secret", "~*", "&*", "+@all"][..])
        .arg(&["-xadd", "-xrange", "-xrevrange"][..])
        .query_async(&mut admin)
        .await
        .unwrap();
    let url = format!("redis://app:secret@{}", server.addr());
    let backend = RedisBackend::connect_with(&url, RedisOptions::default())
        .await
        .unwrap();
    let rt = Realtime::<TestEvent>::with_backend(backend);

    // The emit script's XADD (caught inside the script) and a read.
    let emitted = rt.channel("denied").emit(&tick(1)).await.unwrap_err();
    let read = rt
        .channel("denied")
        .history(History::last(5))
        .await
        .unwrap_err();
    for error in [&emitted, &read] {
        let Error::Backend(backend) = error else {
            panic!("expected a backend refusal, got {error:?}");
        };
        assert_eq!(backend.failure_kind(), FailureKind::Refused, "{error}");
    }

    let sse = RealtimeSse::new(rt.clone());
    let http = TestServer::serve(&sse).await;
    let resume =
        SseClient::connect(&http.url("/api/realtime?channel=denied&last_ack_denied=1-0")).await;
    assert_eq!(resume.status, StatusCode::CONFLICT);
    assert!(resume.headers.get("retry-after").is_none());
    let body = resume.rest().await;
    assert!(body.contains("no permissions"), "{body}");
}

/// A retry sends the same event and data with its key; another event under a used key is
/// a mistake the route refuses (422, as the IETF draft on `Idempotency-Key` asks), not a
/// 200 with the first event's id that silently drops the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emit_route_refuses_an_idempotency_key_reused_for_other_data() {
    let rt = Realtime::<TestEvent>::with_backend(redis_backend(RedisOptions::default()).await);
    let sse = RealtimeSse::builder(rt.clone())
        .emit_route(EmitConfig::new())
        .build();
    let http = TestServer::serve(&sse).await;
    let post = |data: u32| {
        reqwest::Client::new()
            .post(http.url("/api/realtime"))
            .header("content-type", "application/json")
            .header("idempotency-key", "order-7")
            .body(json!({"channel": "orders", "event": "counter.tick", "data": data}).to_string())
            .send()
    };
    let first = post(1).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let retry: Value = post(1).await.unwrap().json().await.unwrap();
    assert_eq!(retry, first, "the same event and data: the original id");

    let reused = post(2).await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = reused.json().await.unwrap();
    let text = body["error"].as_str().unwrap();
    assert!(
        text.contains("`order-7`") && text.contains("different event or data"),
        "{text}"
    );
    assert!(
        text.contains(first["id"].as_str().unwrap()),
        "names the original: {text}"
    );
    let stored = rt.channel("orders").history(History::new()).await.unwrap();
    assert_eq!(stored.len(), 1, "nothing more stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_key_prefixes_cannot_address_each_others_channels() {
    let outer = redis_backend(RedisOptions::default()).await;
    let outer_prefix = match &outer.options().key_layout {
        realtime_core::backend::redis::KeyLayout::Prefixed(prefix) => prefix.clone(),
        other => panic!("expected a prefixed layout, got {other:?}"),
    };
    let inner = RedisBackend::connect_with(
        &realtime_tests::redis_url(),
        RedisOptions::default()
            .key_prefix(format!("{outer_prefix}b:"))
            .expire_after(realtime_tests::TEST_STREAM_LIFETIME),
    )
    .await
    .unwrap();
    inner.append("c", "counter.tick", "1").await.unwrap();
    assert_ne!(outer.stream_key("b:c"), inner.stream_key("c"));
    let seen = outer
        .read("b:c", realtime_core::backend::ReadRange::after(None, 10))
        .await
        .unwrap();
    assert!(
        seen.is_empty(),
        "the outer app reads the inner app's channel"
    );

    let refused = RedisBackend::connect_with(
        &realtime_tests::redis_url(),
        RedisOptions::default().key_prefix("no-colon"),
    )
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("must end with `:`"),
        "{refused}"
    );
}

/// The emit route of an endpoint that allows one other origin.
async fn guarded_route() -> (Realtime<TestEvent>, TestServer) {
    let rt = Realtime::<TestEvent>::memory();
    let sse = RealtimeSse::builder(rt.clone())
        .allow_origin(AllowOrigin::List(vec!["https://app.example".into()]))
        .emit_route(EmitConfig::new())
        .build();
    let server = TestServer::serve(&sse).await;
    (rt, server)
}

#[tokio::test]
async fn cross_site_pages_cannot_make_a_browser_emit() {
    let (rt, server) = guarded_route().await;
    let client = reqwest::Client::new();
    let url = server.url("/api/realtime");
    let body = json!({"event": "counter.tick", "data": 1}).to_string();

    // A "simple" request needs no preflight: refused for its content type.
    let simple = client
        .post(&url)
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), StatusCode::FORBIDDEN);
    let plain = client
        .post(&url)
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let json_from_evil = client
        .post(&url)
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(json_from_evil.status(), StatusCode::FORBIDDEN);
    assert!(
        json_from_evil
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(rt.history(History::new()).await.unwrap().is_empty());

    // The preflight: allowed origins learn the methods and headers, others are refused.
    let preflight = |origin: &str| {
        client
            .request(http::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, idempotency-key",
            )
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    let header = |name: &str| {
        allowed
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_ascii_lowercase())
    };
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    assert!(
        header("access-control-allow-methods")
            .unwrap()
            .contains("post")
    );
    let allowed_headers = header("access-control-allow-headers").unwrap();
    assert!(
        allowed_headers.contains("content-type") && allowed_headers.contains("idempotency-key")
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // The allowed origin and the page's own origin emit.
    for origin in [
        "https://app.example".to_owned(),
        format!("http://{}", server.addr),
    ] {
        let response = client
            .post(&url)
            .header("origin", &origin)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{origin}");
    }
    assert_eq!(rt.history(History::new()).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_huge_unknown_event_name_is_not_echoed_back_whole() {
    let (_rt, server) = guarded_route().await;
    let name = "x".repeat(50_000);
    let response = reqwest::Client::new()
        .post(server.url("/api/realtime"))
        .header("content-type", "application/json")
        .body(json!({"event": name, "data": 1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.len() < 1_000, "{} bytes echoed", body.len());
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["event"].as_str().unwrap().len() <= 64);
    assert!(body["error"].as_str().unwrap().contains("expected one of"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_keyed_emit_reaches_a_live_subscriber_once() {
    let server = PrivateRedis::start().await;
    let rt = over(&server, Duration::from_millis(300)).await;
    let room = rt.channel("room");
    let mut live = room.subscribe_all().await.unwrap();
    // Emits with keys while Redis freezes and thaws repeatedly: whatever each attempt
    // reports, retrying it with its key until it succeeds stores and delivers it once.
    let emitter = {
        let room = room.clone();
        tokio::spawn(async move {
            let (mut ids, mut unknown, mut failed) = (Vec::new(), 0, 0);
            for n in 0..40u32 {
                // Paced, so that the emits span the freezes below.
                tokio::time::sleep(Duration::from_millis(60)).await;
                let key = format!("tick-{n}");
                loop {
                    match room.emit_with_key(&tick(n), &key).await {
                        Ok(id) => break ids.push(id),
                        Err(error) => {
                            match error {
                                Error::OutcomeUnknown { .. } => unknown += 1,
                                _ => failed += 1,
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }
            eprintln!(
                "40 keyed emits through 4 freezes: {unknown} attempts with an unknown outcome, {failed} other failures, all retried with their keys"
            );
            (ids, unknown)
        })
    };
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        server.pause();
        tokio::time::sleep(Duration::from_millis(500)).await;
        server.resume();
    }
    let (ids, unknown) = emitter.await.unwrap();
    assert!(unknown > 0, "the freezes left some outcomes unknown");
    let received = take(&mut live, 40).await;
    let received_ids: Vec<Cursor> = received.iter().map(|(id, _)| *id).collect();
    assert_eq!(received_ids, ids, "each acknowledged id once, in order");
    let expected: Vec<TestEvent> = (0..40).map(tick).collect();
    let events: Vec<TestEvent> = received.into_iter().map(|(_, event)| event).collect();
    assert_eq!(events, expected);
    assert_eq!(room.history(History::new()).await.unwrap().len(), 40);
    if let Ok(Some(extra)) = tokio::time::timeout(Duration::from_millis(500), live.next()).await {
        panic!("a duplicate arrived: {extra:?}");
    }
}
