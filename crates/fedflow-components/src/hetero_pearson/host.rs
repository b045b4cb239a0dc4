//! HeteroPearson, host side: encrypts its standardized rows under its own
//! Paillier key, decrypts the guest's aggregated cross sums.

use super::{
    announce, crypto, expand, Announce, Cross, Local, ANONYMOUS_GUEST, ANONYMOUS_HOST,
    FIXPOINT_BITS, GUEST_ENC_CORR, HOST_CORR, HOST_ENC_ROWS, HOST_PUBKEY, KEY_BITS,
};
use crate::{ComponentError, TaskContext};
use fedflow_core::Party;
use fedflow_crypto::{Ciphertext, PaillierKeypair};
use rayon::prelude::*;

pub(crate) fn cross(
    ctx: &TaskContext,
    local: &Local,
    guest: Party,
) -> Result<Cross, ComponentError> {
    let fed = ctx.federation.as_ref();
    let mine = announce(ctx, local);
    ANONYMOUS_HOST.remote(fed, &mine, &[guest], "")?;
    let theirs: Announce = ANONYMOUS_GUEST.get_one(fed, guest, "")?;
    let (pk, sk) = PaillierKeypair::generate(KEY_BITS).map_err(crypto)?;
    pk.precompute_djn();
    HOST_PUBKEY.remote(fed, &pk, &[guest], "")?;
    let scale = f64::from(1u32 << FIXPOINT_BITS);
    let rows: Vec<(String, Vec<Ciphertext>)> = local
        .ids
        .par_iter()
        .zip(local.z.par_iter())
        .map(|(id, z)| {
            let cts = z
                .iter()
                .map(|v| pk.encrypt_i64((v * scale).round() as i64))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((id.clone(), cts))
        })
        .collect::<Result<_, fedflow_crypto::CryptoError>>()
        .map_err(crypto)?;
    HOST_ENC_ROWS.remote(fed, &rows, &[guest], "")?;
    let enc: Vec<Ciphertext> = GUEST_ENC_CORR.get_one(fed, guest, "")?;
    let n = local.ids.len().max(1) as f64;
    let corr: Vec<f64> = sk
        .decrypt_batch(&enc)
        .map_err(crypto)?
        .into_iter()
        .map(|s| (s / (scale * scale * n)).clamp(-1.0, 1.0))
        .collect();
    HOST_CORR.remote(fed, &corr, &[guest], "")?;
    let corr = expand(
        &corr,
        (&theirs.kept, theirs.anonymous.len()),
        (&local.kept, local.selected.len()),
    )?;
    Ok(Cross {
        remote_names: theirs.anonymous,
        corr,
    })
}
