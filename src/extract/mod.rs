//! Per-file extraction: one syntax tree in, one [`FileFacts`] out.
//!
//! The queries in `queries/<lang>/*.scm` locate the constructs (imports,
//! definitions, calls, assignments); the language modules decode each captured
//! node into the language-neutral shapes below. Nothing here knows about other
//! files: cross-file work happens in [`crate::link`].

pub mod matcher;
pub mod python;
pub mod query_roots;
pub mod rust;

use crate::lang::Lang;
use serde::{Deserialize, Serialize};

/// Identifiers and literals: stored inline up to 24 bytes (most names are
/// short), so the millions of them in a large repository need no heap
/// allocation each.
pub type Text = crate::intern::Sym;

/// 1-based line and column (column counted in characters, as editors and SARIF do).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A small, language-neutral expression tree: enough to classify calls,
/// read literal arguments and follow router builders.
///
/// 16 bytes: every variant's payload is at most 12 bytes or one pointer
/// (lists are [`ThinVec`]s, whose length lives on the heap), since the
/// facts of every file hold hundreds of thousands of these at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    Str(Text),
    Num(Text),
    Bool(bool),
    NoneLit,
    /// A plain name or a dotted/path name: `yaml.load`, `web::scope`.
    Name(Text, Pos),
    /// Attribute or method access on something that is not a plain name.
    Attr(Box<AttrExpr>),
    Call(Box<CallExpr>),
    /// list, tuple, set, Rust array.
    List(ThinVec<Expr>),
    /// `Annotated[User, Depends(x)]`, `Vec<T>`-like generic uses.
    Subscript(Box<SubscriptExpr>),
    /// A macro invocation with its comma-separated parts: `routes![a, b::c]`.
    Macro(Box<MacroCall>),
    /// A closure or lambda: its body.
    Closure(Box<Expr>),
    /// A value computed from these parts: `a + b`, `"%s" % x`, an f-string's
    /// interpolations, a comparison. Kept so data flow can see which names a
    /// value mentions.
    Mix(ThinVec<Expr>),
    /// `not x`, `!x`, and tests that hold when a value is absent: `x is None`.
    Not(Box<Expr>),
    /// `a and b` / `a && b` (`true`), `a or b` / `a || b` (`false`).
    Logic(bool, ThinVec<Expr>),
    /// A dict literal's (key, value) pairs: `{"shell": True}`.
    Dict(ThinVec<(Expr, Expr)>),
    /// One element of a collection: the variable of `for x in xs:` is
    /// `Element(xs)`.
    Element(Box<Expr>),
    /// Anything else (`a.await`, `a?`, `&a`, `(a)` keep their inner value instead).
    Other,
}

pub use thin_vec::{thin_vec, ThinVec};

/// `base.name`, named at `pos`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttrExpr {
    pub base: Expr,
    pub name: Text,
    pub pos: Pos,
}

/// `base[keys]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscriptExpr {
    pub base: Expr,
    pub keys: ThinVec<Expr>,
}

impl Expr {
    pub fn attr(base: Expr, name: Text, pos: Pos) -> Expr {
        Expr::Attr(Box::new(AttrExpr { base, name, pos }))
    }
    pub fn subscript(base: Expr, keys: ThinVec<Expr>) -> Expr {
        Expr::Subscript(Box::new(SubscriptExpr { base, keys }))
    }
}

