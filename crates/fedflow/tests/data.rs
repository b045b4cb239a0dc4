//! End to end: upload, table info, download, and bad input that loses nothing.

mod common;
use common::*;
use std::path::Path;

fn upload_conf(dir: &Path, name: &str, file: &Path, extra: &str) -> String {
    let p = write(
        dir,
        &format!("{name}_upload.json"),
        &format!(
            r#"{{"file": "{}", "head": 1, "partition": 16, "table_name": "{name}", "namespace": "experiment"{extra}}}"#,
            file.display()
        ),
    );
    p.to_str().unwrap().to_string()
}

fn tables(dir: &Path) -> String {
    stdout(&fedflow(dir, &["table", "list"]))
}

#[test]
fn breast_guest_upload_info_download() {
    let dir = tempfile::tempdir().unwrap();
    let csv = shared().join("data/breast_hetero_guest.csv");
    let c = upload_conf(dir.path(), "breast_hetero_guest", &csv, "");
    let o = fedflow(dir.path(), &["data", "upload", "-c", &c]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = fedflow(
        dir.path(),
        &[
            "table",
            "info",
            "-t",
            "breast_hetero_guest",
            "-n",
            "experiment",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info["count"], 569);
    assert_eq!(info["partition"], 16);
    assert_eq!(info["schema"]["sid"], "id");
    assert_eq!(info["schema"]["header"], "y,x0,x1,x2,x3,x4,x5,x6,x7,x8,x9");
    let o = fedflow(
        dir.path(),
        &[
            "table",
            "info",
            "-t",
            "breast_hetero_guest",
            "-n",
            "experiment",
        ],
    );
    assert_eq!(
        stdout(&o).lines().filter(|l| l.starts_with("  ")).count(),
        5,
        "first rows shown"
    );
    let out = dir.path().join("back.csv");
    let o = fedflow(
        dir.path(),
        &[
            "data",
            "download",
            "-t",
            "breast_hetero_guest",
            "-n",
            "experiment",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&csv).unwrap());

    // Uploading again without drop is refused and the table is intact; with --drop it is replaced.
    let o = fedflow(dir.path(), &["data", "upload", "-c", &c]);
    assert_fails_with(&o, &["already exists"]);
    assert!(tables(dir.path()).contains("569 rows"));
    let o = fedflow(dir.path(), &["data", "upload", "-c", &c, "--drop"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = fedflow(
        dir.path(),
        &[
            "table",
            "delete",
            "-t",
            "breast_hetero_guest",
            "-n",
            "experiment",
        ],
    );
    assert!(o.status.success());
    assert_eq!(tables(dir.path()), "");
}

#[test]
fn bad_uploads_name_the_problem_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A good table that must survive every failure below.
    let good = upload_conf(d, "good", &shared().join("data/breast_hetero_host.csv"), "");
    assert!(fedflow(d, &["data", "upload", "-c", &good])
        .status
        .success());
    let before = tables(d);

    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            upload_conf(d, "missing", &d.join("nope.csv"), ""),
            vec!["nope.csv"],
        ),
        (
            upload_conf(
                d,
                "ragged",
                &write(d, "ragged.csv", "id,a,b\n1,2,3\n2,3\n3,4,5\n"),
                "",
            ),
            vec!["line 3", "2 fields, header has 3"],
        ),
        (
            upload_conf(
                d,
                "dups",
                &write(d, "dups.csv", "id,a\n1,2\n2,3\n1,4\n"),
                "",
            ),
            vec!["line 4", "duplicate id '1'", "line 2"],
        ),
        (
            upload_conf(
                d,
                "badpart",
                &write(d, "ok.csv", "id,a\n1,2\n"),
                r#", "partition": 0"#,
            ),
            vec!["partition", "1 to 1023"],
        ),
        (
            write(
                d,
                "noname.json",
                r#"{"file": "x.csv", "namespace": "experiment"}"#,
            )
            .to_str()
            .unwrap()
            .to_string(),
            vec!["table_name", "missing"],
        ),
        (
            write(d, "notjson.json", "{file:")
                .to_str()
                .unwrap()
                .to_string(),
            vec!["not valid JSON"],
        ),
        (
            upload_conf(d, "good", &write(d, "other.csv", "id,a\n1,2\n"), ""),
            vec!["already exists"],
        ),
    ];
    for (conf, needles) in cases {
        let o = fedflow(d, &["data", "upload", "-c", &conf]);
        assert_fails_with(&o, &needles);
    }
    assert_eq!(tables(d), before, "no table was added or changed");
    let leftovers: Vec<_> = std::fs::read_dir(d.join("tables/experiment"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "only the good table's directory: {leftovers:?}"
    );

    let o = fedflow(d, &["table", "info", "-t", "nope", "-n", "experiment"]);
    assert_fails_with(&o, &["experiment.nope", "not found"]);
    let o = fedflow(
        d,
        &[
            "data",
            "download",
            "-t",
            "nope",
            "-n",
            "experiment",
            "-o",
            "/tmp/x.csv",
        ],
    );
    assert_fails_with(&o, &["not found"]);
}

/// `table info --rows N` shows N rows, also past the 100 the meta row keeps.
#[test]
fn table_info_rows_past_one_hundred() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let c = upload_conf(
        d,
        "breast_rows",
        &shared().join("data/breast_hetero_guest.csv"),
        "",
    );
    let o = fedflow(d, &["data", "upload", "-c", &c]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = fedflow(
        d,
        &[
            "table",
            "info",
            "-t",
            "breast_rows",
            "-n",
            "experiment",
            "--rows",
            "150",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let shown = out
        .split("first rows:")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("  "))
        .count();
    assert_eq!(shown, 150, "{out}");
}
