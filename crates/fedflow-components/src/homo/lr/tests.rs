//! HomoLR against a plaintext replay of FedAvg (FATE 1.11's algorithm
//! written out with plain loops), a wire audit of what the arbiter
//! receives, and the failure paths.

use super::client::{batch_len, bce, epoch_order};
use super::*;
use crate::hetero_lr::harness::{self, auc, dataset, predictions, read_csv, Frame, Recording};
use crate::homo::optim::TorchOptimizer;
use crate::{Inputs, MemoryTracker};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::Session;
use fedflow_core::Party;
use fedflow_federation::standalone::{StandaloneFederation, StandaloneFederationOptions};
use fedflow_federation::{Federation, Roster};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

fn make() -> Box<dyn Component> {
    Box::new(HomoLR)
}

/// A frame's rows in id order (string order, as a party loads its table),
/// so the replay cuts the same mini-batches.
fn by_id(mut f: Frame) -> Frame {
    let mut idx: Vec<usize> = (0..f.ids.len()).collect();
    idx.sort_by(|&a, &b| f.ids[a].cmp(&f.ids[b]));
    f.ids = idx.iter().map(|&i| f.ids[i].clone()).collect();
    f.x = idx.iter().map(|&i| f.x[i].clone()).collect();
    f.y = f.y.map(|y| idx.iter().map(|&i| y[i]).collect());
    f
}

fn breast() -> Vec<Frame> {
    vec![
        by_id(read_csv("breast_homo_guest.csv", Some("y"))),
        by_id(read_csv("breast_homo_host.csv", Some("y"))),
    ]
}

/// FedAvg replayed in plain loops: every client trains `aggregate_iters`
/// epochs from the current global model with its own optimizer, the
/// arbiter averages weighted by rows. Returns the final global model
/// `[w…, b]` and, per aggregation, every client's local model before it.
fn replay(p: &HomoLRParam, frames: &[Frame], ys: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<Vec<f64>>>) {
    let m = frames[0].header.len();
    let wd = if p.penalty.as_deref() == Some("L2") {
        p.alpha
    } else {
        0.0
    };
    let mut opts: Vec<TorchOptimizer> = frames
        .iter()
        .map(|_| TorchOptimizer::new(&p.optimizer, wd).unwrap())
        .collect();
    let mut steps = vec![0u64; frames.len()];
    let (w0, b0) = p.init_weights(m);
    let mut global: Vec<f64> = w0.into_iter().chain([b0]).collect();
    let mut locals: Vec<Vec<f64>> = vec![global.clone(); frames.len()];
    let mut sent = Vec::new();
    let mut prev_loss: Option<f64> = None;
    for e in 0..p.max_iter {
        let mut losses = vec![];
        for (c, f) in frames.iter().enumerate() {
            let n = f.x.len();
            let bs = batch_len(p, n);
            let order = epoch_order(n, bs, p.init_param.random_seed.unwrap_or(0), e);
            let w = &mut locals[c];
            let mut loss_sum = 0.0;
            for batch in order.chunks(bs) {
                let mut g = vec![0.0; m + 1];
                let mut loss = 0.0;
                for &i in batch {
                    let z: f64 = (0..m).map(|j| f.x[i][j] * w[j]).sum::<f64>() + w[m];
                    let s = 1.0 / (1.0 + (-z).exp());
                    for (gj, xj) in g.iter_mut().zip(&f.x[i]) {
                        *gj += (s - ys[c][i]) * xj;
                    }
                    g[m] += s - ys[c][i];
                    loss += bce(s, ys[c][i]);
                }
                for v in g.iter_mut() {
                    *v /= batch.len() as f64;
                }
                if p.use_proximal {
                    for j in 0..=m {
                        g[j] += p.mu * (w[j] - global[j]);
                    }
                }
                let k = steps[c] as f64;
                let lr = if p.decay_sqrt {
                    p.learning_rate / (1.0 + p.decay * k).sqrt()
                } else {
                    p.learning_rate / (1.0 + p.decay * k)
                };
                opts[c].step(w, &g, lr);
                steps[c] += 1;
                loss_sum += loss / batch.len() as f64 * batch.len() as f64;
            }
            losses.push(loss_sum / n as f64);
        }
        if (e + 1) % p.aggregate_iters == 0 {
            sent.push(locals.clone());
            let ns: Vec<f64> = frames.iter().map(|f| f.x.len() as f64).collect();
            let total: f64 = ns.iter().sum();
            global = (0..=m)
                .map(|j| (0..frames.len()).map(|c| locals[c][j] * ns[c]).sum::<f64>() / total)
                .collect();
            let loss = (0..frames.len()).map(|c| losses[c] * ns[c]).sum::<f64>() / total;
            for l in locals.iter_mut() {
                l.clone_from(&global);
            }
            let done = prev_loss.is_some_and(|pl| (loss - pl).abs() < p.tol);
            prev_loss = Some(loss);
            if done {
                break;
            }
        }
    }
    (global, sent)
}

