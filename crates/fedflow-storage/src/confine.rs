//! Confinement: the one rule for every file path and storage address that a
//! request controls.
//!
//! A server resolves a client-given path (an upload's server-side `file`, a
//! download's `output_path`, a path table's `storage_address`) through
//! [`confine_path`] / [`confine_uri`] against the roots its configuration
//! allows, and deletes or replaces a path table's directory only when
//! [`is_table_dir`] says fedflow (or Spark, writing a fedflow table) made it.
//! Names that become path components (tables, namespaces, job ids,
//! components, roles, party ids) are checked by [`fedflow_core::names`]
//! before they reach a path.
//!
//! The checks:
//! * a relative path is taken relative to the first root; `..` components
//!   are refused outright (no lexical games);
//! * the deepest existing ancestor is canonicalised (symbolic links
//!   resolved), the rest appended, and the result must lie under one of the
//!   canonicalised roots;
//! * a URI with a scheme other than `file://` must start with one of the
//!   root URIs (segment-wise) and contain no `.`/`..` segment.

use crate::error::{Result, StorageError};
use std::path::{Component, Path, PathBuf};

fn confined(field: &str, shown: impl std::fmt::Display, roots: &str) -> StorageError {
    StorageError::Confined {
        field: field.to_string(),
        path: shown.to_string(),
        allowed: roots.to_string(),
    }
}