/// A macro invocation: its name, comma-separated parts and where it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MacroCall {
    pub name: String,
    pub parts: Vec<Expr>,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallExpr {
    pub func: Expr,
    pub args: ThinVec<Arg>,
    /// Where the call is named: the method name in a chain (`.route(`), else the start.
    pub pos: Pos,
    /// Where the whole call expression starts (sinks are reported here).
    pub start: Pos,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arg {
    pub name: Option<Text>,
    pub value: Expr,
}

impl Expr {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_call(&self) -> Option<&CallExpr> {
        match self {
            Expr::Call(c) => Some(c),
            _ => None,
        }
    }
    pub fn pos(&self) -> Option<Pos> {
        match self {
            Expr::Name(_, p) => Some(*p),
            Expr::Attr(a) => Some(a.pos),
            Expr::Macro(m) => Some(m.pos),
            Expr::Call(c) => Some(c.pos),
            _ => None,
        }
    }
    /// A string, number, boolean or None written in the source.
    pub fn is_literal(&self) -> bool {
        matches!(
            self,
            Expr::Str(_) | Expr::Num(_) | Expr::Bool(_) | Expr::NoneLit
        )
    }

    /// Short source-like rendering, used in fact details and messages.
    pub fn display(&self) -> String {
        match self {
            Expr::Str(s) => format!("{s:?}"),
            Expr::Num(n) => n.to_string(),
            Expr::Bool(b) => b.to_string(),
            Expr::NoneLit => "None".into(),
            Expr::Name(n, _) => n.to_string(),
            Expr::Attr(a) => format!("{}.{}", a.base.display(), a.name),
            // Literal arguments are shown: `os.getenv("API_PREFIX")`.
            Expr::Call(c) if c.args.len() <= 2 && c.args.iter().all(|a| a.value.is_literal()) => {
                let args: Vec<String> = c
                    .args
                    .iter()
                    .map(|a| match &a.name {
                        Some(k) => format!("{k}={}", a.value.display()),
                        None => a.value.display(),
                    })
                    .collect();
                format!("{}({})", c.func.display(), args.join(", "))
            }
            Expr::Call(c) => format!("{}(…)", c.func.display()),
            Expr::List(_) => "[…]".into(),
            Expr::Subscript(s) if s.keys.len() == 1 && s.keys[0].is_literal() => {
                format!("{}[{}]", s.base.display(), s.keys[0].display())
            }
            Expr::Subscript(s) => format!("{}[…]", s.base.display()),
            Expr::Macro(m) => format!("{}!(…)", m.name),
            Expr::Closure(_) => "|…| …".into(),
            Expr::Not(x) => format!("not {}", x.display()),
            Expr::Element(x) => format!("<element of {}>", x.display()),
            Expr::Dict(_) => "{…}".into(),
            Expr::Mix(_) | Expr::Logic(..) | Expr::Other => "…".into(),
        }
    }
}

impl CallExpr {
    /// Keyword argument by name, else positional argument by index.
    pub fn arg(&self, keyword: Option<&str>, position: Option<usize>) -> Option<&Expr> {
        if let Some(k) = keyword {
            if let Some(a) = self.args.iter().find(|a| a.name.as_deref() == Some(k)) {
                return Some(&a.value);
            }
        }
        let p = position?;
        self.args
            .iter()
            .filter(|a| a.name.is_none())
            .nth(p)
            .map(|a| &a.value)
    }
    pub fn kwarg(&self, keyword: &str) -> Option<&Expr> {
        self.arg(Some(keyword), None)
    }
    pub fn positional(&self, position: usize) -> Option<&Expr> {
        self.arg(None, Some(position))
    }
    /// `recv.method(...)`: the receiver and the method name.
    pub fn method(&self) -> Option<(Expr, &str)> {
        split_method(&self.func)
    }
}

/// The method name of `a.b.c` / `x().m` without building the receiver.
pub fn method_name(func: &Expr) -> Option<&str> {
    match func {
        Expr::Name(n, _) => memchr::memrchr(b'.', n.as_bytes()).map(|cut| &n[cut + 1..]),
        Expr::Attr(a) => Some(&a.name),
        _ => None,
    }
}

/// Split `a.b.c` into (`a.b`, `c`) and `x().m` into (`x()`, `m`).
pub fn split_method(func: &Expr) -> Option<(Expr, &str)> {
    match func {
        Expr::Name(n, p) => {
            let cut = memchr::memrchr(b'.', n.as_bytes())?;
            Some((Expr::Name(n[..cut].into(), *p), &n[cut + 1..]))
        }
        Expr::Attr(a) => Some((a.base.clone(), a.name.as_str())),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefKind {
    Function,
    Class,
    Struct,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Param {
    pub name: Text,
    pub ty: Option<Expr>,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Def {
    /// Qualified within the file: `func`, `Class`, `Class.method` (Rust: `Type::method`).
    pub name: Text,
    pub kind: DefKind,
    pub pos: Pos,
    /// Python decorators; Rust attributes (`#[get("/")]` is `Call(get, ["/"])`).
    pub decorators: ThinVec<Expr>,
    pub params: ThinVec<Param>,
    pub bases: ThinVec<Expr>,
    /// Index of the enclosing definition in [`FileFacts::defs`].
    pub parent: Option<usize>,
    /// Class-level attributes (Python) such as `permission_classes = [...]`:
    /// indices into [`FileFacts::assigns`].
    pub attrs: ThinVec<usize>,
    /// Values returned: Python `return` expressions, Rust tail and `return` expressions.
    pub returns: ThinVec<Expr>,
    /// The declared return type: `-> User | None`, `-> Option<User>`.
    pub ret: Option<Expr>,
    /// Byte range, to find which definition encloses a call.
    pub start_byte: usize,
    pub end_byte: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Import {
    /// The name bound in this file (`c` in `import a.b as c`).
    pub local: Text,
    /// What it refers to: `a.b` (Python dotted) or `a::b` (Rust path).
    pub target: Text,
    /// Python relative-import level (number of leading dots); 0 when absolute.
    pub level: u32,
    /// `from x import *` / `use x::*`: `local` is empty.
    pub glob: bool,
    pub pos: Pos,
    /// Written inside a function (`fn f() { use chrono::prelude::*; }`): it
    /// binds names there only.
    pub in_function: bool,
}

/// The innermost definition enclosing an extracted call, assignment,
/// subscript or statement: an index into its file's `defs`, or none at
/// module level. Four bytes where an `Option<usize>` takes sixteen: every
/// file's facts are held at once, and saleor/graphql alone has 190,000 of
/// these. Serialised as the `Option<usize>` it stands for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Option<usize>", into = "Option<usize>")]
pub struct ScopeIx(u32);

impl ScopeIx {
    /// Module level: no enclosing definition.
    pub const MODULE: ScopeIx = ScopeIx(u32::MAX);

    pub fn get(self) -> Option<usize> {
        (self != ScopeIx::MODULE).then_some(self.0 as usize)
    }
}

impl From<Option<usize>> for ScopeIx {
    fn from(s: Option<usize>) -> ScopeIx {
        // A file holds far fewer than 2^32 definitions (its size is capped
        // by --max-file-size); an index that does not fit is kept as module
        // level rather than wrapped onto another definition.
        match s.and_then(|i| u32::try_from(i).ok()) {
            Some(i) if i != u32::MAX => ScopeIx(i),
            _ => ScopeIx::MODULE,
        }
    }
}

impl From<ScopeIx> for Option<usize> {
    fn from(s: ScopeIx) -> Option<usize> {
        s.get()
    }
}

impl std::fmt::Debug for ScopeIx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Call {
    pub call: CallExpr,
    /// Innermost enclosing definition.
    pub scope: ScopeIx,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Subscript {
    pub base: Expr,
    pub key: Text,
    pub scope: ScopeIx,
    pub pos: Pos,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Assign {
    pub target: Text,
    pub value: Expr,
    pub scope: ScopeIx,
    pub pos: Pos,
}

/// A Rust `impl Trait for Type` (trait impls only).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Impl {
    pub trait_name: String,
    pub type_name: String,
    pub pos: Pos,
    /// Associated types: `type Rejection = AuthError;` → (`Rejection`, `AuthError`).
    pub assoc: Vec<(String, Expr)>,
}

/// What a statement does with control: the function summaries
/// ([`crate::summary`]) read from these whether a function rejects a request
/// and on what condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StmtKind {
    /// `return x` (Python), `return x` and `Err(..)?`-free tails (Rust).
    Return,
    /// `raise X(...)`.
    Raise,
    /// `if cond:` / `if cond {` / `let P = v else {`: `value` is the
    /// condition, `body` the extent of the block run when it holds.
    Branch,
    /// A Rust `match` arm's value.
    Arm,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub value: Expr,
    /// Innermost enclosing definition.
    pub scope: ScopeIx,
    pub pos: Pos,
    /// Branches: where the guarded block starts and ends (exclusive).
    pub body: Option<(Pos, Pos)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileFacts {
    pub path: String,
    pub lang: Lang,
    pub imports: Vec<Import>,
    pub defs: Vec<Def>,
    pub calls: Vec<Call>,
    pub assigns: Vec<Assign>,
    pub impls: Vec<Impl>,
    pub subscripts: Vec<Subscript>,
    /// Returns, raises, branch conditions and match arms, in source order.
    pub stmts: Vec<Stmt>,
    /// Rust: where calls whose error propagates (`f(..)?`) start, sorted.
    pub tried: Vec<Pos>,
    /// Rust `mod x;` declarations (name, inline?) — informational.
    pub mods: Vec<String>,
    /// The tree had syntax errors; facts come from the valid parts.
    pub has_errors: bool,
    pub bytes: usize,
    /// `# threatscan: ignore[...]` comments.
    pub suppressions: Vec<Suppression>,
    /// Matches of rule queries (`threatscan scan` rules with a tree-sitter query).
    pub query_hits: Vec<QueryHit>,
    /// Why this file was analysed only in part (a query stopped at its
    /// budget), for the warning that names it.
    pub partial: Vec<String>,
    /// The file's code scope (set by the scan from its path and `[scope]`).
    pub scope: crate::scope::Scope,
    /// Rust: line ranges (inclusive) of test items, `#[cfg(test)]` modules
    /// and `#[test]` functions, attributes included.
    pub test_lines: Vec<(u32, u32)>,
}

/// An inline suppression comment: `# threatscan: ignore[TS1001, TS2001] reason`
/// (`//` in Rust). It applies to findings on its own line and the line below.
/// No rule list (`# threatscan: ignore`) means every rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub line: u32,
    pub rules: Vec<String>,
    pub reason: String,
}

/// One match of a rule's tree-sitter query: the `@match` capture (or the
/// first capture) with its exact range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryHit {
    /// Index into the [`RuleQuery`] list the scan was given.
    pub query: usize,
    pub start: Pos,
    pub end: Pos,
    /// The matched text, first line only, capped.
    pub text: String,
}

/// A rule query, run on every file of its language during extraction.
#[derive(Debug)]
pub struct RuleQuery {
    /// The rule the query belongs to (for warnings).
    pub rule_id: String,
    /// The query's text (what the extraction cache keys hits with).
    pub text: String,
    pub lang: Lang,
    /// Compiled when built ([`RuleQuery::new`]) or on first use
    /// ([`RuleQuery::lazy`]).
    compiled: std::sync::OnceLock<Option<tree_sitter::Query>>,
    /// The node kinds its matches can start at (see [`query_roots`]): it
    /// runs there only. `None`: over the whole tree.
    pub roots: Option<Vec<u16>>,
    /// A file must contain one of these for a match (see
    /// [`query_roots::needles`]); `None`: every file.
    pub needles: Option<Vec<String>>,
}

impl RuleQuery {
    pub fn new(rule_id: String, text: String, lang: Lang, query: tree_sitter::Query) -> RuleQuery {
        let q = RuleQuery::lazy(rule_id, text, lang);
        let _ = q.compiled.set(Some(query));
        q
    }

    /// A query compiled the first time a file of its language needs it:
    /// compiling one costs milliseconds (tree-sitter analyses every
    /// pattern against the grammar), which a run with no file of that
    /// language, or whose result memo answers, need not pay. For queries
    /// known to compile (the built-in rules, a test compiles each); a
    /// query that does not compile matches nothing.
    pub fn lazy(rule_id: String, text: String, lang: Lang) -> RuleQuery {
        let roots = query_roots::roots(&lang.grammar(), &text);
        let needles = query_roots::needles(&text);
        RuleQuery {
            rule_id,
            text,
            lang,
            compiled: std::sync::OnceLock::new(),
            roots,
            needles,
        }
    }

    /// The compiled query (`None`: it does not compile).
    pub fn query(&self) -> Option<&tree_sitter::Query> {
        self.compiled
            // Outside the file's arena: the query outlives the file.
            .get_or_init(|| {
                crate::tsalloc::outside(|| {
                    tree_sitter::Query::new(&self.lang.grammar(), &self.text).ok()
                })
            })
            .as_ref()
    }
}

impl FileFacts {
    /// Whether every index the facts hold points inside them: enclosing
    /// definitions (each before the definitions it encloses, so scope chains
    /// end), class attributes, and rule queries (`queries` of them). What the
    /// extractors make always is; a cache entry decoded from disk is checked,
    /// since whoever can write the cache directory can write any bytes.
    pub fn well_formed(&self, queries: usize) -> bool {
        let n = self.defs.len();
        let scope_ok = |s: Option<usize>| s.is_none_or(|s| s < n);
        self.defs.iter().enumerate().all(|(i, d)| {
            d.parent.is_none_or(|p| p < i) && d.attrs.iter().all(|&a| a < self.assigns.len())
        }) && self.calls.iter().all(|c| scope_ok(c.scope.get()))
            && self.assigns.iter().all(|a| scope_ok(a.scope.get()))
            && self.subscripts.iter().all(|x| scope_ok(x.scope.get()))
            && self.stmts.iter().all(|x| scope_ok(x.scope.get()))
            && self.query_hits.iter().all(|h| h.query < queries)
    }

    pub fn new(path: String, lang: Lang, bytes: usize) -> Self {
        FileFacts {
            path,
            lang,
            imports: vec![],
            defs: vec![],
            calls: vec![],
            assigns: vec![],
            impls: vec![],
            subscripts: vec![],
            stmts: vec![],
            tried: vec![],
            mods: vec![],
            has_errors: false,
            bytes,
            suppressions: vec![],
            query_hits: vec![],
            partial: vec![],
            scope: crate::scope::Scope::Production,
            test_lines: vec![],
        }
    }

    /// Every call in the file, outer before inner, with its enclosing
    /// definition: the top-level calls, the calls in assignment values, and
    /// the calls nested in their callees and arguments (macros are top-level
    /// calls of their own).
    /// The code scope at a line: the file's, or `test` inside a Rust test item.
    pub fn code_scope_at(&self, line: u32) -> crate::scope::Scope {
        if self.test_lines.iter().any(|&(a, b)| a <= line && line <= b) {
            crate::scope::Scope::Test
        } else {
            self.scope
        }
    }

    /// Remove what lies on the given lines (inclusive ranges): definitions
    /// and everything scoped to them, calls, assignments, statements, trait
    /// impls and query hits. Indices between them are renumbered.
    pub fn drop_lines(&mut self, ranges: &[(u32, u32)]) {
        let on = |l: u32| ranges.iter().any(|&(a, b)| a <= l && l <= b);
        let n = self.defs.len();
        let mut def_map: Vec<Option<usize>> = vec![None; n];
        let mut next = 0;
        for (i, d) in self.defs.iter().enumerate() {
            let gone = on(d.pos.line) || d.parent.is_some_and(|p| def_map[p].is_none());
            if !gone {
                def_map[i] = Some(next);
                next += 1;
            }
        }
        let remap = |s: Option<usize>| s.and_then(|i| def_map.get(i).copied().flatten());
        let kept = |s: Option<usize>| s.is_none_or(|i| def_map[i].is_some());
        let mut assign_map: Vec<Option<usize>> = vec![None; self.assigns.len()];
        let mut k = 0;
        for (i, a) in self.assigns.iter().enumerate() {
            if kept(a.scope.get()) && !on(a.pos.line) {
                assign_map[i] = Some(k);
                k += 1;
            }
        }
        let mut i = 0;
        self.assigns.retain(|_| {
            i += 1;
            assign_map[i - 1].is_some()
        });
        for a in &mut self.assigns {
            a.scope = remap(a.scope.get()).into();
        }
        let mut i = 0;
        self.defs.retain(|_| {
            i += 1;
            def_map[i - 1].is_some()
        });
        for d in &mut self.defs {
            d.parent = remap(d.parent);
            d.attrs = d.attrs.iter().filter_map(|&a| assign_map[a]).collect();
        }
        self.calls
            .retain(|c| kept(c.scope.get()) && !on(c.call.start.line));
        for c in &mut self.calls {
            c.scope = remap(c.scope.get()).into();
        }
        self.subscripts
            .retain(|x| kept(x.scope.get()) && !on(x.pos.line));
        for x in &mut self.subscripts {
            x.scope = remap(x.scope.get()).into();
        }
        self.stmts
            .retain(|x| kept(x.scope.get()) && !on(x.pos.line));
        for x in &mut self.stmts {
            x.scope = remap(x.scope.get()).into();
        }
        self.impls.retain(|x| !on(x.pos.line));
        self.tried.retain(|p| !on(p.line));
        self.query_hits.retain(|h| !on(h.start.line));
    }

    pub fn each_call(&self) -> std::vec::IntoIter<(&CallExpr, Option<usize>)> {
        let mut out = Vec::with_capacity(self.calls.len() * 2);
        let mut buf = vec![];
        for c in &self.calls {
            nested_calls(&c.call, &mut buf);
            out.extend(buf.drain(..).map(|x| (x, c.scope.get())));
        }
        for a in &self.assigns {
            nested_in(&a.value, &mut buf);
            out.extend(buf.drain(..).map(|x| (x, a.scope.get())));
        }
        out.into_iter()
    }

    /// Release spare capacity: all files' facts stay in memory until linking.
    pub fn shrink(&mut self) {
        // Vectors grown by push keep room for 4 or more: most functions
        // have one or two parameters, decorators, returns.
        for d in &mut self.defs {
            d.params.shrink_to_fit();
            d.decorators.shrink_to_fit();
            d.bases.shrink_to_fit();
            d.attrs.shrink_to_fit();
            d.returns.shrink_to_fit();
        }
        for i in &mut self.impls {
            i.assoc.shrink_to_fit();
        }
        self.imports.shrink_to_fit();
        self.defs.shrink_to_fit();
        self.calls.shrink_to_fit();
        self.assigns.shrink_to_fit();
        self.impls.shrink_to_fit();
        self.subscripts.shrink_to_fit();
        self.stmts.shrink_to_fit();
    }

    /// The innermost definition whose byte range contains `byte`.
    pub fn scope_at(&self, byte: usize) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, d) in self.defs.iter().enumerate() {
            if d.start_byte <= byte && byte < d.end_byte {
                match best {
                    Some(b) if self.defs[b].start_byte >= d.start_byte => {}
                    _ => best = Some(i),
                }
            }
        }
        best
    }
}

/// A list kept in an expression: exactly its length (a vector collected
/// through a filter or grown by push keeps room for at least four elements,
/// and expression lists are mostly of one or two), behind one pointer (an
/// empty list allocates nothing).
pub(crate) fn thin<T>(v: Vec<T>) -> ThinVec<T> {
    ThinVec::from(v)
}

fn nested_calls<'a>(c: &'a CallExpr, out: &mut Vec<&'a CallExpr>) {
    out.push(c);
    nested_in(&c.func, out);
    for a in &c.args {
        nested_in(&a.value, out);
    }
}

fn nested_in<'a>(e: &'a Expr, out: &mut Vec<&'a CallExpr>) {
    match e {
        Expr::Call(c) => nested_calls(c, out),
        Expr::Attr(a) => nested_in(&a.base, out),
        Expr::Closure(b) | Expr::Not(b) | Expr::Element(b) => nested_in(b, out),
        Expr::List(xs) | Expr::Mix(xs) | Expr::Logic(_, xs) => {
            xs.iter().for_each(|x| nested_in(x, out))
        }
        Expr::Dict(kv) => kv.iter().for_each(|(k, v)| {
            nested_in(k, out);
            nested_in(v, out);
        }),
        Expr::Subscript(s) => {
            nested_in(&s.base, out);
            s.keys.iter().for_each(|x| nested_in(x, out));
        }
        // Macros are recorded as calls of their own.
        _ => {}
    }
}

/// Innermost enclosing definition for byte offsets, from definitions sorted by
/// start byte: a binary search and a short walk up, instead of tree-sitter's
/// `Node::parent` (which re-descends from the root on every call).
pub struct Scopes {
    /// (start, end, parent) per definition, sorted by start.
    spans: Vec<(usize, usize, Option<usize>)>,
}

impl Scopes {
    pub fn new(ranges: &[(usize, usize)]) -> Scopes {
        let mut spans: Vec<(usize, usize, Option<usize>)> = Vec::with_capacity(ranges.len());
        let mut stack: Vec<usize> = vec![];
        for (i, &(s, e)) in ranges.iter().enumerate() {
            while let Some(&top) = stack.last() {
                if spans[top].1 <= s {
                    stack.pop();
                } else {
                    break;
                }
            }
            spans.push((s, e, stack.last().copied()));
            stack.push(i);
        }
        Scopes { spans }
    }

    pub fn parent(&self, i: usize) -> Option<usize> {
        self.spans[i].2
    }

    /// The innermost definition strictly containing `[start, end)` (not the node itself).
    pub fn enclosing(&self, start: usize, end: usize) -> Option<usize> {
        let idx = self.spans.partition_point(|s| s.0 <= start);
        let mut cur = idx.checked_sub(1);
        while let Some(c) = cur {
            let (s, e, p) = self.spans[c];
            if s <= start && end <= e && !(s == start && e == end) {
                return Some(c);
            }
            cur = p;
        }
        None
    }
}

/// The call nodes already converted as part of an enclosing call, so that
/// each call is converted once: `a(b(c()))` is one top-level [`Call`] whose
/// arguments hold the inner calls, not three overlapping trees (which is
/// quadratic on long builder chains). [`FileFacts::each_call`] visits them all.
///
/// A converter may also record the gaps it leaves (children it does not
/// convert); a call converted without a gap below it is *complete*: nothing
/// in its subtree is left for the extraction queries to find, so the walk
/// need not descend into it.
pub struct Cover(Option<CoverSet>);

#[derive(Default)]
struct CoverSet {
    /// Converted call nodes by id: complete or not.
    calls: rustc_hash::FxHashMap<usize, bool>,
    gaps: u32,
    /// Rust calls under `?` met while converting (a walk that skips a
    /// converted call does not see them).
    tried: Vec<Pos>,
}

impl Cover {
    pub fn off() -> Cover {
        Cover(None)
    }
    pub fn on() -> Cover {
        Cover(Some(Default::default()))
    }
    /// Gaps recorded so far: taken before converting a call's children and
    /// handed to [`Cover::mark_call`] after.
    pub fn gaps(&self) -> u32 {
        self.0.as_ref().map_or(0, |s| s.gaps)
    }
    /// A child left unconverted.
    pub fn gap(&mut self) {
        if let Some(s) = &mut self.0 {
            s.gaps += 1;
        }
    }
    /// A call node converted; complete if no gap was recorded since `before`.
    pub fn mark_call(&mut self, id: usize, before: u32) {
        if let Some(s) = &mut self.0 {
            let complete = s.gaps == before;
            s.calls.insert(id, complete);
        }
    }
    /// A call whose error propagates (`f(..)?`), met while converting.
    pub fn tried(&mut self, at: Pos) {
        if let Some(s) = &mut self.0 {
            s.tried.push(at);
        }
    }
    /// The calls recorded by [`Cover::tried`].
    pub fn take_tried(&mut self) -> Vec<Pos> {
        self.0
            .as_mut()
            .map(|s| std::mem::take(&mut s.tried))
            .unwrap_or_default()
    }
    pub fn contains(&self, id: usize) -> bool {
        self.0.as_ref().is_some_and(|s| s.calls.contains_key(&id))
    }
    /// Converted, with every descendant converted too.
    pub fn complete(&self, id: usize) -> bool {
        self.0
            .as_ref()
            .is_some_and(|s| s.calls.get(&id) == Some(&true))
    }
}

/// Longest string literal kept whole: longer literals (documentation strings
/// passed as arguments, embedded templates) keep their first bytes only, which
/// is all that route patterns, names and secret checks need.
pub const MAX_STR: usize = 256;

pub fn push_capped(out: &mut String, s: &str) {
    let room = MAX_STR.saturating_sub(out.len());
    if s.len() <= room {
        out.push_str(s);
    } else {
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&s[..end]);
    }
}

