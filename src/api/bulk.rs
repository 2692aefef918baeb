//! Bulk uploads: `POST /api/v1/{incidents,ballots,scoresheets,subjects,attributes}:bulk` with a JSON array,
//! NDJSON, CSV (UTF-8 or GB18030/GBK) or .xlsx body, all-or-nothing, `?dry_run=true` to validate only.
//!
//! The body is read once (up to `limits.bulk_body_bytes`, else 413); a CSV is decoded to UTF-8
//! and an .xlsx sheet read as text cells (`spreadsheet`), so both go through one CSV row parser
//! whose headers may be field names or their Chinese or English labels. Then rows are parsed,
//! validated by the same validators as single writes, and inserted batch by batch inside one
//! transaction; any bad row means the transaction is rolled back and every bad row is reported.
//! One audit event per upload records its row count and the body's SHA-256.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{post, web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::idempotency::Respond;
use super::Query;
use crate::api::evaluations::{NewBallot, NewScoresheet};
use crate::api::incidents::NewIncident;
use crate::api::subjects::{AttributesRow, SubjectRow};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::jobs::Tracker;
use crate::recording::findings::FindingsUpload;
use crate::recording::inputs::{BallotsUpload, ScoresheetsUpload};
use crate::recording::{Recorded, Recorder, BATCH};
use crate::spreadsheet::{self, Sheet};
use crate::state::AppState;
use crate::store::subject_uploads::{self};
use crate::store::{new_id, schemes, Change, WriteTx};

/// Declares a bulk-upload handler: its route and its OpenAPI operation — a JSON array, NDJSON
/// or CSV body of `rows`, 201 when every row was written, 200 on a valid dry run — with the
/// arguments every upload reads.
macro_rules! bulk_upload {
    (
        $(#[doc = $doc:expr])*
        $name:ident: POST $path:literal, operation $operation:literal, rows $row:ty,
        written $written:literal, valid $valid:literal,
        |$args:ident| $body:expr
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = "bulk", operation_id = $operation,
            params(BulkParams, BulkHeaders),
            request_body(content(
                (Vec<$row> = "application/json"),
                ($row = "application/x-ndjson"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            )),
            responses(
                (status = 201, description = $written, body = BulkSummary),
                (status = 200, description = $valid, body = BulkSummary),
                (status = 202, description = "`Prefer: respond-async`: the upload runs as a background job; \
                  follow `Location` (the `Job`, or its `events`) for its progress and, once ended, this \
                  request's answer", body = super::jobs::Job,
                 headers(("Location" = String, description = "The job: /api/v1/jobs/{id}"),
                         ("Preference-Applied" = String, description = "`respond-async`")))
            )
        )]
        #[post($path)]
        async fn $name(mut $args: BulkArgs) -> Result<HttpResponse, ApiError> {
            if $args.respond_async {
                // `Prefer: respond-async`: the same upload as a background job (202), once every
                // row reads: a malformed body is refused now, as it would be synchronously.
                <$row as Readable>::readable(&$args)?;
                let (job, tracker) = super::jobs::begin(&$args.state, &$args.caller, $operation).await?;
                $args.tracker = tracker;
                let state = $args.state.clone();
                return super::jobs::accepted(state, job, async move { $body });
            }
            $body
        }
    };
}

/// What every bulk handler works with: the caller, and the upload's format and whole body.
struct BulkArgs {
    state: web::Data<AppState>,
    caller: Caller,
    dry_run: bool,
    format: BodyFormat,
    /// The body as sent (hashed for the audit trail).
    body: web::Bytes,
    /// `Prefer: respond-async` (RFC 7240): answer 202 and run as a job.
    respond_async: bool,
    /// Where the upload reports its progress (a job's, or nowhere).
    tracker: Tracker,
    /// The body as the row parsers read it.
    content: Content,
    /// Where each column of a CSV or .xlsx upload is, for naming the cells of its errors.
    layout: Rc<Layout>,
}

/// A body as its rows are read from it.
enum Content {
    /// A JSON array or NDJSON: the body as sent.
    Json,
    /// CSV as UTF-8 text (decoded from GB18030 when it was not UTF-8).
    Csv(web::Bytes),
    /// The sheet of an .xlsx workbook, as text cells.
    Sheet(Sheet),
}

impl Content {
    fn of(format: BodyFormat, body: &web::Bytes) -> Result<Self, ApiError> {
        Ok(match format {
            BodyFormat::JsonArray | BodyFormat::Ndjson => Content::Json,
            BodyFormat::Csv => Content::Csv(spreadsheet::decode_csv(body)?),
            BodyFormat::Xlsx => Content::Sheet(spreadsheet::read_xlsx(body, &super::templates::data_sheet_names())?),
        })
    }
}

