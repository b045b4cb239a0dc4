//! `HeteroPearson` (FATE's HeteroPearson): Pearson correlation of the
//! guest's and one host's features over their shared (intersected) rows.
//!
//! Parameters (FATE's `PearsonParam`): `column_indexes` (-1 = all),
//! `column_names`, `cross_parties` (default true), `need_run`,
//! `use_mix_rand` (accepted; only meaningful for FATE's SPDZ),
//! `calc_local_vif` (default true), `fixpoint_bit_length` (accepted; the
//! Paillier key length here is fixed at 1024 bits).
//!
//! # What each party computes locally
//! Each party standardizes its selected columns, `z = (x − mean) / σ` with
//! the population σ (FATE's `standardize`; a column with σ = 0 is dropped from
//! the computation and shows as NaN), then `local_corr = Zᵀ Z / n` and, with
//! `calc_local_vif`, `local_vif[j] = (local_corr⁻¹)[j][j]` (= 1 / (1 − R²ⱼ),
//! which equals FATE's cofactor-determinant ratio for a non-singular matrix;
//! a singular matrix gives NaN).
//!
//! # The cross-party product (differs from FATE, which uses SPDZ)
//! FATE secret-shares both standardized matrices and multiplies them with
//! SPDZ. Here a two-party Paillier protocol computes the same `C = Z_gᵀ Z_h / n`
//! (rows aligned by sample id, guest columns × host columns):
//! 1. The host makes a 1024-bit Paillier key pair and sends the public key
//!    and, for each row, `Enc(round(z_h · 2²⁸))` of its standardized values
//!    (`pearson_host_enc_rows`, keyed by sample id, which both already know).
//! 2. The guest computes, per (guest column i, host column j),
//!    `Enc(Σ_r round(z_g[r][i] · 2²⁸) · round(z_h[r][j] · 2²⁸))` by
//!    homomorphic scalar multiplication and addition, and sends these
//!    `p × q` ciphertexts (`pearson_guest_enc_corr`).
//! 3. The host decrypts, divides by `2⁵⁶ · n`, clips to [−1, 1] and sends the
//!    matrix back (`pearson_host_corr`), so both hold `corr`.
//!
//! What each party learns: the guest sees only ciphertexts of the host's
//! values, then the correlation matrix; the host sees only the `p × q`
//! aggregated sums (that is, the correlation matrix) and never a row of the
//! guest. Names: each party sends the other its anonymous column names
//! (`host_<id>_x<i>`, `guest_<id>_x<i>`) and which columns have σ > 0, as
//! FATE's `anonymous_host` / `anonymous_guest`. Both learn `n` and the
//! correlation matrix, as in FATE. Security is semi-honest, like FATE's.
//!
//! Model (FATE's `HeteroPearsonModelParam`): `party`, `parties`, `shapes`,
//! `all_names` (guest names then host names; the other party's by anonymous
//! name), `names` and `anonymous_map` (local), `shape`, `local_corr`
//! (row-major `shape × shape`), `local_vif`, `corr` (row-major guest × host).
//! NaN is written as JSON `null`. `HeteroFeatureSelection` reads it as an
//! isometric model for `vif_filter` and `correlation_filter`.

mod guest;
mod host;

use crate::{Component, ComponentError, ComponentOutput, Instance, ModelData, TaskContext};
use fedflow_computing::TypedTable;
use fedflow_core::{Party, Role};
use fedflow_federation::TransferVariable;
use serde::{Deserialize, Serialize};

/// Anonymous names and kept (σ > 0) column indexes, host → guest.
pub const ANONYMOUS_HOST: TransferVariable =
    TransferVariable::new("pearson_anonymous_host", &[Role::Host], &[Role::Guest]);
/// Anonymous names and kept (σ > 0) column indexes, guest → host.
pub const ANONYMOUS_GUEST: TransferVariable =
    TransferVariable::new("pearson_anonymous_guest", &[Role::Guest], &[Role::Host]);
/// The host's Paillier public key, host → guest.
pub const HOST_PUBKEY: TransferVariable =
    TransferVariable::new("pearson_host_pubkey", &[Role::Host], &[Role::Guest]);
