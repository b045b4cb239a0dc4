//! Intersection's named ops.

use crate::Instance;
use fedflow_computing::{
    register_op, Emitter, JoinOp, MapOp, MapPartitionsOp, MapValuesOp, OpError,
};
use fedflow_crypto::EcdhPsi;
use serde::{Deserialize, Serialize};

fn inst() -> Instance {
    Instance {
        features: vec![1.0],
        label: Some(1.0),
        weight: 1.0,
    }
}

/// Drops an instance's content (to collect ids cheaply).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdOnly;

impl MapValuesOp for IdOnly {
    const NAME: &'static str = "intersection.id_only";
    type V = Instance;
    type Out = u8;
    fn map_value(&self, _v: Instance) -> Result<u8, OpError> {
        Ok(0)
    }
}
register_op!(map_values IdOnly, example: IdOnly, input: vec![("a".to_string(), inst())]);

/// Keeps the instance of a key present in the intersection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeepInstance;

impl JoinOp for KeepInstance {
    const NAME: &'static str = "intersection.keep_instance";
    type L = Instance;
    type R = u8;
    type Out = Instance;
    fn join(&self, l: Instance, _r: u8) -> Result<Instance, OpError> {
        Ok(l)
    }
}
register_op!(join KeepInstance, example: KeepInstance, input: vec![(inst(), 0u8)]);

/// `only_output_key`: an instance with no features, label or weight information.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyOnly;

impl MapValuesOp for KeyOnly {
    const NAME: &'static str = "intersection.key_only";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, _v: Instance) -> Result<Instance, OpError> {
        Ok(Instance {
            features: Vec::new(),
            label: None,
            weight: 1.0,
        })
    }
}
register_op!(map_values KeyOnly, example: KeyOnly, input: vec![("a".to_string(), inst())]);

// ------------------------------------------------------------ ECDH as table ops
//
// Every per-id step of the ECDH protocol runs as one of these ops, so on
// Spark it runs on the party's executors. The ops carrying a key
// (`EcdhBlindIds`, `EcdhReblind*`) go only to the party's own executors,
// never to a peer.

/// A 32-byte ristretto255 tag (`2·k·H(id)` or `4·k·k'·H(id)`).
pub type Tag = [u8; 32];

fn ecdh_err(e: fedflow_crypto::CryptoError) -> OpError {
    OpError::msg(format!("intersection: {e}"))
}

/// `(id, instance) → (k·H(id ‖ salt), id)`: the party's blinded tags with the
/// id they stand for. Repeated ids give one row (equal tags, last wins).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EcdhBlindIds {
    /// The party's secret key.
    pub key: EcdhPsi,
    /// `ecdh_params.salt`, appended to every id.
    pub salt: String,
}

impl MapPartitionsOp for EcdhBlindIds {
    const NAME: &'static str = "intersection.ecdh_blind_ids";
    const PRESERVES_KEYS: bool = false;
    type K = String;
    type V = Instance;
    type K2 = Tag;
    type V2 = String;
    fn map_partition(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
        out: &mut Emitter<'_, Tag, String>,
    ) -> Result<(), OpError> {
        let ids: Vec<String> = rows.map(|(k, _)| k).collect();
        let bytes: Vec<Vec<u8>> = ids
            .iter()
            .map(|k| [k.as_bytes(), self.salt.as_bytes()].concat())
            .collect();
        for (tag, id) in self.key.blind(&bytes).iter().zip(&ids) {
            out.emit(tag, id)?;
        }
        Ok(())
    }
}
register_op!(map_partitions EcdhBlindIds, example: EcdhBlindIds { key: EcdhPsi::from_seed([1; 32]), salt: "s".into() },
    input: vec![("a".to_string(), inst()), ("b".to_string(), inst())]);

/// Re-blinds a peer's `(t, _)` table: `SWAP = false` (the host on the
/// guest's tags) gives `(t, k·t)`, keys kept; `SWAP = true` (the guest on a
/// host's tags) gives `(k·t, t)`, keyed by the double tag.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EcdhReblind<const SWAP: bool> {
    /// The party's secret key.
    pub key: EcdhPsi,
}

impl<const SWAP: bool> MapPartitionsOp for EcdhReblind<SWAP> {
    const NAME: &'static str = if SWAP {
        "intersection.ecdh_reblind_key"
    } else {
        "intersection.ecdh_reblind_value"
    };
    const PRESERVES_KEYS: bool = !SWAP;
    type K = Tag;
    type V = u8;
    type K2 = Tag;
    type V2 = Tag;
    fn map_partition(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (Tag, u8)>,
        out: &mut Emitter<'_, Tag, Tag>,
    ) -> Result<(), OpError> {
        let tags: Vec<Tag> = rows.map(|(t, _)| t).collect();
        let double = self.key.reblind(&tags).map_err(ecdh_err)?;
        for (t, d) in tags.iter().zip(&double) {
            if SWAP {
                out.emit(d, t)?;
            } else {
                out.emit(t, d)?;
            }
        }
        Ok(())
    }
}

fn point() -> Tag {
    EcdhPsi::from_seed([2; 32]).blind_one(b"x")
}
register_op!(map_partitions EcdhReblind<false>, example: EcdhReblind::<false> { key: EcdhPsi::from_seed([1; 32]) },
    input: vec![(point(), 0u8)]);
