//! What the network engines put on the wire: a message is a header (kind,
//! length or partition count) and numbered chunks of at most `chunk_bytes`;
//! the last chunk says how many there were. A value is sliced into chunks; a
//! table goes partition by partition, each chunk holding whole rows
//! ([`RowBlock::chunks`]). The receiver drops chunks it has already seen (by
//! index) and rebuilds the value or the table.

use fedflow_core::{RowBlock, SpillingBlockBuilder};
use std::borrow::Cow;

/// Most partitions a received table may announce (far above any real
/// table's; found by the `wire` fuzz target: 2^32 - 1 aborted the receiver).
pub(crate) const MAX_TABLE_PARTITIONS: u32 = 1 << 16;

/// What a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A value (`remote_bytes`).
    Object,
    /// A table, partition by partition.
    Table,
    /// Raw bytes streamed to a sink (benchmarks).
    Stream,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Object => "object",
            Kind::Table => "table",
            Kind::Stream => "stream",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Kind> {
        match s {
            "object" => Some(Kind::Object),
            "table" => Some(Kind::Table),
            "stream" => Some(Kind::Stream),
            _ => None,
        }
    }
}

/// A message's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub kind: Kind,
    /// Bytes of a value (0 for tables and streams).
    pub len: u64,
    /// Partitions of a table (0 otherwise).
    pub partitions: u32,
}

/// One outgoing chunk: partition, rows in it (tables), bytes.
pub(crate) type OutChunk<'a> = (u32, u64, Cow<'a, [u8]>);

/// The chunks of a value.
pub(crate) fn value_chunks(
    value: &[u8],
    chunk_bytes: usize,
) -> impl Iterator<Item = crate::Result<OutChunk<'_>>> {
    value
        .chunks(chunk_bytes.max(1))
        .map(|c| Ok((0u32, 0u64, Cow::Borrowed(c))))
}

/// Partition `p`'s chunks, owned (a block crosses to a sending thread).
fn block_chunks(p: u32, b: &RowBlock, chunk_bytes: usize) -> Vec<OutChunk<'static>> {
    b.chunks(chunk_bytes)
        .into_iter()
        .map(|(bytes, n)| (p, n as u64, Cow::Owned(bytes.to_vec())))
        .collect()
}

/// Owned chunks of a stream.
pub(crate) fn stream_chunks<'a>(
    chunks: &'a mut (dyn Iterator<Item = Vec<u8>> + Send),
) -> impl Iterator<Item = crate::Result<OutChunk<'static>>> + Send + 'a {
    chunks
        .filter(|c| !c.is_empty())
        .map(|c| Ok((0u32, 0u64, Cow::Owned(c))))
}

/// What a received message became.
pub(crate) enum Assembled {
    Bytes(Vec<u8>),
    Blocks(Vec<RowBlock>),
    Streamed(u64),
}

/// Where a stream's chunks go.
pub(crate) type Sink<'a> = dyn FnMut(&[u8]) + Send + 'a;

/// Rebuilds a message from its chunks, in order, dropping duplicates.
pub(crate) struct Assembler<'a> {
    expect: Kind,
    head: Option<Head>,
    next: u64,
    bytes: Vec<u8>,
    builders: Vec<SpillingBlockBuilder>,
    streamed: u64,
    sink: Option<&'a mut Sink<'a>>,
    /// Chunks dropped because they had been received already.
    pub duplicates: u64,
}

impl<'a> Assembler<'a> {
    /// Expects a message of `kind`.
    pub(crate) fn new(expect: Kind) -> Self {
        Assembler {
            expect,
            head: None,
            next: 0,
            bytes: Vec::new(),
            builders: Vec::new(),
            streamed: 0,
            sink: None,
            duplicates: 0,
        }
    }

    /// Expects a stream whose chunks go to `sink`.
    pub(crate) fn stream(sink: &'a mut (dyn FnMut(&[u8]) + Send)) -> Self {
        let mut a = Assembler::new(Kind::Stream);
        a.sink = Some(sink);
        a
    }

    /// The header, first.
    pub(crate) fn head(&mut self, head: Head) -> Result<(), String> {
        if let Some(h) = self.head {
            return if h == head {
                Ok(())
            } else {
                Err(format!("header changed from {h:?} to {head:?}"))
            };
        }
        if head.kind != self.expect {
            return Err(format!(
                "expected a {}, got a {}",
                self.expect.as_str(),
                head.kind.as_str()
            ));
        }
        match head.kind {
            Kind::Object => self.bytes.reserve(head.len.min(1 << 30) as usize),
            Kind::Table => {
                if head.partitions == 0 {
                    return Err("a table needs at least one partition".into());
                }
                // The count comes from the peer: one builder each is made
                // below, so an unbounded count aborts the process.
                if head.partitions > MAX_TABLE_PARTITIONS {
                    return Err(format!(
                        "a table of {} partitions announced, at most {MAX_TABLE_PARTITIONS} accepted",
                        head.partitions
                    ));
                }
                let dir = crate::recv_spill_dir();
                self.builders = (0..head.partitions)
                    .map(|_| SpillingBlockBuilder::new(&dir, crate::RECV_MEMORY_PER_PARTITION))
                    .collect();
            }
            Kind::Stream => {}
        }
        self.head = Some(head);
        Ok(())
    }