/// A grammar field's id, for the per-language field tables resolved once
/// at start-up (`child_by_field_name` searches the field names on every call).
pub fn field_id(lang: Lang, name: &str) -> std::num::NonZeroU16 {
    lang.grammar()
        .field_id_for_name(name)
        .unwrap_or_else(|| panic!("the {} grammar has a `{name}` field", lang.name()))
}

/// A grammar's node kind names by kind id: `Node::kind` measures and UTF-8
/// checks the grammar's C string on every call, and decoding asks at nearly
/// every node. Kind ids are public symbols, which share their kind's name.
pub struct KindNames(Vec<&'static str>);

impl KindNames {
    pub fn new(lang: Lang) -> KindNames {
        // Built once per language (a static): the grammar lives as long.
        let g: &'static tree_sitter::Language = Box::leak(Box::new(lang.grammar()));
        KindNames(
            (0..g.node_kind_count())
                .map(|id| g.node_kind_for_id(id as u16).unwrap_or(""))
                .collect(),
        )
    }

    pub fn of(&self, n: tree_sitter::Node) -> &'static str {
        match self.0.get(n.kind_id() as usize) {
            Some(k) => k,
            // ERROR, the one built-in symbol a walk meets outside the table
            None if n.is_error() => "ERROR",
            None => "",
        }
    }
}

