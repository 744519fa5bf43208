//! Code references in a document, and their resolution against the repository.
//! The symbol table and the "is it used" set are built once per run.

use crate::extract::{DefKind, Expr};
use crate::lang::ImportStyle;
use crate::link::{Index, Target};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::path::Path;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Reference {
    pub text: String,
    pub line: u32,
    pub column: u32,
    /// python_symbol, python_module, rust_path, file, file_line, github_link, document
    pub kind: String,
    /// resolved, missing, external, ambiguous
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Location>,
    /// Resolved symbols: is it referenced outside its own definition?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The repository symbol it resolved to (for claims).
    #[serde(skip)]
    pub symbol: Option<String>,
    /// The document section it is in, for the text report.
    #[serde(skip)]
    pub section: String,
}

/// What a piece of inline code or a link names, before resolution.
#[derive(Debug, PartialEq)]
pub enum Kind {
    /// `pkg.mod:Sym.attr` with an optional `=value`.
    PySymbol {
        module: String,
        path: String,
        value: Option<String>,
    },
    /// `pkg.mod` or `pkg.mod.func`.
    PyDotted(String),
    RustPath(String),
    /// `path/to/file.py:Symbol.attr`: a symbol in a named file.
    FileSymbol {
        path: String,
        symbol: String,
    },
    /// A bare identifier that only code has (`_build_task_tool`,
    /// `StateBackend`, `MAX_FILE_SIZE`): looked up in the file named before
    /// it on the same line, else anywhere; dropped when nothing defines it
    /// and it could be a third-party name.
    Bare(String),
    File {
        path: String,
        lines: Option<(u32, u32)>,
    },
    GitHub {
        /// `owner/repo`, as the link writes it.
        repo: String,
        path: String,
        lines: Option<(u32, u32)>,
    },
    Document(String),
    /// `src/acme/`: a folder.
    Dir(String),
}

fn ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn dotted(s: &str) -> bool {
    s.split('.').all(ident)
}

const FILE_EXTS: &[&str] = &[
    "py", "rs", "pyi", "toml", "yaml", "yml", "json", "md", "cfg", "ini", "txt", "sh", "js", "ts",
];

fn parse_lines(s: &str) -> Option<(u32, u32)> {
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: u32 = a.trim_start_matches('L').parse().ok()?;
    let b: u32 = b.trim_start_matches('L').parse().ok()?;
    Some((a, b.max(a)))
}

fn looks_like_path(s: &str) -> bool {
    !s.contains(char::is_whitespace)
        && !s.starts_with('-')
        && !s.contains("://")
        && s.rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && FILE_EXTS.contains(&ext))
        && s.split('/')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || "._-".contains(c)))
}

/// Classify inline code. `None`: not a code reference (a flag, a route, a tag).
pub fn classify_code(s: &str) -> Option<Kind> {
    let s = s.trim();
    if s.contains("::") && !s.contains(char::is_whitespace) {
        let parts: Vec<&str> = s.split("::").collect();
        if parts.len() >= 2 && parts.iter().all(|p| ident(p)) {
            return Some(Kind::RustPath(s.to_string()));
        }
        return None;
    }
    if let Some((module, rest)) = s.split_once(':') {
        // file.py:Symbol (the file's own dots are not a module path)
        if looks_like_path(module) && source_file(module) && dotted(rest) {
            return Some(Kind::FileSymbol {
                path: module.into(),
                symbol: rest.into(),
            });
        }
        if dotted(module) {
            if let Some((path, value)) = rest.split_once('=') {
                if dotted(path.trim()) {
                    return Some(Kind::PySymbol {
                        module: module.into(),
                        path: path.trim().into(),
                        value: Some(value.trim().to_string()),
                    });
                }
            } else if dotted(rest) {
                return Some(Kind::PySymbol {
                    module: module.into(),
                    path: rest.into(),
                    value: None,
                });
            }
        }
        // file.py:42
        if looks_like_path(module) {
            if let Some(l) = parse_lines(rest) {
                return Some(Kind::File {
                    path: module.into(),
                    lines: Some(l),
                });
            }
        }
        return None;
    }
    if looks_like_path(s) && (s.contains('/') || s.ends_with(".py") || s.ends_with(".rs")) {
        return Some(Kind::File {
            path: s.into(),
            lines: None,
        });
    }
    // A bare file name (`state.json`, `config.yaml`) is not a module path;
    // with no folder it names no particular file of the repository.
    if s.rsplit_once('.').is_some_and(|(_, ext)| {
        FILE_EXTS.contains(&ext.to_ascii_lowercase().as_str())
            && !["py", "rs", "pyi"].contains(&ext)
    }) {
        return None;
    }
    if s.contains('.') && dotted(s) && !s.ends_with(".py") {
        return Some(Kind::PyDotted(s.into()));
    }
    // `application/`, `src/acme/`: a folder of the repository.
    if s.ends_with('/')
        && s.len() > 1
        && s.trim_end_matches('/').split('/').all(|p| {
            !p.is_empty()
                && p != ".."
                && p.chars().all(|c| c.is_alphanumeric() || "._-".contains(c))
        })
    {
        return Some(Kind::Dir(s.trim_end_matches('/').to_string()));
    }
    if code_shaped(s) {
        return Some(Kind::Bare(s.into()));
    }
    None
}

fn source_file(s: &str) -> bool {
    [".py", ".pyi", ".rs"].iter().any(|e| s.ends_with(e))
}

