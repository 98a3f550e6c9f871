//! Refusals: a status and a JSON body `{ "error": "..." }` that says what was wrong.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use realtime_core::backend::FailureKind;
use realtime_core::{DecodeError, Error};
use serde_json::{Map, Value};

/// The `Retry-After` of a 503 (seconds): the refusals it answers (too many streams, shutting
/// down, storage unreachable) pass, and a client that waits this long spreads the load.
pub const RETRY_AFTER_SECS: u32 = 2;

/// The longest event name echoed back in an error body, in characters.
const MAX_ECHOED_NAME: usize = 64;

/// A request the endpoint refuses, answered as JSON `{ "error": "...", ... }`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct RequestError {
    status: StatusCode,
    message: String,
    details: Map<String, Value>,
    retry_after: Option<u32>,
}

impl RequestError {
    /// A refusal with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            details: Map::new(),
            retry_after: None,
        }
    }

    /// A 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 503 Service Unavailable with `Retry-After` ([`RETRY_AFTER_SECS`]).
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::SERVICE_UNAVAILABLE, message);
        error.retry_after = Some(RETRY_AFTER_SECS);
        error
    }

    /// Adds a member to the JSON body (e.g. `event`, `path`).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What was wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("error".to_owned(), Value::String(self.message));
        body.extend(self.details);
        let mut response = (self.status, Json(Value::Object(body))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The answer to a request that failed in the core: 422 for events the schema refuses
/// (with `event`, `path` and, for a schema rule, `rule`) and for an idempotency key reused
/// with another event or data, 413 for a presence info over the bound, 400 for bad names,
/// cursors and
/// keys, 503 with `Retry-After` while storage is unreachable, 504 when an emit's outcome is
/// unknown, 409 when storage refuses for good (a channel's key holds other data).
///
/// ```
/// use http::StatusCode;
/// use realtime_axum::RequestError;
/// use realtime_core::Error;
/// use realtime_core::channel::check_channel_name;
///
/// let error = Error::from(check_channel_name("room 1").unwrap_err());
/// assert_eq!(RequestError::from(&error).status(), StatusCode::BAD_REQUEST);
/// ```
impl From<&Error> for RequestError {
    fn from(error: &Error) -> Self {
        let unprocessable = |event: &str, path: &str| {
            let event: String = event.chars().take(MAX_ECHOED_NAME).collect();
            RequestError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
                .with("event", event)
                .with("path", path)
        };
        match error {
            Error::UnknownEvent(unknown) => unprocessable(&unknown.name, ""),
            Error::Invalid(violation) => {
                unprocessable(violation.event, &violation.path).with("rule", violation.rule.clone())
            }
            Error::Decode(DecodeError::InvalidData { event, path, .. }) => {
                unprocessable(event, path)
            }
            Error::ReservedEvent { event } => unprocessable(event, ""),
            // As the IETF draft on the `Idempotency-Key` header asks for a key reused with
            // another payload.
            Error::PresenceInfoTooLarge { .. } => {
                RequestError::new(StatusCode::PAYLOAD_TOO_LARGE, error.to_string())
            }
            Error::IdempotencyKeyReused { .. } => {
                RequestError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
            }
            Error::InvalidChannel(_)
            | Error::InvalidMember(_)
            | Error::InvalidPresenceTtl { .. }
            | Error::InvalidCursor(_)
            | Error::InvalidLimit { .. }
            | Error::InvalidIdempotencyKey(_)
            | Error::CursorUnavailable { .. } => RequestError::bad_request(error.to_string()),
            Error::OutcomeUnknown { .. } => RequestError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("{error}; retry with the same Idempotency-Key to store it exactly once"),
            ),
            Error::Backend(backend) => match backend.failure_kind() {
                FailureKind::Refused => RequestError::new(
                    StatusCode::CONFLICT,
                    format!("storage refused the request: {}", backend.message()),
                ),
                FailureKind::OutcomeUnknown => RequestError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("storage did not answer: {}", backend.message()),
                ),
                _ => RequestError::unavailable(format!("storage unavailable: {error}")),
            },
            _ => {
                tracing::error!(%error, "request failed");
                RequestError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
            }
        }
    }
}
