use super::harness::*;
use super::ops::{update_weights, Converge, Optimizer};
use super::*;
use crate::hetero_linr::HeteroLinR;

fn lr() -> Box<dyn Component> {
    Box::new(HeteroLR)
}
fn linr() -> Box<dyn Component> {
    Box::new(HeteroLinR)
}

/// The same algorithm on the joined plaintext data, no encryption: Taylor
/// gradient (LR) / squared loss (LinR), same batches, optimizer, decay,
/// penalty and convergence. Returns `wx` per row.
fn reference(frames: &[Frame], param: &LinearModelParam, task: Task) -> Vec<f64> {
    reference_full(frames, param, task).0
}

/// [`reference`] plus the loss per iteration (one host only).
fn reference_full(frames: &[Frame], param: &LinearModelParam, task: Task) -> (Vec<f64>, Vec<f64>) {
    reference_weighted(frames, param, task, None)
}

/// [`reference_full`] with sample weights scaling each row's residual (the
/// loss stays unweighted, as fedflow's and FATE's encrypted loss).
fn reference_weighted(
    frames: &[Frame],
    param: &LinearModelParam,
    task: Task,
    weights: Option<&[f64]>,
) -> (Vec<f64>, Vec<f64>) {
    let mut losses = vec![];
    let x = joined(frames);
    let y: Vec<f64> = frames[0]
        .y
        .as_ref()
        .unwrap()
        .iter()
        .map(|&v| match task {
            Task::Logistic => {
                if v > 0.5 {
                    1.0
                } else {
                    -1.0
                }
            }
            Task::Linear => v,
        })
        .collect();
    let n = x.len();
    let m = x[0].len();
    let mut w = vec![0.0; m];
    let mut b = 0.0;
    let fit = param.init_param.fit_intercept;
    let mut opt = Optimizer::new(&param.optimizer);
    let es = if frames.len() > 2 {
        "weight_diff"
    } else {
        param.early_stop.as_str()
    };
    let mut conv = Converge::new(es, param.tol);
    let (s, c) = match task {
        Task::Logistic => (0.25, 0.5),
        Task::Linear => (1.0, 1.0),
    };
    for iter in 0..param.max_iter {
        let mut loss_sum = 0.0;
        let mut delta_sum = vec![0.0; m + fit as usize];
        let mut nbatches = 0;
        for idx in param.batches(n) {
            nbatches += 1;
            let nb = idx.len() as f64;
            let wx: Vec<f64> = idx.iter().map(|&i| dot(&x[i], &w) + b).collect();
            let mut g = vec![0.0; m + fit as usize];
            for (k, &i) in idx.iter().enumerate() {
                let d = (s * wx[k] - c * y[i]) * weights.map_or(1.0, |w| w[i]);
                for j in 0..m {
                    g[j] += d * x[i][j];
                }
                if fit {
                    g[m] += d;
                }
            }
            for j in 0..g.len() {
                g[j] /= nb;
                if j < m && param.penalty() == Penalty::L2 {
                    g[j] += param.alpha * w[j];
                }
            }
            let loss = match task {
                Task::Logistic => {
                    idx.iter()
                        .enumerate()
                        .map(|(k, &i)| {
                            std::f64::consts::LN_2 - 0.5 * y[i] * wx[k] + wx[k] * wx[k] / 8.0
                        })
                        .sum::<f64>()
                        / nb
                }
                Task::Linear => {
                    idx.iter()
                        .enumerate()
                        .map(|(k, &i)| (wx[k] - y[i]).powi(2))
                        .sum::<f64>()
                        / (2.0 * nb)
                }
            };
            loss_sum += loss + ops::loss_norm(param, &w);
            let delta = opt.apply(&g, param.lr_at(iter));
            for (a, d) in delta_sum.iter_mut().zip(&delta) {
                *a += d;
            }
            update_weights(param, iter, &mut w, &mut b, &delta, fit);
        }
        let wd = delta_sum.iter().map(|v| v * v).sum::<f64>().sqrt();
        let loss = (frames.len() == 2).then(|| loss_sum / nbatches as f64);
        losses.extend(loss);
        if conv.check(loss, wd) {
            break;
        }
    }
    (x.iter().map(|r| dot(r, &w) + b).collect(), losses)
}

fn breast() -> Vec<Frame> {
    let mut f = vec![
        read_csv("breast_hetero_guest.csv", Some("y")),
        read_csv("breast_hetero_host.csv", None),
    ];
    align(&mut f);
    f
}

fn lr_normal(max_iter: u32) -> serde_json::Value {
    serde_json::json!({
        "penalty": "L2", "tol": 0.0001, "alpha": 0.01, "optimizer": "rmsprop",
        "batch_size": 320, "learning_rate": 0.15, "encrypt_param": {"key_length": 1024},
        "init_param": {"init_method": "zeros"}, "max_iter": max_iter, "early_stop": "diff",
        "cv_param": {"n_splits": 5, "shuffle": false, "random_seed": 103, "need_cv": false}
    })
}