fn model_vec(out: &ComponentOutput) -> Vec<f64> {
    let md = out.model.as_ref().unwrap();
    let (ws, _, _) = model_weights(md).unwrap();
    ws[0]
        .ordered()
        .into_iter()
        .chain([ws[0].intercept])
        .collect()
}

fn param(v: serde_json::Value) -> HomoLRParam {
    let p: HomoLRParam = crate::parse_params("model_0", &v).unwrap();
    p.check("model_0").unwrap();
    p
}

fn labels(frames: &[Frame]) -> Vec<Vec<f64>> {
    frames.iter().map(|f| f.y.clone().unwrap()).collect()
}

#[test]
fn equals_plaintext_fedavg_replay_and_predicts_on_every_party() {
    for v in [
        // FATE's shipped train job.
        serde_json::json!({"penalty": "L2", "tol": 1e-5, "alpha": 0.01, "optimizer": "sgd",
            "batch_size": -1, "learning_rate": 0.15, "init_param": {"init_method": "zeros"},
            "max_iter": 30, "early_stop": "diff", "encrypt_param": {"method": null},
            "decay": 1, "decay_sqrt": true}),
        // Mini-batches (reshuffled each epoch), rmsprop, aggregation every 2 epochs.
        serde_json::json!({"alpha": 0.01, "optimizer": "rmsprop", "batch_size": 64,
            "learning_rate": 0.05, "init_param": {"init_method": "zeros"}, "max_iter": 6,
            "aggregate_iters": 2, "tol": 0.0}),
        // Adam with FedProx, no decay schedule.
        serde_json::json!({"alpha": 0.0, "optimizer": "adam", "batch_size": 100,
            "learning_rate": 0.05, "decay": 0.0, "init_param": {"init_method": "zeros"},
            "max_iter": 4, "use_proximal": true, "mu": 0.5, "tol": 0.0}),
        serde_json::json!({"optimizer": "nesterov_momentum_sgd", "learning_rate": 0.05,
            "batch_size": 50, "max_iter": 3, "tol": 0.0, "init_param": {"init_method": "zeros"}}),
        serde_json::json!({"optimizer": "adagrad", "learning_rate": 0.1, "max_iter": 3,
            "tol": 0.0, "init_param": {"init_method": "zeros"}}),
    ] {
        let frames = breast();
        let p = param(v.clone());
        let (want, _) = replay(&p, &frames, &labels(&frames));
        let run = harness::run_job(make, v.clone(), &frames, true, "train", None);
        for out in std::iter::once(&run.guest).chain(&run.hosts) {
            let got = model_vec(out);
            let diff = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(diff < 1e-9, "{v}: model differs from the replay by {diff}");
            // Each party's own rows come back predicted.
            assert_eq!(
                predictions(out).len(),
                out.data[0].table.count().unwrap() as usize
            );
        }
        // The arbiter keeps no weights.
        let am = run.arbiter.as_ref().unwrap().model.as_ref().unwrap();
        assert!(am.param.get("weight").is_none());
    }
}

#[test]
fn shipped_job_reaches_fate_quality_and_predict_jobs_run_on_each_party() {
    let frames = breast();
    let v = serde_json::json!({"penalty": "L2", "tol": 1e-5, "alpha": 0.01, "optimizer": "sgd",
        "batch_size": -1, "learning_rate": 0.15, "init_param": {"init_method": "zeros"},
        "max_iter": 30, "early_stop": "diff", "encrypt_param": {"method": null}});
    let run = harness::run_job(make, v.clone(), &frames, true, "train", None);
    let test = read_csv("breast_homo_test.csv", Some("y"));
    let models = (
        run.guest.model.clone().unwrap(),
        vec![
            run.hosts[0].model.clone().unwrap(),
            run.arbiter.clone().unwrap().model.unwrap(),
        ],
    );
    let pred = harness::run_job(
        make,
        v,
        &[test.clone(), test.clone()],
        true,
        "predict",
        Some(models),
    );
    for out in std::iter::once(&pred.guest).chain(&pred.hosts) {
        let rows = predictions(out);
        assert_eq!(rows.len(), test.ids.len());
        let scores: Vec<f64> = rows.iter().map(|r| r.1.predict_score).collect();
        let ys: Vec<f64> = rows.iter().map(|r| r.1.label).collect();
        let a = auc(&scores, &ys);
        assert!(a > 0.97, "test AUC {a}");
    }
    // A predict job sends nothing.
    assert!(
        pred.wire.is_empty(),
        "{} messages in a predict job",
        pred.wire.len()
    );
}

