//! `Intersection` (FATE's Intersection, fate-reference §6): private set
//! intersection of the guest's and each host's sample ids.
//!
//! * `rsa` (default): FATE's blind-signature protocol. The host generates an
//!   RSA key (`rsa_params.key_length`, default 1024), sends `{e, n}`
//!   (`rsa_pubkey`) and the tags `H2(H1(id)^d mod n)` of its ids
//!   (`host_sign_ids`); the guest sends `r^e·H1(id)` (`guest_blind_ids`), the
//!   host signs them (`host_sign_guest_ids`), the guest unblinds, hashes and
//!   joins. H1 = H2 = SHA-256.
//! * `ecdh`: commutative double encryption over ristretto255 (curve25519):
//!   each side sends the table `(k·H(id), 0)` (`guest_ecdh_ids`,
//!   `host_ecdh_ids`), the host returns the guest's table re-encrypted as
//!   `(g, k_h·g)` (`guest_double_ids`), the guest re-encrypts the host's
//!   table and joins the two on the double tags. With `sync_intersect_ids`
//!   the guest sends each host the table of that host's own tags of the
//!   intersection (`intersect_tags`, announced by `intersect_ids`). Every
//!   per-id step is a table op (`ops.rs`: blinding and re-blinding carry the
//!   party's key and go only to its own executors), so on Spark the
//!   protocol runs on executors and the task process holds no list of ids.
//! * `dh`: the same double encryption with Pohlig–Hellman `H(id)^e mod p`;
//!   the guest generates the prime (`dh_params.key_length`, default 1024) and
//!   sends it (`dh_prime`); messages `guest_dh_ids`, `host_dh_ids`,
//!   `guest_dh_double_ids`.
//!
//! RSA and DH collect the party's ids into the task and encrypt them there
//! (rayon); both sides shuffle their id lists before sending, so positions
//! reveal nothing (ECDH tables are partitioned by tag, which is as random).
//! The guest learns the intersection; with `sync_intersect_ids`
//! (default true) it sends each host the positions of the intersecting
//! entries in that host's own list (`intersect_ids`; ECDH: the host's tags)
//! — the host learns the
//! intersection and nothing else; without it the host learns nothing and
//! outputs an empty table. Several hosts: the guest's result is the
//! intersection over all hosts, and that is what each host is told.
//! `cardinality_only`: the guest learns only the count (sent to the hosts
//! with `sync_cardinality`), and no data is output.
//!
//! Repeated ids: a table's ids are deduplicated before the protocol (each id
//! is encrypted once), and the output keeps every row whose id is in the
//! intersection (FATE's tables have unique keys, so this only matters for
//! tables built with repeated keys). `salt` is appended to every id.
//!
//! Output: the party's instance table restricted to the intersection (same
//! keys and values; with `only_output_key`, instances without features).
//! Summary: `intersect_num`, `intersect_rate` (of the party's own rows).

pub(crate) mod dh;
mod guest;
mod host;
pub(crate) mod ops;
mod params;

pub use ops::*;
pub use params::{DhParams, EcdhParams, IntersectParam, RsaParams};

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Instance, Schema,
    TaskContext,
};
use fedflow_computing::{parallelize, TypedTable};
use fedflow_core::Role;
use fedflow_crypto::EcdhPsi;
use fedflow_federation::TransferVariable;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// RSA: the host's public key, host → guest.
pub const RSA_PUBKEY: TransferVariable =
    TransferVariable::new("rsa_pubkey", &[Role::Host], &[Role::Guest]);
/// RSA: the host's signed id tags, host → guest.
pub const HOST_SIGN_IDS: TransferVariable =
    TransferVariable::new("host_sign_ids", &[Role::Host], &[Role::Guest]);
/// RSA: the guest's blinded ids, guest → host.
pub const GUEST_BLIND_IDS: TransferVariable =
    TransferVariable::new("guest_blind_ids", &[Role::Guest], &[Role::Host]);
/// RSA: the guest's blinded ids signed, host → guest.
pub const HOST_SIGN_GUEST_IDS: TransferVariable =
    TransferVariable::new("host_sign_guest_ids", &[Role::Host], &[Role::Guest]);
