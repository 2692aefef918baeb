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

use crate::i18n::Lang;
use crate::telemetry;

mod codes;
pub use codes::{is_registered, PROBLEM_CODES};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field, and for bulk uploads the row it is on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Bulk uploads: the row as the file shows it. CSV: the line the record starts on (the
    /// header is line 1, so the first data row is 2). NDJSON: the line (1-based, blank lines
    /// counted). JSON array: the element's index (0-based, `body[0]` is the first row).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3)]
    pub row: Option<usize>,
    /// The field, as a JSON path into the request (`scores.1.1`, `occurred_on`).
    #[schema(example = "occurred_on")]
    pub field: String,
    /// Stable machine code of the failure.
    #[schema(example = "incident.date_outside_year")]
    pub code: String,
    /// In the request's language (`Accept-Language`; 简体中文 by default).
    #[schema(example = "发生日期 2024-01-03 不在方案年度 2023 年内")]
    pub message: String,
    /// CSV and .xlsx uploads: the cell as Excel names it, the column's letter and the row as
    /// the sheet numbers it (the header is row 1), e.g. `C17`; absent when the problem is with no
    /// one cell of the file (a missing column, a JSON or NDJSON upload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "C17")]
    pub cell: Option<String>,
    /// CSV and .xlsx uploads: the header of the cell's column as the file writes it (Chinese or
    /// English), e.g. `发生日期`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "发生日期")]
    pub column: Option<String>,
    /// The particulars the catalogue texts of `code` use (`locales/*/problems.ftl`); `message` is
    /// rendered from them in the request's language when the problem is answered.
    #[serde(skip)]
    pub args: Args,
}

/// Named arguments of a problem's texts: `(name, value)`.
pub type Args = Vec<(&'static str, String)>;

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row: None,
            field: field.into(),
            code: code.into(),
            message: message.into(),
            cell: None,
            column: None,
            args: Vec::new(),
        }
    }

    /// A particular of the message (e.g. `value`, `year`, `item`), used by its catalogue texts.
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    pub fn at_row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }
}

/// An RFC 9457 problem details document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// URI identifying the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path this occurrence happened on.
    pub instance: String,
    /// Stable machine code, e.g. `incident.rule_unknown`: one of `ProblemCode`.
    pub code: String,
    /// The request id, also in the `X-Request-Id` header and in the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every invalid field (validation failures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Constructors `name(detail)` of the problems whose status and code are fixed.
macro_rules! fixed_problems {
    ($($name:ident => $status:ident, $code:literal;)*) => {
        $(
            pub fn $name(detail: impl Into<String>) -> Self {
                Self::new(StatusCode::$status, $code, detail)
            }
        )*
    };
}