#[test]
fn the_arbiter_sees_only_masked_updates() {
    let frames = breast();
    let v = serde_json::json!({"optimizer": "sgd", "learning_rate": 0.15, "alpha": 0.01,
        "max_iter": 3, "tol": 0.0, "init_param": {"init_method": "zeros"}});
    let p = param(v.clone());
    let (_, sent) = replay(&p, &frames, &labels(&frames));
    let run = harness::run_job(make, v, &frames, true, "train", None);
    let ns = [frames[0].x.len() as f64, frames[1].x.len() as f64];
    for (c, role) in [(0, Role::Guest), (1, Role::Host)] {
        // The client's local models, as f64 and as their fixed-point encoding
        // (weighted by rows, as the aggregator sends them).
        let plain: Vec<f64> = sent.iter().flat_map(|r| r[c].clone()).collect();
        harness::assert_no_plain(&run.wire, role, &plain, "local model");
        let encoded: Vec<[u8; 16]> = plain
            .iter()
            .filter(|v| v.fract() != 0.0)
            .map(|v| {
                fedflow_crypto::secagg::encode(v * ns[c])
                    .unwrap()
                    .to_le_bytes()
            })
            .collect();
        for s in run.wire.iter().filter(|s| s.src.role == role) {
            for w in s.bytes.windows(16) {
                assert!(
                    !encoded.iter().any(|e| e == w),
                    "a fixed-point local update leaked in '{}' from {}",
                    s.name,
                    s.src
                );
            }
        }
        // Clients only talk to the arbiter.
        assert!(run
            .wire
            .iter()
            .filter(|s| s.src.role == role)
            .all(|s| s.dst.iter().all(|d| d.role == Role::Arbiter)));
    }
    let masked = run
        .wire
        .iter()
        .filter(|s| s.name == "secagg_masked")
        .count();
    assert_eq!(masked, 2 * 3, "one masked upload per client per epoch");
}

#[test]
fn one_vs_rest_on_vehicle_matches_the_replay_per_class() {
    let frames = vec![
        by_id(read_csv("vehicle_scale_homo_guest.csv", Some("y"))),
        by_id(read_csv("vehicle_scale_homo_host.csv", Some("y"))),
    ];
    let v = serde_json::json!({"penalty": "L2", "tol": 1e-5, "alpha": 0.01, "optimizer": "sgd",
        "batch_size": -1, "learning_rate": 0.15, "init_param": {"init_method": "zeros"},
        "max_iter": 20, "decay": 1, "decay_sqrt": true,
        "callback_param": {"callbacks": ["ModelCheckpoint", "EarlyStopping"]}});
    let p = param(v.clone());
    let run = harness::run_job(make, v, &frames, true, "train", None);
    let md = run.guest.model.as_ref().unwrap();
    let (ws, classes, _) = model_weights(md).unwrap();
    let classes = classes.unwrap();
    assert_eq!(classes, vec![0.0, 1.0, 2.0, 3.0]);
    for (cls, c) in classes.iter().enumerate() {
        let ys: Vec<Vec<f64>> = labels(&frames)
            .into_iter()
            .map(|l| l.iter().map(|y| (y == c) as u8 as f64).collect())
            .collect();
        let (want, _) = replay(&p, &frames, &ys);
        let got: Vec<f64> = ws[cls]
            .ordered()
            .into_iter()
            .chain([ws[cls].intercept])
            .collect();
        let diff = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(diff < 1e-9, "class {c}: {diff}");
    }
    // Checkpoints: one per epoch per class.
    assert_eq!(md.param["checkpoints"][0].as_array().unwrap().len(), 20);
    let rows = predictions(&run.guest);
    let acc = rows
        .iter()
        .filter(|r| r.1.predict_result == r.1.label)
        .count() as f64
        / rows.len() as f64;
    // Four balanced classes: chance is about 0.25.
    assert!(acc > 0.4, "train accuracy {acc}");
    let detail: serde_json::Value = serde_json::from_str(&rows[0].1.predict_detail).unwrap();
    assert_eq!(detail.as_object().unwrap().len(), 4);
}

