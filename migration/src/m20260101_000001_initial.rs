//! The initial schema. Every table carries `county_id` so a distributed PostgreSQL can shard by
//! county; points are exact (`NUMERIC` on PostgreSQL, decimal text on SQLite, never REAL).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(n: &str) -> Alias {
    Alias::new(n)
}

/// Column builders, so each table below reads as a list of fields.
struct Cols {
    backend: DbBackend,
}

impl Cols {
    fn id(&self) -> ColumnDef {
        ColumnDef::new(name("id")).uuid().not_null().primary_key().take()
    }
    fn uuid(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).uuid().not_null().take()
    }
    fn uuid_null(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).uuid().null().take()
    }
    fn text(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).text().not_null().take()
    }
    fn text_null(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).text().null().take()
    }
    fn int(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).integer().not_null().take()
    }
    fn int_null(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).integer().null().take()
    }
    fn big(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).big_integer().not_null().take()
    }
    fn boolean(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).boolean().not_null().take()
    }
    fn time(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).timestamp_with_time_zone().not_null().take()
    }
    fn time_null(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).timestamp_with_time_zone().null().take()
    }
    fn date(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).date().not_null().take()
    }
    fn date_null(&self, n: &str) -> ColumnDef {
        ColumnDef::new(name(n)).date().null().take()
    }
    /// An exact decimal: PostgreSQL `NUMERIC` (unconstrained, so the scale given is kept);
    /// SQLite `TEXT`, because SQLite's NUMERIC affinity would turn `1.50` into a float.
    fn decimal_null(&self, n: &str) -> ColumnDef {
        let mut col = ColumnDef::new(name(n));
        match self.backend {
            DbBackend::Postgres => col.custom(name("NUMERIC")),
            _ => col.text(),
        };
        col.null().take()
    }
    fn decimal(&self, n: &str) -> ColumnDef {
        let mut col = self.decimal_null(n);
        col.not_null();
        col
    }
    /// `county_id`, `created_at`, `updated_at` and `version`: the columns every mutable row has.
    fn standard(&self, table: &mut TableCreateStatement) {
        table
            .col(self.uuid("county_id"))
            .col(self.time("created_at"))
            .col(self.time("updated_at"))
            .col(self.int("version"));
    }
}

fn index(table: &str, suffix: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{suffix}")).table(name(table));
    for c in columns {
        stmt.col(name(c));
    }
    stmt.take()
}

fn unique(table: &str, suffix: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = index(table, suffix, columns);
    stmt.name(format!("ux_{table}_{suffix}")).unique();
    stmt
}

/// The tables and indexes of the schema, in the order they are created.
#[derive(Default)]
struct Schema {
    tables: Vec<TableCreateStatement>,
    indexes: Vec<IndexCreateStatement>,
}

/// Org units, the users and service accounts who act in them, and the login throttle.
fn identity_tables(c: &Cols, schema: &mut Schema) {
    let Schema { tables, indexes } = schema;
    // Org units: county → townships → villages; departments under the county.
    let mut t = Table::create().table(name("org_units")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid_null("parent_id"))
        .col(c.text("kind"))
        .col(c.text("name"))
        .col(c.text_null("code"))
        .col(c.uuid_null("township_id"))
        .col(c.uuid_null("village_id"))
        .col(c.boolean("active"));
    tables.push(t);
    indexes.push(index("org_units", "county_id", &["county_id", "id"]));
    indexes.push(index("org_units", "updated", &["county_id", "updated_at"]));

    let mut t = Table::create().table(name("users")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("org_unit_id"))
        .col(c.uuid_null("township_id"))
        .col(c.uuid_null("village_id"))
        .col(c.text("username"))
        .col(c.text("display_name"))
        .col(c.text("level"))
        .col(c.text("role"))
        .col(c.text("password_hash"))
        .col(c.boolean("active"));
    tables.push(t);
    indexes.push(unique("users", "username", &["username"]));
    indexes.push(index("users", "county_id", &["county_id", "id"]));

    let mut t = Table::create().table(name("service_accounts")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.text("client_id"))
        .col(c.text("name"))
        .col(c.text("secret_hash"))
        .col(c.boolean("active"));
    tables.push(t);
    indexes.push(unique("service_accounts", "client_id", &["client_id"]));

    let mut t = Table::create().table(name("login_throttle")).take();
    t.col(ColumnDef::new(name("key")).text().not_null().primary_key())
        .col(c.int("failures"))
        .col(c.time("window_started_at"));
    tables.push(t);
}

