//! The toy's named ops.

use fedflow_computing::{
    register_op, Emitter, JoinOp, MapPartitionsOp, MapValuesOp, OpError, ReduceOp,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const SCALE: f64 = (1u64 << 20) as f64;

/// Splits each value `x` into shares `(s1, s2)` with `s1 ~ U(-x, x)` and
/// `s2 = x − s1`. Randomness is seeded per partition from `seed`.
#[derive(Serialize, Deserialize)]
pub struct Share {
    /// Seed of the party's randomness.
    pub seed: u64,
}

impl MapPartitionsOp for Share {
    const NAME: &'static str = "secure_add_example.share";
    const PRESERVES_KEYS: bool = true;
    type K = u64;
    type V = f64;
    type K2 = u64;
    type V2 = (f64, f64);
    fn map_partition(
        &self,
        index: usize,
        rows: &mut dyn Iterator<Item = (u64, f64)>,
        out: &mut Emitter<'_, u64, (f64, f64)>,
    ) -> Result<(), OpError> {
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed
                .wrapping_add((index as u64).wrapping_mul(0x9E37_79B9)),
        );
        for (k, x) in rows {
            // s1 ~ U(-x, x), rounded to a multiple of 2^-20: sums of such shares are
            // exact in f64 (up to ~2^33 in magnitude), so the guest's check holds
            // for any data_num, not only for small ones.
            let s1 = if x == 0.0 {
                0.0
            } else {
                (rng.gen_range(-x.abs()..x.abs()) * SCALE).round() / SCALE
            };
            out.emit(&k, &(s1, x - s1))?;
        }
        Ok(())
    }
}
register_op!(map_partitions Share, example: Share { seed: 1 }, input: vec![(0u64, 1.0f64), (1, 1.0)]);

/// Picks one share of a pair (0 = first).
#[derive(Serialize, Deserialize)]
pub struct PickShare(pub u8);

impl MapValuesOp for PickShare {
    const NAME: &'static str = "secure_add_example.pick_share";
    type V = (f64, f64);
    type Out = f64;
    fn map_value(&self, v: (f64, f64)) -> Result<f64, OpError> {
        Ok(if self.0 == 0 { v.0 } else { v.1 })
    }
}
register_op!(map_values PickShare, example: PickShare(1), input: vec![(0u64, (0.25f64, 0.75f64))]);

/// `x + y` of two joined values.
#[derive(Serialize, Deserialize)]
pub struct AddJoin;

impl JoinOp for AddJoin {
    const NAME: &'static str = "secure_add_example.add_join";
    type L = f64;
    type R = f64;
    type Out = f64;
    fn join(&self, l: f64, r: f64) -> Result<f64, OpError> {
        Ok(l + r)
    }
}
register_op!(join AddJoin, example: AddJoin, input: vec![(0.5f64, 0.25f64)]);

/// Sum of values.
#[derive(Serialize, Deserialize)]
pub struct Sum;

impl ReduceOp for Sum {
    const NAME: &'static str = "secure_add_example.sum";
    type V = f64;
    fn reduce(&self, a: f64, b: f64) -> Result<f64, OpError> {
        Ok(a + b)
    }
}
register_op!(reduce Sum, example: Sum, input: vec![(0.5f64, 0.25f64)]);
