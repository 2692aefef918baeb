//! `/api/v1/publications`: frozen, numbered, hashed snapshots of results (逐月公开 / 公示).

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::export::{self, Format, HeaderLanguage};
use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{created, not_modified, Body, Query};
use crate::api::listing::Page;
use crate::auth::policy::Action;
use crate::auth::{Caller, MaybeCaller};
use crate::error::ApiError;
use crate::results::{self, Request, View};
use crate::results::{ResultKind, ResultSummary};
use crate::scoring::RankingGroup;
use crate::scoring::{RankingResult, SubjectType};
use crate::state::AppState;
use crate::store::entities::publication;
use crate::store::publications::{self};
use crate::store::schemes;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(publish)
        .service(list_publications)
        .service(read_publication);
}

/// Publish results: freeze them as of an instant into a numbered snapshot with a content hash.
///
/// County admins publish anything of the county; township admins publish their town's. A
/// correction names the publication it supersedes and why. `public: true` makes it readable
/// without a token at `GET /api/v1/publications/{id}`.
#[utoipa::path(
    tag = "publications", operation_id = "publishResults",
    request_body = NewPublication,
    responses((status = 201, description = "Published", body = Publication,
        headers(("Location" = String, description = "The publication's stable URL"))))
)]
#[post("/publications")]
async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    Body(new): Body<NewPublication>,
) -> Result<HttpResponse, ApiError> {
    let db = state.store.db();
    let scheme = schemes::load_for(db, &caller, Action::ReadShared, new.scheme_id).await?;
    let mut new = new;
    new.month = crate::api::results::month_of_kind(Some(new.kind), new.month);
    let monthly = results::monthly_of(new.kind, new.month)?;
    let as_of = new.as_of.unwrap_or_else(crate::store::now);
    if as_of > crate::store::now() {
        return Err(ApiError::invalid(
            "as_of",
            "publication.as_of_future",
            "results cannot be published as of the future",
        ));
    }
    let computed = results::year(
        &state.store,
        &state.results,
        scheme.clone(),
        Request {
            as_of: Some(as_of),
            monthly,
            full: false,
        },
    )
    .await?;
    let (view, _) = View::resolve(&computed, Some(new.kind), new.evaluation_id)?;
    let evaluation = view.evaluation(&computed);
    let tx = state.store.write(&caller.actor()).await?;
    let row = publications::publish(
        &tx,
        &caller,
        &scheme,
        &new,
        evaluation.map(|e| e.title.as_str()),
        |township_id| {
            let in_town = |id: &Uuid| {
                township_id.is_none() || computed.placement(*id).is_some_and(|p| p.township_id == township_id)
            };
            let results = results::summaries(&computed, None, view, new.subject_type, township_id);
            let rankings = results::visible_rankings(&computed, None, view)
                .into_iter()
                .filter(|r| new.subject_type.is_none_or(|t| r.subject_type == t))
                .filter(|r| match (&r.group, township_id) {
                    (RankingGroup::Township { township_id: group, .. }, Some(town)) => *group == Some(town),
                    _ => true,
                })
                .map(|mut r| {
                    r.entries.retain(|e| in_town(&e.subject_id));
                    r
                })
                .filter(|r| !r.entries.is_empty())
                .collect();
            PublicationContent {
                scheme_id: scheme.id,
                scheme_key: scheme.key.clone(),
                scheme_title: scheme.title.clone(),
                year: scheme.year,
                kind: new.kind,
                month: monthly,
                evaluation_id: evaluation.map(|e| e.evaluation_id),
                as_of,
                subject_type: new.subject_type,
                township_id,
                rankings,
                results,
            }
        },
    )
    .await?;
    let body = Publication::from_row(row.clone(), true)?;
    tx.respond(created(format!("/api/v1/publications/{}", row.id), &body, 1))
        .await
}

list_endpoint! {
    /// List publications in your scope (without their contents).
    list_publications: GET "/publications", tag "publications", operation "listPublications",
    filter PublicationFilter, items Publication, described "(without contents)",
    |state, caller, filter, page| {
        let rows = publications::list(state.store.db(), caller, filter, page).await?;
        rows.into_iter().map(|r| Publication::from_row(r, false)).collect()
    }
}

/// Export options of a publication.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicationQuery {
    /// `json` (default), `csv`, `ndjson` or `xlsx` (its rankings); or send `Accept`.
    pub format: Option<Format>,
    /// Export column headers: `en` (default) or `zh`.
    pub headers: Option<HeaderLanguage>,
}

/// Read a publication. Public ones need no token.
///
/// A public publication (公示) shows every row to everyone. One that is not public shows the
/// county's users the whole; below the county it is a **filtered view**: only the rows of
/// subjects in the reader's scope (a town's users: their township, its villages and the
/// individuals stationed there; a village's: their village and those stationed in it), in every
/// format, with `filtered: true`; 404 when it holds none of theirs. `content_hash` is always the
/// SHA-256 of the frozen whole, so a filtered view does not hash to it; its `ETag` names the view
/// (the content hash, the format and a hash of the rows shown), so each view has its own.
#[utoipa::path(
    tag = "publications", operation_id = "getPublication",
    params(("id" = Uuid, Path, description = "Publication id"), PublicationQuery),
    responses(
        (status = 200, description = "The publication, or the reader's filtered view of it", content(
            (Publication = "application/json"),
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("ETag" = String, description = "The content hash and format; for a filtered view also the view's hash"))),
        (status = 304, description = "Unchanged since the ETag you sent")
    ),
    security((), ("bearer" = []))
)]
#[get("/publications/{id}")]
async fn read_publication(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: Query<PublicationQuery>,
) -> Result<HttpResponse, ApiError> {
    let row = publications::load_for(state.store.db(), &caller, *id).await?;
    let shown = publications::shown_to(&row, caller.0.as_ref())?;
    let format = export::negotiate(&req, query.format);
    // The whole is named by its content hash; a filtered view also by the hash of its rows.
    let etag = match &shown.view_hash {
        None => format!("\"{}-{}\"", row.content_hash, crate::store::name_of(format)),
        Some(view) => format!(
            "\"{}-{}-{}\"",
            row.content_hash,
            crate::store::name_of(format),
            &view[..16]
        ),
    };
    if not_modified(&req, &etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let mut body = Publication::from_row(row, false)?;
    body.filtered = shown.view_hash.is_some();
    body.content = Some(shown.content);
    if format != Format::Json {
        let rankings = body.content.as_ref().map(|c| c.rankings.as_slice()).unwrap_or_default();
        // A publication is frozen as it was published: no labels (its JSON has none either).
        let table = super::results::rankings_table(rankings, None);
        return export::respond(
            &req,
            &table,
            format,
            query.headers,
            &format!("publication-{}", body.number),
            &etag,
        );
    }
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).json(body))
}