#[test]
fn converges_early_stops_and_warm_starts() {
    let frames = breast();
    // diff with a large tol: stops at the second aggregation.
    let run = harness::run_job(
        make,
        serde_json::json!({"optimizer": "sgd", "tol": 100.0, "max_iter": 10, "learning_rate": 0.1}),
        &frames,
        true,
        "train",
        None,
    );
    let md = run.guest.model.as_ref().unwrap();
    assert_eq!(md.param["iters"], 2);
    assert_eq!(md.param["is_converged"], true);

    // Early stopping on the aggregated validation AUC.
    let val = read_csv("breast_homo_test.csv", Some("y"));
    let run = harness::run_job_with(
        make,
        serde_json::json!({"optimizer": "sgd", "tol": 0.0, "max_iter": 60, "learning_rate": 0.5,
            "alpha": 0.0, "decay": 0.0, "validation_freqs": 1, "early_stopping_rounds": 2,
            "init_param": {"init_method": "zeros"}}),
        &frames,
        Some(&[val.clone(), val]),
        true,
        "train",
        None,
    );
    let md = run.guest.model.as_ref().unwrap();
    let iters = md.param["iters"].as_u64().unwrap();
    assert!(iters < 60, "early stopping never triggered");
    let best = md.param["best_iteration"].as_u64().unwrap();
    assert_eq!(best + 2, iters, "stops 2 validations after the best");
    // validate rows are predicted too.
    assert!(predictions(&run.guest)
        .iter()
        .any(|r| r.1.kind == "validate"));

    // Warm start: 3 + 3 epochs of plain SGD = 6 epochs.
    let v = |n: u32| {
        serde_json::json!({"optimizer": "sgd", "tol": 0.0, "max_iter": n, "decay": 0.0,
            "learning_rate": 0.1, "alpha": 0.01, "init_param": {"init_method": "zeros"}})
    };
    let six = harness::run_job(make, v(6), &frames, true, "train", None);
    let three = harness::run_job(make, v(3), &frames, true, "train", None);
    let models = (
        three.guest.model.clone().unwrap(),
        vec![
            three.hosts[0].model.clone().unwrap(),
            three.arbiter.clone().unwrap().model.unwrap(),
        ],
    );
    let warm = harness::run_job(make, v(6), &frames, true, "train", Some(models));
    let (a, b) = (model_vec(&six.guest), model_vec(&warm.guest));
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(diff < 1e-9, "warm start differs by {diff}");
    assert_eq!(warm.guest.model.as_ref().unwrap().param["iters"], 6);
}

