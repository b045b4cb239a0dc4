//! Runs a job's tasks: component by component in DAG order; within a
//! component, one task per party, in parallel threads. A failed task tells its
//! peers through the federation ([`fedflow_federation::Federation::abort`]), so they stop waiting,
//! and the job ends `failed` with the first cause.

use crate::computing::open_session;
use crate::conf::{err, ComputingEngine, ConfError, JobConf};
use crate::dsl::{ComponentDef, Dsl};
use crate::models::ModelStore;
use fedflow_components::{
    component, ComponentError, ComponentOutput, Dataset, Inputs, MemoryTracker, Metric, ModelData,
    TaskContext, MODULES,
};
use fedflow_core::Party;
use fedflow_storage::StorageContext;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
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
    /// Also store every task's output data as tables `output_data.<job>_<component>_<role>_<party>_<i>`
    /// (what a server's `task run` always does).
    pub save_outputs: bool,
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
    /// The computing engine's application (Spark: id, UI and master).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_info: Option<String>,
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
    /// FATE's model id (`arbiter-10000#guest-9999#host-10000#model`).
    pub model_id: String,
    /// The model version (the training job's id).
    pub model_version: String,
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
    let parties = conf.parties();
    for c in &dsl.components {
        let Some(imp) = component(&c.module) else {
            return Err(err(
                format!("components.{}.module", c.name),
                format!(
                    "unknown module '{}' (this build has: {})",
                    c.module,
                    MODULES.join(", ")
                ),
            ));
        };
        // A task without its data would fail on one party while the others
        // wait for it: refuse the job instead.
        if imp.needs_data_input() && c.data_inputs.values().all(Vec::is_empty) {
            return Err(err(
                format!("components.{}.input.data", c.name),
                format!(
                    "missing: {} needs a data input (e.g. {{\"data\": [\"reader_0.data\"]}})",
                    c.module
                ),
            ));
        }
        for (p, idx) in &parties {
            let params = conf.component_parameters(&c.name, p.role, *idx);
            fedflow_components::check_params(imp.as_ref(), &c.name, p.role, &params).map_err(
                |e| {
                    err(
                        format!("component_parameters (for {} {})", p.role, p.party_id),
                        e.to_string(),
                    )
                },
            )?;
        }
    }
    // FATE ignores parameters of components the DSL does not have; fedflow
    // refuses them (a misspelt component name would otherwise lose its
    // parameters silently). `fedflow testsuite` drops them from FATE's own
    // example confs, which carry a few, and says so.
    for (cpn, path) in conf.parameter_components() {
        if dsl.get(&cpn).is_none() {
            return Err(err(
                path,
                format!(
                    "no component '{cpn}' in the DSL (it has: {})",
                    dsl.components
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let uses_pipeline = dsl
        .components
        .iter()
        .any(|c| c.model_inputs.iter().any(|m| m.starts_with("pipeline.")));
    for (p, idx) in parties {
        let jp = conf.job_parameters(p.role, idx)?;
        if uses_pipeline
            && (jp.model_id.as_deref().unwrap_or("").is_empty()
                || jp.model_version.as_deref().unwrap_or("").is_empty())
        {
            return Err(err(
                "job_parameters.common.model_id",
                "missing: a DSL with pipeline.* model inputs (a predict job) needs model_id and model_version",
            ));
        }
        jp.computing_engine()?;
    }
    Ok(())
}

/// What one party has produced so far in a job.
#[derive(Default)]
struct PartyState {
    data: HashMap<String, Vec<Dataset>>,
    models: HashMap<String, ModelData>,
}

/// Runs a job (all its parties, or the ones in `options.only`).
pub fn run_job(conf: &JobConf, dsl: &Dsl, options: &RunOptions) -> Result<JobReport, ConfError> {
    validate(conf, dsl)?;
    let job_id = options.job_id.clone().unwrap_or_else(new_job_id);
    fedflow_core::names::check("job_id", &job_id)
        .map_err(|e| crate::conf::err("--job-id", e.to_string()))?;
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
    let storage = StorageContext::open_local(&options.data_dir)
        .map_err(|e| err("(data dir)", format!("{}: {e}", options.data_dir.display())))?;
    let models = ModelStore::new(&options.data_dir);
    let model_id = format!("{}#model", conf.model_id_prefix());
    let started = Instant::now();
    let mut state: BTreeMap<Party, PartyState> = parties
        .iter()
        .map(|(p, _)| (*p, PartyState::default()))
        .collect();
    // Spark: one application per party for the whole job, so that the tables
    // components pass along in memory stay on one engine session.
    let sessions: BTreeMap<Party, SessionCell> = parties
        .iter()
        .map(|(p, _)| (*p, SessionCell::new()))
        .collect();
    let mut tasks = Vec::new();
    let mut failed = false;
    for def in &dsl.components {
        if failed {
            for (party, _) in &parties {
                tasks.push(TaskReport::new(def, *party, TaskStatus::Canceled));
            }
            continue;
        }
        tracing::info!(job = %job_id, component = %def.name, "start component {}", def.module);
        // Inputs are resolved before the tasks start, so a missing one fails cleanly.
        let inputs: Vec<Result<Inputs, String>> = parties
            .iter()
            .map(|(p, idx)| resolve_inputs(conf, dsl, def, *p, *idx, &state[p], &models))
            .collect();
        let results: Vec<(TaskReport, Option<ComponentOutput>)> = std::thread::scope(|s| {
            let handles: Vec<_> = parties
                .iter()
                .zip(inputs)
                .map(|(&(party, idx), inputs)| {
                    let (job_id, storage) = (&job_id, &storage);
                    let cell = &sessions[&party];
                    s.spawn(move || {
                        run_task(
                            conf, job_id, def, party, idx, inputs, storage, options, cell,
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(&parties)
                .map(|(h, (party, _))| {
                    h.join().unwrap_or_else(|_| {
                        let mut r = TaskReport::new(def, *party, TaskStatus::Failed);
                        r.error = Some("task thread panicked".into());
                        (r, None)
                    })
                })
                .collect()
        });
        for (report, output) in results {
            failed |= report.status != TaskStatus::Success;
            if let (Some(out), Some(st)) = (output, state.get_mut(&report.party)) {
                st.data.insert(def.name.clone(), out.data);
                if let Some(m) = out.model {
                    st.models.insert(def.name.clone(), m);
                }
            }
            tasks.push(report);
        }
    }
    let status = if failed {
        TaskStatus::Failed
    } else {
        TaskStatus::Success
    };
    if status == TaskStatus::Success {
        for (party, st) in &state {
            for (cpn, model) in &st.models {
                models
                    .save(&model_id, &job_id, *party, cpn, model)
                    .map_err(|e| err("(model store)", e.to_string()))?;
            }
        }
    }
    Ok(JobReport {
        job_id: job_id.clone(),
        status,
        tasks,
        elapsed_ms: started.elapsed().as_millis(),
        model_id,
        model_version: job_id,
    })
}

impl TaskReport {
    fn new(def: &ComponentDef, party: Party, status: TaskStatus) -> Self {
        TaskReport {
            component: def.name.clone(),
            module: def.module.clone(),
            party,
            status,
            elapsed_ms: 0,
            summary: serde_json::Value::Null,
            metrics: Vec::new(),
            error: None,
            engine_info: None,
        }
    }
}

/// The datasets and models a task gets, from upstream outputs or the model store.
fn resolve_inputs(
    conf: &JobConf,
    dsl: &Dsl,
    def: &ComponentDef,
    party: Party,
    idx: usize,
    st: &PartyState,
    models: &ModelStore,
) -> Result<Inputs, String> {
    let mut inputs = Inputs::default();
    for (slot, refs) in &def.data_inputs {
        let mut sets = Vec::new();
        for r in refs {
            let (up, out) = r
                .split_once('.')
                .ok_or_else(|| format!("input '{r}': expected 'component.output'"))?;
            if up == "args" {
                return Err(format!("input '{r}': v1 'args.*' inputs are not supported; read tables with a Reader component"));
            }
            let produced = st
                .data
                .get(up)
                .ok_or_else(|| format!("input '{r}': component '{up}' has not run for {party}"))?;
            // Outputs are positional, in the order the upstream DSL declares them.
            let pos = dsl
                .get(up)
                .and_then(|d| d.data_outputs.iter().position(|o| o == out))
                .unwrap_or(0);
            if let Some(d) = produced.get(pos).or_else(|| produced.first()) {
                // Consumers such as Evaluation name results by the producing component.
                let mut d = d.clone();
                d.schema
                    .extra
                    .insert("source_component".into(), up.to_string().into());
                sets.push(d);
            }
        }
        if !sets.is_empty() {
            inputs.data.insert(slot.clone(), sets);
        }
    }
    for r in &def.model_inputs {
        if let Some(rest) = r.strip_prefix("pipeline.") {
            let cpn = rest.split('.').next().unwrap_or(rest);
            let jp = conf
                .job_parameters(party.role, idx)
                .map_err(|e| e.to_string())?;
            let (id, ver) = (
                jp.model_id.unwrap_or_default(),
                jp.model_version.unwrap_or_default(),
            );
            match models.load(&id, &ver, party, cpn).map_err(|e| e.to_string())? {
                Some(m) => inputs.models.push(m),
                None if !models.exists(&id, &ver) => {
                    return Err(format!("model {id} version {ver} not found (train it first, or check model_id/model_version)"))
                }
                None => {}
            }
        } else {
            let up = r.split('.').next().unwrap_or(r);
            if let Some(m) = st.models.get(up) {
                inputs.models.push(m.clone());
            }
        }
    }
    Ok(inputs)
}

/// A party's computing session shared by its tasks (Spark), opened once.
type SessionCell = std::sync::OnceLock<Result<crate::computing::OpenedSession, String>>;

#[allow(clippy::too_many_arguments)]
fn run_task(
    conf: &JobConf,
    job_id: &str,
    def: &ComponentDef,
    party: Party,
    idx: usize,
    inputs: Result<Inputs, String>,
    storage: &StorageContext,
    options: &RunOptions,
    cell: &SessionCell,
) -> (TaskReport, Option<ComponentOutput>) {
    let cpn = def.name.as_str();
    let started = Instant::now();
    let tracker = Arc::new(MemoryTracker::default());
    let mut report = TaskReport::new(def, party, TaskStatus::Failed);
    let opened_out = std::sync::Mutex::new(None::<crate::computing::OpenedSession>);
    let result = (|| -> Result<ComponentOutput, String> {
        let jp = conf
            .job_parameters(party.role, idx)
            .map_err(|e| e.to_string())?;
        let timeout = options.timeout.unwrap_or(Duration::from_secs(jp.timeout));
        let session_id = format!("{job_id}_{cpn}_{}_{}", party.role, party.party_id);
        let open = |id: &str| open_session(&jp, id, &options.data_dir, options.memory_budget);
        let opened = if jp.computing_engine().map_err(|e| e.to_string())? == ComputingEngine::Spark
        {
            cell.get_or_init(|| open(&format!("{job_id}_{}_{}", party.role, party.party_id)))
                .clone()?
        } else {
            open(&session_id)?
        };
        let computing = opened.session.clone();
        *opened_out.lock().unwrap_or_else(|e| e.into_inner()) = Some(opened);
        let federation = crate::task::open_federation(
            &jp,
            &options.data_dir.join("federation"),
            &format!("{job_id}_{cpn}"),
            party,
            &conf.roster,
            timeout,
        )?;
        let outcome = (|| {
            let inputs = inputs?;
            let component =
                component(&def.module).ok_or_else(|| format!("unknown module '{}'", def.module))?;
            let ctx = TaskContext {
                job_id: job_id.to_string(),
                component_name: cpn.to_string(),
                local: party,
                roster: conf.roster.clone(),
                params: conf.component_parameters(cpn, party.role, idx),
                computing: computing.clone(),
                federation: federation.clone(),
                tracker: tracker.clone(),
                inputs,
                storage: Some(storage.clone()),
                job_type: jp.job_type.clone(),
            };
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                fedflow_components::run(component.as_ref(), &ctx)
            })) {
                Ok(Ok(out)) => Ok(out),
                Ok(Err(e)) => Err(describe(&e)),
                Err(panic) => Err(format!(
                    "panicked: {}",
                    panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default()
                )),
            }
        })();
        if let Err(e) = &outcome {
            federation.abort(e);
        }
        let _ = federation.cleanup();
        let out = outcome?;
        if options.save_outputs {
            let path_engine = jp.path_storage_engine().map_err(|e| e.to_string())?;
            for (i, d) in out.data.iter().enumerate() {
                let name = crate::task::output_table_name(job_id, cpn, party, i);
                crate::task::save_dataset_to(storage, d, &name, path_engine.as_deref())
                    .map_err(|e| format!("storing output data {name}: {e}"))?;
            }
        }
        Ok(out)
    })();
    report.elapsed_ms = started.elapsed().as_millis();
    report.metrics = tracker.metrics();
    // A lazily started Spark application is known once a table was touched.
    report.engine_info = opened_out
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .and_then(|o| o.engine_info());
    match result {
        Ok(out) => {
            report.status = TaskStatus::Success;
            report.summary = out.summary.clone();
            tracing::info!(job = %job_id, component = %cpn, %party, ms = report.elapsed_ms, "task success");
            (report, Some(out))
        }
        Err(e) => {
            tracing::error!(job = %job_id, component = %cpn, %party, "task failed: {e}");
            report.error = Some(e);
            (report, None)
        }
    }
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
    fn reader_feeds_downstream_and_predict_needs_a_model() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = StorageContext::open_local(dir.path()).unwrap();
        let csv = dir.path().join("t.csv");
        std::fs::write(&csv, "id,y,x0\n1,0,0.5\n2,1,0.25\n").unwrap();
        let up = fedflow_storage::parse_upload_conf(
            &json!({"file": csv.to_str().unwrap(), "table_name": "t", "namespace": "ns", "partition": 2}),
            dir.path(),
        )
        .unwrap();
        ctx.upload(&up).unwrap();
        let conf = JobConf::parse(&json!({
            "dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
            "role": {"guest": [9999], "host": [10000]},
            "component_parameters": {"role": {"guest": {"0": {"reader_0": {"table": {"name": "t", "namespace": "ns"}}}}}}
        }))
        .unwrap();
        let dsl = Dsl::parse(&json!({"components": {"reader_0": {"module": "Reader", "output": {"data": ["data"]}}}})).unwrap();
        let opts = RunOptions {
            data_dir: dir.path().into(),
            ..Default::default()
        };
        let r = run_job(&conf, &dsl, &opts).unwrap();
        assert_eq!(r.status, TaskStatus::Success, "{:?}", r.first_error());
        assert_eq!(r.model_id, "guest-9999#host-10000#model");
        assert_eq!(
            r.tasks
                .iter()
                .find(|t| t.party.role == fedflow_core::Role::Guest)
                .unwrap()
                .summary["count"],
            2
        );

        let missing = JobConf::parse(&json!({
            "dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
            "role": {"guest": [9999], "host": [10000]},
            "component_parameters": {"role": {"guest": {"0": {"reader_0": {"table": {"name": "nope", "namespace": "ns"}}}}}}
        }))
        .unwrap();
        let r = run_job(&missing, &dsl, &opts).unwrap();
        assert_eq!(r.status, TaskStatus::Failed);
        assert!(
            r.first_error().unwrap().contains("ns.nope"),
            "{:?}",
            r.first_error()
        );

        let pdsl = Dsl::parse(&json!({"components": {"reader_0": {"module": "Reader", "input": {"model": ["pipeline.reader_0.model"]}}}})).unwrap();
        let e = run_job(&conf, &pdsl, &opts).unwrap_err().to_string();
        assert!(
            e.starts_with("job_parameters.common.model_id: missing"),
            "{e}"
        );
    }

    #[test]
    fn parameters_of_components_not_in_the_dsl_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let conf = JobConf::parse(&json!({
            "dsl_version": 2,
            "initiator": {"role": "guest", "party_id": 9999},
            "role": {"guest": [9999], "host": [10000]},
            "component_parameters": {"common": {
                "secure_add_example_0": {"partition": 2, "data_num": 100},
                "evaluation_0": {"eval_type": "regression"}}}
        }))
        .unwrap();
        let dsl = Dsl::parse(
            &json!({"components": {"secure_add_example_0": {"module": "SecureAddExample"}}}),
        )
        .unwrap();
        let e = run_job(
            &conf,
            &dsl,
            &RunOptions {
                data_dir: dir.path().into(),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("component_parameters.common.evaluation_0")
                && e.contains("no component 'evaluation_0'"),
            "{e}"
        );
        // Nothing ran: the data dir is untouched.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
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

    /// Jobs that used to succeed wrongly (or abort the process) are refused
    /// before any party starts, with the field named.
    #[test]
    fn validate_refuses_wrong_successes() {
        let dsl = |extra: serde_json::Value| {
            let mut comps = json!({
                "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
                "data_transform_0": {"module": "DataTransform",
                    "input": {"data": {"data": ["reader_0.data"]}},
                    "output": {"data": ["data"], "model": ["model"]}}
            });
            for (k, v) in extra.as_object().unwrap() {
                comps[k] = v.clone();
            }
            Dsl::parse(&json!({ "components": comps })).unwrap()
        };
        let conf = |cp: serde_json::Value| {
            JobConf::parse(&json!({
                "dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
                "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
                "component_parameters": cp
            }))
            .unwrap()
        };
        let lr = json!({"hetero_lr_0": {"module": "HeteroLR",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]}}});
        let sbt = json!({"hetero_secureboost_0": {"module": "HeteroSecureBoost",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]}}});
        let bin = json!({"hetero_feature_binning_0": {"module": "HeteroFeatureBinning",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]}}});
        let check = |cp: serde_json::Value, d: &Dsl, want: &[&str]| {
            let e = validate(&conf(cp), d).unwrap_err().to_string();
            for w in want {
                assert!(e.contains(w), "{e} lacks {w}");
            }
        };
        // Parameters for a component the DSL does not have.
        check(
            json!({"common": {"hetero_lr_1": {"max_iter": 3}}}),
            &dsl(lr.clone()),
            &[
                "component_parameters.common.hetero_lr_1",
                "no component 'hetero_lr_1'",
            ],
        );
        // A component without its data input.
        let no_input =
            dsl(json!({"hetero_lr_0": {"module": "HeteroLR", "output": {"model": ["model"]}}}));
        check(
            json!({}),
            &no_input,
            &["components.hetero_lr_0.input.data", "missing"],
        );
        // max_iter 0 would train nothing and succeed.
        check(
            json!({"common": {"hetero_lr_0": {"max_iter": 0}}}),
            &dsl(lr.clone()),
            &["max_iter"],
        );
        check(
            json!({"common": {"hetero_lr_0": {"encrypt_param": {"method": "rot13"}}}}),
            &dsl(lr.clone()),
            &["encrypt_param.method", "rot13"],
        );
        check(
            json!({"common": {"hetero_secureboost_0": {"objective_param": {"objective": "hinge"}}}}),
            &dsl(sbt.clone()),
            &["objective", "hinge"],
        );
        check(
            json!({"common": {"hetero_secureboost_0": {"bin_num": 1_000_000_000u64}}}),
            &dsl(sbt),
            &["bin_num", "65535"],
        );
        check(
            json!({"common": {"hetero_feature_binning_0": {"bin_num": 1_000_000_000u64}}}),
            &dsl(bin),
            &["bin_num"],
        );
        // An allocation sized by data_num is refused before it aborts.
        let (toy_conf, toy_dsl) = toy(1_000_000_000_000);
        let e = validate(&toy_conf, &toy_dsl).unwrap_err().to_string();
        assert!(e.contains("data_num"), "{e}");
        // The well-formed job passes.
        validate(
            &conf(json!({"common": {"hetero_lr_0": {"max_iter": 2}}})),
            &dsl(lr),
        )
        .unwrap();
    }
}
