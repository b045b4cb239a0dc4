use super::*;
use crate::{MemoryTracker, TaskContext};
use fedflow_computing::standalone::{StandaloneOptions, StandaloneSession};
use fedflow_core::{Party, Role};
use fedflow_federation::standalone::{StandaloneFederation, StandaloneFederationOptions};
use fedflow_federation::Roster;
use std::sync::Arc;

fn ctx(base: &std::path::Path, local: Party, params: serde_json::Value) -> TaskContext {
    let mut roster = Roster::default();
    roster.0.insert(Role::Guest, vec![9999]);
    roster.0.insert(Role::Host, vec![10000]);
    TaskContext {
        job_id: "j".into(),
        component_name: "secure_add_example_0".into(),
        local,
        roster,
        params,
        computing: Arc::new(StandaloneSession::new("s", StandaloneOptions::default()).unwrap()),
        federation: Arc::new(
            StandaloneFederation::new(
                base,
                "j_secure_add_example_0",
                local,
                StandaloneFederationOptions::default(),
            )
            .unwrap(),
        ),
        tracker: Arc::new(MemoryTracker::default()),
        inputs: Default::default(),
        storage: None,
        job_type: "train".into(),
    }
}

#[test]
fn guest_and_host_reconstruct_the_sum() {
    let dir = tempfile::tempdir().unwrap();
    let params = serde_json::json!({"seed": 1, "partition": 5, "data_num": 12345});
    let g = ctx(dir.path(), Party::new(Role::Guest, 9999), params.clone());
    let h = ctx(dir.path(), Party::new(Role::Host, 10000), params);
    let host = std::thread::spawn(move || SecureAddExample.run(&h));
    let out = SecureAddExample.run(&g).unwrap();
    host.join().unwrap().unwrap();
    let sum = out.summary["secure_sum"].as_f64().unwrap();
    assert!((sum - 24690.0).abs() < 1e-6);
    // The shares really are random: the guest's own sum is not the half.
    assert!((out.summary["guest_sum"].as_f64().unwrap() - 12345.0).abs() > 1e-3);
}

#[test]
fn bad_parameter_names_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let g = ctx(
        dir.path(),
        Party::new(Role::Guest, 9999),
        serde_json::json!({"data_num": "many"}),
    );
    let e = SecureAddExample.run(&g).unwrap_err().to_string();
    assert!(
        e.starts_with("parameter secure_add_example_0.data_num: invalid type"),
        "{e}"
    );
    let g = ctx(
        dir.path(),
        Party::new(Role::Guest, 9999),
        serde_json::json!({"partition": 0}),
    );
    let e = SecureAddExample.run(&g).unwrap_err().to_string();
    assert!(
        e.contains("secure_add_example_0.partition: expected an integer from 1"),
        "{e}"
    );
}
