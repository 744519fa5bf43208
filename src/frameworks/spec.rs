//! `[[framework]]` specs: what a web framework's route tables look like, as
//! data (`rules/frameworks/*.toml`, and user files named in
//! `.threatscan.toml`). The engine in [`super`] reads them; no framework name
//! appears in its code.
//!
//! A spec names the framework's router objects (apps, routers, blueprints,
//! namespaces, scopes) by the calls that build them, and the operations on
//! them: route registration (decorators, calls, builder-chain methods, list
//! items, attributes on handlers), mounts with their prefix semantics, guard
//! hooks, class-based resources and viewsets, method restrictions. Arguments
//! are found by position or keyword.

use crate::lang::Lang;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where an argument is: by keyword, else by position among the positional
/// arguments.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arg {
    #[serde(default)]
    pub position: Option<usize>,
    #[serde(default)]
    pub keyword: Option<String>,
}

impl Arg {
    pub fn of<'c>(&self, c: &'c crate::extract::CallExpr) -> Option<&'c crate::extract::Expr> {
        c.arg(self.keyword.as_deref(), self.position)
    }
}

/// A guard attached through an argument (`dependencies=[...]`), and how.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardArg {
    #[serde(flatten)]
    pub arg: Arg,
    pub via: String,
}

/// How a mount's prefix combines with the child's own prefix.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PrefixMode {
    /// `include_router(r, prefix="/api")`: `/api` + the router's own prefix.
    #[default]
    Join,
    /// Flask `register_blueprint(bp, url_prefix="/api")`: replaces the
    /// blueprint's own `url_prefix` when given.
    Replace,
}

/// Values built by these calls are router objects.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    pub apis: Vec<String>,
    /// The object's own URL prefix.
    #[serde(default)]
    pub prefix: Option<Arg>,
    /// A prefix taken from the object's name when no prefix is given
    /// (a Flask-RESTX `Namespace("users")` serves under `/users`).
    #[serde(default)]
    pub prefix_from_name: Option<Arg>,
    #[serde(default)]
    pub guards: Vec<GuardArg>,
    /// A list of routes given to the constructor (`Starlette(routes=[...])`).
    #[serde(default)]
    pub routes: Option<Arg>,
    /// The object is attached to this one, under its prefix
    /// (`Api(blueprint)`).
    #[serde(default)]
    pub parent: Option<Arg>,
    /// Attributes of the object that stand for the object (`app.router`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Attributes that stand for the object's routes in a route list
    /// (`router.urls`).
    #[serde(default)]
    pub list_attrs: Vec<String>,
    /// Objects of this kind are served only where they are mounted
    /// (routers, blueprints, namespaces): one nobody is seen mounting has an
    /// unknown mount point, shown as a placeholder prefix.
    #[serde(default)]
    pub mounted: bool,
    /// Rust: handler or function parameters of this type are objects that
    /// callers hand in (`cfg: &mut ServiceConfig`, see [`ChainOp::Configure`]).
    #[serde(default)]
    pub param_types: Vec<String>,
}

/// Route registration on an object: `@app.get("/x")`, `app.get("/x")(h)`,
/// `app.add_api_route("/x", h)`, `bp.add_url_rule("/x", view_func=h)`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterSpec {
    /// Method names on the object and the HTTP methods each registers (an
    /// empty list: from `methods_arg`, else `default`).
    pub methods: BTreeMap<String, Vec<String>>,
    pub path: Arg,
    /// The handler argument; absent: the decorated function, or the argument
    /// of the call the registration returns (`router.post("/x")(handler)`).
    #[serde(default)]
    pub handler: Option<Arg>,
    #[serde(default)]
    pub methods_arg: Option<Arg>,
    #[serde(default)]
    pub default: Vec<String>,
    #[serde(default)]
    pub guards: Vec<GuardArg>,
    /// Also on objects this spec does not build (home-grown routers), when
    /// the path is a literal starting with `/`.
    #[serde(default)]
    pub any_receiver: bool,
    /// A decorated class is a resource: one route per HTTP method it defines.
    #[serde(default)]
    pub class_resource: bool,
}