/// The host's encrypted fixed-point standardized rows, host → guest.
pub const HOST_ENC_ROWS: TransferVariable =
    TransferVariable::new("pearson_host_enc_rows", &[Role::Host], &[Role::Guest]);
/// The encrypted `p × q` cross sums, guest → host.
pub const GUEST_ENC_CORR: TransferVariable =
    TransferVariable::new("pearson_guest_enc_corr", &[Role::Guest], &[Role::Host]);
/// The decrypted cross correlation, host → guest.
pub const HOST_CORR: TransferVariable =
    TransferVariable::new("pearson_host_corr", &[Role::Host], &[Role::Guest]);

/// Fixed-point scale (bits) of the standardized values in the cross product.
pub const FIXPOINT_BITS: u32 = 28;
/// Paillier key length of the cross product.
pub const KEY_BITS: u32 = 1024;

/// An anonymous column name (`<role>_<party id>_x<index>`), as binning's.
pub fn anonymous(role: Role, party_id: u64, index: usize) -> String {
    match role {
        Role::Host => crate::hetero_feature_binning::anonymous_name(party_id, index),
        _ => format!("guest_{party_id}_x{index}"),
    }
}

/// Serialises `Vec<f64>` with NaN as `null` (JSON has no NaN).
mod nan_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|x| if x.is_nan() { None } else { Some(*x) })
            .collect::<Vec<Option<f64>>>()
            .serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let v: Vec<Option<f64>> = Vec::deserialize(d)?;
        Ok(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}

/// One party's names (FATE's `Names`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Names {
    /// Column names.
    pub names: Vec<String>,
}

/// A column's anonymous name (FATE's `AnonymousMap`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnonymousMap {
    /// The real name.
    pub name: String,
    /// The anonymous name.
    pub anonymous: String,
}

/// The model param (FATE's `HeteroPearsonModelParam`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PearsonModelParam {
    /// `HeteroPearson`.
    pub model_name: String,
    /// This party, `(role,party_id)`.
    pub party: String,
    /// The parties of `all_names`: guest, then host (`cross_parties`), or only this one.
    pub parties: Vec<String>,
    /// Column count per party of `parties`.
    pub shapes: Vec<usize>,
    /// Column names per party of `parties` (the other party's anonymous).
    pub all_names: Vec<Names>,
    /// Local selected column names.
    pub names: Vec<String>,
    /// Local names and their anonymous names (all header columns).
    pub anonymous_map: Vec<AnonymousMap>,
    /// Local column count.
    pub shape: usize,
    /// Local correlation, row-major `shape × shape`.
    #[serde(with = "nan_null")]
    pub local_corr: Vec<f64>,
    /// Local VIF per selected column (empty without `calc_local_vif`).
    #[serde(with = "nan_null", default)]
    pub local_vif: Vec<f64>,
    /// Cross correlation, row-major guest columns × host columns (empty without `cross_parties`).
    #[serde(with = "nan_null", default)]
    pub corr: Vec<f64>,
}

impl PearsonModelParam {
    /// The guest's column names (`all_names[0]`).
    pub fn guest_names(&self) -> &[String] {
        self.all_names.first().map_or(&[], |n| &n.names)
    }
    /// The host's column names (`all_names[1]`), if cross-party.
    pub fn host_names(&self) -> &[String] {
        self.all_names.get(1).map_or(&[], |n| &n.names)
    }
    /// The host's party id, from `parties[1]` = `(host,<id>)`.
    pub fn host_party_id(&self) -> Option<u64> {
        let p = self.parties.get(1)?;
        p.trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .nth(1)?
            .parse()
            .ok()
    }
    /// Local correlation between local columns `a` and `b`.
    pub fn local(&self, a: usize, b: usize) -> f64 {
        self.local_corr
            .get(a * self.shape + b)
            .copied()
            .unwrap_or(f64::NAN)
    }
    /// Cross correlation between guest column `g` and host column `h`.
    pub fn cross(&self, g: usize, h: usize) -> f64 {
        let q = self.host_names().len();
        self.corr.get(g * q + h).copied().unwrap_or(f64::NAN)
    }
}

