//! Upload (CSV → table) and download (table → CSV), as FATE's Upload and
//! Download components do.

use crate::conf::UploadConf;
use crate::error::{validate_name, Result, StorageError};
use crate::meta::{now_ms, MetaStore, TableMeta, TableOrigin, TableSchema};
use crate::table::{unique_suffix, StageWriter, TableStorage};
use fedflow_core::codec::encode_into;
use fedflow_core::{partition_of, RowBlock, RowBlockBuilder};
use hashbrown::HashTable;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

/// Number of rows kept in `part_of_data`.
pub const PART_OF_DATA_ROWS: usize = 100;

/// Encoded rows an upload keeps in memory before appending them to the staged
/// partitions (so that files larger than memory can be uploaded).
pub const UPLOAD_BUFFER_BYTES: usize = 256 << 20;

/// The result of parsing an input file.
struct Parsed {
    order: Vec<u16>,
    count: u64,
    schema: TableSchema,
    part_of_data: Vec<(String, String)>,
}

fn input_err(file: &Path, line: Option<u64>, reason: impl Into<String>) -> StorageError {
    StorageError::Input {
        file: file.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

/// The ids seen so far, with the line each was first seen on. Keys live in
/// one arena string and the table holds 16-byte entries (hashes are
/// recomputed from the arena when the table grows), so a million ids cost
/// no million allocations and about 40 MB.
#[derive(Default)]
struct SeenIds {
    arena: String,
    /// (offset in arena, length, line)
    table: HashTable<(u64, u32, u32)>,
}

impl SeenIds {
    /// Records `key` first seen on `line`, or returns the line it was first
    /// seen on.
    #[inline]
    fn first_line(&mut self, key: &str, line: u64) -> Option<u64> {
        let h = xxh3_64(key.as_bytes());
        let arena = &self.arena;
        let slice = |e: &(u64, u32, u32)| &arena[e.0 as usize..e.0 as usize + e.1 as usize];
        if let Some(e) = self
            .table
            .find(h, |e| e.1 as usize == key.len() && slice(e) == key)
        {
            return Some(e.2 as u64);
        }
        let off = self.arena.len() as u64;
        self.arena.push_str(key);
        let arena = &self.arena;
        self.table.insert_unique(
            h,
            (
                off,
                key.len().min(u32::MAX as usize) as u32,
                line.min(u32::MAX as u64) as u32,
            ),
            |e| xxh3_64(&arena.as_bytes()[e.0 as usize..e.0 as usize + e.1 as usize]),
        );
        None
    }
}

/// Counts the fields of a line.
#[inline]
fn field_count(line: &str, delim: &str) -> usize {
    if delim.len() == 1 {
        let d = delim.as_bytes()[0];
        line.as_bytes().iter().filter(|&&b| b == d).count() + 1
    } else {
        line.matches(delim).count() + 1
    }
}

/// Whether a headerless row is dense data: every field after the id is a
/// number (or empty), so rows of other widths are errors. Tag and
/// `tag:value` rows are not.
fn dense_row(line: &str, delim: &str) -> bool {
    line.split(delim)
        .skip(1)
        .all(|f| f.trim().is_empty() || f.trim().parse::<f64>().is_ok())
}

/// A prefix unique to this upload, in the style of FATE's `uuid1().hex`.
fn sid_prefix() -> String {
    let seed = unique_suffix();
    let a = xxhash_rust::xxh3::xxh3_64(seed.as_bytes());
    let b = xxhash_rust::xxh3::xxh3_64_with_seed(seed.as_bytes(), a);
    format!("{a:016x}{b:016x}")
}

fn parse_file(
    conf: &UploadConf,
    writer: &mut dyn StageWriter,
    max_buffer: usize,
) -> Result<Parsed> {
    let path = conf.file.as_path();
    let file = File::open(path).map_err(|e| {
        let reason = if e.kind() == std::io::ErrorKind::NotFound {
            "file not found".to_string()
        } else {
            format!("cannot open: {e}")
        };
        input_err(path, None, reason)
    })?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(input_err(path, None, "is a directory, expected a CSV file"));
    }
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let n = conf.partition as usize;
    if n == 0 || n > crate::conf::MAX_PARTITIONS as usize {
        return Err(StorageError::conf(
            "partition",
            format!(
                "expected an integer from 1 to {}, got {n}",
                crate::conf::MAX_PARTITIONS
            ),
        ));
    }
    let delim = conf.id_delimiter.as_str();
    if delim.is_empty() {
        return Err(StorageError::conf(
            "id_delimiter",
            "expected a non-empty delimiter, got \"\"",
        ));
    }

    // Pre-size the partitions from the file size (each row gains ~18 bytes of
    // length prefixes) so that they are not copied while growing.
    let file_len = reader.get_ref().metadata().map(|m| m.len()).unwrap_or(0) as usize;
    let per_partition = ((file_len + file_len / 4).min(max_buffer + max_buffer / 8) / n) + 1024;
    let mut buffered = 0usize;
    let mut builders: Vec<RowBlockBuilder> = (0..n)
        .map(|_| RowBlockBuilder::with_capacity(per_partition.min(1 << 30)))
        .collect();
    let mut order: Vec<u16> = Vec::new();
    let mut seen = SeenIds::default();
    let mut part_of_data = Vec::new();
    let mut schema = TableSchema::default();
    let mut header_fields: Option<usize> = None;
    // Without a header: (line, field count) of the first row, which every row
    // must match when that row is dense numeric data (sparse tag / tag:value
    // rows have varying widths by nature).
    let mut first_row: Option<(u64, usize)> = None;
    let mut need_header = conf.head;
    let mut any_line = false;
    let prefix = if conf.extend_sid && !conf.auto_increasing_sid {
        sid_prefix()
    } else {
        String::new()
    };

    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let (mut kbuf, mut vbuf) = (Vec::with_capacity(64), Vec::with_capacity(1024));
    let mut lineno: u64 = 0;
    let mut count: u64 = 0;
    let mut generated = String::new();
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| input_err(path, Some(lineno + 1), format!("read error: {e}")))?;
        if read == 0 {
            break;
        }
        lineno += 1;
        let mut end = buf.len();
        while end > 0 && (buf[end - 1] == b'\n' || buf[end - 1] == b'\r') {
            end -= 1;
        }
        let bytes = &buf[..end];
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(at) = bytes.iter().position(|&b| b == b'\r') {
            return Err(input_err(
                path,
                Some(lineno),
                format!(
                    "carriage return inside the line (at byte {at}): expected LF or CRLF line endings (CR-only line endings are not supported)"
                ),
            ));
        }
        any_line = true;
        let line = std::str::from_utf8(bytes).map_err(|e| {
            input_err(
                path,
                Some(lineno),
                format!("not valid UTF-8 (at byte {})", e.valid_up_to()),
            )
        })?;

        if need_header {
            need_header = false;
            header_fields = Some(field_count(line, delim));
            if conf.extend_sid {
                schema.sid = "sid".into();
                schema.header = line.to_string();
            } else {
                match line.split_once(delim) {
                    Some((sid, rest)) => {
                        schema.sid = sid.to_string();
                        schema.header = rest.to_string();
                    }
                    None => schema.sid = line.to_string(),
                }
            }
            continue;
        }

        let got = field_count(line, delim);
        match (header_fields, first_row) {
            (Some(expected), _) if got != expected => {
                return Err(input_err(
                    path,
                    Some(lineno),
                    format!("{got} fields, header has {expected}"),
                ));
            }
            (None, Some((first, expected))) if got != expected => {
                return Err(input_err(
                    path,
                    Some(lineno),
                    format!("{got} fields, the first row (line {first}) has {expected}"),
                ));
            }
            (None, None) if dense_row(line, delim) => first_row = Some((lineno, got)),
            _ => {}
        }

        let (key, value): (&str, &str) = if conf.extend_sid {
            generated.clear();
            generated.push_str(&prefix);
            generated.push_str(&count.to_string());
            (generated.as_str(), line)
        } else {
            let (k, v) = line.split_once(delim).unwrap_or((line, ""));
            if k.is_empty() {
                return Err(input_err(
                    path,
                    Some(lineno),
                    "empty id in the first column",
                ));
            }
            if let Some(first) = seen.first_line(k, lineno) {
                return Err(input_err(
                    path,
                    Some(lineno),
                    format!("duplicate id '{k}' (first at line {first})"),
                ));
            }
            (k, v)
        };

        kbuf.clear();
        vbuf.clear();
        let codec = |source| StorageError::Codec {
            context: format!("upload {} line {lineno}", path.display()),
            source,
        };
        encode_into(key, &mut kbuf).map_err(codec)?;
        encode_into(value, &mut vbuf).map_err(codec)?;
        let p = partition_of(&kbuf, n);
        builders[p].push(&kbuf, &vbuf);
        buffered += kbuf.len() + vbuf.len() + 4;
        if buffered > max_buffer {
            for (i, b) in builders.iter_mut().enumerate() {
                if !b.is_empty() {
                    let full = std::mem::replace(b, RowBlockBuilder::with_capacity(per_partition));
                    writer.append(i, &full.finish())?;
                }
            }
            buffered = 0;
        }
        order.push(p as u16);
        if part_of_data.len() < PART_OF_DATA_ROWS {
            part_of_data.push((key.to_string(), value.to_string()));
        }
        count += 1;
    }
    if !any_line {
        return Err(input_err(
            path,
            None,
            "empty file, expected a CSV with at least one line",
        ));
    }
    if conf.with_meta {
        if let Some(m) = &conf.meta {
            schema
                .extra
                .insert("meta".into(), serde_json::Value::Object(m.clone()));
        }
    }
    for (i, b) in builders.into_iter().enumerate() {
        writer.append(i, &b.finish())?;
    }
    Ok(Parsed {
        order,
        count,
        schema,
        part_of_data,
    })
}

