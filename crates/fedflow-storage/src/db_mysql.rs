//! MySQL/MariaDB engine of the SQL layer ([`MysqlDb`]), for cluster
//! deployments where several hosts share one meta database.
//!
//! Behaviour matched to the SQLite engine:
//! * the database is created with `utf8mb4` and the binary collation
//!   (`utf8mb4_bin`), so keys compare and sort byte-wise and case-sensitively,
//!   as in SQLite;
//! * connections ask for `CLIENT_FOUND_ROWS`, so an `UPDATE` reports the rows
//!   it matched (as SQLite does), not only those whose values changed;
//! * a duplicate key (server error 1062) is [`StorageError::DuplicateKey`].
//!
//! Differences: `REPLACE INTO` over an existing row reports 2 rows changed
//! (delete + insert) where SQLite reports 1; DDL inside
//! [`SqlDb::execute_batch`] commits implicitly on MySQL.

use crate::db::{Dialect, SqlDb, SqlRow, SqlValue};
use crate::error::{Result, StorageError};
use mysql::consts::{CapabilityFlags, ColumnType};
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Params, Pool, PoolConstraints, PoolOpts, TxOpts, Value};
use std::time::Duration;

/// Default MySQL port.
pub const DEFAULT_PORT: u16 = 3306;

/// Server error code of a duplicate unique key (`ER_DUP_ENTRY`).
const ER_DUP_ENTRY: u16 = 1062;

/// The parts of a `mysql://user[:password]@host[:port]/database` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlUrl {
    /// User name.
    pub user: String,
    /// Password (empty when none).
    pub password: String,
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database (created if missing).
    pub database: String,
}

impl std::fmt::Debug for MysqlUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn percent_decode(s: &str, url: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad_url(url, "bad percent escape"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad_url(url, "percent escapes are not UTF-8"))
}

fn bad_url(url: &str, reason: &str) -> StorageError {
    StorageError::Meta(format!(
        "bad MySQL URL '{}': {reason} (expected mysql://user[:password]@host[:port]/database)",
        redact(url)
    ))
}

/// The URL with any password replaced by `***` (best effort, for messages
/// about URLs that did not parse).
fn redact(url: &str) -> String {
    let Some(rest) = url.strip_prefix("mysql://") else {
        return url.to_string();
    };
    match (rest.rfind('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("mysql://{}:***{}", &rest[..colon], &rest[at..])
        }
        _ => url.to_string(),
    }
}

impl MysqlUrl {
    /// Parses `mysql://user[:password]@host[:port]/database`. User and
    /// password may be percent-encoded; the database name is limited to
    /// ASCII letters, digits, `_` and `$`.
    pub fn parse(url: &str) -> Result<MysqlUrl> {
        let rest = url
            .strip_prefix("mysql://")
            .ok_or_else(|| bad_url(url, "does not start with mysql://"))?;
        let (auth, hostpart) = rest
            .rsplit_once('@')
            .ok_or_else(|| bad_url(url, "no user@ before the host"))?;
        let (user, password) = match auth.split_once(':') {
            Some((u, p)) => (percent_decode(u, url)?, percent_decode(p, url)?),
            None => (percent_decode(auth, url)?, String::new()),
        };
        if user.is_empty() {
            return Err(bad_url(url, "empty user"));
        }
        let (hostport, database) = hostpart
            .split_once('/')
            .ok_or_else(|| bad_url(url, "no /database after the host"))?;
        let database = database.split('?').next().unwrap_or_default().to_string();
        if database.is_empty() {
            return Err(bad_url(url, "empty database name"));
        }
        if database.len() > 64
            || !database
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        {
            return Err(bad_url(
                url,
                "database name must be 1-64 ASCII letters, digits, '_' or '$'",
            ));
        }
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            // [ipv6]:port
            let (h, after) = h
                .split_once(']')
                .ok_or_else(|| bad_url(url, "unclosed [ in host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad_url(url, "junk after ]")),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad_url(url, "empty host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| bad_url(url, &format!("bad port '{p}'")))?,
            None => DEFAULT_PORT,
        };
        Ok(MysqlUrl {
            user,
            password,
            host,
            port,
            database,
        })
    }

    /// `host:port`.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL without the password.
    pub fn describe(&self) -> String {
        format!(
            "mysql://{}@{}/{}",
            self.user,
            self.host_port(),
            self.database
        )
    }

    /// Connection options, on `database` when given, on the server otherwise.
    fn opts(&self, database: Option<&str>) -> Opts {
        OptsBuilder::new()
            .ip_or_hostname(Some(self.host.clone()))
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass((!self.password.is_empty()).then(|| self.password.clone()))
            .db_name(database.map(str::to_string))
            .prefer_socket(false)
            .tcp_connect_timeout(Some(Duration::from_secs(10)))
            .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
            .init(vec!["SET NAMES utf8mb4"])
            .pool_opts(
                PoolOpts::default().with_constraints(PoolConstraints::new(1, 16).expect("1 <= 16")),
            )
            .into()
    }
}

