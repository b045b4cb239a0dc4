//! The table meta store: FATE's `t_storage_table_meta`, behind the
//! [`MetaStore`] trait, implemented once over the portable SQL layer
//! ([`SqlMetaStore`], SQLite or MySQL/MariaDB) with [`SqliteMetaStore`] as the
//! embedded default.

use crate::db::{open_db, Dialect, SqlDb, SqlRow, SqlValue, SqliteDb};
use crate::error::{Result, StorageError};
use crate::table::StoreAddress;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a table came to be (FATE's `origin` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableOrigin {
    /// Uploaded from a file.
    Upload,
    /// Produced by a Reader component.
    Reader,
    /// Output of a component.
    Output,
    /// Bound to existing data (`flow table bind`).
    TableBind,
}

impl TableOrigin {
    /// The column text.
    pub fn as_str(self) -> &'static str {
        match self {
            TableOrigin::Upload => "upload",
            TableOrigin::Reader => "reader",
            TableOrigin::Output => "output",
            TableOrigin::TableBind => "table_bind",
        }
    }

    /// Parses the column text.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "upload" => TableOrigin::Upload,
            "reader" => TableOrigin::Reader,
            "output" => TableOrigin::Output,
            "table_bind" => TableOrigin::TableBind,
            _ => return None,
        })
    }
}

/// A table's schema: `{header: "x0,x1,…", sid: "id", meta…}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableSchema {
    /// The column names after the id, joined by the table's `id_delimiter`.
    #[serde(default)]
    pub header: String,
    /// The id column's name.
    #[serde(default)]
    pub sid: String,
    /// Anything else (FATE's `meta`, label name, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One row of `t_storage_table_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// Table name (primary key with `namespace`).
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Where the data is.
    pub address: StoreAddress,
    /// Storage engine, e.g. `LOCAL`.
    pub engine: String,
    /// Engine-specific store type, e.g. `FFRB`.
    pub store_type: String,
    /// Engine options (JSON object).
    pub options: serde_json::Value,
    /// Number of partitions.
    pub partitions: u32,
    /// Delimiter of the fields inside values (and of the header).
    pub id_delimiter: String,
    /// True when keys and values are stored encoded (always true for fedflow engines).
    pub in_serialized: bool,
    /// True when the source file had a header line.
    pub have_head: bool,
    /// True when keys were generated (`extend_sid`).
    pub extend_sid: bool,
    /// True when generated keys are increasing integers.
    pub auto_increasing_sid: bool,
    /// Number of rows.
    pub count: u64,
    /// How the table was made.
    pub origin: TableOrigin,
    /// True when the table is disabled.
    pub disable: bool,
    /// Free text.
    pub description: String,
    /// Header and id column.
    pub schema: TableSchema,
    /// The first (up to 100) rows as (key, value) strings.
    pub part_of_data: Vec<(String, String)>,
    /// Creation time, milliseconds since the Unix epoch.
    pub create_time: i64,
    /// Last update time, milliseconds since the Unix epoch.
    pub update_time: i64,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Where table metadata is kept: [`SqlMetaStore`] on SQLite or MySQL/MariaDB.
pub trait MetaStore: Send + Sync {
    /// Inserts a meta row; fails with [`StorageError::TableExists`] if one exists.
    fn create_table_meta(&self, meta: &TableMeta) -> Result<()>;
    /// The meta row of a table, if any.
    fn get_table_meta(&self, namespace: &str, name: &str) -> Result<Option<TableMeta>>;
    /// Deletes a meta row; returns false when there was none.
    fn delete_table_meta(&self, namespace: &str, name: &str) -> Result<bool>;
    /// All tables (of one namespace when given), ordered by namespace then name.
    fn list_tables(&self, namespace: Option<&str>) -> Result<Vec<TableMeta>>;
    /// Replaces every column of an existing meta row (keyed by the meta's
    /// namespace and name) and sets `update_time` to now; fails with
    /// [`StorageError::TableNotFound`] if there is none.
    fn update_table_meta(&self, meta: &TableMeta) -> Result<()>;
}

