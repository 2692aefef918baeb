//! `DbDecimal`: an exact decimal column that round-trips on both databases.
//!
//! sea-orm reads `Decimal` from SQLite through `f64`, which would make points floats. This type
//! is written as `Decimal` (PostgreSQL `NUMERIC`; on SQLite sea-query binds it as text) and read
//! back as text on SQLite or as `NUMERIC` on PostgreSQL, so no float is ever involved.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DbDecimal(pub Decimal);

impl From<Decimal> for DbDecimal {
    fn from(value: Decimal) -> Self {
        Self(value)
    }
}

impl From<DbDecimal> for Decimal {
    fn from(value: DbDecimal) -> Self {
        value.0
    }
}

impl From<DbDecimal> for Value {
    fn from(value: DbDecimal) -> Self {
        Value::Decimal(Some(value.0))
    }
}

impl Nullable for DbDecimal {
    fn null() -> Value {
        Value::Decimal(None)
    }
}

impl ValueType for DbDecimal {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::Decimal(Some(d)) => Ok(Self(d)),
            Value::String(Some(s)) => Decimal::from_str(&s).map(Self).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "DbDecimal".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::Decimal
    }

    fn column_type() -> ColumnType {
        ColumnType::Decimal(None)
    }
}

/// Which encoding the last decoded decimal had: text (SQLite) or NUMERIC (PostgreSQL). Trying that
/// one first means a failed decode (and its error allocation) only when the backend changes.
static LAST_WAS_TEXT: AtomicBool = AtomicBool::new(true);

fn from_text<I: ColIdx>(index: I, text: Option<String>) -> Result<DbDecimal, TryGetError> {
    let text = text.ok_or_else(|| TryGetError::Null(format!("{index:?}")))?;
    Decimal::from_str(&text).map(DbDecimal).map_err(|e| {
        TryGetError::DbErr(sea_orm::DbErr::Type(format!(
            "column {index:?} holds {text:?}, not a decimal: {e}"
        )))
    })
}

fn from_numeric<I: ColIdx>(index: I, value: Option<Decimal>) -> Result<DbDecimal, TryGetError> {
    value
        .map(DbDecimal)
        .ok_or_else(|| TryGetError::Null(format!("{index:?}")))
}

impl TryGetable for DbDecimal {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        // SQLite stores the decimal as text; PostgreSQL refuses to decode NUMERIC as text and
        // SQLite refuses to decode text as a number, so exactly one of the two works.
        // Each decoder fails with a `DbErr` on the other encoding, else answers the decoded value.
        let text = |res: &QueryResult| {
            <Option<String> as TryGetable>::try_get_by(res, index).map(|text| from_text(index, text))
        };
        let numeric = |res: &QueryResult| {
            <Option<Decimal> as TryGetable>::try_get_by(res, index).map(|value| from_numeric(index, value))
        };
        type Decoder<'a> = &'a dyn Fn(&QueryResult) -> Result<Result<DbDecimal, TryGetError>, TryGetError>;
        let text_first = LAST_WAS_TEXT.load(Ordering::Relaxed);
        let (first, second): (Decoder, Decoder) = if text_first {
            (&text, &numeric)
        } else {
            (&numeric, &text)
        };
        match first(res) {
            Ok(decoded) => decoded,
            Err(TryGetError::Null(column)) => Err(TryGetError::Null(column)),
            Err(TryGetError::DbErr(_)) => {
                let decoded = second(res)?;
                LAST_WAS_TEXT.store(!text_first, Ordering::Relaxed);
                decoded
            }
        }
    }
}