/// Position of a node: 1-based line, 1-based column in characters.
pub fn pos_of(node: tree_sitter::Node, src: &[u8]) -> Pos {
    let p = node.start_position();
    let row_start = node.start_byte() - p.column;
    Pos {
        line: p.row as u32 + 1,
        column: column_chars(src, row_start, node.start_byte()) as u32 + 1,
    }
}

/// Definitions nested deeper than this are named under their ancestor at
/// this depth (`a.b.….f` → the ancestor's name, then `f`): names stay short
/// however deep a hostile file nests, and nesting that deep is never real.
pub const MAX_NAME_NESTING: u32 = 32;

/// Nesting depth of each definition, in definition order, to bound the
/// length of qualified names (see [`MAX_NAME_NESTING`]).
#[derive(Default)]
pub struct Nesting {
    depth: Vec<u32>,
    /// For each definition: the definition whose name its children extend.
    anchor: Vec<usize>,
}

impl Nesting {
    /// Record the next definition's parent.
    pub fn push(&mut self, parent: Option<usize>) {
        let i = self.depth.len();
        let (d, a) = match parent {
            None => (0, i),
            Some(p) => {
                let d = self.depth[p] + 1;
                (
                    d,
                    if d >= MAX_NAME_NESTING {
                        self.anchor[p]
                    } else {
                        i
                    },
                )
            }
        };
        self.depth.push(d);
        self.anchor.push(a);
    }