/// One-line cause of a driver error.
fn cause(e: &mysql::Error) -> String {
    match e {
        mysql::Error::IoError(io) => io.to_string(),
        mysql::Error::MySqlError(m) => format!("ERROR {} ({}): {}", m.code, m.state, m.message),
        mysql::Error::DriverError(d) => d.to_string(),
        mysql::Error::CodecError(c) => c.to_string(),
        mysql::Error::UrlError(u) => u.to_string(),
        other => other.to_string(),
    }
    .replace('\n', " ")
}

/// MySQL/MariaDB engine: a connection pool on one database.
pub struct MysqlDb {
    pool: Pool,
    url: MysqlUrl,
}

impl std::fmt::Debug for MysqlDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MysqlDb({})", self.url.describe())
    }
}

impl MysqlDb {
    /// Connects to `mysql://user[:password]@host[:port]/database`, creating
    /// the database (utf8mb4, binary collation) if it does not exist.
    pub fn open(url: &str) -> Result<MysqlDb> {
        let url = MysqlUrl::parse(url)?;
        let connect_err = |e: mysql::Error| {
            StorageError::Meta(format!(
                "{}: cannot connect to {}: {}",
                url.describe(),
                url.host_port(),
                cause(&e)
            ))
        };
        {
            let mut admin = Conn::new(url.opts(None)).map_err(connect_err)?;
            admin
                .query_drop(format!(
                    "CREATE DATABASE IF NOT EXISTS `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
                    url.database
                ))
                .map_err(|e| {
                    StorageError::Meta(format!(
                        "{}: cannot create database: {}",
                        url.describe(),
                        cause(&e)
                    ))
                })?;
        }
        let pool = Pool::new(url.opts(Some(&url.database))).map_err(connect_err)?;
        tracing::debug!(db = %url.describe(), "opened MySQL database");
        Ok(MysqlDb { pool, url })
    }

    /// The parsed URL.
    pub fn url(&self) -> &MysqlUrl {
        &self.url
    }

    /// Drops a database on the server of `url` (the database part of `url`
    /// is the one dropped). For tests and tooling.
    pub fn drop_database(url: &str) -> Result<()> {
        let url = MysqlUrl::parse(url)?;
        let mut admin = Conn::new(url.opts(None)).map_err(|e| {
            StorageError::Meta(format!(
                "{}: cannot connect to {}: {}",
                url.describe(),
                url.host_port(),
                cause(&e)
            ))
        })?;
        admin
            .query_drop(format!("DROP DATABASE IF EXISTS `{}`", url.database))
            .map_err(|e| StorageError::Meta(format!("{}: {}", url.describe(), cause(&e))))
    }

    fn err(&self, e: mysql::Error) -> StorageError {
        match &e {
            mysql::Error::MySqlError(m) if m.code == ER_DUP_ENTRY => {
                StorageError::DuplicateKey(m.message.clone())
            }
            _ => StorageError::Meta(format!("{}: {}", self.url.describe(), cause(&e))),
        }
    }

    fn conn(&self) -> Result<mysql::PooledConn> {
        self.pool.get_conn().map_err(|e| {
            StorageError::Meta(format!(
                "{}: cannot connect to {}: {}",
                self.url.describe(),
                self.url.host_port(),
                cause(&e)
            ))
        })
    }
}

fn to_mysql(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::NULL,
        SqlValue::Int(i) => Value::Int(*i),
        SqlValue::Real(f) => Value::Double(*f),
        SqlValue::Text(s) => Value::Bytes(s.as_bytes().to_vec()),
    }
}

fn params(p: &[SqlValue]) -> Params {
    Params::Positional(p.iter().map(to_mysql).collect())
}

fn is_int_type(t: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        t,
        MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_YEAR
            | MYSQL_TYPE_BIT
    )
}

fn is_float_type(t: ColumnType) -> bool {
    matches!(
        t,
        ColumnType::MYSQL_TYPE_FLOAT | ColumnType::MYSQL_TYPE_DOUBLE
    )
}

