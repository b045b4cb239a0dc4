//! Test helper: the same tests on every SQL engine.
//!
//! [`test_dbs`] yields a SQLite database in a temporary directory and a
//! MariaDB database `fedflow_test_{pid}_{n}` on 127.0.0.1:3306 (root, no
//! password; override with `FEDFLOW_TEST_MYSQL_SERVER=mysql://user[:pw]@host:port`),
//! dropped when the [`TestDb`] is dropped. When the server is not reachable
//! the helper starts MariaDB (`start-stop-daemon … /usr/sbin/mariadbd`) and
//! waits up to 30 s; if it still cannot connect it panics: the MariaDB half
//! of the tests is never skipped silently.

use crate::db::{open_db, SqlDb};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One engine's database for a test.
pub(crate) struct TestDb {
    /// "sqlite" or "mariadb", for assertion messages.
    pub engine: &'static str,
    /// The URL to reopen it with.
    pub url: String,
    /// The open database.
    pub db: Arc<dyn SqlDb>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A second, independent handle on the same database.
    pub fn reopen(&self) -> Arc<dyn SqlDb> {
        open_db(&self.url).unwrap_or_else(|e| panic!("[{}] reopen {}: {e}", self.engine, self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        #[cfg(feature = "mysql")]
        if self.engine == "mariadb" {
            if let Err(e) = crate::db_mysql::MysqlDb::drop_database(&self.url) {
                eprintln!("warning: could not drop test database {}: {e}", self.url);
            }
        }
    }
}

fn server() -> String {
    std::env::var("FEDFLOW_TEST_MYSQL_SERVER")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

fn reachable(host_port: &str) -> bool {
    host_port
        .to_socket_addrs()
        .map(|mut addrs| {
            addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok())
        })
        .unwrap_or(false)
}

/// Makes sure the MariaDB server answers on its port, starting it once if
/// not; panics with a clear message when that fails.
fn ensure_mariadb(server: &str) {
    // None: not checked yet; Some(Err): failed before (fail at once again).
    static CHECKED: Mutex<Option<Result<(), String>>> = Mutex::new(None);
    let mut checked = CHECKED.lock().unwrap_or_else(|p| p.into_inner());
    match &*checked {
        Some(Ok(())) => return,
        Some(Err(msg)) => panic!("{msg}"),
        None => {}
    }
    let host_port = server
        .rsplit_once('@')
        .map(|(_, h)| h.trim_end_matches('/').to_string())
        .unwrap_or_else(|| {
            panic!("FEDFLOW_TEST_MYSQL_SERVER '{server}' is not mysql://user@host:port")
        });
    if !reachable(&host_port) {
        eprintln!("MariaDB not reachable on {host_port}: starting /usr/sbin/mariadbd");
        let status = std::process::Command::new("start-stop-daemon")
            .args([
                "--start",
                "--oknodo",
                "--background",
                "--exec",
                "/usr/sbin/mariadbd",
            ])
            .status();
        if let Err(e) = &status {
            eprintln!("start-stop-daemon failed to run: {e}");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while !reachable(&host_port) {
            if Instant::now() > deadline {
                let msg = format!(
                    "MariaDB is required by the meta-store tests and is not reachable on \
                     {host_port} (tried to start it with start-stop-daemon: {status:?}); \
                     start it (e.g. `start-stop-daemon --start --oknodo --background --exec \
                     /usr/sbin/mariadbd`) or set FEDFLOW_TEST_MYSQL_SERVER"
                );
                *checked = Some(Err(msg.clone()));
                panic!("{msg}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    *checked = Some(Ok(()));
}

/// A fresh MariaDB database URL (`fedflow_test_{pid}_{n}`), the server
/// started if needed.
pub(crate) fn mariadb_url() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let server = server();
    ensure_mariadb(&server);
    format!(
        "{}/fedflow_test_{}_{}",
        server.trim_end_matches('/'),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh MariaDB database, dropped at the end of the test.
pub(crate) fn mariadb() -> TestDb {
    let url = mariadb_url();
    let db = open_db(&url).unwrap_or_else(|e| {
        panic!("MariaDB is required by the meta-store tests and cannot be used: {e}")
    });
    TestDb {
        engine: "mariadb",
        url,
        db,
        _dir: None,
    }
}

/// A fresh SQLite database in a temporary directory.
pub(crate) fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("meta.sqlite").display());
    let db = open_db(&url).unwrap();
    TestDb {
        engine: "sqlite",
        url,
        db,
        _dir: Some(dir),
    }
}

/// One fresh database per engine: SQLite, then MariaDB.
pub(crate) fn test_dbs() -> Vec<TestDb> {
    vec![sqlite(), mariadb()]
}
