//! The path storage engine (`LOCALFS`) end to end, on the standalone engine
//! and on a real Spark cluster (a standalone master and worker on 127.0.0.1,
//! Spark from `scripts/spark.sh`): tables uploaded to `file://` addresses,
//! read by Spark executors straight from the files, outputs saved by Spark to
//! the path root, and the same rows as the standalone engine's run.

mod common;
use common::*;
use fedflow_computing::Session;
use fedflow_core::{Party, Role};
use fedflow_spark::cluster::LocalCluster;
use fedflow_spark::SparkSession;
use fedflow_storage::{StorageContext, StoreAddress, TableMeta};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn guest() -> Party {
    Party::new(Role::Guest, 9999)
}

/// Uploads breast guest/host to `file://<dir>/in/<name>` as LOCALFS tables.
fn upload_localfs(data: &Path, dir: &Path) {
    for name in ["breast_hetero_guest", "breast_hetero_host"] {
        let address = dir.join("in").join(name);
        let up = serde_json::json!({"file": shared().join(format!("data/{name}.csv")), "head": 1,
            "partition": 3, "table_name": name, "namespace": "experiment",
            "storage_engine": "LOCALFS", "storage_address": {"path": address}});
        let c = write(dir, &format!("{name}.json"), &up.to_string());
        let o = fedflow(data, &["data", "upload", "-c", c.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = fedflow(
            data,
            &["table", "info", "-t", name, "-n", "experiment", "--json"],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(info["engine"], "LOCALFS", "{info}");
        assert_eq!(info["count"], 569, "{info}");
        assert_eq!(
            info["address"]["uri"],
            format!("file://{}", address.display()),
            "{info}"
        );
        assert!(address.join("part-00002").is_file());
    }
}

/// Runs Reader → DataTransform → Intersection with `common` job parameters
/// and `--save-outputs`; returns the job id.
fn run_job(data: &Path, dir: &Path, common: serde_json::Value) -> String {
    let dsl = serde_json::json!({"components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {"module": "DataTransform", "input": {"data": {"data": ["reader_0.data"]}}, "output": {"data": ["data"], "model": ["model"]}},
        "intersection_0": {"module": "Intersection", "input": {"data": {"data": ["data_transform_0.data"]}}, "output": {"data": ["data"]}}
    }});
    let conf = serde_json::json!({"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000]},
    "job_parameters": {"common": common},
    "component_parameters": {"role": {
        "guest": {"0": {"reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}}, "data_transform_0": {"with_label": true}}},
        "host": {"0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}}, "data_transform_0": {"with_label": false}}}
    }}});
    let o = job_run(data, dir, "job", &conf, &dsl, &["--save-outputs"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["status"], "success", "{r}");
    r["job_id"].as_str().unwrap().to_string()
}

/// The guest's stored output of `cpn`: its meta, checked to be a LOCALFS
/// table whose files are at the recorded address under `root`.
fn output_meta(ctx: &StorageContext, job: &str, cpn: &str, root: &str) -> TableMeta {
    let name = fedflow_flow::task::output_table_name(job, cpn, guest(), 0);
    let meta = ctx
        .meta
        .get_table_meta(fedflow_flow::task::OUTPUT_NAMESPACE, &name)
        .unwrap()
        .unwrap_or_else(|| panic!("no output table {name}"));
    assert_eq!(meta.engine, "LOCALFS");
    let StoreAddress::Path { uri } = &meta.address else {
        panic!("{cpn}: not a path address: {:?}", meta.address)
    };
    assert_eq!(uri, &format!("{root}/output_data/{name}"));
    let dir = PathBuf::from(uri.strip_prefix("file://").unwrap());
    let parts = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("part-")
        })
        .count();
    assert!(parts >= 1, "{cpn}: no part files in {}", dir.display());
    assert!(dir.join("_SUCCESS").is_file(), "{cpn}: no _SUCCESS");
    meta
}

/// Every partition's bytes of a stored table.
fn partitions(ctx: &StorageContext, meta: &TableMeta) -> Vec<Vec<u8>> {
    ctx.read_table(&meta.namespace, &meta.name)
        .unwrap()
        .iter()
        .map(|b| b.encoded().to_vec())
        .collect()
}

fn download(data: &Path, meta: &TableMeta, out: &Path) -> String {
    let o = fedflow(
        data,
        &[
            "data",
            "download",
            "-n",
            &meta.namespace,
            "-t",
            &meta.name,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn path_storage_on_spark_and_standalone() {
    ensure_spark();
    if std::env::var_os("FEDFLOW_SPARK_START_TIMEOUT").is_none() {
        std::env::set_var("FEDFLOW_SPARK_START_TIMEOUT", "300");
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    upload_localfs(&data, dir.path());
    let ctx = StorageContext::open_local(&data).unwrap();
    let root = ctx.path_root.clone();
    assert_eq!(root, format!("file://{}/localfs", data.display()));

    // 1. Standalone: reads the file:// tables through storage, saves outputs
    //    to the path root.
    let t = Instant::now();
    let standalone = run_job(
        &data,
        dir.path(),
        serde_json::json!({"computing_engine": "STANDALONE", "storage_engine": "LOCALFS"}),
    );
    eprintln!("standalone job in {:.1}s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let cluster = LocalCluster::start(&dir.path().join("cluster"), 3, "3g", None)
        .expect("start a local Spark cluster");
    let master = cluster.master_url().to_string();
    eprintln!("cluster up in {:.1}s", t.elapsed().as_secs_f64());

    // 2. Spark: executors read the uploaded files, and write the outputs.
    let t = Instant::now();
    let spark = run_job(
        &data,
        dir.path(),
        serde_json::json!({"computing_engine": "SPARK", "storage_engine": "LOCALFS",
            "spark_run": {"master": master, "total-executor-cores": 1}}),
    );
    eprintln!("spark job in {:.1}s", t.elapsed().as_secs_f64());

    for cpn in ["reader_0", "data_transform_0", "intersection_0"] {
        let (a, b) = (
            output_meta(&ctx, &standalone, cpn, &root),
            output_meta(&ctx, &spark, cpn, &root),
        );
        assert_eq!((a.count, b.count), (569, 569), "{cpn}");
        assert_eq!((a.partitions, b.partitions), (3, 3), "{cpn}");
        // Both engines give identical partitions, byte for byte.
        assert_eq!(partitions(&ctx, &a), partitions(&ctx, &b), "{cpn}");
        assert_eq!(a.schema, b.schema, "{cpn}");
    }
    // Spark wrote its output files itself (Spark's file names, not fedflow's).
    let name = fedflow_flow::task::output_table_name(&spark, "intersection_0", guest(), 0);
    let spark_files: Vec<String> = std::fs::read_dir(data.join("localfs/output_data").join(&name))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        spark_files.iter().any(|f| f.ends_with(".txt")),
        "{spark_files:?}"
    );
    // Download of the Reader's output (raw rows): the same CSV on both engines.
    let (a, b) = (
        output_meta(&ctx, &standalone, "reader_0", &root),
        output_meta(&ctx, &spark, "reader_0", &root),
    );
    let (csv_a, csv_b) = (
        download(&data, &a, &dir.path().join("a.csv")),
        download(&data, &b, &dir.path().join("b.csv")),
    );
    assert_eq!(csv_a.lines().count(), 570, "header + 569 rows");
    assert_eq!(csv_a, csv_b);

    // 3. One application: load a path table, save it elsewhere, read it back
    //    through storage; a missing path fails naming it.
    let t = Instant::now();
    let session = SparkSession::new("paths", spark_options(&dir.path().join("work"), &master))
        .expect("spark session");
    let guest_uri = format!(
        "file://{}",
        dir.path().join("in/breast_hetero_guest").display()
    );
    let table = session
        .load_path(&guest_uri, 3)
        .unwrap()
        .expect("spark reads paths");
    assert_eq!(table.count().unwrap(), 569);
    let copy = dir.path().join("copy");
    assert!(table
        .save_path(&format!("file://{}", copy.display()))
        .unwrap());
    let uploaded = ctx.read_table("experiment", "breast_hetero_guest").unwrap();
    let copied =
        fedflow_storage::path::read_path_table(&format!("file://{}", copy.display())).unwrap();
    assert_eq!(
        uploaded.iter().map(|b| b.encoded()).collect::<Vec<_>>(),
        copied.iter().map(|b| b.encoded()).collect::<Vec<_>>()
    );
    let missing = format!("file://{}", dir.path().join("no/such/table").display());
    let e = session
        .load_path(&missing, 3)
        .err()
        .expect("a missing path must fail")
        .to_string();
    assert!(e.contains(&missing) && e.lines().count() == 1, "{e}");
    drop(table);
    session.stop().unwrap();
    eprintln!(
        "load/save in one application in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    drop(cluster);

    // 4. Standalone: a table whose files are gone, and an hdfs:// table,
    //    fail the Reader in one line naming the address.
    let gone = dir.path().join("in/breast_hetero_host");
    std::fs::remove_dir_all(&gone).unwrap();
    let mut hdfs = ctx
        .meta
        .get_table_meta("experiment", "breast_hetero_guest")
        .unwrap()
        .unwrap();
    hdfs.address = StoreAddress::Path {
        uri: "hdfs://namenode:8020/fate/input_data/experiment/breast_hetero_guest".into(),
    };
    hdfs.engine = "HDFS".into();
    ctx.meta.update_table_meta(&hdfs).unwrap();
    let o = run_failing(&data, dir.path());
    assert!(
        o.contains("hdfs://namenode:8020/fate/input_data/experiment/breast_hetero_guest")
            && o.contains("needs the Spark engine"),
        "{o}"
    );
    assert!(o.contains(&format!("file://{}", gone.display())), "{o}");
}

/// Runs the job on standalone expecting it to fail; returns its output.
fn run_failing(data: &Path, dir: &Path) -> String {
    let dsl = serde_json::json!({"components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}}}});
    let conf = serde_json::json!({"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000]},
    "component_parameters": {"role": {
        "guest": {"0": {"reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}}}},
        "host": {"0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}}}}
    }}});
    let o = job_run(data, dir, "fail", &conf, &dsl, &[]);
    assert!(!o.status.success(), "{}", stdout(&o));
    format!("{}\n{}", stdout(&o), stderr(&o))
}
