//! Builds the application: the state every request shares (`state::AppState`), the routes and
//! middleware, and the HTTP server bound to its own listener (port 0 in tests).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::{self, JsonLimit};
use crate::auth::tokens::TokenService;
use crate::auth::Role;
use crate::config::Settings;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{org_units, users, Actor, Store};
use crate::telemetry;

/// A running (or ready to run) HTTP server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

/// Why the service could not start; printed as one clear message.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Database(String),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: String, source: std::io::Error },
}

impl Application {
    /// Connects (retrying while the database starts), migrates, bootstraps, binds and starts serving.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let store = connect_with_retry(&settings)
            .await?
            .with_outbox(crate::store::webhooks::Outbox::of(&settings.webhooks));
        if settings.database.migrate_on_start {
            store
                .migrate()
                .await
                .map_err(|e| StartupError::Database(format!("migrations failed: {e}")))?;
        }
        bootstrap(&store, &settings)
            .await
            .map_err(|e| StartupError::Database(format!("bootstrap failed: {e}")))?;
        let tokens = TokenService::from_settings(&settings.auth).map_err(StartupError::Config)?;
        let objects = crate::objects::Objects::from_settings(&settings.evidence).map_err(StartupError::Config)?;
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(settings.server.port);
        let local_url = listener.local_addr().map(local_url).unwrap_or_default();
        let state = web::Data::new(AppState {
            local_url,
            settings: Arc::new(settings),
            store,
            tokens,
            results: Default::default(),
            accounts: Default::default(),
            objects,
            jobs: Default::default(),
        });
        let server = serve(listener, state.clone()).map_err(|source| StartupError::Bind { address, source })?;
        crate::webhooks::start(state.store.clone(), state.settings.webhooks.clone());
        tracing::info!(port, "kaohe listening");
        Ok(Self { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM/SIGINT; in-flight requests finish, then the pool closes.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.state.store.db().clone().close().await.ok();
        result
    }
}

async fn connect_with_retry(settings: &Settings) -> Result<Store, StartupError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match Store::connect(&settings.database).await {
            Ok(store) => return Ok(store),
            Err(err) if std::time::Instant::now() < deadline && !settings.is_sqlite() => {
                tracing::warn!(cause = %err, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(err) => return Err(StartupError::Database(format!("cannot connect: {err}"))),
        }
    }
}

/// Where this instance answers itself: its listening address, the loopback one when it listens
/// on every address.
fn local_url(address: std::net::SocketAddr) -> String {
    let ip = match address.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, address.port()))
}

/// Creates a county and its first admin in one transaction, as the system actor `by`.
pub async fn create_county_with_admin(
    store: &Store,
    by: &str,
    name: &str,
    username: String,
    password: String,
) -> Result<crate::store::entities::org_unit::Model, ApiError> {
    let mut tx = store.write(&Actor::system(uuid::Uuid::nil(), by)).await?;
    let county = org_units::create_county(&tx, name).await?;
    tx.set_actor(Actor::system(county.id, by));
    users::create(
        &tx,
        None,
        county.id,
        crate::api::users::NewUser {
            username,
            display_name: format!("{} 管理员", county.name),
            password,
            org_unit_id: county.id,
            role: Role::Admin,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(county)
}

/// First start: create the configured county and its `admin`, printing a generated password once.
pub async fn bootstrap(store: &Store, settings: &Settings) -> Result<(), ApiError> {
    if !users::none_exist(store.db()).await? {
        return Ok(());
    }
    let (password, generated) = match &settings.bootstrap.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (crate::auth::passwords::generate_secret(), true),
    };
    let county = create_county_with_admin(
        store,
        "bootstrap",
        &settings.bootstrap.county,
        "admin".to_owned(),
        password.clone(),
    )
    .await?;
    if generated {
        // Logged once, on purpose: the operator needs it to log in the first time. It is the only
        // secret ever logged, and only when none was configured.
        tracing::warn!(
            username = "admin",
            password = %password,
            "generated the first admin's password; change it with PUT /api/v1/users/me/password, it is not shown again"
        );
    }
    tracing::info!(county = %county.name, "bootstrapped the first county and its admin");
    Ok(())
}

fn serve(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    let settings = state.settings.clone();
    let shutdown = settings.server.shutdown_timeout_secs;
    let document = web::Data::new(api::openapi(&settings.server.public_url));
    let routes = web::Data::new(api::Routes::of(document.get_ref()));
    let workers = match settings.server.workers {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
        n => n,
    };
    let server = HttpServer::new(move || {
        let cors = cors(&settings.cors.allowed_origins, settings.cors.max_age_secs);
        let doc = document.get_ref().clone();
        let (app, _) = App::new()
            .into_utoipa_app()
            .app_data(state.clone())
            .app_data(routes.clone())
            .app_data(JsonLimit(settings.limits.json_body_bytes))
            .app_data(web::PayloadConfig::new(settings.limits.json_body_bytes))
            .app_data(web::PathConfig::default().error_handler(|err, req| {
                // `PATCH /api/v1/users/me` reaches `PATCH /api/v1/users/{id}`, whose id is no id.
                let routes = req.app_data::<web::Data<api::Routes>>();
                routes
                    .and_then(|r| r.method_not_allowed(req))
                    .unwrap_or_else(|| ApiError::not_found(&format!("resource ({err})")))
                    .into()
            }))
            .configure(api::configure)
            .split_for_parts();
        app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc))
            .default_service(web::to(api::unmatched))
            // A `GET` export with `Prefer: respond-async` runs as a background job.
            .wrap(from_fn(api::jobs::exports))
            .wrap(from_fn(api::idempotency::middleware))
            .wrap(cors)
            // gzip for every client that accepts it (JSON, CSV, NDJSON, problems); an answer that
            // is already encoded (the kept results, `api::results::answer`) is left as it is.
            .wrap(Compress::default())
            .wrap(from_fn(telemetry::observe))
            .wrap(from_fn(crate::metrics::observe))
    })
    .workers(workers)
    .shutdown_timeout(shutdown)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Browser front ends on the configured origins may call the API and read its headers.
fn cors(origins: &[String], max_age: usize) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::RANGE,
            header::IF_RANGE,
            header::HeaderName::from_static("idempotency-key"),
            telemetry::REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            telemetry::REQUEST_ID,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
        ])
        .max_age(max_age);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
