//! `/api/v1/evidence`: evidence files (佐证材料) uploaded (multipart form or raw body, streamed),
//! read with `ETag`, `Range` and `Content-Disposition`, attached to findings, scoresheets and
//! appeals and detached with a reason (`/api/v1/evidence-links` lists the history).

use std::ops::Range;

use actix_web::body::SizedStream;
use actix_web::http::header::{self, ContentDisposition, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::from_row;
use super::idempotency::Respond;
use super::{created, not_modified, ok_versioned, Body, Query};
use crate::api::listing::{Page, PageParams};
use crate::auth::parse_name;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::objects::{Staged, Staging};
use crate::state::AppState;
use crate::store::entities::evidence as evidence_row;
use crate::store::entities::evidence_link;
use crate::store::evidence::{self};
use chrono::{DateTime, Utc};
use serde::Serialize;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload)
        .service(read)
        .service(content)
        .service(attach)
        .service(detach)
        .service(list_links);
}

/// The multipart form of an upload.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file; the part's `filename` (or `filename*`) is kept as its name.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A file's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

/// Query of `POST /api/v1/evidence`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name (UTF-8), for a raw body; a form's part names its own. Without either, the
    /// name is made from the hash.
    #[param(max_length = 255, example = "现场照片-村部.jpg")]
    pub file_name: Option<String>,
}

/// Upload an evidence file (佐证材料): a photo, scan, PDF or office document.
///
/// Send it as `multipart/form-data` (one part named `file`, e.g. `curl -F file=@照片.jpg`) or as
/// the raw body with any `Content-Type` (`curl --data-binary @scan.pdf -H 'content-type:
/// application/pdf'`), naming it with `file_name` or a `Content-Disposition` header. The body is
/// streamed to storage while it is hashed (SHA-256), never held whole. Its media type is detected
/// from the bytes, not the name or the header: a type outside `evidence.allowed_media_types` is
/// refused (415), as is a file over `evidence.max_bytes` (413). Uploading bytes you uploaded
/// before answers that file again (200). A file attached to nothing is visible to you and the
/// county's admins only; attach it to a finding, scoresheet or appeal (or name it in a finding's
/// `evidence_ids`).
#[utoipa::path(
    tag = "evidence", operation_id = "uploadEvidence",
    params(UploadQuery),
    request_body(description = "The file: a multipart form with a `file` part, or the raw bytes (any content type)",
        content((UploadForm = "multipart/form-data"), (FileBytes = "application/octet-stream"))),
    responses(
        (status = 201, description = "Stored", body = Evidence,
            headers(("Location" = String, description = "URL of the file"), ("ETag" = String, description = "The SHA-256 of its bytes, quoted"))),
        (status = 200, description = "You uploaded these bytes before: that file", body = Evidence,
            headers(("Location" = String, description = "URL of the file"), ("ETag" = String, description = "The SHA-256 of its bytes, quoted")))
    )
)]
#[post("/evidence")]
async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: Query<UploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if !caller.may_upload_evidence() {
        return Err(ApiError::forbidden(
            "your role may not upload evidence: it attaches to nothing you may record or appeal",
        ));
    }
    let limit = state.settings.evidence.max_bytes;
    let named = match &query.file_name {
        Some(name) => Some(checked_name(name)?),
        None => None,
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let multipart = is_multipart(&req);
    // A form's boundaries and part headers are a few hundred bytes.
    let slack = if multipart { 64 * 1024 } else { 0 };
    if declared.is_some_and(|n| n > limit + slack) {
        return Err(too_large(limit));
    }
    let (staged, part_name) = if multipart {
        receive_form(&state, &req, payload, limit).await?
    } else {
        let staging = state.objects.stage();
        let header_name = req
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| ContentDisposition::from_raw(v).ok())
            .and_then(|cd| disposition_name(&cd));
        (receive(&state, staging, payload, limit, "file").await?, header_name)
    };
    let (media_type, extension) = match detect(&state, &staged.head) {
        Ok(found) => found,
        Err(err) => {
            state.objects.discard(&staged).await;
            return Err(err);
        }
    };
    let file_name = named
        .or(part_name)
        .unwrap_or_else(|| format!("evidence-{}.{extension}", &staged.sha256[..12]));
    let answer = store(&state, &caller, &staged, media_type, file_name).await;
    if answer.is_err() {
        state.objects.discard(&staged).await;
    }
    answer
}