/// An identifier prose never has: `snake_case` with an underscore inside,
/// `_private`, `CONSTANT_NAME`, or `CamelCase` with two capitals.
fn code_shaped(s: &str) -> bool {
    if !ident(s) || s.len() < 4 || s.starts_with("__") {
        return false;
    }
    let inner = s.trim_start_matches('_');
    let snake = inner.contains('_') || s.starts_with('_');
    let mut chars = s.chars();
    let first_upper = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let camel = first_upper
        && s.chars().any(|c| c.is_ascii_lowercase())
        && s.chars().skip(1).any(|c| c.is_ascii_uppercase());
    snake || camel
}

/// Classify a link destination. External web links other than GitHub blobs are not references.
pub fn classify_link(dest: &str) -> Option<Kind> {
    if let Some(rest) = dest
        .strip_prefix("https://github.com/")
        .or_else(|| dest.strip_prefix("http://github.com/"))
    {
        // owner/repo/blob/ref/path#L10-L20
        let parts: Vec<&str> = rest.splitn(5, '/').collect();
        if parts.len() == 5 && parts[2] == "blob" {
            let (path, frag) = match parts[4].split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (parts[4], None),
            };
            return Some(Kind::GitHub {
                repo: format!("{}/{}", parts[0], parts[1]),
                path: path.into(),
                lines: frag.and_then(parse_lines),
            });
        }
        return None;
    }
    if dest.contains("://") || dest.starts_with('#') || dest.starts_with("mailto:") {
        return None;
    }
    let path = dest.split('#').next().unwrap_or(dest);
    if path.is_empty() {
        return None;
    }
    Some(Kind::Document(path.to_string()))
}

/// References in free text (a `.tm7` justification or property value), with
/// their char offset: backtick spans, and tokens whose shape prose never has
/// (`pkg.mod:Sym`, `a::b`, paths with a slash, `file.py:42`, GitHub blob
/// links). Bare dotted words (`e.g.`, `v2.1`) are not references here.
pub fn in_plain_text(text: &str) -> Vec<(String, Kind, usize)> {
    let mut out = vec![];
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let char_at = |byte: usize| chars.partition_point(|(b, _)| *b < byte);
    let mut quoted = vec![];
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let start = part.as_ptr() as usize - text.as_ptr() as usize;
            quoted.push((start, start + part.len()));
            if let Some(k) = classify_code(part) {
                out.push((part.trim().to_string(), k, char_at(start)));
            }
        }
    }
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_whitespace() || c == '`' {
            if let Some(s) = start.take() {
                if quoted.iter().any(|(a, b)| s >= *a && s < *b) {
                    continue;
                }
                let raw: &str = &text[s..i];
                let lead = raw.len() - raw.trim_start_matches(['(', '[', '"', '\'', '<']).len();
                let tok = raw
                    .trim_start_matches(['(', '[', '"', '\'', '<'])
                    .trim_end_matches([')', ']', '"', '\'', '>', ',', ';', '.', '!', '?']);
                if tok.is_empty() {
                    continue;
                }
                let kind = if tok.starts_with("http") {
                    classify_link(tok).filter(|k| matches!(k, Kind::GitHub { .. }))
                } else {
                    classify_code(tok).filter(|k| match k {
                        Kind::PySymbol { .. } | Kind::RustPath(_) | Kind::FileSymbol { .. } => true,
                        Kind::File { path, lines } => path.contains('/') || lines.is_some(),
                        _ => false,
                    })
                };
                if let Some(k) = kind {
                    out.push((tok.to_string(), k, char_at(s + lead)));
                }
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    out.sort_by_key(|x| x.2);
    out
}

/// Symbols of the repository, built once.
pub struct Symbols<'a> {
    pub idx: &'a Index<'a>,
    /// `pkg.mod:Qual.name` / `crate::m::Name` → definition.
    by_symbol: FxHashMap<String, Target>,
    /// Leaf name → symbols (for did-you-mean).
    by_leaf: FxHashMap<String, Vec<String>>,
    /// Python modules and the top-level packages of the repository.
    modules: FxHashMap<String, usize>,
    top_packages: FxHashSet<String>,
    /// Definitions referenced from outside themselves.
    used: FxHashSet<(usize, usize)>,
    /// Repository-relative path → file index.
    by_path: FxHashMap<String, usize>,
    /// Leaf names of classes, structs, enums and traits.
    classes: FxHashSet<String>,
    /// Symbols a framework calls: route handlers, registered by a decorator
    /// or a route table (used although no code calls them).
    registered: FxHashSet<String>,
    /// The repository's own GitHub `owner/name`, when its git remote says.
    pub github: Option<String>,
    /// External APIs called anywhere (for `external` usage claims).
    pub external_calls: FxHashMap<String, Location>,
}

