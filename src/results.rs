//! Results: a scheme-year computed by the engine from the stored data, cached per data revision.
//!
//! Every write appends to the county's audit chain, so the chain's head sequence is a revision
//! number of the county's data: a cached computation is reused only while it is unchanged, and
//! any instance behind a load balancer reaches the same answer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::exact::{non_terminating, Exact, Fraction};
use crate::named::named_enum;
use crate::scoring::{
    compute_year, compute_year_state, recompute_year, ComputeOptions, Consequence, ConsequenceDetail, Detail,
    EvaluationKind, EvaluationRankings, GradeResult, Prize, QuarterlyScore, RankingResult, SubjectType,
    SubjectYearResult, Veto, YearResults, YearState,
};
use crate::store::entities::scheme;
use crate::store::schemes::LoadedScheme;
use crate::store::year_data::{self, Placement};
use crate::store::Store;

/// A computed scheme-year and what it was computed from.
pub struct Computed {
    pub scheme: LoadedScheme,
    pub results: YearResults,
    pub placements: HashMap<Uuid, Placement>,
    pub revision: i64,
    /// What the next revision's computation starts from (current inputs only), taken by it.
    state: Mutex<Option<YearState>>,
}

impl Computed {
    /// Whether the caller may see this subject's result.
    pub fn visible(&self, caller: &Caller, subject_id: Uuid) -> bool {
        self.placements
            .get(&subject_id)
            .is_some_and(|p| caller.may(Action::Read, &Scope::new(p.county_id, p.township_id, p.village_id)))
    }

    pub fn placement(&self, subject_id: Uuid) -> Option<Placement> {
        self.placements.get(&subject_id).copied()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    scheme_id: Uuid,
    as_of: Option<DateTime<Utc>>,
    monthly: Option<u32>,
    full: bool,
}

/// Recently computed scheme-years (a small LRU), keyed by what was asked, and the answers
/// rendered from them, keyed by their ETag (which names the revision, the scope and the question).
pub struct ResultsCache {
    entries: Mutex<VecDeque<(CacheKey, Arc<Computed>)>>,
    capacity: usize,
    rendered: Mutex<VecDeque<(String, Arc<Rendered>)>>,
    gates: Mutex<HashMap<CacheKey, Arc<tokio::sync::Mutex<()>>>>,
    bases: Mutex<VecDeque<Base>>,
}

impl Default for ResultsCache {
    fn default() -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            capacity: 12,
            rendered: Mutex::new(VecDeque::new()),
            gates: Mutex::new(HashMap::new()),
            bases: Mutex::new(VecDeque::new()),
        }
    }
}

/// Rendered answers kept; a county ranking is a few hundred kilobytes.
const RENDERED: usize = 64;

impl ResultsCache {
    /// Takes a scheme's inputs out of the cache (to bring them up to date), if kept.
    fn take_base(&self, scheme_id: Uuid) -> Option<Base> {
        let mut bases = self.bases.lock().ok()?;
        let position = bases.iter().position(|b| b.scheme.row.id == scheme_id)?;
        bases.remove(position)
    }

    fn put_base(&self, base: Base) {
        if let Ok(mut bases) = self.bases.lock() {
            bases.retain(|b| b.scheme.row.id != base.scheme.row.id);
            bases.push_front(base);
            bases.truncate(4);
        }
    }

    /// The lock that serialises computations of one question.
    fn gate(&self, key: &CacheKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = match self.gates.lock() {
            Ok(gates) => gates,
            Err(poisoned) => poisoned.into_inner(),
        };
        if gates.len() > 256 {
            gates.retain(|_, gate| Arc::strong_count(gate) > 1);
        }
        gates.entry(key.clone()).or_default().clone()
    }

    /// A rendered answer under this ETag, if kept.
    pub fn rendered(&self, etag: &str) -> Option<Arc<Rendered>> {
        let rendered = self.rendered.lock().ok()?;
        let kept = rendered.iter().find(|(tag, _)| tag == etag).map(|(_, r)| r.clone());
        if kept.is_some() {
            crate::metrics::results_answered("rendered");
        }
        kept
    }

