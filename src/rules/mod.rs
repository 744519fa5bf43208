//! `threatscan scan`: rules as data (`rules/scan/*.toml`, plus user rule
//! directories loaded the same way), evaluated over the facts and the threat
//! model, giving findings with stable fingerprints, inline suppressions and
//! baseline states; rendered as SARIF, JSON or rustc-style text.
//!
//! One module per job: [`engine`] matches rules, [`taint`] follows request
//! input to a sink, [`sarif`], [`text`] render, [`baseline`] compares runs.

pub mod baseline;
pub mod engine;
pub mod pattern;
pub mod sarif;
pub mod taint;
pub mod text;

use crate::extract::RuleQuery;
use crate::lang::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Severity of a rule's findings, ordered: note < warning < error.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// What a rule condition looks at.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum On {
    /// A fact (`threatscan facts`): kinds, api, safe, flags.
    Fact,
    /// An entry point of the model: kinds, methods, pattern words, auth, rate limit.
    Entry,
    /// An interaction of the model (entry point → sink through the call graph).
    Flow,
    /// A tree-sitter query over every file of a language.
    Query,
}

/// One condition of a rule (`[[rule.when]]`); a rule fires where any of its
/// conditions holds. Every field given must hold.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub on: On,
    /// Fact kinds (`on = "fact"`) or entry point kinds (`on = "entry"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Resolved API names (catalogue patterns: `a.b.*`, `a.**`) of the fact or sink.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api: Vec<String>,
    /// `false`: the fact or sink is not known to be safe; `true`: it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe: Option<bool>,
    /// Literal keyword arguments the fact recorded: equal, or contained in a list.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flags: BTreeMap<String, serde_json::Value>,
    /// Values flags take when the call leaves them out (library defaults).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaults: BTreeMap<String, serde_json::Value>,
    /// Entry: any of these HTTP methods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Entry: the route pattern contains any of these (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pattern_words: Vec<String>,
    /// Entry: whether an auth guard is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<bool>,
    /// Entry: whether an auth guard attached to the route itself (a
    /// decorator, dependency, extractor or permission class; not an
    /// application-wide hook or middleware) rejects anonymous requests. A
    /// route that checks a password is reachable anonymously whatever the
    /// application's hook says: the hook exempts it, or nobody could log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_auth: Option<bool>,
    /// Entry: whether a rate limiter is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<bool>,
    /// Entry: whether the handler, or a function it calls, verifies or
    /// issues a credential (a password or token check, a session login,
    /// a token minted: `[behaviour]` credential APIs), by its summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handles_credential: Option<bool>,
    /// Flow: entry point kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry_kinds: Vec<String>,
    /// Flow: sink kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sink_kinds: Vec<String>,
    /// Flow: the sink's arguments derive from request input along the chain.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_request: bool,
    /// Fact: the sink's argument (see `argument`) derives, in its function,
    /// from what a language model returned (an `llm_call` result, directly,
    /// through locals, or through a repository function returning one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_llm: bool,
    /// Fact or flow: no function on the way to the sink asks a person first
    /// (a catalogued approval call such as `click.confirm` or LangGraph's
    /// `interrupt`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ungated: bool,
    /// Flow, with `from_request`: only this argument of the sink counts
    /// (position, from 0), or the first of `argument_keywords` present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument: Option<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argument_keywords: Vec<String>,
    /// Flow, with `argument`: request data must be part of text the code
    /// builds (f-string, `%`, `+`, `.format`, `format!`), not a value passed
    /// on its own (a bound SQL parameter).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub built: bool,
    /// Flow, with `argument`: the receiver of a method sink counts too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub argument_receiver: bool,
    /// Flow: no catalogued evidence of these kinds in any function of the chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub without_evidence: Vec<String>,
    /// Any condition: no finding in files matching these globs
    /// (gitignore-style, on the repo-relative path: `**/tests/**`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_exclude: Vec<String>,
    /// The level of this condition's findings, when not the rule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Why this condition's findings have their level (added to the message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Query: `python` or `rust`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Query: the tree-sitter query text (`@match` marks the reported node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Query: a `.scm` file, relative to the rule file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_file: Option<String>,
}

