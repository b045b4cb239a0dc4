//! `SecureInformationRetrieval` (SIR): the guest retrieves columns (or the
//! label) of the host's rows for the ids both have, without the host
//! learning which of its ids those are, and without the guest learning
//! the host's other rows. FATE 1.11's protocol, in fedflow's words:
//!
//! 1. **Commutative encryption** (Pohlig–Hellman, FATE's DH intersection,
//!    [`crate::intersection::dh`]): the guest draws the prime (`sir_prime`,
//!    `dh_params.key_length` bits); each side its exponent. The host sends
//!    its ids encrypted once, in a random order (`sir_host_ids`); the guest
//!    sends its own (`sir_guest_ids`), which the host encrypts again and
//!    returns in order (`sir_guest_ids_double`); the guest encrypts the
//!    host's a second time and so learns which host positions are common.
//! 2. **Blocks** (`sir_blocks`): `N = ceil(2 · e^(ln(500) · security_level))`
//!    lists of host positions, each as long as the intersection: one is the
//!    intersection, at a random index `k`, the others random samples of the
//!    host's positions. The host cannot tell which one is real.
//! 3. **Oblivious transfer** ([`fedflow_crypto::ot`], Hauck–Loss over
//!    ristretto255): the host sends `S` (`sir_ot_sender`), the guest `R` for
//!    its choice `k` (`sir_ot_receiver`); the host encrypts block `i`'s values
//!    (its rows' target columns, in the block's order) with AES-256-GCM under
//!    key `i` and sends every block (`sir_blocks_encrypted`); the guest can
//!    open block `k` only.
//! 4. The guest maps the values to its ids and sends the host the number of
//!    ids retrieved (`sir_coverage`).
//!
//! With `security_level: 0` (or FATE's deprecated `raw_retrieval: true`)
//! the retrieval is plain: the guest sends its ids (`sir_raw_ids`), the host
//! answers the values of those it has (`sir_raw_values`).
//!
//! Parameters (FATE's `SecureInformationRetrievalParam`): `security_level`
//! (0.5, in [0, 1]), `oblivious_transfer_protocol` (`OT_Hauck`),
//! `commutative_encryption` (`CommutativeEncryptionPohligHellman`),
//! `non_committing_encryption` (`aes`), `dh_params` (`key_length`, `salt`,
//! `hash_method` sha256), `key_size` (deprecated: the DH key length),
//! `raw_retrieval` (deprecated), `target_cols` (a name or a list of the
//! host's column names; empty or null: the host's label), `need_run`.
//!
//! Output (guest): every guest id, with the retrieved columns as features
//! (header = `target_cols`) or the retrieved value as label
//! (`label_name: retrieved_value`); ids the host does not have keep NaN
//! features / no label, where FATE writes the string `unretrieved`
//! (schema mark `"unretrieved": "NaN"`). The host outputs nothing.

mod guest;
mod host;

use crate::intersection::DhParams;
use crate::preprocess::param_error;
use crate::{parse_params, Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::Role;
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};
use serde_json::Value;

macro_rules! tv {
    ($name:ident, $s:literal, $src:expr, $dst:expr) => {
        #[doc = concat!("`", $s, "` (see the module's protocol).")]
        pub const $name: TransferVariable = TransferVariable::new($s, $src, $dst);
    };
}
const G: &[Role] = &[Role::Guest];
const H: &[Role] = &[Role::Host];
tv!(SIR_PRIME, "sir_prime", G, H);
tv!(SIR_HOST_IDS, "sir_host_ids", H, G);
tv!(SIR_GUEST_IDS, "sir_guest_ids", G, H);
tv!(SIR_GUEST_IDS_DOUBLE, "sir_guest_ids_double", H, G);
tv!(SIR_BLOCKS, "sir_blocks", G, H);
tv!(SIR_OT_SENDER, "sir_ot_sender", H, G);
tv!(SIR_OT_RECEIVER, "sir_ot_receiver", G, H);
tv!(SIR_BLOCKS_ENCRYPTED, "sir_blocks_encrypted", H, G);
tv!(SIR_COVERAGE, "sir_coverage", G, H);
tv!(SIR_RAW_IDS, "sir_raw_ids", G, H);
tv!(SIR_RAW_VALUES, "sir_raw_values", H, G);

