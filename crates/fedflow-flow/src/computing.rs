//! Opens a task's computing session on the engine its job asks for
//! (`computing_engine` / FATE 1.5's `backend`), with `spark_run` passed to
//! spark-submit for the Spark engine.

use crate::conf::{ComputingEngine, JobParameters};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::Session;
use fedflow_spark::{SparkOptions, SparkSession};
use std::path::Path;
use std::sync::Arc;

/// A computing session and, on Spark, a line naming its application.
pub struct OpenedSession {
    /// The session.
    pub session: Arc<dyn Session>,
    /// `spark application <id> ui <url> master <url>` on the Spark engine.
    pub engine_info: Option<String>,
}

/// Opens the session of a task (or, for in-process runs, of a party's job).
/// Spark: `spark_run` as spark-submit options (`master`, `executor-memory`,
/// `conf`, …); without a master there, `$FEDFLOW_SPARK_MASTER`, else
/// `$SPARK_HOME/conf/spark-defaults.conf` decides.
pub fn open_session(
    jp: &JobParameters,
    session_id: &str,
    data_dir: &Path,
    memory_budget: Option<usize>,
) -> Result<OpenedSession, String> {
    match jp.computing_engine().map_err(|e| e.to_string())? {
        ComputingEngine::Standalone => {
            let s = StandaloneSession::new(
                session_id,
                StandaloneOptions {
                    memory_budget,
                    spill_dir: Some(data_dir.join("spill")),
                },
            )
            .map_err(|e| e.to_string())?;
            Ok(OpenedSession {
                session: Arc::new(s),
                engine_info: None,
            })
        }
        ComputingEngine::Spark => {
            let mut o = SparkOptions::new(data_dir.join("spark"));
            if let Some(run) = &jp.spark_run {
                o.apply_spark_run(run)
                    .map_err(|e| format!("job_parameters.{e}"))?;
            }
            let s = SparkSession::new(session_id, o).map_err(|e| e.to_string())?;
            let info = s.app_info();
            let line = format!(
                "spark application {} ui {} master {}",
                info.app_id, info.ui_url, info.master
            );
            tracing::info!(session = %session_id, "{line}");
            Ok(OpenedSession {
                session: Arc::new(s),
                engine_info: Some(line),
            })
        }
    }
}
