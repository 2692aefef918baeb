//! Settings: built-in defaults → optional TOML file → `KAOHE__SECTION__KEY` environment variables.
//!
//! Secrets are wrapped in [`Secret`], whose `Debug` never shows the value, so settings can be
//! logged whole at start-up.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Every setting of the service. Defaults make `cargo run` work with nothing configured.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub cors: CorsSettings,
    pub auth: AuthSettings,
    pub bootstrap: BootstrapSettings,
    pub limits: LimitSettings,
    #[serde(default)]
    pub audit: AuditSettings,
    #[serde(default)]
    pub evidence: EvidenceSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub webhooks: WebhookSettings,
    #[serde(default)]
    pub telemetry: TelemetrySettings,
}

/// Traces exported to an OpenTelemetry collector (OTLP over HTTP, protobuf): off unless
/// `otlp_endpoint` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// Headers sent to the collector, `name=value` pairs separated by commas (the form of
    /// `OTEL_EXPORTER_OTLP_HEADERS`), e.g. a vendor's API key.
    pub otlp_headers: Option<Secret>,
    /// The resource's `service.name`.
    pub service_name: String,
    /// Share of new traces kept (0 to 1). A request arriving with a W3C `traceparent` follows its
    /// caller's decision instead.
    pub sample_ratio: f64,
    /// Which spans are exported, as a tracing filter (`info`: one span a request and one a use case).
    pub level: String,
    /// How long the collector has to take one batch.
    pub timeout_ms: u64,
}

impl TelemetrySettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(endpoint) = &self.otlp_endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
                || endpoint.parse::<actix_web::http::Uri>().is_err()
            {
                return fail("telemetry.otlp_endpoint", "must be an http:// or https:// URL");
            }
        }
        if let Some(headers) = &self.otlp_headers {
            if let Err(why) = crate::otlp::parse_headers(headers.expose()) {
                return fail("telemetry.otlp_headers", &why);
            }
        }
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return fail("telemetry.sample_ratio", "must be between 0 and 1");
        }
        if self.service_name.trim().is_empty() {
            return fail("telemetry.service_name", "must not be empty");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.level).is_err() {
            return fail(
                "telemetry.level",
                "must be a tracing filter such as info or kaohe=debug",
            );
        }
        if self.timeout_ms == 0 || self.timeout_ms > 600_000 {
            return fail("telemetry.timeout_ms", "must be between 1 and 600000 (10 minutes)");
        }
        Ok(())
    }
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            otlp_headers: None,
            service_name: "kaohe".to_owned(),
            sample_ratio: 1.0,
            level: "info".to_owned(),
            timeout_ms: 10_000,
        }
    }
}

/// `GET /metrics` (Prometheus text format).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// Serve `GET /metrics` (404 when off).
    pub enabled: bool,
    /// When set, `GET /metrics` needs `Authorization: Bearer <token>` (for a scraper outside the
    /// private network); unset, restrict the path at the proxy instead.
    pub token: Option<Secret>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            token: None,
        }
    }
}

/// Webhook deliveries to data platforms: how often the outbox is read, how `result.changed` is
/// debounced, and how failed attempts are retried.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Run this instance's delivery task (every instance may; they never send the same row).
    pub deliver: bool,
    /// How often the task looks for due deliveries.
    pub poll_interval_ms: u64,
    /// A `result.changed` goes out this long after the first change it announces; changes in
    /// between update it instead of adding more.
    pub debounce_ms: u64,
    /// The wait after a failed attempt: this, doubling with each further attempt…
    pub retry_base_ms: u64,
    /// …up to this long.
    pub retry_max_ms: u64,
    /// Attempts before a delivery is given up as `failed`.
    pub max_attempts: i32,
    /// How long a receiver has to answer one attempt.
    pub timeout_ms: u64,
}

