//! `GET /api/v1/audit-events`: the audit trail, for county admins and viewers.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::Query;
use crate::auth::policy::{Action, Scope};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::audit::{self, EventQuery};
use crate::store::entities::audit_event;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list);
}

/// One audit event: who did what to which entity, before and after, chained by hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    /// Position in the county's chain, from 1.
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    #[schema(example = "admin")]
    pub actor: String,
    #[schema(example = "admin")]
    pub role: String,
    #[schema(example = "county")]
    pub level: String,
    pub scope_org_unit_id: Option<Uuid>,
    #[schema(example = "create")]
    pub action: String,
    #[schema(example = "incident")]
    pub entity: String,
    pub entity_id: Option<Uuid>,
    pub request_id: Option<String>,
    /// The entity before the change (absent for creations).
    pub before: Option<serde_json::Value>,
    /// The entity after the change.
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this event's canonical JSON.
    pub hash: String,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(m: audit_event::Model) -> Self {
        let parse = |s: Option<String>| s.and_then(|t| serde_json::from_str(&t).ok());
        Self {
            seq: m.seq,
            id: m.id,
            occurred_at: m.occurred_at,
            actor_id: m.actor_id,
            actor: m.actor,
            role: m.role,
            level: m.level,
            scope_org_unit_id: m.scope_org_unit_id,
            action: m.action,
            entity: m.entity,
            entity_id: m.entity_id,
            request_id: m.request_id,
            before: parse(m.before),
            after: parse(m.after),
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

/// Filters of `GET /api/v1/audit-events`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// `org_unit`, `user`, `subject`, `incident`, ...
    pub entity: Option<String>,
    pub entity_id: Option<Uuid>,
    /// The actor's id.
    pub actor_id: Option<Uuid>,
    /// Events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1–1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

/// One page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

/// List audit events of your county, oldest first.
#[utoipa::path(
    tag = "audit", operation_id = "listAuditEvents",
    params(AuditFilter),
    responses((status = 200, description = "One page", body = AuditPage))
)]
#[get("/audit-events")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    filter: Query<AuditFilter>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::ReadAudit, &Scope::county(caller.county_id), "audit trail")?;
    let limit = filter.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "page.limit_out_of_range",
            "limit must be between 1 and 1000",
        ));
    }
    let after: i64 = match &filter.cursor {
        None => 0,
        Some(c) => c.parse().ok().filter(|n: &i64| *n >= 0).ok_or_else(|| {
            ApiError::invalid(
                "cursor",
                "page.cursor_invalid",
                "cursor is not a cursor this service issued",
            )
        })?,
    };
    let query = EventQuery {
        entity: filter.entity.as_deref(),
        entity_id: filter.entity_id,
        actor_id: filter.actor_id,
        from: filter.from,
        to: filter.to,
    };
    let mut rows = audit::events(state.store.db(), caller.county_id, &query, after, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| r.seq.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(AuditPage {
        items: rows.into_iter().map(AuditEvent::from).collect(),
        next_cursor,
    }))
}
