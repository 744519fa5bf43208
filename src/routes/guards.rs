//! Which expressions are authentication guards or rate limiters, and why.
//!
//! A guard is recognised from how it is attached (decorator, dependency,
//! middleware, extractor, mixin, permission class) and counts as auth or as a
//! limiter because the catalogue lists its resolved name, because its
//! repository definition is named like one (`rules/catalog/*.toml`
//! `auth_words`/`limiter_words`), or because that definition calls a
//! catalogued auth API.

use super::Guard;
use crate::catalog::{Catalog, LangCatalog};
use crate::extract::{CallExpr, DefKind, Expr, Pos};
use crate::facts::GuardRef;
use crate::lang::Lang;
use crate::link::{Index, Target};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Auth(String),
    Limiter(String),
    No,
}

pub struct Classifier<'a> {
    pub idx: &'a Index<'a>,
    pub cat: &'a Catalog,
    memo: RefCell<HashMap<(usize, usize), Verdict>>,
    /// Repository types that implement an extractor / request-guard trait.
    extractors: HashSet<(usize, usize)>,
}

const DECORATOR_SKIP: &[&str] = &["staticmethod", "classmethod", "property"];

impl<'a> Classifier<'a> {
    pub fn new(idx: &'a Index<'a>, cat: &'a Catalog) -> Self {
        let mut extractors = HashSet::new();
        for (fi, f) in idx.files.iter().enumerate() {
            if f.lang != Lang::Rust {
                continue;
            }
            let traits = &cat.rust.guards.extractor_traits;
            for im in &f.impls {
                let last = im.trait_name.rsplit("::").next().unwrap_or(&im.trait_name);
                if traits.iter().any(|t| t == &im.trait_name || t == last) {
                    if let Some(Target::Def(tf, td)) = idx.resolve_name(fi, None, &im.type_name) {
                        extractors.insert((tf, td));
                    }
                }
            }
        }
        Classifier {
            idx,
            cat,
            memo: RefCell::new(HashMap::new()),
            extractors,
        }
    }

    fn lc(&self, file: usize) -> &LangCatalog {
        self.cat.lang(self.idx.files[file].lang)
    }

    /// Classify an expression attached as a guard (`via` says how).
    pub fn classify(&self, file: usize, scope: Option<usize>, e: &Expr, via: &str) -> Vec<Guard> {
        let mut out = vec![];
        self.classify_into(file, scope, e, via, 0, &mut out);
        out
    }

    fn classify_into(
        &self,
        file: usize,
        scope: Option<usize>,
        e: &Expr,
        via: &str,
        depth: u32,
        out: &mut Vec<Guard>,
    ) {
        if depth > 8 {
            return;
        }
        match e {
            Expr::List(items) => {
                for it in items {
                    self.classify_into(file, scope, it, via, depth + 1, out);
                }
            }
            Expr::Call(c) => self.classify_call(file, scope, c, via, depth, out),
            other => {
                if let Some(target) = self.idx.resolve_expr(file, scope, other) {
                    self.classify_target(file, scope, other, None, &target, via, depth, out);
                }
            }
        }
    }

    /// [`Classifier::classify_into`] for a call (`Depends(current_user)`).
    fn classify_call(
        &self,
        file: usize,
        scope: Option<usize>,
        c: &CallExpr,
        via: &str,
        depth: u32,
        out: &mut Vec<Guard>,
    ) {
        if depth > 8 {
            return;
        }
        if let Some(target) = self.idx.resolve_expr(file, scope, &c.func) {
            self.classify_target(file, scope, &c.func, Some(c), &target, via, depth, out);
        }
    }

