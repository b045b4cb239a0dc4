//! Who may call what, and how much of it: the middleware in front of every
//! route ([`guard`]).
//!
//! * **Signatures** (fate-client's, when `app_key`/`secret_key` are set):
//!   headers `TIMESTAMP` (ms), `NONCE`, `APP_KEY`, `SIGNATURE` =
//!   base64(HMAC-SHA1(secret, timestamp \n nonce \n app_key \n path?query \n
//!   json body \n sorted form body)), the timestamp within 60 s of the
//!   server's clock. A body that is neither JSON nor a form (multipart
//!   uploads, raw bytes) is covered by [`BODY_HASH_HEADER`] = hex SHA-256 of
//!   the raw body, signed as a 7th line `\n <hash>` and checked against the
//!   bytes received; fate-client does not send it (it does not sign multipart
//!   bodies), so such bodies without it are refused unless
//!   `unsigned_multipart = true`.
//! * **Replays**: a (app key, timestamp, nonce) seen once is refused while its
//!   timestamp is inside the window ([`NonceCache`]: entries expire with the
//!   window, at most [`NONCE_CAP`] of them).
//! * **Party routes** (`/v1/party/…`): mTLS listener, else signature with
//!   keys, else loopback callers only (unless `insecure`).
//! * **Board**: its page and assets are open; `POST /board/api/login` with
//!   the key pair sets a session cookie ([`SESSION_COOKIE`]) that, with the
//!   [`BOARD_HEADER`] header (which a cross-site page cannot add without a
//!   CORS preflight this server never grants), stands in for a signature on
//!   the public routes (never on `/v1/party/…`).
//! * **Limits**: bodies over `max_body_mb` (uploads) / `max_request_mb` get
//!   413, a body piece that does not arrive within `request_timeout` ends the
//!   request (408 when it is read here).

