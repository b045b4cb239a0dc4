//! The bodies of fedflow's fuzz targets, shared by the libFuzzer binaries
//! (`fuzz_targets/*.rs`, run by `cargo fuzz run <target>`) and the plain
//! random/mutation driver (`src/bin/drive.rs`, which needs no nightly flags).
//!
//! Every target feeds arbitrary bytes to one parser that reads hostile input
//! and checks what a correct parser must do: return, never panic, abort or
//! allocate without bound; and when it accepts, what it accepted must hold
//! together (a parsed line formats back to the same line, an uploaded table
//! holds as many rows as it says, an assembled table holds the rows sent).
//!
//! * [`lines`]: `fedflow_core::lines::parse_line` (the text form of a table
//!   partition that path engines and Spark read back) and
//!   `RowBlock::from_encoded` (the row-block decoder every engine uses).
//! * [`upload_csv`]: the CSV parser of `data upload`
//!   (`fedflow_storage::upload`, which reads a file: the input is written to
//!   a temporary file first).
//! * [`upload_conf`]: `fedflow_storage::parse_upload_conf`.
//! * [`job_conf`]: `JobConf::parse`, `Dsl::parse` and `runner::validate`.
//! * [`wire`]: the federation wire decoder (the `Assembler` of
//!   `crates/fedflow-federation/src/wire.rs`, compiled in from its source as
//!   that module is private to its crate).

use fedflow_core::lines::{format_line, parse_line};
use fedflow_core::{RowBlock, RowBlockBuilder};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

// What `wire.rs` refers to as `crate::…` in its own crate.
#[doc(hidden)]
pub use fedflow_federation::{recv_spill_dir, FederationError, Result, RECV_MEMORY_PER_PARTITION};

#[allow(dead_code, unused_imports)]
#[path = "../../crates/fedflow-federation/src/wire.rs"]
mod wire_src;

/// The targets by name, as `cargo fuzz` and the driver call them.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("lines", lines),
    ("upload_csv", upload_csv),
    ("upload_conf", upload_conf),
    ("job_conf", job_conf),
    ("wire", wire),
];

/// A scratch directory for the whole process (kept until it exits).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::Builder::new()
            .prefix("fedflow-fuzz-")
            .tempdir()
            .expect("a temporary directory for the fuzz target")
            .keep();
        // Received tables spill here, not into the user's data dir.
        std::env::set_var("FEDFLOW_SPILL_DIR", d.join("spill"));
        d
    })
}

/// Reads fields off the front of the fuzz input; zeros once it is used up.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        (self.u32() as u64) | ((self.u32() as u64) << 32)
    }
    /// A small number: mostly under 16, sometimes anything.
    fn small(&mut self) -> u64 {
        match self.u8() {
            b @ 0..=239 => (b % 16) as u64,
            240..=247 => self.u32() as u64,
            _ => self.u64(),
        }
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `parse_line` on every line of the input, and `RowBlock::from_encoded` on
/// the raw bytes. An accepted line formats back to itself (up to `\N` and a
/// trailing `\r`) and its block's rows can all be read.
pub fn lines(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n') {
        let Ok(l) = parse_line(line) else { continue };
        let rows = l.block.iter().count();
        assert_eq!(
            rows,
            l.block.len(),
            "a parsed line's block reads back whole"
        );
        let mut out = String::new();
        format_line(l.p, l.tag, &l.block, &mut out);
        let again = parse_line(&out).expect("a formatted line parses");
        assert_eq!(again.p, l.p);
        assert_eq!(again.tag, l.tag);
        assert_eq!(again.block.len(), l.block.len());
        assert_eq!(again.block.encoded(), l.block.encoded());
    }
    // The block decoder: the first byte says how many rows are claimed.
    if let Some((&n, rest)) = data.split_first() {
        if let Ok(b) = RowBlock::from_encoded(rest.to_vec(), n as usize) {
            assert_eq!(b.iter().count(), n as usize);
            let mut total = 0;
            for (piece, count) in b.chunks(1 + (n as usize % 7) * 3) {
                let p = RowBlock::from_encoded(piece.to_vec(), count)
                    .expect("a chunk of a valid block is a valid block");
                total += p.len();
            }
            assert_eq!(total, b.len(), "chunks hold every row");
        }
    }
}

