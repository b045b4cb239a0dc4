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
pub mod db;
#[cfg(feature = "mysql")]
pub mod db_mysql;
pub mod error;
pub mod meta;
pub mod table;
pub mod upload;

pub use conf::{parse_upload_conf, UploadConf};
pub use db::{open_db, Dialect, SqlDb, SqlRow, SqlValue};
pub use error::{Result, StorageError};
pub use meta::{MetaStore, SqlMetaStore, SqliteMetaStore, TableMeta, TableOrigin, TableSchema};
pub use table::{LocalStorage, StageWriter, StagedTable, StoreAddress, TableStorage};
pub use upload::{
    download, read_checked, require_table, upload, upload_buffered, UPLOAD_BUFFER_BYTES,
};

use std::path::Path;
use std::sync::Arc;

/// File name of the SQLite meta store under a storage root.
pub const META_FILE: &str = "meta.sqlite";

/// A storage engine and a meta store, shared by everything in a process.
#[derive(Clone)]
pub struct StorageContext {
    /// Where table data lives.
    pub storage: Arc<dyn TableStorage>,
    /// Where table metadata lives.
    pub meta: Arc<dyn MetaStore>,
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
        Ok(StorageContext {
            storage: Arc::new(LocalStorage::new(root)),
            meta,
        })
    }

    /// Uploads with this context's engine and meta store (see [`upload()`]).
    pub fn upload(&self, conf: &UploadConf) -> Result<TableMeta> {
        upload::upload(conf, self.storage.as_ref(), self.meta.as_ref())
    }

    /// Downloads a table by name (see [`download()`]).
    pub fn download(
        &self,
        namespace: &str,
        name: &str,
        out: &Path,
        delimiter: &str,
    ) -> Result<u64> {
        let meta = require_table(self.meta.as_ref(), namespace, name)?;
        upload::download(&meta, self.storage.as_ref(), out, delimiter)
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