/// The columns of a CSV or .xlsx upload: each header as the file writes it and the field it
/// names, and where a CSV's lines and the sheet's rows part (a quoted cell over several lines is
/// one row in Excel).
#[derive(Debug, Default)]
struct Layout {
    columns: RefCell<Vec<(String, String)>>,
    /// `(line, shift)`: from this line on, rows are `shift` fewer than lines.
    shifts: RefCell<Vec<(usize, usize)>>,
    /// Long-form scoresheets: `(the sheet's first row, item code)` → the row of that item's score.
    items: RefCell<std::collections::HashMap<(usize, String), usize>>,
}

impl Layout {
    fn set_columns(&self, headers: &[String], fields: &csv::StringRecord) {
        *self.columns.borrow_mut() = headers.iter().cloned().zip(fields.iter().map(str::to_owned)).collect();
    }

    /// The row Excel shows the record starting on `line` in.
    fn sheet_row(&self, line: usize) -> usize {
        let shifts = self.shifts.borrow();
        let shift = shifts
            .iter()
            .rev()
            .find(|(from, _)| *from <= line)
            .map_or(0, |(_, s)| *s);
        line.saturating_sub(shift)
    }

    /// Names the cell of each error that is about one cell of the file: its column's letter and
    /// row (`C17`), and the column's header as written.
    fn locate(&self, errors: &mut [FieldError]) {
        let columns = self.columns.borrow();
        if columns.is_empty() {
            return;
        }
        for error in errors.iter_mut() {
            let Some(row) = error.row else { continue };
            let member = error.field.split(['.', '[']).next().unwrap_or("");
            if member.is_empty() {
                continue;
            }
            // A long-form scoresheet's item is on a row of its own: its score, or its code.
            let item_row = error
                .field
                .strip_prefix("scores.")
                .and_then(|item| self.items.borrow().get(&(row, item.to_owned())).copied());
            let (row, member) = match item_row {
                Some(line) if error.code == "scoresheet.score_out_of_range" => (line, "score"),
                Some(line) => (line, "item_code"),
                None => (row, member),
            };
            let found = columns
                .iter()
                .position(|(_, field)| field == &error.field)
                .or_else(|| columns.iter().position(|(_, field)| field == member));
            if let Some(i) = found {
                error.cell = Some(format!("{}{}", spreadsheet::column_letters(i), self.sheet_row(row)));
                error.column = Some(columns[i].0.clone());
            }
        }
    }
}

impl FromRequest for BulkArgs {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    /// Extracts, in this order, the state, the caller, `?dry_run`, the body's format and the
    /// whole body (up to `limits.bulk_body_bytes`).
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = web::Data::<AppState>::extract(&req).await?;
            let caller = Caller::from_request(&req, &mut payload).await?;
            let params = Query::<BulkParams>::from_request(&req, &mut payload).await?;
            let mut format = BodyFormat::of(&req)?;
            let respond_async = super::jobs::prefers_async(req.headers());
            let payload = web::Payload::from_request(&req, &mut payload).await?;
            let body = read_body(payload, state.settings.limits.bulk_body_bytes).await?;
            // A workbook sent as text/csv is still a workbook.
            if format == BodyFormat::Csv && spreadsheet::looks_like_xlsx(&body) {
                format = BodyFormat::Xlsx;
            }
            let content = Content::of(format, &body)?;
            Ok(BulkArgs {
                respond_async,
                tracker: Tracker::default(),
                body,
                content,
                layout: Rc::default(),
                dry_run: params.dry_run.unwrap_or(false),
                format,
                state,
                caller,
            })
        })
    }
}

impl BulkArgs {
    /// The upload, for its audit event and summary.
    fn upload(&self, action: &'static str, entity: &'static str, list_path: Option<&'static str>) -> Upload {
        Upload {
            id: new_id(),
            dry_run: self.dry_run,
            action,
            entity,
            list_path,
            format: self.format,
            body: self.body.clone(),
            layout: self.layout.clone(),
        }
    }

    /// The upload's one transaction.
    async fn write(&self) -> Result<WriteTx, ApiError> {
        self.state.store.write(&self.caller.actor()).await
    }

    fn max_rows(&self) -> usize {
        self.state.settings.limits.bulk_max_rows
    }

    /// Creates the body's rows of `entity` by a use case, batch by batch, and ends the upload:
    /// `begin` starts the use case's recorder in the upload's transaction.
    async fn recorded_through<R: Recorder>(
        &self,
        entity: &'static str,
        list_path: &'static str,
        begin: impl AsyncFnOnce(&WriteTx, &Caller, Uuid) -> Result<R, ApiError>,
    ) -> Result<HttpResponse, ApiError>
    where
        R::Row: DeserializeOwned,
    {
        let upload = self.upload("bulk_create", entity, Some(list_path));
        let parsed = self.rows::<R::Row>()?;
        let tx = self.write().await?;
        let recorder = begin(&tx, &self.caller, upload.id).await?;
        let recorded = record(&tx, &self.caller, recorder, parsed, self.max_rows(), &self.tracker).await?;
        upload.finish(tx, recorded).await
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(bulk_incidents)
        .service(bulk_scoresheets)
        .service(bulk_ballots)
        .service(bulk_subjects)
        .service(bulk_attributes);
}

/// Bad rows listed in one answer; the detail says how many there were in all.
const MAX_REPORTED: usize = 1000;

/// `?dry_run=true` validates and reports without writing.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BulkParams {
    pub dry_run: Option<bool>,
}