/// Moves the upload to its content address and records it (or answers the caller's earlier
/// upload of the same bytes), in one write transaction.
async fn store(
    state: &AppState,
    caller: &Caller,
    staged: &Staged,
    media_type: String,
    file_name: String,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let existing = evidence::find_own(tx.conn(), caller, &staged.sha256).await?;
    state.objects.keep(staged).await?;
    let (row, status) = match existing {
        Some(row) => (row, StatusCode::OK),
        None => {
            let new = evidence::Upload {
                sha256: staged.sha256.clone(),
                size_bytes: i64::try_from(staged.size).unwrap_or(i64::MAX),
                media_type,
                file_name,
            };
            (evidence::create(&tx, caller, new).await?, StatusCode::CREATED)
        }
    };
    let (row, links) = evidence::load_for(tx.conn(), caller, row.id).await?;
    let response = HttpResponse::build(status)
        .insert_header((header::LOCATION, format!("/api/v1/evidence/{}", row.id)))
        .insert_header((header::ETAG, content_etag(&row.sha256)))
        .json(Evidence::of(row, links));
    tx.respond(response).await
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|v| v == "multipart/form-data")
}

/// Streams a raw body (or a form's part) into `staging`, at most `limit` bytes; on any failure
/// the temporary object is removed.
async fn receive<S, E>(
    state: &AppState,
    mut staging: Staging,
    mut body: S,
    limit: u64,
    field: &str,
) -> Result<Staged, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut sniffed = false;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                staging.abort().await;
                return Err(ApiError::bad_request("request.body_unreadable", e.to_string()));
            }
        };
        if staging.size() + chunk.len() as u64 > limit {
            staging.abort().await;
            return Err(too_large(limit));
        }
        if let Err(e) = staging.write(chunk).await {
            staging.abort().await;
            return Err(e);
        }
        // Refused types are refused as soon as their first bytes show it.
        if !sniffed && staging.head().len() >= crate::objects::SNIFF_BYTES {
            sniffed = true;
            if let Err(e) = detect(state, staging.head()) {
                staging.abort().await;
                return Err(e);
            }
        }
    }
    if staging.size() == 0 {
        staging.abort().await;
        return Err(ApiError::invalid(field, "evidence.file_empty", "the file is empty"));
    }
    staging.finish().await
}

/// Streams the `file` part of a multipart form; other parts are refused.
async fn receive_form(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    limit: u64,
) -> Result<(Staged, Option<String>), ApiError> {
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    let mut received: Option<(Staged, Option<String>)> = None;
    let malformed = |e: actix_multipart::MultipartError| {
        ApiError::bad_request("request.malformed_multipart", format!("the form is malformed: {e}"))
    };
    while let Some(field) = form.next().await {
        let field = match field {
            Ok(field) => field,
            Err(e) => {
                if let Some((staged, _)) = &received {
                    state.objects.discard(staged).await;
                }
                return Err(malformed(e));
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let refusal = if name != "file" {
            Some(ApiError::invalid(
                name.clone(),
                "evidence.form_field_unknown",
                "the form takes one part, named `file`",
            ))
        } else if received.is_some() {
            Some(ApiError::invalid(
                "file",
                "evidence.form_file_repeated",
                "send one file per upload",
            ))
        } else {
            None
        };
        if let Some(refusal) = refusal {
            if let Some((staged, _)) = &received {
                state.objects.discard(staged).await;
            }
            return Err(refusal);
        }
        let part_name = field.content_disposition().and_then(disposition_name);
        let staged = receive(state, state.objects.stage(), field, limit, "file").await?;
        received = Some((staged, part_name));
    }
    received.ok_or_else(|| ApiError::invalid("file", "evidence.file_missing", "the form has no `file` part"))
}

/// The media type (and its usual extension) detected from a file's first bytes, if the
/// allow-list has it: 415 otherwise.
fn detect(state: &AppState, head: &[u8]) -> Result<(String, &'static str), ApiError> {
    let allowed = &state.settings.evidence.allowed_media_types;
    match infer::get(head) {
        Some(kind) if allowed.iter().any(|a| a.eq_ignore_ascii_case(kind.mime_type())) => {
            Ok((kind.mime_type().to_owned(), kind.extension()))
        }
        Some(kind) => Err(ApiError::invalid(
            "file",
            "evidence.media_type_refused",
            format!(
                "the file is {} ({}), which is not an accepted evidence type; accepted: {}",
                kind.mime_type(),
                kind.extension(),
                allowed.join(", ")
            ),
        )
        .arg("value", kind.mime_type())
        .arg("accepted", allowed.join(", "))
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)),
        None => Err(ApiError::invalid(
            "file",
            "evidence.media_type_unknown",
            format!(
                "the file's type could not be recognised from its bytes; accepted: {}",
                allowed.join(", ")
            ),
        )
        .arg("accepted", allowed.join(", "))
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)),
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::invalid(
        "file",
        "evidence.too_large",
        format!("an evidence file may have at most {limit} bytes"),
    )
    .arg("max", limit)
    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
}

/// A file name as given, checked: 1–255 characters, no control characters, no directories.
fn checked_name(name: &str) -> Result<String, ApiError> {
    let trimmed = name.trim();
    if trimmed.is_empty()
        || trimmed.chars().count() > 255
        || trimmed.chars().any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(ApiError::invalid(
            "file_name",
            "evidence.file_name_invalid",
            "file_name must be 1–255 characters, without control characters or slashes",
        ));
    }
    Ok(trimmed.to_owned())
}

