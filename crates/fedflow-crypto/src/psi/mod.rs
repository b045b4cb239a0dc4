//! Private set intersection building blocks (FATE's Intersection component).
//!
//! * [`EcdhPsi`]: commutative double encryption over ristretto255
//!   (`H(id)^(a·b)`), the fast path.
//! * [`RsaPsiServer`] / [`RsaPsiClient`]: FATE's RSA blind-signature protocol,
//!   kept for compatibility (~20× slower).
//!
//! Both produce 32-byte tags; [`intersect_indices`] joins them.

mod ecdh;
mod rsa;

use std::collections::HashSet;

pub use ecdh::EcdhPsi;
pub use rsa::{RsaBlindState, RsaPsiClient, RsaPsiServer, RsaPublicKey};

/// Indices `i` of `mine` whose tag occurs in `theirs` (in order, duplicates in
/// `mine` all reported). Used on doubly-encrypted (ECDH) or signed-and-hashed
/// (RSA) tags.
pub fn intersect_indices(mine: &[[u8; 32]], theirs: &[[u8; 32]]) -> Vec<usize> {
    let set: HashSet<&[u8; 32]> = theirs.iter().collect();
    mine.iter()
        .enumerate()
        .filter(|(_, t)| set.contains(t))
        .map(|(i, _)| i)
        .collect()
}
