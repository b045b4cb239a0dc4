//! Packing several fixed-point values into one Paillier plaintext
//! (SecureBoost's g/h packing, `tree_core/g_h_optim.py`).
//!
//! Each value `v` is stored as the integer `round((v + offset) · 2^frac_bits)`,
//! which must lie in `[0, 2^value_bits)`. A slot is `value_bits + headroom`
//! bits wide, where `headroom = ceil(log2(max_additions + 1))`, so that the sum
//! of up to `max_additions + 1` packed plaintexts never carries into the next
//! slot. Slots fill `key_bits - 2` bits, which keeps every packed plaintext
//! (and every admissible sum) below `n`.
//!
//! After decrypting a sum of `count` packed plaintexts, [`Packer::unpack`]
//! returns `slot / 2^frac_bits - offset · count` per value.

use rayon::prelude::*;

use crate::bigint::BigUint;
use crate::error::{CryptoError, Result};
use crate::paillier::{Ciphertext, Obfuscation, PrivateKey, PublicKey};

/// Layout of packed plaintexts.
#[derive(Clone, Debug, PartialEq)]
pub struct Packer {
    value_bits: u32,
    frac_bits: u32,
    offset: f64,
    max_additions: u64,
    slot_bits: u32,
    slots: usize,
}

impl Packer {
    /// A packer for keys of `key_bits`, values needing `value_bits` after
    /// offset and scaling by `2^frac_bits`, with room for `max_additions`
    /// homomorphic additions of packed ciphertexts.
    pub fn new(
        key_bits: u32,
        value_bits: u32,
        frac_bits: u32,
        offset: f64,
        max_additions: u64,
    ) -> Result<Self> {
        if value_bits == 0 || value_bits > 120 || frac_bits > value_bits {
            return Err(CryptoError::Packing(format!(
                "need 0 < value_bits <= 120 and frac_bits <= value_bits (got {value_bits}, {frac_bits})"
            )));
        }
        if !offset.is_finite() || offset < 0.0 {
            return Err(CryptoError::Packing(format!(
                "offset must be finite and >= 0, got {offset}"
            )));
        }
        let headroom = 64 - max_additions.leading_zeros(); // ceil(log2(k+1))
        let slot_bits = value_bits + headroom;
        if slot_bits > 128 {
            return Err(CryptoError::Packing(format!(
                "slot of {slot_bits} bits (value {value_bits} + headroom {headroom}) exceeds 128"
            )));
        }
        let usable = key_bits.saturating_sub(2);
        let slots = (usable / slot_bits) as usize;
        if slots == 0 {
            return Err(CryptoError::Packing(format!(
                "a {slot_bits}-bit slot does not fit a {key_bits}-bit key"
            )));
        }
        Ok(Packer {
            value_bits,
            frac_bits,
            offset,
            max_additions,
            slot_bits,
            slots,
        })
    }

    /// SecureBoost-style g/h layout for `n_samples` rows: 52 fractional bits,
    /// offset 1 (g ∈ [-1, 1], h ∈ [0, 1]), headroom for summing all samples.
    pub fn for_gradients(key_bits: u32, n_samples: u64) -> Result<Self> {
        Packer::new(key_bits, 54, 52, 1.0, n_samples.saturating_sub(1))
    }

    /// Values per plaintext.
    pub fn slots(&self) -> usize {
        self.slots
    }
    /// Bits per slot (value bits + headroom).
    pub fn slot_bits(&self) -> u32 {
        self.slot_bits
    }
    /// How many additions a packed ciphertext can absorb.
    pub fn max_additions(&self) -> u64 {
        self.max_additions
    }

    /// The slot integer of one value; errors if out of the packable range.
    pub fn encode_value(&self, v: f64) -> Result<u128> {
        let scaled = ((v + self.offset) * 2f64.powi(self.frac_bits as i32)).round();
        let limit = 2f64.powi(self.value_bits as i32);
        if !scaled.is_finite() || scaled < 0.0 || scaled >= limit {
            return Err(CryptoError::Packing(format!(
                "value {v} (offset {}) outside [0, 2^{}) after scaling by 2^{}",
                self.offset,
                self.value_bits - self.frac_bits,
                self.frac_bits
            )));
        }
        Ok(scaled as u128)
    }

    /// Pack values into `ceil(len / slots)` plaintexts (value 0 in the most
    /// significant slot of the first plaintext).
    pub fn pack(&self, values: &[f64]) -> Result<Vec<BigUint>> {
        values
            .chunks(self.slots)
            .map(|chunk| {
                let mut acc = BigUint::zero();
                for &v in chunk {
                    acc = acc
                        .shl(self.slot_bits)
                        .add(&BigUint::from(self.encode_value(v)?));
                }
                // Left-align partial chunks so slot positions are fixed.
                Ok(acc.shl(self.slot_bits * (self.slots - chunk.len()) as u32))
            })
            .collect()
    }

    /// Unpack `n_values` values from plaintexts that are each the sum of
    /// `count` packed plaintexts (`count = 1` for a single one).
    pub fn unpack(&self, packed: &[BigUint], n_values: usize, count: u64) -> Result<Vec<f64>> {
        if count == 0 || count - 1 > self.max_additions {
            return Err(CryptoError::Packing(format!(
                "sum of {count} packed values exceeds the headroom ({} additions)",
                self.max_additions
            )));
        }
        if n_values > packed.len() * self.slots {
            return Err(CryptoError::Packing(format!(
                "{n_values} values requested from {} plaintexts of {} slots",
                packed.len(),
                self.slots
            )));
        }
        let scale = 2f64.powi(-(self.frac_bits as i32));
        let shift_off = self.offset * count as f64;
        let mut out = Vec::with_capacity(n_values);
        'outer: for p in packed {
            if p.bits() > self.slot_bits * self.slots as u32 {
                return Err(CryptoError::Packing(
                    "packed plaintext larger than its layout".into(),
                ));
            }
            for s in 0..self.slots {
                if out.len() == n_values {
                    break 'outer;
                }
                let pos = self.slot_bits * (self.slots - 1 - s) as u32;
                let slot = p.shr(pos).low_bits(self.slot_bits);
                let v = slot.to_u128().unwrap_or(u128::MAX) as f64;
                out.push(v * scale - shift_off);
            }
        }
        Ok(out)
    }

    /// Pack and encrypt (parallel, DJN obfuscation).
    pub fn encrypt(&self, pk: &PublicKey, values: &[f64]) -> Result<Vec<Ciphertext>> {
        self.check_key(pk.bits())?;
        let plains = self.pack(values)?;
        pk.precompute_djn();
        pk.encrypt_raw_batch(&plains, Obfuscation::Djn)
    }

    /// Decrypt (parallel) and unpack; `count` as in [`Packer::unpack`].
    pub fn decrypt(
        &self,
        sk: &PrivateKey,
        cts: &[Ciphertext],
        n_values: usize,
        count: u64,
    ) -> Result<Vec<f64>> {
        let plains: Vec<BigUint> = cts
            .par_iter()
            .map(|c| sk.decrypt_raw(c))
            .collect::<Result<_>>()?;
        self.unpack(&plains, n_values, count)
    }

    fn check_key(&self, key_bits: u32) -> Result<()> {
        if self.slot_bits * self.slots as u32 > key_bits.saturating_sub(2) {
            return Err(CryptoError::Packing(format!(
                "layout of {} bits does not fit a {key_bits}-bit key",
                self.slot_bits * self.slots as u32
            )));
        }
        Ok(())
    }
}