fn scores(run: &Run) -> (Vec<f64>, Vec<f64>) {
    let p = predictions(&run.guest);
    (
        p.iter().map(|(_, p)| p.predict_score).collect(),
        p.iter().map(|(_, p)| p.label).collect(),
    )
}

#[test]
fn hetero_lr_breast_matches_reference_predicts_exactly_and_leaks_nothing() {
    let frames = breast();
    let params = lr_normal(10);
    let run = run_job(lr, params.clone(), &frames, true, "train", None);
    let (s, y) = scores(&run);
    let a = auc(&s, &y);
    let param: LinearModelParam = crate::parse_params("x", &params).unwrap();
    let (rz, rloss) = reference_full(&frames, &param, Task::Logistic);
    let r: Vec<f64> = rz.into_iter().map(sigmoid).collect();
    // The encrypted loss the arbiter decrypts equals the plaintext Taylor loss.
    let loss: Vec<f64> =
        serde_json::from_value(run.arbiter.as_ref().unwrap().summary["loss_history"].clone())
            .unwrap();
    assert_eq!(loss.len(), rloss.len());
    for (a, b) in loss.iter().zip(&rloss) {
        assert!((a - b).abs() < 1e-5, "loss {a} vs reference {b}");
    }
    let ra = auc(&r, frames[0].y.as_ref().unwrap());
    eprintln!(
        "hetero LR breast 10 epochs: AUC {a:.5} (reference {ra:.5}), {:.2} s",
        run.seconds
    );
    // FATE 1's hetero_lr_normal parameters at 10 epochs (rmsprop from zero:
    // the first step is ~10·lr per weight, so the second batch's Taylor loss
    // is large and the first logged loss, the mean over the epoch's two
    // batches, is ~42, exactly as the plaintext reference computes
    // it). The AUC depends on the batch order (0.961–0.993 over 24 orders);
    // FATE 2.2's own breast setting is `hetero_lr_breast_fate22_setting_…`.
    assert!(a >= 0.985, "AUC {a}");
    assert!((a - ra).abs() <= 0.002, "AUC {a} vs reference {ra}");
    for (p, q) in s.iter().zip(&r) {
        assert!((p - q).abs() < 1e-4, "score {p} vs reference {q}");
    }

    // Wire audit: no plaintext feature leaves its owner; the guest's labels
    // only travel inside ciphertexts.
    let gx: Vec<f64> = frames[0].x.concat();
    let hx: Vec<f64> = frames[1].x.concat();
    assert_no_plain(&run.wire, Role::Guest, &gx, "guest feature");
    assert_no_plain(&run.wire, Role::Host, &hx, "host feature");
    for s in &run.wire {
        let allowed: &[&str] = match s.src.role {
            Role::Guest => &[
                "one_vs_rest_classes",
                "batch_info",
                "batch_data_index",
                "fore_gradient",
                "guest_gradient",
                "loss",
            ],
            Role::Host => &[
                "host_forward",
                "loss_intermediate",
                "host_loss_regular",
                "host_gradient",
                "host_prob",
            ],
            _ => &[
                "paillier_pubkey",
                "guest_optim_gradient",
                "host_optim_gradient",
                "converge_flag",
            ],
        };
        assert!(
            allowed.contains(&s.name.as_str()),
            "{} sent {}",
            s.src,
            s.name
        );
    }

    // The host cannot strip its own forward off `fore_gradient`: the guest's
    // part is freshly encrypted, so `d·E⁻¹ mod n²` is no trivial `1 + m·n`.
    let first = |name: &str| -> Vec<u8> {
        run.wire
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .bytes
            .clone()
    };
    let pk: fedflow_crypto::PublicKey =
        fedflow_core::codec::decode(&first("paillier_pubkey")).unwrap();
    let e: Vec<fedflow_crypto::Ciphertext> =
        fedflow_core::codec::decode(&first("host_forward")).unwrap();
    let d: Vec<fedflow_crypto::Ciphertext> =
        fedflow_core::codec::decode(&first("fore_gradient")).unwrap();
    for (di, ei) in d.iter().zip(&e).take(20) {
        let q = di
            .raw()
            .mul_mod(&ei.raw().invert(pk.n_squared()).unwrap(), pk.n_squared());
        let r = q
            .checked_sub(&fedflow_crypto::BigUint::one())
            .unwrap()
            .rem(pk.n());
        assert!(
            !r.is_zero(),
            "fore_gradient reveals the guest's plaintext part"
        );
    }

    // Predict job with the saved models reproduces the training scores.
    let models = (
        run.guest.model.clone().unwrap(),
        vec![run.hosts[0].model.clone().unwrap()],
    );
    let pred = run_job(lr, params, &frames, true, "predict", Some(models));
    let (ps, _) = scores(&pred);
    assert_eq!(ps, s);
    assert!(predictions(&pred.guest)
        .iter()
        .all(|(_, p)| p.kind == "test"));
}