impl<'a> Symbols<'a> {
    pub fn build(idx: &'a Index<'a>) -> Symbols<'a> {
        let mut by_symbol = FxHashMap::default();
        let mut by_leaf: FxHashMap<String, Vec<String>> = FxHashMap::default();
        let mut modules = FxHashMap::default();
        let mut top_packages = FxHashSet::default();
        let mut by_path = FxHashMap::default();
        let mut classes = FxHashSet::default();
        for (fi, f) in idx.files.iter().enumerate() {
            by_path.insert(f.path.clone(), fi);
            let m = &idx.module[fi];
            modules.insert(m.clone(), fi);
            // Also by dotted file path (`saleor.tests.x` for a test directory
            // without __init__.py, whose module name is shorter), with and
            // without a leading `src.`.
            let dotted = f.lang.syntax().imports == ImportStyle::Dotted;
            if dotted {
                let p = f.path.trim_end_matches(".pyi").trim_end_matches(".py");
                let p = p.trim_end_matches("/__init__").replace('/', ".");
                if let Some(top) = p.split('.').next() {
                    top_packages.insert(top.to_string());
                }
                if let Some(rest) = p.strip_prefix("src.") {
                    modules.entry(rest.to_string()).or_insert(fi);
                }
                modules.entry(p).or_insert(fi);
            }
            if dotted {
                if let Some(top) = m.split('.').next() {
                    top_packages.insert(top.to_string());
                }
            }
            for di in 0..f.defs.len() {
                let s = idx.def_symbol(fi, di);
                let leaf = f.defs[di]
                    .name
                    .rsplit(['.', ':'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                if f.defs[di].kind == DefKind::Class {
                    classes.insert(leaf.clone());
                }
                by_leaf.entry(leaf).or_default().push(s.clone());
                by_symbol.entry(s).or_insert(Target::Def(fi, di));
            }
            for (ai, a) in f.assigns.iter().enumerate() {
                let in_class = a
                    .scope
                    .get()
                    .is_none_or(|s| f.defs[s].kind == DefKind::Class);
                if in_class {
                    let s = idx.var_symbol(fi, ai);
                    by_leaf
                        .entry(a.target.to_string())
                        .or_default()
                        .push(s.clone());
                    by_symbol.entry(s).or_insert(Target::Var(fi, ai));
                }
            }
        }
        for v in by_leaf.values_mut() {
            v.sort();
            v.dedup();
        }
        // Uses: every name in calls, decorators, bases, parameters and assigned values.
        let mut used = FxHashSet::default();
        let mut decorated = vec![];
        let mut external_calls = FxHashMap::default();
        for (fi, f) in idx.files.iter().enumerate() {
            let mut note = |scope: Option<usize>, e: &Expr| {
                visit_names(e, &mut |name: &Expr| {
                    if let Some(Target::Def(tf, td)) = idx.resolve_expr(fi, scope, name) {
                        // Self-references (recursion) do not count.
                        let inside = tf == fi
                            && scope.is_some_and(|s| {
                                let d = &f.defs[td];
                                let sd = &f.defs[s];
                                sd.start_byte >= d.start_byte && sd.end_byte <= d.end_byte
                            });
                        if !inside {
                            used.insert((tf, td));
                        }
                    }
                });
            };
            for (ci, (c, scope)) in idx.calls(fi).enumerate() {
                note(scope, &Expr::Call(Box::new(c.clone())));
                if let Some(Target::External(api)) = idx.callee(fi, ci) {
                    external_calls.entry(api.to_string()).or_insert(Location {
                        file: f.path.clone(),
                        line: c.start.line,
                    });
                }
            }
            for (di, d) in f.defs.iter().enumerate() {
                // A decorator that is a call or an attribute registers the
                // function with a framework (`@app.route(..)`, `@mcp.tool()`,
                // `@router.get`): the framework calls it.
                if d.decorators.iter().any(registers) {
                    decorated.push((fi, di));
                }
                for e in d.decorators.iter().chain(&d.bases) {
                    note(d.parent, e);
                }
                for p in &d.params {
                    for e in p.ty.iter().chain(&p.default) {
                        note(Some(di), e);
                    }
                }
            }
            for a in &f.assigns {
                note(a.scope.get(), &a.value);
            }
        }
        used.extend(decorated);
        Symbols {
            idx,
            by_symbol,
            by_leaf,
            modules,
            top_packages,
            used,
            by_path,
            classes,
            registered: FxHashSet::default(),
            github: None,
            external_calls,
        }
    }

    /// The files that define `name` when it is a class (or another
    /// code-shaped definition) of the repository: how a table row or
    /// heading names an element ("LocalShellBackend").
    pub fn files_defining(&self, name: &str) -> Vec<String> {
        // The product's own name ("JupyterHub" for the package `jupyterhub`)
        // names the whole system, not the class that shares it.
        if !code_shaped(name)
            || self
                .top_packages
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name))
        {
            return vec![];
        }
        let mut out: Vec<String> = self
            .by_leaf
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|s| match self.by_symbol.get(s) {
                Some(Target::Def(f, d)) if self.idx.files[*f].defs[*d].kind == DefKind::Class => {
                    Some(self.idx.files[*f].path.clone())
                }
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Is `path` a source file of the analysed code (production scope)?
    pub fn has_source(&self, path: &str) -> bool {
        self.by_path.contains_key(path)
    }

    /// The definition symbols of a source file.
    pub fn defs_in(&self, path: &str) -> Vec<String> {
        match self.by_path.get(path) {
            Some(&fi) => (0..self.idx.files[fi].defs.len())
                .map(|d| self.idx.def_symbol(fi, d))
                .collect(),
            None => vec![],
        }
    }

    /// Handlers that a framework registers (route facts): they count as used.
    pub fn register_handlers<'s>(&mut self, handlers: impl Iterator<Item = &'s str>) {
        self.registered.extend(handlers.map(str::to_string));
    }

    fn location(&self, t: &Target) -> Option<Location> {
        let idx = self.idx;
        match t {
            Target::Def(f, d) => Some(Location {
                file: idx.files[*f].path.clone(),
                line: idx.files[*f].defs[*d].pos.line,
            }),
            Target::Var(f, a) => Some(Location {
                file: idx.files[*f].path.clone(),
                line: idx.files[*f].assigns[*a].pos.line,
            }),
            Target::Module(f) => Some(Location {
                file: idx.files[*f].path.clone(),
                line: 1,
            }),
            Target::External(_) => None,
        }
    }

    fn is_used(&self, t: &Target) -> Option<bool> {
        match t {
            Target::Def(f, d) => {
                let defs = &self.idx.files[*f].defs;
                // A method is used when its class is, or when called itself.
                let class_used = defs[*d]
                    .parent
                    .is_some_and(|p| self.used.contains(&(*f, p)));
                Some(self.used.contains(&(*f, *d)) || class_used)
            }
            _ => None,
        }
    }

