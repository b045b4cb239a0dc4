//! `SecureAddExample`: FATE's toy job (fate-reference.md §6).
//!
//! Both parties hold `data_num` rows `(i, 1)`. Each splits every value into
//! two additive shares, keeps one and sends the other (`guest_share`,
//! `host_share`); each adds its kept shares to the peer's by key and sums. The
//! host sends its sum (`host_sum`); the guest checks that the two sums add up
//! to `2 · data_num`.

mod guest;
mod host;
mod ops;
mod params;

pub use params::SecureAddExampleParam;

use crate::{parse_params, Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;

/// The guest's shares, guest → host.
pub const GUEST_SHARE: TransferVariable =
    TransferVariable::new("guest_share", &[Role::Guest], &[Role::Host]);
/// The host's shares, host → guest.
pub const HOST_SHARE: TransferVariable =
    TransferVariable::new("host_share", &[Role::Host], &[Role::Guest]);
/// The host's partial sum, host → guest.
pub const HOST_SUM: TransferVariable =
    TransferVariable::new("host_sum", &[Role::Host], &[Role::Guest]);

/// The component.
pub struct SecureAddExample;

impl Component for SecureAddExample {
    fn module(&self) -> &'static str {
        "SecureAddExample"
    }

    fn needs_data_input(&self) -> bool {
        false
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        parse_params::<SecureAddExampleParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let param: SecureAddExampleParam = parse_params(&ctx.component_name, &ctx.params)?;
        param.check(&ctx.component_name)?;
        match ctx.local.role {
            Role::Guest => guest::run(ctx, &param),
            Role::Host => host::run(ctx, &param),
            other => Err(ComponentError::Failed(format!(
                "SecureAddExample has no {other} role"
            ))),
        }
    }
}

/// The rows both parties start from: `(i, 1.0)` for `i < data_num`.
fn init_data(
    ctx: &TaskContext,
    param: &SecureAddExampleParam,
) -> Result<fedflow_computing::TypedTable<u64, f64>, ComponentError> {
    Ok(fedflow_computing::parallelize_values(
        ctx.computing.as_ref(),
        vec![1.0f64; param.data_num as usize],
        param.partition as usize,
    )?)
}

#[cfg(test)]
mod tests;
