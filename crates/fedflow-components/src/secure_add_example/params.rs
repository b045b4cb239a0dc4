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
        Ok(())
    }

    /// The seed in use: the given one, or a random one.
    pub fn seed_or_random(&self) -> u64 {
        self.seed.unwrap_or_else(rand::random)
    }
}
