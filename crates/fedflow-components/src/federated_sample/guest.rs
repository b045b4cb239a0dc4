//! FederatedSample, guest (and every party in `homo` mode): draws the sample
//! and, in `hetero` mode, sends the drawn ids to the hosts.

use super::{apply, draw, log_counts, Fractions, LabelOf, SampleParam, SAMPLE_IDS};
use crate::{ComponentError, Instance, TaskContext};
use fedflow_computing::TypedTable;
use fedflow_core::Role;

pub(super) fn run(
    ctx: &TaskContext,
    p: &SampleParam,
    fractions: &Fractions,
    table: &TypedTable<String, Instance>,
) -> Result<(TypedTable<String, Instance>, serde_json::Value), ComponentError> {
    let rows = table.map_values(LabelOf)?.collect()?;
    let seed = p.random_state.unwrap_or_else(rand::random);
    let upsample = p.method == "upsample";
    let (d, counts) = draw(rows, fractions, upsample, seed)?;
    if p.task_type == "hetero" && ctx.local.role == Role::Guest {
        let hosts = ctx.roster.parties(Role::Host);
        if !hosts.is_empty() {
            SAMPLE_IDS.remote(ctx.federation.as_ref(), &d, &hosts, "")?;
        }
    }
    let out = apply(ctx, table, &d)?;
    let summary = match fractions {
        Fractions::Random(_) => {
            log_counts(ctx, "sample_count", "random", vec![(0.0, d.len() as f64)]);
            serde_json::json!({"sample_count": d.len(), "random_state": seed})
        }
        Fractions::Stratified(_) => {
            log_counts(
                ctx,
                "sample_count",
                "stratified",
                counts.iter().map(|&(l, _, n)| (l, n as f64)).collect(),
            );
            log_counts(
                ctx,
                "original_count",
                "stratified",
                counts.iter().map(|&(l, n, _)| (l, n as f64)).collect(),
            );
            let by = |f: fn(&(f64, usize, usize)) -> usize| -> serde_json::Map<String, serde_json::Value> {
                counts
                    .iter()
                    .map(|c| (c.0.to_string(), f(c).into()))
                    .collect()
            };
            serde_json::json!({
                "original_count": by(|c| c.1),
                "sample_count": by(|c| c.2),
                "random_state": seed,
            })
        }
    };
    tracing::info!("{}: sampled {} rows", ctx.component_name, d.len());
    Ok((out, summary))
}
