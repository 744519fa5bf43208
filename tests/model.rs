//! `threatscan model` on the fixture apps: boundaries, assets, interactions
//! with their call chains, STRIDE cells, abuse paths, and a Mermaid diagram
//! that the real Mermaid parser accepts.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use threatscan::model::{self, Interaction, Model, ModelOptions};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn build(name: &str) -> Model {
    let scan = threatscan::scan(&threatscan::Options::new(fixture(name))).unwrap();
    model::build(&scan, &ModelOptions::default())
}

fn entry_id(m: &Model, methods: &str, pattern: &str) -> String {
    m.entry_points
        .iter()
        .find(|e| e.methods.join(",") == methods && e.pattern.as_deref() == Some(pattern))
        .unwrap_or_else(|| panic!("no entry point {methods} {pattern}"))
        .id
        .clone()
}

fn interaction<'a>(m: &'a Model, entry: &str, api: Option<&str>) -> &'a Interaction {
    m.interactions
        .iter()
        .find(|i| i.entry == entry && i.sink.as_ref().map(|s| s.api.as_str()) == api)
        .unwrap_or_else(|| panic!("no interaction {entry} -> {api:?}"))
}

fn cell<'a>(i: &'a Interaction, category: &str) -> &'a model::Cell {
    i.stride.iter().find(|c| c.category == category).unwrap()
}

fn chain(i: &Interaction) -> Vec<&str> {
    i.chain.iter().map(|s| s.symbol.as_str()).collect()
}

#[test]
fn boundaries_and_assets() {
    let m = build("model_app");
    let ids: Vec<&str> = m.boundaries.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "network_ingress",
            "operator",
            "filesystem",
            "process",
            "database",
            "parser",
            "plugin"
        ]
    );
    let asset = |name: &str| {
        m.assets
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no asset {name}"))
    };
    assert_eq!(asset("Database (sqlite3)").classification, "confidential");
    assert_eq!(asset("Database (sqlite3)").kind, "data_store");
    let secret = asset("Secret SVC_SECRET_KEY");
    assert_eq!(secret.classification, "secret");
    assert_eq!(secret.touched_at[0].file, "svc/settings.py");
    assert_eq!(secret.touched_at[0].line, 3);
    assert_eq!(asset("Filesystem").classification, "internal");
    assert_eq!(
        asset("Serialized objects read with pickle").kind,
        "document"
    );
    // The process boundary is crossed by the route and by the CLI.
    let process = m.boundaries.iter().find(|b| b.id == "process").unwrap();
    assert_eq!(process.interactions.len(), 2);
}

#[test]
fn entry_points_and_surfaces() {
    let m = build("model_app");
    let kinds: Vec<(&str, &str)> = m
        .entry_points
        .iter()
        .map(|e| (e.kind.as_str(), e.handler.as_str()))
        .collect();
    assert!(kinds.contains(&("cli", "svc.cli:main")));
    assert!(kinds.contains(&("plugin", "svc.plugins:load_plugin")));
    assert!(kinds.contains(&("websocket", "svc.api:feed")));
    // A literal import_module is not plugin loading.
    assert!(!kinds.iter().any(|(_, h)| *h == "svc.plugins:load_builtin"));
    let names: Vec<&str> = m.surfaces.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"HTTP /api (fastapi svc.api:router)"),
        "{names:?}"
    );
    assert!(
        names.contains(&"HTTP /admin (fastapi svc.admin:router)"),
        "{names:?}"
    );
}