/// Schemes and their rubric versions.
fn scheme_tables(c: &Cols, schema: &mut Schema) {
    let Schema { tables, indexes } = schema;
    // Schemes: one year's assessment set-up in a county or a town.
    let mut t = Table::create().table(name("schemes")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("org_unit_id"))
        .col(c.uuid_null("township_id"))
        .col(c.text("key"))
        .col(c.text("title"))
        .col(c.int("year"))
        .col(c.text_null("built_in"))
        .col(c.text("definition"))
        .col(c.boolean("active"));
    tables.push(t);
    indexes.push(unique(
        "schemes",
        "key_year",
        &["county_id", "org_unit_id", "key", "year"],
    ));

    // Rubric versions: immutable once used; an edit of a used version is a new row.
    let mut t = Table::create().table(name("rubrics")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("scheme_id"))
        .col(c.text("subject_type"))
        .col(c.int("version_no"))
        .col(c.boolean("current"))
        .col(c.boolean("used"))
        .col(c.text("definition"));
    tables.push(t);
    indexes.push(unique(
        "rubrics",
        "version",
        &["scheme_id", "subject_type", "version_no"],
    ));
}

/// Subjects and their per-scheme attributes.
fn subject_tables(c: &Cols, schema: &mut Schema) {
    let Schema { tables, indexes } = schema;
    let mut t = Table::create().table(name("subjects")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.text("subject_type"))
        .col(c.text("name"))
        .col(c.uuid_null("org_unit_id"))
        .col(c.uuid_null("township_id"))
        .col(c.uuid_null("village_id"))
        .col(c.uuid_null("dispatched_by"))
        .col(c.uuid_null("stationed_in"))
        .col(c.text_null("external_code"))
        .col(c.boolean("active"));
    tables.push(t);
    indexes.push(index("subjects", "county_id", &["county_id", "id"]));
    indexes.push(index("subjects", "updated", &["county_id", "updated_at"]));

    let mut t = Table::create().table(name("subject_attributes")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("scheme_id"))
        .col(c.uuid("subject_id"))
        .col(c.boolean("has_special_indicators"))
        .col(c.text_null("ranking_group"))
        .col(c.boolean("annual_target_met"))
        .col(c.boolean("recalled"));
    tables.push(t);
    indexes.push(unique("subject_attributes", "subject", &["scheme_id", "subject_id"]));
}

/// Findings (incidents) and the appeals against them.
fn finding_tables(c: &Cols, schema: &mut Schema) {
    let Schema { tables, indexes } = schema;
    // Findings. Never deleted: revoked with a reason.
    let mut t = Table::create().table(name("incidents")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("scheme_id"))
        .col(c.uuid("rubric_id"))
        .col(c.uuid("subject_id"))
        .col(c.uuid_null("township_id"))
        .col(c.uuid_null("village_id"))
        .col(c.text("kind"))
        .col(c.text_null("item_code"))
        .col(c.text_null("rule_code"))
        .col(c.date("occurred_on"))
        .col(c.int("quantity"))
        .col(c.text_null("period"))
        .col(c.decimal_null("rate"))
        .col(c.int_null("sampled"))
        .col(c.int_null("correct"))
        .col(c.decimal_null("amount"))
        .col(c.decimal_null("points"))
        .col(c.text_null("event_key"))
        .col(c.text("source"))
        .col(c.text_null("note"))
        .col(c.text("evidence"))
        .col(c.uuid("recorded_by"))
        .col(c.uuid_null("upload_id"))
        .col(c.text("status"))
        .col(c.time_null("revoked_at"))
        .col(c.uuid_null("revoked_by"))
        .col(c.text_null("revoke_reason"));
    tables.push(t);
    indexes.push(index("incidents", "scheme", &["county_id", "scheme_id", "subject_id"]));
    indexes.push(index("incidents", "subject", &["subject_id", "occurred_on"]));
    indexes.push(index("incidents", "updated", &["county_id", "updated_at"]));
    indexes.push(index("incidents", "county_id", &["county_id", "id"]));

    let mut t = Table::create().table(name("appeals")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("incident_id"))
        .col(c.uuid("subject_id"))
        .col(c.uuid_null("township_id"))
        .col(c.uuid_null("village_id"))
        .col(c.text("reason"))
        .col(c.text("status"))
        .col(c.uuid("filed_by"))
        .col(c.uuid_null("decided_by"))
        .col(c.time_null("decided_at"))
        .col(c.text_null("decision_note"));
    tables.push(t);
    indexes.push(index("appeals", "incident", &["incident_id"]));
    indexes.push(index("appeals", "county_id", &["county_id", "id"]));
}

