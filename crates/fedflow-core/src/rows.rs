//! The byte format of a table partition.
//!
//! A [`RowBlock`] is a run of `(key, value)` rows, each written as
//! `varint(len(key)) key varint(len(value)) value`. It is the unit that the
//! standalone engine keeps in memory, spills to disk, stores in the local storage
//! engine, and that federation sends in chunks. A block read from a file is
//! memory-mapped, so a table larger than RAM is paged by the OS instead of
//! exhausting memory.
//!
//! File form: `b"FFRB"`, a format version byte (1), the row count as u64 LE,
//! then the rows.

use memmap2::Mmap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

const MAGIC: &[u8; 4] = b"FFRB";
const VERSION: u8 = 1;
const HEADER: usize = 13;

/// A malformed row block.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    /// The bytes do not hold whole rows.
    #[error("corrupt row block{}: {reason}", path.as_ref().map(|p| format!(" {p}")).unwrap_or_default())]
    Corrupt {
        /// The file, when the block came from one.
        path: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// The file could not be read or written.
    #[error("row block file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

#[derive(Clone)]
enum Bytes {
    Owned(Arc<Vec<u8>>),
    Mapped(Arc<Mmap>),
}

/// An immutable run of encoded `(key, value)` rows. Cloning is cheap.
#[derive(Clone)]
pub struct RowBlock {
    bytes: Bytes,
    start: usize,
    end: usize,
    count: usize,
}

impl std::fmt::Debug for RowBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RowBlock({} rows, {} bytes)",
            self.count,
            self.byte_len()
        )
    }
}

impl Default for RowBlock {
    fn default() -> Self {
        Self::empty()
    }
}

impl RowBlock {
    /// A block with no rows.
    pub fn empty() -> Self {
        RowBlock {
            bytes: Bytes::Owned(Arc::new(Vec::new())),
            start: 0,
            end: 0,
            count: 0,
        }
    }

