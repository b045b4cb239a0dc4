//! Parameters, with FATE's names and defaults (`FeatureBinningParam`).

use super::optimal::Metric;
use crate::ComponentError;
use serde::{Deserialize, Serialize};

/// FATE's `FeatureBinningParam` (fields fedflow reads; the rest are accepted).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureBinningParam {
    /// `quantile` (default), `bucket` (equal width) or `optimal`.
    pub method: String,
    /// Number of bins (FATE default 10).
    pub bin_num: usize,
    /// Columns to bin by index (-1: all).
    pub bin_indexes: serde_json::Value,
    /// Columns to bin by name (combined with `bin_indexes`).
    pub bin_names: Option<Vec<String>>,
    /// Categorical columns by index: one bin per distinct value.
    pub category_indexes: Option<Vec<usize>>,
    /// Categorical columns by name.
    pub category_names: Option<Vec<String>>,
    /// Added to a bin's counts when one of them is 0 (WOE).
    pub adjustment_factor: f64,
    /// Only the guest's own features (no federation).
    pub local_only: bool,
    /// Paillier settings.
    pub encrypt_param: EncryptParam,
    /// How the output data is transformed.
    pub transform_param: TransformParam,
    /// `method: optimal` settings.
    pub optimal_binning_param: OptimalBinningParam,
    /// FATE's `need_run`.
    pub need_run: bool,
}

/// FATE's `EncryptParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EncryptParam {
    /// `Paillier`.
    pub method: String,
    /// Key bits (FATE 1.11.3: 1024).
    pub key_length: u32,
}

/// FATE's `OptimalBinningParam` (see `optimal.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OptimalBinningParam {
    /// `iv` (default), `gini`, `chi_square` (or `chi-square`) or `ks`.
    pub metric_method: String,
    /// Minimum share of the rows in a bin (default 0.05).
    pub min_bin_pct: f64,
    /// Maximum share of the rows in a bin (default 1.0).
    pub max_bin_pct: f64,
    /// Initial buckets before merging (default 1000).
    pub init_bin_nums: usize,
    /// Every bin should hold events and non-events (default true).
    pub mixture: bool,
    /// How the initial buckets are made: `quantile` (default) or `bucket`.
    pub init_bucket_method: String,
}

impl Default for OptimalBinningParam {
    fn default() -> Self {
        OptimalBinningParam {
            metric_method: "iv".into(),
            min_bin_pct: 0.05,
            max_bin_pct: 1.0,
            init_bin_nums: 1000,
            mixture: true,
            init_bucket_method: "quantile".into(),
        }
    }
}

/// FATE's `TransformParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TransformParam {
    /// Columns to transform (-1: the binned ones; null: none).
    pub transform_cols: serde_json::Value,
    /// Columns to transform by name.
    pub transform_names: Option<Vec<String>>,
    /// `bin_num` (bin index), `woe` (guest only) or null (no transform).
    pub transform_type: Option<String>,
}

impl Default for FeatureBinningParam {
    fn default() -> Self {
        FeatureBinningParam {
            method: "quantile".into(),
            bin_num: 10,
            bin_indexes: serde_json::json!(-1),
            bin_names: None,
            category_indexes: None,
            category_names: None,
            adjustment_factor: 0.5,
            local_only: false,
            encrypt_param: EncryptParam::default(),
            transform_param: TransformParam::default(),
            optimal_binning_param: OptimalBinningParam::default(),
            need_run: true,
        }
    }
}

impl Default for EncryptParam {
    fn default() -> Self {
        EncryptParam {
            method: "Paillier".into(),
            key_length: 1024,
        }
    }
}

impl Default for TransformParam {
    fn default() -> Self {
        TransformParam {
            transform_cols: serde_json::json!(-1),
            transform_names: None,
            transform_type: Some("bin_num".into()),
        }
    }
}

/// The largest `bin_num` / `init_bin_nums` (split points are kept per
/// feature in memory; a request must not size that allocation freely).
pub const MAX_BIN_NUM: usize = u16::MAX as usize;

