//! Cross validation (FATE's `cv_param`, `KFold`), for every model that has
//! it: one wrapper around the component's own training task, not a copy per
//! model.
//!
//! Protocol, per job (`need_cv: true`):
//!
//! 1. **Folds.** The ids are put in order (numerically when every id is a
//!    number, else as text), shuffled with `random_seed` when `shuffle`, and
//!    cut into `n_splits` consecutive folds, the first `n % n_splits` folds one
//!    row longer (scikit-learn's `KFold`, which FATE calls). In a vertical job
//!    the guest makes the folds and sends each id's fold to the hosts once
//!    (`cv_fold_ids`; ids only, which the intersection already shared); a
//!    host whose ids differ from the guest's fails naming itself. In a
//!    horizontal job every client folds its own rows.
//! 2. **Per fold** `k`, every party runs the component's ordinary training
//!    task with `train_data` = the other folds and `validate_data` = fold `k`
//!    (FATE's `model.fit(train, test)`). The fold's messages travel under
//!    tags prefixed `cv{k}.`, its metrics under namespaces prefixed `fold_k.`,
//!    so folds never mix. The arbiter runs the same loop without data.
//! 3. **Evaluation**: where predictions are (the guest; every client in a
//!    horizontal job), the fold's train and validate rows are evaluated
//!    (`train_fold_k`, `validate_fold_k`: binary, multi or regression as the
//!    model's task), logged to the tracker and put in the summary.
//!
//! Output: the input data, or with `output_fold_history` FATE's fold history:
//! one row per id and fold, keyed `{id}#fold{k}#{train|validate}`, holding
//! the prediction (or, with `history_with_value` or on a party without
//! predictions, the instance; a party without predictions and without
//! `history_with_value` stores the fold number as its only feature, as FATE).
//! No model is output (FATE's CV model holds only the summary).

use crate::intersection::ops::{IdOnly, KeepInstance};
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, Metric,
    Prediction, TaskContext, Tracker,
};
use fedflow_computing::{parallelize, Session, Table, TypedTable};
use fedflow_core::{Party, Role};
use fedflow_federation::{Federation, TransferVariable};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Deserialize;
use std::sync::Arc;

/// How a module's parties share rows, which decides who makes the folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Vertical: the guest folds the (intersected) ids, hosts follow.
    Hetero,
    /// Horizontal: every client folds its own rows.
    Homo,
}

/// Modules with cross validation, and their mode.
pub const MODULES: &[(&str, Mode)] = &[
    ("HeteroLR", Mode::Hetero),
    ("HeteroLinR", Mode::Hetero),
    ("HeteroSecureBoost", Mode::Hetero),
    ("HomoLR", Mode::Homo),
    ("HomoSecureBoost", Mode::Homo),
    ("HomoSecureboost", Mode::Homo),
];

/// The cross-validation mode of `module`, if it has one.
pub fn mode_of(module: &str) -> Option<Mode> {
    MODULES.iter().find(|(m, _)| *m == module).map(|(_, k)| *k)
}

/// The guest's fold of every id, sent once to each host.
pub const CV_FOLD_IDS: TransferVariable =
    TransferVariable::new("cv_fold_ids", &[Role::Guest], &[Role::Host]);

/// FATE's `CrossValidationParam` (`mode` and `role` are FATE's internal
/// fields, filled by the job; accepted and checked against the module).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CvParam {
    /// Number of folds (≥ 2).
    pub n_splits: i64,
    /// `hetero` or `homo` (FATE fills it from the module).
    pub mode: Option<String>,
    /// FATE's internal role field; ignored (the task knows its role).
    pub role: Option<String>,
    /// Shuffle the ids before folding.
    pub shuffle: bool,
    /// The shuffle's seed (`null`: a fresh one).
    pub random_seed: Option<i64>,
    /// Run cross validation instead of one training.
    pub need_cv: bool,
    /// Output the fold history instead of the input data.
    pub output_fold_history: bool,
    /// In the fold history, keep the instances rather than predictions.
    pub history_with_value: bool,
    /// FATE's older spelling of the same choice: `score` (predictions) or
    /// `instance` (the instances).
    pub history_value_type: Option<String>,
}

impl Default for CvParam {
    fn default() -> Self {
        CvParam {
            n_splits: 5,
            mode: None,
            role: None,
            shuffle: true,
            random_seed: Some(1),
            need_cv: false,
            output_fold_history: false,
            history_with_value: false,
            history_value_type: None,
        }
    }
}

