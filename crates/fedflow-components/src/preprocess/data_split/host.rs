//! HeteroDataSplit, host: keeps its rows by the guest's three id lists.

use super::{output, DataSplitParam, Split, SPLIT_IDS};
use crate::{ComponentError, ComponentOutput, Dataset, Instance, TaskContext};
use fedflow_computing::TypedTable;
use fedflow_core::Role;

pub(super) fn run(
    ctx: &TaskContext,
    p: &DataSplitParam,
    input: &Dataset,
    table: &TypedTable<String, Instance>,
) -> Result<ComponentOutput, ComponentError> {
    let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
        ComponentError::Failed("HeteroDataSplit needs a guest in the job's roles".into())
    })?;
    let split: Split = SPLIT_IDS.get_one(ctx.federation.as_ref(), guest, "")?;
    // Class counts are the guest's (the host has no labels).
    output(ctx, input, table, &split, None, p, serde_json::Map::new())
}
