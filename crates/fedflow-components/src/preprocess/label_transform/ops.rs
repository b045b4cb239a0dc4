//! LabelTransform's table operations.

use crate::{Instance, Prediction};
use fedflow_computing::{register_op, ApplyPartitionsOp, MapValuesOp, OpError, ReduceOp};
use serde::{Deserialize, Serialize};

pub use crate::io::number_text as label_text;

/// The distinct labels of a partition (instances: their label; predictions:
/// label and predicted class), ascending.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistinctLabels;

fn insert(v: &mut Vec<f64>, x: f64) {
    if x.is_nan() {
        return;
    }
    if let Err(at) = v.binary_search_by(|y| y.total_cmp(&x)) {
        v.insert(at, x);
    }
}

impl ApplyPartitionsOp for DistinctLabels {
    const NAME: &'static str = "label_transform.distinct_labels";
    type K = String;
    type V = Instance;
    type Out = Vec<f64>;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<Vec<f64>, OpError> {
        let mut v = Vec::new();
        for (_, i) in rows {
            if let Some(l) = i.label {
                insert(&mut v, l);
            }
        }
        Ok(v)
    }
}
register_op!(apply_partitions DistinctLabels, example: DistinctLabels, input: vec![("a".to_string(), Instance { features: vec![], label: Some(1.0), weight: 1.0 }), ("b".to_string(), Instance { features: vec![], label: Some(0.0), weight: 1.0 })]);

/// [`DistinctLabels`] of prediction rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistinctPredictionLabels;

impl ApplyPartitionsOp for DistinctPredictionLabels {
    const NAME: &'static str = "label_transform.distinct_prediction_labels";
    type K = String;
    type V = Prediction;
    type Out = Vec<f64>;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Prediction)>,
    ) -> Result<Vec<f64>, OpError> {
        let mut v = Vec::new();
        for (_, p) in rows {
            insert(&mut v, p.label);
            insert(&mut v, p.predict_result);
        }
        Ok(v)
    }
}
register_op!(apply_partitions DistinctPredictionLabels, example: DistinctPredictionLabels, input: vec![("a".to_string(), Prediction { label: 1.0, predict_result: 0.0, predict_score: 0.4, predict_detail: "{}".into(), kind: "train".into() })]);

/// Unites distinct label lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeLabels;

impl ReduceOp for MergeLabels {
    const NAME: &'static str = "label_transform.merge_labels";
    type V = Vec<f64>;
    fn reduce(&self, mut a: Vec<f64>, b: Vec<f64>) -> Result<Vec<f64>, OpError> {
        for x in b {
            insert(&mut a, x);
        }
        Ok(a)
    }
}
register_op!(reduce MergeLabels, example: MergeLabels, input: vec![(vec![0.0, 2.0], vec![1.0, 2.0])]);

/// A label mapping: `(from, to)` pairs; a label not listed fails the row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMap(pub Vec<(f64, f64)>);

impl LabelMap {
    /// The image of `x`.
    pub fn get(&self, x: f64) -> Result<f64, OpError> {
        if x.is_nan() {
            return Ok(x);
        }
        self.0
            .iter()
            .find(|(f, _)| *f == x)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                OpError::msg(format!(
                    "label {} is not in the label encoder (it maps {})",
                    label_text(x),
                    self.0
                        .iter()
                        .map(|(f, t)| format!("{}→{}", label_text(*f), label_text(*t)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

/// Relabels instances by a [`LabelMap`] (rows without a label are kept).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelabelInstances(pub LabelMap);

impl MapValuesOp for RelabelInstances {
    const NAME: &'static str = "label_transform.relabel_instances";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, mut v: Instance) -> Result<Instance, OpError> {
        if let Some(l) = v.label {
            v.label = Some(self.0.get(l)?);
        }
        Ok(v)
    }
}
register_op!(map_values RelabelInstances, example: RelabelInstances(LabelMap(vec![(0.0, 1.0), (1.0, 0.0)])), input: vec![("a".to_string(), Instance { features: vec![], label: Some(1.0), weight: 1.0 })]);

/// Relabels predictions by a [`LabelMap`]: the true label, the predicted
/// class and the classes named in `predict_detail`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelabelPredictions(pub LabelMap);

impl MapValuesOp for RelabelPredictions {
    const NAME: &'static str = "label_transform.relabel_predictions";
    type V = Prediction;
    type Out = Prediction;
    fn map_value(&self, mut p: Prediction) -> Result<Prediction, OpError> {
        p.label = self.0.get(p.label)?;
        p.predict_result = self.0.get(p.predict_result)?;
        if let Ok(serde_json::Value::Object(detail)) = serde_json::from_str(&p.predict_detail) {
            let mut out = serde_json::Map::new();
            for (k, v) in detail {
                let key = match k.parse::<f64>() {
                    Ok(x) => label_text(self.0.get(x)?),
                    Err(_) => k,
                };
                out.insert(key, v);
            }
            p.predict_detail = serde_json::Value::Object(out).to_string();
        }
        Ok(p)
    }
}
register_op!(map_values RelabelPredictions, example: RelabelPredictions(LabelMap(vec![(0.0, 1.0), (1.0, 0.0)])), input: vec![("a".to_string(), Prediction { label: 1.0, predict_result: 0.0, predict_score: 0.4, predict_detail: "{\"0\": 0.6, \"1\": 0.4}".into(), kind: "train".into() })]);
