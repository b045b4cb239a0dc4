//! `fedflow worker` (what Spark executors run), `fedflow spark up/down/status`
//! (a local standalone cluster under the data directory) and `fedflow bench spark`.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{parallelize, Session, TypedTable};
use fedflow_spark::cluster::{self, LocalCluster};
use fedflow_spark::conformance::{AddF64, Affine, Diff, Spread};
use fedflow_spark::worker::{self, Step};
use fedflow_spark::{SparkOptions, SparkSession};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `fedflow worker <step>`: rows on stdin, rows on stdout (see `fedflow_spark::worker`).
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The step, as the Spark engine encodes it.
    step: String,
}

/// Runs the worker; any error is one line on stderr and exit code 2.
pub fn run_worker(a: WorkerArgs) -> ! {
    let result = Step::from_arg(&a.step).and_then(|step| {
        let stdin = std::io::stdin().lock();
        let stdout = std::io::stdout().lock();
        worker::run(&step, stdin, stdout)
    });
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("fedflow worker: {}", e.replace('\n', " "));
            // Spark reads a TRANSFORM script's stderr on another thread and
            // builds its error from what it has read when the script exits;
            // give it time to read the whole line.
            std::thread::sleep(std::time::Duration::from_millis(500));
            std::process::exit(2)
        }
    }
}

/// The local Spark cluster: `<data dir>/spark/cluster`.
pub fn cluster_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("spark").join("cluster")
}

/// Cores the local worker offers: twice the machine's, so that the parties of
/// a job (one Spark application each) run side by side.
pub fn local_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        * 2
}

#[derive(Subcommand, Debug)]
pub enum SparkCommand {
    /// Start a local standalone cluster (master + one worker on 127.0.0.1), or report the running one.
    Up {
        /// Cores the worker offers (default: twice the machine's).
        #[arg(long)]
        cores: Option<usize>,
        /// Memory the worker offers.
        #[arg(long, default_value = "4g")]
        memory: String,
    },
    /// Stop the local cluster.
    Down,
    /// Show the local cluster's master URL and live workers.
    Status,
}

pub fn run_spark(c: SparkCommand, dir: &Path) -> Result<()> {
    let cdir = cluster_dir(dir);
    match c {
        SparkCommand::Up { cores, memory } => {
            let info = cluster::ensure_running(&cdir, cores.unwrap_or_else(local_cores), &memory)?;
            println!("master {}  ui {}", info.master_url, info.ui_url);
        }
        SparkCommand::Down => {
            if cluster::stop_running(&cdir) {
                println!("stopped");
            } else {
                println!("no local Spark cluster under {}", cdir.display());
            }
        }
        SparkCommand::Status => match cluster::find_running(&cdir) {
            Some(info) => println!(
                "master {}  ui {}  workers alive {}",
                info.master_url,
                info.ui_url,
                info.alive_workers().unwrap_or(0)
            ),
            None => bail!("no local Spark cluster running under {}", cdir.display()),
        },
    }
    Ok(())
}

/// `fedflow bench spark`.
#[derive(Args, Debug)]
pub struct BenchSparkArgs {
    /// Rows of the small table (per-op overhead).
    #[arg(long, default_value_t = 1000)]
    small: u64,
    /// Rows of the big table (throughput); 0 skips it.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Partitions.
    #[arg(long, default_value_t = 8)]
    partitions: usize,
    /// Repetitions of each small op.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Master URL (default: a local cluster started for the run).
    #[arg(long)]
    master: Option<String>,
    /// spark-submit's --executor-memory.
    #[arg(long, default_value = "4g")]
    executor_memory: String,
}

fn time<T>(f: impl FnOnce() -> Result<T>) -> Result<(f64, T)> {
    let t = Instant::now();
    let v = f()?;
    Ok((t.elapsed().as_secs_f64(), v))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Keys per seed row when a big table is grown on the engine.
const SPREAD: u64 = 1000;

/// Runs map_values, join and reduce on a table of `rows` rows `k -> k` and
/// returns their seconds. A big table is grown on the engine from a seed
/// (`Spread`), so that it never sits in this process on Spark.
fn three_ops(s: &dyn Session, rows: u64, parts: usize) -> Result<[f64; 3]> {
    let a: TypedTable<u64, f64> = if rows > SPREAD {
        let seed: Vec<(u64, f64)> = (0..rows.div_ceil(SPREAD)).map(|k| (k, 0.0)).collect();
        parallelize(s, seed, parts)?.flat_map(Spread { n: SPREAD, rows })?
    } else {
        parallelize(s, (0..rows).map(|k| (k, k as f64)).collect(), parts)?
    };
    let (t_map, m) = time(|| Ok(a.map_values(Affine(2.0, 1.0))?))?;
    let (t_join, j) = time(|| Ok(a.join(&m, Diff)?))?;
    let (t_reduce, r) = time(|| Ok(j.reduce(AddF64)?))?;
    if r.is_none() && rows > 0 {
        bail!("reduce gave nothing");
    }
    Ok([t_map, t_join, t_reduce])
}

pub fn run_bench(a: BenchSparkArgs, dir: &Path) -> Result<()> {
    let work = dir.join("spark");
    let _cluster;
    let master = match a.master.clone() {
        Some(m) => m,
        None => {
            let c = LocalCluster::start(&work.join("bench-cluster"), local_cores(), "8g", None)?;
            let m = c.master_url().to_string();
            _cluster = c;
            m
        }
    };
    let mut opts = SparkOptions::new(&work);
    opts.master = Some(master.clone());
    opts.submit_args = vec!["--executor-memory".into(), a.executor_memory.clone()];
    let (t_start, spark) = time(|| Ok(SparkSession::new("bench_spark", opts)?))?;
    println!(
        "spark application {} on {master}: started in {t_start:.1}s",
        spark.app_info().app_id
    );
    // Spark's own trivial job on the same application.
    spark.trivial_job(10)?;
    let trivial = median(
        (0..a.reps)
            .map(|_| time(|| Ok(spark.trivial_job(1000)?)).map(|(t, _)| t))
            .collect::<Result<Vec<_>>>()?,
    );
    let mut per_op: Vec<[f64; 3]> = Vec::new();
    for _ in 0..a.reps {
        per_op.push(three_ops(&spark, a.small, a.partitions)?);
    }
    println!(
        "trivial Spark job (count of range(1000)): {:.3}s (median of {})",
        trivial, a.reps
    );
    for (i, name) in ["map_values", "join", "reduce"].iter().enumerate() {
        let t = median(per_op.iter().map(|r| r[i]).collect());
        println!(
            "{name:<10} on {} rows: {t:.3}s  = {:.2}x the trivial job",
            a.small,
            t / trivial
        );
    }
    if a.rows > 0 {
        let standalone = StandaloneSession::new("bench_standalone", StandaloneOptions::default())?;
        let s = three_ops(&standalone, a.rows, a.partitions).context("standalone")?;
        let k = three_ops(&spark, a.rows, a.partitions).context("spark")?;
        for (i, name) in ["map_values", "join", "reduce"].iter().enumerate() {
            println!(
                "{name:<10} on {} rows, {} partitions: spark {:.2}s ({:.0} rows/s)  standalone {:.2}s ({:.0} rows/s)",
                a.rows,
                a.partitions,
                k[i],
                a.rows as f64 / k[i],
                s[i],
                a.rows as f64 / s[i]
            );
        }
    }
    spark.stop()?;
    Ok(())
}
