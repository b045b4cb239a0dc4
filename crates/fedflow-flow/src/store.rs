//! The job store: jobs, tasks, metrics and models of FATE Flow, in the meta
//! database (SQLite by default, MySQL by URL; see `fedflow_storage::db`).
//! Column names follow FATE Flow's (`f_job_id`, `f_status`, …).

use fedflow_core::{Party, Role};
use fedflow_storage::{SqlDb, SqlRow, SqlValue, StorageError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

type Result<T> = std::result::Result<T, StorageError>;

const DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS t_job (
        f_job_id VARCHAR(64) NOT NULL, f_role VARCHAR(16) NOT NULL, f_party_id BIGINT NOT NULL,
        f_initiator_role VARCHAR(16) NOT NULL, f_initiator_party_id BIGINT NOT NULL, f_is_initiator BIGINT NOT NULL,
        f_status VARCHAR(16) NOT NULL, f_job_type VARCHAR(16) NOT NULL,
        f_dsl LONGTEXT NOT NULL, f_runtime_conf LONGTEXT NOT NULL,
        f_model_id VARCHAR(191), f_model_version VARCHAR(64),
        f_progress BIGINT NOT NULL, f_error LONGTEXT, f_description LONGTEXT,
        f_create_time BIGINT NOT NULL, f_start_time BIGINT, f_end_time BIGINT,
        PRIMARY KEY (f_job_id, f_role, f_party_id))",
    "CREATE TABLE IF NOT EXISTS t_task (
        f_job_id VARCHAR(64) NOT NULL, f_component_name VARCHAR(128) NOT NULL, f_task_version BIGINT NOT NULL,
        f_role VARCHAR(16) NOT NULL, f_party_id BIGINT NOT NULL, f_task_id VARCHAR(191) NOT NULL,
        f_module VARCHAR(64) NOT NULL, f_status VARCHAR(16) NOT NULL, f_pid BIGINT,
        f_summary LONGTEXT, f_error LONGTEXT, f_create_time BIGINT NOT NULL, f_start_time BIGINT, f_end_time BIGINT,
        PRIMARY KEY (f_job_id, f_component_name, f_task_version, f_role, f_party_id))",
    "CREATE TABLE IF NOT EXISTS t_metric (
        f_job_id VARCHAR(64) NOT NULL, f_component_name VARCHAR(128) NOT NULL, f_role VARCHAR(16) NOT NULL,
        f_party_id BIGINT NOT NULL, f_namespace VARCHAR(64) NOT NULL, f_name VARCHAR(128) NOT NULL,
        f_type VARCHAR(32) NOT NULL, f_points LONGTEXT NOT NULL, f_meta LONGTEXT,
        PRIMARY KEY (f_job_id, f_component_name, f_role, f_party_id, f_namespace, f_name))",
    "CREATE TABLE IF NOT EXISTS t_output (
        f_job_id VARCHAR(64) NOT NULL, f_component_name VARCHAR(128) NOT NULL, f_role VARCHAR(16) NOT NULL,
        f_party_id BIGINT NOT NULL, f_index BIGINT NOT NULL, f_namespace VARCHAR(191) NOT NULL, f_name VARCHAR(191) NOT NULL,
        PRIMARY KEY (f_job_id, f_component_name, f_role, f_party_id, f_index))",
    "CREATE TABLE IF NOT EXISTS t_model (
        f_model_id VARCHAR(191) NOT NULL, f_model_version VARCHAR(64) NOT NULL, f_role VARCHAR(16) NOT NULL,
        f_party_id BIGINT NOT NULL, f_job_id VARCHAR(64) NOT NULL, f_dsl LONGTEXT NOT NULL, f_runtime_conf LONGTEXT NOT NULL,
        f_deployed BIGINT NOT NULL, f_parent_version VARCHAR(64), f_create_time BIGINT NOT NULL,
        PRIMARY KEY (f_model_id, f_model_version, f_role, f_party_id))",
];

/// FATE's job and task states.
pub mod status {
    /// Created, not started.
    pub const WAITING: &str = "waiting";
    /// Running.
    pub const RUNNING: &str = "running";
    /// Finished.
    pub const SUCCESS: &str = "success";
    /// Failed.
    pub const FAILED: &str = "failed";
    /// Stopped by a user.
    pub const CANCELED: &str = "canceled";
    /// Ran past its timeout.
    pub const TIMEOUT: &str = "timeout";
    /// True for a state a job or task does not leave by itself.
    pub fn is_terminal(s: &str) -> bool {
        matches!(s, SUCCESS | FAILED | CANCELED | TIMEOUT)
    }
}

