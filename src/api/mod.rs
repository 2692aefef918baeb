//! The HTTP edge: one module per resource, each registering its handlers; the OpenAPI document
//! is collected from those handlers (utoipa-actix-web), so no path can be forgotten.

pub mod audit;
pub mod auth;
pub mod bulk;
pub mod document;
pub mod endpoints;
pub mod evaluations;
pub mod evidence;
pub mod export;
pub mod health;
pub mod idempotency;
pub mod incidents;
pub mod jobs;
pub mod listing;
pub mod org_units;
pub mod publications;
pub mod results;
pub mod schemes;
pub mod service_accounts;
pub mod subjects;
pub mod templates;
pub mod users;
pub mod vocabulary;
pub mod webhooks;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::{Payload, ResourceDef};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi, ServerBuilder, Tag};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, FieldError};

/// Registers every route under `/api/v1` and the operational ones outside it.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(health::configure);
    cfg.service(
        // actix tries resources in registration order, matching each `{id}` pattern by regex:
        // the most requested reads (results, rankings) come first.
        utoipa_actix_web::scope("/api/v1")
            .configure(results::configure)
            .configure(auth::configure)
            .configure(org_units::configure)
            .configure(users::configure)
            .configure(service_accounts::configure)
            .configure(subjects::configure)
            .configure(schemes::configure)
            .configure(incidents::configure)
            .configure(evaluations::configure)
            .configure(publications::configure)
            .configure(bulk::configure)
            .configure(jobs::configure)
            .configure(templates::configure)
            .configure(evidence::configure)
            .configure(audit::configure)
            .configure(vocabulary::configure)
            .configure(webhooks::configure),
    );
}

/// The documented methods of every path. actix routes by path and method together, so a known
/// path asked with another method would fall through to 404 (RFC 9110 wants 405 with `Allow`).
pub struct Routes(Vec<(ResourceDef, Vec<&'static str>)>);

impl Routes {
    pub fn of(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let allowed = methods.into_iter().filter(|(_, has)| *has).map(|(m, _)| m).collect();
                (ResourceDef::new(path.as_str()), allowed)
            })
            .collect();
        Self(routes)
    }

    /// The methods of the documented path a request path is (`GET, PATCH`), if any. A literal
    /// segment beats a parameter: `/api/v1/users/me` is not `/api/v1/users/{id}`.
    fn allowed(&self, path: &str) -> Option<&[&'static str]> {
        self.0
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .min_by_key(|(def, _)| def.pattern().unwrap_or("").matches('{').count())
            .map(|(_, methods)| methods.as_slice())
    }

    /// 405 with `Allow` when the request's path is documented but not with its method.
    pub fn method_not_allowed(&self, req: &HttpRequest) -> Option<ApiError> {
        let allowed = self.allowed(req.path())?;
        (!allowed.contains(&req.method().as_str())).then(|| ApiError::method_not_allowed(allowed.join(", ")))
    }
}

/// What no route took: 405 with `Allow` on a documented path, 404 elsewhere.
pub async fn unmatched(req: HttpRequest, routes: web::Data<Routes>) -> Result<HttpResponse, ApiError> {
    Err(routes
        .method_not_allowed(&req)
        .unwrap_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no resource at this path")))
}

/// The OpenAPI document's frame; paths and schemas are added from the handlers.
pub fn document_base(public_url: &str) -> OpenApi {
    let mut doc = OpenApi::new(
        InfoBuilder::new()
            // An ASCII title: generators derive a package name from it (`kaohe-api-client`).
            .title("kaohe API")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(include_str!("openapi_description.md")))
            .contact(Some(
                utoipa::openapi::ContactBuilder::new()
                    .name(Some("kaohe maintainers"))
                    .build(),
            ))
            .license(Some(
                LicenseBuilder::new()
                    .name("Apache-2.0")
                    .identifier(Some("Apache-2.0"))
                    .build(),
            ))
            .build(),
        utoipa::openapi::Paths::new(),
    );
    doc.servers = Some(vec![ServerBuilder::new()
        .url(public_url)
        .description(Some("this deployment"))
        .build()]);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from POST /api/v1/auth/token"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "metrics_token",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "GET /metrics only: the operator's `metrics.token`, when one is configured",
                ))
                .build(),
        ),
    );
    let tag = |name: &str, description: &str| {
        let mut t = Tag::new(name);
        t.description = Some(description.to_owned());
        t
    };
    doc.tags = Some(vec![
        tag("operations", "Liveness, readiness, metrics and this document"),
        tag("auth", "Tokens and the caller's own account"),
        tag("org-units", "The county's tree: townships, villages, departments"),
        tag("users", "People who log in"),
        tag("service-accounts", "Machine clients of data platforms"),
        tag(
            "subjects",
            "Who is assessed, with their links and per-scheme attributes",
        ),
        tag("schemes", "Schemes and their versioned rubrics: the rules, as data"),
        tag(
            "incidents",
            "Findings (deductions, bonuses, measurements, adjustments, vetoes) and appeals",
        ),
        tag(
            "evaluations",
            "Half-year, year-end and democratic evaluations, scoresheets and ballots",
        ),
        tag(
            "bulk",
            "Bulk uploads of findings, scoresheets, ballots and subjects (JSON array, NDJSON, CSV)",
        ),
        tag(
            "results",
            "Scores with every point explained, rankings, prizes, consequences, exports",
        ),
        tag(
            "publications",
            "Frozen, numbered, hashed snapshots of results (逐月公开 / 公示)",
        ),
        tag("audit", "The hash-chained audit trail"),
        tag(
            "evidence",
            "Evidence files (佐证材料): photos, scans and documents of findings, scoresheets and appeals",
        ),
        tag(
            "webhooks",
            "Signed pushes of publications, changed results and appeal decisions to data platforms",
        ),
    ]);
    doc
}