/// `[[rule.adjust]]`: a proportionate level for findings on entry points
/// (and flows from them) that meet a condition.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Adjust {
    /// The route pattern or the handler's name contains any of these words
    /// (case-insensitive; `-` and `_` count as the same).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// The entry point has a required authentication guard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<bool>,
    /// The entry point has an authentication guard that lets anonymous
    /// requests through: an optional identity, or a check that rejects
    /// only under some configuration or for some request data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional_auth: Option<bool>,
    /// The route is registered under a condition naming any of these words
    /// (`if settings.ENVIRONMENT == "local":`): it exists only there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub condition_words: Vec<String>,
    /// The entry point reaches no sink of these kinds through the call
    /// graph (no write: database, file, process, outbound call).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reaches_none_of: Vec<String>,
    /// A flow whose only request data reaching the sink is one route
    /// parameter that matches a single path segment (it cannot contain
    /// `/`, see the frameworks' `path_params`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_segment: Option<bool>,
    /// A flow into a sink with one of these operations (`read`, `list`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<String>,
    /// The level to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Or: how many levels lower (error → warning → note).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lower: u8,
    /// Added to the message in parentheses; `{guard}` is the guard's name.
    pub reason: String,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// A rule (`[[rule]]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable opaque id (`TS1001`): what suppressions, baselines and GitHub key on.
    pub id: String,
    /// Readable kebab-case name (`unauthenticated-state-change`).
    pub name: String,
    pub short: String,
    pub full: String,
    /// Markdown: why, the fix, an example.
    pub help: String,
    /// STRIDE category id (rules/stride.toml).
    pub stride: String,
    pub cwe: u32,
    pub level: Level,
    /// GitHub's 0–10 `security-severity`.
    pub security_severity: f64,
    /// Message template: `{api}`, `{name}`, `{reason}`, `{flags}`, `{methods}`,
    /// `{pattern}`, `{handler}`, `{entry}`, `{chain}`, `{chain_len}`, `{match}`, `{function}`.
    pub message: String,
    #[serde(default = "default_precision")]
    pub precision: String,
    /// Extra tags (`security` and `external/cwe/cwe-N` are always added).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub when: Vec<When>,
    /// How the level of a finding is chosen: the first adjustment whose
    /// condition holds sets or lowers the level and adds its reason to the
    /// message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjust: Vec<Adjust>,
    /// Where the rule was loaded from (`builtin:auth.toml` or a path).
    #[serde(skip_deserializing)]
    pub origin: String,
}

fn default_precision() -> String {
    "medium".into()
}

impl Rule {
    /// SARIF/GitHub tags: `security`, the CWE, the STRIDE category, extras; at most 20.
    pub fn all_tags(&self) -> Vec<String> {
        let mut t = vec![
            "security".to_string(),
            format!("external/cwe/cwe-{}", self.cwe),
            format!("stride/{}", self.stride),
        ];
        for x in &self.tags {
            if !t.contains(x) {
                t.push(x.clone());
            }
        }
        t.truncate(20);
        t
    }

    /// "level error · security-severity 7.5 · STRIDE spoofing · CWE-306 · precision medium"
    pub fn metadata_line(&self) -> String {
        format!(
            "level {} · security-severity {:.1} · STRIDE {} · CWE-{} · precision {}",
            self.level.as_str(),
            self.security_severity,
            self.stride,
            self.cwe,
            self.precision
        )
    }

    /// Anchor of the rule's section in docs/rules.md.
    pub fn anchor(&self) -> String {
        format!("{}-{}", self.id.to_lowercase(), self.name)
    }

