//! Executes one task with persisted inputs and outputs: what `fedflow task
//! run` does in the executor process the server starts (as FATE Flow's
//! task_executor). Inputs are read from the stored output tables of upstream
//! tasks of the same party and from the model store; outputs are stored as
//! tables (namespace `output_data`), models in the model store, metrics and the
//! task's state in the job store.

use crate::conf::JobConf;
use crate::dsl::Dsl;
use crate::models::ModelStore;
use crate::store::{now_ms, status, JobStore, MetricRecord, TaskRecord};
use fedflow_components::{
    component, preview_value, ComponentOutput, Dataset, Inputs, Metric, Schema, TaskContext,
    Tracker,
};
use fedflow_computing::Session;
use fedflow_core::Party;
use fedflow_federation::{Federation, Roster};
pub use fedflow_federation::{FederationSettings, SETTINGS_ENV as FEDERATION_SETTINGS_ENV};
use fedflow_storage::meta::{TableMeta, TableOrigin, TableSchema};
use fedflow_storage::{StorageContext, StoreAddress, TableStorage};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Opens a task's federation (used by the executor and by the local runner):
/// the engine is the job's `federation_engine` (STANDALONE by default,
/// RABBITMQ, GRPC); endpoints come from `FEDFLOW_FEDERATION` (the server's
/// `[federation]` section, exported to its executors), the `FEDFLOW_AMQP_URL`,
/// `FEDFLOW_GRPC_ROUTES`, … variables and the job's `rabbitmq_run`; the
/// standalone engine's mailboxes are in `standalone_dir`.
pub fn open_federation(
    jp: &crate::conf::JobParameters,
    standalone_dir: &Path,
    session: &str,
    party: Party,
    roster: &Roster,
    timeout: Duration,
) -> Result<Arc<dyn Federation>, String> {
    let mut settings = FederationSettings::from_env().map_err(|e| e.to_string())?;
    settings.standalone_dir = Some(standalone_dir.to_path_buf());
    if let Some(run) = &jp.rabbitmq_run {
        settings
            .apply_rabbitmq_run(run)
            .map_err(|e| format!("job_parameters.rabbitmq_run: {e}"))?;
    }
    fedflow_federation::open(
        jp.federation_engine.as_deref(),
        &settings,
        session,
        party,
        roster,
        timeout,
    )
    .map_err(|e| e.to_string())
}

/// Namespace of stored component outputs.
pub const OUTPUT_NAMESPACE: &str = "output_data";

/// Where a task runs: the party's data directory and stores.
#[derive(Clone)]
pub struct TaskEnv {
    /// Data directory (spill files, federation mailboxes).
    pub data_dir: PathBuf,
    /// Directory of the standalone federation's mailboxes (shared by the
    /// parties of a job on one machine).
    pub federation_dir: PathBuf,
    /// Table storage and meta.
    pub storage: StorageContext,
    /// Jobs, tasks, metrics.
    pub store: JobStore,
    /// Models.
    pub models: ModelStore,
}

/// Which task.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// Job id.
    pub job_id: String,
    /// Component name.
    pub component: String,
    /// Party.
    pub party: Party,
    /// Task version.
    pub task_version: i64,
}

/// Writes metrics to the job store as the component reports them.
struct StoreTracker {
    store: JobStore,
    spec: TaskSpec,
}

impl Tracker for StoreTracker {
    fn log_metric(&self, m: Metric) {
        let rec = MetricRecord {
            namespace: m.namespace,
            name: m.name,
            metric_type: m.metric_type,
            points: m.points,
        };
        if let Err(e) = self.store.put_metric(
            &self.spec.job_id,
            &self.spec.component,
            self.spec.party,
            &rec,
        ) {
            tracing::warn!("could not record metric {}: {e}", rec.name);
        }
    }
}

/// Name of the stored table holding output `index` of a task.
pub fn output_table_name(job_id: &str, component: &str, party: Party, index: usize) -> String {
    format!(
        "{job_id}_{component}_{}_{}_{index}",
        party.role, party.party_id
    )
}

