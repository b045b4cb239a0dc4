//! HomoDataSplit, every party: splits its own rows; nothing is sent.

use super::{draw, output, DataSplitParam};
use crate::{ComponentError, ComponentOutput, Dataset, Instance, TaskContext};
use fedflow_computing::TypedTable;

pub(super) fn run(
    ctx: &TaskContext,
    p: &DataSplitParam,
    input: &Dataset,
    table: &TypedTable<String, Instance>,
) -> Result<ComponentOutput, ComponentError> {
    let (split, per_class, seed) = draw(&ctx.component_name, p, table)?;
    let mut extra = serde_json::Map::new();
    extra.insert("random_state".into(), seed.into());
    output(ctx, input, table, &split, per_class, p, extra)
}
