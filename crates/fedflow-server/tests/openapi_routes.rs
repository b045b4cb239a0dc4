//! `GET /openapi.json` documents every route the router registers: the
//! routes are read from the `.route("…", method(…))` calls of the API and
//! board sources and compared, path and method, with the document served.

use std::collections::BTreeSet;
use std::path::Path;

/// `(path, method)` of every `.route(…)` call in the `.rs` files of `dir`.
fn routes_in(dir: &Path, out: &mut BTreeSet<(String, String)>) {
    for e in std::fs::read_dir(dir).expect("source dir") {
        let p = e.expect("dir entry").path();
        if p.extension().is_some_and(|x| x == "rs") {
            let src = std::fs::read_to_string(&p).expect("source file");
            let mut rest = src.as_str();
            while let Some(i) = rest.find(".route(") {
                rest = &rest[i + ".route(".len()..];
                let s = rest.trim_start();
                let Some(s) = s.strip_prefix('"') else {
                    continue;
                };
                let Some(end) = s.find('"') else { continue };
                let path = s[..end].to_string();
                let after = s[end + 1..]
                    .trim_start()
                    .trim_start_matches(',')
                    .trim_start();
                let method = ["get", "post", "put", "delete", "patch"]
                    .iter()
                    .find(|m| {
                        after.starts_with(&format!("{m}("))
                            || after.starts_with(&format!("axum::routing::{m}("))
                    })
                    .unwrap_or_else(|| panic!("{}: route {path}: unknown method", p.display()));
                out.insert((path, method.to_string()));
            }
        }
    }
}

#[test]
fn openapi_documents_every_router_route() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = BTreeSet::new();
    routes_in(&src.join("api"), &mut routes);
    routes_in(&src.join("board"), &mut routes);
    assert!(routes.len() > 40, "found only {} routes", routes.len());
    assert!(routes.iter().any(|(p, _)| p.starts_with("/v1/party/")));
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../src/api/openapi.json")).expect("openapi.json");
    let paths = doc["paths"].as_object().expect("paths");
    let missing: Vec<_> = routes
        .iter()
        .filter(|(p, m)| paths.get(p).and_then(|v| v.get(m)).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from openapi.json: {missing:?}"
    );
    // Every path parameter of a route is declared.
    for (p, m) in &routes {
        let op = &paths[p][m];
        for seg in p.split('/').filter(|s| s.starts_with('{')) {
            let name = &seg[1..seg.len() - 1];
            let declared = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|x| x["name"] == name && x["in"] == "path"));
            assert!(declared, "{m} {p}: path parameter '{name}' not declared");
        }
    }
    let documented: BTreeSet<_> = paths.keys().cloned().collect();
    let served: BTreeSet<_> = routes.iter().map(|(p, _)| p.clone()).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        extra.is_empty(),
        "openapi.json documents routes the router lacks: {extra:?}"
    );
}
