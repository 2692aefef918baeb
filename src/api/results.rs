//! `/api/v1/results`, `/api/v1/subjects/{id}/result`, `/api/v1/rankings` and
//! `/api/v1/results:simulate`: scores with every point explained, live and as of any instant.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::export::{self, Format, HeaderLanguage, Table};
use super::{not_modified, Body, Query};
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::exact::Exact;
use crate::i18n::{label, Lang};
use crate::not_scored::{self, NotScoredReason};
use crate::recording::simulation::{self, WhatIf};
use crate::results::{self, Computed, Rendered, Request, ResultKind, ResultSummary, Standing, View};
use crate::scoring::{Consequence, ConsequenceDetail, RankingResult, RubricResult, SubjectType, SubjectYearResult};
use crate::state::AppState;
use crate::store::entities::scheme;
use crate::store::page::{decode_cursor, encode_cursor};
use crate::store::{schemes, subjects};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_results)
        .service(subject_result)
        .service(list_rankings)
        .service(simulate);
}

/// What `GET /api/v1/results` and `GET /api/v1/rankings` compute.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    pub scheme_id: Uuid,
    /// `annual` (default); `monthly` (月度公开: the running standing to the end of `month`);
    /// or one evaluation's own totals: `half_year`, `year_end`, `democratic`.
    pub kind: Option<ResultKind>,
    /// 1–12: required with `kind=monthly`, ignored with the other kinds.
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<u32>,
    /// The evaluation to show, for the evaluation kinds (needed when the scheme holds several
    /// of the kind, as Seed B holds two democratic evaluations).
    pub evaluation_id: Option<Uuid>,
    /// Compute from the data as recorded at this instant (RFC 3339); default now.
    pub as_of: Option<DateTime<Utc>>,
    /// Only results that changed since this instant (RFC 3339): those that differ from the
    /// same question asked as of then, and those of subjects changed since.
    pub updated_since: Option<DateTime<Utc>>,
    pub subject_type: Option<SubjectType>,
    /// Only subjects of this town.
    pub township_id: Option<Uuid>,
    /// `true`: only subjects with a score in what is shown; `false`: only those without one
    /// (each row's `not_scored_reason` says why). Default: both.
    pub scored: Option<bool>,
    /// `json` (default), `csv`, `ndjson` or `xlsx`; or send `Accept`.
    pub format: Option<Format>,
    /// Export column headers: `en` (default) or `zh`.
    pub headers: Option<HeaderLanguage>,
    /// Page size for JSON, 1–1000 (default 1000). Exports are never paged.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]{21}[AQgw]$")]
    pub cursor: Option<String>,
}

impl ResultsQuery {
    fn request(&self, full: bool) -> Result<Request, ApiError> {
        Ok(Request {
            as_of: self.as_of,
            monthly: results::monthly_of(self.kind.unwrap_or_default(), month_of_kind(self.kind, self.month))?,
            full,
        })
    }
}

/// `month` counts only with `kind=monthly`; with the other kinds it is ignored (the document
/// cannot tie one parameter to another's value, so a request it allows is not refused).
pub fn month_of_kind(kind: Option<ResultKind>, month: Option<u32>) -> Option<u32> {
    month.filter(|_| kind == Some(ResultKind::Monthly))
}

/// Answers 304 when the client's ETag is current, the same answer again when this scope asked
/// the same question at this data revision, and otherwise loads the scheme and computes.
async fn computed_for(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    scheme_id: Uuid,
    request: Request,
) -> Result<Result<(std::sync::Arc<Computed>, String), HttpResponse>, ApiError> {
    let revision = caller.revision;
    let etag = etag_of(scheme_id, revision, caller, req);
    if not_modified(req, &etag) {
        return Ok(Err(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::VARY, "Accept-Encoding, Accept-Language"))
            .finish()));
    }
    if let Some(rendered) = state.results.rendered(&etag) {
        return Ok(Err(answer(req, &etag, &rendered)));
    }
    let db = state.store.db();
    let scheme: scheme::Model = schemes::load_for(db, caller, Action::ReadShared, scheme_id).await?;
    let computed = results::year_at(&state.store, &state.results, scheme, request, revision).await?;
    // The answer may be of a newer revision than the caller read: its ETag names that one.
    let etag = if computed.revision == revision {
        etag
    } else {
        etag_of(scheme_id, computed.revision, caller, req)
    };
    Ok(Ok((computed, etag)))
}

