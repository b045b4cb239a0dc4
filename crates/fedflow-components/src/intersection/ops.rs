//! Intersection's named ops.

use crate::Instance;
use fedflow_computing::{register_op, JoinOp, MapValuesOp, OpError};
use serde::{Deserialize, Serialize};

fn inst() -> Instance {
    Instance {
        features: vec![1.0],
        label: Some(1.0),
        weight: 1.0,
    }
}

/// Drops an instance's content (to collect ids cheaply).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdOnly;

impl MapValuesOp for IdOnly {
    const NAME: &'static str = "intersection.id_only";
    type V = Instance;
    type Out = u8;
    fn map_value(&self, _v: Instance) -> Result<u8, OpError> {
        Ok(0)
    }
}
register_op!(map_values IdOnly, example: IdOnly, input: vec![("a".to_string(), inst())]);

/// Keeps the instance of a key present in the intersection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeepInstance;

impl JoinOp for KeepInstance {
    const NAME: &'static str = "intersection.keep_instance";
    type L = Instance;
    type R = u8;
    type Out = Instance;
    fn join(&self, l: Instance, _r: u8) -> Result<Instance, OpError> {
        Ok(l)
    }
}
register_op!(join KeepInstance, example: KeepInstance, input: vec![(inst(), 0u8)]);

/// `only_output_key`: an instance with no features, label or weight information.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyOnly;

impl MapValuesOp for KeyOnly {
    const NAME: &'static str = "intersection.key_only";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, _v: Instance) -> Result<Instance, OpError> {
        Ok(Instance {
            features: Vec::new(),
            label: None,
            weight: 1.0,
        })
    }
}
register_op!(map_values KeyOnly, example: KeyOnly, input: vec![("a".to_string(), inst())]);