/// ECDH: the guest's encrypted ids, guest → host.
pub const GUEST_ECDH_IDS: TransferVariable =
    TransferVariable::new("guest_ecdh_ids", &[Role::Guest], &[Role::Host]);
/// ECDH: the host's encrypted ids, host → guest.
pub const HOST_ECDH_IDS: TransferVariable =
    TransferVariable::new("host_ecdh_ids", &[Role::Host], &[Role::Guest]);
/// ECDH: the guest's ids encrypted by both, host → guest.
pub const GUEST_DOUBLE_IDS: TransferVariable =
    TransferVariable::new("guest_double_ids", &[Role::Host], &[Role::Guest]);
/// DH: the prime modulus, guest → host.
pub const DH_PRIME: TransferVariable =
    TransferVariable::new("dh_prime", &[Role::Guest], &[Role::Host]);
/// DH: the guest's encrypted ids, guest → host.
pub const GUEST_DH_IDS: TransferVariable =
    TransferVariable::new("guest_dh_ids", &[Role::Guest], &[Role::Host]);
/// DH: the host's encrypted ids, host → guest.
pub const HOST_DH_IDS: TransferVariable =
    TransferVariable::new("host_dh_ids", &[Role::Host], &[Role::Guest]);
/// DH: the guest's ids encrypted by both, host → guest.
pub const GUEST_DH_DOUBLE_IDS: TransferVariable =
    TransferVariable::new("guest_dh_double_ids", &[Role::Host], &[Role::Guest]);
/// The outcome for a host, guest → host.
pub const INTERSECT_IDS: TransferVariable =
    TransferVariable::new("intersect_ids", &[Role::Guest], &[Role::Host]);

/// ECDH: the host's own tags of the intersecting ids, guest → host (a table).
pub const INTERSECT_TAGS: TransferVariable =
    TransferVariable::new("intersect_tags", &[Role::Guest], &[Role::Host]);

/// What the guest tells a host at the end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SyncMessage {
    /// Positions, in the host's sent list, of the intersecting ids.
    Positions(Vec<u64>),
    /// ECDH: the host's tags of the intersecting ids follow as the table
    /// `intersect_tags`.
    Tags,
    /// Only the count (`sync_cardinality`).
    Cardinality(u64),
    /// Nothing (`sync_intersect_ids` false).
    Nothing,
}

/// The component.
pub struct Intersection;

impl Component for Intersection {
    fn module(&self) -> &'static str {
        "Intersection"
    }

    /// Rows pass through whatever their features hold.
    fn reads_string_features(&self) -> bool {
        true
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        parse_params::<IntersectParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let param: IntersectParam = parse_params(&ctx.component_name, &ctx.params)?;
        param.check(&ctx.component_name)?;
        match ctx.local.role {
            Role::Guest | Role::Host => {}
            _ => return Ok(ComponentOutput::default()),
        }
        let input = ctx.inputs.any().ok_or_else(|| {
            ComponentError::Input(format!("{}: no input data", ctx.component_name))
        })?;
        let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
        let total = table.count()?;
        if param.method() == "ecdh" {
            let found = match ctx.local.role {
                Role::Guest => guest::run_ecdh(ctx, &param, &table)?,
                _ => host::run_ecdh(ctx, &param, &table)?,
            };
            return finish(ctx, &param, input, &table, found, total);
        }
        let ids = distinct_ids(&table, &param)?;
        let found = match ctx.local.role {
            Role::Guest => guest::run(ctx, &param, &ids)?,
            _ => host::run(ctx, &param, &ids)?,
        };
        let found = match found {
            Found::Positions(p) => {
                let rows: Vec<(String, u8)> = p.iter().map(|&i| (ids.keys[i].clone(), 0)).collect();
                Found::Keys(parallelize(
                    ctx.computing.as_ref(),
                    rows,
                    table.partitions().max(1),
                )?)
            }
            other => other,
        };
        finish(ctx, &param, input, &table, found, total)
    }
}

