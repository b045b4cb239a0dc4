//! End-to-end tests of upload and download against the local engine and the
//! SQLite meta store (and one round trip with the meta store on MariaDB).

use crate::*;
use fedflow_core::{decode, partition_of};
use serde_json::json;
use std::path::{Path, PathBuf};

fn shared_data() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(p) = std::env::var("FEDFLOW_SHARED_DATA") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    candidates
        .into_iter()
        .find(|p| p.join("breast_hetero_guest.csv").is_file())
}

fn breast() -> PathBuf {
    shared_data()
        .expect("shared data not found: set FEDFLOW_SHARED_DATA to the folder of breast_hetero_guest.csv")
        .join("breast_hetero_guest.csv")
}

fn conf(file: &Path, ns: &str, name: &str, partition: u32) -> UploadConf {
    parse_upload_conf(
        &json!({"file": file.to_str().unwrap(), "namespace": ns, "table_name": name,
                "head": 1, "partition": partition}),
        Path::new("/"),
    )
    .unwrap()
}

fn table_dir(root: &Path, ns: &str, name: &str) -> PathBuf {
    root.join("tables").join(ns).join(name)
}

/// Asserts that neither data nor meta nor temporaries exist for the table.
fn assert_nothing(ctx: &StorageContext, root: &Path, ns: &str, name: &str) {
    assert!(!table_dir(root, ns, name).exists(), "table dir left behind");
    assert!(
        ctx.meta.get_table_meta(ns, name).unwrap().is_none(),
        "meta row left behind"
    );
    if let Ok(entries) = std::fs::read_dir(root.join("tables").join(ns)) {
        let left: Vec<_> = entries.map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "leftovers: {left:?}");
    }
}

#[test]
fn breast_upload_partitions_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = StorageContext::open_local(dir.path()).unwrap();
    assert!(dir.path().join("meta.sqlite").is_file());
    let src = breast();
    let meta = ctx
        .upload(&conf(&src, "experiment", "breast_hetero_guest", 16))
        .unwrap();
    assert_eq!(meta.count, 569);
    assert_eq!(meta.partitions, 16);
    assert_eq!(meta.schema.sid, "id");
    assert_eq!(meta.schema.header, "y,x0,x1,x2,x3,x4,x5,x6,x7,x8,x9");
    assert_eq!(meta.part_of_data.len(), 100);
    assert_eq!(meta.part_of_data[0].0, "133");
    assert!(meta.part_of_data[0].1.starts_with("1,0.254879,"));
    assert_eq!(meta.origin, TableOrigin::Upload);
    assert_eq!(meta.engine, "LOCAL");
    assert!(meta.have_head && meta.in_serialized && !meta.extend_sid);
    assert_eq!(
        meta.address,
        StoreAddress::Local {
            path: table_dir(dir.path(), "experiment", "breast_hetero_guest")
        }
    );
    assert_eq!(
        ctx.meta
            .get_table_meta("experiment", "breast_hetero_guest")
            .unwrap(),
        Some(meta.clone())
    );

    let blocks = ctx.read_table("experiment", "breast_hetero_guest").unwrap();
    assert_eq!(blocks.len(), 16);
    assert_eq!(blocks.iter().map(|b| b.len()).sum::<usize>(), 569);
    assert!(blocks.iter().all(|b| b.is_mapped()));
    for (i, b) in blocks.iter().enumerate() {
        for (k, v) in b.iter() {
            assert_eq!(partition_of(k, 16), i);
            let key: String = decode(k).unwrap();
            let value: String = decode(v).unwrap();
            assert!(key.parse::<u64>().is_ok());
            assert_eq!(value.split(',').count(), 11);
        }
    }

    let out = dir.path().join("out/breast.csv");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let n = ctx
        .download("experiment", "breast_hetero_guest", &out, ",")
        .unwrap();
    assert_eq!(n, 569);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&src).unwrap(),
        "round trip differs"
    );
    // No temporary file left beside the output.
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 1);
}