/// Every error a request can end in.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    detail: String,
    /// The particulars of `detail` (see `FieldError::args`).
    args: Args,
    /// The detail summarises `errors` (rendered again from them in the request's language).
    detail_of_errors: bool,
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
            args: Vec::new(),
            detail_of_errors: false,
            errors: Vec::new(),
            retry_after: None,
            allow: None,
        }
    }

    pub fn bad_request(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// Not found, or outside the caller's scope: the answer is the same so existence never leaks.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn conflict(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    fixed_problems! {
        unauthorized => UNAUTHORIZED, "auth.unauthorized";
        forbidden => FORBIDDEN, "auth.forbidden";
        precondition_failed => PRECONDITION_FAILED, "precondition_failed";
        precondition_required => PRECONDITION_REQUIRED, "precondition_required";
        payload_too_large => PAYLOAD_TOO_LARGE, "request.too_large";
        unsupported_media_type => UNSUPPORTED_MEDIA_TYPE, "request.unsupported_media_type";
        not_acceptable => NOT_ACCEPTABLE, "request.not_acceptable";
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
        let args = match errors.as_slice() {
            [only] => only.args.clone(),
            _ => Vec::new(),
        };
        Self {
            detail_of_errors: errors.len() > 1,
            args,
            errors,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
        }
    }

    /// Nothing when no field is invalid, else the `validation` problem of those that are.
    pub fn unless_invalid(errors: Vec<FieldError>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self::validation(errors))
        }
    }

    /// A particular of the detail (and of the field error of a one-field problem), used by the
    /// code's catalogue texts.
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        let value = value.to_string();
        if let [only] = self.errors.as_mut_slice() {
            only.args.push((name, value.clone()));
        }
        self.args.push((name, value));
        self
    }

    /// Several particulars at once (see `arg`).
    pub fn with_args(self, args: Args) -> Self {
        args.into_iter()
            .fold(self, |error, (name, value)| error.arg(name, value))
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

    /// Replaces the human-readable detail (English). In other languages a problem with field
    /// errors summarises them instead, one without renders its code's text.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self.detail_of_errors = !self.errors.is_empty();
        self.args.clear();
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
            let mut error = FieldError::new("", self.code(), self.to_string()).at_row(row);
            error.args = self.args;
            vec![error]
        } else {
            self.errors.into_iter().map(|e| e.at_row(row)).collect()
        }
    }

    /// The problem document this error answers with.
    pub fn problem(&self) -> Problem {
        if cfg!(debug_assertions) {
            // The sources are scanned for codes by a test; this catches one built at run time.
            for code in std::iter::once(self.code.as_ref()).chain(self.errors.iter().map(|e| e.code.as_str())) {
                if !is_registered(code) {
                    tracing::error!(code, "problem code missing from error::PROBLEM_CODES");
                }
            }
        }
        let context = telemetry::current_request();
        let lang = context.as_ref().map_or_else(Lang::default, |c| c.lang);
        let errors: Vec<FieldError> = self
            .errors
            .iter()
            .map(|e| FieldError {
                message: problem_text(lang, &e.code, &with_field(&e.args, &e.field), &e.message),
                ..e.clone()
            })
            .collect();
        let detail = match (lang, self.detail_of_errors, errors.as_slice()) {
            (_, false, [only]) => problem_text(lang, &self.code, &with_field(&self.args, &only.field), &self.detail),
            (Lang::En, _, _) | (_, false, _) | (_, true, []) => {
                problem_text(lang, &self.code, &self.args, &self.detail)
            }
            (_, true, [first, ..]) => {
                let mut args = vec![("count", errors.len().to_string()), ("first", first.message.clone())];
                args.push(("field", first.field.clone()));
                let id = match first.row {
                    Some(row) => {
                        args.push(("row", row.to_string()));
                        "problems-summary-rows"
                    }
                    None => "problems-summary",
                };
                lang.text_with(id, &args).unwrap_or_else(|| self.detail.clone())
            }
        };
        Problem {
            problem_type: format!("urn:kaohe:problem:{}", self.code),
            title: lang
                .text(&problem_text_id(&self.code))
                .unwrap_or_else(|| self.status.canonical_reason().unwrap_or("Error").to_owned()),
            status: self.status.as_u16(),
            detail,
            instance: context.as_ref().map(|c| c.path.clone()).unwrap_or_default(),
            code: self.code.to_string(),
            request_id: context.map(|c| c.request_id),
            errors,
        }
    }
}

/// The catalogue id of a problem code's texts: `problem-` and the code with `.` as `-`
/// (`incident.item_unknown` → `problem-incident-item_unknown`); its title is the message's value,
/// its sentence the `.message` attribute.
pub fn problem_text_id(code: &str) -> String {
    format!("problem-{}", code.replace('.', "-"))
}

/// A field error's arguments: its own and `field`.
fn with_field(args: &Args, field: &str) -> Args {
    let mut args = args.clone();
    if !field.is_empty() && !args.iter().any(|(name, _)| *name == "field") {
        args.push(("field", field.to_owned()));
    }
    args
}

/// Arguments whose values are codes of an enumeration, and the enumeration: the texts may use
/// their labels as `$<name>_label`.
const LABELLED_ARGS: &[(&str, &str, &str)] = &[
    ("kind", "kind_label", "incident_kind"),
    ("given", "given_label", "incident_kind"),
    ("subject_type", "subject_type_label", "subject_type"),
    ("evaluation_status", "evaluation_status_label", "evaluation_status"),
];

