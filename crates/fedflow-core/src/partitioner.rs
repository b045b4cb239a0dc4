//! The stable key-hash partitioner.
//!
//! `partition_of(key, n)` hashes the key bytes with xxh3-64 and maps the hash to
//! a partition with Lamping & Veach's jump consistent hash. It depends only on
//! the key bytes and `n`, so tables with the same partition count are
//! co-partitioned on every engine and in every process.

use xxhash_rust::xxh3::xxh3_64;

/// The partition (in `0..partitions`) a key belongs to.
#[inline]
pub fn partition_of(key: &[u8], partitions: usize) -> usize {
    debug_assert!(partitions > 0);
    jump_hash(xxh3_64(key), partitions as i64) as usize
}

#[inline]
fn jump_hash(mut key: u64, buckets: i64) -> i64 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < buckets {
        b = j;
        key = key.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b.wrapping_add(1) as f64)
            * ((1u64 << 31) as f64 / ((key >> 33).wrapping_add(1) as f64))) as i64;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_spread() {
        // Pinned values: changing the partitioner breaks stored tables.
        assert_eq!(partition_of(b"abc", 16), partition_of(b"abc", 16));
        let mut counts = [0usize; 8];
        for i in 0u64..80_000 {
            counts[partition_of(&i.to_le_bytes(), 8)] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
        for i in 0u64..1000 {
            assert_eq!(partition_of(&i.to_le_bytes(), 1), 0);
        }
    }

    #[test]
    fn pinned() {
        let got: Vec<usize> = (0u64..8)
            .map(|i| partition_of(&i.to_le_bytes(), 10))
            .collect();
        assert_eq!(got, PINNED.to_vec());
    }
    const PINNED: [usize; 8] = [1, 3, 4, 8, 4, 8, 6, 8];
}