/// `Prefer: respond-async` runs the upload as a background job.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct BulkHeaders {
    /// RFC 7240 preferences: with `respond-async` the upload answers `202 Accepted` at once and
    /// runs as a job (`Location`: `/api/v1/jobs/{id}`); without it the request waits for the
    /// upload's answer, as always.
    #[serde(rename = "Prefer")]
    #[param(example = "respond-async")]
    pub prefer: Option<String>,
}

/// What an upload did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"rows": 3, "created": 3, "dry_run": false, "upload_id": "0193b0d2-0000-7000-8000-0000000000aa",
    "list": "/api/v1/incidents?upload_id=0193b0d2-0000-7000-8000-0000000000aa",
    "ids": ["0193b0d2-0000-7000-8000-0000000000b1", "0193b0d2-0000-7000-8000-0000000000b2", "0193b0d2-0000-7000-8000-0000000000b3"],
    "content_sha256": "5d41402abc4b2a76b9719d911017c592…"}))]
pub struct BulkSummary {
    /// Data rows read: JSON array elements, NDJSON lines, CSV records (the header row not
    /// counted). A long-form scoresheet CSV has several rows per sheet: see `sheets`.
    pub rows: usize,
    /// Scoresheet uploads only: the scoresheets those rows make (in CSV long form, consecutive
    /// rows of one evaluation, subject and assessor are one sheet; otherwise one per row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheets: Option<usize>,
    /// Objects written: findings, scoresheets, ballots, subjects or attribute sets (0 on a dry run).
    pub created: usize,
    pub dry_run: bool,
    /// Names this upload: its rows carry it (absent on a dry run).
    pub upload_id: Option<Uuid>,
    /// Where to list what was created (absent on a dry run, and for subject and attribute
    /// uploads, whose objects carry no upload id: use `ids`).
    pub list: Option<String>,
    /// The ids written, one per object in the order of the upload's rows (for a long-form
    /// scoresheet CSV, one per sheet in the order of the sheets' first rows; for attribute
    /// uploads, the subject ids). Absent on a dry run, which writes nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<Uuid>,
    /// SHA-256 of the uploaded body, as recorded in the audit trail.
    pub content_sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyFormat {
    JsonArray,
    Ndjson,
    Csv,
    Xlsx,
}

impl BodyFormat {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default();
        match content_type.as_str() {
            "application/json" => Ok(Self::JsonArray),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Ok(Self::Ndjson),
            "text/csv" => Ok(Self::Csv),
            super::export::XLSX => Ok(Self::Xlsx),
            _ => Err(ApiError::unsupported_media_type(
                "send application/json (an array), application/x-ndjson, text/csv or an .xlsx workbook \
                 (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)",
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::JsonArray => "json",
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// Reads the whole body once, refusing more than the configured bytes. A client that goes away
/// mid-upload ends here, before anything is written.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("request.body_unreadable", format!("the upload was interrupted: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(format!(
                "uploads are limited to {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

type Parsed<T> = (usize, Result<T, Vec<FieldError>>);

/// The rows of an upload as read, before anything is admitted: a background job starts only on
/// a body whose every row has fields of the right types.
trait Readable {
    /// Every row reads, or 422 with each one that does not (413 past the row limit).
    fn readable(args: &BulkArgs) -> Result<(), ApiError>;
}

impl BulkArgs {
    /// Every row of the body reads as a `T`, or 422 with each one that does not.
    fn all_read<T: DeserializeOwned>(&self) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        let mut rows = 0;
        for (_, parsed) in self.rows::<T>()? {
            rows += 1;
            if rows > self.max_rows() {
                return Err(too_many(self.max_rows()));
            }
            if let Err(e) = parsed {
                errors.extend(e);
            }
        }
        if rows == 0 {
            return Err(ApiError::invalid("", "bulk.empty", "the upload has no rows"));
        }
        if errors.is_empty() {
            return Ok(());
        }
        self.layout.locate(&mut errors);
        Err(rejected(errors))
    }
}

macro_rules! readable_as_itself {
    ($($row:ty),*) => {$(
        impl Readable for $row {
            fn readable(args: &BulkArgs) -> Result<(), ApiError> {
                args.all_read::<$row>()
            }
        }
    )*};
}

readable_as_itself!(NewIncident, NewBallot, SubjectRow, AttributesRow);

/// A scoresheet upload's CSV rows are its long-form item scores.
impl Readable for NewScoresheet {
    fn readable(args: &BulkArgs) -> Result<(), ApiError> {
        if matches!(args.content, Content::Json) {
            args.all_read::<NewScoresheet>()
        } else {
            args.all_read::<ScoreRow>()
        }
    }
}

impl BulkArgs {
    /// The rows of a body, parsed one at a time, each numbered as the file shows it: a JSON array's
    /// element by its index (0-based, `body[0]`), an NDJSON row by its line (1-based, blank lines
    /// counted), a CSV record by the line it starts on (the header is line 1, so the first data row
    /// is 2; a quoted cell may span lines), an .xlsx row by its number in the sheet. A CSV's or
    /// sheet's headers name fields by their names or their Chinese or English labels.
    fn rows<'a, T: DeserializeOwned + 'a>(&'a self) -> Result<Box<dyn Iterator<Item = Parsed<T>> + 'a>, ApiError> {
        let bytes = self.body.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&self.body);
        let layout = &*self.layout;
        match (&self.content, self.format) {
            (Content::Json, BodyFormat::JsonArray) => {
                let raw: Vec<&serde_json::value::RawValue> = serde_json::from_slice(bytes).map_err(|e| {
                    ApiError::bad_request(
                        "request.malformed_json",
                        format!("the body is not a JSON array of rows: {e}"),
                    )
                })?;
                Ok(Box::new(
                    raw.into_iter()
                        .enumerate()
                        .map(move |(i, value)| json_row(i, value.get().as_bytes())),
                ))
            }
            (Content::Json, _) => Ok(Box::new(
                bytes
                    .split(|b| *b == b'\n')
                    .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
                    .enumerate()
                    .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
                    .map(move |(i, line)| json_row(i + 1, line)),
            )),
            (Content::Csv(text), _) => {
                let mut reader = csv::ReaderBuilder::new()
                    .trim(csv::Trim::All)
                    .from_reader(text.as_ref());
                let written: Vec<String> = reader
                    .headers()
                    .map_err(|e| {
                        ApiError::bad_request(
                            "request.malformed_csv",
                            format!("the CSV header row is unreadable: {e}"),
                        )
                    })?
                    .iter()
                    .map(str::to_owned)
                    .collect();
                let headers: csv::StringRecord = written.iter().map(|h| spreadsheet::field_of(h)).collect();
                layout.set_columns(&written, &headers);
                let mut shift = 0usize;
                // Lines counted up to the last record's start: (byte offset, line there).
                let mut counted = (0usize, 1usize);
                Ok(Box::new(reader.into_records().enumerate().map(move |(i, result)| {
                    // The line the record's first byte is on (the reader places a record after a
                    // CRLF before its LF, so its own line number is one short in files saved by
                    // Excel); a record the reader cannot place follows the header directly when
                    // it is the first.
                    let position = match &result {
                        Ok(record) => record.position(),
                        Err(e) => e.position(),
                    };
                    let row = match position {
                        Some(p) => {
                            let mut start = (p.byte() as usize).min(text.len());
                            while start < text.len() && matches!(text[start], b'\r' | b'\n') {
                                start += 1;
                            }
                            let (from, line) = counted;
                            let from = from.min(start);
                            let line = line + text[from..start].iter().filter(|b| **b == b'\n').count();
                            counted = (start, line);
                            line
                        }
                        None => i + 2,
                    };
                    if let Ok(record) = &result {
                        let inner = record.iter().map(|cell| cell.matches('\n').count()).sum::<usize>();
                        if inner > 0 {
                            shift += inner;
                            layout.shifts.borrow_mut().push((row + 1, shift));
                        }
                    }
                    let parsed = result
                        .map_err(|e| vec![csv_error(&e, &headers, None).at_row(row)])
                        .and_then(|record| csv_row(&record, &headers).map_err(|errors| at_row(errors, row)));
                    (row, parsed)
                })))
            }
            (Content::Sheet(sheet), _) => {
                let headers: csv::StringRecord = sheet.headers.iter().map(|h| spreadsheet::field_of(h)).collect();
                layout.set_columns(&sheet.headers, &headers);
                Ok(Box::new(sheet.rows.iter().map(move |(row, cells)| {
                    let record = csv::StringRecord::from(cells.clone());
                    let parsed = csv_row(&record, &headers).map_err(|errors| at_row(errors, *row));
                    (*row, parsed)
                })))
            }
        }
    }
}

/// Most problems one row is searched for: its columns, and then some.
const MAX_ROW_PROBLEMS: usize = 64;

/// A CSV record as a row, or every cell it cannot read: each refused cell is reported and its
/// column set aside, until the rest reads (or only the set-aside columns are missed).
fn csv_row<T: DeserializeOwned>(record: &csv::StringRecord, headers: &csv::StringRecord) -> Result<T, Vec<FieldError>> {
    let (mut record, mut headers) = (record.clone(), headers.clone());
    let mut errors: Vec<FieldError> = Vec::new();
    for _ in 0..MAX_ROW_PROBLEMS {
        let error = match record.deserialize::<T>(Some(&headers)) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => break,
            Err(e) => e,
        };
        let mut found = csv_error(&error, &headers, Some(&record));
        if found.field.is_empty() {
            if let Some(i) = culprit::<T>(&record, &headers) {
                let column = headers.get(i).unwrap_or("");
                found = FieldError::new(column, found.code, in_user_words(column, &found.message));
            }
        }
        let column = headers.iter().position(|h| h == found.field);
        let set_aside = errors.iter().any(|e| found.message.contains(&format!("`{}`", e.field)));
        if (found.field.is_empty() && !errors.is_empty()) || set_aside {
            // What remains is the absence of the columns set aside, already reported.
            break;
        }
        errors.push(found);
        let Some(i) = column else {
            break;
        };
        let without = |r: &csv::StringRecord| -> csv::StringRecord {
            r.iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, cell)| cell)
                .collect()
        };
        record = without(&record);
        headers = without(&headers);
    }
    Err(errors)
}

/// The cell a parser's complaint is about, when the parser does not say (a UUID, an enum): the
/// first cell that, read alone under its header, is refused for itself rather than for the
/// fields missing beside it.
fn culprit<T: DeserializeOwned>(record: &csv::StringRecord, headers: &csv::StringRecord) -> Option<usize> {
    (0..record.len()).find(|&i| {
        let (Some(cell), Some(header)) = (record.get(i), headers.get(i)) else {
            return false;
        };
        if cell.is_empty() {
            return false;
        }
        let alone = csv::StringRecord::from(vec![cell]);
        match alone.deserialize::<T>(Some(&csv::StringRecord::from(vec![header]))) {
            Ok(_) => false,
            Err(e) => !e.to_string().contains("missing field"),
        }
    })
}

/// A JSON row, or every field it cannot read: each refused member is reported and the row read
/// again without it, until it reads or a field is refused twice.
fn json_row<T: DeserializeOwned>(row: usize, bytes: &[u8]) -> Parsed<T> {
    let first = match super::parse_json::<T>(bytes) {
        Ok(value) => return (row, Ok(value)),
        Err(e) => e,
    };
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return (row, Err(first.into_row_errors(row)));
    };
    let mut errors: Vec<FieldError> = Vec::new();
    let mut error = first;
    for _ in 0..MAX_ROW_PROBLEMS {
        let found = error.into_row_errors(row);
        let fresh: Vec<FieldError> = found
            .into_iter()
            .filter(|f| !errors.iter().any(|e| e.field == f.field))
            .collect();
        let Some(member) = fresh
            .first()
            .map(|f| f.field.split(['.', '[']).next().unwrap_or("").to_owned())
        else {
            break;
        };
        errors.extend(fresh);
        if object.remove(&member).is_none() {
            break;
        }
        let again = serde_json::to_vec(&object).unwrap_or_default();
        match super::parse_json::<T>(&again) {
            Ok(_) => break,
            Err(e) => error = e,
        }
    }
    (row, Err(errors))
}