    fn mark_resolved(&self, r: &mut Reference, t: &Target, symbol: String) {
        r.status = "resolved".into();
        r.target = self.location(t);
        r.used = self
            .is_used(t)
            .map(|u| u || self.registered.contains(&symbol));
        r.symbol = Some(symbol);
    }

    /// Closest name: the same leaf defined elsewhere, else the nearest name in the module.
    fn suggest(&self, module: &str, path: &str) -> Option<String> {
        // The same qualified name in another module (a moved class or function).
        let tail = format!(":{path}");
        let mut moved: Vec<&String> = self
            .by_symbol
            .keys()
            .filter(|s| s.ends_with(&tail))
            .collect();
        moved.sort();
        if let Some(m) = moved.first() {
            return Some((*m).clone());
        }
        let leaf = path.rsplit('.').next().unwrap_or(path);
        if path.contains('.') {
            // A renamed method: look in its own class first (below, by edit distance).
            return self.closest_in(module, path);
        }
        if let Some(cands) = self.by_leaf.get(leaf) {
            if let Some(c) = cands.first() {
                return Some(c.clone());
            }
        }
        self.closest_in(module, path)
    }

    fn closest_in(&self, module: &str, path: &str) -> Option<String> {
        let prefix = format!("{module}:");
        let mut best: Option<(usize, &String)> = None;
        for s in self.by_symbol.keys() {
            if let Some(rest) = s.strip_prefix(&prefix) {
                let d = edit_distance(&rest.to_lowercase(), &path.to_lowercase());
                if d <= (path.len() / 3).max(2) && best.is_none_or(|(bd, bs)| (d, s) < (bd, bs)) {
                    best = Some((d, s));
                }
            }
        }
        best.map(|(_, s)| s.clone())
    }

    /// Resolve one reference.
    pub fn resolve(
        &self,
        kind: &Kind,
        text: &str,
        repo: &Path,
        doc_dir: &Path,
        line: u32,
        column: u32,
    ) -> Reference {
        let mut ctx = None;
        self.resolve_in(kind, text, repo, doc_dir, line, column, &mut ctx)
            .unwrap_or_else(|| {
                let mut r = self.blank(text, line, column);
                r.kind = "symbol".into();
                r.status = "external".into();
                r
            })
    }

    fn blank(&self, text: &str, line: u32, column: u32) -> Reference {
        Reference {
            text: text.to_string(),
            line,
            column,
            kind: String::new(),
            status: "missing".into(),
            target: None,
            used: None,
            suggestion: None,
            note: None,
            symbol: None,
            section: String::new(),
        }
    }