    /// Classify a guard expression whose callee (the expression itself when
    /// `call` is `None`) has been resolved to `target`.
    #[allow(clippy::too_many_arguments)]
    fn classify_target(
        &self,
        file: usize,
        scope: Option<usize>,
        callee_expr: &Expr,
        call: Option<&CallExpr>,
        target: &Target,
        via: &str,
        depth: u32,
        out: &mut Vec<Guard>,
    ) {
        let lc = self.lc(file);
        if let (None, Expr::Name(..), Target::Var(..)) = (call, callee_expr, target) {
            // A name bound to a list (`permission_classes = PERMS`).
            let (vf, vs, v) = self.idx.value_of(file, scope, callee_expr);
            if matches!(v, Expr::List(_)) {
                return self.classify_into(vf, vs, v, via, depth + 1, out);
            }
        }
        let pos = call
            .map(|c| c.pos)
            .or(callee_expr.pos())
            .unwrap_or_default();
        match target {
            Target::External(q) => {
                if let Some(c) = call {
                    if lc.guards.containers.first(q).is_some() {
                        for a in c.args.iter().filter(|a| a.name.is_none()) {
                            self.classify_into(file, scope, &a.value, via, depth + 1, out);
                        }
                        return;
                    }
                    if lc.guards.wrapper_auth.first(q).is_some() {
                        // `middleware::from_fn(require_auth)`: the wrapped function decides.
                        for a in c.args.iter().filter(|a| a.name.is_none()) {
                            self.classify_into(file, scope, &a.value, via, depth + 1, out);
                        }
                        return;
                    }
                }
                if lc.guards.not_auth.first(q).is_some() {
                    return;
                }
                if let Some(g) = self.external_guard(file, pos, callee_expr, q, via) {
                    out.push(g);
                    return;
                }
                // Rust layer expressions: look inside builder chains and arguments.
                if let Some(c) = call {
                    if self.idx.files[file].lang == Lang::Rust {
                        for a in &c.args {
                            self.classify_into(file, scope, &a.value, via, depth + 1, out);
                        }
                        if let Some((recv, _)) = crate::extract::split_method(&c.func) {
                            self.classify_into(file, scope, &recv, via, depth + 1, out);
                        }
                    }
                }
            }
            Target::Def(df, dd) => {
                let (df, dd) = self.owner(*df, *dd);
                out.extend(self.def_guard(file, pos, callee_expr, df, dd, via));
            }
            Target::Var(vf, va) => {
                // An instance of a limiter or guard class: classify its type.
                let v = &self.idx.files[*vf].assigns[*va];
                match self.idx.type_of(*vf, v.scope, &v.value, 0) {
                    Some(Target::Def(df, dd)) => {
                        out.extend(self.def_guard(file, pos, callee_expr, df, dd, via))
                    }
                    Some(Target::External(q)) => {
                        out.extend(self.external_guard(file, pos, callee_expr, &q, via))
                    }
                    _ => {}
                }
            }
            Target::Module(_) => {}
        }
    }

    /// A guard for an external API the catalogue lists as auth or a limiter.
    fn external_guard(
        &self,
        file: usize,
        pos: Pos,
        callee: &Expr,
        q: &str,
        via: &str,
    ) -> Option<Guard> {
        let (reason, limiter) = catalogued(self.lc(file), q)?;
        let sym = symbol_of_external(q);
        Some(self.guard(file, pos, short_display(callee), sym, via, reason, limiter))
    }

    /// A guard for a repository definition that is auth or a limiter.
    fn def_guard(
        &self,
        file: usize,
        pos: Pos,
        callee: &Expr,
        df: usize,
        dd: usize,
        via: &str,
    ) -> Option<Guard> {
        let (reason, limiter) = match self.verdict(df, dd) {
            Verdict::Auth(r) => (r, false),
            Verdict::Limiter(r) => (r, true),
            Verdict::No => return None,
        };
        let sym = self.idx.def_symbol(df, dd);
        Some(self.guard(file, pos, short_display(callee), sym, via, reason, limiter))
    }

    /// A method stands for its class: `TokenBucket.allow` → `TokenBucket`.
    fn owner(&self, f: usize, d: usize) -> (usize, usize) {
        let def = &self.idx.files[f].defs[d];
        if let Some(p) = def.parent {
            if self.idx.files[f].defs[p].kind == DefKind::Class {
                return (f, p);
            }
        }
        if let Some((ty, _)) = def.name.rsplit_once("::") {
            if let Some(Target::Def(tf, td)) = self.idx.resolve_name(f, None, ty) {
                if tf == f && self.idx.files[f].defs[td].kind == DefKind::Struct {
                    return (tf, td);
                }
            }
        }
        (f, d)
    }

