//! The standalone federation engine: parties on one machine, in one process or
//! in several.
//!
//! Messages go through a mailbox directory shared by the parties:
//! `<base>/<session>/msg/<src>/<dst>/<name>/<tag>/`. The sender writes the
//! message into a private temporary directory (a `meta.json` and chunk files of
//! at most `chunk_bytes` each) and renames it into place, so a receiver never
//! sees half a message. The receiver polls for it with a short backoff, reads
//! it chunk by chunk and deletes it.
//!
//! Liveness: each party writes `parties/<role>-<id>.pid`; a task that fails
//! calls [`Federation::abort`], which writes `parties/<role>-<id>.failed`.
//! A `get` stops waiting as soon as the peer failed or its process is gone,
//! and otherwise after the timeout.

use crate::{Federation, FederationError, Result};
use fedflow_computing::{Session, Table};
use fedflow_core::{Party, RowBlock, SpillingBlockBuilder};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The engine's name.
pub const ENGINE: &str = "standalone";

/// Settings of the standalone federation.
#[derive(Debug, Clone)]
pub struct StandaloneFederationOptions {
    /// How long a `get` waits for a message.
    pub timeout: Duration,
    /// The largest chunk file.
    pub chunk_bytes: usize,
}

impl Default for StandaloneFederationOptions {
    fn default() -> Self {
        StandaloneFederationOptions {
            timeout: Duration::from_secs(600),
            chunk_bytes: 1 << 20,
        }
    }
}