/// Uploads a CSV file as a table, as FATE's Upload component does.
///
/// With `head`, the first line's first column names the id (`schema.sid`) and
/// the rest are the `schema.header`. Each row becomes key = first field,
/// value = the remaining fields joined by `id_delimiter` (raw strings, both
/// encoded with [`fedflow_core::codec`]), in partition
/// [`partition_of`]`(key bytes, partition)`. With `extend_sid`, keys are
/// generated (unique prefix + row index, or the row index alone with
/// `auto_increasing_sid`) and values are whole lines.
///
/// Nothing is half-written: the file is streamed into per-partition buffers
/// that are appended to a staged (temporary) table whenever they exceed
/// [`UPLOAD_BUFFER_BYTES`], validating as it goes; only when the whole file is
/// valid is the meta row written and the table renamed into place (on any
/// failure the staged data is removed and the meta row restored). With `drop`, an existing table
/// is replaced only once the new one is complete; without it, an existing
/// table is an error and is left untouched.
pub fn upload(
    conf: &UploadConf,
    storage: &dyn TableStorage,
    meta: &dyn MetaStore,
) -> Result<TableMeta> {
    upload_buffered(conf, storage, meta, UPLOAD_BUFFER_BYTES)
}

/// [`upload`] with a given in-memory buffer size (bytes of encoded rows).
pub fn upload_buffered(
    conf: &UploadConf,
    storage: &dyn TableStorage,
    meta: &dyn MetaStore,
    max_buffer: usize,
) -> Result<TableMeta> {
    let started = std::time::Instant::now();
    let (ns, name) = (conf.namespace.as_str(), conf.table_name.as_str());
    validate_name("namespace", ns).map_err(|e| StorageError::conf("namespace", e.to_string()))?;
    validate_name("table name", name)
        .map_err(|e| StorageError::conf("table_name", e.to_string()))?;
    if let Some(engine) = &conf.storage_engine {
        let ok = engine.eq_ignore_ascii_case(storage.engine())
            || (storage.engine() == "LOCAL"
                && ["standalone"]
                    .iter()
                    .any(|e| engine.eq_ignore_ascii_case(e)));
        if !ok {
            return Err(StorageError::conf(
                "storage_engine",
                format!(
                    "expected '{}' (the engine of this store), got '{engine}'",
                    storage.engine()
                ),
            ));
        }
    }

    if conf.partition == 0 || conf.partition > crate::conf::MAX_PARTITIONS {
        return Err(StorageError::conf(
            "partition",
            format!(
                "expected an integer from 1 to {}, got {}",
                crate::conf::MAX_PARTITIONS,
                conf.partition
            ),
        ));
    }
    let address = storage.address_of(ns, name)?;
    let old = meta.get_table_meta(ns, name)?;
    if !conf.drop && (old.is_some() || storage.exists(&address)?) {
        return Err(StorageError::TableExists {
            namespace: ns.into(),
            name: name.into(),
        });
    }

    let mut writer = storage.begin_stage(ns, name, conf.partition as usize)?;
    let parsed = match parse_file(conf, writer.as_mut(), max_buffer.max(1)) {
        Ok(p) => p,
        Err(e) => {
            if let Err(e2) = writer.abort() {
                tracing::warn!(error = %e2, "could not remove staged table");
            }
            return Err(e);
        }
    };
    let parse_secs = started.elapsed().as_secs_f64();
    let staged = writer.finish(Some(&parsed.order))?;
    let now = now_ms();
    let new = TableMeta {
        name: name.into(),
        namespace: ns.into(),
        address: staged.address.clone(),
        engine: storage.engine().into(),
        store_type: storage.store_type().into(),
        options: serde_json::json!({}),
        partitions: conf.partition,
        id_delimiter: conf.id_delimiter.clone(),
        in_serialized: true,
        have_head: conf.head,
        extend_sid: conf.extend_sid,
        auto_increasing_sid: conf.auto_increasing_sid,
        count: parsed.count,
        origin: TableOrigin::Upload,
        disable: false,
        description: String::new(),
        schema: parsed.schema,
        part_of_data: parsed.part_of_data,
        create_time: now,
        update_time: now,
    };

    // Meta first (it can be rolled back), then the rename.
    let meta_result = match &old {
        Some(_) => meta.update_table_meta(&new),
        None => meta.create_table_meta(&new),
    };
    if let Err(e) = meta_result {
        if let Err(e2) = storage.abort_staged(staged) {
            tracing::warn!(error = %e2, "could not remove staged table");
        }
        return Err(e);
    }
    if let Err(e) = storage.commit_staged(staged) {
        let rollback = match &old {
            Some(o) => meta.update_table_meta(o),
            None => meta.delete_table_meta(ns, name).map(|_| ()),
        };
        if let Err(e2) = rollback {
            tracing::error!(error = %e2, table = %format!("{ns}.{name}"), "could not roll back meta");
        }
        return Err(e);
    }
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(table = %format!("{ns}.{name}"), rows = new.count, partitions = new.partitions,
        secs, parse_secs, file = %conf.file.display(), "uploaded");
    // Re-read so that the returned meta carries the stored timestamps.
    Ok(meta.get_table_meta(ns, name)?.unwrap_or(new))
}

