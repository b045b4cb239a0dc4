//! Every op registered anywhere in the binary survives its serialised form.

use fedflow_computing::op::{check_round_trip, registry};

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
        check_round_trip(reg).unwrap();
    }
}
