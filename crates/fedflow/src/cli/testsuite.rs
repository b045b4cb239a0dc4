//! `fedflow testsuite`: runs a FATE testsuite (fate_test's format: `data`
//! uploads, then `tasks`, each a conf + DSL; a task with `deps` is a predict
//! job whose model_id/model_version come from the named training task).
//!
//! Standalone: all parties share one data dir, so each distinct
//! (namespace, table_name) is uploaded once. Tasks whose data files are not
//! shipped, whose DSL uses modules this build lacks, or that hit a parameter
//! value this build does not implement are reported `skipped`, not failed.
//!
//! Party ids: as fate_test, each conf's `role` lists are replaced by the
//! first ids of the testsuite environment's `parties` for that role, and the
//! initiator by the environment's first party of its role (fate_test's
//! default environment: guest 9999, host 10000 and 9999, arbiter 10000;
//! `--parties` changes it). So confs written for other ids (SecureBoost's
//! host 9998) run, and a predict job's parties equal its training job's.

use anyhow::{bail, Context, Result};
use clap::Args;
use fedflow_flow::{run_job, Dsl, JobConf, JobReport, RunOptions, TaskStatus};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct TestsuiteArgs {
    /// The testsuite JSON (`*_testsuite.json`), or a directory: every
    /// `*testsuite*.json` below it, then a coverage table per suite.
    #[arg(short = 'i', long = "include")]
    pub include: PathBuf,
    /// Where FATE's `examples/data/X.csv` files are (X.csv is looked up here).
    #[arg(long = "data-base")]
    pub data_base: PathBuf,
    /// Only the tasks whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
    /// The environment's parties, as fate_test's `parties`: `role:id` pairs
    /// in order, comma-separated.
    #[arg(long, default_value = "guest:9999,host:10000,host:9999,arbiter:10000")]
    pub parties: String,
    /// Do not upload the suites' data: the tables are already there (as
    /// fate_test's `--skip-data`).
    #[arg(long, conflicts_with = "data_only")]
    pub skip_data: bool,
    /// Only upload the suites' data, run no task (fate_test's `--data-only`).
    #[arg(long)]
    pub data_only: bool,
    /// Per-task limit in seconds: a job still running then is reported as
    /// failed (`timeout`), the suite goes on, and no peer wait lasts longer.
    #[arg(long)]
    pub timeout: Option<u64>,
}

/// `role:id,…` → ids per role, in order.
fn parse_parties(s: &str) -> Result<BTreeMap<String, Vec<u64>>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let (role, id) = item
            .split_once(':')
            .with_context(|| format!("--parties: '{item}': expected role:party_id"))?;
        let id: u64 = id
            .parse()
            .with_context(|| format!("--parties: '{item}': party id is not an integer"))?;
        out.entry(role.to_string()).or_default().push(id);
    }
    Ok(out)
}

/// fate_test's party mapping: `role.R` becomes the first `len(role.R)` ids
/// of the environment's R, the initiator the environment's first party of
/// its role.
fn remap_parties(conf: &mut Value, env: &BTreeMap<String, Vec<u64>>) -> Result<()> {
    if let Some(roles) = conf.get_mut("role").and_then(|r| r.as_object_mut()) {
        for (role, ids) in roles.iter_mut() {
            let n = ids.as_array().map_or(0, |a| a.len());
            let have = env.get(role).map_or(&[][..], |v| v.as_slice());
            if have.len() < n {
                bail!(
                    "conf role.{role} has {n} parties, the testsuite environment (--parties) {}",
                    have.len()
                );
            }
            *ids = Value::from(have[..n].to_vec());
        }
    }
    if let Some(init) = conf.get_mut("initiator").and_then(|r| r.as_object_mut()) {
        if let Some(role) = init
            .get("role")
            .and_then(|r| r.as_str())
            .map(str::to_string)
        {
            if let Some(&id) = env.get(&role).and_then(|v| v.first()) {
                init.insert("party_id".into(), Value::from(id));
            }
        }
    }
    Ok(())
}