#[test]
fn small_buffer_streams_to_stage_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ctx = StorageContext::open_local(root).unwrap();
    let src = breast();
    // A 2 KiB buffer: the partitions are appended to the staged table ~50 times.
    let m = upload_buffered(
        &conf(&src, "ns", "b", 7),
        ctx.storage.as_ref(),
        ctx.meta.as_ref(),
        2048,
    )
    .unwrap();
    assert_eq!(m.count, 569);
    let blocks = ctx.read_table("ns", "b").unwrap();
    for (i, b) in blocks.iter().enumerate() {
        assert!(b.iter().all(|(k, _)| partition_of(k, 7) == i));
    }
    let out = root.join("o.csv");
    ctx.download("ns", "b", &out, ",").unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&src).unwrap());

    // An error after several appends still leaves nothing behind.
    let mut text = std::fs::read_to_string(&src).unwrap();
    text.push_str("99999,1,2\n");
    let bad = root.join("bad.csv");
    std::fs::write(&bad, text).unwrap();
    let err = upload_buffered(
        &conf(&bad, "ns", "late", 7),
        ctx.storage.as_ref(),
        ctx.meta.as_ref(),
        2048,
    )
    .unwrap_err()
    .to_string();
    assert!(err.ends_with("line 571: 3 fields, header has 12"), "{err}");
    assert!(!table_dir(root, "ns", "late").exists());
    assert!(ctx.meta.get_table_meta("ns", "late").unwrap().is_none());
    let left: Vec<_> = std::fs::read_dir(root.join("tables/ns"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["b"]);
}

#[test]
fn download_without_order_sorts_numerically_and_converts_delimiter() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = StorageContext::open_local(dir.path()).unwrap();
    let src = dir.path().join("in.csv");
    std::fs::write(&src, "id,a,b\r\n10,1,2\r\n9,3,4\r\n\r\n100,5,6").unwrap();
    let meta = ctx.upload(&conf(&src, "ns", "t", 3)).unwrap();
    assert_eq!(meta.count, 3);
    let out = dir.path().join("o.csv");
    ctx.download("ns", "t", &out, ",").unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "id,a,b\n10,1,2\n9,3,4\n100,5,6\n"
    );
    // Remove the recorded order: rows come out sorted by numeric key.
    std::fs::remove_file(table_dir(dir.path(), "ns", "t").join("order.u16")).unwrap();
    ctx.download("ns", "t", &out, "\t").unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "id\ta\tb\n9\t3\t4\n10\t1\t2\n100\t5\t6\n"
    );
}

#[test]
fn extend_sid_and_no_head() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = StorageContext::open_local(dir.path()).unwrap();
    let src = dir.path().join("in.csv");
    std::fs::write(&src, "x,y\n1,1\n1,1\n2,2\n").unwrap();
    let mut c = conf(&src, "ns", "ext", 4);
    c.extend_sid = true;
    let m = ctx.upload(&c).unwrap();
    assert_eq!(m.count, 3);
    assert_eq!(m.schema.sid, "sid");
    assert_eq!(m.schema.header, "x,y");
    assert_eq!(m.part_of_data[1].1, "1,1");
    assert!(m.part_of_data[0].0.ends_with('0') && m.part_of_data[0].0.len() == 33);
    let out = dir.path().join("o.csv");
    ctx.download("ns", "ext", &out, ",").unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "x,y\n1,1\n1,1\n2,2\n"
    );

    c.table_name = "auto".into();
    c.auto_increasing_sid = true;
    let m = ctx.upload(&c).unwrap();
    let keys: Vec<_> = m.part_of_data.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(keys, ["0", "1", "2"]);

    // head = 0: every line is data, no ragged check (tag data has varying widths).
    std::fs::write(&src, "a b:1\nb b:1 c:2\n").unwrap();
    let mut c = conf(&src, "ns", "tags", 2);
    c.head = false;
    c.id_delimiter = " ".into();
    let m = ctx.upload(&c).unwrap();
    assert_eq!(m.count, 2);
    assert_eq!(m.part_of_data[1], ("b".to_string(), "b:1 c:2".to_string()));
    ctx.download("ns", "tags", &out, " ").unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "a b:1\nb b:1 c:2\n");
}

