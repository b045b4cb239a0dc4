//! The path storage engine: FATE's `LOCALFS` / `HDFS` (and any URI a Spark
//! cluster's Hadoop client reads, such as `s3a://`).
//!
//! A table is a directory at a URI (the meta row's `address`,
//! `{"type": "Path", "uri": "file:///…"}`; `engine` is `LOCALFS` for
//! `file://`, `HDFS` for `hdfs://`, the upper-cased scheme otherwise) holding
//! text files of [`fedflow_core::lines`]: one line per fedflow partition,
//! `p \t 0 \t count \t base64(RowBlock)`, the format of the Spark engine's
//! tables, so Spark loads and saves such a table on its executors with
//! `spark.read.text` / `write.text`. Files whose names start with `_` or `.`
//! are not data (`_SUCCESS`; `_order.u16`, an upload's row order, as in the
//! local engine). fedflow writes `part-NNNNN` (one file per partition, plus
//! `_SUCCESS`); Spark writes `part-NNNNN-<uuid>-c000.txt` files of any
//! number of lines; both read either.
//!
//! fedflow itself reads and writes only `file://` addresses (staged in a
//! temporary sibling directory and renamed into place, as the local engine
//! does); any other scheme fails with [`StorageError::NeedsSpark`]: such a
//! table is read and written by the Spark engine only.

use crate::error::{validate_name, Result, StorageError};
use crate::table::{
    replace_dir, unique_suffix, LocalStorage, StageWriter, StagedTable, StoreAddress, TableStorage,
};
use fedflow_core::RowBlock;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File (in a table's directory) of an uploaded table's row order.
const ORDER_FILE: &str = "_order.u16";
/// Spark's and Hadoop's marker of a complete output directory.
const SUCCESS_FILE: &str = "_SUCCESS";

/// The storage engine name of a URI: `LOCALFS` (`file://`), `HDFS`
/// (`hdfs://`), else the scheme upper-cased (`S3A`), or `PATH` without one.
pub fn path_engine(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("file") => "LOCALFS".into(),
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("hdfs") => "HDFS".into(),
        Some((scheme, _)) if !scheme.is_empty() => scheme.to_ascii_uppercase(),
        _ => "PATH".into(),
    }
}

/// Whether a storage engine name (FATE's `storage_engine`) is the path engine.
pub fn is_path_engine(engine: &str) -> bool {
    [
        "LOCALFS", "HDFS", "PATH", "S3A", "S3", "GS", "ABFS", "ABFSS",
    ]
    .iter()
    .any(|e| engine.eq_ignore_ascii_case(e))
}

/// A URI for a path: kept when it has a scheme, else `file://` + the path
/// (which must be absolute).
pub fn to_uri(path: &str) -> Result<String> {
    if path.contains("://") {
        return Ok(path.trim_end_matches('/').to_string());
    }
    if !path.starts_with('/') {
        return Err(StorageError::conf(
            "storage_address",
            format!("expected a URI (file://, hdfs://, …) or an absolute path, got '{path}'"),
        ));
    }
    Ok(format!("file://{}", path.trim_end_matches('/')))
}

/// The local directory of a `file://` URI, or [`StorageError::NeedsSpark`].
pub fn local_dir(uri: &str) -> Result<PathBuf> {
    match uri.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("file") => {
            // file:///abs/path (empty authority) or file://localhost/abs/path.
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if path.starts_with('/') {
                Ok(PathBuf::from(path))
            } else {
                Err(StorageError::conf(
                    "address",
                    format!("expected file:///absolute/path, got '{uri}'"),
                ))
            }
        }
        _ => Err(StorageError::NeedsSpark {
            address: uri.to_string(),
        }),
    }
}

fn uri_of(address: &StoreAddress) -> Result<&str> {
    match address {
        StoreAddress::Path { uri } => Ok(uri),
        other => Err(StorageError::WrongEngine {
            engine: "path",
            address: other.to_json(),
        }),
    }
}

fn missing(uri: &str, dir: &Path) -> StorageError {
    let mut names = dir.iter().rev().map(|s| s.to_string_lossy().into_owned());
    let name = names.next().unwrap_or_default();
    StorageError::TableNotFound {
        namespace: names.next().unwrap_or_default(),
        name,
        detail: Some(format!("no table directory at {uri}")),
    }
}

