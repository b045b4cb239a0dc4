//! Arbiter: checks the clients bin the same columns, unites their ranges,
//! sums their counts and ranks securely; it never sees one client's ranks.

use super::*;
use crate::hetero_feature_binning::BinningModelParam;
use crate::homo::aggregator;
use crate::ModelData;
use fedflow_core::Party;

pub(super) fn run(
    ctx: &TaskContext,
    p: &HomoFeatureBinningParam,
    method: Method,
) -> Result<ComponentOutput, ComponentError> {
    if !fits(ctx, p) {
        return Ok(ComponentOutput::default());
    }
    let clients = aggregator::clients(&ctx.roster);
    let (names, rounds) = serve(ctx, p, method)?;
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "clients": clients.len(),
            "columns": names.len(),
            "query_rounds": rounds,
        }),
        model: Some(ModelData {
            module: "HomoFeatureBinning".into(),
            meta: serde_json::to_value(p).unwrap_or_default(),
            param: serde_json::to_value(BinningModelParam::default()).unwrap_or_default(),
        }),
        ..Default::default()
    })
}

/// The arbiter's side of the federated split points (also HomoSecureBoost's
/// binning): checks the columns, unites the ranges, sums the counts and ranks.
/// Returns the binned columns and the number of query rounds.
pub(crate) fn serve(
    ctx: &TaskContext,
    p: &HomoFeatureBinningParam,
    method: Method,
) -> Result<(Vec<String>, usize), ComponentError> {
    let fed = ctx.federation.as_ref();
    let clients = aggregator::clients(&ctx.roster);
    let msgs: Vec<ColumnsMessage> = HOMO_BINNING_COLUMNS.get(fed, &clients, "")?;
    let united = unite(&clients, msgs);
    let reply: RangesMessage = united.clone().map(|(_, r)| r);
    HOMO_BINNING_RANGES.remote(fed, &reply, &clients, "")?;
    let (names, _) = united.map_err(ComponentError::Failed)?;
    let agg = aggregator::Server::connect(ctx, AGG_PREFIX, true)?;
    agg.sum_back(0)?;
    agg.sum_back(1)?;
    let mut rounds = 1;
    if method == Method::RecursiveQuery {
        let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
            ComponentError::Input(format!(
                "{}: recursive_query needs a guest (it decides when the rounds end)",
                ctx.component_name
            ))
        })?;
        for n in 0..p.max_iter {
            let converged: bool = HOMO_BINNING_CONVERGED.get_one(fed, guest, &n.to_string())?;
            if converged {
                break;
            }
            agg.sum_back(2 + n as u64)?;
            rounds += 1;
        }
    }
    Ok((names, rounds))
}

/// The clients' columns must be the same; their ranges are united. An error
/// names the client.
pub(crate) fn unite(clients: &[Party], msgs: Vec<ColumnsMessage>) -> Result<Columns, String> {
    let mut out: Option<Columns> = None;
    for (c, m) in clients.iter().zip(msgs) {
        let (names, ranges) = m?;
        if names.len() != ranges.len() {
            return Err(format!(
                "{c} sent {} ranges for {} columns",
                ranges.len(),
                names.len()
            ));
        }
        match &mut out {
            None => out = Some((names, ranges)),
            Some((first, acc)) => {
                if *first != names {
                    return Err(format!(
                        "{c} bins columns {names:?}, {} bins {first:?}: every party must bin the same columns",
                        clients[0]
                    ));
                }
                for (a, r) in acc.iter_mut().zip(ranges) {
                    *a = super::ops::union_range(*a, r);
                }
            }
        }
    }
    out.ok_or_else(|| "no client sent its columns".to_string())
}
