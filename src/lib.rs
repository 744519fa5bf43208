//! threatscan: ground threat models in code.
//!
//! Pipeline: [`walk`] → parse + [`extract`] (parallel, per file) → [`link`]
//! (whole repository) → [`facts`] and [`routes`] → [`report`].

pub mod cache;
pub mod catalog;
pub mod extract;
pub mod facts;
pub mod frameworks;
pub mod fsread;
pub mod fuzz;
pub mod intern;
pub mod lang;
pub mod link;
pub mod model;
pub mod report;
pub mod routes;
pub mod rules;
pub mod scope;
pub mod summary;
pub mod supply_chain;
pub mod tsalloc;
pub mod verify;
pub mod walk;

use extract::{Expr, FileFacts};
use facts::Fact;
use lang::Lang;
use rayon::prelude::*;
use serde::Serialize;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Instant;
use walk::Skipped;

pub const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// Stack size of the extraction workers (virtual; pages are used on demand).
const WORKER_STACK: usize = 32 << 20;

/// The most worker threads `--threads` accepts.
pub const MAX_THREADS: usize = 256;

#[derive(Clone, Debug)]
pub struct Options {
    pub root: PathBuf,
    pub threads: Option<usize>,
    pub max_file_size: u64,
    pub excludes: Vec<String>,
    /// Tree-sitter queries of `threatscan scan` rules, run on every file.
    pub rule_queries: std::sync::Arc<Vec<extract::RuleQuery>>,
    /// The extraction cache's directory (see [`cache`]); `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    /// The code scopes to analyse (`None`: all). Files of other scopes are
    /// neither parsed nor extracted, only counted (build scripts excepted:
    /// their install-time facts are kept whatever the scope); restrict the
    /// [`Scan`] to the same set with [`Scan::restrict`].
    pub scopes: Option<scope::ScopeSet>,
}

impl Options {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Options {
            root: root.into(),
            threads: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            excludes: vec![],
            rule_queries: Default::default(),
            cache_dir: None,
            scopes: None,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub files_scanned: usize,
    pub files_skipped: usize,
    pub bytes: u64,
    /// Files parsed with syntax errors (facts still come from their valid parts).
    pub files_with_syntax_errors: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    /// With `--stats`: per-stage wall and CPU time, peak RSS.
    #[serde(skip_serializing_if = "Timings::unset")]
    pub timings: Timings,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timings {
    /// Wall time of each stage, and the process's CPU time (user + system,
    /// all threads, from the OS) spent in it, in milliseconds. The walk
    /// runs on its own thread beside extraction: `walk_ms` is the walk
    /// thread's wall time, within `parse_extract_ms` (which runs from the
    /// start), and `walk_cpu_ms` that thread's CPU time, not counted again
    /// in `parse_extract_cpu_ms`.
    pub walk_ms: f64,
    pub walk_cpu_ms: f64,
    pub parse_extract_ms: f64,
    pub parse_extract_cpu_ms: f64,
    /// CPU time inside tree-sitter's parser (parsing and freeing trees), as
    /// the OS counts it for each worker thread, summed over the threads (so
    /// it can exceed the stage's wall time, never its CPU time); part of
    /// parse_extract_cpu_ms.
    pub tree_sitter_thread_ms: f64,
    /// After extraction: linking names, facts, and (model, scan, verify) the
    /// command's own analysis.
    pub analysis_ms: f64,
    pub analysis_cpu_ms: f64,
    pub total_ms: f64,
    pub total_cpu_ms: f64,
    /// Peak resident set size of the process, in bytes (from the OS).
    pub peak_rss_bytes: u64,
    pub threads: usize,
    /// Files whose facts came from the extraction cache, and the time spent
    /// writing its next pack (part of parse_extract_ms).
    pub cache_hits: usize,
    /// Of the cache hits, files not even read: their stamp (size, inode,
    /// modification and change times) was the one their entry was made with.
    pub cache_unread: usize,
    pub cache_write_ms: f64,
    /// `facts`, `model` and `scan`: the result was read back from the result memo
    /// (no linking, route pass or model building ran; see [`cache::Memo`]).
    pub from_memo: bool,
}

/// CPU time the calling thread has used so far, as the OS counts it; zero
/// where the OS cannot say.
pub fn thread_cpu() -> std::time::Duration {
    #[cfg(unix)]
    {
        // SAFETY: clock_gettime writes the struct it is given and nothing else.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return std::time::Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.max(0) as u32);
        }
    }
    std::time::Duration::ZERO
}

/// CPU time the whole process has used so far (user + system, every thread),
/// as the OS counts it; zero where the OS cannot say.
pub fn process_cpu() -> std::time::Duration {
    // SAFETY: getrusage writes the struct it is given and nothing else.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return std::time::Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec.max(0) as u64)
            + std::time::Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The process's peak resident set size in bytes, as the OS counts it;
/// zero where the OS cannot say. On Linux, the high-water mark of this
/// program's own memory (`VmHWM` in `/proc/self/status`): `getrusage`'s
/// `ru_maxrss` carries over the parent's peak through `fork` and `exec`,
/// so a run started by a large process reported that process's memory.
pub fn peak_rss() -> u64 {
    #[cfg(target_os = "linux")]
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
        if let Some(kb) = kb {
            return kb * 1024;
        }
    }
    // (getrusage: Linux reports kilobytes, macOS bytes.)
    // SAFETY: as above.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0;
    }
    let v = ru.ru_maxrss.max(0) as u64;
    if cfg!(target_os = "macos") {
        v
    } else {
        v * 1024
    }
}