/// A problem's sentence in `lang`: English as the call site wrote it (it holds every
/// particular); otherwise the code's `.message` with its arguments, or, when the call site did
/// not pass an argument that text needs, the code's title, so no text shows a placeholder.
pub fn problem_text(lang: Lang, code: &str, args: &Args, english: &str) -> String {
    if lang == Lang::En && !english.is_empty() {
        return english.to_owned();
    }
    let id = problem_text_id(code);
    let mut args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
    for (name, label, enumeration) in LABELLED_ARGS {
        if let Some((_, value)) = args.iter().find(|(k, _)| k == name) {
            let text = crate::i18n::label(lang, enumeration, value);
            args.push((label, text));
        }
    }
    lang.text_with(&format!("{id}.message"), &args)
        .or_else(|| lang.text(&id))
        .unwrap_or_else(|| english.to_owned())
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
        let lang = telemetry::current_request().map_or_else(Lang::default, |c| c.lang);
        response.insert_header((header::CONTENT_LANGUAGE, lang.tag()));
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
        if let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() {
            let constraint = database_error(&err).and_then(|db| db.constraint().map(str::to_owned));
            return match on_constraint(constraint.as_deref().unwrap_or(&message)) {
                Some(key) => key.problem(),
                None => {
                    tracing::warn!(cause = %err, "unique constraint without a field mapping");
                    ApiError::conflict("conflict.duplicate", "a record with the same unique key already exists")
                }
            };
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

/// A unique index of the schema (see `migration/`) and the problem a violation of it answers
/// with. The store checks these keys before it writes; the index catches what a check cannot, such
/// as two requests racing for one name, and the client should hear the same problem either way.
#[derive(Debug)]
struct UniqueKey {
    /// The index's name, which PostgreSQL reports.
    index: &'static str,
    /// Its table and columns in index order, which SQLite reports
    /// (`UNIQUE constraint failed: table.a, table.b`).
    table: &'static str,
    columns: &'static [&'static str],
    /// The request field the problem names.
    field: &'static str,
    code: &'static str,
    message: &'static str,
    status: StatusCode,
}

impl UniqueKey {
    fn problem(&self) -> ApiError {
        ApiError::invalid(self.field, self.code, self.message).with_status(self.status)
    }
}

/// Every unique index of the schema: a test checks this list against the migrated schema.
const UNIQUE_KEYS: &[UniqueKey] = &[
    UniqueKey {
        index: "ux_users_username",
        table: "users",
        columns: &["username"],
        field: "username",
        code: "user.username_taken",
        message: "this username is taken",
        status: StatusCode::CONFLICT,
    },
    UniqueKey {
        index: "ux_users_username_key",
        table: "users",
        columns: &["username_key"],
        field: "username",
        code: "user.username_taken",
        message: "this username is taken (names differ in more than case)",
        status: StatusCode::CONFLICT,
    },
    UniqueKey {
        index: "ux_service_accounts_client_id",
        table: "service_accounts",
        columns: &["client_id"],
        field: "client_id",
        code: "service_account.client_id_taken",
        message: "the generated client id is taken; retry",
        status: StatusCode::CONFLICT,
    },
    UniqueKey {
        index: "ux_schemes_key_year",
        table: "schemes",
        columns: &["county_id", "org_unit_id", "key", "year"],
        field: "year",
        code: "scheme.duplicate",
        message: "this scheme already exists for this year in this org unit",
        status: StatusCode::CONFLICT,
    },
    UniqueKey {
        index: "ux_rubrics_version",
        table: "rubrics",
        columns: &["scheme_id", "subject_type", "version_no"],
        field: "version",
        code: "rubric.version_taken",
        message: "another change made this rubric version first; read the rubric again and retry",
        status: StatusCode::CONFLICT,
    },
    UniqueKey {
        index: "ux_subject_attributes_subject",
        table: "subject_attributes",
        columns: &["scheme_id", "subject_id"],
        field: "subject_id",
        code: "attributes.duplicate",
        message: "the subject's attributes for this scheme were recorded by another request; read them and retry",
        status: StatusCode::CONFLICT,
    },
    UniqueKey {
        index: "ux_evaluations_key",
        table: "evaluations",
        columns: &["scheme_id", "key"],
        field: "key",
        code: "evaluation.key_taken",
        message: "the scheme already has an evaluation with this key",
        status: StatusCode::CONFLICT,
    },
    UniqueKey {
        index: "ux_scoresheet_items_item",
        table: "scoresheet_items",
        columns: &["scoresheet_id", "item_code"],
        field: "scores",
        code: "scoresheet.item_duplicate",
        message: "a scoresheet scores each item once",
        status: StatusCode::UNPROCESSABLE_ENTITY,
    },
    UniqueKey {
        index: "ux_publications_number",
        table: "publications",
        columns: &["scheme_id", "number"],
        field: "number",
        code: "publication.number_taken",
        message: "another publication took this number first; retry",
        status: StatusCode::CONFLICT,
    },
    UniqueKey {
        index: "ux_evidence_content",
        table: "evidence",
        columns: &["county_id", "uploaded_by", "sha256"],
        field: "file",
        code: "evidence.duplicate",
        message: "another request stored these bytes first; upload them again to get that object",
        status: StatusCode::CONFLICT,
    },
];

/// The unique key a violated constraint is: PostgreSQL names the index (or its message quotes
/// it); SQLite lists the table's columns (`UNIQUE constraint failed: users.username_key`).
fn on_constraint(constraint: &str) -> Option<&'static UniqueKey> {
    let constraint = constraint.trim();
    if let Some(columns) = constraint.strip_prefix("UNIQUE constraint failed: ") {
        let columns: Vec<(&str, &str)> = columns.split(", ").filter_map(|c| c.trim().split_once('.')).collect();
        return UNIQUE_KEYS.iter().find(|key| {
            key.columns.len() == columns.len()
                && key
                    .columns
                    .iter()
                    .zip(&columns)
                    .all(|(want, (table, column))| *table == key.table && want == column)
        });
    }
    let name = match constraint.split_once("unique constraint \"") {
        Some((_, rest)) => rest.split('"').next().unwrap_or_default(),
        None => constraint,
    };
    UNIQUE_KEYS.iter().find(|key| key.index == name)
}