/// Removes the parameter sections of components the DSL does not have and
/// returns their paths. FATE Flow ignores them, so FATE's shipped confs carry
/// a few (an `evaluation_0` whose component was cut from the DSL); a job
/// submitted to fedflow directly is refused for them, since a misspelt
/// component name would otherwise train with defaults.
fn drop_unused_component_params(conf: &mut Value, dsl: &Dsl) -> Vec<String> {
    let known: BTreeSet<&str> = dsl.components.iter().map(|c| c.name.as_str()).collect();
    let mut dropped = Vec::new();
    let prune = |section: &mut Value, path: &str, dropped: &mut Vec<String>| {
        if let Some(m) = section.as_object_mut() {
            m.retain(|k, _| {
                let keep = known.contains(k.as_str());
                if !keep {
                    dropped.push(format!("{path}.{k}"));
                }
                keep
            });
        }
    };
    let is_index = |k: &str| {
        k == "all"
            || (!k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '|' | ' ')))
    };
    if let Some(cp) = conf.get_mut("component_parameters") {
        if let Some(common) = cp.get_mut("common") {
            prune(common, "component_parameters.common", &mut dropped);
        }
        if let Some(roles) = cp.get_mut("role").and_then(|r| r.as_object_mut()) {
            for (role, by_idx) in roles.iter_mut() {
                let Some(m) = by_idx.as_object_mut() else {
                    continue;
                };
                let base = format!("component_parameters.role.{role}");
                m.retain(|k, v| {
                    if is_index(k) {
                        prune(v, &format!("{base}.{k}"), &mut dropped);
                        true
                    } else if known.contains(k.as_str()) {
                        true
                    } else {
                        dropped.push(format!("{base}.{k}"));
                        false
                    }
                });
            }
        }
    }
    if let Some(ap) = conf.get_mut("algorithm_parameters") {
        prune(ap, "algorithm_parameters", &mut dropped);
    }
    if let Some(roles) = conf
        .get_mut("role_parameters")
        .and_then(|r| r.as_object_mut())
    {
        for (role, section) in roles.iter_mut() {
            prune(section, &format!("role_parameters.{role}"), &mut dropped);
        }
    }
    dropped
}

/// One task's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskResult {
    pub task: String,
    pub status: String,
    pub seconds: f64,
    pub metric: String,
    pub job_id: Option<String>,
    pub detail: Option<String>,
}

fn resolve_data(base: &Path, file: &str) -> PathBuf {
    let direct = base.join(file);
    if direct.exists() {
        return direct;
    }
    let stripped = file.strip_prefix("examples/data/").unwrap_or(file);
    let p = base.join(stripped);
    if p.exists() {
        return p;
    }
    base.join(Path::new(file).file_name().unwrap_or_default())
}