/// [`MetaStore`] over the portable SQL layer ([`SqlDb`]): the same table and
/// the same behaviour on SQLite and on MySQL/MariaDB. Columns carry FATE's
/// `f_` prefix (which also keeps clear of reserved words such as `schema`).
#[derive(Clone)]
pub struct SqlMetaStore {
    db: Arc<dyn SqlDb>,
}

impl std::fmt::Debug for SqlMetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqlMetaStore({})", self.db.describe())
    }
}

/// The meta table, in portable DDL.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS t_storage_table_meta (
    f_name VARCHAR(191) NOT NULL,
    f_namespace VARCHAR(191) NOT NULL,
    f_address LONGTEXT NOT NULL,
    f_engine VARCHAR(64) NOT NULL,
    f_store_type VARCHAR(64) NOT NULL,
    f_options LONGTEXT NOT NULL,
    f_partitions BIGINT NOT NULL,
    f_id_delimiter VARCHAR(64) NOT NULL,
    f_in_serialized BIGINT NOT NULL,
    f_have_head BIGINT NOT NULL,
    f_extend_sid BIGINT NOT NULL,
    f_auto_increasing_sid BIGINT NOT NULL,
    f_count BIGINT NOT NULL,
    f_origin VARCHAR(64) NOT NULL,
    f_disable BIGINT NOT NULL,
    f_description LONGTEXT NOT NULL,
    f_schema LONGTEXT NOT NULL,
    f_part_of_data LONGTEXT NOT NULL,
    f_create_time BIGINT NOT NULL,
    f_update_time BIGINT NOT NULL,
    PRIMARY KEY (f_name, f_namespace)
)";

const COLUMNS: &str = "f_name, f_namespace, f_address, f_engine, f_store_type, f_options, \
    f_partitions, f_id_delimiter, f_in_serialized, f_have_head, f_extend_sid, \
    f_auto_increasing_sid, f_count, f_origin, f_disable, f_description, f_schema, \
    f_part_of_data, f_create_time, f_update_time";

/// Columns of the first SQLite layout (no `f_` prefix), same order.
const LEGACY_COLUMNS: &str = "name, namespace, address, engine, store_type, options, partitions, \
    id_delimiter, in_serialized, have_head, extend_sid, auto_increasing_sid, count, origin, \
    disable, description, schema, part_of_data, create_time, update_time";

impl SqlMetaStore {
    /// A meta store on `db`; creates `t_storage_table_meta` if missing (and
    /// on SQLite converts a table of the first, unprefixed layout).
    pub fn new(db: Arc<dyn SqlDb>) -> Result<Self> {
        if db.dialect() == Dialect::Sqlite {
            migrate_legacy_sqlite(db.as_ref())?;
        }
        db.execute(CREATE_TABLE, &[])?;
        tracing::debug!(db = %db.describe(), "opened meta store");
        Ok(SqlMetaStore { db })
    }

    /// Opens the database at `url` (see [`crate::db::open_db`]) and a meta
    /// store on it.
    pub fn open_url(url: &str) -> Result<Self> {
        Self::new(open_db(url)?)
    }

    /// The database.
    pub fn db(&self) -> &Arc<dyn SqlDb> {
        &self.db
    }

    fn select(&self, filter: &str, params: &[SqlValue]) -> Result<Vec<TableMeta>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM t_storage_table_meta {filter} ORDER BY f_namespace, f_name"
        );
        self.db
            .query(&sql, params)?
            .iter()
            .map(row_to_meta)
            .collect()
    }
}

