//! Upload templates: `GET /api/v1/{incidents,ballots,scoresheets,subjects}:template` answer an
//! .xlsx workbook a clerk fills in and uploads to the matching `:bulk` endpoint — the upload's
//! columns with Chinese (or English) headers, drop-down lists of the scheme's items and rules, the
//! caller's subjects and the enumerations (kept on a hidden sheet), and a sheet explaining each
//! column.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, Format, Formula, Workbook, Worksheet};
use sea_orm::Iterable;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::Query;
use crate::api::evaluations::EvaluationFilter;
use crate::api::subjects::SubjectFilter;
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::scoring::{IncidentKind, Method, Node, Quarter, SubjectType};
use crate::spreadsheet::label;
use crate::state::AppState;
use crate::store::incidents::Source;
use crate::store::page::{PageRequest, MAX_LIMIT};
use crate::store::{evaluations, schemes, subjects};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(incidents_template)
        .service(scoresheets_template)
        .service(ballots_template)
        .service(subjects_template);
}

/// Rows of the data sheet that carry the drop-down lists.
const ROWS: u32 = 2000;

/// Most subjects a template lists.
const MAX_SUBJECTS: usize = 20_000;

/// The uploads a template is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upload {
    Incidents,
    Scoresheets,
    Ballots,
    Subjects,
}

/// A drop-down list a column takes its values from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Subjects,
    Items,
    Rules,
    Kinds,
    Sources,
    Quarters,
    Evaluations,
    SubjectTypes,
}

impl Upload {
    const ALL: [Upload; 4] = [
        Upload::Incidents,
        Upload::Scoresheets,
        Upload::Ballots,
        Upload::Subjects,
    ];

    /// The data sheet's name (an upload reads the sheet of this name, else the first).
    fn sheet_name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Upload::Incidents, Lang::ZhCn) => "考核记录",
            (Upload::Incidents, Lang::En) => "Findings",
            (Upload::Scoresheets, Lang::ZhCn) => "评分表",
            (Upload::Scoresheets, Lang::En) => "Scoresheets",
            (Upload::Ballots, Lang::ZhCn) => "民主测评票",
            (Upload::Ballots, Lang::En) => "Ballots",
            (Upload::Subjects, Lang::ZhCn) => "考核对象",
            (Upload::Subjects, Lang::En) => "Subjects",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Upload::Incidents => "incidents",
            Upload::Scoresheets => "scoresheets",
            Upload::Ballots => "ballots",
            Upload::Subjects => "subjects",
        }
    }

    /// The columns: field, required, the list it takes its values from.
    fn columns(self) -> &'static [(&'static str, bool, Option<List>)] {
        match self {
            Upload::Incidents => &[
                ("subject_id", true, Some(List::Subjects)),
                ("item_code", false, Some(List::Items)),
                ("rule_code", false, Some(List::Rules)),
                ("quantity", false, None),
                ("occurred_on", true, None),
                ("period", false, Some(List::Quarters)),
                ("rate", false, None),
                ("sampled", false, None),
                ("correct", false, None),
                ("amount", false, None),
                ("points", false, None),
                ("event_key", false, None),
                ("kind", false, Some(List::Kinds)),
                ("source", false, Some(List::Sources)),
                ("note", false, None),
            ],
            Upload::Scoresheets => &[
                ("evaluation_id", true, Some(List::Evaluations)),
                ("subject_id", true, Some(List::Subjects)),
                ("assessor", false, None),
                ("item_code", true, Some(List::Items)),
                ("score", true, None),
                ("note", false, None),
            ],
            Upload::Ballots => &[
                ("evaluation_id", true, Some(List::Evaluations)),
                ("subject_id", true, Some(List::Subjects)),
                ("score", true, None),
                ("participant", false, None),
            ],
            Upload::Subjects => &[
                ("ref", false, None),
                ("subject_type", true, Some(List::SubjectTypes)),
                ("name", true, None),
                ("parent_id", false, Some(List::Subjects)),
                ("parent_ref", false, None),
                ("dispatched_by", false, Some(List::Subjects)),
                ("dispatched_by_ref", false, None),
                ("stationed_in", false, Some(List::Subjects)),
                ("stationed_in_ref", false, None),
                ("external_code", false, None),
            ],
        }
    }
}