    /// Resolve one reference in the context of the source file named before
    /// it on the same line (`ctx`, updated when this one names a file). `None`:
    /// a bare identifier that nothing in the repository defines and that a
    /// third-party library may (not a reference to judge).
    #[allow(clippy::too_many_arguments)]
    pub fn resolve_in(
        &self,
        kind: &Kind,
        text: &str,
        repo: &Path,
        doc_dir: &Path,
        line: u32,
        column: u32,
        ctx: &mut Option<usize>,
    ) -> Option<Reference> {
        let mut r = self.blank(text, line, column);
        match kind {
            Kind::PySymbol {
                module,
                path,
                value,
            } => {
                r.kind = "python_symbol".into();
                let top = module.split('.').next().unwrap_or("");
                if !self.modules.contains_key(module) && !self.top_packages.contains(top) {
                    let d = format!("{module}.{path}");
                    if !self.relative_dotted(&mut r, &d, repo, doc_dir, *ctx) {
                        self.external(&mut r, &d);
                    }
                    return Some(r);
                }
                let real = self
                    .modules
                    .get(module.as_str())
                    .map(|&fi| self.idx.module[fi].clone())
                    .unwrap_or_else(|| module.clone());
                let sym = format!("{real}:{path}");
                match self.by_symbol.get(&sym) {
                    Some(t) => {
                        self.mark_resolved(&mut r, t, sym);
                        if let (Some(v), Target::Var(f, a)) = (value, t) {
                            let actual = &self.idx.files[*f].assigns[*a].value;
                            if !literal_equals(actual, v) {
                                r.status = "missing".into();
                                r.note = Some(format!(
                                    "{path} is assigned {}, not {v}",
                                    actual.display()
                                ));
                            }
                        }
                    }
                    None => {
                        r.suggestion = self.suggest(module, path);
                        if !self.modules.contains_key(module) {
                            r.note = Some(format!("no module {module} in the repository"));
                        }
                    }
                }
            }
            Kind::PyDotted(d) => {
                r.kind = "python_module".into();
                let top = d.split('.').next().unwrap_or("");
                if !self.top_packages.contains(top) {
                    if !self.relative_dotted(&mut r, d, repo, doc_dir, *ctx) {
                        self.external(&mut r, d);
                    }
                    return Some(r);
                }
                if let Some(&fi) = self.modules.get(d.as_str()) {
                    r.status = "resolved".into();
                    r.target = self.location(&Target::Module(fi));
                    return Some(r);
                }
                // pkg.mod.func: the longest module prefix in the repository.
                let parts: Vec<&str> = d.split('.').collect();
                for cut in (1..parts.len()).rev() {
                    let m = parts[..cut].join(".");
                    if let Some(&fi) = self.modules.get(&m) {
                        let path = parts[cut..].join(".");
                        let sym = format!("{}:{path}", self.idx.module[fi]);
                        r.kind = "python_symbol".into();
                        match self.by_symbol.get(&sym) {
                            Some(t) => self.mark_resolved(&mut r, t, sym),
                            None => r.suggestion = self.suggest(&m, &path),
                        }
                        return Some(r);
                    }
                }
            }
            Kind::RustPath(p) => {
                r.kind = "rust_path".into();
                let rest = p.strip_prefix("crate::").unwrap_or(p);
                let want = format!("::{rest}");
                let hits: Vec<&String> = self
                    .by_symbol
                    .keys()
                    .filter(|s| s.contains("::") && (s.ends_with(&want) || *s == p))
                    .collect();
                match hits.len() {
                    0 => {
                        let first = rest.split("::").next().unwrap_or("");
                        let repo_crate = self.by_symbol.keys().any(|s| {
                            s.starts_with(&format!("{first}::")) || p.starts_with("crate::")
                        });
                        if !repo_crate && !p.starts_with("crate::") {
                            self.external(&mut r, p);
                        } else {
                            let leaf = rest.rsplit("::").next().unwrap_or(rest);
                            r.suggestion = self
                                .by_leaf
                                .get(leaf)
                                .and_then(|c| c.iter().find(|s| s.contains("::")).cloned());
                        }
                    }
                    1 => self.mark_resolved(&mut r, &self.by_symbol[hits[0]], hits[0].clone()),
                    _ => {
                        r.status = "ambiguous".into();
                        let mut h: Vec<String> = hits.into_iter().cloned().collect();
                        h.sort();
                        r.note = Some(format!("matches {}", h.join(", ")));
                    }
                }
            }
            Kind::GitHub { repo, .. }
                if self
                    .github
                    .as_ref()
                    .is_some_and(|own| !own.eq_ignore_ascii_case(repo)) =>
            {
                // A file of another repository: nothing here to check it against.
                r.kind = "github_link".into();
                r.status = "external".into();
                r.note = Some(format!("a file of {repo}, another repository; not read"));
            }
            Kind::File { path, lines } | Kind::GitHub { path, lines, .. } => {
                r.kind = match (kind, lines) {
                    (Kind::GitHub { .. }, _) => "github_link",
                    (_, Some(_)) => "file_line",
                    _ => "file",
                }
                .into();
                if outside_repo(repo, doc_dir, path) {
                    outside(&mut r);
                } else {
                    self.file(&mut r, repo, doc_dir, path, *lines);
                    if let Some(t) = &r.target {
                        *ctx = self.by_path.get(&t.file).copied();
                    }
                }
            }
            Kind::FileSymbol { path, symbol } => {
                r.kind = "file_symbol".into();
                if outside_repo(repo, doc_dir, path) {
                    outside(&mut r);
                    return Some(r);
                }
                self.file(&mut r, repo, doc_dir, path, None);
                let Some(fi) = r.target.as_ref().and_then(|t| self.by_path.get(&t.file)) else {
                    r.status = "missing".into();
                    r.target = None;
                    return Some(r);
                };
                *ctx = Some(*fi);
                self.in_file(&mut r, *fi, symbol);
            }
            Kind::Bare(name) => {
                r.kind = "symbol".into();
                if let Some(fi) = *ctx {
                    // Named after a file on the same line: it must be there.
                    self.in_file(&mut r, fi, name);
                    return Some(r);
                }
                let mut cands: Vec<&String> = self
                    .by_leaf
                    .get(name.as_str())
                    .into_iter()
                    .flatten()
                    .collect();
                let doc_rel = relative_dir(repo, doc_dir);
                cands.sort_by_key(|s| {
                    let file = self.by_symbol.get(*s).and_then(|t| self.location(t));
                    let near = file
                        .as_ref()
                        .is_some_and(|l| !doc_rel.is_empty() && l.file.starts_with(&doc_rel));
                    (!near, (*s).clone())
                });
                match cands.first() {
                    Some(s) => {
                        let t = self.by_symbol[*s];
                        self.mark_resolved(&mut r, &t, (*s).clone());
                        if cands.len() > 1 {
                            r.note =
                                Some(format!("also defined in {} other places", cands.len() - 1));
                        }
                    }
                    // A private name is the repository's own: it is gone.
                    None if name.starts_with('_') => {
                        r.suggestion = self.closest_leaf(name);
                    }
                    None => return None,
                }
            }
            Kind::Dir(p) => {
                r.kind = "folder".into();
                let doc_rel = relative_dir(repo, doc_dir);
                let found = [format!("{doc_rel}{p}"), p.clone()].into_iter().find(|c| {
                    let d = repo.join(c);
                    d.is_dir() && crate::fsread::within(repo, &d)
                });
                match found {
                    Some(f) => {
                        r.status = "resolved".into();
                        r.target = Some(Location {
                            file: format!("{f}/"),
                            line: 1,
                        });
                    }
                    None => r.note = Some(format!("no folder {p}/ in the repository")),
                }
            }
            Kind::Document(p) => {
                r.kind = "document".into();
                if outside_repo(repo, doc_dir, p) {
                    outside(&mut r);
                    return Some(r);
                }
                let target = doc_dir.join(p);
                if target.exists() {
                    r.status = "resolved".into();
                } else {
                    r.note = Some(format!("{} does not exist", target.display()));
                }
            }
        }
        Some(r)
    }