/// Reads the table at a path address: its lines, one per partition
/// `0..n` (each exactly once).
pub fn read_path_table(uri: &str) -> Result<Vec<RowBlock>> {
    let dir = local_dir(uri)?;
    if !dir.is_dir() {
        return Err(missing(uri, &dir));
    }
    let lines = fedflow_core::lines::read_dir(&dir).map_err(|reason| StorageError::Corrupt {
        what: format!("table at {uri}"),
        reason,
    })?;
    let n = lines.iter().map(|l| l.p as usize + 1).max().unwrap_or(0);
    let mut blocks: Vec<Option<RowBlock>> = vec![None; n];
    for l in lines {
        let slot = &mut blocks[l.p as usize];
        if slot.is_some() {
            return Err(StorageError::Corrupt {
                what: format!("table at {uri}"),
                reason: format!("partition {} appears twice", l.p),
            });
        }
        *slot = Some(l.block);
    }
    blocks
        .into_iter()
        .enumerate()
        .map(|(p, b)| {
            b.ok_or_else(|| StorageError::Corrupt {
                what: format!("table at {uri}"),
                reason: format!("partition {p} of 0..{n} is missing"),
            })
        })
        .collect()
}

/// Writes blocks as a table directory `dir` (one `part-NNNNN` file per
/// partition, `_SUCCESS`, and the row order when given).
fn write_lines_dir(dir: &Path, blocks: &[RowBlock], order: Option<&[u8]>) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| StorageError::io("create dir", dir, e))?;
    let mut s = String::new();
    for (i, b) in blocks.iter().enumerate() {
        let path = dir.join(format!("part-{i:05}"));
        s.clear();
        fedflow_core::lines::format_line(i as u32, 0, b, &mut s);
        s.push('\n');
        let io = |e| StorageError::io("write", &path, e);
        let mut f = fs::File::create(&path).map_err(io)?;
        f.write_all(s.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(io)?;
    }
    if let Some(order) = order {
        let path = dir.join(ORDER_FILE);
        fs::write(&path, order).map_err(|e| StorageError::io("write", &path, e))?;
    }
    let path = dir.join(SUCCESS_FILE);
    fs::write(&path, b"").map_err(|e| StorageError::io("write", &path, e))
}

/// The path engine (see the module doc). Tables are written under `root`
/// (`<root>/<namespace>/<name>`), or at one fixed address (an upload's
/// `storage_address`).
#[derive(Debug, Clone)]
pub struct PathStorage {
    root: String,
    fixed: Option<String>,
}

impl PathStorage {
    /// Tables at `<root>/<namespace>/<name>` (`root` a URI or an absolute path).
    pub fn new(root: &str) -> Result<Self> {
        Ok(PathStorage {
            root: to_uri(root)?,
            fixed: None,
        })
    }

    /// Every table written at `address` (a URI or an absolute path).
    pub fn at(root: &str, address: &str) -> Result<Self> {
        Ok(PathStorage {
            root: to_uri(root)?,
            fixed: Some(to_uri(address)?),
        })
    }

    /// The URI a table of that name has in this store.
    pub fn uri_of(&self, namespace: &str, name: &str) -> Result<String> {
        validate_name("namespace", namespace)?;
        validate_name("table name", name)?;
        Ok(match &self.fixed {
            Some(uri) => uri.clone(),
            None => format!("{}/{namespace}/{name}", self.root),
        })
    }

    fn engine_uri(&self) -> &str {
        self.fixed.as_deref().unwrap_or(&self.root)
    }
}

/// [`StageWriter`] of [`PathStorage`]: stages partitions as a local table in
/// a scratch directory (next to the target), turned into lines on finish.
struct PathStageWriter {
    local: Option<Box<dyn StageWriter>>,
    scratch: PathBuf,
    namespace: String,
    name: String,
    uri: String,
    /// Set once finished (the scratch directory then belongs to the staged table).
    done: bool,
}

impl StageWriter for PathStageWriter {
    fn append(&mut self, partition: usize, rows: &RowBlock) -> Result<()> {
        match self.local.as_mut() {
            Some(w) => w.append(partition, rows),
            None => Err(StorageError::Corrupt {
                what: format!("staged table {}.{}", self.namespace, self.name),
                reason: "appended to after finish".into(),
            }),
        }
    }

    fn rows(&self) -> u64 {
        self.local.as_ref().map(|w| w.rows()).unwrap_or(0)
    }

