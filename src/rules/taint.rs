//! Does request input reach a sink's arguments? A small, name-based,
//! intra-procedural data flow, composed along the model's call chain:
//!
//! - In the handler, input is every parameter (except `self`/`cls` and
//!   parameters injected by a guard container such as `Depends(...)`) and
//!   every read of a catalogued request object (`flask.request`).
//! - A value is tainted when its expression mentions a tainted name, directly
//!   or through local assignments in the same function, or inside a call,
//!   f-string, `%` format or concatenation; a call to a catalogued path
//!   sanitiser (`os.path.basename`, `secure_filename`) cleans its result.
//! - Along the chain, a callee's parameter is tainted when the caller passes
//!   it a tainted argument (by position or keyword).
//!
//! No aliasing, containers or return values are tracked: the check is meant
//! to keep near-misses quiet (a constant path, a cleaned name), not to prove
//! a flow.

use crate::catalog::LangCatalog;
use crate::extract::{CallExpr, DefKind, Expr, Pos};
use crate::link::{Index, Target};
use crate::model::callgraph::Node;
use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::rc::Rc;

const MAX_DEPTH: u32 = 10;

/// Which argument of a sink counts, and how request data must reach it.
pub struct ArgSpec<'a> {
    pub position: usize,
    pub keywords: &'a [String],
    /// Only as part of text the code builds (see [`Taint::reaches_arg`]).
    pub built: bool,
    /// The receiver of a method sink counts too (`Path(p).read_text()`).
    pub receiver: bool,
}

pub struct Taint<'a> {
    pub idx: &'a Index<'a>,
    pub lc: &'a LangCatalog,
    /// Handler parameters taken as clean (to ask whether the others alone
    /// reach a sink).
    pub skip: FxHashSet<String>,
    /// The source is a language model's output instead of request data:
    /// the result of a call to a catalogued `llm_call` API.
    pub llm_source: bool,
    /// Per function: names confined over a range of positions (see
    /// [`Taint::confinements`]).
    confines: Memo<(usize, Option<usize>), Confinements>,
    /// Per function: does it fail unless what it is given is confined?
    confining: Memo<(usize, usize), FxHashSet<String>>,
}

/// Results computed once per key during one analysis.
type Memo<K, V> = RefCell<FxHashMap<K, Rc<V>>>;

/// Names of a function and the ranges of positions over which each is confined.
type Confinements = Vec<(String, Pos, Pos)>;

/// A position after every other in a file.
const END: Pos = Pos {
    line: u32::MAX,
    column: u32::MAX,
};

impl<'a> Taint<'a> {
    pub fn new(idx: &'a Index<'a>, lc: &'a LangCatalog, llm_source: bool) -> Self {
        Taint {
            idx,
            lc,
            skip: Default::default(),
            llm_source,
            confines: Default::default(),
            confining: Default::default(),
        }
    }

    /// Does function `dd` of file `df` confine what it is given by behaviour:
    /// fail unless a parameter is confined (a path-safe match or containment
    /// test that raises or returns `Err`), or answer whether it is (a
    /// predicate)? Evidence of path confinement for `verify`.
    pub fn confines_input(&self, df: usize, dd: usize) -> bool {
        !self.confining(df, dd, 0).is_empty() || !self.predicate(df, dd, 0).is_empty()
    }

    /// Parameters of a handler that carry request input.
    pub fn handler_inputs(&self, node: Node) -> FxHashSet<String> {
        let (fi, Some(di)) = node else {
            return FxHashSet::default();
        };
        let def = &self.idx.files[fi].defs[di];
        let syn = self.idx.files[fi].lang.syntax();
        def.params
            .iter()
            .filter(|p| !syn.is_receiver(&p.name) && !p.name.is_empty())
            .filter(|p| {
                !matches!(&p.default, Some(Expr::Call(c)) if self.is_container(fi, Some(di), c))
            })
            .filter(|p| !p.ty.as_ref().is_some_and(|t| self.safe_type(fi, Some(di), t, 0, true)))
            .map(|p| p.name.trim_start_matches(['*', '&']).to_string())
            .filter(|n| !self.skip.contains(n))
            .collect()
    }

    /// An annotation that cannot carry a path: a catalogued safe type, or a
    /// repository class with a safe base (an enum).
    fn safe_type(
        &self,
        fi: usize,
        scope: Option<usize>,
        t: &Expr,
        depth: u32,
        handler: bool,
    ) -> bool {
        let safe = &self.lc.taint.safe_types;
        let handler_safe = &self.lc.taint.handler_safe_types;
        // Application state (`web::Data<Config>`) is server data.
        if let Expr::Subscript(s) = t {
            return matches!(self.idx.resolve_expr(fi, scope, &s.base),
                Some(Target::External(api)) if self.lc.taint.state_types.first(&api).is_some());
        }
        let Expr::Name(n, _) = t else { return false };
        if safe.iter().any(|s| s == n) || (handler && handler_safe.iter().any(|s| s == n)) {
            return true;
        }
        match self.idx.resolve_expr(fi, scope, t) {
            Some(Target::External(api)) => {
                safe.first(&api).is_some() || (handler && handler_safe.first(&api).is_some())
            }
            Some(Target::Def(cf, cd)) if depth < 4 => {
                let d = &self.idx.files[cf].defs[cd];
                d.kind == DefKind::Class
                    && d.bases
                        .iter()
                        .any(|b| self.safe_type(cf, d.parent, b, depth + 1, false))
            }
            _ => false,
        }
    }

    fn is_container(&self, fi: usize, scope: Option<usize>, c: &CallExpr) -> bool {
        matches!(self.idx.resolve_expr(fi, scope, &c.func),
            Some(Target::External(api)) if self.lc.guards.containers.first(&api).is_some())
    }

