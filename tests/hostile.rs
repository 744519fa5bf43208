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