register_op!(map_partitions EcdhReblind<true>, example: EcdhReblind::<true> { key: EcdhPsi::from_seed([1; 32]) },
    input: vec![(point(), 0u8)]);

/// Drops the id of a `(tag, id)` row: what a party sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DropId;

impl MapValuesOp for DropId {
    const NAME: &'static str = "intersection.drop_id";
    type V = String;
    type Out = u8;
    fn map_value(&self, _v: String) -> Result<u8, OpError> {
        Ok(0)
    }
}
register_op!(map_values DropId, example: DropId, input: vec![([0u8; 32], "a".to_string())]);

/// Drops the tag of an `(id, tag)` row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DropTag;

impl MapValuesOp for DropTag {
    const NAME: &'static str = "intersection.drop_tag";
    type V = Tag;
    type Out = u8;
    fn map_value(&self, _v: Tag) -> Result<u8, OpError> {
        Ok(0)
    }
}
register_op!(map_values DropTag, example: DropTag, input: vec![("a".to_string(), [0u8; 32])]);

/// `(tag, id) ⋈ (tag, other tag) → (tag, (id, other tag))`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdWithTag;

impl JoinOp for IdWithTag {
    const NAME: &'static str = "intersection.id_with_tag";
    type L = String;
    type R = Tag;
    type Out = (String, Tag);
    fn join(&self, l: String, r: Tag) -> Result<(String, Tag), OpError> {
        Ok((l, r))
    }
}
register_op!(join IdWithTag, example: IdWithTag, input: vec![("a".to_string(), [0u8; 32])]);

/// `(t, (id, d)) → (d, id)`: the guest's ids keyed by their double tags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ByDoubleTag;

impl MapOp for ByDoubleTag {
    const NAME: &'static str = "intersection.by_double_tag";
    type K = Tag;
    type V = (String, Tag);
    type K2 = Tag;
    type V2 = String;
    fn map(&self, _t: Tag, (id, d): (String, Tag)) -> Result<(Tag, String), OpError> {
        Ok((d, id))
    }
}
register_op!(map ByDoubleTag, example: ByDoubleTag, input: vec![([0u8; 32], ("a".to_string(), [1u8; 32]))]);

/// `(d, (id, t)) → (id, t)`: a match, keyed by the guest's id, with the
/// host's own tag (what the host is told).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ById;

impl MapOp for ById {
    const NAME: &'static str = "intersection.by_id";
    type K = Tag;
    type V = (String, Tag);
    type K2 = String;
    type V2 = Tag;
    fn map(&self, _d: Tag, (id, t): (String, Tag)) -> Result<(String, Tag), OpError> {
        Ok((id, t))
    }
}
register_op!(map ById, example: ById, input: vec![([0u8; 32], ("a".to_string(), [1u8; 32]))]);

/// `(id, _) ⋈ (id, t) → (id, _)`: the intersection with one more host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlsoIn;

impl JoinOp for AlsoIn {
    const NAME: &'static str = "intersection.also_in";
    type L = u8;
    type R = Tag;
    type Out = u8;
    fn join(&self, l: u8, _r: Tag) -> Result<u8, OpError> {
        Ok(l)
    }
}
register_op!(join AlsoIn, example: AlsoIn, input: vec![(0u8, [0u8; 32])]);

/// `(id, _) ⋈ (id, t) → (t, _)`'s first half: the host's tag of an id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostTag;

impl JoinOp for HostTag {
    const NAME: &'static str = "intersection.host_tag";
    type L = u8;
    type R = Tag;
    type Out = Tag;
    fn join(&self, _l: u8, r: Tag) -> Result<Tag, OpError> {
        Ok(r)
    }
}
register_op!(join HostTag, example: HostTag, input: vec![(0u8, [0u8; 32])]);

/// `(id, t) → (t, 0)`: what the guest sends a host (no id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TagKey;

impl MapOp for TagKey {
    const NAME: &'static str = "intersection.tag_key";
    type K = String;
    type V = Tag;
    type K2 = Tag;
    type V2 = u8;
    fn map(&self, _id: String, t: Tag) -> Result<(Tag, u8), OpError> {
        Ok((t, 0))
    }
}
register_op!(map TagKey, example: TagKey, input: vec![("a".to_string(), [0u8; 32])]);

/// The host: `(t, id) ⋈ (t, _) → (t, id)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdOfTag;

impl JoinOp for IdOfTag {
    const NAME: &'static str = "intersection.id_of_tag";
    type L = String;
    type R = u8;
    type Out = String;
    fn join(&self, l: String, _r: u8) -> Result<String, OpError> {
        Ok(l)
    }
}
register_op!(join IdOfTag, example: IdOfTag, input: vec![("a".to_string(), 0u8)]);

/// `(t, id) → (id, 0)`: the ids to keep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdKey;

impl MapOp for IdKey {
    const NAME: &'static str = "intersection.id_key";
    type K = Tag;
    type V = String;
    type K2 = String;
    type V2 = u8;
    fn map(&self, _t: Tag, id: String) -> Result<(String, u8), OpError> {
        Ok((id, 0))
    }
}
register_op!(map IdKey, example: IdKey, input: vec![([0u8; 32], "a".to_string())]);
