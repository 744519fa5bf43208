//! Rust route registrations → router graph.
//!
//! Builder chains are read method by method from their base: `Router::new()`
//! (axum), `App::new()`, `web::scope(..)`, `web::resource(..)` (actix-web),
//! `rocket::build()` (Rocket), a variable holding one, or a repository function
//! returning one. Route attribute macros (`#[get("/x")]`) make a handler its
//! own small router that `.service(h)` or `routes![h]` mounts.
//! Methods: `route`, `nest`, `merge`, `layer`, `route_layer` (axum; layers wrap
//! what was added before them), `service`, `route`, `wrap`, `to` (actix-web;
//! `wrap` covers the whole scope), `mount` (Rocket).

use super::guards::Classifier;
use super::{http_method, Graph, Guard, Item, RouteDraft};
use crate::extract::{split_method, CallExpr, Expr, Pos};
use crate::lang::Lang;
use crate::link::{Index, Target};

struct Ctx<'a, 'b> {
    idx: &'a Index<'a>,
    gc: &'b Classifier<'a>,
}

pub fn build(idx: &Index, gc: &Classifier, g: &mut Graph) {
    let cx = Ctx { idx, gc };
    // Handlers with route attributes.
    for (fi, f) in idx.files.iter().enumerate() {
        if f.lang != Lang::Rust {
            continue;
        }
        for (di, d) in f.defs.iter().enumerate() {
            for dec in &d.decorators {
                let Expr::Call(c) = dec else { continue };
                let Expr::Name(attr, _) = &c.func else {
                    continue;
                };
                let last = attr.rsplit("::").next().unwrap_or(attr);
                let Some(m) = http_method(last) else { continue };
                let Some(path) = c.positional(0).and_then(|e| e.as_str()) else {
                    continue;
                };
                let fw = match idx.resolve_name(fi, None, attr) {
                    Some(Target::External(q)) if q.starts_with("actix_web") => "actix-web",
                    Some(Target::External(q)) if q.starts_with("rocket") => "rocket",
                    _ => "custom",
                };
                let key = route_key(idx, fi, di);
                let draft = RouteDraft {
                    router: String::new(),
                    methods: vec![m.to_string()],
                    pattern: path.to_string(),
                    handler: Some((fi, di)),
                    handler_symbol: idx.def_symbol(fi, di),
                    guards: vec![],
                    file: fi,
                    pos: c.pos,
                    framework: fw.to_string(),
                };
                g.obj(&key, fw, (fi, c.pos)).items.push(Item::Route(draft));
            }
        }
    }
    // Router values: function results, variables, closure bodies.
    for (fi, f) in idx.files.iter().enumerate() {
        if f.lang != Lang::Rust {
            continue;
        }
        for (di, d) in f.defs.iter().enumerate() {
            if let Some(r) = d.returns.first() {
                let key = idx.def_symbol(fi, di);
                if !g.objs.contains_key(&key) && cx.is_router(fi, Some(di), r, 0) {
                    cx.build_chain(g, fi, Some(di), r, &key, 0);
                }
            }
        }
        for (ai, a) in f.assigns.iter().enumerate() {
            if cx.is_router(fi, a.scope, &a.value, 0) {
                let key = idx.var_symbol(fi, ai);
                cx.build_chain(g, fi, a.scope, &a.value, &key, 0);
            }
        }
        for &(c, scope) in cx.idx.calls(fi) {
            for a in &c.args {
                if let Expr::Closure(body) = &a.value {
                    if cx.is_router(fi, scope, body, 0) {
                        let key = format!("{}@{}:{}", f.path, c.pos.line, c.pos.column);
                        cx.build_chain(g, fi, scope, body, &key, 0);
                    }
                }
            }
        }
    }
}

fn route_key(idx: &Index, fi: usize, di: usize) -> String {
    format!("{}#route", idx.def_symbol(fi, di))
}

