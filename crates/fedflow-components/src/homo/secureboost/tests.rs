//! HomoSecureBoost against a plaintext replay of xgboost's algorithm on the
//! pooled rows (written with loops over raw values and thresholds, no
//! histograms), a wire audit, warm start, predict without federation, and
//! the errors.

use super::*;
use crate::hetero_lr::harness::{self, read_csv, Frame};
use crate::tree::{gain, leaf_weight};
use crate::ModelData;

fn make() -> Box<dyn Component> {
    Box::new(HomoSecureBoost)
}

fn frames(stem: &str) -> Vec<Frame> {
    vec![
        read_csv(&format!("{stem}_homo_guest.csv"), Some("y")),
        read_csv(&format!("{stem}_homo_host.csv"), Some("y")),
    ]
}

fn model(out: &ComponentOutput) -> HomoSbtModel {
    serde_json::from_value(out.model.as_ref().unwrap().param.clone()).unwrap()
}

/// A replayed node: its split `(feature, threshold index, missing left)`,
/// children, weights.
#[derive(Debug)]
struct RNode {
    split: Option<(usize, usize, bool)>,
    children: Option<(usize, usize)>,
    weight: Vec<f64>,
}

struct Replay {
    trees: Vec<(Vec<RNode>, usize)>,
    scores: Vec<Vec<f64>>,
}

struct Setup<'a> {
    x: &'a [Vec<f64>],
    y: &'a [f64],
    sps: &'a [Vec<f64>],
    objective: Objective,
    rounds: usize,
    depth: usize,
    lr: f64,
    lambda: f64,
    multi_output: bool,
    use_missing: bool,
}

