//! Opens a task's computing session on the engine its job asks for
//! (`computing_engine` / FATE 1.5's `backend`), with `spark_run` passed to
//! spark-submit for the Spark engine.

use crate::conf::{ComputingEngine, JobParameters};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{ComputingError, RawRows, Session, Table};
use fedflow_core::RowBlock;
use fedflow_spark::{SparkOptions, SparkSession};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// A computing session and, on Spark, the application behind it.
#[derive(Clone)]
pub struct OpenedSession {
    /// The session.
    pub session: Arc<dyn Session>,
    spark: Option<Arc<LazySpark>>,
}

impl OpenedSession {
    /// `spark application <id> ui <url> master <url>` once the Spark
    /// application has started (a task that touched no table starts none).
    pub fn engine_info(&self) -> Option<String> {
        self.spark.as_ref().and_then(|s| s.info())
    }
}

/// A Spark session started at its first table operation: parties that never
/// touch a table (an arbiter in most algorithms) hold no application and no
/// executor cores. Start failures surface at that first operation, as the
/// task's error.
pub struct LazySpark {
    id: String,
    options: SparkOptions,
    started: OnceLock<Result<SparkSession, String>>,
}

impl LazySpark {
    fn session(&self) -> Result<&SparkSession, ComputingError> {
        self.started
            .get_or_init(|| {
                let s =
                    SparkSession::new(&self.id, self.options.clone()).map_err(|e| e.to_string())?;
                let info = s.app_info();
                tracing::info!(
                    session = %self.id,
                    "spark application {} ui {} master {}",
                    info.app_id,
                    info.ui_url,
                    info.master
                );
                Ok(s)
            })
            .as_ref()
            .map_err(|e| ComputingError::Engine {
                engine: "spark",
                message: e.clone(),
            })
    }

    fn info(&self) -> Option<String> {
        let s = self.started.get()?.as_ref().ok()?;
        let info = s.app_info();
        Some(format!(
            "spark application {} ui {} master {}",
            info.app_id, info.ui_url, info.master
        ))
    }
}

impl Session for LazySpark {
    fn session_id(&self) -> &str {
        &self.id
    }
    fn engine(&self) -> &'static str {
        "spark"
    }
    fn parallelize(
        &self,
        rows: RawRows,
        partitions: usize,
    ) -> Result<Arc<dyn Table>, ComputingError> {
        self.session()?.parallelize(rows, partitions)
    }
    fn load_blocks(&self, blocks: Vec<RowBlock>) -> Result<Arc<dyn Table>, ComputingError> {
        self.session()?.load_blocks(blocks)
    }
    fn load_path(
        &self,
        uri: &str,
        partitions: usize,
    ) -> Result<Option<Arc<dyn Table>>, ComputingError> {
        self.session()?.load_path(uri, partitions)
    }
    fn stop(&self) -> Result<(), ComputingError> {
        match self.started.get() {
            Some(Ok(s)) => s.stop(),
            _ => Ok(()),
        }
    }
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
                spark: None,
            })
        }
        ComputingEngine::Spark => {
            let mut o = SparkOptions::new(data_dir.join("spark"));
            if let Some(run) = &jp.spark_run {
                o.apply_spark_run(run)
                    .map_err(|e| format!("job_parameters.{e}"))?;
            }
            let lazy = Arc::new(LazySpark {
                id: session_id.to_string(),
                options: o,
                started: OnceLock::new(),
            });
            Ok(OpenedSession {
                session: lazy.clone(),
                spark: Some(lazy),
            })
        }
    }
}