const DELIMITERS: &[&str] = &[",", "\t", " ", ";", "||", ":"];

/// The upload CSV parser: byte 0 holds the flags (head, extend_sid,
/// auto_increasing_sid, drop) and the partition count, byte 1 the
/// delimiter; the rest is the file. An accepted upload's table holds as many
/// rows as its meta says and downloads with that many lines.
pub fn upload_csv(data: &[u8]) {
    static CTX: OnceLock<fedflow_storage::StorageContext> = OnceLock::new();
    let dir = scratch();
    let ctx = CTX.get_or_init(|| {
        fedflow_storage::StorageContext::open_local(&dir.join("store")).expect("a local store")
    });
    let mut c = Cursor(data);
    let flags = c.u8();
    let delim = DELIMITERS[c.u8() as usize % DELIMITERS.len()];
    let file = dir.join("input.csv");
    if std::fs::write(&file, c.0).is_err() {
        return;
    }
    let head = flags & 1 != 0;
    let extend_sid = flags & 2 != 0;
    let conf = json!({
        "file": file.display().to_string(),
        "head": head as u8,
        "partition": 1 + (flags >> 4) as u32 % 8,
        "table_name": "t",
        "namespace": "fuzz",
        "id_delimiter": delim,
        "drop": 1,
        "extend_sid": extend_sid,
        "auto_increasing_sid": flags & 4 != 0,
    });
    let conf = fedflow_storage::parse_upload_conf(&conf, dir).expect("a valid upload conf");
    let Ok(meta) = ctx.upload(&conf) else { return };
    let blocks = ctx
        .read_table("fuzz", "t")
        .expect("an uploaded table reads back");
    let rows: usize = blocks.iter().map(RowBlock::len).sum();
    assert_eq!(
        rows as u64, meta.count,
        "the table holds the rows its meta says"
    );
    let out = dir.join("output.csv");
    let written = ctx
        .download("fuzz", "t", &out, delim)
        .expect("an uploaded table downloads");
    assert_eq!(written, meta.count, "download writes every row");
    let text = std::fs::read(&out).expect("the download's file");
    let lines = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    // Only data lines can contain a newline-free value; a header adds one.
    assert!(
        lines >= written,
        "download: {lines} lines for {written} rows"
    );
}

/// `parse_upload_conf` on the input as JSON (and, when it is no JSON object,
/// as the value of `file` in an otherwise valid conf).
pub fn upload_conf(data: &[u8]) {
    let base = scratch();
    match serde_json::from_slice::<Value>(data) {
        Ok(v) => {
            if let Ok(c) = fedflow_storage::parse_upload_conf(&v, base) {
                assert!(!c.table_name.is_empty() && !c.namespace.is_empty());
                assert!(
                    c.partition >= 1 && c.partition <= fedflow_storage::conf::MAX_PARTITIONS,
                    "partition {} accepted",
                    c.partition
                );
            }
        }
        Err(_) => {
            let s = String::from_utf8_lossy(data);
            let v = json!({"file": s, "table_name": s, "namespace": "ns", "id_delimiter": s});
            let _ = fedflow_storage::parse_upload_conf(&v, base);
        }
    }
}

