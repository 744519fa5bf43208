//! Fuzzing entry points: each takes arbitrary bytes and drives one reader
//! the way a run does, so a crash, hang or runaway allocation found here is
//! one a hostile repository or document could cause. Used by the bounded
//! mutation suite in `tests/fuzz.rs` (every CI run) and by the `cargo fuzz`
//! targets in `fuzz/` (long, coverage-guided runs).

use crate::lang::Lang;
use crate::rules::RuleSet;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The targets, by name.
pub const TARGETS: [&str; 7] = [
    "python", "rust", "markdown", "tm7", "rules", "baseline", "workflow",
];

/// Run one target on `data`.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "python" => source(Lang::Python, data),
        "rust" => source(Lang::Rust, data),
        "markdown" => document("md", data),
        "tm7" => document("tm7", data),
        "rules" => rules(data),
        "baseline" => baseline(data),
        "workflow" => crate::supply_chain::fuzz(data),
        _ => panic!("no fuzz target {target}"),
    }
}

fn builtin() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(RuleSet::builtin)
}

fn scan_of(files: Vec<crate::extract::FileFacts>) -> crate::Scan {
    crate::Scan::of_files(PathBuf::from("/nonexistent/threatscan-fuzz"), files)
}

/// A source file through extraction (with the built-in rule queries), then
/// facts, the model and the scan rules over it.
pub fn source(lang: Lang, data: &[u8]) {
    if data.len() as u64 > crate::DEFAULT_MAX_FILE_SIZE {
        return;
    }
    let path = match lang {
        Lang::Python => "app/main.py",
        Lang::Rust => "src/main.rs",
    };
    let Ok((ff, _)) = crate::extract_timed(path.into(), lang, data, &builtin().queries) else {
        return;
    };
    let scan = scan_of(vec![ff]);
    let _ = crate::facts(&scan);
    let opts = crate::model::ModelOptions::default();
    let _ = crate::model::build(&scan, &opts);
    let _ = crate::rules::engine::run(&scan, builtin(), &opts);
}

/// A threat model document (`ext` decides the reader, as a file name
/// would), verified against a small fixed repository.
pub fn document(ext: &str, data: &[u8]) {
    let Ok(doc) = crate::verify::document_from_bytes("fuzz", ext, data.to_vec()) else {
        return;
    };
    let src = b"from flask import Flask\napp = Flask(__name__)\n\n@app.route('/items', methods=['POST'])\ndef create():\n    return 'ok'\n";
    let files = crate::extract_source("app.py".into(), Lang::Python, src)
        .into_iter()
        .collect();
    let scan = scan_of(files);
    let report = crate::verify::verify(&scan, &[(PathBuf::from("model.md"), doc)]);
    let _ = crate::verify::json(&report);
    let _ = crate::verify::text(&report);
}

/// Rule files (and the same text as a framework spec and a repository
/// configuration). The first line, when it starts with `;`, is the query
/// every rule's query file reads as.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, text) = match text.split_once('\n') {
        Some((q, rest)) if q.starts_with(';') => (&q[1..], rest),
        _ => ("(identifier) @match", text),
    };
    let _ = crate::rules::load_rule_text(text, query);
    let _ = crate::frameworks::spec::parse_file(std::path::Path::new("fuzz.toml"), text);
    let _ = toml::from_str::<crate::rules::Config>(text);
}

/// A `--baseline` SARIF log, applied to the findings of a small file.
pub fn baseline(data: &[u8]) {
    let Ok(b) = crate::rules::baseline::Baseline::from_bytes("fuzz.sarif", data) else {
        return;
    };
    let _ = b.apply(&mut []);
}
