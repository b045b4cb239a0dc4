//! Every op registered anywhere in the binary survives its serialised form.

use fedflow_computing::op::{registry, run_example};
use fedflow_computing::OpSpec;

#[test]
fn every_registered_op_round_trips_through_its_spec() {
    fedflow::link_all();
    let all = registry::all();
    let names: Vec<&str> = all.iter().map(|r| r.name).collect();
    for expected in [
        "secure_add_example.share",
        "secure_add_example.sum",
        "bench.generate",
        "bench.add_join",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} is registered: {names:?}"
        );
    }
    let mut dedup = names.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), names.len(), "op names are unique");
    for reg in all {
        let example = (reg.example)();
        let wire = serde_json::to_vec(&example.op.spec()).unwrap();
        let spec: OpSpec = serde_json::from_slice(&wire).unwrap();
        let rebuilt = registry::build(&spec).unwrap();
        let direct = run_example(&example.op, &example.input).unwrap();
        assert!(
            !direct.is_empty(),
            "{}: the example produces output",
            reg.name
        );
        assert_eq!(
            direct,
            run_example(&rebuilt, &example.input).unwrap(),
            "{}",
            reg.name
        );
    }
}
