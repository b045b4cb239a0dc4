//! `HeteroDataSplit` and `HomoDataSplit` (FATE's data split modules): cut a
//! party's rows into `train_data`, `validate_data` and `test_data` (the
//! three outputs, in that order).
//!
//! * Hetero ([`guest`], [`host`]): the guest draws the split from its ids
//!   and labels and sends each host the three id lists (ids only); a host
//!   keeps its rows by them and fails, naming itself, when some id is not
//!   among its rows (run Intersection first).
//! * Homo ([`homo`]): every party splits its own rows; nothing is sent.
//!
//! Parameters (FATE's `DataSplitParam`): `train_size`, `validate_size`,
//! `test_size` — fractions when any is a float, else row counts; missing
//! ones make up the rest; none given: 0.8 / 0.2 / 0 — they must sum to 1 (or
//! the row count), else the task fails naming them. `stratified` (false):
//! each class keeps its share in every part (classes: the label, or with
//! `split_points` the bin of a continuous label, bins cut before each
//! point); `shuffle` (true; false takes rows in id order and refuses
//! `stratified`, as scikit-learn); `random_state` (the seed; none: a random
//! one, reported in the summary); `need_run` (true; false outputs the input
//! as `train_data` and empty validate and test sets).
//!
//! The split follows FATE's two steps: train against validate+test, then
//! validate against test, each as scikit-learn's `train_test_split` sizes
//! them (a fraction of n gives `round(train·n)` train rows). Ids are put
//! in order first (numerically when all are numbers), so a seed gives the
//! same split whatever order rows came in. The draw itself is fedflow's
//! (ChaCha8), not NumPy's: splits differ from FATE's row for row, but the
//! sizes and per-class counts are the same.
//!
//! Summary (FATE's): `data_split_count_info`, `data_split_ratio_info`,
//! `stratified`, and when stratified `data_split_label_info` (per part the
//! count of each class or bin).

pub mod guest;
pub mod homo;
pub mod host;

use crate::federated_sample::LabelOf;
use crate::intersection::KeepInstance;
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, TaskContext,
};
use fedflow_computing::{parallelize, TypedTable};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Number, Value};
use std::collections::BTreeMap;

/// The guest's three id lists for the hosts.
pub const SPLIT_IDS: TransferVariable =
    TransferVariable::new("data_split_ids", &[Role::Guest], &[Role::Host]);

/// FATE's `DataSplitParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSplitParam {
    /// Seed of the shuffle.
    pub random_state: Option<u64>,
    /// Share or count of test rows.
    pub test_size: Option<Number>,
    /// Share or count of train rows.
    pub train_size: Option<Number>,
    /// Share or count of validate rows.
    pub validate_size: Option<Number>,
    /// Keep class shares in every part.
    pub stratified: bool,
    /// Shuffle before cutting.
    pub shuffle: bool,
    /// Bins of a continuous label for `stratified`.
    pub split_points: Option<Vec<f64>>,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for DataSplitParam {
    fn default() -> Self {
        DataSplitParam {
            random_state: None,
            test_size: None,
            train_size: None,
            validate_size: None,
            stratified: false,
            shuffle: true,
            split_points: None,
            need_run: true,
        }
    }
}

/// A set size: a share of the rows or a count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Size {
    /// A fraction.
    Share(f64),
    /// Rows.
    Count(usize),
}

use super::param_error as bad;

/// Whether sizes are shares (some size is a float, or none is given) or row counts.
fn in_shares(p: &DataSplitParam) -> bool {
    let given = [&p.train_size, &p.validate_size, &p.test_size];
    given.iter().all(|v| v.is_none())
        || given.iter().any(|v| v.as_ref().is_some_and(Number::is_f64))
}

