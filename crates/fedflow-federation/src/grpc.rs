//! The gRPC federation engine (the role of FATE's rollsite / OSX).
//!
//! Each party's federation endpoint is a small gRPC server (`Transfer.Push`,
//! `Transfer.Abort`, see `proto/federation.proto`) at the party's
//! `host:port`: `grpc_listen`, else its own entry of the route table. A
//! process starts one endpoint per address the first time a party there opens
//! a session and keeps it for its lifetime; parties in separate processes on
//! one machine each listen on their own port. The route table maps party id →
//! `host:port`; one party id playing several roles shares its endpoint (the
//! destination role is in each message).
//!
//! **Messages.** `Push` is a client stream: the first packet carries the
//! header (session, name, tag, source, destination, kind), then chunks of at
//! most `chunk_bytes` (1 MiB) with their index, the last packet the chunk
//! count. The sender feeds the stream through a channel of two packets, so it
//! never holds more than a few chunks; HTTP/2 flow control pushes back when
//! the receiver does not read. The receiver keeps arrivals keyed by
//! (session, name, tag, source, destination) until a `get` takes them: up to
//! `memory_per_message` bytes in memory, then, while no `get` is reading, in
//! a spool file (so two parties that both send before they receive never
//! deadlock); while a `get` is reading, a full buffer stops reading the
//! stream, which is the backpressure. Chunks whose index was already received
//! are dropped.
//!
//! **TLS.** With a CA, a certificate and a key (PEM; `{party_id}` in the
//! paths is replaced by the local party id), the endpoint serves TLS and
//! requires client certificates signed by the CA (mTLS), and clients present
//! theirs and check that the server's certificate is for `party-{id}` of the
//! destination. `fedflow cert` makes such a CA and certificates ([`crate::certs`]).

use crate::runtime::{block_on, rt};
use crate::wire::{self, Assembled, Assembler, Head, Kind, OutChunk, Transport};
use crate::{Federation, FederationError, Result, Roster};
use fedflow_computing::{Session, Table};
use fedflow_core::{Party, Role};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tonic::transport::{
    Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Server, ServerTlsConfig,
};
use tonic::{Request, Response, Status, Streaming};

/// The generated gRPC messages and services.
#[allow(missing_docs, clippy::all)]
pub mod pb {
    tonic::include_proto!("fedflow.federation");
}
use pb::transfer_client::TransferClient;
use pb::transfer_server::{Transfer, TransferServer};

/// The engine's name.
pub const ENGINE: &str = "grpc";

const MAX_MESSAGE: usize = 64 << 20;

/// TLS files (PEM); `{party_id}` in a path is replaced by the local party id.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA that signs every party's certificate (the trust set).
    pub ca: PathBuf,
    /// This party's certificate.
    pub cert: PathBuf,
    /// This party's private key.
    pub key: PathBuf,
}

/// Settings of the gRPC engine.
#[derive(Debug, Clone)]
pub struct GrpcOptions {
    /// How long a `get` waits without progress, and a sender for its peer's endpoint.
    pub timeout: Duration,
    /// The largest chunk.
    pub chunk_bytes: usize,
    /// This party's endpoint address; default its route.
    pub listen: Option<String>,
    /// Party id → `host:port`.
    pub routes: BTreeMap<u64, String>,
    /// TLS and mTLS; plaintext when `None`.
    pub tls: Option<TlsFiles>,
    /// Where unread arrivals spill; default the temp dir.
    pub spool_dir: Option<PathBuf>,
    /// Bytes of one message kept in memory before it spills (or pushes back).
    pub memory_per_message: usize,
    /// Receive through the party server's endpoint: the mailbox directory its
    /// endpoint writes arrivals into ([`serve_mailbox_endpoint`]). This
    /// process then starts no endpoint of its own.
    pub mailbox: Option<PathBuf>,
    /// How long a sender retries (with exponential backoff) a peer endpoint
    /// that refuses connections before it fails naming the peer and address.
    pub connect_patience: Duration,
}

impl Default for GrpcOptions {
    fn default() -> Self {
        GrpcOptions {
            timeout: Duration::from_secs(600),
            chunk_bytes: 1 << 20,
            listen: None,
            routes: BTreeMap::new(),
            tls: None,
            spool_dir: None,
            memory_per_message: 16 << 20,
            mailbox: None,
            connect_patience: Duration::from_secs(30),
        }
    }
}

type Key = (String, String, String, Party, Party);

struct Chunk {
    idx: u64,
    part: u32,
    rows: u64,
    data: Vec<u8>,
}

struct Spill {
    path: PathBuf,
    w: File,
    r: BufReader<File>,
    written: u64,
    read: u64,
}

impl Spill {
    fn pending(&self) -> bool {
        self.read < self.written
    }
}

#[derive(Default)]
struct EntryState {
    head: Option<Head>,
    next_in: u64,
    mem: VecDeque<Chunk>,
    mem_bytes: usize,
    spill: Option<Spill>,
    total: Option<u64>,
    broken: Option<String>,
    consumer: bool,
}

#[derive(Default)]
struct Entry {
    st: Mutex<EntryState>,
    data: Condvar,
    space: tokio::sync::Notify,
}

/// The receiving side of one endpoint: arrivals until a `get` takes them.
struct Inbox {
    entries: Mutex<HashMap<Key, Arc<Entry>>>,
    aborted: Mutex<HashMap<(String, Party), String>>,
    spool: PathBuf,
    mem_cap: usize,
    duplicates: AtomicU64,
    /// Pushes being received (so that a process does not exit under a
    /// sender that is still waiting for its reply).
    active: Arc<AtomicU64>,
}

