//! Guest side: learns the intersection, tells the hosts.

use super::ops::{
    AlsoIn, ByDoubleTag, ById, DropId, DropTag, EcdhReblind, HostTag, IdWithTag, TagKey,
};
use super::{
    Found, Ids, IntersectParam, SyncMessage, DH_PRIME, GUEST_BLIND_IDS, GUEST_DH_DOUBLE_IDS,
    GUEST_DH_IDS, GUEST_DOUBLE_IDS, GUEST_ECDH_IDS, HOST_DH_IDS, HOST_ECDH_IDS,
    HOST_SIGN_GUEST_IDS, HOST_SIGN_IDS, INTERSECT_IDS, INTERSECT_TAGS, RSA_PUBKEY,
};
use crate::{ComponentError, Instance, TaskContext};
use fedflow_computing::TypedTable;
use fedflow_core::{Party, Role};
use fedflow_crypto::{intersect_indices, BigUint, RsaPsiClient, RsaPublicKey};
use std::collections::{HashMap, HashSet};

use super::ops::Tag;

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

fn hosts(ctx: &TaskContext) -> Result<Vec<Party>, ComponentError> {
    let hosts = ctx.roster.parties(Role::Host);
    if hosts.is_empty() {
        return Err(ComponentError::Failed(
            "Intersection needs at least one host in the job's roles".into(),
        ));
    }
    Ok(hosts)
}

/// ECDH, every per-id step a table op (so on Spark it runs on executors):
/// the task holds tables, never a list of ids.
pub(super) fn run_ecdh(
    ctx: &TaskContext,
    param: &IntersectParam,
    table: &TypedTable<String, Instance>,
) -> Result<Found, ComponentError> {
    let fed = ctx.federation.as_ref();
    let session = ctx.computing.as_ref();
    let hosts = hosts(ctx)?;
    // (g, id) with g = k_g·H(id ‖ salt).
    let (key, mine) = super::ecdh_blind(table, param)?;
    let n = mine.count()?;
    GUEST_ECDH_IDS.remote_table(fed, &mine.map_values(DropId)?, &hosts, "")?;
    // Per host: (id, host's own tag) of the ids both hold.
    let mut per_host: Vec<TypedTable<String, Tag>> = Vec::with_capacity(hosts.len());
    for &h in &hosts {
        let theirs: TypedTable<Tag, u8> = HOST_ECDH_IDS.get_table(fed, h, "", session)?;
        // (g, k_h·g) from the host.
        let double_mine: TypedTable<Tag, Tag> = GUEST_DOUBLE_IDS.get_table(fed, h, "", session)?;
        // (k_h·g, id): every one of my tags must come back re-blinded.
        let by_double: TypedTable<Tag, String> =
            mine.join(&double_mine, IdWithTag)?.map(ByDoubleTag)?;
        check_len("guest_double_ids", by_double.count()? as usize, n as usize)?;
        // (k_g·t, t) for the host's tags t; match on the double tags.
        let double_theirs: TypedTable<Tag, Tag> =
            theirs.map_partitions(EcdhReblind::<true> { key: key.clone() })?;
        per_host.push(by_double.join(&double_theirs, IdWithTag)?.map(ById)?);
    }
    // The intersection over all hosts: (id, 0).
    let mut found: TypedTable<String, u8> = per_host[0].map_values(DropTag)?;
    for m in &per_host[1..] {
        found = found.join(m, AlsoIn)?;
    }
    let count = found.count()?;
    for (&h, m) in hosts.iter().zip(&per_host) {
        let msg = sync_message(param, count);
        INTERSECT_IDS.remote(fed, &msg, &[h], "")?;
        if let SyncMessage::Tags = msg {
            let tags: TypedTable<Tag, u8> = found.join(m, HostTag)?.map(TagKey)?;
            INTERSECT_TAGS.remote_table(fed, &tags, &[h], "")?;
        }
    }
    Ok(if param.cardinality_only {
        Found::Count(count)
    } else {
        Found::Keys(found)
    })
}

/// What the guest tells each host (`Tags`: the host's tags of the
/// intersection follow as a table; RSA and DH send positions instead).
fn sync_message(param: &IntersectParam, count: u64) -> SyncMessage {
    if param.cardinality_only {
        if param.sync_cardinality {
            SyncMessage::Cardinality(count)
        } else {
            SyncMessage::Nothing
        }
    } else if param.sync_intersect_ids {
        SyncMessage::Tags
    } else {
        SyncMessage::Nothing
    }
}

pub(super) fn run(
    ctx: &TaskContext,
    param: &IntersectParam,
    ids: &Ids,
) -> Result<Found, ComponentError> {
    let fed = ctx.federation.as_ref();
    let hosts = hosts(ctx)?;
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
        let msg = match sync_message(param, positions.len() as u64) {
            SyncMessage::Tags => {
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
            }
            other => other,
        };
        INTERSECT_IDS.remote(fed, &msg, &[h], "")?;
    }
    Ok(if param.cardinality_only {
        Found::Count(positions.len() as u64)
    } else {
        Found::Positions(positions)
    })
}
