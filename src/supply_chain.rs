//! Repository supply chain: GitHub Actions workflows (`.github/workflows/*.yml`
//! and `*.yaml` at the repository root), parsed as YAML (never run) into facts:
//!
//! - `ci_action_unpinned`: a `uses:` not pinned to a full 40-hex commit SHA
//!   (or a `docker://` image without a digest);
//! - `ci_pr_head_checkout`: a `pull_request_target` / `workflow_run` job that
//!   checks out or fetches the pull request's code;
//! - `ci_untrusted_input`: an attacker-controlled context expanded in a `run:`
//!   script (or an `actions/github-script` script);
//! - `ci_permissions`: `write-all`, or no `permissions:` at workflow or job
//!   level in a workflow that uses secrets;
//! - `ci_pipe_to_shell`: `curl … | sh` style installs;
//! - `ci_publish`: publishing steps, with `via` telling how they authenticate.
//!
//! What counts (contexts, commands, actions) is data in
//! `rules/supply_chain.toml`. Files are read through [`crate::fsread`]; one
//! that cannot be read or parsed is skipped with its name and a reason that
//! never quotes its text. Every fact is placed at the YAML node that decides
//! it (the parser's marker), or, inside a script, at the text found by a
//! bounded search forward from the script's own marker.

use crate::extract::Suppression;
use crate::facts::Fact;
use crate::walk::Skipped;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

pub const SUPPLY_CHAIN_TOML: &str = include_str!("../rules/supply_chain.toml");

/// Where GitHub reads workflows from, relative to the repository root.
pub const WORKFLOW_DIR: &str = ".github/workflows";
/// Where a repository keeps its own composite actions.
pub const ACTION_DIR: &str = ".github/actions";

/// Nesting deeper than this is refused (workflows are a few levels deep).
const MAX_DEPTH: usize = 64;
/// At most this many workflow files are read.
const MAX_WORKFLOWS: usize = 1000;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub actions: Actions,
    pub untrusted: Untrusted,
    pub triggers: Triggers,
    pub pipe_to_shell: PipeToShell,
    pub publish: Publish,
    pub cargo: Cargo,
    pub pip: Pip,
    pub install: Install,
    pub pyproject: Pyproject,
}

/// `pyproject.toml`: the lockfile each project manager keeps, and index
/// settings that let a public package shadow a private one.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Pyproject {
    /// `[tool.<manager>]` table → the lockfile it writes beside the file.
    pub lockfiles: BTreeMap<String, String>,
    /// uv index strategies that take the best version across indexes.
    pub uv_unsafe_strategies: Vec<String>,
    /// Poetry source priorities searched after PyPI.
    pub poetry_after_pypi: Vec<String>,
}

/// Code that runs when a developer or a CI job installs or commits: npm
/// lifecycle scripts, pre-commit hooks, build scripts.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Install {
    /// `package.json` files read (repository-relative; `*/` one level down).
    pub package_files: Vec<String>,
    /// npm lifecycle scripts that run on `npm install` (or before publish).
    pub lifecycle_scripts: Vec<String>,
    /// Words of a script that fetch from the network.
    pub fetchers: Vec<String>,
    /// The pre-commit configuration file, and repositories that are not
    /// remote (`local`, `meta`).
    pub precommit_file: String,
    pub precommit_local: Vec<String>,
    /// Build and install scripts of the languages parsed (`build.rs`,
    /// `setup.py`): their process, network and file-write calls run on
    /// every machine that builds or installs the package.
    pub build_scripts: Vec<String>,
    /// Commands that download when a build script runs them.
    pub build_fetchers: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Pip {
    pub files: Vec<String>,
    pub extra_index_options: Vec<String>,
    pub vcs_prefixes: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Cargo {
    pub dependency_tables: Vec<String>,
    pub binary_paths: Vec<String>,
    pub pinning_keys: Vec<String>,
    pub moving_keys: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    pub first_party_owners: Vec<String>,
    pub checkout: Vec<String>,
    pub script_inputs: Vec<ScriptInput>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ScriptInput {
    pub action: String,
    pub input: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Untrusted {
    pub contexts: Vec<String>,
    /// The triggers whose event payload has a top-level key: a context
    /// under `github.event.<key>` exists only when one of them (or
    /// `workflow_call`, which passes its caller's event on) triggers the
    /// workflow.
    #[serde(default)]
    pub payload_triggers: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    pub privileged: Vec<String>,
    /// Triggers of a reusable workflow: its token's permissions are set by
    /// the calling job.
    #[serde(default)]
    pub called: Vec<String>,
    pub pr_head_refs: Vec<String>,
    pub pr_fetch_commands: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct PipeToShell {
    pub fetchers: Vec<String>,
    pub shells: Vec<String>,
    pub prefixes: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    pub commands: Vec<String>,
    pub command_prefixes: Vec<String>,
    pub actions: Vec<String>,
    /// Actions that publish when an input is not `false`
    /// (`docker/build-push-action` with `push: true`).
    #[serde(default)]
    pub actions_when: Vec<ActionInput>,
    /// Actions that log in to a registry: the secrets they are given are
    /// the credential of the job's publishing steps after them.
    #[serde(default)]
    pub login_actions: Vec<String>,
    pub short_lived_secrets: Vec<String>,
    pub github_token_contexts: Vec<String>,
    pub oidc_permission: String,
}

/// An action and one of its inputs.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub action: String,
    pub input: String,
}

/// The built-in catalogue (`rules/supply_chain.toml`).
pub fn catalogue() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(|| toml::from_str(SUPPLY_CHAIN_TOML).expect("rules/supply_chain.toml parses"))
}

/// A build or install script by its file name (`[install] build_scripts`:
/// `build.rs`, `setup.py`), at any depth of `rel`.
pub fn is_build_script(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    catalogue().install.build_scripts.iter().any(|n| n == name)
}

// ---------------------------------------------------------------- YAML tree

/// A YAML node with the 1-based line and column (in characters) where it starts.
#[derive(Debug)]
struct Node {
    kind: Kind,
    line: u32,
    column: u32,
    /// A literal (`|`) or folded (`>`) block scalar: its position is its
    /// first content line, and its content lines are indented at least to
    /// its column.
    block: bool,
}

#[derive(Debug)]
enum Kind {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// An alias (`*name`): not expanded, so no entity expansion.
    Alias,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }
    fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            // A key given twice: the last value, as PyYAML (pre-commit)
            // reads it.
            Kind::Map(es) => es
                .iter()
                .rfind(|(k, _)| k.str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }
    fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            Kind::Map(es) => es,
            _ => &[],
        }
    }
    fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(xs) => xs,
            _ => &[],
        }
    }
    /// Every scalar under this node (keys included), iteratively.
    fn scalars(&self) -> Vec<&str> {
        let mut out = vec![];
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            match &n.kind {
                Kind::Scalar(s) => out.push(s.as_str()),
                Kind::Seq(xs) => stack.extend(xs.iter()),
                Kind::Map(es) => {
                    for (k, v) in es {
                        stack.push(k);
                        stack.push(v);
                    }
                }
                Kind::Alias => {}
            }
        }
        out
    }
}

enum Frame {
    Seq(Vec<Node>, Marker),
    Map(Vec<(Node, Node)>, Option<Node>, Marker),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
    too_deep: bool,
}

fn node(kind: Kind, m: Marker) -> Node {
    // yaml-rust2 markers: line 1-based, column 0-based, in characters.
    Node {
        kind,
        line: m.line() as u32,
        column: m.col() as u32 + 1,
        block: false,
    }
}