use super::{retcode, Reply};
use crate::state::App;
use axum::body::{Body as AxBody, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use sha2::Digest;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Hex SHA-256 of a body that is neither JSON nor a form, signed as the 7th line.
pub const BODY_HASH_HEADER: &str = "X-Fedflow-Body-Sha256";
/// How far a request's TIMESTAMP may be from the server's clock, ms.
pub const WINDOW_MS: i64 = 60_000;
/// Most signatures remembered within the window.
pub const NONCE_CAP: usize = 100_000;
/// The board's session cookie.
pub const SESSION_COOKIE: &str = "fedflow_board";
/// The header the board's requests carry beside the cookie.
pub const BOARD_HEADER: &str = "X-Fedflow-Board";
/// How long a board session lasts, ms.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;
/// Most board sessions at once.
const SESSION_CAP: usize = 1000;
/// Signed bodies with a hash header up to this size are checked before the
/// handler runs (a clean 109); larger ones while they stream.
const VERIFY_IN_MEMORY: usize = 64 << 20;
/// Bytes of a streamed, hash-checked body held back until the hash is checked
/// (more than any multipart closing boundary, so a parser cannot finish first).
const HELD_TAIL: usize = 64 << 10;

/// Marks a request that came over the mTLS control-plane listener.
#[derive(Debug, Clone, Copy)]
pub struct MtlsPeer;

/// What a request's body contributes to its signature.
pub enum Body<'a> {
    /// A JSON body (signed as is).
    Json(&'a [u8]),
    /// Any other body (signed through [`BODY_HASH_HEADER`]).
    Hashed(&'a [u8]),
}

/// fate-client's signed message, with the optional 7th line.
pub fn message(
    ts: &str,
    nonce: &str,
    app_key: &str,
    path_url: &str,
    json_body: &[u8],
    form_body: &str,
    body_sha256: Option<&str>,
) -> Vec<u8> {
    let mut msg = Vec::new();
    for (i, part) in [
        ts.as_bytes(),
        nonce.as_bytes(),
        app_key.as_bytes(),
        path_url.as_bytes(),
        json_body,
        form_body.as_bytes(),
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            msg.push(b'\n');
        }
        msg.extend_from_slice(part);
    }
    if let Some(h) = body_sha256 {
        msg.push(b'\n');
        msg.extend_from_slice(h.as_bytes());
    }
    msg
}

fn mac(secret: &str) -> hmac::Hmac<sha1::Sha1> {
    use hmac::Mac;
    // HMAC takes a key of any length.
    hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// base64(HMAC-SHA1(secret, msg)).
pub fn signature(secret: &str, msg: &[u8]) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut m = mac(secret);
    m.update(msg);
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

/// Checks a base64 signature in constant time.
fn signature_ok(secret: &str, msg: &[u8], sig: &str) -> bool {
    use base64::Engine;
    use hmac::Mac;
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(sig.trim()) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(msg);
    m.verify_slice(&raw).is_ok()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha2::Sha256::digest(data))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A random token (128 bits, hex) for nonces and sessions.
pub fn random_token() -> String {
    let mut buf = [0u8; 16];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_ok();
    if !ok {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let seed = format!(
            "{:?}{}{}",
            std::time::SystemTime::now(),
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        buf.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes())[..16]);
    }
    hex(&buf)
}

/// The headers that sign a request for `path_url` (path and query) with a
/// fresh timestamp and nonce.
pub fn sign_headers(
    app_key: &str,
    secret: &str,
    path_url: &str,
    body: Body<'_>,
) -> Vec<(&'static str, String)> {
    let ts = fedflow_flow::store::now_ms().to_string();
    let nonce = random_token();
    let (json, hash) = match body {
        Body::Json(b) => (b, None),
        Body::Hashed(b) => (&b[..0], Some(sha256_hex(b))),
    };
    let msg = message(&ts, &nonce, app_key, path_url, json, "", hash.as_deref());
    let mut h = vec![
        ("TIMESTAMP", ts),
        ("NONCE", nonce),
        ("APP_KEY", app_key.to_string()),
        ("SIGNATURE", signature(secret, &msg)),
    ];
    if let Some(x) = hash {
        h.push((BODY_HASH_HEADER, x));
    }
    h
}

/// Signatures seen within the window, so that a replay is refused.
#[derive(Debug, Default)]
pub struct NonceCache {
    seen: HashMap<String, i64>,
    order: VecDeque<(i64, String)>,
}

impl NonceCache {
    /// Records a signature's (key, timestamp, nonce); `Err` when it was seen
    /// already, or when [`NONCE_CAP`] signatures are inside the window.
    pub fn admit(&mut self, key: String, ts: i64, now: i64) -> Result<(), &'static str> {
        // An entry matters while its timestamp passes the window check.
        while let Some((exp, _)) = self.order.front() {
            if *exp >= now {
                break;
            }
            if let Some((_, k)) = self.order.pop_front() {
                if self.seen.get(&k).is_some_and(|e| *e < now) {
                    self.seen.remove(&k);
                }
            }
        }
        // Entries expire out of order (timestamps vary within ±window): sweep
        // the map when the queue alone does not make room.
        if self.seen.len() >= NONCE_CAP {
            self.seen.retain(|_, e| *e >= now);
            self.order.retain(|(e, _)| *e >= now);
        }
        if self.seen.contains_key(&key) {
            return Err("this signature (TIMESTAMP, NONCE) was used already: replays are refused");
        }
        if self.seen.len() >= NONCE_CAP {
            return Err("too many signed requests within 60 s: retry later");
        }
        let exp = ts + WINDOW_MS;
        self.seen.insert(key.clone(), exp);
        self.order.push_back((exp, key));
        Ok(())
    }

    /// Signatures remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True when none is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

fn deny(msg: impl Into<String>) -> Response {
    Reply::err(retcode::AUTHENTICATION, msg).into_response()
}

fn too_large(limit_mb: u64, key: &str) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Reply::err(
            retcode::ARGUMENT,
            format!("request body over the {limit_mb} MiB limit ({key})"),
        ),
    )
        .into_response()
}

fn timed_out(secs: u64) -> Response {
    (
        StatusCode::REQUEST_TIMEOUT,
        Reply::err(
            retcode::ARGUMENT,
            format!("the request body stalled for {secs} s (request_timeout)"),
        ),
    )
        .into_response()
}

fn header<'a>(req: &'a axum::http::request::Parts, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Routes anyone may call: the API description and the board's static page,
/// assets and login.
fn open_route(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    (*method == Method::GET
        && matches!(
            path,
            "/openapi.json" | "/" | "/board" | "/board/" | "/board/app.js" | "/board/app.css"
        ))
        || (*method == Method::POST && path == "/board/api/login")
}

/// A valid board session: the cookie and the board header.
fn board_session(app: &App, parts: &axum::http::request::Parts) -> bool {
    if header(parts, BOARD_HEADER).is_none() {
        return false;
    }
    let Some(token) = parts
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
    else {
        return false;
    };
    let now = fedflow_flow::store::now_ms();
    app.sessions
        .lock()
        .get(&token)
        .is_some_and(|exp| *exp > now)
}

