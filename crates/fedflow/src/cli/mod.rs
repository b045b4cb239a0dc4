//! Command-line definitions and dispatch.

pub mod bench;
pub mod bench_federation;
pub mod bench_homo;
pub mod cert;
pub mod client;
pub mod data;
pub mod gen;
pub mod job;
pub mod model;
pub mod server;
pub mod spark;
pub mod testsuite;
pub mod toy;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// fedflow: federated learning that speaks FATE.
#[derive(Parser, Debug)]
#[command(name = "fedflow", version, about)]
pub struct Cli {
    /// Data directory (tables, meta store, federation mailboxes).
    #[arg(long, global = true, env = "FEDFLOW_HOME")]
    pub data_dir: Option<PathBuf>,
    /// Log filter (tracing's syntax), e.g. `info`, `fedflow_flow=debug`.
    #[arg(long, global = true, env = "FEDFLOW_LOG")]
    pub log: Option<String>,
    /// A fedflow server's URL for the commands that talk to one (default http://127.0.0.1:9380).
    #[arg(long, global = true, env = "FEDFLOW_SERVER")]
    pub server: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run FATE's toy job (secure_add_example) between a guest and a host.
    Toy(toy::ToyArgs),
    /// Jobs: run a FATE job conf + DSL.
    #[command(subcommand)]
    Job(job::JobCommand),
    /// Data: upload and download tables.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Tables: info, list, delete.
    #[command(subcommand)]
    Table(data::TableCommand),
    /// Run a FATE testsuite (fate_test format): upload its data, run its tasks, print a table.
    Testsuite(testsuite::TestsuiteArgs),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(bench_federation::BenchAll),
    /// Certificates for the gRPC federation's mTLS: a CA, party certificates.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// Run a party's server: FATE Flow's REST API, scheduling, tracking, models.
    Server(server::ServerArgs),
    /// Task executor (started by the server).
    #[command(subcommand, hide = true)]
    Task(server::TaskCommand),
    /// Models on a server: deploy, load, query, predict DSL/conf.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Tracking on a server: metrics, output data, output model.
    #[command(subcommand)]
    Tracking(model::TrackingCommand),
    /// A local Spark standalone cluster for the Spark engine: up, down, status.
    #[command(subcommand)]
    Spark(spark::SparkCommand),
    /// The Spark engine's executor-side worker (rows on stdin, rows on stdout).
    #[command(hide = true)]
    Worker(spark::WorkerArgs),
}

/// The data directory: `--data-dir`, `$FEDFLOW_HOME`, else `~/.fedflow`.
pub fn data_dir(cli_dir: &Option<PathBuf>) -> PathBuf {
    cli_dir.clone().unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".fedflow")
    })
}

pub fn init_logging(cli: &Cli) {
    let default = match cli.command {
        Command::Toy(_)
        | Command::Job(job::JobCommand::Run { .. })
        | Command::Server(_)
        | Command::Task(_) => "info",
        Command::Testsuite(_) => "off",
        _ => "warn",
    };
    let filter = cli.log.clone().unwrap_or_else(|| default.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// An error chain as one line.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in e.chain() {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let dir = data_dir(&cli.data_dir);
    let server = cli.server.clone();
    match cli.command {
        Command::Toy(a) => toy::run(a, &dir),
        Command::Job(c) => job::run(c, &dir, &server),
        Command::Data(c) => data::run_data(c, &dir, &server),
        Command::Table(c) => data::run_table(c, &dir, &server),
        Command::Bench(c) => bench_federation::run(c, &dir),
        Command::Cert(c) => cert::run(c),
        Command::Server(a) => server::run_server(a, cli.data_dir.as_deref()),
        Command::Task(c) => server::run_task(c, &dir),
        Command::Model(c) => model::run_model(c, &client::server_url(&server)),
        Command::Tracking(c) => model::run_tracking(c, &client::server_url(&server)),
        Command::Testsuite(a) => testsuite::run(a, &dir),
        Command::Spark(c) => spark::run_spark(c, &dir),
        Command::Worker(a) => spark::run_worker(a),
    }
}