/// Maps a result value: numbers stay numbers; text/bytes of integer and
/// float columns (the text protocol returns everything as bytes) are decoded
/// where they parse; everything else is text.
fn from_mysql(v: Value, t: ColumnType) -> SqlValue {
    match v {
        Value::NULL => SqlValue::Null,
        Value::Int(i) => SqlValue::Int(i),
        Value::UInt(u) => match i64::try_from(u) {
            Ok(i) => SqlValue::Int(i),
            Err(_) => SqlValue::Text(u.to_string()),
        },
        Value::Float(f) => SqlValue::Real(f as f64),
        Value::Double(f) => SqlValue::Real(f),
        Value::Bytes(b) => {
            if t == ColumnType::MYSQL_TYPE_BIT && b.len() <= 8 {
                let mut n: i64 = 0;
                for x in &b {
                    n = (n << 8) | *x as i64;
                }
                return SqlValue::Int(n);
            }
            let s = match String::from_utf8(b) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            if is_int_type(t) {
                if let Ok(i) = s.parse::<i64>() {
                    return SqlValue::Int(i);
                }
            } else if is_float_type(t) {
                if let Ok(f) = s.parse::<f64>() {
                    return SqlValue::Real(f);
                }
            }
            SqlValue::Text(s)
        }
        Value::Date(y, mo, d, h, mi, s, us) => {
            let mut out = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
            if us != 0 {
                out.push_str(&format!(".{us:06}"));
            }
            SqlValue::Text(out)
        }
        Value::Time(neg, days, h, mi, s, us) => {
            let hours = days as u64 * 24 + h as u64;
            let mut out = format!("{}{hours:02}:{mi:02}:{s:02}", if neg { "-" } else { "" });
            if us != 0 {
                out.push_str(&format!(".{us:06}"));
            }
            SqlValue::Text(out)
        }
    }
}

fn to_row(row: mysql::Row) -> SqlRow {
    let types: Vec<ColumnType> = row.columns_ref().iter().map(|c| c.column_type()).collect();
    SqlRow(
        row.unwrap()
            .into_iter()
            .zip(types)
            .map(|(v, t)| from_mysql(v, t))
            .collect(),
    )
}

fn exec_on<Q: Queryable>(q: &mut Q, sql: &str, p: &[SqlValue]) -> mysql::Result<u64> {
    if p.is_empty() {
        // Text protocol: works for every statement (some DDL cannot be prepared).
        let r = q.query_iter(sql)?;
        Ok(r.affected_rows())
    } else {
        let r = q.exec_iter(sql, params(p))?;
        Ok(r.affected_rows())
    }
}

impl SqlDb for MysqlDb {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn describe(&self) -> String {
        self.url.describe()
    }

    fn execute(&self, sql: &str, p: &[SqlValue]) -> Result<u64> {
        let mut c = self.conn()?;
        exec_on(&mut c, sql, p).map_err(|e| self.err(e))
    }

    fn query(&self, sql: &str, p: &[SqlValue]) -> Result<Vec<SqlRow>> {
        let mut c = self.conn()?;
        let rows: Vec<mysql::Row> = if p.is_empty() {
            c.query(sql)
        } else {
            c.exec(sql, params(p))
        }
        .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(to_row).collect())
    }

    fn execute_batch(&self, statements: &[(String, Vec<SqlValue>)]) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c
            .start_transaction(TxOpts::default())
            .map_err(|e| self.err(e))?;
        for (sql, p) in statements {
            // On error `tx` is dropped, which rolls back.
            exec_on(&mut tx, sql, p).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_hides_passwords() {
        let u = MysqlUrl::parse("mysql://root@127.0.0.1:3306/fedflow").unwrap();
        assert_eq!(
            (
                u.user.as_str(),
                u.password.as_str(),
                u.host.as_str(),
                u.port
            ),
            ("root", "", "127.0.0.1", 3306)
        );
        assert_eq!(u.describe(), "mysql://root@127.0.0.1:3306/fedflow");
        let u = MysqlUrl::parse("mysql://fate:p%40ss:w@db.example:3307/fate_flow").unwrap();
        assert_eq!(u.password, "p@ss:w");
        assert_eq!(u.describe(), "mysql://fate@db.example:3307/fate_flow");
        assert!(!format!("{u:?}").contains("p@ss"));
        let u = MysqlUrl::parse("mysql://u@h/d").unwrap();
        assert_eq!(u.port, 3306);
        let u = MysqlUrl::parse("mysql://u@[::1]:3310/d").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 3310));
        for bad in [
            "mysql://h/d",
            "mysql://u@h",
            "mysql://u@h:x/d",
            "mysql://u@h/d-e",
            "mysql://u@/d",
        ] {
            assert!(MysqlUrl::parse(bad).is_err(), "{bad}");
        }
        let e = MysqlUrl::parse("mysql://u:secret@h:x/d")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn unreachable_server_is_one_clear_line() {
        // Port 1 on localhost: nothing listens there.
        let e = MysqlDb::open("mysql://root:topsecret@127.0.0.1:1/fedflow")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "meta store: mysql://root@127.0.0.1:1/fedflow: cannot connect to 127.0.0.1:1: "
            ),
            "{e}"
        );
        assert!(!e.contains('\n') && !e.contains("topsecret"), "{e}");
    }
}
