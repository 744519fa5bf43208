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
