//! Guest side of the toy protocol.

use super::ops::{AddJoin, PickShare, Share, Sum};
use super::{init_data, SecureAddExampleParam, GUEST_SHARE, HOST_SHARE, HOST_SUM};
use crate::{ComponentError, ComponentOutput, Metric, TaskContext};
use fedflow_core::Role;

pub(super) fn run(
    ctx: &TaskContext,
    param: &SecureAddExampleParam,
) -> Result<ComponentOutput, ComponentError> {
    let fed = ctx.federation.as_ref();
    let host = ctx.roster.party(Role::Host, 0).ok_or_else(|| {
        ComponentError::Failed("SecureAddExample needs a host in the job's roles".into())
    })?;
    tracing::info!(
        "secure_add_guest: start, data_num {}, partition {}",
        param.data_num,
        param.partition
    );

    // 1. x = [(i, 1)], split into shares x1 (kept) and x2 (sent).
    let x = init_data(ctx, param)?;
    let shares = x.map_partitions(Share {
        seed: param.seed_or_random(),
    })?;
    let x1 = shares.map_values(PickShare(0))?;
    let x2 = shares.map_values(PickShare(1))?;

    // 2. guest_share -> host; host_share <- host.
    GUEST_SHARE.remote_table(fed, &x2, &[host], "")?;
    tracing::info!("secure_add_guest: sent guest_share to {host}");
    let y1 = HOST_SHARE.get_table::<u64, f64>(fed, host, "", ctx.computing.as_ref())?;
    tracing::info!("secure_add_guest: got host_share from {host}");

    // 3. guest_sum = Σ (x1 + y1); host_sum <- host.
    let guest_sum = x1.join(&y1, AddJoin)?.reduce(Sum)?.unwrap_or(0.0);
    let host_sum: f64 = HOST_SUM.get_one(fed, host, "")?;

    // 4. Reconstruct and check.
    let secure_sum = guest_sum + host_sum;
    let expected = 2.0 * param.data_num as f64;
    tracing::info!(
        "secure_add_guest: guest_sum {guest_sum}, host_sum {host_sum}, secure_sum {secure_sum}"
    );
    ctx.tracker.log_metric(Metric {
        namespace: "train".into(),
        name: "secure_sum".into(),
        metric_type: "SUMMARY".into(),
        points: vec![(0.0, secure_sum)],
    });
    if (secure_sum - expected).abs() >= 1e-6 {
        return Err(ComponentError::Failed(format!(
            "secure_add_guest: secure_sum {secure_sum} differs from 2 * data_num = {expected}"
        )));
    }
    tracing::info!("secure_add_guest: success to calculate secure_sum, it is {secure_sum}");
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "secure_sum": secure_sum,
            "expected": expected,
            "guest_sum": guest_sum,
            "host_sum": host_sum,
        }),
        ..Default::default()
    })
}
