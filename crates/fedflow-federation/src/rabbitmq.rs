//! The RabbitMQ federation engine (FATE's Spark deployment), over a real broker.
//!
//! **Naming (FATE's client mode).** Every message goes to the default
//! exchange `''` with the queue's name as routing key; the queue is
//! `{session}-{src.role}-{src.pid}-{dst.role}-{dst.pid}-{name}` followed by
//! `^{tag}` when the tag is not empty, so each (variable, tag) has its own
//! queue and interleaved iterations never mix (names longer than 200 bytes
//! end in a hash). Where the queues live depends on [`RabbitMode`]:
//! * `vhost` — as FATE: one vhost per party pair and session,
//!   `{session}-{lowrole}-{lowpid}-{highrole}-{highpid}` (parties sorted),
//!   created through the management API, which also grants the configured user
//!   its permissions (FATE creates a user per session; fedflow reuses the
//!   configured one);
//! * `queue` — every queue in the default vhost `/` (the session is in each
//!   name), for brokers without the management plugin;
//! * `auto` (default) — `vhost` when the management API answers, else `queue`.
//!
//! **Messages.** A value or table is cut into chunks of at most `chunk_bytes`
//! (1 MiB by default, FATE's `max_message_size`); table chunks hold whole rows
//! of one partition. Each AMQP message carries headers `kind`, `len`,
//! `partitions`, `idx` (chunk index), `part`, `rows`, and on the last one
//! `total` (the chunk count); properties as FATE: `message_id` = name,
//! `correlation_id` = tag, `app_id` = destination, delivery mode 1. Publishing
//! uses publisher confirms with a bounded window of unconfirmed messages; the
//! receiver consumes with a bounded prefetch and acks each message after
//! using it, drops a chunk whose index it has already seen, and deletes the
//! queue once the message is complete.
//!
//! **Liveness.** `abort` publishes the reason to `{session}-{me}-{peer}-__abort__`
//! for every peer; a waiting `get` polls its inbound abort queue and stops
//! with [`FederationError::PeerGone`]. A `get` that sees no chunk for the
//! timeout fails with [`FederationError::Timeout`] naming peer and variable.
//!
//! **Cleanup** deletes this party's inbound queues of the session (data and
//! abort; all of them when the management API can list them, else the ones it
//! declared), and in `vhost` mode the pair's vhost once no queue is left in it
//! (so the last party out removes it).

use crate::runtime::block_on;
use crate::wire::{self, fnv64, Assembled, Assembler, Head, Kind, OutChunk, Transport};
use crate::{Federation, FederationError, Result, Roster};
use fedflow_computing::{Session, Table};
use fedflow_core::Party;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicGetOptions, BasicPublishOptions,
    BasicQosOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The engine's name.
pub const ENGINE: &str = "rabbitmq";

/// Where the session's queues live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RabbitMode {
    /// `Vhost` when the management API answers, else `Queue`.
    Auto,
    /// A vhost per party pair and session (FATE's naming; needs the management API).
    Vhost,
    /// Queues in the default vhost, the session in their names.
    Queue,
}

/// Settings of the RabbitMQ engine.
#[derive(Debug, Clone)]
pub struct RabbitMqOptions {
    /// `amqp://user:password@host:port` (no vhost: the engine chooses it).
    pub url: String,
    /// The management API, default `http://{host}:15672`.
    pub management_url: Option<String>,
    /// Vhost or queue naming.
    pub mode: RabbitMode,
    /// How long a `get` waits without progress.
    pub timeout: Duration,
    /// The largest message body.
    pub chunk_bytes: usize,
    /// Unacked messages a consumer may hold.
    pub prefetch: u16,
    /// Unconfirmed messages a publisher may have in flight.
    pub confirm_window: usize,
}

impl Default for RabbitMqOptions {
    fn default() -> Self {
        RabbitMqOptions {
            url: "amqp://guest:guest@127.0.0.1:5672".into(),
            management_url: None,
            mode: RabbitMode::Auto,
            timeout: Duration::from_secs(600),
            chunk_bytes: 1 << 20,
            prefetch: 16,
            confirm_window: 32,
        }
    }
}

#[derive(Debug, Clone)]
struct AmqpUrl {
    scheme: String,
    user: String,
    password: String,
    host: String,
    port: u16,
}

fn parse_url(url: &str) -> Result<AmqpUrl> {
    let bad = |why: &str| FederationError::Usage(format!("amqp url '{url}': {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected amqp://…"))?;
    if scheme != "amqp" && scheme != "amqps" {
        return Err(bad("expected amqp:// or amqps://"));
    }
    let rest = rest.split('/').next().unwrap_or("");
    let (cred, hostport) = match rest.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, rest),
    };
    let (user, password) = match cred {
        Some(c) => match c.split_once(':') {
            Some((u, p)) => (u.to_string(), p.to_string()),
            None => (c.to_string(), String::new()),
        },
        None => ("guest".to_string(), "guest".to_string()),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad("bad port"))?),
        None => (
            hostport.to_string(),
            if scheme == "amqps" { 5671 } else { 5672 },
        ),
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok(AmqpUrl {
        scheme: scheme.into(),
        user,
        password,
        host,
        port,
    })
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in input.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A small client of RabbitMQ's management HTTP API.
#[derive(Clone)]
struct Mgmt {
    base: String,
    auth: String,
    user: String,
    agent: ureq::Agent,
}