#[test]
fn bad_inputs_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ctx = StorageContext::open_local(root).unwrap();
    let src = root.join("bad.csv");
    let cases: Vec<(&str, Option<&str>, String)> = vec![
        ("missing", None, "file not found".into()),
        ("empty", Some(""), "empty file".into()),
        ("blank", Some("\n \r\n\n"), "empty file".into()),
        (
            "ragged",
            Some("id,a,b\n1,2,3\n2,3\n"),
            "line 3: 2 fields, header has 3".into(),
        ),
        (
            "dup",
            Some("id,a\n5,1\n6,1\n\n5,2\n"),
            "line 5: duplicate id '5' (first at line 2)".into(),
        ),
        ("utf8", Some("id,a\n1,\u{0}\n"), String::new()),
    ];
    for (name, content, expected) in cases {
        let _ = std::fs::remove_file(&src);
        if let Some(c) = content {
            let bytes: Vec<u8> = if name == "utf8" {
                b"id,a\n1,ok\n2,\xff\xfe\n".to_vec()
            } else {
                c.as_bytes().to_vec()
            };
            std::fs::write(&src, bytes).unwrap();
        }
        let err = ctx
            .upload(&conf(&src, "ns", name, 4))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&src.display().to_string()), "{name}: {err}");
        if name == "utf8" {
            assert!(err.contains("line 3: not valid UTF-8"), "{err}");
        } else {
            assert!(err.contains(&expected), "{name}: {err}");
        }
        assert!(!err.contains('\n'), "{name}: multi-line error");
        assert_nothing(&ctx, root, "ns", name);
    }
    // A ragged row at the very end (a million rows in, it is the same path).
    std::fs::write(&src, "id,a\n1,2\n2,3,4").unwrap();
    let err = ctx
        .upload(&conf(&src, "ns", "late", 2))
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("line 3: 3 fields, header has 2"), "{err}");
    assert_nothing(&ctx, root, "ns", "late");

    // Unknown table on read/download.
    let err = ctx
        .download("ns", "nope", &root.join("x.csv"), ",")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "table ns.nope not found");
    assert!(matches!(
        ctx.read_table("nope", "nope"),
        Err(StorageError::TableNotFound { .. })
    ));
    assert!(!root.join("x.csv").exists());

    // A partition file gone missing is reported, not silently skipped.
    std::fs::write(&src, "id,a\n1,2\n2,3\n3,4\n").unwrap();
    ctx.upload(&conf(&src, "ns", "ok", 2)).unwrap();
    std::fs::remove_file(table_dir(root, "ns", "ok").join("part-00001.ffrb")).unwrap();
    let err = ctx.read_table("ns", "ok").unwrap_err().to_string();
    assert!(err.contains("meta says 2 partitions"), "{err}");
}

