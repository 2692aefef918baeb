//! What every request shares: the settings, the store, the token service and the caches.

use std::sync::Arc;

use crate::auth::tokens::TokenService;
use crate::auth::AccountCache;
use crate::config::Settings;
use crate::results::ResultsCache;
use crate::store::Store;

/// What every request shares.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub tokens: TokenService,
    pub results: ResultsCache,
    pub accounts: AccountCache,
    /// Where evidence files are kept.
    pub objects: crate::objects::Objects,
    /// The background jobs running on this instance.
    pub jobs: crate::jobs::Jobs,
    /// Where this instance answers itself (`http://127.0.0.1:8080`): a background export asks it.
    pub local_url: String,
}