fn show_roots(roots: &[PathBuf]) -> String {
    if roots.is_empty() {
        return "(no directory is allowed here)".into();
    }
    roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Canonicalises `p`'s deepest existing ancestor and appends the rest, so a
/// path that does not exist yet is judged by where it would be created.
fn canonical_prefix(p: &Path) -> std::io::Result<PathBuf> {
    let mut existing = p.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(c) => {
                let mut out = c;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                return Ok(out);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some(name) = existing.file_name().map(|s| s.to_os_string()) else {
                    return Err(e);
                };
                rest.push(name);
                if !existing.pop() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Canonical forms of `roots` (roots that do not exist yet are created, so
/// that they can be canonicalised and then written into).
pub fn canonical_roots(roots: &[PathBuf]) -> Result<Vec<PathBuf>> {
    roots
        .iter()
        .map(|r| {
            std::fs::create_dir_all(r).map_err(|e| StorageError::io("create dir", r, e))?;
            r.canonicalize()
                .map_err(|e| StorageError::io("canonicalize", r, e))
        })
        .collect()
}

/// Resolves `path` (from request field `field`) under one of `roots`
/// (absolute, canonical: see [`canonical_roots`]); a relative path is taken
/// relative to the first root. Errors name the field, the path and the
/// allowed roots.
pub fn confine_path(field: &str, path: &Path, roots: &[PathBuf]) -> Result<PathBuf> {
    let shown = path.display().to_string().escape_debug().to_string();
    if path.as_os_str().is_empty() {
        return Err(StorageError::conf(field, "expected a path, got \"\""));
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(StorageError::conf(
            field,
            format!("'{shown}' must not contain '..'"),
        ));
    }
    if path.to_string_lossy().contains('\0') {
        return Err(StorageError::conf(field, "a path must not contain NUL"));
    }
    let Some(first) = roots.first() else {
        return Err(confined(field, &shown, &show_roots(roots)));
    };
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        first.join(path)
    };
    let real = canonical_prefix(&joined).map_err(|e| StorageError::io("resolve", &joined, e))?;
    if roots.iter().any(|r| real.starts_with(r)) {
        Ok(real)
    } else {
        Err(confined(field, &shown, &show_roots(roots)))
    }
}

/// Checks a storage address (a URI, `file://` or another scheme) from
/// request field `field` against root URIs; returns it normalised (no
/// trailing `/`). `file://` addresses go through [`confine_path`] against the
/// `file://` roots.
pub fn confine_uri(field: &str, uri: &str, roots: &[String]) -> Result<String> {
    let uri = uri.trim_end_matches('/');
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err(StorageError::conf(
            field,
            format!("expected a URI, got '{}'", uri.escape_debug()),
        ));
    };
    if scheme.eq_ignore_ascii_case("file") {
        let local: Vec<PathBuf> = roots
            .iter()
            .filter_map(|r| crate::path::local_dir(r).ok())
            .collect();
        let local = canonical_roots(&local)?;
        let dir = crate::path::local_dir(uri)?;
        let real = confine_path(field, &dir, &local)?;
        return Ok(format!("file://{}", real.display()));
    }
    if rest
        .split('/')
        .any(|seg| seg == ".." || seg == "." || seg.contains('\0'))
    {
        return Err(StorageError::conf(
            field,
            format!(
                "'{}' must not contain '.' or '..' segments",
                uri.escape_debug()
            ),
        ));
    }
    let under = roots.iter().any(|r| {
        let r = r.trim_end_matches('/');
        uri.len() > r.len() && uri.starts_with(r) && uri.as_bytes()[r.len()] == b'/'
    });
    if under {
        Ok(uri.to_string())
    } else {
        Err(confined(field, uri.escape_debug(), &roots.join(", ")))
    }
}

/// Whether `dir` holds only what a fedflow (or Spark-written) path table
/// holds: `part-*` files, `_SUCCESS`, the row order `_order.u16`, Hadoop's
/// `.*.crc` checksums. An empty or missing directory counts too. Anything
/// else means somebody else's directory, which fedflow must not replace or
/// delete.
pub fn is_table_dir(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return !dir.exists();
    };
    entries.into_iter().all(|e| {
        let Ok(e) = e else { return false };
        let name = e.file_name().to_string_lossy().into_owned();
        let is_file = e.file_type().map(|t| t.is_file()).unwrap_or(false);
        is_file
            && (name.starts_with("part-")
                || name == "_SUCCESS"
                || name == "_order.u16"
                || (name.starts_with('.') && name.ends_with(".crc")))
    })
}

/// Refuses to replace or delete `dir` unless [`is_table_dir`].
pub fn check_table_dir(dir: &Path) -> Result<()> {
    if is_table_dir(dir) {
        Ok(())
    } else {
        Err(StorageError::conf(
            "storage_address",
            format!(
                "{} exists and is not a fedflow table directory (it holds other files): fedflow never replaces or deletes it; choose another address",
                dir.display()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_their_roots() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("export");
        let roots = canonical_roots(std::slice::from_ref(&root)).unwrap();
        let real_root = roots[0].clone();
        assert_eq!(
            confine_path("output_path", Path::new("a/b.csv"), &roots).unwrap(),
            real_root.join("a/b.csv")
        );
        assert_eq!(
            confine_path("output_path", &real_root.join("x.csv"), &roots).unwrap(),
            real_root.join("x.csv")
        );
        for bad in ["/etc/passwd", "../x", "a/../../x", "/tmp"] {
            let e = confine_path("output_path", Path::new(bad), &roots)
                .unwrap_err()
                .to_string();
            assert!(e.contains("'output_path'"), "{bad}: {e}");
        }
        // A symbolic link inside the root pointing out of it does not count.
        std::os::unix::fs::symlink("/etc", real_root.join("link")).unwrap();
        let e = confine_path("output_path", Path::new("link/passwd"), &roots).unwrap_err();
        assert!(e.to_string().contains("outside"), "{e}");
        // No roots: nothing is allowed.
        assert!(confine_path("file", Path::new("/x"), &[]).is_err());
    }

    #[test]
    fn uris_stay_under_their_roots() {
        let d = tempfile::tempdir().unwrap();
        let root = format!("file://{}/localfs", d.path().display());
        let roots = vec![root.clone(), "hdfs://nn:8020/fate".to_string()];
        let ok = confine_uri("storage_address", &format!("{root}/ns/t/"), &roots).unwrap();
        assert!(ok.ends_with("/localfs/ns/t"), "{ok}");
        assert_eq!(
            confine_uri("storage_address", "hdfs://nn:8020/fate/t", &roots).unwrap(),
            "hdfs://nn:8020/fate/t"
        );
        for bad in [
            "file:///etc",
            "hdfs://nn:8020/fatex/t",
            "hdfs://nn:8020/fate/../x",
            "hdfs://nn:8020/fate",
            "s3a://b/t",
        ] {
            let e = confine_uri("storage_address", bad, &roots).unwrap_err();
            assert!(e.to_string().contains("'storage_address'"), "{bad}: {e}");
        }
    }

    #[test]
    fn only_table_directories_may_be_replaced() {
        let d = tempfile::tempdir().unwrap();
        assert!(is_table_dir(&d.path().join("missing")));
        std::fs::write(d.path().join("part-00000"), b"x").unwrap();
        std::fs::write(d.path().join("_SUCCESS"), b"").unwrap();
        std::fs::write(d.path().join(".part-00000.crc"), b"").unwrap();
        assert!(is_table_dir(d.path()));
        std::fs::write(d.path().join("notes.txt"), b"mine").unwrap();
        assert!(!is_table_dir(d.path()));
        assert!(check_table_dir(d.path())
            .unwrap_err()
            .to_string()
            .contains("not a fedflow table directory"));
    }
}