    #[allow(clippy::too_many_arguments)]
    fn guard(
        &self,
        file: usize,
        pos: Pos,
        short: String,
        symbol: String,
        via: &str,
        reason: String,
        limiter: bool,
    ) -> Guard {
        Guard {
            r: GuardRef {
                name: short,
                symbol,
                via: via.to_string(),
                reason,
                file: self.idx.files[file].path.clone(),
                line: pos.line,
            },
            column: pos.column,
            limiter,
        }
    }

    /// Is a repository definition an auth guard or a limiter? By name first
    /// (limiter words win over auth words: `TokenBucket` is a limiter), then by
    /// what it calls.
    fn verdict(&self, f: usize, d: usize) -> Verdict {
        if let Some(v) = self.memo.borrow().get(&(f, d)) {
            return v.clone();
        }
        self.memo.borrow_mut().insert((f, d), Verdict::No);
        let lc = self.lc(f);
        let def = &self.idx.files[f].defs[d];
        let short = short_name(&def.name);
        let v = if let Some(w) = LangCatalog::words_match(&lc.guards.limiter_words, short) {
            Verdict::Limiter(format!(
                "defined in the repository; its name contains '{w}'"
            ))
        } else if let Some(w) = LangCatalog::words_match(&lc.guards.auth_words, short) {
            Verdict::Auth(format!(
                "defined in the repository; its name contains '{w}'"
            ))
        } else {
            self.verdict_by_calls(f, d)
        };
        self.memo.borrow_mut().insert((f, d), v.clone());
        v
    }

    fn verdict_by_calls(&self, f: usize, d: usize) -> Verdict {
        let lc = self.lc(f);
        let file = &self.idx.files[f];
        // A function whose own dependencies authenticate (`def admin(user: CurrentUser)`).
        if file.lang == Lang::Python {
            for (cf, cs, c) in self.dependency_calls(f, d) {
                let mut found = vec![];
                self.classify_call(cf, cs, c, "dependency", 0, &mut found);
                if let Some(g) = found.iter().find(|g| !g.limiter) {
                    return Verdict::Auth(format!("depends on {}", g.r.symbol));
                }
            }
        }
        // Calls made inside this definition and the definitions nested in it
        // (contiguous after it, by start byte), or, for a Rust type, its methods.
        let defs = &file.defs;
        let mut scopes: Vec<usize> = (d..defs.len())
            .take_while(|&s| s == d || defs[s].start_byte < defs[d].end_byte)
            .collect();
        if defs[d].kind == DefKind::Struct {
            let type_prefix = format!("{}::", defs[d].name);
            scopes.extend((0..defs.len()).filter(|&s| defs[s].name.starts_with(&type_prefix)));
        }
        for s in scopes {
            for (ci, _) in self.idx.calls_in(f, Some(s)) {
                if let Some(Target::External(q)) = self.idx.callee(f, ci) {
                    if let Some(p) = lc.guards.auth.first(q) {
                        return Verdict::Auth(format!("calls {q} (catalogued auth API {p})"));
                    }
                }
            }
        }
        Verdict::No
    }

    /// Guards attached to a handler itself: decorators, dependency parameters,
    /// extractor parameters, class mixins and permission classes, limiters it calls.
    fn class_dependencies(&self, f: usize, c: usize, depth: u32, out: &mut Vec<Guard>) {
        if depth > 8 {
            return;
        }
        let file = &self.idx.files[f];
        let cls = &file.defs[c];
        for &ai in &cls.attrs {
            let v = &file.assigns[ai].value;
            if matches!(v, Expr::Call(_)) {
                self.classify_into(f, Some(c), v, "dependency", 0, out);
            }
        }
        for b in &cls.bases {
            if let Some(Target::Def(bf, bd)) = self.idx.resolve_expr(f, cls.parent, b) {
                if self.idx.files[bf].defs[bd].kind == DefKind::Class {
                    self.class_dependencies(bf, bd, depth + 1, out);
                }
            }
        }
    }

