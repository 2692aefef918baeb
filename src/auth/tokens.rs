//! JWT access tokens: issued at login, verified on every request with a pinned algorithm.

use jsonwebtoken::{decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Level, PrincipalKind, Role};
use crate::config::{AuthSettings, TokenAlgorithm};
use crate::error::ApiError;

/// The claims kaohe issues and requires. Tokens from an external identity provider are accepted
/// when they carry the same claims, are signed with the configured key, and `sub` is the id of a
/// kaohe user or service account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    #[serde(default)]
    pub jti: Option<String>,
    pub kind: PrincipalKind,
    pub county_id: Uuid,
    pub level: Level,
    pub org_unit_id: Uuid,
    pub role: Role,
    /// The account's token generation when the token was issued: a change of password, secret,
    /// active flag, role, level or org unit raises the account's, ending every earlier token.
    /// External identity providers may leave it out; their tokens must then be issued after the
    /// account's last such change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#gen: Option<i32>,
}

/// Who a token is issued to.
#[derive(Debug, Clone)]
pub struct Subject {
    pub kind: PrincipalKind,
    pub id: Uuid,
    pub county_id: Uuid,
    pub level: Level,
    pub org_unit_id: Uuid,
    pub role: Role,
    pub generation: i32,
}

/// Signs and verifies tokens with the configured key and algorithm.
pub struct TokenService {
    algorithm: Algorithm,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: u64,
}

impl TokenService {
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, String> {
        let (algorithm, encoding, decoding) = match settings.algorithm {
            TokenAlgorithm::HS256 => {
                let secret: Vec<u8> = match &settings.hmac_secret {
                    Some(secret) => secret.expose().as_bytes().to_vec(),
                    None => {
                        tracing::warn!(
                            "auth.hmac_secret is not set: using a random key, so tokens end with this process \
                             and are not accepted by other instances"
                        );
                        let bytes: [u8; 32] = rand::random();
                        bytes.to_vec()
                    }
                };
                (
                    Algorithm::HS256,
                    Some(EncodingKey::from_secret(&secret)),
                    DecodingKey::from_secret(&secret),
                )
            }
            TokenAlgorithm::EdDSA | TokenAlgorithm::RS256 => {
                let public = settings
                    .public_key_pem
                    .as_deref()
                    .ok_or("auth.public_key_pem: is required")?;
                let public = read_pem(public).map_err(|e| format!("auth.public_key_pem: {e}"))?;
                let private = match &settings.private_key_pem {
                    Some(p) => Some(read_pem(p.expose()).map_err(|e| format!("auth.private_key_pem: {e}"))?),
                    None => None,
                };
                type Parse<K> = fn(&[u8]) -> jsonwebtoken::errors::Result<K>;
                let (algorithm, kind, encoding, decoding): (_, _, Parse<EncodingKey>, Parse<DecodingKey>) =
                    if settings.algorithm == TokenAlgorithm::EdDSA {
                        (
                            Algorithm::EdDSA,
                            "Ed25519",
                            EncodingKey::from_ed_pem,
                            DecodingKey::from_ed_pem,
                        )
                    } else {
                        (
                            Algorithm::RS256,
                            "RSA",
                            EncodingKey::from_rsa_pem,
                            DecodingKey::from_rsa_pem,
                        )
                    };
                (
                    algorithm,
                    private
                        .map(|p| encoding(p.as_bytes()))
                        .transpose()
                        .map_err(|e| format!("auth.private_key_pem: not an {kind} key ({e})"))?,
                    decoding(public.as_bytes()).map_err(|e| format!("auth.public_key_pem: not an {kind} key ({e})"))?,
                )
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = settings.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        Ok(Self {
            algorithm,
            encoding,
            decoding,
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_secs: settings.token_ttl_secs,
        })
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Issues a token for an account at its current token generation; an error when this
    /// service only verifies (external issuer).
    pub fn issue(&self, account: &Subject) -> Result<String, ApiError> {
        let key = self.encoding.as_ref().ok_or_else(|| {
            ApiError::conflict(
                "auth.issuing_disabled",
                "this service verifies tokens from an external identity provider and issues none",
            )
        })?;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: account.id.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + self.ttl_secs,
            iat: now,
            jti: Some(Uuid::now_v7().to_string()),
            kind: account.kind,
            county_id: account.county_id,
            level: account.level,
            org_unit_id: account.org_unit_id,
            role: account.role,
            r#gen: Some(account.generation),
        };
        encode(&Header::new(self.algorithm), &claims, key).map_err(ApiError::internal)
    }

    /// Verifies signature, algorithm, issuer, audience and lifetime; returns the claims.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| {
                let why = match err.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::ImmatureSignature => "the token is not valid yet",
                    ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
                    ErrorKind::InvalidAudience => "the token's audience is not this service",
                    ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
                    ErrorKind::InvalidSignature => "the token's signature is invalid",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    _ => "the token is malformed",
                };
                ApiError::unauthorized(why)
            })
    }
}

/// A PEM given inline or as a path to a file.
fn read_pem(value: &str) -> Result<String, String> {
    if value.contains("-----BEGIN") {
        Ok(value.to_owned())
    } else {
        std::fs::read_to_string(value).map_err(|e| format!("cannot read {value}: {e}"))
    }
}
