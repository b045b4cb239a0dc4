//! The standalone engine: one machine, partitions processed in parallel (rayon).
//!
//! Partitions are [`RowBlock`]s. A session has a memory budget for the bytes
//! of the partitions it holds; a partition that would exceed it is written to
//! a spill file in the session's directory and memory-mapped, so a table larger
//! than RAM is paged by the OS instead of exhausting memory. Spill files are
//! deleted when their partition is dropped and the directory when the session
//! ends.

pub mod kernels;
mod table;

pub use table::StandaloneTable;

use crate::error::ComputingError;
use crate::table::{RawRows, Session, Table};
use fedflow_core::{partition_of, RowBlock, RowBlockBuilder};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// The engine's name.
pub const ENGINE: &str = "standalone";

/// How a standalone session is set up.
#[derive(Debug, Clone, Default)]
pub struct StandaloneOptions {
    /// Bytes of partition data kept in memory before spilling; default: the
    /// `FEDFLOW_MEMORY_BUDGET` environment variable (bytes, or with a K/M/G
    /// suffix), else a quarter of the machine's memory.
    pub memory_budget: Option<usize>,
    /// Where spill files go; default: the system temporary directory.
    pub spill_dir: Option<PathBuf>,
}

pub(crate) struct Inner {
    id: String,
    budget: usize,
    resident: AtomicUsize,
    spilled: AtomicUsize,
    next_file: AtomicU64,
    dir: tempfile::TempDir,
}

/// A partition held by a standalone table; accounts for its memory.
pub(crate) struct Part {
    pub(crate) block: RowBlock,
    charged: usize,
    spill: Option<PathBuf>,
    inner: Arc<Inner>,
}

impl Drop for Part {
    fn drop(&mut self) {
        self.inner
            .resident
            .fetch_sub(self.charged, Ordering::Relaxed);
        if let Some(path) = &self.spill {
            // The mapping stays valid after unlink; the file goes when it is unmapped.
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Inner {
    /// Takes ownership of a finished partition, spilling it when over budget.
    pub(crate) fn admit(self: &Arc<Self>, block: RowBlock) -> Result<Arc<Part>, ComputingError> {
        let size = block.byte_len();
        if block.is_mapped() || size == 0 {
            return Ok(Arc::new(Part {
                block,
                charged: 0,
                spill: None,
                inner: self.clone(),
            }));
        }
        let before = self.resident.fetch_add(size, Ordering::Relaxed);
        if before + size <= self.budget {
            return Ok(Arc::new(Part {
                block,
                charged: size,
                spill: None,
                inner: self.clone(),
            }));
        }
        self.resident.fetch_sub(size, Ordering::Relaxed);
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("spill-{n:08}.ffrb"));
        block.write_file(&path)?;
        drop(block);
        let mapped = RowBlock::open_file(&path)?;
        self.spilled.fetch_add(size, Ordering::Relaxed);
        tracing::debug!(session = %self.id, bytes = size, "spilled a partition");
        Ok(Arc::new(Part {
            block: mapped,
            charged: 0,
            spill: Some(path),
            inner: self.clone(),
        }))
    }

    pub(crate) fn admit_builder(
        self: &Arc<Self>,
        b: RowBlockBuilder,
    ) -> Result<Arc<Part>, ComputingError> {
        self.admit(b.finish())
    }
}

/// A standalone computing session.
#[derive(Clone)]
pub struct StandaloneSession {
    inner: Arc<Inner>,
}

impl StandaloneSession {
    /// A new session.
    pub fn new(
        session_id: impl Into<String>,
        options: StandaloneOptions,
    ) -> Result<Self, ComputingError> {
        let budget = options.memory_budget.unwrap_or_else(default_budget);
        let base = options.spill_dir.unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&base)?;
        let id = session_id.into();
        let dir = tempfile::Builder::new()
            .prefix(&format!("fedflow-{}-", sanitize(&id)))
            .tempdir_in(&base)?;
        Ok(StandaloneSession {
            inner: Arc::new(Inner {
                id,
                budget,
                resident: AtomicUsize::new(0),
                spilled: AtomicUsize::new(0),
                next_file: AtomicU64::new(0),
                dir,
            }),
        })
    }

    /// Bytes of partition data now held in memory.
    pub fn resident_bytes(&self) -> usize {
        self.inner.resident.load(Ordering::Relaxed)
    }

    /// Bytes written to spill files so far.
    pub fn spilled_bytes(&self) -> usize {
        self.inner.spilled.load(Ordering::Relaxed)
    }

    /// The session's spill directory.
    pub fn spill_dir(&self) -> &Path {
        self.inner.dir.path()
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect()
}

/// Parses sizes like `1048576`, `512M`, `4G`.
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1usize << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.trim().parse::<usize>().ok().map(|n| n * mult)
}

fn default_budget() -> usize {
    if let Some(b) = std::env::var("FEDFLOW_MEMORY_BUDGET")
        .ok()
        .as_deref()
        .and_then(parse_size)
    {
        return b;
    }
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(8 << 30);
    total / 4
}

impl Session for StandaloneSession {
    fn session_id(&self) -> &str {
        &self.inner.id
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }

    fn parallelize(
        &self,
        rows: RawRows,
        partitions: usize,
    ) -> Result<Arc<dyn Table>, ComputingError> {
        if partitions == 0 {
            return Err(engine_err("parallelize: partitions must be at least 1"));
        }
        let mut builders: Vec<RowBlockBuilder> =
            (0..partitions).map(|_| RowBlockBuilder::new()).collect();
        for (k, v) in &rows {
            builders[partition_of(k, partitions)].push(k, v);
        }
        drop(rows);
        let blocks = builders.into_iter().map(|b| vec![b.finish()]).collect();
        Ok(Arc::new(StandaloneTable::from_pieces(
            &self.inner,
            blocks,
            None,
        )?))
    }

    fn load_blocks(&self, blocks: Vec<RowBlock>) -> Result<Arc<dyn Table>, ComputingError> {
        if blocks.is_empty() {
            return Err(engine_err(
                "load_blocks: a table needs at least one partition",
            ));
        }
        let parts = blocks
            .into_iter()
            .map(|b| self.inner.admit(b))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(StandaloneTable::new(&self.inner, parts)))
    }

    fn stop(&self) -> Result<(), ComputingError> {
        Ok(())
    }
}

pub(crate) fn engine_err(message: impl Into<String>) -> ComputingError {
    ComputingError::Engine {
        engine: ENGINE,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests;
