//! What makes the collected OpenAPI document one that client generators read as meant: tagged
//! unions as discriminated unions of named variants, pages that reference their item schema,
//! export media types with their schemas, bulk uploads' CSV and NDJSON bodies as the files they
//! are, every problem code as an enum, an example of its own status on every error response, and
//! a description on every operation.

use std::collections::BTreeMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{
    ArrayItems, Discriminator, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Components, OpenApi, Ref, RefOr};

use crate::error::{PROBLEM_CODES, PROBLEM_JSON};

/// Every refinement, in order (the problem components must exist before their examples).
pub fn refine(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    discriminate_unions(components);
    page_items_by_reference(components);
    problem_codes(components);
    let components = components.clone();
    for operation in operations(doc) {
        export_media_types(operation);
        upload_media_types(operation, &components);
        problem_examples(operation);
        describe(operation);
        async_exports(operation);
    }
}

fn operations(doc: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
    })
}

/// A `oneOf` whose every variant carries one required property with a single string value (an
/// internally tagged serde enum: `{"type": "deduction", …}`) becomes a `oneOf` of `$ref`s to
/// named variants (`MethodDeduction`) with a `discriminator` mapping each value to its variant.
/// Generators read an inline `allOf` inside a `oneOf` poorly; this they all read.
fn discriminate_unions(components: &mut Components) {
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in names {
        let Some(RefOr::T(Schema::OneOf(union))) = components.schemas.get(&name) else {
            continue;
        };
        let Some((tag, values)) = tag_of_union(&union.items) else {
            continue;
        };
        let mut union = union.clone();
        let mut mapping = BTreeMap::new();
        let mut items = Vec::with_capacity(union.items.len());
        for (variant, value) in std::mem::take(&mut union.items).into_iter().zip(values) {
            let mut variant_name = format!("{name}{}", pascal_case(&value));
            if components.schemas.contains_key(&variant_name) {
                variant_name.push_str("Variant");
            }
            components.schemas.insert(variant_name.clone(), variant);
            mapping.insert(value, format!("#/components/schemas/{variant_name}"));
            items.push(RefOr::Ref(Ref::from_schema_name(variant_name)));
        }
        union.items = items;
        let mut discriminator = Discriminator::new(tag);
        discriminator.mapping = mapping;
        union.discriminator = Some(discriminator);
        components.schemas.insert(name, RefOr::T(Schema::OneOf(union)));
    }
}

/// The property every variant is tagged by, and each variant's value, if there is one.
fn tag_of_union(variants: &[RefOr<Schema>]) -> Option<(String, Vec<String>)> {
    let tags: Vec<Vec<(String, String)>> = variants.iter().map(tags_of_variant).collect::<Option<_>>()?;
    let candidates = tags.first()?.iter().map(|(property, _)| property.clone());
    for property in candidates {
        let values: Option<Vec<String>> = tags
            .iter()
            .map(|t| t.iter().find(|(p, _)| *p == property).map(|(_, v)| v.clone()))
            .collect();
        if let Some(values) = values {
            let mut distinct = values.clone();
            distinct.sort();
            distinct.dedup();
            if distinct.len() == values.len() {
                return Some((property, values));
            }
        }
    }
    None
}

