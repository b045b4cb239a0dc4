//! Helpers for component tests: contexts, datasets from CSV, running parties.
#![allow(dead_code)]

use crate::{
    Component, ComponentError, ComponentOutput, Dataset, Inputs, MemoryTracker, Schema, TaskContext,
};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_computing::{parallelize, Session};
use fedflow_core::{Party, Role};
use fedflow_federation::standalone::{StandaloneFederation, StandaloneFederationOptions};
use fedflow_federation::Roster;
use std::path::Path;
use std::sync::Arc;

pub const GUEST: Party = Party {
    role: Role::Guest,
    party_id: 9999,
};
pub const HOST: Party = Party {
    role: Role::Host,
    party_id: 10000,
};

pub fn session() -> Arc<dyn Session> {
    Arc::new(StandaloneSession::new("s", StandaloneOptions::default()).unwrap())
}

pub fn roster(hosts: &[u64]) -> Roster {
    let mut roster = Roster::default();
    roster.0.insert(Role::Guest, vec![9999]);
    roster.0.insert(Role::Host, hosts.to_vec());
    roster.0.insert(Role::Arbiter, vec![10000]);
    roster
}

pub fn ctx(
    base: &Path,
    cpn: &str,
    local: Party,
    params: serde_json::Value,
    inputs: Inputs,
) -> TaskContext {
    ctx_with(base, cpn, local, params, inputs, roster(&[10000]))
}

pub fn ctx_with(
    base: &Path,
    cpn: &str,
    local: Party,
    params: serde_json::Value,
    inputs: Inputs,
    roster: Roster,
) -> TaskContext {
    TaskContext {
        job_id: "j".into(),
        component_name: cpn.into(),
        local,
        roster,
        params,
        computing: session(),
        federation: Arc::new(
            StandaloneFederation::new(
                base,
                &format!("j_{cpn}"),
                local,
                StandaloneFederationOptions::default(),
            )
            .unwrap(),
        ),
        tracker: Arc::new(MemoryTracker::default()),
        inputs,
        storage: None,
        job_type: "train".into(),
    }
}

/// The shared example data directory.
pub fn data(name: &str) -> std::path::PathBuf {
    Path::new("/work/shared/data").join(name)
}

/// A raw dataset as Reader gives it, from CSV text (first line = header).
pub fn raw_dataset(text: &str, partitions: usize) -> Dataset {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(',').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let s = session();
    let table = parallelize(s.as_ref(), rows, partitions).unwrap();
    let mut extra = serde_json::Map::new();
    extra.insert("id_delimiter".into(), ",".into());
    Dataset {
        table: table.raw().clone(),
        schema: Schema {
            sid: head[0].to_string(),
            header: head[1..].iter().map(|s| s.to_string()).collect(),
            label_name: None,
            extra,
        },
    }
}

pub fn raw_file(name: &str) -> Dataset {
    raw_dataset(&std::fs::read_to_string(data(name)).unwrap(), 4)
}

pub fn inputs(slot: &str, d: Dataset) -> Inputs {
    let mut i = Inputs::default();
    i.data.insert(slot.into(), vec![d]);
    i
}

/// Runs one component for several parties in threads; results in order.
pub fn run_all<C: Component + Sync>(
    c: &C,
    ctxs: Vec<TaskContext>,
) -> Vec<Result<ComponentOutput, ComponentError>> {
    std::thread::scope(|s| {
        let hs: Vec<_> = ctxs.iter().map(|x| s.spawn(|| c.run(x))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Runs one component through [`crate::run`] for several parties in
/// threads, a failing party aborting the federation (as the runner does);
/// results in order.
pub fn run_parties<C: Component + Sync>(
    c: &C,
    ctxs: &[TaskContext],
) -> Vec<Result<ComponentOutput, ComponentError>> {
    std::thread::scope(|s| {
        let hs: Vec<_> = ctxs
            .iter()
            .map(|x| {
                s.spawn(move || {
                    let r = crate::run(c, x);
                    if let Err(e) = &r {
                        x.federation.abort(&e.to_string());
                    }
                    r
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// `file` (a shipped CSV) through DataTransform with default parameters.
pub fn transformed(file: &str, with_label: bool, party: Party) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "dt",
        party,
        serde_json::json!({ "with_label": with_label }),
        inputs("data", raw_file(file)),
    );
    crate::data_transform::DataTransform
        .run(&c)
        .unwrap()
        .data
        .remove(0)
}

/// Instances from CSV text with a label column `y`, through DataTransform.
pub fn instances(csv: &str) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        serde_json::json!({"with_label": true}),
        inputs("data", raw_dataset(csv, 2)),
    );
    crate::data_transform::DataTransform
        .run(&c)
        .unwrap()
        .data
        .remove(0)
}