    /// Checks that `data` holds exactly `count` whole rows and wraps it.
    pub fn from_encoded(data: Vec<u8>, count: usize) -> Result<Self, RowError> {
        let found = count_rows(&data).map_err(|reason| RowError::Corrupt { path: None, reason })?;
        if found != count {
            return Err(RowError::Corrupt {
                path: None,
                reason: format!("expected {count} rows, found {found}"),
            });
        }
        let end = data.len();
        Ok(RowBlock {
            bytes: Bytes::Owned(Arc::new(data)),
            start: 0,
            end,
            count,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the block has no rows.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Size of the encoded rows in bytes.
    pub fn byte_len(&self) -> usize {
        self.end - self.start
    }

    /// True when the rows live in a memory-mapped file rather than the heap.
    pub fn is_mapped(&self) -> bool {
        matches!(self.bytes, Bytes::Mapped(_))
    }

    /// The encoded rows.
    pub fn encoded(&self) -> &[u8] {
        let all: &[u8] = match &self.bytes {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        };
        &all[self.start..self.end]
    }

    /// Iterates over the rows as `(key, value)` byte slices.
    pub fn iter(&self) -> RowIter<'_> {
        RowIter {
            buf: self.encoded(),
            remaining: self.count,
        }
    }

    /// Splits the rows into consecutive pieces of at most `max_bytes` each
    /// (a single row larger than that forms a piece of its own).
    pub fn chunks(&self, max_bytes: usize) -> Vec<(&[u8], usize)> {
        let buf = self.encoded();
        let mut out = Vec::new();
        let (mut start, mut pos, mut n) = (0usize, 0usize, 0usize);
        for (k, v) in self.iter() {
            let row_len = varint_len(k.len()) + k.len() + varint_len(v.len()) + v.len();
            if n > 0 && pos + row_len - start > max_bytes {
                out.push((&buf[start..pos], n));
                start = pos;
                n = 0;
            }
            pos += row_len;
            n += 1;
        }
        if n > 0 {
            out.push((&buf[start..pos], n));
        }
        out
    }

    /// Writes the block to a file (header + rows), via a temporary name and a
    /// rename so that a crash never leaves a half-written file under `path`.
    pub fn write_file(&self, path: &Path) -> Result<(), RowError> {
        let io = |source| RowError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp");
        {
            let f = File::create(&tmp).map_err(io)?;
            let mut w = BufWriter::with_capacity(1 << 20, f);
            w.write_all(MAGIC).map_err(io)?;
            w.write_all(&[VERSION]).map_err(io)?;
            w.write_all(&(self.count as u64).to_le_bytes())
                .map_err(io)?;
            w.write_all(self.encoded()).map_err(io)?;
            w.flush().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Opens a block file written by [`RowBlock::write_file`], memory-mapped.
    pub fn open_file(path: &Path) -> Result<Self, RowError> {
        Self::map_file(path, true)
    }

    /// Maps a block file; `verify` walks every row (touching every page).
    fn map_file(path: &Path, verify: bool) -> Result<Self, RowError> {
        let p = path.display().to_string();
        let file = File::open(path).map_err(|source| RowError::Io {
            path: p.clone(),
            source,
        })?;
        let len = file
            .metadata()
            .map_err(|source| RowError::Io {
                path: p.clone(),
                source,
            })?
            .len();
        let corrupt = |reason: String| RowError::Corrupt {
            path: Some(p.clone()),
            reason,
        };
        if len < HEADER as u64 {
            return Err(corrupt(format!("{len} bytes is shorter than the header")));
        }
        // SAFETY: the file is private to fedflow and written once before it is
        // mapped (write to .tmp, then rename); nothing truncates it while mapped.
        let map = unsafe { Mmap::map(&file) }.map_err(|source| RowError::Io {
            path: p.clone(),
            source,
        })?;
        if &map[..4] != MAGIC || map[4] != VERSION {
            return Err(corrupt(
                "not a fedflow row block (bad magic or version)".into(),
            ));
        }
        let mut n = [0u8; 8];
        n.copy_from_slice(&map[5..13]);
        let count = u64::from_le_bytes(n) as usize;
        if verify {
            let found = count_rows(&map[HEADER..]).map_err(&corrupt)?;
            if found != count {
                return Err(corrupt(format!("header says {count} rows, found {found}")));
            }
        }
        let end = map.len();
        Ok(RowBlock {
            bytes: Bytes::Mapped(Arc::new(map)),
            start: HEADER,
            end,
            count,
        })
    }

    /// Concatenates blocks into one owned block.
    pub fn concat(blocks: &[RowBlock]) -> RowBlock {
        let total: usize = blocks.iter().map(|b| b.byte_len()).sum();
        let mut data = Vec::with_capacity(total);
        let mut count = 0;
        for b in blocks {
            data.extend_from_slice(b.encoded());
            count += b.count;
        }
        RowBlock {
            bytes: Bytes::Owned(Arc::new(data)),
            start: 0,
            end: total,
            count,
        }
    }
}

/// Iterator over the rows of a [`RowBlock`].
pub struct RowIter<'a> {
    buf: &'a [u8],
    remaining: usize,
}

impl<'a> Iterator for RowIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        // The block was validated when it was built or opened.
        let (kl, n) = read_varint(self.buf)?;
        let k = self.buf.get(n..n + kl)?;
        let rest = &self.buf[n + kl..];
        let (vl, m) = read_varint(rest)?;
        let v = rest.get(m..m + vl)?;
        self.buf = &rest[m + vl..];
        Some((k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for RowIter<'_> {}

/// Builds a [`RowBlock`] row by row.
#[derive(Default)]
pub struct RowBlockBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl RowBlockBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        RowBlockBuilder {
            buf: Vec::with_capacity(bytes),
            count: 0,
        }
    }

    /// Appends a row.
    #[inline]
    pub fn push(&mut self, key: &[u8], value: &[u8]) {
        write_varint(&mut self.buf, key.len());
        self.buf.extend_from_slice(key);
        write_varint(&mut self.buf, value.len());
        self.buf.extend_from_slice(value);
        self.count += 1;
    }

    /// Appends already-encoded rows (as returned by [`RowBlock::chunks`]).
    pub fn push_encoded(&mut self, encoded: &[u8], count: usize) {
        self.buf.extend_from_slice(encoded);
        self.count += count;
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no row was pushed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes so far.
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }

    /// The finished block.
    pub fn finish(self) -> RowBlock {
        let end = self.buf.len();
        RowBlock {
            bytes: Bytes::Owned(Arc::new(self.buf)),
            start: 0,
            end,
            count: self.count,
        }
    }
}

/// Builds a [`RowBlock`] from encoded chunks in bounded memory: rows stay in
/// memory up to `limit` bytes, then move to a file in `dir` that is
/// memory-mapped (and unlinked) at [`finish`](SpillingBlockBuilder::finish).
/// What a receiver uses so that a table larger than memory can arrive.
pub struct SpillingBlockBuilder {
    mem: RowBlockBuilder,
    file: Option<(std::path::PathBuf, BufWriter<File>)>,
    count: usize,
    limit: usize,
    dir: std::path::PathBuf,
}

impl SpillingBlockBuilder {
    /// Spills to a file under `dir` once more than `limit` bytes arrived.
    pub fn new(dir: &Path, limit: usize) -> Self {
        SpillingBlockBuilder {
            mem: RowBlockBuilder::new(),
            file: None,
            count: 0,
            limit,
            dir: dir.to_path_buf(),
        }
    }

    /// Appends already-encoded rows; callers validate them first (e.g. with
    /// [`RowBlock::from_encoded`]): the finished block trusts them.
    pub fn push_encoded(&mut self, encoded: &[u8], count: usize) -> Result<(), RowError> {
        self.count += count;
        if let Some((path, w)) = self.file.as_mut() {
            return w.write_all(encoded).map_err(|source| RowError::Io {
                path: path.display().to_string(),
                source,
            });
        }
        self.mem.push_encoded(encoded, count);
        if self.mem.byte_len() > self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// True once the rows live in a file.
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    fn spill(&mut self) -> Result<(), RowError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| RowError::Io {
            path: self.dir.display().to_string(),
            source,
        })?;
        let path = self.dir.join(format!(
            "recv-{}-{:016x}.ffrb",
            std::process::id(),
            next_spill_id()
        ));
        let io = |source| RowError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io)?);
        // The count is patched in at finish.
        w.write_all(MAGIC).map_err(io)?;
        w.write_all(&[VERSION]).map_err(io)?;
        w.write_all(&0u64.to_le_bytes()).map_err(io)?;
        w.write_all(&std::mem::take(&mut self.mem).buf)
            .map_err(io)?;
        self.file = Some((path, w));
        Ok(())
    }

