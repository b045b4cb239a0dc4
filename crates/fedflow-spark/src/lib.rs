//! fedflow's Spark computing engine.
//!
//! A [`SparkSession`] is one Spark application: fedflow starts a driver with
//! `spark-submit` (the Python program in `driver.py`, which only orchestrates)
//! and sends it Spark SQL. A [`SparkTable`] is a cached DataFrame with one row
//! per fedflow partition `(p, tag, c, b)`: partition index, tag, row count and
//! the partition's rows (a `RowBlock`, base64). Every op's Rust code runs on
//! the executors in the `fedflow` binary itself (`fedflow worker`, see
//! [`worker`]) through `SELECT TRANSFORM … USING`; the binary is shipped with
//! `--files`, so a Spark node needs nothing but Spark. Shuffles (non
//! key-preserving ops, reshuffles) are Spark shuffles of per-partition pieces
//! (`DISTRIBUTE BY p SORT BY p, tag`); binary ops bring the two tables'
//! partitions together the same way. A partition's rows keep the order the
//! standalone engine gives them, so both engines produce identical tables.
//!
//! Data enters and leaves through files under the session's exchange
//! directory (a path both fedflow and the executors read: `file://` on one
//! machine, a shared mount otherwise).

pub mod cluster;
pub mod conformance;
mod driver;
mod options;
pub mod worker;

pub use driver::{find_spark_home, AppInfo, DRIVER_PY};
pub use options::SparkOptions;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use driver::Driver;
use fedflow_computing::standalone::kernels;
use fedflow_computing::{CombineFn, ComputingError, PartitionFn, RawRows, Sample, Session, Table};
use fedflow_core::{codec, partition_of, RowBlock, RowBlockBuilder};
use serde_json::{json, Value};
use std::any::Any;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use worker::Step;

/// Largest step argument passed inline on the worker's command line.
const STEP_ARG_INLINE_MAX: usize = 32 * 1024;

/// The engine's name.
pub const ENGINE: &str = "spark";

