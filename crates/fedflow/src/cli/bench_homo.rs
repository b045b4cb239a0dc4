//! `fedflow bench homo`: the horizontal family at scale. A synthetic homo
//! split (`data gen --homo`) is uploaded for a guest and its hosts, then
//! three whole `job run` processes are timed: HomoLR (full batch, `--epochs`)
//! with its evaluation, HomoFeatureBinning (virtual_summary) and
//! HomoSecureBoost (5 trees, depth 5, 32 bins) with its evaluation. Each job's
//! peak RSS is the `job run` process's VmHWM (every party runs in it).

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn fedflow(dir: &Path, args: &[&str]) -> Result<std::process::Output> {
    let out = Command::new(std::env::current_exe()?)
        .arg("--data-dir")
        .arg(dir)
        .args(["--log", "warn"])
        .args(args)
        .output()
        .context("running fedflow")?;
    if !out.status.success() {
        bail!(
            "fedflow {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// Runs `job run` on `conf`/`dsl`, sampling its peak RSS; returns (seconds,
/// peak MiB, its JSON output).
fn timed_job(dir: &Path, name: &str, conf: &Value, dsl: &Value) -> Result<(f64, f64, Value)> {
    let c = dir.join(format!("{name}_conf.json"));
    let d = dir.join(format!("{name}_dsl.json"));
    std::fs::write(&c, conf.to_string())?;
    std::fs::write(&d, dsl.to_string())?;
    let t = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .arg("--data-dir")
        .arg(dir)
        .args(["--log", "warn", "job", "run", "--json", "-c"])
        .arg(&c)
        .arg("-d")
        .arg(&d)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some((hwm, _)) = super::bench::proc_mem_kb(pid) {
                    peak.fetch_max(hwm, std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let out = child.wait_with_output()?;
    let secs = t.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.join();
    if !out.status.success() {
        bail!(
            "{name} job failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let mib = peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0;
    Ok((secs, mib, v))
}

fn conf(parties: usize, params: Value) -> Value {
    let hosts: Vec<u64> = (1..parties as u64).map(|k| 10000 + k - 1).collect();
    let mut host_params = serde_json::Map::new();
    for k in 1..parties {
        host_params.insert(
            (k - 1).to_string(),
            json!({"reader_0": {"table": {"name": format!("homo_p{k}"), "namespace": "bench"}}}),
        );
    }
    json!({
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": hosts, "arbiter": [9998]},
        "component_parameters": {
            "role": {
                "guest": {"0": {"reader_0": {"table": {"name": "homo_p0", "namespace": "bench"}}}},
                "host": host_params,
            },
            "common": params,
        }
    })
}

fn dsl(last: &[(&str, &str, &str)]) -> Value {
    let mut c = json!({
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {"module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]}},
    });
    for (name, module, input) in last {
        let slot = if *module == "HomoLR" || *module == "HomoSecureBoost" {
            "train_data"
        } else {
            "data"
        };
        c[*name] = json!({"module": module, "input": {"data": {slot: [input]}},
            "output": {"data": ["data"], "model": ["model"]}});
    }
    json!({ "components": c })
}

/// The first number under a key named `key`, anywhere in `v`.
fn find_number(v: &Value, key: &str) -> Option<f64> {
    match v {
        Value::Object(m) => m
            .iter()
            .find_map(|(k, x)| if k == key { x.as_f64() } else { None })
            .or_else(|| m.values().find_map(|x| find_number(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find_number(x, key)),
        _ => None,
    }
}

/// `fedflow bench homo`.
pub fn bench_homo(
    rows: u64,
    features: usize,
    parties: usize,
    epochs: u32,
    partitions: u64,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let files = super::gen::generate_homo(rows, features, parties, 7, &dir.path().join("gen"))?;
    println!(
        "homo split: {rows} rows x {features} features over {parties} parties, generated in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for (k, f) in files.iter().enumerate() {
        let up = json!({"file": f, "head": 1, "partition": partitions,
            "table_name": format!("homo_p{k}"), "namespace": "bench"});
        let p = dir.path().join(format!("up_{k}.json"));
        std::fs::write(&p, up.to_string())?;
        fedflow(
            dir.path(),
            &["data", "upload", "-c", p.to_str().unwrap_or_default()],
        )?;
    }
    println!(
        "uploaded {parties} tables ({partitions} partitions) in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let lr = json!({
        "data_transform_0": {"with_label": true, "output_format": "dense"},
        "homo_lr_0": {"penalty": "L2", "alpha": 0.01, "optimizer": "sgd", "batch_size": -1,
            "learning_rate": 0.15, "init_param": {"init_method": "zeros"}, "max_iter": epochs,
            "tol": 0.0, "early_stop": "diff"},
        "evaluation_0": {"eval_type": "binary"},
    });
    let lr_dsl = {
        let mut d = dsl(&[("homo_lr_0", "HomoLR", "data_transform_0.data")]);
        d["components"]["evaluation_0"] = json!({"module": "Evaluation",
            "input": {"data": {"data": ["homo_lr_0.data"]}}, "output": {"data": ["data"]}});
        d
    };
    let (secs, mib, out) = timed_job(dir.path(), "homo_lr", &conf(parties, lr), &lr_dsl)?;
    let auc = find_number(&out, "auc").unwrap_or(f64::NAN);
    println!(
        "HomoLR {epochs} epochs (full batch, secure aggregation): job run {secs:.2} s, peak RSS {mib:.0} MiB, guest train auc {auc:.4}"
    );
    let bin = json!({
        "data_transform_0": {"with_label": true, "output_format": "dense"},
        "homo_binning_0": {"method": "virtual_summary", "sample_bins": 1000, "bin_num": 10},
    });
    let bin_dsl = dsl(&[(
        "homo_binning_0",
        "HomoFeatureBinning",
        "data_transform_0.data",
    )]);
    let (secs, mib, _) = timed_job(dir.path(), "homo_binning", &conf(parties, bin), &bin_dsl)?;
    println!(
        "HomoFeatureBinning virtual_summary (1000 query points, 10 bins): job run {secs:.2} s, peak RSS {mib:.0} MiB"
    );
    let sbt = json!({
        "data_transform_0": {"with_label": true, "output_format": "dense"},
        "homo_secureboost_0": {"task_type": "classification", "num_trees": 5,
            "tree_param": {"max_depth": 5}, "bin_num": 32},
        "evaluation_0": {"eval_type": "binary"},
    });
    let sbt_dsl = {
        let mut d = dsl(&[(
            "homo_secureboost_0",
            "HomoSecureBoost",
            "data_transform_0.data",
        )]);
        d["components"]["evaluation_0"] = json!({"module": "Evaluation",
            "input": {"data": {"data": ["homo_secureboost_0.data"]}}, "output": {"data": ["data"]}});
        d
    };
    let (secs, mib, out) = timed_job(dir.path(), "homo_sbt", &conf(parties, sbt), &sbt_dsl)?;
    let auc = find_number(&out, "auc").unwrap_or(f64::NAN);
    println!(
        "HomoSecureBoost 5 trees depth 5 (32 bins): job run {secs:.2} s, peak RSS {mib:.0} MiB, guest train auc {auc:.4}"
    );
    Ok(())
}
