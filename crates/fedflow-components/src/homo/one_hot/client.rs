//! Guest and host: encode their own rows with the columns' united values.

use super::*;
use crate::one_hot_encoder::encode;

pub(super) fn run(
    ctx: &TaskContext,
    p: &OneHotEncoderParam,
) -> Result<ComponentOutput, ComponentError> {
    if !aligns(ctx, p) {
        return encode(ctx, "HomoOneHotEncoder", p, &mut |v| Ok(v));
    }
    let fed = ctx.federation.as_ref();
    let arbiter = ctx.roster.party(Role::Arbiter, 0).ok_or_else(|| {
        ComponentError::Input(format!(
            "{}: need_alignment needs an arbiter in the conf's role section (role.arbiter)",
            ctx.component_name
        ))
    })?;
    let mut sent = false;
    let out = encode(ctx, "HomoOneHotEncoder", p, &mut |mine| {
        HOMO_ONEHOT_VALUES.remote(fed, &Values::Ok(mine), &[arbiter], "")?;
        sent = true;
        let aligned: Values = HOMO_ONEHOT_ALIGNED.get_one(fed, arbiter, "")?;
        aligned.map_err(ComponentError::Failed)
    });
    match out {
        // Failed before its values went out (bad column, non-integer value):
        // tell the arbiter, so that every party fails with this message.
        Err(e) if !sent => {
            HOMO_ONEHOT_VALUES.remote(fed, &Values::Err(e.to_string()), &[arbiter], "")?;
            Err(e)
        }
        Ok(_) if !sent => {
            let e = format!("{}: no data to encode", ctx.local);
            HOMO_ONEHOT_VALUES.remote(fed, &Values::Err(e.clone()), &[arbiter], "")?;
            Err(ComponentError::Input(e))
        }
        other => other,
    }
}
