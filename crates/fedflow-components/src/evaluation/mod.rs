//! `Evaluation` (FATE's Evaluation): metrics of a model's prediction table
//! (`TypedTable<String, Prediction>`), per input dataset and per `type`
//! (train / validate / test).
//!
//! * `eval_type` `binary` (default): auc, ks, precision, recall, accuracy
//!   (summary); ROC, KS, lift and gain curves (tracker). Scores are
//!   `predict_score`, the positive class is `pos_label` (1).
//! * `multi`: accuracy, precision and recall (macro averages).
//! * `regression`: root_mean_squared_error, mean_squared_error,
//!   mean_absolute_error, median_absolute_error, r2_score, explained_variance.
//!
//! Summary: `{"hetero_lr_0": {"auc": …, "ks": …}}`, keyed by the upstream
//! component (`hetero_lr_0_validate` for a second type of rows). Runs where
//! predictions are (the guest); a party without input outputs nothing.

pub mod metrics;

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Metric, Prediction, TaskContext,
};
use fedflow_computing::TypedTable;
use serde::Deserialize;
use std::collections::BTreeMap;

/// FATE's `EvaluateParam`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EvaluateParam {
    /// `binary`, `multi` or `regression`.
    pub eval_type: String,
    /// The positive class (binary).
    pub pos_label: serde_json::Value,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for EvaluateParam {
    fn default() -> Self {
        EvaluateParam {
            eval_type: "binary".into(),
            pos_label: serde_json::json!(1),
            need_run: true,
        }
    }
}

/// The component.
pub struct Evaluation;

impl Component for Evaluation {
    fn module(&self) -> &'static str {
        "Evaluation"
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let p: EvaluateParam = parse_params(&ctx.component_name, &ctx.params)?;
        let pos = p
            .pos_label
            .as_f64()
            .or_else(|| p.pos_label.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| ComponentError::Param {
                path: format!("{}.pos_label", ctx.component_name),
                message: format!("{}: expected a number", p.pos_label),
            })?;
        if !matches!(p.eval_type.as_str(), "binary" | "multi" | "regression") {
            return Err(ComponentError::Param {
                path: format!("{}.eval_type", ctx.component_name),
                message: format!("'{}': expected binary, multi or regression", p.eval_type),
            });
        }
        let sets: Vec<_> = ctx.inputs.data.values().flatten().cloned().collect();
        // Predictions (with labels) live on the guest, and in horizontal jobs
        // on every host too (each evaluates its own); the arbiter has none.
        if sets.is_empty() || !p.need_run || ctx.local.role == fedflow_core::Role::Arbiter {
            return Ok(ComponentOutput::default());
        }
        let mut summary = serde_json::Map::new();
        for (i, d) in sets.iter().enumerate() {
            let name = d
                .schema
                .extra
                .get("source_component")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("data_{i}"));
            if d.schema.header.first().map(String::as_str) != Some("label")
                && !d.schema.header.is_empty()
            {
                // Not a prediction table (e.g. a host's empty output): nothing to evaluate.
                continue;
            }
            let t: TypedTable<String, Prediction> = TypedTable::from_raw(d.table.clone());
            let mut by_kind: BTreeMap<String, Vec<Prediction>> = BTreeMap::new();
            for (_, pr) in t.collect()? {
                if !pr.label.is_nan() {
                    by_kind.entry(pr.kind.clone()).or_default().push(pr);
                }
            }
            let kinds = by_kind.len();
            for (kind, rows) in by_kind {
                let key = if kinds == 1 || kind == "train" {
                    name.clone()
                } else {
                    format!("{name}_{kind}")
                };
                let m = evaluate(ctx, &key, &p.eval_type, pos, &rows);
                summary.insert(key, serde_json::Value::Object(m));
            }
        }
        Ok(ComponentOutput {
            summary: serde_json::Value::Object(summary),
            ..Default::default()
        })
    }
}

/// Evaluates `rows` as `eval_type`, logging each metric under `key`; the
/// metrics by name.
pub(crate) fn evaluate(
    ctx: &TaskContext,
    key: &str,
    eval_type: &str,
    pos: f64,
    rows: &[Prediction],
) -> serde_json::Map<String, serde_json::Value> {
    let log = |name: &str, metric_type: &str, points: Vec<(f64, f64)>| {
        ctx.tracker.log_metric(Metric {
            namespace: key.to_string(),
            name: name.to_string(),
            metric_type: metric_type.to_string(),
            points,
        })
    };
    let mut out = serde_json::Map::new();
    let mut put = |name: &str, v: f64| {
        log(name, "EVALUATION_SUMMARY", vec![(0.0, v)]);
        out.insert(name.to_string(), serde_json::json!(v));
    };
    match eval_type {
        "binary" => {
            let y: Vec<f64> = rows
                .iter()
                .map(|r| if r.label == pos { 1.0 } else { 0.0 })
                .collect();
            let s: Vec<f64> = rows.iter().map(|r| r.predict_score).collect();
            let pred: Vec<f64> = rows
                .iter()
                .map(|r| if r.predict_result == pos { 1.0 } else { 0.0 })
                .collect();
            if let Some(a) = metrics::auc(&y, &s) {
                put("auc", a);
            }
            put("ks", metrics::ks(&y, &s));
            let (pr, rc) = metrics::precision_recall(&y, &pred, 1.0);
            put("precision", pr);
            put("recall", rc);
            put("accuracy", metrics::accuracy(&y, &pred));
            let roc = metrics::roc(&y, &s);
            let stride = (roc.len() / 200).max(1);
            let thin: Vec<_> = roc
                .iter()
                .enumerate()
                .filter(|(i, _)| i % stride == 0 || *i == roc.len() - 1)
                .map(|(_, p)| *p)
                .collect();
            log(
                "roc",
                "ROC_EVALUATION",
                thin.iter().map(|p| (p.1, p.2)).collect(),
            );
            log(
                "ks_tpr",
                "KS_EVALUATION",
                thin.iter().map(|p| (p.0.min(1e300), p.2)).collect(),
            );
            log(
                "ks_fpr",
                "KS_EVALUATION",
                thin.iter().map(|p| (p.0.min(1e300), p.1)).collect(),
            );
            let lg = metrics::lift_gain(&y, &s, 10);
            log(
                "lift",
                "LIFT_EVALUATION",
                lg.iter().map(|p| (p.0, p.1)).collect(),
            );
            log(
                "gain",
                "GAIN_EVALUATION",
                lg.iter().map(|p| (p.0, p.2)).collect(),
            );
        }
        "multi" => {
            let y: Vec<f64> = rows.iter().map(|r| r.label).collect();
            let pred: Vec<f64> = rows.iter().map(|r| r.predict_result).collect();
            put("accuracy", metrics::accuracy(&y, &pred));
            let (pr, rc) = metrics::macro_precision_recall(&y, &pred);
            put("precision", pr);
            put("recall", rc);
        }
        _ => {
            let y: Vec<f64> = rows.iter().map(|r| r.label).collect();
            let pred: Vec<f64> = rows.iter().map(|r| r.predict_result).collect();
            let [rmse, mse, mae, medae, r2, ev] = metrics::regression(&y, &pred);
            put("root_mean_squared_error", rmse);
            put("mean_squared_error", mse);
            put("mean_absolute_error", mae);
            put("median_absolute_error", medae);
            put("r2_score", r2);
            put("explained_variance", ev);
        }
    }
    out
}

#[cfg(test)]
mod tests;