    pub fn help_uri(&self) -> String {
        format!(
            "{}/blob/main/docs/rules.md#{}",
            env!("CARGO_PKG_REPOSITORY"),
            self.anchor()
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Rule>,
}

/// A query condition compiled for extraction: which rule and condition it serves.
#[derive(Clone, Copy, Debug)]
pub struct QueryRef {
    pub rule: usize,
}

/// The loaded rules, and their compiled queries (handed to the scan).
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Shared with the scan, which runs them during extraction.
    pub queries: std::sync::Arc<Vec<RuleQuery>>,
    /// `queries[i]` belongs to `query_rules[i]`.
    pub query_rules: Vec<QueryRef>,
}

const BUILTIN: &[(&str, &str)] = &[
    ("auth.toml", include_str!("../../rules/scan/auth.toml")),
    (
        "deserialization.toml",
        include_str!("../../rules/scan/deserialization.toml"),
    ),
    (
        "injection.toml",
        include_str!("../../rules/scan/injection.toml"),
    ),
    ("config.toml", include_str!("../../rules/scan/config.toml")),
    (
        "secrets.toml",
        include_str!("../../rules/scan/secrets.toml"),
    ),
    (
        "supply_chain.toml",
        include_str!("../../rules/scan/supply_chain.toml"),
    ),
];

const BUILTIN_QUERIES: &[(&str, &str)] = &[(
    "queries/debug-setting.scm",
    include_str!("../../rules/scan/queries/debug-setting.scm"),
)];

/// The repository's `.threatscan.toml` (`[scan] rules = [...]`, `disable = [...]`,
/// `[catalog] frameworks = [...]`).
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub scan: ScanConfig,
    #[serde(default)]
    pub catalog: CatalogConfig,
    /// `[scope]`: globs that put files in a code scope.
    #[serde(default)]
    pub scope: crate::scope::ScopeConfig,
    /// `[verify]`: how `threatscan verify` maps a document's elements to code.
    #[serde(default)]
    pub verify: VerifyConfig,
    /// Set when loaded from a repository: what its files must stay in.
    #[serde(skip)]
    pub confined: Option<PathBuf>,
}

/// `[verify.map]`: an element as a threat model names it ("Backend Server")
/// → the code it is: a module (`acme.server`), a repository path (a file, or
/// a folder and everything under it), or a class name.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    #[serde(default)]
    pub map: std::collections::BTreeMap<String, String>,
}

/// Catalogue files of the repository's own, loaded with the built-in ones.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// `[[framework]]` spec files, relative to the repository root.
    #[serde(default)]
    pub frameworks: Vec<PathBuf>,
}

/// The largest configuration, rule, query or catalogue file read.
pub const MAX_CONFIG_SIZE: u64 = 1 << 20;

/// Queries nested deeper than this (parentheses and brackets) are refused
/// before tree-sitter compiles them: its query parser recurses per level.
pub const MAX_QUERY_NESTING: usize = 64;

/// At most this many rules are loaded in all (built-in, `--rules`
/// directories and the repository's own).
pub const MAX_RULES: usize = 10_000;

/// Compile one rule query: refused when nested past [`MAX_QUERY_NESTING`];
/// errors give the kind and position, never the text (it may come from
/// anywhere).
pub fn compile_query(origin: &str, lang: Lang, text: &str) -> Result<tree_sitter::Query, String> {
    let depth = query_nesting(text);
    if depth > MAX_QUERY_NESTING {
        return Err(format!(
            "{origin}: query nested {depth} levels deep, over the limit of {MAX_QUERY_NESTING}"
        ));
    }
    tree_sitter::Query::new(&lang.grammar(), text).map_err(|e| {
        format!(
            "{origin}: query does not compile: {:?} error at line {}, column {}",
            e.kind,
            e.row + 1,
            e.column + 1
        )
    })
}

/// Load one rule file's text as `--rules` would, every query file it names
/// reading as `query`; the number of rules (for fuzzing the loader).
pub fn load_rule_text(text: &str, query: &str) -> Result<usize, String> {
    let mut rules = vec![];
    let mut queries = vec![];
    let lookup = |_: &str| Ok(query.to_string());
    add_file("fuzz.toml", text, &lookup, &mut rules, &mut queries)?;
    for (_, lang, q, origin) in &queries {
        compile_query(origin, *lang, q)?;
    }
    Ok(rules.len())
}

/// The deepest nesting of `(`/`[` in a query, outside strings and comments.
pub fn query_nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '(' | '[' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            ';' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    max
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Rule directories, relative to the repository root.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Rule ids or names not to run.
    #[serde(default)]
    pub disable: Vec<String>,
}

pub const CONFIG_FILE: &str = ".threatscan.toml";