    /// The index of the next chunk expected.
    pub(crate) fn next_index(&self) -> u64 {
        self.next
    }

    /// One chunk; `Ok(false)` when it was a duplicate and was dropped.
    pub(crate) fn chunk(
        &mut self,
        idx: u64,
        part: u32,
        rows: u64,
        data: &[u8],
    ) -> Result<bool, String> {
        let Some(head) = self.head else {
            return Err("a chunk before the header".into());
        };
        if idx < self.next {
            self.duplicates += 1;
            return Ok(false);
        }
        if idx > self.next {
            return Err(format!("chunk {idx} arrived, expected {}", self.next));
        }
        match head.kind {
            Kind::Object => self.bytes.extend_from_slice(data),
            Kind::Table => {
                let b = self.builders.get_mut(part as usize).ok_or_else(|| {
                    format!("chunk {idx} for partition {part} of {}", head.partitions)
                })?;
                // Validates that the chunk holds exactly `rows` whole rows.
                let block = RowBlock::from_encoded(data.to_vec(), rows as usize)
                    .map_err(|e| e.to_string())?;
                b.push_encoded(block.encoded(), rows as usize)
                    .map_err(|e| e.to_string())?;
            }
            Kind::Stream => {
                self.streamed += data.len() as u64;
                if let Some(s) = self.sink.as_mut() {
                    s(data);
                }
            }
        }
        self.next += 1;
        Ok(true)
    }

    /// The end: `total` chunks were sent.
    pub(crate) fn finish(self, total: u64) -> Result<Assembled, String> {
        let Some(head) = self.head else {
            return Err("no header".into());
        };
        if total != self.next {
            return Err(format!("{total} chunks sent, {} received", self.next));
        }
        Ok(match head.kind {
            Kind::Object => {
                if self.bytes.len() as u64 != head.len {
                    return Err(format!(
                        "expected {} bytes, got {}",
                        head.len,
                        self.bytes.len()
                    ));
                }
                Assembled::Bytes(self.bytes)
            }
            Kind::Table => Assembled::Blocks(
                self.builders
                    .into_iter()
                    .map(|b| b.finish())
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string())?,
            ),
            Kind::Stream => Assembled::Streamed(self.streamed),
        })
    }
}