/// Compares keys numerically when both are integers, else as strings.
fn sort_rows(rows: &mut [(String, String)]) {
    let numeric: Option<Vec<i128>> = rows.iter().map(|(k, _)| k.parse::<i128>().ok()).collect();
    match numeric {
        Some(nums) => {
            let mut idx: Vec<usize> = (0..rows.len()).collect();
            idx.sort_by_key(|&i| nums[i]);
            let sorted: Vec<(String, String)> =
                idx.iter().map(|&i| std::mem::take(&mut rows[i])).collect();
            for (slot, row) in rows.iter_mut().zip(sorted) {
                *slot = row;
            }
        }
        None => rows.sort_by(|a, b| a.0.cmp(&b.0)),
    }
}

/// Downloads a table to a CSV file, as FATE's Download component does:
/// a header line `sid<delimiter>header` (when the table had one), then one line
/// `key<delimiter>value` per row (for `extend_sid` tables, the original lines).
///
/// Rows come out in upload order when the engine recorded it (so an
/// upload → download round trip reproduces the file), otherwise sorted by key
/// (numerically when every key is an integer). When `delimiter` differs from
/// the table's `id_delimiter`, the value fields are re-joined with it. The file
/// is written to a temporary name and renamed into place. Returns the number of
/// rows written.
pub fn download(
    meta: &TableMeta,
    storage: &dyn TableStorage,
    out: &Path,
    delimiter: &str,
) -> Result<u64> {
    download_with(meta, storage, out, delimiter, None)
}

