//! Shared helpers of the engines' tests.

use crate::Roster;
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{Session, Table};
use fedflow_core::{Party, Role};
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
