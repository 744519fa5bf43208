//! Claims: which mitigation a unit of text talks about, whether it says the
//! mitigation is there, absent, or not applicable, and what the code says.

use super::refs::{Location, Reference};
use crate::facts::Fact;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
pub struct Vocabulary {
    pub absence_words: Vec<String>,
    pub na_words: Vec<String>,
    pub mitigation: Vec<MitigationSpec>,
    pub scope: BTreeMap<String, Vec<String>>,
    /// `.tm7` threats that name no mitigation: the one their STRIDE category calls for.
    #[serde(default)]
    pub tm7_categories: BTreeMap<String, String>,
    /// The SARIF rules of `verify --format sarif`.
    #[serde(default)]
    pub result: Vec<ResultSpec>,
    /// How a reviewer reads a sentence before judging it.
    pub prose: Prose,
    /// Evidence recognised by what code does, not by a library's name.
    pub behaviour: Behaviour,
}

#[derive(Debug, Deserialize)]
pub struct Behaviour {
    /// Header names (lower case) whose setting is `security_header` evidence.
    pub security_headers: Vec<String>,
    /// Cookie attributes whose setting is `cookie_flags` evidence.
    pub cookie_flags: Vec<String>,
    /// Methods a web framework calls to check a request's CSRF token: a class
    /// that defines one implements its own CSRF check (`csrf_protection`).
    pub csrf_hooks: Vec<String>,
    /// Calls and attributes that measure a size (`len`, `st_size`): a
    /// rejecting comparison of one is `size_check` evidence.
    #[serde(default)]
    pub size_measures: Vec<String>,
    /// Methods that cut a value to a size in place (`truncate`): a size
    /// comparison whose block calls one on the measured value is a limit.
    #[serde(default)]
    pub truncators: Vec<String>,
    /// The last part of a `database` sink's API that sends a query: such a
    /// call is `sql_query` evidence.
    #[serde(default)]
    pub query_methods: Vec<String>,
    /// Keyword arguments of a query call that carry its SQL text, and that
    /// bind values beside it.
    #[serde(default)]
    pub sql_text_keywords: Vec<String>,
    #[serde(default)]
    pub bound_value_keywords: Vec<String>,
}