fn check_variant(extra: serde_json::Value, max_iter: u32) {
    let frames = breast();
    let mut params = lr_normal(max_iter);
    for (k, v) in extra.as_object().unwrap() {
        params[k] = v.clone();
    }
    let run = run_job(lr, params.clone(), &frames, true, "train", None);
    let (s, y) = scores(&run);
    let a = auc(&s, &y);
    let param: LinearModelParam = crate::parse_params("x", &params).unwrap();
    let r: Vec<f64> = reference(&frames, &param, Task::Logistic);
    let ra = auc(&r, &y);
    eprintln!("{extra}: AUC {a:.5} reference {ra:.5}");
    assert!(
        (a - ra).abs() <= 0.002,
        "{extra}: AUC {a} vs reference {ra}"
    );
}

#[test]
fn hetero_lr_optimizers_and_penalties_match_reference() {
    check_variant(serde_json::json!({"optimizer": "sgd", "penalty": "L1"}), 3);
    check_variant(
        serde_json::json!({"optimizer": "adam", "batch_size": -1}),
        3,
    );
    check_variant(
        serde_json::json!({"optimizer": "adagrad", "early_stop": "weight_diff", "init_param": {"init_method": "zeros", "fit_intercept": false}}),
        3,
    );
    check_variant(
        serde_json::json!({"early_stop": "abs", "penalty": "none"}),
        3,
    );
}

#[test]
fn hetero_lr_default_credit() {
    let mut frames = vec![
        read_csv("default_credit_hetero_guest.csv", Some("y")),
        read_csv("default_credit_hetero_host.csv", None),
    ];
    align(&mut frames);
    let mut params = lr_normal(2);
    params["batch_size"] = serde_json::json!(5000);
    let run = run_job(lr, params.clone(), &frames, true, "train", None);
    let (s, y) = scores(&run);
    let a = auc(&s, &y);
    let param: LinearModelParam = crate::parse_params("x", &params).unwrap();
    let ra = auc(&reference(&frames, &param, Task::Logistic), &y);
    eprintln!(
        "hetero LR default_credit 2 epochs batch 5000: AUC {a:.5} (reference {ra:.5}), {:.2} s",
        run.seconds
    );
    assert!(a >= 0.70, "AUC {a}");
    assert!((a - ra).abs() <= 0.002);
}

fn linr_params() -> serde_json::Value {
    serde_json::json!({
        "penalty": "L2", "tol": 0.001, "alpha": 0.01, "optimizer": "sgd", "batch_size": -1,
        "learning_rate": 0.15, "encrypt_param": {"key_length": 1024},
        "init_param": {"init_method": "zeros"}, "max_iter": 30, "early_stop": "weight_diff",
        "decay": 0.0, "decay_sqrt": false, "floating_point_precision": 23
    })
}

fn check_linr(frames: &[Frame]) -> (f64, Run) {
    let params = linr_params();
    let run = run_job(linr, params.clone(), frames, true, "train", None);
    let p = predictions(&run.guest);
    let pred: Vec<f64> = p.iter().map(|(_, p)| p.predict_result).collect();
    let y = frames[0].y.clone().unwrap();
    let e = rmse(&pred, &y);
    let param = LinearModelParam::linr_from_json("x", &params).unwrap();
    let re = rmse(&reference(frames, &param, Task::Linear), &y);
    eprintln!(
        "hetero LinR motor ({} hosts): RMSE {e:.5} (reference {re:.5}), {:.2} s",
        frames.len() - 1,
        run.seconds
    );
    assert!((e - re).abs() <= 0.005 * re, "RMSE {e} vs reference {re}");
    (e, run)
}

#[test]
fn hetero_linr_motor_matches_reference_and_predicts_exactly() {
    let mut frames = vec![
        read_csv("motor_hetero_guest.csv", Some("motor_speed")),
        read_csv("motor_hetero_host.csv", None),
    ];
    align(&mut frames);
    let (e, run) = check_linr(&frames);
    assert!(e <= 0.3140, "RMSE {e}");
    let models = (
        run.guest.model.clone().unwrap(),
        vec![run.hosts[0].model.clone().unwrap()],
    );
    let pred = run_job(linr, linr_params(), &frames, true, "predict", Some(models));
    let a: Vec<f64> = predictions(&run.guest)
        .iter()
        .map(|p| p.1.predict_score)
        .collect();
    let b: Vec<f64> = predictions(&pred.guest)
        .iter()
        .map(|p| p.1.predict_score)
        .collect();
    assert_eq!(a, b);
}

#[test]
fn hetero_linr_two_hosts_matches_reference() {
    let mut frames = vec![
        read_csv("motor_hetero_guest.csv", Some("motor_speed")),
        read_csv("motor_hetero_host_1.csv", None),
        read_csv("motor_hetero_host_2.csv", None),
    ];
    align(&mut frames);
    check_linr(&frames);
}

#[test]
fn bad_parameter_names_its_path() {
    let frames = breast();
    let _ = frames;
    let p: Result<LinearModelParam, _> =
        crate::parse_params("hetero_lr_0", &serde_json::json!({"max_iter": "x"}));
    assert!(p.unwrap_err().to_string().contains("hetero_lr_0.max_iter"));
    let p: LinearModelParam =
        crate::parse_params("hetero_lr_0", &serde_json::json!({"optimizer": "lbfgs"})).unwrap();
    assert!(p
        .check("hetero_lr_0")
        .unwrap_err()
        .to_string()
        .contains("optimizer"));
}