/// The names of every template's data sheet, in both languages: the sheet an .xlsx upload reads
/// when the workbook has one of them, else its first sheet.
pub fn data_sheet_names() -> Vec<String> {
    Upload::ALL
        .iter()
        .flat_map(|u| Lang::ALL.map(|lang| u.sheet_name(lang).to_owned()))
        .collect()
}

/// `?scheme_id=` of the templates whose lists come from a scheme.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SchemeTemplateQuery {
    /// The scheme whose items, rules (and evaluations) the drop-down lists offer.
    pub scheme_id: Uuid,
}

/// `?scheme_id=` (optional) of the templates of ballots.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OptionalSchemeTemplateQuery {
    /// The scheme whose evaluations the drop-down list offers (none without it).
    pub scheme_id: Option<Uuid>,
}

/// The values of one drop-down list, each with the label a clerk reads beside it.
type Values = Vec<(String, String)>;

/// What a template's lists offer.
#[derive(Default)]
struct Lists {
    subjects: Values,
    items: Values,
    rules: Values,
    evaluations: Values,
}

impl Lists {
    /// Loads what `upload`'s columns offer: the subjects the caller sees, and with a scheme its
    /// items, rules and evaluations.
    async fn load(
        state: &AppState,
        caller: &Caller,
        upload: Upload,
        scheme_id: Option<Uuid>,
    ) -> Result<Self, ApiError> {
        let db = state.store.db();
        let mut lists = Lists::default();
        if let Some(id) = scheme_id {
            let row = schemes::load_for(db, caller, Action::ReadShared, id).await?;
            let (definition, _) = schemes::definition(db, &row).await?;
            for config in definition.subject_types.values() {
                collect_items(&config.rubric.nodes, &mut lists);
            }
            dedup(&mut lists.items);
            dedup(&mut lists.rules);
            if matches!(upload, Upload::Scoresheets | Upload::Ballots) {
                let filter = EvaluationFilter {
                    scheme_id: Some(id),
                    ..EvaluationFilter::default()
                };
                let page = PageRequest {
                    limit: MAX_LIMIT,
                    after: None,
                    updated_since: None,
                };
                for e in evaluations::list(db, caller, &filter, &page).await? {
                    lists.evaluations.push((e.id.to_string(), e.title));
                }
            }
        }
        let mut after = None;
        loop {
            let filter = SubjectFilter {
                active: Some(true),
                ..SubjectFilter::default()
            };
            let page = PageRequest {
                limit: MAX_LIMIT,
                after,
                updated_since: None,
            };
            let mut rows = subjects::list(db, caller, &filter, &page).await?;
            let more = rows.len() as u64 > MAX_LIMIT;
            rows.truncate(MAX_LIMIT as usize);
            after = rows.last().map(|r| r.id);
            lists
                .subjects
                .extend(rows.into_iter().map(|s| (s.id.to_string(), s.name)));
            if !more || lists.subjects.len() >= MAX_SUBJECTS {
                break;
            }
        }
        Ok(lists)
    }

    fn values(&self, list: List, lang: Lang) -> Values {
        let named = |value: String, enumeration: &str| {
            let text = lang
                .text(&format!("label-{enumeration}-{value}"))
                .unwrap_or_else(|| value.clone());
            (value, text)
        };
        match list {
            List::Subjects => self.subjects.clone(),
            List::Items => self.items.clone(),
            List::Rules => self.rules.clone(),
            List::Evaluations => self.evaluations.clone(),
            List::Kinds => IncidentKind::iter()
                .map(|k| named(k.as_str().to_owned(), "incident_kind"))
                .collect(),
            List::Sources => Source::iter().map(|s| named(name_of(&s), "source")).collect(),
            List::Quarters => [Quarter::Q1, Quarter::Q2, Quarter::Q3, Quarter::Q4]
                .iter()
                .map(|q| named(name_of(q), "quarter"))
                .collect(),
            List::SubjectTypes => SubjectType::iter()
                .map(|t| named(t.as_str().to_owned(), "subject_type"))
                .collect(),
        }
    }
}

