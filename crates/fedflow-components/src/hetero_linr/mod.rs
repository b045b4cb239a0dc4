//! `HeteroLinR`: FATE's hetero linear regression. Same protocol as
//! [`HeteroLR`](crate::hetero_lr) (shared engine, same transfer variables)
//! with squared loss: `host_forward = Enc(x_h·w_h)`,
//! `d = x_g·w_g + b − y + Σ host_forward`, loss `(1/2n)Σ(wx − y)²`, and the
//! prediction is `wx`. Defaults are FATE's `LinearParam` (optimizer sgd,
//! max_iter 20; the rest as LR).

use crate::hetero_lr::{run_linear, LinearModelParam, Task};
use crate::{Component, ComponentError, ComponentOutput, TaskContext};

/// The component.
pub struct HeteroLinR;

impl Component for HeteroLinR {
    fn module(&self) -> &'static str {
        "HeteroLinR"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        LinearModelParam::linr_from_json(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let param = LinearModelParam::linr_from_json(&ctx.component_name, &ctx.params)?;
        run_linear(ctx, &param, Task::Linear)
    }
}