/// xgboost on the pooled rows with the given thresholds: per node every
/// (feature, threshold, missing direction) by brute force, gain summed over
/// the outputs, first best kept; a threshold whose bin holds no row is no
/// candidate (the same partition as the one before it).
fn replay(s: &Setup<'_>) -> Replay {
    let n = s.x.len();
    let k = s.objective.dims();
    let init = match s.objective {
        Objective::Lse => vec![s.y.iter().sum::<f64>() / n as f64],
        _ => vec![0.0; k],
    };
    let mut scores = vec![init; n];
    let mut trees = Vec::new();
    let (boosters, dims) = if k > 1 && s.multi_output {
        (1, k)
    } else {
        (k, 1)
    };
    for _ in 0..s.rounds {
        let gh: Vec<Vec<(f64, f64)>> = scores
            .iter()
            .zip(s.y)
            .map(|(z, &t)| (0..k).map(|c| s.objective.grad_hess(z, t, c)).collect())
            .collect();
        for b in 0..boosters {
            let cls: Vec<usize> = if dims == 1 { vec![b] } else { (0..k).collect() };
            let sum = |rows: &[usize]| -> (Vec<f64>, Vec<f64>) {
                let g = cls
                    .iter()
                    .map(|&c| rows.iter().map(|&i| gh[i][c].0).sum())
                    .collect();
                let h = cls
                    .iter()
                    .map(|&c| rows.iter().map(|&i| gh[i][c].1).sum())
                    .collect();
                (g, h)
            };
            let weight = |rows: &[usize]| -> Vec<f64> {
                let (g, h) = sum(rows);
                g.iter()
                    .zip(&h)
                    .map(|(&g, &h)| leaf_weight(g, h, s.lambda))
                    .collect()
            };
            let all: Vec<usize> = (0..n).collect();
            let mut nodes = vec![RNode {
                split: None,
                children: None,
                weight: weight(&all),
            }];
            let mut members = vec![all];
            let mut layer = vec![0usize];
            for _ in 0..s.depth {
                let mut next = Vec::new();
                for &id in &layer {
                    let rows = members[id].clone();
                    if rows.len() < 2 {
                        continue;
                    }
                    let (g, h) = sum(&rows);
                    let mut best: Option<(f64, usize, usize, bool, Vec<usize>)> = None;
                    for (j, sp) in s.sps.iter().enumerate() {
                        let missing: Vec<usize> = rows
                            .iter()
                            .copied()
                            .filter(|&i| s.x[i][j].is_nan())
                            .collect();
                        let dirs: &[bool] = if s.use_missing && !missing.is_empty() {
                            &[false, true]
                        } else {
                            &[false]
                        };
                        for bi in 0..=sp.len() {
                            let hi = sp.get(bi).copied().unwrap_or(f64::INFINITY);
                            let in_bin = rows
                                .iter()
                                .any(|&i| bin(s.x[i][j], sp, s.use_missing) == Some(bi));
                            if !in_bin {
                                continue;
                            }
                            for &ml in dirs {
                                let left: Vec<usize> = rows
                                    .iter()
                                    .copied()
                                    .filter(|&i| {
                                        let v = s.x[i][j];
                                        if v.is_nan() {
                                            if s.use_missing {
                                                ml
                                            } else {
                                                true
                                            }
                                        } else {
                                            v <= hi
                                        }
                                    })
                                    .collect();
                                if left.is_empty() || left.len() == rows.len() {
                                    continue;
                                }
                                let (gl, hl) = sum(&left);
                                let gn: f64 = (0..dims)
                                    .map(|d| gain(g[d], h[d], gl[d], hl[d], s.lambda))
                                    .sum();
                                if best.as_ref().is_none_or(|b| gn > b.0) {
                                    best = Some((gn, j, bi, ml, left));
                                }
                            }
                        }
                    }
                    let Some((gn, j, bi, ml, left)) = best else {
                        continue;
                    };
                    if gn <= 1e-3 {
                        continue;
                    }
                    let right: Vec<usize> =
                        rows.iter().copied().filter(|i| !left.contains(i)).collect();
                    let (l, r) = (nodes.len(), nodes.len() + 1);
                    for side in [&left, &right] {
                        nodes.push(RNode {
                            split: None,
                            children: None,
                            weight: weight(side),
                        });
                    }
                    members.push(left);
                    members.push(right);
                    nodes[id].split = Some((j, bi, ml || !s.use_missing));
                    nodes[id].children = Some((l, r));
                    next.extend([l, r]);
                }
                if next.is_empty() {
                    break;
                }
                layer = next;
            }
            for (id, rows) in members.iter().enumerate() {
                if nodes[id].split.is_none() {
                    for &i in rows {
                        for (d, &c) in cls.iter().enumerate() {
                            scores[i][c] += s.lr * nodes[id].weight[d];
                        }
                    }
                }
            }
            trees.push((nodes, if dims == 1 { b } else { 0 }));
        }
    }
    Replay { trees, scores }
}

/// A value's bin: `#{s < v}`; missing: its own slot (None) with
/// `use_missing`, else bin 0.
fn bin(v: f64, sp: &[f64], use_missing: bool) -> Option<usize> {
    if v.is_nan() {
        return (!use_missing).then_some(0);
    }
    Some(sp.iter().filter(|&&s| s < v).count())
}

fn pooled(frames: &[Frame]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let x = frames.iter().flat_map(|f| f.x.clone()).collect();
    let y = frames.iter().flat_map(|f| f.y.clone().unwrap()).collect();
    (x, y)
}