    /// The name a child of `parent` is qualified with: the parent's own, or,
    /// past [`MAX_NAME_NESTING`], that of the ancestor at that depth.
    pub fn prefix<'n>(&self, parent: usize, defs: &'n [Def]) -> &'n str {
        &defs[self.anchor[parent]].name
    }
}

/// Every this many bytes of a long line, the characters before are kept.
const COLUMN_STRIDE: usize = 4096;

/// Checkpoints of the long line last asked about, per thread: (source
/// address and length, line start, characters before each stride).
type ColumnIndex = Option<((usize, usize, usize), Vec<usize>)>;

thread_local! {
    static COLUMNS: std::cell::RefCell<ColumnIndex> = const { std::cell::RefCell::new(None) };
}

/// Forget the long-line checkpoints (a new source text starts).
pub fn reset_columns() {
    COLUMNS.with(|c| *c.borrow_mut() = None);
}

/// Characters from `row_start` to `at`: direct on short lines; on long ones
/// (a minified or generated one-line file) from checkpoints every
/// [`COLUMN_STRIDE`] bytes, so positions cost the same on any layout.
fn column_chars(src: &[u8], row_start: usize, at: usize) -> usize {
    if at - row_start < COLUMN_STRIDE {
        return chars_in(&src[row_start..at]);
    }
    COLUMNS.with(|c| {
        let mut c = c.borrow_mut();
        let key = (src.as_ptr() as usize, src.len(), row_start);
        if c.as_ref().is_none_or(|(k, _)| *k != key) {
            *c = Some((key, vec![0]));
        }
        let (_, marks) = c.as_mut().expect("set above");
        let k = (at - row_start) / COLUMN_STRIDE;
        while marks.len() <= k {
            let i = marks.len();
            let from = row_start + (i - 1) * COLUMN_STRIDE;
            let n = marks[i - 1] + chars_in(&src[from..from + COLUMN_STRIDE]);
            marks.push(n);
        }
        marks[k] + chars_in(&src[row_start + k * COLUMN_STRIDE..at])
    })
}

