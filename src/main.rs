//! The `threatscan` command line: parse arguments, call the library, set the exit code.

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use threatscan::{report, Options};

/// mimalloc: the extraction makes millions of small allocations on worker
/// threads; glibc's per-thread arenas grow them with mprotect calls and page
/// faults that cost more than the work (measured with --stats: see README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ground threat models in code.
///
/// threatscan parses Python and Rust with tree-sitter, resolves names through
/// imports, and reports the security-relevant facts of a repository: HTTP and
/// WebSocket routes with the auth guards and rate limiters attached to them,
/// file I/O, YAML loads, deserialisation, process execution, outbound network
/// calls and secrets; drafts a STRIDE threat model from them (`model`); and
/// reports findings as SARIF for GitHub code scanning (`scan`). It never
/// executes, imports or builds the code it scans.
///
/// Exit codes: 0 success; 1 `scan` found a new, unsuppressed problem at or
/// above --fail-on; 2 usage error, missing or unreadable path, invalid rule or
/// baseline, or an output file that cannot be written.
#[derive(Parser)]
#[command(name = "threatscan", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inventory the security facts of a repository (routes, guards, sinks, secrets).
    ///
    /// Files are walked in parallel (.gitignore and .ignore are respected, hidden
    /// directories skipped, symlinks never followed). Files over --max-file-size,
    /// non-UTF-8 and unreadable files are skipped, counted and listed.
    Facts(FactsArgs),
    /// Draft a threat model from the code: surfaces, assets, trust boundaries,
    /// data flows, a STRIDE matrix backed by code, and ranked abuse paths.
    ///
    /// Entry points (routes, CLI commands, scheduled jobs, dynamic code loading)
    /// are followed through a name-resolved call graph (--depth levels) to the
    /// sinks they reach. Each interaction gets one STRIDE cell per category:
    /// mitigated (with the guard, limiter, safe loader or call that does it),
    /// gap (with the reason) or n/a (with the reason). Which evidence mitigates
    /// which category is data: rules/stride.toml; boundaries, asset classes and
    /// abuse-path scoring: rules/model.toml.
    Model(ModelArgs),
    /// Find security problems and write them as SARIF for GitHub code scanning, JSON or text.
    ///
    /// Rules are data: the built-in ones (see `threatscan rules`), every
    /// *.toml in each --rules DIR, and the directories listed under [scan]
    /// rules in .threatscan.toml at the repository root. A rule matches facts,
    /// entry points, entry-point-to-sink flows of the threat model, or a
    /// tree-sitter query.
    ///
    /// Suppress a finding with a comment on its line or the line above:
    /// `# threatscan: ignore[TS1001] reason` (`// threatscan: ignore[...]` in
    /// Rust). Suppressed findings stay in the SARIF, marked, and never fail
    /// the run. With --baseline, only findings whose fingerprint is not in
    /// the baseline count.
    ///
    /// Exit codes: 0 no new, unsuppressed finding at or above --fail-on;
    /// 1 at least one; 2 usage error, unreadable input, bad rule or baseline,
    /// or an output file that cannot be written.
    Scan(ScanCmdArgs),
    /// List the scan rules, or explain one: `threatscan rules TS1001`.
    Rules(RulesArgs),
    /// List the web frameworks whose route tables threatscan reads: the
    /// built-in `[[framework]]` specs, and a repository's own (named in its
    /// .threatscan.toml under [catalog] frameworks) when PATH is given.
    Frameworks(FrameworksArgs),
    /// Check a written threat model against the code.
    ///
    /// Documents: Markdown (tables, lists, prose), Microsoft Threat Modeling
    /// Tool `.tm7` files (threat states and justifications), and threatscan
    /// model JSON reviewed earlier (`threatscan model --format json`), which
    /// is compared with the code's model as it is now.
    ///
    /// Every code reference in inline code and links is resolved: Python
    /// `pkg.mod:Symbol`, `pkg.mod:Class.attr=value`, dotted `pkg.mod.func`,
    /// Rust `crate::a::B`, file paths, `file:line`, GitHub blob links with
    /// `#L10-L20`, relative links to other documents. Statuses: resolved
    /// (with `used`: does anything outside its definition refer to it),
    /// missing (with a did-you-mean), external (a third-party API: is it
    /// called?), ambiguous. Every mitigation, absence ("no rate limiting",
    /// GAP) and n/a claim gets a verdict: supported, contradicted or
    /// unverified, with evidence. A `.tm7` threat left NotStarted or
    /// NeedsInvestigation is an absence claim; Mitigated is a presence claim
    /// of the mitigation its justification names. The vocabulary is data:
    /// rules/verify.toml.
    ///
    /// Exit codes: 0 nothing at --fail-on; 1 a missing reference (missing) or
    /// also a contradicted claim or an entry point or interaction new since
    /// a reviewed model (contradicted, the default); 2 usage error or an
    /// unreadable, binary, malformed or truncated document.
    Verify(VerifyArgs),
    /// Print a shell completion script, generated from these definitions.
    ///
    /// bash: `threatscan completions bash > ~/.local/share/bash-completion/completions/threatscan`;
    /// zsh: `threatscan completions zsh > ~/.zfunc/_threatscan` (with ~/.zfunc on $fpath);
    /// fish: `threatscan completions fish > ~/.config/fish/completions/threatscan.fish`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), generated from these definitions.
    ///
    /// `threatscan man > threatscan.1` for the command, `threatscan man scan >
    /// threatscan-scan.1` for one subcommand with all its options; read one
    /// with `man ./threatscan.1`.
    Man(ManArgs),
}