/// Failures of the Spark engine.
#[derive(Debug, thiserror::Error)]
pub enum SparkError {
    /// No Spark installation.
    #[error("Spark not found: {0}")]
    NotFound(String),
    /// The application did not start.
    #[error("Spark application did not start: {0}")]
    Start(String),
    /// The driver failed or is gone.
    #[error("Spark driver: {0}")]
    Driver(String),
    /// A Spark job failed.
    #[error("Spark job failed: {0}")]
    Job(String),
    /// An executor ran out of memory running `what`.
    #[error("Spark executor ran out of memory ({detail}) in {what}: raise spark_run executor-memory or use more partitions")]
    OutOfMemory {
        /// The Java error, or how the executor ended.
        detail: String,
        /// The op or step (`op 'name'`, `load`).
        what: String,
    },
    /// An executor was lost (killed or crashed) running `what`.
    #[error("Spark executor was killed or crashed ({detail}) in {what}: if the OS killed it for memory, raise spark_run executor-memory (or spark.executor.memoryOverhead) or use more partitions; else see the worker's executor logs")]
    ExecutorLost {
        /// Spark's reason.
        detail: String,
        /// The op or step.
        what: String,
    },
    /// Bad options.
    #[error("spark_run.{field}: {message}")]
    Options {
        /// The field.
        field: String,
        /// What was expected.
        message: String,
    },
    /// Local file I/O.
    #[error("Spark exchange files: {0}")]
    Io(#[from] std::io::Error),
}

impl From<SparkError> for ComputingError {
    fn from(e: SparkError) -> Self {
        ComputingError::Engine {
            engine: ENGINE,
            message: e.to_string(),
        }
    }
}

fn engine_err(message: impl Into<String>) -> ComputingError {
    ComputingError::Engine {
        engine: ENGINE,
        message: message.into(),
    }
}

type Result<T, E = ComputingError> = std::result::Result<T, E>;

struct Inner {
    id: String,
    driver: Driver,
    dir: tempfile::TempDir,
    next: AtomicU64,
    worker_command: String,
}

impl Inner {
    fn name(&self, what: &str) -> String {
        format!("{what}{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The worker's step argument: inline base64, or for a large step (an op
    /// carrying many parameters, e.g. query points per column) `@path` of a
    /// file in the exchange directory holding it, since the kernel limits one
    /// command-line argument to 128 KiB (`E2BIG`, "Argument list too long").
    fn step_arg(&self, step: &Step) -> String {
        let arg = step.to_arg();
        if arg.len() <= STEP_ARG_INLINE_MAX {
            return arg;
        }
        let path = self.exchange_path("step");
        let safe = path.to_str().is_some_and(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
        });
        if !safe {
            tracing::error!(
                "spark: a {} KiB step cannot go through {} (characters a shell command cannot carry); passing it inline",
                arg.len() >> 10,
                path.display()
            );
            return arg;
        }
        match std::fs::write(&path, &arg) {
            Ok(()) => format!("@{}", path.display()),
            Err(e) => {
                tracing::error!(
                    "spark: writing the {} KiB step to {}: {e}; passing it inline",
                    arg.len() >> 10,
                    path.display()
                );
                arg
            }
        }
    }

    /// `SELECT TRANSFORM` running the worker with `step` over the columns of `from`.
    fn transform(&self, step: &Step, from: &str) -> String {
        let cmd = self.worker_command.replace("{STEP}", &self.step_arg(step));
        format!(
            "SELECT TRANSFORM(p, tag, c, b) ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' \
             USING '{cmd}' AS (p INT, tag BIGINT, c BIGINT, b STRING) \
             ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' FROM {from}"
        )
    }

    /// Groups rows by `p` (sorted by tag) so that each worker sees whole partitions.
    fn grouped(inner_sql: &str) -> String {
        format!("(SELECT * FROM ({inner_sql}) DISTRIBUTE BY p SORT BY p, tag)")
    }

    /// Caches the result of `sql` as a new table with `n` partitions; `what`
    /// names the step for errors.
    fn table(self: &Arc<Self>, sql: &str, n: usize, what: &str) -> Result<Arc<dyn Table>> {
        let view = self.name("t");
        let out = self
            .driver
            .call(json!({"op": "sql", "sql": sql, "view": view, "shuffle": n, "what": what}))?;
        Ok(Arc::new(SparkTable::new(self, view, n, &out)?))
    }

    fn exchange_path(&self, what: &str) -> PathBuf {
        self.dir.path().join(self.name(what))
    }

    /// Loads lines written to a local directory as a cached table.
    fn load_lines(self: &Arc<Self>, lines_dir: &Path, n: usize) -> Result<Arc<dyn Table>> {
        let view = self.name("t");
        let out = self.driver.call(json!({
            "op": "load", "path": file_uri(lines_dir), "view": view, "shuffle": n,
            "what": "load (data into Spark)"
        }));
        // A checkpointed table no longer needs its input files; with lineage
        // they stay until the session ends (Spark rereads them to rebuild a
        // partition lost with an executor).
        if self.driver.lineage_cut || out.is_err() {
            let _ = std::fs::remove_dir_all(lines_dir);
        }
        Ok(Arc::new(SparkTable::new(self, view, n, &out?)?))
    }

    /// Writes blocks as lines (`p, tag, count, base64`) into a new directory.
    fn write_blocks(
        &self,
        blocks: impl IntoIterator<Item = (u32, i64, RowBlock)>,
    ) -> Result<PathBuf> {
        let dir = self.exchange_path("in");
        std::fs::create_dir_all(&dir)?;
        let file = std::fs::File::create(dir.join("part-00000.txt"))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut s = String::new();
        for (p, tag, b) in blocks {
            s.clear();
            worker::format_line(p, tag, &b, &mut s);
            s.push('\n');
            w.write_all(s.as_bytes())?;
        }
        w.flush()?;
        Ok(dir)
    }

    /// Runs `sql` (columns p, tag, c, b), has Spark write it and reads it back.
    fn fetch(&self, sql: &str) -> Result<Vec<worker::Line>> {
        let mut lines = Vec::new();
        self.fetch_each(sql, &mut |l| {
            lines.push(l);
            Ok(())
        })?;
        Ok(lines)
    }

    /// As [`Inner::fetch`], streaming the lines to `f` one at a time (one
    /// partition in memory at once).
    fn fetch_each(
        &self,
        sql: &str,
        f: &mut dyn FnMut(worker::Line) -> std::result::Result<(), String>,
    ) -> Result<()> {
        let dir = self.exchange_path("out");
        let res = self
            .driver
            .call(json!({"op": "write", "sql": sql, "path": file_uri(&dir),
                "what": "fetch (data out of Spark)"}))
            .map_err(ComputingError::from)
            .and_then(|_| fedflow_core::lines::drain_dir(&dir, f).map_err(engine_err));
        let _ = std::fs::remove_dir_all(&dir);
        res
    }
}

fn file_uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// A session of the Spark engine: one Spark application.
#[derive(Clone)]
pub struct SparkSession {
    inner: Arc<Inner>,
}

impl SparkSession {
    /// Starts a Spark application (spark-submit with `options`) and waits
    /// until it has an executor.
    pub fn new(session_id: impl Into<String>, options: SparkOptions) -> Result<Self, SparkError> {
        let id = session_id.into();
        std::fs::create_dir_all(&options.work_dir)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("spark-{}-", sanitize(&id)))
            .tempdir_in(&options.work_dir)?;
        let worker_command = options.worker_command_template()?;
        let mut options = options;
        if options.app_name.is_empty() {
            options.app_name = id.clone();
        }
        let driver = Driver::start(&options, dir.path())?;
        Ok(SparkSession {
            inner: Arc::new(Inner {
                id,
                driver,
                dir,
                next: AtomicU64::new(0),
                worker_command,
            }),
        })
    }