/// The required single-valued string properties of an object variant (or of the object parts
/// of an `allOf` variant).
fn tags_of_variant(variant: &RefOr<Schema>) -> Option<Vec<(String, String)>> {
    fn of_object(object: &Object) -> Vec<(String, String)> {
        object
            .properties
            .iter()
            .filter(|(name, _)| object.required.contains(name))
            .filter_map(|(name, schema)| match schema {
                RefOr::T(Schema::Object(p)) => match p.enum_values.as_deref() {
                    Some([serde_json::Value::String(value)]) => Some((name.clone(), value.clone())),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }
    match variant {
        RefOr::T(Schema::Object(object)) => Some(of_object(object)),
        RefOr::T(Schema::AllOf(all)) => Some(
            all.items
                .iter()
                .filter_map(|part| match part {
                    RefOr::T(Schema::Object(object)) => Some(of_object(object)),
                    _ => None,
                })
                .flatten()
                .collect(),
        ),
        _ => None,
    }
}

/// `rate_band` → `RateBand`.
fn pascal_case(value: &str) -> String {
    value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// utoipa inlines a generic's argument: `Page_Subject` would list anonymous objects. Its items
/// reference the item's own schema instead, so a generated client's page holds `Subject`s.
fn page_items_by_reference(components: &mut Components) {
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in names {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if !components.schemas.contains_key(item) {
            continue;
        }
        let item = item.to_owned();
        if let Some(RefOr::T(Schema::Object(page))) = components.schemas.get_mut(&name) {
            if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
                items.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
            }
        }
    }
}

/// `ProblemCode`, the enum of every problem code with its meaning (`x-enum-descriptions`, in the
/// enum's order), referenced by the `code` of `Problem` and `FieldError`.
fn problem_codes(components: &mut Components) {
    let mut description = String::from(
        "Stable machine code of a problem (RFC 9457 `code`, also each `errors[].code`). Each value's \
         meaning is in `x-enum-descriptions`, in the same order:\n",
    );
    for (code, meaning) in PROBLEM_CODES {
        description.push_str(&format!("\n- `{code}`: {meaning}"));
    }
    let mut schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(PROBLEM_CODES.iter().map(|(code, _)| *code)))
        .examples(["incident.rule_unknown"])
        .build();
    schema.extensions = Some(
        [(
            "x-enum-descriptions".to_owned(),
            serde_json::json!(PROBLEM_CODES.iter().map(|(_, meaning)| *meaning).collect::<Vec<_>>()),
        )]
        .into_iter()
        .collect(),
    );
    components
        .schemas
        .insert("ProblemCode".to_owned(), RefOr::T(Schema::Object(schema)));
    for name in ["Problem", "FieldError"] {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
            if let Some(code) = object.properties.get_mut("code") {
                *code = RefOr::Ref(Ref::from_schema_name("ProblemCode"));
            }
        }
    }
}

/// An example problem of each status the API answers with, in the default language (中文; the
/// English `detail` below is what `Accept-Language: en` gets).
pub fn example_problem(status: u16) -> Option<serde_json::Value> {
    use serde_json::json;
    let zh = crate::i18n::Lang::ZhCn;
    let title_of = |code: &str| zh.text(&crate::error::problem_text_id(code)).unwrap_or_default();
    let text = |code: &str, args: &[(&'static str, &str)], english: &str| {
        let args: crate::error::Args = args.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        crate::error::problem_text(zh, code, &args, english)
    };
    let (code, detail, instance) = match status {
        400 => (
            "request.malformed_json",
            "the body is not valid JSON: expected value at line 1 column 1",
            "/api/v1/incidents",
        ),
        401 => (
            "auth.unauthorized",
            "the token is missing, invalid or expired",
            "/api/v1/subjects",
        ),
        403 => (
            "auth.forbidden",
            "a viewer may not record findings",
            "/api/v1/incidents",
        ),
        404 => (
            "not_found",
            "subject not found",
            "/api/v1/subjects/0193b0d2-0000-7000-8000-000000000001",
        ),
        409 => (
            "incident.already_revoked",
            "the finding is already revoked",
            "/api/v1/incidents/0193b0d2-0000-7000-8000-000000000002/revoke",
        ),
        412 => (
            "precondition_failed",
            "version 3 is outdated: the subject is at version 4",
            "/api/v1/subjects/0193b0d2-0000-7000-8000-000000000001",
        ),
        413 => (
            "request.too_large",
            "the body exceeds 1048576 bytes",
            "/api/v1/incidents",
        ),
        415 => (
            "request.unsupported_media_type",
            "send the body as application/json",
            "/api/v1/incidents",
        ),
        416 => (
            "evidence.range_unsatisfiable",
            "the range starts beyond the end: the file has 1024 bytes",
            "/api/v1/evidence/0193b0d2-0000-7000-8000-000000000003/content",
        ),
        428 => (
            "precondition_required",
            "send If-Match with the ETag you read (or version)",
            "/api/v1/subjects/0193b0d2-0000-7000-8000-000000000001",
        ),
        429 => (
            "auth.rate_limited",
            "too many failed attempts; try again later",
            "/api/v1/auth/token",
        ),
        503 => (
            "database.unavailable",
            "the database is unavailable; retry shortly",
            "/api/v1/results",
        ),
        422 => {
            let code = "incident.rule_unknown";
            let message = text(
                code,
                &[("rule", "L9"), ("item", "1.1")],
                "rule L9 is not a rule of item 1.1",
            );
            return Some(json!({
                "type": "urn:kaohe:problem:incident.rule_unknown",
                "title": title_of(code),
                "status": 422,
                "detail": message,
                "instance": "/api/v1/incidents",
                "code": code,
                "request_id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e11",
                "errors": [{"field": "rule_code", "code": code, "message": message}]
            }));
        }
        _ => return None,
    };
    let args: &[(&'static str, &str)] = match code {
        "evidence.range_unsatisfiable" => &[("size", "1024")],
        _ => &[],
    };
    Some(json!({
        "type": format!("urn:kaohe:problem:{code}"),
        "title": title_of(code),
        "status": status,
        "detail": text(code, args, detail),
        "instance": instance,
        "code": code,
        "request_id": "0193b0d2-7a1e-7c3e-9d52-1f0c2b7d4e11",
    }))
}

/// A problem response an operation declares itself (not a shared component) shows an example of
/// its own status.
fn problem_examples(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        let Some(RefOr::T(content)) = response.content.get_mut(PROBLEM_JSON) else {
            continue;
        };
        if content.example.is_none() {
            content.example = status.parse().ok().and_then(example_problem);
        }
    }
}

/// An export (an operation answering CSV) may be asked for with `Prefer: respond-async`: it then
/// answers 202 with the background job that makes the file (`api::jobs::exports`). Said in the
/// operation's description, not as a 202 response or a `Prefer` parameter: a generated client
/// would otherwise type every list answer as "a page or a job", and a fuzzer sending the header
/// with a bad query would get the 202 of a job that then fails, where a 4xx is promised.
fn async_exports(operation: &mut Operation) {
    let exports = operation.responses.responses.get("200").is_some_and(|r| match r {
        RefOr::T(r) => r.content.contains_key("text/csv"),
        RefOr::Ref(_) => false,
    });
    let own_result = operation.operation_id.as_deref() == Some("getJobResult");
    if !exports || own_result {
        return;
    }
    let note = "As a background job: send `Prefer: respond-async` (RFC 7240) with an export \
                (CSV, NDJSON or .xlsx by `Accept` or `format`) and the answer is `202 Accepted` with \
                the `Job` that makes the file (`Location: /api/v1/jobs/{id}`); follow it (`getJob`, \
                `followJob`) and download the file from `getJobResult`.";
    let description = operation.description.get_or_insert_with(String::new);
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(note);
}

/// Exports are text (CSV, NDJSON) or binary (XLSX), each declared with its own schema.
fn export_media_types(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else { continue };
        for (media, content) in response.content.iter_mut() {
            let RefOr::T(content) = content else { continue };
            let schema = match media.as_str() {
                "text/csv" => ObjectBuilder::new().schema_type(Type::String).description(Some(
                    "CSV: UTF-8 with a BOM, RFC 4180 quoting, a header row (`headers=zh` for Chinese \
                     column names)",
                )),
                super::export::NDJSON => ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("NDJSON: one JSON object per line, with the JSON answer's types")),
                super::export::XLSX => ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                    .description(Some("An Excel workbook (binary)")),
                _ => continue,
            };
            content.schema = Some(RefOr::T(Schema::Object(schema.build())));
        }
    }
}