/// A job conf and a DSL, split at the first NUL byte (no NUL: the same
/// bytes are tried as both), parsed and validated; an accepted pair's
/// per-party job parameters and component parameters are all read.
pub fn job_conf(data: &[u8]) {
    let (a, b) = match data.iter().position(|&x| x == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    let (Ok(cv), Ok(dv)) = (
        serde_json::from_slice::<Value>(a),
        serde_json::from_slice::<Value>(b),
    ) else {
        return;
    };
    let conf = fedflow_flow::JobConf::parse(&cv);
    let dsl = fedflow_flow::Dsl::parse(&dv);
    let (Ok(conf), Ok(dsl)) = (conf, dsl) else {
        return;
    };
    for c in &dsl.components {
        let _ = c.upstream();
    }
    if fedflow_flow::runner::validate(&conf, &dsl).is_err() {
        return;
    }
    for (p, idx) in conf.parties() {
        let _ = conf.job_parameters(p.role, idx);
        for c in &dsl.components {
            let _ = conf.component_parameters(&c.name, p.role, idx);
        }
    }
    let _ = conf.model_id_prefix();
}

/// The wire decoder: the input is a script of what a peer sends (headers,
/// chunks, the closing count) to an `Assembler` expecting an object, a table
/// or a stream. Whatever the peer sends, the assembler answers with a value
/// or an error; an accepted object has the announced length, an accepted
/// table the rows of its chunks.
pub fn wire(data: &[u8]) {
    use wire_src::{Assembled, Assembler, Head, Kind};
    scratch();
    let kinds = [Kind::Object, Kind::Table, Kind::Stream];
    let mut c = Cursor(data);
    let expect = kinds[c.u8() as usize % 3];
    let mut streamed = 0u64;
    let mut sink = |b: &[u8]| streamed += b.len() as u64;
    let mut asm = match expect {
        Kind::Stream => Assembler::stream(&mut sink),
        k => Assembler::new(k),
    };
    let mut rows_sent = 0u64;
    let mut bytes_sent = 0u64;
    let mut steps = 0;
    while !c.is_empty() && steps < 256 {
        steps += 1;
        match c.u8() % 4 {
            0 => {
                let head = Head {
                    kind: kinds[c.u8() as usize % 3],
                    len: c.small(),
                    partitions: c.small() as u32,
                };
                let _ = asm.head(head);
            }
            1 => {
                // Raw chunk bytes, as a peer may send anything.
                let idx = if c.u8() < 200 {
                    asm.next_index()
                } else {
                    c.small()
                };
                let (part, rows) = (c.small() as u32, c.small());
                let n = c.u8() as usize;
                let bytes = c.bytes(n);
                if let Ok(true) = asm.chunk(idx, part, rows, bytes) {
                    rows_sent += rows;
                    bytes_sent += bytes.len() as u64;
                }
            }
            2 => {
                // A well-formed table chunk, to reach the table path.
                let mut b = RowBlockBuilder::new();
                let n = c.u8() % 8;
                for _ in 0..n {
                    let kl = c.u8() as usize % 9;
                    let k = c.bytes(kl);
                    let vl = c.u8() as usize % 33;
                    let v = c.bytes(vl);
                    b.push(k, v);
                }
                let block = b.finish();
                let part = (c.u8() % 4) as u32;
                let idx = asm.next_index();
                if let Ok(true) = asm.chunk(idx, part, block.len() as u64, block.encoded()) {
                    rows_sent += block.len() as u64;
                    bytes_sent += block.byte_len() as u64;
                }
            }
            _ => break,
        }
    }
    let total = if c.u8() < 200 {
        asm.next_index()
    } else {
        c.small()
    };
    match asm.finish(total) {
        Ok(Assembled::Bytes(b)) => assert_eq!(b.len() as u64, bytes_sent),
        Ok(Assembled::Blocks(bs)) => {
            let rows: usize = bs.iter().map(|b| b.iter().count()).sum();
            assert_eq!(
                rows as u64, rows_sent,
                "an assembled table holds the rows sent"
            );
        }
        Ok(Assembled::Streamed(n)) => assert_eq!(n, bytes_sent),
        Err(_) => {}
    }
}