#[derive(clap::Args)]
struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(clap::Args)]
struct ManArgs {
    /// A subcommand whose own page to print (facts, model, scan, ...)
    command: Option<String>,
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// Threat model documents: Markdown, .tm7, or threatscan model JSON
    #[arg(required = true, value_name = "DOC")]
    docs: Vec<PathBuf>,
    /// Repository the documents describe
    #[arg(long, value_name = "PATH", default_value = ".")]
    repo: PathBuf,
    /// Output format (sarif: results located in the documents, for GitHub code scanning)
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    format: VerifyFormat,
    /// Write to FILE instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 on missing references (missing), on those or contradicted claims (contradicted), or never
    #[arg(long, value_enum, default_value_t = VerifyFailOn::Contradicted)]
    fail_on: VerifyFailOn,
    /// Refuse documents larger than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = threatscan::verify::MAX_DOCUMENT)]
    max_document_size: u64,
    /// Code that counts as evidence: production (default) or all
    #[arg(long, value_enum)]
    scope: Option<ScopeArg>,
    /// Also count these scopes as evidence: test, example, docs, benchmark,
    /// build, vendored (comma-separated or repeated)
    #[arg(long, value_name = "SCOPE", value_delimiter = ',')]
    include: Vec<String>,
    /// Neither read nor write the extraction cache
    #[arg(long)]
    no_cache: bool,
    /// Where the extraction cache lives (default: $THREATSCAN_CACHE_DIR, else
    /// $XDG_CACHE_HOME/threatscan, else ~/.cache/threatscan). Files unchanged
    /// since the last run of the same binary on the same root are not parsed
    /// again; results are the same either way
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum VerifyFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum VerifyFailOn {
    Missing,
    Contradicted,
    Never,
}

#[derive(clap::Args)]
struct ScanCmdArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    format: ScanFormat,
    /// Also load the rules in DIR (*.toml; repeatable)
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Exit 1 when a new, unsuppressed finding has at least this level
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Compare with a previous SARIF run: results become new, unchanged or absent
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Refuse a baseline larger than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = threatscan::rules::baseline::MAX_BASELINE)]
    max_baseline_size: u64,
    /// Repository root that SARIF paths are relative to (default: the
    /// enclosing git work tree, else the current directory)
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// SARIF runAutomationDetails.id category (one per analysis uploaded to GitHub)
    #[arg(long, value_name = "NAME")]
    category: Option<String>,
    /// How many calls deep to follow from an entry point to a sink
    #[arg(long, value_name = "N", default_value_t = threatscan::model::DEFAULT_DEPTH)]
    depth: usize,
    /// Colour the text output: auto (only on a terminal, not with NO_COLOR), always, never
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScanFormat {
    Sarif,
    Json,
    Text,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum FailOn {
    Note,
    Warning,
    Error,
    Never,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
struct RulesArgs {
    /// A rule id or name to explain (all rules when left out)
    rule: Option<String>,
    /// Output format (markdown is docs/rules.md)
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    format: RulesFormat,
    /// Also load the rules in DIR (repeatable)
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

#[derive(clap::Args)]
struct FrameworksArgs {
    /// A repository whose own framework specs to list too
    path: Option<PathBuf>,
    /// Output format (markdown is docs/frameworks.md)
    #[arg(long, value_enum, default_value_t = FrameworksFormat::Text)]
    format: FrameworksFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum FrameworksFormat {
    Text,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Text,
    Markdown,
    Json,
}

#[derive(clap::Args)]
struct FactsArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::Args)]
struct ModelArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// Output format: markdown (tables and a Mermaid diagram), json, or mermaid (the diagram alone)
    #[arg(long, value_enum, default_value_t = ModelFormat::Markdown)]
    format: ModelFormat,
    /// How many calls deep to follow from an entry point to a sink
    #[arg(long, value_name = "N", default_value_t = threatscan::model::DEFAULT_DEPTH)]
    depth: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModelFormat {
    Markdown,
    Json,
    Mermaid,
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Repository root (or a single .py/.rs file)
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Write to FILE instead of standard output (written whole or not at all; `-` is stdout)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print timing and throughput to standard error (and add elapsed_ms to JSON stats)
    #[arg(long)]
    stats: bool,
    /// Worker threads, 1 to 256 (default: one per core). Output is identical
    /// for any value.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Skip files larger than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = threatscan::DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
    /// Skip paths matching GLOB (gitignore syntax; repeatable)
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Code to analyse: production, or all (tests, examples, docs,
    /// benchmarks, build scripts, vendored code too). Default: production for
    /// model, scan and verify; all for facts
    #[arg(long, value_enum)]
    scope: Option<ScopeArg>,
    /// Also analyse these scopes with production code: test, example, docs,
    /// benchmark, build, vendored (comma-separated or repeated)
    #[arg(long, value_name = "SCOPE", value_delimiter = ',')]
    include: Vec<String>,
    /// Neither read nor write the extraction cache
    #[arg(long)]
    no_cache: bool,
    /// Where the extraction cache lives (default: $THREATSCAN_CACHE_DIR, else
    /// $XDG_CACHE_HOME/threatscan, else ~/.cache/threatscan). Files unchanged
    /// since the last run of the same binary on the same root are not parsed
    /// again; results are the same either way
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ScopeArg {
    Production,
    All,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    no_huge_pages();
    // SAFETY: first thing in main: no tree-sitter object exists yet, and
    // no other thread runs.
    unsafe { threatscan::tsalloc::install() };
    threatscan::leave_memory_to_os_at_exit();
    let cli = Cli::parse();
    match cli.command {
        Command::Facts(a) => run_facts(a),
        Command::Model(a) => run_model(a),
        Command::Scan(a) => run_scan(a),
        Command::Rules(a) => run_rules(a),
        Command::Frameworks(a) => run_frameworks(a),
        Command::Verify(a) => run_verify(a),
        Command::Completions(a) => run_completions(a),
        Command::Man(a) => run_man(a),
    }
}

/// Transparent huge pages off for this process. The allocator asks for them
/// (madvise), and each one is a 2 MiB page the kernel zeroes whole on first
/// touch: on a 15 MB repository that was 14% of the CPU (perf: clear_page)
/// and about 30 MB of peak RSS for memory never used. Best effort: an older
/// kernel without the option changes nothing.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and
    // changes nothing but this process's huge-page policy.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn run_completions(a: CompletionsArgs) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "threatscan", &mut out);
    write_generated(out)
}

fn run_man(a: ManArgs) -> ExitCode {
    let mut cmd = Cli::command();
    // Built, subcommands carry their display name (threatscan-scan) and bin
    // name (threatscan scan), which the page's title and synopsis use.
    cmd.build();
    let page = match &a.command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                return fail(format!(
                    "no subcommand {name}; pages exist for: {}",
                    names.join(", ")
                ));
            }
        },
    };
    let mut out = Vec::new();
    let man =
        clap_mangen::Man::new(page).source(format!("threatscan {}", env!("CARGO_PKG_VERSION")));
    if let Err(e) = man.render(&mut out) {
        return fail(format!("cannot render the man page: {e}"));
    }
    write_generated(out)
}

