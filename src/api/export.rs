//! Exports of results and rankings: CSV (UTF-8 with BOM, RFC 4180, safe against formula
//! injection), NDJSON and XLSX, chosen by `Accept` or `?format=`, with field names or Chinese or
//! English headers (`locales/*/columns.ftl`). In .xlsx scores are numbers shown with two decimals,
//! each beside its exact decimal as text; sheets are named in the request's language.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::i18n::Lang;

pub const CSV: &str = "text/csv; charset=utf-8";
pub const NDJSON: &str = "application/x-ndjson";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The representation a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Csv,
    Ndjson,
    Xlsx,
}

/// Column headers of exports. Without it CSV has field names (so an export uploads again as it
/// is) and .xlsx the labels of the request's language (`Accept-Language`: Chinese by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeaderLanguage {
    /// Field names, e.g. `published_score`.
    #[default]
    En,
    /// Chinese, e.g. 公布得分.
    Zh,
}

/// The headers an export is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Headers {
    /// Field names, e.g. `published_score`.
    Fields,
    /// The labels of a language, e.g. 公布得分 or Published score.
    Labels(Lang),
}

impl Headers {
    /// `?headers=` wins; without it CSV keeps field names and .xlsx follows `Accept-Language`.
    fn of(req: &HttpRequest, format: Format, asked: Option<HeaderLanguage>) -> Self {
        match (asked, format) {
            (Some(HeaderLanguage::Zh), _) => Headers::Labels(Lang::ZhCn),
            (Some(HeaderLanguage::En), _) => Headers::Fields,
            (None, Format::Xlsx) => Headers::Labels(Lang::of(req)),
            (None, _) => Headers::Fields,
        }
    }
}

/// Columns whose cells are scores: in .xlsx a number shown with two decimals, and the exact
/// decimal as text in a column beside it.
const SCORE_COLUMNS: [&str; 2] = ["score", "published_score"];

/// `?format=` wins over `Accept`; JSON by default.
pub fn negotiate(req: &HttpRequest, format: Option<Format>) -> Format {
    if let Some(format) = format {
        return format;
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/csv") {
        Format::Csv
    } else if accept.contains(NDJSON) {
        Format::Ndjson
    } else if accept.contains("spreadsheetml") {
        Format::Xlsx
    } else {
        Format::Json
    }
}

/// A table to export: one header per column in both languages, rows of text cells, and each row
/// as the JSON answer has it (`records`), which NDJSON writes with its JSON types: decimals as
/// strings, booleans, numbers, nested objects and arrays, null.
pub struct Table {
    pub columns: Vec<(&'static str, &'static str)>,
    pub rows: Vec<Vec<String>>,
    pub records: Vec<serde_json::Value>,
}

impl Table {
    fn headers(&self, headers: Headers) -> Vec<String> {
        self.columns
            .iter()
            .map(|(field, zh)| header(field, zh, headers))
            .collect()
    }
}

/// A column's header: its field name, or its label in `columns.ftl` (the table's own Chinese
/// header where the catalogue has none).
fn header(field: &str, zh: &str, headers: Headers) -> String {
    match headers {
        Headers::Fields => field.to_owned(),
        Headers::Labels(lang) => lang.text(&format!("column-{field}")).unwrap_or_else(|| {
            if lang == Lang::ZhCn {
                zh.to_owned()
            } else {
                field.to_owned()
            }
        }),
    }
}

/// The header of the exact text beside a score column.
fn exact_header(field: &str, shown: &str, headers: Headers) -> String {
    match headers {
        Headers::Fields => format!("{field}_exact"),
        Headers::Labels(lang) => lang
            .text_with("column-exact_text", &[("column", shown.to_owned())])
            .unwrap_or_else(|| format!("{shown} (exact)")),
    }
}