/// The name a `Content-Disposition` gives (`filename*` first), reduced to its last path
/// segment and cleaned of control characters.
fn disposition_name(cd: &ContentDisposition) -> Option<String> {
    let raw = match cd.get_filename_ext() {
        Some(ext) => String::from_utf8(ext.value.clone()).ok()?,
        None => cd.get_filename()?.to_owned(),
    };
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let clean = clean.trim().to_owned();
    (!clean.is_empty()).then_some(clean)
}

/// The strong ETag of a file's bytes: their hash.
fn content_etag(sha256: &str) -> String {
    format!("\"{sha256}\"")
}

/// Read an evidence file's metadata and its links.
///
/// Visible while it is attached to something you may read (a finding, scoresheet or appeal of
/// your scope), and always to its uploader and the county's admins; 404 otherwise. Links you may
/// not read are left out; detached links stay, with who detached them, when and why.
#[utoipa::path(
    tag = "evidence", operation_id = "getEvidence",
    params(("id" = Uuid, Path, description = "Evidence id")),
    responses((status = 200, description = "The file's metadata", body = Evidence))
)]
#[get("/evidence/{id}")]
async fn read(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let (row, links) = evidence::load_for(state.store.db(), &caller, *id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, content_etag(&row.sha256)))
        .json(Evidence::of(row, links)))
}

/// Headers of a content request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct ContentHeaders {
    /// One byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-512` (206); several
    /// ranges are answered whole (200).
    #[serde(rename = "Range")]
    range: Option<String>,
    /// The ETag you have (the hash, quoted): 304 when it is this file.
    #[serde(rename = "If-None-Match")]
    if_none_match: Option<String>,
    /// Answer the range only if the file is still this ETag (it always is: files never change).
    #[serde(rename = "If-Range")]
    if_range: Option<String>,
}

