//! Issue 16, the Excel round trip: GB18030 CSV and .xlsx uploads with Chinese or English headers,
//! errors naming cells as Excel does (`C17`), upload templates, .xlsx exports with numbers.

use std::io::{Cursor, Read};

use calamine::{Data, Reader};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{json, Value};

use crate::helpers::{department_and_village, find_by, seed_a_town, spawn_app, TestApp, CSV};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A scored item anywhere below `node`.
fn item<'a>(node: &'a Value, code: &str) -> Option<&'a Value> {
    match node {
        Value::Object(map) => {
            if map.get("kind") == Some(&json!("item")) && map.get("code") == Some(&json!(code)) {
                return Some(node);
            }
            map.values().find_map(|v| item(v, code))
        }
        Value::Array(list) => list.iter().find_map(|v| item(v, code)),
        _ => None,
    }
}

/// A subject's year-end result: every item's score, and the annual published score.
async fn scores(app: &TestApp, subject: &str, scheme: &str, items: &[&str]) -> (Vec<String>, String) {
    let result = app
        .get_ok(&format!("/api/v1/subjects/{subject}/result?scheme_id={scheme}"))
        .await
        .body;
    let year_end = find_by(&result["result"]["evaluations"], "key", "year_end")["outcome"].clone();
    let items = items
        .iter()
        .map(|code| {
            item(&year_end, code).unwrap_or_else(|| panic!("no item {code} in {year_end}"))["score"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let published = result["result"]["annual"]["published_score"]
        .as_str()
        .unwrap_or_else(|| panic!("no annual score in {result}"))
        .to_owned();
    (items, published)
}

/// The findings the spreadsheets below hold, as a JSON upload for another village.
fn same_findings_as_json(village: &str) -> Value {
    json!([
        {"subject_id": village, "item_code": "1.1", "rule_code": "L2", "quantity": 3, "occurred_on": "2023-07-31",
         "source": "system_analysis", "note": "7月系统分析，户信息错误"},
        {"subject_id": village, "item_code": "1.3", "rule_code": "error", "quantity": 7, "occurred_on": "2023-08-15",
         "source": "higher_feedback", "note": "上级反馈"},
        {"subject_id": village, "item_code": "1.2", "period": "Q2", "rate": "85.5", "occurred_on": "2023-06-30"},
        {"subject_id": village, "item_code": "4.1", "rule_code": "city", "event_key": "2023 防返贫监测先进",
         "occurred_on": "2023-11-01"},
    ])
}

/// Uploads the same findings as JSON for `twin`, then checks that `village` scores as the twin
/// does on items 1.1, 1.2, 1.3 and 4.1 and in its published score, 1.1 at 19.1 (20 − 3 × 0.3)
/// and 1.3 at 4.3 (5 − 7 × 0.1); returns the four items' scores.
async fn scored_as_json_scores(app: &TestApp, scheme: &str, village: &str, twin: &str) -> Vec<String> {
    app.upload_json("/api/v1/incidents:bulk", &same_findings_as_json(twin), None)
        .await
        .assert(201);
    let codes = ["1.1", "1.2", "1.3", "4.1"];
    let (items, published) = scores(app, village, scheme, &codes).await;
    assert_eq!(items[0], "19.1");
    assert_eq!(items[2], "4.3");
    let twins = scores(app, twin, scheme, &codes).await;
    assert_eq!((items.clone(), published), twins);
    items
}

fn gb18030(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    let bytes = bytes.into_owned();
    assert!(std::str::from_utf8(&bytes).is_err(), "the test's CSV must not be UTF-8");
    bytes
}

/// A workbook's sheet names and every sheet's cells.
fn open(bytes: &[u8]) -> calamine::Xlsx<Cursor<Vec<u8>>> {
    calamine::Xlsx::new(Cursor::new(bytes.to_vec())).expect("an .xlsx calamine opens")
}

fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut book = open(bytes);
    let range = book
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("no sheet {name}: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// The texts of a sheet's first row.
fn header_row(rows: &[Vec<Data>]) -> Vec<String> {
    rows[0].iter().map(text).collect()
}

/// An .xlsx export asked for in `language`, answered 200: its bytes and the rows of its sheet
/// `name`.
async fn xlsx_export(app: &TestApp, path: &str, language: &str, name: &str) -> (Vec<u8>, Vec<Vec<Data>>) {
    let reply = app.get_with(path, &[("accept-language", language)]).await;
    reply.assert(200);
    let rows = sheet(&reply.bytes, name);
    (reply.bytes, rows)
}

/// A file of the .xlsx (a zip), as text.
fn part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("an xlsx is a zip");
    let mut file = archive.by_name(name).unwrap_or_else(|_| panic!("no {name}"));
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    text
}

#[actix_web::test]
async fn a_gb18030_csv_with_chinese_headers_is_uploaded_and_scored_to_the_cent() {
    let app = spawn_app().await;
    let (_, scheme, v1, v2) = seed_a_town(&app).await;
    // As Excel on Chinese Windows saves "CSV (逗号分隔)": GB18030/GBK, Chinese headers, CRLF.
    let csv = format!(
        "考核对象ID,指标编号,扣加分规则,次数,发生日期,来源,备注,季度,准确率,事项名称\r\n\
         {v1},1.1,L2,3,2023-07-31,system_analysis,\"7月系统分析，户信息错误\",,,\r\n\
         {v1},1.3,error,7,2023-08-15,higher_feedback,上级反馈,,,\r\n\
         {v1},1.2,,,2023-06-30,,,Q2,85.5,\r\n\
         {v1},4.1,city,,2023-11-01,,,,,2023 防返贫监测先进\r\n"
    );
    let reply = app.upload("/api/v1/incidents:bulk", CSV, gb18030(&csv), None).await;
    reply.assert(201);
    assert_eq!(reply.body["rows"], 4);
    assert_eq!(reply.body["created"], 4);
    let stored = app.get_ok(&format!("/api/v1/incidents?subject_id={v1}&item=1.1")).await;
    assert_eq!(stored.body["items"][0]["note"], "7月系统分析，户信息错误");
    let stored = app.get_ok(&format!("/api/v1/incidents?subject_id={v1}&item=4.1")).await;
    assert_eq!(stored.body["items"][0]["event_key"], "2023 防返贫监测先进");

    let items = scored_as_json_scores(&app, &scheme, &v1, &v2).await;
    // The city commendation's 5.
    assert_eq!(items[3], "5");

    // UTF-8 with a BOM and English labels reads alike.
    let csv =
        format!("\u{feff}Subject ID,Item code,Rule code,Quantity,Occurred on\n{v1},2.1,missing_doc,1,2023-05-01\n");
    let dry = app.upload("/api/v1/incidents:bulk?dry_run=true", CSV, csv, None).await;
    dry.assert(200);
    assert_eq!(dry.body["rows"], 1);

    // Bytes that are neither UTF-8 nor GB18030 are refused, naming the line.
    let mut bad =
        format!("subject_id,item_code,rule_code,quantity,occurred_on\n{v1},1.1,L1,1,2023-02-01\n").into_bytes();
    bad.extend_from_slice(b"\xff\xff,1.1,L1,1,2023-02-01\n");
    let reply = app.upload("/api/v1/incidents:bulk", CSV, bad, None).await;
    reply.assert_problem(422, "request.csv_encoding", None);
    assert_eq!(reply.body["errors"][0]["row"], 3, "{}", reply.body);
}

/// A workbook of findings as a clerk fills it in: `headers`, then rows of cells (numbers, dates
/// and text as Excel stores them).
fn findings_workbook(sheet_name: &str, headers: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, header) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *header).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(text) => {
                    sheet.write_string(r, c, text.as_str()).unwrap();
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n).unwrap();
                }
                Cell::Date(y, m, d) => {
                    let at = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                    sheet.write_datetime_with_format(r, c, at, &date).unwrap();
                }
                Cell::Empty => {}
            }
        }
    }
    book.save_to_buffer().unwrap()
}