fn at_row(errors: Vec<FieldError>, row: usize) -> Vec<FieldError> {
    errors.into_iter().map(|e| e.at_row(row)).collect()
}

fn csv_error(error: &csv::Error, headers: &csv::StringRecord, record: Option<&csv::StringRecord>) -> FieldError {
    match error.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let message = err.kind().to_string();
            // csv names the column of its own errors only; the edge's parsers (decimals,
            // dates) quote the cell they refuse, which names it.
            let quoted = || {
                record?
                    .iter()
                    .position(|cell| !cell.is_empty() && message.starts_with(&format!("{cell:?}")))
            };
            let field = err
                .field()
                .map(|i| i as usize)
                .or_else(quoted)
                .and_then(|i| headers.get(i))
                .unwrap_or("")
                .to_owned();
            let words = in_user_words(&field, &message);
            FieldError::new(field, "request.field_invalid", words)
        }
        _ => FieldError::new("", "request.malformed_csv", error.to_string()),
    }
}

/// A parser's complaint about a cell in the words of the person who filled it in.
fn in_user_words(column: &str, message: &str) -> String {
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(name) = quoted("unknown field `") {
        return format!("{name} is not a column of this upload");
    }
    if let Some(name) = quoted("missing field `") {
        return format!("the column {name} is required");
    }
    if let Some(value) = quoted("unknown variant `") {
        let allowed = message
            .split_once("expected one of ")
            .or_else(|| message.split_once("expected "))
            .map(|(_, list)| list.replace('`', ""))
            .unwrap_or_default();
        return format!("{column}: {value:?} is not one of {allowed}");
    }
    let whole = [
        "expected i32",
        "expected u32",
        "expected i64",
        "expected u64",
        "invalid digit",
    ];
    if whole.iter().any(|w| message.contains(w)) {
        return format!("{column} must be a whole number");
    }
    if message.contains("UUID") || message.contains("expected an optional prefix of `urn:uuid:`") {
        return format!("{column} must be an id (a UUID such as 0193b0d2-0000-7000-8000-000000000003)");
    }
    if message.contains("`true` or `false`") {
        return format!("{column} must be true or false");
    }
    message.to_owned()
}