/// Mounting an object (or a list of routes) under a prefix.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountSpec {
    pub methods: Vec<String>,
    pub child: Arg,
    #[serde(default)]
    pub prefix: Option<Arg>,
    #[serde(default)]
    pub mode: PrefixMode,
    #[serde(default)]
    pub guards: Vec<GuardArg>,
}

/// Guards attached to every route of an object: `app.add_middleware(M)`,
/// `bp.before_request(f)`, `@app.before_request`, `@app.middleware("http")`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookSpec {
    pub methods: Vec<String>,
    /// The guard argument of the call form; the decorator form attaches the
    /// decorated function.
    #[serde(default)]
    pub guard: Option<Arg>,
    pub via: String,
    /// Also used as a decorator (`@app.before_request`).
    #[serde(default)]
    pub decorator: bool,
}

/// What an element of a route list is.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Route,
    Mount,
}

/// Elements of route lists: Starlette `Route`/`Mount`, Django
/// `path`/`re_path` (with `include`), aiohttp `web.get`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    pub apis: Vec<String>,
    pub kind: ItemKind,
    pub path: Arg,
    #[serde(default)]
    pub handler: Option<Arg>,
    /// Fixed methods (`web.post` → `["POST"]`); empty: `methods_arg`, the
    /// handler class's methods, else `default`.
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub methods_arg: Option<Arg>,
    #[serde(default)]
    pub default: Vec<String>,
    /// Mounts: where the child is (a list, an object, an `include(...)`).
    #[serde(default)]
    pub child: Option<Arg>,
}

/// `include(...)`: a module's URL list, an inline list, a router's URLs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncludeSpec {
    pub apis: Vec<String>,
    pub arg: Arg,
    /// The name of the route list a module string names (`urlpatterns`).
    pub module_list: String,
}

/// DRF-style routers: `router.register("docs", DocViewSet)` adds the
/// viewset's actions under `docs/` and `docs/{pk}/`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewsetSpec {
    pub methods: Vec<String>,
    pub prefix: Arg,
    pub viewset: Arg,
    /// Actions served on the collection and the HTTP method of each.
    pub list: BTreeMap<String, String>,
    /// Actions served on one item.
    pub detail: BTreeMap<String, String>,
    pub detail_pattern: String,
    /// Catalogued base classes and the actions they bring.
    #[serde(default)]
    pub bases: BTreeMap<String, Vec<String>>,
    /// Decorators of extra actions (`@action(detail=True, methods=["post"])`).
    #[serde(default)]
    pub extra_actions: Vec<String>,
}

/// Decorators (or wrappers) that restrict a view to some methods and answer
/// 405 otherwise: `@require_POST`, `@api_view(["GET"])`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictSpec {
    pub apis: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub methods_arg: Option<Arg>,
}

/// A builder-chain method on a Rust router object.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChainOp {
    /// `.route(path, method_router)` / `.route(method_router)`.
    Route,
    /// `.to(handler)` on a resource: any method.
    To,
    /// `.nest(prefix, child)`, `.mount(prefix, routes)`, `.service(child)`, `.merge(child)`.
    Mount,
    /// `.layer(l)`: wraps the routes added before it.
    Layer,
    /// `.wrap(m)`: wraps the whole object.
    Wrap,
    /// `.configure(f)`: `f` registers on the object (its first parameter).
    Configure,
    /// `.guard(guard::Post())`: only these methods reach the object.
    Guard,
    /// `.routes(routes!(a, b))`: handlers whose attributes give method and path.
    Routes,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    pub methods: Vec<String>,
    pub op: ChainOp,
    #[serde(default)]
    pub path: Option<Arg>,
    #[serde(default)]
    pub target: Option<Arg>,
    /// The number of arguments this form takes (actix `route` has two forms).
    #[serde(default)]
    pub arity: Option<usize>,
}