/// A sheet's name in the request's language: results, rankings, a publication's number.
fn sheet_name(name: &str, lang: Lang) -> String {
    match (name, lang) {
        ("results", Lang::ZhCn) => "考核结果".to_owned(),
        ("results", Lang::En) => "Results".to_owned(),
        ("rankings", Lang::ZhCn) => "排名".to_owned(),
        ("rankings", Lang::En) => "Rankings".to_owned(),
        (other, lang) => match other.strip_prefix("publication-") {
            Some(number) if lang == Lang::ZhCn => format!("公布结果第{number}期"),
            Some(number) => format!("Publication {number}"),
            None => other.chars().take(31).collect(),
        },
    }
}

/// Text of an optional decimal cell.
pub fn cell(value: Option<Decimal>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// A cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`, tab or
/// CR gets a leading apostrophe, unless it is a plain number such as `-3.00`.
pub fn defuse(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.parse::<Decimal>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn to_csv(table: &Table, headers: Headers) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        writer
            .write_record(table.headers(headers))
            .map_err(ApiError::internal)?;
        for row in &table.rows {
            writer
                .write_record(row.iter().map(|c| defuse(c)))
                .map_err(ApiError::internal)?;
        }
        writer.flush().map_err(ApiError::internal)?;
    }
    Ok(out)
}

/// The table as a workbook of one sheet: a frozen bold header row; each score column a number
/// shown with two decimals (`0.00`) followed by its exact decimal as text; every other cell text.
fn to_xlsx(table: &Table, headers: Headers, sheet_name: &str) -> Result<Vec<u8>, ApiError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(ApiError::internal)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let two_decimals = rust_xlsxwriter::Format::new().set_num_format("0.00");
    let mut col = 0u16;
    let mut layout = Vec::with_capacity(table.columns.len());
    for (field, zh) in &table.columns {
        let shown = header(field, zh, headers);
        sheet
            .write_string_with_format(0, col, &shown, &bold)
            .map_err(ApiError::internal)?;
        let is_score = SCORE_COLUMNS.contains(field);
        sheet
            .set_column_width(col, (shown.chars().count() as f64 * 2.0).clamp(10.0, 40.0))
            .map_err(ApiError::internal)?;
        layout.push((col, is_score));
        col += 1;
        if is_score {
            let exact = exact_header(field, &shown, headers);
            sheet
                .write_string_with_format(0, col, exact, &bold)
                .map_err(ApiError::internal)?;
            sheet.set_column_width(col, 32).map_err(ApiError::internal)?;
            col += 1;
        }
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = (r + 1) as u32;
        for (value, (c, is_score)) in row.iter().zip(&layout) {
            let number = if *is_score {
                value.parse::<Decimal>().ok().and_then(|d| d.to_f64())
            } else {
                None
            };
            match number {
                Some(number) => {
                    sheet
                        .write_number_with_format(r, *c, number, &two_decimals)
                        .map_err(ApiError::internal)?;
                }
                None if value.is_empty() => {}
                None => {
                    sheet.write_string(r, *c, defuse(value)).map_err(ApiError::internal)?;
                }
            }
            if *is_score && !value.is_empty() {
                sheet
                    .write_string(r, *c + 1, defuse(value))
                    .map_err(ApiError::internal)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(ApiError::internal)?;
    book.save_to_buffer().map_err(ApiError::internal)
}

/// Answers `table` in `format` (JSON is handled by the caller), with the headers `?headers=`
/// asks for (see `HeaderLanguage`).
pub fn respond(
    req: &HttpRequest,
    table: &Table,
    format: Format,
    asked: Option<HeaderLanguage>,
    name: &str,
    etag: &str,
) -> Result<HttpResponse, ApiError> {
    let headers = Headers::of(req, format, asked);
    let (content_type, body, extension) = match format {
        Format::Csv => (CSV, to_csv(table, headers)?, "csv"),
        Format::Xlsx => (XLSX, to_xlsx(table, headers, &sheet_name(name, Lang::of(req)))?, "xlsx"),
        Format::Ndjson => {
            let mut out = Vec::new();
            for record in &table.records {
                serde_json::to_writer(&mut out, record)?;
                out.push(b'\n');
            }
            (NDJSON, out, "ndjson")
        }
        Format::Json => return Err(ApiError::internal("JSON is answered by the handler")),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::VARY, "Accept, Accept-Language"))
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{extension}\""),
        ))
        .body(body))
}