/// Parses and checks `cv_param` of `component`'s parameters (the default
/// when absent).
pub fn params(
    component: &str,
    module: &str,
    params: &serde_json::Value,
) -> Result<CvParam, ComponentError> {
    let Some(v) = params.get("cv_param") else {
        return Ok(CvParam::default());
    };
    let mut p: CvParam = parse_params(&format!("{component}.cv_param"), v)?;
    let bad = |field: &str, message: String| ComponentError::Param {
        path: format!("{component}.cv_param.{field}"),
        message,
    };
    match p.history_value_type.as_deref() {
        None | Some("score") => {}
        Some("instance") => p.history_with_value = true,
        Some(other) => {
            return Err(bad(
                "history_value_type",
                format!("'{other}': expected score or instance"),
            ))
        }
    }
    if p.need_cv {
        let Some(mode) = mode_of(module) else {
            return Err(bad(
                "need_cv",
                format!("cross validation is not implemented for {module}"),
            ));
        };
        if p.n_splits < 2 {
            return Err(bad(
                "n_splits",
                format!("{}: expected an integer ≥ 2", p.n_splits),
            ));
        }
        if let Some(m) = &p.mode {
            let want = match mode {
                Mode::Hetero => "hetero",
                Mode::Homo => "homo",
            };
            if !m.eq_ignore_ascii_case(want) {
                return Err(bad("mode", format!("'{m}': {module} is {want}")));
            }
        }
        if matches!(p.random_seed, Some(s) if s < 0) {
            return Err(bad("random_seed", "expected a non-negative integer".into()));
        }
    }
    Ok(p)
}

