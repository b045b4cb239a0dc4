//! The job runtime conf.

use fedflow_core::{Party, PartyId, Role};
use fedflow_federation::Roster;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A conf or DSL error, naming the JSON path and what was expected.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfError {
    /// JSON path, e.g. `component_parameters.role.guest.0.reader_0.table.name`.
    pub path: String,
    /// What was expected.
    pub message: String,
}

pub(crate) fn err(path: impl Into<String>, message: impl Into<String>) -> ConfError {
    ConfError {
        path: path.into(),
        message: message.into(),
    }
}

/// Which computing engine a job asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputingEngine {
    /// One machine (FATE's STANDALONE, and EGGROLL, which fedflow runs standalone).
    Standalone,
    /// Apache Spark.
    Spark,
}

/// FATE's `job_parameters` with its names and defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct JobParameters {
    /// `train` or `predict`.
    pub job_type: String,
    /// STANDALONE, EGGROLL or SPARK.
    pub computing_engine: Option<String>,
    /// STANDALONE, RABBITMQ, …
    pub federation_engine: Option<String>,
    /// STANDALONE, HDFS, …
    pub storage_engine: Option<String>,
    /// Cores per task.
    pub task_cores: u32,
    /// Components run at once.
    pub task_parallelism: u32,
    /// Default partitions of computing tables.
    pub computing_partitions: Option<u32>,
    /// Job timeout in seconds.
    pub timeout: u64,
    /// Retries of a failed task.
    pub auto_retries: u32,
    /// Seconds between retries.
    pub auto_retry_delay: u64,
    /// For predict jobs.
    pub model_id: Option<String>,
    /// For predict jobs.
    pub model_version: Option<String>,
    /// spark-submit options.
    pub spark_run: Option<Value>,
    /// RabbitMQ options.
    pub rabbitmq_run: Option<Value>,
    /// FATE 1.5: 0 standalone, 1 cluster.
    pub work_mode: Option<u8>,
    /// FATE 1.5: 0 eggroll, 1 spark.
    pub backend: Option<u8>,
    /// Any other key FATE accepts; kept, not used.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Default for JobParameters {
    fn default() -> Self {
        JobParameters {
            job_type: "train".into(),
            computing_engine: None,
            federation_engine: None,
            storage_engine: None,
            task_cores: 4,
            task_parallelism: 1,
            computing_partitions: None,
            timeout: 259_200,
            auto_retries: 0,
            auto_retry_delay: 1,
            model_id: None,
            model_version: None,
            spark_run: None,
            rabbitmq_run: None,
            work_mode: None,
            backend: None,
            other: Map::new(),
        }
    }
}

impl JobParameters {
    /// The path storage engine component outputs are saved to
    /// (`storage_engine`: `LOCALFS`, `HDFS`, `PATH`, …; under the storage
    /// context's path root), or `None` for fedflow's local engine (unset,
    /// `STANDALONE`, `EGGROLL`, `LOCAL`).
    pub fn path_storage_engine(&self) -> Result<Option<String>, ConfError> {
        match self.storage_engine.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(e) if fedflow_storage::is_path_engine(e) => Ok(Some(e.to_ascii_uppercase())),
            Some(e)
                if ["STANDALONE", "EGGROLL", "LOCAL"]
                    .iter()
                    .any(|l| e.eq_ignore_ascii_case(l)) =>
            {
                Ok(None)
            }
            Some(other) => Err(err(
                "job_parameters.storage_engine",
                format!("expected STANDALONE, EGGROLL, LOCALFS, HDFS or PATH, got '{other}'"),
            )),
        }
    }

    /// The computing engine asked for (`computing_engine`, else FATE 1.5's `backend`).
    pub fn computing_engine(&self) -> Result<ComputingEngine, ConfError> {
        match (self.computing_engine.as_deref(), self.backend) {
            (Some(e), _) => match e.to_ascii_uppercase().as_str() {
                "STANDALONE" | "EGGROLL" => Ok(ComputingEngine::Standalone),
                "SPARK" => Ok(ComputingEngine::Spark),
                other => Err(err(
                    "job_parameters.computing_engine",
                    format!("expected STANDALONE, EGGROLL or SPARK, got '{other}'"),
                )),
            },
            (None, None | Some(0)) => Ok(ComputingEngine::Standalone),
            (None, Some(1)) => Ok(ComputingEngine::Spark),
            (None, Some(b)) => Err(err(
                "job_parameters.backend",
                format!("expected 0 (eggroll) or 1 (spark), got {b}"),
            )),
        }
    }
}

