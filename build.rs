//! Tells utoipa that every `Decimal` in a schema is an exact decimal written as a JSON string,
//! and every `NaiveDate` a `YYYY-MM-DD` string of the published pattern.
fn main() {
    utoipa_config::Config::new()
        .alias_for("Decimal", "crate::decimal::DecimalString")
        .alias_for("Exact", "crate::decimal::DecimalString")
        .alias_for("NaiveDate", "crate::date::DateString")
        .write_to_file();
    println!("cargo:rerun-if-changed=build.rs");
}