/// Characters in UTF-8 bytes (scanned files are valid UTF-8): every byte
/// that does not continue a multi-byte sequence starts a character.
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

pub fn text<'a>(node: tree_sitter::Node, src: &'a [u8]) -> &'a str {
    node.utf8_text(src).unwrap_or("")
}

/// Position of a node's end (exclusive): 1-based line and column in characters.
pub fn end_pos_of(node: tree_sitter::Node, src: &[u8]) -> Pos {
    let p = node.end_position();
    let end = node.end_byte();
    let row_start = end - p.column;
    Pos {
        line: p.row as u32 + 1,
        column: column_chars(src, row_start, end) as u32 + 1,
    }
}

/// The marker that starts an inline suppression inside a comment.
pub const SUPPRESS_MARKER: &str = "threatscan:";

/// Find `threatscan: ignore[...]` in the file's comments. A plain substring
/// search finds candidates (rare); the syntax tree confirms each one is inside
/// a comment, not a string.
pub fn suppressions(tree: &tree_sitter::Tree, src: &[u8]) -> Vec<Suppression> {
    // Most files have none: search the bytes before validating any text.
    if memchr::memmem::find(src, SUPPRESS_MARKER.as_bytes()).is_none() {
        return vec![];
    }
    let Ok(text) = std::str::from_utf8(src) else {
        return vec![];
    };
    let mut out = vec![];
    let mut from = 0;
    while let Some(i) = text[from..].find(SUPPRESS_MARKER) {
        let at = from + i;
        from = at + SUPPRESS_MARKER.len();
        let Some(node) = tree.root_node().descendant_for_byte_range(at, at) else {
            continue;
        };
        if !node.kind().contains("comment") {
            continue;
        }
        let Some((rules, reason)) = suppression_text(text, at) else {
            continue;
        };
        out.push(Suppression {
            line: pos_of(node, src).line + text[node.start_byte()..at].matches('\n').count() as u32,
            rules,
            reason,
        });
    }
    out
}