/// The (train, validate, test) sizes of `n` rows, completed as FATE does.
pub fn sizes(cpn: &str, p: &DataSplitParam, n: usize) -> Result<[f64; 3], ComponentError> {
    let given = [&p.train_size, &p.validate_size, &p.test_size];
    let names = ["train_size", "validate_size", "test_size"];
    for (v, name) in given.iter().zip(names) {
        if let Some(x) = v {
            if x.as_f64().is_none_or(|f| f < 0.0) {
                return Err(bad(
                    cpn,
                    name,
                    format!("{x}: expected a non-negative number"),
                ));
            }
            if x.is_f64() && x.as_f64().is_some_and(|f| f > 1.0) {
                return Err(bad(
                    cpn,
                    name,
                    format!("{x}: a share must be at most 1 (a row count is an integer)"),
                ));
            }
        }
    }
    let shares = in_shares(p);
    let total = if shares { 1.0 } else { n as f64 };
    let f = |v: &Option<Number>| v.as_ref().and_then(Number::as_f64);
    let (tr, va, te) = (f(&p.train_size), f(&p.validate_size), f(&p.test_size));
    let out = match (tr, va, te) {
        (None, None, None) => [0.8, 0.2, 0.0],
        (None, None, Some(te)) => [total - te, 0.0, te],
        (None, Some(va), te) => {
            let te = te.unwrap_or(0.0);
            [total - va - te, va, te]
        }
        (Some(tr), None, None) => [tr, 0.0, total - tr],
        (Some(tr), Some(va), None) => [tr, va, total - va - tr],
        (Some(tr), None, Some(te)) => [tr, total - te - tr, te],
        (Some(tr), Some(va), Some(te)) => [tr, va, te],
    };
    if out.iter().any(|x| *x < -1e-8) || (out.iter().sum::<f64>() - total).abs() > 1e-8 {
        return Err(bad(
            cpn,
            "train_size",
            format!(
                "train_size, validate_size and test_size come to {:?}: they must sum to {}",
                out,
                if shares {
                    "1.0".to_string()
                } else {
                    format!("the row count {n}")
                }
            ),
        ));
    }
    Ok(out.map(|x| x.max(0.0)))
}

/// scikit-learn's `_approximate_mode` without its random tie-break: `n`
/// drawn from classes of `counts` in proportion (floors, then the largest
/// remainders, ties to the first class).
fn approximate_mode(counts: &[usize], n: usize) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    if total == 0 {
        return vec![0; counts.len()];
    }
    let exact: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 * n as f64 / total as f64)
        .collect();
    let mut take: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut left = n.saturating_sub(take.iter().sum());
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &c in order.iter().cycle().take(counts.len() * 2) {
        if left == 0 {
            break;
        }
        if take[c] < counts[c] {
            take[c] += 1;
            left -= 1;
        }
    }
    take
}

/// A sample id and its stratification class.
type Classed = (String, i64);

/// Per-class counts of the whole data, train, validate and test.
pub type ClassCounts = [BTreeMap<String, usize>; 4];

/// One `train_test_split` of `rows` (id, class): (first part, second part).
fn split_two(
    rows: Vec<Classed>,
    first: f64,
    second: f64,
    counts: bool,
    shuffle: bool,
    stratified: bool,
    rng: &mut ChaCha8Rng,
) -> (Vec<Classed>, Vec<Classed>) {
    if second <= 1e-8 {
        return (rows, Vec::new());
    }
    if first <= 1e-8 {
        return (Vec::new(), rows);
    }
    let n = rows.len();
    let (n_first, n_second) = if counts {
        (first as usize, second as usize)
    } else {
        let share = first / (first + second);
        let a = round_half_even(share * n as f64).min(n);
        (a, n - a)
    };
    if !stratified {
        let mut rows = rows;
        if shuffle {
            rows.shuffle(rng);
        }
        let mut it = rows.into_iter();
        let a: Vec<_> = it.by_ref().take(n_first).collect();
        let b: Vec<_> = it.take(n_second).collect();
        return (a, b);
    }
    let mut by_class: BTreeMap<i64, Vec<(String, i64)>> = BTreeMap::new();
    for r in rows {
        by_class.entry(r.1).or_default().push(r);
    }
    let class_counts: Vec<usize> = by_class.values().map(Vec::len).collect();
    let take_a = approximate_mode(&class_counts, n_first);
    let rest: Vec<usize> = class_counts
        .iter()
        .zip(&take_a)
        .map(|(c, a)| c - a)
        .collect();
    let take_b = approximate_mode(&rest, n_second);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for ((_, mut rows), (ta, tb)) in by_class.into_iter().zip(take_a.into_iter().zip(take_b)) {
        rows.shuffle(rng);
        let mut it = rows.into_iter();
        a.extend(it.by_ref().take(ta));
        b.extend(it.take(tb));
    }
    (a, b)
}

fn round_half_even(x: f64) -> usize {
    let r = x.round();
    let v = if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        r - 1.0
    } else {
        r
    };
    v.max(0.0) as usize
}