/// Builds the complete document exactly as the running service serves it.
pub fn openapi(public_url: &str) -> OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(document_base(public_url))
        .configure(configure)
        .split_for_parts();
    add_uncollected_schemas(&mut doc);
    results::document_labels(&mut doc);
    add_standard_responses(&mut doc);
    document::refine(&mut doc);
    doc
}

/// utoipa-actix-web collects the schemas of request and response bodies, not those referenced
/// only from query parameters, nor the far side of a recursive pair (`#[schema(no_recursion)]`);
/// without these their `$ref`s would dangle.
fn add_uncollected_schemas(doc: &mut OpenApi) {
    use utoipa::ToSchema;
    fn add<T: ToSchema>(doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.schemas.insert(T::name().into_owned(), T::schema());
    }
    add::<export::Format>(doc);
    add::<export::HeaderLanguage>(doc);
    add::<crate::scoring::WeightedComponent>(doc);
}

/// The cross-cutting error responses: status code, component name, description.
const STANDARD_RESPONSES: [(&str, &str, &str); 12] = [
    ("400", "BadRequest", "Malformed request: invalid JSON, query or header"),
    ("401", "Unauthorized", "No token, or an invalid or expired one"),
    ("403", "Forbidden", "Your role may not do this"),
    ("404", "NotFound", "Not found, or not in your scope"),
    (
        "409",
        "Conflict",
        "Conflicts with the current state (or an Idempotency-Key still in progress)",
    ),
    ("412", "PreconditionFailed", "If-Match names an outdated version"),
    ("413", "PayloadTooLarge", "The body exceeds the configured limit"),
    (
        "415",
        "UnsupportedMediaType",
        "The body's content type is not accepted here",
    ),
    ("422", "UnprocessableEntity", "Invalid fields; `errors` names each"),
    ("428", "PreconditionRequired", "Send If-Match (or `version`) to update"),
    ("429", "TooManyRequests", "Too many failed attempts; see Retry-After"),
    (
        "503",
        "ServiceUnavailable",
        "The database is unavailable; see Retry-After",
    ),
];

/// Every operation documents every error it can answer. The cross-cutting ones (auth, malformed
/// input, scope, concurrency, idempotency, database outage) are added here from what the
/// operation is, so no handler can forget one.
fn add_standard_responses(doc: &mut OpenApi) {
    use utoipa::openapi::path::HttpMethod;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{Ref, RefOr};

    doc.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    add_problem_components(doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Put, item.put.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ];
        for (method, operation) in operations {
            let Some(op) = operation else { continue };
            for code in standard_codes(path, method, op) {
                if op.responses.responses.contains_key(code) {
                    continue;
                }
                if let Some((_, name, _)) = STANDARD_RESPONSES.iter().find(|(c, _, _)| *c == code) {
                    op.responses.responses.insert(
                        code.to_owned(),
                        RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
                    );
                }
            }
        }
    }
}