/// `cargo test --release -p fedflow-components bench_lr -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_lr_breast() {
    let frames = breast();
    for it in [1, 10] {
        let run = run_job(lr, lr_normal(it), &frames, true, "train", None);
        eprintln!(
            "breast hetero LR {it} epochs (hetero_lr_normal params): {:.2} s",
            run.seconds
        );
    }
}

#[test]
#[ignore]
fn bench_lr_100k() {
    let frames = synthetic(100_000, 10, 20, 7);
    let mut p = lr_normal(3);
    p["batch_size"] = serde_json::json!(-1);
    let run = run_job(lr, p, &frames, true, "train", None);
    let (s, y) = scores(&run);
    eprintln!(
        "100k x (10 + 20) hetero LR 3 full-batch epochs: {:.2} s, AUC {:.4}",
        run.seconds,
        auc(&s, &y)
    );
}

/// Breast with the host's 20 features split over two hosts; a validate set
/// (the last 100 ids, trained on the other 469) is scored in the same
/// output with type `validate`.
#[test]
fn hetero_lr_two_hosts_with_validate_data_matches_reference() {
    let f = breast();
    let split = |fr: &Frame, cols: std::ops::Range<usize>| Frame {
        ids: fr.ids.clone(),
        header: fr.header[cols.clone()].to_vec(),
        x: fr.x.iter().map(|r| r[cols.clone()].to_vec()).collect(),
        y: None,
    };
    let frames = [f[0].clone(), split(&f[1], 0..10), split(&f[1], 10..20)];
    let tail = |fr: &Frame| Frame {
        ids: fr.ids[469..].to_vec(),
        header: fr.header.clone(),
        x: fr.x[469..].to_vec(),
        y: fr.y.as_ref().map(|y| y[469..].to_vec()),
    };
    let head = |fr: &Frame| Frame {
        ids: fr.ids[..469].to_vec(),
        header: fr.header.clone(),
        x: fr.x[..469].to_vec(),
        y: fr.y.as_ref().map(|y| y[..469].to_vec()),
    };
    let validate: Vec<Frame> = frames.iter().map(tail).collect();
    let frames: Vec<Frame> = frames.iter().map(head).collect();
    let mut params = lr_normal(5);
    params["early_stop"] = serde_json::json!("weight_diff");
    let run = run_job_with(
        lr,
        params.clone(),
        &frames,
        Some(&validate),
        true,
        "train",
        None,
    );
    let p = predictions(&run.guest);
    let train: Vec<&Prediction> = p
        .iter()
        .filter(|x| x.1.kind == "train")
        .map(|x| &x.1)
        .collect();
    let val: Vec<&Prediction> = p
        .iter()
        .filter(|x| x.1.kind == "validate")
        .map(|x| &x.1)
        .collect();
    assert_eq!((train.len(), val.len()), (469, 100));
    let s: Vec<f64> = train.iter().map(|p| p.predict_score).collect();
    let y: Vec<f64> = train.iter().map(|p| p.label).collect();
    let a = auc(&s, &y);
    let param: LinearModelParam = crate::parse_params("x", &params).unwrap();
    let ra = auc(&reference(&frames, &param, Task::Logistic), &y);
    eprintln!("hetero LR breast 2 hosts: AUC {a:.5} (reference {ra:.5})");
    assert!((a - ra).abs() <= 0.002, "AUC {a} vs reference {ra}");
    assert_eq!(run.hosts.len(), 2);
}

/// FATE's hetero_lr_one_vs_all example (vehicle, 4 classes, one-vs-rest,
/// nesterov_momentum_sgd), 5 iterations; each class's model matches the
/// centralised reference and a predict job reproduces the scores.
#[test]
fn hetero_lr_one_vs_rest_vehicle() {
    let mut frames = vec![
        read_csv("vehicle_scale_hetero_guest.csv", Some("y")),
        read_csv("vehicle_scale_hetero_host.csv", None),
    ];
    align(&mut frames);
    let params = serde_json::json!({
        "penalty": "L2", "tol": 1e-05, "alpha": 0.0001, "optimizer": "nesterov_momentum_sgd",
        "batch_size": -1, "learning_rate": 0.15, "encrypt_param": {"key_length": 1024},
        "init_param": {"init_method": "zeros"}, "max_iter": 5, "early_stop": "diff",
        "multi_class": "ovr"
    });
    let run = run_job(lr, params.clone(), &frames, true, "train", None);
    let p = predictions(&run.guest);
    let y = frames[0].y.clone().unwrap();
    let acc = p
        .iter()
        .zip(&y)
        .filter(|(p, t)| p.1.predict_result == **t)
        .count() as f64
        / y.len() as f64;
    // Reference: one binary Taylor-LR per class, argmax of the scores.
    let param: LinearModelParam = crate::parse_params("x", &params).unwrap();
    let mut classes = y.clone();
    classes.sort_by(|a, b| a.partial_cmp(b).unwrap());
    classes.dedup();
    let per_class: Vec<Vec<f64>> = classes
        .iter()
        .map(|c| {
            let mut f = frames.clone();
            f[0].y = Some(y.iter().map(|v| if v == c { 1.0 } else { 0.0 }).collect());
            reference(&f, &param, Task::Logistic)
        })
        .collect();
    let racc = (0..y.len())
        .filter(|&i| {
            let bi = (0..classes.len()).fold(0, |a, c| {
                if per_class[c][i] > per_class[a][i] {
                    c
                } else {
                    a
                }
            });
            classes[bi] == y[i]
        })
        .count() as f64
        / y.len() as f64;
    eprintln!(
        "hetero LR one-vs-rest vehicle: accuracy {acc:.5} (reference {racc:.5}), {:.2} s",
        run.seconds
    );
    assert!(
        (acc - racc).abs() <= 0.005,
        "accuracy {acc} vs reference {racc}"
    );
    assert!(acc > 0.4, "accuracy {acc}");
    let models = (
        run.guest.model.clone().unwrap(),
        vec![run.hosts[0].model.clone().unwrap()],
    );
    let pred = run_job(lr, params, &frames, true, "predict", Some(models));
    let a: Vec<f64> = p.iter().map(|x| x.1.predict_score).collect();
    let b: Vec<f64> = predictions(&pred.guest)
        .iter()
        .map(|x| x.1.predict_score)
        .collect();
    assert_eq!(a, b);
}