enum Cell {
    Text(String),
    Number(f64),
    Date(u16, u8, u8),
    Empty,
}

fn t(text: &str) -> Cell {
    Cell::Text(text.to_owned())
}

#[actix_web::test]
async fn an_xlsx_made_by_rust_xlsxwriter_is_uploaded_and_scored_to_the_cent() {
    let app = spawn_app().await;
    let (_, scheme, v1, v2) = seed_a_town(&app).await;
    // English labels and field names mixed; numbers as numbers, dates as Excel dates, and an
    // empty row in between (skipped, like a blank CSV line).
    let headers = [
        "Subject ID",
        "item_code",
        "Rule code",
        "Quantity",
        "Occurred on",
        "Source",
        "备注",
        "Quarter",
        "Rate",
        "Event",
    ];
    use Cell::{Date, Empty, Number};
    let rows = vec![
        vec![
            t(&v1),
            t("1.1"),
            t("L2"),
            Number(3.0),
            Date(2023, 7, 31),
            t("system_analysis"),
            t("7月系统分析，户信息错误"),
            Empty,
            Empty,
            Empty,
        ],
        vec![
            t(&v1),
            t("1.3"),
            t("error"),
            Number(7.0),
            Date(2023, 8, 15),
            t("higher_feedback"),
            t("上级反馈"),
            Empty,
            Empty,
            Empty,
        ],
        vec![Empty, Empty, Empty, Empty, Empty, Empty, Empty, Empty, Empty, Empty],
        vec![
            t(&v1),
            Number(1.2),
            Empty,
            Empty,
            Date(2023, 6, 30),
            Empty,
            Empty,
            t("Q2"),
            Number(85.5),
            Empty,
        ],
        vec![
            t(&v1),
            t("4.1"),
            t("city"),
            Empty,
            t("2023-11-01"),
            Empty,
            Empty,
            Empty,
            Empty,
            t("2023 防返贫监测先进"),
        ],
    ];
    let book = findings_workbook("Sheet1", &headers, &rows);
    let reply = app.upload("/api/v1/incidents:bulk", XLSX, book, None).await;
    reply.assert(201);
    assert_eq!(reply.body["rows"], 4);
    let events = app.get_ok("/api/v1/audit-events?entity=incident&limit=1000").await;
    let upload = find_by(&events.body["items"], "action", "bulk_create");
    assert_eq!(upload["after"]["format"], "xlsx");
    let stored = app.get_ok(&format!("/api/v1/incidents?subject_id={v1}&item=1.1")).await;
    assert_eq!(stored.body["items"][0]["occurred_on"], "2023-07-31");
    assert_eq!(stored.body["items"][0]["quantity"], 3);
    let stored = app.get_ok(&format!("/api/v1/incidents?subject_id={v1}&item=1.2")).await;
    assert_eq!(stored.body["items"][0]["rate"], "85.5", "{}", stored.body);

    scored_as_json_scores(&app, &scheme, &v1, &v2).await;

    // Not a workbook at all: 400, not a 500.
    let reply = app
        .upload("/api/v1/incidents:bulk", XLSX, b"PK\x03\x04 not really".to_vec(), None)
        .await;
    reply.assert_problem(400, "request.malformed_xlsx", None);
}