/// Parsed parameters.
pub(crate) struct Params {
    pub column_indexes: Option<Vec<usize>>,
    pub column_names: Vec<String>,
    pub cross_parties: bool,
    pub calc_local_vif: bool,
}

fn params(ctx: &TaskContext) -> Result<Params, ComponentError> {
    let p = &ctx.params;
    let cpn = &ctx.component_name;
    let bad = |path: &str, message: &str| ComponentError::Param {
        path: format!("{cpn}.{path}"),
        message: message.into(),
    };
    let column_indexes = match p.get("column_indexes") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) if v.as_i64() == Some(-1) => None,
        Some(serde_json::Value::Array(a)) => Some(
            a.iter()
                .map(|x| {
                    x.as_u64()
                        .map(|i| i as usize)
                        .ok_or_else(|| bad("column_indexes", "expected -1 or a list of indexes"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err(bad("column_indexes", "expected -1 or a list of indexes")),
    };
    let column_names = match p.get("column_names") {
        None | Some(serde_json::Value::Null) => vec![],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad("column_names", "expected a list of names"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("column_names", "expected a list of names")),
    };
    if column_indexes.is_none() && !column_names.is_empty() {
        return Err(bad(
            "column_names",
            "column_indexes -1 (all) and column_names together are ambiguous",
        ));
    }
    let flag = |k: &str, d: bool| p.get(k).and_then(|v| v.as_bool()).unwrap_or(d);
    Ok(Params {
        column_indexes,
        column_names,
        cross_parties: flag("cross_parties", true),
        calc_local_vif: flag("calc_local_vif", true),
    })
}

/// This party's data for the correlation: sorted by sample id.
pub(crate) struct Local {
    /// Full header.
    pub header: Vec<String>,
    /// Selected column indexes into the header.
    pub selected: Vec<usize>,
    /// Sample ids, sorted.
    pub ids: Vec<String>,
    /// Standardized selected columns with σ > 0, per row (`kept` order).
    pub z: Vec<Vec<f64>>,
    /// Positions (into `selected`) of the columns with σ > 0.
    pub kept: Vec<usize>,
}

fn local_data(ctx: &TaskContext, p: &Params) -> Result<Local, ComponentError> {
    let cpn = &ctx.component_name;
    let input = ctx
        .inputs
        .any()
        .ok_or_else(|| ComponentError::Input(format!("{cpn}: no input data")))?;
    let header = input.schema.header.clone();
    let selected: Vec<usize> =
        match &p.column_indexes {
            None => (0..header.len()).collect(),
            Some(idx) => {
                let mut s = std::collections::BTreeSet::new();
                for &i in idx {
                    if i >= header.len() {
                        return Err(ComponentError::Param {
                            path: format!("{cpn}.column_indexes"),
                            message: format!("index {i} is out of the header's {}", header.len()),
                        });
                    }
                    s.insert(i);
                }
                for n in &p.column_names {
                    let i = header.iter().position(|h| h == n).ok_or_else(|| {
                        ComponentError::Param {
                            path: format!("{cpn}.column_names"),
                            message: format!("'{n}' is not in the header"),
                        }
                    })?;
                    s.insert(i);
                }
                s.into_iter().collect()
            }
        };
    let table: TypedTable<String, Instance> = TypedTable::from_raw(input.table.clone());
    let mut rows = table.collect()?;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let (ids, x): (Vec<String>, Vec<Vec<f64>>) = rows
        .into_iter()
        .map(|(k, v)| (k, selected.iter().map(|&j| v.features[j]).collect()))
        .unzip();
    let (z, kept) = standardize(&x, selected.len());
    Ok(Local {
        header,
        selected,
        ids,
        z,
        kept,
    })
}

/// Standardizes columns (population σ); returns the rows of the columns with
/// σ > 0 and those columns' positions.
pub fn standardize(x: &[Vec<f64>], m: usize) -> (Vec<Vec<f64>>, Vec<usize>) {
    let n = x.len().max(1) as f64;
    let mut sum = vec![0.0; m];
    let mut sq = vec![0.0; m];
    for r in x {
        for ((s, q), v) in sum.iter_mut().zip(sq.iter_mut()).zip(r) {
            *s += v;
            *q += v * v;
        }
    }
    let mu: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let sigma: Vec<f64> = (0..m)
        .map(|j| (sq[j] / n - mu[j] * mu[j]).max(0.0).sqrt())
        .collect();
    let kept: Vec<usize> = (0..m).filter(|&j| sigma[j] > 1e-12).collect();
    let z = x
        .iter()
        .map(|r| kept.iter().map(|&j| (r[j] - mu[j]) / sigma[j]).collect())
        .collect();
    (z, kept)
}

/// `Zᵀ Z / n` over the kept columns, expanded to `m × m` with NaN for dropped ones.
pub fn local_corr(z: &[Vec<f64>], kept: &[usize], m: usize) -> Vec<f64> {
    let k = kept.len();
    let n = z.len().max(1) as f64;
    let mut c = vec![0.0; k * k];
    for r in z {
        for (a, ra) in r.iter().enumerate() {
            for (b, rb) in r.iter().enumerate().skip(a) {
                c[a * k + b] += ra * rb;
            }
        }
    }
    let mut out = vec![f64::NAN; m * m];
    for a in 0..k {
        for b in a..k {
            let v = (c[a * k + b] / n).clamp(-1.0, 1.0);
            out[kept[a] * m + kept[b]] = v;
            out[kept[b] * m + kept[a]] = v;
        }
    }
    out
}

/// VIF per column: the diagonal of the inverse of the (kept columns')
/// correlation matrix; NaN for dropped columns or a singular matrix.
pub fn vif(corr: &[f64], kept: &[usize], m: usize) -> Vec<f64> {
    let k = kept.len();
    let mut a: Vec<Vec<f64>> = (0..k)
        .map(|i| {
            let mut row: Vec<f64> = (0..k).map(|j| corr[kept[i] * m + kept[j]]).collect();
            row.extend((0..k).map(|j| if i == j { 1.0 } else { 0.0 }));
            row
        })
        .collect();
    let mut out = vec![f64::NAN; m];
    // Gauss-Jordan with partial pivoting.
    for col in 0..k {
        let Some(piv) = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
        else {
            return out;
        };
        if a[piv][col].abs() < 1e-12 {
            return out;
        }
        a.swap(col, piv);
        let d = a[col][col];
        for v in a[col].iter_mut() {
            *v /= d;
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col];
                if f != 0.0 {
                    for (v, p) in row.iter_mut().zip(&pivot_row) {
                        *v -= f * p;
                    }
                }
            }
        }
    }
    for (i, &j) in kept.iter().enumerate() {
        out[j] = a[i][k + i];
    }
    out
}

fn party_str(p: Party) -> String {
    format!("({},{})", p.role.as_str(), p.party_id)
}

/// The component.
pub struct HeteroPearson;

impl Component for HeteroPearson {
    fn module(&self) -> &'static str {
        "HeteroPearson"
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        if !matches!(ctx.local.role, Role::Guest | Role::Host) {
            return Ok(ComponentOutput::default());
        }
        if ctx.params.get("need_run").and_then(|v| v.as_bool()) == Some(false) {
            return Ok(ComponentOutput {
                data: ctx.inputs.any().cloned().into_iter().collect(),
                ..Default::default()
            });
        }
        let p = params(ctx)?;
        let local = local_data(ctx, &p)?;
        let m = local.selected.len();
        let names: Vec<String> = local
            .selected
            .iter()
            .map(|&j| local.header[j].clone())
            .collect();
        let local_corr = local_corr(&local.z, &local.kept, m);
        let local_vif = if p.calc_local_vif {
            vif(&local_corr, &local.kept, m)
        } else {
            vec![]
        };
        let mut model = PearsonModelParam {
            model_name: "HeteroPearson".into(),
            party: party_str(ctx.local),
            names: names.clone(),
            anonymous_map: local
                .header
                .iter()
                .enumerate()
                .map(|(i, h)| AnonymousMap {
                    name: h.clone(),
                    anonymous: anonymous(ctx.local.role, ctx.local.party_id, i),
                })
                .collect(),
            shape: m,
            local_corr,
            local_vif,
            ..Default::default()
        };
        let mut summary = serde_json::json!({ "num_local_features": m });
        if !p.cross_parties {
            model.parties = vec![party_str(ctx.local)];
            model.shapes = vec![m];
            model.all_names = vec![Names { names }];
        } else {
            let guest = ctx
                .roster
                .party(Role::Guest, 0)
                .ok_or_else(|| ComponentError::Failed("HeteroPearson needs a guest".into()))?;
            let host = ctx
                .roster
                .party(Role::Host, 0)
                .ok_or_else(|| ComponentError::Failed("HeteroPearson needs a host".into()))?;
            let cross = if ctx.local.role == Role::Guest {
                guest::cross(ctx, &local, host)?
            } else {
                host::cross(ctx, &local, guest)?
            };
            let (g_names, h_names) = if ctx.local.role == Role::Guest {
                (names, cross.remote_names)
            } else {
                (cross.remote_names, names)
            };
            summary["num_remote_features"] = serde_json::json!(if ctx.local.role == Role::Guest {
                h_names.len()
            } else {
                g_names.len()
            });
            model.parties = vec![party_str(guest), party_str(host)];
            model.shapes = vec![g_names.len(), h_names.len()];
            model.all_names = vec![Names { names: g_names }, Names { names: h_names }];
            model.corr = cross.corr;
        }
        tracing::info!(
            component = %ctx.component_name,
            features = m,
            cross = p.cross_parties,
            "HeteroPearson done"
        );
        Ok(ComponentOutput {
            summary,
            data: ctx.inputs.any().cloned().into_iter().collect(),
            model: Some(ModelData {
                module: "HeteroPearson".into(),
                meta: ctx.params.clone(),
                param: serde_json::to_value(&model)
                    .map_err(|e| ComponentError::Failed(format!("HeteroPearson model: {e}")))?,
            }),
        })
    }
}

