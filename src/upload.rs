//! `kaohe upload`: a bulk upload to a running service, as a clerk's script would send it, run as
//! a background job (`Prefer: respond-async`) and followed through its server-sent events with a
//! progress bar; the job's answer is printed at the end (the summary, or every bad row).

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// What `kaohe upload` was asked to do.
#[derive(Debug, clap::Args)]
pub struct UploadRequest {
    /// The file: .csv, .ndjson / .jsonl, .json or .xlsx.
    pub file: PathBuf,
    /// What its rows are.
    #[arg(long, value_parser = ["incidents", "ballots", "scoresheets", "subjects", "attributes"])]
    pub to: String,
    /// The service's base URL.
    #[arg(long, env = "KAOHE_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An access token (POST /api/v1/auth/token), or set KAOHE_TOKEN.
    #[arg(long, env = "KAOHE_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Validate only: write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Idempotency-Key: sending the same file again with the same key answers the same job.
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

/// The media type of an upload, from its file name.
fn media_type(file: &Path) -> Result<&'static str, String> {
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "csv" => Ok("text/csv"),
        "ndjson" | "jsonl" => Ok("application/x-ndjson"),
        "json" => Ok("application/json"),
        "xlsx" => Ok("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        _ => Err(format!(
            "{}: name the file .csv, .ndjson, .jsonl, .json or .xlsx so its format is known",
            file.display()
        )),
    }
}

/// About how many rows a file holds, for the bar's length (a CSV's quoted line breaks and an
/// array's layout make it an estimate; the bar ends at the real count).
fn estimated_rows(bytes: &[u8], media_type: &str) -> Option<u64> {
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count() as u64;
    match media_type {
        "text/csv" => Some(lines.saturating_sub(1)),
        "application/x-ndjson" => Some(lines),
        _ => None,
    }
}

/// Runs the upload; `Ok` when the job succeeded.
pub async fn upload(request: UploadRequest) -> Result<(), String> {
    let media_type = media_type(&request.file)?;
    let body = std::fs::read(&request.file).map_err(|e| format!("{}: {e}", request.file.display()))?;
    let base = request.url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let bar = match estimated_rows(&body, media_type) {
        Some(rows) => ProgressBar::new(rows),
        None => ProgressBar::new_spinner(),
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} rows {msg}")
            .map_err(|e| e.to_string())?,
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar.set_message("sending");

    let mut post = client
        .post(format!("{base}/api/v1/{}:bulk?dry_run={}", request.to, request.dry_run))
        .bearer_auth(&request.token)
        .header("content-type", media_type)
        .header("prefer", "respond-async")
        .body(body);
    if let Some(key) = &request.idempotency_key {
        post = post.header("idempotency-key", key);
    }
    let answer = post.send().await.map_err(|e| format!("{base}: {e}"))?;
    let status = answer.status();
    let bytes = answer.bytes().await.map_err(|e| e.to_string())?;
    let job: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not a JSON answer ({status}): {e}"))?;
    if status.as_u16() != 202 {
        bar.abandon();
        return Err(format!("the service refused the upload ({status}):\n{}", pretty(&job)));
    }
    let events = job["events"].as_str().ok_or("the job has no events link")?;
    let stream = client
        .get(format!("{base}{events}"))
        .bearer_auth(&request.token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut chunks = stream.bytes_stream();
    let mut buffer = String::new();
    let mut last = job;
    while let Some(chunk) = chunks.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.map_err(|e| e.to_string())?));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let Ok(job) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            let validated = job["rows_validated"].as_u64().unwrap_or(0);
            if bar.length().is_some_and(|len| validated > len) {
                bar.set_length(validated);
            }
            bar.set_position(validated);
            bar.set_message(format!(
                "read {}, {} problem(s)",
                job["rows_read"].as_u64().unwrap_or(0),
                job["error_count"].as_u64().unwrap_or(0)
            ));
            last = job;
        }
    }
    let result = &last["result"];
    if last["status"] == "succeeded" {
        bar.finish_with_message("done");
        println!("{}", pretty(&result["body"]));
        Ok(())
    } else {
        bar.abandon_with_message("failed");
        println!("{}", pretty(&result["body"]));
        Err(format!(
            "the upload failed ({}): nothing was written",
            result["status"]
                .as_u64()
                .map_or("no answer".to_owned(), |s| s.to_string())
        ))
    }
}

/// An answer as printed: a summary's `ids` (one per row) are counted, not listed.
fn pretty(value: &Value) -> String {
    let mut value = value.clone();
    if let Some(ids) = value.get("ids").and_then(Value::as_array).map(Vec::len) {
        value["ids"] = Value::String(format!("{ids} ids (list them with the summary's `list` link)"));
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_named_by_the_file_and_the_rows_estimated() {
        assert_eq!(media_type(Path::new("七月.CSV")), Ok("text/csv"));
        assert_eq!(media_type(Path::new("七月.jsonl")), Ok("application/x-ndjson"));
        assert!(media_type(Path::new("说明.TXT")).is_err());
        assert_eq!(estimated_rows(b"a,b\n1,2\n3,4\n\n", "text/csv"), Some(2));
        assert_eq!(estimated_rows(b"{}\n{}\n", "application/x-ndjson"), Some(2));
        assert_eq!(estimated_rows(b"[{}]", "application/json"), None);
    }
}
