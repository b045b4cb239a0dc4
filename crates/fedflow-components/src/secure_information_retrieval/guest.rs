//! Guest: the querier. Finds the common ids by commutative encryption,
//! hides them among fake blocks, obtains its block's key by oblivious
//! transfer and decrypts the host's values for its ids.

use super::*;
use crate::hetero_lr::LocalData;
use crate::intersection::dh::{tags, DhKey};
use crate::{Dataset, Instance, Schema};
use fedflow_core::Party;
use fedflow_crypto::ot::{open, OtReceiver};
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashMap;

pub(super) fn host(ctx: &TaskContext) -> Result<Party, ComponentError> {
    let hosts = ctx.roster.parties(Role::Host);
    match hosts.as_slice() {
        [h] => Ok(*h),
        [] => Err(ComponentError::Input(
            "SecureInformationRetrieval needs a host (role.host)".into(),
        )),
        _ => Err(ComponentError::Input(format!(
            "SecureInformationRetrieval retrieves from one host, the job has {}",
            hosts.len()
        ))),
    }
}

pub(super) fn run(ctx: &TaskContext, plan: &Plan) -> Result<ComponentOutput, ComponentError> {
    let cpn = &ctx.component_name;
    let fed = ctx.federation.as_ref();
    let host = host(ctx)?;
    let input = ctx
        .inputs
        .any()
        .ok_or_else(|| ComponentError::Input(format!("{cpn}: no data input")))?;
    let data = LocalData::load(input)?;
    if data.ids.is_empty() {
        return Err(ComponentError::Input(format!(
            "{cpn}: the guest's data is empty"
        )));
    }
    let retrieved: HashMap<usize, Values> = if plan.blocks == 0 {
        SIR_RAW_IDS.remote(fed, &data.ids, &[host], "")?;
        let got: Vec<Option<Values>> = SIR_RAW_VALUES.get_one(fed, host, "")?;
        got.into_iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
            .collect()
    } else {
        secure(ctx, plan, host, &data)?
    };
    let n_ret = retrieved.len();
    SIR_COVERAGE.remote(fed, &(n_ret as u64), &[host], "")?;
    let width = plan.target_cols.len();
    let rows: Vec<(String, Instance)> = data
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let v = retrieved.get(&i);
            let inst = if width == 0 {
                Instance {
                    features: vec![],
                    label: v.and_then(|v| v.first().copied()),
                    weight: 1.0,
                }
            } else {
                Instance {
                    features: v.cloned().unwrap_or_else(|| vec![f64::NAN; width]),
                    label: None,
                    weight: 1.0,
                }
            };
            (id.clone(), inst)
        })
        .collect();
    let table =
        fedflow_computing::parallelize(ctx.computing.as_ref(), rows, data.partitions.max(1))?;
    let mut extra = serde_json::Map::new();
    extra.insert("unretrieved".into(), "NaN".into());
    tracing::info!(
        "SIR: retrieved {n_ret} of {} ids from {host} ({} blocks)",
        data.ids.len(),
        plan.blocks
    );
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "retrieved": n_ret,
            "rows": data.ids.len(),
            "coverage": n_ret as f64 / data.ids.len() as f64,
            "block_num": if plan.blocks == 0 { Value::from("N/A") } else { Value::from(plan.blocks) },
        }),
        data: vec![Dataset {
            table: table.raw().clone(),
            schema: Schema {
                sid: data.schema.sid.clone(),
                header: plan.target_cols.clone(),
                label_name: (width == 0).then(|| "retrieved_value".to_string()),
                extra,
            },
        }],
        model: None,
    })
}

/// Steps 1–3: the values for the guest's rows (by row index) the host has.
fn secure(
    ctx: &TaskContext,
    plan: &Plan,
    host: Party,
    data: &LocalData,
) -> Result<HashMap<usize, Values>, ComponentError> {
    let fed = ctx.federation.as_ref();
    // 1. Commutative encryption and the common positions.
    let p = DhKey::prime(plan.dh.key_length);
    SIR_PRIME.remote(fed, &p.to_bytes_be(), &[host], "")?;
    let key = DhKey::new(p)?;
    let salted: Vec<Vec<u8>> = data
        .ids
        .iter()
        .map(|id| format!("{id}{}", plan.dh.salt).into_bytes())
        .collect();
    SIR_GUEST_IDS.remote(fed, &key.blind(&salted), &[host], "")?;
    let host_once: Vec<Vec<u8>> = SIR_HOST_IDS.get_one(fed, host, "")?;
    let mine_twice: Vec<Vec<u8>> = SIR_GUEST_IDS_DOUBLE.get_one(fed, host, "")?;
    if mine_twice.len() != data.ids.len() {
        return Err(ComponentError::Failed(format!(
            "{host} returned {} encrypted ids for {}",
            mine_twice.len(),
            data.ids.len()
        )));
    }
    let host_twice = tags(&key.reblind(&host_once)?);
    let position: HashMap<[u8; 32], usize> = host_twice
        .iter()
        .enumerate()
        .map(|(j, t)| (*t, j))
        .collect();
    // (host position, guest row) of the common ids, in host order.
    let mut common: Vec<(u32, usize)> = tags(&mine_twice)
        .iter()
        .enumerate()
        .filter_map(|(i, t)| position.get(t).map(|&j| (j as u32, i)))
        .collect();
    common.sort();
    // 2. Blocks: the real one at a random index among random samples.
    let mut rng = rand::rngs::OsRng;
    let target = rng.gen_range(0..plan.blocks);
    let all: Vec<u32> = (0..host_once.len() as u32).collect();
    let blocks: Vec<Vec<u32>> = (0..plan.blocks)
        .map(|b| {
            if b == target {
                common.iter().map(|c| c.0).collect()
            } else {
                let mut s: Vec<u32> = all
                    .choose_multiple(&mut rng, common.len())
                    .copied()
                    .collect();
                s.sort();
                s
            }
        })
        .collect();
    SIR_BLOCKS.remote(fed, &Blocks(blocks), &[host], "")?;
    // 3. Oblivious transfer of the target block's key.
    let s: [u8; 32] = SIR_OT_SENDER.get_one(fed, host, "")?;
    let receiver =
        OtReceiver::new(&s, target as u64).map_err(|e| ComponentError::Failed(e.to_string()))?;
    SIR_OT_RECEIVER.remote(fed, &receiver.public(), &[host], "")?;
    let sealed: Vec<Vec<u8>> = SIR_BLOCKS_ENCRYPTED.get_one(fed, host, "")?;
    let mine = sealed.get(target).ok_or_else(|| {
        ComponentError::Failed(format!(
            "{host} sent {} blocks, {} were asked",
            sealed.len(),
            plan.blocks
        ))
    })?;
    let plain = open(&receiver.key(), mine)
        .map_err(|e| ComponentError::Failed(format!("{host}'s block: {e}")))?;
    let values: Vec<Values> = fedflow_core::codec::decode(&plain)
        .map_err(|e| ComponentError::Failed(format!("{host}'s block: {e}")))?;
    if values.len() != common.len() {
        return Err(ComponentError::Failed(format!(
            "{host}'s block holds {} rows, {} were asked",
            values.len(),
            common.len()
        )));
    }
    Ok(common.into_iter().map(|c| c.1).zip(values).collect())
}