/// A kept answer, gzip-compressed when the client accepts it (data platforms pulling whole
/// rankings, browsers). The `Compress` middleware would compress it the same way on every
/// request; the kept answer is compressed once, and its `Content-Encoding` tells the middleware
/// to leave it alone.
fn answer(req: &HttpRequest, etag: &str, rendered: &Rendered) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((header::CONTENT_TYPE, rendered.content_type.clone()))
        .insert_header((header::CONTENT_LANGUAGE, Lang::of(req).tag()))
        .append_header((header::VARY, "Accept-Encoding"));
    if accepts_gzip(req) {
        if let Some(gzipped) = rendered.gzipped() {
            response.insert_header((header::CONTENT_ENCODING, "gzip"));
            return response.body(gzipped);
        }
    }
    response.body(rendered.body.clone())
}

/// Whether the `Compress` middleware would answer this request gzip-encoded: the same
/// negotiation, over the same codings (gzip, identity).
fn accepts_gzip(req: &HttpRequest) -> bool {
    use actix_web::http::header::{AcceptEncoding, Encoding, Header};
    const SUPPORTED: [Encoding; 2] = [Encoding::gzip(), Encoding::identity()];
    AcceptEncoding::parse(req)
        .ok()
        .and_then(|accept| accept.negotiate(SUPPORTED.iter()))
        .is_some_and(|encoding| encoding == Encoding::gzip())
}

/// Serialises a JSON answer with the labels of its codes in the request's language, and keeps
/// it for the next identical question.
fn remember_json<T: Serialize>(
    state: &AppState,
    req: &HttpRequest,
    etag: &str,
    body: &T,
) -> Result<HttpResponse, ApiError> {
    let mut body = serde_json::to_value(body)?;
    add_labels(&mut body, Lang::of(req));
    let rendered = Arc::new(Rendered::new(
        "application/json".to_owned(),
        web::Bytes::from(serde_json::to_vec(&body)?),
    ));
    state.results.remember(etag, rendered.clone());
    Ok(answer(req, etag, &rendered))
}

/// Beside each code of a result, what a person reads for it, in `lang` (labels.ftl): a grade's
/// `label` (优秀 / Excellent), a prize's `label` (its scheme's title when the catalogue has no
/// label for its key), each consequence detail's `label`, `consequence_labels` beside
/// `consequences`, and `subject_type_label` beside `subject_type`. The codes stay as they are.
pub fn add_labels(value: &mut serde_json::Value, lang: Lang) {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| add_labels(item, lang)),
        Value::Object(object) => {
            for (_, inner) in object.iter_mut() {
                add_labels(inner, lang);
            }
            let text =
                |object: &serde_json::Map<String, Value>, key: &str| object.get(key)?.as_str().map(str::to_owned);
            if let (Some(grade), true) = (text(object, "grade"), object.contains_key("bonus_pay")) {
                object.insert("label".to_owned(), label(lang, "grade", &grade).into());
            }
            if let Some(Value::Object(prize)) = object.get_mut("prize") {
                if let Some(key) = text(prize, "key") {
                    let own = lang.text(&format!("label-prize-{key}"));
                    let shown = own.or_else(|| text(prize, "title")).unwrap_or(key);
                    prize.insert("label".to_owned(), shown.into());
                }
            }
            if let (Some(code), true) = (text(object, "code"), object.contains_key("referred_to_supervisor")) {
                object.insert("label".to_owned(), label(lang, "consequence", &code).into());
            }
            // A result's own subject type (a summary, a subject's year, a ranking), not the type
            // of a subject its explanation or a cause names.
            let a_result = ["evaluations", "entries"].iter().any(|key| object.contains_key(*key));
            if let Some(subject_type) = text(object, "subject_type").filter(|_| a_result) {
                let shown = label(lang, "subject_type", &subject_type);
                object.insert("subject_type_label".to_owned(), shown.into());
            }
            if let Some(Value::Array(codes)) = object.get("consequences") {
                let labels: Vec<Value> = codes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|code| label(lang, "consequence", code).into())
                    .collect();
                object.insert("consequence_labels".to_owned(), Value::Array(labels));
            }
        }
        _ => {}
    }
}

