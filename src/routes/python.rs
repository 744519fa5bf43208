//! Python route registrations → router graph.
//!
//! Recognised shapes (framework told by what the receiver was built from, see
//! `[frameworks]` in rules/catalog/python.toml; anything else is `custom`):
//! - decorators `obj.get/post/put/patch/delete/head/options/route/api_route/websocket("/path")`
//! - `obj.add_api_route / add_url_rule / add_route / add_get… / add_routes / add_websocket_route`
//! - mounts `include_router(prefix=) / register_blueprint(url_prefix=) / add_subapp / mount`
//! - Starlette `Route / WebSocketRoute / Mount` lists, Django `urlpatterns` with
//!   `path / re_path / include`, DRF `router.register`
//! - guards at construction (`dependencies=`, `middleware=`, `middlewares=`),
//!   `add_middleware`, `@app.middleware`, `before_request`.

use super::guards::Classifier;
use super::{http_method, Graph, Guard, Item, RouteDraft};
use crate::extract::{method_name, split_method, CallExpr, DefKind, Expr, Pos};
use crate::lang::Lang;
use crate::link::{Index, Target};

struct Ctx<'a, 'b> {
    idx: &'a Index<'a>,
    gc: &'b Classifier<'a>,
}

pub fn build(idx: &Index, gc: &Classifier, g: &mut Graph) {
    let cx = Ctx { idx, gc };
    let py = || {
        idx.files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.lang == Lang::Python)
    };
    // Pass 1: every object built from a framework class, so that later
    // registrations can mount objects defined in any file.
    let mut built: Vec<(usize, usize, String)> = vec![];
    for (fi, f) in py() {
        for (ai, a) in f.assigns.iter().enumerate() {
            if let Expr::Call(_) = &a.value {
                if let Some(fw) = cx.framework_of_assign(fi, ai) {
                    g.obj(&idx.var_symbol(fi, ai), &fw, (fi, a.pos));
                    built.push((fi, ai, fw));
                }
            }
            if a.target == "urlpatterns" && a.scope.is_none() {
                g.obj(
                    &format!("{}:urlpatterns", idx.module[fi]),
                    "django",
                    (fi, a.pos),
                );
            }
        }
    }
    // Pass 2: constructor arguments, decorators, registration calls.
    let mut built = built.into_iter().peekable();
    for (fi, f) in py() {
        while let Some((_, ai, fw)) = built.next_if(|b| b.0 == fi) {
            let a = &f.assigns[ai];
            if let Expr::Call(c) = &a.value {
                let key = idx.var_symbol(fi, ai);
                cx.construct(g, fi, a.scope, &key, &fw, c);
            }
        }
        for a in &f.assigns {
            // Django URL lists.
            if a.target == "urlpatterns" && a.scope.is_none() {
                let key = format!("{}:urlpatterns", idx.module[fi]);
                cx.django_list(g, fi, None, &key, &a.value, 0);
            }
        }
        // Decorated handlers.
        for (di, d) in f.defs.iter().enumerate() {
            for dec in &d.decorators {
                let Expr::Call(c) = dec else {
                    if let Expr::Name(..) = dec {
                        cx.middleware_decorator(g, fi, d.parent, dec, None, di);
                    }
                    continue;
                };
                let Some((recv, method)) = split_method(&c.func) else {
                    continue;
                };
                cx.middleware_decorator(g, fi, d.parent, &c.func, Some(c), di);
                let Some(path) = c
                    .arg(Some("path"), Some(0))
                    .and_then(|e| idx.str_value(fi, d.parent, e))
                else {
                    // aiohttp `@routes.route("PUT", "/x")`
                    continue;
                };
                let (key, fw) = cx.receiver(g, fi, d.parent, &recv);
                let known = fw != "custom";
                let methods = match method {
                    "route" | "api_route" => methods_kw(c).unwrap_or_else(|| vec!["GET".into()]),
                    "websocket" | "websocket_route" | "ws" => vec!["WEBSOCKET".into()],
                    "view" => cx.class_methods(fi, di),
                    m => match http_method(m) {
                        Some(hm) => vec![hm.to_string()],
                        None => continue,
                    },
                };
                if !(path.starts_with('/') || (known && path.is_empty())) {
                    continue;
                }
                let guards = c
                    .kwarg("dependencies")
                    .map(|e| gc.classify(fi, d.parent, e, "dependency"))
                    .unwrap_or_default();
                let draft = RouteDraft {
                    router: String::new(),
                    methods,
                    pattern: path,
                    handler: Some((fi, di)),
                    handler_symbol: idx.def_symbol(fi, di),
                    guards,
                    file: fi,
                    pos: c.pos,
                    framework: fw.clone(),
                };
                g.obj(&key, &fw, (fi, c.pos)).items.push(Item::Route(draft));
            }
        }
        // Registration calls.
        for &(call, scope) in idx.calls(fi) {
            cx.registration(g, fi, scope, call);
        }
    }
}