/// Every `{"table": {"name", "namespace"}}` in a conf.
fn tables_of(v: &Value, out: &mut BTreeSet<(String, String)>) {
    match v {
        Value::Object(o) => {
            if let Some(t) = o.get("table").and_then(|t| t.as_object()) {
                if let (Some(n), Some(ns)) = (
                    t.get("name").and_then(|x| x.as_str()),
                    t.get("namespace").and_then(|x| x.as_str()),
                ) {
                    out.insert((ns.to_string(), n.to_string()));
                }
            }
            o.values().for_each(|x| tables_of(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| tables_of(x, out)),
        _ => {}
    }
}

/// The headline metric of a job: Evaluation's first metric, else a cross
/// validation's mean over its validate folds, else the intersection count, else the first numeric summary value.
fn key_metric(r: &JobReport) -> String {
    for t in &r.tasks {
        if t.module == "Evaluation" {
            // Every evaluated model (a federated model next to its LocalBaseline).
            let mut shown = Vec::new();
            for (cpn, m) in t.summary.as_object().into_iter().flatten() {
                for k in ["auc", "accuracy", "root_mean_squared_error", "r2_score"] {
                    if let Some(x) = m.get(k).and_then(|x| x.as_f64()) {
                        shown.push(format!("{cpn} {k}={x:.4}"));
                        break;
                    }
                }
            }
            if !shown.is_empty() {
                return shown.join(", ");
            }
        }
    }
    // Cross validation: the mean over the validate folds (the guest's).
    for t in &r.tasks {
        let Some(ev) = t.summary.get("evaluation").and_then(|e| e.as_object()) else {
            continue;
        };
        if t.party.role != fedflow_core::Role::Guest {
            continue;
        }
        for k in ["auc", "accuracy", "root_mean_squared_error"] {
            let v: Vec<f64> = ev
                .iter()
                .filter(|(f, _)| f.starts_with("validate_fold_"))
                .filter_map(|(_, m)| m.get(k).and_then(|x| x.as_f64()))
                .collect();
            if !v.is_empty() {
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                return format!("cv{} {k}={mean:.4}", v.len());
            }
        }
    }
    for t in &r.tasks {
        if t.module == "Intersection" && t.party.role == fedflow_core::Role::Guest {
            if let Some(n) = t.summary.get("intersect_num") {
                return format!("intersect_num={n}");
            }
        }
    }
    String::from("-")
}

/// `fedflow testsuite`: one suite file, or with a directory every
/// `*testsuite*.json` below it (FATE's examples folder) and a coverage table.
pub fn run(a: TestsuiteArgs, dir: &Path) -> Result<()> {
    let env = parse_parties(&a.parties)?;
    if a.include.is_dir() {
        return run_folder(&a, &env, dir);
    }
    let results = run_suite(&a.include, &a, &env, dir)?;
    report(&results, a.json)
}

/// Every `*testsuite*.json` under `root`, sorted; a folder without one
/// but with job pairs (`X_dsl.json` next to `X_conf.json`, as FATE ships
/// FeldmanVerifiableSum or SecureInformationRetrieval) gets a suite made of
/// its pairs, written under `work`, whose data are the tables its confs read
/// (`<table name>.csv` from `--data-base`, header line, 4 partitions).
fn suites_under(root: &Path, work: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut has_suite = false;
        let mut dsls = Vec::new();
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if p.is_dir() {
                stack.push(p);
            } else if name.contains("testsuite") && name.ends_with(".json") {
                has_suite = true;
                out.push(p);
            } else if name.ends_with("_dsl.json") {
                dsls.push(p);
            }
        }
        if !has_suite && !dsls.is_empty() {
            if let Some(p) = pairs_suite(root, &d, &dsls, work)? {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The suite of a folder's conf/DSL pairs (see [`suites_under`]), if any.
fn pairs_suite(
    root: &Path,
    folder: &Path,
    dsls: &[PathBuf],
    work: &Path,
) -> Result<Option<PathBuf>> {
    let mut tasks = serde_json::Map::new();
    let mut tables = BTreeSet::new();
    let mut sorted = dsls.to_vec();
    sorted.sort();
    for dsl in &sorted {
        let name = dsl.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let conf = folder.join(name.replace("_dsl.json", "_conf.json"));
        if !conf.exists() {
            continue;
        }
        let v = super::job::read_json(&conf, "conf")?;
        tables_of(&v, &mut tables);
        let task = name.trim_end_matches("_dsl.json").trim_end_matches("_job");
        let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        tasks.insert(
            task.to_string(),
            serde_json::json!({"conf": abs(&conf), "dsl": abs(dsl)}),
        );
    }
    if tasks.is_empty() {
        return Ok(None);
    }
    let data: Vec<Value> = tables
        .iter()
        .map(|(ns, n)| {
            serde_json::json!({"file": format!("{n}.csv"), "head": 1, "partition": 4,
                "table_name": n, "namespace": ns})
        })
        .collect();
    let rel = folder.strip_prefix(root).unwrap_or(folder);
    let dir = work.join("testsuites").join(rel);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let folder_name = folder
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("jobs");
    let path = dir.join(format!("{folder_name}_pairs_testsuite.json"));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&serde_json::json!({"data": data, "tasks": tasks}))?,
    )
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(path))
}

/// Folder mode: runs every suite, then prints per suite how many tasks
/// succeeded, were skipped (module or data not available, each named in the
/// suite's rows) and failed. Fails when a task failed.
fn run_folder(a: &TestsuiteArgs, env: &BTreeMap<String, Vec<u64>>, dir: &Path) -> Result<()> {
    let suites = suites_under(&a.include, dir)?;
    if suites.is_empty() {
        bail!("{}: no *testsuite*.json below it", a.include.display());
    }
    let mut rows: Vec<(String, Vec<TaskResult>)> = Vec::new();
    for s in &suites {
        let synth = dir.join("testsuites");
        let name = s
            .strip_prefix(&a.include)
            .or_else(|_| s.strip_prefix(&synth))
            .unwrap_or(s)
            .display()
            .to_string();
        eprintln!("== {name}");
        let results = match run_suite(s, a, env, dir) {
            Ok(r) => r,
            Err(e) => vec![TaskResult {
                task: "(suite)".into(),
                status: "failed".into(),
                seconds: 0.0,
                metric: "-".into(),
                job_id: None,
                detail: Some(super::one_line(&e)),
            }],
        };
        rows.push((name, results));
    }
    if a.json {
        let v: Vec<Value> = rows
            .iter()
            .map(|(n, r)| serde_json::json!({"suite": n, "tasks": r}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(5).max(5);
    let (mut t_ok, mut t_skip, mut t_fail, mut t_all) = (0, 0, 0, 0);
    let mut out = format!(
        "{:<w$}  {:>5}  {:>7}  {:>7}  {:>6}\n",
        "suite", "tasks", "success", "skipped", "failed"
    );
    for (name, r) in &rows {
        let ok = r.iter().filter(|x| x.status == "success").count();
        let fail = r.iter().filter(|x| x.status == "failed").count();
        let skip = r.len() - ok - fail;
        (t_ok, t_skip, t_fail, t_all) = (t_ok + ok, t_skip + skip, t_fail + fail, t_all + r.len());
        out.push_str(&format!(
            "{name:<w$}  {:>5}  {ok:>7}  {skip:>7}  {fail:>6}\n",
            r.len()
        ));
        for x in r.iter().filter(|x| x.status != "success") {
            out.push_str(&format!("{:<w$}    {}: {}\n", "", x.task, x.status));
        }
    }
    out.push_str(&format!(
        "{:<w$}  {t_all:>5}  {t_ok:>7}  {t_skip:>7}  {t_fail:>6}\n",
        "total"
    ));
    if a.json {
        eprint!("{out}");
    } else {
        print!("{out}");
    }
    if t_fail > 0 {
        bail!("{t_fail} testsuite task(s) failed");
    }
    Ok(())
}

/// Prints one suite's results; fails when a task failed.
fn report(results: &[TaskResult], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        let w = results
            .iter()
            .map(|r| r.task.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!("{:<w$}  {:>8}  {:<28}  status", "task", "time", "metric");
        for r in results {
            println!(
                "{:<w$}  {:>6.1} s  {:<28}  {}",
                r.task, r.seconds, r.metric, r.status
            );
            if r.status == "failed" {
                if let Some(d) = &r.detail {
                    println!("{:<w$}    {d}", "");
                }
            }
        }
    }
    let failed = results.iter().filter(|r| r.status == "failed").count();
    let ok = results.iter().filter(|r| r.status == "success").count();
    let line = format!(
        "{ok} success, {} skipped, {failed} failed",
        results.len() - ok - failed
    );
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    if failed > 0 {
        bail!("{failed} testsuite task(s) failed");
    }
    Ok(())
}

/// Uploads a suite's data and runs its tasks.
fn run_suite(
    include: &Path,
    a: &TestsuiteArgs,
    env: &BTreeMap<String, Vec<u64>>,
    dir: &Path,
) -> Result<Vec<TaskResult>> {
    let suite = super::job::read_json(include, "testsuite")?;
    let base = include.parent().map(Path::to_path_buf).unwrap_or_default();
    let storage = fedflow_storage::StorageContext::open_local(dir)
        .with_context(|| format!("opening storage at {}", dir.display()))?;
    // 1. Data.
    let mut missing: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut done: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, d) in suite
        .get("data")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (Some(file), Some(name), Some(ns)) = (
            d.get("file").and_then(|v| v.as_str()),
            d.get("table_name").and_then(|v| v.as_str()),
            d.get("namespace").and_then(|v| v.as_str()),
        ) else {
            bail!("testsuite data[{i}]: expected file, table_name and namespace");
        };
        let key = (ns.to_string(), name.to_string());
        if !done.insert(key.clone()) {
            continue;
        }
        if a.skip_data {
            continue;
        }
        let path = resolve_data(&a.data_base, file);
        if !path.exists() {
            eprintln!(
                "data {file}: not shipped ({} missing); its tasks will be skipped",
                path.display()
            );
            missing.insert(key, file.to_string());
            continue;
        }
        let mut conf = d.clone();
        conf["file"] = Value::String(path.display().to_string());
        conf["drop"] = Value::Bool(true);
        if let Some(o) = conf.as_object_mut() {
            o.remove("role");
        }
        let up = fedflow_storage::parse_upload_conf(&conf, &base)
            .with_context(|| format!("testsuite data[{i}]"))?;
        let meta = storage
            .upload(&up)
            .with_context(|| format!("uploading {}", path.display()))?;
        eprintln!("uploaded {ns}.{name}: {} rows", meta.count);
    }
    if a.data_only {
        return Ok(Vec::new());
    }
    // 2. Tasks.
    let modules: BTreeSet<&str> = fedflow_components::MODULES.iter().copied().collect();
    let mut results: Vec<TaskResult> = Vec::new();
    let mut trained: HashMap<String, (String, String)> = HashMap::new();
    let tasks = suite
        .get("tasks")
        .and_then(|v| v.as_object())
        .cloned()
        .unwrap_or_default();
    for (name, t) in &tasks {
        if a.filter
            .as_ref()
            .is_some_and(|f| !name.contains(f.as_str()))
        {
            continue;
        }
        let started = Instant::now();
        let mut res = TaskResult {
            task: name.clone(),
            status: "skipped".into(),
            seconds: 0.0,
            metric: "-".into(),
            job_id: None,
            detail: None,
        };
        let outcome = (|| -> Result<std::result::Result<JobReport, String>> {
            let file = |k: &str| -> Result<PathBuf> {
                let f = t
                    .get(k)
                    .and_then(|v| v.as_str())
                    .with_context(|| format!("task {name}: no {k}"))?;
                Ok(base.join(f))
            };
            let (conf_p, dsl_p) = (file("conf")?, file("dsl")?);
            for p in [&conf_p, &dsl_p] {
                if !p.exists() {
                    return Ok(Err(format!("file {} not shipped", p.display())));
                }
            }
            let mut conf_v = super::job::read_json(&conf_p, "conf")?;
            remap_parties(&mut conf_v, env)
                .with_context(|| format!("conf {}", conf_p.display()))?;
            let dsl_v = super::job::read_json(&dsl_p, "dsl")?;
            let dsl = Dsl::parse(&dsl_v).with_context(|| format!("dsl {}", dsl_p.display()))?;
            if let Some(m) = dsl
                .components
                .iter()
                .find(|c| !modules.contains(c.module.as_str()))
            {
                return Ok(Err(format!("module {} not implemented", m.module)));
            }
            let mut tables = BTreeSet::new();
            tables_of(&conf_v, &mut tables);
            if let Some(f) = tables.iter().find_map(|t| missing.get(t)) {
                return Ok(Err(format!("data {f} not shipped")));
            }
            if let Some(dep) = t.get("deps").and_then(|v| v.as_str()) {
                let Some((id, ver)) = trained.get(dep) else {
                    return Ok(Err(format!("depends on {dep}, which did not succeed")));
                };
                conf_v["job_parameters"]["common"]["model_id"] = Value::String(id.clone());
                conf_v["job_parameters"]["common"]["model_version"] = Value::String(ver.clone());
            }
            for path in drop_unused_component_params(&mut conf_v, &dsl) {
                eprintln!(
                    "note: {name}: conf {path}: no such component in the DSL; ignored as FATE Flow does"
                );
            }
            let conf =
                JobConf::parse(&conf_v).with_context(|| format!("conf {}", conf_p.display()))?;
            let opts = RunOptions {
                data_dir: dir.to_path_buf(),
                timeout: a.timeout.map(std::time::Duration::from_secs),
                ..Default::default()
            };
            let Some(limit) = a.timeout else {
                return Ok(Ok(run_job(&conf, &dsl, &opts)?));
            };
            // The job runs on its own thread; past the limit it is left to
            // end by itself (its peer waits are bounded by the same limit).
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(run_job(&conf, &dsl, &opts));
            });
            match rx.recv_timeout(std::time::Duration::from_secs(limit)) {
                Ok(r) => Ok(Ok(r?)),
                Err(_) => Err(anyhow::anyhow!(
                    "timeout: still running after {limit} s (--timeout)"
                )),
            }
        })();
        res.seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(Err(why)) => {
                res.status = format!("skipped ({why})");
            }
            Ok(Ok(report)) => {
                res.job_id = Some(report.job_id.clone());
                if report.status == TaskStatus::Success {
                    res.status = "success".into();
                    res.metric = key_metric(&report);
                    trained.insert(
                        name.clone(),
                        (report.model_id.clone(), report.model_version.clone()),
                    );
                } else {
                    let e = report.first_error().unwrap_or_default();
                    if e.contains("is not implemented") {
                        let why = e.split_once("): ").map_or(e.as_str(), |x| x.1);
                        res.status = format!("skipped ({})", why.trim_start_matches("parameter "));
                    } else {
                        res.status = "failed".into();
                    }
                    res.detail = Some(e);
                }
            }
            Err(e) => {
                let msg = super::one_line(&e);
                res.status = if msg.contains("not implemented") || msg.contains("unknown module") {
                    format!("skipped ({msg})")
                } else {
                    "failed".into()
                };
                res.detail = Some(msg);
            }
        }
        eprintln!("task {name}: {} in {:.1} s", res.status, res.seconds);
        results.push(res);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_of_components_not_in_the_dsl_are_dropped() {
        let dsl = Dsl::parse(&serde_json::json!({"components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}}}}))
        .unwrap();
        let mut conf = serde_json::json!({
            "component_parameters": {
                "common": {"reader_0": {}, "evaluation_0": {"eval_type": "binary"}},
                "role": {"guest": {"0": {"reader_0": {}, "reader_1": {}}, "intersection_1": {}}}
            },
            "algorithm_parameters": {"kmeans_0": {}},
            "role_parameters": {"host": {"reader_0": {}, "homo_sbt_0": {}}}
        });
        let dropped = drop_unused_component_params(&mut conf, &dsl);
        assert_eq!(
            dropped,
            [
                "component_parameters.common.evaluation_0",
                "component_parameters.role.guest.0.reader_1",
                "component_parameters.role.guest.intersection_1",
                "algorithm_parameters.kmeans_0",
                "role_parameters.host.homo_sbt_0",
            ]
        );
        assert_eq!(
            conf["component_parameters"]["role"]["guest"],
            serde_json::json!({"0": {"reader_0": {}}})
        );
        assert_eq!(
            conf["role_parameters"]["host"],
            serde_json::json!({"reader_0": {}})
        );
    }

    #[test]
    fn parties_are_mapped_as_fate_test_does() {
        let env = parse_parties("guest:9999,host:10000,host:9999,arbiter:10000").unwrap();
        let mut conf = serde_json::json!({
            "initiator": {"role": "guest", "party_id": 1},
            "role": {"guest": [1], "host": [9998, 7], "arbiter": [5]}
        });
        remap_parties(&mut conf, &env).unwrap();
        assert_eq!(
            conf,
            serde_json::json!({
                "initiator": {"role": "guest", "party_id": 9999},
                "role": {"guest": [9999], "host": [10000, 9999], "arbiter": [10000]}
            })
        );
        let mut three = serde_json::json!({"role": {"host": [1, 2, 3]}});
        let e = remap_parties(&mut three, &env).unwrap_err().to_string();
        assert!(e.contains("role.host has 3 parties"), "{e}");
        assert!(parse_parties("guest=1")
            .unwrap_err()
            .to_string()
            .contains("role:party_id"));
    }
}