impl WebhookSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.poll_interval_ms == 0 {
            return fail("webhooks.poll_interval_ms", "must be positive");
        }
        if self.timeout_ms == 0 || self.timeout_ms > 600_000 {
            return fail("webhooks.timeout_ms", "must be between 1 and 600000 (10 minutes)");
        }
        if self.debounce_ms > 86_400_000 {
            return fail("webhooks.debounce_ms", "must be at most 86400000 (a day)");
        }
        if self.retry_max_ms > 7 * 86_400_000 {
            return fail("webhooks.retry_max_ms", "must be at most 604800000 (a week)");
        }
        if self.max_attempts < 1 {
            return fail("webhooks.max_attempts", "must be at least 1");
        }
        if self.retry_base_ms == 0 || self.retry_max_ms < self.retry_base_ms {
            return fail(
                "webhooks.retry_base_ms",
                "must be positive and not above webhooks.retry_max_ms",
            );
        }
        Ok(())
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            deliver: true,
            poll_interval_ms: 1000,
            debounce_ms: 10_000,
            retry_base_ms: 5_000,
            retry_max_ms: 6 * 3600 * 1000,
            max_attempts: 12,
            timeout_ms: 10_000,
        }
    }
}

/// Evidence files (佐证材料): where their bytes are kept, how large and of which types they may be.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EvidenceSettings {
    /// `local` (a directory, the default) or `s3` (any S3-compatible store).
    pub store: EvidenceStoreKind,
    /// The directory of the `local` store.
    pub local_dir: String,
    /// Largest file (413 above).
    pub max_bytes: u64,
    /// Media types accepted, as detected from the bytes (415 otherwise).
    pub allowed_media_types: Vec<String>,
    /// S3: the endpoint URL (MinIO, Alibaba OSS, Tencent COS…); unset: AWS itself.
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<Secret>,
    pub s3_secret_access_key: Option<Secret>,
    /// S3: allow a plain-HTTP endpoint (a store on the same host or network).
    pub s3_allow_http: bool,
    /// S3: `bucket.endpoint/key` addressing (OSS, COS) instead of `endpoint/bucket/key`.
    pub s3_virtual_hosted_style: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceStoreKind {
    Local,
    S3,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        Self {
            store: EvidenceStoreKind::Local,
            local_dir: "data/evidence".to_owned(),
            max_bytes: 100 * 1024 * 1024,
            allowed_media_types: [
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/webp",
                "image/heif",
                "image/tiff",
                "image/bmp",
                "application/pdf",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "application/vnd.oasis.opendocument.text",
                "application/vnd.oasis.opendocument.spreadsheet",
                "video/mp4",
                "video/quicktime",
                "audio/mpeg",
                "audio/x-wav",
            ]
            .map(str::to_owned)
            .to_vec(),
            s3_endpoint: None,
            s3_bucket: None,
            s3_region: "us-east-1".to_owned(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            s3_virtual_hosted_style: false,
        }
    }
}

