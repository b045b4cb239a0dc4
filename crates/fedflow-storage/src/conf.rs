//! FATE's upload conf (`flow data upload -c upload.json`), parsed with FATE's
//! field names and defaults.

use crate::error::{validate_name, Result, StorageError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Default number of partitions (FATE's).
pub const DEFAULT_PARTITIONS: u32 = 10;
/// Largest partition count FATE accepts.
pub const MAX_PARTITIONS: u32 = 1023;

/// A parsed upload conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadConf {
    /// The CSV file (resolved to an absolute path when it was relative and found).
    pub file: PathBuf,
    /// True when the first line is a header (`head`, default 1).
    pub head: bool,
    /// Number of partitions (`partition`, default 10, 1..=1023).
    pub partition: u32,
    /// Table name (`table_name`, required).
    pub table_name: String,
    /// Namespace (`namespace`, required).
    pub namespace: String,
    /// Field delimiter (`id_delimiter`, default ",").
    pub id_delimiter: String,
    /// Replace an existing table (`drop`, default false).
    pub drop: bool,
    /// Generate keys and keep whole lines as values (`extend_sid`, default false).
    pub extend_sid: bool,
    /// With `extend_sid`, generate increasing integer keys instead of a
    /// unique prefix + line index (`auto_increasing_sid`, default false).
    pub auto_increasing_sid: bool,
    /// Requested storage engine (`storage_engine`); `None` means the default (local).
    pub storage_engine: Option<String>,
    /// Where a path-engine table goes (`storage_address`: a URI or absolute
    /// path, or FATE's object `{"path": …}` / `{"name_node": …, "path": …}`);
    /// `None`: under the storage root.
    pub storage_address: Option<String>,
    /// FATE's `with_meta` (default false): store `meta` in the table schema.
    pub with_meta: bool,
    /// FATE's `meta` object (label name etc.), kept in the schema when `with_meta`.
    pub meta: Option<serde_json::Map<String, Value>>,
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        let mut cut = 57;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

/// A present, non-null field.
fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn flag(obj: &serde_json::Map<String, Value>, name: &str, default: bool) -> Result<bool> {
    match field(obj, name) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => match v.as_i64() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(StorageError::conf(
                name,
                format!("expected 0, 1, true or false, got {}", show(v)),
            )),
        },
    }
}

fn string(obj: &serde_json::Map<String, Value>, name: &str) -> Result<Option<String>> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(StorageError::conf(
            name,
            format!("expected a string, got {}", show(v)),
        )),
    }
}

fn required(obj: &serde_json::Map<String, Value>, name: &str) -> Result<String> {
    match string(obj, name)? {
        None => Err(StorageError::conf(name, "missing")),
        Some(s) if s.trim().is_empty() => Err(StorageError::conf(
            name,
            "expected a non-empty string, got \"\"",
        )),
        Some(s) => Ok(s),
    }
}

/// Resolves a relative input path against `base`, then the current directory.
pub fn resolve_file(file: &str, base: &Path) -> PathBuf {
    let p = PathBuf::from(file);
    if p.is_absolute() {
        return p;
    }
    let in_base = base.join(&p);
    if in_base.exists() {
        return in_base;
    }
    if let Ok(cwd) = std::env::current_dir() {
        let in_cwd = cwd.join(&p);
        if in_cwd.exists() {
            return in_cwd;
        }
    }
    in_base
}

/// Parses FATE's upload conf JSON. Relative `file` paths resolve against
/// `base` (the conf file's directory), then the current directory. Fields that
/// fedflow does not use (`work_mode`, `backend`, `use_local_data`, …) and any
/// other unknown keys are ignored.
pub fn parse_upload_conf(json: &Value, base: &Path) -> Result<UploadConf> {
    let obj = json.as_object().ok_or_else(|| StorageError::Conf {
        field: "(root)".into(),
        reason: format!("expected a JSON object, got {}", show(json)),
    })?;

    let file = required(obj, "file")?;
    let table_name = required(obj, "table_name")?;
    let namespace = required(obj, "namespace")?;
    validate_name("table name", &table_name)
        .map_err(|e| StorageError::conf("table_name", e.to_string()))?;
    validate_name("namespace", &namespace)
        .map_err(|e| StorageError::conf("namespace", e.to_string()))?;

    let partition = match field(obj, "partition") {
        None => DEFAULT_PARTITIONS,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_PARTITIONS as u64).contains(&n) => n as u32,
            _ => {
                return Err(StorageError::conf(
                    "partition",
                    format!(
                        "expected an integer from 1 to {MAX_PARTITIONS}, got {}",
                        show(v)
                    ),
                ))
            }
        },
    };

    let id_delimiter = match string(obj, "id_delimiter")? {
        None => ",".to_string(),
        Some(d) if d.is_empty() || d.contains(['\n', '\r']) => {
            return Err(StorageError::conf(
                "id_delimiter",
                format!(
                    "expected a non-empty delimiter without line breaks, got {:?}",
                    d
                ),
            ))
        }
        Some(d) => d,
    };

    let meta = match field(obj, "meta") {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(v) => {
            return Err(StorageError::conf(
                "meta",
                format!("expected an object, got {}", show(v)),
            ))
        }
    };

    let ignored: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN.contains(k))
        .collect();
    if !ignored.is_empty() {
        tracing::debug!(?ignored, "upload conf: ignoring fields");
    }

    Ok(UploadConf {
        file: resolve_file(&file, base),
        head: flag(obj, "head", true)?,
        partition,
        table_name,
        namespace,
        id_delimiter,
        drop: flag(obj, "drop", false)?,
        extend_sid: flag(obj, "extend_sid", false)?,
        auto_increasing_sid: flag(obj, "auto_increasing_sid", false)?,
        storage_engine: string(obj, "storage_engine")?.filter(|s| !s.is_empty()),
        storage_address: storage_address(obj)?,
        with_meta: flag(obj, "with_meta", false)?,
        meta,
    })
}