/// The answer to an upload with bad rows: every bad row, nothing written.
fn rejected(errors: Vec<FieldError>) -> ApiError {
    let total = errors.len();
    let bad_rows = errors.iter().filter_map(|e| e.row).collect::<HashSet<_>>().len();
    // A row the caller sees but may not write makes the upload a 403, as the single write is
    // (whether or not that row is among those reported).
    let forbidden = errors.iter().any(|e| e.code == "auth.forbidden");
    let mut errors = errors;
    errors.sort_by_key(|e| e.row);
    errors.truncate(MAX_REPORTED);
    let mut error = ApiError::validation(errors);
    if forbidden {
        error = error.with_status(actix_web::http::StatusCode::FORBIDDEN);
    }
    if total > 0 {
        error = error.with_detail(format!(
            "{bad_rows} row(s) are invalid ({total} problem(s){}); nothing was written",
            if total > MAX_REPORTED {
                format!(", the first {MAX_REPORTED} listed")
            } else {
                String::new()
            }
        ));
    }
    error
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn too_many(limit: usize) -> ApiError {
    ApiError::payload_too_large(format!("uploads are limited to {limit} rows"))
}

bulk_upload! {
    /// Upload findings in bulk.
    ///
    /// A JSON array, NDJSON or CSV (header row with the `NewIncident` field names; UTF-8, BOM
    /// optional) of findings. All-or-nothing: any invalid row answers 422 listing every bad row
    /// (row, field, code, message) and writes nothing. `?dry_run=true` validates only.
    bulk_incidents: POST "/incidents:bulk", operation "bulkCreateIncidents", rows NewIncident,
    written "Every row written", valid "Dry run: every row is valid",
    |args| args.recorded_through("incident", "/api/v1/incidents", FindingsUpload::begin).await
}

/// Feeds parsed rows to a use case batch by batch; the rows that did not parse are reported
/// with the ones it refuses, in row order.
async fn record<R: Recorder>(
    tx: &WriteTx,
    caller: &Caller,
    mut recorder: R,
    parsed: impl Iterator<Item = Parsed<R::Row>>,
    max_rows: usize,
    tracker: &Tracker,
) -> Result<Recorded, ApiError> {
    let mut unparsed = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut rows = 0usize;
    for (row, result) in parsed {
        rows += 1;
        if rows > max_rows {
            return Err(too_many(max_rows));
        }
        tracker.read(1);
        match result {
            Ok(value) => batch.push((row, value)),
            Err(e) => {
                tracker.validated(1);
                tracker.problems(&e);
                unparsed.extend(e);
            }
        }
        if batch.len() == BATCH {
            add_batch(tx, caller, &mut recorder, std::mem::take(&mut batch), tracker).await?;
        }
    }
    add_batch(tx, caller, &mut recorder, batch, tracker).await?;
    let mut recorded = recorder.finish();
    recorded.rows = rows;
    // In row order when answered (`rejected`).
    recorded.errors.extend(unparsed);
    Ok(recorded)
}

/// One batch through the use case, reported to the tracker.
async fn add_batch<R: Recorder>(
    tx: &WriteTx,
    caller: &Caller,
    recorder: &mut R,
    batch: Vec<(usize, R::Row)>,
    tracker: &Tracker,
) -> Result<(), ApiError> {
    let (rows, before) = (batch.len(), recorder.errors().len());
    recorder.add(tx, caller, batch).await?;
    tracker.validated(rows);
    tracker.problems(recorder.errors().get(before..).unwrap_or_default());
    Ok(())
}

/// What an upload is, for its audit event and summary.
struct Upload {
    id: Uuid,
    dry_run: bool,
    /// The audit event's action: `bulk_create`, `bulk_set_attributes`.
    action: &'static str,
    entity: &'static str,
    /// The list its rows are found in by `upload_id`, if they carry it.
    list_path: Option<&'static str>,
    format: BodyFormat,
    body: web::Bytes,
    /// The columns of a CSV or .xlsx upload, to name the cells of its errors.
    layout: Rc<Layout>,
}

impl Upload {
    /// Ends an upload: the 422 with every bad row, the dry-run report (its transaction rolled
    /// back), or the commit with its audit event and summary.
    async fn finish(self, tx: WriteTx, recorded: Recorded) -> Result<HttpResponse, ApiError> {
        if !recorded.errors.is_empty() {
            let mut errors = recorded.errors;
            self.layout.locate(&mut errors);
            return Err(rejected(errors));
        }
        if recorded.rows == 0 {
            return Err(ApiError::invalid("", "bulk.empty", "the upload has no rows"));
        }
        let content_sha256 = sha256(&self.body);
        if self.dry_run {
            // Dropped uncommitted: everything the upload wrote is rolled back.
            drop(tx);
            return Ok(HttpResponse::Ok().json(BulkSummary {
                rows: recorded.rows,
                sheets: recorded.sheets,
                created: 0,
                dry_run: true,
                upload_id: None,
                list: None,
                ids: Vec::new(),
                content_sha256,
            }));
        }
        for rubric in &recorded.rubrics {
            schemes::mark_used(tx.conn(), *rubric).await?;
        }
        let created = recorded.ids.len();
        tx.audit(
            Change::new(self.action, self.entity, Some(self.id)).after(&serde_json::json!({
                "rows": recorded.rows, "created": created, "format": self.format.name(),
                "content_sha256": content_sha256,
            })),
        )
        .await?;
        let summary = BulkSummary {
            rows: recorded.rows,
            sheets: recorded.sheets,
            created,
            dry_run: false,
            upload_id: Some(self.id),
            list: self.list_path.map(|path| format!("{path}?upload_id={}", self.id)),
            ids: recorded.ids,
            content_sha256,
        };
        tx.respond(HttpResponse::Created().json(summary)).await
    }
}

/// A CSV row of a scoresheet upload: one item score; consecutive rows with the same evaluation,
/// subject and assessor form one sheet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreRow {
    evaluation_id: Uuid,
    subject_id: Uuid,
    #[serde(default)]
    assessor: Option<String>,
    item_code: String,
    #[serde(deserialize_with = "crate::decimal::strict")]
    score: Decimal,
    #[serde(default)]
    note: Option<String>,
}

