//! The progress routes over a real socket: a page opened mid-job gets the whole job then
//! the rest live, each step once; a resuming client gets only what followed its id; bad
//! jobs are refused and start nothing; state and cancel; a job whose server stopped is
//! reported stalled; only job channels are served; the
//! running-jobs limit; two servers over one Redis (either one tells where a job is,
//! streams it and cancels it); the Rust follower in another process over Redis, as a library and as the
//! `progress follow` command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use example_support::testing::{EventStream, TestClient};
use progress::{JobEvent, JobSpec, Jobs, Outcome, StartError};
use realtime_core::Realtime;
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn start(realtime: Realtime<JobEvent>) -> TestClient {
    TestClient::start(progress::app(realtime, None).router).await
}

/// The job routes, as a test calls them.
trait JobRoutes {
    async fn start_job(&self, body: Value) -> String;
    async fn state(&self, id: &str) -> (StatusCode, Value);
    async fn cancel(&self, id: &str) -> (StatusCode, Value);
    /// Polls the job's state until `ready` holds.
    async fn wait_for(&self, id: &str, ready: impl Fn(&Value) -> bool) -> Value;
}

impl JobRoutes for TestClient {
    async fn start_job(&self, body: Value) -> String {
        let (status, job) = self.post(None, "/api/jobs", body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        job["id"].as_str().unwrap().to_owned()
    }

    async fn state(&self, id: &str) -> (StatusCode, Value) {
        self.get(None, &format!("/api/jobs/{id}")).await
    }

    async fn cancel(&self, id: &str) -> (StatusCode, Value) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/api/jobs/{id}"),
            None,
            None,
        )
        .await
    }

    async fn wait_for(&self, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, state) = self.state(id).await;
            if ready(&state) {
                return state;
            }
            assert!(Instant::now() < deadline, "job {id} stuck at {state}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Event frames until `job.done`: (id, step) of each `job.progress`, and the done data.
async fn until_done(page: &mut EventStream) -> (Vec<(String, u64)>, Value) {
    let mut steps = Vec::new();
    loop {
        let frame = page.next_frame().await;
        match frame["event"].as_str() {
            Some("job.progress") => steps.push((
                frame["id"].as_str().unwrap().to_owned(),
                frame["data"]["step"].as_u64().unwrap(),
            )),
            Some("job.started" | "job.cancelRequested") => {}
            Some("job.done") => return (steps, frame["data"].clone()),
            _ => panic!("unexpected frame {frame}"),
        }
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[tokio::test]
async fn a_page_opened_mid_job_gets_the_whole_job_then_the_rest_live() {
    let server = start(Realtime::memory()).await;
    let id = server
        .start_job(json!({ "steps": 8, "stepMillis": 60, "title": "Thumbnails" }))
        .await;
    let state = server
        .wait_for(&id, |state| state["step"].as_u64() >= Some(3))
        .await;
    assert_eq!(state["state"], "running", "{state}");

    // What the browser client sends for a channel it has seen nothing on: `Date.now()`.
    let mut page = server
        .stream(
            None,
            &format!("channel=job-{id}&last_ack_job-{id}={}", now_ms()),
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.next_frame().await["type"], "connected");
    let started = page.next_frame().await;
    assert_eq!(started["event"], "job.started", "{started}");
    assert_eq!(
        started["data"],
        json!({ "title": "Thumbnails", "steps": 8, "stepMillis": 60 })
    );
    let (steps, done) = until_done(&mut page).await;
    assert_eq!(
        steps.iter().map(|(_, step)| *step).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>(),
        "every step once, in order"
    );
    assert_eq!(done["outcome"], "completed", "{done}");
    assert_eq!(done["stepsDone"], 8);
    assert!(
        done["summary"]
            .as_str()
            .unwrap()
            .starts_with("Thumbnails: 8 steps"),
        "{done}"
    );

    // A client resuming after step 5's id gets exactly steps 6 to 8 and the end.
    let mut resumed = server
        .stream(
            None,
            &format!("channel=job-{id}&last_ack_job-{id}={}", steps[4].0),
        )
        .await;
    assert_eq!(resumed.next_frame().await["type"], "connected");
    let (rest, _) = until_done(&mut resumed).await;
    assert_eq!(rest, steps[5..]);

    let state = server
        .wait_for(&id, |state| state["state"] == "ended")
        .await;
    assert_eq!(state["outcome"], "completed", "{state}");
}

#[tokio::test]
async fn bad_jobs_are_refused_with_what_is_expected_and_start_nothing() {
    let server = start(Realtime::memory()).await;
    for (body, expected) in [
        (json!({ "steps": 0 }), "`steps` is 0; it must be 1 to 100"),
        (json!({ "steps": 101 }), "`steps` is 101"),
        (
            json!({ "stepMillis": 5 }),
            "`stepMillis` is 5; it must be 10 to 10000",
        ),
        (
            json!({ "title": " " }),
            "`title` must be 1 to 60 characters",
        ),
        (json!({ "steps": "ten" }), "steps"),
        (json!({ "steps": 3, "colour": "red" }), "colour"),
        (json!([1, 2]), "invalid job"),
    ] {
        let (status, reply) = server
            .call(reqwest::Method::POST, "/api/jobs", None, Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {reply}"
        );
        let error = reply["error"].as_str().unwrap_or_default();
        assert!(error.contains(expected), "{body} -> {error}");
    }
    // Malformed JSON, and a body sent without a JSON content type (read, never ignored).
    for (content_type, body, expected) in [
        ("application/json", "{\"steps\": 3", "EOF while parsing"),
        ("text/plain", "{\"steps\": 0}", "`steps` is 0"),
    ] {
        let response = server
            .http()
            .post(server.url("/api/jobs"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let reply: Value = response.json().await.unwrap();
        let error = reply["error"].as_str().unwrap_or_default();
        assert!(error.contains(expected), "{body} -> {error}");
    }
    let (_, list) = server
        .call(reqwest::Method::GET, "/api/jobs", None, None)
        .await;
    assert_eq!(list, json!({ "jobs": [] }), "nothing started");

    // No body at all is the default job.
    let response = server
        .http()
        .post(server.url("/api/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let job: Value = response.json().await.unwrap();
    assert_eq!(
        (&job["steps"], &job["stepMillis"], &job["title"]),
        (&json!(10), &json!(400), &json!("Job"))
    );
    assert_eq!(
        location,
        format!("/api/jobs/{}", job["id"].as_str().unwrap())
    );
    assert_eq!(
        job["channel"],
        format!("job-{}", job["id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn a_job_can_be_cancelled_and_its_state_says_so() {
    let server = start(Realtime::memory()).await;
    let id = server
        .start_job(json!({ "steps": 50, "stepMillis": 40 }))
        .await;
    let mut page = server
        .stream(
            None,
            &format!("channel=job-{id}&last_ack_job-{id}={}", now_ms()),
        )
        .await;
    server
        .wait_for(&id, |state| state["step"].as_u64() >= Some(2))
        .await;
    let (status, _) = server.cancel(&id).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(page.next_frame().await["type"], "connected");
    let (steps, done) = until_done(&mut page).await;
    assert_eq!(done["outcome"], "cancelled", "{done}");
    assert_eq!(done["stepsDone"].as_u64(), Some(steps.len() as u64));
    assert!(steps.len() < 50);
    let state = server
        .wait_for(&id, |state| state["state"] == "ended")
        .await;
    assert_eq!(state["outcome"], "cancelled");

    let (status, reply) = server.cancel(&id).await;
    assert_eq!(status, StatusCode::CONFLICT, "an ended job: {reply}");
    assert!(
        reply["error"].as_str().unwrap().contains("has ended"),
        "{reply}"
    );
    for unknown in ["0-0-0", "NOT-AN-ID"] {
        let (status, reply) = server.state(unknown).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{reply}");
        assert!(
            reply["error"].as_str().unwrap().contains(unknown),
            "{reply}"
        );
    }
}

#[tokio::test]
async fn only_job_channels_are_served() {
    let server = start(Realtime::memory()).await;
    for query in [
        "",
        "channel=default",
        "channel=job-UPPER",
        "channel=job-1&channel=room-1",
    ] {
        let stream = server.stream(None, query).await;
        assert_eq!(stream.status(), StatusCode::FORBIDDEN, "?{query}");
    }
}

#[tokio::test]
async fn past_the_running_limit_jobs_get_429() {
    let jobs = Jobs::new(Realtime::memory());
    let slow = JobSpec {
        steps: 100,
        step_millis: 10_000,
        ..JobSpec::default()
    };
    let mut started = BTreeSet::new();
    for _ in 0..progress::MAX_RUNNING_JOBS {
        started.insert(jobs.start(slow.clone()).await.unwrap().id);
    }
    assert_eq!(started.len(), progress::MAX_RUNNING_JOBS, "unique ids");
    assert!(matches!(
        jobs.start(slow.clone()).await,
        Err(StartError::TooMany)
    ));
    jobs.cancel(started.first().unwrap()).await.unwrap();
    // The cancelled job leaves the running set once it has emitted its end.
    let deadline = Instant::now() + Duration::from_secs(10);
    while jobs.start(slow.clone()).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the cancelled job never freed its place"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // And over HTTP.
    let realtime = Realtime::memory();
    let server = start(realtime).await;
    for _ in 0..progress::MAX_RUNNING_JOBS {
        server
            .start_job(json!({ "steps": 100, "stepMillis": 10000 }))
            .await;
    }
    let (status, reply) = server
        .call(reqwest::Method::POST, "/api/jobs", None, Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("64 jobs are running"),
        "{reply}"
    );
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix of its own, so runs never see each other's jobs.
fn unique_prefix(test: &str) -> String {
    format!("progress-test:{test}:{}:{}:", std::process::id(), now_ms())
}

async fn over_redis(prefix: &str) -> Realtime<JobEvent> {
    let backend =
        RedisBackend::connect_with(&redis_url(), RedisOptions::default().key_prefix(prefix))
            .await
            .unwrap_or_else(|error| panic!("Redis at {} is needed: {error}", redis_url()));
    Realtime::with_backend(backend)
}

#[tokio::test]
async fn a_rust_follower_over_another_redis_connection_sees_the_whole_job() {
    let prefix = unique_prefix("follow");
    let jobs = Jobs::new(over_redis(&prefix).await);
    let job = jobs
        .start(JobSpec {
            steps: 6,
            step_millis: 50,
            title: "Reindex".into(),
        })
        .await
        .unwrap();
    // Joins mid-job, on a Realtime of its own (as another process would).
    tokio::time::sleep(Duration::from_millis(140)).await;
    let elsewhere = over_redis(&prefix).await;
    let mut steps = Vec::new();
    let done = tokio::time::timeout(
        Duration::from_secs(10),
        progress::follow(&elsewhere, &job.id, |progress| steps.push(progress.step)),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(steps, [1, 2, 3, 4, 5, 6]);
    assert_eq!(done.outcome, Outcome::Completed);
    assert_eq!(done.steps_done, 6);
}

#[tokio::test]
async fn the_follow_command_prints_every_step_then_the_outcome() {
    let prefix = unique_prefix("command");
    let jobs = Jobs::new(over_redis(&prefix).await);
    let job = jobs
        .start(JobSpec {
            steps: 4,
            step_millis: 100,
            title: "Export".into(),
        })
        .await
        .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_progress"))
        .args(["follow", &job.id])
        .env("REDIS_URL", redis_url())
        .env("REDIS_PREFIX", &prefix)
        .env("RUST_LOG", "warn")
        .output();
    let output = tokio::time::timeout(Duration::from_secs(20), output)
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|line| !line.starts_with("progress: "))
        .collect();
    assert_eq!(
        lines[..lines.len().min(4)],
        [
            " 25% Fetching the input (1/4)",
            " 50% Resizing images (2/4)",
            " 75% Compressing (3/4)",
            "100% Uploading (4/4)",
        ],
        "{stdout}"
    );
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(
        lines[4].starts_with("Completed: Export: 4 steps in "),
        "{stdout}"
    );

    // Without Redis the command says why it cannot follow.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_progress"))
        .args(["follow", &job.id])
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("`follow` needs REDIS_URL"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn any_server_over_the_same_redis_tells_where_a_job_is_streams_it_and_cancels_it() {
    let prefix = unique_prefix("two-servers");
    let first = start(over_redis(&prefix).await).await;
    let second = start(over_redis(&prefix).await).await;
    let id = first
        .start_job(json!({ "steps": 5, "stepMillis": 60, "title": "Backup" }))
        .await;
    // `job.started` is stored before the POST answers: the other server knows the job at once.
    let (status, state) = second.state(&id).await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(
        (&state["state"], &state["title"], &state["steps"]),
        (&json!("started"), &json!("Backup"), &json!(5)),
        "{state}"
    );
    let state = second
        .wait_for(&id, |state| state["state"] == "running")
        .await;
    assert!(state["step"].as_u64() >= Some(1), "{state}");
    let mut page = second
        .stream(
            None,
            &format!("channel=job-{id}&last_ack_job-{id}={}", now_ms()),
        )
        .await;
    assert_eq!(page.next_frame().await["type"], "connected");
    let (steps, done) = until_done(&mut page).await;
    assert_eq!(
        steps.iter().map(|(_, step)| *step).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(done["outcome"], "completed");

    // A job started on the first server is cancelled through the second.
    let id = first
        .start_job(json!({ "steps": 50, "stepMillis": 40 }))
        .await;
    second
        .wait_for(&id, |state| state["step"].as_u64() >= Some(2))
        .await;
    let (status, reply) = second.cancel(&id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let state = first.wait_for(&id, |state| state["state"] == "ended").await;
    assert_eq!(state["outcome"], "cancelled", "{state}");
    assert!(state["stepsDone"].as_u64() < Some(50), "{state}");
}

#[tokio::test]
async fn a_job_whose_server_stopped_is_reported_stalled() {
    let realtime = Realtime::<JobEvent>::memory();
    let server = start(realtime.clone()).await;
    // A job that another server started, then died: `job.started` and nothing more.
    let id = "dead-1";
    realtime
        .channel(progress::channel_of(id))
        .emit(&JobEvent::Started(progress::Started {
            title: "Orphan".into(),
            steps: 5,
            step_millis: 10,
        }))
        .await
        .unwrap();
    let (status, state) = server.state(id).await;
    assert_eq!(
        (status, &state["state"]),
        (StatusCode::OK, &json!("started"))
    );
    // Three steps and a second without a word: stalled.
    let state = server
        .wait_for(id, |state| state["state"] == "stalled")
        .await;
    assert!(state["quietMs"].as_u64() > Some(1_030), "{state}");
    let (status, reply) = server.cancel(id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    assert!(
        reply["error"].as_str().unwrap().contains("stalled"),
        "{reply}"
    );
}
