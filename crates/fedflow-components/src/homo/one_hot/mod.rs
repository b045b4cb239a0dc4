//! `HomoOneHotEncoder`: FATE's horizontal one-hot encoder. Each client
//! (guest, hosts) finds the distinct values of the chosen columns in its
//! own rows, as OneHotEncoder does; with `need_alignment` (default) it sends
//! them to the arbiter (`homo_onehot_values`, tag `""`), which checks every
//! client encodes the same columns and answers the union per column
//! (`homo_onehot_aligned`) — so every party produces the same output
//! header, the condition for training one horizontal model on them. As in
//! FATE, the arbiter learns each client's category values (not its rows or
//! counts). A component fed a HomoOneHotEncoder model encodes by it with no
//! federation. Parameters are FATE's `HomoOneHotParam` (those of
//! OneHotEncoder); model layout as OneHotEncoder's.

mod arbiter;
mod client;

use crate::one_hot_encoder::{ColumnValues, OneHotEncoderParam};
use crate::{Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;

/// Client → arbiter: the client's values per encoded column (or why it cannot).
pub const HOMO_ONEHOT_VALUES: TransferVariable = TransferVariable::new(
    "homo_onehot_values",
    &[Role::Guest, Role::Host],
    &[Role::Arbiter],
);
/// Arbiter → clients: the united values per column, or the error.
pub const HOMO_ONEHOT_ALIGNED: TransferVariable = TransferVariable::new(
    "homo_onehot_aligned",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);

/// What a client sends.
pub(crate) type Values = Result<ColumnValues, String>;

/// The component.
pub struct HomoOneHotEncoder;

/// Whether this task aligns with the others (fits with `need_alignment`, in
/// a train job, without a model input). The arbiter decides the same way
/// from its own parameters and inputs.
pub(crate) fn aligns(ctx: &TaskContext, p: &OneHotEncoderParam) -> bool {
    p.need_run
        && p.need_alignment
        && ctx.job_type != "predict"
        && ctx.inputs.model("HomoOneHotEncoder").is_none()
}

impl Component for HomoOneHotEncoder {
    fn module(&self) -> &'static str {
        "HomoOneHotEncoder"
    }

    fn reads_string_features(&self) -> bool {
        true
    }

    fn needs_data_input(&self) -> bool {
        true
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let p: OneHotEncoderParam = crate::parse_params(&ctx.component_name, &ctx.params)?;
        match ctx.local.role {
            Role::Guest | Role::Host => client::run(ctx, &p),
            Role::Arbiter => arbiter::run(ctx, &p),
            other => Err(ComponentError::Failed(format!(
                "HomoOneHotEncoder has no {other} role"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
