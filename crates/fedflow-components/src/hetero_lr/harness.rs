//! Test harness for the hetero models: instance tables straight from the
//! example CSVs (joined on id), guest / hosts / arbiter as threads over the
//! standalone computing session and federation, a recording federation for
//! wire audits, and AUC / RMSE.

use crate::io::{Dataset, Inputs, Instance, ModelData, Prediction, Schema};
use crate::{Component, ComponentOutput, MemoryTracker, TaskContext};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{Session, Table, TypedTable};
use fedflow_core::{Party, Role};
use fedflow_federation::standalone::{StandaloneFederation, StandaloneFederationOptions};
use fedflow_federation::{Federation, Roster};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

pub const DATA: &str = "/work/shared/data";

/// One party's rows: ids, header, features, optional labels.
#[derive(Clone, Debug)]
pub struct Frame {
    pub ids: Vec<String>,
    pub header: Vec<String>,
    pub x: Vec<Vec<f64>>,
    pub y: Option<Vec<f64>>,
}

/// Reads a CSV with an id column (first) and optionally a label column.
pub fn read_csv(file: &str, label: Option<&str>) -> Frame {
    let text = std::fs::read_to_string(format!("{DATA}/{file}")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let li = label.map(|l| head.iter().position(|h| *h == l).unwrap());
    let header: Vec<String> = head
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 0 && Some(*i) != li)
        .map(|(_, h)| h.to_string())
        .collect();
    let mut f = Frame {
        ids: vec![],
        header,
        x: vec![],
        y: li.map(|_| vec![]),
    };
    for l in lines.filter(|l| !l.trim().is_empty()) {
        let c: Vec<&str> = l.split(',').collect();
        f.ids.push(c[0].to_string());
        let mut row = vec![];
        for (i, v) in c.iter().enumerate().skip(1) {
            let v: f64 = v.trim().parse().unwrap_or(f64::NAN);
            if Some(i) == li {
                f.y.as_mut().unwrap().push(v);
            } else {
                row.push(v);
            }
        }
        f.x.push(row);
    }
    f
}

/// Keeps only ids present in every frame, all sorted by id.
pub fn align(frames: &mut [Frame]) {
    let mut common: HashSet<String> = frames[0].ids.iter().cloned().collect();
    for f in frames.iter().skip(1) {
        let s: HashSet<String> = f.ids.iter().cloned().collect();
        common.retain(|i| s.contains(i));
    }
    for f in frames.iter_mut() {
        let mut idx: Vec<usize> = (0..f.ids.len())
            .filter(|&i| common.contains(&f.ids[i]))
            .collect();
        idx.sort_by(|&a, &b| f.ids[a].cmp(&f.ids[b]));
        f.ids = idx.iter().map(|&i| f.ids[i].clone()).collect();
        f.x = idx.iter().map(|&i| f.x[i].clone()).collect();
        if let Some(y) = &f.y {
            f.y = Some(idx.iter().map(|&i| y[i]).collect());
        }
    }
}

/// The joined plaintext matrix `[guest features…, host features…]`.
pub fn joined(frames: &[Frame]) -> Vec<Vec<f64>> {
    (0..frames[0].ids.len())
        .map(|i| frames.iter().flat_map(|f| f.x[i].clone()).collect())
        .collect()
}

/// A frame column with this name holds the rows' sample weights:
/// [`dataset`] moves it into `Instance::weight` and marks the schema as
/// SampleWeight does.
pub const WEIGHT_COLUMN: &str = "__sample_weight";

pub fn dataset(session: &dyn Session, f: &Frame) -> Dataset {
    let wcol = f.header.iter().position(|h| h == WEIGHT_COLUMN);
    let rows: Vec<(String, Instance)> = (0..f.ids.len())
        .map(|i| {
            let mut features = f.x[i].clone();
            let weight = wcol.map(|c| features.remove(c)).unwrap_or(1.0);
            (
                f.ids[i].clone(),
                Instance {
                    features,
                    label: f.y.as_ref().map(|y| y[i]),
                    weight,
                },
            )
        })
        .collect();
    let t = fedflow_computing::parallelize(session, rows, 4).unwrap();
    let mut header = f.header.clone();
    let mut extra = serde_json::Map::new();
    if let Some(c) = wcol {
        header.remove(c);
        extra.insert(
            crate::preprocess::sample_weight::WEIGHT_MARK.into(),
            "weight".into(),
        );
    }
    Dataset {
        table: t.raw().clone(),
        schema: Schema {
            sid: "id".into(),
            header,
            label_name: f.y.as_ref().map(|_| "y".into()),
            extra,
        },
    }
}

