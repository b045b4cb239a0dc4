//! The party side of the control plane: what a party's server does when the
//! initiator asks (create a job, start / collect / stop a task, set a job's
//! state). Each task runs as an executor process, `fedflow task run`, whose
//! output goes to the task's log file.

use crate::state::App;
use fedflow_core::Party;
use fedflow_flow::store::{now_ms, status, JobRecord, TaskRecord};
use serde::{Deserialize, Serialize};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// What the initiator sends to create a job on a party.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateJob {
    /// Job id.
    pub job_id: String,
    /// The party.
    pub party: Party,
    /// The initiator.
    pub initiator: Party,
    /// DSL.
    pub dsl: serde_json::Value,
    /// Runtime conf.
    pub runtime_conf: serde_json::Value,
    /// train / predict.
    pub job_type: String,
    /// Model id.
    pub model_id: String,
    /// Model version.
    pub model_version: String,
}

/// A task's address.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskAddr {
    /// Job id.
    pub job_id: String,
    /// Component.
    pub component: String,
    /// Version.
    pub task_version: i64,
    /// Party.
    pub party: Party,
}

/// An executor slot given back on drop unless its second field is false.
struct Slot<'a>(&'a App, bool);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if self.1 {
            self.0.release_executors(1);
        }
    }
}

fn fail(msg: impl Into<String>) -> String {
    msg.into()
}