/// The label fields `add_labels` writes, declared on the schemas they appear in.
pub fn document_labels(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;
    let language = "in the answer's language (`Accept-Language`: 简体中文 by default, `en`)";
    let text = |what: &str, example: &str| -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!("{what}, {language}")))
            .examples([serde_json::json!(example)])
            .build()
            .into()
    };
    let list = || -> Schema {
        ArrayBuilder::new()
            .items(RefOr::T(text("A consequence's label", "启动问责程序")))
            .description(Some(format!("The labels of `consequences`, in its order, {language}")))
            .build()
            .into()
    };
    let fields: [(&str, &str, Schema); 9] = [
        ("GradeResult", "label", text("The grade's label", "优秀")),
        ("Prize", "label", text("The prize's label", "一等奖")),
        (
            "ConsequenceDetail",
            "label",
            text("The consequence's label", "启动问责程序"),
        ),
        (
            "ResultSummary",
            "subject_type_label",
            text("The subject type's label", "乡镇"),
        ),
        (
            "SubjectYearResult",
            "subject_type_label",
            text("The subject type's label", "乡镇"),
        ),
        (
            "RankingResult",
            "subject_type_label",
            text("The subject type's label", "乡镇"),
        ),
        ("ResultSummary", "consequence_labels", list()),
        ("SubjectYearResult", "consequence_labels", list()),
        ("RankingEntry", "consequence_labels", list()),
    ];
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for (schema, field, property) in fields {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) {
            object.properties.insert(field.to_owned(), RefOr::T(property));
        }
    }
}

/// A weak ETag naming the data revision, the caller's scope and the question: a client that has
/// it gets 304 without the service computing anything.
fn etag_of(scheme_id: Uuid, revision: i64, caller: &Caller, req: &HttpRequest) -> String {
    let mut hasher = Sha256::new();
    hasher.update(scheme_id.as_bytes());
    hasher.update(revision.to_be_bytes());
    hasher.update(caller.org_unit_id.as_bytes());
    hasher.update(caller.level.as_str().as_bytes());
    hasher.update(req.path().as_bytes());
    hasher.update(req.query_string().as_bytes());
    // The labels are in the request's language.
    hasher.update(Lang::of(req).tag().as_bytes());
    hasher.update(
        req.headers()
            .get(header::ACCEPT)
            .map(|v| v.as_bytes())
            .unwrap_or_default(),
    );
    format!("W/\"{}\"", hex::encode(&hasher.finalize()[..12]))
}

/// A page of result summaries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsPage {
    pub scheme_id: Uuid,
    pub year: i32,
    pub kind: ResultKind,
    pub month: Option<u32>,
    /// The evaluation shown, for the evaluation kinds.
    pub evaluation_id: Option<Uuid>,
    pub as_of: Option<DateTime<Utc>>,
    /// One row per subject, ordered by `subject_id`. In each row, `evaluations` follow the
    /// scheme's evaluations by window start, then kind (half-year, year-end, democratic, quarterly), then
    /// key, then id; `standings` follow the scheme's rankings; `consequences` are in code order.
    pub items: Vec<ResultRow>,
    pub next_cursor: Option<String>,
}

/// A subject's row in a results list: its summary, and why it has no score when it has none.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultRow {
    #[serde(flatten)]
    pub summary: ResultSummary,
    /// Why `score` is null (absent when the subject has a score).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_scored_reason: Option<NotScoredReason>,
}

