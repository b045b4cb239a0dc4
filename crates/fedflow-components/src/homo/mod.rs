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
