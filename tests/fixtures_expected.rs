//! Every fixture repository under tests/fixtures/ has an `expected.toml`
//! written by hand: the complete list of routes (methods, full pattern,
//! handler, auth and rate-limit symbols) and of sinks. The scan must match it
//! exactly — a missing or an extra route or sink fails.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Deserialize)]
struct Expected {
    #[serde(default)]
    route: Vec<Route>,
    #[serde(default)]
    sink: Vec<Sink>,
}

#[derive(Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Route {
    methods: Vec<String>,
    pattern: String,
    handler: String,
    #[serde(default)]
    auth: Vec<String>,
    #[serde(default)]
    rate_limit: Vec<String>,
}

#[derive(Deserialize, Debug)]
struct Sink {
    kind: String,
    file: String,
    line: u32,
    api: String,
    op: Option<String>,
    safe: Option<bool>,
    name: Option<String>,
}

/// (method, pattern, handler, auth, rate_limit)
type Flat = (String, String, String, Vec<String>, Vec<String>);

const SINK_KINDS: &[&str] = &[
    "file_io",
    "yaml_load",
    "deserialization",
    "process_exec",
    "network_out",
    "secret",
];

fn check(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let expected: Expected =
        toml::from_str(&std::fs::read_to_string(dir.join("expected.toml")).unwrap()).unwrap();
    let scan = threatscan::scan(&threatscan::Options::new(&dir)).unwrap();
    let facts = threatscan::facts(&scan);

    // Routes: one entry per method for comparison, since a fixture may write
    // `get(a).post(b)` as two routes and `methods=["GET","POST"]` as one.
    let norm = |r: &Route| -> Vec<Flat> {
        let mut a = r.auth.clone();
        a.sort();
        let mut l = r.rate_limit.clone();
        l.sort();
        r.methods
            .iter()
            .map(|m| {
                (
                    m.clone(),
                    r.pattern.clone(),
                    r.handler.clone(),
                    a.clone(),
                    l.clone(),
                )
            })
            .collect()
    };
    let want: BTreeSet<_> = expected.route.iter().flat_map(norm).collect();
    let got: BTreeSet<_> = facts
        .iter()
        .filter(|f| f.kind == "route")
        .flat_map(|f| {
            norm(&Route {
                methods: f.methods.clone().unwrap(),
                pattern: f.pattern.clone().unwrap(),
                handler: f.handler.clone().unwrap(),
                auth: f
                    .auth
                    .as_ref()
                    .unwrap()
                    .iter()
                    .map(|g| g.symbol.clone())
                    .collect(),
                rate_limit: f
                    .rate_limit
                    .as_ref()
                    .unwrap()
                    .iter()
                    .map(|g| g.symbol.clone())
                    .collect(),
            })
        })
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    let mut problems = vec![];
    for m in &missing {
        problems.push(format!("missing route {m:?}"));
    }
    for e in &extra {
        problems.push(format!("unexpected route {e:?}"));
    }

    let fact_sinks: Vec<_> = facts
        .iter()
        .filter(|f| SINK_KINDS.contains(&f.kind))
        .collect();
    let mut matched = vec![false; fact_sinks.len()];
    for s in &expected.sink {
        let hit = fact_sinks.iter().enumerate().find(|(i, f)| {
            !matched[*i]
                && f.kind == s.kind
                && f.file == s.file
                && f.line == s.line
                && f.api.as_deref() == Some(s.api.as_str())
                && (s.op.is_none() || f.op == s.op)
                && (s.safe.is_none() || f.safe == s.safe)
                && (s.name.is_none() || f.name == s.name)
        });
        match hit {
            Some((i, _)) => matched[i] = true,
            None => problems.push(format!("missing sink {s:?}")),
        }
    }
    for (i, f) in fact_sinks.iter().enumerate() {
        if !matched[i] {
            problems.push(format!(
                "unexpected sink {} {}:{} {} op={:?} safe={:?} name={:?}",
                f.kind,
                f.file,
                f.line,
                f.api.as_deref().unwrap_or(""),
                f.op,
                f.safe,
                f.name
            ));
        }
    }
    assert!(problems.is_empty(), "{name}:\n  {}", problems.join("\n  "));
}

#[test]
fn py_fastapi() {
    check("py_fastapi");
}
#[test]
fn py_starlette() {
    check("py_starlette");
}
#[test]
fn py_flask() {
    check("py_flask");
}
#[test]
fn py_django() {
    check("py_django");
}
#[test]
fn py_aiohttp() {
    check("py_aiohttp");
}
#[test]
fn py_custom_router() {
    check("py_custom_router");
}
#[test]
fn rs_axum() {
    check("rs_axum");
}
#[test]
fn rs_actix() {
    check("rs_actix");
}
#[test]
fn rs_rocket() {
    check("rs_rocket");
}
#[test]
fn py_fastapi_deps() {
    check("py_fastapi_deps");
}
