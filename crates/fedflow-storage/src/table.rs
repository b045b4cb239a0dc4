//! The table store: the engine plug-in point ([`TableStorage`]) and the local
//! engine ([`LocalStorage`]). [`LocalStorage`] also reads, probes and deletes
//! tables at path addresses ([`StoreAddress::Path`], through
//! [`crate::path`]), so a context with local storage serves the tables of
//! both engines.
//!
//! A table is a list of partitions, each a [`RowBlock`]. The local engine keeps
//! a table as a directory `<root>/tables/<namespace>/<name>/` holding
//! `part-00000.ffrb`, `part-00001.ffrb`, … (read back memory-mapped) and,
//! for uploaded tables, `order.u16`: the partition of every row in upload
//! order, which lets a download reproduce the input file's row order.
//!
//! Writes are staged: the partitions are written to a temporary sibling
//! directory (`.<name>.tmp-…`) and renamed into place by
//! [`TableStorage::commit_staged`], so a crash or an error never leaves a
//! half-written table under the real name.

use crate::error::{validate_name, Result, StorageError};
use fedflow_core::RowBlock;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a table's data lives; stored as JSON in the meta store's `address`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum StoreAddress {
    /// A directory of partition files on the local file system.
    Local {
        /// The table directory.
        path: PathBuf,
    },
    /// A directory at a URI in the path engine's layout (see [`crate::path`]).
    Path {
        /// `file:///…`, `hdfs://…`, `s3a://…`
        uri: String,
    },
}

impl StoreAddress {
    /// The address for people: the directory, or the URI.
    pub fn display(&self) -> String {
        match self {
            StoreAddress::Local { path } => path.display().to_string(),
            StoreAddress::Path { uri } => uri.clone(),
        }
    }

    /// The address as a JSON string (the meta store's `address` column).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// A table written to a temporary place, not yet visible under its name.
#[derive(Debug)]
pub struct StagedTable {
    /// The namespace.
    pub namespace: String,
    /// The table name.
    pub name: String,
    /// Where the table will be once committed.
    pub address: StoreAddress,
    /// Where the staged data is now.
    pub temp: StoreAddress,
    /// Number of partitions.
    pub partitions: usize,
    /// Number of rows.
    pub rows: u64,
}

/// A table being written to a temporary place (see
/// [`TableStorage::begin_stage`]). Rows appended to a partition are kept in
/// the order they were appended.
pub trait StageWriter: Send {
    /// Appends rows to partition `partition`.
    fn append(&mut self, partition: usize, rows: &RowBlock) -> Result<()>;
    /// Rows appended so far.
    fn rows(&self) -> u64;
    /// Completes the staged table (still invisible under its name). `order`,
    /// when given, is the partition of every row in input order; it must agree
    /// with the rows appended.
    fn finish(self: Box<Self>, order: Option<&[u16]>) -> Result<StagedTable>;
    /// Discards everything written.
    fn abort(self: Box<Self>) -> Result<()>;
}

/// A storage engine: where table partitions are kept.
///
/// Implementations must make [`commit_staged`](TableStorage::commit_staged)
/// atomic from a reader's point of view: a table name shows either the old
/// complete table, or the new complete table, never a mix or a partial one.
pub trait TableStorage: Send + Sync {
    /// The engine name recorded in the meta store (`engine` column), e.g. `LOCAL`.
    fn engine(&self) -> &'static str;

    /// The store type recorded in the meta store (`store_type` column).
    fn store_type(&self) -> &'static str;

    /// Starts writing a table to a temporary place, partition by partition,
    /// so that a table larger than memory can be written in pieces. Dropping
    /// the writer without [`StageWriter::finish`] discards what was written.
    fn begin_stage(
        &self,
        namespace: &str,
        name: &str,
        partitions: usize,
    ) -> Result<Box<dyn StageWriter>>;

    /// Writes whole partitions to a temporary place. `order`, when given, is
    /// the partition index of every row in input order (used to restore that
    /// order on download); engines may ignore it.
    fn stage_table(
        &self,
        namespace: &str,
        name: &str,
        partitions: Vec<RowBlock>,
        order: Option<&[u16]>,
    ) -> Result<StagedTable> {
        let mut writer = self.begin_stage(namespace, name, partitions.len())?;
        for (i, block) in partitions.iter().enumerate() {
            writer.append(i, block)?;
        }
        writer.finish(order)
    }

    /// Makes a staged table visible under its name, replacing any table there.
    fn commit_staged(&self, staged: StagedTable) -> Result<StoreAddress>;

    /// Discards a staged table.
    fn abort_staged(&self, staged: StagedTable) -> Result<()>;

    /// Writes a table (replacing any table of that name) atomically.
    fn write_table(
        &self,
        namespace: &str,
        name: &str,
        partitions: Vec<RowBlock>,
    ) -> Result<StoreAddress> {
        let staged = self.stage_table(namespace, name, partitions, None)?;
        self.commit_staged(staged)
    }