fn methods_kw(c: &CallExpr) -> Option<Vec<String>> {
    let Expr::List(xs) = c.kwarg("methods")? else {
        return None;
    };
    let mut m: Vec<String> = xs
        .iter()
        .filter_map(|x| x.as_str())
        .map(|s| s.to_ascii_uppercase())
        .collect();
    m.sort();
    m.dedup();
    Some(m)
}

impl<'a, 'b> Ctx<'a, 'b> {
    /// The framework whose class builds an assignment's value (`app = FastAPI()`).
    fn framework_of_assign(&self, fi: usize, ai: usize) -> Option<String> {
        match self.idx.assign_callee(fi, ai)? {
            Target::External(q) => self.gc.cat.python.frameworks.get(&*q).cloned(),
            _ => None,
        }
    }

    /// The router object a receiver expression denotes: its key and framework.
    fn receiver(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        recv: &Expr,
    ) -> (String, String) {
        let idx = self.idx;
        let mut e = recv.clone();
        // aiohttp `app.router.add_get`: the app's router is the app.
        if let Expr::Name(n, p) = recv {
            if let Some(base) = n.strip_suffix(".router") {
                e = Expr::Name(base.to_string(), *p);
            }
        }
        if let Some(Target::Var(vf, va)) = idx.resolve_expr(fi, scope, &e) {
            let key = idx.var_symbol(vf, va);
            let v = &idx.files[vf].assigns[va];
            let fw = self
                .framework_of_assign(vf, va)
                .unwrap_or_else(|| "custom".into());
            g.obj(&key, &fw, (vf, v.pos));
            return (key, fw);
        }
        (
            format!("{}:{}", idx.module[fi], recv.display()),
            "custom".into(),
        )
    }

    /// Constructor keywords: prefix, dependencies, middleware, routes.
    fn construct(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        fw: &str,
        c: &CallExpr,
    ) {
        let prefix = c
            .kwarg("prefix")
            .or_else(|| c.kwarg("url_prefix"))
            .and_then(|e| self.idx.str_value(fi, scope, e))
            .unwrap_or_default();
        let mut guards = vec![];
        if let Some(d) = c.kwarg("dependencies") {
            guards.extend(self.gc.classify(fi, scope, d, "dependency"));
        }
        for k in ["middleware", "middlewares"] {
            if let Some(m) = c.kwarg(k) {
                guards.extend(self.gc.classify(fi, scope, m, "middleware"));
            }
        }
        let o = g.obj(key, fw, (fi, c.pos));
        o.prefix = prefix;
        o.guards.extend(guards);
        if let Some(routes) = c.kwarg("routes") {
            self.starlette_list(g, fi, scope, key, routes, 0);
        }
    }

    /// `@app.middleware("http")`, `@app.before_request`: app-wide guards when the function authenticates.
    fn middleware_decorator(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        func: &Expr,
        call: Option<&CallExpr>,
        di: usize,
    ) {
        let is_mw = match method_name(func) {
            Some("middleware") => call.is_some(),
            Some("before_request" | "before_app_request") => true,
            _ => false,
        };
        if !is_mw {
            return;
        }
        let Some((recv, _)) = split_method(func) else {
            return;
        };
        let (key, fw) = self.receiver(g, fi, scope, &recv);
        let d = &self.idx.files[fi].defs[di];
        let guards = self.gc.classify(
            fi,
            d.parent,
            &Expr::Name(d.name.clone(), d.pos),
            if method_name(func) == Some("middleware") {
                "middleware"
            } else {
                "hook"
            },
        );
        g.obj(&key, &fw, (fi, d.pos)).guards.extend(guards);
    }