#[test]
fn interactions_follow_calls_across_files() {
    let m = build("model_app");
    let jobs = entry_id(&m, "POST", "/api/jobs");
    let run = interaction(&m, &jobs, Some("subprocess.run"));
    assert_eq!(
        chain(run),
        ["svc.api:run_job", "svc.jobs:start", "svc.runner:execute"]
    );
    assert_eq!(run.sink.as_ref().unwrap().file, "svc/runner.py");
    assert_eq!(run.sink.as_ref().unwrap().line, 5);
    let del = entry_id(&m, "DELETE", "/admin/files/{name}");
    let rm = interaction(&m, &del, Some("os.remove"));
    assert_eq!(chain(rm), ["svc.admin:delete_file", "svc.storage:remove"]);
    // The CLI reaches the same runner.
    let cli = &m.entry_points.iter().find(|e| e.kind == "cli").unwrap().id;
    assert_eq!(
        chain(interaction(&m, cli, Some("subprocess.run"))),
        ["svc.cli:main", "svc.runner:execute"]
    );
}

#[test]
fn stride_cells_cite_code() {
    let m = build("model_app");
    let del = entry_id(&m, "DELETE", "/admin/files/{name}");
    let rm = interaction(&m, &del, Some("os.remove"));
    // Spoofing: mitigated by the router-level dependency in another module.
    let s = cell(rm, "spoofing");
    assert_eq!(s.status, "mitigated");
    assert_eq!(s.evidence[0].symbol, "svc.auth:require_admin");
    assert_eq!(s.evidence[0].file, "svc/main.py");
    // Repudiation: the audit log call in the handler.
    let r = cell(rm, "repudiation");
    assert_eq!(r.status, "mitigated");
    assert_eq!(r.evidence[0].kind, "audit_log");
    assert_eq!(r.evidence[0].file, "svc/admin.py");
    assert_eq!(r.evidence[0].line, 13);
    // Tampering: os.path.join is not normalisation.
    assert_eq!(cell(rm, "tampering").status, "gap");

    let cfg = entry_id(&m, "GET", "/api/config");
    let y = interaction(&m, &cfg, Some("yaml.safe_load"));
    let t = cell(y, "tampering");
    assert_eq!(t.status, "mitigated");
    assert_eq!(t.evidence[0].kind, "safe_sink");
    assert_eq!(t.evidence[0].file, "svc/config.py");

    let jobs = entry_id(&m, "POST", "/api/jobs");
    let run = interaction(&m, &jobs, Some("subprocess.run"));
    let e = cell(run, "elevation_of_privilege");
    assert_eq!(e.status, "gap");
    assert!(e
        .reason
        .as_deref()
        .unwrap()
        .contains("without an auth guard"));
    assert_eq!(
        cell(interaction(&m, &jobs, None), "denial_of_service").status,
        "gap"
    );

    let login = entry_id(&m, "POST", "/api/login");
    let d = cell(interaction(&m, &login, None), "denial_of_service");
    assert_eq!(d.status, "mitigated");
    assert_eq!(d.evidence[0].kind, "rate_limit");

    // A WebSocket that reaches no sink: nothing to tamper with or elevate to.
    let feed = entry_id(&m, "WEBSOCKET", "/api/feed");
    let f = interaction(&m, &feed, None);
    assert_eq!(cell(f, "tampering").status, "n/a");
    assert_eq!(cell(f, "repudiation").status, "n/a");
    assert_eq!(cell(f, "elevation_of_privilege").status, "n/a");
    assert!(cell(f, "repudiation")
        .reason
        .as_deref()
        .unwrap()
        .starts_with("read-only"));
}

#[test]
fn abuse_paths_are_ranked() {
    let m = build("model_app");
    let ranked: Vec<(u32, &str)> = m
        .abuse_paths
        .iter()
        .map(|a| (a.score, a.sink.api.as_str()))
        .collect();
    assert_eq!(
        ranked,
        [
            (25, "pickle.loads"),
            (20, "subprocess.run"),
            (15, "builtins.open")
        ]
    );
    assert_eq!(m.abuse_paths[1].chain.len(), 3);
    assert!(m.abuse_paths[1].why.contains("2 calls away"));
    // The authenticated DELETE never appears.
    assert!(!m.abuse_paths.iter().any(|a| a.sink.api == "os.remove"));
}

