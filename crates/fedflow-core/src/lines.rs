//! The line format of a table partition as text: `p \t tag \t count \t
//! base64(RowBlock)`, one line per fedflow partition (or a piece of one).
//!
//! It is what the Spark engine's tables hold (one Spark row per partition,
//! read and written by `fedflow worker` on executors) and the on-disk layout
//! of the path storage engine (`LOCALFS`, `HDFS`, …: one text file of such
//! lines per partition), so Spark reads stored tables natively with
//! `spark.read.text` and fedflow reads them without Spark.

use crate::RowBlock;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

/// One input or output line: a block (or a piece of one) of partition `p`.
#[derive(Debug, Clone)]
pub struct Line {
    /// Partition index.
    pub p: u32,
    /// Tag (see the module doc).
    pub tag: i64,
    /// The rows.
    pub block: RowBlock,
}

/// Encodes a line as `p \t tag \t count \t base64`.
pub fn format_line(p: u32, tag: i64, block: &RowBlock, out: &mut String) {
    use std::fmt::Write as _;
    let _ = write!(out, "{p}\t{tag}\t{}\t", block.len());
    B64.encode_string(block.encoded(), out);
}

/// Parses a `p \t tag \t count \t base64` line (an empty or `\N` payload is an
/// empty block).
pub fn parse_line(line: &str) -> Result<Line, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut f = line.split('\t');
    let (Some(p), Some(tag), Some(c), Some(b), None) =
        (f.next(), f.next(), f.next(), f.next(), f.next())
    else {
        return Err(format!(
            "expected 4 tab-separated fields (p, tag, count, base64 rows), got {}",
            line.split('\t').count()
        ));
    };
    let p: u32 = p
        .parse()
        .map_err(|_| format!("field p: expected a partition index, got '{}'", clip(p)))?;
    let tag: i64 = tag
        .parse()
        .map_err(|_| format!("field tag: expected an integer, got '{}'", clip(tag)))?;
    let c: usize = c
        .parse()
        .map_err(|_| format!("field count: expected a row count, got '{}'", clip(c)))?;
    let block = if b.is_empty() || b == "\\N" {
        if c != 0 {
            return Err(format!("field rows: empty, but count says {c}"));
        }
        RowBlock::empty()
    } else {
        let bytes = B64
            .decode(b)
            .map_err(|e| format!("field rows: expected base64, {e}"))?;
        RowBlock::from_encoded(bytes, c).map_err(|e| format!("field rows: {e}"))?
    };
    Ok(Line { p, tag, block })
}

fn clip(s: &str) -> &str {
    let end = s.char_indices().nth(40).map(|(i, _)| i).unwrap_or(s.len());
    &s[..end]
}

/// Whether a file of a lines directory holds data: Spark's and Hadoop's rule
/// (names starting with `_` or `.`, such as `_SUCCESS` or `.part-0.crc`, do not).
pub fn is_data_file(name: &str) -> bool {
    !name.starts_with('_') && !name.starts_with('.')
}

/// Reads every line of the data files of `dir` (in file-name order, empty
/// lines skipped). Errors name the file and line.
pub fn read_dir(dir: &std::path::Path) -> Result<Vec<Line>, String> {
    let mut out = Vec::new();
    for_each_in_dir(dir, &mut |l| {
        out.push(l);
        Ok(())
    })?;
    Ok(out)
}

/// Streams the lines of the data files of `dir` to `f`, one at a time (file-name
/// order, empty lines skipped), so only one partition is in memory at once.
/// Errors (`f`'s too) name the file and line.
pub fn for_each_in_dir(
    dir: &std::path::Path,
    f: &mut dyn FnMut(Line) -> Result<(), String>,
) -> Result<(), String> {
    walk_dir(dir, f, false)
}

/// As [`for_each_in_dir`], deleting each data file once its lines are read
/// (a copy written only to be read once never sits whole beside its reader's).
pub fn drain_dir(
    dir: &std::path::Path,
    f: &mut dyn FnMut(Line) -> Result<(), String>,
) -> Result<(), String> {
    walk_dir(dir, f, true)
}