/// The error of a refused upload on `field`.
fn error_on<'a>(reply: &'a Value, field: &str) -> &'a Value {
    find_by(&reply["errors"], "field", field)
}

#[actix_web::test]
async fn bad_cells_are_named_as_excel_names_them_in_csv_and_xlsx() {
    let app = spawn_app().await;
    let (_, _, v1, _) = seed_a_town(&app).await;
    // Rows 2–16 good, row 5 an unknown rule (column E), row 17 a quantity that is no number
    // (column C): the cells C17 and E5.
    let headers = ["指标编号", "考核对象ID", "次数", "发生日期", "扣加分规则"];
    let mut csv = format!("{}\r\n", headers.join(","));
    let mut rows = Vec::new();
    for row in 2..=17 {
        let (quantity, rule) = match row {
            5 => ("1", "L9"),
            17 => ("很多", "L1"),
            _ => ("1", "L1"),
        };
        csv.push_str(&format!("1.1,{v1},{quantity},2023-03-{row:02},{rule}\r\n"));
        rows.push(vec![
            t("1.1"),
            t(&v1),
            quantity
                .parse::<f64>()
                .map(Cell::Number)
                .unwrap_or_else(|_| t(quantity)),
            Cell::Date(2023, 3, row as u8),
            t(rule),
        ]);
    }
    let from_csv = app.upload("/api/v1/incidents:bulk", CSV, gb18030(&csv), None).await;
    let from_xlsx = app
        .upload(
            "/api/v1/incidents:bulk",
            XLSX,
            findings_workbook("考核记录", &headers, &rows),
            None,
        )
        .await;
    for reply in [&from_csv, &from_xlsx] {
        reply.assert(422);
        let quantity = error_on(&reply.body, "quantity");
        assert_eq!(quantity["row"], 17, "{}", reply.body);
        assert_eq!(quantity["cell"], "C17", "{}", reply.body);
        assert_eq!(quantity["column"], "次数");
        assert_eq!(quantity["code"], "request.field_invalid");
        let rule = error_on(&reply.body, "rule_code");
        assert_eq!(rule["cell"], "E5", "{}", reply.body);
        assert_eq!(rule["column"], "扣加分规则");
        assert_eq!(rule["code"], "incident.rule_unknown");
        assert_eq!(reply.body["errors"].as_array().unwrap().len(), 2, "{}", reply.body);
    }
    assert_eq!(app.count("incidents").await, 0);

    // A quoted cell over two lines is one row in Excel: the row after it is still row 3.
    let csv = format!(
        "subject_id,item_code,rule_code,quantity,occurred_on,note\n\
         {v1},1.1,L1,1,2023-03-01,\"第一行\n第二行\"\n\
         {v1},1.1,L1,x,2023-03-02,\n"
    );
    let reply = app.upload("/api/v1/incidents:bulk", CSV, csv, None).await;
    reply.assert(422);
    let quantity = error_on(&reply.body, "quantity");
    assert_eq!(quantity["row"], 4, "the line the record starts on");
    assert_eq!(quantity["cell"], "D3", "{}", reply.body);
    // JSON rows have no cells.
    let reply = app
        .upload_json(
            "/api/v1/incidents:bulk",
            &json!([{"subject_id": v1, "item_code": "1.1", "rule_code": "L9", "occurred_on": "2023-03-01"}]),
            None,
        )
        .await;
    reply.assert(422);
    assert!(reply.body["errors"][0].get("cell").is_none(), "{}", reply.body);
}

