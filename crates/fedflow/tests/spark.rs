//! End to end on a real Spark cluster: a standalone master and one worker on
//! 127.0.0.1 (Spark from `scripts/spark.sh`), started once for all checks and
//! stopped at the end, also when a check fails.

mod common;
use common::*;
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{parallelize, Session};
use fedflow_spark::cluster::LocalCluster;
use fedflow_spark::conformance::{self, FailOn};
use fedflow_spark::SparkSession;
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn spark_engine_on_a_real_cluster() {
    ensure_spark();
    // Several applications start at once (a job's parties): on a loaded
    // machine their executors can take longer than the default 60 s. Set
    // before any thread or child starts; children inherit it.
    if std::env::var_os("FEDFLOW_SPARK_START_TIMEOUT").is_none() {
        std::env::set_var("FEDFLOW_SPARK_START_TIMEOUT", "300");
    }
    // HeteroLR's full-batch training runs as table ops from 0 rows on (the
    // default threshold is 1M rows): Algo::LrTable below.
    std::env::set_var("FEDFLOW_LR_TABLE_MIN_ROWS", "0");
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let cluster = LocalCluster::start(&dir.path().join("cluster"), 4, "4g", None)
        .expect("start a local Spark cluster");
    eprintln!("cluster up in {:.1}s", t.elapsed().as_secs_f64());
    let master = cluster.master_url().to_string();
    let work = dir.path().join("work");

    // 1. Every Table operation gives what the standalone engine gives: the same
    //    rows, in the same order within each partition.
    let t = Instant::now();
    let spark =
        SparkSession::new("conformance", spark_options(&work, &master)).expect("spark session");
    assert!(
        spark.app_info().app_id.starts_with("app-"),
        "{:?}",
        spark.app_info()
    );
    let standalone = StandaloneSession::new("conformance", StandaloneOptions::default()).unwrap();
    let want = conformance::run_all(&standalone, 300, 4).unwrap();
    let got = conformance::run_all(&spark, 300, 4).expect("ops on spark");
    assert_eq!(want.len(), got.len());
    for ((name, w), (_, g)) in want.iter().zip(&got) {
        assert!(
            !w.iter().all(|p| p.is_empty()) || name == "reduce_empty",
            "{name} empty"
        );
        assert_eq!(w, g, "{name}: spark differs from standalone");
    }
    eprintln!("conformance in {:.1}s", t.elapsed().as_secs_f64());

    // 2. An op failing on an executor fails the call with the op's message.
    let a = parallelize(&spark, (0..50u64).map(|k| (k, k as f64)).collect(), 2).unwrap();
    let e = a.map_values(FailOn(7.0)).unwrap_err().to_string();
    assert!(
        e.contains("conformance_fail_on") && e.contains("value 7 is not allowed"),
        "{e}"
    );
    // The session is still usable afterwards.
    assert_eq!(a.count().unwrap(), 50);
    drop(a);

    // 2b. Disk: a stored table's lineage is cut (`spark.fedflow.lineage`
    //     local), so Spark's shuffle files go once the step that wrote them
    //     is done (with lineage they stay while any table computed from them
    //     lives), and a dropped table's blocks go with it.
    let local = dir.path().join("cluster/local");
    let x = parallelize(&spark, (0..64u64).map(|k| (k, k as f64)).collect(), 4).unwrap();
    let y = x.map_values(conformance::Affine(2.0, 1.0)).unwrap();
    let big = y.map_values(conformance::Inflate(64 << 10)).unwrap();
    drop((x, y));
    let (shuffles, stored) = wait_for_disk(&local, |s, b| s == 0 && b < 8 << 20);
    assert_eq!(
        shuffles,
        0,
        "shuffle files left under {} ({stored} bytes stored)",
        local.display()
    );
    // `big` (4 MiB of incompressible values, base64 in Spark) is all that is stored.
    assert!(
        (4 << 20..8 << 20).contains(&stored),
        "{stored} bytes stored"
    );
    assert_eq!(big.count().unwrap(), 64);
    drop(big);
    let (_, stored) = wait_for_disk(&local, |s, b| s == 0 && b == 0);
    assert_eq!(
        stored,
        0,
        "a dropped table's blocks stay under {}",
        local.display()
    );
    spark.stop().unwrap();

    // 3. An unreachable master ends within the start timeout, with the cause.
    let t = Instant::now();
    let mut o = spark_options(&work, "spark://127.0.0.1:9");
    o.start_timeout = Duration::from_secs(8);
    let e = SparkSession::new("unreachable", o)
        .err()
        .expect("must fail")
        .to_string();
    assert!(e.contains("no Spark executor registered within"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());

    // 3b. A bad `spark.fedflow.storageLevel` (where tables are persisted) or
    //     `spark.fedflow.lineage` is refused at start, naming each key and
    //     what was expected.
    let mut o = spark_options(&work, &master);
    o.conf
        .push(("spark.fedflow.storageLevel".into(), "ON_TAPE".into()));
    o.conf
        .push(("spark.fedflow.lineage".into(), "forever".into()));
    let e = SparkSession::new("badlevel", o)
        .err()
        .expect("must fail")
        .to_string();
    assert!(
        e.contains("spark.fedflow.storageLevel: unknown Spark storage level 'ON_TAPE'"),
        "{e}"
    );
    assert!(
        e.contains("spark.fedflow.lineage: unknown value 'forever' (expected one of local, none)"),
        "{e}"
    );

    // 4. No Spark install: a clear error.
    let mut o = spark_options(&work, &master);
    o.spark_home = Some(dir.path().join("nowhere"));
    let e = SparkSession::new("nospark", o)
        .err()
        .expect("must fail")
        .to_string();
    assert!(e.starts_with("Spark not found:"), "{e}");

    // 5. The worker binary rejects malformed input instead of skipping it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fedflow"))
        .args(["worker", &fedflow_spark::worker::Step::Subtract.to_arg()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"0\t0\t1\tnot-base64\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("fedflow worker: line 1: field rows: expected base64")
            && err.lines().count() == 1,
        "{err}"
    );
    // 6. The toy job on Spark gives the standalone result (same shares, sums).
    let t = Instant::now();
    let toy = |extra: &[&str]| {
        let mut args = vec!["toy", "--data-num", "2000", "--partition", "3"];
        args.extend_from_slice(extra);
        let o = fedflow(&dir.path().join("toy"), &args);
        assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        let sums: Vec<String> = out
            .lines()
            .filter(|l| l.contains("secure_add_example_0"))
            .flat_map(|l| l.split_whitespace().filter(|t| t.contains("_sum=")))
            .map(str::to_string)
            .collect();
        (sums, out)
    };
    let (standalone_sums, _) = toy(&[]);
    let (spark_sums, out) = toy(&["--backend", "spark", "--spark-master", &master]);
    assert_eq!(standalone_sums, spark_sums, "{out}");
    assert!(spark_sums[0].contains("secure_sum=4000.0"), "{out}");
    assert_eq!(out.matches("spark application app-").count(), 2, "{out}");
    eprintln!("toy on spark in {:.1}s", t.elapsed().as_secs_f64());

    // 7. The breast tables, for the jobs of step 8.
    let t = Instant::now();
    let jdir = dir.path().join("pipeline");
    std::fs::create_dir_all(&jdir).unwrap();
    for name in ["breast_hetero_guest", "breast_hetero_host"] {
        let up = serde_json::json!({"file": shared().join(format!("data/{name}.csv")), "head": 1,
            "partition": 3, "table_name": name, "namespace": "experiment"});
        let c = write(&jdir, &format!("{name}.json"), &up.to_string());
        let o = fedflow(&jdir, &["data", "upload", "-c", c.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // 8. One job: Reader, DataTransform, Intersection, then
    //    HeteroFeatureBinning, HeteroLR and HeteroSecureBoost (both evaluated).
    //    On Spark it gives the standalone engine's summaries (binning IVs,
    //    intersection counts), models, predictions and metrics.
    let want = run_algos(&jdir, serde_json::json!({"computing_engine": "STANDALONE"}));
    let binning = tasks_of(&want)
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["component"] == "hetero_feature_binning_0" && t["party"]["role"] == "guest")
        .cloned()
        .expect("the guest's binning task");
    assert!(
        binning["summary"]["iv"]
            .as_object()
            .is_some_and(|iv| iv.len() == 10),
        "{binning}"
    );
    let got = run_algos(
        &jdir,
        serde_json::json!({"computing_engine": "SPARK",
            "spark_run": {"master": master, "total-executor-cores": 1}}),
    );
    assert_close(&tasks_of(&want), &tasks_of(&got), "tasks");
    // Guest and host tasks name their party's application; the arbiter
    // touches no table, so it starts none (sessions start lazily).
    for t in got["tasks"].as_array().unwrap() {
        let app = t["engine_info"]
            .as_str()
            .is_some_and(|i| i.starts_with("spark application app-"));
        assert_eq!(app, t["party"]["role"] != "arbiter", "{t}");
    }
    for algo in [Algo::Lr, Algo::LrTable, Algo::SecureBoost] {
        assert_algo_runs_equal(&jdir, algo, &want, &got);
    }
    eprintln!(
        "binning, HeteroLR, HeteroSecureBoost on standalone and spark in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // 8b. The other components in one job (FederatedSample, FeatureScale,
    //     DataStatistics, HeteroPearson, PSI, binning + HeteroFeatureSelection,
    //     OneHotEncoder, HeteroLinR on its table path): on Spark every task's
    //     summary, every party's model and every output table equal the
    //     standalone engine's.
    let t = Instant::now();
    let want = run_features(&jdir, serde_json::json!({"computing_engine": "STANDALONE"}));
    let got = run_features(
        &jdir,
        serde_json::json!({"computing_engine": "SPARK",
            "spark_run": {"master": master, "total-executor-cores": 1}}),
    );
    assert_close(&tasks_of(&want), &tasks_of(&got), "feature tasks");
    let sample = tasks_of(&want)
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["component"] == "federated_sample_0" && t["party"]["role"] == "guest")
        .cloned()
        .expect("the guest's sample task");
    assert!(sample["summary"].to_string().contains("count"), "{sample}");
    for cpn in FEATURE_COMPONENTS {
        assert_models_and_outputs_equal(&jdir, cpn, &want, &got);
    }
    eprintln!(
        "sample, scale, statistics, pearson, psi, selection, one-hot, LinR on standalone and spark in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // 8c. The horizontal family: FATE's HomoLR train job (DataTransform,
    //     FeatureScale, HomoLR over secure aggregation, Evaluation) plus a
    //     HomoFeatureBinning and a HomoSecureBoost give the same models and
    //     outputs on Spark.
    let t = Instant::now();
    for name in ["breast_homo_guest", "breast_homo_host"] {
        let up = serde_json::json!({"file": shared().join(format!("data/{name}.csv")), "head": 1,
            "partition": 3, "table_name": name, "namespace": "experiment"});
        let c = write(&jdir, &format!("{name}.json"), &up.to_string());
        let o = fedflow(&jdir, &["data", "upload", "-c", c.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let homo = |engine: serde_json::Value| {
        let ex = shared().join("examples/fate/homo_logistic_regression");
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(ex.join(f)).unwrap()).unwrap()
        };
        let (mut conf, mut dsl) = (
            read("homo_lr_train_conf.json"),
            read("homo_lr_train_dsl.json"),
        );
        conf["component_parameters"]["common"]["homo_lr_0"]["max_iter"] = serde_json::json!(5);
        // HomoFeatureBinning's stats and rank queries as named ops on the executors.
        dsl["components"]["homo_binning_0"] = serde_json::json!({"module": "HomoFeatureBinning",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]}});
        conf["component_parameters"]["common"]["homo_binning_0"] =
            serde_json::json!({"method": "virtual_summary", "sample_bins": 1000});
        // HomoSecureBoost: its recursive-query binning as named ops, trees from
        // securely summed histograms.
        dsl["components"]["homo_secureboost_0"] = serde_json::json!({"module": "HomoSecureBoost",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]}});
        conf["component_parameters"]["common"]["homo_secureboost_0"] = serde_json::json!({
            "task_type": "classification", "num_trees": 2, "tree_param": {"max_depth": 3}});
        conf["job_parameters"] = serde_json::json!({"common": engine});
        run_saving_outputs(&jdir, "homo", &conf, &dsl)
    };
    let want = homo(serde_json::json!({"computing_engine": "STANDALONE"}));
    let got = homo(serde_json::json!({"computing_engine": "SPARK",
        "spark_run": {"master": master, "total-executor-cores": 1}}));
    assert_close(&tasks_of(&want), &tasks_of(&got), "homo tasks");
    for cpn in [
        "scale_0",
        "homo_lr_0",
        "homo_binning_0",
        "homo_secureboost_0",
    ] {
        assert_models_and_outputs_equal(&jdir, cpn, &want, &got);
    }
    eprintln!(
        "HomoLR, HomoFeatureBinning and HomoSecureBoost on standalone and spark in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // 9. An executor running out of memory: a partition (one Spark row) larger
    //    than the executor's 512m heap fails the call, in one line naming the
    //    op and the remedy, without hanging (Spark alone would retry it on new
    //    executors for minutes).
    let mut o = spark_options(&work, &master);
    o.submit_args
        .extend(["--executor-memory".to_string(), "512m".to_string()]);
    let spark = SparkSession::new("oom", o).expect("spark session");
    let a = parallelize(&spark, vec![(0u64, 1.0f64)], 1).unwrap();
    let t = Instant::now();
    let e = a
        .map_values(conformance::Inflate(400 << 20))
        .expect_err("a 400 MiB partition must not fit a 512m executor")
        .to_string();
    assert!(
        e.contains("Spark executor ran out of memory (")
            && e.contains("in op 'conformance_inflate': raise spark_run executor-memory or use more partitions")
            && e.lines().count() == 1,
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(240), "{:?}", t.elapsed());
    eprintln!(
        "executor out of memory reported in {:.1}s: {e}",
        t.elapsed().as_secs_f64()
    );
    drop(a);
    drop(spark);

    // 10. The worker dying mid-job: the job is cancelled once no executor is
    //    left for lost_timeout, and the call fails with that cause.
    let mut o = spark_options(&work, &master);
    o.lost_timeout = Duration::from_secs(5);
    let spark = SparkSession::new("worker_dies", o).expect("spark session");
    let a = parallelize(&spark, (0..100u64).map(|k| (k, k as f64)).collect(), 2).unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-9", &cluster.info().worker_pid.to_string()])
        .status();
    let t = Instant::now();
    let e = a
        .map_values(conformance::Affine(1.0, 1.0))
        .expect_err("must fail without executors")
        .to_string();
    assert!(e.contains("no live Spark executor for 5s"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(90), "{:?}", t.elapsed());
    drop(a);
    drop(spark);
    drop(cluster);
}

#[derive(Clone, Copy, Debug)]
enum Algo {
    /// Mini-batches: trained in the task process.
    Lr,
    /// Full batch: trained as table ops (the table path, forced for this job
    /// by FEDFLOW_LR_TABLE_MIN_ROWS=0), i.e. on the executors.
    LrTable,
    SecureBoost,
}

impl Algo {
    fn module(self) -> &'static str {
        match self {
            Algo::Lr | Algo::LrTable => "HeteroLR",
            Algo::SecureBoost => "HeteroSecureBoost",
        }
    }

    fn component(self) -> &'static str {
        match self {
            Algo::Lr => "hetero_lr_0",
            Algo::LrTable => "hetero_lr_1",
            Algo::SecureBoost => "hetero_secure_boost_0",
        }
    }

    /// Small settings: LR 3 iterations, SecureBoost 2 trees of depth 3, 1024-bit keys.
    fn params(self) -> serde_json::Value {
        match self {
            Algo::Lr => serde_json::json!({"penalty": "L2", "alpha": 0.01, "optimizer": "rmsprop",
                "batch_size": 320, "learning_rate": 0.15, "max_iter": 3, "early_stop": "diff",
                "init_param": {"init_method": "random_uniform", "random_seed": 7},
                "encrypt_param": {"key_length": 1024}}),
            Algo::LrTable => {
                serde_json::json!({"penalty": "L2", "alpha": 0.01, "optimizer": "rmsprop",
                "batch_size": -1, "learning_rate": 0.15, "max_iter": 3, "early_stop": "diff",
                "init_param": {"init_method": "random_uniform", "random_seed": 7},
                "encrypt_param": {"key_length": 1024}})
            }
            Algo::SecureBoost => serde_json::json!({"num_trees": 2, "bin_num": 16,
                "tree_param": {"max_depth": 3}, "subsample_feature_rate": 0.8, "random_seed": 3,
                "objective_param": {"objective": "cross_entropy"},
                "encrypt_param": {"key_length": 1024}}),
        }
    }
}

/// Spark's shuffle files and the bytes of stored blocks under an executor
/// scratch dir, polled (the cleaner works asynchronously) until `done` or 60 s.
fn wait_for_disk(local: &Path, done: impl Fn(usize, u64) -> bool) -> (usize, u64) {
    fn walk(d: &Path, out: &mut (usize, u64)) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                walk(&p, out);
            } else if name.starts_with("shuffle_") {
                out.0 += 1;
            } else if name.starts_with("rdd_") {
                out.1 += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    let t = Instant::now();
    loop {
        let mut found = (0, 0);
        walk(local, &mut found);
        if done(found.0, found.1) || t.elapsed() > Duration::from_secs(60) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Reader → DataTransform → Intersection (ECDH) → HeteroFeatureBinning, HeteroLR and
/// HeteroSecureBoost → Evaluation of both, on the breast tables uploaded to `dir`, with `engine`
/// as the common job parameters; outputs stored. Returns the job's report.
fn run_algos(dir: &Path, engine: serde_json::Value) -> serde_json::Value {
    let (lr, lrt, sbt) = (
        Algo::Lr.component(),
        Algo::LrTable.component(),
        Algo::SecureBoost.component(),
    );
    let dsl = serde_json::json!({"components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {"module": "DataTransform", "input": {"data": {"data": ["reader_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "intersection_0": {"module": "Intersection", "input": {"data": {"data": ["data_transform_0.data"]}}, "output": {"data": ["data"]}},
        "hetero_feature_binning_0": {"module": "HeteroFeatureBinning", "input": {"data": {"data": ["intersection_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        lr: {"module": "HeteroLR", "input": {"data": {"train_data": ["intersection_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        lrt: {"module": "HeteroLR", "input": {"data": {"train_data": ["intersection_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        sbt: {"module": "HeteroSecureBoost", "input": {"data": {"train_data": ["intersection_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "evaluation_0": {"module": "Evaluation", "input": {"data": {"data": [format!("{lr}.data"), format!("{lrt}.data"), format!("{sbt}.data")]}}, "output": {"data": ["data"]}}
    }});
    let conf = serde_json::json!({"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
    "job_parameters": {"common": engine},
    "component_parameters": {
        "common": {lr: Algo::Lr.params(), lrt: Algo::LrTable.params(), sbt: Algo::SecureBoost.params(),
            "intersection_0": {"intersect_method": "ecdh"},
            "hetero_feature_binning_0": {"method": "quantile", "bin_num": 6},
            "evaluation_0": {"eval_type": "binary"}},
        "role": {
            "guest": {"0": {"reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}}, "data_transform_0": {"with_label": true}}},
            "host": {"0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}}, "data_transform_0": {"with_label": false}}}
        }}});
    run_saving_outputs(dir, "algo", &conf, &dsl)
}

/// Runs a job with `--save-outputs`; it must succeed. Its report.
fn run_saving_outputs(
    dir: &Path,
    tag: &str,
    conf: &serde_json::Value,
    dsl: &serde_json::Value,
) -> serde_json::Value {
    let o = job_run(dir, dir, tag, conf, dsl, &["--save-outputs"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["status"], "success", "{report}");
    report
}

/// The components of [`run_features`] after the intersection.
const FEATURE_COMPONENTS: [&str; 9] = [
    "federated_sample_0",
    "feature_scale_0",
    "data_statistics_0",
    "hetero_pearson_0",
    "psi_0",
    "hetero_feature_binning_0",
    "hetero_feature_selection_0",
    "one_hot_0",
    "hetero_linr_0",
];

/// Reader → DataTransform → Intersection → FederatedSample (stratified
/// upsample, seeded) → FeatureScale (min-max, cap) → DataStatistics,
/// HeteroPearson, PSI (intersection vs sample), HeteroFeatureBinning (bin
/// indexes) → HeteroFeatureSelection (IV top 6) → OneHotEncoder, and
/// HeteroLinR (full batch: the table path) on the scaled data; on the breast
/// tables of `dir`, outputs stored. Returns the job's report.
fn run_features(dir: &Path, engine: serde_json::Value) -> serde_json::Value {
    let dsl = serde_json::json!({"components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {"module": "DataTransform", "input": {"data": {"data": ["reader_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "intersection_0": {"module": "Intersection", "input": {"data": {"data": ["data_transform_0.data"]}}, "output": {"data": ["data"]}},
        "federated_sample_0": {"module": "FederatedSample", "input": {"data": {"data": ["intersection_0.data"]}}, "output": {"data": ["data"]}},
        "feature_scale_0": {"module": "FeatureScale", "input": {"data": {"data": ["federated_sample_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "data_statistics_0": {"module": "DataStatistics", "input": {"data": {"data": ["feature_scale_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "hetero_pearson_0": {"module": "HeteroPearson", "input": {"data": {"data": ["feature_scale_0.data"]}}, "output": {"model": ["model"]}},
        "psi_0": {"module": "PSI", "input": {"data": {"train_data": ["intersection_0.data"], "validate_data": ["federated_sample_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "hetero_feature_binning_0": {"module": "HeteroFeatureBinning", "input": {"data": {"data": ["feature_scale_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "hetero_feature_selection_0": {"module": "HeteroFeatureSelection", "input": {"data": {"data": ["hetero_feature_binning_0.data"]}, "isometric_model": ["hetero_feature_binning_0.model"]}, "output": {"data": ["data"], "model": ["model"]}},
        "one_hot_0": {"module": "OneHotEncoder", "input": {"data": {"data": ["hetero_feature_selection_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "hetero_linr_0": {"module": "HeteroLinR", "input": {"data": {"train_data": ["feature_scale_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}}
    }});
    let conf = serde_json::json!({"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
    "job_parameters": {"common": engine},
    "component_parameters": {
        "common": {
            "intersection_0": {"intersect_method": "ecdh"},
            "federated_sample_0": {"mode": "stratified", "method": "upsample",
                "fractions": [[0, 1.5], [1, 2.0]], "random_state": 42},
            "feature_scale_0": {"method": "min_max_scale", "mode": "cap", "feat_upper": 1, "feat_lower": 0},
            "hetero_feature_binning_0": {"method": "quantile", "bin_num": 6,
                "transform_param": {"transform_cols": -1, "transform_type": "bin_num"}},
            "hetero_feature_selection_0": {"filter_methods": ["iv_filter"],
                "iv_param": {"filter_type": "top_k", "threshold": 6}},
            "hetero_linr_0": {"penalty": "L2", "alpha": 0.01, "optimizer": "sgd", "batch_size": -1,
                "learning_rate": 0.15, "max_iter": 3, "early_stop": "diff",
                "init_param": {"init_method": "zeros"}, "encrypt_param": {"key_length": 1024}}},
        "role": {
            "guest": {"0": {"reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}}, "data_transform_0": {"with_label": true}}},
            "host": {"0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}}, "data_transform_0": {"with_label": false}}}
        }}});
    run_saving_outputs(dir, "features", &conf, &dsl)
}

/// `cpn`'s model (every party's) and its stored output tables (guest's and
/// host's, every row byte for byte) agree between the two job reports.
fn assert_models_and_outputs_equal(
    dir: &Path,
    cpn: &str,
    want: &serde_json::Value,
    got: &serde_json::Value,
) {
    use fedflow_core::{Party, Role};
    let storage = fedflow_storage::StorageContext::open_local(dir).unwrap();
    let (mut models_seen, mut tables_seen) = (0, 0);
    for party in [
        Party::new(Role::Guest, 9999),
        Party::new(Role::Host, 10000),
        Party::new(Role::Arbiter, 10000),
    ] {
        if assert_model_equal(dir, cpn, party, want, got) {
            models_seen += 1;
        }
        let rows = |r: &serde_json::Value| {
            let name =
                fedflow_flow::task::output_table_name(r["job_id"].as_str().unwrap(), cpn, party, 0);
            storage
                .read_table(fedflow_flow::task::OUTPUT_NAMESPACE, &name)
                .ok()
                .map(|blocks| {
                    let mut rows: Vec<(Vec<u8>, Vec<u8>)> = blocks
                        .iter()
                        .flat_map(|b| b.iter())
                        .map(|(k, v)| (k.to_vec(), v.to_vec()))
                        .collect();
                    rows.sort();
                    rows
                })
        };
        let (w, g) = (rows(want), rows(got));
        assert_eq!(w.is_some(), g.is_some(), "{cpn} output of {party}");
        if let (Some(w), Some(g)) = (w, g) {
            assert!(!w.is_empty(), "{cpn} output of {party} is empty");
            assert_eq!(w.len(), g.len(), "{cpn} output rows of {party}");
            let differ = w.iter().zip(&g).filter(|(a, b)| a != b).count();
            assert_eq!(differ, 0, "{cpn} output of {party}: {differ} rows differ");
            tables_seen += 1;
        }
    }
    // Every one of them outputs data (the guest's at least), most a model too.
    assert!(
        tables_seen >= 1 && models_seen + tables_seen >= 2,
        "{cpn}: too little compared (models {models_seen}, tables {tables_seen})"
    );
}

/// `cpn`'s model of `party` is in both job reports' models or in neither,
/// and equal (numbers within 1e-9); whether there was one.
fn assert_model_equal(
    dir: &Path,
    cpn: &str,
    party: fedflow_core::Party,
    want: &serde_json::Value,
    got: &serde_json::Value,
) -> bool {
    let models = fedflow_flow::ModelStore::new(dir);
    let load = |r: &serde_json::Value| {
        models
            .load(
                r["model_id"].as_str().unwrap(),
                r["model_version"].as_str().unwrap(),
                party,
                cpn,
            )
            .unwrap()
    };
    let (w, g) = (load(want), load(got));
    assert_eq!(w.is_some(), g.is_some(), "{cpn} model of {party}");
    let (Some(w), Some(g)) = (w, g) else {
        return false;
    };
    assert_eq!(w.module, g.module);
    assert_close(&w.meta, &g.meta, &format!("{cpn} {party} meta"));
    assert_close(&w.param, &g.param, &format!("{cpn} {party} param"));
    true
}

/// Every task's outcome: summary and metrics (times and the Spark app aside).
fn tasks_of(report: &serde_json::Value) -> serde_json::Value {
    report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            serde_json::json!({"component": t["component"], "party": t["party"],
                "status": t["status"], "summary": t["summary"], "metrics": t["metrics"]})
        })
        .collect()
}

/// `a` and `b` equal, numbers within 1e-9 (absolute).
fn assert_close(a: &serde_json::Value, b: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9, "{path}: {x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths differ");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                assert_close(p, q, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let kx: Vec<&String> = x.keys().collect();
            let ky: Vec<&String> = y.keys().collect();
            assert_eq!(kx, ky, "{path}: keys differ");
            for (k, p) in x {
                assert_close(p, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

/// `algo`'s evaluation, its model (every party's: weights, trees) and its
/// predictions agree between the two job reports.
fn assert_algo_runs_equal(
    dir: &Path,
    algo: Algo,
    want: &serde_json::Value,
    got: &serde_json::Value,
) {
    use fedflow_core::{Party, Role};
    let cpn = algo.component();
    let guest = Party::new(Role::Guest, 9999);

    // Evaluation: the metrics are there and good (the task lists are compared
    // as a whole by the caller).
    let tasks = tasks_of(want);
    let eval = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["component"] == "evaluation_0" && t["party"]["role"] == "guest")
        .expect("the guest's evaluation");
    let auc = eval["summary"][cpn]["auc"].as_f64().unwrap_or(0.0);
    assert!(auc > 0.9, "{} auc {auc}: {eval}", algo.module());
    let curves = eval["metrics"]
        .as_array()
        .map(|m| m.iter().filter(|m| m.to_string().contains(cpn)).count())
        .unwrap_or(0);
    assert!(curves >= 4, "{cpn}: evaluation metrics expected: {eval}");

    // Models: every weight / tree of every party.
    let compared = [
        guest,
        Party::new(Role::Host, 10000),
        Party::new(Role::Arbiter, 10000),
    ]
    .into_iter()
    .filter(|&party| assert_model_equal(dir, cpn, party, want, got))
    .count();
    assert!(compared >= 2, "{cpn}: models of guest and host expected");

    // Predictions: the guest's stored output table, row by row.
    let storage = fedflow_storage::StorageContext::open_local(dir).unwrap();
    let predictions = |r: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        let name =
            fedflow_flow::task::output_table_name(r["job_id"].as_str().unwrap(), cpn, guest, 0);
        let blocks = storage
            .read_table(fedflow_flow::task::OUTPUT_NAMESPACE, &name)
            .unwrap();
        let mut rows: Vec<(String, serde_json::Value)> = blocks
            .iter()
            .flat_map(|b| b.iter())
            .map(|(k, v)| {
                let id: String = fedflow_core::codec::decode(k).unwrap();
                let p: fedflow_components::Prediction = fedflow_core::codec::decode(v).unwrap();
                (id, serde_json::to_value(p).unwrap())
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    };
    let (pw, pg) = (predictions(want), predictions(got));
    assert_eq!(pw.len(), 569, "{cpn}: predictions of breast");
    assert_eq!(pw.len(), pg.len());
    for ((iw, w), (ig, g)) in pw.iter().zip(&pg) {
        assert_eq!(iw, ig);
        assert_close(w, g, &format!("{cpn} prediction {iw}"));
    }
}