/// Method routers: `get(h).post(h2)` (axum), `web::get().to(h)` (actix).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodRouterSpec {
    /// Functions and chain methods and the HTTP method each adds.
    pub methods: BTreeMap<String, String>,
    /// Functions starting a method router (resolved names).
    pub apis: Vec<String>,
    /// `.to(h)`: the handler of the pending method; absent: the method
    /// functions take the handler themselves.
    #[serde(default)]
    pub to: Vec<String>,
    /// Chain methods that attach guards to the methods before them.
    #[serde(default)]
    pub layers: Vec<String>,
    /// Method guards: `guard::Post()` restricts to POST.
    #[serde(default)]
    pub method_guards: BTreeMap<String, String>,
}

/// Handler attributes that register a route: Rust `#[get("/x")]`,
/// `#[utoipa::path(get, path = "/x")]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    /// Attribute names (last segment) and their HTTP methods; an empty list:
    /// the method is the first bare identifier argument (`utoipa::path(get, ...)`).
    pub names: BTreeMap<String, Vec<String>>,
    /// The attribute resolves under one of these paths (`rocket::`).
    pub resolves_under: Vec<String>,
    pub path: Arg,
    /// Where a query part starts in the path (`/sync?<data..>` in Rocket): it
    /// is not part of the URL path.
    #[serde(default)]
    pub query: Option<String>,
    /// Routes it registers are mounted by [`ChainOp::Routes`] or
    /// [`ChainOp::Mount`] of a `collection` macro, not standalone.
    #[serde(default)]
    pub mounted_only: bool,
}

/// Route collections: `routes![a, b]`, a `Vec<Route>` built and appended to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionSpec {
    /// Macros listing handlers (`routes!`).
    pub macros: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkSpec {
    pub name: String,
    pub language: Lang,
    #[serde(default)]
    pub docs: Option<String>,
    #[serde(default)]
    pub object: Vec<ObjectSpec>,
    #[serde(default)]
    pub register: Vec<RegisterSpec>,
    #[serde(default)]
    pub mount: Vec<MountSpec>,
    #[serde(default)]
    pub hook: Vec<HookSpec>,
    /// Module-level lists with these names are route lists (`urlpatterns`).
    #[serde(default)]
    pub lists: Vec<String>,
    #[serde(default)]
    pub item: Vec<ItemSpec>,
    #[serde(default)]
    pub include: Vec<IncludeSpec>,
    #[serde(default)]
    pub viewset: Vec<ViewsetSpec>,
    #[serde(default)]
    pub restrict: Vec<RestrictSpec>,
    #[serde(default)]
    pub chain: Vec<ChainSpec>,
    #[serde(default)]
    pub method_router: Vec<MethodRouterSpec>,
    #[serde(default)]
    pub attribute: Vec<AttributeSpec>,
    #[serde(default)]
    pub collection: Vec<CollectionSpec>,
    /// Class-based views: the calls that turn a class into a view
    /// (`View.as_view()`), and the class's methods that are HTTP methods.
    #[serde(default)]
    pub view_calls: Vec<String>,
    /// Library class-based views and the HTTP methods they serve (their
    /// subclasses serve them too, unless they define their own).
    #[serde(default)]
    pub view_bases: BTreeMap<String, Vec<String>>,
    /// A route registered by another framework whose handler's bases or
    /// decorators resolve under these is this framework's (DRF views in
    /// Django URL lists).
    #[serde(default)]
    pub handler_marks: Vec<String>,
    /// How path parameters are matched (see [`PathParams`]); absent when
    /// the framework decodes a parameter after matching it, so that a
    /// `%2F` in it becomes `/` (Rocket, axum, actix-web).
    #[serde(default)]
    pub path_params: Option<PathParams>,
}

/// Path parameters of a framework that matches routes on the
/// percent-decoded path (Flask, Django, Starlette): a parameter without a
/// multi-segment converter is one segment, which cannot contain `/`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathParams {
    /// Converters whose value may span segments (`path` of `<path:p>`,
    /// `{p:path}`). Any other named converter matches one segment; a regex
    /// converter counts as multi-segment.
    pub multi_segment: Vec<String>,
}