/// The rule list and reason of a suppression comment whose marker
/// (`threatscan:`) starts at byte `at`: `ignore[TS1, name] reason` or a
/// bare `ignore reason` (every rule). None when it is not an `ignore`.
pub fn suppression_text(text: &str, at: usize) -> Option<(Vec<String>, String)> {
    let from = at + SUPPRESS_MARKER.len();
    let line_end = text[at..].find('\n').map_or(text.len(), |e| at + e);
    let rest = text.get(from..line_end)?.trim_start();
    let rest = rest.strip_prefix("ignore")?;
    let (rules, reason) = match rest.strip_prefix('[') {
        Some(r) => {
            let (list, reason) = r.split_once(']')?;
            (
                list.split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                reason,
            )
        }
        None => (vec![], rest),
    };
    let reason = reason.trim().trim_end_matches("*/").trim();
    Some((rules, reason.to_string()))
}

/// At most this many matches of one query are in progress at once
/// (tree-sitter's match limit); past it the oldest are dropped.
pub const QUERY_MATCH_LIMIT: u32 = 1024;

/// One query over one file stops after this long (its matches so far are
/// kept and the file is reported as partly scanned).
pub const QUERY_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// Run the rule queries of `lang` over one tree: the hits, and a reason for
/// each query that stopped at its budget.
pub fn query_hits(
    tree: &tree_sitter::Tree,
    src: &[u8],
    lang: Lang,
    queries: &[RuleQuery],
) -> (Vec<QueryHit>, Vec<String>) {
    use streaming_iterator::StreamingIterator;
    let mut out = vec![];
    let mut partial = vec![];
    // Queries whose matches start at known node kinds, by kind.
    let mut by_kind: Vec<Vec<usize>> = vec![];
    let mut rooted = 0u32;
    let mut cursor = tree_sitter::QueryCursor::new();
    cursor.set_match_limit(QUERY_MATCH_LIMIT);
    for (qi, rq) in queries.iter().enumerate() {
        if rq.lang != lang {
            continue;
        }
        if let Some(needles) = &rq.needles {
            if !needles
                .iter()
                .any(|n| memchr::memmem::find(src, n.as_bytes()).is_some())
            {
                continue;
            }
        }
        let Some(query) = rq.query() else { continue };
        if let Some(kinds) = &rq.roots {
            for &k in kinds {
                if by_kind.len() <= k as usize {
                    by_kind.resize(k as usize + 1, vec![]);
                }
                by_kind[k as usize].push(qi);
            }
            rooted += 1;
            continue;
        }
        let start = std::time::Instant::now();
        let mut over_time = false;
        let mut budget = |_: &tree_sitter::QueryCursorState| {
            over_time = start.elapsed() > QUERY_TIME_BUDGET;
            if over_time {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        };
        cursor.set_max_start_depth(None);
        let opts = tree_sitter::QueryCursorOptions::new().progress_callback(&mut budget);
        let mut matches = cursor.matches_with_options(query, tree.root_node(), src, opts);
        while let Some(m) = matches.next() {
            push_hit(&mut out, qi, query, m, src);
        }
        drop(matches);
        if over_time {
            partial.push(over_budget(rq));
        } else if cursor.did_exceed_match_limit() {
            partial.push(over_limit(rq));
        }
    }
    if rooted > 0 {
        // One walk over every node; at a node of a root kind, the queries
        // that can start there run from it alone (start depth 0).
        let budget_total = QUERY_TIME_BUDGET * rooted;
        let start = std::time::Instant::now();
        let mut over_time = false;
        let mut limited = vec![false; queries.len()];
        cursor.set_max_start_depth(Some(0));
        let mut walk = tree.walk();
        'walk: loop {
            let node = walk.node();
            if let Some(qs) = by_kind.get(node.kind_id() as usize) {
                for &qi in qs {
                    let rq = &queries[qi];
                    let mut budget = |_: &tree_sitter::QueryCursorState| {
                        over_time = start.elapsed() > budget_total;
                        if over_time {
                            std::ops::ControlFlow::Break(())
                        } else {
                            std::ops::ControlFlow::Continue(())
                        }
                    };
                    let opts =
                        tree_sitter::QueryCursorOptions::new().progress_callback(&mut budget);
                    // Compiled: it was asked for above to be put in `by_kind`.
                    let Some(query) = rq.query() else { continue };
                    let mut matches = cursor.matches_with_options(query, node, src, opts);
                    while let Some(m) = matches.next() {
                        push_hit(&mut out, qi, query, m, src);
                    }
                    drop(matches);
                    limited[qi] |= cursor.did_exceed_match_limit();
                    if over_time || start.elapsed() > budget_total {
                        over_time = true;
                        break 'walk;
                    }
                }
            }
            if walk.goto_first_child() {
                continue;
            }
            while !walk.goto_next_sibling() {
                if !walk.goto_parent() {
                    break 'walk;
                }
            }
        }
        for (qi, rq) in queries.iter().enumerate() {
            if rq.lang != lang || rq.roots.is_none() || by_kind.iter().all(|q| !q.contains(&qi)) {
                continue;
            }
            if over_time {
                partial.push(over_budget(rq));
            } else if limited[qi] {
                partial.push(over_limit(rq));
            }
        }
    }
    out.sort_by_key(|h| (h.start, h.end, h.query));
    out.dedup_by_key(|h| (h.start, h.end, h.query));
    (out, partial)
}