    /// Reads a table's partitions, in partition order.
    fn read_table(&self, address: &StoreAddress) -> Result<Vec<RowBlock>>;

    /// The row order recorded at staging time, if any.
    fn read_order(&self, _address: &StoreAddress) -> Result<Option<Vec<u16>>> {
        Ok(None)
    }

    /// Deletes a table; returns false when there was none.
    fn delete_table(&self, address: &StoreAddress) -> Result<bool>;

    /// True when a table exists at the address.
    fn exists(&self, address: &StoreAddress) -> Result<bool>;

    /// The address a table of that name has (or would have) in this engine.
    fn address_of(&self, namespace: &str, name: &str) -> Result<StoreAddress>;
}

/// The local engine: `<root>/tables/<namespace>/<name>/part-NNNNN.ffrb`.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

const ORDER_FILE: &str = "order.u16";

static UNIQUE: AtomicU64 = AtomicU64::new(0);

/// A name unique within this machine for temporary files and directories.
pub(crate) fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{:x}-{}",
        std::process::id(),
        nanos,
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    )
}

/// The file name of partition `i`.
pub fn partition_file_name(i: usize) -> String {
    format!("part-{i:05}.ffrb")
}

/// Puts directory `temp` in place of `final_dir` (replacing any directory
/// there: the old one is renamed aside first and removed after), so a reader
/// sees the old or the new table, never a mix.
pub(crate) fn replace_dir(temp: &Path, final_dir: &Path) -> Result<()> {
    let parent = final_dir.parent().unwrap_or(Path::new("/")).to_path_buf();
    let base = final_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut old = None;
    if final_dir.exists() {
        let trash = parent.join(format!(".{base}.old-{}", unique_suffix()));
        if let Err(e) = fs::rename(final_dir, &trash) {
            let _ = fs::remove_dir_all(temp);
            return Err(StorageError::io("rename", final_dir, e));
        }
        old = Some(trash);
    }
    if let Err(e) = fs::rename(temp, final_dir) {
        if let Some(trash) = &old {
            let _ = fs::rename(trash, final_dir);
        }
        let _ = fs::remove_dir_all(temp);
        return Err(StorageError::io("rename", temp, e));
    }
    if let Ok(d) = fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    if let Some(trash) = old {
        if let Err(e) = fs::remove_dir_all(&trash) {
            tracing::warn!(path = %trash.display(), error = %e, "could not remove replaced table");
        }
    }
    Ok(())
}

/// Reads a row-order file (u16 LE per row); `None` when there is none.
pub(crate) fn read_order_file(path: &Path) -> Result<Option<Vec<u16>>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("read", path, e)),
    };
    if bytes.len() % 2 != 0 {
        return Err(StorageError::Corrupt {
            what: path.display().to_string(),
            reason: format!("odd length {}", bytes.len()),
        });
    }
    Ok(Some(
        bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect(),
    ))
}

/// Deletes a table directory (renamed aside first, so readers never see a
/// half-deleted table); false when there was none.
pub(crate) fn delete_dir(dir: &Path) -> Result<bool> {
    if !dir.exists() {
        return Ok(false);
    }
    let name = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let trash = dir
        .parent()
        .unwrap_or(Path::new("/"))
        .join(format!(".{name}.del-{}", unique_suffix()));
    fs::rename(dir, &trash).map_err(|e| StorageError::io("rename", dir, e))?;
    fs::remove_dir_all(&trash).map_err(|e| StorageError::io("remove dir", &trash, e))?;
    tracing::info!(path = %dir.display(), "table deleted");
    Ok(true)
}

impl LocalStorage {
    /// A local store under `root` (the `tables/` directory is created on demand).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStorage { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn table_dir(&self, namespace: &str, name: &str) -> Result<PathBuf> {
        validate_name("namespace", namespace)?;
        validate_name("table name", name)?;
        Ok(self.root.join("tables").join(namespace).join(name))
    }

    fn local_path<'a>(&self, address: &'a StoreAddress) -> Result<&'a Path> {
        match address {
            StoreAddress::Local { path } => Ok(path),
            other => Err(StorageError::WrongEngine {
                engine: "LOCAL",
                address: other.to_json(),
            }),
        }
    }
}

/// The header of a row-block file (see [`fedflow_core::rows`]): `b"FFRB"`,
/// format version 1, the row count as u64 LE. Written here so that partitions
/// can be appended to in pieces; [`RowBlock::open_file`] validates it on read.
fn block_header(rows: u64) -> [u8; BLOCK_HEADER] {
    let mut h = [0u8; BLOCK_HEADER];
    h[..4].copy_from_slice(b"FFRB");
    h[4] = 1;
    h[5..].copy_from_slice(&rows.to_le_bytes());
    h
}
const BLOCK_HEADER: usize = 13;