/// The trained model on every client equals the replay's trees, and the
/// training predictions its scores.
fn assert_equals_replay(run: &harness::Run, frames: &[Frame], s: &Setup<'_>) {
    let m = model(&run.guest);
    for h in &run.hosts {
        assert_eq!(model(h), m, "every client holds the same model");
    }
    let r = replay(s);
    assert_eq!(m.trees.len(), r.trees.len());
    for (t, (mt, (rt, class))) in m.trees.iter().zip(&r.trees).enumerate() {
        assert_eq!(mt.class, *class);
        assert_eq!(mt.nodes.len(), rt.len(), "tree {t}: node count");
        for (a, b) in mt.nodes.iter().zip(rt) {
            let split = a
                .fid
                .map(|f| (f as usize, a.bid.unwrap() as usize, a.missing_left));
            assert_eq!(split, b.split, "tree {t} node {}", a.id);
            assert_eq!(
                a.left.zip(a.right).map(|(l, r)| (l as usize, r as usize)),
                b.children
            );
            assert_eq!(a.weight.len(), b.weight.len());
            for (wa, wb) in a.weight.iter().zip(&b.weight) {
                assert!(
                    (wa - wb).abs() < 1e-9,
                    "tree {t} node {}: {wa} vs {wb}",
                    a.id
                );
            }
            if let (Some(f), Some(b)) = (a.fid, a.bid) {
                assert_eq!(a.threshold, Some(m.split_points[f as usize][b as usize]));
            }
        }
    }
    // Scores: the model's on each party's rows equal the replay's.
    let mut off = 0;
    for (f, out) in frames
        .iter()
        .zip(std::iter::once(&run.guest).chain(&run.hosts))
    {
        let preds = harness::predictions(out);
        let by_id: BTreeMap<&str, &crate::Prediction> =
            preds.iter().map(|(k, p)| (k.as_str(), p)).collect();
        for (i, id) in f.ids.iter().enumerate() {
            let z = &r.scores[off + i];
            let want = crate::tree::prediction(m.objective, &m.classes, 0.5, 0.0, z, "train");
            let got = by_id[id.as_str()];
            assert!(
                (got.predict_score - want.predict_score).abs() < 1e-9,
                "row {id}: {} vs {}",
                got.predict_score,
                want.predict_score
            );
            if m.objective == Objective::Lse {
                assert!((got.predict_result - want.predict_result).abs() < 1e-9);
            } else {
                assert_eq!(got.predict_result, want.predict_result, "row {id}");
            }
        }
        off += f.x.len();
    }
}

fn class_index(y: &[f64], classes: &[f64]) -> Vec<f64> {
    y.iter()
        .map(|v| classes.iter().position(|c| c == v).unwrap() as f64)
        .collect()
}

fn no_stop() -> serde_json::Value {
    serde_json::json!({"n_iter_no_change": false})
}