impl App {
    /// Creates (or, on rerun, keeps) the party's row of a job.
    pub fn party_create_job(&self, req: &CreateJob) -> Result<(), String> {
        if !self.config.hosts(req.party.party_id) {
            return Err(fail(format!(
                "party {} is not hosted by this server",
                req.party.party_id
            )));
        }
        if self
            .store
            .job(&req.job_id, req.party)
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Ok(());
        }
        self.store
            .create_job(&JobRecord {
                job_id: req.job_id.clone(),
                party: req.party,
                initiator: req.initiator,
                is_initiator: req.party == req.initiator,
                status: status::WAITING.into(),
                job_type: req.job_type.clone(),
                dsl: req.dsl.clone(),
                runtime_conf: req.runtime_conf.clone(),
                model_id: Some(req.model_id.clone()),
                model_version: Some(req.model_version.clone()),
                progress: 0,
                error: None,
                create_time: now_ms(),
                start_time: None,
                end_time: None,
            })
            .map_err(|e| e.to_string())
    }

    /// Starts a task's executor process at a remote initiator's request: it
    /// takes an executor slot whatever the cap (the initiator, not this
    /// server, schedules it), so it counts against this server's own jobs.
    pub fn party_start_task(self: &Arc<Self>, t: &TaskAddr, module: &str) -> Result<(), String> {
        self.take_executor_unchecked();
        self.party_start_task_in_slot(t, module)
    }

    /// Starts a task's executor process in an executor slot the caller took
    /// ([`App::try_take_executors`]); the slot is given back when the
    /// executor ends, or at once if it cannot start.
    pub(crate) fn party_start_task_in_slot(
        self: &Arc<Self>,
        t: &TaskAddr,
        module: &str,
    ) -> Result<(), String> {
        let slot = Slot(self, true);
        let r = self.spawn_executor(t, module);
        // Once spawned, the reaper thread gives the slot back.
        let mut slot = slot;
        slot.1 = !matches!(r, Ok(()) | Err((true, _)));
        drop(slot);
        r.map_err(|(_, e)| e)
    }

    /// Spawns the executor; the error says whether the process was started
    /// (its reaper then owns the slot).
    fn spawn_executor(self: &Arc<Self>, t: &TaskAddr, module: &str) -> Result<(), (bool, String)> {
        let early = |e: String| (false, e);
        let log_dir = self
            .task_log_dir(
                &t.job_id,
                t.party.role.as_str(),
                t.party.party_id,
                &t.component,
            )
            .map_err(|e| early(e.to_string()))?;
        std::fs::create_dir_all(&log_dir)
            .map_err(|e| early(format!("log dir {}: {e}", log_dir.display())))?;
        let log_path = log_dir.join("INFO.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| early(format!("{}: {e}", log_path.display())))?;
        let err_log = log.try_clone().map_err(|e| early(e.to_string()))?;
        let mut rec = TaskRecord {
            job_id: t.job_id.clone(),
            component: t.component.clone(),
            task_version: t.task_version,
            party: t.party,
            task_id: format!("{}_{}", t.job_id, t.component),
            module: module.to_string(),
            status: status::RUNNING.into(),
            pid: None,
            summary: None,
            error: None,
            create_time: now_ms(),
            start_time: Some(now_ms()),
            end_time: None,
        };
        self.store
            .put_task(&rec)
            .map_err(|e| early(e.to_string()))?;
        let child = Command::new(&self.executor)
            .arg("--data-dir")
            .arg(&self.config.data_dir)
            .args([
                "--log",
                "info",
                "task",
                "run",
                "--job-id",
                &t.job_id,
                "--component",
                &t.component,
            ])
            .args([
                "--role",
                t.party.role.as_str(),
                "--party-id",
                &t.party.party_id.to_string(),
            ])
            .args([
                "--task-version",
                &t.task_version.to_string(),
                "--meta-url",
                &self.config.meta_url(),
            ])
            .arg("--federation-dir")
            .arg(self.config.federation_dir())
            .arg("--watch-parent")
            .arg(std::process::id().to_string())
            .env("NO_COLOR", "1")
            .env(
                fedflow_flow::task::FEDERATION_SETTINGS_ENV,
                serde_json::to_string(&self.config.executor_federation()).unwrap_or_default(),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                rec.status = status::FAILED.into();
                rec.error = Some(format!(
                    "cannot start the executor {}: {e}",
                    self.executor.display()
                ));
                let _ = self.store.put_task(&rec);
                return Err(early(rec.error.unwrap_or_default()));
            }
        };
        // Not put_task: that could overwrite the outcome of an executor that already ended.
        let pid_recorded = self
            .store
            .set_task_pid(&rec, child.id() as i64)
            .map_err(|e| (true, e.to_string()));
        let key = (
            t.job_id.clone(),
            t.component.clone(),
            t.task_version,
            t.party.role.to_string(),
            t.party.party_id,
        );
        self.children.lock().insert(key.clone(), child);
        // Reap the process; if it died without recording an outcome, record one.
        let app = self.clone();
        let t = t.clone();
        std::thread::spawn(move || loop {
            let done = {
                let mut children = app.children.lock();
                match children.get_mut(&key).map(|c| c.try_wait()) {
                    Some(Ok(Some(code))) => {
                        children.remove(&key);
                        Some(Some(code))
                    }
                    Some(Ok(None)) => None,
                    Some(Err(_)) | None => Some(None),
                }
            };
            if let Some(code) = done {
                app.release_executors(1);
                if let Ok(Some(mut r)) = app.store.task(&t.job_id, &t.component, t.party) {
                    if r.task_version == t.task_version && !status::is_terminal(&r.status) {
                        r.status = status::FAILED.into();
                        r.error = Some(match code {
                            Some(c) => {
                                format!("the executor exited ({c}) without recording an outcome")
                            }
                            None => "the executor process was lost".into(),
                        });
                        r.end_time = Some(now_ms());
                        r.pid = None;
                        let _ = app.store.put_task(&r);
                    }
                }
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        });
        pid_recorded
    }

    /// A task's current record.
    pub fn party_collect(&self, t: &TaskAddr) -> Result<TaskRecord, String> {
        let rec = self
            .store
            .task(&t.job_id, &t.component, t.party)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no task {} {} for {}", t.job_id, t.component, t.party))?;
        Ok(rec)
    }

    /// Stops a task (kills its executor) and records `end_status`.
    pub fn party_stop_task(&self, t: &TaskAddr, end_status: &str) -> Result<(), String> {
        let key = (
            t.job_id.clone(),
            t.component.clone(),
            t.task_version,
            t.party.role.to_string(),
            t.party.party_id,
        );
        if let Some(mut child) = self.children.lock().remove(&key) {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(mut r) = self
            .store
            .task(&t.job_id, &t.component, t.party)
            .map_err(|e| e.to_string())?
        {
            if !status::is_terminal(&r.status) {
                r.status = end_status.to_string();
                r.end_time = Some(now_ms());
                r.pid = None;
                self.store.put_task(&r).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Sets the party's job state.
    pub fn party_job_status(
        &self,
        job_id: &str,
        party: Party,
        st: &str,
        error: Option<&str>,
    ) -> Result<(), String> {
        self.store
            .set_job_status(job_id, Some(party), st, error)
            .map_err(|e| e.to_string())?;
        if status::is_terminal(st) && st != status::SUCCESS {
            // A job that failed (or was stopped) here leaves no executor
            // behind, whether or not the initiator's stop of each task reached
            // this party. (After a success every task has recorded its
            // outcome; its executor ends on its own.)
            let left: Vec<TaskAddr> = self
                .children
                .lock()
                .keys()
                .filter(|k| k.0 == job_id && k.3 == party.role.as_str() && k.4 == party.party_id)
                .map(|k| TaskAddr {
                    job_id: k.0.clone(),
                    component: k.1.clone(),
                    task_version: k.2,
                    party,
                })
                .collect();
            for t in &left {
                tracing::warn!(
                    "job {job_id} is {st} on {party}: stopping its task {}",
                    t.component
                );
                self.party_stop_task(t, status::CANCELED)?;
            }
        }
        if status::is_terminal(st) && !self.config.party_ids.is_empty() {
            // Messages for the job's tasks that nobody will read any more.
            fedflow_federation::standalone::remove_job_sessions(
                &self.config.federation_dir(),
                job_id,
            );
        }
        Ok(())
    }
}
