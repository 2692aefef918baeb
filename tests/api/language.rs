//! Issue 16: 中文 by default, English on request — problem titles, details and field messages,
//! bulk row errors and enumeration labels follow `Accept-Language`; codes stay as they are.

use serde_json::{json, Value};

use crate::helpers::{find_by, seed_a_scheme, spawn_app, Reply, TestApp, CSV, JSON, NDJSON};

/// No `Accept-Language` at all (the service's default).
const DEFAULT: &str = "";

/// A town on Seed A with a village; returns (scheme, village).
async fn seed_a(app: &TestApp) -> (String, String) {
    let town = app.org_unit("township", "童市镇", None).await;
    let village = app.org_unit("village", "童市村", Some(&town)).await;
    (seed_a_scheme(app, &town).await, village)
}

async fn post_in(app: &TestApp, language: &str, path: &str, body: &Value) -> Reply {
    let body = serde_json::to_vec(body).unwrap();
    let headers = [("content-type", JSON), ("accept-language", language)];
    app.post_with(path, &headers, body).await
}

async fn upload_in(app: &TestApp, language: &str, content_type: &str, body: &str) -> Reply {
    let headers = [("content-type", content_type), ("accept-language", language)];
    let body = Some(body.as_bytes().to_vec());
    app.send("POST", "/api/v1/incidents:bulk", Some(&app.admin), &headers, body)
        .await
}

fn assert_language(reply: &Reply, tag: &str) {
    assert_eq!(
        reply.header("content-language").as_deref(),
        Some(tag),
        "{:?}",
        reply.body
    );
    let vary: Vec<String> = reply
        .headers
        .get_all("vary")
        .filter_map(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .collect();
    let vary = vary.join(", ");
    assert!(vary.contains("accept-language"), "Vary: {vary}");
}

#[actix_web::test]
async fn problems_are_in_chinese_by_default_and_in_english_on_request() {
    let app = spawn_app().await;
    let (_, village) = seed_a(&app).await;
    let finding = json!({"subject_id": village, "item_code": "1.1", "rule_code": "L9", "quantity": 0,
                         "occurred_on": "2023-03-01"});

    let zh = post_in(&app, DEFAULT, "/api/v1/incidents", &finding).await;
    zh.assert_problem(422, "incident.rule_unknown", Some("rule_code"));
    assert_language(&zh, "zh-CN");
    assert_eq!(zh.body["title"], "rule_code 不是该指标的规则");
    assert_eq!(zh.body["errors"][0]["message"], "规则 L9 不是指标 1.1 的规则");
    assert_eq!(zh.body["errors"][1]["field"], "quantity");
    assert_eq!(zh.body["errors"][1]["message"], "quantity 须为 1 到 100000 之间的整数");
    assert_eq!(
        zh.body["detail"],
        "共 2 处错误；第一处（rule_code）：规则 L9 不是指标 1.1 的规则"
    );

    for language in ["en", "en-US,en;q=0.9", "fr;q=1, zh-CN;q=0.2, en;q=0.5"] {
        let en = post_in(&app, language, "/api/v1/incidents", &finding).await;
        en.assert_problem(422, "incident.rule_unknown", Some("rule_code"));
        assert_language(&en, "en");
        assert_eq!(en.body["title"], "rule_code is not a rule of the item", "{language}");
        assert_eq!(en.body["errors"][0]["message"], "rule L9 is not a rule of item 1.1");
        assert_eq!(
            en.body["errors"][1]["message"],
            "quantity must be a whole number from 1 to 100000"
        );
        // The codes and fields are the same in every language.
        assert_eq!(en.body["errors"][1]["code"], zh.body["errors"][1]["code"]);
    }

    // A particular that only the call site knows (the date and the scheme's year) is in the
    // Chinese text too.
    let late = json!({"subject_id": village, "item_code": "1.1", "rule_code": "L3", "occurred_on": "2024-01-03"});
    let zh = post_in(&app, "zh-CN,zh;q=0.9,en;q=0.8", "/api/v1/incidents", &late).await;
    zh.assert_problem(422, "incident.date_outside_year", Some("occurred_on"));
    assert_language(&zh, "zh-CN");
    assert_eq!(
        zh.body["errors"][0]["message"],
        "发生日期 2024-01-03 不在方案年度 2023 年内"
    );
    assert_eq!(zh.body["detail"], zh.body["errors"][0]["message"]);
    let en = post_in(&app, "en", "/api/v1/incidents", &late).await;
    let message = en.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("occurred_on 2024-01-03 is outside"), "{message}");

    // actix's own answers (an unknown path) and the authentication problems too.
    let headers = [("accept-language", DEFAULT)];
    let missing = app.get_with("/api/v1/no-such-thing", &headers).await;
    missing.assert_problem(404, "not_found", None);
    assert_eq!(missing.body["title"], "资源不存在，或不在您的权限范围内");
    assert_language(&missing, "zh-CN");
    let anonymous = app.send("GET", "/api/v1/subjects", None, &headers, None).await;
    anonymous.assert_problem(401, "auth.unauthorized", None);
    assert!(
        anonymous.body["detail"].as_str().unwrap().contains("令牌"),
        "{:?}",
        anonymous.body
    );
    let anonymous = app
        .send("GET", "/api/v1/subjects", None, &[("accept-language", "en")], None)
        .await;
    assert!(
        anonymous.body["title"].as_str().unwrap().starts_with("No token"),
        "{:?}",
        anonymous.body
    );
}

