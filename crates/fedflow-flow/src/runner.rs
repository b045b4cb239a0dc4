//! Runs a job's tasks: component by component in DAG order; within a
//! component, one task per party, in parallel threads. A failed task tells its
//! peers through the federation ([`Federation::abort`]), so they stop waiting,
//! and the job ends `failed` with the first cause.

use crate::conf::{err, ComputingEngine, ConfError, JobConf};
use crate::dsl::Dsl;
use fedflow_components::{component, ComponentError, MemoryTracker, Metric, TaskContext, MODULES};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_core::Party;
use fedflow_federation::standalone::{StandaloneFederation, StandaloneFederationOptions};
use fedflow_federation::Federation;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to run a job.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// fedflow's data directory (federation mailboxes, spill files).
    pub data_dir: PathBuf,
    /// The job id; default: a new one.
    pub job_id: Option<String>,
    /// Run only these parties' tasks (the others run in other processes).
    pub only: Option<Vec<Party>>,
    /// How long a task waits for a peer's message; default: the job's `timeout`.
    pub timeout: Option<Duration>,
    /// Memory budget of each task's computing session.
    pub memory_budget: Option<usize>,
}

/// State of a task or job at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Finished.
    Success,
    /// Failed.
    Failed,
    /// Not run because an earlier task failed.
    Canceled,
}

/// One task's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    /// Component name.
    pub component: String,
    /// Its module.
    pub module: String,
    /// The party.
    pub party: Party,
    /// Final state.
    pub status: TaskStatus,
    /// Wall time.
    pub elapsed_ms: u128,
    /// The component's summary.
    pub summary: serde_json::Value,
    /// Metrics it reported.
    pub metrics: Vec<Metric>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A job's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct JobReport {
    /// The job id.
    pub job_id: String,
    /// Success when every task succeeded.
    pub status: TaskStatus,
    /// Every task, in order.
    pub tasks: Vec<TaskReport>,
    /// Wall time.
    pub elapsed_ms: u128,
}

impl JobReport {
    /// The first failure, as one line.
    pub fn first_error(&self) -> Option<String> {
        self.tasks.iter().find_map(|t| {
            t.error.as_ref().map(|e| {
                format!(
                    "{} ({} {}): {e}",
                    t.component, t.party.role, t.party.party_id
                )
            })
        })
    }
}

/// A FATE-style job id: `YYYYMMDDhhmmssffffff` plus two random digits.
pub fn new_job_id() -> String {
    format!(
        "{}{:02}",
        chrono::Local::now().format("%Y%m%d%H%M%S%6f"),
        rand::random::<u8>() % 100
    )
}

/// Checks that the conf and DSL fit together and that this build can run them.
pub fn validate(conf: &JobConf, dsl: &Dsl) -> Result<(), ConfError> {
    for c in &dsl.components {
        if component(&c.module).is_none() {
            return Err(err(
                format!("components.{}.module", c.name),
                format!(
                    "unknown module '{}' (this build has: {})",
                    c.module,
                    MODULES.join(", ")
                ),
            ));
        }
    }
    for (cpn, path) in conf.parameter_components() {
        if dsl.get(&cpn).is_none() {
            return Err(err(path, format!("no component '{cpn}' in the DSL")));
        }
    }
    for (p, idx) in conf.parties() {
        let jp = conf.job_parameters(p.role, idx)?;
        if jp.computing_engine()? == ComputingEngine::Spark {
            let field = if jp.computing_engine.is_some() {
                "computing_engine"
            } else {
                "backend"
            };
            return Err(err(
                format!("job_parameters.{field}"),
                "the Spark engine is not available in this build yet; use STANDALONE (backend 0)",
            ));
        }
    }
    Ok(())
}

