//! Parse-only vs full facts extraction over a generated multi-megabyte corpus.
//!
//! `cargo bench --bench extract` reports throughput (bytes/s) for:
//! - `parse_only`: tree-sitter parsing alone;
//! - `extract`: parsing + queries + decoding into FileFacts;
//! - `facts`: extract + whole-repo linking, routes and sinks (the `facts` command minus I/O).
//!
//! - `disk_cold`: the whole `facts` pass from disk (walk, read, parse,
//!   extract, link) with no extraction cache;
//! - `disk_warm`: the same with a warm cache and nothing changed;
//! - `disk_warm_1pct`: the same with 1 % of the files changed before each run;
//! - `disk_scan`: `threatscan scan` from disk with the built-in rules (their
//!   queries run during extraction), no cache.
//!
//! Before the timed runs it prints a memory report: the peak resident set
//! size of one `facts` pass from disk, in MB and in bytes per byte of source
//! (the bench process also holds the corpus text, which is included; it
//! uses the system allocator, where the command uses mimalloc, and frees
//! each syntax tree node by node, where the command resets a per-file
//! arena: see `threatscan::tsalloc`).
//!
//! The results of `extract` and `facts` are freed outside the timing: the
//! command leaves them to the operating system at exit.
//!
//! THREATSCAN_BENCH_REPO=/path/to/checkout adds `repo_cold` and `repo_warm`
//! (nothing changed) on a real tree, which is only read.
//!
//! Set THREATSCAN_CORPUS_DIR=/some/dir to also write the corpus to disk (for
//! `threatscan facts /some/dir --stats` and peak-memory measurements);
//! THREATSCAN_CORPUS_FILES sets the number of Python files (default 400).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use threatscan::lang::Lang;

fn python_module(i: usize) -> String {
    let mut s = format!(
        r#""""Service module {i}."""
import os
import subprocess
import yaml as y
from fastapi import APIRouter, Depends, HTTPException
from ..auth import get_current_user as current_user
from .models import Item{i}, Order{i}

router = APIRouter(prefix="/svc{i}", tags=["svc{i}"])
SETTINGS_PATH = os.environ.get("SVC{i}_SETTINGS", "/etc/svc{i}.yaml")


class Repository{i}:
    def __init__(self, root):
        self.root = root
        self.cache = {{}}

    def load(self, name):
        with open(os.path.join(self.root, name)) as fh:
            return y.load(fh, Loader=y.SafeLoader)

    def save(self, name, data):
        with open(os.path.join(self.root, name), "w") as fh:
            fh.write(y.safe_dump(data))
"#
    );
    for j in 0..14 {
        s.push_str(&format!(
            r#"

@router.get("/items/{{item_id}}/part{j}")
async def read_item_{j}(item_id: int, user=Depends(current_user)):
    repo = Repository{i}("/var/lib/svc{i}")
    data = repo.load(f"item-{{item_id}}-{j}.yaml")
    if not data:
        raise HTTPException(status_code=404, detail="not found")
    total = sum(x.get("price", 0) * x.get("qty", 1) for x in data.get("lines", []))
    return {{"id": item_id, "total": total, "part": {j}, "owner": user.name}}


@router.post("/items/{{item_id}}/part{j}/export")
async def export_item_{j}(item_id: int, fmt: str = "csv"):
    out = subprocess.run(["exporter", "--format", fmt, str(item_id)], capture_output=True, check=False)
    lines = [line.strip() for line in out.stdout.decode().splitlines() if line]
    return {{"lines": lines[:100], "count": len(lines)}}
"#
        ));
    }
    s
}

fn rust_module(i: usize) -> String {
    let mut s = format!(
        r#"use axum::{{extract::Path, routing::{{get, post}}, Json, Router}};
use std::process::Command;

pub fn router{i}() -> Router {{
    Router::new()
        .route("/r{i}/items/:id", get(get_item_{i}).post(create_item_{i}))
        .route("/r{i}/export", post(export_{i}))
}}

async fn export_{i}() -> String {{
    let out = Command::new("exporter").arg("--all").output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}}
"#
    );
    for j in 0..10 {
        s.push_str(&format!(
            r#"
pub async fn get_item_{i}_{j}(Path(id): Path<u64>) -> Json<serde_json::Value> {{
    let path = format!("/var/lib/items/{{}}-{j}.json", id);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    Json(v)
}}
"#
        ));
    }
    s.push_str(&format!(
        "pub async fn get_item_{i}() {{}}\npub async fn create_item_{i}() {{}}\n"
    ));
    s
}