/// FATE 2.2's own breast example (`examples/pipeline/coordinated_lr/test_lr.py`):
/// 10 epochs, batch_size 300, SGD, L2 α 0.001, zero init with intercept,
/// learning rate 0.1 × a linear factor 0.70 → 0.727 over the 10 epochs
/// (here the constant 0.07 with `decay` 0: FATE 1 parameters have no linear
/// scheduler); batches drawn once from shuffled rows. FATE 2.2 gets 0.9924.
/// The AUC depends on the order of the rows (FATE 2.2 shuffles them
/// unseeded): a plaintext replay of this setting over 40 random orders gave
/// 0.9920–0.9927, median 0.9923; fedflow's default order (seed 0) gives 0.99240.
/// Also checks the first loss: zero weights give exactly ln 2 on the first
/// batch, and the first logged loss (mean over the epoch's batches) is
/// close to it under SGD.
fn fate22_params(seed: u64) -> serde_json::Value {
    serde_json::json!({
        "penalty": "L2", "tol": 0.0001, "alpha": 0.001, "optimizer": "sgd",
        "batch_size": 300, "learning_rate": 0.07, "decay": 0.0,
        "encrypt_param": {"key_length": 1024},
        "init_param": {"init_method": "zeros", "fit_intercept": true, "random_seed": seed},
        "max_iter": 10, "early_stop": "diff"
    })
}

#[test]
fn hetero_lr_breast_fate22_setting_reaches_fate_auc() {
    let frames = breast();
    let params = fate22_params(0);
    let run = run_job(lr, params.clone(), &frames, true, "train", None);
    let (s, y) = scores(&run);
    let a = auc(&s, &y);
    let param: LinearModelParam = crate::parse_params("x", &params).unwrap();
    let (rz, rloss) = reference_full(&frames, &param, Task::Logistic);
    let ra = auc(&rz, &y);
    let loss: Vec<f64> =
        serde_json::from_value(run.arbiter.as_ref().unwrap().summary["loss_history"].clone())
            .unwrap();
    eprintln!(
        "hetero LR breast, FATE 2.2 setting: AUC {a:.5} (reference {ra:.5}), losses {loss:.4?}, {:.2} s",
        run.seconds
    );
    assert_eq!(loss.len(), 10, "no early stop within 10 epochs");
    for (l, r) in loss.iter().zip(&rloss) {
        assert!((l - r).abs() < 1e-5, "loss {l} vs reference {r}");
    }
    assert!(
        loss[0] > 0.6 && loss[0] < std::f64::consts::LN_2,
        "first loss {}",
        loss[0]
    );
    assert!((a - ra).abs() <= 0.002, "AUC {a} vs reference {ra}");
    assert!(a >= 0.9924, "AUC {a}");
}

/// FATE's benchmark_quality setting for motor
/// (`examples/benchmark_quality/linr/linr_config.yaml`): 10 epochs, SGD at a
/// constant 0.13, L2 α 0.01, batch_size 100, zero init with intercept,
/// early_stop diff with tol 1e-5. FATE publishes RMSE 0.31400 on motor.
#[test]
fn hetero_linr_motor_fate_benchmark_setting() {
    let mut frames = vec![
        read_csv("motor_hetero_guest.csv", Some("motor_speed")),
        read_csv("motor_hetero_host.csv", None),
    ];
    align(&mut frames);
    let params = serde_json::json!({
        "penalty": "L2", "tol": 1e-5, "alpha": 0.01, "optimizer": "sgd", "batch_size": 100,
        "learning_rate": 0.13, "decay": 0.0, "encrypt_param": {"key_length": 1024},
        "init_param": {"init_method": "zeros", "fit_intercept": true}, "max_iter": 10,
        "early_stop": "diff"
    });
    let run = run_job(linr, params.clone(), &frames, true, "train", None);
    let p = predictions(&run.guest);
    let y = frames[0].y.clone().unwrap();
    let pred: Vec<f64> = p.iter().map(|x| x.1.predict_score).collect();
    let e = rmse(&pred, &y);
    let param: LinearModelParam = crate::parse_params("x", &params).unwrap();
    let re = rmse(&reference(&frames, &param, Task::Linear), &y);
    eprintln!(
        "hetero LinR motor, FATE benchmark setting: RMSE {e:.5} (reference {re:.5}), {:.2} s",
        run.seconds
    );
    assert!((e - re).abs() <= 0.005 * re, "RMSE {e} vs reference {re}");
    assert!(e <= 0.3140, "RMSE {e}");
}