    /// A symbol named in (or for) file `fi`: its qualified name in the file,
    /// else the same leaf defined anywhere in it (a method cited as a
    /// function, a module function cited as a method), else a name the file
    /// imports. Missing otherwise, with where that name is defined now.
    fn in_file(&self, r: &mut Reference, fi: usize, symbol: &str) {
        let f = &self.idx.files[fi];
        let module = &self.idx.module[fi];
        let sep = f.lang.syntax().symbol_sep;
        let qual = if sep == "::" {
            symbol.replace('.', "::")
        } else {
            symbol.to_string()
        };
        let sym = format!("{module}{sep}{qual}");
        if let Some(t) = self.by_symbol.get(&sym) {
            let t = *t;
            self.mark_resolved(r, &t, sym);
            return;
        }
        let leaf = symbol.rsplit(['.', ':']).next().unwrap_or(symbol);
        if let Some(di) = f
            .defs
            .iter()
            .position(|d| d.name.rsplit(['.', ':']).next() == Some(leaf))
        {
            let s = self.idx.def_symbol(fi, di);
            self.mark_resolved(r, &Target::Def(fi, di), s.clone());
            if symbol.contains('.') {
                r.note = Some(format!("found as {s}"));
            }
            return;
        }
        if let Some(ai) = f
            .assigns
            .iter()
            .position(|a| a.target == leaf && a.scope.get().is_none())
        {
            let s = self.idx.var_symbol(fi, ai);
            self.mark_resolved(r, &Target::Var(fi, ai), s);
            return;
        }
        match self.idx.resolve_name(fi, None, symbol) {
            Some(Target::External(api)) => {
                // Imported from a third-party library.
                self.external(r, &api);
                return;
            }
            Some(t) => {
                r.status = "resolved".into();
                r.target = self.location(&t);
                r.note = Some(format!("imported into {}", f.path));
                return;
            }
            None => {}
        }
        r.status = "missing".into();
        r.target = None;
        r.note = Some(format!("{symbol} is not defined or imported in {}", f.path));
        r.suggestion = self
            .by_leaf
            .get(leaf)
            .and_then(|c| c.first().cloned())
            .or_else(|| self.closest_in(module, symbol));
    }

    /// The closest defined leaf name (edit distance), for a name nothing defines.
    fn closest_leaf(&self, name: &str) -> Option<String> {
        let mut best: Option<(usize, &String)> = None;
        for (leaf, syms) in &self.by_leaf {
            let d = edit_distance(leaf, name);
            if d <= (name.len() / 3).max(2) && best.is_none_or(|(bd, bl)| (d, leaf) < (bd, bl)) {
                best = syms.first().map(|s| (d, s)).or(best);
            }
        }
        best.map(|(_, s)| s.clone())
    }

    /// A dotted name whose head is not a top-level package: `Class.member`
    /// (a class of the repository), a module path relative to the
    /// document's package (`config.load` for `pkg.config:load`), or a
    /// top-level package written with the wrong case (missing, with the right
    /// spelling). `false`: none of these, a third-party name.
    fn relative_dotted(
        &self,
        r: &mut Reference,
        d: &str,
        repo: &Path,
        doc_dir: &Path,
        ctx: Option<usize>,
    ) -> bool {
        let parts: Vec<&str> = d.split('.').collect();
        let doc_rel = relative_dir(repo, doc_dir);
        let near =
            |fi: &usize| !doc_rel.is_empty() && self.idx.files[*fi].path.starts_with(&doc_rel);
        // Class.member
        if parts.len() >= 2 && self.classes.contains(parts[0]) {
            r.kind = "python_symbol".into();
            let tail = format!(":{d}");
            let tail_rs = format!("::{}", d.replace('.', "::"));
            let mut hits: Vec<&String> = self
                .by_symbol
                .keys()
                .filter(|s| s.ends_with(&tail) || s.ends_with(&tail_rs))
                .collect();
            hits.sort_by_key(|s| {
                let fi = self.by_symbol.get(*s).and_then(|t| match t {
                    Target::Def(f, _) | Target::Var(f, _) => Some(*f),
                    _ => None,
                });
                (fi != ctx, !fi.as_ref().is_some_and(near), (*s).clone())
            });
            if let Some(s) = hits.first() {
                let t = self.by_symbol[*s];
                self.mark_resolved(r, &t, (*s).clone());
                return true;
            }
            // The class's own file (or the one named before it).
            let class_file = ctx.or_else(|| {
                self.by_leaf
                    .get(parts[0])
                    .into_iter()
                    .flatten()
                    .find_map(|s| match self.by_symbol.get(s) {
                        Some(Target::Def(f, _)) => Some(*f),
                        _ => None,
                    })
            });
            if let Some(fi) = class_file {
                self.in_file(r, fi, d);
            }
            return true;
        }
        // A module relative to the document's package.
        for cut in (1..=parts.len()).rev() {
            let m = parts[..cut].join(".");
            let suffix = format!(".{m}");
            let mut mods: Vec<(&String, &usize)> = self
                .modules
                .iter()
                .filter(|(name, _)| name.ends_with(&suffix))
                .collect();
            if mods.is_empty() {
                continue;
            }
            mods.sort_by_key(|(name, fi)| (!near(fi), name.matches('.').count(), (*name).clone()));
            if cut == parts.len() {
                r.status = "resolved".into();
                r.target = self.location(&Target::Module(*mods[0].1));
                return true;
            }
            r.kind = "python_symbol".into();
            let rest = parts[cut..].join(".");
            // The first of those modules that has the symbol, else the nearest.
            for (_, fi) in &mods {
                self.in_file(r, **fi, &rest);
                if r.status == "resolved" {
                    return true;
                }
            }
            self.in_file(r, *mods[0].1, &rest);
            return true;
        }
        // A top-level package with the wrong case.
        let top = parts[0].to_lowercase();
        if let Some(real) = self.top_packages.iter().find(|p| p.to_lowercase() == top) {
            r.kind = "python_module".into();
            r.status = "missing".into();
            r.suggestion = Some(format!("{real}{}", &d[parts[0].len()..]));
            r.note = Some(format!("the repository's package is spelled {real}"));
            return true;
        }
        false
    }