    pub fn remember(&self, etag: &str, answer: Arc<Rendered>) {
        if let Ok(mut rendered) = self.rendered.lock() {
            rendered.retain(|(tag, _)| tag != etag);
            rendered.push_front((etag.to_owned(), answer));
            rendered.truncate(RENDERED);
        }
    }

    fn get(&self, key: &CacheKey, revision: i64) -> Option<Arc<Computed>> {
        let mut entries = self.entries.lock().ok()?;
        let position = entries.iter().position(|(k, c)| k == key && c.revision >= revision)?;
        let entry = entries.remove(position)?;
        let computed = entry.1.clone();
        entries.push_front(entry);
        Some(computed)
    }

    /// The newest computation of this question kept, whatever its revision.
    fn latest(&self, key: &CacheKey) -> Option<Arc<Computed>> {
        let entries = self.entries.lock().ok()?;
        entries.iter().find(|(k, _)| k == key).map(|(_, c)| c.clone())
    }

    fn put(&self, key: CacheKey, computed: Arc<Computed>) {
        let mut evicted = Vec::new();
        if let Ok(mut entries) = self.entries.lock() {
            if let Some(position) = entries.iter().position(|(k, _)| k == &key) {
                evicted.extend(entries.remove(position));
            }
            entries.push_front((key, computed));
            while entries.len() > self.capacity {
                evicted.extend(entries.pop_back());
            }
        }
        // A county-year's results are thousands of allocations: freed off the request's path.
        if !evicted.is_empty() {
            tokio::task::spawn_blocking(move || drop(evicted));
        }
    }
}

/// An answer as sent: its content type and body, and the body gzip-compressed, made on the first
/// request that accepts it and kept with the answer (compressing a county ranking costs more than
/// serving it; compressing it once does not).
pub struct Rendered {
    pub content_type: String,
    pub body: actix_web::web::Bytes,
    gzipped: std::sync::OnceLock<Option<actix_web::web::Bytes>>,
}

impl Rendered {
    pub fn new(content_type: String, body: actix_web::web::Bytes) -> Self {
        Self {
            content_type,
            body,
            gzipped: std::sync::OnceLock::new(),
        }
    }

    /// The body gzip-compressed, as the `Compress` middleware would send it to a client that
    /// accepts gzip (so the middleware never compresses a kept answer again); None if empty.
    pub fn gzipped(&self) -> Option<actix_web::web::Bytes> {
        if self.body.is_empty() {
            return None;
        }
        self.gzipped
            .get_or_init(|| {
                use std::io::Write;
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::with_capacity(self.body.len() / 4), flate2::Compression::fast());
                encoder.write_all(&self.body).ok()?;
                encoder.finish().ok().map(Into::into)
            })
            .clone()
    }
}

/// What to compute for a scheme.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request {
    pub as_of: Option<DateTime<Utc>>,
    pub monthly: Option<u32>,
    pub full: bool,
}

/// The scheme-year, from the cache when the county's data has not changed since.
pub async fn year(
    store: &Store,
    cache: &ResultsCache,
    scheme: scheme::Model,
    request: Request,
) -> Result<Arc<Computed>, ApiError> {
    let revision = store.revision(scheme.county_id).await?;
    year_at(store, cache, scheme, request, revision).await
}

