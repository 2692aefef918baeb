//! sea-orm entities, one module per table. Enumerations are typed columns (`DeriveActiveEnum`),
//! stored as their snake_case names.

macro_rules! entity {
    // A county's versioned resource: its id, county, timestamps and optimistic-lock version
    // come first, in this order (row seals read the columns in order).
    ($module:ident, $table:literal, versioned { $($field:tt)* }) => {
        entity!($module, $table, {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub county_id: Uuid,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            pub version: i32,
            $($field)*
        });
        impl crate::store::Versioned for $module::ActiveModel {
            fn next_version(&mut self, at: chrono::DateTime<chrono::Utc>) {
                let version = self.version.take().unwrap_or_default();
                self.version = sea_orm::ActiveValue::Set(version + 1);
                self.updated_at = sea_orm::ActiveValue::Set(at);
            }
        }
    };
    ($module:ident, $table:literal, { $($field:tt)* }) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;
            #[allow(unused_imports)]
            use crate::store::decimal::DbDecimal;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                $($field)*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(org_unit, "org_units", versioned {
    pub parent_id: Option<Uuid>,
    pub kind: crate::store::org_units::OrgKind,
    pub name: String,
    pub code: Option<String>,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub active: bool,
});

entity!(user, "users", versioned {
    pub org_unit_id: Uuid,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub username: String,
    pub display_name: String,
    pub level: crate::auth::Level,
    pub role: crate::auth::Role,
    pub password_hash: String,
    pub active: bool,
    /// Raised whenever the password, active flag, role, level or org unit changes; tokens carry
    /// it (`gen`) and die when it moves on.
    pub token_generation: i32,
    /// When `token_generation` last moved: tokens without `gen` must be issued after it.
    pub tokens_valid_after: Option<DateTimeUtc>,
    /// The username after NFKC and case folding (unique).
    pub username_key: String,
});

entity!(service_account, "service_accounts", versioned {
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub active: bool,
    /// Raised when the account is revoked or its secret changes (see `user::Model`).
    pub token_generation: i32,
    pub tokens_valid_after: Option<DateTimeUtc>,
});

entity!(login_throttle, "login_throttle", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Consecutive failures of this key (see `auth::login`).
    pub failures: i32,
    /// The time of the last failure (the column's name is historical).
    #[sea_orm(column_name = "window_started_at")]
    pub last_failure_at: DateTimeUtc,
});

entity!(scheme, "schemes", versioned {
    pub org_unit_id: Uuid,
    pub township_id: Option<Uuid>,
    pub key: String,
    pub title: String,
    pub year: i32,
    pub built_in: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub definition: String,
    pub active: bool,
});

entity!(rubric, "rubrics", versioned {
    pub scheme_id: Uuid,
    pub subject_type: crate::scoring::model::SubjectType,
    pub version_no: i32,
    pub current: bool,
    pub used: bool,
    #[sea_orm(column_type = "Text")]
    pub definition: String,
});

entity!(subject, "subjects", versioned {
    pub subject_type: crate::scoring::model::SubjectType,
    pub name: String,
    pub org_unit_id: Option<Uuid>,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub dispatched_by: Option<Uuid>,
    pub stationed_in: Option<Uuid>,
    pub external_code: Option<String>,
    pub active: bool,
});

entity!(subject_attribute, "subject_attributes", versioned {
    pub scheme_id: Uuid,
    pub subject_id: Uuid,
    pub has_special_indicators: bool,
    pub ranking_group: Option<String>,
    pub annual_target_met: bool,
    pub recalled: bool,
    pub reserve_cadre: bool,
    pub vertically_managed: bool,
});

entity!(incident, "incidents", versioned {
    pub scheme_id: Uuid,
    pub rubric_id: Uuid,
    pub subject_id: Uuid,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub kind: crate::scoring::admission::IncidentKind,
    pub item_code: Option<String>,
    pub rule_code: Option<String>,
    pub occurred_on: Date,
    pub quantity: i32,
    pub period: Option<String>,
    #[sea_orm(column_type = "Decimal(None)")]
    pub rate: Option<DbDecimal>,
    pub sampled: Option<i32>,
    pub correct: Option<i32>,
    #[sea_orm(column_type = "Decimal(None)")]
    pub amount: Option<DbDecimal>,
    #[sea_orm(column_type = "Decimal(None)")]
    pub points: Option<DbDecimal>,
    pub event_key: Option<String>,
    pub source: crate::store::incidents::Source,
    pub note: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub evidence: String,
    pub recorded_by: Uuid,
    pub upload_id: Option<Uuid>,
    pub status: crate::store::incidents::IncidentStatus,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<Uuid>,
    pub revoke_reason: Option<String>,
});

entity!(appeal, "appeals", versioned {
    pub incident_id: Uuid,
    pub subject_id: Uuid,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub reason: String,
    pub status: crate::store::appeals::AppealStatus,
    pub filed_by: Uuid,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_note: Option<String>,
});

entity!(evaluation, "evaluations", versioned {
    pub scheme_id: Uuid,
    pub org_unit_id: Uuid,
    pub township_id: Option<Uuid>,
    pub kind: crate::scoring::inputs::EvaluationKind,
    pub key: String,
    pub title: String,
    pub window_from: Date,
    pub window_to: Date,
    pub status: crate::store::evaluations::EvaluationStatus,
    pub closed_at: Option<DateTimeUtc>,
});