/// The class of a label for stratification: the label, or its bin.
fn class_of(label: Option<f64>, split_points: &Option<Vec<f64>>) -> i64 {
    let Some(y) = label else { return 0 };
    match split_points {
        Some(points) if !points.is_empty() => points.partition_point(|p| *p < y) as i64,
        // Labels as exact bit patterns keep distinct classes distinct.
        _ => y.to_bits() as i64,
    }
}

/// The split's id lists: train, validate, test.
pub type Split = [Vec<String>; 3];

/// Draws the split of `table` (ids and labels) with `p`. Returns it, the
/// per-class counts of each part when stratified, and the seed used.
pub fn draw(
    cpn: &str,
    p: &DataSplitParam,
    table: &TypedTable<String, Instance>,
) -> Result<(Split, Option<ClassCounts>, u64), ComponentError> {
    check_shuffle(cpn, p)?;
    let mut rows: Vec<(String, Option<f64>)> = table.map_values(LabelOf)?.collect()?;
    if p.stratified && rows.iter().any(|r| r.1.is_none()) {
        return Err(ComponentError::Input(format!(
            "{cpn}: stratified split needs labels, and this party's data has none"
        )));
    }
    let mut ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    crate::cv::sort_ids(&mut ids);
    let labels: BTreeMap<String, Option<f64>> = rows.drain(..).collect();
    let n = ids.len();
    let [tr, va, te] = sizes(cpn, p, n)?;
    let counts = !in_shares(p);
    let seed = p.random_state.unwrap_or_else(|| rand::thread_rng().gen());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let classed: Vec<(String, i64)> = ids
        .into_iter()
        .map(|id| {
            let c = if p.stratified {
                class_of(labels[&id], &p.split_points)
            } else {
                0
            };
            (id, c)
        })
        .collect();
    let (train, rest) = split_two(
        classed,
        tr,
        va + te,
        counts,
        p.shuffle,
        p.stratified,
        &mut rng,
    );
    // Second step: validate against test, as shares of what is left (or counts).
    let (vs, ts) = if counts {
        (va, te)
    } else if va + te > 0.0 {
        (va / (va + te), te / (va + te))
    } else {
        (0.0, 0.0)
    };
    let (validate, test) = split_two(rest, vs, ts, counts, p.shuffle, p.stratified, &mut rng);
    let per_class = p.stratified.then(|| {
        let name = |c: i64| match &p.split_points {
            Some(points) if !points.is_empty() => c.to_string(),
            _ => crate::preprocess::label_transform::label_text(f64::from_bits(c as u64)),
        };
        let count = |parts: &[&Vec<(String, i64)>]| {
            let mut m: BTreeMap<String, usize> = BTreeMap::new();
            for part in parts {
                for (_, c) in part.iter() {
                    *m.entry(name(*c)).or_default() += 1;
                }
            }
            m
        };
        let all = count(&[&train, &validate, &test]);
        let fill = |mut m: BTreeMap<String, usize>| {
            for k in all.keys() {
                m.entry(k.clone()).or_default();
            }
            m
        };
        [
            all.clone(),
            fill(count(&[&train])),
            fill(count(&[&validate])),
            fill(count(&[&test])),
        ]
    });
    let ids = |v: Vec<(String, i64)>| v.into_iter().map(|r| r.0).collect::<Vec<_>>();
    Ok(([ids(train), ids(validate), ids(test)], per_class, seed))
}

/// The rows of `table` whose ids are `ids`; fails when some id is not there.
pub fn keep(
    ctx: &TaskContext,
    table: &TypedTable<String, Instance>,
    ids: &[String],
) -> Result<TypedTable<String, Instance>, ComponentError> {
    let parts = table.partitions().max(1);
    let set: Vec<(String, u8)> = ids.iter().map(|i| (i.clone(), 0)).collect();
    let set = parallelize(ctx.computing.as_ref(), set, parts)?;
    let out = table.join(&set, KeepInstance)?;
    let n = out.count()? as usize;
    if n != ids.len() {
        return Err(ComponentError::Failed(format!(
            "{} ({} {}): {} of the guest's {} split ids are not among this party's rows (run Intersection before the data split)",
            ctx.component_name,
            ctx.local.role.as_str(),
            ctx.local.party_id,
            ids.len() - n,
            ids.len()
        )));
    }
    Ok(out)
}

