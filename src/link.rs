//! Whole-repository linking: module table, symbol tables, and name resolution.
//!
//! Every name a file uses is resolved through that file's scopes (function
//! locals, module definitions and assignments, imports, builtins) to either a
//! definition in the repository, a variable, a repository module, or an
//! external qualified name such as `yaml.load` or `std::process::Command::new`.

use crate::extract::{Arg, CallExpr, DefKind, Expr, FileFacts};
use crate::intern::Sym;
use crate::lang::{ImportStyle, Lang};
use rustc_hash::FxHashMap as HashMap;

/// What a name resolves to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// A definition in the repository: (file index, def index).
    Def(usize, usize),
    /// A variable: (file index, assign index).
    Var(usize, usize),
    /// A repository module: file index.
    Module(usize),
    /// Not defined in the repository: the fully qualified name.
    External(crate::intern::Sym),
}

/// A resolved callee in 8 bytes (an `OnceLock<Option<Target>>` took 32, for
/// every call of the repository): the top three bits say what it is, 0
/// for not resolved yet. A target whose indices do not fit is not kept
/// (it is resolved again when asked).
struct PackedTarget;

impl PackedTarget {
    const NONE: u64 = 1;
    const DEF: u64 = 2;
    const VAR: u64 = 3;
    const MODULE: u64 = 4;
    const EXTERNAL: u64 = 5;

    fn pack(t: Option<Target>) -> Option<u64> {
        let two = |tag: u64, a: usize, b: usize| {
            let (a, b) = (u32::try_from(a).ok()?, u32::try_from(b).ok()?);
            (a < 1 << 29).then_some(tag << 61 | u64::from(a) << 32 | u64::from(b))
        };
        match t {
            None => Some(Self::NONE << 61),
            Some(Target::Def(f, d)) => two(Self::DEF, f, d),
            Some(Target::Var(f, a)) => two(Self::VAR, f, a),
            Some(Target::Module(f)) => two(Self::MODULE, 0, f),
            Some(Target::External(q)) => Some(Self::EXTERNAL << 61 | u64::from(q.id())),
        }
    }

    /// `None`: not resolved yet.
    fn unpack(p: u64) -> Option<Option<Target>> {
        let (a, b) = (
            ((p >> 32) & ((1 << 29) - 1)) as usize,
            (p & 0xffff_ffff) as usize,
        );
        Some(match p >> 61 {
            Self::NONE => None,
            Self::DEF => Some(Target::Def(a, b)),
            Self::VAR => Some(Target::Var(a, b)),
            Self::MODULE => Some(Target::Module(b)),
            Self::EXTERNAL => Some(Target::External(crate::intern::Sym::from_id(p as u32)?)),
            _ => return None,
        })
    }
}

const MAX_HOPS: u32 = 12;

const PY_BUILTINS: &[&str] = &[
    "open",
    "eval",
    "exec",
    "compile",
    "__import__",
    "input",
    "getattr",
    "setattr",
];

pub struct Index<'a> {
    /// The repository's own framework specs (see [`crate::frameworks`]).
    pub frameworks: &'a [crate::frameworks::spec::FrameworkSpec],
    pub files: &'a [FileFacts],
    /// Supply-chain facts of the repository (workflows), see [`crate::supply_chain`].
    pub ci_facts: &'a [crate::facts::Fact],
    /// Primary module name of each file (`pkg.mod` / `crate_name::a::b`).
    pub module: Vec<String>,
    modules: HashMap<String, usize>,
    /// Per file: top-level and nested definition names → def index.
    defs: Vec<Names>,
    /// Per file: (scope, name) → last assign index.
    assigns: Vec<ScopedNames>,
    /// Per file: local name → import index (last wins).
    imports: Vec<Names>,
    /// Repository-relative path → file index.
    paths: HashMap<&'a str, usize>,
    /// Per file, per import: the absolute module path it names (interned:
    /// the same few paths are imported by file after file).
    import_abs: Vec<Box<[Sym]>>,
    /// Per file: every call (see [`FileFacts::each_call`]) in source order.
    calls: Vec<Box<[&'a CallExpr]>>,
    /// Per file, per position in `calls`: the enclosing definition (a
    /// 32-bit key, see `scope_key`).
    call_scopes: Vec<Box<[u32]>>,
    /// Per file: positions in `calls`, grouped by enclosing definition.
    calls_by_scope: Vec<ByScope>,
    /// Per file, per position in `calls`: the callee, resolved on first use
    /// (see [`PackedTarget`]).
    callees: Vec<Box<[std::sync::atomic::AtomicU64]>>,
    /// Per file, per assignment whose value is a call: that call's position
    /// in `calls` (`u32::MAX` for other values).
    assign_calls: Vec<Vec<u32>>,
    /// Memo of module-level name resolution: per file, per hop count, by name.
    module_level: Vec<std::sync::Mutex<Vec<ModuleLevelMemo>>>,
    /// Worker threads for per-file passes over the index (the scan's).
    pub threads: usize,
}

/// Answers by name, packed in 8 bytes ([`PackedTarget`]; an answer that
/// does not pack is not kept): a third of the size of an `Option<Target>`
/// entry, on a memo that holds every module-level name resolved.
type ModuleLevelMemo = HashMap<crate::intern::Sym, u64>;

impl Drop for Index<'_> {
    fn drop(&mut self) {
        if !crate::leaves_memory_to_os() {
            return;
        }
        use std::mem::take;
        std::mem::forget((
            take(&mut self.module),
            take(&mut self.modules),
            take(&mut self.defs),
            take(&mut self.assigns),
            take(&mut self.imports),
            take(&mut self.paths),
            take(&mut self.import_abs),
            take(&mut self.calls),
            take(&mut self.call_scopes),
            take(&mut self.calls_by_scope),
            take(&mut self.callees),
            take(&mut self.assign_calls),
            take(&mut self.module_level),
        ));
    }
}

/// One file's lookup tables (see the fields of [`Index`]).
struct FileTables<'a> {
    defs: Names,
    assigns: ScopedNames,
    imports: Names,
    calls: Box<[&'a CallExpr]>,
    call_scopes: Box<[u32]>,
    calls_by_scope: ByScope,
    assign_calls: Vec<u32>,
}