    /// The Spark application's id, UI and master.
    pub fn app_info(&self) -> &AppInfo {
        &self.inner.driver.info
    }

    /// Runs a trivial Spark job (`SELECT count(*) FROM range(n)`) and returns
    /// its result: the latency baseline the engine's overhead is compared to.
    pub fn trivial_job(&self, n: u64) -> Result<u64, SparkError> {
        let out = self.inner.driver.call(json!({
            "op": "rows", "sql": format!("SELECT 0, 0, count(*), '' FROM range({n})")
        }))?;
        Ok(out["rows"][0][2].as_u64().unwrap_or(0))
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect()
}

/// Blocks built the standalone way: rows hash-partitioned, keys unique (last wins).
fn partition_rows(rows: &RawRows, n: usize) -> Result<Vec<RowBlock>> {
    let mut builders: Vec<RowBlockBuilder> = (0..n).map(|_| RowBlockBuilder::new()).collect();
    for (k, v) in rows {
        builders[partition_of(k, n)].push(k, v);
    }
    builders
        .into_iter()
        .map(|b| Ok(kernels::dedupe(&[b.finish()], None)?))
        .collect()
}

impl Session for SparkSession {
    fn session_id(&self) -> &str {
        &self.inner.id
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }

    fn parallelize(&self, rows: RawRows, partitions: usize) -> Result<Arc<dyn Table>> {
        if partitions == 0 {
            return Err(engine_err("parallelize: partitions must be at least 1"));
        }
        let blocks = partition_rows(&rows, partitions)?;
        drop(rows);
        self.load_blocks(blocks)
    }

    fn load_blocks(&self, blocks: Vec<RowBlock>) -> Result<Arc<dyn Table>> {
        if blocks.is_empty() {
            return Err(engine_err(
                "load_blocks: a table needs at least one partition",
            ));
        }
        let n = blocks.len();
        // Each block is dropped once written (a received table's partitions
        // may be memory-mapped spill files: unmapped as we go).
        let dir = self.inner.write_blocks(
            blocks
                .into_iter()
                .enumerate()
                .map(|(i, b)| (i as u32, 0, b)),
        )?;
        self.inner.load_lines(&dir, n)
    }