/// A value's name as JSON spells it.
fn name_of(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Each value once, in the order first met; the meanings of a value met more than once (a rule
/// code several items share) are joined.
fn dedup(values: &mut Values) {
    let mut merged: Values = Vec::with_capacity(values.len());
    for (value, meaning) in values.drain(..) {
        match merged.iter_mut().find(|(v, _)| *v == value) {
            Some((_, first)) if !first.contains(&meaning) => {
                first.push('；');
                first.push_str(&meaning);
            }
            Some(_) => {}
            None => merged.push((value, meaning)),
        }
    }
    *values = merged;
}

/// Every item of a rubric (`code`, title) and every rule of its items (`code`, the item and the
/// rule's label).
fn collect_items(nodes: &[Node], lists: &mut Lists) {
    for node in nodes {
        match node {
            Node::Section(section) => collect_items(&section.children, lists),
            Node::Item(item) => {
                lists.items.push((item.code.clone(), item.title.clone()));
                let rules: Vec<(&str, &str)> = match &item.method {
                    Method::Deduction(m) => m.rules.iter().map(|r| (r.code.as_str(), r.label.as_str())).collect(),
                    Method::Bonus(m) => m.rules.iter().map(|r| (r.code.as_str(), r.label.as_str())).collect(),
                    Method::Adjustment(m) => m.rules.iter().map(|r| (r.code.as_str(), r.label.as_str())).collect(),
                    _ => Vec::new(),
                };
                for (code, text) in rules {
                    lists
                        .rules
                        .push((code.to_owned(), format!("{} {}：{}", item.code, item.title, text)));
                }
            }
        }
    }
}

fn words(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

fn failed(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::internal(e)
}

/// A sheet name as a formula names it.
fn quoted(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

/// Where a drop-down list sits on the lists sheet: the list, its first column, its length.
type Placed = Vec<(List, u16, usize)>;

/// The header formats of a template: every header, a required column's header.
struct Headers {
    bold: Format,
    required: Format,
}

/// The template workbook of `upload` in `lang`: the data sheet, the hidden sheet of its lists,
/// and the sheet that explains each column.
fn workbook(upload: Upload, lang: Lang, lists: &Lists) -> Result<Vec<u8>, ApiError> {
    let headers = Headers {
        bold: Format::new().set_bold().set_background_color("DDEBF7"),
        required: Format::new().set_bold().set_background_color("FCE4D6"),
    };
    let lists_name = words(lang, "下拉列表", "Lists");
    let (list_sheet, placed) = lists_sheet(upload, lang, lists, lists_name, &headers)?;
    let mut data = data_sheet(upload, lang, lists_name, &placed, &headers)?;
    let help = help_sheet(upload, lang, &headers)?;
    let mut book = Workbook::new();
    data.set_active(true);
    book.push_worksheet(data);
    book.push_worksheet(list_sheet);
    book.push_worksheet(help);
    book.save_to_buffer().map_err(failed)
}

/// The hidden sheet of lists: two columns per list (value, label).
fn lists_sheet(
    upload: Upload,
    lang: Lang,
    lists: &Lists,
    lists_name: &str,
    headers: &Headers,
) -> Result<(Worksheet, Placed), ApiError> {
    let bold = &headers.bold;
    let columns = upload.columns();
    let mut placed: Placed = Vec::new();
    let mut list_sheet = Worksheet::new();
    list_sheet.set_name(lists_name).map_err(failed)?;
    for (_, _, list) in columns {
        let Some(list) = *list else { continue };
        if placed.iter().any(|(l, _, _)| *l == list) {
            continue;
        }
        let values = lists.values(list, lang);
        let col = (placed.len() * 2) as u16;
        let field = columns
            .iter()
            .find(|(_, _, l)| *l == Some(list))
            .map(|(f, _, _)| *f)
            .unwrap_or_default();
        list_sheet
            .write_string_with_format(0, col, label(lang, field), bold)
            .map_err(failed)?;
        list_sheet
            .write_string_with_format(0, col + 1, words(lang, "说明", "Meaning"), bold)
            .map_err(failed)?;
        for (i, (value, meaning)) in values.iter().enumerate() {
            list_sheet.write_string(i as u32 + 1, col, value).map_err(failed)?;
            list_sheet
                .write_string(i as u32 + 1, col + 1, meaning)
                .map_err(failed)?;
        }
        list_sheet.set_column_width(col, 38).map_err(failed)?;
        list_sheet.set_column_width(col + 1, 40).map_err(failed)?;
        placed.push((list, col, values.len()));
    }
    list_sheet.set_hidden(true);
    Ok((list_sheet, placed))
}

/// The data sheet: headers, widths, text columns, drop-down lists.
fn data_sheet(
    upload: Upload,
    lang: Lang,
    lists_name: &str,
    placed: &Placed,
    headers: &Headers,
) -> Result<Worksheet, ApiError> {
    let text = Format::new().set_num_format("@");
    let columns = upload.columns();
    let mut data = Worksheet::new();
    data.set_name(upload.sheet_name(lang)).map_err(failed)?;
    for (c, (field, is_required, list)) in columns.iter().enumerate() {
        let c = c as u16;
        let header = label(lang, field);
        let width = (header.chars().count() as f64 * 2.2).max(12.0);
        let numeric = matches!(
            *field,
            "quantity" | "rate" | "sampled" | "correct" | "amount" | "points" | "score"
        );
        if numeric || *field == "occurred_on" {
            data.set_column_width(c, width).map_err(failed)?;
        } else {
            // Typed as text, so Excel keeps codes such as 1.10 and ids as written.
            let wide = if list == &Some(List::Subjects) || list == &Some(List::Evaluations) {
                38.0
            } else {
                width
            };
            data.set_column_width(c, wide).map_err(failed)?;
            data.set_column_format(c, &text).map_err(failed)?;
        }
        data.write_string_with_format(
            0,
            c,
            header,
            if *is_required { &headers.required } else { &headers.bold },
        )
        .map_err(failed)?;
        let Some((_, at, len)) = placed.iter().find(|(l, _, _)| Some(*l) == *list) else {
            continue;
        };
        if *len == 0 {
            continue;
        }
        let letter = crate::spreadsheet::column_letters(*at as usize);
        let range = format!("={}!${letter}$2:${letter}${}", quoted(lists_name), len + 1);
        let validation = DataValidation::new()
            .allow_list_formula(Formula::new(range))
            .set_error_style(DataValidationErrorStyle::Warning)
            .set_error_title(words(lang, "不在列表中", "Not in the list"))
            .map_err(failed)?
            .set_error_message(words(
                lang,
                "该值不在下拉列表中，上传时将被检查。",
                "This value is not in the list; the upload will check it.",
            ))
            .map_err(failed)?;
        data.add_data_validation(1, c, ROWS, c, &validation).map_err(failed)?;
    }
    data.set_freeze_panes(1, 0).map_err(failed)?;
    Ok(data)
}

/// The sheet that explains each column of the data sheet.
fn help_sheet(upload: Upload, lang: Lang, headers: &Headers) -> Result<Worksheet, ApiError> {
    let columns = upload.columns();
    let mut help = Worksheet::new();
    help.set_name(words(lang, "填写说明", "How to fill in"))
        .map_err(failed)?;
    let intro = [
        words(
            lang,
            "第1行是表头，请勿修改或删除；从第2行起每行一条记录，空单元格表示不填。",
            "Row 1 holds the headers: keep them. From row 2 on each row is one record; an empty cell leaves the field out.",
        ),
        words(
            lang,
            "表头可以用中文、英文或字段名；日期写作 2023-03-15（或 Excel 日期），分数写数字，如 2.5。",
            "Headers may be Chinese, English or field names; dates as 2023-03-15 (or an Excel date), points as numbers such as 2.5.",
        ),
        words(
            lang,
            "保存为 .xlsx，或 CSV（UTF-8 或 GBK 均可），然后上传；出错时会按单元格（如 C17）列出每个问题，且不写入任何数据。",
            "Save as .xlsx, or CSV (UTF-8 or GBK), and upload it; problems are listed by cell (e.g. C17) and nothing is written.",
        ),
    ];
    for (r, line) in intro.iter().enumerate() {
        help.write_string(r as u32, 0, *line).map_err(failed)?;
    }
    let top = intro.len() as u32 + 1;
    let heads = [
        words(lang, "列", "Column"),
        words(lang, "表头", "Header"),
        words(lang, "字段名", "Field"),
        words(lang, "必填", "Required"),
        words(lang, "填写方式", "How"),
    ];
    for (c, head) in heads.iter().enumerate() {
        help.write_string_with_format(top, c as u16, *head, &headers.bold)
            .map_err(failed)?;
    }
    for (i, (field, is_required, list)) in columns.iter().enumerate() {
        let r = top + 1 + i as u32;
        help.write_string(r, 0, crate::spreadsheet::column_letters(i))
            .map_err(failed)?;
        help.write_string(r, 1, label(lang, field)).map_err(failed)?;
        help.write_string(r, 2, *field).map_err(failed)?;
        help.write_string(r, 3, if *is_required { words(lang, "是", "yes") } else { "" })
            .map_err(failed)?;
        let how = match list {
            Some(_) => words(
                lang,
                "从下拉列表中选择（见隐藏的“下拉列表”工作表）",
                "Pick from the drop-down list (the hidden sheet Lists)",
            ),
            None if *field == "occurred_on" => words(lang, "日期，如 2023-03-15", "A date such as 2023-03-15"),
            None => "",
        };
        help.write_string(r, 4, how).map_err(failed)?;
    }
    help.set_column_width(0, 8).map_err(failed)?;
    help.set_column_width(1, 20).map_err(failed)?;
    help.set_column_width(2, 20).map_err(failed)?;
    help.set_column_width(4, 50).map_err(failed)?;
    Ok(help)
}

/// `text` as RFC 8187 writes a header parameter's value: unreserved ASCII as it is, every other
/// byte of its UTF-8 as `%XX`.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The template of `upload` as an attachment, named by its sheet (考核记录.xlsx).
async fn answer(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    upload: Upload,
    scheme_id: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let lists = Lists::load(state, caller, upload, scheme_id).await?;
    let body = workbook(upload, lang, &lists)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, super::export::XLSX))
        .insert_header((header::CONTENT_LANGUAGE, lang.tag()))
        .insert_header((header::VARY, "Accept-Language"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}-template.xlsx\"; filename*=UTF-8''{}.xlsx",
                upload.path(),
                percent_encoded(upload.sheet_name(lang))
            ),
        ))
        .body(body))
}

