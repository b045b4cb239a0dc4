//! DataTransform's named ops.

use crate::Instance;
use fedflow_computing::{
    register_op, ApplyPartitionsOp, Emitter, MapPartitionsOp, OpError, ReduceOp,
};
use serde::{Deserialize, Serialize};

/// Parses raw dense rows (`String` values joined by `sep`) into [`Instance`]s.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParseDense {
    /// The table's `id_delimiter`.
    pub sep: String,
    /// Raw column names (header, label included), for checks and errors.
    pub columns: Vec<String>,
    /// Index of the label among the raw columns.
    pub label_idx: Option<usize>,
    /// Raw columns that are not features (match id).
    pub skip: Vec<usize>,
    /// Labels are floats (else integers).
    pub label_float: bool,
    /// Strings that are missing values.
    pub missing: Vec<String>,
    /// Strings that are outliers (only with `outlier_fill` or `outlier_nan`).
    pub outliers: Vec<String>,
    /// Replacement of missing values, per feature (None: NaN).
    pub missing_fill: Option<Vec<f64>>,
    /// Replacement of outliers, per feature (None: NaN when `outliers` is non-empty).
    pub outlier_fill: Option<Vec<f64>>,
    /// `data_type: str`: per feature its distinct values, sorted; a value
    /// becomes its index there (the dataset's schema carries the lists as
    /// `str_values`, see [`crate::io::str_values`]).
    #[serde(default)]
    pub strings: Option<Vec<Vec<String>>>,
    /// `data_type: int` / `int64` / `long`: a value with a fraction fails.
    #[serde(default)]
    pub int_features: bool,
}

impl ParseDense {
    /// The feature fields of a raw row: `(feature index, column name, field)`.
    fn feature_fields<'a>(
        &'a self,
        raw: &'a str,
    ) -> impl Iterator<Item = (usize, &'a str, &'a str)> + 'a {
        let fields: Box<dyn Iterator<Item = &str>> = if raw.is_empty() && self.columns.is_empty() {
            Box::new(std::iter::empty())
        } else {
            Box::new(raw.split(self.sep.as_str()))
        };
        fields
            .enumerate()
            .take(self.columns.len())
            .filter(|(i, _)| Some(*i) != self.label_idx && !self.skip.contains(i))
            .enumerate()
            .map(|(j, (i, f))| (j, self.columns[i].as_str(), f.trim()))
    }
}

/// `data_type: str`: the distinct non-missing values of every feature of a
/// partition's raw rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistinctStrings {
    /// How the rows are read.
    pub parse: ParseDense,
    /// Number of features.
    pub n: usize,
}

impl ApplyPartitionsOp for DistinctStrings {
    const NAME: &'static str = "data_transform.distinct_strings";
    type K = String;
    type V = String;
    type Out = Vec<Vec<String>>;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, String)>,
    ) -> Result<Vec<Vec<String>>, OpError> {
        let mut sets: Vec<std::collections::BTreeSet<String>> = vec![Default::default(); self.n];
        for (_, raw) in rows {
            for (j, _, f) in self.parse.feature_fields(&raw) {
                if j < self.n && !self.parse.missing.iter().any(|m| m == f) && !sets[j].contains(f)
                {
                    sets[j].insert(f.to_string());
                }
            }
        }
        Ok(sets.into_iter().map(|s| s.into_iter().collect()).collect())
    }
}
register_op!(apply_partitions DistinctStrings, example: DistinctStrings { parse: ParseDense {
    sep: ",".into(), columns: vec!["y".into(), "x0".into()], label_idx: Some(0), skip: vec![],
    label_float: false, missing: vec!["".into()], outliers: vec![], missing_fill: None, outlier_fill: None,
    strings: None, int_features: false,
}, n: 1 }, input: vec![("a".to_string(), "1,B".to_string())]);

/// Unites per-feature sorted value lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeStrings;

