//! Guest side: learns the intersection, tells the hosts.

use super::{
    Found, Ids, IntersectParam, SyncMessage, DH_PRIME, GUEST_BLIND_IDS, GUEST_DH_DOUBLE_IDS,
    GUEST_DH_IDS, GUEST_DOUBLE_IDS, GUEST_ECDH_IDS, HOST_DH_IDS, HOST_ECDH_IDS,
    HOST_SIGN_GUEST_IDS, HOST_SIGN_IDS, INTERSECT_IDS, RSA_PUBKEY,
};
use crate::{ComponentError, TaskContext};
use fedflow_core::Role;
use fedflow_crypto::{intersect_indices, BigUint, EcdhPsi, RsaPsiClient, RsaPublicKey};
use std::collections::{HashMap, HashSet};

type Tag = [u8; 32];

fn crypto(e: fedflow_crypto::CryptoError) -> ComponentError {
    ComponentError::Failed(format!("intersection: {e}"))
}

fn check_len(what: &str, got: usize, want: usize) -> Result<(), ComponentError> {
    if got != want {
        return Err(ComponentError::Failed(format!(
            "intersection: {what}: {got} values for {want} ids"
        )));
    }
    Ok(())
}

pub(super) fn run(
    ctx: &TaskContext,
    param: &IntersectParam,
    ids: &Ids,
) -> Result<Found, ComponentError> {
    let fed = ctx.federation.as_ref();
    let hosts = ctx.roster.parties(Role::Host);
    if hosts.is_empty() {
        return Err(ComponentError::Failed(
            "Intersection needs at least one host in the job's roles".into(),
        ));
    }
    let n = ids.keys.len();
    // Per host: (tags of my ids, tags of the host's ids) in a common space.
    let mut per_host: Vec<(Vec<Tag>, Vec<Tag>)> = Vec::new();
    if param.method() == "dh" {
        let p = super::dh::DhKey::prime(param.dh_params.key_length);
        DH_PRIME.remote(fed, &p.to_bytes_be(), &hosts, "")?;
        let key = super::dh::DhKey::new(p)?;
        let mine = key.blind(&ids.bytes);
        GUEST_DH_IDS.remote(fed, &mine, &hosts, "")?;
        for &h in &hosts {
            let theirs: Vec<Vec<u8>> = HOST_DH_IDS.get_one(fed, h, "")?;
            let double_mine: Vec<Vec<u8>> = GUEST_DH_DOUBLE_IDS.get_one(fed, h, "")?;
            check_len("guest_dh_double_ids", double_mine.len(), n)?;
            let double_theirs = key.reblind(&theirs)?;
            per_host.push((
                super::dh::tags(&double_mine),
                super::dh::tags(&double_theirs),
            ));
        }
    } else if param.method() == "ecdh" {
        let key = EcdhPsi::random();
        let mine = key.blind(&ids.bytes);
        GUEST_ECDH_IDS.remote(fed, &mine, &hosts, "")?;
        for &h in &hosts {
            let theirs: Vec<Tag> = HOST_ECDH_IDS.get_one(fed, h, "")?;
            let double_mine: Vec<Tag> = GUEST_DOUBLE_IDS.get_one(fed, h, "")?;
            check_len("guest_double_ids", double_mine.len(), n)?;
            let double_theirs = key.reblind(&theirs).map_err(crypto)?;
            per_host.push((double_mine, double_theirs));
        }
    } else {
        for &h in &hosts {
            let pk: RsaPublicKey = RSA_PUBKEY.get_one(fed, h, "")?;
            let client = RsaPsiClient::new(&pk).map_err(crypto)?;
            let (blinded, state) = client.blind(&ids.bytes);
            let wire: Vec<Vec<u8>> = blinded.iter().map(BigUint::to_bytes_be).collect();
            GUEST_BLIND_IDS.remote(fed, &wire, &[h], "")?;
            let host_tags: Vec<Tag> = HOST_SIGN_IDS.get_one(fed, h, "")?;
            let signed: Vec<Vec<u8>> = HOST_SIGN_GUEST_IDS.get_one(fed, h, "")?;
            check_len("host_sign_guest_ids", signed.len(), n)?;
            let signed: Vec<BigUint> = signed.iter().map(|b| BigUint::from_bytes_be(b)).collect();
            let mine = client.unblind(&state, &signed).map_err(crypto)?;
            per_host.push((mine, host_tags));
        }
    }
    // The intersection over all hosts.
    let mut hits = vec![0usize; n];
    for (mine, theirs) in &per_host {
        for i in intersect_indices(mine, theirs) {
            hits[i] += 1;
        }
    }
    let positions: Vec<usize> = (0..n).filter(|&i| hits[i] == per_host.len()).collect();
    // Tell each host.
    for (&h, (mine, theirs)) in hosts.iter().zip(&per_host) {
        let msg = if param.cardinality_only {
            if param.sync_cardinality {
                SyncMessage::Cardinality(positions.len() as u64)
            } else {
                SyncMessage::Nothing
            }
        } else if param.sync_intersect_ids {
            let wanted: HashSet<&Tag> = positions.iter().map(|&i| &mine[i]).collect();
            let mut seen: HashMap<&Tag, ()> = HashMap::new();
            SyncMessage::Positions(
                theirs
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| wanted.contains(t) && seen.insert(t, ()).is_none())
                    .map(|(j, _)| j as u64)
                    .collect(),
            )
        } else {
            SyncMessage::Nothing
        };
        INTERSECT_IDS.remote(fed, &msg, &[h], "")?;
    }
    Ok(if param.cardinality_only {
        Found::Count(positions.len() as u64)
    } else {
        Found::Positions(positions)
    })
}