#[actix_web::test]
async fn a_bulk_upload_reports_its_row_errors_in_chinese() {
    let app = spawn_app().await;
    let (_, village) = seed_a(&app).await;
    let body = format!(
        "{{\"subject_id\":\"{village}\",\"item_code\":\"1.1\",\"rule_code\":\"L3\",\"occurred_on\":\"2023-02-01\"}}\n\
         {{\"subject_id\":\"{village}\",\"item_code\":\"1.1\",\"rule_code\":\"L9\",\"occurred_on\":\"2023-02-01\"}}\n\
         {{\"subject_id\":\"{village}\",\"item_code\":\"9.9\",\"occurred_on\":\"2023-02-01\"}}\n"
    );
    let zh = upload_in(&app, DEFAULT, NDJSON, &body).await;
    zh.assert(422);
    assert_language(&zh, "zh-CN");
    assert_eq!(
        zh.row_errors(),
        vec![
            (2, "rule_code".to_owned(), "incident.rule_unknown".to_owned()),
            (3, "item_code".to_owned(), "incident.item_unknown".to_owned()),
        ]
    );
    assert_eq!(zh.body["errors"][0]["message"], "规则 L9 不是指标 1.1 的规则");
    assert_eq!(zh.body["errors"][1]["message"], "指标 9.9 不在“村/社区”的考核细则中");
    let detail = zh.body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("共 2 处错误，未写入任何数据；第一处在第 2 行"),
        "{detail}"
    );

    let en = upload_in(&app, "en", NDJSON, &body).await;
    en.assert(422);
    assert_eq!(en.body["errors"][0]["message"], "rule L9 is not a rule of item 1.1");
    assert!(en.body["detail"].as_str().unwrap().contains("nothing was written"));

    // A value the parser refuses (the excel helper's `in_user_words`) is in Chinese too.
    let csv = format!("subject_id,item_code,rule_code,quantity,occurred_on\n{village},1.1,L3,many,2023-02-01\n");
    let zh = upload_in(&app, DEFAULT, CSV, &csv).await;
    zh.assert(422);
    let message = zh.body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.is_ascii(), "{message}");
    assert_eq!(zh.body["errors"][0]["row"], 2);
}