/// `a.b(x).c(y)` → (base `a`, [("b", call), ("c", call)]).
fn flatten(e: &Expr) -> (Expr, Vec<(String, &CallExpr)>) {
    let mut calls = vec![];
    let mut cur = e;
    let base;
    loop {
        match cur {
            Expr::Call(c) => match &c.func {
                Expr::Attr(recv, m, _) => {
                    calls.push((m.clone(), c.as_ref()));
                    cur = recv;
                }
                Expr::Name(n, _) if n.contains('.') && !n.contains("::") => {
                    let (recv, m) = split_method(&c.func).unwrap();
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

enum Base {
    /// A framework constructor: framework and prefix.
    New(&'static str, String),
    /// A variable holding a router: (file, assign).
    Var(usize, usize),
    /// A repository function returning a router.
    Fn(usize, usize),
}

impl<'a, 'b> Ctx<'a, 'b> {
    fn base(&self, fi: usize, scope: Option<usize>, base: &Expr) -> Option<Base> {
        match base {
            Expr::Call(c) => match self.idx.resolve_expr(fi, scope, &c.func)? {
                Target::External(q) => {
                    let fws = &self.gc.cat.rust.frameworks;
                    let ty = q.strip_suffix("::new").unwrap_or(&q);
                    let fw = fws.get(ty).or_else(|| fws.get(&*q))?;
                    let fw: &'static str = match fw.as_str() {
                        "axum" => "axum",
                        "actix-web" => "actix-web",
                        "rocket" => "rocket",
                        _ => "custom",
                    };
                    let prefix = if q.ends_with("::scope") || q.ends_with("::resource") {
                        c.positional(0)
                            .and_then(|e| e.as_str())
                            .unwrap_or("")
                            .to_string()
                    } else {
                        String::new()
                    };
                    Some(Base::New(fw, prefix))
                }
                Target::Def(df, dd) => {
                    let d = &self.idx.files[df].defs[dd];
                    let r = d.returns.first()?;
                    self.is_router(df, Some(dd), r, 1)
                        .then_some(Base::Fn(df, dd))
                }
                _ => None,
            },
            Expr::Name(n, p) => {
                let (vf, va) = self.local_var(fi, scope, n, *p)?;
                let v = &self.idx.files[vf].assigns[va];
                self.is_router(vf, v.scope, &v.value, 1)
                    .then_some(Base::Var(vf, va))
            }
            _ => None,
        }
    }

    /// The assignment a name refers to at a position (Rust shadowing: the last `let` before the use).
    fn local_var(
        &self,
        fi: usize,
        scope: Option<usize>,
        n: &str,
        at: Pos,
    ) -> Option<(usize, usize)> {
        let f = &self.idx.files[fi];
        if let Some(s) = scope {
            let hit = f
                .assigns
                .iter()
                .enumerate()
                .filter(|(_, a)| a.scope == Some(s) && a.target == n && a.pos < at)
                .map(|(i, _)| i)
                .next_back();
            if let Some(i) = hit {
                return Some((fi, i));
            }
        }
        match self.idx.resolve_name(fi, scope, n)? {
            Target::Var(vf, va) => Some((vf, va)),
            _ => None,
        }
    }

    fn is_router(&self, fi: usize, scope: Option<usize>, e: &Expr, depth: u32) -> bool {
        if depth > 6 {
            return false;
        }
        let (base, _) = flatten(e);
        if let Expr::Name(n, p) = &base {
            // Only follow variables declared before this use.
            if let Some((vf, va)) = self.local_var(fi, scope, n, *p) {
                let v = &self.idx.files[vf].assigns[va];
                if std::ptr::eq(&v.value, e) {
                    return false;
                }
                return self.is_router(vf, v.scope, &v.value, depth + 1);
            }
            return false;
        }
        match &base {
            Expr::Call(c) => match self.idx.resolve_expr(fi, scope, &c.func) {
                Some(Target::External(q)) => {
                    let fws = &self.gc.cat.rust.frameworks;
                    let ty = q.strip_suffix("::new").unwrap_or(&q);
                    fws.contains_key(ty) || fws.contains_key(&*q)
                }
                Some(Target::Def(df, dd)) => self.idx.files[df].defs[dd]
                    .returns
                    .first()
                    .is_some_and(|r| self.is_router(df, Some(dd), r, depth + 1)),
                _ => false,
            },
            _ => false,
        }
    }

    /// Read a builder chain into object `key`.
    fn build_chain(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        key: &str,
        depth: u32,
    ) {
        if depth > 8 {
            return;
        }
        let idx = self.idx;
        let (base, calls) = flatten(e);
        let origin = (fi, e.pos().unwrap_or_default());
        match self.base(fi, scope, &base) {
            Some(Base::New(fw, prefix)) => {
                let o = g.obj(key, fw, origin);
                o.framework = fw.to_string();
                o.prefix = prefix;
            }
            Some(Base::Var(vf, va)) => {
                // `let app = app.layer(..)`: the same router continued.
                let vkey = idx.var_symbol(vf, va);
                g.mounted.insert(vkey);
                let v = &idx.files[vf].assigns[va];
                self.build_chain(g, vf, v.scope, &v.value, key, depth + 1);
            }
            Some(Base::Fn(df, dd)) => {
                let child = self.router_fn(g, df, dd, depth);
                let fw = g
                    .objs
                    .get(&child)
                    .map(|o| o.framework.clone())
                    .unwrap_or_default();
                g.mount(key, &fw, origin, String::new(), child, vec![]);
            }
            None => return,
        }
        let fw = g
            .objs
            .get(key)
            .map(|o| o.framework.clone())
            .unwrap_or_default();
        for (m, c) in calls {
            match (m.as_str(), c.args.len()) {
                ("route", 2) => {
                    let Some(path) = c.positional(0).and_then(|e| idx.str_value(fi, scope, e))
                    else {
                        continue;
                    };
                    let mr = c.positional(1).unwrap();
                    self.method_router(g, fi, scope, key, &fw, &path, mr, c.pos);
                }
                ("route", 1) | ("to", 1) => {
                    // actix resource: `.route(web::get().to(h))` / `.to(h)`
                    let mr = if m == "to" {
                        Expr::Call(Box::new(c.clone()))
                    } else {
                        c.positional(0).unwrap().clone()
                    };
                    let mr = if m == "to" {
                        // A bare `.to(h)` on a resource: any method.
                        Expr::Call(Box::new(CallExpr {
                            func: Expr::Attr(
                                Box::new(Expr::Call(Box::new(CallExpr {
                                    func: Expr::Name("route".into(), c.pos),
                                    args: vec![],
                                    pos: c.pos,
                                    start: c.pos,
                                }))),
                                "to".into(),
                                c.pos,
                            ),
                            args: c.args.clone(),
                            pos: c.pos,
                            start: c.start,
                        }))
                    } else {
                        mr
                    };
                    self.method_router(g, fi, scope, key, &fw, "", &mr, c.pos);
                }
                ("nest", 2) | ("mount", 2) => {
                    let Some(prefix) = c.positional(0).and_then(|e| idx.str_value(fi, scope, e))
                    else {
                        continue;
                    };
                    let child_e = c.positional(1).unwrap();
                    if let Expr::Macro(name, parts, _) = child_e {
                        if name.ends_with("routes") {
                            for p in parts {
                                if let Some(Target::Def(hf, hd)) = idx.resolve_expr(fi, scope, p) {
                                    let child = route_key(idx, hf, hd);
                                    self.adopt(g, &child, &fw);
                                    g.mount(key, &fw, (fi, c.pos), prefix.clone(), child, vec![]);
                                }
                            }
                        }
                        continue;
                    }
                    if let Some(child) = self.child(g, fi, scope, child_e, depth) {
                        g.mount(key, &fw, (fi, c.pos), prefix, child, vec![]);
                    }
                }
                ("merge", 1) | ("service", 1) => {
                    let child_e = c.positional(0).unwrap();
                    if let Some(Target::Def(hf, hd)) = idx.resolve_expr(fi, scope, child_e) {
                        let rk = route_key(idx, hf, hd);
                        if g.objs.contains_key(&rk) {
                            self.adopt(g, &rk, &fw);
                            g.mount(key, &fw, (fi, c.pos), String::new(), rk, vec![]);
                            continue;
                        }
                    }
                    if let Some(child) = self.child(g, fi, scope, child_e, depth) {
                        g.mount(key, &fw, (fi, c.pos), String::new(), child, vec![]);
                    }
                }
                ("layer", 1) | ("route_layer", 1) => {
                    let gs = self
                        .gc
                        .classify(fi, scope, c.positional(0).unwrap(), "middleware");
                    g.obj(key, &fw, (fi, c.pos)).items.push(Item::Layer(gs));
                }
                ("wrap", 1) => {
                    let gs = self
                        .gc
                        .classify(fi, scope, c.positional(0).unwrap(), "middleware");
                    g.obj(key, &fw, (fi, c.pos)).guards.extend(gs);
                }
                _ => {}
            }
        }
    }

    /// A route-attribute handler mounted by a framework takes that framework.
    fn adopt(&self, g: &mut Graph, child: &str, fw: &str) {
        if let Some(o) = g.objs.get_mut(child) {
            o.framework = fw.to_string();
            for it in &mut o.items {
                if let Item::Route(r) = it {
                    r.framework = fw.to_string();
                }
            }
        }
    }

    fn router_fn(&self, g: &mut Graph, df: usize, dd: usize, depth: u32) -> String {
        let key = self.idx.def_symbol(df, dd);
        if !g.objs.contains_key(&key) {
            if let Some(r) = self.idx.files[df].defs[dd].returns.first() {
                self.build_chain(g, df, Some(dd), r, &key, depth + 1);
            }
        }
        key
    }

    /// The router object an argument denotes (a function call, a variable, an inline chain).
    fn child(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        e: &Expr,
        depth: u32,
    ) -> Option<String> {
        let (base, calls) = flatten(e);
        if calls.is_empty() {
            match self.base(fi, scope, &base)? {
                Base::Fn(df, dd) => return Some(self.router_fn(g, df, dd, depth)),
                Base::Var(vf, va) => {
                    let key = self.idx.var_symbol(vf, va);
                    if !g.objs.contains_key(&key) {
                        let v = &self.idx.files[vf].assigns[va];
                        self.build_chain(g, vf, v.scope, &v.value, &key, depth + 1);
                    }
                    return Some(key);
                }
                Base::New(..) => {}
            }
        }
        if !self.is_router(fi, scope, e, 0) {
            return None;
        }
        let p = e.pos().unwrap_or_default();
        let key = format!("{}@{}:{}", self.idx.files[fi].path, p.line, p.column);
        self.build_chain(g, fi, scope, e, &key, depth + 1);
        Some(key)
    }

    /// `get(h).post(h2)` (axum), `web::get().to(h)` (actix-web): one route per (method, handler).
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
        let (base, calls) = flatten(mr);
        let mut steps: Vec<(String, Vec<&Expr>, Pos)> = vec![];
        if let Expr::Call(bc) = &base {
            let name = match self.idx.resolve_expr(fi, scope, &bc.func) {
                Some(Target::External(q)) => q.to_string(),
                _ => bc.func.display(),
            };
            let last = name.rsplit("::").next().unwrap_or(&name).to_string();
            steps.push((last, bc.args.iter().map(|a| &a.value).collect(), bc.pos));
        }
        for (m, c) in &calls {
            steps.push((m.clone(), c.args.iter().map(|a| &a.value).collect(), c.pos));
        }
        let mut pending: Option<String> = None;
        let mut drafts: Vec<RouteDraft> = vec![];
        let mut layer: Vec<Guard> = vec![];
        for (m, args, p) in steps {
            let method = match m.as_str() {
                "route" | "any" => Some("ANY"),
                other => http_method(other),
            };
            match (method, args.first()) {
                (Some(hm), Some(h)) if m != "route" => {
                    drafts.push(self.draft(fi, scope, hm, path, h, fw, p))
                }
                (Some(hm), None) => pending = Some(hm.to_string()),
                _ if m == "to" => {
                    if let Some(h) = args.first() {
                        let hm = pending.take().unwrap_or_else(|| "ANY".into());
                        drafts.push(self.draft(fi, scope, &hm, path, h, fw, p));
                    }
                }
                _ if m == "layer" || m == "route_layer" || m == "wrap" => {
                    if let Some(x) = args.first() {
                        layer.extend(self.gc.classify(fi, scope, x, "middleware"));
                    }
                }
                _ => {}
            }
        }
        let o = g.obj(key, fw, (fi, pos));
        for mut d in drafts {
            d.guards.extend(layer.iter().cloned());
            o.items.push(Item::Route(d));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn draft(
        &self,
        fi: usize,
        scope: Option<usize>,
        method: &str,
        path: &str,
        h: &Expr,
        fw: &str,
        pos: Pos,
    ) -> RouteDraft {
        let (handler, sym) = match self.idx.resolve_expr(fi, scope, h) {
            Some(Target::Def(df, dd)) => (Some((df, dd)), self.idx.def_symbol(df, dd)),
            Some(t) => (None, self.idx.symbol(&t)),
            None => (None, h.display()),
        };
        RouteDraft {
            router: String::new(),
            methods: vec![method.to_string()],
            pattern: path.to_string(),
            handler,
            handler_symbol: sym,
            guards: vec![],
            file: fi,
            pos,
            framework: fw.to_string(),
        }
    }
}