/// FNV-1a, for shortening long queue names the same way in every process.
pub(crate) fn fnv64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// What the network engines implement; the `Federation` methods follow.
pub(crate) trait Transport: Sync {
    fn chunk_bytes(&self) -> usize;
    /// Sends one message. An `Err` among `chunks` stops the message before
    /// its last chunk (the receiver never sees it complete) and is returned.
    fn send(
        &self,
        dst: fedflow_core::Party,
        name: &str,
        tag: &str,
        head: Head,
        chunks: &mut (dyn Iterator<Item = crate::Result<OutChunk<'_>>> + Send),
    ) -> crate::Result<()>;
    fn recv(
        &self,
        src: fedflow_core::Party,
        name: &str,
        tag: &str,
        asm: &mut Assembler<'_>,
    ) -> crate::Result<Assembled>;
}

/// Streams `chunks` to `dst` as one message (benchmarks).
pub(crate) fn remote_stream(
    t: &impl Transport,
    name: &str,
    tag: &str,
    dst: fedflow_core::Party,
    chunks: &mut (dyn Iterator<Item = Vec<u8>> + Send),
) -> crate::Result<()> {
    let head = Head {
        kind: Kind::Stream,
        len: 0,
        partitions: 0,
    };
    t.send(dst, name, tag, head, &mut stream_chunks(chunks))
}

/// Receives a stream from `src`, passing each chunk to `sink`; returns the bytes.
pub(crate) fn get_stream(
    t: &impl Transport,
    name: &str,
    tag: &str,
    src: fedflow_core::Party,
    sink: &mut (dyn FnMut(&[u8]) + Send),
) -> crate::Result<u64> {
    let mut asm = Assembler::stream(sink);
    match t.recv(src, name, tag, &mut asm)? {
        Assembled::Streamed(n) => Ok(n),
        _ => unreachable!("a stream assembler yields a stream"),
    }
}

pub(crate) fn remote_bytes(
    t: &impl Transport,
    name: &str,
    tag: &str,
    value: &[u8],
    dst: &[fedflow_core::Party],
) -> crate::Result<()> {
    for &d in dst {
        let head = Head {
            kind: Kind::Object,
            len: value.len() as u64,
            partitions: 0,
        };
        t.send(
            d,
            name,
            tag,
            head,
            &mut value_chunks(value, t.chunk_bytes()),
        )?;
        tracing::trace!(name, tag, to = %d, bytes = value.len(), "remote");
    }
    Ok(())
}

pub(crate) fn get_bytes(
    t: &impl Transport,
    name: &str,
    tag: &str,
    src: &[fedflow_core::Party],
) -> crate::Result<Vec<Vec<u8>>> {
    src.iter()
        .map(
            |&s| match t.recv(s, name, tag, &mut Assembler::new(Kind::Object))? {
                Assembled::Bytes(b) => Ok(b),
                _ => unreachable!("an object assembler yields bytes"),
            },
        )
        .collect()
}

/// Sends `table` to every `dst` as it is read, one partition at a time
/// ([`fedflow_computing::Table::for_each_block`]): a sending thread per
/// destination, at most one partition in flight to each, so a table kept
/// elsewhere (Spark) never sits whole in this process.
pub(crate) fn remote_table(
    t: &impl Transport,
    name: &str,
    tag: &str,
    table: &dyn fedflow_computing::Table,
    dst: &[fedflow_core::Party],
) -> crate::Result<()> {
    use crate::FederationError;
    use fedflow_computing::ComputingError;
    let head = Head {
        kind: Kind::Table,
        len: 0,
        partitions: table.partitions() as u32,
    };
    let chunk_bytes = t.chunk_bytes();
    std::thread::scope(|s| {
        let mut txs = Vec::with_capacity(dst.len());
        let mut senders = Vec::with_capacity(dst.len());
        for &d in dst {
            let (tx, rx) = std::sync::mpsc::sync_channel::<crate::Result<(u32, RowBlock)>>(1);
            txs.push(tx);
            senders.push(s.spawn(move || {
                let mut chunks = rx.into_iter().flat_map(|item| match item {
                    Ok((p, b)) => block_chunks(p, &b, chunk_bytes)
                        .into_iter()
                        .map(Ok)
                        .collect(),
                    Err(e) => vec![Err(e)],
                });
                t.send(d, name, tag, head, &mut chunks)
            }));
        }
        let mut all_stopped = false;
        let produced = table.for_each_block(&mut |p, b| {
            let p = u32::try_from(p).map_err(|_| ComputingError::Engine {
                engine: "federation",
                message: format!("partition {p} out of range"),
            })?;
            // A sender that stopped reports its own error below.
            let live = txs
                .iter()
                .filter(|tx| tx.send(Ok((p, b.clone()))).is_ok())
                .count();
            if live == 0 {
                all_stopped = true;
                return Err(ComputingError::Engine {
                    engine: "federation",
                    message: "every destination stopped receiving".into(),
                });
            }
            Ok(())
        });
        if let Err(e) = &produced {
            // The messages must not look complete.
            for tx in &txs {
                let _ = tx.send(Err(FederationError::Usage(format!(
                    "the table being sent failed: {e}"
                ))));
            }
        }
        drop(txs);
        let mut sent: crate::Result<()> = Ok(());
        for (h, d) in senders.into_iter().zip(dst) {
            let r = h.join().unwrap_or_else(|_| {
                Err(FederationError::Usage(format!(
                    "sending '{name}' (tag '{tag}') to {d}: the sending thread panicked"
                )))
            });
            if sent.is_ok() {
                sent = r;
            }
        }
        match produced {
            // The senders' errors say why they stopped.
            Err(e) if all_stopped => sent.and(Err(e.into())),
            // The table's own error says more than the senders' stop.
            Err(e) => Err(e.into()),
            Ok(()) => sent,
        }
    })
}

pub(crate) fn get_tables(
    t: &impl Transport,
    name: &str,
    tag: &str,
    src: &[fedflow_core::Party],
    session: &dyn fedflow_computing::Session,
) -> crate::Result<Vec<std::sync::Arc<dyn fedflow_computing::Table>>> {
    src.iter()
        .map(
            |&s| match t.recv(s, name, tag, &mut Assembler::new(Kind::Table))? {
                Assembled::Blocks(b) => Ok(session.load_blocks(b)?),
                _ => unreachable!("a table assembler yields blocks"),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_dropped_and_gaps_refused() {
        let mut a = Assembler::new(Kind::Object);
        a.head(Head {
            kind: Kind::Object,
            len: 6,
            partitions: 0,
        })
        .unwrap();
        assert!(a.chunk(0, 0, 0, b"abc").unwrap());
        assert!(!a.chunk(0, 0, 0, b"abc").unwrap());
        assert!(a.chunk(2, 0, 0, b"x").is_err());
        assert!(a.chunk(1, 0, 0, b"def").unwrap());
        assert_eq!(a.duplicates, 1);
        let Assembled::Bytes(b) = a.finish(2).unwrap() else {
            panic!()
        };
        assert_eq!(b, b"abcdef");
    }

    #[test]
    fn a_huge_partition_count_is_refused_not_allocated() {
        let mut a = Assembler::new(Kind::Table);
        let e = a
            .head(Head {
                kind: Kind::Table,
                len: 0,
                partitions: u32::MAX,
            })
            .unwrap_err();
        assert!(e.contains("4294967295 partitions"), "{e}");
        assert!(a.chunk(0, 0, 0, b"").is_err(), "no header was taken");
        let mut ok = Assembler::new(Kind::Table);
        ok.head(Head {
            kind: Kind::Table,
            len: 0,
            partitions: MAX_TABLE_PARTITIONS,
        })
        .unwrap();
    }
}