/// Results of a scheme-year: every subject you may see, with each evaluation's score, the annual
/// score (or the monthly standing), grade, bonus pay, ranks, prize and consequences.
#[utoipa::path(
    tag = "results", operation_id = "listResults",
    params(ResultsQuery),
    responses(
        (status = 200, description = "One page of results (or the whole export)", content(
            (ResultsPage = "application/json"),
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("ETag" = String, description = "Send as If-None-Match to get 304 while nothing changed"))),
        (status = 304, description = "Unchanged since the ETag you sent")
    )
)]
#[get("/results")]
async fn list_results(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: Query<ResultsQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = query.request(false)?;
    let format = export::negotiate(&req, query.format);
    let limit = query.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "page.limit_out_of_range",
            "limit must be between 1 and 1000",
        ));
    }
    let after = match &query.cursor {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::invalid(
                "cursor",
                "page.cursor_invalid",
                "cursor is not a cursor this service issued",
            )
        })?),
    };
    let (computed, etag) = match computed_for(&state, &caller, &req, query.scheme_id, request).await? {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let (view, kind) = View::resolve(&computed, query.kind, query.evaluation_id)?;
    let mut items = results::summaries(&computed, Some(&caller), view, query.subject_type, query.township_id);
    if let Some(since) = query.updated_since {
        items = changed_since(&state, &caller, &computed, since, view, items, &query).await?;
    }
    let mut items: Vec<ResultRow> = items
        .into_iter()
        .map(|summary| ResultRow {
            not_scored_reason: not_scored::reason(&computed, view, &summary),
            summary,
        })
        .collect();
    if let Some(scored) = query.scored {
        items.retain(|row| row.summary.score.is_some() == scored);
    }
    if format != Format::Json {
        return export::respond(&req, &results_table(&items), format, query.headers, "results", &etag);
    }
    if let Some(after) = after {
        items.retain(|row| row.summary.subject_id > after);
    }
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|row| encode_cursor(row.summary.subject_id))
    } else {
        None
    };
    let page = ResultsPage {
        scheme_id: computed.scheme.row.id,
        year: computed.results.year,
        kind,
        month: request.monthly,
        evaluation_id: view.evaluation_id(),
        as_of: request.as_of,
        items,
        next_cursor,
    };
    remember_json(&state, &req, &etag, &page)
}

/// The results among `items` that changed since `since`: those that differ from the same
/// question asked as of then (a new finding changes its subject, and perhaps every rank of its
/// group), and those of subjects recorded or changed since.
async fn changed_since(
    state: &AppState,
    caller: &Caller,
    computed: &Computed,
    since: DateTime<Utc>,
    view: View,
    items: Vec<ResultSummary>,
    query: &ResultsQuery,
) -> Result<Vec<ResultSummary>, ApiError> {
    let request = query.request(false)?;
    if request.as_of.is_some_and(|at| at <= since) {
        return Ok(Vec::new());
    }
    let then = results::year_at(
        &state.store,
        &state.results,
        computed.scheme.row.clone(),
        Request {
            as_of: Some(since),
            ..request
        },
        caller.revision,
    )
    .await?;
    let before: std::collections::HashMap<Uuid, ResultSummary> =
        results::summaries(&then, Some(caller), view, query.subject_type, query.township_id)
            .into_iter()
            .map(|s| (s.subject_id, s))
            .collect();
    let touched = subjects::changed_since(state.store.db(), caller.county_id, since).await?;
    Ok(items
        .into_iter()
        .filter(|s| touched.contains(&s.subject_id) || before.get(&s.subject_id).is_none_or(|b| b != s))
        .collect())
}

fn consequence_names(list: &[Consequence]) -> String {
    list.iter().map(|c| c.code()).collect::<Vec<_>>().join(";")
}

/// `code: cause` per consequence, e.g. `accountability: 召回`.
fn consequence_causes(list: &[ConsequenceDetail]) -> String {
    list.iter()
        .map(|d| format!("{}: {}", d.code.code(), d.cause_text()))
        .collect::<Vec<_>>()
        .join(";")
}

/// The consequences referred to a vertically managed department's supervising authority.
fn referred_names(list: &[ConsequenceDetail]) -> String {
    list.iter()
        .filter(|d| d.referred_to_supervisor)
        .map(|d| d.code.code())
        .collect::<Vec<_>>()
        .join(";")
}