/// Opens a board session for a caller that presented the key pair; the
/// `Set-Cookie` value, or `None` when the pair is wrong or the server has none.
pub fn board_login(app: &App, app_key: &str, secret_key: &str) -> Option<String> {
    let (k, s) = app.config.keys()?;
    // Compare digests, not the strings, so the time taken says nothing of the secret.
    let same =
        |a: &str, b: &str| sha2::Sha256::digest(a.as_bytes()) == sha2::Sha256::digest(b.as_bytes());
    if !(same(k, app_key) & same(s, secret_key)) {
        return None;
    }
    let now = fedflow_flow::store::now_ms();
    let token = format!("{}{}", random_token(), random_token());
    let mut sessions = app.sessions.lock();
    sessions.retain(|_, exp| *exp > now);
    if sessions.len() >= SESSION_CAP {
        // The oldest session goes.
        if let Some(oldest) = sessions
            .iter()
            .min_by_key(|(_, e)| **e)
            .map(|(t, _)| t.clone())
        {
            sessions.remove(&oldest);
        }
    }
    sessions.insert(token.clone(), now + SESSION_MS);
    Some(format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_MS / 1000
    ))
}

/// Reads a whole body: at most `limit` bytes, each piece within `idle`.
async fn read_all(
    body: AxBody,
    limit: usize,
    idle: Duration,
    limit_mb: u64,
    key: &str,
) -> Result<Bytes, Response> {
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => return Err(timed_out(idle.as_secs())),
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(e))) => {
                return Err(
                    Reply::err(retcode::ARGUMENT, format!("reading the body: {e}")).into_response(),
                )
            }
            Ok(Some(Ok(chunk))) => {
                if buf.len() + chunk.len() > limit {
                    return Err(too_large(limit_mb, key));
                }
                buf.extend_from_slice(&chunk);
            }
        }
    }
}

struct Guarded {
    inner: axum::body::BodyDataStream,
    limit: usize,
    seen: usize,
    idle: Duration,
    hash: Option<(sha2::Sha256, String)>,
    held: bytes::BytesMut,
    done: bool,
}

/// A streamed body with the size limit, the idle timeout and, with
/// `expect_sha256`, the hash check (the last [`HELD_TAIL`] bytes are given
/// only once the hash matched, so a handler never sees a complete body that
/// does not).
fn guarded(body: AxBody, limit: usize, idle: Duration, expect_sha256: Option<String>) -> AxBody {
    let g = Guarded {
        inner: body.into_data_stream(),
        limit,
        seen: 0,
        idle,
        hash: expect_sha256.map(|h| (sha2::Sha256::new(), h)),
        held: bytes::BytesMut::new(),
        done: false,
    };
    let err = |m: String| std::io::Error::other(m);
    AxBody::from_stream(futures_util::stream::unfold(g, move |mut g| async move {
        if g.done {
            return None;
        }
        loop {
            match tokio::time::timeout(g.idle, g.inner.next()).await {
                Err(_) => {
                    g.done = true;
                    let m = format!("no body data for {} s (request_timeout)", g.idle.as_secs());
                    return Some((Err(err(m)), g));
                }
                Ok(Some(Err(e))) => {
                    g.done = true;
                    return Some((Err(err(e.to_string())), g));
                }
                Ok(Some(Ok(chunk))) => {
                    g.seen += chunk.len();
                    if g.seen > g.limit {
                        g.done = true;
                        let m = format!("request body over {} bytes (max_body_mb)", g.limit);
                        return Some((Err(err(m)), g));
                    }
                    if g.hash.is_none() {
                        return Some((Ok(chunk), g));
                    }
                    if let Some((h, _)) = g.hash.as_mut() {
                        h.update(&chunk);
                    }
                    g.held.extend_from_slice(&chunk);
                    if g.held.len() > HELD_TAIL {
                        let n = g.held.len() - HELD_TAIL;
                        let out = g.held.split_to(n).freeze();
                        return Some((Ok(out), g));
                    }
                }
                Ok(None) => {
                    g.done = true;
                    if let Some((h, want)) = g.hash.take() {
                        if hex(&h.finalize()) != want {
                            let m = format!("the body does not match {BODY_HASH_HEADER}");
                            return Some((Err(err(m)), g));
                        }
                    }
                    let rest = std::mem::take(&mut g.held).freeze();
                    return (!rest.is_empty()).then_some((Ok(rest), g));
                }
            }
        }
    }))
}

