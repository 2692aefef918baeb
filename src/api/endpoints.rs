//! The handlers most resources have alike, each declared by one macro with its OpenAPI
//! operation: `read_endpoint!` (GET one, with its `ETag`), `create_endpoint!` (POST, 201 with
//! `Location`), `update_endpoint!` (PATCH with `If-Match`); lists are `list_endpoint!`
//! (`api::listing`). The calling module imports `actix_web::{get, post, patch}` and `Uuid`.
//! A write runs in one `Store::write` transaction and is answered through `Respond`, so an
//! `Idempotency-Key` replays it.

use uuid::Uuid;

/// An API resource: its id (the order and cursor of lists, the end of its URL) and its version
/// (its `ETag`).
pub trait Resource: serde::Serialize + utoipa::ToSchema + 'static {
    fn id(&self) -> Uuid;
    fn version(&self) -> i32;
}

/// Implements `Resource` for API types with `id` and `version` fields; those that are never
/// edited (scoresheets, ballots, publications, deliveries) are always at version 1.
macro_rules! resource {
    ($($type:ty),* $(,)?) => {
        $(resource!($type, |r| r.version);)*
    };
    (never edited: $($type:ty),* $(,)?) => {
        $(resource!($type, |_r| 1);)*
    };
    // The answer to a create that carries something shown once (a secret) beside the resource.
    (created: $($type:ty => $resource:ident),* $(,)?) => {
        $(impl Resource for $type {
            fn id(&self) -> Uuid {
                self.$resource.id
            }
            fn version(&self) -> i32 {
                self.$resource.version
            }
        })*
    };
    ($type:ty, |$r:ident| $version:expr) => {
        impl Resource for $type {
            fn id(&self) -> Uuid {
                self.id
            }
            fn version(&self) -> i32 {
                let $r = self;
                $version
            }
        }
    };
}

resource!(
    crate::api::subjects::Subject,
    crate::api::org_units::OrgUnit,
    crate::api::users::User,
    crate::api::service_accounts::ServiceAccount,
    crate::api::incidents::Incident,
    crate::api::incidents::Appeal,
    crate::api::evaluations::Evaluation,
    crate::api::schemes::Scheme,
    crate::api::webhooks::Webhook,
);
resource!(never edited:
    crate::api::evaluations::Scoresheet,
    crate::api::evaluations::Ballot,
    crate::api::publications::Publication,
    // Deliveries are not edited through the API: their `ETag` is constant.
    crate::api::webhooks::WebhookDelivery,
);
resource!(created:
    crate::api::service_accounts::CreatedServiceAccount => account,
    crate::api::webhooks::CreatedWebhook => webhook,
);

/// `From<$entity::Model>` for an API type that shows the row's fields as they are stored, and
/// after `; |m|` those it shows otherwise, each from the row `m` (computed before the others).
macro_rules! from_row {
    ($type:ident from $entity:ident: $($field:ident),* $(,)?) => {
        from_row! { $type from $entity: $($field),*; |m| }
    };
    ($type:ident from $entity:ident: $($field:ident),*; |$m:ident| $($shown:ident: $value:expr),* $(,)?) => {
        impl From<$entity::Model> for $type {
            fn from($m: $entity::Model) -> Self {
                Self {
                    $($shown: $value,)*
                    $($field: $m.$field),*
                }
            }
        }
    };
}
pub(crate) use from_row;

/// `GET …/{id}`: `$fetch` answers the resource the caller may read (404 otherwise).
macro_rules! read_endpoint {
    (
        $(#[doc = $doc:expr])*
        $name:ident: GET $path:literal, tag $tag:literal, operation $operation:literal,
        id $id_doc:literal, answers $item:ty, $answer_doc:literal,
        |$state:ident, $caller:ident, $id:ident| $fetch:expr
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $operation,
            params(("id" = Uuid, Path, description = $id_doc)),
            responses((status = 200, description = $answer_doc, body = $item,
                headers(("ETag" = String, description = "Its version"))))
        )]
        #[get($path)]
        async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            caller: $crate::auth::Caller,
            id: actix_web::web::Path<Uuid>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            let ($state, $caller, $id) = (&**state, &caller, id.into_inner());
            let item: $item = $fetch;
            Ok($crate::api::ok_versioned(&item, $crate::api::endpoints::Resource::version(&item)))
        }
    };
}

