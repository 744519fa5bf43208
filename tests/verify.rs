//! `threatscan verify` on tests/fixtures/verify_app and its hand-written
//! Markdown STRIDE matrix: every reference status and suggestion, every claim
//! verdict, exit codes, and bad documents.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verify_app")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_threatscan"))
        .args(args)
        .output()
        .unwrap()
}

fn verify_json() -> Value {
    let doc = fixture().join("docs/threat-model.md");
    let out = run(&[
        "verify",
        doc.to_str().unwrap(),
        "--repo",
        fixture().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_reference_has_the_right_status_and_suggestion() {
    let v = verify_json();
    let got: Vec<String> = v["documents"][0]["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}{}{}",
                r["line"],
                r["text"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r.get("suggestion")
                    .map(|s| format!(" -> {}", s.as_str().unwrap()))
                    .unwrap_or_default(),
                match r.get("used").and_then(Value::as_bool) {
                    Some(true) => " used",
                    Some(false) => " unused",
                    None => "",
                }
            )
        })
        .collect();
    let want = [
        "9 acme.api.auth:TokenVerifier python_symbol resolved used",
        "9 acme.api.auth:require_user python_symbol resolved used",
        "18 yaml.safe_load python_module external used",
        "18 acme.config:Settings.max_config_bytes=65536 python_symbol resolved",
        "19 acme.store.jobs:JobLog.append_row python_symbol missing -> acme.store.jobs:JobLog.append",
        "25 acme.api.ratelimit:SlidingWindow python_symbol resolved unused",
        "26 acme.config:Settings.region=us-east-1 python_symbol missing",
        "32 https://github.com/acme/relay/blob/main/src/acme/hooks.py#L4-L6 github_link resolved",
        "32 src/acme/hooks.py file resolved",
        "33 https://github.com/acme/relay/blob/main/src/acme/hooks.py#L40 github_link missing",
        "34 src/acme/cli.py:6 file_line resolved",
        "35 src/acme/cron.py file missing",
        "37 deploy.md document resolved",
        "37 runbook.md document missing",
        "38 acme.audit.jsonl:JsonlSink.write python_symbol missing -> acme.audit.sink:JsonlSink.write",
        "38 scripts/lineage_check.py file resolved",
        "39 acme.api.auth.require_admin python_symbol missing",
    ];
    assert_eq!(got, want);
    let refs = v["documents"][0]["references"].as_array().unwrap();
    // Resolved symbols point at their definitions.
    assert_eq!(refs[0]["target"]["file"], "src/acme/api/auth.py");
    assert_eq!(refs[0]["target"]["line"], 4);
    assert_eq!(
        refs[0]["column"], 40,
        "the column of the code inside the backticks"
    );
    // The literal value is checked.
    assert!(refs[6]["note"]
        .as_str()
        .unwrap()
        .contains("assigned \"eu-west-1\", not us-east-1"));
}

#[test]
fn every_claim_gets_the_right_verdict() {
    let v = verify_json();
    let got: Vec<String> = v["documents"][0]["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {} [{}]",
                c["line"],
                c["mitigation"].as_str().unwrap(),
                c["polarity"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
                c["context"].as_str().unwrap()
            )
        })
        .collect();
    let want = [
        // Cited guard applied to routes.
        "9 authentication present supported [Spoofing / HTTP API]",
        "10 n/a not_applicable unverified [Spoofing / Config loader]",
        // True absence, scoped to the /metrics route.
        "11 authentication absent supported [Spoofing / Metrics]",
        // A GAP whose mitigation now exists.
        "17 signing absent contradicted [Tampering / HTTP API]",
        "18 safe_deserialisation present supported [Tampering / Config loader]",
        "18 size_limits present unverified [Tampering / Config loader]",
        // A rate limiter that exists but is applied to no route.
        "25 rate_limiting present contradicted [Denial of service / HTTP API]",
        "37 audit_logging present contradicted [Code references]",
        "43 rate_limiting absent supported [Known gaps]",
        // A false absence claim: routes carry auth guards.
        "44 authentication absent contradicted [Known gaps]",
    ];
    assert_eq!(got, want);
    let claims = v["documents"][0]["claims"].as_array().unwrap();
    let signing = &claims[3];
    assert_eq!(signing["evidence"][0]["file"], "src/acme/hooks.py");
    let false_absence = &claims[9];
    assert_eq!(
        false_absence["evidence"][0]["file"],
        "src/acme/api/routes.py"
    );
    assert_eq!(false_absence["evidence"][0]["line"], 7);
    let summary = &v["summary"];
    assert_eq!(summary["references"], 17);
    assert_eq!(summary["missing"], 7);
    assert_eq!(summary["contradicted"], 4);
}

#[test]
fn exit_codes_and_text_report() {
    let doc = fixture().join("docs/threat-model.md");
    let doc = doc.to_str().unwrap();
    let repo = fixture();
    let repo = repo.to_str().unwrap();
    let code = |fail_on: &str| {
        run(&["verify", doc, "--repo", repo, "--fail-on", fail_on])
            .status
            .code()
    };
    assert_eq!(code("never"), Some(0));
    assert_eq!(code("missing"), Some(1));
    assert_eq!(code("contradicted"), Some(1));
    // A clean document passes.
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.md");
    std::fs::write(
        &ok,
        "# Model\n\nTokens are checked by `acme.api.auth:require_user`.\n",
    )
    .unwrap();
    assert_eq!(
        run(&["verify", ok.to_str().unwrap(), "--repo", repo])
            .status
            .code(),
        Some(0)
    );
    // Text: problems first, grouped by section.
    let out = run(&["verify", doc, "--repo", repo]);
    let text = String::from_utf8_lossy(&out.stdout);
    let problems = text.find("problems:").unwrap();
    let fine = text.find("fine:").unwrap();
    assert!(problems < fine);
    assert!(text.contains("did you mean acme.store.jobs:JobLog.append?"));
}

#[test]
fn bad_documents_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let repo = fixture();
    let repo = repo.to_str().unwrap();
    let bin = dir.path().join("model.md");
    std::fs::write(&bin, b"\x00\x01\x02PNG").unwrap();
    let tm7 = dir.path().join("model.tm7");
    std::fs::write(&tm7, "<ThreatModel>").unwrap();
    for (doc, want) in [
        (bin.to_str().unwrap(), "binary"),
        (tm7.to_str().unwrap(), ".tm7"),
        ("/no/such/doc.md", "cannot read"),
    ] {
        let out = run(&["verify", doc, "--repo", repo]);
        assert_eq!(out.status.code(), Some(2), "{doc}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("threatscan: error:") && err.contains(want),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
    }
    // A malformed table is read as well as it can be; no crash.
    let md = dir.path().join("broken.md");
    std::fs::write(
        &md,
        "| a | b |\n|---|\n| `acme.api.auth:require_user` | no rate limiting | extra |\n|\n",
    )
    .unwrap();
    let out = run(&[
        "verify",
        md.to_str().unwrap(),
        "--repo",
        repo,
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0));
}
