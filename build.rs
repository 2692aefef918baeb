//! Tells utoipa that every `Decimal` in a schema is an exact decimal written as a JSON string.
fn main() {
    utoipa_config::Config::new()
        .alias_for("Decimal", "crate::decimal::DecimalString")
        .alias_for("Exact", "crate::decimal::DecimalString")
        .write_to_file();
    println!("cargo:rerun-if-changed=build.rs");
}
