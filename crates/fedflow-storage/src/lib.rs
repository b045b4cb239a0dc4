//! Storage and metadata of fedflow.
//!
//! * [`TableStorage`]: the storage-engine plug-in point; [`LocalStorage`] keeps
//!   tables as directories of memory-mappable partition files.
//! * [`MetaStore`]: FATE's `t_storage_table_meta`, on SQLite (the embedded
//!   default, [`SqliteMetaStore`]) or MySQL/MariaDB ([`SqlMetaStore`] over the
//!   [`db`] layer).
//! * [`upload()`] / [`download()`]: CSV ⇄ table, as FATE's Upload and Download
//!   components, driven by FATE's upload conf ([`parse_upload_conf`]).
//! * [`StorageContext`]: a storage engine and a meta store together.

#![warn(missing_docs)]

pub mod conf;
pub mod confine;
pub mod db;
#[cfg(feature = "mysql")]
pub mod db_mysql;
pub mod error;
pub mod meta;
pub mod path;
pub mod table;
pub mod upload;

pub use conf::{parse_upload_conf, UploadConf};
pub use db::{open_db, Dialect, SqlDb, SqlRow, SqlValue};
pub use error::{Result, StorageError};
pub use meta::{MetaStore, SqlMetaStore, SqliteMetaStore, TableMeta, TableOrigin, TableSchema};
pub use path::{is_path_engine, path_engine, PathStorage};
pub use table::{LocalStorage, StageWriter, StagedTable, StoreAddress, TableStorage};
pub use upload::{
    download, download_with, read_checked, require_table, upload, upload_buffered, ValueRenderer,
    UPLOAD_BUFFER_BYTES,
};

use std::path::Path;
use std::sync::Arc;

/// Environment variable with the root URI of path-engine tables.
pub const PATH_ROOT_ENV: &str = "FEDFLOW_STORAGE_PATH_ROOT";

/// File name of the SQLite meta store under a storage root.
pub const META_FILE: &str = "meta.sqlite";

/// A storage engine and a meta store, shared by everything in a process.
#[derive(Clone)]
pub struct StorageContext {
    /// Where table data lives.
    pub storage: Arc<dyn TableStorage>,
    /// Where table metadata lives.
    pub meta: Arc<dyn MetaStore>,
    /// Root URI of the path engine's tables (`LOCALFS`/`HDFS`):
    /// `$FEDFLOW_STORAGE_PATH_ROOT`, else `file://<root>/localfs`.
    pub path_root: String,
    /// Where an upload's `storage_address` may point: `None` (a local CLI,
    /// whose user owns the files) allows any address; a server sets the
    /// path root plus its configured roots ([`crate::confine::confine_uri`]).
    pub address_roots: Option<Vec<String>>,
}

impl std::fmt::Debug for StorageContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StorageContext({})", self.storage.engine())
    }
}

impl StorageContext {
    /// Local storage under `root` (`<root>/tables/…`) with a SQLite meta store
    /// at `<root>/meta.sqlite`; creates the directories and the database.
    /// Same as `open(root, None)`.
    pub fn open_local(root: &Path) -> Result<StorageContext> {
        Self::open(root, None)
    }

    /// Local storage under `root` (`<root>/tables/…`) with the meta store at
    /// `meta_url` (see [`open_db`]: `sqlite:PATH`, a path, or
    /// `mysql://user[:password]@host[:port]/database`), or at
    /// `<root>/meta.sqlite` when `None`. Creates the directories, the
    /// database and the meta table.
    pub fn open(root: &Path, meta_url: Option<&str>) -> Result<StorageContext> {
        let tables = root.join("tables");
        std::fs::create_dir_all(&tables).map_err(|e| StorageError::io("create dir", &tables, e))?;
        let meta: Arc<dyn MetaStore> = match meta_url {
            None => Arc::new(SqliteMetaStore::open(&root.join(META_FILE))?),
            Some(url) => Arc::new(SqlMetaStore::open_url(url)?),
        };
        let path_root = match std::env::var(PATH_ROOT_ENV) {
            Ok(v) if !v.trim().is_empty() => v.trim().trim_end_matches('/').to_string(),
            _ => format!(
                "file://{}/localfs",
                std::path::absolute(root)
                    .unwrap_or_else(|_| root.to_path_buf())
                    .display()
            ),
        };
        Ok(StorageContext {
            storage: Arc::new(LocalStorage::new(root)),
            meta,
            path_root,
            address_roots: None,
        })
    }

    /// Uploads with this context's meta store (see [`upload()`]): to the
    /// path engine when `storage_engine` is one of its names (`LOCALFS`,
    /// `HDFS`, …; at `storage_address`, else `<path_root>/<namespace>/<name>`),
    /// else to this context's engine.
    pub fn upload(&self, conf: &UploadConf) -> Result<TableMeta> {
        match &conf.storage_engine {
            Some(e) if is_path_engine(e) => {
                let store = match &conf.storage_address {
                    Some(a) => {
                        let a = match &self.address_roots {
                            Some(roots) => confine::confine_uri("storage_address", a, roots)?,
                            None => a.clone(),
                        };
                        PathStorage::at(&self.path_root, &a)?
                    }
                    None => PathStorage::new(&self.path_root)?,
                };
                upload::upload(conf, &store, self.meta.as_ref())
            }
            _ => upload::upload(conf, self.storage.as_ref(), self.meta.as_ref()),
        }
    }

    /// The path engine under this context's root ([`StorageContext::path_root`]).
    pub fn path_storage(&self) -> Result<PathStorage> {
        PathStorage::new(&self.path_root)
    }

    /// Downloads a table by name (see [`download()`]).
    pub fn download(
        &self,
        namespace: &str,
        name: &str,
        out: &Path,
        delimiter: &str,
    ) -> Result<u64> {
        self.download_with(namespace, name, out, delimiter, None)
    }

    /// Downloads a table by name (see [`download_with()`]: `render` turns
    /// component output values into CSV fields).
    pub fn download_with(
        &self,
        namespace: &str,
        name: &str,
        out: &Path,
        delimiter: &str,
        render: Option<ValueRenderer>,
    ) -> Result<u64> {
        let meta = require_table(self.meta.as_ref(), namespace, name)?;
        upload::download_with(&meta, self.storage.as_ref(), out, delimiter, render)
    }

    /// Reads a table's partitions by name (memory-mapped), checked against its
    /// meta row.
    pub fn read_table(&self, namespace: &str, name: &str) -> Result<Vec<fedflow_core::RowBlock>> {
        let meta = require_table(self.meta.as_ref(), namespace, name)?;
        read_checked(&meta, self.storage.as_ref())
    }

    /// Deletes a table's data and meta row; returns false when neither existed.
    pub fn delete_table(&self, namespace: &str, name: &str) -> Result<bool> {
        let address = match self.meta.get_table_meta(namespace, name)? {
            Some(m) => m.address,
            None => self.storage.address_of(namespace, name)?,
        };
        let data = self.storage.delete_table(&address)?;
        let meta = self.meta.delete_table_meta(namespace, name)?;
        Ok(data || meta)
    }
}

#[cfg(test)]
mod testutil;
#[cfg(test)]
mod upload_tests;