/// The scheme-year at a revision the caller already read, or a newer one (`Computed::revision`
/// says which).
pub async fn year_at(
    store: &Store,
    cache: &ResultsCache,
    scheme: scheme::Model,
    request: Request,
    revision: i64,
) -> Result<Arc<Computed>, ApiError> {
    let db = store.db();
    let key = CacheKey {
        scheme_id: scheme.id,
        as_of: request.as_of,
        monthly: request.monthly,
        full: request.full,
    };
    if let Some(hit) = cache.get(&key, revision) {
        crate::metrics::results_answered("cached");
        return Ok(hit);
    }
    // One computation per question at a time: concurrent askers wait for it instead of each
    // loading and computing the whole county.
    let gate = cache.gate(&key);
    let _turn = gate.lock().await;
    // Compute at the newest revision, not the one this request first read: under a stream of
    // writes, every asker queued behind this gate is then answered by one computation instead of
    // each computing the revision it happened to read (a read still sees every write before it).
    let revision = revision.max(store.revision(scheme.county_id).await?);
    if let Some(hit) = cache.get(&key, revision) {
        // Computed by the asker this one waited for.
        crate::metrics::results_answered("cached");
        return Ok(hit);
    }
    let started = std::time::Instant::now();
    let (computed, path) = match request.as_of {
        None => {
            let (loaded, year, changes) = inputs(store, cache, scheme, revision).await?;
            // The last computation of this question, brought forward: only the subjects whose
            // inputs changed since (and what they feed) are scored again.
            let prior = cache.latest(&key).and_then(|prior| {
                let changed = changes.since(prior.revision, prior.scheme.row.version, loaded.row.version)?;
                let state = prior.state.lock().ok()?.take()?;
                Some((state, changed))
            });
            let path = if prior.is_some() { "incremental" } else { "full" };
            let computed = compute_with(loaded, year, request, revision, prior, request.monthly.is_none()).await?;
            (computed, path)
        }
        Some(at) => {
            let loaded = crate::store::schemes::load_definition(db, scheme).await?;
            let year = year_data::load(db, &loaded, Some(at)).await?;
            (compute(loaded, Arc::new(year), request, revision).await?, "as_of")
        }
    };
    crate::metrics::results_answered(path);
    crate::metrics::results_computed(path, started);
    let computed = Arc::new(computed);
    cache.put(key, computed.clone());
    Ok(computed)
}

/// The current inputs of a scheme-year and the revision they are at, from the cache when the
/// county's data has not changed since (what-if simulations start from them).
pub async fn base_inputs(
    store: &Store,
    cache: &ResultsCache,
    scheme: scheme::Model,
) -> Result<(LoadedScheme, Arc<year_data::LoadedYear>, i64), ApiError> {
    let revision = store.revision(scheme.county_id).await?;
    let (loaded, year, _) = inputs(store, cache, scheme, revision).await?;
    Ok((loaded, year, revision))
}

/// The current inputs of a scheme-year at `revision`: the last loaded ones brought up to date
/// from the audit trail when only findings, scoresheets, ballots and subjects changed since (most
/// of a county's rows and writes), or loaded afresh; with the subjects changed on the way.
async fn inputs(
    store: &Store,
    cache: &ResultsCache,
    scheme: scheme::Model,
    revision: i64,
) -> Result<(LoadedScheme, Arc<year_data::LoadedYear>, Changes), ApiError> {
    let db = store.db();
    if let Some(base) = cache.take_base(scheme.id) {
        if base.revision >= revision {
            let answer = (base.scheme.clone(), base.year.clone(), base.changes.clone());
            cache.put_base(base);
            return Ok(answer);
        }
        if base.scheme.row.version == scheme.version {
            if let Some(found) = year_data::changes_since(db, scheme.county_id, base.revision, revision).await? {
                let Base {
                    scheme: loaded,
                    mut year,
                    mut changes,
                    ..
                } = base;
                let touched = if found.is_empty() {
                    Some(Vec::new())
                } else {
                    // In place when no computation still reads this year (the usual case).
                    year_data::patch_inputs(db, &loaded, Arc::make_mut(&mut year), &found).await?
                };
                if let Some(touched) = touched {
                    changes.record(revision, touched);
                    cache.put_base(Base {
                        revision,
                        scheme: loaded.clone(),
                        year: year.clone(),
                        changes: changes.clone(),
                    });
                    return Ok((loaded, year, changes));
                }
            }
        }
    }
    let loaded = crate::store::schemes::load_definition(db, scheme).await?;
    let year = Arc::new(year_data::load(db, &loaded, None).await?);
    let changes = Changes::from(revision, loaded.row.version);
    cache.put_base(Base {
        revision,
        scheme: loaded.clone(),
        year: year.clone(),
        changes: changes.clone(),
    });
    Ok((loaded, year, changes))
}