/// `POST` to a collection: `$write` creates the resource in the transaction `$tx`; the answer is
/// 201 with its `ETag` and `Location`: the collection's path and its id, or `at |item| …`.
macro_rules! create_endpoint {
    (@location $item:ident, $path:literal) => {
        format!(concat!("/api/v1", $path, "/{}"), $item.id())
    };
    (@location $item:ident, $path:literal, |$at:ident| $location:expr) => {{
        let $at = &$item;
        $location
    }};
    (
        $(#[doc = $doc:expr])*
        $name:ident: POST $path:literal, tag $tag:literal, operation $operation:literal,
        body $body:ty, answers $item:ty, $answer_doc:literal, located $location_doc:literal
        $(at |$at:ident| $location:expr)?,
        |$tx:ident, $caller:ident, $new:ident| $write:expr
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $operation,
            request_body = $body,
            responses((status = 201, description = $answer_doc, body = $item,
                headers(("Location" = String, description = $location_doc), ("ETag" = String, description = "Its version"))))
        )]
        #[post($path)]
        async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            caller: $crate::auth::Caller,
            body: $crate::api::Body<$body>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            use $crate::api::endpoints::Resource;
            use $crate::api::idempotency::Respond;
            let tx = state.store.write(&caller.actor()).await?;
            let item: $item = {
                let ($tx, $caller, $new) = (&tx, &caller, body.0);
                $write
            };
            let location = $crate::api::endpoints::create_endpoint!(@location item, $path $(, |$at| $location)?);
            tx.respond($crate::api::created(location, &item, item.version())).await
        }
    };
}

/// `PATCH …/{id}` with `If-Match` (or `version` in the body): `$write` changes the resource in
/// the transaction `$tx`, refusing a stale version with 412.
macro_rules! update_endpoint {
    (
        $(#[doc = $doc:expr])*
        $name:ident: PATCH $path:literal, tag $tag:literal, operation $operation:literal,
        id $id_doc:literal, body $body:ty, answers $item:ty,
        |$tx:ident, $caller:ident, $id:ident, $patch:ident, $version:ident| $write:expr
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $operation,
            params(("id" = Uuid, Path, description = $id_doc),
                   ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]{1,9}"?$"#, description = "The ETag you read (or send `version`)")),
            request_body = $body,
            responses((status = 200, description = "Updated", body = $item, headers(("ETag" = String, description = "The new version"))))
        )]
        #[patch($path)]
        async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            caller: $crate::auth::Caller,
            req: actix_web::HttpRequest,
            id: actix_web::web::Path<Uuid>,
            body: $crate::api::Body<$body>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            use $crate::api::endpoints::Resource;
            use $crate::api::idempotency::Respond;
            let $version = $crate::api::if_match(&req)?;
            let tx = state.store.write(&caller.actor()).await?;
            let item: $item = {
                let ($tx, $caller, $id, $patch) = (&tx, &caller, id.into_inner(), body.0);
                $write
            };
            tx.respond($crate::api::ok_versioned(&item, item.version())).await
        }
    };
}

/// `POST …/{id}/{action}` (revoke, close, decide…), with or without a body: `$write` acts on the
/// resource in the transaction `$tx`; the answer is the resource as it now is, with its `ETag`.
macro_rules! action_endpoint {
    (
        $(#[doc = $doc:expr])*
        $name:ident: POST $path:literal, tag $tag:literal, operation $operation:literal,
        id $id_doc:literal, body $body:ty, answers $item:ty, $answer_doc:literal,
        |$tx:ident, $caller:ident, $id:ident, $input:ident| $write:expr
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $operation,
            params(("id" = Uuid, Path, description = $id_doc)),
            request_body = $body,
            responses((status = 200, description = $answer_doc, body = $item,
                headers(("ETag" = String, description = "The new version"))))
        )]
        #[post($path)]
        async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            caller: $crate::auth::Caller,
            id: actix_web::web::Path<Uuid>,
            body: $crate::api::Body<$body>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::api::endpoints::act(state, caller, id.into_inner(), async |$tx, $caller, $id| {
                let $input = body.0;
                Ok::<$item, $crate::error::ApiError>($write)
            })
            .await
        }
    };
    (
        $(#[doc = $doc:expr])*
        $name:ident: POST $path:literal, tag $tag:literal, operation $operation:literal,
        id $id_doc:literal, answers $item:ty, $answer_doc:literal,
        |$tx:ident, $caller:ident, $id:ident| $write:expr
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $operation,
            params(("id" = Uuid, Path, description = $id_doc)),
            responses((status = 200, description = $answer_doc, body = $item,
                headers(("ETag" = String, description = "The new version"))))
        )]
        #[post($path)]
        async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            caller: $crate::auth::Caller,
            id: actix_web::web::Path<Uuid>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::api::endpoints::act(state, caller, id.into_inner(), async |$tx, $caller, $id| {
                Ok::<$item, $crate::error::ApiError>($write)
            })
            .await
        }
    };
}

/// Runs an action on one resource in a write transaction and answers it with its `ETag`.
pub async fn act<T: Resource>(
    state: actix_web::web::Data<crate::state::AppState>,
    caller: crate::auth::Caller,
    id: Uuid,
    action: impl AsyncFnOnce(&crate::store::WriteTx, &crate::auth::Caller, Uuid) -> Result<T, crate::error::ApiError>,
) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    use super::idempotency::Respond;
    let tx = state.store.write(&caller.actor()).await?;
    let item = action(&tx, &caller, id).await?;
    tx.respond(super::ok_versioned(&item, item.version())).await
}

pub(crate) use {action_endpoint, create_endpoint, read_endpoint, update_endpoint};