/// FATE's warm start (`test_hetero_linr_warm_start_job`: hetero_linr_1 gets
/// hetero_linr_0's model next to train_data): 5 iterations, then a warm
/// start to max_iter 15, equals 15 iterations from scratch.
#[test]
fn hetero_linr_warm_start_continues_training() {
    let mut frames = vec![
        read_csv("motor_hetero_guest.csv", Some("motor_speed")),
        read_csv("motor_hetero_host.csv", None),
    ];
    align(&mut frames);
    let with_iters = |n: u32| {
        let mut p = linr_params();
        p["max_iter"] = serde_json::json!(n);
        p["tol"] = serde_json::json!(1e-9);
        p
    };
    let first = run_job(linr, with_iters(5), &frames, true, "train", None);
    let models = (
        first.guest.model.clone().unwrap(),
        vec![
            first.hosts[0].model.clone().unwrap(),
            first.arbiter.as_ref().unwrap().model.clone().unwrap(),
        ],
    );
    let warm = run_job(linr, with_iters(15), &frames, true, "train", Some(models));
    let full = run_job(linr, with_iters(15), &frames, true, "train", None);
    assert_eq!(warm.guest.summary["iters"], 15);
    let loss = |r: &Run| -> Vec<f64> {
        serde_json::from_value(r.arbiter.as_ref().unwrap().summary["loss_history"].clone()).unwrap()
    };
    assert_eq!(
        loss(&warm).len(),
        10,
        "the warm start runs iterations 5..15"
    );
    let (a, b) = (predictions(&warm.guest), predictions(&full.guest));
    for (x, y) in a.iter().zip(&b) {
        assert!((x.1.predict_score - y.1.predict_score).abs() < 1e-9);
    }
    let y = frames[0].y.clone().unwrap();
    let s5: Vec<f64> = predictions(&first.guest)
        .iter()
        .map(|p| p.1.predict_score)
        .collect();
    let s15: Vec<f64> = a.iter().map(|p| p.1.predict_score).collect();
    assert!(rmse(&s15, &y) < rmse(&s5, &y));
}

// ------------------------------------------------------------ the table path

/// HeteroLR / HeteroLinR whose guest takes the table path whatever the row
/// count (threshold 0); hosts and the arbiter get a threshold no table
/// reaches, so that they can only follow the guest's `batch_info`.
struct GuestOnTable(Task);

impl Component for GuestOnTable {
    fn module(&self) -> &'static str {
        self.0.module()
    }
    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let param = match self.0 {
            Task::Logistic => crate::parse_params(&ctx.component_name, &ctx.params)?,
            Task::Linear => LinearModelParam::linr_from_json(&ctx.component_name, &ctx.params)?,
        };
        let min_rows = if ctx.local.role == Role::Guest {
            0
        } else {
            u64::MAX
        };
        run_linear_with(ctx, &param, self.0, Some(min_rows))
    }
}

fn lr_table() -> Box<dyn Component> {
    Box::new(GuestOnTable(Task::Logistic))
}
fn linr_table() -> Box<dyn Component> {
    Box::new(GuestOnTable(Task::Linear))
}

/// A party's model weights (header order) and intercept.
fn model_weights(out: &ComponentOutput) -> (Vec<f64>, f64) {
    let p = &out.model.as_ref().unwrap().param;
    let w: LinearWeights = serde_json::from_value(p.clone()).unwrap();
    (w.ordered(), w.intercept)
}

fn sent(run: &Run, name: &str) -> bool {
    run.wire.iter().any(|s| s.name == name)
}

