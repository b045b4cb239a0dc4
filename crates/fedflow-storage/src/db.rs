//! A small, portable SQL layer for fedflow's metadata (tables, jobs, tasks,
//! models): one trait, [`SqlDb`], with a SQLite engine (the embedded default)
//! and a MySQL/MariaDB engine (cluster deployments), chosen by URL.
//!
//! SQL written against it uses `?` placeholders and a portable subset of DDL:
//! `VARCHAR(n)` (n ≤ 191 for keys), `BIGINT`, `DOUBLE`, `LONGTEXT`,
//! `PRIMARY KEY (…)`, `CREATE TABLE IF NOT EXISTS`, `REPLACE INTO` for
//! upserts; no AUTOINCREMENT.

use crate::error::{Result, StorageError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// NULL.
    Null,
    /// An integer (also booleans: 0/1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}
impl From<u64> for SqlValue {
    fn from(v: u64) -> Self {
        SqlValue::Int(v as i64)
    }
}
impl From<u32> for SqlValue {
    fn from(v: u32) -> Self {
        SqlValue::Int(v as i64)
    }
}
impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Int(v as i64)
    }
}
impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        SqlValue::Real(v)
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl From<&String> for SqlValue {
    fn from(v: &String) -> Self {
        SqlValue::Text(v.clone())
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(SqlValue::Null)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlRow(pub Vec<SqlValue>);

impl SqlRow {
    fn at(&self, i: usize) -> Result<&SqlValue> {
        self.0
            .get(i)
            .ok_or_else(|| StorageError::Meta(format!("row has no column {i}")))
    }

    /// Column `i` as an integer (NULL is an error).
    pub fn i64(&self, i: usize) -> Result<i64> {
        match self.at(i)? {
            SqlValue::Int(v) => Ok(*v),
            SqlValue::Real(v) => Ok(*v as i64),
            SqlValue::Text(s) => s
                .parse()
                .map_err(|_| StorageError::Meta(format!("column {i}: '{s}' is not an integer"))),
            SqlValue::Null => Err(StorageError::Meta(format!("column {i} is NULL"))),
        }
    }

    /// Column `i` as an integer, NULL as `None`.
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            SqlValue::Null => Ok(None),
            _ => self.i64(i).map(Some),
        }
    }

    /// Column `i` as a float.
    pub fn f64(&self, i: usize) -> Result<f64> {
        match self.at(i)? {
            SqlValue::Int(v) => Ok(*v as f64),
            SqlValue::Real(v) => Ok(*v),
            SqlValue::Text(s) => s
                .parse()
                .map_err(|_| StorageError::Meta(format!("column {i}: '{s}' is not a number"))),
            SqlValue::Null => Err(StorageError::Meta(format!("column {i} is NULL"))),
        }
    }

    /// Column `i` as a boolean (integer 0/1).
    pub fn bool(&self, i: usize) -> Result<bool> {
        Ok(self.i64(i)? != 0)
    }

    /// Column `i` as text (NULL is an error).
    pub fn text(&self, i: usize) -> Result<String> {
        match self.at(i)? {
            SqlValue::Text(s) => Ok(s.clone()),
            SqlValue::Int(v) => Ok(v.to_string()),
            SqlValue::Real(v) => Ok(v.to_string()),
            SqlValue::Null => Err(StorageError::Meta(format!("column {i} is NULL"))),
        }
    }

    /// Column `i` as text, NULL as `None`.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            SqlValue::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
}

/// Which SQL engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (embedded).
    Sqlite,
    /// MySQL or MariaDB.
    Mysql,
}

/// A SQL database holding fedflow's metadata. Implementations are safe to
/// share between threads; each call is its own transaction unless batched.
pub trait SqlDb: Send + Sync {
    /// The engine.
    fn dialect(&self) -> Dialect;
    /// Where it is (passwords removed), for messages.
    fn describe(&self) -> String;
    /// Runs one statement; returns the number of rows changed. A unique-key
    /// violation is [`StorageError::DuplicateKey`].
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64>;
    /// Runs a query.
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>>;
    /// Runs statements in one transaction: all or nothing.
    fn execute_batch(&self, statements: &[(String, Vec<SqlValue>)]) -> Result<()>;
}