/// The media type extension naming the schema of each line of an NDJSON body: OpenAPI 3.2's
/// `itemSchema`, which a 3.1 document cannot carry under its own name.
pub const ITEM_SCHEMA: &str = "x-itemSchema";

/// CSV columns of an upload whose CSV rows are not its JSON rows (`ScoreRow` in `bulk`).
const CSV_COLUMNS: &[(&str, &str)] = &[(
    "bulkCreateScoresheets",
    "long form, one item's score per row: `evaluation_id`, `subject_id`, `item_code`, `score` \
     (required), `assessor`, `note`; consecutive rows of one evaluation, subject and assessor make \
     one sheet",
)];

/// A bulk upload's CSV and NDJSON bodies are text files sent as they are: `type: string` with
/// `format: binary` (so generators take a file's bytes rather than a JSON value), described in
/// the row schema of the JSON array body. A CSV body names its columns in its description; an
/// NDJSON body names its line schema there and in `x-itemSchema`.
fn upload_media_types(operation: &mut Operation, components: &Components) {
    let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
        return;
    };
    let row = body.content.get("application/json").and_then(|json| match json {
        RefOr::T(content) => match content.schema.as_ref()? {
            RefOr::T(Schema::Array(array)) => match &array.items {
                ArrayItems::RefOrSchema(item) => match item.as_ref() {
                    RefOr::Ref(item) => Some(item.ref_location.clone()),
                    RefOr::T(_) => None,
                },
                ArrayItems::False => None,
            },
            _ => None,
        },
        RefOr::Ref(_) => None,
    });
    let Some(row) = row else { return };
    let name = row.rsplit('/').next().unwrap_or_default().to_owned();
    let operation_id = operation.operation_id.clone().unwrap_or_default();
    let file = |description: String| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some(description))
            .build()
    };
    for (media, content) in body.content.iter_mut() {
        let RefOr::T(content) = content else { continue };
        match media.as_str() {
            "text/csv" => {
                let columns = CSV_COLUMNS
                    .iter()
                    .find(|(id, _)| *id == operation_id)
                    .map(|(_, columns)| (*columns).to_owned())
                    .unwrap_or_else(|| csv_columns(&name, components));
                content.schema = Some(RefOr::T(Schema::Object(file(format!(
                    "CSV: a text file in UTF-8 (a BOM is allowed) or GB18030/GBK (as Excel on \
                     Chinese Windows saves it), RFC 4180 quoting. Line 1 is a header row naming the \
                     columns, in any order, by field name or by its Chinese or English label; each \
                     further record is one row, and an empty cell leaves an optional field out. \
                     Problems name the row by its line, the column, and the cell as Excel names it \
                     (`cell`, e.g. `C17`). Columns: {columns}."
                )))));
            }
            super::export::XLSX => {
                content.schema = Some(RefOr::T(Schema::Object(file(
                    "An Excel workbook (.xlsx, e.g. the `:template` of this upload filled in): the \
                     sheet named as the template's, else the first; row 1 is the header row as in \
                     CSV, each further non-empty row one row. Numbers are read as Excel shows them \
                     (2.5 is 2.5), dates as YYYY-MM-DD. Problems name the row as the sheet numbers \
                     it and the cell (`cell`, e.g. `C17`). Columns: as in CSV."
                        .to_owned(),
                ))));
            }
            super::export::NDJSON => {
                content.schema = Some(RefOr::T(Schema::Object(file(format!(
                    "NDJSON: a UTF-8 text file of one JSON object per line, each of the schema \
                     `{name}` (the media type's `{ITEM_SCHEMA}`); blank lines are skipped. Problems name the row \
                     by its line (the first line is 1)."
                )))));
                content
                    .extensions
                    .get_or_insert_with(Default::default)
                    .insert(ITEM_SCHEMA.to_owned(), serde_json::json!({ "$ref": row }));
            }
            _ => {}
        }
    }
}