/// Runs both paths and checks that weights, losses and predictions agree
/// within 1e-6; returns (in-memory, table) runs.
fn compare_paths(
    task: Task,
    params: serde_json::Value,
    frames: &[Frame],
    validate: Option<&[Frame]>,
) -> (Run, Run) {
    type Make = fn() -> Box<dyn Component>;
    let (mem_c, tab_c): (Make, Make) = match task {
        Task::Logistic => (lr, lr_table),
        Task::Linear => (linr, linr_table),
    };
    let mem = run_job_with(mem_c, params.clone(), frames, validate, true, "train", None);
    let tab = run_job_with(tab_c, params, frames, validate, true, "train", None);
    // The in-memory path sends batch ids; the table path does not.
    assert!(sent(&mem, "batch_data_index"));
    assert!(!sent(&tab, "batch_data_index"));
    let close = |a: f64, b: f64, what: &str| {
        assert!((a - b).abs() <= 1e-6, "{what}: in memory {a}, table {b}");
    };
    let pairs = std::iter::once((&mem.guest, &tab.guest)).chain(mem.hosts.iter().zip(&tab.hosts));
    for (i, (a, b)) in pairs.enumerate() {
        let ((wa, ba), (wb, bb)) = (model_weights(a), model_weights(b));
        assert_eq!(wa.len(), wb.len());
        for (x, y) in wa.iter().zip(&wb) {
            close(*x, *y, &format!("party {i} weight"));
        }
        close(ba, bb, &format!("party {i} intercept"));
        assert_eq!(
            a.model.as_ref().unwrap().param["iters"],
            b.model.as_ref().unwrap().param["iters"]
        );
    }
    let la = &mem.arbiter.as_ref().unwrap().summary["loss_history"];
    let lb = &tab.arbiter.as_ref().unwrap().summary["loss_history"];
    let (la, lb): (Vec<f64>, Vec<f64>) = (
        serde_json::from_value(la.clone()).unwrap(),
        serde_json::from_value(lb.clone()).unwrap(),
    );
    assert_eq!(la.len(), lb.len());
    for (x, y) in la.iter().zip(&lb) {
        close(*x, *y, "loss");
    }
    let (pa, pb) = (predictions(&mem.guest), predictions(&tab.guest));
    assert_eq!(pa.len(), pb.len());
    for ((ia, a), (ib, b)) in pa.iter().zip(&pb) {
        assert_eq!(ia, ib);
        assert_eq!((&a.kind, a.predict_result), (&b.kind, b.predict_result));
        assert!(a.label == b.label || (a.label.is_nan() && b.label.is_nan()));
        close(a.predict_score, b.predict_score, "predict_score");
    }
    assert_eq!(
        mem.guest.data[0].schema.header,
        tab.guest.data[0].schema.header
    );
    assert_eq!(mem.guest.data[0].schema.sid, tab.guest.data[0].schema.sid);
    assert_eq!(
        mem.guest.data[0].table.partitions(),
        tab.guest.data[0].table.partitions()
    );
    if task == Task::Logistic {
        let (sa, ya) = scores(&mem);
        let (sb, yb) = scores(&tab);
        let (aa, ab) = (auc(&sa, &ya), auc(&sb, &yb));
        close(aa, ab, "AUC");
        eprintln!(
            "AUC {aa:.6} (in memory) vs {ab:.6} (table); {:.2} s vs {:.2} s",
            mem.seconds, tab.seconds
        );
    } else {
        eprintln!(
            "{:.2} s (in memory) vs {:.2} s (table)",
            mem.seconds, tab.seconds
        );
    }
    (mem, tab)
}

/// Breast, FATE's default HeteroLR parameters (random initial weights,
/// learning rate 0.01: 5 iterations are far from a fit), full batch: the
/// guest alone is told to take the table path; hosts and arbiter follow,
/// and weights, losses and predictions match the in-memory path.
#[test]
fn hetero_lr_table_path_matches_in_memory_breast() {
    let params = serde_json::json!({"max_iter": 5, "batch_size": -1});
    compare_paths(Task::Logistic, params, &breast(), None);
}

#[test]
fn hetero_linr_table_path_matches_in_memory_motor() {
    let mut frames = vec![
        read_csv("motor_hetero_guest.csv", Some("motor_speed")),
        read_csv("motor_hetero_host.csv", None),
    ];
    align(&mut frames);
    let mut params = linr_params();
    params["max_iter"] = serde_json::json!(5);
    compare_paths(Task::Linear, params, &frames, None);
}

/// Two hosts (breast's host features split), with validate data.
#[test]
fn hetero_lr_table_path_two_hosts_with_validate_matches_in_memory() {
    let f = breast();
    let split = |fr: &Frame, cols: std::ops::Range<usize>| Frame {
        ids: fr.ids.clone(),
        header: fr.header[cols.clone()].to_vec(),
        x: fr.x.iter().map(|r| r[cols.clone()].to_vec()).collect(),
        y: None,
    };
    let frames = [f[0].clone(), split(&f[1], 0..10), split(&f[1], 10..20)];
    let part = |fr: &Frame, r: std::ops::Range<usize>| Frame {
        ids: fr.ids[r.clone()].to_vec(),
        header: fr.header.clone(),
        x: fr.x[r.clone()].to_vec(),
        y: fr.y.as_ref().map(|y| y[r.clone()].to_vec()),
    };
    let validate: Vec<Frame> = frames.iter().map(|fr| part(fr, 469..569)).collect();
    let frames: Vec<Frame> = frames.iter().map(|fr| part(fr, 0..469)).collect();
    let mut params = lr_normal(4);
    params["batch_size"] = serde_json::json!(-1);
    params["early_stop"] = serde_json::json!("weight_diff");
    let (_, tab) = compare_paths(Task::Logistic, params, &frames, Some(&validate));
    let (s, y) = scores(&tab);
    assert!(auc(&s, &y) > 0.95, "AUC {}", auc(&s, &y));
    let p = predictions(&tab.guest);
    assert_eq!(p.iter().filter(|x| x.1.kind == "validate").count(), 100);
    assert_eq!(tab.hosts.len(), 2);
}