/// Runs `component`'s task on `ctx` as `p.n_splits`-fold cross validation.
pub fn run(
    component: &dyn Component,
    ctx: &TaskContext,
    p: &CvParam,
    mode: Mode,
) -> Result<ComponentOutput, ComponentError> {
    let cpn = &ctx.component_name;
    let k = p.n_splits as usize;
    let mut fold_params = ctx.params.clone();
    fold_params["cv_param"]["need_cv"] = serde_json::json!(false);
    let fold_ctx = |fold: usize, train: Option<Dataset>, test: Option<Dataset>| {
        let mut inputs = ctx.inputs.clone();
        inputs.data.clear();
        if let (Some(tr), Some(te)) = (train, test) {
            inputs.data.insert("train_data".into(), vec![tr]);
            inputs.data.insert("validate_data".into(), vec![te]);
        }
        TaskContext {
            params: fold_params.clone(),
            federation: Arc::new(FoldFederation {
                inner: ctx.federation.clone(),
                prefix: format!("cv{fold}."),
            }),
            tracker: Arc::new(FoldTracker {
                inner: ctx.tracker.clone(),
                prefix: format!("fold_{fold}."),
            }),
            inputs,
            ..ctx.clone()
        }
    };
    if ctx.local.role == Role::Arbiter {
        let mut summary = serde_json::Map::new();
        for fold in 0..k {
            let out = component.run(&fold_ctx(fold, None, None))?;
            summary.insert(format!("fold_{fold}"), out.summary);
        }
        summary.insert("fold_num".into(), serde_json::json!(k));
        return Ok(ComponentOutput {
            summary: serde_json::Value::Object(summary),
            ..Default::default()
        });
    }
    let data = crate::hetero_lr::train_input(ctx)?.clone();
    let table: TypedTable<String, Instance> = TypedTable::from_raw(data.table.clone());
    let n = table.count()? as usize;
    let folds: Vec<(String, u32)> = match (mode, ctx.local.role) {
        (Mode::Hetero, Role::Host) => {
            let guest = crate::hetero_lr::one(ctx, Role::Guest)?;
            let got: Vec<(String, u32)> =
                CV_FOLD_IDS.get_one(ctx.federation.as_ref(), guest, "")?;
            if got.iter().any(|(_, f)| *f as usize >= k) {
                return Err(ComponentError::Failed(format!(
                    "{cpn}: the guest's folds exceed n_splits {k}"
                )));
            }
            got
        }
        _ => {
            if n < k {
                return Err(ComponentError::Param {
                    path: format!("{cpn}.cv_param.n_splits"),
                    message: format!("{k} folds, but {} has only {n} rows", ctx.local),
                });
            }
            let ids: Vec<String> = table
                .map_values(IdOnly)?
                .collect()?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let f = assign_folds(ids, k, p.shuffle, p.random_seed);
            if mode == Mode::Hetero {
                let hosts = crate::hetero_lr::parties(ctx, Role::Host);
                CV_FOLD_IDS.remote(ctx.federation.as_ref(), &f, &hosts, "")?;
            }
            f
        }
    };
    let parts = data.table.partitions();
    let mut summary = serde_json::Map::new();
    let mut evaluation = serde_json::Map::new();
    let mut history: Option<Arc<dyn Table>> = None;
    let mut had_pred = false;
    let eval_type = eval_type(component.module(), &ctx.params);
    for fold in 0..k {
        let pick = |test: bool| -> Result<Dataset, ComponentError> {
            let rows: Vec<(String, u8)> = folds
                .iter()
                .filter(|(_, f)| (*f as usize == fold) == test)
                .map(|(id, _)| (id.clone(), 0u8))
                .collect();
            let keep = parallelize(ctx.computing.as_ref(), rows, parts)?;
            Ok(Dataset {
                table: table.join(&keep, KeepInstance)?.raw().clone(),
                schema: data.schema.clone(),
            })
        };
        let (train, test) = (pick(false)?, pick(true)?);
        let (n_train, n_test) = (train.table.count()?, test.table.count()?);
        if n_train + n_test != n as u64
            || n_train + n_test != folds.len() as u64
            || n_test == 0
            || n_train == 0
        {
            return Err(ComponentError::Failed(format!(
                "{cpn}: fold {fold} on {}: {n_train} train + {n_test} validate rows of its {n}, of the {} ids folded (its ids differ from the guest's: run Intersection first)",
                ctx.local,
                folds.len()
            )));
        }
        let out = component.run(&fold_ctx(fold, Some(train.clone()), Some(test.clone())))?;
        let pred = out
            .data
            .first()
            .filter(|d| d.schema.header.first().map(String::as_str) == Some("label"));
        if let Some(pred) = pred {
            had_pred = true;
            let rows: TypedTable<String, Prediction> = TypedTable::from_raw(pred.table.clone());
            let rows = rows.collect()?;
            for kind in ["train", "validate"] {
                let of: Vec<Prediction> = rows
                    .iter()
                    .filter(|(_, r)| r.kind == kind && !r.label.is_nan())
                    .map(|(_, r)| r.clone())
                    .collect();
                let key = format!("{kind}_fold_{fold}");
                let et = eval_type.unwrap_or_else(|| classes_type(&of));
                let m = crate::evaluation::evaluate(ctx, &key, et, 1.0, &of);
                evaluation.insert(key, serde_json::Value::Object(m));
            }
        }
        if p.output_fold_history {
            let h = fold_history(ctx, fold, &train, &test, pred, p.history_with_value, parts)?;
            history = Some(match history {
                None => h,
                Some(all) => all.union(h.as_ref(), None)?,
            });
        }
        summary.insert(format!("fold_{fold}"), out.summary);
    }
    summary.insert("fold_num".into(), serde_json::json!(k));
    if !evaluation.is_empty() {
        summary.insert("evaluation".into(), serde_json::Value::Object(evaluation));
    }
    let data_out = match history {
        Some(table) => Dataset {
            table,
            schema: history_schema(&data, p, had_pred),
        },
        None => data,
    };
    Ok(ComponentOutput {
        summary: serde_json::Value::Object(summary),
        data: vec![data_out],
        model: None,
    })
}

/// Puts sample ids in order: numerically when every id is a number, else as
/// text (so that seeded shuffles are the same whatever order rows came in).
pub(crate) fn sort_ids(ids: &mut [String]) {
    if ids.iter().all(|s| s.parse::<f64>().is_ok()) {
        ids.sort_by(|a, b| {
            let (x, y) = (
                a.parse::<f64>().unwrap_or(0.0),
                b.parse::<f64>().unwrap_or(0.0),
            );
            x.total_cmp(&y).then_with(|| a.cmp(b))
        });
    } else {
        ids.sort();
    }
}

