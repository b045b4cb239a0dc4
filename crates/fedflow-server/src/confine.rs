//! Where a request may make this server read or write files: the `[paths]`
//! section of the configuration, applied through
//! [`fedflow_storage::confine`] (which owns the rule).
//!
//! ```toml
//! [paths]
//! # Directories a JSON upload's server-side "file" may be read from
//! # (fate-client's use_local_data = 0). Empty (the default): the server
//! # reads no file of its own; clients send the file (multipart, fate-client's
//! # default use_local_data = 1).
//! server_file_roots = ["/data/fate/examples/data"]
//! # Roots a LOCALFS/HDFS upload's storage_address may point under, besides
//! # the path root ($FEDFLOW_STORAGE_PATH_ROOT, default <data_dir>/localfs).
//! storage_roots = ["hdfs://namenode:8020/fate"]
//! # Where /v1/data/download writes output_path (relative paths land here,
//! # absolute ones must lie under it). Default <data_dir>/export.
//! export_dir = "/var/lib/fedflow/export"
//! ```

use fedflow_storage::confine::{canonical_roots, confine_path};
use fedflow_storage::StorageError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The `[paths]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathsConfig {
    /// Directories a server-side upload `file` may lie under (empty: none).
    #[serde(default)]
    pub server_file_roots: Vec<PathBuf>,
    /// Extra roots for `storage_address` (URIs or absolute paths).
    #[serde(default)]
    pub storage_roots: Vec<String>,
    /// The export area of downloads; default `<data_dir>/export`.
    #[serde(default)]
    pub export_dir: Option<PathBuf>,
}

/// The resolved roots (canonical), built once at start-up.
#[derive(Debug, Clone)]
pub struct Confinement {
    file_roots: Vec<PathBuf>,
    export: Vec<PathBuf>,
    /// Where `storage_address` may point (the path root first).
    pub address_roots: Vec<String>,
}

impl Confinement {
    /// Resolves `[paths]` for a server with data dir `data_dir` and path
    /// root `path_root`; creates the export directory.
    pub fn new(cfg: &PathsConfig, data_dir: &Path, path_root: &str) -> Result<Self, StorageError> {
        let existing: Vec<PathBuf> = cfg
            .server_file_roots
            .iter()
            .filter(|r| {
                let ok = r.is_dir();
                if !ok {
                    tracing::warn!(root = %r.display(), "paths.server_file_roots: not a directory, ignored");
                }
                ok
            })
            .cloned()
            .collect();
        let file_roots = existing
            .iter()
            .map(|r| r.canonicalize().map_err(|e| fedflow_storage_io(r, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let export_dir = cfg
            .export_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("export"));
        let export = canonical_roots(&[export_dir])?;
        let mut address_roots = vec![path_root.to_string()];
        for r in &cfg.storage_roots {
            address_roots.push(fedflow_storage::path::to_uri(r)?);
        }
        Ok(Confinement {
            file_roots,
            export,
            address_roots,
        })
    }

    /// The server-side file a JSON upload names (field `file`), when the
    /// configuration allows server-side files at all and it lies under one
    /// of `server_file_roots`.
    pub fn upload_file(&self, file: &str) -> Result<PathBuf, String> {
        if self.file_roots.is_empty() {
            return Err(format!(
                "upload conf: field 'file': this server reads no files of its own ('{}' was given): send the file with the request (multipart field 'file'; fate-client does with use_local_data 1, its default), or list its directory in the server's [paths] server_file_roots",
                file.escape_debug()
            ));
        }
        let path = Path::new(file);
        if !path.is_absolute() {
            // Relative names are looked up in each root in turn.
            for root in &self.file_roots {
                if let Ok(p) = confine_path("file", path, std::slice::from_ref(root)) {
                    if p.is_file() {
                        return Ok(p);
                    }
                }
            }
        }
        confine_path("file", path, &self.file_roots).map_err(|e| format!("upload conf: {e}"))
    }

    /// Where a download's `output_path` goes: under the export directory.
    pub fn export_path(&self, output_path: &str) -> Result<PathBuf, String> {
        let p = confine_path("output_path", Path::new(output_path), &self.export)
            .map_err(|e| format!("{e}: a relative output_path is written there"))?;
        if p == self.export[0] || p.is_dir() {
            return Err(format!(
                "field 'output_path': '{}' is a directory, expected a file name",
                output_path.escape_debug()
            ));
        }
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("field 'output_path': {}: {e}", parent.display()))?;
        }
        Ok(p)
    }

    /// The export directory.
    pub fn export_dir(&self) -> &Path {
        &self.export[0]
    }
}

fn fedflow_storage_io(p: &Path, e: std::io::Error) -> StorageError {
    StorageError::Conf {
        field: "paths.server_file_roots".into(),
        reason: format!("{}: {e}", p.display()),
    }
}

/// Removes what interrupted uploads left in `<data_dir>/upload` (each
/// upload's copy lives in its own temporary directory there, removed when
/// the upload ends; a killed server leaves them behind). Returns the number
/// of entries removed.
pub fn clean_upload_temp(data_dir: &Path) -> usize {
    let dir = data_dir.join("upload");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let p = e.path();
        let r = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        match r {
            Ok(()) => n += 1,
            Err(err) => {
                tracing::warn!(path = %p.display(), error = %err, "could not remove an interrupted upload")
            }
        }
    }
    if n > 0 {
        tracing::info!(entries = n, dir = %dir.display(), "removed interrupted uploads");
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_refuse_server_files_and_confine_exports() {
        let d = tempfile::tempdir().unwrap();
        let c = Confinement::new(
            &PathsConfig::default(),
            d.path(),
            &format!("file://{}/localfs", d.path().display()),
        )
        .unwrap();
        let e = c.upload_file("/etc/passwd").unwrap_err();
        assert!(
            e.contains("field 'file'") && e.contains("server_file_roots"),
            "{e}"
        );
        let out = c.export_path("sub/out.csv").unwrap();
        assert!(out.starts_with(c.export_dir()));
        for bad in ["/etc/passwd", "../../x.csv", ""] {
            let e = c.export_path(bad).unwrap_err();
            assert!(e.contains("'output_path'"), "{bad}: {e}");
        }
    }

    #[test]
    fn configured_roots_allow_only_what_is_under_them() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("a.csv"), "id,x\n1,2\n").unwrap();
        let cfg = PathsConfig {
            server_file_roots: vec![data.clone()],
            ..PathsConfig::default()
        };
        let c = Confinement::new(&cfg, d.path(), "file:///tmp/x").unwrap();
        assert!(c.upload_file("a.csv").unwrap().ends_with("data/a.csv"));
        assert!(c.upload_file(data.join("a.csv").to_str().unwrap()).is_ok());
        assert!(c.upload_file("/etc/passwd").is_err());
        assert!(c.upload_file("../data/a.csv").is_err());
    }

    #[test]
    fn interrupted_uploads_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let up = d.path().join("upload");
        std::fs::create_dir_all(up.join(".tmpABC")).unwrap();
        std::fs::write(up.join(".tmpABC/big.csv"), vec![b'x'; 1000]).unwrap();
        assert_eq!(clean_upload_temp(d.path()), 1);
        assert_eq!(std::fs::read_dir(&up).unwrap().count(), 0);
    }
}