/// Evaluations, their scoresheets with items, and ballots.
fn evaluation_tables(c: &Cols, schema: &mut Schema) {
    let Schema { tables, indexes } = schema;
    let mut t = Table::create().table(name("evaluations")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("scheme_id"))
        .col(c.uuid("org_unit_id"))
        .col(c.uuid_null("township_id"))
        .col(c.text("kind"))
        .col(c.text("key"))
        .col(c.text("title"))
        .col(c.date("window_from"))
        .col(c.date("window_to"))
        .col(c.text("status"))
        .col(c.time_null("closed_at"));
    tables.push(t);
    indexes.push(unique("evaluations", "key", &["scheme_id", "key"]));

    // Scoresheets are immutable; a correction supersedes (revokes) the previous sheet.
    let mut t = Table::create().table(name("scoresheets")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("scheme_id"))
        .col(c.uuid("evaluation_id"))
        .col(c.uuid("subject_id"))
        .col(c.uuid_null("township_id"))
        .col(c.uuid_null("village_id"))
        .col(c.uuid("assessor_id"))
        .col(c.text("assessor_name"))
        .col(c.text_null("note"))
        .col(c.uuid_null("upload_id"))
        .col(c.time_null("revoked_at"))
        .col(c.uuid_null("superseded_by"));
    tables.push(t);
    indexes.push(index(
        "scoresheets",
        "evaluation",
        &["county_id", "scheme_id", "evaluation_id"],
    ));
    indexes.push(index(
        "scoresheets",
        "subject",
        &["evaluation_id", "subject_id", "assessor_id"],
    ));

    let mut t = Table::create().table(name("scoresheet_items")).take();
    t.col(c.id())
        .col(c.uuid("county_id"))
        .col(c.uuid("scoresheet_id"))
        .col(c.text("item_code"))
        .col(c.decimal("score"));
    tables.push(t);
    indexes.push(unique("scoresheet_items", "item", &["scoresheet_id", "item_code"]));

    let mut t = Table::create().table(name("ballots")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("scheme_id"))
        .col(c.uuid("evaluation_id"))
        .col(c.uuid("subject_id"))
        .col(c.uuid_null("township_id"))
        .col(c.uuid_null("village_id"))
        .col(c.decimal("score"))
        .col(c.text_null("participant"))
        .col(c.uuid("recorded_by"))
        .col(c.uuid_null("upload_id"))
        .col(c.time_null("revoked_at"));
    tables.push(t);
    indexes.push(index(
        "ballots",
        "evaluation",
        &["county_id", "scheme_id", "evaluation_id"],
    ));
}