#[actix_web::test]
async fn the_vocabulary_labels_every_code_in_the_asked_language() {
    let app = spawn_app().await;
    let headers = [("accept-language", DEFAULT)];
    let zh = app.get_with("/api/v1/vocabulary", &headers).await;
    zh.assert(200);
    assert_language(&zh, "zh-CN");
    assert_eq!(zh.body["language"], "zh-CN");
    assert_eq!(zh.body["grade"][0], json!({"code": "excellent", "label": "优秀"}));
    assert_eq!(zh.body["prize"][0], json!({"code": "first", "label": "一等奖"}));
    let label_of = |body: &Value, list: &str, code: &str| -> String {
        find_by(&body[list], "code", code)["label"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        label_of(&zh.body, "consequence", "interview"),
        "约谈主要领导，诫勉分管领导"
    );
    assert_eq!(label_of(&zh.body, "incident_kind", "deduction"), "扣分");
    assert_eq!(label_of(&zh.body, "subject_type", "first_secretary"), "第一书记");

    let en = app.get("/api/v1/vocabulary", &app.admin).await;
    en.assert(200);
    assert_language(&en, "en");
    assert_eq!(en.body["grade"][0], json!({"code": "excellent", "label": "Excellent"}));
    assert_eq!(label_of(&en.body, "subject_type", "first_secretary"), "First secretary");
    // The same codes, in the same order, in both languages.
    for list in ["grade", "prize", "consequence", "incident_kind", "subject_type", "role"] {
        let codes = |body: &Value| -> Vec<Value> {
            body[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["code"].clone())
                .collect()
        };
        assert_eq!(codes(&zh.body), codes(&en.body), "{list}");
    }
}

#[actix_web::test]
async fn results_and_rankings_label_their_codes_in_the_asked_language() {
    use crate::data::{county_poverty_year, scored_town};
    let app = spawn_app().await;
    let (scheme, half, year_end) = county_poverty_year(&app).await;
    let mut towns = Vec::new();
    for (name, score) in [("一镇", 9500), ("二镇", 7200)] {
        towns.push(scored_town(&app, [&half, &year_end], name, [score, score]).await);
    }
    let path = format!("/api/v1/rankings?scheme_id={scheme}&ranking=townships");
    let in_language = |language: &'static str| {
        let path = path.clone();
        let app = &app;
        async move { app.get_with(&path, &[("accept-language", language)]).await }
    };
    let entry = |reply: &Reply, town: &str| -> Value {
        find_by(&reply.body["rankings"][0]["entries"], "subject_id", town).clone()
    };
    let zh = in_language(DEFAULT).await;
    zh.assert(200);
    assert_language(&zh, "zh-CN");
    assert_eq!(zh.body["rankings"][0]["subject_type_label"], "乡镇");
    assert_eq!(entry(&zh, &towns[0])["prize"]["label"], "一等奖");
    let low = entry(&zh, &towns[1]);
    assert_eq!(low["consequences"], json!(["interview"]), "{low}");
    assert_eq!(low["consequence_labels"], json!(["约谈主要领导，诫勉分管领导"]));
    assert_eq!(low["consequence_details"][0]["label"], "约谈主要领导，诫勉分管领导");

    let en = in_language("en").await;
    en.assert(200);
    assert_language(&en, "en");
    assert_ne!(
        en.header("etag"),
        zh.header("etag"),
        "each language is its own representation"
    );
    assert_eq!(en.body["rankings"][0]["subject_type_label"], "Township");
    assert_eq!(entry(&en, &towns[0])["prize"]["label"], "First prize");
    // The scheme's own Chinese title and the codes are the same in both.
    assert_eq!(entry(&en, &towns[0])["prize"]["title"], "一等奖");
    assert_eq!(entry(&en, &towns[0])["prize"]["key"], "first");
    let low = entry(&en, &towns[1]);
    assert_eq!(
        low["consequence_labels"],
        json!(["Principal leader interviewed, deputy leader admonished"])
    );

    // The results list labels the same codes.
    let list = app
        .get_with(
            &format!("/api/v1/results?scheme_id={scheme}&subject_type=township"),
            &[("accept-language", DEFAULT)],
        )
        .await;
    list.assert(200);
    let row = find_by(&list.body["items"], "subject_id", &towns[1]);
    assert_eq!(row["subject_type_label"], "乡镇");
    assert_eq!(row["consequence_labels"], json!(["约谈主要领导，诫勉分管领导"]));
}
