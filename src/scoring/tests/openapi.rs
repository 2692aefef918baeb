//! The engine's types render as an OpenAPI document: recursive trees terminate and every
//! decimal is the `DecimalString` schema.

use utoipa::OpenApi;

use crate::decimal::DecimalString;
use crate::schemes::{SchemeError, ValidationProblem};
use crate::scoring::{
    AnnualInputs, ComputeOptions, RankingCandidate, RankingEntry, RankingRules, RubricResult, SchemeDefinition,
    YearData, YearResults,
};

#[derive(OpenApi)]
#[openapi(components(schemas(
    DecimalString,
    SchemeDefinition,
    YearData,
    ComputeOptions,
    YearResults,
    RubricResult,
    AnnualInputs,
    RankingCandidate,
    RankingRules,
    RankingEntry,
    ValidationProblem,
    SchemeError
)))]
struct EngineDocument;

#[test]
fn engine_types_render_as_openapi_schemas() {
    let document = EngineDocument::openapi();
    let json = serde_json::to_value(&document).expect("serialises");
    let schemas = json["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "Rubric",
        "Node",
        "Section",
        "Item",
        "Method",
        "FormulaNode",
        "NodeResult",
        "FormulaResult",
        "Finding",
    ] {
        assert!(schemas.contains_key(name), "missing schema {name}");
    }
    let item = serde_json::to_string(&schemas["Item"]).expect("item");
    assert!(item.contains("#/components/schemas/DecimalString"), "{item}");
    assert!(!item.contains("\"number\""), "decimals must not be numbers: {item}");
    let text = serde_json::to_string(&json).expect("document");
    assert!(text.contains("到户基本信息(含易地后扶)维护"), "examples are present");
}