/// Positions grouped by a 32-bit key, in two flat arrays: `order` holds
/// the positions key by key (in their own order within one key), `runs`
/// each key with the end of its run in `order`, sorted by key. 4 bytes a
/// position where a map of vectors took about 40 a group.
#[derive(Default)]
struct ByScope {
    order: Box<[u32]>,
    runs: Box<[(u32, u32)]>,
}

impl ByScope {
    fn new(keys: &[u32]) -> ByScope {
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        // Stable: positions of one key stay in order.
        order.sort_by_key(|&i| keys[i as usize]);
        let mut runs: Vec<(u32, u32)> = vec![];
        for (at, &i) in order.iter().enumerate() {
            let k = keys[i as usize];
            match runs.last_mut() {
                Some((last, end)) if *last == k => *end = at as u32 + 1,
                _ => runs.push((k, at as u32 + 1)),
            }
        }
        ByScope {
            order: order.into_boxed_slice(),
            runs: runs.into_boxed_slice(),
        }
    }

    fn get(&self, key: u32) -> &[u32] {
        let k = self.runs.partition_point(|&(x, _)| x < key);
        match self.runs.get(k) {
            Some(&(x, end)) if x == key => {
                let start = if k == 0 { 0 } else { self.runs[k - 1].1 };
                &self.order[start as usize..end as usize]
            }
            _ => &[],
        }
    }
}

/// Names of one file → an index (definitions, imports; the last one wins),
/// keyed by interned symbol and looked up by text.
#[derive(Default)]
struct Names(hashbrown::HashMap<Sym, u32, rustc_hash::FxBuildHasher>);

impl Names {
    fn new(names: impl Iterator<Item = (Sym, usize)>) -> Names {
        // Sized once: growing rehashes every name (by its text).
        let mut m = hashbrown::HashMap::with_capacity_and_hasher(
            names.size_hint().0,
            rustc_hash::FxBuildHasher,
        );
        for (n, i) in names {
            m.insert(n, i as u32);
        }
        Names(m)
    }
    fn get(&self, name: &str) -> Option<usize> {
        self.0.get(name).map(|&i| i as usize)
    }
    fn contains_key(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// (enclosing definition, name) of one file → an assignment index.
#[derive(Default)]
struct ScopedNames(hashbrown::HashMap<(u32, Sym), u32, rustc_hash::FxBuildHasher>);

/// The module level, as a key of [`ScopedNames`].
const MODULE: u32 = u32::MAX;

/// A [`ScopedNames`] key to look up by text: hashes and compares as the
/// key does (a symbol hashes as its text).
#[derive(Hash)]
struct ScopedName<'q>(u32, &'q str);

impl hashbrown::Equivalent<(u32, Sym)> for ScopedName<'_> {
    fn equivalent(&self, key: &(u32, Sym)) -> bool {
        self.0 == key.0 && key.1 == self.1
    }
}

fn scope_key(scope: Option<usize>) -> u32 {
    scope.map_or(MODULE, |s| s as u32)
}

fn scope_of_key(key: u32) -> Option<usize> {
    (key != MODULE).then_some(key as usize)
}

impl ScopedNames {
    fn get(&self, &(scope, name): &(Option<usize>, &str)) -> Option<usize> {
        self.0
            .get(&ScopedName(scope_key(scope), name))
            .map(|&i| i as usize)
    }
    fn contains_key(&self, key: &(Option<usize>, &str)) -> bool {
        self.get(key).is_some()
    }
}

fn file_tables(f: &FileFacts) -> FileTables<'_> {
    let defs = Names::new(f.defs.iter().enumerate().map(|(i, d)| (d.name, i)));
    let mut assigns = ScopedNames(hashbrown::HashMap::with_capacity_and_hasher(
        f.assigns.len(),
        rustc_hash::FxBuildHasher,
    ));
    for (i, a) in f.assigns.iter().enumerate() {
        // A module's `limiter = Limiter(..)` / `else: limiter =
        // None`: the name holds the object when there is one, so a
        // later `None` does not replace an earlier value.
        let key = (scope_key(a.scope.get()), a.target);
        if a.scope.get().is_none()
            && matches!(a.value, Expr::NoneLit)
            && assigns.0.contains_key(&key)
        {
            continue;
        }
        assigns.0.insert(key, i as u32);
    }
    let imports = Names::new(
        f.imports
            .iter()
            .enumerate()
            .filter(|(_, im)| !im.glob)
            .map(|(i, im)| (im.local, i)),
    );
    // 12 bytes a call (its enclosing definition as a 32-bit key, in an
    // array beside it: a pair would take 16), exactly as many as there are.
    let (calls, call_scopes): (Vec<&CallExpr>, Vec<u32>) = f
        .each_call()
        .map(|(c, scope)| (c, scope_key(scope)))
        .unzip();
    let calls_by_scope = ByScope::new(&call_scopes);
    // Assignment values come after the statement calls in `each_call`, in
    // order, each value before the calls nested in it: one forward scan.
    let mut at = 0;
    let assign_calls = f
        .assigns
        .iter()
        .map(|a| {
            let Expr::Call(c) = &a.value else {
                return u32::MAX;
            };
            match calls[at..].iter().position(|x| std::ptr::eq(*x, &**c)) {
                Some(k) => {
                    at += k;
                    at as u32
                }
                None => u32::MAX,
            }
        })
        .collect();
    FileTables {
        defs,
        assigns,
        imports,
        calls: calls.into(),
        call_scopes: call_scopes.into(),
        calls_by_scope,
        assign_calls,
    }
}

