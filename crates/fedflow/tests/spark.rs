//! End to end on a real Spark cluster: a standalone master and one worker on
//! 127.0.0.1 (Spark from `scripts/spark.sh`), started once for all checks and
//! stopped at the end, also when a check fails.

mod common;
use common::*;
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{parallelize, Session};
use fedflow_spark::cluster::LocalCluster;
use fedflow_spark::conformance::{self, FailOn};
use fedflow_spark::{SparkOptions, SparkSession};
use std::path::Path;
use std::time::{Duration, Instant};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Installs Spark into .venv-spark if needed; fails loudly if it cannot.
fn ensure_spark() {
    let st = std::process::Command::new(repo().join("scripts/spark.sh"))
        .status()
        .expect("run scripts/spark.sh");
    assert!(
        st.success(),
        "scripts/spark.sh failed: Spark cannot be installed"
    );
}

fn options(work: &Path, master: &str) -> SparkOptions {
    let mut o = SparkOptions::new(work);
    o.master = Some(master.to_string());
    o.worker_binary = Some(env!("CARGO_BIN_EXE_fedflow").into());
    o.submit_args = vec!["--total-executor-cores".into(), "1".into()];
    o
}

#[test]
fn spark_engine_on_a_real_cluster() {
    ensure_spark();
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
    let spark = SparkSession::new("conformance", options(&work, &master)).expect("spark session");
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
    spark.stop().unwrap();
    drop(a);

    // 3. An unreachable master ends within the start timeout, with the cause.
    let t = Instant::now();
    let mut o = options(&work, "spark://127.0.0.1:9");
    o.start_timeout = Duration::from_secs(8);
    let e = SparkSession::new("unreachable", o)
        .err()
        .expect("must fail")
        .to_string();
    assert!(e.contains("no Spark executor registered within"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());

    // 4. No Spark install: a clear error.
    let mut o = options(&work, &master);
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

    // 7. A component pipeline (Reader, DataTransform, Intersection,
    //    HeteroFeatureBinning on breast) on Spark equals standalone.
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
    let dsl = serde_json::json!({"components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {"module": "DataTransform", "input": {"data": {"data": ["reader_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "intersection_0": {"module": "Intersection", "input": {"data": {"data": ["data_transform_0.data"]}}, "output": {"data": ["data"]}},
        "hetero_feature_binning_0": {"module": "HeteroFeatureBinning", "input": {"data": {"data": ["intersection_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}}
    }});
    let pipeline = |engine: serde_json::Value| {
        let conf = serde_json::json!({"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "job_parameters": {"common": engine},
        "component_parameters": {
            "common": {"hetero_feature_binning_0": {"method": "quantile", "bin_num": 6}},
            "role": {
                "guest": {"0": {"reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}}, "data_transform_0": {"with_label": true}}},
                "host": {"0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}}, "data_transform_0": {"with_label": false}}}
            }}});
        let c = write(&jdir, "conf.json", &conf.to_string());
        let d = write(&jdir, "dsl.json", &dsl.to_string());
        let o = fedflow(
            &jdir,
            &[
                "job",
                "run",
                "-c",
                c.to_str().unwrap(),
                "-d",
                d.to_str().unwrap(),
                "--json",
            ],
        );
        assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r["status"], "success", "{r}");
        r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["component"].to_string(),
                    t["party"].to_string(),
                    t["summary"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let want = pipeline(serde_json::json!({"computing_engine": "STANDALONE"}));
    let got = pipeline(serde_json::json!({"computing_engine": "SPARK",
        "spark_run": {"master": master, "total-executor-cores": 1, "conf": {"spark.pyspark.python": "python3"}}}));
    assert_eq!(want.len(), 8);
    let binning = want
        .iter()
        .find(|t| t.0.contains("binning") && t.1.contains("guest"))
        .unwrap();
    assert!(
        binning.2["iv"].as_object().is_some_and(|iv| iv.len() == 10),
        "{:?}",
        binning.2
    );
    assert_eq!(want, got, "pipeline on spark differs from standalone");
    eprintln!(
        "pipeline on standalone and spark in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // 8. The worker dying mid-job: the job is cancelled once no executor is
    //    left for lost_timeout, and the call fails with that cause.
    let mut o = options(&work, &master);
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
