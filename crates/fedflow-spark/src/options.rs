//! How a Spark session is launched: FATE's `spark_run` as spark-submit options.

use crate::SparkError;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options of a Spark session (one Spark application).
#[derive(Debug, Clone)]
pub struct SparkOptions {
    /// `--master` (`spark://host:port`, `local[n]`, …); without it,
    /// `$SPARK_HOME/conf/spark-defaults.conf` decides.
    pub master: Option<String>,
    /// Spark's home; default: [`find_spark_home`](crate::find_spark_home).
    pub spark_home: Option<PathBuf>,
    /// Further spark-submit options (`--executor-memory 2g`, …).
    pub submit_args: Vec<String>,
    /// `--conf key=value` pairs.
    pub conf: Vec<(String, String)>,
    /// The `fedflow` binary shipped to executors; default: the running binary.
    pub worker_binary: Option<PathBuf>,
    /// A command that runs the worker on executors instead of the shipped
    /// binary (`{STEP}` is replaced by the step argument), e.g. when fedflow is
    /// installed on every node.
    pub worker_command: Option<String>,
    /// Where the session's files go (driver program, log, exchange files):
    /// a path the executors can read and write.
    pub work_dir: PathBuf,
    /// The application's name (default: the session id).
    pub app_name: String,
    /// How long to wait for the first executor.
    pub start_timeout: Duration,
    /// How long a job may run without any live executor before it is cancelled.
    pub lost_timeout: Duration,
    /// The longest a single Spark request may take.
    pub op_timeout: Duration,
}

fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs_f64(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| *v > 0.0)
            .unwrap_or(default as f64),
    )
}

impl SparkOptions {
    /// Defaults; timeouts from `FEDFLOW_SPARK_START_TIMEOUT` (60 s),
    /// `FEDFLOW_SPARK_LOST_TIMEOUT` (30 s), `FEDFLOW_SPARK_OP_TIMEOUT` (3600 s).
    pub fn new(work_dir: impl Into<PathBuf>) -> Self {
        SparkOptions {
            master: std::env::var("FEDFLOW_SPARK_MASTER")
                .ok()
                .filter(|m| !m.is_empty()),
            spark_home: None,
            submit_args: Vec::new(),
            conf: Vec::new(),
            worker_binary: None,
            worker_command: None,
            work_dir: work_dir.into(),
            app_name: String::new(),
            start_timeout: env_secs("FEDFLOW_SPARK_START_TIMEOUT", 60),
            lost_timeout: env_secs("FEDFLOW_SPARK_LOST_TIMEOUT", 30),
            op_timeout: env_secs("FEDFLOW_SPARK_OP_TIMEOUT", 3600),
        }
    }

    /// Applies FATE's `spark_run` object: `master`, `conf` ({key: value}) and
    /// any other key as `--key value` (`executor-memory`, `total-executor-cores`,
    /// `num-executors`, `executor-cores`, `driver-memory`, …). `spark.pyspark.*`
    /// settings are accepted and ignored: executors run no Python.
    pub fn apply_spark_run(&mut self, spark_run: &Value) -> Result<(), SparkError> {
        let bad = |field: &str, message: &str| SparkError::Options {
            field: field.to_string(),
            message: message.to_string(),
        };
        let obj = match spark_run {
            Value::Null => return Ok(()),
            Value::Object(o) => o,
            _ => {
                return Err(bad(
                    "(spark_run)",
                    "expected an object of spark-submit options",
                ))
            }
        };
        for (key, value) in obj {
            match key.as_str() {
                "master" => {
                    self.master = Some(
                        value
                            .as_str()
                            .ok_or_else(|| bad(key, "expected a master URL string"))?
                            .to_string(),
                    )
                }
                "conf" => {
                    let conf = value
                        .as_object()
                        .ok_or_else(|| bad(key, "expected an object {\"spark.key\": value}"))?;
                    for (k, v) in conf {
                        let v = scalar(v).ok_or_else(|| {
                            bad(&format!("conf.{k}"), "expected a string, number or boolean")
                        })?;
                        if k.starts_with("spark.pyspark.") {
                            tracing::info!(key = %k, "spark_run: ignored (executors run no Python)");
                            continue;
                        }
                        self.conf.push((k.clone(), v));
                    }
                }
                _ => {
                    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    {
                        return Err(bad(
                            key,
                            "expected a spark-submit option name such as executor-memory",
                        ));
                    }
                    let v = scalar(value)
                        .ok_or_else(|| bad(key, "expected a string, number or boolean"))?;
                    self.submit_args.push(format!("--{key}"));
                    self.submit_args.push(v);
                }
            }
        }
        Ok(())
    }

