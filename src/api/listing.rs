//! Lists: every `GET` of a collection is declared by `list_endpoint!`, answers a JSON page by
//! default, and with `Accept: text/csv` or `application/x-ndjson` every matching row at once,
//! streamed batch by batch so a data platform need not page.

use std::future::Future;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;
use uuid::Uuid;

use super::endpoints::Resource;
use super::export::{defuse, CSV, NDJSON};
use crate::error::ApiError;
use crate::store::page::{decode_cursor, DEFAULT_LIMIT};
use crate::store::page::{encode_cursor, PageRequest, MAX_LIMIT};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

/// Declares a list handler and its OpenAPI operation (the calling module imports `actix_web::get`). `$fetch` is the body of an async function
/// of `($state: &AppState, $caller: &Caller, $filter: &Filter, $page: &PageRequest)` answering up
/// to `page.limit + 1` items in id order.
macro_rules! list_endpoint {
    (
        $(#[doc = $doc:expr])*
        $name:ident: GET $path:literal, tag $tag:literal, operation $operation:literal,
        filter $filter_type:ty, items $item:ty $(, described $described:literal)?,
        |$state:ident, $caller:ident, $filter:ident, $page:ident| $fetch:expr
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $operation,
            params($crate::api::listing::PageParams, $filter_type),
            responses((status = 200,
                description = concat!("One page", $(" ", $described,)? "; with `Accept: text/csv` or \
                    `application/x-ndjson`, every matching row after `cursor`"),
                content(
                    ($crate::api::listing::Page<$item> = "application/json"),
                    (String = "text/csv"),
                    ($item = "application/x-ndjson")
                )))
        )]
        #[get($path)]
        async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            caller: $crate::auth::Caller,
            req: actix_web::HttpRequest,
            page: $crate::api::Query<$crate::api::listing::PageParams>,
            filter: $crate::api::Query<$filter_type>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            async fn fetch(
                $state: &$crate::state::AppState,
                $caller: &$crate::auth::Caller,
                $filter: &$filter_type,
                $page: &$crate::store::page::PageRequest,
            ) -> Result<Vec<$item>, $crate::error::ApiError> {
                $fetch
            }
            let listing = $crate::api::listing::Listing::of(&req, &page)?;
            let filter = filter.into_inner();
            let first = fetch(&state, &caller, &filter, &listing.page).await?;
            Ok(listing.answer(first, move |page| {
                let (state, caller, filter) = (state.clone(), caller.clone(), filter.clone());
                async move { fetch(&state, &caller, &filter, &page).await }
            }))
        }
    };
}

pub(crate) use list_endpoint;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Representation {
    Page,
    Csv,
    Ndjson,
}

/// What a list request asked for: a page of JSON, or every row as CSV or NDJSON.
pub struct Listing {
    representation: Representation,
    /// The page to fetch first; for CSV and NDJSON, the batch size is the largest page.
    pub page: PageRequest,
}

impl Listing {
    pub fn of(req: &HttpRequest, params: &PageParams) -> Result<Self, ApiError> {
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let representation = if accept.contains("text/csv") {
            Representation::Csv
        } else if accept.contains(NDJSON) {
            Representation::Ndjson
        } else {
            Representation::Page
        };
        let mut page = params.parse()?;
        if representation != Representation::Page {
            page.limit = MAX_LIMIT;
        }
        Ok(Self { representation, page })
    }

    /// Answers the first batch, and for CSV and NDJSON every later batch `next` fetches.
    pub fn answer<T, F, Fut>(self, first: Vec<T>, next: F) -> HttpResponse
    where
        T: Resource,
        F: FnMut(PageRequest) -> Fut + 'static,
        Fut: Future<Output = Result<Vec<T>, ApiError>> + 'static,
    {
        if self.representation == Representation::Page {
            return HttpResponse::Ok().json(page_of(first, &self.page));
        }
        let encoder = Encoder::new::<T>(self.representation);
        let content_type = if self.representation == Representation::Csv {
            CSV
        } else {
            NDJSON
        };
        let batches = Batches {
            pending: Some(first),
            page: self.page,
            next,
            encoder,
        };
        HttpResponse::Ok()
            .content_type(content_type)
            .streaming(futures_util::stream::unfold(batches, Batches::step))
    }
}

