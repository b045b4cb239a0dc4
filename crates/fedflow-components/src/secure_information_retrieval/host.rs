//! Host: the data holder. Encrypts its ids in a random order, answers the
//! guest's blocks with every block encrypted under its own OT key, and
//! learns only how many ids the guest retrieved.

use super::*;
use crate::hetero_lr::LocalData;
use crate::intersection::dh::DhKey;
use fedflow_crypto::ot::{seal, OtSender};
use fedflow_crypto::BigUint;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use std::collections::HashMap;

/// The host's row values: the target columns, or the label.
fn values(cpn: &str, plan: &Plan, data: &LocalData) -> Result<Vec<Values>, ComponentError> {
    if plan.target_cols.is_empty() {
        return data
            .ids
            .iter()
            .zip(&data.rows)
            .map(|(id, r)| {
                r.label.map(|l| vec![l]).ok_or_else(|| {
                    ComponentError::Input(format!(
                        "{cpn}: host row {id} has no label: target_cols is empty, so the label is \
                         retrieved (DataTransform with_label on the host, or name target_cols)"
                    ))
                })
            })
            .collect();
    }
    let idx: Vec<usize> = plan
        .target_cols
        .iter()
        .map(|c| {
            data.schema
                .header
                .iter()
                .position(|h| h == c)
                .ok_or_else(|| ComponentError::Param {
                    path: format!("{cpn}.target_cols"),
                    message: format!(
                        "'{c}' is not a column of the host's data {:?}",
                        data.schema.header
                    ),
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(data
        .rows
        .iter()
        .map(|r| idx.iter().map(|&j| r.features[j]).collect())
        .collect())
}

pub(super) fn run(ctx: &TaskContext, plan: &Plan) -> Result<ComponentOutput, ComponentError> {
    let cpn = &ctx.component_name;
    let fed = ctx.federation.as_ref();
    let guest = ctx
        .roster
        .party(Role::Guest, 0)
        .ok_or_else(|| ComponentError::Input("SecureInformationRetrieval needs a guest".into()))?;
    let input = ctx
        .inputs
        .any()
        .ok_or_else(|| ComponentError::Input(format!("{cpn}: no data input")))?;
    let data = LocalData::load(input)?;
    let vals = values(cpn, plan, &data)?;
    let blocks_sent = if plan.blocks == 0 {
        let asked: Vec<String> = SIR_RAW_IDS.get_one(fed, guest, "")?;
        let pos: HashMap<&String, usize> =
            data.ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        let answer: Vec<Option<Values>> = asked
            .iter()
            .map(|id| pos.get(id).map(|&i| vals[i].clone()))
            .collect();
        SIR_RAW_VALUES.remote(fed, &answer, &[guest], "")?;
        0
    } else {
        // 1. Commutative encryption, in a random order of the host's rows.
        let p: Vec<u8> = SIR_PRIME.get_one(fed, guest, "")?;
        let key = DhKey::new(BigUint::from_bytes_be(&p))?;
        let mut order: Vec<usize> = (0..data.ids.len()).collect();
        order.shuffle(&mut rand::rngs::OsRng);
        let salted: Vec<Vec<u8>> = order
            .iter()
            .map(|&i| format!("{}{}", data.ids[i], plan.dh.salt).into_bytes())
            .collect();
        SIR_HOST_IDS.remote(fed, &key.blind(&salted), &[guest], "")?;
        let theirs: Vec<Vec<u8>> = SIR_GUEST_IDS.get_one(fed, guest, "")?;
        SIR_GUEST_IDS_DOUBLE.remote(fed, &key.reblind(&theirs)?, &[guest], "")?;
        // 2–3. Every block's values, each under its own OT key.
        let blocks: Blocks = SIR_BLOCKS.get_one(fed, guest, "")?;
        if blocks.0.is_empty() || blocks.0.len() > 100_000 {
            return Err(ComponentError::Failed(format!(
                "the guest asked for {} blocks",
                blocks.0.len()
            )));
        }
        let sender = OtSender::new();
        SIR_OT_SENDER.remote(fed, &sender.public(), &[guest], "")?;
        let r: [u8; 32] = SIR_OT_RECEIVER.get_one(fed, guest, "")?;
        let keys = sender
            .keys(&r, blocks.0.len())
            .map_err(|e| ComponentError::Failed(e.to_string()))?;
        let sealed: Vec<Vec<u8>> = blocks
            .0
            .par_iter()
            .zip(&keys)
            .map(|(b, k)| {
                let rows: Vec<&Values> = b
                    .iter()
                    .map(|&j| {
                        order.get(j as usize).map(|&i| &vals[i]).ok_or_else(|| {
                            ComponentError::Failed(format!(
                                "the guest asked for position {j} of {}",
                                order.len()
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                let bytes = fedflow_core::codec::encode(&rows)
                    .map_err(|e| ComponentError::Failed(e.to_string()))?;
                seal(k, &bytes).map_err(|e| ComponentError::Failed(e.to_string()))
            })
            .collect::<Result<_, ComponentError>>()?;
        SIR_BLOCKS_ENCRYPTED.remote(fed, &sealed, &[guest], "")?;
        blocks.0.len()
    };
    let coverage: u64 = SIR_COVERAGE.get_one(fed, guest, "")?;
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "retrieved": coverage,
            "rows": data.ids.len(),
            "block_num": blocks_sent,
        }),
        data: vec![],
        model: None,
    })
}
