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
    /// A route registered by another framework whose handler's bases or
    /// decorators resolve under these is this framework's (DRF views in
    /// Django URL lists).
    #[serde(default)]
    pub handler_marks: Vec<String>,
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