/// Scoresheets of a body, with the row number of each sheet's first row, and the number of data
/// rows read (more than the sheets in a long-form CSV).
fn sheets(args: &BulkArgs) -> Result<(Vec<Parsed<NewScoresheet>>, usize), ApiError> {
    if matches!(args.content, Content::Json) {
        let parsed: Vec<Parsed<NewScoresheet>> = args.rows::<NewScoresheet>()?.collect();
        let read = parsed.len();
        return Ok((parsed, read));
    }
    let mut out: Vec<Parsed<NewScoresheet>> = Vec::new();
    let mut current: Option<(usize, NewScoresheet)> = None;
    let mut read = 0;
    for (row, parsed) in args.rows::<ScoreRow>()? {
        read += 1;
        match parsed {
            Err(e) => out.push((row, Err(e))),
            Ok(r) => {
                let same = current.as_ref().is_some_and(|(_, s)| {
                    s.evaluation_id == r.evaluation_id && s.subject_id == r.subject_id && s.assessor == r.assessor
                });
                if !same {
                    out.extend(current.take().map(|(n, s)| (n, Ok(s))));
                    current = Some((
                        row,
                        NewScoresheet {
                            evaluation_id: r.evaluation_id,
                            subject_id: r.subject_id,
                            scores: BTreeMap::new(),
                            assessor: r.assessor.clone(),
                            note: r.note.clone(),
                        },
                    ));
                }
                if let Some((first, sheet)) = current.as_mut() {
                    args.layout
                        .items
                        .borrow_mut()
                        .insert((*first, r.item_code.clone()), row);
                    sheet.scores.insert(r.item_code, r.score);
                }
            }
        }
    }
    out.extend(current.map(|(n, s)| (n, Ok(s))));
    Ok((out, read))
}

