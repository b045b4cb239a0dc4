//! Times an upload and a download of a CSV file.
//!
//! `cargo run --release -p fedflow-storage --example upload_bench -- FILE [PARTITIONS] [BUFFER_MIB]`

use fedflow_storage::{parse_upload_conf, upload_buffered, StorageContext, UPLOAD_BUFFER_BYTES};
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).ok_or("usage: upload_bench FILE [PARTITIONS]")?;
    let partitions: u32 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(16);
    let buffer: usize = args
        .get(3)
        .map(|s| s.parse::<usize>().map(|m| m << 20))
        .transpose()?
        .unwrap_or(UPLOAD_BUFFER_BYTES);
    let root = std::env::temp_dir().join(format!("fedflow-bench-{}", std::process::id()));
    let ctx = StorageContext::open_local(&root)?;
    let conf = parse_upload_conf(
        &serde_json::json!({"file": file, "namespace": "bench", "table_name": "t",
                            "partition": partitions, "head": 1}),
        Path::new("."),
    )?;
    let t = Instant::now();
    let meta = upload_buffered(&conf, ctx.storage.as_ref(), ctx.meta.as_ref(), buffer)?;
    let up = t.elapsed().as_secs_f64();
    println!(
        "upload: {} rows, {} partitions in {:.3} s ({:.0} rows/s)",
        meta.count,
        partitions,
        up,
        meta.count as f64 / up
    );
    if std::env::var_os("UPLOAD_ONLY").is_some() {
        std::fs::remove_dir_all(&root)?;
        return Ok(());
    }
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
