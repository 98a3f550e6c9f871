//! The inspector's routes over HTTP (`realtime_axum::inspector`, on the embedded backend):
//! the authorization hook on every api/ route, read-only mode, history pages (newest
//! first, an event filter filling pages across reads, nothing skipped or repeated), a live
//! tail (entries checked, a bad one flagged, the rate bound counting what it skips) and
//! the bound on open tails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse;
use futures::StreamExt;
use http::StatusCode;
use realtime_axum::AuthRequest;
use realtime_axum::inspector::{InspectorLimits, inspector};
use realtime_core::Realtime;
use realtime_core::backend::{Backend, MemoryBackend};
use realtime_tests::TestEvent;
use serde_json::{Value, json};

/// Serves `router` on a free port; returns its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

fn limits(change: impl FnOnce(&mut InspectorLimits)) -> InspectorLimits {
    let mut limits = InspectorLimits::default();
    change(&mut limits);
    limits
}

#[tokio::test]
async fn a_hook_guards_every_api_route_and_read_only_refuses_emits() {
    let rt = Realtime::<TestEvent>::memory();
    let router = inspector(rt)
        .authorize(|request: AuthRequest| async move {
            match request.headers().get("x-admin") {
                Some(value) if value == "yes" => Ok(()),
                _ => Err(StatusCode::UNAUTHORIZED.into_response()),
            }
        })
        .read_only()
        .build()
        .unwrap();
    let base = serve(router).await;
    let client = reqwest::Client::new();
    for path in [
        "/api/info",
        "/api/health",
        "/api/channels",
        "/api/channels/default/history",
        "/api/channels/default/presence",
        "/api/channels/default/tail",
    ] {
        let refused = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let emit = || {
        client
            .post(format!("{base}/api/channels/default/emit"))
            .json(&json!({ "event": "counter.tick", "data": 1 }))
    };
    assert_eq!(
        emit().send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let read_only = emit().header("x-admin", "yes").send().await.unwrap();
    assert_eq!(read_only.status(), StatusCode::FORBIDDEN);

    let info: Value = client
        .get(format!("{base}/api/info"))
        .header("x-admin", "yes")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["readOnly"], json!(true));
    let names: Vec<&str> = info["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "chat.message",
            "chat.typing",
            "counter.tick",
            "sensor.reading"
        ]
    );
    // The page is static and public; it holds no data.
    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<title>Realtime inspector</title>")
    );
}