/// Opens a database by URL: `sqlite:PATH`, `sqlite://PATH` or a bare path for
/// SQLite; `mysql://user[:password]@host[:port]/database` for MySQL/MariaDB
/// (the database is created if missing).
pub fn open_db(url: &str) -> Result<Arc<dyn SqlDb>> {
    if let Some(rest) = url.strip_prefix("mysql://") {
        return open_mysql(rest, url);
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Ok(Arc::new(SqliteDb::open(Path::new(path))?))
}

#[cfg(feature = "mysql")]
fn open_mysql(_rest: &str, url: &str) -> Result<Arc<dyn SqlDb>> {
    Ok(Arc::new(crate::db_mysql::MysqlDb::open(url)?))
}

#[cfg(not(feature = "mysql"))]
fn open_mysql(_rest: &str, url: &str) -> Result<Arc<dyn SqlDb>> {
    Err(StorageError::Meta(format!(
        "{url}: this build has no MySQL support (feature 'mysql')"
    )))
}

/// SQLite engine: one connection behind a mutex, WAL mode, 30 s busy timeout
/// (several processes may share the file).
pub struct SqliteDb {
    conn: Mutex<rusqlite::Connection>,
    path: PathBuf,
}

impl SqliteDb {
    /// Opens (creating if needed) a SQLite database file.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| StorageError::io("create dir", dir, e))?;
            }
        }
        let conn = rusqlite::Connection::open(path)
            .map_err(|e| StorageError::Meta(format!("open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
        Ok(SqliteDb {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut rusqlite::Connection) -> Result<T>) -> Result<T> {
        let mut c = self
            .conn
            .lock()
            .map_err(|_| StorageError::Meta("SQLite connection lock poisoned".into()))?;
        f(&mut c)
    }
}

fn to_sqlite(v: &SqlValue) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Int(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
    }
}

fn sqlite_err(e: rusqlite::Error) -> StorageError {
    match &e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StorageError::DuplicateKey(msg.clone().unwrap_or_else(|| e.to_string()))
        }
        _ => StorageError::Meta(e.to_string()),
    }
}