entity!(scoresheet, "scoresheets", versioned {
    pub scheme_id: Uuid,
    pub evaluation_id: Uuid,
    pub subject_id: Uuid,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub assessor_id: Uuid,
    pub assessor_name: String,
    pub note: Option<String>,
    pub upload_id: Option<Uuid>,
    pub revoked_at: Option<DateTimeUtc>,
    pub superseded_by: Option<Uuid>,
});

entity!(scoresheet_item, "scoresheet_items", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub county_id: Uuid,
    pub scoresheet_id: Uuid,
    pub item_code: String,
    #[sea_orm(column_type = "Decimal(None)")]
    pub score: DbDecimal,
});

entity!(ballot, "ballots", versioned {
    pub scheme_id: Uuid,
    pub evaluation_id: Uuid,
    pub subject_id: Uuid,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    #[sea_orm(column_type = "Decimal(None)")]
    pub score: DbDecimal,
    pub participant: Option<String>,
    pub recorded_by: Uuid,
    pub upload_id: Option<Uuid>,
    pub revoked_at: Option<DateTimeUtc>,
});

entity!(publication, "publications", versioned {
    pub scheme_id: Uuid,
    pub org_unit_id: Uuid,
    pub township_id: Option<Uuid>,
    pub number: i32,
    pub kind: crate::results::ResultKind,
    pub group_key: String,
    pub title: String,
    pub period_end: Option<Date>,
    pub as_of: DateTimeUtc,
    pub public: bool,
    pub supersedes_id: Option<Uuid>,
    pub correction_reason: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub content_hash: String,
    pub published_by: Uuid,
    pub chain_seq: Option<i64>,
    pub chain_hash: Option<String>,
});

entity!(audit_event, "audit_events", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub county_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub role: String,
    pub level: String,
    pub scope_org_unit_id: Option<Uuid>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<Uuid>,
    pub request_id: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub before: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// How many data rows the event wrote (its row seals), when it wrote any.
    pub rows_count: Option<i64>,
    /// SHA-256 over the event's row seals in order, part of the event's hash.
    pub rows_digest: Option<String>,
});

entity!(audit_row, "audit_rows", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub county_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ordinal: i32,
    #[sea_orm(column_type = "Text")]
    pub entity: String,
    pub row_id: Uuid,
    #[sea_orm(column_type = "Text", nullable)]
    pub digest: Option<String>,
});

entity!(audit_head, "audit_heads", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub county_id: Uuid,
    pub seq: i64,
    pub hash: String,
});

entity!(idempotency_key, "idempotency_keys", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub county_id: Uuid,
    pub method_path: String,
    pub request_hash: Option<String>,
    pub status: String,
    pub response_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub response_headers: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub response_body: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
});

entity!(evidence, "evidence", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub county_id: Uuid,
    pub created_at: DateTimeUtc,
    /// The content's SHA-256 (hex): its address in the object store.
    pub sha256: String,
    pub size_bytes: i64,
    /// Detected from the bytes, never from the name.
    pub media_type: String,
    pub file_name: String,
    pub uploaded_by: Uuid,
});

entity!(evidence_link, "evidence_links", versioned {
    pub evidence_id: Uuid,
    /// `incident`, `scoresheet` or `appeal`.
    pub target: String,
    pub target_id: Uuid,
    pub subject_id: Uuid,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
    pub attached_by: Uuid,
    pub detached_at: Option<DateTimeUtc>,
    pub detached_by: Option<Uuid>,
    pub detach_reason: Option<String>,
});

entity!(webhook_subscription, "webhook_subscriptions", versioned {
    pub url: String,
    /// The event types, a JSON array of their names.
    #[sea_orm(column_type = "Text")]
    pub events: String,
    /// `whsec_` and the base64 of the signing key.
    pub secret: String,
    pub active: bool,
    pub created_by: Uuid,
});

entity!(webhook_delivery, "webhook_deliveries", {
    /// Also the message's `webhook-id`, the same on every attempt.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub county_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub subscription_id: Uuid,
    pub event_type: String,
    /// The scheme-year of a `result.changed` (what it is debounced by).
    pub scheme_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub status: crate::store::webhooks::DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub last_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
});

// A bulk upload running (or run) in the background: bookkeeping of a request, not audited data.
entity!(job, "jobs", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub county_id: Uuid,
    pub created_at: DateTimeUtc,
    /// Last saved progress (a heartbeat while it runs).
    pub updated_at: DateTimeUtc,
    /// The user or service account that started it.
    pub created_by: Uuid,
    /// The operation it runs, e.g. `bulkCreateIncidents`, or the export's `GET /api/v1/rankings`.
    pub operation: String,
    pub status: crate::store::jobs::JobStatus,
    pub rows_read: i64,
    pub rows_validated: i64,
    pub rows_written: i64,
    pub error_count: i64,
    /// JSON array of the first problems found (`FieldError`s).
    pub errors: String,
    /// Once ended: the answer the synchronous request would have given.
    pub result_status: Option<i32>,
    pub result_content_type: Option<String>,
    pub result_body: Option<Vec<u8>>,
    pub finished_at: Option<DateTimeUtc>,
});