/// Publications: frozen, numbered results.
fn publication_tables(c: &Cols, schema: &mut Schema) {
    let Schema { tables, indexes } = schema;
    let mut t = Table::create().table(name("publications")).take();
    t.col(c.id());
    c.standard(&mut t);
    t.col(c.uuid("scheme_id"))
        .col(c.uuid("org_unit_id"))
        .col(c.uuid_null("township_id"))
        .col(c.int("number"))
        .col(c.text("kind"))
        .col(c.text("group_key"))
        .col(c.text("title"))
        .col(c.date_null("period_end"))
        .col(c.time("as_of"))
        .col(c.boolean("public"))
        .col(c.uuid_null("supersedes_id"))
        .col(c.text_null("correction_reason"))
        .col(c.text("content"))
        .col(c.text("content_hash"))
        .col(c.uuid("published_by"));
    tables.push(t);
    indexes.push(unique("publications", "number", &["scheme_id", "number"]));
}

/// The audit trail and each county's chain head.
fn audit_tables(c: &Cols, schema: &mut Schema) {
    let Schema { tables, indexes } = schema;
    // The audit trail: one hash chain per county, append-only.
    let mut t = Table::create().table(name("audit_events")).take();
    t.col(c.uuid("county_id"))
        .col(c.big("seq"))
        .col(c.uuid("id"))
        .col(c.time("occurred_at"))
        .col(c.uuid_null("actor_id"))
        .col(c.text("actor"))
        .col(c.text("role"))
        .col(c.text("level"))
        .col(c.uuid_null("scope_org_unit_id"))
        .col(c.text("action"))
        .col(c.text("entity"))
        .col(c.uuid_null("entity_id"))
        .col(c.text_null("request_id"))
        .col(c.text_null("before"))
        .col(c.text_null("after"))
        .col(c.text("prev_hash"))
        .col(c.text("hash"))
        .primary_key(Index::create().col(name("county_id")).col(name("seq")));
    tables.push(t);
    indexes.push(index("audit_events", "entity", &["county_id", "entity", "entity_id"]));

    let mut t = Table::create().table(name("audit_heads")).take();
    t.col(ColumnDef::new(name("county_id")).uuid().not_null().primary_key())
        .col(c.big("seq"))
        .col(c.text("hash"));
    tables.push(t);
}

/// Stored answers to idempotent requests.
fn idempotency_tables(c: &Cols, schema: &mut Schema) {
    let tables = &mut schema.tables;
    let mut t = Table::create().table(name("idempotency_keys")).take();
    t.col(c.uuid("county_id"))
        .col(c.text("principal"))
        .col(c.text("key"))
        .col(c.text("method_path"))
        .col(c.text_null("request_hash"))
        .col(c.text("status"))
        .col(c.int_null("response_status"))
        .col(c.text_null("response_headers"))
        .col(c.text_null("response_body"))
        .col(c.time("created_at"))
        .col(c.time("expires_at"))
        .primary_key(Index::create().col(name("principal")).col(name("key")));
    tables.push(t);
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Cols {
            backend: manager.get_database_backend(),
        };
        let mut schema = Schema::default();
        identity_tables(&c, &mut schema);
        scheme_tables(&c, &mut schema);
        subject_tables(&c, &mut schema);
        finding_tables(&c, &mut schema);
        evaluation_tables(&c, &mut schema);
        publication_tables(&c, &mut schema);
        audit_tables(&c, &mut schema);
        idempotency_tables(&c, &mut schema);

        for t in schema.tables {
            manager.create_table(t).await?;
        }
        for i in schema.indexes {
            manager.create_index(i).await?;
        }

        if c.backend == DbBackend::Postgres {
            // The audit trail is append-only even for someone with SQL access through the app role.
            manager
                .get_connection()
                .execute_unprepared(
                    r#"
CREATE OR REPLACE FUNCTION kaohe_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION kaohe_audit_append_only();
"#,
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "idempotency_keys",
            "audit_heads",
            "audit_events",
            "publications",
            "ballots",
            "scoresheet_items",
            "scoresheets",
            "evaluations",
            "appeals",
            "incidents",
            "subject_attributes",
            "subjects",
            "rubrics",
            "schemes",
            "login_throttle",
            "service_accounts",
            "users",
            "org_units",
        ] {
            manager
                .drop_table(Table::drop().table(name(table)).if_exists().take())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS kaohe_audit_append_only()")
                .await?;
        }
        Ok(())
    }
}