/// A page of up to `request.limit` items, from up to `limit + 1` fetched.
pub fn page_of<T: Resource>(mut items: Vec<T>, request: &PageRequest) -> Page<T> {
    let next_cursor = cut(&mut items, request.limit).map(encode_cursor);
    Page { items, next_cursor }
}

/// Keeps `limit` items; the id to continue after when more were fetched.
fn cut<T: Resource>(items: &mut Vec<T>, limit: u64) -> Option<Uuid> {
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    if more {
        items.last().map(Resource::id)
    } else {
        None
    }
}

/// The state of a streamed list: the batch in hand and how to fetch the next.
struct Batches<T, F> {
    pending: Option<Vec<T>>,
    page: PageRequest,
    next: F,
    encoder: Encoder,
}

impl<T, F, Fut> Batches<T, F>
where
    T: Resource,
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ApiError>>,
{
    async fn step(mut self) -> Option<(Result<Bytes, std::convert::Infallible>, Self)> {
        let mut items = match self.pending.take() {
            Some(items) => items,
            None => {
                self.page.after?;
                match (self.next)(self.page).await {
                    Ok(items) => items,
                    // The status line has gone: a cut-off body is all that can tell the client.
                    Err(error) => {
                        tracing::warn!(%error, "a streamed list stopped");
                        return None;
                    }
                }
            }
        };
        self.page.after = cut(&mut items, self.page.limit);
        let bytes = self.encoder.encode(&items);
        if bytes.is_empty() && self.page.after.is_none() {
            return None;
        }
        Some((Ok(Bytes::from(bytes)), self))
    }
}

/// Writes items as CSV rows (one column per field, nested values as JSON text) or NDJSON lines.
struct Encoder {
    representation: Representation,
    /// CSV columns, from the item's schema (or its first item); written with the first batch.
    columns: Option<Vec<String>>,
    header_written: bool,
}

impl Encoder {
    fn new<T: ToSchema>(representation: Representation) -> Self {
        let columns = match T::schema() {
            RefOr::T(Schema::Object(object)) => Some(object.properties.keys().cloned().collect()),
            _ => None,
        };
        Self {
            representation,
            columns,
            header_written: false,
        }
    }

    fn encode<T: Serialize>(&mut self, items: &[T]) -> Vec<u8> {
        let values: Vec<Value> = items.iter().filter_map(|i| serde_json::to_value(i).ok()).collect();
        if self.representation == Representation::Ndjson {
            let mut out = Vec::new();
            for value in &values {
                out.extend_from_slice(value.to_string().as_bytes());
                out.push(b'\n');
            }
            return out;
        }
        if self.columns.is_none() {
            self.columns = values
                .first()
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect());
        }
        let columns = self.columns.as_deref().unwrap_or_default();
        let header = !self.header_written && !columns.is_empty();
        let mut out = Vec::new();
        if header {
            // A UTF-8 BOM first, so Excel reads the Chinese in the file.
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        {
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut out);
            // Writing to a Vec cannot fail.
            if header {
                let _ = writer.write_record(columns);
                self.header_written = true;
            }
            for value in &values {
                let _ = writer.write_record(columns.iter().map(|c| defuse(&cell_text(value.get(c)))));
            }
            let _ = writer.flush();
        }
        out
    }
}

/// A CSV cell: text as it is, numbers and booleans as JSON writes them, nested values as JSON.
fn cell_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The filter of a list that has none.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Unfiltered {}

// ---- request and response types ----

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

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                "page.limit_out_of_range",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )
            .arg("max", MAX_LIMIT));
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
