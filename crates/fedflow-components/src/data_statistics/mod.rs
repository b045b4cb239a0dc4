//! `DataStatistics` (FATE's DataStatistics): per-column summary statistics of
//! a party's own data. Local: no federation traffic.
//!
//! Parameters (FATE's `StatisticsParam`): `statistics` ("summary" or a list
//! of `count`, `sum`, `mean`, `variance`, `stddev`/`std`, `min`, `max`,
//! `median`, `coefficient_of_variance`, `missing_count`, `missing_ratio`,
//! `skewness`, `kurtosis` and percentiles such as `"95%"`), `column_names`,
//! `column_indexes` (-1 = all; as FATE, names and indexes this party's header
//! lacks are skipped with a warning and listed in the summary's
//! `skipped_columns`), `abnormal_list` (values counted as missing),
//! `quantile_error` (accepted; quantiles here are exact), `bias` (default
//! true; false applies the sample corrections to skewness and kurtosis).
//!
//! Definitions follow FATE's `SummaryStatistics`: over the non-missing values
//! of a column, `variance` is the population variance (divided by n, values
//! below 1e-8 in magnitude become 0), `stddev` its square root,
//! `coefficient_of_variance` = |stddev / mean| (a mean below 1e-8 in
//! magnitude is taken as 1e-8), `skewness` = m3 / m2^1.5 and `kurtosis` =
//! m4 / m2² − 3 on central moments (0 when m2 = 0). A quantile q is the value
//! of rank ⌈q·n⌉ among the sorted non-missing values (FATE answers it from an
//! ε-approximate summary; here it is exact). Missing = NaN or in
//! `abnormal_list`. The model always carries every basic statistic (filters of
//! HeteroFeatureSelection read them as an isometric model) plus the requested
//! percentiles.
//!
//! Output data: the input, unchanged. Model param: [`StatisticsModelParam`].

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Instance, ModelData, TaskContext,
};
use fedflow_computing::TypedTable;
use fedflow_core::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Statistics "summary" stands for (and that the model always carries).
pub const BASIC_STATISTICS: &[&str] = &[
    "count",
    "sum",
    "mean",
    "stddev",
    "median",
    "min",
    "max",
    "variance",
    "coefficient_of_variance",
    "missing_count",
    "missing_ratio",
    "skewness",
    "kurtosis",
];

/// Magnitudes below this count as zero (FATE's `FLOAT_ZERO`).
const FLOAT_ZERO: f64 = 1e-8;

/// The component's parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DataStatisticsParam {
    /// "summary", one statistic, or a list.
    pub statistics: serde_json::Value,
    /// Columns by name (added to `column_indexes`).
    pub column_names: Vec<String>,
    /// Columns by index, or -1 for all.
    pub column_indexes: serde_json::Value,
    /// Values treated as missing.
    pub abnormal_list: Vec<f64>,
    /// FATE's quantile summary error (unused: exact quantiles).
    pub quantile_error: f64,
    /// Biased skewness / kurtosis (true) or sample-corrected (false).
    pub bias: bool,
}

impl Default for DataStatisticsParam {
    fn default() -> Self {
        Self {
            statistics: serde_json::json!("summary"),
            column_names: vec![],
            column_indexes: serde_json::json!(-1),
            abnormal_list: vec![],
            quantile_error: 1e-4,
            bias: true,
        }
    }
}

/// The model param: statistic name → column name → value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatisticsModelParam {
    /// The input header.
    pub header: Vec<String>,
    /// The columns described, in header order.
    pub columns: Vec<String>,
    /// The statistics asked for (after expanding "summary").
    pub requested: Vec<String>,
    /// Every statistic computed, by name, then by column.
    pub statistics: BTreeMap<String, BTreeMap<String, f64>>,
}

impl StatisticsModelParam {
    /// A statistic of a column, by FATE's name or an alias (`std`,
    /// `coefficient_of_variation`, `95%`).
    pub fn value(&self, metric: &str, column: &str) -> Option<f64> {
        self.statistics
            .get(canonical(metric).as_str())
            .and_then(|m| m.get(column))
            .copied()
    }
}