impl Mgmt {
    fn new(base: &str, user: &str, password: &str) -> Self {
        Mgmt {
            base: base.trim_end_matches('/').to_string(),
            auth: format!("Basic {}", base64(format!("{user}:{password}").as_bytes())),
            user: user.into(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(15))
                .build(),
        }
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> FederationError {
        FederationError::Io {
            path: format!("{} ({what})", self.base),
            source: std::io::Error::other(e.to_string()),
        }
    }

    fn alive(&self) -> bool {
        self.agent
            .get(&format!("{}/api/overview", self.base))
            .set("Authorization", &self.auth)
            .timeout(Duration::from_secs(3))
            .call()
            .is_ok()
    }

    fn put_vhost(&self, vhost: &str) -> Result<()> {
        let v = pct(vhost);
        self.agent
            .put(&format!("{}/api/vhosts/{v}", self.base))
            .set("Authorization", &self.auth)
            .send_json(serde_json::json!({}))
            .map_err(|e| self.err("create vhost", e))?;
        self.agent
            .put(&format!(
                "{}/api/permissions/{v}/{}",
                self.base,
                pct(&self.user)
            ))
            .set("Authorization", &self.auth)
            .send_json(serde_json::json!({"configure": ".*", "write": ".*", "read": ".*"}))
            .map_err(|e| self.err("grant permissions", e))?;
        Ok(())
    }

    /// Queue names of a vhost.
    fn queues(&self, vhost: &str) -> Result<Vec<String>> {
        let r = self
            .agent
            .get(&format!(
                "{}/api/queues/{}?columns=name",
                self.base,
                pct(vhost)
            ))
            .set("Authorization", &self.auth)
            .call();
        match r {
            Ok(r) => {
                let v: serde_json::Value = r.into_json().map_err(|e| self.err("list queues", e))?;
                Ok(v.as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|q| q["name"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default())
            }
            Err(ureq::Error::Status(404, _)) => Ok(Vec::new()),
            Err(e) => Err(self.err("list queues", e)),
        }
    }

    /// Vhost names.
    fn vhosts(&self) -> Result<Vec<String>> {
        let r = self
            .agent
            .get(&format!("{}/api/vhosts?columns=name", self.base))
            .set("Authorization", &self.auth)
            .call()
            .map_err(|e| self.err("list vhosts", e))?;
        let v: serde_json::Value = r.into_json().map_err(|e| self.err("list vhosts", e))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|q| q["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn delete_vhost(&self, vhost: &str) {
        let _ = self
            .agent
            .delete(&format!("{}/api/vhosts/{}", self.base, pct(vhost)))
            .set("Authorization", &self.auth)
            .call();
    }
}

/// One party's end of a RabbitMQ federation session.
pub struct RabbitMqFederation {
    session_id: String,
    local: Party,
    peers: Vec<Party>,
    options: RabbitMqOptions,
    url: AmqpUrl,
    mgmt: Option<Mgmt>,
    vhost_mode: bool,
    conns: Mutex<HashMap<String, Arc<Connection>>>,
    declared: Mutex<BTreeSet<(String, String)>>,
    sent: Mutex<BTreeSet<(String, String)>>,
    gone: Mutex<HashMap<Party, String>>,
    duplicates: AtomicU64,
}

fn amqp_err(what: String) -> impl Fn(lapin::Error) -> FederationError {
    move |e| FederationError::Io {
        path: what.clone(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Messages in queue `q`, or `None` when it does not exist.
fn queue_messages(conn: &Connection, q: &str) -> Option<u32> {
    block_on(async {
        let ch = conn.create_channel().await.ok()?;
        let r = ch
            .queue_declare(
                ShortString::from(q),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .ok()?;
        let _ = ch.close(200, ShortString::from("ok")).await;
        Some(r.message_count())
    })
}

fn header_u64(h: &FieldTable, k: &str) -> Option<u64> {
    match h.inner().get(k)? {
        AMQPValue::LongLongInt(v) => Some(*v as u64),
        AMQPValue::LongInt(v) => Some(*v as u64),
        AMQPValue::LongUInt(v) => Some(*v as u64),
        AMQPValue::ShortInt(v) => Some(*v as u64),
        AMQPValue::ShortUInt(v) => Some(*v as u64),
        AMQPValue::ShortShortInt(v) => Some(*v as u64),
        AMQPValue::ShortShortUInt(v) => Some(*v as u64),
        AMQPValue::Timestamp(v) => Some(*v),
        _ => None,
    }
}

fn header_str(h: &FieldTable, k: &str) -> Option<String> {
    match h.inner().get(k)? {
        AMQPValue::LongString(v) => Some(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        AMQPValue::ShortString(v) => Some(v.as_str().to_string()),
        _ => None,
    }
}

fn party_str(p: Party) -> String {
    format!("{}-{}", p.role, p.party_id)
}

impl RabbitMqFederation {
    /// Joins session `session_id` as `local`; the roster names the peers
    /// (for vhosts and aborts). Fails at once when the broker is unreachable.
    pub fn new(
        session_id: &str,
        local: Party,
        roster: &Roster,
        options: RabbitMqOptions,
    ) -> Result<Self> {
        let url = parse_url(&options.url)?;
        let mgmt_url = options
            .management_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:15672", url.host));
        let mgmt = Mgmt::new(&mgmt_url, &url.user, &url.password);
        let (mgmt, vhost_mode) = match options.mode {
            RabbitMode::Queue => (mgmt.alive().then_some(mgmt), false),
            RabbitMode::Vhost => {
                if !mgmt.alive() {
                    return Err(FederationError::Usage(format!(
                        "rabbitmq vhost mode needs the management API, which does not answer at {mgmt_url} \
                         (rabbitmq-plugins enable rabbitmq_management)"
                    )));
                }
                (Some(mgmt), true)
            }
            RabbitMode::Auto => {
                if mgmt.alive() {
                    (Some(mgmt), true)
                } else {
                    (None, false)
                }
            }
        };
        let mut peers: Vec<Party> = roster.all().into_iter().filter(|p| *p != local).collect();
        peers.dedup();
        let fed = RabbitMqFederation {
            session_id: session_id.to_string(),
            local,
            peers,
            options,
            url,
            mgmt,
            vhost_mode,
            conns: Mutex::new(HashMap::new()),
            declared: Mutex::new(BTreeSet::new()),
            sent: Mutex::new(BTreeSet::new()),
            gone: Mutex::new(HashMap::new()),
            duplicates: AtomicU64::new(0),
        };
        // Create the pair vhosts, and this party's inbound abort queues (they
        // also keep a pair vhost alive until both parties have cleaned up).
        for &p in &fed.peers.clone() {
            // A peer leaving the session may remove the pair's vhost while
            // this party joins (the last party out removes it): start over.
            let mut attempt = 0;
            loop {
                attempt += 1;
                match fed.join_pair(p, local) {
                    Ok(()) => break,
                    Err(e) if attempt < 10 && fed.vhost_mode => {
                        tracing::debug!("joining the vhost with {p}: {e}; retrying");
                        fed.conns.lock().unwrap().remove(&fed.vhost(p));
                        std::thread::sleep(Duration::from_millis(100 * attempt));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        tracing::debug!(session = session_id, %local, vhost_mode = fed.vhost_mode, "rabbitmq federation open");
        Ok(fed)
    }

    /// Creates the vhost shared with `p` (vhost mode) and this party's inbound
    /// abort queue from `p`.
    fn join_pair(&self, p: Party, local: Party) -> Result<()> {
        let vhost = self.vhost(p);
        if self.vhost_mode {
            if let Some(m) = &self.mgmt {
                m.put_vhost(&vhost)?;
            }
        }
        let q = self.abort_queue(p, local);
        let conn = self.conn(&vhost)?;
        block_on(async {
            let ch = conn
                .create_channel()
                .await
                .map_err(amqp_err(format!("{vhost}: channel")))?;
            ch.queue_declare(
                ShortString::from(q.as_str()),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(amqp_err(format!("{vhost}: declare {q}")))?;
            let _ = ch.close(200, ShortString::from("ok")).await;
            Ok::<_, FederationError>(())
        })
    }

    /// True when the session uses a vhost per party pair.
    pub fn vhost_mode(&self) -> bool {
        self.vhost_mode
    }

    /// Chunks dropped as duplicates so far.
    pub fn duplicates_dropped(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    /// The vhost of messages between this party and `peer`.
    pub fn vhost(&self, peer: Party) -> String {
        if !self.vhost_mode {
            return "/".into();
        }
        let (a, b) = if (self.local.role.as_str(), self.local.party_id)
            <= (peer.role.as_str(), peer.party_id)
        {
            (self.local, peer)
        } else {
            (peer, self.local)
        };
        format!("{}-{}-{}", self.session_id, party_str(a), party_str(b))
    }

    fn prefix(&self, src: Party, dst: Party) -> String {
        format!("{}-{}-{}-", self.session_id, party_str(src), party_str(dst))
    }

    /// The queue of variable `name` (tag `tag`) from `src` to `dst`.
    pub fn queue(&self, src: Party, dst: Party, name: &str, tag: &str) -> String {
        let mut q = format!("{}{name}", self.prefix(src, dst));
        if !tag.is_empty() {
            q.push('^');
            q.push_str(tag);
        }
        if q.len() > 200 {
            let h = fnv64(&q);
            let mut cut = 180;
            while !q.is_char_boundary(cut) {
                cut -= 1;
            }
            q = format!("{}~{h:016x}", &q[..cut]);
        }
        q
    }

    fn abort_queue(&self, src: Party, dst: Party) -> String {
        format!("{}__abort__", self.prefix(src, dst))
    }

    fn conn(&self, vhost: &str) -> Result<Arc<Connection>> {
        let mut conns = self.conns.lock().unwrap();
        if let Some(c) = conns.get(vhost) {
            if c.status().connected() {
                return Ok(c.clone());
            }
        }
        let uri = format!(
            "{}://{}:{}@{}:{}/{}",
            self.url.scheme,
            pct(&self.url.user),
            pct(&self.url.password),
            self.url.host,
            self.url.port,
            pct(vhost)
        );
        let shown = format!(
            "{}://{}:{}/{}",
            self.url.scheme, self.url.host, self.url.port, vhost
        );
        // A vhost just created through the management API may refuse
        // connections for a moment: retry for a while. A peer that left the
        // session before this party joined may have removed the pair's vhost
        // (the last party out does): create it again.
        let start = Instant::now();
        let c = loop {
            let r = block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(30),
                    Connection::connect(&uri, ConnectionProperties::default()),
                )
                .await
            });
            match r {
                Ok(Ok(c)) => break c,
                Ok(Err(e)) if start.elapsed() > Duration::from_secs(15) => {
                    return Err(amqp_err(format!("{shown}: cannot connect to RabbitMQ"))(e))
                }
                Err(_) => {
                    return Err(FederationError::Io {
                        path: shown.clone(),
                        source: std::io::Error::other("timed out connecting to RabbitMQ"),
                    })
                }
                Ok(Err(e)) => {
                    tracing::debug!("{shown}: {e}; retrying");
                    if self.vhost_mode && e.to_string().contains("not found") {
                        if let Some(m) = &self.mgmt {
                            m.put_vhost(vhost)?;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        };
        let c = Arc::new(c);
        conns.insert(vhost.to_string(), c.clone());
        Ok(c)
    }

    fn peer_gone(&self, p: Party) -> Option<String> {
        self.gone.lock().unwrap().get(&p).cloned()
    }

    /// Publishes one message to `dst`; chunk indexes in `repeat` are sent twice
    /// (to test duplicate dropping).
    fn send_with(
        &self,
        dst: Party,
        name: &str,
        tag: &str,
        head: Head,
        chunks: &mut (dyn Iterator<Item = Result<OutChunk<'_>>> + Send),
        repeat: &[u64],
    ) -> Result<()> {
        let vhost = self.vhost(dst);
        let queue = self.queue(self.local, dst, name, tag);
        let conn = self.conn(&vhost)?;
        self.sent
            .lock()
            .unwrap()
            .insert((vhost.clone(), queue.clone()));
        let what = format!("{vhost}/{queue}");
        let window = self.options.confirm_window.max(1);
        block_on(async {
            let ch = conn
                .create_channel()
                .await
                .map_err(amqp_err(format!("{what}: channel")))?;
            ch.confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(amqp_err(format!("{what}: confirm_select")))?;
            ch.queue_declare(
                ShortString::from(queue.as_str()),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(amqp_err(format!("{what}: declare")))?;
            let mut pending = VecDeque::new();
            let mut idx = 0u64;
            let mut it = chunks.peekable();
            let dst_s = party_str(dst);
            loop {
                let chunk = it.next().transpose()?;
                let last = it.peek().is_none();
                let is_chunk = chunk.is_some();
                let (part, rows, data): OutChunk<'_> =
                    chunk.unwrap_or((0, 0, std::borrow::Cow::Borrowed(&[])));
                let mut h = FieldTable::default();
                h.insert(
                    "kind".into(),
                    AMQPValue::LongString(LongString::from(head.kind.as_str())),
                );
                h.insert("len".into(), AMQPValue::LongLongInt(head.len as i64));
                h.insert(
                    "partitions".into(),
                    AMQPValue::LongLongInt(head.partitions as i64),
                );
                h.insert("idx".into(), AMQPValue::LongLongInt(idx as i64));
                h.insert("part".into(), AMQPValue::LongLongInt(part as i64));
                h.insert("rows".into(), AMQPValue::LongLongInt(rows as i64));
                let total = if is_chunk { idx + 1 } else { idx };
                if last {
                    h.insert("total".into(), AMQPValue::LongLongInt(total as i64));
                }
                let props = BasicProperties::default()
                    .with_message_id(ShortString::from(name))
                    .with_correlation_id(ShortString::from(tag))
                    .with_app_id(ShortString::from(dst_s.as_str()))
                    .with_content_type(ShortString::from("application/octet-stream"))
                    .with_delivery_mode(1)
                    .with_headers(h);
                let times = if repeat.contains(&idx) { 2 } else { 1 };
                for _ in 0..times {
                    let c = ch
                        .basic_publish(
                            ShortString::from(""),
                            ShortString::from(queue.as_str()),
                            BasicPublishOptions::default(),
                            &data,
                            props.clone(),
                        )
                        .await
                        .map_err(amqp_err(format!("{what}: publish")))?;
                    pending.push_back(c);
                }
                while pending.len() > window {
                    let c = pending.pop_front().expect("non-empty");
                    let conf = c.await.map_err(amqp_err(format!("{what}: confirm")))?;
                    if conf.is_nack() {
                        return Err(FederationError::Io {
                            path: what.clone(),
                            source: std::io::Error::other("a message was nacked by the broker"),
                        });
                    }
                }
                idx = total;
                if last {
                    break;
                }
            }
            while let Some(c) = pending.pop_front() {
                let conf = c.await.map_err(amqp_err(format!("{what}: confirm")))?;
                if conf.is_nack() {
                    return Err(FederationError::Io {
                        path: what.clone(),
                        source: std::io::Error::other("a message was nacked by the broker"),
                    });
                }
            }
            let _ = ch.close(200, ShortString::from("ok")).await;
            Ok(())
        })
    }

    /// Consumes one message from `src` into `asm`.
    fn recv_msg(
        &self,
        src: Party,
        name: &str,
        tag: &str,
        asm: &mut Assembler<'_>,
    ) -> Result<Assembled> {
        let malformed = |reason: String| FederationError::Malformed {
            peer: src,
            name: name.into(),
            tag: tag.into(),
            reason,
        };
        if let Some(reason) = self.peer_gone(src) {
            return Err(FederationError::PeerGone {
                peer: src,
                name: name.into(),
                tag: tag.into(),
                reason,
            });
        }
        let vhost = self.vhost(src);
        let queue = self.queue(src, self.local, name, tag);
        let abort_q = self.abort_queue(src, self.local);
        let conn = self.conn(&vhost)?;
        self.declared
            .lock()
            .unwrap()
            .insert((vhost.clone(), queue.clone()));
        let what = format!("{vhost}/{queue}");
        let timeout = self.options.timeout;
        let prefetch = self.options.prefetch;
        let total = block_on(async {
            let ch = conn
                .create_channel()
                .await
                .map_err(amqp_err(format!("{what}: channel")))?;
            for q in [&queue, &abort_q] {
                ch.queue_declare(
                    ShortString::from(q.as_str()),
                    QueueDeclareOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(amqp_err(format!("{what}: declare")))?;
            }
            ch.basic_qos(prefetch, BasicQosOptions::default())
                .await
                .map_err(amqp_err(format!("{what}: qos")))?;
            let mut consumer = ch
                .basic_consume(
                    ShortString::from(queue.as_str()),
                    ShortString::from(""),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(amqp_err(format!("{what}: consume")))?;
            let tag_c = consumer.tag();
            let mut last_progress = Instant::now();
            let total = loop {
                match tokio::time::timeout(Duration::from_millis(200), consumer.next()).await {
                    Ok(Some(Ok(d))) => {
                        last_progress = Instant::now();
                        let h = d.properties.headers().clone().unwrap_or_default();
                        let kind = header_str(&h, "kind").and_then(|k| Kind::parse(&k));
                        let (Some(kind), Some(idx)) = (kind, header_u64(&h, "idx")) else {
                            return Err(malformed("a message without kind or idx headers".into()));
                        };
                        asm.head(Head {
                            kind,
                            len: header_u64(&h, "len").unwrap_or(0),
                            partitions: header_u64(&h, "partitions").unwrap_or(0) as u32,
                        })
                        .map_err(&malformed)?;
                        if !d.data.is_empty() {
                            let part = header_u64(&h, "part").unwrap_or(0) as u32;
                            let rows = header_u64(&h, "rows").unwrap_or(0);
                            asm.chunk(idx, part, rows, &d.data).map_err(&malformed)?;
                        }
                        d.acker
                            .ack(BasicAckOptions::default())
                            .await
                            .map_err(amqp_err(format!("{what}: ack")))?;
                        if let Some(t) = header_u64(&h, "total") {
                            if asm.next_index() >= t {
                                break t;
                            }
                        }
                    }
                    Ok(Some(Err(e))) => return Err(amqp_err(format!("{what}: consume"))(e)),
                    Ok(None) => {
                        return Err(FederationError::Io {
                            path: what.clone(),
                            source: std::io::Error::other("the broker closed the consumer"),
                        })
                    }
                    Err(_) => {
                        if let Ok(Some(m)) = ch
                            .basic_get(
                                ShortString::from(abort_q.as_str()),
                                BasicGetOptions { no_ack: true },
                            )
                            .await
                        {
                            let reason = format!(
                                "its task failed: {}",
                                String::from_utf8_lossy(&m.delivery.data)
                            );
                            return Err(FederationError::PeerGone {
                                peer: src,
                                name: name.into(),
                                tag: tag.into(),
                                reason,
                            });
                        }
                        if last_progress.elapsed() > timeout {
                            return Err(FederationError::Timeout {
                                peer: src,
                                name: name.into(),
                                tag: tag.into(),
                                waited: timeout,
                            });
                        }
                    }
                }
            };
            let _ = ch.basic_cancel(tag_c, BasicCancelOptions::default()).await;
            let _ = ch
                .queue_delete(
                    ShortString::from(queue.as_str()),
                    QueueDeleteOptions::default(),
                )
                .await;
            let _ = ch.close(200, ShortString::from("ok")).await;
            Ok(total)
        });
        let total = match total {
            Err(FederationError::PeerGone {
                peer,
                name,
                tag,
                reason,
            }) => {
                self.gone.lock().unwrap().insert(peer, reason.clone());
                return Err(FederationError::PeerGone {
                    peer,
                    name,
                    tag,
                    reason,
                });
            }
            other => other?,
        };
        self.declared.lock().unwrap().remove(&(vhost, queue));
        self.duplicates.fetch_add(asm.duplicates, Ordering::Relaxed);
        let a = std::mem::replace(asm, Assembler::new(Kind::Object));
        a.finish(total).map_err(malformed)
    }

    /// Streams `chunks` to `dst` as one message (benchmarks).
    pub fn remote_stream(
        &self,
        name: &str,
        tag: &str,
        dst: Party,
        chunks: &mut (dyn Iterator<Item = Vec<u8>> + Send),
    ) -> Result<()> {
        wire::remote_stream(self, name, tag, dst, chunks)
    }

    /// Receives a stream from `src`, passing each chunk to `sink`; returns the bytes.
    pub fn get_stream(
        &self,
        name: &str,
        tag: &str,
        src: Party,
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<u64> {
        wire::get_stream(self, name, tag, src, sink)
    }
}

impl Transport for RabbitMqFederation {
    fn chunk_bytes(&self) -> usize {
        self.options.chunk_bytes
    }
    fn send(
        &self,
        dst: Party,
        name: &str,
        tag: &str,
        head: Head,
        chunks: &mut (dyn Iterator<Item = Result<OutChunk<'_>>> + Send),
    ) -> Result<()> {
        self.send_with(dst, name, tag, head, chunks, &[])
    }
    fn recv(
        &self,
        src: Party,
        name: &str,
        tag: &str,
        asm: &mut Assembler<'_>,
    ) -> Result<Assembled> {
        self.recv_msg(src, name, tag, asm)
    }
}

impl Federation for RabbitMqFederation {
    fn engine(&self) -> &'static str {
        ENGINE
    }

    fn session_id(&self) -> &str {
        &self.session_id
    }

    fn local(&self) -> Party {
        self.local
    }

    fn remote_bytes(&self, name: &str, tag: &str, value: &[u8], dst: &[Party]) -> Result<()> {
        wire::remote_bytes(self, name, tag, value, dst)
    }

    fn get_bytes(&self, name: &str, tag: &str, src: &[Party]) -> Result<Vec<Vec<u8>>> {
        wire::get_bytes(self, name, tag, src)
    }

    fn remote_table(&self, name: &str, tag: &str, table: &dyn Table, dst: &[Party]) -> Result<()> {
        wire::remote_table(self, name, tag, table, dst)
    }

    fn get_tables(
        &self,
        name: &str,
        tag: &str,
        src: &[Party],
        session: &dyn Session,
    ) -> Result<Vec<Arc<dyn Table>>> {
        wire::get_tables(self, name, tag, src, session)
    }

    fn abort(&self, reason: &str) {
        for &p in &self.peers {
            let vhost = self.vhost(p);
            let q = self.abort_queue(self.local, p);
            let Ok(conn) = self.conn(&vhost) else {
                continue;
            };
            let r = block_on(async {
                let ch = conn.create_channel().await?;
                ch.queue_declare(
                    ShortString::from(q.as_str()),
                    QueueDeclareOptions::default(),
                    FieldTable::default(),
                )
                .await?;
                ch.confirm_select(ConfirmSelectOptions::default()).await?;
                ch.basic_publish(
                    ShortString::from(""),
                    ShortString::from(q.as_str()),
                    BasicPublishOptions::default(),
                    reason.as_bytes(),
                    BasicProperties::default(),
                )
                .await?
                .await?;
                let _ = ch.close(200, ShortString::from("ok")).await;
                Ok::<_, lapin::Error>(())
            });
            if let Err(e) = r {
                tracing::warn!("could not tell {p} that this task failed: {e}");
            }
        }
    }

    fn cleanup(&self) -> Result<()> {
        let mut by_vhost: HashMap<String, Vec<String>> = HashMap::new();
        for (v, q) in std::mem::take(&mut *self.declared.lock().unwrap()) {
            by_vhost.entry(v).or_default().push(q);
        }
        for &p in &self.peers {
            let vhost = self.vhost(p);
            let mine = by_vhost.entry(vhost.clone()).or_default();
            mine.push(self.abort_queue(p, self.local));
            if let Some(m) = &self.mgmt {
                let prefix = self.prefix(p, self.local);
                mine.extend(
                    m.queues(&vhost)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|q| q.starts_with(&prefix)),
                );
            }
        }
        for (vhost, queues) in &by_vhost {
            if let Ok(conn) = self.conn(vhost) {
                let _ = block_on(async {
                    let ch = conn.create_channel().await?;
                    for q in queues {
                        ch.queue_delete(
                            ShortString::from(q.as_str()),
                            QueueDeleteOptions::default(),
                        )
                        .await?;
                    }
                    let _ = ch.close(200, ShortString::from("ok")).await;
                    Ok::<_, lapin::Error>(())
                });
            }
        }
        let conns: Vec<Arc<Connection>> =
            self.conns.lock().unwrap().drain().map(|(_, c)| c).collect();
        for c in conns {
            let _ = block_on(async { c.close(200, ShortString::from("bye")).await });
        }
        if self.vhost_mode {
            if let Some(m) = &self.mgmt {
                let sent = std::mem::take(&mut *self.sent.lock().unwrap());
                for &p in &self.peers {
                    let vhost = self.vhost(p);
                    // The last party out removes the pair's vhost: not while
                    // the peer is still in the session (its inbound abort
                    // queue exists) or has not read what this party sent.
                    let Ok(conn) = self.conn(&vhost) else {
                        continue;
                    };
                    let mut keep =
                        queue_messages(&conn, &self.abort_queue(self.local, p)).is_some();
                    for (v, q) in &sent {
                        if !keep && v == &vhost {
                            keep = queue_messages(&conn, q).is_some_and(|n| n > 0);
                        }
                    }
                    let _ = block_on(async { conn.close(200, ShortString::from("bye")).await });
                    self.conns.lock().unwrap().remove(&vhost);
                    if !keep {
                        m.delete_vhost(&vhost);
                    }
                }
            }
        }
        Ok(())
    }
}

impl Drop for RabbitMqFederation {
    fn drop(&mut self) {
        let conns: Vec<Arc<Connection>> =
            self.conns.lock().unwrap().drain().map(|(_, c)| c).collect();
        for c in conns {
            let _ = block_on(async { c.close(200, ShortString::from("bye")).await });
        }
    }
}

/// Helpers for tests and benchmarks on this machine's broker.
#[doc(hidden)]
pub mod testing {
    use super::Mgmt;
    use std::net::{SocketAddr, TcpStream};
    use std::process::{Command, Stdio};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// The local broker's management API.
    pub const MANAGEMENT_URL: &str = "http://127.0.0.1:15672";

    fn up(port: u16) -> bool {
        let a: SocketAddr = ([127, 0, 0, 1], port).into();
        TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok()
    }

    fn wait(what: &str, secs: u64, ok: impl Fn() -> bool) -> Result<(), String> {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(secs) {
            if ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(format!("{what} did not come up within {secs} s"))
    }

    fn run(cmd: &str, args: &[&str]) {
        let _ = Command::new(cmd)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Makes sure RabbitMQ answers on 127.0.0.1:5672 (starting it with
    /// `rabbitmq-server -detached` if it is down) and its management API on
    /// 15672 (enabling the plugin, idempotently). Errors say what is missing.
    pub fn ensure_broker() -> Result<(), String> {
        static DONE: OnceLock<Result<(), String>> = OnceLock::new();
        DONE.get_or_init(|| {
            if !up(5672) {
                run("rabbitmq-server", &["-detached"]);
                wait(
                    "RabbitMQ on 127.0.0.1:5672 (rabbitmq-server -detached)",
                    120,
                    || up(5672),
                )?;
            }
            let m = Mgmt::new(MANAGEMENT_URL, "guest", "guest");
            if !m.alive() {
                run("rabbitmq-plugins", &["enable", "rabbitmq_management"]);
                wait("RabbitMQ's management API on 127.0.0.1:15672", 120, || {
                    m.alive()
                })?;
            }
            Ok(())
        })
        .clone()
    }

    /// Queue names in `vhost` (via the management API).
    pub fn queues(vhost: &str) -> Vec<String> {
        Mgmt::new(MANAGEMENT_URL, "guest", "guest")
            .queues(vhost)
            .expect("listing queues")
    }

    /// Vhost names (via the management API).
    pub fn vhosts() -> Vec<String> {
        Mgmt::new(MANAGEMENT_URL, "guest", "guest")
            .vhosts()
            .expect("listing vhosts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{digest, roster, session, table, uniq, G, H};
    use crate::TransferVariable;

    const SHARE: TransferVariable = TransferVariable::new("share", &[Role::Guest], &[Role::Host]);
    const BACK: TransferVariable = TransferVariable::new("back", &[Role::Host], &[Role::Guest]);
    use fedflow_core::Role;

    fn fed(session: &str, me: Party, mode: RabbitMode, timeout_ms: u64) -> RabbitMqFederation {
        testing::ensure_broker().unwrap_or_else(|e| panic!("RabbitMQ: {e}"));
        RabbitMqFederation::new(
            session,
            me,
            &roster(),
            RabbitMqOptions {
                mode,
                timeout: Duration::from_millis(timeout_ms),
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn exchange(mode: RabbitMode, mb: usize) {
        let sid = uniq("rmq");
        let g = fed(&sid, G, mode, 60_000);
        let h = fed(&sid, H, mode, 60_000);
        assert_eq!(g.vhost_mode(), mode != RabbitMode::Queue);
        let s = session();
        let t = table(&s, mb);
        let want = digest(t.as_ref());
        std::thread::scope(|sc| {
            let hh = &h;
            let s2 = &s;
            let recv = sc.spawn(move || {
                // Interleaved tags: read iter.1 before iter.0.
                assert_eq!(SHARE.get_one::<u64>(hh, G, "iter.1").unwrap(), 7);
                let big: Vec<u64> = SHARE.get_one(hh, G, "iter.0").unwrap();
                assert_eq!(big.len(), 300_000);
                assert_eq!(big[299_999], 299_999);
                let got = hh.get_tables("tbl", "x", &[G], s2).unwrap().remove(0);
                BACK.remote(hh, &1u8, &[G], "done").unwrap();
                digest(got.as_ref())
            });
            let big: Vec<u64> = (0..300_000).collect();
            SHARE.remote(&g, &big, &[H], "iter.0").unwrap();
            SHARE.remote(&g, &7u64, &[H], "iter.1").unwrap();
            g.remote_table("tbl", "x", t.as_ref(), &[H]).unwrap();
            assert_eq!(BACK.get_one::<u8>(&g, H, "done").unwrap(), 1);
            assert_eq!(recv.join().unwrap(), want);
        });
        g.cleanup().unwrap();
        h.cleanup().unwrap();
        if mode == RabbitMode::Queue {
            let left: Vec<String> = testing::queues("/")
                .into_iter()
                .filter(|q| q.starts_with(&sid))
                .collect();
            assert!(left.is_empty(), "queues left: {left:?}");
        } else {
            let left: Vec<String> = testing::vhosts()
                .into_iter()
                .filter(|v| v.starts_with(&sid))
                .collect();
            assert!(left.is_empty(), "vhosts left: {left:?}");
        }
    }

    #[test]
    fn values_and_a_50mb_table_between_threads_vhost_per_pair() {
        exchange(RabbitMode::Vhost, 50);
    }

    #[test]
    fn values_and_a_table_between_threads_queues_in_default_vhost() {
        exchange(RabbitMode::Queue, 5);
    }

    #[test]
    fn queue_and_vhost_names_follow_fate() {
        let g = fed("job_9", G, RabbitMode::Vhost, 1000);
        assert_eq!(g.vhost(H), "job_9-guest-9999-host-10000");
        assert_eq!(
            g.queue(G, H, "share", "iter.1"),
            "job_9-guest-9999-host-10000-share^iter.1"
        );
        assert_eq!(
            g.queue(H, G, "share", ""),
            "job_9-host-10000-guest-9999-share"
        );
        assert!(g.queue(G, H, &"x".repeat(300), "t").len() <= 200);
        g.cleanup().unwrap();
    }

    #[test]
    fn timeout_names_peer_and_variable_and_abort_stops_the_wait() {
        let sid = uniq("rmq_to");
        let g = fed(&sid, G, RabbitMode::Auto, 1500);
        let h = fed(&sid, H, RabbitMode::Auto, 1500);
        let t0 = Instant::now();
        let e = SHARE
            .get::<u8>(&h, &[G], "nothing")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("timed out")
                && e.contains("'share'")
                && e.contains("guest:9999")
                && e.contains("nothing"),
            "{e}"
        );
        assert!(t0.elapsed() < Duration::from_secs(10));
        g.abort("boom");
        let t0 = Instant::now();
        let e = SHARE.get::<u8>(&h, &[G], "x").unwrap_err().to_string();
        assert!(
            e.contains("peer guest:9999 is gone") && e.contains("boom"),
            "{e}"
        );
        assert!(t0.elapsed() < Duration::from_millis(1500));
        g.cleanup().unwrap();
        h.cleanup().unwrap();
        assert!(testing::queues("/").iter().all(|q| !q.starts_with(&sid)));
        assert!(testing::vhosts().iter().all(|v| !v.starts_with(&sid)));
    }

    /// A table that fails while it is being sent fails the send with its own
    /// error; the receiver never completes it (it times out here; in a job
    /// the sender's abort ends the wait).
    #[test]
    fn a_table_failing_while_sent_never_arrives_truncated() {
        let sid = uniq("rmq_broken");
        let g = fed(&sid, G, RabbitMode::Queue, 10_000);
        let h = fed(&sid, H, RabbitMode::Queue, 2_000);
        let s = session();
        let e = crate::testutil::send_a_table_that_breaks(&g, &h, &s);
        assert!(e.contains("timed out") && e.contains("'broken'"), "{e}");
        g.cleanup().unwrap();
        h.cleanup().unwrap();
    }

    #[test]
    fn a_duplicate_chunk_is_dropped() {
        let sid = uniq("rmq_dup");
        let g = fed(&sid, G, RabbitMode::Queue, 10_000);
        let h = fed(&sid, H, RabbitMode::Queue, 10_000);
        let value: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
        let head = Head {
            kind: Kind::Object,
            len: value.len() as u64,
            partitions: 0,
        };
        g.send_with(
            H,
            "dup",
            "",
            head,
            &mut crate::wire::value_chunks(&value, 1000),
            &[0, 3],
        )
        .unwrap();
        assert_eq!(h.get_bytes("dup", "", &[G]).unwrap()[0], value);
        assert_eq!(h.duplicates_dropped(), 2);
        g.cleanup().unwrap();
        h.cleanup().unwrap();
    }
}