    /// The finished block: in memory, or mapped from its (already unlinked) file.
    pub fn finish(self) -> Result<RowBlock, RowError> {
        let Some((path, w)) = self.file else {
            return Ok(self.mem.finish());
        };
        let io = |source| RowError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut f = w.into_inner().map_err(|e| io(e.into_error()))?;
        use std::io::{Seek, SeekFrom};
        f.seek(SeekFrom::Start(5)).map_err(io)?;
        f.write_all(&(self.count as u64).to_le_bytes())
            .map_err(io)?;
        drop(f);
        // Every chunk was validated as it was pushed: mapping without a walk
        // keeps the pages on disk until the table is read.
        let block = RowBlock::map_file(&path, false);
        // The mapping outlives the name; nothing is left behind on disk.
        let _ = std::fs::remove_file(&path);
        block
    }
}

fn next_spill_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) ^ (std::process::id() as u64) << 40
}

#[inline]
fn write_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

#[inline]
fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

#[inline]
fn read_varint(buf: &[u8]) -> Option<(usize, usize)> {
    let mut n: usize = 0;
    let mut shift = 0;
    for (i, b) in buf.iter().enumerate() {
        if shift > 63 {
            return None;
        }
        // The 10th byte holds bit 63 only.
        if shift == 63 && b & 0x7e != 0 {
            return None;
        }
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            // Only the shortest encoding is valid (the writer emits it and
            // `chunks` relies on it): a last byte of 0 after the first is padding.
            if i > 0 && *b == 0 {
                return None;
            }
            return Some((n, i + 1));
        }
        shift += 7;
    }
    None
}

