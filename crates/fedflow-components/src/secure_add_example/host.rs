//! Host side of the toy protocol.

use super::ops::{AddJoin, PickShare, Share, Sum};
use super::{init_data, SecureAddExampleParam, GUEST_SHARE, HOST_SHARE, HOST_SUM};
use crate::{ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;

pub(super) fn run(
    ctx: &TaskContext,
    param: &SecureAddExampleParam,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
    let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
        ComponentError::Failed("SecureAddExample needs a guest in the job's roles".into())
    })?;
    tracing::info!(
        "secure_add_host: start, data_num {}, partition {}",
        param.data_num,
        param.partition
    );

    // 1. y = [(i, 1)], split into shares y1 (sent) and y2 (kept).
    let y = init_data(ctx, param)?;
    let shares = y.map_partitions(Share {
        seed: param.seed_or_random(),
    })?;
    let y1 = shares.map_values(PickShare(0))?;
    let y2 = shares.map_values(PickShare(1))?;

    // 2. host_share -> guest; guest_share <- guest.
    HOST_SHARE.remote_table(fed, &y1, &[guest], "")?;
    let x2 = GUEST_SHARE.get_table::<u64, f64>(fed, guest, "", ctx.computing.as_ref())?;

    // 3. host_sum = Σ (y2 + x2) -> guest.
    let host_sum = y2.join(&x2, AddJoin)?.reduce(Sum)?.unwrap_or(0.0);
    HOST_SUM.remote(fed, &host_sum, &[guest], "")?;
    tracing::info!("secure_add_host: sent host_sum {host_sum}");
    Ok(ComponentOutput {
        summary: serde_json::json!({ "host_sum": host_sum }),
        ..Default::default()
    })
}