/// The upload template of findings (.xlsx).
///
/// A workbook to fill in and send to `POST /api/v1/incidents:bulk` as it is: the first sheet has
/// the upload's columns (Chinese headers; English with `Accept-Language: en`), a frozen header
/// row, drop-down lists of the scheme's item and rule codes, of the subjects you may see and of
/// the kinds, sources and quarters; a hidden sheet holds the lists, another explains each column.
#[utoipa::path(
    tag = "bulk", operation_id = "incidentsTemplate",
    params(SchemeTemplateQuery),
    responses((status = 200, description = "The template workbook",
        content((String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))))
)]
#[get("/incidents:template")]
async fn incidents_template(
    state: web::Data<AppState>,
    caller: Caller,
    lang: Lang,
    query: Query<SchemeTemplateQuery>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, &caller, lang, Upload::Incidents, Some(query.scheme_id)).await
}

/// The upload template of scoresheets (.xlsx).
///
/// A workbook for `POST /api/v1/scoresheets:bulk` in long form (one item's score per row):
/// drop-down lists of the scheme's evaluations and items and of the subjects you may see.
#[utoipa::path(
    tag = "bulk", operation_id = "scoresheetsTemplate",
    params(SchemeTemplateQuery),
    responses((status = 200, description = "The template workbook",
        content((String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))))
)]
#[get("/scoresheets:template")]
async fn scoresheets_template(
    state: web::Data<AppState>,
    caller: Caller,
    lang: Lang,
    query: Query<SchemeTemplateQuery>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, &caller, lang, Upload::Scoresheets, Some(query.scheme_id)).await
}