/// Standard output for generated text, with the same handling of a closed
/// or full standard output as every other command.
fn write_generated(out: Vec<u8>) -> ExitCode {
    let text = String::from_utf8_lossy(&out);
    match write_or_fail(None, &text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// Walk and parse the repository: the shared first half of every command.
/// Scan `a.path` restricted to the code scopes asked for (`default_all`:
/// what no option means); files of other scopes are not parsed.
fn scan_repo(a: &ScanArgs, default_all: bool) -> Result<threatscan::Scan, ExitCode> {
    scan_repo_with(a, Default::default(), default_all)
}

/// The code scopes a command analyses (`default_all`: what no option means).
fn scope_set(a: &ScanArgs, default_all: bool) -> Result<threatscan::scope::ScopeSet, ExitCode> {
    let all = match a.scope {
        Some(s) => s == ScopeArg::All,
        None => default_all && a.include.is_empty(),
    };
    threatscan::scope::ScopeSet::from_args(all, &a.include).map_err(fail)
}

fn scan_repo_with(
    a: &ScanArgs,
    rule_queries: std::sync::Arc<Vec<threatscan::extract::RuleQuery>>,
    default_all: bool,
) -> Result<threatscan::Scan, ExitCode> {
    if a.threads
        .is_some_and(|n| !(1..=threatscan::MAX_THREADS).contains(&n))
    {
        return Err(fail(format!(
            "--threads must be between 1 and {}",
            threatscan::MAX_THREADS
        )));
    }
    let set = scope_set(a, default_all)?;
    let opts = Options {
        root: a.path.clone(),
        threads: a.threads,
        max_file_size: a.max_file_size,
        excludes: a.exclude.clone(),
        rule_queries,
        cache_dir: if a.no_cache {
            None
        } else {
            a.cache_dir.clone().or_else(threatscan::cache::default_dir)
        },
        scopes: Some(set.clone()),
    };
    let mut scan = threatscan::scan(&opts).map_err(fail)?;
    let left = scan.restrict(&set);
    if !left.is_empty() {
        eprintln!(
            "threatscan: note: left out {} (--scope all or --include to analyse them)",
            left.describe()
        );
    }
    for s in &scan.partial {
        eprintln!(
            "threatscan: warning: partly scanned {}: {}",
            s.file, s.reason
        );
    }
    for s in &scan.skipped {
        eprintln!("threatscan: warning: skipped {}: {}", s.file, s.reason);
    }
    Ok(scan)
}

fn write_or_fail(output: Option<&std::path::Path>, text: &str) -> Result<(), ExitCode> {
    report::write_output(output, text).map_err(|e| {
        let target = output
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "standard output".into());
        fail(format!(
            "cannot write {target}: {}",
            threatscan::walk::plain_io(&e)
        ))
    })
}

fn run_model(a: ModelArgs) -> ExitCode {
    let t0 = std::time::Instant::now();
    let cpu0 = threatscan::process_cpu();
    let scan = match scan_repo(&a.scan, false) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (model, from_memo) = threatscan::model::build_memoised(
        &scan,
        &threatscan::model::ModelOptions { max_depth: a.depth },
    );
    let title = std::fs::canonicalize(&a.scan.path)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| a.scan.path.display().to_string());
    let text = match a.format {
        ModelFormat::Markdown => threatscan::model::render::markdown(&model, &title),
        ModelFormat::Json => threatscan::model::render::json(&model),
        ModelFormat::Mermaid => threatscan::model::render::mermaid(&model),
    };
    if let Err(code) = write_or_fail(a.scan.output.as_deref(), &text) {
        return code;
    }
    if a.scan.stats {
        let mut t = scan.stats.timings.clone();
        t.from_memo = from_memo;
        t.finish(t0, cpu0);
        let what = format!(
            "{} entry points, {} interactions",
            model.summary.entry_points, model.summary.interactions
        );
        eprintln!(
            "{}",
            t.line(scan.stats.files_scanned, scan.stats.bytes, &what)
        );
    }
    exiting_keep(scan);
    exiting_keep(model);
    ExitCode::SUCCESS
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("threatscan: error: {msg}");
    ExitCode::from(2)
}