#[tokio::test]
async fn emits_are_checked_by_the_server_and_stored_once_per_key() {
    let rt = Realtime::<TestEvent>::memory();
    let router = inspector(rt.clone())
        .allow_unauthenticated()
        .build()
        .unwrap();
    let base = serve(router).await;
    let client = reqwest::Client::new();
    let emit = |data: Value, key: &str| {
        client
            .post(format!("{base}/api/channels/room-1/emit"))
            .json(&json!({ "event": "chat.message", "data": data, "key": key }))
            .send()
    };
    let refused = emit(json!({ "author": "ada", "text": "" }), "k1")
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        (&body["path"], &body["rule"]),
        (&json!("/text"), &json!("minLength"))
    );
    let first: Value = emit(json!({ "author": "ada", "text": "hi" }), "k2")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again: Value = emit(json!({ "author": "ada", "text": "hi" }), "k2")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["id"], again["id"]);
    let stored = rt
        .channel("room-1")
        .history(realtime_core::History::new())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn history_pages_go_newest_first_and_a_filter_fills_pages_across_reads() {
    let rt = Realtime::<TestEvent>::memory();
    let channel = rt.channel("default");
    let mut messages = Vec::new();
    for n in 0..35_u32 {
        if n % 7 == 3 {
            let id = channel
                .emit(&TestEvent::Message {
                    author: "ada".into(),
                    text: format!("m{n}"),
                })
                .await
                .unwrap();
            messages.push(id.to_string());
        } else {
            channel.emit(&TestEvent::Tick(n)).await.unwrap();
        }
    }
    let router = inspector(rt)
        .allow_unauthenticated()
        .limits(limits(|limits| {
            limits.page_size = 10;
            limits.filter_scan_pages = 10;
        }))
        .build()
        .unwrap();
    let base = serve(router).await;
    let client = reqwest::Client::new();
    let read_all = |query: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let mut ids: Vec<String> = Vec::new();
            let mut before: Option<String> = None;
            loop {
                let mut url = format!("{base}/api/channels/default/history?{query}");
                if let Some(before) = &before {
                    url.push_str(&format!("&before={before}"));
                }
                let page: Value = client.get(url).send().await.unwrap().json().await.unwrap();
                ids.extend(
                    page["entries"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|entry| entry["id"].as_str().unwrap().to_owned()),
                );
                match page["older"].as_str() {
                    Some(older) => before = Some(older.to_owned()),
                    None => return ids,
                }
            }
        }
    };
    // Asking for more than the page size gets a page of it.
    let all = read_all("limit=50").await;
    assert_eq!(all.len(), 35);
    let mut sorted = all.clone();
    sorted.sort_by_key(|id| std::cmp::Reverse(id.parse::<realtime_core::Cursor>().unwrap()));
    assert_eq!(all, sorted, "newest first, nothing repeated");
    // Two messages a page, found across several reads of ten entries.
    let found = read_all("limit=2&event=chat.message").await;
    let mut expected = messages.clone();
    expected.reverse();
    assert_eq!(found, expected);
    let bad = client
        .get(format!(
            "{base}/api/channels/default/history?before=yesterday"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// Reads SSE `data:` messages of `response` until `enough` says so (or 10 s pass).
async fn read_messages(
    response: reqwest::Response,
    enough: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut messages = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !enough(&messages) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("the tail sent only {messages:?}"))
            .unwrap()
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            for line in block.lines() {
                if let Some(data) = line.strip_prefix("data: ") {
                    messages.push(serde_json::from_str(data).unwrap());
                }
            }
        }
    }
    messages
}

#[tokio::test]
async fn a_tail_flags_bad_entries_and_counts_what_passes_its_rate() {
    let backend = Arc::new(MemoryBackend::new());
    let rt = Realtime::<TestEvent>::with_backend(Arc::clone(&backend));
    let router = inspector(rt.clone())
        .allow_unauthenticated()
        .limits(limits(|limits| limits.tail_entries_per_second = 5))
        .build()
        .unwrap();
    let base = serve(router).await;
    let tail = reqwest::get(format!("{base}/api/channels/default/tail"))
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Written by another producer: a tick whose data is a string.
    let bad = backend
        .append("default", "counter.tick", "\"seven\"")
        .await
        .unwrap();
    for n in 0..19 {
        rt.emit(&TestEvent::Tick(n)).await.unwrap();
    }
    let counted = |messages: &[Value]| -> u64 {
        messages
            .iter()
            .map(|message| match message["type"].as_str() {
                Some("entry") => 1,
                Some("skipped") => message["count"].as_u64().unwrap(),
                _ => 0,
            })
            .sum()
    };
    let messages = read_messages(tail, |messages| counted(messages) >= 20).await;
    assert_eq!(counted(&messages), 20, "{messages:?}");
    let entries: Vec<&Value> = messages
        .iter()
        .filter(|message| message["type"] == "entry")
        .collect();
    assert_eq!(entries.len(), 5, "five a second: {messages:?}");
    assert_eq!(entries[0]["id"], json!(bad.to_string()));
    assert_eq!(entries[0]["problem"]["rule"], json!("type"));
    assert!(entries[1..].iter().all(|entry| entry["problem"].is_null()));
}

#[tokio::test]
async fn tails_past_the_bound_get_503_until_one_closes() {
    let rt = Realtime::<TestEvent>::memory();
    let router = inspector(rt)
        .allow_unauthenticated()
        .limits(limits(|limits| limits.max_tails = 1))
        .build()
        .unwrap();
    let base = serve(router).await;
    let url = format!("{base}/api/channels/default/tail");
    let first = reqwest::get(&url).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let second = reqwest::get(&url).await.unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    drop(first);
    // The tail's task notices the page left and gives its permit back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let again = reqwest::get(&url).await.unwrap();
        if again.status() == StatusCode::OK {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the permit never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
