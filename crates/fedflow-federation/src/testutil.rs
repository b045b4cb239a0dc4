//! Shared helpers of the engines' tests.

use crate::Roster;
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{CombineFn, ComputingError, PartitionFn, RawRows, Sample, Session, Table};
use fedflow_core::{Party, Role, RowBlock};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const G: Party = Party {
    role: Role::Guest,
    party_id: 9999,
};
pub const H: Party = Party {
    role: Role::Host,
    party_id: 10000,
};

pub fn roster() -> Roster {
    let mut m = BTreeMap::new();
    m.insert(Role::Guest, vec![9999]);
    m.insert(Role::Host, vec![10000]);
    Roster(m)
}

pub fn session() -> StandaloneSession {
    StandaloneSession::new("t", StandaloneOptions::default()).unwrap()
}

/// A table of about `mb` MiB: 1 KiB rows.
pub fn table(s: &dyn Session, mb: usize) -> Arc<dyn Table> {
    let rows = (0..mb as u64 * 1024)
        .map(|i| {
            let mut v = vec![(i % 251) as u8; 1016];
            v[..8].copy_from_slice(&i.to_le_bytes());
            (i.to_le_bytes().to_vec(), v)
        })
        .collect();
    s.parallelize(rows, 4).unwrap()
}

/// (rows, order-independent checksum).
pub fn digest(t: &dyn Table) -> (u64, u64) {
    let mut n = 0;
    let mut sum = 0u64;
    for b in t.blocks().unwrap() {
        for (k, v) in b.iter() {
            n += 1;
            let mut x = crate::wire::fnv64(&String::from_utf8_lossy(k));
            for c in v.chunks(8) {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                x = x.rotate_left(5) ^ u64::from_le_bytes(w);
            }
            sum = sum.wrapping_add(x);
        }
    }
    (n, sum)
}

/// Free ports, distinct (all held until all are known).
pub fn free_ports(n: usize) -> Vec<u16> {
    let l: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    l.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

pub fn uniq(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// A table that breaks while it is read (a Spark fetch failing half way):
/// its first partition arrives, then `for_each_block` fails. Everything else
/// is the inner table's.
pub struct BreaksWhileRead(pub Arc<dyn Table>);

impl BreaksWhileRead {
    pub const ERROR: &'static str = "the disk under partition 1 is gone";
}

impl Table for BreaksWhileRead {
    fn engine(&self) -> &'static str {
        self.0.engine()
    }
    fn partitions(&self) -> usize {
        self.0.partitions()
    }
    fn count(&self) -> Result<u64, ComputingError> {
        self.0.count()
    }
    fn map_partitions(&self, op: Arc<dyn PartitionFn>) -> Result<Arc<dyn Table>, ComputingError> {
        self.0.map_partitions(op)
    }
    fn map_reduce_partitions(
        &self,
        mapper: Arc<dyn PartitionFn>,
        reducer: Arc<dyn CombineFn>,
    ) -> Result<Arc<dyn Table>, ComputingError> {
        self.0.map_reduce_partitions(mapper, reducer)
    }
    fn reduce(&self, op: Arc<dyn CombineFn>) -> Result<Option<Vec<u8>>, ComputingError> {
        self.0.reduce(op)
    }
    fn join(
        &self,
        other: &dyn Table,
        op: Arc<dyn CombineFn>,
    ) -> Result<Arc<dyn Table>, ComputingError> {
        self.0.join(other, op)
    }
    fn union(
        &self,
        other: &dyn Table,
        op: Option<Arc<dyn CombineFn>>,
    ) -> Result<Arc<dyn Table>, ComputingError> {
        self.0.union(other, op)
    }
    fn subtract_by_key(&self, other: &dyn Table) -> Result<Arc<dyn Table>, ComputingError> {
        self.0.subtract_by_key(other)
    }
    fn sample(&self, how: Sample, seed: u64) -> Result<Arc<dyn Table>, ComputingError> {
        self.0.sample(how, seed)
    }
    fn repartition(&self, partitions: usize) -> Result<Arc<dyn Table>, ComputingError> {
        self.0.repartition(partitions)
    }
    fn blocks(&self) -> Result<Vec<RowBlock>, ComputingError> {
        Err(broken())
    }
    fn for_each_block(
        &self,
        f: &mut dyn FnMut(usize, RowBlock) -> Result<(), ComputingError>,
    ) -> Result<(), ComputingError> {
        let first = self.0.blocks()?.remove(0);
        f(0, first)?;
        Err(broken())
    }
    fn take(&self, n: usize) -> Result<RawRows, ComputingError> {
        self.0.take(n)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn broken() -> ComputingError {
    ComputingError::Engine {
        engine: "test",
        message: BreaksWhileRead::ERROR.into(),
    }
}

/// `g` sends `h` a table that breaks while read ([`BreaksWhileRead`]): the
/// send must fail with the table's error; returns `h`'s error receiving it
/// (it must not get a table).
pub fn send_a_table_that_breaks(
    g: &dyn crate::Federation,
    h: &dyn crate::Federation,
    s: &dyn Session,
) -> String {
    let t = BreaksWhileRead(table(s, 2));
    let e = g
        .remote_table("broken", "", &t, &[h.local()])
        .expect_err("sending a table that breaks must fail")
        .to_string();
    assert!(e.contains(BreaksWhileRead::ERROR), "{e}");
    match h.get_tables("broken", "", &[g.local()], s) {
        Ok(_) => panic!("a table that broke while sent arrived"),
        Err(e) => e.to_string(),
    }
}