fn with(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[test]
fn binary_equals_the_plaintext_replay_on_the_pooled_rows() {
    let f = frames("breast");
    let p = with(
        no_stop(),
        serde_json::json!({"num_trees": 3, "tree_param": {"max_depth": 3}}),
    );
    let run = harness::run_job(make, p, &f, true, "train", None);
    let m = model(&run.guest);
    let (x, y) = pooled(&f);
    // Thresholds lie inside every column's pooled range.
    for (j, sp) in m.split_points.iter().enumerate() {
        let lo = x.iter().map(|r| r[j]).fold(f64::INFINITY, f64::min);
        let hi = x.iter().map(|r| r[j]).fold(f64::NEG_INFINITY, f64::max);
        assert!(sp.iter().all(|&s| s >= lo && s < hi), "column {j}");
        assert!(sp.windows(2).all(|w| w[0] < w[1]));
        assert!(
            sp.len() >= 16,
            "column {j}: {} thresholds of 32 bins",
            sp.len()
        );
    }
    let y = class_index(&y, &m.classes);
    let s = Setup {
        x: &x,
        y: &y,
        sps: &m.split_points,
        objective: Objective::Binary,
        rounds: 3,
        depth: 3,
        lr: 0.3,
        lambda: 0.1,
        multi_output: false,
        use_missing: false,
    };
    assert_equals_replay(&run, &f, &s);
    let preds = harness::predictions(&run.guest);
    let scores: Vec<f64> = preds.iter().map(|p| p.1.predict_score).collect();
    let labels: Vec<f64> = preds.iter().map(|p| p.1.label).collect();
    assert!(harness::auc(&scores, &labels) > 0.97);
}

#[test]
fn multi_class_single_and_multi_output_equal_the_replay() {
    let f = frames("vehicle_scale");
    for mode in ["single_output", "multi_output"] {
        let p = with(
            no_stop(),
            serde_json::json!({"num_trees": 2, "multi_mode": mode, "tree_param": {"max_depth": 2}}),
        );
        let run = harness::run_job(make, p, &f, true, "train", None);
        let m = model(&run.guest);
        assert_eq!(m.classes, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(m.trees.len(), if mode == "multi_output" { 2 } else { 8 });
        let (x, y) = pooled(&f);
        let y = class_index(&y, &m.classes);
        let s = Setup {
            x: &x,
            y: &y,
            sps: &m.split_points,
            objective: Objective::Multi(4),
            rounds: 2,
            depth: 2,
            lr: 0.3,
            lambda: 0.1,
            multi_output: mode == "multi_output",
            use_missing: false,
        };
        assert_equals_replay(&run, &f, &s);
    }
}

#[test]
fn regression_starts_from_the_pooled_mean_and_equals_the_replay() {
    let f = frames("student");
    let p = with(
        no_stop(),
        serde_json::json!({"task_type": "regression", "objective_param": {"objective": "lse"}, "num_trees": 3}),
    );
    let run = harness::run_job(make, p, &f, true, "train", None);
    let m = model(&run.guest);
    let (x, y) = pooled(&f);
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    assert!((m.init_score[0] - mean).abs() < 1e-9);
    let s = Setup {
        x: &x,
        y: &y,
        sps: &m.split_points,
        objective: Objective::Lse,
        rounds: 3,
        depth: 3,
        lr: 0.3,
        lambda: 0.1,
        multi_output: false,
        use_missing: false,
    };
    assert_equals_replay(&run, &f, &s);
}

#[test]
fn missing_values_take_the_better_side_as_the_replay() {
    let mut f = frames("breast");
    // Knock out a tenth of the values of the first columns, on both parties.
    for (p, fr) in f.iter_mut().enumerate() {
        for (i, r) in fr.x.iter_mut().enumerate() {
            for (j, v) in r.iter_mut().enumerate().take(5) {
                if (i * 7 + j * 3 + p) % 10 == 0 {
                    *v = f64::NAN;
                }
            }
        }
    }
    let p = with(
        no_stop(),
        serde_json::json!({"num_trees": 2, "use_missing": true}),
    );
    let run = harness::run_job(make, p, &f, true, "train", None);
    let m = model(&run.guest);
    assert!(m.use_missing);
    let (x, y) = pooled(&f);
    let y = class_index(&y, &m.classes);
    let s = Setup {
        x: &x,
        y: &y,
        sps: &m.split_points,
        objective: Objective::Binary,
        rounds: 2,
        depth: 3,
        lr: 0.3,
        lambda: 0.1,
        multi_output: false,
        use_missing: true,
    };
    assert_equals_replay(&run, &f, &s);
}

#[test]
fn warm_start_continues_to_the_same_trees_and_predict_needs_no_federation() {
    let f = frames("breast");
    let base = with(
        no_stop(),
        serde_json::json!({"tree_param": {"max_depth": 2}}),
    );
    let three = harness::run_job(
        make,
        with(base.clone(), serde_json::json!({"num_trees": 3})),
        &f,
        true,
        "train",
        None,
    );
    let one = harness::run_job(
        make,
        with(base.clone(), serde_json::json!({"num_trees": 1})),
        &f,
        true,
        "train",
        None,
    );
    let models = |r: &harness::Run| {
        let mut hs: Vec<ModelData> = r.hosts.iter().map(|h| h.model.clone().unwrap()).collect();
        hs.push(r.arbiter.as_ref().unwrap().model.clone().unwrap());
        (r.guest.model.clone().unwrap(), hs)
    };
    let warm = harness::run_job(
        make,
        with(base.clone(), serde_json::json!({"num_trees": 2})),
        &f,
        true,
        "train",
        Some(models(&one)),
    );
    let (a, b) = (model(&warm.guest), model(&three.guest));
    assert_eq!(a.trees.len(), 3);
    assert_eq!(a.split_points, b.split_points);
    for (ta, tb) in a.trees.iter().zip(&b.trees) {
        for (na, nb) in ta.nodes.iter().zip(&tb.nodes) {
            assert_eq!((na.fid, na.bid), (nb.fid, nb.bid));
            assert!((na.weight[0] - nb.weight[0]).abs() < 1e-9);
        }
    }
    assert_eq!(a.loss_history.len(), 3);
    // Predict: every client scores its rows locally, as training did.
    let pred = harness::run_job(make, base, &f, true, "predict", Some(models(&three)));
    assert!(pred.wire.is_empty(), "{} messages", pred.wire.len());
    let (p, t) = (
        harness::predictions(&pred.hosts[0]),
        harness::predictions(&three.hosts[0]),
    );
    assert_eq!(p.len(), t.len());
    for ((ka, pa), (kb, pb)) in p.iter().zip(&t) {
        assert_eq!(ka, kb);
        assert!((pa.predict_score - pb.predict_score).abs() < 1e-12);
    }
}

#[test]
fn the_arbiter_sees_only_masked_histograms() {
    let f = frames("breast");
    let run = harness::run_job(
        make,
        with(no_stop(), serde_json::json!({"num_trees": 1})),
        &f,
        true,
        "train",
        None,
    );
    for (fr, role) in f.iter().zip([Role::Guest, Role::Host]) {
        // The client's own root Σg (initial scores 0: Σ(0.5 − y)) and its
        // row count, encoded as the aggregation would send them in clear.
        let y = fr.y.as_ref().unwrap();
        let g: f64 = y.iter().map(|&t| 0.5 - t).sum();
        let rows = fr.x.len() as f64;
        let secrets = [g, rows, 0.25 * rows];
        for s in run.wire.iter().filter(|s| s.src.role == role) {
            assert!(s.dst.iter().all(|d| d.role == Role::Arbiter));
            assert!(
                [
                    "homo_sbt_meta",
                    "homo_sbt_bins",
                    "homo_binning_columns",
                    "homo_binning_converged",
                    "secagg_pubkey",
                    "secagg_masked"
                ]
                .contains(&s.name.as_str()),
                "{role} sent {}",
                s.name
            );
            if s.name == "secagg_masked" {
                for v in secrets {
                    let enc = fedflow_crypto::secagg::encode(v).unwrap().to_le_bytes();
                    assert!(
                        !s.bytes.windows(16).any(|w| w == enc),
                        "{role}: {v} unmasked"
                    );
                }
            }
        }
        harness::assert_no_plain(&run.wire, role, &fr.x[0], "a feature row");
    }
}

#[test]
fn bad_input_fails_every_party_naming_the_cause() {
    let f = frames("breast");
    let mut other = f.clone();
    other[1].header[3] = "other".into();
    let err = run_err(serde_json::json!({}), &other);
    assert!(err.contains("other") && err.contains("features"), "{err}");
    for (p, key) in [
        (
            serde_json::json!({"zero_as_missing": true}),
            "zero_as_missing",
        ),
        (
            serde_json::json!({"early_stopping_rounds": 2}),
            "early_stopping_rounds",
        ),
        (serde_json::json!({"multi_mode": "both"}), "multi_mode"),
        (serde_json::json!({"no_such_key": 1}), "no_such_key"),
    ] {
        let e = HomoSecureBoost
            .check_params("sbt", Role::Guest, &p)
            .unwrap_err();
        assert!(e.to_string().contains(key), "{e}");
    }
}

/// Runs a training whose clients fail; returns the guest's error.
fn run_err(params: serde_json::Value, frames: &[Frame]) -> String {
    harness::run_job_err(make, params, frames, true)
}