/// The `Problem` and `FieldError` schemas and one response component per standard error.
fn add_problem_components(doc: &mut OpenApi) {
    use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder};
    use utoipa::PartialSchema;

    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("Problem".to_owned(), crate::error::Problem::schema());
    components
        .schemas
        .insert("FieldError".to_owned(), crate::error::FieldError::schema());
    for (status, name, description) in STANDARD_RESPONSES {
        let mut builder = ResponseBuilder::new().description(description).content(
            crate::error::PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .example(status.parse().ok().and_then(document::example_problem))
                .build(),
        );
        if name == "TooManyRequests" || name == "ServiceUnavailable" {
            builder = builder.header(
                "Retry-After",
                HeaderBuilder::new()
                    .description(Some("Seconds to wait before retrying"))
                    .build(),
            );
        }
        components.responses.insert(name.to_owned(), RefOr::T(builder.build()));
    }
}

/// The standard errors an operation can answer, from what it is: public or not, a probe, with
/// path or query parameters, with a body, and its method.
fn standard_codes(
    path: &str,
    method: utoipa::openapi::path::HttpMethod,
    op: &utoipa::openapi::path::Operation,
) -> Vec<&'static str> {
    use utoipa::openapi::path::{HttpMethod, ParameterIn};
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::RefOr;

    let public = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().all(|r| r == &SecurityRequirement::default()));
    let parameters = op.parameters.as_deref().unwrap_or_default();
    let located = |place: ParameterIn| {
        parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    };
    let has_path_params = located(ParameterIn::Path);
    let has_query = located(ParameterIn::Query);
    let has_body = op.request_body.is_some();
    let is_probe = path == "/healthz" || path == "/readyz";
    let mut codes: Vec<&str> = Vec::new();
    if !is_probe {
        codes.extend(["400", "503"]);
    }
    if !public {
        codes.extend(["401", "403"]);
    }
    if has_path_params || !public && !is_probe && path.starts_with("/api/") {
        codes.push("404");
    }
    if has_body || has_query {
        codes.push("422");
    }
    if has_body {
        codes.extend(["413", "415"]);
    }
    if method == HttpMethod::Post && !public {
        codes.extend(["409", "422"]);
    }
    if matches!(method, HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete) && !public {
        codes.push("409");
    }
    if matches!(method, HttpMethod::Patch | HttpMethod::Put) && has_path_params {
        codes.extend(["412", "428"]);
    }
    if path == "/api/v1/auth/token" {
        codes.extend(["401", "422", "429"]);
    }
    codes
}

/// A JSON request body. Unlike `web::Json`, its errors name the field that is wrong: 400 for
/// malformed JSON, 415 for another content type, 413 when too large, 422 for a wrong field.
pub struct Body<T>(pub T);

/// The largest JSON body, from `limits.json_body_bytes`.
#[derive(Clone, Copy)]
pub struct JsonLimit(pub usize);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<JsonLimit>().map(|l| l.0).unwrap_or(1 << 20);
        let content_type_ok = is_json(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::unsupported_media_type("send the body as application/json"));
            }
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::bad_request("request.body_unreadable", e.to_string()))?;
                if bytes.len() + chunk.len() > limit {
                    return Err(
                        ApiError::payload_too_large(format!("the body exceeds {limit} bytes")).arg("max", limit)
                    );
                }
                bytes.extend_from_slice(&chunk);
            }
            parse_json(&bytes).map(Body)
        })
    }
}

/// Query parameters, parsed naming the parameter at fault (actix's own `Query` does not).
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string into `T`; a bad one answers 400 naming the parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = if path == "." { field_of(&message) } else { path };
        let message = if field.is_empty() || message.contains(&format!("`{field}`")) {
            message
        } else {
            format!("{field}: {message}")
        };
        // A decimal or date off the published grammar is the same 422 as in a body.
        if message.contains(crate::decimal::GRAMMAR) {
            return ApiError::validation(vec![FieldError::new(field, "request.field_invalid", message)]);
        }
        ApiError::malformed_field("request.query_invalid", field, message)
    })
}

/// True when the request says its body is JSON.
pub fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || (v.starts_with("application/") && v.ends_with("+json")))
}

