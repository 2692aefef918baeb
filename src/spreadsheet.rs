//! Spreadsheets as a clerk saves them, read for the uploads' CSV path: CSV bytes in UTF-8 (with or
//! without BOM) or GB18030/GBK (Excel on Chinese Windows), an .xlsx workbook's sheet as text cells
//! the way Excel shows them, and column headers in Chinese or English matched to field names
//! (`locales/*/columns.ftl`). Cells are named as Excel names them (`C17`).

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::LazyLock;

use calamine::{Data, ExcelDateTime, Reader};
use encoding_rs::{DecoderResult, GB18030};

use crate::error::{ApiError, FieldError};
use crate::i18n::Lang;

/// The column catalogues, read at compile time so that the headers an upload accepts are the
/// headers templates and exports write.
const CATALOGUES: [(Lang, &str); 2] = [
    (Lang::ZhCn, include_str!("../locales/zh-CN/columns.ftl")),
    (Lang::En, include_str!("../locales/en/columns.ftl")),
];

/// `column-<field> = <label>` lines of a catalogue (labels with arguments left out).
fn catalogue_labels(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let (id, label) = line.split_once('=')?;
        let field = id.trim().strip_prefix("column-")?;
        let label = label.trim();
        (!label.is_empty() && !label.contains('{')).then_some((field, label))
    })
}

/// Header (as compared: trimmed, ASCII lower-cased) → the field it names.
static FIELDS_BY_HEADER: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (_, text) in CATALOGUES {
        for (field, label) in catalogue_labels(text) {
            map.insert(comparable(field), field.to_owned());
            map.insert(comparable(label), field.to_owned());
        }
    }
    map
});

fn comparable(header: &str) -> String {
    header.trim().to_ascii_lowercase()
}

/// The field a column header names: the field name itself, or its Chinese or English label
/// (trimmed, ASCII letters in any case). A header that names none is kept as written, so the
/// row's parser reports it as an unknown column.
pub fn field_of(header: &str) -> String {
    FIELDS_BY_HEADER
        .get(&comparable(header))
        .cloned()
        .unwrap_or_else(|| header.trim().to_owned())
}

/// The header of `field` in `lang` (the field name when the catalogue has no label for it).
pub fn label(lang: Lang, field: &str) -> String {
    lang.text(&format!("column-{field}"))
        .unwrap_or_else(|| field.to_owned())
}

/// Excel's name of a column: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letters(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// A CSV body as UTF-8 text: valid UTF-8 stays (its BOM removed); anything else is read as
/// GB18030, the superset of GBK that Excel on Chinese Windows saves. Bytes that are neither are
/// refused, naming the line they are on.
pub fn decode_csv(bytes: &actix_web::web::Bytes) -> Result<actix_web::web::Bytes, ApiError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    if std::str::from_utf8(text).is_ok() {
        return Ok(bytes.slice_ref(text));
    }
    let mut decoder = GB18030.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(text.len())
        .unwrap_or(text.len() * 3 + 16);
    let mut out = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(text, &mut out, true);
    match result {
        DecoderResult::InputEmpty => Ok(actix_web::web::Bytes::from(out.into_bytes())),
        DecoderResult::Malformed(bad, after) => {
            let at = read.saturating_sub(bad as usize + after as usize);
            let line = text[..at].iter().filter(|b| **b == b'\n').count() + 1;
            Err(ApiError::validation(vec![FieldError::new(
                "",
                "request.csv_encoding",
                format!("line {line} is neither UTF-8 nor GB18030 (GBK) text; save the file as CSV UTF-8 or CSV"),
            )
            .at_row(line)]))
        }
        DecoderResult::OutputFull => Err(ApiError::internal("the GB18030 decoding buffer was too small")),
    }
}

/// An .xlsx body starts as a ZIP archive.
pub fn looks_like_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// One sheet of a workbook as text: its header row and each further non-empty row with the
/// number Excel shows it under.
#[derive(Debug, Default)]
pub struct Sheet {
    /// The header row's cells, trimmed, as written.
    pub headers: Vec<String>,
    /// `(row number, cells)`: the header is the sheet's first used row.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The sheet of an .xlsx upload: the one named `preferred` (the template's), else the first.
pub fn read_xlsx(bytes: &[u8], preferred: &[String]) -> Result<Sheet, ApiError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        ApiError::bad_request(
            "request.malformed_xlsx",
            format!("the body is not an Excel workbook (.xlsx) that can be read: {e}"),
        )
    };
    let mut book = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let names = book.sheet_names();
    let name = names
        .iter()
        .find(|n| preferred.iter().any(|p| p == *n))
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| unreadable(&"it has no sheet"))?;
    let range = book.worksheet_range(&name).map_err(|e| unreadable(&e))?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    // Cells left of the used range are empty columns of the sheet.
    let pad = first_col as usize;
    let mut rows = range.rows().enumerate().map(|(i, cells)| {
        let mut texts = vec![String::new(); pad];
        texts.extend(cells.iter().map(cell_text));
        (first_row as usize + i + 1, texts)
    });
    let headers = rows
        .by_ref()
        .find(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .map(|(_, cells)| cells)
        .unwrap_or_default();
    let mut sheet = Sheet {
        headers,
        rows: rows.filter(|(_, cells)| cells.iter().any(|c| !c.is_empty())).collect(),
    };
    // As wide as the last header or the last filled cell; past the headers a filled cell is a
    // column without a header, which the row's parser reports.
    let width = sheet
        .rows
        .iter()
        .map(|(_, cells)| last_filled(cells))
        .chain([last_filled(&sheet.headers)])
        .max()
        .unwrap_or(0);
    sheet.headers.resize(width, String::new());
    for (_, cells) in &mut sheet.rows {
        cells.resize(width, String::new());
    }
    Ok(sheet)
}