/// Sentences that are not claims about the code, and claims the code cannot decide.
#[derive(Debug, Deserialize)]
pub struct Prose {
    /// Headings whose content is not a claim about the code (assumptions, revision history).
    pub non_claim_sections: Vec<String>,
    /// Words whose period ends no sentence ("e.g", "i.e"), lower case.
    #[serde(default)]
    pub abbreviations: Vec<String>,
    /// Headings whose sentences are claims only where they cite the
    /// repository's code (assumptions).
    #[serde(default)]
    pub cited_only_sections: Vec<String>,
    /// Headings whose items record gaps: their claims are absences.
    pub gap_sections: Vec<String>,
    /// Headings whose content is about operations or deployment: unverified.
    pub deployment_sections: Vec<String>,
    /// Words that make a sentence advice rather than a description.
    pub recommendation_words: Vec<String>,
    /// Imperative openings ("Use TLS 1.3", "Require authentication").
    pub recommendation_starts: Vec<String>,
    /// Openings of a sentence that describes an attack, not a defence.
    pub threat_starts: Vec<String>,
    /// Components and processes outside the application's code.
    pub deployment_words: Vec<String>,
    /// Hedges that make a mitigation claim an absence ("minimal logging").
    pub weak_words: Vec<String>,
    /// Words of a lead-in that introduces a list of topics, not claims
    /// ("this section helps you learn about:").
    #[serde(default)]
    pub topic_leads: Vec<String>,
    /// Words that make a named code span a configuration setting ("option",
    /// "flag", "environment variable", "set").
    #[serde(default)]
    pub setting_words: Vec<String>,
    /// Words of a column or heading about controls: a row ID cited there
    /// carries the cited row's claims.
    #[serde(default)]
    pub control_words: Vec<String>,
    /// Words that say a setting is off, or on, by default.
    #[serde(default)]
    pub default_phrases: Vec<String>,
    #[serde(default)]
    pub default_off_words: Vec<String>,
    #[serde(default)]
    pub default_on_words: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct ResultSpec {
    pub id: String,
    pub name: String,
    pub level: String,
    pub short: String,
    pub full: String,
    pub help: String,
}

#[derive(Debug, Deserialize)]
pub struct MitigationSpec {
    pub kind: String,
    pub words: Vec<String>,
    pub evidence: Vec<String>,
    /// Fact kinds that contradict a presence claim when none of `evidence`
    /// is there (processes run with no isolation primitive).
    #[serde(default)]
    pub against: Vec<String>,
    /// Why a presence claim with neither evidence nor counter-evidence is
    /// `unverified` rather than `contradicted` (the code cannot decide it).
    #[serde(default)]
    pub undecided: Option<String>,
    /// Phrases that make a claim about a connection the application opens to
    /// another component ("the endpoint is accessed through"): evidence of
    /// this kind describes the application's own listeners, so it cannot
    /// decide such a claim.
    #[serde(default)]
    pub outbound: Vec<String>,
    /// Scan rules (ids) whose findings in the element contradict a presence
    /// claim and support an absence claim (TS3004 for parameterized queries).
    #[serde(default)]
    pub against_findings: Vec<String>,
    /// Short labels of this kind in a table's column header, matched as
    /// whole words ("Auth", "AuthZ"): in prose they name topics, not claims.
    #[serde(default)]
    pub header_words: Vec<String>,
    /// Words of this kind (also in `words`) that themselves state its
    /// absence: "injected verbatim", "runs no server".
    #[serde(default)]
    pub absent_words: Vec<String>,
    /// More specific kinds: a sentence that also names one of these is
    /// about that kind, not this one.
    #[serde(default)]
    pub yields_to: Vec<String>,
}

pub fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(|| {
        toml::from_str(include_str!("../../rules/verify.toml")).expect("rules/verify.toml parses")
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct Claim {
    pub line: u32,
    /// Set where a line holds more than one claim's source (`.tm7` files are one long line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The first and last lines of the claim's sentence, when it spans
    /// several (a list item wrapped over lines); `line` is where its
    /// mitigation word is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentence_lines: Option<(u32, u32)>,
    /// The `.tm7` threat the claim comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat: Option<ThreatRef>,
    pub context: String,
    pub mitigation: String,
    /// present, absent, not_applicable
    pub polarity: String,
    /// supported, contradicted, unverified
    pub status: String,
    pub reason: String,
    /// The element the claim was judged on: what the document names and its
    /// files (absent: the whole repository).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    pub evidence: Vec<Location>,
    /// The document section it is in, for the text report.
    #[serde(skip)]
    pub section: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ThreatRef {
    pub id: String,
    pub state: String,
    pub title: String,
}

/// The code evidence, gathered once per run.
pub struct Evidence<'a> {
    pub routes: Vec<&'a Fact>,
    pub facts: &'a [Fact],
    pub extra: &'a [Fact],
    /// Rejecting branches on parameters (input validation by behaviour).
    pub validations: Vec<Fact>,
    pub symbols: &'a super::refs::Symbols<'a>,
    pub graph: crate::model::callgraph::CallGraph<'a>,
    /// Elements already mapped, by their files.
    pub elements: std::cell::RefCell<BTreeMap<Vec<String>, std::rc::Rc<Element>>>,
    /// `[verify.map]` of `.threatscan.toml`: element name → its files.
    pub pins: Vec<(String, Vec<String>)>,
    /// The application as a whole: its entry points and what they call
    /// (`None` inside: a library with no entry point).
    pub app: std::cell::RefCell<BTreeMap<Option<String>, Option<std::rc::Rc<Element>>>>,
    /// The package the document being verified belongs to (`libs/sdk/`, the
    /// nearest directory above it with a manifest), when it is not the whole
    /// repository: claims that name no code are judged on it.
    pub package: std::cell::RefCell<Option<String>>,
    /// Settings already looked up (a document names the same ones often).
    pub settings: std::cell::RefCell<
        rustc_hash::FxHashMap<super::settings::Named, Option<super::settings::Defined>>,
    >,
    /// The scanned repository, for scan rules run as evidence.
    pub scan: &'a crate::Scan,
    /// Findings of the scan rules some mitigation names in `against_findings`
    /// (warning or error), computed on first use.
    pub findings: std::cell::OnceCell<Vec<RuleHit>>,
}

/// A scan finding used as evidence: the rule, where, and in which function.
pub struct RuleHit {
    pub rule: String,
    pub loc: Location,
    pub function: Option<String>,
}

/// The code a claim is about: the files of the element it names (the code
/// its row or sentence cites, or a class its context names) and every
/// function reachable from them.
#[derive(Debug, Default)]
pub struct Element {
    /// How the document names it, and its files.
    pub name: String,
    pub files: std::collections::BTreeSet<String>,
    functions: rustc_hash::FxHashSet<String>,
}

impl Element {
    fn has(&self, f: &Fact) -> bool {
        // A framework hook (a CSRF check the framework calls on every
        // request) belongs to the application and its routes.
        (self.files.is_empty() && f.via.as_deref() == Some("framework hook"))
            || self.files.contains(&f.file)
            || f.function
                .as_ref()
                .is_some_and(|s| self.functions.contains(s))
            || f.handler
                .as_ref()
                .is_some_and(|s| self.functions.contains(s))
    }
    pub fn describe(&self) -> String {
        if self.files.is_empty() {
            return format!("{} (and what they call)", self.name);
        }
        let files: Vec<&str> = self.files.iter().map(String::as_str).take(3).collect();
        let more = if self.files.len() > 3 {
            format!(" and {} more", self.files.len() - 3)
        } else {
            String::new()
        };
        format!("{} ({}{more})", self.name, files.join(", "))
    }
}

/// Input validation by behaviour: a branch on a function's parameter whose
/// block rejects (raises, or returns `Err(..)`), in production code. Names
/// of the check do not matter.
pub fn validations(idx: &crate::link::Index) -> Vec<Fact> {
    use crate::extract::{Expr, StmtKind};
    let rejects = |st: &crate::extract::Stmt| match st.kind {
        StmtKind::Raise => true,
        StmtKind::Return => {
            matches!(&st.value, Expr::Call(c) if matches!(&c.func, Expr::Name(n, _) if n == "Err"))
        }
        _ => false,
    };
    let mut out = vec![];
    for (fi, f) in idx.files.iter().enumerate() {
        for (i, b) in f.stmts.iter().enumerate() {
            let (StmtKind::Branch, Some(scope), Some((start, end))) =
                (&b.kind, b.scope.get(), b.body)
            else {
                continue;
            };
            let params: Vec<&str> = f.defs[scope]
                .params
                .iter()
                .map(|p| {
                    p.name
                        .trim_start_matches(['*', '&'])
                        .split(':')
                        .next()
                        .unwrap_or("")
                        .trim()
                })
                .filter(|n| !["self", "cls", "mut self", ""].contains(n))
                .collect();
            // The heads of the names the condition reads (`name` of `name.lower()`).
            let mut used: Vec<String> = vec![];
            super::refs::visit_names(&b.value, &mut |e| {
                if let Expr::Name(n, _) = e {
                    used.push(n.split(['.', ':']).next().unwrap_or("").to_string());
                }
            });
            if !used.iter().any(|u| params.contains(&u.as_str())) {
                continue;
            }
            if block_rejects(idx, fi, i, (start, end), &rejects) {
                let mut fact = Fact::new("input_validation", f, b.pos);
                fact.function = Some(idx.def_symbol(fi, scope));
                fact.via = Some("rejecting branch".into());
                out.push(fact);
            }
        }
    }
    out.extend(size_checks(idx, &rejects));
    out
}

/// Does the block of branch `i` (its body spans `start..end`) reject in the
/// branch's own function?
/// It rejects when a statement of the block raises or returns `Err(..)`
/// (`rejects`), returns an error status (`return "too long", 413`), or
/// calls a catalogued exit or rejecting API (`abort(413)`,
/// `HttpResponseForbidden()`).
fn block_rejects(
    idx: &crate::link::Index,
    fi: usize,
    i: usize,
    (start, end): (crate::extract::Pos, crate::extract::Pos),
    rejects: &dyn Fn(&crate::extract::Stmt) -> bool,
) -> bool {
    use crate::extract::{Expr, StmtKind};
    let f = &idx.files[fi];
    let scope = f.stmts[i].scope.get();
    let inside = |p: crate::extract::Pos| {
        (p.line, p.column) >= (start.line, start.column)
            && (p.line, p.column) < (end.line, end.column)
    };
    let error_status = |e: &Expr| matches!(e, Expr::Num(n) if n.len() == 3 && (n.starts_with('4') || n.starts_with('5')));
    if f.stmts[i + 1..]
        .iter()
        .take_while(|s| inside(s.pos))
        .any(|s| {
            s.scope.get() == scope
                && (rejects(s)
                    || (s.kind == StmtKind::Return
                        && matches!(&s.value, Expr::List(xs) if xs.iter().any(error_status))))
        })
    {
        return true;
    }
    let lc = crate::catalog::Catalog::builtin().lang(f.lang);
    idx.calls(fi).enumerate().any(|(ci, (c, cs))| {
        cs == scope
            && inside(c.start)
            && matches!(idx.callee(fi, ci), Some(crate::link::Target::External(api))
                if lc.taint.exits.first(api.as_str()).is_some()
                    || lc.behaviour.reject.iter().any(|r| r.apis.iter().any(|a| a == api.as_str())))
    })
}

/// Size limits by behaviour: a branch that compares a size (`len(x)`,
/// `x.len()`, `.size`, `.st_size`, `content_length`: `[behaviour]
/// size_measures`) and whose block rejects, in production code.
fn size_checks(
    idx: &crate::link::Index,
    rejects: &dyn Fn(&crate::extract::Stmt) -> bool,
) -> Vec<Fact> {
    use crate::extract::{Expr, StmtKind};
    let measures = &vocabulary().behaviour.size_measures;
    let leaf_is_measure = |n: &str| {
        let leaf = n.rsplit(['.', ':']).next().unwrap_or("");
        measures.iter().any(|m| m == leaf)
    };
    let is_measure = |e: &Expr| match e {
        Expr::Call(c) => leaf_is_measure(&c.func.display()),
        Expr::Name(n, _) => leaf_is_measure(n),
        Expr::Attr(a) => leaf_is_measure(&a.name),
        _ => false,
    };
    let mut out = vec![];
    for (fi, f) in idx.files.iter().enumerate() {
        if f.scope != crate::scope::Scope::Production {
            continue;
        }
        for (i, b) in f.stmts.iter().enumerate() {
            let (StmtKind::Branch, Some((start, end))) = (&b.kind, b.body) else {
                continue;
            };
            let Expr::Mix(parts) = &b.value else { continue };
            if !parts.iter().any(is_measure) {
                continue;
            }
            let via = if block_rejects(idx, fi, i, (start, end), rejects) {
                "rejecting size comparison"
            } else if block_truncates(f, b, parts, (start, end)) {
                "truncating size comparison"
            } else {
                continue;
            };
            let mut fact = Fact::new("size_check", f, b.pos);
            fact.function = b.scope.get().map(|sc| idx.def_symbol(fi, sc));
            fact.via = Some(via.into());
            out.push(fact);
        }
    }
    out
}

/// Does the block of a size comparison cut the measured value to the limit:
/// `x = x[:n]` (a slice of itself) or `x.truncate(n)` ([behaviour] truncators)?
/// The measured value is the argument of `len(x)` or the receiver of `x.len()`.
fn block_truncates(
    f: &crate::extract::FileFacts,
    b: &crate::extract::Stmt,
    parts: &[crate::extract::Expr],
    (start, end): (crate::extract::Pos, crate::extract::Pos),
) -> bool {
    use crate::extract::Expr;
    let measured: Vec<String> = parts
        .iter()
        .filter_map(|e| match e {
            Expr::Call(c) => match (&c.func, c.args.first()) {
                (Expr::Name(n, _), Some(a)) if !n.contains(['.', ':']) => Some(a.value.display()),
                (Expr::Name(n, _), _) => n.rsplit_once(['.', ':']).map(|(r, _)| r.to_string()),
                (Expr::Attr(a), _) => Some(a.base.display()),
                _ => None,
            },
            _ => None,
        })
        .filter(|m| !m.is_empty())
        .collect();
    let inside = |p: crate::extract::Pos| {
        (p.line, p.column) >= (start.line, start.column)
            && (p.line, p.column) < (end.line, end.column)
    };
    let truncators = &vocabulary().behaviour.truncators;
    f.assigns.iter().any(|a| {
        a.scope == b.scope
            && inside(a.pos)
            && measured.iter().any(|x| *x == a.target)
            && matches!(&a.value, Expr::Subscript(s) if s.base.display() == a.target)
    }) || f.calls.iter().any(|c| {
        c.scope == b.scope
            && inside(c.call.pos)
            && c.call
                .func
                .display()
                .rsplit_once(['.', ':'])
                .is_some_and(|(recv, m)| {
                    truncators.iter().any(|t| t == m) && measured.iter().any(|x| x == recv)
                })
    })
}

/// Security headers and cookie flags by what a call does with them: a call
/// given a security header's name as a string (`set_header("Content-Security-Policy", ..)`,
/// a dict key of headers), and a cookie call given `secure`/`httponly`/`samesite`
/// (`set_cookie(.., httponly=True)`, Rust `.http_only(true)` on a cookie builder).
/// Names are data: `[behaviour]` in rules/verify.toml.
pub fn header_and_cookie_calls(idx: &crate::link::Index) -> Vec<Fact> {
    use crate::extract::Expr;
    let b = &vocabulary().behaviour;
    let header = |e: &Expr| {
        e.as_str().is_some_and(|s| {
            let s = s.trim().to_ascii_lowercase();
            b.security_headers.contains(&s)
        })
    };
    let off = |e: &Expr| matches!(e, Expr::Bool(false) | Expr::NoneLit);
    let mut out = vec![];
    for (fi, f) in idx.files.iter().enumerate() {
        for (c, scope) in idx.calls(fi) {
            let func = c.func.display().to_ascii_lowercase();
            let leaf = func.rsplit(['.', ':']).next().unwrap_or("");
            let in_dict =
                |e: &Expr| matches!(e, Expr::Dict(kv) if kv.iter().any(|(k, _)| header(k)));
            let kind = if c.args.iter().any(|a| header(&a.value) || in_dict(&a.value)) {
                Some("security_header")
            } else if func.contains("cookie")
                && (c.args.iter().any(|a| {
                    a.name
                        .as_deref()
                        .is_some_and(|n| b.cookie_flags.iter().any(|k| k == n) && !off(&a.value))
                }) || (b.cookie_flags.iter().any(|k| k == leaf)
                    && !c.args.first().is_some_and(|a| off(&a.value))))
            {
                Some("cookie_flags")
            } else {
                None
            };
            if let Some(k) = kind {
                let mut fact = Fact::new(k, f, c.start);
                fact.function = scope.map(|s| idx.def_symbol(fi, s));
                fact.via = Some("call".into());
                out.push(fact);
            }
        }
        // A method the framework calls to check CSRF tokens, implemented here.
        for (di, d) in f.defs.iter().enumerate() {
            let leaf = d.name.rsplit(['.', ':']).next().unwrap_or("");
            if d.parent.is_some() && b.csrf_hooks.iter().any(|h| h == leaf) {
                let mut fact = Fact::new("csrf_protection", f, d.pos);
                fact.function = Some(idx.def_symbol(fi, di));
                fact.via = Some("framework hook".into());
                out.push(fact);
            }
        }
    }
    out
}

/// How deep calls are followed from an element's code.
const ELEMENT_DEPTH: usize = 4;
/// How deep calls are followed from the application's entry points.
const APP_DEPTH: usize = 12;
/// The share of the repository's functions the entry points must reach for
/// "no entry point reaches it" to be a verdict rather than a guess.
const MIN_REACHED: f64 = 0.25;

impl<'a> Evidence<'a> {
    /// The application: every entry point (routes, CLI commands, scheduled
    /// jobs, plugins, `main`) and the functions they reach. A mitigation
    /// that nothing reaches from here is defined, not wired.
    /// Is a repository file inside the document's package (every file when
    /// the document belongs to the whole repository)?
    pub fn in_package(&self, file: &str) -> bool {
        self.package
            .borrow()
            .as_deref()
            .is_none_or(|p| file.starts_with(p))
    }

    pub fn app(&self) -> Option<std::rc::Rc<Element>> {
        let key = self.package.borrow().clone();
        if let Some(a) = self.app.borrow().get(&key) {
            return a.clone();
        }
        let a = self.compute_app();
        self.app.borrow_mut().insert(key, a.clone());
        a
    }

    fn compute_app(&self) -> Option<std::rc::Rc<Element>> {
        {
            {
                let cat = crate::catalog::Catalog::builtin();
                let mut roots: Vec<String> = self
                    .routes
                    .iter()
                    .filter(|r| self.in_package(&r.file))
                    .filter_map(|r| r.handler.clone())
                    .collect();
                roots.extend(
                    self.graph
                        .decorated_entries(cat)
                        .into_iter()
                        .filter(|(_, n, _, _)| self.in_package(&self.symbols.idx.files[n.0].path))
                        .map(|(_, n, _, _)| self.graph.symbol(n)),
                );
                roots.extend(
                    self.extra
                        .iter()
                        .filter(|f| matches!(f.kind, "cli" | "scheduled" | "plugin"))
                        .filter(|f| self.in_package(&f.file))
                        .filter_map(|f| f.function.clone()),
                );
                roots.sort();
                roots.dedup();
                if roots.is_empty() {
                    return None;
                }
                let mut functions = rustc_hash::FxHashSet::default();
                for sym in &roots {
                    if let Some(n) = self.graph.node_of(sym) {
                        for (m, _) in self.graph.reach(n, APP_DEPTH) {
                            functions.insert(self.graph.symbol(m));
                        }
                    }
                    functions.insert(sym.clone());
                }
                // Reachability is trusted only when the call graph reaches a
                // good part of the functions: calls through trait objects,
                // callbacks and registries leave it partial, and "nothing
                // reaches it" would then be a guess.
                let total: usize = self
                    .symbols
                    .idx
                    .files
                    .iter()
                    .filter(|f| self.in_package(&f.path))
                    .map(|f| {
                        f.defs
                            .iter()
                            .filter(|d| d.kind == crate::extract::DefKind::Function)
                            .count()
                    })
                    .sum();
                if (functions.len() as f64) < MIN_REACHED * total as f64 {
                    return None;
                }
                let name = match self.package.borrow().as_deref() {
                    Some(p) => format!(
                        "the {} entry points of {}",
                        roots.len(),
                        p.trim_end_matches('/')
                    ),
                    None => format!("the application's {} entry points", roots.len()),
                };
                Some(std::rc::Rc::new(Element {
                    name,
                    files: Default::default(),
                    functions,
                }))
            }
        }
    }

    /// The element a claim is about: the production files its unit's
    /// references resolve to, else the classes its context and text name.
    /// `None`: the document names no code for it (judged on the repository).
    pub fn element(&self, refs: &[Reference], names: &str) -> Option<std::rc::Rc<Element>> {
        // A bare name names an element only when it is one definition
        // (`description` or `system_prompt` defined in ten places is not).
        let names_one = |r: &&Reference| r.kind != "symbol" || r.note.is_none();
        let mut files: Vec<String> = refs
            .iter()
            .filter(|r| r.status == "resolved")
            .filter(names_one)
            .filter_map(|r| r.target.as_ref().map(|t| t.file.clone()))
            .filter(|f| self.symbols.has_source(f))
            .collect();
        let mut name = refs
            .iter()
            .filter(|r| r.status == "resolved")
            .filter(names_one)
            .map(|r| r.text.clone())
            .next()
            .unwrap_or_default();
        if files.is_empty() {
            for w in names.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                let fs = self.symbols.files_defining(w);
                if !fs.is_empty() && name.is_empty() {
                    name = w.to_string();
                }
                files.extend(fs);
            }
        }
        files.sort();
        files.dedup();
        // Else the routes its words name (`/webhook`, `/metrics`): their
        // handlers and what they call.
        let mut handlers: Vec<String> = vec![];
        if files.is_empty() {
            let words: std::collections::BTreeSet<String> = names
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() >= 4)
                .map(str::to_string)
                .collect();
            for r in &self.routes {
                let p = r.pattern.as_deref().unwrap_or("");
                let hit = words.iter().any(|w| route_has_word(p, w));
                if let (true, Some(h)) = (hit, &r.handler) {
                    if name.is_empty() {
                        name = r.pattern.clone().unwrap_or_default();
                    }
                    handlers.push(h.clone());
                }
            }
            handlers.sort();
            handlers.dedup();
            if handlers.is_empty() {
                return None;
            }
            files = handlers.iter().map(|h| format!("route:{h}")).collect();
        }
        Some(self.built(name, files, handlers))
    }

    /// The element `[verify.map]` pins for a name the text contains
    /// (case-insensitive, whole words).
    pub fn pinned(&self, text: &str) -> Option<std::rc::Rc<Element>> {
        let t = text.to_lowercase();
        let (name, files) = self
            .pins
            .iter()
            .find(|(n, files)| !files.is_empty() && whole_word(&t, &n.to_lowercase()))?;
        Some(self.built(format!("{name} ([verify.map])"), files.clone(), vec![]))
    }

    /// An element from its files (or, for routes, its handlers), cached.
    fn built(
        &self,
        name: String,
        files: Vec<String>,
        handlers: Vec<String>,
    ) -> std::rc::Rc<Element> {
        let mut key = files.clone();
        key.push(format!("\0{name}"));
        key.extend(handlers.iter().map(|h| format!("\0\0{h}")));
        if let Some(e) = self.elements.borrow().get(&key) {
            return e.clone();
        }
        let mut functions = rustc_hash::FxHashSet::default();
        let roots: Vec<String> = if handlers.is_empty() {
            files.iter().flat_map(|f| self.symbols.defs_in(f)).collect()
        } else {
            handlers.clone()
        };
        {
            for sym in roots {
                if let Some(n) = self.graph.node_of(&sym) {
                    for (m, _) in self.graph.reach(n, ELEMENT_DEPTH) {
                        functions.insert(self.graph.symbol(m));
                    }
                }
                functions.insert(sym);
            }
        }
        let e = std::rc::Rc::new(Element {
            name,
            files: if handlers.is_empty() {
                files.iter().cloned().collect()
            } else {
                Default::default()
            },
            functions,
        });
        self.elements.borrow_mut().insert(key, e.clone());
        e
    }
}

struct Found {
    locs: Vec<Location>,
    /// Findings of the mitigation's `against_findings` scan rules: (rule, where).
    findings: Vec<(String, Location)>,
    /// Evidence that contradicts a presence claim (an unsafe loader, verify=False).
    against: Vec<Location>,
    /// Guard symbols applied to routes (auth, rate limit).
    applied: Vec<String>,
    /// Routes the claim was judged on (guard kinds).
    routes: usize,
}

impl<'a> Evidence<'a> {
    fn gather(&self, kind: &str, scope: &Scope, el: Option<&Element>) -> Found {
        // In the document's package, or in code its element calls (a sibling
        // package used as a library is part of what the element does).
        let on = |x: &Fact| match el {
            None => self.in_package(&x.file),
            Some(e) => {
                e.has(x)
                    && (self.in_package(&x.file)
                        || x.function.as_ref().is_some_and(|s| e.functions.contains(s)))
            }
        };
        let mut f = Found {
            locs: vec![],
            findings: vec![],
            against: vec![],
            applied: vec![],
            routes: 0,
        };
        let loc = |x: &Fact| Location {
            file: x.file.clone(),
            line: x.line,
        };
        match kind {
            "auth" | "rate_limit" => {
                for r in self.routes.iter().filter(|r| scope.route(r) && on(r)) {
                    f.routes += 1;
                    let guards = if kind == "auth" {
                        &r.auth
                    } else {
                        &r.rate_limit
                    };
                    for g in guards.iter().flatten().filter(|g| g.required) {
                        f.locs.push(Location {
                            file: g.file.clone(),
                            line: g.line,
                        });
                        f.applied.push(g.symbol.clone());
                    }
                }
                if !scope.routes_in_scope() {
                    f.locs.clear();
                    f.applied.clear();
                    f.routes = 0;
                }
            }
            "safe_yaml" => {
                for x in self.facts.iter().filter(|x| x.kind == "yaml_load" && on(x)) {
                    if x.safe == Some(true) {
                        f.locs.push(loc(x));
                    } else {
                        f.against.push(loc(x));
                    }
                }
            }
            "tls" => {
                for x in self.facts.iter().filter(|x| on(x)) {
                    let off = (x.kind == "network_out"
                        && x.flags.get("verify") == Some(&serde_json::Value::Bool(false)))
                        || (x.kind == "tls_config" && x.safe == Some(false));
                    // Outbound https:// calls say nothing about TLS on the
                    // element; only turning certificate checks off does.
                    if off {
                        f.against.push(loc(x));
                    }
                }
            }
            "timeout" => {
                for x in self
                    .facts
                    .iter()
                    .filter(|x| matches!(x.kind, "network_out" | "process_exec") && on(x))
                {
                    let given = match x.flags.get("timeout") {
                        // `timeout=None`: no timeout.
                        Some(v) => !v.is_null(),
                        None => self.call_keyword(x, "timeout"),
                    };
                    if given {
                        f.locs.push(loc(x));
                    } else if x.kind == "network_out" {
                        // A process run without one is not a call left
                        // hanging on a peer: only outbound calls go against.
                        f.against.push(loc(x));
                    }
                }
            }
            "listener" => {
                for r in self.routes.iter().filter(|r| on(r)) {
                    f.locs.push(loc(r));
                }
                for x in self
                    .extra
                    .iter()
                    .filter(|x| matches!(x.kind, "tcp_listener" | "unix_listener") && on(x))
                {
                    f.locs.push(loc(x));
                }
            }
            "sql_query" => {
                let methods = &vocabulary().behaviour.query_methods;
                for x in self.facts.iter().filter(|x| x.kind == "database" && on(x)) {
                    let api = x.api.as_deref().unwrap_or("");
                    let leaf = api.rsplit(['.', ':']).next().unwrap_or("");
                    if methods.iter().any(|m| m == leaf) {
                        if self.builds_sql(x) {
                            f.against.push(loc(x));
                        } else {
                            f.locs.push(loc(x));
                        }
                    }
                }
            }
            "cors" => {
                for x in self
                    .facts
                    .iter()
                    .filter(|x| x.kind == "cors_policy" && on(x))
                {
                    f.locs.push(loc(x));
                }
            }
            other => {
                for x in self
                    .extra
                    .iter()
                    .chain(self.validations.iter())
                    .filter(|x| x.kind == other && on(x))
                {
                    f.locs.push(loc(x));
                }
            }
        }
        if let Some(m) = vocabulary()
            .mitigation
            .iter()
            .find(|m| m.evidence.first().map(String::as_str) == Some(kind))
        {
            for x in self
                .facts
                .iter()
                .chain(self.extra)
                .filter(|x| on(x) && m.against.iter().any(|a| a == x.kind))
            {
                f.against.push(loc(x));
            }
        }
        if kind == "path_normalisation" {
            f.locs.extend(self.confining_functions(el));
        }
        if let Some(m) = vocabulary()
            .mitigation
            .iter()
            .find(|m| m.evidence.first().map(String::as_str) == Some(kind))
        {
            for h in self.rule_hits().iter().filter(|h| {
                m.against_findings.contains(&h.rule)
                    && self.in_package(&h.loc.file)
                    && el.is_none_or(|e| {
                        e.files.contains(&h.loc.file)
                            || h.function.as_ref().is_some_and(|s| e.functions.contains(s))
                    })
            }) {
                f.findings.push((h.rule.clone(), h.loc.clone()));
            }
        }
        f.locs
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        f.locs.dedup();
        f.against
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        f.against.dedup();
        f
    }
}

impl<'a> Evidence<'a> {
    /// Is the call a fact stands for given `keyword` (whatever its value:
    /// `timeout=effective_timeout` sets a timeout even when facts record
    /// only literal flags)? `None` keyword values (`timeout=None`) are not.
    fn call_keyword(&self, x: &Fact, keyword: &str) -> bool {
        let idx = &self.symbols.idx;
        self.fact_call(x)
            .and_then(|(fi, c, scope)| c.kwarg(keyword).map(|v| idx.value_of(fi, scope, v).2))
            .is_some_and(|v| !matches!(v, crate::extract::Expr::NoneLit))
    }

