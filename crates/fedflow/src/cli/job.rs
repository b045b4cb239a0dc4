//! `fedflow job …`.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use fedflow_core::Party;
use fedflow_flow::{run_job, Dsl, JobConf, JobReport, RunOptions, TaskStatus};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Run a job here, without a server: every party in this process, or only
    /// the ones given with --party (the others run the same command elsewhere
    /// with the same --job-id).
    Run {
        /// Runtime conf (FATE v2, or v1 of FATE 1.5).
        #[arg(short = 'c', long = "conf")]
        conf: PathBuf,
        /// DSL.
        #[arg(short = 'd', long = "dsl")]
        dsl: PathBuf,
        /// Run only this party's tasks, as role:party_id (repeatable).
        #[arg(long = "party")]
        parties: Vec<String>,
        /// Job id (parties in separate processes must share it).
        #[arg(long)]
        job_id: Option<String>,
        /// Seconds a task waits for a peer (default: the job's timeout).
        #[arg(long)]
        timeout: Option<u64>,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Store every task's output data as tables `output_data.<job>_<component>_<role>_<party>_<i>`.
        #[arg(long)]
        save_outputs: bool,
    },
    /// Submit a job to a server (FATE's `flow job submit`).
    Submit {
        /// Runtime conf.
        #[arg(short = 'c', long = "conf")]
        conf: PathBuf,
        /// DSL.
        #[arg(short = 'd', long = "dsl")]
        dsl: PathBuf,
        /// Wait for the job to end, showing its progress; exit 1 unless it succeeds.
        #[arg(long)]
        wait: bool,
        /// Seconds to wait at most.
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
    },
    /// A job's state on every party.
    Query {
        /// Job id.
        #[arg(short = 'j', long)]
        job_id: String,
    },
    /// Recent jobs.
    List {
        /// How many.
        #[arg(short = 'l', long, default_value_t = 10)]
        limit: u64,
    },
    /// Stop a running job on every party.
    Stop {
        /// Job id.
        #[arg(short = 'j', long)]
        job_id: String,
    },
    /// Rerun a failed or canceled job from its failed components.
    Rerun {
        /// Job id.
        #[arg(short = 'j', long)]
        job_id: String,
        /// Wait for it to end.
        #[arg(long)]
        wait: bool,
    },
    /// Download a job's logs into OUTPUT/job_<id>_log.
    Log {
        /// Job id.
        #[arg(short = 'j', long)]
        job_id: String,
        /// Directory.
        #[arg(short = 'o', long = "output-path")]
        output_path: PathBuf,
    },
    /// A job's tasks.
    Tasks {
        /// Job id.
        #[arg(short = 'j', long)]
        job_id: String,
    },
}

/// Reads and parses a JSON file, naming it in errors.
pub fn read_json(path: &Path, what: &str) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{what} {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{what} {}: not valid JSON", path.display()))
}

pub fn parse_party(s: &str) -> Result<Party> {
    let (role, id) = s
        .split_once(':')
        .with_context(|| format!("--party '{s}': expected role:party_id, e.g. guest:9999"))?;
    Ok(Party::new(
        role.parse().with_context(|| format!("--party '{s}'"))?,
        id.parse()
            .with_context(|| format!("--party '{s}': party id must be a non-negative integer"))?,
    ))
}

