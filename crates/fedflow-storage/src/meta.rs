//! The table meta store: FATE's `t_storage_table_meta`, behind the
//! [`MetaStore`] trait, with a SQLite implementation ([`SqliteMetaStore`]).

use crate::error::{Result, StorageError};
use crate::table::StoreAddress;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

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

/// Where table metadata is kept. SQLite now; MySQL/PostgreSQL later.
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

/// [`MetaStore`] on a SQLite file (WAL mode, busy timeout), safe to share
/// between threads and between processes.
pub struct SqliteMetaStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteMetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqliteMetaStore({})", self.path.display())
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS t_storage_table_meta (
    name TEXT NOT NULL,
    namespace TEXT NOT NULL,
    address TEXT NOT NULL,
    engine TEXT NOT NULL,
    store_type TEXT NOT NULL,
    options TEXT NOT NULL,
    partitions INTEGER NOT NULL,
    id_delimiter TEXT NOT NULL,
    in_serialized INTEGER NOT NULL,
    have_head INTEGER NOT NULL,
    extend_sid INTEGER NOT NULL,
    auto_increasing_sid INTEGER NOT NULL,
    count INTEGER NOT NULL,
    origin TEXT NOT NULL,
    disable INTEGER NOT NULL,
    description TEXT NOT NULL,
    schema TEXT NOT NULL,
    part_of_data TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    PRIMARY KEY (name, namespace)
);
";

const COLUMNS: &str = "name, namespace, address, engine, store_type, options, partitions, \
    id_delimiter, in_serialized, have_head, extend_sid, auto_increasing_sid, count, origin, \
    disable, description, schema, part_of_data, create_time, update_time";

