//! The initiator's scheduler: drives a job's DAG across the parties' servers.
//!
//! For each component whose upstream components succeeded (up to
//! `task_parallelism` at once) it asks every party's server to start the task,
//! polls their states, stops the others when one fails, retries
//! (`auto_retries`), enforces the job's `timeout`, honours `job stop`, and
//! finally tells every party the job's end state. Parties hosted by this
//! server are called directly; the others over HTTP through the route table.

use crate::party::{CreateJob, TaskAddr};
use crate::state::App;
use fedflow_core::Party;
use fedflow_flow::store::{status, TaskRecord};
use fedflow_flow::{Dsl, JobConf};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the initiator reaches a party's server.
pub trait PartyClient: Send + Sync {
    /// Creates the job on the party.
    fn create_job(&self, req: &CreateJob) -> Result<(), String>;
    /// Starts a task.
    fn start_task(&self, t: &TaskAddr, module: &str) -> Result<(), String>;
    /// A task's state.
    fn collect(&self, t: &TaskAddr) -> Result<TaskRecord, String>;
    /// Stops a task.
    fn stop_task(&self, t: &TaskAddr, status: &str) -> Result<(), String>;
    /// Sets the party's job state.
    fn job_status(
        &self,
        job_id: &str,
        party: Party,
        status: &str,
        error: Option<&str>,
    ) -> Result<(), String>;
    /// True when the party's tasks run on this server (they take its executor slots).
    fn is_local(&self) -> bool {
        false
    }
}

struct Local(Arc<App>);

impl PartyClient for Local {
    fn create_job(&self, req: &CreateJob) -> Result<(), String> {
        self.0.party_create_job(req)
    }
    fn start_task(&self, t: &TaskAddr, module: &str) -> Result<(), String> {
        // The scheduler took the slot (`start_component`).
        self.0.party_start_task_in_slot(t, module)
    }
    fn is_local(&self) -> bool {
        true
    }
    fn collect(&self, t: &TaskAddr) -> Result<TaskRecord, String> {
        self.0.party_collect(t)
    }
    fn stop_task(&self, t: &TaskAddr, status: &str) -> Result<(), String> {
        self.0.party_stop_task(t, status)
    }
    fn job_status(
        &self,
        job_id: &str,
        party: Party,
        status: &str,
        error: Option<&str>,
    ) -> Result<(), String> {
        self.0.party_job_status(job_id, party, status, error)
    }
}

/// A party's server reached over HTTP (FATE Flow's federated scheduling calls).
pub struct Http {
    base: String,
    agent: ureq::Agent,
    /// app_key / secret_key: calls are signed as fate-client signs them.
    keys: Option<(String, String)>,
}

impl Http {
    /// A client for the server at `base` (`http://host:port`).
    pub fn new(base: &str) -> Self {
        Self::build(base, None)
    }

    /// A client for `https://…` presenting a certificate ([`crate::tls`]).
    pub fn build(base: &str, tls: Option<Arc<crate::tls::Connector>>) -> Self {
        let mut b = ureq::AgentBuilder::new().timeout(Duration::from_secs(30));
        if let Some(t) = tls {
            b = b.tls_connector(t);
        }
        Http {
            base: base.trim_end_matches('/').to_string(),
            agent: b.build(),
            keys: None,
        }
    }

    /// Signs every call with the federation's shared key pair (the peer's
    /// middleware checks `/v1/party/*` signatures when it has keys).
    pub fn signed(mut self, keys: Option<(&str, &str)>) -> Self {
        self.keys = keys.map(|(k, s)| (k.to_string(), s.to_string()));
        self
    }