/// One party's end of a standalone federation session.
pub struct StandaloneFederation {
    root: PathBuf,
    session_id: String,
    local: Party,
    options: StandaloneFederationOptions,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Meta {
    Object { len: usize, chunks: usize },
    Table { partitions: Vec<Vec<usize>> },
}

fn esc(s: &str) -> String {
    if s.is_empty() {
        return "_".to_string();
    }
    let mut out = String::with_capacity(s.len());
    for (i, b) in s.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn party_dir(p: Party) -> String {
    format!("{}-{}", p.role, p.party_id)
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> FederationError + '_ {
    move |source| FederationError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl StandaloneFederation {
    /// Joins session `session_id` under `base` as `local`.
    pub fn new(
        base: &Path,
        session_id: &str,
        local: Party,
        options: StandaloneFederationOptions,
    ) -> Result<Self> {
        let root = base.join(esc(session_id));
        let parties = root.join("parties");
        let pid_file = parties.join(format!("{}.pid", party_dir(local)));
        // A peer that is leaving removes the session directory when it sees no
        // pid file; if that happens between our mkdir and our write, retry.
        let mut attempt = 0;
        loop {
            match fs::create_dir_all(&parties) {
                Ok(()) => {}
                // A peer removed the session directory while we created it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt < 100 => {
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(io_err(&parties)(e)),
            }
            match fs::write(&pid_file, std::process::id().to_string()) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(io_err(&pid_file)(e)),
            }
        }
        let _ = fs::remove_file(parties.join(format!("{}.done", party_dir(local))));
        let failed = parties.join(format!("{}.failed", party_dir(local)));
        let _ = fs::remove_file(failed);
        Ok(StandaloneFederation {
            root,
            session_id: session_id.to_string(),
            local,
            options,
        })
    }

    fn msg_dir(&self, src: Party, dst: Party, name: &str, tag: &str) -> PathBuf {
        self.root
            .join("msg")
            .join(party_dir(src))
            .join(party_dir(dst))
            .join(esc(name))
            .join(esc(tag))
    }

    fn tmp_dir(&self) -> Result<PathBuf> {
        let dir = self.root.join("tmp").join(format!(
            "{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(dir)
    }

    fn publish(&self, tmp: &Path, dst: Party, name: &str, tag: &str) -> Result<()> {
        let target = self.msg_dir(self.local, dst, name, tag);
        if target.exists() {
            let _ = fs::remove_dir_all(tmp);
            return Err(FederationError::Usage(format!(
                "'{name}' (tag '{tag}') was already sent to {dst} and not yet received"
            )));
        }
        let parent = target.parent().unwrap_or(&self.root);
        fs::create_dir_all(parent).map_err(io_err(parent))?;
        fs::rename(tmp, &target).map_err(io_err(&target))
    }

    /// Why `peer` can no longer send, if it can't.
    fn peer_gone(&self, peer: Party) -> Option<String> {
        let parties = self.root.join("parties");
        if let Ok(reason) = fs::read_to_string(parties.join(format!("{}.failed", party_dir(peer))))
        {
            return Some(format!("its task failed: {}", reason.trim()));
        }
        if parties.join(format!("{}.done", party_dir(peer))).exists() {
            return Some(
                "it finished its task without sending it (do both sides run the same protocol?)"
                    .into(),
            );
        }
        let pid = fs::read_to_string(parties.join(format!("{}.pid", party_dir(peer)))).ok()?;
        let pid = pid.trim();
        if !Path::new("/proc").join(pid).exists() {
            return Some(format!("its process {pid} exited"));
        }
        None
    }

    /// Waits for a message and returns its directory.
    fn wait(&self, src: Party, name: &str, tag: &str) -> Result<PathBuf> {
        let dir = self.msg_dir(src, self.local, name, tag);
        let start = Instant::now();
        let mut sleep = Duration::from_micros(50);
        let mut next_check = start;
        loop {
            if dir.exists() {
                return Ok(dir);
            }
            let now = Instant::now();
            if now >= next_check {
                if let Some(reason) = self.peer_gone(src) {
                    // It may have sent before it went away.
                    if dir.exists() {
                        return Ok(dir);
                    }
                    return Err(FederationError::PeerGone {
                        peer: src,
                        name: name.into(),
                        tag: tag.into(),
                        reason,
                    });
                }
                next_check = now + Duration::from_millis(200);
            }
            if now.duration_since(start) > self.options.timeout {
                return Err(FederationError::Timeout {
                    peer: src,
                    name: name.into(),
                    tag: tag.into(),
                    waited: self.options.timeout,
                });
            }
            std::thread::sleep(sleep);
            sleep = (sleep * 2).min(Duration::from_millis(10));
        }
    }

    fn read_meta(&self, dir: &Path, src: Party, name: &str, tag: &str) -> Result<Meta> {
        let path = dir.join("meta.json");
        let text = fs::read(&path).map_err(io_err(&path))?;
        serde_json::from_slice(&text).map_err(|e| FederationError::Malformed {
            peer: src,
            name: name.into(),
            tag: tag.into(),
            reason: format!("meta.json: {e}"),
        })
    }

    /// Receives a raw byte stream (written by a server endpoint as a
    /// one-partition message), passing each chunk file to `sink`; the bytes.
    pub fn get_stream(
        &self,
        name: &str,
        tag: &str,
        src: Party,
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<u64> {
        let dir = self.wait(src, name, tag)?;
        let Meta::Table { partitions } = self.read_meta(&dir, src, name, tag)? else {
            return Err(FederationError::Malformed {
                peer: src,
                name: name.into(),
                tag: tag.into(),
                reason: "expected a stream, got a value".into(),
            });
        };
        let mut total = 0u64;
        for (i, counts) in partitions.iter().enumerate() {
            for j in 0..counts.len() {
                let p = dir.join(format!("p{i:05}-c{j:06}.bin"));
                let bytes = fs::read(&p).map_err(io_err(&p))?;
                total += bytes.len() as u64;
                sink(&bytes);
            }
        }
        self.consume(&dir);
        Ok(total)
    }

    fn consume(&self, dir: &Path) {
        let gone = self
            .root
            .join("tmp")
            .join(format!("consumed-{:016x}", rand::random::<u64>()));
        if fs::rename(dir, &gone).is_ok() {
            let _ = fs::remove_dir_all(gone);
        }
    }
}

/// Writes one message that arrived over the network into a mailbox
/// directory, chunk by chunk, in the standalone engine's format: what a
/// party server's gRPC endpoint does so that its task executors receive with
/// [`StandaloneFederation`] (memory stays bounded: each chunk goes to its own
/// file as it arrives). The message appears to readers only at
/// [`MailboxWriter::publish`] (a rename).
pub struct MailboxWriter {
    session_root: PathBuf,
    tmp: PathBuf,
    target: PathBuf,
    dst: Party,
    name: String,
    tag: String,
    /// `None` for a value, else the row counts of each partition's chunks.
    table: Option<Vec<Vec<usize>>>,
    obj_chunks: usize,
    len: usize,
}

impl MailboxWriter {
    /// Starts a message from `src` to `dst` in session `session` under `base`;
    /// `partitions` is `Some(n)` for a table of `n` partitions, `None` for a value.
    #[allow(clippy::too_many_arguments)]
    pub fn begin(
        base: &Path,
        session: &str,
        src: Party,
        dst: Party,
        name: &str,
        tag: &str,
        partitions: Option<u32>,
    ) -> Result<Self> {
        let session_root = base.join(esc(session));
        let target = session_root
            .join("msg")
            .join(party_dir(src))
            .join(party_dir(dst))
            .join(esc(name))
            .join(esc(tag));
        if target.exists() {
            return Err(FederationError::Usage(format!(
                "'{name}' (tag '{tag}') was already sent to {dst} and not yet received"
            )));
        }
        let tmp = session_root.join("tmp").join(format!(
            "net-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
        Ok(MailboxWriter {
            session_root,
            tmp,
            target,
            dst,
            name: name.into(),
            tag: tag.into(),
            table: partitions.map(|n| vec![Vec::new(); n as usize]),
            obj_chunks: 0,
            len: 0,
        })
    }

    /// Appends one chunk (`part` and `rows` for tables).
    pub fn chunk(&mut self, part: u32, rows: u64, data: &[u8]) -> Result<()> {
        let p = match &mut self.table {
            None => {
                let p = self.tmp.join(format!("obj-{:06}.bin", self.obj_chunks));
                self.obj_chunks += 1;
                p
            }
            Some(parts) => {
                let n = parts.len();
                let counts = parts.get_mut(part as usize).ok_or_else(|| {
                    FederationError::Usage(format!("a chunk for partition {part} of {n}"))
                })?;
                let p = self
                    .tmp
                    .join(format!("p{part:05}-c{:06}.bin", counts.len()));
                counts.push(rows as usize);
                p
            }
        };
        self.len += data.len();
        fs::write(&p, data).map_err(io_err(&p))
    }

    /// Makes the message visible to the receiver.
    pub fn publish(self) -> Result<()> {
        let meta = match &self.table {
            None => Meta::Object {
                len: self.len,
                chunks: self.obj_chunks,
            },
            Some(parts) => Meta::Table {
                partitions: parts.clone(),
            },
        };
        let bytes = serde_json::to_vec(&meta).map_err(|e| FederationError::Usage(e.to_string()))?;
        let p = self.tmp.join("meta.json");
        fs::write(&p, bytes).map_err(io_err(&p))?;
        if self.target.exists() {
            let _ = fs::remove_dir_all(&self.tmp);
            return Err(FederationError::Usage(format!(
                "'{}' (tag '{}') was already sent to {} and not yet received",
                self.name, self.tag, self.dst
            )));
        }
        let parent = self.target.parent().unwrap_or(&self.session_root);
        fs::create_dir_all(parent).map_err(io_err(parent))?;
        fs::rename(&self.tmp, &self.target).map_err(io_err(&self.target))
    }

    /// Drops a message that will not be completed.
    pub fn discard(self) {
        let _ = fs::remove_dir_all(&self.tmp);
    }
}

/// Records in the mailbox directory `base` that `party`'s task of `session`
/// failed, so that local receivers waiting for it stop (what a party server
/// does when a remote peer reports an abort).
pub fn mark_failed(base: &Path, session: &str, party: Party, reason: &str) -> Result<()> {
    let dir = base.join(esc(session)).join("parties");
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let p = dir.join(format!("{}.failed", party_dir(party)));
    fs::write(&p, reason).map_err(io_err(&p))
}

/// Removes every mailbox session of a job (`{job_id}_…`) under `base`.
pub fn remove_job_sessions(base: &Path, job_id: &str) {
    let prefix = format!("{}_", esc(job_id));
    if let Ok(rd) = fs::read_dir(base) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

impl Federation for StandaloneFederation {
    fn engine(&self) -> &'static str {
        ENGINE
    }

    fn session_id(&self) -> &str {
        &self.session_id
    }

    fn local(&self) -> Party {
        self.local
    }

    fn remote_bytes(&self, name: &str, tag: &str, value: &[u8], dst: &[Party]) -> Result<()> {
        for &d in dst {
            let tmp = self.tmp_dir()?;
            let chunks: Vec<&[u8]> = value.chunks(self.options.chunk_bytes.max(1)).collect();
            for (i, c) in chunks.iter().enumerate() {
                let p = tmp.join(format!("obj-{i:06}.bin"));
                fs::write(&p, c).map_err(io_err(&p))?;
            }
            let meta = serde_json::to_vec(&Meta::Object {
                len: value.len(),
                chunks: chunks.len(),
            })
            .map_err(|e| FederationError::Usage(e.to_string()))?;
            let p = tmp.join("meta.json");
            fs::write(&p, meta).map_err(io_err(&p))?;
            self.publish(&tmp, d, name, tag)?;
            tracing::trace!(name, tag, to = %d, bytes = value.len(), "remote");
        }
        Ok(())
    }

    fn get_bytes(&self, name: &str, tag: &str, src: &[Party]) -> Result<Vec<Vec<u8>>> {
        src.iter()
            .map(|&s| {
                let dir = self.wait(s, name, tag)?;
                let Meta::Object { len, chunks } = self.read_meta(&dir, s, name, tag)? else {
                    return Err(FederationError::Malformed {
                        peer: s,
                        name: name.into(),
                        tag: tag.into(),
                        reason: "expected a value, got a table".into(),
                    });
                };
                let mut out = Vec::with_capacity(len);
                for i in 0..chunks {
                    let p = dir.join(format!("obj-{i:06}.bin"));
                    out.extend_from_slice(&fs::read(&p).map_err(io_err(&p))?);
                }
                if out.len() != len {
                    return Err(FederationError::Malformed {
                        peer: s,
                        name: name.into(),
                        tag: tag.into(),
                        reason: format!("expected {len} bytes, got {}", out.len()),
                    });
                }
                self.consume(&dir);
                Ok(out)
            })
            .collect()
    }

    fn remote_table(&self, name: &str, tag: &str, table: &dyn Table, dst: &[Party]) -> Result<()> {
        // Partition by partition (the engine may hold one at a time: Spark),
        // each written to every destination's staging directory.
        let tmps: Vec<PathBuf> = dst.iter().map(|_| self.tmp_dir()).collect::<Result<_>>()?;
        let chunk_bytes = self.options.chunk_bytes;
        let mut parts: Vec<Option<Vec<usize>>> = vec![None; table.partitions()];
        let mut failed: Option<FederationError> = None;
        let mut write = |i: usize, block: &RowBlock| -> Result<()> {
            let mut counts = Vec::new();
            for (j, (bytes, n)) in block.chunks(chunk_bytes).into_iter().enumerate() {
                for tmp in &tmps {
                    let p = tmp.join(format!("p{i:05}-c{j:06}.bin"));
                    fs::write(&p, bytes).map_err(io_err(&p))?;
                }
                counts.push(n);
            }
            if let Some(slot) = parts.get_mut(i) {
                *slot = Some(counts);
            }
            Ok(())
        };
        let res = table.for_each_block(&mut |i, block| {
            write(i, &block).map_err(|e| {
                let m = e.to_string();
                failed = Some(e);
                fedflow_computing::ComputingError::Engine {
                    engine: "federation",
                    message: m,
                }
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        res?;
        // Partitions the engine skipped are empty.
        let parts: Vec<Vec<usize>> = parts.into_iter().map(|c| c.unwrap_or_default()).collect();
        let meta = serde_json::to_vec(&Meta::Table { partitions: parts })
            .map_err(|e| FederationError::Usage(e.to_string()))?;
        for (tmp, &d) in tmps.iter().zip(dst) {
            let p = tmp.join("meta.json");
            fs::write(&p, &meta).map_err(io_err(&p))?;
            self.publish(tmp, d, name, tag)?;
        }
        Ok(())
    }

    fn get_tables(
        &self,
        name: &str,
        tag: &str,
        src: &[Party],
        session: &dyn Session,
    ) -> Result<Vec<Arc<dyn Table>>> {
        src.iter()
            .map(|&s| {
                let dir = self.wait(s, name, tag)?;
                let Meta::Table { partitions } = self.read_meta(&dir, s, name, tag)? else {
                    return Err(FederationError::Malformed {
                        peer: s,
                        name: name.into(),
                        tag: tag.into(),
                        reason: "expected a table, got a value".into(),
                    });
                };
                let mut blocks = Vec::with_capacity(partitions.len());
                let spill = crate::recv_spill_dir();
                for (i, counts) in partitions.iter().enumerate() {
                    let mut b = SpillingBlockBuilder::new(&spill, crate::RECV_MEMORY_PER_PARTITION);
                    for (j, &n) in counts.iter().enumerate() {
                        let p = dir.join(format!("p{i:05}-c{j:06}.bin"));
                        let bytes = fs::read(&p).map_err(io_err(&p))?;
                        // The message is this party's own copy: each chunk
                        // goes as it is read, so a big table is never on disk
                        // twice here (mailbox + the receiving block's spill).
                        let _ = fs::remove_file(&p);
                        // Validates that the chunk holds exactly n whole rows.
                        let chunk = RowBlock::from_encoded(bytes, n)?;
                        b.push_encoded(chunk.encoded(), n)?;
                    }
                    blocks.push(b.finish()?);
                }
                self.consume(&dir);
                Ok(session.load_blocks(blocks)?)
            })
            .collect()
    }

    fn abort(&self, reason: &str) {
        let p = self
            .root
            .join("parties")
            .join(format!("{}.failed", party_dir(self.local)));
        let _ = fs::write(p, reason);
    }

    fn cleanup(&self) -> Result<()> {
        let inbox_root = self.root.join("msg");
        if let Ok(srcs) = fs::read_dir(&inbox_root) {
            for src in srcs.flatten() {
                let _ = fs::remove_dir_all(src.path().join(party_dir(self.local)));
            }
        }
        let _ = fs::remove_file(
            self.root
                .join("parties")
                .join(format!("{}.pid", party_dir(self.local))),
        );
        // Peers still waiting on this party learn that it is done.
        let _ = fs::write(
            self.root
                .join("parties")
                .join(format!("{}.done", party_dir(self.local))),
            b"",
        );
        // The last party out (no process registered any more) removes the
        // session directory, unless messages wait for a party that has not
        // joined yet (it removes the directory when it leaves).
        let empty = fs::read_dir(self.root.join("parties"))
            .map(|d| {
                !d.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".pid"))
            })
            .unwrap_or(true);
        if empty && !holds_files(&self.root.join("msg")) {
            let _ = fs::remove_dir_all(&self.root);
        }
        Ok(())
    }
}

/// Whether a directory tree holds any file.
fn holds_files(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|d| {
        d.flatten().any(|e| match e.file_type() {
            Ok(t) if t.is_dir() => holds_files(&e.path()),
            Ok(_) => true,
            Err(_) => false,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransferVariable;
    use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
    use fedflow_computing::{parallelize, TypedTable};
    use fedflow_core::Role;

    const SHARE: TransferVariable = TransferVariable::new("share", &[Role::Guest], &[Role::Host]);
    const BACK: TransferVariable = TransferVariable::new("back", &[Role::Host], &[Role::Guest]);
    const G: Party = Party {
        role: Role::Guest,
        party_id: 9999,
    };
    const H: Party = Party {
        role: Role::Host,
        party_id: 10000,
    };

    fn opts(timeout_ms: u64) -> StandaloneFederationOptions {
        StandaloneFederationOptions {
            timeout: Duration::from_millis(timeout_ms),
            chunk_bytes: 1000,
        }
    }

    #[test]
    fn values_and_tables_cross_in_chunks() {
        let base = tempfile::tempdir().unwrap();
        let g = StandaloneFederation::new(base.path(), "job_1", G, opts(5000)).unwrap();
        let h = StandaloneFederation::new(base.path(), "job_1", H, opts(5000)).unwrap();
        let big: Vec<u64> = (0..10_000).collect();
        SHARE.remote(&g, &big, &[H], "iter.0").unwrap();
        SHARE.remote(&g, &7u64, &[H], "iter.1").unwrap();
        // Tags keep iterations apart, whatever the order of reading.
        assert_eq!(SHARE.get_one::<u64>(&h, G, "iter.1").unwrap(), 7);
        assert_eq!(SHARE.get_one::<Vec<u64>>(&h, G, "iter.0").unwrap(), big);

        let s = StandaloneSession::new("t", StandaloneOptions::default()).unwrap();
        let t: TypedTable<u64, String> =
            parallelize(&s, (0..5000u64).map(|i| (i, format!("v{i}"))).collect(), 4).unwrap();
        BACK.remote_table(&h, &t, &[G], "").unwrap();
        let got: TypedTable<u64, String> = BACK.get_table(&g, H, "", &s).unwrap();
        assert_eq!(got.partitions(), 4);
        let mut rows = got.collect().unwrap();
        rows.sort();
        assert_eq!(rows.len(), 5000);
        assert_eq!(rows[4999], (4999, "v4999".to_string()));
        // Messages are consumed.
        assert!(!g.msg_dir(H, G, "back", "").exists());
        g.cleanup().unwrap();
        h.cleanup().unwrap();
        assert!(!base.path().join("job_1").exists());
    }

    #[test]
    fn misuse_timeout_and_peer_failure_are_clear() {
        let base = tempfile::tempdir().unwrap();
        let g = StandaloneFederation::new(base.path(), "job_2", G, opts(300)).unwrap();
        let h = StandaloneFederation::new(base.path(), "job_2", H, opts(300)).unwrap();
        let e = SHARE.remote(&h, &1u8, &[G], "").unwrap_err().to_string();
        assert!(e.contains("role host may not send variable 'share'"), "{e}");
        let e = SHARE.get::<u8>(&h, &[G], "none").unwrap_err().to_string();
        assert!(
            e.contains("timed out") && e.contains("'share'") && e.contains("guest:9999"),
            "{e}"
        );
        g.abort("boom");
        let t0 = Instant::now();
        let e = SHARE.get::<u8>(&h, &[G], "x").unwrap_err().to_string();
        assert!(
            e.contains("peer guest:9999 is gone") && e.contains("boom"),
            "{e}"
        );
        assert!(t0.elapsed() < Duration::from_millis(300));
        // A peer that finished without sending: fail at once, not at the timeout.
        let base2 = tempfile::tempdir().unwrap();
        let g2 = StandaloneFederation::new(base2.path(), "job_3", G, opts(60_000)).unwrap();
        let h2 = StandaloneFederation::new(base2.path(), "job_3", H, opts(60_000)).unwrap();
        g2.cleanup().unwrap();
        let t0 = Instant::now();
        let e = SHARE.get::<u8>(&h2, &[G], "never").unwrap_err().to_string();
        assert!(e.contains("finished its task without sending"), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        SHARE.remote(&g, &1u8, &[H], "dup").unwrap();
        assert!(SHARE
            .remote(&g, &1u8, &[H], "dup")
            .unwrap_err()
            .to_string()
            .contains("already sent"));
    }
}