/// [`StageWriter`] of [`LocalStorage`]: appends to partition files in a
/// temporary sibling directory, removed again unless finished.
struct LocalStageWriter {
    namespace: String,
    name: String,
    final_dir: PathBuf,
    temp: PathBuf,
    counts: Vec<u64>,
    done: bool,
}

impl LocalStageWriter {
    fn part_path(&self, i: usize) -> PathBuf {
        self.temp.join(partition_file_name(i))
    }

    fn complete(&mut self, order: Option<&[u16]>) -> Result<()> {
        if let Some(order) = order {
            let mut seen = vec![0u64; self.counts.len()];
            for &p in order {
                match seen.get_mut(p as usize) {
                    Some(c) => *c += 1,
                    None => return Err(self.bad_order(format!("partition {p} out of range"))),
                }
            }
            if seen != self.counts {
                return Err(self.bad_order(format!(
                    "{} entries do not match the {} rows appended",
                    order.len(),
                    self.counts.iter().sum::<u64>()
                )));
            }
            let path = self.temp.join(ORDER_FILE);
            let mut buf = Vec::with_capacity(order.len() * 2);
            for p in order {
                buf.extend_from_slice(&p.to_le_bytes());
            }
            let mut f =
                fs::File::create(&path).map_err(|e| StorageError::io("create", &path, e))?;
            f.write_all(&buf)
                .and_then(|_| f.sync_all())
                .map_err(|e| StorageError::io("write", &path, e))?;
        }
        for (i, &count) in self.counts.iter().enumerate() {
            let path = self.part_path(i);
            let io = |e| StorageError::io("write", &path, e);
            let mut f = fs::OpenOptions::new().write(true).open(&path).map_err(io)?;
            f.write_all(&block_header(count)).map_err(io)?;
            // Make the data durable before it becomes visible under its name.
            f.sync_all().map_err(io)?;
        }
        Ok(())
    }

    fn bad_order(&self, reason: String) -> StorageError {
        StorageError::Corrupt {
            what: format!("row order of {}.{}", self.namespace, self.name),
            reason,
        }
    }
}

impl StageWriter for LocalStageWriter {
    fn append(&mut self, partition: usize, rows: &RowBlock) -> Result<()> {
        if partition >= self.counts.len() {
            return Err(StorageError::Corrupt {
                what: format!("staged table {}.{}", self.namespace, self.name),
                reason: format!("partition {partition} of {}", self.counts.len()),
            });
        }
        if rows.is_empty() {
            return Ok(());
        }
        let path = self.part_path(partition);
        let io = |e| StorageError::io("append", &path, e);
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io)?;
        f.write_all(rows.encoded()).map_err(io)?;
        self.counts[partition] += rows.len() as u64;
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn finish(mut self: Box<Self>, order: Option<&[u16]>) -> Result<StagedTable> {
        self.complete(order)?; // on error, Drop removes the directory
        self.done = true;
        Ok(StagedTable {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            address: StoreAddress::Local {
                path: self.final_dir.clone(),
            },
            temp: StoreAddress::Local {
                path: self.temp.clone(),
            },
            partitions: self.counts.len(),
            rows: self.rows(),
        })
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        self.done = true;
        match fs::remove_dir_all(&self.temp) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::io("remove dir", &self.temp, e)),
        }
    }
}

impl Drop for LocalStageWriter {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = fs::remove_dir_all(&self.temp) {
                tracing::warn!(path = %self.temp.display(), error = %e, "could not remove staged table");
            }
        }
    }
}