/// Download an evidence file's bytes.
///
/// Same visibility as the metadata. `Content-Type` is the detected media type;
/// `Content-Disposition` names the file with an ASCII fallback and its UTF-8 name
/// (`filename*`, RFC 6266 / RFC 5987). `ETag` is the SHA-256: `If-None-Match` gives 304.
/// `Range: bytes=…` gives 206 with `Content-Range`, or 416 beyond the end.
#[utoipa::path(
    tag = "evidence", operation_id = "getEvidenceContent",
    params(("id" = Uuid, Path, description = "Evidence id"), ContentHeaders),
    responses(
        (status = 200, description = "The whole file", content((FileBytes = "*/*")),
            headers(("ETag" = String, description = "The SHA-256 of the bytes, quoted"),
                ("Content-Disposition" = String, description = "attachment; filename=\"…\"; filename*=UTF-8''…"),
                ("Accept-Ranges" = String, description = "bytes"))),
        (status = 206, description = "The range asked for", content((FileBytes = "*/*")),
            headers(("Content-Range" = String, description = "bytes FIRST-LAST/SIZE"),
                ("ETag" = String, description = "The SHA-256 of the bytes, quoted"))),
        (status = 304, description = "You have this file (If-None-Match)"),
        (status = 416, description = "The range starts beyond the end of the file", body = crate::error::Problem,
            content_type = "application/problem+json",
            headers(("Content-Range" = String, description = "bytes */SIZE")))
    )
)]
#[get("/evidence/{id}/content")]
async fn content(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (row, _) = evidence::load_for(state.store.db(), &caller, *id).await?;
    let etag = content_etag(&row.sha256);
    if not_modified(&req, &etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let size = u64::try_from(row.size_bytes).unwrap_or(0);
    let if_range_holds = req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let asked = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_holds)
        .map(|v| byte_range(v, size))
        .unwrap_or(Asked::Whole);
    let range = match asked {
        Asked::Whole => None,
        Asked::Part(range) => Some(range),
        Asked::Unsatisfiable => {
            let mut response = ApiError::invalid(
                "Range",
                "evidence.range_unsatisfiable",
                format!("the range starts beyond the end: the file has {size} bytes"),
            )
            .arg("size", size)
            .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
            .error_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    let stream = state.objects.read(&row.sha256, range.clone()).await?;
    let mut response = match &range {
        None => HttpResponse::Ok(),
        Some(r) => {
            let mut partial = HttpResponse::PartialContent();
            partial.insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{size}", r.start, r.end - 1)));
            partial
        }
    };
    let length = range.as_ref().map_or(size, |r| r.end - r.start);
    response
        .insert_header((header::CONTENT_TYPE, row.media_type.clone()))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_DISPOSITION, attachment(&row.file_name)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    Ok(response.body(SizedStream::new(length, stream)))
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    /// No range, or one this service does not serve partially (several, other units, malformed):
    /// the whole file (RFC 9110 lets a server ignore `Range`).
    Whole,
    Part(Range<u64>),
    /// A range starting at or beyond the end.
    Unsatisfiable,
}

fn byte_range(header: &str, size: u64) -> Asked {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Asked::Whole;
    };
    if spec.contains(',') {
        return Asked::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Asked::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-N: the last N bytes.
        (true, _, Some(n)) if n > 0 => Asked::Part(size.saturating_sub(n)..size),
        (true, _, Some(_)) => Asked::Unsatisfiable,
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if start >= size {
                return Asked::Unsatisfiable;
            }
            match end {
                Some(end) if end < start => Asked::Whole,
                Some(end) => Asked::Part(start..end.min(size - 1) + 1),
                None => Asked::Part(start..size),
            }
        }
        _ => Asked::Whole,
    }
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the UTF-8 one (RFC 6266,
/// RFC 5987 `filename*`), so every client shows Chinese names right.
fn attachment(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => encoded.push(*byte as char),
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~' => {
                encoded.push(*byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Attach an evidence file to a finding, scoresheet or appeal.
///
/// You must be able to read the file and to record the finding or scoresheet (an appeal: to
/// appeal it or decide it). Attaching a file that is attached there already answers 409.
#[utoipa::path(
    tag = "evidence", operation_id = "attachEvidence",
    params(("id" = Uuid, Path, description = "Evidence id")),
    request_body = NewLink,
    responses((status = 201, description = "Attached", body = EvidenceLink,
        headers(("Location" = String, description = "URL of the file"))))
)]
#[post("/evidence/{id}/links")]
async fn attach(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(new): Body<NewLink>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.store.write(&caller.actor()).await?;
    let link = evidence::attach(&tx, &caller, *id, &new).await?;
    tx.respond(created(
        format!("/api/v1/evidence/{}", link.evidence_id),
        &EvidenceLink::from(link.clone()),
        link.version,
    ))
    .await
}

/// Detach an evidence file, with a reason. The link stays in the history (and the audit trail).
#[utoipa::path(
    tag = "evidence", operation_id = "detachEvidence",
    params(("id" = Uuid, Path, description = "Evidence id"), ("link_id" = Uuid, Path, description = "Link id")),
    request_body = Detachment,
    responses((status = 200, description = "Detached", body = EvidenceLink))
)]
#[post("/evidence/{id}/links/{link_id}/detach")]
async fn detach(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(body): Body<Detachment>,
) -> Result<HttpResponse, ApiError> {
    let (id, link_id) = path.into_inner();
    let tx = state.store.write(&caller.actor()).await?;
    let link = evidence::detach(&tx, &caller, id, link_id, &body.reason).await?;
    tx.respond(ok_versioned(&EvidenceLink::from(link.clone()), link.version))
        .await
}