/// (path, language, source) for a deterministic corpus.
fn corpus(py_files: usize) -> Vec<(String, Lang, String)> {
    let mut out = vec![];
    out.push(("pkg/__init__.py".into(), Lang::Python, String::new()));
    out.push((
        "pkg/auth.py".into(),
        Lang::Python,
        "def get_current_user(token: str = ''):\n    return token\n".into(),
    ));
    for i in 0..py_files {
        let pkg = format!("pkg/svc{}", i / 50);
        if i % 50 == 0 {
            out.push((format!("{pkg}/__init__.py"), Lang::Python, String::new()));
            out.push((
                format!("{pkg}/models.py"),
                Lang::Python,
                "class Item: pass\n".into(),
            ));
        }
        out.push((format!("{pkg}/mod{i}.py"), Lang::Python, python_module(i)));
    }
    for i in 0..py_files / 8 {
        out.push((format!("crate/src/m{i}.rs"), Lang::Rust, rust_module(i)));
    }
    out
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("THREATSCAN_CORPUS_FILES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let files = corpus(n);
    if let Ok(dir) = std::env::var("THREATSCAN_CORPUS_DIR") {
        for (p, _, s) in &files {
            let path = std::path::Path::new(&dir).join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, s).unwrap();
        }
    }
    let bytes: usize = files.iter().map(|f| f.2.len()).sum();
    eprintln!(
        "corpus: {} files, {:.2} MB",
        files.len(),
        bytes as f64 / 1e6
    );

    // From disk, through the extraction cache.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("corpus");
    for (p, _, src) in &files {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, src).unwrap();
    }
    let cache = tmp.path().join("cache");
    let run = |root: &std::path::Path, cache: Option<&std::path::Path>| {
        let mut o = threatscan::Options::new(root);
        o.cache_dir = cache.map(std::path::Path::to_path_buf);
        let scan = threatscan::scan(&o).unwrap();
        let facts = threatscan::facts(&scan);
        (scan, facts)
    };
    // The memory report, before criterion holds results of its own.
    drop(run(&root, None));
    let rss = threatscan::peak_rss();
    eprintln!(
        "memory: one facts pass from disk peaks at {:.1} MB RSS, {:.1} bytes per byte of the {:.2} MB corpus",
        rss as f64 / 1e6,
        rss as f64 / bytes as f64,
        bytes as f64 / 1e6
    );
    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            let mut nodes = 0;
            for (_, lang, src) in &files {
                nodes += threatscan::parse_only(*lang, src.as_bytes());
            }
            black_box(nodes)
        })
    });
    // The extracted facts are returned, and freed outside the timing, as the
    // command leaves them to the operating system at exit. Each file's
    // syntax tree is freed inside, as in parse_only.
    g.bench_function("extract", |b| {
        b.iter_with_large_drop(|| {
            let ff: Vec<_> = files
                .iter()
                .filter_map(|(p, l, s)| threatscan::extract_source(p.clone(), *l, s.as_bytes()))
                .collect();
            black_box(ff)
        })
    });
    g.bench_function("facts", |b| {
        b.iter_with_large_drop(|| {
            let ff: Vec<_> = files
                .iter()
                .filter_map(|(p, l, s)| threatscan::extract_source(p.clone(), *l, s.as_bytes()))
                .collect();
            let scan = threatscan::Scan::of_files(std::path::PathBuf::from("/nonexistent"), ff);
            let facts = threatscan::facts(&scan);
            black_box((scan, facts))
        })
    });
    let rules = threatscan::rules::RuleSet::builtin();
    g.bench_function("disk_scan", |b| {
        b.iter_with_large_drop(|| {
            let mut o = threatscan::Options::new(&root);
            o.rule_queries = rules.queries.clone();
            let scan = threatscan::scan(&o).unwrap();
            let findings = threatscan::rules::engine::run(
                &scan,
                &rules,
                &threatscan::model::ModelOptions::default(),
            );
            black_box((scan, findings))
        })
    });
    g.bench_function("disk_cold", |b| {
        b.iter_with_large_drop(|| black_box(run(&root, None)))
    });
    drop(run(&root, Some(&cache)));
    g.bench_function("disk_warm", |b| {
        b.iter_with_large_drop(|| black_box(run(&root, Some(&cache))))
    });
    let mut round = 0usize;
    let step = files.len().div_ceil(files.len() / 100).max(1);
    g.bench_function("disk_warm_1pct", |b| {
        b.iter_with_large_drop(|| {
            round += 1;
            for (p, _, src) in files.iter().step_by(step) {
                let comment = if p.ends_with(".rs") { "//" } else { "#" };
                std::fs::write(root.join(p), format!("{src}\n{comment} round {round}\n")).unwrap();
            }
            black_box(run(&root, Some(&cache)))
        })
    });
    g.finish();

    if let Ok(repo) = std::env::var("THREATSCAN_BENCH_REPO") {
        let repo = std::path::PathBuf::from(repo);
        let cache = tmp.path().join("repo-cache");
        let mut g = c.benchmark_group("repo");
        g.sample_size(10);
        g.bench_function("repo_cold", |b| {
            b.iter_with_large_drop(|| black_box(run(&repo, None)))
        });
        drop(run(&repo, Some(&cache)));
        g.bench_function("repo_warm", |b| {
            b.iter_with_large_drop(|| black_box(run(&repo, Some(&cache))))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