/// The CSV columns of a row schema: its fields, the required first. A list field's cell holds
/// one value; a map has no cell.
fn csv_columns(name: &str, components: &Components) -> String {
    let Some(RefOr::T(Schema::Object(row))) = components.schemas.get(name) else {
        return format!("the fields of `{name}`");
    };
    let (mut required, mut optional, mut lists, mut maps) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (field, schema) in &row.properties {
        let quoted = format!("`{field}`");
        match schema {
            RefOr::T(Schema::Array(_)) => lists.push(quoted),
            RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Object) => maps.push(quoted),
            _ if row.required.contains(field) => required.push(quoted),
            _ => optional.push(quoted),
        }
    }
    let mut columns = format!("the fields of `{name}`: {} (required)", required.join(", "));
    for field in optional.iter().chain(&lists) {
        columns.push_str(&format!(", {field}"));
    }
    if !lists.is_empty() {
        columns.push_str(&format!(" ({}: one value in a CSV cell)", lists.join(", ")));
    }
    if !maps.is_empty() {
        columns.push_str(&format!("; {} only in JSON or NDJSON", maps.join(", ")));
    }
    columns
}

/// An operation documented by its summary alone gets a description saying what it answers.
fn describe(operation: &mut Operation) {
    if operation.description.as_deref().is_some_and(|d| !d.trim().is_empty()) {
        return;
    }
    let summary = operation.summary.clone().unwrap_or_default();
    let answers: Vec<String> = operation
        .responses
        .responses
        .iter()
        .filter(|(status, _)| status.starts_with('2') || status.as_str() == "304")
        .filter_map(|(status, response)| match response {
            RefOr::T(r) => Some(format!("{status}: {}", r.description.trim_end_matches('.'))),
            RefOr::Ref(_) => None,
        })
        .collect();
    let mut description = format!("{}.", summary.trim_end_matches('.'));
    if !answers.is_empty() {
        description.push_str(&format!(" Answers {}", answers.join("; ")));
        description.push('.');
    }
    description.push_str(" Errors are RFC 9457 problems (`application/problem+json`), listed below.");
    operation.description = Some(description);
}

