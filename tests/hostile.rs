//! Hostile repositories: a repository under review is untrusted input, and
//! its configuration must not make threatscan read or print anything outside
//! it, block, or abort. Inputs are built in the test.

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_threatscan"))
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A repository with one Python file and a secret file beside it (outside).
fn repo() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("secret.txt"), "API_TOKEN=hunter2-secret\n").unwrap();
    let r = t.path().join("repo");
    std::fs::create_dir(&r).unwrap();
    std::fs::write(r.join("app.py"), "x = 1\n").unwrap();
    (t, r)
}

fn assert_refused(o: &Output, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(!e.contains("hunter2"), "contents disclosed: {e}");
    assert!(e.contains(needle), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_is_not_followed_for_any_command() {
    let (t, r) = repo();
    std::os::unix::fs::symlink(t.path().join("secret.txt"), r.join(".threatscan.toml")).unwrap();
    for cmd in ["facts", "model", "scan"] {
        let o = run_in(&r, &[cmd, "."]);
        assert_refused(&o, "symbolic link");
    }
}

#[test]
fn a_config_parse_error_gives_a_position_never_the_text() {
    let (_t, r) = repo();
    std::fs::write(r.join(".threatscan.toml"), "token = \"hunter2\"\n[scan\n").unwrap();
    let o = run_in(&r, &["facts", "."]);
    assert_refused(&o, "line 2, column");
}

#[test]
fn config_paths_stay_in_the_repository() {
    let (_t, r) = repo();
    for bad in ["../secret.txt", "/etc/passwd", "a/../../secret.txt"] {
        std::fs::write(
            r.join(".threatscan.toml"),
            format!("[catalog]\nframeworks = [{bad:?}]\n"),
        )
        .unwrap();
        let o = run_in(&r, &["facts", "."]);
        assert_refused(&o, "outside the repository");
        std::fs::write(
            r.join(".threatscan.toml"),
            format!("[scan]\nrules = [{bad:?}]\n"),
        )
        .unwrap();
        let o = run_in(&r, &["scan", "."]);
        assert_refused(&o, "outside the repository");
    }
}

#[test]
fn a_repository_query_file_stays_in_the_repository() {
    let (t, r) = repo();
    std::fs::create_dir(r.join("rules")).unwrap();
    std::fs::write(r.join(".threatscan.toml"), "[scan]\nrules = [\"rules\"]\n").unwrap();
    let secret = t.path().join("secret.txt");
    for qf in ["../../secret.txt".to_string(), secret.display().to_string()] {
        std::fs::write(
            r.join("rules/x.toml"),
            format!(
                "[[rule]]\nid = \"X1\"\nname = \"x\"\nshort = \"x\"\nfull = \"x\"\nhelp = \"x\"\n\
                 stride = \"tampering\"\ncwe = 1\nlevel = \"note\"\nsecurity_severity = 1.0\nmessage = \"m\"\n\
                 [[rule.when]]\non = \"query\"\nlanguage = \"python\"\nquery_file = {qf:?}\n"
            ),
        )
        .unwrap();
        let o = run_in(&r, &["scan", "."]);
        assert_refused(&o, "outside the repository");
    }
}

#[test]
fn a_query_that_does_not_compile_is_reported_by_position() {
    let (_t, r) = repo();
    std::fs::create_dir(r.join("rules")).unwrap();
    std::fs::write(r.join(".threatscan.toml"), "[scan]\nrules = [\"rules\"]\n").unwrap();
    std::fs::write(r.join("rules/q.scm"), "(hunter2_secret_node) @x\n").unwrap();
    std::fs::write(
        r.join("rules/x.toml"),
        "[[rule]]\nid = \"X1\"\nname = \"x\"\nshort = \"x\"\nfull = \"x\"\nhelp = \"x\"\n\
         stride = \"tampering\"\ncwe = 1\nlevel = \"note\"\nsecurity_severity = 1.0\nmessage = \"m\"\n\
         [[rule.when]]\non = \"query\"\nlanguage = \"python\"\nquery_file = \"q.scm\"\n",
    )
    .unwrap();
    let o = run_in(&r, &["scan", "."]);
    assert_refused(&o, "query does not compile");
}

#[cfg(unix)]
#[test]
fn a_fifo_named_by_the_config_is_refused_without_blocking() {
    let (_t, r) = repo();
    let fifo = r.join("spec.toml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::write(
        r.join(".threatscan.toml"),
        "[catalog]\nframeworks = [\"spec.toml\"]\n",
    )
    .unwrap();
    let o = run_in(&r, &["facts", "."]);
    assert_refused(&o, "FIFO");
}

#[cfg(unix)]
#[test]
fn special_roots_and_entries_are_reported_and_never_read() {
    let (t, r) = repo();
    let fifo = t.path().join("root.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let o = run_in(t.path(), &["facts", "root.fifo"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a directory or a regular file (FIFO)"));
    assert!(Command::new("mkfifo")
        .arg(r.join("f.py"))
        .status()
        .unwrap()
        .success());
    let o = run_in(&r, &["facts", ".", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["skipped"][0]["file"], "f.py");
    assert_eq!(v["skipped"][0]["reason"], "not a regular file (FIFO)");
}

#[test]
fn threads_are_bounded() {
    let (_t, r) = repo();
    let o = run_in(&r, &["facts", ".", "--threads", "100000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--threads must be between 1 and 256"));
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_is_an_error_and_dev_null_is_not() {
    let (_t, r) = repo();
    let closed = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' facts . >&-",
            env!("CARGO_BIN_EXE_threatscan")
        ))
        .current_dir(&r)
        .output()
        .unwrap();
    assert_eq!(closed.status.code(), Some(2), "{}", stderr(&closed));
    let null = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' facts . >/dev/null",
            env!("CARGO_BIN_EXE_threatscan")
        ))
        .current_dir(&r)
        .output()
        .unwrap();
    assert_eq!(null.status.code(), Some(0));
}