impl Config {
    /// Read `ROOT/.threatscan.toml` if there is one. The file and every path
    /// it names must be regular files or directories inside the repository:
    /// a repository under review is untrusted, and its configuration must not
    /// make threatscan read (or print) anything else. Errors give positions,
    /// never contents.
    pub fn load(root: &Path) -> Result<Config, String> {
        use crate::fsread;
        let path = root.join(CONFIG_FILE);
        let text = match fsread::read_text(&path, MAX_CONFIG_SIZE, Some(root)) {
            Ok(t) => t,
            Err(fsread::ReadError::Missing) => return Ok(Config::default()),
            Err(e) => return Err(fsread::message("", &path, &e)),
        };
        let mut c: Config = toml::from_str(&text)
            .map_err(|e| format!("{}: {}", path.display(), fsread::toml_error(&text, &e)))?;
        let confine = |r: &Path| {
            fsread::join_confined(root, r)
                .ok()
                .filter(|p| !p.exists() || fsread::within(root, p))
                .ok_or_else(|| {
                    format!(
                        "{}: {} is outside the repository",
                        path.display(),
                        r.display()
                    )
                })
        };
        for r in &mut c.scan.rules {
            *r = confine(r)?;
        }
        for f in &mut c.catalog.frameworks {
            *f = confine(f)?;
        }
        c.confined = Some(root.to_path_buf());
        Ok(c)
    }

    /// The repository's framework specs.
    pub fn frameworks(&self) -> Result<Vec<crate::frameworks::spec::FrameworkSpec>, String> {
        use crate::fsread;
        let mut out = vec![];
        for p in &self.catalog.frameworks {
            let text = fsread::read_text(p, MAX_CONFIG_SIZE, self.confined.as_deref())
                .map_err(|e| fsread::message("framework file ", p, &e))?;
            out.extend(crate::frameworks::spec::parse_file(p, &text)?);
        }
        Ok(out)
    }
}

impl RuleSet {
    /// The built-in rules only.
    pub fn builtin() -> RuleSet {
        RuleSet::load(&[], &[], &[]).expect("built-in rules are valid (checked by a unit test)")
    }

    /// Built-in rules, then every `*.toml` of each directory (sorted by name),
    /// minus the disabled ids or names. `repo` directories come from a
    /// repository's configuration: their rule and query files must stay in
    /// the repository (`root`); `user` directories are the command line's.
    /// Files are read through [`crate::fsread`] either way (regular files,
    /// no symbolic links, size-capped).
    pub fn load(user: &[PathBuf], repo: &[PathBuf], disable: &[String]) -> Result<RuleSet, String> {
        RuleSet::load_in(user, repo, None, disable)
    }

