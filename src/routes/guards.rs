//! Which attached expressions are authentication guards or rate limiters,
//! and why.
//!
//! A guard is recognised from how it is attached (decorator, dependency,
//! middleware, extractor, mixin, permission class, a check in the handler's
//! body) and counts as auth or as a limiter because of what it does: the
//! function summary of its code ([`crate::summary`]) says it rejects a
//! request on a failed credential or permission check, or on an exhausted
//! limit. Library guards the repository cannot show are catalogue data
//! (`rules/catalog/*.toml` `[guards]`). A guard's name is only a hint shown
//! in its reason.

use super::Guard;
use crate::catalog::{Catalog, LangCatalog};
use crate::extract::{CallExpr, DefKind, Expr, Pos};
use crate::facts::{EvidenceRef, GuardRef};
use crate::link::{Index, Target};
use crate::summary::{AuthKind, Ev, Summaries, Summary};

pub struct Classifier<'a> {
    pub idx: &'a Index<'a>,
    pub cat: &'a Catalog,
    pub sum: Summaries<'a>,
}

const DECORATOR_SKIP: &[&str] = &["staticmethod", "classmethod", "property"];

/// How deep attached expressions are followed (lists, containers, variables).
const MAX_DEPTH: u32 = 8;

impl<'a> Classifier<'a> {
    pub fn new(idx: &'a Index<'a>, cat: &'a Catalog) -> Self {
        Classifier {
            idx,
            cat,
            sum: Summaries::new(idx, cat),
        }
    }