bulk_upload! {
    /// Upload scoresheets in bulk.
    ///
    /// JSON array or NDJSON of scoresheets, or CSV in long form: `evaluation_id,subject_id,assessor,
    /// item_code,score` (consecutive rows of one evaluation, subject and assessor form one sheet).
    /// All-or-nothing; `?dry_run=true` validates only. A sheet replaces the same assessor's
    /// earlier sheet for that subject.
    bulk_scoresheets: POST "/scoresheets:bulk", operation "bulkCreateScoresheets", rows NewScoresheet,
    written "Every sheet written", valid "Dry run: every sheet is valid",
    |args| {
        let upload = args.upload("bulk_create", "scoresheet", Some("/api/v1/scoresheets"));
        let (parsed, rows) = sheets(&args)?;
        if rows > args.max_rows() {
            return Err(too_many(args.max_rows()));
        }
        let tx = args.write().await?;
        let recorder = ScoresheetsUpload::begin(upload.id, parsed.len());
        let mut recorded = record(
            &tx,
            &args.caller,
            recorder,
            parsed.into_iter(),
            args.max_rows(),
            &args.tracker,
        )
        .await?;
        // A long-form CSV has more rows than sheets.
        recorded.rows = rows;
        upload.finish(tx, recorded).await
    }
}

