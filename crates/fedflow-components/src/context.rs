//! What a component sees of the world.

use crate::io::{Dataset, Inputs, ModelData};
use fedflow_computing::{ComputingError, Session};
use fedflow_core::Party;
use fedflow_federation::{Federation, FederationError, Roster};
use fedflow_storage::{StorageContext, StorageError};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A component task failed.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    /// A parameter is missing or has the wrong type; names its path.
    #[error("parameter {path}: {message}")]
    Param {
        /// Path of the parameter, e.g. `secure_add_example_0.data_num`.
        path: String,
        /// What was expected.
        message: String,
    },
    /// A computing operation failed.
    #[error(transparent)]
    Computing(#[from] ComputingError),
    /// A federation operation failed.
    #[error(transparent)]
    Federation(#[from] FederationError),
    /// Reading or writing a stored table failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An input the component needs is missing or malformed.
    #[error("input: {0}")]
    Input(String),
    /// The protocol's own check failed.
    #[error("{0}")]
    Failed(String),
}

/// A metric a component reports (FATE's tracking: namespace, name, type, points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// e.g. `train`.
    pub namespace: String,
    /// e.g. `loss`.
    pub name: String,
    /// FATE's metric type, e.g. `LOSS`, `SUMMARY`.
    pub metric_type: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
}

/// Where a component reports metrics.
pub trait Tracker: Send + Sync {
    /// Records a metric; points of an already recorded metric with the same
    /// namespace and name are appended (one loss point per iteration).
    fn log_metric(&self, metric: Metric);
}

/// A tracker that keeps metrics in memory.
#[derive(Default)]
pub struct MemoryTracker {
    metrics: Mutex<Vec<Metric>>,
}

impl MemoryTracker {
    /// The metrics so far.
    pub fn metrics(&self) -> Vec<Metric> {
        self.metrics.lock().clone()
    }
}

impl Tracker for MemoryTracker {
    fn log_metric(&self, metric: Metric) {
        let mut ms = self.metrics.lock();
        match ms
            .iter_mut()
            .find(|m| m.namespace == metric.namespace && m.name == metric.name)
        {
            Some(m) => m.points.extend(metric.points),
            None => ms.push(metric),
        }
    }
}

/// Everything a task runs with.
#[derive(Clone)]
pub struct TaskContext {
    /// The job id.
    pub job_id: String,
    /// The component's name in the DSL (`secure_add_example_0`).
    pub component_name: String,
    /// This party.
    pub local: Party,
    /// The job's parties.
    pub roster: Roster,
    /// This party's parameters for the component (common merged with role ones).
    pub params: serde_json::Value,
    /// The computing session.
    pub computing: Arc<dyn Session>,
    /// The federation session.
    pub federation: Arc<dyn Federation>,
    /// Where metrics go.
    pub tracker: Arc<dyn Tracker>,
    /// Data and models from upstream components (DSL edges), or from the
    /// model store for a predict job.
    pub inputs: Inputs,
    /// The party's table storage (for Reader and the like).
    pub storage: Option<StorageContext>,
    /// `train` or `predict`.
    pub job_type: String,
}

/// What a task produced.
#[derive(Clone, Default)]
pub struct ComponentOutput {
    /// A JSON summary (FATE's component summary).
    pub summary: serde_json::Value,
    /// Output datasets, in the order of the DSL's `output.data` names.
    pub data: Vec<Dataset>,
    /// The trained (or passed-through) model, if any.
    pub model: Option<ModelData>,
}

impl ComponentOutput {
    /// FATE's `need_run: false`: the task's input passes through, no model.
    pub fn passthrough(ctx: &TaskContext) -> Self {
        ComponentOutput {
            summary: serde_json::json!({"need_run": false}),
            data: ctx.inputs.any().cloned().into_iter().collect(),
            model: None,
        }
    }
}

impl std::fmt::Debug for ComponentOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentOutput")
            .field("summary", &self.summary)
            .field("data", &self.data.len())
            .field("model", &self.model.as_ref().map(|m| &m.module))
            .finish()
    }
}

/// Parses a component's parameters into its typed struct; errors name the
/// parameter's path (`secure_add_example_0.data_num: invalid type …`).
pub fn parse_params<T: DeserializeOwned>(
    component: &str,
    params: &serde_json::Value,
) -> Result<T, ComponentError> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let inner = e.path().to_string();
        ComponentError::Param {
            path: if inner == "." {
                component.to_string()
            } else {
                format!("{component}.{inner}")
            },
            message: e.into_inner().to_string(),
        }
    })
}