/// Renders a stored value that is not a string (a component's output
/// instance or prediction) as the comma-separated fields of a CSV line. It
/// gets every key and value, strings included, and must decode strings
/// strictly (no trailing bytes).
pub type ValueRenderer = fn(&[u8]) -> String;

/// [`download()`], with `render` turning values that are not strings (the
/// rows of components' output tables) into CSV fields; without it such a
/// table fails to decode.
pub fn download_with(
    meta: &TableMeta,
    storage: &dyn TableStorage,
    out: &Path,
    delimiter: &str,
    render: Option<ValueRenderer>,
) -> Result<u64> {
    if delimiter.is_empty() {
        return Err(StorageError::Conf {
            field: "delimiter".into(),
            reason: "expected a non-empty delimiter, got \"\"".into(),
        });
    }
    let not_found = |detail: String| StorageError::TableNotFound {
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        detail: Some(detail),
    };
    if !storage.exists(&meta.address)? {
        return Err(not_found(format!("no data at {}", meta.address.display())));
    }
    let blocks = read_checked(meta, storage)?;
    let order = storage.read_order(&meta.address)?.filter(|order| {
        let mut counts = vec![0usize; blocks.len()];
        for &p in order {
            match counts.get_mut(p as usize) {
                Some(c) => *c += 1,
                None => return false,
            }
        }
        counts.iter().zip(&blocks).all(|(c, b)| *c == b.len())
    });

    let convert = delimiter != meta.id_delimiter;
    let fix = |s: &str| -> String {
        if convert {
            s.replace(meta.id_delimiter.as_str(), delimiter)
        } else {
            s.to_string()
        }
    };
    let has_columns = !meta.schema.header.is_empty();

    let file_name = out
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(".{file_name}.tmp-{}", unique_suffix()));
    let write = || -> Result<u64> {
        let f = File::create(&tmp).map_err(|e| StorageError::io("create", &tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let io = |e| StorageError::io("write", &tmp, e);
        if meta.have_head {
            let line = if meta.extend_sid {
                fix(&meta.schema.header)
            } else if has_columns {
                format!("{}{delimiter}{}", meta.schema.sid, fix(&meta.schema.header))
            } else {
                meta.schema.sid.clone()
            };
            w.write_all(line.as_bytes()).map_err(io)?;
            w.write_all(b"\n").map_err(io)?;
        }
        let context = format!("download {}.{}", meta.namespace, meta.name);
        let dec = |bytes: &[u8], what: &str| -> Result<String> {
            // With a renderer it decides (it must try a string strictly: a
            // lenient string decode accepts a prefix of other values' bytes).
            if let Some(r) = render {
                return Ok(r(bytes));
            }
            fedflow_core::decode::<String>(bytes).map_err(|source| StorageError::Codec {
                context: format!("{context}: {what}"),
                source,
            })
        };
        let emit = |w: &mut BufWriter<File>, k: &str, v: &str| -> Result<()> {
            if meta.extend_sid {
                w.write_all(fix(v).as_bytes()).map_err(io)?;
            } else {
                w.write_all(k.as_bytes()).map_err(io)?;
                if has_columns || !v.is_empty() {
                    w.write_all(delimiter.as_bytes()).map_err(io)?;
                    if convert {
                        w.write_all(fix(v).as_bytes()).map_err(io)?;
                    } else {
                        w.write_all(v.as_bytes()).map_err(io)?;
                    }
                }
            }
            w.write_all(b"\n").map_err(io)
        };
        let mut n = 0u64;
        match &order {
            Some(order) => {
                let mut iters: Vec<_> = blocks.iter().map(RowBlock::iter).collect();
                for &p in order {
                    let (k, v) = iters[p as usize]
                        .next()
                        .ok_or_else(|| StorageError::Corrupt {
                            what: format!("row order of {}.{}", meta.namespace, meta.name),
                            reason: format!("partition {p} ran out of rows"),
                        })?;
                    emit(&mut w, &dec(k, "key")?, &dec(v, "value")?)?;
                    n += 1;
                }
            }
            None => {
                let mut rows = Vec::with_capacity(blocks.iter().map(RowBlock::len).sum());
                for b in &blocks {
                    for (k, v) in b.iter() {
                        rows.push((dec(k, "key")?, dec(v, "value")?));
                    }
                }
                sort_rows(&mut rows);
                for (k, v) in &rows {
                    emit(&mut w, k, v)?;
                    n += 1;
                }
            }
        }
        w.flush().map_err(io)?;
        w.get_ref().sync_all().map_err(io)?;
        Ok(n)
    };
    match write() {
        Ok(n) => {
            std::fs::rename(&tmp, out).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                StorageError::io("rename", out, e)
            })?;
            tracing::info!(table = %format!("{}.{}", meta.namespace, meta.name), rows = n,
                out = %out.display(), "downloaded");
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Reads a table's partitions and checks them against its meta row
/// (partition count and row count).
pub fn read_checked(meta: &TableMeta, storage: &dyn TableStorage) -> Result<Vec<RowBlock>> {
    let blocks = storage.read_table(&meta.address)?;
    let rows: u64 = blocks.iter().map(|b| b.len() as u64).sum();
    if blocks.len() != meta.partitions as usize || rows != meta.count {
        return Err(StorageError::Corrupt {
            what: format!("table {}.{}", meta.namespace, meta.name),
            reason: format!(
                "meta says {} partitions and {} rows, storage has {} partitions and {rows} rows",
                meta.partitions,
                meta.count,
                blocks.len()
            ),
        });
    }
    Ok(blocks)
}

/// Address helper for callers that only have names: the meta row of a table,
/// or [`StorageError::TableNotFound`].
pub fn require_table(meta: &dyn MetaStore, namespace: &str, name: &str) -> Result<TableMeta> {
    meta.get_table_meta(namespace, name)?
        .ok_or_else(|| StorageError::TableNotFound {
            namespace: namespace.into(),
            name: name.into(),
            detail: None,
        })
}