/// The middleware: body limits and timeouts for every request, then who may
/// call (see the module doc).
pub async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let cfg = &app.config;
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let ct = header(&parts, "content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let multipart = ct.starts_with("multipart/");
    let upload = multipart || path == "/v1/data/upload";
    let (limit_mb, key) = if upload {
        (cfg.max_body_mb, "max_body_mb")
    } else {
        (cfg.max_request_mb, "max_request_mb")
    };
    let limit = usize::try_from(limit_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
    if header(&parts, "content-length")
        .and_then(|l| l.trim().parse::<u64>().ok())
        .is_some_and(|l| l > limit as u64)
    {
        return too_large(limit_mb, key);
    }
    let idle = Duration::from_secs(cfg.request_timeout);

    let signed = if path.starts_with("/v1/party/") {
        if parts.extensions.get::<MtlsPeer>().is_some() {
            false
        } else if cfg.keys().is_some() {
            true
        } else if cfg.insecure {
            false
        } else {
            let peer = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_canonical());
            if !peer.is_some_and(|ip| ip.is_loopback()) {
                let who = peer
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "an unknown peer".into());
                tracing::warn!("refused {path} from {who}: party routes are loopback-only here");
                return deny(format!(
                    "party routes (/v1/party/*) from {who} are refused: this server has neither \
                     app_key/secret_key nor [tls], so it accepts them from this machine only; set \
                     app_key and secret_key (the same on every server of the federation) or a [tls] \
                     section (mTLS) in the server config"
                ));
            }
            false
        }
    } else if open_route(&parts.method, &path) || cfg.keys().is_none() {
        false
    } else {
        !board_session(&app, &parts)
    };

    if !signed {
        if multipart {
            let body = guarded(body, limit, idle, None);
            return next.run(Request::from_parts(parts, body)).await;
        }
        return match read_all(body, limit, idle, limit_mb, key).await {
            Ok(b) => next.run(Request::from_parts(parts, AxBody::from(b))).await,
            Err(r) => r,
        };
    }
    verify(
        &app,
        parts,
        body,
        next,
        multipart,
        &ct,
        (limit, limit_mb, key),
        idle,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn verify(
    app: &App,
    parts: axum::http::request::Parts,
    body: AxBody,
    next: Next,
    multipart: bool,
    ct: &str,
    (limit, limit_mb, key): (usize, u64, &str),
    idle: Duration,
) -> Response {
    let Some((my_key, secret)) = app.config.keys() else {
        return deny("no app_key/secret_key configured");
    };
    let (Some(ts), Some(nonce), Some(app_key), Some(sig)) = (
        header(&parts, "TIMESTAMP"),
        header(&parts, "NONCE"),
        header(&parts, "APP_KEY"),
        header(&parts, "SIGNATURE"),
    ) else {
        return deny("this server requires signed requests (TIMESTAMP, NONCE, APP_KEY, SIGNATURE)");
    };
    let (ts, nonce, app_key, sig) = (
        ts.to_string(),
        nonce.to_string(),
        app_key.to_string(),
        sig.to_string(),
    );
    if app_key != my_key {
        return deny("unknown APP_KEY");
    }
    let now = fedflow_flow::store::now_ms();
    let Some(ts_ms) = ts
        .parse::<i64>()
        .ok()
        .filter(|t| (now - t).abs() <= WINDOW_MS)
    else {
        return deny("TIMESTAMP is missing or more than 60 s off");
    };
    if nonce.is_empty() || nonce.len() > 256 {
        return deny("NONCE must be 1 to 256 characters");
    }
    let body_hash = header(&parts, BODY_HASH_HEADER).map(|h| h.trim().to_ascii_lowercase());
    if let Some(h) = &body_hash {
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return deny(format!(
                "{BODY_HASH_HEADER} must be 64 hex digits (SHA-256)"
            ));
        }
    }
    let path_url = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    // The refusal of a replay (or of a full cache), if any.
    let replayed = |app: &App| -> Option<Response> {
        app.nonces
            .lock()
            .admit(format!("{app_key}\n{ts}\n{nonce}"), ts_ms, now)
            .err()
            .map(deny)
    };

    if multipart {
        if body_hash.is_none() && !app.config.unsigned_multipart {
            return deny(format!(
                "a multipart body must be signed through {BODY_HASH_HEADER} (hex SHA-256 of the body, \
                 signed as a 7th line); fate-client does not sign multipart bodies: set \
                 unsigned_multipart = true in the server config to accept its uploads"
            ));
        }
        let msg = message(
            &ts,
            &nonce,
            &app_key,
            &path_url,
            b"",
            "",
            body_hash.as_deref(),
        );
        if !signature_ok(secret, &msg, &sig) {
            return deny("SIGNATURE does not match");
        }
        if let Some(r) = replayed(app) {
            return r;
        }
        let small = header(&parts, "content-length")
            .and_then(|l| l.trim().parse::<usize>().ok())
            .is_some_and(|l| l <= VERIFY_IN_MEMORY);
        return match body_hash {
            Some(h) if small => match read_all(body, limit, idle, limit_mb, key).await {
                Ok(b) if sha256_hex(&b) == h => {
                    next.run(Request::from_parts(parts, AxBody::from(b))).await
                }
                Ok(_) => deny(format!("the body does not match {BODY_HASH_HEADER}")),
                Err(r) => r,
            },
            h => {
                let body = guarded(body, limit, idle, h);
                next.run(Request::from_parts(parts, body)).await
            }
        };
    }

    let bytes = match read_all(body, limit, idle, limit_mb, key).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let is_json = ct.starts_with("application/json");
    let is_form = ct.starts_with("application/x-www-form-urlencoded");
    if !is_json && !is_form && !bytes.is_empty() && body_hash.is_none() {
        return deny(format!(
            "a '{ct}' body must be signed through {BODY_HASH_HEADER} (hex SHA-256 of the body)"
        ));
    }
    if let Some(h) = &body_hash {
        if sha256_hex(&bytes) != *h {
            return deny(format!("the body does not match {BODY_HASH_HEADER}"));
        }
    }
    let form = if is_form {
        // fate-client signs sorted, percent-encoded form fields.
        let mut pairs = form_pairs(&bytes);
        pairs.sort();
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
            .collect::<Vec<_>>()
            .join("&")
    } else {
        String::new()
    };
    let json: &[u8] = if is_json { &bytes } else { b"" };
    let msg = message(
        &ts,
        &nonce,
        &app_key,
        &path_url,
        json,
        &form,
        body_hash.as_deref(),
    );
    if !signature_ok(secret, &msg, &sig) {
        return deny("SIGNATURE does not match");
    }
    if let Some(r) = replayed(app) {
        return r;
    }
    next.run(Request::from_parts(parts, AxBody::from(bytes)))
        .await
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let s = String::from_utf8_lossy(body);
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let d = |x: &str| {
                percent_encoding::percent_decode_str(&x.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (d(k), d(v))
        })
        .collect()
}