impl Inbox {
    fn entry(&self, key: &Key) -> Arc<Entry> {
        self.entries
            .lock()
            .unwrap()
            .entry(key.clone())
            .or_default()
            .clone()
    }

    fn remove(&self, key: &Key) {
        if let Some(e) = self.entries.lock().unwrap().remove(key) {
            if let Some(s) = e.st.lock().unwrap().spill.take() {
                let _ = std::fs::remove_file(s.path);
            }
        }
    }

    /// Stores one packet's chunk; waits (backpressure) while a reader is
    /// attached and the memory buffer is full.
    async fn store(&self, e: &Entry, c: Chunk) -> std::result::Result<(), Status> {
        loop {
            {
                let mut st = e.st.lock().unwrap();
                if c.idx < st.next_in {
                    self.duplicates.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                if c.idx > st.next_in {
                    return Err(Status::invalid_argument(format!(
                        "chunk {} arrived, expected {}",
                        c.idx, st.next_in
                    )));
                }
                let spilling = st.spill.as_ref().is_some_and(Spill::pending);
                if !spilling && (st.mem.is_empty() || st.mem_bytes + c.data.len() <= self.mem_cap) {
                    st.mem_bytes += c.data.len();
                    st.mem.push_back(c);
                    st.next_in += 1;
                    e.data.notify_all();
                    return Ok(());
                }
                if !st.consumer || spilling {
                    self.spill(&mut st, &c).map_err(|err| {
                        Status::resource_exhausted(format!("spooling a chunk: {err}"))
                    })?;
                    st.next_in += 1;
                    e.data.notify_all();
                    return Ok(());
                }
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), e.space.notified()).await;
        }
    }

    fn spill(&self, st: &mut EntryState, c: &Chunk) -> std::io::Result<()> {
        if st.spill.is_none() {
            std::fs::create_dir_all(&self.spool)?;
            let path = self.spool.join(format!(
                "{}-{:016x}.spool",
                std::process::id(),
                rand::random::<u64>()
            ));
            let w = File::create(&path)?;
            let r = BufReader::new(File::open(&path)?);
            st.spill = Some(Spill {
                path,
                w,
                r,
                written: 0,
                read: 0,
            });
        }
        let s = st.spill.as_mut().expect("just made");
        let mut rec = Vec::with_capacity(28 + c.data.len());
        rec.extend_from_slice(&c.idx.to_le_bytes());
        rec.extend_from_slice(&c.part.to_le_bytes());
        rec.extend_from_slice(&c.rows.to_le_bytes());
        rec.extend_from_slice(&(c.data.len() as u64).to_le_bytes());
        rec.extend_from_slice(&c.data);
        s.w.write_all(&rec)?;
        s.written += 1;
        Ok(())
    }
}

fn read_spilled(s: &mut Spill) -> std::io::Result<Chunk> {
    let mut h = [0u8; 28];
    s.r.read_exact(&mut h)?;
    let idx = u64::from_le_bytes(h[0..8].try_into().unwrap());
    let part = u32::from_le_bytes(h[8..12].try_into().unwrap());
    let rows = u64::from_le_bytes(h[12..20].try_into().unwrap());
    let len = u64::from_le_bytes(h[20..28].try_into().unwrap()) as usize;
    let mut data = vec![0u8; len];
    s.r.read_exact(&mut data)?;
    s.read += 1;
    Ok(Chunk {
        idx,
        part,
        rows,
        data,
    })
}

struct Service {
    inbox: Arc<Inbox>,
}

/// Counts a push while its handler runs.
struct Active(Arc<AtomicU64>);