fn run_facts(a: FactsArgs) -> ExitCode {
    let t0 = std::time::Instant::now();
    let cpu0 = threatscan::process_cpu();
    let mut scan = match scan_repo(&a.scan, true) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (facts, from_memo) = threatscan::facts_memoised(&scan);
    if a.scan.stats {
        scan.stats.timings.from_memo = from_memo;
        scan.stats.timings.finish(t0, cpu0);
        scan.stats.elapsed_ms = Some(t0.elapsed().as_millis() as u64);
    }
    let text = match a.format {
        Format::Json => report::facts_json(&scan.stats, &scan.skipped, &facts),
        Format::Text => report::facts_text(&scan.stats, &scan.skipped, &facts),
    };
    if let Err(code) = write_or_fail(a.scan.output.as_deref(), &text) {
        return code;
    }
    if a.scan.stats {
        let what = format!("{} facts", facts.len());
        eprintln!(
            "{}",
            scan.stats
                .timings
                .line(scan.stats.files_scanned, scan.stats.bytes, &what)
        );
    }
    exiting_keep(scan);
    exiting_keep(facts);
    ExitCode::SUCCESS
}

/// The process exits next: leave a large result to the operating system
/// rather than free its millions of small allocations one by one (tens of
/// milliseconds on a large repository).
fn exiting_keep<T>(x: T) {
    std::mem::forget(x);
}