impl SqlDb for SqliteDb {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        self.with(|c| {
            let vals: Vec<_> = params.iter().map(to_sqlite).collect();
            c.execute(sql, rusqlite::params_from_iter(vals))
                .map(|n| n as u64)
                .map_err(sqlite_err)
        })
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>> {
        self.with(|c| {
            let vals: Vec<_> = params.iter().map(to_sqlite).collect();
            let mut st = c.prepare(sql).map_err(sqlite_err)?;
            let n = st.column_count();
            let rows = st
                .query_map(rusqlite::params_from_iter(vals), |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => SqlValue::Null,
                                rusqlite::types::ValueRef::Integer(v) => SqlValue::Int(v),
                                rusqlite::types::ValueRef::Real(v) => SqlValue::Real(v),
                                rusqlite::types::ValueRef::Text(t) => {
                                    SqlValue::Text(String::from_utf8_lossy(t).into_owned())
                                }
                                rusqlite::types::ValueRef::Blob(b) => {
                                    SqlValue::Text(String::from_utf8_lossy(b).into_owned())
                                }
                            })
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map(SqlRow)
                })
                .map_err(sqlite_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sqlite_err)
        })
    }

    fn execute_batch(&self, statements: &[(String, Vec<SqlValue>)]) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction().map_err(sqlite_err)?;
            for (sql, params) in statements {
                let vals: Vec<_> = params.iter().map(to_sqlite).collect();
                tx.execute(sql, rusqlite::params_from_iter(vals))
                    .map_err(sqlite_err)?;
            }
            tx.commit().map_err(sqlite_err)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::test_dbs;

    const DDL: &str = "CREATE TABLE IF NOT EXISTS t (k VARCHAR(191) NOT NULL, n BIGINT, \
                       x DOUBLE, s LONGTEXT, PRIMARY KEY (k))";

    fn ins(k: &str, n: i64) -> (String, Vec<SqlValue>) {
        (
            "INSERT INTO t (k, n) VALUES (?, ?)".to_string(),
            vec![k.into(), n.into()],
        )
    }

    #[test]
    fn round_trip_batch_and_duplicates_on_every_engine() {
        for t in test_dbs() {
            let (e, db) = (t.engine, &t.db);
            db.execute(DDL, &[]).unwrap();
            db.execute(DDL, &[]).unwrap();
            assert_eq!(
                db.execute(
                    "INSERT INTO t (k, n, x, s) VALUES (?, ?, ?, ?)",
                    &["a".into(), 1i64.into(), 0.5.into(), SqlValue::Null],
                )
                .unwrap(),
                1,
                "[{e}]"
            );
            let err = db
                .execute(
                    "INSERT INTO t (k, n) VALUES (?, ?)",
                    &["a".into(), 2i64.into()],
                )
                .unwrap_err();
            assert!(matches!(err, StorageError::DuplicateKey(_)), "[{e}] {err}");

            // A batch failing on its last statement leaves nothing behind.
            let bad = vec![ins("b", 2), ins("c", 3), ins("a", 4)];
            let err = db.execute_batch(&bad).unwrap_err();
            assert!(matches!(err, StorageError::DuplicateKey(_)), "[{e}] {err}");
            // ... and so does a batch failing on a broken statement.
            let bad = vec![
                ins("b", 2),
                ("INSERT INTO nowhere VALUES (1)".into(), vec![]),
            ];
            assert!(db.execute_batch(&bad).is_err(), "[{e}]");
            let rows = db
                .query("SELECT k, n, x, s FROM t ORDER BY k", &[])
                .unwrap();
            assert_eq!(rows.len(), 1, "[{e}] the failed batches left nothing");
            assert_eq!(rows[0].text(0).unwrap(), "a", "[{e}]");
            assert_eq!(rows[0].i64(1).unwrap(), 1, "[{e}]");
            assert_eq!(rows[0].f64(2).unwrap(), 0.5, "[{e}]");
            assert_eq!(rows[0].opt_text(3).unwrap(), None, "[{e}]");
            // A good batch commits everything.
            db.execute_batch(&[ins("b", 2), ins("c", 3)]).unwrap();
            let rows = db.query("SELECT COUNT(*) FROM t", &[]).unwrap();
            assert_eq!(rows[0].i64(0).unwrap(), 3, "[{e}]");

            // REPLACE INTO upserts (rows changed differ: 1 on SQLite, 2 on MySQL).
            db.execute(
                "REPLACE INTO t (k, n) VALUES (?, ?)",
                &["a".into(), 9i64.into()],
            )
            .unwrap();
            assert_eq!(
                db.query("SELECT n FROM t WHERE k = ?", &["a".into()])
                    .unwrap()[0]
                    .i64(0)
                    .unwrap(),
                9,
                "[{e}]"
            );
            // UPDATE counts matched rows, even when nothing changes.
            let same = [
                "UPDATE t SET n = ? WHERE k = ?",
                "UPDATE t SET n = ? WHERE k = ?",
            ];
            for sql in same {
                assert_eq!(
                    db.execute(sql, &[9i64.into(), "a".into()]).unwrap(),
                    1,
                    "[{e}]"
                );
            }
            assert_eq!(
                db.execute("DELETE FROM t WHERE k = ?", &["zz".into()])
                    .unwrap(),
                0,
                "[{e}]"
            );
        }
    }

    #[test]
    fn values_map_both_ways_on_every_engine() {
        for t in test_dbs() {
            let (e, db) = (t.engine, &t.db);
            db.execute(DDL, &[]).unwrap();
            let cases: Vec<(&str, SqlValue, SqlValue, SqlValue)> = vec![
                ("min", i64::MIN.into(), (-1.5e300).into(), "007".into()),
                ("max", i64::MAX.into(), f64::MIN_POSITIVE.into(), "".into()),
                ("zero", 0i64.into(), 0.0.into(), "ünï 🦀 \n'\"\\".into()),
                ("nulls", SqlValue::Null, SqlValue::Null, SqlValue::Null),
                ("big", 1i64.into(), 0.1.into(), "x".repeat(1 << 20).into()),
            ];
            for (k, n, x, s) in &cases {
                db.execute(
                    "INSERT INTO t (k, n, x, s) VALUES (?, ?, ?, ?)",
                    &[(*k).into(), n.clone(), x.clone(), s.clone()],
                )
                .unwrap();
            }
            // With parameters (binary protocol on MySQL) and without (text
            // protocol: everything arrives as bytes and is decoded by type).
            for (k, n, x, s) in &cases {
                let with = db
                    .query("SELECT k, n, x, s FROM t WHERE k = ?", &[(*k).into()])
                    .unwrap();
                let without = db
                    .query(&format!("SELECT k, n, x, s FROM t WHERE k = '{k}'"), &[])
                    .unwrap();
                for rows in [with, without] {
                    assert_eq!(
                        rows,
                        vec![SqlRow(vec![(*k).into(), n.clone(), x.clone(), s.clone()])],
                        "[{e}] {k}"
                    );
                }
            }
            let agg = db
                .query("SELECT COUNT(*), SUM(n IS NULL) FROM t", &[])
                .unwrap();
            assert_eq!(agg[0].i64(0).unwrap(), 5, "[{e}]");
            assert_eq!(agg[0].i64(1).unwrap(), 1, "[{e}]");
        }
    }
}