/// Runs a job (all its parties, or the ones in `options.only`).
pub fn run_job(conf: &JobConf, dsl: &Dsl, options: &RunOptions) -> Result<JobReport, ConfError> {
    validate(conf, dsl)?;
    let job_id = options.job_id.clone().unwrap_or_else(new_job_id);
    let parties: Vec<(Party, usize)> = conf
        .parties()
        .into_iter()
        .filter(|(p, _)| options.only.as_ref().is_none_or(|only| only.contains(p)))
        .collect();
    if parties.is_empty() {
        return Err(err(
            "role",
            "none of the parties to run is in the job's roles",
        ));
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut failed = false;
    for def in &dsl.components {
        if failed {
            for (party, _) in &parties {
                tasks.push(TaskReport {
                    component: def.name.clone(),
                    module: def.module.clone(),
                    party: *party,
                    status: TaskStatus::Canceled,
                    elapsed_ms: 0,
                    summary: serde_json::Value::Null,
                    metrics: Vec::new(),
                    error: None,
                });
            }
            continue;
        }
        tracing::info!(job = %job_id, component = %def.name, "start component {}", def.module);
        let reports: Vec<TaskReport> = std::thread::scope(|s| {
            let handles: Vec<_> = parties
                .iter()
                .map(|&(party, idx)| {
                    let job_id = &job_id;
                    s.spawn(move || {
                        run_task(conf, job_id, &def.name, &def.module, party, idx, options)
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(&parties)
                .map(|(h, (party, _))| {
                    h.join().unwrap_or_else(|_| TaskReport {
                        component: def.name.clone(),
                        module: def.module.clone(),
                        party: *party,
                        status: TaskStatus::Failed,
                        elapsed_ms: 0,
                        summary: serde_json::Value::Null,
                        metrics: Vec::new(),
                        error: Some("task thread panicked".into()),
                    })
                })
                .collect()
        });
        failed = reports.iter().any(|r| r.status != TaskStatus::Success);
        tasks.extend(reports);
    }
    let status = if failed {
        TaskStatus::Failed
    } else {
        TaskStatus::Success
    };
    Ok(JobReport {
        job_id,
        status,
        tasks,
        elapsed_ms: started.elapsed().as_millis(),
    })
}

fn run_task(
    conf: &JobConf,
    job_id: &str,
    cpn: &str,
    module: &str,
    party: Party,
    idx: usize,
    options: &RunOptions,
) -> TaskReport {
    let started = Instant::now();
    let tracker = Arc::new(MemoryTracker::default());
    let mut report = TaskReport {
        component: cpn.to_string(),
        module: module.to_string(),
        party,
        status: TaskStatus::Failed,
        elapsed_ms: 0,
        summary: serde_json::Value::Null,
        metrics: Vec::new(),
        error: None,
    };
    let result = (|| -> Result<serde_json::Value, String> {
        let jp = conf
            .job_parameters(party.role, idx)
            .map_err(|e| e.to_string())?;
        let timeout = options.timeout.unwrap_or(Duration::from_secs(jp.timeout));
        let session_id = format!("{job_id}_{cpn}_{}_{}", party.role, party.party_id);
        let computing = StandaloneSession::new(
            session_id,
            StandaloneOptions {
                memory_budget: options.memory_budget,
                spill_dir: Some(options.data_dir.join("spill")),
            },
        )
        .map_err(|e| e.to_string())?;
        let federation = Arc::new(
            StandaloneFederation::new(
                &options.data_dir.join("federation"),
                &format!("{job_id}_{cpn}"),
                party,
                StandaloneFederationOptions {
                    timeout,
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string())?,
        );
        let component = component(module).ok_or_else(|| format!("unknown module '{module}'"))?;
        let ctx = TaskContext {
            job_id: job_id.to_string(),
            component_name: cpn.to_string(),
            local: party,
            roster: conf.roster.clone(),
            params: conf.component_parameters(cpn, party.role, idx),
            computing: Arc::new(computing),
            federation: federation.clone(),
            tracker: tracker.clone(),
        };
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| component.run(&ctx)));
        let outcome = match outcome {
            Ok(Ok(out)) => Ok(out.summary),
            Ok(Err(e)) => Err(describe(&e)),
            Err(panic) => Err(format!(
                "panicked: {}",
                panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default()
            )),
        };
        if let Err(e) = &outcome {
            federation.abort(e);
        }
        let _ = federation.cleanup();
        outcome
    })();
    report.elapsed_ms = started.elapsed().as_millis();
    report.metrics = tracker.metrics();
    match result {
        Ok(summary) => {
            report.status = TaskStatus::Success;
            report.summary = summary;
            tracing::info!(job = %job_id, component = %cpn, %party, ms = report.elapsed_ms, "task success");
        }
        Err(e) => {
            tracing::error!(job = %job_id, component = %cpn, %party, "task failed: {e}");
            report.error = Some(e);
        }
    }
    report
}

fn describe(e: &ComponentError) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn toy(data_num: u64) -> (JobConf, Dsl) {
        let conf = JobConf::parse(&json!({
            "dsl_version": 2,
            "initiator": {"role": "guest", "party_id": 9999},
            "role": {"guest": [9999], "host": [10000]},
            "component_parameters": {"common": {"secure_add_example_0": {"partition": 4, "data_num": data_num}},
                "role": {"guest": {"0": {"secure_add_example_0": {"seed": 1}}}}}
        }))
        .unwrap();
        let dsl = Dsl::parse(
            &json!({"components": {"secure_add_example_0": {"module": "SecureAddExample"}}}),
        )
        .unwrap();
        (conf, dsl)
    }

    #[test]
    fn toy_runs_both_parties() {
        let dir = tempfile::tempdir().unwrap();
        let (conf, dsl) = toy(5000);
        let r = run_job(
            &conf,
            &dsl,
            &RunOptions {
                data_dir: dir.path().into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(r.status, TaskStatus::Success, "{:?}", r.first_error());
        assert_eq!(r.tasks.len(), 2);
        let guest = r
            .tasks
            .iter()
            .find(|t| t.party.role == fedflow_core::Role::Guest)
            .unwrap();
        assert!((guest.summary["secure_sum"].as_f64().unwrap() - 10_000.0).abs() < 1e-6);
        assert_eq!(guest.metrics[0].name, "secure_sum");
        // Mailboxes are cleaned up.
        assert_eq!(
            std::fs::read_dir(dir.path().join("federation"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn a_missing_peer_fails_the_job_with_the_peer_named() {
        let dir = tempfile::tempdir().unwrap();
        let (conf, dsl) = toy(100);
        let only = Some(vec![Party::new(fedflow_core::Role::Guest, 9999)]);
        let opts = RunOptions {
            data_dir: dir.path().into(),
            only,
            timeout: Some(Duration::from_millis(300)),
            ..Default::default()
        };
        let r = run_job(&conf, &dsl, &opts).unwrap();
        assert_eq!(r.status, TaskStatus::Failed);
        let e = r.first_error().unwrap();
        assert!(
            e.contains("timed out") && e.contains("host_share") && e.contains("host:10000"),
            "{e}"
        );
    }

    #[test]
    fn unknown_module_and_spark_are_refused_before_running() {
        let dir = tempfile::tempdir().unwrap();
        let (conf, _) = toy(10);
        let dsl =
            Dsl::parse(&json!({"components": {"secure_add_example_0": {"module": "HeteroFoo"}}}))
                .unwrap();
        let e = run_job(
            &conf,
            &dsl,
            &RunOptions {
                data_dir: dir.path().into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("components.secure_add_example_0.module: unknown module 'HeteroFoo'"));
    }
}