impl Builder {
    fn finish(&mut self, n: Node) {
        match self.stack.last_mut() {
            Some(Frame::Seq(xs, _)) => xs.push(n),
            Some(Frame::Map(es, key, _)) => match key.take() {
                Some(k) => es.push((k, n)),
                None => *key = Some(n),
            },
            None => {
                if self.root.is_none() {
                    self.root = Some(n);
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        // Only the first document is a workflow.
        if self.documents > 1 || self.too_deep {
            return;
        }
        match ev {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(s, style, ..) => {
                let mut n = node(Kind::Scalar(s), mark);
                n.block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                self.finish(n);
            }
            Event::Alias(_) => self.finish(node(Kind::Alias, mark)),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.too_deep = true;
                    return;
                }
                self.stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq(vec![], mark)
                } else {
                    Frame::Map(vec![], None, mark)
                });
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(xs, m)) => self.finish(node(Kind::Seq(xs), m)),
                Some(Frame::Map(es, _, m)) => self.finish(node(Kind::Map(es), m)),
                None => {}
            },
            _ => {}
        }
    }
}

/// Parse the first YAML document of `text`; the error names the line and
/// column and the parser's complaint, never the text.
fn parse(text: &str) -> Result<Option<Node>, String> {
    let mut b = Builder::default();
    let mut p = Parser::new_from_str(text);
    p.load(&mut b, false).map_err(|e| {
        let m = e.marker();
        format!(
            "invalid YAML at line {}, column {}: {}",
            m.line(),
            m.col() + 1,
            e.info()
        )
    })?;
    if b.too_deep {
        return Err(format!("YAML nested deeper than {MAX_DEPTH} levels"));
    }
    Ok(b.root)
}

// ---------------------------------------------------------------- reading

/// What the workflows of a repository give.
#[derive(Default)]
pub struct Workflows {
    /// Facts, unsorted.
    pub facts: Vec<Fact>,
    /// Files not read or not parsed, with the reason.
    pub skipped: Vec<Skipped>,
    /// `# threatscan: ignore[...]` comments, by repository-relative path.
    pub suppressions: BTreeMap<String, Vec<Suppression>>,
}

