//! Arbiter: unites the clients' values per column; holds no rows.

use super::*;
use crate::homo::aggregator;
use crate::ModelData;

pub(super) fn run(
    ctx: &TaskContext,
    p: &OneHotEncoderParam,
) -> Result<ComponentOutput, ComponentError> {
    let model = ModelData {
        module: "HomoOneHotEncoder".into(),
        meta: serde_json::json!({"need_alignment": p.need_alignment, "role": "arbiter"}),
        param: serde_json::json!({}),
    };
    if !aligns(ctx, p) {
        return Ok(ComponentOutput {
            model: Some(model),
            ..Default::default()
        });
    }
    let fed = ctx.federation.as_ref();
    let clients = aggregator::clients(&ctx.roster);
    let got: Vec<Values> = HOMO_ONEHOT_VALUES.get(fed, &clients, "")?;
    let united = unite(&clients, got);
    HOMO_ONEHOT_ALIGNED.remote(fed, &united, &clients, "")?;
    let united = united.map_err(ComponentError::Failed)?;
    Ok(ComponentOutput {
        summary: serde_json::json!({
            "columns": united.len(),
            "values": united.values().map(Vec::len).sum::<usize>(),
        }),
        data: vec![],
        model: Some(model),
    })
}

/// The union per column (ascending), or the first client's error; clients
/// must encode the same columns.
pub(crate) fn unite(clients: &[fedflow_core::Party], got: Vec<Values>) -> Values {
    let mut out: Option<(fedflow_core::Party, ColumnValues)> = None;
    for (party, v) in clients.iter().zip(got) {
        let v = v.map_err(|e| format!("{party}: {e}"))?;
        match &mut out {
            None => out = Some((*party, v)),
            Some((first, acc)) => {
                let (a, b): (Vec<&String>, Vec<&String>) =
                    (acc.keys().collect(), v.keys().collect());
                if a != b {
                    return Err(format!(
                        "{party} encodes columns {b:?}, {first} {a:?}: every party needs the same"
                    ));
                }
                for (col, vals) in v {
                    let e = acc.entry(col).or_default();
                    e.extend(vals);
                    crate::one_hot_encoder::sort_values(e);
                }
            }
        }
    }
    let values = out.map(|o| o.1).unwrap_or_default();
    if let Some((col, v)) = values
        .iter()
        .find(|(_, v)| v.len() > crate::one_hot_encoder::ONE_HOT_LIMIT)
    {
        return Err(format!(
            "column {col} has {} distinct values across the parties (at most {})",
            v.len(),
            crate::one_hot_encoder::ONE_HOT_LIMIT
        ));
    }
    Ok(values)
}