fn last_filled(cells: &[String]) -> usize {
    cells.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1)
}

/// A cell as the text Excel shows for it, exact: numbers in the shortest form that reads back as
/// the same binary value (a cell 2.5 is `2.5`, never `2.4999999`), whole numbers without a point,
/// dates as YYYY-MM-DD (a date with a time as YYYY-MM-DDTHH:MM:SS, which a date column refuses).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => date_text(dt),
        Data::DateTime(dt) => number_text(dt.as_f64()),
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_owned(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Rust's `Display` of an `f64` is the shortest decimal that parses back to the same value, and
/// never uses an exponent.
fn number_text(value: f64) -> String {
    if value.is_finite() {
        let text = format!("{value}");
        if text == "-0" {
            "0".to_owned()
        } else {
            text
        }
    } else {
        String::new()
    }
}

/// A date cell as YYYY-MM-DD (with its time, YYYY-MM-DDTHH:MM:SS), in either of Excel's epochs
/// and with Excel's own calendar (its 1900-02-29 included).
fn date_text(at: &ExcelDateTime) -> String {
    let (year, month, day, hour, minute, second, milli) = at.to_ymd_hms_milli();
    if (hour, minute, second, milli) == (0, 0, 0, 0) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_as_excel_names_them() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(2), "C");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn headers_in_chinese_english_or_field_names_name_the_field() {
        assert_eq!(field_of("发生日期"), "occurred_on");
        assert_eq!(field_of(" Occurred on "), "occurred_on");
        assert_eq!(field_of("OCCURRED_ON"), "occurred_on");
        assert_eq!(field_of("occurred_on"), "occurred_on");
        assert_eq!(field_of("指标编号"), "item_code");
        assert_eq!(field_of("不是一列"), "不是一列");
    }

    #[test]
    fn every_label_names_one_field_and_both_catalogues_have_the_same_columns() {
        let ids = |text: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_owned()))
                .filter(|id| id.starts_with("column-"))
                .collect()
        };
        assert_eq!(ids(CATALOGUES[0].1), ids(CATALOGUES[1].1));
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (_, text) in CATALOGUES {
            for (field, label) in catalogue_labels(text) {
                for header in [comparable(field), comparable(label)] {
                    if let Some(other) = seen.insert(header.clone(), field) {
                        assert_eq!(other, field, "{header} names both {other} and {field}");
                    }
                }
            }
        }
        for lang in Lang::ALL {
            assert_ne!(label(lang, "occurred_on"), "occurred_on");
        }
    }

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(number_text(2.5), "2.5");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(85.0), "85");
        assert_eq!(number_text(12.34), "12.34");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1234567.891), "1234567.891");
    }

    #[test]
    fn date_serials_become_dates() {
        let date = |serial: f64| {
            date_text(&ExcelDateTime::new(
                serial,
                calamine::ExcelDateTimeType::DateTime,
                false,
            ))
        };
        assert_eq!(date(45000.0), "2023-03-15");
        assert_eq!(date(44927.0), "2023-01-01");
        assert_eq!(date(45000.5), "2023-03-15T12:00:00");
    }

    #[test]
    fn gb18030_csv_is_decoded_and_utf8_kept() {
        let (gbk, _, _) = GB18030.encode("指标编号,备注\n1.1,上级反馈\n");
        let decoded = decode_csv(&actix_web::web::Bytes::from(gbk.into_owned())).unwrap();
        assert_eq!(std::str::from_utf8(&decoded).unwrap(), "指标编号,备注\n1.1,上级反馈\n");
        let bom = actix_web::web::Bytes::from("\u{feff}a,b\n".as_bytes().to_vec());
        assert_eq!(&decode_csv(&bom).unwrap()[..], b"a,b\n");
        let bad = actix_web::web::Bytes::from(b"a,b\n1,2\n\xff\xff,3\n".to_vec());
        let error = decode_csv(&bad).unwrap_err();
        assert!(format!("{error:?}").contains("line 3"), "{error:?}");
    }
}