#[actix_web::test]
async fn the_template_lists_the_callers_subjects_and_uploads_once_filled_in() {
    let app = spawn_app().await;
    let (town, scheme, v1, v2) = seed_a_town(&app).await;
    let other_town = app.org_unit("township", "大坪镇", None).await;
    let elsewhere = app.org_unit("village", "大坪村", Some(&other_town)).await;
    let clerk = app.user("tongshi-clerk", &town, "assessor").await;

    let zh = [("accept-language", "zh-CN")];
    let template = format!("/api/v1/incidents:template?scheme_id={scheme}");
    let reply = app.send("GET", &template, Some(&clerk), &zh, None).await;
    reply.assert(200);
    assert!(reply.content_type().starts_with(XLSX), "{}", reply.content_type());
    // Saved by a browser as 考核记录.xlsx.
    let disposition = reply.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.contains("filename*=UTF-8''%E8%80%83%E6%A0%B8%E8%AE%B0%E5%BD%95.xlsx"),
        "{disposition}"
    );
    let book = open(&reply.bytes);
    let names = book.sheet_names();
    assert_eq!(names, ["考核记录", "下拉列表", "填写说明"]);
    let data = sheet(&reply.bytes, "考核记录");
    let headers: Vec<String> = data[0].iter().map(text).collect();
    assert_eq!(
        &headers[..5],
        ["考核对象ID", "指标编号", "扣加分规则", "次数", "发生日期"]
    );
    let lists: Vec<String> = sheet(&reply.bytes, "下拉列表")
        .iter()
        .flat_map(|row| row.iter().map(text).collect::<Vec<_>>())
        .collect();
    for id in [&v1, &v2] {
        assert!(lists.contains(id), "the clerk's subject {id} is listed");
    }
    assert!(!lists.contains(&elsewhere), "another town's village is not listed");
    for code in ["1.1", "4.3", "L1", "missing_doc", "Q2", "daily_inspection", "deduction"] {
        assert!(lists.contains(&code.to_owned()), "{code} is offered");
    }
    // A rule code two items share is offered once, its meaning naming both.
    let shared = sheet(&reply.bytes, "下拉列表")
        .iter()
        .find_map(|row| {
            let at = row.iter().position(|c| text(c) == "missing_doc")?;
            row.get(at + 1).map(text)
        })
        .expect("missing_doc is listed");
    assert!(shared.contains("2.1") && shared.contains("3.1"), "{shared}");
    // The header row is frozen, the lists sheet hidden, the subject column a drop-down list.
    let first = part(&reply.bytes, "xl/worksheets/sheet1.xml");
    assert!(first.contains("ySplit=\"1\""), "frozen header");
    assert!(
        first.contains("<dataValidation") && first.contains("下拉列表"),
        "drop-down lists"
    );
    assert!(part(&reply.bytes, "xl/workbook.xml").contains("state=\"hidden\""));
    // The county admin's template lists the other town's village too.
    let county = app.get_with(&template, &zh).await;
    county.assert(200);
    let lists: Vec<String> = sheet(&county.bytes, "下拉列表")
        .iter()
        .flat_map(|row| row.iter().map(text).collect::<Vec<_>>())
        .collect();
    assert!(lists.contains(&elsewhere));

    // Filled in under the template's headers and sheet name, it uploads as the clerk.
    let mut row: Vec<Cell> = headers.iter().map(|_| Cell::Empty).collect();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    row[at("考核对象ID")] = t(&v1);
    row[at("指标编号")] = t("1.1");
    row[at("扣加分规则")] = t("L1");
    row[at("次数")] = Cell::Number(2.0);
    row[at("发生日期")] = Cell::Date(2023, 4, 1);
    row[at("来源")] = t("daily_inspection");
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let filled = findings_workbook("考核记录", &header_refs, &[row]);
    let reply = app.upload_as(&clerk, "/api/v1/incidents:bulk", XLSX, filled).await;
    reply.assert(201);
    assert_eq!(reply.body["created"], 1);

    // English on request; the other templates answer workbooks with their columns.
    let en = app
        .send(
            "GET",
            &format!("/api/v1/incidents:template?scheme_id={scheme}"),
            Some(&clerk),
            &[("accept-language", "en")],
            None,
        )
        .await;
    en.assert(200);
    let data = sheet(&en.bytes, "Findings");
    assert_eq!(text(&data[0][0]), "Subject ID");
    for (path, first_headers) in [
        (
            format!("/api/v1/scoresheets:template?scheme_id={scheme}"),
            ["考核活动ID", "考核对象ID"],
        ),
        ("/api/v1/ballots:template".to_owned(), ["考核活动ID", "考核对象ID"]),
        ("/api/v1/subjects:template".to_owned(), ["行标识", "对象类型"]),
    ] {
        let reply = app.send("GET", &path, Some(&clerk), &zh, None).await;
        reply.assert(200);
        let name = open(&reply.bytes).sheet_names()[0].clone();
        let data = sheet(&reply.bytes, &name);
        let headers: Vec<String> = data[0].iter().take(2).map(text).collect();
        assert_eq!(headers, first_headers, "{path}");
    }
    // A scheme outside the caller's reach is not found.
    let missing = app
        .get(
            "/api/v1/incidents:template?scheme_id=0193b0d2-0000-7000-8000-000000000999",
            &clerk,
        )
        .await;
    missing.assert(404);
}

