//! The object store holding evidence files by content address (`sha256/ab/abcdef…`): the local
//! filesystem under the data directory by default, any S3-compatible store by configuration.
//! An upload is streamed to a temporary object while it is hashed, then moved to its address;
//! a failed one deletes its temporary object, so nothing half-written is ever addressable.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::config::{EvidenceSettings, EvidenceStoreKind};
use crate::error::ApiError;

/// How much of a file is kept to detect its media type from (magic numbers; office documents
/// are zip files whose first entries say what they are).
pub const SNIFF_BYTES: usize = 64 * 1024;
/// The part size of multipart writes (S3's smallest part) and how many are in flight: what an
/// upload holds in memory, whatever the file's size.
const PART_BYTES: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

/// The store of evidence bytes. Cheap to clone.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Objects({})", self.store)
    }
}

impl Objects {
    /// The configured store: a directory (created when missing) or an S3 bucket.
    pub fn from_settings(settings: &EvidenceSettings) -> Result<Self, String> {
        let store: Arc<dyn ObjectStore> = match settings.store {
            EvidenceStoreKind::Local => {
                std::fs::create_dir_all(&settings.local_dir)
                    .map_err(|e| format!("evidence.local_dir: cannot create {}: {e}", settings.local_dir))?;
                let local = object_store::local::LocalFileSystem::new_with_prefix(&settings.local_dir)
                    .map_err(|e| format!("evidence.local_dir: {e}"))?
                    .with_automatic_cleanup(true);
                Arc::new(local)
            }
            EvidenceStoreKind::S3 => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(settings.s3_bucket.clone().unwrap_or_default())
                    .with_region(&settings.s3_region)
                    .with_allow_http(settings.s3_allow_http)
                    .with_virtual_hosted_style_request(settings.s3_virtual_hosted_style);
                if let Some(endpoint) = &settings.s3_endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(key) = &settings.s3_access_key_id {
                    builder = builder.with_access_key_id(key.expose());
                }
                if let Some(secret) = &settings.s3_secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose());
                }
                Arc::new(builder.build().map_err(|e| format!("evidence.s3_*: {e}"))?)
            }
        };
        Ok(Self { store })
    }

    /// Starts an upload into a new temporary object.
    pub fn stage(&self) -> Staging {
        let path = Path::from(format!("tmp/{}", uuid::Uuid::now_v7()));
        let writer = BufWriter::with_capacity(self.store.clone(), path.clone(), PART_BYTES)
            .with_max_concurrency(PARTS_IN_FLIGHT);
        Staging {
            store: self.store.clone(),
            path,
            writer: Some(writer),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
        }
    }

    /// Moves a finished upload to its content address (unless the same bytes are there
    /// already), removing the temporary object either way.
    pub async fn keep(&self, staged: &Staged) -> Result<(), ApiError> {
        let address = address(&staged.sha256);
        match self.store.head(&address).await {
            Ok(_) => self.store.delete(&staged.path).await.map_err(unavailable),
            Err(object_store::Error::NotFound { .. }) => {
                self.store.rename(&staged.path, &address).await.map_err(unavailable)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Deletes a finished upload's temporary object (nothing is kept).
    pub async fn discard(&self, staged: &Staged) {
        match self.store.delete(&staged.path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(cause = %e, path = %staged.path, "could not delete a temporary evidence object"),
        }
    }

    /// The bytes of `sha256`, or the `range` of them.
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, std::io::Error>>, ApiError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let found = self
            .store
            .get_opts(&address(sha256), options)
            .await
            .map_err(unavailable)?;
        Ok(found.into_stream().map_err(std::io::Error::other).boxed())
    }

    /// Whether a temporary object of `staged` is still there (tests of failed uploads).
    pub async fn exists(&self, path: &str) -> bool {
        self.store.head(&Path::from(path)).await.is_ok()
    }

    /// Every object path of the store under `prefix` (`tmp`, `sha256`).
    pub async fn list(&self, prefix: &str) -> Vec<String> {
        let prefix = Path::from(prefix);
        self.store
            .list(Some(&prefix))
            .filter_map(|m| async move { m.ok().map(|m| m.location.to_string()) })
            .collect()
            .await
    }
}

/// Where the bytes of a hash live.
fn address(sha256: &str) -> Path {
    Path::from(format!("sha256/{}/{sha256}", &sha256[..2.min(sha256.len())]))
}

fn unavailable(e: object_store::Error) -> ApiError {
    tracing::error!(cause = %e, "evidence store");
    store_unavailable()
}

fn store_unavailable() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        "evidence.store_unavailable",
        "the evidence store is unavailable; retry later",
    )
}

/// An upload being written: hashed and counted as it goes.
pub struct Staging {
    store: Arc<dyn ObjectStore>,
    path: Path,
    writer: Option<BufWriter>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

impl Drop for Staging {
    /// An upload dropped midway (its request went away) is aborted in the background.
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        let (store, path) = (self.store.clone(), self.path.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = writer.abort().await;
                let _ = store.delete(&path).await;
            });
        }
    }
}

/// A finished upload, still at its temporary path.
#[derive(Debug, Clone)]
pub struct Staged {
    path: Path,
    pub sha256: String,
    pub size: u64,
    /// The first bytes, to detect the media type from.
    pub head: Vec<u8>,
}

impl Staged {
    pub fn temporary_path(&self) -> String {
        self.path.to_string()
    }
}

impl Staging {
    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The first bytes written so far.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    pub async fn write(&mut self, chunk: Bytes) -> Result<(), ApiError> {
        self.hasher.update(&chunk);
        self.size += chunk.len() as u64;
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        match self.writer.as_mut() {
            Some(writer) => writer.put(chunk).await.map_err(unavailable),
            None => Err(ApiError::internal("write after finish")),
        }
    }

    /// Completes the temporary object.
    pub async fn finish(mut self) -> Result<Staged, ApiError> {
        let Some(mut writer) = self.writer.take() else {
            return Err(ApiError::internal("finished twice"));
        };
        if let Err(e) = writer.shutdown().await {
            tracing::error!(cause = %e, "evidence store");
            let _ = self.store.delete(&self.path).await;
            return Err(store_unavailable());
        }
        Ok(Staged {
            path: self.path.clone(),
            sha256: hex::encode(self.hasher.clone().finalize()),
            size: self.size,
            head: std::mem::take(&mut self.head),
        })
    }

    /// Abandons the upload: its parts and temporary object are removed.
    pub async fn abort(mut self) {
        if let Some(mut writer) = self.writer.take() {
            if let Err(e) = writer.abort().await {
                tracing::warn!(cause = %e, "could not abort an evidence upload");
            }
        }
        let _ = self.store.delete(&self.path).await;
    }
}