/// Runs guest, the first `run_hosts` hosts and the arbiter (roster: every
/// id in `hosts`), with a short federation timeout; results in that order.
fn run_some(
    v: serde_json::Value,
    frames: &[Frame],
    hosts: &[u64],
    run_hosts: usize,
) -> Vec<Result<ComponentOutput, ComponentError>> {
    let dir = tempfile::tempdir().unwrap();
    let mut roster = Roster::default();
    roster.0.insert(Role::Guest, vec![9999]);
    roster.0.insert(Role::Host, hosts.to_vec());
    roster.0.insert(Role::Arbiter, vec![10000]);
    let mut parties = vec![Party::new(Role::Guest, 9999)];
    parties.extend(
        hosts[..run_hosts]
            .iter()
            .map(|&h| Party::new(Role::Host, h)),
    );
    parties.push(Party::new(Role::Arbiter, 10000));
    let log = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = parties
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let computing: Arc<dyn Session> = Arc::new(
                StandaloneSession::new(format!("s{i}"), StandaloneOptions::default()).unwrap(),
            );
            let mut inputs = Inputs::default();
            if p.role != Role::Arbiter {
                inputs.data.insert(
                    "train_data".into(),
                    vec![dataset(computing.as_ref(), &frames[i])],
                );
            }
            let fed: Arc<dyn Federation> = Arc::new(Recording {
                inner: Arc::new(
                    StandaloneFederation::new(
                        dir.path(),
                        "fed_missing",
                        p,
                        StandaloneFederationOptions {
                            timeout: Duration::from_secs(3),
                            ..Default::default()
                        },
                    )
                    .unwrap(),
                ),
                log: log.clone(),
            });
            let ctx = TaskContext {
                job_id: "j".into(),
                component_name: "homo_lr_0".into(),
                local: p,
                roster: roster.clone(),
                params: v.clone(),
                computing,
                federation: fed,
                tracker: Arc::new(MemoryTracker::default()),
                inputs,
                storage: None,
                job_type: "train".into(),
            };
            std::thread::spawn(move || {
                let r = HomoLR.run(&ctx);
                if let Err(e) = &r {
                    ctx.federation.abort(&e.to_string());
                }
                r
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn a_missing_party_fails_the_round_naming_it() {
    let mut frames = breast();
    frames.push(frames[1].clone());
    let start = std::time::Instant::now();
    let rs = run_some(
        serde_json::json!({"max_iter": 2, "optimizer": "sgd"}),
        &frames,
        &[10000, 10001],
        1,
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    let arbiter = rs
        .last()
        .unwrap()
        .as_ref()
        .expect_err("arbiter must fail")
        .to_string();
    assert!(arbiter.contains("10001"), "{arbiter}");
    for r in &rs {
        assert!(r.is_err(), "every party fails");
    }
}

#[test]
fn clients_that_disagree_fail_together_with_one_message() {
    // The host has one feature fewer.
    let mut frames = breast();
    for row in frames[1].x.iter_mut() {
        row.pop();
    }
    frames[1].header.pop();
    let rs = run_some(serde_json::json!({"max_iter": 2}), &frames, &[10000], 1);
    for r in &rs {
        let e = r.as_ref().expect_err("fails").to_string();
        assert!(e.contains("host:10000 has 29 features"), "{e}");
    }
    // Labels other than 0/1 in a binary job.
    let mut frames = breast();
    for f in frames.iter_mut() {
        for y in f.y.as_mut().unwrap().iter_mut() {
            if *y == 0.0 {
                *y = 2.0;
            }
        }
    }
    let rs = run_some(serde_json::json!({"max_iter": 2}), &frames, &[10000], 1);
    for r in &rs {
        let e = r.as_ref().expect_err("fails").to_string();
        assert!(e.contains("labels 0 and 1"), "{e}");
    }
}

/// Full batch, SGD, aggregation every epoch: FedAvg is gradient descent on
/// the pooled rows (the weighted mean of the clients' steps is the pooled
/// step), so HomoLR must equal a centralized replay on the union.
#[test]
fn full_batch_sgd_equals_centralized_gradient_descent_on_the_pooled_rows() {
    let frames = breast();
    let v = serde_json::json!({"optimizer": "sgd", "batch_size": -1, "learning_rate": 0.15,
        "alpha": 0.01, "max_iter": 10, "tol": 0.0, "decay": 1, "decay_sqrt": true,
        "init_param": {"init_method": "zeros"}});
    let p = param(v.clone());
    let x: Vec<&Vec<f64>> = frames.iter().flat_map(|f| &f.x).collect();
    let y: Vec<f64> = frames.iter().flat_map(|f| f.y.clone().unwrap()).collect();
    let m = frames[0].header.len();
    let mut w = vec![0.0; m + 1];
    for k in 0..10u64 {
        let mut g = vec![0.0; m + 1];
        for (xi, yi) in x.iter().zip(&y) {
            let z: f64 = xi.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + w[m];
            let d = 1.0 / (1.0 + (-z).exp()) - yi;
            for (gj, xj) in g.iter_mut().zip(xi.iter()) {
                *gj += d * xj;
            }
            g[m] += d;
        }
        let lr = p.learning_rate / (1.0 + p.decay * k as f64).sqrt();
        for (wj, gj) in w.iter_mut().zip(&g) {
            *wj -= lr * (gj / y.len() as f64 + p.alpha * *wj);
        }
    }
    let run = harness::run_job(make, v, &frames, true, "train", None);
    let got = model_vec(&run.guest);
    let diff = got
        .iter()
        .zip(&w)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(diff < 1e-9, "HomoLR differs from centralized GD by {diff}");
}

#[test]
fn a_host_with_zero_rows_fails_every_party_naming_it() {
    let mut frames = breast();
    frames[1].ids.clear();
    frames[1].x.clear();
    frames[1].y = Some(Vec::new());
    let rs = run_some(serde_json::json!({"max_iter": 2}), &frames, &[10000], 1);
    for r in &rs {
        let e = r.as_ref().expect_err("fails").to_string();
        assert!(e.contains("host:10000: empty train_data"), "{e}");
    }
}
