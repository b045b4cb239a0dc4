//! Host: shares its values, verifies and adds what it receives, and sends
//! the sums at its point to the guest.

use super::*;

pub(super) fn run(
    ctx: &TaskContext,
    p: &FeldmanVerifiableSumParam,
) -> Result<ComponentOutput, ComponentError> {
    let local = prepare(ctx, p)?;
    let summed = exchange(ctx, &local)?;
    let guest = local.parties[local.parties.len() - 1];
    let sums = Sums {
        ids: summed.common.clone(),
        sums: summed
            .sums
            .iter()
            .map(|row| row.iter().map(|s| s.to_bytes_be()).collect())
            .collect(),
    };
    FVS_SUM.remote(ctx.federation.as_ref(), &sums, &[guest], "")?;
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "common_ids": summed.common.len(),
            "columns": local.header,
        }),
        data: vec![],
        model: None,
    })
}
