//! `fedflow worker`: what Spark executors run through `SELECT TRANSFORM`.
//!
//! A Spark table of this engine holds one row per fedflow partition:
//! `(p INT, tag INT, c BIGINT, b STRING)` = partition index, a tag (0 for a
//! table's own rows; the source index for shuffle pieces; 0/1 for the left
//! and right side of a binary op), the row count and the partition's
//! [`RowBlock`] bytes in base64. The worker reads such lines (tab-separated)
//! on stdin, grouped by `p` and sorted by `tag` within a group, runs one
//! [`Step`] per group, and writes lines of the same shape on stdout.
//!
//! Any malformed line ends the worker with an error naming the line: a worker
//! that skipped it would silently yield fewer rows.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use fedflow_computing::op::registry;
use fedflow_computing::standalone::kernels;
use fedflow_computing::{CombineFn, OpSpec, PartitionFn, RawOp};
use fedflow_core::{codec, RowBlock, RowBlockBuilder};
use hashbrown::HashSet;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::sync::Arc;

/// What the worker does with each group of lines (one fedflow partition).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Step {
    /// Runs a partition op on the partition's block and emits it, or (with
    /// `split`) emits shuffle pieces (`p` = destination, `tag` = source
    /// partition) for [`Step::Merge`].
    Map {
        /// The op.
        op: OpSpec,
        /// Partition count to split the output by (`partition_of(k, n)`), if any.
        split: Option<u32>,
    },
    /// Splits the partition's block into shuffle pieces for `partitions`.
    Split {
        /// The new partition count.
        partitions: u32,
    },
    /// Merges the pieces of a partition (in source order) into its block:
    /// duplicate keys keep the last row, or are merged by `reducer`.
    Merge {
        /// `map_reduce_partitions`' reducer.
        reducer: Option<OpSpec>,
    },
    /// Inner join of tag 0 (left) and tag 1 (right) by key.
    Join {
        /// The combine op.
        op: OpSpec,
    },
    /// Union of tag 0 and tag 1.
    Union {
        /// Merges keys present on both sides (else the left value wins).
        op: Option<OpSpec>,
    },
    /// Rows of tag 0 whose key is not in tag 1.
    Subtract,
    /// Keeps each row with probability `fraction` (per-partition seeded RNG).
    SampleFraction {
        /// Probability of keeping a row.
        fraction: f64,
        /// The sample's seed.
        seed: u64,
    },
    /// Keeps the rows of tag 0 at the positions listed (bincode `Vec<u64>`) in tag 1.
    Select,
    /// Folds the partition's values with a reduce op; emits one value (`c` = 1)
    /// or nothing for an empty partition.
    Fold {
        /// The reduce op.
        op: OpSpec,
    },
}

impl Step {
    /// What the step runs, for error messages (`op 'name'`, `repartition`).
    pub fn describe(&self) -> String {
        match self {
            Step::Map { op, .. } | Step::Join { op } | Step::Fold { op } => {
                format!("op '{}'", op.name)
            }
            Step::Merge { reducer: Some(op) } | Step::Union { op: Some(op) } => {
                format!("op '{}'", op.name)
            }
            Step::Merge { reducer: None } => "shuffle merge".into(),
            Step::Union { op: None } => "union".into(),
            Step::Split { .. } => "repartition".into(),
            Step::Subtract => "subtract_by_key".into(),
            Step::SampleFraction { .. } | Step::Select => "sample".into(),
        }
    }

    /// The step as a command-line argument (base64 of its bincode encoding).
    pub fn to_arg(&self) -> String {
        B64.encode(codec::encode(self).unwrap_or_default())
    }

    /// Parses a step from its command-line argument: the base64 itself, or
    /// `@path` of a file holding it (large steps, see the engine's
    /// `step_arg`).
    pub fn from_arg(arg: &str) -> Result<Step, String> {
        let owned;
        let text = match arg.strip_prefix('@') {
            Some(path) => {
                owned = std::fs::read_to_string(path)
                    .map_err(|e| format!("step argument: reading {path}: {e}"))?;
                owned.as_str()
            }
            None => arg,
        };
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| format!("step argument: expected base64, {e}"))?;
        codec::decode(&bytes).map_err(|e| format!("step argument: {e}"))
    }
}

pub use fedflow_core::lines::{format_line, parse_line, Line};

