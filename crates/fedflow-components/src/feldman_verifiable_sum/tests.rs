use super::*;
use crate::hetero_lr::harness::{Recording, Sent};
use crate::testutil::*;
use crate::{Dataset, Instance};
use fedflow_computing::{Session, Table, TypedTable};
use fedflow_federation::{Federation, Roster};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::Arc;

const H1: Party = Party {
    role: Role::Host,
    party_id: 10001,
};

fn roster3() -> Roster {
    let mut r = Roster::default();
    r.0.insert(Role::Guest, vec![9999]);
    r.0.insert(Role::Host, vec![10000, 10001]);
    r
}

/// Corrupts the first share one party sends to another.
struct Tamper {
    inner: Arc<dyn Federation>,
}

impl Federation for Tamper {
    fn engine(&self) -> &'static str {
        self.inner.engine()
    }
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }
    fn local(&self) -> Party {
        self.inner.local()
    }
    fn remote_bytes(
        &self,
        name: &str,
        tag: &str,
        value: &[u8],
        dst: &[Party],
    ) -> fedflow_federation::Result<()> {
        if name == "fvs_share" && dst == [GUEST] {
            let mut s: Shares = fedflow_core::codec::decode(value).unwrap();
            let y = big(&s.0[0][0]).add(&BigUint::one());
            s.0[0][0] = y.to_bytes_be();
            let bad = fedflow_core::codec::encode(&s).unwrap();
            return self.inner.remote_bytes(name, tag, &bad, dst);
        }
        self.inner.remote_bytes(name, tag, value, dst)
    }
    fn get_bytes(
        &self,
        name: &str,
        tag: &str,
        src: &[Party],
    ) -> fedflow_federation::Result<Vec<Vec<u8>>> {
        self.inner.get_bytes(name, tag, src)
    }
    fn remote_table(
        &self,
        name: &str,
        tag: &str,
        table: &dyn Table,
        dst: &[Party],
    ) -> fedflow_federation::Result<()> {
        self.inner.remote_table(name, tag, table, dst)
    }
    fn get_tables(
        &self,
        name: &str,
        tag: &str,
        src: &[Party],
        session: &dyn Session,
    ) -> fedflow_federation::Result<Vec<Arc<dyn Table>>> {
        self.inner.get_tables(name, tag, src, session)
    }
    fn abort(&self, reason: &str) {
        self.inner.abort(reason)
    }
    fn cleanup(&self) -> fedflow_federation::Result<()> {
        self.inner.cleanup()
    }
}

/// Runs guest, host 10000 and host 10001 on their data; `tamper`: host
/// 10001 corrupts a share it sends to the guest.
fn run3(
    params: Value,
    data: [Dataset; 3],
    tamper: bool,
) -> (Vec<Result<ComponentOutput, ComponentError>>, Vec<Sent>) {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let ctxs: Vec<TaskContext> = [GUEST, HOST, H1]
        .into_iter()
        .zip(data)
        .map(|(p, d)| {
            let mut c = ctx_with(
                dir.path(),
                "feldmanverifiablesum_0",
                p,
                params.clone(),
                inputs("data", d),
                roster3(),
            );
            let inner: Arc<dyn Federation> = if tamper && p == H1 {
                Arc::new(Tamper {
                    inner: c.federation.clone(),
                })
            } else {
                c.federation.clone()
            };
            c.federation = Arc::new(Recording {
                inner,
                log: log.clone(),
            });
            c
        })
        .collect();
    let out = run_parties(&FeldmanVerifiableSum, &ctxs);
    let wire = std::mem::take(&mut *log.lock());
    (out, wire)
}

fn rows(d: &Dataset) -> Vec<(String, Vec<f64>)> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    let mut r: Vec<(String, Vec<f64>)> = t
        .collect()
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.features))
        .collect();
    r.sort_by(|a, b| a.0.cmp(&b.0));
    r
}

/// FATE's encoding: `trunc(x · 10^q_n) / 10^q_n`.
fn trunc(x: f64, q_n: i32) -> f64 {
    (x * 10f64.powi(q_n)).trunc() / 10f64.powi(q_n)
}

