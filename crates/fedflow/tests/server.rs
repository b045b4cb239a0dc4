//! End to end: real `fedflow server` processes on loopback ports, driven
//! through FATE Flow's REST API (raw HTTP and `fedflow --server … job …`).

mod common;
use common::server::*;
use common::*;
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(120);

/// A toy conf that runs for several seconds (40 M rows take minutes on a
/// busy 2-core machine and their float sum misses the toy's 1e-6 check).
fn long_toy() -> (Value, Value) {
    toy(3_000_000)
}

fn job_count(s: &Server) -> i64 {
    s.ok("job/list/job", json!({"limit": 1000}))["data"]["count"]
        .as_i64()
        .unwrap()
}

fn tasks(s: &Server, job_id: &str) -> Vec<Value> {
    s.ok("job/task/query", json!({"job_id": job_id}))["data"]
        .as_array()
        .unwrap()
        .clone()
}

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    write(dir, name, &serde_json::to_string_pretty(v).unwrap())
        .display()
        .to_string()
}

/// The toy through `fedflow job submit --wait` and through raw HTTP; rows,
/// tasks, metrics, logs and paging.
fn toy_suite(s: &Server, work: &Path) {
    let (conf, dsl) = toy(1000);
    let c = write_json(work, "toy_conf.json", &conf);
    let d = write_json(work, "toy_dsl.json", &dsl);
    let t = Instant::now();
    let o = fedflow(
        work,
        &[
            "--server", &s.url, "job", "submit", "-c", &c, "-d", &d, "--wait",
        ],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains(": success"), "{}", stdout(&o));
    eprintln!(
        "toy via `job submit --wait`: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let cli_job = stdout(&o)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(';')
        .to_string();

    // Raw HTTP.
    let job = s.submit(&conf, &dsl);
    assert_eq!(s.wait_job(&job, WAIT), "success");
    let rows = s.ok("job/query", json!({"job_id": job}))["data"].clone();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (role, pid) in [("guest", "9999"), ("host", "10000")] {
        let r = rows
            .iter()
            .find(|r| r["f_role"] == role && r["f_party_id"] == pid)
            .unwrap_or_else(|| panic!("no {role} row: {rows:?}"));
        assert_eq!(r["f_status"], "success", "{r}");
        assert_eq!(r["f_progress"], 100, "{r}");
    }
    let ts = tasks(s, &job);
    assert_eq!(ts.len(), 2, "{ts:?}");
    assert!(ts
        .iter()
        .all(|t| t["f_status"] == "success" && t["f_component_name"] == "secure_add_example_0"));
    let guest_task = ts.iter().find(|t| t["f_role"] == "guest").unwrap();
    assert!(
        guest_task["f_summary"].to_string().contains("secure_sum"),
        "{guest_task}"
    );

    let m = s.ok(
        "tracking/component/metric/all",
        json!({"job_id": job, "role": "guest", "party_id": 9999, "component_name": "secure_add_example_0"}),
    );
    let text = m["data"].to_string();
    assert!(text.contains("secure_sum"), "{m}");
    // {"train": {"secure_sum": {"data": [[x, value]], "meta": …}}}
    let sum = m["data"]["train"]["secure_sum"]["data"][0][1]
        .as_f64()
        .unwrap_or_else(|| panic!("{m}"));
    assert!((sum - 2000.0).abs() < 1e-6, "secure_sum {sum}: {m}");

    // Logs: a tar.gz with the guest task's INFO.log.
    let tgz = s.post_bytes("job/log/download", json!({"job_id": job}));
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(&tgz[..]));
    let mut found = None;
    let mut names = Vec::new();
    for e in ar.entries().expect("a tar.gz") {
        let mut e = e.unwrap();
        let p = e.path().unwrap().display().to_string();
        if p.ends_with("guest/9999/secure_add_example_0/INFO.log") {
            let mut t = String::new();
            e.read_to_string(&mut t).unwrap();
            found = Some(t);
        }
        names.push(p);
    }
    let log = found.unwrap_or_else(|| panic!("no guest INFO.log in {names:?}"));
    assert!(log.contains("secure_add_guest"), "{log}");

    // Paging: newest first, `limit` jobs a page, `count` in all.
    let total = job_count(s);
    assert!(total >= 2);
    let p1 = s.ok("job/list/job", json!({"limit": 1, "page": 1}))["data"].clone();
    let p2 = s.ok("job/list/job", json!({"limit": 1, "page": 2}))["data"].clone();
    assert_eq!(p1["count"], total);
    let ids = |p: &Value| -> Vec<String> {
        let mut v: Vec<String> = p["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["f_job_id"].as_str().unwrap().to_string())
            .collect();
        v.dedup();
        v
    };
    assert_eq!(ids(&p1).len(), 1, "{p1}");
    assert_eq!(ids(&p2).len(), 1, "{p2}");
    assert_ne!(ids(&p1), ids(&p2));
    let both: Vec<String> = [ids(&p1), ids(&p2)].concat();
    assert!(both.contains(&job) && both.contains(&cli_job), "{both:?}");
    let far = s.ok("job/list/job", json!({"limit": 1, "page": total + 1}))["data"].clone();
    assert_eq!(far["jobs"].as_array().unwrap().len(), 0, "{far}");
}

fn upload_conf(work: &Path, name: &str, csv: &str) -> String {
    write_json(
        work,
        &format!("{name}_upload.json"),
        &json!({
            "file": shared().join("data").join(csv).display().to_string(),
            "table_name": name, "namespace": "experiment", "head": 1, "partition": 4,
        }),
    )
}

/// Upload through the server (multipart), table info, unknown table, delete.
fn upload_suite(s: &Server, work: &Path) {
    let c = upload_conf(work, "breast_hetero_guest", "breast_hetero_guest.csv");
    let o = fedflow(work, &["--server", &s.url, "data", "upload", "-c", &c]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("569 rows"), "{}", stdout(&o));
    let info = s.ok(
        "table/table_info",
        json!({"namespace": "experiment", "table_name": "breast_hetero_guest"}),
    );
    let d = &info["data"];
    assert_eq!(d["count"], 569, "{info}");
    assert_eq!(d["exist"], 1, "{info}");
    assert_eq!(d["schema"]["sid"], "id", "{info}");
    let header = d["schema"]["header"].as_str().unwrap();
    assert!(header.starts_with("y,x0,x1"), "{info}");
    assert_eq!(header.split(',').count(), 11, "{info}");

    let none = s.ok(
        "table/table_info",
        json!({"namespace": "experiment", "table_name": "no_such_table"}),
    );
    assert_eq!(none["data"]["exist"], 0, "{none}");

    s.ok(
        "table/delete",
        json!({"namespace": "experiment", "table_name": "breast_hetero_guest"}),
    );
    let gone = s.ok(
        "table/table_info",
        json!({"namespace": "experiment", "table_name": "breast_hetero_guest"}),
    );
    assert_eq!(gone["data"]["exist"], 0, "{gone}");
    let again = s.post(
        "table/delete",
        json!({"namespace": "experiment", "table_name": "breast_hetero_guest"}),
    );
    assert_ne!(again["retcode"], 0, "{again}");
}

/// A long job, the server killed with -9 and restarted on the same data dir:
/// the job and its tasks are failed, never left running; rerun finishes it.
fn restart_suite(s: &mut Server) {
    let (conf, dsl) = long_toy();
    let job = s.submit(&conf, &dsl);
    let pids = s.wait_running_pids(&job, 2);
    let t = Instant::now();
    s.restart();
    eprintln!("restart took {:.2} s", t.elapsed().as_secs_f64());
    // Recovery killed the orphaned executors.
    wait_dead(&pids, Duration::from_secs(10));
    let rows = s.ok("job/query", json!({"job_id": job}))["data"].clone();
    for r in rows.as_array().unwrap() {
        assert_eq!(r["f_status"], "failed", "{r}");
        assert!(
            r["f_error"].as_str().unwrap_or("").contains("restarted"),
            "{r}"
        );
    }
    for t in tasks(s, &job) {
        assert_eq!(t["f_status"], "failed", "{t}");
    }
    // Rerun (a short job this time would be another conf; rerun the same).
    s.ok("job/rerun", json!({"job_id": job}));
    assert_eq!(s.wait_job(&job, WAIT), "success", "{}", s.log_text());
    let ts = tasks(s, &job);
    let max_v = ts
        .iter()
        .map(|t| t["f_task_version"].as_i64().unwrap())
        .max()
        .unwrap();
    assert_eq!(max_v, 1, "{ts:?}");
}

#[test]
fn toy_through_the_rest_api() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("srv"), &[]);
    toy_suite(&s, dir.path());
}

