//! `FederatedSample` (FATE's FederatedSample, `federatedml/feature/sampler.py`).
//!
//! Parameters (FATE's `SampleParam`): `mode` `random` (default) or
//! `stratified`; `method` `downsample` (default) or `upsample`; `fractions`
//! (random: one ratio; stratified: `[[label, ratio], …]`, every label of the
//! data listed); `random_state` (seed; `random_seed` is accepted as an alias;
//! none: a fresh one, reported in the summary); `task_type` `hetero`
//! (default) or `homo`; `need_run` (true).
//!
//! As FATE: downsampling keeps `max(1, ⌊ratio·n⌋)` ids drawn without
//! replacement (per label in stratified mode) and keeps their ids;
//! upsampling draws `⌊ratio·n⌋` ids with replacement (stratified:
//! `max(1, ⌊ratio·n_label⌋)` per label, then shuffled) and numbers the rows
//! anew: row `i` of the output has id `"i"` and copies the row of the `i`-th
//! drawn id. Ids are drawn from the party's ids in sorted order with a
//! ChaCha8 generator seeded by `random_state`, so a seed gives the same sample
//! on any engine and partitioning.
//!
//! `hetero`: the guest (which has the labels) draws and sends the hosts the
//! drawn id list (`sample_ids`); each host applies the same list to its rows,
//! so every party ends with the same ids, and a host missing a drawn id fails
//! (run Intersection first). `homo`: each party samples its own rows.
//! The arbiter does nothing. No model.

mod guest;
mod host;
mod ops;

pub use ops::{AttachCopies, ExpandCopies, LabelOf};

use crate::intersection::KeepInstance;
use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, Metric,
    TaskContext,
};
use fedflow_computing::{parallelize, TypedTable};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The guest's drawn ids, to the hosts.
pub const SAMPLE_IDS: TransferVariable =
    TransferVariable::new("sample_ids", &[Role::Guest], &[Role::Host]);

/// FATE's `SampleParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SampleParam {
    /// `random` or `stratified`.
    pub mode: String,
    /// `downsample` or `upsample`.
    pub method: String,
    /// A ratio (random) or `[[label, ratio], …]` (stratified).
    pub fractions: Option<serde_json::Value>,
    /// Seed of the draw.
    #[serde(alias = "random_seed")]
    pub random_state: Option<u64>,
    /// `hetero` or `homo`.
    pub task_type: String,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for SampleParam {
    fn default() -> Self {
        SampleParam {
            mode: "random".into(),
            method: "downsample".into(),
            fractions: None,
            random_state: None,
            task_type: "hetero".into(),
            need_run: true,
        }
    }
}

/// Checked fractions: one ratio, or (label, ratio) per stratum in the given order.
#[derive(Debug, Clone, PartialEq)]
pub enum Fractions {
    /// `random` mode.
    Random(f64),
    /// `stratified` mode.
    Stratified(Vec<(f64, f64)>),
}

impl SampleParam {
    /// Checks `task_type` (all a hetero host needs).
    pub fn check_task_type(&self, cpn: &str) -> Result<(), ComponentError> {
        if matches!(self.task_type.as_str(), "hetero" | "homo") {
            Ok(())
        } else {
            Err(ComponentError::Param {
                path: format!("{cpn}.task_type"),
                message: format!("'{}': expected hetero or homo", self.task_type),
            })
        }
    }

