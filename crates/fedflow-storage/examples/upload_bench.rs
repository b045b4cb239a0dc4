//! Times an upload and a download of a CSV file.
//!
//! `cargo run --release -p fedflow-storage --example upload_bench -- FILE [PARTITIONS]`

use fedflow_storage::{parse_upload_conf, StorageContext};
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).ok_or("usage: upload_bench FILE [PARTITIONS]")?;
    let partitions: u32 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(16);
    let root = std::env::temp_dir().join(format!("fedflow-bench-{}", std::process::id()));
    let ctx = StorageContext::open_local(&root)?;
    let conf = parse_upload_conf(
        &serde_json::json!({"file": file, "namespace": "bench", "table_name": "t",
                            "partition": partitions, "head": 1}),
        Path::new("."),
    )?;
    let t = Instant::now();
    let meta = ctx.upload(&conf)?;
    let up = t.elapsed().as_secs_f64();
    println!(
        "upload: {} rows, {} partitions in {:.3} s ({:.0} rows/s)",
        meta.count,
        partitions,
        up,
        meta.count as f64 / up
    );
    let out = root.join("out.csv");
    let t = Instant::now();
    let n = ctx.download("bench", "t", &out, ",")?;
    let down = t.elapsed().as_secs_f64();
    println!(
        "download: {n} rows in {down:.3} s ({:.0} rows/s)",
        n as f64 / down
    );
    let same = std::fs::read(file)? == std::fs::read(&out)?;
    println!("round trip identical: {same}");
    std::fs::remove_dir_all(&root)?;
    Ok(())
}
