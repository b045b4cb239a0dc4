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
        BenchCommand::Toy {
            runs,
            data_num,
            partition,
        } => bench_toy(runs, &data_num, partition),
        BenchCommand::Computing { rows, partitions } => bench_computing(rows, partitions, dir),
        BenchCommand::ComputingOp {
            op,
            rows,
            partitions,
        } => computing_op(op, rows, partitions, dir),
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
