//! `FeldmanVerifiableSum`: FATE's multi-party sum of the same columns of
//! the common ids, by Feldman verifiable secret sharing
//! ([`fedflow_crypto::vss`]); only the guest learns the sums, no party a
//! peer's values.
//!
//! Parameters (FATE's `FeldmanVerifiableSumParam`): `sum_cols` (column
//! indexes into the header; null or empty: every column), `q_n` (decimal
//! digits kept, 0..=16, default 6: values are truncated to them as FATE's
//! `int(x · 10^q_n)`), `need_run` (true).
//!
//! Protocol, with `n` = hosts + 1 parties; host `i` holds share point
//! `x = i + 1`, the guest `x = n` (FATE's order). Every party, for each of
//! its rows and selected columns:
//! 1. encodes the value, draws a random polynomial of degree `n − 1` with it
//!    as constant term, and sends each other party the polynomial's value at
//!    that party's point (`fvs_share`) and to every other party the
//!    commitments `g^a_k` to its coefficients with its ids (`fvs_commitments`);
//! 2. checks every share it received against its sender's commitments (a
//!    wrong share fails the job naming the sender, row and column), and adds
//!    the shares at its point over the ids every party has;
//! 3. a host sends its sums to the guest (`fvs_sum`); the guest checks each
//!    against the product of all parties' commitments and reconstructs the
//!    sums by Lagrange interpolation over the `n` points.
//!
//! The guest outputs, per common id, the selected columns' sums (FATE's
//! header of the selected columns); hosts output nothing. What a party
//! receives is uniform shares and commitments; as in FATE, a commitment
//! `g^s` to a low-entropy value can be brute-forced (Feldman's scheme hides
//! values only computationally and only when they are unpredictable).

mod guest;
mod host;

use crate::hetero_lr::LocalData;
use crate::preprocess::param_error;
use crate::{parse_params, Component, ComponentError, ComponentOutput, TaskContext};
use fedflow_core::{Party, Role};
use fedflow_crypto::bigint::BigUint;
use fedflow_crypto::vss::Group;
use fedflow_federation::TransferVariable;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Party → party: the sender's shares at the receiver's point.
pub const FVS_SHARE: TransferVariable = TransferVariable::new(
    "fvs_share",
    &[Role::Guest, Role::Host],
    &[Role::Guest, Role::Host],
);
/// Party → every other party: the sender's ids and commitments.
pub const FVS_COMMITMENTS: TransferVariable = TransferVariable::new(
    "fvs_commitments",
    &[Role::Guest, Role::Host],
    &[Role::Guest, Role::Host],
);
/// Host → guest: the sums of the shares at the host's point.
pub const FVS_SUM: TransferVariable =
    TransferVariable::new("fvs_sum", &[Role::Host], &[Role::Guest]);

/// FATE's `FeldmanVerifiableSumParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeldmanVerifiableSumParam {
    /// Column indexes to sum (None / empty: all).
    pub sum_cols: Option<Vec<i64>>,
    /// Decimal digits kept.
    pub q_n: i64,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for FeldmanVerifiableSumParam {
    fn default() -> Self {
        FeldmanVerifiableSumParam {
            sum_cols: None,
            q_n: 6,
            need_run: true,
        }
    }
}

impl FeldmanVerifiableSumParam {
    fn check(&self, cpn: &str) -> Result<(), ComponentError> {
        if !(0..=16).contains(&self.q_n) {
            return Err(param_error(
                cpn,
                "q_n",
                format!("{}: must be an integer from 0 to 16", self.q_n),
            ));
        }
        if let Some(i) = self.sum_cols.iter().flatten().find(|&&i| i < 0) {
            return Err(param_error(
                cpn,
                "sum_cols",
                format!("{i}: column indexes are >= 0"),
            ));
        }
        Ok(())
    }
}

/// Byte form of field elements on the wire.
type Bytes = Vec<u8>;
/// Per column: a row's shares at every point (or its commitments).
type PerColumn = Vec<Vec<BigUint>>;

/// `fvs_share`: per row (in `ids` order of the sender's commitments), per column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Shares(pub Vec<Vec<Bytes>>);

/// `fvs_commitments`: the sender's ids and, per row and column, the
/// commitments to its polynomial's coefficients.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Commitments {
    pub ids: Vec<String>,
    pub columns: usize,
    pub commitments: Vec<Vec<Vec<Bytes>>>,
}

/// `fvs_sum`: per common id (sorted), per column, the sum of the shares.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Sums {
    pub ids: Vec<String>,
    pub sums: Vec<Vec<Bytes>>,
}

fn big(b: &[u8]) -> BigUint {
    BigUint::from_bytes_be(b)
}