    fn lc(&self, file: usize) -> &'a LangCatalog {
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
        if depth > MAX_DEPTH {
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

    fn classify_call(
        &self,
        file: usize,
        scope: Option<usize>,
        c: &CallExpr,
        via: &str,
        depth: u32,
        out: &mut Vec<Guard>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        match self.idx.resolve_expr(file, scope, &c.func) {
            Some(target) => {
                self.classify_target(file, scope, &c.func, Some(c), &target, via, depth, out)
            }
            // A Rust layer built by a call we cannot resolve
            // (`ServiceBuilder::new().layer(GovernorLayer::new(cfg))`): what
            // it is built from decides.
            None if self.idx.files[file].lang.syntax().builder_values => {
                for a in &c.args {
                    self.classify_into(file, scope, &a.value, via, depth + 1, out);
                }
                if let Some((recv, _)) = crate::extract::split_method(&c.func) {
                    self.classify_into(file, scope, &recv, via, depth + 1, out);
                }
            }
            None => {}
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
        let pos = call
            .map(|c| c.pos)
            .or(callee_expr.pos())
            .unwrap_or_default();
        match target {
            Target::External(q) => {
                if let Some(c) = call {
                    if lc.guards.containers.first(q).is_some()
                        || lc.guards.wrapper_auth.first(q).is_some()
                    {
                        // `Depends(get_user)`, `middleware::from_fn(require_auth)`,
                        // `Middleware(AuthMiddleware)`: what they hold decides.
                        for a in c.args.iter().filter(|a| a.name.is_none()) {
                            self.classify_into(file, scope, &a.value, via, depth + 1, out);
                        }
                        if let Some(d) = c.kwarg("dependency") {
                            self.classify_into(file, scope, d, via, depth + 1, out);
                        }
                        return;
                    }
                }
                if lc.guards.not_auth.first(q).is_some()
                    || lc.guards.identity_only.first(q).is_some()
                {
                    return;
                }
                if let Some(g) = self.external_guard(file, pos, callee_expr, call, q, via) {
                    out.push(g);
                    return;
                }
                // Rust layer expressions: look inside builder chains and arguments.
                if let Some(c) = call {
                    if self.idx.files[file].lang.syntax().builder_values {
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
                let (df, dd) = (*df, *dd);
                let s = self.attached_summary(file, scope, call, df, dd, via);
                let methods = call
                    .map(|c| self.limiter_methods(file, c))
                    .unwrap_or_default();
                out.extend(self.def_guards(file, pos, callee_expr, df, dd, via, &s, methods));
            }
            Target::Var(vf, va) => {
                let v = &self.idx.files[*vf].assigns[*va];
                match &v.value {
                    // A value bound before it is attached:
                    // `let auth = HttpAuthentication::bearer(check)`, `PERMS = [IsAdmin]`.
                    Expr::Call(_) | Expr::List(_) if call.is_none() => {
                        let before = out.len();
                        self.classify_into(*vf, v.scope.get(), &v.value, via, depth + 1, out);
                        // Report the guard where it is attached.
                        for g in &mut out[before..] {
                            g.r.file = self.idx.files[file].path.clone();
                            g.r.line = pos.line;
                            g.column = pos.column;
                        }
                    }
                    _ => {
                        // `limiter.limit(...)` on an instance: its type decides.
                        match self.idx.type_of(*vf, v.scope.get(), &v.value, 0) {
                            Some(Target::Def(df, dd)) => {
                                let s = self.sum.of(df, dd);
                                out.extend(self.def_guards(
                                    file,
                                    pos,
                                    callee_expr,
                                    df,
                                    dd,
                                    via,
                                    &s,
                                    vec![],
                                ));
                            }
                            Some(Target::External(q)) => out.extend(self.external_guard(
                                file,
                                pos,
                                callee_expr,
                                call,
                                &q,
                                via,
                            )),
                            _ => {}
                        }
                    }
                }
            }
            Target::Module(_) => {}
        }
    }

    /// What an attached repository definition runs: a dependency or a
    /// decorator is called (a class's constructor and `__call__`); a class
    /// attached as middleware, a permission class or a mixin acts through
    /// its methods; a factory call (`Depends(require("x"))`) runs the
    /// factory and the callables given to it.
    fn attached_summary(
        &self,
        file: usize,
        scope: Option<usize>,
        call: Option<&CallExpr>,
        df: usize,
        dd: usize,
        via: &str,
    ) -> Summary {
        let class = self.idx.files[df].defs[dd].kind == DefKind::Class;
        let mut s = if class && matches!(via, "dependency" | "decorator") {
            (*self.sum.callable(df, dd)).clone()
        } else if class {
            (*self.sum.attached_class(df, dd)).clone()
        } else {
            (*self.sum.of(df, dd)).clone()
        };
        if let Some(c) = call {
            // Callables passed to a factory: `PermissionsDependency([Edit])`.
            for a in &c.args {
                let items: Vec<&Expr> = match &a.value {
                    Expr::List(xs) => xs.iter().collect(),
                    other => vec![other],
                };
                for it in items {
                    if let Expr::Name(..) = it {
                        if let Some(Target::Def(af, ad)) = self.idx.resolve_expr(file, scope, it) {
                            let inner = self.sum.callable(af, ad);
                            let keep = s.clone();
                            s = keep;
                            merge_into(&mut s, &inner);
                        }
                    }
                }
            }
        }
        s
    }

    /// Methods a limiter decorator says it covers: `@ratelimit(method="POST")`.
    fn limiter_methods(&self, file: usize, c: &CallExpr) -> Vec<String> {
        let mut out = vec![];
        for k in &self.lc(file).guards.limiter_method_keywords {
            match c.kwarg(k) {
                Some(Expr::Str(s)) => out.push(s.as_str().to_ascii_uppercase()),
                Some(Expr::List(xs)) => out.extend(
                    xs.iter()
                        .filter_map(|x| x.as_str())
                        .map(|s| s.to_ascii_uppercase()),
                ),
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// A guard for an external API the catalogue lists as auth or a limiter.
    fn external_guard(
        &self,
        file: usize,
        pos: Pos,
        callee: &Expr,
        call: Option<&CallExpr>,
        q: &str,
        via: &str,
    ) -> Option<Guard> {
        let lc = self.lc(file);
        let (reason, limiter) = catalogued(lc, q)?;
        let sym = symbol_of_external(q);
        let optional = call.is_some_and(|c| optional_by_keyword(lc, c))
            || call.is_none() && self.optional_instance(file, callee);
        let mut g = self.guard(
            file,
            pos,
            short_display(callee),
            sym,
            via,
            if optional {
                format!("{reason}; optional: anonymous requests pass")
            } else {
                reason
            },
            limiter,
        );
        g.r.required = !optional;
        if !limiter {
            g.r.kind = "authentication";
        }
        if let Some(c) = call.filter(|_| limiter) {
            g.r.methods = self.limiter_methods(file, c);
        }
        Some(g)
    }

    /// A name bound to a security scheme built with `auto_error=False`.
    fn optional_instance(&self, file: usize, callee: &Expr) -> bool {
        let Expr::Name(..) = callee else { return false };
        let (_, _, v) = self.idx.value_of(file, None, callee);
        match v {
            Expr::Call(c) => optional_by_keyword(self.lc(file), c),
            _ => false,
        }
    }

    /// Guards for a repository definition, from its summary: auth (required
    /// or optional), a limiter, or both.
    #[allow(clippy::too_many_arguments)]
    fn def_guards(
        &self,
        file: usize,
        pos: Pos,
        callee: &Expr,
        df: usize,
        dd: usize,
        via: &str,
        s: &Summary,
        methods: Vec<String>,
    ) -> Vec<Guard> {
        let mut out = vec![];
        let sym = self.idx.def_symbol(df, dd);
        let name = short_display(callee);
        let hint = self.name_hint(df, dd);
        if let Some(kind) = s.auth_required() {
            let ev = s.auth_evidence();
            let mut g = self.guard(
                file,
                pos,
                name.clone(),
                sym.clone(),
                via,
                format!("{}: {}{hint}", kind.name(), describe(&ev, self.idx)),
                false,
            );
            g.r.kind = kind.name();
            g.r.evidence = self.evidence(&ev);
            out.push(g);
        } else if s.auth_optional() {
            let ev: Vec<Ev> = s.credential.iter().cloned().collect();
            let mut g = self.guard(
                file,
                pos,
                name.clone(),
                sym.clone(),
                via,
                format!(
                    "optional authentication: {}; anonymous requests pass{hint}",
                    describe(&ev, self.idx)
                ),
                false,
            );
            g.r.required = false;
            g.r.evidence = self.evidence(&ev);
            out.push(g);
        }
        if s.limits() {
            let ev = s.limit_evidence();
            let mut g = self.guard(
                file,
                pos,
                name,
                sym,
                via,
                format!("rate limit: {}{hint}", describe(&ev, self.idx)),
                true,
            );
            g.r.evidence = self.evidence(&ev);
            g.r.methods = methods;
            out.push(g);
        }
        out
    }

    /// A Rust extractor parameter's guard: required unless it is wrapped in
    /// `Option`/`Result` or its rejection type never rejects.
    fn extractor_guard(&self, f: usize, ty: &Expr, out: &mut Vec<Guard>) {
        let Some(((tf, td), wrapped)) = self.sum.extractor_of(f, ty) else {
            self.catalogued_extractor(f, ty, out);
            return;
        };
        let s = self.sum.of(tf, td);
        let pos = name_pos(ty).unwrap_or_default();
        let name = self.idx.files[tf].defs[td].name;
        let sym = self.idx.def_symbol(tf, td);
        let hint = self.name_hint(tf, td);
        let kind = s.auth_required();
        // An extractor that reads a credential rejects when it fails, unless
        // its rejection type cannot be built.
        // An extractor that reads a credential is auth: required when it can
        // reject, optional when it never does (its rejection type is
        // `Infallible`) or it is wrapped in `Option`/`Result`.
        let auth = kind.is_some() || s.credential.is_some();
        if auth {
            let holds_option = self.sum.wraps_optional_identity(tf, td);
            let required = !wrapped && !s.infallible && !holds_option;
            let ev = s.auth_evidence();
            let kind = kind.unwrap_or(AuthKind::Authentication);
            let reason = if required {
                format!(
                    "{}: a request extractor; {}{hint}",
                    kind.name(),
                    describe(&ev, self.idx)
                )
            } else if holds_option {
                format!(
                    "optional authentication: its value holds an Option of an identity, None for anonymous requests ({}){hint}",
                    describe(&ev, self.idx)
                )
            } else if wrapped {
                format!(
                    "optional authentication: the extractor is wrapped in Option/Result, so anonymous requests pass ({}){hint}",
                    describe(&ev, self.idx)
                )
            } else {
                format!(
                    "optional authentication: its rejection type never rejects ({}){hint}",
                    describe(&ev, self.idx)
                )
            };
            let mut g = self.guard(
                f,
                pos,
                short_name(&name).to_string(),
                sym.clone(),
                "extractor",
                reason,
                false,
            );
            g.r.kind = kind.name();
            g.r.required = required;
            g.r.evidence = self.evidence(&ev);
            out.push(g);
        }
        if s.limits() && !wrapped {
            let ev = s.limit_evidence();
            let mut g = self.guard(
                f,
                pos,
                short_name(&name).to_string(),
                sym,
                "extractor",
                format!("rate limit: {}", describe(&ev, self.idx)),
                true,
            );
            g.r.evidence = self.evidence(&ev);
            out.push(g);
        }
    }

    /// A handler parameter typed with a catalogued auth extractor (`BearerAuth`).
    fn catalogued_extractor(&self, f: usize, ty: &Expr, out: &mut Vec<Guard>) {
        let (e, wrapped) = match ty {
            Expr::Subscript(s) => match &s.base {
                Expr::Name(n, _) if matches!(short_name(n), "Option" | "Result") => {
                    match s.keys.first() {
                        Some(x) => (x, true),
                        None => return,
                    }
                }
                _ => (ty, false),
            },
            _ => (ty, false),
        };
        let e = match e {
            Expr::Subscript(s) => &s.base,
            o => o,
        };
        let Expr::Name(n, pos) = e else { return };
        if let Some(Target::External(q)) = self.idx.resolve_name(f, None, n) {
            if let Some(p) = self.lc(f).guards.auth.first(&q) {
                let mut g = self.guard(
                    f,
                    *pos,
                    short_name(n).to_string(),
                    q.to_string(),
                    "extractor",
                    format!("catalogued auth extractor ({p})"),
                    false,
                );
                g.r.kind = "authentication";
                g.r.required = !wrapped;
                out.push(g);
            }
        }
    }

    fn evidence(&self, ev: &[Ev]) -> Vec<EvidenceRef> {
        ev.iter()
            .map(|e| EvidenceRef {
                file: self.idx.files[e.file].path.clone(),
                line: e.pos.line,
                column: e.pos.column,
                what: e.what.clone(),
            })
            .collect()
    }

    /// "; its name also suggests auth" when the catalogue's words say so.
    fn name_hint(&self, f: usize, d: usize) -> String {
        let lc = self.lc(f);
        let short = short_name(&self.idx.files[f].defs[d].name);
        if let Some(w) = LangCatalog::words_match(&lc.guards.limiter_words, short) {
            return format!(" (its name, with '{w}', agrees)");
        }
        if let Some(w) = LangCatalog::words_match(&lc.guards.auth_words, short) {
            return format!(" (its name, with '{w}', agrees)");
        }
        String::new()
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
                kind: if limiter {
                    "rate_limit"
                } else {
                    "authentication"
                },
                required: true,
                reason,
                file: self.idx.files[file].path.clone(),
                line: pos.line,
                methods: vec![],
                evidence: vec![],
            },
            column: pos.column,
            limiter,
        }
    }

    /// Guards on the class of a method endpoint or a class endpoint:
    /// dependency attributes (`user = Depends(current_user)`, fastapi-utils
    /// `@cbv`), guard attributes (`permission_classes`, `method_decorators`),
    /// and the same on base classes, in resolution order.
    fn class_guards(&self, f: usize, c: usize, depth: u32, out: &mut Vec<Guard>) {
        if depth > MAX_DEPTH {
            return;
        }
        let file = &self.idx.files[f];
        let cls = &file.defs[c];
        let attrs = &self.lc(f).guards.class_attrs;
        for &ai in &cls.attrs {
            let a = &file.assigns[ai];
            let v = &a.value;
            if let Some(spec) = attrs.iter().find(|s| s.name == a.target) {
                self.classify_into(f, Some(c), v, &spec.via, 0, out);
            } else if matches!(v, Expr::Call(_)) && self.is_container_call(f, Some(c), v) {
                self.classify_into(f, Some(c), v, "dependency", 0, out);
            }
        }
        for b in &cls.bases {
            match self.idx.resolve_expr(f, cls.parent, b) {
                Some(Target::Def(bf, bd)) if self.idx.files[bf].defs[bd].kind == DefKind::Class => {
                    // A repository mixin guards by what its dispatch does.
                    self.classify_into(f, cls.parent, b, "mixin", 0, out);
                    self.class_guards(bf, bd, depth + 1, out)
                }
                // A catalogued mixin (`LoginRequiredMixin`).
                Some(Target::External(_)) => self.classify_into(f, cls.parent, b, "mixin", 0, out),
                _ => {}
            }
        }
    }

    /// Framework defaults from settings (`[guards] settings_defaults`) for a
    /// class-based view of that framework that sets none of its own.
    fn settings_defaults(&self, f: usize, c: usize, out: &mut Vec<Guard>) {
        let specs = &self.lc(f).guards.settings_defaults;
        for spec in specs {
            let (framework, own) = self.hierarchy(f, c, spec, 0);
            if !framework || own {
                continue;
            }
            self.classify_setting_values(spec, out);
        }
    }

    /// The same defaults for a library view served directly (`api`, such as
    /// `rest_framework_simplejwt.views.TokenObtainPairView`), when the
    /// catalogue says it sets none of its own (`library_views`).
    pub fn library_view_defaults(&self, f: usize, api: &str) -> Vec<Guard> {
        let mut out = vec![];
        for spec in &self.lc(f).guards.settings_defaults {
            if spec
                .library_views
                .iter()
                .any(|p| api.starts_with(p.as_str()))
            {
                self.classify_setting_values(spec, &mut out);
            }
        }
        out
    }

    /// The same defaults for a function view of the framework (DRF's
    /// `@api_view`): a decorator of the framework marks it, one named like the
    /// spec's attribute (`@permission_classes([...])`) replaces the default.
    fn function_view_defaults(&self, f: usize, d: usize, out: &mut Vec<Guard>) {
        let file = &self.idx.files[f];
        let def = &file.defs[d];
        for spec in &self.lc(f).guards.settings_defaults {
            let mut framework = false;
            let mut own = false;
            for dec in &def.decorators {
                let func = match dec {
                    Expr::Call(c) => &c.func,
                    other => other,
                };
                if let Some(Target::External(q)) = self.idx.resolve_expr(f, def.parent, func) {
                    if spec.bases.iter().any(|p| q.starts_with(p.as_str())) {
                        framework = true;
                        own |= q.rsplit('.').next() == Some(spec.attr.as_str());
                    }
                }
            }
            if framework && !own {
                self.classify_setting_values(spec, out);
            }
        }
    }

    /// Does the class hierarchy of `c` have a base of the spec's framework,
    /// and does any class in it set the spec's attribute?
    fn hierarchy(
        &self,
        f: usize,
        c: usize,
        spec: &crate::catalog::SettingsDefault,
        depth: u32,
    ) -> (bool, bool) {
        if depth > MAX_DEPTH {
            return (false, false);
        }
        let file = &self.idx.files[f];
        let cls = &file.defs[c];
        let mut own = cls
            .attrs
            .iter()
            .any(|&ai| file.assigns[ai].target == spec.attr);
        let mut framework = false;
        for b in &cls.bases {
            match self.idx.resolve_expr(f, cls.parent, b) {
                Some(Target::Def(bf, bd)) if self.idx.files[bf].defs[bd].kind == DefKind::Class => {
                    let (fw, o) = self.hierarchy(bf, bd, spec, depth + 1);
                    framework |= fw;
                    own |= o;
                }
                Some(Target::External(q)) => {
                    framework |= spec.bases.iter().any(|p| q.starts_with(p.as_str()));
                }
                _ => {}
            }
        }
        (framework, own)
    }

    /// The guards a settings default names, classified where it is set.
    fn classify_setting_values(
        &self,
        spec: &crate::catalog::SettingsDefault,
        out: &mut Vec<Guard>,
    ) {
        for (sf, v) in self.setting_values(spec) {
            let Expr::Name(path, _) = &v else { continue };
            if let Some(t) = self.idx.resolve_qualified(path, 0) {
                self.classify_target(sf, None, &v, None, &t, &spec.via, 0, out);
            }
        }
    }

    /// The classes a production settings module lists under the spec's key,
    /// as names to classify (in the settings file).
    fn setting_values(&self, spec: &crate::catalog::SettingsDefault) -> Vec<(usize, Expr)> {
        let mut out = vec![];
        for (fi, file) in self.idx.files.iter().enumerate() {
            if file.scope != crate::scope::Scope::Production {
                continue;
            }
            for a in file
                .assigns
                .iter()
                .filter(|a| a.scope.get().is_none() && a.target == spec.setting)
            {
                let Expr::Dict(pairs) = &a.value else {
                    continue;
                };
                for (k, v) in pairs {
                    if k.as_str() != Some(spec.key.as_str()) {
                        continue;
                    }
                    let Expr::List(items) = v else { continue };
                    for it in items {
                        if let Some(path) = it.as_str() {
                            out.push((fi, Expr::Name(path.into(), a.pos)));
                        }
                    }
                }
            }
        }
        out
    }

    fn is_container_call(&self, f: usize, scope: Option<usize>, v: &Expr) -> bool {
        let Expr::Call(c) = v else { return false };
        matches!(self.idx.resolve_expr(f, scope, &c.func),
            Some(Target::External(q)) if self.lc(f).guards.containers.first(&q).is_some())
    }

    /// Guards attached to a handler itself. `registered_at`: where a route
    /// decorator registered it; decorators above that one wrap what was
    /// registered, not the route.
    pub fn handler_guards(&self, f: usize, d: usize, registered_at: Option<Pos>) -> Vec<Guard> {
        let file = &self.idx.files[f];
        let def = &file.defs[d];
        let scope = def.parent;
        let mut out = vec![];
        // Python applies decorators bottom-up: the route decorator registers
        // the function as wrapped by the decorators below it.
        let first = match (file.lang.syntax().decorators_wrap, registered_at) {
            (true, Some(at)) => def
                .decorators
                .iter()
                .position(|dec| matches!(dec, Expr::Call(c) if c.pos == at))
                .map_or(0, |i| i + 1),
            _ => 0,
        };
        for dec in &def.decorators[first..] {
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
        let syn = file.lang.syntax();
        if syn.injected_dependencies {
            for (cf, cs, c) in crate::summary::dependency_calls(self.idx, f, d) {
                self.classify_call(cf, cs, c, "dependency", 0, &mut out);
            }
        }
        if let Some(p) = scope.filter(|&p| file.defs[p].kind == DefKind::Class) {
            self.class_guards(f, p, 0, &mut out);
            self.settings_defaults(f, p, &mut out);
        }
        if syn.typed_extractors {
            for p in &def.params {
                if let Some(t) = &p.ty {
                    self.extractor_guard(f, t, &mut out);
                }
            }
        }
        if def.kind == DefKind::Class {
            self.class_guards(f, d, 0, &mut out);
            self.settings_defaults(f, d, &mut out);
        } else {
            self.function_view_defaults(f, d, &mut out);
            // Checks in the handler's own body, before its first sink.
            let stop = self.first_sink(f, d);
            for g in self.sum.in_handler(f, d, stop) {
                // A call to a guard names it (a method stands for its class:
                // `bucket.allow()` → `TokenBucket`); a check written in the
                // body names the handler.
                let (gf, gdef) = match g.callee {
                    Some((cf, cd)) => {
                        let p = self.idx.files[cf].defs[cd].parent;
                        match p.filter(|&p| self.idx.files[cf].defs[p].kind == DefKind::Class) {
                            Some(p) => (cf, p),
                            None => (cf, cd),
                        }
                    }
                    None => (f, d),
                };
                let mut gd = self.guard(
                    f,
                    g.pos,
                    short_name(&self.idx.files[gf].defs[gdef].name).to_string(),
                    self.idx.def_symbol(gf, gdef),
                    "in-handler",
                    match g.kind {
                        Some(k) => format!(
                            "{}: the handler {} ({})",
                            k.name(),
                            g.what,
                            describe(&g.evidence, self.idx)
                        ),
                        None => format!(
                            "rate limit: the handler {} ({})",
                            g.what,
                            describe(&g.evidence, self.idx)
                        ),
                    },
                    g.limiter,
                );
                if let Some(k) = g.kind {
                    gd.r.kind = k.name();
                    gd.r.required = g.required;
                    if !g.required {
                        gd.r.reason = format!(
                            "optional {}: anonymous requests are rejected only for some request data: {}",
                            k.name(),
                            gd.r.reason
                        );
                    }
                }
                gd.r.evidence = self.evidence(&g.evidence);
                gd.r.methods = g.methods.clone();
                out.push(gd);
            }
        }
        out
    }

    /// Where a handler first reaches a catalogued sink: checks after it do
    /// not guard the work before it.
    fn first_sink(&self, f: usize, d: usize) -> Option<Pos> {
        let lc = self.lc(f);
        self.idx
            .calls_in(f, Some(d))
            .filter(|(ci, _)| {
                matches!(self.idx.callee(f, *ci), Some(Target::External(q)) if lc.sink_for(q.as_str()).is_some())
            })
            .map(|(_, c)| c.start)
            .min()
    }

    /// Repository classes and functions that are rate limiters by what they
    /// do, considered when their name suggests one (the verdict is the
    /// summary's): reported even when no route uses them.
    pub fn limiter_definitions(&self) -> Vec<(usize, usize, String)> {
        let mut out = vec![];
        for (fi, f) in self.idx.files.iter().enumerate() {
            for (di, d) in f.defs.iter().enumerate() {
                let top_level_type = matches!(d.kind, DefKind::Class | DefKind::Struct)
                    || (d.parent.is_none() && !d.name.contains("::"));
                if !top_level_type {
                    continue;
                }
                let short = short_name(&d.name);
                if LangCatalog::words_match(&self.lc(fi).guards.limiter_words, short).is_none() {
                    continue;
                }
                let s = self.sum.of(fi, di);
                if s.limits() {
                    out.push((
                        fi,
                        di,
                        format!("rate limit: {}", describe(&s.limit_evidence(), self.idx)),
                    ));
                }
            }
        }
        out
    }
}

fn merge_into(s: &mut Summary, o: &Summary) {
    for (r, e) in &o.rejects {
        if !s.rejects.iter().any(|(k, _)| k == r) {
            s.rejects.push((*r, e.clone()));
        }
    }
    s.merge_checks(o);
}

/// `what (file:line); what (file:line)`.
fn describe(ev: &[Ev], idx: &Index) -> String {
    if ev.is_empty() {
        return "(no evidence)".into();
    }
    ev.iter()
        .map(|e| format!("{} ({}:{})", e.what, idx.files[e.file].path, e.pos.line))
        .collect::<Vec<_>>()
        .join("; ")
}

fn name_pos(ty: &Expr) -> Option<Pos> {
    match ty {
        Expr::Name(_, p) => Some(*p),
        Expr::Subscript(s) => name_pos(&s.base).or_else(|| s.keys.first().and_then(name_pos)),
        _ => None,
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

/// A library guard made optional by a keyword (`auto_error=False`).
fn optional_by_keyword(lc: &LangCatalog, c: &CallExpr) -> bool {
    lc.guards.optional_when.iter().any(|(k, v)| {
        c.kwarg(k).is_some_and(|e| match (e, v) {
            (Expr::Bool(b), toml::Value::Boolean(w)) => b == w,
            (Expr::Str(s), toml::Value::String(w)) => s == w,
            _ => false,
        })
    })
}

/// The last segment of an expression's rendering (a guard's short name).
fn short_display(e: &Expr) -> String {
    match e {
        Expr::Name(n, _) => short_name(n).to_string(),
        Expr::Attr(a) => short_name(&a.name).to_string(),
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
        Expr::Attr(a) => a.name.as_str(),
        _ => return false,
    };
    let route_like = super::http_method(method).is_some()
        || matches!(
            method,
            "route" | "api_route" | "websocket" | "websocket_route" | "ws" | "view"
        );
    route_like && matches!(c.args.first().map(|a| &a.value), Some(Expr::Str(_)))
}

pub use crate::summary::calls_in;