// ---- request and response types ----

/// What a publication froze.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicationContent {
    pub scheme_id: Uuid,
    pub scheme_key: String,
    pub scheme_title: String,
    pub year: i32,
    pub kind: ResultKind,
    pub month: Option<u32>,
    /// The evaluation published, for the evaluation kinds.
    #[serde(default)]
    pub evaluation_id: Option<Uuid>,
    /// The instant the results were computed as of.
    pub as_of: DateTime<Utc>,
    pub subject_type: Option<SubjectType>,
    pub township_id: Option<Uuid>,
    pub rankings: Vec<RankingResult>,
    pub results: Vec<ResultSummary>,
}

/// A publication as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Publication {
    pub id: Uuid,
    pub county_id: Uuid,
    pub scheme_id: Uuid,
    /// The town it is published to (its villages see it); absent: the county.
    pub township_id: Option<Uuid>,
    /// 1, 2, … within the scheme.
    pub number: i32,
    pub kind: ResultKind,
    #[schema(example = "童市镇2023年6月村级考核情况公开")]
    pub title: String,
    /// The month's last day, for monthly standings.
    pub period_end: Option<NaiveDate>,
    pub as_of: DateTime<Utc>,
    /// Readable without a token.
    pub public: bool,
    /// The publication this one corrects.
    pub supersedes_id: Option<Uuid>,
    pub correction_reason: Option<String>,
    /// SHA-256 of the canonical JSON of the frozen `content`, the whole publication: a
    /// filtered view (`filtered: true`) shows part of it and does not hash to it.
    #[schema(example = "9f2c…")]
    pub content_hash: String,
    /// Whether this is a filtered view: a publication that is not public, read below the
    /// county, shows only the rows of subjects in the reader's scope (DOMAIN.md §9).
    #[serde(default)]
    pub filtered: bool,
    pub published_by: Uuid,
    pub published_at: DateTime<Utc>,
    /// The county's audit-chain head the publication was made at: the sequence number and hash
    /// of the last audit event before its own (absent for publications older than the record).
    #[schema(example = 1042)]
    pub chain_seq: Option<i64>,
    #[schema(example = "5d41…")]
    pub chain_hash: Option<String>,
    /// The frozen results (left out of lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<PublicationContent>,
}

impl Publication {
    pub fn from_row(m: publication::Model, with_content: bool) -> Result<Self, ApiError> {
        Ok(Self {
            id: m.id,
            county_id: m.county_id,
            scheme_id: m.scheme_id,
            township_id: m.township_id,
            number: m.number,
            kind: m.kind,
            title: m.title,
            period_end: m.period_end,
            as_of: m.as_of,
            public: m.public,
            supersedes_id: m.supersedes_id,
            correction_reason: m.correction_reason,
            content_hash: m.content_hash,
            filtered: false,
            published_by: m.published_by,
            published_at: m.created_at,
            chain_seq: m.chain_seq,
            chain_hash: m.chain_hash,
            content: if with_content {
                Some(serde_json::from_str(&m.content)?)
            } else {
                None
            },
        })
    }
}

/// Body of `POST /api/v1/publications`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "scheme_id": "0193b0d2-0000-7000-8000-000000000010", "kind": "monthly", "month": 6,
    "township_id": "0193b0d2-0000-7000-8000-000000000002", "public": true
}))]
pub struct NewPublication {
    pub scheme_id: Uuid,
    /// `annual` (default), `monthly`, or one evaluation's results: `half_year`, `year_end`,
    /// `democratic`.
    #[serde(default)]
    pub kind: ResultKind,
    /// 1–12, for monthly standings.
    pub month: Option<u32>,
    /// The evaluation, for the evaluation kinds (needed when the scheme holds several of the kind).
    pub evaluation_id: Option<Uuid>,
    /// Only this subject type (e.g. `township`).
    pub subject_type: Option<SubjectType>,
    /// Publish to this town: its subjects only, visible to its villages. Township admins must.
    pub township_id: Option<Uuid>,
    /// Results as of this instant; default now.
    pub as_of: Option<DateTime<Utc>>,
    #[serde(default)]
    pub public: bool,
    pub title: Option<String>,
    /// The publication this corrects (a new version of it).
    pub supersedes_id: Option<Uuid>,
    /// Why, required with `supersedes_id`.
    pub correction_reason: Option<String>,
}

/// Filters of `GET /api/v1/publications`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicationFilter {
    pub scheme_id: Option<Uuid>,
    pub kind: Option<ResultKind>,
    pub township_id: Option<Uuid>,
}