    /// [`RuleSet::load`] with the repository root the `repo` directories'
    /// files are confined to.
    pub fn load_in(
        user: &[PathBuf],
        repo: &[PathBuf],
        root: Option<&Path>,
        disable: &[String],
    ) -> Result<RuleSet, String> {
        use crate::fsread;
        let mut rules: Vec<Rule> = vec![];
        let mut query_texts: Vec<(usize, Lang, String, String)> = vec![];
        for (file, text) in BUILTIN {
            let origin = format!("builtin:rules/scan/{file}");
            let lookup = |rel: &str| {
                BUILTIN_QUERIES
                    .iter()
                    .find(|(p, _)| *p == rel)
                    .map(|(_, t)| t.to_string())
                    .ok_or_else(|| format!("{origin}: no built-in query file {rel}"))
            };
            add_file(&origin, text, &lookup, &mut rules, &mut query_texts)?;
        }
        // The built-in rules' queries come first.
        let builtin_queries = query_texts.len();
        let dirs = repo
            .iter()
            .map(|d| (d, root))
            .chain(user.iter().map(|d| (d, None)));
        for (dir, confine) in dirs {
            if confine.is_some_and(|r| dir.exists() && !fsread::within(r, dir)) {
                return Err(format!(
                    "rule directory {} is outside the repository",
                    dir.display()
                ));
            }
            let entries = std::fs::read_dir(dir).map_err(|e| {
                format!(
                    "cannot read rule directory {}: {}",
                    dir.display(),
                    crate::walk::plain_io(&e)
                )
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect();
            files.sort();
            for path in files {
                let text = fsread::read_text(&path, MAX_CONFIG_SIZE, confine)
                    .map_err(|e| fsread::message("rule file ", &path, &e))?;
                let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
                let origin = path.display().to_string();
                let lookup = |rel: &str| {
                    // A repository's query files stay in the repository.
                    let p = match confine {
                        Some(_) => fsread::join_confined(&base, Path::new(rel))
                            .map_err(|e| format!("{origin}: cannot read query file {rel}: {e}"))?,
                        None => base.join(rel),
                    };
                    fsread::read_text(&p, MAX_CONFIG_SIZE, confine).map_err(|e| {
                        format!("{origin}: {}", fsread::message("query file ", &p, &e))
                    })
                };
                add_file(&origin, &text, &lookup, &mut rules, &mut query_texts)?;
                if rules.len() > MAX_RULES {
                    return Err(format!(
                        "{origin}: more than {MAX_RULES} rules in all; refusing the rest"
                    ));
                }
            }
        }
        // Disabled rules go, and so do their queries.
        let keep: Vec<bool> = rules
            .iter()
            .map(|r| !disable.iter().any(|d| *d == r.id || *d == r.name))
            .collect();
        for d in disable {
            if !rules.iter().any(|r| r.id == *d || r.name == *d) {
                return Err(format!("cannot disable {d}: no rule has that id or name"));
            }
        }
        let mut new_index = vec![usize::MAX; rules.len()];
        let mut kept = vec![];
        for (i, r) in rules.into_iter().enumerate() {
            if keep[i] {
                new_index[i] = kept.len();
                kept.push(r);
            }
        }
        let mut queries = vec![];
        let mut query_rules = vec![];
        for (i, (ri, lang, text, origin)) in query_texts.into_iter().enumerate() {
            if new_index[ri] == usize::MAX {
                continue;
            }
            let id = kept[new_index[ri]].id.clone();
            queries.push(if i < builtin_queries {
                // Known to compile (a test compiles each): compiled when a
                // file of its language first needs it.
                RuleQuery::lazy(id, text.to_string(), lang)
            } else {
                // The error's position and kind, not its message: that
                // quotes the query text, which may come from anywhere.
                let query = compile_query(&origin, lang, &text)?;
                RuleQuery::new(id, text.to_string(), lang, query)
            });
            query_rules.push(QueryRef {
                rule: new_index[ri],
            });
        }
        Ok(RuleSet {
            rules: kept,
            queries: std::sync::Arc::new(queries),
            query_rules,
        })
    }

    pub fn get(&self, id_or_name: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id_or_name) || r.name == id_or_name)
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }
}

const STRIDE: &[&str] = &[
    "spoofing",
    "tampering",
    "repudiation",
    "information_disclosure",
    "denial_of_service",
    "elevation_of_privilege",
];

fn add_file(
    origin: &str,
    text: &str,
    read_query: &dyn Fn(&str) -> Result<String, String>,
    rules: &mut Vec<Rule>,
    queries: &mut Vec<(usize, Lang, String, String)>,
) -> Result<(), String> {
    let file: RuleFile = toml::from_str(text)
        .map_err(|e| format!("{origin}: {}", crate::fsread::toml_error(text, &e)))?;
    for mut r in file.rule {
        let at = format!("{origin}: rule {}", r.id);
        validate(&r).map_err(|e| format!("{at}: {e}"))?;
        if let Some(prev) = rules.iter().find(|p| p.id == r.id || p.name == r.name) {
            return Err(format!(
                "{at}: id or name already used by {} ({}) in {}",
                prev.id, prev.name, prev.origin
            ));
        }
        r.origin = origin.to_string();
        for w in &r.when {
            for g in &w.paths_exclude {
                globset::Glob::new(g)
                    .map_err(|e| format!("{at}: bad paths_exclude glob {g:?}: {e}"))?;
            }
        }
        let ri = rules.len();
        for w in &mut r.when {
            if w.on != On::Query {
                continue;
            }
            let lang = match w
                .language
                .as_deref()
                .and_then(|n| Lang::ALL.into_iter().find(|l| l.name() == n))
            {
                Some(l) => l,
                None => {
                    let names: Vec<String> = Lang::ALL
                        .iter()
                        .map(|l| format!("{:?}", l.name()))
                        .collect();
                    return Err(format!(
                        "{at}: a query condition needs language = {} (got {:?})",
                        names.join(" or "),
                        w.language
                    ));
                }
            };
            let q = match (&w.query, &w.query_file) {
                (Some(q), None) => q.clone(),
                (None, Some(f)) => read_query(f)?,
                _ => {
                    return Err(format!(
                        "{at}: a query condition needs exactly one of query or query_file"
                    ))
                }
            };
            queries.push((ri, lang, q, at.clone()));
        }
        rules.push(r);
    }
    Ok(())
}