/// A scheme-year's inputs as loaded at a revision.
pub struct Base {
    revision: i64,
    scheme: LoadedScheme,
    year: Arc<year_data::LoadedYear>,
    changes: Changes,
}

/// The subjects whose inputs changed in the loaded inputs since they were loaded afresh, by
/// revision (the last few hundred revisions): what an incremental computation needs to know.
#[derive(Debug, Clone)]
struct Changes {
    /// The revision and scheme version of the fresh load the log starts from.
    loaded_at: i64,
    version: i32,
    log: Arc<VecDeque<(i64, Vec<Uuid>)>>,
}

/// Revisions of changes kept; an older computation is brought forward by a full one.
const CHANGES_KEPT: usize = 512;

impl Changes {
    fn from(revision: i64, version: i32) -> Self {
        Self {
            loaded_at: revision,
            version,
            log: Arc::default(),
        }
    }

    fn record(&mut self, revision: i64, subjects: Vec<Uuid>) {
        let log = Arc::make_mut(&mut self.log);
        log.push_back((revision, subjects));
        if log.len() > CHANGES_KEPT {
            log.pop_front();
            if let Some(&(oldest, _)) = log.front() {
                // The log now covers only revisions after the one before its oldest entry.
                self.loaded_at = self.loaded_at.max(oldest - 1);
            }
        }
    }

    /// The subjects changed after `revision`, if the log reaches back to it and the scheme
    /// is the one loaded then.
    fn since(&self, revision: i64, version_then: i32, version_now: i32) -> Option<Vec<Uuid>> {
        if revision < self.loaded_at || version_then != self.version || version_now != self.version {
            return None;
        }
        let mut subjects: Vec<Uuid> = self
            .log
            .iter()
            .filter(|(at, _)| *at > revision)
            .flat_map(|(_, subjects)| subjects.iter().copied())
            .collect();
        subjects.sort_unstable();
        subjects.dedup();
        Some(subjects)
    }
}

/// Runs the engine off the request threads (a county-year is tens of milliseconds of CPU).
pub async fn compute(
    scheme: LoadedScheme,
    year: Arc<year_data::LoadedYear>,
    request: Request,
    revision: i64,
) -> Result<Computed, ApiError> {
    compute_with(scheme, year, request, revision, None, false).await
}

/// Computes the year in full, or incrementally from an earlier computation's state and the
/// subjects changed since; when `keep`, keeps the state for the next revision.
async fn compute_with(
    scheme: LoadedScheme,
    year: Arc<year_data::LoadedYear>,
    request: Request,
    revision: i64,
    prior: Option<(YearState, Vec<Uuid>)>,
    keep: bool,
) -> Result<Computed, ApiError> {
    let options = ComputeOptions {
        as_of: request.as_of,
        detail: if request.full { Detail::Full } else { Detail::Totals },
        monthly: request.monthly,
    };
    let keep = keep && request.as_of.is_none() && request.monthly.is_none();
    actix_web::web::block(move || {
        let definition = &scheme.definition;
        let data = &year.data;
        let computed = match (prior, keep) {
            (Some((state, changed)), true) => recompute_year(definition, data, &options, state, &changed)
                .map(|(results, state)| (results, Some(state))),
            (None, true) => {
                compute_year_state(definition, data, &options).map(|(results, state)| (results, Some(state)))
            }
            (_, false) => compute_year(definition, data, &options).map(|results| (results, None)),
        };
        let (results, state) =
            computed.map_err(|e| ApiError::invalid("month", "results.cannot_compute", e.to_string()))?;
        Ok(Computed {
            scheme,
            results,
            placements: year.placements.clone(),
            revision,
            state: Mutex::new(state),
        })
    })
    .await
    .map_err(ApiError::internal)?
}

/// One evaluation's score in a result summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationScore {
    pub evaluation_id: Uuid,
    #[schema(example = "half_year")]
    pub key: String,
    pub kind: EvaluationKind,
    pub title: String,
    /// Exact score; absent when not scored (no scoresheet, no ballot).
    #[schema(example = "84")]
    pub score: Option<Exact>,
    /// The score as a fraction in lowest terms, present only when it does not terminate as a
    /// decimal (then `score` is rounded to 28 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "961/12")]
    pub exact: Option<Fraction>,
    #[schema(example = "84.00")]
    pub published_score: Option<Decimal>,
    pub vetoed: bool,
}