/// Runs the worker: reads lines from `input`, writes lines to `output`.
/// Errors name the input line.
pub fn run(step: &Step, input: impl BufRead, output: impl Write) -> Result<(), String> {
    let runner = Runner::new(step)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, output);
    let mut group: Vec<Line> = Vec::new();
    let mut done: HashSet<u32> = HashSet::new();
    let mut buf = String::new();
    let mut flush = |group: &mut Vec<Line>, out: &mut dyn Write| -> Result<(), String> {
        if group.is_empty() {
            return Ok(());
        }
        let p = group[0].p;
        let lines = runner
            .run_group(p, group)
            .map_err(|e| format!("partition {p}: {e}"))?;
        group.clear();
        for l in lines {
            buf.clear();
            format_line(l.p, l.tag, &l.block, &mut buf);
            buf.push('\n');
            out.write_all(buf.as_bytes())
                .map_err(|e| format!("writing output: {e}"))?;
        }
        Ok(())
    };
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: cannot read: {e}", n + 1))?;
        let parsed = parse_line(&line).map_err(|e| format!("line {}: {e}", n + 1))?;
        if group.first().is_some_and(|g| g.p != parsed.p) {
            let p = group[0].p;
            flush(&mut group, &mut out)?;
            done.insert(p);
        }
        if done.contains(&parsed.p) {
            return Err(format!(
                "line {}: partition {} seen again after other partitions (input must be grouped by p)",
                n + 1,
                parsed.p
            ));
        }
        group.push(parsed);
    }
    flush(&mut group, &mut out)?;
    out.flush().map_err(|e| format!("writing output: {e}"))
}

enum Built {
    Partition(Arc<dyn PartitionFn>),
    Combine(Arc<dyn CombineFn>),
}

fn build(spec: &OpSpec) -> Result<Built, String> {
    match registry::build(spec).map_err(|e| e.to_string())? {
        RawOp::Partition(f) => Ok(Built::Partition(f)),
        RawOp::Combine(f) => Ok(Built::Combine(f)),
    }
}

fn partition_fn(spec: &OpSpec) -> Result<Arc<dyn PartitionFn>, String> {
    match build(spec)? {
        Built::Partition(f) => Ok(f),
        Built::Combine(_) => Err(format!("op '{}' is not a partition op", spec.name)),
    }
}

fn combine_fn(spec: &OpSpec) -> Result<Arc<dyn CombineFn>, String> {
    match build(spec)? {
        Built::Combine(f) => Ok(f),
        Built::Partition(_) => Err(format!("op '{}' is not a combine op", spec.name)),
    }
}

/// A [`Step`] with its ops rebuilt.
struct Runner<'a> {
    step: &'a Step,
    partition: Option<Arc<dyn PartitionFn>>,
    combine: Option<Arc<dyn CombineFn>>,
}

impl<'a> Runner<'a> {
    fn new(step: &'a Step) -> Result<Self, String> {
        let (partition, combine) = match step {
            Step::Map { op, .. } => (Some(partition_fn(op)?), None),
            Step::Merge { reducer: Some(op) } | Step::Union { op: Some(op) } => {
                (None, Some(combine_fn(op)?))
            }
            Step::Join { op } | Step::Fold { op } => (None, Some(combine_fn(op)?)),
            _ => (None, None),
        };
        Ok(Runner {
            step,
            partition,
            combine,
        })
    }

    fn side(group: &[Line], tag: i64) -> RowBlock {
        let blocks: Vec<RowBlock> = group
            .iter()
            .filter(|l| l.tag == tag)
            .map(|l| l.block.clone())
            .collect();
        match blocks.len() {
            0 => RowBlock::empty(),
            1 => blocks[0].clone(),
            _ => RowBlock::concat(&blocks),
        }
    }

    fn single(group: &[Line]) -> Result<&RowBlock, String> {
        match group {
            [one] => Ok(&one.block),
            _ => Err(format!("expected one block, got {}", group.len())),
        }
    }

    fn run_group(&self, p: u32, group: &[Line]) -> Result<Vec<Line>, String> {
        let one = |block: RowBlock| vec![Line { p, tag: 0, block }];
        let err = |e: fedflow_computing::OpError| e.to_string();
        match self.step {
            Step::Map { split, .. } => {
                let op = self.partition.as_ref().ok_or("no op")?;
                let input = Self::single(group)?;
                let mut out = RowBlockBuilder::with_capacity(input.byte_len());
                op.run(p as usize, input, &mut out).map_err(err)?;
                let block = out.finish();
                match split {
                    None => Ok(one(block)),
                    Some(n) => Ok(pieces(p, &block, *n as usize)),
                }
            }
            Step::Split { partitions } => Ok(pieces(p, Self::single(group)?, *partitions as usize)),
            Step::Merge { .. } => {
                let blocks: Vec<RowBlock> = group.iter().map(|l| l.block.clone()).collect();
                Ok(one(
                    kernels::dedupe(&blocks, self.combine.as_deref()).map_err(err)?
                ))
            }
            Step::Join { .. } => {
                let op = self.combine.as_ref().ok_or("no op")?;
                let (l, r) = (Self::side(group, 0), Self::side(group, 1));
                Ok(one(kernels::join(&l, &r, op.as_ref())
                    .map_err(err)?
                    .finish()))
            }
            Step::Union { .. } => {
                let (l, r) = (Self::side(group, 0), Self::side(group, 1));
                let out = kernels::union(&l, &r, self.combine.as_deref()).map_err(err)?;
                Ok(one(out.finish()))
            }
            Step::Subtract => {
                let (l, r) = (Self::side(group, 0), Self::side(group, 1));
                Ok(one(kernels::subtract(&l, &r).finish()))
            }
            Step::SampleFraction { fraction, seed } => {
                let block = Self::single(group)?;
                let out = kernels::sample_fraction(block, *fraction, *seed, p as usize);
                Ok(one(out.finish()))
            }
            Step::Select => {
                let block = Self::side(group, 0);
                let picks = Self::side(group, 1);
                let mut want: Vec<u64> = Vec::new();
                for (_, v) in picks.iter() {
                    want.extend(codec::decode::<Vec<u64>>(v).map_err(|e| e.to_string())?);
                }
                Ok(one(kernels::select(&block, &want).finish()))
            }
            Step::Fold { .. } => {
                let op = self.combine.as_ref().ok_or("no op")?;
                let block = Self::single(group)?;
                match kernels::fold(block, op.as_ref()).map_err(err)? {
                    None => Ok(Vec::new()),
                    Some(v) => {
                        let mut b = RowBlockBuilder::new();
                        b.push(&[], &v);
                        Ok(one(b.finish()))
                    }
                }
            }
        }
    }
}

