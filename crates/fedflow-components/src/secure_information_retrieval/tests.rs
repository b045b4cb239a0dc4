use super::*;
use crate::hetero_lr::harness::{Recording, Sent};
use crate::testutil::*;
use crate::{Dataset, Instance};
use fedflow_computing::TypedTable;
use fedflow_federation::Federation;
use parking_lot::Mutex;
use serde_json::json;
use std::sync::Arc;

/// Runs guest (querier) and host (data holder); outputs and the wire log.
fn run2(
    params: Value,
    guest: Dataset,
    host: Dataset,
) -> (Vec<Result<ComponentOutput, ComponentError>>, Vec<Sent>) {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let ctxs: Vec<TaskContext> = [(GUEST, guest), (HOST, host)]
        .into_iter()
        .map(|(p, d)| {
            let mut c = ctx(
                dir.path(),
                "secure_information_retrieval_0",
                p,
                params.clone(),
                inputs("data", d),
            );
            let inner: Arc<dyn Federation> = c.federation.clone();
            c.federation = Arc::new(Recording {
                inner,
                log: log.clone(),
            });
            c
        })
        .collect();
    let out = run_parties(&SecureInformationRetrieval, &ctxs);
    let wire = std::mem::take(&mut *log.lock());
    (out, wire)
}

fn rows(d: &Dataset) -> Vec<(String, Instance)> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    let mut r = t.collect().unwrap();
    r.sort_by(|a, b| a.0.cmp(&b.0));
    r
}

/// The host's rows by id.
fn by_id(d: &Dataset) -> std::collections::HashMap<String, Instance> {
    rows(d).into_iter().collect()
}

#[test]
fn fate_job_retrieves_the_host_columns_of_the_common_ids_only() {
    // FATE's job: the guest holds breast_hetero_host's ids, the host
    // breast_hetero_guest's rows; retrieve x0 and x3. Here the guest holds a
    // part of the ids plus ids the host does not have.
    let host = transformed("breast_hetero_guest.csv", true, HOST);
    let hrows = by_id(&host);
    let mut ids: Vec<&String> = hrows.keys().collect();
    ids.sort();
    let mut csv = String::from("id,y,x0\n");
    for id in ids.iter().step_by(3) {
        csv.push_str(&format!("{id},0,1\n"));
    }
    csv.push_str("nobody-1,0,1\nnobody-2,1,2\n");
    let guest = instances(&csv);
    let params = json!({"security_level": 0.5, "dh_params": {"key_length": 1024}, "target_cols": ["x0", "x3"]});
    let (out, wire) = run2(params, guest.clone(), host.clone());
    let out: Vec<ComponentOutput> = out.into_iter().map(|r| r.unwrap()).collect();
    let d = &out[0].data[0];
    assert_eq!(d.schema.header, vec!["x0", "x3"]);
    let got = rows(d);
    assert_eq!(got.len(), ids.iter().step_by(3).count() + 2);
    let h = &host.schema.header;
    let (j0, j3) = (
        h.iter().position(|c| c == "x0").unwrap(),
        h.iter().position(|c| c == "x3").unwrap(),
    );
    for (id, inst) in &got {
        match hrows.get(id) {
            Some(r) => assert_eq!(inst.features, vec![r.features[j0], r.features[j3]], "{id}"),
            None => assert!(inst.features.iter().all(|v| v.is_nan()), "{id}"),
        }
    }
    // 45 blocks at security level 0.5, as FATE: ceil(2·sqrt(500)).
    assert_eq!(out[0].summary["block_num"], 45);
    assert_eq!(out[1].summary["retrieved"], ids.iter().step_by(3).count());
    // Wire audit: no id in the clear in either direction, and the host's
    // values travel only inside AES-GCM blocks (no plaintext f64 of theirs).
    for s in &wire {
        for id in &ids {
            // An id as any serialised string is its length (u64) then its bytes.
            let mut needle = (id.len() as u64).to_le_bytes().to_vec();
            needle.extend(id.as_bytes());
            assert!(
                !s.bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds id {id}",
                s.name
            );
        }
        if s.src == HOST {
            for r in hrows.values().take(100) {
                let b = r.features[j0].to_le_bytes();
                assert!(
                    !s.bytes.windows(8).any(|w| w == b),
                    "{} holds a host value",
                    s.name
                );
            }
        }
    }
    // The host cannot tell the real block: every block has the same length.
    let blocks = wire.iter().find(|s| s.name == "sir_blocks").unwrap();
    let b: Blocks = fedflow_core::codec::decode(&blocks.bytes).unwrap();
    assert_eq!(b.0.len(), 45);
    assert!(b.0.iter().all(|x| x.len() == b.0[0].len()));
}

#[test]
fn raw_retrieval_and_the_label_and_bad_params() {
    let host = instances("id,y,x0\na,1,0.5\nb,0,1.5\nc,1,2.5\n");
    let guest = instances("id,y,x0\nb,0,0\nc,0,0\nz,0,0\n");
    // Label retrieval (no target_cols), plain (security_level 0).
    let (out, wire) = run2(json!({"security_level": 0}), guest.clone(), host.clone());
    let out: Vec<ComponentOutput> = out.into_iter().map(|r| r.unwrap()).collect();
    let got = rows(&out[0].data[0]);
    assert_eq!(
        out[0].data[0].schema.label_name.as_deref(),
        Some("retrieved_value")
    );
    let labels: Vec<(String, Option<f64>)> = got.into_iter().map(|(k, v)| (k, v.label)).collect();
    assert_eq!(
        labels,
        vec![
            ("b".into(), Some(0.0)),
            ("c".into(), Some(1.0)),
            ("z".into(), None)
        ]
    );
    assert!(wire.iter().any(|s| s.name == "sir_raw_ids"));
    // The secure path gives the same.
    let (out, _) = run2(json!({"security_level": 0.1}), guest.clone(), host.clone());
    let got = rows(&out[0].as_ref().unwrap().data[0]);
    assert_eq!(
        got.iter().map(|r| r.1.label).collect::<Vec<_>>(),
        vec![Some(0.0), Some(1.0), None]
    );
    // A column the host lacks fails naming target_cols.
    let (out, _) = run2(json!({"target_cols": "x9"}), guest, host);
    let e = out[1].as_ref().unwrap_err().to_string();
    assert!(e.contains("target_cols") && e.contains("x9"), "{e}");
    assert!(out[0].is_err());
    for (p, path) in [
        (json!({"security_level": 2}), "security_level"),
        (
            json!({"oblivious_transfer_protocol": "OT_Naor"}),
            "oblivious_transfer_protocol",
        ),
        (
            json!({"non_committing_encryption": "des"}),
            "non_committing_encryption",
        ),
        (
            json!({"dh_params": {"key_length": 512}}),
            "dh_params.key_length",
        ),
        (json!({"target_cols": [1]}), "target_cols"),
        (json!({"security_levell": 1}), "security_levell"),
    ] {
        let e = SecureInformationRetrieval
            .check_params("sir_0", Role::Guest, &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains(path), "{p}: {e}");
    }
}