#[test]
fn markdown_has_every_section() {
    let m = build("model_app");
    let md = model::render::markdown(&m, "model_app");
    for h in [
        "## Attack surfaces",
        "## Entry points",
        "## Assets",
        "## Trust boundaries",
        "## Data-flow diagram",
        "### Spoofing",
        "### Elevation of privilege",
        "## Abuse paths",
        "```mermaid\nflowchart LR",
    ] {
        assert!(md.contains(h), "missing {h}");
    }
}

/// Every fixture's diagram, alone and inside the Markdown, goes through the
/// real Mermaid parser (tools/mermaid-check: `mermaid` + `jsdom` under Node).
/// Skipped when they are not installed, except under CI=true, where a
/// missing install fails.
#[test]
fn mermaid_parses_with_the_real_parser() {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/mermaid-check");
    if !tool.join("node_modules/mermaid").exists() {
        support::missing(
            "tools/mermaid-check/node_modules/mermaid",
            "run `npm ci --prefix tools/mermaid-check`",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![];
    for fx in std::fs::read_dir(fixture("")).unwrap() {
        let fx = fx.unwrap().path();
        let name = fx.file_name().unwrap().to_string_lossy().to_string();
        let m = build(&name);
        let a = dir.path().join(format!("{name}.mmd"));
        std::fs::write(&a, model::render::mermaid(&m)).unwrap();
        let b = dir.path().join(format!("{name}.md"));
        std::fs::write(&b, model::render::markdown(&m, &name)).unwrap();
        files.push(a);
        files.push(b);
    }
    files.sort();
    let out = Command::new("node")
        .arg(tool.join("check.mjs"))
        .args(&files)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "mermaid rejected a diagram:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("{} diagram(s) parsed, 0 failed", files.len())),
        "{said}"
    );
}

#[test]
fn shadowed_routes_are_not_entry_points() {
    let m = build("py_route_tables");
    let about: Vec<_> = m
        .entry_points
        .iter()
        .filter(|e| e.pattern.as_deref() == Some("/pages/about"))
        .collect();
    assert_eq!(about.len(), 1, "the first registration only");
    assert_eq!(about[0].handler, "web.signup:about");
}

/// Workflows that publish are `ci_workflow` entry points behind the
/// "CI/CD → package registry" boundary: spoofing is mitigated only by a
/// short-lived credential (OIDC, GITHUB_TOKEN) and tampering by actions
/// pinned to commit SHAs; a long-lived token is a gap.
#[test]
fn publishing_workflows_cross_the_ci_registry_boundary() {
    // Production code, as `threatscan model` reads it (the build scripts'
    // `main` functions are not entry points of the product).
    let mut scan = threatscan::scan(&threatscan::Options::new(fixture("supply_chain"))).unwrap();
    scan.restrict(&threatscan::scope::ScopeSet::from_args(false, &[]).unwrap());
    let m = model::build(&scan, &ModelOptions::default());
    let eps: Vec<(&str, &str, &str, u32)> = m
        .entry_points
        .iter()
        .filter(|e| e.kind == "ci_workflow")
        .map(|e| (e.kind.as_str(), e.handler.as_str(), e.via.as_str(), e.line))
        .collect();
    // Install-time code: one entry each behind "registry → workstation",
    // each a tampering gap.
    let install: Vec<(&str, u32)> = m
        .entry_points
        .iter()
        .filter(|e| e.kind == "install_time")
        .map(|e| (e.handler.as_str(), e.line))
        .collect();
    assert_eq!(
        install,
        [
            (
                ".pre-commit-config.yaml:https://github.com/astral-sh/ruff-pre-commit",
                3
            ),
            // A suppression is about findings: the hook is still there.
            (
                ".pre-commit-config.yaml:https://github.com/psf/black-pre-commit-mirror",
                17
            ),
            (".pre-commit-config.yaml:https://github.com/pycqa/isort", 22),
            ("app/package.json:postinstall", 4),
            ("crates/locked/build.rs:process_exec", 4),
            ("package.json:postinstall", 6),
            ("package.json:prepare", 7),
            ("pkg/setup.py:process_exec", 6),
            ("pkg/setup.py:network_out", 7),
            ("pkg/setup.py:process_exec", 10),
        ]
    );
    assert_eq!(
        eps,
        vec![
            (
                "ci_workflow",
                ".github/workflows/publish.yml:crate",
                "cargo publish",
                14
            ),
            (
                "ci_workflow",
                ".github/workflows/publish.yml:pypi",
                "pypa/gh-action-pypi-publish",
                20
            ),
            (
                "ci_workflow",
                ".github/workflows/publish.yml:uv",
                "uv publish",
                27
            ),
            (
                "ci_workflow",
                ".github/workflows/publish.yml:release",
                "gh release upload",
                33
            ),
            // An image pushed with the secrets of a registry login.
            (
                "ci_workflow",
                ".github/workflows/publish.yml:image",
                "docker/build-push-action (push: true)",
                46
            ),
        ]
    );
    let b: Vec<(&str, &str, usize)> = m
        .boundaries
        .iter()
        .map(|b| (b.id.as_str(), b.name.as_str(), b.interactions.len()))
        .collect();
    assert_eq!(
        b,
        vec![
            (
                "workstation",
                "Package registry → developer workstation (install-time code)",
                10
            ),
            ("ci_registry", "CI/CD → package registry", 5)
        ]
    );
    let statuses: Vec<(String, &str, &str)> = m
        .interactions
        .iter()
        .map(|i| {
            (
                i.entry.clone(),
                cell(i, "spoofing").status.as_str(),
                cell(i, "tampering").status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("E1".to_string(), "gap", "mitigated"),
            ("E2".to_string(), "mitigated", "mitigated"),
            ("E3".to_string(), "gap", "mitigated"),
            ("E4".to_string(), "mitigated", "mitigated"),
            ("E5".to_string(), "gap", "mitigated"),
            ("E6".to_string(), "n/a", "gap"),
            ("E7".to_string(), "n/a", "gap"),
            ("E8".to_string(), "n/a", "gap"),
            ("E9".to_string(), "n/a", "gap"),
            ("E10".to_string(), "n/a", "gap"),
            ("E11".to_string(), "n/a", "gap"),
            ("E12".to_string(), "n/a", "gap"),
            ("E13".to_string(), "n/a", "gap"),
            ("E14".to_string(), "n/a", "gap"),
            ("E15".to_string(), "n/a", "gap"),
        ]
    );
    let gap = cell(&m.interactions[0], "spoofing").reason.clone().unwrap();
    assert!(gap.contains("long-lived registry token"), "{gap}");
    let oidc = &cell(&m.interactions[1], "spoofing").evidence[0];
    assert_eq!(oidc.kind, "short_lived_credential");
    assert!(oidc.symbol.contains("OIDC"), "{}", oidc.symbol);
    // A publishing workflow with an unpinned action: a tampering gap.
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("release.yml"),
        "on: push\npermissions: {}\njobs:\n  npm:\n    permissions:\n      id-token: write\n    steps:\n      - uses: actions/setup-node@v4\n      - run: npm publish --provenance\n",
    )
    .unwrap();
    let scan = threatscan::scan(&threatscan::Options::new(dir.path())).unwrap();
    let m = model::build(&scan, &ModelOptions::default());
    assert_eq!(m.interactions.len(), 1);
    let i = &m.interactions[0];
    assert_eq!(cell(i, "spoofing").status, "mitigated");
    assert_eq!(cell(i, "tampering").status, "gap");
    assert!(cell(i, "tampering")
        .reason
        .as_deref()
        .unwrap()
        .contains("not pinned to a commit SHA"));
}