    /// The call a fact stands for: its file, the call and its scope.
    fn fact_call(&self, x: &Fact) -> Option<(usize, &'a crate::extract::CallExpr, Option<usize>)> {
        let idx = &self.symbols.idx;
        let fi = idx.file_index(&x.file)?;
        let pos = crate::extract::Pos {
            line: x.line,
            column: x.column,
        };
        let (c, scope) = idx.call_at(fi, pos, x.api.as_deref().unwrap_or(""))?;
        Some((fi, c, scope))
    }

    /// Functions of the element (production code of the document's
    /// package) that confine what they are given by behaviour: a check that
    /// cannot pass `..` or an absolute path, or a containment test of the
    /// resolved path, that rejects (see [`crate::rules::taint::Taint::confines_input`]).
    fn confining_functions(&self, el: Option<&Element>) -> Vec<Location> {
        let idx = &self.symbols.idx;
        let cat = crate::catalog::Catalog::builtin();
        let mut out = vec![];
        for (fi, f) in idx.files.iter().enumerate() {
            if f.scope != crate::scope::Scope::Production || !self.in_package(&f.path) {
                continue;
            }
            let taint = crate::rules::taint::Taint::new(idx, cat.lang(f.lang), false);
            for (di, d) in f.defs.iter().enumerate() {
                if d.kind != crate::extract::DefKind::Function {
                    continue;
                }
                let wanted = el.is_none_or(|e| {
                    e.files.contains(&f.path) || e.functions.contains(&idx.def_symbol(fi, di))
                });
                if wanted && taint.confines_input(fi, di) {
                    out.push(Location {
                        file: f.path.clone(),
                        line: d.pos.line,
                    });
                }
            }
        }
        out
    }