pub fn run(cmd: JobCommand, dir: &Path, server: &Option<String>) -> Result<()> {
    let client = || super::client::Client::new(&super::client::server_url(server));
    match cmd {
        JobCommand::Submit {
            conf,
            dsl,
            wait,
            timeout,
        } => {
            let conf = read_json(&conf, "conf")?;
            let dsl = read_json(&dsl, "dsl")?;
            let c = client();
            let v = c.post(
                "job/submit",
                serde_json::json!({"job_dsl": dsl, "job_runtime_conf": conf}),
            )?;
            let job_id = v["jobId"].as_str().unwrap_or_default().to_string();
            println!(
                "job {job_id} submitted; model_id {} model_version {}",
                v["data"]["model_info"]["model_id"], v["data"]["model_info"]["model_version"]
            );
            if wait {
                let st = super::client::wait_job(&c, &job_id, Duration::from_secs(timeout))?;
                println!("job {job_id}: {st}");
                if st != "success" {
                    bail!("job {job_id} ended {st}");
                }
            }
            Ok(())
        }
        JobCommand::Query { job_id } => {
            let v = client().post("job/query", serde_json::json!({"job_id": job_id}))?;
            for r in v["data"].as_array().into_iter().flatten() {
                println!(
                    "{}  {:<8} {:<7} {:<9} {:>3}%{}",
                    r["f_job_id"].as_str().unwrap_or_default(),
                    r["f_role"].as_str().unwrap_or_default(),
                    r["f_party_id"].as_str().unwrap_or_default(),
                    r["f_status"].as_str().unwrap_or_default(),
                    r["f_progress"],
                    r["f_error"]
                        .as_str()
                        .map(|e| format!("  {e}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        JobCommand::List { limit } => {
            let v = client().post("job/list/job", serde_json::json!({"limit": limit}))?;
            for r in v["data"]["jobs"].as_array().into_iter().flatten() {
                println!(
                    "{}  {:<8} {:<7} {:<9} {:>3}%",
                    r["f_job_id"].as_str().unwrap_or_default(),
                    r["f_role"].as_str().unwrap_or_default(),
                    r["f_party_id"].as_str().unwrap_or_default(),
                    r["f_status"].as_str().unwrap_or_default(),
                    r["f_progress"]
                );
            }
            Ok(())
        }
        JobCommand::Stop { job_id } => {
            client().post("job/stop", serde_json::json!({"job_id": job_id}))?;
            println!("job {job_id}: stop requested");
            Ok(())
        }
        JobCommand::Rerun { job_id, wait } => {
            let c = client();
            c.post("job/rerun", serde_json::json!({"job_id": job_id}))?;
            println!("job {job_id}: rerun started");
            if wait {
                let st = super::client::wait_job(&c, &job_id, Duration::from_secs(3600))?;
                println!("job {job_id}: {st}");
                if st != "success" {
                    bail!("job {job_id} ended {st}");
                }
            }
            Ok(())
        }
        JobCommand::Log {
            job_id,
            output_path,
        } => {
            let bytes =
                client().post_bytes("job/log/download", serde_json::json!({"job_id": job_id}))?;
            let dir = output_path.join(format!("job_{job_id}_log"));
            std::fs::create_dir_all(&dir)?;
            tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]))
                .unpack(&dir)
                .with_context(|| format!("unpacking logs into {}", dir.display()))?;
            println!("logs of job {job_id} in {}", dir.display());
            Ok(())
        }
        JobCommand::Tasks { job_id } => {
            let v = client().post("job/task/query", serde_json::json!({"job_id": job_id}))?;
            for t in v["data"].as_array().into_iter().flatten() {
                println!(
                    "{:<24} v{} {:<8} {:<7} {:<9}{}",
                    t["f_component_name"].as_str().unwrap_or_default(),
                    t["f_task_version"],
                    t["f_role"].as_str().unwrap_or_default(),
                    t["f_party_id"].as_str().unwrap_or_default(),
                    t["f_status"].as_str().unwrap_or_default(),
                    t["f_error"]
                        .as_str()
                        .map(|e| format!("  {e}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        JobCommand::Run {
            conf,
            dsl,
            parties,
            job_id,
            timeout,
            json,
            save_outputs,
        } => {
            let conf_v = read_json(&conf, "conf")?;
            let dsl_v = read_json(&dsl, "dsl")?;
            let conf =
                JobConf::parse(&conf_v).with_context(|| format!("conf {}", conf.display()))?;
            let dsl = Dsl::parse(&dsl_v).with_context(|| format!("dsl {}", dsl.display()))?;
            let only = if parties.is_empty() {
                None
            } else {
                let ps = parties
                    .iter()
                    .map(|p| parse_party(p))
                    .collect::<Result<Vec<_>>>()?;
                if let Some(p) = ps.iter().find(|p| !conf.roster.contains(**p)) {
                    bail!(
                        "--party {p}: not a party of this job (its roles: {})",
                        conf.roster
                            .all()
                            .iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                Some(ps)
            };
            let opts = RunOptions {
                data_dir: dir.to_path_buf(),
                job_id,
                only,
                timeout: timeout.map(Duration::from_secs),
                memory_budget: None,
                save_outputs,
            };
            let report = run_job(&conf, &dsl, &opts)?;
            print_report(&report, json);
            if report.status != TaskStatus::Success {
                bail!(
                    "job {} failed: {}",
                    report.job_id,
                    report.first_error().unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

pub fn print_report(r: &JobReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    println!(
        "job {}: {} in {:.3} s",
        r.job_id,
        status(r.status),
        r.elapsed_ms as f64 / 1000.0
    );
    for t in &r.tasks {
        let mut line = format!(
            "  {:<24} {:<8} {:<7} {:<9} {:>8.3} s",
            t.component,
            t.party.role,
            t.party.party_id,
            status(t.status),
            t.elapsed_ms as f64 / 1000.0
        );
        if let Some(e) = &t.error {
            line.push_str(&format!("  {e}"));
        } else if let Some(obj) = t.summary.as_object() {
            let kv: Vec<String> = obj.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if !kv.is_empty() {
                line.push_str(&format!("  {}", kv.join(" ")));
            }
        }
        println!("{line}");
        if let Some(info) = &t.engine_info {
            println!("    {info}");
        }
        if t.module == "Evaluation" && t.error.is_none() {
            print_metrics(&t.summary);
        }
    }
}

/// Evaluation's metrics, one per line (`    auc: 0.9912`) under each evaluated component.
fn print_metrics(summary: &serde_json::Value) {
    for l in metric_lines(summary) {
        println!("{l}");
    }
}

fn metric_lines(summary: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(obj) = summary.as_object() else {
        return out;
    };
    for (name, metrics) in obj {
        if let Some(m) = metrics.as_object() {
            out.push(format!("    {name}:"));
            for (k, v) in m {
                match v.as_f64() {
                    Some(x) => out.push(format!("      {k}: {x:.4}")),
                    None => out.push(format!("      {k}: {v}")),
                }
            }
        }
    }
    out
}

fn status(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Success => "success",
        TaskStatus::Failed => "failed",
        TaskStatus::Canceled => "canceled",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn evaluation_metrics_print_one_per_line() {
        let s = serde_json::json!({"hetero_lr_0": {"auc": 0.99123, "ks": 0.9}});
        assert_eq!(
            super::metric_lines(&s),
            vec!["    hetero_lr_0:", "      auc: 0.9912", "      ks: 0.9000"]
        );
    }
}