    fn post<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> Result<T, String> {
        let url = format!("{}/v1/party/{path}", self.base);
        let mut delay = Duration::from_millis(100);
        let mut last = String::new();
        // FATE retries each call 3 times with exponential backoff.
        for attempt in 0..3 {
            if attempt > 0 {
                std::thread::sleep(delay);
                delay *= 2;
            }
            let text = body.to_string();
            let mut req = self
                .agent
                .post(&url)
                .set("Content-Type", "application/json");
            if let Some((key, secret)) = &self.keys {
                // A fresh timestamp and nonce per attempt: a retry is not a replay.
                let path_url = format!("/v1/party/{path}");
                for (h, v) in crate::api::auth::sign_headers(
                    key,
                    secret,
                    &path_url,
                    crate::api::auth::Body::Json(text.as_bytes()),
                ) {
                    req = req.set(h, &v);
                }
            }
            match req.send_string(&text) {
                Ok(resp) => {
                    let v: serde_json::Value = resp
                        .into_json()
                        .map_err(|e| format!("{url}: bad reply: {e}"))?;
                    if v["retcode"].as_i64() != Some(0) {
                        return Err(format!(
                            "{url}: {}",
                            v["retmsg"].as_str().unwrap_or("error")
                        ));
                    }
                    return serde_json::from_value(v["data"].clone())
                        .map_err(|e| format!("{url}: bad reply data: {e}"));
                }
                Err(ureq::Error::Status(code, resp)) => {
                    let text = resp.into_string().unwrap_or_default();
                    return Err(format!("{url}: HTTP {code}: {text}"));
                }
                Err(e) => last = format!("{url}: {e}"),
            }
        }
        Err(format!("unreachable after 3 attempts: {last}"))
    }
}

fn task_path(t: &TaskAddr) -> String {
    format!(
        "{}/{}/{}/{}/{}",
        t.job_id, t.component, t.task_version, t.party.role, t.party.party_id
    )
}

impl PartyClient for Http {
    fn create_job(&self, req: &CreateJob) -> Result<(), String> {
        let body = serde_json::to_value(req).map_err(|e| e.to_string())?;
        self.post::<serde_json::Value>(
            &format!(
                "{}/{}/{}/create",
                req.job_id, req.party.role, req.party.party_id
            ),
            &body,
        )
        .map(|_| ())
    }
    fn start_task(&self, t: &TaskAddr, module: &str) -> Result<(), String> {
        self.post::<serde_json::Value>(
            &format!("{}/start", task_path(t)),
            &serde_json::json!({"module": module}),
        )
        .map(|_| ())
    }
    fn collect(&self, t: &TaskAddr) -> Result<TaskRecord, String> {
        self.post(&format!("{}/collect", task_path(t)), &serde_json::json!({}))
    }
    fn stop_task(&self, t: &TaskAddr, status: &str) -> Result<(), String> {
        self.post::<serde_json::Value>(
            &format!("{}/stop/{status}", task_path(t)),
            &serde_json::json!({}),
        )
        .map(|_| ())
    }
    fn job_status(
        &self,
        job_id: &str,
        party: Party,
        status: &str,
        error: Option<&str>,
    ) -> Result<(), String> {
        self.post::<serde_json::Value>(
            &format!("{job_id}/{}/{}/status/{status}", party.role, party.party_id),
            &serde_json::json!({"error": error}),
        )
        .map(|_| ())
    }
}

/// The client for a party: this server if it hosts it, else its route.
pub fn client(app: &Arc<App>, party_id: u64) -> Result<Box<dyn PartyClient>, String> {
    if app.config.hosts(party_id) {
        return Ok(Box::new(Local(app.clone())));
    }
    match app.config.route.get(&party_id.to_string()) {
        Some(url) if url.starts_with("https://") => {
            let tls = app.config.tls.as_ref().ok_or_else(|| {
                format!(
                    "route to party {party_id} is https but the server config has no [tls] section"
                )
            })?;
            let me = app.config.party_ids.first().copied().unwrap_or(0);
            let c = tls
                .connector(me, party_id)
                .map_err(|e| format!("route to party {party_id}: {e}"))?;
            Ok(Box::new(
                Http::build(url, Some(c)).signed(app.config.keys()),
            ))
        }
        Some(url) => Ok(Box::new(Http::new(url).signed(app.config.keys()))),
        None => Err(format!(
            "no route to party {party_id}: add it under [route] in the server config"
        )),
    }
}

/// What `job/submit` returns.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// Job id.
    pub job_id: String,
    /// Model id.
    pub model_id: String,
    /// Model version.
    pub model_version: String,
}

