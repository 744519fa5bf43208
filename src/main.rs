//! The `threatscan` command line: parse arguments, call the library, set the exit code.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use threatscan::{report, Options};

/// Ground threat models in code.
///
/// threatscan parses Python and Rust with tree-sitter, resolves names through
/// imports, and reports the security-relevant facts of a repository: HTTP and
/// WebSocket routes with the auth guards and rate limiters attached to them,
/// file I/O, YAML loads, deserialisation, process execution, outbound network
/// calls and secrets. It never executes, imports or builds the code it scans.
///
/// Exit codes: 0 success; 2 usage error, missing or unreadable path, or an
/// output file that cannot be written.
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
    /// Worker threads (default: one per core). Output is identical for any value.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Skip files larger than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = threatscan::DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
    /// Skip paths matching GLOB (gitignore syntax; repeatable)
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Facts(a) => run_facts(a),
        Command::Model(a) => run_model(a),
    }
}

/// Walk and parse the repository: the shared first half of every command.
fn scan_repo(a: &ScanArgs) -> Result<threatscan::Scan, ExitCode> {
    if a.threads == Some(0) {
        return Err(fail("--threads must be at least 1"));
    }
    let opts = Options {
        root: a.path.clone(),
        threads: a.threads,
        max_file_size: a.max_file_size,
        excludes: a.exclude.clone(),
    };
    let scan = threatscan::scan(&opts).map_err(fail)?;
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
    let scan = match scan_repo(&a.scan) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let t_model = std::time::Instant::now();
    let model = threatscan::model::build(
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
        let t = &scan.stats.timings;
        eprintln!(
            "threatscan: {} files, {:.2} MB, {} entry points, {} interactions; parse+extract {:.1} ms, link+model {:.1} ms, total {:.1} ms",
            scan.stats.files_scanned,
            scan.stats.bytes as f64 / 1e6,
            model.summary.entry_points,
            model.summary.interactions,
            t.parse_extract_ms,
            t_model.elapsed().as_secs_f64() * 1e3,
            t0.elapsed().as_secs_f64() * 1e3
        );
    }
    ExitCode::SUCCESS
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("threatscan: error: {msg}");
    ExitCode::from(2)
}

fn run_facts(a: FactsArgs) -> ExitCode {
    let t0 = std::time::Instant::now();
    let mut scan = match scan_repo(&a.scan) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let t_link = std::time::Instant::now();
    let facts = threatscan::facts(&scan);
    scan.stats.timings.link_ms = t_link.elapsed().as_secs_f64() * 1e3;
    scan.stats.timings.total_ms = t0.elapsed().as_secs_f64() * 1e3;
    if a.scan.stats {
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
        let t = &scan.stats.timings;
        let mb = scan.stats.bytes as f64 / 1e6;
        eprintln!(
            "threatscan: {} files, {:.2} MB, {} facts; walk {:.1} ms, parse+extract {:.1} ms (of which tree-sitter parsing {:.1} ms cpu), link+facts {:.1} ms, total {:.1} ms ({:.1} MB/s)",
            scan.stats.files_scanned,
            mb,
            facts.len(),
            t.walk_ms,
            t.parse_extract_ms,
            t.parse_cpu_ms,
            t.link_ms,
            t.total_ms,
            mb / (t.total_ms / 1e3).max(1e-9)
        );
    }
    ExitCode::SUCCESS
}