/// List evidence links in your scope, detached ones included (filter with `active`).
#[utoipa::path(
    tag = "evidence", operation_id = "listEvidenceLinks",
    params(PageParams, LinkFilter),
    responses((status = 200, description = "One page", body = Page<EvidenceLink>))
)]
#[get("/evidence-links")]
async fn list_links(
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageParams>,
    filter: Query<LinkFilter>,
) -> Result<HttpResponse, ApiError> {
    let request = page.parse()?;
    let rows = evidence::list_links(state.store.db(), &caller, &filter, &request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        &request,
        |r: &evidence_link::Model| r.id,
        EvidenceLink::from,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(byte_range("bytes=0-9", 100), Asked::Part(0..10));
        assert_eq!(byte_range("bytes=90-", 100), Asked::Part(90..100));
        assert_eq!(byte_range("bytes=-10", 100), Asked::Part(90..100));
        assert_eq!(byte_range("bytes=-200", 100), Asked::Part(0..100));
        assert_eq!(byte_range("bytes=50-500", 100), Asked::Part(50..100));
        assert_eq!(byte_range("bytes=100-", 100), Asked::Unsatisfiable);
        assert_eq!(byte_range("bytes=-0", 100), Asked::Unsatisfiable);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), Asked::Whole);
        assert_eq!(byte_range("bytes=9-3", 100), Asked::Whole);
        assert_eq!(byte_range("items=0-9", 100), Asked::Whole);
        assert_eq!(byte_range("bytes=x-", 100), Asked::Whole);
        assert_eq!(byte_range("bytes=+1-2", 100), Asked::Whole);
    }

    #[test]
    fn chinese_names_have_an_ascii_fallback_and_a_utf8_name() {
        assert_eq!(
            attachment("现场照片 1.jpg"),
            "attachment; filename=\"____ 1.jpg\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87%201.jpg"
        );
        assert_eq!(
            attachment("a\"b.pdf"),
            "attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a%22b.pdf"
        );
    }
}

// ---- request and response types ----

/// What a file can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A finding (`/api/v1/incidents/{id}`).
    Incident,
    /// A scoresheet.
    Scoresheet,
    /// An appeal (`/api/v1/appeals/{id}`).
    Appeal,
}

/// An evidence file as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e99", "county_id": "0193b0d2-0000-7000-8000-000000000001",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "size_bytes": 482113,
    "media_type": "image/jpeg", "file_name": "现场照片-村部.jpg",
    "uploaded_by": "0193b0d2-0000-7000-8000-000000000020", "uploaded_at": "2023-03-16T02:00:00Z",
    "links": []
}))]
pub struct Evidence {
    pub id: Uuid,
    pub county_id: Uuid,
    /// SHA-256 of the bytes (hex); also the `ETag` of its content.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    pub size_bytes: i64,
    /// Detected from the bytes.
    pub media_type: String,
    /// The name it was uploaded with.
    pub file_name: String,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
    /// What it is and was attached to, as far as you may read it; detached links stay here.
    pub links: Vec<EvidenceLink>,
}

impl Evidence {
    pub fn of(m: evidence_row::Model, links: Vec<evidence_link::Model>) -> Self {
        Self {
            id: m.id,
            county_id: m.county_id,
            sha256: m.sha256,
            size_bytes: m.size_bytes,
            media_type: m.media_type,
            file_name: m.file_name,
            uploaded_by: m.uploaded_by,
            uploaded_at: m.created_at,
            links: links.into_iter().map(EvidenceLink::from).collect(),
        }
    }
}

/// A file's attachment to a finding, scoresheet or appeal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EvidenceLink {
    pub id: Uuid,
    pub evidence_id: Uuid,
    pub target: Target,
    pub target_id: Uuid,
    /// The subject of what it is attached to.
    pub subject_id: Uuid,
    pub attached_by: Uuid,
    pub attached_at: DateTime<Utc>,
    /// False once detached.
    pub active: bool,
    pub detached_at: Option<DateTime<Utc>>,
    pub detached_by: Option<Uuid>,
    pub detach_reason: Option<String>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

from_row! { EvidenceLink from evidence_link:
    id, evidence_id, target_id, subject_id, attached_by, detached_at, detached_by, detach_reason, version, updated_at;
    |m|
    target: parse_name(&m.target).unwrap_or(Target::Incident),
    attached_at: m.created_at,
    active: m.detached_at.is_none(),
}

/// Body of `POST /api/v1/evidence/{id}/links`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"target": "incident", "target_id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e30"}))]
pub struct NewLink {
    pub target: Target,
    pub target_id: Uuid,
}

/// Body of `POST /api/v1/evidence/{id}/links/{link_id}/detach`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "上传错了文件"}))]
pub struct Detachment {
    pub reason: String,
}

/// Filters of `GET /api/v1/evidence-links`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkFilter {
    pub evidence_id: Option<Uuid>,
    pub target: Option<Target>,
    pub target_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    /// Only attached (`true`) or only detached (`false`) links.
    pub active: Option<bool>,
}