/// The canonical name of a statistic (`std` → `stddev`, `95%` stays).
pub fn canonical(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    match n.as_str() {
        "std" | "standard_deviation" | "std_variance" => "stddev".into(),
        "coefficient_of_variation" => "coefficient_of_variance".into(),
        "max_value" => "max".into(),
        "min_value" => "min".into(),
        _ => n,
    }
}

/// A percentile name (`"95%"`) as a fraction.
fn percentile_of(name: &str) -> Option<f64> {
    let p: f64 = name.strip_suffix('%')?.trim().parse().ok()?;
    (0.0..=100.0).contains(&p).then_some(p / 100.0)
}

/// Statistics of one column's values (missing ones already removed), plus the
/// number of missing values and the table's row count.
pub fn column_statistics(
    values: &mut [f64],
    missing: usize,
    rows: usize,
    bias: bool,
    percentiles: &[(String, f64)],
) -> BTreeMap<String, f64> {
    let n = values.len();
    let nf = n as f64;
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: f64| {
        out.insert(k.to_string(), v);
    };
    put("count", nf);
    put("missing_count", missing as f64);
    put(
        "missing_ratio",
        if rows == 0 {
            0.0
        } else {
            missing as f64 / rows as f64
        },
    );
    let sum: f64 = values.iter().sum();
    put("sum", sum);
    if n == 0 {
        // Nothing else is defined (JSON has no NaN).
        return out;
    }
    let mean = sum / nf;
    // Central moments, two passes (the same quantities FATE derives from raw
    // moments, without their cancellation error).
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for &x in values.iter() {
        let d = x - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    let (mut m2, m3, m4) = (m2 / nf, m3 / nf, m4 / nf);
    if m2.abs() < FLOAT_ZERO {
        m2 = 0.0;
    }
    let std = m2.sqrt();
    let mean_nz = if mean.abs() < FLOAT_ZERO {
        FLOAT_ZERO
    } else {
        mean
    };
    let mut skew = if m2 == 0.0 { 0.0 } else { m3 / m2.powf(1.5) };
    let mut kurt = if m2 == 0.0 { 0.0 } else { m4 / (m2 * m2) };
    if !bias && m2 > 0.0 {
        if n > 2 {
            skew *= ((nf - 1.0) * nf).sqrt() / (nf - 2.0);
        }
        if n > 3 {
            kurt = ((nf * nf - 1.0) * m4 / (m2 * m2) - 3.0 * (nf - 1.0).powi(2))
                / ((nf - 2.0) * (nf - 3.0))
                + 3.0;
        }
    }
    put("mean", mean);
    put("variance", m2);
    put("stddev", std);
    put("coefficient_of_variance", (std / mean_nz).abs());
    put("skewness", skew);
    put("kurtosis", kurt - 3.0);
    values.sort_by(f64::total_cmp);
    let q = |p: f64| values[((p * nf).ceil() as usize).clamp(1, n) - 1];
    put("min", values[0]);
    put("max", values[n - 1]);
    put("median", q(0.5));
    for (name, p) in percentiles {
        put(name, q(*p));
    }
    out
}

/// The component.
pub struct DataStatistics;

impl Component for DataStatistics {
    fn module(&self) -> &'static str {
        "DataStatistics"
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        if !matches!(ctx.local.role, Role::Guest | Role::Host) {
            return Ok(ComponentOutput::default());
        }
        let p: DataStatisticsParam = parse_params(cpn, &ctx.params)?;
        let input = ctx
            .inputs
            .any()
            .ok_or_else(|| ComponentError::Input(format!("{cpn}: no input data")))?;
        let header = input.schema.header.clone();
        // Requested statistics.
        let asked: Vec<String> = match &p.statistics {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ComponentError::Param {
                            path: format!("{cpn}.statistics"),
                            message: format!("expected a statistic name, got {v}"),
                        })
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(ComponentError::Param {
                    path: format!("{cpn}.statistics"),
                    message: format!("expected \"summary\" or a list of names, got {other}"),
                })
            }
        };
        let mut requested: Vec<String> = Vec::new();
        let mut percentiles: Vec<(String, f64)> = Vec::new();
        for a in &asked {
            let c = canonical(a);
            if c == "summary" {
                requested.extend(BASIC_STATISTICS.iter().map(|s| s.to_string()));
            } else if let Some(q) = percentile_of(&c) {
                percentiles.push((c.clone(), q));
                requested.push(c);
            } else if BASIC_STATISTICS.contains(&c.as_str()) {
                requested.push(c);
            } else {
                return Err(ComponentError::Param {
                    path: format!("{cpn}.statistics"),
                    message: format!(
                        "unknown statistic '{a}' (expected summary, {} or a percentile like \"95%\")",
                        BASIC_STATISTICS.join(", ")
                    ),
                });
            }
        }
        requested.dedup();
        // Columns.
        let mut skipped: Vec<String> = Vec::new();
        let mut cols: Vec<usize> = match &p.column_indexes {
            serde_json::Value::Number(n) if n.as_i64() == Some(-1) => (0..header.len()).collect(),
            serde_json::Value::Null => vec![],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|v| match v.as_u64() {
                    // As FATE: an index past this party's header is skipped (the
                    // parameter is often common to parties of different widths).
                    Some(i) if (i as usize) < header.len() => Some(Ok(i as usize)),
                    Some(i) => {
                        skipped.push(format!("index {i}"));
                        None
                    }
                    None => Some(Err(ComponentError::Param {
                        path: format!("{cpn}.column_indexes"),
                        message: format!("{v}: expected a non-negative column index"),
                    })),
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(ComponentError::Param {
                    path: format!("{cpn}.column_indexes"),
                    message: format!("expected -1 or a list of indexes, got {other}"),
                })
            }
        };
        for name in &p.column_names {
            match header.iter().position(|h| h == name) {
                Some(i) => cols.push(i),
                None => skipped.push(format!("'{name}'")),
            }
        }
        if !skipped.is_empty() {
            tracing::warn!(
                "{cpn}: columns {} are not in this party's header; skipped (as FATE)",
                skipped.join(", ")
            );
        }
        cols.sort_unstable();
        cols.dedup();
        // Values per column.
        let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
        let rows = table.collect()?;
        let mut statistics: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for &j in &cols {
            let mut missing = 0usize;
            let mut vals: Vec<f64> = Vec::with_capacity(rows.len());
            for (_, inst) in &rows {
                let x = inst.features.get(j).copied().unwrap_or(f64::NAN);
                if x.is_nan() || p.abnormal_list.contains(&x) {
                    missing += 1;
                } else {
                    vals.push(x);
                }
            }
            let st = column_statistics(&mut vals, missing, rows.len(), p.bias, &percentiles);
            for (k, v) in st {
                statistics
                    .entry(k)
                    .or_default()
                    .insert(header[j].clone(), v);
            }
        }
        let param = StatisticsModelParam {
            header: header.clone(),
            columns: cols.iter().map(|&j| header[j].clone()).collect(),
            requested: requested.clone(),
            statistics,
        };
        let mut summary: serde_json::Map<String, serde_json::Value> = requested
            .iter()
            .filter_map(|r| {
                param
                    .statistics
                    .get(r)
                    .map(|m| (r.clone(), serde_json::to_value(m).unwrap_or_default()))
            })
            .collect();
        if !skipped.is_empty() {
            summary.insert("skipped_columns".into(), serde_json::json!(skipped));
        }
        Ok(ComponentOutput {
            summary: serde_json::Value::Object(summary),
            data: vec![input.clone()],
            model: Some(ModelData {
                module: "DataStatistics".into(),
                meta: ctx.params.clone(),
                param: serde_json::to_value(&param).unwrap_or_default(),
            }),
        })
    }
}

#[cfg(test)]
mod tests;