/// Folds of `ids`: ordered, optionally shuffled, cut as scikit-learn's KFold.
pub fn assign_folds(
    mut ids: Vec<String>,
    k: usize,
    shuffle: bool,
    seed: Option<i64>,
) -> Vec<(String, u32)> {
    sort_ids(&mut ids);
    if shuffle {
        let mut rng = match seed {
            Some(s) => rand_chacha::ChaCha8Rng::seed_from_u64(s as u64),
            None => rand_chacha::ChaCha8Rng::from_entropy(),
        };
        ids.shuffle(&mut rng);
    }
    let n = ids.len();
    let (base, extra) = (n / k, n % k);
    let mut out = Vec::with_capacity(n);
    let mut it = ids.into_iter();
    for fold in 0..k {
        let size = base + usize::from(fold < extra);
        out.extend(it.by_ref().take(size).map(|id| (id, fold as u32)));
    }
    out
}

/// The evaluation type a module's task decides, if its parameters do.
fn eval_type(module: &str, params: &serde_json::Value) -> Option<&'static str> {
    if module == "HeteroLinR" {
        return Some("regression");
    }
    match params.get("task_type").and_then(|v| v.as_str()) {
        Some("regression") => Some("regression"),
        _ => None,
    }
}

/// Binary or multi, by the classes the predictions know.
fn classes_type(rows: &[Prediction]) -> &'static str {
    let classes = rows
        .first()
        .and_then(|r| {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&r.predict_detail)
                .ok()
        })
        .map(|m| m.len())
        .unwrap_or(2);
    if classes > 2 {
        "multi"
    } else {
        "binary"
    }
}

fn fold_history(
    ctx: &TaskContext,
    fold: usize,
    train: &Dataset,
    test: &Dataset,
    pred: Option<&Dataset>,
    with_value: bool,
    parts: usize,
) -> Result<Arc<dyn Table>, ComponentError> {
    let key = |id: &str, kind: &str| format!("{id}#fold{fold}#{kind}");
    if let Some(pred) = pred.filter(|_| !with_value) {
        let rows: TypedTable<String, Prediction> = TypedTable::from_raw(pred.table.clone());
        let rows: Vec<(String, Prediction)> = rows
            .collect()?
            .into_iter()
            .map(|(id, r)| (key(&id, &r.kind), r))
            .collect();
        return Ok(parallelize(ctx.computing.as_ref(), rows, parts)?
            .raw()
            .clone());
    }
    let mut rows = Vec::new();
    for (d, kind) in [(train, "train"), (test, "validate")] {
        let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
        for (id, inst) in t.collect()? {
            let v = if with_value {
                inst
            } else {
                Instance {
                    features: vec![fold as f64],
                    label: None,
                    weight: 1.0,
                }
            };
            rows.push((key(&id, kind), v));
        }
    }
    Ok(parallelize(ctx.computing.as_ref(), rows, parts)?
        .raw()
        .clone())
}

fn history_schema(data: &Dataset, p: &CvParam, had_pred: bool) -> crate::Schema {
    let mut s = data.schema.clone();
    if !p.history_with_value {
        s.header = if had_pred {
            crate::PREDICTION_HEADER
                .iter()
                .map(|h| h.to_string())
                .collect()
        } else {
            vec!["fold_num".into()]
        };
        s.label_name = None;
    }
    s
}

/// The job's federation with every tag prefixed by the fold.
struct FoldFederation {
    inner: Arc<dyn Federation>,
    prefix: String,
}

impl Federation for FoldFederation {
    fn engine(&self) -> &'static str {
        self.inner.engine()
    }
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }
    fn local(&self) -> Party {
        self.inner.local()
    }
    fn remote_bytes(
        &self,
        name: &str,
        tag: &str,
        value: &[u8],
        dst: &[Party],
    ) -> fedflow_federation::Result<()> {
        self.inner
            .remote_bytes(name, &format!("{}{tag}", self.prefix), value, dst)
    }
    fn get_bytes(
        &self,
        name: &str,
        tag: &str,
        src: &[Party],
    ) -> fedflow_federation::Result<Vec<Vec<u8>>> {
        self.inner
            .get_bytes(name, &format!("{}{tag}", self.prefix), src)
    }
    fn remote_table(
        &self,
        name: &str,
        tag: &str,
        table: &dyn Table,
        dst: &[Party],
    ) -> fedflow_federation::Result<()> {
        self.inner
            .remote_table(name, &format!("{}{tag}", self.prefix), table, dst)
    }
    fn get_tables(
        &self,
        name: &str,
        tag: &str,
        src: &[Party],
        session: &dyn Session,
    ) -> fedflow_federation::Result<Vec<Arc<dyn Table>>> {
        self.inner
            .get_tables(name, &format!("{}{tag}", self.prefix), src, session)
    }
    fn abort(&self, reason: &str) {
        self.inner.abort(reason)
    }
    fn cleanup(&self) -> fedflow_federation::Result<()> {
        // The job's session outlives the fold; the task cleans it up.
        Ok(())
    }
}

