//! Cursor pagination shared by every list: `?limit=&cursor=&updated_since=`, stable id order.

use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 1000;

/// The parsed page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Uuid>,
    pub updated_since: Option<DateTime<Utc>>,
}

pub fn encode_cursor(last: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// Applies a page request to a query of a table with `id` and `updated_at` columns.
pub fn paginate<E: sea_orm::EntityTrait>(select: sea_orm::Select<E>, request: &PageRequest) -> sea_orm::Select<E> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait};
    use sea_orm::{Order, QueryFilter, QueryOrder, QuerySelect};
    let mut select = select;
    if let Some(after) = request.after {
        select = select.filter(Expr::col((E::default(), Alias::new("id"))).gt(after));
    }
    if let Some(since) = request.updated_since {
        select = select.filter(Expr::col((E::default(), Alias::new("updated_at"))).gte(since));
    }
    select
        .order_by(Expr::col((E::default(), Alias::new("id"))), Order::Asc)
        .limit(request.limit + 1)
}

/// Declares `pub async fn $name(conn, caller, filter, page)`: one page of the `$entity` rows the
/// caller sees (`$visible`: `visible`, or `visible_shared` for the rules of a county and its
/// towns), narrowed by each filter field given — equal to its column, or by the conditions listed
/// after `also` (`None` when the field is absent).
macro_rules! list_rows {
    (
        $(#[doc = $doc:expr])*
        $name:ident($filter:ty) -> $entity:ident, $visible:ident,
        equal { $($field:ident => $column:ident),* $(,)? }
        $(, also |$f:ident| [$($extra:expr),* $(,)?])?
    ) => {
        $(#[doc = $doc])*
        pub async fn $name<C: sea_orm::ConnectionTrait>(
            conn: &C,
            caller: &$crate::auth::Caller,
            filter: &$filter,
            page: &$crate::store::page::PageRequest,
        ) -> Result<Vec<$entity::Model>, $crate::error::ApiError> {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            let mut select = $entity::Entity::find().filter(caller.$visible($entity::Entity));
            $(
                if let Some(value) = filter.$field.clone() {
                    select = select.filter($entity::Column::$column.eq(value));
                }
            )*
            $(
                let $f = filter;
                for condition in [$($extra),*].into_iter().flatten() {
                    select = select.filter(condition);
                }
            )?
            Ok($crate::store::page::paginate(select, page).all(conn).await?)
        }
    };
}
pub(crate) use list_rows;
