//! `POST /api/v1/auth/token`: log in with a password or client credentials.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::login::{self, TokenRequest, TokenResponse};
use crate::error::ApiError;
use crate::startup::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(token);
}

/// Issue an access token.
///
/// `grant_type=password` with `username` and `password`, or `grant_type=client_credentials` with
/// `client_id` and `client_secret` (service accounts). JSON or form-encoded. Repeated failures
/// for an account or from an address answer 429 with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    operation_id = "issueToken",
    request_body(
        content(
            (TokenRequest = "application/json"),
            (TokenRequest = "application/x-www-form-urlencoded")
        )
    ),
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