/// The `rules/frameworks/*.toml` files, embedded by build.rs.
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/frameworks.rs"));

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    framework: Vec<FrameworkSpec>,
}

/// Parse one specs file.
pub fn parse(name: &str, text: &str) -> Result<Vec<FrameworkSpec>, String> {
    toml::from_str::<File>(text)
        .map(|f| f.framework)
        .map_err(|e| format!("{name}: {}", e.message()))
}

/// Parse a user specs file: errors point at a line and column, never quote it.
pub fn parse_file(path: &std::path::Path, text: &str) -> Result<Vec<FrameworkSpec>, String> {
    toml::from_str::<File>(text)
        .map(|f| f.framework)
        .map_err(|e| {
            format!(
                "{}: {}",
                path.display(),
                crate::fsread::toml_error(text, &e)
            )
        })
}

/// The built-in specs, parsed once.
pub fn builtin() -> &'static [FrameworkSpec] {
    static S: std::sync::OnceLock<Vec<FrameworkSpec>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        BUILTIN
            .iter()
            .flat_map(|(name, text)| {
                // Checked by a unit test: a failure here is a build defect.
                parse(name, text).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    })
}

/// `position 0 or keyword path`, for docs.
fn arg_text(a: &Arg) -> String {
    match (&a.position, &a.keyword) {
        (Some(p), Some(k)) => format!("argument {p} or `{k}=`"),
        (Some(p), None) => format!("argument {p}"),
        (None, Some(k)) => format!("`{k}=`"),
        (None, None) => "—".into(),
    }
}