fn validate(r: &Rule) -> Result<(), String> {
    let id_ok = !r.id.is_empty()
        && r.id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && r.id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !id_ok {
        return Err("id must be letters, digits, '-' or '_', starting with a letter".into());
    }
    let kebab = !r.name.is_empty()
        && r.name.split('-').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !kebab || r.name.eq_ignore_ascii_case(&r.id) {
        return Err(format!(
            "name {:?} must be kebab-case (lower-case words joined by '-') and differ from the id",
            r.name
        ));
    }
    if !STRIDE.contains(&r.stride.as_str()) {
        return Err(format!(
            "stride {:?} is not one of {}",
            r.stride,
            STRIDE.join(", ")
        ));
    }
    if !(0.0..=10.0).contains(&r.security_severity) {
        return Err("security_severity must be between 0.0 and 10.0".into());
    }
    if r.when.is_empty() {
        return Err("needs at least one [[rule.when]] condition".into());
    }
    if r.short.trim().is_empty() || r.full.trim().is_empty() || r.message.trim().is_empty() {
        return Err("short, full and message must not be empty".into());
    }
    Ok(())
}

/// A located finding.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub level: Level,
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The call chain from the entry point to the finding (flow rules), or
    /// the entry point itself.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub related: Vec<Related>,
    /// Stable identity: unchanged when unrelated lines move.
    pub fingerprint: String,
    /// Justification when an inline `threatscan: ignore` comment covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    /// `new`, `unchanged` or `absent` when compared with a baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The source line the finding starts on, or a window of it around the
    /// finding when the line is long (see [`SNIPPET_CHARS`]).
    #[serde(skip)]
    pub snippet: String,
    /// The character of the line the snippet starts at (0 unless windowed).
    #[serde(skip)]
    pub snippet_from: u32,
}