/// Runs a component inside a panic boundary.
pub fn run_component(module: &str, ctx: &TaskContext) -> Result<ComponentOutput, String> {
    let component = component(module).ok_or_else(|| format!("unknown module '{module}'"))?;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fedflow_components::run(component.as_ref(), ctx)
    })) {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        )),
    }
}

/// Executes a task and records its outcome in the job store. Returns the error
/// message when the task failed.
pub fn execute(env: &TaskEnv, spec: &TaskSpec) -> Result<(), String> {
    let result = execute_inner(env, spec);
    let mut rec = env
        .store
        .task(&spec.job_id, &spec.component, spec.party)
        .ok()
        .flatten()
        .unwrap_or_else(|| TaskRecord {
            job_id: spec.job_id.clone(),
            component: spec.component.clone(),
            task_version: spec.task_version,
            party: spec.party,
            task_id: format!("{}_{}", spec.job_id, spec.component),
            module: String::new(),
            status: status::RUNNING.into(),
            pid: None,
            summary: None,
            error: None,
            create_time: now_ms(),
            start_time: Some(now_ms()),
            end_time: None,
        });
    rec.end_time = Some(now_ms());
    rec.pid = None;
    match &result {
        Ok(summary) => {
            rec.status = status::SUCCESS.into();
            rec.summary = Some(summary.clone());
        }
        Err(e) => {
            // A stop request may already have marked it canceled; keep that.
            if !status::is_terminal(&rec.status) {
                rec.status = status::FAILED.into();
            }
            rec.error = Some(e.clone());
        }
    }
    if let Err(e) = env.store.put_task(&rec) {
        return Err(format!("recording the task's state: {e}"));
    }
    result.map(|_| ())
}

