//! Signed checkpoints of the audit chains: each county's chain head (sequence and hash) signed
//! with Ed25519, for an office to keep or publish outside the database. A trail later truncated
//! (its last events deleted and the head rewound) or rewritten (hashes recomputed) verifies as a
//! chain on its own, but no longer holds the checkpointed event.

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::Broken;
use super::entities::{audit_event, audit_head};

/// One county's signed chain head: a line of `kaohe audit checkpoint`'s output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub county_id: Uuid,
    pub seq: i64,
    pub hash: String,
    pub signed_at: DateTime<Utc>,
    /// The Ed25519 public key that signed, base64.
    pub public_key: String,
    /// The signature over [`statement`], base64.
    pub signature: String,
}

/// The text a checkpoint signs.
fn statement(county_id: Uuid, seq: i64, hash: &str, signed_at: &DateTime<Utc>) -> String {
    format!(
        "kaohe audit checkpoint v1\ncounty {county_id}\nseq {seq}\nhash {hash}\nsigned_at {}",
        signed_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

/// The signing key of `audit.checkpoint_key_pem`: a PKCS#8 Ed25519 PEM, inline or a path.
pub fn signing_key(pem_or_path: &str) -> Result<SigningKey, String> {
    let pem = if pem_or_path.contains("-----BEGIN") {
        pem_or_path.to_owned()
    } else {
        std::fs::read_to_string(pem_or_path).map_err(|e| format!("cannot read {pem_or_path}: {e}"))?
    };
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| format!("not an Ed25519 PKCS#8 private key ({e})"))
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Signs the current head of every county's chain.
pub async fn checkpoint<C: ConnectionTrait>(conn: &C, key: &SigningKey) -> Result<Vec<Checkpoint>, DbErr> {
    let signed_at = super::now();
    let public_key = b64().encode(key.verifying_key().as_bytes());
    let heads = audit_head::Entity::find().all(conn).await?;
    Ok(heads
        .into_iter()
        .map(|h| {
            let signature = key.sign(statement(h.county_id, h.seq, &h.hash, &signed_at).as_bytes());
            Checkpoint {
                county_id: h.county_id,
                seq: h.seq,
                hash: h.hash,
                signed_at,
                public_key: public_key.clone(),
                signature: b64().encode(signature.to_bytes()),
            }
        })
        .collect())
}

/// Whether `checkpoint` is signed by `trusted`.
fn signed_by(checkpoint: &Checkpoint, trusted: &VerifyingKey) -> bool {
    let statement = statement(
        checkpoint.county_id,
        checkpoint.seq,
        &checkpoint.hash,
        &checkpoint.signed_at,
    );
    b64()
        .decode(&checkpoint.signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .is_some_and(|signature| trusted.verify(statement.as_bytes(), &signature).is_ok())
}

/// Checks the stored trail against checkpoints signed by `trusted`: the checkpointed event must
/// still exist with the checkpointed hash, and the head must not be behind it. Names the first
/// event that fails per checkpoint (run [`super::audit::verify`] too: it checks the chain itself).
pub async fn verify_against<C: ConnectionTrait>(
    conn: &C,
    checkpoints: &[Checkpoint],
    trusted: &VerifyingKey,
) -> Result<Vec<Broken>, DbErr> {
    let mut broken = Vec::new();
    for cp in checkpoints {
        let fail = |seq: i64, reason: String| Broken {
            county_id: cp.county_id,
            seq,
            reason,
        };
        if !signed_by(cp, trusted) {
            broken.push(fail(
                cp.seq,
                "the checkpoint's signature does not verify with the configured key".to_owned(),
            ));
            continue;
        }
        let head = audit_head::Entity::find_by_id(cp.county_id).one(conn).await?;
        let event = audit_event::Entity::find()
            .filter(audit_event::Column::CountyId.eq(cp.county_id))
            .filter(audit_event::Column::Seq.eq(cp.seq))
            .one(conn)
            .await?;
        match (head, event) {
            (_, None) if cp.seq > 0 => broken.push(fail(
                cp.seq,
                format!("event {} of the checkpoint is missing: the trail was truncated", cp.seq),
            )),
            (Some(h), _) if h.seq < cp.seq => broken.push(fail(
                cp.seq,
                format!("the head is at event {}, behind the checkpoint's {}", h.seq, cp.seq),
            )),
            (_, Some(e)) if e.hash != cp.hash => broken.push(fail(
                cp.seq,
                format!(
                    "event {}'s hash differs from the checkpoint's: the trail was rewritten",
                    cp.seq
                ),
            )),
            _ => {}
        }
    }
    Ok(broken)
}