fn quote(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_is_refused_and_entries_expire_with_the_window() {
        let mut c = NonceCache::default();
        let now = 1_000_000;
        assert!(c.admit("k\n1\na".into(), now, now).is_ok());
        assert!(c.admit("k\n1\na".into(), now, now + 10).is_err());
        assert!(c.admit("k\n1\nb".into(), now, now + 10).is_ok());
        // Past the window the entries go (and the timestamp check refuses the request).
        assert!(c
            .admit("k\n2\nc".into(), now + 70_000, now + 70_001)
            .is_ok());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn the_cache_is_capped() {
        let mut c = NonceCache::default();
        for i in 0..NONCE_CAP {
            c.admit(format!("n{i}"), 0, 0).unwrap();
        }
        let e = c.admit("one more".into(), 0, 0).unwrap_err();
        assert!(e.contains("too many"), "{e}");
        assert!(c
            .admit("later".into(), WINDOW_MS + 5, WINDOW_MS + 1)
            .is_ok());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn signing_and_checking_agree_and_the_hash_line_is_signed() {
        let h = sign_headers("k", "s", "/v1/data/upload?x=1", Body::Hashed(b"abc"));
        let get = |n: &str| {
            h.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let hash = get(BODY_HASH_HEADER);
        assert_eq!(hash, sha256_hex(b"abc"));
        let msg = message(
            &get("TIMESTAMP"),
            &get("NONCE"),
            "k",
            "/v1/data/upload?x=1",
            b"",
            "",
            Some(&hash),
        );
        assert!(signature_ok("s", &msg, &get("SIGNATURE")));
        let without = message(
            &get("TIMESTAMP"),
            &get("NONCE"),
            "k",
            "/v1/data/upload?x=1",
            b"",
            "",
            None,
        );
        assert!(!signature_ok("s", &without, &get("SIGNATURE")));
        assert!(!signature_ok("other", &msg, &get("SIGNATURE")));
    }
}