/// The component's output: the three parts and FATE's summary.
pub fn output(
    ctx: &TaskContext,
    input: &Dataset,
    table: &TypedTable<String, Instance>,
    split: &Split,
    per_class: Option<ClassCounts>,
    p: &DataSplitParam,
    extra: serde_json::Map<String, Value>,
) -> Result<ComponentOutput, ComponentError> {
    let mut data = Vec::with_capacity(3);
    for ids in split {
        let t = keep(ctx, table, ids)?;
        data.push(Dataset {
            table: t.raw().clone(),
            schema: input.schema.clone(),
        });
    }
    let [a, b, c] = split.clone().map(|v| v.len());
    let total = (a + b + c).max(1) as f64;
    let r = |x: usize| (x as f64 / total * 1000.0).round() / 1000.0;
    let mut summary = serde_json::Map::new();
    summary.insert(
        "data_split_count_info".into(),
        json!({"train": a, "validate": b, "test": c, "original": a + b + c}),
    );
    summary.insert(
        "data_split_ratio_info".into(),
        json!({"train": r(a), "validate": r(b), "test": r(c)}),
    );
    summary.insert("stratified".into(), json!(p.stratified));
    if let Some([all, tr, va, te]) = per_class {
        let mut info = json!({"original": all, "train": tr, "validate": va, "test": te});
        match &p.split_points {
            Some(points) if !points.is_empty() => {
                info["split_points"] = json!(points);
                info["continuous_label"] = json!(true);
            }
            _ => {
                info["label_names"] = json!(all.keys().collect::<Vec<_>>());
                info["continuous_label"] = json!(false);
            }
        }
        summary.insert("data_split_label_info".into(), info);
    }
    summary.extend(extra);
    tracing::info!(
        "{}: split into {a} train, {b} validate, {c} test rows",
        ctx.component_name
    );
    Ok(ComponentOutput {
        summary: Value::Object(summary),
        data,
        model: None,
    })
}

/// need_run false: the input as train data, empty validate and test sets.
fn pass_through(ctx: &TaskContext, input: &Dataset) -> Result<ComponentOutput, ComponentError> {
    let empty: TypedTable<String, Instance> = parallelize(ctx.computing.as_ref(), Vec::new(), 1)?;
    let e = Dataset {
        table: empty.raw().clone(),
        schema: input.schema.clone(),
    };
    Ok(ComponentOutput {
        summary: json!({"need_run": false}),
        data: vec![input.clone(), e.clone(), e],
        model: None,
    })
}

/// scikit-learn's rule: a stratified split shuffles.
fn check_shuffle(cpn: &str, p: &DataSplitParam) -> Result<(), ComponentError> {
    if p.stratified && !p.shuffle {
        return Err(bad(
            cpn,
            "stratified",
            "a stratified split needs shuffle: true (as scikit-learn's train_test_split)".into(),
        ));
    }
    Ok(())
}

fn check(cpn: &str, params: &Value) -> Result<DataSplitParam, ComponentError> {
    let p: DataSplitParam = parse_params(cpn, params)?;
    sizes(cpn, &p, 100)?;
    check_shuffle(cpn, &p)?;
    Ok(p)
}

/// FATE's HeteroDataSplit.
pub struct HeteroDataSplit;

/// FATE's HomoDataSplit.
pub struct HomoDataSplit;

fn run_split(ctx: &TaskContext, homo: bool) -> Result<ComponentOutput, ComponentError> {
    let cpn = ctx.component_name.as_str();
    let p: DataSplitParam = parse_params(cpn, &ctx.params)?;
    let Some(input) = ctx.inputs.any() else {
        return Ok(ComponentOutput::default());
    };
    if !p.need_run {
        return pass_through(ctx, input);
    }
    let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
    match (homo, ctx.local.role) {
        (_, Role::Arbiter) => Ok(ComponentOutput::default()),
        (true, _) => homo::run(ctx, &p, input, &table),
        (false, Role::Guest) => guest::run(ctx, &p, input, &table),
        (false, _) => host::run(ctx, &p, input, &table),
    }
}

impl Component for HeteroDataSplit {
    fn module(&self) -> &'static str {
        "HeteroDataSplit"
    }
    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        check(component, params).map(|_| ())
    }
    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        run_split(ctx, false)
    }
}

impl Component for HomoDataSplit {
    fn module(&self) -> &'static str {
        "HomoDataSplit"
    }
    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        check(component, params).map(|_| ())
    }
    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        run_split(ctx, true)
    }
}

#[cfg(test)]
mod tests;
