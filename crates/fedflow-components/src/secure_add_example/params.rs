//! Parameters, with FATE's names and defaults (`SecureAddExampleParam`).

use crate::ComponentError;
use serde::Deserialize;

/// FATE's `SecureAddExampleParam(seed=None, partition=1, data_num=1000)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SecureAddExampleParam {
    /// Seed of the share randomness; none = random.
    pub seed: Option<u64>,
    /// Partitions of the generated table.
    pub partition: u64,
    /// Rows per party.
    pub data_num: u64,
}

impl Default for SecureAddExampleParam {
    fn default() -> Self {
        SecureAddExampleParam {
            seed: None,
            partition: 1,
            data_num: 1000,
        }
    }
}

/// Memory one value of `data_num` costs a party (values, shares, table).
const BYTES_PER_VALUE: u64 = 64;
/// The bound on that memory where /proc/meminfo cannot be read: 8 GiB.
const FALLBACK_LIMIT: u64 = 8 << 30;
const GIB: f64 = (1u64 << 30) as f64;

/// MemAvailable from /proc/meminfo, in bytes (Linux).
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

impl SecureAddExampleParam {
    pub(super) fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: &str| ComponentError::Param {
            path: format!("{component}.{path}"),
            message: message.to_string(),
        };
        if self.partition == 0 || self.partition > 1 << 16 {
            return Err(bad("partition", "expected an integer from 1 to 65536"));
        }
        if self.data_num == 0 {
            return Err(bad("data_num", "expected a positive integer"));
        }
        // Each party holds its data_num values, their shares and the
        // encoded table at once: about BYTES_PER_VALUE bytes per value.
        let need = self.data_num.saturating_mul(BYTES_PER_VALUE);
        let (avail, what) = match available_memory() {
            Some(a) => (a, "available memory (MemAvailable)"),
            None => (FALLBACK_LIMIT, "fedflow's limit without /proc/meminfo"),
        };
        if need > avail {
            return Err(bad(
                "data_num",
                &format!(
                    "{}: needs about {:.1} GiB, more than this machine's {what} of {:.1} GiB",
                    self.data_num,
                    need as f64 / GIB,
                    avail as f64 / GIB
                ),
            ));
        }
        Ok(())
    }

    /// The seed in use: the given one, or a random one.
    pub fn seed_or_random(&self) -> u64 {
        self.seed.unwrap_or_else(rand::random)
    }
}