/// `storage_address`: a string, or FATE's `{"path"}` / `{"name_node", "path"}`.
fn storage_address(obj: &serde_json::Map<String, Value>) -> Result<Option<String>> {
    let bad = |v: &Value| {
        StorageError::conf(
            "storage_address",
            format!(
                "expected a URI, an absolute path or {{\"path\": …, \"name_node\": …}}, got {}",
                show(v)
            ),
        )
    };
    match field(obj, "storage_address") {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(crate::path::to_uri(s)?)),
        Some(v @ Value::Object(o)) => {
            let path = o
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(v))?;
            let uri = match o.get("name_node").and_then(Value::as_str) {
                Some(nn) if !path.contains("://") => {
                    format!(
                        "{}/{}",
                        nn.trim_end_matches('/'),
                        path.trim_start_matches('/')
                    )
                }
                _ => path.to_string(),
            };
            Ok(Some(crate::path::to_uri(&uri)?))
        }
        Some(v) => Err(bad(v)),
    }
}

const KNOWN: &[&str] = &[
    "file",
    "head",
    "partition",
    "table_name",
    "namespace",
    "id_delimiter",
    "drop",
    "extend_sid",
    "auto_increasing_sid",
    "storage_engine",
    "storage_address",
    "with_meta",
    "meta",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        parse_upload_conf(&v, Path::new("/base"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn storage_address_forms() {
        let addr = |a: Value| {
            parse_upload_conf(
                &json!({"file": "/x.csv", "table_name": "t", "namespace": "n", "storage_address": a}),
                Path::new("/base"),
            )
            .map(|c| c.storage_address)
        };
        assert_eq!(
            addr(json!("/data/t")).unwrap().as_deref(),
            Some("file:///data/t")
        );
        assert_eq!(
            addr(json!("s3a://bucket/t/")).unwrap().as_deref(),
            Some("s3a://bucket/t")
        );
        assert_eq!(
            addr(json!({"path": "/data/t"})).unwrap().as_deref(),
            Some("file:///data/t")
        );
        assert_eq!(
            addr(json!({"name_node": "hdfs://nn:8020", "path": "/fate/input_data/n/t"}))
                .unwrap()
                .as_deref(),
            Some("hdfs://nn:8020/fate/input_data/n/t")
        );
        assert_eq!(addr(json!("")).unwrap(), None);
        let e = addr(json!("relative/t")).unwrap_err().to_string();
        assert!(e.starts_with("upload conf: field 'storage_address'"), "{e}");
        let e = addr(json!(3)).unwrap_err().to_string();
        assert!(e.starts_with("upload conf: field 'storage_address'"), "{e}");
    }

    #[test]
    fn defaults_and_fate_examples() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/examples/fate/upload"
        );
        if let Ok(text) = std::fs::read_to_string(format!("{dir}/upload_conf.json")) {
            let v: Value = serde_json::from_str(&text).unwrap();
            let c = parse_upload_conf(&v, Path::new(dir)).unwrap();
            assert_eq!(c.partition, 8);
            assert_eq!(c.table_name, "breast_hetero_guest");
            assert!(c.head);
        }
        let c = parse_upload_conf(
            &json!({"file": "data/x.csv", "table_name": "t", "namespace": "n",
                    "work_mode": 0, "backend": 0, "use_local_data": 1, "whatever": [1]}),
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(c.file, PathBuf::from("/base/data/x.csv"));
        assert!(c.head && !c.drop && !c.extend_sid && !c.auto_increasing_sid);
        assert_eq!(c.partition, 10);
        assert_eq!(c.id_delimiter, ",");
        assert_eq!(c.storage_engine, None);
        let c = parse_upload_conf(
            &json!({"file": "/abs.csv", "table_name": "t", "namespace": "n", "head": false,
                    "drop": 1, "extend_sid": true, "partition": 1023, "id_delimiter": "\t",
                    "with_meta": true, "meta": {"label_name": "y"}}),
            Path::new("/base"),
        )
        .unwrap();
        assert!(!c.head && c.drop && c.extend_sid && c.with_meta);
        assert_eq!((c.partition, c.id_delimiter.as_str()), (1023, "\t"));
    }

    #[test]
    fn errors_name_the_field() {
        let base = json!({"file": "a.csv", "table_name": "t", "namespace": "n"});
        let with = |k: &str, v: Value| {
            let mut o = base.clone();
            o[k] = v;
            o
        };
        assert_eq!(
            err(with("partition", json!(0))),
            "upload conf: field 'partition': expected an integer from 1 to 1023, got 0"
        );
        assert!(err(with("partition", json!(1024))).contains("got 1024"));
        assert!(err(with("partition", json!("8"))).contains("got \"8\""));
        assert_eq!(
            err(json!({"file": "a.csv", "namespace": "n"})),
            "upload conf: field 'table_name': missing"
        );
        assert_eq!(
            err(json!({"table_name": "t", "namespace": "n"})),
            "upload conf: field 'file': missing"
        );
        assert!(err(with("head", json!(2))).starts_with("upload conf: field 'head': expected 0, 1"));
        assert!(err(with("drop", json!("yes"))).starts_with("upload conf: field 'drop'"));
        assert!(
            err(with("id_delimiter", json!(""))).starts_with("upload conf: field 'id_delimiter'")
        );
        assert!(
            err(with("namespace", json!("../etc"))).starts_with("upload conf: field 'namespace'")
        );
        assert!(err(with("table_name", json!(5))).contains("expected a string, got 5"));
        assert!(err(json!([1])).contains("expected a JSON object"));
    }
}
