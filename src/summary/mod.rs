//! Function summaries: what a function, method, closure or type does to a
//! request, read from its code and computed once per definition over the
//! name-resolved call graph (memoised, bounded depth).
//!
//! A summary records, each with evidence (file, position, what):
//! - *rejects*: the function answers 401/403/429, redirects to a login page,
//!   closes a socket, or fails (`Err(..)`, `Outcome::Error`), directly or
//!   through a function it calls. Rejections that only a request carrying an
//!   identity can meet (`if user.is_authenticated and not user.verified:
//!   abort(403)`) are kept apart: an anonymous request passes them.
//! - *credential*: it reads a credential source (the Authorization header, a
//!   cookie, the session, an API key) or verifies one (token decoding,
//!   constant-time comparison, password hashes, catalogued auth libraries).
//! - *authz*: a role, permission, scope, ownership or membership test.
//! - *limit*: a catalogued limiter call, or a 429 answer.
//! - *returns_none*: some path returns nothing (an optional identity).
//!
//! What counts as each is catalogue data (`[behaviour]` in
//! `rules/catalog/*.toml`); a guard's name never decides anything.

use crate::catalog::{Catalog, LangCatalog, RejectStatus};
use crate::extract::{CallExpr, DefKind, Expr, FileFacts, Pos, Stmt, StmtKind, ThinVec};
use crate::intern::Sym;
use crate::link::{Index, Target};
use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// How deep summaries follow calls into other summaries.
const MAX_DEPTH: u32 = 8;

/// What a rejection answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reject {
    /// 401 or 407.
    Unauthorized,
    /// A redirect to a login page.
    Login,
    /// 403.
    Forbidden,
    /// 429.
    TooMany,
    /// 405: a method-restricting wrapper.
    NotAllowed,
    /// A socket closed before it is served.
    Closed,
    /// An error whose status is not known (`Err(e)`, `abort(code)`).
    Failure,
}

impl Reject {
    pub fn describe(self) -> &'static str {
        match self {
            Reject::Unauthorized => "answers 401",
            Reject::Login => "redirects to a login page",
            Reject::Forbidden => "answers 403",
            Reject::TooMany => "answers 429",
            Reject::NotAllowed => "answers 405",
            Reject::Closed => "closes the connection",
            Reject::Failure => "fails the request",
        }
    }

    fn of(s: RejectStatus) -> Reject {
        match s {
            RejectStatus::Unauthorized => Reject::Unauthorized,
            RejectStatus::Forbidden => Reject::Forbidden,
            RejectStatus::TooMany => Reject::TooMany,
            RejectStatus::NotAllowed => Reject::NotAllowed,
            RejectStatus::Argument => Reject::Failure,
        }
    }
}

/// Where a summary's finding comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ev {
    pub file: usize,
    pub pos: Pos,
    pub what: String,
}

#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Rejections an anonymous request can meet (first evidence per kind).
    pub rejects: Vec<(Reject, Ev)>,
    /// Rejections anonymous requests meet only for some request data
    /// (`if page.auth_required and not authed(): redirect(login)`).
    pub rejects_cond: Vec<(Reject, Ev)>,
    /// Rejections only a request that carries an identity can meet.
    pub rejects_known: Vec<(Reject, Ev)>,
    pub credential: Option<Ev>,
    /// The credential evidence is only a name or literal that looks like one
    /// (a catalogued verification or source replaces it).
    pub credential_weak: bool,
    pub authz: Option<Ev>,
    pub limit: Option<Ev>,
    /// It issues a credential (a login: `login_user`, `jwt.encode`).
    pub issues: Option<Ev>,
    pub returns_none: bool,
    /// It answers 405 on some path: it restricts methods.
    pub not_allowed: bool,
    /// A Rust extractor whose rejection type is `Infallible`.
    pub infallible: bool,
}

/// Authentication (who) or authorization (allowed to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuthKind {
    Authentication,
    Authorization,
}

impl AuthKind {
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::Authentication => "authentication",
            AuthKind::Authorization => "authorization",
        }
    }
}

impl Summary {
    /// Take the other summary's credential check (a strong one over a weak
    /// one), authorization and limit evidence where this one has none.
    pub fn merge_checks(&mut self, o: &Summary) {
        if o.credential.is_some()
            && (self.credential.is_none() || (self.credential_weak && !o.credential_weak))
        {
            self.credential = o.credential.clone();
            self.credential_weak = o.credential_weak;
        }
        if self.authz.is_none() {
            self.authz = o.authz.clone();
        }
        if self.limit.is_none() {
            self.limit = o.limit.clone();
        }
    }

    fn has(&self, r: Reject) -> bool {
        self.rejects.iter().any(|(k, _)| *k == r)
    }

    fn reject(&self, r: Reject) -> Option<&Ev> {
        self.rejects.iter().find(|(k, _)| *k == r).map(|(_, e)| e)
    }

    /// Does it reject a request without a valid credential? Authentication
    /// when it answers 401, redirects to a login page, or fails after a
    /// credential check; authorization when it answers 403 after an
    /// identity or permission check.
    pub fn auth_required(&self) -> Option<AuthKind> {
        let identity = self.credential.is_some() || self.authz.is_some();
        let authn = self.has(Reject::Unauthorized)
            || (identity && self.has(Reject::Login))
            || (self.credential.is_some()
                && (self.has(Reject::Failure) || self.has(Reject::Closed)));
        let authz = self.has(Reject::Forbidden) && identity;
        if !(authn || authz) {
            return None;
        }
        Some(if self.authz.is_some() || (authz && !authn) {
            AuthKind::Authorization
        } else {
            AuthKind::Authentication
        })
    }

    /// Does it use an identity when there is one and let anonymous requests
    /// through: it returns nothing for them, or rejects them only for some
    /// request data?
    pub fn auth_optional(&self) -> bool {
        let identity = self.credential.is_some() || self.authz.is_some();
        let conditional = self.rejects_cond.iter().any(|(r, _)| {
            matches!(r, Reject::Unauthorized | Reject::Forbidden)
                || (identity && matches!(r, Reject::Login | Reject::Failure | Reject::Closed))
        });
        identity
            && self.auth_required().is_none()
            && !self.limits()
            && (self.returns_none || conditional)
    }

    /// Does it reject on an exhausted limit?
    pub fn limits(&self) -> bool {
        self.has(Reject::TooMany) || self.limit.is_some()
    }

    /// The evidence of an auth verdict: the check, then the rejection.
    pub fn auth_evidence(&self) -> Vec<Ev> {
        let mut out = vec![];
        if let Some(e) = self.credential.as_ref().or(self.authz.as_ref()) {
            out.push(e.clone());
        }
        for r in [
            Reject::Unauthorized,
            Reject::Login,
            Reject::Forbidden,
            Reject::Failure,
            Reject::Closed,
        ] {
            if let Some(e) = self.reject(r) {
                out.push(e.clone());
                break;
            }
        }
        if let Some(e) = self.authz.as_ref().filter(|_| self.credential.is_some()) {
            out.push(e.clone());
        }
        out
    }

    /// The evidence of a limiter verdict.
    pub fn limit_evidence(&self) -> Vec<Ev> {
        let mut out = vec![];
        if let Some(e) = &self.limit {
            out.push(e.clone());
        }
        if let Some(e) = self.reject(Reject::TooMany) {
            out.push(e.clone());
        }
        out
    }

    fn add_reject(&mut self, r: Reject, ev: Ev, reach: Reach) {
        if r == Reject::NotAllowed {
            self.not_allowed = true;
            return;
        }
        let list = match reach {
            Reach::Anyone => &mut self.rejects,
            Reach::Conditional => &mut self.rejects_cond,
            Reach::Known => &mut self.rejects_known,
        };
        if !list.iter().any(|(k, _)| *k == r) {
            list.push((r, ev));
        }
    }

    /// Merge a callee's summary, reached from a call site at `reach`.
    fn merge(&mut self, o: &Summary, reach: Reach) {
        let narrow = |inner: Reach| match (reach, inner) {
            (Reach::Known, _) | (_, Reach::Known) => Reach::Known,
            (Reach::Conditional, _) | (_, Reach::Conditional) => Reach::Conditional,
            _ => Reach::Anyone,
        };
        for (r, e) in &o.rejects {
            self.add_reject(*r, e.clone(), narrow(Reach::Anyone));
        }
        for (r, e) in &o.rejects_cond {
            self.add_reject(*r, e.clone(), narrow(Reach::Conditional));
        }
        for (r, e) in &o.rejects_known {
            self.add_reject(*r, e.clone(), Reach::Known);
        }
        self.merge_checks(o);
        if self.issues.is_none() {
            self.issues = o.issues.clone();
        }
        self.not_allowed |= o.not_allowed;
    }
}

/// The truth of a condition for a request without an identity (or with
/// one): true, false, or unknown because it depends on configuration (a
/// module constant, a setting, an attribute of `self`) or on the request's
/// data (a local value, a parameter).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tri {
    True,
    False,
    Config,
    Data,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            other => other,
        }
    }
}