#[test]
fn existing_table_refused_without_drop_replaced_with_drop() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ctx = StorageContext::open_local(root).unwrap();
    let v1 = root.join("v1.csv");
    let v2 = root.join("v2.csv");
    std::fs::write(&v1, "id,a\n1,x\n2,y\n").unwrap();
    std::fs::write(&v2, "id,a\n7,z\n").unwrap();
    let first = ctx.upload(&conf(&v1, "ns", "t", 2)).unwrap();
    assert_eq!(first.count, 2);

    let err = ctx.upload(&conf(&v2, "ns", "t", 2)).unwrap_err();
    assert!(matches!(err, StorageError::TableExists { .. }), "{err}");
    assert_eq!(ctx.meta.get_table_meta("ns", "t").unwrap().unwrap(), first);
    let out = root.join("o.csv");
    ctx.download("ns", "t", &out, ",").unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "id,a\n1,x\n2,y\n");

    // drop with a bad file: the old table stays intact.
    std::fs::write(&v2, "id,a\n7,z\n7,w\n").unwrap();
    let mut c = conf(&v2, "ns", "t", 3);
    c.drop = true;
    assert!(ctx.upload(&c).is_err());
    assert_eq!(ctx.meta.get_table_meta("ns", "t").unwrap().unwrap(), first);
    ctx.download("ns", "t", &out, ",").unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "id,a\n1,x\n2,y\n");

    // drop with a good file replaces.
    std::fs::write(&v2, "id,a\n7,z\n").unwrap();
    let second = ctx.upload(&c).unwrap();
    assert_eq!((second.count, second.partitions), (1, 3));
    assert_eq!(ctx.read_table("ns", "t").unwrap().len(), 3);
    ctx.download("ns", "t", &out, ",").unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "id,a\n7,z\n");
    let left: Vec<_> = std::fs::read_dir(root.join("tables/ns"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["t"]);
    assert_eq!(ctx.meta.list_tables(Some("ns")).unwrap().len(), 1);

    assert!(ctx.delete_table("ns", "t").unwrap());
    assert_nothing(&ctx, root, "ns", "t");
}

#[test]
fn storage_engine_field_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = StorageContext::open_local(dir.path()).unwrap();
    let src = dir.path().join("in.csv");
    std::fs::write(&src, "id,a\n1,2\n").unwrap();
    let mut c = conf(&src, "ns", "t", 1);
    c.storage_engine = Some("EGGROLL".into());
    let err = ctx.upload(&c).unwrap_err().to_string();
    assert!(
        err.starts_with("upload conf: field 'storage_engine'"),
        "{err}"
    );
    assert_nothing(&ctx, dir.path(), "ns", "t");
    c.storage_engine = Some("local".into());
    ctx.upload(&c).unwrap();
}

#[test]
fn relative_file_resolves_against_base() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("confs/data")).unwrap();
    std::fs::write(dir.path().join("confs/data/in.csv"), "id,a\n1,2\n").unwrap();
    let c = parse_upload_conf(
        &json!({"file": "data/in.csv", "namespace": "ns", "table_name": "t"}),
        &dir.path().join("confs"),
    )
    .unwrap();
    assert_eq!(c.file, dir.path().join("confs/data/in.csv"));
    let ctx = StorageContext::open_local(&dir.path().join("root")).unwrap();
    assert_eq!(ctx.upload(&c).unwrap().count, 1);
}

#[test]
fn context_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.csv");
    std::fs::write(&src, "id,a\n1,2\n").unwrap();
    {
        let ctx = StorageContext::open_local(dir.path()).unwrap();
        ctx.upload(&conf(&src, "ns", "t", 1)).unwrap();
    }
    let ctx = StorageContext::open_local(dir.path()).unwrap();
    let m = ctx.meta.get_table_meta("ns", "t").unwrap().unwrap();
    assert_eq!(m.count, 1);
    assert_eq!(ctx.read_table("ns", "t").unwrap()[0].len(), 1);
}