/// The job's tracker with every namespace prefixed by the fold.
struct FoldTracker {
    inner: Arc<dyn Tracker>,
    prefix: String,
}

impl Tracker for FoldTracker {
    fn log_metric(&self, mut metric: Metric) {
        metric.namespace = format!("{}{}", self.prefix, metric.namespace);
        self.inner.log_metric(metric);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hetero_lr::harness::{self, read_csv, Frame};

    /// The rows of `f` whose id is (`inside`) or is not in `ids`.
    fn subset(f: &Frame, ids: &std::collections::BTreeSet<String>, inside: bool) -> Frame {
        let keep: Vec<usize> = (0..f.ids.len())
            .filter(|&i| ids.contains(&f.ids[i]) == inside)
            .collect();
        Frame {
            ids: keep.iter().map(|&i| f.ids[i].clone()).collect(),
            header: f.header.clone(),
            x: keep.iter().map(|&i| f.x[i].clone()).collect(),
            y: f.y.as_ref().map(|y| keep.iter().map(|&i| y[i]).collect()),
        }
    }

    /// Each fold of a CV job equals the component trained on that fold's
    /// split by hand: `fold` of the CV summary vs a plain run's summary.
    fn check_folds_equal_plain_runs(
        make: fn() -> Box<dyn Component>,
        frames: &[Frame],
        params: serde_json::Value,
        with_arbiter: bool,
        mode: Mode,
        compare: &[&str],
    ) -> harness::Run {
        let (k, seed) = (3usize, 5i64);
        let mut cv = params.clone();
        cv["cv_param"] = serde_json::json!({"need_cv": true, "n_splits": k, "shuffle": true, "random_seed": seed});
        let run = harness::run_job(make, cv, frames, with_arbiter, "train", None);
        assert_eq!(run.guest.summary["fold_num"], serde_json::json!(k));
        assert!(run.guest.model.is_none(), "a CV task outputs no model");
        // The folds each party makes (vertical: the guest's, for everyone).
        let folds_of = |f: &Frame| assign_folds(f.ids.clone(), k, true, Some(seed));
        for fold in 0..k {
            let test_ids = |f: &Frame| -> std::collections::BTreeSet<String> {
                let src = if mode == Mode::Hetero { &frames[0] } else { f };
                folds_of(src)
                    .into_iter()
                    .filter(|(_, g)| *g as usize == fold)
                    .map(|(id, _)| id)
                    .collect()
            };
            let train: Vec<Frame> = frames
                .iter()
                .map(|f| subset(f, &test_ids(f), false))
                .collect();
            let test: Vec<Frame> = frames
                .iter()
                .map(|f| subset(f, &test_ids(f), true))
                .collect();
            let plain = harness::run_job_with(
                make,
                params.clone(),
                &train,
                Some(&test),
                with_arbiter,
                "train",
                None,
            );
            let got = &run.guest.summary[format!("fold_{fold}")];
            for key in compare {
                assert_eq!(&got[*key], &plain.guest.summary[*key], "fold {fold}: {key}");
                assert!(!got[*key].is_null(), "fold {fold}: no {key}");
            }
            let ev = &run.guest.summary["evaluation"][format!("validate_fold_{fold}")];
            let auc = ev["auc"].as_f64().unwrap();
            assert!(auc > 0.9 && auc <= 1.0, "fold {fold}: validate auc {auc}");
        }
        run
    }

    #[test]
    fn hetero_lr_folds_equal_plain_runs_and_hosts_get_only_fold_ids() {
        let frames = vec![
            read_csv("breast_hetero_guest.csv", Some("y")),
            read_csv("breast_hetero_host.csv", None),
        ];
        let p = serde_json::json!({"penalty": "L2", "alpha": 0.01, "optimizer": "rmsprop",
            "batch_size": -1, "learning_rate": 0.15, "encrypt_param": {"key_length": 1024},
            "init_param": {"init_method": "zeros"}, "max_iter": 3, "tol": 0.0});
        let make = || -> Box<dyn Component> { Box::new(crate::hetero_lr::HeteroLR) };
        let run = check_folds_equal_plain_runs(
            make,
            &frames,
            p,
            true,
            Mode::Hetero,
            &["coef", "intercept"],
        );
        let ids: Vec<&harness::Sent> = run
            .wire
            .iter()
            .filter(|s| s.name == CV_FOLD_IDS.name)
            .collect();
        assert_eq!(ids.len(), 1, "the folds travel once");
        assert_eq!(ids[0].src.role, Role::Guest);
        assert!(ids[0].dst.iter().all(|d| d.role == Role::Host));
        let want = assign_folds(frames[0].ids.clone(), 3, true, Some(5));
        let got: Vec<(String, u32)> = fedflow_core::codec::decode(&ids[0].bytes).unwrap();
        assert_eq!(got, want, "ids and fold numbers, nothing else");
    }

    #[test]
    fn homo_secureboost_folds_equal_plain_runs_on_every_client() {
        let frames = vec![
            read_csv("breast_homo_guest.csv", Some("y")),
            read_csv("breast_homo_host.csv", Some("y")),
        ];
        let p = serde_json::json!({"task_type": "classification", "num_trees": 2,
            "tree_param": {"max_depth": 3}});
        let make = || -> Box<dyn Component> { Box::new(crate::homo::secureboost::HomoSecureBoost) };
        let run = check_folds_equal_plain_runs(
            make,
            &frames,
            p,
            true,
            Mode::Homo,
            &["loss_history", "feature_importance"],
        );
        // The host evaluates its own folds too.
        assert!(run.hosts[0].summary["evaluation"]["validate_fold_2"]["auc"]
            .as_f64()
            .is_some());
    }

    #[test]
    fn a_host_whose_ids_differ_fails_naming_itself() {
        let mut host = read_csv("breast_hetero_host.csv", None);
        host.ids.truncate(400);
        host.x.truncate(400);
        let frames = vec![read_csv("breast_hetero_guest.csv", Some("y")), host];
        let p = serde_json::json!({"max_iter": 1, "cv_param": {"need_cv": true, "n_splits": 3}});
        let make = || -> Box<dyn Component> { Box::new(crate::hetero_lr::HeteroLR) };
        let e = harness::run_job_err(make, p, &frames, true);
        assert!(
            e.contains("host") && e.contains("run Intersection first"),
            "{e}"
        );
    }

    #[test]
    fn folds_are_sklearn_sized_ordered_and_seeded() {
        let ids: Vec<String> = (0..11).rev().map(|i| i.to_string()).collect();
        let f = assign_folds(ids.clone(), 3, false, Some(1));
        let sizes: Vec<usize> = (0..3)
            .map(|k| f.iter().filter(|x| x.1 == k).count())
            .collect();
        assert_eq!(sizes, vec![4, 4, 3]);
        // Numeric order, consecutive folds.
        assert_eq!(f[0], ("0".to_string(), 0));
        assert_eq!(f[4], ("4".to_string(), 1));
        assert_eq!(f[10], ("10".to_string(), 2));
        let a = assign_folds(ids.clone(), 3, true, Some(7));
        let b = assign_folds(ids.clone(), 3, true, Some(7));
        let c = assign_folds(ids, 3, true, Some(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bad_cv_params_name_the_field() {
        let e = params(
            "lr_0",
            "HeteroLR",
            &serde_json::json!({"cv_param": {"need_cv": true, "n_splits": 1}}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("lr_0.cv_param.n_splits"), "{e}");
        let e = params(
            "x_0",
            "FeatureScale",
            &serde_json::json!({"cv_param": {"need_cv": true}}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("x_0.cv_param.need_cv") && e.contains("not implemented for FeatureScale"),
            "{e}"
        );
        let e = params(
            "lr_0",
            "HomoLR",
            &serde_json::json!({"cv_param": {"need_cv": true, "mode": "hetero"}}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("lr_0.cv_param.mode"), "{e}");
        let e = params(
            "lr_0",
            "HomoLR",
            &serde_json::json!({"cv_param": {"need_cv": true, "folds": 3}}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("folds"), "{e}");
        assert!(params(
            "lr_0",
            "FeatureScale",
            &serde_json::json!({"cv_param": {"need_cv": false}})
        )
        .is_ok());
    }
}