#[test]
fn deep_and_long_inputs_are_scanned_or_skipped_without_aborting() {
    let (_t, r) = repo();
    let deep_ref = format!("fn f(x: {}u8) {{}}\n", "& ".repeat(3000));
    std::fs::write(r.join("deep_ref.rs"), deep_ref).unwrap();
    let nested: String = (0..20000)
        .map(|i| format!("fn f{i}() {{\n"))
        .collect::<String>()
        + &"}\n".repeat(20000);
    std::fs::write(r.join("nested.rs"), nested).unwrap();
    let indent: String = (0..511)
        .map(|i| format!("{}if x:\n", " ".repeat(i)))
        .collect::<String>()
        + &" ".repeat(511)
        + "s = \"x\"\n";
    std::fs::write(r.join("indent.py"), indent).unwrap();
    let calls: Vec<String> = (0..20000).map(|i| format!("os.system(x{i})")).collect();
    std::fs::write(
        r.join("oneline.py"),
        format!("import os\n{}\n", calls.join("; ")),
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let o = run_in(
        &r,
        &["scan", ".", "--format", "sarif", "--fail-on", "never"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Generous: the run takes well under a second on a 2-core machine.
    assert!(t0.elapsed().as_secs() < 30, "{:?}", t0.elapsed());
    let e = stderr(&o);
    assert!(
        e.contains("indent.py: indentation nested deeper than 256 levels"),
        "{e}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 20000);
}

#[cfg(unix)]
#[test]
fn output_files_keep_their_mode_and_new_ones_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let (t, r) = repo();
    let out = t.path().join("facts.json");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = run_in(
        &r,
        &[
            "facts",
            ".",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let fresh = t.path().join("new.json");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022 && '{}' facts . --format json -o '{}'",
            env!("CARGO_BIN_EXE_threatscan"),
            fresh.display()
        ))
        .current_dir(&r)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

#[cfg(unix)]
#[test]
fn special_files_named_as_documents_or_baselines_are_refused_at_once() {
    let (t, r) = repo();
    let fifo = t.path().join("model.md");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let t0 = std::time::Instant::now();
    for args in [
        vec!["verify", fifo.to_str().unwrap(), "--repo", "."],
        vec!["verify", "/dev/zero", "--repo", "."],
        vec!["scan", ".", "--baseline", "/dev/zero"],
        vec!["scan", ".", "--baseline", fifo.to_str().unwrap()],
    ] {
        let o = run_in(&r, &args);
        assert_refused(&o, "not a regular file");
    }
    assert!(t0.elapsed().as_secs() < 30, "{:?}", t0.elapsed());
}

#[test]
fn documents_and_baselines_over_their_caps_are_refused_with_the_option_named() {
    let (t, r) = repo();
    let doc = t.path().join("model.md");
    std::fs::write(&doc, "# Model\n".repeat(200)).unwrap();
    let o = run_in(
        &r,
        &[
            "verify",
            doc.to_str().unwrap(),
            "--repo",
            ".",
            "--max-document-size",
            "1024",
        ],
    );
    assert_refused(&o, "--max-document-size");
    let base = t.path().join("old.sarif");
    std::fs::write(
        &base,
        format!("{{\"runs\": [], \"pad\": \"{}\"}}", "x".repeat(4096)),
    )
    .unwrap();
    let o = run_in(
        &r,
        &[
            "scan",
            ".",
            "--baseline",
            base.to_str().unwrap(),
            "--max-baseline-size",
            "1024",
        ],
    );
    assert_refused(&o, "--max-baseline-size");
    // Under the cap the same baseline is read.
    let o = run_in(&r, &["scan", ".", "--baseline", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A baseline that is not JSON gives a position, never its text.
    std::fs::write(&base, "API_TOKEN=hunter2-secret").unwrap();
    let o = run_in(&r, &["scan", ".", "--baseline", base.to_str().unwrap()]);
    assert_refused(&o, "line 1, column");
}

#[test]
fn verify_never_reads_files_outside_the_repository() {
    let (t, r) = repo();
    let doc = t.path().join("model.md");
    std::fs::write(
        &doc,
        "# Model\n\nSee [the secret](../secret.txt#L1-L9) and `/etc/passwd`.\n",
    )
    .unwrap();
    let o = run_in(
        &r,
        &[
            "verify",
            doc.to_str().unwrap(),
            "--repo",
            ".",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let refs = v["documents"][0]["references"].as_array().unwrap();
    let secret = refs
        .iter()
        .find(|x| x["text"].as_str().unwrap_or("").contains("secret.txt"))
        .expect("the link is a reference");
    assert_eq!(secret["status"], "outside-repo", "{secret}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains("has 2 lines") && !text.contains("has 1 lines"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_file_names_stay_apart_and_are_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let (_t, r) = repo();
    let body = "import subprocess\ndef f(x):\n    subprocess.run(x, shell=True)\n";
    for n in [&b"a\xff.py"[..], b"a\xfe.py", b"a%FF.py"] {
        std::fs::write(r.join(std::ffi::OsStr::from_bytes(n)), body).unwrap();
    }
    let o = run_in(
        &r,
        &["scan", ".", "--format", "sarif", "--fail-on", "never"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let mut uris: Vec<&str> = results
        .iter()
        .map(|x| {
            x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, ["a%25FF.py", "a%FE.py", "a%FF.py"]);
    let fps: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|x| x["partialFingerprints"]["threatscan/v1"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 3, "fingerprints merged");
    // The snippet is read from the file the escaped name stands for.
    let o = run_in(&r, &["scan", ".", "--fail-on", "never", "--color", "never"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        text.matches("3 |     subprocess.run(x, shell=True)")
            .count(),
        3,
        "{text}"
    );
}

#[test]
fn stale_temporary_output_files_are_removed_by_the_next_write() {
    let (t, r) = repo();
    let out = t.path().join("facts.json");
    // pid 2^22 + 1 is above Linux's pid_max: no such process.
    let stale = t.path().join(".facts.json.threatscan-tmp.4194305");
    std::fs::write(&stale, "partial").unwrap();
    let o = run_in(
        &r,
        &[
            "facts",
            ".",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stale.exists());
    let left: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("threatscan-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(std::fs::read_to_string(&out).unwrap().contains("\"facts\""));
}

/// A rule directory with one Python query rule.
fn query_rule(dir: &Path, query: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("q.scm"), query).unwrap();
    std::fs::write(
        dir.join("r.toml"),
        r#"[[rule]]
id = "X1"
name = "user-query"
short = "s"
full = "f"
stride = "tampering"
cwe = 1
level = "warning"
security_severity = 5.0
message = "m"
help = "h"

[[rule.when]]
on = "query"
language = "python"
query_file = "q.scm"
"#,
    )
    .unwrap();
}

#[test]
fn deeply_nested_queries_are_refused_before_compiling() {
    let (t, r) = repo();
    let rules = t.path().join("rules");
    let d = 40_000;
    query_rule(
        &rules,
        &format!("{}identifier{}", "(".repeat(d), ")".repeat(d)),
    );
    let o = run_in(&r, &["scan", ".", "--rules", rules.to_str().unwrap()]);
    assert_refused(&o, "nested 40000 levels deep, over the limit of 64");
}

#[test]
fn a_query_past_its_time_budget_keeps_its_matches_and_names_the_file() {
    let (t, r) = repo();
    let rules = t.path().join("rules");
    // Every 4-child node, with a predicate tying the first child to the
    // last: quadratic work per node on a long list of tuples.
    query_rule(
        &rules,
        "((_ (_) @a (_) @b (_) @c (_) @d) @match (#eq? @a @d))",
    );
    let tuples: Vec<String> = (0..60_000)
        .map(|i| format!("({i},{i},{i},{i},{i})"))
        .collect();
    let args: Vec<&str> = vec!["a"; 3000];
    std::fs::write(
        r.join("big.py"),
        format!("x = [{}]\nf({})\n", tuples.join(","), args.join(",")),
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let o = run_in(
        &r,
        &[
            "scan",
            ".",
            "--rules",
            rules.to_str().unwrap(),
            "--format",
            "sarif",
            "--fail-on",
            "never",
        ],
    );
    assert!(t0.elapsed().as_secs() < 60, "{:?}", t0.elapsed());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("partly scanned big.py: X1 query stopped after 2 s"),
        "{e}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes = v["runs"][0]["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(notes.contains("Partly scanned big.py"), "{notes}");
}

#[test]
fn the_number_of_rules_is_capped() {
    let (t, r) = repo();
    let rules = t.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for f in 0..3 {
        let mut text = String::new();
        for i in 0..3400 {
            text.push_str(&format!(
                "[[rule]]\nid = \"X{f}_{i}\"\nname = \"r{f}-{i}\"\nshort = \"s\"\nfull = \"f\"\nstride = \"tampering\"\ncwe = 1\nlevel = \"note\"\nsecurity_severity = 1.0\nmessage = \"m\"\nhelp = \"h\"\n[[rule.when]]\non = \"fact\"\nkinds = [\"sink\"]\n"
            ));
        }
        std::fs::write(rules.join(format!("r{f}.toml")), text).unwrap();
    }
    let o = run_in(&r, &["scan", ".", "--rules", rules.to_str().unwrap()]);
    assert_refused(&o, "more than 10000 rules in all");
}

/// A `.tm7` saved on one line with many threats: positions come from
/// per-line checkpoints, so the cost is linear (it was quadratic: 10,000
/// threats took 4.4 s, 20,000 took 18.5 s).
#[test]
fn a_one_line_tm7_with_many_threats_is_read_in_linear_time() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verify_app");
    let src = std::fs::read_to_string(fixture.join("docs/threat-model.tm7")).unwrap();
    let open = "<a:KeyValueOfstringThreatpc_P0_PhOB>";
    let close = "</a:KeyValueOfstringThreatpc_P0_PhOB>";
    let (a, b) = (
        src.find(open).unwrap(),
        src.find(close).unwrap() + close.len(),
    );
    let one = &src[a..b];
    let mut many = String::with_capacity(one.len() * 20_000);
    for i in 0..20_000 {
        many.push_str(&one.replacen("<a:Key>", &format!("<a:Key>N{i}-"), 1));
    }
    let doc = format!("{}{}{}", &src[..a], many, &src[b..]).replace(['\n', '\r'], " ");
    let (t, _r) = repo();
    let path = t.path().join("big.tm7");
    std::fs::write(&path, doc).unwrap();
    let t0 = std::time::Instant::now();
    let o = bin()
        .args(["verify", path.to_str().unwrap(), "--repo"])
        .arg(&fixture)
        .args(["--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // About 1 s on a 2-core machine; quadratic positions took minutes.
    assert!(t0.elapsed().as_secs() < 30, "{:?}", t0.elapsed());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let threats = v["documents"][0]["tm7"]["threats"].as_array().unwrap();
    assert!(threats.len() >= 20_000, "{}", threats.len());
    // Every threat is on line 1 of the one-line file, at growing columns.
    assert!(threats.iter().all(|x| x["line"] == 1));
    let cols: Vec<u64> = threats
        .iter()
        .filter_map(|x| x["column"].as_u64())
        .collect();
    assert!(
        cols.windows(2).filter(|w| w[1] > w[0]).count() > 19_000,
        "{}",
        cols.len()
    );
}

#[cfg(unix)]
#[test]
fn ignore_files_are_read_checked_and_keep_gitignore_semantics() {
    let (_t, r) = repo();
    for d in ["gen", "sub/deep", ".tools", ".cache", "fifo"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    for f in [
        "gen/out.py",
        "gen/keep.py",
        "sub/deep/x.py",
        "sub/deep/y.py",
        ".tools/t.py",
        ".cache/c.py",
        "fifo/f.py",
    ] {
        std::fs::write(r.join(f), "x = 1\n").unwrap();
    }
    std::fs::write(r.join(".gitignore"), "gen/*\n!gen/keep.py\n.*\n!.tools/\n").unwrap();
    // A deeper file decides for its directory; `.ignore` beats `.gitignore`.
    std::fs::write(r.join("sub/.gitignore"), "deep/x.py\ndeep/y.py\n").unwrap();
    std::fs::write(r.join("sub/.ignore"), "!deep/y.py\n").unwrap();
    // A FIFO named .gitignore would block a plain read.
    let made = Command::new("mkfifo")
        .arg(r.join("fifo/.gitignore"))
        .status()
        .unwrap();
    assert!(made.success());
    let t0 = std::time::Instant::now();
    let o = run_in(&r, &["facts", ".", "--format", "json"]);
    assert!(t0.elapsed().as_secs() < 30);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("skipped fifo/.gitignore: ignore file not read: not a regular file (FIFO)"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["stats"]["files_scanned"], 5, "{}", v["stats"]);
    let o = run_in(&r, &["facts", ".", "--stats"]);
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &stderr(&o);
    assert!(text.contains("5 files scanned"), "{text}");
    // A worktree's or submodule's `.git` is a file naming the git
    // directory: no warning about an `info/exclude` under it.
    std::fs::write(r.join(".git"), "gitdir: /elsewhere/.git/worktrees/w\n").unwrap();
    let o = run_in(&r, &["facts", ".", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains(".git/info/exclude"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["stats"]["files_scanned"], 5, "{}", v["stats"]);
}

/// Workflows (and requirement files) are repository input too: a symlinked
/// workflow, a FIFO, a file over the size cap and a malformed one are each
/// skipped with their name
/// (never read, never quoted), the good workflow is still analysed, and a
/// `.github/workflows` that is a link out of the repository is not entered.
#[cfg(unix)]
#[test]
fn hostile_workflows_are_skipped_by_name() {
    let (t, r) = repo();
    let wf = r.join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("good.yml"),
        "on: push\njobs:\n  a:\n    steps:\n      - uses: foo/bar@v1\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(t.path().join("secret.txt"), wf.join("link.yml")).unwrap();
    assert!(Command::new("mkfifo")
        .arg(wf.join("pipe.yaml"))
        .status()
        .unwrap()
        .success());
    std::fs::write(wf.join("big.yml"), "# hunter2\n".repeat(2000)).unwrap();
    std::fs::write(wf.join("bad.yml"), "jobs: [hunter2\n  : {\n").unwrap();
    // A requirements file that is a link out of the repository.
    std::os::unix::fs::symlink(t.path().join("secret.txt"), r.join("requirements.txt")).unwrap();
    let o = run_in(
        &r,
        &["facts", ".", "--format", "json", "--max-file-size", "4096"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &stderr(&o);
    assert!(!out.contains("hunter2"), "contents disclosed: {out}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let skipped: Vec<(String, String)> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |f: &str| {
        skipped
            .iter()
            .find(|(n, _)| n == &format!(".github/workflows/{f}"))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{f} not skipped: {skipped:?}"))
    };
    assert!(reason("link.yml").contains("symbolic link"));
    assert!(reason("pipe.yaml").contains("FIFO"));
    assert!(reason("big.yml").contains("larger than"));
    assert!(reason("bad.yml").starts_with("invalid YAML at line 2"));
    assert!(skipped
        .iter()
        .any(|(f, r)| f == "requirements.txt" && r.contains("symbolic link")));
    let facts = v["facts"].as_array().unwrap();
    assert_eq!(facts.len(), 1, "{facts:?}");
    assert_eq!(facts[0]["file"], ".github/workflows/good.yml");
    assert_eq!(facts[0]["kind"], "ci_action_unpinned");

    // The workflows directory itself a link out of the repository: not entered.
    let outside = t.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::rename(wf.join("good.yml"), outside.join("good.yml")).unwrap();
    std::fs::remove_dir_all(&wf).unwrap();
    std::os::unix::fs::symlink(&outside, &wf).unwrap();
    let o = run_in(&r, &["facts", ".", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["facts"].as_array().unwrap().len(), 0, "{v}");
}

/// A file that is mostly syntax errors (HTML saved as `.rs`): tree-sitter's
/// error recovery allocates and frees as it goes, and the per-file arena
/// must reuse what it frees. Before it did, this 1 MB file took 392 MB of
/// peak RSS (105 MB without the arena); the bound leaves room for the
/// allocator and the process, not for the arena growing with the churn.
/// (Run after the other tests, it also checks that the reported peak is
/// the program's own: `getrusage` carried over this test process's peak,
/// 230 MB, through fork and exec.)
#[test]
fn error_recovery_churn_does_not_grow_memory() {
    let t = tempfile::tempdir().unwrap();
    let unit = "<div class=\"s\"><h2 id=\"x-y\"><a href=\"#x\">Title & more</a></h2>\
                <p>Text with <code>fn main()</code> and {braces} (parens) \"q\" 'q';</p></div>\n";
    let src: String = unit.repeat(1_000_000 / unit.len() + 1);
    std::fs::write(t.path().join("page.rs"), &src[..1_000_000]).unwrap();
    let o = run_in(
        t.path(),
        &[
            "facts",
            ".",
            "--no-cache",
            "--threads",
            "1",
            "--stats",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let peak = v["stats"]["timings"]["peak_rss_bytes"].as_u64().unwrap();
    assert!(peak < 220 << 20, "peak RSS {} MB", peak >> 20);
}