    fn load_path(&self, uri: &str, partitions: usize) -> Result<Option<Arc<dyn Table>>> {
        if partitions == 0 {
            return Err(engine_err(format!(
                "load {uri}: a table needs at least one partition"
            )));
        }
        let view = self.inner.name("t");
        let out = self
            .inner
            .driver
            .call(json!({
                "op": "load", "path": uri, "view": view, "shuffle": partitions,
                "what": format!("load {uri}")
            }))
            .map_err(|e| engine_err(format!("load {uri}: {e}")))?;
        Ok(Some(Arc::new(SparkTable::new(
            &self.inner,
            view,
            partitions,
            &out,
        )?)))
    }

    fn stop(&self) -> Result<()> {
        self.inner.driver.stop();
        Ok(())
    }
}

/// A table of the Spark engine: a cached Spark view, unpersisted when dropped.
pub struct SparkTable {
    inner: Arc<Inner>,
    view: String,
    counts: Vec<u64>,
}

impl SparkTable {
    fn new(inner: &Arc<Inner>, view: String, n: usize, reply: &Value) -> Result<Self> {
        let table = SparkTable {
            inner: inner.clone(),
            view,
            counts: vec![0u64; n],
        };
        table.with_counts(reply)
    }

    fn with_counts(mut self, reply: &Value) -> Result<Self> {
        let n = self.counts.len();
        let rows = reply["counts"]
            .as_array()
            .ok_or_else(|| engine_err("driver reply without counts"))?;
        let mut seen = vec![false; n];
        for r in rows {
            let p = r[0].as_u64().unwrap_or(u64::MAX) as usize;
            if p >= n || seen[p] {
                return Err(engine_err(format!(
                    "table {}: partition {p} twice or out of range (expected one block each for 0..{n})",
                    self.view
                )));
            }
            seen[p] = true;
            self.counts[p] = r[1].as_u64().unwrap_or(0);
        }
        if rows.len() != n {
            return Err(engine_err(format!(
                "table {}: {} of {n} partitions present",
                self.view,
                rows.len()
            )));
        }
        Ok(self)
    }

    /// The Spark view holding the table.
    pub fn view(&self) -> &str {
        &self.view
    }

    fn same<'a>(&self, other: &'a dyn Table) -> Result<&'a SparkTable> {
        let o = other.as_any().downcast_ref::<SparkTable>().ok_or_else(|| {
            engine_err(format!(
                "cannot combine with a table of engine '{}'",
                other.engine()
            ))
        })?;
        if !Arc::ptr_eq(&o.inner, &self.inner) {
            return Err(engine_err(
                "cannot combine tables of two Spark sessions (applications)",
            ));
        }
        Ok(o)
    }

    /// SQL reshuffling this table into `n` partitions, merging duplicate keys
    /// with `reducer` (pieces first come from `pieces_sql`).
    fn merge_sql(&self, pieces_sql: &str, n: usize, reducer: Option<&dyn CombineFn>) -> String {
        let sentinels = format!(
            "SELECT CAST(id AS INT) AS p, CAST(-1 AS BIGINT) AS tag, CAST(0 AS BIGINT) AS c, '' AS b FROM range({n})"
        );
        let grouped = Inner::grouped(&format!("{pieces_sql} UNION ALL {sentinels}"));
        self.inner.transform(
            &Step::Merge {
                reducer: reducer.map(|r| r.spec()),
            },
            &grouped,
        )
    }

    /// The view name of `other` with this table's partition count.
    fn aligned(&self, other: &SparkTable) -> Result<(String, Option<Arc<dyn Table>>)> {
        if other.counts.len() == self.counts.len() {
            return Ok((other.view.clone(), None));
        }
        let t = other.repartition(self.counts.len())?;
        let view = t
            .as_any()
            .downcast_ref::<SparkTable>()
            .map(|s| s.view.clone())
            .ok_or_else(|| engine_err("repartition gave another engine's table"))?;
        Ok((view, Some(t)))
    }

    fn binary(&self, other: &dyn Table, step: Step) -> Result<Arc<dyn Table>> {
        let other = self.same(other)?;
        let (right, _keep) = self.aligned(other)?;
        let both = format!(
            "SELECT p, CAST(0 AS BIGINT) AS tag, c, b FROM {} UNION ALL SELECT p, CAST(1 AS BIGINT) AS tag, c, b FROM {right}",
            self.view
        );
        let sql = self.inner.transform(&step, &Inner::grouped(&both));
        self.inner.table(&sql, self.counts.len(), &step.describe())
    }
}