    fn registration(&self, g: &mut Graph, fi: usize, scope: Option<usize>, c: &CallExpr) {
        let idx = self.idx;
        // Most calls are not registrations: decide on the method name before
        // building anything.
        let Some(m) = method_name(&c.func) else {
            return;
        };
        let known = matches!(
            m,
            "include_router"
                | "register_blueprint"
                | "add_subapp"
                | "mount"
                | "include_app"
                | "add_routes"
                | "add_middleware"
                | "before_request"
                | "register"
        ) || m.starts_with("add_");
        if !known {
            return;
        }
        let Some((recv, method)) = split_method(&c.func) else {
            return;
        };
        let pos = c.pos;
        let s = |e: &Expr| idx.str_value(fi, scope, e);
        match method {
            "include_router" | "register_blueprint" | "add_subapp" | "mount" | "include_app" => {
                let (child_e, prefix) = if method == "add_subapp" || method == "mount" {
                    (
                        c.arg(Some("app"), Some(1)),
                        c.arg(Some("path"), Some(0)).and_then(s),
                    )
                } else {
                    (
                        c.arg(Some("router"), Some(0))
                            .or_else(|| c.arg(Some("blueprint"), Some(0))),
                        c.kwarg("prefix")
                            .or_else(|| c.kwarg("url_prefix"))
                            .and_then(s),
                    )
                };
                let Some(child_e) = child_e else { return };
                let Some(Target::Var(cf, ca)) = idx.resolve_expr(fi, scope, child_e) else {
                    return;
                };
                let child = idx.var_symbol(cf, ca);
                if !g.objs.contains_key(&child) {
                    return;
                }
                let guards = c
                    .kwarg("dependencies")
                    .map(|e| self.gc.classify(fi, scope, e, "dependency"))
                    .unwrap_or_default();
                let (key, fw) = self.receiver(g, fi, scope, &recv);
                // A blueprint's own url_prefix is replaced by the registration's.
                if method == "register_blueprint" && prefix.is_some() {
                    if let Some(o) = g.objs.get_mut(&child) {
                        o.prefix.clear();
                    }
                }
                g.mount(
                    &key,
                    &fw,
                    (fi, pos),
                    prefix.unwrap_or_default(),
                    child,
                    guards,
                );
            }
            "add_api_route"
            | "add_url_rule"
            | "add_route"
            | "add_websocket_route"
            | "add_api_websocket_route" => {
                // aiohttp add_route(method, path, handler) vs starlette/fastapi add_route(path, handler, methods=).
                let first = c.positional(0).and_then(s);
                let second = c.positional(1).and_then(s);
                let (methods, path, handler) = match (&first, &second) {
                    (Some(m), Some(p)) if http_method(m).is_some() => (
                        vec![http_method(m).unwrap().to_string()],
                        p.clone(),
                        c.positional(2),
                    ),
                    (Some(p), _) => {
                        let h = match method {
                            "add_url_rule" => c.kwarg("view_func").or_else(|| c.positional(2)),
                            _ => c.arg(Some("endpoint"), Some(1)),
                        };
                        let m = if method.contains("websocket") {
                            vec!["WEBSOCKET".to_string()]
                        } else {
                            methods_kw(c).unwrap_or_else(|| vec!["GET".into()])
                        };
                        (m, p.clone(), h)
                    }
                    _ => return,
                };
                let Some(h) = handler else { return };
                self.add_route(g, fi, scope, &recv, methods, path, h, vec![], pos);
            }
            m if m.starts_with("add_") && http_method(&m[4..]).is_some() => {
                // aiohttp router.add_get(path, handler)
                let (Some(path), Some(h)) = (
                    c.arg(Some("path"), Some(0)).and_then(s),
                    c.arg(Some("handler"), Some(1)),
                ) else {
                    return;
                };
                let hm = http_method(&m[4..]).unwrap_or("ANY").to_string();
                self.add_route(g, fi, scope, &recv, vec![hm], path, h, vec![], pos);
            }
            "add_routes" => {
                let arg = c.positional(0).unwrap_or(&Expr::Other);
                // A RouteTableDef: mount it.
                if let Some(Target::Var(cf, ca)) = idx.resolve_expr(fi, scope, arg) {
                    let child = idx.var_symbol(cf, ca);
                    if g.objs.contains_key(&child) {
                        let (key, fw) = self.receiver(g, fi, scope, &recv);
                        g.mount(&key, &fw, (fi, pos), String::new(), child, vec![]);
                        return;
                    }
                }
                let (lf, ls, list) = idx.value_of(fi, scope, arg);
                let Expr::List(items) = list else { return };
                for it in items {
                    let Expr::Call(rc) = it else { continue };
                    let Some(Target::External(q)) = idx.resolve_expr(lf, ls, &rc.func) else {
                        continue;
                    };
                    let m = q.rsplit('.').next().unwrap_or("");
                    let (methods, path, h) = if m == "route" {
                        let Some(hm) = rc.positional(0).and_then(|e| idx.str_value(lf, ls, e))
                        else {
                            continue;
                        };
                        (
                            vec![http_method(&hm).unwrap_or("ANY").to_string()],
                            rc.positional(1),
                            rc.positional(2),
                        )
                    } else if m == "view" {
                        (vec![], rc.positional(0), rc.positional(1))
                    } else if let Some(hm) = http_method(m) {
                        (vec![hm.to_string()], rc.positional(0), rc.positional(1))
                    } else {
                        continue;
                    };
                    let (Some(p), Some(h)) = (path.and_then(|e| idx.str_value(lf, ls, e)), h)
                    else {
                        continue;
                    };
                    self.add_route(g, fi, scope, &recv, methods, p, h, vec![], rc.pos);
                }
            }
            "add_middleware" => {
                let (key, fw) = self.receiver(g, fi, scope, &recv);
                if let Some(m) = c.positional(0) {
                    let gs = self.gc.classify(fi, scope, m, "middleware");
                    g.obj(&key, &fw, (fi, pos)).guards.extend(gs);
                }
            }
            "before_request" => {
                let (key, fw) = self.receiver(g, fi, scope, &recv);
                if let Some(m) = c.positional(0) {
                    let gs = self.gc.classify(fi, scope, m, "hook");
                    g.obj(&key, &fw, (fi, pos)).guards.extend(gs);
                }
            }
            "register" => {
                // DRF: router.register(prefix, ViewSet)
                let (key, fw) = self.receiver(g, fi, scope, &recv);
                if fw != "drf" {
                    return;
                }
                let (Some(prefix), Some(vs)) = (
                    c.arg(Some("prefix"), Some(0)).and_then(s),
                    c.arg(Some("viewset"), Some(1)),
                ) else {
                    return;
                };
                let Some(Target::Def(vf, vd)) = idx.resolve_expr(fi, scope, vs) else {
                    return;
                };
                let (list, detail) = self.viewset_methods(vf, vd, 0);
                for (methods, pat) in [
                    (list, format!("{prefix}/")),
                    (detail, format!("{prefix}/{{pk}}/")),
                ] {
                    if methods.is_empty() {
                        continue;
                    }
                    let draft = RouteDraft {
                        router: String::new(),
                        methods,
                        pattern: pat,
                        handler: Some((vf, vd)),
                        handler_symbol: idx.def_symbol(vf, vd),
                        guards: vec![],
                        file: fi,
                        pos,
                        framework: "drf".into(),
                    };
                    g.obj(&key, &fw, (fi, pos)).items.push(Item::Route(draft));
                }
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_route(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        recv: &Expr,
        methods: Vec<String>,
        path: String,
        h: &Expr,
        guards: Vec<Guard>,
        pos: Pos,
    ) {
        let (key, fw) = self.receiver(g, fi, scope, recv);
        let (handler, sym) = self.handler(fi, scope, h);
        let methods = if methods.is_empty() {
            handler
                .map(|(hf, hd)| self.class_methods(hf, hd))
                .unwrap_or_else(|| vec!["ANY".into()])
        } else {
            methods
        };
        let draft = RouteDraft {
            router: String::new(),
            methods,
            pattern: path,
            handler,
            handler_symbol: sym,
            guards,
            file: fi,
            pos,
            framework: fw.clone(),
        };
        g.obj(&key, &fw, (fi, pos)).items.push(Item::Route(draft));
    }

    fn handler(
        &self,
        fi: usize,
        scope: Option<usize>,
        h: &Expr,
    ) -> (Option<(usize, usize)>, String) {
        // `View.as_view()` → the class.
        let h = match h {
            Expr::Call(c) => match split_method(&c.func) {
                Some((recv, "as_view")) => recv,
                _ => h.clone(),
            },
            other => other.clone(),
        };
        match self.idx.resolve_expr(fi, scope, &h) {
            Some(Target::Def(f, d)) => (Some((f, d)), self.idx.def_symbol(f, d)),
            Some(t) => (None, self.idx.symbol(&t)),
            None => (None, h.display()),
        }
    }

    /// HTTP methods a class-based view handles: its own method functions, then its repository bases'.
    fn class_methods(&self, f: usize, d: usize) -> Vec<String> {
        let mut out = self.own_methods(f, d, 0);
        if out.is_empty() {
            out = vec!["GET".into()];
        }
        out
    }

    fn own_methods(&self, f: usize, d: usize, depth: u32) -> Vec<String> {
        let file = &self.idx.files[f];
        if file.defs[d].kind != DefKind::Class || depth > 6 {
            return vec![];
        }
        let prefix = format!("{}.", file.defs[d].name);
        let mut out: Vec<String> = file
            .defs
            .iter()
            .filter(|m| m.parent == Some(d))
            .filter_map(|m| m.name.strip_prefix(&prefix))
            .filter(|n| !matches!(*n, "options" | "head"))
            .filter_map(http_method)
            .map(str::to_string)
            .collect();
        if out.is_empty() {
            for b in &file.defs[d].bases {
                if let Some(Target::Def(bf, bd)) = self.idx.resolve_expr(f, file.defs[d].parent, b)
                {
                    out.extend(self.own_methods(bf, bd, depth + 1));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// DRF viewset actions → (collection methods, detail methods).
    fn viewset_methods(&self, f: usize, d: usize, depth: u32) -> (Vec<String>, Vec<String>) {
        let file = &self.idx.files[f];
        let mut list = vec![];
        let mut detail = vec![];
        let add = |action: &str, list: &mut Vec<String>, detail: &mut Vec<String>| match action {
            "list" => list.push("GET".to_string()),
            "create" => list.push("POST".to_string()),
            "retrieve" => detail.push("GET".to_string()),
            "update" => detail.push("PUT".to_string()),
            "partial_update" => detail.push("PATCH".to_string()),
            "destroy" => detail.push("DELETE".to_string()),
            _ => {}
        };
        let prefix = format!("{}.", file.defs[d].name);
        for m in file.defs.iter().filter(|m| m.parent == Some(d)) {
            if let Some(n) = m.name.strip_prefix(&prefix) {
                add(n, &mut list, &mut detail);
            }
        }
        for b in &file.defs[d].bases {
            match self.idx.resolve_expr(f, file.defs[d].parent, b) {
                Some(Target::External(q)) => {
                    let last = q.rsplit('.').next().unwrap_or("");
                    let actions: &[&str] = match last {
                        "ModelViewSet" => &[
                            "list",
                            "create",
                            "retrieve",
                            "update",
                            "partial_update",
                            "destroy",
                        ],
                        "ReadOnlyModelViewSet" => &["list", "retrieve"],
                        "ListModelMixin" => &["list"],
                        "CreateModelMixin" => &["create"],
                        "RetrieveModelMixin" => &["retrieve"],
                        "UpdateModelMixin" => &["update", "partial_update"],
                        "DestroyModelMixin" => &["destroy"],
                        _ => &[],
                    };
                    for a in actions {
                        add(a, &mut list, &mut detail);
                    }
                }
                Some(Target::Def(bf, bd)) if depth < 6 => {
                    let (l, dt) = self.viewset_methods(bf, bd, depth + 1);
                    list.extend(l);
                    detail.extend(dt);
                }
                _ => {}
            }
        }
        list.sort();
        list.dedup();
        detail.sort();
        detail.dedup();
        (list, detail)
    }

    /// Starlette `routes=[Route(...), WebSocketRoute(...), Mount(...)]`.
    fn starlette_list(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        e: &Expr,
        depth: u32,
    ) {
        if depth > 8 {
            return;
        }
        let idx = self.idx;
        let (lf, ls, v) = idx.value_of(fi, scope, e);
        let Expr::List(items) = v else { return };
        for it in items {
            let Expr::Call(c) = it else {
                self.starlette_list(g, lf, ls, key, it, depth + 1);
                continue;
            };
            let Some(Target::External(q)) = idx.resolve_expr(lf, ls, &c.func) else {
                continue;
            };
            let kind = q.rsplit('.').next().unwrap_or("");
            let Some(path) = c
                .arg(Some("path"), Some(0))
                .and_then(|e| idx.str_value(lf, ls, e))
            else {
                continue;
            };
            match kind {
                "Route" | "WebSocketRoute" | "APIRoute" | "APIWebSocketRoute" => {
                    let Some(h) = c.arg(Some("endpoint"), Some(1)) else {
                        continue;
                    };
                    let (handler, sym) = self.handler(lf, ls, h);
                    let methods = if kind.contains("WebSocket") {
                        vec!["WEBSOCKET".into()]
                    } else {
                        methods_kw(c).unwrap_or_else(|| match handler {
                            Some((hf, hd)) if idx.files[hf].defs[hd].kind == DefKind::Class => {
                                self.class_methods(hf, hd)
                            }
                            _ => vec!["GET".into()],
                        })
                    };
                    let fw = g
                        .objs
                        .get(key)
                        .map(|o| o.framework.clone())
                        .unwrap_or_else(|| "starlette".into());
                    let draft = RouteDraft {
                        router: String::new(),
                        methods,
                        pattern: path,
                        handler,
                        handler_symbol: sym,
                        guards: vec![],
                        file: lf,
                        pos: c.pos,
                        framework: fw.clone(),
                    };
                    g.obj(key, &fw, (lf, c.pos)).items.push(Item::Route(draft));
                }
                "Mount" => {
                    let fw = g
                        .objs
                        .get(key)
                        .map(|o| o.framework.clone())
                        .unwrap_or_else(|| "starlette".into());
                    if let Some(routes) = c.kwarg("routes") {
                        let child =
                            format!("{}@{}:{}", idx.files[lf].path, c.pos.line, c.pos.column);
                        g.obj(&child, &fw, (lf, c.pos));
                        g.mount(key, &fw, (lf, c.pos), path, child.clone(), vec![]);
                        self.starlette_list(g, lf, ls, &child, routes, depth + 1);
                    } else if let Some(app) = c.arg(Some("app"), Some(1)) {
                        if let Some(Target::Var(af, aa)) = idx.resolve_expr(lf, ls, app) {
                            let child = idx.var_symbol(af, aa);
                            if g.objs.contains_key(&child) {
                                g.mount(key, &fw, (lf, c.pos), path, child, vec![]);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Django `urlpatterns`: `path`, `re_path`, `url`, with `include(...)`.
    fn django_list(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        e: &Expr,
        depth: u32,
    ) {
        if depth > 8 {
            return;
        }
        let idx = self.idx;
        let items: Vec<Expr> = match e {
            Expr::List(xs) => xs.clone(),
            other => vec![other.clone()],
        };
        for it in &items {
            match it {
                Expr::List(_) => self.django_list(g, fi, scope, key, it, depth + 1),
                Expr::Name(n, p) => {
                    // `+ router.urls` or another list.
                    if let Some(child) = self.router_urls(g, fi, scope, n, *p) {
                        g.mount(key, "django", (fi, *p), String::new(), child, vec![]);
                    } else {
                        let (lf, ls, v) = idx.value_of(fi, scope, it);
                        if matches!(v, Expr::List(_)) && v != it {
                            let v = v.clone();
                            self.django_list(g, lf, ls, key, &v, depth + 1);
                        }
                    }
                }
                Expr::Call(c) => {
                    let Some(Target::External(q)) = idx.resolve_expr(fi, scope, &c.func) else {
                        continue;
                    };
                    let last = q.rsplit('.').next().unwrap_or("");
                    if !q.starts_with("django.") || !matches!(last, "path" | "re_path" | "url") {
                        continue;
                    }
                    let Some(route) = c
                        .arg(Some("route"), Some(0))
                        .and_then(|e| idx.str_value(fi, scope, e))
                    else {
                        continue;
                    };
                    let Some(view) = c.arg(Some("view"), Some(1)) else {
                        continue;
                    };
                    self.django_view(g, fi, scope, key, route, view, c.pos, depth);
                }
                _ => {}
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn django_view(
        &self,
        g: &mut Graph,
        fi: usize,
        scope: Option<usize>,
        key: &str,
        route: String,
        view: &Expr,
        pos: Pos,
        depth: u32,
    ) {
        let idx = self.idx;
        if let Expr::Call(vc) = view {
            if let Some(Target::External(q)) = idx.resolve_expr(fi, scope, &vc.func) {
                if q.ends_with(".include") {
                    let Some(arg) = vc.positional(0) else { return };
                    let arg = match arg {
                        Expr::List(xs) if !xs.is_empty() => &xs[0],
                        other => other,
                    };
                    let child = match arg {
                        Expr::Str(m) => idx.module_file(m).map(|_| format!("{m}:urlpatterns")),
                        Expr::Name(n, p) => self.router_urls(g, fi, scope, n, *p).or_else(|| {
                            match idx.resolve_expr(fi, scope, arg) {
                                Some(Target::Module(mf)) => {
                                    Some(format!("{}:urlpatterns", idx.module[mf]))
                                }
                                Some(Target::Var(vf, va)) => {
                                    let child = format!(
                                        "{}@{}:{}",
                                        idx.files[fi].path, pos.line, pos.column
                                    );
                                    g.obj(&child, "django", (fi, pos));
                                    let v = idx.files[vf].assigns[va].value.clone();
                                    self.django_list(
                                        g,
                                        vf,
                                        idx.files[vf].assigns[va].scope,
                                        &child,
                                        &v,
                                        depth + 1,
                                    );
                                    Some(child)
                                }
                                _ => None,
                            }
                        }),
                        Expr::List(_) => {
                            let child =
                                format!("{}@{}:{}", idx.files[fi].path, pos.line, pos.column);
                            g.obj(&child, "django", (fi, pos));
                            self.django_list(g, fi, scope, &child, arg, depth + 1);
                            Some(child)
                        }
                        _ => None,
                    };
                    if let Some(child) = child {
                        g.mount(key, "django", (fi, pos), route, child, vec![]);
                    }
                    return;
                }
            }
        }
        let (handler, sym) = self.handler(fi, scope, view);
        let Some((hf, hd)) = handler else { return };
        let methods = if idx.files[hf].defs[hd].kind == DefKind::Class {
            self.class_methods(hf, hd)
        } else {
            self.function_view_methods(hf, hd)
        };
        let draft = RouteDraft {
            router: String::new(),
            methods,
            pattern: route,
            handler,
            handler_symbol: sym,
            guards: vec![],
            file: fi,
            pos,
            framework: if self.is_drf(hf, hd) {
                "drf".into()
            } else {
                "django".into()
            },
        };
        g.obj(key, "django", (fi, pos))
            .items
            .push(Item::Route(draft));
    }

    /// `router.urls` where `router` is a DRF router object.
    fn router_urls(
        &self,
        g: &Graph,
        fi: usize,
        scope: Option<usize>,
        n: &str,
        p: Pos,
    ) -> Option<String> {
        let base = n.strip_suffix(".urls")?;
        match self
            .idx
            .resolve_expr(fi, scope, &Expr::Name(base.to_string(), p))?
        {
            Target::Var(vf, va) => {
                let k = self.idx.var_symbol(vf, va);
                g.objs.contains_key(&k).then_some(k)
            }
            _ => None,
        }
    }

    fn is_drf(&self, f: usize, d: usize) -> bool {
        let def = &self.idx.files[f].defs[d];
        def.decorators.iter().chain(def.bases.iter()).any(|e| {
            let e = match e {
                Expr::Call(c) => &c.func,
                o => o,
            };
            matches!(self.idx.resolve_expr(f, def.parent, e), Some(Target::External(q)) if q.starts_with("rest_framework."))
        })
    }

    /// Function views: `@api_view([...])`, `@require_http_methods([...])`, `@require_GET`…; else ANY.
    fn function_view_methods(&self, f: usize, d: usize) -> Vec<String> {
        let def = &self.idx.files[f].defs[d];
        for dec in &def.decorators {
            let (func, call) = match dec {
                Expr::Call(c) => (&c.func, Some(c)),
                o => (o, None),
            };
            let Some(Target::External(q)) = self.idx.resolve_expr(f, def.parent, func) else {
                continue;
            };
            let last = q.rsplit('.').next().unwrap_or("");
            match last {
                "api_view" | "require_http_methods" => {
                    if let Some(Expr::List(xs)) =
                        call.and_then(|c| c.positional(0).or_else(|| c.kwarg("http_method_names")))
                    {
                        let mut m: Vec<String> = xs
                            .iter()
                            .filter_map(|x| x.as_str())
                            .map(|s| s.to_ascii_uppercase())
                            .collect();
                        m.sort();
                        m.dedup();
                        return m;
                    }
                    if last == "api_view" {
                        return vec!["GET".into()];
                    }
                }
                "require_GET" | "require_safe" => return vec!["GET".into()],
                "require_POST" => return vec!["POST".into()],
                _ => {}
            }
        }
        vec!["ANY".into()]
    }
}
