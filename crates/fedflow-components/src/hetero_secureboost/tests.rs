use super::*;
use crate::hetero_lr::harness::*;
use crate::hetero_lr::sigmoid;
use crate::tree::{bin_matrix, gain, leaf_weight, softmax, Objective};

fn sbt() -> Box<dyn Component> {
    Box::new(HeteroSecureBoost)
}

/// The same algorithm on the joined plaintext features, no encryption:
/// same binning, objective, level-wise growth, gain and stopping rules.
/// Returns scores per sample.
fn reference(frames: &[Frame], p: &HeteroSecureBoostParam) -> Vec<Vec<f64>> {
    reference_weighted(frames, p, None)
}

/// [`reference`] with sample weights scaling each row's g and h.
fn reference_weighted(
    frames: &[Frame],
    p: &HeteroSecureBoostParam,
    weights: Option<&[f64]>,
) -> Vec<Vec<f64>> {
    let x = joined(frames);
    let labels = frames[0].y.clone().unwrap();
    let (obj, y) = if p.is_regression() {
        (Objective::Lse, labels.clone())
    } else {
        let mut cl = labels.clone();
        cl.sort_by(|a, b| a.partial_cmp(b).unwrap());
        cl.dedup();
        let y: Vec<f64> = labels
            .iter()
            .map(|v| cl.iter().position(|c| c == v).unwrap() as f64)
            .collect();
        (
            if cl.len() <= 2 {
                Objective::Binary
            } else {
                Objective::Multi(cl.len())
            },
            y,
        )
    };
    let (_, bins) = bin_matrix(&x, p.bin_num);
    let nb: Vec<usize> = (0..x[0].len())
        .map(|j| bins.iter().map(|r| r[j] as usize).max().unwrap() + 1)
        .collect();
    let n = x.len();
    let tp = &p.tree_param;
    let lambda = tp.lambda();
    let min_leaf = tp.min_leaf_node.max(1) as usize;
    let mut scores = vec![obj.init(&y); n];
    let mut prev: Option<f64> = None;
    for _ in 0..p.num_trees {
        let gh: Vec<Vec<(f64, f64)>> = (0..obj.dims())
            .map(|k| {
                scores
                    .iter()
                    .zip(&y)
                    .enumerate()
                    .map(|(i, (z, &t))| {
                        let (g, h) = obj.grad_hess(z, t, k);
                        let w = weights.map_or(1.0, |w| w[i]);
                        (g * w, h * w)
                    })
                    .collect()
            })
            .collect();
        for (k, gh) in gh.iter().enumerate() {
            // Level-wise: groups of sample indices.
            let mut level: Vec<Vec<usize>> = vec![(0..n).collect()];
            let mut leaves: Vec<Vec<usize>> = vec![];
            for _ in 0..tp.max_depth {
                let mut next = vec![];
                for m in level {
                    if m.len() < (tp.min_sample_split as usize).max(2 * min_leaf) {
                        leaves.push(m);
                        continue;
                    }
                    let g: f64 = m.iter().map(|&i| gh[i].0).sum();
                    let h: f64 = m.iter().map(|&i| gh[i].1).sum();
                    let mut best: Option<(f64, usize, usize)> = None;
                    for j in 0..nb.len() {
                        let mut hist = vec![(0.0, 0.0, 0usize); nb[j]];
                        for &i in &m {
                            let b = bins[i][j] as usize;
                            hist[b].0 += gh[i].0;
                            hist[b].1 += gh[i].1;
                            hist[b].2 += 1;
                        }
                        let (mut gl, mut hl, mut cl) = (0.0, 0.0, 0);
                        for (b, bin) in hist.iter().enumerate().take(nb[j] - 1) {
                            if bin.2 == 0 {
                                continue;
                            }
                            gl += bin.0;
                            hl += bin.1;
                            cl += bin.2;
                            if cl < min_leaf || m.len() - cl < min_leaf {
                                continue;
                            }
                            let gn = gain(g, h, gl, hl, lambda);
                            if best.is_none_or(|bb| gn > bb.0) {
                                best = Some((gn, j, b));
                            }
                        }
                    }
                    match best {
                        Some((gn, j, b)) if gn > tp.min_impurity_split => {
                            let (l, r): (Vec<usize>, Vec<usize>) =
                                m.iter().partition(|&&i| bins[i][j] as usize <= b);
                            next.push(l);
                            next.push(r);
                        }
                        _ => leaves.push(m),
                    }
                }
                level = next;
            }
            leaves.extend(level);
            for m in leaves {
                let g: f64 = m.iter().map(|&i| gh[i].0).sum();
                let h: f64 = m.iter().map(|&i| gh[i].1).sum();
                let w = leaf_weight(g, h, lambda);
                for i in m {
                    scores[i][k] += p.learning_rate * w;
                }
            }
        }
        let loss = obj.loss(&scores, &y);
        if p.n_iter_no_change && prev.is_some_and(|q| (q - loss).abs() < p.tol) {
            break;
        }
        prev = Some(loss);
    }
    scores
}