impl Timings {
    /// Not measured (no `--stats`): left out of JSON.
    pub fn unset(&self) -> bool {
        self.total_ms == 0.0
    }

    /// Close the run: the analysis stage is what followed extraction
    /// (`t0`/`cpu0`: when the run started).
    pub fn finish(&mut self, t0: std::time::Instant, cpu0: std::time::Duration) {
        self.total_ms = t0.elapsed().as_secs_f64() * 1e3;
        self.total_cpu_ms = (process_cpu().saturating_sub(cpu0)).as_secs_f64() * 1e3;
        // The walk runs beside extraction: its wall time is inside
        // parse_extract_ms, its CPU time is not.
        self.analysis_ms = (self.total_ms - self.parse_extract_ms).max(0.0);
        self.analysis_cpu_ms =
            (self.total_cpu_ms - self.walk_cpu_ms - self.parse_extract_cpu_ms).max(0.0);
        self.peak_rss_bytes = peak_rss();
    }

    /// One line for `--stats` on standard error.
    pub fn line(&self, files: usize, bytes: u64, what: &str) -> String {
        format!(
            "threatscan: {files} files, {:.2} MB, {what}; walk {:.0} ms (cpu {:.0} ms, beside extraction), parse+extract {:.0} ms (cpu {:.0} ms on {} threads; tree-sitter {:.0} ms cpu; {} files from the cache ({} unread), {:.0} ms writing it), analysis {:.0} ms (cpu {:.0} ms{}), total {:.0} ms (cpu {:.0} ms), peak RSS {:.0} MB",
            bytes as f64 / 1e6,
            self.walk_ms,
            self.walk_cpu_ms,
            self.parse_extract_ms,
            self.parse_extract_cpu_ms,
            self.threads,
            self.tree_sitter_thread_ms,
            self.cache_hits,
            self.cache_unread,
            self.cache_write_ms,
            self.analysis_ms,
            self.analysis_cpu_ms,
            if self.from_memo {
                "; read back from the result memo"
            } else {
                ""
            },
            self.total_ms,
            self.total_cpu_ms,
            self.peak_rss_bytes as f64 / 1e6,
        )
    }
}

pub struct Scan {
    pub root: PathBuf,
    /// The files analysed, in path order: read them with [`Scan::files`]
    /// (files taken from the cache stand in here until they are decoded).
    files: Vec<FileFacts>,
    /// Files whose cache entries are decoded on first use (see [`Lazy`]).
    lazy: Option<Box<Lazy>>,
    /// The repository's own `[[framework]]` specs (`.threatscan.toml`
    /// `[catalog] frameworks`).
    pub frameworks: Vec<frameworks::spec::FrameworkSpec>,
    /// Package names declared by manifests, by directory (`""` for the
    /// root): `crates/api` → `site_api`.
    pub manifests: std::collections::BTreeMap<String, String>,
    pub skipped: Vec<Skipped>,
    /// Facts of the repository's supply chain (GitHub Actions workflows),
    /// found beside the source files (see [`supply_chain`]).
    pub ci_facts: Vec<Fact>,
    /// Suppression comments of those files (workflows are not parsed by
    /// tree-sitter), by repository-relative path.
    pub ci_suppressions: std::collections::BTreeMap<String, Vec<extract::Suppression>>,
    /// Files analysed only in part, and why (a rule query stopped at its
    /// budget). Sorted.
    pub partial: Vec<Skipped>,
    /// What [`Scan::restrict`] left out.
    pub left_out: scope::LeftOut,
    pub stats: Stats,
    /// The size cap files were scanned under (later reads use it too).
    pub max_file_size: u64,
    /// With the cache: where the linked facts of exactly these inputs are
    /// kept (see [`cache::Memo`]).
    pub memo: Option<cache::Memo>,
}

/// Files of a scan taken from the cache and not decoded yet: a run whose
/// result memo answers (nothing changed) never needs their facts, only what
/// the head of each entry says (see [`cache::EntryMeta`]). The first call of
/// [`Scan::files`] decodes them all, on the scan's threads.
struct Lazy {
    /// The pack the entries are in, let go once they are decoded.
    cache: std::sync::Mutex<Option<cache::Cache>>,
    /// Path → entry key of each file that stands in for its entry.
    pending: std::collections::HashMap<String, u128>,
    rule_queries: std::sync::Arc<Vec<extract::RuleQuery>>,
    threads: usize,
    /// The scan's files, stand-ins among them, until they are decoded.
    files: std::sync::Mutex<Vec<FileFacts>>,
    decoded: std::sync::OnceLock<Vec<FileFacts>>,
}

/// Why a file taken from the cache has no facts: its entry turned out
/// unreadable when decoded and the file could not be read again.
pub const LOST_LATE: &str =
    "its cached facts were unreadable and the file could not be read again; analysed without its facts";

impl Lazy {
    /// The scan's files with every stand-in replaced by its facts, decoded
    /// on `threads` workers; the pack is let go.
    fn materialize(&self, root: &Path, max_file_size: u64) -> Vec<FileFacts> {
        let mut files = std::mem::take(&mut *self.files.lock().unwrap_or_else(|e| e.into_inner()));
        let mut held = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let cache = held.as_ref();
        let at: Vec<usize> = (0..files.len())
            .filter(|&i| self.pending.contains_key(&files[i].path))
            .collect();
        let decoded = par_map(self.threads, at.len(), |k| {
            self.decode(cache, root, max_file_size, &files[at[k]])
        });
        for (i, ff) in at.into_iter().zip(decoded) {
            files[i] = ff;
        }
        *held = None;
        files
    }