    /// The `--conf` pairs passed: the user's, plus fedflow's defaults for the
    /// keys the user did not set.
    pub fn effective_conf(&self) -> Vec<(String, String)> {
        let mut conf = self.conf.clone();
        for (k, v) in [
            ("spark.ui.showConsoleProgress", "false"),
            ("spark.sql.chunkBase64String.enabled", "false"),
            // Workers read whole partitions; keep Spark from splitting them.
            ("spark.sql.adaptive.enabled", "false"),
        ] {
            if !conf.iter().any(|(key, _)| key == k) {
                conf.push((k.to_string(), v.to_string()));
            }
        }
        conf
    }

    /// The binary shipped to executors.
    pub fn worker_binary(&self) -> Result<PathBuf, SparkError> {
        match &self.worker_binary {
            Some(p) => Ok(p.clone()),
            None => std::env::current_exe().map_err(SparkError::Io),
        }
    }

    /// The shell command TRANSFORM runs, with `{STEP}` for the step argument.
    pub(crate) fn worker_command_template(&self) -> Result<String, SparkError> {
        if let Some(c) = &self.worker_command {
            return Ok(c.clone());
        }
        let bin = self.worker_binary()?;
        if !bin.is_file() {
            return Err(SparkError::Start(format!(
                "worker binary {} not found",
                bin.display()
            )));
        }
        let name = file_name(&bin)?;
        // --files puts the binary in each executor's working directory
        // (verified on a standalone cluster); say so loudly if it is not there.
        Ok(format!(
            "if [ -x ./{name} ]; then exec ./{name} worker {{STEP}}; else echo \"fedflow worker: ./{name} not found in $(pwd) (shipped with --files)\" >&2; exit 127; fi"
        ))
    }
}

fn file_name(p: &Path) -> Result<String, SparkError> {
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| SparkError::Start(format!("bad worker binary path {}", p.display())))?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(SparkError::Start(format!(
            "worker binary name '{name}': expected letters, digits, '-', '_', '.'"
        )));
    }
    Ok(name.to_string())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spark_run_becomes_submit_options() {
        let mut o = SparkOptions::new("/tmp");
        o.apply_spark_run(&json!({
            "master": "spark://h:7077",
            "executor-memory": "2g",
            "total-executor-cores": 4,
            "conf": {"spark.pyspark.python": "/usr/bin/python3", "spark.sql.shuffle.partitions": 8}
        }))
        .unwrap();
        assert_eq!(o.master.as_deref(), Some("spark://h:7077"));
        assert_eq!(
            o.submit_args,
            vec!["--executor-memory", "2g", "--total-executor-cores", "4"]
        );
        assert_eq!(
            o.conf,
            vec![("spark.sql.shuffle.partitions".to_string(), "8".to_string())]
        );
        let e = o.apply_spark_run(&json!({"conf": [1]})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "spark_run.conf: expected an object {\"spark.key\": value}"
        );
        let e = o
            .apply_spark_run(&json!({"executor memory": "1g"}))
            .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("spark_run.executor memory: expected"));
        assert!(o.apply_spark_run(&json!("x")).is_err());
    }
}
