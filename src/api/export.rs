//! Exports of results and rankings: CSV (UTF-8 with BOM, RFC 4180, safe against formula
//! injection), NDJSON and XLSX, chosen by `Accept` or `?format=`, with English or Chinese headers.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::ApiError;

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

/// Column header language of exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeaderLanguage {
    /// Field names, e.g. `published_score` (default).
    #[default]
    En,
    /// Chinese, e.g. 公布得分.
    Zh,
}

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
    fn headers(&self, language: HeaderLanguage) -> Vec<&'static str> {
        self.columns
            .iter()
            .map(|(en, zh)| if language == HeaderLanguage::Zh { *zh } else { *en })
            .collect()
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

pub fn to_csv(table: &Table, language: HeaderLanguage) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        writer
            .write_record(table.headers(language))
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

pub fn to_xlsx(table: &Table, language: HeaderLanguage, sheet_name: &str) -> Result<Vec<u8>, ApiError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(ApiError::internal)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, title) in table.headers(language).iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *title, &bold)
            .map_err(ApiError::internal)?;
    }
    // Scores stay exact text: a spreadsheet number would be a float.
    for (r, row) in table.rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            sheet
                .write_string((r + 1) as u32, c as u16, defuse(value))
                .map_err(ApiError::internal)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(ApiError::internal)?;
    book.save_to_buffer().map_err(ApiError::internal)
}

/// Answers `table` in `format` (JSON is handled by the caller).
pub fn respond(
    table: &Table,
    format: Format,
    language: HeaderLanguage,
    name: &str,
    etag: &str,
) -> Result<HttpResponse, ApiError> {
    let (content_type, body, extension) = match format {
        Format::Csv => (CSV, to_csv(table, language)?, "csv"),
        Format::Xlsx => (XLSX, to_xlsx(table, language, name)?, "xlsx"),
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
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{extension}\""),
        ))
        .body(body))
}
