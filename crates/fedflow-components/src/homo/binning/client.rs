//! Guest and host: local statistics, the query rounds, the split points,
//! the transformed data.

use super::*;
use crate::hetero_feature_binning::{
    select_columns, transform_table, BinColResult, BinningModelParam,
};
use crate::homo::aggregator;
use crate::{Dataset, Instance, ModelData};
use fedflow_computing::TypedTable;

pub(super) fn run(
    ctx: &TaskContext,
    p: &HomoFeatureBinningParam,
    method: Method,
) -> Result<ComponentOutput, ComponentError> {
    let cpn = ctx.component_name.as_str();
    let input = ctx
        .inputs
        .any()
        .ok_or_else(|| ComponentError::Input(format!("{cpn}: no input data")))?;
    if !p.need_run {
        return Ok(ComponentOutput {
            data: vec![input.clone()],
            ..Default::default()
        });
    }
    let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
    let header = &input.schema.header;
    let (meta, model) = match ctx.inputs.model("HomoFeatureBinning") {
        Some(m) => (
            parse_params::<HomoFeatureBinningParam>(&format!("{cpn}(model meta)"), &m.meta)?,
            parse_params::<BinningModelParam>(&format!("{cpn}(model param)"), &m.param)?,
        ),
        None if !fits(ctx, p) => {
            return Err(ComponentError::Input(format!(
                "{cpn}: a predict job needs the HomoFeatureBinning model of the training job"
            )))
        }
        None => (p.clone(), fit(ctx, p, method, &table, header)?),
    };
    let out = transform_table(
        cpn,
        &meta.transform_param,
        &model,
        &table,
        header,
        ctx.local.role,
    )?;
    let split_points: serde_json::Map<String, serde_json::Value> = model
        .binning_result
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!(v.split_points)))
        .collect();
    Ok(ComponentOutput {
        summary: serde_json::json!({ "split_points": split_points }),
        data: vec![Dataset {
            table: out.raw().clone(),
            schema: input.schema.clone(),
        }],
        model: Some(ModelData {
            module: "HomoFeatureBinning".into(),
            meta: serde_json::to_value(&meta).unwrap_or_default(),
            param: serde_json::to_value(&model).unwrap_or_default(),
        }),
    })
}