fn walk_dir(
    dir: &std::path::Path,
    f: &mut dyn FnMut(Line) -> Result<(), String>,
    remove: bool,
) -> Result<(), String> {
    use std::io::BufRead as _;
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut files: Vec<std::path::PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_data_file)
        })
        .collect();
    files.sort();
    for file_path in files {
        let file = std::fs::File::open(&file_path)
            .map_err(|e| format!("cannot open {}: {e}", file_path.display()))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, file);
        let mut line = String::new();
        let mut i = 0usize;
        loop {
            line.clear();
            i += 1;
            let n = r
                .read_line(&mut line)
                .map_err(|e| format!("{} line {i}: cannot read: {e}", file_path.display()))?;
            if n == 0 {
                break;
            }
            let l = line.strip_suffix('\n').unwrap_or(&line);
            if l.is_empty() {
                continue;
            }
            let parsed =
                parse_line(l).map_err(|e| format!("{} line {i}: {e}", file_path.display()))?;
            f(parsed).map_err(|e| format!("{} line {i}: {e}", file_path.display()))?;
        }
        if remove {
            std::fs::remove_file(&file_path)
                .map_err(|e| format!("cannot remove {}: {e}", file_path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RowBlockBuilder;

    #[test]
    fn line_round_trip_and_errors() {
        let mut b = RowBlockBuilder::new();
        b.push(b"k1", b"v1");
        b.push(b"k2", b"");
        let block = b.finish();
        let mut s = String::new();
        format_line(3, 0, &block, &mut s);
        let l = parse_line(&s).unwrap();
        assert_eq!((l.p, l.tag, l.block.len()), (3, 0, 2));
        assert_eq!(l.block.encoded(), block.encoded());
        s.clear();
        format_line(0, 1, &RowBlock::empty(), &mut s);
        assert_eq!(parse_line(&s).unwrap().block.len(), 0);
        assert!(parse_line("1\t0\t2")
            .unwrap_err()
            .contains("4 tab-separated"));
        assert!(parse_line("x\t0\t0\t").unwrap_err().contains("field p"));
        assert!(parse_line("0\t0\t3\t")
            .unwrap_err()
            .contains("count says 3"));
    }

    #[test]
    fn read_dir_skips_marker_files_and_names_bad_lines() {
        let dir = std::env::temp_dir().join(format!("fedflow-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut b = RowBlockBuilder::new();
        b.push(b"a", b"1");
        let mut s = String::new();
        format_line(1, 0, &b.finish(), &mut s);
        std::fs::write(dir.join("part-00001"), format!("{s}\n")).unwrap();
        std::fs::write(dir.join("part-00000"), "0\t0\t0\t\n").unwrap();
        std::fs::write(dir.join("_SUCCESS"), "not a line").unwrap();
        let lines = read_dir(&dir).unwrap();
        assert_eq!(lines.iter().map(|l| l.p).collect::<Vec<_>>(), vec![0, 1]);
        std::fs::write(dir.join("part-00002"), "junk\n").unwrap();
        let err = read_dir(&dir).unwrap_err();
        assert!(err.contains("part-00002 line 1"), "{err}");
        // Streaming: lines arrive one at a time, the callback's error stops
        // the walk and names where it stopped.
        std::fs::remove_file(dir.join("part-00002")).unwrap();
        let mut seen = Vec::new();
        for_each_in_dir(&dir, &mut |l| {
            seen.push((l.p, l.block.len()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![(0, 0), (1, 1)]);
        let err = for_each_in_dir(&dir, &mut |l| {
            if l.p == 1 {
                Err("stop here".into())
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert!(err.ends_with("part-00001 line 1: stop here"), "{err}");
        // Draining deletes each data file once read, markers stay.
        let mut seen = Vec::new();
        drain_dir(&dir, &mut |l| {
            seen.push(l.p);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![0, 1]);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["_SUCCESS".to_string()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