impl TableStorage for LocalStorage {
    fn engine(&self) -> &'static str {
        "LOCAL"
    }

    fn store_type(&self) -> &'static str {
        "FFRB"
    }

    fn begin_stage(
        &self,
        namespace: &str,
        name: &str,
        partitions: usize,
    ) -> Result<Box<dyn StageWriter>> {
        let final_dir = self.table_dir(namespace, name)?;
        let parent = final_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        fs::create_dir_all(&parent).map_err(|e| StorageError::io("create dir", &parent, e))?;
        let temp = parent.join(format!(".{name}.tmp-{}", unique_suffix()));
        fs::create_dir(&temp).map_err(|e| StorageError::io("create dir", &temp, e))?;
        let writer = LocalStageWriter {
            namespace: namespace.to_string(),
            name: name.to_string(),
            final_dir,
            temp,
            counts: vec![0; partitions],
            done: false,
        };
        // Every partition file exists (with an empty header) from the start.
        for i in 0..partitions {
            let path = writer.part_path(i);
            let mut f =
                fs::File::create(&path).map_err(|e| StorageError::io("create", &path, e))?;
            f.write_all(&block_header(0))
                .map_err(|e| StorageError::io("write", &path, e))?;
        }
        tracing::debug!(table = %format!("{namespace}.{name}"), temp = %writer.temp.display(), "staging table");
        Ok(Box::new(writer))
    }

    fn commit_staged(&self, staged: StagedTable) -> Result<StoreAddress> {
        let final_dir = self.local_path(&staged.address)?.to_path_buf();
        let temp = self.local_path(&staged.temp)?.to_path_buf();
        replace_dir(&temp, &final_dir)?;
        tracing::info!(table = %format!("{}.{}", staged.namespace, staged.name),
            rows = staged.rows, partitions = staged.partitions, "table written");
        Ok(staged.address)
    }

    fn abort_staged(&self, staged: StagedTable) -> Result<()> {
        let temp = self.local_path(&staged.temp)?;
        match fs::remove_dir_all(temp) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::io("remove dir", temp, e)),
        }
    }

    fn read_table(&self, address: &StoreAddress) -> Result<Vec<RowBlock>> {
        if let StoreAddress::Path { .. } = address {
            return crate::path::reader().read_table(address);
        }
        let dir = self.local_path(address)?;
        if !dir.is_dir() {
            return Err(StorageError::TableNotFound {
                namespace: dir
                    .parent()
                    .and_then(Path::file_name)
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                name: dir
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                detail: Some(format!("no directory {}", dir.display())),
            });
        }
        let mut blocks = Vec::new();
        loop {
            let path = dir.join(partition_file_name(blocks.len()));
            if !path.exists() {
                break;
            }
            blocks.push(RowBlock::open_file(&path)?);
        }
        Ok(blocks)
    }

    fn read_order(&self, address: &StoreAddress) -> Result<Option<Vec<u16>>> {
        if let StoreAddress::Path { .. } = address {
            return crate::path::reader().read_order(address);
        }
        read_order_file(&self.local_path(address)?.join(ORDER_FILE))
    }

    fn delete_table(&self, address: &StoreAddress) -> Result<bool> {
        if let StoreAddress::Path { .. } = address {
            return crate::path::reader().delete_table(address);
        }
        delete_dir(self.local_path(address)?)
    }

    fn exists(&self, address: &StoreAddress) -> Result<bool> {
        if let StoreAddress::Path { .. } = address {
            return crate::path::reader().exists(address);
        }
        Ok(self.local_path(address)?.is_dir())
    }

    fn address_of(&self, namespace: &str, name: &str) -> Result<StoreAddress> {
        Ok(StoreAddress::Local {
            path: self.table_dir(namespace, name)?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fedflow_core::RowBlockBuilder;

    /// A block of string rows, for tests.
    pub(crate) fn block(rows: &[(&str, &str)]) -> RowBlock {
        let mut b = RowBlockBuilder::new();
        for (k, v) in rows {
            b.push(k.as_bytes(), v.as_bytes());
        }
        b.finish()
    }

    #[test]
    fn write_read_replace_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStorage::new(dir.path());
        let addr = s
            .write_table("ns", "t", vec![block(&[("a", "1")]), block(&[])])
            .unwrap();
        assert_eq!(
            addr,
            StoreAddress::Local {
                path: dir.path().join("tables/ns/t")
            }
        );
        assert!(s.exists(&addr).unwrap());
        let back = s.read_table(&addr).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back[0].is_mapped());
        assert_eq!(back[0].iter().next(), Some((&b"a"[..], &b"1"[..])));
        // Replace.
        let addr2 = s
            .write_table("ns", "t", vec![block(&[("b", "2"), ("c", "3")])])
            .unwrap();
        assert_eq!(addr, addr2);
        let back = s.read_table(&addr).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].len(), 2);
        // No temporary leftovers.
        let names: Vec<_> = fs::read_dir(dir.path().join("tables/ns"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("t")]);
        assert!(s.delete_table(&addr).unwrap());
        assert!(!s.exists(&addr).unwrap());
        assert!(!s.delete_table(&addr).unwrap());
        assert!(matches!(
            s.read_table(&addr),
            Err(StorageError::TableNotFound { .. })
        ));
    }

    #[test]
    fn abort_leaves_nothing_and_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStorage::new(dir.path());
        let staged = s
            .stage_table("ns", "t", vec![block(&[("a", "1")])], Some(&[0]))
            .unwrap();
        assert!(!s.exists(&staged.address).unwrap());
        s.abort_staged(staged).unwrap();
        assert_eq!(
            fs::read_dir(dir.path().join("tables/ns")).unwrap().count(),
            0
        );
        assert!(s.write_table("../x", "t", vec![]).is_err());
        assert!(s.write_table("ns", ".hidden", vec![]).is_err());
        assert!(s.write_table("ns", "a/b", vec![]).is_err());
    }
}