/// Splits a block by destination partition: one piece per non-empty
/// destination, tagged with the source partition.
pub fn pieces(src: u32, block: &RowBlock, n: usize) -> Vec<Line> {
    kernels::split(block, n)
        .into_iter()
        .enumerate()
        .filter(|(_, b)| !b.is_empty())
        .map(|(dst, block)| Line {
            p: dst as u32,
            tag: src as i64,
            block,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fedflow_core::partition_of;

    fn block(rows: &[(&[u8], &[u8])]) -> RowBlock {
        let mut b = RowBlockBuilder::new();
        for (k, v) in rows {
            b.push(k, v);
        }
        b.finish()
    }

    fn line(p: u32, tag: i64, b: &RowBlock) -> String {
        let mut s = String::new();
        format_line(p, tag, b, &mut s);
        s
    }

    #[test]
    fn split_then_merge_round_trips_lines() {
        let b = block(&[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]);
        let input = format!("{}\n", line(0, 0, &b));
        let mut out = Vec::new();
        run(&Step::Split { partitions: 2 }, input.as_bytes(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Line> = text.lines().map(|l| parse_line(l).unwrap()).collect();
        assert_eq!(lines.iter().map(|l| l.block.len()).sum::<usize>(), 3);
        for l in &lines {
            for (k, _) in l.block.iter() {
                assert_eq!(partition_of(k, 2), l.p as usize);
            }
        }
    }

    #[test]
    fn malformed_input_is_an_error_naming_the_line() {
        let b = block(&[(b"a", b"1")]);
        let good = line(0, 0, &b);
        for (bad, want) in [
            (
                "0\t0\t1".to_string(),
                "line 2: expected 4 tab-separated fields",
            ),
            ("x\t0\t1\tAA==".to_string(), "line 2: field p"),
            (
                "1\t0\t1\t!!!".to_string(),
                "line 2: field rows: expected base64",
            ),
            ("1\t0\t5\t".to_string(), "line 2: field rows: empty"),
            (
                line(1, 0, &b).replace("\t1\t", "\t2\t"),
                "line 2: field rows",
            ),
        ] {
            let input = format!("{good}\n{bad}\n");
            let e = run(&Step::Split { partitions: 2 }, input.as_bytes(), Vec::new()).unwrap_err();
            assert!(e.starts_with(want), "{e} (wanted {want})");
        }
        let input = format!("{good}\n{}\n{good}\n", line(1, 0, &b));
        let e = run(&Step::Subtract, input.as_bytes(), Vec::new()).unwrap_err();
        assert!(e.contains("seen again"), "{e}");
        assert!(Step::from_arg("not base64!").is_err());
        // A large step travels as @file.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("step");
        std::fs::write(&f, Step::Subtract.to_arg()).unwrap();
        assert!(matches!(
            Step::from_arg(&format!("@{}", f.display())),
            Ok(Step::Subtract)
        ));
        let e = Step::from_arg("@/nonexistent/step").unwrap_err();
        assert!(e.contains("reading /nonexistent/step"), "{e}");
    }

    #[test]
    fn unknown_op_is_an_error() {
        let step = Step::Fold {
            op: OpSpec {
                kind: fedflow_computing::OpKind::Reduce,
                name: "no_such_op".into(),
                args: vec![],
            },
        };
        let e = run(&step, "".as_bytes(), Vec::new()).unwrap_err();
        assert!(e.contains("no_such_op"), "{e}");
    }

    #[test]
    fn dedupe_keeps_first_position_last_value() {
        let a = block(&[(b"k1", b"a"), (b"k2", b"b")]);
        let b = block(&[(b"k1", b"c")]);
        let d = kernels::dedupe(&[a, b], None).unwrap();
        let rows: Vec<_> = d.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        assert_eq!(
            rows,
            vec![
                (b"k1".to_vec(), b"c".to_vec()),
                (b"k2".to_vec(), b"b".to_vec())
            ]
        );
    }
}