    /// A path in the repository, possibly with a line range. A GitHub path
    /// may carry a leading directory the checkout does not (try suffixes).
    fn file(
        &self,
        r: &mut Reference,
        repo: &Path,
        doc_dir: &Path,
        path: &str,
        lines: Option<(u32, u32)>,
    ) {
        // Only files inside the repository are looked at: `..`, `.` and a
        // leading `/` are dropped (a document's relative link is matched by
        // its suffix), and a file reached through a link that leads out of
        // the repository is not read.
        let parts: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
            .collect();
        let doc_rel = relative_dir(repo, doc_dir);
        let exists = |p: &String| {
            let f = repo.join(p);
            f.is_file() && crate::fsread::within(repo, &f)
        };
        // From the document's folder first (a path written relative to it),
        // then from the root and by suffix, then the one source file under
        // the document's folder that ends with it.
        let joined = parts.join("/");
        let from_doc = (!doc_rel.is_empty() && !path.starts_with('/'))
            .then(|| format!("{doc_rel}{joined}"))
            .filter(exists);
        let found = from_doc
            .or_else(|| (0..parts.len()).map(|i| parts[i..].join("/")).find(exists))
            .or_else(|| {
                let tail = format!("/{joined}");
                let under: Vec<&String> = self
                    .idx
                    .files
                    .iter()
                    .map(|f| &f.path)
                    .filter(|p| p.ends_with(&tail) && p.starts_with(&doc_rel))
                    .collect();
                (under.len() == 1).then(|| under[0].clone())
            });
        let Some(p) = found else {
            let name = parts.last().copied().unwrap_or("");
            let mut same: Vec<&String> = self
                .idx
                .files
                .iter()
                .map(|f| &f.path)
                .filter(|f| f.rsplit('/').next() == Some(name))
                .collect();
            same.sort();
            r.suggestion = same.first().map(|s| s.to_string());
            return;
        };
        let count = crate::fsread::read(&repo.join(&p), crate::DEFAULT_MAX_FILE_SIZE, Some(repo))
            .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u32 + 1)
            .unwrap_or(0);
        match lines {
            Some((a, b)) if b > count || a == 0 => {
                r.note = Some(format!("{p} has {count} lines; L{a}-L{b} is past its end"));
            }
            _ => {
                r.status = "resolved".into();
                r.target = Some(Location {
                    file: p,
                    line: lines.map(|l| l.0).unwrap_or(1),
                });
            }
        }
    }

    /// A third-party API: a usage claim (is it called?).
    fn external(&self, r: &mut Reference, api: &str) {
        r.status = "external".into();
        match self.external_calls.get(api) {
            Some(loc) => {
                r.used = Some(true);
                r.target = Some(loc.clone());
                r.note = Some(format!("{api} is called at {}:{}", loc.file, loc.line));
            }
            None => {
                r.used = Some(false);
                r.note = Some(format!("{api} is not called anywhere in the repository"));
            }
        }
    }
}

/// A decorator that registers its function with a framework: a call or an
/// attribute (`@app.route("/x")`, `@router.get`), not a bare name such as
/// `@staticmethod` or `@property`.
fn registers(e: &Expr) -> bool {
    const LANGUAGE: &[&str] = &[
        "wraps",
        "lru_cache",
        "cache",
        "cached_property",
        "dataclass",
        "property",
        "setter",
        "getter",
        "deleter",
        "abstractmethod",
        "staticmethod",
        "classmethod",
        "override",
        "overload",
        "total_ordering",
        "contextmanager",
        "asynccontextmanager",
        "fixture",
    ];
    let (name, called) = match e {
        Expr::Call(c) => (c.func.display(), true),
        other => (other.display(), false),
    };
    let leaf = name.rsplit(['.', ':']).next().unwrap_or("");
    (called || name.contains('.')) && !LANGUAGE.contains(&leaf)
}

fn literal_equals(e: &Expr, v: &str) -> bool {
    let v = v.trim();
    match e {
        Expr::Str(s) => v.trim_matches(['"', '\'']) == s,
        Expr::Num(n) => n == v,
        Expr::Bool(b) => v.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Expr::NoneLit => v == "None",
        other => other.display() == v,
    }
}

pub(crate) fn visit_names(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match e {
        Expr::Name(..) => f(e),
        Expr::Call(c) => {
            visit_names(&c.func, f);
            for a in &c.args {
                visit_names(&a.value, f);
            }
        }
        Expr::Attr(a) => visit_names(&a.base, f),
        Expr::Closure(b) | Expr::Not(b) | Expr::Element(b) => visit_names(b, f),
        Expr::Dict(kv) => {
            for (k, v) in kv {
                visit_names(k, f);
                visit_names(v, f);
            }
        }
        Expr::List(xs) | Expr::Mix(xs) | Expr::Logic(_, xs) => {
            xs.iter().for_each(|x| visit_names(x, f))
        }
        Expr::Macro(m) => m.parts.iter().for_each(|x| visit_names(x, f)),
        Expr::Subscript(s) => {
            visit_names(&s.base, f);
            s.keys.iter().for_each(|x| visit_names(x, f));
        }
        _ => {}
    }
}

pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The document's folder relative to the repository root, with a trailing
/// `/` ("" at the root or outside the repository).
fn relative_dir(repo: &Path, doc_dir: &Path) -> String {
    let (Ok(root), Ok(dir)) = (repo.canonicalize(), doc_dir.canonicalize()) else {
        return String::new();
    };
    match dir.strip_prefix(&root) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            format!("{}/", crate::walk::rel_path(Path::new(""), rel))
        }
        _ => String::new(),
    }
}

