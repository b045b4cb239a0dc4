//! HeteroPearson, guest side: multiplies the host's encrypted standardized
//! rows by its own fixed-point standardized values and sums them per
//! (guest column, host column); the host decrypts only these sums.

use super::{
    announce, crypto, expand, Announce, Cross, Local, ANONYMOUS_GUEST, ANONYMOUS_HOST,
    FIXPOINT_BITS, GUEST_ENC_CORR, HOST_CORR, HOST_ENC_ROWS, HOST_PUBKEY,
};
use crate::{ComponentError, TaskContext};
use fedflow_core::Party;
use fedflow_crypto::{Ciphertext, PublicKey};
use rayon::prelude::*;
use std::collections::HashMap;

pub(crate) fn cross(
    ctx: &TaskContext,
    local: &Local,
    host: Party,
) -> Result<Cross, ComponentError> {
    let fed = ctx.federation.as_ref();
    let theirs: Announce = ANONYMOUS_HOST.get_one(fed, host, "")?;
    ANONYMOUS_GUEST.remote(fed, &announce(ctx, local), &[host], "")?;
    let pk: PublicKey = HOST_PUBKEY.get_one(fed, host, "")?;
    let rows: Vec<(String, Vec<Ciphertext>)> = HOST_ENC_ROWS.get_one(fed, host, "")?;
    if rows.len() != local.ids.len() || theirs.n != local.ids.len() {
        return Err(ComponentError::Input(format!(
            "HeteroPearson: guest has {} rows, host {}: run Intersection first",
            local.ids.len(),
            rows.len()
        )));
    }
    let by_id: HashMap<&str, &Vec<Ciphertext>> =
        rows.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let kh = theirs.kept.len();
    let h_rows: Vec<&Vec<Ciphertext>> = local
        .ids
        .iter()
        .map(|id| {
            by_id
                .get(id.as_str())
                .copied()
                .filter(|v| v.len() == kh)
                .ok_or_else(|| {
                    ComponentError::Input(format!(
                        "HeteroPearson: the host has no row '{id}' (or a wrong width): run Intersection first"
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    let scale = f64::from(1u32 << FIXPOINT_BITS);
    let kg = local.kept.len();
    // Fixed-point guest values: (negative?, magnitude) per row and column.
    let g: Vec<Vec<(bool, u64)>> = local
        .z
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| {
                    let x = (v * scale).round() as i64;
                    (x < 0, x.unsigned_abs())
                })
                .collect()
        })
        .collect();
    // Each cell Σ_rows g·Enc(h) is two bucket multi-exponentiations (the
    // positive and the negative multipliers) in Montgomery arithmetic and one
    // inversion, not one modexp per row.
    let mont = pk.montgomery();
    let n2 = pk.n_squared();
    let enc: Vec<Ciphertext> = (0..kg * kh)
        .into_par_iter()
        .map(|ij| {
            let (i, j) = (ij / kh, ij % kh);
            let (mut pb, mut pe, mut nb, mut ne) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut exponent = None;
            for (gr, hr) in g.iter().zip(&h_rows) {
                let (is_neg, mag) = gr[i];
                let e = hr[j].exponent();
                if *exponent.get_or_insert(e) != e {
                    return Err(fedflow_crypto::CryptoError::Invalid(
                        "host rows encrypted at different exponents".into(),
                    ));
                }
                if mag == 0 {
                    continue;
                }
                if is_neg {
                    nb.push(hr[j].raw());
                    ne.push(u128::from(mag));
                } else {
                    pb.push(hr[j].raw());
                    pe.push(u128::from(mag));
                }
            }
            let p = mont.multi_exp(&pb, &pe);
            let v = if nb.is_empty() {
                p
            } else {
                let q = mont.multi_exp(&nb, &ne).invert(n2).ok_or_else(|| {
                    fedflow_crypto::CryptoError::Invalid("ciphertext not invertible".into())
                })?;
                p.mul_mod(&q, n2)
            };
            Ok(Ciphertext::from_parts(v, exponent.unwrap_or(0)))
        })
        .collect::<Result<_, fedflow_crypto::CryptoError>>()
        .map_err(crypto)?;
    GUEST_ENC_CORR.remote(fed, &enc, &[host], "")?;
    let corr: Vec<f64> = HOST_CORR.get_one(fed, host, "")?;
    let corr = expand(
        &corr,
        (&local.kept, local.selected.len()),
        (&theirs.kept, theirs.anonymous.len()),
    )?;
    Ok(Cross {
        remote_names: theirs.anonymous,
        corr,
    })
}