fn run_scan(a: ScanCmdArgs) -> ExitCode {
    use threatscan::rules::{self, Level, RuleSet};
    let t0 = std::time::Instant::now();
    let cpu0 = threatscan::process_cpu();
    if !a.scan.path.exists() {
        return fail(format!("{} does not exist", a.scan.path.display()));
    }
    let config = if a.scan.path.is_dir() {
        match rules::Config::load(&a.scan.path) {
            Ok(c) => c,
            Err(e) => return fail(e),
        }
    } else {
        rules::Config::default()
    };
    let set = match RuleSet::load_in(
        &a.rules,
        &config.scan.rules,
        config.confined.as_deref(),
        &config.scan.disable,
    ) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let baseline = match &a.baseline {
        Some(p) => match rules::baseline::Baseline::read_capped(p, a.max_baseline_size) {
            Ok(b) => Some(b),
            Err(e) => return fail(e),
        },
        None => None,
    };
    let scan = match scan_repo_with(&a.scan, set.queries.clone(), false) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (mut findings, from_memo) = rules::engine::run_memoised(
        &scan,
        &set,
        &threatscan::model::ModelOptions { max_depth: a.depth },
    );
    let absent = match &baseline {
        Some(b) => b.apply(&mut findings),
        None => vec![],
    };
    let text = match a.format {
        ScanFormat::Sarif => {
            let (_, prefix) = threatscan::walk::repository_root(&scan.root, a.root.as_deref());
            let cwd = std::env::current_dir()
                .ok()
                .map(|c| format!("file://{}/", c.display().to_string().trim_end_matches('/')));
            rules::sarif::render(&rules::sarif::SarifInput {
                rules: &set,
                findings: &findings,
                absent: &absent,
                skipped: &scan.skipped,
                partial: &scan.partial,
                category: a.category.as_deref(),
                root_prefix: &prefix,
                working_directory: cwd,
            })
        }
        ScanFormat::Json => {
            let v = serde_json::json!({
                "tool": "threatscan",
                "version": env!("CARGO_PKG_VERSION"),
                "summary": {
                    "files_scanned": scan.stats.files_scanned,
                    "files_skipped": scan.stats.files_skipped,
                    "findings": findings.len(),
                    "errors": findings.iter().filter(|f| f.level == Level::Error).count(),
                    "warnings": findings.iter().filter(|f| f.level == Level::Warning).count(),
                    "notes": findings.iter().filter(|f| f.level == Level::Note).count(),
                    "suppressed": findings.iter().filter(|f| f.suppressed.is_some()).count(),
                    "absent": absent.len(),
                },
                "findings": findings,
                "skipped": scan.skipped,
                "partial": scan.partial,
            });
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            s
        }
        ScanFormat::Text => {
            use std::io::IsTerminal;
            let writes_terminal = match a.scan.output.as_deref() {
                None => std::io::stdout().is_terminal(),
                Some(p) => p.as_os_str() == "-" && std::io::stdout().is_terminal(),
            };
            let color = match a.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => writes_terminal && std::env::var_os("NO_COLOR").is_none(),
            };
            rules::text::render(&set, &findings, &rules::text::Style { color })
        }
    };
    if let Err(code) = write_or_fail(a.scan.output.as_deref(), &text) {
        return code;
    }
    if a.scan.stats {
        let mut t = scan.stats.timings.clone();
        t.from_memo = from_memo;
        t.finish(t0, cpu0);
        let what = format!("{} rules, {} findings", set.rules.len(), findings.len());
        eprintln!(
            "{}",
            t.line(scan.stats.files_scanned, scan.stats.bytes, &what)
        );
    }
    exiting_keep(scan);
    let threshold = match a.fail_on {
        FailOn::Never => return ExitCode::SUCCESS,
        FailOn::Note => Level::Note,
        FailOn::Warning => Level::Warning,
        FailOn::Error => Level::Error,
    };
    if findings.iter().any(|f| f.counts() && f.level >= threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_frameworks(a: FrameworksArgs) -> ExitCode {
    use threatscan::frameworks::spec;
    let own = match &a.path {
        Some(p) if !p.is_dir() => return fail(format!("{} is not a directory", p.display())),
        Some(p) => match threatscan::rules::Config::load(p).and_then(|c| c.frameworks()) {
            Ok(v) => v,
            Err(e) => return fail(e),
        },
        None => vec![],
    };
    let n_own = own.len();
    let all: Vec<spec::FrameworkSpec> = own
        .into_iter()
        .chain(spec::builtin().iter().cloned())
        .collect();
    let origin = |f: &spec::FrameworkSpec| {
        let i = all.iter().position(|x| std::ptr::eq(x, f)).unwrap_or(0);
        if i < n_own {
            "repository".to_string()
        } else {
            "built-in".to_string()
        }
    };
    let text = match a.format {
        FrameworksFormat::Markdown => spec::markdown(&all, &origin),
        FrameworksFormat::Text => {
            let mut s = String::new();
            for f in &all {
                s.push_str(&format!(
                    "{:<14} {:<7} {:<10} {}\n",
                    f.name,
                    f.language.name(),
                    origin(f),
                    f.docs.as_deref().unwrap_or("")
                ));
            }
            s
        }
    };
    match write_or_fail(None, &text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn run_rules(a: RulesArgs) -> ExitCode {
    use threatscan::rules::{rules_markdown, RuleSet};
    let set = match RuleSet::load(&a.rules, &[], &[]) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let chosen: Vec<&threatscan::rules::Rule> = match &a.rule {
        Some(id) => match set.get(id) {
            Some(r) => vec![r],
            None => return fail(format!("no rule {id}; `threatscan rules` lists them")),
        },
        None => set.rules.iter().collect(),
    };
    let text = match a.format {
        RulesFormat::Markdown => rules_markdown(&set) + &threatscan::verify::results_markdown(),
        RulesFormat::Json => {
            let mut s = serde_json::to_string_pretty(&chosen).unwrap_or_default();
            s.push('\n');
            s
        }
        RulesFormat::Text if a.rule.is_none() => {
            let mut s = String::new();
            for r in &chosen {
                s.push_str(&format!(
                    "{:<8} {:<8} {:>4.1}  {:<32} {}\n",
                    r.id,
                    r.level.as_str(),
                    r.security_severity,
                    r.name,
                    r.short
                ));
            }
            s
        }
        RulesFormat::Text => {
            let r = chosen[0];
            format!(
                "{} {}: {}\n\n{}\nfrom {}\n\n{}\n\n{}\n\nMore: {}\n",
                r.id,
                r.name,
                r.short,
                r.metadata_line(),
                r.origin,
                r.full.trim(),
                r.help.trim(),
                r.help_uri()
            )
        }
    };
    match write_or_fail(None, &text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn run_verify(a: VerifyArgs) -> ExitCode {
    let mut docs = vec![];
    for d in &a.docs {
        match threatscan::verify::read_document_capped(d, a.max_document_size) {
            Ok(t) => docs.push((d.clone(), t)),
            Err(e) => return fail(e.0),
        }
    }
    let scan_args = ScanArgs {
        path: a.repo.clone(),
        output: None,
        stats: false,
        threads: None,
        max_file_size: threatscan::DEFAULT_MAX_FILE_SIZE,
        exclude: vec![],
        scope: a.scope,
        include: a.include.clone(),
        no_cache: a.no_cache,
        cache_dir: a.cache_dir.clone(),
    };
    let scan = match scan_repo(&scan_args, false) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let report = threatscan::verify::verify(&scan, &docs);
    let text = match a.format {
        VerifyFormat::Json => threatscan::verify::json(&report),
        VerifyFormat::Text => threatscan::verify::text(&report),
        VerifyFormat::Sarif => threatscan::verify::sarif::render(&report, &scan.root),
    };
    if let Err(code) = write_or_fail(a.output.as_deref(), &text) {
        return code;
    }
    let s = &report.summary;
    let failed = match a.fail_on {
        VerifyFailOn::Never => false,
        VerifyFailOn::Missing => s.missing > 0,
        VerifyFailOn::Contradicted => s.missing > 0 || s.contradicted > 0 || s.new_in_code > 0,
    };
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