/// The repository's GitHub `owner/name` from its git remotes (`.git/config`,
/// read checked and capped): `origin` first, else the only GitHub remote.
pub fn github_repo(root: &Path) -> Option<String> {
    let text = crate::fsread::read_text(&root.join(".git/config"), 1 << 20, Some(root)).ok()?;
    let mut remotes: Vec<(String, String)> = vec![];
    let mut current = String::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("[remote \"") {
            current = rest.trim_end_matches("\"]").to_string();
        } else if l.starts_with('[') {
            current.clear();
        } else if let Some(url) = l
            .strip_prefix("url")
            .map(|r| r.trim_start_matches([' ', '=']))
        {
            if current.is_empty() {
                continue;
            }
            let url = url.trim();
            let tail = url
                .split_once("github.com/")
                .or_else(|| url.split_once("github.com:"))
                .map(|(_, t)| t);
            if let Some(t) = tail {
                let t = t.trim_end_matches('/').trim_end_matches(".git");
                let mut parts = t.split('/');
                if let (Some(o), Some(n)) = (parts.next(), parts.next()) {
                    remotes.push((current.clone(), format!("{o}/{n}")));
                }
            }
        }
    }
    remotes
        .iter()
        .find(|(n, _)| n == "origin")
        .or_else(|| (remotes.len() == 1).then(|| &remotes[0]))
        .map(|(_, r)| r.clone())
}

/// A reference to a path outside the repository: reported, nothing read.
fn outside(r: &mut Reference) {
    r.status = "outside-repo".into();
    r.note = Some("points outside the repository; not read".into());
}

/// Does `path` (as written in a document) lead outside `repo`, whether
/// taken from the repository root or from the document's directory? Decided
/// on the text alone (`..` and absolute paths), before anything is read.
fn outside_repo(repo: &Path, doc_dir: &Path, path: &str) -> bool {
    fn normal(p: &Path) -> Option<std::path::PathBuf> {
        use std::path::Component;
        let mut out = std::path::PathBuf::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    if !out.pop() {
                        return None;
                    }
                }
                Component::CurDir => {}
                c => out.push(c),
            }
        }
        Some(out)
    }
    let p = Path::new(path);
    let Ok(root) = repo.canonicalize() else {
        return true;
    };
    let inside = |base: &Path| {
        base.canonicalize()
            .ok()
            .and_then(|b| normal(&b.join(p)))
            .is_some_and(|n| n.starts_with(&root))
    };
    if p.is_absolute() {
        return !normal(p).is_some_and(|n| n.starts_with(&root));
    }
    !(inside(repo) || inside(doc_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_is_known_from_its_git_remote() {
        let t = std::env::temp_dir().join(format!("ts-gh-{}", std::process::id()));
        std::fs::create_dir_all(t.join(".git")).unwrap();
        std::fs::write(
            t.join(".git/config"),
            "[core]\n\turl = https://github.com/not/this\n[remote \"upstream\"]\n\turl = https://github.com/up/stream.git\n[remote \"origin\"]\n\turl = git@github.com:acme/relay.git\n",
        )
        .unwrap();
        assert_eq!(github_repo(&t).as_deref(), Some("acme/relay"));
        std::fs::remove_dir_all(&t).unwrap();
        assert_eq!(github_repo(&t), None);
    }

    #[test]
    fn classifies_code_spans() {
        assert_eq!(
            classify_code("acme.api.auth:TokenVerifier"),
            Some(Kind::PySymbol {
                module: "acme.api.auth".into(),
                path: "TokenVerifier".into(),
                value: None
            })
        );
        assert!(matches!(
            classify_code("acme.cfg:Settings.max_bytes=1024"),
            Some(Kind::PySymbol { value: Some(v), .. }) if v == "1024"
        ));
        assert_eq!(
            classify_code("yaml.safe_load"),
            Some(Kind::PyDotted("yaml.safe_load".into()))
        );
        assert_eq!(
            classify_code("crate::auth::Guard"),
            Some(Kind::RustPath("crate::auth::Guard".into()))
        );
        assert_eq!(
            classify_code("src/acme/cron.py"),
            Some(Kind::File {
                path: "src/acme/cron.py".into(),
                lines: None
            })
        );
        assert_eq!(
            classify_code("src/acme/cron.py:12"),
            Some(Kind::File {
                path: "src/acme/cron.py".into(),
                lines: Some((12, 12))
            })
        );
        assert_eq!(
            classify_code("application/"),
            Some(Kind::Dir("application".into()))
        );
        assert_eq!(
            classify_code("path/to/file.py:Cls.meth"),
            Some(Kind::FileSymbol {
                path: "path/to/file.py".into(),
                symbol: "Cls.meth".into()
            })
        );
        assert_eq!(
            classify_code("_build_task_tool"),
            Some(Kind::Bare("_build_task_tool".into()))
        );
        assert_eq!(
            classify_code("StateBackend"),
            Some(Kind::Bare("StateBackend".into()))
        );
        for not_ref in [
            "state.json",
            "config.yaml",
            "Spawner",
            "token",
            "../etc/",
            "--max-config-bytes",
            "/v2/*",
            "!!python/object",
            "GET /items",
            "n/a",
        ] {
            assert_eq!(classify_code(not_ref), None, "{not_ref}");
        }
        assert_eq!(
            classify_link("https://github.com/acme/relay/blob/main/src/acme/hooks.py#L40-L52"),
            Some(Kind::GitHub {
                repo: "acme/relay".into(),
                path: "src/acme/hooks.py".into(),
                lines: Some((40, 52))
            })
        );
        assert_eq!(classify_link("https://example.com/x"), None);
        assert_eq!(
            classify_link("../guides/deploy.md"),
            Some(Kind::Document("../guides/deploy.md".into()))
        );
    }
}
