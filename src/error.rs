//! The one error type of the service, answered as RFC 9457 `application/problem+json`.
//!
//! Handlers return `Result<_, ApiError>`; internal causes are logged with the request id and never
//! shown to the client.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::telemetry;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field, and for bulk uploads the row it is on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// 1-based data row of a bulk upload (the CSV header is not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3)]
    pub row: Option<usize>,
    /// The field, as a JSON path into the request (`scores.1.1`, `occurred_on`).
    #[schema(example = "occurred_on")]
    pub field: String,
    /// Stable machine code of the failure.
    #[schema(example = "incident.date_outside_year")]
    pub code: String,
    #[schema(example = "occurred_on 2024-01-03 is outside the scheme year 2023")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row: None,
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn at_row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }
}

/// An RFC 9457 problem details document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:kaohe:problem:incident.rule_unknown",
    "title": "Unprocessable Entity",
    "status": 422,
    "detail": "rule L9 is not a rule of item 1.1",
    "instance": "/api/v1/incidents",
    "code": "incident.rule_unknown",
    "request_id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e11",
    "errors": [{"field": "rule_code", "code": "incident.rule_unknown", "message": "rule L9 is not a rule of item 1.1"}]
}))]
pub struct Problem {
    /// URI identifying the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path this occurrence happened on.
    pub instance: String,
    /// Stable machine code, e.g. `incident.rule_unknown`.
    pub code: String,
    /// The request id, also in the `X-Request-Id` header and in the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every invalid field (validation failures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every error a request can end in.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    detail: String,
    errors: Vec<FieldError>,
    retry_after: Option<u64>,
    allow: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            allow: None,
        }
    }

    pub fn bad_request(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "auth.unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "auth.forbidden", detail)
    }

    /// Not found, or outside the caller's scope: the answer is the same so existence never leaks.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn conflict(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", detail)
    }

    pub fn precondition_required(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_REQUIRED, "precondition_required", detail)
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "request.too_large", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            detail,
        )
    }

    pub fn not_acceptable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "request.not_acceptable", detail)
    }

    /// One semantically invalid field.
    pub fn invalid(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    /// Several invalid fields (or rows); the first one's code becomes the problem's code.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let (code, detail) = match errors.as_slice() {
            [only] => (only.code.clone(), only.message.clone()),
            [first, ..] => (
                first.code.clone(),
                format!("{} fields are invalid; the first: {}", errors.len(), first.message),
            ),
            [] => ("validation.failed".to_owned(), "the request is invalid".to_owned()),
        };
        Self {
            errors,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
        }
    }

    /// A malformed request (400) naming the field at fault.
    pub fn malformed_field(code: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            errors: vec![FieldError::new(field, code, message.clone())],
            ..Self::new(StatusCode::BAD_REQUEST, code.to_owned(), message)
        }
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "auth.rate_limited",
                "too many failed attempts; try again later",
            )
        }
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            retry_after: Some(5),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "database.unavailable", detail)
        }
    }

    /// `allow` lists the methods the resource has, e.g. `GET, PATCH`.
    pub fn method_not_allowed(allow: impl Into<String>) -> Self {
        Self {
            allow: Some(allow.into()),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "request.method_not_allowed",
                "this method is not allowed on this resource",
            )
        }
    }

    /// Something went wrong inside the service; `cause` is logged, never sent.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the service failed to answer this request; it has been logged under the request id",
        )
    }

    /// Replaces the status the problem is answered with.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The same problem answered 409: the request is well formed but clashes with what is stored.
    pub fn as_conflict(self) -> Self {
        self.with_status(StatusCode::CONFLICT)
    }

    /// Replaces the human-readable detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// A 4xx: the request was at fault, not the service.
    pub fn status_code_is_client_error(&self) -> bool {
        self.status.is_client_error()
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// This error as the field errors of one row of a bulk upload (one naming the whole row
    /// when it names no field).
    pub fn into_row_errors(self, row: usize) -> Vec<FieldError> {
        if self.errors.is_empty() {
            vec![FieldError::new("", self.code(), self.to_string()).at_row(row)]
        } else {
            self.errors.into_iter().map(|e| e.at_row(row)).collect()
        }
    }

    /// The problem document this error answers with.
    pub fn problem(&self) -> Problem {
        let context = telemetry::current_request();
        Problem {
            problem_type: format!("urn:kaohe:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            instance: context.as_ref().map(|c| c.path.clone()).unwrap_or_default(),
            code: self.code.to_string(),
            request_id: context.map(|c| c.request_id),
            errors: self.errors.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Some(allow) = &self.allow {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        response.body(body)
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return ApiError::conflict("conflict.duplicate", "a record with the same unique key already exists");
        }
        if is_nul_in_text(&err) {
            // JSON bodies are checked before this (naming the field); this catches CSV uploads
            // and query strings on PostgreSQL.
            return ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "request.nul_character", NUL_MESSAGE);
        }
        if is_write_conflict(&err) {
            // Writers of a county queue on its chain head (`Store::write`), so this is rare: a
            // write that spans counties, or a lock timeout. The client retries; nothing was written.
            tracing::warn!(cause = %err, "concurrent write conflict");
            return ApiError::conflict(
                "conflict.concurrent_write",
                "a concurrent change conflicted with this one; nothing was written, retry",
            );
        }
        if is_unavailable(&err) {
            tracing::warn!(cause = %err, "database unavailable");
            return ApiError::unavailable("the database is unavailable; retry shortly");
        }
        ApiError::internal(err)
    }
}

/// A serialization failure (40001), a deadlock (40P01) or a lock timeout (55P03) on PostgreSQL.
fn is_write_conflict(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err else {
        return false;
    };
    match &**e {
        sea_orm::sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40001" | "40P01" | "55P03")),
        _ => false,
    }
}

/// Why text holding U+0000 is refused (PostgreSQL cannot store it).
pub const NUL_MESSAGE: &str = "text may not contain the NUL character (U+0000)";

/// PostgreSQL refuses the NUL character in text (22021) and in JSON (22P05); only a client's input
/// can hold one (SQLite stores it).
fn is_nul_in_text(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err else {
        return false;
    };
    match &**e {
        sea_orm::sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("22021" | "22P05")),
        _ => false,
    }
}

/// Errors that mean "the database cannot be reached right now" rather than "this query is wrong".
fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        other => {
            let text = other.to_string().to_lowercase();
            [
                "connection refused",
                "broken pipe",
                "connection reset",
                "pool timed out",
                "database is locked",
                "terminating connection",
                "connection closed",
                "error communicating",
                "io error",
                "timed out",
            ]
            .iter()
            .any(|needle| text.contains(needle))
        }
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(err: serde_json::Error) -> Self {
        ApiError::internal(err)
    }
}