/// Renames a first-layout SQLite table (columns without `f_`) to the
/// current layout, keeping its rows.
fn migrate_legacy_sqlite(db: &dyn SqlDb) -> Result<()> {
    let cols = db.query(
        "SELECT name FROM pragma_table_info('t_storage_table_meta')",
        &[],
    )?;
    let legacy = cols.iter().any(|r| r.text(0).is_ok_and(|c| c == "name"));
    if !legacy {
        return Ok(());
    }
    tracing::info!(db = %db.describe(), "converting t_storage_table_meta to f_ columns");
    let stmt = |s: String| (s, Vec::new());
    db.execute_batch(&[
        stmt("ALTER TABLE t_storage_table_meta RENAME TO t_storage_table_meta_legacy".into()),
        stmt(CREATE_TABLE.into()),
        stmt(format!(
            "INSERT INTO t_storage_table_meta ({COLUMNS}) \
             SELECT {LEGACY_COLUMNS} FROM t_storage_table_meta_legacy"
        )),
        stmt("DROP TABLE t_storage_table_meta_legacy".into()),
    ])
}

/// [`MetaStore`] on a SQLite file (WAL mode, busy timeout), safe to share
/// between threads and between processes: [`SqlMetaStore`] over
/// [`SqliteDb`].
#[derive(Clone)]
pub struct SqliteMetaStore {
    inner: SqlMetaStore,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteMetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqliteMetaStore({})", self.path.display())
    }
}

