//! The command line: `kaohe serve` (default), `migrate`, `openapi`, `county`, `user`, `audit`, `demo`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::Role;
use crate::config::Settings;
use crate::startup::Application;
use crate::store::{checkpoint, org_units, users, Actor, Store};

#[derive(Debug, Parser)]
#[command(
    name = "kaohe",
    version,
    about = "County assessment service (考核): scores, explained, audited"
)]
pub struct Cli {
    /// Configuration file (default: ./kaohe.toml when present). Environment variables
    /// KAOHE__SECTION__KEY override it.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve {
        /// Load the demo county first when the database has none.
        #[arg(long)]
        demo: bool,
    },
    /// Database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Manage counties (tenants).
    County {
        #[command(subcommand)]
        action: CountyAction,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Upload a file of findings, ballots, scoresheets, subjects or attributes to a running
    /// service, as a background job followed with a progress bar.
    Upload(crate::upload::UploadRequest),
    /// Load a realistic demo county (Seed A town and Seed B county) into the database.
    Demo {
        /// Scale factor for the generated data (1 = a normal county).
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Counties to load (a province is 100): the first, then `示范县-002`, … each with the demo.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        counties: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// List migrations and whether they are applied.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum CountyAction {
    /// Create a county and its first admin.
    Create {
        name: String,
        /// Username of the county's first admin.
        #[arg(long)]
        admin: String,
        /// Password of that admin (or set KAOHE_ADMIN_PASSWORD).
        #[arg(long, env = "KAOHE_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user at an org unit.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// The org unit id (county, township or village).
        #[arg(long)]
        org_unit: uuid::Uuid,
        /// admin, assessor or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Password (or set KAOHE_USER_PASSWORD).
        #[arg(long, env = "KAOHE_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Recompute every county's hash chain and name the first broken event; with `--against`,
    /// also check the trail against signed checkpoints (a truncated or rewritten trail).
    Verify {
        /// A file of checkpoints printed by `kaohe audit checkpoint` (one JSON object a line),
        /// checked with the public half of `audit.checkpoint_key_pem`.
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// Print every county's chain head signed with `audit.checkpoint_key_pem` (Ed25519), one
    /// JSON object a line, for an office to keep or publish.
    Checkpoint,
}

fn parse_role(value: &str) -> Result<Role, String> {
    crate::auth::parse_name(value).ok_or_else(|| "role must be admin, assessor or viewer".to_owned())
}

/// Runs a command; the process exit code says whether it worked.
pub fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("kaohe: {err}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve { demo: false });
    if let Command::Openapi = command {
        let doc = crate::api::openapi(&settings.server.public_url);
        return match doc.to_pretty_json() {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("kaohe: {err}");
                ExitCode::FAILURE
            }
        };
    }
    let traces = match crate::telemetry::init(&settings.log, &settings.telemetry) {
        Ok(traces) => traces,
        Err(err) => {
            eprintln!("kaohe: {err}");
            return ExitCode::from(2);
        }
    };
    let outcome = actix_web::rt::System::new().block_on(execute(command, settings));
    if let Some(traces) = traces {
        traces.shutdown();
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kaohe: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The checkpoint signing key of the configuration.
fn checkpoint_key(settings: &Settings) -> Result<ed25519_dalek::SigningKey, String> {
    let pem = settings
        .audit
        .checkpoint_key_pem
        .as_ref()
        .ok_or("audit.checkpoint_key_pem is not set: it signs and checks checkpoints")?;
    checkpoint::signing_key(pem.expose()).map_err(|e| format!("audit.checkpoint_key_pem: {e}"))
}

async fn audit_command(action: AuditAction, settings: &Settings) -> Result<(), String> {
    let store = Store::connect(&settings.database)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let against = match action {
        AuditAction::Checkpoint => {
            let key = checkpoint_key(settings)?;
            for line in checkpoint::checkpoint(store.db(), &key)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{}", serde_json::to_string(&line).map_err(|e| e.to_string())?);
            }
            return Ok(());
        }
        AuditAction::Verify { against } => against,
    };
    let report = crate::store::audit::verify(store.db())
        .await
        .map_err(|e| e.to_string())?;
    let mut broken = report.broken;
    if let Some(path) = against {
        let trusted = checkpoint_key(settings)?.verifying_key();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let checkpoints = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<Vec<checkpoint::Checkpoint>, _>>()
            .map_err(|e| format!("{}: not a checkpoint file ({e})", path.display()))?;
        broken.extend(
            checkpoint::verify_against(store.db(), &checkpoints, &trusted)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    if broken.is_empty() {
        println!(
            "audit trail verified: {} counties, {} events, {} data rows as the trail recorded them, no break",
            report.counties, report.events, report.rows
        );
        Ok(())
    } else {
        for b in &broken {
            println!("BROKEN county {} at event {}: {}", b.county_id, b.seq, b.reason);
        }
        Err(format!("audit trail broken: {} finding(s)", broken.len()))
    }
}

async fn open_store(settings: &Settings) -> Result<Store, String> {
    let store = Store::connect(&settings.database)
        .await
        .map_err(|e| format!("database: {e}"))?;
    store.migrate().await.map_err(|e| format!("migrations failed: {e}"))?;
    Ok(store)
}

async fn execute(command: Command, settings: Settings) -> Result<(), String> {
    match command {
        Command::Serve { demo } => serve(demo, settings).await,
        Command::Migrate { action } => migrate_command(action, &settings).await,
        Command::Openapi => Ok(()),
        Command::County {
            action: CountyAction::Create { name, admin, password },
        } => create_county(&settings, name, admin, password).await,
        Command::User {
            action:
                UserAction::Create {
                    username,
                    display_name,
                    org_unit,
                    role,
                    password,
                },
        } => {
            let new = crate::api::users::NewUser {
                username,
                display_name,
                password,
                org_unit_id: org_unit,
                role,
            };
            create_user(&settings, new).await
        }
        Command::Audit { action } => audit_command(action, &settings).await,
        Command::Demo { scale, counties } => load_demo(&settings, scale, counties).await,
        Command::Upload(request) => crate::upload::upload(request).await,
    }
}

async fn serve(demo: bool, settings: Settings) -> Result<(), String> {
    if demo {
        let store = open_store(&settings).await?;
        crate::startup::bootstrap(&store, &settings)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(summary) = crate::demo::load_if_absent(&store, 1)
            .await
            .map_err(|e| e.to_string())?
        {
            println!("{summary}");
        }
    }
    let app = Application::build(settings).await.map_err(|e| e.to_string())?;
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

async fn migrate_command(action: MigrateAction, settings: &Settings) -> Result<(), String> {
    let store = Store::connect(&settings.database)
        .await
        .map_err(|e| format!("database: {e}"))?;
    use migration::MigratorTrait;
    match action {
        MigrateAction::Up => {
            migration::Migrator::up(store.db(), None)
                .await
                .map_err(|e| e.to_string())?;
            println!("migrations applied");
        }
        MigrateAction::Status => {
            let applied = migration::Migrator::get_applied_migrations(store.db())
                .await
                .map_err(|e| e.to_string())?;
            let pending = migration::Migrator::get_pending_migrations(store.db())
                .await
                .map_err(|e| e.to_string())?;
            for m in applied {
                println!("applied  {}", m.name());
            }
            for m in pending {
                println!("pending  {}", m.name());
            }
        }
    }
    Ok(())
}

async fn create_county(settings: &Settings, name: String, admin: String, password: String) -> Result<(), String> {
    let store = open_store(settings).await?;
    let county = crate::startup::create_county_with_admin(&store, "cli", &name, admin.clone(), password)
        .await
        .map_err(|e| e.to_string())?;
    println!("county {name} created: {}; admin user {admin}", county.id);
    Ok(())
}

async fn create_user(settings: &Settings, new: crate::api::users::NewUser) -> Result<(), String> {
    let store = open_store(settings).await?;
    let org_unit = new.org_unit_id;
    let unit = org_units::find(store.db(), org_unit)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no org unit {org_unit}"))?;
    let tx = store
        .write(&Actor::system(unit.county_id, "cli"))
        .await
        .map_err(|e| e.to_string())?;
    let user = users::create(&tx, None, unit.county_id, new)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    println!("user {} created: {}", user.username, user.id);
    Ok(())
}

async fn load_demo(settings: &Settings, scale: u32, counties: u32) -> Result<(), String> {
    let store = open_store(settings).await?;
    crate::startup::bootstrap(&store, settings)
        .await
        .map_err(|e| e.to_string())?;
    let summaries = crate::demo::load_province(&store, counties, scale)
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", summaries[0]);
    if counties > 1 {
        let findings: usize = summaries.iter().map(|s| s.findings).sum();
        let subjects: usize = summaries.iter().map(|s| s.subjects).sum();
        println!("province loaded: {counties} counties, {subjects} subjects, {findings} findings");
    }
    Ok(())
}
