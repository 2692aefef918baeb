//! Webhook deliveries: Standard Webhooks signatures, and the task every instance runs that
//! claims due deliveries from the outbox (`store::webhooks`), POSTs them and records the outcome,
//! retrying with exponential backoff under the same `webhook-id`.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::config::WebhookSettings;
use crate::error::ApiError;
use crate::store::webhooks::{self as outbox, Claimed, Outcome};
use crate::store::{Actor, Store};

const SECRET_PREFIX: &str = "whsec_";

/// Delivery attempts, by event type and outcome (`delivered`, `retrying`, `failed`); shown by
/// `GET /metrics` where the process has its recorder.
pub const ATTEMPTS: &str = "kaohe_webhook_attempts_total";
/// Time a receiver took to answer an attempt (or to fail it), by event type.
pub const ATTEMPT_SECONDS: &str = "kaohe_webhook_attempt_duration_seconds";

/// A new signing secret: `whsec_` and the base64 of 24 random bytes.
pub fn generate_secret() -> String {
    let key: [u8; 24] = rand::random();
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// The `webhook-signature` of a message: `v1,` and the base64 of HMAC-SHA256 over
/// `{id}.{timestamp}.{body}`, keyed with the secret's decoded bytes (Standard Webhooks).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec());
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones: the base, doubled per
/// further attempt, capped; `None` when no attempt is left.
pub fn backoff(settings: &WebhookSettings, attempts: i32) -> Option<chrono::TimeDelta> {
    if attempts >= settings.max_attempts {
        return None;
    }
    let doublings = (attempts - 1).clamp(0, 30) as u32;
    let wait = settings
        .retry_base_ms
        .saturating_mul(1u64 << doublings)
        .min(settings.retry_max_ms);
    Some(chrono::TimeDelta::milliseconds(wait as i64))
}

/// Starts this instance's delivery task on the current runtime; it runs until the runtime ends.
pub fn start(store: Store, settings: WebhookSettings) {
    if !settings.deliver {
        return;
    }
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(cause = %err, "webhook deliveries are off: no HTTP client");
            return;
        }
    };
    actix_web::rt::spawn(async move {
        let pause = Duration::from_millis(settings.poll_interval_ms);
        loop {
            match deliver_due(&store, &client, &settings).await {
                // A full batch: there may be more due at once.
                Ok(sent) if sent >= BATCH as usize => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(cause = %err, "webhook deliveries: the outbox could not be read"),
            }
            tokio::time::sleep(pause).await;
        }
    });
}

const BATCH: u64 = 32;

/// One round: claims the due deliveries and sends them side by side; answers how many it sent.
pub async fn deliver_due(
    store: &Store,
    client: &reqwest::Client,
    settings: &WebhookSettings,
) -> Result<usize, ApiError> {
    let due = outbox::due(store.db(), BATCH).await?;
    if due.is_empty() {
        return Ok(0);
    }
    // Longer than an attempt can take: a claim outlives only a claimer that died.
    let lease = chrono::TimeDelta::milliseconds(settings.timeout_ms as i64 * 3 + 1000);
    let mut claimed = Vec::new();
    for (id, attempts) in due {
        if let Some(c) = write(store, async |tx| outbox::claim(tx.conn(), id, attempts, lease).await).await? {
            claimed.push(c);
        }
    }
    let sent = claimed.len();
    let attempts = claimed.into_iter().map(|c| async move {
        let started = std::time::Instant::now();
        let outcome = send(client, &c).await;
        metrics::histogram!(ATTEMPT_SECONDS, "event_type" => c.delivery.event_type.clone())
            .record(started.elapsed().as_secs_f64());
        (c, outcome)
    });
    for (c, outcome) in futures_util::future::join_all(attempts).await {
        let retry_in = backoff(settings, c.delivery.attempts);
        let counted = match (&outcome.error, retry_in) {
            (None, _) => "delivered",
            (Some(_), Some(_)) => "retrying",
            (Some(_), None) => "failed",
        };
        metrics::counter!(ATTEMPTS, "event_type" => c.delivery.event_type.clone(), "outcome" => counted).increment(1);
        if let Some(error) = &outcome.error {
            tracing::info!(delivery = %c.delivery.id, attempt = c.delivery.attempts, %error, "webhook delivery failed");
        }
        write(store, async |tx| {
            outbox::settle(tx.conn(), c.delivery.id, c.delivery.attempts, &outcome, retry_in).await
        })
        .await?;
    }
    Ok(sent)
}

/// Runs `f` in a write transaction of no county: on SQLite it queues with the other writers.
async fn write<T>(
    store: &Store,
    f: impl AsyncFnOnce(&crate::store::WriteTx) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let tx = store.write(&Actor::system(Uuid::nil(), "webhooks")).await?;
    let answer = f(&tx).await?;
    tx.commit().await?;
    Ok(answer)
}

/// POSTs one claimed delivery, signed; a 2xx answer delivers it.
async fn send(client: &reqwest::Client, claimed: &Claimed) -> Outcome {
    let id = claimed.delivery.id.to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let body = claimed.delivery.payload.clone();
    let signature = sign(&claimed.secret, &id, timestamp, &body);
    let answer = client
        .post(&claimed.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match answer {
        Ok(response) if response.status().is_success() => Outcome {
            status: Some(response.status().as_u16()),
            error: None,
        },
        Ok(response) => Outcome {
            status: Some(response.status().as_u16()),
            error: Some(format!("the receiver answered {}", response.status())),
        },
        Err(err) if err.is_timeout() => Outcome {
            status: None,
            error: Some("the receiver did not answer in time".to_owned()),
        },
        Err(err) => Outcome {
            status: None,
            error: Some(format!("no answer: {}", without_url(&err))),
        },
    }
}

/// An HTTP client error's text without the URL (it may carry a token in its query).
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "the receiver");
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = std::error::Error::source(cause);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn signs_as_the_standard_webhooks_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn backs_off_doubling_up_to_the_limit() {
        let settings = WebhookSettings {
            retry_base_ms: 100,
            retry_max_ms: 350,
            max_attempts: 4,
            ..WebhookSettings::default()
        };
        let waits: Vec<_> = (1..=4)
            .map(|n| backoff(&settings, n).map(|d| d.num_milliseconds()))
            .collect();
        assert_eq!(waits, [Some(100), Some(200), Some(350), None]);
    }
}
