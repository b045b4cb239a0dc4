//! FederatedSample's named ops.

use crate::Instance;
use fedflow_computing::{register_op, FlatMapOp, JoinOp, MapValuesOp, OpError};
use serde::{Deserialize, Serialize};

fn inst() -> Instance {
    Instance {
        features: vec![1.0],
        label: Some(1.0),
        weight: 1.0,
    }
}

/// A row's label only (to collect ids and labels cheaply).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelOf;

impl MapValuesOp for LabelOf {
    const NAME: &'static str = "federated_sample.label_of";
    type V = Instance;
    type Out = Option<f64>;
    fn map_value(&self, v: Instance) -> Result<Option<f64>, OpError> {
        Ok(v.label)
    }
}
register_op!(map_values LabelOf, example: LabelOf, input: vec![("a".to_string(), inst())]);

/// Upsampling: attaches to a row the new ids that copy it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachCopies;

impl JoinOp for AttachCopies {
    const NAME: &'static str = "federated_sample.attach_copies";
    type L = Instance;
    type R = Vec<u64>;
    type Out = (Instance, Vec<u64>);
    fn join(&self, l: Instance, r: Vec<u64>) -> Result<(Instance, Vec<u64>), OpError> {
        Ok((l, r))
    }
}
register_op!(join AttachCopies, example: AttachCopies, input: vec![(inst(), vec![0u64, 3])]);

/// Upsampling: one row per new id (the id's decimal text), each a copy of the original.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpandCopies;

impl FlatMapOp for ExpandCopies {
    const NAME: &'static str = "federated_sample.expand_copies";
    type K = String;
    type V = (Instance, Vec<u64>);
    type K2 = String;
    type V2 = Instance;
    fn flat_map(
        &self,
        _key: String,
        (inst, ids): (Instance, Vec<u64>),
    ) -> Result<Vec<(String, Instance)>, OpError> {
        Ok(ids
            .into_iter()
            .map(|i| (i.to_string(), inst.clone()))
            .collect())
    }
}
register_op!(flat_map ExpandCopies, example: ExpandCopies, input: vec![("a".to_string(), (inst(), vec![0u64, 3]))]);