/// Validates a job, creates it on every party and starts its scheduler.
pub fn submit(
    app: &Arc<App>,
    dsl: serde_json::Value,
    conf_v: serde_json::Value,
) -> Result<Submitted, String> {
    let conf = JobConf::parse(&conf_v).map_err(|e| format!("job_runtime_conf: {e}"))?;
    let parsed = Dsl::parse(&dsl).map_err(|e| format!("job_dsl: {e}"))?;
    fedflow_flow::runner::validate(&conf, &parsed).map_err(|e| e.to_string())?;
    if !app.config.hosts(conf.initiator.party_id) {
        return Err(format!(
            "initiator party {} is not hosted by this server (submit the job to its server)",
            conf.initiator.party_id
        ));
    }
    let idx = conf.index_of(conf.initiator).unwrap_or(0);
    let jp = conf
        .job_parameters(conf.initiator.role, idx)
        .map_err(|e| e.to_string())?;
    let job_id = fedflow_flow::new_job_id();
    let (model_id, model_version) = if jp.job_type == "predict" {
        (
            jp.model_id.clone().unwrap_or_default(),
            jp.model_version.clone().unwrap_or_default(),
        )
    } else {
        (format!("{}#model", conf.model_id_prefix()), job_id.clone())
    };
    for (party, _) in conf.parties() {
        let req = CreateJob {
            job_id: job_id.clone(),
            party,
            initiator: conf.initiator,
            dsl: dsl.clone(),
            runtime_conf: conf_v.clone(),
            job_type: jp.job_type.clone(),
            model_id: model_id.clone(),
            model_version: model_version.clone(),
        };
        client(app, party.party_id)?
            .create_job(&req)
            .map_err(|e| format!("creating the job on {party}: {e}"))?;
    }
    start_driver(app, &job_id);
    Ok(Submitted {
        job_id,
        model_id,
        model_version,
    })
}

/// Starts (or restarts, for rerun) the scheduler thread of a job.
pub fn start_driver(app: &Arc<App>, job_id: &str) {
    if !app.scheduling.lock().insert(job_id.to_string()) {
        return;
    }
    let app = app.clone();
    let job_id = job_id.to_string();
    std::thread::Builder::new()
        .name(format!("job-{job_id}"))
        .spawn(move || {
            let result = drive(&app, &job_id);
            if let Err(e) = result {
                tracing::error!("job {job_id}: scheduler: {e}");
            }
            app.scheduling.lock().remove(&job_id);
            app.stopping.lock().remove(&job_id);
        })
        .ok();
}

struct Running {
    version: i64,
    retries_left: u32,
}

