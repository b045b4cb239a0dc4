//! FederatedSample, host (`hetero`): applies the guest's drawn ids to its rows.

use super::{apply, Draw, SAMPLE_IDS};
use crate::{ComponentError, Instance, TaskContext};
use fedflow_computing::TypedTable;
use fedflow_core::Role;

pub(super) fn run(
    ctx: &TaskContext,
    table: &TypedTable<String, Instance>,
) -> Result<(TypedTable<String, Instance>, serde_json::Value), ComponentError> {
    let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
        ComponentError::Failed("FederatedSample (hetero) needs a guest in the job's roles".into())
    })?;
    let d: Draw = SAMPLE_IDS.get_one(ctx.federation.as_ref(), guest, "")?;
    let out = apply(ctx, table, &d)?;
    tracing::info!(
        "{}: kept {} rows as the guest drew",
        ctx.component_name,
        d.len()
    );
    Ok((out, serde_json::json!({"sample_count": d.len()})))
}