impl Drop for SparkTable {
    fn drop(&mut self) {
        let _ = self
            .inner
            .driver
            .call(json!({"op": "drop", "view": self.view}));
    }
}

impl Table for SparkTable {
    fn engine(&self) -> &'static str {
        ENGINE
    }

    fn partitions(&self) -> usize {
        self.counts.len()
    }

    fn count(&self) -> Result<u64> {
        Ok(self.counts.iter().sum())
    }

    fn map_partitions(&self, op: Arc<dyn PartitionFn>) -> Result<Arc<dyn Table>> {
        let n = self.counts.len();
        if op.preserves_keys() {
            let step = Step::Map {
                op: op.spec(),
                split: None,
            };
            let sql = self.inner.transform(&step, &self.view);
            return self.inner.table(&sql, n, &step.describe());
        }
        let step = Step::Map {
            op: op.spec(),
            split: Some(n as u32),
        };
        let pieces = self.inner.transform(&step, &self.view);
        self.inner
            .table(&self.merge_sql(&pieces, n, None), n, &step.describe())
    }

    fn map_reduce_partitions(
        &self,
        mapper: Arc<dyn PartitionFn>,
        reducer: Arc<dyn CombineFn>,
    ) -> Result<Arc<dyn Table>> {
        let n = self.counts.len();
        let step = Step::Map {
            op: mapper.spec(),
            split: Some(n as u32),
        };
        let pieces = self.inner.transform(&step, &self.view);
        self.inner.table(
            &self.merge_sql(&pieces, n, Some(reducer.as_ref())),
            n,
            &step.describe(),
        )
    }

    fn reduce(&self, op: Arc<dyn CombineFn>) -> Result<Option<Vec<u8>>> {
        let step = Step::Fold { op: op.spec() };
        let sql = self.inner.transform(&step, &self.view);
        let out = self
            .inner
            .driver
            .call(json!({"op": "rows", "sql": sql, "what": step.describe()}))?;
        let mut partials: Vec<(u64, Vec<u8>)> = Vec::new();
        for r in out["rows"].as_array().into_iter().flatten() {
            let p = r[0].as_u64().unwrap_or(0);
            let line = format!(
                "{p}\t0\t{}\t{}",
                r[2].as_u64().unwrap_or(0),
                r[3].as_str().unwrap_or("")
            );
            let l = worker::parse_line(&line).map_err(engine_err)?;
            if let Some((_, v)) = l.block.iter().next() {
                partials.push((p, v.to_vec()));
            }
        }
        partials.sort_by_key(|(p, _)| *p);
        let mut acc: Option<Vec<u8>> = None;
        for (_, v) in partials {
            acc = Some(match acc {
                None => v,
                Some(a) => op.combine(&a, &v)?,
            });
        }
        Ok(acc)
    }

    fn join(&self, other: &dyn Table, op: Arc<dyn CombineFn>) -> Result<Arc<dyn Table>> {
        self.binary(other, Step::Join { op: op.spec() })
    }

    fn union(&self, other: &dyn Table, op: Option<Arc<dyn CombineFn>>) -> Result<Arc<dyn Table>> {
        self.binary(
            other,
            Step::Union {
                op: op.map(|o| o.spec()),
            },
        )
    }

    fn subtract_by_key(&self, other: &dyn Table) -> Result<Arc<dyn Table>> {
        self.binary(other, Step::Subtract)
    }

    fn sample(&self, how: Sample, seed: u64) -> Result<Arc<dyn Table>> {
        let n = self.counts.len();
        match how {
            Sample::Fraction(f) => {
                if !(0.0..=1.0).contains(&f) {
                    return Err(engine_err(format!(
                        "sample: fraction must be in [0, 1], got {f}"
                    )));
                }
                let step = Step::SampleFraction { fraction: f, seed };
                let sql = self.inner.transform(&step, &self.view);
                self.inner.table(&sql, n, &step.describe())
            }
            Sample::Num(num) => {
                // The standalone engine's choice: `num` positions over the
                // concatenated partitions, from one seeded RNG.
                let sizes: Vec<usize> = self.counts.iter().map(|&c| c as usize).collect();
                let picks = kernels::sample_positions(&sizes, num, seed);
                let mut lines = Vec::with_capacity(n);
                for (p, list) in picks.iter().enumerate() {
                    let mut b = RowBlockBuilder::new();
                    b.push(&[], &codec::encode(list)?);
                    lines.push((p as u32, 1i64, b.finish()));
                }
                let dir = self.inner.write_blocks(lines)?;
                let sel = self.inner.load_lines(&dir, n)?;
                let sel_view = sel
                    .as_any()
                    .downcast_ref::<SparkTable>()
                    .map(|s| s.view.clone())
                    .ok_or_else(|| engine_err("selection table"))?;
                let both = format!(
                    "SELECT p, CAST(0 AS BIGINT) AS tag, c, b FROM {} UNION ALL SELECT p, CAST(1 AS BIGINT) AS tag, c, b FROM {sel_view}",
                    self.view
                );
                let sql = self.inner.transform(&Step::Select, &Inner::grouped(&both));
                let out = self.inner.table(&sql, n, &Step::Select.describe());
                drop(sel);
                out
            }
        }
    }

    fn repartition(&self, partitions: usize) -> Result<Arc<dyn Table>> {
        if partitions == 0 {
            return Err(engine_err("repartition: partitions must be at least 1"));
        }
        let pieces = self.inner.transform(
            &Step::Split {
                partitions: partitions as u32,
            },
            &self.view,
        );
        self.inner.table(
            &self.merge_sql(&pieces, partitions, None),
            partitions,
            "repartition",
        )
    }

    fn for_each_block(&self, f: &mut dyn FnMut(usize, RowBlock) -> Result<()>) -> Result<()> {
        let n = self.counts.len();
        let mut failed: Option<ComputingError> = None;
        let res = self.inner.fetch_each(
            &format!("SELECT p, tag, c, b FROM {}", self.view),
            &mut |l| {
                let p = l.p as usize;
                let r = if p >= n {
                    Err(engine_err(format!("blocks: partition {p} out of range")))
                } else {
                    f(p, l.block)
                };
                r.map_err(|e| {
                    let m = e.to_string();
                    failed = Some(e);
                    m
                })
            },
        );
        match (failed, res) {
            (Some(e), _) => Err(e),
            (None, r) => r,
        }
    }

    fn blocks(&self) -> Result<Vec<RowBlock>> {
        let lines = self
            .inner
            .fetch(&format!("SELECT p, tag, c, b FROM {}", self.view))?;
        let mut blocks = vec![RowBlock::empty(); self.counts.len()];
        for l in lines {
            let p = l.p as usize;
            if p >= blocks.len() {
                return Err(engine_err(format!("blocks: partition {p} out of range")));
            }
            blocks[p] = l.block;
        }
        Ok(blocks)
    }

    fn take(&self, n: usize) -> Result<RawRows> {
        let mut want = Vec::new();
        let mut acc = 0u64;
        for (p, &c) in self.counts.iter().enumerate() {
            if acc >= n as u64 {
                break;
            }
            if c > 0 {
                want.push(p.to_string());
                acc += c;
            }
        }
        if want.is_empty() {
            return Ok(Vec::new());
        }
        let mut lines = self.inner.fetch(&format!(
            "SELECT p, tag, c, b FROM {} WHERE p IN ({})",
            self.view,
            want.join(",")
        ))?;
        lines.sort_by_key(|l| l.p);
        Ok(lines
            .iter()
            .flat_map(|l| l.block.iter())
            .take(n)
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect())
    }

    fn save_path(&self, uri: &str) -> Result<bool> {
        self.inner
            .driver
            .call(json!({
                "op": "write", "sql": format!("SELECT p, tag, c, b FROM {}", self.view),
                "path": uri, "what": format!("save {uri}")
            }))
            .map_err(|e| engine_err(format!("save {uri}: {e}")))?;
        tracing::info!(view = %self.view, %uri, rows = self.counts.iter().sum::<u64>(), "Spark table saved");
        Ok(true)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Base64 as the engine's line format uses it (for tests and tools).
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}
