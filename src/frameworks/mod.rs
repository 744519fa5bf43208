//! Route tables from `[[framework]]` specs (see [`spec`]): the generic engine.
//!
//! Every framework is read into one graph of router objects ([`Graph`]):
//! objects hold routes, mounts of other objects under a prefix, guards that
//! apply to all of it, and layers that apply to what was added before them.
//! What builds an object, registers a route, mounts, hooks a guard, expands a
//! class or a viewset, and restricts methods is looked up in the specs by the
//! resolved name of a call or the method name on an object; the engine knows
//! the shapes (decorators, calls, route lists, builder chains, attributes on
//! handlers, route collections), never a framework's names.
//!
//! Route tables are assembled across functions and files: objects returned
//! by functions (`def get_router()`, `fn routes() -> Vec<Route>`), objects
//! handed to functions that register on them (`def init_app(app)`,
//! `fn config(cfg: &mut ServiceConfig)` with `.configure(config)`), values
//! bound to variables before they are mounted or attached, registration in
//! call form (`router.post("/x")(handler)`) and under conditions. Paths and
//! prefixes are evaluated from literals, module constants, class attributes
//! (settings defaults), f-strings and concatenation; a part that stays
//! unknown is shown as a placeholder (`{settings.API_PREFIX}`) and listed in
//! the route's `unresolved`.

pub mod spec;

use crate::extract::{split_method, CallExpr, DefKind, Expr, Pos, StmtKind, ThinVec};
use crate::lang::Lang;
use crate::link::{Index, Target};
use crate::routes::guards::Classifier;
use crate::routes::{http_method, Graph, Guard, Item, RouteDraft};
use rustc_hash::{FxHashMap, FxHashSet};
use spec::*;
use std::cell::RefCell;

/// Marks a placeholder for an unknown part of a path: `{\u{1}name}`.
pub const UNKNOWN: char = '\u{1}';

/// The specs of one language, indexed for lookup.
#[derive(Default)]
pub struct Specs<'s> {
    pub all: Vec<&'s FrameworkSpec>,
    /// Constructor API → (spec, object spec).
    ctor: FxHashMap<String, (usize, usize)>,
    /// Parameter types that are objects handed in by callers.
    param_types: FxHashMap<String, (usize, usize)>,
    register: FxHashMap<String, Vec<(usize, usize)>>,
    mount: FxHashMap<String, Vec<(usize, usize)>>,
    hook: FxHashMap<String, Vec<(usize, usize)>>,
    viewset: FxHashMap<String, Vec<(usize, usize)>>,
    item: FxHashMap<String, Vec<(usize, usize)>>,
    include: FxHashMap<String, (usize, usize)>,
    restrict: FxHashMap<String, (usize, usize)>,
    chain: FxHashMap<String, Vec<(usize, usize)>>,
    method_router: FxHashMap<String, (usize, usize)>,
    collection_macros: FxHashMap<String, usize>,
    lists: FxHashMap<String, usize>,
    view_calls: FxHashSet<String>,
    /// Library class-based views → the HTTP methods they serve.
    view_bases: FxHashMap<String, Vec<String>>,
    aliases: FxHashSet<String>,
    list_attrs: FxHashSet<String>,
    /// Every method name any spec looks at: most calls are passed over on it.
    names: FxHashSet<String>,
    /// Some spec registers routes by attributes on handlers (`#[get("/")]`).
    attributes: bool,
    /// Some spec reads builder chains (`Router::new().route(..)`).
    chains: bool,
    /// Some spec registers by decorators, calls on objects or route lists.
    registrations: bool,
}

impl<'s> Specs<'s> {
    pub fn new(specs: &[&'s FrameworkSpec]) -> Specs<'s> {
        let mut s = Specs {
            all: specs.to_vec(),
            ..Default::default()
        };
        for (si, f) in specs.iter().enumerate() {
            for (oi, o) in f.object.iter().enumerate() {
                for a in &o.apis {
                    s.ctor.entry(a.clone()).or_insert((si, oi));
                }
                for t in &o.param_types {
                    s.param_types.entry(t.clone()).or_insert((si, oi));
                }
                s.aliases.extend(o.aliases.iter().cloned());
                s.list_attrs.extend(o.list_attrs.iter().cloned());
            }
            for (i, r) in f.register.iter().enumerate() {
                for m in r.methods.keys() {
                    s.register.entry(m.clone()).or_default().push((si, i));
                    s.names.insert(m.clone());
                }
            }
            for (i, m) in f.mount.iter().enumerate() {
                for n in &m.methods {
                    s.mount.entry(n.clone()).or_default().push((si, i));
                    s.names.insert(n.clone());
                }
            }
            for (i, h) in f.hook.iter().enumerate() {
                for n in &h.methods {
                    s.hook.entry(n.clone()).or_default().push((si, i));
                    s.names.insert(n.clone());
                }
            }
            for (i, v) in f.viewset.iter().enumerate() {
                for n in &v.methods {
                    s.viewset.entry(n.clone()).or_default().push((si, i));
                    s.names.insert(n.clone());
                }
            }
            for (i, it) in f.item.iter().enumerate() {
                for a in &it.apis {
                    s.item.entry(a.clone()).or_default().push((si, i));
                }
            }
            for (i, it) in f.include.iter().enumerate() {
                for a in &it.apis {
                    s.include.entry(a.clone()).or_insert((si, i));
                }
            }
            for (i, r) in f.restrict.iter().enumerate() {
                for a in &r.apis {
                    s.restrict.entry(a.clone()).or_insert((si, i));
                }
            }
            for (i, c) in f.chain.iter().enumerate() {
                for n in &c.methods {
                    s.chain.entry(n.clone()).or_default().push((si, i));
                    s.names.insert(n.clone());
                }
            }
            for (i, m) in f.method_router.iter().enumerate() {
                for a in &m.apis {
                    s.method_router.entry(a.clone()).or_insert((si, i));
                }
            }
            for c in &f.collection {
                for m in &c.macros {
                    s.collection_macros.entry(m.clone()).or_insert(si);
                }
            }
            for l in &f.lists {
                s.lists.entry(l.clone()).or_insert(si);
            }
            s.view_calls.extend(f.view_calls.iter().cloned());
            for (k, v) in &f.view_bases {
                s.view_bases.entry(k.clone()).or_insert_with(|| v.clone());
            }
            s.attributes |= !f.attribute.is_empty();
            s.chains |= !f.chain.is_empty();
            s.registrations |= !(f.register.is_empty()
                && f.mount.is_empty()
                && f.hook.is_empty()
                && f.item.is_empty()
                && f.lists.is_empty()
                && f.viewset.is_empty());
        }
        s
    }
}

/// The specs of each language (indexed by [`Lang`]): the repository's own
/// first (they win where both name the same API), then the built-in ones.
pub fn specs_for(user: &[FrameworkSpec]) -> Vec<Specs<'_>> {
    Lang::ALL
        .iter()
        .map(|&lang| {
            let all: Vec<&FrameworkSpec> = user
                .iter()
                .chain(spec::builtin())
                .filter(|f| f.language == lang)
                .collect();
            Specs::new(&all)
        })
        .collect()
}

/// A path or prefix as far as it is known.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PathText(String);

struct Engine<'a, 'b> {
    idx: &'a Index<'a>,
    /// Per language (indexed by [`Lang`]).
    specs: Vec<Specs<'a>>,
    gc: &'b Classifier<'a>,
    /// Objects by key: (language, spec index) of the framework.
    kinds: RefCell<FxHashMap<String, (Lang, usize)>>,
    /// Variables holding objects: (file, assign) → key.
    vars: RefCell<FxHashMap<(usize, usize), String>>,
    /// Functions whose parameter registrations were found: (file, def, param index) → key.
    params: RefCell<FxHashMap<(usize, usize, usize), String>>,
    /// Route collections computed (Rust functions returning route vectors).
    collections: RefCell<FxHashMap<(usize, usize), Vec<String>>>,
    /// Handlers given a route object by an attribute (`#[get("/x")]`).
    attr_routes: RefCell<FxHashMap<(usize, usize), String>>,
    /// Registrations on parameter objects whose framework is known only
    /// once a caller hands them an object.
    pending: RefCell<Vec<Pending>>,
    /// Variables whose chains are being read (a name used in its own value
    /// refers to an earlier binding), and the nesting depth.
    building: RefCell<FxHashSet<(usize, usize)>>,
    /// Functions handed to `.configure(f)`.
    configured_fns: RefCell<FxHashSet<(usize, usize)>>,
    /// Attribute routes that count only when a collection mounts them.
    mounted_only: RefCell<Vec<String>>,
    /// Chains already read, by file and position (a returned chain is also a
    /// statement of its function).
    seen: RefCell<FxHashSet<(usize, Pos)>>,
    nesting: std::cell::Cell<u32>,
}

/// How deeply chain reading may nest through variables and functions.
const MAX_NESTING: u32 = 48;

/// A registration, mount or hook on a parameter object, replayed once the
/// object's framework is known.
struct Pending {
    file: usize,
    scope: Option<usize>,
    recv: Expr,
    method: String,
    call: CallExpr,
    handler: PendingHandler,
}

enum PendingHandler {
    Decorated(usize, usize),
    Arg,
    Given(Expr),
}

/// Build the graph for every file.
pub fn build(idx: &Index, gc: &Classifier, g: &mut Graph) {
    let e = Engine {
        idx,
        specs: specs_for(idx.frameworks),
        gc,
        kinds: Default::default(),
        vars: Default::default(),
        params: Default::default(),
        collections: Default::default(),
        attr_routes: Default::default(),
        pending: Default::default(),
        building: Default::default(),
        configured_fns: Default::default(),
        mounted_only: Default::default(),
        seen: Default::default(),
        nesting: Default::default(),
    };
    e.objects(g);
    e.registrations(g);
    e.attributes(g);
    e.chains(g);
    e.parameter_mounts(g);
    e.replay(g);
    // Parameter objects nobody hands an object to are not routers, and
    // attribute routes that only a collection mounts do not stand alone.
    let params: Vec<String> = e.params.borrow().values().cloned().collect();
    for k in params.into_iter().chain(e.mounted_only.take()) {
        if !g.mounted.contains(&k) {
            g.objs.remove(&k);
        }
    }
}

fn last(n: &str) -> &str {
    n.rsplit(['.', ':']).next().unwrap_or(n)
}

impl<'a, 'b> Engine<'a, 'b> {
    fn specs(&self, file: usize) -> &Specs<'a> {
        &self.specs[self.idx.files[file].lang as usize]
    }