    pub fn handler_guards(&self, f: usize, d: usize) -> Vec<Guard> {
        let file = &self.idx.files[f];
        let def = &file.defs[d];
        let scope = def.parent;
        let mut out = vec![];
        for dec in &def.decorators {
            if is_route_decorator(dec) {
                continue;
            }
            if let Expr::Name(n, _) = dec {
                if DECORATOR_SKIP.contains(&n.as_str()) {
                    continue;
                }
            }
            self.classify_into(f, scope, dec, "decorator", 0, &mut out);
        }
        match file.lang {
            Lang::Python => {
                for (cf, cs, c) in self.dependency_calls(f, d) {
                    self.classify_call(cf, cs, c, "dependency", 0, &mut out);
                }
                // A method endpoint of a class-based view (fastapi-utils `@cbv`
                // and look-alikes): the class's and its bases' attributes
                // `user: User = Depends(current_user)` are its dependencies.
                if let Some(p) = scope.filter(|&p| file.defs[p].kind == DefKind::Class) {
                    self.class_dependencies(f, p, 0, &mut out);
                }
            }
            Lang::Rust => {
                for p in &def.params {
                    if let Some(t) = &p.ty {
                        self.extractor(f, t, &mut out);
                    }
                }
            }
        }
        if def.kind == DefKind::Class {
            for b in &def.bases {
                self.classify_into(f, scope, b, "mixin", 0, &mut out);
            }
            for &ai in &def.attrs {
                let a = &self.idx.files[f].assigns[ai];
                let v = &a.value;
                match a.target.as_str() {
                    "permission_classes" | "authentication_classes" => {
                        self.classify_into(f, Some(d), v, "permission_class", 0, &mut out)
                    }
                    "throttle_classes" => {
                        self.classify_into(f, Some(d), v, "throttle_class", 0, &mut out)
                    }
                    _ => {}
                }
            }
            // Guards on the class's HTTP method handlers.
            let prefix = format!("{}.", def.name);
            for (mi, m) in file.defs.iter().enumerate() {
                if m.parent == Some(d)
                    && m.name.starts_with(&prefix)
                    && super::http_method(&m.name[prefix.len()..]).is_some()
                {
                    out.extend(self.handler_guards(f, mi));
                }
            }
        }
        // Limiters used inside the handler body (`if not bucket.allow(): ...`).
        // Only limiters are kept, so callees that cannot be one are passed
        // over before a guard is built: an external API the catalogue does
        // not list as a limiter, a definition whose verdict is not one.
        let lc = self.lc(f);
        let mut found = vec![];
        for (ci, c) in self.idx.calls_in(f, Some(d)) {
            let Some(t) = self.idx.callee(f, ci) else {
                continue;
            };
            let may_limit = match t {
                Target::External(q) => {
                    lc.guards.rate_limit.first(q).is_some() && lc.guards.not_auth.first(q).is_none()
                }
                Target::Def(df, dd) => {
                    let (df, dd) = self.owner(*df, *dd);
                    matches!(self.verdict(df, dd), Verdict::Limiter(_))
                }
                Target::Var(..) => true,
                Target::Module(_) => false,
            };
            if may_limit {
                self.classify_target(f, Some(d), &c.func, None, t, "call", 0, &mut found);
                out.extend(found.drain(..).filter(|g| g.limiter));
            }
        }
        out
    }

    /// Calls in a Python function's parameter defaults and annotations
    /// (`user=Depends(x)`, `Annotated[User, Depends(x)]`), following names bound
    /// to such values (`CurrentUser = Annotated[User, Depends(get_current_user)]`).
    fn dependency_calls(&self, f: usize, d: usize) -> Vec<(usize, Option<usize>, &'a CallExpr)> {
        let def = &self.idx.files[f].defs[d];
        let mut out = vec![];
        for p in &def.params {
            for e in p.default.iter().chain(p.ty.iter()) {
                let (vf, vs, v) = match e {
                    Expr::Name(..) => self.idx.value_of(f, def.parent, e),
                    other => (f, def.parent, other),
                };
                out.extend(calls_in(v).into_iter().map(|c| (vf, vs, c)));
            }
        }
        out
    }