impl ReduceOp for MergeStrings {
    const NAME: &'static str = "data_transform.merge_strings";
    type V = Vec<Vec<String>>;
    fn reduce(
        &self,
        a: Vec<Vec<String>>,
        b: Vec<Vec<String>>,
    ) -> Result<Vec<Vec<String>>, OpError> {
        Ok(a.into_iter()
            .zip(b)
            .map(|(x, y)| {
                let s: std::collections::BTreeSet<String> = x.into_iter().chain(y).collect();
                s.into_iter().collect()
            })
            .collect())
    }
}
register_op!(reduce MergeStrings, example: MergeStrings, input: vec![(vec![vec!["A".to_string()]], vec![vec!["B".to_string()]])]);

impl ParseDense {
    fn parse(&self, id: &str, raw: &str) -> Result<Instance, OpError> {
        let n_features =
            self.columns.len() - self.skip.len() - usize::from(self.label_idx.is_some());
        let mut features = Vec::with_capacity(n_features);
        let mut label = None;
        let mut n = 0usize;
        let fields: Box<dyn Iterator<Item = &str>> = if raw.is_empty() && self.columns.is_empty() {
            Box::new(std::iter::empty())
        } else {
            Box::new(raw.split(self.sep.as_str()))
        };
        for (i, field) in fields.enumerate() {
            n += 1;
            if i >= self.columns.len() {
                continue;
            }
            let col = &self.columns[i];
            let f = field.trim();
            if Some(i) == self.label_idx {
                let v: f64 = f.parse().map_err(|_| {
                    OpError::msg(format!(
                        "row '{id}', column '{col}': label '{f}' is not a number"
                    ))
                })?;
                if !self.label_float && v.fract() != 0.0 {
                    return Err(OpError::msg(format!(
                        "row '{id}', column '{col}': label '{f}' is not an integer (label_type int)"
                    )));
                }
                label = Some(v);
                continue;
            }
            if self.skip.contains(&i) {
                continue;
            }
            let j = features.len();
            if let Some(dict) = &self.strings {
                let v = if self.missing.iter().any(|m| m == f) {
                    f64::NAN
                } else {
                    match dict
                        .get(j)
                        .map(|d| d.binary_search_by(|s| s.as_str().cmp(f)))
                    {
                        Some(Ok(k)) => k as f64,
                        _ => {
                            return Err(OpError::msg(format!(
                                "row '{id}', column '{col}': '{f}' changed while the table was read"
                            )))
                        }
                    }
                };
                features.push(v);
                continue;
            }
            let v = if self.outliers.iter().any(|o| o == f) {
                self.outlier_fill.as_ref().map_or(f64::NAN, |v| v[j])
            } else if self.missing.iter().any(|m| m == f) {
                self.missing_fill.as_ref().map_or(f64::NAN, |v| v[j])
            } else {
                match f.parse::<f64>() {
                    Ok(v) if v.is_nan() => self.missing_fill.as_ref().map_or(f64::NAN, |m| m[j]),
                    Ok(v) => v,
                    Err(_) => {
                        return Err(OpError::msg(format!(
                            "row '{id}', column '{col}': '{f}' is not a number"
                        )))
                    }
                }
            };
            if self.int_features && v.is_finite() && v.fract() != 0.0 {
                return Err(OpError::msg(format!(
                    "row '{id}', column '{col}': '{f}' is not an integer (data_type int)"
                )));
            }
            features.push(v);
        }
        if n != self.columns.len() {
            return Err(OpError::msg(format!(
                "row '{id}': {n} values, but the header has {} columns",
                self.columns.len()
            )));
        }
        Ok(Instance {
            features,
            label,
            weight: 1.0,
        })
    }
}