/// A match's hit: its `@match` capture, else its first.
fn push_hit(
    out: &mut Vec<QueryHit>,
    qi: usize,
    query: &tree_sitter::Query,
    m: &tree_sitter::QueryMatch,
    src: &[u8],
) {
    let want = query.capture_index_for_name("match");
    let cap = match want {
        Some(w) => m.captures().iter().find(|c| c.index == w),
        None => m.captures().first(),
    };
    let Some(c) = cap else { return };
    let t = text(c.node, src);
    let mut first = String::new();
    push_capped(&mut first, t.lines().next().unwrap_or(""));
    out.push(QueryHit {
        query: qi,
        start: pos_of(c.node, src),
        end: end_pos_of(c.node, src),
        text: first,
    });
}

fn over_budget(rq: &RuleQuery) -> String {
    format!(
        "{} query stopped after {} s (its matches so far are kept)",
        rq.rule_id,
        QUERY_TIME_BUDGET.as_secs()
    )
}

fn over_limit(rq: &RuleQuery) -> String {
    format!(
        "{} query had over {QUERY_MATCH_LIMIT} matches in progress at once; some may be missed",
        rq.rule_id
    )
}

#[cfg(test)]
mod tests {
    use crate::lang::Lang;

    fn callee_names(lang: Lang, src: &str) -> Vec<String> {
        let ff = crate::extract_source("t".into(), lang, src.as_bytes()).unwrap();
        let mut v: Vec<String> = ff.each_call().map(|(c, _)| c.func.display()).collect();
        v.sort();
        v
    }

    #[test]
    fn every_nested_python_call_is_visited_once() {
        let src = "a(b(c()), d=[e()], f=lambda: g())\nx = h(i())\ny = j() + k()\nz = {'k': m()}\n";
        assert_eq!(
            callee_names(Lang::Python, src),
            ["a", "b", "c", "e", "g", "h", "i", "j", "k", "m"]
        );
    }

    #[test]
    fn every_call_in_a_rust_chain_is_visited_once() {
        let src =
            "fn r() { let app = Router::new().route(\"/\", get(h)).layer(x(y())); f(vec![g()]); }";
        let names = callee_names(Lang::Rust, src);
        // `new`, `route`, `layer` are the chain; `vec!` is a macro call of its
        // own, and `g()` written in its arguments a call too.
        assert_eq!(
            names,
            [
                "Router::new",
                "Router::new().route",
                "Router::new().route(…).layer",
                "f",
                "g",
                "get",
                "vec!",
                "x",
                "y"
            ]
        );
    }
}

#[cfg(test)]
mod layout {
    use super::*;
    use std::mem::size_of;

    /// Every file's facts are held at once for cross-file linking, so these
    /// sizes are most of the peak memory: a field that grows one of them
    /// costs bytes per byte of source on every repository.
    #[test]
    fn the_shapes_held_for_every_file_stay_small() {
        assert_eq!(size_of::<Text>(), 4);
        assert_eq!(size_of::<Option<Text>>(), 4);
        assert_eq!(size_of::<Expr>(), 16);
        assert_eq!(size_of::<Arg>(), 24);
        assert!(size_of::<CallExpr>() <= 40, "{}", size_of::<CallExpr>());
        assert_eq!(size_of::<ScopeIx>(), 4);
        assert!(size_of::<Call>() <= 48, "{}", size_of::<Call>());
        assert!(size_of::<Assign>() <= 32, "{}", size_of::<Assign>());
        assert!(size_of::<Subscript>() <= 32, "{}", size_of::<Subscript>());
        assert!(size_of::<Stmt>() <= 56, "{}", size_of::<Stmt>());
        assert!(size_of::<Def>() <= 104, "{}", size_of::<Def>());
    }

    #[test]
    fn a_scope_index_stands_for_the_option_it_replaces() {
        for s in [None, Some(0), Some(7), Some(u32::MAX as usize - 1)] {
            assert_eq!(ScopeIx::from(s).get(), s);
            assert_eq!(format!("{:?}", ScopeIx::from(s)), format!("{s:?}"));
            let wire = postcard::to_allocvec(&ScopeIx::from(s)).unwrap();
            assert_eq!(wire, postcard::to_allocvec(&s).unwrap());
            assert_eq!(postcard::from_bytes::<ScopeIx>(&wire).unwrap().get(), s);
        }
        // Past what four bytes hold (no file has that many definitions):
        // module level, never another definition.
        assert_eq!(ScopeIx::from(Some(u32::MAX as usize)).get(), None);
        assert_eq!(ScopeIx::from(Some(usize::MAX)).get(), None);
    }
}