fn frames(guest: &str, host: &str, label: &str) -> Vec<Frame> {
    let mut f = vec![read_csv(guest, Some(label)), read_csv(host, None)];
    align(&mut f);
    f
}

fn params(extra: serde_json::Value) -> serde_json::Value {
    let mut p = serde_json::json!({
        "task_type": "classification", "objective_param": {"objective": "cross_entropy"},
        "num_trees": 3, "encrypt_param": {"method": "Paillier", "key_length": 1024},
        "tree_param": {"max_depth": 3}, "validation_freqs": 1
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn binary_auc(frames: &[Frame], p: serde_json::Value) -> (f64, f64, Run) {
    let run = run_job(sbt, p.clone(), frames, false, "train", None);
    let pr = predictions(&run.guest);
    let s: Vec<f64> = pr.iter().map(|x| x.1.predict_score).collect();
    let y = frames[0].y.clone().unwrap();
    let a = auc(&s, &y);
    let param: HeteroSecureBoostParam = crate::parse_params("x", &p).unwrap();
    let r: Vec<f64> = reference(frames, &param)
        .iter()
        .map(|z| sigmoid(z[0]))
        .collect();
    let ra = auc(&r, &y);
    (a, ra, run)
}

#[test]
fn hetero_sbt_breast_matches_reference_predicts_exactly_and_leaks_nothing() {
    let f = frames("breast_hetero_guest.csv", "breast_hetero_host.csv", "y");
    let p = params(serde_json::json!({}));
    let (a, ra, run) = binary_auc(&f, p.clone());
    eprintln!(
        "hetero SBT breast 3 trees depth 3: AUC {a:.5} (reference {ra:.5}), {:.2} s",
        run.seconds
    );
    assert!(a >= 0.9959, "AUC {a}");
    assert!((a - ra).abs() <= 0.002, "AUC {a} vs reference {ra}");
    let imp = &run.guest.summary["feature_importance"];
    assert!(imp.as_object().is_some_and(|m| !m.is_empty()), "{imp}");

    // Wire audit: no plaintext feature or threshold leaves the host, no
    // plaintext feature / gradient leaves the guest.
    let gx: Vec<f64> = f[0].x.concat();
    let hx: Vec<f64> = f[1].x.concat();
    assert_no_plain(&run.wire, fedflow_core::Role::Guest, &gx, "guest feature");
    assert_no_plain(
        &run.wire,
        fedflow_core::Role::Host,
        &hx,
        "host feature/threshold",
    );
    let y = f[0].y.clone().unwrap();
    let g: Vec<f64> = y.iter().map(|&t| 0.5 - t).collect();
    let _ = g; // first-tree gradients are ±0.5: covered by the ciphertext-only variable list below
    for s in &run.wire {
        let allowed: &[&str] = match s.src.role {
            fedflow_core::Role::Guest => &[
                "paillier_pubkey",
                "encrypted_grad_and_hess",
                "tree_node_queue",
                "federated_best_splitinfo_host",
                "predict_ids",
                "predict_data",
            ],
            _ => &[
                "encrypted_splitinfo_host",
                "dispatch_node_host_result",
                "predict_data_by_host",
            ],
        };
        assert!(
            allowed.contains(&s.name.as_str()),
            "{} sent {}",
            s.src,
            s.name
        );
    }

    // Predict job reproduces the training scores exactly.
    let models = (
        run.guest.model.clone().unwrap(),
        vec![run.hosts[0].model.clone().unwrap()],
    );
    let pred = run_job(sbt, p, &f, false, "predict", Some(models));
    let a: Vec<f64> = predictions(&run.guest)
        .iter()
        .map(|x| x.1.predict_score)
        .collect();
    let b: Vec<f64> = predictions(&pred.guest)
        .iter()
        .map(|x| x.1.predict_score)
        .collect();
    assert_eq!(a, b);
}

#[test]
fn hetero_sbt_default_credit() {
    let f = frames(
        "default_credit_hetero_guest.csv",
        "default_credit_hetero_host.csv",
        "y",
    );
    // FATE's default num_trees (5), depth 4 (depth 3 gives 0.7689); FATE's
    // own benchmark setting is the ignored test below (30 trees, ~1-2 min).
    let p = params(serde_json::json!({"num_trees": 5, "tree_param": {"max_depth": 4}}));
    let (a, ra, run) = binary_auc(&f, p);
    eprintln!(
        "hetero SBT default_credit 5 trees depth 4: AUC {a:.5} (reference {ra:.5}), {:.2} s",
        run.seconds
    );
    assert!(a >= 0.77, "AUC {a}");
    assert!((a - ra).abs() <= 0.002);
}

/// FATE's benchmark_quality setting for default_credit
/// (`examples/benchmark_quality/hetero_sbt/sbt_default_credit_config.yaml`):
/// 30 trees, depth 3, 32 bins, the rest at FATE's defaults (learning rate
/// 0.3). Ignored: 30 trees over 30,000 rows take 1-2 min on this machine.
/// `cargo test --release -p fedflow-components sbt_default_credit_fate -- --ignored --nocapture`
#[test]
#[ignore]
fn hetero_sbt_default_credit_fate_benchmark_setting() {
    let f = frames(
        "default_credit_hetero_guest.csv",
        "default_credit_hetero_host.csv",
        "y",
    );
    let p = params(serde_json::json!({"num_trees": 30, "tree_param": {"max_depth": 3}}));
    let (a, ra, run) = binary_auc(&f, p);
    eprintln!(
        "hetero SBT default_credit 30 trees depth 3: AUC {a:.5} (reference {ra:.5}), {:.2} s",
        run.seconds
    );
    assert!(a >= 0.77, "AUC {a}");
    assert!((a - ra).abs() <= 0.002);
}

#[test]
fn hetero_sbt_vehicle_multiclass_matches_reference() {
    let f = frames(
        "vehicle_scale_hetero_guest.csv",
        "vehicle_scale_hetero_host.csv",
        "y",
    );
    let p = params(serde_json::json!({}));
    let run = run_job(sbt, p.clone(), &f, false, "train", None);
    let pr = predictions(&run.guest);
    let y = f[0].y.clone().unwrap();
    let acc = pr
        .iter()
        .zip(&y)
        .filter(|(p, t)| p.1.predict_result == **t)
        .count() as f64
        / y.len() as f64;
    let param: HeteroSecureBoostParam = crate::parse_params("x", &p).unwrap();
    let mut cl = y.clone();
    cl.sort_by(|a, b| a.partial_cmp(b).unwrap());
    cl.dedup();
    let r = reference(&f, &param);
    let racc = r
        .iter()
        .zip(&y)
        .filter(|(z, t)| {
            let pz = softmax(z);
            let bi = (0..pz.len()).fold(0, |a, i| if pz[i] > pz[a] { i } else { a });
            cl[bi] == **t
        })
        .count() as f64
        / y.len() as f64;
    eprintln!(
        "hetero SBT vehicle 4 classes: accuracy {acc:.5} (reference {racc:.5}), {:.2} s",
        run.seconds
    );
    assert!(
        (acc - racc).abs() <= 0.005,
        "accuracy {acc} vs reference {racc}"
    );
    for ((_, p), z) in pr.iter().zip(&r) {
        let pz = softmax(z);
        let m = pz.iter().copied().fold(0.0, f64::max);
        assert!((p.predict_score - m).abs() < 1e-6);
    }
}

#[test]
fn hetero_sbt_student_regression_matches_reference() {
    let f = frames("student_hetero_guest.csv", "student_hetero_host.csv", "y");
    let p = params(
        serde_json::json!({"task_type": "regression", "objective_param": {"objective": "lse"}}),
    );
    let run = run_job(sbt, p.clone(), &f, false, "train", None);
    let pr: Vec<f64> = predictions(&run.guest)
        .iter()
        .map(|x| x.1.predict_result)
        .collect();
    let y = f[0].y.clone().unwrap();
    let e = rmse(&pr, &y);
    let param: HeteroSecureBoostParam = crate::parse_params("x", &p).unwrap();
    let r: Vec<f64> = reference(&f, &param).iter().map(|z| z[0]).collect();
    let re = rmse(&r, &y);
    eprintln!(
        "hetero SBT student regression: RMSE {e:.5} (reference {re:.5}), {:.2} s",
        run.seconds
    );
    assert!((e - re).abs() <= 0.005 * re, "RMSE {e} vs reference {re}");
}

/// `cargo test --release -p fedflow-components bench_sbt_breast -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_sbt_breast() {
    let f = frames("breast_hetero_guest.csv", "breast_hetero_host.csv", "y");
    for compress in [true, false] {
        let run = run_job(
            sbt,
            params(serde_json::json!({"cipher_compress": compress})),
            &f,
            false,
            "train",
            None,
        );
        eprintln!(
            "breast SBT 3 trees depth 3, cipher_compress {compress}: {:.2} s",
            run.seconds
        );
    }
}

/// `cargo test --release -p fedflow-components bench_sbt_100k -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_sbt_100k() {
    let f = synthetic(100_000, 10, 20, 7);
    let run = run_job(sbt, params(serde_json::json!({})), &f, false, "train", None);
    let pr = predictions(&run.guest);
    let s: Vec<f64> = pr.iter().map(|x| x.1.predict_score).collect();
    eprintln!(
        "100k x (10 + 20) hetero SBT 3 trees depth 3: {:.2} s, AUC {:.4}",
        run.seconds,
        auc(&s, f[0].y.as_ref().unwrap())
    );
}

#[test]
fn hetero_sbt_two_hosts_regression_matches_reference_and_predicts_exactly() {
    let mut f = vec![
        read_csv("motor_hetero_guest.csv", Some("motor_speed")),
        read_csv("motor_hetero_host_1.csv", None),
        read_csv("motor_hetero_host_2.csv", None),
    ];
    align(&mut f);
    let p = params(
        serde_json::json!({"task_type": "regression", "objective_param": {"objective": "lse"}}),
    );
    let run = run_job(sbt, p.clone(), &f, false, "train", None);
    let pr: Vec<f64> = predictions(&run.guest)
        .iter()
        .map(|x| x.1.predict_result)
        .collect();
    let y = f[0].y.clone().unwrap();
    let e = rmse(&pr, &y);
    let param: HeteroSecureBoostParam = crate::parse_params("x", &p).unwrap();
    let re = rmse(
        &reference(&f, &param)
            .iter()
            .map(|z| z[0])
            .collect::<Vec<_>>(),
        &y,
    );
    eprintln!(
        "hetero SBT motor 2 hosts: RMSE {e:.5} (reference {re:.5}), {:.2} s",
        run.seconds
    );
    assert!((e - re).abs() <= 0.005 * re, "RMSE {e} vs reference {re}");
    let imp = run.guest.summary["feature_importance"]
        .as_object()
        .unwrap()
        .clone();
    assert!(imp.keys().any(|k| k.starts_with("host_10001_")), "{imp:?}");
    let models = (
        run.guest.model.clone().unwrap(),
        run.hosts.iter().map(|h| h.model.clone().unwrap()).collect(),
    );
    let pred = run_job(sbt, p, &f, false, "predict", Some(models));
    let b: Vec<f64> = predictions(&pred.guest)
        .iter()
        .map(|x| x.1.predict_result)
        .collect();
    assert_eq!(pr, b);
}

#[test]
fn hetero_sbt_feature_subsampling_runs() {
    let f = frames("breast_hetero_guest.csv", "breast_hetero_host.csv", "y");
    let p = params(serde_json::json!({"subsample_feature_rate": 0.5, "num_trees": 2}));
    let run = run_job(sbt, p, &f, false, "train", None);
    let s: Vec<f64> = predictions(&run.guest)
        .iter()
        .map(|x| x.1.predict_score)
        .collect();
    let a = auc(&s, f[0].y.as_ref().unwrap());
    assert!(a > 0.95, "AUC {a}");
}

#[test]
fn hetero_modules_are_registered() {
    for m in ["HeteroLR", "HeteroLinR", "HeteroSecureBoost"] {
        assert!(crate::MODULES.contains(&m), "{m} missing from MODULES");
        assert_eq!(crate::component(m).unwrap().module(), m);
    }
}

#[test]
fn hetero_sbt_training_repeats_exactly() {
    // On breast, host features tie (equal gains at a node); with freshly
    // random masks the guest's pick among them changed from run to run.
    let f = frames("breast_hetero_guest.csv", "breast_hetero_host.csv", "y");
    let p = params(serde_json::json!({"num_trees": 2, "bin_num": 16,
        "subsample_feature_rate": 0.8, "random_seed": 3}));
    let models = |run: &Run| {
        let mut m = vec![run.guest.model.as_ref().map(|m| m.param.clone())];
        m.extend(
            run.hosts
                .iter()
                .map(|h| h.model.as_ref().map(|m| m.param.clone())),
        );
        (m, run.guest.summary.clone())
    };
    let first = models(&run_job(sbt, p.clone(), &f, false, "train", None));
    assert!(first.0.iter().all(Option::is_some));
    for _ in 0..3 {
        assert_eq!(
            models(&run_job(sbt, p.clone(), &f, false, "train", None)),
            first
        );
    }
}

#[test]
fn sample_weights_scale_g_and_h_as_the_weighted_plaintext_replay() {
    let f = frames("breast_hetero_guest.csv", "breast_hetero_host.csv", "y");
    let y = f[0].y.clone().unwrap();
    let w: Vec<f64> = y.iter().map(|&t| if t > 0.5 { 1.0 } else { 3.0 }).collect();
    let mut weighted = f.clone();
    weighted[0].header.push(WEIGHT_COLUMN.into());
    for (r, wi) in weighted[0].x.iter_mut().zip(&w) {
        r.push(*wi);
    }
    let p = params(serde_json::json!({}));
    let param: HeteroSecureBoostParam = crate::parse_params("x", &p).unwrap();
    let run = run_job(sbt, p, &weighted, false, "train", None);
    let s: Vec<f64> = predictions(&run.guest)
        .iter()
        .map(|(_, p)| p.predict_score)
        .collect();
    let rw: Vec<f64> = reference_weighted(&f, &param, Some(&w))
        .iter()
        .map(|z| sigmoid(z[0]))
        .collect();
    let ru: Vec<f64> = reference(&f, &param)
        .iter()
        .map(|z| sigmoid(z[0]))
        .collect();
    let mean_gap = |a: &[f64], b: &[f64]| {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
    };
    let (to_w, to_u) = (mean_gap(&s, &rw), mean_gap(&s, &ru));
    eprintln!("weighted SBT: mean |score − weighted replay| {to_w:.2e}, − unweighted {to_u:.2e}");
    assert!(to_w < 1e-3, "weighted SBT vs weighted replay: {to_w}");
    assert!(to_u > 1e-2, "weights changed nothing: {to_u}");
    assert!((auc(&s, &y) - auc(&rw, &y)).abs() <= 0.002);
    assert_no_plain(&run.wire, fedflow_core::Role::Guest, &w, "sample weight");
}
