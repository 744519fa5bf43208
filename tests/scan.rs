//! `threatscan scan`: every built-in rule's true positive and near-miss on
//! tests/fixtures/scan_app, fingerprints, suppressions, baselines, exit codes,
//! user rules, determinism, and SARIF checked by Microsoft's SARIF Multitool.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_threatscan"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn scan_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["scan", path.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// SARIF of a fixture, its URIs relative to the fixture (`--root`).
fn sarif(path: &Path, extra: &[&str]) -> Value {
    let p = path.to_str().unwrap();
    let root = if path.is_file() {
        path.parent().unwrap().to_str().unwrap()
    } else {
        p
    };
    let mut args = vec!["scan", p, "--format", "sarif", "--root", root];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Copy a fixture into a temporary directory (for edits).
fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn findings_list(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}{}",
                f["rule_id"].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["line"],
                if f.get("suppressed").is_some() {
                    " suppressed"
                } else {
                    ""
                }
            )
        })
        .collect()
}

#[test]
fn every_rule_fires_on_its_true_positive_and_not_on_its_near_miss() {
    let expected: Vec<String> = std::fs::read_to_string(fixture("scan_app").join("expected.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let got = findings_list(&scan_json(&fixture("scan_app"), &[]));
    assert_eq!(got, expected);
    // Every built-in rule has a true positive in the fixture (the workflow
    // rules in tests/fixtures/supply_chain and the agent-tool rule in
    // tests/fixtures/agent_tools, each checked exactly in its own test).
    let mut all = got.clone();
    all.extend(findings_list(&scan_json(&fixture("supply_chain"), &[])));
    all.extend(findings_list(&scan_json(&fixture("agent_tools"), &[])));
    let rules = run(&["rules", "--format", "json"]);
    let rules: Value = serde_json::from_slice(&rules.stdout).unwrap();
    for r in rules.as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        assert!(
            all.iter()
                .any(|g| g.starts_with(&format!("{id} ")) && !g.ends_with("suppressed")),
            "{id} has no true positive in tests/fixtures/scan_app, supply_chain or agent_tools"
        );
    }
}

/// The workflow rules (TS6001-TS6006) on tests/fixtures/supply_chain: every
/// finding with its rule, file, line, column and level, nothing else (the
/// near misses in clean.yml stay quiet), suppressed by a YAML comment on the
/// line or above (not by a shell comment inside a script); the malformed
/// workflow is skipped by name without quoting it, and the other workflows
/// are still analysed.
#[test]
fn workflow_rules_report_exact_locations() {
    let expected: Vec<String> =
        std::fs::read_to_string(fixture("supply_chain").join("expected.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(str::to_string)
            .collect();
    let v = scan_json(&fixture("supply_chain"), &[]);
    let got: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}:{} {}{}",
                f["rule_id"].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["line"],
                f["column"],
                f["level"].as_str().unwrap(),
                if f.get("suppressed").is_some() {
                    " suppressed"
                } else {
                    ""
                }
            )
        })
        .collect();
    assert_eq!(got, expected);
    let skipped = v["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["file"], ".github/workflows/broken.yaml");
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("invalid YAML at line 4"), "{reason}");
    assert!(!reason.contains("unclosed"), "{reason}");
    // The SARIF result is located in the workflow file, with the rule's CWE.
    let s = sarif(&fixture("supply_chain"), &[]);
    let run = &s["runs"][0];
    let r = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "TS6003")
        .unwrap();
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        ".github/workflows/injection.yml"
    );
    assert_eq!(loc["region"]["startLine"], 11);
    assert_eq!(loc["region"]["startColumn"], 32);
    let rule = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "TS6003")
        .unwrap();
    let tags: Vec<&str> = rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"external/cwe/cwe-94"), "{tags:?}");
}