/// A parsed runtime conf.
#[derive(Debug, Clone)]
pub struct JobConf {
    /// 1 (FATE ≤ 1.5 form) or 2.
    pub dsl_version: u8,
    /// Who submitted the job.
    pub initiator: Party,
    /// The parties by role.
    pub roster: Roster,
    common_job: Map<String, Value>,
    role_job: Vec<RoleSection>,
    common_cpn: Map<String, Value>,
    role_cpn: Vec<RoleSection>,
}

/// A per-role section: role, which of its parties, and the parameters.
type RoleSection = (Role, IndexSpec, Map<String, Value>);

/// Which party indexes of a role a section applies to.
#[derive(Debug, Clone, PartialEq)]
enum IndexSpec {
    All,
    Some(Vec<usize>),
}

impl IndexSpec {
    fn parse(s: &str) -> Option<IndexSpec> {
        if s == "all" {
            return Some(IndexSpec::All);
        }
        s.split('|')
            .map(|p| p.trim().parse::<usize>().ok())
            .collect::<Option<Vec<_>>>()
            .map(IndexSpec::Some)
    }
    fn matches(&self, idx: usize) -> bool {
        match self {
            IndexSpec::All => true,
            IndexSpec::Some(v) => v.contains(&idx),
        }
    }
}

/// `"-1"`, `"0|x"`-like keys: meant as a party index, never a component name.
fn looks_like_index(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '|' | ' '))
}