/// The client's side of the federated split points (also HomoSecureBoost's
/// binning): split points per binned column, the same on every client.
pub(crate) fn fit(
    ctx: &TaskContext,
    p: &HomoFeatureBinningParam,
    method: Method,
    table: &TypedTable<String, Instance>,
    header: &[String],
) -> Result<BinningModelParam, ComponentError> {
    let cpn = ctx.component_name.as_str();
    let fed = ctx.federation.as_ref();
    let arbiter = ctx.roster.party(Role::Arbiter, 0).ok_or_else(|| {
        ComponentError::Input(format!(
            "{cpn}: HomoFeatureBinning needs an arbiter in the conf's role section (role.arbiter)"
        ))
    })?;
    // 1. Local statistics; an error here is sent to the arbiter, which fails
    // every party with it.
    let local =
        select_columns(cpn, "bin_indexes", &p.bin_indexes, &p.bin_names, header).and_then(|cols| {
            let stats = table
                .apply_partitions(ColumnStats { cols: cols.clone() })?
                .reduce(MergeStats)?
                .unwrap_or_else(|| LocalStats {
                    rows: 0,
                    cols: vec![ColStats::default(); cols.len()],
                });
            Ok((cols, stats))
        });
    let (cols, stats) = match local {
        Ok(v) => v,
        Err(e) => {
            let msg = ColumnsMessage::Err(format!("{}: {e}", ctx.local));
            HOMO_BINNING_COLUMNS.remote(fed, &msg, &[arbiter], "")?;
            return Err(e);
        }
    };
    let names: Vec<String> = cols.iter().map(|&j| header[j].clone()).collect();
    let ranges: Ranges = stats.cols.iter().map(|c| c.range).collect();
    HOMO_BINNING_COLUMNS.remote(
        fed,
        &ColumnsMessage::Ok((names.clone(), ranges)),
        &[arbiter],
        "",
    )?;
    let ranges = HOMO_BINNING_RANGES
        .get_one::<RangesMessage>(fed, arbiter, "")?
        .map_err(ComponentError::Failed)?;
    if ranges.len() != cols.len() {
        return Err(ComponentError::Failed(format!(
            "{cpn}: the arbiter sent {} ranges for {} columns",
            ranges.len(),
            cols.len()
        )));
    }
    // 2. Rows and missing values, summed.
    let agg = aggregator::Client::connect(ctx, AGG_PREFIX, true)?;
    let mut counts = vec![stats.rows as f64];
    counts.extend(stats.cols.iter().map(|c| c.missing as f64));
    let sums = agg.aggregate_sum(0, &counts)?;
    let count = |x: f64| x.round().max(0.0) as u64;
    let total = count(sums[0]);
    let non_missing: Vec<u64> = sums[1..]
        .iter()
        .map(|&m| total.saturating_sub(count(m)))
        .collect();
    // 3. Query rounds: the summed ranks of the same points on every client.
    let rank = |round: u64, queries: &Vec<Vec<f64>>| -> Result<Vec<Vec<u64>>, ComponentError> {
        let local = table
            .apply_partitions(RankQuery {
                cols: cols.clone(),
                queries: queries.clone(),
            })?
            .reduce(SumRanks)?
            .unwrap_or_else(|| queries.iter().map(|q| vec![0; q.len()]).collect());
        let flat: Vec<f64> = local.iter().flatten().map(|&r| r as f64).collect();
        let sum = agg.aggregate_sum(round, &flat)?;
        let mut it = sum.into_iter();
        Ok(queries
            .iter()
            .map(|q| it.by_ref().take(q.len()).map(count).collect())
            .collect())
    };
    let splits: Vec<Vec<f64>> = match method {
        Method::VirtualSummary => {
            let queries: Vec<Vec<f64>> = ranges
                .iter()
                .map(|r| r.map_or(Vec::new(), |(lo, hi)| linspace(lo, hi, p.sample_bins)))
                .collect();
            let ranks = rank(1, &queries)?;
            (0..cols.len())
                .map(|k| virtual_summary_splits(&queries[k], &ranks[k], non_missing[k], p.bin_num))
                .collect()
        }
        Method::RecursiveQuery => {
            let allowed = (p.error * total as f64).ceil();
            let mut points: Vec<Vec<QueryPoint>> = ranges
                .iter()
                .zip(&non_missing)
                .map(|(r, &n)| {
                    r.map_or(Vec::new(), |(lo, hi)| recursive_start(lo, hi, n, p.bin_num))
                })
                .collect();
            let values = |pts: &[Vec<QueryPoint>]| -> Vec<Vec<f64>> {
                pts.iter()
                    .map(|v| v.iter().map(|q| q.value).collect())
                    .collect()
            };
            let guest = ctx.roster.party(Role::Guest, 0);
            let mut ranks = rank(1, &values(&points))?;
            for n in 0..p.max_iter {
                for (pts, r) in points.iter_mut().zip(&ranks) {
                    recursive_step(pts, r, allowed);
                }
                let converged = points.iter().flatten().all(|q| q.fixed);
                if guest == Some(ctx.local) {
                    HOMO_BINNING_CONVERGED.remote(fed, &converged, &[arbiter], &n.to_string())?;
                }
                if converged {
                    break;
                }
                ranks = rank(2 + n as u64, &values(&points))?;
            }
            points.iter().map(|p| recursive_splits(p)).collect()
        }
    };
    Ok(BinningModelParam {
        header: header.to_vec(),
        binning_result: names
            .into_iter()
            .zip(splits)
            .map(|(n, split_points)| {
                (
                    n,
                    BinColResult {
                        split_points,
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..Default::default()
    })
}
