//! `fedflow data …` and `fedflow table …`.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use fedflow_storage::{parse_upload_conf, require_table, StorageContext};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Upload a CSV as a table, from FATE's upload conf.
    Upload {
        /// Upload conf (file, head, partition, table_name, namespace, id_delimiter, drop, extend_sid).
        #[arg(short = 'c', long = "conf")]
        conf: PathBuf,
        /// Replace the table if it exists (as FATE's --drop).
        #[arg(long)]
        drop: bool,
    },
    /// Write a table back as CSV (id column first, then the header's columns).
    Download {
        /// FATE's download conf (namespace, table_name, output_path, delimiter).
        #[arg(short = 'c', long = "conf", conflicts_with_all = ["table_name", "namespace", "output_path"])]
        conf: Option<PathBuf>,
        /// Table name.
        #[arg(short = 't', long = "table-name")]
        table_name: Option<String>,
        /// Namespace.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Output CSV path.
        #[arg(short = 'o', long = "output-path")]
        output_path: Option<PathBuf>,
        /// Field delimiter of the output.
        #[arg(long, default_value = ",")]
        delimiter: String,
    },
    /// Generate a deterministic synthetic vertical split: DIR/guest.csv
    /// (id,y,x0..) and DIR/host.csv (id,x0..) with a learnable label.
    Gen {
        /// Rows.
        #[arg(long)]
        rows: u64,
        /// Guest features.
        #[arg(long = "guest-features", default_value_t = 10)]
        guest_features: usize,
        /// Host features.
        #[arg(long = "host-features", default_value_t = 20)]
        host_features: usize,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Fraction of the host's ids that the guest also has.
        #[arg(long, default_value_t = 1.0)]
        overlap: f64,
        /// Horizontal split instead: this many parties (`party_0.csv`…),
        /// each with its share of the rows and all `--features` columns.
        #[arg(long, value_name = "PARTIES")]
        homo: Option<usize>,
        /// Features of the horizontal split.
        #[arg(long, default_value_t = 30, requires = "homo")]
        features: usize,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum TableCommand {
    /// Count, partitions, schema and the first rows of a table.
    Info {
        /// Table name.
        #[arg(short = 't', long = "table-name")]
        table_name: String,
        /// Namespace.
        #[arg(short = 'n', long)]
        namespace: String,
        /// Rows to show.
        #[arg(long, default_value_t = 5)]
        rows: usize,
        /// Print FATE's table_info JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Tables in the meta store.
    List {
        /// Only this namespace.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
    },
    /// Delete a table (data and meta).
    Delete {
        /// Table name.
        #[arg(short = 't', long = "table-name")]
        table_name: String,
        /// Namespace.
        #[arg(short = 'n', long)]
        namespace: String,
    },
}

fn open(dir: &Path) -> Result<StorageContext> {
    StorageContext::open_local(dir).with_context(|| format!("opening storage at {}", dir.display()))
}

pub fn run_data(cmd: DataCommand, dir: &Path, server: &Option<String>) -> Result<()> {
    match cmd {
        DataCommand::Upload { conf, drop } => {
            let mut v = super::job::read_json(&conf, "upload conf")?;
            let base = conf.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut up = parse_upload_conf(&v, &base)?;
            up.drop |= drop;
            if let Some(url) = server {
                // Through a server: the file travels as multipart, as fate-client sends it.
                v["drop"] = serde_json::json!(up.drop as u8);
                let r = super::client::Client::new(url).upload(&v, &up.file)?;
                println!(
                    "uploaded {}.{} on {url}: {} rows (job {})",
                    r["data"]["namespace"].as_str().unwrap_or_default(),
                    r["data"]["table_name"].as_str().unwrap_or_default(),
                    r["data"]["count"],
                    r["jobId"].as_str().unwrap_or_default()
                );
                return Ok(());
            }
            let ctx = open(dir)?;
            let started = std::time::Instant::now();
            let meta = ctx.upload(&up)?;
            println!(
                "uploaded {}.{}: {} rows, {} partitions, sid '{}', header '{}' in {:.3} s",
                meta.namespace,
                meta.name,
                meta.count,
                meta.partitions,
                meta.schema.sid,
                meta.schema.header,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        DataCommand::Gen {
            rows,
            guest_features,
            host_features,
            seed,
            overlap,
            homo,
            features,
            out,
        } => {
            let started = std::time::Instant::now();
            if let Some(parties) = homo {
                if overlap != 1.0 {
                    anyhow::bail!(
                        "--overlap is for the vertical split; --homo parties hold distinct rows"
                    );
                }
                let paths = super::gen::generate_homo(rows, features, parties, seed, &out)?;
                println!(
                    "wrote {} files under {}: {rows} rows split over {parties} parties, {features} features each, in {:.2} s",
                    paths.len(),
                    out.display(),
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            let (g, h) =
                super::gen::generate(rows, guest_features, host_features, seed, overlap, &out)?;
            println!(
                "wrote {} and {}: {rows} rows, {guest_features} guest and {host_features} host features, in {:.2} s",
                g.display(),
                h.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        DataCommand::Download {
            conf,
            table_name,
            namespace,
            output_path,
            delimiter,
        } => {
            let (name, ns, out, delim) = match conf {
                Some(c) => {
                    let v = super::job::read_json(&c, "download conf")?;
                    let get = |k: &str| -> Result<String> {
                        v.get(k)
                            .and_then(|x| x.as_str())
                            .map(str::to_string)
                            .with_context(|| {
                                format!(
                                    "download conf {}: field '{k}': missing (expected a string)",
                                    c.display()
                                )
                            })
                    };
                    let d = v
                        .get("delimiter")
                        .and_then(|x| x.as_str())
                        .unwrap_or(",")
                        .to_string();
                    (
                        get("table_name")?,
                        get("namespace")?,
                        PathBuf::from(get("output_path")?),
                        d,
                    )
                }
                None => match (table_name, namespace, output_path) {
                    (Some(t), Some(n), Some(o)) => (t, n, o, delimiter),
                    _ => bail!("download: give -c CONF, or all of -t TABLE -n NAMESPACE -o OUTPUT"),
                },
            };
            let n = open(dir)?.download_with(
                &ns,
                &name,
                &out,
                &delim,
                Some(fedflow_components::preview_value),
            )?;
            println!("downloaded {ns}.{name}: {n} rows to {}", out.display());
            Ok(())
        }
    }
}

pub fn run_table(cmd: TableCommand, dir: &Path, server: &Option<String>) -> Result<()> {
    if let Some(url) = server {
        return run_table_remote(cmd, url);
    }
    let ctx = open(dir)?;
    match cmd {
        TableCommand::Info {
            table_name,
            namespace,
            rows,
            json,
        } => {
            let meta = require_table(ctx.meta.as_ref(), &namespace, &table_name)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "table_name": meta.name, "namespace": meta.namespace, "count": meta.count,
                        "partition": meta.partitions, "schema": meta.schema, "engine": meta.engine,
                        "origin": meta.origin, "address": meta.address,
                    }))?
                );
                return Ok(());
            }
            println!("table      {}.{}", meta.namespace, meta.name);
            println!("count      {}", meta.count);
            println!("partitions {}", meta.partitions);
            println!("engine     {}", meta.engine);
            println!("address    {}", meta.address.display());
            println!("sid        {}", meta.schema.sid);
            println!("header     {}", meta.schema.header);
            println!("origin     {}", meta.origin.as_str());
            println!("first rows:");
            if rows <= meta.part_of_data.len() || meta.count <= meta.part_of_data.len() as u64 {
                for (k, v) in meta.part_of_data.iter().take(rows) {
                    println!("  {k}{}{v}", meta.id_delimiter);
                }
            } else {
                // More than the meta row keeps (100): read them from the table.
                let blocks = fedflow_storage::read_checked(&meta, ctx.storage.as_ref())?;
                for (k, v) in blocks.iter().flat_map(|b| b.iter()).take(rows) {
                    println!(
                        "  {}{}{}",
                        fedflow_components::preview_value(k),
                        meta.id_delimiter,
                        fedflow_components::preview_value(v)
                    );
                }
            }
            Ok(())
        }
        TableCommand::List { namespace } => {
            for m in ctx.meta.list_tables(namespace.as_deref())? {
                println!(
                    "{}.{}\t{} rows\t{} partitions",
                    m.namespace, m.name, m.count, m.partitions
                );
            }
            Ok(())
        }
        TableCommand::Delete {
            table_name,
            namespace,
        } => {
            if !ctx.delete_table(&namespace, &table_name)? {
                bail!("table {namespace}.{table_name} does not exist");
            }
            println!("deleted {namespace}.{table_name}");
            Ok(())
        }
    }
}

fn run_table_remote(cmd: TableCommand, url: &str) -> Result<()> {
    let c = super::client::Client::new(url);
    match cmd {
        TableCommand::Info {
            table_name,
            namespace,
            json,
            ..
        } => {
            let v = c.post(
                "table/table_info",
                serde_json::json!({"table_name": table_name, "namespace": namespace}),
            )?;
            if v["data"]["exist"] != serde_json::json!(1) {
                bail!("table {namespace}.{table_name} not found on {url}");
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&v["data"])?);
            } else {
                let d = &v["data"];
                println!("table      {namespace}.{table_name}\ncount      {}\npartitions {}\nsid        {}\nheader     {}", d["count"], d["partition"], d["schema"]["sid"].as_str().unwrap_or_default(), d["schema"]["header"].as_str().unwrap_or_default());
            }
            Ok(())
        }
        TableCommand::List { namespace } => {
            let v = c.post("table/list", serde_json::json!({"namespace": namespace}))?;
            for t in v["data"].as_array().into_iter().flatten() {
                println!(
                    "{}.{}\t{} rows\t{} partitions",
                    t["namespace"].as_str().unwrap_or_default(),
                    t["table_name"].as_str().unwrap_or_default(),
                    t["count"],
                    t["partition"]
                );
            }
            Ok(())
        }
        TableCommand::Delete {
            table_name,
            namespace,
        } => {
            c.post(
                "table/delete",
                serde_json::json!({"table_name": table_name, "namespace": namespace}),
            )?;
            println!("deleted {namespace}.{table_name}");
            Ok(())
        }
    }
}