/// A job as one party sees it (a row of `t_job`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobRecord {
    /// Job id.
    pub job_id: String,
    /// This party.
    pub party: Party,
    /// The initiator.
    pub initiator: Party,
    /// True on the initiator's row.
    pub is_initiator: bool,
    /// State.
    pub status: String,
    /// train / predict.
    pub job_type: String,
    /// The DSL (JSON).
    pub dsl: serde_json::Value,
    /// The runtime conf (JSON).
    pub runtime_conf: serde_json::Value,
    /// Model id.
    pub model_id: Option<String>,
    /// Model version.
    pub model_version: Option<String>,
    /// 0..=100.
    pub progress: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// Milliseconds since the epoch.
    pub create_time: i64,
    /// When it started running.
    pub start_time: Option<i64>,
    /// When it ended.
    pub end_time: Option<i64>,
}

/// A task (component × party × version), a row of `t_task`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskRecord {
    /// Job id.
    pub job_id: String,
    /// Component name.
    pub component: String,
    /// Retries and reruns bump it.
    pub task_version: i64,
    /// The party.
    pub party: Party,
    /// FATE's task id `{job_id}_{component}`.
    pub task_id: String,
    /// Module.
    pub module: String,
    /// State.
    pub status: String,
    /// The executor process, while it runs.
    pub pid: Option<i64>,
    /// The component's summary (JSON).
    pub summary: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// Milliseconds since the epoch.
    pub create_time: i64,
    /// When it started.
    pub start_time: Option<i64>,
    /// When it ended.
    pub end_time: Option<i64>,
}

/// A metric row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricRecord {
    /// Namespace (`train`).
    pub namespace: String,
    /// Name (`loss`).
    pub name: String,
    /// FATE's type (`LOSS`).
    pub metric_type: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

/// A model version a party holds (a row of `t_model`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelRecord {
    /// FATE's model id.
    pub model_id: String,
    /// The training job id.
    pub model_version: String,
    /// The party.
    pub party: Party,
    /// The training job.
    pub job_id: String,
    /// The training DSL.
    pub dsl: serde_json::Value,
    /// The training conf.
    pub runtime_conf: serde_json::Value,
    /// True once `model deploy` made it.
    pub deployed: bool,
    /// For deployed copies: the version it came from.
    pub parent_version: Option<String>,
    /// Milliseconds since the epoch.
    pub create_time: i64,
}

/// The job store.
#[derive(Clone)]
pub struct JobStore {
    db: Arc<dyn SqlDb>,
}

fn json(s: &str, what: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| StorageError::Meta(format!("{what}: bad JSON: {e}")))
}

fn role(s: &str) -> Result<Role> {
    s.parse()
        .map_err(|e: fedflow_core::party::UnknownRole| StorageError::Meta(e.to_string()))
}

const JOB_COLS: &str = "f_job_id, f_role, f_party_id, f_initiator_role, f_initiator_party_id, f_is_initiator, f_status, \
    f_job_type, f_dsl, f_runtime_conf, f_model_id, f_model_version, f_progress, f_error, f_create_time, f_start_time, f_end_time";
const TASK_COLS: &str = "f_job_id, f_component_name, f_task_version, f_role, f_party_id, f_task_id, f_module, f_status, \
    f_pid, f_summary, f_error, f_create_time, f_start_time, f_end_time";

fn job_row(r: &SqlRow) -> Result<JobRecord> {
    Ok(JobRecord {
        job_id: r.text(0)?,
        party: Party::new(role(&r.text(1)?)?, r.i64(2)? as u64),
        initiator: Party::new(role(&r.text(3)?)?, r.i64(4)? as u64),
        is_initiator: r.bool(5)?,
        status: r.text(6)?,
        job_type: r.text(7)?,
        dsl: json(&r.text(8)?, "f_dsl")?,
        runtime_conf: json(&r.text(9)?, "f_runtime_conf")?,
        model_id: r.opt_text(10)?,
        model_version: r.opt_text(11)?,
        progress: r.i64(12)?,
        error: r.opt_text(13)?,
        create_time: r.i64(14)?,
        start_time: r.opt_i64(15)?,
        end_time: r.opt_i64(16)?,
    })
}