#[test]
fn upload_table_info_delete_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("srv"), &[]);
    upload_suite(&s, dir.path());
}

#[test]
fn bad_submissions_name_the_problem_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("srv"), &[]);
    let before = job_count(&s);
    let (conf, dsl) = toy(1000);

    // Unknown module.
    let mut bad_dsl = dsl.clone();
    bad_dsl["components"]["secure_add_example_0"]["module"] = json!("NoSuchModule");
    let v = s.post(
        "job/submit",
        json!({"job_runtime_conf": conf, "job_dsl": bad_dsl}),
    );
    assert_ne!(v["retcode"], 0, "{v}");
    assert!(
        v["retmsg"].as_str().unwrap().contains("NoSuchModule"),
        "{v}"
    );

    // Not JSON.
    let v = s.post_raw("job/submit", "{\"job_dsl\": {", "application/json");
    assert_eq!(v["retcode"], 101, "{v}");
    assert!(v["retmsg"].as_str().unwrap().contains("JSON"), "{v}");

    // Missing field.
    let v = s.post("job/submit", json!({"job_dsl": dsl}));
    assert_eq!(v["retcode"], 101, "{v}");
    assert!(
        v["retmsg"].as_str().unwrap().contains("job_runtime_conf"),
        "{v}"
    );

    // A conf without roles.
    let mut no_role = conf.clone();
    no_role.as_object_mut().unwrap().remove("role");
    let v = s.post(
        "job/submit",
        json!({"job_runtime_conf": no_role, "job_dsl": dsl}),
    );
    assert_ne!(v["retcode"], 0, "{v}");
    assert!(v["retmsg"].as_str().unwrap().contains("role"), "{v}");

    // A component parameter of the wrong type names its path.
    let mut bad_param = conf.clone();
    bad_param["component_parameters"]["common"]["secure_add_example_0"]["data_num"] = json!("many");
    let v = s.post(
        "job/submit",
        json!({"job_runtime_conf": bad_param, "job_dsl": dsl}),
    );
    if v["retcode"] == 0 {
        // Checked when the task starts instead: the job fails, naming it.
        let job = v["jobId"].as_str().unwrap().to_string();
        assert_eq!(s.wait_job(&job, WAIT), "failed");
        let r = s.initiator_row(&job);
        assert!(r["f_error"].to_string().contains("data_num"), "{r}");
    } else {
        assert!(v["retmsg"].as_str().unwrap().contains("data_num"), "{v}");
        assert_eq!(job_count(&s), before);
    }

    // Missing job_id on the other endpoints.
    for path in [
        "job/stop",
        "job/rerun",
        "job/task/query",
        "job/log/download",
    ] {
        let v = s.post(path, json!({}));
        assert_eq!(v["retcode"], 101, "{path}: {v}");
        assert!(
            v["retmsg"].as_str().unwrap().contains("job_id"),
            "{path}: {v}"
        );
    }
    let v = s.post("table/table_info", json!({"namespace": "experiment"}));
    assert_eq!(v["retcode"], 101, "{v}");
    assert!(v["retmsg"].as_str().unwrap().contains("table_name"), "{v}");
    let v = s.post("no/such/api", json!({}));
    assert_ne!(v["retcode"], 0, "{v}");

    let after = s.ok("job/list/job", json!({"limit": 1000}))["data"].clone();
    let extra = after["count"].as_i64().unwrap() - before;
    assert!(extra <= 1, "{after}");
}