    fn finish(mut self: Box<Self>, order: Option<&[u16]>) -> Result<StagedTable> {
        let Some(local) = self.local.take() else {
            return Err(StorageError::Corrupt {
                what: format!("staged table {}.{}", self.namespace, self.name),
                reason: "finished twice".into(),
            });
        };
        let staged = local.finish(order)?;
        let store = LocalStorage::new(&self.scratch);
        let blocks = store.read_table(&staged.temp)?;
        let (partitions, rows) = (blocks.len(), staged.rows);
        let order_bytes: Option<Vec<u8>> =
            order.map(|o| o.iter().flat_map(|p| p.to_le_bytes()).collect());
        write_lines_dir(&self.scratch.join("out"), &blocks, order_bytes.as_deref())?;
        drop(blocks);
        store.abort_staged(staged)?;
        self.done = true;
        Ok(StagedTable {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            address: StoreAddress::Path {
                uri: self.uri.clone(),
            },
            temp: StoreAddress::Local {
                path: self.scratch.clone(),
            },
            partitions,
            rows,
        })
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        self.done = true;
        if let Some(w) = self.local.take() {
            w.abort()?;
        }
        remove_dir(&self.scratch)
    }
}

impl Drop for PathStageWriter {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = remove_dir(&self.scratch) {
                tracing::warn!(error = %e, "could not remove staged table");
            }
        }
    }
}

fn remove_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::io("remove dir", dir, e)),
    }
}

impl TableStorage for PathStorage {
    fn engine(&self) -> &'static str {
        match path_engine(self.engine_uri()).as_str() {
            "LOCALFS" => "LOCALFS",
            "HDFS" => "HDFS",
            _ => "PATH",
        }
    }

    fn store_type(&self) -> &'static str {
        "LINES"
    }

    fn begin_stage(
        &self,
        namespace: &str,
        name: &str,
        partitions: usize,
    ) -> Result<Box<dyn StageWriter>> {
        let uri = self.uri_of(namespace, name)?;
        let dir = local_dir(&uri)?;
        let parent = dir.parent().unwrap_or(Path::new("/")).to_path_buf();
        fs::create_dir_all(&parent).map_err(|e| StorageError::io("create dir", &parent, e))?;
        let base = dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let scratch = parent.join(format!(".{base}.tmp-{}", unique_suffix()));
        let local = LocalStorage::new(&scratch).begin_stage(namespace, name, partitions)?;
        Ok(Box::new(PathStageWriter {
            local: Some(local),
            scratch,
            namespace: namespace.into(),
            name: name.into(),
            uri,
            done: false,
        }))
    }

    fn commit_staged(&self, staged: StagedTable) -> Result<StoreAddress> {
        let dir = local_dir(uri_of(&staged.address)?)?;
        let StoreAddress::Local { path: scratch } = &staged.temp else {
            return Err(StorageError::WrongEngine {
                engine: "path",
                address: staged.temp.to_json(),
            });
        };
        if let Err(e) = crate::confine::check_table_dir(&dir) {
            remove_dir(scratch)?;
            return Err(e);
        }
        replace_dir(&scratch.join("out"), &dir)?;
        remove_dir(scratch)?;
        tracing::info!(table = %format!("{}.{}", staged.namespace, staged.name),
            address = %uri_of(&staged.address)?, rows = staged.rows, "table written");
        Ok(staged.address)
    }

    fn abort_staged(&self, staged: StagedTable) -> Result<()> {
        match &staged.temp {
            StoreAddress::Local { path } => remove_dir(path),
            other => Err(StorageError::WrongEngine {
                engine: "path",
                address: other.to_json(),
            }),
        }
    }

    fn read_table(&self, address: &StoreAddress) -> Result<Vec<RowBlock>> {
        read_path_table(uri_of(address)?)
    }

    fn read_order(&self, address: &StoreAddress) -> Result<Option<Vec<u16>>> {
        let path = local_dir(uri_of(address)?)?.join(ORDER_FILE);
        crate::table::read_order_file(&path)
    }

    fn delete_table(&self, address: &StoreAddress) -> Result<bool> {
        let dir = local_dir(uri_of(address)?)?;
        crate::confine::check_table_dir(&dir)?;
        crate::table::delete_dir(&dir)
    }

    fn exists(&self, address: &StoreAddress) -> Result<bool> {
        Ok(local_dir(uri_of(address)?)?.is_dir())
    }

    fn address_of(&self, namespace: &str, name: &str) -> Result<StoreAddress> {
        Ok(StoreAddress::Path {
            uri: self.uri_of(namespace, name)?,
        })
    }
}

