//! `fedflow bench federation`: throughput of a table between two processes on
//! loopback, gRPC vs RabbitMQ, and each process's peak RSS. Each party runs in
//! its own `fedflow bench federation-peer` process.
//!
//! * `--mode stream` (default): the sender makes 1 MiB chunks on the fly and
//!   the receiver checksums them as they arrive, so both processes' memory
//!   shows what the transport holds (it must not grow with the size).
//! * `--mode table`: a real computing table through `remote_table` /
//!   `get_tables` (plus values with interleaved tags), checked row by row;
//!   the tables themselves live in memory on both sides.

use super::bench::BenchCommand;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{Session, Table};
use fedflow_core::{Party, Role};
use fedflow_federation::grpc::{GrpcFederation, GrpcOptions};
use fedflow_federation::rabbitmq::{RabbitMqFederation, RabbitMqOptions};
use fedflow_federation::{Federation, FederationSettings, Roster, TransferVariable};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `fedflow bench …` with the federation benchmark added.
#[derive(Subcommand, Debug)]
pub enum BenchAll {
    #[command(flatten)]
    Base(BenchCommand),
    /// Federation throughput between two processes (grpc vs rabbitmq) and peak RSS.
    Federation(FederationArgs),
    /// One party of `bench federation`.
    #[command(hide = true)]
    FederationPeer(PeerArgs),
    /// The Spark engine: per-op overhead vs Spark's trivial job, throughput vs standalone.
    Spark(super::spark::BenchSparkArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    Grpc,
    Rabbitmq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Chunks made and checked on the fly (transport only).
    Stream,
    /// A computing table and values through the Federation API.
    Table,
}

#[derive(Args, Debug)]
pub struct FederationArgs {
    /// Engines (repeatable; default both).
    #[arg(long, value_enum)]
    engine: Vec<Engine>,
    /// MiB to send.
    #[arg(long, default_value_t = 1024)]
    mb: u64,
    /// What to send.
    #[arg(long, value_enum, default_value_t = Mode::Stream)]
    mode: Mode,
    /// Seconds a party waits for the other.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Print one JSON object per engine instead of a table.
    #[arg(long)]
    json: bool,
    /// gRPC through a party server: the receiver's `fedflow server` hosts the
    /// endpoint (arrivals go to its mailbox on disk), the sender pushes to it
    /// as a task executor does, the receiver reads the mailbox; the server's
    /// peak RSS is reported too. (RabbitMQ's data path is the broker either way.)
    #[arg(long)]
    via_server: bool,
}

#[derive(Args, Debug)]
pub struct PeerArgs {
    #[arg(long, value_enum)]
    engine: Engine,
    #[arg(long, value_enum)]
    mode: Mode,
    /// send or recv.
    #[arg(long)]
    role: String,
    #[arg(long)]
    session: String,
    #[arg(long)]
    mb: u64,
    /// gRPC routes, 9999=host:port,10000=host:port.
    #[arg(long, default_value = "")]
    routes: String,
    #[arg(long)]
    timeout: u64,
    /// gRPC: receive through this mailbox (a server's endpoint fills it).
    #[arg(long)]
    mailbox: Option<std::path::PathBuf>,
}

pub fn run(cmd: BenchAll, dir: &Path) -> Result<()> {
    match cmd {
        BenchAll::Base(c) => super::bench::run(c, dir),
        BenchAll::Federation(a) => run_bench(a, dir),
        BenchAll::FederationPeer(a) => run_peer(a),
        BenchAll::Spark(a) => super::spark::run_bench(a, dir),
    }
}

const SENDER: Party = Party {
    role: Role::Guest,
    party_id: 9999,
};
const RECEIVER: Party = Party {
    role: Role::Host,
    party_id: 10000,
};
const VALUE: TransferVariable = TransferVariable::new("bench_value", &[Role::Guest], &[Role::Host]);

fn roster() -> Roster {
    let mut m = BTreeMap::new();
    m.insert(Role::Guest, vec![9999]);
    m.insert(Role::Host, vec![10000]);
    Roster(m)
}

/// Two distinct free ports (both held until both are known).
fn free_ports() -> Result<(u16, u16)> {
    let a = std::net::TcpListener::bind("127.0.0.1:0")?;
    let b = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// The receiver's peak RSS (KiB) when a table had arrived, before it was read.
static ARRIVAL_RSS_KB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Peak resident set of this process (VmHWM), KiB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn run_bench(a: FederationArgs, dir: &Path) -> Result<()> {
    let engines = if a.engine.is_empty() {
        vec![Engine::Grpc, Engine::Rabbitmq]
    } else {
        a.engine.clone()
    };
    let exe = std::env::current_exe().context("locating the fedflow binary")?;
    if engines.contains(&Engine::Rabbitmq) {
        fedflow_federation::rabbitmq::testing::ensure_broker()
            .map_err(|e| anyhow::anyhow!("RabbitMQ: {e}"))?;
    }
    if !a.json {
        println!(
            "{:<9} {:>6} {:>8} {:>9} {:>10} {:>14} {:>16}",
            "engine", "mode", "MiB", "seconds", "MiB/s", "sender RSS MiB", "receiver RSS MiB"
        );
    }
    for engine in engines {
        let session = format!("bench_{}_{:08x}", std::process::id(), rand_u32());
        let (p1, p2) = free_ports()?;
        let routes = format!("9999=127.0.0.1:{p1},10000=127.0.0.1:{p2}");
        let server = if a.via_server && engine == Engine::Grpc {
            Some(BenchServer::start(&exe, dir, &session, p2)?)
        } else {
            None
        };
        let spawn = |role: &str| -> Result<std::process::Child> {
            let mut c = Command::new(&exe);
            if let Some(s) = &server {
                let mb = if role == "recv" {
                    s.dir.join("federation")
                } else {
                    dir.join(format!("{session}-sender-mailbox"))
                };
                c.env("FEDFLOW_BENCH_MAILBOX", mb);
            }
            c.arg("--data-dir")
                .arg(dir)
                .args(["--log", "warn", "bench", "federation-peer"])
                .args([
                    "--engine",
                    engine.to_possible_value().unwrap().get_name(),
                    "--mode",
                    a.mode.to_possible_value().unwrap().get_name(),
                    "--role",
                    role,
                    "--session",
                    &session,
                    "--mb",
                    &a.mb.to_string(),
                    "--routes",
                    &routes,
                    "--timeout",
                    &a.timeout.to_string(),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .context("starting a bench peer")
        };
        let t0 = Instant::now();
        let recv = spawn("recv")?;
        let send = spawn("send")?;
        let so = send.wait_with_output()?;
        let mut recv = recv;
        if !so.status.success() {
            let _ = recv.kill();
        }
        let ro = recv.wait_with_output()?;
        let wall = t0.elapsed().as_secs_f64();
        let parse = |o: &std::process::Output, who: &str| -> Result<Value> {
            if !o.status.success() {
                bail!(
                    "{engine:?} {who} failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
            }
            let text = String::from_utf8_lossy(&o.stdout);
            let line = text.lines().last().unwrap_or_default();
            serde_json::from_str(line).with_context(|| format!("{who} printed '{line}'"))
        };
        let (s, r) = (parse(&so, "sender")?, parse(&ro, "receiver")?);
        if s["digest"] != r["digest"] {
            bail!(
                "{engine:?}: the receiver's digest {} differs from the sender's {}",
                r["digest"],
                s["digest"]
            );
        }
        let secs = r["secs"].as_f64().unwrap_or(wall);
        let mib = r["bytes"].as_f64().unwrap_or(0.0) / (1 << 20) as f64;
        let server_rss = server.map(|s| s.finish());
        let _ = std::fs::remove_dir_all(dir.join(format!("{session}-sender-mailbox")));
        let out = json!({
            "engine": format!("{engine:?}").to_lowercase(),
            "via_server": server_rss.is_some(),
            "receiver_server_peak_rss_mib": server_rss.map(|k| k as f64 / 1024.0),
            "mode": a.mode.to_possible_value().unwrap().get_name(),
            "mib": mib,
            "seconds": secs,
            "mib_per_s": mib / secs.max(1e-9),
            "sender_peak_rss_mib": s["peak_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0,
            "receiver_peak_rss_mib": r["peak_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0,
            "receiver_rss_at_arrival_mib": r["arrival_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0,
            "digest": r["digest"],
        });
        if a.json {
            println!("{out}");
        } else {
            if let Some(k) = server_rss {
                println!(
                    "(grpc through the receiver's fedflow server: its peak RSS {:.1} MiB)",
                    k as f64 / 1024.0
                );
            }
            println!(
                "{:<9} {:>6} {:>8.0} {:>9.2} {:>10.1} {:>14.1} {:>16.1}",
                out["engine"].as_str().unwrap_or(""),
                out["mode"].as_str().unwrap_or(""),
                mib,
                secs,
                out["mib_per_s"].as_f64().unwrap_or(0.0),
                out["sender_peak_rss_mib"].as_f64().unwrap_or(0.0),
                out["receiver_peak_rss_mib"].as_f64().unwrap_or(0.0),
            );
            if a.mode == Mode::Table {
                println!(
                    "          (receiver peak RSS once the table had arrived, before reading it: {:.1} MiB)",
                    out["receiver_rss_at_arrival_mib"].as_f64().unwrap_or(0.0)
                );
            }
        }
    }
    Ok(())
}

/// The receiver's `fedflow server` hosting the gRPC endpoint (bench `--via-server`).
struct BenchServer {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl BenchServer {
    fn start(exe: &Path, base: &Path, session: &str, grpc_port: u16) -> Result<Self> {
        let dir = base.join(format!("{session}-server"));
        std::fs::create_dir_all(&dir)?;
        let api = free_ports()?.0;
        let cfg = dir.join("party.toml");
        std::fs::write(
            &cfg,
            format!(
                "listen = \"127.0.0.1:{api}\"\nparty_ids = [10000]\n[federation]\ngrpc_listen = \"127.0.0.1:{grpc_port}\"\n"
            ),
        )?;
        let child = Command::new(exe)
            .arg("--data-dir")
            .arg(&dir)
            .args(["--log", "warn", "server", "-c"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the receiver's server")?;
        let mut s = BenchServer { child, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", grpc_port)).is_err() {
            if let Some(st) = s.child.try_wait()? {
                bail!("the receiver's server exited at start-up ({st})");
            }
            if Instant::now() > deadline {
                let _ = s.child.kill();
                bail!("the receiver's server did not open its federation endpoint in 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(s)
    }

    /// Stops the server; its peak RSS in KiB.
    fn finish(mut self) -> u64 {
        let rss = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        rss
    }
}

fn rand_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (t.subsec_nanos() ^ std::process::id().rotate_left(16)) as u32
}

enum Fed {
    Grpc(GrpcFederation),
    Rabbit(RabbitMqFederation),
}

impl Fed {
    fn as_dyn(&self) -> &dyn Federation {
        match self {
            Fed::Grpc(f) => f,
            Fed::Rabbit(f) => f,
        }
    }
}

/// The chunk `i` of the stream: 1 MiB, its index in every word's high bits.
fn stream_chunk(i: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 << 20);
    for w in 0..(1u64 << 17) {
        v.extend_from_slice(&((i << 32) | w).to_le_bytes());
    }
    v
}

fn digest_bytes(acc: &mut u64, data: &[u8]) {
    for c in data.chunks_exact(8) {
        let w = u64::from_le_bytes(c.try_into().unwrap());
        *acc = (*acc ^ w).wrapping_mul(0x100000001b3);
    }
}

fn table_digest(t: &dyn Table) -> Result<(u64, u64)> {
    let mut n = 0u64;
    let mut sum = 0u64;
    for b in t.blocks()? {
        for (k, v) in b.iter() {
            n += 1;
            let mut x = 0u64;
            digest_bytes(&mut x, k);
            digest_bytes(&mut x, v);
            sum = sum.wrapping_add(x);
        }
    }
    Ok((n, sum))
}

fn run_peer(a: PeerArgs) -> Result<()> {
    let timeout = Duration::from_secs(a.timeout);
    let me = if a.role == "send" { SENDER } else { RECEIVER };
    let mut settings = FederationSettings::from_env()?;
    if !a.routes.is_empty() {
        settings.grpc_routes = fedflow_federation::parse_routes(&a.routes)?;
    }
    let fed = match a.engine {
        Engine::Grpc => Fed::Grpc(GrpcFederation::new(
            &a.session,
            me,
            &roster(),
            GrpcOptions {
                timeout,
                routes: settings
                    .grpc_routes
                    .iter()
                    .map(|(k, v)| (k.parse().unwrap_or(0), v.clone()))
                    .collect(),
                mailbox: a
                    .mailbox
                    .clone()
                    .or_else(|| std::env::var_os("FEDFLOW_BENCH_MAILBOX").map(Into::into)),
                ..Default::default()
            },
        )?),
        Engine::Rabbitmq => {
            let mut o = RabbitMqOptions {
                timeout,
                ..Default::default()
            };
            if let Some(u) = settings.amqp_url.clone() {
                o.url = u;
            }
            Fed::Rabbit(RabbitMqFederation::new(&a.session, me, &roster(), o)?)
        }
    };
    let t0 = Instant::now();
    let (bytes, digest) = match (a.mode, a.role.as_str()) {
        (Mode::Stream, "send") => {
            let mut it = (0..a.mb).map(stream_chunk);
            match &fed {
                Fed::Grpc(f) => f.remote_stream("bench", "stream", RECEIVER, &mut it)?,
                Fed::Rabbit(f) => f.remote_stream("bench", "stream", RECEIVER, &mut it)?,
            }
            let mut d = 0u64;
            for i in 0..a.mb {
                digest_bytes(&mut d, &stream_chunk(i));
            }
            (a.mb << 20, d.to_string())
        }
        (Mode::Stream, _) => {
            let mut d = 0u64;
            let mut sink = |c: &[u8]| digest_bytes(&mut d, c);
            let n = match &fed {
                Fed::Grpc(f) => f.get_stream("bench", "stream", SENDER, &mut sink)?,
                Fed::Rabbit(f) => f.get_stream("bench", "stream", SENDER, &mut sink)?,
            };
            (n, d.to_string())
        }
        (Mode::Table, role) => {
            let s = StandaloneSession::new(&a.session, StandaloneOptions::default())?;
            let f = fed.as_dyn();
            let big: Vec<u64> = (0..400_000).collect();
            if role == "send" {
                let rows = (0..a.mb * 1024)
                    .map(|i| {
                        let mut v = vec![(i % 251) as u8; 1016];
                        v[..8].copy_from_slice(&i.to_le_bytes());
                        (i.to_le_bytes().to_vec(), v)
                    })
                    .collect();
                let t = s.parallelize(rows, 4)?;
                let d = table_digest(t.as_ref())?;
                let t0 = Instant::now();
                VALUE.remote(f, &big, &[RECEIVER], "iter.0")?;
                VALUE.remote(f, &7u64, &[RECEIVER], "iter.1")?;
                f.remote_table("bench_table", "t", t.as_ref(), &[RECEIVER])?;
                let _ = t0;
                (a.mb << 20, format!("{}:{}", d.0, d.1))
            } else {
                // Interleaved tags: the later one first.
                let seven: u64 = VALUE.get_one(f, SENDER, "iter.1")?;
                let got: Vec<u64> = VALUE.get_one(f, SENDER, "iter.0")?;
                if seven != 7 || got != big {
                    bail!("values arrived wrong");
                }
                let t = f.get_tables("bench_table", "t", &[SENDER], &s)?.remove(0);
                // Peak RSS once the table has arrived, before reading it (a
                // received table beyond RECV_MEMORY_PER_PARTITION is a mapped
                // file; reading it later maps page-cache pages, counted by VmHWM).
                ARRIVAL_RSS_KB.store(peak_rss_kb(), std::sync::atomic::Ordering::Relaxed);
                let d = table_digest(t.as_ref())?;
                (a.mb << 20, format!("{}:{}", d.0, d.1))
            }
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    fed.as_dyn().cleanup()?;
    println!(
        "{}",
        json!({"role": a.role, "bytes": bytes, "secs": secs, "digest": digest, "peak_rss_kb": peak_rss_kb(),
               "arrival_rss_kb": ARRIVAL_RSS_KB.load(std::sync::atomic::Ordering::Relaxed)})
    );
    Ok(())
}