    /// Is the SQL text a query call is given built in code from values
    /// (an f-string, `%`, `+`, `.format` with a name, attribute or call in
    /// it), with no values bound beside it?
    fn builds_sql(&self, x: &Fact) -> bool {
        use crate::extract::Expr;
        let idx = &self.symbols.idx;
        let Some((fi, c, scope)) = self.fact_call(x) else {
            return false;
        };
        // Values bound beside the text (a placeholder list built for them
        // is fine): `execute(f"... IN ({marks})", ids)`.
        let b = &vocabulary().behaviour;
        if c.positional(1).is_some() || b.bound_value_keywords.iter().any(|k| c.kwarg(k).is_some())
        {
            return false;
        }
        let Some(sql) = c
            .positional(0)
            .or_else(|| b.sql_text_keywords.iter().find_map(|k| c.kwarg(k)))
        else {
            return false;
        };
        let (_, _, v) = idx.value_of(fi, scope, sql);
        match v {
            Expr::Mix(parts) => parts.iter().any(|p| {
                matches!(
                    p,
                    Expr::Name(..) | Expr::Attr(..) | Expr::Call(_) | Expr::Subscript(..)
                )
            }),
            _ => false,
        }
    }

    /// Findings (warning or error, not suppressed) of every scan rule a
    /// mitigation names in `against_findings`, run once per verification.
    fn rule_hits(&self) -> &[RuleHit] {
        self.findings.get_or_init(|| {
            let ids: Vec<&str> = vocabulary()
                .mitigation
                .iter()
                .flat_map(|m| m.against_findings.iter().map(String::as_str))
                .collect();
            let mut rs = crate::rules::RuleSet::builtin();
            rs.rules.retain(|r| ids.contains(&r.id.as_str()));
            // Query rules ran during extraction; only flow and fact rules here.
            rs.query_rules.clear();
            rs.queries = Default::default();
            crate::rules::engine::run(self.scan, &rs, &Default::default())
                .into_iter()
                .filter(|f| f.level != crate::rules::Level::Note && f.suppressed.is_none())
                .map(|f| RuleHit {
                    rule: f.rule_id,
                    loc: Location {
                        file: f.file,
                        line: f.line,
                    },
                    function: f.function,
                })
                .collect()
        })
    }
}

/// Does a route pattern have a segment that is `word` (or its singular:
/// "uploads" names `/upload`)?
fn route_has_word(pattern: &str, word: &str) -> bool {
    let p = pattern.to_lowercase();
    let single = word.strip_suffix('s').unwrap_or(word);
    p.split(['/', '-', '_', '.'])
        .any(|seg| !seg.is_empty() && (seg == word || seg == single))
}

/// Which entry points a claim is about, from its context words.
struct Scope {
    kinds: Vec<String>,
    /// Words of the context that appear in some route pattern (`metrics`, `admin`).
    route_words: Vec<String>,
}

impl Scope {
    fn of(text: &str, ev: &Evidence) -> Scope {
        let t = text.to_lowercase();
        let v = vocabulary();
        let kinds: Vec<String> = v
            .scope
            .iter()
            .filter(|(_, words)| words.iter().any(|w| whole_word(&t, w)))
            .map(|(k, _)| k.clone())
            .collect();
        let route_words = t
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4)
            .filter(|w| {
                ev.routes
                    .iter()
                    .any(|r| r.pattern.as_deref().is_some_and(|p| route_has_word(p, w)))
            })
            .map(str::to_string)
            .collect::<std::collections::BTreeSet<String>>()
            .into_iter()
            .collect();
        Scope { kinds, route_words }
    }
    fn routes_in_scope(&self) -> bool {
        self.kinds.is_empty() || self.kinds.iter().any(|k| k == "route")
    }
    fn route(&self, r: &Fact) -> bool {
        if self.route_words.is_empty() {
            return true;
        }
        let p = r.pattern.as_deref().unwrap_or("");
        self.route_words.iter().any(|w| route_has_word(p, w))
    }
    fn describe(&self) -> String {
        let mut s = if self.kinds.is_empty() {
            "the repository".to_string()
        } else {
            format!("{} entry points", self.kinds.join("/"))
        };
        if !self.route_words.is_empty() {
            s.push_str(&format!(
                " (routes matching {})",
                self.route_words.join(", ")
            ));
        }
        s
    }
}

