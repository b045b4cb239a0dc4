//! PSI returns exactly the intersection (ECDH and RSA), including duplicates
//! and empty sides.

use std::collections::HashSet;
use std::sync::OnceLock;

use fedflow_crypto::{intersect_indices, EcdhPsi, RsaPsiClient, RsaPsiServer};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn ids(v: &[u16]) -> Vec<Vec<u8>> {
    v.iter().map(|i| format!("user-{i}").into_bytes()).collect()
}

fn expected(guest: &[u16], host: &[u16]) -> Vec<usize> {
    let h: HashSet<u16> = host.iter().copied().collect();
    (0..guest.len())
        .filter(|&i| h.contains(&guest[i]))
        .collect()
}

fn rsa_server() -> &'static RsaPsiServer {
    static S: OnceLock<RsaPsiServer> = OnceLock::new();
    S.get_or_init(|| {
        RsaPsiServer::with_rng(512, &mut ChaCha20Rng::seed_from_u64(11)).expect("rsa key")
    })
}

/// Small id domain so that overlaps and duplicates are common.
fn side() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(0u16..60, 0..40)
}

proptest! {
    // Fewer cases in debug builds, where curve arithmetic is ~30x slower.
    #![proptest_config(ProptestConfig {
        cases: if cfg!(debug_assertions) { 4 } else { 40 },
        ..ProptestConfig::default()
    })]

    #[test]
    fn ecdh_psi_is_exact(guest in side(), host in side(), s1 in any::<[u8; 32]>(), s2 in any::<[u8; 32]>()) {
        let g = EcdhPsi::from_seed(s1);
        let h = EcdhPsi::from_seed(s2);
        // Each side blinds its own ids; the peer re-blinds them.
        let g_once = g.blind(&ids(&guest));
        let h_once = h.blind(&ids(&host));
        let g_twice = h.reblind(&g_once).expect("host reblinds guest");
        let h_twice = g.reblind(&h_once).expect("guest reblinds host");
        prop_assert_eq!(intersect_indices(&g_twice, &h_twice), expected(&guest, &host));
    }

    #[test]
    fn rsa_psi_is_exact(guest in side(), host in side()) {
        let server = rsa_server();
        let client = RsaPsiClient::new(&server.public_key()).expect("client");
        let host_tags = server.sign_ids(&ids(&host));
        let (blinded, state) = client.blind(&ids(&guest));
        let signed = server.sign_blinded(&blinded).expect("sign");
        let guest_tags = client.unblind(&state, &signed).expect("unblind");
        prop_assert_eq!(intersect_indices(&guest_tags, &host_tags), expected(&guest, &host));
    }
}

#[test]
fn ecdh_rejects_invalid_points_and_blinding_hides_ids() {
    let a = EcdhPsi::from_seed([1; 32]);
    let b = EcdhPsi::from_seed([2; 32]);
    assert!(a.reblind(&[[0xff; 32]]).is_err());
    let x = a.blind(&[b"alice".as_slice()]);
    let y = b.blind(&[b"alice".as_slice()]);
    assert_ne!(x, y, "different keys give unlinkable single blinds");
    assert_eq!(
        b.reblind(&x).expect("reblind"),
        a.reblind(&y).expect("reblind")
    );
}

#[test]
fn rsa_rejects_mismatched_input() {
    let server = rsa_server();
    let client = RsaPsiClient::new(&server.public_key()).expect("client");
    let (blinded, state) = client.blind(&[b"a".as_slice(), b"b".as_slice()]);
    let signed = server.sign_blinded(&blinded).expect("sign");
    assert!(client.unblind(&state, &signed[..1]).is_err());
    // Public key serialises compactly.
    let pk = bincode::serialize(&server.public_key()).expect("ser");
    assert!(pk.len() <= 64 + 3 + 16);
}

#[test]
fn ecdh_single_and_batch_agree() {
    let a = EcdhPsi::from_seed([9; 32]);
    let b = EcdhPsi::from_seed([8; 32]);
    let ids: Vec<Vec<u8>> = (0..260u32).map(|i| i.to_le_bytes().to_vec()).collect();
    let batch = a.blind(&ids);
    for (id, t) in ids.iter().zip(&batch) {
        assert_eq!(&a.blind_one(id), t);
    }
    let re = b.reblind(&batch).expect("reblind");
    for (p, t) in batch.iter().zip(&re) {
        assert_eq!(&b.reblind_one(p).expect("one"), t);
    }
}
