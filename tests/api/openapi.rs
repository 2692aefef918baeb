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