#[test]
fn the_guest_gets_the_column_sums_of_the_common_ids_and_hosts_nothing() {
    let a = instances("id,y,x0,x1,x2\na,1,1.25,-3.5,7\nb,0,0.1234567,2,-1\nc,1,-0.5,0,1e6\n");
    let b = instances("id,y,x0,x1,x2\nb,0,10,20,30\nc,1,-1.5,-2.5,0.000001\nd,0,5,5,5\n");
    let c = instances("id,y,x0,x1,x2\nc,0,2,2,2\nb,1,0.75,-0.25,0\n");
    let (out, wire) = run3(json!({"sum_cols": [0, 2]}), [a, b, c], false);
    let out: Vec<ComponentOutput> = out.into_iter().map(|r| r.unwrap()).collect();
    assert!(out[1].data.is_empty() && out[2].data.is_empty());
    let d = &out[0].data[0];
    assert_eq!(d.schema.header, vec!["x0", "x2"]);
    let got = rows(d);
    let want = [
        ("b", [trunc(0.1234567, 6) + 10.0 + 0.75, -1.0 + 30.0 + 0.0]),
        ("c", [-0.5 - 1.5 + 2.0, 1e6 + 0.000001 + 2.0]),
    ];
    assert_eq!(got.len(), 2, "{got:?}");
    for ((id, v), (wid, w)) in got.iter().zip(want) {
        assert_eq!(id, wid);
        for (x, y) in v.iter().zip(w) {
            assert!((x - y).abs() < 1e-9, "{id}: {x} vs {y}");
        }
    }
    // Wire audit: no party's encoded value travels in the clear. Each
    // message is scanned for the big-endian bytes of every encoded value of
    // its sender (at least 3 bytes long, so matches are not by chance).
    let g = Group::rfc5114_1024_160();
    let values: [(Party, Vec<f64>); 3] = [
        (GUEST, vec![1.25, 7.0, 0.1234567, -1.0, -0.5, 1e6]),
        (HOST, vec![10.0, 30.0, -1.5, 0.000001, 5.0]),
        (H1, vec![2.0, 0.75]),
    ];
    assert!(!wire.is_empty());
    for s in &wire {
        let (_, vs) = values.iter().find(|(p, _)| *p == s.src).unwrap();
        for &v in vs {
            let enc = g.encode(v, 6, 3).unwrap().to_bytes_be();
            if enc.len() >= 3 {
                assert!(
                    !s.bytes.windows(enc.len()).any(|w| w == enc.as_slice()),
                    "{} from {} holds {v}",
                    s.name,
                    s.src
                );
            }
        }
        // Hosts never send the guest their inputs: only shares, commitments, sums.
        assert!(["fvs_share", "fvs_commitments", "fvs_sum"].contains(&s.name.as_str()));
    }
}

#[test]
fn fate_breast_homo_test_sums_equal_the_plaintext_replay() {
    let d = || transformed("breast_homo_test.csv", true, GUEST);
    let (out, _) = run3(
        json!({"sum_cols": [1, 2, 3], "q_n": 6}),
        [d(), d(), d()],
        false,
    );
    let out: Vec<ComponentOutput> = out.into_iter().map(|r| r.unwrap()).collect();
    let got = rows(&out[0].data[0]);
    let plain = rows(&d());
    assert_eq!(got.len(), plain.len());
    assert!(got.len() > 50);
    for ((id, v), (pid, p)) in got.iter().zip(&plain) {
        assert_eq!(id, pid);
        for (x, c) in v.iter().zip(&p[1..4]) {
            assert!((x - 3.0 * trunc(*c, 6)).abs() < 1e-9, "{id}: {x} vs 3·{c}");
        }
    }
}

#[test]
fn a_wrong_share_fails_the_job_naming_the_sender_and_bad_params_name_the_field() {
    let d = || instances("id,y,x0\na,1,1\nb,0,2\n");
    let (out, _) = run3(json!({}), [d(), d(), d()], true);
    let e = out[0].as_ref().unwrap_err().to_string();
    assert!(e.contains("host:10001") || e.contains("10001"), "{e}");
    assert!(e.contains("does not match its commitments"), "{e}");
    for (p, path) in [
        (json!({"q_n": 17}), "feldmanverifiablesum_0.q_n"),
        (json!({"sum_cols": [-1]}), "feldmanverifiablesum_0.sum_cols"),
        (json!({"sum_colls": [1]}), "sum_colls"),
    ] {
        let c = FeldmanVerifiableSum;
        let e = c
            .check_params("feldmanverifiablesum_0", Role::Guest, &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains(path), "{p}: {e}");
    }
    // A column index past the header fails on the party that has it.
    let (out, _) = run3(json!({"sum_cols": [3]}), [d(), d(), d()], false);
    let e = out[0].as_ref().unwrap_err().to_string();
    assert!(e.contains("sum_cols") && e.contains("out of range"), "{e}");
}