/// Where a subject stands in one ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Standing {
    #[schema(example = "townships")]
    pub ranking: String,
    pub title: String,
    pub rank: Option<u32>,
    pub prize: Option<Prize>,
}

/// A subject's results in a list: every evaluation's score, the annual score, grade, ranks,
/// prize and consequences. `GET /api/v1/subjects/{id}/result` explains every point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResultSummary {
    pub subject_id: Uuid,
    #[schema(example = "李明")]
    pub name: String,
    pub subject_type: SubjectType,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub evaluations: Vec<EvaluationScore>,
    /// Exact annual score (or the monthly standing's total for `kind=monthly`).
    #[schema(example = "91.49")]
    pub score: Option<Exact>,
    /// The score as a fraction in lowest terms, present only when it does not terminate as a
    /// decimal (then `score` is rounded to 28 digits and this is the value itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "14999/200")]
    pub exact: Option<Fraction>,
    /// Rounded half-up: what grades, ranks and consequences use.
    #[schema(example = "91.49")]
    pub published_score: Option<Decimal>,
    pub vetoed: Option<Veto>,
    pub grade: Option<GradeResult>,
    /// Consequence codes, once each, in code order (annual view).
    pub consequences: Vec<Consequence>,
    /// Each consequence with its cause (annual view).
    pub consequence_details: Vec<ConsequenceDetail>,
    /// Q1–Q4 quarterly assessments, absent ones marked (annual view, first secretaries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarterly: Vec<QuarterlyScore>,
    pub standings: Vec<Standing>,
}

named_enum! {
    /// Which result a list shows.
    #[derive(Default)]
    pub enum ResultKind {
        /// The annual score (default).
        #[default]
        Annual,
        /// The running monthly standing (月度公开); needs `month`.
        Monthly,
        /// The half-year assessment's totals (半年考核).
        HalfYear,
        /// The year-end assessment's totals (年终考评).
        YearEnd,
        /// A democratic evaluation's scores (民主测评); name it with `evaluation_id` when the
        /// scheme holds several.
        Democratic,
        /// A quarterly assessment's totals (季度考核, first secretaries); name the quarter's
        /// evaluation with `evaluation_id` when the scheme holds several.
        Quarterly,
    }
}

impl ResultKind {
    /// The evaluation kind this result kind shows, for the evaluation kinds.
    fn evaluation_kind(self) -> Option<EvaluationKind> {
        match self {
            ResultKind::Annual | ResultKind::Monthly => None,
            ResultKind::HalfYear => Some(EvaluationKind::HalfYear),
            ResultKind::YearEnd => Some(EvaluationKind::YearEnd),
            ResultKind::Democratic => Some(EvaluationKind::Democratic),
            ResultKind::Quarterly => Some(EvaluationKind::Quarterly),
        }
    }

    fn of_evaluation(kind: EvaluationKind) -> Self {
        match kind {
            EvaluationKind::HalfYear => ResultKind::HalfYear,
            EvaluationKind::YearEnd => ResultKind::YearEnd,
            EvaluationKind::Democratic => ResultKind::Democratic,
            EvaluationKind::Monthly => ResultKind::Monthly,
            EvaluationKind::Quarterly => ResultKind::Quarterly,
        }
    }
}

/// The month a question needs computed: `kind=monthly` needs one (1–12), other kinds take none.
pub fn monthly_of(kind: ResultKind, month: Option<u32>) -> Result<Option<u32>, ApiError> {
    match (kind, month) {
        (ResultKind::Monthly, Some(m)) if (1..=12).contains(&m) => Ok(Some(m)),
        (ResultKind::Monthly, _) => Err(ApiError::invalid(
            "month",
            "results.month_required",
            "kind=monthly needs month 1–12",
        )),
        (_, Some(_)) => Err(ApiError::invalid(
            "month",
            "results.month_not_applicable",
            "month applies to kind=monthly",
        )),
        (_, None) => Ok(None),
    }
}