#[actix_web::test]
async fn xlsx_exports_have_scores_as_numbers_beside_their_exact_text() {
    let app = spawn_app().await;
    let (_, scheme, v1, _) = seed_a_town(&app).await;
    app.upload_json("/api/v1/incidents:bulk", &same_findings_as_json(&v1), None)
        .await
        .assert(201);
    let (_, published) = scores(&app, &v1, &scheme, &[]).await;

    let results = format!("/api/v1/results?scheme_id={scheme}&format=xlsx");
    let (bytes, rows) = xlsx_export(&app, &results, "zh-CN", "考核结果").await;
    let headers = header_row(&rows);
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {headers:?}"))
    };
    let (shown, exact, id) = (column("公布得分"), column("公布得分(精确值)"), column("考核对象ID"));
    assert_eq!(exact, shown + 1);
    let row = rows.iter().find(|r| text(&r[id]) == v1).expect("the village's row");
    match &row[shown] {
        Data::Float(value) => assert_eq!(format!("{value:.2}"), published),
        other => panic!("the published score is a number, not {other:?}"),
    }
    assert_eq!(text(&row[exact]), published);
    assert!(part(&bytes, "xl/styles.xml").contains("formatCode=\"0.00\""));
    assert!(part(&bytes, "xl/worksheets/sheet1.xml").contains("ySplit=\"1\""));

    // Rankings in English: the sheet and headers follow Accept-Language.
    let rankings = format!("/api/v1/rankings?scheme_id={scheme}&format=xlsx");
    let (_, rows) = xlsx_export(&app, &rankings, "en", "Rankings").await;
    let headers = header_row(&rows);
    assert!(headers.contains(&"Published score".to_owned()), "{headers:?}");
    assert!(headers.contains(&"Published score (exact)".to_owned()), "{headers:?}");
    // CSV keeps field names, so an export uploads again as it is.
    let csv = app
        .get_with(
            &format!("/api/v1/results?scheme_id={scheme}"),
            &[("accept", "text/csv")],
        )
        .await;
    let text = String::from_utf8(csv.bytes[3..].to_vec()).unwrap();
    assert!(text.lines().next().unwrap().contains("published_score"));
}

