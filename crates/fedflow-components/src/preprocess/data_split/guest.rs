//! HeteroDataSplit, guest: draws the split from its ids and labels, sends
//! each host the three id lists, keeps its own rows by them.

use super::{draw, output, DataSplitParam, SPLIT_IDS};
use crate::{ComponentError, ComponentOutput, Dataset, Instance, TaskContext};
use fedflow_computing::TypedTable;
use fedflow_core::Role;

pub(super) fn run(
    ctx: &TaskContext,
    p: &DataSplitParam,
    input: &Dataset,
    table: &TypedTable<String, Instance>,
) -> Result<ComponentOutput, ComponentError> {
    let (split, per_class, seed) = draw(&ctx.component_name, p, table)?;
    let hosts: Vec<_> = ctx.roster.parties(Role::Host);
    if !hosts.is_empty() {
        SPLIT_IDS.remote(ctx.federation.as_ref(), &split, &hosts, "")?;
    }
    let mut extra = serde_json::Map::new();
    extra.insert("random_state".into(), seed.into());
    output(ctx, input, table, &split, per_class, p, extra)
}