impl MapPartitionsOp for ParseDense {
    const NAME: &'static str = "data_transform.parse_dense";
    const PRESERVES_KEYS: bool = true;
    type K = String;
    type V = String;
    type K2 = String;
    type V2 = Instance;
    fn map_partition(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, String)>,
        out: &mut Emitter<'_, String, Instance>,
    ) -> Result<(), OpError> {
        for (k, v) in rows {
            let inst = self.parse(&k, &v)?;
            out.emit(&k, &inst)?;
        }
        Ok(())
    }
}
register_op!(map_partitions ParseDense, example: ParseDense {
    sep: ",".into(), columns: vec!["y".into(), "x0".into()], label_idx: Some(0), skip: vec![],
    label_float: false, missing: vec!["".into()], outliers: vec![], missing_fill: None, outlier_fill: None,
    strings: None, int_features: false,
}, input: vec![("a".to_string(), "1,0.5".to_string())]);

/// Per-feature statistics, ignoring NaN: (min, max, sum, count).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColStats(pub Vec<(f64, f64, f64, u64)>);

/// Column statistics of a partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColStatsOp {
    /// Number of features.
    pub n: usize,
}

impl ApplyPartitionsOp for ColStatsOp {
    const NAME: &'static str = "data_transform.col_stats";
    type K = String;
    type V = Instance;
    type Out = ColStats;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<ColStats, OpError> {
        let mut s = vec![(f64::INFINITY, f64::NEG_INFINITY, 0.0, 0u64); self.n];
        for (_, inst) in rows {
            for (st, &x) in s.iter_mut().zip(&inst.features) {
                if !x.is_nan() {
                    st.0 = st.0.min(x);
                    st.1 = st.1.max(x);
                    st.2 += x;
                    st.3 += 1;
                }
            }
        }
        Ok(ColStats(s))
    }
}
register_op!(apply_partitions ColStatsOp, example: ColStatsOp { n: 1 }, input: vec![("a".to_string(), Instance { features: vec![1.0], label: None, weight: 1.0 })]);

/// Merges column statistics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeColStats;

impl ReduceOp for MergeColStats {
    const NAME: &'static str = "data_transform.merge_col_stats";
    type V = ColStats;
    fn reduce(&self, a: ColStats, b: ColStats) -> Result<ColStats, OpError> {
        Ok(ColStats(
            a.0.iter()
                .zip(&b.0)
                .map(|(x, y)| (x.0.min(y.0), x.1.max(y.1), x.2 + y.2, x.3 + y.3))
                .collect(),
        ))
    }
}
register_op!(reduce MergeColStats, example: MergeColStats, input: vec![(ColStats(vec![(0.0, 1.0, 1.0, 2)]), ColStats(vec![(-1.0, 0.5, 2.0, 1)]))]);

/// One feature's values (for medians).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column(pub usize);

impl fedflow_computing::MapValuesOp for Column {
    const NAME: &'static str = "data_transform.column";
    type V = Instance;
    type Out = f64;
    fn map_value(&self, v: Instance) -> Result<f64, OpError> {
        Ok(v.features.get(self.0).copied().unwrap_or(f64::NAN))
    }
}
register_op!(map_values Column, example: Column(0), input: vec![("a".to_string(), Instance { features: vec![1.0], label: None, weight: 1.0 })]);

/// Distinct keys (`tag` or sparse index) of tag / sparse rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectTags {
    /// Field separator.
    pub sep: String,
    /// Key/value separator (`tag_value_delimitor`).
    pub kv_sep: String,
    /// The first field is the label.
    pub with_label: bool,
    /// Fields are `key:value` (else bare tags).
    pub with_value: bool,
}

impl CollectTags {
    fn fields<'a>(&self, raw: &'a str) -> Vec<&'a str> {
        raw.split(self.sep.as_str())
            .skip(usize::from(self.with_label))
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| {
                if self.with_value {
                    f.rsplit_once(self.kv_sep.as_str()).map_or(f, |x| x.0)
                } else {
                    f
                }
            })
            .collect()
    }
}