impl FeatureBinningParam {
    pub(super) fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: String| ComponentError::Param {
            path: format!("{component}.{path}"),
            message,
        };
        if !matches!(self.method.as_str(), "quantile" | "bucket" | "optimal") {
            return Err(bad(
                "method",
                format!("'{}': expected quantile, bucket or optimal", self.method),
            ));
        }
        if self.method == "optimal" {
            self.check_optimal(component)?;
        }
        if self.bin_num < 2 || self.bin_num > MAX_BIN_NUM {
            return Err(bad(
                "bin_num",
                format!(
                    "{}: expected an integer in [2, {MAX_BIN_NUM}]",
                    self.bin_num
                ),
            ));
        }
        if !self.encrypt_param.method.eq_ignore_ascii_case("paillier") {
            return Err(bad(
                "encrypt_param.method",
                format!("'{}': expected Paillier", self.encrypt_param.method),
            ));
        }
        if let Some(t) = &self.transform_param.transform_type {
            if !matches!(t.as_str(), "bin_num" | "woe") {
                return Err(bad(
                    "transform_param.transform_type",
                    format!("'{t}': expected bin_num, woe or null"),
                ));
            }
        }
        Ok(())
    }
}

impl FeatureBinningParam {
    /// The metric of `optimal_binning_param`, checked.
    pub(super) fn metric(&self, component: &str) -> Result<Metric, ComponentError> {
        let m = &self.optimal_binning_param.metric_method;
        Metric::parse(m).ok_or_else(|| ComponentError::Param {
            path: format!("{component}.optimal_binning_param.metric_method"),
            message: format!("'{m}': expected one of iv, gini, chi_square (or chi-square), ks"),
        })
    }

    fn check_optimal(&self, component: &str) -> Result<(), ComponentError> {
        let o = &self.optimal_binning_param;
        let bad = |path: &str, message: String| ComponentError::Param {
            path: format!("{component}.optimal_binning_param.{path}"),
            message,
        };
        self.metric(component)?;
        if o.init_bin_nums < 2 || o.init_bin_nums > MAX_BIN_NUM {
            return Err(bad(
                "init_bin_nums",
                format!(
                    "{}: expected an integer in [2, {MAX_BIN_NUM}]",
                    o.init_bin_nums
                ),
            ));
        }
        if !(0.0..=1.0).contains(&o.min_bin_pct) {
            return Err(bad(
                "min_bin_pct",
                format!("{}: expected a value in [0, 1]", o.min_bin_pct),
            ));
        }
        if !(o.max_bin_pct > 0.0 && o.max_bin_pct <= 1.0) {
            return Err(bad(
                "max_bin_pct",
                format!("{}: expected a value in (0, 1]", o.max_bin_pct),
            ));
        }
        if o.min_bin_pct > o.max_bin_pct {
            return Err(bad(
                "min_bin_pct",
                format!(
                    "{} is above max_bin_pct {}: expected min_bin_pct <= max_bin_pct",
                    o.min_bin_pct, o.max_bin_pct
                ),
            ));
        }
        if (1.0 / o.max_bin_pct).ceil() > self.bin_num as f64 {
            return Err(bad(
                "max_bin_pct",
                format!(
                    "{}: ceil(1 / max_bin_pct) must not exceed bin_num ({})",
                    o.max_bin_pct, self.bin_num
                ),
            ));
        }
        if o.init_bin_nums < 1 {
            return Err(bad(
                "init_bin_nums",
                "0: expected a positive integer".into(),
            ));
        }
        if !matches!(o.init_bucket_method.as_str(), "quantile" | "bucket") {
            return Err(bad(
                "init_bucket_method",
                format!("'{}': expected quantile or bucket", o.init_bucket_method),
            ));
        }
        Ok(())
    }
}

/// Column indexes selected by FATE's `-1` / list of indexes plus names.
pub(crate) fn select_columns(
    component: &str,
    path: &str,
    indexes: &serde_json::Value,
    names: &Option<Vec<String>>,
    header: &[String],
) -> Result<Vec<usize>, ComponentError> {
    let bad = |message: String| ComponentError::Param {
        path: format!("{component}.{path}"),
        message,
    };
    let mut cols: Vec<usize> = match indexes {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Number(n) if n.as_i64() == Some(-1) => (0..header.len()).collect(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|v| {
                v.as_u64()
                    .map(|i| i as usize)
                    .filter(|&i| i < header.len())
                    .ok_or_else(|| {
                        bad(format!(
                            "{v}: expected a column index below {}",
                            header.len()
                        ))
                    })
            })
            .collect::<Result<_, _>>()?,
        v => return Err(bad(format!("{v}: expected -1 or a list of indexes"))),
    };
    for n in names.iter().flatten() {
        let i = header
            .iter()
            .position(|h| h == n)
            .ok_or_else(|| bad(format!("'{n}' is not in the header")))?;
        cols.push(i);
    }
    cols.sort_unstable();
    cols.dedup();
    Ok(cols)
}
