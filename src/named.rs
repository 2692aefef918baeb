//! Enumerations named in snake_case alike in JSON, in the OpenAPI document and in the database.

/// Declares an enumeration whose values are snake_case names everywhere: serde, utoipa and a
/// sea-orm text column (`DeriveActiveEnum`), so an entity's column holds the type itself and a
/// stored name is parsed once, where the row is read.
macro_rules! named_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
        #[serde(rename_all = "snake_case")]
        $vis enum $name { $($body)* }
    };
}

pub(crate) use named_enum;