/// FATE's `SecureInformationRetrievalParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SirParam {
    pub security_level: f64,
    pub oblivious_transfer_protocol: String,
    pub commutative_encryption: String,
    pub non_committing_encryption: String,
    #[serde(skip_serializing)]
    pub dh_params: DhParamsIn,
    /// Deprecated: the DH key length.
    pub key_size: Option<u32>,
    /// Deprecated: `security_level: 0`.
    pub raw_retrieval: bool,
    /// A column name, a list of them, or null (the label).
    pub target_cols: Option<Value>,
    pub need_run: bool,
}

/// `dh_params` as given (FATE's `DHParam`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DhParamsIn {
    pub hash_method: Option<String>,
    pub salt: Option<String>,
    pub key_length: Option<u32>,
}

impl Default for SirParam {
    fn default() -> Self {
        SirParam {
            security_level: 0.5,
            oblivious_transfer_protocol: "OT_Hauck".into(),
            commutative_encryption: "CommutativeEncryptionPohligHellman".into(),
            non_committing_encryption: "aes".into(),
            dh_params: DhParamsIn::default(),
            key_size: None,
            raw_retrieval: false,
            target_cols: None,
            need_run: true,
        }
    }
}

/// The checked parameters.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Number of blocks (0: raw retrieval).
    pub blocks: usize,
    pub dh: DhParams,
    /// Empty: the label.
    pub target_cols: Vec<String>,
}

impl SirParam {
    pub(crate) fn plan(&self, cpn: &str) -> Result<Plan, ComponentError> {
        if !(0.0..=1.0).contains(&self.security_level) {
            return Err(param_error(
                cpn,
                "security_level",
                format!("{}: must be in [0, 1]", self.security_level),
            ));
        }
        for (field, value, want) in [
            (
                "oblivious_transfer_protocol",
                &self.oblivious_transfer_protocol,
                "OT_Hauck",
            ),
            (
                "commutative_encryption",
                &self.commutative_encryption,
                "CommutativeEncryptionPohligHellman",
            ),
            (
                "non_committing_encryption",
                &self.non_committing_encryption,
                "aes",
            ),
        ] {
            if !value.eq_ignore_ascii_case(want) {
                return Err(param_error(
                    cpn,
                    field,
                    format!("'{value}': FATE's SIR supports only {want}"),
                ));
            }
        }
        let mut dh = DhParams::default();
        if let Some(h) = &self.dh_params.hash_method {
            if !h.eq_ignore_ascii_case("sha256") {
                return Err(param_error(
                    cpn,
                    "dh_params.hash_method",
                    format!("'{h}': SIR's DH encryption hashes ids with sha256 only"),
                ));
            }
        }
        if let Some(s) = &self.dh_params.salt {
            dh.salt = s.clone();
        }
        if let Some(k) = self.key_size.or(self.dh_params.key_length) {
            if k < 1024 {
                return Err(param_error(
                    cpn,
                    if self.key_size.is_some() {
                        "key_size"
                    } else {
                        "dh_params.key_length"
                    },
                    format!("{k}: must be >= 1024"),
                ));
            }
            dh.key_length = k;
        }
        let target_cols = match &self.target_cols {
            None | Some(Value::Null) => vec![],
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        param_error(cpn, "target_cols", format!("{v}: column names are strings"))
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(param_error(
                    cpn,
                    "target_cols",
                    format!("{other}: expected a column name or a list of them"),
                ))
            }
        };
        let blocks = if self.raw_retrieval || self.security_level == 0.0 {
            0
        } else {
            (2.0 * (500f64.ln() * self.security_level).exp()).ceil() as usize
        };
        Ok(Plan {
            blocks,
            dh,
            target_cols,
        })
    }
}

/// `sir_blocks`: the block count and, per block, host positions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Blocks(pub Vec<Vec<u32>>);

/// What the host retrieves for one row: the target columns, or the label.
pub(crate) type Values = Vec<f64>;

/// The component.
pub struct SecureInformationRetrieval;

impl Component for SecureInformationRetrieval {
    fn module(&self) -> &'static str {
        "SecureInformationRetrieval"
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        parse_params::<SirParam>(component, params)?
            .plan(component)
            .map(|_| ())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let p: SirParam = parse_params(&ctx.component_name, &ctx.params)?;
        let plan = p.plan(&ctx.component_name)?;
        if !p.need_run {
            return Ok(ComponentOutput::passthrough(ctx));
        }
        match ctx.local.role {
            Role::Guest => guest::run(ctx, &plan),
            Role::Host => host::run(ctx, &plan),
            _ => Ok(ComponentOutput::default()),
        }
    }
}

#[cfg(test)]
mod tests;