/// Where a rejection sits relative to the conditions above it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Reach {
    /// Every request may meet it, anonymous ones included.
    Anyone,
    /// Anonymous requests meet it only for some request data.
    Conditional,
    /// Only requests that carry an identity meet it.
    Known,
}

/// Summaries of every definition of a linked repository, computed on demand.
/// (file, scope, symbol id of a name).
type ScopedName = (usize, Option<usize>, u32);

pub struct Summaries<'a> {
    pub idx: &'a Index<'a>,
    pub cat: &'a Catalog,
    memo: RefCell<FxHashMap<(usize, usize), Rc<Summary>>>,
    /// [`Summaries::identity_name`] by (file, scope, name).
    identity: RefCell<FxHashMap<ScopedName, bool>>,
    /// A class called as a constructor: its `__init__`, class attributes and bases.
    constructed: RefCell<FxHashMap<(usize, usize), Rc<Summary>>>,
    /// Rust: a type's methods, from every `impl` in the repository.
    methods: FxHashMap<(usize, usize), Vec<(usize, usize)>>,
    /// Rust: repository types that implement a request-extractor trait.
    pub extractors: FxHashSet<(usize, usize)>,
    /// Rust: an extractor's rejection types (`type Rejection = ...`), with the impl's file.
    rejections: FxHashMap<(usize, usize), Vec<(usize, &'a Expr)>>,
    /// Per file: statement indices by innermost scope.
    stmts: Vec<FxHashMap<Option<usize>, Vec<u32>>>,
    depth: Cell<u32>,
}

impl<'a> Summaries<'a> {
    pub fn new(idx: &'a Index<'a>, cat: &'a Catalog) -> Self {
        let mut methods: FxHashMap<(usize, usize), Vec<(usize, usize)>> = FxHashMap::default();
        let mut extractors = FxHashSet::default();
        let mut rejections: FxHashMap<(usize, usize), Vec<(usize, &Expr)>> = FxHashMap::default();
        for (fi, f) in idx.files.iter().enumerate() {
            // Extractors are types whose impl blocks the framework calls.
            if !f.lang.syntax().typed_extractors {
                continue;
            }
            let mut owners: FxHashMap<&str, Option<(usize, usize)>> = FxHashMap::default();
            for (di, d) in f.defs.iter().enumerate() {
                if d.kind != DefKind::Function || d.parent.is_some() {
                    continue;
                }
                let Some((ty, _)) = d.name.rsplit_once("::") else {
                    continue;
                };
                let owner =
                    *owners
                        .entry(ty)
                        .or_insert_with(|| match idx.resolve_name(fi, None, ty) {
                            Some(Target::Def(tf, td))
                                if idx.files[tf].defs[td].kind == DefKind::Struct =>
                            {
                                Some((tf, td))
                            }
                            _ => None,
                        });
                if let Some(o) = owner {
                    methods.entry(o).or_default().push((fi, di));
                }
            }
            let traits = &cat.rust.guards.extractor_traits;
            let optional = &cat.rust.guards.optional_extractor_traits;
            for im in &f.impls {
                let last = im.trait_name.rsplit("::").next().unwrap_or(&im.trait_name);
                if !traits.iter().any(|t| t == &im.trait_name || t == last)
                    || optional.iter().any(|t| t == &im.trait_name || t == last)
                {
                    continue;
                }
                if let Some(Target::Def(tf, td)) = idx.resolve_name(fi, None, &im.type_name) {
                    extractors.insert((tf, td));
                    for (name, ty) in &im.assoc {
                        if name == "Rejection" || name == "Error" {
                            rejections.entry((tf, td)).or_default().push((fi, ty));
                        }
                    }
                }
            }
        }
        let stmts = idx
            .files
            .iter()
            .map(|f| {
                let mut m: FxHashMap<Option<usize>, Vec<u32>> = FxHashMap::default();
                for (i, s) in f.stmts.iter().enumerate() {
                    m.entry(s.scope.get()).or_default().push(i as u32);
                }
                m
            })
            .collect();
        Summaries {
            idx,
            cat,
            memo: Default::default(),
            identity: Default::default(),
            constructed: Default::default(),
            methods,
            extractors,
            rejections,
            stmts,
            depth: Cell::new(0),
        }
    }

