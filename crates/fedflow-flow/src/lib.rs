//! fedflow's job layer, FATE Flow's role.
//!
//! * [`conf`]: the runtime conf, v2 (`dsl_version: 2`) and FATE 1.5's v1
//!   (`role_parameters`, `algorithm_parameters`, `work_mode`, `backend`),
//!   parsed into one typed [`JobConf`]; errors name the JSON path.
//! * [`dsl`]: the DSL (v1 and v2) and its DAG.
//! * [`runner`]: runs a job's tasks, component by component in DAG order, for
//!   every party of the roster or only the ones this process hosts.

pub mod computing;
pub mod conf;
pub mod dsl;
pub mod models;
pub mod runner;
pub mod store;
pub mod task;

pub use conf::{ComputingEngine, ConfError, JobConf, JobParameters};
pub use dsl::Dsl;
pub use models::ModelStore;
pub use runner::{new_job_id, run_job, JobReport, RunOptions, TaskReport, TaskStatus};
