//! Cursor pagination shared by every list: `?limit=&cursor=&updated_since=`, stable id order.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 1000;

/// Query parameters every list accepts.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–1000 (default 50).
    #[param(minimum = 1, maximum = 1000, example = 50)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]{21}[AQgw]$")]
    pub cursor: Option<String>,
    /// Only rows created or changed at or after this instant (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

/// The parsed page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Uuid>,
    pub updated_since: Option<DateTime<Utc>>,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                "page.limit_out_of_range",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
                ApiError::invalid(
                    "cursor",
                    "page.cursor_invalid",
                    "cursor is not a cursor this service issued",
                )
            })?),
        };
        Ok(PageRequest {
            limit,
            after,
            updated_since: self.updated_since,
        })
    }
}

pub fn encode_cursor(last: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order; `id` reads a row's id.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        request: &PageRequest,
        id: impl Fn(&R) -> Uuid,
        map: impl FnMut(R) -> T,
    ) -> Self {
        let more = rows.len() as u64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id(r)))
        } else {
            None
        };
        Self {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
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