/// `Q1=88.50;Q2=absent;…` (季度考核得分).
fn quarterly_cells(list: &[crate::scoring::QuarterlyScore]) -> String {
    list.iter()
        .map(|q| {
            let value = match q.published_score {
                Some(score) if !q.absent => export::cell(Some(score)),
                _ => "absent".to_owned(),
            };
            format!("{:?}={value}", q.quarter)
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn results_table(items: &[ResultRow]) -> Table {
    let columns = vec![
        ("subject_id", "考核对象ID"),
        ("name", "名称"),
        ("subject_type", "类型"),
        ("township_id", "所属乡镇ID"),
        ("evaluations", "各次考核得分"),
        ("score", "精确得分"),
        ("exact", "精确得分(分数)"),
        ("published_score", "公布得分"),
        ("grade", "考核等次"),
        ("bonus_pay", "年终目标奖比例"),
        ("vetoed", "一票否决"),
        ("consequences", "结果运用"),
        ("consequence_causes", "结果运用原因"),
        ("referred_to_supervisor", "建议主管部门处理"),
        ("quarterly", "季度考核得分"),
        ("rank", "排名"),
        ("prize", "奖项"),
        ("not_scored_reason", "未得分原因"),
    ];
    let rows = items
        .iter()
        .map(|row| {
            let s = &row.summary;
            let first = s.standings.first();
            vec![
                s.subject_id.to_string(),
                s.name.clone(),
                s.subject_type.as_str().to_owned(),
                s.township_id.map(|t| t.to_string()).unwrap_or_default(),
                s.evaluations
                    .iter()
                    .map(|e| format!("{}={}", e.title, export::cell(e.published_score)))
                    .collect::<Vec<_>>()
                    .join(";"),
                export::cell(s.score.as_ref().map(Exact::to_decimal)),
                s.exact.as_ref().map(|f| f.0.clone()).unwrap_or_default(),
                export::cell(s.published_score),
                s.grade.as_ref().map(|g| g.title.clone()).unwrap_or_default(),
                s.grade.as_ref().map(|g| g.bonus_pay.to_string()).unwrap_or_default(),
                s.vetoed.as_ref().map(|v| v.reason.clone()).unwrap_or_default(),
                consequence_names(&s.consequences),
                consequence_causes(&s.consequence_details),
                referred_names(&s.consequence_details),
                quarterly_cells(&s.quarterly),
                first.and_then(|st| st.rank).map(|r| r.to_string()).unwrap_or_default(),
                first
                    .and_then(|st| st.prize.as_ref())
                    .map(|p| p.title.clone())
                    .unwrap_or_default(),
                row.not_scored_reason
                    .as_ref()
                    .map(|r| r.message.clone())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    // NDJSON: each row exactly as in the JSON answer's `items` (labels included).
    let lang = crate::telemetry::current_request().map_or_else(Lang::default, |c| c.lang);
    let records = items
        .iter()
        .map(|row| {
            let mut record = serde_json::to_value(row).unwrap_or_default();
            add_labels(&mut record, lang);
            record
        })
        .collect();
    Table { columns, rows, records }
}

/// Query of `GET /api/v1/subjects/{id}/result`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubjectResultQuery {
    pub scheme_id: Uuid,
    /// Compute from the data as recorded at this instant (RFC 3339); default now.
    pub as_of: Option<DateTime<Utc>>,
    /// Also the running monthly standing to the end of this month (1–12).
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<u32>,
}

/// One subject's result, every point explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectResult {
    pub scheme_id: Uuid,
    pub year: i32,
    pub as_of: Option<DateTime<Utc>>,
    /// Every evaluation with each section, item, finding and scoresheet and the points it
    /// moved; the annual formula tree with each leaf's value, weight and absence; grade,
    /// bonus pay, veto and consequences. `evaluations` are in the scheme's evaluation order:
    /// window start, then kind (half-year, year-end, democratic, quarterly), then key, then id.
    pub result: SubjectYearResult,
    /// The running monthly standing, when `month` was given.
    pub monthly: Option<RubricResult>,
    /// Where the subject stands in each ranking.
    pub standings: Vec<Standing>,
    /// The evidence files attached (at `as_of`) to each finding the explanation names.
    pub evidence: Vec<FindingEvidence>,
}

/// A finding of an explanation and the evidence files attached to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingEvidence {
    pub finding_id: Uuid,
    /// `GET /api/v1/evidence/{id}` each.
    pub evidence_ids: Vec<Uuid>,
}

/// The findings an explanation names (`finding_id`, `finding_ids`, `counted_finding_id`), in
/// the order they first appear.
fn findings_named(value: &serde_json::Value, found: &mut Vec<Uuid>) {
    use serde_json::Value;
    match value {
        Value::Object(fields) => {
            for (key, item) in fields {
                let ids: Vec<&Value> = match (key.as_str(), item) {
                    ("finding_id" | "counted_finding_id", id) => vec![id],
                    ("finding_ids", Value::Array(ids)) => ids.iter().collect(),
                    _ => {
                        findings_named(item, found);
                        continue;
                    }
                };
                for id in ids
                    .into_iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(|s| s.parse().ok())
                {
                    if !found.contains(&id) {
                        found.push(id);
                    }
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| findings_named(item, found)),
        _ => {}
    }
}

/// A subject's result with its full explanation.
#[utoipa::path(
    tag = "results", operation_id = "getSubjectResult",
    params(("id" = Uuid, Path, description = "Subject id"), SubjectResultQuery),
    responses(
        (status = 200, description = "The result", body = SubjectResult,
            headers(("ETag" = String, description = "Send as If-None-Match to get 304 while nothing changed"))),
        (status = 304, description = "Unchanged since the ETag you sent")
    )
)]
#[get("/subjects/{id}/result")]
async fn subject_result(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: Query<SubjectResultQuery>,
) -> Result<HttpResponse, ApiError> {
    subjects::load_for(state.store.db(), &caller, Action::Read, *id).await?;
    if query.month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(ApiError::invalid(
            "month",
            "results.month_invalid",
            "month must be 1–12",
        ));
    }
    let request = Request {
        as_of: query.as_of,
        monthly: query.month,
        full: true,
    };
    let (computed, etag) = match computed_for(&state, &caller, &req, query.scheme_id, request).await? {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let result = computed
        .results
        .subject(*id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("result of this subject in this scheme"))?;
    let monthly = computed
        .results
        .monthly
        .as_ref()
        .and_then(|m| m.results.iter().find(|r| r.subject_id == *id))
        .map(|r| r.result.clone());
    let standings = results::summaries(&computed, Some(&caller), View::Annual, None, None)
        .into_iter()
        .find(|s| s.subject_id == *id)
        .map(|s| s.standings)
        .unwrap_or_default();
    let mut findings = Vec::new();
    findings_named(&serde_json::to_value(&result)?, &mut findings);
    if let Some(monthly) = &monthly {
        findings_named(&serde_json::to_value(monthly)?, &mut findings);
    }
    let mut attached =
        crate::store::evidence::of_findings(state.store.db(), caller.county_id, &findings, query.as_of).await?;
    let evidence = findings
        .into_iter()
        .filter_map(|finding_id| {
            attached.remove(&finding_id).map(|evidence_ids| FindingEvidence {
                finding_id,
                evidence_ids,
            })
        })
        .collect();
    let body = SubjectResult {
        scheme_id: computed.scheme.row.id,
        year: computed.results.year,
        as_of: query.as_of,
        result,
        monthly,
        standings,
        evidence,
    };
    remember_json(&state, &req, &etag, &body)
}

/// Query of `GET /api/v1/rankings`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingsQuery {
    pub scheme_id: Uuid,
    /// `annual` (default, with prizes and consequences); `monthly`; or one evaluation's
    /// ranking: `half_year`, `year_end`, `democratic`.
    pub kind: Option<ResultKind>,
    /// 1–12: required with `kind=monthly`, ignored with the other kinds.
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<u32>,
    /// The evaluation, for the evaluation kinds (see `GET /api/v1/results`).
    pub evaluation_id: Option<Uuid>,
    pub as_of: Option<DateTime<Utc>>,
    /// Only this ranking of the scheme: Seed B `townships`, `departments`,
    /// `departments_by_category`; Seed A `villages_by_town`.
    #[param(example = "townships")]
    pub ranking: Option<String>,
    /// Only groups of this subject type.
    pub subject_type: Option<SubjectType>,
    /// `json` (default), `csv`, `ndjson` or `xlsx`; or send `Accept`.
    pub format: Option<Format>,
    /// Export column headers: `en` (default) or `zh`.
    pub headers: Option<HeaderLanguage>,
}

/// Rankings of a scheme-year.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rankings {
    pub scheme_id: Uuid,
    pub year: i32,
    pub kind: ResultKind,
    pub month: Option<u32>,
    /// The evaluation ranked, for the evaluation kinds.
    pub evaluation_id: Option<Uuid>,
    pub as_of: Option<DateTime<Utc>>,
    /// Each ranking group: ranks (ties shared 1, 2, 2, 4), published scores, prizes, vetoes and
    /// consequences. Subjects outside your scope are left out; ranks count the whole group.
    pub rankings: Vec<RankingResult>,
}

/// Rankings with prizes and consequences (all townships; all departments and each department
/// category; each town's villages).
#[utoipa::path(
    tag = "results", operation_id = "listRankings",
    params(RankingsQuery),
    responses(
        (status = 200, description = "The rankings", content(
            (Rankings = "application/json"),
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("ETag" = String, description = "Send as If-None-Match to get 304 while nothing changed"))),
        (status = 304, description = "Unchanged since the ETag you sent")
    )
)]
#[get("/rankings")]
async fn list_rankings(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: Query<RankingsQuery>,
) -> Result<HttpResponse, ApiError> {
    let as_results = ResultsQuery {
        scheme_id: query.scheme_id,
        kind: query.kind,
        month: query.month,
        evaluation_id: query.evaluation_id,
        as_of: query.as_of,
        updated_since: None,
        subject_type: None,
        township_id: None,
        scored: None,
        format: None,
        headers: None,
        limit: None,
        cursor: None,
    };
    let request = as_results.request(false)?;
    let format = export::negotiate(&req, query.format);
    let (computed, etag) = match computed_for(&state, &caller, &req, query.scheme_id, request).await? {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let (view, kind) = View::resolve(&computed, query.kind, query.evaluation_id)?;
    if let Some(key) = &query.ranking {
        let keys: Vec<&str> = computed
            .scheme
            .definition
            .subject_types
            .values()
            .flat_map(|t| t.rankings.iter().map(|r| r.key.as_str()))
            .collect();
        if !keys.contains(&key.as_str()) {
            return Err(ApiError::invalid(
                "ranking",
                "results.ranking_unknown",
                format!("the scheme's rankings are {}", keys.join(", ")),
            )
            .arg("rankings", keys.join("、")));
        }
    }
    let list: Vec<RankingResult> = results::visible_rankings(&computed, Some(&caller), view)
        .into_iter()
        .filter(|r| query.ranking.as_ref().is_none_or(|k| &r.key == k))
        .filter(|r| query.subject_type.is_none_or(|t| r.subject_type == t))
        .collect();
    if format != Format::Json {
        return export::respond(
            &req,
            &rankings_table(&list, Some(Lang::of(&req))),
            format,
            query.headers,
            "rankings",
            &etag,
        );
    }
    let body = Rankings {
        scheme_id: computed.scheme.row.id,
        year: computed.results.year,
        kind,
        month: request.monthly,
        evaluation_id: view.evaluation_id(),
        as_of: request.as_of,
        rankings: list,
    };
    remember_json(&state, &req, &etag, &body)
}

/// Rankings as an export table: a row per entry; NDJSON records as the JSON answer's entries,
/// with the labels of `labels`' language when given.
pub fn rankings_table(list: &[RankingResult], labels: Option<Lang>) -> Table {
    let columns = vec![
        ("ranking", "排名类别"),
        ("group", "分组"),
        ("rank", "名次"),
        ("subject_id", "考核对象ID"),
        ("name", "名称"),
        ("published_score", "公布得分"),
        ("prize", "奖项"),
        ("vetoed", "一票否决"),
        ("consequences", "结果运用"),
        ("consequence_causes", "结果运用原因"),
        ("referred_to_supervisor", "建议主管部门处理"),
    ];
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for ranking in list {
        let group = match &ranking.group {
            crate::scoring::RankingGroup::All => "all".to_owned(),
            crate::scoring::RankingGroup::RankingGroup { name } => name.clone().unwrap_or_default(),
            crate::scoring::RankingGroup::Township { name, township_id } => {
                name.clone().or(township_id.map(|t| t.to_string())).unwrap_or_default()
            }
        };
        for e in &ranking.entries {
            rows.push(vec![
                ranking.title.clone(),
                group.clone(),
                e.rank.map(|r| r.to_string()).unwrap_or_default(),
                e.subject_id.to_string(),
                e.name.clone(),
                export::cell(e.published_score),
                e.prize.as_ref().map(|p| p.title.clone()).unwrap_or_default(),
                if e.vetoed { "true".to_owned() } else { String::new() },
                consequence_names(&e.consequences),
                consequence_causes(&e.consequence_details),
                referred_names(&e.consequence_details),
            ]);
            // NDJSON: the entry as in the JSON answer, with its ranking and group beside it.
            let mut record = serde_json::json!({
                "ranking": ranking.key,
                "ranking_title": ranking.title,
                "subject_type": ranking.subject_type,
                "group": ranking.group,
            });
            if let (Some(record), Ok(serde_json::Value::Object(entry))) =
                (record.as_object_mut(), serde_json::to_value(e))
            {
                record.extend(entry);
            }
            if let Some(lang) = labels {
                add_labels(&mut record, lang);
            }
            records.push(record);
        }
    }
    Table { columns, rows, records }
}

/// Body of `POST /api/v1/results:simulate`: hypothetical inputs for one subject.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "scheme_id": "0193b0d2-0000-7000-8000-000000000010", "subject_id": "0193b0d2-0000-7000-8000-000000000003",
    "findings": [{"subject_id": "0193b0d2-0000-7000-8000-000000000003", "item_code": "2.1", "rule_code": "missing_doc", "occurred_on": "2023-05-10"}],
    "revoke": []
}))]
pub struct Simulation {
    pub scheme_id: Uuid,
    pub subject_id: Uuid,
    /// Findings as if recorded now (validated like real ones).
    #[serde(default)]
    pub findings: Vec<crate::api::incidents::NewIncident>,
    /// Scoresheets as if entered now.
    #[serde(default)]
    pub scoresheets: Vec<crate::api::evaluations::NewScoresheet>,
    /// Ballots as if cast now.
    #[serde(default)]
    pub ballots: Vec<crate::api::evaluations::NewBallot>,
    /// Findings to treat as revoked.
    #[serde(default)]
    pub revoke: Vec<Uuid>,
    /// Also the monthly standing to the end of this month.
    pub month: Option<u32>,
}

