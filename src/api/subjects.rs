//! `/api/v1/subjects`: who is assessed, and their per-scheme attributes.

use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::endpoints::{create_endpoint, read_endpoint, update_endpoint};
use super::idempotency::Respond;
use super::listing::list_endpoint;
use super::{if_match, ok_versioned, Body};
use crate::auth::policy::Action;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::page::Page;
use crate::store::subjects::{
    self, AttributesUpdate, NewSubject, Subject, SubjectAttributes, SubjectFilter, SubjectPatch,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(read)
        .service(update)
        .service(read_attributes)
        .service(write_attributes);
}

create_endpoint! {
    /// Create a subject. Townships, villages and departments are created with their org unit.
    create: POST "/subjects", tag "subjects", operation "createSubject",
    body NewSubject, answers Subject, "Created", located "URL of the new subject",
    |tx, caller, new| Subject::from(subjects::create(tx, caller, new).await?)
}

list_endpoint! {
    /// List subjects in your scope.
    list: GET "/subjects", tag "subjects", operation "listSubjects", filter SubjectFilter, items Subject,
    |state, caller, filter, page| Ok(subjects::list(state.store.db(), caller, filter, page).await?.into_iter().map(Subject::from).collect())
}

read_endpoint! {
    /// Read one subject.
    read: GET "/subjects/{id}", tag "subjects", operation "getSubject", id "Subject id", answers Subject, "The subject",
    |state, caller, id| Subject::from(subjects::load_for(state.store.db(), caller, Action::Read, id).await?)
}

update_endpoint! {
    /// Rename, relink, deactivate or reactivate a subject.
    update: PATCH "/subjects/{id}", tag "subjects", operation "updateSubject", id "Subject id",
    body SubjectPatch, answers Subject,
    |tx, caller, id, patch, version| Subject::from(subjects::update(tx, caller, id, patch, version).await?)
}

/// A subject's attributes for one scheme (defaults until set).
#[utoipa::path(
    tag = "subjects", operation_id = "getSubjectAttributes",
    params(("id" = Uuid, Path, description = "Subject id"), ("scheme_id" = Uuid, Path, description = "Scheme id")),
    responses((status = 200, description = "The attributes", body = SubjectAttributes, headers(("ETag" = String, description = "Their version"))))
)]
#[get("/subjects/{id}/attributes/{scheme_id}")]
async fn read_attributes(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, scheme_id) = path.into_inner();
    let db = state.store.db();
    subjects::load_for(db, &caller, Action::Read, id).await?;
    crate::store::schemes::load_for(db, &caller, Action::ReadShared, scheme_id).await?;
    let attributes = subjects::attributes(db, scheme_id, id).await?;
    Ok(ok_versioned(&attributes, attributes.version))
}

/// Set a subject's attributes for one scheme.
#[utoipa::path(
    tag = "subjects", operation_id = "setSubjectAttributes",
    params(("id" = Uuid, Path, description = "Subject id"), ("scheme_id" = Uuid, Path, description = "Scheme id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]{1,9}"?$"#, description = "The ETag you read (or send `version`; 0 when never set)")),
    request_body = AttributesUpdate,
    responses((status = 200, description = "Updated", body = SubjectAttributes, headers(("ETag" = String, description = "The new version"))))
)]
#[put("/subjects/{id}/attributes/{scheme_id}")]
async fn write_attributes(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    Body(changes): Body<AttributesUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (id, scheme_id) = path.into_inner();
    let version = if_match(&req)?;
    let tx = state.store.write(&caller.actor()).await?;
    let subject = subjects::load_for(tx.conn(), &caller, Action::Manage, id).await?;
    crate::store::schemes::load_for(tx.conn(), &caller, Action::ReadShared, scheme_id).await?;
    let attributes = subjects::set_attributes(&tx, &caller, &subject, scheme_id, changes, version).await?;
    tx.respond(ok_versioned(&attributes, attributes.version)).await
}