#[actix_web::test]
async fn long_form_scoresheets_and_ballots_upload_from_xlsx_and_bad_items_name_their_cells() {
    let app = spawn_app().await;
    let (department, village) = department_and_village(&app).await;
    let secretary = app
        .post_as_admin(
            "/api/v1/subjects",
            &json!({"subject_type": "first_secretary", "name": "李明", "dispatched_by": department, "stationed_in": village}),
        )
        .await
        .assert(201)
        .id();
    let scheme = crate::data::id_of(&crate::data::instantiate(&app, "county-poverty", None).await);
    let evaluations = app.get_ok(&format!("/api/v1/evaluations?scheme_id={scheme}")).await;
    let find = |kind: &str| evaluations.item_where("kind", kind)["id"].as_str().unwrap().to_owned();
    let (half, democratic) = (find("half_year"), find("democratic"));

    let headers = ["考核活动ID", "考核对象ID", "评分人", "指标编号", "得分"];
    let items = [
        ("1", 14.0),
        ("2", 18.0),
        ("3", 14.0),
        ("4", 13.5),
        ("5", 5.0),
        ("6", 14.0),
        ("7", 13.0),
    ];
    let sheet_rows = |bad: bool| -> Vec<Vec<Cell>> {
        items
            .iter()
            .map(|(item, score)| {
                let (item, score) = match (*item, bad) {
                    ("3", true) => ("3", 999.0),
                    ("6", true) => ("66", *score),
                    _ => (*item, *score),
                };
                vec![
                    t(&half),
                    t(&secretary),
                    t("一组"),
                    Cell::Number(item.parse().unwrap()),
                    Cell::Number(score),
                ]
            })
            .collect()
    };
    let upload = |bad: bool| {
        let workbook = findings_workbook("评分表", &headers, &sheet_rows(bad));
        app.upload("/api/v1/scoresheets:bulk", XLSX, workbook, None)
    };
    // Item 3 (sheet row 4) scored out of range, an unknown item 66 on row 7: the score's cell
    // and the item's cell are named, though the sheet starts on row 2.
    let reply = upload(true).await;
    reply.assert(422);
    let cells: Vec<(String, String)> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_owned(),
                e["cell"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        cells.contains(&("scoresheet.score_out_of_range".to_owned(), "E4".to_owned())),
        "{}",
        reply.body
    );
    assert!(
        cells.contains(&("scoresheet.item_unknown".to_owned(), "D7".to_owned())),
        "{}",
        reply.body
    );

    let reply = upload(false).await;
    reply.assert(201);
    assert_eq!(
        (reply.body["rows"].clone(), reply.body["sheets"].clone()),
        (json!(7), json!(1))
    );

    // Ballots under English headers, scores as numbers (80.5 stays 80.5).
    let rows: Vec<Vec<Cell>> = (0..5)
        .map(|i| {
            vec![
                t(&democratic),
                t(&secretary),
                Cell::Number(80.5 + f64::from(i)),
                t(&format!("代表{i}")),
            ]
        })
        .collect();
    let book = findings_workbook(
        "Ballots",
        &["Evaluation ID", "Subject ID", "Score", "Participant"],
        &rows,
    );
    let reply = app.upload("/api/v1/ballots:bulk", XLSX, book, None).await;
    reply.assert(201);
    assert_eq!(reply.body["created"], 5);
    let listed = app
        .get_ok(&format!(
            "/api/v1/ballots?evaluation_id={democratic}&subject_id={secretary}"
        ))
        .await;
    let mut scores: Vec<String> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["score"].as_str().unwrap().to_owned())
        .collect();
    scores.sort();
    assert_eq!(scores, ["80.5", "81.5", "82.5", "83.5", "84.5"]);
}
