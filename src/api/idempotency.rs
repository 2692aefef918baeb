//! Middleware honouring `Idempotency-Key` on every POST under `/api/v1`: a retry with the same
//! key and body gets the first answer and writes nothing; another body with the same key is
//! refused (422); a retry while the first is still running is refused (409). Also the HTTP side
//! of the stored answers (`store::idempotency` keeps them as plain data): a handler's response
//! becomes a record in its write transaction ([`Respond::respond`]), a record becomes a replay.

use std::sync::{Arc, Mutex};

use std::future::Future;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse, ResponseError};
use futures_util::StreamExt;
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

use crate::auth::PrincipalKind;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::idempotency::{self, Claim, Context, StoredResponse};
use crate::store::WriteTx;

const HEADER: &str = "idempotency-key";
/// A claim still "running" after this long belongs to a request whose process died.
const STALE_AFTER_SECS: i64 = 600;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned());
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let fail = |req: ServiceRequest, err: ApiError| Ok(req.into_response(err.error_response()));
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return fail(
            req,
            ApiError::bad_request(
                "idempotency.key_invalid",
                "Idempotency-Key must be 1–255 visible ASCII characters",
            ),
        );
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // The key belongs to the caller; without a valid token the handler will answer 401 anyway.
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let Some(claims) = token.and_then(|t| state.tokens.verify(&t).ok()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let principal = format!(
        "{}:{}",
        match claims.kind {
            PrincipalKind::User => "user",
            PrincipalKind::Service => "service",
        },
        claims.sub
    );
    let method_path = format!("POST {}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut hasher = Sha256::new();
    hasher.update(method_path.as_bytes());
    hasher.update(b"\n");

    let claim = idempotency::claim(
        state.store.db(),
        claims.county_id,
        &principal,
        &key,
        &method_path,
        state.settings.limits.idempotency_ttl_secs,
        STALE_AFTER_SECS,
    )
    .await;
    match claim {
        Err(err) => fail(req, err),
        Ok(Claim::InProgress) => fail(
            req,
            ApiError::conflict(
                "idempotency.in_progress",
                "a request with this Idempotency-Key is still being processed; retry later",
            ),
        ),
        Ok(Claim::Done { request_hash, response }) => replay_done(req, hasher, &request_hash, &response).await,
        Ok(Claim::Proceed) => proceed(req, next, &state, principal, key, hasher).await,
    }
}

/// A key already answered: the same request (by its hash) replays the stored answer; another
/// request with the key is refused.
async fn replay_done(
    mut req: ServiceRequest,
    mut hasher: Sha256,
    request_hash: &str,
    response: &StoredResponse,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let fail = |req: ServiceRequest, err: ApiError| Ok(req.into_response(err.error_response()));
    let mut payload = req.take_payload();
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(bytes) => hasher.update(&bytes),
            Err(e) => return fail(req, ApiError::bad_request("request.body_unreadable", e.to_string())),
        }
    }
    if hex::encode(hasher.finalize()) != request_hash {
        return fail(
            req,
            ApiError::invalid(
                "Idempotency-Key",
                "idempotency.key_reused",
                "this Idempotency-Key was used with a different request; use a new key",
            ),
        );
    }
    Ok(req.into_response(replay(response)))
}

/// A key claimed for this request: the body is hashed as the handler reads it, and a
/// successful answer is stored with the key (in the handler's own transaction when it writes);
/// a failed one releases the key.
async fn proceed(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    state: &AppState,
    principal: String,
    key: String,
    hasher: Sha256,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let context = Context {
        principal: principal.clone(),
        key: key.clone(),
        hasher: Arc::new(Mutex::new(hasher)),
        stored: Arc::new(Mutex::new(false)),
    };
    let tee = context.hasher.clone();
    let payload = req.take_payload().map(move |chunk| {
        if let (Ok(bytes), Ok(mut h)) = (&chunk, tee.lock()) {
            h.update(bytes);
        }
        chunk
    });
    req.set_payload(Payload::Stream {
        payload: Box::pin(payload),
    });
    let outcome = idempotency::scope(context.clone(), next.call(req)).await;
    let db = state.store.db();
    match outcome {
        Ok(response) => {
            let response = response.map_into_boxed_body();
            if context.is_stored() {
                return Ok(response);
            }
            if response.status().is_success() {
                // Answers that wrote nothing (a dry run, a simulation) are stored as they are.
                let (request, http) = response.into_parts();
                let stored = store_answer(db, &context, http).await;
                return Ok(match stored {
                    Ok(http) => ServiceResponse::new(request, http),
                    Err(err) => ServiceResponse::new(request, err.error_response()),
                });
            }
            let _ = idempotency::release(db, &principal, &key).await;
            Ok(response)
        }
        Err(err) => {
            let _ = idempotency::release(db, &principal, &key).await;
            Err(err)
        }
    }
}

/// How a handler ends a write: [`WriteTx::respond`] commits and answers.
pub trait Respond {
    /// Commits and answers `response`. When the request carries an `Idempotency-Key`, the
    /// response is stored in this same transaction, so a retry replays exactly what was written.
    fn respond(self, response: HttpResponse) -> impl Future<Output = Result<HttpResponse, ApiError>>;
}

impl Respond for WriteTx {
    async fn respond(self, response: HttpResponse) -> Result<HttpResponse, ApiError> {
        let response = match idempotency::current() {
            Some(context) => store_answer(self.conn(), &context, response).await?,
            None => response,
        };
        self.commit().await?;
        Ok(response)
    }
}

/// The headers a replay repeats.
const REPLAYED_HEADERS: [&str; 4] = ["content-type", "location", "etag", "preference-applied"];

/// Stores `response` as the answer of `context`'s request on `conn` and gives it back.
async fn store_answer<C: ConnectionTrait>(
    conn: &C,
    context: &Context,
    response: HttpResponse,
) -> Result<HttpResponse, ApiError> {
    let (response, body) = response.into_parts();
    let bytes = body
        .try_into_bytes()
        .map_err(|_| ApiError::internal("idempotent response body is a stream"))?;
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(n, _)| REPLAYED_HEADERS.contains(&n.as_str()))
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_owned(), v.to_owned())))
        .collect();
    let stored = StoredResponse {
        status: response.status().as_u16(),
        headers,
        body: bytes.into(),
    };
    idempotency::record(conn, context, &stored).await?;
    Ok(response.set_body(web::Bytes::from(stored.body)).map_into_boxed_body())
}

/// The first answer again, marked `idempotent-replayed: true`.
fn replay(stored: &StoredResponse) -> HttpResponse {
    let mut builder = HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    for (name, value) in &stored.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
            builder.insert_header((n, v));
        }
    }
    builder.insert_header(("idempotent-replayed", "true"));
    builder.body(stored.body.clone())
}
