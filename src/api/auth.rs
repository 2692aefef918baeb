//! `POST /api/v1/auth/token`: log in with a password or client credentials.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::login::{self, TokenRequest, TokenResponse};
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(token);
}

/// Issue an access token.
///
/// `grant_type=password` with `username` and `password`, or `grant_type=client_credentials` with
/// `client_id` and `client_secret` (service accounts), as JSON. The same fields form-encoded
/// (`application/x-www-form-urlencoded`, as OAuth 2.0 clients send them) are accepted too;
/// the document names JSON only, which every client generator can write. Repeated failures
/// for an account or from an address answer 429 with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    operation_id = "issueToken",
    request_body(content = TokenGrant, content_type = "application/json"),
    responses(
        (status = 200, description = "A Bearer token", body = TokenResponse),
    ),
    security(())
)]
#[post("/auth/token")]
async fn token(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let request: TokenRequest = if crate::api::is_json(&req) {
        crate::api::parse_json(&body)?
    } else if req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    {
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| ApiError::bad_request("request.malformed_form", format!("the form is malformed: {e}")))?
    } else {
        return Err(ApiError::unsupported_media_type(
            "send application/json or application/x-www-form-urlencoded",
        ));
    };
    let response: TokenResponse = login::token(
        &state,
        request,
        crate::api::client_address(&req, state.settings.server.trusted_proxy_hops),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(response))
}

/// The documented body of `POST /api/v1/auth/token`: exactly one of the two grants. (It is read
/// as [`TokenRequest`], which names the missing field of a body that is neither.)
pub struct TokenGrant;

impl utoipa::PartialSchema for TokenGrant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        let grant = |value: &str, description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([value]))
                .description(Some(description))
        };
        let password = ObjectBuilder::new()
            .title(Some("PasswordGrant"))
            .property("grant_type", grant("password", "`password`, the default"))
            .property("username", text("The user's username"))
            .required("username")
            .property("password", text("The user's password"))
            .required("password");
        let client = ObjectBuilder::new()
            .title(Some("ClientCredentialsGrant"))
            .property("grant_type", grant("client_credentials", "A service account's grant"))
            .required("grant_type")
            .property("client_id", text("The service account's `client_id`"))
            .required("client_id")
            .property("client_secret", text("The secret shown when the account was created"))
            .required("client_secret");
        OneOfBuilder::new()
            .description(Some(
                "A user's `username` and `password` (`grant_type` `password` or left out), or a service \
                 account's `client_id` and `client_secret` with `grant_type` `client_credentials`.",
            ))
            .item(password)
            .item(client)
            .examples([
                serde_json::json!({"grant_type": "password", "username": "admin", "password": "correct horse battery staple"}),
            ])
            .into()
    }
}

impl utoipa::ToSchema for TokenGrant {}