#[test]
fn upload_download_round_trip_with_meta_on_mariadb() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let test_db = crate::testutil::mariadb();
    let ctx = StorageContext::open(root, Some(&test_db.url)).unwrap();
    assert!(
        !root.join(META_FILE).exists(),
        "no SQLite file when the meta store is MariaDB"
    );
    let src = breast();
    let meta = ctx
        .upload(&conf(&src, "experiment", "breast_hetero_guest", 4))
        .unwrap();
    assert_eq!(meta.count, 569);
    // The row is in MariaDB: a second context on the same URL sees it.
    let other = StorageContext::open(root, Some(&test_db.url)).unwrap();
    assert_eq!(
        other
            .meta
            .get_table_meta("experiment", "breast_hetero_guest")
            .unwrap(),
        Some(meta.clone())
    );
    let rows = test_db
        .db
        .query(
            "SELECT f_count, f_partitions FROM t_storage_table_meta WHERE f_namespace = ?",
            &["experiment".into()],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].i64(0).unwrap(), rows[0].i64(1).unwrap()), (569, 4));
    // Uploading again is refused by the MariaDB meta store.
    let err = other
        .upload(&conf(&src, "experiment", "breast_hetero_guest", 4))
        .unwrap_err();
    assert!(matches!(err, StorageError::TableExists { .. }), "{err}");

    let out = root.join("out.csv");
    let n = other
        .download("experiment", "breast_hetero_guest", &out, ",")
        .unwrap();
    assert_eq!(n, 569);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&src).unwrap());
    assert!(ctx
        .delete_table("experiment", "breast_hetero_guest")
        .unwrap());
    assert_nothing(&other, root, "experiment", "breast_hetero_guest");
}

#[test]
fn open_with_unreachable_meta_url_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let e = StorageContext::open(dir.path(), Some("mysql://root:pw@127.0.0.1:1/fedflow"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "meta store: mysql://root@127.0.0.1:1/fedflow: cannot connect to 127.0.0.1:1: "
        ),
        "{e}"
    );
    assert!(!e.contains('\n') && !e.contains(":pw@"), "{e}");
    // open_local is open(root, None): a SQLite file under the root.
    let ctx = StorageContext::open(dir.path(), None).unwrap();
    assert!(dir.path().join(META_FILE).is_file());
    assert!(ctx.meta.list_tables(None).unwrap().is_empty());
}

#[test]
fn localfs_upload_download_matches_local_and_hdfs_needs_spark() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = StorageContext::open_local(dir.path()).unwrap();
    let src = breast();
    let local = ctx.upload(&conf(&src, "ns", "local", 4)).unwrap();
    // LOCALFS at an explicit address (FATE's storage_address object).
    let target = dir.path().join("fs/breast");
    let mut c = parse_upload_conf(
        &json!({"file": src.to_str().unwrap(), "namespace": "ns", "table_name": "fs",
                "head": 1, "partition": 4, "storage_engine": "LOCALFS",
                "storage_address": {"path": target.to_str().unwrap()}}),
        Path::new("/"),
    )
    .unwrap();
    let fs = ctx.upload(&c).unwrap();
    assert_eq!(fs.engine, "LOCALFS");
    assert_eq!(
        fs.address,
        StoreAddress::Path {
            uri: format!("file://{}", target.display())
        }
    );
    assert_eq!((fs.count, fs.partitions), (local.count, 4));
    assert!(target.join("part-00003").is_file() && target.join("_SUCCESS").is_file());
    // Same partitions, byte for byte, as the local engine's.
    let a = ctx.read_table("ns", "local").unwrap();
    let b = ctx.read_table("ns", "fs").unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.encoded(), y.encoded());
    }
    // Download restores the input order, as for the local engine.
    let (out_a, out_b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    assert_eq!(
        ctx.download("ns", "local", &out_a, ",").unwrap(),
        local.count
    );
    assert_eq!(ctx.download("ns", "fs", &out_b, ",").unwrap(), local.count);
    assert_eq!(
        std::fs::read_to_string(&out_a).unwrap(),
        std::fs::read_to_string(&out_b).unwrap()
    );
    // Without an address: under the context's path root.
    c.storage_address = None;
    c.table_name = "fs2".into();
    let fs2 = ctx.upload(&c).unwrap();
    assert_eq!(
        fs2.address,
        StoreAddress::Path {
            uri: format!("{}/ns/fs2", ctx.path_root)
        }
    );
    // Delete removes the directory.
    assert!(ctx.delete_table("ns", "fs").unwrap());
    assert!(!target.exists());
    // hdfs:// cannot be written by fedflow: one line naming the address.
    c.storage_engine = Some("HDFS".into());
    c.storage_address = Some("hdfs://namenode:8020/fate/input_data/ns/h".into());
    c.table_name = "h".into();
    let err = ctx.upload(&c).unwrap_err().to_string();
    assert!(
        err.contains("hdfs://namenode:8020/fate/input_data/ns/h") && err.contains("Spark"),
        "{err}"
    );
    assert!(ctx.meta.get_table_meta("ns", "h").unwrap().is_none());
}

