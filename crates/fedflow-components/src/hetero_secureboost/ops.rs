//! HeteroSecureBoost's own pieces over the shared [`crate::tree`] core: the
//! fixed-point layout of packed encrypted g/h, and a host's split table.

pub use crate::tree::{bin_matrix, gain, leaf_weight, sample_features, Node, Objective, Tree};
use serde::{Deserialize, Serialize};

/// Fractional bits of packed g/h (2^-36 ≈ 1.5e-11 per value; FATE packs 53
/// bits, but fewer bits mean more split sums per compressed ciphertext and
/// fewer squarings when compressing).
pub const FRAC_BITS: u32 = 36;

/// Fixed-point layout of a packed `(g, h)` plaintext:
/// `((g + g_off)·2^frac) << h_bits | h·2^frac`, each slot with headroom for
/// summing all samples; the whole pair fits a `u128`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GhLayout {
    /// Fractional bits.
    pub frac: u32,
    /// Offset added to g (≥ −min g).
    pub g_off: f64,
    /// Bits of the h slot (value + headroom).
    pub h_bits: u32,
    /// Bits of the whole pair.
    pub pair_bits: u32,
}

impl GhLayout {
    /// Layout for gradients with `g ∈ [g_min, g_max]`, `h ∈ [0, h_max]`, `n` samples.
    pub fn new(g_min: f64, g_max: f64, h_max: f64, n: usize) -> Self {
        let head = 64 - (n as u64).leading_zeros();
        let g_off = (-g_min).max(0.0);
        let g_int = ((g_max + g_off).max(1.0)).log2().ceil() as u32 + 1;
        let h_int = (h_max.max(1.0)).log2().ceil() as u32 + 1;
        let frac = ((126 - 2 * head - g_int - h_int) / 2).min(FRAC_BITS);
        let h_bits = frac + h_int + head;
        let pair_bits = h_bits + frac + g_int + head;
        GhLayout {
            frac,
            g_off,
            h_bits,
            pair_bits,
        }
    }

    /// The packed plaintext of one sample.
    pub fn pack(&self, g: f64, h: f64) -> u128 {
        let s = 2f64.powi(self.frac as i32);
        let gi = ((g + self.g_off) * s).round().max(0.0) as u128;
        let hi = (h * s).round().max(0.0) as u128;
        (gi << self.h_bits) | hi
    }

    /// `(Σg, Σh)` of a sum of `count` packed plaintexts.
    pub fn unpack(&self, v: u128, count: u64) -> (f64, f64) {
        let s = 2f64.powi(self.frac as i32);
        let hi = v & ((1u128 << self.h_bits) - 1);
        let gi = v >> self.h_bits;
        (gi as f64 / s - self.g_off * count as f64, hi as f64 / s)
    }
}

/// A host's part of one tree: node id → (feature index, threshold).
pub type SplitMaskDict = std::collections::BTreeMap<u32, (u32, f64)>;