#[test]
fn stop_cancels_both_parties_and_kills_the_executors() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("srv"), &[]);
    let (conf, dsl) = long_toy();
    let job = s.submit(&conf, &dsl);
    let pids = s.wait_running_pids(&job, 2);
    assert!(pids.iter().all(|p| alive(*p)), "{pids:?}");
    let t = Instant::now();
    let o = fedflow(dir.path(), &["--server", &s.url, "job", "stop", "-j", &job]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(s.wait_job(&job, Duration::from_secs(10)), "canceled");
    wait_dead(&pids, Duration::from_secs(5));
    let took = t.elapsed();
    eprintln!(
        "stop → canceled, executors gone: {:.2} s",
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    let rows = s.ok("job/query", json!({"job_id": job}))["data"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    for r in rows.as_array().unwrap() {
        assert_eq!(r["f_status"], "canceled", "{r}");
    }
    for t in tasks(&s, &job) {
        assert_eq!(t["f_status"], "canceled", "{t}");
    }
    // Stopping again is refused; stop of an unknown job too.
    let v = s.post("job/stop", json!({"job_id": job}));
    assert_ne!(v["retcode"], 0, "{v}");
    let v = s.post("job/stop", json!({"job_id": "nosuchjob"}));
    assert_ne!(v["retcode"], 0, "{v}");
}

#[test]
fn a_host_failure_fails_the_job_and_a_missing_table_can_be_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("srv"), &[]);

    // The host's task fails at run time (its table is missing, which only
    // the host can know): the job fails with the cause; the guest's tasks
    // end too.
    let c = upload_conf(dir.path(), "guest_only", "breast_hetero_guest.csv");
    let o = fedflow(
        dir.path(),
        &["--server", &s.url, "data", "upload", "-c", &c],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (mut conf, mut dsl) = toy(1000);
    dsl["components"]["reader_0"] = json!({"module": "Reader", "output": {"data": ["data"]}});
    conf["component_parameters"]["role"]["guest"]["0"]["reader_0"] =
        json!({"table": {"name": "guest_only", "namespace": "experiment"}});
    conf["component_parameters"]["role"]["host"]["0"]["reader_0"] =
        json!({"table": {"name": "host_missing", "namespace": "experiment"}});
    let job = s.submit(&conf, &dsl);
    assert_eq!(s.wait_job(&job, WAIT), "failed");
    let r = s.initiator_row(&job);
    let err = r["f_error"].as_str().unwrap_or("");
    assert!(err.contains("host") && err.contains("host_missing"), "{r}");
    let ts = tasks(&s, &job);
    assert!(
        ts.iter()
            .any(|t| t["f_role"] == "host" && t["f_status"] == "failed"),
        "{ts:?}"
    );
    for t in ts.iter().filter(|t| t["f_role"] == "guest") {
        assert_ne!(t["f_status"], "running", "{t}");
        assert_ne!(t["f_status"], "waiting", "{t}");
    }
    for row in s.ok("job/query", json!({"job_id": job}))["data"]
        .as_array()
        .unwrap()
    {
        assert_eq!(row["f_status"], "failed", "{row}");
    }

    // A job whose Reader misses its table: fails; upload it; rerun → success,
    // the component that had succeeded is not run again.
    let (mut conf, mut dsl) = toy(1000);
    dsl["components"]["reader_0"] = json!({"module": "Reader", "output": {"data": ["data"]}});
    conf["component_parameters"]["common"]["reader_0"] =
        json!({"table": {"name": "rerun_table", "namespace": "experiment"}});
    conf["job_parameters"]["common"]["task_parallelism"] = json!(1);
    let job = s.submit(&conf, &dsl);
    assert_eq!(s.wait_job(&job, WAIT), "failed");
    let r = s.initiator_row(&job);
    assert!(r["f_error"].to_string().contains("rerun_table"), "{r}");
    let before = tasks(&s, &job);
    assert!(before
        .iter()
        .any(|t| t["f_component_name"] == "secure_add_example_0" && t["f_status"] == "success"));

    let c = upload_conf(dir.path(), "rerun_table", "breast_hetero_guest.csv");
    let o = fedflow(
        dir.path(),
        &["--server", &s.url, "data", "upload", "-c", &c],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = fedflow(
        dir.path(),
        &["--server", &s.url, "job", "rerun", "-j", &job, "--wait"],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(s.wait_job(&job, WAIT), "success");
    let after = tasks(&s, &job);
    let versions = |cpn: &str| -> Vec<i64> {
        after
            .iter()
            .filter(|t| t["f_component_name"] == cpn)
            .map(|t| t["f_task_version"].as_i64().unwrap())
            .collect()
    };
    assert!(
        versions("secure_add_example_0").iter().all(|v| *v == 0),
        "{after:?}"
    );
    assert_eq!(versions("reader_0").iter().max(), Some(&1), "{after:?}");
    for t in after
        .iter()
        .filter(|t| t["f_component_name"] == "reader_0" && t["f_task_version"] == 1)
    {
        assert_eq!(t["f_status"], "success", "{t}");
    }
    // A successful job cannot be rerun.
    let v = s.post("job/rerun", json!({"job_id": job}));
    assert_ne!(v["retcode"], 0, "{v}");
}

#[test]
fn a_killed_server_restarts_with_its_jobs_failed_and_rerun_finishes_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(&dir.path().join("srv"), &[]);
    restart_suite(&mut s);
}

#[test]
fn meta_store_on_mariadb_toy_upload_restart() {
    let db = MariaDb::new();
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(&dir.path().join("srv"), &["--meta-url", &db.url]);
    toy_suite(&s, dir.path());
    upload_suite(&s, dir.path());
    restart_suite(&mut s);
    // Everything lives in MariaDB: the job rows survive another restart.
    let count = job_count(&s);
    s.restart();
    assert_eq!(job_count(&s), count);
    drop(s);
    assert!(
        !dir.path().join("srv/meta.sqlite").exists(),
        "a SQLite meta store was created beside MariaDB"
    );
}

#[test]
fn hmac_signed_requests_only() {
    assert_eq!(hmac_known_answer(), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "server.toml",
        "app_key = \"fedflow-test-app\"\nsecret_key = \"s3cr3t\"\n",
    );
    let s = Server::start(&dir.path().join("srv"), &["-c", cfg.to_str().unwrap()]);
    let v = s.post("version/get", json!({}));
    assert_eq!(v["retcode"], 109, "{v}");
    let v = s.post("job/list/job", json!({}));
    assert_eq!(v["retcode"], 109, "{v}");

    let signed = |path: &str, body: &str, secret: &str, ts_off: i64| -> Value {
        let ts = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
            + ts_off)
            .to_string();
        // A fresh nonce per request: two requests in the same millisecond
        // must not look like a replay.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nonce = format!("nonce-{ts}-{seq}");
        let path_url = format!("/v1/{path}");
        let sig = fate_signature(
            secret,
            &ts,
            &nonce,
            "fedflow-test-app",
            &path_url,
            body.as_bytes(),
        );
        let r = ureq::post(&format!("{}{path_url}", s.url))
            .set("Content-Type", "application/json")
            .set("TIMESTAMP", &ts)
            .set("NONCE", &nonce)
            .set("APP_KEY", "fedflow-test-app")
            .set("SIGNATURE", &sig)
            .send_string(body)
            .unwrap();
        r.into_json().unwrap()
    };
    let v = signed("version/get", "{}", "s3cr3t", 0);
    assert_eq!(v["retcode"], 0, "{v}");
    let v = signed("version/get", "{}", "wrong", 0);
    assert_eq!(v["retcode"], 109, "{v}");
    let v = signed("version/get", "{}", "s3cr3t", -120_000);
    assert_eq!(v["retcode"], 109, "stale timestamp: {v}");

    let (conf, dsl) = toy(1000);
    let body = json!({"job_runtime_conf": conf, "job_dsl": dsl}).to_string();
    let v = signed("job/submit", &body, "s3cr3t", 0);
    assert_eq!(v["retcode"], 0, "{v}");
    let job = v["jobId"].as_str().unwrap().to_string();
    let deadline = Instant::now() + WAIT;
    loop {
        let q = signed(
            "job/query",
            &json!({"job_id": job}).to_string(),
            "s3cr3t",
            0,
        );
        assert_eq!(q["retcode"], 0, "{q}");
        let st = q["data"][0]["f_status"].as_str().unwrap().to_string();
        if st == "success" {
            break;
        }
        assert!(!["failed", "canceled"].contains(&st.as_str()), "{q}");
        assert!(Instant::now() < deadline, "{q}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn two_servers_one_per_party() {
    let dir = tempfile::tempdir().unwrap();
    let fed = dir.path().join("federation");
    let (gp, hp) = (free_port(), free_port());
    let cfg = |me: u64, other: u64, port: u16| {
        write(
            dir.path(),
            &format!("server_{me}.toml"),
            &format!(
                "party_ids = [{me}]\nfederation_dir = \"{}\"\nheartbeat_timeout = 10\n[route]\n{other} = \"http://127.0.0.1:{port}\"\n",
                fed.display()
            ),
        )
    };
    let gcfg = cfg(9999, 10000, hp);
    let hcfg = cfg(10000, 9999, gp);
    let host = Server::start_on(
        &dir.path().join("host"),
        hp,
        &["-c", hcfg.to_str().unwrap()],
    );
    let guest = Server::start_on(
        &dir.path().join("guest"),
        gp,
        &["-c", gcfg.to_str().unwrap()],
    );
    let (conf, dsl) = toy(1000);
    // Submitting to the host's server is refused: the initiator is the guest.
    let v = host.post(
        "job/submit",
        json!({"job_runtime_conf": conf, "job_dsl": dsl}),
    );
    assert_ne!(v["retcode"], 0, "{v}");
    let t = Instant::now();
    let job = guest.submit(&conf, &dsl);
    assert_eq!(
        guest.wait_job(&job, WAIT),
        "success",
        "guest: {}\nhost: {}",
        guest.log_text(),
        host.log_text()
    );
    eprintln!("toy across two servers: {:.2} s", t.elapsed().as_secs_f64());
    let g = guest.ok("job/query", json!({"job_id": job}))["data"].clone();
    let g = g.as_array().unwrap();
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0]["f_role"], "guest");
    assert_eq!(g[0]["f_status"], "success");
    let h = host.ok("job/query", json!({"job_id": job}))["data"].clone();
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0]["f_role"], "host");
    assert_eq!(h[0]["f_party_id"], "10000");
    assert_eq!(h[0]["f_status"], "success");
    assert_eq!(h[0]["f_is_initiator"], false);
    let ht = tasks(&host, &job);
    assert_eq!(ht.len(), 1);
    assert_eq!(ht[0]["f_status"], "success");
    // Each party's log is on its own server.
    assert!(dir
        .path()
        .join(format!(
            "host/logs/{job}/host/10000/secure_add_example_0/INFO.log"
        ))
        .exists());
    assert!(dir
        .path()
        .join(format!(
            "guest/logs/{job}/guest/9999/secure_add_example_0/INFO.log"
        ))
        .exists());
}