fn count_rows(mut buf: &[u8]) -> Result<usize, String> {
    let mut count = 0;
    while !buf.is_empty() {
        for part in ["key", "value"] {
            let (l, n) =
                read_varint(buf).ok_or_else(|| format!("row {count}: bad {part} length"))?;
            let end = n
                .checked_add(l)
                .filter(|&e| e <= buf.len())
                .ok_or_else(|| format!("row {count}: {part} runs past the end"))?;
            buf = &buf[end..];
        }
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {

    #[test]
    fn overlong_and_padded_lengths_are_refused() {
        // A key length of usize::MAX (n + l would wrap) and a padded varint.
        assert!(super::count_rows(&[
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00
        ])
        .is_err());
        assert!(super::count_rows(&[0x80, 0x00, 0x00]).is_err());
        assert_eq!(super::count_rows(&[0x01, b'k', 0x00]), Ok(1));
    }

    #[test]
    fn spilling_builder_moves_big_blocks_to_an_unlinked_mapped_file() {
        let dir = std::env::temp_dir().join(format!("ffrb-spill-{}", std::process::id()));
        let mut src = RowBlockBuilder::new();
        for i in 0..10_000u32 {
            src.push(&i.to_le_bytes(), &[7u8; 20]);
        }
        let src = src.finish();
        for limit in [usize::MAX, 1000] {
            let mut b = SpillingBlockBuilder::new(&dir, limit);
            for (bytes, n) in src.chunks(4096) {
                b.push_encoded(bytes, n).unwrap();
            }
            assert_eq!(b.spilled(), limit == 1000);
            let out = b.finish().unwrap();
            assert_eq!(out.len(), 10_000);
            assert_eq!(out.encoded(), src.encoded());
        }
        // The spill file is gone from the directory (only the mapping holds it).
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir(&dir);
    }
    use super::*;

    fn sample(n: usize) -> RowBlock {
        let mut b = RowBlockBuilder::new();
        for i in 0..n {
            b.push(&(i as u64).to_le_bytes(), &vec![7u8; i % 300]);
        }
        b.finish()
    }

    #[test]
    fn build_iterate_chunk() {
        let block = sample(1000);
        assert_eq!(block.len(), 1000);
        let rows: Vec<_> = block.iter().collect();
        assert_eq!(rows[999].1.len(), 999 % 300);
        let chunks = block.chunks(4096);
        assert!(chunks.len() > 10);
        assert_eq!(chunks.iter().map(|c| c.1).sum::<usize>(), 1000);
        let mut rebuilt = RowBlockBuilder::new();
        for (bytes, n) in &chunks {
            assert!(bytes.len() <= 4096);
            rebuilt.push_encoded(bytes, *n);
        }
        assert_eq!(rebuilt.finish().encoded(), block.encoded());
    }

    #[test]
    fn file_round_trip_and_corruption() {
        let dir = std::env::temp_dir().join(format!("ffrb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p0.ffrb");
        let block = sample(500);
        block.write_file(&path).unwrap();
        let back = RowBlock::open_file(&path).unwrap();
        assert!(back.is_mapped());
        assert_eq!(back.encoded(), block.encoded());
        // Truncate: must be rejected, not misread.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(RowBlock::open_file(&path).is_err());
        assert!(RowBlock::from_encoded(vec![5, 1, 2], 1).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