bulk_upload! {
    /// Upload ballots in bulk (JSON array, NDJSON or CSV with `evaluation_id,subject_id,score[,participant]`).
    bulk_ballots: POST "/ballots:bulk", operation "bulkCreateBallots", rows NewBallot,
    written "Every ballot written", valid "Dry run: every ballot is valid",
    |args| {
        let begin = async |_: &WriteTx, _: &Caller, upload: Uuid| Ok(BallotsUpload::begin(upload));
        args.recorded_through("ballot", "/api/v1/ballots", begin).await
    }
}

bulk_upload! {
    /// Upload subjects in bulk (JSON array, NDJSON or CSV with the `SubjectRow` fields).
    ///
    /// Townships, villages and departments are created with their org units. A row may give itself
    /// a client key (`ref`) and name other rows of the same upload by theirs (`parent_ref`,
    /// `dispatched_by_ref`, `stationed_in_ref`) instead of by id, in any order without cycles: a
    /// village and the first secretary stationed in it go up together. Rows are created so that
    /// each follows the rows it names (otherwise in upload order), each audited; `ids` answers them
    /// in row order. An unknown, duplicate or cyclic ref is a 422 naming the row and field; any
    /// invalid row rolls back the whole upload.
    bulk_subjects: POST "/subjects:bulk", operation "bulkCreateSubjects", rows SubjectRow,
    written "Every subject created", valid "Dry run: every row is valid",
    |args| written_through(args, "bulk_create", subject_uploads::create_rows).await
}

bulk_upload! {
    /// Set many subjects' per-scheme attributes in one upload.
    ///
    /// A JSON array, NDJSON or CSV of `AttributesRow`s: each sets one subject's attributes for one
    /// scheme as `PUT /api/v1/subjects/{id}/attributes/{scheme_id}` does (fields left out or empty
    /// keep their value; `version` is required once the attributes were set). The same rules as the
    /// single write decide who may; a subject or scheme outside your scope is an unknown reference
    /// (422). All-or-nothing; `?dry_run=true` validates only. Each row is audited like the single
    /// write, and the upload once more; `ids` answers the subject ids in row order.
    bulk_attributes: POST "/attributes:bulk", operation "bulkSetAttributes", rows AttributesRow,
    written "Every row's attributes set", valid "Dry run: every row is valid",
    |args| written_through(args, "bulk_set_attributes", subject_uploads::set_rows).await
}

/// An upload of subject rows validated by writing them: `write` creates or sets every parsed row
/// in one transaction and answers their ids in row order or every bad row; the transaction is
/// committed only when every row is good and it is not a dry run.
async fn written_through<T: DeserializeOwned>(
    args: BulkArgs,
    action: &'static str,
    write: impl AsyncFnOnce(&WriteTx, &Caller, Vec<(usize, T)>) -> Result<Result<Vec<Uuid>, Vec<FieldError>>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let Split {
        valid,
        mut errors,
        rows,
    } = split(args.rows::<T>()?, args.max_rows())?;
    args.tracker.read(rows);
    args.tracker.problems(&errors);
    let tx = args.write().await?;
    let ids = match write(&tx, &args.caller, valid).await? {
        Ok(ids) => ids,
        Err(bad) => {
            args.tracker.problems(&bad);
            errors.extend(bad);
            Vec::new()
        }
    };
    args.tracker.validated(rows);
    let recorded = Recorded {
        rows,
        ids,
        errors,
        ..Recorded::default()
    };
    args.upload(action, "subject", None).finish(tx, recorded).await
}

/// The rows of an upload: those that parsed, the errors of those that did not, and how many
/// were read.
struct Split<T> {
    valid: Vec<(usize, T)>,
    errors: Vec<FieldError>,
    rows: usize,
}

/// Parses every row of an upload; more than `max_rows` answers 413.
fn split<T>(parsed: Box<dyn Iterator<Item = Parsed<T>> + '_>, max_rows: usize) -> Result<Split<T>, ApiError> {
    let mut split = Split {
        valid: Vec::new(),
        errors: Vec::new(),
        rows: 0,
    };
    for (row, result) in parsed {
        split.rows += 1;
        if split.rows > max_rows {
            return Err(too_many(max_rows));
        }
        match result {
            Ok(value) => split.valid.push((row, value)),
            Err(e) => split.errors.extend(e),
        }
    }
    Ok(split)
}