    /// A Rust handler parameter whose type is a request extractor / guard.
    fn extractor(&self, f: usize, ty: &Expr, out: &mut Vec<Guard>) {
        let e = match ty {
            Expr::Subscript(b, _) => b.as_ref(),
            other => other,
        };
        let Expr::Name(n, pos) = e else { return };
        match self.idx.resolve_name(f, None, n) {
            Some(Target::Def(tf, td)) if self.extractors.contains(&(tf, td)) => {
                if let Verdict::Auth(r) = self.verdict(tf, td) {
                    let sym = self.idx.def_symbol(tf, td);
                    out.push(self.guard(
                        f,
                        *pos,
                        short_name(n).to_string(),
                        sym,
                        "extractor",
                        format!("implements a request-extractor trait; {r}"),
                        false,
                    ));
                }
            }
            Some(Target::External(q)) => {
                if let Some(p) = self.cat.rust.guards.auth.first(&q) {
                    out.push(self.guard(
                        f,
                        *pos,
                        short_name(n).to_string(),
                        q.to_string(),
                        "extractor",
                        format!("catalogued auth extractor ({p})"),
                        false,
                    ));
                }
            }
            _ => {}
        }
    }

    /// Repository classes and functions that are rate limiters by name.
    pub fn limiter_definitions(&self) -> Vec<(usize, usize, String)> {
        let mut out = vec![];
        for (fi, f) in self.idx.files.iter().enumerate() {
            for (di, d) in f.defs.iter().enumerate() {
                let top_level_type = matches!(d.kind, DefKind::Class | DefKind::Struct)
                    || (d.parent.is_none() && !d.name.contains("::"));
                if !top_level_type {
                    continue;
                }
                // Limiters are recognised by name alone (see `verdict`), so
                // this needs no call analysis.
                let short = short_name(&d.name);
                if LangCatalog::words_match(&self.lc(fi).guards.limiter_words, short).is_none() {
                    continue;
                }
                if let Verdict::Limiter(r) = self.verdict(fi, di) {
                    out.push((fi, di, r));
                }
            }
        }
        out
    }
}

/// The last segment of a qualified definition name: `Bucket.allow` → `allow`.
fn short_name(name: &str) -> &str {
    name.rsplit(['.', ':']).next().unwrap_or(name)
}

/// A catalogued limiter or auth API: (reason, is limiter). Limiters win.
fn catalogued(lc: &LangCatalog, q: &str) -> Option<(String, bool)> {
    if let Some(p) = lc.guards.rate_limit.first(q) {
        return Some((format!("catalogued rate limiter ({p})"), true));
    }
    lc.guards
        .auth
        .first(q)
        .map(|p| (format!("catalogued auth API ({p})"), false))
}

/// The last segment of an expression's rendering (a guard's short name),
/// without rendering a name or an attribute first.
fn short_display(e: &Expr) -> String {
    match e {
        Expr::Name(n, _) => short_name(n).to_string(),
        Expr::Attr(_, m, _) => short_name(m).to_string(),
        other => short_name(&other.display()).to_string(),
    }
}

/// `Governor::new` stands for `Governor`; other names are kept.
fn symbol_of_external(q: &str) -> String {
    q.strip_suffix("::new").unwrap_or(q).to_string()
}

/// Route registrations are not guards: `@app.get("/")`, `#[get("/")]`.
fn is_route_decorator(e: &Expr) -> bool {
    let Expr::Call(c) = e else { return false };
    let method = match &c.func {
        Expr::Name(n, _) => n.rsplit(['.', ':']).next().unwrap_or(n),
        Expr::Attr(_, m, _) => m.as_str(),
        _ => return false,
    };
    let route_like = super::http_method(method).is_some()
        || matches!(
            method,
            "route" | "api_route" | "websocket" | "websocket_route" | "ws" | "view"
        );
    route_like && matches!(c.args.first().map(|a| &a.value), Some(Expr::Str(_)))
}

/// Every call inside an expression (parameter defaults and annotations).
pub fn calls_in(e: &Expr) -> Vec<&CallExpr> {
    let mut out = vec![];
    fn go<'e>(e: &'e Expr, out: &mut Vec<&'e CallExpr>, depth: u32) {
        if depth > 16 {
            return;
        }
        match e {
            Expr::Call(c) => out.push(c),
            Expr::List(xs) => xs.iter().for_each(|x| go(x, out, depth + 1)),
            Expr::Subscript(b, xs) => {
                go(b, out, depth + 1);
                xs.iter().for_each(|x| go(x, out, depth + 1));
            }
            _ => {}
        }
    }
    go(e, &mut out, 0);
    out
}