/// One recorded message.
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub struct Sent {
    pub name: String,
    pub src: Party,
    pub dst: Vec<Party>,
    pub bytes: Vec<u8>,
}

/// A federation decorator recording every value sent.
pub struct Recording {
    pub inner: Arc<dyn Federation>,
    pub log: Arc<Mutex<Vec<Sent>>>,
}

impl Federation for Recording {
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
        self.log.lock().push(Sent {
            name: name.into(),
            src: self.local(),
            dst: dst.to_vec(),
            bytes: value.to_vec(),
        });
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
        let rows = table.take(usize::MAX).unwrap_or_default();
        let mut bytes = vec![];
        for (k, v) in rows {
            bytes.extend(k);
            bytes.extend(v);
        }
        self.log.lock().push(Sent {
            name: name.into(),
            src: self.local(),
            dst: dst.to_vec(),
            bytes,
        });
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

pub const GUEST: u64 = 9999;
pub const HOST0: u64 = 10000;

/// A job's run: outputs per party (guest, hosts…, arbiter) and the wire log.
#[allow(dead_code)]
pub struct Run {
    pub guest: ComponentOutput,
    pub hosts: Vec<ComponentOutput>,
    pub arbiter: Option<ComponentOutput>,
    pub wire: Vec<Sent>,
    pub seconds: f64,
}

/// Runs `component` for guest (frame 0), hosts (frames 1..) and, when
/// `with_arbiter`, an arbiter; `models` per party for predict jobs.
pub fn run_job(
    make: fn() -> Box<dyn Component>,
    params: serde_json::Value,
    frames: &[Frame],
    with_arbiter: bool,
    job_type: &str,
    models: Option<(ModelData, Vec<ModelData>)>,
) -> Run {
    run_job_with(make, params, frames, None, with_arbiter, job_type, models)
}

/// Runs a training job expected to fail; returns the panic message (the
/// first failing party's error, as the harness unwraps in party order).
pub fn run_job_err(
    make: fn() -> Box<dyn Component>,
    params: serde_json::Value,
    frames: &[Frame],
    with_arbiter: bool,
) -> String {
    let r = std::panic::catch_unwind(|| run_job(make, params, frames, with_arbiter, "train", None));
    match r {
        Ok(_) => panic!("the job succeeded"),
        Err(e) => e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    }
}

/// [`run_job`] with an optional `validate_data` input per party.
pub fn run_job_with(
    make: fn() -> Box<dyn Component>,
    params: serde_json::Value,
    frames: &[Frame],
    validate: Option<&[Frame]>,
    with_arbiter: bool,
    job_type: &str,
    models: Option<(ModelData, Vec<ModelData>)>,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut roster = Roster::default();
    roster.0.insert(Role::Guest, vec![GUEST]);
    let host_ids: Vec<u64> = (0..frames.len() - 1).map(|i| HOST0 + i as u64).collect();
    roster.0.insert(Role::Host, host_ids.clone());
    if with_arbiter {
        roster.0.insert(Role::Arbiter, vec![HOST0]);
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut parties = vec![Party::new(Role::Guest, GUEST)];
    parties.extend(host_ids.iter().map(|&h| Party::new(Role::Host, h)));
    if with_arbiter {
        parties.push(Party::new(Role::Arbiter, HOST0));
    }
    let session_id = format!("fed_{}", rand::random::<u32>());
    let start = std::time::Instant::now();
    let handles: Vec<_> = parties
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let computing: Arc<dyn Session> = Arc::new(
                StandaloneSession::new(format!("s{i}"), StandaloneOptions::default()).unwrap(),
            );
            let mut inputs = Inputs::default();
            if i < frames.len() {
                let slot = if job_type == "predict" {
                    "test_data"
                } else {
                    "train_data"
                };
                inputs
                    .data
                    .insert(slot.into(), vec![dataset(computing.as_ref(), &frames[i])]);
                if let Some(v) = validate {
                    inputs.data.insert(
                        "validate_data".into(),
                        vec![dataset(computing.as_ref(), &v[i])],
                    );
                }
            }
            if let Some((g, hs)) = &models {
                if i == 0 {
                    inputs.models.push(g.clone());
                } else if let Some(m) = hs.get(i - 1) {
                    // Hosts' models, then (warm start) the arbiter's.
                    inputs.models.push(m.clone());
                }
            }
            let fed: Arc<dyn Federation> = Arc::new(Recording {
                inner: Arc::new(
                    StandaloneFederation::new(
                        dir.path(),
                        &session_id,
                        p,
                        StandaloneFederationOptions::default(),
                    )
                    .unwrap(),
                ),
                log: log.clone(),
            });
            let ctx = TaskContext {
                job_id: "j".into(),
                component_name: "model_0".into(),
                local: p,
                roster: roster.clone(),
                params: params.clone(),
                computing,
                federation: fed,
                tracker: Arc::new(MemoryTracker::default()),
                inputs,
                storage: None,
                job_type: job_type.into(),
            };
            std::thread::spawn(move || {
                let c = make();
                let r = crate::run(c.as_ref(), &ctx);
                if let Err(e) = &r {
                    ctx.federation.abort(&e.to_string());
                }
                r
            })
        })
        .collect();
    let mut outs: Vec<ComponentOutput> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    let seconds = start.elapsed().as_secs_f64();
    let arbiter = if with_arbiter { outs.pop() } else { None };
    let guest = outs.remove(0);
    let wire = log.lock().clone();
    Run {
        guest,
        hosts: outs,
        arbiter,
        wire,
        seconds,
    }
}