#[test]
fn cr_only_files_ragged_headerless_rows_and_bad_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = StorageContext::open_local(dir.path()).unwrap();
    let src = dir.path().join("in.csv");
    // CR-only line endings: one "line" with carriage returns inside.
    std::fs::write(&src, "id,a\r1,2\r3,4\r").unwrap();
    let e = ctx
        .upload(&conf(&src, "ns", "cr", 2))
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1: carriage return inside the line"), "{e}");
    // Headerless dense rows must all have the first row's width.
    std::fs::write(&src, "1,2,3\n2,3,4\n3,4\n").unwrap();
    let mut c = conf(&src, "ns", "ragged", 2);
    c.head = false;
    let e = ctx.upload(&c).unwrap_err().to_string();
    assert!(
        e.ends_with("line 3: 2 fields, the first row (line 1) has 3"),
        "{e}"
    );
    assert!(ctx.meta.get_table_meta("ns", "ragged").unwrap().is_none());
    assert!(ctx.meta.get_table_meta("ns", "cr").unwrap().is_none());
    // A name with a newline is refused before anything is written.
    let e = parse_upload_conf(
        &json!({"file": src.to_str().unwrap(), "namespace": "ns", "table_name": "a\nb"}),
        Path::new("/"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("upload conf: field 'table_name'"), "{e}");
}

#[test]
fn path_tables_stay_under_the_roots_and_foreign_directories_survive() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = StorageContext::open_local(dir.path()).unwrap();
    ctx.address_roots = Some(vec![ctx.path_root.clone()]);
    let src = dir.path().join("in.csv");
    std::fs::write(&src, "id,a\n1,2\n3,4\n").unwrap();
    let mine = dir.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("precious.txt"), b"keep me").unwrap();
    let up = |addr: &str, name: &str| {
        parse_upload_conf(
            &json!({"file": src.to_str().unwrap(), "namespace": "ns", "table_name": name,
                    "storage_engine": "LOCALFS", "storage_address": addr, "drop": 1}),
            Path::new("/"),
        )
        .unwrap()
    };
    // Outside the roots: refused, nothing touched.
    let e = ctx
        .upload(&up(mine.to_str().unwrap(), "t"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("field 'storage_address'"), "{e}");
    assert_eq!(
        std::fs::read(mine.join("precious.txt")).unwrap(),
        b"keep me"
    );
    // Under the root, fine; a foreign directory there is neither replaced nor deleted.
    let root = crate::path::local_dir(&ctx.path_root).unwrap();
    let foreign = root.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), b"not a table").unwrap();
    let e = ctx
        .upload(&up(foreign.to_str().unwrap(), "t"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a fedflow table directory"), "{e}");
    assert_eq!(
        std::fs::read(foreign.join("notes.txt")).unwrap(),
        b"not a table"
    );
    let m = ctx
        .upload(&up(root.join("t").to_str().unwrap(), "t"))
        .unwrap();
    assert_eq!(m.count, 2);
    // Replacing fedflow's own table works; deleting it too.
    ctx.upload(&up(root.join("t").to_str().unwrap(), "t"))
        .unwrap();
    assert!(ctx.delete_table("ns", "t").unwrap());
    assert!(!root.join("t").exists());
}
