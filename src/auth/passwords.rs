//! Argon2id password and secret hashing (OWASP parameters: 19 MiB, 2 passes, 1 lane).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::ApiError;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes on a blocking thread: a hash takes tens of milliseconds of CPU.
pub async fn hash(secret: String) -> Result<String, ApiError> {
    actix_web::web::block(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(secret.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// True when `secret` matches `stored`; a malformed stored hash never matches.
pub async fn verify(secret: String, stored: String) -> Result<bool, ApiError> {
    actix_web::web::block(move || match PasswordHash::new(&stored) {
        Ok(parsed) => hasher().verify_password(secret.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await
    .map_err(ApiError::internal)
}

/// A hash to verify against when the account does not exist, so timing does not reveal it.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2m4bn0yWkkZQZ0yA7mVuB0H7WQbFzrl5Xq7m8xkH3mQ";

/// A random secret for generated passwords and client secrets (base64url, 32 bytes of entropy).
pub fn generate_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The password rule for people: long enough to resist guessing.
pub fn check_strength(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < 12 {
        return Err("password must be at least 12 characters");
    }
    if length > 256 {
        return Err("password must be at most 256 characters");
    }
    Ok(())
}