/// The path engine for reading, deleting and probing path addresses (it
/// writes nowhere: its root is unused).
pub(crate) fn reader() -> PathStorage {
    PathStorage {
        root: String::from("file:///"),
        fixed: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::tests::block;

    #[test]
    fn engine_names_and_uris() {
        assert_eq!(path_engine("file:///x"), "LOCALFS");
        assert_eq!(path_engine("hdfs://nn:8020/fate"), "HDFS");
        assert_eq!(path_engine("s3a://bucket/x"), "S3A");
        assert_eq!(to_uri("/a/b/").unwrap(), "file:///a/b");
        assert_eq!(to_uri("hdfs://nn/a").unwrap(), "hdfs://nn/a");
        assert!(to_uri("rel/path").is_err());
        assert_eq!(local_dir("file:///a/b").unwrap(), PathBuf::from("/a/b"));
        assert_eq!(
            local_dir("file://localhost/a").unwrap(),
            PathBuf::from("/a")
        );
        let err = local_dir("hdfs://nn/fate/t").unwrap_err().to_string();
        assert!(
            err.contains("hdfs://nn/fate/t") && err.contains("Spark"),
            "{err}"
        );
    }

    #[test]
    fn layout_round_trip_replace_delete() {
        let dir = tempfile::tempdir().unwrap();
        let root = format!("file://{}", dir.path().display());
        let s = PathStorage::new(&root).unwrap();
        assert_eq!(s.engine(), "LOCALFS");
        let blocks = vec![
            block(&[("a", "1"), ("b", "2")]),
            block(&[]),
            block(&[("c", "3")]),
        ];
        let addr = s.write_table("ns", "t", blocks.clone()).unwrap();
        assert_eq!(
            addr,
            StoreAddress::Path {
                uri: format!("{root}/ns/t")
            }
        );
        // The documented layout: part-NNNNN with one line each, and _SUCCESS.
        let tdir = dir.path().join("ns/t");
        let mut names: Vec<String> = fs::read_dir(&tdir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
        );
        let first = fs::read_to_string(tdir.join("part-00000")).unwrap();
        assert!(
            first.starts_with("0\t0\t2\t") && first.ends_with('\n'),
            "{first}"
        );
        let back = s.read_table(&addr).unwrap();
        assert_eq!(back.len(), 3);
        for (a, b) in back.iter().zip(&blocks) {
            assert_eq!(a.encoded(), b.encoded());
        }
        // Replace with fewer partitions; no leftovers beside the table.
        s.write_table("ns", "t", vec![block(&[("z", "9")])])
            .unwrap();
        assert_eq!(s.read_table(&addr).unwrap().len(), 1);
        assert_eq!(fs::read_dir(dir.path().join("ns")).unwrap().count(), 1);
        // A Spark-written file (several lines, other names) reads the same.
        let spark = dir.path().join("spark");
        fs::create_dir_all(&spark).unwrap();
        let mut text = String::new();
        for (i, b) in blocks.iter().enumerate().rev() {
            fedflow_core::lines::format_line(i as u32, 0, b, &mut text);
            text.push('\n');
        }
        fs::write(spark.join("part-00000-abc-c000.txt"), text).unwrap();
        fs::write(spark.join(".part-00000-abc-c000.txt.crc"), "x").unwrap();
        let back = read_path_table(&format!("file://{}", spark.display())).unwrap();
        assert_eq!(back.iter().map(|b| b.len()).collect::<Vec<_>>(), [2, 0, 1]);
        // Delete; a missing table names its address.
        assert!(s.delete_table(&addr).unwrap());
        assert!(!s.exists(&addr).unwrap());
        let err = s.read_table(&addr).unwrap_err().to_string();
        assert!(err.contains(&format!("{root}/ns/t")), "{err}");
    }

    #[test]
    fn gaps_duplicates_and_other_schemes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t");
        fs::create_dir_all(&t).unwrap();
        fs::write(t.join("part-0"), "1\t0\t0\t\n").unwrap();
        let uri = format!("file://{}", t.display());
        let err = read_path_table(&uri).unwrap_err().to_string();
        assert!(err.contains("partition 0 of 0..2 is missing"), "{err}");
        fs::write(t.join("part-1"), "0\t0\t0\t\n1\t0\t0\t\n").unwrap();
        let err = read_path_table(&uri).unwrap_err().to_string();
        assert!(err.contains("partition 1 appears twice"), "{err}");
        let s = PathStorage::new("hdfs://nn/fate").unwrap();
        assert_eq!(s.engine(), "HDFS");
        let err = s.write_table("ns", "t", vec![block(&[])]).unwrap_err();
        assert!(err.to_string().contains("hdfs://nn/fate/ns/t"), "{err}");
    }
}