impl SqliteMetaStore {
    /// Opens (creating if needed) the meta database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| StorageError::io("create dir", dir, e))?;
            }
        }
        let conn = Connection::open(path)
            .map_err(|e| StorageError::Meta(format!("open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        // WAL lets readers proceed while another process writes.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "SQLite meta store is not in WAL mode");
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
        conn.execute_batch(SCHEMA)?;
        tracing::debug!(path = %path.display(), "opened SQLite meta store");
        Ok(SqliteMetaStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| StorageError::Meta("connection lock poisoned".into()))?;
        f(&conn)
    }
}

struct Encoded {
    address: String,
    options: String,
    schema: String,
    part_of_data: String,
}

fn encode_meta(meta: &TableMeta) -> Result<Encoded> {
    let json = |what: &str, r: serde_json::Result<String>| {
        r.map_err(|e| {
            StorageError::Meta(format!(
                "encode {what} of {}.{}: {e}",
                meta.namespace, meta.name
            ))
        })
    };
    Ok(Encoded {
        address: json("address", serde_json::to_string(&meta.address))?,
        options: json("options", serde_json::to_string(&meta.options))?,
        schema: json("schema", serde_json::to_string(&meta.schema))?,
        part_of_data: json("part_of_data", serde_json::to_string(&meta.part_of_data))?,
    })
}

fn row_to_meta(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TableMeta>> {
    let name: String = row.get(0)?;
    let namespace: String = row.get(1)?;
    let address: String = row.get(2)?;
    let options: String = row.get(5)?;
    let origin: String = row.get(13)?;
    let schema: String = row.get(16)?;
    let part_of_data: String = row.get(17)?;
    let partitions: i64 = row.get(6)?;
    let count: i64 = row.get(12)?;
    let engine: String = row.get(3)?;
    let store_type: String = row.get(4)?;
    let id_delimiter: String = row.get(7)?;
    let flags: [bool; 5] = [
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
        row.get(14)?,
    ];
    let description: String = row.get(15)?;
    let create_time: i64 = row.get(18)?;
    let update_time: i64 = row.get(19)?;
    let corrupt = |col: &str, reason: String| StorageError::Corrupt {
        what: format!("meta of {namespace}.{name}, column {col}"),
        reason,
    };
    Ok((|| {
        Ok(TableMeta {
            address: serde_json::from_str(&address)
                .map_err(|e| corrupt("address", e.to_string()))?,
            options: serde_json::from_str(&options)
                .map_err(|e| corrupt("options", e.to_string()))?,
            schema: serde_json::from_str(&schema).map_err(|e| corrupt("schema", e.to_string()))?,
            part_of_data: serde_json::from_str(&part_of_data)
                .map_err(|e| corrupt("part_of_data", e.to_string()))?,
            origin: TableOrigin::parse(&origin)
                .ok_or_else(|| corrupt("origin", format!("unknown origin '{origin}'")))?,
            partitions: u32::try_from(partitions)
                .map_err(|_| corrupt("partitions", partitions.to_string()))?,
            count: u64::try_from(count).map_err(|_| corrupt("count", count.to_string()))?,
            name: name.clone(),
            namespace: namespace.clone(),
            engine,
            store_type,
            id_delimiter,
            in_serialized: flags[0],
            have_head: flags[1],
            extend_sid: flags[2],
            auto_increasing_sid: flags[3],
            disable: flags[4],
            description,
            create_time,
            update_time,
        })
    })())
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

impl MetaStore for SqliteMetaStore {
    fn create_table_meta(&self, meta: &TableMeta) -> Result<()> {
        let enc = encode_meta(meta)?;
        self.with_conn(|c| {
            let sql = format!(
                "INSERT INTO t_storage_table_meta ({COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
            );
            c.execute(
                &sql,
                params![
                    meta.name,
                    meta.namespace,
                    enc.address,
                    meta.engine,
                    meta.store_type,
                    enc.options,
                    meta.partitions as i64,
                    meta.id_delimiter,
                    meta.in_serialized,
                    meta.have_head,
                    meta.extend_sid,
                    meta.auto_increasing_sid,
                    meta.count as i64,
                    meta.origin.as_str(),
                    meta.disable,
                    meta.description,
                    enc.schema,
                    enc.part_of_data,
                    meta.create_time,
                    meta.update_time,
                ],
            )
            .map_err(|e| {
                if is_constraint(&e) {
                    StorageError::TableExists {
                        namespace: meta.namespace.clone(),
                        name: meta.name.clone(),
                    }
                } else {
                    e.into()
                }
            })?;
            Ok(())
        })
    }

    fn get_table_meta(&self, namespace: &str, name: &str) -> Result<Option<TableMeta>> {
        self.with_conn(|c| {
            let sql = format!(
                "SELECT {COLUMNS} FROM t_storage_table_meta WHERE name = ?1 AND namespace = ?2"
            );
            c.query_row(&sql, params![name, namespace], row_to_meta)
                .optional()?
                .transpose()
        })
    }

    fn delete_table_meta(&self, namespace: &str, name: &str) -> Result<bool> {
        self.with_conn(|c| {
            let n = c.execute(
                "DELETE FROM t_storage_table_meta WHERE name = ?1 AND namespace = ?2",
                params![name, namespace],
            )?;
            Ok(n > 0)
        })
    }

    fn list_tables(&self, namespace: Option<&str>) -> Result<Vec<TableMeta>> {
        self.with_conn(|c| {
            let mut out = Vec::new();
            match namespace {
                Some(ns) => {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM t_storage_table_meta WHERE namespace = ?1 \
                         ORDER BY namespace, name"
                    );
                    let mut st = c.prepare(&sql)?;
                    for r in st.query_map(params![ns], row_to_meta)? {
                        out.push(r??);
                    }
                }
                None => {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM t_storage_table_meta ORDER BY namespace, name"
                    );
                    let mut st = c.prepare(&sql)?;
                    for r in st.query_map([], row_to_meta)? {
                        out.push(r??);
                    }
                }
            }
            Ok(out)
        })
    }

    fn update_table_meta(&self, meta: &TableMeta) -> Result<()> {
        let enc = encode_meta(meta)?;
        self.with_conn(|c| {
            let n = c.execute(
                "UPDATE t_storage_table_meta SET address = ?3, engine = ?4, store_type = ?5, \
                 options = ?6, partitions = ?7, id_delimiter = ?8, in_serialized = ?9, \
                 have_head = ?10, extend_sid = ?11, auto_increasing_sid = ?12, count = ?13, \
                 origin = ?14, disable = ?15, description = ?16, schema = ?17, \
                 part_of_data = ?18, create_time = ?19, update_time = ?20 \
                 WHERE name = ?1 AND namespace = ?2",
                params![
                    meta.name,
                    meta.namespace,
                    enc.address,
                    meta.engine,
                    meta.store_type,
                    enc.options,
                    meta.partitions as i64,
                    meta.id_delimiter,
                    meta.in_serialized,
                    meta.have_head,
                    meta.extend_sid,
                    meta.auto_increasing_sid,
                    meta.count as i64,
                    meta.origin.as_str(),
                    meta.disable,
                    meta.description,
                    enc.schema,
                    enc.part_of_data,
                    meta.create_time,
                    now_ms(),
                ],
            )?;
            if n == 0 {
                return Err(StorageError::TableNotFound {
                    namespace: meta.namespace.clone(),
                    name: meta.name.clone(),
                    detail: Some("no meta row to update".into()),
                });
            }
            Ok(())
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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

    #[test]
    fn crud_and_persistence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.sqlite");
        {
            let m = SqliteMetaStore::open(&path).unwrap();
            m.create_table_meta(&sample("ns", "a")).unwrap();
            m.create_table_meta(&sample("ns", "b")).unwrap();
            m.create_table_meta(&sample("other", "a")).unwrap();
            assert!(matches!(
                m.create_table_meta(&sample("ns", "a")),
                Err(StorageError::TableExists { .. })
            ));
            assert_eq!(
                m.get_table_meta("ns", "a").unwrap(),
                Some(sample("ns", "a"))
            );
            assert_eq!(m.get_table_meta("ns", "zz").unwrap(), None);
            let mut u = sample("ns", "b");
            u.count = 99;
            u.schema.extra.insert("label_name".into(), "y".into());
            m.update_table_meta(&u).unwrap();
            let got = m.get_table_meta("ns", "b").unwrap().unwrap();
            assert_eq!(got.count, 99);
            assert_eq!(got.schema.extra["label_name"], "y");
            assert!(got.update_time > 1);
            assert!(matches!(
                m.update_table_meta(&sample("ns", "nope")),
                Err(StorageError::TableNotFound { .. })
            ));
        }
        // Reopen: everything persisted, and the file is in WAL mode.
        let raw = Connection::open(&path).unwrap();
        let mode: String = raw
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let m = SqliteMetaStore::open(&path).unwrap();
        let all: Vec<_> = m
            .list_tables(None)
            .unwrap()
            .into_iter()
            .map(|t| format!("{}.{}", t.namespace, t.name))
            .collect();
        assert_eq!(all, ["ns.a", "ns.b", "other.a"]);
        assert_eq!(m.list_tables(Some("ns")).unwrap().len(), 2);
        assert_eq!(m.get_table_meta("ns", "b").unwrap().unwrap().count, 99);
        assert!(m.delete_table_meta("ns", "a").unwrap());
        assert!(!m.delete_table_meta("ns", "a").unwrap());
    }

    #[test]
    fn two_handles_see_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.sqlite");
        let a = SqliteMetaStore::open(&path).unwrap();
        let b = SqliteMetaStore::open(&path).unwrap();
        a.create_table_meta(&sample("ns", "t1")).unwrap();
        assert!(b.get_table_meta("ns", "t1").unwrap().is_some());
        b.create_table_meta(&sample("ns", "t2")).unwrap();
        assert_eq!(a.list_tables(Some("ns")).unwrap().len(), 2);
        assert!(b.delete_table_meta("ns", "t1").unwrap());
        assert!(a.get_table_meta("ns", "t1").unwrap().is_none());
        // Concurrent writers from threads through separate handles.
        std::thread::scope(|s| {
            for (h, tag) in [(&a, "x"), (&b, "y")] {
                s.spawn(move || {
                    for i in 0..50 {
                        h.create_table_meta(&sample("conc", &format!("{tag}{i}")))
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(a.list_tables(Some("conc")).unwrap().len(), 100);
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