impl Active {
    fn enter(n: &Arc<AtomicU64>) -> Active {
        n.fetch_add(1, Ordering::SeqCst);
        Active(n.clone())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[allow(clippy::result_large_err)]
fn party(role: &str, pid: u64) -> std::result::Result<Party, Status> {
    let role: Role = role
        .parse()
        .map_err(|e| Status::invalid_argument(format!("{e}")))?;
    Ok(Party::new(role, pid))
}

/// The first packet of a push, its header and the message kind it announces.
async fn first_packet(
    s: &mut Streaming<pb::Packet>,
) -> std::result::Result<(pb::Packet, pb::Header, Kind), Status> {
    let first = s
        .message()
        .await?
        .ok_or_else(|| Status::invalid_argument("an empty push"))?;
    let h = first
        .header
        .clone()
        .ok_or_else(|| Status::invalid_argument("the first packet has no header"))?;
    let kind = Kind::parse(&h.kind)
        .ok_or_else(|| Status::invalid_argument(format!("kind '{}'", h.kind)))?;
    Ok((first, h, kind))
}

#[tonic::async_trait]
impl Transfer for Service {
    async fn push(
        &self,
        req: Request<Streaming<pb::Packet>>,
    ) -> std::result::Result<Response<pb::PushReply>, Status> {
        let _active = Active::enter(&self.inbox.active);
        let mut s = req.into_inner();
        let (first, h, kind) = first_packet(&mut s).await?;
        let head = Head {
            kind,
            len: h.len,
            partitions: h.partitions,
        };
        let key: Key = (
            h.session.clone(),
            h.name.clone(),
            h.tag.clone(),
            party(&h.src_role, h.src_pid)?,
            party(&h.dst_role, h.dst_pid)?,
        );
        let e = self.inbox.entry(&key);
        {
            let mut st = e.st.lock().unwrap();
            if st.total.is_some() {
                return Err(Status::already_exists(format!(
                    "'{}' (tag '{}') was already sent to {} and not yet received",
                    h.name, h.tag, key.4
                )));
            }
            if st.head.is_some_and(|x| x != head) {
                return Err(Status::invalid_argument(
                    "the header changed between pushes",
                ));
            }
            st.head = Some(head);
            st.broken = None;
            e.data.notify_all();
        }
        let mut next = Some(first);
        let mut chunks = 0u64;
        loop {
            let p = match next.take() {
                Some(p) => p,
                None => match s.message().await {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(err) => {
                        let mut st = e.st.lock().unwrap();
                        st.broken = Some(format!("its stream broke: {}", err.message()));
                        e.data.notify_all();
                        return Err(err);
                    }
                },
            };
            if !p.data.is_empty() {
                chunks += 1;
                self.inbox
                    .store(
                        &e,
                        Chunk {
                            idx: p.idx,
                            part: p.part,
                            rows: p.rows,
                            data: p.data,
                        },
                    )
                    .await?;
            }
            if p.last {
                let mut st = e.st.lock().unwrap();
                st.total = Some(p.total);
                e.data.notify_all();
                return Ok(Response::new(pb::PushReply { chunks }));
            }
        }
        let mut st = e.st.lock().unwrap();
        st.broken = Some("its stream ended before the last chunk".into());
        e.data.notify_all();
        Err(Status::invalid_argument(
            "the stream ended before the last chunk",
        ))
    }

    async fn abort(
        &self,
        req: Request<pb::AbortRequest>,
    ) -> std::result::Result<Response<pb::PushReply>, Status> {
        let r = req.into_inner();
        let src = party(&r.src_role, r.src_pid)?;
        self.inbox
            .aborted
            .lock()
            .unwrap()
            .insert((r.session, src), r.reason);
        Ok(Response::new(pb::PushReply { chunks: 0 }))
    }
}

fn endpoints() -> &'static Mutex<HashMap<String, Arc<Inbox>>> {
    static E: OnceLock<Mutex<HashMap<String, Arc<Inbox>>>> = OnceLock::new();
    E.get_or_init(Default::default)
}

fn io(path: &str, e: impl std::fmt::Display) -> FederationError {
    FederationError::Io {
        path: path.to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// The causes of an error, `: a: b`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

fn read_pem(p: &Path, pid: u64) -> Result<(PathBuf, Vec<u8>)> {
    let path = PathBuf::from(p.to_string_lossy().replace("{party_id}", &pid.to_string()));
    let bytes = std::fs::read(&path).map_err(|source| FederationError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok((path, bytes))
}

struct LoadedTls {
    ca: Certificate,
    identity: Identity,
}

/// Starts (or finds) this process's endpoint at `listen`.
fn endpoint(
    listen: &str,
    tls: Option<&LoadedTls>,
    spool: PathBuf,
    mem_cap: usize,
) -> Result<Arc<Inbox>> {
    let mut eps = endpoints().lock().unwrap();
    if let Some(i) = eps.get(listen) {
        return Ok(i.clone());
    }
    let std_listener = std::net::TcpListener::bind(listen).map_err(|e| {
        io(
            listen,
            format!("cannot listen for the federation endpoint: {e}"),
        )
    })?;
    let inbox = Arc::new(Inbox {
        entries: Mutex::new(HashMap::new()),
        aborted: Mutex::new(HashMap::new()),
        spool,
        mem_cap,
        duplicates: AtomicU64::new(0),
        active: Arc::new(AtomicU64::new(0)),
    });
    let svc = TransferServer::new(Service {
        inbox: inbox.clone(),
    })
    .max_decoding_message_size(MAX_MESSAGE)
    .max_encoding_message_size(MAX_MESSAGE);
    let router = server_builder(tls, listen)?.add_service(svc);
    spawn_router(router, std_listener, listen)?;
    tracing::info!("federation endpoint listening on {listen}");
    eps.insert(listen.to_string(), inbox.clone());
    Ok(inbox)
}

/// The endpoint a party server hosts: arrivals go chunk by chunk to files in
/// the mailbox directory (the standalone engine's format), where the party's
/// task executors read them; aborts become `.failed` marks there.
struct MailboxService {
    dir: PathBuf,
}

#[allow(clippy::result_large_err)]
fn fed_status(e: FederationError) -> Status {
    match e {
        FederationError::Usage(m) if m.contains("already sent") => Status::already_exists(m),
        other => Status::internal(other.to_string()),
    }
}

#[tonic::async_trait]
#[allow(clippy::result_large_err)]
impl Transfer for MailboxService {
    async fn push(
        &self,
        req: Request<Streaming<pb::Packet>>,
    ) -> std::result::Result<Response<pb::PushReply>, Status> {
        let mut s = req.into_inner();
        let (first, h, kind) = first_packet(&mut s).await?;
        let partitions = match kind {
            Kind::Object => None,
            Kind::Table => Some(h.partitions),
            Kind::Stream => Some(1),
        };
        let (src, dst) = (
            party(&h.src_role, h.src_pid)?,
            party(&h.dst_role, h.dst_pid)?,
        );
        let dir = self.dir.clone();
        let (session, name, tag) = (h.session.clone(), h.name.clone(), h.tag.clone());
        let mut w = tokio::task::spawn_blocking(move || {
            crate::standalone::MailboxWriter::begin(
                &dir, &session, src, dst, &name, &tag, partitions,
            )
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(fed_status)?;
        let mut next_idx = 0u64;
        let mut next = Some(first);
        let mut chunks = 0u64;
        let t0 = Instant::now();
        let mut bytes = 0u64;
        loop {
            let p = match next.take() {
                Some(p) => p,
                None => match s.message().await {
                    Ok(Some(p)) => p,
                    Ok(None) => {
                        w.discard();
                        return Err(Status::invalid_argument(
                            "the stream ended before the last chunk",
                        ));
                    }
                    Err(err) => {
                        w.discard();
                        return Err(err);
                    }
                },
            };
            if !p.data.is_empty() {
                if p.idx < next_idx {
                    continue; // a duplicate
                }
                if p.idx > next_idx {
                    w.discard();
                    return Err(Status::invalid_argument(format!(
                        "chunk {} arrived, expected {next_idx}",
                        p.idx
                    )));
                }
                next_idx += 1;
                chunks += 1;
                bytes += p.data.len() as u64;
                let part = if kind == Kind::Stream { 0 } else { p.part };
                w = tokio::task::spawn_blocking(move || {
                    let r = w.chunk(part, p.rows, &p.data);
                    (w, r)
                })
                .await
                .map_err(|e| Status::internal(e.to_string()))
                .and_then(|(w, r)| match r {
                    Ok(()) => Ok(w),
                    Err(e) => {
                        w.discard();
                        Err(fed_status(e))
                    }
                })?;
            }
            if p.last {
                if p.total != next_idx {
                    w.discard();
                    return Err(Status::invalid_argument(format!(
                        "{} chunks sent, {next_idx} received",
                        p.total
                    )));
                }
                tokio::task::spawn_blocking(move || w.publish())
                    .await
                    .map_err(|e| Status::internal(e.to_string()))?
                    .map_err(fed_status)?;
                tracing::debug!(
                    session = h.session,
                    name = h.name,
                    tag = h.tag,
                    from = %src,
                    to = %dst,
                    chunks,
                    bytes,
                    secs = t0.elapsed().as_secs_f64(),
                    "federation endpoint: message stored"
                );
                return Ok(Response::new(pb::PushReply { chunks }));
            }
        }
    }

    async fn abort(
        &self,
        req: Request<pb::AbortRequest>,
    ) -> std::result::Result<Response<pb::PushReply>, Status> {
        let r = req.into_inner();
        let src = party(&r.src_role, r.src_pid)?;
        crate::standalone::mark_failed(&self.dir, &r.session, src, &r.reason)
            .map_err(fed_status)?;
        Ok(Response::new(pb::PushReply { chunks: 0 }))
    }
}

/// Starts a party server's federation endpoint at `listen` (FATE's rollsite
/// role): every party of this server receives through it, whatever task
/// executor process runs its task. Arrivals are written chunk by chunk into
/// `mailbox` (the standalone engine's layout), so memory stays bounded and
/// messages that come before their receiver starts wait on disk. With `tls`
/// (`{party_id}` replaced by `party_id`) it serves TLS and requires client
/// certificates signed by the CA. Returns the bound address.
pub fn serve_mailbox_endpoint(
    listen: &str,
    tls: Option<&TlsFiles>,
    party_id: u64,
    mailbox: &Path,
) -> Result<std::net::SocketAddr> {
    let tls = tls.map(|t| load_tls(t, party_id)).transpose()?;
    let std_listener = std::net::TcpListener::bind(listen).map_err(|e| {
        io(
            listen,
            format!("cannot listen for the federation endpoint: {e}"),
        )
    })?;
    let addr = std_listener.local_addr().map_err(|e| io(listen, e))?;
    std::fs::create_dir_all(mailbox).map_err(|e| io(&mailbox.display().to_string(), e))?;
    let svc = TransferServer::new(MailboxService {
        dir: mailbox.to_path_buf(),
    })
    .max_decoding_message_size(MAX_MESSAGE)
    .max_encoding_message_size(MAX_MESSAGE);
    let router = server_builder(tls.as_ref(), listen)?.add_service(svc);
    spawn_router(router, std_listener, listen)?;
    tracing::info!(
        "federation endpoint (party server) listening on {addr}{}, mailbox {}",
        if tls.is_some() { " with mTLS" } else { "" },
        mailbox.display()
    );
    Ok(addr)
}

fn load_tls(t: &TlsFiles, party_id: u64) -> Result<LoadedTls> {
    let (_, ca) = read_pem(&t.ca, party_id)?;
    let (_, cert) = read_pem(&t.cert, party_id)?;
    let (_, key) = read_pem(&t.key, party_id)?;
    Ok(LoadedTls {
        ca: Certificate::from_pem(ca),
        identity: Identity::from_pem(cert, key),
    })
}

fn server_builder(tls: Option<&LoadedTls>, listen: &str) -> Result<Server> {
    let mut builder = Server::builder()
        .initial_stream_window_size(Some(4 << 20))
        .initial_connection_window_size(Some(8 << 20));
    if let Some(t) = tls {
        builder = builder
            .tls_config(
                ServerTlsConfig::new()
                    .identity(t.identity.clone())
                    .client_ca_root(t.ca.clone()),
            )
            .map_err(|e| io(listen, format!("TLS: {e}")))?;
    }
    Ok(builder)
}

fn spawn_router(
    router: tonic::transport::server::Router,
    std_listener: std::net::TcpListener,
    listen: &str,
) -> Result<()> {
    std_listener
        .set_nonblocking(true)
        .map_err(|e| io(listen, e))?;
    let listener = {
        let _g = rt().enter();
        tokio::net::TcpListener::from_std(std_listener).map_err(|e| io(listen, e))?
    };
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let addr = listen.to_string();
    rt().spawn(async move {
        if let Err(e) = router.serve_with_incoming(incoming).await {
            tracing::error!("federation endpoint {addr} stopped: {e}");
        }
    });
    Ok(())
}

/// One party's end of a gRPC federation session.
pub struct GrpcFederation {
    session_id: String,
    local: Party,
    peers: Vec<Party>,
    options: GrpcOptions,
    inbox: Arc<Inbox>,
    /// Receiving through the party server's endpoint (its mailbox directory).
    mailbox: Option<crate::standalone::StandaloneFederation>,
    tls: Option<LoadedTls>,
    channels: Mutex<HashMap<String, Channel>>,
}

impl GrpcFederation {
    /// Joins session `session_id` as `local`, starting this process's
    /// endpoint for the party if it is not running yet.
    pub fn new(
        session_id: &str,
        local: Party,
        roster: &Roster,
        options: GrpcOptions,
    ) -> Result<Self> {
        let tls = options
            .tls
            .as_ref()
            .map(|t| load_tls(t, local.party_id))
            .transpose()?;
        let spool = options
            .spool_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("fedflow-grpc-spool"));
        let (inbox, mailbox) = match &options.mailbox {
            Some(dir) => (
                Arc::new(Inbox {
                    entries: Mutex::new(HashMap::new()),
                    aborted: Mutex::new(HashMap::new()),
                    spool,
                    mem_cap: 1,
                    duplicates: AtomicU64::new(0),
                    active: Arc::new(AtomicU64::new(0)),
                }),
                Some(crate::standalone::StandaloneFederation::new(
                    dir,
                    session_id,
                    local,
                    crate::standalone::StandaloneFederationOptions {
                        timeout: options.timeout,
                        chunk_bytes: options.chunk_bytes,
                    },
                )?),
            ),
            None => {
                let listen = options
                    .listen
                    .clone()
                    .or_else(|| options.routes.get(&local.party_id).cloned())
                    .ok_or_else(|| {
                        FederationError::Usage(format!(
                            "grpc federation: no listen address and no route for party {} (set grpc_listen or grpc_routes, \
                             FEDFLOW_GRPC_ROUTES=9999=127.0.0.1:50051,…)",
                            local.party_id
                        ))
                    })?;
                let inbox = endpoint(
                    &listen,
                    tls.as_ref(),
                    spool,
                    options.memory_per_message.max(1),
                )?;
                (inbox, None)
            }
        };
        let mut peers: Vec<Party> = roster.all().into_iter().filter(|p| *p != local).collect();
        peers.dedup();
        Ok(GrpcFederation {
            session_id: session_id.to_string(),
            local,
            peers,
            options,
            inbox,
            mailbox,
            tls,
            channels: Mutex::new(HashMap::new()),
        })
    }

    /// Chunks this process's endpoint dropped as duplicates.
    pub fn duplicates_dropped(&self) -> u64 {
        self.inbox.duplicates.load(Ordering::Relaxed)
    }

    fn route(&self, p: Party) -> Result<String> {
        self.options
            .routes
            .get(&p.party_id)
            .cloned()
            .ok_or_else(|| {
                FederationError::Usage(format!(
                    "grpc federation: no route for party {}",
                    p.party_id
                ))
            })
    }

    /// A channel to `p`'s endpoint, waiting (up to `patience`) for it to come up.
    fn channel(&self, p: Party, patience: Duration) -> Result<Channel> {
        let addr = self.route(p)?;
        if let Some(c) = self.channels.lock().unwrap().get(&addr) {
            return Ok(c.clone());
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut ep = Endpoint::from_shared(format!("{scheme}://{addr}"))
            .map_err(|e| io(&addr, e))?
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .initial_stream_window_size(Some(4 << 20))
            .initial_connection_window_size(Some(8 << 20));
        if let Some(t) = &self.tls {
            ep = ep
                .tls_config(
                    ClientTlsConfig::new()
                        .ca_certificate(t.ca.clone())
                        .identity(t.identity.clone())
                        .domain_name(format!("party-{}", p.party_id)),
                )
                .map_err(|e| io(&addr, format!("TLS: {e}")))?;
        }
        let start = Instant::now();
        let ch = block_on(async {
            let mut delay = Duration::from_millis(100);
            let mut attempts = 0u32;
            loop {
                attempts += 1;
                match ep.connect().await {
                    Ok(c) => return Ok(c),
                    Err(e) => {
                        let text = format!("{e}{}", chain(&e));
                        let dbg = format!("{e:?}");
                        let refused =
                            dbg.contains("ConnectionRefused") || dbg.contains("Connection refused");
                        if !refused || start.elapsed() + delay > patience {
                            return Err(io(
                                &addr,
                                format!(
                                    "cannot reach the federation endpoint of {p} (party {}) at {addr} \
                                     after {attempts} attempt(s) in {:.1} s: {text}",
                                    p.party_id,
                                    start.elapsed().as_secs_f64()
                                ),
                            ));
                        }
                        tracing::warn!(
                            "federation endpoint of {p} at {addr} refused the connection; retrying in {delay:?}"
                        );
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(2));
                    }
                }
            }
        })?;
        self.channels.lock().unwrap().insert(addr, ch.clone());
        Ok(ch)
    }

    fn header(&self, dst: Party, name: &str, tag: &str, head: Head) -> pb::Header {
        pb::Header {
            session: self.session_id.clone(),
            name: name.into(),
            tag: tag.into(),
            src_role: self.local.role.as_str().into(),
            src_pid: self.local.party_id,
            dst_role: dst.role.as_str().into(),
            dst_pid: dst.party_id,
            kind: head.kind.as_str().into(),
            len: head.len,
            partitions: head.partitions,
        }
    }

    /// Pushes one message's packets (`repeat`: chunk indexes sent twice).
    fn push(
        &self,
        dst: Party,
        name: &str,
        tag: &str,
        head: Head,
        chunks: &mut (dyn Iterator<Item = Result<OutChunk<'_>>> + Send),
        repeat: &[u64],
    ) -> Result<()> {
        let ch = self.channel(dst, self.options.connect_patience)?;
        let addr = self.route(dst)?;
        let header = self.header(dst, name, tag, head);
        let mut failed = None;
        let r = block_on(async {
            let (tx, rx) = tokio::sync::mpsc::channel::<pb::Packet>(2);
            let mut client = TransferClient::new(ch)
                .max_encoding_message_size(MAX_MESSAGE)
                .max_decoding_message_size(MAX_MESSAGE);
            let call = tokio::spawn(async move {
                client
                    .push(tokio_stream::wrappers::ReceiverStream::new(rx))
                    .await
            });
            let mut it = chunks.peekable();
            let mut idx = 0u64;
            let mut header = Some(header);
            loop {
                let c = match it.next() {
                    Some(Err(e)) => {
                        failed = Some(e);
                        break;
                    }
                    c => c.and_then(|c| c.ok()),
                };
                let last = it.peek().is_none();
                let is_chunk = c.is_some();
                let (part, rows, data) = c.unwrap_or((0, 0, std::borrow::Cow::Borrowed(&[])));
                let total = if is_chunk { idx + 1 } else { idx };
                let p = pb::Packet {
                    header: header.take(),
                    idx,
                    part,
                    rows,
                    data: data.into_owned(),
                    last,
                    total: if last { total } else { 0 },
                };
                let times = if repeat.contains(&idx) { 2 } else { 1 };
                let mut closed = false;
                for _ in 0..times {
                    if tx.send(p.clone()).await.is_err() {
                        closed = true;
                    }
                }
                if closed || last {
                    break;
                }
                idx = total;
            }
            // After a failure the stream ends before its last chunk: the
            // receiving server marks the message broken (its reply is moot).
            drop(tx);
            call.await
        });
        if let Some(e) = failed {
            return Err(e);
        }
        match r {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(status)) if status.code() == tonic::Code::AlreadyExists => {
                Err(FederationError::Usage(status.message().to_string()))
            }
            Ok(Err(status)) => Err(io(
                &addr,
                format!(
                    "sending '{name}' (tag '{tag}') to {dst}: {}: {}{} (refused or dropped: check the route, \
                     and with TLS that both parties' certificates come from the trusted CA)",
                    status.code(),
                    status.message(),
                    chain(&status)
                ),
            )),
            Err(e) => Err(io(&addr, e)),
        }
    }

    fn pull(
        &self,
        src: Party,
        name: &str,
        tag: &str,
        asm: &mut Assembler<'_>,
    ) -> Result<Assembled> {
        let key: Key = (
            self.session_id.clone(),
            name.into(),
            tag.into(),
            src,
            self.local,
        );
        let malformed = |reason: String| FederationError::Malformed {
            peer: src,
            name: name.into(),
            tag: tag.into(),
            reason,
        };
        let e = self.inbox.entry(&key);
        let timeout = self.options.timeout;
        let mut last_progress = Instant::now();
        let mut head_seen = false;
        let total = loop {
            let mut st = e.st.lock().unwrap();
            st.consumer = true;
            if let (false, Some(h)) = (head_seen, st.head) {
                asm.head(h).map_err(malformed)?;
                head_seen = true;
            }
            let next = if let Some(c) = st.mem.pop_front() {
                st.mem_bytes -= c.data.len();
                Some(c)
            } else if let Some(s) = st.spill.as_mut().filter(|s| s.pending()) {
                Some(read_spilled(s).map_err(|err| io(&s.path.display().to_string(), err))?)
            } else {
                None
            };
            if let Some(c) = next {
                drop(st);
                e.space.notify_one();
                asm.chunk(c.idx, c.part, c.rows, &c.data)
                    .map_err(malformed)?;
                last_progress = Instant::now();
                continue;
            }
            if let Some(t) = st.total {
                break t;
            }
            if let Some(reason) = st.broken.clone() {
                drop(st);
                self.inbox.remove(&key);
                return Err(FederationError::PeerGone {
                    peer: src,
                    name: name.into(),
                    tag: tag.into(),
                    reason,
                });
            }
            if let Some(reason) = self
                .inbox
                .aborted
                .lock()
                .unwrap()
                .get(&(self.session_id.clone(), src))
                .cloned()
            {
                return Err(FederationError::PeerGone {
                    peer: src,
                    name: name.into(),
                    tag: tag.into(),
                    reason: format!("its task failed: {reason}"),
                });
            }
            if last_progress.elapsed() > timeout {
                st.consumer = false;
                return Err(FederationError::Timeout {
                    peer: src,
                    name: name.into(),
                    tag: tag.into(),
                    waited: timeout,
                });
            }
            let _ = e.data.wait_timeout(st, Duration::from_millis(200)).unwrap();
        };
        self.inbox.remove(&key);
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
        if let Some(m) = &self.mailbox {
            return m.get_stream(name, tag, src, sink);
        }
        wire::get_stream(self, name, tag, src, sink)
    }
}

impl Transport for GrpcFederation {
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
        self.push(dst, name, tag, head, chunks, &[])
    }
    fn recv(
        &self,
        src: Party,
        name: &str,
        tag: &str,
        asm: &mut Assembler<'_>,
    ) -> Result<Assembled> {
        self.pull(src, name, tag, asm)
    }
}

impl Federation for GrpcFederation {
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
        if let Some(m) = &self.mailbox {
            return m.get_bytes(name, tag, src);
        }
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
        if let Some(m) = &self.mailbox {
            return m.get_tables(name, tag, src, session);
        }
        wire::get_tables(self, name, tag, src, session)
    }

    fn abort(&self, reason: &str) {
        if let Some(m) = &self.mailbox {
            m.abort(reason);
        }
        for &p in &self.peers {
            let Ok(ch) = self.channel(p, Duration::from_secs(2)) else {
                continue;
            };
            let req = pb::AbortRequest {
                session: self.session_id.clone(),
                src_role: self.local.role.as_str().into(),
                src_pid: self.local.party_id,
                reason: reason.into(),
            };
            let r = block_on(async {
                tokio::time::timeout(Duration::from_secs(10), TransferClient::new(ch).abort(req))
                    .await
            });
            if !matches!(r, Ok(Ok(_))) {
                tracing::warn!("could not tell {p} that this task failed");
            }
        }
    }

    fn cleanup(&self) -> Result<()> {
        if let Some(m) = &self.mailbox {
            m.cleanup()?;
        }
        let keys: Vec<Key> = self
            .inbox
            .entries
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.0 == self.session_id && k.4 == self.local)
            .cloned()
            .collect();
        for k in keys {
            self.inbox.remove(&k);
        }
        self.channels.lock().unwrap().clear();
        if self.mailbox.is_none() {
            // A sender whose last chunk this endpoint took waits for the reply:
            // let the handlers finish and their replies go out before this
            // process may exit.
            let t0 = Instant::now();
            while self.inbox.active.load(Ordering::SeqCst) > 0
                && t0.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{digest, free_ports, roster, session, table, uniq, G, H};
    use crate::TransferVariable;

    const SHARE: TransferVariable = TransferVariable::new("share", &[Role::Guest], &[Role::Host]);
    const BACK: TransferVariable = TransferVariable::new("back", &[Role::Host], &[Role::Guest]);

    fn pair(
        tls: Option<(&Path, &Path)>,
        timeout_ms: u64,
        mem: usize,
    ) -> (GrpcFederation, GrpcFederation) {
        let p = free_ports(2);
        let routes: BTreeMap<u64, String> = [
            (9999, format!("127.0.0.1:{}", p[0])),
            (10000, format!("127.0.0.1:{}", p[1])),
        ]
        .into();
        let sid = uniq("grpc");
        let mk = |me: Party, dir: Option<&Path>| {
            let o = GrpcOptions {
                timeout: Duration::from_millis(timeout_ms),
                routes: routes.clone(),
                memory_per_message: mem,
                tls: dir.map(|d| TlsFiles {
                    ca: d.join("ca.crt"),
                    cert: d.join("party-{party_id}.crt"),
                    key: d.join("party-{party_id}.key"),
                }),
                ..Default::default()
            };
            GrpcFederation::new(&sid, me, &roster(), o).unwrap()
        };
        (mk(G, tls.map(|t| t.0)), mk(H, tls.map(|t| t.1)))
    }

    fn exchange(g: &GrpcFederation, h: &GrpcFederation, mb: usize) {
        let s = session();
        let t = table(&s, mb);
        let want = digest(t.as_ref());
        std::thread::scope(|sc| {
            let s2 = &s;
            let recv = sc.spawn(move || {
                assert_eq!(SHARE.get_one::<u64>(h, G, "iter.1").unwrap(), 7);
                let big: Vec<u64> = SHARE.get_one(h, G, "iter.0").unwrap();
                assert_eq!(big.len(), 300_000);
                let got = h.get_tables("tbl", "x", &[G], s2).unwrap().remove(0);
                BACK.remote(h, &1u8, &[G], "done").unwrap();
                digest(got.as_ref())
            });
            let big: Vec<u64> = (0..300_000).collect();
            SHARE.remote(g, &big, &[H], "iter.0").unwrap();
            SHARE.remote(g, &7u64, &[H], "iter.1").unwrap();
            g.remote_table("tbl", "x", t.as_ref(), &[H]).unwrap();
            assert_eq!(BACK.get_one::<u8>(g, H, "done").unwrap(), 1);
            assert_eq!(recv.join().unwrap(), want);
        });
        g.cleanup().unwrap();
        h.cleanup().unwrap();
        assert!(h
            .inbox
            .entries
            .lock()
            .unwrap()
            .keys()
            .all(|k| k.0 != h.session_id));
    }

    /// Parties receiving through their servers' endpoints (mailbox dirs).
    fn hosted_pair(base: &Path, timeout_ms: u64) -> (GrpcFederation, GrpcFederation) {
        let p = free_ports(2);
        let routes: BTreeMap<u64, String> = [
            (9999, format!("127.0.0.1:{}", p[0])),
            (10000, format!("127.0.0.1:{}", p[1])),
        ]
        .into();
        for (pid, addr) in &routes {
            serve_mailbox_endpoint(addr, None, *pid, &base.join(pid.to_string())).unwrap();
        }
        let sid = uniq("hosted");
        let mk = |me: Party| {
            let o = GrpcOptions {
                timeout: Duration::from_millis(timeout_ms),
                routes: routes.clone(),
                mailbox: Some(base.join(me.party_id.to_string())),
                ..Default::default()
            };
            GrpcFederation::new(&sid, me, &roster(), o).unwrap()
        };
        (mk(G), mk(H))
    }

    #[test]
    fn through_the_party_servers_endpoints_and_mailboxes() {
        let d = tempfile::tempdir().unwrap();
        let (g, h) = hosted_pair(d.path(), 60_000);
        exchange(&g, &h, 20);
        // Both mailboxes are empty once the parties cleaned up.
        for pid in ["9999", "10000"] {
            let left: Vec<_> = std::fs::read_dir(d.path().join(pid))
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert!(left.is_empty(), "{pid}: {left:?}");
        }
        // An abort reaches the peer's server and stops its wait at once.
        let (g, h) = hosted_pair(d.path(), 30_000);
        g.abort("boom");
        let t0 = Instant::now();
        let e = SHARE.get::<u8>(&h, &[G], "x").unwrap_err().to_string();
        assert!(e.contains("guest:9999") && e.contains("boom"), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        // A peer whose endpoint refuses connections: retried, then named.
        let mut o = g.options.clone();
        let dead = free_ports(1)[0];
        o.routes.insert(10000, format!("127.0.0.1:{dead}"));
        o.connect_patience = Duration::from_millis(800);
        let g2 = GrpcFederation::new("other", G, &roster(), o).unwrap();
        let e = SHARE.remote(&g2, &1u8, &[H], "t").unwrap_err().to_string();
        assert!(
            e.contains("party 10000")
                && e.contains(&format!("127.0.0.1:{dead}"))
                && e.contains("attempt"),
            "{e}"
        );
    }

    #[test]
    fn values_and_a_50mb_table_between_threads() {
        let (g, h) = pair(None, 60_000, 16 << 20);
        exchange(&g, &h, 50);
    }

    #[test]
    fn a_table_sent_before_anyone_reads_spills_and_arrives_whole() {
        let (g, h) = pair(None, 60_000, 1 << 20);
        let s = session();
        let t = table(&s, 20);
        g.remote_table("early", "", t.as_ref(), &[H]).unwrap();
        let got = h.get_tables("early", "", &[G], &s).unwrap().remove(0);
        assert_eq!(digest(got.as_ref()), digest(t.as_ref()));
        // Both send first, then receive: no deadlock.
        std::thread::scope(|sc| {
            let (g, h, t, s) = (&g, &h, &t, &s);
            let a = sc.spawn(move || {
                g.remote_table("x", "", t.as_ref(), &[H]).unwrap();
                g.get_tables("y", "", &[H], s)
                    .unwrap()
                    .remove(0)
                    .count()
                    .unwrap()
            });
            h.remote_table("y", "", t.as_ref(), &[G]).unwrap();
            let n = h
                .get_tables("x", "", &[G], s)
                .unwrap()
                .remove(0)
                .count()
                .unwrap();
            assert_eq!(a.join().unwrap(), n);
        });
    }

    #[test]
    fn mtls_between_trusted_parties_and_an_untrusted_peer_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let (ca, other) = (d.path().join("ca"), d.path().join("other"));
        crate::certs::make_ca(&ca).unwrap();
        crate::certs::make_party(&ca, 9999, &[], &ca).unwrap();
        crate::certs::make_party(&ca, 10000, &[], &ca).unwrap();
        let (g, h) = pair(Some((&ca, &ca)), 60_000, 16 << 20);
        exchange(&g, &h, 2);

        // A host whose certificate comes from another CA: guest refuses it.
        crate::certs::make_ca(&other).unwrap();
        crate::certs::make_party(&other, 10000, &[], &other).unwrap();
        let (g, _) = pair(Some((&ca, &ca)), 1500, 16 << 20);
        let mut o = g.options.clone();
        let extra = free_ports(2);
        o.listen = Some(format!("127.0.0.1:{}", extra[0]));
        o.tls = Some(TlsFiles {
            ca: ca.join("ca.crt"),
            cert: other.join("party-10000.crt"),
            key: other.join("party-10000.key"),
        });
        let intruder = GrpcFederation::new(&g.session_id, H, &roster(), o.clone()).unwrap();
        let e = BACK
            .remote(&intruder, &1u8, &[G], "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("guest:9999"), "{e}");
        let e = BACK.get::<u8>(&g, &[H], "t").unwrap_err().to_string();
        assert!(e.contains("timed out"), "{e}");
        // And a client without any certificate.
        o.listen = Some(format!("127.0.0.1:{}", extra[1]));
        o.tls = None;
        let plain = GrpcFederation::new(&g.session_id, H, &roster(), o).unwrap();
        let e = BACK
            .remote(&plain, &1u8, &[G], "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("guest:9999"), "{e}");
    }

    /// A table that fails while it is being sent (read one partition at a
    /// time) fails the send with its own error, and the receiver gets an
    /// error, never a truncated table.
    #[test]
    fn a_table_failing_while_sent_never_arrives_truncated() {
        let (g, h) = pair(None, 5000, 16 << 20);
        let s = session();
        let t0 = Instant::now();
        let e = crate::testutil::send_a_table_that_breaks(&g, &h, &s);
        // The first partition was on its way (streamed), so the receiver
        // learns of the break at once instead of timing out.
        assert!(
            e.contains("peer guest:9999 is gone") && e.contains("'broken'") && e.contains("stream"),
            "{e}"
        );
        assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    }

    #[test]
    fn timeout_names_peer_and_variable_and_abort_stops_the_wait() {
        let (g, h) = pair(None, 1000, 16 << 20);
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
        g.abort("boom");
        let t0 = Instant::now();
        let e = SHARE.get::<u8>(&h, &[G], "x").unwrap_err().to_string();
        assert!(
            e.contains("peer guest:9999 is gone") && e.contains("boom"),
            "{e}"
        );
        assert!(t0.elapsed() < Duration::from_millis(1000));
    }

    #[test]
    fn a_duplicate_chunk_is_dropped_and_a_resend_before_get_is_refused() {
        let (g, h) = pair(None, 10_000, 16 << 20);
        let value: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
        let head = Head {
            kind: Kind::Object,
            len: value.len() as u64,
            partitions: 0,
        };
        let before = h.duplicates_dropped();
        g.push(
            H,
            "dup",
            "",
            head,
            &mut crate::wire::value_chunks(&value, 1000),
            &[0, 3],
        )
        .unwrap();
        assert_eq!(h.get_bytes("dup", "", &[G]).unwrap()[0], value);
        assert_eq!(h.duplicates_dropped() - before, 2);
        SHARE.remote(&g, &1u8, &[H], "twice").unwrap();
        let e = SHARE
            .remote(&g, &1u8, &[H], "twice")
            .unwrap_err()
            .to_string();
        assert!(e.contains("already sent"), "{e}");
    }
}