#[cfg(test)]
mod tests {
    use super::ITEM_SCHEMA;

    /// Every bulk upload's CSV and NDJSON bodies are files: the CSV names the required fields of
    /// its rows as columns, the NDJSON names its line schema, the JSON array's item.
    #[test]
    fn bulk_bodies_are_files_described_by_their_rows() {
        let doc = serde_json::to_value(super::super::openapi("http://localhost")).unwrap();
        let mut uploads = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let Some(content) = item["post"]["requestBody"]["content"].as_object() else {
                continue;
            };
            let (Some(csv), Some(ndjson)) = (content.get("text/csv"), content.get("application/x-ndjson")) else {
                continue;
            };
            uploads += 1;
            let row = &content["application/json"]["schema"]["items"]["$ref"];
            assert!(row.is_string(), "{path}: a JSON array of rows");
            for (media, body) in [("text/csv", csv), ("application/x-ndjson", ndjson)] {
                assert_eq!(
                    (body["schema"]["type"].as_str(), body["schema"]["format"].as_str()),
                    (Some("string"), Some("binary")),
                    "{path} {media}"
                );
            }
            assert_eq!(&ndjson[ITEM_SCHEMA]["$ref"], row, "{path}");
            let name = row.as_str().unwrap().rsplit('/').next().unwrap();
            let described = ndjson["schema"]["description"].as_str().unwrap();
            assert!(described.contains(&format!("`{name}`")), "{path}: {described}");
            let columns = csv["schema"]["description"].as_str().unwrap();
            let required = doc["components"]["schemas"][name]["required"].as_array().unwrap();
            for field in required.iter().map(|f| f.as_str().unwrap()) {
                // A long-form scoresheet row has a score per item, not the map of scores.
                if !(name == "NewScoresheet" && field == "scores") {
                    assert!(columns.contains(&format!("`{field}`")), "{path}: {field} in {columns}");
                }
            }
        }
        assert_eq!(uploads, 5);
    }
}