/// Predictions of a run's guest output, sorted by id.
pub fn predictions(out: &ComponentOutput) -> Vec<(String, Prediction)> {
    let t: TypedTable<String, Prediction> = TypedTable::from_raw(out.data[0].table.clone());
    let mut v = t.collect().unwrap();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// AUC of scores against 0/1 labels (ties averaged).
pub fn auc(scores: &[f64], labels: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].partial_cmp(&scores[b]).unwrap());
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = r;
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&y| y > 0.5).count() as f64;
    let neg = labels.len() as f64 - pos;
    let sum: f64 = (0..labels.len())
        .filter(|&k| labels[k] > 0.5)
        .map(|k| ranks[k])
        .sum();
    (sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

pub fn rmse(pred: &[f64], y: &[f64]) -> f64 {
    (pred
        .iter()
        .zip(y)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / y.len() as f64)
        .sqrt()
}

/// Asserts that no f64 of `values` appears verbatim (8 bytes) in any message
/// `from` sends to another party.
pub fn assert_no_plain(wire: &[Sent], from: Role, values: &[f64], what: &str) {
    let pats: BTreeMap<[u8; 8], f64> = values
        .iter()
        .filter(|v| v.fract() != 0.0)
        .map(|v| (v.to_le_bytes(), *v))
        .collect();
    for s in wire.iter().filter(|s| s.src.role == from) {
        for w in s.bytes.windows(8) {
            let k: [u8; 8] = w.try_into().unwrap();
            if let Some(v) = pats.get(&k) {
                panic!("{what} value {v} leaked in '{}' from {}", s.name, s.src);
            }
        }
    }
}

/// Synthetic vertically split data: `n` rows, `mg` guest features (+ a 0/1
/// label from a logistic model over all features), `mh` host features.
pub fn synthetic(n: usize, mg: usize, mh: usize, seed: u64) -> Vec<Frame> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let w: Vec<f64> = (0..mg + mh).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let mut g = Frame {
        ids: vec![],
        header: (0..mg).map(|j| format!("x{j}")).collect(),
        x: vec![],
        y: Some(vec![]),
    };
    let mut h = Frame {
        ids: vec![],
        header: (0..mh).map(|j| format!("x{j}")).collect(),
        x: vec![],
        y: None,
    };
    for i in 0..n {
        let row: Vec<f64> = (0..mg + mh).map(|_| rng.gen_range(-2.0..2.0)).collect();
        let z: f64 = row.iter().zip(&w).map(|(a, b)| a * b).sum();
        let p = 1.0 / (1.0 + (-z).exp());
        let id = format!("{i:07}");
        g.ids.push(id.clone());
        h.ids.push(id);
        g.y.as_mut()
            .unwrap()
            .push(if rng.gen::<f64>() < p { 1.0 } else { 0.0 });
        g.x.push(row[..mg].to_vec());
        h.x.push(row[mg..].to_vec());
    }
    vec![g, h]
}
