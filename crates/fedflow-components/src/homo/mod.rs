//! The horizontal family: parties hold the same features for different
//! rows. [`aggregator`] is the secure aggregation every member uses,
//! [`optim`] PyTorch's optimizers (FATE 1.11 trains its homo models
//! through them).

pub mod aggregator;
pub mod binning;
pub mod lr;
pub mod one_hot;
pub mod optim;
pub mod secureboost;

/// A client's `validate_data`, if any, with the same features as its
/// train_data (`header`).
pub(crate) fn validate_input(
    ctx: &crate::TaskContext,
    header: &[String],
) -> Result<Option<crate::hetero_lr::LocalData>, crate::ComponentError> {
    let Some(v) = ctx.inputs.first("validate_data") else {
        return Ok(None);
    };
    let v = crate::hetero_lr::LocalData::load(v)?;
    if v.schema.header != header {
        return Err(crate::ComponentError::Input(format!(
            "{}: validate_data's features differ from train_data's",
            ctx.local
        )));
    }
    Ok(Some(v))
}