/// ECDH: a fresh key and the party's table `(k·H(id ‖ salt), id)`; repeated
/// ids collapse to one row.
pub(crate) fn ecdh_blind(
    table: &TypedTable<String, Instance>,
    param: &IntersectParam,
) -> Result<(EcdhPsi, TypedTable<Tag, String>), ComponentError> {
    let key = EcdhPsi::random();
    let mine = table.map_partitions(EcdhBlindIds {
        key: key.clone(),
        salt: param.ecdh_params.salt.clone(),
    })?;
    Ok((key, mine))
}

/// The party's distinct ids (with the salt appended), shuffled.
pub(crate) struct Ids {
    /// The ids as in the table.
    pub keys: Vec<String>,
    /// The bytes encrypted (id + salt).
    pub bytes: Vec<Vec<u8>>,
}

fn distinct_ids(
    table: &TypedTable<String, Instance>,
    param: &IntersectParam,
) -> Result<Ids, ComponentError> {
    let mut keys: Vec<String> = table
        .map_values(IdOnly)?
        .collect()?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.shuffle(&mut rand::thread_rng());
    let salt = match param.method().as_str() {
        "rsa" => &param.rsa_params.salt,
        "dh" => &param.dh_params.salt,
        _ => &param.ecdh_params.salt,
    };
    let bytes = keys
        .iter()
        .map(|k| {
            let mut b = k.as_bytes().to_vec();
            b.extend_from_slice(salt.as_bytes());
            b
        })
        .collect();
    Ok(Ids { keys, bytes })
}

/// What a party learned: the positions (in its own id list, RSA and DH) or
/// the table `(id, 0)` (ECDH) of the intersection, or only a count, or nothing.
pub(crate) enum Found {
    Positions(Vec<usize>),
    Keys(TypedTable<String, u8>),
    Count(u64),
    Nothing,
}

fn finish(
    ctx: &TaskContext,
    param: &IntersectParam,
    input: &Dataset,
    table: &TypedTable<String, Instance>,
    found: Found,
    total: u64,
) -> Result<ComponentOutput, ComponentError> {
    let rate = |n: u64| {
        if total == 0 {
            0.0
        } else {
            n as f64 / total as f64
        }
    };
    let keep = match found {
        Found::Keys(k) => k,
        Found::Positions(_) => {
            return Err(ComponentError::Failed(
                "intersection: positions not turned into ids".into(),
            ))
        }
        Found::Count(n) => {
            tracing::info!("{}: intersection cardinality {n}", ctx.component_name);
            return Ok(ComponentOutput {
                summary: serde_json::json!({"intersect_num": n, "intersect_rate": rate(n), "cardinality_only": true}),
                ..Default::default()
            });
        }
        Found::Nothing if param.cardinality_only => {
            return Ok(ComponentOutput {
                summary: serde_json::json!({"cardinality_only": true}),
                ..Default::default()
            })
        }
        Found::Nothing => {
            // sync_intersect_ids false: the host learns nothing and outputs no rows.
            let empty: Vec<(String, u8)> = Vec::new();
            let keep = parallelize(ctx.computing.as_ref(), empty, table.partitions().max(1))?;
            let out = table.join(&keep, KeepInstance)?;
            return Ok(ComponentOutput {
                summary: serde_json::json!({"sync_intersect_ids": false}),
                data: vec![Dataset {
                    table: out.raw().clone(),
                    schema: input.schema.clone(),
                }],
                model: None,
            });
        }
    };
    let mut out = table.join(&keep, KeepInstance)?;
    let mut schema: Schema = input.schema.clone();
    if param.only_output_key {
        out = out.map_values(KeyOnly)?;
        schema.header.clear();
        schema.label_name = None;
    }
    let n = out.count()?;
    tracing::info!(
        "{}: intersection {n} of {total} rows ({:.4})",
        ctx.component_name,
        rate(n)
    );
    let summary = serde_json::json!({"intersect_num": n, "intersect_rate": rate(n)});
    Ok(ComponentOutput {
        summary,
        data: vec![Dataset {
            table: out.raw().clone(),
            schema,
        }],
        model: None,
    })
}

#[cfg(test)]
mod tests;