/// The parties in share-point order: hosts (x = 1…), then the guest (x = n).
pub(crate) fn points(ctx: &TaskContext) -> Result<Vec<Party>, ComponentError> {
    let mut parties = ctx.roster.parties(Role::Host);
    let guest = ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
        ComponentError::Input("FeldmanVerifiableSum needs a guest (role.guest)".into())
    })?;
    if parties.is_empty() {
        return Err(ComponentError::Input(
            "FeldmanVerifiableSum needs at least one host (role.host)".into(),
        ));
    }
    parties.push(guest);
    Ok(parties)
}

/// What every party computes before the exchange.
pub(crate) struct Local {
    pub group: Group,
    pub q_n: u32,
    pub parties: Vec<Party>,
    /// This party's index in `parties` (its point is `me + 1`).
    pub me: usize,
    pub header: Vec<String>,
    pub sid: String,
    pub partitions: usize,
    pub ids: Vec<String>,
    /// Per row and column: the shares at every point.
    pub shares: Vec<Vec<Vec<BigUint>>>,
    pub commitments: Vec<Vec<Vec<BigUint>>>,
}

/// Selects the columns, encodes, shares and commits (rows in parallel).
pub(crate) fn prepare(
    ctx: &TaskContext,
    p: &FeldmanVerifiableSumParam,
) -> Result<Local, ComponentError> {
    let cpn = &ctx.component_name;
    let input = ctx
        .inputs
        .any()
        .ok_or_else(|| ComponentError::Input(format!("{cpn}: no data input")))?;
    let data = LocalData::load(input)?;
    let parties = points(ctx)?;
    let me = parties
        .iter()
        .position(|q| *q == ctx.local)
        .ok_or_else(|| ComponentError::Input(format!("{} is not in the job's roles", ctx.local)))?;
    let m = data.schema.header.len();
    let cols: Vec<usize> = match p.sum_cols.as_deref() {
        None | Some([]) => (0..m).collect(),
        Some(list) => {
            if let Some(&i) = list.iter().find(|&&i| i as usize >= m) {
                return Err(param_error(
                    cpn,
                    "sum_cols",
                    format!("{}: column {i} is out of range: {m} columns", ctx.local),
                ));
            }
            let set: BTreeSet<usize> = list.iter().map(|&i| i as usize).collect();
            set.into_iter().collect()
        }
    };
    let group = Group::rfc5114_1024_160();
    let q_n = p.q_n as u32;
    let n = parties.len();
    let rows: Vec<(PerColumn, PerColumn)> = data
        .ids
        .par_iter()
        .zip(&data.rows)
        .map(|(id, r)| {
            let mut rng = rand::rngs::OsRng;
            let mut sh = Vec::with_capacity(cols.len());
            let mut cm = Vec::with_capacity(cols.len());
            for &c in &cols {
                let x = r.features[c];
                let s = group.encode(x, q_n, n).map_err(|e| {
                    ComponentError::Input(format!(
                        "{cpn}: row {id}, column {}: {e}",
                        data.schema.header[c]
                    ))
                })?;
                let (a, b) = group.share(&s, n, &mut rng);
                sh.push(a);
                cm.push(b);
            }
            Ok((sh, cm))
        })
        .collect::<Result<_, ComponentError>>()?;
    let (shares, commitments) = rows.into_iter().unzip();
    Ok(Local {
        group,
        q_n,
        me,
        header: cols
            .iter()
            .map(|&c| data.schema.header[c].clone())
            .collect(),
        sid: data.schema.sid.clone(),
        partitions: data.partitions,
        parties,
        ids: data.ids,
        shares,
        commitments,
    })
}

/// What a party holds after step 2: its point's sums over the common ids,
/// and every party's commitments (index by party) on those ids.
pub(crate) struct Summed {
    pub common: Vec<String>,
    pub sums: Vec<Vec<BigUint>>,
    pub commitments: Vec<BTreeMap<String, Vec<Vec<BigUint>>>>,
}