fn task_row(r: &SqlRow) -> Result<TaskRecord> {
    Ok(TaskRecord {
        job_id: r.text(0)?,
        component: r.text(1)?,
        task_version: r.i64(2)?,
        party: Party::new(role(&r.text(3)?)?, r.i64(4)? as u64),
        task_id: r.text(5)?,
        module: r.text(6)?,
        status: r.text(7)?,
        pid: r.opt_i64(8)?,
        summary: r.opt_text(9)?.map(|s| json(&s, "f_summary")).transpose()?,
        error: r.opt_text(10)?,
        create_time: r.i64(11)?,
        start_time: r.opt_i64(12)?,
        end_time: r.opt_i64(13)?,
    })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    fedflow_storage::meta::now_ms()
}

impl JobStore {
    /// Opens the store on a database, creating its tables.
    pub fn new(db: Arc<dyn SqlDb>) -> Result<Self> {
        for ddl in DDL {
            db.execute(ddl, &[])?;
        }
        Ok(JobStore { db })
    }

    /// The database.
    pub fn db(&self) -> &Arc<dyn SqlDb> {
        &self.db
    }

    /// Inserts a job row (error if it exists).
    pub fn create_job(&self, j: &JobRecord) -> Result<()> {
        self.db.execute(
            &format!("INSERT INTO t_job ({JOB_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            &[
                j.job_id.as_str().into(),
                j.party.role.as_str().into(),
                j.party.party_id.into(),
                j.initiator.role.as_str().into(),
                j.initiator.party_id.into(),
                j.is_initiator.into(),
                j.status.as_str().into(),
                j.job_type.as_str().into(),
                j.dsl.to_string().into(),
                j.runtime_conf.to_string().into(),
                j.model_id.clone().into(),
                j.model_version.clone().into(),
                j.progress.into(),
                j.error.clone().into(),
                j.create_time.into(),
                j.start_time.into(),
                j.end_time.into(),
            ],
        )?;
        Ok(())
    }

