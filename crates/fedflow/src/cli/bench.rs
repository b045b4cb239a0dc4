//! `fedflow bench …`: benchmarks that print figures (never timed assertions).

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{
    parallelize_values, register_op, Emitter, JoinOp, MapPartitionsOp, MapValuesOp, OpError,
    ReduceOp, TypedTable,
};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Paillier and PSI ops/s per core (single thread): encrypt (DJN, FATE's r^n,
    /// key-owner CRT), decrypt, add, scalar-mul, packed; ECDH and RSA PSI.
    Crypto {
        /// Paillier key sizes (repeatable).
        #[arg(long = "bits", default_values_t = vec![1024u32, 2048])]
        bits: Vec<u32>,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        /// Skip the PSI rows.
        #[arg(long)]
        no_psi: bool,
    },
    /// Toy job wall time, whole process (`fedflow toy`), median of N runs.
    Toy {
        /// Runs per size.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Sizes (data_num), repeatable.
        #[arg(long = "data-num", default_values_t = vec![1_000u64, 1_000_000])]
        data_num: Vec<u64>,
        /// Partitions.
        #[arg(long, default_value_t = 4)]
        partition: u64,
    },
    /// Standalone Table throughput (map_values, join, reduce), each op in its
    /// own process so that its peak memory is its own.
    Computing {
        /// Rows.
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// Partitions.
        #[arg(long, default_value_t = 16)]
        partitions: u64,
    },
    /// A `fedflow server` (temp data dir, free port): toy submit→success
    /// latency through the REST API, then concurrent toy jobs; peak RSS.
    Server {
        /// Sequential toy jobs for the latency figures.
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Toy jobs submitted at once.
        #[arg(long, default_value_t = 100)]
        concurrent: usize,
        /// The toy's data_num.
        #[arg(long, default_value_t = 1000)]
        data_num: u64,
        /// Seconds to wait for the jobs at most.
        #[arg(long, default_value_t = 1800)]
        timeout: u64,
    },
    /// The horizontal family: a synthetic homo split (`data gen --homo`),
    /// HomoLR, HomoFeatureBinning and HomoSecureBoost `job run` wall time and peak RSS.
    Homo {
        /// Rows over all parties.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Features.
        #[arg(long, default_value_t = 30)]
        features: usize,
        /// Parties holding rows (a guest and hosts; plus an arbiter).
        #[arg(long, default_value_t = 3)]
        parties: usize,
        /// HomoLR epochs.
        #[arg(long, default_value_t = 10)]
        epochs: u32,
        /// Partitions per table.
        #[arg(long, default_value_t = 8)]
        partitions: u64,
    },
    /// One computing op (used by `bench computing`).
    #[command(hide = true)]
    ComputingOp {
        #[arg(long, value_enum)]
        op: BenchOp,
        #[arg(long)]
        rows: u64,
        #[arg(long)]
        partitions: u64,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum BenchOp {
    MapValues,
    Join,
    Reduce,
}

pub fn run(cmd: BenchCommand, dir: &Path) -> Result<()> {
    match cmd {
        BenchCommand::Crypto {
            bits,
            seconds,
            no_psi,
        } => {
            let opts = fedflow_crypto::bench::BenchOptions {
                paillier_bits: bits,
                rsa_bits: if no_psi { vec![] } else { vec![1024, 2048] },
                ecdh: !no_psi,
                seconds_per_row: seconds,
            };
            fedflow_crypto::bench::print(&fedflow_crypto::bench::run(&opts));
            Ok(())
        }
        BenchCommand::Toy {
            runs,
            data_num,
            partition,
        } => bench_toy(runs, &data_num, partition),
        BenchCommand::Computing { rows, partitions } => bench_computing(rows, partitions, dir),
        BenchCommand::Server {
            runs,
            concurrent,
            data_num,
            timeout,
        } => bench_server(runs, concurrent, data_num, timeout),
        BenchCommand::ComputingOp {
            op,
            rows,
            partitions,
        } => computing_op(op, rows, partitions, dir),
        BenchCommand::Homo {
            rows,
            features,
            parties,
            epochs,
            partitions,
        } => super::bench_homo::bench_homo(rows, features, parties, epochs, partitions),
    }
}

fn exe() -> Result<std::path::PathBuf> {
    std::env::current_exe().context("locating the fedflow binary")
}

fn bench_toy(runs: usize, sizes: &[u64], partition: u64) -> Result<()> {
    println!("toy job (fedflow toy), whole process wall time, {runs} runs each");
    println!(
        "{:>10} {:>10} {:>10} {:>10}",
        "data_num", "median s", "min s", "max s"
    );
    for &n in sizes {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let dir = tempfile::tempdir()?;
            let t = Instant::now();
            let out = Command::new(exe()?)
                .arg("--data-dir")
                .arg(dir.path())
                .args([
                    "--log",
                    "warn",
                    "toy",
                    "--data-num",
                    &n.to_string(),
                    "--partition",
                    &partition.to_string(),
                ])
                .output()?;
            let secs = t.elapsed().as_secs_f64();
            if !out.status.success() {
                bail!("toy run failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            times.push(secs);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:>10} {:>10.3} {:>10.3} {:>10.3}",
            n,
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
    }
    Ok(())
}

/// A server process for `bench server`, killed on drop.
struct BenchServer {
    child: std::process::Child,
    url: String,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BenchServer {
    fn start() -> Result<BenchServer> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let child = Command::new(exe()?)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--log", "warn", "server", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting fedflow server")?;
        let mut s = BenchServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            agent: ureq::AgentBuilder::new()
                .timeout(std::time::Duration::from_secs(120))
                .build(),
            _dir: dir,
        };
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while s.post("version/get", serde_json::json!({})).is_err() {
            if let Some(st) = s.child.try_wait()? {
                bail!("fedflow server exited ({st}) at start-up");
            }
            if Instant::now() > deadline {
                bail!("fedflow server did not answer within 30 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(s)
    }

    fn post(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
        let v: serde_json::Value = self
            .agent
            .post(&format!("{}/v1/{path}", self.url))
            .send_json(body)?
            .into_json()?;
        if v["retcode"] != 0 {
            bail!("{path}: {}", v["retmsg"]);
        }
        Ok(v)
    }

    fn submit(&self, conf: &serde_json::Value, dsl: &serde_json::Value) -> Result<String> {
        let v = self.post(
            "job/submit",
            serde_json::json!({"job_runtime_conf": conf, "job_dsl": dsl}),
        )?;
        Ok(v["jobId"].as_str().unwrap_or_default().to_string())
    }

    /// The initiator's status, if the job ended.
    fn ended(&self, job_id: &str) -> Result<Option<String>> {
        let v = self.post("job/query", serde_json::json!({"job_id": job_id}))?;
        let st = v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["f_is_initiator"] == true)
            .and_then(|r| r["f_status"].as_str())
            .unwrap_or("")
            .to_string();
        Ok(["success", "failed", "canceled", "timeout"]
            .contains(&st.as_str())
            .then_some(st))
    }
}

fn toy_job(data_num: u64) -> (serde_json::Value, serde_json::Value) {
    let conf = serde_json::json!({
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {
            "role": {
                "guest": {"0": {"secure_add_example_0": {"seed": 123}}},
                "host": {"0": {"secure_add_example_0": {"seed": 321}}}
            },
            "common": {"secure_add_example_0": {"partition": 4, "data_num": data_num}}
        }
    });
    let dsl =
        serde_json::json!({"components": {"secure_add_example_0": {"module": "SecureAddExample"}}});
    (conf, dsl)
}

/// `VmHWM` (peak) and `VmRSS` of a process, in KiB.
pub(crate) fn proc_mem_kb(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// The children of a process (the task executors).
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|x| x.parse::<u32>().ok());
            if ppid == Some(pid) {
                out.push(p);
            }
        }
    }
    out
}

#[derive(Default)]
struct MemPeaks {
    server_hwm_kb: u64,
    executor_hwm_kb: u64,
    total_rss_kb: u64,
    max_executors: usize,
}

fn bench_server(runs: usize, concurrent: usize, data_num: u64, timeout: u64) -> Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let server = BenchServer::start()?;
    let pid = server.child.id();
    let (conf, dsl) = toy_job(data_num);
    let deadline = Instant::now() + std::time::Duration::from_secs(timeout);

    // Memory sampler: the server's VmHWM, the executors' peaks, the sum of RSS.
    let peaks = Arc::new(Mutex::new(MemPeaks::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peaks, stop) = (peaks.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let mut total = 0;
                let mut p = peaks.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((hwm, rss)) = proc_mem_kb(pid) {
                    p.server_hwm_kb = p.server_hwm_kb.max(hwm);
                    total += rss;
                }
                let kids = children_of(pid);
                p.max_executors = p.max_executors.max(kids.len());
                for k in kids {
                    if let Some((hwm, rss)) = proc_mem_kb(k) {
                        p.executor_hwm_kb = p.executor_hwm_kb.max(hwm);
                        total += rss;
                    }
                }
                p.total_rss_kb = p.total_rss_kb.max(total);
                drop(p);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };

    println!(
        "fedflow server at {} (pid {pid}); toy job (SecureAddExample, data_num {data_num}), guest 9999 + host 10000",
        server.url
    );
    let mut times = Vec::with_capacity(runs);
    let mut failed = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let job = server.submit(&conf, &dsl)?;
        let st = loop {
            if let Some(st) = server.ended(&job)? {
                break st;
            }
            if Instant::now() > deadline {
                bail!("job {job} did not end in time");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        if st != "success" {
            failed += 1;
        }
        times.push(t.elapsed().as_secs_f64());
    }
    if !times.is_empty() {
        times.sort_by(f64::total_cmp);
        println!(
            "sequential: {runs} jobs submit→success: median {:.3} s, min {:.3} s, max {:.3} s{}",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            if failed > 0 {
                format!(" ({failed} did not succeed)")
            } else {
                String::new()
            }
        );
    }

    if concurrent > 0 {
        let t = Instant::now();
        let server = Arc::new(server);
        let submitters: Vec<_> = (0..concurrent)
            .map(|_| {
                let (s, c, d) = (server.clone(), conf.clone(), dsl.clone());
                std::thread::spawn(move || s.submit(&c, &d))
            })
            .collect();
        let mut pending = Vec::new();
        let mut submit_errors = 0;
        for h in submitters {
            match h.join() {
                Ok(Ok(j)) => pending.push(j),
                _ => submit_errors += 1,
            }
        }
        let submitted_in = t.elapsed().as_secs_f64();
        let mut ok = 0;
        let mut other = 0;
        let mut errors: Vec<String> = Vec::new();
        while !pending.is_empty() {
            let mut still = Vec::new();
            for j in pending {
                match server.ended(&j)? {
                    Some(st) if st == "success" => ok += 1,
                    Some(_) => {
                        other += 1;
                        if let Ok(v) = server.post("job/query", serde_json::json!({"job_id": j})) {
                            let e = v["data"][0]["f_error"].as_str().unwrap_or("").to_string();
                            if !errors.contains(&e) {
                                errors.push(e);
                            }
                        }
                    }
                    None => still.push(j),
                }
            }
            pending = still;
            if !pending.is_empty() {
                if Instant::now() > deadline {
                    println!("timed out with {} jobs still running", pending.len());
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        println!(
            "concurrent: {concurrent} jobs submitted at once (all accepted in {submitted_in:.2} s): \
             all ended in {:.2} s; {ok} succeeded, {other} failed, {submit_errors} refused",
            t.elapsed().as_secs_f64()
        );
        for e in errors.iter().take(5) {
            println!("  failure: {e}");
        }
        stop.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        let p = peaks.lock().unwrap_or_else(|e| e.into_inner());
        let server_hwm = proc_mem_kb(pid).map(|m| m.0).unwrap_or(p.server_hwm_kb);
        println!(
            "memory: server peak RSS (VmHWM) {:.1} MiB; largest executor peak {:.1} MiB; \
             at most {} executors at once; peak sampled RSS of server + executors {:.1} MiB",
            server_hwm.max(p.server_hwm_kb) as f64 / 1024.0,
            p.executor_hwm_kb as f64 / 1024.0,
            p.max_executors,
            p.total_rss_kb as f64 / 1024.0
        );
        return Ok(());
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let p = peaks.lock().unwrap_or_else(|e| e.into_inner());
    println!(
        "memory: server peak RSS (VmHWM) {:.1} MiB; largest executor peak {:.1} MiB",
        p.server_hwm_kb as f64 / 1024.0,
        p.executor_hwm_kb as f64 / 1024.0
    );
    Ok(())
}

fn bench_computing(rows: u64, partitions: u64, dir: &Path) -> Result<()> {
    println!("standalone Table, {rows} rows (u64 key, f64 value), {partitions} partitions, each op in its own process");
    println!(
        "{:>11} {:>9} {:>14} {:>14}",
        "op", "secs", "rows/s", "peak RSS MiB"
    );
    for op in ["map-values", "join", "reduce"] {
        let out = Command::new(exe()?)
            .arg("--data-dir")
            .arg(dir)
            .args([
                "bench",
                "computing-op",
                "--op",
                op,
                "--rows",
                &rows.to_string(),
                "--partitions",
                &partitions.to_string(),
            ])
            .output()?;
        if !out.status.success() {
            bail!(
                "bench {op} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let r: OpResult =
            serde_json::from_slice(&out.stdout).context("reading the child's result")?;
        println!(
            "{:>11} {:>9.3} {:>14.0} {:>14.1}",
            op,
            r.secs,
            rows as f64 / r.secs,
            r.peak_rss_kb as f64 / 1024.0
        );
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct OpResult {
    secs: f64,
    peak_rss_kb: u64,
    check: f64,
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn numbers(s: &StandaloneSession, rows: u64, partitions: u64) -> Result<TypedTable<u64, f64>> {
    let ranges: Vec<(u64, u64)> = (0..partitions)
        .map(|i| (rows * i / partitions, rows * (i + 1) / partitions))
        .collect();
    Ok(parallelize_values(s, ranges, partitions as usize)?.map_partitions(Generate)?)
}

fn computing_op(op: BenchOp, rows: u64, partitions: u64, dir: &Path) -> Result<()> {
    let s = StandaloneSession::new(
        "bench",
        StandaloneOptions {
            memory_budget: None,
            spill_dir: Some(dir.join("spill")),
        },
    )?;
    let t = numbers(&s, rows, partitions)?;
    let (secs, check) = match op {
        BenchOp::MapValues => {
            let start = Instant::now();
            let m = t.map_values(Scale(2.0))?;
            (start.elapsed().as_secs_f64(), m.count()? as f64)
        }
        BenchOp::Join => {
            let other = t.map_values(Scale(1.0))?;
            let start = Instant::now();
            let j = t.join(&other, AddJoin)?;
            (start.elapsed().as_secs_f64(), j.count()? as f64)
        }
        BenchOp::Reduce => {
            let start = Instant::now();
            let r = t.reduce(Sum)?.unwrap_or(0.0);
            (start.elapsed().as_secs_f64(), r)
        }
    };
    println!(
        "{}",
        serde_json::to_string(&OpResult {
            secs,
            peak_rss_kb: peak_rss_kb(),
            check
        })?
    );
    Ok(())
}

/// Expands `(start, end)` ranges into rows `(i, i as f64)`.
#[derive(Serialize, Deserialize)]
pub struct Generate;
impl MapPartitionsOp for Generate {
    const NAME: &'static str = "bench.generate";
    const PRESERVES_KEYS: bool = false;
    type K = u64;
    type V = (u64, u64);
    type K2 = u64;
    type V2 = f64;
    fn map_partition(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (u64, (u64, u64))>,
        out: &mut Emitter<'_, u64, f64>,
    ) -> Result<(), OpError> {
        for (_, (a, b)) in rows {
            for i in a..b {
                out.emit(&i, &(i as f64))?;
            }
        }
        Ok(())
    }
}
register_op!(map_partitions Generate, example: Generate, input: vec![(0u64, (0u64, 3u64))]);

/// `v * factor`.
#[derive(Serialize, Deserialize)]
pub struct Scale(pub f64);
impl MapValuesOp for Scale {
    const NAME: &'static str = "bench.scale";
    type V = f64;
    type Out = f64;
    fn map_value(&self, v: f64) -> Result<f64, OpError> {
        Ok(v * self.0)
    }
}
register_op!(map_values Scale, example: Scale(2.0), input: vec![(1u64, 1.5f64)]);

/// `l + r`.
#[derive(Serialize, Deserialize)]
pub struct AddJoin;
impl JoinOp for AddJoin {
    const NAME: &'static str = "bench.add_join";
    type L = f64;
    type R = f64;
    type Out = f64;
    fn join(&self, l: f64, r: f64) -> Result<f64, OpError> {
        Ok(l + r)
    }
}
register_op!(join AddJoin, example: AddJoin, input: vec![(1.0f64, 2.0f64)]);

/// Sum.
#[derive(Serialize, Deserialize)]
pub struct Sum;
impl ReduceOp for Sum {
    const NAME: &'static str = "bench.sum";
    type V = f64;
    fn reduce(&self, a: f64, b: f64) -> Result<f64, OpError> {
        Ok(a + b)
    }
}
register_op!(reduce Sum, example: Sum, input: vec![(1.0f64, 2.0f64)]);
