//! The HTTP routes of the jobs and the SSE endpoint's authorization.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use realtime_axum::{AuthRequest, RequestError};
use serde_json::{Value, json};

use crate::jobs::{CancelError, JobSpec, Jobs, StartError, valid_id};

/// The stream serves only job channels: `job-<id>` with a well-formed id (403 otherwise).
pub(crate) async fn only_job_channels(request: AuthRequest) -> Result<(), Response> {
    match request
        .channels
        .iter()
        .find(|channel| !channel.strip_prefix("job-").is_some_and(valid_id))
    {
        Some(channel) => Err(RequestError::new(
            StatusCode::FORBIDDEN,
            format!("`{channel}` is not a job channel; this endpoint serves `job-<id>` only"),
        )
        .into_response()),
        None => Ok(()),
    }
}

pub(crate) async fn start(State(jobs): State<Jobs>, body: Bytes) -> Result<Response, RequestError> {
    let spec = job_spec(&body)?;
    match jobs.start(spec).await {
        Ok(job) => {
            tokio::spawn(log_progress(jobs.clone(), job.id.clone()));
            let location = format!("/api/jobs/{}", job.id);
            Ok((
                StatusCode::ACCEPTED,
                [(header::LOCATION, location)],
                Json(job),
            )
                .into_response())
        }
        Err(StartError::Invalid(why)) => Err(RequestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid job: {why}"),
        )),
        Err(StartError::Storage(error)) => Err(RequestError::from(&error)),
        Err(StartError::TooMany) => Err(RequestError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} jobs are running, the most this server runs at once; retry when one ends",
                crate::MAX_RUNNING_JOBS
            ),
        )),
    }
}

/// A Rust subscriber: the server's log follows each job it starts, step by step.
async fn log_progress(jobs: Jobs, id: String) {
    let followed = crate::follow(jobs.realtime(), &id, |progress| {
        tracing::info!(job = %id, "{:>3}% {}", progress.percent, progress.label);
    })
    .await;
    match followed {
        Ok(done) => tracing::info!(job = %id, outcome = ?done.outcome, "{}", done.summary),
        Err(error) => tracing::warn!(job = %id, %error, "stopped following"),
    }
}

pub(crate) async fn list(State(jobs): State<Jobs>) -> Json<Value> {
    Json(json!({ "jobs": jobs.recent() }))
}

pub(crate) async fn state(
    State(jobs): State<Jobs>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RequestError> {
    let id = known_form(id)?;
    match jobs.state(&id).await {
        Ok(Some(state)) => {
            let mut body = serde_json::to_value(state).unwrap_or_default();
            body["id"] = json!(id);
            Ok(Json(body))
        }
        Ok(None) => Err(no_such_job(&id)),
        Err(error) => Err(RequestError::from(&error)),
    }
}

pub(crate) async fn cancel(
    State(jobs): State<Jobs>,
    Path(id): Path<String>,
) -> Result<StatusCode, RequestError> {
    let id = known_form(id)?;
    match jobs.cancel(&id).await {
        Ok(()) => Ok(StatusCode::ACCEPTED),
        Err(CancelError::Unknown) => Err(no_such_job(&id)),
        Err(CancelError::Ended) => Err(RequestError::new(
            StatusCode::CONFLICT,
            format!("job `{id}` has ended already"),
        )),
        Err(CancelError::Stalled) => Err(RequestError::new(
            StatusCode::CONFLICT,
            format!("job `{id}` has stalled: the server running it stopped"),
        )),
        Err(CancelError::Storage(error)) => Err(RequestError::from(&error)),
    }
}

/// The job a `POST /api/jobs` body asks for: no body is the default job; otherwise JSON
/// (whatever the content type says), refused with the path of what is wrong.
fn job_spec(body: &[u8]) -> Result<JobSpec, RequestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(JobSpec::default());
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let why = if path == "." {
            inner.to_string()
        } else {
            format!("`{path}`: {inner}")
        };
        RequestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid job: {why}; expected {{steps?, stepMillis?, title?}}"),
        )
    })
}

fn known_form(id: String) -> Result<String, RequestError> {
    if valid_id(&id) {
        Ok(id)
    } else {
        Err(no_such_job(&id))
    }
}

fn no_such_job(id: &str) -> RequestError {
    RequestError::new(StatusCode::NOT_FOUND, format!("no job `{id}`"))
}