impl<'a> Index<'a> {
    pub fn build(scan: &'a crate::Scan) -> Index<'a> {
        let files = scan.files();
        let path_index: HashMap<&str, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.as_str(), i))
            .collect();
        let paths: rustc_hash::FxHashSet<&str> = path_index.keys().copied().collect();
        let mut module = Vec::with_capacity(files.len());
        let mut modules: HashMap<String, usize> = HashMap::default();
        for (i, f) in files.iter().enumerate() {
            let names = f.lang.module_names(&f.path, &paths, &scan.manifests);
            for n in &names {
                // A package shadows a module of the same name beside it, as
                // Python's finder has it (`cps/__init__.py` over `cps.py`).
                let pkg = |p: &str| p.ends_with("/__init__.py") || p == "__init__.py";
                match modules.entry(n.clone()) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(i);
                    }
                    std::collections::hash_map::Entry::Occupied(mut o) => {
                        if pkg(&f.path) && !pkg(&files[*o.get()].path) {
                            o.insert(i);
                        }
                    }
                }
            }
            module.push(names.into_iter().next().unwrap_or_default());
        }
        // Per-file tables, built on the workers, in file order.
        let threads = scan.stats.timings.threads.max(1);
        let tables = crate::par_map(threads, files.len(), |fi| file_tables(&files[fi]));
        let mut defs = Vec::with_capacity(files.len());
        let mut assigns = Vec::with_capacity(files.len());
        let mut imports = Vec::with_capacity(files.len());
        let mut calls = Vec::with_capacity(files.len());
        let mut call_scopes = Vec::with_capacity(files.len());
        let mut calls_by_scope = Vec::with_capacity(files.len());
        let mut callees = Vec::with_capacity(files.len());
        let mut assign_calls = Vec::with_capacity(files.len());
        for t in tables {
            defs.push(t.defs);
            assigns.push(t.assigns);
            imports.push(t.imports);
            callees.push((0..t.calls.len()).map(|_| Default::default()).collect());
            calls.push(t.calls);
            call_scopes.push(t.call_scopes);
            calls_by_scope.push(t.calls_by_scope);
            assign_calls.push(t.assign_calls);
        }
        let mut idx = Index {
            frameworks: &scan.frameworks,
            ci_facts: &scan.ci_facts,
            files,
            module,
            modules,
            defs,
            assigns,
            imports,
            paths: path_index,
            import_abs: vec![],
            calls,
            call_scopes,
            calls_by_scope,
            callees,
            assign_calls,
            module_level: (0..files.len()).map(|_| Default::default()).collect(),
            threads,
        };
        idx.import_abs = crate::par_map(threads, files.len(), |fi| {
            files[fi]
                .imports
                .iter()
                .map(|im| Sym::new(&idx.import_target_uncached(fi, im)))
                .collect()
        });
        idx
    }

    /// Every call in a file, in source order, with its enclosing definition.
    pub fn calls(
        &self,
        file: usize,
    ) -> impl ExactSizeIterator<Item = (&'a CallExpr, Option<usize>)> + Clone + '_ {
        self.calls[file]
            .iter()
            .zip(&self.call_scopes[file])
            .map(|(&c, &scope)| (c, scope_of_key(scope)))
    }

    /// The call at position `i` of [`Index::calls`], with its enclosing definition.
    pub fn call(&self, file: usize, i: usize) -> (&'a CallExpr, Option<usize>) {
        (self.calls[file][i], scope_of_key(self.call_scopes[file][i]))
    }

    /// The calls whose innermost enclosing definition is `scope`, with their
    /// positions in [`Index::calls`].
    pub fn calls_in(
        &self,
        file: usize,
        scope: Option<usize>,
    ) -> impl Iterator<Item = (usize, &'a CallExpr)> + '_ {
        self.calls_by_scope[file]
            .get(scope_key(scope))
            .iter()
            .map(move |&i| (i as usize, self.calls[file][i as usize]))
    }

    /// What the callee of the call at position `i` of [`Index::calls`]
    /// resolves to ([`Index::resolve_expr`] in the call's scope). Sinks,
    /// guards, the call graph and the data-flow checks all ask about the
    /// same calls, so each is resolved once.
    /// The call at `pos` in `file` (where a sink fact points) to `api`:
    /// calls chained on it (`conn.execute(q).fetchall()`) start at the same
    /// place, so the one that resolves to the sink's API is chosen (else
    /// the first).
    pub fn call_at(
        &self,
        file: usize,
        pos: crate::extract::Pos,
        api: &str,
    ) -> Option<(&'a CallExpr, Option<usize>)> {
        let mut at = self.calls(file).filter(|(c, _)| c.start == pos);
        let first = at.next()?;
        let rest: Vec<_> = at.collect();
        if rest.is_empty() {
            return Some(first);
        }
        std::iter::once(first)
            .chain(rest)
            .find(|(c, s)| {
                self.resolve_expr(file, *s, &c.func)
                    .is_some_and(|t| self.symbol(&t) == api)
            })
            .or(Some(first))
    }

    pub fn callee(&self, file: usize, i: usize) -> Option<Target> {
        use std::sync::atomic::Ordering::Relaxed;
        let slot = &self.callees[file][i];
        if let Some(t) = PackedTarget::unpack(slot.load(Relaxed)) {
            return t;
        }
        // Two workers may both resolve a call first: resolution depends on
        // the index alone, so both store the same answer.
        let (c, scope) = self.call(file, i);
        let t = self.resolve_expr(file, scope, &c.func);
        if let Some(p) = PackedTarget::pack(t) {
            slot.store(p, Relaxed);
        }
        t
    }

    /// Resolve the callee of every call now, on the current pool's workers
    /// (see [`crate::par_map`]): the repository-wide passes (routes,
    /// framework objects and mounts) that ask about calls one file after
    /// another then find them resolved. The answers are the same whoever
    /// asks first.
    pub fn resolve_callees(&self) {
        crate::par_map(self.threads, self.files.len(), |fi| {
            for i in 0..self.calls[fi].len() {
                self.callee(fi, i);
            }
        });
    }

    /// [`Index::callee`] of an assignment's value, when that value is a call.
    pub fn assign_callee(&self, file: usize, assign: usize) -> Option<Target> {
        let a = &self.files[file].assigns[assign];
        match (self.assign_calls[file][assign], &a.value) {
            (u32::MAX, Expr::Call(c)) => self.resolve_expr(file, a.scope.get(), &c.func),
            (u32::MAX, _) => None,
            (i, _) => self.callee(file, i as usize),
        }
    }

    /// The callee of the call at position `i` of [`Index::calls`] for the
    /// call graph: [`Index::callee`], plus `self.method(...)` /
    /// `cls.method(...)` / `Self::method(...)` inside a method, which name a
    /// sibling method of the enclosing class or type.
    pub fn call_target(&self, file: usize, i: usize) -> Option<Target> {
        let (c, scope) = self.call(file, i);
        self.with_sibling(file, scope, &c.func, self.callee(file, i))
    }

    /// What the callee expression `func` of a call in `scope` names, a
    /// sibling method for `self.helper` included.
    pub fn callee_target(&self, file: usize, scope: Option<usize>, func: &Expr) -> Option<Target> {
        self.with_sibling(file, scope, func, self.resolve_expr(file, scope, func))
    }

    fn with_sibling(
        &self,
        file: usize,
        scope: Option<usize>,
        func: &Expr,
        resolved: Option<Target>,
    ) -> Option<Target> {
        match resolved {
            // `self.helper()` may read as an external name; a sibling method wins.
            Some(Target::External(q))
                if q.starts_with("self.") || q.starts_with("Self::") || q.starts_with("cls.") =>
            {
                self.sibling_method(file, scope, func)
                    .or(Some(Target::External(q)))
            }
            Some(t) => Some(t),
            None => self.sibling_method(file, scope, func),
        }
    }

    pub fn sep(&self, file: usize) -> &'static str {
        self.files[file].lang.syntax().sep
    }

    /// `parts` joined in the scratch buffer, handed to `f`, which must not
    /// use the buffer itself (nothing that resolves names does).
    fn with_scratch<R>(&self, parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
        thread_local! {
            static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        SCRATCH.with(|cell| {
            let mut buf = cell.borrow_mut();
            buf.clear();
            for p in parts {
                buf.push_str(p);
            }
            f(&buf)
        })
    }

    /// An external name made of `parts`, allocated once.
    fn external(&self, parts: &[&str]) -> Target {
        self.with_scratch(parts, |name| Target::External(name.into()))
    }

    /// The separator between a module and a symbol in its qualified name.
    fn symbol_sep(&self, file: usize) -> &'static str {
        self.files[file].lang.syntax().symbol_sep
    }

    /// `pkg.mod:Qual.name` / `crate::mod::Qual::name` for a repository definition.
    pub fn def_symbol(&self, file: usize, def: usize) -> String {
        let name = &self.files[file].defs[def].name;
        concat(&[&self.module[file], self.symbol_sep(file), name])
    }

    /// `pkg.mod:name` / `pkg.mod:func.name` for a module or local variable.
    pub fn var_symbol(&self, file: usize, assign: usize) -> String {
        let f = &self.files[file];
        let a = &f.assigns[assign];
        let (scope, dot) = match a.scope.get() {
            Some(s) => (f.defs[s].name.as_str(), "."),
            None => ("", ""),
        };
        concat(&[
            &self.module[file],
            self.symbol_sep(file),
            scope,
            dot,
            &a.target,
        ])
    }

    /// The file index of a repository-relative path.
    pub fn file_index(&self, path: &str) -> Option<usize> {
        self.paths.get(path).copied()
    }

    pub fn module_file(&self, name: &str) -> Option<usize> {
        self.modules.get(name).copied()
    }

    /// Absolute module name an import refers to (Python relative levels, Rust `crate`/`self`/`super`).
    /// The files that import everything from `file` (`from .base import *`).
    pub fn glob_importers(&self, file: usize) -> Vec<usize> {
        (0..self.files.len())
            .filter(|&g| g != file)
            .filter(|&g| {
                self.files[g].imports.iter().enumerate().any(|(i, im)| {
                    im.glob && self.modules.get(self.import_target(g, i)) == Some(&file)
                })
            })
            .collect()
    }

    fn import_target(&self, file: usize, i: usize) -> &str {
        self.import_abs[file][i].as_str()
    }

    fn import_target_uncached(&self, file: usize, imp: &crate::extract::Import) -> String {
        let f = &self.files[file];
        let syn = f.lang.syntax();
        match syn.imports {
            ImportStyle::Dotted => {
                if imp.level == 0 {
                    return imp.target.to_string();
                }
                let mut base: Vec<&str> = self.module[file].split('.').collect();
                // A package's __init__ is its own package; a module's package is its parent.
                let is_pkg = syn
                    .package_markers
                    .iter()
                    .any(|m| f.path == *m || f.path.ends_with(&format!("/{m}")));
                let drop = if is_pkg { imp.level - 1 } else { imp.level };
                for _ in 0..drop {
                    base.pop();
                }
                let base = base.join(".");
                match (base.is_empty(), imp.target.is_empty()) {
                    (true, _) => imp.target.to_string(),
                    (false, true) => base,
                    (false, false) => format!("{base}.{}", imp.target),
                }
            }
            ImportStyle::Paths => {
                let abs = self.rust_absolute(file, &imp.target);
                let first = abs.split("::").next().unwrap_or("");
                let child = join_path(&self.module[file], first);
                if abs == imp.target
                    && !self.modules.contains_key(first)
                    && self.modules.contains_key(&child)
                {
                    join_path(&self.module[file], &abs)
                } else {
                    abs
                }
            }
        }
    }

    /// Rewrite a Rust path that starts with `crate`, `self` or `super`.
    fn rust_absolute(&self, file: usize, path: &str) -> String {
        let module = &self.module[file];
        let krate = module.split("::").next().unwrap_or("crate");
        let mut segs: Vec<&str> = path.split("::").collect();
        match segs.first().copied() {
            Some("crate") => {
                segs[0] = krate;
                segs.join("::")
            }
            Some("self") => {
                segs.remove(0);
                join_path(module, &segs.join("::"))
            }
            Some("super") => {
                let mut base: Vec<&str> = module.split("::").collect();
                while segs.first() == Some(&"super") {
                    segs.remove(0);
                    if base.len() > 1 {
                        base.pop();
                    }
                }
                join_path(&base.join("::"), &segs.join("::"))
            }
            _ => path.to_string(),
        }
    }

    /// Resolve a (possibly dotted or `::`-separated) name used in `file` within `scope`.
    pub fn resolve_name(&self, file: usize, scope: Option<usize>, name: &str) -> Option<Target> {
        self.resolve_name_n(file, scope, name, 0)
    }

    fn resolve_name_n(
        &self,
        file: usize,
        scope: Option<usize>,
        name: &str,
        hops: u32,
    ) -> Option<Target> {
        if hops > MAX_HOPS || name.is_empty() {
            return None;
        }
        let f = &self.files[file];
        // Split the head off: Python `a.b.c`; Rust `a::b::c` or field access `a.b`.
        // Separators are ASCII, so byte searches cut at character boundaries.
        let ends = f.lang.syntax().head_ends;
        let (head, rest) = match name.bytes().position(|b| ends.contains(&b)) {
            Some(cut) => {
                let r = name[cut..].trim_start_matches(|c: char| ends.contains(&(c as u8)));
                (&name[..cut], if r.is_empty() { None } else { Some(r) })
            }
            None => (name, None),
        };
        // 1. Local variables of the enclosing scopes; a parameter shadows
        // every name outside its function.
        let mut s = scope;
        while let Some(sc) = s {
            if let Some(a) = self.assigns[file].get(&(Some(sc), head)) {
                return self.member(Target::Var(file, a), rest, hops);
            }
            let d = &f.defs[sc];
            if d.kind == DefKind::Function {
                if let Some(p) = d.params.iter().find(|p| param_name(&p.name) == head) {
                    // A typed parameter's members are its type's:
                    // `db: Session` then `db.execute` is `Session.execute`.
                    let rest = rest?;
                    // `self.client.chat(..)` in a method: the attribute as a
                    // method of the class assigned it (`self.client =
                    // OpenAI()` in `__init__`).
                    if p.ty.is_none()
                        && f.lang.syntax().is_receiver(head)
                        && d.params.first().is_some_and(|x| x.name == p.name)
                    {
                        if let Some(t) = self.instance_attr(file, d.parent, head, rest, hops) {
                            return Some(t);
                        }
                    }
                    let t = self.param_target(file, sc, p, hops + 1)?;
                    return match t {
                        Target::Def(tf, td)
                            if matches!(
                                self.files[tf].defs[td].kind,
                                DefKind::Class | DefKind::Struct
                            ) =>
                        {
                            self.member(t, Some(rest), hops + 1)
                        }
                        Target::External(_) => self.member(t, Some(rest), hops + 1),
                        _ => None,
                    };
                }
            }
            s = d.parent;
        }
        // Past the local scopes, the answer depends on the file, the name and
        // the hop count only: handlers of one module resolve the same names
        // (`Depends`, `router.get`, `subprocess.run`), so it is kept.
        let memo = &self.module_level[file];
        let lock = || {
            memo.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let hit = lock()
            .get(hops as usize)
            .and_then(|m| m.get(name).copied())
            .and_then(PackedTarget::unpack);
        if let Some(hit) = hit {
            return hit;
        }
        let t = self.resolve_module_level(file, name, head, rest, hops);
        if let Some(packed) = PackedTarget::pack(t) {
            let mut memo = lock();
            if memo.len() <= hops as usize {
                memo.resize_with(hops as usize + 1, Default::default);
            }
            memo[hops as usize].insert(name.into(), packed);
        }
        t
    }

    /// `recv.attr[.more]` where `recv` is a method's receiver and a method
    /// of `class` assigns `recv.attr = value`: the member `more` of that
    /// value (the last such assignment in the file's order).
    fn instance_attr(
        &self,
        file: usize,
        class: Option<usize>,
        recv: &str,
        rest: &str,
        hops: u32,
    ) -> Option<Target> {
        let f = &self.files[file];
        let class = class.filter(|&c| f.defs[c].kind == DefKind::Class)?;
        let (attr, more) = match rest.split_once('.') {
            Some((a, m)) => (a, Some(m)),
            None => (rest, None),
        };
        let target = format!("{recv}.{attr}");
        let a = f
            .defs
            .iter()
            .enumerate()
            .filter(|(_, m)| m.parent == Some(class) && m.kind == DefKind::Function)
            .filter_map(|(mi, _)| self.assigns[file].get(&(Some(mi), target.as_str())))
            .max()?;
        self.member(Target::Var(file, a), more, hops + 1)
    }

    /// [`Index::resolve_name_n`] once no local variable of the enclosing
    /// scopes binds `head`.
    fn resolve_module_level(
        &self,
        file: usize,
        name: &str,
        head: &str,
        rest: Option<&str>,
        hops: u32,
    ) -> Option<Target> {
        let f = &self.files[file];
        let sep = self.sep(file);
        // 2. Rust path prefixes.
        let syn = f.lang.syntax();
        if syn.relative_heads.contains(&head) {
            return self.resolve_qualified(&self.rust_absolute(file, name), hops + 1);
        }
        // 3. Module-level definitions, then assignments, then imports.
        if let Some(d) = self.defs[file].get(head) {
            // In Rust, `x::y` never goes through a function named `x`.
            let fn_path =
                !syn.function_paths && rest.is_some() && f.defs[d].kind == DefKind::Function;
            if f.defs[d].parent.is_none() && !fn_path {
                return self.member(Target::Def(file, d), rest, hops);
            }
        }
        if let Some(a) = self.assigns[file].get(&(None, head)) {
            return self.member(Target::Var(file, a), rest, hops);
        }
        if let Some(i) = self.imports[file].get(head) {
            let base = self.import_target(file, i);
            let full = match rest {
                Some(r) => format!("{base}{sep}{r}"),
                None => base.to_string(),
            };
            return self.resolve_qualified(&full, hops + 1);
        }
        // 4. Child modules of this module (`mod api;` then `api::router()`).
        if syn.child_modules_by_name {
            let child = join_path(&self.module[file], head);
            if self.modules.contains_key(&child) {
                return self.resolve_qualified(&join_path(&self.module[file], name), hops + 1);
            }
            // Another crate of the workspace (`lemmy_api_routes::config`).
            if rest.is_some() && self.modules.contains_key(head) {
                return self.resolve_qualified(name, hops + 1);
            }
            // Names from glob imports (`use crate::handlers::*;`), the
            // module's own imports included (`use super::*;` in a child
            // module sees what its parent imported).
            for (i, _) in f.imports.iter().enumerate().filter(|(_, im)| im.glob) {
                let base = self.import_target(file, i);
                if let Some(&mf) = self.modules.get(base) {
                    if mf != file
                        && (self.defs[mf].contains_key(head)
                            || self.assigns[mf].contains_key(&(None, head))
                            || self.imports[mf].contains_key(head)
                            || self.modules.contains_key(&join_path(base, head)))
                    {
                        return self.resolve_qualified(&join_path(base, name), hops + 1);
                    }
                }
            }
            // A name no repository module defines may come from a glob import
            // of an external module (`use actix_web::web::*;` then `scope(..)`):
            // with exactly one such glob, it is that module's.
            let mut external = f
                .imports
                .iter()
                .enumerate()
                .filter(|(_, im)| im.glob && !im.in_function)
                .map(|(i, _)| self.import_target(file, i))
                .filter(|b| {
                    let first = b.split("::").next().unwrap_or(b);
                    !self.modules.contains_key(*b)
                        && !self.modules.contains_key(first)
                        && !f.lang.syntax().relative_heads.contains(&first)
                        && !f.lang.syntax().standard_library.contains(&first)
                });
            if let (Some(base), None) = (external.next(), external.next()) {
                // Only a single name: `utoipa::path` starts at a crate.
                if rest.is_none()
                    && head.starts_with(|c: char| c.is_ascii_alphabetic())
                    && head != "Self"
                {
                    return Some(self.external(&[base, "::", name]));
                }
            }
            return Some(Target::External(name.into()));
        }
        // 5. Python glob imports, then builtins.
        for (i, _) in f.imports.iter().enumerate().filter(|(_, im)| im.glob) {
            let base = self.import_target(file, i);
            if let Some(&mf) = self.modules.get(base) {
                if self.defs[mf].contains_key(head)
                    || self.assigns[mf].contains_key(&(None, head))
                    || self.imports[mf].contains_key(head)
                {
                    return self.resolve_qualified(&format!("{base}.{name}"), hops + 1);
                }
            }
        }
        if PY_BUILTINS.contains(&head) {
            return Some(self.external(&["builtins.", name]));
        }
        None
    }

    /// `Def`/`Var` followed by attribute access `rest`.
    fn member(&self, t: Target, rest: Option<&str>, hops: u32) -> Option<Target> {
        let Some(rest) = rest else { return Some(t) };
        match t {
            Target::Def(file, d) => {
                let sep = self.sep(file);
                let name = &self.files[file].defs[d].name;
                let member =
                    self.with_scratch(&[name, sep, rest], |want| self.defs[file].get(want));
                if let Some(m) = member {
                    return Some(Target::Def(file, m));
                }
                // A class attribute (`API_V1_STR: str = "/api/v1"` on a
                // settings class), also through its repository bases.
                if let Some(v) = self.class_attr(file, d, rest, 0) {
                    return Some(v);
                }
                let module = &self.module[file];
                Some(self.external(&[module, self.symbol_sep(file), name, sep, rest]))
            }
            Target::Var(file, a) => {
                // An instance: its type is what built it.
                let v = &self.files[file].assigns[a];
                let sep = self.sep(file);
                match self.type_of(file, v.scope.get(), &v.value, hops + 1) {
                    Some(ty) => self.method_of(&ty, rest, sep, hops),
                    None => Some(self.external(&[&self.var_symbol(file, a), sep, rest])),
                }
            }
            Target::Module(file) => {
                let sep = self.sep(file);
                self.resolve_qualified(&format!("{}{sep}{rest}", self.module[file]), hops + 1)
            }
            Target::External(q) => Some(self.external(&[&q, ".", rest])),
        }
    }

    /// A class attribute assigned in a class body or a repository base's.
    fn class_attr(&self, file: usize, class: usize, name: &str, depth: u32) -> Option<Target> {
        let f = &self.files[file];
        let d = &f.defs[class];
        if d.kind != DefKind::Class || depth > 6 {
            return None;
        }
        if let Some(a) = self.assigns[file].get(&(Some(class), name)) {
            return Some(Target::Var(file, a));
        }
        for b in &d.bases {
            if let Some(Target::Def(bf, bd)) = self.resolve_expr(file, d.parent, b) {
                if let Some(t) = self.class_attr(bf, bd, name, depth + 1) {
                    return Some(t);
                }
            }
        }
        None
    }

    /// A method or attribute of a type: a repository class's method, or an external `Type.method`.
    fn method_of(&self, ty: &Target, rest: &str, sep: &str, hops: u32) -> Option<Target> {
        match ty {
            Target::Def(tf, td) => self.member(Target::Def(*tf, *td), Some(rest), hops + 1),
            Target::External(q) => Some(self.external(&[q, sep, rest])),
            other => Some(*other),
        }
    }

    /// Resolve a fully qualified name: the longest repository-module prefix, then
    /// the symbol in that module (following re-exports); otherwise external.
    pub fn resolve_qualified(&self, q: &str, hops: u32) -> Option<Target> {
        if hops > MAX_HOPS {
            return Some(Target::External(q.into()));
        }
        // The separator the name is written with (the longest that occurs;
        // a name without one is a module or nothing).
        let sep = Lang::ALL
            .iter()
            .map(|l| l.syntax().sep)
            .filter(|s| q.contains(s))
            .max_by_key(|s| s.len())
            .unwrap_or(".");
        // Prefixes at each separator (as `split` finds them), longest first:
        // slices of `q` rather than joined copies.
        let mut ends: Vec<usize> = q.match_indices(sep).map(|(i, _)| i).collect();
        ends.push(q.len());
        for &end in ends.iter().rev() {
            if let Some(&mf) = self.modules.get(&q[..end]) {
                if end == q.len() {
                    return Some(Target::Module(mf));
                }
                return self
                    .resolve_name_n(mf, None, &q[end + sep.len()..], hops + 1)
                    .or_else(|| Some(Target::External(q.into())));
            }
        }
        Some(Target::External(q.into()))
    }

    /// `self.method` / `cls.method` / `Self::method` inside a method: the
    /// sibling method of the enclosing class or type.
    fn sibling_method(&self, file: usize, scope: Option<usize>, func: &Expr) -> Option<Target> {
        let Expr::Name(n, _) = func else { return None };
        let f = &self.files[file];
        let method = f
            .lang
            .syntax()
            .receivers
            .iter()
            .find_map(|r| n.strip_prefix(r))?;
        if method.contains(['.', ':']) {
            return None;
        }
        let d = &f.defs[scope?];
        let owner = if f.lang.syntax().methods_nested {
            f.defs[d.parent?].name.as_str()
        } else {
            d.name.rsplit_once(self.sep(file))?.0
        };
        let want = format!("{owner}{}{method}", self.sep(file));
        self.defs[file]
            .get(want.as_str())
            .map(|m| Target::Def(file, m))
    }

    /// Resolve an expression used as a callee or value: names, attributes of
    /// calls (`Path(p).read_text`), method calls on instances.
    pub fn resolve_expr(&self, file: usize, scope: Option<usize>, e: &Expr) -> Option<Target> {
        self.resolve_expr_n(file, scope, e, 0)
    }

    fn resolve_expr_n(
        &self,
        file: usize,
        scope: Option<usize>,
        e: &Expr,
        hops: u32,
    ) -> Option<Target> {
        if hops > MAX_HOPS {
            return None;
        }
        match e {
            Expr::Name(n, _) => self.resolve_name_n(file, scope, n, hops),
            Expr::Attr(a) => {
                let ty = self.type_of(file, scope, &a.base, hops + 1)?;
                self.method_of(&ty, &a.name, self.sep(file), hops)
            }
            Expr::Subscript(s) => self.resolve_expr_n(file, scope, &s.base, hops + 1),
            _ => None,
        }
    }

    /// The type of a value expression: a constructor call's class (Rust:
    /// `Type::new(..)` → `Type`), a variable's type, or what a name refers to.
    pub fn type_of(
        &self,
        file: usize,
        scope: Option<usize>,
        e: &Expr,
        hops: u32,
    ) -> Option<Target> {
        if hops > MAX_HOPS {
            return None;
        }
        match e {
            Expr::Call(c) => {
                let callee = self.resolve_expr_n(file, scope, &c.func, hops + 1)?;
                let returns = &crate::catalog::Catalog::builtin()
                    .lang(self.files[file].lang)
                    .types
                    .returns;
                // Catalogued result types: `sqlite3.connect(..)` is a
                // `sqlite3.Connection`; calling a configured
                // `sessionmaker()` gives a `Session`.
                match &callee {
                    Target::External(q) => {
                        if let Some(t) = returns.get(q.as_ref() as &str) {
                            return Some(Target::External(t.as_str().into()));
                        }
                    }
                    Target::Var(vf, va) => {
                        let v = &self.files[*vf].assigns[*va];
                        if let Some(Target::External(ty)) =
                            self.type_of(*vf, v.scope.get(), &v.value, hops + 1)
                        {
                            if let Some(t) = returns.get(&format!("{ty}()")) {
                                return Some(Target::External(t.as_str().into()));
                            }
                        }
                    }
                    _ => {}
                }
                match callee {
                    Target::External(q) if q.contains("::") => {
                        let (ty, last) = q.rsplit_once("::")?;
                        if !last.starts_with(|c: char| c.is_lowercase()) {
                            Some(Target::External(q))
                        } else if is_constructor(last) {
                            Some(Target::External(ty.into()))
                        } else {
                            // A method's return type is unknown without type information.
                            None
                        }
                    }
                    Target::Def(f, d) if self.files[f].defs[d].kind == DefKind::Function => {
                        // A Rust associated function `Type::new` returns `Type`.
                        let name = &self.files[f].defs[d].name;
                        if let Some((ty, _)) = name.rsplit_once("::") {
                            if let Some(td) = self.defs[f].get(ty) {
                                return Some(Target::Def(f, td));
                            }
                        }
                        // Its declared return type (`-> User | None`,
                        // `-> Option<User>`), when that names a class.
                        if let Some(ty) = self.files[f].defs[d].ret.as_ref().and_then(return_type) {
                            let parent = self.files[f].defs[d].parent;
                            match self.resolve_expr_n(f, parent, ty, hops + 1) {
                                Some(t @ Target::Def(tf, td))
                                    if matches!(
                                        self.files[tf].defs[td].kind,
                                        DefKind::Class | DefKind::Struct
                                    ) =>
                                {
                                    return Some(t);
                                }
                                Some(t @ Target::External(_)) => return Some(t),
                                _ => {}
                            }
                        }
                        // A Python function returning a constructed object
                        // (`def get_settings(): return Settings()`).
                        if self.files[f].lang.syntax().constructor_functions {
                            let def = &self.files[f].defs[d];
                            for r in &def.returns {
                                if let Expr::Call(_) = r {
                                    if let Some(t @ Target::Def(tf, td)) =
                                        self.type_of(f, Some(d), r, hops + 1)
                                    {
                                        if self.files[tf].defs[td].kind == DefKind::Class {
                                            return Some(t);
                                        }
                                    }
                                }
                            }
                        }
                        Some(Target::Def(f, d))
                    }
                    other => Some(other),
                }
            }
            Expr::Name(..) | Expr::Attr(..) => {
                match self.resolve_expr_n(file, scope, e, hops + 1)? {
                    Target::Var(vf, va) => {
                        let v = &self.files[vf].assigns[va];
                        self.type_of(vf, v.scope.get(), &v.value, hops + 1)
                            .or(Some(Target::Var(vf, va)))
                    }
                    other => Some(other),
                }
            }
            _ => None,
        }
    }

    /// The type of a parameter of function `def`: its annotation (through
    /// `Annotated[T, ...]`, also behind a type alias), else, for a parameter
    /// filled by a dependency container (`db = Depends(get_db)`), what the
    /// provider returns or yields.
    fn param_target(
        &self,
        file: usize,
        def: usize,
        p: &crate::extract::Param,
        hops: u32,
    ) -> Option<Target> {
        if hops > MAX_HOPS {
            return None;
        }
        let d = &self.files[file].defs[def];
        if let Some(ty) = &p.ty {
            let ty = param_type(ty)?;
            // `SessionDep = Annotated[Session, Depends(get_db)]`.
            if let Some(Target::Var(vf, va)) = self.resolve_expr_n(file, d.parent, ty, hops + 1) {
                let a = &self.files[vf].assigns[va];
                if let Expr::Subscript(..) = &a.value {
                    let inner = param_type(&a.value)?;
                    return self.resolve_expr_n(vf, a.scope.get(), inner, hops + 1);
                }
            }
            return self.resolve_expr_n(file, d.parent, ty, hops + 1);
        }
        let Some(Expr::Call(c)) = &p.default else {
            return None;
        };
        let Some(Target::External(api)) = self.resolve_expr_n(file, d.parent, &c.func, hops + 1)
        else {
            return None;
        };
        let lc = crate::catalog::Catalog::builtin().lang(self.files[file].lang);
        lc.guards.containers.first(&api)?;
        let provider = c.args.iter().find(|a| a.name.is_none())?;
        let Some(Target::Def(pf, pd)) =
            self.resolve_expr_n(file, d.parent, &provider.value, hops + 1)
        else {
            return None;
        };
        let pdef = &self.files[pf].defs[pd];
        pdef.returns
            .iter()
            .find_map(|r| match self.type_of(pf, Some(pd), r, hops + 1)? {
                t @ Target::External(_) => Some(t),
                t @ Target::Def(tf, td)
                    if matches!(
                        self.files[tf].defs[td].kind,
                        DefKind::Class | DefKind::Struct
                    ) =>
                {
                    Some(t)
                }
                _ => None,
            })
    }

    /// The qualified name of a target: `pkg.mod:Sym` for repository symbols, the dotted path otherwise.
    pub fn symbol(&self, t: &Target) -> String {
        match t {
            Target::Def(f, d) => self.def_symbol(*f, *d),
            Target::Var(f, a) => self.var_symbol(*f, *a),
            Target::Module(f) => self.module[*f].clone(),
            Target::External(q) => q.to_string(),
        }
    }

    /// Follow a variable to the value it was assigned (bounded).
    pub fn value_of<'b>(
        &'b self,
        file: usize,
        scope: Option<usize>,
        e: &'b Expr,
    ) -> (usize, Option<usize>, &'b Expr) {
        let mut cur = (file, scope, e);
        for _ in 0..MAX_HOPS {
            let Expr::Name(..) = cur.2 else { break };
            match self.resolve_expr(cur.0, cur.1, cur.2) {
                Some(Target::Var(vf, va)) => {
                    let v = &self.files[vf].assigns[va];
                    cur = (vf, v.scope.get(), &v.value);
                }
                _ => break,
            }
        }
        cur
    }

    /// Resolve a literal string argument, following names to constants.
    pub fn str_value(&self, file: usize, scope: Option<usize>, e: &Expr) -> Option<String> {
        let (_, _, v) = self.value_of(file, scope, e);
        v.as_str().map(str::to_string)
    }

    /// Every Var assigned in a module with this target name, in source order (`urlpatterns +=`).
    pub fn module_assigns(&self, file: usize, name: &str) -> Vec<usize> {
        self.files[file]
            .assigns
            .iter()
            .enumerate()
            .filter(|(_, a)| a.scope.get().is_none() && a.target == name)
            .map(|(i, _)| i)
            .collect()
    }
}