/// What a list or ranking shows, resolved against the computed year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Annual,
    Monthly,
    /// One evaluation's own scores and rankings.
    Evaluation(Uuid),
}

impl View {
    /// Resolves `kind` and `evaluation_id`: an evaluation kind names the scheme's only
    /// evaluation of that kind, or the one `evaluation_id` gives (whose kind `kind` may then
    /// leave out).
    pub fn resolve(
        computed: &Computed,
        kind: Option<ResultKind>,
        evaluation_id: Option<Uuid>,
    ) -> Result<(View, ResultKind), ApiError> {
        let evaluations = &computed.results.evaluation_rankings;
        match (kind, evaluation_id) {
            (Some(ResultKind::Annual), Some(_)) | (Some(ResultKind::Monthly), Some(_)) => Err(ApiError::invalid(
                "evaluation_id",
                "results.evaluation_not_applicable",
                "evaluation_id applies to kind=half_year, year_end, democratic or quarterly",
            )),
            (None, None) => Ok((View::Annual, ResultKind::Annual)),
            (Some(ResultKind::Annual), None) => Ok((View::Annual, ResultKind::Annual)),
            (Some(ResultKind::Monthly), None) => Ok((View::Monthly, ResultKind::Monthly)),
            (kind, Some(id)) => {
                let evaluation = evaluations
                    .iter()
                    .find(|e| e.evaluation_id == id)
                    .filter(|e| kind.is_none_or(|k| k.evaluation_kind() == Some(e.kind)))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "evaluation_id",
                            "results.evaluation_unknown",
                            "evaluation_id is not an evaluation of this scheme (of that kind)",
                        )
                    })?;
                Ok((
                    View::Evaluation(evaluation.evaluation_id),
                    ResultKind::of_evaluation(evaluation.kind),
                ))
            }
            (Some(kind), None) => {
                let wanted = kind.evaluation_kind();
                let mut of_kind = evaluations.iter().filter(|e| Some(e.kind) == wanted);
                match (of_kind.next(), of_kind.next()) {
                    (Some(only), None) => Ok((View::Evaluation(only.evaluation_id), kind)),
                    (None, _) => Err(ApiError::invalid(
                        "kind",
                        "results.evaluation_unknown",
                        "the scheme holds no evaluation of this kind",
                    )),
                    (Some(_), Some(_)) => Err(ApiError::invalid(
                        "evaluation_id",
                        "results.evaluation_required",
                        "the scheme holds several evaluations of this kind: name one with evaluation_id",
                    )),
                }
            }
        }
    }

    /// The evaluation shown, for the evaluation kinds.
    pub fn evaluation_id(self) -> Option<Uuid> {
        match self {
            View::Evaluation(id) => Some(id),
            View::Annual | View::Monthly => None,
        }
    }

    /// The shown evaluation's rankings (and its key, kind and title).
    pub fn evaluation(self, computed: &Computed) -> Option<&EvaluationRankings> {
        let id = self.evaluation_id()?;
        computed
            .results
            .evaluation_rankings
            .iter()
            .find(|e| e.evaluation_id == id)
    }

    /// The rankings this view shows, over every subject.
    fn rankings(self, computed: &Computed) -> &[RankingResult] {
        match self {
            View::Annual => &computed.results.rankings,
            View::Monthly => computed
                .results
                .monthly
                .as_ref()
                .map(|m| m.rankings.as_slice())
                .unwrap_or_default(),
            View::Evaluation(_) => self
                .evaluation(computed)
                .map(|e| e.rankings.as_slice())
                .unwrap_or_default(),
        }
    }
}