/// The upload template of ballots (.xlsx).
///
/// A workbook for `POST /api/v1/ballots:bulk`: drop-down lists of the subjects you may see and,
/// with `scheme_id`, of the scheme's evaluations.
#[utoipa::path(
    tag = "bulk", operation_id = "ballotsTemplate",
    params(OptionalSchemeTemplateQuery),
    responses((status = 200, description = "The template workbook",
        content((String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))))
)]
#[get("/ballots:template")]
async fn ballots_template(
    state: web::Data<AppState>,
    caller: Caller,
    lang: Lang,
    query: Query<OptionalSchemeTemplateQuery>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, &caller, lang, Upload::Ballots, query.scheme_id).await
}

/// The upload template of subjects (.xlsx).
///
/// A workbook for `POST /api/v1/subjects:bulk`: drop-down lists of the subject types and of the
/// subjects you may see (as parents, dispatching units, villages stationed in).
#[utoipa::path(
    tag = "bulk", operation_id = "subjectsTemplate",
    responses((status = 200, description = "The template workbook",
        content((String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))))
)]
#[get("/subjects:template")]
async fn subjects_template(state: web::Data<AppState>, caller: Caller, lang: Lang) -> Result<HttpResponse, ApiError> {
    answer(&state, &caller, lang, Upload::Subjects, None).await
}
