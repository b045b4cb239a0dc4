//! Host side: answers the guest, learns the intersection only when told.

use super::ops::{DropId, EcdhReblind, IdKey, IdOfTag, Tag};
use super::{
    Found, Ids, IntersectParam, SyncMessage, DH_PRIME, GUEST_BLIND_IDS, GUEST_DH_DOUBLE_IDS,
    GUEST_DH_IDS, GUEST_DOUBLE_IDS, GUEST_ECDH_IDS, HOST_DH_IDS, HOST_ECDH_IDS,
    HOST_SIGN_GUEST_IDS, HOST_SIGN_IDS, INTERSECT_IDS, INTERSECT_TAGS, RSA_PUBKEY,
};
use crate::{ComponentError, Instance, TaskContext};
use fedflow_computing::TypedTable;
use fedflow_core::{Party, Role};
use fedflow_crypto::{BigUint, RsaPsiServer};

fn crypto(e: fedflow_crypto::CryptoError) -> ComponentError {
    ComponentError::Failed(format!("intersection: {e}"))
}

fn guest(ctx: &TaskContext) -> Result<Party, ComponentError> {
    ctx.roster.party(Role::Guest, 0).ok_or_else(|| {
        ComponentError::Failed("Intersection needs a guest in the job's roles".into())
    })
}

/// ECDH, every per-id step a table op (so on Spark it runs on executors).
pub(super) fn run_ecdh(
    ctx: &TaskContext,
    param: &IntersectParam,
    table: &TypedTable<String, Instance>,
) -> Result<Found, ComponentError> {
    let fed = ctx.federation.as_ref();
    let session = ctx.computing.as_ref();
    let guest = guest(ctx)?;
    // (t, id) with t = k_h·H(id ‖ salt).
    let (key, mine) = super::ecdh_blind(table, param)?;
    HOST_ECDH_IDS.remote_table(fed, &mine.map_values(DropId)?, &[guest], "")?;
    let theirs: TypedTable<Tag, u8> = GUEST_ECDH_IDS.get_table(fed, guest, "", session)?;
    let double = theirs.map_partitions(EcdhReblind::<false> { key })?;
    GUEST_DOUBLE_IDS.remote_table(fed, &double, &[guest], "")?;
    drop((theirs, double));
    let msg: SyncMessage = INTERSECT_IDS.get_one(fed, guest, "")?;
    Ok(match msg {
        SyncMessage::Tags => {
            let tags: TypedTable<Tag, u8> = INTERSECT_TAGS.get_table(fed, guest, "", session)?;
            let keep: TypedTable<String, u8> = mine.join(&tags, IdOfTag)?.map(IdKey)?;
            let (got, sent) = (keep.count()?, tags.count()?);
            if got != sent {
                return Err(ComponentError::Failed(format!(
                    "intersection: guest sent {sent} intersecting tags, {} of them not mine",
                    sent - got.min(sent)
                )));
            }
            Found::Keys(keep)
        }
        SyncMessage::Positions(_) => {
            return Err(ComponentError::Failed(
                "intersection: guest sent positions for ECDH (expected tags)".into(),
            ))
        }
        SyncMessage::Cardinality(c) => Found::Count(c),
        SyncMessage::Nothing => Found::Nothing,
    })
}

pub(super) fn run(
    ctx: &TaskContext,
    param: &IntersectParam,
    ids: &Ids,
) -> Result<Found, ComponentError> {
    let fed = ctx.federation.as_ref();
    let guest = guest(ctx)?;
    if param.method() == "dh" {
        let p: Vec<u8> = DH_PRIME.get_one(fed, guest, "")?;
        let key = super::dh::DhKey::new(BigUint::from_bytes_be(&p))?;
        let mine = key.blind(&ids.bytes);
        HOST_DH_IDS.remote(fed, &mine, &[guest], "")?;
        let theirs: Vec<Vec<u8>> = GUEST_DH_IDS.get_one(fed, guest, "")?;
        let double = key.reblind(&theirs)?;
        GUEST_DH_DOUBLE_IDS.remote(fed, &double, &[guest], "")?;
    } else {
        let server = RsaPsiServer::new(param.rsa_params.key_length).map_err(crypto)?;
        RSA_PUBKEY.remote(fed, &server.public_key(), &[guest], "")?;
        let tags = server.sign_ids(&ids.bytes);
        HOST_SIGN_IDS.remote(fed, &tags, &[guest], "")?;
        let blinded: Vec<Vec<u8>> = GUEST_BLIND_IDS.get_one(fed, guest, "")?;
        let blinded: Vec<BigUint> = blinded.iter().map(|b| BigUint::from_bytes_be(b)).collect();
        let signed = server.sign_blinded(&blinded).map_err(crypto)?;
        let wire: Vec<Vec<u8>> = signed.iter().map(BigUint::to_bytes_be).collect();
        HOST_SIGN_GUEST_IDS.remote(fed, &wire, &[guest], "")?;
    }
    let msg: SyncMessage = INTERSECT_IDS.get_one(fed, guest, "")?;
    Ok(match msg {
        SyncMessage::Positions(p) => {
            if let Some(bad) = p.iter().find(|&&j| j as usize >= ids.keys.len()) {
                return Err(ComponentError::Failed(format!(
                    "intersection: guest sent position {bad} of {} ids",
                    ids.keys.len()
                )));
            }
            Found::Positions(p.into_iter().map(|j| j as usize).collect())
        }
        SyncMessage::Tags => {
            return Err(ComponentError::Failed(
                "intersection: guest sent tags for RSA/DH (expected positions)".into(),
            ))
        }
        SyncMessage::Cardinality(c) => Found::Count(c),
        SyncMessage::Nothing => Found::Nothing,
    })
}