/// What the hypothetical inputs would give.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimulationResult {
    /// The subject's result with the hypothetical inputs.
    pub result: SubjectYearResult,
    /// Its standings with them.
    pub standings: Vec<Standing>,
    /// The published annual score today, for comparison.
    pub current_published_score: Option<rust_decimal::Decimal>,
    pub monthly: Option<RubricResult>,
}

/// What-if: the result and ranks hypothetical findings, scoresheets or ballots would give.
/// Nothing is written.
#[utoipa::path(
    tag = "results", operation_id = "simulateResult",
    request_body = Simulation,
    responses((status = 200, description = "The simulated result", body = SimulationResult))
)]
#[post("/results:simulate")]
async fn simulate(
    state: web::Data<AppState>,
    caller: Caller,
    Body(sim): Body<Simulation>,
) -> Result<HttpResponse, ApiError> {
    let what = WhatIf {
        scheme_id: sim.scheme_id,
        subject_id: sim.subject_id,
        findings: &sim.findings,
        scoresheets: &sim.scoresheets,
        ballots: &sim.ballots,
        revoke: &sim.revoke,
        month: sim.month,
    };
    let simulated = simulation::simulate(&state.store, &state.results, &caller, what).await?;
    Ok(HttpResponse::Ok().json(SimulationResult {
        result: simulated.result,
        standings: simulated.standings,
        current_published_score: simulated.current_published_score,
        monthly: simulated.monthly,
    }))
}