/// LinR with two hosts (no loss: the arbiter checks weight_diff).
#[test]
fn hetero_linr_table_path_two_hosts_matches_in_memory() {
    let mut frames = vec![
        read_csv("motor_hetero_guest.csv", Some("motor_speed")),
        read_csv("motor_hetero_host_1.csv", None),
        read_csv("motor_hetero_host_2.csv", None),
    ];
    align(&mut frames);
    let mut params = linr_params();
    params["max_iter"] = serde_json::json!(4);
    let (_, tab) = compare_paths(Task::Linear, params, &frames, None);
    assert_eq!(tab.hosts.len(), 2);
}

/// From 20,000 rows on the multipliers are column-scaled (global column
/// max by a reduce, the scale applied after the partitions' sums).
#[test]
fn hetero_lr_table_path_column_scaled_matches_in_memory() {
    let frames = synthetic(20_000, 2, 2, 11);
    let params = serde_json::json!({
        "max_iter": 2, "batch_size": -1, "encrypt_param": {"key_length": 512},
        "optimizer": "sgd", "learning_rate": 0.3, "init_param": {"init_method": "zeros"}
    });
    let (_, tab) = compare_paths(Task::Logistic, params, &frames, None);
    let (s, y) = scores(&tab);
    assert!(auc(&s, &y) > 0.7, "AUC {}", auc(&s, &y));
}

/// Every `hetero_lr.*` op survives its serialised spec (the check of
/// `crates/fedflow/tests/ops_roundtrip.rs`, here without building the binary).
#[test]
fn hetero_lr_table_ops_round_trip() {
    use fedflow_computing::op::{check_round_trip, registry};
    let ops: Vec<_> = registry::all()
        .into_iter()
        .filter(|r| r.name.starts_with("hetero_lr."))
        .collect();
    assert!(ops.len() >= 20, "{} hetero_lr ops", ops.len());
    for reg in ops {
        check_round_trip(reg).unwrap();
    }
}

/// Wall time of both paths on `frames`, one after the other (release):
/// `cargo test --release -p fedflow-components bench_lr_paths -- --ignored --nocapture`
fn bench_paths(what: &str, frames: &[Frame], epochs: u32) {
    let mut p = lr_normal(epochs);
    p["batch_size"] = serde_json::json!(-1);
    for (name, make) in [
        ("in memory", lr as fn() -> Box<dyn Component>),
        ("table", lr_table),
    ] {
        let run = run_job(make, p.clone(), frames, true, "train", None);
        let (s, y) = scores(&run);
        eprintln!(
            "{what} hetero LR {epochs} full-batch epochs, {name}: {:.2} s, AUC {:.6}",
            run.seconds,
            auc(&s, &y)
        );
    }
}

#[test]
#[ignore]
fn bench_lr_paths_breast() {
    bench_paths("breast", &breast(), 10);
}

/// [`bench_lr_100k`] on both paths.
#[test]
#[ignore]
fn bench_lr_paths_100k() {
    bench_paths("100k x (10 + 20)", &synthetic(100_000, 10, 20, 7), 3);
}

#[test]
fn sample_weights_scale_the_residuals_as_the_weighted_plaintext_replay_on_both_paths() {
    let frames = breast();
    let y = frames[0].y.clone().unwrap();
    let n = y.len() as f64;
    let n1 = y.iter().filter(|v| **v > 0.5).count() as f64;
    // SampleWeight's balanced class weights.
    let w: Vec<f64> = y
        .iter()
        .map(|&v| {
            if v > 0.5 {
                n / (2.0 * n1)
            } else {
                n / (2.0 * (n - n1))
            }
        })
        .collect();
    let mut weighted = frames.clone();
    weighted[0].header.push(WEIGHT_COLUMN.into());
    for (r, wi) in weighted[0].x.iter_mut().zip(&w) {
        r.push(*wi);
    }
    let params = lr_normal(5);
    let param: LinearModelParam = crate::parse_params("x", &params).unwrap();
    let (rz, _) = reference_weighted(&frames, &param, Task::Logistic, Some(&w));
    let (uz, _) = reference_full(&frames, &param, Task::Logistic);
    let run = run_job(lr, params, &weighted, true, "train", None);
    let (s, _) = scores(&run);
    for (p, z) in s.iter().zip(&rz) {
        let q = sigmoid(*z);
        assert!((p - q).abs() < 1e-4, "score {p} vs weighted reference {q}");
    }
    // The weights matter: the unweighted replay is far off.
    let gap = rz
        .iter()
        .zip(&uz)
        .map(|(a, b)| (sigmoid(*a) - sigmoid(*b)).abs())
        .fold(0.0, f64::max);
    assert!(gap > 1e-2, "weighted and unweighted models differ by {gap}");
    // Weights never leave the guest.
    assert_no_plain(&run.wire, Role::Guest, &w, "sample weight");
    // The table path weighs the same way.
    let mut full = lr_normal(3);
    full["batch_size"] = serde_json::json!(-1);
    compare_paths(Task::Logistic, full, &weighted, None);
}