fn execute_inner(env: &TaskEnv, spec: &TaskSpec) -> Result<serde_json::Value, String> {
    let job = env
        .store
        .job(&spec.job_id, spec.party)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("job {} has no row for {}", spec.job_id, spec.party))?;
    let conf = JobConf::parse(&job.runtime_conf).map_err(|e| format!("conf: {e}"))?;
    let dsl = Dsl::parse(&job.dsl).map_err(|e| format!("dsl: {e}"))?;
    let def = dsl
        .get(&spec.component)
        .ok_or_else(|| format!("no component '{}' in the DSL", spec.component))?;
    let idx = conf
        .index_of(spec.party)
        .ok_or_else(|| format!("{} is not a party of the job", spec.party))?;
    let jp = conf
        .job_parameters(spec.party.role, idx)
        .map_err(|e| e.to_string())?;
    let model_id = format!("{}#model", conf.model_id_prefix());

    let session_id = format!(
        "{}_{}_{}_{}",
        spec.job_id, spec.component, spec.party.role, spec.party.party_id
    );
    let opened = crate::computing::open_session(&jp, &session_id, &env.data_dir, None)?;
    let computing: Arc<dyn Session> = opened.session.clone();

    // Inputs: upstream outputs of this party, and models.
    let mut inputs = Inputs::default();
    for (slot, refs) in &def.data_inputs {
        let mut sets = Vec::new();
        for r in refs {
            let (up, out) = r
                .split_once('.')
                .ok_or_else(|| format!("input '{r}': expected 'component.output'"))?;
            let pos = dsl
                .get(up)
                .and_then(|d| d.data_outputs.iter().position(|o| o == out))
                .unwrap_or(0);
            let outputs = env
                .store
                .outputs(&spec.job_id, up, spec.party)
                .map_err(|e| e.to_string())?;
            if let Some((ns, name)) = outputs.get(pos).or_else(|| outputs.first()) {
                let mut d = load_dataset(env, computing.as_ref(), ns, name)?;
                // Consumers such as Evaluation name results by the producing component.
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
        let (id, ver, cpn) = match r.strip_prefix("pipeline.") {
            Some(rest) => (
                jp.model_id.clone().unwrap_or_default(),
                jp.model_version.clone().unwrap_or_default(),
                rest.split('.').next().unwrap_or(rest).to_string(),
            ),
            None => (
                model_id.clone(),
                spec.job_id.clone(),
                r.split('.').next().unwrap_or(r).to_string(),
            ),
        };
        match env
            .models
            .load(&id, &ver, spec.party, &cpn)
            .map_err(|e| e.to_string())?
        {
            Some(m) => inputs.models.push(m),
            None if r.starts_with("pipeline.") && !env.models.exists(&id, &ver) => {
                return Err(format!("model {id} version {ver} not found"));
            }
            None => {}
        }
    }

    let federation = open_federation(
        &jp,
        &env.federation_dir,
        &format!("{}_{}_{}", spec.job_id, spec.component, spec.task_version),
        spec.party,
        &conf.roster,
        Duration::from_secs(jp.timeout),
    )?;
    let ctx = TaskContext {
        job_id: spec.job_id.clone(),
        component_name: spec.component.clone(),
        local: spec.party,
        roster: conf.roster.clone(),
        params: conf.component_parameters(&spec.component, spec.party.role, idx),
        computing: computing.clone(),
        federation: federation.clone(),
        tracker: Arc::new(StoreTracker {
            store: env.store.clone(),
            spec: spec.clone(),
        }),
        inputs,
        storage: Some(env.storage.clone()),
        job_type: jp.job_type.clone(),
    };
    tracing::info!(
        "task {} {} {}: start {}",
        spec.job_id,
        spec.component,
        spec.party,
        def.module
    );
    let outcome = run_component(&def.module, &ctx);
    if let Err(e) = &outcome {
        federation.abort(e);
    }
    let _ = federation.cleanup();
    let out = outcome?;
    let path_engine = jp.path_storage_engine().map_err(|e| e.to_string())?;

    for (i, d) in out.data.iter().enumerate() {
        let name = output_table_name(&spec.job_id, &spec.component, spec.party, i);
        save_dataset(env, d, &name, path_engine.as_deref())?;
        env.store
            .put_output(
                &spec.job_id,
                &spec.component,
                spec.party,
                i,
                OUTPUT_NAMESPACE,
                &name,
            )
            .map_err(|e| e.to_string())?;
    }
    if let Some(m) = &out.model {
        env.models
            .save(&model_id, &spec.job_id, spec.party, &spec.component, m)
            .map_err(|e| e.to_string())?;
    }
    tracing::info!(
        "task {} {} {}: success",
        spec.job_id,
        spec.component,
        spec.party
    );
    // The Spark application shows in `job query` / the task's summary.
    let mut summary = out.summary;
    if let Some(info) = opened.engine_info() {
        if summary.is_null() {
            summary = serde_json::json!({});
        }
        if let Some(obj) = summary.as_object_mut() {
            obj.insert("spark_application".into(), info.into());
        }
    }
    Ok(summary)
}

const SCHEMA_KEY: &str = "fedflow_schema";

fn load_dataset(
    env: &TaskEnv,
    session: &dyn Session,
    ns: &str,
    name: &str,
) -> Result<Dataset, String> {
    let meta = fedflow_storage::require_table(env.storage.meta.as_ref(), ns, name)
        .map_err(|e| e.to_string())?;
    let table = fedflow_components::reader::load_table(session, &env.storage, &meta)
        .map_err(|e| e.to_string())?;
    let schema: Schema = match meta.schema.extra.get(SCHEMA_KEY) {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| format!("table {ns}.{name}: schema: {e}"))?,
        None => Schema::default(),
    };
    Ok(Dataset { table, schema })
}

/// Stores a dataset as a table (replacing one of the same name), in the
/// engine the job's `storage_engine` names.
pub fn save_dataset(
    env: &TaskEnv,
    d: &Dataset,
    name: &str,
    path_engine: Option<&str>,
) -> Result<(), String> {
    save_dataset_to(&env.storage, d, name, path_engine)
}

/// Where and how much a saved output is.
struct Saved {
    address: StoreAddress,
    engine: String,
    store_type: String,
    count: u64,
    partitions: u32,
    part_of_data: Vec<(String, String)>,
}