    fn spec(&self, file: usize, si: usize) -> &'a FrameworkSpec {
        self.specs(file).all[si]
    }

    /// Create (or find) an object of spec `si`.
    fn obj(&self, g: &mut Graph, key: &str, lang: Lang, si: usize, origin: (usize, Pos)) {
        let name = &self.specs[lang as usize].all[si].name;
        g.obj(key, name, origin);
        self.kinds
            .borrow_mut()
            .entry(key.to_string())
            .or_insert((lang, si));
    }

    fn framework_of(&self, g: &Graph, key: &str) -> String {
        g.objs
            .get(key)
            .map(|o| o.framework.clone())
            .unwrap_or_else(|| "custom".into())
    }

    // ------------------------------------------------------------ values

    /// Evaluate a path or prefix: literals, constants, class attributes,
    /// f-strings, concatenations; unknown parts become placeholders.
    fn path(&self, file: usize, scope: Option<usize>, e: &Expr) -> PathText {
        let mut out = String::new();
        self.path_into(file, scope, e, 0, &mut out);
        PathText(out)
    }

    fn path_into(&self, file: usize, scope: Option<usize>, e: &Expr, depth: u32, out: &mut String) {
        if depth > 12 {
            out.push_str(&format!("{{{UNKNOWN}…}}"));
            return;
        }
        match e {
            Expr::Str(s) => out.push_str(s),
            Expr::Name(..) | Expr::Attr(..) => {
                let (vf, vs, v) = self.idx.value_of(file, scope, e);
                match v {
                    Expr::Str(s) => out.push_str(s),
                    Expr::Mix(_) if !std::ptr::eq(v, e) => {
                        self.path_into(vf, vs, v, depth + 1, out)
                    }
                    _ => match self.idx.resolve_expr(file, scope, e) {
                        // A class attribute or a module constant through imports.
                        Some(Target::Var(af, aa))
                            if !std::ptr::eq(&self.idx.files[af].assigns[aa].value, e) =>
                        {
                            let a = &self.idx.files[af].assigns[aa];
                            match &a.value {
                                Expr::Str(s) => out.push_str(s),
                                Expr::Mix(_) | Expr::Name(..) => {
                                    self.path_into(af, a.scope.get(), &a.value, depth + 1, out)
                                }
                                _ => out.push_str(&format!("{{{UNKNOWN}{}}}", e.display())),
                            }
                        }
                        _ => out.push_str(&format!("{{{UNKNOWN}{}}}", e.display())),
                    },
                }
            }
            // f-strings and concatenations, in order.
            Expr::Mix(parts) => {
                for p in parts {
                    self.path_into(file, scope, p, depth + 1, out);
                }
            }
            // `concat!("/", "api")`
            Expr::Macro(m)
                if self.idx.files[file]
                    .lang
                    .syntax()
                    .concat_macros
                    .contains(&last(&m.name)) =>
            {
                for x in &m.parts {
                    self.path_into(file, scope, x, depth + 1, out);
                }
            }
            // `[base, "/api"].concat()`
            Expr::Call(c)
                if crate::extract::method_name(&c.func).is_some_and(|m| {
                    self.idx.files[file]
                        .lang
                        .syntax()
                        .concat_methods
                        .contains(&m)
                }) =>
            {
                if let Some((Expr::List(xs), _)) = c.method() {
                    for x in &xs {
                        self.path_into(file, scope, x, depth + 1, out);
                    }
                } else {
                    out.push_str(&format!("{{{UNKNOWN}{}}}", e.display()));
                }
            }
            other => out.push_str(&format!("{{{UNKNOWN}{}}}", other.display())),
        }
    }

    /// A literal path (or a constant one): registrations by unknown receivers need one.
    fn literal_path(&self, file: usize, scope: Option<usize>, e: &Expr) -> Option<String> {
        self.idx.str_value(file, scope, e)
    }

    /// Literal method names: `"POST"`, `["GET", "POST"]`, `("get",)`.
    fn methods_of(&self, file: usize, scope: Option<usize>, e: &Expr) -> Vec<String> {
        let (_, _, v) = self.idx.value_of(file, scope, e);
        let mut out: Vec<String> = match v {
            Expr::Str(s) => vec![s.as_str().to_ascii_uppercase()],
            Expr::List(xs) => xs
                .iter()
                .filter_map(|x| x.as_str())
                .map(|s| s.to_ascii_uppercase())
                .collect(),
            _ => vec![],
        };
        for m in &mut out {
            if m == "*" {
                *m = "ANY".into();
            }
        }
        out.sort();
        out.dedup();
        out
    }

    // ------------------------------------------------------------ objects

    /// Objects built by constructor calls assigned to variables (any
    /// language), and module-level route lists.
    fn objects(&self, g: &mut Graph) {
        for (fi, f) in self.idx.files.iter().enumerate() {
            let sp = self.specs(fi);
            for (ai, a) in f.assigns.iter().enumerate() {
                if a.scope.get().is_none() {
                    if let Some(&si) = sp.lists.get(a.target.as_str()) {
                        let key = format!("{}:{}", self.idx.module[fi], a.target);
                        self.obj(g, &key, f.lang, si, (fi, a.pos));
                    }
                }
                if !f.lang.syntax().objects_by_assignment {
                    continue;
                }
                let Expr::Call(_) = &a.value else { continue };
                let Some(q) = self.ctor_api(fi, ai) else {
                    continue;
                };
                if let Some(&(si, _)) = sp.ctor.get(&*q) {
                    let key = self.idx.var_symbol(fi, ai);
                    self.obj(g, &key, f.lang, si, (fi, a.pos));
                    self.vars.borrow_mut().insert((fi, ai), key);
                }
            }
        }
        // Constructor arguments, once every object exists.
        let built: Vec<((usize, usize), String)> = self
            .vars
            .borrow()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let mut built = built;
        built.sort();
        for ((fi, ai), key) in built {
            let a = &self.idx.files[fi].assigns[ai];
            let Expr::Call(c) = &a.value else { continue };
            let Some(q) = self.ctor_api(fi, ai) else {
                continue;
            };
            let Some(&(si, oi)) = self.specs(fi).ctor.get(&*q) else {
                continue;
            };
            self.construct(g, fi, a.scope.get(), &key, si, oi, c);
        }
    }

    /// The framework class an assignment constructs: the callee itself, or,
    /// for a repository subclass (`class CTFdFlask(Flask)`), the catalogued
    /// class it derives from.
    fn ctor_api(&self, fi: usize, ai: usize) -> Option<crate::intern::Sym> {
        let mut t = self.idx.assign_callee(fi, ai)?;
        for _ in 0..8 {
            match t {
                Target::External(q) => return Some(q),
                Target::Def(df, dd) => {
                    let d = &self.idx.files[df].defs[dd];
                    if d.kind != DefKind::Class {
                        return None;
                    }
                    let sp = self.specs(df);
                    let mut next = None;
                    for b in &d.bases {
                        match self.idx.resolve_expr(df, d.parent, b) {
                            Some(Target::External(q)) if sp.ctor.contains_key(&*q) => {
                                return Some(q)
                            }
                            Some(x @ Target::Def(..)) if next.is_none() => next = Some(x),
                            _ => {}
                        }
                    }
                    t = next?;
                }
                _ => return None,
            }
        }
        None
    }

    /// Constructor arguments: prefix, guards, a route list, a parent object.
    #[allow(clippy::too_many_arguments)]
    fn construct(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        si: usize,
        oi: usize,
        c: &CallExpr,
    ) {
        let os = &self.spec(fi, si).object[oi];
        let prefix = match os.prefix.as_ref().and_then(|p| p.of(c)) {
            Some(e) => self.path(fi, scope, e).0,
            None => match os
                .prefix_from_name
                .as_ref()
                .and_then(|p| p.of(c))
                .and_then(|e| self.literal_path(fi, scope, e))
            {
                Some(n) => format!("/{n}"),
                None => String::new(),
            },
        };
        let mut guards = vec![];
        for ga in &os.guards {
            if let Some(e) = ga.arg.of(c) {
                guards.extend(self.gc.classify(fi, scope, e, &ga.via));
            }
        }
        let lang = self.idx.files[fi].lang;
        self.obj(g, key, lang, si, (fi, c.pos));
        if os.mounted {
            g.obj(key, &self.spec(fi, si).name, (fi, c.pos)).needs_mount = true;
        }
        if let Some(o) = g.objs.get_mut(key) {
            o.prefix = prefix;
            o.guards.extend(guards);
        }
        if let Some(routes) = os.routes.as_ref().and_then(|r| r.of(c)) {
            self.route_list(g, fi, scope, key, routes, 0);
        }
        if let Some(parent) = os.parent.as_ref().and_then(|p| p.of(c)) {
            if let Some(pk) = self.object_of(g, fi, scope, parent) {
                g.mount(
                    &pk,
                    &self.framework_of(g, &pk),
                    (fi, c.pos),
                    String::new(),
                    key.to_string(),
                    vec![],
                );
            }
        }
    }

    /// The object an expression denotes: a variable holding one, an alias
    /// attribute (`app.router`), an object a repository function returns, a
    /// parameter of the enclosing function that callers hand an object.
    fn object_of(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
    ) -> Option<String> {
        self.object_of_n(g, fi, scope, e, 0)
    }

    fn object_of_n(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        depth: u32,
    ) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let sp = self.specs(fi);
        // `app.router` stands for `app` when `app` is an object.
        if let Expr::Name(n, p) = e {
            if let Some((base, a)) = n.rsplit_once('.') {
                if sp.aliases.contains(a) {
                    let b = Expr::Name(base.into(), *p);
                    if let Some(k) = self.object_of_n(g, fi, scope, &b, depth + 1) {
                        if self.kinds.borrow().contains_key(&k) {
                            return Some(k);
                        }
                    }
                }
            }
        }
        let e = e.clone();
        match &e {
            Expr::Call(c) => {
                if let Some(Target::Def(df, dd)) = self.idx.resolve_expr(fi, scope, &c.func) {
                    return self.returned_object(g, df, dd, depth + 1);
                }
                None
            }
            Expr::Name(n, _) => match self.idx.resolve_expr(fi, scope, &e) {
                Some(Target::Var(vf, va)) => {
                    if let Some(k) = self.vars.borrow().get(&(vf, va)) {
                        return Some(k.clone());
                    }
                    let v = &self.idx.files[vf].assigns[va];
                    match &v.value {
                        Expr::Call(_) | Expr::Name(..) if !std::ptr::eq(&v.value, &e) => {
                            self.object_of_n(g, vf, v.scope.get(), &v.value.clone(), depth + 1)
                        }
                        _ => None,
                    }
                }
                Some(Target::Def(df, dd))
                    if self.idx.files[df].defs[dd].kind == DefKind::Function =>
                {
                    // A router-returning function passed uncalled is not an object.
                    let _ = (df, dd);
                    None
                }
                None => self.param_object(g, fi, scope, n),
                _ => None,
            },
            _ => None,
        }
    }

    /// Objects a loop variable stands for, one per element of the static
    /// list it runs over: `for m in [billing, reports]: ...(m.router)`.
    fn elements_of(&self, g: &mut Graph, fi: usize, scope: Option<usize>, e: &Expr) -> Vec<String> {
        let Expr::Name(n, p) = e else { return vec![] };
        let sep = self.idx.sep(fi);
        let (head, rest) = match n.split_once(sep) {
            Some((h, r)) => (h, Some(r)),
            None => (n.as_str(), None),
        };
        let Some(Target::Var(vf, va)) =
            self.idx
                .resolve_expr(fi, scope, &Expr::Name(head.into(), *p))
        else {
            return vec![];
        };
        let v = &self.idx.files[vf].assigns[va];
        let Expr::Element(iter) = &v.value else {
            return vec![];
        };
        let (lf, ls, list) = self.idx.value_of(vf, v.scope.get(), iter);
        let Expr::List(items) = list else {
            return vec![];
        };
        let mut out = vec![];
        for it in items.clone() {
            let Expr::Name(xn, xp) = &it else { continue };
            let full = match rest {
                Some(r) => format!("{xn}{sep}{r}"),
                None => xn.to_string(),
            };
            if let Some(k) = self.object_of(g, lf, ls, &Expr::Name(full.into(), *xp)) {
                out.push(k);
            }
        }
        out
    }

    /// The object a function returns (`def create_app(): app = Flask(...); return app`).
    fn returned_object(&self, g: &mut Graph, df: usize, dd: usize, depth: u32) -> Option<String> {
        let d = &self.idx.files[df].defs[dd];
        for r in &d.returns {
            if let Some(k) = self.object_of_n(g, df, Some(dd), r, depth + 1) {
                return Some(k);
            }
        }
        None
    }

    /// A parameter of the enclosing function used as an object: an object of
    /// its own (`init_app#app`), mounted wherever a caller hands one in.
    fn param_object(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        n: &str,
    ) -> Option<String> {
        let head = n.split(['.', ':']).next().unwrap_or(n);
        if head != n {
            return None;
        }
        let f = &self.idx.files[fi];
        let mut s = scope?;
        // The innermost function that has this parameter.
        loop {
            let d = &f.defs[s];
            if let Some(pi) = d.params.iter().position(|p| {
                p.name.trim_start_matches(['*', '&']) == n || p.name == format!("mut {n}")
            }) {
                if d.kind != DefKind::Function {
                    return None;
                }
                let key = format!("{}#{}", self.idx.def_symbol(fi, s), n);
                self.params.borrow_mut().insert((fi, s, pi), key.clone());
                if !g.objs.contains_key(&key) {
                    let lang = f.lang;
                    // A typed parameter names its framework (`cfg: &mut ServiceConfig`).
                    let si = d.params[pi].ty.as_ref().and_then(|t| match t {
                        Expr::Name(tn, _) => match self.idx.resolve_name(fi, None, tn) {
                            Some(Target::External(q)) => {
                                self.specs(fi).param_types.get(&*q).map(|x| x.0)
                            }
                            _ => None,
                        },
                        _ => None,
                    });
                    match si {
                        Some(si) => self.obj(g, &key, lang, si, (fi, d.pos)),
                        None => {
                            g.obj(&key, "custom", (fi, d.pos));
                        }
                    }
                }
                return Some(key);
            }
            s = d.parent?;
        }
    }

    /// Objects handed to functions that register on a parameter: mount the
    /// parameter's object where each call passes one in.
    fn parameter_mounts(&self, g: &mut Graph) {
        let params: Vec<((usize, usize, usize), String)> = {
            let mut v: Vec<_> = self
                .params
                .borrow()
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect();
            v.sort();
            v
        };
        if params.is_empty() {
            return;
        }
        let by_def: FxHashMap<(usize, usize), Vec<(usize, String)>> = {
            let mut m: FxHashMap<(usize, usize), Vec<(usize, String)>> = FxHashMap::default();
            for ((f, d, p), k) in params {
                m.entry((f, d)).or_default().push((p, k));
            }
            m
        };
        for (fi, f) in self.idx.files.iter().enumerate() {
            for (ci, (c, scope)) in self.idx.calls(fi).enumerate() {
                let Some(Target::Def(df, dd)) = self.idx.call_target(fi, ci) else {
                    continue;
                };
                let Some(ps) = by_def.get(&(df, dd)) else {
                    continue;
                };
                let callee = &self.idx.files[df].defs[dd];
                let syn = self.idx.files[df].lang.syntax();
                let skip_self = callee
                    .params
                    .first()
                    .is_some_and(|p| syn.is_receiver(&p.name));
                for (pi, key) in ps {
                    let Some(pname) = callee
                        .params
                        .get(*pi)
                        .map(|p| p.name.trim_start_matches(['*', '&']).to_string())
                    else {
                        continue;
                    };
                    let arg = c
                        .kwarg(&pname)
                        .or_else(|| c.positional(pi.saturating_sub(skip_self as usize)));
                    let Some(arg) = arg else { continue };
                    if let Some(parent) = self.object_of(g, fi, scope, arg) {
                        if &parent != key {
                            let fw = self.framework_of(g, &parent);
                            g.mount(
                                &parent,
                                &fw,
                                (fi, c.pos),
                                String::new(),
                                key.clone(),
                                vec![],
                            );
                        }
                    }
                }
                let _ = f;
            }
        }
    }

    // ------------------------------------------------- registrations

    /// Decorators, calls on objects and route lists.
    fn registrations(&self, g: &mut Graph) {
        for (fi, f) in self.idx.files.iter().enumerate() {
            let sp = self.specs(fi);
            if !sp.registrations {
                continue;
            }
            // Route lists (`urlpatterns = [...]`, `urlpatterns += [...]`).
            for (ai, a) in f.assigns.iter().enumerate() {
                if a.scope.get().is_none() && sp.lists.contains_key(a.target.as_str()) {
                    let key = format!("{}:{}", self.idx.module[fi], a.target);
                    let _ = ai;
                    self.route_list(g, fi, None, &key, &a.value, 0);
                }
            }
            // Decorated functions and classes.
            for (di, d) in f.defs.iter().enumerate() {
                for (i, dec) in d.decorators.iter().enumerate() {
                    self.decorator(g, fi, di, i, dec);
                }
            }
            // Registration, mount and hook calls.
            for (c, scope) in self.idx.calls(fi) {
                let Some(m) = crate::extract::method_name(&c.func) else {
                    // `router.post("/x")(handler)`: the registration is the callee.
                    if let Expr::Call(inner) = &c.func {
                        self.call_form(g, fi, scope, inner, c);
                    }
                    continue;
                };
                if !sp.names.contains(m) {
                    continue;
                }
                self.call(g, fi, scope, c, m);
            }
        }
    }

    /// A decorator on a definition: a route registration, or a hook.
    fn decorator(&self, g: &mut Graph, fi: usize, di: usize, i: usize, dec: &Expr) {
        let sp = self.specs(fi);
        let d = &self.idx.files[fi].defs[di];
        let (func, call) = match dec {
            Expr::Call(c) => (&c.func, Some(c.as_ref())),
            other => (other, None),
        };
        let Some((recv, m)) = split_method(func) else {
            return;
        };
        let sp_names = &self.specs(fi).names;
        if sp_names.contains(m) && self.deferred(g, fi, d.parent, &recv) {
            self.pending.borrow_mut().push(Pending {
                file: fi,
                scope: d.parent,
                recv,
                method: m.to_string(),
                call: call.cloned().unwrap_or(CallExpr {
                    func: func.clone(),
                    args: ThinVec::new(),
                    pos: d.pos,
                    start: d.pos,
                }),
                handler: PendingHandler::Decorated(di, i),
            });
            return;
        }
        // Hooks: `@app.before_request`, `@app.middleware("http")`.
        for &(si, hi) in sp.hook.get(m).into_iter().flatten() {
            let h = &self.spec(fi, si).hook[hi];
            if !h.decorator {
                continue;
            }
            if let Some(key) = self.receiver(g, fi, d.parent, &recv, si) {
                let gs = self.gc.classify(
                    fi,
                    d.parent,
                    &Expr::Name(d.name.as_str().into(), d.pos),
                    &h.via,
                );
                g.obj(&key, &self.framework_of(g, &key), (fi, d.pos))
                    .guards
                    .extend(gs);
                return;
            }
        }
        let Some(c) = call else { return };
        self.register(g, fi, d.parent, &recv, m, c, Handler::Decorated(di));
    }

    /// The object a receiver denotes when it is one of spec `si`'s.
    fn receiver(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        recv: &Expr,
        si: usize,
    ) -> Option<String> {
        let key = self.object_of(g, fi, scope, recv)?;
        let lang = self.idx.files[fi].lang;
        match self.kinds.borrow().get(&key) {
            Some(&(l, s)) if l == lang && s == si => Some(key),
            _ => None,
        }
    }

    /// A parameter object whose framework is not known yet: what is done to
    /// it waits until a caller hands it an object.
    fn deferred(&self, g: &mut Graph, fi: usize, scope: Option<usize>, recv: &Expr) -> bool {
        let Some(key) = self.object_of(g, fi, scope, recv) else {
            return false;
        };
        self.params.borrow().values().any(|k| *k == key) && !self.kinds.borrow().contains_key(&key)
    }

    /// Replay what was done to parameter objects, now that each has the
    /// framework of the object a caller hands it.
    fn replay(&self, g: &mut Graph) {
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        if pending.is_empty() {
            return;
        }
        // Each parameter object takes its parent's framework.
        let params: Vec<String> = self.params.borrow().values().cloned().collect();
        for _ in 0..4 {
            for k in &params {
                if self.kinds.borrow().contains_key(k) {
                    continue;
                }
                let parent = g.objs.iter().find_map(|(pk, o)| {
                    o.items
                        .iter()
                        .any(|it| matches!(it, Item::Mount { child, .. } if child == k))
                        .then(|| pk.clone())
                });
                if let Some(pk) = parent {
                    let kind = self.kinds.borrow().get(&pk).copied();
                    if let Some(kind) = kind {
                        self.kinds.borrow_mut().insert(k.clone(), kind);
                        let name = self.specs[kind.0 as usize].all[kind.1].name.clone();
                        if let Some(o) = g.objs.get_mut(k) {
                            o.framework = name;
                        }
                    }
                }
            }
        }
        for p in pending {
            match p.handler {
                PendingHandler::Decorated(di, i) => {
                    let dec = self.idx.files[p.file].defs[di].decorators[i].clone();
                    self.decorator(g, p.file, di, i, &dec);
                }
                PendingHandler::Arg => {
                    self.call(g, p.file, p.scope, &p.call, &p.method);
                }
                PendingHandler::Given(e) => {
                    self.register(
                        g,
                        p.file,
                        p.scope,
                        &p.recv,
                        &p.method,
                        &p.call,
                        Handler::Given(&e),
                    );
                }
            }
        }
    }

    /// A registration (decorator or call) `recv.m(...)`.
    #[allow(clippy::too_many_arguments)]
    fn register(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        recv: &Expr,
        m: &str,
        c: &CallExpr,
        handler: Handler,
    ) -> bool {
        let sp = self.specs(fi);
        let Some(cands) = sp.register.get(m) else {
            return false;
        };
        if let Handler::Given(h) = handler {
            if self.deferred(g, fi, scope, recv) {
                self.pending.borrow_mut().push(Pending {
                    file: fi,
                    scope,
                    recv: recv.clone(),
                    method: m.to_string(),
                    call: c.clone(),
                    handler: PendingHandler::Given(h.clone()),
                });
                return true;
            }
        }
        // A spec whose object the receiver is; else a spec for any receiver.
        let mut chosen = None;
        for &(si, ri) in cands {
            let r = &self.spec(fi, si).register[ri];
            if r.any_receiver {
                continue;
            }
            if r.handler.is_some() != matches!(handler, Handler::Arg) {
                continue;
            }
            if let Some(key) = self.receiver(g, fi, scope, recv, si) {
                chosen = Some((si, ri, key));
                break;
            }
        }
        if chosen.is_none() {
            for &(si, ri) in cands {
                let r = &self.spec(fi, si).register[ri];
                if !r.any_receiver || r.handler.is_some() != matches!(handler, Handler::Arg) {
                    continue;
                }
                // Home-grown routers: a literal path starting with "/".
                let lit = r.path.of(c).and_then(|e| self.literal_path(fi, scope, e));
                if !lit.is_some_and(|p| p.starts_with('/')) {
                    continue;
                }
                if self
                    .object_of(g, fi, scope, recv)
                    .is_some_and(|k| self.kinds.borrow().contains_key(&k))
                {
                    // A known framework object without this method: not a route.
                    continue;
                }
                let key = self
                    .object_of(g, fi, scope, recv)
                    .unwrap_or_else(|| format!("{}:{}", self.idx.module[fi], recv.display()));
                g.obj(&key, &self.spec(fi, si).name, (fi, c.pos));
                chosen = Some((si, ri, key));
                break;
            }
        }
        let Some((si, ri, key)) = chosen else {
            return false;
        };
        let fw = self.spec(fi, si);
        let r = &fw.register[ri];
        let Some(path_e) = r.path.of(c) else {
            return false;
        };
        let pattern = self.path(fi, scope, path_e).0;
        let mut methods = r.methods.get(m).cloned().unwrap_or_default();
        if methods.is_empty() {
            if let Some(e) = r.methods_arg.as_ref().and_then(|a| a.of(c)) {
                methods = self.methods_of(fi, scope, e);
            }
        }
        let mut guards = vec![];
        for ga in &r.guards {
            if let Some(e) = ga.arg.of(c) {
                guards.extend(self.gc.classify(fi, scope, e, &ga.via));
            }
        }
        let (hf, hd, hsym, hscope) = match handler {
            Handler::Decorated(di) => (fi, Some(di), self.idx.def_symbol(fi, di), scope),
            Handler::Arg | Handler::Given(_) => {
                let he = match handler {
                    Handler::Given(e) => Some(e),
                    _ => r.handler.as_ref().and_then(|h| h.of(c)),
                };
                let Some(he) = he else { return false };
                let (h, sym) = self.handler(fi, scope, he);
                match h {
                    Some((hf, hd)) => (hf, Some(hd), sym, scope),
                    None => (fi, None, sym, scope),
                }
            }
        };
        let _ = hscope;
        let fwname = fw.name.clone();
        // A class registered as a resource: one route per method it defines.
        if let Some(hd) = hd.filter(|&hd| self.idx.files[hf].defs[hd].kind == DefKind::Class) {
            let per = self.class_methods(hf, hd);
            let wanted: Vec<String> = methods.clone();
            for (method, mdef) in per {
                if !wanted.is_empty() && !wanted.contains(&method) {
                    continue;
                }
                let (h, sym) = match mdef {
                    Some((mf, md)) => (Some((mf, md)), self.idx.def_symbol(mf, md)),
                    None => (Some((hf, hd)), self.idx.def_symbol(hf, hd)),
                };
                let draft = self.draft(
                    vec![method],
                    pattern.clone(),
                    h,
                    sym,
                    guards.clone(),
                    fi,
                    c.pos,
                    &fwname,
                );
                g.obj(&key, &fwname, (fi, c.pos))
                    .items
                    .push(Item::Route(draft));
            }
            return true;
        }
        if methods.is_empty() {
            methods = hd
                .and_then(|hd| self.restricted(hf, hd))
                .unwrap_or_else(|| {
                    if r.default.is_empty() {
                        vec!["ANY".into()]
                    } else {
                        r.default.clone()
                    }
                });
        }
        let draft = self.draft(
            methods,
            pattern,
            hd.map(|d| (hf, d)),
            hsym,
            guards,
            fi,
            c.pos,
            &fwname,
        );
        let registered_by = match handler {
            Handler::Decorated(_) => None,
            _ => Some(()),
        };
        let _ = registered_by;
        g.obj(&key, &fwname, (fi, c.pos))
            .items
            .push(Item::Route(draft));
        true
    }

    /// `router.post("/x", ...)(handler)`: the registration in call form.
    fn call_form(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        inner: &CallExpr,
        outer: &CallExpr,
    ) {
        let Some((recv, m)) = split_method(&inner.func) else {
            return;
        };
        if !self.specs(fi).register.contains_key(m) {
            return;
        }
        let Some(h) = outer.positional(0) else { return };
        self.register(g, fi, scope, &recv, m, inner, Handler::Given(h));
    }

    /// A call `recv.m(...)` that a spec names: registration, mount, hook, viewset.
    fn call(&self, g: &mut Graph, fi: usize, scope: Option<usize>, c: &CallExpr, m: &str) {
        let sp = self.specs(fi);
        let Some((recv, _)) = split_method(&c.func) else {
            return;
        };
        if self.deferred(g, fi, scope, &recv) {
            self.pending.borrow_mut().push(Pending {
                file: fi,
                scope,
                recv: recv.clone(),
                method: m.to_string(),
                call: c.clone(),
                handler: PendingHandler::Arg,
            });
            return;
        }
        if self.register(g, fi, scope, &recv, m, c, Handler::Arg) {
            return;
        }
        for &(si, mi) in sp.mount.get(m).into_iter().flatten() {
            let ms = &self.spec(fi, si).mount[mi];
            let Some(key) = self.receiver(g, fi, scope, &recv, si) else {
                continue;
            };
            let Some(child_e) = ms.child.of(c) else {
                continue;
            };
            let prefix = ms
                .prefix
                .as_ref()
                .and_then(|p| p.of(c))
                .map(|e| self.path(fi, scope, e).0);
            let mut guards = vec![];
            for ga in &ms.guards {
                if let Some(e) = ga.arg.of(c) {
                    guards.extend(self.gc.classify(fi, scope, e, &ga.via));
                }
            }
            let fw = self.framework_of(g, &key);
            // `for m in [a, b]: app.include_router(m.router)` mounts each.
            let each = self.elements_of(g, fi, scope, child_e);
            if !each.is_empty() {
                for child in each {
                    if ms.mode == PrefixMode::Replace && prefix.is_some() {
                        if let Some(o) = g.objs.get_mut(&child) {
                            o.prefix.clear();
                        }
                    }
                    let p = prefix.clone().unwrap_or_default();
                    g.mount(&key, &fw, (fi, c.pos), p, child, guards.clone());
                }
                return;
            }
            let child = match self.object_of(g, fi, scope, child_e) {
                Some(k) => k,
                None => {
                    // A list of routes mounted directly (`add_routes([web.get(...)])`).
                    let k = format!(
                        "{}@{}:{}",
                        self.idx.files[fi].path, c.pos.line, c.pos.column
                    );
                    g.obj(&k, &fw, (fi, c.pos));
                    if !self.route_list(g, fi, scope, &k, child_e, 0) {
                        g.objs.remove(&k);
                        continue;
                    }
                    k
                }
            };
            if ms.mode == PrefixMode::Replace && prefix.is_some() {
                if let Some(o) = g.objs.get_mut(&child) {
                    o.prefix.clear();
                }
            }
            g.mount(
                &key,
                &fw,
                (fi, c.pos),
                prefix.unwrap_or_default(),
                child,
                guards,
            );
            return;
        }
        for &(si, hi) in sp.hook.get(m).into_iter().flatten() {
            let h = &self.spec(fi, si).hook[hi];
            let Some(ga) = &h.guard else { continue };
            let Some(key) = self.receiver(g, fi, scope, &recv, si) else {
                continue;
            };
            if let Some(e) = ga.of(c) {
                let gs = self.gc.classify(fi, scope, e, &h.via);
                g.obj(&key, &self.framework_of(g, &key), (fi, c.pos))
                    .guards
                    .extend(gs);
                return;
            }
        }
        for &(si, vi) in sp.viewset.get(m).into_iter().flatten() {
            let Some(key) = self.receiver(g, fi, scope, &recv, si) else {
                continue;
            };
            self.viewset(g, fi, scope, &key, si, vi, c);
            return;
        }
    }

    /// A route list (Starlette routes, Django urlpatterns, aiohttp
    /// add_routes): items, nested lists, included lists. True when it was one.
    fn route_list(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        e: &Expr,
        depth: u32,
    ) -> bool {
        if depth > 8 {
            return false;
        }
        let sp = self.specs(fi);
        let (lf, ls, v) = self.idx.value_of(fi, scope, e);
        let items: Vec<Expr> = match v {
            Expr::List(xs) => xs.to_vec(),
            // `urlpatterns = base + [...]` keeps its parts.
            Expr::Mix(xs) => xs.to_vec(),
            _ => return false,
        };
        for it in &items {
            match it {
                Expr::List(_) | Expr::Mix(_) => {
                    self.route_list(g, lf, ls, key, it, depth + 1);
                }
                Expr::Name(n, p) => {
                    // `router.urls`, another list, an object's routes.
                    if let Some((base, attr)) = n.rsplit_once('.') {
                        if sp.list_attrs.contains(attr) {
                            if let Some(child) =
                                self.object_of(g, lf, ls, &Expr::Name(base.into(), *p))
                            {
                                let fw = self.framework_of(g, key);
                                g.mount(key, &fw, (lf, *p), String::new(), child, vec![]);
                            }
                            continue;
                        }
                    }
                    if let Some(child) = self.object_of(g, lf, ls, it) {
                        if child != key {
                            let fw = self.framework_of(g, key);
                            g.mount(key, &fw, (lf, *p), String::new(), child, vec![]);
                        }
                        continue;
                    }
                    self.route_list(g, lf, ls, key, it, depth + 1);
                }
                Expr::Call(c) => self.list_item(g, lf, ls, key, c, depth),
                _ => {}
            }
        }
        true
    }

    /// `api.urls`: an attribute standing for an object's routes.
    fn list_attr_object(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
    ) -> Option<String> {
        let Expr::Name(n, p) = e else { return None };
        let (base, attr) = n.rsplit_once(self.idx.sep(fi))?;
        if !self.specs(fi).list_attrs.contains(attr) {
            return None;
        }
        self.object_of(g, fi, scope, &Expr::Name(base.into(), *p))
    }

    /// One element of a route list.
    fn list_item(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        c: &CallExpr,
        depth: u32,
    ) {
        let sp = self.specs(fi);
        let Some(Target::External(q)) = self.idx.resolve_expr(fi, scope, &c.func) else {
            return;
        };
        let Some(cands) = sp.item.get(&*q) else {
            return;
        };
        for &(si, ii) in cands {
            let it = &self.spec(fi, si).item[ii];
            let Some(path_e) = it.path.of(c) else {
                continue;
            };
            let pattern = self.path(fi, scope, path_e).0;
            let fw = match self.framework_of(g, key).as_str() {
                "custom" => self.spec(fi, si).name.clone(),
                other => other.to_string(),
            };
            match it.kind {
                ItemKind::Mount => {
                    let Some(child_e) = it.child.as_ref().and_then(|a| a.of(c)) else {
                        continue;
                    };
                    let child = match self.object_of(g, fi, scope, child_e) {
                        Some(k) => k,
                        None => {
                            let k = format!(
                                "{}@{}:{}",
                                self.idx.files[fi].path, c.pos.line, c.pos.column
                            );
                            g.obj(&k, &fw, (fi, c.pos));
                            self.route_list(g, fi, scope, &k, child_e, depth + 1);
                            k
                        }
                    };
                    g.mount(key, &fw, (fi, c.pos), pattern, child, vec![]);
                    return;
                }
                ItemKind::Route => {
                    let Some(h) = it.handler.as_ref().and_then(|a| a.of(c)) else {
                        continue;
                    };
                    // `path("api/", include(...))`, `path("api/", api.urls)`
                    if let Some(child) = self
                        .include(g, fi, scope, h, c.pos, depth)
                        .or_else(|| self.list_attr_object(g, fi, scope, h))
                    {
                        g.mount(key, &fw, (fi, c.pos), pattern, child, vec![]);
                        return;
                    }
                    let (handler, sym) = self.handler(fi, scope, h);
                    let mut methods = it.methods.clone();
                    if methods.is_empty() {
                        if let Some(e) = it.methods_arg.as_ref().and_then(|a| a.of(c)) {
                            methods = self.methods_of(fi, scope, e);
                        }
                    }
                    if let Some((hf, hd)) = handler {
                        if methods.is_empty() && self.idx.files[hf].defs[hd].kind == DefKind::Class
                        {
                            let fw = self.marked(hf, hd).unwrap_or(fw.clone());
                            // `ViewSet.as_view({"post": "create"})`: the methods the
                            // map names, each served by its action.
                            let per = match self.action_map(h) {
                                Some(map) => map
                                    .into_iter()
                                    .map(|(m, a)| (m, self.class_method(hf, hd, &a, 0)))
                                    .collect(),
                                None => self.class_methods(hf, hd),
                            };
                            for (method, mdef) in per {
                                let (h, sym) = match mdef {
                                    Some((mf, md)) => (Some((mf, md)), self.idx.def_symbol(mf, md)),
                                    None => (Some((hf, hd)), self.idx.def_symbol(hf, hd)),
                                };
                                let draft = self.draft(
                                    vec![method],
                                    pattern.clone(),
                                    h,
                                    sym,
                                    vec![],
                                    fi,
                                    c.pos,
                                    &fw,
                                );
                                g.obj(key, &fw, (fi, c.pos)).items.push(Item::Route(draft));
                            }
                            return;
                        }
                        if methods.is_empty() {
                            if let Some(r) = self.restricted(hf, hd) {
                                methods = r;
                            }
                        }
                    }
                    // A catalogued library view used directly (`SpectacularAPIView.as_view()`).
                    if methods.is_empty() && handler.is_none() {
                        if let Some(ms) = sp.view_bases.get(sym.as_str()) {
                            methods = ms.clone();
                        }
                    }
                    if methods.is_empty() {
                        methods = if it.default.is_empty() {
                            vec!["GET".into()]
                        } else {
                            it.default.clone()
                        };
                    }
                    let fw = handler
                        .and_then(|(hf, hd)| self.marked(hf, hd))
                        .unwrap_or(fw);
                    let draft = self.draft(methods, pattern, handler, sym, vec![], fi, c.pos, &fw);
                    g.obj(key, &fw, (fi, c.pos)).items.push(Item::Route(draft));
                    return;
                }
            }
        }
    }

    /// `include("app.urls")`, `include([...])`, `include(router.urls)`,
    /// `include((patterns, "app"))`: the object it stands for.
    fn include(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        at: Pos,
        depth: u32,
    ) -> Option<String> {
        let Expr::Call(c) = e else { return None };
        let Some(Target::External(q)) = self.idx.resolve_expr(fi, scope, &c.func) else {
            return None;
        };
        let &(si, ii) = self.specs(fi).include.get(&*q)?;
        let inc = &self.spec(fi, si).include[ii];
        let arg = inc.arg.of(c)?;
        let arg = match arg {
            // `include((urlpatterns, "app_name"))`
            Expr::List(xs) if xs.len() == 2 && xs[1].as_str().is_some() => &xs[0],
            other => other,
        };
        let fw = self.spec(fi, si).name.clone();
        match arg {
            Expr::Str(m) => {
                let mf = self.idx.module_file(m)?;
                let key = format!("{}:{}", self.idx.module[mf], inc.module_list);
                Some(key)
            }
            Expr::List(_) => {
                let k = format!("{}@{}:{}", self.idx.files[fi].path, at.line, at.column);
                g.obj(&k, &fw, (fi, at));
                self.route_list(g, fi, scope, &k, arg, depth + 1);
                Some(k)
            }
            Expr::Name(n, p) => {
                let sp = self.specs(fi);
                if let Some((base, attr)) = n.rsplit_once('.') {
                    if sp.list_attrs.contains(attr) {
                        return self.object_of(g, fi, scope, &Expr::Name(base.into(), *p));
                    }
                }
                match self.idx.resolve_expr(fi, scope, arg) {
                    Some(Target::Module(mf)) => {
                        Some(format!("{}:{}", self.idx.module[mf], inc.module_list))
                    }
                    Some(Target::Var(vf, va)) => {
                        if let Some(k) = self.vars.borrow().get(&(vf, va)).cloned() {
                            return Some(k);
                        }
                        let k = format!("{}@{}:{}", self.idx.files[fi].path, at.line, at.column);
                        g.obj(&k, &fw, (fi, at));
                        let v = &self.idx.files[vf].assigns[va];
                        self.route_list(g, vf, v.scope.get(), &k, &v.value, depth + 1);
                        Some(k)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A DRF-style router registration: the viewset's list and detail routes.
    #[allow(clippy::too_many_arguments)]
    fn viewset(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        si: usize,
        vi: usize,
        c: &CallExpr,
    ) {
        let fw = self.spec(fi, si);
        let vs = &fw.viewset[vi];
        let (Some(prefix), Some(vse)) = (
            vs.prefix.of(c).map(|e| self.path(fi, scope, e).0),
            vs.viewset.of(c),
        ) else {
            return;
        };
        let Some(Target::Def(vf, vd)) = self.idx.resolve_expr(fi, scope, vse) else {
            return;
        };
        let actions = self.viewset_actions(vf, vd, vs, 0);
        let mut list: Vec<String> = vec![];
        let mut detail: Vec<String> = vec![];
        for a in &actions {
            if let Some(m) = vs.list.get(a) {
                list.push(m.clone());
            }
            if let Some(m) = vs.detail.get(a) {
                detail.push(m.clone());
            }
        }
        list.sort();
        list.dedup();
        detail.sort();
        detail.dedup();
        let sym = self.idx.def_symbol(vf, vd);
        let base = prefix.trim_end_matches('/').to_string();
        for (methods, pat) in [
            (list, format!("{base}/")),
            (detail, format!("{base}/{}/", vs.detail_pattern)),
        ] {
            if methods.is_empty() {
                continue;
            }
            let draft = self.draft(
                methods,
                pat,
                Some((vf, vd)),
                sym.clone(),
                vec![],
                fi,
                c.pos,
                &fw.name,
            );
            g.obj(key, &fw.name, (fi, c.pos))
                .items
                .push(Item::Route(draft));
        }
        // Extra actions: `@action(detail=True, methods=["post"], url_path="x")`.
        for (af, mi, m) in self.extra_actions(vf, vd, vs, 0) {
            let def = &self.idx.files[af].defs[mi];
            let Some(Expr::Call(dc)) = def.decorators.get(m) else {
                continue;
            };
            let short = def.name.rsplit('.').next().unwrap_or(&def.name);
            let url = dc
                .kwarg("url_path")
                .and_then(|e| self.literal_path(af, def.parent, e))
                .unwrap_or_else(|| short.to_string());
            let detail = matches!(dc.kwarg("detail"), Some(Expr::Bool(true)));
            let mut methods = dc
                .kwarg("methods")
                .map(|e| self.methods_of(af, def.parent, e))
                .unwrap_or_default();
            if methods.is_empty() {
                methods = vec!["GET".into()];
            }
            let pat = if detail {
                format!("{base}/{}/{url}/", vs.detail_pattern)
            } else {
                format!("{base}/{url}/")
            };
            let draft = self.draft(
                methods,
                pat,
                Some((af, mi)),
                self.idx.def_symbol(af, mi),
                vec![],
                fi,
                c.pos,
                &fw.name,
            );
            g.obj(key, &fw.name, (fi, c.pos))
                .items
                .push(Item::Route(draft));
        }
    }

    fn viewset_actions(&self, f: usize, d: usize, vs: &ViewsetSpec, depth: u32) -> Vec<String> {
        if depth > 8 {
            return vec![];
        }
        let file = &self.idx.files[f];
        let def = &file.defs[d];
        let prefix = format!("{}.", def.name);
        let mut out: Vec<String> = file
            .defs
            .iter()
            .filter(|m| m.parent == Some(d))
            .filter_map(|m| m.name.strip_prefix(&prefix))
            .filter(|n| vs.list.contains_key(*n) || vs.detail.contains_key(*n))
            .map(str::to_string)
            .collect();
        for b in &def.bases {
            match self.idx.resolve_expr(f, def.parent, b) {
                Some(Target::External(q)) => {
                    if let Some(a) = vs.bases.get(&*q) {
                        out.extend(a.iter().cloned());
                    }
                }
                Some(Target::Def(bf, bd)) => {
                    out.extend(self.viewset_actions(bf, bd, vs, depth + 1))
                }
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Methods decorated as extra actions: (def, decorator index).
    fn extra_actions(
        &self,
        f: usize,
        d: usize,
        vs: &ViewsetSpec,
        depth: u32,
    ) -> Vec<(usize, usize, usize)> {
        if depth > 8 {
            return vec![];
        }
        let file = &self.idx.files[f];
        let def = &file.defs[d];
        let mut out = vec![];
        for (mi, m) in file
            .defs
            .iter()
            .enumerate()
            .filter(|(_, m)| m.parent == Some(d))
        {
            for (i, dec) in m.decorators.iter().enumerate() {
                let func = match dec {
                    Expr::Call(c) => &c.func,
                    o => o,
                };
                if let Some(Target::External(q)) =
                    self.idx.resolve_expr(f, def.parent.or(Some(d)), func)
                {
                    if vs.extra_actions.iter().any(|a| a == &*q) {
                        out.push((f, mi, i));
                    }
                }
            }
        }
        for b in &def.bases {
            if let Some(Target::Def(bf, bd)) = self.idx.resolve_expr(f, def.parent, b) {
                if (bf, bd) != (f, d) {
                    out.extend(self.extra_actions(bf, bd, vs, depth + 1));
                }
            }
        }
        out
    }

    /// A handler expression: a function, a method, a class (`View.as_view()`).
    fn handler(
        &self,
        fi: usize,
        scope: Option<usize>,
        h: &Expr,
    ) -> (Option<(usize, usize)>, String) {
        let sp = self.specs(fi);
        let h = match h {
            Expr::Call(c) => match split_method(&c.func) {
                Some((recv, m)) if sp.view_calls.contains(m) => recv,
                // A view wrapped in a decorator call: `login_required(View.as_view())`.
                _ => match c.positional(0) {
                    Some(inner @ Expr::Call(_)) => return self.handler(fi, scope, inner),
                    Some(inner @ Expr::Name(..))
                        if self
                            .idx
                            .resolve_expr(fi, scope, inner)
                            .is_some_and(|t| matches!(t, Target::Def(..))) =>
                    {
                        return self.handler(fi, scope, inner)
                    }
                    _ => h.clone(),
                },
            },
            other => other.clone(),
        };
        match self.idx.resolve_expr(fi, scope, &h) {
            Some(Target::Def(f, d)) => (Some((f, d)), self.idx.def_symbol(f, d)),
            Some(t) => (None, self.idx.symbol(&t)),
            None => (None, h.display()),
        }
    }

    /// The method → action map of `View.as_view({"get": "list", "post":
    /// "create"})` (Django REST framework's ViewSets), methods upper-cased.
    fn action_map(&self, h: &Expr) -> Option<Vec<(String, String)>> {
        let Expr::Call(c) = h else { return None };
        let Some(Expr::Dict(kv)) = c.positional(0).or_else(|| c.kwarg("actions")) else {
            return None;
        };
        let out: Vec<(String, String)> = kv
            .iter()
            .filter_map(|(k, v)| match (k, v) {
                (Expr::Str(m), Expr::Str(a)) => {
                    http_method(m).map(|m| (m.to_string(), a.to_string()))
                }
                _ => None,
            })
            .collect();
        (!out.is_empty()).then_some(out)
    }

    /// The definition of method `name` of class `d`, or of its repository bases.
    fn class_method(&self, f: usize, d: usize, name: &str, depth: u32) -> Option<(usize, usize)> {
        let file = &self.idx.files[f];
        if depth > 6 || file.defs[d].kind != DefKind::Class {
            return None;
        }
        let full = format!("{}.{name}", file.defs[d].name);
        if let Some(mi) = file
            .defs
            .iter()
            .position(|m| m.parent == Some(d) && m.name == full)
        {
            return Some((f, mi));
        }
        file.defs[d].bases.iter().find_map(|b| {
            match self.idx.resolve_expr(f, file.defs[d].parent, b) {
                Some(Target::Def(bf, bd)) => self.class_method(bf, bd, name, depth + 1),
                _ => None,
            }
        })
    }

    /// The HTTP methods a class-based resource serves: its own methods named
    /// like HTTP methods (else its repository bases'), each with the method
    /// definition (file, index: a base's may be in another file); a class
    /// with none serves GET.
    fn class_methods(&self, f: usize, d: usize) -> Vec<(String, Option<(usize, usize)>)> {
        let mut out = self.own_methods(f, d, 0);
        if out.is_empty() {
            out.push(("GET".into(), None));
        }
        out
    }

    fn own_methods(&self, f: usize, d: usize, depth: u32) -> Vec<(String, Option<(usize, usize)>)> {
        let file = &self.idx.files[f];
        if file.defs[d].kind != DefKind::Class || depth > 6 {
            return vec![];
        }
        let prefix = format!("{}.", file.defs[d].name);
        let mut out: Vec<(String, Option<(usize, usize)>)> = file
            .defs
            .iter()
            .enumerate()
            .filter(|(_, m)| m.parent == Some(d))
            .filter_map(|(mi, m)| m.name.strip_prefix(&prefix).map(|n| (n, mi)))
            .filter(|(n, _)| !matches!(*n, "options"))
            .filter_map(|(n, mi)| {
                http_method(n)
                    .filter(|m| *m != "ANY")
                    .map(|m| (m.to_string(), Some((f, mi))))
            })
            .collect();
        if out.is_empty() {
            for b in &file.defs[d].bases {
                match self.idx.resolve_expr(f, file.defs[d].parent, b) {
                    Some(Target::Def(bf, bd)) => out.extend(self.own_methods(bf, bd, depth + 1)),
                    // A catalogued library view (`ObtainAuthToken` serves POST).
                    Some(Target::External(q)) => {
                        if let Some(ms) = self.specs(f).view_bases.get(&*q) {
                            out.extend(ms.iter().map(|m| (m.clone(), None)));
                        }
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// Methods a function view is restricted to by a decorator: catalogued
    /// (`@require_POST`, `@api_view(["GET"])`) or a repository decorator
    /// factory that answers 405 for other methods (`@cors("GET", "POST")`).
    fn restricted(&self, f: usize, d: usize) -> Option<Vec<String>> {
        let sp = self.specs(f);
        let def = &self.idx.files[f].defs[d];
        for dec in &def.decorators {
            let (func, call) = match dec {
                Expr::Call(c) => (&c.func, Some(c.as_ref())),
                o => (o, None),
            };
            match self.idx.resolve_expr(f, def.parent, func) {
                Some(Target::External(q)) => {
                    let Some(&(si, ri)) = sp.restrict.get(&*q) else {
                        continue;
                    };
                    let r = &self.spec(f, si).restrict[ri];
                    if let Some(e) = call.and_then(|c| r.methods_arg.as_ref().and_then(|a| a.of(c)))
                    {
                        let m = self.methods_of(f, def.parent, e);
                        if !m.is_empty() {
                            return Some(m);
                        }
                    }
                    if !r.methods.is_empty() {
                        return Some(r.methods.clone());
                    }
                }
                Some(Target::Def(df, dd)) => {
                    let Some(c) = call else { continue };
                    let s = self.gc.sum.of(df, dd);
                    if !s.not_allowed {
                        continue;
                    }
                    let mut m: Vec<String> = c
                        .args
                        .iter()
                        .filter(|a| a.name.is_none())
                        .flat_map(|a| self.methods_of(f, def.parent, &a.value))
                        .filter(|m| http_method(m).is_some())
                        .collect();
                    m.sort();
                    m.dedup();
                    if !m.is_empty() {
                        return Some(m);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The framework whose handler marks a handler carries (DRF views in Django lists).
    fn marked(&self, f: usize, d: usize) -> Option<String> {
        let def = &self.idx.files[f].defs[d];
        let owner = def
            .parent
            .filter(|&p| self.idx.files[f].defs[p].kind == DefKind::Class);
        let (cf, cd) = match owner {
            Some(p) => (f, p),
            None => (f, d),
        };
        let c = &self.idx.files[cf].defs[cd];
        for fw in &self.specs(f).all {
            if fw.handler_marks.is_empty() {
                continue;
            }
            let hit = c.decorators.iter().chain(c.bases.iter()).any(|e| {
                let e = match e {
                    Expr::Call(c) => &c.func,
                    o => o,
                };
                matches!(self.idx.resolve_expr(cf, c.parent, e), Some(Target::External(q))
                    if fw.handler_marks.iter().any(|p| crate::catalog::matches(p, &q)))
            });
            if hit {
                return Some(fw.name.clone());
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn draft(
        &self,
        methods: Vec<String>,
        pattern: String,
        handler: Option<(usize, usize)>,
        handler_symbol: String,
        guards: Vec<Guard>,
        file: usize,
        pos: Pos,
        framework: &str,
    ) -> RouteDraft {
        let condition = condition_at(self.idx, file, pos);
        RouteDraft {
            condition,
            router: String::new(),
            methods,
            pattern,
            handler,
            handler_symbol,
            guards,
            file,
            pos,
            framework: framework.to_string(),
        }
    }

    // ------------------------------------------------------------ rust

    /// Handlers with route attributes: each is a small object of its own that
    /// a mount adopts (`.service(h)`, `routes![h]`).
    fn attributes(&self, g: &mut Graph) {
        for (fi, f) in self.idx.files.iter().enumerate() {
            let sp = self.specs(fi);
            if !sp.attributes {
                continue;
            }
            for (di, d) in f.defs.iter().enumerate() {
                'dec: for dec in &d.decorators {
                    let Expr::Call(c) = dec else { continue };
                    let Expr::Name(attr, _) = &c.func else {
                        continue;
                    };
                    let name = last(attr);
                    for (si, fw) in sp.all.iter().enumerate() {
                        for a in &fw.attribute {
                            let Some(methods) = a.names.get(name) else {
                                continue;
                            };
                            // The attribute resolves under the framework, or is a bare
                            // name (`#[macro_use] extern crate rocket`) when its
                            // spec has a plain method-named attribute.
                            let resolved = match self.idx.resolve_name(fi, None, attr) {
                                Some(Target::External(q)) => {
                                    a.resolves_under.iter().any(|u| q.starts_with(u.as_str()))
                                        || (!q.contains("::") && !methods.is_empty())
                                }
                                _ => false,
                            };
                            if !resolved {
                                continue;
                            }
                            let Some(path_e) = a.path.of(c) else { continue };
                            let Some(path) = path_e.as_str() else {
                                continue;
                            };
                            let path = match a.query.as_deref().and_then(|q| path.find(q)) {
                                Some(i) => &path[..i],
                                None => path,
                            };
                            let methods = if methods.is_empty() {
                                // `#[utoipa::path(get, path = "/x")]`
                                c.args
                                    .iter()
                                    .filter(|x| x.name.is_none())
                                    .find_map(|x| match &x.value {
                                        Expr::Name(n, _) => http_method(n).map(str::to_string),
                                        _ => None,
                                    })
                                    .map(|m| vec![m])
                                    .unwrap_or_default()
                            } else {
                                methods.clone()
                            };
                            if methods.is_empty() {
                                continue;
                            }
                            let key = format!("{}#route", self.idx.def_symbol(fi, di));
                            let fwname = match self.idx.resolve_name(fi, None, attr) {
                                Some(Target::External(q)) if q.contains("::") => fw.name.clone(),
                                _ => "custom".to_string(),
                            };
                            let draft = self.draft(
                                methods,
                                path.to_string(),
                                Some((fi, di)),
                                self.idx.def_symbol(fi, di),
                                vec![],
                                fi,
                                c.pos,
                                &fwname,
                            );
                            g.obj(&key, &fwname, (fi, c.pos))
                                .items
                                .push(Item::Route(draft));
                            if fwname != "custom" {
                                self.kinds.borrow_mut().insert(key.clone(), (f.lang, si));
                            }
                            if a.mounted_only {
                                self.mounted_only.borrow_mut().push(key.clone());
                            }
                            self.attr_routes.borrow_mut().insert((fi, di), key);
                            // One route per attribute, whichever spec read it.
                            continue 'dec;
                        }
                    }
                }
            }
        }
    }

    /// Builder chains on objects, wherever they are written: `let` values,
    /// returned values, closure bodies, statements (`cfg.service(...)`).
    fn chains(&self, g: &mut Graph) {
        for (fi, f) in self.idx.files.iter().enumerate() {
            if !self.specs(fi).chains {
                continue;
            }
            // Functions returning an object: their own object.
            for (di, d) in f.defs.iter().enumerate() {
                for r in &d.returns {
                    if !matches!(r, Expr::Call(_) | Expr::Name(..))
                        || self.chain_base(g, fi, Some(di), r, 0).is_none()
                    {
                        continue;
                    }
                    let key = self.idx.def_symbol(fi, di);
                    if !g.objs.contains_key(&key) {
                        self.build_chain(g, fi, Some(di), r, &key, 0);
                    }
                }
            }
            for (ai, a) in f.assigns.iter().enumerate() {
                if !matches!(a.value, Expr::Call(_) | Expr::Name(..))
                    || self.vars.borrow().contains_key(&(fi, ai))
                {
                    continue;
                }
                self.building.borrow_mut().insert((fi, ai));
                if self.chain_base(g, fi, a.scope.get(), &a.value, 0).is_some() {
                    let key = self.idx.var_symbol(fi, ai);
                    self.vars.borrow_mut().insert((fi, ai), key.clone());
                    let k = self.build_chain(g, fi, a.scope.get(), &a.value, &key, 0);
                    self.vars.borrow_mut().insert((fi, ai), k);
                }
                self.building.borrow_mut().remove(&(fi, ai));
            }
            // Closure bodies, in any call: `HttpServer::new(|| App::new()...)`.
            for (c, scope) in self.idx.calls(fi) {
                for a in &c.args {
                    if let Expr::Closure(body) = &a.value {
                        if self.chain_base(g, fi, scope, body.as_ref(), 0).is_some() {
                            let key = format!("{}@{}:{}", f.path, c.pos.line, c.pos.column);
                            self.build_chain(g, fi, scope, body.as_ref(), &key, 0);
                        }
                    }
                }
            }
            // Statements, and chains nested in a statement's arguments
            // (`Ok(if c { router.layer(l) } else { router })`).
            // Only chains with a method some spec reads are looked at, found
            // without copying anything.
            let names = &self.specs(fi).names;
            let mut stmts: Vec<(&CallExpr, Option<usize>)> = vec![];
            for call in &f.calls {
                if spine(&call.call, names).0 {
                    stmts.push((&call.call, call.scope.get()));
                }
                let mut stack: Vec<(&Expr, u32)> =
                    call.call.args.iter().map(|a| (&a.value, 0)).collect();
                while let Some((e, d)) = stack.pop() {
                    if d > 4 {
                        continue;
                    }
                    match e {
                        Expr::Mix(xs) | Expr::List(xs) => {
                            stack.extend(xs.iter().map(|x| (x, d + 1)))
                        }
                        Expr::Call(inner) => match spine(inner, names) {
                            (true, true) => stmts.push((inner, call.scope.get())),
                            (false, true) => {}
                            _ => stack.extend(inner.args.iter().map(|a| (&a.value, d + 1))),
                        },
                        _ => {}
                    }
                }
            }
            for &(c, scope) in &stmts {
                if self.seen.borrow().contains(&(fi, c.pos)) {
                    continue;
                }
                // Statements on an existing object: `cfg.service(...)`, `app.route(...)`.
                let whole = Expr::Call(Box::new(c.clone()));
                let (base, ops) = flatten(&whole);
                if ops.is_empty() {
                    continue;
                }
                match &base {
                    Expr::Name(..) => {
                        if let Some(key) = self.object_of_rust(g, fi, scope, &base) {
                            self.apply_ops(g, fi, scope, &key, &ops, 0);
                        }
                    }
                    // `App::new().configure(..)` as a statement: an object of its own.
                    Expr::Call(_) => {
                        if matches!(
                            self.chain_base(g, fi, scope, &whole, 0),
                            Some(Base::New(..))
                        ) {
                            let key = format!("{}@{}:{}", f.path, c.pos.line, c.pos.column);
                            self.build_chain(g, fi, scope, &whole, &key, 0);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The object at the base of a chain: a constructor (a new object), an
    /// object variable, a parameter of an object type, a function returning one.
    fn chain_base(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        depth: u32,
    ) -> Option<Base> {
        if depth > 8 || self.nesting.get() > MAX_NESTING {
            return None;
        }
        let base = chain_root(e);
        match base.as_ref() {
            Expr::Call(c) => match self.idx.resolve_expr(fi, scope, &c.func)? {
                Target::External(q) => {
                    let sp = self.specs(fi);
                    let found = sp
                        .ctor
                        .get(&*q)
                        .or_else(|| q.strip_suffix("::new").and_then(|t| sp.ctor.get(t)));
                    found.map(|&(si, oi)| Base::New(si, oi))
                }
                Target::Def(df, dd) => {
                    let d = &self.idx.files[df].defs[dd];
                    if d.returns
                        .iter()
                        .any(|r| self.chain_base(g, df, Some(dd), r, depth + 1).is_some())
                    {
                        Some(Base::Fn(df, dd))
                    } else {
                        None
                    }
                }
                _ => None,
            },
            Expr::Name(..) => {
                let key = self.object_of_rust(g, fi, scope, &base)?;
                Some(Base::Obj(key))
            }
            _ => None,
        }
    }

    /// A Rust name that denotes an object: a variable (the last `let` before
    /// its use), or a parameter of an object type.
    fn object_of_rust(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
    ) -> Option<String> {
        let Expr::Name(n, p) = e else { return None };
        let f = &self.idx.files[fi];
        if let Some(s) = scope {
            let hit = f
                .assigns
                .iter()
                .enumerate()
                .filter(|(i, a)| {
                    a.scope.get() == Some(s)
                        && a.target == *n
                        && a.pos < *p
                        && !self.building.borrow().contains(&(fi, *i))
                })
                .map(|(i, _)| i)
                .next_back();
            if let Some(ai) = hit {
                if let Some(k) = self.vars.borrow().get(&(fi, ai)) {
                    return Some(k.clone());
                }
                let a = &f.assigns[ai];
                self.building.borrow_mut().insert((fi, ai));
                let base = self.chain_base(g, fi, a.scope.get(), &a.value, 1).is_some();
                let out = if base {
                    let key = self.idx.var_symbol(fi, ai);
                    self.vars.borrow_mut().insert((fi, ai), key.clone());
                    let k = self.build_chain(g, fi, a.scope.get(), &a.value, &key, 1);
                    self.vars.borrow_mut().insert((fi, ai), k.clone());
                    Some(k)
                } else {
                    None
                };
                self.building.borrow_mut().remove(&(fi, ai));
                return out;
            }
        }
        match self.idx.resolve_name(fi, scope, n) {
            Some(Target::Var(vf, va)) => self.vars.borrow().get(&(vf, va)).cloned(),
            None => {
                // A parameter: an object when its type is one, or when the
                // function is configured onto one (`.configure(f)`).
                let key = self.param_object(g, fi, scope, n)?;
                let typed = self.kinds.borrow().contains_key(&key);
                let configured = self.params.borrow().iter().any(|((f2, d2, _), k)| {
                    *k == key && self.configured_fns.borrow().contains(&(*f2, *d2))
                });
                if typed || configured {
                    Some(key)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Read a builder chain into object `key`; the object it ends up in is
    /// returned (`let app = app.wrap(..)` continues the object `app` was).
    fn build_chain(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        key: &str,
        depth: u32,
    ) -> String {
        if depth > 8 || self.nesting.get() > MAX_NESTING {
            return key.to_string();
        }
        self.nesting.set(self.nesting.get() + 1);
        if let Some(p) = e.pos() {
            self.seen.borrow_mut().insert((fi, p));
        }
        let k = self.build_chain_inner(g, fi, scope, e, key, depth);
        self.nesting.set(self.nesting.get() - 1);
        k
    }

    fn build_chain_inner(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        key: &str,
        depth: u32,
    ) -> String {
        let (_, ops) = flatten(e);
        let origin = (fi, e.pos().unwrap_or_default());
        match self.chain_base(g, fi, scope, e, depth) {
            Some(Base::New(si, oi)) => {
                let os = &self.spec(fi, si).object[oi];
                let (base, _) = flatten(e);
                let prefix = match (&base, &os.prefix) {
                    (Expr::Call(c), Some(a)) => a
                        .of(c)
                        .map(|x| self.path(fi, scope, x).0)
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                self.obj(g, key, self.idx.files[fi].lang, si, origin);
                if let Some(o) = g.objs.get_mut(key) {
                    o.framework = self.spec(fi, si).name.clone();
                    o.prefix = prefix;
                }
            }
            Some(Base::Obj(k)) => {
                // `let app = app.layer(..)`: the same router continued; the
                // new name stands for it.
                self.apply_ops(g, fi, scope, &k, &ops, depth);
                return k;
            }
            Some(Base::Fn(df, dd)) => {
                let child = self.router_fn(g, df, dd, depth);
                let fw = self.framework_of(g, &child);
                g.mount(key, &fw, origin, String::new(), child, vec![]);
            }
            None => return key.to_string(),
        }
        self.apply_ops(g, fi, scope, key, &ops, depth);
        key.to_string()
    }

    fn router_fn(&self, g: &mut Graph, df: usize, dd: usize, depth: u32) -> String {
        let key = self.idx.def_symbol(df, dd);
        if !g.objs.contains_key(&key) {
            g.obj(&key, "custom", (df, self.idx.files[df].defs[dd].pos));
            if let Some(r) = self.idx.files[df].defs[dd].returns.first() {
                self.build_chain(g, df, Some(dd), r, &key, depth + 1);
            }
        }
        key
    }

    /// Apply chain methods to an object.
    fn apply_ops(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        ops: &[(String, &CallExpr)],
        depth: u32,
    ) {
        let sp = self.specs(fi);
        for (m, c) in ops {
            let Some(cands) = sp.chain.get(m.as_str()) else {
                continue;
            };
            let kind = self.kinds.borrow().get(key).copied();
            // The spec of the object's framework first, then any (a parameter object).
            let mut pick = None;
            for &(si, ci) in cands {
                let ch = &self.spec(fi, si).chain[ci];
                if ch.arity.is_some_and(|n| n != c.args.len()) {
                    continue;
                }
                match kind {
                    Some((_, ks)) if ks == si => {
                        pick = Some((si, ci));
                        break;
                    }
                    _ => {
                        if pick.is_none() {
                            pick = Some((si, ci));
                        }
                    }
                }
            }
            let Some((si, ci)) = pick else { continue };
            let ch = &self.spec(fi, si).chain[ci];
            if g.objs.get(key).is_some_and(|o| o.framework == "custom") {
                if let Some(o) = g.objs.get_mut(key) {
                    o.framework = self.spec(fi, si).name.clone();
                }
                self.kinds
                    .borrow_mut()
                    .insert(key.to_string(), (self.idx.files[fi].lang, si));
            }
            let fw = self.framework_of(g, key);
            let target = ch.target.as_ref().and_then(|a| a.of(c));
            let path = ch
                .path
                .as_ref()
                .and_then(|a| a.of(c))
                .map(|e| self.path(fi, scope, e).0);
            match ch.op {
                ChainOp::Route => {
                    let Some(t) = target else { continue };
                    self.method_router(
                        g,
                        fi,
                        scope,
                        key,
                        &fw,
                        path.as_deref().unwrap_or(""),
                        t,
                        c.pos,
                    );
                }
                ChainOp::To => {
                    let Some(h) = target else { continue };
                    let (handler, sym) = self.rust_handler(fi, scope, h);
                    let draft = self.draft(
                        vec!["ANY".into()],
                        String::new(),
                        handler,
                        sym,
                        vec![],
                        fi,
                        c.pos,
                        &fw,
                    );
                    g.obj(key, &fw, (fi, c.pos)).items.push(Item::Route(draft));
                }
                ChainOp::Mount | ChainOp::Routes => {
                    let Some(t) = target else { continue };
                    let prefix = path.unwrap_or_default();
                    for child in self.children(g, fi, scope, t, &fw, depth) {
                        g.mount(key, &fw, (fi, c.pos), prefix.clone(), child, vec![]);
                    }
                }
                ChainOp::Layer => {
                    let Some(t) = target else { continue };
                    let gs = self.gc.classify(fi, scope, t, "middleware");
                    g.obj(key, &fw, (fi, c.pos)).items.push(Item::Layer(gs));
                }
                ChainOp::Wrap => {
                    let Some(t) = target else { continue };
                    let gs = self.gc.classify(fi, scope, t, "middleware");
                    if std::env::var_os("THREATSCAN_DEBUG_ROUTES").is_some() {
                        eprintln!(
                            "wrap {} -> {:?} ({} guards)",
                            t.display(),
                            self.idx.resolve_expr(
                                fi,
                                scope,
                                match t {
                                    Expr::Call(c) => &c.func,
                                    o => o,
                                }
                            ),
                            gs.len()
                        );
                    }
                    g.obj(key, &fw, (fi, c.pos)).guards.extend(gs);
                }
                ChainOp::Configure => {
                    let Some(t) = target else { continue };
                    for child in self.configured(g, fi, scope, t) {
                        g.mount(key, &fw, (fi, c.pos), String::new(), child, vec![]);
                    }
                }
                ChainOp::Guard => {
                    let Some(t) = target else { continue };
                    let methods = self.method_guard(fi, scope, t);
                    if !methods.is_empty() {
                        if let Some(o) = g.objs.get_mut(key) {
                            o.methods = methods;
                        }
                    }
                }
            }
        }
    }

    /// The objects a mount argument denotes: a router, a handler with a route
    /// attribute, a route collection (`routes![..]`, a function returning
    /// one), a chain written in place.
    fn children(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        fw: &str,
        depth: u32,
    ) -> Vec<String> {
        let sp = self.specs(fi);
        match e {
            Expr::Macro(m)
                if sp.collection_macros.contains_key(m.name.as_str())
                    || sp.collection_macros.contains_key(last(&m.name)) =>
            {
                let mut out = vec![];
                for p in &m.parts {
                    if let Some(Target::Def(hf, hd)) = self.idx.resolve_expr(fi, scope, p) {
                        let k = self.attr_routes.borrow().get(&(hf, hd)).cloned();
                        if let Some(k) = k {
                            self.adopt(g, &k, fw);
                            out.push(k);
                        }
                    }
                }
                return out;
            }
            Expr::Call(c) if matches!(&c.func, Expr::Name(n, _) if n.ends_with('!')) => {
                // A macro recorded as a call.
                let Expr::Name(n, p) = &c.func else {
                    unreachable!()
                };
                let m = Expr::Macro(Box::new(crate::extract::MacroCall {
                    name: n.trim_end_matches('!').to_string(),
                    parts: c.args.iter().map(|a| a.value.clone()).collect(),
                    pos: *p,
                }));
                return self.children(g, fi, scope, &m, fw, depth);
            }
            _ => {}
        }
        if let Some(Target::Def(hf, hd)) = self.idx.resolve_expr(fi, scope, e) {
            let k = self.attr_routes.borrow().get(&(hf, hd)).cloned();
            if let Some(k) = k {
                self.adopt(g, &k, fw);
                return vec![k];
            }
        }
        // A function returning a collection or a router.
        if let Expr::Call(c) = e {
            if let Some(Target::Def(df, dd)) = self.idx.resolve_expr(fi, scope, &c.func) {
                let coll = self.collection_fn(g, df, dd, fw, depth);
                if !coll.is_empty() {
                    return coll;
                }
            }
        }
        if let Expr::Name(..) = e {
            if let Some(k) = self.object_of_rust(g, fi, scope, e) {
                return vec![k];
            }
            let coll = self.collection_var(g, fi, scope, e, fw, depth);
            if !coll.is_empty() {
                return coll;
            }
        }
        let (base, ops) = flatten(e);
        if ops.is_empty() {
            match self.chain_base(g, fi, scope, &base, depth + 1) {
                Some(Base::Fn(df, dd)) => return vec![self.router_fn(g, df, dd, depth)],
                Some(Base::Obj(k)) => return vec![k],
                _ => {}
            }
        }
        if self.chain_base(g, fi, scope, e, depth + 1).is_none() {
            return vec![];
        }
        let p = e.pos().unwrap_or_default();
        let key = format!("{}@{}:{}", self.idx.files[fi].path, p.line, p.column);
        self.build_chain(g, fi, scope, e, &key, depth + 1);
        vec![key]
    }

    /// The route collection a function returns: `routes![..]`, or a vector
    /// built with `append`/`extend`/`push`.
    fn collection_fn(
        &self,
        g: &mut Graph,
        df: usize,
        dd: usize,
        fw: &str,
        depth: u32,
    ) -> Vec<String> {
        if depth > 8 {
            return vec![];
        }
        if let Some(v) = self.collections.borrow().get(&(df, dd)) {
            return v.clone();
        }
        self.collections.borrow_mut().insert((df, dd), vec![]);
        let d = &self.idx.files[df].defs[dd];
        let mut out = vec![];
        // What it returns, and the arms of a `match` it may return through.
        let arms: Vec<&Expr> = self.idx.files[df]
            .stmts
            .iter()
            .filter(|s| s.scope.get() == Some(dd) && s.kind == crate::extract::StmtKind::Arm)
            .map(|s| &s.value)
            .filter(|v| {
                matches!(v, Expr::Macro(..))
                    || matches!(v, Expr::Call(c) if matches!(&c.func, Expr::Name(n, _) if n.ends_with('!')))
            })
            .collect();
        for r in d.returns.iter().chain(arms) {
            let parts: Vec<&Expr> = match r {
                // `if c { routes![a] } else { routes![b] }`
                Expr::Mix(xs) => xs.iter().collect(),
                other => vec![other],
            };
            for r in parts {
                match r {
                    Expr::Macro(..) => out.extend(self.children(g, df, Some(dd), r, fw, depth + 1)),
                    Expr::Name(..) => {
                        out.extend(self.collection_var(g, df, Some(dd), r, fw, depth + 1))
                    }
                    Expr::Call(c) if matches!(&c.func, Expr::Name(n, _) if n.ends_with('!')) => {
                        out.extend(self.children(g, df, Some(dd), r, fw, depth + 1))
                    }
                    Expr::Call(c) => {
                        if let Some(Target::Def(f2, d2)) =
                            self.idx.resolve_expr(df, Some(dd), &c.func)
                        {
                            out.extend(self.collection_fn(g, f2, d2, fw, depth + 1));
                        }
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out.dedup();
        self.collections.borrow_mut().insert((df, dd), out.clone());
        out
    }

    /// A variable holding a route collection, with what is appended to it.
    fn collection_var(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        fw: &str,
        depth: u32,
    ) -> Vec<String> {
        let Expr::Name(n, _) = e else { return vec![] };
        let f = &self.idx.files[fi];
        let mut out = vec![];
        let mut found = false;
        for a in f
            .assigns
            .iter()
            .filter(|a| a.scope.get() == scope && a.target == *n)
        {
            found = true;
            out.extend(self.children(g, fi, scope, &a.value, fw, depth + 1));
        }
        if !found {
            return vec![];
        }
        // `routes.append(&mut other::routes())`, `routes.extend(...)`.
        for (_, c) in self.idx.calls_in(fi, scope) {
            if let Some((recv, m)) = split_method(&c.func) {
                if matches!(m, "append" | "extend" | "push")
                    && matches!(&recv, Expr::Name(r, _) if r == n)
                {
                    if let Some(a) = c.positional(0) {
                        out.extend(self.children(g, fi, scope, a, fw, depth + 1));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// `.configure(f)` / `.configure(|cfg| f(cfg, ..))`: the object `f`'s
    /// parameter stands for.
    fn configured(&self, g: &mut Graph, fi: usize, scope: Option<usize>, e: &Expr) -> Vec<String> {
        let (ff, fd) = match e {
            Expr::Closure(body) => {
                // The function the closure hands its parameter to.
                let Expr::Call(c) = body.as_ref() else {
                    return vec![];
                };
                match self.idx.resolve_expr(fi, scope, &c.func) {
                    Some(Target::Def(a, b)) => (a, b),
                    _ => return vec![],
                }
            }
            other => match self.idx.resolve_expr(fi, scope, other) {
                Some(Target::Def(a, b)) => (a, b),
                _ => return vec![],
            },
        };
        let d = &self.idx.files[ff].defs[fd];
        let Some(p) = d.params.first() else {
            return vec![];
        };
        let pname = p
            .name
            .trim_start_matches(['&'])
            .trim_start_matches("mut ")
            .to_string();
        let key = format!("{}#{}", self.idx.def_symbol(ff, fd), pname);
        self.params.borrow_mut().insert((ff, fd, 0), key.clone());
        self.configured_fns.borrow_mut().insert((ff, fd));
        if !g.objs.contains_key(&key) {
            g.obj(&key, "custom", (ff, d.pos));
        }
        vec![key]
    }

    /// A route attribute's handler object adopts the framework mounting it.
    fn adopt(&self, g: &mut Graph, child: &str, fw: &str) {
        if let Some(o) = g.objs.get_mut(child) {
            if o.framework == "custom" {
                o.framework = fw.to_string();
                for it in &mut o.items {
                    if let Item::Route(r) = it {
                        r.framework = fw.to_string();
                    }
                }
            }
        }
    }

    /// The methods a method guard allows: `guard::Post()`.
    fn method_guard(&self, fi: usize, scope: Option<usize>, e: &Expr) -> Vec<String> {
        let sp = self.specs(fi);
        let Expr::Call(c) = e else { return vec![] };
        let name = match self.idx.resolve_expr(fi, scope, &c.func) {
            Some(Target::External(q)) => q.to_string(),
            _ => c.func.display(),
        };
        let l = last(&name);
        for fw in &sp.all {
            for mr in &fw.method_router {
                if let Some(m) = mr.method_guards.get(l) {
                    return vec![m.clone()];
                }
            }
        }
        vec![]
    }

    fn rust_handler(
        &self,
        fi: usize,
        scope: Option<usize>,
        h: &Expr,
    ) -> (Option<(usize, usize)>, String) {
        match self.idx.resolve_expr(fi, scope, h) {
            Some(Target::Def(df, dd)) => (Some((df, dd)), self.idx.def_symbol(df, dd)),
            Some(t) => (None, self.idx.symbol(&t)),
            None => (None, h.display()),
        }
    }

    /// `get(h).post(h2)`, `web::get().to(h)`, `web::route().guard(guard::Post()).to(h)`:
    /// one route per (method, handler).
    #[allow(clippy::too_many_arguments)]
    fn method_router(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        fw: &str,
        path: &str,
        mr: &Expr,
        pos: Pos,
    ) {
        let sp = self.specs(fi);
        let (base, calls) = flatten(mr);
        let mut steps: Vec<(String, Vec<&Expr>, Pos)> = vec![];
        let mut spec: Option<&MethodRouterSpec> = None;
        if let Expr::Call(bc) = &base {
            let name = match self.idx.resolve_expr(fi, scope, &bc.func) {
                Some(Target::External(q)) => {
                    if let Some(&(si, mi)) = sp.method_router.get(&*q) {
                        spec = Some(&self.spec(fi, si).method_router[mi]);
                    }
                    q.to_string()
                }
                _ => bc.func.display(),
            };
            steps.push((
                last(&name).to_string(),
                bc.args.iter().map(|a| &a.value).collect(),
                bc.pos,
            ));
        } else if let Expr::Name(..) = base {
            // A handler given directly (`.route(h)` is not a form any spec has).
        }
        let Some(spec) = spec else { return };
        for (m, c) in &calls {
            steps.push((m.clone(), c.args.iter().map(|a| &a.value).collect(), c.pos));
        }
        let mut pending: Option<String> = None;
        let mut drafts: Vec<RouteDraft> = vec![];
        let mut layer: Vec<Guard> = vec![];
        let mut restrict: Vec<String> = vec![];
        for (m, args, p) in steps {
            if spec.to.contains(&m) {
                if let Some(h) = args.first() {
                    let method = restrict
                        .first()
                        .cloned()
                        .or(pending.take())
                        .unwrap_or_else(|| "ANY".into());
                    let (handler, sym) = self.rust_handler(fi, scope, h);
                    drafts.push(self.draft(
                        vec![method],
                        path.to_string(),
                        handler,
                        sym,
                        vec![],
                        fi,
                        p,
                        fw,
                    ));
                }
                continue;
            }
            if spec.layers.contains(&m) {
                if let Some(x) = args.first() {
                    layer.extend(self.gc.classify(fi, scope, x, "middleware"));
                }
                continue;
            }
            if m == "guard" {
                if let Some(x) = args.first() {
                    restrict = self.method_guard(fi, scope, x);
                }
                continue;
            }
            if let Some(method) = spec.methods.get(&m) {
                match args.first() {
                    Some(h) if spec.to.is_empty() => {
                        let (handler, sym) = self.rust_handler(fi, scope, h);
                        drafts.push(self.draft(
                            vec![method.clone()],
                            path.to_string(),
                            handler,
                            sym,
                            vec![],
                            fi,
                            p,
                            fw,
                        ));
                    }
                    _ => pending = Some(method.clone()),
                }
            }
        }
        let o = g.obj(key, fw, (fi, pos));
        for mut d in drafts {
            d.guards.extend(layer.iter().cloned());
            o.items.push(Item::Route(d));
        }
    }
}

/// How a registration names its handler.
#[derive(Clone, Copy)]
enum Handler<'e> {
    /// The decorated definition.
    Decorated(usize),
    /// An argument of the registration call.
    Arg,
    /// Given by the call the registration returns.
    Given(&'e Expr),
}

enum Base {
    /// A constructor: (spec, object spec).
    New(usize, usize),
    /// An existing object.
    Obj(String),
    /// A repository function returning a router.
    Fn(usize, usize),
}

/// `a.b(x).c(y)` → (base `a`, [("b", call), ("c", call)]).
/// The base of a chain (what [`flatten`] returns first), copied only when it
/// is the receiver part of a dotted name.
fn chain_root(e: &Expr) -> std::borrow::Cow<'_, Expr> {
    let mut cur = e;
    loop {
        match cur {
            Expr::Call(c) => match &c.func {
                Expr::Attr(a) => cur = &a.base,
                Expr::Name(n, _) if n.contains('.') && !n.contains("::") => {
                    return match split_method(&c.func) {
                        Some((recv, _)) => std::borrow::Cow::Owned(recv),
                        None => std::borrow::Cow::Borrowed(cur),
                    };
                }
                _ => return std::borrow::Cow::Borrowed(cur),
            },
            other => return std::borrow::Cow::Borrowed(other),
        }
    }
}

/// Walk a chain's spine without copying: (does a method on it have one of
/// these names, is its base a plain name).
fn spine(c: &CallExpr, names: &FxHashSet<String>) -> (bool, bool) {
    let mut cur = c;
    let mut named = false;
    loop {
        match &cur.func {
            Expr::Attr(a) => {
                named |= names.contains(a.name.as_str());
                match &a.base {
                    Expr::Call(inner) => cur = inner,
                    base => return (named, matches!(base, Expr::Name(..))),
                }
            }
            Expr::Name(n, _) if n.contains('.') && !n.contains("::") => {
                let m = n.rsplit('.').next().unwrap_or(n);
                return (named || names.contains(m), true);
            }
            _ => return (named, false),
        }
    }
}

pub fn flatten(e: &Expr) -> (Expr, Vec<(String, &CallExpr)>) {
    let mut calls = vec![];
    let mut cur = e;
    let base;
    loop {
        match cur {
            Expr::Call(c) => match &c.func {
                Expr::Attr(a) => {
                    calls.push((a.name.to_string(), c.as_ref()));
                    cur = &a.base;
                }
                Expr::Name(n, _) if n.contains('.') && !n.contains("::") => {
                    let (recv, m) = split_method(&c.func).expect("a dotted name");
                    calls.push((m.to_string(), c.as_ref()));
                    base = recv;
                    break;
                }
                _ => {
                    base = cur.clone();
                    break;
                }
            },
            other => {
                base = other.clone();
                break;
            }
        }
    }
    calls.reverse();
    (base, calls)
}

/// The condition of the innermost `if` whose block holds `pos`.
pub fn condition_at(idx: &Index, file: usize, pos: Pos) -> Option<String> {
    idx.files[file]
        .stmts
        .iter()
        .rev()
        .filter(|s| s.kind == StmtKind::Branch)
        .find(|s| s.body.is_some_and(|(a, b)| a <= pos && pos < b))
        .map(|s| condition_text(&s.value, 0))
}

/// A condition as text: comparisons show their operands
/// (`settings.ENV ~ "development"`), so that what they test can be read.
fn condition_text(e: &Expr, depth: u32) -> String {
    if depth > 8 {
        return "…".into();
    }
    match e {
        Expr::Mix(xs) => xs
            .iter()
            .map(|x| condition_text(x, depth + 1))
            .collect::<Vec<_>>()
            .join(" ~ "),
        Expr::Not(x) => format!("not {}", condition_text(x, depth + 1)),
        Expr::Logic(and, xs) => xs
            .iter()
            .map(|x| condition_text(x, depth + 1))
            .collect::<Vec<_>>()
            .join(if *and { " and " } else { " or " }),
        Expr::Str(v) => format!("{v:?}"),
        other => other.display(),
    }
}

/// The path-parameter rules of the framework named `name` (the
/// repository's own specs first).
pub fn path_params<'a>(user: &'a [FrameworkSpec], name: &str) -> Option<&'a spec::PathParams> {
    user.iter()
        .chain(spec::builtin())
        .find(|f| f.name == name)
        .and_then(|f| f.path_params.as_ref())
}

/// The parameters of route `pattern` that match exactly one path segment
/// under `rules`: `<name>`, `<int:name>`, `{name}`, `{name:int}`, but not
/// `<path:name>`, `{name:path}`, a regex converter, or any parameter of a
/// pattern written as a regular expression (`(?P<name>.*)`).
pub fn one_segment_params(rules: &spec::PathParams, pattern: &str) -> Vec<String> {
    if pattern.contains(['(', '^', '$', '\\']) {
        return vec![];
    }
    let mut out = vec![];
    for (open, close) in [('<', '>'), ('{', '}')] {
        for piece in pattern.split(open).skip(1) {
            let Some((inner, _)) = piece.split_once(close) else {
                continue;
            };
            // Flask/Django put the converter first (`int:id`), Starlette after (`id:int`).
            let (name, conv) = match inner.split_once(':') {
                Some((a, b)) if open == '<' => (b, Some(a)),
                Some((a, b)) => (a, Some(b)),
                None => (inner, None),
            };
            let ident =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !ident(name)
                || conv.is_some_and(|c| !ident(c) || rules.multi_segment.iter().any(|m| m == c))
            {
                continue;
            }
            out.push(name.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{one_segment_params, spec::PathParams};

    #[test]
    fn one_segment_parameters_by_converter() {
        let r = PathParams {
            multi_segment: vec!["path".into()],
        };
        let one = |p: &str| one_segment_params(&r, p);
        assert_eq!(one("/a/<name>/<int:id>/<path:rest>"), ["name", "id"]);
        assert_eq!(one("/a/{name}/{id:int}/{rest:path}"), ["name", "id"]);
        // A regex converter, a regex route and a Rocket tail are not one segment.
        assert!(one("/a/{tail:.*}").is_empty());
        assert!(one(r"^files/(?P<name>[^/]+)$").is_empty());
        assert!(one("/a/<rest..>").is_empty());
    }
}
