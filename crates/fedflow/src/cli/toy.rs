//! `fedflow toy`: FATE's toy job, as `flow test toy` submits it.

use anyhow::{bail, Context, Result};
use clap::Args;
use fedflow_flow::{run_job, Dsl, JobConf, RunOptions, TaskStatus};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ToyArgs {
    /// Guest party id.
    #[arg(long = "guest", short = 'g', default_value_t = 9999)]
    guest: u64,
    /// Host party id.
    #[arg(long = "host", default_value_t = 10000)]
    host: u64,
    /// Rows per party.
    #[arg(long, default_value_t = 1000)]
    data_num: u64,
    /// Partitions.
    #[arg(long, default_value_t = 4)]
    partition: u64,
    /// Computing engine: standalone or spark.
    #[arg(long, default_value = "standalone")]
    backend: String,
    /// Spark master for `--backend spark` (default: $FEDFLOW_SPARK_MASTER, else
    /// the local cluster of `fedflow spark up`, started if needed).
    #[arg(long, env = "FEDFLOW_SPARK_MASTER")]
    spark_master: Option<String>,
    /// Run guest and host as two separate OS processes.
    #[arg(long)]
    processes: bool,
    /// Seconds a party waits for the other.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

fn conf(a: &ToyArgs) -> serde_json::Value {
    let mut c = json!({
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": a.guest},
        "role": {"guest": [a.guest], "host": [a.host]},
        "job_parameters": {"common": {"computing_engine": a.backend.to_ascii_uppercase()}},
        "component_parameters": {
            "common": {"secure_add_example_0": {"partition": a.partition, "data_num": a.data_num}},
            "role": {
                "guest": {"0": {"secure_add_example_0": {"seed": 123}}},
                "host": {"0": {"secure_add_example_0": {"seed": 321}}}
            }
        }
    });
    if let Some(m) = &a.spark_master {
        // One core per party: both parties' applications share the cluster.
        c["job_parameters"]["common"]["spark_run"] =
            json!({"master": m, "total-executor-cores": 1});
    }
    c
}

fn dsl() -> serde_json::Value {
    json!({"components": {"secure_add_example_0": {"module": "SecureAddExample"}}})
}

pub fn run(mut a: ToyArgs, dir: &Path) -> Result<()> {
    if !matches!(a.backend.as_str(), "standalone" | "spark") {
        bail!("--backend '{}': expected standalone or spark", a.backend);
    }
    if a.backend == "spark" && a.spark_master.is_none() {
        let info = fedflow_spark::cluster::ensure_running(
            &super::spark::cluster_dir(dir),
            super::spark::local_cores(),
            "4g",
        )?;
        println!(
            "local Spark cluster: {} (stop it with `fedflow spark down`)",
            info.master_url
        );
        a.spark_master = Some(info.master_url);
    }
    if a.processes {
        return run_processes(&a, dir);
    }
    let conf = JobConf::parse(&conf(&a))?;
    let dsl = Dsl::parse(&dsl())?;
    let opts = RunOptions {
        data_dir: dir.to_path_buf(),
        timeout: Some(Duration::from_secs(a.timeout)),
        ..Default::default()
    };
    let report = run_job(&conf, &dsl, &opts)?;
    super::job::print_report(&report, false);
    if report.status != TaskStatus::Success {
        bail!(
            "toy job {} failed: {}",
            report.job_id,
            report.first_error().unwrap_or_default()
        );
    }
    if let Some(g) = report
        .tasks
        .iter()
        .find(|t| t.party.role == fedflow_core::Role::Guest)
    {
        println!(
            "secure_add_guest: success to calculate secure_sum, it is {}",
            g.summary["secure_sum"]
        );
    }
    Ok(())
}

/// Guest and host as two `fedflow job run --party …` processes sharing a job id.
fn run_processes(a: &ToyArgs, dir: &Path) -> Result<()> {
    let tmp = tempfile::tempdir().context("temporary directory for the toy conf")?;
    let conf_path = tmp.path().join("toy_conf.json");
    let dsl_path = tmp.path().join("toy_dsl.json");
    std::fs::write(&conf_path, serde_json::to_vec_pretty(&conf(a))?)?;
    std::fs::write(&dsl_path, serde_json::to_vec_pretty(&dsl())?)?;
    let exe = std::env::current_exe().context("locating the fedflow binary")?;
    let job_id = fedflow_flow::new_job_id();
    let spawn = |party: String| {
        Command::new(&exe)
            .arg("--data-dir")
            .arg(dir)
            .args(["job", "run", "-c"])
            .arg(&conf_path)
            .arg("-d")
            .arg(&dsl_path)
            .args([
                "--party",
                &party,
                "--job-id",
                &job_id,
                "--timeout",
                &a.timeout.to_string(),
            ])
            .spawn()
            .with_context(|| format!("starting the {party} process"))
    };
    let mut guest = spawn(format!("guest:{}", a.guest))?;
    let mut host = spawn(format!("host:{}", a.host))?;
    println!(
        "toy job {job_id}: guest pid {}, host pid {}",
        guest.id(),
        host.id()
    );
    let hs = host.wait()?;
    let gs = guest.wait()?;
    if !(gs.success() && hs.success()) {
        bail!("toy job {job_id} failed (guest exit {gs}, host exit {hs})");
    }
    println!("toy job {job_id}: success (two processes)");
    Ok(())
}
