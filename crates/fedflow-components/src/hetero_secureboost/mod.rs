//! `HeteroSecureBoost`: FATE's hetero SecureBoost, std strategy
//! (fate-reference.md §6). Guest and hosts only; an arbiter in the job's
//! roles is idle, as in FATE.
//!
//! Setup: the guest generates the Paillier key and sends `paillier_pubkey`.
//!
//! Per tree `t` (one per class per round for multi-class):
//! 1. guest → hosts `encrypted_grad_and_hess` (tag `t`): per sample
//!    `Enc(pack(g + g_off, h))`, once per tree, with the packing layout
//!    (`None` ends training);
//! 2. per depth `d` (tag `"t.d"`), guest → hosts `tree_node_queue`: the
//!    nodes to split, which of them the host derives by histogram
//!    subtraction (parent − sibling), and each sample's node (`node_positions`);
//!    an empty queue ends the tree;
//! 3. host → guest `encrypted_splitinfo_host`: per node, cumulative encrypted
//!    left sums per (feature, bin) under random mask ids, shuffled (the
//!    generator seeded from the host's secret split points, so trainings
//!    repeat exactly), cipher-compressed (several sums per ciphertext), with
//!    left counts;
//! 4. guest decrypts, scores `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`
//!    against its own best split and returns only the winning mask ids
//!    (`federated_best_splitinfo_host`);
//! 5. host records the real split in its `split_maskdict` and returns the
//!    samples going left (`dispatch_node_host_result`, with the feature index
//!    for feature importance); the guest's node keeps only `sitename = host:pid`.
//!
//! Prediction (`predict_data` / `predict_data_by_host`, tag `"kind.round"`):
//! the guest advances every (sample, tree) position through its own nodes;
//! positions waiting at a host's node go to that host, which answers
//! left/right without revealing its thresholds; repeat until every tree
//! reached a leaf; score `init + Σ lr·leaf`.

mod guest;
mod host;
mod ops;
mod params;

pub use ops::{GhLayout, Node, Objective, Tree};
pub use params::{HeteroSecureBoostParam, ObjectiveParam, TreeParam, MAX_BIN_NUM};

use crate::{Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;
use fedflow_crypto::Ciphertext;
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};

/// Public key, guest → hosts.
pub const PAILLIER_PUBKEY: TransferVariable =
    TransferVariable::new("paillier_pubkey", &[Role::Guest], &[Role::Host]);
/// Packed encrypted g/h per sample, guest → hosts, once per tree.
pub const ENCRYPTED_GRAD_AND_HESS: TransferVariable =
    TransferVariable::new("encrypted_grad_and_hess", &[Role::Guest], &[Role::Host]);
/// Nodes to split at this depth and sample positions, guest → hosts.
pub const TREE_NODE_QUEUE: TransferVariable =
    TransferVariable::new("tree_node_queue", &[Role::Guest], &[Role::Host]);
/// Masked encrypted split candidates, host → guest.
pub const ENCRYPTED_SPLITINFO_HOST: TransferVariable =
    TransferVariable::new("encrypted_splitinfo_host", &[Role::Host], &[Role::Guest]);
/// Winning mask ids, guest → host.
pub const FEDERATED_BEST_SPLITINFO_HOST: TransferVariable = TransferVariable::new(
    "federated_best_splitinfo_host",
    &[Role::Guest],
    &[Role::Host],
);
/// Samples going left at the host's winning splits, host → guest.
pub const DISPATCH_NODE_HOST_RESULT: TransferVariable =
    TransferVariable::new("dispatch_node_host_result", &[Role::Host], &[Role::Guest]);
/// Sample ids of a prediction, guest → hosts.
pub const PREDICT_IDS: TransferVariable =
    TransferVariable::new("predict_ids", &[Role::Guest], &[Role::Host]);
/// Positions waiting at a host's nodes (`None` = done), guest → host.
pub const PREDICT_DATA: TransferVariable =
    TransferVariable::new("predict_data", &[Role::Guest], &[Role::Host]);
/// Directions (left = true) for those positions, host → guest.
pub const PREDICT_DATA_BY_HOST: TransferVariable =
    TransferVariable::new("predict_data_by_host", &[Role::Host], &[Role::Guest]);

/// `encrypted_grad_and_hess`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GhMessage {
    /// The packing layout.
    pub layout: GhLayout,
    /// One ciphertext per sample, in id order.
    pub cts: Vec<Ciphertext>,
}

/// One node of `tree_node_queue`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodePlan {
    /// Node id.
    pub id: u32,
    /// Derive the histogram as `hist(parent) − hist(sibling)` instead of summing.
    pub derive_from: Option<(u32, u32)>,
}

/// `tree_node_queue` + `node_positions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerPlan {
    /// Nodes to split (empty = the tree is finished).
    pub nodes: Vec<NodePlan>,
    /// Node id of each sample, `u32::MAX` when not in a node to split.
    pub positions: Vec<u32>,
}

/// The candidates of one node in `encrypted_splitinfo_host`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeSplits {
    /// Node id.
    pub node: u32,
    /// Mask id per candidate.
    pub masks: Vec<u64>,
    /// Samples on the left per candidate.
    pub counts: Vec<u32>,
    /// Encrypted packed left sums, `per_ct` candidates per ciphertext (first
    /// candidate in the most significant position).
    pub cts: Vec<Ciphertext>,
    /// Candidates per ciphertext.
    pub per_ct: u32,
}

/// The component.
pub struct HeteroSecureBoost;

impl Component for HeteroSecureBoost {
    fn module(&self) -> &'static str {
        "HeteroSecureBoost"
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        crate::parse_params::<HeteroSecureBoostParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let param: HeteroSecureBoostParam = crate::parse_params(&ctx.component_name, &ctx.params)?;
        param.check(&ctx.component_name)?;
        let predict = ctx.job_type == "predict";
        match (ctx.local.role, predict) {
            (Role::Guest, false) => guest::train(ctx, &param),
            (Role::Host, false) => host::train(ctx, &param),
            (Role::Guest, true) => guest::predict_job(ctx),
            (Role::Host, true) => host::predict_job(ctx),
            (Role::Arbiter, _) => Ok(ComponentOutput::default()),
            (other, _) => Err(ComponentError::Failed(format!(
                "HeteroSecureBoost has no {other} role"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