impl SqliteMetaStore {
    /// Opens (creating if needed) the meta database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db: Arc<dyn SqlDb> = Arc::new(SqliteDb::open(path)?);
        Ok(SqliteMetaStore {
            inner: SqlMetaStore::new(db)?,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The engine-independent store.
    pub fn into_inner(self) -> SqlMetaStore {
        self.inner
    }
}

impl MetaStore for SqliteMetaStore {
    fn create_table_meta(&self, meta: &TableMeta) -> Result<()> {
        self.inner.create_table_meta(meta)
    }
    fn get_table_meta(&self, namespace: &str, name: &str) -> Result<Option<TableMeta>> {
        self.inner.get_table_meta(namespace, name)
    }
    fn delete_table_meta(&self, namespace: &str, name: &str) -> Result<bool> {
        self.inner.delete_table_meta(namespace, name)
    }
    fn list_tables(&self, namespace: Option<&str>) -> Result<Vec<TableMeta>> {
        self.inner.list_tables(namespace)
    }
    fn update_table_meta(&self, meta: &TableMeta) -> Result<()> {
        self.inner.update_table_meta(meta)
    }
}

/// The values of a meta row in [`COLUMNS`] order (`update_time` given).
fn meta_values(meta: &TableMeta, update_time: i64) -> Result<Vec<SqlValue>> {
    let json = |what: &str, r: serde_json::Result<String>| {
        r.map(SqlValue::Text).map_err(|e| {
            StorageError::Meta(format!(
                "encode {what} of {}.{}: {e}",
                meta.namespace, meta.name
            ))
        })
    };
    Ok(vec![
        (&meta.name).into(),
        (&meta.namespace).into(),
        json("address", serde_json::to_string(&meta.address))?,
        (&meta.engine).into(),
        (&meta.store_type).into(),
        json("options", serde_json::to_string(&meta.options))?,
        meta.partitions.into(),
        (&meta.id_delimiter).into(),
        meta.in_serialized.into(),
        meta.have_head.into(),
        meta.extend_sid.into(),
        meta.auto_increasing_sid.into(),
        SqlValue::Int(meta.count as i64),
        meta.origin.as_str().into(),
        meta.disable.into(),
        (&meta.description).into(),
        json("schema", serde_json::to_string(&meta.schema))?,
        json("part_of_data", serde_json::to_string(&meta.part_of_data))?,
        meta.create_time.into(),
        update_time.into(),
    ])
}

fn row_to_meta(row: &SqlRow) -> Result<TableMeta> {
    let name = row.text(0)?;
    let namespace = row.text(1)?;
    let corrupt = |col: &str, reason: String| StorageError::Corrupt {
        what: format!("meta of {namespace}.{name}, column {col}"),
        reason,
    };
    fn json<T: serde::de::DeserializeOwned>(
        row: &SqlRow,
        i: usize,
        col: &str,
        corrupt: &dyn Fn(&str, String) -> StorageError,
    ) -> Result<T> {
        serde_json::from_str(&row.text(i)?).map_err(|e| corrupt(col, e.to_string()))
    }
    let origin = row.text(13)?;
    let partitions = row.i64(6)?;
    let count = row.i64(12)?;
    Ok(TableMeta {
        address: json(row, 2, "f_address", &corrupt)?,
        engine: row.text(3)?,
        store_type: row.text(4)?,
        options: json(row, 5, "f_options", &corrupt)?,
        partitions: u32::try_from(partitions)
            .map_err(|_| corrupt("f_partitions", partitions.to_string()))?,
        id_delimiter: row.text(7)?,
        in_serialized: row.bool(8)?,
        have_head: row.bool(9)?,
        extend_sid: row.bool(10)?,
        auto_increasing_sid: row.bool(11)?,
        count: u64::try_from(count).map_err(|_| corrupt("f_count", count.to_string()))?,
        origin: TableOrigin::parse(&origin)
            .ok_or_else(|| corrupt("f_origin", format!("unknown origin '{origin}'")))?,
        disable: row.bool(14)?,
        description: row.text(15)?,
        schema: json(row, 16, "f_schema", &corrupt)?,
        part_of_data: json(row, 17, "f_part_of_data", &corrupt)?,
        create_time: row.i64(18)?,
        update_time: row.i64(19)?,
        name,
        namespace,
    })
}

impl MetaStore for SqlMetaStore {
    fn create_table_meta(&self, meta: &TableMeta) -> Result<()> {
        let placeholders = vec!["?"; 20].join(", ");
        let sql = format!("INSERT INTO t_storage_table_meta ({COLUMNS}) VALUES ({placeholders})");
        match self.db.execute(&sql, &meta_values(meta, meta.update_time)?) {
            Ok(_) => Ok(()),
            Err(StorageError::DuplicateKey(_)) => Err(StorageError::TableExists {
                namespace: meta.namespace.clone(),
                name: meta.name.clone(),
            }),
            Err(e) => Err(e),
        }
    }

    fn get_table_meta(&self, namespace: &str, name: &str) -> Result<Option<TableMeta>> {
        Ok(self
            .select(
                "WHERE f_name = ? AND f_namespace = ?",
                &[name.into(), namespace.into()],
            )?
            .into_iter()
            .next())
    }

    fn delete_table_meta(&self, namespace: &str, name: &str) -> Result<bool> {
        let n = self.db.execute(
            "DELETE FROM t_storage_table_meta WHERE f_name = ? AND f_namespace = ?",
            &[name.into(), namespace.into()],
        )?;
        Ok(n > 0)
    }

    fn list_tables(&self, namespace: Option<&str>) -> Result<Vec<TableMeta>> {
        match namespace {
            Some(ns) => self.select("WHERE f_namespace = ?", &[ns.into()]),
            None => self.select("", &[]),
        }
    }

    fn update_table_meta(&self, meta: &TableMeta) -> Result<()> {
        let mut values = meta_values(meta, now_ms())?;
        // SET every column but the key, then the key for WHERE.
        let key: Vec<SqlValue> = values.drain(..2).collect();
        let set = COLUMNS
            .split(',')
            .map(str::trim)
            .skip(2)
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(", ");
        values.extend(key);
        let n = self.db.execute(
            &format!("UPDATE t_storage_table_meta SET {set} WHERE f_name = ? AND f_namespace = ?"),
            &values,
        )?;
        if n == 0 {
            return Err(StorageError::TableNotFound {
                namespace: meta.namespace.clone(),
                name: meta.name.clone(),
                detail: Some("no meta row to update".into()),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::{test_dbs, TestDb};

    pub(crate) fn sample(ns: &str, name: &str) -> TableMeta {
        TableMeta {
            name: name.into(),
            namespace: ns.into(),
            address: StoreAddress::Local {
                path: PathBuf::from(format!("/x/tables/{ns}/{name}")),
            },
            engine: "LOCAL".into(),
            store_type: "FFRB".into(),
            options: serde_json::json!({}),
            partitions: 4,
            id_delimiter: ",".into(),
            in_serialized: true,
            have_head: true,
            extend_sid: false,
            auto_increasing_sid: false,
            count: 2,
            origin: TableOrigin::Upload,
            disable: false,
            description: String::new(),
            schema: TableSchema {
                header: "y,x0".into(),
                sid: "id".into(),
                extra: Default::default(),
            },
            part_of_data: vec![("1".into(), "0,1.5".into()), ("2".into(), "1,2.5".into())],
            create_time: 1,
            update_time: 1,
        }
    }

    fn store(t: &TestDb) -> SqlMetaStore {
        SqlMetaStore::new(t.db.clone()).unwrap_or_else(|e| panic!("[{}] {e}", t.engine))
    }

    fn names(m: &dyn MetaStore, ns: Option<&str>) -> Vec<String> {
        m.list_tables(ns)
            .unwrap()
            .into_iter()
            .map(|t| format!("{}.{}", t.namespace, t.name))
            .collect()
    }

    #[test]
    fn crud_on_every_engine() {
        for t in test_dbs() {
            let e = t.engine;
            let m = store(&t);
            assert_eq!(m.db().describe(), t.db.describe());
            m.create_table_meta(&sample("ns", "b")).unwrap();
            m.create_table_meta(&sample("ns", "a")).unwrap();
            m.create_table_meta(&sample("other", "a")).unwrap();
            // Case-sensitive keys on both engines (MySQL: utf8mb4_bin).
            m.create_table_meta(&sample("ns", "A")).unwrap();
            let err = m.create_table_meta(&sample("ns", "a")).unwrap_err();
            assert!(
                matches!(&err, StorageError::TableExists { namespace, name } if namespace == "ns" && name == "a"),
                "[{e}] {err}"
            );
            assert_eq!(
                m.get_table_meta("ns", "a").unwrap(),
                Some(sample("ns", "a")),
                "[{e}]"
            );
            assert_eq!(m.get_table_meta("ns", "zz").unwrap(), None, "[{e}]");
            assert_eq!(m.get_table_meta("other", "b").unwrap(), None, "[{e}]");
            assert_eq!(
                names(&m, None),
                ["ns.A", "ns.a", "ns.b", "other.a"],
                "[{e}] ordered by namespace, name, byte-wise"
            );
            assert_eq!(names(&m, Some("ns")), ["ns.A", "ns.a", "ns.b"], "[{e}]");
            assert!(m.list_tables(Some("none")).unwrap().is_empty(), "[{e}]");

            // Update every column.
            let mut u = sample("ns", "b");
            u.count = 99;
            u.partitions = 16;
            u.engine = "OTHER".into();
            u.store_type = "X".into();
            u.options = serde_json::json!({"k": [1, 2.5, "v"]});
            u.id_delimiter = "\t".into();
            u.in_serialized = false;
            u.have_head = false;
            u.extend_sid = true;
            u.auto_increasing_sid = true;
            u.origin = TableOrigin::TableBind;
            u.disable = true;
            u.description = "déjà vu 🦀 'quoted' \"twice\" \\ back".into();
            u.schema.extra.insert("label_name".into(), "y".into());
            u.part_of_data = vec![("k".into(), "x".repeat(100_000))];
            u.create_time = 42;
            u.address = StoreAddress::Local {
                path: PathBuf::from("/elsewhere"),
            };
            let before = now_ms();
            m.update_table_meta(&u).unwrap();
            let got = m.get_table_meta("ns", "b").unwrap().unwrap();
            assert!(got.update_time >= before, "[{e}]");
            assert_eq!(
                got,
                TableMeta {
                    update_time: got.update_time,
                    ..u.clone()
                },
                "[{e}]"
            );
            // Updating to identical values still finds the row.
            m.update_table_meta(&got).unwrap();
            m.update_table_meta(&got).unwrap();
            let err = m.update_table_meta(&sample("ns", "nope")).unwrap_err();
            assert!(
                matches!(err, StorageError::TableNotFound { .. }),
                "[{e}] {err}"
            );
            assert_eq!(m.get_table_meta("ns", "nope").unwrap(), None, "[{e}]");

            // Large counts and negative times survive.
            let mut big = sample("ns", "big");
            big.count = i64::MAX as u64;
            big.partitions = u32::MAX;
            big.create_time = -5;
            m.create_table_meta(&big).unwrap();
            assert_eq!(m.get_table_meta("ns", "big").unwrap(), Some(big), "[{e}]");

            assert!(m.delete_table_meta("ns", "a").unwrap(), "[{e}]");
            assert!(!m.delete_table_meta("ns", "a").unwrap(), "[{e}]");
            assert_eq!(m.get_table_meta("ns", "a").unwrap(), None, "[{e}]");
            assert!(m.get_table_meta("other", "a").unwrap().is_some(), "[{e}]");
            // A deleted name can be created again.
            m.create_table_meta(&sample("ns", "a")).unwrap();
        }
    }

    #[test]
    fn survives_reopen_on_every_engine() {
        for t in test_dbs() {
            let e = t.engine;
            {
                let m = store(&t);
                m.create_table_meta(&sample("ns", "a")).unwrap();
                m.create_table_meta(&sample("ns", "b")).unwrap();
                let mut u = sample("ns", "b");
                u.count = 7;
                m.update_table_meta(&u).unwrap();
            }
            // A new handle (new connection / pool), and creating the table
            // again is harmless.
            let m = SqlMetaStore::new(t.reopen()).unwrap();
            let m2 = SqlMetaStore::new(t.reopen()).unwrap();
            assert_eq!(names(&m, None), ["ns.a", "ns.b"], "[{e}]");
            assert_eq!(
                m.get_table_meta("ns", "b").unwrap().unwrap().count,
                7,
                "[{e}]"
            );
            // Two handles see each other's writes.
            m2.create_table_meta(&sample("ns", "c")).unwrap();
            assert!(m.get_table_meta("ns", "c").unwrap().is_some(), "[{e}]");
            assert!(matches!(
                m.create_table_meta(&sample("ns", "c")),
                Err(StorageError::TableExists { .. })
            ));
            assert!(m2.delete_table_meta("ns", "a").unwrap(), "[{e}]");
            assert!(m.get_table_meta("ns", "a").unwrap().is_none(), "[{e}]");
        }
    }

    #[test]
    fn concurrent_writers_on_every_engine() {
        for t in test_dbs() {
            let e = t.engine;
            let a = store(&t);
            let b = SqlMetaStore::new(t.reopen()).unwrap();
            std::thread::scope(|s| {
                for (h, tag) in [(&a, "x"), (&b, "y"), (&a, "z")] {
                    s.spawn(move || {
                        for i in 0..40 {
                            h.create_table_meta(&sample("conc", &format!("{tag}{i}")))
                                .unwrap();
                        }
                    });
                }
                // Everybody races for the same name: exactly one wins.
                let wins: usize = std::thread::scope(|s2| {
                    let hs: Vec<_> = [&a, &b, &a, &b]
                        .into_iter()
                        .map(|h| s2.spawn(move || h.create_table_meta(&sample("race", "one"))))
                        .collect();
                    hs.into_iter()
                        .map(|j| match j.join().unwrap() {
                            Ok(()) => 1,
                            Err(StorageError::TableExists { .. }) => 0,
                            Err(err) => panic!("[{e}] {err}"),
                        })
                        .sum()
                });
                assert_eq!(wins, 1, "[{e}]");
            });
            assert_eq!(a.list_tables(Some("conc")).unwrap().len(), 120, "[{e}]");
        }
    }

    #[test]
    fn sqlite_file_is_wal_and_legacy_layout_is_converted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.sqlite");
        {
            // The first layout (no f_ prefix), as written by earlier builds.
            let raw = rusqlite::Connection::open(&path).unwrap();
            raw.execute_batch(
                "CREATE TABLE t_storage_table_meta (name TEXT NOT NULL, namespace TEXT NOT NULL,
                 address TEXT NOT NULL, engine TEXT NOT NULL, store_type TEXT NOT NULL,
                 options TEXT NOT NULL, partitions INTEGER NOT NULL, id_delimiter TEXT NOT NULL,
                 in_serialized INTEGER NOT NULL, have_head INTEGER NOT NULL,
                 extend_sid INTEGER NOT NULL, auto_increasing_sid INTEGER NOT NULL,
                 count INTEGER NOT NULL, origin TEXT NOT NULL, disable INTEGER NOT NULL,
                 description TEXT NOT NULL, schema TEXT NOT NULL, part_of_data TEXT NOT NULL,
                 create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
                 PRIMARY KEY (name, namespace));",
            )
            .unwrap();
            let m = sample("ns", "old");
            let mut vals = meta_values(&m, m.update_time).unwrap();
            let vals: Vec<rusqlite::types::Value> = vals
                .drain(..)
                .map(|v| match v {
                    SqlValue::Null => rusqlite::types::Value::Null,
                    SqlValue::Int(i) => rusqlite::types::Value::Integer(i),
                    SqlValue::Real(f) => rusqlite::types::Value::Real(f),
                    SqlValue::Text(s) => rusqlite::types::Value::Text(s),
                })
                .collect();
            raw.execute(
                &format!(
                    "INSERT INTO t_storage_table_meta ({LEGACY_COLUMNS}) VALUES ({})",
                    vec!["?"; 20].join(",")
                ),
                rusqlite::params_from_iter(vals),
            )
            .unwrap();
        }
        let m = SqliteMetaStore::open(&path).unwrap();
        assert_eq!(m.path(), path);
        assert_eq!(
            m.get_table_meta("ns", "old").unwrap(),
            Some(sample("ns", "old"))
        );
        m.create_table_meta(&sample("ns", "new")).unwrap();
        drop(m);
        let raw = rusqlite::Connection::open(&path).unwrap();
        let mode: String = raw
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let m = SqliteMetaStore::open(&path).unwrap();
        assert_eq!(names(&m, None), ["ns.new", "ns.old"]);
    }

    /// Run as a child process by `several_processes_share_one_file`.
    #[test]
    fn child_writer_process() {
        let (Ok(db), Ok(tag)) = (
            std::env::var("FEDFLOW_META_CHILD_DB"),
            std::env::var("FEDFLOW_META_CHILD_TAG"),
        ) else {
            return;
        };
        let m = SqliteMetaStore::open(Path::new(&db)).unwrap();
        for i in 0..100 {
            m.create_table_meta(&sample("procs", &format!("{tag}{i}")))
                .unwrap();
            if i % 10 == 0 {
                assert!(m.list_tables(Some("procs")).unwrap().len() > i);
            }
        }
    }

    #[test]
    fn several_processes_share_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("meta.sqlite");
        let parent = SqliteMetaStore::open(&db).unwrap();
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = ["p", "q", "r"]
            .iter()
            .map(|tag| {
                std::process::Command::new(&exe)
                    .args([
                        "meta::tests::child_writer_process",
                        "--exact",
                        "--test-threads=1",
                    ])
                    .env("FEDFLOW_META_CHILD_DB", &db)
                    .env("FEDFLOW_META_CHILD_TAG", tag)
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for i in 0..100 {
            parent
                .create_table_meta(&sample("procs", &format!("s{i}")))
                .unwrap();
        }
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        assert_eq!(parent.list_tables(Some("procs")).unwrap().len(), 400);
    }
}