/// `facts` lists the workflow facts with their kinds, and a publishing step
/// says how it authenticates: a long-lived secret or OIDC.
#[test]
fn workflow_facts_say_how_publishing_authenticates() {
    let out = run(&[
        "facts",
        fixture("supply_chain").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let facts = v["facts"].as_array().unwrap();
    let kinds: BTreeSet<&str> = facts.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "ci_action_unpinned",
            "ci_permissions",
            "ci_pipe_to_shell",
            "ci_pr_head_checkout",
            "ci_publish",
            "ci_untrusted_input",
            "dep_extra_index",
            "dep_lockfile_missing",
            "dep_vcs_unpinned",
            "install_script",
            "install_time_exec",
            // facts reads every scope: the build scripts' own sinks too
            // (the write under OUT_DIR is a file_io fact, not install-time).
            "file_io",
            "network_out",
            "precommit_unpinned",
            "process_exec",
        ])
    );
    let publish: Vec<(String, String, u64)> = facts
        .iter()
        .filter(|f| f["kind"] == "ci_publish")
        .map(|f| {
            (
                f["api"].as_str().unwrap().to_string(),
                f["via"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        publish,
        vec![
            ("cargo publish".to_string(), "secret".to_string(), 14),
            (
                "pypa/gh-action-pypi-publish".to_string(),
                "oidc".to_string(),
                20
            ),
            ("uv publish".to_string(), "secret".to_string(), 27),
            (
                "gh release upload".to_string(),
                "github_token".to_string(),
                33
            ),
            // An image build that pushes, with the secrets of the job's
            // registry login before it.
            (
                "docker/build-push-action (push: true)".to_string(),
                "secret".to_string(),
                46
            ),
        ]
    );
    // Supply-chain facts are production scope (build scripts' side effects
    // included: they run wherever the package is built), each in its file's
    // language; the build scripts' own sinks keep their scope.
    assert!(facts
        .iter()
        .filter(|f| {
            !matches!(
                f["kind"].as_str(),
                Some("process_exec" | "network_out" | "file_io")
            )
        })
        .all(|f| {
            let file = f["file"].as_str().unwrap();
            f["scope"] == "production"
                && f["language"]
                    == if file.ends_with(".toml") {
                        "toml"
                    } else if file.ends_with(".txt") {
                        "requirements"
                    } else if file.ends_with(".json") {
                        "json"
                    } else if file.ends_with(".py") {
                        "python"
                    } else if file.ends_with(".rs") {
                        "rust"
                    } else {
                        "yaml"
                    }
        }));
    // Credentials in an index URL are masked in the fact.
    let index = facts
        .iter()
        .find(|f| f["kind"] == "dep_extra_index" && f["file"] == "requirements.txt")
        .unwrap();
    assert_eq!(index["api"], "https://***@pypi.internal.example.com/simple");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cr3t"));
}

#[test]
fn messages_explain_the_finding() {
    let v = scan_json(&fixture("scan_app"), &[]);
    let msg = |rule: &str, file: &str| -> String {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == rule && f["file"] == file)
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        msg("TS3003", "app/storage.py"),
        "request input reaches builtins.open as a file path with no normalisation (GET /report via app.main:report → app.storage:read_report → builtins.open) (behind authentication by get_current_user)."
    );
    assert_eq!(
        msg("TS2001", "app/main.py"),
        "yaml.load can construct arbitrary objects: Loader=yaml.FullLoader is not a safe loader."
    );
    assert_eq!(
        msg("TS5002", "app/tools.py"),
        "logging.getLogger.info logs the secret token."
    );
}

#[test]
fn fingerprints_survive_a_blank_line_inserted_above() {
    let dir = copy_fixture("scan_app");
    let before = scan_json(dir.path(), &[]);
    let tools = dir.path().join("app/tools.py");
    let text = std::fs::read_to_string(&tools).unwrap();
    std::fs::write(&tools, format!("\n\n{text}")).unwrap();
    let main = dir.path().join("app/main.py");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("# a new comment\n{text}")).unwrap();
    let after = scan_json(dir.path(), &[]);
    let key = |v: &Value| -> BTreeSet<(String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap().to_string(),
                    f["fingerprint"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(key(&before), key(&after));
    // ... while the lines did move.
    let line_of = |v: &Value, rule: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == rule)
            .unwrap()["line"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(line_of(&after, "TS2002"), line_of(&before, "TS2002") + 2);
    assert_eq!(line_of(&after, "TS1001"), line_of(&before, "TS1001") + 1);
}

#[test]
fn suppressed_results_stay_in_the_sarif_and_are_marked() {
    let v = sarif(&fixture("scan_app"), &[]);
    let results = v["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 2);
    let py = suppressed.iter().find(|r| r["ruleId"] == "TS3002").unwrap();
    assert_eq!(py["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        py["suppressions"][0]["justification"],
        "fixed input from the operator"
    );
    let rs = suppressed.iter().find(|r| r["ruleId"] == "TS4001").unwrap();
    assert_eq!(
        rs["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "client/src/main.rs"
    );
}

#[test]
fn baseline_marks_new_unchanged_and_absent() {
    let dir = copy_fixture("scan_app");
    let base = dir.path().join("base.sarif");
    let out = run(&[
        "scan",
        dir.path().to_str().unwrap(),
        "--format",
        "sarif",
        "-o",
        base.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    // Fix the pickle load, add a new shell command.
    let tools = dir.path().join("app/tools.py");
    let text = std::fs::read_to_string(&tools)
        .unwrap()
        .replace("return pickle.load(fh)", "return json.load(fh)")
        + "\n\ndef archive(target):\n    os.system(\"tar czf backup.tgz \" + target)\n";
    std::fs::write(&tools, text).unwrap();
    let v = sarif(dir.path(), &["--baseline", base.to_str().unwrap()]);
    let results = v["runs"][0]["results"].as_array().unwrap();
    let state = |rule: &str, state: &str| {
        results
            .iter()
            .filter(|r| r["ruleId"] == rule && r["baselineState"] == state)
            .count()
    };
    assert_eq!(
        state("TS2002", "absent"),
        1,
        "the fixed pickle load is absent"
    );
    assert_eq!(state("TS2002", "unchanged") + state("TS2002", "new"), 0);
    assert_eq!(state("TS3002", "new"), 1, "the added os.system is new");
    assert_eq!(state("TS3002", "unchanged"), 3);
    let new_total = results
        .iter()
        .filter(|r| r["baselineState"] == "new")
        .count();
    assert_eq!(new_total, 1);
    assert!(results
        .iter()
        .all(|r| r.get("baselineState").is_some() && r.get("ruleIndex").is_some()));

    // --fail-on counts only new results: the new one is a warning.
    let fail = |level: &str| {
        run(&[
            "scan",
            dir.path().to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
            "--fail-on",
            level,
            "-o",
            dir.path().join("out.txt").to_str().unwrap(),
        ])
        .status
        .code()
    };
    assert_eq!(fail("error"), Some(0), "every error is unchanged");
    assert_eq!(fail("warning"), Some(1));
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ops.py"),
        "import os\n\ndef clean(d):\n    os.system(\"rm -rf \" + d)\n",
    )
    .unwrap();
    let p = dir.path().to_str().unwrap();
    let code = |level: &str| run(&["scan", p, "--fail-on", level]).status.code();
    assert_eq!(
        code("error"),
        Some(0),
        "a warning does not fail --fail-on error"
    );
    assert_eq!(code("warning"), Some(1));
    assert_eq!(code("note"), Some(1));
    assert_eq!(code("never"), Some(0));
    // Default is error: the scan_app fixture has errors.
    assert_eq!(
        run(&["scan", fixture("scan_app").to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    // A clean repository.
    let clean = tempfile::tempdir().unwrap();
    std::fs::write(clean.path().join("ok.py"), "print('hi')\n").unwrap();
    assert_eq!(
        run(&["scan", clean.path().to_str().unwrap(), "--fail-on", "note"])
            .status
            .code(),
        Some(0)
    );
    // Usage and input errors are 2, with one line.
    for args in [
        vec!["scan", "/no/such/path"],
        vec!["scan", p, "--baseline", "/no/such.sarif"],
        vec!["scan", p, "--rules", "/no/such/dir"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("threatscan: error: ") && err.lines().count() == 1,
            "{err}"
        );
    }
}

#[test]
fn user_rules_load_like_builtin_ones_including_queries() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("app.py"),
        "import tempfile\n\nname = tempfile.mktemp()\nassert_ok = True\nassert name\n",
    )
    .unwrap();
    let rules = repo.path().join("security-rules");
    std::fs::create_dir_all(rules.join("q")).unwrap();
    std::fs::write(rules.join("q/assert.scm"), "(assert_statement) @match\n").unwrap();
    std::fs::write(
        rules.join("local.toml"),
        r#"
[[rule]]
id = "ACME001"
name = "no-assert-for-checks"
short = "assert used for a runtime check"
full = "Python drops assert statements under -O."
help = "Raise an exception instead.\n\n**Fix**: `if not ok: raise ValueError()`"
stride = "tampering"
cwe = 617
level = "note"
security_severity = 2.0
message = "assert is removed under python -O: {match}"

[[rule.when]]
on = "query"
language = "python"
query_file = "q/assert.scm"
"#,
    )
    .unwrap();
    let p = repo.path().to_str().unwrap();
    let r = rules.to_str().unwrap();
    let v = scan_json(repo.path(), &["--rules", r]);
    assert_eq!(
        findings_list(&v),
        ["ACME001 app.py:5"],
        "the user query rule fires where its query matches"
    );
    assert_eq!(
        v["findings"][0]["message"],
        "assert is removed under python -O: assert name."
    );
    // Notes fail only --fail-on note.
    assert_eq!(run(&["scan", p, "--rules", r]).status.code(), Some(0));
    assert_eq!(
        run(&["scan", p, "--rules", r, "--fail-on", "note"])
            .status
            .code(),
        Some(1)
    );
    // `threatscan rules` knows it.
    let out = run(&["rules", "ACME001", "--rules", r]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no-assert-for-checks"));
    // The repository's .threatscan.toml loads the same directory, and can disable rules.
    std::fs::write(
        repo.path().join(".threatscan.toml"),
        "[scan]\nrules = [\"security-rules\"]\n",
    )
    .unwrap();
    assert_eq!(
        findings_list(&scan_json(repo.path(), &[])),
        ["ACME001 app.py:5"]
    );
    std::fs::write(
        repo.path().join(".threatscan.toml"),
        "[scan]\nrules = [\"security-rules\"]\ndisable = [\"no-assert-for-checks\"]\n",
    )
    .unwrap();
    assert!(findings_list(&scan_json(repo.path(), &[])).is_empty());
    // A broken rule file is a clear error.
    std::fs::write(rules.join("broken.toml"), "[[rule]]\nid = \"X\"\n").unwrap();
    let out = run(&["scan", p]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.toml") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn sarif_is_byte_identical_across_runs_and_thread_counts() {
    let p = fixture("scan_app");
    let p = p.to_str().unwrap();
    let a = run(&["scan", p, "--format", "sarif", "--threads", "1"]);
    let b = run(&["scan", p, "--format", "sarif", "--threads", "4"]);
    let c = run(&["scan", p, "--format", "sarif"]);
    assert!(a.stdout.len() > 10_000);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout, c.stdout);
}

#[test]
fn sarif_has_what_github_needs() {
    let v = sarif(&fixture("scan_app"), &["--category", "threatscan/python"]);
    let run0 = &v["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "threatscan");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    for r in rules {
        assert_ne!(r["id"], r["name"]);
        let tags: Vec<&str> = r["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(
            tags.contains(&"security") && tags.iter().any(|t| t.starts_with("external/cwe/cwe-"))
        );
        assert!(tags.len() <= 20);
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
        assert!(r["help"]["markdown"].as_str().unwrap().contains("**Fix**"));
    }
    assert_eq!(run0["automationDetails"]["id"], "threatscan/python/");
    assert!(run0["originalUriBaseIds"]["%SRCROOT%"].is_object());
    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);
    let results = run0["results"].as_array().unwrap();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(!loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with('/'));
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(loc["region"][k].as_u64().unwrap() >= 1, "{k}");
        }
        assert!(r["partialFingerprints"]["threatscan/v1"].is_string());
    }
    // Flow findings carry the chain as related locations and a code flow.
    let flow = results
        .iter()
        .find(|r| {
            r["ruleId"] == "TS3003"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == "app/storage.py"
        })
        .unwrap();
    assert_eq!(flow["relatedLocations"].as_array().unwrap().len(), 3);
    assert_eq!(
        flow["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // Results are sorted by file and line.
    let keys: Vec<(String, u64)> = results
        .iter()
        .map(|r| {
            let l = &r["locations"][0]["physicalLocation"];
            (
                l["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                l["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn skipped_files_become_tool_notifications() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.py"), b"x = '\xff\xfe'\n").unwrap();
    std::fs::write(dir.path().join("ok.py"), "print(1)\n").unwrap();
    let v = sarif(dir.path(), &[]);
    let n = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(n.as_array().unwrap().len(), 1);
    assert!(n[0]["message"]["text"].as_str().unwrap().contains("bad.py"));
}

#[test]
fn rules_docs_are_current() {
    let out = run(&["rules", "--format", "markdown"]);
    let docs = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout) == docs,
        "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md`"
    );
}

#[test]
fn frameworks_docs_are_current() {
    let out = run(&["frameworks", "--format", "markdown"]);
    assert!(out.status.success());
    let docs = std::fs::read_to_string(root().join("docs/frameworks.md")).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout) == docs,
        "docs/frameworks.md is stale: run `cargo run -- frameworks --format markdown > docs/frameworks.md`"
    );
}

#[test]
fn frameworks_lists_a_repository_s_own_specs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/py_user_framework");
    let out = run(&["frameworks", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("microweb") && first.contains("repository"),
        "{text}"
    );
    assert!(text
        .lines()
        .any(|l| l.starts_with("flask ") && l.contains("built-in")));
}

/// Microsoft's SARIF Multitool (`tools/sarif-check`, installed by `npm ci`)
/// validates the SARIF of every fixture with GitHub's and SARIF's rules; any
/// error or warning fails. Skipped when the tool is not installed, except
/// under CI=true, where a missing install fails.
#[test]
fn sarif_multitool_accepts_every_fixture() {
    let tool = root()
        .join("tools/sarif-check/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if !tool.exists() {
        support::missing(
            "Sarif.Multitool (tools/sarif-check/node_modules)",
            "run `npm ci --prefix tools/sarif-check`",
        );
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut perm = std::fs::metadata(&tool).unwrap().permissions();
        if perm.mode() & 0o100 == 0 {
            perm.set_mode(perm.mode() | 0o100);
            std::fs::set_permissions(&tool, perm).unwrap();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = vec![];
    let mut names: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    names.sort();
    for fx in &names {
        let name = fx.file_name().unwrap().to_str().unwrap();
        let out = dir.path().join(format!("{name}.sarif"));
        let status = bin()
            .args([
                "scan",
                fx.to_str().unwrap(),
                "--format",
                "sarif",
                "--fail-on",
                "never",
                "-o",
            ])
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "{name}");
        inputs.push(out);
    }
    // A baseline run too (absent and unchanged results).
    let base = dir.path().join("scan_app.sarif");
    let out = dir.path().join("scan_app-baseline.sarif");
    let status = bin()
        .args([
            "scan",
            fixture("scan_app").to_str().unwrap(),
            "--format",
            "sarif",
            "--fail-on",
            "never",
            "--baseline",
        ])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    inputs.push(out);
    // `threatscan verify --format sarif` over every kind of document.
    let out = dir.path().join("verify.sarif");
    let fx = fixture("verify_app");
    let status = bin()
        .arg("verify")
        .args(
            ["threat-model.md", "threat-model.tm7", "reviewed-model.json"]
                .map(|d| fx.join("docs").join(d)),
        )
        .args([
            "--repo",
            fx.to_str().unwrap(),
            "--format",
            "sarif",
            "--fail-on",
            "never",
            "-o",
        ])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    inputs.push(out);
    let report = dir.path().join("validation.sarif");
    let out = Command::new(&tool)
        .args(["validate", "--rule-kind", "Gh;Sarif", "--output"])
        .arg(&report)
        .args(&inputs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "Sarif.Multitool failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let problems: Vec<String> = v["runs"][0]["results"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|r| matches!(r["level"].as_str(), None | Some("error") | Some("warning")))
        .map(|r| {
            format!(
                "{} {} {}",
                r["ruleId"],
                r["message"]["arguments"],
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            )
        })
        .collect();
    assert!(problems.is_empty(), "Sarif.Multitool: {problems:#?}");
    assert!(inputs.len() >= 12);
}

/// Precision: production scope by default, request data into the argument
/// that matters, flag and value semantics, proportionate levels. Each true
/// positive sits beside its near miss in `scan_precision`.
/// Findings as `RULE level file:line`, in report order.
fn levelled_findings(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}:{}",
                f["rule_id"].as_str().unwrap(),
                f["level"].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["line"]
            )
        })
        .collect()
}

#[test]
fn findings_are_proportionate_and_production_only() {
    let out = Command::new(env!("CARGO_BIN_EXE_threatscan"))
        .args(["scan", "--format", "json", "--fail-on", "never"])
        .arg(fixture("scan_precision"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("left out 1 development file, 1 test file and 2 test items"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = levelled_findings(&v);
    let want = [
        // A path-safe pattern (`if re.match(..)`, after `if not
        // P.fullmatch(..): abort`), a project function that raises unless
        // the path stays under its base (its result, or what it was given
        // after a call), a predicate returning such a test, and a function
        // declared to return a stored record confine; not a pattern that
        // allows `..` (:38) or matches only a prefix (:45), a predicate
        // whose answer is ignored (:84), a function returning text (:104).
        "TS3003 error app/confined.py:38",
        "TS3003 error app/confined.py:45",
        "TS3003 error app/confined.py:84",
        "TS3003 error app/confined.py:104",
        // Through methods on `self`: a record built here from request data
        // (:115) and text (:124) carry it; a record from storage does not.
        "TS3003 error app/confined.py:115",
        "TS3003 error app/confined.py:124",
        // A predicate answering with containment tests inside any(...) confines
        // (:161); a comprehension of request data carries it (:168); one whose
        // elements are safe_join results does not (:175).
        "TS3003 error app/confined.py:168",
        // Form fields put into a record's items by update() reach an item read
        // (:195), not an attribute the class computes (:194); the POST has no guard.
        "TS1001 error app/confined.py:190",
        "TS3003 error app/confined.py:195",
        // A text prefix test without the separator (:210) and a test of
        // basename(name) (:217) confine nothing.
        "TS3003 error app/confined.py:210",
        "TS3003 error app/confined.py:217",
        // shutil.move's destination is a path too.
        "TS1001 error app/confined.py:221",
        "TS3003 error app/confined.py:225",
        // A check nested in another `if` may not run: nothing after it is confined.
        "TS3003 error app/confined.py:235",
        // A sink inside a comprehension reads its loop variable.
        "TS3003 error app/confined.py:241",
        // SQL text formatted from request data, through an untyped
        // `Depends(get_db)` (the provider yields a sessionmaker's Session)
        // and through `sqlite3.connect(..).execute` with a chained call;
        // bound parameters (:30 through an Annotated alias, :43) are safe.
        "TS3004 error app/db.py:25",
        "TS3004 error app/db.py:37",
        // Quotes doubled inside a quoted literal (:51, :52) stay in it; in an
        // unquoted slot the value is SQL (:58).
        "TS3004 error app/db.py:58",
        // Debug on only under `if app_debug:` is a note; under an unrelated
        // condition or unconditionally, a warning.
        "TS4003 note app/debugged.py:12",
        "TS4003 warning app/debugged.py:14",
        "TS4003 warning app/debugged.py:15",
        // A decorator that hands the view to a guard rejecting with flask-login's
        // `current_app.login_manager.unauthorized()` guards /items (:28).
        "TS1001 error app/decorated.py:36",
        // A router mounted only when ENVIRONMENT == "local": a note.
        "TS1001 note app/dev.py:11",
        // One URL segment (Flask routes the decoded path: no `/` in it)
        // read by open(): a note. Nothing after `.replace(".", "")`, for an
        // in-memory stream beside a download name, or for a record's field
        // looked up by it (app/files.py:19, 24, 30).
        "TS3003 note app/files.py:13",
        // Inside `if logo != "":` a `<path:>` value is not confined; inside
        // `if theme in THEMES:`, after `if font not in THEMES: return` and
        // after `if icon not in THEMES: abort(404)` it is.
        "TS3003 error app/files.py:53",
        // Errors: a `<path:>` parameter; two segments (`..` then any name);
        // one segment given to a delete. Nothing for a record looked up
        // with keyword arguments through a chained manager (:83).
        "TS3003 error app/files.py:68",
        "TS3003 error app/files.py:73",
        "TS3003 error app/files.py:78",
        // Listing a request-chosen directory is reported; a listed entry's
        // name (`os.listdir` elements, `item.name`) is one existing name,
        // not a path (:94, :96); the entry's full path is not (:97).
        "TS3003 error app/files.py:93",
        "TS3003 error app/files.py:95",
        "TS3003 error app/files.py:97",
        // A login hook that applies only once a password is configured: the
        // login route is public by purpose (a note) and checks a password
        // with no limiter; the other route is a warning naming the hook.
        "TS1001 note app/hooked.py:22",
        "TS1002 warning app/hooked.py:22",
        "TS1001 warning app/hooked.py:30",
        // A required hook exempts the login route (or nobody could log in):
        // its guard is not the route's own, so the missing limiter shows.
        "TS1002 warning app/hooked_strict.py:19",
        // A limiter assigned in one branch and `None` in the other still
        // limits the login route: only the note to confirm it is public.
        "TS1001 note app/limited.py:17",
        // A loop variable named `token` over a credentials mapping is logged
        // (:19); one over display placeholders is not a secret (:12).
        "TS5002 warning app/logs.py:19",
        // Request data read from the request itself; not the record a key
        // selects (a dict element, `.get`, an ORM query's `.first()`).
        "TS3003 error app/lookups.py:42",
        // A look-up that falls back to the request's value returns it.
        "TS3003 error app/lookups.py:49",
        // A credential-looking literal; the mask and the class path are not.
        "TS5001 error app/main.py:15",
        // Public by purpose: a note to confirm, and the missing limiter
        // (it checks a password).
        "TS1001 note app/main.py:28",
        "TS1002 warning app/main.py:28",
        // State-changing routes: each reaches a write (a file, a process, a loader).
        "TS1001 error app/main.py:36",
        "TS1001 error app/main.py:42",
        "TS1001 error app/main.py:47",
        // Request data reaches the command; the constant list at :39 does not.
        "TS3001 error app/main.py:50",
        "TS1001 error app/main.py:53",
        // Request data reaches pickle.loads.
        "TS2002 error app/main.py:55",
        // shell=True through **RUN_OPTIONS and shell=1; not QUIET_OPTIONS or shell=0.
        "TS3002 warning app/main.py:59",
        "TS3002 warning app/main.py:61",
        // A subclass of UnsafeLoader; StrictLoader subclasses SafeLoader.
        "TS2001 error app/main.py:67",
        // A POST that writes nothing: a note asking to confirm.
        "TS1001 note app/main.py:75",
        // Named like a credential route but checking none: no TS1002.
        "TS1001 note app/main.py:81",
        // FastAPI: `{name}` read is a note, `{name:path}` an error; a
        // `filename=` beside a constant path is the download name (:19).
        "TS3003 note app/media.py:9",
        "TS3003 error app/media.py:14",
        // Doubled quotes do not escape a MySQL literal (backslash escapes).
        "TS3004 error app/mysql.py:13",
        // verify=False, not the urllib3.disable_warnings that silences it;
        // `session.verify = False` holds for every request of the session.
        "TS4001 error app/tls.py:9",
        "TS4001 error app/tls.py:14",
        // DEBUG = True in the production settings module; not in the
        // developer's `settings/dev.py` (development scope, left out).
        // A hard-coded key that every production settings module importing
        // the base replaces is a note (:4); one nobody replaces stays (:6).
        "TS5001 note site/settings/base.py:4",
        "TS5001 error site/settings/base.py:6",
        "TS4003 warning site/settings/prod.py:5",
        // axum: `Path(name): Path<String>` binds request data; the directory
        // in `State(st)` is the server's (:17).
        "TS3003 error src/files.rs:12",
        // actix: the upload directory from `web::Data` state is server data
        // (:12); a header value that changes the path in place through
        // `set_file_name`, after an `if let` binding and before the name is
        // re-bound, is request data (:26).
        "TS1001 error src/paste.rs:10",
        "TS1001 error src/paste.rs:17",
        "TS3003 error src/paste.rs:26",
        // A header name given to a function that fails unless it stays under
        // the upload directory is confined after the call (:52, :53), until
        // the name is re-bound to another header (:56).
        "TS1001 error src/paste.rs:49",
        "TS3003 error src/paste.rs:56",
        // The same check with its error discarded (`let _ =`) confines nothing.
        "TS1001 error src/paste.rs:61",
        "TS3003 error src/paste.rs:65",
        // A Rocket String segment into a path; not a `<p..>` PathBuf
        // (FromSegments refuses `..`) at src/web.rs:7.
        "TS3003 error src/web.rs:12",
    ];
    assert_eq!(got, want, "{got:#?}");
    let msg = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "TS2002" && f["line"] == 55)
        .unwrap()["message"]
        .as_str()
        .unwrap();
    assert!(!msg.contains("other entry point"), "{msg}");
    // Every call through an injected or constructed session is a database fact.
    let facts_db = Command::new(env!("CARGO_BIN_EXE_threatscan"))
        .args(["facts", "--format", "json"])
        .arg(fixture("scan_precision"))
        .output()
        .unwrap();
    let fdb: serde_json::Value = serde_json::from_slice(&facts_db.stdout).unwrap();
    let db_lines: Vec<String> = fdb["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "database" && x["file"] == "app/db.py")
        .map(|x| format!("{} {}", x["line"], x["api"].as_str().unwrap()))
        .collect();
    assert_eq!(
        db_lines,
        [
            "25 sqlalchemy.orm.Session.execute",
            "30 sqlalchemy.orm.Session.execute",
            "35 sqlite3.connect",
            "37 sqlite3.Connection.execute",
            "42 sqlite3.connect",
            "43 sqlite3.Connection.execute",
            "49 sqlite3.connect",
            "51 sqlite3.Connection.execute",
            "52 sqlite3.Connection.execute",
            "57 sqlite3.connect",
            "58 sqlite3.Connection.execute"
        ]
    );
    // torch.load with weights_only=True is no finding at all.
    let facts = Command::new(env!("CARGO_BIN_EXE_threatscan"))
        .args(["facts", "--format", "json"])
        .arg(fixture("scan_precision"))
        .output()
        .unwrap();
    let f: serde_json::Value = serde_json::from_slice(&facts.stdout).unwrap();
    let torch = f["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["api"] == "torch.load")
        .unwrap();
    assert_eq!(torch["safe"], true, "{torch}");
    // Facts keep every scope, marked.
    let scopes: std::collections::BTreeSet<&str> = f["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["production", "test"].into_iter().collect());
    // --scope all brings the test code back.
    let all = Command::new(env!("CARGO_BIN_EXE_threatscan"))
        .args([
            "scan",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--scope",
            "all",
        ])
        .arg(fixture("scan_precision"))
        .output()
        .unwrap();
    let a: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let files: std::collections::BTreeSet<String> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| format!("{}:{}", x["file"].as_str().unwrap(), x["line"]))
        .collect();
    for want in ["tests/test_main.py:7", "src/lib.rs:7", "app/main.py:67"] {
        assert!(files.contains(want), "{want} in {files:?}");
    }
}

/// GitHub resolves SARIF URIs against the repository root: whatever PATH
/// was given (a subdirectory, one file), URIs are relative to the enclosing
/// git work tree, or to the current directory outside one.
#[test]
fn sarif_uris_are_relative_to_the_repository_root() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    std::fs::create_dir_all(repo.join("svc")).unwrap();
    std::fs::write(
        repo.join("svc/api.py"),
        "import subprocess\ndef f(x):\n    subprocess.run(x, shell=True)\n",
    )
    .unwrap();
    let uris = |cwd: &Path, path: &str| -> (Vec<String>, Value) {
        let out = bin()
            .args(["scan", path, "--format", "sarif", "--fail-on", "never"])
            .current_dir(cwd)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let u = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        (u, v)
    };
    // No git work tree: relative to the current directory.
    let (u, v) = uris(&repo, "svc/api.py");
    assert_eq!(u, ["svc/api.py"]);
    let wd = v["runs"][0]["invocations"][0]["workingDirectory"]["uri"]
        .as_str()
        .unwrap();
    assert!(wd.starts_with("file:///") && wd.ends_with("/repo/"), "{wd}");
    // A git work tree: relative to it, from anywhere.
    std::fs::create_dir(repo.join(".git")).unwrap();
    let (u, _) = uris(t.path(), "repo/svc");
    assert_eq!(u, ["svc/api.py"]);
    let (u, _) = uris(&repo.join("svc"), "api.py");
    assert_eq!(u, ["svc/api.py"]);
}

/// `--exclude` applies to workflows as to sources: a file glob drops one
/// workflow, a directory glob all of them.
#[test]
fn exclude_globs_apply_to_workflows() {
    let files = |ex: &str| -> BTreeSet<String> {
        let out = run(&[
            "facts",
            fixture("supply_chain").to_str().unwrap(),
            "--format",
            "json",
            "--exclude",
            ex,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["facts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["file"].as_str().unwrap().to_string())
            .filter(|f| f.starts_with(".github/"))
            .collect()
    };
    let one = files("unpinned.yml");
    assert!(!one.contains(".github/workflows/unpinned.yml"), "{one:?}");
    assert!(one.contains(".github/workflows/injection.yml"), "{one:?}");
    assert!(files(".github/**").is_empty());
}

/// tests/fixtures/agent_tools: MCP tools are entry points of kind
/// `agent_tool`; a tool whose model-chosen argument becomes the command is
/// TS3005, a tool running a fixed argument list is not, and the model has an
/// "AI agent → local system" boundary with an elevation-of-privilege gap.
#[test]
fn agent_tools_are_entry_points_and_model_output_reaching_a_shell_is_reported() {
    let out = Command::new(env!("CARGO_BIN_EXE_threatscan"))
        .args(["scan", "--format", "json", "--fail-on", "never"])
        .arg(fixture("agent_tools"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = levelled_findings(&v);
    assert_eq!(
        got,
        [
            // rmcp `#[tool]` methods (Rust): the model chooses the program,
            // or the line given to `sh -c` through `.arg()`; `version`, with
            // no `#[tool]`, is not a tool (:24).
            "TS3005 warning mcp_rs/src/lib.rs:11",
            "TS3005 warning mcp_rs/src/lib.rs:18",
            // A tool class (`BaseTool` subclass): `_run`'s argument is the
            // model's; `describe` is not a tool method (:17 is no TS3005).
            "TS3002 warning tools/classes.py:13",
            "TS3005 warning tools/classes.py:13",
            "TS3002 warning tools/classes.py:17",
            // A model's output executed: directly, and through a function
            // returning it; not when printed or for constant code (:30-31).
            "TS3006 error tools/generated.py:15",
            "TS3002 warning tools/generated.py:25",
            "TS3006 error tools/generated.py:25",
            // A tool that asks a person first (click.confirm) is gated: no TS3005.
            "TS3002 warning tools/generated.py:39",
            // A confirmation after the command, or an input() that only reads
            // the question, gates nothing.
            "TS3002 warning tools/generated.py:51",
            "TS3005 warning tools/generated.py:51",
            "TS3006 error tools/generated.py:60",
            "TS3002 warning tools/server.py:13",
            // `run_command(command)`: the model's argument is the shell command.
            "TS3005 warning tools/server.py:13",
            // `disk_usage()` runs a fixed list: no TS3005 at :19.
            "TS3002 warning tools/server.py:29",
            // `StructuredTool.from_function(func=evaluate)`: evaluate is a tool,
            // and its model-chosen expression reaches eval().
            "TS3005 warning tools/server.py:38",
        ]
    );
    let out = Command::new(env!("CARGO_BIN_EXE_threatscan"))
        .args(["model", "--format", "json"])
        .arg(fixture("agent_tools"))
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = m["entry_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["agent_tool"; 10]);
    let boundaries: Vec<(&str, usize)> = m["boundaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap(),
                b["interactions"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        boundaries,
        [("process", 8), ("llm_provider", 1), ("agent", 10)],
        "{}",
        m["boundaries"]
    );
    // The tool's argument reaches a model's prompt: a tampering gap on the
    // LLM provider boundary (prompt injection), and prompts are an asset.
    let llm = m["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sink"]["kind"] == "llm_call")
        .unwrap();
    let tampering = llm["stride"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "tampering")
        .unwrap();
    assert_eq!(tampering["status"], "gap");
    assert!(
        tampering["reason"]
            .as_str()
            .unwrap()
            .contains("prompt injection"),
        "{tampering}"
    );
    assert!(m["assets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["kind"] == "llm_provider" && a["classification"] == "confidential"));
}

/// simplejwt's token views check a submitted password: served directly or
/// through a repository subclass, with no throttle anywhere, they are login
/// routes without a rate limit (TS1002); the refresh view is not. With
/// REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES (py_django) they are limited.
#[test]
fn library_login_views_need_a_rate_limit() {
    let v = scan_json(&fixture("django_tokens"), &[]);
    let got: Vec<String> = levelled_findings(&v)
        .into_iter()
        .filter(|f| f.starts_with("TS1002"))
        .collect();
    assert_eq!(
        got,
        [
            "TS1002 warning site/urls.py:16",
            "TS1002 warning site/urls.py:17"
        ]
    );
    let limited = scan_json(&fixture("py_django"), &[]);
    assert!(
        !levelled_findings(&limited)
            .iter()
            .any(|f| f.starts_with("TS1002") && f.contains("polls/urls.py")),
        "{:#?}",
        levelled_findings(&limited)
    );
}

/// The built-in rule queries are compiled when a file of their language
/// first needs them, in the middle of that file's parse: the query must
/// outlive the per-file memory its parse uses, or the next files, which
/// reuse that memory, would run a query overwritten by their trees.
#[test]
fn a_rule_query_compiled_during_one_file_still_matches_in_every_later_file() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 40;
    for i in 0..n {
        // Enough code that each file's tree fills the memory the query's
        // compilation would have taken from.
        let mut src = format!("import os\n\nDEBUG = True\n\nNAME_{i} = os.getenv('N')\n");
        for k in 0..30 {
            src.push_str(&format!(
                "def f{k}(x):\n    return [y * {k} for y in x if y]\n\n"
            ));
        }
        std::fs::write(tmp.path().join(format!("settings_{i:02}.py")), src).unwrap();
    }
    for threads in ["1", "2"] {
        let v = scan_json(
            tmp.path(),
            &["--no-cache", "--scope", "all", "--threads", threads],
        );
        let mut files: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == "TS4003")
            .map(|f| f["file"].as_str().unwrap())
            .collect();
        files.sort();
        files.dedup();
        assert_eq!(files.len(), n, "threads {threads}: {files:?}");
    }
}
