//! Every fixture repository under tests/fixtures/ with an `expected.toml`
//! (found by listing the directory) is checked against it. The file is
//! written by hand: the complete list of routes (methods, full pattern,
//! handler, auth and rate-limit symbols) and of sinks, and, where it has
//! `[[guard]]` tables, every guard on every route with how it is attached,
//! its kind, whether it is required, the methods it covers and the lines of
//! its evidence. The scan must match exactly: a missing or an extra route,
//! sink or guard fails.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    #[serde(default)]
    route: Vec<Route>,
    #[serde(default)]
    sink: Vec<Sink>,
    #[serde(default)]
    guard: Vec<GuardExp>,
}

/// One guard on one route: `route` is `"GET,POST /path"` (the fact's methods and pattern).
#[derive(Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
#[serde(deny_unknown_fields)]
struct GuardExp {
    route: String,
    symbol: String,
    via: String,
    kind: String,
    required: bool,
    #[serde(default)]
    methods: Vec<String>,
    /// `file:line` of each piece of evidence, in order.
    evidence: Vec<String>,
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
    /// Never served: an earlier registration answers first.
    #[serde(default)]
    shadowed: bool,
    /// Placeholders for parts of the pattern that could not be evaluated.
    #[serde(default)]
    unresolved: Vec<String>,
    /// The `if` condition the registration is written under.
    #[serde(default)]
    condition: Option<String>,
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

/// (method, pattern, handler, auth, rate_limit, shadowed, unresolved, condition)
type Flat = (
    String,
    String,
    String,
    Vec<String>,
    Vec<String>,
    bool,
    Vec<String>,
    Option<String>,
);

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
                    r.shadowed,
                    r.unresolved.clone(),
                    r.condition.clone(),
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
                shadowed: f.shadowed,
                unresolved: f.unresolved.clone(),
                condition: f.condition.clone(),
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
    if !expected.guard.is_empty() {
        let want: BTreeSet<GuardExp> = expected.guard.iter().cloned().collect();
        let got: BTreeSet<GuardExp> = facts
            .iter()
            .filter(|f| f.kind == "route")
            .flat_map(|f| {
                let route = format!(
                    "{} {}",
                    f.methods.clone().unwrap().join(","),
                    f.pattern.clone().unwrap()
                );
                f.auth
                    .iter()
                    .flatten()
                    .chain(f.rate_limit.iter().flatten())
                    .map(move |g| GuardExp {
                        route: route.clone(),
                        symbol: g.symbol.clone(),
                        via: g.via.clone(),
                        kind: g.kind.to_string(),
                        required: g.required,
                        methods: g.methods.clone(),
                        evidence: g
                            .evidence
                            .iter()
                            .map(|e| format!("{}:{}", e.file, e.line))
                            .collect(),
                    })
            })
            .collect();
        for m in want.difference(&got) {
            problems.push(format!("missing guard {m:?}"));
        }
        for e in got.difference(&want) {
            problems.push(format!("unexpected guard {e:?}"));
        }
    }
    assert!(problems.is_empty(), "{name}:\n  {}", problems.join("\n  "));
}

/// Fixture directories with an `expected.toml`.
fn fixtures() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn every_fixture_matches_its_expected_toml() {
    let all = fixtures();
    assert!(all.len() >= 12, "fixtures found: {all:?}");
    let failed: Vec<String> = all
        .iter()
        .filter_map(|name| {
            std::panic::catch_unwind(|| check(name))
                .err()
                .map(|e| match e.downcast::<String>() {
                    Ok(s) => *s,
                    Err(_) => format!("{name}: panicked"),
                })
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