/// Parses JSON, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => {
            de.end().map_err(|e| {
                ApiError::bad_request("request.malformed_json", format!("the body is not valid JSON: {e}"))
            })?;
            // JSON can carry U+0000 only escaped; PostgreSQL cannot store it in text, so it is
            // refused here, naming the field, whichever database is behind.
            if bytes.windows(6).any(|w| w == b"\\u0000") {
                if let Some(field) = serde_json::from_slice(bytes)
                    .ok()
                    .and_then(|v| nul_in(&v, String::new()))
                {
                    return Err(ApiError::invalid(
                        field,
                        "request.nul_character",
                        crate::error::NUL_MESSAGE,
                    ));
                }
            }
            Ok(value)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            // JSON Schema counts `4744.0` as an integer; so does this service (once each body).
            if inner.classify() == serde_json::error::Category::Data
                && inner.to_string().starts_with("invalid type: floating point")
            {
                if let Some(integral) = integral_floats_as_integers(bytes) {
                    return parse_json(&integral);
                }
            }
            match inner.classify() {
                serde_json::error::Category::Data => Err(ApiError::validation(vec![FieldError::new(
                    if path == "." {
                        field_of(&inner.to_string())
                    } else {
                        path
                    },
                    "request.field_invalid",
                    strip_position(&inner.to_string()),
                )])),
                _ => Err(ApiError::bad_request(
                    "request.malformed_json",
                    format!("the body is not valid JSON: {inner}"),
                )),
            }
        }
    }
}

/// The body again with every number that has a zero fraction (`4744.0`, `1e3`) written as an
/// integer, or None when it has none (or is not JSON). The check is exact: the number's text as
/// a decimal, never float arithmetic.
fn integral_floats_as_integers(bytes: &[u8]) -> Option<Vec<u8>> {
    use serde_json::Value;
    fn walk(value: &mut Value) -> bool {
        match value {
            Value::Number(n) if n.is_f64() => {
                let integral = n
                    .to_string()
                    .parse::<rust_decimal::Decimal>()
                    .ok()
                    .filter(|d| d.fract().is_zero())
                    .and_then(|d| rust_decimal::prelude::ToPrimitive::to_i64(&d));
                match integral {
                    Some(i) => {
                        *value = Value::from(i);
                        true
                    }
                    None => false,
                }
            }
            Value::Array(items) => items.iter_mut().fold(false, |changed, item| walk(item) | changed),
            Value::Object(fields) => fields.values_mut().fold(false, |changed, item| walk(item) | changed),
            _ => false,
        }
    }
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    walk(&mut value).then(|| serde_json::to_vec(&value).ok()).flatten()
}

/// The path (`a.b[2].c`) of the first string or key holding U+0000, if any.
fn nul_in(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in(item, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let at = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(at)
            } else {
                nul_in(item, at)
            }
        }),
        _ => None,
    }
}

/// serde names a missing field only in its message: "missing field `name`".
fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"))
        .unwrap_or("")
        .to_owned()
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The version in an `If-Match` header (`"3"`, `W/"3"` or `3`), if any.
pub fn if_match(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<i32>().map(Some).map_err(|_| {
        ApiError::bad_request(
            "request.if_match_invalid",
            "If-Match must be the ETag you read, e.g. \"3\"",
        )
    })
}

/// The ETag of a versioned resource.
pub fn version_etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// 200 with the resource and its version as ETag.
pub fn ok_versioned<T: Serialize>(body: &T, version: i32) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, version_etag(version)))
        .json(body)
}

/// 201 with `Location` and ETag.
pub fn created<T: Serialize>(location: String, body: &T, version: i32) -> HttpResponse {
    HttpResponse::build(StatusCode::CREATED)
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, version_etag(version)))
        .json(body)
}

/// The client's address for rate limiting: the connection's peer, or, behind `hops` trusted
/// proxies, the address the outermost of them saw (counted from the right of
/// `X-Forwarded-For`; what a client writes further left is not believed).
pub fn client_address(req: &HttpRequest, hops: usize) -> Option<String> {
    let peer = req.peer_addr().map(|a| a.ip().to_string());
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    match forwarded.len().checked_sub(hops) {
        Some(i) => Some(forwarded[i].clone()),
        // Fewer entries than proxies: the leftmost is the best anyone knows.
        None => forwarded.first().cloned().or(peer),
    }
}

/// The weak ETag of any JSON body: its SHA-256, so equal answers share a tag.
pub fn content_etag(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

/// True when the request's `If-None-Match` already names `etag`.
pub fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// Answers a JSON body with a content ETag, or 304 when the client has it.
pub fn json_with_etag<T: Serialize>(req: &HttpRequest, body: &T) -> Result<HttpResponse, ApiError> {
    let bytes = serde_json::to_vec(body)?;
    let etag = content_etag(&bytes);
    if not_modified(req, &etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(bytes))
}