    fn lc(&self, file: usize) -> &'a LangCatalog {
        self.cat.lang(self.idx.files[file].lang)
    }

    fn file(&self, file: usize) -> &'a FileFacts {
        &self.idx.files[file]
    }

    /// The statements whose innermost scope is `scope`.
    pub fn stmts_in(
        &self,
        file: usize,
        scope: Option<usize>,
    ) -> impl Iterator<Item = &'a Stmt> + '_ {
        let f = self.file(file);
        self.stmts[file]
            .get(&scope)
            .into_iter()
            .flatten()
            .map(move |&i| &f.stmts[i as usize])
    }

    /// The summary of a definition: a function with the functions nested in
    /// it, a class with its methods and bases, a Rust type with its methods.
    pub fn of(&self, file: usize, def: usize) -> Rc<Summary> {
        if let Some(s) = self.memo.borrow().get(&(file, def)) {
            return s.clone();
        }
        // A cycle sees an empty summary.
        self.memo
            .borrow_mut()
            .insert((file, def), Rc::new(Summary::default()));
        let s = Rc::new(self.guarded(|| self.compute(file, def)));
        self.memo.borrow_mut().insert((file, def), s.clone());
        s
    }

    /// An attached class (middleware, mixin, permission class): the methods
    /// the framework calls on it before the endpoint, from the class and its
    /// repository bases, and what catalogued bases do.
    pub fn attached_class(&self, file: usize, class: usize) -> Rc<Summary> {
        let f = self.file(file);
        let d = &f.defs[class];
        let entry = &self.lc(file).guards.class_entry_methods;
        let mut b = Summary::default();
        let prefix = format!("{}.", d.name);
        for (mi, m) in f.defs.iter().enumerate() {
            if m.parent == Some(class)
                && m.name
                    .strip_prefix(&prefix)
                    .is_some_and(|short| entry.iter().any(|e| e == short))
            {
                b.merge(&self.of(file, mi), Reach::Anyone);
            }
        }
        for base in &d.bases {
            if let Some(Target::Def(bf, bd)) = self.idx.resolve_expr(file, d.parent, base) {
                if self.file(bf).defs[bd].kind == DefKind::Class && (bf, bd) != (file, class) {
                    b.merge(&self.attached_class(bf, bd), Reach::Anyone);
                }
            }
        }
        // Catalogued bases (DRF permissions) and exception bases.
        let mut only_bases = Summary::default();
        self.guarded(|| {
            self.bases(&mut only_bases, file, class, false);
            Summary::default()
        });
        for (r, e) in only_bases.rejects {
            b.add_reject(r, e, Reach::Anyone);
        }
        Rc::new(b)
    }

    /// A class called as a constructor (or raised): its `__init__`, its
    /// class attributes and its bases; not every method it has.
    pub fn constructed(&self, file: usize, class: usize) -> Rc<Summary> {
        if let Some(s) = self.constructed.borrow().get(&(file, class)) {
            return s.clone();
        }
        self.constructed
            .borrow_mut()
            .insert((file, class), Rc::new(Summary::default()));
        let s = Rc::new(self.guarded(|| {
            let f = self.file(file);
            let mut b = Summary::default();
            let init = format!("{}.__init__", f.defs[class].name);
            self.scan_scope(&mut b, file, Some(class), None);
            if let Some(i) = f.defs.iter().position(|d| d.name == init) {
                b.merge(&self.of(file, i), Reach::Anyone);
            }
            self.bases(&mut b, file, class, true);
            b
        }));
        self.constructed
            .borrow_mut()
            .insert((file, class), s.clone());
        s
    }

    fn guarded(&self, f: impl FnOnce() -> Summary) -> Summary {
        let d = self.depth.get();
        if d >= MAX_DEPTH {
            return Summary::default();
        }
        self.depth.set(d + 1);
        let s = f();
        self.depth.set(d);
        s
    }

    fn compute(&self, file: usize, def: usize) -> Summary {
        let f = self.file(file);
        let d = &f.defs[def];
        let mut b = Summary::default();
        match d.kind {
            DefKind::Function => {
                self.decorators(&mut b, file, def);
                for s in crate::model::callgraph::scopes_of(f, Some(def)) {
                    self.scan_scope(&mut b, file, s, None);
                }
                self.parameters(&mut b, file, def);
            }
            DefKind::Class => {
                let end = d.end_byte;
                for s in (def..f.defs.len()).take_while(|&s| s == def || f.defs[s].start_byte < end)
                {
                    self.scan_scope(&mut b, file, Some(s), None);
                }
                self.bases(&mut b, file, def, false);
            }
            DefKind::Struct => {
                // A Rust type: its methods, and what its rejection type answers.
                for &(mf, md) in self.methods.get(&(file, def)).into_iter().flatten() {
                    b.merge(&self.of(mf, md), Reach::Anyone);
                }
                for &(rf, ty) in self.rejections.get(&(file, def)).into_iter().flatten() {
                    let e = match ty {
                        Expr::Subscript(s) => &s.base,
                        other => other,
                    };
                    let Expr::Name(n, _) = e else { continue };
                    match self.idx.resolve_name(rf, None, n) {
                        Some(Target::External(q))
                            if self.lc(rf).guards.infallible.first(&q).is_some() =>
                        {
                            b.infallible = true
                        }
                        _ if n == "Infallible" => b.infallible = true,
                        Some(Target::Def(tf, td)) if (tf, td) != (file, def) => {
                            let r = self.of(tf, td);
                            for (k, e) in r
                                .rejects
                                .iter()
                                .chain(&r.rejects_cond)
                                .chain(&r.rejects_known)
                            {
                                b.add_reject(*k, e.clone(), Reach::Anyone);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        b
    }

    /// Python base classes: repository bases are merged; catalogued
    /// permission bases make the methods the framework calls reject.
    fn bases(&self, b: &mut Summary, file: usize, class: usize, constructed: bool) {
        let f = self.file(file);
        let d = &f.defs[class];
        for base in &d.bases {
            match self.idx.resolve_expr(file, d.parent, base) {
                Some(Target::Def(bf, bd)) if self.file(bf).defs[bd].kind == DefKind::Class => {
                    let s = if constructed {
                        self.constructed(bf, bd)
                    } else {
                        self.of(bf, bd)
                    };
                    b.merge(&s, Reach::Anyone);
                }
                Some(Target::External(q)) => {
                    let beh = &self.lc(file).behaviour;
                    if let Some(st) = beh.reject_for(&q) {
                        // `class AuthError(HTTPException)` or a catalogued exception base.
                        if st != RejectStatus::Argument {
                            b.add_reject(
                                Reject::of(st),
                                Ev {
                                    file,
                                    pos: d.pos,
                                    what: format!("subclasses {q}"),
                                },
                                Reach::Anyone,
                            );
                        }
                    }
                    for pb in &beh.permission_base {
                        if pb.apis.first(&q).is_none() {
                            continue;
                        }
                        // The framework rejects when one of these methods says no.
                        let prefix = format!("{}.", d.name);
                        for m in f.defs.iter().filter(|m| m.parent == Some(class)) {
                            let Some(short) = m.name.strip_prefix(&prefix) else {
                                continue;
                            };
                            if pb.methods.iter().any(|x| x == short) && !returns_only_true(m) {
                                b.add_reject(
                                    Reject::of(pb.status),
                                    Ev {
                                        file,
                                        pos: m.pos,
                                        what: format!("{short} can refuse ({q})"),
                                    },
                                    Reach::Anyone,
                                );
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Python decorators run before the function they wrap: calling a
    /// decorated function runs them (`@authorize` on a view another view
    /// dispatches to).
    fn decorators(&self, b: &mut Summary, file: usize, def: usize) {
        let f = self.file(file);
        if !f.lang.syntax().decorators_wrap {
            return;
        }
        let d = &f.defs[def];
        for dec in &d.decorators {
            let (func, call) = match dec {
                Expr::Call(c) => (&c.func, Some(c.as_ref())),
                other => (other, None),
            };
            match self.idx.resolve_expr(file, d.parent, func) {
                Some(Target::Def(df, dd)) if (df, dd) != (file, def) => match call {
                    Some(c) => self.factory(b, file, d.parent, c, df, dd, Reach::Anyone),
                    None => b.merge(&self.callable(df, dd), Reach::Anyone),
                },
                Some(Target::External(q)) => {
                    let c = call.cloned().unwrap_or(CallExpr {
                        func: func.clone(),
                        args: ThinVec::new(),
                        pos: d.pos,
                        start: d.pos,
                    });
                    self.external(b, file, d.parent, &c, &q, Reach::Anyone);
                }
                _ => {}
            }
        }
    }

    /// Python dependency parameters (`user = Depends(get_user)`,
    /// `CurrentUser` aliases) and Rust extractor parameters count as code the
    /// function runs first.
    fn parameters(&self, b: &mut Summary, file: usize, def: usize) {
        let f = self.file(file);
        let d = &f.defs[def];
        let syn = f.lang.syntax();
        if syn.injected_dependencies {
            for (cf, cs, c) in dependency_calls(self.idx, file, def) {
                self.dependency(b, cf, cs, c, Reach::Anyone);
            }
        }
        if syn.typed_extractors {
            for p in &d.params {
                let Some(ty) = &p.ty else { continue };
                if let Some((t, optional)) = self.extractor_of(file, ty) {
                    if !optional {
                        b.merge(&self.of(t.0, t.1), Reach::Anyone);
                    }
                }
            }
        }
    }

    /// A Python dependency call (`Depends(x)`, a catalogued security scheme,
    /// a dependency factory) merged into `b`.
    fn dependency(
        &self,
        b: &mut Summary,
        file: usize,
        scope: Option<usize>,
        c: &CallExpr,
        known: Reach,
    ) {
        let lc = self.lc(file);
        match self.idx.resolve_expr(file, scope, &c.func) {
            Some(Target::External(q)) if lc.guards.containers.first(&q).is_some() => {
                if let Some(arg) = c.positional(0).or_else(|| c.kwarg("dependency")) {
                    self.dependency_value(b, file, scope, arg, known);
                }
            }
            Some(Target::External(q)) => self.external(b, file, scope, c, &q, known),
            Some(Target::Def(df, dd)) => self.factory(b, file, scope, c, df, dd, known),
            _ => {}
        }
    }

    /// What a dependency argument refers to: a function, a class, an
    /// instance of a security scheme, a factory call.
    fn dependency_value(
        &self,
        b: &mut Summary,
        file: usize,
        scope: Option<usize>,
        e: &Expr,
        known: Reach,
    ) {
        match e {
            Expr::Call(c) => self.dependency(b, file, scope, c, known),
            _ => match self.idx.resolve_expr(file, scope, e) {
                Some(Target::Def(df, dd)) => b.merge(&self.callable(df, dd), known),
                Some(Target::Var(vf, va)) => {
                    let v = &self.file(vf).assigns[va];
                    if let Expr::Call(c) = &v.value {
                        self.dependency(b, vf, v.scope.get(), c, known);
                    }
                }
                Some(Target::External(q)) => {
                    let call = CallExpr {
                        func: e.clone(),
                        args: ThinVec::new(),
                        pos: e.pos().unwrap_or_default(),
                        start: e.pos().unwrap_or_default(),
                    };
                    self.external(b, file, scope, &call, &q, known);
                }
                _ => {}
            },
        }
    }

    /// A call to a repository factory (`Depends(require("admin"))`,
    /// `PermissionsDependency([EditPermission])`): the factory's own code
    /// (with the functions nested in it) and the repository callables passed
    /// to it.
    #[allow(clippy::too_many_arguments)]
    fn factory(
        &self,
        b: &mut Summary,
        file: usize,
        scope: Option<usize>,
        c: &CallExpr,
        df: usize,
        dd: usize,
        known: Reach,
    ) {
        b.merge(&self.callable(df, dd), known);
        for a in &c.args {
            let items: Vec<&Expr> = match &a.value {
                Expr::List(xs) => xs.iter().collect(),
                other => vec![other],
            };
            for it in items {
                if let Expr::Name(..) = it {
                    if let Some(Target::Def(af, ad)) = self.idx.resolve_expr(file, scope, it) {
                        b.merge(&self.callable(af, ad), known);
                    }
                }
            }
        }
    }

    /// What calling a definition runs: a function's summary, a class's
    /// constructor and `__call__`.
    pub fn callable(&self, file: usize, def: usize) -> Rc<Summary> {
        let f = self.file(file);
        if f.defs[def].kind == DefKind::Class {
            let mut s = (*self.constructed(file, def)).clone();
            let call = format!("{}.__call__", f.defs[def].name);
            if let Some(i) = f.defs.iter().position(|d| d.name == call) {
                s.merge(&self.of(file, i), Reach::Anyone);
            }
            return Rc::new(s);
        }
        self.of(file, def)
    }

    /// A catalogued external API called or attached.
    fn external(
        &self,
        b: &mut Summary,
        file: usize,
        _scope: Option<usize>,
        c: &CallExpr,
        q: &str,
        known: Reach,
    ) {
        let lc = self.lc(file);
        let beh = &lc.behaviour;
        let ev = |what: String| Ev {
            file,
            pos: c.start,
            what,
        };
        if lc.guards.identity_only.first(q).is_some() {
            if b.credential.is_none() {
                b.credential = Some(ev(format!("{q} sets the request's identity")));
            }
            return;
        }
        if lc.guards.auth.first(q).is_some() {
            if b.credential.is_none() || b.credential_weak {
                b.credential = Some(ev(q.to_string()));
                b.credential_weak = false;
            }
            if !optional_by_keyword(lc, c) {
                b.add_reject(
                    Reject::Unauthorized,
                    ev(format!("{q} rejects without a valid credential")),
                    known,
                );
            } else {
                b.returns_none = true;
            }
        } else if (beh.credential_apis.first(q).is_some()
            || beh.credential_sources.first(q).is_some())
            && (b.credential.is_none() || b.credential_weak)
        {
            b.credential = Some(ev(format!("calls {q}")));
            b.credential_weak = false;
        }
        if beh.raising_verifiers.first(q).is_some() {
            let short = q.rsplit(['.', ':']).next().unwrap_or(q);
            b.add_reject(
                Reject::Failure,
                ev(format!("{short} raises on a bad credential")),
                known,
            );
        }
        if beh.credential_issuers.first(q).is_some() && b.issues.is_none() {
            b.issues = Some(ev(format!("issues a credential ({q})")));
        }
        if lc.guards.rate_limit.first(q).is_some() && b.limit.is_none() {
            b.limit = Some(ev(format!("{q} (catalogued rate limiter)")));
        }
        if let Some(st) = beh.reject_for(q) {
            let status = match st {
                RejectStatus::Argument => self.status_in_args(file, c),
                s => Some(Reject::of(s)),
            };
            let r = status.unwrap_or(Reject::Failure);
            let short = q.rsplit(['.', ':']).next().unwrap_or(q);
            let what = match self.status_in_args(file, c) {
                Some(s) if st == RejectStatus::Argument => format!("{short}(…) {}", s.describe()),
                _ => format!("{short} {}", r.describe()),
            };
            b.add_reject(r, ev(what), known);
        }
        if beh.redirect_apis.first(q).is_some() && self.mentions_login(file, c) {
            b.add_reject(Reject::Login, ev("redirects to a login page".into()), known);
        }
    }

    /// The status among a call's arguments (`abort(403)`,
    /// `HTTPException(status_code=status.HTTP_401_UNAUTHORIZED)`,
    /// `Outcome::Error((Status::Unauthorized, ()))`), or an error value
    /// whose name says what failed (`Err(ErrorType::IncorrectLogin)`).
    fn status_in_args(&self, file: usize, c: &CallExpr) -> Option<Reject> {
        let beh = &self.lc(file).behaviour;
        let mut found = None;
        for a in &c.args {
            visit(&a.value, 0, &mut |e| {
                if found.is_none() {
                    found = beh.status_of_literal(e).map(Reject::of);
                }
            });
        }
        if found.is_some() || beh.error_words.is_empty() {
            return found;
        }
        // No literal status: an error value named for what failed.
        for a in &c.args {
            visit(&a.value, 0, &mut |e| {
                let n = match e {
                    Expr::Name(n, _) => last_segment(n),
                    Expr::Attr(a) => a.name.as_str(),
                    _ => return,
                };
                if found.is_some() {
                    return;
                }
                let n = crate::catalog::normalise(n);
                found = beh
                    .error_words
                    .iter()
                    .find(|(_, ws)| ws.iter().any(|w| n.contains(w.as_str())))
                    .map(|(st, _)| Reject::of(*st));
            });
        }
        found
    }

    /// Does a call's argument tree mention a login page (`url_for("auth.login")`)?
    fn mentions_login(&self, file: usize, c: &CallExpr) -> bool {
        let words = &self.lc(file).behaviour.login_words;
        let mut hit = false;
        for a in &c.args {
            visit(&a.value, 0, &mut |e| {
                let s = match e {
                    Expr::Str(s) => s.as_str(),
                    Expr::Name(n, _) => n.as_str(),
                    _ => return,
                };
                let s = s.to_ascii_lowercase();
                if words.iter().any(|w| s.contains(w.as_str())) {
                    hit = true;
                }
            });
        }
        hit
    }

    /// Calls, statements and assignments of one scope, optionally only those
    /// at or after `from` and before `to`.
    fn scan_scope(
        &self,
        b: &mut Summary,
        file: usize,
        scope: Option<usize>,
        range: Option<(Pos, Pos)>,
    ) {
        self.scan_where(b, file, scope, &|p: Pos| {
            range.is_none_or(|(a, z)| a <= p && p < z)
        })
    }

    /// [`Summaries::scan_scope`] of what lies at the positions `inside` accepts.
    fn scan_where(
        &self,
        b: &mut Summary,
        file: usize,
        scope: Option<usize>,
        inside: &dyn Fn(Pos) -> bool,
    ) {
        let idx = self.idx;
        let f = self.file(file);
        for (ci, c) in idx.calls_in(file, scope) {
            if !inside(c.start) {
                continue;
            }
            let reach = self.reach(file, scope, c.start);
            self.call(b, file, scope, ci, c, reach);
        }
        for s in self.stmts_in(file, scope) {
            if !inside(s.pos) {
                continue;
            }
            let known = self.reach(file, scope, s.pos);
            match s.kind {
                StmtKind::Raise => self.raise(b, file, scope, s, known),
                StmtKind::Return | StmtKind::Arm => {
                    self.exit_value(b, file, scope, &s.value, s.pos, known)
                }
                StmtKind::Branch => self.mentions(b, file, scope, &s.value, s.pos),
            }
        }
        let beh = &self.lc(file).behaviour;
        for a in f
            .assigns
            .iter()
            .filter(|a| a.scope.get() == scope && inside(a.pos))
        {
            let last = a.target.rsplit('.').next().unwrap_or(&a.target);
            if a.target.contains('.') && beh.status_attrs.iter().any(|x| x == last) {
                if let Some(st) = beh.status_of_literal(&a.value) {
                    let known = self.reach(file, scope, a.pos);
                    b.add_reject(
                        Reject::of(st),
                        Ev {
                            file,
                            pos: a.pos,
                            what: format!("sets {} = {}", a.target, a.value.display()),
                        },
                        known,
                    );
                }
            }
        }
    }

    fn call(
        &self,
        b: &mut Summary,
        file: usize,
        scope: Option<usize>,
        ci: usize,
        c: &CallExpr,
        known: Reach,
    ) {
        let idx = self.idx;
        let lc = self.lc(file);
        let beh = &lc.behaviour;
        // Credentials read through arguments: `headers.get("Authorization")`.
        self.mentions_call(b, file, scope, c);
        match idx.call_target(file, ci) {
            Some(Target::External(q)) => self.external(b, file, scope, c, &q, known),
            // Building a Rust value (`AuthUser { id }`, `Wrapper(x)`) runs none of its methods.
            Some(Target::Def(df, dd)) if self.file(df).defs[dd].kind == DefKind::Struct => {}
            Some(Target::Def(df, dd)) => {
                let s = if self.file(df).defs[dd].kind == DefKind::Class {
                    self.constructed(df, dd)
                } else {
                    self.of(df, dd)
                };
                if self.propagates(file, scope, c) {
                    b.merge(&s, known);
                } else {
                    // A Rust error the caller consumes (`check(..).is_ok()`)
                    // rejects nothing; what the callee reads still counts.
                    let mut quiet = (*s).clone();
                    quiet.rejects.clear();
                    quiet.rejects_cond.clear();
                    quiet.rejects_known.clear();
                    b.merge(&quiet, known);
                }
            }
            _ => {}
        }
        // A socket closed: `websocket.close(code=1008)`.
        if let Some(m) = crate::extract::method_name(&c.func) {
            if beh.close_methods.iter().any(|x| x == m) {
                let recv = match &c.func {
                    Expr::Name(n, _) => n.rsplit_once('.').map(|(r, _)| r.to_string()),
                    Expr::Attr(a) => Some(a.base.display()),
                    _ => None,
                };
                let socket = recv.is_some_and(|r| {
                    let last = r.rsplit('.').next().unwrap_or(&r).to_ascii_lowercase();
                    beh.close_receivers
                        .iter()
                        .any(|w| last == *w || last.ends_with(&format!("_{w}")))
                });
                if socket || c.kwarg("code").is_some() {
                    b.add_reject(
                        Reject::Closed,
                        Ev {
                            file,
                            pos: c.start,
                            what: format!("{}(…) closes the connection", c.func.display()),
                        },
                        known,
                    );
                }
            }
        }
        // An error conversion with a status: `.ok_or(StatusCode::UNAUTHORIZED)?`.
        if let Some(m) = crate::extract::method_name(&c.func) {
            if beh.error_combinators.iter().any(|x| x == m) {
                if let Some(r) = self.status_in_args(file, c) {
                    b.add_reject(
                        r,
                        Ev {
                            file,
                            pos: c.start,
                            what: format!("{m}(…) {}", r.describe()),
                        },
                        known,
                    );
                }
            }
        }
        // A Rust error macro with a status: `err_code!("too many", 429)`.
        if let Expr::Name(n, _) = &c.func {
            if n.ends_with('!') {
                if let Some(r) = self.status_in_args(file, c) {
                    b.add_reject(
                        r,
                        Ev {
                            file,
                            pos: c.start,
                            what: format!("{n}(…) {}", r.describe()),
                        },
                        known,
                    );
                }
            }
        }
    }

    /// Does a call's failure reach the caller's caller? In Python an
    /// exception does; in Rust the error must be propagated (`f(..)?`) or
    /// returned (`return f(..)`, a tail `f(..)`).
    fn propagates(&self, file: usize, scope: Option<usize>, c: &CallExpr) -> bool {
        let f = self.file(file);
        if !f.lang.syntax().explicit_errors {
            return true;
        }
        if f.tried.binary_search(&c.start).is_ok() {
            return true;
        }
        let returned = |e: &Expr| matches!(e, Expr::Call(x) if x.start == c.start);
        scope.is_some_and(|s| f.defs[s].returns.iter().any(returned))
            || self
                .stmts_in(file, scope)
                .any(|s| matches!(s.kind, StmtKind::Return | StmtKind::Arm) && returned(&s.value))
    }

    /// `raise X(...)`: a catalogued exception, a repository exception
    /// class, or any exception given a literal status.
    fn raise(&self, b: &mut Summary, file: usize, scope: Option<usize>, s: &Stmt, known: Reach) {
        // `raise CREDENTIALS_ERROR`: an exception instance bound to a name.
        let (file, scope, value) = match &s.value {
            Expr::Name(..) => self.idx.value_of(file, scope, &s.value),
            other => (file, scope, other),
        };
        let (func, call) = match value {
            Expr::Call(c) => (&c.func, Some(c.as_ref())),
            other => (other, None),
        };
        let target = self.idx.resolve_expr(file, scope, func);
        let ev = |what: String| Ev {
            file,
            pos: s.pos,
            what,
        };
        match target {
            Some(Target::External(q)) => {
                let c = call.cloned().unwrap_or(CallExpr {
                    func: func.clone(),
                    args: ThinVec::new(),
                    pos: s.pos,
                    start: s.pos,
                });
                let mut one = Summary::default();
                self.external(
                    &mut one,
                    file,
                    scope,
                    &CallExpr { start: s.pos, ..c },
                    &q,
                    known,
                );
                b.merge(&one, known);
            }
            Some(Target::Def(df, dd)) if self.file(df).defs[dd].kind == DefKind::Class => {
                let cs = self.constructed(df, dd);
                for (r, _) in cs
                    .rejects
                    .iter()
                    .chain(&cs.rejects_cond)
                    .chain(&cs.rejects_known)
                {
                    let name = &self.file(df).defs[dd].name;
                    b.add_reject(
                        *r,
                        ev(format!("raises {name}, which {}", r.describe())),
                        known,
                    );
                }
                if let Some(r) = call.and_then(|c| self.status_in_args(file, c)) {
                    b.add_reject(
                        r,
                        ev(format!(
                            "raises {} with a status that {}",
                            func.display(),
                            r.describe()
                        )),
                        known,
                    );
                }
            }
            _ => {
                if let Some(r) = call.and_then(|c| self.status_in_args(file, c)) {
                    b.add_reject(
                        r,
                        ev(format!(
                            "raises {}(…), which {}",
                            func.display(),
                            r.describe()
                        )),
                        known,
                    );
                }
            }
        }
    }

    /// A returned value or a match arm: a literal status in a tuple or a
    /// response, or nothing (`None`).
    fn exit_value(
        &self,
        b: &mut Summary,
        file: usize,
        scope: Option<usize>,
        v: &Expr,
        pos: Pos,
        known: Reach,
    ) {
        let beh = &self.lc(file).behaviour;
        // A returned test (`return request.user.is_authenticated`) tests the identity.
        if matches!(
            v,
            Expr::Logic(..) | Expr::Not(_) | Expr::Name(..) | Expr::Attr(..) | Expr::Mix(_)
        ) {
            self.mentions(b, file, scope, v, pos);
        }
        match v {
            Expr::NoneLit => b.returns_none = true,
            Expr::Name(n, _) if n == "None" => b.returns_none = true,
            Expr::List(xs) => {
                // `return body, 401` / `(StatusCode::UNAUTHORIZED, msg)`
                if let Some(st) = xs.iter().find_map(|x| beh.status_of_literal(x)) {
                    let r = Reject::of(st);
                    b.add_reject(
                        r,
                        Ev {
                            file,
                            pos,
                            what: format!("returns a response that {}", r.describe()),
                        },
                        known,
                    );
                }
            }
            Expr::Dict(kv) => {
                // `return {"status": 401, ...}`
                let st = kv.iter().find_map(|(k, x)| match k {
                    Expr::Str(k) if beh.status_attrs.iter().any(|a| a == k) => {
                        beh.status_of_literal(x)
                    }
                    _ => None,
                });
                if let Some(st) = st {
                    let r = Reject::of(st);
                    b.add_reject(
                        r,
                        Ev {
                            file,
                            pos,
                            what: format!("returns a response that {}", r.describe()),
                        },
                        known,
                    );
                }
            }
            Expr::Name(..) | Expr::Attr(..) => {
                if let Some(st) = beh.status_of_literal(v) {
                    let r = Reject::of(st);
                    b.add_reject(
                        r,
                        Ev {
                            file,
                            pos,
                            what: format!("returns {}", v.display()),
                        },
                        known,
                    );
                }
            }
            _ => {}
        }
    }

    /// Names and literals of a condition that read or test an identity or a permission.
    fn mentions(&self, b: &mut Summary, file: usize, scope: Option<usize>, e: &Expr, pos: Pos) {
        let mut cred = None;
        let mut authz = None;
        visit(e, 0, &mut |x| match x {
            Expr::Name(n, p) => {
                if cred.is_none() && self.identity_name(file, scope, *n) {
                    cred = Some((*p, *n));
                }
                if authz.is_none() && self.authz_name(file, n) {
                    authz = Some((*p, *n));
                }
            }
            Expr::Attr(a) => {
                if cred.is_none() && self.identity_name(file, scope, a.name) {
                    cred = Some((a.pos, a.name));
                }
                if authz.is_none() && self.authz_name(file, &a.name) {
                    authz = Some((a.pos, a.name));
                }
            }
            _ => {}
        });
        let at = |p: Pos| if p.line == 0 { pos } else { p };
        if let (None, Some((p, n))) = (&b.credential, cred) {
            b.credential = Some(Ev {
                file,
                pos: at(p),
                what: format!("tests {n}"),
            });
            b.credential_weak = true;
        }
        if let (None, Some((p, n))) = (&b.authz, authz) {
            b.authz = Some(Ev {
                file,
                pos: at(p),
                what: format!("tests {n}"),
            });
        }
    }

    /// Credentials read through a call's callee name or arguments:
    /// `request.headers.get("Authorization")`, `req.cookies()`.
    fn mentions_call(&self, b: &mut Summary, file: usize, scope: Option<usize>, c: &CallExpr) {
        if b.credential.is_some() && b.authz.is_some() {
            return;
        }
        let beh = &self.lc(file).behaviour;
        if b.credential.is_none() {
            let lit = c.args.iter().find_map(|a| match &a.value {
                Expr::Str(s)
                    if beh
                        .credential_literals
                        .iter()
                        .any(|w| s.eq_ignore_ascii_case(w)) =>
                {
                    Some(*s)
                }
                _ => None,
            });
            if let Some(s) = lit {
                b.credential = Some(Ev {
                    file,
                    pos: c.start,
                    what: format!("reads {s:?}"),
                });
                b.credential_weak = true;
                return;
            }
        }
        let func = Expr::Call(Box::new(CallExpr {
            func: c.func.clone(),
            args: ThinVec::new(),
            pos: c.pos,
            start: c.start,
        }));
        let mut probe = Summary::default();
        self.mentions(&mut probe, file, scope, &func, c.start);
        for e in probe.credential.iter_mut().chain(probe.authz.iter_mut()) {
            if let Some(n) = e.what.strip_prefix("tests ") {
                e.what = format!("calls {n}");
            }
        }
        for a in &c.args {
            if matches!(a.value, Expr::Name(..) | Expr::Attr(..)) {
                self.mentions(&mut probe, file, scope, &a.value, c.start);
            }
        }
        if b.credential.is_none() && probe.credential.is_some() {
            b.credential = probe.credential;
            b.credential_weak = true;
        }
        if b.authz.is_none() {
            b.authz = probe.authz;
        }
    }

    /// A dotted name that reads or tests an identity: a catalogued credential
    /// segment (`is_authenticated`, `cookies`, `AUTHORIZATION`) or a name
    /// resolving to a credential source (`flask.session`, `current_user`).
    pub fn identity_name(&self, file: usize, scope: Option<usize>, n: Sym) -> bool {
        // Handlers test the same few names over and over (`request`,
        // `local_user_view`): each is answered once per scope.
        let key = (file, scope, n.id());
        if let Some(&hit) = self.identity.borrow().get(&key) {
            return hit;
        }
        let answer = self.identity_name_uncached(file, scope, &n);
        self.identity.borrow_mut().insert(key, answer);
        answer
    }

    fn identity_name_uncached(&self, file: usize, scope: Option<usize>, n: &str) -> bool {
        let beh = &self.lc(file).behaviour;
        if n.split(['.', ':']).filter(|s| !s.is_empty()).any(|seg| {
            beh.credential_attrs
                .iter()
                .any(|w| seg.eq_ignore_ascii_case(w))
        }) {
            return true;
        }
        if beh.credential_sources.is_empty() {
            return false;
        }
        let head = n.split(['.']).next().unwrap_or(n);
        // Paths name one item whole (`headers::AUTHORIZATION`).
        let head = if self.file(file).lang.syntax().sep != "." {
            n
        } else {
            head
        };
        matches!(
            self.idx.resolve_name(file, scope, head),
            Some(Target::External(q)) if beh.credential_sources.first(&q).is_some()
                || beh.credential_sources.first(&format!("{q}{}", &n[head.len()..])).is_some()
        )
    }

    fn authz_name(&self, file: usize, n: &str) -> bool {
        let beh = &self.lc(file).behaviour;
        n.split(['.', ':'])
            .filter(|s| !s.is_empty())
            .any(|seg| beh.authz_attrs.iter().any(|w| seg.eq_ignore_ascii_case(w)))
    }

    /// Who reaches `pos`: the branches of `scope` whose block holds it,
    /// evaluated for an anonymous request. A condition on request data makes
    /// the path conditional only when an identity is tested on the same path
    /// (`if f.type == "challenge": if not authed(): abort(403)`); on a path
    /// with no identity test, the condition is the credential check itself
    /// (`if not user_email: raise 401`).
    fn reach(&self, file: usize, scope: Option<usize>, pos: Pos) -> Reach {
        let mut data = false;
        let mut identity = false;
        let encloses = |s: &Stmt, p: Pos| s.body.is_some_and(|(a, z)| a <= p && p < z);
        for s in self.stmts_in(file, scope) {
            if s.kind != StmtKind::Branch {
                continue;
            }
            if !encloses(s, pos) {
                // An earlier branch that an anonymous request takes and that
                // returns: `if not token: return None` leaves what follows to
                // requests that carry one.
                if s.body.is_some_and(|(_, z)| z <= pos)
                    && self.returns_in(file, scope, s)
                    && self.stmts_in(file, scope).all(|o| {
                        o.kind != StmtKind::Branch || !encloses(o, s.pos) || encloses(o, pos)
                    })
                    && self.anonymous(file, scope, &s.value, 0) == Tri::True
                    && self.tests_identity(file, scope, &s.value)
                {
                    return Reach::Known;
                }
                continue;
            }
            match self.anonymous(file, scope, &s.value, 0) {
                Tri::False => return Reach::Known,
                Tri::Data => data = true,
                _ => {}
            }
            identity = identity || self.tests_identity(file, scope, &s.value);
        }
        if data && identity {
            Reach::Conditional
        } else {
            Reach::Anyone
        }
    }

    /// Does a branch's block return (directly, not in a nested block)?
    fn returns_in(&self, file: usize, scope: Option<usize>, b: &Stmt) -> bool {
        let Some((a, z)) = b.body else { return false };
        let nested: Vec<(Pos, Pos)> = self
            .stmts_in(file, scope)
            .filter(|n| n.kind == StmtKind::Branch && !std::ptr::eq(*n, b))
            .filter_map(|n| n.body)
            .filter(|(x, y)| a <= *x && *y <= z && (*x, *y) != (a, z))
            .collect();
        self.stmts_in(file, scope).any(|s| {
            matches!(s.kind, StmtKind::Return | StmtKind::Raise)
                && a <= s.pos
                && s.pos < z
                && !nested.iter().any(|(x, y)| *x <= s.pos && s.pos < *y)
        })
    }

    /// The truth of a condition for a request without an identity.
    fn anonymous(&self, file: usize, scope: Option<usize>, e: &Expr, depth: u32) -> Tri {
        self.with_identity(file, scope, e, false, depth)
    }

    /// The truth of a condition when the request carries an identity with
    /// every permission (`present`) or none at all: identity tests,
    /// permission tests and predicates on the identity are true or false;
    /// the rest is unknown.
    fn with_identity(
        &self,
        file: usize,
        scope: Option<usize>,
        e: &Expr,
        present: bool,
        depth: u32,
    ) -> Tri {
        if depth > 16 {
            return Tri::Data;
        }
        let leaf = if present { Tri::True } else { Tri::False };
        let rec = |x: &Expr| self.with_identity(file, scope, x, present, depth + 1);
        match e {
            Expr::Not(x) => rec(x).not(),
            Expr::Logic(and, xs) => {
                let vs: Vec<Tri> = xs.iter().map(rec).collect();
                let (absorb, unit) = if *and {
                    (Tri::False, Tri::True)
                } else {
                    (Tri::True, Tri::False)
                };
                if vs.contains(&absorb) {
                    absorb
                } else if vs.contains(&Tri::Data) {
                    Tri::Data
                } else if vs.contains(&Tri::Config) {
                    Tri::Config
                } else {
                    unit
                }
            }
            Expr::Name(n, _) => {
                if self.identity_name(file, scope, *n) || self.authz_name(file, n) {
                    leaf
                } else {
                    self.config_or_data(file, scope, n)
                }
            }
            Expr::Attr(a) => {
                if self.identity_name(file, scope, a.name) || self.authz_name(file, &a.name) {
                    leaf
                } else {
                    rec(&a.base)
                }
            }
            Expr::Str(_) | Expr::Num(_) | Expr::Bool(_) | Expr::NoneLit => Tri::Config,
            Expr::Mix(xs) => {
                // A comparison: with an identity or permission in it, its
                // outcome is what the deployment configured for them
                // (`user.role != "admin"`); otherwise what its parts depend on.
                let mut identity = false;
                let mut data = false;
                for x in xs {
                    match rec(x) {
                        Tri::True | Tri::False => identity = true,
                        Tri::Data => data = true,
                        Tri::Config => {}
                    }
                }
                if identity || !data {
                    Tri::Config
                } else {
                    Tri::Data
                }
            }
            Expr::Call(c) => {
                if let Some((recv, m)) = c.method() {
                    match m {
                        "is_none" | "is_err" => return rec(&recv).not(),
                        "is_some" | "is_ok" => return rec(&recv),
                        _ => {}
                    }
                }
                let lc = self.lc(file);
                match self.idx.resolve_expr(file, scope, &c.func) {
                    Some(Target::Def(df, dd)) => {
                        let s = self.of(df, dd);
                        // A predicate on the identity.
                        if (s.credential.is_some() || s.authz.is_some()) && s.rejects.is_empty() {
                            return leaf;
                        }
                    }
                    Some(Target::External(q))
                        if lc.behaviour.credential_apis.first(&q).is_some()
                            || lc.behaviour.credential_sources.first(&q).is_some() =>
                    {
                        return leaf
                    }
                    _ => {}
                }
                match &c.func {
                    Expr::Name(n, _)
                        if self.identity_name(file, scope, *n) || self.authz_name(file, n) =>
                    {
                        leaf
                    }
                    // A call's result: configuration when it reads settings
                    // (`get_config(...)`), else request data.
                    Expr::Name(n, _) => self.config_or_data(file, scope, n),
                    _ => Tri::Data,
                }
            }
            _ => Tri::Data,
        }
    }

    /// Does a condition test an identity or a permission somewhere: a name,
    /// or a call to a predicate on the identity?
    fn tests_identity(&self, file: usize, scope: Option<usize>, e: &Expr) -> bool {
        let mut hit = false;
        visit(e, 0, &mut |x| {
            if hit {
                return;
            }
            hit = match x {
                Expr::Name(n, _) => self.identity_name(file, scope, *n) || self.authz_name(file, n),
                Expr::Attr(a) => {
                    self.identity_name(file, scope, a.name) || self.authz_name(file, &a.name)
                }
                Expr::Call(c) => match self.idx.resolve_expr(file, scope, &c.func) {
                    Some(Target::Def(df, dd)) => {
                        let s = self.of(df, dd);
                        (s.credential.is_some() || s.authz.is_some()) && s.rejects.is_empty()
                    }
                    _ => false,
                },
                _ => false,
            };
        });
        hit
    }

    /// A name that is not an identity test: configuration when it is a
    /// module constant, an import, a definition or an attribute of `self`;
    /// request data when it is a local value or a parameter.
    fn config_or_data(&self, file: usize, scope: Option<usize>, n: &str) -> Tri {
        let syn = self.file(file).lang.syntax();
        if syn.receivers.iter().any(|r| n.starts_with(r)) || syn.is_receiver(n) {
            return Tri::Config;
        }
        let head = n.split(['.', ':']).next().unwrap_or(n);
        match self.idx.resolve_name(file, scope, head) {
            Some(Target::Var(vf, va)) => {
                if self.file(vf).assigns[va].scope.get().is_none() {
                    Tri::Config
                } else {
                    Tri::Data
                }
            }
            Some(Target::External(_) | Target::Def(..) | Target::Module(_)) => Tri::Config,
            None => Tri::Data,
        }
    }

    /// A Rust type whose value may hold no identity: a field typed
    /// `Option<T>` where `T` is an extractor that authenticates
    /// (`struct MaybeAuthUser(Option<AuthUser>)`).
    pub fn wraps_optional_identity(&self, file: usize, def: usize) -> bool {
        self.file(file).defs[def].params.iter().any(|p| {
            let Some(Expr::Subscript(s)) = &p.ty else {
                return false;
            };
            matches!(&s.base, Expr::Name(n, _) if last_segment(n) == "Option")
                && s.keys.first().is_some_and(|inner| {
                    matches!(inner, Expr::Name(n, _)
                        if matches!(self.idx.resolve_name(file, None, n),
                            Some(Target::Def(tf, td)) if (tf, td) != (file, def)
                                && self.extractors.contains(&(tf, td))
                                && self.of(tf, td).auth_required().is_some()))
                })
        })
    }

    /// A Rust parameter type that is a repository request extractor (or an
    /// `Option`/`Result` of one: optional).
    pub fn extractor_of(&self, file: usize, ty: &Expr) -> Option<((usize, usize), bool)> {
        let (e, optional) = match ty {
            Expr::Subscript(s) => match &s.base {
                Expr::Name(n, _) if matches!(last_segment(n), "Option" | "Result") => {
                    (s.keys.first()?, true)
                }
                other => (other, false),
            },
            other => (other, false),
        };
        let e = match e {
            Expr::Subscript(s) => &s.base,
            o => o,
        };
        let Expr::Name(n, _) = e else { return None };
        let mut t = self.idx.resolve_name(file, None, n)?;
        // Through type aliases (`type SendHeaders = send::SendHeaders;`).
        for _ in 0..4 {
            match t {
                Target::Var(vf, va) => match &self.file(vf).assigns[va].value {
                    Expr::Name(alias, _) => t = self.idx.resolve_name(vf, None, alias)?,
                    _ => return None,
                },
                _ => break,
            }
        }
        match t {
            Target::Def(tf, td) if self.extractors.contains(&(tf, td)) => {
                Some(((tf, td), optional))
            }
            _ => None,
        }
    }

    /// A guard found in a handler's own body, before it does its work.
    pub fn in_handler(&self, file: usize, def: usize, stop: Option<Pos>) -> Vec<InHandler> {
        let mut out = self.in_handler_all(file, def, stop);
        // A handler that issues a credential, or checks a password the
        // request presents, is where credentials are presented (a login): its
        // own checks are its work, not a guard.
        if self.of(file, def).issues.is_some() || self.presents_password(file, def) {
            out.retain(|g| g.limiter);
        }
        out
    }

    /// The HTTP methods a position is limited to by the branches around it:
    /// `if request.method == "PUT":`, `if request.method in ("POST", "PUT"):`.
    fn methods_at(&self, file: usize, scope: Option<usize>, pos: Pos) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for s in self.stmts_in(file, scope) {
            if s.kind != StmtKind::Branch || !s.body.is_some_and(|(a, z)| a <= pos && pos < z) {
                continue;
            }
            let Expr::Mix(parts) = &s.value else { continue };
            let is_method =
                |e: &Expr| matches!(e, Expr::Name(n, _) if n == "method" || n.ends_with(".method"));
            if !parts.iter().any(is_method) {
                continue;
            }
            let mut here = vec![];
            for p in parts {
                match p {
                    Expr::Str(m) => here.push(m.as_str().to_ascii_uppercase()),
                    Expr::List(xs) => here.extend(
                        xs.iter()
                            .filter_map(|x| x.as_str())
                            .map(|m| m.to_ascii_uppercase()),
                    ),
                    _ => {}
                }
            }
            if !here.is_empty() {
                out = if out.is_empty() {
                    here
                } else {
                    out.into_iter().filter(|m| here.contains(m)).collect()
                };
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Does a handler's body handle a presented password (`creds.password`,
    /// `form["password"]`)?
    fn presents_password(&self, file: usize, def: usize) -> bool {
        let words = &self.lc(file).behaviour.presented_words;
        let hit = |s: &str| {
            s.split(['.', ':'])
                .any(|seg| words.iter().any(|w| seg.eq_ignore_ascii_case(w)))
        };
        let mut found = false;
        let mut look = |e: &Expr| {
            visit(e, 0, &mut |x| match x {
                Expr::Name(n, _) if hit(n) => found = true,
                Expr::Attr(a) if hit(&a.name) => found = true,
                Expr::Str(s) if words.iter().any(|w| s.eq_ignore_ascii_case(w)) => found = true,
                _ => {}
            })
        };
        for (_, c) in self.idx.calls_in(file, Some(def)) {
            for a in &c.args {
                look(&a.value);
            }
            look(&c.func);
        }
        for s in self.stmts_in(file, Some(def)) {
            if s.kind == StmtKind::Branch {
                look(&s.value);
            }
        }
        found
    }

    fn in_handler_all(&self, file: usize, def: usize, stop: Option<Pos>) -> Vec<InHandler> {
        let mut out = vec![];
        let before = |p: Pos| stop.is_none_or(|s| p < s);
        let f = self.file(file);
        for (ci, c) in self.idx.calls_in(file, Some(def)) {
            if !before(c.start) {
                continue;
            }
            if !self.propagates(file, Some(def), c) {
                continue;
            }
            let target = self.idx.call_target(file, ci);
            let callee = match &target {
                Some(Target::Def(df, dd)) => Some((*df, *dd)),
                _ => None,
            };
            let s = match target {
                Some(Target::Def(df, dd)) if self.file(df).defs[dd].kind == DefKind::Struct => {
                    continue
                }
                Some(Target::Def(df, dd)) => {
                    if self.file(df).defs[dd].kind == DefKind::Class {
                        self.constructed(df, dd)
                    } else {
                        self.of(df, dd)
                    }
                }
                // A catalogued guard or limiter called in the body; a rejecting
                // call on its own (`JSONResponse(status_code=429)`) is the
                // consequence of a check, found with its branch below.
                Some(Target::External(q)) => {
                    let g = &self.lc(file).guards;
                    if g.auth.first(&q).is_none() && g.rate_limit.first(&q).is_none() {
                        continue;
                    }
                    let mut one = Summary::default();
                    self.external(&mut one, file, Some(def), c, &q, Reach::Anyone);
                    Rc::new(one)
                }
                _ => continue,
            };
            let reach = self.reach(file, Some(def), c.start);
            if reach == Reach::Known {
                continue;
            }
            if let Some(kind) = s.auth_required() {
                out.push(InHandler {
                    pos: c.start,
                    what: format!("calls {}", c.func.display()),
                    kind: Some(kind),
                    limiter: false,
                    required: reach == Reach::Anyone,
                    callee,
                    methods: vec![],
                    evidence: s.auth_evidence(),
                });
            }
            if s.limits() {
                out.push(InHandler {
                    pos: c.start,
                    what: format!("calls {}", c.func.display()),
                    kind: None,
                    limiter: true,
                    required: true,
                    callee,
                    methods: vec![],
                    evidence: s.limit_evidence(),
                });
            }
        }
        for s in self.stmts_in(file, Some(def)) {
            if s.kind != StmtKind::Branch || !before(s.pos) {
                continue;
            }
            let Some(body) = s.body else { continue };
            // What the guarded block does itself (a block nested in it is a
            // check of its own).
            let nested: Vec<(Pos, Pos)> = self
                .stmts_in(file, Some(def))
                .filter(|n| n.kind == StmtKind::Branch && !std::ptr::eq(*n, s))
                .filter_map(|n| n.body)
                .filter(|(a, z)| body.0 <= *a && *z <= body.1 && (*a, *z) != body)
                .collect();
            let mut blk = Summary::default();
            self.scan_where(&mut blk, file, Some(def), &|p: Pos| {
                body.0 <= p && p < body.1 && !nested.iter().any(|(a, z)| *a <= p && p < *z)
            });
            let every = || {
                blk.rejects
                    .iter()
                    .chain(&blk.rejects_cond)
                    .chain(&blk.rejects_known)
            };
            if every().next().is_none() {
                continue;
            }
            let all: Vec<Reject> = every().map(|(r, _)| *r).collect();
            // A check rejects anonymous requests and lets an identified,
            // permitted one through: `if not user.is_authenticated`, not
            // `if user.is_authenticated or registration_closed`.
            let anon = self.anonymous(file, Some(def), &s.value, 0);
            let known = self.with_identity(file, Some(def), &s.value, true, 0);
            let reach = self.reach(file, Some(def), s.pos);
            if anon == Tri::False || known == Tri::True || reach == Reach::Known {
                continue;
            }
            let required = anon != Tri::Data && reach == Reach::Anyone;
            let _ = Tri::Config;
            // What the condition tests, and the first repository callable it calls.
            let mut cond_callee = None;
            visit(&s.value, 0, &mut |x| {
                if let (None, Expr::Call(c)) = (cond_callee, x) {
                    if let Some(Target::Def(df, dd)) =
                        self.idx.resolve_expr(file, Some(def), &c.func)
                    {
                        cond_callee = Some((df, dd));
                    }
                }
            });
            let mut cond = Summary::default();
            self.mentions(&mut cond, file, Some(def), &s.value, s.pos);
            visit(&s.value, 0, &mut |x| {
                if let Expr::Call(c) = x {
                    if let Some(Target::Def(df, dd)) =
                        self.idx.resolve_expr(file, Some(def), &c.func)
                    {
                        let cs = self.of(df, dd);
                        cond.merge(&cs, Reach::Anyone);
                    } else if let Some(Target::External(q)) =
                        self.idx.resolve_expr(file, Some(def), &c.func)
                    {
                        self.external(&mut cond, file, Some(def), c, &q, Reach::Anyone);
                    }
                }
            });
            let reject_ev = every().next().map(|(_, e)| e.clone());
            let identity = cond.credential.is_some() || cond.authz.is_some();
            let authn = all
                .iter()
                .any(|r| matches!(r, Reject::Unauthorized | Reject::Login));
            if identity {
                let kind = if cond.authz.is_some() || (all.contains(&Reject::Forbidden) && !authn) {
                    AuthKind::Authorization
                } else {
                    AuthKind::Authentication
                };
                let mut evidence: Vec<Ev> = cond
                    .credential
                    .iter()
                    .chain(cond.authz.iter())
                    .cloned()
                    .collect();
                evidence.extend(reject_ev.clone());
                out.push(InHandler {
                    pos: s.pos,
                    what: format!("checks {} and rejects", short(&s.value.display())),
                    kind: Some(kind),
                    limiter: false,
                    required,
                    callee: cond_callee,
                    methods: vec![],
                    evidence,
                });
            }
            if all.contains(&Reject::TooMany) || cond.limits() {
                let mut evidence: Vec<Ev> = cond.limit.iter().cloned().collect();
                evidence.extend(reject_ev);
                out.push(InHandler {
                    pos: s.pos,
                    what: "rejects when a limit is exhausted".into(),
                    kind: None,
                    limiter: true,
                    required: true,
                    callee: cond_callee,
                    methods: vec![],
                    evidence,
                });
            }
        }
        // A rejection of the handler's own, outside any branch, after a branch
        // that tests the identity and returns early: `if is_admin(): return
        // redirect(dashboard)` then `return redirect(login)`.
        let mut own = Summary::default();
        for st in self.stmts_in(file, Some(def)) {
            if matches!(st.kind, StmtKind::Return | StmtKind::Raise) && before(st.pos) {
                match st.kind {
                    StmtKind::Raise => self.raise(&mut own, file, Some(def), st, Reach::Anyone),
                    _ => {
                        self.exit_value(&mut own, file, Some(def), &st.value, st.pos, Reach::Anyone)
                    }
                }
            }
        }
        for (ci, c) in self.idx.calls_in(file, Some(def)) {
            if before(c.start) {
                if let Some(Target::External(q)) = self.idx.call_target(file, ci) {
                    self.external(&mut own, file, Some(def), c, &q, Reach::Anyone);
                }
            }
        }
        let inside_branch = |p: Pos| {
            self.stmts_in(file, Some(def))
                .any(|s| s.kind == StmtKind::Branch && s.body.is_some_and(|(a, z)| a <= p && p < z))
        };
        for (r, ev) in &own.rejects {
            if !matches!(r, Reject::Unauthorized | Reject::Login | Reject::Forbidden)
                || ev.file != file
                || inside_branch(ev.pos)
                || out.iter().any(|g| !g.limiter)
            {
                continue;
            }
            let test = self.stmts_in(file, Some(def)).find(|s| {
                s.kind == StmtKind::Branch
                    && s.pos < ev.pos
                    && self.tests_identity(file, Some(def), &s.value)
            });
            if let Some(t) = test {
                let mut cond = Summary::default();
                self.mentions(&mut cond, file, Some(def), &t.value, t.pos);
                let mut evidence: Vec<Ev> = cond
                    .credential
                    .iter()
                    .chain(cond.authz.iter())
                    .cloned()
                    .collect();
                if evidence.is_empty() {
                    evidence.push(Ev {
                        file,
                        pos: t.pos,
                        what: format!("tests {}", short(&t.value.display())),
                    });
                }
                evidence.push(ev.clone());
                out.push(InHandler {
                    pos: t.pos,
                    what: format!(
                        "returns early when {} holds and otherwise rejects",
                        short(&t.value.display())
                    ),
                    kind: Some(if *r == Reject::Forbidden || cond.authz.is_some() {
                        AuthKind::Authorization
                    } else {
                        AuthKind::Authentication
                    }),
                    limiter: false,
                    required: true,
                    callee: None,
                    methods: vec![],
                    evidence,
                });
                break;
            }
        }
        let _ = f;
        for g in &mut out {
            g.methods = self.methods_at(file, Some(def), g.pos);
        }
        out.sort_by_key(|g| (g.pos, g.limiter));
        out
    }
}

/// A guard inside a handler's body.
#[derive(Clone, Debug)]
pub struct InHandler {
    pub pos: Pos,
    pub what: String,
    /// Some: an auth check of this kind; None with `limiter`: a rate limit.
    pub kind: Option<AuthKind>,
    pub limiter: bool,
    /// False: anonymous requests are rejected only for some request data.
    pub required: bool,
    /// The repository function or method called, when the guard is a call
    /// (or the first one its condition calls).
    pub callee: Option<(usize, usize)>,
    /// The HTTP methods it covers when it sits under `if request.method == "PUT":`.
    pub methods: Vec<String>,
    pub evidence: Vec<Ev>,
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn last_segment(n: &str) -> &str {
    n.rsplit(['.', ':']).next().unwrap_or(n)
}

/// Every expression in a tree, depth-capped.
pub fn visit(e: &Expr, depth: u32, f: &mut dyn FnMut(&Expr)) {
    if depth > 24 {
        return;
    }
    f(e);
    match e {
        Expr::Call(c) => {
            visit(&c.func, depth + 1, f);
            for a in &c.args {
                visit(&a.value, depth + 1, f);
            }
        }
        Expr::Attr(a) => visit(&a.base, depth + 1, f),
        Expr::Closure(b) | Expr::Not(b) | Expr::Element(b) => visit(b, depth + 1, f),
        Expr::List(xs) | Expr::Mix(xs) | Expr::Logic(_, xs) => {
            for x in xs {
                visit(x, depth + 1, f);
            }
        }
        Expr::Macro(m) => {
            for x in &m.parts {
                visit(x, depth + 1, f);
            }
        }
        Expr::Dict(kv) => {
            for (k, v) in kv {
                visit(k, depth + 1, f);
                visit(v, depth + 1, f);
            }
        }
        Expr::Subscript(s) => {
            visit(&s.base, depth + 1, f);
            for x in &s.keys {
                visit(x, depth + 1, f);
            }
        }
        _ => {}
    }
}

/// A method that only ever returns `True` refuses nothing.
fn returns_only_true(d: &crate::extract::Def) -> bool {
    !d.returns.is_empty() && d.returns.iter().all(|r| matches!(r, Expr::Bool(true)))
}

/// A library guard made optional by a keyword (`OAuth2PasswordBearer(..., auto_error=False)`).
fn optional_by_keyword(lc: &LangCatalog, c: &CallExpr) -> bool {
    lc.guards.optional_when.iter().any(|(k, v)| {
        c.kwarg(k).is_some_and(|e| match (e, v) {
            (Expr::Bool(b), toml::Value::Boolean(w)) => b == w,
            (Expr::Str(s), toml::Value::String(w)) => s == w,
            _ => false,
        })
    })
}

/// Calls in a Python function's parameter defaults and annotations
/// (`user=Depends(x)`, `Annotated[User, Depends(x)]`), following names bound
/// to such values (`CurrentUser = Annotated[User, Depends(get_current_user)]`).
pub fn dependency_calls<'a>(
    idx: &'a Index<'a>,
    f: usize,
    d: usize,
) -> Vec<(usize, Option<usize>, &'a CallExpr)> {
    let def = &idx.files[f].defs[d];
    let mut out = vec![];
    for p in &def.params {
        for e in p.default.iter().chain(p.ty.iter()) {
            let (vf, vs, v) = match e {
                Expr::Name(..) => idx.value_of(f, def.parent, e),
                other => (f, def.parent, other),
            };
            out.extend(calls_in(v).into_iter().map(|c| (vf, vs, c)));
        }
    }
    out
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
            Expr::Subscript(s) => {
                go(&s.base, out, depth + 1);
                s.keys.iter().for_each(|x| go(x, out, depth + 1));
            }
            _ => {}
        }
    }
    go(e, &mut out, 0);
    out
}

#[cfg(test)]
mod debug_tests {
    #[test]
    #[ignore]
    fn dump() {
        let dir = std::env::var("DUMP_DIR").unwrap();
        let want = std::env::var("DUMP_DEF").unwrap();
        let scan = crate::scan(&crate::Options::new(&dir)).unwrap();
        let idx = crate::link::Index::build(&scan);
        let cat = crate::catalog::Catalog::builtin();
        let s = super::Summaries::new(&idx, cat);
        for (fi, f) in idx.files.iter().enumerate() {
            for (di, d) in f.defs.iter().enumerate() {
                if d.name.contains(&want) {
                    eprintln!(
                        "{} {} {:?} ext={} {:?}",
                        f.path,
                        d.name,
                        d.kind,
                        s.extractors.contains(&(fi, di)),
                        s.of(fi, di)
                    );
                }
            }
        }
    }
}
