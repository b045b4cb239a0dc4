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

/// The arbiter's check that every client trains, or every client predicts:
/// the one error every party fails with, naming the first that differs.
pub(crate) fn same_train_mode(
    clients: &[fedflow_core::Party],
    trains: impl Fn(usize) -> bool,
) -> Result<(), String> {
    let word = |t: bool| if t { "trains" } else { "predicts" };
    let (p0, t0) = (clients[0], trains(0));
    match (1..clients.len()).find(|&i| trains(i) != t0) {
        Some(i) => Err(format!(
            "{p0} {} but {} {}: every party needs train_data, or none",
            word(t0),
            clients[i],
            word(!t0)
        )),
        None => Ok(()),
    }
}

/// The label values of all clients, united and sorted.
pub(crate) fn united_classes<'a>(per_client: impl Iterator<Item = &'a [f64]>) -> Vec<f64> {
    let mut classes: Vec<f64> = per_client.flatten().copied().collect();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    classes
}