/// The longest snippet shown for a finding, in characters: a window of a
/// longer line (minified or generated code) around the finding.
pub const SNIPPET_CHARS: usize = 160;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Related {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl Finding {
    /// Counts toward `--fail-on`: not suppressed and not already in the baseline.
    pub fn counts(&self) -> bool {
        self.suppressed.is_none() && matches!(self.baseline.as_deref(), None | Some("new"))
    }
}

/// Render docs/rules.md from the rules (kept current by a test).
pub fn rules_markdown(set: &RuleSet) -> String {
    let mut s = String::from(
        "# threatscan rules\n\nGenerated by `threatscan rules --format markdown` from `rules/scan/` and `rules/verify.toml`; do not edit by hand.\n\n| Id | Name | Level | Severity | STRIDE | CWE |\n|---|---|---|---|---|---|\n",
    );
    for r in &set.rules {
        s.push_str(&format!(
            "| [{}](#{}) | {} | {} | {:.1} | {} | [CWE-{}](https://cwe.mitre.org/data/definitions/{}.html) |\n",
            r.id,
            r.anchor(),
            r.name,
            r.level.as_str(),
            r.security_severity,
            r.stride,
            r.cwe,
            r.cwe
        ));
    }
    for r in &set.rules {
        s.push_str(&format!(
            "\n## {} {}\n\n**{}** · {}\n\n{}\n\n{}\n",
            r.id,
            r.name,
            r.short,
            r.metadata_line(),
            r.full.trim(),
            r.help.trim()
        ));
        s.push_str("\nMatches when any of:\n\n```toml\n");
        for w in &r.when {
            s.push_str(&format!(
                "[[rule.when]]\n{}\n",
                toml::to_string(w).unwrap_or_default().trim_end()
            ));
        }
        s.push_str("```\n");
        s.push_str(&format!("\n{}\n", r.level_doc()));
    }
    s
}

impl Rule {
    /// How the level of this rule's findings is chosen, for its docs.
    pub fn level_doc(&self) -> String {
        let mut s = format!("**Level**: {} by default", self.level.as_str());
        for w in &self.when {
            if let Some(l) = w.level {
                s.push_str(&format!(
                    "; {} for matches of the `{}` condition ({})",
                    l.as_str(),
                    match w.on {
                        On::Fact => "fact",
                        On::Entry => "entry",
                        On::Flow => "flow",
                        On::Query => "query",
                    },
                    w.reason.as_deref().unwrap_or("see above")
                ));
            }
        }
        for a in &self.adjust {
            let mut cond = vec![];
            if !a.words.is_empty() {
                cond.push(format!(
                    "the route or handler name contains {}",
                    a.words
                        .iter()
                        .map(|w| format!("`{w}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !a.condition_words.is_empty() {
                cond.push(format!(
                    "the route is registered only under a condition naming {}",
                    a.condition_words
                        .iter()
                        .map(|w| format!("`{w}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !a.reaches_none_of.is_empty() {
                cond.push(format!(
                    "the handler reaches no {} sink",
                    a.reaches_none_of.join(", ")
                ));
            }
            if let Some(one) = a.one_segment {
                cond.push(format!(
                    "the request data reaching the sink is {} one single-segment route parameter",
                    if one { "only" } else { "more than" }
                ));
            }
            if !a.ops.is_empty() {
                cond.push(format!("the sink's operation is {}", a.ops.join(" or ")));
            }
            if let Some(o) = a.optional_auth {
                cond.push(if o {
                    "the entry point has an authentication guard that lets anonymous requests through".to_string()
                } else {
                    "the entry point has no optional authentication guard".to_string()
                });
            }
            if let Some(auth) = a.auth {
                cond.push(if auth {
                    "the entry point requires authentication".to_string()
                } else {
                    "the entry point has no required authentication".to_string()
                });
            }
            let to = match (a.level, a.lower) {
                (Some(l), _) => l.as_str().to_string(),
                (None, n) => format!("{n} level{} lower", if n == 1 { "" } else { "s" }),
            };
            s.push_str(&format!(
                "; {to} when {} ({})",
                cond.join(" and "),
                a.reason.replace("{guard}", "the guard")
            ));
        }
        s.push('.');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load_and_are_complete() {
        let set = RuleSet::builtin();
        assert!(set.rules.len() >= 12);
        assert_eq!(set.queries.len(), 1);
        // Built-in queries are compiled on first use, so each must compile.
        for q in set.queries.iter() {
            assert!(query_nesting(&q.text) <= MAX_QUERY_NESTING, "{}", q.rule_id);
            assert!(q.query().is_some(), "{}: query does not compile", q.rule_id);
        }
        for r in &set.rules {
            assert!(r.id.starts_with("TS"), "{}", r.id);
            assert!(
                r.help.contains("**Fix**"),
                "{} has no fix in its help",
                r.id
            );
            assert!(r
                .all_tags()
                .contains(&format!("external/cwe/cwe-{}", r.cwe)));
        }
        assert_eq!(set.get("TS2001").unwrap().name, "unsafe-yaml-load");
        assert_eq!(set.get("unsafe-yaml-load").unwrap().id, "TS2001");
    }

    #[test]
    fn bad_rules_are_rejected_with_the_reason() {
        let mut rules = vec![];
        let mut q = vec![];
        let no_query = |_: &str| -> Result<String, String> { Err("none".into()) };
        let bad_name = r#"
[[rule]]
id = "X1"
name = "X1"
short = "s"
full = "f"
help = "h"
stride = "spoofing"
cwe = 1
level = "note"
security_severity = 1.0
message = "m"
[[rule.when]]
on = "fact"
"#;
        let e = add_file("t.toml", bad_name, &no_query, &mut rules, &mut q).unwrap_err();
        assert!(e.contains("kebab-case"), "{e}");
        let unknown = bad_name.replace("name = \"X1\"", "name = \"x-one\"\nbogus = 1");
        let e = add_file("t.toml", &unknown, &no_query, &mut rules, &mut q).unwrap_err();
        assert!(e.contains("bogus"), "{e}");
        let bad_stride = bad_name
            .replace("name = \"X1\"", "name = \"x-one\"")
            .replace("spoofing", "spoof");
        let e = add_file("t.toml", &bad_stride, &no_query, &mut rules, &mut q).unwrap_err();
        assert!(e.contains("stride"), "{e}");
    }
}