/// The outcome of the cross-party exchange.
pub(crate) struct Cross {
    /// The other party's selected columns, by anonymous name.
    pub remote_names: Vec<String>,
    /// Row-major guest × host correlation (NaN for σ = 0 columns).
    pub corr: Vec<f64>,
}

/// Names and σ > 0 positions a party announces.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Announce {
    pub anonymous: Vec<String>,
    pub kept: Vec<usize>,
    pub n: usize,
}

pub(crate) fn announce(ctx: &TaskContext, local: &Local) -> Announce {
    Announce {
        anonymous: local
            .selected
            .iter()
            .map(|&j| anonymous(ctx.local.role, ctx.local.party_id, j))
            .collect(),
        kept: local.kept.clone(),
        n: local.ids.len(),
    }
}

/// Expands the kept-columns `kg × kh` matrix to `mg × mh` with NaN.
pub(crate) fn expand(
    c: &[f64],
    g: (&[usize], usize),
    h: (&[usize], usize),
) -> Result<Vec<f64>, ComponentError> {
    let (gk, mg) = g;
    let (hk, mh) = h;
    if c.len() != gk.len() * hk.len() {
        return Err(ComponentError::Failed(format!(
            "HeteroPearson: cross matrix has {} values, expected {} × {}",
            c.len(),
            gk.len(),
            hk.len()
        )));
    }
    let mut out = vec![f64::NAN; mg * mh];
    for (a, &i) in gk.iter().enumerate() {
        for (b, &j) in hk.iter().enumerate() {
            out[i * mh + j] = c[a * hk.len() + b].clamp(-1.0, 1.0);
        }
    }
    Ok(out)
}

pub(crate) fn crypto(e: fedflow_crypto::CryptoError) -> ComponentError {
    ComponentError::Failed(format!("HeteroPearson: paillier: {e}"))
}

#[cfg(test)]
mod tests;