    /// Checks the parameters as FATE does; errors name the field.
    pub fn check(&self, cpn: &str) -> Result<Fractions, ComponentError> {
        let bad = |field: &str, message: String| ComponentError::Param {
            path: format!("{cpn}.{field}"),
            message,
        };
        if !matches!(self.method.as_str(), "downsample" | "upsample") {
            return Err(bad(
                "method",
                format!("'{}': expected downsample or upsample", self.method),
            ));
        }
        self.check_task_type(cpn)?;
        let up = self.method == "upsample";
        let ratio = |field: String, v: &serde_json::Value| -> Result<f64, ComponentError> {
            let r = v
                .as_f64()
                .ok_or_else(|| bad(&field, format!("{v}: expected a number")))?;
            if up && r <= 0.0 {
                return Err(bad(
                    &field,
                    format!("{r}: upsample ratios must be larger than 0"),
                ));
            }
            if !up && !(0.0..=1.0).contains(&r) {
                return Err(bad(
                    &field,
                    format!("{r}: downsample ratios must be between 0 and 1 inclusive"),
                ));
            }
            Ok(r)
        };
        let fr = self
            .fractions
            .as_ref()
            .filter(|v| !v.is_null())
            .ok_or_else(|| bad("fractions", "required".into()))?;
        match self.mode.as_str() {
            "random" => Ok(Fractions::Random(ratio("fractions".into(), fr)?)),
            "stratified" => {
                let list = fr.as_array().ok_or_else(|| {
                    bad(
                        "fractions",
                        format!("{fr}: expected a list of [label, ratio] pairs"),
                    )
                })?;
                let mut out: Vec<(f64, f64)> = Vec::new();
                for (i, pair) in list.iter().enumerate() {
                    let field = format!("fractions[{i}]");
                    let p = pair
                        .as_array()
                        .filter(|p| p.len() == 2)
                        .ok_or_else(|| bad(&field, format!("{pair}: expected [label, ratio]")))?;
                    let label = p[0]
                        .as_f64()
                        .or_else(|| p[0].as_str().and_then(|s| s.trim().parse().ok()))
                        .ok_or_else(|| {
                            bad(&field, format!("{}: expected a numeric label", p[0]))
                        })?;
                    if out.iter().any(|(l, _)| *l == label) {
                        return Err(bad(&field, format!("label {label} is listed twice")));
                    }
                    out.push((label, ratio(format!("{field}[1]"), &p[1])?));
                }
                if out.is_empty() {
                    return Err(bad("fractions", "empty: list a ratio per label".into()));
                }
                Ok(Fractions::Stratified(out))
            }
            m => Err(bad("mode", format!("'{m}': expected random or stratified"))),
        }
    }
}

/// What a draw decided, in the order drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Draw {
    /// Downsampling: the ids kept.
    Keep(Vec<String>),
    /// Upsampling: new id `i` copies the row of `ids[i]`.
    Copy(Vec<String>),
}

impl Draw {
    /// Rows the sample has.
    pub fn len(&self) -> usize {
        match self {
            Draw::Keep(v) | Draw::Copy(v) => v.len(),
        }
    }