fn contains_word(text: &str, w: &str) -> bool {
    text.match_indices(w).any(|(i, _)| {
        let before = text[..i].chars().last();
        before.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// The mitigations a text talks about, first mention first, one per evidence
/// family (authentication and authorization share guards), with where the
/// first word starts.
fn mentioned(t: &str) -> Vec<(&'static MitigationSpec, usize)> {
    // Every kind's words, where they occur: (kind, start, end).
    let mut hits: Vec<(&'static MitigationSpec, usize, usize)> = vec![];
    for m in &vocabulary().mitigation {
        for w in &m.words {
            let mut from = 0;
            while let Some(i) = word_start(&t[from..], w) {
                hits.push((m, from + i, from + i + w.len()));
                from += i + w.len();
            }
        }
    }
    // A word inside a longer word of another kind is that kind's
    // ("permission" in "file permissions").
    let inside = |h: &(&MitigationSpec, usize, usize)| {
        hits.iter()
            .any(|o| !std::ptr::eq(o.0, h.0) && o.1 <= h.1 && h.2 <= o.2 && o.2 - o.1 > h.2 - h.1)
    };
    let mut out: Vec<(&MitigationSpec, usize)> = vec![];
    let mut seen = vec![];
    for m in &vocabulary().mitigation {
        let Some(pos) = hits
            .iter()
            .filter(|h| std::ptr::eq(h.0, m) && !inside(h))
            .map(|h| h.1)
            .min()
        else {
            continue;
        };
        // One claim per evidence family (authentication and authorization
        // share route guards; server TLS and TLS share listener TLS).
        let fam = m.evidence.first().cloned().unwrap_or_default();
        if !fam.is_empty() && seen.contains(&fam) {
            continue;
        }
        seen.push(fam);
        out.push((m, pos));
    }
    let kinds: Vec<&str> = out.iter().map(|(m, _)| m.kind.as_str()).collect();
    let keep: Vec<bool> = out
        .iter()
        .map(|(m, _)| !m.yields_to.iter().any(|k| kinds.contains(&k.as_str())))
        .collect();
    let mut keep = keep.into_iter();
    out.retain(|_| keep.next().unwrap_or(true));
    out
}

/// Where `w` first occurs at the start of a word of `t`, or after a
/// negating prefix ("unauthenticated"): "signed" is not in "designed".
fn word_start(t: &str, w: &str) -> Option<usize> {
    t.match_indices(w).map(|(i, _)| i).find(|&i| {
        let before = &t[..i];
        let frag_start = before
            .rfind(|c: char| !c.is_alphanumeric() && c != '-')
            .map(|j| j + 1)
            .unwrap_or(0);
        let frag = &before[frag_start..];
        frag.is_empty() || NEGATING_PREFIXES.contains(&frag)
    })
}

/// A word that starts with one of these negates the mitigation it names.
const NEGATING_PREFIXES: &[&str] = &["un", "non-", "non"];

fn new_claim(line: u32, context: &str, m: &str, polarity: &str) -> Claim {
    Claim {
        line,
        column: None,
        sentence_lines: None,
        threat: None,
        context: context.to_string(),
        mitigation: m.to_string(),
        polarity: polarity.into(),
        status: "unverified".into(),
        reason: String::new(),
        element: None,
        evidence: vec![],
        section: String::new(),
    }
}

/// `w` as a whole word of `text` ("cli" is not in "client").
fn whole_word(text: &str, w: &str) -> bool {
    text.match_indices(w).any(|(i, _)| {
        let before = text[..i].chars().last();
        let after = text[i + w.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// How a sentence reads, before any code is looked at.
#[derive(Debug, PartialEq)]
enum Reading {
    Claim,
    /// Advice or a requirement ("should", "Use TLS 1.3"): reported, not judged.
    Recommendation,
    /// A description of an attack ("An attacker uses …"): not a claim.
    Threat,
    /// About a component outside the code (a reverse proxy, the operator).
    Deployment(String),
}

/// `t` (lower-case) starts with `w` as whole words.
fn starts_with_word(t: &str, w: &str) -> bool {
    let w = w.trim();
    t.starts_with(w)
        && t[w.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
}

fn read_sentence(sentence: &str) -> Reading {
    let p = &vocabulary().prose;
    // Leading list markers, emphasis and labels ("**Validation**:", "(GNRC)") are not words.
    let mut t = sentence
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .to_string();
    // A "Threat:" label describes an attack.
    if p.threat_starts
        .iter()
        .any(|w| w.ends_with(':') && t.to_lowercase().starts_with(w.as_str()))
    {
        return Reading::Threat;
    }
    if let Some((label, rest)) = t.split_once(':') {
        if label.split_whitespace().count() <= 4 && !rest.trim().is_empty() {
            t = rest
                .trim_start_matches(|c: char| !c.is_alphanumeric())
                .to_string();
        }
    }
    if p.threat_starts.iter().any(|w| starts_with_word(&t, w)) {
        return Reading::Threat;
    }
    if p.recommendation_starts
        .iter()
        .any(|w| starts_with_word(&t, w))
        || p.recommendation_words.iter().any(|w| whole_word(&t, w))
    {
        return Reading::Recommendation;
    }
    if let Some(w) = p.deployment_words.iter().find(|w| whole_word(&t, w)) {
        return Reading::Deployment(w.clone());
    }
    Reading::Claim
}

/// The sentence of `t` that holds byte `pos`, as a range.
fn sentence_at(t: &str, pos: usize) -> (usize, usize) {
    // "e.g." and "i.e." end no sentence.
    let abbreviation = |i: usize| {
        let word = t[..i]
            .rsplit(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        vocabulary().prose.abbreviations.contains(&word)
    };
    let is_end = |i: usize, c: char| {
        matches!(c, '.' | '!' | '?' | ';')
            && t[i + c.len_utf8()..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace)
            && !(c == '.' && abbreviation(i))
    };
    let start = t[..pos]
        .char_indices()
        .rev()
        .find(|&(i, c)| is_end(i, c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let end = t[pos..]
        .char_indices()
        .find(|&(i, c)| is_end(pos + i, c))
        .map(|(i, _)| pos + i)
        .unwrap_or(t.len());
    (start, end)
}

/// Is content under these headings free of claims (assumptions, revision history)?
pub fn non_claim_section(section: &[String]) -> bool {
    under(section, &vocabulary().prose.non_claim_sections)
}

/// Does a heading above match one of `words`? A word matches a whole word
/// of any heading above; `=word` matches only when the nearest heading is
/// exactly it (numbering such as "9)" or "4." aside), not its subsections.
fn under(section: &[String], words: &[String]) -> bool {
    let n = section.len();
    section.iter().enumerate().any(|(i, h)| {
        let h = h.to_lowercase();
        let bare = h
            .trim_start_matches(|c: char| c.is_ascii_digit() || ".)-: ".contains(c))
            .trim();
        words.iter().any(|w| match w.strip_prefix('=') {
            Some(exact) => i + 1 == n && bare == exact,
            None => whole_word(&h, w),
        })
    })
}

/// The claims a unit of text makes. `section`: the headings above it;
/// `line_at`: the document line of a byte of `text` (a claim is located at
/// its sentence, not at the start of its paragraph); `refs`: the references
/// of the unit (or of its whole table row); `refs_in`: those cited inside a
/// byte range of `text` (one sentence).
/// A unit's prose and what it holds besides: the paragraph introducing its list,
/// the settings its code names and its code spans, each at its place in the
/// prose.
pub struct Spans<'a> {
    pub prose: &'a str,
    pub lead: Option<&'a str>,
    pub settings: &'a [(usize, super::settings::Named)],
    pub codes: &'a [(usize, &'a str)],
    /// A table cell's column header: a column named for a mitigation ("Auth",
    /// "Validation Points") makes a cell that cites code, or says "none", a
    /// claim of that mitigation.
    pub column: Option<&'a str>,
}

pub fn claims(
    spans: &Spans,
    context: &str,
    section: &[String],
    line_at: &dyn Fn(usize) -> u32,
    refs: &[Reference],
    refs_in: &dyn Fn(usize, usize) -> Vec<Reference>,
    ev: &Evidence,
) -> Vec<Claim> {
    let Spans {
        prose: text,
        lead,
        settings,
        codes,
        column,
    } = *spans;
    let line = line_at(0);
    let v = vocabulary();
    if under(section, &v.prose.non_claim_sections) {
        return vec![];
    }
    // A list item reads as its lead-in does: items under "administrators
    // must ensure that:" are requirements, under "learn about:" topics.
    let lead = lead.map(str::to_lowercase);
    if let Some(l) = &lead {
        if v.prose.topic_leads.iter().any(|w| whole_word(l, w)) {
            return vec![];
        }
    }
    let lead_reading = lead.as_deref().map(read_sentence);
    if lead_reading == Some(Reading::Threat) {
        return vec![];
    }
    let gap_section = under(section, &v.prose.gap_sections);
    let cited_only = under(section, &v.prose.cited_only_sections);
    let deployment_section = section.iter().rev().find_map(|h| {
        let h = h.to_lowercase();
        v.prose
            .deployment_sections
            .iter()
            .any(|w| whole_word(&h, w))
            .then_some(h)
    });
    let t = text.to_lowercase();
    // Byte offsets of the lower-cased text match the text's for ASCII; a
    // lower-casing that changes lengths keeps the unit's line and references.
    let same = t.len() == text.len();
    let mut out = vec![];
    let na = v.na_words.iter().any(|w| t.contains(w.as_str()));
    // Sentence by sentence: each sentence's mitigations are its claims.
    let mut from = 0;
    while from < t.len() {
        let (a, b) = sentence_at(&t, from);
        // Past the sentence and its terminator (ASCII: a char boundary).
        from = if b < t.len() { b + 1 } else { t.len() };
        // An assumption that cites no code of the repository is about the
        // environment.
        if cited_only
            && !(if same { refs_in(a, b) } else { refs.to_vec() })
                .iter()
                .any(|r| r.status == "resolved" && r.target.is_some())
        {
            continue;
        }
        let lead_advice = lead_reading == Some(Reading::Recommendation);
        let setting = setting_verdict(&t[a..b], a, b, settings, codes, lead_advice, ev);
        let mut judged = false;
        // A code span naming a mitigation's code-shaped word (`yaml.safe_load()`)
        // mentions that mitigation where it stands.
        let mut found = mentioned(&t[a..b]);
        for &(at, code) in codes.iter().filter(|(at, _)| *at >= a && *at < b) {
            let code = code.to_lowercase();
            for m in &v.mitigation {
                if found.iter().any(|(x, _)| std::ptr::eq(*x, m)) {
                    continue;
                }
                if m.words
                    .iter()
                    .any(|w| w.contains(['_', '.']) && code.contains(w.as_str()))
                {
                    found.push((m, at - a));
                }
            }
        }
        for (m, rel) in found {
            judged = true;
            let pos = a + rel;
            let sentence = &t[a..b];
            let mut reading = read_sentence(sentence);
            if reading == Reading::Claim && lead_reading == Some(Reading::Recommendation) {
                reading = Reading::Recommendation;
            }
            if let (Reading::Claim, Some(h)) = (&reading, &deployment_section) {
                reading = Reading::Deployment(format!("\"{h}\""));
            }
            if reading == Reading::Threat {
                continue;
            }
            if let Some((status, reason, evidence)) = &setting {
                let mut c = new_claim(
                    if same { line_at(pos) } else { line },
                    context,
                    &m.kind,
                    "present",
                );
                c.status = status.clone();
                c.reason = reason.clone();
                c.evidence = evidence.clone();
                out.push(c);
                continue;
            }
            let before = &t[a..pos];
            // The absence word must be in the same clause, shortly before, or
            // a prefix of the word itself ("unauthenticated", "unsandboxed").
            let clause = before.rsplit([',', '(', ')']).next().unwrap_or(before);
            let word_start = before
                .rfind(|c: char| !c.is_alphanumeric() && c != '-')
                .map(|i| i + 1)
                .unwrap_or(0);
            let prefix = &before[word_start..];
            // A prefix negates the word ("unauthenticated"), or the word
            // itself says no ("runs no server").
            let negated_word = NEGATING_PREFIXES.contains(&prefix)
                || m.absent_words
                    .iter()
                    .any(|w| t[pos..].starts_with(w.as_str()));
            // "**Validation**: None." — a label answered with a negation.
            let label_none = t[a..b].split_once(':').is_some_and(|(label, rest)| {
                pos < a + label.len()
                    && label.split_whitespace().count() <= 4
                    && [
                        "none", "no ", "no.", "not ", "n/a", "missing", "absent", "nothing",
                    ]
                    .iter()
                    .any(|w| {
                        rest.trim_start_matches(|c: char| !c.is_alphanumeric())
                            .starts_with(w)
                    })
            });
            let absent = gap_section
                || negated_word
                || label_none
                || text.contains("GAP")
                || v.absence_words.iter().chain(&v.prose.weak_words).any(|w| {
                    // "no " is a whole word ("notes" is not "no"); other
                    // words match at a word's start ("bypass" in "bypasses").
                    let hit = if w.ends_with(' ') {
                        whole_word(clause, w.trim_end())
                    } else {
                        contains_word(clause, w)
                    };
                    w != "gap" && hit && clause.len() < 80
                });
            let polarity = if reading == Reading::Recommendation {
                "recommendation"
            } else if na && !absent {
                "not_applicable"
            } else if absent {
                "absent"
            } else {
                "present"
            };
            let at = if same { line_at(pos) } else { line };
            let mut c = new_claim(at, context, &m.kind, polarity);
            match reading {
                Reading::Recommendation => {
                    c.status = "not_judged".into();
                    c.reason = "advice or a requirement, not a statement about the code".into();
                }
                Reading::Deployment(w) => {
                    c.reason = format!("about {w}: not decidable from the application's code");
                }
                _ => {
                    let raw = if same { &text[a..b] } else { text };
                    let scope = Scope::of(&format!("{context} {raw}"), ev);
                    let own = if same { refs_in(a, b) } else { refs.to_vec() };
                    // The element: the code the sentence cites or names, else
                    // the code its row cites (for a mitigation: a gap in one
                    // cell is not about the controls another cell cites), else
                    // what the row's context names.
                    let el = ev
                        .element(&own, "")
                        .or_else(|| ev.pinned(&format!("{context} {raw}")))
                        .or_else(|| {
                            (polarity != "absent")
                                .then(|| ev.element(refs, ""))
                                .flatten()
                        })
                        .or_else(|| ev.element(&[], raw))
                        .or_else(|| ev.element(&[], context));
                    if let Some(w) = m.outbound.iter().find(|w| whole_word(sentence, w)) {
                        c.reason = format!(
                            "about a connection the application opens (\"{w}\"): the code's own {} evidence is about what it serves, not what it connects to",
                            m.kind.replace('_', " ")
                        );
                    } else {
                        judge(&mut c, m, &scope, refs, ev, el.as_deref());
                    }
                }
            }
            if same {
                let lead_ws = t[a..b].len() - t[a..b].trim_start().len();
                let first = line_at(a + lead_ws);
                let last = line_at(b.saturating_sub(1).max(a));
                c.sentence_lines = (last > first).then_some((first, last));
            }
            out.push(c);
        }
        // A sentence about a setting and no mitigation word is a claim about
        // the setting itself.
        if let (false, Some((status, reason, evidence))) = (judged, setting) {
            if read_sentence(&t[a..b]) != Reading::Threat {
                let lead_ws = t[a..b].len() - t[a..b].trim_start().len();
                let mut c = new_claim(
                    if same { line_at(a + lead_ws) } else { line },
                    context,
                    "setting",
                    "present",
                );
                c.status = status;
                c.reason = reason;
                c.evidence = evidence;
                out.push(c);
            }
        }
    }
    if out.is_empty() {
        if let Some(c) = column_claim(
            column,
            &t,
            codes,
            gap_section,
            line,
            context,
            refs,
            refs_in,
            ev,
        ) {
            out.push(c);
        }
    }
    if out.is_empty() && na {
        let mut c = new_claim(line, context, "n/a", "not_applicable");
        c.reason = "n/a claims are recorded, not checked".into();
        out.push(c);
    }
    out
}

/// The verdict on a sentence that names a configuration setting (its own
/// code spans, or, for a sentence about a default that names none, the unit's
/// first): a default it states is checked against the literal the code gives
/// the setting; otherwise the setting existing in production code supports
/// the sentence. `None`: no setting, or one the code does not define (a
/// library's): the sentence is judged as any other.
/// A table cell with no mitigation word of its own, under a column named for
/// one mitigation ("Auth", "Validation Points", "Rate limit"): citing code, it
/// claims that mitigation is there, judged on the cited code; answering "none"
/// ("—", "no", "n/a" aside), it claims it is absent.
#[allow(clippy::too_many_arguments)]
fn column_claim(
    column: Option<&str>,
    cell: &str,
    codes: &[(usize, &str)],
    gap_column: bool,
    line: u32,
    context: &str,
    row: &[Reference],
    refs_in: &dyn Fn(usize, usize) -> Vec<Reference>,
    ev: &Evidence,
) -> Option<Claim> {
    let header = column?.to_lowercase();
    let mut kinds: Vec<&MitigationSpec> = mentioned(&header).into_iter().map(|(m, _)| m).collect();
    if kinds.is_empty() {
        kinds = vocabulary()
            .mitigation
            .iter()
            .filter(|m| m.header_words.iter().any(|w| whole_word(&header, w)))
            .collect();
    }
    let [m] = kinds.as_slice() else {
        return None;
    };
    let bare = cell.trim().trim_matches(|c: char| !c.is_alphanumeric());
    let none = ["none", "no", "nothing", "missing", "absent"]
        .iter()
        .any(|w| bare == *w || starts_with_word(bare, w));
    if !none && codes.is_empty() {
        return None;
    }
    if read_sentence(cell) != Reading::Claim {
        return None;
    }
    let polarity = if none || gap_column {
        "absent"
    } else {
        "present"
    };
    let mut c = new_claim(line, context, &m.kind, polarity);
    let own = refs_in(0, cell.len());
    // The cited code, else the code the row cites in another cell, else what
    // the row names (a route, a class).
    let el = ev
        .element(&own, "")
        .or_else(|| ev.element(row, ""))
        .or_else(|| ev.element(&[], context));
    if polarity == "present" && el.is_none() {
        c.reason = "the cited code is not found; nothing decides it".into();
        return Some(c);
    }
    let scope = Scope::of(context, ev);
    judge(&mut c, m, &scope, &own, ev, el.as_deref());
    Some(c)
}

fn setting_verdict(
    sentence: &str,
    a: usize,
    b: usize,
    settings: &[(usize, super::settings::Named)],
    codes: &[(usize, &str)],
    lead_advice: bool,
    ev: &Evidence,
) -> Option<(String, String, Vec<Location>)> {
    use super::settings::{find, Default};
    let p = &vocabulary().prose;
    // The clause that states a default: from the separator before the
    // phrase to the one after it ("enabled by default and cannot be turned
    // off": the first clause; "on by default unless `X` is set": not `X`).
    let phrase = p
        .default_phrases
        .iter()
        .filter_map(|w| {
            sentence
                .match_indices(w.as_str())
                .find(|(i, _)| {
                    let before = sentence[..*i].chars().last();
                    let after = sentence[*i + w.len()..].chars().next();
                    before.is_none_or(|c| !c.is_alphanumeric())
                        && after.is_none_or(|c| !c.is_alphanumeric())
                })
                .map(|(i, _)| (i, i + w.len()))
        })
        .min();
    if phrase.is_none() && !p.setting_words.iter().any(|w| whole_word(sentence, w)) {
        return None;
    }
    let about_default = phrase.is_some();
    // Advice that names a setting ("administrators must ensure `X` ...") is
    // not a claim that it exists; a stated default is a fact either way.
    if !about_default && (lead_advice || read_sentence(sentence) != Reading::Claim) {
        return None;
    }
    let (ca, cb) = match phrase {
        Some((i, j)) => {
            // Not commas: lists ("the proxy, hub, and servers") are one clause.
            const SEPS: [&str; 7] = [
                ";", " but ", " unless ", " except ", " while ", " and can", ", so ",
            ];
            let before = SEPS
                .iter()
                .filter_map(|s| sentence[..i].rfind(s).map(|x| x + s.len()))
                .max()
                .unwrap_or(0);
            let after = SEPS
                .iter()
                .filter_map(|s| sentence[j..].find(s).map(|x| j + x))
                .min()
                .unwrap_or(sentence.len());
            (a + before, a + after)
        }
        None => (a, b),
    };
    let in_sentence: Vec<&super::settings::Named> = settings
        .iter()
        .filter(|(p, _)| *p >= a && *p < b)
        .map(|(_, n)| n)
        .collect();
    let in_clause: Vec<&super::settings::Named> = settings
        .iter()
        .filter(|(p, _)| *p >= ca && *p < cb)
        .map(|(_, n)| n)
        .collect();
    // A default stated of a setting the clause does not name: the unit's
    // setting when the sentence names none ("By default ... unencrypted.
    // Setting `internal_ssl` ..."); none when it names another one.
    let borrowed = about_default && in_clause.is_empty();
    let named: Vec<&super::settings::Named> = if !about_default {
        in_sentence
    } else if !in_clause.is_empty() {
        in_clause
    } else if in_sentence.is_empty() {
        settings.iter().map(|(_, n)| n).take(1).collect()
    } else {
        vec![]
    };
    let (n, d) = named.iter().find_map(|n| {
        let mut cache = ev.settings.borrow_mut();
        let d = cache
            .entry((*n).clone())
            .or_insert_with(|| find(ev.symbols.idx, n))
            .clone();
        d.map(|d| (*n, d))
    })?;
    let evidence = vec![d.at.clone()];
    if !about_default {
        return Some((
            "supported".into(),
            format!("the setting {} is defined in the code", d.what),
            evidence,
        ));
    }
    let clause = &sentence[ca - a..cb - a];
    // A value the clause writes in code (`True`, `0`) is the setting's own.
    let stated = codes
        .iter()
        .filter(|(at, _)| *at >= ca && *at < cb)
        .find_map(|(_, c)| {
            match c
                .trim()
                .trim_matches(['"', '\''])
                .to_ascii_lowercase()
                .as_str()
            {
                "true" | "1" | "on" | "yes" => Some(Default::On),
                "false" | "0" | "off" | "no" | "none" | "" => Some(Default::Off),
                _ => None,
            }
        });
    let word = |ws: &[String]| ws.iter().any(|w| whole_word(clause, w));
    let says = stated.unwrap_or_else(|| {
        // "not disabled" is on: negated off-words are on-words.
        if p.default_on_words
            .iter()
            .any(|w| w.starts_with("not ") && whole_word(clause, w))
        {
            Default::On
        } else if word(&p.default_off_words) {
            Default::Off
        } else if word(&p.default_on_words) {
            Default::On
        } else {
            Default::Unknown
        }
    });
    // Words about the feature a `disable_x` setting turns off ("user config
    // is loaded by default") speak of x; a value stated of the setting
    // itself does not.
    let inverted = borrowed
        && stated.is_none()
        && ["disable", "no_", "skip_"]
            .iter()
            .any(|w| n.name.to_lowercase().starts_with(w));
    let has = match (d.default, inverted) {
        (Default::On, true) => Default::Off,
        (Default::Off, true) => Default::On,
        (x, _) => x,
    };
    let shown = |x: Default| match x {
        Default::On => "on",
        Default::Off => "off",
        Default::Unknown => "neither on nor off",
    };
    let literal = match &d.literal {
        Some(l) => format!("{} defaults to {l}", d.what),
        None => format!("{} has no literal default", d.what),
    };
    match (says, has) {
        (Default::Unknown, Default::Unknown) | (_, Default::Unknown) => Some((
            "unverified".into(),
            format!("{literal}: the code does not say whether it is on or off by default"),
            evidence,
        )),
        (Default::Unknown, _) => Some((
            "unverified".into(),
            format!("{literal}; the sentence does not say on or off"),
            evidence,
        )),
        (s, h) if s == h => Some((
            "supported".into(),
            format!("{literal} in the code ({} by default)", shown(h)),
            evidence,
        )),
        (s, h) => Some((
            "contradicted".into(),
            format!(
                "the document says {} by default; {literal} in the code ({})",
                shown(s),
                shown(h)
            ),
            evidence,
        )),
    }
}

/// The claims a `.tm7` threat makes. Its state is the polarity (Mitigated:
/// present; NotApplicable: n/a; AutoGenerated, NeedsInvestigation,
/// NeedsMitigation: absent). The mitigation is the one its justification names,
/// else its title, else the one its STRIDE category calls for.
pub fn threat_claims(t: &super::tm7::Threat, refs: &[Reference], ev: &Evidence) -> Vec<Claim> {
    let v = vocabulary();
    let polarity = match t.state.as_str() {
        "Mitigated" => "present",
        "NotApplicable" => "not_applicable",
        "AutoGenerated" | "NotStarted" | "NeedsInvestigation" | "NeedsMitigation" => "absent",
        _ => "",
    };
    let context = format!("{} / {} → {} ({})", t.category, t.source, t.target, t.flow);
    // Element and flow names are not claims ("Sandbox Mongo", a flow named "HTTPS").
    let unnamed = |text: &str| {
        let mut x = text.to_lowercase();
        for n in [&t.source, &t.target, &t.flow] {
            if !n.is_empty() {
                x = x.replace(&n.to_lowercase(), " ");
            }
        }
        x
    };
    let mut kinds = mentioned(&unnamed(&t.justification));
    if kinds.is_empty() {
        kinds = mentioned(&unnamed(&t.title));
    }
    if kinds.is_empty() {
        let cat = t.category.to_lowercase();
        if let Some(kind) = v
            .tm7_categories
            .iter()
            .find(|(c, _)| cat.starts_with(c.as_str()))
            .map(|(_, k)| k)
        {
            kinds.extend(
                v.mitigation
                    .iter()
                    .filter(|m| &m.kind == kind)
                    .map(|m| (m, 0)),
            );
        }
    }
    let shown = match t.state.as_str() {
        "AutoGenerated" => "not started (AutoGenerated)".to_string(),
        s => s.to_string(),
    };
    let scope = Scope::of(&format!("{context} {}", t.title), ev);
    let mut out = vec![];
    for (m, _) in kinds {
        let mut c = new_claim(
            t.line,
            &context,
            &m.kind,
            if polarity.is_empty() {
                "unknown"
            } else {
                polarity
            },
        );
        if polarity.is_empty() {
            c.reason = format!("unknown threat state {:?}", t.state);
        } else {
            let el = ev
                .pinned(&format!("{} {}", t.source, t.target))
                .or_else(|| ev.element(refs, &format!("{} {}", t.source, t.target)));
            judge(&mut c, m, &scope, refs, ev, el.as_deref());
            c.reason = format!("threat {} is {shown}: {}", t.id, c.reason);
        }
        c.column = Some(t.column);
        c.threat = Some(ThreatRef {
            id: t.id.clone(),
            state: t.state.clone(),
            title: t.title.clone(),
        });
        out.push(c);
    }
    if out.is_empty() {
        let mut c = new_claim(
            t.line,
            &context,
            "n/a",
            if polarity.is_empty() {
                "unknown"
            } else {
                polarity
            },
        );
        c.column = Some(t.column);
        c.reason = format!(
            "threat {} ({}) names no mitigation the vocabulary knows",
            t.id, t.category
        );
        c.threat = Some(ThreatRef {
            id: t.id.clone(),
            state: t.state.clone(),
            title: t.title.clone(),
        });
        out.push(c);
    }
    out
}

fn judge(
    c: &mut Claim,
    m: &MitigationSpec,
    scope: &Scope,
    refs: &[Reference],
    ev: &Evidence,
    el: Option<&Element>,
) {
    if m.evidence.is_empty() {
        c.reason = format!("nothing in the code records {}", m.kind.replace('_', " "));
        return;
    }
    let collect = |el: Option<&Element>| {
        let mut found = Found {
            locs: vec![],
            findings: vec![],
            against: vec![],
            applied: vec![],
            routes: 0,
        };
        for k in &m.evidence {
            let f = ev.gather(k, scope, el);
            found.locs.extend(f.locs);
            found.findings.extend(f.findings);
            found.against.extend(f.against);
            found.applied.extend(f.applied);
            found.routes += f.routes;
        }
        found
    };
    let guard = m.evidence.iter().any(|e| e == "auth" || e == "rate_limit");
    let mut el = el;
    let mut found = collect(el);
    // Guards are judged on routes: an element that serves none (the
    // guard's own definition) does not narrow them.
    if guard && found.routes == 0 && el.is_some() {
        el = None;
        found = collect(None);
    }
    // A claim that names no code is about the application: what its entry
    // points reach. Evidence that only exists elsewhere is defined, not wired.
    let app = if el.is_none() && !guard {
        ev.app()
    } else {
        None
    };
    let mut unwired = vec![];
    if let Some(a) = app.as_deref() {
        let wired = collect(Some(a));
        if wired.locs.is_empty() && !found.locs.is_empty() {
            unwired = std::mem::take(&mut found.locs);
        }
        // What goes against it counts where it is judged too: a
        // `verify=False` in another package says nothing about this one.
        found = wired;
        el = Some(a);
    }
    // A cited element that no entry point of the application reaches is
    // defined, not wired: its mitigation protects nothing.
    let mut unreached = false;
    if let (Some(e), false, Some(a)) = (el, guard, if el.is_some() { ev.app() } else { None }) {
        if !e.files.is_empty() && !e.functions.iter().any(|f| a.functions.contains(f)) {
            unreached = true;
        }
    }
    c.element = el.map(Element::describe);
    let cited: Vec<&Reference> = refs
        .iter()
        .filter(|r| r.status == "resolved" && r.symbol.is_some())
        .collect();
    let what = m.kind.replace('_', " ");
    let place = match el {
        Some(e) => e.describe(),
        None if guard => scope.describe(),
        None => match ev.package.borrow().as_deref() {
            Some(p) => p.trim_end_matches('/').to_string(),
            None => "the repository".to_string(),
        },
    };
    match c.polarity.as_str() {
        "not_applicable" => {
            c.reason = "n/a claims are recorded, not checked".into();
        }
        "absent" => {
            if !found.findings.is_empty() {
                cite_findings(
                    c,
                    "supported",
                    found.findings,
                    &place,
                    ("shows", "show"),
                    "the gap",
                );
            } else if found.locs.is_empty() {
                c.status = "supported".into();
                c.reason = format!("no {what} found in {place}");
                if !unwired.is_empty() {
                    c.reason.push_str(&format!(
                        " ({} defined elsewhere, not reached from an entry point)",
                        plural(unwired.len(), "place")
                    ));
                    c.evidence = unwired.into_iter().take(10).collect();
                }
            } else if el.is_none() && !guard {
                // Nothing ties the gap to code: a mitigation somewhere else
                // in the repository does not close it.
                c.reason = format!(
                    "the document names no code for this gap; {what} exists elsewhere ({})",
                    plural(found.locs.len(), "place")
                );
                c.evidence = found.locs.into_iter().take(10).collect();
            } else {
                c.status = "contradicted".into();
                c.reason = format!(
                    "the document says {what} is absent, but {place} has it ({})",
                    plural(found.locs.len(), "place")
                );
                c.evidence = found.locs.into_iter().take(10).collect();
            }
        }
        _ => {
            if !found.findings.is_empty() {
                let against = format!("against {what}");
                cite_findings(
                    c,
                    "contradicted",
                    found.findings,
                    &place,
                    ("goes", "go"),
                    &against,
                );
                return;
            }
            if !found.against.is_empty()
                && matches!(
                    m.evidence[0].as_str(),
                    "safe_yaml" | "tls" | "timeout" | "sql_query"
                )
            {
                c.status = "contradicted".into();
                c.reason = format!(
                    "{} in the code goes against {what}",
                    plural(found.against.len(), "call")
                );
                c.evidence = found.against.into_iter().take(10).collect();
                return;
            }
            if guard && found.routes == 0 && (found.locs.is_empty() || !cited.is_empty()) {
                // Guards are judged on routes; with none, the code cannot say
                // (a cited guard "not applied to any route" in code that
                // serves no route says nothing).
                c.reason =
                    format!("{place} has no HTTP routes to judge {what} on; nothing decides it");
                return;
            }
            if guard && !cited.is_empty() {
                let applied: Vec<&&Reference> = cited
                    .iter()
                    .filter(|r| {
                        let s = r.symbol.as_deref().unwrap_or("");
                        found
                            .applied
                            .iter()
                            .any(|a| a == s || a.starts_with(&format!("{s}.")))
                    })
                    .collect();
                if applied.is_empty() {
                    c.status = "contradicted".into();
                    c.reason = format!(
                        "{} exists but is not applied to any route as {what}",
                        cited[0].text
                    );
                    c.evidence = cited.iter().filter_map(|r| r.target.clone()).collect();
                } else {
                    c.status = "supported".into();
                    c.reason = format!("{} is applied to routes", applied[0].text);
                    c.evidence = applied.iter().filter_map(|r| r.target.clone()).collect();
                }
                return;
            }
            if unreached && !found.locs.is_empty() {
                c.status = "contradicted".into();
                c.reason = format!(
                    "{what} is in {place}, but no entry point of the application reaches it"
                );
                c.evidence = found.locs.into_iter().take(10).collect();
            } else if found.locs.is_empty() && !unwired.is_empty() {
                c.status = "contradicted".into();
                c.reason = format!(
                    "{what} is defined ({}) but never reached from {place}",
                    plural(unwired.len(), "place")
                );
                c.evidence = unwired.into_iter().take(10).collect();
            } else if found.locs.is_empty() && !found.against.is_empty() && !m.against.is_empty() {
                c.status = "contradicted".into();
                c.reason = format!(
                    "no {what} in {place}, and {} goes against it",
                    plural(found.against.len(), "place")
                );
                c.evidence = found.against.into_iter().take(10).collect();
            } else if found.locs.is_empty() && m.undecided.is_some() {
                c.reason = m.undecided.clone().unwrap_or_default();
            } else if found.locs.is_empty() {
                c.status = "contradicted".into();
                c.reason = format!("no {what} found in {place}");
            } else {
                c.status = "supported".into();
                c.reason = format!(
                    "{what} found in {place} ({})",
                    plural(found.locs.len(), "place")
                );
                c.evidence = found.locs.into_iter().take(10).collect();
            }
        }
    }
}

/// A verdict that scan findings decide: "2 findings of TS3004 in X go
/// against …", with the findings as evidence. `verb`: its singular and
/// plural forms.
fn cite_findings(
    c: &mut Claim,
    status: &str,
    findings: Vec<(String, Location)>,
    place: &str,
    verb: (&str, &str),
    rest: &str,
) {
    let mut ids: Vec<&str> = findings.iter().map(|(r, _)| r.as_str()).collect();
    ids.sort();
    ids.dedup();
    c.status = status.into();
    c.reason = format!(
        "{} of {} in {place} {} {rest}",
        plural(findings.len(), "finding"),
        ids.join(" and "),
        if findings.len() == 1 { verb.0 } else { verb.1 }
    );
    c.evidence = findings.into_iter().map(|(_, l)| l).take(10).collect();
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