/// The type a parameter annotation names: `Annotated[Session, Depends(..)]`,
/// `Optional[Session]` and `Option<T>` name their first argument; other
/// generic types their base (`Data<State>` → `Data`).
fn param_type(ty: &Expr) -> Option<&Expr> {
    match ty {
        Expr::Name(..) => Some(ty),
        Expr::Subscript(s) => match &s.base {
            Expr::Name(n, _)
                if matches!(
                    n.rsplit(['.', ':']).next(),
                    Some("Annotated" | "Optional" | "Option")
                ) =>
            {
                s.keys.first().and_then(param_type)
            }
            other => param_type(other),
        },
        _ => None,
    }
}

/// The type a declared return type gives a value of: `User` of `User`,
/// `Optional[User]`, `User | None`, `Option<User>`, `Result<User, E>`,
/// `Box<User>`.
fn return_type(ty: &Expr) -> Option<&Expr> {
    match ty {
        Expr::Name(..) => Some(ty),
        Expr::Subscript(s) => match &s.base {
            Expr::Name(n, _)
                if matches!(
                    n.rsplit(['.', ':']).next(),
                    Some("Annotated" | "Optional" | "Option" | "Result" | "Box" | "Arc" | "Rc")
                ) =>
            {
                s.keys.first().and_then(return_type)
            }
            _ => None,
        },
        Expr::Mix(xs) => {
            let mut some = xs
                .iter()
                .filter(|x| !matches!(x, Expr::NoneLit | Expr::Other));
            let one = some.next()?;
            some.next().is_none().then_some(one).and_then(return_type)
        }
        _ => None,
    }
}