    /// True when the sample has no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Per-stratum counts of a stratified draw: (label, rows before, rows after).
pub type StratumCounts = Vec<(f64, usize, usize)>;

/// Draws a sample of `rows` (id, label), as FATE's samplers do; pure and
/// deterministic for a seed (rows are sorted by id first).
pub fn draw(
    mut rows: Vec<(String, Option<f64>)>,
    fractions: &Fractions,
    upsample: bool,
    seed: u64,
) -> Result<(Draw, StratumCounts), ComponentError> {
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pick = |ids: &[String], k: usize, rng: &mut ChaCha8Rng| -> Vec<String> {
        if upsample {
            (0..k)
                .map(|_| ids[rng.gen_range(0..ids.len())].clone())
                .collect()
        } else {
            rand::seq::index::sample(rng, ids.len(), k.min(ids.len()))
                .into_iter()
                .map(|i| ids[i].clone())
                .collect()
        }
    };
    let (ids, counts) = match fractions {
        Fractions::Random(r) => {
            let ids: Vec<String> = rows.into_iter().map(|r| r.0).collect();
            let n = ids.len();
            let k = if upsample {
                (r * n as f64) as usize
            } else if n == 0 {
                0
            } else {
                ((r * n as f64) as usize).max(1)
            };
            let drawn = if n == 0 {
                Vec::new()
            } else {
                pick(&ids, k, &mut rng)
            };
            (drawn, Vec::new())
        }
        Fractions::Stratified(fr) => {
            let mut strata: Vec<Vec<String>> = vec![Vec::new(); fr.len()];
            for (id, label) in rows {
                let l = label.ok_or_else(|| {
                    ComponentError::Input(format!(
                        "stratified sampling needs labels: row '{id}' has none"
                    ))
                })?;
                let s = fr.iter().position(|(x, _)| *x == l).ok_or_else(|| {
                    ComponentError::Input(format!(
                        "row '{id}': label {l} has no ratio in fractions"
                    ))
                })?;
                strata[s].push(id);
            }
            let mut drawn = Vec::new();
            let mut counts = Vec::new();
            for ((label, r), ids) in fr.iter().zip(&strata) {
                let got = if ids.is_empty() {
                    Vec::new()
                } else {
                    pick(ids, ((r * ids.len() as f64) as usize).max(1), &mut rng)
                };
                counts.push((*label, ids.len(), got.len()));
                drawn.extend(got);
            }
            drawn.shuffle(&mut rng);
            (drawn, counts)
        }
    };
    Ok((
        if upsample {
            Draw::Copy(ids)
        } else {
            Draw::Keep(ids)
        },
        counts,
    ))
}

/// Applies a draw to a party's rows: the kept rows, or the copies under
/// their new ids. Fails when a drawn id is not among the rows.
pub fn apply(
    ctx: &TaskContext,
    table: &TypedTable<String, Instance>,
    d: &Draw,
) -> Result<TypedTable<String, Instance>, ComponentError> {
    let parts = table.partitions().max(1);
    let out = match d {
        Draw::Keep(ids) => {
            let keep: Vec<(String, u8)> = ids.iter().map(|i| (i.clone(), 0)).collect();
            let keep = parallelize(ctx.computing.as_ref(), keep, parts)?;
            table.join(&keep, KeepInstance)?
        }
        Draw::Copy(ids) => {
            let mut copies: HashMap<&str, Vec<u64>> = HashMap::new();
            for (i, id) in ids.iter().enumerate() {
                copies.entry(id.as_str()).or_default().push(i as u64);
            }
            let mut rows: Vec<(String, Vec<u64>)> = copies
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            let copies = parallelize(ctx.computing.as_ref(), rows, parts)?;
            table.join(&copies, AttachCopies)?.flat_map(ExpandCopies)?
        }
    };
    let n = out.count()? as usize;
    if n != d.len() {
        return Err(ComponentError::Failed(format!(
            "{}: {} of the {} sampled ids are not among this party's rows (run Intersection before FederatedSample)",
            ctx.component_name,
            d.len() - n,
            d.len()
        )));
    }
    Ok(out)
}

/// The component.
pub struct FederatedSample;

impl Component for FederatedSample {
    fn module(&self) -> &'static str {
        "FederatedSample"
    }

    /// Rows pass through whatever their features hold.
    fn reads_string_features(&self) -> bool {
        true
    }

    fn check_params(
        &self,
        component: &str,
        role: Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        let p: SampleParam = parse_params(component, params)?;
        p.check_task_type(component)?;
        if p.task_type == "homo" || role == Role::Guest {
            p.check(component)?;
        }
        Ok(())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let p: SampleParam = parse_params(cpn, &ctx.params)?;
        // Only a party that draws needs mode, method and fractions: a hetero
        // host applies the guest's draw.
        let draws = p.task_type == "homo" || ctx.local.role == Role::Guest;
        p.check_task_type(cpn)?;
        let fractions = if draws { Some(p.check(cpn)?) } else { None };
        if !matches!(ctx.local.role, Role::Guest | Role::Host) {
            return Ok(ComponentOutput::default());
        }
        let input = ctx
            .inputs
            .any()
            .ok_or_else(|| ComponentError::Input(format!("{cpn}: no input data")))?;
        if !p.need_run {
            return Ok(ComponentOutput {
                data: vec![input.clone()],
                ..Default::default()
            });
        }
        let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
        let (out, summary) = match &fractions {
            Some(f) => guest::run(ctx, &p, f, &table)?,
            None => host::run(ctx, &table)?,
        };
        Ok(ComponentOutput {
            summary,
            data: vec![Dataset {
                table: out.raw().clone(),
                schema: input.schema.clone(),
            }],
            model: None,
        })
    }
}

/// Reports FATE's `sample_count` (and, stratified, `original_count`)
/// metric: x the label (0 in random mode), y the rows.
fn log_counts(ctx: &TaskContext, namespace: &str, mode: &str, points: Vec<(f64, f64)>) {
    ctx.tracker.log_metric(Metric {
        namespace: namespace.into(),
        name: mode.into(),
        metric_type: "SAMPLE_TEXT".into(),
        points,
    });
}

#[cfg(test)]
mod tests;