impl ApplyPartitionsOp for CollectTags {
    const NAME: &'static str = "data_transform.collect_tags";
    type K = String;
    type V = String;
    type Out = Vec<String>;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, String)>,
    ) -> Result<Vec<String>, OpError> {
        let mut set = std::collections::BTreeSet::new();
        for (_, v) in rows {
            for t in self.fields(&v) {
                if !set.contains(t) {
                    set.insert(t.to_string());
                }
            }
        }
        Ok(set.into_iter().collect())
    }
}
register_op!(apply_partitions CollectTags, example: CollectTags { sep: ",".into(), kv_sep: ":".into(), with_label: false, with_value: true }, input: vec![("a".to_string(), "t1:1,t2:3".to_string())]);

/// Union of sorted key lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeTags;

impl ReduceOp for MergeTags {
    const NAME: &'static str = "data_transform.merge_tags";
    type V = Vec<String>;
    fn reduce(&self, a: Vec<String>, b: Vec<String>) -> Result<Vec<String>, OpError> {
        let mut s: std::collections::BTreeSet<String> = a.into_iter().collect();
        s.extend(b);
        Ok(s.into_iter().collect())
    }
}
register_op!(reduce MergeTags, example: MergeTags, input: vec![(vec!["a".to_string()], vec!["b".to_string()])]);

/// Parses tag / sparse rows into dense instances over `header` (absent keys are 0).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParseTags {
    /// How fields are split.
    pub fields: CollectTags,
    /// Feature names (keys) in order.
    pub header: Vec<String>,
    /// Labels are floats.
    pub label_float: bool,
}

impl MapPartitionsOp for ParseTags {
    const NAME: &'static str = "data_transform.parse_tags";
    const PRESERVES_KEYS: bool = true;
    type K = String;
    type V = String;
    type K2 = String;
    type V2 = Instance;
    fn map_partition(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, String)>,
        out: &mut Emitter<'_, String, Instance>,
    ) -> Result<(), OpError> {
        let pos: std::collections::HashMap<&str, usize> = self
            .header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), i))
            .collect();
        let f = &self.fields;
        for (id, raw) in rows {
            let mut features = vec![0.0; self.header.len()];
            let mut label = None;
            let mut it = raw.split(f.sep.as_str()).map(str::trim);
            if f.with_label {
                let l = it.next().unwrap_or("");
                let v: f64 = l.parse().map_err(|_| {
                    OpError::msg(format!("row '{id}', column 'label': '{l}' is not a number"))
                })?;
                if !self.label_float && v.fract() != 0.0 {
                    return Err(OpError::msg(format!(
                        "row '{id}', column 'label': '{l}' is not an integer (label_type int)"
                    )));
                }
                label = Some(v);
            }
            for field in it.filter(|x| !x.is_empty()) {
                let (k, v) = if f.with_value {
                    let (k, v) = field.rsplit_once(f.kv_sep.as_str()).ok_or_else(|| {
                        OpError::msg(format!("row '{id}': '{field}' is not key{}value", f.kv_sep))
                    })?;
                    let x: f64 = v.parse().map_err(|_| {
                        OpError::msg(format!("row '{id}', column '{k}': '{v}' is not a number"))
                    })?;
                    (k, x)
                } else {
                    (field, 1.0)
                };
                if let Some(&j) = pos.get(k) {
                    features[j] = v;
                }
            }
            out.emit(
                &id,
                &Instance {
                    features,
                    label,
                    weight: 1.0,
                },
            )?;
        }
        Ok(())
    }
}
register_op!(map_partitions ParseTags, example: ParseTags {
    fields: CollectTags { sep: ",".into(), kv_sep: ":".into(), with_label: true, with_value: true },
    header: vec!["t1".into(), "t2".into()], label_float: false,
}, input: vec![("a".to_string(), "1,t1:0.5,t2:2".to_string())]);