/// The name a parameter binds: `mut cfg` → `cfg`, `*args` → `args`.
fn param_name(p: &str) -> &str {
    let p = p.trim_start_matches(['*', '&']);
    p.strip_prefix("mut ").unwrap_or(p).trim()
}

/// Associated functions that conventionally return `Self`.
/// `parts` joined into one allocation.
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

fn is_constructor(name: &str) -> bool {
    matches!(
        name,
        "new" | "default" | "builder" | "build" | "open" | "create" | "connect" | "bind"
    ) || name.starts_with("new_")
        || name.starts_with("with_")
        || name.starts_with("from_")
}

fn join_path(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}::{b}"),
    }
}

/// Helper used by classifiers: the literal string of an argument.
pub fn arg_str(c: &CallExpr, keyword: Option<&str>, position: Option<usize>) -> Option<String> {
    c.arg(keyword, position)
        .and_then(|e| e.as_str())
        .map(str::to_string)
}

/// All positional args.
pub fn positional(args: &[Arg]) -> impl Iterator<Item = &Expr> {
    args.iter().filter(|a| a.name.is_none()).map(|a| &a.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_grouped_by_scope_keep_their_order_and_miss_nothing() {
        let keys = [MODULE, 3, 0, 3, MODULE, 7, 0, 3];
        let g = ByScope::new(&keys);
        assert_eq!(g.get(MODULE), [0, 4]);
        assert_eq!(g.get(0), [2, 6]);
        assert_eq!(g.get(3), [1, 3, 7]);
        assert_eq!(g.get(7), [5]);
        for absent in [1, 2, 4, 8, MODULE - 1] {
            assert!(g.get(absent).is_empty(), "{absent}");
        }
        assert!(ByScope::new(&[]).get(MODULE).is_empty());
    }

    #[test]
    fn packed_callees_round_trip_and_indices_that_do_not_fit_are_not_kept() {
        let ext = Sym::new("subprocess.run");
        let big = (1usize << 29) - 1;
        for t in [
            None,
            Some(Target::Def(0, 0)),
            Some(Target::Def(big, u32::MAX as usize)),
            Some(Target::Var(7, 3)),
            Some(Target::Module(12)),
            Some(Target::Module(u32::MAX as usize)),
            Some(Target::External(ext)),
        ] {
            let p = PackedTarget::pack(t).expect("fits");
            assert_ne!(p, 0, "0 means not resolved yet");
            assert_eq!(PackedTarget::unpack(p), Some(t));
        }
        assert_eq!(PackedTarget::unpack(0), None);
        assert_eq!(PackedTarget::pack(Some(Target::Def(1 << 29, 0))), None);
        assert_eq!(PackedTarget::pack(Some(Target::Var(0, 1 << 32))), None);
        assert_eq!(PackedTarget::pack(Some(Target::Module(1 << 32))), None);
    }
}
