//! The committed OpenAPI document must be what the code generates.

#[test]
fn committed_document_matches_the_code() {
    let settings = kaohe::config::Settings::defaults().unwrap();
    let generated = kaohe::api::openapi(&settings.server.public_url)
        .to_pretty_json()
        .unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap_or_default();
    assert!(
        generated.trim() == committed.trim(),
        "openapi/openapi.json is out of date: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_is_documented_completely() {
    let doc: serde_json::Value =
        serde_json::from_str(&kaohe::api::openapi("http://127.0.0.1:8080").to_json().unwrap()).unwrap();
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(operation_ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{id} has no tag");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id} has no summary"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|c| c.starts_with('2') || c == "304"),
                "{id} has no success response"
            );
            if path.starts_with("/api/")
                && path != "/api/v1/auth/token"
                && !op.get("security").is_some_and(|s| s == &serde_json::json!([{}]))
            {
                assert!(responses.contains_key("401"), "{id} does not document 401");
            }
            let literal: String = path.split('/').filter(|seg| !seg.starts_with('{')).collect();
            assert!(
                !literal.chars().any(|c| c.is_ascii_uppercase() || c == '_'),
                "{path} is not kebab-case"
            );
        }
    }
}

#[test]
fn every_reference_resolves() {
    let doc: serde_json::Value =
        serde_json::from_str(&kaohe::api::openapi("http://127.0.0.1:8080").to_json().unwrap()).unwrap();
    fn walk(node: &serde_json::Value, doc: &serde_json::Value, at: &str) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                    let pointer = target.strip_prefix('#').unwrap_or(target);
                    assert!(
                        doc.pointer(pointer).is_some(),
                        "{at} refers to {target}, which is missing"
                    );
                }
                for (key, value) in map {
                    walk(value, doc, &format!("{at}/{key}"));
                }
            }
            serde_json::Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    walk(value, doc, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }
    walk(&doc, &doc, "#");
}

fn document() -> serde_json::Value {
    serde_json::from_str(&kaohe::api::openapi("http://127.0.0.1:8080").to_json().unwrap()).unwrap()
}

/// Every problem code the service can emit is in the document's `ProblemCode` enum, with its
/// meaning, and `Problem.code` and `FieldError.code` are that enum. (`error::codes` scans the
/// sources for codes missing from the registry the enum is made from.)
#[test]
fn every_problem_code_is_an_enum_value_with_its_meaning() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let codes = &schemas["ProblemCode"];
    let values: Vec<&str> = codes["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let meanings = codes["x-enum-descriptions"].as_array().unwrap();
    let registry: Vec<&str> = kaohe::error::PROBLEM_CODES.iter().map(|(code, _)| *code).collect();
    assert_eq!(values, registry);
    assert_eq!(meanings.len(), values.len());
    assert!(values.len() > 140, "{} codes", values.len());
    for (code, meaning) in kaohe::error::PROBLEM_CODES {
        assert!(codes["description"]
            .as_str()
            .unwrap()
            .contains(&format!("`{code}`: {meaning}")));
    }
    for schema in ["Problem", "FieldError"] {
        assert_eq!(
            schemas[schema]["properties"]["code"]["$ref"], "#/components/schemas/ProblemCode",
            "{schema}"
        );
    }
}

/// Each error response of each operation shows an example problem of its own status, with a
/// registered code: a 401 an auth problem, a 429 the rate limit, a 503 the database.
#[test]
fn every_error_response_shows_an_example_of_its_own_status() {
    let doc = document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if !status.starts_with('4') && !status.starts_with('5') {
                    continue;
                }
                let response = match response["$ref"].as_str() {
                    Some(target) => doc.pointer(target.trim_start_matches('#')).unwrap(),
                    None => response,
                };
                let example = &response["content"]["application/problem+json"]["example"];
                assert_eq!(
                    example["status"].to_string(),
                    *status,
                    "{method} {path} {status}: {example}"
                );
                let code = example["code"].as_str().unwrap();
                assert!(kaohe::error::is_registered(code), "{code}");
                checked += 1;
            }
        }
    }
    assert!(checked > 400, "{checked} error responses");
    let example = |name: &str| {
        doc["components"]["responses"][name]["content"]["application/problem+json"]["example"]["code"].clone()
    };
    assert_eq!(example("Unauthorized"), "auth.unauthorized");
    assert_eq!(example("TooManyRequests"), "auth.rate_limited");
    assert_eq!(example("ServiceUnavailable"), "database.unavailable");
}

/// What generators need: an ASCII title (a package name), tagged unions as `oneOf` of `$ref`s
/// with a discriminator mapping, pages that reference their items, a description on every
/// operation, and exports declared with their media types.
#[test]
fn the_document_is_one_client_generators_read_as_meant() {
    let doc = document();
    assert!(doc["info"]["title"].as_str().unwrap().is_ascii());
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        let Some(variants) = schema["oneOf"].as_array() else {
            continue;
        };
        let inline_all_of = variants.iter().any(|v| v.get("allOf").is_some());
        assert!(!inline_all_of, "{name} is a oneOf of inline allOf");
    }
    for (union, tag) in [
        ("Node", "kind"),
        ("Method", "type"),
        ("EvaluationOutcome", "type"),
        ("NodeResult", "kind"),
    ] {
        let schema = &schemas[union];
        assert_eq!(schema["discriminator"]["propertyName"], tag, "{union}");
        let mapping = schema["discriminator"]["mapping"].as_object().unwrap();
        let variants = schema["oneOf"].as_array().unwrap();
        assert_eq!(mapping.len(), variants.len(), "{union}");
        for variant in variants {
            let target = variant["$ref"].as_str().unwrap_or_else(|| panic!("{union}: {variant}"));
            assert!(mapping.values().any(|m| m == target), "{union}: {target}");
        }
    }
    for (name, schema) in schemas.iter().filter(|(name, _)| name.starts_with("Page_")) {
        let item = name.trim_start_matches("Page_");
        assert_eq!(
            schema["properties"]["items"]["items"]["$ref"],
            format!("#/components/schemas/{item}"),
            "{name}"
        );
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["description"].as_str().is_some_and(|d| !d.trim().is_empty()),
                "{method} {path} has no description"
            );
        }
    }
    let rankings = &doc["paths"]["/api/v1/rankings"]["get"]["responses"]["200"]["content"];
    assert_eq!(rankings["text/csv"]["schema"]["type"], "string");
    assert_eq!(rankings["application/x-ndjson"]["schema"]["type"], "string");
    let xlsx = &rankings["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]["schema"];
    assert_eq!(
        (xlsx["type"].as_str(), xlsx["format"].as_str()),
        (Some("string"), Some("binary"))
    );
}