/// Steps 1 and 2: exchange shares and commitments, verify, add.
pub(crate) fn exchange(ctx: &TaskContext, l: &Local) -> Result<Summed, ComponentError> {
    let fed = ctx.federation.as_ref();
    let others: Vec<(usize, Party)> = l
        .parties
        .iter()
        .copied()
        .enumerate()
        .filter(|(i, _)| *i != l.me)
        .collect();
    let bytes = |v: &[BigUint]| v.iter().map(|b| b.to_bytes_be()).collect::<Vec<_>>();
    let mine = Commitments {
        ids: l.ids.clone(),
        columns: l.header.len(),
        commitments: l
            .commitments
            .iter()
            .map(|row| row.iter().map(|c| bytes(c)).collect())
            .collect(),
    };
    let dsts: Vec<Party> = others.iter().map(|o| o.1).collect();
    FVS_COMMITMENTS.remote(fed, &mine, &dsts, "")?;
    for &(i, q) in &others {
        let s = Shares(
            l.shares
                .iter()
                .map(|row| row.iter().map(|sh| sh[i].to_bytes_be()).collect())
                .collect(),
        );
        FVS_SHARE.remote(fed, &s, &[q], "")?;
    }
    // Receive, per other party, its commitments and its shares for us.
    let mut received: Vec<Option<(Commitments, Shares)>> = vec![None; l.parties.len()];
    for &(i, q) in &others {
        let c: Commitments = FVS_COMMITMENTS.get_one(fed, q, "")?;
        let s: Shares = FVS_SHARE.get_one(fed, q, "")?;
        if c.columns != l.header.len() {
            return Err(ComponentError::Input(format!(
                "{q} sums {} columns, {} sums {} ({:?}): every party must select as many (sum_cols)",
                c.columns,
                ctx.local,
                l.header.len(),
                l.header
            )));
        }
        if s.0.len() != c.ids.len() || c.commitments.len() != c.ids.len() {
            return Err(ComponentError::Failed(format!(
                "{q} sent {} shares for {} ids",
                s.0.len(),
                c.ids.len()
            )));
        }
        received[i] = Some((c, s));
    }
    // The ids every party has.
    let mut common: BTreeSet<&String> = l.ids.iter().collect();
    for (c, _) in received.iter().flatten() {
        let theirs: BTreeSet<&String> = c.ids.iter().collect();
        common = common.intersection(&theirs).copied().collect();
    }
    let common: Vec<String> = common.into_iter().cloned().collect();
    let x = l.me as u64 + 1;
    let g = &l.group;
    // Per party: id → (commitments, our share), on the common ids.
    let mut commitments: Vec<BTreeMap<String, Vec<Vec<BigUint>>>> = Vec::new();
    let mut sums: Vec<Vec<BigUint>> = {
        let pos: BTreeMap<&String, usize> =
            l.ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        common
            .iter()
            .map(|id| {
                let r = pos[id];
                l.shares[r].iter().map(|sh| sh[l.me].clone()).collect()
            })
            .collect()
    };
    for (i, slot) in received.iter().enumerate() {
        let Some((c, s)) = slot else {
            let pos: BTreeMap<&String, usize> =
                l.ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
            commitments.push(
                common
                    .iter()
                    .map(|id| (id.clone(), l.commitments[pos[id]].clone()))
                    .collect(),
            );
            continue;
        };
        let sender = l.parties[i];
        let pos: BTreeMap<&String, usize> =
            c.ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        let rows: Vec<(PerColumn, Vec<BigUint>)> = common
            .par_iter()
            .map(|id| {
                let r = pos[id];
                let mut cms = Vec::with_capacity(l.header.len());
                let mut ys = Vec::with_capacity(l.header.len());
                for (col, name) in l.header.iter().enumerate() {
                    let cm: Vec<BigUint> = c.commitments[r]
                        .get(col)
                        .map(|v| v.iter().map(|b| big(b)).collect())
                        .unwrap_or_default();
                    let y = s.0[r].get(col).map(|b| big(b)).unwrap_or_default();
                    if cm.len() != l.parties.len() || !g.verify(x, &y, &cm) {
                        return Err(ComponentError::Failed(format!(
                            "{sender} sent a share that does not match its commitments (row {id}, column {name}): \
                             a party is not following the protocol"
                        )));
                    }
                    cms.push(cm);
                    ys.push(y);
                }
                Ok((cms, ys))
            })
            .collect::<Result<_, ComponentError>>()?;
        let mut map = BTreeMap::new();
        for ((id, (cms, ys)), acc) in common.iter().zip(rows).zip(sums.iter_mut()) {
            for (a, y) in acc.iter_mut().zip(&ys) {
                *a = g.add(a, y);
            }
            map.insert(id.clone(), cms);
        }
        commitments.push(map);
    }
    tracing::info!(
        "FeldmanVerifiableSum {}: {} common ids, {} columns, shares verified",
        ctx.local,
        common.len(),
        l.header.len()
    );
    Ok(Summed {
        common,
        sums,
        commitments,
    })
}

/// The component.
pub struct FeldmanVerifiableSum;

impl Component for FeldmanVerifiableSum {
    fn module(&self) -> &'static str {
        "FeldmanVerifiableSum"
    }

    fn check_params(
        &self,
        component: &str,
        _role: Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        parse_params::<FeldmanVerifiableSumParam>(component, params)?.check(component)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let p: FeldmanVerifiableSumParam = parse_params(&ctx.component_name, &ctx.params)?;
        p.check(&ctx.component_name)?;
        if !p.need_run {
            return Ok(ComponentOutput::passthrough(ctx));
        }
        match ctx.local.role {
            Role::Guest => guest::run(ctx, &p),
            Role::Host => host::run(ctx, &p),
            _ => Ok(ComponentOutput::default()),
        }
    }
}

#[cfg(test)]
mod tests;