    /// Is `e`, evaluated in `scope`, derived from the `tainted` names or a request object?
    pub fn tainted(
        &self,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        tainted: &FxHashSet<String>,
        depth: u32,
    ) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let rec = |x: &Expr| self.tainted(fi, scope, x, tainted, depth + 1);
        match e {
            Expr::Name(n, p) => {
                let first = n.split(['.', ':']).next().unwrap_or(n);
                if p.line > 0 && self.confined(fi, scope, first, *p) {
                    return false;
                }
                let head = Expr::Name(first.into(), *p);
                // A mutator fills a container's items (`d.update(form)`,
                // `path.push(name)`): the container itself, its items and its
                // methods' results carry them; an attribute read does not
                // (`watch.data_dir` of a dict updated with form fields).
                let whole =
                    n.len() == first.len() || self.idx.files[fi].lang != crate::lang::Lang::Python;
                if tainted.contains(first) {
                    // `ext = ext.replace(".", "")`: the input re-bound to a
                    // cleaned value in this function.
                    if let Some(Target::Var(vf, va)) = self.idx.resolve_expr(fi, scope, &head) {
                        let a = &self.idx.files[vf].assigns[va];
                        if vf == fi && a.scope.get() == scope {
                            if let Expr::Call(c) = &a.value {
                                if self.cleans(c) || self.sanitiser(fi, scope, c) {
                                    return false;
                                }
                            }
                        }
                    }
                    return true;
                }
                match self.idx.resolve_expr(fi, scope, &head) {
                    Some(Target::Var(vf, va)) if vf == fi => {
                        let a = &self.idx.files[vf].assigns[va];
                        // Locals of this function only: module constants are not input.
                        if !(a.scope.get().is_some() && a.scope.get() == scope) {
                            return false;
                        }
                        // The last assignment comes after this use (`file_name`
                        // re-bound further down): the value here is one of the
                        // assignments before it.
                        // A use inside that assignment's own value (`name =
                        // name.strip()`) reads what the name held before it.
                        // (A loop or comprehension variable is bound for the
                        // body it heads, not by a value it is read in.)
                        let own = p.line > 0
                            && a.pos <= *p
                            && a.pos.line == p.line
                            && !matches!(a.value, Expr::Element(_));
                        if p.line > 0 && (a.pos > *p || own) {
                            let before = if own { a.pos } else { *p };
                            let f = &self.idx.files[fi];
                            return f
                                .assigns
                                .iter()
                                .filter(|b| {
                                    b.scope.get() == scope && b.target == first && b.pos < before
                                })
                                .any(|b| rec(&b.value))
                                || (whole && self.mutated(fi, scope, first, tainted, depth));
                        }
                        // An entry of a directory listing names an existing
                        // entry: one name, never `..` or a `/` (`for f in
                        // d.iterdir(): f.name`, `for n in os.listdir(d): n`).
                        if let Expr::Element(inner) = &a.value {
                            if self.entry_name(fi, scope, inner, &n[first.len()..]) {
                                return false;
                            }
                        }
                        rec(&a.value) || (whole && self.mutated(fi, scope, first, tainted, depth))
                    }
                    // (Request objects are not what an LLM-output check looks for.)
                    Some(Target::External(api)) if !self.llm_source => {
                        let full = if n.len() > first.len() {
                            format!("{api}{}", &n[first.len()..])
                        } else {
                            api.to_string()
                        };
                        self.lc
                            .taint
                            .request_objects
                            .iter()
                            .any(|r| full == *r || full.starts_with(&format!("{r}.")))
                    }
                    _ => false,
                }
            }
            Expr::Call(c) => {
                if self.cleans(c) {
                    return false;
                }
                let callee = self.idx.callee_target(fi, scope, &c.func);
                if self.llm_source {
                    if let Some(Target::External(api)) = &callee {
                        if self.lc.sink_for(api).is_some_and(|s| s.kind == "llm_call") {
                            return true;
                        }
                    }
                }
                match callee {
                    Some(Target::External(api))
                        if self.lc.taint.path_sanitisers.first(&api).is_some() =>
                    {
                        return false;
                    }
                    // A repository function gives back request data only
                    // when what it returns derives from what it was given
                    // (or reads a request object itself).
                    Some(Target::Def(df, dd))
                        if self.idx.files[df].defs[dd].kind == DefKind::Function =>
                    {
                        let given = self.given(fi, scope, c, (df, dd), tainted, depth);
                        // A function declared to return a stored record
                        // gives back no request data, unless what it returns
                        // is built here from request data (a record constructed
                        // from it, or request data itself).
                        let def = &self.idx.files[df].defs[dd];
                        let record = def
                            .ret
                            .as_ref()
                            .is_some_and(|t| self.safe_type(df, def.parent, t, 0, false));
                        if record
                            && def.returns.iter().all(|r| {
                                let built_here = match r {
                                    Expr::Call(rc) => matches!(self.idx.callee_target(df, Some(dd), &rc.func),
                                        Some(Target::Def(cf, cd)) if self.idx.files[cf].defs[cd].kind == DefKind::Class),
                                    _ => true,
                                };
                                !built_here || !self.tainted(df, Some(dd), r, &given, depth + 1)
                            })
                        {
                            return false;
                        }
                        return self.idx.files[df].defs[dd]
                            .returns
                            .iter()
                            .any(|r| self.tainted(df, Some(dd), r, &given, depth + 1));
                    }
                    _ => {}
                }
                let receiver = receiver_of(&c.func);
                let from_receiver = receiver.as_ref().is_some_and(&rec);
                // A look-up in server data returns server data, whatever
                // request data chose the key.
                if !from_receiver
                    && receiver.is_some()
                    && crate::extract::method_name(&c.func)
                        .is_some_and(|m| self.lc.taint.lookup_methods.iter().any(|l| l == m))
                {
                    // Only its key is chosen by request data; a default it
                    // falls back to (`ALIASES.get(x, x)`) is returned as is.
                    let m = crate::extract::method_name(&c.func).unwrap_or("");
                    if !matches!(m, "get" | "pop" | "setdefault") {
                        return false;
                    }
                    return c.positional(1).is_some_and(&rec)
                        || c.kwarg("default").is_some_and(&rec);
                }
                from_receiver || c.args.iter().any(|a| rec(&a.value))
            }
            Expr::Attr(a) => rec(&a.base),
            // An element of a collection is the collection's data: request
            // data in the key only chooses which (`WATCHES[uuid]`).
            Expr::Subscript(s) => rec(&s.base),
            Expr::List(xs) | Expr::Mix(xs) | Expr::Logic(_, xs) => xs.iter().any(rec),
            Expr::Macro(m) => m.parts.iter().any(rec),
            Expr::Dict(kv) => kv.iter().any(|(_, v)| rec(v)),
            Expr::Not(x) | Expr::Element(x) => rec(x),
            _ => false,
        }
    }

    /// Is local `var` changed in place with request data: a catalogued
    /// mutator called on it with a tainted argument (`path.set_file_name(n)`,
    /// `parts.append(n)`: `[taint] mutators`)?
    fn mutated(
        &self,
        fi: usize,
        scope: Option<usize>,
        var: &str,
        tainted: &FxHashSet<String>,
        depth: u32,
    ) -> bool {
        let muts = &self.lc.taint.mutators;
        !muts.is_empty()
            && self.idx.calls_in(fi, scope).any(|(_, c)| {
                crate::extract::method_name(&c.func).is_some_and(|m| muts.iter().any(|x| x == m))
                    && matches!(receiver_of(&c.func), Some(Expr::Name(r, _)) if r == var)
                    && c.args
                        .iter()
                        .any(|a| self.tainted(fi, scope, &a.value, tainted, depth + 1))
            })
    }

    /// Is `rest` (`""`, `.name`) of an element of `listing` the bare name of
    /// a directory entry? Catalogue data: `[taint] entry_names` (listings
    /// whose elements are names) and `entry_objects` (listings whose
    /// elements' `entry_name_attrs` are).
    fn entry_name(&self, fi: usize, scope: Option<usize>, listing: &Expr, rest: &str) -> bool {
        let Expr::Call(c) = listing else { return false };
        let Some(Target::External(api)) = self.idx.resolve_expr(fi, scope, &c.func) else {
            return false;
        };
        let t = &self.lc.taint;
        if rest.is_empty() {
            return t.entry_names.first(&api).is_some();
        }
        let attr = rest.trim_start_matches('.');
        t.entry_name_attrs.iter().any(|a| a == attr)
            && (t.entry_objects.first(&api).is_some() || t.entry_names.first(&api).is_some())
    }

    /// The tainted names minus those confined at `at` by a test against
    /// server data: inside `if x in ALLOWED:` / `if x == "a.txt":`, or after
    /// `if x not in ALLOWED: return/raise/abort(...)` in the same function
    /// (the other side of the test carries no request data).
    fn unconfined(
        &self,
        fi: usize,
        scope: Option<usize>,
        at: Pos,
        tainted: FxHashSet<String>,
    ) -> FxHashSet<String> {
        let f = &self.idx.files[fi];
        let mut out = tainted.clone();
        for b in f.stmts.iter().filter(|s| {
            s.kind == crate::extract::StmtKind::Branch && s.scope.get() == scope && s.pos <= at
        }) {
            let Some((start, end)) = b.body else { continue };
            // `x in A` / `x == "a"` (two operands) confine inside the block;
            // `x not in A` / `x != "a"` (one leading marker) after a block
            // that leaves the function.
            let Expr::Mix(all) = &b.value else { continue };
            let (parts, inside) = match &all[..] {
                [a, b] if !matches!(a, Expr::Other) => (vec![a, b], true),
                [Expr::Other, a, b] if !matches!(a, Expr::Other) => (vec![a, b], false),
                _ => continue,
            };
            let applies = if inside {
                start <= at && at < end
            } else {
                // The block ends the function on this path.
                end <= at
                    && (f.stmts.iter().any(|s| {
                        matches!(
                            s.kind,
                            crate::extract::StmtKind::Return | crate::extract::StmtKind::Raise
                        ) && s.scope.get() == scope
                            && start <= s.pos
                            && s.pos < end
                    }) || self.idx.calls_in(fi, scope).any(|(_, c)| {
                        start <= c.start
                            && c.start < end
                            && matches!(self.idx.resolve_expr(fi, scope, &c.func),
                                Some(Target::External(api)) if self.lc.taint.exits.first(&api).is_some())
                    }))
            };
            if !applies {
                continue;
            }
            for (i, p) in parts.iter().enumerate() {
                let Expr::Name(n, _) = p else { continue };
                if n.contains(['.', ':']) || !tainted.contains(n.as_str()) {
                    continue;
                }
                let other = parts[1 - i];
                if !self.tainted(fi, scope, other, &tainted, 0) {
                    out.remove(n.as_str());
                }
            }
        }
        out
    }

    /// A call whose result carries no request data, by what it does: a
    /// record lookup (server data), or removing every `.` or `/` from a
    /// value (`ext.replace(".", "")` leaves one plain name).
    fn cleans(&self, c: &CallExpr) -> bool {
        let callee = c.func.display();
        if self
            .lc
            .taint
            .lookups
            .iter()
            .any(|l| callee == *l || callee.ends_with(&format!(".{l}")))
        {
            return true;
        }
        if let Some((_, m)) = c.method() {
            if !c.args.is_empty()
                && c.args
                    .iter()
                    .all(|a| a.name.as_deref().is_some_and(|k| k != "**"))
                && self.lc.taint.keyword_lookups.iter().any(|l| l == m)
            {
                return true;
            }
        }
        if let Some((_, "replace")) = c.method() {
            if let (Some(Expr::Str(from)), Some(Expr::Str(to))) = (c.positional(0), c.positional(1))
            {
                return (from == "." || from == "/") && !to.contains(['.', '/']);
            }
        }
        false
    }

    /// A call to a catalogued path sanitiser.
    fn sanitiser(&self, fi: usize, scope: Option<usize>, c: &CallExpr) -> bool {
        matches!(self.idx.resolve_expr(fi, scope, &c.func),
            Some(Target::External(api)) if self.lc.taint.path_sanitisers.first(&api).is_some())
    }

    /// Is `name` confined at `at` in function `scope` of file `fi`: inside
    /// `if <check of name>:`, after `if not <check of name>: <leave>`, or
    /// after a call that fails unless what it is given is confined, with no
    /// new assignment to `name` in between?
    fn confined(&self, fi: usize, scope: Option<usize>, name: &str, at: Pos) -> bool {
        let cached = self.confines.borrow().get(&(fi, scope)).cloned();
        let list = match cached {
            Some(l) => l,
            None => {
                let l = Rc::new(self.confinements(fi, scope));
                self.confines.borrow_mut().insert((fi, scope), l.clone());
                l
            }
        };
        list.iter()
            .any(|(n, from, to)| n == name && *from <= at && at < *to)
    }

    /// The (name, from, until) ranges over which names of a function are
    /// confined (see [`Taint::confined`]).
    fn confinements(&self, fi: usize, scope: Option<usize>) -> Vec<(String, Pos, Pos)> {
        let f = &self.idx.files[fi];
        let mut out = vec![];
        // Until the name is assigned again (or `until`).
        let push = |out: &mut Vec<(String, Pos, Pos)>,
                    names: Vec<String>,
                    from: Pos,
                    until: Pos| {
            for n in names {
                let to = f
                    .assigns
                    .iter()
                    .filter(|a| {
                        a.scope.get() == scope && a.target == n && a.pos >= from && a.pos < until
                    })
                    .map(|a| a.pos)
                    .min()
                    .unwrap_or(until);
                out.push((n, from, to));
            }
        };
        // A check inside another block may not run (`if app.debug:`): it
        // confines nothing after it.
        let nested = |at: Pos| {
            f.stmts.iter().any(|o| {
                o.kind == crate::extract::StmtKind::Branch
                    && o.scope.get() == scope
                    && o.body.is_some_and(|(s, e)| s <= at && at < e)
            })
        };
        let rust = f.lang == crate::lang::Lang::Rust;
        for b in f
            .stmts
            .iter()
            .filter(|s| s.kind == crate::extract::StmtKind::Branch && s.scope.get() == scope)
        {
            let Some((start, end)) = b.body else { continue };
            match &b.value {
                Expr::Not(inner) => {
                    let names = self.checked(fi, scope, inner, 0);
                    if !names.is_empty()
                        && !nested(b.pos)
                        && self.block_leaves(fi, scope, start, end, false)
                    {
                        push(&mut out, names, end, END);
                    }
                }
                v => {
                    let names = self.checked(fi, scope, v, 0);
                    push(&mut out, names, start, end);
                }
            }
        }
        for (_, c) in self.idx.calls_in(fi, scope) {
            let mut names = vec![];
            if crate::extract::method_name(&c.func)
                .is_some_and(|m| self.lc.taint.containment_raising.iter().any(|x| x == m))
            {
                if let Some(r) = receiver_of(&c.func).filter(|r| self.normalised(fi, scope, r, 0)) {
                    names.extend(roots(&r));
                }
            } else if let Some(Target::Def(df, dd)) = self.idx.resolve_expr(fi, scope, &c.func) {
                let confined = self.confining(df, dd, 0);
                if !confined.is_empty() {
                    for (param, value) in self.arg_params((df, dd), c) {
                        if confined.contains(&param) {
                            names.extend(direct(value));
                        }
                    }
                }
            }
            // Rust: only when the error leaves the caller (`f(..)?`,
            // `.unwrap()`, `.expect(..)`), not `let _ = f(..)`.
            let fails_here = !rust
                || f.tried.binary_search(&c.start).is_ok()
                || self.idx.calls_in(fi, scope).any(|(_, o)| {
                    matches!(
                        crate::extract::method_name(&o.func),
                        Some("unwrap" | "expect")
                    ) && matches!(receiver_of(&o.func), Some(Expr::Call(r)) if r.start == c.start)
                });
            if !names.is_empty() && fails_here && !nested(c.start) {
                push(&mut out, names, c.start, END);
            }
        }
        out
    }

    /// The names a test checks when it holds: the value a path-safe pattern
    /// matches, the normalised path a containment test accepts, the
    /// arguments of a repository predicate that returns such a test; both
    /// sides of `and`.
    fn checked(&self, fi: usize, scope: Option<usize>, e: &Expr, depth: u32) -> Vec<String> {
        if depth > 3 {
            return vec![];
        }
        let c = match e {
            Expr::Logic(true, xs) => {
                return xs
                    .iter()
                    .flat_map(|x| self.checked(fi, scope, x, depth + 1))
                    .collect()
            }
            Expr::Call(c) => c,
            _ => return vec![],
        };
        let t = &self.lc.taint;
        let callee = self.idx.resolve_expr(fi, scope, &c.func);
        // Flags that move `^`/`$` to line ends (`re.M`) leave only a full
        // match anchored.
        let multiline = |x: Option<&Expr>| {
            x.is_some_and(|f| {
                let mut m = false;
                crate::summary::visit(f, 0, &mut |e| {
                    if let Expr::Name(n, _) = e {
                        let last = n.rsplit('.').next().unwrap_or(n);
                        m |= last == "M" || last == "MULTILINE";
                    }
                });
                m || !matches!(f, Expr::Name(..) | Expr::Mix(_))
            })
        };
        let anchor = |a: &str, ml: bool| {
            crate::rules::pattern::Anchor::parse(a).map(|a| {
                if ml && a != crate::rules::pattern::Anchor::Full {
                    crate::rules::pattern::Anchor::Never
                } else {
                    a
                }
            })
        };
        // `re.fullmatch(P, value)`
        if let Some(Target::External(api)) = &callee {
            if let Some(pc) = t.pattern_checks.iter().find(|p| p.api == **api) {
                if let (Some(Expr::Str(pat)), Some(v)) = (c.positional(0), c.positional(1)) {
                    let ml = multiline(c.positional(2).or_else(|| c.kwarg("flags")));
                    if anchor(&pc.anchor, ml)
                        .is_some_and(|a| crate::rules::pattern::path_safe(pat, a))
                    {
                        return direct(v);
                    }
                }
                return vec![];
            }
        }
        let method = crate::extract::method_name(&c.func);
        let receiver = receiver_of(&c.func);
        if let (Some(m), Some(r)) = (method, &receiver) {
            // `PATTERN.fullmatch(value)` with `PATTERN = re.compile(P)`; a
            // `pos`/`endpos` tests only part of the value.
            if let Some(a) = t.pattern_methods.get(m) {
                if let Some((pat, flags)) = self.compiled_pattern(fi, scope, r) {
                    let partial = c.positional(1).is_some()
                        || c.kwarg("pos").is_some()
                        || c.kwarg("endpos").is_some();
                    let safe = !partial
                        && anchor(a, multiline(flags.as_ref()))
                            .is_some_and(|a| crate::rules::pattern::path_safe(&pat, a));
                    return match (safe, c.positional(0)) {
                        (true, Some(v)) => direct(v),
                        _ => vec![],
                    };
                }
            }
            // `realpath(p).startswith(base + os.sep)`, `resolve().is_relative_to(base)`
            if t.containment_methods.iter().any(|x| x == m)
                && self.normalised(fi, scope, r, 0)
                && c.positional(0).is_some_and(|b| self.base_ok(m, b))
            {
                return roots(r);
            }
        }
        // `if is_safe(name):` where `is_safe` answers with such a test: the
        // arguments given to the parameters the test is about.
        if let Some(Target::Def(df, dd)) = callee {
            let params = self.predicate(df, dd, depth);
            if !params.is_empty() {
                return self
                    .arg_params((df, dd), c)
                    .into_iter()
                    .filter(|(p, _)| params.contains(p))
                    .flat_map(|(_, v)| direct(v))
                    .collect();
            }
        }
        vec![]
    }

    /// Is `base` a real base for containment test `method`? A string
    /// prefix test needs the separator after the base (`/srv/files` is a
    /// prefix of `/srv/files_private`); no test against the root or nothing.
    fn base_ok(&self, method: &str, base: &Expr) -> bool {
        let trivial = matches!(base, Expr::Str(s) if s.is_empty() || s == "/" || s == "\\");
        if trivial {
            return false;
        }
        if !self.lc.taint.prefix_methods.iter().any(|x| x == method) {
            return true;
        }
        let mut sep = false;
        crate::summary::visit(base, 0, &mut |e| match e {
            Expr::Str(s) => sep |= s.ends_with('/') && s.len() > 1,
            Expr::Name(n, _) => sep |= n.ends_with(".sep") || n == "sep",
            _ => {}
        });
        // `os.path.join(base, "")` ends with a separator too.
        if let Expr::Call(c) = base {
            sep |= crate::extract::method_name(&c.func) == Some("join")
                && matches!(c.args.last().map(|a| &a.value), Some(Expr::Str(s)) if s.is_empty());
        }
        sep
    }

    /// The parameters a repository predicate tests: every answer it gives
    /// is a test (a path-safe match, a containment test, `any(..)` of one,
    /// `and` with one) or `False`, or `True` inside a branch on one of its
    /// parameters. Empty when it is no such predicate.
    fn predicate(&self, df: usize, dd: usize, depth: u32) -> FxHashSet<String> {
        let d = &self.idx.files[df].defs[dd];
        if d.kind != DefKind::Function || depth > 3 {
            return FxHashSet::default();
        }
        let scope = Some(dd);
        let mut names: Vec<(String, Pos)> = vec![];
        let f = &self.idx.files[df];
        let params: FxHashSet<&str> = d
            .params
            .iter()
            .map(|p| p.name.trim_start_matches(['*', '&']))
            .collect();
        for r in f
            .stmts
            .iter()
            .filter(|s| s.kind == crate::extract::StmtKind::Return && s.scope.get() == scope)
        {
            match &r.value {
                Expr::Bool(false) => {}
                // `if name == d.filename: return True`
                Expr::Bool(true) => {
                    let guarded = f.stmts.iter().any(|b| {
                        b.kind == crate::extract::StmtKind::Branch
                            && b.scope.get() == scope
                            && !matches!(b.value, Expr::Not(_))
                            && b.body.is_some_and(|(s, e)| s <= r.pos && r.pos < e)
                            && roots(&b.value).iter().any(|n| params.contains(n.as_str()))
                    });
                    if !guarded {
                        return FxHashSet::default();
                    }
                }
                v => {
                    let got = self.answer(df, scope, v, depth);
                    if got.is_empty() {
                        return FxHashSet::default();
                    }
                    names.extend(got.into_iter().map(|n| (n, END)));
                }
            }
        }
        if names.is_empty() {
            return FxHashSet::default();
        }
        self.param_roots(df, scope, names)
    }

    /// The names a returned value tests: a test itself, `any(<test> for ..)`,
    /// or `<test> and ...`.
    fn answer(&self, fi: usize, scope: Option<usize>, v: &Expr, depth: u32) -> Vec<String> {
        match v {
            Expr::Logic(true, xs) => xs
                .iter()
                .flat_map(|x| self.answer(fi, scope, x, depth))
                .collect(),
            // The builtin `any` (unless the module defines its own).
            Expr::Call(c)
                if matches!(&c.func, Expr::Name(n, _) if n == "any")
                    && !matches!(
                        self.idx.resolve_expr(fi, scope, &c.func),
                        Some(Target::Def(..) | Target::Var(..))
                    ) =>
            {
                match c.positional(0) {
                    Some(Expr::List(xs)) if xs.len() == 1 => self.answer(fi, scope, &xs[0], depth),
                    _ => vec![],
                }
            }
            Expr::Call(_) => self.checked(fi, scope, v, depth + 1),
            _ => vec![],
        }
    }

    /// The pattern text of a compiled pattern `r` (`PATTERN` bound to
    /// `re.compile(r"...")`), when it is a literal.
    fn compiled_pattern(
        &self,
        fi: usize,
        scope: Option<usize>,
        r: &Expr,
    ) -> Option<(String, Option<Expr>)> {
        let value = match r {
            Expr::Call(c) => Expr::Call(c.clone()),
            Expr::Name(..) => match self.idx.resolve_expr(fi, scope, r)? {
                Target::Var(vf, va) => self.idx.files[vf].assigns[va].value.clone(),
                _ => return None,
            },
            _ => return None,
        };
        let Expr::Call(c) = value else { return None };
        match self.idx.resolve_expr(fi, scope, &c.func)? {
            Target::External(api) if self.lc.taint.pattern_compilers.first(&api).is_some() => {
                match c.positional(0)? {
                    Expr::Str(p) => Some((
                        p.to_string(),
                        c.positional(1).or_else(|| c.kwarg("flags")).cloned(),
                    )),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Is `e` a resolved or cleaned path: a call to a catalogued normaliser
    /// (`os.path.realpath`, `Path.resolve`, `canonicalize`, `clean`), or a
    /// local bound to one?
    fn normalised(&self, fi: usize, scope: Option<usize>, e: &Expr, depth: u32) -> bool {
        if depth > 4 {
            return false;
        }
        match e {
            Expr::Call(c) => {
                let t = &self.lc.taint;
                crate::extract::method_name(&c.func)
                    .is_some_and(|m| t.normalise_methods.iter().any(|x| x == m))
                    || matches!(self.idx.resolve_expr(fi, scope, &c.func),
                        Some(Target::External(api)) if t.normalisers.first(&api).is_some())
            }
            Expr::Name(..) => self
                .local_value(fi, scope, e)
                .is_some_and(|v| self.normalised(fi, scope, v, depth + 1)),
            _ => false,
        }
    }

    /// The value a plain local of function `scope` was assigned (`full` of
    /// `full = os.path.realpath(p)`), when `e` names one.
    fn local_value(&self, fi: usize, scope: Option<usize>, e: &Expr) -> Option<&'a Expr> {
        let Expr::Name(n, _) = e else { return None };
        if n.contains(['.', ':']) {
            return None;
        }
        match self.idx.resolve_expr(fi, scope, e)? {
            Target::Var(vf, va) if vf == fi => {
                let a = &self.idx.files[vf].assigns[va];
                (a.scope.get() == scope).then_some(&a.value)
            }
            _ => None,
        }
    }

    /// The parameters of function `dd` of file `df` it fails (raises,
    /// returns `Err`, calls a catalogued exit) unless they are confined:
    /// those behind `if not <check>: raise`, a raising containment test, or
    /// a call to another such function, traced back through locals.
    fn confining(&self, df: usize, dd: usize, depth: u32) -> Rc<FxHashSet<String>> {
        if let Some(v) = self.confining.borrow().get(&(df, dd)) {
            return v.clone();
        }
        if depth > 3 {
            return Rc::default();
        }
        // Nothing is confined while being decided (recursion).
        self.confining.borrow_mut().insert((df, dd), Rc::default());
        let f = &self.idx.files[df];
        let scope = Some(dd);
        let mut names: Vec<(String, Pos)> = vec![];
        for b in f.stmts.iter().filter(|b| {
            b.kind == crate::extract::StmtKind::Branch
                && b.scope.get() == scope
                && b.body
                    .is_some_and(|(s, e)| self.block_leaves(df, scope, s, e, true))
        }) {
            if let Expr::Not(inner) = &b.value {
                names.extend(
                    self.checked(df, scope, inner, 0)
                        .into_iter()
                        .map(|n| (n, b.pos)),
                );
            }
        }
        for (_, c) in self.idx.calls_in(df, scope) {
            if crate::extract::method_name(&c.func)
                .is_some_and(|m| self.lc.taint.containment_raising.iter().any(|x| x == m))
            {
                if let Some(r) = receiver_of(&c.func).filter(|r| self.normalised(df, scope, r, 0)) {
                    names.extend(roots(&r).into_iter().map(|n| (n, c.start)));
                }
            } else if let Some(Target::Def(cf, cd)) = self.idx.resolve_expr(df, scope, &c.func) {
                if (cf, cd) != (df, dd) {
                    let inner = self.confining(cf, cd, depth + 1);
                    for (param, value) in self.arg_params((cf, cd), c) {
                        if inner.contains(&param) {
                            names.extend(direct(value).into_iter().map(|n| (n, c.start)));
                        }
                    }
                }
            }
        }
        let params = self.param_roots(df, scope, names);
        let v = Rc::new(params);
        self.confining.borrow_mut().insert((df, dd), v.clone());
        v
    }

    /// The parameters of function `scope` that `names` derive from, through
    /// its local assignments.
    fn param_roots(
        &self,
        fi: usize,
        scope: Option<usize>,
        names: Vec<(String, Pos)>,
    ) -> FxHashSet<String> {
        let f = &self.idx.files[fi];
        let Some(d) = scope else {
            return FxHashSet::default();
        };
        let params: FxHashSet<&str> = f.defs[d]
            .params
            .iter()
            .map(|p| p.name.trim_start_matches(['*', '&']))
            .collect();
        let mut out = FxHashSet::default();
        let mut seen: FxHashSet<String> = FxHashSet::default();
        let mut todo = names;
        while let Some((n, at)) = todo.pop() {
            if !seen.insert(n.clone()) || seen.len() > 64 {
                continue;
            }
            if params.contains(n.as_str()) {
                out.insert(n);
                continue;
            }
            // What the name held at the check: assignments before it.
            for a in f
                .assigns
                .iter()
                .filter(|a| a.scope.get() == scope && a.target == n && a.pos < at)
            {
                todo.extend(roots(&a.value).into_iter().map(|r| (r, a.pos)));
            }
        }
        out
    }

    /// The arguments of call `c` with the parameter of `callee` each binds.
    fn arg_params<'c>(&self, callee: (usize, usize), c: &'c CallExpr) -> Vec<(String, &'c Expr)> {
        let def = &self.idx.files[callee.0].defs[callee.1];
        let syn = self.idx.files[callee.0].lang.syntax();
        let params: Vec<&str> = def
            .params
            .iter()
            .map(|p| p.name.trim_start_matches(['*', '&']))
            .collect();
        let skip = params.first().is_some_and(|p| syn.is_receiver(p)) as usize;
        let mut out = vec![];
        let mut pos = 0;
        for a in &c.args {
            let name = match a.name.as_deref() {
                Some("**") => None,
                Some(k) => Some(k),
                None => {
                    pos += 1;
                    params.get(skip + pos - 1).copied()
                }
            };
            if let Some(n) = name {
                out.push((n.to_string(), &a.value));
            }
        }
        out
    }

    /// Does the block `[start, end)` of `scope` leave the function: raise,
    /// call a catalogued exit, or return (with `failing`, only a return of
    /// `Err(..)`: a plain return hands the caller a value to test)?
    fn block_leaves(
        &self,
        fi: usize,
        scope: Option<usize>,
        start: Pos,
        end: Pos,
        failing: bool,
    ) -> bool {
        let f = &self.idx.files[fi];
        f.stmts.iter().any(|s| {
            s.scope.get() == scope
                && start <= s.pos
                && s.pos < end
                && match s.kind {
                    crate::extract::StmtKind::Raise => true,
                    crate::extract::StmtKind::Return => {
                        !failing
                            || matches!(&s.value, Expr::Call(c)
                                if matches!(&c.func, Expr::Name(n, _) if n == "Err"))
                    }
                    _ => false,
                }
        }) || self.idx.calls_in(fi, scope).any(|(_, c)| {
            start <= c.start
                && c.start < end
                && matches!(self.idx.resolve_expr(fi, scope, &c.func),
                    Some(Target::External(api)) if self.lc.taint.exits.first(&api).is_some())
        })
    }

    /// The parameters of function `callee` that receive tainted arguments
    /// at call `c` (`self` when the receiver is tainted).
    fn given(
        &self,
        fi: usize,
        scope: Option<usize>,
        c: &CallExpr,
        callee: (usize, usize),
        tainted: &FxHashSet<String>,
        depth: u32,
    ) -> FxHashSet<String> {
        let def = &self.idx.files[callee.0].defs[callee.1];
        let syn = self.idx.files[callee.0].lang.syntax();
        let mut out = FxHashSet::default();
        let params: Vec<&str> = def.params.iter().map(|p| p.name.as_str()).collect();
        let has_self = params.first().is_some_and(|p| syn.is_receiver(p));
        if has_self {
            let receiver = receiver_of(&c.func);
            if receiver.is_some_and(|r| self.tainted(fi, scope, &r, tainted, depth + 1)) {
                out.insert(params[0].to_string());
            }
        }
        let positional: Vec<&str> = params.iter().skip(has_self as usize).copied().collect();
        let mut pos = 0;
        for a in &c.args {
            let name = match a.name.as_deref() {
                Some("**") => None,
                Some(k) => Some(k),
                None => {
                    pos += 1;
                    positional.get(pos - 1).copied()
                }
            };
            if let Some(name) = name {
                if self.tainted(fi, scope, &a.value, tainted, depth + 1) {
                    out.insert(name.trim_start_matches(['*', '&']).to_string());
                }
            }
        }
        out
    }

    /// The callee's parameters that receive tainted arguments from the
    /// caller's calls to it.
    pub fn propagate(
        &self,
        caller: Node,
        callee: Node,
        tainted: &FxHashSet<String>,
    ) -> FxHashSet<String> {
        let idx = self.idx;
        let (fi, cd) = caller;
        let mut out = FxHashSet::default();
        let (tf, Some(td)) = callee else { return out };
        let target = &idx.files[tf].defs[td];
        let target_class = target.kind == DefKind::Class;
        let params: Vec<&str> = if target_class {
            // Calling a class: its __init__'s parameters.
            idx.files[tf]
                .defs
                .iter()
                .find(|d| d.name == format!("{}.__init__", target.name))
                .map(|d| d.params.iter().map(|p| p.name.as_str()).collect())
                .unwrap_or_default()
        } else {
            target.params.iter().map(|p| p.name.as_str()).collect()
        };
        // Parameters declared as a type that cannot carry a path (an
        // integer, a stored record) take no request data.
        let param_defs = if target_class {
            idx.files[tf]
                .defs
                .iter()
                .position(|d| d.name == format!("{}.__init__", target.name))
        } else {
            Some(td)
        };
        let safe_params: FxHashSet<&str> = param_defs
            .map(|pd| {
                let d = &idx.files[tf].defs[pd];
                d.params
                    .iter()
                    .filter(|p| {
                        p.ty.as_ref()
                            .is_some_and(|t| self.safe_type(tf, Some(pd), t, 0, false))
                    })
                    .map(|p| p.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let syn = idx.files[fi].lang.syntax();
        let skip_self = params.first().is_some_and(|p| syn.is_receiver(p));
        let positional: Vec<&str> = params.iter().skip(skip_self as usize).copied().collect();
        for s in crate::model::callgraph::scopes_of(&idx.files[fi], cd) {
            for (ci, c) in idx.calls_in(fi, s) {
                let hit = match idx.call_target(fi, ci) {
                    Some(Target::Def(a, b)) => {
                        (a, b) == (tf, td)
                            || (target.name.ends_with(".__init__")
                                && idx.files[a].defs[b].kind == DefKind::Class
                                && a == tf)
                    }
                    _ => false,
                };
                if !hit {
                    continue;
                }
                let mut pos = 0;
                for a in &c.args {
                    let name = match &a.name {
                        Some(k) => Some(k.as_str()),
                        None => {
                            pos += 1;
                            positional.get(pos - 1).copied()
                        }
                    };
                    if let Some(name) = name {
                        if !safe_params.contains(name) && self.tainted(fi, s, &a.value, tainted, 0)
                        {
                            out.insert(name.trim_start_matches(['*', '&']).to_string());
                        }
                    }
                }
            }
        }
        out
    }

    /// Does the argument of the sink call at `pos` (by position or keyword,
    /// or its receiver) derive from a language model's output in its
    /// function?
    pub fn llm_reaches_arg(&self, fi: usize, pos: Pos, api: &str, arg: ArgSpec) -> bool {
        let Some((call, scope)) = self.call_at(fi, pos, api) else {
            return false;
        };
        let none = FxHashSet::default();
        let value = call
            .positional(arg.position)
            .or_else(|| arg.keywords.iter().find_map(|k| call.kwarg(k)));
        value.is_some_and(|v| self.tainted(fi, scope, v, &none, 0))
    }

    /// Does a function of `scopes` (file, definition) ask a person first:
    /// branch on a catalogued approval call's answer (`if not
    /// click.confirm(..): return`, `ok = typer.confirm(..)` then `if ok:`)
    /// before the sink at `sink` (for the sink's own function; anywhere in
    /// the others, which call on towards it)? An approval call whose answer
    /// decides nothing (`q = input("question")`) or that comes after the
    /// sink does not count.
    pub fn asks_approval(
        &self,
        scopes: &[(usize, Option<usize>)],
        sink: (usize, Option<usize>, Pos),
    ) -> Option<String> {
        let approval = |fi: usize, d: Option<usize>, c: &CallExpr| match self
            .idx
            .resolve_expr(fi, d, &c.func)
        {
            Some(Target::External(api)) if self.lc.taint.approval_apis.first(&api).is_some() => {
                Some(api.to_string())
            }
            _ => None,
        };
        for &(fi, d) in scopes {
            let f = &self.idx.files[fi];
            for b in f.stmts.iter().filter(|b| {
                b.kind == crate::extract::StmtKind::Branch
                    && b.scope.get() == d
                    && ((fi, d) != (sink.0, sink.1) || b.pos < sink.2)
            }) {
                let mut found = None;
                crate::summary::visit(&b.value, 0, &mut |e| {
                    if found.is_some() {
                        return;
                    }
                    match e {
                        Expr::Call(c) => found = approval(fi, d, c),
                        Expr::Name(n, p) if !n.contains(['.', ':']) => {
                            if let Some(Target::Var(vf, va)) =
                                self.idx.resolve_expr(fi, d, &Expr::Name(*n, *p))
                            {
                                let a = &self.idx.files[vf].assigns[va];
                                if let (true, Expr::Call(c)) =
                                    (vf == fi && a.scope.get() == d, &a.value)
                                {
                                    found = approval(fi, d, c);
                                }
                            }
                        }
                        _ => {}
                    }
                });
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }

    /// The call at `pos` in `fi` to `api` (see [`Index::call_at`]).
    pub fn call_at(&self, fi: usize, pos: Pos, api: &str) -> Option<(&'a CallExpr, Option<usize>)> {
        self.idx.call_at(fi, pos, api)
    }

    /// Request input reaches one argument of the sink call at `sink` (by
    /// position, or by one of `keywords`); with `built`, only as part of text
    /// the code builds (an f-string, `%`, `+`, `.format`, `join`, `format!`),
    /// so that values passed separately (SQL parameters) do not count.
    pub fn reaches_arg(
        &self,
        chain: &[Node],
        sink_file: usize,
        sink: Pos,
        api: &str,
        arg: ArgSpec,
    ) -> bool {
        let ArgSpec {
            position,
            keywords,
            built,
            receiver,
        } = arg;
        let Some((call, scope, tainted)) = self.at_sink(chain, sink_file, sink, api) else {
            return false;
        };
        if receiver {
            let recv = receiver_of(&call.func);
            // A method of a value (not a module function: `os.remove`).
            let value = recv.as_ref().is_some_and(|r| {
                !matches!(
                    self.idx.resolve_expr(sink_file, scope, r),
                    Some(Target::External(_)) | Some(Target::Module(_))
                ) || matches!(r, Expr::Call(_))
            });
            if value && recv.is_some_and(|r| self.tainted(sink_file, scope, &r, &tainted, 0)) {
                return true;
            }
        }
        // The positional argument first: beside it, a keyword of the list
        // names another parameter (`FileResponse(path, filename=...)` is
        // the download name).
        let arg = call
            .positional(position)
            .or_else(|| keywords.iter().find_map(|k| call.kwarg(k)));
        let reached = arg.is_some_and(|arg| {
            if built {
                // Doubling quotes escapes them only where a backslash does
                // not (`[taint] backslash_escape_sql`: MySQL).
                let doubling = self.lc.taint.backslash_escape_sql.first(api).is_none();
                self.built_from(sink_file, scope, arg, &tainted, doubling, 0)
            } else {
                self.tainted(sink_file, scope, arg, &tainted, 0)
            }
        });
        // Builder calls chained on the sink (`.arg(cmd)`) start where it
        // does; their arguments are part of what it runs.
        reached
            || (!built
                && !self.lc.taint.builder_args.is_empty()
                && self.idx.calls(sink_file).any(|(c, s)| {
                    c.start == call.start
                        && !std::ptr::eq(c, call)
                        && crate::extract::method_name(&c.func)
                            .is_some_and(|m| self.lc.taint.builder_args.iter().any(|b| b == m))
                        && c.args
                            .iter()
                            .any(|a| self.tainted(sink_file, s, &a.value, &tainted, 0))
                }))
    }

    /// Is `e` text built from tainted data: formatting or concatenation with
    /// a tainted part, directly, through a local variable, or as the first
    /// argument of a wrapper call (`text(f"...")`)?
    fn built_from(
        &self,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        tainted: &FxHashSet<String>,
        doubling: bool,
        depth: u32,
    ) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let taint = |x: &Expr| self.tainted(fi, scope, x, tainted, 0);
        // A value with every quote doubled (`v.replace("'", "''")`) stays
        // inside the SQL string literal it is formatted into: between quotes
        // in an f-string, or in a template whose every slot is quoted.
        let escaped =
            |x: &Expr, quoted: bool| doubling && quoted && self.sql_escaped(fi, scope, x, 0);
        let is_str =
            |x: Option<&Expr>, f: &dyn Fn(&str) -> bool| matches!(x, Some(Expr::Str(t)) if f(t));
        match e {
            Expr::Mix(xs) => {
                // `"... '%s'" % v`: the template first.
                let template = match xs.first() {
                    Some(Expr::Str(t)) if xs.len() == 2 => Some(slots_quoted(t)),
                    _ => None,
                };
                xs.iter().enumerate().any(|(i, x)| {
                    let quoted = template.unwrap_or_else(|| {
                        i > 0
                            && is_str(xs.get(i - 1), &|t| {
                                t.ends_with('\'') && !t[..t.len() - 1].ends_with(['E', 'e'])
                            })
                            && is_str(xs.get(i + 1), &|t| t.starts_with('\''))
                    });
                    !escaped(x, quoted) && taint(x)
                })
            }
            Expr::Macro(m)
                if matches!(
                    m.name.rsplit("::").next(),
                    Some("format" | "format_args" | "concat")
                ) =>
            {
                m.parts.iter().any(taint)
            }
            Expr::Call(c) => {
                if let Some((recv, m)) = c.method() {
                    if m == "format" || m == "join" || m == "format_map" {
                        let quoted =
                            m == "format" && matches!(&recv, Expr::Str(t) if slots_quoted(t));
                        return taint(&recv)
                            || c.args
                                .iter()
                                .any(|a| !escaped(&a.value, quoted) && taint(&a.value));
                    }
                }
                let wrapper = matches!(self.idx.resolve_expr(fi, scope, &c.func),
                    Some(Target::External(api)) if self.lc.taint.sql_text_wrappers.first(&api).is_some());
                wrapper
                    && c.positional(0).is_some_and(|a| {
                        self.built_from(fi, scope, a, tainted, doubling, depth + 1)
                    })
            }
            Expr::Name(n, _) if !n.contains(['.', ':']) => {
                match self.idx.resolve_expr(fi, scope, e) {
                    Some(Target::Var(vf, va)) if vf == fi => {
                        let a = &self.idx.files[vf].assigns[va];
                        a.scope.get().is_some()
                            && a.scope.get() == scope
                            && self.built_from(fi, scope, &a.value, tainted, doubling, depth + 1)
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// Is `e` escaped for an SQL string literal: a catalogued escape
    /// (`[taint] sql_literal_escapes`: `.replace("'", "''")`), directly or
    /// as a local's value?
    fn sql_escaped(&self, fi: usize, scope: Option<usize>, e: &Expr, depth: u32) -> bool {
        match e {
            Expr::Call(c) => {
                matches!(c.method(), Some((_, "replace")))
                    && matches!((c.positional(0), c.positional(1)), (Some(Expr::Str(a)), Some(Expr::Str(b)))
                        if self.lc.taint.sql_literal_escapes.iter().any(|[from, to]| from == a && to == b))
            }
            Expr::Name(..) if depth < 3 => self
                .local_value(fi, scope, e)
                .is_some_and(|v| self.sql_escaped(fi, scope, v, depth + 1)),
            _ => false,
        }
    }

    /// The sink call at `sink` and the names that carry request input in
    /// its function: the handler's inputs propagated along `chain`, minus
    /// those confined at the sink.
    fn at_sink(
        &self,
        chain: &[Node],
        sink_file: usize,
        sink: Pos,
        api: &str,
    ) -> Option<(&'a CallExpr, Option<usize>, FxHashSet<String>)> {
        let &first = chain.first()?;
        let mut tainted = self.handler_inputs(first);
        // An empty set can still meet a request object read further down.
        for w in chain.windows(2) {
            tainted = self.propagate(w[0], w[1], &tainted);
        }
        let (call, scope) = self.call_at(sink_file, sink, api)?;
        let tainted = self.unconfined(sink_file, scope, sink, tainted);
        Some((call, scope, tainted))
    }

    /// Request input reaches the sink call at `sink` through `chain`
    /// (handler first, the sink's function last).
    pub fn reaches(&self, chain: &[Node], sink_file: usize, sink: Pos, api: &str) -> bool {
        let Some((call, scope, tainted)) = self.at_sink(chain, sink_file, sink, api) else {
            return false;
        };
        self.tainted(
            sink_file,
            scope,
            &Expr::Call(Box::new(call.clone())),
            &tainted,
            0,
        )
    }
}

/// The receiver of a method call's callee: `a.b` of `a.b.m`, `x()` of `x().m`.
fn receiver_of(func: &Expr) -> Option<Expr> {
    match func {
        Expr::Name(n, p) => n
            .rsplit_once('.')
            .map(|(recv, _)| Expr::Name(recv.into(), *p)),
        Expr::Attr(a) => Some(a.base.clone()),
        _ => None,
    }
}

/// The variables an expression mentions (`name` of `name.lower()`, of
/// `os.path.join(base, name)`).
fn roots(e: &Expr) -> Vec<String> {
    let mut out = vec![];
    crate::summary::visit(e, 0, &mut |x| {
        if let Expr::Name(n, _) = x {
            let first = n.split(['.', ':']).next().unwrap_or(n);
            if !first.is_empty() && !out.iter().any(|o| o == first) {
                out.push(first.to_string());
            }
        }
    });
    out
}

/// Is every slot of a format template (`{}`, `{name}`, `%s`, `%(name)s`)
/// inside single quotes (`'{}'`)?
fn slots_quoted(t: &str) -> bool {
    let b = t.as_bytes();
    let mut slots = 0;
    let mut i = 0;
    while i < b.len() {
        let end = match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                i += 2;
                continue;
            }
            b'{' => t[i..].find('}').map(|e| i + e),
            b'%' if b.get(i + 1) == Some(&b'%') => {
                i += 2;
                continue;
            }
            b'%' => {
                // `%s`, `%(name)s`, `%-5d`: up to the conversion letter.
                let rest = &t[i + 1..];
                let skip = if rest.starts_with('(') {
                    rest.find(')').map_or(0, |e| e + 1)
                } else {
                    0
                };
                rest[skip..]
                    .find(|c: char| c.is_ascii_alphabetic())
                    .map(|e| i + 1 + skip + e)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let Some(end) = end else { return false };
        slots += 1;
        // `E'...'` (PostgreSQL) reads backslash escapes: not a plain literal.
        if i == 0
            || b[i - 1] != b'\''
            || b.get(end + 1) != Some(&b'\'')
            || (i >= 2 && matches!(b[i - 2], b'E' | b'e'))
        {
            return false;
        }
        i = end + 1;
    }
    slots > 0
}

/// The variable a test or a call is about when it is given the variable
/// itself, or a case or whitespace variant of it (`name`, `name.lower()`,
/// `&name`): a test of `basename(name)` or `name[:4]` says nothing of `name`.
fn direct(e: &Expr) -> Vec<String> {
    const SAME: &[&str] = &[
        "lower",
        "upper",
        "casefold",
        "strip",
        "lstrip",
        "rstrip",
        "to_lowercase",
        "to_uppercase",
        "trim",
        "as_str",
        "to_string",
        "as_ref",
        "as_path",
        "to_owned",
        "clone",
    ];
    match e {
        Expr::Name(n, _) if !n.contains(['.', ':']) => vec![n.to_string()],
        Expr::Call(c)
            if c.args.is_empty()
                || matches!(
                    crate::extract::method_name(&c.func),
                    Some("strip" | "lstrip" | "rstrip")
                ) =>
        {
            match (crate::extract::method_name(&c.func), receiver_of(&c.func)) {
                (Some(m), Some(r)) if SAME.contains(&m) => direct(&r),
                _ => vec![],
            }
        }
        _ => vec![],
    }
}