/// Tamper evidence outside the database.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditSettings {
    /// Ed25519 private key (PKCS#8 PEM, inline or a path) that signs `kaohe audit checkpoint`;
    /// its public half checks `kaohe audit verify --against`.
    pub checkpoint_key_pem: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// Public base URL announced in the OpenAPI document's `servers`.
    pub public_url: String,
    /// Proxies in front of the service that append the client's address to `X-Forwarded-For`.
    /// 0: the client is the peer of the connection and forwarding headers are ignored (anyone
    /// could write them); N: the Nth address from the right of `X-Forwarded-For` is the client.
    pub trusted_proxy_hops: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` (default, embedded) or `postgres://user:pass@host/db`.
    pub url: Secret,
    pub max_connections: u32,
    pub min_connections: u32,
    /// Bound on waiting for a pooled connection; also bounds `/readyz`.
    pub acquire_timeout_ms: u64,
    /// Apply pending migrations when the service starts.
    pub migrate_on_start: bool,
    /// SQLite only: how long a writer waits for the file lock.
    pub sqlite_busy_timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `kaohe=debug,sqlx=warn`.
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CorsSettings {
    /// Origins allowed to call the API from a browser; empty allows none.
    pub allowed_origins: Vec<String>,
    pub max_age_secs: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum TokenAlgorithm {
    HS256,
    EdDSA,
    RS256,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub algorithm: TokenAlgorithm,
    /// HS256 secret, at least 32 bytes. Unset: a random one per process (tokens die on restart).
    pub hmac_secret: Option<Secret>,
    /// PEM private key (EdDSA/RS256) used to sign tokens; optional when only verifying.
    pub private_key_pem: Option<Secret>,
    /// PEM public key (EdDSA/RS256) used to verify tokens.
    pub public_key_pem: Option<String>,
    pub issuer: String,
    pub audience: String,
    pub token_ttl_secs: u64,
    pub leeway_secs: u64,
    /// Failed logins allowed per client address, and per account from one address, before each
    /// further attempt waits: 1 s, doubling with every failure…
    pub login_max_failures: u32,
    /// …up to this many seconds; a key's failures are forgotten this long after its last one.
    pub login_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BootstrapSettings {
    /// Name of the first county, created with its `admin` user when there are no users.
    pub county: String,
    /// Password of that `admin`; unset: generated and printed once to the log.
    pub admin_password: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    /// Largest JSON body of a single-object request.
    pub json_body_bytes: usize,
    /// Largest bulk upload.
    pub bulk_body_bytes: usize,
    /// Most rows in one bulk upload.
    pub bulk_max_rows: usize,
    /// How long a stored `Idempotency-Key` answer is replayed.
    pub idempotency_ttl_secs: u64,
}

/// A setting that must never be logged.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

const DEFAULTS: &str = r#"
[server]
host = "127.0.0.1"
port = 8080
workers = 0
shutdown_timeout_secs = 30
public_url = "http://127.0.0.1:8080"
trusted_proxy_hops = 0

[database]
url = "sqlite://data/kaohe.db?mode=rwc"
max_connections = 16
min_connections = 1
acquire_timeout_ms = 1500
migrate_on_start = true
sqlite_busy_timeout_ms = 5000

[log]
format = "text"
level = "info"

[cors]
allowed_origins = []
max_age_secs = 3600

[auth]
algorithm = "HS256"
issuer = "kaohe"
audience = "kaohe-api"
token_ttl_secs = 900
leeway_secs = 30
login_max_failures = 5
login_window_secs = 900

[bootstrap]
county = "示范县"

[limits]
json_body_bytes = 1048576
bulk_body_bytes = 268435456
bulk_max_rows = 500000
idempotency_ttl_secs = 86400
"#;

/// The refusal of `setting`, saying why.
fn fail(setting: &str, why: &str) -> Result<(), ConfigError> {
    Err(ConfigError(format!("{setting}: {why}")))
}

/// Why the settings could not be used; the message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Loads defaults, then `file` (or `./kaohe.toml` when present), then `KAOHE__*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError(format!(
                        "configuration file {} does not exist",
                        path.display()
                    )));
                }
                builder = builder.add_source(config::File::from(path.to_path_buf()));
            }
            None => {
                let default_file = PathBuf::from("kaohe.toml");
                if default_file.exists() {
                    builder = builder.add_source(config::File::from(default_file));
                }
            }
        }
        builder = builder.add_source(
            config::Environment::with_prefix("KAOHE")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("cors.allowed_origins")
                .with_list_parse_key("evidence.allowed_media_types")
                .try_parsing(true),
        );
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The built-in defaults alone (tests start from these and override fields).
    pub fn defaults() -> Result<Self, ConfigError> {
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(e.to_string()))
    }

    /// Checks settings changed in code (tests, tools) the way `load` checks files.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.database.max_connections == 0 {
            return fail("database.max_connections", "must be at least 1");
        }
        if self.database.min_connections > self.database.max_connections {
            return fail("database.min_connections", "must not exceed database.max_connections");
        }
        if self.database.acquire_timeout_ms == 0 {
            return fail("database.acquire_timeout_ms", "must be positive");
        }
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return fail("database.url", "must start with sqlite:, postgres:// or postgresql://");
        }
        if let Some(secret) = &self.auth.hmac_secret {
            if secret.expose().len() < 32 {
                return fail("auth.hmac_secret", "must be at least 32 bytes long");
            }
        }
        match self.auth.algorithm {
            TokenAlgorithm::HS256 => {}
            TokenAlgorithm::EdDSA | TokenAlgorithm::RS256 => {
                if self.auth.public_key_pem.is_none() {
                    return fail(
                        "auth.public_key_pem",
                        "is required when auth.algorithm is EdDSA or RS256",
                    );
                }
            }
        }
        self.webhooks.validate()?;
        if self.auth.token_ttl_secs == 0 || self.auth.token_ttl_secs > 86_400 {
            return fail("auth.token_ttl_secs", "must be between 1 and 86400");
        }
        if self.auth.leeway_secs > 300 {
            return fail("auth.leeway_secs", "must be at most 300");
        }
        if self.auth.issuer.is_empty() {
            return fail("auth.issuer", "must not be empty");
        }
        if self.auth.audience.is_empty() {
            return fail("auth.audience", "must not be empty");
        }
        if self.bootstrap.county.trim().is_empty() {
            return fail("bootstrap.county", "must not be empty");
        }
        if let Some(password) = &self.bootstrap.admin_password {
            if password.expose().chars().count() < 12 {
                return fail("bootstrap.admin_password", "must be at least 12 characters");
            }
        }
        if self.limits.json_body_bytes < 1024 {
            return fail("limits.json_body_bytes", "must be at least 1024");
        }
        if self.limits.bulk_body_bytes < self.limits.json_body_bytes {
            return fail("limits.bulk_body_bytes", "must be at least limits.json_body_bytes");
        }
        if self.limits.bulk_max_rows == 0 {
            return fail("limits.bulk_max_rows", "must be at least 1");
        }
        self.telemetry.validate()?;
        if self.evidence.max_bytes == 0 {
            return fail("evidence.max_bytes", "must be at least 1");
        }
        if self.evidence.allowed_media_types.is_empty() {
            return fail("evidence.allowed_media_types", "must name at least one media type");
        }
        match self.evidence.store {
            EvidenceStoreKind::Local if self.evidence.local_dir.trim().is_empty() => {
                return fail("evidence.local_dir", "must not be empty");
            }
            EvidenceStoreKind::S3 if self.evidence.s3_bucket.as_deref().unwrap_or("").is_empty() => {
                return fail("evidence.s3_bucket", "is required when evidence.store is s3");
            }
            _ => {}
        }
        if self.metrics.token.as_ref().is_some_and(|t| t.expose().len() < 16) {
            return fail("metrics.token", "must be at least 16 characters long");
        }
        for origin in &self.cors.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return fail(
                    "cors.allowed_origins",
                    "each origin must start with http:// or https://",
                );
            }
        }
        Ok(())
    }

    /// True when the configured database is the embedded SQLite file.
    pub fn is_sqlite(&self) -> bool {
        self.database.url.expose().starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_secrets_are_redacted() {
        let settings = Settings::load(Some(Path::new("/nonexistent/kaohe.toml")));
        assert!(settings.is_err());
        let settings = Settings::defaults().unwrap();
        settings.validate().unwrap();
        assert_eq!(settings.server.port, 8080);
        let shown = format!("{:?}", Secret::new("postgres://u:hunter2@h/db"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn webhook_settings_out_of_range_are_named() {
        let refused = |change: fn(&mut WebhookSettings)| {
            let mut settings = Settings::defaults().unwrap();
            change(&mut settings.webhooks);
            settings.validate().unwrap_err().to_string()
        };
        assert!(refused(|w| w.max_attempts = 0).contains("webhooks.max_attempts"));
        assert!(refused(|w| w.debounce_ms = u64::MAX).contains("webhooks.debounce_ms"));
        assert!(refused(|w| w.retry_max_ms = 1).contains("webhooks.retry_base_ms"));
        assert!(refused(|w| w.timeout_ms = 0).contains("webhooks.timeout_ms"));
    }
}
