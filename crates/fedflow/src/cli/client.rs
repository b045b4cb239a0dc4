//! Talking to a fedflow (or FATE Flow) server's REST API v1.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// The server's base URL: `--server`, `$FEDFLOW_SERVER`, else http://127.0.0.1:9380.
pub fn server_url(flag: &Option<String>) -> String {
    flag.clone()
        .unwrap_or_else(|| "http://127.0.0.1:9380".to_string())
        .trim_end_matches('/')
        .to_string()
}

/// A REST client.
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Client {
            base: base.to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(600))
                .build(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.base)
    }

    fn envelope(&self, path: &str, r: Result<ureq::Response, ureq::Error>) -> Result<Value> {
        let resp = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => bail!("server {}: {e}", self.base),
        };
        let v: Value = resp
            .into_json()
            .with_context(|| format!("{path}: reply is not JSON"))?;
        if v["retcode"].as_i64() != Some(0) {
            bail!(
                "{path}: {} (retcode {})",
                v["retmsg"].as_str().unwrap_or("error"),
                v["retcode"]
            );
        }
        Ok(v)
    }

    /// POSTs JSON; returns the whole envelope of a successful reply.
    pub fn post(&self, path: &str, body: Value) -> Result<Value> {
        let r = self.agent.post(&self.url(path)).send_json(body);
        self.envelope(path, r)
    }

    /// Uploads a file as fate-client does: multipart `file`, conf as the query string.
    pub fn upload(&self, conf: &Value, file: &Path) -> Result<Value> {
        let bytes = std::fs::read(file).with_context(|| format!("upload: {}", file.display()))?;
        let boundary = format!("fedflow{:016x}", std::process::id() as u64 ^ 0x5bd1e995);
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data.csv".into());
        let mut body = Vec::with_capacity(bytes.len() + 256);
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let query: String = percent_encoding::utf8_percent_encode(
            &conf.to_string(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        let r = self
            .agent
            .post(&format!("{}?{query}", self.url("data/upload")))
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send_bytes(&body);
        self.envelope("data/upload", r)
    }

    /// POSTs and returns the raw body of a 200 reply (log download).
    pub fn post_bytes(&self, path: &str, body: Value) -> Result<Vec<u8>> {
        let resp = match self.agent.post(&self.url(path)).send_json(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => bail!("server {}: {e}", self.base),
        };
        let is_json = resp.content_type().starts_with("application/json");
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut buf)?;
        if is_json {
            let v: Value = serde_json::from_slice(&buf)?;
            bail!("{path}: {}", v["retmsg"].as_str().unwrap_or("error"));
        }
        Ok(buf)
    }
}

/// Polls a job until it ends, printing progress to stderr; returns the final state.
pub fn wait_job(c: &Client, job_id: &str, timeout: Duration) -> Result<String> {
    let start = std::time::Instant::now();
    let mut last = String::new();
    loop {
        let v = c.post("job/query", json!({"job_id": job_id}))?;
        let rows = v["data"].as_array().cloned().unwrap_or_default();
        let init = rows
            .iter()
            .find(|r| r["f_is_initiator"] == json!(true))
            .or(rows.first())
            .cloned()
            .unwrap_or(Value::Null);
        let st = init["f_status"].as_str().unwrap_or("unknown").to_string();
        let line = format!("job {job_id}: {st} {}%", init["f_progress"]);
        if line != last {
            eprintln!("{line}");
            last = line;
        }
        if matches!(st.as_str(), "success" | "failed" | "canceled" | "timeout") {
            if st != "success" {
                if let Some(e) = init["f_error"].as_str() {
                    eprintln!("  {e}");
                }
            }
            return Ok(st);
        }
        if start.elapsed() > timeout {
            bail!("job {job_id} still {st} after {} s", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