    /// The rows of a job (one per local party), optionally filtered.
    pub fn jobs(
        &self,
        job_id: Option<&str>,
        party: Option<Party>,
        status: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<JobRecord>> {
        let mut sql = format!("SELECT {JOB_COLS} FROM t_job WHERE 1 = 1");
        let mut params: Vec<SqlValue> = Vec::new();
        if let Some(j) = job_id {
            sql.push_str(" AND f_job_id = ?");
            params.push(j.into());
        }
        if let Some(p) = party {
            sql.push_str(" AND f_role = ? AND f_party_id = ?");
            params.push(p.role.as_str().into());
            params.push(p.party_id.into());
        }
        if let Some(s) = status {
            sql.push_str(" AND f_status = ?");
            params.push(s.into());
        }
        sql.push_str(" ORDER BY f_create_time DESC, f_job_id DESC, f_role, f_party_id");
        if let Some(l) = limit {
            sql.push_str(&format!(" LIMIT {l}"));
        }
        self.db.query(&sql, &params)?.iter().map(job_row).collect()
    }

    /// One party's row of a job.
    pub fn job(&self, job_id: &str, party: Party) -> Result<Option<JobRecord>> {
        Ok(self
            .jobs(Some(job_id), Some(party), None, None)?
            .into_iter()
            .next())
    }

    /// Distinct job ids, newest first, with paging.
    pub fn job_ids(&self, offset: usize, limit: usize) -> Result<Vec<String>> {
        let rows = self.db.query(
            &format!("SELECT f_job_id, MAX(f_create_time) AS t FROM t_job GROUP BY f_job_id ORDER BY t DESC, f_job_id DESC LIMIT {limit} OFFSET {offset}"),
            &[],
        )?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// Sets a job's state on every local row; stamps start/end times.
    pub fn set_job_status(
        &self,
        job_id: &str,
        party: Option<Party>,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let now = now_ms();
        let mut sql = String::from(
            "UPDATE t_job SET f_status = ?, f_error = COALESCE(?, f_error), \
             f_start_time = CASE WHEN ? = 'running' AND f_start_time IS NULL THEN ? ELSE f_start_time END, \
             f_end_time = CASE WHEN ? IN ('success', 'failed', 'canceled', 'timeout') THEN ? ELSE f_end_time END, \
             f_progress = CASE WHEN ? = 'success' THEN 100 ELSE f_progress END WHERE f_job_id = ?",
        );
        let mut params: Vec<SqlValue> = vec![
            status.into(),
            error.map(str::to_string).into(),
            status.into(),
            now.into(),
            status.into(),
            now.into(),
            status.into(),
            job_id.into(),
        ];
        if let Some(p) = party {
            sql.push_str(" AND f_role = ? AND f_party_id = ?");
            params.push(p.role.as_str().into());
            params.push(p.party_id.into());
        }
        self.db.execute(&sql, &params)?;
        Ok(())
    }

    /// Sets a job's progress (0..=100).
    pub fn set_job_progress(&self, job_id: &str, progress: i64) -> Result<()> {
        self.db.execute(
            "UPDATE t_job SET f_progress = ? WHERE f_job_id = ?",
            &[progress.into(), job_id.into()],
        )?;
        Ok(())
    }

    /// Records a running task's executor pid.
    pub fn set_task_pid(&self, t: &TaskRecord, pid: i64) -> Result<()> {
        // Only while still running: a fast executor may already have recorded its outcome.
        self.db.execute(
            "UPDATE t_task SET f_pid = ? WHERE f_job_id = ? AND f_component_name = ? \
             AND f_task_version = ? AND f_role = ? AND f_party_id = ? AND f_status = 'running'",
            &[
                pid.into(),
                t.job_id.as_str().into(),
                t.component.as_str().into(),
                t.task_version.into(),
                t.party.role.as_str().into(),
                t.party.party_id.into(),
            ],
        )?;
        Ok(())
    }

    /// Creates or replaces a task row.
    pub fn put_task(&self, t: &TaskRecord) -> Result<()> {
        self.db.execute(
            &format!("REPLACE INTO t_task ({TASK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            &[
                t.job_id.as_str().into(),
                t.component.as_str().into(),
                t.task_version.into(),
                t.party.role.as_str().into(),
                t.party.party_id.into(),
                t.task_id.as_str().into(),
                t.module.as_str().into(),
                t.status.as_str().into(),
                t.pid.into(),
                t.summary.as_ref().map(|s| s.to_string()).into(),
                t.error.clone().into(),
                t.create_time.into(),
                t.start_time.into(),
                t.end_time.into(),
            ],
        )?;
        Ok(())
    }

    /// Tasks of a job (latest versions last), optionally of one component or party.
    pub fn tasks(
        &self,
        job_id: &str,
        component: Option<&str>,
        party: Option<Party>,
    ) -> Result<Vec<TaskRecord>> {
        let mut sql = format!("SELECT {TASK_COLS} FROM t_task WHERE f_job_id = ?");
        let mut params: Vec<SqlValue> = vec![job_id.into()];
        if let Some(c) = component {
            sql.push_str(" AND f_component_name = ?");
            params.push(c.into());
        }
        if let Some(p) = party {
            sql.push_str(" AND f_role = ? AND f_party_id = ?");
            params.push(p.role.as_str().into());
            params.push(p.party_id.into());
        }
        sql.push_str(
            " ORDER BY f_create_time, f_component_name, f_task_version, f_role, f_party_id",
        );
        self.db.query(&sql, &params)?.iter().map(task_row).collect()
    }

    /// The latest version of one task.
    pub fn task(&self, job_id: &str, component: &str, party: Party) -> Result<Option<TaskRecord>> {
        Ok(self
            .tasks(job_id, Some(component), Some(party))?
            .into_iter()
            .max_by_key(|t| t.task_version))
    }

    /// Tasks left `running` or `waiting` (for recovery after a restart).
    pub fn unfinished_tasks(&self) -> Result<Vec<TaskRecord>> {
        let rows = self.db.query(
            &format!("SELECT {TASK_COLS} FROM t_task WHERE f_status IN ('running', 'waiting')"),
            &[],
        )?;
        rows.iter().map(task_row).collect()
    }

    /// Records a metric; points of a metric already recorded under the same
    /// namespace and name are appended to (FATE's tracking accumulates them,
    /// e.g. one loss point per iteration).
    pub fn put_metric(
        &self,
        job_id: &str,
        component: &str,
        party: Party,
        m: &MetricRecord,
    ) -> Result<()> {
        let mut all = self
            .metrics(job_id, component, party)?
            .into_iter()
            .find(|x| x.namespace == m.namespace && x.name == m.name)
            .map(|x| x.points)
            .unwrap_or_default();
        all.extend(m.points.iter().copied());
        let points = serde_json::to_string(&all).map_err(|e| StorageError::Meta(e.to_string()))?;
        self.db.execute(
            "REPLACE INTO t_metric (f_job_id, f_component_name, f_role, f_party_id, f_namespace, f_name, f_type, f_points, f_meta) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                job_id.into(),
                component.into(),
                party.role.as_str().into(),
                party.party_id.into(),
                m.namespace.as_str().into(),
                m.name.as_str().into(),
                m.metric_type.as_str().into(),
                points.into(),
                SqlValue::Null,
            ],
        )?;
        Ok(())
    }

    /// Metrics of a task.
    pub fn metrics(
        &self,
        job_id: &str,
        component: &str,
        party: Party,
    ) -> Result<Vec<MetricRecord>> {
        let rows = self.db.query(
            "SELECT f_namespace, f_name, f_type, f_points FROM t_metric WHERE f_job_id = ? AND f_component_name = ? \
             AND f_role = ? AND f_party_id = ? ORDER BY f_namespace, f_name",
            &[job_id.into(), component.into(), party.role.as_str().into(), party.party_id.into()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(MetricRecord {
                    namespace: r.text(0)?,
                    name: r.text(1)?,
                    metric_type: r.text(2)?,
                    points: serde_json::from_str(&r.text(3)?)
                        .map_err(|e| StorageError::Meta(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Records where a task's output dataset `index` is stored.
    pub fn put_output(
        &self,
        job_id: &str,
        component: &str,
        party: Party,
        index: usize,
        namespace: &str,
        name: &str,
    ) -> Result<()> {
        self.db.execute(
            "REPLACE INTO t_output (f_job_id, f_component_name, f_role, f_party_id, f_index, f_namespace, f_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[job_id.into(), component.into(), party.role.as_str().into(), party.party_id.into(), (index as i64).into(), namespace.into(), name.into()],
        )?;
        Ok(())
    }

    /// A task's stored output datasets, by index: (namespace, name).
    pub fn outputs(
        &self,
        job_id: &str,
        component: &str,
        party: Party,
    ) -> Result<Vec<(String, String)>> {
        let rows = self.db.query(
            "SELECT f_namespace, f_name FROM t_output WHERE f_job_id = ? AND f_component_name = ? AND f_role = ? AND f_party_id = ? ORDER BY f_index",
            &[job_id.into(), component.into(), party.role.as_str().into(), party.party_id.into()],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect()
    }

    /// Records a model version of a party.
    pub fn put_model(&self, m: &ModelRecord) -> Result<()> {
        self.db.execute(
            "REPLACE INTO t_model (f_model_id, f_model_version, f_role, f_party_id, f_job_id, f_dsl, f_runtime_conf, f_deployed, f_parent_version, f_create_time) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                m.model_id.as_str().into(),
                m.model_version.as_str().into(),
                m.party.role.as_str().into(),
                m.party.party_id.into(),
                m.job_id.as_str().into(),
                m.dsl.to_string().into(),
                m.runtime_conf.to_string().into(),
                m.deployed.into(),
                m.parent_version.clone().into(),
                m.create_time.into(),
            ],
        )?;
        Ok(())
    }

    /// Model versions, optionally filtered.
    pub fn models(
        &self,
        model_id: Option<&str>,
        model_version: Option<&str>,
        party: Option<Party>,
    ) -> Result<Vec<ModelRecord>> {
        let mut sql = String::from(
            "SELECT f_model_id, f_model_version, f_role, f_party_id, f_job_id, f_dsl, f_runtime_conf, f_deployed, f_parent_version, f_create_time FROM t_model WHERE 1 = 1",
        );
        let mut params: Vec<SqlValue> = Vec::new();
        if let Some(m) = model_id {
            sql.push_str(" AND f_model_id = ?");
            params.push(m.into());
        }
        if let Some(v) = model_version {
            sql.push_str(" AND f_model_version = ?");
            params.push(v.into());
        }
        if let Some(p) = party {
            sql.push_str(" AND f_role = ? AND f_party_id = ?");
            params.push(p.role.as_str().into());
            params.push(p.party_id.into());
        }
        sql.push_str(" ORDER BY f_create_time DESC");
        self.db
            .query(&sql, &params)?
            .iter()
            .map(|r| {
                Ok(ModelRecord {
                    model_id: r.text(0)?,
                    model_version: r.text(1)?,
                    party: Party::new(role(&r.text(2)?)?, r.i64(3)? as u64),
                    job_id: r.text(4)?,
                    dsl: json(&r.text(5)?, "f_dsl")?,
                    runtime_conf: json(&r.text(6)?, "f_runtime_conf")?,
                    deployed: r.bool(7)?,
                    parent_version: r.opt_text(8)?,
                    create_time: r.i64(9)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, party: Party) -> JobRecord {
        JobRecord {
            job_id: id.into(),
            party,
            initiator: Party::new(Role::Guest, 9999),
            is_initiator: party.role == Role::Guest,
            status: status::WAITING.into(),
            job_type: "train".into(),
            dsl: serde_json::json!({"components": {}}),
            runtime_conf: serde_json::json!({"dsl_version": 2}),
            model_id: Some("guest-9999#host-10000#model".into()),
            model_version: Some(id.into()),
            progress: 0,
            error: None,
            create_time: now_ms(),
            start_time: None,
            end_time: None,
        }
    }

    #[test]
    fn jobs_tasks_metrics_models_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let db = fedflow_storage::open_db(dir.path().join("m.sqlite").to_str().unwrap()).unwrap();
        let s = JobStore::new(db).unwrap();
        let g = Party::new(Role::Guest, 9999);
        let h = Party::new(Role::Host, 10000);
        s.create_job(&job("j1", g)).unwrap();
        s.create_job(&job("j1", h)).unwrap();
        assert!(s.create_job(&job("j1", h)).unwrap_err().is_duplicate());
        s.set_job_status("j1", None, status::RUNNING, None).unwrap();
        s.set_job_status("j1", Some(h), status::FAILED, Some("boom"))
            .unwrap();
        let gj = s.job("j1", g).unwrap().unwrap();
        assert_eq!(gj.status, "running");
        assert!(gj.start_time.is_some() && gj.end_time.is_none());
        let hj = s.job("j1", h).unwrap().unwrap();
        assert_eq!(
            (hj.status.as_str(), hj.error.as_deref()),
            ("failed", Some("boom"))
        );
        assert!(hj.end_time.is_some());
        assert_eq!(s.job_ids(0, 10).unwrap(), vec!["j1".to_string()]);

        let mut t = TaskRecord {
            job_id: "j1".into(),
            component: "c".into(),
            task_version: 0,
            party: g,
            task_id: "j1_c".into(),
            module: "SecureAddExample".into(),
            status: status::RUNNING.into(),
            pid: Some(42),
            summary: None,
            error: None,
            create_time: now_ms(),
            start_time: Some(now_ms()),
            end_time: None,
        };
        s.put_task(&t).unwrap();
        assert_eq!(s.unfinished_tasks().unwrap().len(), 1);
        t.status = status::SUCCESS.into();
        t.summary = Some(serde_json::json!({"x": 1}));
        s.put_task(&t).unwrap();
        assert_eq!(
            s.task("j1", "c", g).unwrap().unwrap().summary.unwrap()["x"],
            1
        );
        assert!(s.unfinished_tasks().unwrap().is_empty());

        let m = MetricRecord {
            namespace: "train".into(),
            name: "loss".into(),
            metric_type: "LOSS".into(),
            points: vec![(0.0, 0.7), (1.0, 0.5)],
        };
        s.put_metric("j1", "c", g, &m).unwrap();
        assert_eq!(s.metrics("j1", "c", g).unwrap(), vec![m.clone()]);
        let more = MetricRecord {
            points: vec![(2.0, 0.4)],
            ..m.clone()
        };
        s.put_metric("j1", "c", g, &more).unwrap();
        assert_eq!(
            s.metrics("j1", "c", g).unwrap()[0].points,
            vec![(0.0, 0.7), (1.0, 0.5), (2.0, 0.4)]
        );
        s.put_output("j1", "c", g, 0, "output_data", "t0").unwrap();
        assert_eq!(
            s.outputs("j1", "c", g).unwrap(),
            vec![("output_data".to_string(), "t0".to_string())]
        );
        let mr = ModelRecord {
            model_id: "mid".into(),
            model_version: "j1".into(),
            party: g,
            job_id: "j1".into(),
            dsl: serde_json::json!({}),
            runtime_conf: serde_json::json!({}),
            deployed: false,
            parent_version: None,
            create_time: now_ms(),
        };
        s.put_model(&mr).unwrap();
        assert_eq!(s.models(Some("mid"), None, None).unwrap(), vec![mr]);
    }
}