    /// The facts of `stand_in`'s file: its entry decoded (its Rust test
    /// items dropped when [`Scan::restrict`] took them from the stand-in),
    /// or, for an entry that does not decode to well-formed facts of that
    /// file, the file extracted again.
    fn decode(
        &self,
        cache: Option<&cache::Cache>,
        root: &Path,
        max_file_size: u64,
        stand_in: &FileFacts,
    ) -> FileFacts {
        let key = self.pending[&stand_in.path];
        let got = cache
            .and_then(|c| c.get(&stand_in.path, key, self.rule_queries.len()))
            .or_else(|| {
                let bytes = fsread::read(&root.join(&stand_in.path), max_file_size, None).ok()?;
                std::str::from_utf8(&bytes).ok()?;
                extract_timed(
                    stand_in.path.clone(),
                    stand_in.lang,
                    &bytes,
                    &self.rule_queries,
                )
                .ok()
                .map(|(ff, _)| ff)
            });
        let mut ff = match got {
            Some(ff) => ff,
            // Neither the entry nor the file can be read now (both changed
            // while the run went on): the file counts as it did when the
            // scan began, with no facts, and says so.
            None => {
                let mut ff = FileFacts::new(stand_in.path.clone(), stand_in.lang, stand_in.bytes);
                ff.partial.push(LOST_LATE.into());
                eprintln!(
                    "threatscan: warning: skipped {}: {LOST_LATE}",
                    stand_in.path
                );
                ff
            }
        };
        ff.scope = stand_in.scope;
        if stand_in.test_lines.is_empty() && !ff.test_lines.is_empty() {
            let ranges = std::mem::take(&mut ff.test_lines);
            ff.drop_lines(&ranges);
        }
        ff
    }
}

impl Scan {
    /// The files analysed, in path order. With the cache, files taken from
    /// it are decoded here, on first use.
    pub fn files(&self) -> &[FileFacts] {
        match &self.lazy {
            None => &self.files,
            Some(l) => l
                .decoded
                .get_or_init(|| l.materialize(&self.root, self.max_file_size)),
        }
    }

    /// The files, to change: decoded ones once [`Scan::files`] has run,
    /// else the stand-ins (whatever is changed in a stand-in is carried to
    /// its facts when they are decoded, see [`Lazy::decode`]).
    fn files_mut(&mut self) -> &mut Vec<FileFacts> {
        match self.lazy.as_deref_mut() {
            None => &mut self.files,
            Some(Lazy { decoded, files, .. }) => match decoded.get_mut() {
                Some(decoded) => decoded,
                None => files.get_mut().unwrap_or_else(|e| e.into_inner()),
            },
        }
    }

    /// A scan of these files alone, under `root`: nothing else read (build
    /// scripts linked on their own, fuzzing, benchmarks).
    pub fn of_files(root: PathBuf, files: Vec<FileFacts>) -> Scan {
        Scan {
            root,
            files,
            lazy: None,
            frameworks: vec![],
            manifests: Default::default(),
            skipped: vec![],
            ci_facts: vec![],
            ci_suppressions: Default::default(),
            partial: vec![],
            left_out: Default::default(),
            stats: Default::default(),
            memo: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }

    /// Keep only the code of the scopes in `set`: files of other scopes go,
    /// and, unless tests are included, Rust test items in the files kept.
    /// Returns what was left out.
    pub fn restrict(&mut self, set: &scope::ScopeSet) -> &scope::LeftOut {
        // What the scan itself left unparsed (see [`Options::scopes`]) is
        // counted already.
        let mut left = std::mem::take(&mut self.left_out);
        let files = self.files_mut();
        files.retain(|f| {
            let keep = set.contains(f.scope);
            if !keep {
                *left.files.entry(f.scope.as_str()).or_default() += 1;
            }
            keep
        });
        if !set.contains(scope::Scope::Test) {
            for f in files.iter_mut() {
                if !f.test_lines.is_empty() {
                    left.test_items += f.test_lines.len();
                    let ranges = std::mem::take(&mut f.test_lines);
                    f.drop_lines(&ranges);
                }
            }
        }
        self.ci_facts.retain(|f| {
            let keep = scope::Scope::ALL
                .iter()
                .find(|s| s.as_str() == f.scope)
                .is_none_or(|s| set.contains(*s));
            if !keep {
                *left.files.entry(f.scope).or_default() += 1;
            }
            keep
        });
        self.left_out = left;
        if let Some(m) = &mut self.memo {
            m.mix(format!("restricted to {set:?}").as_bytes());
        }
        // The counts are of the files analysed.
        let files = self.files_mut();
        let (n, bytes) = (files.len(), files.iter().map(|f| f.bytes as u64).sum());
        let with_errors = files.iter().filter(|f| f.has_errors).count();
        self.stats.files_scanned = n;
        self.stats.bytes = bytes;
        self.stats.files_with_syntax_errors = with_errors;
        &self.left_out
    }
}

#[derive(Debug)]
pub enum Error {
    /// The root cannot be scanned (missing, unreadable, bad option).
    Input(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Input(s) => f.write_str(s),
        }
    }
}