fn drive(app: &Arc<App>, job_id: &str) -> Result<(), String> {
    let init_row = app
        .store
        .jobs(Some(job_id), None, None, None)
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|j| j.is_initiator)
        .ok_or_else(|| format!("job {job_id} has no initiator row here"))?;
    let conf = JobConf::parse(&init_row.runtime_conf).map_err(|e| e.to_string())?;
    let dsl = Dsl::parse(&init_row.dsl).map_err(|e| e.to_string())?;
    let idx = conf.index_of(conf.initiator).unwrap_or(0);
    let jp = conf
        .job_parameters(conf.initiator.role, idx)
        .map_err(|e| e.to_string())?;
    let parties: Vec<Party> = conf.parties().into_iter().map(|(p, _)| p).collect();
    let clients: Vec<(Party, Box<dyn PartyClient>)> = parties
        .iter()
        .map(|p| Ok((*p, client(app, p.party_id)?)))
        .collect::<Result<_, String>>()?;
    let timeout = Duration::from_secs(jp.timeout);
    let parallelism = jp.task_parallelism.max(1) as usize;
    let heartbeat = Duration::from_secs(app.config.heartbeat_timeout);
    // The job stays `waiting` until its first tasks get executor slots; its
    // timeout counts from then.
    let mut started: Option<Instant> = None;
    let local_tasks = clients.iter().filter(|(_, c)| c.is_local()).count();

    // The initiator's row is set last: once it reads as ended, every party's has.
    let finish = |st: &str, error: Option<&str>| {
        let others = clients.iter().filter(|(p, _)| *p != conf.initiator);
        let init = clients.iter().filter(|(p, _)| *p == conf.initiator);
        for (p, c) in others.chain(init) {
            if let Err(e) = c.job_status(job_id, *p, st, error) {
                tracing::warn!("job {job_id}: telling {p} it ended {st}: {e}");
            }
        }
        tracing::info!(
            "job {job_id}: {st}{}",
            error.map(|e| format!(": {e}")).unwrap_or_default()
        );
    };
    let mark_running = || -> Result<(), String> {
        for (p, c) in &clients {
            c.job_status(job_id, *p, status::RUNNING, None)
                .map_err(|e| format!("{p}: {e}"))?;
        }
        Ok(())
    };
    // Starts a component's task on every party in the slots taken for the
    // local ones; on a failure the slots not used are given back.
    let start_component = |cpn: &str, module: &str, version: i64| -> Result<(), String> {
        let mut local_left = local_tasks;
        for (p, c) in &clients {
            let t = TaskAddr {
                job_id: job_id.into(),
                component: cpn.to_string(),
                task_version: version,
                party: *p,
            };
            if c.is_local() {
                local_left -= 1;
            }
            if let Err(e) = c.start_task(&t, module) {
                app.release_executors(local_left);
                return Err(format!("{cpn} on {p}: {e}"));
            }
        }
        Ok(())
    };

    // Components already successful on every party (a rerun) are kept.
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut versions: HashMap<String, i64> = HashMap::new();
    for def in &dsl.components {
        let tasks = app
            .store
            .tasks(job_id, Some(&def.name), None)
            .map_err(|e| e.to_string())?;
        if let Some(v) = tasks.iter().map(|t| t.task_version).max() {
            versions.insert(def.name.clone(), v);
        }
        let all_ok = parties.iter().all(|p| {
            clients
                .iter()
                .find(|(q, _)| q == p)
                .and_then(|(_, c)| {
                    c.collect(&TaskAddr {
                        job_id: job_id.into(),
                        component: def.name.clone(),
                        task_version: 0,
                        party: *p,
                    })
                    .ok()
                })
                .is_some_and(|t| t.status == status::SUCCESS)
        });
        if all_ok {
            done.insert(def.name.clone());
        }
    }
    let total = dsl.components.len().max(1);
    let mut running: BTreeMap<String, Running> = BTreeMap::new();
    let mut last_seen: HashMap<Party, Instant> =
        parties.iter().map(|p| (*p, Instant::now())).collect();
    let mut sleep = Duration::from_millis(10);

    let stop_running = |running: &BTreeMap<String, Running>, st: &str| {
        for (cpn, r) in running {
            for (p, c) in &clients {
                let t = TaskAddr {
                    job_id: job_id.into(),
                    component: cpn.clone(),
                    task_version: r.version,
                    party: *p,
                };
                let _ = c.stop_task(&t, st);
            }
        }
    };

    loop {
        if let Some(st) = app.stopping.lock().get(job_id).cloned() {
            stop_running(&running, &st);
            finish(&st, Some("stopped by a user"));
            return Ok(());
        }
        if started.is_some_and(|s| s.elapsed() > timeout) {
            stop_running(&running, status::TIMEOUT);
            finish(
                status::TIMEOUT,
                Some(&format!(
                    "the job ran past its timeout of {} s",
                    timeout.as_secs()
                )),
            );
            return Ok(());
        }
        if done.len() == dsl.components.len() {
            finish(status::SUCCESS, None);
            return Ok(());
        }
        // Start ready components.
        for def in &dsl.components {
            if running.len() >= parallelism {
                break;
            }
            if done.contains(&def.name) || running.contains_key(&def.name) {
                continue;
            }
            if !def.upstream().iter().all(|u| done.contains(u)) {
                continue;
            }
            // Wait (stay `waiting` / keep the component queued) until this
            // server has executor slots for all its parties' tasks.
            if !app.try_take_executors(local_tasks) {
                break;
            }
            if started.is_none() {
                if let Err(e) = mark_running() {
                    app.release_executors(local_tasks);
                    finish(status::FAILED, Some(&e));
                    return Ok(());
                }
                started = Some(Instant::now());
            }
            let version = versions.get(&def.name).map(|v| v + 1).unwrap_or(0);
            versions.insert(def.name.clone(), version);
            if let Err(e) = start_component(&def.name, &def.module, version) {
                stop_running(&running, status::CANCELED);
                finish(status::FAILED, Some(&format!("starting {e}")));
                return Ok(());
            }
            running.insert(
                def.name.clone(),
                Running {
                    version,
                    retries_left: jp.auto_retries,
                },
            );
        }
        std::thread::sleep(sleep);
        sleep = (sleep * 2).min(Duration::from_millis(200));
        // Collect.
        let mut finished = Vec::new();
        let mut failure: Option<(String, String)> = None;
        for (cpn, r) in &running {
            let mut all_ok = true;
            for (p, c) in &clients {
                let t = TaskAddr {
                    job_id: job_id.into(),
                    component: cpn.clone(),
                    task_version: r.version,
                    party: *p,
                };
                match c.collect(&t) {
                    Ok(rec) => {
                        last_seen.insert(*p, Instant::now());
                        if rec.task_version != r.version || rec.status != status::SUCCESS {
                            all_ok = false;
                        }
                        if rec.task_version == r.version
                            && status::is_terminal(&rec.status)
                            && rec.status != status::SUCCESS
                        {
                            failure.get_or_insert((
                                cpn.clone(),
                                format!(
                                    "{cpn} ({} {}) {}: {}",
                                    p.role,
                                    p.party_id,
                                    rec.status,
                                    rec.error.unwrap_or_default()
                                ),
                            ));
                        }
                    }
                    Err(e) => {
                        all_ok = false;
                        if last_seen.get(p).is_some_and(|t| t.elapsed() > heartbeat) {
                            failure.get_or_insert((
                                cpn.clone(),
                                format!("party {p} unreachable for {} s: {e}", heartbeat.as_secs()),
                            ));
                        }
                    }
                }
            }
            if all_ok {
                finished.push(cpn.clone());
            }
        }
        for cpn in finished {
            running.remove(&cpn);
            done.insert(cpn);
            sleep = Duration::from_millis(10);
        }
        if let Some((cpn, msg)) = failure {
            let r = running.remove(&cpn).unwrap_or(Running {
                version: 0,
                retries_left: 0,
            });
            // Stop this component's other tasks.
            for (p, c) in &clients {
                let t = TaskAddr {
                    job_id: job_id.into(),
                    component: cpn.clone(),
                    task_version: r.version,
                    party: *p,
                };
                let _ = c.stop_task(&t, status::CANCELED);
            }
            if r.retries_left > 0 {
                tracing::warn!("job {job_id}: {msg}; retrying ({} left)", r.retries_left);
                std::thread::sleep(Duration::from_secs(jp.auto_retry_delay));
                let version = r.version + 1;
                versions.insert(cpn.clone(), version);
                let mut stopped = false;
                while !app.try_take_executors(local_tasks) {
                    if app.stopping.lock().contains_key(job_id) {
                        stopped = true;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                if stopped {
                    continue; // the loop's head ends the job
                }
                let module = dsl.get(&cpn).map(|d| d.module.clone()).unwrap_or_default();
                if let Err(e) = start_component(&cpn, &module, version) {
                    stop_running(&running, status::CANCELED);
                    finish(status::FAILED, Some(&format!("restarting {e}")));
                    return Ok(());
                }
                running.insert(
                    cpn,
                    Running {
                        version,
                        retries_left: r.retries_left - 1,
                    },
                );
                continue;
            }
            stop_running(&running, status::CANCELED);
            finish(status::FAILED, Some(&msg));
            return Ok(());
        }
        let _ = app
            .store
            .set_job_progress(job_id, (done.len() * 100 / total) as i64);
    }
}