/// The database's own error inside `err`, if the database answered.
fn database_error(err: &DbErr) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err else {
        return None;
    };
    e.as_database_error()
}

/// A serialization failure (40001), a deadlock (40P01) or a lock timeout (55P03) on PostgreSQL.
fn is_write_conflict(err: &DbErr) -> bool {
    database_error(err).is_some_and(|db| matches!(db.code().as_deref(), Some("40001" | "40P01" | "55P03")))
}

/// Why text holding U+0000 is refused (PostgreSQL cannot store it).
pub const NUL_MESSAGE: &str = "text may not contain the NUL character (U+0000)";

/// PostgreSQL refuses the NUL character in text (22021) and in JSON (22P05); only a client's input
/// can hold one (SQLite stores it).
fn is_nul_in_text(err: &DbErr) -> bool {
    database_error(err).is_some_and(|db| matches!(db.code().as_deref(), Some("22021" | "22P05")))
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

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, Statement};

    use super::*;

    #[test]
    fn a_unique_violation_names_its_field_on_both_databases() {
        let postgres = on_constraint("ux_evaluations_key").map(UniqueKey::problem);
        let quoted = on_constraint("duplicate key value violates unique constraint \"ux_evaluations_key\"")
            .map(UniqueKey::problem);
        let sqlite =
            on_constraint("UNIQUE constraint failed: evaluations.scheme_id, evaluations.key").map(UniqueKey::problem);
        for problem in [postgres, quoted, sqlite] {
            let problem = problem.expect("mapped").problem();
            assert_eq!((problem.status, problem.code.as_str()), (409, "evaluation.key_taken"));
            assert_eq!(problem.errors.len(), 1);
            assert_eq!(
                (problem.errors[0].field.as_str(), problem.errors[0].code.as_str()),
                ("key", "evaluation.key_taken")
            );
        }
        let username = on_constraint("UNIQUE constraint failed: users.username_key").map(UniqueKey::problem);
        let username = username.expect("mapped").problem();
        assert_eq!((username.status, username.errors[0].field.as_str()), (409, "username"));
        let item = on_constraint("ux_scoresheet_items_item").map(UniqueKey::problem);
        assert_eq!(item.expect("mapped").problem().status, 422);
    }

    /// Outside a request (as here) problems are in the default language, 中文: the title is the
    /// code's meaning, the messages carry the call site's particulars, and a text whose
    /// particulars the call site did not give falls back to the title.
    #[test]
    fn problems_are_rendered_in_chinese_with_their_particulars() {
        let problem = ApiError::invalid(
            "occurred_on",
            "incident.date_outside_year",
            "occurred_on 2024-01-03 is outside the scheme year 2023",
        )
        .arg("value", "2024-01-03")
        .arg("year", 2023)
        .problem();
        assert_eq!(problem.title, "发生日期不在方案年度内");
        assert_eq!(problem.detail, "发生日期 2024-01-03 不在方案年度 2023 年内");
        assert_eq!(problem.errors[0].message, problem.detail);
        let bare = ApiError::invalid("occurred_on", "incident.date_outside_year", "English").problem();
        assert_eq!(bare.detail, "发生日期不在方案年度内");
        let labelled = ApiError::validation(vec![
            FieldError::new("rate", "incident.field_not_applicable", "rate does not apply")
                .arg("kind", "deduction")
                .at_row(3),
            FieldError::new("note", "field.length", "note is too long").arg("max", 2000),
        ])
        .problem();
        assert_eq!(labelled.errors[0].message, "rate 不适用于“扣分”类记录");
        assert_eq!(labelled.errors[1].message, "note 最多 2000 个字符");
        assert!(labelled.detail.starts_with("共 2 处错误"), "{}", labelled.detail);
        assert!(labelled.detail.contains("第 3 行"), "{}", labelled.detail);
    }

    #[test]
    fn an_unknown_constraint_is_not_mapped() {
        assert!(on_constraint("audit_events_pkey").is_none());
        assert!(on_constraint("UNIQUE constraint failed: audit_events.county_id, audit_events.seq").is_none());
        // The same columns in another table, or a subset of a key's columns, are another key.
        assert!(on_constraint("UNIQUE constraint failed: subjects.key").is_none());
        assert!(on_constraint("UNIQUE constraint failed: evaluations.key").is_none());
    }

    /// Every unique index the migrations create has a mapping, and a real violation of it (on
    /// SQLite) answers its problem.
    #[tokio::test]
    async fn every_unique_index_of_the_schema_is_mapped() {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).min_connections(1).sqlx_logging(false);
        let db = Database::connect(options).await.expect("connect");
        <migration::Migrator as migration::MigratorTrait>::up(&db, None)
            .await
            .expect("migrate");
        let backend = db.get_database_backend();
        let names = |sql: String| {
            let db = &db;
            async move {
                let rows = db
                    .query_all_raw(Statement::from_string(backend, sql))
                    .await
                    .expect("query");
                rows.iter()
                    .map(|r| {
                        (
                            r.try_get::<String>("", "name").expect("name"),
                            r.try_get::<String>("", "other").expect("other"),
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        let indexes = names(
            "SELECT name, tbl_name AS other FROM sqlite_master WHERE type = 'index' AND name LIKE 'ux\\_%' ESCAPE '\\'"
                .to_owned(),
        )
        .await;
        assert!(indexes.len() >= UNIQUE_KEYS.len(), "{} unique indexes", indexes.len());
        for (n, (name, table)) in indexes.into_iter().enumerate() {
            let key = on_constraint(&name)
                .unwrap_or_else(|| panic!("unique index {name} has no entry in error::UNIQUE_KEYS"));
            assert_eq!(key.table, table, "{name}");
            let indexed = names(format!(
                "SELECT name, '' AS other FROM pragma_index_info('{name}') ORDER BY seqno"
            ))
            .await;
            let indexed: Vec<&str> = indexed.iter().map(|(c, _)| c.as_str()).collect();
            assert_eq!(key.columns, indexed.as_slice(), "{name}");
            // Two rows equal in the index's columns and different in every other column.
            let columns = names(format!("SELECT name, '' AS other FROM pragma_table_info('{table}')")).await;
            let row = |other: &str| {
                let values: Vec<String> = columns
                    .iter()
                    .map(|(c, _)| match indexed.contains(&c.as_str()) {
                        true => format!("'{n}a'"),
                        false => format!("'{n}{other}'"),
                    })
                    .collect();
                let columns: Vec<String> = columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
                Statement::from_string(
                    backend,
                    format!(
                        "INSERT INTO \"{table}\" ({}) VALUES ({})",
                        columns.join(", "),
                        values.join(", ")
                    ),
                )
            };
            db.execute_raw(row("a")).await.expect("the first row");
            let err = db.execute_raw(row("b")).await.expect_err("the second row");
            let problem = ApiError::from(err).problem();
            assert_eq!(
                (problem.status, problem.code.as_str(), problem.errors[0].field.as_str()),
                (key.status.as_u16(), key.code, key.field),
                "{name}"
            );
        }
    }
}