/// Saves to `<path root>/output_data/<name>`: by the computing engine itself
/// when it writes paths (Spark), else through the path engine.
fn save_to_path(
    s: &StorageContext,
    d: &Dataset,
    name: &str,
    wanted: &str,
) -> Result<Saved, String> {
    let store = s.path_storage().map_err(|e| e.to_string())?;
    let uri = store
        .uri_of(OUTPUT_NAMESPACE, name)
        .map_err(|e| e.to_string())?;
    let engine = fedflow_storage::path_engine(&uri);
    if wanted != "PATH" && engine != wanted {
        return Err(format!(
            "job_parameters.storage_engine is {wanted}, but the path storage root is {} ({engine}): set {} to a root URI of that engine",
            s.path_root,
            fedflow_storage::PATH_ROOT_ENV
        ));
    }
    let err = |e: &dyn std::fmt::Display| format!("saving {uri}: {e}");
    if !d.table.save_path(&uri).map_err(|e| err(&e))? {
        let blocks = d.table.blocks().map_err(|e| err(&e))?;
        store
            .write_table(OUTPUT_NAMESPACE, name, blocks)
            .map_err(|e| err(&e))?;
    }
    let rows = d.table.take(100).map_err(|e| err(&e))?;
    let count = d.table.count().map_err(|e| err(&e))?;
    Ok(Saved {
        address: StoreAddress::Path { uri },
        engine,
        store_type: store.store_type().into(),
        count,
        partitions: d.table.partitions() as u32,
        part_of_data: rows
            .iter()
            .map(|(k, v)| (preview_value(k), preview_value(v)))
            .collect(),
    })
}

/// Stores a dataset as table `output_data.<name>` of `s` (replacing one of
/// the same name): in the local engine, or in the path engine `path_engine`
/// (`LOCALFS`, `HDFS`, …) under `s.path_root`.
pub fn save_dataset_to(
    s: &StorageContext,
    d: &Dataset,
    name: &str,
    path_engine: Option<&str>,
) -> Result<(), String> {
    if s.delete_table(OUTPUT_NAMESPACE, name).is_err() {
        // E.g. an hdfs:// table fedflow cannot delete itself: Spark overwrites it.
        let _ = s.meta.delete_table_meta(OUTPUT_NAMESPACE, name);
    }
    let saved = match path_engine {
        Some(wanted) => save_to_path(s, d, name, wanted)?,
        None => {
            let blocks = d.table.blocks().map_err(|e| e.to_string())?;
            let count: u64 = blocks.iter().map(|b| b.len() as u64).sum();
            let part_of_data: Vec<(String, String)> = blocks
                .iter()
                .flat_map(|b| b.iter())
                .take(100)
                .map(|(k, v)| (preview_value(k), preview_value(v)))
                .collect();
            let partitions = blocks.len() as u32;
            let address = s
                .storage
                .write_table(OUTPUT_NAMESPACE, name, blocks)
                .map_err(|e| e.to_string())?;
            Saved {
                address,
                engine: s.storage.engine().into(),
                store_type: s.storage.store_type().into(),
                count,
                partitions,
                part_of_data,
            }
        }
    };
    let mut extra = serde_json::Map::new();
    extra.insert(
        SCHEMA_KEY.into(),
        serde_json::to_value(&d.schema).map_err(|e| e.to_string())?,
    );
    let now = now_ms();
    let meta = TableMeta {
        name: name.to_string(),
        namespace: OUTPUT_NAMESPACE.to_string(),
        address: saved.address,
        engine: saved.engine,
        store_type: saved.store_type,
        options: serde_json::json!({}),
        partitions: saved.partitions,
        id_delimiter: ",".into(),
        in_serialized: true,
        have_head: true,
        extend_sid: false,
        auto_increasing_sid: false,
        count: saved.count,
        origin: TableOrigin::Output,
        disable: false,
        description: String::new(),
        schema: TableSchema {
            // The columns as a download renders a row: the label (when the
            // rows carry one) before the features.
            header: match &d.schema.label_name {
                Some(l) if !l.is_empty() => std::iter::once(l.as_str())
                    .chain(d.schema.header.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(","),
                _ => d.schema.header.join(","),
            },
            sid: d.schema.sid.clone(),
            extra,
        },
        part_of_data: saved.part_of_data,
        create_time: now,
        update_time: now,
    };
    s.meta.create_table_meta(&meta).map_err(|e| e.to_string())
}