thread_local! {
    static PARSERS: RefCell<Vec<tree_sitter::Parser>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` with this thread's parser for `lang` (created once per thread, reused).
fn with_parser<T>(lang: Lang, f: impl FnOnce(&mut tree_sitter::Parser) -> T) -> T {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        if parsers.is_empty() {
            *parsers = Lang::ALL
                .iter()
                .map(|l| {
                    let mut p = tree_sitter::Parser::new();
                    p.set_language(&l.grammar()).ok();
                    p
                })
                .collect();
        }
        f(&mut parsers[lang as usize])
    })
}

static LEAVE_TO_OS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// For a process that exits after one run (the command line): large
/// analysis structures, once dropped, are left to the operating system at
/// exit instead of freed one small allocation at a time (milliseconds of a
/// run that reuses the cache). Off by default: a host that runs many scans
/// frees as usual.
pub fn leave_memory_to_os_at_exit() {
    LEAVE_TO_OS.store(true, std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn leaves_memory_to_os() -> bool {
    LEAVE_TO_OS.load(std::sync::atomic::Ordering::Relaxed)
}

/// `f(0..n)` on `threads` workers (roomy stacks, as in extraction), results
/// in index order: the same vector as a sequential map.
pub(crate) fn par_map<T: Send>(threads: usize, n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    // Called on a pool's worker: that pool's threads take the items.
    if threads > 1 && rayon::current_thread_index().is_some() {
        return (0..n).into_par_iter().map(&f).collect();
    }
    let pool = (threads > 1 && n > 1)
        .then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .stack_size(WORKER_STACK)
                .build()
                .ok()
        })
        .flatten();
    match pool {
        Some(p) => p.install(|| (0..n).into_par_iter().map(&f).collect()),
        None => (0..n).map(f).collect(),
    }
}

/// Parse one source text and extract its facts (one parser per thread, reused).
pub fn extract_source(path: String, lang: Lang, src: &[u8]) -> Option<FileFacts> {
    extract_timed(path, lang, src, &[]).ok().map(|(ff, _)| ff)
}

/// [`extract_source`], also returning the time spent in tree-sitter's parser
/// alone (for `--stats`: what extraction costs beyond bare parsing).
pub fn extract_timed(
    path: String,
    lang: Lang,
    src: &[u8],
    rule_queries: &[extract::RuleQuery],
) -> Result<(FileFacts, std::time::Duration), String> {
    extract::reset_columns();
    // Inputs the grammar cannot take without aborting the process are
    // refused before parsing (see `Lang::precheck`).
    lang.precheck(src)?;
    // A lone CR ends a line like LF does; the parser only knows LF, so it
    // sees LF in its place (same length: byte offsets are unchanged).
    let normalised;
    let src = if memchr::memchr(b'\r', src).is_some() {
        normalised = lone_cr_to_lf(src);
        &normalised[..]
    } else {
        src
    };
    let mut path = Some(path);
    let mut work = |parser: &mut tree_sitter::Parser| {
        let t = thread_cpu();
        let tree = parser
            .parse(src, None)
            .ok_or_else(|| "parser gave up".to_string())?;
        let mut parse = thread_cpu().saturating_sub(t);
        let mut ff = lang.extract(&tree, src, path.take().unwrap_or_default());
        if lang == Lang::Python {
            ff.test_lines = python_test_classes(&ff, src);
        }
        ff.suppressions = extract::suppressions(&tree, src);
        if !rule_queries.is_empty() {
            (ff.query_hits, ff.partial) = extract::query_hits(&tree, src, lang, rule_queries);
        }
        // Inside a file's arena the tree goes with the arena (see
        // `tsalloc`); otherwise freeing it is part of the cost of parsing.
        if tsalloc::in_arena() {
            std::mem::forget(tree);
        } else {
            let t = thread_cpu();
            drop(tree);
            parse += thread_cpu().saturating_sub(t);
        }
        Ok((ff, parse))
    };
    match tsalloc::with_file(&lang.grammar(), &mut work) {
        Some(done) => done,
        None => with_parser(lang, work),
    }
}

/// What the walk's thread reads once the walk is done, while the workers
/// still extract: package manifests, and the supply chain beside the
/// source (workflows, requirement files, `pyproject.toml`, install-time
/// hooks).
struct Beside {
    manifests: std::collections::BTreeMap<String, String>,
    ci_facts: Vec<Fact>,
    ci_suppressions: std::collections::BTreeMap<String, Vec<extract::Suppression>>,
    skipped: Vec<Skipped>,
}

fn beside_the_source(
    opts: &Options,
    root: &Path,
    found: &[walk::Found],
    scopes: &scope::Overrides,
) -> Beside {
    let mut manifests = std::collections::BTreeMap::new();
    // Dependency facts of Cargo manifests (lockfile, git dependencies).
    let mut dep_facts = vec![];
    for (rel, abs, lang) in found {
        // A manifest that cannot be read or parsed names no package; the
        // files under it get the default crate name.
        let Ok(text) = fsread::read_text(abs, crate::rules::MAX_CONFIG_SIZE, None) else {
            continue;
        };
        if let Some(name) = lang.manifest_name(&text) {
            let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
            manifests.insert(dir.to_string(), name);
        }
        if *lang == Lang::Rust {
            dep_facts.extend(supply_chain::cargo_manifest(
                root,
                rel,
                &text,
                scopes.scope_of(rel).as_str(),
            ));
        }
    }
    let mut skipped = vec![];
    // Workflows: read from `.github/workflows`, which the walk (hidden
    // directories left out) never enters.
    let (ci_facts, ci_suppressions) = if opts.root.is_dir() {
        let mut w = supply_chain::workflows(root, opts.max_file_size, &opts.excludes, &|rel| {
            scopes.scope_of(rel)
        });
        skipped.append(&mut w.skipped);
        let mut facts = w.facts;
        facts.append(&mut dep_facts);
        let (mut reqs, mut bad) =
            supply_chain::requirements(root, opts.max_file_size, &opts.excludes, &|rel| {
                scopes.scope_of(rel)
            });
        facts.append(&mut reqs);
        skipped.append(&mut bad);
        let (mut py, mut bad) =
            supply_chain::pyproject(root, opts.max_file_size, &|rel| scopes.scope_of(rel));
        facts.append(&mut py);
        skipped.append(&mut bad);
        let (mut inst, mut bad, inst_sups) =
            supply_chain::install_time(root, opts.max_file_size, &opts.excludes);
        facts.append(&mut inst);
        skipped.append(&mut bad);
        let mut sups = w.suppressions;
        sups.extend(inst_sups);
        (facts, sups)
    } else {
        Default::default()
    };
    Beside {
        manifests,
        ci_facts,
        ci_suppressions,
        skipped,
    }
}

/// Line ranges of module-level Python classes named `Test…`: pytest
/// collects them as tests (and `TestingConfig`-style settings classes exist
/// for tests only).
fn python_test_classes(ff: &FileFacts, src: &[u8]) -> Vec<(u32, u32)> {
    let mut out = vec![];
    for d in &ff.defs {
        if d.kind == extract::DefKind::Class && d.parent.is_none() && d.name.starts_with("Test") {
            let end = d.end_byte.min(src.len());
            let last = d.pos.line
                + memchr::memchr_iter(b'\n', &src[d.start_byte.min(end)..end]).count() as u32;
            out.push((d.pos.line, last));
        }
    }
    out
}

/// `\r` not followed by `\n` replaced by `\n`.
fn lone_cr_to_lf(src: &[u8]) -> Vec<u8> {
    let mut out = src.to_vec();
    for i in memchr::memchr_iter(b'\r', src) {
        if src.get(i + 1) != Some(&b'\n') {
            out[i] = b'\n';
        }
    }
    out
}

/// Parse only (no queries, no extraction): the baseline the benchmark compares against.
pub fn parse_only(lang: Lang, src: &[u8]) -> usize {
    with_parser(lang, |parser| {
        parser
            .parse(src, None)
            .map(|t| t.root_node().descendant_count())
            .unwrap_or(0)
    })
}

enum Outcome {
    /// A file's facts, the time tree-sitter took, its cache key and stamp,
    /// and its encoded entry when it was extracted (`None`: taken from the
    /// cache).
    Ok(
        Box<FileFacts>,
        std::time::Duration,
        (u128, u64),
        Option<Vec<u8>>,
    ),
    Skip(Skipped),
    /// A file whose cache entry stands: the head of its entry, its
    /// language, key and stamp (its facts are decoded on first use, see
    /// [`Scan::files`]).
    Cached(Box<cache::EntryMeta>, Lang, (u128, u64)),
    /// A file of a scope not analysed, and its cache key and stamp when the
    /// cache holds its entry (kept in the next pack for runs that analyse it).
    LeftOut(scope::Scope, Option<(String, (u128, u64))>),
}

/// Walk, read, parse and extract every file.
pub fn scan(opts: &Options) -> Result<Scan, Error> {
    let t0 = Instant::now();
    let cpu0 = process_cpu();
    let walker = walk::prepare(&opts.root, &opts.excludes, opts.max_file_size)
        .map_err(|e| Error::Input(e.0))?;
    // The repository's configuration: its own framework specs.
    let (frameworks, scopes) = if opts.root.is_dir() {
        let c = rules::Config::load(&opts.root).map_err(Error::Input)?;
        let scopes = scope::Overrides::new(&c.scope)
            .map_err(|e| Error::Input(format!("{}: {e}", rules::CONFIG_FILE)))?;
        (c.frameworks().map_err(Error::Input)?, scopes)
    } else {
        (vec![], scope::Overrides::default())
    };
    let root = if opts.root.is_file() {
        opts.root
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    } else {
        opts.root.clone()
    };
    let now = std::time::SystemTime::now();
    let unread = std::sync::atomic::AtomicUsize::new(0);
    // A file whose entry stands: its head only (the facts are decoded when
    // first needed), except a build script's, whose facts the scan links
    // itself.
    let cached = |c: &cache::Cache, rel: &str, lang: Lang, (key, stamp): (u128, u64)| {
        if supply_chain::is_build_script(rel) {
            let ff = c.get(rel, key, opts.rule_queries.len())?;
            let zero = std::time::Duration::ZERO;
            return Some(Outcome::Ok(Box::new(ff), zero, (key, stamp), None));
        }
        let meta = c.meta(rel, key)?;
        Some(Outcome::Cached(Box::new(meta), lang, (key, stamp)))
    };
    let process = |cache: &Option<cache::Cache>, (rel, abs, lang): &walk::Found| {
        let scope = scopes.scope_of(rel);
        let left_out = opts.scopes.as_ref().is_some_and(|set| !set.contains(scope))
            && !supply_chain::is_build_script(rel);
        // A file whose stamp is the one its entry was made with is
        // unchanged: its entry stands, the file is not read.
        let stamp = match &cache {
            Some(_) => std::fs::symlink_metadata(abs).map_or(0, |m| cache::stamp(&m, now)),
            None => 0,
        };
        if let Some(c) = &cache {
            if let Some(key) = c.key_by_stamp(rel, stamp) {
                if left_out && c.bytes(rel, key).is_some() {
                    return Outcome::LeftOut(scope, Some((rel.clone(), (key, stamp))));
                }
                if !left_out {
                    if let Some(o) = cached(c, rel, *lang, (key, stamp)) {
                        unread.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return o;
                    }
                }
            }
        }
        let bytes = match fsread::read(abs, opts.max_file_size, None) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Skip(Skipped {
                    file: rel.clone(),
                    reason: match e {
                        fsread::ReadError::Io(m) => format!("unreadable: {m}"),
                        other => other.to_string(),
                    },
                })
            }
        };
        let key = cache.as_ref().map_or(0, |c| c.key(rel, *lang, &bytes));
        // An entry exists only for bytes that were valid UTF-8 when
        // extracted, and the key is a hash of these very bytes.
        let hit = || cache.as_ref().and_then(|c| c.bytes(rel, key)).is_some();
        if left_out && hit() {
            return Outcome::LeftOut(scope, Some((rel.clone(), (key, stamp))));
        }
        if !left_out {
            if let Some(o) = cache
                .as_ref()
                .and_then(|c| cached(c, rel, *lang, (key, stamp)))
            {
                return o;
            }
        }
        if std::str::from_utf8(&bytes).is_err() {
            return Outcome::Skip(Skipped {
                file: rel.clone(),
                reason: "not valid UTF-8".into(),
            });
        }
        // Left out: read and checked like every file (what cannot be
        // analysed is still reported as skipped), but not parsed.
        if left_out {
            return match lang.precheck(&bytes) {
                Ok(()) => Outcome::LeftOut(scope, None),
                Err(reason) => Outcome::Skip(Skipped {
                    file: rel.clone(),
                    reason,
                }),
            };
        }
        match extract_timed(rel.clone(), *lang, &bytes, &opts.rule_queries) {
            Ok((ff, parse)) => {
                let enc = cache.as_ref().and_then(|_| cache::encode(&ff));
                Outcome::Ok(Box::new(ff), parse, (key, stamp), enc)
            }
            Err(reason) => Outcome::Skip(Skipped {
                file: rel.clone(),
                reason,
            }),
        }
    };
    // Workers get roomy stacks: every recursion over a syntax tree is
    // bounded, and this is the margin on top.
    let n = opts.threads.unwrap_or(0).min(MAX_THREADS);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .stack_size(WORKER_STACK)
        .build()
        .map_err(|e| Error::Input(format!("cannot start {n} threads: {e}")))?;
    // The walk runs on its own thread and hands files over as it meets
    // them; the workers extract them meanwhile (and the cache's pack is read
    // meanwhile). Outcomes are then put in path order: the order of a
    // walk that ends before extraction starts.
    let (walked, cache, mut outcomes, (t_walk, cpu_walk), beside) = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel::<walk::Found>();
        let (root, scopes) = (&root, &scopes);
        let walking = s.spawn(move || {
            let (t, cpu) = (Instant::now(), thread_cpu());
            let walked = walker.run(|f| {
                let _ = tx.send(f);
            });
            let took = (t.elapsed(), thread_cpu().saturating_sub(cpu));
            let beside = beside_the_source(opts, root, &walked.manifests, scopes);
            (walked, took, beside)
        });
        let cache = opts
            .cache_dir
            .as_deref()
            .map(|d| cache::Cache::open(d, root, &opts.rule_queries));
        let outcomes: Vec<(String, Outcome)> = pool.install(|| {
            rx.into_iter()
                .par_bridge()
                .map(|f| {
                    let o = process(&cache, &f);
                    (f.0, o)
                })
                .collect()
        });
        let (walked, took, beside) = walking
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (walked, cache, outcomes, took, beside)
    });
    drop(pool);
    outcomes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut files = Vec::with_capacity(outcomes.len());
    let mut skipped = walked.skipped;
    let mut parse_cpu = std::time::Duration::ZERO;
    let mut entries = vec![];
    let mut cache_hits = 0;
    let mut left_out = scope::LeftOut::default();
    let mut pending = std::collections::HashMap::new();
    // The digest of every input the linked facts are computed from (see
    // [`cache::Memo`]), with the cache only: in path order, each file's
    // outcome, entry key and scope.
    let mut digest = xxhash_rust::xxh3::Xxh3::new();
    for (path, o) in outcomes {
        digest.update(path.as_bytes());
        match &o {
            Outcome::Ok(_, _, (key, _), _) | Outcome::Cached(_, _, (key, _)) => {
                digest.update(&[1]);
                digest.update(&key.to_le_bytes());
                digest.update(scopes.scope_of(&path).as_str().as_bytes());
            }
            Outcome::Skip(sk) => {
                digest.update(&[2]);
                digest.update(sk.reason.as_bytes());
            }
            Outcome::LeftOut(scope, held) => {
                digest.update(&[3]);
                digest.update(scope.as_str().as_bytes());
                if let Some((_, (key, _))) = held {
                    digest.update(&key.to_le_bytes());
                }
            }
        }
        digest.update(&[0]);
        match o {
            Outcome::Ok(mut f, parse, (key, stamp), enc) => {
                if let Some(c) = &cache {
                    let bytes = match enc {
                        Some(b) => Some(std::borrow::Cow::Owned(b)),
                        None => {
                            cache_hits += 1;
                            c.bytes(&f.path, key).map(std::borrow::Cow::Borrowed)
                        }
                    };
                    if let Some(bytes) = bytes {
                        entries.push(cache::Entry {
                            path: f.path.clone(),
                            key,
                            stamp,
                            bytes,
                        });
                    }
                }
                f.scope = scopes.scope_of(&f.path);
                files.push(*f);
                parse_cpu += parse;
            }
            Outcome::Cached(meta, lang, (key, stamp)) => {
                let Some(c) = &cache else { continue };
                cache_hits += 1;
                if let Some(bytes) = c.bytes(&path, key) {
                    entries.push(cache::Entry {
                        path: path.clone(),
                        key,
                        stamp,
                        bytes: std::borrow::Cow::Borrowed(bytes),
                    });
                }
                let mut f = meta.stand_in(path.clone(), lang);
                f.scope = scopes.scope_of(&f.path);
                files.push(f);
                pending.insert(path, key);
            }
            Outcome::Skip(s) => skipped.push(s),
            Outcome::LeftOut(scope, held) => {
                *left_out.files.entry(scope.as_str()).or_default() += 1;
                if let (Some(c), Some((path, (key, stamp)))) = (&cache, held) {
                    if let Some(bytes) = c.bytes(&path, key) {
                        entries.push(cache::Entry {
                            path,
                            key,
                            stamp,
                            bytes: std::borrow::Cow::Borrowed(bytes),
                        });
                    }
                }
            }
        }
    }
    // The next pack, when anything changed (a file read or not cached,
    // one gone). A cache that cannot be written is left alone.
    let t_store = Instant::now();
    if let Some(c) = &cache {
        if !c.holds(&entries) {
            let _ = c.store(&entries);
        }
    }
    drop(entries);
    let memo_path = cache.as_ref().map(cache::Cache::pack_path);
    let threads = if n == 0 {
        std::thread::available_parallelism().map_or(1, |x| x.get())
    } else {
        n
    };
    let lazy = match cache {
        Some(c) if !pending.is_empty() => Some(Box::new(Lazy {
            cache: std::sync::Mutex::new(Some(c)),
            pending,
            rule_queries: opts.rule_queries.clone(),
            threads,
            files: Default::default(),
            decoded: std::sync::OnceLock::new(),
        })),
        _ => None,
    };
    let cache_write_ms = t_store.elapsed().as_secs_f64() * 1e3;
    let t_parse = t0.elapsed();
    let cpu_parse = process_cpu().saturating_sub(cpu0 + cpu_walk);
    let Beside {
        manifests,
        mut ci_facts,
        ci_suppressions,
        skipped: mut side_skipped,
    } = beside;
    skipped.append(&mut side_skipped);
    if opts.root.is_dir() {
        ci_facts.extend(build_script_facts(&root, &files, &frameworks));
    }
    skipped.sort();
    let mut partial: Vec<Skipped> = files
        .iter()
        .flat_map(|f| {
            f.partial.iter().map(|r| Skipped {
                file: f.path.clone(),
                reason: r.clone(),
            })
        })
        .collect();
    partial.sort();
    let stats = Stats {
        files_scanned: files.len(),
        files_skipped: skipped.len(),
        bytes: files.iter().map(|f| f.bytes as u64).sum(),
        files_with_syntax_errors: files.iter().filter(|f| f.has_errors).count(),
        elapsed_ms: None,
        timings: Timings {
            walk_ms: t_walk.as_secs_f64() * 1e3,
            walk_cpu_ms: cpu_walk.as_secs_f64() * 1e3,
            parse_extract_ms: t_parse.as_secs_f64() * 1e3,
            parse_extract_cpu_ms: cpu_parse.as_secs_f64() * 1e3,
            tree_sitter_thread_ms: parse_cpu.as_secs_f64() * 1e3,
            cache_hits,
            cache_unread: unread.into_inner(),
            cache_write_ms,
            threads,
            ..Default::default()
        },
    };
    // Everything else the facts are made of, read beside the files.
    let memo = memo_path.map(|path| {
        let mut d = digest;
        let rest = format!(
            "{skipped:?}\n{partial:?}\n{manifests:?}\n{ci_suppressions:?}\n{frameworks:?}\n{left_out:?}\n{}\n",
            opts.max_file_size
        );
        d.update(rest.as_bytes());
        d.update(&serde_json::to_vec(&ci_facts).unwrap_or_default());
        cache::Memo::new(path, d.digest128())
    });
    let files = match &lazy {
        Some(l) => {
            *l.files.lock().unwrap_or_else(|e| e.into_inner()) = files;
            vec![]
        }
        None => files,
    };
    Ok(Scan {
        root,
        files,
        lazy,
        frameworks,
        manifests,
        skipped,
        ci_facts,
        ci_suppressions,
        partial,
        left_out,
        stats,
        max_file_size: opts.max_file_size,
        memo,
    })
}

/// What build and install scripts (`build.rs`, `setup.py`: the catalogue's
/// `[install] build_scripts`) do at build time: their process, network and
/// file-write calls, as `install_time_exec` facts. They are linked on their
/// own (a build script imports libraries, not the package), and kept whatever
/// the code scope: they run on every machine that builds or installs.
fn build_script_facts(
    root: &Path,
    files: &[FileFacts],
    frameworks: &[frameworks::spec::FrameworkSpec],
) -> Vec<Fact> {
    let scripts: Vec<FileFacts> = files
        .iter()
        .filter(|f| supply_chain::is_build_script(&f.path))
        .cloned()
        .collect();
    if scripts.is_empty() {
        return vec![];
    }
    let mini = Scan {
        frameworks: frameworks.to_vec(),
        ..Scan::of_files(root.to_path_buf(), scripts)
    };
    let idx = link::Index::build(&mini);
    linked_facts(&idx, None)
        .into_iter()
        .filter(|f| {
            matches!(f.kind, "process_exec" | "network_out")
                || (f.kind == "file_io"
                    && matches!(f.op.as_deref(), Some("write" | "delete"))
                    && !writes_to_out_dir(&idx, f))
        })
        .map(|mut f| {
            let what = match f.kind {
                "process_exec" => "runs a process",
                "network_out" => "reaches the network",
                _ => "writes files",
            };
            f.reason = Some(format!(
                "{} {what} ({}) on every machine that builds or installs the package",
                f.file,
                f.api.as_deref().unwrap_or("")
            ));
            f.name = Some(f.kind.to_string());
            // A process that downloads (`curl`, `npm` among its literal
            // arguments: `[install] build_fetchers`) reaches the network too.
            let fetches = f.kind == "process_exec" && runs_fetcher(&idx, &f);
            f.flags.insert(
                "network".into(),
                serde_json::Value::Bool(f.kind == "network_out" || fetches),
            );
            f.kind = "install_time_exec";
            f.scope = "production";
            f
        })
        .collect()
}

/// Does the process call of fact `f` name a downloading command (`curl`,
/// `npm`: `[install] build_fetchers`) among its literal arguments, or in a
/// shell line given to it?
fn runs_fetcher(idx: &link::Index, f: &Fact) -> bool {
    let Some(fi) = idx.file_index(&f.file) else {
        return false;
    };
    let fetchers = &supply_chain::catalogue().install.build_fetchers;
    let start = extract::Pos {
        line: f.line,
        column: f.column,
    };
    let mut found = false;
    for (c, _) in idx.calls(fi).filter(|(c, _)| c.start == start) {
        for a in &c.args {
            summary::visit(&a.value, 0, &mut |e| {
                if let Expr::Str(s) = e {
                    found |= s
                        .split(|ch: char| ch.is_whitespace() || ch == '|' || ch == ';' || ch == '&')
                        .any(|w| {
                            fetchers
                                .iter()
                                .any(|x| w.rsplit('/').next() == Some(x.as_str()))
                        });
                }
            });
        }
    }
    found
}

/// A build script's file write whose path derives from `OUT_DIR` (Cargo's
/// build output directory: where a build script is meant to write).
fn writes_to_out_dir(idx: &link::Index, f: &Fact) -> bool {
    let Some(fi) = idx.file_index(&f.file) else {
        return false;
    };
    let pos = extract::Pos {
        line: f.line,
        column: f.column,
    };
    let Some((call, scope)) = idx.call_at(fi, pos, f.api.as_deref().unwrap_or("")) else {
        return false;
    };
    fn mentions(idx: &link::Index, fi: usize, scope: Option<usize>, e: &Expr, depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        let rec = |x: &Expr| mentions(idx, fi, scope, x, depth + 1);
        match e {
            Expr::Str(s) => s == "OUT_DIR",
            // `out.join("x")`: the variable the name starts with.
            Expr::Name(n, p) => {
                let head = n.split(['.', ':']).next().unwrap_or(n);
                match idx.resolve_expr(fi, scope, &Expr::Name(head.into(), *p)) {
                    Some(link::Target::Var(vf, va)) if vf == fi => {
                        rec(&idx.files[vf].assigns[va].value)
                    }
                    _ => false,
                }
            }
            Expr::Call(c) => rec(&c.func) || c.args.iter().any(|a| rec(&a.value)),
            Expr::Attr(a) => rec(&a.base),
            Expr::Not(b) | Expr::Element(b) | Expr::Closure(b) => rec(b),
            Expr::Subscript(s) => rec(&s.base) || s.keys.iter().any(rec),
            Expr::List(xs) | Expr::Mix(xs) | Expr::Logic(_, xs) => xs.iter().any(rec),
            Expr::Macro(m) => m.parts.iter().any(rec),
            _ => false,
        }
    }
    call.args
        .first()
        .is_some_and(|a| mentions(idx, fi, scope, &a.value, 0))
}

/// The facts inventory of a scanned repository, sorted.
///
/// With the cache, facts computed from exactly the same inputs before are
/// read back (see [`cache::Memo`]); otherwise they are computed and kept.
pub fn facts(scan: &Scan) -> Vec<Fact> {
    facts_memoised(scan).0
}

/// [`facts`], and whether they were read back from the result memo.
pub fn facts_memoised(scan: &Scan) -> (Vec<Fact>, bool) {
    if let Some(facts) = scan.memo.as_ref().and_then(|m| m.get("facts", &[])) {
        return (facts, true);
    }
    let idx = link::Index::build(scan);
    let facts = linked_facts(&idx, None);
    if let Some(m) = &scan.memo {
        m.put("facts", &[], &facts);
    }
    (facts, false)
}

/// The facts of a linked repository, sorted; `extra` also collects what only
/// the threat model needs (mitigation evidence, non-route entry points).
pub fn linked_facts(idx: &link::Index, extra: Option<&mut Vec<Fact>>) -> Vec<Fact> {
    let cat = catalog::Catalog::builtin();
    let mut out = vec![];
    // Routes are one pass over the whole repository; the sinks are per file.
    // On one pool the workers take the per-file sinks while one of them
    // follows the routes; joined in the same order as one after the other.
    // Every call's callee is resolved first, by all workers: the routes
    // pass would otherwise resolve most of them alone.
    let routes = || {
        let mut r = vec![];
        routes::routes(idx, cat, &mut r);
        r
    };
    let pool = (idx.threads > 1)
        .then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(idx.threads)
                .stack_size(WORKER_STACK)
                .build()
                .ok()
        })
        .flatten();
    let mut route_facts = match pool {
        Some(p) => p.install(|| {
            idx.resolve_callees();
            rayon::join(routes, || facts::sinks(idx, cat, &mut out, extra)).0
        }),
        None => {
            facts::sinks(idx, cat, &mut out, extra);
            routes()
        }
    };
    out.append(&mut route_facts);
    out.extend(idx.ci_facts.iter().cloned());
    facts::sort(&mut out);
    out
}