/// Builds the summaries of the subjects the caller may see, in subject id order.
pub fn summaries(
    computed: &Computed,
    caller: Option<&Caller>,
    view: View,
    subject_type: Option<SubjectType>,
    township_id: Option<Uuid>,
) -> Vec<ResultSummary> {
    let mut standings: HashMap<Uuid, Vec<Standing>> = HashMap::new();
    for ranking in view.rankings(computed) {
        for entry in &ranking.entries {
            standings.entry(entry.subject_id).or_default().push(Standing {
                ranking: ranking.key.clone(),
                title: ranking.title.clone(),
                rank: entry.rank,
                prize: entry.prize.clone(),
            });
        }
    }
    let monthly: HashMap<Uuid, &crate::scoring::RubricResult> = computed
        .results
        .monthly
        .as_ref()
        .map(|m| m.results.iter().map(|r| (r.subject_id, &r.result)).collect())
        .unwrap_or_default();
    let mut out: Vec<ResultSummary> = computed
        .results
        .subjects
        .iter()
        .filter(|s| caller.is_none_or(|c| computed.visible(c, s.subject_id)))
        .filter(|s| subject_type.is_none_or(|t| s.subject_type == t))
        .filter(|s| {
            township_id.is_none_or(|t| {
                computed
                    .placement(s.subject_id)
                    .is_some_and(|p| p.township_id == Some(t))
            })
        })
        .filter_map(|s| {
            let shown = match view {
                View::Annual => (s.annual.value.clone(), s.annual.published_score, s.vetoed.clone()),
                View::Monthly => {
                    let m = monthly.get(&s.subject_id)?;
                    (m.total.clone(), m.published_score, m.vetoed.clone())
                }
                View::Evaluation(id) => {
                    let outcome = &s.evaluations.iter().find(|e| e.evaluation_id == id)?.outcome;
                    let vetoed = match outcome {
                        crate::scoring::EvaluationOutcome::Rubric(r) => r.vetoed.clone(),
                        crate::scoring::EvaluationOutcome::Democratic(_) => None,
                    };
                    (outcome.value().cloned(), outcome.published_score(), vetoed)
                }
            };
            Some(summary(
                computed,
                s,
                view,
                shown,
                standings.remove(&s.subject_id).unwrap_or_default(),
            ))
        })
        .collect();
    out.sort_by_key(|s| s.subject_id);
    out
}

fn summary(
    computed: &Computed,
    s: &SubjectYearResult,
    view: View,
    (score, published_score, vetoed): (Option<Exact>, Option<Decimal>, Option<Veto>),
    standings: Vec<Standing>,
) -> ResultSummary {
    let placement = computed.placement(s.subject_id);
    let annual = view == View::Annual;
    ResultSummary {
        subject_id: s.subject_id,
        name: s.name.clone(),
        subject_type: s.subject_type,
        township_id: placement.and_then(|p| p.township_id),
        village_id: placement.and_then(|p| p.village_id),
        evaluations: s
            .evaluations
            .iter()
            .map(|e| EvaluationScore {
                evaluation_id: e.evaluation_id,
                key: e.key.clone(),
                kind: e.kind,
                title: e.title.clone(),
                score: e.outcome.value().cloned(),
                exact: e.outcome.value().and_then(non_terminating),
                published_score: e.outcome.published_score(),
                vetoed: matches!(&e.outcome, crate::scoring::EvaluationOutcome::Rubric(r) if r.vetoed.is_some()),
            })
            .collect(),
        exact: score.as_ref().and_then(non_terminating),
        score,
        published_score,
        vetoed,
        grade: if annual { s.grade.clone() } else { None },
        consequences: if annual { s.consequences.clone() } else { Vec::new() },
        consequence_details: if annual {
            s.consequence_details.clone()
        } else {
            Vec::new()
        },
        quarterly: if annual { s.quarterly.clone() } else { Vec::new() },
        standings,
    }
}

/// The rankings the caller may see: every group, with the entries of subjects outside the
/// caller's scope left out (ranks are kept as computed over the whole group).
pub fn visible_rankings(computed: &Computed, caller: Option<&Caller>, view: View) -> Vec<RankingResult> {
    view.rankings(computed)
        .iter()
        .filter_map(|r| {
            let entries: Vec<_> = r
                .entries
                .iter()
                .filter(|e| caller.is_none_or(|c| computed.visible(c, e.subject_id)))
                .cloned()
                .collect();
            (!entries.is_empty()).then(|| RankingResult { entries, ..r.clone() })
        })
        .collect()
}
