//! Issue 22's findings against a real `fedflow server` (no app_key, as the
//! README's standalone start), each reproduced and now refused, plus a
//! generated hostile-input corpus: every case must end in a clean FATE
//! error envelope or a correct success — never a 5xx, a dead server, a
//! hang, or a changed byte outside the data dir (a sentinel tree next to it
//! is hashed before and after).

mod common;
use common::server::*;
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.display().to_string(),
                    std::fs::read(&p).unwrap_or_default(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn upload_csv(s: &Server, work: &Path, name: &str, csv: &str) -> Value {
    let f = write(work, &format!("{name}.csv"), csv);
    let c = write(
        work,
        &format!("{name}.json"),
        &json!({"file": f, "table_name": name, "namespace": "hostile", "head": 1, "partition": 2})
            .to_string(),
    );
    let o = fedflow(
        work,
        &[
            "--server",
            &s.url,
            "data",
            "upload",
            "-c",
            c.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    json!({})
}

fn refused(v: &Value, needle: &str) {
    assert_ne!(v["retcode"], 0, "expected a refusal: {v}");
    assert_ne!(v["retcode"], 500, "5xx: {v}");
    let m = v["retmsg"].as_str().unwrap_or_default();
    assert!(m.contains(needle), "expected '{needle}' in: {m}");
}

#[test]
fn findings_are_refused_and_nothing_outside_the_data_dir_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("victim.txt"), "id\tx\n1\t2\n").unwrap();
    std::fs::write(outside.join("dir/precious.txt"), "keep").unwrap();
    // An interrupted upload's copy, left by a killed server.
    std::fs::create_dir_all(data.join("upload/.tmpKILLED")).unwrap();
    std::fs::write(data.join("upload/.tmpKILLED/big.csv"), vec![b'x'; 4096]).unwrap();
    let s = Server::start(&data, &[]);
    assert!(
        !data.join("upload/.tmpKILLED").exists(),
        "interrupted upload not cleaned at start-up"
    );
    let before = snapshot(&outside);
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    upload_csv(&s, &work, "t", "id,x\n1,2\n");

    // Overwrite any file: download to a server path outside the export area.
    let v = s.post(
        "data/download",
        json!({"namespace": "hostile", "table_name": "t", "delimiter": "\t",
               "output_path": outside.join("victim.txt")}),
    );
    refused(&v, "'output_path'");
    // Inside the export area it works, and without output_path it streams.
    let v = s.ok(
        "data/download",
        json!({"namespace": "hostile", "table_name": "t", "output_path": "t.csv"}),
    );
    assert_eq!(v["data"]["count"], 1, "{v}");
    let exported = std::fs::read_to_string(data.join("export/t.csv")).unwrap();
    assert_eq!(exported, "id,x\n1,2\n");
    let streamed = s.post_bytes(
        "data/download",
        json!({"namespace": "hostile", "table_name": "t"}),
    );
    assert_eq!(String::from_utf8_lossy(&streamed), "id,x\n1,2\n");

    // Read any directory: log download with '..' or an absolute job id.
    for id in ["../..", "/etc", "..", "a/../../b"] {
        let v = s.post("job/log/download", json!({"job_id": id}));
        refused(&v, "job_id");
    }
    // Read any file: a JSON upload naming a server file.
    let v = s.post(
        "data/upload",
        json!({"file": "/etc/passwd", "table_name": "shadow", "namespace": "hostile", "head": 1}),
    );
    refused(&v, "field 'file'");
    let v = s.post(
        "table/preview",
        json!({"namespace": "hostile", "table_name": "shadow"}),
    );
    assert_ne!(v["retcode"], 0, "{v}");
    // Delete or create directories: LOCALFS at an existing directory with drop.
    let v = s.post(
        "data/upload",
        json!({"file": "/etc/passwd", "table_name": "wipe", "namespace": "hostile",
               "storage_engine": "LOCALFS", "storage_address": outside.join("dir"), "drop": 1}),
    );
    assert_ne!(v["retcode"], 0, "{v}");
    let f = write(&work, "w.csv", "id,x\n1,2\n");
    let c = write(
        &work,
        "w.json",
        &json!({"file": f, "table_name": "wipe", "namespace": "hostile", "drop": 1,
                "storage_engine": "LOCALFS", "storage_address": outside.join("dir")})
        .to_string(),
    );
    let o = fedflow(
        &work,
        &[
            "--server",
            &s.url,
            "data",
            "upload",
            "-c",
            c.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("storage_address"), "{}", stderr(&o));
    // Write outside the logs tree: '../' in a DSL component name, or in the
    // job id / component of a party route.
    let (conf, mut dsl) = toy(10);
    let comp = dsl["components"]["secure_add_example_0"].clone();
    dsl["components"] = json!({"../../escape": comp});
    let v = s.post(
        "job/submit",
        json!({"job_runtime_conf": conf, "job_dsl": dsl}),
    );
    refused(&v, "component name");
    for path in [
        "party/..%2F..%2Fx/guest/9999/create",
        "party/..%2Fx/sec/0/guest/9999/start",
        "party/j1/..%2F..%2Fx/0/guest/9999/start",
        "party/j1/guest/9999/status/..%2Fx",
    ] {
        let v = s.post(path, json!({}));
        assert_ne!(v["retcode"], 0, "{path}: {v}");
    }
    assert!(!tmp.path().join("x").exists() && !data.join("x").exists());

    assert_eq!(
        before,
        snapshot(&outside),
        "bytes outside the data dir changed"
    );
    drop(s);
}

/// Hostile names, paths and bodies against every public data/table/job route.
#[test]
fn hostile_corpus() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("sentinel.txt"), "untouched").unwrap();
    let s = Server::start(&data, &[]);
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    upload_csv(&s, &work, "good", "id,x\n1,2\n2,3\n");
    let before = snapshot(&outside);

    let names: Vec<String> = vec![
        "".into(),
        "..".into(),
        ".".into(),
        "../x".into(),
        "../../etc/passwd".into(),
        "/etc".into(),
        "/etc/passwd".into(),
        outside.display().to_string(),
        format!("{}/sentinel.txt", outside.display()),
        "a/b".into(),
        "a\\b".into(),
        ".hidden".into(),
        "-rf".into(),
        "a\nb".into(),
        "a\rb".into(),
        "a\0b".into(),
        "a b".into(),
        "é".into(),
        "x".repeat(300),
        "%2e%2e%2f".into(),
        "$(touch /tmp/pwn)".into(),
        "`id`".into(),
        "a;rm -rf /".into(),
        "name'\"".into(),
        "\u{202e}evil".into(),
    ];
    let mut cases: Vec<(&str, Value)> = Vec::new();
    for n in &names {
        cases.push((
            "table/table_info",
            json!({"namespace": n, "table_name": "good"}),
        ));
        cases.push((
            "table/table_info",
            json!({"namespace": "hostile", "table_name": n}),
        ));
        cases.push(("table/delete", json!({"namespace": n, "table_name": n})));
        cases.push((
            "table/preview",
            json!({"namespace": "hostile", "table_name": n}),
        ));
        cases.push((
            "data/download",
            json!({"namespace": "hostile", "table_name": "good", "output_path": n}),
        ));
        cases.push((
            "data/download",
            json!({"namespace": n, "table_name": "good", "output_path": "o.csv"}),
        ));
        cases.push((
            "data/upload",
            json!({"file": n, "namespace": "hostile", "table_name": "u"}),
        ));
        cases.push((
            "data/upload",
            json!({"file": "x.csv", "namespace": n, "table_name": "u"}),
        ));
        cases.push(("job/log/download", json!({"job_id": n})));
        cases.push(("job/query", json!({"job_id": n})));
        cases.push(("job/stop", json!({"job_id": n})));
        cases.push((
            "tracking/component/output/data",
            json!({"job_id": n, "role": "guest", "party_id": 9999, "component_name": n}),
        ));
    }
    // Wrong types and shapes.
    for body in [
        json!({"namespace": 1, "table_name": []}),
        json!({"namespace": null, "table_name": {"a": 1}}),
        json!({"job_id": 12345678901234i64}),
        json!({"namespace": "hostile", "table_name": "nope", "output_path": 5}),
        json!({"namespace": "hostile", "table_name": "nope", "delimiter": ""}),
    ] {
        for route in [
            "table/table_info",
            "table/delete",
            "data/download",
            "job/log/download",
        ] {
            cases.push((route, body.clone()));
        }
    }
    // Hostile job submissions.
    let (conf, dsl) = toy(10);
    let mut subs = Vec::new();
    for n in &names {
        let mut d = dsl.clone();
        let c = d["components"]["secure_add_example_0"].clone();
        d["components"] = json!({n.clone(): c});
        subs.push(json!({"job_runtime_conf": conf, "job_dsl": d}));
    }
    for (k, v) in [
        ("/role/host", json!([10000, 10000])),
        ("/role/guest", json!([])),
        ("/initiator/role", json!("../x")),
        ("/initiator/party_id", json!(-1)),
        ("/job_parameters", json!("x")),
    ] {
        let mut c = conf.clone();
        if let Some(slot) = c.pointer_mut(k) {
            *slot = v;
        }
        subs.push(json!({"job_runtime_conf": c, "job_dsl": dsl}));
    }
    // Submissions that used to succeed wrongly or abort the process.
    let sa = "/component_parameters/common/secure_add_example_0";
    for (k, v) in [
        (format!("{sa}/data_num"), json!(1_000_000_000_000u64)),
        (format!("{sa}/data_num"), json!(-5)),
        (sa.to_string(), json!("data_num=3")),
        (sa.to_string(), json!([1, 2])),
        (
            "/component_parameters/role/guest".to_string(),
            json!({"-1": {"secure_add_example_0": {"seed": 1}}}),
        ),
        (
            "/component_parameters/common".to_string(),
            json!({"secure_add_example_0": {"data_num": 10}, "secure_add_example_9": {"data_num": 10}}),
        ),
    ] {
        let mut c = conf.clone();
        if let Some(slot) = c.pointer_mut(&k) {
            *slot = v;
        }
        subs.push(json!({"job_runtime_conf": c, "job_dsl": dsl}));
    }
    // A model edge from a component with no model output, an edge to an
    // undeclared reader output, a model component without its data.
    for d in [
        json!({"components": {
            "secure_add_example_0": {"module": "SecureAddExample"},
            "b": {"module": "HeteroLR", "input": {"data": {"train_data": ["secure_add_example_0.data"]}, "model": ["secure_add_example_0.model"]}}}}),
        json!({"components": {
            "reader_0": {"module": "Reader"},
            "secure_add_example_0": {"module": "SecureAddExample"},
            "b": {"module": "DataTransform", "input": {"data": {"data": ["reader_0.data"]}}}}}),
        json!({"components": {
            "secure_add_example_0": {"module": "SecureAddExample"},
            "b": {"module": "HeteroLR", "output": {"model": ["model"]}}}}),
    ] {
        subs.push(json!({"job_runtime_conf": conf, "job_dsl": d}));
    }
    for b in subs {
        cases.push(("job/submit", b));
    }
    // Raw bodies that are not JSON objects.
    let raws = [
        "",
        "[]",
        "null",
        "\"x\"",
        "{",
        "{\"a\":",
        "\u{0}",
        "{\"namespace\": \"\\ud800\"}",
    ];

    let n_cases = cases.len() + raws.len() * 4;
    assert!(n_cases >= 300, "the corpus has {n_cases} cases");
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    let t0 = Instant::now();
    for (route, body) in &cases {
        let t = Instant::now();
        let v = s.post(route, body.clone());
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{route} {body}: hang"
        );
        let code = v["retcode"].as_i64().unwrap_or(-1);
        assert!(!(500..600).contains(&code), "{route} {body}: 5xx {v}");
        assert!(v.get("retmsg").is_some(), "{route} {body}: no envelope {v}");
        if code == 0 {
            // The only successes allowed: reads of the real table / lookups
            // that find nothing, and submits that FATE accepts.
            let ok = match *route {
                "table/table_info" => v["data"]["exist"] == 0 || v["data"]["table_name"] == "good",
                // An empty job_id lists every job (FATE's filter semantics).
                "job/query" => v["data"].as_array().is_none_or(|a| {
                    a.is_empty()
                        || (body["job_id"] == "" && a.iter().all(|r| r["f_job_type"] == "upload"))
                }),
                "data/download" => v["data"]["count"] == 2,
                _ => false,
            };
            assert!(ok, "{route} {body}: wrong success {v}");
        }
        *outcomes
            .entry(format!("{route} retcode {code}"))
            .or_default() += 1;
    }
    for raw in raws {
        for route in [
            "table/table_info",
            "data/download",
            "job/submit",
            "job/log/download",
        ] {
            let v = s.post_raw(route, raw, "application/json");
            let code = v["retcode"].as_i64().unwrap_or(-1);
            assert_ne!(code, 0, "{route} {raw:?}: {v}");
            assert!(!(500..600).contains(&code), "{route} {raw:?}: {v}");
            *outcomes
                .entry(format!("{route} raw retcode {code}"))
                .or_default() += 1;
        }
    }
    eprintln!(
        "hostile corpus: {n_cases} cases in {:.1} s; outcomes: {outcomes:?}",
        t0.elapsed().as_secs_f64()
    );
    // The server is alive, the real table intact, nothing outside changed.
    let v = s.ok(
        "table/table_info",
        json!({"namespace": "hostile", "table_name": "good"}),
    );
    assert_eq!(v["data"]["count"], 2, "{v}");
    assert_eq!(before, snapshot(&outside));
    assert!(!Path::new("/tmp/pwn").exists());
}