/// The workflows of the repository at `root`. Only regular files directly
/// in `.github/workflows` (no links followed, `.github` and `workflows` must
/// be real directories).
pub fn workflows(
    root: &Path,
    max_size: u64,
    excludes: &[String],
    scope_of: &dyn Fn(&str) -> crate::scope::Scope,
) -> Workflows {
    let mut out = Workflows::default();
    let (facts, skipped) = (&mut out.facts, &mut out.skipped);
    let dir = root.join(WORKFLOW_DIR);
    for d in [root.join(".github"), dir.clone()] {
        match std::fs::symlink_metadata(&d) {
            Ok(m) if m.is_dir() => {}
            _ => return out,
        }
    }
    let Ok(rd) = std::fs::read_dir(&dir) else {
        skipped.push(Skipped {
            file: WORKFLOW_DIR.into(),
            reason: "directory not readable".into(),
        });
        return out;
    };
    let mut names: Vec<std::ffi::OsString> = rd
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .filter(|n| {
            let n = n.to_string_lossy();
            n.ends_with(".yml") || n.ends_with(".yaml")
        })
        .collect();
    names.sort();
    names.truncate(MAX_WORKFLOWS);
    // `--exclude` globs, read as the walk reads them (the walk has already
    // refused invalid ones).
    let mut ob = ignore::overrides::OverrideBuilder::new(root);
    for g in excludes {
        let _ = ob.add(&format!("!{g}"));
    }
    let ov = ob.build().ok();
    let excluded = |p: &Path, is_dir: bool| {
        ov.as_ref()
            .is_some_and(|o| o.matched(p, is_dir).is_ignore())
    };
    if excluded(&root.join(".github"), true) || excluded(&dir, true) {
        return out;
    }
    names.retain(|n| !excluded(&dir.join(n), false));
    let cat = catalogue();
    let mut files: Vec<(String, std::path::PathBuf)> = names
        .into_iter()
        .map(|name| {
            (
                format!("{WORKFLOW_DIR}/{}", crate::walk::escape_name(&name)),
                dir.join(&name),
            )
        })
        .collect();
    // Local composite actions (`.github/actions/<name>/action.yml`): their
    // steps run in the jobs that use them.
    let actions = root.join(ACTION_DIR);
    if std::fs::symlink_metadata(&actions).is_ok_and(|m| m.is_dir()) && !excluded(&actions, true) {
        let mut found: Vec<(String, std::path::PathBuf)> = vec![];
        if let Ok(rd) = std::fs::read_dir(&actions) {
            for e in rd.flatten() {
                let d = e.path();
                if !std::fs::symlink_metadata(&d).is_ok_and(|m| m.is_dir()) || excluded(&d, true) {
                    continue;
                }
                for n in ["action.yml", "action.yaml"] {
                    let f = d.join(n);
                    if std::fs::symlink_metadata(&f).is_ok_and(|m| m.is_file())
                        && !excluded(&f, false)
                    {
                        found.push((
                            format!(
                                "{ACTION_DIR}/{}/{n}",
                                crate::walk::escape_name(&e.file_name())
                            ),
                            f,
                        ));
                    }
                }
            }
        }
        found.sort();
        found.truncate(MAX_WORKFLOWS);
        files.extend(found);
    }
    for (rel, path) in files {
        let text = match crate::fsread::read_text(&path, max_size, Some(root)) {
            Ok(t) => t,
            Err(e) => {
                skipped.push(Skipped {
                    file: rel,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let scope = scope_of(&rel).as_str();
        match analyse(&rel, &text, scope, cat) {
            Ok((mut fs, sups)) => {
                facts.append(&mut fs);
                if !sups.is_empty() {
                    out.suppressions.insert(rel, sups);
                }
            }
            Err(reason) => skipped.push(Skipped { file: rel, reason }),
        }
    }
    out
}

// ---------------------------------------------------------------- analysis

struct Ctx<'a> {
    rel: &'a str,
    text: &'a str,
    /// Byte offset of the start of each line.
    lines: Vec<usize>,
    scope: &'static str,
    cat: &'a Catalogue,
    out: Vec<Fact>,
    /// The workflow's triggers (`on:`).
    triggers: Vec<String>,
}

impl Ctx<'_> {
    fn fact(&mut self, kind: &'static str, (line, column): (u32, u32)) -> &mut Fact {
        self.out.push(Fact {
            kind,
            file: self.rel.to_string(),
            line,
            column,
            language: "yaml",
            scope: self.scope,
            ..Default::default()
        });
        self.out.last_mut().expect("just pushed")
    }

    /// Byte offset of a node's start in the text.
    fn offset(&self, n: &Node) -> usize {
        let Some(&start) = self.lines.get(n.line.saturating_sub(1) as usize) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        start
            + line
                .char_indices()
                .nth(n.column.saturating_sub(1) as usize)
                .map_or(line.len(), |(i, _)| i)
    }

    fn line_col(&self, at: usize) -> (u32, u32) {
        let line = self.lines.partition_point(|&s| s <= at);
        let start = self.lines[line - 1];
        let col = self.text[start..at].chars().count();
        (line as u32, col as u32 + 1)
    }

    /// The place in the file of byte `at` of a scalar's value: the rest of
    /// its line in the value (from `at`) is searched for forward from the
    /// scalar's marker, skipping as many earlier occurrences as the value
    /// has before `at`. A value the file does not spell verbatim (escapes,
    /// folding) gives the scalar's own position.
    fn locate(&self, n: &Node, value: &str, at: usize) -> (u32, u32) {
        let end = value[at..]
            .find(['\n', '\r'])
            .map_or(value.len(), |e| at + e);
        let needle = value[at..end].trim_end();
        if needle.is_empty() {
            return (n.line, n.column);
        }
        let before = value[..at].matches(needle).count();
        let from = self.offset(n);
        match self.text[from..].match_indices(needle).nth(before) {
            Some((i, _)) => self.line_col(from + i),
            None => (n.line, n.column),
        }
    }
}

/// The facts of one workflow file, and its suppression comments.
fn analyse(
    rel: &str,
    text: &str,
    scope: &'static str,
    cat: &Catalogue,
) -> Result<(Vec<Fact>, Vec<Suppression>), String> {
    let Some(root) = parse(text)? else {
        return Ok((vec![], vec![]));
    };
    if !matches!(root.kind, Kind::Map(_)) {
        return Err("not a workflow (the top level is not a mapping)".into());
    }
    let mut lines = vec![0];
    lines.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    let mut cx = Ctx {
        rel,
        text,
        lines,
        scope,
        cat,
        out: vec![],
        triggers: vec![],
    };
    let triggers: Vec<&str> = match root.get("on") {
        Some(
            n @ Node {
                kind: Kind::Scalar(_),
                ..
            },
        ) => n.str().into_iter().collect(),
        Some(
            n @ Node {
                kind: Kind::Seq(_), ..
            },
        ) => n.items().iter().filter_map(Node::str).collect(),
        Some(n) => n.entries().iter().filter_map(|(k, _)| k.str()).collect(),
        None => vec![],
    };
    cx.triggers = triggers.iter().map(|t| t.to_string()).collect();
    let privileged: Vec<&str> = triggers
        .iter()
        .copied()
        .filter(|t| cat.triggers.privileged.iter().any(|p| p == t))
        .collect();
    // A composite action: its steps, as a job's (no triggers, no token of
    // its own: the calling job's).
    if root.get("jobs").is_none() {
        if let Some(runs) = root.get("runs") {
            for step in runs.get("steps").map(Node::items).unwrap_or_default() {
                if let Some(u) = step.get("uses") {
                    unpinned(&mut cx, u);
                }
                if let Some(r) = step.get("run") {
                    untrusted_inputs(&mut cx, r, "run");
                    pipe_to_shell(&mut cx, r);
                }
            }
            let sups = suppressions(text, &root);
            return Ok((cx.out, sups));
        }
    }
    let wf_perms = root.get("permissions");
    let jobs = root.get("jobs");
    let uses_secrets = !secret_names(&root).is_empty()
        || jobs.is_some_and(|j| {
            j.entries()
                .iter()
                .any(|(_, job)| job.get("secrets").and_then(Node::str) == Some("inherit"))
        });
    if let Some(p) = wf_perms {
        write_all(&mut cx, p, "the workflow");
    }
    let wf_env = root.get("env");
    for (job_key, job) in jobs.map(Node::entries).unwrap_or_default() {
        let job_name = job_key.str().unwrap_or("?");
        if let Some(u) = job.get("uses") {
            unpinned(&mut cx, u);
        }
        let job_perms = job.get("permissions");
        if let Some(p) = job_perms {
            write_all(&mut cx, p, &format!("job {job_name}"));
        }
        // A reusable workflow's token has the calling job's permissions.
        let called_only = !triggers.is_empty()
            && triggers
                .iter()
                .all(|t| cat.triggers.called.iter().any(|c| c == t));
        if wf_perms.is_none() && job_perms.is_none() && uses_secrets && !called_only {
            let f = cx.fact("ci_permissions", (job_key.line, job_key.column));
            f.api = Some("default".into());
            f.name = Some(job_name.into());
            f.reason = Some(format!(
                "job {job_name} sets no permissions: and neither does the workflow, so its GITHUB_TOKEN has the repository's default permissions in a workflow that uses secrets"
            ));
        }
        // A job's permissions replace the workflow's.
        let oidc = job_perms.or(wf_perms).is_some_and(|p| {
            p.str() == Some("write-all")
                || p.get(&cat.publish.oidc_permission).and_then(Node::str) == Some("write")
        });
        // Secrets given to registry logins so far in this job.
        let mut login_secrets: Vec<String> = vec![];
        let mut login_token = false;
        for step in job.get("steps").map(Node::items).unwrap_or_default() {
            let uses = step.get("uses");
            let action = uses.and_then(Node::str).map(action_of).unwrap_or_default();
            if let Some(u) = uses {
                unpinned(&mut cx, u);
            }
            if !privileged.is_empty() && cat.actions.checkout.contains(&action) {
                if let Some(r) = step.get("with").and_then(|w| w.get("ref")) {
                    // `ref: ${{ env.HEAD_SHA }}`: the variable's value, from
                    // the step's, the job's or the workflow's `env`.
                    let raw = r.str().unwrap_or("");
                    let mut v = raw.to_string();
                    for (_, expr) in expressions(raw) {
                        for path in contexts(expr) {
                            if path.len() == 2 && path[0] == "env" {
                                let val = [step.get("env"), job.get("env"), wf_env]
                                    .into_iter()
                                    .flatten()
                                    .find_map(|e| e.get(&path[1]).and_then(Node::str));
                                if let Some(val) = val {
                                    v.push(' ');
                                    v.push_str(val);
                                }
                            }
                        }
                    }
                    let v = v.as_str();
                    if let Some(h) = cat
                        .triggers
                        .pr_head_refs
                        .iter()
                        .find(|h| v.contains(h.as_str()))
                    {
                        let f = cx.fact("ci_pr_head_checkout", (r.line, r.column));
                        f.api = Some(privileged.join(", "));
                        f.name = Some(h.clone());
                        f.reason = Some(format!(
                            "job {job_name} of a {} workflow checks out the pull request's code ({h}) with the base repository's token and secrets",
                            privileged.join("/")
                        ));
                    }
                }
            }
            let mut scripts: Vec<(&Node, &str)> = vec![];
            if let Some(r) = step.get("run") {
                scripts.push((r, "run"));
            }
            for si in &cat.actions.script_inputs {
                if si.action == action {
                    if let Some(s) = step.get("with").and_then(|w| w.get(&si.input)) {
                        scripts.push((s, "script"));
                    }
                }
            }
            for (s, what) in &scripts {
                untrusted_inputs(&mut cx, s, what);
            }
            if let Some(r) = step.get("run") {
                pipe_to_shell(&mut cx, r);
                if !privileged.is_empty() {
                    pr_fetch(&mut cx, r, job_name, &privileged);
                }
            }
            // Publishing, and the credential it uses.
            let mut publishes: Vec<(String, (u32, u32))> = vec![];
            if let (Some(u), true) = (uses, cat.publish.actions.contains(&action)) {
                publishes.push((action.clone(), (u.line, u.column)));
            }
            for ai in &cat.publish.actions_when {
                if ai.action != action {
                    continue;
                }
                let on = step
                    .get("with")
                    .and_then(|w| w.get(&ai.input))
                    .and_then(Node::str)
                    .is_some_and(|v| !v.trim().eq_ignore_ascii_case("false"));
                if let (Some(u), true) = (uses, on) {
                    publishes.push((format!("{action} ({}: true)", ai.input), (u.line, u.column)));
                }
            }
            if cat.publish.login_actions.contains(&action) {
                login_secrets.extend(secret_names(step));
                login_token |= uses_github_token(cat, step);
            }
            if let Some(r) = step.get("run") {
                publishes.extend(publish_commands(&cx, r));
            }
            if !publishes.is_empty() {
                let mut secrets = secret_names(step);
                let mut token = uses_github_token(cat, step) || login_token;
                secrets.extend(login_secrets.iter().cloned());
                for env in [job.get("env"), wf_env].into_iter().flatten() {
                    secrets.extend(secret_names(env));
                    token |= uses_github_token(cat, env);
                }
                let long: Vec<&String> = secrets
                    .iter()
                    .filter(|s| !cat.publish.short_lived_secrets.contains(s))
                    .collect();
                let (via, why) = if !long.is_empty() {
                    (
                        "secret",
                        format!(
                            "uses the long-lived secret {}",
                            long.iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                } else if oidc {
                    (
                        "oidc",
                        "id-token: write: OIDC trusted publishing".to_string(),
                    )
                } else if token || !secrets.is_empty() {
                    (
                        "github_token",
                        "uses the workflow's GITHUB_TOKEN".to_string(),
                    )
                } else {
                    (
                        "unknown",
                        "no credential named in the step, job or workflow".to_string(),
                    )
                };
                for (what, pos) in publishes {
                    let f = cx.fact("ci_publish", pos);
                    f.api = Some(what.clone());
                    f.name = Some(job_name.into());
                    f.via = Some(via.into());
                    f.reason = Some(format!("job {job_name} publishes with {what}: {why}"));
                    if via == "secret" {
                        f.flags
                            .insert("long_lived_secret".into(), serde_json::Value::Bool(true));
                    }
                }
            }
        }
    }
    let sups = suppressions(text, &root);
    Ok((cx.out, sups))
}

/// `# threatscan: ignore[TS6001] reason` comments: the marker must follow a
/// `#` that starts a YAML comment (at the start of a line or after a
/// space) on a line that is not the content of a block scalar (a
/// `run: |` script's own `#` lines are shell, not YAML) nor a later line of
/// a quoted or plain scalar that spans lines.
fn suppressions(text: &str, root: &Node) -> Vec<Suppression> {
    let marker = crate::extract::SUPPRESS_MARKER;
    if !text.contains(marker) {
        return vec![];
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let mut inside: BTreeSet<u32> = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        match &n.kind {
            Kind::Scalar(_) if n.block => {
                // Content: blank lines and lines indented to its column.
                let indent = n.column.saturating_sub(1) as usize;
                for (i, l) in lines
                    .iter()
                    .enumerate()
                    .skip(n.line.saturating_sub(1) as usize)
                {
                    let lead = l.len() - l.trim_start_matches([' ', '\t']).len();
                    if !l.trim().is_empty() && lead < indent {
                        break;
                    }
                    inside.insert(i as u32 + 1);
                }
            }
            Kind::Scalar(v) => {
                let extra = v.matches('\n').count() as u32;
                inside.extend(n.line + 1..=n.line + extra);
            }
            Kind::Seq(xs) => stack.extend(xs.iter()),
            Kind::Map(es) => {
                for (k, v) in es {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Kind::Alias => {}
        }
    }
    let mut out = vec![];
    for (at, _) in text.match_indices(marker) {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line = text[..at].matches('\n').count() as u32 + 1;
        let before = text[line_start..at].trim_end();
        let Some(lead) = before.strip_suffix('#') else {
            continue;
        };
        if !(lead.is_empty() || lead.ends_with([' ', '\t'])) || inside.contains(&line) {
            continue;
        }
        if let Some((rules, reason)) = crate::extract::suppression_text(text, at) {
            out.push(Suppression {
                line,
                rules,
                reason,
            });
        }
    }
    out
}

/// A workflow file's bytes through the parser and the analysis (the `workflow`
/// target of [`crate::fuzz`]).
pub fn fuzz(data: &[u8]) {
    if data.len() as u64 > crate::DEFAULT_MAX_FILE_SIZE {
        return;
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = analyse(
            ".github/workflows/fuzz.yml",
            text,
            "production",
            catalogue(),
        );
    }
}

// ---------------------------------------------------------------- pyproject.toml

/// Facts of the root `pyproject.toml`: `dep_lockfile_missing` when it is
/// managed by a tool that keeps a lockfile (`[tool.poetry]` → `poetry.lock`,
/// `[tool.uv]` → `uv.lock`, `[tool.pdm]` → `pdm.lock`) and none is kept beside
/// it; `dep_extra_index` for an index setting under which a public package
/// can win over a private one of the same name (uv's
/// `index-strategy = "unsafe-best-match"`, a Poetry source with a priority
/// searched after PyPI).
pub fn pyproject(
    root: &Path,
    max_size: u64,
    scope_of: &dyn Fn(&str) -> crate::scope::Scope,
) -> (Vec<Fact>, Vec<Skipped>) {
    use toml::de::{DeTable, DeValue};
    let rel = "pyproject.toml";
    let abs = root.join(rel);
    if !std::fs::symlink_metadata(&abs).is_ok_and(|m| m.is_file()) {
        return (vec![], vec![]);
    }
    let text = match crate::fsread::read_text(&abs, max_size, Some(root)) {
        Ok(t) => t,
        Err(e) => {
            return (
                vec![],
                vec![Skipped {
                    file: rel.into(),
                    reason: e.to_string(),
                }],
            )
        }
    };
    let doc = match DeTable::parse(&text) {
        Ok(d) => d,
        Err(e) => {
            // The position only: the parser's message may quote the text.
            let at = e.span().map_or(0, |s| s.start);
            let (l, c) = crate::fsread::line_col(&text, at);
            return (
                vec![],
                vec![Skipped {
                    file: rel.into(),
                    reason: format!("invalid TOML at line {l}, column {c}"),
                }],
            );
        }
    };
    let doc = doc.get_ref();
    let cat = &catalogue().pyproject;
    let scope = scope_of(rel).as_str();
    let fact = |kind: &'static str, span: std::ops::Range<usize>| {
        let (l, c) = crate::fsread::line_col(&text, span.start);
        Fact {
            kind,
            file: rel.into(),
            line: l as u32,
            column: c as u32,
            language: "toml",
            scope,
            ..Default::default()
        }
    };
    fn table<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
        match t.get(key).map(|v| v.get_ref()) {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        }
    }
    let mut out = vec![];
    let Some(tool) = table(doc, "tool") else {
        return (out, vec![]);
    };
    for (manager, lock) in &cat.lockfiles {
        let Some((key, _)) = tool.get_key_value(manager.as_str()) else {
            continue;
        };
        if root.join(lock).is_file() {
            continue;
        }
        let mut f = fact("dep_lockfile_missing", key.span());
        f.api = Some(lock.clone());
        f.name = Some(manager.clone());
        f.reason = Some(format!(
            "pyproject.toml is managed with {manager} ([tool.{manager}]) and no {lock} is kept beside it: every install resolves the dependencies anew, to whatever versions are newest"
        ));
        out.push(f);
    }
    let uv = table(tool, "uv");
    for t in [uv, uv.and_then(|u| table(u, "pip"))].into_iter().flatten() {
        if let Some((k, v)) = t.get_key_value("index-strategy") {
            if let Some(s) = v.get_ref().as_str() {
                if cat.uv_unsafe_strategies.iter().any(|u| u == s) {
                    let mut f = fact("dep_extra_index", k.span());
                    f.api = Some(format!("index-strategy = {s}"));
                    f.reason = Some(format!(
                        "uv's index-strategy = \"{s}\" takes the best version found on any index: a public package named like a private one wins (dependency confusion)"
                    ));
                    out.push(f);
                }
            }
        }
    }
    if let Some(DeValue::Array(sources)) = table(tool, "poetry")
        .and_then(|p| p.get("source"))
        .map(|v| v.get_ref())
    {
        for src in sources.iter() {
            let DeValue::Table(t) = src.get_ref() else {
                continue;
            };
            let Some((k, v)) = t.get_key_value("priority") else {
                continue;
            };
            let Some(pr) = v.get_ref().as_str() else {
                continue;
            };
            if !cat.poetry_after_pypi.iter().any(|p| p == pr) {
                continue;
            }
            let name = t
                .get("name")
                .and_then(|n| n.get_ref().as_str())
                .unwrap_or("?");
            let mut f = fact("dep_extra_index", k.span());
            f.api = Some(format!("{name} ({pr})"));
            f.reason = Some(format!(
                "the Poetry source {name} has priority \"{pr}\": PyPI is searched first, so a public package named like one of {name}'s wins (dependency confusion); \"explicit\" sources are used only by the packages that name them"
            ));
            out.push(f);
        }
    }
    (out, vec![])
}

// ---------------------------------------------------------------- Cargo manifests

/// Facts of one Cargo manifest (`rel`, repository-relative, read by the
/// walk): `dep_lockfile_missing` for a package that builds a binary
/// (`[[bin]]`, `src/main.rs` or `src/bin/`) with no `Cargo.lock` beside it or
/// in a directory above it inside the repository; `dep_vcs_unpinned` for a
/// git dependency (or `[patch]` entry) with no `rev`. Positions are the TOML
/// keys' spans. A manifest that does not parse gives nothing here (the
/// package-name reader already ignores it).
pub fn cargo_manifest(root: &Path, rel: &str, text: &str, scope: &'static str) -> Vec<Fact> {
    use toml::de::{DeTable, DeValue};
    let Ok(doc) = DeTable::parse(text) else {
        return vec![];
    };
    let doc = doc.get_ref();
    let cc = &catalogue().cargo;
    let at = |span: std::ops::Range<usize>| {
        let (l, c) = crate::fsread::line_col(text, span.start);
        (l as u32, c as u32)
    };
    let fact = |kind: &'static str, pos: (u32, u32)| Fact {
        kind,
        file: rel.to_string(),
        line: pos.0,
        column: pos.1,
        language: "toml",
        scope,
        ..Default::default()
    };
    fn table<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
        match t.get(key).map(|v| v.get_ref()) {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        }
    }
    let dir_rel = rel.rsplit_once('/').map_or("", |(d, _)| d);
    let dir = crate::walk::abs_path(root, dir_rel);
    let is = |p: &Path, dir: bool| {
        std::fs::symlink_metadata(p).is_ok_and(|m| if dir { m.is_dir() } else { m.is_file() })
    };
    let mut locked = false;
    let mut d = Some(dir.as_path());
    while let Some(x) = d {
        if is(&x.join("Cargo.lock"), false) {
            locked = true;
            break;
        }
        if x == root {
            break;
        }
        d = x.parent().filter(|p| p.starts_with(root));
    }
    let mut out = vec![];
    if let Some((pkg_key, _)) = doc.get_key_value("package") {
        let bins =
            matches!(doc.get("bin").map(|v| v.get_ref()), Some(DeValue::Array(a)) if !a.is_empty());
        let why = if bins {
            Some("[[bin]]")
        } else {
            cc.binary_paths
                .iter()
                .find(|p| match p.strip_suffix('/') {
                    Some(d) => is(&dir.join(d), true),
                    None => is(&dir.join(p.as_str()), false),
                })
                .map(String::as_str)
        };
        if let (Some(why), false) = (why, locked) {
            let name = table(doc, "package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.get_ref().as_str())
                .unwrap_or("?")
                .to_string();
            let mut f = fact("dep_lockfile_missing", at(pkg_key.span()));
            f.api = Some("Cargo.lock".into());
            f.name = Some(name.clone());
            f.reason = Some(format!(
                "package {name} builds a binary ({why}) and no Cargo.lock is kept beside it or in a parent workspace: every build resolves its dependencies anew, to whatever versions are newest"
            ));
            out.push(f);
        }
    }
    // Dependency tables: [dependencies] and friends, per target, in the
    // workspace, and [patch.<registry>] overrides.
    let kinds = &cc.dependency_tables;
    let mut tables: Vec<&DeTable<'_>> = kinds.iter().filter_map(|k| table(doc, k)).collect();
    if let Some(ws) = table(doc, "workspace") {
        tables.extend(table(ws, "dependencies"));
    }
    for t in [table(doc, "target"), table(doc, "patch")]
        .into_iter()
        .flatten()
    {
        for (_, v) in t.iter() {
            if let DeValue::Table(inner) = v.get_ref() {
                tables.extend(kinds.iter().filter_map(|k| table(inner, k)));
                // [patch.crates-io] holds the entries themselves.
                tables.push(inner);
            }
        }
    }
    for t in tables {
        for (k, v) in t.iter() {
            let DeValue::Table(dep) = v.get_ref() else {
                continue;
            };
            let Some(url) = dep.get("git").and_then(|g| g.get_ref().as_str()) else {
                continue;
            };
            if cc.pinning_keys.iter().any(|k| dep.contains_key(k.as_str())) {
                continue;
            }
            let at_ref = cc
                .moving_keys
                .iter()
                .find_map(|r| {
                    dep.get(r.as_str())
                        .and_then(|x| x.get_ref().as_str())
                        .map(|x| format!("the {r} {x}"))
                })
                .unwrap_or_else(|| "its default branch".into());
            let name = k.get_ref().to_string();
            let mut f = fact("dep_vcs_unpinned", at(k.span()));
            f.api = Some(url.to_string());
            f.name = Some(name.clone());
            f.reason = Some(format!(
                "{name} comes from {url} at {at_ref}, not a fixed rev{}",
                if locked {
                    " (Cargo.lock pins it until the next update)"
                } else {
                    ", and no Cargo.lock pins it"
                }
            ));
            f.flags
                .insert("locked".into(), serde_json::Value::Bool(locked));
            out.push(f);
        }
    }
    out
}

// ---------------------------------------------------------------- pip requirements

/// The requirement files named by `[pip] files` (`requirements*.txt` at the
/// root, `requirements/*.txt` …), read through [`crate::fsread`], less what
/// `--exclude` names: `dep_extra_index` for `--extra-index-url` (credentials
/// in the URL are masked), `dep_vcs_unpinned` for a version-control
/// requirement not pinned to a full commit hash. Returns the facts and the
/// files that could not be read.
pub fn requirements(
    root: &Path,
    max_size: u64,
    excludes: &[String],
    scope_of: &dyn Fn(&str) -> crate::scope::Scope,
) -> (Vec<Fact>, Vec<Skipped>) {
    let cat = &catalogue().pip;
    let mut out = vec![];
    let mut skipped = vec![];
    let mut ob = ignore::overrides::OverrideBuilder::new(root);
    for g in excludes {
        let _ = ob.add(&format!("!{g}"));
    }
    let ov = ob.build().ok();
    let mut files: BTreeSet<String> = BTreeSet::new();
    for pat in &cat.files {
        let (dir, name) = pat.rsplit_once('/').unwrap_or(("", pat));
        let d = root.join(dir);
        if !dir.is_empty() && !std::fs::symlink_metadata(&d).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let (pre, post) = name.split_once('*').unwrap_or((name, ""));
        for e in rd.flatten() {
            let n = e.file_name();
            let n = n.to_string_lossy();
            let fits = if name.contains('*') {
                n.len() >= pre.len() + post.len() && n.starts_with(pre) && n.ends_with(post)
            } else {
                n == name
            };
            if fits {
                files.insert(if dir.is_empty() {
                    n.to_string()
                } else {
                    format!("{dir}/{n}")
                });
            }
        }
    }
    for rel in files {
        let abs = root.join(&rel);
        if ov
            .as_ref()
            .is_some_and(|o| o.matched(&abs, false).is_ignore())
        {
            continue;
        }
        let text = match crate::fsread::read_text(&abs, max_size, Some(root)) {
            Ok(t) => t,
            Err(e) => {
                skipped.push(Skipped {
                    file: rel,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let scope = scope_of(&rel).as_str();
        for (i, line) in text.lines().enumerate() {
            let code = match line.find(" #") {
                Some(c) => &line[..c],
                None if line.trim_start().starts_with('#') => "",
                None => line,
            };
            let ws = words(code);
            let fact = |kind: &'static str, at: usize| Fact {
                kind,
                file: rel.clone(),
                line: i as u32 + 1,
                column: code[..at].chars().count() as u32 + 1,
                language: "requirements",
                scope,
                ..Default::default()
            };
            for (j, (at, w)) in ws.iter().enumerate() {
                let (opt, inline) = w.split_once('=').unwrap_or((w, ""));
                if cat.extra_index_options.iter().any(|o| o == opt) {
                    let url = if inline.is_empty() {
                        ws.get(j + 1).map_or("", |(_, u)| *u)
                    } else {
                        inline
                    };
                    let url = mask_credentials(url);
                    let mut f = fact("dep_extra_index", *at);
                    f.api = Some(url.clone());
                    f.reason = Some(format!(
                        "{opt} {url} adds a second package index next to PyPI: pip installs the highest version found on either, so a public package named like a private one wins (dependency confusion)"
                    ));
                    out.push(f);
                }
                if let Some(p) = cat.vcs_prefixes.iter().find(|p| w.starts_with(p.as_str())) {
                    let url = w.split('#').next().unwrap_or(w);
                    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
                    let pinned = after_scheme.rsplit_once('@').is_some_and(|(_, r)| {
                        r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
                    });
                    if !pinned {
                        let shown = mask_credentials(url);
                        let name = ws
                            .first()
                            .filter(|(_, n)| !n.starts_with(p.as_str()))
                            .map(|(_, n)| n.to_string())
                            .unwrap_or_else(|| shown.clone());
                        let mut f = fact("dep_vcs_unpinned", *at);
                        f.api = Some(shown.clone());
                        f.name = Some(name.clone());
                        f.reason = Some(format!(
                            "{name} is installed from {shown}, not pinned to a full commit hash: whatever is pushed there is installed next"
                        ));
                        f.flags
                            .insert("locked".into(), serde_json::Value::Bool(false));
                        out.push(f);
                    }
                }
            }
        }
    }
    (out, skipped)
}

/// Install-time code declared beside the sources: npm lifecycle scripts in
/// `package.json` files (`install_script` facts) and pre-commit hooks at a
/// revision that can move (`precommit_unpinned`).
pub fn install_time(
    root: &Path,
    max_size: u64,
    excludes: &[String],
) -> (Vec<Fact>, Vec<Skipped>, BTreeMap<String, Vec<Suppression>>) {
    let cat = &catalogue().install;
    let mut out = vec![];
    let mut skipped = vec![];
    let mut sups = BTreeMap::new();
    let mut ob = ignore::overrides::OverrideBuilder::new(root);
    for g in excludes {
        let _ = ob.add(&format!("!{g}"));
    }
    let ov = ob.build().ok();
    // Install-time code runs wherever the package is installed or built:
    // production scope, whatever the file's directory.
    let scope = "production";
    let read = |rel: &str, skipped: &mut Vec<Skipped>| -> Option<String> {
        let abs = root.join(rel);
        if ov
            .as_ref()
            .is_some_and(|o| o.matched(&abs, false).is_ignore())
        {
            return None;
        }
        let meta = std::fs::symlink_metadata(&abs).ok()?;
        if meta.file_type().is_symlink() {
            skipped.push(Skipped {
                file: rel.to_string(),
                reason: "symbolic link (not followed)".into(),
            });
            return None;
        }
        if !meta.is_file() {
            return None;
        }
        match crate::fsread::read_text(&abs, max_size, Some(root)) {
            // A byte-order mark is not part of the document (npm and
            // PyYAML skip it).
            Ok(t) => Some(t.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(t)),
            Err(e) => {
                skipped.push(Skipped {
                    file: rel.to_string(),
                    reason: e.to_string(),
                });
                None
            }
        }
    };
    let mut packages: BTreeSet<String> = BTreeSet::new();
    for pat in &cat.package_files {
        match pat.split_once("*/") {
            Some((dir, name)) => {
                let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
                    continue;
                };
                for e in rd.flatten() {
                    let n = e.file_name().to_string_lossy().to_string();
                    // Directories only, never through a symbolic link.
                    let dir_entry = e.file_type().is_ok_and(|t| t.is_dir());
                    if dir_entry && !n.starts_with('.') && n != "node_modules" {
                        packages.insert(format!("{dir}{n}/{name}"));
                    }
                }
            }
            None => {
                packages.insert(pat.clone());
            }
        }
    }
    for rel in packages {
        let Some(text) = read(&rel, &mut skipped) else {
            continue;
        };
        let top = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(top)) => top,
            Ok(_) => continue,
            Err(e) => {
                // The position only: serde_json's message names no content.
                skipped.push(Skipped {
                    file: rel.clone(),
                    reason: format!("invalid JSON at line {}, column {}", e.line(), e.column()),
                });
                continue;
            }
        };
        let Some(serde_json::Value::Object(scripts)) = top.get("scripts") else {
            continue;
        };
        for name in &cat.lifecycle_scripts {
            let Some(cmd) = scripts.get(name).and_then(|v| v.as_str()) else {
                continue;
            };
            // The key's place in the text: the first `"name"` followed by `:`.
            let needle = format!("\"{name}\"");
            let (line, column) = text
                .match_indices(&needle)
                .find(|(i, _)| text[i + needle.len()..].trim_start().starts_with(':'))
                .map(|(i, _)| {
                    let before = &text[..i];
                    let line = before.matches('\n').count() as u32 + 1;
                    let col = before.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
                    (line, col)
                })
                .unwrap_or((1, 1));
            let fetches = words(cmd)
                .iter()
                .any(|(_, w)| cat.fetchers.iter().any(|f| base(w) == f));
            let mut f = Fact {
                kind: "install_script",
                file: rel.clone(),
                line,
                column,
                language: "json",
                scope,
                ..Default::default()
            };
            f.api = Some(cmd.chars().take(200).collect());
            f.name = Some(name.clone());
            f.reason = Some(format!(
                "the {name} script runs `{}` on every `npm install` of this package{}",
                cmd.chars().take(80).collect::<String>(),
                if fetches {
                    ", and it fetches from the network"
                } else {
                    ""
                }
            ));
            f.flags
                .insert("fetches".into(), serde_json::Value::Bool(fetches));
            out.push(f);
        }
    }
    // pre-commit hooks at a movable revision.
    let rel = cat.precommit_file.as_str();
    if let Some(text) = read(rel, &mut skipped) {
        match parse(&text) {
            Ok(Some(doc)) => {
                let found = suppressions(&text, &doc);
                if !found.is_empty() {
                    sups.insert(rel.to_string(), found);
                }
                for r in doc.get("repos").map(Node::items).unwrap_or_default() {
                    let repo = r.get("repo").and_then(Node::str).unwrap_or("");
                    if repo.is_empty() || cat.precommit_local.iter().any(|l| l == repo) {
                        continue;
                    }
                    // A revision that is not a plain value (an alias, a
                    // list) names nothing that can be judged.
                    let Some(rev) = r.get("rev") else { continue };
                    let Some(v) = rev.str() else { continue };
                    if v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                        continue;
                    }
                    let mut f = Fact {
                        kind: "precommit_unpinned",
                        file: rel.to_string(),
                        line: rev.line,
                        column: rev.column,
                        language: "yaml",
                        scope,
                        ..Default::default()
                    };
                    f.api = Some(format!("{repo}@{v}"));
                    f.name = Some(repo.to_string());
                    f.reason = Some(format!(
                        "pre-commit runs hooks from {repo} at {v}, a tag or branch that can be moved: every developer who commits runs whatever it points to next"
                    ));
                    out.push(f);
                }
            }
            Ok(None) => {}
            Err(e) => skipped.push(Skipped {
                file: rel.to_string(),
                reason: e,
            }),
        }
    }
    (out, skipped, sups)
}

/// A URL with its user information replaced (`https://***@host/…`): index
/// URLs often carry a token.
fn mask_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// `owner/repo` of a `uses:` (`owner/repo/path@ref` → `owner/repo`).
fn action_of(uses: &str) -> String {
    let path = uses.rsplit_once('@').map_or(uses, |(p, _)| p);
    path.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
}

fn write_all(cx: &mut Ctx, p: &Node, whose: &str) {
    if p.str() == Some("write-all") {
        let f = cx.fact("ci_permissions", (p.line, p.column));
        f.api = Some("write-all".into());
        f.reason = Some(format!(
            "{whose} gives its GITHUB_TOKEN every write permission (write-all)"
        ));
    }
}

/// A `uses:` not pinned to a full commit SHA (or an image without a digest).
fn unpinned(cx: &mut Ctx, u: &Node) {
    let Some(uses) = u.str() else { return };
    let uses = uses.trim();
    if uses.starts_with("./") || uses.starts_with("../") || uses.is_empty() {
        return;
    }
    let (api, reason, first_party) = if let Some(image) = uses.strip_prefix("docker://") {
        if image.contains("@sha256:") {
            return;
        }
        (
            image.to_string(),
            format!("docker://{image} names an image by tag, not by digest (@sha256:…)"),
            false,
        )
    } else {
        let action = action_of(uses);
        let first_party = cx
            .cat
            .actions
            .first_party_owners
            .iter()
            .any(|o| action.split('/').next() == Some(o.as_str()));
        let reason = match uses.rsplit_once('@') {
            None => format!("{uses} names no version at all"),
            Some((_, r)) if r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()) => return,
            Some((_, r))
                if r.len() >= 7 && r.len() < 40 && r.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                format!("{uses} is pinned to an abbreviated commit SHA ({r}), which can be made ambiguous")
            }
            Some((_, r)) => {
                let what = if r.starts_with(|c: char| c.is_ascii_digit())
                    || (r.starts_with('v') && r[1..].starts_with(|c: char| c.is_ascii_digit()))
                {
                    "tag"
                } else {
                    "branch or tag"
                };
                format!("{uses} is pinned to the {what} {r}, which can be moved, not to a full commit SHA")
            }
        };
        (action, reason, first_party)
    };
    let f = cx.fact("ci_action_unpinned", (u.line, u.column));
    f.api = Some(api);
    f.name = Some(uses.to_string());
    f.reason = Some(reason);
    f.flags
        .insert("first_party".into(), serde_json::Value::Bool(first_party));
}

