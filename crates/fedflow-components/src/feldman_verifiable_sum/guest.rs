//! Guest: shares its values like every party, then checks each host's sums
//! against the product of all parties' commitments and reconstructs the
//! column sums of the common ids.

use super::*;
use crate::{Dataset, Instance, Schema};

pub(super) fn run(
    ctx: &TaskContext,
    p: &FeldmanVerifiableSumParam,
) -> Result<ComponentOutput, ComponentError> {
    let local = prepare(ctx, p)?;
    let summed = exchange(ctx, &local)?;
    let g = &local.group;
    let n = local.parties.len();
    let fed = ctx.federation.as_ref();
    // points[r][c] = the (x, sum) pairs of row r, column c.
    let mut points: Vec<Vec<Vec<(u64, BigUint)>>> = summed
        .sums
        .iter()
        .map(|row| row.iter().map(|s| vec![(n as u64, s.clone())]).collect())
        .collect();
    for (h, &host) in local.parties[..n - 1].iter().enumerate() {
        let s: Sums = FVS_SUM.get_one(fed, host, "")?;
        if s.ids != summed.common {
            return Err(ComponentError::Failed(format!(
                "{host} summed {} ids, the guest {}: the parties disagree on the common ids",
                s.ids.len(),
                summed.common.len()
            )));
        }
        let x = h as u64 + 1;
        let checked: Vec<Vec<BigUint>> = summed
            .common
            .par_iter()
            .zip(&s.sums)
            .map(|(id, row)| {
                local
                    .header
                    .iter()
                    .enumerate()
                    .map(|(c, name)| {
                        let y = row.get(c).map(|b| big(b)).unwrap_or_default();
                        // The commitments to the sum: the product over parties.
                        let mut cm = summed.commitments[0][id][c].clone();
                        for party in &summed.commitments[1..] {
                            cm = g.combine(&cm, &party[id][c]);
                        }
                        if g.verify(x, &y, &cm) {
                            Ok(y)
                        } else {
                            Err(ComponentError::Failed(format!(
                                "{host} sent a sum that does not match the commitments (row {id}, column {name}): \
                                 a party is not following the protocol"
                            )))
                        }
                    })
                    .collect()
            })
            .collect::<Result<_, ComponentError>>()?;
        for (row, ys) in points.iter_mut().zip(checked) {
            for (pts, y) in row.iter_mut().zip(ys) {
                pts.push((x, y));
            }
        }
    }
    let rows: Vec<(String, Instance)> = summed
        .common
        .par_iter()
        .zip(&points)
        .map(|(id, row)| {
            let features = row
                .iter()
                .map(|pts| Ok(g.decode(&g.reconstruct(pts)?, local.q_n)))
                .collect::<Result<Vec<f64>, fedflow_crypto::CryptoError>>()
                .map_err(|e| ComponentError::Failed(format!("row {id}: {e}")))?;
            Ok((
                id.clone(),
                Instance {
                    features,
                    label: None,
                    weight: 1.0,
                },
            ))
        })
        .collect::<Result<_, ComponentError>>()?;
    let n_rows = rows.len();
    let table =
        fedflow_computing::parallelize(ctx.computing.as_ref(), rows, local.partitions.max(1))?;
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "common_ids": n_rows,
            "columns": local.header,
            "parties": n,
        }),
        data: vec![Dataset {
            table: table.raw().clone(),
            schema: Schema {
                sid: local.sid.clone(),
                header: local.header.clone(),
                label_name: None,
                extra: Default::default(),
            },
        }],
        model: None,
    })
}
