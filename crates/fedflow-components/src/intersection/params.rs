//! Parameters, with FATE's names and defaults (`IntersectParam`).

use crate::ComponentError;
use serde::Deserialize;

/// FATE's `IntersectParam` (fields fedflow reads; the rest are accepted).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct IntersectParam {
    /// `rsa` (default), `ecdh`, `dh`.
    pub intersect_method: String,
    /// Whether the guest sends the intersection to the hosts.
    pub sync_intersect_ids: bool,
    /// Output ids only (instances without features).
    pub only_output_key: bool,
    /// Only count the intersection (guest learns the count, no data output).
    pub cardinality_only: bool,
    /// Method of `cardinality_only` (`rsa`, `ecdh`).
    pub cardinality_method: Option<String>,
    /// Whether the guest sends the count to the hosts.
    pub sync_cardinality: bool,
    /// FATE's bloom-filter pre-step (accepted; the intersection is the same without it).
    pub run_preprocess: bool,
    /// Cache jobs (not implemented).
    pub run_cache: bool,
    /// RSA settings.
    pub rsa_params: RsaParams,
    /// ECDH settings.
    pub ecdh_params: EcdhParams,
    /// DH settings.
    pub dh_params: DhParams,
}

/// FATE's `DHParam`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DhParams {
    /// Id hash (sha256).
    pub hash_method: String,
    /// Salt appended to ids.
    pub salt: String,
    /// Prime modulus bits (FATE 1.11.3 default 1024).
    pub key_length: u32,
}

impl Default for DhParams {
    fn default() -> Self {
        DhParams {
            hash_method: "sha256".into(),
            salt: String::new(),
            key_length: 1024,
        }
    }
}

/// FATE's `RSAParam`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RsaParams {
    /// Id hash (sha256).
    pub hash_method: String,
    /// Hash of the signatures (sha256).
    pub final_hash_method: String,
    /// Salt appended to ids.
    pub salt: String,
    /// RSA modulus bits (FATE 1.11.3 default 1024).
    pub key_length: u32,
}

/// FATE's `ECDHParam`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EcdhParams {
    /// Id hash (sha256; fedflow hashes to ristretto255 with SHA-512).
    pub hash_method: String,
    /// Salt appended to ids.
    pub salt: String,
    /// `curve25519` (fedflow: ristretto255 over curve25519).
    pub curve: String,
}

impl Default for IntersectParam {
    fn default() -> Self {
        IntersectParam {
            intersect_method: "rsa".into(),
            sync_intersect_ids: true,
            only_output_key: false,
            cardinality_only: false,
            cardinality_method: None,
            sync_cardinality: false,
            run_preprocess: false,
            run_cache: false,
            rsa_params: RsaParams::default(),
            ecdh_params: EcdhParams::default(),
            dh_params: DhParams::default(),
        }
    }
}

impl Default for RsaParams {
    fn default() -> Self {
        RsaParams {
            hash_method: "sha256".into(),
            final_hash_method: "sha256".into(),
            salt: String::new(),
            key_length: 1024,
        }
    }
}

impl Default for EcdhParams {
    fn default() -> Self {
        EcdhParams {
            hash_method: "sha256".into(),
            salt: String::new(),
            curve: "curve25519".into(),
        }
    }
}

impl IntersectParam {
    /// The method actually run (`cardinality_method` when `cardinality_only`).
    pub fn method(&self) -> String {
        if self.cardinality_only {
            self.cardinality_method
                .clone()
                .unwrap_or_else(|| "ecdh".into())
        } else {
            self.intersect_method.clone()
        }
        .to_lowercase()
    }

    pub(super) fn check(&self, component: &str) -> Result<(), ComponentError> {
        let bad = |path: &str, message: String| ComponentError::Param {
            path: format!("{component}.{path}"),
            message,
        };
        let path = if self.cardinality_only {
            "cardinality_method"
        } else {
            "intersect_method"
        };
        match self.method().as_str() {
            "rsa" | "ecdh" | "dh" => {}
            "raw" => {
                return Err(bad(
                    path,
                    format!(
                        "'{}' is not implemented in this build (rsa, ecdh, dh are)",
                        self.method()
                    ),
                ))
            }
            m => return Err(bad(path, format!("'{m}': expected rsa, ecdh, dh or raw"))),
        }
        if self.run_cache {
            return Err(bad(
                "run_cache",
                "cache jobs are not implemented in this build".into(),
            ));
        }
        if self.method() == "rsa" {
            let k = self.rsa_params.key_length;
            if k < 512 || !k.is_multiple_of(64) {
                return Err(bad(
                    "rsa_params.key_length",
                    format!("{k}: expected a multiple of 64, at least 512"),
                ));
            }
        }
        if self.method() == "dh" {
            let k = self.dh_params.key_length;
            if !(512..=8192).contains(&k) {
                return Err(bad(
                    "dh_params.key_length",
                    format!("{k}: expected 512 to 8192"),
                ));
            }
        }
        for (p, h) in [
            ("dh_params.hash_method", &self.dh_params.hash_method),
            ("rsa_params.hash_method", &self.rsa_params.hash_method),
            (
                "rsa_params.final_hash_method",
                &self.rsa_params.final_hash_method,
            ),
            ("ecdh_params.hash_method", &self.ecdh_params.hash_method),
        ] {
            if !h.eq_ignore_ascii_case("sha256") {
                return Err(bad(p, format!("'{h}' is not implemented (sha256 is)")));
            }
        }
        if !self.ecdh_params.curve.eq_ignore_ascii_case("curve25519") {
            return Err(bad(
                "ecdh_params.curve",
                format!("'{}': expected curve25519", self.ecdh_params.curve),
            ));
        }
        Ok(())
    }
}