/// `${{ … }}` expressions in a value: (byte offset of `${{`, inner text).
fn expressions(v: &str) -> Vec<(usize, &str)> {
    let mut out = vec![];
    let mut from = 0;
    while let Some(i) = v[from..].find("${{") {
        let start = from + i;
        let Some(j) = v[start + 3..].find("}}") else {
            break;
        };
        out.push((start, &v[start + 3..start + 3 + j]));
        from = start + 3 + j + 2;
    }
    out
}

/// Dotted context paths in an expression, `[0]` and `['x']` as segments:
/// `github.event.commits[0].message` → `github.event.commits.*.message`.
fn contexts(expr: &str) -> Vec<Vec<String>> {
    let mut out = vec![];
    let mut cur: Vec<String> = vec![];
    let mut word = String::new();
    let mut chars = expr.chars().peekable();
    let flush = |word: &mut String, cur: &mut Vec<String>| {
        if !word.is_empty() {
            cur.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            word.push(c);
        } else if c == '.' {
            flush(&mut word, &mut cur);
        } else if c == '[' {
            flush(&mut word, &mut cur);
            let mut inner = String::new();
            for d in chars.by_ref() {
                if d == ']' {
                    break;
                }
                inner.push(d);
            }
            let inner = inner.trim().trim_matches(['\'', '"']);
            cur.push(
                if inner.is_empty() || inner.bytes().all(|b| b.is_ascii_digit()) || inner == "*" {
                    "*".into()
                } else {
                    inner.to_string()
                },
            );
        } else {
            flush(&mut word, &mut cur);
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    flush(&mut word, &mut cur);
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Is a context path attacker-controlled: an untrusted context is a prefix
/// of it, or it is a prefix of one serialised whole (`object` true: inside
/// `toJSON(github.event.pull_request)`; an object in a test such as
/// `github.event.issue && 'issue'` expands to no text of its own).
fn untrusted(cat: &Catalogue, path: &[String], object: bool) -> Option<String> {
    if path.len() < 2 || path[0] != "github" {
        return None;
    }
    let seg_eq = |p: &str, c: &str| p == "*" || c == "*" || p.eq_ignore_ascii_case(c);
    for u in &cat.untrusted.contexts {
        let pat: Vec<&str> = u.split('.').collect();
        let n = pat.len().min(path.len());
        // `github.event` alone is a prefix of every event field: only
        // whole objects below the event's top (`github.event.issue`) count.
        if path.len() < pat.len() && (path.len() < 3 || !object) {
            continue;
        }
        if (0..n).all(|i| seg_eq(pat[i], &path[i])) {
            return Some(path.join("."));
        }
    }
    None
}

fn untrusted_inputs(cx: &mut Ctx, s: &Node, what: &str) {
    let Some(v) = s.str() else { return };
    let mut seen = BTreeSet::new();
    for (at, expr) in expressions(v) {
        // The expression as context paths are written (`[0]` as `.*`),
        // to see which paths are the argument of `toJSON(…)`.
        let mut lower = String::new();
        let mut chars = expr.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' | '\n' => {}
                '[' => {
                    let inner: String = chars.by_ref().take_while(|&d| d != ']').collect();
                    let inner = inner.trim().trim_matches(['\'', '"']);
                    lower.push('.');
                    if inner.is_empty() || inner == "*" || inner.bytes().all(|b| b.is_ascii_digit())
                    {
                        lower.push('*');
                    } else {
                        lower.push_str(&inner.to_ascii_lowercase());
                    }
                }
                c => lower.push(c.to_ascii_lowercase()),
            }
        }
        for path in contexts(expr) {
            let object =
                lower.contains(&format!("tojson({})", path.join(".").to_ascii_lowercase()));
            if let Some(ctx) = untrusted(cx.cat, &path, object) {
                // `github.event.workflow_run.*` in a workflow no
                // `workflow_run` triggers expands to nothing.
                if path.len() > 2 && path[1] == "event" && !cx.triggers.is_empty() {
                    if let Some(ts) = cx.cat.untrusted.payload_triggers.get(&path[2]) {
                        let active = cx
                            .triggers
                            .iter()
                            .any(|t| t == "workflow_call" || ts.contains(t));
                        if !active {
                            continue;
                        }
                    }
                }
                if !seen.insert((at, ctx.clone())) {
                    continue;
                }
                let pos = cx.locate(s, v, at);
                let f = cx.fact("ci_untrusted_input", pos);
                f.api = Some(what.to_string());
                f.name = Some(ctx.clone());
                f.reason = Some(format!(
                    "${{{{ {ctx} }}}} is expanded into the {what} text before it runs: its value can inject commands"
                ));
            }
        }
    }
}

/// Shell commands of a script line: split at `|`, `||`, `&&`, `;`, with
/// each piece's byte offset in the line and whether a single pipe precedes it.
fn pieces(line: &str) -> Vec<(usize, &str, bool)> {
    let b = line.as_bytes();
    let mut out = vec![];
    let (mut start, mut piped, mut i) = (0, false, 0);
    while i < b.len() {
        let two = b.get(i + 1).copied();
        let (cut, len, pipe) = match (b[i], two) {
            (b'|', Some(b'|')) | (b'&', Some(b'&')) => (true, 2, false),
            (b'|', _) => (true, 1, true),
            (b';', _) => (true, 1, false),
            _ => (false, 1, false),
        };
        if cut {
            out.push((start, &line[start..i], piped));
            start = i + len;
            piped = pipe;
        }
        i += len;
    }
    out.push((start, &line[start..], piped));
    out
}

/// Words of a command with their byte offsets in it.
fn words(s: &str) -> Vec<(usize, &str)> {
    let mut out = vec![];
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push((st, &s[st..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// Lines of a script with their byte offsets, shell comment lines left out
/// (a command named in a comment does not run; `${{ }}` in one still
/// expands, so [`untrusted_inputs`] reads the whole value).
fn value_lines(v: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut off = 0;
    v.split('\n')
        .map(move |l| {
            let at = off;
            off += l.len() + 1;
            (at, l.trim_end_matches('\r'))
        })
        .filter(|(_, l)| !l.trim_start().starts_with('#'))
}

fn pipe_to_shell(cx: &mut Ctx, r: &Node) {
    let Some(v) = r.str() else { return };
    let p = &cx.cat.pipe_to_shell;
    let mut found = vec![];
    for (lo, line) in value_lines(v) {
        let ps = pieces(line);
        for (i, (po, piece, _)) in ps.iter().enumerate() {
            let Some((wo, fetcher)) = words(piece)
                .into_iter()
                .find(|(_, w)| p.fetchers.iter().any(|f| f == base(w)))
            else {
                continue;
            };
            let shell = ps[i + 1..]
                .iter()
                .take_while(|(_, _, piped)| *piped)
                .find_map(|(_, q, _)| {
                    words(q)
                        .into_iter()
                        .map(|(_, w)| w)
                        .find(|w| !p.prefixes.iter().any(|x| x == w) && !w.contains('='))
                        .filter(|w| p.shells.iter().any(|s| s == base(w)))
                });
            if let Some(sh) = shell {
                found.push((lo + po + wo, format!("{} … | {}", base(fetcher), base(sh))));
                break;
            }
        }
    }
    for (at, what) in found {
        let pos = cx.locate(r, v, at);
        let f = cx.fact("ci_pipe_to_shell", pos);
        f.api = Some(what.clone());
        f.reason = Some(format!(
            "{what}: a downloaded script runs with no checksum or signature check"
        ));
    }
}

fn base(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

fn pr_fetch(cx: &mut Ctx, r: &Node, job: &str, privileged: &[&str]) {
    let Some(v) = r.str() else { return };
    let mut found = vec![];
    for (lo, line) in value_lines(v) {
        if let Some((i, c)) = cx
            .cat
            .triggers
            .pr_fetch_commands
            .iter()
            .find_map(|c| line.find(c.as_str()).map(|i| (i, c)))
        {
            found.push((lo + i, c.clone()));
        }
    }
    for (at, c) in found {
        let pos = cx.locate(r, v, at);
        let f = cx.fact("ci_pr_head_checkout", pos);
        f.api = Some(privileged.join(", "));
        f.name = Some(c.clone());
        f.reason = Some(format!(
            "job {job} of a {} workflow fetches the pull request's code ({c}) with the base repository's token and secrets",
            privileged.join("/")
        ));
    }
}

/// Publishing commands in a script: (command, position).
fn publish_commands(cx: &Ctx, r: &Node) -> Vec<(String, (u32, u32))> {
    let Some(v) = r.str() else { return vec![] };
    let mut out = vec![];
    for (lo, line) in value_lines(v) {
        for (po, piece, _) in pieces(line) {
            let ws: Vec<(usize, &str)> = words(piece)
                .into_iter()
                .skip_while(|(_, w)| {
                    cx.cat.publish.command_prefixes.iter().any(|p| p == w)
                        || (w.contains('=') && !w.starts_with('-'))
                })
                .collect();
            for c in &cx.cat.publish.commands {
                let cw: Vec<&str> = c.split_whitespace().collect();
                if ws.len() >= cw.len() && ws.iter().zip(&cw).all(|((_, a), b)| a == b) {
                    let at = lo + po + ws[0].0;
                    out.push((c.clone(), cx.locate(r, v, at)));
                    break;
                }
            }
        }
    }
    out
}

/// Does a node name the workflow's own token (`github.token`)?
fn uses_github_token(cat: &Catalogue, n: &Node) -> bool {
    n.scalars().iter().any(|s| {
        expressions(s).iter().any(|(_, e)| {
            contexts(e).iter().any(|p| {
                let p = p.join(".");
                cat.publish.github_token_contexts.contains(&p)
            })
        })
    })
}

/// `secrets.NAME` named anywhere under a node.
fn secret_names(n: &Node) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in n.scalars() {
        for (_, expr) in expressions(s) {
            for path in contexts(expr) {
                if path.len() >= 2 && path[0] == "secrets" {
                    out.insert(path[1].clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> Vec<(String, u32, u32, String)> {
        analyse(".github/workflows/x.yml", text, "production", catalogue())
            .unwrap()
            .0
            .into_iter()
            .map(|f| {
                (
                    f.kind.to_string(),
                    f.line,
                    f.column,
                    f.name.unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn catalogue_parses() {
        assert!(!catalogue().untrusted.contexts.is_empty());
    }

    #[test]
    fn markers_are_one_based() {
        let got = facts("on: push\njobs:\n  a:\n    steps:\n      - uses: foo/bar@v1\n");
        assert_eq!(
            got,
            vec![("ci_action_unpinned".into(), 5, 15, "foo/bar@v1".into())]
        );
    }

    #[test]
    fn expressions_in_scripts_are_placed_on_their_line() {
        let t = "on: issues\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n          echo hi\n          echo \"${{ github.event.issue.title }}\"\n";
        let got = facts(t);
        assert_eq!(
            got,
            vec![(
                "ci_untrusted_input".into(),
                8,
                17,
                "github.event.issue.title".into()
            )]
        );
    }

    #[test]
    fn contexts_normalise_indexes() {
        assert_eq!(
            contexts("toJSON(github.event.commits[0].message) || env.X"),
            vec![
                vec!["toJSON".to_string()],
                "github.event.commits.*.message"
                    .split('.')
                    .map(String::from)
                    .collect(),
                vec!["env".to_string(), "X".to_string()],
            ]
        );
        let cat = catalogue();
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        assert!(untrusted(cat, &p("github.event.pull_request.head.ref"), false).is_some());
        assert!(untrusted(cat, &p("github.event.commits.*.message"), false).is_some());
        assert!(untrusted(cat, &p("github.event.pull_request"), true).is_some());
        assert!(untrusted(cat, &p("github.event.pull_request"), false).is_none());
        assert!(untrusted(cat, &p("github.event.pull_request.head.sha"), false).is_none());
        assert!(untrusted(cat, &p("github.event"), true).is_none());
        assert!(untrusted(cat, &p("github.sha"), false).is_none());
    }

    #[test]
    fn job_permissions_replace_the_workflow_s() {
        let t = "on: push\npermissions:\n  id-token: write\njobs:\n  a:\n    permissions:\n      contents: read\n    steps:\n      - run: cargo publish\n  b:\n    steps:\n      - run: cargo publish\n";
        let got: Vec<(String, Option<String>)> =
            analyse(".github/workflows/x.yml", t, "production", catalogue())
                .unwrap()
                .0
                .into_iter()
                .map(|f| (f.name.unwrap_or_default(), f.via))
                .collect();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), Some("unknown".to_string())),
                ("b".to_string(), Some("oidc".to_string())),
            ]
        );
    }

    #[test]
    fn bad_yaml_is_an_error_without_its_text() {
        let e = analyse(
            "x.yml",
            "jobs: [secret-value\n  : {",
            "production",
            catalogue(),
        )
        .unwrap_err();
        assert!(!e.contains("secret-value"), "{e}");
        assert!(e.contains("line"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let t = "a: ".to_string() + &"[".repeat(200) + &"]".repeat(200);
        assert!(analyse("x.yml", &t, "production", catalogue()).is_err());
    }
}
