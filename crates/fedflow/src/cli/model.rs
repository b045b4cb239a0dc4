//! `fedflow model …` and `fedflow tracking …` (through a server).

use super::client::Client;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Deploy a trained model version (a new version for predict jobs).
    Deploy {
        /// Model id (`arbiter-10000#guest-9999#host-10000#model`).
        #[arg(long)]
        model_id: String,
        /// Model version (the training job id).
        #[arg(long)]
        model_version: String,
        /// Components to deploy (comma-separated; default all but Evaluation).
        #[arg(long)]
        cpn_list: Option<String>,
    },
    /// Check a model version is loadable.
    Load {
        #[arg(long)]
        model_id: String,
        #[arg(long)]
        model_version: String,
    },
    /// Model versions.
    Query {
        #[arg(long)]
        model_id: Option<String>,
        #[arg(long)]
        model_version: Option<String>,
    },
    /// The predict DSL of a model version.
    PredictDsl {
        #[arg(long)]
        model_id: String,
        #[arg(long)]
        model_version: String,
    },
    /// A predict conf template of a model version.
    PredictConf {
        #[arg(long)]
        model_id: String,
        #[arg(long)]
        model_version: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TrackingCommand {
    /// Metrics of a task (all points).
    Metrics {
        #[arg(short = 'j', long)]
        job_id: String,
        #[arg(short = 'r', long)]
        role: String,
        #[arg(short = 'p', long)]
        party_id: u64,
        #[arg(short = 'c', long = "component-name")]
        component_name: String,
    },
    /// The first rows of a task's output data.
    OutputData {
        #[arg(short = 'j', long)]
        job_id: String,
        #[arg(short = 'r', long)]
        role: String,
        #[arg(short = 'p', long)]
        party_id: u64,
        #[arg(short = 'c', long = "component-name")]
        component_name: String,
        #[arg(long, default_value_t = 10)]
        limit: u64,
    },
    /// A task's model.
    OutputModel {
        #[arg(short = 'j', long)]
        job_id: String,
        #[arg(short = 'r', long)]
        role: String,
        #[arg(short = 'p', long)]
        party_id: u64,
        #[arg(short = 'c', long = "component-name")]
        component_name: String,
    },
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

pub fn run_model(cmd: ModelCommand, url: &str) -> Result<()> {
    let c = Client::new(url);
    let v = match cmd {
        ModelCommand::Deploy {
            model_id,
            model_version,
            cpn_list,
        } => {
            let mut body = json!({"model_id": model_id, "model_version": model_version});
            if let Some(l) = cpn_list {
                body["cpn_list"] = json!(l);
            }
            c.post("model/deploy", body)?
        }
        ModelCommand::Load {
            model_id,
            model_version,
        } => c.post(
            "model/load",
            json!({"model_id": model_id, "model_version": model_version}),
        )?,
        ModelCommand::Query {
            model_id,
            model_version,
        } => c.post(
            "model/query",
            json!({"model_id": model_id, "model_version": model_version}),
        )?,
        ModelCommand::PredictDsl {
            model_id,
            model_version,
        } => c.post(
            "model/get/predict/dsl",
            json!({"model_id": model_id, "model_version": model_version}),
        )?,
        ModelCommand::PredictConf {
            model_id,
            model_version,
        } => c.post(
            "model/get/predict/conf",
            json!({"model_id": model_id, "model_version": model_version}),
        )?,
    };
    println!("{}", pretty(&v["data"]));
    Ok(())
}

pub fn run_tracking(cmd: TrackingCommand, url: &str) -> Result<()> {
    let c = Client::new(url);
    match cmd {
        TrackingCommand::Metrics {
            job_id,
            role,
            party_id,
            component_name,
        } => {
            let v = c.post(
                "tracking/component/metric/all",
                json!({"job_id": job_id, "role": role, "party_id": party_id.to_string(), "component_name": component_name}),
            )?;
            println!("{}", pretty(&v["data"]));
        }
        TrackingCommand::OutputData {
            job_id,
            role,
            party_id,
            component_name,
            limit,
        } => {
            let v = c.post(
                "tracking/component/output/data",
                json!({"job_id": job_id, "role": role, "party_id": party_id.to_string(), "component_name": component_name, "limit": limit}),
            )?;
            for (rows, meta) in v["data"]["data"]
                .as_array()
                .into_iter()
                .flatten()
                .zip(v["data"]["meta"].as_array().into_iter().flatten())
            {
                println!(
                    "{}  ({} rows)",
                    meta["header"]
                        .as_array()
                        .map(|h| h
                            .iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(","))
                        .unwrap_or_default(),
                    meta["total"]
                );
                for r in rows.as_array().into_iter().flatten() {
                    println!(
                        "{}",
                        r.as_array()
                            .map(|x| x
                                .iter()
                                .map(|c| c
                                    .as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| c.to_string()))
                                .collect::<Vec<_>>()
                                .join(","))
                            .unwrap_or_default()
                    );
                }
            }
        }
        TrackingCommand::OutputModel {
            job_id,
            role,
            party_id,
            component_name,
        } => {
            let v = c.post(
                "tracking/component/output/model",
                json!({"job_id": job_id, "role": role, "party_id": party_id.to_string(), "component_name": component_name}),
            )?;
            println!("{}", pretty(&v["data"]));
        }
    }
    Ok(())
}