/// Every value of a `{component: params}` section must be a params object (a
/// string or number there would otherwise be dropped silently).
fn components_are_objects(section: &Map<String, Value>, path: &str) -> Result<(), ConfError> {
    for (cpn, params) in section {
        if !params.is_object() {
            return Err(err(
                format!("{path}.{cpn}"),
                format!(
                    "expected the component's parameters as an object, got {}",
                    kind(params)
                ),
            ));
        }
    }
    Ok(())
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ConfError> {
    v.as_object()
        .ok_or_else(|| err(path, format!("expected an object, got {}", kind(v))))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deep-merges `over` into `base` (objects merge key by key; anything else replaces).
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn party_id(v: &Value, path: &str) -> Result<PartyId, ConfError> {
    match v {
        Value::Number(n) => n.as_u64().ok_or_else(|| {
            err(
                path,
                format!("expected a party id (non-negative integer), got {n}"),
            )
        }),
        Value::String(s) => s.parse().map_err(|_| {
            err(
                path,
                format!("expected a party id (non-negative integer), got '{s}'"),
            )
        }),
        other => Err(err(
            path,
            format!("expected a party id, got {}", kind(other)),
        )),
    }
}

fn role(s: &str, path: &str) -> Result<Role, ConfError> {
    s.parse::<Role>().map_err(|e| err(path, e.to_string()))
}

impl JobConf {
    /// Parses a runtime conf, v2 or FATE 1.5's v1.
    pub fn parse(v: &Value) -> Result<JobConf, ConfError> {
        let top = obj(v, "(conf)")?;
        let version = match top.get("dsl_version") {
            None => {
                if top.contains_key("component_parameters") {
                    2
                } else {
                    1
                }
            }
            Some(Value::Number(n)) if n.as_u64() == Some(1) || n.as_u64() == Some(2) => {
                n.as_u64().unwrap_or(2) as u8
            }
            Some(Value::String(s)) if s == "1" || s == "2" => {
                if s == "1" {
                    1
                } else {
                    2
                }
            }
            Some(other) => return Err(err("dsl_version", format!("expected 1 or 2, got {other}"))),
        };

        // role
        let roles = obj(
            top.get("role").ok_or_else(|| err("role", "missing"))?,
            "role",
        )?;
        let mut roster = Roster::default();
        for (r, ids) in roles {
            let path = format!("role.{r}");
            let rl = role(r, &path)?;
            let ids = ids.as_array().ok_or_else(|| {
                err(
                    &path,
                    format!("expected a list of party ids, got {}", kind(ids)),
                )
            })?;
            if ids.is_empty() {
                return Err(err(&path, "expected at least one party id"));
            }
            let ids = ids
                .iter()
                .enumerate()
                .map(|(i, id)| party_id(id, &format!("{path}.{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            for (i, id) in ids.iter().enumerate() {
                if let Some(first) = ids[..i].iter().position(|x| x == id) {
                    return Err(err(
                        format!("{path}.{i}"),
                        format!("party id {id} is listed twice in role {r} (also at index {first}): each party plays a role once"),
                    ));
                }
            }
            roster.0.insert(rl, ids);
        }
        if roster.0.is_empty() {
            return Err(err("role", "expected at least one role"));
        }

        // initiator
        let init = obj(
            top.get("initiator")
                .ok_or_else(|| err("initiator", "missing"))?,
            "initiator",
        )?;
        let ir = init.get("role").and_then(Value::as_str).ok_or_else(|| {
            err(
                "initiator.role",
                "missing (expected guest, host or arbiter)",
            )
        })?;
        let initiator = Party::new(
            role(ir, "initiator.role")?,
            party_id(
                init.get("party_id")
                    .ok_or_else(|| err("initiator.party_id", "missing"))?,
                "initiator.party_id",
            )?,
        );
        if !roster.contains(initiator) {
            return Err(err(
                "initiator",
                format!("{initiator} is not among the job's parties in 'role'"),
            ));
        }

        let mut conf = JobConf {
            dsl_version: version,
            initiator,
            roster,
            common_job: Map::new(),
            role_job: Vec::new(),
            common_cpn: Map::new(),
            role_cpn: Vec::new(),
        };
        if version == 2 {
            conf.parse_v2(top)?;
        } else {
            conf.parse_v1(top)?;
        }
        // Validate the job parameters of every party now, so errors come before any task runs.
        for p in conf.roster.all() {
            let idx = conf.index_of(p).unwrap_or(0);
            conf.job_parameters(p.role, idx)?;
        }
        Ok(conf)
    }

    fn role_sections(
        &self,
        section: &Map<String, Value>,
        path: &str,
        inner_is_component: bool,
    ) -> Result<Vec<RoleSection>, ConfError> {
        let mut out = Vec::new();
        for (r, by_idx) in section {
            let rpath = format!("{path}.{r}");
            let rl = role(r, &rpath)?;
            let n = self
                .roster
                .0
                .get(&rl)
                .map(Vec::len)
                .ok_or_else(|| err(&rpath, format!("role {r} has no parties in 'role'")))?;
            for (idx, params) in obj(by_idx, &rpath)? {
                let ipath = format!("{rpath}.{idx}");
                match IndexSpec::parse(idx) {
                    Some(spec) => {
                        if let IndexSpec::Some(v) = &spec {
                            if let Some(bad) = v.iter().find(|&&i| i >= n) {
                                return Err(err(
                                    &ipath,
                                    format!(
                                        "party index {bad} out of range: role {r} has {n} part{}",
                                        if n == 1 { "y" } else { "ies" }
                                    ),
                                ));
                            }
                        }
                        let params = obj(params, &ipath)?;
                        if inner_is_component {
                            components_are_objects(params, &ipath)?;
                        }
                        out.push((rl, spec, params.clone()));
                    }
                    // FATE's toy conf writes host parameters without the index level;
                    // read such a section as applying to every party of the role.
                    // A key that looks like a (bad) index, e.g. "-1", is not a component name.
                    None if inner_is_component && !looks_like_index(idx) => {
                        obj(params, &ipath)?;
                        tracing::warn!(
                            "{ipath}: no party index level; applying to all {r} parties"
                        );
                        let mut m = Map::new();
                        m.insert(idx.clone(), params.clone());
                        out.push((rl, IndexSpec::All, m));
                    }
                    None => {
                        return Err(err(&ipath, "expected a party index ('0', '0|1' or 'all')"))
                    }
                }
            }
        }
        Ok(out)
    }

    fn parse_v2(&mut self, top: &Map<String, Value>) -> Result<(), ConfError> {
        if let Some(jp) = top.get("job_parameters") {
            let jp = obj(jp, "job_parameters")?;
            for k in jp.keys() {
                if k != "common" && k != "role" {
                    return Err(err(
                        format!("job_parameters.{k}"),
                        "unexpected key: v2 job_parameters has 'common' and 'role'",
                    ));
                }
            }
            if let Some(c) = jp.get("common") {
                self.common_job = obj(c, "job_parameters.common")?.clone();
            }
            if let Some(r) = jp.get("role") {
                self.role_job = self.role_sections(
                    obj(r, "job_parameters.role")?,
                    "job_parameters.role",
                    false,
                )?;
            }
        }
        if let Some(cp) = top.get("component_parameters") {
            let cp = obj(cp, "component_parameters")?;
            for k in cp.keys() {
                if k != "common" && k != "role" {
                    return Err(err(
                        format!("component_parameters.{k}"),
                        "unexpected key: expected 'common' and 'role'",
                    ));
                }
            }
            if let Some(c) = cp.get("common") {
                self.common_cpn = obj(c, "component_parameters.common")?.clone();
                components_are_objects(&self.common_cpn, "component_parameters.common")?;
            }
            if let Some(r) = cp.get("role") {
                self.role_cpn = self.role_sections(
                    obj(r, "component_parameters.role")?,
                    "component_parameters.role",
                    true,
                )?;
            }
        }
        Ok(())
    }

    fn parse_v1(&mut self, top: &Map<String, Value>) -> Result<(), ConfError> {
        if let Some(jp) = top.get("job_parameters") {
            self.common_job = obj(jp, "job_parameters")?.clone();
        }
        if let Some(ap) = top.get("algorithm_parameters") {
            self.common_cpn = obj(ap, "algorithm_parameters")?.clone();
            components_are_objects(&self.common_cpn, "algorithm_parameters")?;
        }
        if let Some(rp) = top.get("role_parameters") {
            // {role: {component: {param: [value for party 0, value for party 1, ...]}}}
            for (r, cpns) in obj(rp, "role_parameters")? {
                let rpath = format!("role_parameters.{r}");
                let rl = role(r, &rpath)?;
                let n = self
                    .roster
                    .0
                    .get(&rl)
                    .map(Vec::len)
                    .ok_or_else(|| err(&rpath, format!("role {r} has no parties in 'role'")))?;
                for idx in 0..n {
                    let mut per_party = Map::new();
                    for (cpn, params) in obj(cpns, &rpath)? {
                        let cpath = format!("{rpath}.{cpn}");
                        per_party.insert(cpn.clone(), pick_index(params, idx, &cpath)?);
                    }
                    self.role_cpn
                        .push((rl, IndexSpec::Some(vec![idx]), per_party));
                }
            }
        }
        Ok(())
    }

    /// Index of a party within its role.
    pub fn index_of(&self, party: Party) -> Option<usize> {
        self.roster
            .0
            .get(&party.role)?
            .iter()
            .position(|&id| id == party.party_id)
    }

    /// The job parameters of party `idx` of `role` (common merged with role ones).
    pub fn job_parameters(&self, role: Role, idx: usize) -> Result<JobParameters, ConfError> {
        let mut v = Value::Object(self.common_job.clone());
        for (r, spec, m) in &self.role_job {
            if *r == role && spec.matches(idx) {
                merge(&mut v, &Value::Object(m.clone()));
            }
        }
        let jp: JobParameters = serde_path_to_error::deserialize(v).map_err(|e| {
            let field = e.path().to_string();
            err(
                format!("job_parameters.{field} (for {role} {idx})"),
                e.into_inner().to_string(),
            )
        })?;
        if !jp.other.is_empty() {
            tracing::debug!(
                "job_parameters keys not used by fedflow: {:?}",
                jp.other.keys().collect::<Vec<_>>()
            );
        }
        if jp.job_type != "train" && jp.job_type != "predict" {
            return Err(err(
                "job_parameters.job_type",
                format!("expected 'train' or 'predict', got '{}'", jp.job_type),
            ));
        }
        jp.computing_engine()?;
        Ok(jp)
    }

    /// A component's parameters for party `idx` of `role`.
    pub fn component_parameters(&self, component: &str, role: Role, idx: usize) -> Value {
        let mut v = self
            .common_cpn
            .get(component)
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        for (r, spec, m) in &self.role_cpn {
            if *r == role && spec.matches(idx) {
                if let Some(p) = m.get(component) {
                    merge(&mut v, p);
                }
            }
        }
        v
    }

    /// Components named in the parameters, to check them against the DSL.
    pub fn parameter_components(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .common_cpn
            .keys()
            .map(|c| (c.clone(), format!("component_parameters.common.{c}")))
            .collect();
        for (r, spec, m) in &self.role_cpn {
            let idx = match spec {
                IndexSpec::All => "all".to_string(),
                IndexSpec::Some(v) => v
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            };
            out.extend(m.keys().map(|c| {
                (
                    c.clone(),
                    format!("component_parameters.role.{r}.{idx}.{c}"),
                )
            }));
        }
        out
    }

    /// Parties of the roster as (party, index in role).
    pub fn parties(&self) -> Vec<(Party, usize)> {
        let mut v = Vec::new();
        for (role, ids) in &self.roster.0 {
            for (i, &id) in ids.iter().enumerate() {
                v.push((Party::new(*role, id), i));
            }
        }
        v
    }

    /// The roster as FATE's model_id prefix: `arbiter-10000#guest-9999#host-10000`.
    pub fn model_id_prefix(&self) -> String {
        let mut parts: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (role, ids) in &self.roster.0 {
            parts
                .entry(role.as_str())
                .or_default()
                .extend(ids.iter().map(|i| i.to_string()));
        }
        parts
            .iter()
            .map(|(r, ids)| format!("{r}-{}", ids.join("_")))
            .collect::<Vec<_>>()
            .join("#")
    }
}

fn pick_index(params: &Value, idx: usize, path: &str) -> Result<Value, ConfError> {
    let m = obj(params, path)?;
    let mut out = Map::new();
    for (k, v) in m {
        let p = format!("{path}.{k}");
        match v {
            Value::Array(items) => {
                let item = items.get(idx).ok_or_else(|| {
                    err(
                        &p,
                        format!(
                            "v1 role_parameters list has {} value(s); party index {idx} has none",
                            items.len()
                        ),
                    )
                })?;
                out.insert(k.clone(), item.clone());
            }
            Value::Object(_) => {
                out.insert(k.clone(), pick_index(v, idx, &p)?);
            }
            other => {
                return Err(err(
                    &p,
                    format!(
                        "v1 role_parameters expects a list (one value per party), got {}",
                        kind(other)
                    ),
                ))
            }
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shared(rel: &str) -> Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/examples/fate")
            .join(rel);
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn storage_engine_picks_the_output_engine() {
        let jp = |v: Value| -> JobParameters { serde_json::from_value(v).unwrap() };
        assert_eq!(jp(json!({})).path_storage_engine().unwrap(), None);
        assert_eq!(
            jp(json!({"storage_engine": "standalone"}))
                .path_storage_engine()
                .unwrap(),
            None
        );
        assert_eq!(
            jp(json!({"storage_engine": "localfs"}))
                .path_storage_engine()
                .unwrap()
                .as_deref(),
            Some("LOCALFS")
        );
        assert_eq!(
            jp(json!({"storage_engine": "HDFS"}))
                .path_storage_engine()
                .unwrap()
                .as_deref(),
            Some("HDFS")
        );
        let e = jp(json!({"storage_engine": "HIVE"}))
            .path_storage_engine()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("job_parameters.storage_engine") && e.contains("HIVE"),
            "{e}"
        );
    }

    #[test]
    fn fate_toy_v2() {
        let c = JobConf::parse(&shared("toy_example_conf.json")).unwrap();
        assert_eq!(c.dsl_version, 2);
        assert_eq!(c.initiator, Party::new(Role::Guest, 9999));
        let g = c.component_parameters("secure_add_example_0", Role::Guest, 0);
        assert_eq!(g, json!({"partition": 48, "data_num": 1000, "seed": 123}));
        let h = c.component_parameters("secure_add_example_0", Role::Host, 0);
        assert_eq!(h["seed"], 321);
        assert_eq!(c.job_parameters(Role::Guest, 0).unwrap().task_cores, 2);
        assert_eq!(c.job_parameters(Role::Host, 0).unwrap().task_cores, 3);
        assert_eq!(c.job_parameters(Role::Host, 0).unwrap().timeout, 259_200);
    }

    #[test]
    fn fate_lr_v2_and_model_id() {
        let c = JobConf::parse(&shared("hetero_lr_normal_conf.json")).unwrap();
        assert_eq!(c.model_id_prefix(), "arbiter-10000#guest-9999#host-10000");
        let r = c.component_parameters("reader_0", Role::Host, 0);
        assert_eq!(r["table"]["name"], "breast_hetero_host");
    }

    #[test]
    fn fate_15_v1() {
        let v = json!({
            "initiator": {"role": "guest", "party_id": 9999},
            "job_parameters": {"work_mode": 0, "backend": 0},
            "role": {"guest": [9999], "host": [10000]},
            "role_parameters": {
                "guest": {"secure_add_example_0": {"seed": [123]}},
                "host": {"secure_add_example_0": {"seed": [321]}}
            },
            "algorithm_parameters": {"secure_add_example_0": {"partition": 10, "data_num": 1000}}
        });
        let c = JobConf::parse(&v).unwrap();
        assert_eq!(c.dsl_version, 1);
        assert_eq!(
            c.component_parameters("secure_add_example_0", Role::Host, 0),
            json!({"partition": 10, "data_num": 1000, "seed": 321})
        );
        assert_eq!(
            c.job_parameters(Role::Guest, 0)
                .unwrap()
                .computing_engine()
                .unwrap(),
            ComputingEngine::Standalone
        );
        let mut spark = v.clone();
        spark["job_parameters"]["backend"] = json!(1);
        assert_eq!(
            JobConf::parse(&spark)
                .unwrap()
                .job_parameters(Role::Guest, 0)
                .unwrap()
                .computing_engine()
                .unwrap(),
            ComputingEngine::Spark
        );
    }

    #[test]
    fn errors_name_the_path() {
        let base = json!({"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999}, "role": {"guest": [9999], "host": [10000]}});
        let e = |mut v: Value, f: &dyn Fn(&mut Value)| {
            f(&mut v);
            JobConf::parse(&v).unwrap_err().to_string()
        };
        assert_eq!(
            e(base.clone(), &|v| {
                v.as_object_mut().unwrap().remove("role");
            }),
            "role: missing"
        );
        assert!(e(base.clone(), &|v| v["role"]["guset"] = json!([1]))
            .starts_with("role.guset: unknown role 'guset'"));
        assert!(e(base.clone(), &|v| v["initiator"]["party_id"] = json!(1))
            .contains("initiator: guest:1 is not among"));
        assert!(e(base.clone(), &|v| v["role"]["host"] = json!(["x"]))
            .starts_with("role.host.0: expected a party id"));
        assert!(e(base.clone(), &|v| v["component_parameters"] =
            json!({"role": {"host": {"3": {}}}}))
        .starts_with("component_parameters.role.host.3: party index 3 out of range"));
        assert!(e(base.clone(), &|v| v["job_parameters"] =
            json!({"common": {"computing_engine": "FLINK"}}))
        .starts_with("job_parameters.computing_engine: expected STANDALONE, EGGROLL or SPARK"));
        assert!(e(base.clone(), &|v| v["job_parameters"] =
            json!({"common": {"task_cores": "two"}}))
        .contains("task_cores"));
        assert!(e(base.clone(), &|v| v["component_parameters"] =
            json!({"role": {"arbiter": {"0": {}}}}))
        .starts_with("component_parameters.role.arbiter: role arbiter has no parties"));
        // A negative index is refused, not read as a component name.
        let neg = e(base.clone(), &|v| {
            v["component_parameters"] = json!({"role": {"host": {"-1": {"reader_0": {}}}}})
        });
        assert!(
            neg.starts_with("component_parameters.role.host.-1:") && neg.contains("party index"),
            "{neg}"
        );
        // Parameters given as a string would otherwise be dropped.
        let s = e(base.clone(), &|v| {
            v["component_parameters"] = json!({"common": {"hetero_lr_0": "max_iter=3"}})
        });
        assert!(
            s.starts_with("component_parameters.common.hetero_lr_0:") && s.contains("object"),
            "{s}"
        );
        let s = e(base.clone(), &|v| {
            v["component_parameters"] = json!({"role": {"guest": {"0": {"hetero_lr_0": 3}}}})
        });
        assert!(
            s.starts_with("component_parameters.role.guest.0.hetero_lr_0:") && s.contains("object"),
            "{s}"
        );
        let s = e(base, &|v| {
            v["dsl_version"] = json!(1);
            v["algorithm_parameters"] = json!({"hetero_lr_0": ["max_iter"]});
        });
        assert!(
            s.starts_with("algorithm_parameters.hetero_lr_0:") && s.contains("object"),
            "{s}"
        );
    }
}