fn code_list<'x>(xs: impl IntoIterator<Item = &'x String>) -> String {
    xs.into_iter()
        .map(|x| format!("`{x}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn methods_text(m: &BTreeMap<String, Vec<String>>) -> String {
    m.iter()
        .map(|(k, v)| {
            if v.is_empty() {
                format!("`{k}`")
            } else {
                format!("`{k}` ({})", v.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn guards_text(gs: &[GuardArg]) -> String {
    gs.iter()
        .map(|g| format!("{} (via {})", arg_text(&g.arg), g.via))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The specs as Markdown: what each framework's route tables look like to
/// threatscan (docs/frameworks.md is this for the built-in specs).
pub fn markdown(specs: &[FrameworkSpec], origin: &dyn Fn(&FrameworkSpec) -> String) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    s.push_str("# Frameworks\n\n");
    s.push_str(
        "Generated by `threatscan frameworks --format markdown` from the `[[framework]]` specs \
         (`rules/frameworks/*.toml`). Each spec says how a web framework's route tables are \
         written: the calls that build router objects, how routes are registered, how objects \
         are mounted under a prefix (joined with the child's own, or replacing it), where \
         guards attach. A repository adds its own specs with `[catalog] frameworks = [...]` in \
         `.threatscan.toml`; the format is described in the README (\"Frameworks as data\").\n\n",
    );
    s.push_str("| framework | language | from |\n|---|---|---|\n");
    for f in specs {
        let _ = writeln!(
            s,
            "| [{}](#{}) | {} | {} |",
            f.name,
            f.name
                .to_lowercase()
                .replace(|c: char| !c.is_alphanumeric(), "-"),
            f.language.name(),
            origin(f)
        );
    }
    for f in specs {
        let _ = write!(s, "\n## {}\n\n", f.name);
        let _ = writeln!(s, "Language: {}.", f.language.name());
        if let Some(d) = &f.docs {
            let _ = writeln!(s, "Framework documentation: <{d}>.");
        }
        s.push('\n');
        for o in &f.object {
            if o.apis.is_empty() {
                s.push_str("- Objects");
            } else {
                let _ = write!(s, "- Objects built by {}", code_list(&o.apis));
            }
            if let Some(p) = &o.prefix {
                let _ = write!(s, "; own prefix: {}", arg_text(p));
            }
            if let Some(p) = &o.prefix_from_name {
                let _ = write!(s, "; prefix from the name in {}", arg_text(p));
            }
            if let Some(p) = &o.parent {
                let _ = write!(s, "; attached to the object in {}", arg_text(p));
            }
            if let Some(p) = &o.routes {
                let _ = write!(s, "; routes listed in {}", arg_text(p));
            }
            if !o.guards.is_empty() {
                let _ = write!(s, "; guards: {}", guards_text(&o.guards));
            }
            if !o.aliases.is_empty() {
                let _ = write!(s, "; {} stand for the object", code_list(&o.aliases));
            }
            if o.mounted {
                s.push_str("; served only where mounted (unknown mount point otherwise)");
            }
            if !o.param_types.is_empty() {
                let _ = write!(
                    s,
                    "{} parameters of type {} receive one",
                    if o.apis.is_empty() { ":" } else { ";" },
                    code_list(&o.param_types)
                );
            }
            s.push_str(".\n");
        }
        for r in &f.register {
            let _ = write!(
                s,
                "- Routes registered by {}; path: {}",
                methods_text(&r.methods),
                arg_text(&r.path)
            );
            match &r.handler {
                Some(h) => {
                    let _ = write!(s, "; handler: {}", arg_text(h));
                }
                None => s.push_str("; handler: the decorated function (or the call's argument)"),
            }
            if let Some(m) = &r.methods_arg {
                let _ = write!(s, "; methods: {}", arg_text(m));
            }
            if !r.default.is_empty() {
                let _ = write!(s, "; default {}", r.default.join(", "));
            }
            if !r.guards.is_empty() {
                let _ = write!(s, "; guards: {}", guards_text(&r.guards));
            }
            if r.class_resource {
                s.push_str("; a class is a resource: one route per HTTP method it defines");
            }
            if r.any_receiver {
                s.push_str("; also on home-grown routers when the path is a literal");
            }
            s.push_str(".\n");
        }
        for m in &f.mount {
            let _ = write!(
                s,
                "- Mounts by {}; child: {}",
                code_list(&m.methods),
                arg_text(&m.child)
            );
            if let Some(p) = &m.prefix {
                let _ = write!(
                    s,
                    "; prefix: {} ({})",
                    arg_text(p),
                    match m.mode {
                        PrefixMode::Join => "joined with the child's own",
                        PrefixMode::Replace => "replaces the child's own",
                    }
                );
            }
            if !m.guards.is_empty() {
                let _ = write!(s, "; guards: {}", guards_text(&m.guards));
            }
            s.push_str(".\n");
        }
        for h in &f.hook {
            let _ = write!(
                s,
                "- Guards on every route of an object by {} (via {})",
                code_list(&h.methods),
                h.via
            );
            if let Some(g) = &h.guard {
                let _ = write!(s, "; guard: {}", arg_text(g));
            }
            if h.decorator {
                s.push_str("; also as a decorator");
            }
            s.push_str(".\n");
        }
        if !f.lists.is_empty() {
            let _ = writeln!(
                s,
                "- Module-level route lists named {}.",
                code_list(&f.lists)
            );
        }
        for it in &f.item {
            let what = match it.kind {
                ItemKind::Route => "routes",
                ItemKind::Mount => "mounts",
            };
            let _ = write!(
                s,
                "- List items {what}: {}; path: {}",
                code_list(&it.apis),
                arg_text(&it.path)
            );
            if let Some(h) = &it.handler {
                let _ = write!(s, "; handler: {}", arg_text(h));
            }
            if let Some(c) = &it.child {
                let _ = write!(s, "; child: {}", arg_text(c));
            }
            if !it.methods.is_empty() {
                let _ = write!(s, "; methods {}", it.methods.join(", "));
            }
            if let Some(m) = &it.methods_arg {
                let _ = write!(s, "; methods: {}", arg_text(m));
            }
            if !it.default.is_empty() {
                let _ = write!(s, "; default {}", it.default.join(", "));
            }
            s.push_str(".\n");
        }
        for i in &f.include {
            let _ = writeln!(
                s,
                "- Includes by {}: {} names a module's `{}`, a list or a router.",
                code_list(&i.apis),
                arg_text(&i.arg),
                i.module_list
            );
        }
        for v in &f.viewset {
            let _ = writeln!(
                s,
                "- Viewsets registered by {} (prefix {}, viewset {}): collection actions {}; item actions {} under `{}`.",
                code_list(&v.methods),
                arg_text(&v.prefix),
                arg_text(&v.viewset),
                v.list
                    .iter()
                    .map(|(a, m)| format!("`{a}` ({m})"))
                    .collect::<Vec<_>>()
                    .join(", "),
                v.detail
                    .iter()
                    .map(|(a, m)| format!("`{a}` ({m})"))
                    .collect::<Vec<_>>()
                    .join(", "),
                v.detail_pattern
            );
        }
        for r in &f.restrict {
            let _ = write!(
                s,
                "- Method restrictions (405 otherwise) by {}",
                code_list(&r.apis)
            );
            if !r.methods.is_empty() {
                let _ = write!(s, ": {}", r.methods.join(", "));
            }
            if let Some(m) = &r.methods_arg {
                let _ = write!(s, ": methods in {}", arg_text(m));
            }
            s.push_str(".\n");
        }
        for c in &f.chain {
            let _ = write!(s, "- Builder-chain {} ({:?})", code_list(&c.methods), c.op);
            if let Some(p) = &c.path {
                let _ = write!(s, "; path: {}", arg_text(p));
            }
            if let Some(t) = &c.target {
                let _ = write!(s, "; target: {}", arg_text(t));
            }
            if let Some(n) = c.arity {
                let _ = write!(
                    s,
                    "; the form with {n} argument{}",
                    if n == 1 { "" } else { "s" }
                );
            }
            s.push_str(".\n");
        }
        for m in &f.method_router {
            let _ = write!(
                s,
                "- Method routers started by {}; methods {}",
                code_list(&m.apis),
                m.methods
                    .iter()
                    .map(|(k, v)| format!("`{k}` ({v})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !m.to.is_empty() {
                let _ = write!(s, "; handler given by {}", code_list(&m.to));
            }
            if !m.layers.is_empty() {
                let _ = write!(s, "; layers by {}", code_list(&m.layers));
            }
            s.push_str(".\n");
        }
        for a in &f.attribute {
            let _ = write!(
                s,
                "- Handler attributes {} under {}; path: {}",
                methods_text(&a.names),
                code_list(&a.resolves_under),
                arg_text(&a.path)
            );
            if let Some(q) = &a.query {
                let _ = write!(s, "; the query part starts at `{q}`");
            }
            if a.mounted_only {
                s.push_str("; served only where a collection mounts them");
            }
            s.push_str(".\n");
        }
        for c in &f.collection {
            let _ = writeln!(s, "- Route collections listed by {}.", code_list(&c.macros));
        }
        if !f.view_calls.is_empty() {
            let _ = writeln!(
                s,
                "- Class-based views by {}: one route per HTTP method the class defines.",
                code_list(&f.view_calls)
            );
        }
        if !f.view_bases.is_empty() {
            let _ = writeln!(
                s,
                "- Library views and the methods they serve: {}.",
                f.view_bases
                    .iter()
                    .map(|(k, v)| format!("`{k}` ({})", v.join(", ")))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !f.handler_marks.is_empty() {
            let _ = writeln!(
                s,
                "- Routes whose handler derives from or is decorated by {} belong to this framework.",
                code_list(&f.handler_marks)
            );
        }
        if let Some(pp) = &f.path_params {
            let _ = writeln!(
                s,
                "- Routes match the percent-decoded path: a path parameter is one segment (no `/`) unless its converter is {}.",
                code_list(&pp.multi_segment)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_spec_parses() {
        for (name, text) in super::BUILTIN {
            if let Err(e) = super::parse(name, text) {
                panic!("{e}");
            }
        }
        assert!(super::builtin().len() >= 10);
    }
}
